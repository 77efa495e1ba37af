//! The run's catalogue: its institutes, SMEs and insurers (a user each), the technologies
//! they list with terms copied from the demo's and scaled, the insurers' products, and the
//! vocabulary names and agreements are written in. Everything here goes through the
//! catalogue's own functions except the organisations, written in bulk with one event.

use super::random::{cumulative, pick_weighted, uuid_at};
use super::*;

/// The demo programme's share of SMEs and institutes per province (uneven, as trials are).
const PROVINCES: [(&str, &str, u32); 22] = [
    ("Hà Nội", "01", 18),
    ("Thành phố Hồ Chí Minh", "03", 20),
    ("Bình Dương", "37", 9),
    ("Đồng Nai", "36", 7),
    ("Hải Phòng", "02", 6),
    ("Đà Nẵng", "04", 5),
    ("Bắc Ninh", "23", 5),
    ("Long An", "11", 4),
    ("Cần Thơ", "18", 4),
    ("Thái Nguyên", "46", 3),
    ("Bà Rịa - Vũng Tàu", "35", 3),
    ("Hưng Yên", "09", 3),
    ("Vĩnh Phúc", "25", 3),
    ("Quảng Ninh", "57", 2),
    ("Nghệ An", "29", 2),
    ("Thanh Hóa", "28", 2),
    ("Khánh Hòa", "42", 2),
    ("Tiền Giang", "12", 2),
    ("Đồng Tháp", "14", 2),
    ("Lâm Đồng", "58", 2),
    ("An Giang", "16", 1),
    ("Đắk Lắk", "60", 1),
];

/// (name, province index)
const INSTITUTES: [(&str, usize); 20] = [
    ("Viện Cơ điện Nông nghiệp và Công nghệ Sau thu hoạch", 0),
    ("Viện Công nghệ Môi trường", 0),
    ("Trường Đại học Nông Lâm Thành phố Hồ Chí Minh", 1),
    ("Viện Khoa học Vật liệu Ứng dụng", 1),
    ("Viện Năng lượng", 0),
    ("Viện Công nghệ Thông tin và Truyền thông", 0),
    ("Viện Vật liệu Xây dựng", 0),
    ("Viện Dinh dưỡng và Thực phẩm chức năng", 0),
    ("Trường Đại học Cần Thơ — Viện Công nghệ Sinh học", 8),
    ("Trường Đại học Bách khoa Đà Nẵng", 5),
    ("Viện Hóa học Công nghiệp", 0),
    ("Viện Nghiên cứu Cơ khí", 0),
    ("Viện Khoa học Thủy lợi miền Nam", 1),
    ("Viện Chăn nuôi", 0),
    ("Viện Cây ăn quả miền Nam", 17),
    ("Viện Nghiên cứu Hải sản", 4),
    ("Trường Đại học Kỹ thuật Công nghiệp Thái Nguyên", 9),
    ("Viện Công nghệ Hóa học", 1),
    ("Viện Thiết bị Y tế và Công trình Y tế", 0),
    ("Trường Đại học Bách khoa Hà Nội — Trung tâm Chuyển giao", 0),
];

/// The demo's field vocabulary, with two more; (field, weight, SME sector word).
const FIELDS: [(&str, u32, &str); 10] = [
    ("agriculture", 16, "Nông nghiệp"),
    ("food_processing", 15, "Thực phẩm"),
    ("environment", 9, "Môi trường"),
    ("manufacturing", 14, "Cơ khí"),
    ("energy", 8, "Năng lượng"),
    ("materials", 9, "Vật liệu"),
    ("biotechnology", 8, "Công nghệ Sinh học"),
    ("software", 10, "Phần mềm"),
    ("construction", 6, "Xây dựng"),
    ("healthcare", 5, "Thiết bị Y tế"),
];

/// Per field: (vi, en) titles; combined with the variants below.
const TITLES: [[(&str, &str); 4]; 10] = [
    [
        (
            "Chế phẩm vi sinh cải tạo đất trồng",
            "Microbial soil conditioner",
        ),
        (
            "Hệ thống tưới nhỏ giọt điều khiển theo độ ẩm",
            "Moisture-controlled drip irrigation",
        ),
        (
            "Quy trình nhân giống cây ăn quả sạch bệnh",
            "Disease-free fruit tree propagation",
        ),
        (
            "Máy sấy nông sản bằng năng lượng mặt trời",
            "Solar crop dryer",
        ),
    ],
    [
        (
            "Công nghệ bảo quản trái cây bằng màng sinh học",
            "Edible coating for fruit storage",
        ),
        (
            "Quy trình sản xuất bột gạo lứt nảy mầm",
            "Germinated brown rice flour",
        ),
        (
            "Dây chuyền chiết xuất tinh dầu sả",
            "Lemongrass essential oil extraction line",
        ),
        (
            "Công nghệ thanh trùng áp suất cao cho nước ép",
            "High-pressure pasteurisation of juices",
        ),
    ],
    [
        (
            "Hệ thống xử lý nước thải chăn nuôi",
            "Livestock wastewater treatment",
        ),
        (
            "Lò đốt rác thải sinh hoạt quy mô xã",
            "Commune-scale waste incinerator",
        ),
        ("Công nghệ ủ phân hữu cơ nhanh", "Rapid organic composting"),
        (
            "Thiết bị quan trắc bụi mịn tự động",
            "Automatic fine-dust monitor",
        ),
    ],
    [
        ("Máy ép viên nén mùn cưa", "Sawdust pellet press"),
        (
            "Hệ thống thị giác máy kiểm tra lỗi sản phẩm",
            "Machine-vision defect inspection",
        ),
        (
            "Khuôn đúc áp lực cho chi tiết nhôm",
            "Die-casting moulds for aluminium parts",
        ),
        (
            "Băng tải thông minh phân loại sản phẩm",
            "Smart sorting conveyor",
        ),
    ],
    [
        (
            "Biến tần tiết kiệm điện cho bơm nước",
            "Energy-saving pump drive",
        ),
        ("Hệ thống khí sinh học cho trang trại", "Farm biogas system"),
        ("Bộ lưu trữ điện mặt trời mái nhà", "Rooftop solar storage"),
        (
            "Lò hơi đốt trấu hiệu suất cao",
            "High-efficiency rice-husk boiler",
        ),
    ],
    [
        (
            "Gạch không nung từ tro xỉ nhiệt điện",
            "Unfired bricks from fly ash",
        ),
        (
            "Sơn chống nóng gốc nước",
            "Water-based heat-reflective paint",
        ),
        ("Vật liệu composite sợi xơ dừa", "Coconut-fibre composite"),
        (
            "Màng phủ nông nghiệp tự phân hủy",
            "Biodegradable mulch film",
        ),
    ],
    [
        (
            "Chủng men vi sinh cho thức ăn thủy sản",
            "Probiotic strain for aquafeed",
        ),
        (
            "Quy trình nuôi cấy mô lan hồ điệp",
            "Phalaenopsis tissue culture",
        ),
        (
            "Vắc-xin thực vật phòng bệnh cho tôm",
            "Plant-made shrimp vaccine",
        ),
        (
            "Enzyme xử lý bã thải chế biến",
            "Enzymes for processing residues",
        ),
    ],
    [
        (
            "Phần mềm quản lý truy xuất nguồn gốc",
            "Traceability management software",
        ),
        (
            "Nền tảng IoT giám sát nhà kính",
            "IoT greenhouse monitoring platform",
        ),
        (
            "Hệ thống ERP cho doanh nghiệp vừa và nhỏ",
            "ERP for small and medium enterprises",
        ),
        (
            "Phần mềm dự báo nhu cầu bán hàng",
            "Sales demand forecasting software",
        ),
    ],
    [
        (
            "Bê tông nhẹ cốt sợi",
            "Fibre-reinforced lightweight concrete",
        ),
        ("Công nghệ gia cố nền đất yếu", "Soft-ground reinforcement"),
        (
            "Tấm tường lắp ghép cách nhiệt",
            "Insulated prefabricated wall panels",
        ),
        (
            "Phụ gia chống thấm cho vữa",
            "Waterproofing mortar admixture",
        ),
    ],
    [
        (
            "Thiết bị lọc khuẩn không khí phòng mổ",
            "Operating-room air sterilizer",
        ),
        ("Bộ kit xét nghiệm nhanh", "Rapid test kit"),
        (
            "Máy tạo oxy y tế gia đình",
            "Home medical oxygen concentrator",
        ),
        (
            "Phần mềm hỗ trợ đọc phim X-quang",
            "X-ray reading assistant",
        ),
    ],
];

const VARIANTS: [(&str, &str); 5] = [
    ("", ""),
    (" thế hệ 2", " (second generation)"),
    (" quy mô nhỏ", " for small plants"),
    (" cải tiến", " (improved)"),
    (" tích hợp cảm biến", " with sensors"),
];

const BRANDS: [&str; 24] = [
    "Minh Phát",
    "An Khang",
    "Thành Đạt",
    "Hưng Thịnh",
    "Phú Gia",
    "Tân Tiến",
    "Đại Việt",
    "Sao Mai",
    "Hoàng Long",
    "Bình Minh",
    "Việt Xanh",
    "Trường Sơn",
    "Hải Âu",
    "Kim Ngân",
    "Nam Việt",
    "Phương Đông",
    "Thiên Phú",
    "Hòa Bình",
    "Vạn Xuân",
    "Đông Á",
    "Quang Trung",
    "Lạc Hồng",
    "Sông Hồng",
    "Cửu Long",
];

const FORMS: [&str; 4] = [
    "Công ty TNHH",
    "Công ty CP",
    "Công ty TNHH MTV",
    "Hợp tác xã",
];

pub(super) const MESSAGES: [&str; 4] = [
    "Chúng tôi muốn dùng thử công nghệ tại cơ sở sản xuất trước khi quyết định nhận chuyển giao.",
    "Doanh nghiệp đề nghị thử nghiệm trên một dây chuyền trước khi nhân rộng.",
    "Đề nghị dùng thử để đánh giá hiệu quả kinh tế trong điều kiện thực tế.",
    "Chúng tôi cần kiểm chứng công nghệ với nguyên liệu địa phương.",
];
pub(super) const REJECTIONS: [&str; 3] = [
    "Công nghệ chưa phù hợp với quy mô sản xuất hiện tại.",
    "Doanh nghiệp chưa đáp ứng điều kiện mặt bằng và nhân lực vận hành.",
    "Viện đang dành năng lực chuyển giao cho các hợp đồng khác.",
];
pub(super) const WITHDRAWALS: [&str; 2] = [
    "Doanh nghiệp thay đổi kế hoạch đầu tư.",
    "Doanh nghiệp đã chọn một giải pháp khác.",
];
pub(super) const DECLINES: [&str; 3] = [
    "Hiệu quả chưa đạt kỳ vọng trong điều kiện nhà máy.",
    "Chi phí chuyển giao vượt ngân sách năm nay.",
    "Nguyên liệu đầu vào không ổn định để vận hành liên tục.",
];
pub(super) const TERMINATIONS: [&str; 2] = [
    "Doanh nghiệp vi phạm điều khoản bảo mật.",
    "Hai bên thỏa thuận chấm dứt do thay đổi dây chuyền sản xuất.",
];

/// Scales a VND amount of a demo body to a technology's value and currency, in round units.
fn scaled(vnd_text: &str, factor: f64, currency: &str) -> String {
    let vnd: f64 = vnd_text.parse().unwrap_or(0.0) * factor;
    match currency {
        "CNY" => format!(
            "{}.00",
            ((vnd / 3_500.0 / 100.0).round() as i64).max(1) * 100
        ),
        "USD" => format!(
            "{}.00",
            ((vnd / 25_400.0 / 10.0).round() as i64).max(1) * 10
        ),
        _ => (((vnd / 1_000_000.0).round() as i64).max(1) * 1_000_000).to_string(),
    }
}

/// New terms from a demo body: its price model, scaled; its currency, trial and window varied.
fn terms_from(base: &Terms, factor: f64, currency: &str, rng: &mut StdRng) -> Terms {
    let mut t = base.clone();
    t.currency = currency.into();
    t.trial_days = [60, 60, 75, 90][rng.gen_range(0..4)];
    t.decision_days = [14, 21, 30, 30][rng.gen_range(0..4)];
    t.insurance_required = rng.gen_bool(0.15);
    t.price = match &base.price {
        Price::LumpSum { amount, due_days } => Price::LumpSum {
            amount: scaled(amount, factor, currency),
            due_days: *due_days,
        },
        Price::Installments {
            total,
            interval_months,
            first_due_days,
            ..
        } => Price::Installments {
            total: scaled(total, factor, currency),
            count: [2, 3, 4, 6][rng.gen_range(0..4)],
            interval_months: *interval_months,
            first_due_days: *first_due_days,
        },
        Price::Royalty { rate, min_per_year } => Price::Royalty {
            rate: rate.clone(),
            min_per_year: min_per_year.as_ref().map(|m| scaled(m, factor, currency)),
        },
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate,
            min_per_year,
        } => Price::EntryFeePlusRoyalty {
            entry_fee: scaled(entry_fee, factor, currency),
            due_days: *due_days,
            rate: rate.clone(),
            min_per_year: min_per_year.as_ref().map(|m| scaled(m, factor, currency)),
        },
    };
    t
}

/// Adds this run's organisations (a user each, in bulk, one audit event), 200 listed
/// technologies with terms copied from `bases` (through the catalogue's functions) and the new
/// insurers' products; returns how many organisations it made.
pub(super) fn add_catalogue(
    state: &AppState,
    run: i64,
    rng: &mut StdRng,
    history_start: NaiveDateTime,
    bases: &[Terms],
) -> anyhow::Result<usize> {
    let now_utc = state.clock.now();
    let tag = |name: &str| {
        if run == 1 {
            name.to_string()
        } else {
            format!("{name} (đợt {run})")
        }
    };
    let password_hash = crate::auth::password::hash(DEMO_PASSWORD)?;
    let org_at = history_start - Duration::days(400);

    // Organisations and one user each, in bulk with one audit event.
    struct NewOrg {
        id: String,
        user: String,
        kind: &'static str,
        name: String,
        reg: String,
        province: usize,
        email: String,
        display: String,
        role: &'static str,
    }
    let prov_cum = cumulative(PROVINCES.iter().map(|p| f64::from(p.2)));
    let mut orgs: Vec<NewOrg> = Vec::new();
    let mut push_org = |rng: &mut StdRng,
                        kind: &'static str,
                        role: &'static str,
                        name: String,
                        province: usize,
                        k: usize| {
        let id = uuid_at(org_at, rng);
        let user = uuid_at(org_at, rng);
        let reg = format!("{}{:03}{:05}", PROVINCES[province].1, run % 1000, k);
        orgs.push(NewOrg {
            email: format!("{kind}{k}.r{run}@synthetic.usefirst.demo"),
            display: format!("Người phụ trách {}", k + 1),
            id,
            user,
            kind,
            name,
            reg,
            province,
            role,
        });
    };
    for (k, (name, province)) in INSTITUTES.iter().enumerate() {
        push_org(rng, "institute", "institute", tag(name), *province, k);
    }
    let field_cum = cumulative(FIELDS.iter().map(|f| f64::from(f.1)));
    for k in 0..300 {
        let province = pick_weighted(&prov_cum, rng);
        let field = pick_weighted(&field_cum, rng);
        let name = format!(
            "{} {} {} {}",
            FORMS[rng.gen_range(0..FORMS.len())],
            FIELDS[field].2,
            BRANDS[rng.gen_range(0..BRANDS.len())],
            PROVINCES[province].0
        );
        push_org(rng, "sme", "sme", tag(&name), province, 1000 + k);
    }
    for (k, name) in [
        "Tổng Công ty Bảo hiểm Sao Việt",
        "Công ty Bảo hiểm Phú Hưng Khoa học",
    ]
    .iter()
    .enumerate()
    {
        push_org(rng, "insurer", "insurer", tag(name), 0, 9000 + k);
    }
    let org_ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
    let org_digest = hex::encode(Sha256::digest(org_ids.join("\n").as_bytes()));
    state.db.write(|conn| -> Result<(), AppError> {
        for chunk in orgs.chunks(ROWS_SMALL) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|o| {
                    (
                        organisations::id.eq(&o.id),
                        organisations::kind.eq(o.kind),
                        organisations::name.eq(&o.name),
                        organisations::registration_no.eq(&o.reg),
                        organisations::province.eq(PROVINCES[o.province].0),
                        organisations::contact_email.eq(format!("contact+{}", o.email)),
                        organisations::created_at.eq(org_at),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(organisations::table).values(&rows).execute(c))?;
            let rows: Vec<_> = chunk
                .iter()
                .map(|o| {
                    (
                        users::id.eq(&o.user),
                        users::organisation_id.eq(&o.id),
                        users::email.eq(&o.email),
                        users::display_name.eq(&o.display),
                        users::role.eq(o.role),
                        users::password_hash.eq(&password_hash),
                        users::locale.eq("vi"),
                        users::active.eq(true),
                        users::created_at.eq(org_at),
                    )
                })
                .collect();
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(users::table).values(&rows).execute(c))?;
        }
        audit::append(conn, now_utc, Who::SYSTEM, "organisation.imported", "import", &format!("seed-synthetic/{run}/organisations"),
            &serde_json::json!({"after": {"source": "seed-synthetic", "run": run, "count": orgs.len(),
                "users": orgs.len(), "ids_sha256": org_digest}}))?;
        Ok(())
    }).map_err(anyhow_of)?;

    // Technologies with terms, through the catalogue's own functions (an event each).
    let tech_at = history_start - Duration::days(60);
    let institutes: Vec<&NewOrg> = orgs.iter().filter(|o| o.kind == "institute").collect();
    let ip_types = [
        "patent",
        "patent",
        "utility_solution",
        "know_how",
        "software",
        "plant_variety",
        "other",
    ];
    state.db.write(|conn| -> anyhow::Result<()> {
        for k in 0..200usize {
            let field = pick_weighted(&field_cum, rng);
            let (vi, en) = TITLES[field][rng.gen_range(0..4)];
            let (vv, ve) = VARIANTS[rng.gen_range(0..VARIANTS.len())];
            let inst = institutes[(k * 7 + rng.gen_range(0..3)) % institutes.len()];
            let currency = match rng.gen_range(0..10) {
                0 => "CNY",
                1 => "USD",
                _ => "VND",
            };
            let factor = (rng.gen_range(0.25f64..4.0)).sqrt() * rng.gen_range(0.4..2.0);
            let base = &bases[k % bases.len()];
            let terms = terms_from(base, factor, currency, rng);
            let valuation = scaled(&format!("{}", (1_000_000_000.0 * factor) as i64), 1.0, currency);
            let ip = if field == 7 { "software" } else { ip_types[rng.gen_range(0..ip_types.len())] };
            let who = Who { user_id: Some(&inst.user), organisation_id: Some(&inst.id) };
            let at = tech_at - Duration::days(rng.gen_range(0..300));
            let tech = technologies::create(conn, at.and_utc(), who, &inst.id, &TechnologyInput {
                title: Localized { vi: format!("{vi}{vv}"), en: format!("{en}{ve}") },
                summary: Localized {
                    vi: format!("{vi}{vv}: đã thử nghiệm ở quy mô pilot, phù hợp doanh nghiệp nhỏ và vừa."),
                    en: format!("{en}{ve}: proven at pilot scale, suited to small and medium enterprises."),
                },
                field: FIELDS[field].0.into(),
                ip_type: ip.into(),
                ip_reference: format!("SYN-{run}-{:04}", k + 1),
                valuation: MoneyText { amount: valuation, currency: currency.into() },
                status: Some("listed".into()),
            }).map_err(anyhow_of)?;
            technologies::add_terms(conn, at.and_utc(), who, &tech.id, terms).map_err(anyhow_of)?;
        }
        Ok(())
    })?;

    // Insurance products of the new insurers, in every currency the terms use.
    let product_from = history_start.date() - Duration::days(90);
    state.db.write(|conn| -> anyhow::Result<()> {
        for ins in orgs.iter().filter(|o| o.kind == "insurer") {
            let who = Who {
                user_id: Some(&ins.user),
                organisation_id: Some(&ins.id),
            };
            for (vi, en, risks, currency, rate, max, deductible, cap) in [
                (
                    "Bảo hiểm rủi ro triển khai công nghệ",
                    "Technology implementation cover",
                    vec!["implementation_failure"],
                    "VND",
                    "0.018",
                    "400000000",
                    "4000000",
                    Some("15000000"),
                ),
                (
                    "Bảo hiểm trọn gói dùng thử và thanh toán",
                    "Trial and payment package",
                    vec!["implementation_failure", "non_payment"],
                    "VND",
                    "0.025",
                    "1200000000",
                    "12000000",
                    Some("25000000"),
                ),
                (
                    "技术试用与付款保险",
                    "Trial and payment cover (CNY)",
                    vec!["implementation_failure", "non_payment"],
                    "CNY",
                    "0.022",
                    "300000.00",
                    "3000.00",
                    Some("6000.00"),
                ),
                (
                    "Technology trial cover (USD)",
                    "Technology trial cover (USD)",
                    vec!["implementation_failure"],
                    "USD",
                    "0.016",
                    "40000.00",
                    "400.00",
                    None,
                ),
            ] {
                crate::insurance::products::create(
                    conn,
                    (product_from.and_hms_opt(9, 0, 0).unwrap_or_default()).and_utc(),
                    who,
                    &ins.id,
                    &product_input(
                        (vi, en),
                        &risks,
                        currency,
                        (rate, max, deductible),
                        cap,
                        product_from,
                    ),
                )
                .map_err(anyhow_of)?;
            }
        }
        Ok(())
    })?;
    Ok(orgs.len())
}

/// The demo's VND terms bodies (up to twelve), and whether the demo's admin is there.
pub(super) fn demo_bases(state: &AppState) -> anyhow::Result<(Vec<Terms>, bool)> {
    let mut conn = state.db.reader()?;
    let bodies: Vec<String> = conversion_terms::table
        .filter(conversion_terms::currency.eq("VND"))
        .order(conversion_terms::created_at.asc())
        .select(conversion_terms::body)
        .limit(12)
        .load(&mut conn)?;
    let admins: i64 = users::table
        .filter(users::email.eq("admin@usefirst.demo"))
        .count()
        .get_result(&mut conn)?;
    Ok((
        bodies
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect(),
        admins > 0,
    ))
}

/// Per field, a Chinese name of one of its technologies: what a Chinese partner institute
/// writes beside the Vietnamese (the search bench looks for these).
const TITLES_ZH: [&str; 10] = [
    "太阳能干燥机",
    "果汁高压杀菌技术",
    "畜牧废水处理系统",
    "机器视觉缺陷检测",
    "农场沼气系统",
    "椰壳纤维复合材料",
    "水产饲料益生菌",
    "产品溯源管理软件",
    "纤维增强轻质混凝土",
    "快速检测试剂盒",
];

/// The `k`-th technology of a synthetic catalogue: a title of the run's vocabulary with a
/// variant and a maker's name, in Vietnamese and English, every fifth with a Chinese name in
/// its summary, listed. The same `k` and `rng` state give the same technology.
pub fn sample_technology(k: usize, rng: &mut StdRng) -> TechnologyInput {
    let field_cum = cumulative(FIELDS.iter().map(|f| f64::from(f.1)));
    let field = pick_weighted(&field_cum, rng);
    let (vi, en) = TITLES[field][rng.gen_range(0..4)];
    let (vv, ve) = VARIANTS[rng.gen_range(0..VARIANTS.len())];
    let brand = BRANDS[rng.gen_range(0..BRANDS.len())];
    let zh = if k % 5 == 0 {
        format!(" {}", TITLES_ZH[field])
    } else {
        String::new()
    };
    TechnologyInput {
        title: Localized {
            vi: format!("{vi}{vv} {brand}"),
            en: format!("{en}{ve} {brand}"),
        },
        summary: Localized {
            vi: format!(
                "{vi}{vv}: đã thử nghiệm ở quy mô pilot, phù hợp doanh nghiệp nhỏ và vừa.{zh}"
            ),
            en: format!("{en}{ve}: proven at pilot scale, suited to small and medium enterprises."),
        },
        field: FIELDS[field].0.into(),
        ip_type: "patent".into(),
        ip_reference: format!("SYN-B-{:06}", k + 1),
        valuation: MoneyText {
            amount: format!("{}", 100_000_000 * (1 + k % 20)),
            currency: "VND".into(),
        },
        status: Some("listed".into()),
    }
}

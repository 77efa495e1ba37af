//! `synthetic` adds a programme of several years to a database that holds the demo data: more
//! institutes, SMEs, insurers and listed technologies, then N agreements whose every date is
//! consistent with the lifecycle and with today, as if the platform and its scheduler had run
//! all along. Agreements are drawn first (when each was requested and where it stands today),
//! sorted by request time, and written in batches: multi-row inserts in one write transaction
//! per batch, with ONE `agreement.imported` audit event per batch naming the agreements by the
//! SHA-256 of their ids. Money goes through the settlement code: conversion contracts through
//! `contracts::create`, a share of the payments through `contracts::record_payment` (the rest
//! allocated the same way in bulk), premiums through `settlement::insurance`.

use super::*;

/// What `seed-synthetic` makes.
#[derive(Debug, Clone)]
pub struct SyntheticOptions {
    /// Agreements to add.
    pub agreements: u32,
    /// Of those, signed trials due to start today (for scheduler benchmarks); nothing else
    /// is due for the scheduler on the day they are made.
    pub due: u32,
    /// Years of history, ending now.
    pub years: u32,
    /// Seed of the random draws: the same seed on the same database gives the same data.
    pub seed: u64,
}

impl SyntheticOptions {
    /// The defaults: four years, a fixed seed.
    pub fn new(agreements: u32) -> SyntheticOptions {
        SyntheticOptions {
            agreements,
            due: 0,
            years: 4,
            seed: DEFAULT_SEED,
        }
    }
}

/// The seed `seed-synthetic` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_261_123;

/// What one run of `synthetic` added.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyntheticSummary {
    /// The run's number on this database (1 for the first).
    pub run: i64,
    pub agreements: u64,
    pub by_status: std::collections::BTreeMap<String, u64>,
    pub organisations: usize,
    pub technologies: usize,
    pub contracts: u64,
    pub payments: u64,
    pub payments_via_record_payment: u64,
    pub policies: u64,
    pub claims: u64,
    pub royalty_years: u64,
    pub reminders: u64,
    pub audit_events: u64,
    pub seconds: f64,
    /// The database had no demo data, so it was loaded first.
    pub demo_loaded: bool,
}

/// Agreements per write transaction (one audit event each).
const BATCH: usize = 5_000;
/// Rows per multi-row INSERT, by table: under SQLite's 32,766 bound parameters.
const ROWS_AGREEMENTS: usize = 500;
const ROWS_SMALL: usize = 1_000;

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

const MESSAGES: [&str; 4] = [
    "Chúng tôi muốn dùng thử công nghệ tại cơ sở sản xuất trước khi quyết định nhận chuyển giao.",
    "Doanh nghiệp đề nghị thử nghiệm trên một dây chuyền trước khi nhân rộng.",
    "Đề nghị dùng thử để đánh giá hiệu quả kinh tế trong điều kiện thực tế.",
    "Chúng tôi cần kiểm chứng công nghệ với nguyên liệu địa phương.",
];
const REJECTIONS: [&str; 3] = [
    "Công nghệ chưa phù hợp với quy mô sản xuất hiện tại.",
    "Doanh nghiệp chưa đáp ứng điều kiện mặt bằng và nhân lực vận hành.",
    "Viện đang dành năng lực chuyển giao cho các hợp đồng khác.",
];
const WITHDRAWALS: [&str; 2] = [
    "Doanh nghiệp thay đổi kế hoạch đầu tư.",
    "Doanh nghiệp đã chọn một giải pháp khác.",
];
const DECLINES: [&str; 3] = [
    "Hiệu quả chưa đạt kỳ vọng trong điều kiện nhà máy.",
    "Chi phí chuyển giao vượt ngân sách năm nay.",
    "Nguyên liệu đầu vào không ổn định để vận hành liên tục.",
];
const TERMINATIONS: [&str; 2] = [
    "Doanh nghiệp vi phạm điều khoản bảo mật.",
    "Hai bên thỏa thuận chấm dứt do thay đổi dây chuyền sản xuất.",
];

/// Where an agreement stands today (its status, with the trials made due apart), or, for
/// drawing, the path it takes: how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Requested,
    Rejected,
    Withdrawn,
    Approved,
    Signed,
    /// Signed, starting today: due for the scheduler (`--due`).
    SignedDue,
    Active,
    AwaitingDecision,
    Converted,
    Declined,
    Lapsed,
    Terminated,
}

/// How agreements end, per mille of those that have: where each stands today follows from
/// its path and its dates (about 18% are still open: requested, approved, signed, in trial
/// or awaiting a decision).
const PATHS: [(Fate, u32); 6] = [
    (Fate::Rejected, 122),
    (Fate::Withdrawn, 49),
    (Fate::Converted, 488),
    (Fate::Declined, 244),
    (Fate::Lapsed, 73),
    (Fate::Terminated, 24),
];

impl Fate {
    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(c: u8) -> Fate {
        const ALL: [Fate; 12] = [
            Fate::Requested,
            Fate::Rejected,
            Fate::Withdrawn,
            Fate::Approved,
            Fate::Signed,
            Fate::SignedDue,
            Fate::Active,
            Fate::AwaitingDecision,
            Fate::Converted,
            Fate::Declined,
            Fate::Lapsed,
            Fate::Terminated,
        ];
        ALL[c as usize]
    }

    fn status(self) -> Status {
        match self {
            Fate::Requested => Status::Requested,
            Fate::Rejected => Status::Rejected,
            Fate::Withdrawn => Status::Withdrawn,
            Fate::Approved => Status::Approved,
            Fate::Signed | Fate::SignedDue => Status::Signed,
            Fate::Active => Status::Active,
            Fate::AwaitingDecision => Status::AwaitingDecision,
            Fate::Converted => Status::Converted,
            Fate::Declined => Status::Declined,
            Fate::Lapsed => Status::Lapsed,
            Fate::Terminated => Status::Terminated,
        }
    }

    /// Ages (days before now) among which a request on this path is drawn: the whole
    /// history, except for the trials made due today (requested in the last months).
    fn window(self, years: u32) -> (f64, f64) {
        let all = f64::from(years) * 365.25;
        match self {
            Fate::SignedDue => (0.0, all.min(120.0)),
            _ => (0.0, all),
        }
    }
}

/// Relative request volume by local hour: busy office hours, a few at night.
const HOURS: [f64; 24] = [
    0.6, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 3.0, 8.0, 10.0, 10.0, 9.0, 5.0, 7.0, 10.0, 10.0, 9.0, 7.0,
    4.0, 3.0, 2.5, 2.0, 1.5, 1.0,
];

/// Relative volume by month (Tết in late January and February).
const SEASON: [f64; 12] = [
    0.85, 0.6, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95,
];

/// Yearly growth of the request volume.
const GROWTH_PER_YEAR: f64 = 1.7;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick_weighted(cum: &[f64], rng: &mut StdRng) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let u = rng.gen::<f64>() * total;
    cum.partition_point(|&c| c <= u)
        .min(cum.len().saturating_sub(1))
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A UUIDv7 at `at` whose random bits come from the run's draws (reproducible, time-ordered).
fn uuid_at(at: NaiveDateTime, rng: &mut StdRng) -> String {
    let ms = at.and_utc().timestamp_millis().max(0) as u64;
    let bytes: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes)
        .into_uuid()
        .to_string()
}

/// An SME that can request trials.
struct SmeRef {
    org_id: String,
    user_id: String,
    province: String,
    from: NaiveDateTime,
}

/// A listed technology with its terms in force.
struct TechRef {
    id: String,
    institute_id: String,
    institute_user: String,
    terms_id: String,
    terms_version: i32,
    body: String,
    terms: Terms,
    from: NaiveDateTime,
}

/// An insurance product version a party can choose.
struct ProductRef {
    row: crate::insurance::products::ProductRow,
    /// A round unit of its currency for coverages and claims.
    unit: i64,
}

/// Everything the draws read.
struct World {
    tz: chrono_tz::Tz,
    now: NaiveDateTime,
    today: NaiveDate,
    start: NaiveDateTime,
    years: u32,
    growth: f64,
    smes: Vec<SmeRef>,
    sme_cum: Vec<f64>,
    /// SMEs of this run (available from the start of the history).
    fresh_smes: std::ops::Range<usize>,
    techs: Vec<TechRef>,
    tech_cum: Vec<f64>,
    fresh_techs: std::ops::Range<usize>,
    products: Vec<ProductRef>,
    insurers: Vec<String>,
    hours_cum: Vec<f64>,
}

/// A choice of insurance product.
#[derive(Debug, Clone, Copy)]
struct ChoicePlan {
    product: usize,
    coverage: i64,
    chosen_at: NaiveDateTime,
    by_sme: bool,
}

/// One agreement as it stands now, every step dated.
#[derive(Debug, Clone)]
struct Plan {
    fate: Fate,
    sme: usize,
    tech: usize,
    created: NaiveDateTime,
    requested_start: NaiveDate,
    approved_at: Option<NaiveDateTime>,
    /// Trial start, end and decision deadline as they stand now.
    dates: Option<(NaiveDate, NaiveDate, NaiveDate)>,
    extended: bool,
    sme_signed_at: Option<NaiveDateTime>,
    institute_signed_at: Option<NaiveDateTime>,
    /// Both signatures: the policy is bound then.
    fully_signed_at: Option<NaiveDateTime>,
    started_at: Option<NaiveDateTime>,
    started_on: Option<NaiveDate>,
    trial_ended_on: Option<NaiveDate>,
    closed_at: Option<NaiveDateTime>,
    decision_days: Option<i32>,
    closed_reason: Option<&'static str>,
    insurer: Option<usize>,
    choice: Option<ChoicePlan>,
    version: i64,
    updated_at: NaiveDateTime,
    place: usize,
    message: usize,
    /// Seed of the draws made while writing (payments, claims, tax).
    extra: u64,
}

impl World {
    fn day(&self, t: NaiveDateTime) -> NaiveDate {
        Utc.from_utc_datetime(&t)
            .with_timezone(&self.tz)
            .date_naive()
    }

    fn midnight(&self, day: NaiveDate) -> NaiveDateTime {
        crate::reports::figures::midnight(self.tz, day).naive_utc()
    }

    /// A moment of `day` in office hours mostly (any hour sometimes).
    fn office(&self, day: NaiveDate, rng: &mut StdRng) -> NaiveDateTime {
        let hour = pick_weighted(&self.hours_cum, rng) as i64;
        let secs = hour * 3600 + rng.gen_range(0..3600);
        self.midnight(day) + Duration::seconds(secs)
    }

    /// A moment `days` days after `t` (local days), later than `t`.
    fn after(&self, t: NaiveDateTime, days: i64, rng: &mut StdRng) -> NaiveDateTime {
        let at = self.office(self.day(t) + Duration::days(days), rng);
        if at > t {
            at
        } else {
            t + Duration::minutes(rng.gen_range(5..240))
        }
    }

    /// The scheduler's tick on `day`: a few seconds past local midnight.
    fn tick(&self, day: NaiveDate, rng: &mut StdRng) -> NaiveDateTime {
        self.midnight(day) + Duration::seconds(rng.gen_range(1..60))
    }

    /// A request moment `lo..hi` days before now, denser in recent years and office hours.
    fn created(&self, lo: f64, hi: f64, rng: &mut StdRng) -> Option<NaiveDateTime> {
        let span_years = f64::from(self.years);
        let to_x = |age_days: f64| (span_years - age_days / 365.25).clamp(0.0, span_years);
        let (x_lo, x_hi) = (to_x(hi), to_x(lo));
        if x_hi <= x_lo {
            return None;
        }
        let g = self.growth;
        for _ in 0..50 {
            let u: f64 = rng.gen();
            let (a, b) = ((g * x_lo).exp(), (g * x_hi).exp());
            let x = (a + u * (b - a)).ln() / g;
            let t = self.start + Duration::seconds((x * 365.25 * 86_400.0) as i64);
            let day = self.day(t);
            if rng.gen::<f64>() > SEASON[day.month0() as usize] {
                continue;
            }
            let at = self.office(day, rng);
            if at >= self.start && at < self.now - Duration::minutes(1) {
                return Some(at);
            }
        }
        None
    }

    fn pick_sme(&self, at: NaiveDateTime, rng: &mut StdRng) -> usize {
        for _ in 0..20 {
            let i = pick_weighted(&self.sme_cum, rng);
            if self.smes[i].from <= at {
                return i;
            }
        }
        rng.gen_range(self.fresh_smes.clone())
    }

    fn pick_tech(&self, at: NaiveDateTime, rng: &mut StdRng) -> usize {
        for _ in 0..20 {
            let i = pick_weighted(&self.tech_cum, rng);
            if self.techs[i].from <= at {
                return i;
            }
        }
        rng.gen_range(self.fresh_techs.clone())
    }

    fn pick_product(&self, currency: &str, day: NaiveDate, rng: &mut StdRng) -> Option<usize> {
        let fits: Vec<usize> = (0..self.products.len())
            .filter(|&i| {
                self.products[i].row.currency == currency && self.products[i].row.active_on(day)
            })
            .collect();
        (!fits.is_empty()).then(|| fits[rng.gen_range(0..fits.len())])
    }

    /// Days an institute or SME takes over a step: mostly a few (exponential around
    /// `typical`), otherwise `lo..hi`.
    fn delay(rng: &mut StdRng, short: f64, typical: f64, lo: i64, hi: i64) -> i64 {
        if rng.gen_bool(short) {
            (-typical * (1.0 - rng.gen::<f64>()).ln()).floor() as i64
        } else {
            rng.gen_range(lo..hi)
        }
    }

    /// Draws agreement `seed` on its path (how it ends, or `SignedDue`) and cuts it at now:
    /// where it stands today is wherever that path has got to.
    fn plan(&self, seed: u64, path: Fate) -> Plan {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..4000 {
            if let Some(p) = self.attempt(path, &mut rng) {
                return p;
            }
        }
        // Nothing fits (a very short history): a request rejected at once always does.
        loop {
            if let Some(p) = self.attempt(Fate::Rejected, &mut rng) {
                return p;
            }
        }
    }

    /// One draw of a path; `None` when the cut falls where the scheduler would have work
    /// today (a trial starting tomorrow, ending today…), which is then drawn again.
    fn attempt(&self, path: Fate, rng: &mut StdRng) -> Option<Plan> {
        let now = self.now;
        let today = self.today;
        let (lo, hi) = path.window(self.years);
        let c = self.created(lo, hi, rng)?;
        let sme = self.pick_sme(c, rng);
        let tech = self.pick_tech(c, rng);
        let t = &self.techs[tech];
        let cday = self.day(c);
        let mut p = Plan {
            fate: Fate::Requested,
            sme,
            tech,
            created: c,
            requested_start: cday + Duration::days(rng.gen_range(10..70)),
            approved_at: None,
            dates: None,
            extended: false,
            sme_signed_at: None,
            institute_signed_at: None,
            fully_signed_at: None,
            started_at: None,
            started_on: None,
            trial_ended_on: None,
            closed_at: None,
            decision_days: None,
            closed_reason: None,
            insurer: None,
            choice: None,
            version: 1,
            updated_at: c,
            place: rng.gen_range(0..4),
            message: rng.gen_range(0..MESSAGES.len()),
            extra: rng.gen(),
        };
        let due = path == Fate::SignedDue;
        // The institute's answer (approval or rejection).
        let answer = self.after(c, Self::delay(rng, 0.75, 4.0, 7, 90), rng);
        if path == Fate::Rejected || (path == Fate::Withdrawn && rng.gen_bool(0.7)) {
            let at = if path == Fate::Rejected {
                answer
            } else {
                self.after(c, Self::delay(rng, 0.8, 3.0, 3, 30), rng)
            };
            if at >= now {
                return Some(p); // still requested
            }
            p.fate = path;
            p.closed_at = Some(at);
            p.closed_reason = Some(match path {
                Fate::Rejected => REJECTIONS[rng.gen_range(0..REJECTIONS.len())],
                _ => WITHDRAWALS[rng.gen_range(0..WITHDRAWALS.len())],
            });
            p.version = 2;
            p.updated_at = at;
            return Some(p);
        }
        let approved = answer;
        if approved >= now {
            return (!due).then_some(p);
        }
        let aday = self.day(approved);
        if due {
            if aday >= today {
                return None;
            }
            p.requested_start = today.max(cday);
        }
        // Approved: the trial is dated from the requested start (not before tomorrow).
        let planned_start = p.requested_start.max(aday + Duration::days(1));
        let trial_days = i64::from(t.terms.trial_days);
        let decision = i64::from(t.terms.decision_days);
        let planned = (
            planned_start,
            planned_start + Duration::days(trial_days - 1),
            planned_start + Duration::days(trial_days - 1 + decision),
        );
        p.approved_at = Some(approved);
        p.version = 2;
        p.updated_at = approved;
        p.fate = Fate::Approved;
        p.dates = Some(planned);
        // Insurance: required by the terms, or taken by about one in eight others.
        let required = t.terms.insurance_required;
        let insured = required || rng.gen_bool(0.12);
        let mut choice = None;
        let mut insurer = None;
        if insured && path != Fate::Withdrawn {
            let product = if required || rng.gen_bool(0.8) {
                self.pick_product(&t.terms.currency, aday, rng)
            } else {
                None
            };
            match product {
                Some(i) => {
                    let pr = &self.products[i].row;
                    let unit = self.products[i].unit;
                    let coverage = if rng.gen_bool(0.6) {
                        pr.max_coverage_minor
                    } else {
                        let f = rng.gen_range(0.3..0.9);
                        let c = ((pr.max_coverage_minor as f64 * f) as i64 / unit) * unit;
                        c.max(pr.deductible_minor + unit).min(pr.max_coverage_minor)
                    };
                    let by_sme = rng.gen_bool(0.5);
                    let chosen_at = if by_sme {
                        self.after(approved, rng.gen_range(0..3), rng)
                    } else {
                        approved
                    };
                    choice = Some(ChoicePlan {
                        product: i,
                        coverage,
                        chosen_at,
                        by_sme,
                    });
                    insurer = self.insurers.iter().position(|id| *id == pr.insurer_id);
                }
                // Terms that require insurance cannot be signed without a product.
                None if required => return None,
                None => insurer = Some(rng.gen_range(0..self.insurers.len())),
            }
        }
        let base = choice.map_or(approved, |ch| ch.chosen_at);
        let sig1 = self.after(base, Self::delay(rng, 0.6, 4.0, 5, 35), rng);
        let sig2 = self.after(sig1, Self::delay(rng, 0.7, 2.0, 2, 12), rng);
        let sme_first = rng.gen_bool(0.5);
        let mut steps: Vec<NaiveDateTime> = vec![approved];
        // The choice made by now (an SME's choice is a step of its own); the insurer is named
        // at approval when the terms require cover.
        let choose = |p: &mut Plan, steps: &mut Vec<NaiveDateTime>| match choice {
            Some(ch) if ch.chosen_at <= now => {
                p.choice = Some(ch);
                p.insurer = insurer;
                if ch.by_sme {
                    p.version += 1;
                    steps.push(ch.chosen_at);
                }
            }
            Some(_) if required => p.insurer = insurer,
            Some(_) => {}
            None => p.insurer = insurer,
        };
        if path == Fate::Withdrawn {
            // Withdrawn after approval, before anyone signed.
            let mut at = self.after(approved, Self::delay(rng, 0.7, 3.0, 3, 20), rng);
            if at >= sig1 {
                at = approved + (sig1 - approved) / 2;
            }
            if at >= now {
                return Some(p); // approved, not yet signed
            }
            p.fate = Fate::Withdrawn;
            p.closed_at = Some(at);
            p.closed_reason = Some(WITHDRAWALS[rng.gen_range(0..WITHDRAWALS.len())]);
            p.version = 3;
            p.updated_at = at;
            return Some(p);
        }
        if sig2 >= now {
            if due {
                return None;
            }
            choose(&mut p, &mut steps);
            if sig1 < now {
                if sme_first {
                    p.sme_signed_at = Some(sig1);
                } else {
                    p.institute_signed_at = Some(sig1);
                }
                p.version += 1;
                steps.push(sig1);
            }
            p.updated_at = steps.into_iter().max().unwrap_or(c);
            return Some(p);
        }
        // Signed by both: a start date that passed while signatures were collected moves to
        // the signing day.
        choose(&mut p, &mut steps);
        let (s_at, i_at) = if sme_first {
            (sig1, sig2)
        } else {
            (sig2, sig1)
        };
        p.sme_signed_at = Some(s_at);
        p.institute_signed_at = Some(i_at);
        p.fully_signed_at = Some(sig2);
        p.version += 2;
        steps.push(sig2);
        p.updated_at = sig2;
        p.fate = Fate::Signed;
        let start = planned_start.max(self.day(sig2));
        let start_tick = self
            .tick(start, rng)
            .max(sig2 + Duration::seconds(rng.gen_range(20..90)));
        p.dates = Some((
            start,
            planned.1 + (start - planned_start),
            planned.2 + (start - planned_start),
        ));
        if due {
            return (start == today).then_some(p);
        }
        if start_tick >= now {
            // Not due, nor even read by the scheduler's sweep (which looks a day ahead).
            return (start >= today + Duration::days(2)).then_some(p);
        }
        // Started; extended once by some, while it runs.
        p.started_at = Some(start_tick);
        p.started_on = Some(start);
        p.version += 1;
        steps.push(start_tick);
        p.fate = Fate::Active;
        let end0 = start + Duration::days(trial_days - 1);
        let mut ext = 0i64;
        let mut extended_at = None;
        if rng.gen_bool(0.08) {
            ext = [15, 30][rng.gen_range(0..2)]
                .min(119 - (trial_days - 1))
                .max(0);
            let day =
                start + Duration::days(rng.gen_range((trial_days / 2).max(1)..trial_days.max(2)));
            let at = self
                .office(day.min(end0), rng)
                .max(start_tick + Duration::minutes(5));
            if ext > 0 && at < now {
                extended_at = Some(at);
            } else {
                ext = 0;
            }
        }
        let end = end0 + Duration::days(ext);
        let deadline = end + Duration::days(decision);
        p.dates = Some((start, end, deadline));
        if let Some(at) = extended_at {
            p.extended = true;
            p.version += 1;
            steps.push(at);
        }
        let end_tick = self.tick(end + Duration::days(1), rng);
        // How the path closes: during the trial (early), or after it.
        let early_ok = extended_at.is_none() && start + Duration::days(20) <= end;
        let in_trial = |rng: &mut StdRng, from: i64| -> NaiveDate {
            start + Duration::days(rng.gen_range(from..=(end - start).num_days()))
        };
        let deciding = |rng: &mut StdRng| -> NaiveDate {
            // Many decide near the deadline.
            let k = 1 + ((decision as f64) * rng.gen::<f64>().powf(0.5)).floor() as i64;
            end + Duration::days(k.min(decision))
        };
        let early = |rng: &mut StdRng| {
            self.office(in_trial(rng, 20), rng)
                .max(start_tick + Duration::minutes(1))
        };
        let (closing, from_active) = match path {
            Fate::Lapsed => (self.tick(deadline + Duration::days(1), rng), false),
            Fate::Converted if early_ok && rng.gen_bool(0.15) => (early(rng), true),
            Fate::Declined if early_ok && rng.gen_bool(0.10) => (early(rng), true),
            Fate::Terminated if start + Duration::days(7) <= end && rng.gen_bool(0.8) => {
                let at = self.office(in_trial(rng, 7), rng);
                let at = extended_at.map_or(at, |e| at.max(e + Duration::minutes(5)));
                if self.day(at) > end {
                    return None;
                }
                (at.max(start_tick + Duration::minutes(1)), true)
            }
            _ => (
                self.office(deciding(rng), rng)
                    .max(end_tick + Duration::minutes(1)),
                false,
            ),
        };
        if (from_active && closing >= now) || (!from_active && end_tick >= now) {
            // In trial today, ending after tomorrow: not due, nor read by the sweep.
            p.updated_at = steps.into_iter().max().unwrap_or(c);
            return (end >= today + Duration::days(1)).then_some(p);
        }
        if !from_active {
            p.trial_ended_on = Some(end);
            p.version += 1;
            steps.push(end_tick);
            if closing >= now {
                p.fate = Fate::AwaitingDecision;
                p.updated_at = steps.into_iter().max().unwrap_or(c);
                return (deadline >= today + Duration::days(1)).then_some(p);
            }
        }
        let closed_day = self.day(closing);
        p.fate = path;
        p.trial_ended_on = Some(if from_active {
            closed_day.min(end)
        } else {
            end
        });
        p.closed_at = Some(closing);
        p.version += 1;
        steps.push(closing);
        p.closed_reason = match path {
            Fate::Declined => Some(DECLINES[rng.gen_range(0..DECLINES.len())]),
            Fate::Terminated => Some(TERMINATIONS[rng.gen_range(0..TERMINATIONS.len())]),
            _ => None,
        };
        if matches!(path, Fate::Converted | Fate::Declined | Fate::Lapsed) {
            p.decision_days = Some((closed_day - end).num_days().max(0) as i32);
        }
        p.updated_at = steps.into_iter().max().unwrap_or(c);
        Some(p)
    }
}

#[derive(Insertable)]
#[diesel(table_name = agreements, treat_none_as_default_value = false)]
struct NewAgreement<'a> {
    id: String,
    number: String,
    technology_id: &'a str,
    institute_id: &'a str,
    sme_id: &'a str,
    insurer_id: Option<&'a str>,
    status: &'static str,
    version: i64,
    terms_id: &'a str,
    terms_version: i32,
    terms_snapshot: Option<&'a str>,
    place_of_use: String,
    message: &'static str,
    time_zone: &'static str,
    requested_start: NaiveDate,
    trial_start: Option<NaiveDate>,
    trial_end: Option<NaiveDate>,
    decision_deadline: Option<NaiveDate>,
    extended: bool,
    sme_signed_at: Option<NaiveDateTime>,
    institute_signed_at: Option<NaiveDateTime>,
    closed_reason: Option<&'static str>,
    requested_by: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    approved_at: Option<NaiveDateTime>,
    started_on: Option<NaiveDate>,
    trial_ended_on: Option<NaiveDate>,
    closed_at: Option<NaiveDateTime>,
    decision_days: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = agreement_insurance)]
struct NewChoice<'a> {
    agreement_id: &'a str,
    product_id: &'a str,
    product_version: i32,
    coverage_minor: i64,
    chosen_by_org: &'a str,
    chosen_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = insurance_policies, treat_none_as_default_value = false)]
struct NewPolicy<'a> {
    id: String,
    agreement_id: &'a str,
    insurer_id: &'a str,
    sme_id: &'a str,
    product_id: Option<&'a str>,
    product_version: Option<i32>,
    risks: &'a str,
    currency: &'a str,
    coverage_minor: i64,
    premium_rate: &'a str,
    deductible_minor: i64,
    share_sme: &'a str,
    share_institute: &'a str,
    share_subsidy: &'a str,
    subsidy_cap_minor: Option<i64>,
    subsidy_year: i32,
    rounding: &'static str,
    premium_minor: i64,
    sme_pays_minor: i64,
    institute_pays_minor: i64,
    subsidy_minor: i64,
    subsidy_capped_minor: i64,
    status: &'static str,
    bound_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    ended_reason: Option<&'static str>,
}

#[derive(Insertable)]
#[diesel(table_name = insurance_claims, treat_none_as_default_value = false)]
struct NewClaim<'a> {
    id: String,
    number: String,
    agreement_id: &'a str,
    policy_id: String,
    insurer_id: &'a str,
    claimant_org: &'a str,
    risk: &'static str,
    currency: &'a str,
    amount_minor: i64,
    reason: &'static str,
    evidence: &'static str,
    status: &'static str,
    version: i64,
    payout_minor: Option<i64>,
    decision_reason: Option<&'static str>,
    payment_reference: Option<String>,
    filed_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
    paid_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = payments, treat_none_as_default_value = false)]
struct NewPayment<'a> {
    id: String,
    agreement_id: &'a str,
    amount_minor: i64,
    received_on: NaiveDate,
    reference: String,
    to_institute: Option<i64>,
    to_inventors: Option<i64>,
    to_intermediary: Option<i64>,
    recorded_by: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = payment_allocations)]
struct NewAllocation {
    payment_id: String,
    line_number: i32,
    amount_minor: i64,
}

#[derive(Insertable)]
#[diesel(table_name = royalty_years, treat_none_as_default_value = false)]
struct NewRoyaltyYear<'a> {
    agreement_id: &'a str,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    royalties_minor: i64,
    minimum_minor: i64,
    true_up_minor: i64,
    line_number: Option<i32>,
    closed_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = schedule_lines)]
struct NewLine<'a> {
    agreement_id: &'a str,
    number: i32,
    kind: &'static str,
    due: NaiveDate,
    amount_minor: i64,
    paid_minor: i64,
}

#[derive(Insertable)]
#[diesel(table_name = reminders)]
struct NewReminder<'a> {
    agreement_id: &'a str,
    kind: &'static str,
    offset_days: i32,
    line_number: i32,
    sent_at: NaiveDateTime,
}

/// Multi-row INSERTs of `rows` into `table`, `per` rows a statement, on the concrete
/// connection (diesel's batch insert).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {
        for chunk in $rows.chunks($per) {
            crate::on_backend!(&mut *$conn, |c| diesel::insert_into($table)
                .values(chunk)
                .execute(c))?;
        }
    };
}

/// A policy drawn for a plan, before it is written.
struct PolicyPlan {
    idx: usize,
    id: String,
    split: crate::settlement::insurance::PremiumSplit,
    subsidy_year: i32,
    bound_at: NaiveDateTime,
    /// Ended by the agreement's end, or (set while writing) by the schedule's last payment.
    ended: Option<(NaiveDateTime, &'static str)>,
    non_payment: bool,
}

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
fn add_catalogue(
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
fn demo_bases(state: &AppState) -> anyhow::Result<(Vec<Terms>, bool)> {
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

/// Adds a synthetic programme of `opts.agreements` agreements over `opts.years` years ending
/// now (see the section comment above), loading the demo first on a database without it;
/// prints progress every 100,000 agreements.
pub fn synthetic(state: &AppState, opts: &SyntheticOptions) -> anyhow::Result<SyntheticSummary> {
    let started = std::time::Instant::now();
    anyhow::ensure!(
        opts.due <= opts.agreements,
        "--due {} is more than --agreements {}",
        opts.due,
        opts.agreements
    );
    anyhow::ensure!(
        (1..=30).contains(&opts.years),
        "--years must be between 1 and 30"
    );
    let now_utc = state.clock.now();
    let now = now_utc.naive_utc();
    let tz = state.tz;
    let rounding = state.cfg.settlement.rounding;
    let mut summary = SyntheticSummary::default();
    let history_start = now - Duration::seconds((f64::from(opts.years) * 365.25 * 86_400.0) as i64);

    // Bases: the demo's terms bodies and its users. An empty database gets the demo first.
    let (mut bases, mut demo_ok) = demo_bases(state)?;
    if !demo_ok {
        println!("seed-synthetic: no demo data yet, loading it first (as seed-demo)");
        super::demo(state).context("loading the demo data")?;
        summary.demo_loaded = true;
        (bases, demo_ok) = demo_bases(state)?;
    }
    if !demo_ok || bases.is_empty() {
        bail!("the demo data has no VND terms to copy (was it changed after seed-demo?)");
    }
    // The run's number: names and registration numbers carry it, so runs never clash.
    let run = state
        .db
        .write(|conn| -> Result<i64, AppError> {
            Ok(store::bump_counter(conn, "seed-synthetic-run")?)
        })
        .map_err(anyhow_of)?;
    summary.run = run;
    let mut rng = StdRng::seed_from_u64(splitmix(opts.seed ^ (run as u64).rotate_left(40)));
    summary.organisations = add_catalogue(state, run, &mut rng, history_start, &bases)?;
    summary.technologies = 200;
    // One event for the organisations, one per technology and terms, one per product.
    summary.audit_events += 1 + 400 + 8;

    // The world the draws read: every SME, listed technology and product there is now.
    let world = {
        let mut conn = state.db.reader()?;
        let rows: Vec<(String, String, String, NaiveDateTime)> = users::table
            .inner_join(organisations::table)
            .filter(organisations::kind.eq("sme"))
            .filter(users::role.eq("sme"))
            .order((
                organisations::created_at.asc(),
                organisations::id.asc(),
                users::id.asc(),
            ))
            .select((
                organisations::id,
                users::id,
                organisations::province,
                organisations::created_at,
            ))
            .load(&mut conn)?;
        let mut seen = std::collections::HashSet::new();
        let smes: Vec<SmeRef> = rows
            .into_iter()
            .filter(|r| seen.insert(r.0.clone()))
            .map(|(org_id, user_id, province, at)| SmeRef {
                org_id,
                user_id,
                province,
                from: at + Duration::days(1),
            })
            .collect();
        let inst_users: std::collections::HashMap<String, String> = users::table
            .filter(users::role.eq("institute"))
            .order(users::created_at.asc())
            .select((users::organisation_id, users::id))
            .load::<(String, String)>(&mut conn)?
            .into_iter()
            .rev()
            .collect();
        let trows: Vec<(String, String, String, i32, String, NaiveDateTime)> = tech_table::table
            .inner_join(conversion_terms::table)
            .filter(tech_table::status.eq("listed"))
            .order((
                tech_table::created_at.asc(),
                tech_table::id.asc(),
                conversion_terms::version.desc(),
            ))
            .select((
                tech_table::id,
                tech_table::institute_id,
                conversion_terms::id,
                conversion_terms::version,
                conversion_terms::body,
                conversion_terms::created_at,
            ))
            .load(&mut conn)?;
        let mut seen = std::collections::HashSet::new();
        let mut techs = Vec::new();
        for (id, institute_id, terms_id, terms_version, body, at) in trows {
            if !seen.insert(id.clone()) {
                continue; // an older version of terms already superseded
            }
            let Some(institute_user) = inst_users.get(&institute_id).cloned() else {
                continue;
            };
            let terms: Terms =
                serde_json::from_str(&body).with_context(|| format!("terms {terms_id}"))?;
            techs.push(TechRef {
                id,
                institute_id,
                institute_user,
                terms_id,
                terms_version,
                body,
                terms,
                from: at + Duration::days(1),
            });
        }
        let prows: Vec<crate::insurance::products::ProductRow> = insurance_products::table
            .order((
                insurance_products::id.asc(),
                insurance_products::version.desc(),
            ))
            .select(crate::insurance::products::ProductRow::as_select())
            .load(&mut conn)?;
        let mut seen = std::collections::HashSet::new();
        let products: Vec<ProductRef> = prows
            .into_iter()
            .filter(|p| seen.insert(p.id.clone()))
            .map(|row| {
                let unit = if row.currency == "VND" {
                    1_000_000
                } else {
                    10_000
                };
                ProductRef { row, unit }
            })
            .collect();
        let insurers: Vec<String> = organisations::table
            .filter(organisations::kind.eq("insurer"))
            .order(organisations::id.asc())
            .select(organisations::id)
            .load(&mut conn)?;
        let fresh =
            |ids: Vec<usize>| ids.first().copied().unwrap_or(0)..ids.last().map_or(1, |l| l + 1);
        let fresh_smes = fresh(
            (0..smes.len())
                .filter(|&i| smes[i].from <= history_start)
                .collect(),
        );
        let fresh_techs = fresh(
            (0..techs.len())
                .filter(|&i| techs[i].from <= history_start)
                .collect(),
        );
        // Popularity: a few SMEs and technologies account for much of the traffic.
        let mut sme_w: Vec<f64> = (0..smes.len())
            .map(|k| 1.0 / ((k % 97) as f64 + 1.0).powf(0.6))
            .collect();
        let mut tech_w: Vec<f64> = (0..techs.len())
            .map(|k| 1.0 / ((k * 37 % techs.len().max(1)) as f64 + 1.0).powf(0.7))
            .collect();
        for w in sme_w.iter_mut().chain(tech_w.iter_mut()) {
            *w *= rng.gen_range(0.5..1.5);
        }
        World {
            tz,
            now,
            today: now_utc.with_timezone(&tz).date_naive(),
            start: history_start,
            years: opts.years,
            growth: GROWTH_PER_YEAR.ln(),
            sme_cum: cumulative(sme_w.into_iter()),
            smes,
            fresh_smes,
            tech_cum: cumulative(tech_w.into_iter()),
            techs,
            fresh_techs,
            products,
            insurers,
            hours_cum: cumulative(HOURS.iter().copied()),
        }
    };
    anyhow::ensure!(
        !world.smes.is_empty() && !world.techs.is_empty() && !world.insurers.is_empty(),
        "no SMEs, technologies or insurers"
    );
    let terms_of: Vec<Terms> = world.techs.iter().map(|t| t.terms.clone()).collect();

    // What each agreement is, and when it was requested: drawn for all, then sorted by time.
    let n = opts.agreements as usize;
    let base_seed = splitmix(opts.seed ^ 0xA5A5_0000_0000 ^ (run as u64));
    let seed_of = |i: usize| splitmix(base_seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mix_cum = cumulative(PATHS.iter().map(|m| f64::from(m.1)));
    let mut order: Vec<(NaiveDateTime, u32, u8)> = Vec::with_capacity(n);
    {
        let mut mix_rng = StdRng::seed_from_u64(splitmix(base_seed ^ 0x5EED));
        for i in 0..n {
            let fate = if i >= n - opts.due as usize {
                Fate::SignedDue
            } else {
                PATHS[pick_weighted(&mix_cum, &mut mix_rng)].0
            };
            let p = world.plan(seed_of(i), fate);
            order.push((p.created, i as u32, fate.code()));
        }
    }
    order.sort_unstable();

    let reminders_cfg = state.cfg.scheduler.reminders.clone();
    let prefix = state.cfg.app.agreement_prefix.clone();
    // Subsidy already drawn per SME, year and currency (the cap is per SME per calendar year).
    let mut subsidy_used: std::collections::HashMap<(String, i32, String), i64> = {
        let mut conn = state.db.reader()?;
        let rows: Vec<(String, i32, String, i64)> = insurance_policies::table
            .select((
                insurance_policies::sme_id,
                insurance_policies::subsidy_year,
                insurance_policies::currency,
                insurance_policies::subsidy_minor,
            ))
            .load(&mut conn)?;
        let mut m = std::collections::HashMap::new();
        for (s, y, c, v) in rows {
            *m.entry((s, y, c)).or_insert(0) += v;
        }
        m
    };
    let mut next_progress = 100_000usize;
    let mut made = 0usize;
    for (batch_no, batch) in order.chunks(BATCH).enumerate() {
        let plans: Vec<Plan> = batch
            .iter()
            .map(|&(_, i, code)| world.plan(seed_of(i as usize), Fate::from_code(code)))
            .collect();
        let mut id_rng = StdRng::seed_from_u64(splitmix(base_seed ^ (batch_no as u64 + 1) << 20));
        let ids: Vec<String> = plans
            .iter()
            .map(|p| uuid_at(p.created, &mut id_rng))
            .collect();
        // Policies: premiums split by the product's shares, under the SME's yearly subsidy cap.
        let mut policies: Vec<PolicyPlan> = Vec::new();
        for (k, p) in plans.iter().enumerate() {
            let (Some(ch), Some(bound_at)) = (p.choice, p.fully_signed_at) else {
                continue;
            };
            let pr = &world.products[ch.product].row;
            let terms = pr.policy_terms(ch.coverage).map_err(anyhow_of)?;
            let year = world.day(bound_at).year();
            let sme_id = &world.smes[p.sme].org_id;
            let key = (sme_id.clone(), year, pr.currency.clone());
            let used = subsidy_used.get(&key).copied().unwrap_or(0);
            let remaining = terms.subsidy_cap_minor.map(|cap| (cap - used).max(0));
            let split = crate::settlement::insurance::split_premium(
                ch.coverage,
                terms.premium_rate,
                terms.shares,
                remaining,
                rounding,
            )
            .map_err(|e| anyhow::anyhow!("premium of a synthetic policy: {e}"))?;
            *subsidy_used.entry(key).or_insert(0) += split.subsidy;
            let ended = match p.fate {
                Fate::Declined | Fate::Lapsed | Fate::Terminated => {
                    p.closed_at.map(|at| (at, p.fate.status().as_str()))
                }
                Fate::Converted if !pr.risks.contains("non_payment") => {
                    p.closed_at.map(|at| (at, "converted"))
                }
                _ => None,
            };
            policies.push(PolicyPlan {
                idx: k,
                id: uuid_at(bound_at, &mut id_rng),
                split,
                subsidy_year: year,
                bound_at,
                ended,
                non_payment: pr.risks.contains("non_payment"),
            });
        }
        let written = state
            .db
            .write(|conn| {
                write_batch(
                    conn,
                    &Batch {
                        world: &world,
                        plans: &plans,
                        ids: &ids,
                        policies: &policies,
                        terms_of: &terms_of,
                        prefix: &prefix,
                        rounding,
                        reminders: &reminders_cfg,
                        run,
                        batch_no,
                        base_seed,
                        now_utc,
                    },
                )
            })
            .map_err(anyhow_of)?;
        summary.contracts += written.contracts;
        summary.payments += written.payments;
        summary.payments_via_record_payment += written.via_function;
        summary.policies += written.policies;
        summary.claims += written.claims;
        summary.royalty_years += written.royalty_years;
        summary.reminders += written.reminders;
        summary.audit_events += written.audit_events;
        for p in &plans {
            *summary
                .by_status
                .entry(p.fate.status().as_str().to_string())
                .or_insert(0) += 1;
        }
        made += plans.len();
        summary.agreements = made as u64;
        if made >= next_progress || made == n {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seed-synthetic: {made}/{n} agreements in {secs:.1} s ({:.0}/s)",
                made as f64 / secs.max(1e-9)
            );
            while next_progress <= made {
                next_progress += 100_000;
            }
        }
    }
    // Nothing of this run is left for the scheduler: contract years are closed above.
    let closed =
        crate::contracts::royalty_years::close_due(&state.db, now_utc).map_err(anyhow_of)?;
    if closed > 0 {
        tracing::warn!(
            closed,
            "seed-synthetic left royalty contract years to close; closed them"
        );
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What one batch is written with.
struct Batch<'a> {
    world: &'a World,
    plans: &'a [Plan],
    ids: &'a [String],
    policies: &'a [PolicyPlan],
    terms_of: &'a [Terms],
    prefix: &'a str,
    rounding: crate::settlement::allocate::Rounding,
    reminders: &'a crate::config::RemindersConfig,
    run: i64,
    batch_no: usize,
    base_seed: u64,
    now_utc: DateTime<Utc>,
}

/// Writes one batch in the caller's transaction: the agreements, their insurance choices,
/// contracts (through `contracts::create`), closed royalty years, policies, claims, payments
/// (a share through `contracts::record_payment`), the reminders already sent, and the
/// batch's one audit event.
fn write_batch(conn: &mut crate::db::DbConn, b: &Batch<'_>) -> Result<BatchCounts, AppError> {
    use crate::db::schema::counters;
    let &Batch {
        world,
        plans,
        ids,
        policies,
        terms_of,
        prefix,
        rounding,
        reminders: reminders_cfg,
        run,
        batch_no,
        base_seed,
        now_utc,
    } = b;
    let now = now_utc.naive_utc();
    let mut numbers: Vec<String> = Vec::with_capacity(plans.len());
    let mut counts = BatchCounts::default();
    // Agreement numbers: gap-free per year, reserved a year's block at a time.
    let mut k = 0;
    while k < plans.len() {
        let year = world.day(plans[k].created).year();
        let mut j = k;
        while j < plans.len() && world.day(plans[j].created).year() == year {
            j += 1;
        }
        let name = format!("agreement-{year}");
        let first = store::bump_counter(conn, &name)?;
        let more = (j - k - 1) as i64;
        if more > 0 {
            diesel::update(counters::table.find(&name))
                .set(counters::value.eq(counters::value + more))
                .execute(conn)?;
        }
        numbers.extend((0..(j - k) as i64).map(|m| format!("{prefix}-{year}-{:06}", first + m)));
        k = j;
    }
    let rows: Vec<NewAgreement> = plans
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let t = &world.techs[p.tech];
            let s = &world.smes[p.sme];
            let (ts, te, dl) = match p.dates {
                Some((a, b, c)) => (Some(a), Some(b), Some(c)),
                None => (None, None, None),
            };
            NewAgreement {
                id: ids[k].clone(),
                number: numbers[k].clone(),
                technology_id: &t.id,
                institute_id: &t.institute_id,
                sme_id: &s.org_id,
                insurer_id: p.insurer.map(|i| world.insurers[i].as_str()),
                status: p.fate.status().as_str(),
                version: p.version,
                terms_id: &t.terms_id,
                terms_version: t.terms_version,
                terms_snapshot: p.approved_at.map(|_| t.body.as_str()),
                place_of_use: format!(
                    "{}, {}",
                    [
                        "Nhà máy sản xuất",
                        "Xưởng chế biến",
                        "Cơ sở sản xuất",
                        "Trang trại"
                    ][p.place],
                    s.province
                ),
                message: MESSAGES[p.message],
                time_zone: world.tz.name(),
                requested_start: p.requested_start,
                trial_start: ts,
                trial_end: te,
                decision_deadline: dl,
                extended: p.extended,
                sme_signed_at: p.sme_signed_at,
                institute_signed_at: p.institute_signed_at,
                closed_reason: p.closed_reason,
                requested_by: &s.user_id,
                created_at: p.created,
                updated_at: p.updated_at,
                approved_at: p.approved_at,
                started_on: p.started_on,
                trial_ended_on: p.trial_ended_on,
                closed_at: p.closed_at,
                decision_days: p.decision_days,
            }
        })
        .collect();
    insert_rows!(conn, agreements::table, rows, ROWS_AGREEMENTS);
    drop(rows);
    let choices: Vec<NewChoice> = plans
        .iter()
        .enumerate()
        .filter_map(|(k, p)| {
            let ch = p.choice?;
            let pr = &world.products[ch.product].row;
            let t = &world.techs[p.tech];
            Some(NewChoice {
                agreement_id: &ids[k],
                product_id: &pr.id,
                product_version: pr.version,
                coverage_minor: ch.coverage,
                chosen_by_org: if ch.by_sme {
                    &world.smes[p.sme].org_id
                } else {
                    &t.institute_id
                },
                chosen_at: ch.chosen_at,
            })
        })
        .collect();
    insert_rows!(conn, agreement_insurance::table, choices, ROWS_SMALL);

    // Conversions: the contract and schedule as converting would make them.
    let mut lines_of: std::collections::HashMap<usize, Vec<(i32, NaiveDate, i64)>> =
        std::collections::HashMap::new();
    let mut new_lines: Vec<NewLine> = Vec::new();
    let mut years: Vec<NewRoyaltyYear> = Vec::new();
    let mut next_close: Vec<(usize, NaiveDate)> = Vec::new();
    let mut contract_currency: std::collections::HashMap<usize, (String, bool)> =
        std::collections::HashMap::new();
    for (k, p) in plans.iter().enumerate() {
        if p.fate != Fate::Converted {
            continue;
        }
        let (Some(closed), Some((_, trial_end, _))) = (p.closed_at, p.dates) else {
            continue;
        };
        let mut x = StdRng::seed_from_u64(p.extra);
        let tax = match x.gen_range(0..10) {
            0..=3 => Some(crate::settlement::pricing::Tax::Exempt {
                basis: "Miễn thuế thu nhập đối với thu nhập từ chuyển giao công nghệ ưu tiên (Luật Chuyển giao công nghệ 2017)".into(),
            }),
            4..=6 => Some(crate::settlement::pricing::Tax::Rate { rate: "0.1".into() }),
            _ => None,
        };
        let converted_on = world.day(closed);
        let q = crate::contracts::create(
            conn,
            closed.and_utc(),
            &ids[k],
            &terms_of[p.tech],
            converted_on,
            Some(trial_end),
            rounding,
            tax.as_ref(),
        )?;
        counts.contracts += 1;
        let mut lines: Vec<(i32, NaiveDate, i64)> = q
            .lines
            .iter()
            .map(|l| (l.number as i32, l.due, l.amount_minor))
            .collect();
        let cur = crate::settlement::money::Currency::parse(&q.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("currency {}", q.currency)))?;
        // Contract years closed by now, as the scheduler closes them: with no sales
        // reported, each falls short by the whole minimum (a true-up line).
        if let Some(min) = q.royalty.as_ref().and_then(|r| r.min_per_year.as_ref()) {
            let min = cur
                .parse_amount(min)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("minimum royalty: {e}")))?;
            let mut year = 1u32;
            while let Some(closes) = crate::contracts::royalty_years::closes_on(converted_on, year)
            {
                if closes > world.today {
                    if year > 1 {
                        next_close.push((k, closes));
                    }
                    break;
                }
                let Some((starts_on, ends_on)) =
                    crate::settlement::schedule::contract_year(converted_on, year)
                else {
                    break;
                };
                let shortfall = crate::settlement::pricing::true_up(0, Some(min))
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("true-up: {e}")))?;
                let line = if shortfall > 0 {
                    let number = lines.len() as i32 + 1;
                    let due = closes + Duration::days(crate::contracts::ROYALTY_DUE_DAYS as i64);
                    lines.push((number, due, shortfall));
                    new_lines.push(NewLine {
                        agreement_id: &ids[k],
                        number,
                        kind: "true_up",
                        due,
                        amount_minor: shortfall,
                        paid_minor: 0,
                    });
                    Some(number)
                } else {
                    None
                };
                years.push(NewRoyaltyYear {
                    agreement_id: &ids[k],
                    year: year as i32,
                    starts_on,
                    ends_on,
                    royalties_minor: 0,
                    minimum_minor: min,
                    true_up_minor: shortfall,
                    line_number: line,
                    closed_at: world.tick(closes, &mut x).min(now - Duration::seconds(1)),
                });
                year += 1;
            }
        }
        contract_currency.insert(k, (q.currency.clone(), q.price_model.contains("royalty")));
        lines_of.insert(k, lines);
    }
    insert_rows!(conn, schedule_lines::table, new_lines, ROWS_SMALL);
    insert_rows!(conn, royalty_years::table, years, ROWS_SMALL);
    counts.royalty_years += years.len() as u64;
    for (k, closes) in &next_close {
        crate::on_backend!(&mut *conn, |c| diesel::update(
            conversion_contracts::table.find(&ids[*k])
        )
        .set(conversion_contracts::royalty_next_close.eq(closes))
        .execute(c))?;
    }

    // Payments: most pay on time, some only the first line, some part of it, some
    // nothing; each payment settles the oldest open line, as record_payment does.
    struct Paid {
        k: usize,
        line: i32,
        amount: i64,
        on: NaiveDate,
        at: NaiveDateTime,
    }
    let mut paid: Vec<Paid> = Vec::new();
    let mut via_function: Vec<usize> = Vec::new();
    let mut fully_paid_at: std::collections::HashMap<usize, NaiveDateTime> =
        std::collections::HashMap::new();
    let mut open_lines: Vec<(usize, i32, NaiveDate)> = Vec::new();
    let mut keys: Vec<usize> = lines_of.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let lines = &lines_of[&k];
        let p = &plans[k];
        let mut x = StdRng::seed_from_u64(splitmix(p.extra));
        let closed = p.closed_at.unwrap_or(now);
        let converted_on = world.day(closed);
        let profile = x.gen_range(0..100);
        let mut last_on = converted_on;
        let mut all_paid = !lines.is_empty();
        let mut last_at = closed;
        for (pos, (number, due, amount)) in lines.iter().enumerate() {
            let pays = match profile {
                0..=54 => Some(*amount),
                55..=74 if pos == 0 => Some(*amount),
                75..=84 if pos == 0 => Some((*amount / 2).max(1)),
                _ => None,
            };
            let on = if x.gen_bool(0.75) {
                *due - Duration::days(x.gen_range(0..25))
            } else {
                *due + Duration::days(x.gen_range(1..45))
            };
            let on = on.max(last_on).max(converted_on);
            let at = world.office(on, &mut x).max(last_at + Duration::minutes(1));
            match pays {
                Some(a) if on <= world.today && at < now => {
                    paid.push(Paid {
                        k,
                        line: *number,
                        amount: a,
                        on,
                        at,
                    });
                    last_on = on;
                    last_at = at;
                    if a < *amount {
                        all_paid = false;
                        open_lines.push((k, *number, *due));
                    }
                }
                _ => {
                    all_paid = false;
                    open_lines.push((k, *number, *due));
                }
            }
        }
        let royalty = contract_currency.get(&k).is_some_and(|c| c.1);
        if all_paid && !royalty {
            fully_paid_at.insert(k, last_at);
        }
        if x.gen_bool(0.02) {
            via_function.push(k);
        }
    }
    via_function.retain(|k| paid.iter().any(|pd| pd.k == *k));
    // Policies, ended by now as the agreement's end or its last payment ended them.
    let policy_rows: Vec<NewPolicy> = policies
        .iter()
        .map(|pp| {
            let p = &plans[pp.idx];
            let pr = &world.products[p.choice.map_or(0, |c| c.product)].row;
            let mut ended = pp.ended;
            if ended.is_none() && pp.non_payment && !via_function.contains(&pp.idx) {
                if let Some(at) = fully_paid_at.get(&pp.idx) {
                    ended = Some((*at, "schedule_paid"));
                }
            }
            NewPolicy {
                id: pp.id.clone(),
                agreement_id: &ids[pp.idx],
                insurer_id: &pr.insurer_id,
                sme_id: &world.smes[p.sme].org_id,
                product_id: Some(&pr.id),
                product_version: Some(pr.version),
                risks: &pr.risks,
                currency: &pr.currency,
                coverage_minor: p.choice.map_or(0, |c| c.coverage),
                premium_rate: &pr.premium_rate,
                deductible_minor: pr.deductible_minor,
                share_sme: &pr.share_sme,
                share_institute: &pr.share_institute,
                share_subsidy: &pr.share_subsidy,
                subsidy_cap_minor: pr.subsidy_cap_minor,
                subsidy_year: pp.subsidy_year,
                rounding: rounding.as_str(),
                premium_minor: pp.split.premium,
                sme_pays_minor: pp.split.sme,
                institute_pays_minor: pp.split.institute,
                subsidy_minor: pp.split.subsidy,
                subsidy_capped_minor: pp.split.subsidy_capped,
                status: if ended.is_some() { "ended" } else { "bound" },
                bound_at: pp.bound_at,
                ended_at: ended.map(|e| e.0),
                ended_reason: ended.map(|e| e.1),
            }
        })
        .collect();
    insert_rows!(conn, insurance_policies::table, policy_rows, 800);
    counts.policies += policy_rows.len() as u64;

    // Claims on some implementation-failure covers, filed during the trial.
    let mut claims: Vec<NewClaim> = Vec::new();
    for (pp, row) in policies.iter().zip(&policy_rows) {
        let p = &plans[pp.idx];
        if !row.risks.contains("implementation_failure") {
            continue;
        }
        let mut x = StdRng::seed_from_u64(splitmix(p.extra ^ 0xC1A1));
        if !x.gen_bool(0.08) {
            continue;
        }
        let (Some(from), Some((_, end, _))) = (p.started_at, p.dates) else {
            continue;
        };
        let until = world
            .midnight(end + Duration::days(1))
            .min(p.closed_at.unwrap_or(now))
            .min(now);
        if until <= from + Duration::hours(2) {
            continue;
        }
        let span = (until - from).num_seconds();
        let filed = from + Duration::seconds(x.gen_range(span / 10..span));
        let unit = world.products[p.choice.map_or(0, |c| c.product)].unit;
        let coverage = row.coverage_minor;
        let amount = (((coverage as f64 * x.gen_range(0.05..0.6)) as i64 / unit) * unit)
            .clamp(unit.min(coverage), coverage);
        let decided = world.after(filed, x.gen_range(2..25), &mut x);
        let paid_at = world.after(decided, x.gen_range(2..15), &mut x);
        let roll = x.gen_range(0..100);
        let (status, version, payout, decided_at, paid_at, reason, updated) = if decided >= now {
            ("filed", 1, None, None, None, None, filed)
        } else if roll < 65 {
            let pay =
                crate::settlement::insurance::payout(amount, coverage, pr_deductible(world, p), 0)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("payout: {e}")))?;
            if paid_at < now {
                (
                    "paid",
                    3,
                    Some(pay),
                    Some(decided),
                    Some(paid_at),
                    Some("Đã giám định tại cơ sở."),
                    paid_at,
                )
            } else {
                (
                    "approved",
                    2,
                    Some(pay),
                    Some(decided),
                    None,
                    Some("Đã giám định tại cơ sở."),
                    decided,
                )
            }
        } else if roll < 95 {
            (
                "rejected",
                2,
                None,
                Some(decided),
                None,
                Some("Thiệt hại nằm ngoài phạm vi bảo hiểm."),
                decided,
            )
        } else {
            ("withdrawn", 2, None, None, None, None, decided)
        };
        claims.push(NewClaim {
            id: uuid_at(filed, &mut x),
            number: String::new(),
            agreement_id: &ids[pp.idx],
            policy_id: pp.id.clone(),
            insurer_id: row.insurer_id,
            claimant_org: &world.smes[p.sme].org_id,
            risk: "implementation_failure",
            currency: row.currency,
            amount_minor: amount,
            reason: "Hệ thống không đạt công suất thiết kế trong thời gian dùng thử; chi phí khắc phục.",
            evidence: "Biên bản đo công suất; hóa đơn chi phí khắc phục.",
            status,
            version,
            payout_minor: payout,
            decision_reason: reason,
            payment_reference: paid_at.map(|at| format!("BH-{}-{:05}", at.year(), x.gen_range(0..100_000))),
            filed_at: filed,
            decided_at,
            paid_at,
            updated_at: updated,
        });
    }
    claims.sort_by_key(|c| c.filed_at);
    let mut k = 0;
    while k < claims.len() {
        let year = world.day(claims[k].filed_at).year();
        let mut j = k;
        while j < claims.len() && world.day(claims[j].filed_at).year() == year {
            j += 1;
        }
        let name = format!("claim-{year}");
        let first = store::bump_counter(conn, &name)?;
        if j - k > 1 {
            diesel::update(counters::table.find(&name))
                .set(counters::value.eq(counters::value + (j - k - 1) as i64))
                .execute(conn)?;
        }
        for (m, c) in claims[k..j].iter_mut().enumerate() {
            c.number = format!("CL-{year}-{:06}", first + m as i64);
        }
        k = j;
    }
    insert_rows!(conn, insurance_claims::table, claims, ROWS_SMALL);
    counts.claims += claims.len() as u64;

    // Payments in bulk, and a share through the function the API uses.
    let mut pay_rows: Vec<NewPayment> = Vec::new();
    let mut alloc_rows: Vec<NewAllocation> = Vec::new();
    let mut pay_rng = StdRng::seed_from_u64(splitmix(base_seed ^ 0xFA ^ (batch_no as u64) << 24));
    let mut paid_sums: std::collections::BTreeMap<(usize, i32), i64> =
        std::collections::BTreeMap::new();
    for pd in paid.iter().filter(|pd| !via_function.contains(&pd.k)) {
        let p = &plans[pd.k];
        let t = &world.techs[p.tech];
        let dist = terms_of[p.tech]
            .distribution
            .as_ref()
            .map(|d| crate::contracts::distribute_payment(pd.amount, d, rounding))
            .transpose()?;
        let id = uuid_at(pd.at, &mut pay_rng);
        alloc_rows.push(NewAllocation {
            payment_id: id.clone(),
            line_number: pd.line,
            amount_minor: pd.amount,
        });
        pay_rows.push(NewPayment {
            id,
            agreement_id: &ids[pd.k],
            amount_minor: pd.amount,
            received_on: pd.on,
            reference: format!("UNC-{}-{}", numbers[pd.k], pd.line),
            to_institute: dist.map(|d| d.institute),
            to_inventors: dist.map(|d| d.inventors),
            to_intermediary: dist.map(|d| d.intermediary),
            recorded_by: &t.institute_user,
            created_at: pd.at,
        });
        *paid_sums.entry((pd.k, pd.line)).or_insert(0) += pd.amount;
    }
    insert_rows!(conn, payments::table, pay_rows, ROWS_SMALL);
    insert_rows!(conn, payment_allocations::table, alloc_rows, ROWS_SMALL * 4);
    counts.payments += pay_rows.len() as u64;
    // Each line's paid amount is the sum of the allocations just written to it (the
    // lines are new, so nothing else was paid on them).
    let sums: Vec<_> = paid_sums.into_iter().collect();
    for chunk in sums.chunks(ROWS_SMALL) {
        // Generated UUIDs and integers only, so they are safe to inline.
        let values = chunk
            .iter()
            .map(|((k, line), sum)| format!("('{}', {line}, {sum})", ids[*k]))
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!(
            "WITH v (agreement_id, number, paid) AS (VALUES {values}) UPDATE schedule_lines SET paid_minor = v.paid \
             FROM v WHERE schedule_lines.agreement_id = v.agreement_id AND schedule_lines.number = v.number"
        ))
        .execute(conn)?;
    }
    for &k in &via_function {
        let p = &plans[k];
        let t = &world.techs[p.tech];
        let cur = contract_currency
            .get(&k)
            .and_then(|c| crate::settlement::money::Currency::parse(&c.0))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("contract currency")))?;
        let who = Who {
            user_id: Some(&t.institute_user),
            organisation_id: Some(&t.institute_id),
        };
        for pd in paid.iter().filter(|pd| pd.k == k) {
            crate::contracts::record_payment(
                conn,
                pd.at.and_utc(),
                world.today,
                who,
                &ids[k],
                &terms_of[p.tech],
                &crate::contracts::PaymentInput {
                    amount: cur.format_amount(pd.amount),
                    received_on: pd.on,
                    reference: format!("UNC-{}-{}", numbers[k], pd.line),
                },
                rounding,
            )?;
            counts.payments += 1;
            counts.via_function += 1;
        }
    }
    // Their messages went out long ago.
    for chunk in via_function.chunks(ROWS_SMALL) {
        let list = chunk
            .iter()
            .map(|k| format!("'{}'", ids[*k]))
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!(
            "UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at \
             WHERE status = 'pending' AND agreement_id IN ({list})"
        ))
        .execute(conn)?;
    }

    // The reminders a running scheduler has already sent for what is open now.
    let mut rem: Vec<NewReminder> = Vec::new();
    let mut rrng = StdRng::seed_from_u64(splitmix(base_seed ^ 0x7E ^ (batch_no as u64) << 28));
    for (k, p) in plans.iter().enumerate() {
        let Some((_, end, deadline)) = p.dates else {
            continue;
        };
        match p.fate {
            Fate::Active => reminder(
                world,
                &mut rem,
                &ids[k],
                "trial_end",
                &reminders_cfg.trial_end_days,
                end,
                0,
                &mut rrng,
            ),
            Fate::AwaitingDecision => reminder(
                world,
                &mut rem,
                &ids[k],
                "decision",
                &reminders_cfg.decision_days,
                deadline,
                0,
                &mut rrng,
            ),
            _ => {}
        }
    }
    for (k, number, due) in &open_lines {
        if *due < world.today {
            if reminders_cfg.overdue {
                let at = world
                    .office(*due + Duration::days(1), &mut rrng)
                    .min(now - Duration::seconds(1));
                rem.push(NewReminder {
                    agreement_id: &ids[*k],
                    kind: "overdue",
                    offset_days: 0,
                    line_number: *number,
                    sent_at: at,
                });
            }
        } else {
            reminder(
                world,
                &mut rem,
                &ids[*k],
                "installment",
                &reminders_cfg.installment_days,
                *due,
                *number,
                &mut rrng,
            );
        }
    }
    insert_rows!(conn, reminders::table, rem, ROWS_SMALL * 2);
    counts.reminders += rem.len() as u64;

    // One event for the batch: the agreements by number and the SHA-256 of their ids.
    let digest = hex::encode(Sha256::digest(ids.join("\n").as_bytes()));
    audit::append(
        conn,
        now_utc,
        Who::SYSTEM,
        "agreement.imported",
        "import",
        &format!("seed-synthetic/{run}/{}", batch_no + 1),
        &serde_json::json!({"after": {
            "source": "seed-synthetic", "run": run, "batch": batch_no + 1, "count": ids.len(),
            "first_number": numbers.first(), "last_number": numbers.last(), "ids_sha256": digest,
            "contracts": counts.contracts, "payments": counts.payments, "policies": counts.policies,
            "claims": counts.claims, "royalty_years": counts.royalty_years,
        }}),
    )?;
    counts.audit_events += 1;
    Ok(counts)
}

/// Records the reminder a running scheduler has sent by now for `date` (a trial's end, a
/// deadline, a line's due day): the most urgent offset that applies today, if any.
#[allow(clippy::too_many_arguments)]
fn reminder<'a>(
    world: &World,
    rem: &mut Vec<NewReminder<'a>>,
    id: &'a str,
    kind: &'static str,
    offsets: &[u32],
    date: NaiveDate,
    line: i32,
    x: &mut StdRng,
) {
    let left = (date - world.today).num_days();
    if left < 0 {
        return;
    }
    if let Some(o) = crate::scheduler::remind::due_offset(offsets, left) {
        let at = world
            .office(date - Duration::days(i64::from(o)), x)
            .min(world.now - Duration::seconds(1));
        rem.push(NewReminder {
            agreement_id: id,
            kind,
            offset_days: o as i32,
            line_number: line,
            sent_at: at,
        });
    }
}

/// The deductible of the product a plan chose.
fn pr_deductible(world: &World, p: &Plan) -> i64 {
    p.choice
        .map_or(0, |c| world.products[c.product].row.deductible_minor)
}

/// What one batch wrote.
#[derive(Debug, Default)]
struct BatchCounts {
    contracts: u64,
    payments: u64,
    via_function: u64,
    policies: u64,
    claims: u64,
    royalty_years: u64,
    reminders: u64,
    audit_events: u64,
}

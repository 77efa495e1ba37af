//! Demo and synthetic data. `demo` builds a believable small programme through the same
//! domain functions the API uses (so every row has its audit event); `synthetic` adds years
//! of history quickly for load tests and reports, in batches with one audit event each. Never
//! used by the service itself.

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::accounts::{self, NewOrganisation, NewUser};
use crate::agreements::model::{ActionInput, NewRequest};
use crate::agreements::store;
use crate::audit::{self, Who};
use crate::auth::session::Actor;
use crate::db::schema::{
    agreement_insurance, agreements, conversion_contracts, conversion_terms, insurance_claims,
    insurance_policies, insurance_products, organisations, payment_allocations, payments,
    reminders, royalty_years, schedule_lines, technologies as tech_table, users,
};
use crate::error::AppError;
use crate::rules::lifecycle::{Action, Status};
use crate::rules::roles::{OrgKind, Role};
use crate::rules::screening::{Check, Checklist};
use crate::settlement::money::MoneyText;
use crate::settlement::terms::{Distribution, ImprovementOwner, Improvements, Price, Terms};
use crate::technologies::model::ScreeningDecision;
use crate::technologies::{self, Localized, TechnologyInput};
use crate::AppState;

/// An insurance product of the seeded programmes: `(rate, max coverage, deductible)`, the
/// premium shared 30 % SME, 20 % institute, 50 % public subsidy, open-ended from `from`.
fn product_input(
    (vi, en): (&str, &str),
    risks: &[&str],
    currency: &str,
    (rate, max, deductible): (&str, &str, &str),
    subsidy_cap: Option<&str>,
    from: NaiveDate,
) -> crate::insurance::products::ProductInput {
    crate::insurance::products::ProductInput {
        name: Localized {
            vi: vi.into(),
            en: en.into(),
        },
        risks: risks.iter().map(|r| r.to_string()).collect(),
        currency: currency.into(),
        premium_rate: rate.into(),
        max_coverage: max.into(),
        deductible: deductible.into(),
        shares: crate::insurance::products::SharesText {
            sme: "0.3".into(),
            institute: "0.2".into(),
            subsidy: "0.5".into(),
        },
        subsidy_cap: subsidy_cap.map(String::from),
        active_from: from,
        active_until: None,
    }
}

/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "trial-demo-2026";

fn anyhow_of(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errs) => anyhow::anyhow!(errs
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        AppError::Internal(e) => e,
        other => anyhow::anyhow!("{other}"),
    }
}

struct DemoOrg {
    kind: OrgKind,
    name: &'static str,
    reg: &'static str,
    province: &'static str,
    user: &'static str,
    display: &'static str,
    role: Role,
}

const ORGS: [DemoOrg; 8] = [
    DemoOrg {
        kind: OrgKind::Operator,
        name: "Sở Khoa học và Công nghệ (đơn vị vận hành)",
        reg: "OP-001",
        province: "Hà Nội",
        user: "admin@usefirst.demo",
        display: "Quản trị viên",
        role: Role::Admin,
    },
    DemoOrg {
        kind: OrgKind::Operator,
        name: "Thanh tra Bộ Khoa học và Công nghệ",
        reg: "OP-002",
        province: "Hà Nội",
        user: "auditor@usefirst.demo",
        display: "Kiểm toán viên",
        role: Role::Auditor,
    },
    DemoOrg {
        kind: OrgKind::Institute,
        name: "Viện Công nghệ Sinh học và Thực phẩm",
        reg: "0101234567",
        province: "Hà Nội",
        user: "institute1@usefirst.demo",
        display: "TS. Nguyễn Thị Hương",
        role: Role::Institute,
    },
    DemoOrg {
        kind: OrgKind::Institute,
        name: "Trường Đại học Bách khoa — Trung tâm Chuyển giao Công nghệ",
        reg: "0302345678",
        province: "Thành phố Hồ Chí Minh",
        user: "institute2@usefirst.demo",
        display: "PGS. Trần Văn Minh",
        role: Role::Institute,
    },
    DemoOrg {
        kind: OrgKind::Sme,
        name: "Công ty TNHH Nông sản Xanh Đồng Tháp",
        reg: "1401112233",
        province: "Đồng Tháp",
        user: "sme1@usefirst.demo",
        display: "Lê Văn Phúc",
        role: Role::Sme,
    },
    DemoOrg {
        kind: OrgKind::Sme,
        name: "Công ty CP Cơ khí Chính xác Bình Dương",
        reg: "3702223344",
        province: "Bình Dương",
        user: "sme2@usefirst.demo",
        display: "Phạm Thị Lan",
        role: Role::Sme,
    },
    DemoOrg {
        kind: OrgKind::Sme,
        name: "Công ty TNHH Thực phẩm Sạch Lâm Đồng",
        reg: "5803334455",
        province: "Lâm Đồng",
        user: "sme3@usefirst.demo",
        display: "Đỗ Quang Huy",
        role: Role::Sme,
    },
    DemoOrg {
        kind: OrgKind::Insurer,
        name: "Công ty Bảo hiểm An Tâm",
        reg: "0104445566",
        province: "Hà Nội",
        user: "insurer@usefirst.demo",
        display: "Vũ Minh Anh",
        role: Role::Insurer,
    },
];

/// (institute index, vi title, en title, field, ip type, reference, valuation VND)
const TECHS: [(usize, &str, &str, &str, &str, &str, i64); 12] = [
    (
        2,
        "Chế phẩm vi sinh xử lý phụ phẩm rơm rạ",
        "Microbial product for rice straw treatment",
        "agriculture",
        "patent",
        "VN 1-0023456",
        850_000_000,
    ),
    (
        2,
        "Quy trình lên men lạnh nước mắm giảm muối",
        "Low-salt cold fermentation of fish sauce",
        "food_processing",
        "patent",
        "VN 1-0031122",
        1_200_000_000,
    ),
    (
        2,
        "Bao bì sinh học từ bã mía",
        "Biodegradable packaging from sugarcane bagasse",
        "materials",
        "utility_solution",
        "VN 2-0004567",
        640_000_000,
    ),
    (
        2,
        "Giống nấm đông trùng hạ thảo năng suất cao",
        "High-yield Cordyceps militaris strain",
        "agriculture",
        "plant_variety",
        "PVP 2024-118",
        450_000_000,
    ),
    (
        2,
        "Công nghệ sấy lạnh trái cây bảo toàn vitamin",
        "Vitamin-preserving cold drying of fruit",
        "food_processing",
        "know_how",
        "KH-VCNSH-07",
        380_000_000,
    ),
    (
        2,
        "Enzyme thủy phân protein cá tra",
        "Enzymatic hydrolysis of pangasius protein",
        "biotechnology",
        "patent",
        "VN 1-0029876",
        990_000_000,
    ),
    (
        3,
        "Hệ thống giám sát rung động máy CNC bằng IoT",
        "IoT vibration monitoring for CNC machines",
        "manufacturing",
        "software",
        "SW-BK-2023-041",
        520_000_000,
    ),
    (
        3,
        "Robot hàn hồ quang cho xưởng vừa và nhỏ",
        "Arc-welding robot for small workshops",
        "manufacturing",
        "patent",
        "VN 1-0035511",
        2_400_000_000,
    ),
    (
        3,
        "Phần mềm tối ưu lịch sản xuất",
        "Production scheduling optimiser",
        "software",
        "software",
        "SW-BK-2024-007",
        300_000_000,
    ),
    (
        3,
        "Vật liệu phủ chống ăn mòn nano",
        "Nano anti-corrosion coating",
        "materials",
        "patent",
        "VN 1-0030042",
        1_750_000_000,
    ),
    (
        3,
        "Bộ điều khiển tiết kiệm điện cho máy nén khí",
        "Energy-saving controller for air compressors",
        "energy",
        "utility_solution",
        "VN 2-0005120",
        410_000_000,
    ),
    (
        3,
        "Quy trình xử lý nước thải dệt nhuộm",
        "Textile dyeing wastewater treatment process",
        "environment",
        "know_how",
        "KH-BK-2022-15",
        870_000_000,
    ),
];

fn terms_for(i: usize, valuation: i64) -> Terms {
    let dist = Some(Distribution {
        institute: "0.6".into(),
        inventors: "0.3".into(),
        intermediary: "0.1".into(),
    });
    let price = match i % 4 {
        0 => Price::LumpSum {
            amount: (valuation / 2).to_string(),
            due_days: 30,
        },
        1 => Price::Installments {
            total: (valuation * 3 / 5).to_string(),
            count: 4,
            interval_months: 3,
            first_due_days: 30,
        },
        2 => Price::Royalty {
            rate: "0.035".into(),
            min_per_year: Some((valuation / 20).to_string()),
        },
        _ => Price::EntryFeePlusRoyalty {
            entry_fee: (valuation / 5).to_string(),
            due_days: 30,
            rate: "0.02".into(),
            min_per_year: None,
        },
    };
    Terms {
        trial_days: if i.is_multiple_of(3) { 60 } else { 90 },
        decision_days: 30,
        currency: "VND".into(),
        price,
        insurance_required: i % 5 == 1,
        early_conversion_discount: Some("0.05".into()),
        late_payment_daily_rate: Some("0.0003".into()),
        distribution: dist,
        improvements: match i % 4 {
            0 => None,
            1 => Some(Improvements {
                owner: ImprovementOwner::Sme,
                licence_back: true,
            }),
            2 => Some(Improvements {
                owner: ImprovementOwner::Joint,
                licence_back: false,
            }),
            _ => Some(Improvements {
                owner: ImprovementOwner::Institute,
                licence_back: true,
            }),
        },
        state_funded: false,
        jurisdiction: None,
        first_payment: None,
    }
}

fn actor_for(conn: &mut crate::db::DbConn, email: &str) -> anyhow::Result<Actor> {
    let (user_id, organisation_id, role, display_name, locale): (
        String,
        String,
        String,
        String,
        String,
    ) = users::table
        .filter(users::email.eq(email))
        .select((
            users::id,
            users::organisation_id,
            users::role,
            users::display_name,
            users::locale,
        ))
        .first(conn)
        .with_context(|| format!("demo user {email}"))?;
    let role = Role::parse(&role).context("role")?;
    Ok(Actor {
        user_id,
        organisation_id,
        role,
        email: email.into(),
        display_name,
        locale,
    })
}

/// Creates the demo programme. Refuses to run twice.
pub fn demo(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now();
    {
        let mut conn = state.db.reader()?;
        let exists: i64 = users::table
            .filter(users::email.eq("admin@usefirst.demo"))
            .count()
            .get_result(&mut conn)?;
        if exists > 0 {
            bail!("the demo data is already there (admin@usefirst.demo exists)");
        }
    }
    let past = |days: i64| now - Duration::days(days);
    // Accounts and catalogue, dated a while back.
    let mut org_ids = Vec::new();
    state
        .db
        .write(|conn| -> Result<(), AppError> {
            for o in &ORGS {
                let org = accounts::create_organisation(
                    conn,
                    past(200),
                    Who::SYSTEM,
                    &NewOrganisation {
                        kind: o.kind,
                        name: o.name.into(),
                        registration_no: o.reg.into(),
                        province: o.province.into(),
                        contact_email: format!("contact+{}", o.user),
                    },
                )?;
                accounts::create_user(
                    conn,
                    past(200),
                    Who::SYSTEM,
                    &NewUser {
                        organisation_id: org.id.clone(),
                        email: o.user.into(),
                        display_name: o.display.into(),
                        role: o.role,
                        password: DEMO_PASSWORD.into(),
                        locale: Some(if o.role == Role::Auditor {
                            "en".into()
                        } else {
                            "vi".into()
                        }),
                    },
                    &state.cfg.app.locale,
                )?;
                org_ids.push(org.id);
            }
            Ok(())
        })
        .map_err(anyhow_of)?;
    let mut tech_ids = Vec::new();
    state.db.write(|conn| -> anyhow::Result<()> {
        let reviewer = actor_for(conn, "admin@usefirst.demo")?;
        for (i, (inst, vi, en, field, ip, reference, valuation)) in TECHS.iter().enumerate() {
            let owner = actor_for(conn, ORGS[*inst].user)?;
            let who = Who { user_id: Some(&owner.user_id), organisation_id: Some(&owner.organisation_id) };
            let tech = technologies::create(conn, past(190), who, &owner.organisation_id, &TechnologyInput {
                title: Localized { vi: (*vi).into(), en: (*en).into() },
                summary: Localized {
                    vi: format!("{vi}: công nghệ đã được thử nghiệm ở quy mô pilot, phù hợp doanh nghiệp nhỏ và vừa."),
                    en: format!("{en}: proven at pilot scale and suited to small and medium enterprises."),
                },
                field: (*field).into(),
                ip_type: (*ip).into(),
                ip_reference: (*reference).into(),
                valuation: MoneyText { amount: valuation.to_string(), currency: "VND".into() },
                status: Some("draft".into()),
            }).map_err(anyhow_of)?;
            technologies::add_terms(conn, past(190), who, &tech.id, terms_for(i, *valuation)).map_err(anyhow_of)?;
            // Listed through screening, as every technology is; the last one still waits for it.
            let row = technologies::get(conn, &tech.id)?;
            technologies::screening::submit(conn, past(189), who, &row, row.version).map_err(anyhow_of)?;
            if i != 11 {
                let row = technologies::get(conn, &tech.id)?;
                let yes = |note: Option<&str>| Check { ok: true, note: note.map(str::to_string) };
                let decision = ScreeningDecision {
                    outcome: "list".into(),
                    trl: Some(5 + (i as i64 % 4)),
                    checklist: Checklist {
                        rights_clear: yes(Some("Văn bằng còn hiệu lực, viện là chủ sở hữu")),
                        inventors_agree: yes(None),
                        valuation_basis: yes(Some("Định giá theo chi phí nghiên cứu và giá thị trường")),
                    },
                    notes: "Đã thử nghiệm ở quy mô pilot.".into(),
                    reason: String::new(),
                };
                technologies::screening::decide(conn, past(188), Who::from(&reviewer), &row, row.version, &decision).map_err(anyhow_of)?;
            }
            tech_ids.push(tech.id);
        }
        Ok(())
    })?;
    // The insurer's products: implementation-failure cover for SMEs, and cover of both risks
    // (non-payment for the institute too), both part-subsidised.
    let products: Vec<String> = state.db.write(|conn| -> anyhow::Result<Vec<String>> {
        let owner = actor_for(conn, "insurer@usefirst.demo")?;
        let who = Who {
            user_id: Some(&owner.user_id),
            organisation_id: Some(&owner.organisation_id),
        };
        let mut ids = Vec::new();
        for (vi, en, risks, rate, max, deductible) in [
            (
                "Bảo hiểm chi phí triển khai công nghệ thất bại",
                "Implementation failure cost cover",
                vec!["implementation_failure"],
                "0.015",
                "500000000",
                "5000000",
            ),
            (
                "Bảo hiểm dùng thử và thanh toán chuyển giao",
                "Trial and transfer payment cover",
                vec!["implementation_failure", "non_payment"],
                "0.022",
                "1000000000",
                "10000000",
            ),
        ] {
            let input = product_input(
                (vi, en),
                &risks,
                "VND",
                (rate, max, deductible),
                Some("20000000"),
                past(200).with_timezone(&state.tz).date_naive(),
            );
            ids.push(
                crate::insurance::products::create(
                    conn,
                    past(200),
                    who,
                    &owner.organisation_id,
                    &input,
                )
                .map_err(anyhow_of)?
                .id,
            );
        }
        Ok(ids)
    })?;
    // Agreements in every state, each walked through the real lifecycle at past dates.
    // (target, sme user, technology, days ago requested, trial start offset from request)
    let plans: [(Status, &str, usize, i64); 13] = [
        (Status::Requested, "sme1@usefirst.demo", 0, 2),
        (Status::Approved, "sme2@usefirst.demo", 6, 5),
        (Status::Rejected, "sme3@usefirst.demo", 7, 20),
        (Status::Withdrawn, "sme1@usefirst.demo", 8, 25),
        (Status::Signed, "sme2@usefirst.demo", 2, 6),
        (Status::Active, "sme1@usefirst.demo", 3, 30),
        (Status::Active, "sme3@usefirst.demo", 1, 40),
        (Status::AwaitingDecision, "sme2@usefirst.demo", 4, 100),
        (Status::Converted, "sme1@usefirst.demo", 5, 130),
        (Status::Converted, "sme3@usefirst.demo", 10, 110),
        (Status::Declined, "sme2@usefirst.demo", 0, 120),
        (Status::Lapsed, "sme3@usefirst.demo", 2, 180),
        (Status::Terminated, "sme1@usefirst.demo", 6, 60),
    ];
    let places = [
        "Nhà máy chế biến, Cao Lãnh, Đồng Tháp",
        "Xưởng cơ khí, Thủ Dầu Một, Bình Dương",
        "Cơ sở sản xuất, Đức Trọng, Lâm Đồng",
    ];
    let tz = state.tz;
    let prefix = state.cfg.app.agreement_prefix.clone();
    for (n, (target, sme_email, tech, days_ago)) in plans.iter().enumerate() {
        state.db.write(|conn| -> anyhow::Result<()> {
            let sme = actor_for(conn, sme_email)?;
            let tech_row = technologies::get(conn, &tech_ids[*tech])?;
            let inst_email = ORGS.iter().zip(&org_ids).find(|(_, id)| **id == tech_row.institute_id).map(|(o, _)| o.user).context("institute")?;
            let inst = actor_for(conn, inst_email)?;
            let t0 = past(*days_ago);
            // Trials not yet started begin a little after today; the others soon after the request.
            let lead = if matches!(target, Status::Approved | Status::Signed) { days_ago + 10 } else { 3 };
            let start = (t0 + Duration::days(lead)).with_timezone(&tz).date_naive();
            let row = crate::app::agreements::request(conn, t0, tz, &prefix, &sme, NewRequest {
                technology_id: &tech_ids[*tech],
                place_of_use: places[n % 3].into(),
                message: "Chúng tôi muốn dùng thử công nghệ tại cơ sở sản xuất trước khi quyết định nhận chuyển giao.".into(),
                requested_start: start,
            }).map_err(anyhow_of)?;
            let id = row.id.clone();
            let step = |conn: &mut crate::db::DbConn, at: DateTime<Utc>, who: Option<&Actor>, action: Action, input: ActionInput| {
                crate::app::agreements::transition(conn, at, who, &id, None, action, &input).map_err(anyhow_of)
            };
            let day = |d: i64| t0 + Duration::days(d);
            match target {
                Status::Requested => return Ok(()),
                Status::Rejected => {
                    step(conn, day(2), Some(&inst), Action::Reject, ActionInput { reason: Some("Công nghệ chưa phù hợp với quy mô sản xuất hiện tại.".into()), ..Default::default() })?;
                    return Ok(());
                }
                Status::Withdrawn => {
                    step(conn, day(1), Some(&sme), Action::Withdraw, ActionInput { reason: Some("Doanh nghiệp thay đổi kế hoạch đầu tư.".into()), ..Default::default() })?;
                    return Ok(());
                }
                _ => {}
            }
            let needs_insurance = terms_for(*tech, TECHS[*tech].6).insurance_required;
            let product = needs_insurance.then(|| products[n % products.len()].clone());
            step(conn, day(1), Some(&inst), Action::Approve, ActionInput { insurance_product_id: product, ..Default::default() })?;
            if *target == Status::Approved {
                return Ok(());
            }
            step(conn, day(2), Some(&sme), Action::Sign, ActionInput::default())?;
            step(conn, day(2), Some(&inst), Action::Sign, ActionInput::default())?;
            if *target == Status::Signed {
                return Ok(());
            }
            // Let time pass: the scheduler's steps, at the moments they were due.
            let mut at = day(3);
            while at < now {
                let current = store::get(conn, &id)?;
                let steps = crate::rules::lifecycle::advance(&current.facts().map_err(anyhow_of)?, at.with_timezone(&tz).date_naive());
                for (action, _) in steps {
                    step(conn, at, None, action, ActionInput::default())?;
                }
                let status = store::get(conn, &id)?.status;
                let done = match target {
                    Status::Converted | Status::Declined => status == "awaiting_decision",
                    Status::Terminated => status == "active" && at > day(20),
                    _ => false,
                };
                if done {
                    break;
                }
                at += Duration::days(1);
            }
            match target {
                Status::Converted => {
                    let input = ActionInput { rounding: state.cfg.settlement.rounding, registration: state.cfg.registration.clone(), ..Default::default() };
                    step(conn, at + Duration::days(5), Some(&sme), Action::Convert, input)?;
                }
                Status::Declined => {
                    step(conn, at + Duration::days(3), Some(&sme), Action::Decline, ActionInput { reason: Some("Hiệu quả chưa đạt kỳ vọng trong điều kiện nhà máy.".into()), ..Default::default() })?;
                }
                Status::Terminated => {
                    step(conn, at, Some(&inst), Action::Terminate, ActionInput { reason: Some("Doanh nghiệp vi phạm điều khoản bảo mật.".into()), ..Default::default() })?;
                }
                Status::Active if n == 6 => {
                    step(conn, at, Some(&inst), Action::Extend, ActionInput { days: Some(30), ..Default::default() })?;
                    // An insured trial with claims: one approved and paid, one awaiting the insurer.
                    use crate::app::insurance::{act_on_claim_in, file_claim_in};
                    use crate::insurance::model::{ClaimAction, ClaimInput, ClaimStep};
                    let insurer = actor_for(conn, "insurer@usefirst.demo")?;
                    let grace = state.cfg.insurance.non_payment_grace_days;
                    let claim = |conn: &mut crate::db::DbConn, amount: &str, reason: &str, evidence: &str| {
                        let input = ClaimInput { agreement_id: id.clone(), risk: "implementation_failure".into(), amount: amount.into(), reason: reason.into(), evidence: evidence.into() };
                        file_claim_in(conn, at, &sme, &input, grace).map_err(anyhow_of)
                    };
                    let first = claim(conn, "45000000", "Hệ thống không đạt công suất thiết kế sau 3 tuần vận hành; chi phí lắp đặt lại thiết bị.", "Biên bản đo công suất; hóa đơn lắp đặt số 0012345.")?;
                    act_on_claim_in(conn, at, &insurer, &first.id, first.version, ClaimAction::Approve, &ClaimStep { reason: Some("Đã giám định tại cơ sở.".into()), reference: None }).map_err(anyhow_of)?;
                    act_on_claim_in(conn, at, &insurer, &first.id, first.version + 1, ClaimAction::Pay, &ClaimStep { reason: None, reference: Some("BH-CT-2026-0088".into()) }).map_err(anyhow_of)?;
                    claim(conn, "18000000", "Chi phí hiệu chỉnh quy trình lần hai.", "Báo cáo kỹ thuật của viện ngày gần nhất.")?;
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    let count: i64 = {
        let mut conn = state.db.reader()?;
        agreements::table.count().get_result(&mut conn)?
    };
    println!(
        "demo data created: {} organisations, {} technologies, {count} agreements",
        ORGS.len(),
        TECHS.len()
    );
    println!("sign in with any of these (password {DEMO_PASSWORD}):");
    for o in &ORGS {
        println!("  {:<26} {:<9} {}", o.user, o.role.as_str(), o.name);
    }
    Ok(())
}

mod synthetic;
pub use synthetic::{
    sample_technology, synthetic, SyntheticOptions, SyntheticSummary, DEFAULT_SEED,
};

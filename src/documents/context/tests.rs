//! The context of an agreement's documents, on values: every field of the sample context,
//! rendered by the shipped templates, written for each language, dated as documents are.

use super::*;
use crate::documents::context::json_shape::same_keys;
use crate::documents::model::KINDS;
use crate::documents::templates::sample_context;
use crate::documents::ContractTemplates;
use crate::settlement::terms::{Distribution, ImprovementOwner, Improvements};
use crate::typeset::format::LANGS;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    day(y, m, d).and_hms_opt(h, min, 0).unwrap()
}

fn vnd() -> Currency {
    Currency::parse("VND").unwrap()
}

/// A converted agreement: installments in VND, insured, both parties signed (the SME at
/// 18:30 UTC on 14 January, already the 15th in Ho Chi Minh City).
fn converted() -> Facts {
    let row = AgreementRow {
        id: "a1".into(),
        number: "UF-2027-000042".into(),
        technology_id: "t1".into(),
        institute_id: "o-inst".into(),
        sme_id: "o-sme".into(),
        insurer_id: Some("o-ins".into()),
        status: "converted".into(),
        version: 9,
        terms_id: "terms-2".into(),
        terms_version: 2,
        terms_snapshot: None,
        place_of_use: "Xưởng sản xuất, Bình Dương".into(),
        message: String::new(),
        time_zone: "Asia/Ho_Chi_Minh".into(),
        requested_start: day(2027, 1, 15),
        trial_start: Some(day(2027, 1, 15)),
        trial_end: Some(day(2027, 4, 14)),
        decision_deadline: Some(day(2027, 5, 14)),
        extended: false,
        sme_signed_at: Some(utc(2027, 1, 14, 18, 30)),
        institute_signed_at: Some(utc(2027, 1, 10, 2, 0)),
        closed_reason: None,
        requested_by: "u-sme".into(),
        created_at: utc(2027, 1, 2, 3, 0),
        updated_at: utc(2027, 4, 20, 4, 0),
        approved_at: Some(utc(2027, 1, 5, 3, 0)),
        started_on: Some(day(2027, 1, 15)),
        trial_ended_on: Some(day(2027, 4, 14)),
        closed_at: Some(utc(2027, 4, 20, 4, 0)),
        decision_days: Some(6),
    };
    let lines = (1..=6)
        .map(|n| Line {
            number: n,
            kind: "installment".into(),
            due: day(2027, 4 + n as u32, 20),
            amount_minor: 250_000_000,
        })
        .chain([Line {
            number: 7,
            kind: "true_up".into(),
            due: day(2028, 5, 20),
            amount_minor: 99,
        }])
        .collect();
    Facts {
        agreement: row,
        institute: Party {
            name: "Viện Nghiên cứu Cơ khí".into(),
            registration_no: "0100100079".into(),
            province: "Hà Nội".into(),
            contact_email: "contact@narime.example".into(),
        },
        sme: Party {
            name: "Công ty TNHH Cơ khí Bình Dương".into(),
            registration_no: "3702456789".into(),
            province: "Bình Dương".into(),
            contact_email: "info@ckbd.example".into(),
        },
        technology: Technology {
            title_vi: "Dây chuyền sấy nông sản tiết kiệm năng lượng".into(),
            title_en: "Energy-saving produce drying line".into(),
            field: "Cơ khí".into(),
            ip_type: "Bằng độc quyền sáng chế".into(),
            ip_reference: "1-0023456".into(),
        },
        terms: Terms {
            trial_days: 90,
            decision_days: 30,
            currency: "VND".into(),
            price: Price::Installments {
                total: "1500000000".into(),
                count: 6,
                interval_months: 1,
                first_due_days: 30,
            },
            insurance_required: true,
            early_conversion_discount: Some("0.05".into()),
            late_payment_daily_rate: Some("0.0003".into()),
            distribution: Some(Distribution {
                institute: "0.5".into(),
                inventors: "0.4".into(),
                intermediary: "0.1".into(),
            }),
            improvements: Some(Improvements {
                owner: ImprovementOwner::Sme,
                licence_back: true,
            }),
            state_funded: false,
            jurisdiction: None,
            first_payment: None,
        },
        approved_at: Some(utc(2027, 1, 5, 9, 0)),
        insurance: Some(Cover {
            insurer: "Bảo hiểm Bảo Việt".into(),
            risks: vec!["implementation_failure".into(), "non_payment".into()],
            currency: vnd(),
            coverage_minor: 500_000_000,
            premium_minor: 10_000_000,
            sme_pays_minor: 3_000_000,
            institute_pays_minor: 2_000_000,
            subsidy_minor: 5_000_000,
        }),
        contract: Some(Contract {
            converted_on: day(2027, 4, 20),
            currency: vnd(),
            lines,
        }),
        institute_signature: Some(Signature {
            at: utc(2027, 1, 10, 2, 0),
            by: "Nguyễn Văn An".into(),
        }),
        sme_signature: Some(Signature {
            at: utc(2027, 1, 14, 18, 30),
            by: "Trần Thị Bình".into(),
        }),
        registration: Some(Registered {
            jurisdiction: "vn".into(),
            number: "15/2027/GCN-ĐKCGCN".into(),
            date: day(2027, 6, 2),
            office: "Bộ Khoa học và Công nghệ".into(),
            vat_exemption_ref: None,
        }),
    }
}

/// The same agreement just approved: no insurance, no distribution, nobody signed.
fn approved() -> Facts {
    let mut f = converted();
    f.agreement.status = "approved".into();
    f.agreement.sme_signed_at = None;
    f.agreement.institute_signed_at = None;
    f.insurance = None;
    f.contract = None;
    f.terms.distribution = None;
    f.terms.improvements = None;
    f.institute_signature = None;
    f.sme_signature = None;
    f.registration = None;
    f
}

/// Lump sum in CNY.
fn in_cny() -> Facts {
    let mut f = converted();
    f.terms.currency = "CNY".into();
    f.terms.price = Price::LumpSum {
        amount: "1500.00".into(),
        due_days: 30,
    };
    let cny = Currency::parse("CNY").unwrap();
    f.contract = Some(Contract {
        converted_on: day(2027, 4, 20),
        currency: cny,
        lines: vec![Line {
            number: 1,
            kind: "lump_sum".into(),
            due: day(2027, 5, 20),
            amount_minor: 142_500,
        }],
    });
    f.registration = Some(Registered {
        jurisdiction: "cn".into(),
        number: "2027310100000123".into(),
        date: day(2027, 5, 6),
        office: "上海市技术市场管理办公室".into(),
        vat_exemption_ref: Some("沪技免 2027-0456".into()),
    });
    f
}

fn rows(ctx: &Value) -> Vec<(String, String)> {
    ctx["terms"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row_value(ctx: &Value, label: &str) -> Option<String> {
    rows(ctx)
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v)
}

#[test]
fn the_context_has_exactly_the_fields_of_the_sample() {
    for kind in KINDS {
        for lang in LANGS {
            let at = format!("{kind}.{lang}");
            for facts in [converted(), in_cny()] {
                let ctx = context(&facts, kind, lang);
                let sample = sample_context(kind, lang, true);
                same_keys(&ctx, &sample, &at).unwrap();
                assert!(ctx["contract"]["schedule"][0].is_object(), "{at}");
            }
            let ctx = context(&approved(), kind, lang);
            same_keys(&ctx, &sample_context(kind, lang, false), &at).unwrap();
            assert!(
                ctx["insurance"].is_null()
                    && ctx["distribution"].is_null()
                    && ctx["improvements"].is_null(),
                "{at}"
            );
            // Insured without a distribution, and the reverse.
            let mut f = approved();
            f.insurance = converted().insurance;
            let ctx = context(&f, kind, lang);
            same_keys(
                &ctx["insurance"],
                &sample_context(kind, lang, true)["insurance"],
                &at,
            )
            .unwrap();
            assert!(ctx["distribution"].is_null(), "{at}");
        }
    }
}

#[test]
fn every_context_renders_with_the_shipped_templates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates");
    let templates = ContractTemplates::load(Some(&dir)).unwrap();
    for facts in [converted(), approved(), in_cny()] {
        for kind in KINDS {
            for lang in LANGS {
                let ctx = context(&facts, kind, lang);
                let blocks = templates.render(kind, lang, &ctx).unwrap();
                let text: Vec<String> = blocks.iter().map(|b| b.text()).collect();
                let text = text.join("\n");
                assert!(text.contains("UF-2027-000042"), "{kind}.{lang}");
                assert!(text.contains("1-0023456"), "{kind}.{lang}");
                let insured = facts.insurance.is_some();
                assert_eq!(text.contains("Bảo hiểm Bảo Việt"), insured, "{kind}.{lang}");
            }
        }
    }
}

/// Once its certificate is entered, the conversion contract prints the registration: the
/// certificate's number, date and office, and in China the VAT-exemption reference; the trial
/// agreement and a contract not yet registered print none of it.
#[test]
fn a_registered_contract_prints_its_certificate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates");
    let templates = ContractTemplates::load(Some(&dir)).unwrap();
    let text = |facts: &Facts, kind: &str, lang: &str| {
        let blocks = templates
            .render(kind, lang, &context(facts, kind, lang))
            .unwrap();
        blocks
            .iter()
            .map(|b| b.text())
            .collect::<Vec<_>>()
            .join("\n")
    };
    for lang in LANGS {
        let vn = text(&converted(), "conversion-contract", lang);
        for part in [
            "15/2027/GCN-ĐKCGCN",
            "Bộ Khoa học và Công nghệ",
            &date(lang, day(2027, 6, 2)),
        ] {
            assert!(vn.contains(part), "{lang}: no {part} in\n{vn}");
        }
        let cn = text(&in_cny(), "conversion-contract", lang);
        for part in [
            "2027310100000123",
            "上海市技术市场管理办公室",
            "沪技免 2027-0456",
            &date(lang, day(2027, 5, 6)),
        ] {
            assert!(cn.contains(part), "{lang}: no {part} in\n{cn}");
        }
        assert!(
            !vn.contains("VAT") && !vn.contains("增值税") && !vn.contains("GTGT"),
            "{lang}: {vn}"
        );
        let mut unregistered = converted();
        unregistered.registration = None;
        let plain = text(&unregistered, "conversion-contract", lang);
        assert!(!plain.contains("15/2027/GCN-ĐKCGCN"), "{lang}");
        let trial = text(&converted(), "trial-agreement", lang);
        assert!(!trial.contains("15/2027/GCN-ĐKCGCN"), "{lang}");
    }
}

#[test]
fn values_are_written_for_the_language() {
    for (lang, patent) in [
        ("vi", "Bằng độc quyền sáng chế"),
        ("en", "Patent"),
        ("zh", "发明专利"),
    ] {
        assert_eq!(ip_type("patent", lang), patent);
    }
    assert_eq!(
        ip_type("Giấy chứng nhận riêng", "zh"),
        "Giấy chứng nhận riêng"
    );
    for code in crate::technologies::model::IP_TYPES {
        assert_ne!(ip_type(code, "zh"), code, "{code} has no Chinese name");
    }

    let f = converted();
    let vi = context(&f, "trial-agreement", "vi");
    assert_eq!(vi["terms"]["model"], "Trả góp");
    assert_eq!(vi["terms"]["currency"], "VND");
    assert_eq!(
        row_value(&vi, "Tổng giá").as_deref(),
        Some("1.500.000.000 ₫")
    );
    assert_eq!(row_value(&vi, "Số kỳ").as_deref(), Some("6"));
    assert_eq!(
        row_value(&vi, "Khoảng cách giữa các kỳ").as_deref(),
        Some("1 tháng")
    );
    assert_eq!(
        row_value(&vi, "Lãi chậm thanh toán mỗi ngày").as_deref(),
        Some("0,03%")
    );
    assert_eq!(row_value(&vi, "Bắt buộc bảo hiểm").as_deref(), Some("Có"));
    assert_eq!(
        vi["technology"]["title"],
        "Dây chuyền sấy nông sản tiết kiệm năng lượng"
    );
    assert_eq!(vi["trial"]["days"], "90 ngày");
    assert_eq!(vi["trial"]["decision_deadline"], "14/05/2027");
    assert_eq!(
        vi["insurance"]["risks"],
        "triển khai công nghệ thất bại, bên nhận không thanh toán"
    );
    assert_eq!(vi["insurance"]["subsidy"], "5.000.000 ₫");
    assert_eq!(vi["insurance"]["sme_pays"], "3.000.000 ₫");
    assert_eq!(vi["distribution"]["inventors"], "40%");
    assert_eq!(vi["doc"]["terms_version"], 2);

    let en = context(&f, "conversion-contract", "en");
    assert_eq!(
        en["technology"]["title"],
        "Energy-saving produce drying line"
    );
    assert_eq!(
        en["terms"]["rows"][0],
        json!({"label": "Total price", "value": "1.500.000.000 ₫"})
    );
    assert_eq!(
        row_value(&en, "Early-conversion discount").as_deref(),
        Some("5%")
    );
    assert_eq!(row_value(&en, "Insurance required").as_deref(), Some("Yes"));
    assert_eq!(
        en["doc"]["date"], "20 April 2027",
        "a contract is dated on conversion"
    );
    assert_eq!(en["contract"]["converted_on"], "20 April 2027");
    let schedule = en["contract"]["schedule"].as_array().unwrap();
    assert_eq!(
        schedule.len(),
        6,
        "the true-up added later is not part of the contract"
    );
    assert_eq!(
        schedule[5],
        json!({"due": "20 October 2027", "item": "Installment 6 of 6", "amount": "250.000.000 ₫"})
    );
    let vi = context(&f, "conversion-contract", "vi");
    assert_eq!(vi["contract"]["schedule"][0]["item"], "Kỳ 1/6");

    let zh = context(&f, "trial-agreement", "zh");
    assert_eq!(
        zh["doc"]["date"], "2027年1月15日",
        "the later signature, local day"
    );
    assert_eq!(zh["trial"]["start"], "2027年1月15日");
    assert_eq!(
        zh["technology"]["title"],
        "Energy-saving produce drying line"
    );
    assert_eq!(zh["terms"]["model"], "分期支付");
    assert_eq!(
        zh["insurance"]["risks"],
        "技术实施失败风险、受让方未付款风险"
    );
    assert_eq!(
        context(&f, "conversion-contract", "zh")["contract"]["schedule"][0]["item"],
        "第1/6期"
    );

    let cny = in_cny();
    let en = context(&cny, "conversion-contract", "en");
    assert_eq!(en["terms"]["model"], "Lump sum");
    assert_eq!(row_value(&en, "Price").as_deref(), Some("¥1,500.00"));
    assert_eq!(
        row_value(&en, "Payment due after conversion").as_deref(),
        Some("30 days")
    );
    assert_eq!(
        en["contract"]["schedule"],
        json!([{"due": "20 May 2027", "item": "Lump sum", "amount": "¥1,425.00"}])
    );
}

#[test]
fn signatures_name_the_signer_once_signed() {
    let vi = context(&converted(), "trial-agreement", "vi");
    assert_eq!(
        vi["signatures"],
        json!([
            {"party": "Bên A", "organisation": "Viện Nghiên cứu Cơ khí", "signed_by": "Nguyễn Văn An", "signed_at": "10/01/2027"},
            {"party": "Bên B", "organisation": "Công ty TNHH Cơ khí Bình Dương", "signed_by": "Trần Thị Bình", "signed_at": "15/01/2027"},
        ])
    );
    let zh = context(&converted(), "trial-agreement", "zh");
    assert_eq!(zh["signatures"][0]["party"], "甲方");
    assert_eq!(zh["signatures"][1]["signed_at"], "2027年1月15日");

    let mut f = approved();
    f.institute_signature = converted().institute_signature;
    let en = context(&f, "trial-agreement", "en");
    assert_eq!(en["signatures"][0]["party"], "Party A");
    assert_eq!(en["signatures"][0]["signed_by"], "Nguyễn Văn An");
    assert_eq!(en["signatures"][1]["party"], "Party B");
    assert_eq!(en["signatures"][1]["signed_by"], "");
    assert_eq!(en["signatures"][1]["signed_at"], "");
    // Not concluded yet: dated on approval.
    assert_eq!(en["doc"]["date"], "5 January 2027");

    let en = context(&approved(), "conversion-contract", "en");
    for s in en["signatures"].as_array().unwrap() {
        assert_eq!((&s["signed_by"], &s["signed_at"]), (&json!(""), &json!("")));
    }
    assert_eq!(en["contract"], json!({"converted_on": "", "schedule": []}));
}

#[test]
fn before_approval_the_dates_are_those_approval_would_give() {
    let mut f = approved();
    f.agreement.status = "requested".into();
    f.approved_at = None;
    f.agreement.trial_start = None;
    f.agreement.trial_end = None;
    f.agreement.decision_deadline = None;
    f.agreement.requested_start = day(2027, 2, 1);
    f.agreement.updated_at = utc(2027, 1, 20, 17, 30);
    let en = context(&f, "trial-agreement", "en");
    assert_eq!(en["trial"]["start"], "1 February 2027");
    assert_eq!(en["trial"]["end"], "1 May 2027");
    assert_eq!(en["trial"]["decision_deadline"], "31 May 2027");
    assert_eq!(en["trial"]["days"], "90 days");
    assert_eq!(
        en["doc"]["date"], "21 January 2027",
        "last change, local day"
    );
    // An extended trial counts its real length.
    let mut f = converted();
    f.agreement.trial_end = Some(day(2027, 5, 14));
    f.agreement.decision_deadline = Some(day(2027, 6, 13));
    let en = context(&f, "trial-agreement", "en");
    assert_eq!(en["trial"]["days"], "120 days");
    assert_eq!(en["trial"]["decision_days"], "30 days");
}

#[test]
fn unreadable_stored_figures_are_refused_by_load() {
    let mut terms = converted().terms;
    assert_eq!(check_figures(&terms), Ok(()));
    terms.late_payment_daily_rate = Some("3%".into());
    assert!(check_figures(&terms).unwrap_err().contains("\"3%\""));
    let mut terms = in_cny().terms;
    terms.currency = "XAU".into();
    assert!(check_figures(&terms).is_err());
}

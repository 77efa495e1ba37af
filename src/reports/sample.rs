//! A fixed report with every table filled, in VND and CNY, for the renderers' tests and the
//! benchmarks (no database needed).

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

/// October 2026 in Ho Chi Minh City, with believable figures.
pub fn report() -> MonthlyReport {
    let c = Counted::new;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    let amount = |measure: &str, currency: &str, month, previous, cumulative| Amount {
        measure: measure.into(),
        currency: currency.into(),
        month_minor: month,
        previous_minor: previous,
        change_minor: month - previous,
        cumulative_minor: cumulative,
    };
    let group = |key: &str, name: &str, requests, started, conversions, decided| Group {
        key: key.into(),
        name: name.into(),
        requests,
        trials_started: started,
        conversions,
        decided,
    };
    let ranked = |rank, id: &str, vi: &str, en: &str, inst: &str, count| Ranked {
        rank,
        technology_id: id.into(),
        title_vi: vi.into(),
        title_en: en.into(),
        institute: inst.into(),
        count,
    };
    let months = [
        "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
        "2026-07", "2026-08", "2026-09", "2026-10",
    ];
    MonthlyReport {
        month: "2026-10".into(),
        time_zone: "Asia/Ho_Chi_Minh".into(),
        first_day: day(2026, 10, 1),
        last_day: day(2026, 10, 31),
        starts_at: Utc
            .with_ymd_and_hms(2026, 9, 30, 17, 0, 0)
            .single()
            .unwrap_or_default(),
        ends_at: Utc
            .with_ymd_and_hms(2026, 10, 31, 17, 0, 0)
            .single()
            .unwrap_or_default(),
        provisional: false,
        generated_at: Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        counts: Counts {
            requests: c(148, 131, 2_412),
            approvals: c(117, 109, 1_960),
            rejections: c(19, 14, 301),
            withdrawals: c(6, 9, 118),
            trials_started: c(102, 97, 1_811),
            trials_ended: c(88, 91, 1_503),
            active_at_month_end: c(308, 294, 308),
            conversions: c(51, 47, 802),
            declines: c(23, 28, 455),
            lapses: c(8, 6, 131),
            terminations: c(2, 1, 40),
            claims_filed: c(7, 5, 96),
            claims_approved: c(4, 4, 61),
            claims_paid: c(3, 5, 58),
        },
        decisions: DecisionWindows {
            month: Decisions {
                decided: 82,
                converted: 51,
                conversion_rate: Some("0.6220".into()),
                median_days: Some(9),
                p90_days: Some(13),
            },
            previous: Decisions {
                decided: 81,
                converted: 47,
                conversion_rate: Some("0.5802".into()),
                median_days: Some(10),
                p90_days: Some(14),
            },
            cumulative: Decisions {
                decided: 1_388,
                converted: 802,
                conversion_rate: Some("0.5778".into()),
                median_days: Some(10),
                p90_days: Some(14),
            },
        },
        amounts: vec![
            amount(
                "conversion_value",
                "VND",
                61_250_000_000,
                55_900_000_000,
                987_300_000_000,
            ),
            amount("conversion_value", "CNY", 1_245_000_00, 0, 9_870_500_00),
            amount(
                "payments_received",
                "VND",
                18_400_000_000,
                17_050_000_000,
                402_118_500_000,
            ),
            amount(
                "payments_received",
                "CNY",
                310_000_00,
                295_500_00,
                4_120_000_00,
            ),
            amount(
                "premiums_written",
                "VND",
                812_500_000,
                790_000_000,
                13_540_000_000,
            ),
            amount("subsidy", "VND", 325_000_000, 316_000_000, 5_416_000_000),
            amount(
                "claims_paid",
                "VND",
                145_000_000,
                262_500_000,
                3_180_000_000,
            ),
        ],
        by_institute: vec![
            group("inst-1", "Viện Công nghệ Sinh học Hà Nội", 61, 44, 23, 36),
            group(
                "inst-2",
                "Trường Đại học Bách khoa TP. Hồ Chí Minh",
                87,
                58,
                28,
                46,
            ),
        ],
        by_field: vec![
            group("agriculture", "Nông nghiệp", 52, 39, 20, 31),
            group("manufacturing", "Chế tạo", 61, 41, 21, 33),
            group("environment", "Môi trường", 35, 22, 10, 18),
        ],
        by_province: vec![
            group("Bình Dương", "Bình Dương", 44, 30, 15, 24),
            group("Đồng Nai", "Đồng Nai", 39, 27, 14, 22),
            group("Hà Nội", "Hà Nội", 65, 45, 22, 36),
        ],
        top_by_trials: vec![
            ranked(
                1,
                "tech-1",
                "Chế phẩm vi sinh xử lý phụ phẩm nông nghiệp",
                "Microbial treatment of crop residues",
                "Viện Công nghệ Sinh học Hà Nội",
                17,
            ),
            ranked(
                2,
                "tech-2",
                "Cảm biến độ ẩm đất không dây",
                "Wireless soil moisture sensor",
                "Trường Đại học Bách khoa TP. Hồ Chí Minh",
                12,
            ),
        ],
        top_by_conversions: vec![ranked(
            1,
            "tech-2",
            "Cảm biến độ ẩm đất không dây",
            "Wireless soil moisture sensor",
            "Trường Đại học Bách khoa TP. Hồ Chí Minh",
            9,
        )],
        by_month: months
            .iter()
            .enumerate()
            .map(|(i, m)| MonthPoint {
                month: (*m).into(),
                trials_started: 60 + 4 * i as i64,
                conversions: 30 + 2 * i as i64,
            })
            .collect(),
        registration: crate::contracts::model::RegistrationCounts {
            registered: 14,
            pending: 5,
            overdue: 2,
        },
    }
}

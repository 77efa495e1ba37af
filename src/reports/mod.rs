//! Monthly conversion reports for the programme's operator: the figures of one calendar month
//! in the configured time zone, the previous month and the cumulative total, breakdowns and
//! a twelve-month series, rendered as JSON, CSV, XLSX and PDF.
//!
//! `figures.rs` computes a [`MonthlyReport`] with a few aggregate queries (one pass per table,
//! every window at once); this module turns it into [`Table`]s, the one description every
//! format renders (`csv.rs`, `xlsx.rs`, `pdf.rs`), so a figure cannot appear in one format and
//! not another. Renderers never query the database; `figures.rs` never formats.
//!
//! Definitions (docs/REPORTS.md): an event belongs to the month in which it happened in the
//! configured zone: instants (requests, approvals, closings, claims, policies bound) by their
//! local time, calendar dates (trial start and end, conversion day, payment day) as they are.

pub mod csv;
pub mod figures;
pub mod pdf;
pub mod sample;
pub mod stored;
pub mod xlsx;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::settlement::money::Currency;

/// A calendar month, `yyyy-mm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// `2026-10`; anything else (another shape, month 13, a year before 2000 or after 9998)
    /// is refused.
    pub fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((2000..=9998).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month a day is in.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MIN)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A count in the month, the month before, the change between them and since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counted {
    pub month: i64,
    pub previous: i64,
    pub change: i64,
    pub cumulative: i64,
}

impl Counted {
    pub fn new(month: i64, previous: i64, cumulative: i64) -> Counted {
        Counted {
            month,
            previous,
            change: month - previous,
            cumulative,
        }
    }
}

/// The headline counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub requests: Counted,
    pub approvals: Counted,
    pub rejections: Counted,
    pub withdrawals: Counted,
    pub trials_started: Counted,
    pub trials_ended: Counted,
    /// In trial after the month's last day (cumulative: the same; previous: after the
    /// previous month's last day).
    pub active_at_month_end: Counted,
    pub conversions: Counted,
    pub declines: Counted,
    pub lapses: Counted,
    pub terminations: Counted,
    pub claims_filed: Counted,
    pub claims_approved: Counted,
    pub claims_paid: Counted,
}

impl Counts {
    /// `(name, figure)` in the order reports print them.
    pub fn named(&self) -> [(&'static str, Counted); 14] {
        [
            ("requests", self.requests),
            ("approvals", self.approvals),
            ("rejections", self.rejections),
            ("withdrawals", self.withdrawals),
            ("trials_started", self.trials_started),
            ("trials_ended", self.trials_ended),
            ("active_at_month_end", self.active_at_month_end),
            ("conversions", self.conversions),
            ("declines", self.declines),
            ("lapses", self.lapses),
            ("terminations", self.terminations),
            ("claims_filed", self.claims_filed),
            ("claims_approved", self.claims_approved),
            ("claims_paid", self.claims_paid),
        ]
    }
}

/// An amount of money, per currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Amount {
    /// What is summed: `conversion_value`, `payments_received`, `premiums_written`,
    /// `subsidy`, `claims_paid`.
    pub measure: String,
    pub currency: String,
    pub month_minor: i64,
    pub previous_minor: i64,
    pub change_minor: i64,
    pub cumulative_minor: i64,
}

/// The money measures, in the order reports print them.
pub const MONEY_MEASURES: [&str; 5] = [
    "conversion_value",
    "payments_received",
    "premiums_written",
    "subsidy",
    "claims_paid",
];

/// Converted ÷ decided (converted, declined or lapsed) and the days from the trial's end to
/// the decision, over the decisions of one window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Decisions {
    pub decided: i64,
    pub converted: i64,
    /// Exact decimal text with four places (`0.6250`); absent when nothing was decided.
    pub conversion_rate: Option<String>,
    /// Nearest-rank median of whole days; absent when nothing was decided.
    pub median_days: Option<i64>,
    /// Nearest-rank 90th percentile of whole days.
    pub p90_days: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DecisionWindows {
    pub month: Decisions,
    pub previous: Decisions,
    pub cumulative: Decisions,
}

/// One group of a breakdown, in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Group {
    /// The institute's id, the field's code or the province's name.
    pub key: String,
    /// What a person reads: the institute's name, the field, the province.
    pub name: String,
    pub requests: i64,
    pub trials_started: i64,
    pub conversions: i64,
    pub decided: i64,
}

/// A technology in a top-ten list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ranked {
    pub rank: i64,
    pub technology_id: String,
    pub title_vi: String,
    pub title_en: String,
    pub institute: String,
    pub count: i64,
}

/// One month of the twelve-month series that ends with the report's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthPoint {
    pub month: String,
    pub trials_started: i64,
    pub conversions: i64,
}

/// The report of one calendar month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthlyReport {
    /// `yyyy-mm`.
    pub month: String,
    pub time_zone: String,
    /// The month's first and last day, and the instants they span (UTC, end exclusive).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The month had not ended when the report was made: its figures can still change.
    pub provisional: bool,
    /// When the figures were read.
    pub generated_at: DateTime<Utc>,
    pub counts: Counts,
    pub decisions: DecisionWindows,
    /// Per measure and currency; a currency appears when any window has an amount in it.
    pub amounts: Vec<Amount>,
    pub by_institute: Vec<Group>,
    pub by_field: Vec<Group>,
    pub by_province: Vec<Group>,
    pub top_by_trials: Vec<Ranked>,
    pub top_by_conversions: Vec<Ranked>,
    pub by_month: Vec<MonthPoint>,
}

/// A value in a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Minor units of a currency.
    Money(Currency, i64),
    /// An exact decimal written as text (a rate).
    Decimal(String),
    Empty,
}

/// One table of a report: what CSV writes as a file, XLSX as a sheet and PDF as a section.
#[derive(Debug, Clone)]
pub struct Table {
    /// File and sheet name: `summary`, `amounts`, …
    pub name: &'static str,
    pub title_vi: &'static str,
    pub title_en: &'static str,
    /// Column keys (CSV headers: stable, for machines).
    pub keys: Vec<&'static str>,
    /// Column headings for people, per language.
    pub headings_vi: Vec<&'static str>,
    pub headings_en: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn title(&self, lang: &str) -> &'static str {
        if lang == "vi" {
            self.title_vi
        } else {
            self.title_en
        }
    }

    pub fn headings(&self, lang: &str) -> &[&'static str] {
        if lang == "vi" {
            &self.headings_vi
        } else {
            &self.headings_en
        }
    }
}

/// A measure's name for people.
pub fn measure_label(measure: &str, lang: &str) -> &'static str {
    let (vi, en) = match measure {
        "requests" => ("Yêu cầu dùng thử", "Trial requests"),
        "approvals" => ("Được chấp thuận", "Approvals"),
        "rejections" => ("Bị từ chối", "Rejections"),
        "withdrawals" => ("Rút yêu cầu", "Withdrawals"),
        "trials_started" => ("Bắt đầu dùng thử", "Trials started"),
        "trials_ended" => ("Kết thúc dùng thử", "Trials ended"),
        "active_at_month_end" => ("Đang dùng thử cuối tháng", "Active at month end"),
        "conversions" => ("Chuyển giao", "Conversions"),
        "declines" => ("Không chuyển giao", "Declines"),
        "lapses" => ("Quá hạn quyết định", "Lapses"),
        "terminations" => ("Chấm dứt", "Terminations"),
        "claims_filed" => ("Yêu cầu bồi thường", "Claims filed"),
        "claims_approved" => ("Bồi thường được duyệt", "Claims approved"),
        "claims_paid" => ("Bồi thường đã chi trả", "Claims paid"),
        "conversion_value" => ("Giá trị chuyển giao", "Value of conversions"),
        "payments_received" => ("Thanh toán đã nhận", "Payments received"),
        "premiums_written" => ("Phí bảo hiểm", "Premiums written"),
        "subsidy" => ("Hỗ trợ phí từ ngân sách", "Public subsidy"),
        "decided" => ("Đã quyết định", "Decided"),
        "conversion_rate" => ("Tỷ lệ chuyển giao", "Conversion rate"),
        "median_days" => ("Trung vị số ngày đến quyết định", "Median days to decision"),
        "p90_days" => (
            "Phân vị 90 số ngày đến quyết định",
            "90th percentile days to decision",
        ),
        _ => ("", ""),
    };
    if lang == "vi" {
        vi
    } else {
        en
    }
}

impl MonthlyReport {
    /// The report as tables, in the order every format prints them.
    pub fn tables(&self) -> Vec<Table> {
        let count_headings_vi = vec!["Chỉ tiêu", "Tháng này", "Tháng trước", "Thay đổi", "Lũy kế"];
        let count_headings_en = vec![
            "Measure",
            "This month",
            "Previous month",
            "Change",
            "Cumulative",
        ];
        let summary = Table {
            name: "summary",
            title_vi: "Số liệu chính",
            title_en: "Headline figures",
            keys: vec!["measure", "month", "previous", "change", "cumulative"],
            headings_vi: count_headings_vi.clone(),
            headings_en: count_headings_en.clone(),
            rows: self
                .counts
                .named()
                .iter()
                .map(|(name, c)| {
                    vec![
                        Cell::Text((*name).into()),
                        Cell::Int(c.month),
                        Cell::Int(c.previous),
                        Cell::Int(c.change),
                        Cell::Int(c.cumulative),
                    ]
                })
                .collect(),
        };
        let opt_int = |v: Option<i64>| v.map_or(Cell::Empty, Cell::Int);
        let opt_dec = |v: &Option<String>| v.clone().map_or(Cell::Empty, Cell::Decimal);
        let d = &self.decisions;
        let windows = [&d.month, &d.previous, &d.cumulative];
        let decisions = Table {
            name: "decisions",
            title_vi: "Quyết định sau dùng thử",
            title_en: "Decisions after the trial",
            keys: vec!["measure", "month", "previous", "cumulative"],
            headings_vi: vec!["Chỉ tiêu", "Tháng này", "Tháng trước", "Lũy kế"],
            headings_en: vec!["Measure", "This month", "Previous month", "Cumulative"],
            rows: vec![
                std::iter::once(Cell::Text("decided".into()))
                    .chain(windows.iter().map(|w| Cell::Int(w.decided)))
                    .collect(),
                std::iter::once(Cell::Text("conversion_rate".into()))
                    .chain(windows.iter().map(|w| opt_dec(&w.conversion_rate)))
                    .collect(),
                std::iter::once(Cell::Text("median_days".into()))
                    .chain(windows.iter().map(|w| opt_int(w.median_days)))
                    .collect(),
                std::iter::once(Cell::Text("p90_days".into()))
                    .chain(windows.iter().map(|w| opt_int(w.p90_days)))
                    .collect(),
            ],
        };
        let amounts = Table {
            name: "amounts",
            title_vi: "Giá trị theo loại tiền",
            title_en: "Amounts by currency",
            keys: vec![
                "measure",
                "currency",
                "month_minor",
                "previous_minor",
                "change_minor",
                "cumulative_minor",
            ],
            headings_vi: vec![
                "Chỉ tiêu",
                "Tiền tệ",
                "Tháng này",
                "Tháng trước",
                "Thay đổi",
                "Lũy kế",
            ],
            headings_en: vec![
                "Measure",
                "Currency",
                "This month",
                "Previous month",
                "Change",
                "Cumulative",
            ],
            rows: self
                .amounts
                .iter()
                .map(|a| {
                    let money = |v: i64| match Currency::parse(&a.currency) {
                        Some(c) => Cell::Money(c, v),
                        None => Cell::Int(v),
                    };
                    vec![
                        Cell::Text(a.measure.clone()),
                        Cell::Text(a.currency.clone()),
                        money(a.month_minor),
                        money(a.previous_minor),
                        money(a.change_minor),
                        money(a.cumulative_minor),
                    ]
                })
                .collect(),
        };
        let group_table = |name, title_vi, title_en, key_vi, key_en, groups: &[Group]| Table {
            name,
            title_vi,
            title_en,
            keys: vec![
                "key",
                "name",
                "requests",
                "trials_started",
                "conversions",
                "decided",
            ],
            headings_vi: vec![
                "Mã",
                key_vi,
                "Yêu cầu",
                "Bắt đầu dùng thử",
                "Chuyển giao",
                "Đã quyết định",
            ],
            headings_en: vec![
                "Key",
                key_en,
                "Requests",
                "Trials started",
                "Conversions",
                "Decided",
            ],
            rows: groups
                .iter()
                .map(|g| {
                    vec![
                        Cell::Text(g.key.clone()),
                        Cell::Text(g.name.clone()),
                        Cell::Int(g.requests),
                        Cell::Int(g.trials_started),
                        Cell::Int(g.conversions),
                        Cell::Int(g.decided),
                    ]
                })
                .collect(),
        };
        let ranked_table = |name, title_vi, title_en, ranked: &[Ranked]| Table {
            name,
            title_vi,
            title_en,
            keys: vec![
                "rank",
                "technology_id",
                "title_vi",
                "title_en",
                "institute",
                "count",
            ],
            headings_vi: vec![
                "Hạng",
                "Mã công nghệ",
                "Công nghệ",
                "Technology",
                "Viện",
                "Số lượng",
            ],
            headings_en: vec![
                "Rank",
                "Technology id",
                "Công nghệ",
                "Technology",
                "Institute",
                "Count",
            ],
            rows: ranked
                .iter()
                .map(|r| {
                    vec![
                        Cell::Int(r.rank),
                        Cell::Text(r.technology_id.clone()),
                        Cell::Text(r.title_vi.clone()),
                        Cell::Text(r.title_en.clone()),
                        Cell::Text(r.institute.clone()),
                        Cell::Int(r.count),
                    ]
                })
                .collect(),
        };
        let by_month = Table {
            name: "by_month",
            title_vi: "Dùng thử và chuyển giao theo tháng",
            title_en: "Trials and conversions by month",
            keys: vec!["month", "trials_started", "conversions"],
            headings_vi: vec!["Tháng", "Bắt đầu dùng thử", "Chuyển giao"],
            headings_en: vec!["Month", "Trials started", "Conversions"],
            rows: self
                .by_month
                .iter()
                .map(|p| {
                    vec![
                        Cell::Text(p.month.clone()),
                        Cell::Int(p.trials_started),
                        Cell::Int(p.conversions),
                    ]
                })
                .collect(),
        };
        vec![
            summary,
            decisions,
            amounts,
            group_table(
                "by_institute",
                "Theo viện",
                "By institute",
                "Viện",
                "Institute",
                &self.by_institute,
            ),
            group_table(
                "by_field",
                "Theo lĩnh vực",
                "By field",
                "Lĩnh vực",
                "Field",
                &self.by_field,
            ),
            group_table(
                "by_province",
                "Theo tỉnh của doanh nghiệp",
                "By the SME's province",
                "Tỉnh",
                "Province",
                &self.by_province,
            ),
            ranked_table(
                "top_by_trials",
                "10 công nghệ nhiều lượt dùng thử nhất",
                "Top ten technologies by trials started",
                &self.top_by_trials,
            ),
            ranked_table(
                "top_by_conversions",
                "10 công nghệ nhiều chuyển giao nhất",
                "Top ten technologies by conversions",
                &self.top_by_conversions,
            ),
            by_month,
        ]
    }
}

/// The formats a report is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "application/zip",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }

    /// The file name a download is given.
    pub fn file_name(self, month: &str, lang: &str) -> String {
        match self {
            Format::Json => format!("usefirst-report-{month}.json"),
            Format::Csv => format!("usefirst-report-{month}-csv.zip"),
            Format::Xlsx => format!("usefirst-report-{month}-{lang}.xlsx"),
            Format::Pdf => format!("usefirst-report-{month}-{lang}.pdf"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_only_in_their_one_shape() {
        assert_eq!(
            Month::parse("2026-10"),
            Some(Month {
                year: 2026,
                month: 10
            })
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-10",
            "2026/10",
            "2026-10-01",
            "",
            "1999-12",
            "２０２６-10",
            "+026-10",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn months_step_over_year_ends() {
        let dec = Month::parse("2026-12").unwrap();
        assert_eq!(dec.next().to_string(), "2027-01");
        assert_eq!(dec.next().prev(), dec);
        assert_eq!(
            dec.last_day(),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(Month::parse("2028-02").unwrap().last_day().day(), 29);
        assert_eq!(Month::parse("2026-02").unwrap().last_day().day(), 28);
    }

    #[test]
    fn every_table_row_has_a_cell_per_column() {
        let r = sample::report();
        for t in r.tables() {
            assert_eq!(t.keys.len(), t.headings_vi.len(), "{}", t.name);
            assert_eq!(t.keys.len(), t.headings_en.len(), "{}", t.name);
            for row in &t.rows {
                assert_eq!(row.len(), t.keys.len(), "{}", t.name);
            }
        }
        for (name, _) in r.counts.named() {
            assert_ne!(measure_label(name, "vi"), "", "{name}");
            assert_ne!(measure_label(name, "en"), "", "{name}");
        }
        for m in MONEY_MEASURES {
            assert_ne!(measure_label(m, "en"), "", "{m}");
        }
    }
}

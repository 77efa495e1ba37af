//! Monthly conversion reports for the programme's operator: the figures of one calendar month
//! in the configured time zone, the previous month and the cumulative total, breakdowns and
//! a twelve-month series, rendered as JSON, CSV, XLSX and PDF.
//!
//! `figures.rs` computes a [`MonthlyReport`] with a few aggregate queries (one pass per table,
//! every window at once); this module turns it into [`Table`]s, the one description every
//! format renders (`csv.rs`, `xlsx.rs`, `pdf.rs`), so a figure cannot appear in one format and
//! not another. Renderers never query the database; `figures.rs` never formats. `model.rs`
//! holds what the edges take (the month, the report, the formats); `store.rs` the reports the
//! `monthly-report` job stores (`app::reports` runs it).
//!
//! Definitions (docs/REPORTS.md): an event belongs to the month in which it happened in the
//! configured zone: instants (requests, approvals, closings, claims, policies bound) by their
//! local time, calendar dates (trial start and end, conversion day, payment day) as they are.

pub mod csv;
pub mod disclosure;
pub mod figures;
pub mod model;
pub mod pdf;
pub mod sample;
pub mod store;
pub mod tallies;
pub mod xlsx;

use crate::error::AppError;
use crate::settlement::money::Currency;
use crate::typeset::pdf::{Fonts, PdfError, Verify};
pub use model::{
    Amount, Counted, Counts, DecisionWindows, Decisions, Format, Group, Month, MonthPoint,
    MonthlyReport, Ranked, Written, MONEY_MEASURES,
};

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
        "registered" => ("Đã đăng ký", "Registered"),
        "registration_pending" => ("Chờ đăng ký, còn hạn", "Pending, within the deadline"),
        "registration_overdue" => ("Quá hạn đăng ký", "Overdue for registration"),
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
        let r = &self.registration;
        let registration = Table {
            name: "registration",
            title_vi: "Đăng ký hợp đồng chuyển giao công nghệ (cuối tháng)",
            title_en: "Registration of transfer contracts (at month end)",
            keys: vec!["measure", "count"],
            headings_vi: vec!["Chỉ tiêu", "Số hợp đồng"],
            headings_en: vec!["Measure", "Contracts"],
            rows: [
                ("registered", r.registered),
                ("registration_pending", r.pending),
                ("registration_overdue", r.overdue),
            ]
            .into_iter()
            .map(|(name, n)| vec![Cell::Text(name.into()), Cell::Int(n)])
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
            registration,
        ]
    }
}

/// `report` in `format` (`lang` for the PDF and the XLSX headings: `vi` or `en`), set in
/// `fonts`; a PDF prints `verify`, the code it can be checked with.
pub fn write(
    fonts: &Fonts,
    report: &MonthlyReport,
    format: Format,
    lang: &str,
    verify: Option<Verify<'_>>,
) -> Result<Written, AppError> {
    let bytes = match format {
        Format::Json => serde_json::to_vec(report).map_err(|e| AppError::Internal(e.into()))?,
        Format::Csv => csv::zip(report)
            .map_err(|e| AppError::Internal(e.context("writing the report's CSV files")))?,
        Format::Xlsx => xlsx::workbook(report, lang)
            .map_err(|e| AppError::Internal(e.context("writing the report's workbook")))?,
        Format::Pdf => {
            pdf::render(fonts, report, lang, verify)
                .map_err(|e| match e {
                    PdfError::FontMissing(msg) => AppError::Unavailable(format!(
                        "reports cannot be set as PDF on this server: {msg}"
                    )),
                    other => AppError::Internal(anyhow::anyhow!(
                        "setting the {} report: {other}",
                        report.month
                    )),
                })?
                .bytes
        }
    };
    Ok(Written {
        bytes,
        content_type: format.content_type(),
        file_name: format.file_name(&report.month, lang),
        provisional: report.provisional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

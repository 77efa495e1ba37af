//! What a monthly report is, as the API, the CLI and the scheduler see it: a calendar month,
//! the report's figures, the formats it is written in, and what the `monthly-report` job
//! stores. The values other parts and the edges take from `reports` (never its storage).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Conversion contracts to be registered, by where they stand on the month's last day
    /// (today while the month is provisional): registered, pending, overdue.
    pub registration: crate::contracts::model::RegistrationCounts,
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

/// A report written in one format.
pub struct Written {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
    /// The month had not ended when the figures were read.
    pub provisional: bool,
}

/// A file of a stored report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredFile {
    /// `pdf` or `xlsx`.
    pub format: &'static str,
    /// `vi` or `en`.
    pub lang: &'static str,
    pub sha256: String,
    /// The code the file prints to be checked with (PDFs only).
    pub verify_code: Option<String>,
}

/// A monthly report PDF usefirst issued, as a check of its code or its file finds it: the
/// month, language and edition, never a figure.
#[derive(Debug, Clone)]
pub struct IssuedPdf {
    pub month: String,
    pub lang: String,
    /// The month had not ended when its figures were read.
    pub provisional: bool,
    pub sha256: String,
    pub generated_at: chrono::NaiveDateTime,
    /// This file's place among the month's PDFs in its language, from 1, by when they were made.
    pub edition: i64,
    /// How many PDFs of the month in that language usefirst has issued.
    pub editions: i64,
}

/// What the job stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredReport {
    pub id: String,
    pub month: String,
    pub provisional: bool,
    pub json_sha256: String,
    pub files: Vec<StoredFile>,
    pub admins_mailed: usize,
}

/// A stored report as a list shows it: when it was made and the SHA-256 of its JSON and of
/// each file (`format`, `lang`, `sha256`), without the bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredListing {
    pub id: String,
    pub month: String,
    pub provisional: bool,
    pub generated_at: DateTime<Utc>,
    pub json_sha256: String,
    pub files: Vec<ListedFile>,
}

/// A stored file's format (`pdf`, `xlsx`), language and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListedFile {
    pub format: String,
    pub lang: String,
    pub sha256: String,
}

/// The languages stored reports are written in; an admin gets the files in theirs (else the
/// first).
pub const REPORT_LANGS: [&str; 2] = ["vi", "en"];

/// The month before the one `now` is in, in `tz`: what the job on the 1st reports.
pub fn previous_month(tz: Tz, now: DateTime<Utc>) -> Month {
    Month::of(now.with_timezone(&tz).date_naive()).prev()
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
}

/// The fewest agreements a cell of the price disclosure must hold to show its figures.
pub const DISCLOSURE_MIN_COUNT: usize = 3;

/// Agreed conversion prices of one sector, year and currency: how many, the median and the
/// range, in minor units of the currency. With fewer than [`DISCLOSURE_MIN_COUNT`] agreements
/// the cell is `hidden` and carries no figure at all, not even its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceCell {
    /// The technology's field or sector.
    pub sector: String,
    /// The year of conversion.
    pub year: i32,
    pub currency: String,
    /// True when fewer than three agreements fall in the cell: no figure is given.
    pub hidden: bool,
    pub count: Option<i64>,
    /// The median price; for an even count the mean of the two middle prices, rounded half
    /// to even on the minor unit.
    pub median_minor: Option<i64>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    /// The same figures as decimal text in major units (`"150000000"`, `"1200.50"`).
    pub median: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

/// The public disclosure of agreed conversion prices, cell by cell, and what its filters offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceDisclosure {
    /// Each (sector, year, currency) with at least one agreement, by sector, year, currency.
    /// No total over cells is given, so no hidden cell can be worked out by subtraction.
    pub cells: Vec<PriceCell>,
    /// The years with any agreed price, newest first.
    pub years: Vec<i32>,
    /// The sectors with any agreed price, sorted.
    pub sectors: Vec<String>,
    /// The fewest agreements a cell shows figures for.
    pub min_count: i64,
}

//! The figures of a monthly report, read with a few aggregate queries.
//!
//! Every headline measure is one pass over its table that sorts each row into a bucket by
//! when it happened: before the twelve-month series, or one of its twelve months (the last is
//! the report's month); rows after the month are left out. The month, the month before, the
//! cumulative total and the series all come from the same pass. Instants are compared with
//! the UTC instants of local midnights, so an event at 23:30 local time on the last day
//! belongs to that month whatever its UTC date; calendar dates are compared as they are.
//! Breakdowns and the top tens are the report's month only, counted by technology and by the
//! SME's province, and rolled up here.
//!
//! A pass reads one of two sources ([`Source`]): the roll-ups the database's triggers keep
//! (`report_tallies`, what the service answers from), summing the slots inside each bucket
//! and reading a slot that a bound cuts through from the table; or the table itself, one
//! GROUP BY, which is the check that both say the same.
//!
//! Reads only; never formats (the tables in `mod.rs` and the renderers do).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use rust_decimal::{Decimal, RoundingStrategy};

use super::*;
use crate::db::schema::{organisations, technologies};
use crate::db::{raw_query, DbConn, Param};
use crate::error::AppError;

/// Months in the series, the report's month last.
pub const SERIES: usize = 12;

/// An agreement a decision closed (converted, declined, lapsed). Written as a CASE so that no
/// planner walks the status index (most agreements are closed) where the date's index finds
/// a month's or an hour's rows.
macro_rules! decided {
    () => {
        "CASE WHEN a.status IN ('converted', 'declined', 'lapsed') THEN 1 END = 1"
    };
}
const DECIDED: &str = decided!();

/// An agreement converted (as [`DECIDED`], a CASE).
const CONVERTED: &str = "CASE WHEN a.status = 'converted' THEN 1 END = 1";

/// One bucket of one group of a pass.
#[derive(Debug, QueryableByName)]
struct Bucketed {
    /// -1 before the series; 0 to 11 its months.
    #[diesel(sql_type = Integer)]
    bucket: i32,
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = BigInt)]
    amount2: i64,
}

/// The local midnight starting `day` in `tz`, in UTC.
pub fn midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A zone that skips midnight (a DST change at 00:00) starts the day at the first instant.
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The counts of one pass, by group: bucket → (rows, amount, amount2).
#[derive(Debug, Default)]
struct Pass {
    groups: BTreeMap<String, [(i64, i64, i64); SERIES + 1]>,
}

impl Pass {
    fn slot(bucket: i32) -> usize {
        // Index 0 is "before the series"; 1..=12 the months.
        (bucket + 1).clamp(0, SERIES as i32) as usize
    }

    fn of(rows: Vec<Bucketed>) -> Pass {
        let mut p = Pass::default();
        for r in rows {
            let cell =
                &mut p.groups.entry(r.k).or_insert([(0, 0, 0); SERIES + 1])[Pass::slot(r.bucket)];
            cell.0 += r.n;
            cell.1 += r.amount;
            cell.2 += r.amount2;
        }
        p
    }

    fn buckets(&self, group: &str) -> [(i64, i64, i64); SERIES + 1] {
        self.groups
            .get(group)
            .copied()
            .unwrap_or([(0, 0, 0); SERIES + 1])
    }

    /// Rows of `group`: the month, the previous month, cumulative.
    fn counted(&self, group: &str) -> Counted {
        let b = self.buckets(group);
        Counted::new(b[SERIES].0, b[SERIES - 1].0, b.iter().map(|c| c.0).sum())
    }

    /// Rows of all groups together.
    fn counted_all(&self) -> Counted {
        let mut c = Counted::default();
        for k in self.groups.keys() {
            let g = self.counted(k);
            c = Counted::new(
                c.month + g.month,
                c.previous + g.previous,
                c.cumulative + g.cumulative,
            );
        }
        c
    }

    /// Rows of all groups per series month.
    fn series_all(&self) -> [i64; SERIES] {
        let mut s = [0; SERIES];
        for b in self.groups.values() {
            for (i, v) in s.iter_mut().enumerate() {
                *v += b[i + 1].0;
            }
        }
        s
    }
}

/// Where a report's figures are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The roll-ups kept by the database's triggers in the same transaction as each change
    /// (`report_tallies`): the slots inside the report's bounds, and the rows of a slot that a
    /// bound cuts through (a local midnight inside a UTC hour or day) read from the tables.
    /// What the service uses.
    Tallies,
    /// The tables alone, one GROUP BY per pass: the check of the tallies (`usefirst
    /// report-check`, and the tests), and what the tallies must equal.
    Tables,
}

/// How finely a measure is tallied.
#[derive(Debug, Clone, Copy)]
enum Grain {
    /// UTC hours: the instants of the headline measures, so that the local midnights of a
    /// zone a whole number of hours from UTC fall on a slot's edge.
    Hour,
    /// UTC days (and calendar days for dates): the decision-day histogram and the breakdowns,
    /// which have too many keys for hourly slots.
    Day,
}

impl Grain {
    fn floor(self, t: NaiveDateTime) -> NaiveDateTime {
        let day = t.date().and_hms_opt(0, 0, 0).unwrap_or(t);
        match self {
            Grain::Day => day,
            Grain::Hour => day + chrono::Duration::hours(i64::from(t.hour())),
        }
    }

    fn len(self) -> chrono::Duration {
        match self {
            Grain::Hour => chrono::Duration::hours(1),
            Grain::Day => chrono::Duration::days(1),
        }
    }

    /// The slots that `bounds` cut through, with each slot's end.
    fn cut(self, bounds: &[NaiveDateTime]) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        let mut cut: Vec<NaiveDateTime> = bounds
            .iter()
            .map(|b| self.floor(*b))
            .zip(bounds)
            .filter(|(f, b)| f != *b)
            .map(|(f, _)| f)
            .collect();
        cut.dedup();
        cut.into_iter().map(|s| (s, s + self.len())).collect()
    }
}

/// The bounds of a pass: calendar days, or the UTC instants of local midnights.
#[derive(Debug, Clone, Copy)]
enum Bounds<'a> {
    Dates(&'a [NaiveDate]),
    Instants(&'a [NaiveDateTime]),
}

impl Bounds<'_> {
    fn params(&self) -> Vec<Param> {
        match self {
            Bounds::Dates(d) => d.iter().map(|d| Param::Date(*d)).collect(),
            Bounds::Instants(t) => t.iter().map(|t| Param::Instant(*t)).collect(),
        }
    }

    /// As slots: a calendar day's slot starts at its midnight.
    fn slots(&self) -> Vec<NaiveDateTime> {
        match self {
            Bounds::Dates(d) => d
                .iter()
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                .collect(),
            Bounds::Instants(t) => t.to_vec(),
        }
    }

    /// The slots a bound cuts through (never for calendar days: their slots are days).
    fn cut(&self, grain: Grain) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        match self {
            Bounds::Dates(_) => Vec::new(),
            Bounds::Instants(t) => grain.cut(t),
        }
    }
}

/// One measure of the report: its tally and the same rows as the tables hold them.
struct Measure {
    tally: &'static str,
    grain: Grain,
    /// A `FROM … WHERE …` clause.
    from: &'static str,
    column: &'static str,
    /// Whether `column` holds calendar days (else UTC instants).
    dates: bool,
    key: &'static str,
    amount: &'static str,
    amount2: &'static str,
}

#[allow(clippy::too_many_arguments)] // a row of the table below
const fn measure(
    tally: &'static str,
    grain: Grain,
    from: &'static str,
    column: &'static str,
    dates: bool,
    key: &'static str,
    amount: &'static str,
    amount2: &'static str,
) -> Measure {
    Measure {
        tally,
        grain,
        from,
        column,
        dates,
        key,
        amount,
        amount2,
    }
}

const AGREEMENTS: &str = "FROM agreements a WHERE 1 = 1";
const CLAIMS: &str = "FROM insurance_claims c WHERE 1 = 1";

/// The headline measures, in the order [`monthly_from`] names their passes.
const MEASURES: [Measure; 12] = {
    use Grain::{Day, Hour};
    [
        measure("requests", Hour, AGREEMENTS, "a.created_at", false, "''", "0", "0"),
        measure("approvals", Hour, AGREEMENTS, "a.approved_at", false, "''", "0", "0"),
        measure("closings", Hour, AGREEMENTS, "a.closed_at", false, "a.status", "0", "0"),
        measure("started", Day, AGREEMENTS, "a.started_on", true, "''", "0", "0"),
        measure("ended", Day, AGREEMENTS, "a.trial_ended_on", true, "''", "0", "0"),
        measure(
            "decision_days",
            Day,
            concat!("FROM agreements a WHERE ", decided!(), " AND a.decision_days IS NOT NULL"),
            "a.closed_at",
            false,
            "a.decision_days",
            "0",
            "0",
        ),
        measure(
            "contracts",
            Day,
            "FROM conversion_contracts c WHERE 1 = 1",
            "c.converted_on",
            true,
            "c.currency",
            "c.total_minor",
            "0",
        ),
        measure(
            "payments",
            Day,
            "FROM payments p JOIN conversion_contracts c ON c.agreement_id = p.agreement_id WHERE 1 = 1",
            "p.received_on",
            true,
            "c.currency",
            "p.amount_minor",
            "0",
        ),
        measure(
            "policies",
            Hour,
            "FROM insurance_policies i WHERE 1 = 1",
            "i.bound_at",
            false,
            "i.currency",
            "i.premium_minor",
            "i.subsidy_minor",
        ),
        measure("claims_filed", Hour, CLAIMS, "c.filed_at", false, "c.currency", "0", "0"),
        measure(
            "claims_approved",
            Hour,
            "FROM insurance_claims c WHERE c.status IN ('approved', 'paid')",
            "c.decided_at",
            false,
            "c.currency",
            "0",
            "0",
        ),
        measure(
            "claims_paid",
            Hour,
            "FROM insurance_claims c WHERE c.status = 'paid'",
            "c.paid_at",
            false,
            "c.currency",
            "c.payout_minor",
            "0",
        ),
    ]
};

/// `AND slot NOT IN (…)` for the slots read from the tables instead; empty without them.
fn outside(slots: &[(NaiveDateTime, NaiveDateTime)]) -> (String, Vec<Param>) {
    if slots.is_empty() {
        return (String::new(), Vec::new());
    }
    let marks = vec!["?"; slots.len()].join(", ");
    let params = slots.iter().map(|(a, _)| Param::Instant(*a)).collect();
    (format!(" AND slot NOT IN ({marks})"), params)
}

/// `CASE WHEN column < b0 THEN -1 WHEN column < b1 THEN 0 … ELSE 11 END`, with its 12
/// parameters taken from the first 12 bounds.
fn buckets(column: &str) -> String {
    let mut case = format!("CASE WHEN {column} < ? THEN -1");
    for i in 1..SERIES {
        case.push_str(&format!(" WHEN {column} < ? THEN {}", i - 1));
    }
    case.push_str(&format!(" ELSE {} END", SERIES - 1));
    case
}

/// One pass of measure `m` bucketed by its column. `bounds` are 13 values: the first day of
/// each series month, then the day after the report's month.
fn pass(conn: &mut DbConn, source: Source, m: &Measure, bounds: Bounds<'_>) -> QueryResult<Pass> {
    let params = bounds.params();
    let cut = match source {
        Source::Tables => None,
        Source::Tallies => Some(bounds.cut(m.grain)),
    };
    let mut rows: Vec<Bucketed> = Vec::new();
    if let Some(cut) = &cut {
        let slots = bounds.slots();
        let (not_cut, cut_params) = outside(cut);
        let sql = format!(
            "SELECT {case} AS bucket, k, CAST(SUM(n) AS BIGINT) AS n, \
             CAST(SUM(amount) AS BIGINT) AS amount, CAST(SUM(amount2) AS BIGINT) AS amount2 \
             FROM report_tallies WHERE measure = ? AND slot < ?{not_cut} GROUP BY 1, 2",
            case = buckets("slot"),
        );
        let mut p: Vec<Param> = slots[..SERIES].iter().map(|s| Param::Instant(*s)).collect();
        p.push(Param::Text(m.tally.to_string()));
        p.push(Param::Instant(slots[SERIES]));
        p.extend(cut_params);
        rows = raw_query(conn, &sql, &p)?;
    }
    // The tables: every row (the check), or those of each slot a bound cuts through, one
    // narrow range at a time so that each is a short walk of the column's index.
    let sql = |range: &str| {
        format!(
            "SELECT {case} AS bucket, CAST({key} AS TEXT) AS k, COUNT(*) AS n, \
             CAST(COALESCE(SUM({amount}), 0) AS BIGINT) AS amount, \
             CAST(COALESCE(SUM({amount2}), 0) AS BIGINT) AS amount2 \
             {from} AND {column} IS NOT NULL AND {column} < ?{range} GROUP BY 1, 2",
            case = buckets(m.column),
            key = m.key,
            amount = m.amount,
            amount2 = m.amount2,
            from = m.from,
            column = m.column,
        )
    };
    match cut {
        None => rows.extend(raw_query::<Bucketed>(conn, &sql(""), &params)?),
        Some(cut) => {
            let range = sql(&format!(" AND {c} >= ? AND {c} < ?", c = m.column));
            for (from, until) in cut {
                let mut p = params.clone();
                p.extend([Param::Instant(from), Param::Instant(until)]);
                rows.extend(raw_query::<Bucketed>(conn, &range, &p)?);
            }
        }
    }
    Ok(Pass::of(rows))
}

/// A month-only count grouped by technology and the SME's province.
#[derive(Debug, QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Text)]
    technology_id: String,
    #[diesel(sql_type = Text)]
    province: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A tally's count per key.
#[derive(Debug, QueryableByName)]
struct Keyed {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The report month's counts of one measure by technology and by the SME's province.
#[derive(Debug, Default)]
struct Groups {
    by_technology: BTreeMap<String, i64>,
    by_province: BTreeMap<String, i64>,
}

/// The month's counts of agreements whose `column` falls in the month and that meet
/// `condition`; `tally` names their tallies (`{tally}_by_technology`, `…_by_province`).
fn month_groups(
    conn: &mut DbConn,
    source: Source,
    tally: &str,
    column: &str,
    condition: &str,
    window: Bounds<'_>,
) -> QueryResult<Groups> {
    let mut g = Groups::default();
    let cut = match source {
        Source::Tables => None,
        Source::Tallies => Some(window.cut(Grain::Day)),
    };
    if let Some(cut) = &cut {
        let slots = window.slots();
        let (not_cut, cut_params) = outside(cut);
        let sql = format!(
            "SELECT k, CAST(SUM(n) AS BIGINT) AS n FROM report_tallies \
             WHERE measure = ? AND slot >= ? AND slot < ?{not_cut} GROUP BY k"
        );
        for (dimension, into) in [
            ("technology", &mut g.by_technology),
            ("province", &mut g.by_province),
        ] {
            let mut p = vec![
                Param::Text(format!("{tally}_by_{dimension}")),
                Param::Instant(slots[0]),
                Param::Instant(slots[1]),
            ];
            p.extend(cut_params.iter().cloned());
            for r in raw_query::<Keyed>(conn, &sql, &p)? {
                *into.entry(r.k).or_insert(0) += r.n;
            }
        }
    }
    let sql = |range: &str| {
        format!(
            "SELECT a.technology_id AS technology_id, o.province AS province, COUNT(*) AS n \
             FROM agreements a JOIN organisations o ON o.id = a.sme_id \
             WHERE {condition} AND a.{column} >= ? AND a.{column} < ?{range} \
             GROUP BY a.technology_id, o.province"
        )
    };
    let mut rows: Vec<Grouped> = Vec::new();
    match cut {
        None => rows = raw_query(conn, &sql(""), &window.params())?,
        Some(cut) => {
            let range = sql(&format!(" AND a.{column} >= ? AND a.{column} < ?"));
            for (from, until) in cut {
                let mut p = window.params();
                p.extend([Param::Instant(from), Param::Instant(until)]);
                rows.extend(raw_query::<Grouped>(conn, &range, &p)?);
            }
        }
    }
    for r in rows {
        *g.by_technology.entry(r.technology_id).or_insert(0) += r.n;
        *g.by_province.entry(r.province).or_insert(0) += r.n;
    }
    Ok(g)
}

/// Nearest-rank percentile `p` (in percent) of a histogram of whole days.
fn percentile(hist: &BTreeMap<i64, i64>, p: i64) -> Option<i64> {
    let n: i64 = hist.values().sum();
    if n == 0 {
        return None;
    }
    // Rank ceil(p/100 × n), at least 1.
    let rank = ((p * n) + 99) / 100;
    let rank = rank.max(1);
    let mut seen = 0;
    for (days, count) in hist {
        seen += count;
        if seen >= rank {
            return Some(*days);
        }
    }
    hist.keys().next_back().copied()
}

/// Converted ÷ decided, exact to four places (half away from zero).
pub fn rate(converted: i64, decided: i64) -> Option<String> {
    if decided == 0 {
        return None;
    }
    let r = (Decimal::from(converted) / Decimal::from(decided))
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    Some(format!("{r:.4}"))
}

fn decisions(converted: i64, hist: &BTreeMap<i64, i64>) -> Decisions {
    let decided = hist.values().sum();
    Decisions {
        decided,
        converted,
        conversion_rate: rate(converted, decided),
        median_days: percentile(hist, 50),
        p90_days: percentile(hist, 90),
    }
}

fn overflow() -> AppError {
    AppError::Internal(anyhow::anyhow!("a report amount overflows"))
}

/// The report of `month` in `tz`, as the database stands at `now`, from the tallies.
pub fn monthly(
    conn: &mut DbConn,
    tz: Tz,
    month: Month,
    now: DateTime<Utc>,
) -> Result<MonthlyReport, AppError> {
    // While a bulk load has the tallies paused they are not whole: read the tables.
    let source = if super::tallies::paused(conn)? {
        Source::Tables
    } else {
        Source::Tallies
    };
    monthly_from(conn, source, tz, month, now)
}

/// The report of `month` in `tz`, as the database stands at `now`, read from `source`.
pub fn monthly_from(
    conn: &mut DbConn,
    source: Source,
    tz: Tz,
    month: Month,
    now: DateTime<Utc>,
) -> Result<MonthlyReport, AppError> {
    let mut first = month;
    for _ in 1..SERIES {
        first = first.prev();
    }
    let mut starts = Vec::with_capacity(SERIES + 1);
    let mut m = first;
    for _ in 0..SERIES {
        starts.push(m.first_day());
        m = m.next();
    }
    starts.push(month.next().first_day());
    let instants: Vec<NaiveDateTime> = starts
        .iter()
        .map(|d| midnight(tz, *d).naive_utc())
        .collect();
    let dates = Bounds::Dates(&starts);
    let times = Bounds::Instants(&instants);

    let passes = MEASURES
        .iter()
        .map(|m| pass(conn, source, m, if m.dates { dates } else { times }))
        .collect::<QueryResult<Vec<Pass>>>()?;
    let passes: [Pass; 12] = passes
        .try_into()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a pass per measure")))?;
    let [requests, approvals, closings, started, ended, days, contracts, payments, policies, filed, approved, paid] =
        passes;

    // In trial after a month's last day: started by then and not ended by then.
    let started_b = started.buckets("");
    let ended_b = ended.buckets("");
    let running = |upto: usize| -> i64 { (0..=upto).map(|i| started_b[i].0 - ended_b[i].0).sum() };
    let active_now = running(SERIES);
    let active_before = running(SERIES - 1);
    let counts = Counts {
        requests: requests.counted_all(),
        approvals: approvals.counted_all(),
        rejections: closings.counted("rejected"),
        withdrawals: closings.counted("withdrawn"),
        trials_started: started.counted(""),
        trials_ended: ended.counted(""),
        active_at_month_end: Counted::new(active_now, active_before, active_now),
        conversions: closings.counted("converted"),
        declines: closings.counted("declined"),
        lapses: closings.counted("lapsed"),
        terminations: closings.counted("terminated"),
        claims_filed: filed.counted_all(),
        claims_approved: approved.counted_all(),
        claims_paid: paid.counted_all(),
    };

    // Decision days: histograms of the month, the month before and all of it.
    let mut hist = [BTreeMap::new(), BTreeMap::new(), BTreeMap::new()];
    for (k, b) in &days.groups {
        let d: i64 = k.trim().parse().map_err(|_| {
            AppError::Internal(anyhow::anyhow!("decision days {k:?} is not a number"))
        })?;
        let total: i64 = b.iter().map(|c| c.0).sum();
        for (h, n) in [(0, b[SERIES].0), (1, b[SERIES - 1].0), (2, total)] {
            if n > 0 {
                *hist[h].entry(d).or_insert(0) += n;
            }
        }
    }
    let conv = closings.counted("converted");
    let decisions = DecisionWindows {
        month: decisions(conv.month, &hist[0]),
        previous: decisions(conv.previous, &hist[1]),
        cumulative: decisions(conv.cumulative, &hist[2]),
    };

    // Money, per measure and currency.
    let mut amounts = Vec::new();
    let mut add_money = |measure: &str, p: &Pass, second: bool| -> Result<(), AppError> {
        for (currency, b) in &p.groups {
            let pick = |c: &(i64, i64, i64)| if second { c.2 } else { c.1 };
            let cumulative = b
                .iter()
                .map(pick)
                .try_fold(0i64, i64::checked_add)
                .ok_or_else(overflow)?;
            let (month, previous) = (pick(&b[SERIES]), pick(&b[SERIES - 1]));
            if cumulative == 0 && month == 0 && previous == 0 {
                continue;
            }
            amounts.push(Amount {
                measure: measure.into(),
                currency: currency.clone(),
                month_minor: month,
                previous_minor: previous,
                change_minor: month.checked_sub(previous).ok_or_else(overflow)?,
                cumulative_minor: cumulative,
            });
        }
        Ok(())
    };
    add_money("conversion_value", &contracts, false)?;
    add_money("payments_received", &payments, false)?;
    add_money("premiums_written", &policies, false)?;
    add_money("subsidy", &policies, true)?;
    add_money("claims_paid", &paid, false)?;

    // The month's breakdowns, from counts per technology and per province.
    let month_times = [instants[SERIES - 1], instants[SERIES]];
    let month_dates = [month.first_day(), month.next().first_day()];
    let (in_times, in_dates) = (Bounds::Instants(&month_times), Bounds::Dates(&month_dates));
    let month_groups = [
        month_groups(conn, source, "requests", "created_at", "1 = 1", in_times)?,
        month_groups(conn, source, "started", "started_on", "1 = 1", in_dates)?,
        month_groups(conn, source, "converted", "closed_at", CONVERTED, in_times)?,
        month_groups(conn, source, "decided", "closed_at", DECIDED, in_times)?,
    ];
    let techs: HashMap<String, (String, String, String, String)> = technologies::table
        .select((
            technologies::id,
            technologies::institute_id,
            technologies::field,
            technologies::title_vi,
            technologies::title_en,
        ))
        .load::<(String, String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, inst, field, vi, en)| (id, (inst, field, vi, en)))
        .collect();
    let institutes: HashMap<String, String> = organisations::table
        .filter(organisations::kind.eq("institute"))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    type Tally = BTreeMap<String, [i64; 4]>;
    let (mut by_inst, mut by_field, mut by_prov, mut by_tech) =
        (Tally::new(), Tally::new(), Tally::new(), Tally::new());
    for (i, g) in month_groups.iter().enumerate() {
        for (technology_id, n) in &g.by_technology {
            let (inst, field) = techs
                .get(technology_id)
                .map_or(("", ""), |(inst, field, _, _)| {
                    (inst.as_str(), field.as_str())
                });
            by_inst.entry(inst.to_string()).or_insert([0; 4])[i] += n;
            by_field.entry(field.to_string()).or_insert([0; 4])[i] += n;
            by_tech.entry(technology_id.clone()).or_insert([0; 4])[i] += n;
        }
        for (province, n) in &g.by_province {
            by_prov.entry(province.clone()).or_insert([0; 4])[i] += n;
        }
    }
    let groups = |t: Tally, name: &dyn Fn(&str) -> String| -> Vec<Group> {
        t.into_iter()
            .map(|(key, c)| Group {
                name: name(&key),
                key,
                requests: c[0],
                trials_started: c[1],
                conversions: c[2],
                decided: c[3],
            })
            .collect()
    };
    let by_institute = groups(by_inst, &|k| {
        institutes.get(k).cloned().unwrap_or_else(|| k.to_string())
    });
    let by_field = groups(by_field, &|k| k.to_string());
    let by_province = groups(by_prov, &|k| k.to_string());
    let top = |i: usize| -> Vec<Ranked> {
        let mut v: Vec<(&String, i64)> = by_tech
            .iter()
            .map(|(id, c)| (id, c[i]))
            .filter(|(_, n)| *n > 0)
            .collect();
        // Most first; ties by id, so the list is the same on every backend.
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.into_iter()
            .take(10)
            .enumerate()
            .map(|(rank, (id, count))| {
                let (inst, _, vi, en) = techs.get(id).cloned().unwrap_or_default();
                Ranked {
                    rank: rank as i64 + 1,
                    technology_id: id.clone(),
                    title_vi: vi,
                    title_en: en,
                    institute: institutes.get(&inst).cloned().unwrap_or(inst),
                    count,
                }
            })
            .collect()
    };
    let top_by_trials = top(1);
    let top_by_conversions = top(2);

    let trials_series = started.series_all();
    let conv_b = closings.buckets("converted");
    let mut by_month = Vec::with_capacity(SERIES);
    let mut m = first;
    for (i, trials) in trials_series.iter().enumerate() {
        by_month.push(MonthPoint {
            month: m.to_string(),
            trials_started: *trials,
            conversions: conv_b[i + 1].0,
        });
        m = m.next();
    }

    let ends_at = midnight(tz, month.next().first_day());
    Ok(MonthlyReport {
        month: month.to_string(),
        time_zone: tz.name().to_string(),
        first_day: month.first_day(),
        last_day: month.last_day(),
        starts_at: midnight(tz, month.first_day()),
        ends_at,
        provisional: now < ends_at,
        generated_at: now,
        counts,
        decisions,
        amounts,
        by_institute,
        by_field,
        by_province,
        top_by_trials,
        top_by_conversions,
        by_month,
        // Counted by `contracts` in the same snapshot (`app::reports::figures`).
        registration: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let h: BTreeMap<i64, i64> = [(1, 1), (2, 1), (3, 1), (4, 1)].into_iter().collect();
        assert_eq!(percentile(&h, 50), Some(2));
        assert_eq!(percentile(&h, 90), Some(4));
        let h: BTreeMap<i64, i64> = [(5, 9), (30, 1)].into_iter().collect();
        assert_eq!(percentile(&h, 90), Some(5));
        assert_eq!(percentile(&h, 91), Some(30));
        assert_eq!(percentile(&BTreeMap::new(), 50), None);
        let one: BTreeMap<i64, i64> = [(7, 1)].into_iter().collect();
        assert_eq!(
            (percentile(&one, 50), percentile(&one, 90)),
            (Some(7), Some(7))
        );
    }

    #[test]
    fn rates_are_exact_to_four_places() {
        assert_eq!(rate(2, 3).as_deref(), Some("0.6667"));
        assert_eq!(rate(1, 8).as_deref(), Some("0.1250"));
        assert_eq!(rate(0, 5).as_deref(), Some("0.0000"));
        assert_eq!(rate(5, 5).as_deref(), Some("1.0000"));
        assert_eq!(rate(0, 0), None);
    }

    #[test]
    fn a_bound_cuts_a_slot_only_off_its_edge() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        // Ho Chi Minh City's midnights are whole UTC hours: no hour is cut, but a UTC day is.
        let vn = [at("2026-10-31 17:00:00"), at("2026-11-30 17:00:00")];
        assert!(Grain::Hour.cut(&vn).is_empty());
        assert_eq!(
            Grain::Day.cut(&vn),
            [
                (at("2026-10-31 00:00:00"), at("2026-11-01 00:00:00")),
                (at("2026-11-30 00:00:00"), at("2026-12-01 00:00:00")),
            ]
        );
        // Kolkata's (+05:30) cut an hour each; UTC's cut nothing.
        let kolkata = [at("2026-10-31 18:30:00"), at("2026-11-30 18:30:00")];
        assert_eq!(
            Grain::Hour.cut(&kolkata),
            [
                (at("2026-10-31 18:00:00"), at("2026-10-31 19:00:00")),
                (at("2026-11-30 18:00:00"), at("2026-11-30 19:00:00")),
            ]
        );
        let utc = [at("2026-11-01 00:00:00"), at("2026-12-01 00:00:00")];
        assert!(Grain::Day.cut(&utc).is_empty() && Grain::Hour.cut(&utc).is_empty());
        // Calendar days are their own slots.
        let days = [NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()];
        assert!(Bounds::Dates(&days).cut(Grain::Day).is_empty());
    }

    #[test]
    fn local_midnight_in_utc() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(midnight(tz, d).to_rfc3339(), "2026-10-31T17:00:00+00:00");
        // Havana skips midnight when DST starts (2026-03-08): the day starts at 01:00.
        let havana: Tz = "America/Havana".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(
            midnight(havana, d).to_rfc3339(),
            "2026-03-08T05:00:00+00:00"
        );
    }
}

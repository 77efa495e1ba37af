//! Drawing agreements' histories: the world the draws read (SMEs, listed technologies,
//! products, request volume by year, month and hour), how each agreement's path ends, and each
//! agreement drawn step by step and cut at now, so that where it stands today is consistent
//! with the lifecycle and leaves the scheduler nothing due but the trials asked to be due.
//! Nothing here writes.

use super::catalogue::{DECLINES, MESSAGES, REJECTIONS, TERMINATIONS, WITHDRAWALS};
use super::random::pick_weighted;
use super::*;

/// Where an agreement stands today (its status, with the trials made due apart), or, for
/// drawing, the path it takes: how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
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
pub(super) const PATHS: [(Fate, u32); 6] = [
    (Fate::Rejected, 122),
    (Fate::Withdrawn, 49),
    (Fate::Converted, 488),
    (Fate::Declined, 244),
    (Fate::Lapsed, 73),
    (Fate::Terminated, 24),
];

impl Fate {
    pub(super) fn code(self) -> u8 {
        self as u8
    }

    pub(super) fn from_code(c: u8) -> Fate {
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

    pub(super) fn status(self) -> Status {
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
pub(super) const HOURS: [f64; 24] = [
    0.6, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 3.0, 8.0, 10.0, 10.0, 9.0, 5.0, 7.0, 10.0, 10.0, 9.0, 7.0,
    4.0, 3.0, 2.5, 2.0, 1.5, 1.0,
];

/// Relative volume by month (Tết in late January and February).
const SEASON: [f64; 12] = [
    0.85, 0.6, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95,
];

/// Yearly growth of the request volume.
pub(super) const GROWTH_PER_YEAR: f64 = 1.7;

/// An SME that can request trials.
pub(super) struct SmeRef {
    pub(super) org_id: String,
    pub(super) user_id: String,
    pub(super) province: String,
    pub(super) from: NaiveDateTime,
}

/// A listed technology with its terms in force.
pub(super) struct TechRef {
    pub(super) id: String,
    pub(super) institute_id: String,
    pub(super) institute_user: String,
    pub(super) terms_id: String,
    pub(super) terms_version: i32,
    pub(super) body: String,
    pub(super) terms: Terms,
    pub(super) from: NaiveDateTime,
}

/// An insurance product version a party can choose.
pub(super) struct ProductRef {
    pub(super) row: crate::insurance::products::ProductRow,
    /// A round unit of its currency for coverages and claims.
    pub(super) unit: i64,
}

/// Everything the draws read.
pub(super) struct World {
    pub(super) tz: chrono_tz::Tz,
    pub(super) now: NaiveDateTime,
    pub(super) today: NaiveDate,
    pub(super) start: NaiveDateTime,
    pub(super) years: u32,
    pub(super) growth: f64,
    pub(super) smes: Vec<SmeRef>,
    pub(super) sme_cum: Vec<f64>,
    /// SMEs of this run (available from the start of the history).
    pub(super) fresh_smes: std::ops::Range<usize>,
    pub(super) techs: Vec<TechRef>,
    pub(super) tech_cum: Vec<f64>,
    pub(super) fresh_techs: std::ops::Range<usize>,
    pub(super) products: Vec<ProductRef>,
    pub(super) insurers: Vec<String>,
    pub(super) hours_cum: Vec<f64>,
}

/// A choice of insurance product.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChoicePlan {
    pub(super) product: usize,
    pub(super) coverage: i64,
    pub(super) chosen_at: NaiveDateTime,
    pub(super) by_sme: bool,
}

/// One agreement as it stands now, every step dated.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) fate: Fate,
    pub(super) sme: usize,
    pub(super) tech: usize,
    pub(super) created: NaiveDateTime,
    pub(super) requested_start: NaiveDate,
    pub(super) approved_at: Option<NaiveDateTime>,
    /// Trial start, end and decision deadline as they stand now.
    pub(super) dates: Option<(NaiveDate, NaiveDate, NaiveDate)>,
    pub(super) extended: bool,
    pub(super) sme_signed_at: Option<NaiveDateTime>,
    pub(super) institute_signed_at: Option<NaiveDateTime>,
    /// Both signatures: the policy is bound then.
    pub(super) fully_signed_at: Option<NaiveDateTime>,
    pub(super) started_at: Option<NaiveDateTime>,
    pub(super) started_on: Option<NaiveDate>,
    pub(super) trial_ended_on: Option<NaiveDate>,
    pub(super) closed_at: Option<NaiveDateTime>,
    pub(super) decision_days: Option<i32>,
    pub(super) closed_reason: Option<&'static str>,
    pub(super) insurer: Option<usize>,
    pub(super) choice: Option<ChoicePlan>,
    pub(super) version: i64,
    pub(super) updated_at: NaiveDateTime,
    pub(super) place: usize,
    pub(super) message: usize,
    /// Seed of the draws made while writing (payments, claims, tax).
    pub(super) extra: u64,
}

impl World {
    pub(super) fn day(&self, t: NaiveDateTime) -> NaiveDate {
        Utc.from_utc_datetime(&t)
            .with_timezone(&self.tz)
            .date_naive()
    }

    pub(super) fn midnight(&self, day: NaiveDate) -> NaiveDateTime {
        crate::reports::figures::midnight(self.tz, day).naive_utc()
    }

    /// A moment of `day` in office hours mostly (any hour sometimes).
    pub(super) fn office(&self, day: NaiveDate, rng: &mut StdRng) -> NaiveDateTime {
        let hour = pick_weighted(&self.hours_cum, rng) as i64;
        let secs = hour * 3600 + rng.gen_range(0..3600);
        self.midnight(day) + Duration::seconds(secs)
    }

    /// A moment `days` days after `t` (local days), later than `t`.
    pub(super) fn after(&self, t: NaiveDateTime, days: i64, rng: &mut StdRng) -> NaiveDateTime {
        let at = self.office(self.day(t) + Duration::days(days), rng);
        if at > t {
            at
        } else {
            t + Duration::minutes(rng.gen_range(5..240))
        }
    }

    /// The scheduler's tick on `day`: a few seconds past local midnight.
    pub(super) fn tick(&self, day: NaiveDate, rng: &mut StdRng) -> NaiveDateTime {
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
    pub(super) fn plan(&self, seed: u64, path: Fate) -> Plan {
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

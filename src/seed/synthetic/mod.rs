//! `synthetic` adds a programme of several years to a database that holds the demo data: more
//! institutes, SMEs, insurers and listed technologies, then N agreements whose every date is
//! consistent with the lifecycle and with today, as if the platform and its scheduler had run
//! all along. Agreements are drawn first (when each was requested and where it stands today),
//! sorted by request time, and written in batches: multi-row inserts in one write transaction
//! per batch, with ONE `agreement.imported` audit event per batch naming the agreements by the
//! SHA-256 of their ids. Money goes through the settlement code: conversion contracts through
//! `contracts::create`, a share of the payments through `app::contracts::record_payment_in`
//! (the rest allocated the same way in bulk), premiums through `settlement::insurance`.

use super::*;

mod batch;
mod catalogue;
mod converting;
mod history;
mod insuring;
mod paying;
mod random;
mod reminding;

use batch::{write_batch, Batch};
pub use catalogue::sample_technology;
use catalogue::{add_catalogue, demo_bases};
use history::{Fate, Plan, ProductRef, SmeRef, TechRef, World, GROWTH_PER_YEAR, HOURS, PATHS};
use insuring::PolicyPlan;
use random::{cumulative, pick_weighted, splitmix, uuid_at};

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
    // The report's tallies are counted once from the tables at the end, not row by row: the
    // triggers' statement journals make a bulk load of years of history many times slower.
    state
        .db
        .write(|conn| -> Result<(), AppError> {
            Ok(crate::reports::tallies::pause(conn, now_utc)?)
        })
        .map_err(anyhow_of)?;
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
        crate::app::contracts::close_royalty_years(&state.db, now_utc).map_err(anyhow_of)?;
    if closed > 0 {
        tracing::warn!(
            closed,
            "seed-synthetic left royalty contract years to close; closed them"
        );
    }
    state
        .db
        .write(|conn| -> Result<(), AppError> { Ok(crate::reports::tallies::rebuild(conn)?) })
        .map_err(anyhow_of)?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

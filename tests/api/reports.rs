//! Monthly reports: figures against a brute-force count over random trials, month
//! boundaries in the time zone, the formats read back by real readers, and access.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use calamine::Reader;

use crate::helpers::*;
use crate::pdf_reader::Pdf;
use usefirst::db::schema::{
    agreements, audit_events, conversion_contracts, organisations, payments, technologies,
};

const TZ: &str = "Asia/Ho_Chi_Minh";

fn tz() -> Tz {
    TZ.parse().unwrap()
}

fn month_of_instant(t: NaiveDateTime) -> String {
    Utc.from_utc_datetime(&t)
        .with_timezone(&tz())
        .format("%Y-%m")
        .to_string()
}

fn local_day(t: NaiveDateTime) -> NaiveDate {
    Utc.from_utc_datetime(&t).with_timezone(&tz()).date_naive()
}

fn month_of_day(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// What happened to one agreement, read from the audit chain (not from the columns the
/// report reads).
#[derive(Debug, Default, Clone)]
struct Story {
    institute: String,
    technology: String,
    province: String,
    requested: Option<NaiveDateTime>,
    approved: Option<NaiveDateTime>,
    closed: Option<(NaiveDateTime, String)>,
    started: Option<NaiveDate>,
    ended: Option<NaiveDate>,
    decision_days: Option<i64>,
}

fn stories(app: &TestApp) -> Vec<Story> {
    app.db(|conn| {
        let rows: Vec<(String, String, String, NaiveDateTime, String)> = agreements::table
            .inner_join(organisations::table.on(organisations::id.eq(agreements::sme_id)))
            .select((
                agreements::id,
                agreements::institute_id,
                agreements::technology_id,
                agreements::created_at,
                organisations::province,
            ))
            .load(conn)
            .unwrap();
        let events: Vec<(String, String, NaiveDateTime, String)> = audit_events::table
            .filter(audit_events::entity_type.eq("agreement"))
            .order(audit_events::seq.asc())
            .select((
                audit_events::entity_id,
                audit_events::action,
                audit_events::at,
                audit_events::data,
            ))
            .load(conn)
            .unwrap();
        let mut by_id: HashMap<String, Story> = rows
            .into_iter()
            .map(|(id, inst, tech, created, province)| {
                (
                    id,
                    Story {
                        institute: inst,
                        technology: tech,
                        province,
                        requested: Some(created),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let finals = [
            "rejected",
            "withdrawn",
            "converted",
            "declined",
            "lapsed",
            "terminated",
        ];
        for (id, action, at, data) in events {
            let Some(s) = by_id.get_mut(&id) else {
                continue;
            };
            let data: Value = serde_json::from_str(&data).unwrap();
            let before = data["before"]["status"].as_str().unwrap_or("");
            let after = data["after"]["status"].as_str().unwrap_or("");
            let date = |k: &str| {
                data["after"][k]
                    .as_str()
                    .map(|d| d.parse::<NaiveDate>().unwrap())
            };
            if action == "agreement.approve" && s.approved.is_none() {
                s.approved = Some(at);
            }
            if action == "agreement.start" {
                s.started = date("trial_start");
            }
            if before == "active" && after != "active" {
                let end = date("trial_end").unwrap();
                s.ended = Some(if action == "agreement.end_trial" {
                    end
                } else {
                    end.min(local_day(at))
                });
            }
            if finals.contains(&after) && !finals.contains(&before) {
                s.closed = Some((at, after.to_string()));
                if ["converted", "declined", "lapsed"].contains(&after) {
                    let end = date("trial_end").unwrap();
                    s.decision_days = Some((local_day(at) - end).num_days().max(0));
                }
            }
        }
        by_id.into_values().collect()
    })
}

fn counted(month: i64, previous: i64, cumulative: i64) -> Value {
    json!({"month": month, "previous": previous, "change": month - previous, "cumulative": cumulative})
}

/// Counts of `pick` (the month an event is in, if any) for `month`, the month before and up
/// to `month`.
fn count_by<T>(items: &[T], month: &str, prev: &str, pick: impl Fn(&T) -> Option<String>) -> Value {
    let months: Vec<String> = items.iter().filter_map(&pick).collect();
    let n = |m: &str| months.iter().filter(|x| *x == m).count() as i64;
    counted(
        n(month),
        n(prev),
        months.iter().filter(|x| x.as_str() <= month).count() as i64,
    )
}

fn nearest_rank(sorted: &[i64], p: usize) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    json!(sorted[rank - 1])
}

fn decisions(st: &[Story], within: impl Fn(&str) -> bool) -> Value {
    let mut days = Vec::new();
    let mut converted = 0;
    for s in st {
        if let (Some((at, status)), Some(d)) = (&s.closed, s.decision_days) {
            if within(&month_of_instant(*at)) {
                days.push(d);
                converted += i64::from(status == "converted");
            }
        }
    }
    days.sort();
    let decided = days.len() as i64;
    let rate = (decided > 0).then(|| {
        let r = rust_decimal::Decimal::from(converted) / rust_decimal::Decimal::from(decided);
        format!(
            "{:.4}",
            r.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        )
    });
    json!({"decided": decided, "converted": converted, "conversion_rate": rate,
           "median_days": nearest_rank(&days, 50), "p90_days": nearest_rank(&days, 90)})
}

fn prev_month(m: &str) -> String {
    let d = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").unwrap();
    month_of_day(d - Duration::days(1))
}

/// The report the brute force expects for `month` (the parts that do not need names).
fn expected(app: &TestApp, st: &[Story], month: &str) -> Value {
    let prev = prev_month(month);
    let status_count = |status: &'static str| {
        count_by(st, month, &prev, |s| {
            s.closed
                .as_ref()
                .filter(|c| c.1 == status)
                .map(|c| month_of_instant(c.0))
        })
    };
    let last_day = {
        let next = NaiveDate::parse_from_str(&format!("{month}-28"), "%Y-%m-%d").unwrap()
            + Duration::days(4);
        NaiveDate::parse_from_str(&format!("{}-01", month_of_day(next)), "%Y-%m-%d").unwrap()
            - Duration::days(1)
    };
    let active_after = |day: NaiveDate| {
        st.iter()
            .filter(|s| s.started.is_some_and(|d| d <= day) && !s.ended.is_some_and(|e| e <= day))
            .count() as i64
    };
    let prev_last =
        NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").unwrap() - Duration::days(1);
    let (now_active, before_active) = (active_after(last_day), active_after(prev_last));

    // Claims, policies, contracts and payments, straight from their tables.
    type Claim = (
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        String,
        String,
        Option<i64>,
    );
    let (claims, policies, contracts, pays): (
        Vec<Claim>,
        Vec<(NaiveDateTime, String, i64, i64)>,
        Vec<(NaiveDate, String, i64)>,
        Vec<(NaiveDate, String, i64)>,
    ) = app.db(|conn| {
        use usefirst::db::schema::{insurance_claims as c, insurance_policies as p};
        (
            c::table
                .select((
                    c::filed_at,
                    c::decided_at,
                    c::paid_at,
                    c::status,
                    c::currency,
                    c::payout_minor,
                ))
                .load(conn)
                .unwrap(),
            p::table
                .select((p::bound_at, p::currency, p::premium_minor, p::subsidy_minor))
                .load(conn)
                .unwrap(),
            conversion_contracts::table
                .select((
                    conversion_contracts::converted_on,
                    conversion_contracts::currency,
                    conversion_contracts::total_minor,
                ))
                .load(conn)
                .unwrap(),
            {
                let currency: HashMap<String, String> = conversion_contracts::table
                    .select((
                        conversion_contracts::agreement_id,
                        conversion_contracts::currency,
                    ))
                    .load::<(String, String)>(conn)
                    .unwrap()
                    .into_iter()
                    .collect();
                payments::table
                    .select((
                        payments::received_on,
                        payments::agreement_id,
                        payments::amount_minor,
                    ))
                    .load::<(NaiveDate, String, i64)>(conn)
                    .unwrap()
                    .into_iter()
                    .map(|(d, a, v)| (d, currency[&a].clone(), v))
                    .collect()
            },
        )
    });
    let counts = json!({
        "requests": count_by(st, month, &prev, |s| s.requested.map(month_of_instant)),
        "approvals": count_by(st, month, &prev, |s| s.approved.map(month_of_instant)),
        "rejections": status_count("rejected"),
        "withdrawals": status_count("withdrawn"),
        "trials_started": count_by(st, month, &prev, |s| s.started.map(month_of_day)),
        "trials_ended": count_by(st, month, &prev, |s| s.ended.map(month_of_day)),
        "active_at_month_end": counted(now_active, before_active, now_active),
        "conversions": status_count("converted"),
        "declines": status_count("declined"),
        "lapses": status_count("lapsed"),
        "terminations": status_count("terminated"),
        "claims_filed": count_by(&claims, month, &prev, |c| Some(month_of_instant(c.0))),
        "claims_approved": count_by(&claims, month, &prev, |c| c.1.filter(|_| c.3 == "approved" || c.3 == "paid").map(month_of_instant)),
        "claims_paid": count_by(&claims, month, &prev, |c| c.2.filter(|_| c.3 == "paid").map(month_of_instant)),
    });
    let decisions = json!({
        "month": decisions(st, |m| m == month),
        "previous": decisions(st, |m| m == prev),
        "cumulative": decisions(st, |m| m <= month),
    });
    // Amounts: (measure, currency) → [month, previous, cumulative].
    let mut amounts: BTreeMap<(usize, String), [i64; 3]> = BTreeMap::new();
    let mut add = |measure: usize, m: String, currency: &str, v: i64| {
        let e = amounts
            .entry((measure, currency.to_string()))
            .or_insert([0; 3]);
        if m == month {
            e[0] += v;
        }
        if m == prev {
            e[1] += v;
        }
        if m.as_str() <= month {
            e[2] += v;
        }
    };
    for (d, cur, v) in &contracts {
        add(0, month_of_day(*d), cur, *v);
    }
    for (d, cur, v) in &pays {
        add(1, month_of_day(*d), cur, *v);
    }
    for (t, cur, premium, subsidy) in &policies {
        add(2, month_of_instant(*t), cur, *premium);
        add(3, month_of_instant(*t), cur, *subsidy);
    }
    for c in &claims {
        if let (Some(paid), "paid") = (c.2, c.3.as_str()) {
            add(4, month_of_instant(paid), &c.4, c.5.unwrap());
        }
    }
    let names = [
        "conversion_value",
        "payments_received",
        "premiums_written",
        "subsidy",
        "claims_paid",
    ];
    let amounts: Vec<Value> = amounts
        .into_iter()
        .filter(|(_, v)| v.iter().any(|x| *x != 0))
        .map(|((m, cur), v)| {
            json!({"measure": names[m], "currency": cur, "month_minor": v[0], "previous_minor": v[1],
                   "change_minor": v[0] - v[1], "cumulative_minor": v[2]})
        })
        .collect();
    // The series: twelve months to `month`.
    let mut series = vec![month.to_string()];
    while series.len() < 12 {
        let p = prev_month(&series[0]);
        series.insert(0, p);
    }
    let by_month: Vec<Value> = series
        .iter()
        .map(|m| {
            json!({"month": m,
                "trials_started": st.iter().filter(|s| s.started.map(month_of_day).as_ref() == Some(m)).count(),
                "conversions": st.iter().filter(|s| s.closed.as_ref().is_some_and(|c| c.1 == "converted" && month_of_instant(c.0) == *m)).count()})
        })
        .collect();
    // Breakdowns of the month: (key) → [requests, started, converted, decided].
    let group = |key: &dyn Fn(&Story) -> String| {
        let mut g: BTreeMap<String, [i64; 4]> = BTreeMap::new();
        for s in st {
            let marks = [
                s.requested.map(month_of_instant).as_deref() == Some(month),
                s.started.map(month_of_day).as_deref() == Some(month),
                s.closed
                    .as_ref()
                    .is_some_and(|c| c.1 == "converted" && month_of_instant(c.0) == month),
                s.closed
                    .as_ref()
                    .is_some_and(|c| s.decision_days.is_some() && month_of_instant(c.0) == month),
            ];
            if marks.iter().any(|m| *m) {
                let e = g.entry(key(s)).or_insert([0; 4]);
                for (i, m) in marks.iter().enumerate() {
                    e[i] += i64::from(*m);
                }
            }
        }
        g.into_iter()
            .map(|(k, c)| json!({"key": k, "requests": c[0], "trials_started": c[1], "conversions": c[2], "decided": c[3]}))
            .collect::<Vec<_>>()
    };
    let fields: HashMap<String, String> = app.db(|conn| {
        technologies::table
            .select((technologies::id, technologies::field))
            .load::<(String, String)>(conn)
            .unwrap()
            .into_iter()
            .collect()
    });
    let top = |i: usize| {
        let mut per: BTreeMap<String, i64> = BTreeMap::new();
        for s in st {
            let hit = match i {
                0 => s.started.map(month_of_day).as_deref() == Some(month),
                _ => s
                    .closed
                    .as_ref()
                    .is_some_and(|c| c.1 == "converted" && month_of_instant(c.0) == month),
            };
            if hit {
                *per.entry(s.technology.clone()).or_insert(0) += 1;
            }
        }
        let mut v: Vec<(String, i64)> = per.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .take(10)
            .map(|(id, n)| json!({"technology_id": id, "count": n}))
            .collect::<Vec<_>>()
    };
    json!({
        "counts": counts, "decisions": decisions, "amounts": amounts, "by_month": by_month,
        "by_institute": group(&|s| s.institute.clone()),
        "by_field": group(&|s| fields[&s.technology].clone()),
        "by_province": group(&|s| s.province.clone()),
        "top_by_trials": top(0), "top_by_conversions": top(1),
    })
}

/// `actual` with only the keys `like` has, recursively (names and ranks are checked elsewhere).
fn shaped(actual: &Value, like: &Value) -> Value {
    match (actual, like) {
        (Value::Object(a), Value::Object(l)) => Value::Object(
            l.keys()
                .map(|k| (k.clone(), shaped(&a[k], &l[k])))
                .collect(),
        ),
        (Value::Array(a), Value::Array(l)) if !l.is_empty() => {
            Value::Array(a.iter().map(|x| shaped(x, &l[0])).collect())
        }
        _ => actual.clone(),
    }
}

/// Random trials taken through the API over eight months, with the clock landing at every
/// hour of the day; then every month's report equals the brute-force count.
#[actix_web::test]
async fn figures_equal_a_brute_force_count_over_random_trials() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261201);
    // Three technologies of two institutes in three fields, priced in VND and CNY.
    let lump = |currency: &str, amount: &str| -> usefirst::settlement::terms::Terms {
        serde_json::from_value(json!({
            "trial_days": 90, "decision_days": 30, "currency": currency,
            "price": {"model": "lump_sum", "amount": amount, "due_days": 30}, "insurance_required": false
        }))
        .unwrap()
    };
    let tech_c = app.add_technology(
        &w.inst_b,
        "C",
        "manufacturing",
        "listed",
        lump("CNY", "120000.00"),
    );
    let tech_d = app.add_technology(
        &w.inst_a,
        "D",
        "environment",
        "listed",
        lump("VND", "90000000"),
    );
    let techs = [
        (&w.tech_a, &w.inst_a, "VND"),
        (&tech_c, &w.inst_b, "CNY"),
        (&tech_d, &w.inst_a, "VND"),
    ];
    let mut ids: Vec<(String, usize)> = Vec::new();
    let smes = [&w.sme_a, &w.sme_b];
    // About fifteen months: more than the report's twelve-month series.
    for step in 0..480 {
        app.clock
            .advance(Duration::minutes(rng.gen_range(6 * 60..40 * 60)));
        app.advance();
        let today = app.clock.now().with_timezone(&tz()).date_naive();
        if step < 380 && rng.gen_bool(0.5) {
            let sme = smes[rng.gen_range(0..2)];
            let t = rng.gen_range(0..techs.len());
            let a = app
                .request(
                    sme,
                    techs[t].0,
                    &(today + Duration::days(rng.gen_range(2..12))).to_string(),
                )
                .await;
            ids.push((id_of(&a), t));
        }
        if ids.is_empty() {
            continue;
        }
        for _ in 0..2 {
            let (id, t) = ids[rng.gen_range(0..ids.len())].clone();
            let (inst, currency) = (techs[t].1, techs[t].2);
            let (_, a) = app
                .get(&w.admin.token, &format!("/api/v1/agreements/{id}"))
                .await;
            let sme = if a["sme_id"] == w.sme_a.org.as_str() {
                &w.sme_a
            } else {
                &w.sme_b
            };
            let r: f64 = rng.gen();
            let (token, action, body) = match a["status"].as_str().unwrap() {
                "requested" if r < 0.7 => (
                    &inst.token,
                    "approve",
                    json!({"trial_start": (today + Duration::days(2)).to_string()}),
                ),
                "requested" if r < 0.85 => {
                    (&inst.token, "reject", json!({"reason": "Không phù hợp"}))
                }
                "requested" => (&sme.token, "withdraw", json!({"reason": "Đổi kế hoạch"})),
                "approved" if r < 0.9 => (
                    if a["sme_signed_at"].is_null() {
                        &sme.token
                    } else {
                        &inst.token
                    },
                    "sign",
                    json!({}),
                ),
                "approved" => (&sme.token, "withdraw", json!({"reason": "Đổi kế hoạch"})),
                "active" if r < 0.08 => (&sme.token, "convert", json!({})),
                "active" if r < 0.12 => (&inst.token, "terminate", json!({"reason": "Vi phạm"})),
                "active" if r < 0.16 => (&sme.token, "decline", json!({"reason": "Không phù hợp"})),
                "active" if r < 0.2 && a["extended"] == false => {
                    (&inst.token, "extend", json!({"days": 20}))
                }
                "awaiting_decision" if r < 0.55 => (&sme.token, "convert", json!({})),
                "awaiting_decision" if r < 0.8 => {
                    (&sme.token, "decline", json!({"reason": "Không hiệu quả"}))
                }
                _ => continue,
            };
            let (s, after) = app.act(token, &id, action, version_of(&a), body).await;
            assert_eq!(s, 200, "{action}: {after}");
            if action == "convert" && rng.gen_bool(0.7) {
                let amount = match currency {
                    "CNY" => format!("{}.00", rng.gen_range(1..50) * 100),
                    _ => format!("{}", rng.gen_range(1..50) * 1_000_000),
                };
                let (s, p) = app
                    .post(&inst.token, &format!("/api/v1/agreements/{id}/payments"), json!({
                        "amount": amount, "received_on": today.to_string(), "reference": format!("CK-{step}")
                    }))
                    .await;
                assert_eq!(s, 201, "{p}");
            }
        }
    }
    // An insured trial whose claim is paid, for the insurance figures.
    let insured = app
        .signed_insured(
            &w,
            &w.sme_b,
            &(app.clock.now().with_timezone(&tz()).date_naive() + Duration::days(1)).to_string(),
        )
        .await;
    app.pass_days(3);
    let (s, claim) = app
        .post(&w.sme_b.token, "/api/v1/claims", json!({
            "agreement_id": id_of(&insured), "risk": "implementation_failure", "amount": "1200.00", "reason": "Thiết bị hỏng", "evidence": "Biên bản"
        }))
        .await;
    assert_eq!(s, 201, "{claim}");
    let claim_id = id_of(&claim);
    for (action, body) in [
        ("approve", json!({"reason": "Đã giám định"})),
        ("pay", json!({"reference": "BH-01"})),
    ] {
        let (_, c) = app
            .get(&w.insurer_a.token, &format!("/api/v1/claims/{claim_id}"))
            .await;
        let (s, c) = app
            .send_matching(
                reqwest::Method::POST,
                &w.insurer_a.token,
                &format!("/api/v1/claims/{claim_id}/{action}"),
                version_of(&c),
                body,
            )
            .await;
        assert_eq!(s, 200, "{action}: {c}");
    }

    let st = stories(&app);
    let finished = st.iter().filter(|s| s.closed.is_some()).count();
    assert!(
        finished > 30 && st.iter().any(|s| s.started.is_some()),
        "the random walk must reach many states"
    );
    let first = month_of_instant(t0().naive_utc());
    let last = month_of_instant(app.clock.now().naive_utc());
    let mut month = first.clone();
    let mut checked = 0;
    while month <= last {
        let (s, report) = app
            .get(
                &w.auditor.token,
                &format!("/api/v1/reports/monthly/{month}"),
            )
            .await;
        assert_eq!(s, 200, "{report}");
        let want = expected(&app, &st, &month);
        assert_eq!(shaped(&report, &want), want, "{month}");
        assert_eq!(report["provisional"], month == last, "{month}");
        // The API reads the roll-ups; the tables, read the slow way, say the same.
        let check = usefirst::app::reports::check_tallies(
            &app.state,
            usefirst::reports::model::Month::parse(&month).unwrap(),
        )
        .unwrap();
        assert_eq!(check.differences(), Vec::<String>::new(), "{month}");
        checked += 1;
        let next = NaiveDate::parse_from_str(&format!("{month}-28"), "%Y-%m-%d").unwrap()
            + Duration::days(4);
        month = month_of_day(next);
    }
    assert!(checked >= 14, "{checked} months");
    // What the walk reached, so the comparison above covers each kind of figure.
    let (_, last_report) = app
        .get(&w.admin.token, &format!("/api/v1/reports/monthly/{last}"))
        .await;
    let c = &last_report["counts"];
    for k in [
        "approvals",
        "rejections",
        "withdrawals",
        "trials_started",
        "trials_ended",
        "conversions",
        "declines",
        "lapses",
        "terminations",
    ] {
        assert!(c[k]["cumulative"].as_i64().unwrap() > 0, "no {k}: {c}");
    }
    let currencies: Vec<&str> = last_report["amounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["currency"].as_str().unwrap())
        .collect();
    assert!(
        currencies.contains(&"VND") && currencies.contains(&"CNY"),
        "{currencies:?}"
    );
}

/// An event at 23:30 local time on a month's last day is that month's, whatever its UTC
/// date; at 00:30 on the 1st it is the next month's.
#[actix_web::test]
async fn the_month_is_the_local_month() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    // 2026-03-31 23:30 in Ho Chi Minh City is 16:30 UTC; 00:00 on 1 April is 17:00 UTC.
    let at = |h, m| Utc.with_ymd_and_hms(2026, 3, 31, h, m, 0).unwrap();
    app.clock.set(at(16, 30));
    let a = app.request(&w.sme_a, &w.tech_a, "2026-04-10").await;
    let (s, _) = app
        .act(
            &w.inst_a.token,
            &id_of(&a),
            "approve",
            version_of(&a),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let c = app.request(&w.sme_b, &w.tech_a, "2026-04-11").await;
    // Withdrawn at 23:59 local: March's.
    app.clock.set(at(16, 59));
    let (s, _) = app
        .act(
            &w.sme_b.token,
            &id_of(&c),
            "withdraw",
            version_of(&c),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 200);
    // Requested at 00:00 and withdrawn at 00:30 on 1 April (UTC still 31 March): April's.
    app.clock.set(at(17, 0));
    let b = app.request(&w.sme_b, &w.tech_a, "2026-04-10").await;
    app.clock.set(at(17, 30));
    let (s, _) = app
        .act(
            &w.sme_b.token,
            &id_of(&b),
            "withdraw",
            version_of(&b),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, march) = app
        .get(&w.admin.token, "/api/v1/reports/monthly/2026-03")
        .await;
    assert_eq!(march["counts"]["requests"], counted(2, 0, 2), "{march}");
    assert_eq!(march["counts"]["approvals"], counted(1, 0, 1));
    assert_eq!(march["counts"]["withdrawals"], counted(1, 0, 1));
    assert_eq!(march["starts_at"], "2026-02-28T17:00:00Z");
    assert_eq!(march["ends_at"], "2026-03-31T17:00:00Z");
    assert_eq!(march["provisional"], false);
    let (_, april) = app
        .get(&w.admin.token, "/api/v1/reports/monthly/2026-04")
        .await;
    assert_eq!(april["counts"]["requests"], counted(1, 2, 3), "{april}");
    assert_eq!(april["counts"]["approvals"], counted(0, 1, 1));
    assert_eq!(april["counts"]["withdrawals"], counted(1, 1, 2));
    assert_eq!(april["provisional"], true);
    assert_eq!(april["time_zone"], TZ);
}

/// CSV files parse back, the workbook opens in a spreadsheet reader, the PDF's text has the
/// figures.
#[actix_web::test]
async fn every_format_reads_back() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    for (sme, start) in [
        (&w.sme_a, "2026-03-05"),
        (&w.sme_b, "2026-03-06"),
        (&w.sme_a, "2026-03-07"),
    ] {
        app.request(sme, &w.tech_a, start).await;
    }
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 2, 0, 0, 0).unwrap());
    let path = "/api/v1/reports/monthly/2026-03";
    // CSV: a ZIP of one BOM-prefixed file per table.
    let (s, headers, zip) = app
        .get_bytes(&w.admin.token, &format!("{path}?format=csv"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert_eq!(names[0], "summary.csv", "{names:?}");
    assert!(
        names.contains(&"by_province.csv".to_string())
            && names.contains(&"amounts.csv".to_string()),
        "{names:?}"
    );
    let mut summary = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("summary.csv").unwrap(), &mut summary).unwrap();
    assert_eq!(&summary[..3], b"\xEF\xBB\xBF");
    let mut reader = csv::Reader::from_reader(&summary[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["measure", "month", "previous", "change", "cumulative"]
    );
    let requests = reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "requests")
        .unwrap();
    assert_eq!((&requests[1], &requests[4]), ("3", "3"));

    // XLSX, opened by a spreadsheet reader.
    let (s, headers, xlsx) = app
        .get_bytes(&w.admin.token, &format!("{path}?format=xlsx&lang=en"))
        .await;
    assert_eq!(s, 200);
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let sheets = book.sheet_names().join(",");
    assert!(
        sheets.starts_with("summary,decisions,amounts,by_institute"),
        "{sheets}"
    );
    let summary = book.worksheet_range("summary").unwrap();
    let rows: Vec<String> = summary
        .rows()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
                    v => v.to_string(),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert!(
        rows.iter().any(|l| l.starts_with("Trial requests|3|0|3|3")),
        "{rows:?}"
    );

    // PDF in both languages: the headline figures, on the row of their label.
    for (lang, title, label) in [
        ("vi", "2026", "Yêu cầu dùng thử"),
        ("en", "2026", "Trial requests"),
    ] {
        let (s, headers, pdf) = app
            .get_bytes(&w.auditor.token, &format!("{path}?format=pdf&lang={lang}"))
            .await;
        assert_eq!(s, 200);
        assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
        let rows = Pdf::read(&pdf).rows();
        let text = rows.join("\n");
        assert!(
            text.contains(title) && text.contains(label),
            "{lang}: {text}"
        );
        let line = text.lines().find(|l| l.contains(label)).unwrap();
        assert!(
            line.split_whitespace().filter(|w| *w == "3").count() >= 2,
            "{lang}: {line}"
        );
    }
}

/// Only admins and auditors have reports; for everyone else they do not exist. Bad months,
/// formats and languages are named.
#[actix_web::test]
async fn reports_are_for_admins_and_auditors_only() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    for (label, user) in w.all() {
        let (s, body) = app
            .get(&user.token, "/api/v1/reports/monthly/2026-02")
            .await;
        let expected = if label == "admin" || label == "auditor" {
            200
        } else {
            404
        };
        assert_eq!(s, expected, "{label}: {body}");
    }
    let (s, _) = app
        .get("not-a-token", "/api/v1/reports/monthly/2026-02")
        .await;
    assert_eq!(s, 401);
    for (query, fields) in [
        ("2026-13", vec!["month"]),
        ("26-02", vec!["month"]),
        ("2026-02?format=doc", vec!["format"]),
        ("2026-02?lang=zh", vec!["lang"]),
        ("2026-1?format=txt&lang=fr", vec!["month", "format", "lang"]),
    ] {
        let (s, body) = app
            .get(&w.admin.token, &format!("/api/v1/reports/monthly/{query}"))
            .await;
        assert_eq!(s, 422, "{query}: {body}");
        for f in fields {
            assert_field_error(&body, f);
        }
    }
    let (s, body) = app
        .get(&w.sme_a.token, "/api/v1/reports/monthly/2026-13")
        .await;
    assert_eq!(s, 404, "no hint to others that the route exists: {body}");
}

/// On the 1st at 06:00 local time the job makes the previous month's report, stores it with
/// its hashes in the audit chain and mails it to the admins; the mail carries the stored PDF
/// and XLSX, byte for byte, through a real SMTP server.
#[actix_web::test]
async fn the_monthly_job_stores_attests_and_mails_the_report() {
    use base64::Engine;
    use sha2::Digest;
    use usefirst::db::schema::{monthly_report_files, monthly_reports, outbox};
    let sink = crate::smtp_sink::SmtpSink::start();
    let url = sink.url();
    let app = TestApp::spawn_with(move |c| {
        long_sessions(c);
        c.mail.smtp_url = url;
        c.scheduler.jobs.retain(|name, _| name == "monthly-report");
    })
    .await;
    let w = app.world().await;
    app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    app.request(&w.sme_b, &w.tech_a, "2026-03-12").await;
    // A second admin, who reads English.
    app.db(|c| {
        diesel::sql_query(
            "INSERT INTO users (id, organisation_id, email, display_name, role, password_hash, locale, active, created_at) \
             SELECT 'admin-en', organisation_id, 'admin.en@example.vn', 'Admin EN', role, password_hash, 'en', active, created_at \
             FROM users WHERE role = 'admin'",
        )
        .execute(c)
        .unwrap()
    });
    // 05:59 on 1 April in Ho Chi Minh City (22:59 UTC on 31 March): not yet.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 31, 22, 0, 0).unwrap());
    let scheduler = usefirst::scheduler::Scheduler::new(&app.state.cfg, app.clock.now()).unwrap();
    let tick = |at: DateTime<Utc>| {
        let (state, scheduler) = (app.state.clone(), scheduler.clone());
        app.clock.set(at);
        tokio::task::spawn_blocking(move || scheduler.tick(&state, at).unwrap())
    };
    assert!(tick(Utc.with_ymd_and_hms(2026, 3, 31, 22, 59, 0).unwrap())
        .await
        .unwrap()
        .is_empty());
    let runs = tick(Utc.with_ymd_and_hms(2026, 3, 31, 23, 0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].job, runs[0].status),
        ("monthly-report", "ok"),
        "{:?}",
        runs[0].error
    );
    assert_eq!(
        runs[0].counts["reports"][0]["month"], "2026-03",
        "{}",
        runs[0].counts
    );

    let (id, provisional, json_text, json_sha): (String, bool, String, String) = app.db(|c| {
        monthly_reports::table
            .select((
                monthly_reports::id,
                monthly_reports::provisional,
                monthly_reports::json,
                monthly_reports::json_sha256,
            ))
            .first(c)
            .unwrap()
    });
    assert!(!provisional);
    let hex = |b: &[u8]| hex::encode(sha2::Sha256::digest(b));
    assert_eq!(json_sha, hex(json_text.as_bytes()));
    // A PDF and an XLSX in each language, each stored with its hash.
    let files: Vec<(String, String, String, Vec<u8>)> = app.db(|c| {
        monthly_report_files::table
            .filter(monthly_report_files::report_id.eq(&id))
            .order((monthly_report_files::lang, monthly_report_files::format))
            .select((
                monthly_report_files::format,
                monthly_report_files::lang,
                monthly_report_files::sha256,
                monthly_report_files::bytes,
            ))
            .load(c)
            .unwrap()
    });
    let kinds: Vec<(&str, &str)> = files.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    assert_eq!(
        kinds,
        [("pdf", "en"), ("xlsx", "en"), ("pdf", "vi"), ("xlsx", "vi")]
    );
    for (format, lang, sha, bytes) in &files {
        assert_eq!(*sha, hex(bytes), "{format}.{lang}");
    }
    let file =
        |format: &str, lang: &str| files.iter().find(|f| f.0 == format && f.1 == lang).unwrap();
    assert_eq!(&file("pdf", "vi").3[..5], b"%PDF-");
    let stored: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(stored["counts"]["requests"], counted(2, 0, 2));
    // The audit chain holds the hashes, and still verifies.
    let (s, events) = app.get(&w.auditor.token, "/api/v1/audit/verify").await;
    assert_eq!((s, events["ok"].as_bool()), (200, Some(true)), "{events}");
    let data: String = app.db(|c| {
        audit_events::table
            .filter(audit_events::action.eq("report.generated"))
            .filter(audit_events::entity_id.eq(&id))
            .select(audit_events::data)
            .first(c)
            .unwrap()
    });
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["month"], "2026-03");
    assert_eq!(data["json_sha256"], json_sha.as_str());
    for (format, lang, sha, _) in &files {
        let recorded = data["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["format"] == format.as_str() && f["lang"] == lang.as_str());
        assert_eq!(recorded.unwrap()["sha256"], sha.as_str(), "{data}");
    }

    // One message to each admin, delivered over SMTP with the files in the admin's language.
    let queued: Vec<(String, Option<String>)> = app.db(|c| {
        outbox::table
            .filter(outbox::kind.eq("monthly_report"))
            .order(outbox::recipient_email)
            .select((outbox::recipient_email, outbox::attachments))
            .load(c)
            .unwrap()
    });
    let emails: Vec<&str> = queued.iter().map(|q| q.0.as_str()).collect();
    assert_eq!(
        emails,
        ["admin.en@example.vn", w.admin.email.as_str()],
        "{queued:?}"
    );
    let counts = usefirst::app::mail::deliver(&app.state).unwrap();
    assert_eq!(counts.failed + counts.retrying, 0, "{counts:?}");
    for (email, lang) in [
        (w.admin.email.as_str(), "vi"),
        ("admin.en@example.vn", "en"),
    ] {
        let mail = sink
            .messages()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == email) && m.data.contains("2026-03"))
            .expect("the report mail");
        let attached = |name: &str| -> Vec<u8> {
            let at = mail
                .data
                .find(&format!("filename=\"{name}\""))
                .unwrap_or_else(|| panic!("{name} in {}", &mail.data[..2000.min(mail.data.len())]));
            let rest = &mail.data[at..];
            let body_start = rest.find("\r\n\r\n").unwrap() + 4;
            let body = &rest[body_start..];
            let end = body.find("\r\n--").unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(body[..end].replace("\r\n", ""))
                .unwrap()
        };
        assert_eq!(
            hex(&attached(&format!("usefirst-report-2026-03-{lang}.pdf"))),
            file("pdf", lang).2,
            "{email}"
        );
        assert_eq!(
            hex(&attached(&format!("usefirst-report-2026-03-{lang}.xlsx"))),
            file("xlsx", lang).2,
            "{email}"
        );
        let other = if lang == "vi" { "en" } else { "vi" };
        assert!(
            !mail.data.contains(&format!("-{other}.pdf")),
            "{email} gets only its language"
        );
    }
    // The same month on demand has the same figures.
    let (_, now) = app
        .get(&w.admin.token, "/api/v1/reports/monthly/2026-03")
        .await;
    assert_eq!(now["counts"], stored["counts"]);

    // The service was stopped through April and May: the run on 1 June makes both missed
    // months, oldest first, and a later tick in the same slot makes nothing.
    let runs = tick(Utc.with_ymd_and_hms(2026, 5, 31, 23, 5, 0).unwrap())
        .await
        .unwrap();
    let months: Vec<&str> = runs[0].counts["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2026-04", "2026-05"], "{}", runs[0].counts);
    assert!(tick(Utc.with_ymd_and_hms(2026, 5, 31, 23, 30, 0).unwrap())
        .await
        .unwrap()
        .is_empty());
    let stored: Vec<String> = app.db(|c| {
        monthly_reports::table
            .order(monthly_reports::month)
            .select(monthly_reports::month)
            .load(c)
            .unwrap()
    });
    assert_eq!(stored, ["2026-03", "2026-04", "2026-05"]);
}

/// Agreements closed before the milestones were kept get the ones that need a local day
/// filled after migrating exactly as the live transitions stamp them, at hours when the
/// local day is not the UTC one.
#[actix_web::test]
async fn older_agreements_get_the_same_milestones_after_migrating() {
    let app = TestApp::spawn_long_sessions().await;
    let w = app.world().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(id_of(&app.signed_agreement(&w).await));
    }
    let act = |i: usize, token: String, action: &'static str| {
        let (app, id) = (&app, ids[i].clone());
        async move {
            let (_, a) = app.get(&token, &format!("/api/v1/agreements/{id}")).await;
            let body = if action == "convert" {
                json!({})
            } else {
                json!({"reason": "r"})
            };
            let (s, a) = app.act(&token, &id, action, version_of(&a), body).await;
            assert_eq!(s, 200, "{action}: {a}");
        }
    };
    // 20:00 UTC is 03:00 the next day in Ho Chi Minh City.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 20, 20, 0, 0).unwrap());
    app.advance();
    act(0, w.sme_a.token.clone(), "convert").await;
    act(1, w.sme_a.token.clone(), "decline").await;
    act(2, w.inst_a.token.clone(), "terminate").await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 10, 19, 30, 0).unwrap());
    app.advance();
    act(3, w.sme_a.token.clone(), "convert").await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 20, 18, 0, 0).unwrap());
    app.advance();
    type Stamped = (
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<i32>,
    );
    let read = || -> Vec<Stamped> {
        app.db(|c| {
            agreements::table
                .order(agreements::id)
                .select((
                    agreements::id,
                    agreements::status,
                    agreements::started_on,
                    agreements::trial_ended_on,
                    agreements::decision_days,
                ))
                .load(c)
                .unwrap()
        })
    };
    let live = read();
    let statuses: Vec<&str> = live.iter().map(|r| r.1.as_str()).collect();
    for s in ["converted", "declined", "terminated", "lapsed"] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    // The columns as migration 000014 leaves them for agreements it found closed.
    app.state
        .db
        .write(|c| {
            diesel::update(agreements::table)
                .set((
                    agreements::trial_ended_on.eq(None::<NaiveDate>),
                    agreements::decision_days.eq(None::<i32>),
                ))
                .filter(agreements::status.ne("lapsed"))
                .execute(c)
                .map_err(usefirst::error::AppError::from)
        })
        .unwrap();
    assert_ne!(read(), live);
    assert_eq!(
        usefirst::agreements::milestones::fill_milestones(&app.state.db).unwrap(),
        4
    );
    assert_eq!(read(), live);
    assert_eq!(
        usefirst::agreements::milestones::fill_milestones(&app.state.db).unwrap(),
        0,
        "nothing left to fill"
    );
}

//! The home page, by role: an SME's trials by state, this month's deadlines and what it owes;
//! an institute's requests waiting, trials ending soon, overdue payments and this year's
//! money received; for the other roles, what they can do. The figures come summed from
//! `app::dashboard`; here they are only set in the visitor's language, each with a link to
//! the list behind it.

use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use minijinja::{context, Value};

use super::frame::{blocking, read_kept, Read, SignedIn};
use crate::app::dashboard::{Board, Deadline, Home, InstituteBoard, SmeBoard, ENDING_DAYS};
use crate::settlement::money::Currency;
use crate::typeset::format::{date, days, money};
use crate::AppState;

/// The home pages.
pub const GROUP: super::Group = super::Group {
    templates: &[
        (
            "dashboard/sme.html",
            include_str!("templates/dashboard/sme.html"),
        ),
        (
            "dashboard/institute.html",
            include_str!("templates/dashboard/institute.html"),
        ),
        (
            "dashboard/other.html",
            include_str!("templates/dashboard/other.html"),
        ),
    ],
    words: (
        "dashboard",
        include_str!("i18n/dashboard.vi.toml"),
        include_str!("i18n/dashboard.en.toml"),
    ),
    css: include_str!("../../static/web/dashboard.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/home", web::get().to(home));
}

/// An amount in its currency's convention (the code and the minor units for a currency the
/// settlement does not know, which a stored contract never has).
fn amount(currency: &str, minor: i64) -> String {
    match Currency::parse(currency) {
        Some(c) => money(c, minor),
        None => format!("{minor} {currency}"),
    }
}

/// The month of `day`: `tháng 3/2026`, `March 2026`.
fn month(lang: &str, day: NaiveDate) -> String {
    match lang {
        "vi" => format!("tháng {}/{}", day.month(), day.year()),
        // The English date without its day: "1 March 2026" → "March 2026".
        _ => {
            let first = date(lang, day.with_day(1).unwrap_or(day));
            first
                .split_once(' ')
                .map_or(first.clone(), |(_, m)| m.to_string())
        }
    }
}

/// The signed-in user's home.
async fn home(state: web::Data<AppState>, SignedIn(visitor, actor): SignedIn) -> HttpResponse {
    if actor.role == crate::rules::roles::Role::Admin {
        return super::admin::home(&state, &visitor, actor).await;
    }
    let insurer = actor.role == crate::rules::roles::Role::Insurer;
    // An insurer's home is its dashboard, with its charts.
    if insurer {
        let who = actor.clone();
        let home = match blocking(&state, move |st| crate::app::dashboard::home(st, &who)).await {
            Ok(home) => home,
            Err(e) => return visitor.failure(&state, e, ""),
        };
        return super::insurer::home(&state, &visitor, actor, home.organisation).await;
    }
    // SMEs and institutes open their home often and it sums all their agreements: a repeated
    // view while nothing changed is the page kept (`web::kept`).
    let read = read_kept(&state, &visitor, false, move |st| {
        crate::app::dashboard::home(st, &actor)
    });
    let (home, keep) = match read.await {
        Ok(Read::Kept(body)) => return visitor.kept(body),
        Ok(Read::Fresh(home, keep)) => (home, keep),
        Err(e) => return visitor.failure(&state, e, ""),
    };
    let (name, ctx) = page(visitor.lang, home);
    visitor.page_keeping(&state, 200, keep, name, ctx)
}

/// The template and its context for `home` in `lang`.
fn page(lang: &str, home: Home) -> (&'static str, Value) {
    let Home {
        organisation,
        today,
        board,
    } = home;
    match board {
        Board::Sme(b) => (
            "dashboard/sme.html",
            context! { organisation, ..sme(lang, today, b) },
        ),
        Board::Institute(b) => (
            "dashboard/institute.html",
            context! { organisation, ..institute(lang, today, b) },
        ),
        Board::Other => ("dashboard/other.html", context! { organisation }),
    }
}

fn sme(lang: &str, today: NaiveDate, b: SmeBoard) -> Value {
    let by_status: Vec<Value> = b
        .by_status
        .iter()
        .map(|(s, n)| context! { status => s.as_str(), count => n })
        .collect();
    let latest: Vec<Value> = b
        .latest
        .iter()
        .map(|a| {
            let trial = match (a.trial_start, a.trial_end) {
                (Some(s), Some(e)) => format!("{} – {}", date(lang, s), date(lang, e)),
                _ => String::new(),
            };
            context! { id => a.id.clone(), number => a.number.clone(), status => a.status.as_str(), trial }
        })
        .collect();
    let deadlines: Vec<Value> = b
        .deadlines
        .iter()
        .map(|d| match d {
            Deadline::Decision(a) => context! {
                kind => "decision", number => a.number.clone(), date => date(lang, a.date),
                id => a.id.clone(), line => "", amount => "",
            },
            Deadline::Payment(l) => context! {
                kind => "payment", number => l.number.clone(), date => date(lang, l.due),
                id => l.agreement_id.clone(), line => l.line,
                amount => amount(&l.currency, l.outstanding_minor),
            },
        })
        .collect();
    let owed: Vec<Value> = b
        .owed
        .iter()
        .map(|o| {
            context! {
                currency => o.currency.clone(),
                outstanding => amount(&o.currency, o.outstanding_minor),
                overdue => amount(&o.currency, o.overdue_minor),
                late => o.overdue_minor > 0,
            }
        })
        .collect();
    let owed_on: Vec<Value> = b
        .owed_on
        .iter()
        .map(|o| {
            context! {
                id => o.agreement_id.clone(), number => o.number.clone(),
                outstanding => amount(&o.currency, o.outstanding_minor),
                overdue => amount(&o.currency, o.overdue_minor),
                late => o.overdue_minor > 0,
            }
        })
        .collect();
    context! {
        by_status, total => b.total, latest, deadlines, owed, owed_on, month => month(lang, today),
        record => b.record, record_for => "own",
    }
}

fn institute(lang: &str, today: NaiveDate, b: InstituteBoard) -> Value {
    let requests: Vec<Value> = b
        .requests
        .iter()
        .map(|a| {
            context! {
                id => a.id.clone(), number => a.number.clone(), start => date(lang, a.requested_start),
            }
        })
        .collect();
    let ending: Vec<Value> = b
        .ending
        .iter()
        .map(|a| {
            context! {
                id => a.id.clone(), number => a.number.clone(), status => a.status.clone(),
                date => date(lang, a.date),
            }
        })
        .collect();
    let overdue: Vec<Value> = b
        .overdue
        .iter()
        .map(|(o, late)| {
            context! {
                id => o.agreement_id.clone(), number => o.number.clone(),
                amount => amount(&o.currency, o.overdue_minor),
                days => days(lang, u32::try_from(*late).unwrap_or(0)),
            }
        })
        .collect();
    let revenue: Vec<Value> = b
        .revenue
        .iter()
        .map(|r| {
            context! {
                currency => r.currency.clone(), amount => amount(&r.currency, r.amount_minor),
                payments => r.payments,
            }
        })
        .collect();
    let registrations: Vec<Value> = b
        .registrations
        .iter()
        .map(|(r, left)| {
            context! {
                id => r.agreement_id.clone(), number => r.number.clone(),
                deadline => date(lang, r.deadline), left => *left, late => -*left,
            }
        })
        .collect();
    context! {
        requested => b.requested, requests, ending, overdue, revenue, registrations,
        ending_days => ENDING_DAYS, year => today.year(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreements::model::Dated;
    use crate::contracts::model::{DueLine, Owed, OwedOn, Received};
    use crate::rules::lifecycle::Status;
    use crate::web::{i18n, Pages};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn user(role: &str) -> Value {
        context! { display_name => "Nguyễn Văn An", role }
    }

    fn render(pages: &Pages, lang: &str, role: &str, name: &str, ctx: Value) -> String {
        pages
            .render(
                name,
                context! { lang, csrf => "x", path => "/home", user => user(role), ..ctx },
            )
            .unwrap_or_else(|e| panic!("{name} in {lang}: {e:#}"))
    }

    fn sme_board() -> SmeBoard {
        SmeBoard {
            by_status: vec![(Status::Active, 2), (Status::Converted, 1)],
            total: 3,
            latest: Vec::new(),
            deadlines: vec![
                Deadline::Decision(Dated {
                    id: "a1".into(),
                    number: "UF-2026-000001".into(),
                    status: "active".into(),
                    date: day(2026, 3, 20),
                }),
                Deadline::Payment(DueLine {
                    agreement_id: "a2".into(),
                    number: "UF-2026-000002".into(),
                    currency: "USD".into(),
                    line: 2,
                    due: day(2026, 3, 25),
                    outstanding_minor: 300_000,
                }),
            ],
            owed: vec![Owed {
                currency: "USD".into(),
                outstanding_minor: 1_200_000,
                overdue_minor: 300_000,
            }],
            owed_on: vec![OwedOn {
                agreement_id: "a2".into(),
                number: "UF-2026-000002".into(),
                currency: "USD".into(),
                outstanding_minor: 1_200_000,
                overdue_minor: 300_000,
                oldest_overdue: Some(day(2026, 2, 20)),
            }],
            record: a_record(),
        }
    }

    fn institute_board() -> InstituteBoard {
        InstituteBoard {
            requested: 0,
            requests: Vec::new(),
            ending: vec![Dated {
                id: "a1".into(),
                number: "UF-2026-000001".into(),
                status: "active".into(),
                date: day(2026, 3, 30),
            }],
            overdue: vec![(
                OwedOn {
                    agreement_id: "a2".into(),
                    number: "UF-2026-000002".into(),
                    currency: "VND".into(),
                    outstanding_minor: 150_000_000,
                    overdue_minor: 150_000_000,
                    oldest_overdue: Some(day(2026, 2, 20)),
                },
                10,
            )],
            registrations: vec![(
                crate::contracts::model::RegistrationOpen {
                    agreement_id: "a3".into(),
                    number: "UF-2026-000003".into(),
                    deadline: day(2026, 4, 2),
                },
                -3,
            )],
            revenue: vec![Received {
                currency: "VND".into(),
                amount_minor: 50_000_000,
                payments: 2,
            }],
        }
    }

    /// A record with a figure in each place.
    fn a_record() -> crate::app::payment_record::PaymentRecord {
        use crate::app::payment_record::PaymentRecord;
        use crate::app::payment_record::{ClaimCounts, TrialCounts};
        use crate::rules::payment_record::PaymentCounts;
        PaymentRecord {
            requests: 4,
            trials: TrialCounts {
                total: 3,
                in_progress: 1,
                converted: 1,
                declined: 1,
                lapsed: 0,
                terminated: 0,
            },
            conversions: 1,
            payments: PaymentCounts {
                on_time: 2,
                late: 1,
                overdue: 0,
                not_yet_due: 3,
            },
            non_payment_claims: ClaimCounts {
                total: 1,
                open: 1,
                upheld: 0,
                not_upheld: 0,
            },
        }
    }

    /// Every home sets in both languages, full and empty, with values escaped and each figure
    /// linked to the list behind it.
    #[test]
    fn every_home_sets_in_both_languages() {
        let pages = Pages::load().unwrap();
        let today = day(2026, 3, 2);
        for lang in i18n::LANGS {
            let home = |board| Home {
                organisation: "Công ty <TNHH>".into(),
                today,
                board,
            };
            let (name, ctx) = page(lang, home(Board::Sme(sme_board())));
            let mut ctx = minijinja::value::merge_maps([
                ctx,
                context! { latest => vec![context! {
                    id => "a1", number => "UF-2026-000001", status => "active",
                    trial => "03/03/2026 – 31/05/2026",
                }] },
            ]);
            let full = render(&pages, lang, "sme", name, ctx.clone());
            assert!(full.contains("Công ty &lt;TNHH&gt;"), "{full}");
            for link in [
                "/trials?status=active",
                "/trials?status=converted",
                "/agreements/a1",
                "/agreements/a2/money",
            ] {
                assert!(full.contains(&format!("href=\"{link}\"")), "{link}: {full}");
            }
            assert!(full.contains("US$12,000.00") && full.contains("US$3,000.00"));
            // Its own payment record, with its figures.
            assert!(full.contains("id=\"payment-record\""), "{full}");
            assert!(full.contains("<dd>4</dd>"), "the requests: {full}");
            let empty = SmeBoard {
                by_status: Vec::new(),
                total: 0,
                latest: Vec::new(),
                deadlines: Vec::new(),
                owed: Vec::new(),
                owed_on: Vec::new(),
                record: a_record(),
            };
            (_, ctx) = page(lang, home(Board::Sme(empty)));
            let none = render(&pages, lang, "sme", name, ctx);
            assert!(none.contains("href=\"/catalogue\""), "{none}");

            let (name, ctx) = page(lang, home(Board::Institute(institute_board())));
            let ctx = minijinja::value::merge_maps([
                ctx,
                context! { requested => 12, requests => vec![context! {
                    id => "a3", number => "UF-2026-000003", start => "10/03/2026",
                }] },
            ]);
            let full = render(&pages, lang, "institute", name, ctx);
            for link in [
                "/trials?status=requested",
                "/agreements/a3",
                "/agreements/a1",
                "/agreements/a2/money",
                "/trials?status=converted",
            ] {
                assert!(full.contains(&format!("href=\"{link}\"")), "{link}: {full}");
            }
            assert!(full.contains("150.000.000 ₫") && full.contains("50.000.000 ₫"));
            assert!(full.contains(&days(lang, 10)), "{full}");
            let empty = InstituteBoard {
                requested: 0,
                requests: Vec::new(),
                ending: Vec::new(),
                overdue: Vec::new(),
                revenue: Vec::new(),
                registrations: Vec::new(),
            };
            let (name, ctx) = page(lang, home(Board::Institute(empty)));
            render(&pages, lang, "institute", name, ctx);

            for role in ["insurer", "admin", "auditor"] {
                let (name, ctx) = page(lang, home(Board::Other));
                let other = render(&pages, lang, role, name, ctx);
                if role == "auditor" {
                    // The auditor's own pages, the documents' check and the reports.
                    for link in [
                        "/trials",
                        "/audit/chain",
                        "/audit/events",
                        "/audit/documents",
                        "/admin/reports",
                    ] {
                        assert!(
                            other.contains(&format!("href=\"{link}\"")),
                            "{link}: {other}"
                        );
                    }
                } else {
                    // No link but the frame's own.
                    assert!(!other.contains("href=\"/trials"), "{other}");
                }
            }
        }
        assert_eq!(month("vi", today), "tháng 3/2026");
        assert_eq!(month("en", today), "March 2026");
    }
}

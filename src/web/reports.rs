//! The monthly conversion report as a page, for administrators and auditors (to anyone else it
//! does not exist): a month picked in a form (kept in the address), its figures from
//! `app::reports` — the same the JSON report gives — each chart drawn here as SVG with a
//! table of the same figures beside it, the provisional mark while the month has not ended,
//! the downloads (JSON, CSV, XLSX and PDF in Vietnamese or English) under the page's session,
//! and the stored monthly reports with the SHA-256 of each file.
//!
//! Nothing here computes a figure: it only writes the report's numbers in the visitor's
//! language and draws them.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use minijinja::{context, Value};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::chart::{self, Bars, Chart, Series};
use super::frame::{blocking, SignedIn};
use crate::reports::model::{
    previous_month, Format, Group, Month, MonthlyReport, StoredListing, MONEY_MEASURES,
};
use crate::settlement::money::Currency;
use crate::typeset::format::{date, money, percent, MONTHS_EN};
use crate::AppState;

/// The report pages.
pub const GROUP: super::Group = super::Group {
    templates: &[(
        "reports/monthly.html",
        include_str!("templates/reports/monthly.html"),
    )],
    words: (
        "reports",
        include_str!("i18n/reports.vi.toml"),
        include_str!("i18n/reports.en.toml"),
    ),
    css: include_str!("../../static/web/reports.css"),
    routes,
};

fn routes(cfg: &mut super::Routes) {
    cfg.route("/admin/reports", web::get().to(monthly))
        .route(
            "/admin/reports/stored/{id}/{format}/{lang}",
            web::get().to(stored_file),
        )
        .route("/admin/reports/{month}/download", web::get().to(download));
}

/// The counts the page charts against the month before, in the order it lists them.
const CHARTED_COUNTS: [&str; 8] = [
    "requests",
    "approvals",
    "trials_started",
    "trials_ended",
    "conversions",
    "declines",
    "lapses",
    "claims_filed",
];

/// The downloads offered: (format, language); JSON and CSV are the same in both languages.
const DOWNLOADS: [(&str, &str); 6] = [
    ("pdf", "vi"),
    ("pdf", "en"),
    ("xlsx", "vi"),
    ("xlsx", "en"),
    ("csv", ""),
    ("json", ""),
];

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

/// A whole number with the language's thousands separator: `1.234` or `1,234`.
fn count(lang: &str, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if lang == "vi" { '.' } else { ',' };
    let mut out = String::with_capacity(digits.len() + 4);
    if n < 0 {
        out.push('−');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A change with its sign: `+3`, `−2`, `0`.
fn change(lang: &str, n: i64) -> String {
    if n > 0 {
        format!("+{}", count(lang, n))
    } else {
        count(lang, n)
    }
}

/// An amount in its currency's convention (the code and the minor units for a currency the
/// settlement does not know).
fn amount(currency: &str, minor: i64) -> String {
    match Currency::parse(currency) {
        Some(c) => money(c, minor),
        None => format!("{minor} {currency}"),
    }
}

/// An amount's change with its sign.
fn amount_change(currency: &str, minor: i64) -> String {
    if minor > 0 {
        format!("+{}", amount(currency, minor))
    } else {
        amount(currency, minor)
    }
}

/// A rate as the report writes it (`0.6250`) as a percentage, or a dash when nothing was
/// decided.
fn rate(lang: &str, rate: Option<&str>) -> String {
    rate.and_then(|r| r.parse::<Decimal>().ok())
        .map(|r| percent(lang, r))
        .unwrap_or_else(|| "—".into())
}

/// The rate of `converted` over `decided` as a percentage with one decimal, or a dash.
fn group_rate(lang: &str, g: &Group) -> String {
    if g.decided <= 0 {
        return "—".into();
    }
    let r = (Decimal::from(g.conversions) / Decimal::from(g.decided))
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    percent(lang, r)
}

/// A month for a heading: `tháng 10/2025`, `October 2025`.
fn month_long(lang: &str, m: Month) -> String {
    match lang {
        "vi" => format!("tháng {}/{}", m.month, m.year),
        _ => format!("{} {}", MONTHS_EN[m.month as usize - 1], m.year),
    }
}

/// A month in a table: `10/2025`, `Oct 2025`.
fn month_mid(lang: &str, m: Month) -> String {
    match lang {
        "vi" => format!("{:02}/{}", m.month, m.year),
        _ => format!("{} {}", &MONTHS_EN[m.month as usize - 1][..3], m.year),
    }
}

/// A month under a chart's axis: `T10`, `Oct` (the table beside it has the year).
fn month_short(lang: &str, m: Month) -> String {
    match lang {
        "vi" => format!("T{}", m.month),
        _ => MONTHS_EN[m.month as usize - 1][..3].to_string(),
    }
}

/// The words of `key` in `lang` (empty if missing: the catalogue test prevents it).
fn words(state: &AppState, lang: &str, key: &str, args: &[(&str, String)]) -> String {
    state
        .pages
        .catalogues
        .text(lang, key, args)
        .unwrap_or_default()
}

/// The month the page opens on: the last one ended (the one the monthly job reports).
fn default_month(state: &AppState) -> Month {
    previous_month(state.tz, state.clock.now())
}

/// `GET /admin/reports?month=yyyy-mm`.
async fn monthly(
    state: web::Data<AppState>,
    query: web::Query<MonthQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let typed = query.into_inner().month.unwrap_or_default();
    let typed = typed.trim().to_string();
    let month = if typed.is_empty() {
        Some(default_month(&state))
    } else {
        Month::parse(&typed)
    };
    let Some(month) = month else {
        // The form again with what was typed and why it is not a month; the stored reports
        // under it, so the page still leads somewhere.
        let listed = blocking(&state, move |st| crate::app::reports::stored(st, &actor)).await;
        let stored = match listed {
            Ok(s) => s,
            Err(e) => return visitor.failure(&state, e, ""),
        };
        let ctx = context! {
            typed, error => words(&state, visitor.lang, "reports.month.invalid", &[]),
            report => (), stored => stored_view(&state, visitor.lang, &stored),
            downloads => Vec::<Value>::new(),
        };
        return visitor.page(&state, 422, "reports/monthly.html", ctx);
    };
    let loaded = blocking(&state, move |st| {
        crate::app::reports::page(st, &actor, month)
    })
    .await;
    let (report, stored) = match loaded {
        Ok(found) => found,
        Err(e) => return visitor.failure(&state, e, "/admin/reports"),
    };
    let lang = visitor.lang;
    let ctx = context! {
        typed => month.to_string(), error => "",
        report => report_view(&state, lang, month, &report),
        stored => stored_view(&state, lang, &stored),
        downloads => downloads(month),
    };
    visitor.page(&state, 200, "reports/monthly.html", ctx)
}

fn downloads(month: Month) -> Vec<Value> {
    DOWNLOADS
        .iter()
        .map(|(format, lang)| {
            let href = if lang.is_empty() {
                format!("/admin/reports/{month}/download?format={format}")
            } else {
                format!("/admin/reports/{month}/download?format={format}&lang={lang}")
            };
            context! { format, lang, href }
        })
        .collect()
}

/// The stored reports, as the list shows them.
fn stored_view(state: &AppState, lang: &str, stored: &[StoredListing]) -> Vec<Value> {
    stored
        .iter()
        .map(|s| {
            let local = s.generated_at.with_timezone(&state.tz);
            let month = Month::parse(&s.month)
                .map(|m| month_mid(lang, m))
                .unwrap_or_else(|| s.month.clone());
            let files: Vec<Value> = s
                .files
                .iter()
                .map(|f| {
                    context! {
                        format => f.format.clone(), lang => f.lang.clone(), sha256 => f.sha256.clone(),
                        href => format!("/admin/reports/stored/{}/{}/{}", s.id, f.format, f.lang),
                    }
                })
                .collect();
            context! {
                id => s.id.clone(), month, key => s.month.clone(), provisional => s.provisional,
                generated => format!("{} {}", date(lang, local.date_naive()), local.format("%H:%M")),
                json_sha256 => s.json_sha256.clone(), files,
            }
        })
        .collect()
}

/// The report's figures written in `lang`, with their charts.
fn report_view(state: &AppState, lang: &str, month: Month, r: &MonthlyReport) -> Value {
    let label = |key: &str| words(state, lang, &format!("reports.measure.{key}"), &[]);
    let this = month_long(lang, month);
    let before = month_long(lang, month.prev());
    let fmt_count = |v: f64| count(lang, v.round() as i64);

    let counts: Vec<Value> = r
        .counts
        .named()
        .iter()
        .map(|(key, c)| {
            context! {
                key, name => label(key), month => count(lang, c.month),
                previous => count(lang, c.previous), change => change(lang, c.change),
                cumulative => count(lang, c.cumulative),
            }
        })
        .collect();
    let named = r.counts.named();
    let charted: Vec<_> = CHARTED_COUNTS
        .iter()
        .filter_map(|k| named.iter().find(|(n, _)| n == k))
        .collect();
    let count_labels: Vec<String> = charted.iter().map(|(k, _)| label(k)).collect();
    let count_series = [
        Series::new(
            before.clone(),
            charted.iter().map(|(_, c)| c.previous as f64),
        ),
        Series::new(this.clone(), charted.iter().map(|(_, c)| c.month as f64)),
    ];
    let counts_chart = chart::bars(
        &Chart {
            title: &words(
                state,
                lang,
                "reports.counts.chart",
                &[("month", this.clone())],
            ),
            desc: &words(
                state,
                lang,
                "reports.counts.desc",
                &[("month", this.clone()), ("previous", before.clone())],
            ),
            labels: &count_labels,
            series: &count_series,
            format: &fmt_count,
            whole: true,
        },
        Bars {
            stacked: false,
            horizontal: true,
        },
    );

    let d = &r.decisions;
    let decisions = context! {
        month => rate(lang, d.month.conversion_rate.as_deref()),
        previous => rate(lang, d.previous.conversion_rate.as_deref()),
        cumulative => rate(lang, d.cumulative.conversion_rate.as_deref()),
        month_decided => count(lang, d.month.decided), month_converted => count(lang, d.month.converted),
        previous_decided => count(lang, d.previous.decided), previous_converted => count(lang, d.previous.converted),
        cumulative_decided => count(lang, d.cumulative.decided), cumulative_converted => count(lang, d.cumulative.converted),
        median => d.month.median_days.map(|n| count(lang, n)).unwrap_or_else(|| "—".into()),
        p90 => d.month.p90_days.map(|n| count(lang, n)).unwrap_or_else(|| "—".into()),
    };

    // Money, one chart per currency: amounts in different currencies share no axis.
    let mut currencies: Vec<&str> = r.amounts.iter().map(|a| a.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let money_view: Vec<Value> = currencies
        .iter()
        .map(|cur| {
            let rows: Vec<_> = MONEY_MEASURES
                .iter()
                .filter_map(|m| {
                    r.amounts
                        .iter()
                        .find(|a| a.currency == *cur && a.measure == *m)
                })
                .collect();
            let labels: Vec<String> = rows.iter().map(|a| label(&a.measure)).collect();
            let series = [
                Series::new(before.clone(), rows.iter().map(|a| a.previous_minor as f64)),
                Series::new(this.clone(), rows.iter().map(|a| a.month_minor as f64)),
            ];
            let cur_text = cur.to_string();
            let fmt = |v: f64| amount(&cur_text, v.round() as i64);
            let svg = chart::bars(
                &Chart {
                    title: &words(
                        state,
                        lang,
                        "reports.money.chart",
                        &[("currency", cur.to_string()), ("month", this.clone())],
                    ),
                    desc: &words(
                        state,
                        lang,
                        "reports.money.desc",
                        &[
                            ("currency", cur.to_string()),
                            ("month", this.clone()),
                            ("previous", before.clone()),
                        ],
                    ),
                    labels: &labels,
                    series: &series,
                    format: &fmt,
                    whole: false,
                },
                Bars {
                    stacked: false,
                    horizontal: true,
                },
            );
            let rows: Vec<Value> = rows
                .iter()
                .map(|a| {
                    context! {
                        measure => a.measure.clone(), name => label(&a.measure),
                        month => amount(cur, a.month_minor), previous => amount(cur, a.previous_minor),
                        change => amount_change(cur, a.change_minor), cumulative => amount(cur, a.cumulative_minor),
                    }
                })
                .collect();
            context! { currency => cur, rows, chart => Value::from_safe_string(svg) }
        })
        .collect();

    // Twelve months to the report's.
    let points: Vec<(Month, &crate::reports::model::MonthPoint)> = r
        .by_month
        .iter()
        .filter_map(|p| Month::parse(&p.month).map(|m| (m, p)))
        .collect();
    let series_labels: Vec<String> = points.iter().map(|(m, _)| month_short(lang, *m)).collect();
    let series = [
        Series::new(
            label("trials_started"),
            points.iter().map(|(_, p)| p.trials_started as f64),
        ),
        Series::new(
            label("conversions"),
            points.iter().map(|(_, p)| p.conversions as f64),
        ),
    ];
    let (first, last) = (
        points
            .first()
            .map(|(m, _)| month_long(lang, *m))
            .unwrap_or_default(),
        points
            .last()
            .map(|(m, _)| month_long(lang, *m))
            .unwrap_or_default(),
    );
    let months_chart = chart::lines(&Chart {
        title: &words(state, lang, "reports.months.chart", &[]),
        desc: &words(
            state,
            lang,
            "reports.months.desc",
            &[("first", first), ("last", last)],
        ),
        labels: &series_labels,
        series: &series,
        format: &fmt_count,
        whole: true,
    });
    let months: Vec<Value> = points
        .iter()
        .map(|(m, p)| {
            context! {
                key => p.month.clone(), month => month_mid(lang, *m),
                trials_started => count(lang, p.trials_started), conversions => count(lang, p.conversions),
            }
        })
        .collect();

    let field_name = |code: &str| {
        state
            .pages
            .catalogues
            .text(lang, &format!("catalogue.field.{code}"), &[])
            .unwrap_or_else(|| code.to_string())
    };
    let by_province = breakdown(state, lang, &this, "province", &r.by_province, &|n| {
        n.to_string()
    });
    let by_field = breakdown(state, lang, &this, "field", &r.by_field, &field_name);
    let by_institute: Vec<Value> = r
        .by_institute
        .iter()
        .map(|g| group_row(lang, g, g.name.clone()))
        .collect();

    context! {
        month => month.to_string(), title => this.clone(), previous_title => before,
        provisional => r.provisional,
        first_day => date(lang, r.first_day), last_day => date(lang, r.last_day),
        time_zone => r.time_zone.clone(),
        generated => {
            let local = r.generated_at.with_timezone(&state.tz);
            format!("{} {}", date(lang, local.date_naive()), local.format("%H:%M"))
        },
        counts, counts_chart => Value::from_safe_string(counts_chart),
        trials_started => count(lang, r.counts.trials_started.month),
        conversions => count(lang, r.counts.conversions.month),
        decisions, money => money_view,
        months, months_chart => Value::from_safe_string(months_chart),
        by_province, by_field, by_institute,
        registration => context! {
            registered => count(lang, r.registration.registered),
            pending => count(lang, r.registration.pending),
            overdue => count(lang, r.registration.overdue),
            any => r.registration.registered + r.registration.pending + r.registration.overdue > 0,
        },
        prev_month => month.prev().to_string(), next_month => month.next().to_string(),
        prev_title => month_long(lang, month.prev()), next_title => month_long(lang, month.next()),
    }
}

fn group_row(lang: &str, g: &Group, name: String) -> Value {
    context! {
        key => g.key.clone(), name,
        requests => count(lang, g.requests), trials_started => count(lang, g.trials_started),
        conversions => count(lang, g.conversions), decided => count(lang, g.decided),
        rate => group_rate(lang, g),
    }
}

/// A breakdown (by province, by field) as a table and a chart of trials started and
/// conversions per group.
fn breakdown(
    state: &AppState,
    lang: &str,
    month: &str,
    kind: &str,
    groups: &[Group],
    name: &dyn Fn(&str) -> String,
) -> Value {
    // Most trials first, so the chart reads from the top; ties by name.
    let mut sorted: Vec<&Group> = groups.iter().collect();
    sorted.sort_by(|a, b| {
        b.trials_started
            .cmp(&a.trials_started)
            .then(b.requests.cmp(&a.requests))
            .then_with(|| a.name.cmp(&b.name))
    });
    let label = |key: &str| words(state, lang, &format!("reports.measure.{key}"), &[]);
    let labels: Vec<String> = sorted.iter().map(|g| name(&g.name)).collect();
    let series = [
        Series::new(
            label("trials_started"),
            sorted.iter().map(|g| g.trials_started as f64),
        ),
        Series::new(
            label("conversions"),
            sorted.iter().map(|g| g.conversions as f64),
        ),
    ];
    let fmt = |v: f64| count(lang, v.round() as i64);
    let svg = if sorted.is_empty() {
        String::new()
    } else {
        chart::bars(
            &Chart {
                title: &words(
                    state,
                    lang,
                    &format!("reports.{kind}.chart"),
                    &[("month", month.to_string())],
                ),
                desc: &words(
                    state,
                    lang,
                    &format!("reports.{kind}.desc"),
                    &[("month", month.to_string())],
                ),
                labels: &labels,
                series: &series,
                format: &fmt,
                whole: true,
            },
            Bars {
                stacked: false,
                horizontal: true,
            },
        )
    };
    let rows: Vec<Value> = sorted
        .iter()
        .map(|g| group_row(lang, g, name(&g.name)))
        .collect();
    context! { rows, chart => Value::from_safe_string(svg) }
}

#[derive(Debug, Default, Deserialize)]
struct DownloadQuery {
    format: Option<String>,
    lang: Option<String>,
}

/// `GET /admin/reports/{month}/download?format=&lang=`: the report now, as a file.
async fn download(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DownloadQuery>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let q = query.into_inner();
    let month = Month::parse(&path);
    let format = q.format.as_deref().and_then(Format::parse);
    let lang = match q.lang.as_deref() {
        None | Some("") => Some(visitor.lang),
        Some("vi") => Some("vi"),
        Some("en") => Some("en"),
        Some(_) => None,
    };
    let (Some(month), Some(format), Some(lang)) = (month, format, lang) else {
        let detail = words(&state, visitor.lang, "reports.download.invalid", &[]);
        return visitor.error(
            &state,
            422,
            "error.invalid",
            context! { detail, back => "/admin/reports" },
        );
    };
    let made = blocking(&state, move |st| {
        crate::app::reports::download(st, &actor, month, format, lang)
    })
    .await;
    match made {
        Ok(w) => file(
            w.content_type,
            &w.file_name,
            w.bytes,
            format == Format::Json,
        ),
        Err(e) => visitor.failure(&state, e, &format!("/admin/reports?month={month}")),
    }
}

/// `GET /admin/reports/stored/{id}/{format}/{lang}`: a stored report's file as it was made.
async fn stored_file(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    SignedIn(visitor, actor): SignedIn,
) -> HttpResponse {
    let (id, format, lang) = path.into_inner();
    let found = blocking(&state, move |st| {
        crate::app::reports::stored_file(st, &actor, &id, &format, &lang)
    })
    .await;
    match found {
        Ok(f) => file(f.content_type, &f.name, f.bytes, false),
        Err(e) => visitor.failure(&state, e, "/admin/reports"),
    }
}

/// A file answer: shown in the browser (JSON) or saved under its name.
fn file(content_type: &str, name: &str, bytes: Vec<u8>, inline: bool) -> HttpResponse {
    let disposition = if inline { "inline" } else { "attachment" };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every count and amount the report has is named in both languages.
    #[test]
    fn every_measure_has_words() {
        let pages = crate::web::Pages::load().unwrap();
        let counts = crate::reports::model::Counts::default();
        let names = counts.named().map(|(n, _)| n);
        for lang in crate::web::i18n::LANGS {
            for key in names.iter().chain(MONEY_MEASURES.iter()) {
                let text = pages
                    .catalogues
                    .text(lang, &format!("reports.measure.{key}"), &[])
                    .unwrap_or_default();
                assert!(!text.is_empty(), "{lang} {key}");
            }
        }
    }

    #[test]
    fn numbers_are_written_per_language() {
        assert_eq!(count("vi", 1_234_567), "1.234.567");
        assert_eq!(count("en", 1_234_567), "1,234,567");
        assert_eq!(count("en", -1200), "−1,200");
        assert_eq!(count("vi", 0), "0");
        assert_eq!(change("vi", 3), "+3");
        assert_eq!(change("en", -2), "−2");
        assert_eq!(rate("vi", Some("0.6250")), "62,5%");
        assert_eq!(rate("en", Some("0.6250")), "62.5%");
        assert_eq!(rate("en", None), "—");
        let oct = Month::parse("2025-10").unwrap();
        assert_eq!(month_long("vi", oct), "tháng 10/2025");
        assert_eq!(month_long("en", oct), "October 2025");
        assert_eq!(month_mid("en", oct), "Oct 2025");
        assert_eq!(month_short("vi", oct), "T10");
    }
}

//! Catalogue search over a large catalogue: loads `BENCH_TECHNOLOGIES` (default 100,000)
//! synthetic technologies through the catalogue's own create (row, search index and audit
//! event in one transaction, in batches), then times, on one reader connection:
//!
//! - two-word searches as a person types them: Vietnamese without accents ("may say") and a
//!   pair of Chinese words ("太阳能 干燥机"), each the catalogue's whole query (matches ranked,
//!   kept where the visibility allows, the first page of 20 read);
//! - the index alone (every match, ranked), to tell it from the rest of the query;
//! - the reference: the plain indexed lookup of one technology by id, in the same run.
//!
//! Backend from `BENCH_DATABASE_URL` (a PostgreSQL URL) or a fresh SQLite file otherwise.
//! `scripts/bench-search.sh` runs it on both and prints the figures. Lines starting `BENCH_`
//! are for the script.

use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::SeedableRng;
use usefirst::accounts::{self, NewOrganisation};
use usefirst::audit::Who;
use usefirst::config::DatabaseConfig;
use usefirst::db::Db;
use usefirst::rules::roles::OrgKind;
use usefirst::search::{self, Kind};
use usefirst::technologies::{self, Narrow, Search, Visible};

const VI_QUERIES: [&str; 8] = [
    "may say",
    "nuoc thai",
    "phan mem",
    "vi sinh",
    "tuoi nho",
    "tinh dau",
    "be tong",
    "kiem tra",
];
const ZH_QUERIES: [&str; 4] = ["太阳能 干燥机", "废水 处理", "溯源 软件", "检测 试剂盒"];
const ROUNDS: usize = 40;
const BATCH: usize = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

fn report(label: &str, key: &str, mut times: Vec<Duration>) -> f64 {
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!(
        "{label:<58} n={:<5} p50 {p50:>8.3} ms  p95 {p95:>8.3} ms",
        times.len()
    );
    println!("BENCH_{key}_P50_MS={p50:.3}");
    println!("BENCH_{key}_P95_MS={p95:.3}");
    p50
}

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("BENCH_TECHNOLOGIES")
        .ok()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| dir.path().join("bench.db").to_string_lossy().into_owned());
    let db = Db::connect(&DatabaseConfig {
        url,
        pool_size: 2,
        busy_timeout_ms: 60_000,
        migrate_on_start: false,
    })?;
    db.migrate()?;
    println!("BENCH_BACKEND={}", db.backend().name());

    let now = Utc::now();
    let org = db.write(|conn| {
        accounts::create_organisation(
            conn,
            now,
            Who::SYSTEM,
            &NewOrganisation {
                kind: OrgKind::Institute,
                name: "Viện Cơ điện Nông nghiệp".into(),
                registration_no: "BENCH-SEARCH-1".into(),
                province: "Hà Nội".into(),
                contact_email: "bench.search@example.vn".into(),
            },
        )
    })?;
    let who = Who {
        user_id: None,
        organisation_id: Some(&org.id),
    };
    let mut rng = StdRng::seed_from_u64(usefirst::seed::DEFAULT_SEED);
    let loading = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let made = db.write(|conn| {
            (start..end)
                .map(|k| {
                    let input = usefirst::seed::sample_technology(k, &mut rng);
                    technologies::create(conn, now, who, &org.id, &input).map(|t| t.id)
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        ids.extend(made);
    }
    let load_s = loading.elapsed().as_secs_f64();
    println!(
        "loaded {count} technologies in {load_s:.1} s ({:.0} a second)",
        count as f64 / load_s
    );
    println!("BENCH_LOAD_S={load_s:.1}");

    let mut conn = db.reader()?;
    let search = |conn: &mut usefirst::db::DbConn, q: &str| {
        let s = Search {
            q: Some(q.into()),
            ..Search::default()
        };
        technologies::search_narrowed(conn, Visible::Listed, &s, &Narrow::default(), 20, 0)
    };
    // Every query finds something (a bench of empty answers would flatter the index), and
    // one warm-up pass of each.
    for q in VI_QUERIES.iter().chain(ZH_QUERIES.iter()) {
        let (_, total) = search(&mut conn, q)?;
        anyhow::ensure!(total > 0, "{q} found nothing");
        println!("  {q:<16} {total:>6} matches");
    }
    let mut vi = Vec::new();
    let mut zh = Vec::new();
    let mut lookups = Vec::new();
    let mut index_only = Vec::new();
    for round in 0..ROUNDS {
        for q in VI_QUERIES.iter().chain(ZH_QUERIES.iter()) {
            let t = Instant::now();
            std::hint::black_box(search::find(&mut conn, Kind::Technology, q, &[])?);
            index_only.push(t.elapsed());
        }
        for q in VI_QUERIES {
            let t = Instant::now();
            std::hint::black_box(search(&mut conn, q)?);
            vi.push(t.elapsed());
        }
        for q in ZH_QUERIES {
            let t = Instant::now();
            std::hint::black_box(search(&mut conn, q)?);
            zh.push(t.elapsed());
        }
        for k in 0..VI_QUERIES.len() {
            let id = &ids[(round * 7919 + k * 104_729) % ids.len()];
            let t = Instant::now();
            std::hint::black_box(technologies::get(&mut conn, id)?);
            lookups.push(t.elapsed());
        }
    }
    let mut both = vi.clone();
    both.extend(zh.iter().copied());
    report("two-word search, Vietnamese without accents", "VI", vi);
    report("two-word search, Chinese pair", "ZH", zh);
    let search_p50 = report("two-word search, all", "SEARCH", both);
    report(
        "of which the index alone (all matches, ranked)",
        "INDEX",
        index_only,
    );
    let lookup_p50 = report(
        "reference: technology by id (primary key)",
        "LOOKUP",
        lookups,
    );
    println!("BENCH_RATIO_P50={:.1}", search_p50 / lookup_p50);
    Ok(())
}

//! The service's Prometheus metrics, kept per instance (each instance is scraped on its own):
//! requests by route pattern, method and status with their latency; job runs by job and
//! outcome; and, read when scraped, the database pools' use, the SQLite writer's queue, the mail
//! outbox's depth and the age of its oldest unsent message; and the password checks made.
//! Held in `AppState`, never a global: two apps in one process (the tests) count apart.

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets, in seconds: from half a millisecond (a cached point read) to ten seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric, registered in its own registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    job_runs: IntCounterVec,
    job_seconds: HistogramVec,
    pool: IntGaugeVec,
    pool_max: IntGaugeVec,
    writes_waiting: IntGauge,
    outbox_unsent: IntGauge,
    outbox_oldest_seconds: IntGauge,
    password_checks: IntCounter,
    /// Views of a page that may be kept (`web::kept`): given as kept, or set.
    kept_given: IntCounter,
    kept_set: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new().expect("the metrics' names and labels are fixed and valid")
    }
}

/// What the scrape reads from the database and the process, set just before encoding.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// `(pool, in use, idle, most)`.
    pub pools: Vec<(&'static str, u32, u32, u32)>,
    /// SQLite's writes waiting for their COMMIT (None on PostgreSQL).
    pub writes_waiting: Option<u64>,
    pub outbox_unsent: i64,
    /// Seconds since the oldest unsent message was queued (0 when none is).
    pub outbox_oldest_seconds: i64,
}

/// Registers `metric` in `registry` and hands it back.
fn registered<M: Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> prometheus::Result<M> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl Metrics {
    fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new_custom(Some("usefirst".into()), None)?;
        let requests = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "http_requests_total",
                    "HTTP requests answered, by route pattern, method and status",
                ),
                &["route", "method", "status"],
            )?,
        )?;
        let latency = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time to answer an HTTP request, by route pattern, method and status",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["route", "method", "status"],
            )?,
        )?;
        let job_runs = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "job_runs_total",
                    "Scheduled job runs this instance made, by job and outcome (ok, failed)",
                ),
                &["job", "status"],
            )?,
        )?;
        let job_seconds = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new("job_run_duration_seconds", "Time a job run took, by job")
                    .buckets(vec![0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0]),
                &["job"],
            )?,
        )?;
        let pool = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "db_pool_connections",
                    "Database connections by pool and state (in_use, idle)",
                ),
                &["pool", "state"],
            )?,
        )?;
        let pool_max = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "db_pool_max_connections",
                    "The most connections a pool opens",
                ),
                &["pool"],
            )?,
        )?;
        let writes_waiting = registered(
            &registry,
            IntGauge::new(
                "db_writes_waiting",
                "SQLite: writes queued for the writer thread or in the batch it is committing",
            )?,
        )?;
        let outbox_unsent = registered(
            &registry,
            IntGauge::new(
                "mail_outbox_unsent",
                "Messages in the outbox waiting to be sent (new or to be retried)",
            )?,
        )?;
        let outbox_oldest_seconds = registered(
            &registry,
            IntGauge::new(
                "mail_outbox_oldest_unsent_age_seconds",
                "Seconds since the oldest unsent message was queued (0 when none waits)",
            )?,
        )?;
        let password_checks = registered(
            &registry,
            IntCounter::new(
                "password_checks_total",
                "Passwords checked against a hash since start, unknown e-mail addresses included",
            )?,
        )?;
        let kept = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "web_kept_page_views_total",
                    "Views of the pages kept for a repeated view (home, agreement, catalogue, \
                     document check): given as kept (nothing changed since they were set) or set anew",
                ),
                &["outcome"],
            )?,
        )?;
        let kept_given = kept.with_label_values(&["given"]);
        let kept_set = kept.with_label_values(&["set"]);
        Ok(Metrics {
            kept_given,
            kept_set,
            registry,
            requests,
            latency,
            job_runs,
            job_seconds,
            pool,
            pool_max,
            writes_waiting,
            outbox_unsent,
            outbox_oldest_seconds,
            password_checks,
        })
    }

    /// One answered request: `route` is the pattern it matched (`/api/v1/agreements/{id}`),
    /// never the raw path, so ids do not make new series.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// One password checked against a hash (`app::auth::check_password`).
    pub fn password_checked(&self) {
        self.password_checks.inc();
    }

    /// One view of a page that may be kept: `given` as kept, or set anew.
    pub fn kept_page_view(&self, given: bool) {
        if given {
            self.kept_given.inc();
        } else {
            self.kept_set.inc();
        }
    }

    /// The views of pages that may be kept since start: (given as kept, set anew).
    pub fn kept_page_views(&self) -> (u64, u64) {
        (self.kept_given.get(), self.kept_set.get())
    }

    /// The passwords checked since start.
    pub fn password_checks(&self) -> u64 {
        self.password_checks.get()
    }

    /// One job run that finished with `status` (`ok` or `failed`).
    pub fn job_run(&self, job: &str, status: &str, seconds: f64) {
        self.job_runs.with_label_values(&[job, status]).inc();
        self.job_seconds.with_label_values(&[job]).observe(seconds);
    }

    /// The text exposition format (`text/plain; version=0.0.4`), with `now`'s readings.
    pub fn render(&self, now: &Snapshot) -> prometheus::Result<String> {
        for (pool, in_use, idle, most) in &now.pools {
            self.pool
                .with_label_values(&[pool, "in_use"])
                .set(i64::from(*in_use));
            self.pool
                .with_label_values(&[pool, "idle"])
                .set(i64::from(*idle));
            self.pool_max
                .with_label_values(&[pool])
                .set(i64::from(*most));
        }
        self.writes_waiting.set(
            now.writes_waiting
                .unwrap_or(0)
                .try_into()
                .unwrap_or(i64::MAX),
        );
        self.outbox_unsent.set(now.outbox_unsent);
        self.outbox_oldest_seconds.set(now.outbox_oldest_seconds);
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

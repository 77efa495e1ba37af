//! The test harness: each test gets the real app on a random loopback port and a fresh
//! database — a temporary SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL
//! server, a new database created on it (dropped afterwards).

use std::net::TcpListener;

use actix_web::web;
use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};
use usefirst::accounts::{self, NewOrganisation, NewUser};
use usefirst::audit::Who;
use usefirst::clock::Clock;
use usefirst::config::Config;
use usefirst::db::Db;
use usefirst::rules::roles::{OrgKind, Role};
use usefirst::settlement::terms::Terms;
use usefirst::technologies::{self, Localized, TechnologyInput};
use usefirst::AppState;

pub const PASSWORD: &str = "correct horse battery staple";

/// The start of every test's world: 2026-03-02 09:00 in Ho Chi Minh City.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
}

/// Sessions that outlive the clock moves of a test (ten years).
pub fn long_sessions(c: &mut Config) {
    c.auth.session_idle_minutes = 10 * 366 * 24 * 60;
    c.auth.session_absolute_hours = 10 * 366 * 24;
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub state: web::Data<AppState>,
    pg_db: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// Which backend this run tests.
pub fn backend_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new database beside the one `url` names: (its URL, the admin URL, its name).
///
/// Both URLs ask for no TLS (a local test server needs none): the pools of finished tests keep
/// trying to reconnect to their dropped databases until the process ends, and with libpq
/// trying TLS first each attempt went through OpenSSL, whose clean-up at exit then raced them
/// ("double free or corruption" after every test had passed).
fn fresh_pg(url: &str) -> (String, String, String) {
    let url = if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?sslmode=disable")
    };
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let (server, _) = base
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL must end in /DBNAME");
    let name = format!("uf_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&url).expect("connect to TEST_DATABASE_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create test database");
    (format!("{server}/{name}?{query}"), url, name)
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the app after `tweak` adjusts the configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::load(None).unwrap();
        let mut pg_db = None;
        cfg.database.url = match backend_url() {
            Some(url) => {
                let (db_url, admin_url, name) = fresh_pg(&url);
                pg_db = Some((admin_url, name));
                db_url
            }
            None => dir.path().join("test.db").to_string_lossy().into_owned(),
        };
        cfg.database.pool_size = 4;
        cfg.mail.outbox_dir = dir.path().join("mail").to_string_lossy().into_owned();
        tweak(&mut cfg);
        let db = Db::connect(&cfg.database).unwrap();
        db.migrate().unwrap();
        Self::serve(cfg, db, Clock::manual(t0()), pg_db, dir)
    }

    /// Serves `cfg` on `db` at a free port of the loopback, with `clock`.
    fn serve(
        cfg: Config,
        db: Db,
        clock: Clock,
        pg_db: Option<(String, String)>,
        dir: tempfile::TempDir,
    ) -> TestApp {
        let state = web::Data::new(AppState::new(cfg, db, clock.clone()).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = usefirst::server(state.clone(), listener, 2).unwrap();
        actix_web::rt::spawn(server);
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            // Idle connections dropped before the server's 5 s keep-alive closes them.
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            clock,
            state,
            pg_db,
            _dir: dir,
        }
    }

    /// A second instance of the service on this one's database: its own connection pool,
    /// writer, session cache and HTTP server (and scheduler, when the test makes one from its
    /// state), sharing only the database and the test's manual clock, as two processes behind
    /// a load balancer share PostgreSQL. It must be dropped before this one.
    pub async fn spawn_beside(&self) -> TestApp {
        let cfg = (*self.state.cfg).clone();
        let db = Db::connect(&cfg.database).unwrap();
        Self::serve(
            cfg,
            db,
            self.clock.clone(),
            None,
            tempfile::tempdir().unwrap(),
        )
    }

    /// An app whose sessions outlive the months the manual clock jumps through (the default
    /// idle timeout would sign everyone out on the first `pass_days`).
    pub async fn spawn_long_sessions() -> TestApp {
        Self::spawn_with(long_sessions).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Runs `f` against the database directly (fixtures and checks, never the thing tested).
    pub fn db<T>(&self, f: impl FnOnce(&mut usefirst::db::DbConn) -> T) -> T {
        let mut conn = self.state.db.reader().unwrap();
        f(&mut conn)
    }

    /// Makes every time-driven transition due now, as the scheduler would.
    pub fn advance(&self) -> usize {
        usefirst::app::agreements::advance_due(&self.state.db, self.clock.now()).unwrap()
    }

    /// Closes the royalty contract years that are due now, as the scheduler would.
    pub fn close_royalty_years(&self) -> usize {
        usefirst::app::contracts::close_royalty_years(&self.state.db, self.clock.now()).unwrap()
    }

    /// Moves the clock by whole days and runs the time-driven work, as the scheduler would;
    /// returns how many contract years that closed.
    pub fn pass_days(&self, days: i64) -> usize {
        self.clock.advance(chrono::Duration::days(days));
        self.advance();
        self.close_royalty_years()
    }

    async fn send_get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        read(self.send_get(token, path).await).await
    }

    /// GETs `path` and returns the status, the headers and the body as bytes (documents).
    pub async fn get_bytes(
        &self,
        token: &str,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let res = self.send_get(token, path).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    /// POSTs an agreement action with `If-Match`.
    pub async fn act(
        &self,
        token: &str,
        id: &str,
        action: &str,
        version: i64,
        body: Value,
    ) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(&format!("/api/v1/agreements/{id}/{action}")))
            .bearer_auth(token)
            .header("If-Match", format!("\"{version}\""))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    /// A request with a JSON body and `If-Match: "version"`.
    /// Lists technology `id` as the platform does, through screening: its institute (`owner`)
    /// submits it at its current version and the world's admin lists it with every checklist
    /// item met. Returns the technology's version once listed.
    pub async fn list_through_screening(&self, w: &World, owner: &User, id: &str) -> i64 {
        let (s, tech) = self
            .get(&owner.token, &format!("/api/v1/technologies/{id}"))
            .await;
        assert_eq!(s, 200, "{tech}");
        let path = format!("/api/v1/technologies/{id}/screening");
        let version = tech["version"].as_i64().unwrap();
        let (s, record) = self
            .send_matching(
                reqwest::Method::POST,
                &owner.token,
                &path,
                version,
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{record}");
        let met = json!({"ok": true});
        let decision = json!({
            "outcome": "list", "trl": 6, "notes": "",
            "checklist": {"rights_clear": met, "inventors_agree": met, "valuation_basis": met},
        });
        let version = record["version"].as_i64().unwrap();
        let (s, record) = self
            .send_matching(
                reqwest::Method::POST,
                &w.admin.token,
                &format!("{path}/decision"),
                version,
                decision,
            )
            .await;
        assert_eq!(s, 200, "{record}");
        assert_eq!(record["status"], "listed", "{record}");
        record["version"].as_i64().unwrap()
    }

    pub async fn send_matching(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        version: i64,
        body: Value,
    ) -> (u16, Value) {
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("If-Match", format!("\"{version}\""))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    pub async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        let res = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        read(res).await
    }

    /// A count of rows in `table`, to prove a failed request changed nothing.
    pub fn count(&self, table: &str) -> i64 {
        count_rows(&self.state, table)
    }

    /// Row counts of every table that a request could change.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        [
            "organisations",
            "users",
            "technologies",
            "conversion_terms",
            "technology_screenings",
            "agreements",
            "audit_events",
            "idempotency_keys",
            "conversion_contracts",
            "schedule_lines",
            "payments",
            "payment_allocations",
            "sales_reports",
            "royalty_years",
            "insurance_policies",
            "insurance_products",
            "agreement_insurance",
            "insurance_claims",
            "counters",
            "outbox",
        ]
        .iter()
        .map(|t| (t.to_string(), self.count(t)))
        .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_db.take() {
            if let Ok(mut admin) = diesel::PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// A count of rows in `table` of the app's database (see [`TestApp::count`]).
pub fn count_rows(state: &AppState, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = state.db.reader().unwrap();
    let conn: &mut usefirst::db::DbConn = &mut conn;
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(conn)
        .unwrap()
        .n
}

/// The `id` of an agreement (or any resource) in a JSON answer.
pub fn id_of(a: &Value) -> String {
    a["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {a}"))
        .to_string()
}

/// The `version` of an agreement in a JSON answer.
pub fn version_of(a: &Value) -> i64 {
    a["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no version in {a}"))
}

pub async fn read(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// A signed-in user of the fixture world.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub org: String,
    pub token: String,
}

/// Two of each party, an operator admin and auditor, and listed technologies with terms:
/// `tech_a` (institute A, VND lump sum, no insurance), `tech_b` (institute B, USD
/// installments, insurance required), and a draft `tech_draft` of institute A.
pub struct World {
    pub admin: User,
    pub auditor: User,
    pub inst_a: User,
    pub inst_b: User,
    pub sme_a: User,
    pub sme_b: User,
    pub insurer_a: User,
    pub insurer_b: User,
    pub tech_a: String,
    pub tech_b: String,
    pub tech_draft: String,
    /// Insurer A's product for USD trials: both risks, up to 10,000.00 of cover at 1.5%,
    /// 500.00 deductible, premium shared 30/20/50 (SME / institute / subsidy).
    pub product_a: String,
}

impl World {
    /// Every user, with a label, for access matrices.
    pub fn all(&self) -> Vec<(&'static str, &User)> {
        vec![
            ("admin", &self.admin),
            ("auditor", &self.auditor),
            ("inst_a", &self.inst_a),
            ("inst_b", &self.inst_b),
            ("sme_a", &self.sme_a),
            ("sme_b", &self.sme_b),
            ("insurer_a", &self.insurer_a),
            ("insurer_b", &self.insurer_b),
        ]
    }
}

pub fn lump_sum_terms() -> Terms {
    serde_json::from_value(json!({
        "trial_days": 90, "decision_days": 30, "currency": "VND",
        "price": {"model": "lump_sum", "amount": "150000000", "due_days": 30},
        "insurance_required": false
    }))
    .unwrap()
}

/// A USD product covering both risks (the body of `POST /insurance/products`).
pub fn usd_product() -> Value {
    json!({
        "name": {"vi": "Bảo hiểm dùng thử công nghệ", "en": "Technology trial cover"},
        "risks": ["implementation_failure", "non_payment"], "currency": "USD",
        "premium_rate": "0.015", "max_coverage": "10000.00", "deductible": "500.00",
        "shares": {"sme": "0.3", "institute": "0.2", "subsidy": "0.5"},
        "subsidy_cap": "100.00", "active_from": "2026-01-01"
    })
}

pub fn installment_terms() -> Terms {
    serde_json::from_value(json!({
        "trial_days": 60, "decision_days": 14, "currency": "USD",
        "price": {"model": "installments", "total": "12000.00", "count": 4, "interval_months": 3, "first_due_days": 30},
        "insurance_required": true,
        "distribution": {"institute": "0.6", "inventors": "0.3", "intermediary": "0.1"}
    }))
    .unwrap()
}

impl TestApp {
    /// Builds the fixture world directly through the domain layer, and signs everyone in
    /// over HTTP.
    pub async fn world(&self) -> World {
        let now = self.clock.now();
        let specs: [(&str, OrgKind, Role); 8] = [
            ("admin", OrgKind::Operator, Role::Admin),
            ("auditor", OrgKind::Operator, Role::Auditor),
            ("inst_a", OrgKind::Institute, Role::Institute),
            ("inst_b", OrgKind::Institute, Role::Institute),
            ("sme_a", OrgKind::Sme, Role::Sme),
            ("sme_b", OrgKind::Sme, Role::Sme),
            ("insurer_a", OrgKind::Insurer, Role::Insurer),
            ("insurer_b", OrgKind::Insurer, Role::Insurer),
        ];
        let mut made = Vec::new();
        for (i, (label, kind, role)) in specs.iter().enumerate() {
            let email = format!("{}@example.vn", label.replace('_', "."));
            let org = self
                .state
                .db
                .write(|conn| {
                    let org = accounts::create_organisation(
                        conn,
                        now,
                        Who::SYSTEM,
                        &NewOrganisation {
                            kind: *kind,
                            name: format!("Tổ chức {label}"),
                            registration_no: format!("REG-{i:03}"),
                            province: if i % 2 == 0 {
                                "Đồng Tháp".into()
                            } else {
                                "Bình Dương".into()
                            },
                            contact_email: format!("contact.{label}@example.vn"),
                        },
                    )?;
                    accounts::create_user(
                        conn,
                        now,
                        Who::SYSTEM,
                        &NewUser {
                            organisation_id: org.id.clone(),
                            email: email.clone(),
                            display_name: format!("Người dùng {label}"),
                            role: *role,
                            password: PASSWORD.into(),
                            locale: None,
                        },
                        "vi",
                    )?;
                    Ok::<_, usefirst::error::AppError>(org)
                })
                .unwrap();
            made.push((email, org.id));
        }
        let mut users = Vec::new();
        for (email, org) in made {
            let (status, body) = self.login(&email, PASSWORD).await;
            assert_eq!(status, 200, "{body}");
            let id = body["user"]["user_id"].as_str().unwrap().to_string();
            users.push(User {
                id,
                email,
                org,
                token: body["token"].as_str().unwrap().to_string(),
            });
        }
        let tech = |owner: &User, title: &str, status: &str, terms: Terms| -> String {
            self.add_technology(owner, title, "agriculture", status, terms)
        };
        let mut it = users.into_iter();
        let mut next = || it.next().unwrap();
        let (admin, auditor, inst_a, inst_b, sme_a, sme_b, insurer_a, insurer_b) = (
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
        );
        let tech_a = tech(&inst_a, "A", "listed", lump_sum_terms());
        let tech_b = tech(&inst_b, "B", "listed", installment_terms());
        let tech_draft = tech(&inst_a, "Draft", "draft", lump_sum_terms());
        let product_a = self
            .state
            .db
            .write(|conn| {
                usefirst::insurance::products::create(
                    conn,
                    now,
                    Who {
                        user_id: Some(&insurer_a.id),
                        organisation_id: Some(&insurer_a.org),
                    },
                    &insurer_a.org,
                    &serde_json::from_value(usd_product()).unwrap(),
                )
            })
            .unwrap()
            .id;
        World {
            product_a,
            admin,
            auditor,
            inst_a,
            inst_b,
            sme_a,
            sme_b,
            insurer_a,
            insurer_b,
            tech_a,
            tech_b,
            tech_draft,
        }
    }

    /// A technology of `owner`'s institute in `field`, with `terms`; returns its id.
    pub fn add_technology(
        &self,
        owner: &User,
        title: &str,
        field: &str,
        status: &str,
        terms: Terms,
    ) -> String {
        self.add_technology_with(owner, title, field, status, terms, |_| {})
    }

    /// [`TestApp::add_technology`], its description changed by `tweak` first (another IP kind,
    /// say), stored with `status` as it is, as the seed does.
    pub fn add_technology_with(
        &self,
        owner: &User,
        title: &str,
        field: &str,
        status: &str,
        terms: Terms,
        tweak: impl FnOnce(&mut TechnologyInput),
    ) -> String {
        let now = self.clock.now();
        let mut input = TechnologyInput {
            title: Localized {
                vi: format!("Công nghệ {title}"),
                en: format!("Technology {title}"),
            },
            summary: Localized {
                vi: "Tóm tắt".into(),
                en: "Summary".into(),
            },
            field: field.into(),
            ip_type: "patent".into(),
            ip_reference: format!("VN 1-{title}"),
            valuation: usefirst::settlement::money::MoneyText {
                amount: "500000000".into(),
                currency: "VND".into(),
            },
            status: Some(status.into()),
        };
        tweak(&mut input);
        self.state
            .db
            .write(|conn| {
                let who = Who {
                    user_id: Some(&owner.id),
                    organisation_id: Some(&owner.org),
                };
                let t = technologies::create(conn, now, who, &owner.org, &input)?;
                technologies::add_terms(conn, now, who, &t.id, terms)?;
                Ok::<_, usefirst::error::AppError>(t.id)
            })
            .unwrap()
    }

    /// An SME requests a trial of `tech` starting `start` (YYYY-MM-DD); returns the agreement.
    pub async fn request(&self, sme: &User, tech: &str, start: &str) -> Value {
        let (status, body) = self
            .post(&sme.token, "/api/v1/agreements", json!({
                "technology_id": tech, "place_of_use": "Nhà máy Cao Lãnh", "message": "Xin dùng thử", "requested_start": start
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// `sme` requests a trial of `tech` (of institute `inst`, no insurance) from `start`, and
    /// it is approved and signed by both sides. Returns the agreement's id.
    pub async fn signed_trial(&self, sme: &User, inst: &User, tech: &str, start: &str) -> String {
        let a = self.request(sme, tech, start).await;
        let id = id_of(&a);
        let mut v = version_of(&a);
        for (token, action) in [
            (&inst.token, "approve"),
            (&sme.token, "sign"),
            (&inst.token, "sign"),
        ] {
            let (s, next) = self.act(token, &id, action, v, json!({})).await;
            assert_eq!(s, 200, "{action}: {next}");
            v = version_of(&next);
        }
        id
    }

    /// `sme` requests a trial of `tech_b` (institute B, insured by insurer A) from `start`,
    /// and it is approved and signed by both sides. Returns the signed agreement.
    pub async fn signed_insured(&self, w: &World, sme: &User, start: &str) -> Value {
        let mut a = self.request(sme, &w.tech_b, start).await;
        let id = id_of(&a);
        for (token, action, body) in [
            (
                &w.inst_b.token,
                "approve",
                json!({"insurance_product_id": w.product_a}),
            ),
            (&sme.token, "sign", json!({})),
            (&w.inst_b.token, "sign", json!({})),
        ] {
            let (s, next) = self.act(token, &id, action, version_of(&a), body).await;
            assert_eq!(s, 200, "{action}: {next}");
            a = next;
        }
        assert_eq!(a["status"], "signed");
        a
    }

    /// Requests, approves and has both sides sign an agreement on `tech_a` between
    /// `sme_a` and `inst_a`, starting on the request day + 1. Returns the signed agreement.
    pub async fn signed_agreement(&self, w: &World) -> Value {
        let a = self.request(&w.sme_a, &w.tech_a, "2026-03-03").await;
        let id = a["id"].as_str().unwrap().to_string();
        let (s, a) = self
            .act(
                &w.inst_a.token,
                &id,
                "approve",
                a["version"].as_i64().unwrap(),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        let (s, a) = self
            .act(
                &w.sme_a.token,
                &id,
                "sign",
                a["version"].as_i64().unwrap(),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        let (s, a) = self
            .act(
                &w.inst_a.token,
                &id,
                "sign",
                a["version"].as_i64().unwrap(),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        assert_eq!(a["status"], "signed");
        a
    }
}

/// `body` is the problem `slug`.
pub fn assert_problem(body: &Value, slug: &str) {
    assert_eq!(
        body["type"],
        format!("urn:usefirst:problem:{slug}"),
        "expected {slug}: {body}"
    );
}

/// `body` is a validation problem naming `field`.
pub fn assert_field_error(body: &Value, field: &str) {
    assert_problem(body, "validation-failed");
    let errors = body["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["field"] == field),
        "no error on {field}: {body}"
    );
}

impl TestApp {
    /// SME B's trial of B (4 installments of 3,000.00 every 3 months, insured by insurer A),
    /// converted on 2026-03-10 (due 2026-04-09, 07-09, 10-09 and 2027-01-09); the first
    /// installment unpaid past the grace period, institute B claims non-payment, insurer A
    /// upholds it, and the SME then pays it late, on 2026-05-10 (the clock's day). Returns the
    /// agreement's id.
    pub async fn converted_paid_late_after_a_claim(&self, w: &World) -> String {
        let a = self.signed_insured(w, &w.sme_b, "2026-03-10").await;
        let id = id_of(&a);
        self.pass_days(8);
        let (_, a) = self
            .get(&w.sme_b.token, &format!("/api/v1/agreements/{id}"))
            .await;
        let (s, a) = self
            .act(&w.sme_b.token, &id, "convert", version_of(&a), json!({}))
            .await;
        assert_eq!(s, 200, "{a}");
        self.pass_days(61);
        let (s, claim) = self
            .post(
                &w.inst_b.token,
                "/api/v1/claims",
                json!({"agreement_id": id, "risk": "non_payment", "amount": "3000.00",
                       "reason": "Kỳ 1 quá hạn hơn 30 ngày", "evidence": "Bảng kê thanh toán"}),
            )
            .await;
        assert_eq!(s, 201, "{claim}");
        let (s, claim) = self
            .send_matching(
                reqwest::Method::POST,
                &w.insurer_a.token,
                &format!("/api/v1/claims/{}/approve", id_of(&claim)),
                version_of(&claim),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{claim}");
        let (s, st) = self
            .post(
                &w.inst_b.token,
                &format!("/api/v1/agreements/{id}/payments"),
                json!({"amount": "3000.00", "received_on": "2026-05-10", "reference": "VCB-1"}),
            )
            .await;
        assert_eq!(s, 201, "{st}");
        id
    }
}

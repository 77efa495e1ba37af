//! The access matrix: who sees and changes what.
//!
//! Every user belongs to one organisation and sees only what that organisation is party to
//! (insurers: only the agreements they cover); admins and auditors see everything. Whatever
//! the caller may not see answers 404 — the same bytes as for an id that does not exist, so
//! nothing leaks — and what the caller sees but may not do answers 403. Refused requests
//! change nothing: the refusals run first, between two database snapshots, and the calls
//! that legitimately succeed are checked afterwards on fresh agreements.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Every person-made agreement action.
const ACTIONS: [&str; 8] = [
    "approve",
    "reject",
    "withdraw",
    "sign",
    "convert",
    "decline",
    "terminate",
    "extend",
];

/// A response with what the leak checks need.
struct Resp {
    status: u16,
    content_type: String,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    if_match: Option<i64>,
    body: Option<Value>,
) -> Resp {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(v) = if_match {
        req = req.header("If-Match", format!("\"{v}\""));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Resp {
        status,
        content_type,
        text: res.text().await.unwrap(),
    }
}

fn assert_problem(r: &Resp, status: u16, slug: &str, ctx: &str) {
    assert_eq!(r.status, status, "{ctx}: {}", r.text);
    assert_eq!(r.content_type, "application/problem+json", "{ctx}");
    assert_eq!(
        r.json()["type"],
        format!("urn:usefirst:problem:{slug}"),
        "{ctx}: {}",
        r.text
    );
}

/// The body a well-formed request for `action` carries.
fn action_body(action: &str) -> Value {
    match action {
        "reject" | "terminate" => json!({"reason": "Không phù hợp"}),
        "extend" => json!({"days": 10}),
        _ => json!({}),
    }
}

/// One agreement of the matrix and its parties.
#[derive(Clone)]
struct Agr {
    id: String,
    number: String,
    version: i64,
    sme: String,
    institute: String,
    insurer: Option<String>,
}

impl Agr {
    fn of(v: &Value) -> Agr {
        Agr {
            id: v["id"].as_str().unwrap().into(),
            number: v["number"].as_str().unwrap().into(),
            version: v["version"].as_i64().unwrap(),
            sme: v["sme_id"].as_str().unwrap().into(),
            institute: v["institute_id"].as_str().unwrap().into(),
            insurer: v["insurer_id"].as_str().map(String::from),
        }
    }

    /// Strings a refusal must never reveal.
    fn secrets(&self) -> Vec<&str> {
        let mut s = vec![
            self.id.as_str(),
            self.number.as_str(),
            self.sme.as_str(),
            self.institute.as_str(),
        ];
        s.extend(self.insurer.as_deref());
        s
    }
}

/// Agreement A: sme_a ↔ inst_a on tech_a, approved, insured by nobody.
async fn approved_a(app: &TestApp, w: &World) -> Agr {
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let (s, a) = app
        .act(
            &w.inst_a.token,
            a["id"].as_str().unwrap(),
            "approve",
            a["version"].as_i64().unwrap(),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert!(a["insurer_id"].is_null());
    Agr::of(&a)
}

/// Agreement B: sme_b ↔ inst_b on tech_b, approved with insurer_a's product chosen.
async fn approved_b(app: &TestApp, w: &World) -> Agr {
    let b = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let (s, b) = app
        .act(
            &w.inst_b.token,
            b["id"].as_str().unwrap(),
            "approve",
            b["version"].as_i64().unwrap(),
            json!({"insurance_product_id": w.product_a}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["insurer_id"], w.insurer_a.org.as_str());
    Agr::of(&b)
}

/// What a user's request for an action on an approved agreement should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Allowed and possible now: the one kind of call that changes something.
    Ok,
    /// Visible, but not this user's action (403).
    Forbidden,
    /// This user's action, but not from `approved` (409).
    WrongState,
    /// Not the user's to see (404).
    Hidden,
}

/// The rules, spelled out for `label` acting on agreement `on` (`'A'` or `'B'`, both
/// approved): A is sme_a ↔ inst_a uninsured; B is sme_b ↔ inst_b insured by insurer_a.
fn expect(label: &str, on: char, action: &str) -> Expect {
    use Expect::*;
    let party = matches!(
        (label, on),
        ("admin" | "auditor", _)
            | ("sme_a" | "inst_a", 'A')
            | ("sme_b" | "inst_b" | "insurer_a", 'B')
    );
    if !party {
        return Hidden;
    }
    let role = label.trim_end_matches("_a").trim_end_matches("_b");
    match (role, action) {
        // Only the parties act; approve/reject/extend are the institute's, withdraw/convert/
        // decline the SME's, both sign, and terminate is theirs and the operator's.
        ("sme", "withdraw" | "sign") => Ok,
        ("sme", "convert" | "decline" | "terminate") => WrongState,
        ("inst", "sign") => Ok,
        ("inst", "approve" | "reject" | "terminate" | "extend") => WrongState,
        ("admin", "terminate") => WrongState,
        // Auditors and insurers read only; everything else is not the caller's action.
        _ => Forbidden,
    }
}

/// (id, status, version) of every agreement, to prove refused actions moved nothing.
fn agreement_rows(app: &TestApp) -> Vec<(String, String, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT id, status, version FROM agreements ORDER BY id")
            .load::<Row>(c)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.status, r.version))
            .collect()
    })
}

fn assert_no_leak(r: &Resp, agr: &Agr, ctx: &str) {
    for secret in agr.secrets() {
        assert!(
            !r.text.contains(secret),
            "{ctx}: the refusal reveals {secret}: {}",
            r.text
        );
    }
}

#[actix_web::test]
async fn agreement_matrix_every_endpoint_every_user() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = approved_a(&app, &w).await;
    let b = approved_b(&app, &w).await;
    // The 404 of an id that does not exist: a hidden agreement must answer exactly this.
    let ghost = "0190f0f0-0000-7000-8000-000000000000";
    let nothing_get = send(
        &app,
        Method::GET,
        &w.sme_a.token,
        &format!("/api/v1/agreements/{ghost}"),
        None,
        None,
    )
    .await;
    assert_problem(&nothing_get, 404, "not-found", "unknown id");

    let before = (app.snapshot(), agreement_rows(&app));
    let mut successes = Vec::new();
    let mut checked = 0;
    for (label, user) in w.all() {
        for (on, agr) in [('A', &a), ('B', &b)] {
            let visible = expect(label, on, "approve") != Expect::Hidden;
            for suffix in ["", "/events"] {
                let path = format!("/api/v1/agreements/{}{suffix}", agr.id);
                let ctx = format!("{label} GET {on}{suffix}");
                let r = send(&app, Method::GET, &user.token, &path, None, None).await;
                if visible {
                    assert_eq!(r.status, 200, "{ctx}: {}", r.text);
                    if suffix.is_empty() {
                        assert_eq!(r.json()["id"], agr.id.as_str(), "{ctx}");
                        assert_eq!(r.json()["number"], agr.number.as_str(), "{ctx}");
                    } else {
                        let events = r.json();
                        let events = events.as_array().expect("events are an array");
                        assert!(events.len() >= 2, "{ctx}: requested and approved");
                    }
                } else {
                    assert_problem(&r, 404, "not-found", &ctx);
                    assert_no_leak(&r, agr, &ctx);
                    assert_eq!(
                        r.text, nothing_get.text,
                        "{ctx}: differs from an unknown id"
                    );
                }
                checked += 1;
            }
            for action in ACTIONS {
                let want = expect(label, on, action);
                if want == Expect::Ok {
                    successes.push((label, on, action));
                    continue;
                }
                let path = format!("/api/v1/agreements/{}/{action}", agr.id);
                let ctx = format!("{label} {action} {on}");
                let r = send(
                    &app,
                    Method::POST,
                    &user.token,
                    &path,
                    Some(agr.version),
                    Some(action_body(action)),
                )
                .await;
                match want {
                    Expect::Hidden => {
                        assert_problem(&r, 404, "not-found", &ctx);
                        assert_no_leak(&r, agr, &ctx);
                        let ghost_path = format!("/api/v1/agreements/{ghost}/{action}");
                        let g = send(
                            &app,
                            Method::POST,
                            &user.token,
                            &ghost_path,
                            Some(agr.version),
                            Some(action_body(action)),
                        )
                        .await;
                        assert_eq!(r.text, g.text, "{ctx}: differs from an unknown id");
                    }
                    Expect::Forbidden => assert_problem(&r, 403, "forbidden", &ctx),
                    Expect::WrongState => {
                        assert_problem(&r, 409, "invalid-transition", &ctx);
                        assert_eq!(r.json()["current_state"], "approved", "{ctx}");
                    }
                    Expect::Ok => unreachable!(),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * 2 * (2 + ACTIONS.len()) - successes.len());
    assert_eq!(
        (app.snapshot(), agreement_rows(&app)),
        before,
        "a refused request changed the database"
    );

    // The calls the matrix allows do succeed, each on a fresh agreement of the same kind.
    assert_eq!(successes.len(), 6, "{successes:?}");
    for (label, on, action) in successes {
        let user = w.all().into_iter().find(|(l, _)| *l == label).unwrap().1;
        let fresh = if on == 'A' {
            approved_a(&app, &w).await
        } else {
            approved_b(&app, &w).await
        };
        let (s, body) = app
            .act(
                &user.token,
                &fresh.id,
                action,
                fresh.version,
                action_body(action),
            )
            .await;
        assert_eq!(s, 200, "{label} {action} {on}: {body}");
        assert_eq!(body["version"], fresh.version + 1);
    }
}

#[actix_web::test]
async fn agreement_list_is_scoped_and_filters_cannot_widen_it() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = approved_a(&app, &w).await;
    let b = approved_b(&app, &w).await;
    // A third, still requested and uninsured, between sme_a and inst_b.
    let c = Agr::of(&app.request(&w.sme_a, &w.tech_b, "2026-03-10").await);
    let ids = |list: &[&Agr]| list.iter().map(|x| x.id.clone()).collect::<BTreeSet<_>>();
    let expected: [(&str, BTreeSet<String>); 8] = [
        ("admin", ids(&[&a, &b, &c])),
        ("auditor", ids(&[&a, &b, &c])),
        ("inst_a", ids(&[&a])),
        ("inst_b", ids(&[&b, &c])),
        ("sme_a", ids(&[&a, &c])),
        ("sme_b", ids(&[&b])),
        ("insurer_a", ids(&[&b])),
        ("insurer_b", ids(&[])),
    ];
    let list = |token: String, query: String| {
        let app = &app;
        async move {
            let (s, body) = app
                .get(&token, &format!("/api/v1/agreements?per_page=100{query}"))
                .await;
            assert_eq!(s, 200, "{query}: {body}");
            let got: BTreeSet<String> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                body["total"],
                got.len() as i64,
                "{query}: total counts the same set"
            );
            got
        }
    };
    for ((label, user), (l2, want)) in w.all().into_iter().zip(expected.iter()) {
        assert_eq!(label, *l2);
        assert_eq!(
            &list(user.token.clone(), String::new()).await,
            want,
            "{label}"
        );
    }
    // Filters narrow within the caller's scope, never widen it.
    let widen: [(&User, String); 7] = [
        (&w.sme_a, format!("&sme_id={}", w.sme_b.org)),
        (&w.sme_a, format!("&institute_id={}", w.inst_a.org)),
        (&w.sme_a, format!("&technology_id={}", w.tech_a)),
        (&w.inst_a, format!("&institute_id={}", w.inst_b.org)),
        (&w.inst_a, format!("&sme_id={}", w.sme_b.org)),
        (&w.insurer_b, format!("&sme_id={}", w.sme_b.org)),
        (&w.insurer_a, "&status=requested".to_string()),
    ];
    let narrowed = [
        ids(&[]),
        ids(&[&a]),
        ids(&[&a]),
        ids(&[]),
        ids(&[]),
        ids(&[]),
        ids(&[]),
    ];
    for ((user, q), want) in widen.iter().zip(narrowed) {
        assert_eq!(
            list(user.token.clone(), q.clone()).await,
            want,
            "{} {q}",
            user.email
        );
    }
    // For the supervisors, the same filters do select.
    assert_eq!(
        list(w.admin.token.clone(), format!("&sme_id={}", w.sme_b.org)).await,
        ids(&[&b])
    );
    assert_eq!(
        list(w.auditor.token.clone(), "&status=requested".into()).await,
        ids(&[&c])
    );
}

#[actix_web::test]
async fn draft_technologies_are_seen_only_by_their_institute_and_supervisors() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.snapshot();
    for (label, user) in w.all() {
        let sees = matches!(label, "admin" | "auditor" | "inst_a");
        for suffix in ["", "/terms"] {
            let path = format!("/api/v1/technologies/{}{suffix}", w.tech_draft);
            let r = send(&app, Method::GET, &user.token, &path, None, None).await;
            if sees {
                assert_eq!(r.status, 200, "{label} {suffix}: {}", r.text);
            } else {
                assert_problem(&r, 404, "not-found", &format!("{label} GET draft{suffix}"));
                assert!(!r.text.contains(&w.tech_draft) && !r.text.contains(&w.inst_a.org));
            }
        }
        // Listed technologies are everyone's to read.
        for tech in [&w.tech_a, &w.tech_b] {
            let (s, _) = app
                .get(&user.token, &format!("/api/v1/technologies/{tech}"))
                .await;
            assert_eq!(s, 200, "{label}");
        }
        // Search never finds another institute's draft, however it is asked.
        for query in [
            "q=Draft".to_string(),
            "status=draft".to_string(),
            format!("institute_id={}", w.inst_a.org),
            format!("institute_id={}&status=draft&q=cong%20nghe", w.inst_a.org),
        ] {
            let (s, body) = app
                .get(
                    &user.token,
                    &format!("/api/v1/technologies?per_page=100&{query}"),
                )
                .await;
            assert_eq!(s, 200, "{label} {query}: {body}");
            let found = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == w.tech_draft.as_str());
            assert_eq!(found, sees, "{label} {query}: {body}");
        }
    }
    // Others may not change what they can see, nor what they cannot.
    let terms = serde_json::to_value(lump_sum_terms()).unwrap();
    for (user, tech, status) in [
        (&w.inst_b, &w.tech_draft, 404),
        (&w.sme_a, &w.tech_draft, 404),
        (&w.insurer_a, &w.tech_draft, 404),
        (&w.inst_b, &w.tech_a, 403),
        (&w.sme_a, &w.tech_a, 403),
        (&w.auditor, &w.tech_a, 403),
        (&w.admin, &w.tech_draft, 403),
    ] {
        let r = send(
            &app,
            Method::POST,
            &user.token,
            &format!("/api/v1/technologies/{tech}/terms"),
            None,
            Some(terms.clone()),
        )
        .await;
        let slug = if status == 404 {
            "not-found"
        } else {
            "forbidden"
        };
        assert_problem(&r, status, slug, &format!("{} terms on {tech}", user.email));
    }
    assert_eq!(app.snapshot(), before);
}

#[actix_web::test]
async fn search_ignores_accents_and_case() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let search = |token: String, q: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url("/api/v1/technologies"))
                .query(&[("q", q), ("per_page", "100")])
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let (s, body) = read(res).await;
            assert_eq!(s, 200, "{q}: {body}");
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect::<BTreeSet<_>>()
        }
    };
    let set = |ids: &[&String]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    for q in [
        "cong nghe",
        "Công nghệ",
        "CÔNG NGHỆ",
        "công nghe",
        "cong   nghe",
    ] {
        assert_eq!(
            search(w.sme_a.token.clone(), q).await,
            set(&[&w.tech_a, &w.tech_b]),
            "sme {q}"
        );
        assert_eq!(
            search(w.inst_a.token.clone(), q).await,
            set(&[&w.tech_a, &w.tech_b, &w.tech_draft]),
            "own institute {q}"
        );
        assert_eq!(
            search(w.inst_b.token.clone(), q).await,
            set(&[&w.tech_a, &w.tech_b]),
            "other institute {q}"
        );
    }
    assert_eq!(
        search(w.sme_a.token.clone(), "cong nghe b").await,
        set(&[&w.tech_b])
    );
    assert_eq!(
        search(w.sme_a.token.clone(), "tóm tắt").await,
        set(&[&w.tech_a, &w.tech_b])
    );
    assert_eq!(
        search(w.sme_a.token.clone(), "cong nghe draft").await,
        set(&[])
    );
    assert_eq!(
        search(w.inst_a.token.clone(), "cong nghe draft").await,
        set(&[&w.tech_draft])
    );
    // LIKE wildcards are matched literally.
    assert_eq!(search(w.sme_a.token.clone(), "%").await, set(&[]));
    assert_eq!(search(w.sme_a.token.clone(), "_").await, set(&[]));
}

fn new_org(reg: &str) -> Value {
    json!({"kind": "sme", "name": "Công ty Mới", "registration_no": reg,
           "province": "Cần Thơ", "contact_email": format!("lienhe.{reg}@example.vn")})
}

fn new_user(org: &str, email: &str) -> Value {
    json!({"organisation_id": org, "email": email, "display_name": "Nguyễn Văn Mới",
           "role": "sme", "password": "mùa thu Hà Nội 2026"})
}

#[actix_web::test]
async fn accounts_are_managed_by_admins_and_read_within_the_organisation() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.snapshot();
    let orgs: Vec<(&str, &String)> = w.all().into_iter().map(|(l, u)| (l, &u.org)).collect();
    for (label, user) in w.all() {
        let ctx = |what: &str| format!("{label} {what}");
        if label != "admin" {
            let r = send(
                &app,
                Method::POST,
                &user.token,
                "/api/v1/organisations",
                None,
                Some(new_org(&format!("X-{label}"))),
            )
            .await;
            assert_problem(&r, 403, "forbidden", &ctx("POST /organisations"));
            let r = send(
                &app,
                Method::POST,
                &user.token,
                "/api/v1/users",
                None,
                Some(new_user(&w.sme_a.org, &format!("new.{label}@example.vn"))),
            )
            .await;
            assert_problem(&r, 403, "forbidden", &ctx("POST /users"));
        }
        let supervisor = matches!(label, "admin" | "auditor");
        for path in ["/api/v1/organisations", "/api/v1/users"] {
            let r = send(&app, Method::GET, &user.token, path, None, None).await;
            if supervisor {
                assert_eq!(r.status, 200, "{}", ctx(path));
            } else {
                assert_problem(&r, 403, "forbidden", &ctx(path));
            }
        }
        for (other_label, org) in &orgs {
            let r = send(
                &app,
                Method::GET,
                &user.token,
                &format!("/api/v1/organisations/{org}"),
                None,
                None,
            )
            .await;
            let own = **org == user.org;
            if supervisor || own {
                assert_eq!(
                    r.status,
                    200,
                    "{} {other_label}: {}",
                    ctx("GET org"),
                    r.text
                );
                assert_eq!(r.json()["id"], org.as_str());
            } else {
                assert_problem(
                    &r,
                    404,
                    "not-found",
                    &ctx(&format!("GET org of {other_label}")),
                );
                assert!(!r.text.contains(org.as_str()));
            }
        }
        let r = send(
            &app,
            Method::GET,
            &user.token,
            "/api/v1/audit/verify",
            None,
            None,
        )
        .await;
        if supervisor {
            assert_eq!(r.status, 200, "{}", ctx("verify"));
            assert_eq!(r.json()["ok"], true);
        } else {
            assert_problem(&r, 404, "not-found", &ctx("GET /audit/verify"));
        }
    }
    let r = send(
        &app,
        Method::GET,
        &w.admin.token,
        "/api/v1/organisations/no-such-org",
        None,
        None,
    )
    .await;
    assert_problem(&r, 404, "not-found", "admin GET unknown org");
    assert_eq!(
        app.snapshot(),
        before,
        "a refused request changed the database"
    );

    // The admin's own requests succeed.
    let (s, org) = app
        .post(&w.admin.token, "/api/v1/organisations", new_org("NEW-1"))
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_str().unwrap();
    let (s, user) = app
        .post(
            &w.admin.token,
            "/api/v1/users",
            new_user(org_id, "moi@example.vn"),
        )
        .await;
    assert_eq!(s, 201, "{user}");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    let (s, me) = app.login("moi@example.vn", "mùa thu Hà Nội 2026").await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["user"]["organisation_id"], org_id);
}

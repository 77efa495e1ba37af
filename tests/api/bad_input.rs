//! Bad input at every writing endpoint: each answers a problem document with the right status
//! and `type`, names the offending field by its JSON path, and changes nothing. Garbage never
//! gives a 500.

use serde_json::{json, Value};

use crate::helpers::*;

/// A body as sent: JSON text, or raw bytes with their content type.
enum Body {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

fn raw(text: &str) -> Body {
    Body::Raw("application/json", text.as_bytes().to_vec())
}

/// One bad request and what it must answer.
struct Case {
    what: String,
    path: String,
    token: String,
    body: Body,
    if_match: Option<String>,
    status: u16,
    slug: &'static str,
    /// For 422: exactly the fields named in `errors[]`.
    fields: &'static [&'static str],
}

fn case(
    what: impl Into<String>,
    token: &str,
    path: impl Into<String>,
    body: Body,
    status: u16,
    slug: &'static str,
    fields: &'static [&'static str],
) -> Case {
    Case {
        what: what.into(),
        path: path.into(),
        token: token.to_string(),
        body,
        if_match: None,
        status,
        slug,
        fields,
    }
}

fn invalid(
    what: impl Into<String>,
    token: &str,
    path: impl Into<String>,
    body: Value,
    fields: &'static [&'static str],
) -> Case {
    case(
        what,
        token,
        path,
        Body::Json(body),
        422,
        "validation-failed",
        fields,
    )
}

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Body,
    if_match: Option<&str>,
) -> (u16, String, Value) {
    let mut req = app.client.post(app.url(path));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    req = match body {
        Body::Json(v) => req.json(v),
        Body::Raw(ct, bytes) => {
            let req = if ct.is_empty() {
                req
            } else {
                req.header("content-type", *ct)
            };
            req.body(bytes.clone())
        }
    };
    let res = req.send().await.unwrap();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let (status, body) = read(res).await;
    (status, ct, body)
}

/// Sends every case and checks its answer, and that the database did not change.
async fn check(app: &TestApp, cases: Vec<Case>) {
    let before = app.snapshot();
    for c in cases {
        let (status, ct, body) = post(app, &c.token, &c.path, &c.body, c.if_match.as_deref()).await;
        let ctx = format!("{} (POST {})", c.what, c.path);
        assert_eq!(status, c.status, "{ctx}: {body}");
        assert_eq!(ct, "application/problem+json", "{ctx}");
        assert_eq!(
            body["type"],
            format!("urn:usefirst:problem:{}", c.slug),
            "{ctx}: {body}"
        );
        assert_eq!(body["status"], c.status, "{ctx}");
        if c.status == 422 {
            let named: Vec<&str> = body["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{ctx}: no errors[]: {body}"))
                .iter()
                .map(|e| {
                    assert!(
                        e["message"].as_str().is_some_and(|m| !m.is_empty()),
                        "{ctx}: {body}"
                    );
                    e["field"].as_str().unwrap()
                })
                .collect();
            assert_eq!(named, c.fields, "{ctx}: {body}");
        }
        assert_eq!(
            app.snapshot(),
            before,
            "{ctx}: a failed request changed the database"
        );
    }
}

/// `base` with `path` (dotted) set to `value`, or removed when `value` is `None`.
fn with(base: &Value, path: &str, value: Option<Value>) -> Value {
    let mut out = base.clone();
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut at = &mut out;
    for p in parts {
        at = &mut at[p];
    }
    let obj = at.as_object_mut().unwrap();
    match value {
        Some(v) => {
            obj.insert(last.to_string(), v);
        }
        None => {
            obj.remove(last);
        }
    }
    out
}

fn oversized() -> Body {
    let filler = "x".repeat(70_000);
    Body::Raw(
        "application/json",
        format!(r#"{{"filler":"{filler}"}}"#).into_bytes(),
    )
}

/// The generic cases every JSON endpoint must handle alike.
fn generic(token: &str, path: &str, valid: &Value) -> Vec<Case> {
    vec![
        case(
            "malformed JSON",
            token,
            path,
            raw("{,}"),
            400,
            "malformed-body",
            &[],
        ),
        case(
            "single quotes",
            token,
            path,
            raw("{'a': 1}"),
            400,
            "malformed-body",
            &[],
        ),
        case(
            "truncated",
            token,
            path,
            raw(valid.to_string().trim_end_matches('}')),
            400,
            "malformed-body",
            &[],
        ),
        case(
            "text/plain",
            token,
            path,
            Body::Raw("text/plain", valid.to_string().into_bytes()),
            415,
            "unsupported-media-type",
            &[],
        ),
        case(
            "form content type",
            token,
            path,
            Body::Raw("application/x-www-form-urlencoded", b"a=b".to_vec()),
            415,
            "unsupported-media-type",
            &[],
        ),
        case(
            "no content type",
            token,
            path,
            Body::Raw("", valid.to_string().into_bytes()),
            415,
            "unsupported-media-type",
            &[],
        ),
        case(
            "oversized body",
            token,
            path,
            oversized(),
            413,
            "payload-too-large",
            &[],
        ),
        invalid(
            "unknown field",
            token,
            path,
            with(valid, "is_admin", Some(json!(true))),
            &["is_admin"],
        ),
        invalid("a string body", token, path, json!("text"), &["body"]),
    ]
}

fn trial_request(tech: &str) -> Value {
    json!({"technology_id": tech, "place_of_use": "Nhà máy Sa Đéc", "message": "Xin dùng thử", "requested_start": "2026-03-10"})
}

#[actix_web::test]
async fn trial_requests() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.sme_a.token.as_str();
    let p = "/api/v1/agreements";
    let ok = trial_request(&w.tech_a);
    let mut cases = generic(t, p, &ok);
    cases.extend([
        invalid(
            "requested_start a number",
            t,
            p,
            with(&ok, "requested_start", Some(json!(5))),
            &["requested_start"],
        ),
        invalid(
            "requested_start not a date",
            t,
            p,
            with(&ok, "requested_start", Some(json!("2026-02-30"))),
            &["requested_start"],
        ),
        invalid(
            "requested_start not ISO",
            t,
            p,
            with(&ok, "requested_start", Some(json!("10/03/2026"))),
            &["requested_start"],
        ),
        invalid(
            "requested_start in the past",
            t,
            p,
            with(&ok, "requested_start", Some(json!("2026-03-01"))),
            &["requested_start"],
        ),
        invalid(
            "technology_id missing",
            t,
            p,
            with(&ok, "technology_id", None),
            &["technology_id"],
        ),
        invalid(
            "requested_start missing",
            t,
            p,
            with(&ok, "requested_start", None),
            &["requested_start"],
        ),
        invalid(
            "place_of_use missing",
            t,
            p,
            with(&ok, "place_of_use", None),
            &["place_of_use"],
        ),
        invalid(
            "place_of_use blank",
            t,
            p,
            with(&ok, "place_of_use", Some(json!("   "))),
            &["place_of_use"],
        ),
        invalid(
            "technology_id a number",
            t,
            p,
            with(&ok, "technology_id", Some(json!(7))),
            &["technology_id"],
        ),
        invalid(
            "technology_id unknown",
            t,
            p,
            trial_request("0190f0f0-0000-7000-8000-000000000000"),
            &["technology_id"],
        ),
        invalid(
            "technology_id a draft",
            t,
            p,
            trial_request(&w.tech_draft),
            &["technology_id"],
        ),
        invalid(
            "message too long",
            t,
            p,
            with(&ok, "message", Some(json!("m".repeat(4001)))),
            &["message"],
        ),
    ]);
    check(&app, cases).await;
    // The same body is fine.
    let (s, body) = app.post(t, p, ok).await;
    assert_eq!(s, 201, "{body}");
}

fn technology() -> Value {
    json!({
        "title": {"vi": "Công nghệ sấy lạnh", "en": "Cold drying"},
        "summary": {"vi": "Tóm tắt", "en": "Summary"},
        "field": "food_processing", "ip_type": "patent", "ip_reference": "VN 1-0042",
        "valuation": {"amount": "250000000", "currency": "VND"}
    })
}

#[actix_web::test]
async fn technologies() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.inst_a.token.as_str();
    let p = "/api/v1/technologies";
    let ok = technology();
    let usd = with(
        &ok,
        "valuation",
        Some(json!({"amount": "1500.00", "currency": "USD"})),
    );
    let mut cases = generic(t, p, &ok);
    let amount = |v: Value| with(&ok, "valuation.amount", Some(v));
    cases.extend([
        invalid(
            "amount a float number",
            t,
            p,
            amount(json!(1.5)),
            &["valuation.amount"],
        ),
        invalid(
            "amount an integer number",
            t,
            p,
            amount(json!(250000000)),
            &["valuation.amount"],
        ),
        invalid(
            "amount 1e6",
            t,
            p,
            amount(json!("1e6")),
            &["valuation.amount"],
        ),
        invalid(
            "amount -5",
            t,
            p,
            amount(json!("-5")),
            &["valuation.amount"],
        ),
        invalid(
            "amount with decimals in VND",
            t,
            p,
            amount(json!("1.5")),
            &["valuation.amount"],
        ),
        invalid(
            "amount junk",
            t,
            p,
            amount(json!("1,000")),
            &["valuation.amount"],
        ),
        invalid(
            "amount too large",
            t,
            p,
            amount(json!("99999999999999999999")),
            &["valuation.amount"],
        ),
        invalid(
            "amount 1.234 USD",
            t,
            p,
            with(&usd, "valuation.amount", Some(json!("1.234"))),
            &["valuation.amount"],
        ),
        invalid(
            "unknown currency",
            t,
            p,
            with(&ok, "valuation.currency", Some(json!("XYZ"))),
            &["valuation.currency"],
        ),
        invalid(
            "valuation missing",
            t,
            p,
            with(&ok, "valuation", None),
            &["valuation"],
        ),
        invalid(
            "valuation.currency missing",
            t,
            p,
            with(&ok, "valuation", Some(json!({"amount": "1"}))),
            &["valuation.currency"],
        ),
        invalid(
            "unknown field in valuation",
            t,
            p,
            with(&ok, "valuation.rate", Some(json!("1"))),
            &["valuation.rate"],
        ),
        invalid("title missing", t, p, with(&ok, "title", None), &["title"]),
        invalid(
            "title.en missing",
            t,
            p,
            with(&ok, "title", Some(json!({"vi": "x"}))),
            &["title.en"],
        ),
        invalid(
            "title.vi blank",
            t,
            p,
            with(&ok, "title.vi", Some(json!(""))),
            &["title.vi"],
        ),
        invalid(
            "title a string",
            t,
            p,
            with(&ok, "title", Some(json!("x"))),
            &["title"],
        ),
        invalid(
            "unknown ip_type",
            t,
            p,
            with(&ok, "ip_type", Some(json!("banana"))),
            &["ip_type"],
        ),
        invalid(
            "unknown status",
            t,
            p,
            with(&ok, "status", Some(json!("published"))),
            &["status"],
        ),
    ]);
    check(&app, cases).await;
    // Only institutes list technologies.
    check(
        &app,
        vec![case(
            "an SME lists",
            &w.sme_a.token,
            p,
            Body::Json(ok.clone()),
            403,
            "forbidden",
            &[],
        )],
    )
    .await;
    let (s, body) = app.post(t, p, usd).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["valuation"]["amount"], "1500.00");
}

fn royalty_terms() -> Value {
    json!({"trial_days": 90, "decision_days": 30, "currency": "USD",
           "price": {"model": "royalty", "rate": "0.035", "min_per_year": "1000.00"},
           "insurance_required": false})
}

#[actix_web::test]
async fn conversion_terms() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.inst_a.token.as_str();
    let p = format!("/api/v1/technologies/{}/terms", w.tech_a);
    let p = p.as_str();
    let lump = serde_json::to_value(lump_sum_terms()).unwrap();
    let usd = with(&lump, "currency", Some(json!("USD")));
    let royalty = royalty_terms();
    let inst = serde_json::to_value(installment_terms()).unwrap();
    let mut cases = generic(t, p, &lump);
    let price =
        |base: &Value, field: &str, v: Value| with(base, &format!("price.{field}"), Some(v));
    cases.extend([
        invalid(
            "trial_days a string",
            t,
            p,
            with(&lump, "trial_days", Some(json!("x"))),
            &["trial_days"],
        ),
        invalid(
            "trial_days negative",
            t,
            p,
            with(&lump, "trial_days", Some(json!(-1))),
            &["trial_days"],
        ),
        invalid(
            "trial_days a float",
            t,
            p,
            with(&lump, "trial_days", Some(json!(1.5))),
            &["trial_days"],
        ),
        invalid(
            "trial_days zero",
            t,
            p,
            with(&lump, "trial_days", Some(json!(0))),
            &["trial_days"],
        ),
        invalid(
            "trial_days too long",
            t,
            p,
            with(&lump, "trial_days", Some(json!(5000))),
            &["trial_days"],
        ),
        invalid(
            "decision_days missing",
            t,
            p,
            with(&lump, "decision_days", None),
            &["decision_days"],
        ),
        invalid(
            "unknown currency",
            t,
            p,
            with(&lump, "currency", Some(json!("BTC"))),
            &["currency"],
        ),
        invalid(
            "lower-case currency",
            t,
            p,
            with(&lump, "currency", Some(json!("vnd"))),
            &["currency"],
        ),
        invalid(
            "price.amount 1e6",
            t,
            p,
            price(&lump, "amount", json!("1e6")),
            &["price.amount"],
        ),
        invalid(
            "price.amount -5",
            t,
            p,
            price(&lump, "amount", json!("-5")),
            &["price.amount"],
        ),
        invalid(
            "price.amount 1.234 VND",
            t,
            p,
            price(&lump, "amount", json!("1.234")),
            &["price.amount"],
        ),
        invalid(
            "price.amount 1.234 USD",
            t,
            p,
            price(&usd, "amount", json!("1.234")),
            &["price.amount"],
        ),
        invalid(
            "price.amount zero",
            t,
            p,
            price(&lump, "amount", json!("0")),
            &["price.amount"],
        ),
        invalid(
            "price.amount missing",
            t,
            p,
            with(
                &lump,
                "price",
                Some(json!({"model": "lump_sum", "due_days": 30})),
            ),
            &["price.amount"],
        ),
        invalid(
            "unknown field in price",
            t,
            p,
            price(&lump, "discount", json!("1")),
            &["price.discount"],
        ),
        invalid(
            "price.rate 1.5",
            t,
            p,
            price(&royalty, "rate", json!("1.5")),
            &["price.rate"],
        ),
        invalid(
            "price.rate negative",
            t,
            p,
            price(&royalty, "rate", json!("-0.1")),
            &["price.rate"],
        ),
        invalid(
            "price.min_per_year 1.234",
            t,
            p,
            price(&royalty, "min_per_year", json!("1.234")),
            &["price.min_per_year"],
        ),
        invalid(
            "price.total 1e6",
            t,
            p,
            price(&inst, "total", json!("1e6")),
            &["price.total"],
        ),
        invalid(
            "price.count zero",
            t,
            p,
            price(&inst, "count", json!(0)),
            &["price.count"],
        ),
        invalid(
            "early discount 1.5",
            t,
            p,
            with(&lump, "early_conversion_discount", Some(json!("1.5"))),
            &["early_conversion_discount"],
        ),
        invalid(
            "late interest junk",
            t,
            p,
            with(&lump, "late_payment_daily_rate", Some(json!("3%"))),
            &["late_payment_daily_rate"],
        ),
        invalid(
            "distribution not summing to 1",
            t,
            p,
            with(
                &inst,
                "distribution",
                Some(json!({"institute": "0.6", "inventors": "0.3", "intermediary": "0.2"})),
            ),
            &["distribution"],
        ),
        invalid(
            "distribution share 1.5",
            t,
            p,
            with(&inst, "distribution.inventors", Some(json!("1.5"))),
            &["distribution.inventors"],
        ),
        invalid(
            "distribution share missing",
            t,
            p,
            with(
                &inst,
                "distribution",
                Some(json!({"institute": "0.6", "inventors": "0.4"})),
            ),
            &["distribution.intermediary"],
        ),
        invalid(
            "insurance_required a string",
            t,
            p,
            with(&lump, "insurance_required", Some(json!("yes"))),
            &["insurance_required"],
        ),
    ]);
    check(&app, cases).await;
    // Terms of a technology that does not exist, or that the caller cannot see.
    check(
        &app,
        vec![
            case(
                "unknown technology",
                t,
                "/api/v1/technologies/no-such-tech/terms",
                Body::Json(lump.clone()),
                404,
                "not-found",
                &[],
            ),
            case(
                "another institute's draft",
                &w.inst_b.token,
                format!("/api/v1/technologies/{}/terms", w.tech_draft),
                Body::Json(lump.clone()),
                404,
                "not-found",
                &[],
            ),
        ],
    )
    .await;
    let (s, body) = app.post(t, p, royalty).await;
    assert_eq!(s, 201, "{body}");
}

fn org(reg: &str) -> Value {
    json!({"kind": "institute", "name": "Viện Lúa Đồng bằng", "registration_no": reg,
           "province": "Cần Thơ", "contact_email": "vienlua@example.vn"})
}

fn user(org: &str) -> Value {
    json!({"organisation_id": org, "email": "moi@example.vn", "display_name": "Trần Thị Mới",
           "role": "institute", "password": "lúa nổi mùa nước 2026"})
}

#[actix_web::test]
async fn organisations_and_users() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.admin.token.as_str();
    let po = "/api/v1/organisations";
    let o = org("NEW-1");
    let mut cases = generic(t, po, &o);
    cases.extend([
        invalid("unknown kind", t, po, with(&o, "kind", Some(json!("bank"))), &["kind"]),
        invalid("kind missing", t, po, with(&o, "kind", None), &["kind"]),
        invalid("name blank", t, po, with(&o, "name", Some(json!(" "))), &["name"]),
        invalid("name a number", t, po, with(&o, "name", Some(json!(1))), &["name"]),
        invalid("contact_email invalid", t, po, with(&o, "contact_email", Some(json!("vienlua"))), &["contact_email"]),
        invalid("province too long", t, po, with(&o, "province", Some(json!("p".repeat(101)))), &["province"]),
        // sme_a's organisation was registered as REG-004.
        case("duplicate registration", t, po, Body::Json(json!({"kind": "sme", "name": "Trùng", "registration_no": "REG-004", "province": "Cần Thơ", "contact_email": "trung@example.vn"})), 409, "conflict", &[]),
    ]);
    check(&app, cases).await;

    let pu = "/api/v1/users";
    let u = user(&w.inst_a.org);
    let mut cases = generic(t, pu, &u);
    cases.extend([
        invalid(
            "common password",
            t,
            pu,
            with(&u, "password", Some(json!("password123"))),
            &["password"],
        ),
        invalid(
            "common password, any case",
            t,
            pu,
            with(&u, "password", Some(json!("PASSWORD123"))),
            &["password"],
        ),
        invalid(
            "short password",
            t,
            pu,
            with(&u, "password", Some(json!("ngắn"))),
            &["password"],
        ),
        invalid(
            "password is the e-mail",
            t,
            pu,
            with(&u, "password", Some(json!("moi@example.vn"))),
            &["password"],
        ),
        invalid(
            "password missing",
            t,
            pu,
            with(&u, "password", None),
            &["password"],
        ),
        invalid(
            "role not the organisation's kind",
            t,
            pu,
            with(&u, "role", Some(json!("sme"))),
            &["role"],
        ),
        invalid(
            "admin in an institute",
            t,
            pu,
            with(&u, "role", Some(json!("admin"))),
            &["role"],
        ),
        invalid(
            "unknown role",
            t,
            pu,
            with(&u, "role", Some(json!("emperor"))),
            &["role"],
        ),
        invalid(
            "email invalid",
            t,
            pu,
            with(&u, "email", Some(json!("moi at example"))),
            &["email"],
        ),
        invalid(
            "unknown locale",
            t,
            pu,
            with(&u, "locale", Some(json!("fr"))),
            &["locale"],
        ),
        invalid(
            "unknown organisation",
            t,
            pu,
            with(&u, "organisation_id", Some(json!("no-such-org"))),
            &["organisation_id"],
        ),
        case(
            "duplicate email",
            t,
            pu,
            Body::Json(with(&u, "email", Some(json!(w.inst_b.email)))),
            409,
            "conflict",
            &[],
        ),
        case(
            "duplicate email, other case",
            t,
            pu,
            Body::Json(with(
                &u,
                "email",
                Some(json!(w.inst_b.email.to_uppercase())),
            )),
            409,
            "conflict",
            &[],
        ),
    ]);
    check(&app, cases).await;
    let (s, body) = app.post(t, po, o).await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app.post(t, pu, u).await;
    assert_eq!(s, 201, "{body}");
}

#[actix_web::test]
async fn login() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let p = "/api/v1/auth/login";
    let ok = json!({"email": w.sme_a.email, "password": PASSWORD});
    let mut cases = generic("", p, &ok);
    cases.extend([
        invalid(
            "password missing",
            "",
            p,
            with(&ok, "password", None),
            &["password"],
        ),
        invalid("email missing", "", p, with(&ok, "email", None), &["email"]),
        invalid(
            "email a number",
            "",
            p,
            with(&ok, "email", Some(json!(42))),
            &["email"],
        ),
        invalid(
            "password null",
            "",
            p,
            with(&ok, "password", Some(Value::Null)),
            &["password"],
        ),
    ]);
    check(&app, cases).await;
    let (s, body) = app.login(&w.sme_a.email, PASSWORD).await;
    assert_eq!(s, 200, "{body}");
}

#[actix_web::test]
async fn agreement_actions() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let id = a["id"].as_str().unwrap();
    let b = app.request(&w.sme_b, &w.tech_b, "2026-03-10").await;
    let b_id = b["id"].as_str().unwrap();
    let t = w.inst_a.token.as_str();
    let approve = format!("/api/v1/agreements/{id}/approve");
    let p = approve.as_str();
    let matched = |mut c: Case, v: &str| {
        c.if_match = Some(v.to_string());
        c
    };
    let mut cases: Vec<Case> = generic(t, p, &json!({}))
        .into_iter()
        .map(|c| matched(c, "\"1\""))
        .collect();
    let on = |action: &str| format!("/api/v1/agreements/{id}/{action}");
    cases.extend(
        [
            invalid(
                "trial_start a number",
                t,
                p,
                json!({"trial_start": 5}),
                &["trial_start"],
            ),
            invalid(
                "trial_start not a date",
                t,
                p,
                json!({"trial_start": "2026-03-32"}),
                &["trial_start"],
            ),
            invalid(
                "trial_start in the past",
                t,
                p,
                json!({"trial_start": "2026-03-01"}),
                &["trial_start"],
            ),
            invalid(
                "insurer_id not an insurer",
                t,
                p,
                json!({"insurer_id": w.sme_b.org}),
                &["insurer_id"],
            ),
            invalid(
                "insurer_id unknown",
                t,
                p,
                json!({"insurer_id": "no-such-org"}),
                &["insurer_id"],
            ),
            invalid(
                "insurance required, none named",
                &w.inst_b.token,
                format!("/api/v1/agreements/{b_id}/approve"),
                json!({}),
                &["insurer_id"],
            ),
            invalid(
                "reject without reason",
                t,
                on("reject"),
                json!({}),
                &["reason"],
            ),
            invalid(
                "reject with a blank reason",
                t,
                on("reject"),
                json!({"reason": "  "}),
                &["reason"],
            ),
            invalid(
                "reject with a reason too long",
                t,
                on("reject"),
                json!({"reason": "r".repeat(2001)}),
                &["reason"],
            ),
            invalid(
                "reason a number",
                t,
                on("reject"),
                json!({"reason": 1}),
                &["reason"],
            ),
            invalid(
                "extend days a string",
                t,
                on("extend"),
                json!({"days": "x"}),
                &["days"],
            ),
            invalid(
                "extend days negative",
                t,
                on("extend"),
                json!({"days": -3}),
                &["days"],
            ),
            invalid("extend without days", t, on("extend"), json!({}), &["days"]),
            invalid(
                "a field sign does not take",
                t,
                on("sign"),
                json!({"reason": "x"}),
                &["reason"],
            ),
            case(
                "unknown action",
                t,
                on("publish"),
                Body::Json(json!({})),
                404,
                "not-found",
                &[],
            ),
            case(
                "a time-driven action",
                t,
                on("start"),
                Body::Json(json!({})),
                404,
                "not-found",
                &[],
            ),
        ]
        .into_iter()
        .map(|c| matched(c, "\"1\"")),
    );
    let version = |v: &str, status: u16, slug: &'static str, fields: &'static [&'static str]| {
        matched(
            case(
                format!("If-Match {v}"),
                t,
                p,
                Body::Json(json!({})),
                status,
                slug,
                fields,
            ),
            v,
        )
    };
    cases.extend([
        version("abc", 422, "validation-failed", &["If-Match"]),
        version("\"\"", 422, "validation-failed", &["If-Match"]),
        version("\"1.0\"", 422, "validation-failed", &["If-Match"]),
        version("*", 422, "validation-failed", &["If-Match"]),
        version("\"0\"", 412, "precondition-failed", &[]),
        version("\"2\"", 412, "precondition-failed", &[]),
        version("W/\"7\"", 412, "precondition-failed", &[]),
        case(
            "no If-Match",
            t,
            p,
            Body::Json(json!({})),
            428,
            "precondition-required",
            &[],
        ),
    ]);
    check(&app, cases).await;
    // A stale version reports the current one.
    let (s, body) = app.act(t, id, "approve", 5, json!({})).await;
    assert_eq!(
        (s, body["current_version"].as_i64()),
        (412, Some(1)),
        "{body}"
    );
    let (s, body) = app
        .act(t, id, "approve", 1, json!({"trial_start": "2026-03-12"}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["trial_start"], "2026-03-12");
}

#[actix_web::test]
async fn unknown_agreements_are_404() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.snapshot();
    for id in [
        "0190f0f0-0000-7000-8000-000000000000",
        "nope",
        "%27%20OR%201=1--",
        "x%2Fy",
    ] {
        for suffix in ["", "/events"] {
            let (s, body) = app
                .get(&w.admin.token, &format!("/api/v1/agreements/{id}{suffix}"))
                .await;
            assert_eq!(
                (s, body["type"].as_str()),
                (404, Some("urn:usefirst:problem:not-found")),
                "{id}{suffix}: {body}"
            );
        }
        for action in ["approve", "sign", "withdraw", "terminate"] {
            let body = if action == "terminate" {
                json!({"reason": "x"})
            } else {
                json!({})
            };
            let (s, res) = app.act(&w.inst_a.token, id, action, 1, body).await;
            assert_eq!(
                (s, res["type"].as_str()),
                (404, Some("urn:usefirst:problem:not-found")),
                "{id} {action}: {res}"
            );
        }
    }
    assert_eq!(app.snapshot(), before);
}

/// Bodies no endpoint should choke on.
fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    vec![
        ("empty", Vec::new()),
        ("whitespace", b"  \n ".to_vec()),
        ("null", b"null".to_vec()),
        ("[]", b"[]".to_vec()),
        ("{}", b"{}".to_vec()),
        ("[{}]", b"[{}]".to_vec()),
        ("a number", b"42".to_vec()),
        ("true", b"true".to_vec()),
        ("deeply nested arrays", deep.into_bytes()),
        ("deeply nested objects", deep_obj.into_bytes()),
        (
            "a huge number",
            format!("1{}", "0".repeat(5_000)).into_bytes(),
        ),
        ("a huge exponent", b"1e999999".to_vec()),
        (
            "huge numbers in fields",
            br#"{"trial_days":1e400,"days":99999999999999999999999,"requested_start":-1e308}"#
                .to_vec(),
        ),
        ("invalid UTF-8", b"\xff\xfe\xfd".to_vec()),
        (
            "invalid UTF-8 in a string",
            b"{\"email\":\"\xc3\x28\",\"password\":\"\xff\"}".to_vec(),
        ),
        (
            "a lone surrogate",
            br#"{"email":"\ud800","password":"x"}"#.to_vec(),
        ),
        ("NUL bytes", b"{\"\0\":\0}".to_vec()),
        ("a BOM", b"\xef\xbb\xbf{}".to_vec()),
        (
            "duplicate keys",
            br#"{"reason":"a","reason":"b","days":1,"days":2}"#.to_vec(),
        ),
    ]
}

#[actix_web::test]
async fn garbage_never_gives_a_500() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let id = a["id"].as_str().unwrap();
    let endpoints: Vec<(&str, String, Option<&str>)> = vec![
        (w.sme_a.token.as_str(), "/api/v1/agreements".into(), None),
        (w.inst_a.token.as_str(), "/api/v1/technologies".into(), None),
        (
            w.inst_a.token.as_str(),
            format!("/api/v1/technologies/{}/terms", w.tech_a),
            None,
        ),
        (w.admin.token.as_str(), "/api/v1/organisations".into(), None),
        (w.admin.token.as_str(), "/api/v1/users".into(), None),
        ("", "/api/v1/auth/login".into(), None),
        // Actions that cannot succeed from `requested` with an empty body, so a garbage body
        // the server reads as `{}` still changes nothing.
        (
            w.inst_a.token.as_str(),
            format!("/api/v1/agreements/{id}/reject"),
            Some("\"1\""),
        ),
        (
            w.inst_a.token.as_str(),
            format!("/api/v1/agreements/{id}/extend"),
            Some("\"1\""),
        ),
        (
            w.inst_a.token.as_str(),
            format!("/api/v1/agreements/{id}/terminate"),
            Some("\"1\""),
        ),
        (
            w.sme_a.token.as_str(),
            format!("/api/v1/agreements/{id}/convert"),
            Some("\"1\""),
        ),
    ];
    let before = app.snapshot();
    for (token, path, if_match) in &endpoints {
        for (what, bytes) in garbage() {
            for ct in [
                "application/json",
                "application/json; charset=utf-8",
                "application/problem+json",
            ] {
                let (s, ct_back, body) =
                    post(&app, token, path, &Body::Raw(ct, bytes.clone()), *if_match).await;
                assert!(
                    (400..500).contains(&s),
                    "{what} ({ct}) at {path}: {s} {body}"
                );
                assert_eq!(ct_back, "application/problem+json", "{what} at {path}");
            }
        }
    }
    assert_eq!(app.snapshot(), before);
    let (s, a) = app
        .get(&w.sme_a.token, &format!("/api/v1/agreements/{id}"))
        .await;
    assert_eq!(
        (s, a["status"].as_str(), a["version"].as_i64()),
        (200, Some("requested"), Some(1))
    );
}

/// A body is one JSON document and nothing else: trailing bytes, a second document, or a
/// document cut short after a wrongly typed field are malformed (400), never accepted and
/// never reported as a field error.
#[actix_web::test]
async fn a_body_is_exactly_one_json_document() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.request(&w.sme_a, &w.tech_a, "2026-03-10").await;
    let approve = format!("/api/v1/agreements/{}/approve", a["id"].as_str().unwrap());
    let terms = format!("/api/v1/technologies/{}/terms", w.tech_a);
    // (token, path, a valid body, a string field to mistype)
    let endpoints: [(&str, &str, Value, &str); 7] = [
        (
            &w.sme_a.token,
            "/api/v1/agreements",
            trial_request(&w.tech_a),
            "technology_id",
        ),
        (
            &w.inst_a.token,
            "/api/v1/technologies",
            technology(),
            "field",
        ),
        (
            &w.inst_a.token,
            &terms,
            serde_json::to_value(lump_sum_terms()).unwrap(),
            "currency",
        ),
        (
            &w.admin.token,
            "/api/v1/organisations",
            org("NEW-1"),
            "name",
        ),
        (
            &w.admin.token,
            "/api/v1/users",
            user(&w.inst_a.org),
            "email",
        ),
        (
            "",
            "/api/v1/auth/login",
            json!({"email": w.sme_a.email, "password": PASSWORD}),
            "email",
        ),
        (
            &w.inst_a.token,
            &approve,
            json!({"trial_start": "2026-03-12"}),
            "trial_start",
        ),
    ];
    let mut cases = Vec::new();
    for (token, path, valid, field) in endpoints {
        for (what, text) in [
            ("trailing garbage", format!("{valid} x")),
            ("trailing comma", format!("{valid},")),
            ("two documents", format!("{valid}{valid}")),
            ("a document and an array", format!("{valid} []")),
            (
                "cut short after a mistyped field",
                format!(r#"{{"{field}": 5, "#),
            ),
        ] {
            let mut c = case(what, token, path, raw(&text), 400, "malformed-body", &[]);
            c.if_match = Some("\"1\"".into());
            cases.push(c);
        }
    }
    check(&app, cases).await;
}

/// Errors inside `price` (a tagged union) still name the field inside it.
#[actix_web::test]
async fn price_errors_name_the_field_inside_price() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.inst_a.token.as_str();
    let p = format!("/api/v1/technologies/{}/terms", w.tech_a);
    let p = p.as_str();
    let lump = serde_json::to_value(lump_sum_terms()).unwrap();
    let royalty = royalty_terms();
    let inst = serde_json::to_value(installment_terms()).unwrap();
    let price =
        |base: &Value, field: &str, v: Value| with(base, &format!("price.{field}"), Some(v));
    check(
        &app,
        vec![
            invalid(
                "price.amount a float",
                t,
                p,
                price(&lump, "amount", json!(1.5)),
                &["price.amount"],
            ),
            invalid(
                "price.amount an integer",
                t,
                p,
                price(&lump, "amount", json!(150000000)),
                &["price.amount"],
            ),
            invalid(
                "price.due_days negative",
                t,
                p,
                price(&lump, "due_days", json!(-1)),
                &["price.due_days"],
            ),
            invalid(
                "price.rate a float",
                t,
                p,
                price(&royalty, "rate", json!(0.035)),
                &["price.rate"],
            ),
            invalid(
                "price.min_per_year a number",
                t,
                p,
                price(&royalty, "min_per_year", json!(1000)),
                &["price.min_per_year"],
            ),
            invalid(
                "price.count a string",
                t,
                p,
                price(&inst, "count", json!("x")),
                &["price.count"],
            ),
            invalid(
                "price.model unknown",
                t,
                p,
                price(&lump, "model", json!("barter")),
                &["price.model"],
            ),
            invalid(
                "price.model missing",
                t,
                p,
                with(&lump, "price", Some(json!({"amount": "1", "due_days": 1}))),
                &["price.model"],
            ),
        ],
    )
    .await;
}

/// A NUL character is valid JSON and can be percent-encoded into a path or query, but no text
/// the service keeps or looks up may hold one (PostgreSQL refuses it, which answered 500):
/// in a body it is an invalid field (422, named), in a path it names nothing (404), in a
/// query it is an invalid parameter (422, named). Nothing changes.
#[actix_web::test]
async fn nul_characters_are_refused_not_stored() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let before = app.snapshot();
    let bodies: Vec<(&str, &str, &str, &str)> = vec![
        (
            w.sme_a.token.as_str(),
            "/api/v1/agreements",
            r#"{"technology_id":"a\u0000b","place_of_use":"Plant 2","requested_start":"2026-03-10"}"#,
            "technology_id",
        ),
        (
            "",
            "/api/v1/auth/login",
            r#"{"email":"sme\u0000@example.test","password":"x"}"#,
            "email",
        ),
        (
            w.admin.token.as_str(),
            "/api/v1/users",
            r#"{"organisation_id":"\u0000","email":"a@b.test","display_name":"A","role":"sme","password":"long enough password"}"#,
            "organisation_id",
        ),
    ];
    for (token, path, text, field) in bodies {
        let (s, ct, body) = post(&app, token, path, &raw(text), None).await;
        assert_eq!(
            (s, body["type"].as_str()),
            (422, Some("urn:usefirst:problem:validation-failed")),
            "{path}: {body}"
        );
        assert_eq!(ct, "application/problem+json", "{path}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    for path in [
        "/api/v1/agreements/%00",
        "/api/v1/agreements/a%00b/events",
        "/api/v1/technologies/%00",
        "/api/v1/organisations/%00",
    ] {
        let (s, body) = app.get(&w.admin.token, path).await;
        assert_eq!(
            (s, body["type"].as_str()),
            (404, Some("urn:usefirst:problem:not-found")),
            "{path}: {body}"
        );
    }
    let (s, body) = app
        .get(&w.sme_a.token, "/api/v1/technologies?q=a%00b")
        .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("q")),
        "{body}"
    );
    // A page's path or query with a NUL: the page in the visitor's language, not JSON.
    for (path, status, text) in [
        ("/verify/%00", 404, "Không tìm thấy"),
        ("/catalogue?q=a%00b", 422, "Một số giá trị không hợp lệ"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let page = res.text().await.unwrap();
        assert!(page.contains(text), "{path}: {page}");
    }
    assert_eq!(app.snapshot(), before);
}

"""The bad input corpus: every operation of /api/openapi.json that takes a request body or
parameters, as a role allowed to call it, on that role's own objects, with bad JSON (truncated,
the wrong top-level type, empty, deeply nested, not JSON), wrong types per field, strings too
long and bodies over `server.max_body_bytes`, odd unicode (NUL, lone surrogates, RTL marks,
emoji, combining marks), amounts that overflow i64 or are negative, zero or finer than a minor
unit, impossible dates, bad ids in the path (not a UUID, path traversal, very long), bad query
parameters and headers, and mass assignment (a valid body plus fields that are not inputs,
then the object read back).

Figures (targets 0): 5xx answers, partial writes (row counts changed by a request answered
4xx), mass-assigned fields that took effect, 4xx answers that are not application/problem+json.

    PROBE_SEED       replays a run's sample (printed on stderr)
    PROBE_MAX_CASES  cases per operation at most (default 45), sampled with the seed
"""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from service import Service, finish, quote, rng, say  # noqa: E402
import spec as openapi  # noqa: E402
from world import ROLES, SEES_ALL, World  # noqa: E402

NAME = "probe-bad-input"
MAX_BODY = 65536
MAX_CASES = int(os.environ.get("PROBE_MAX_CASES", "45"))
# Rows a refused request writes by design: (operation, table) and why.
RECORDS_OF_REFUSALS = {
    ("POST /api/v1/auth/login", "login_failures"): "a refused sign-in is counted for throttling",
}
# Operations not called at all, each with why.
SKIP = {
    "POST /api/v1/auth/logout": "ends the session the other calls use",
}
# Fields a client never sets (who, what state, which version, what price); each is sent with
# a value that stands out, and must not be what the object reads back.
INJECTED = {
    "id": "00000000-0000-4000-8000-00000000beef",
    "role": "admin",
    "organisation_id": "00000000-0000-4000-8000-0000000000aa",
    "organization_id": "00000000-0000-4000-8000-0000000000aa",
    "organization": "00000000-0000-4000-8000-0000000000aa",
    "sme_id": "00000000-0000-4000-8000-0000000000bb",
    "institute_id": "00000000-0000-4000-8000-0000000000cc",
    "insurer_id": "00000000-0000-4000-8000-0000000000dd",
    "status": "probe-injected",
    "state": "probe-injected",
    "version": 987654,
    "created_at": "2001-01-01T00:00:00Z",
    "updated_at": "2001-01-01T00:00:00Z",
    "price": "987654321",
    "amount_minor": 987654321,
    "valuation_minor": 987654321,
    "payout_minor": 987654321,
    "premium_minor": 987654321,
    "number": "PROBE-INJECTED",
    "actions": ["probe-injected"],
}
UNICODE = {
    "nul": "a\u0000b",
    "rtl": "\u202eevil\u202c",
    "emoji": "\U0001F600\U0001F4A9" * 10,
    "combining": "e" + "\u0301" * 500,
    "zero-width": "\u200b\ufeff",
}
BIG = str(2 ** 63)
AMOUNTS = [BIG + "0000", "-1", "0", "0.0001", "1e400", "NaN", "-0", "1,000"]
INTS = [2 ** 63, -(2 ** 63) - 1, -1, 0, 1.5, 10 ** 30]
DATES = ["2026-02-30", "0000-01-01", "99999-01-01", "2026-13-01", "2026-1-1", "yesterday"]
BAD_IDS = ["not-a-uuid", "..%2F..%2Fetc%2Fpasswd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
           "x" * 5000, "%00", "%E2%80%AE", "1' OR '1'='1", "00000000-0000-0000-0000-000000000000"]


def is_amount(name, schema):
    n = name.lower()
    d = (schema.get("description") or "").lower()
    return any(k in n for k in ("amount", "coverage", "budget", "min", "max", "net_sales",
                                "deductible", "valuation", "price", "cap")) or \
        "major units" in d


def field_cases(doc, schema, body):
    """(label, body) cases, one field of `body` wrong at a time."""
    props, _ = openapi.merged(doc, schema)
    out = []
    for name, sub in props.items():
        sub = openapi.resolve(doc, sub)
        t = openapi.schema_type(doc, sub)
        fmt = sub.get("format", "")
        desc = sub.get("description", "")
        wrong = {"string": 12345, "integer": "twelve", "number": "twelve", "boolean": "yes",
                 "array": {"not": "a list"}, "object": ["not", "an", "object"]}.get(t, 12345)
        out.append((f"{name}: wrong type", dict(body, **{name: wrong})))
        out.append((f"{name}: null", dict(body, **{name: None})))
        if t == "string":
            out.append((f"{name}: 60000 chars", dict(body, **{name: "x" * 60000})))
            out.append((f"{name}: empty", dict(body, **{name: ""})))
            for label, text in UNICODE.items():
                out.append((f"{name}: {label}", dict(body, **{name: text})))
            out.append((f"{name}: lone surrogate", ("raw", name)))
            if is_amount(name, sub):
                for v in AMOUNTS:
                    out.append((f"{name}: amount {v[:12]}", dict(body, **{name: v})))
            if fmt == "date" or "YYYY-MM-DD" in desc:
                for v in DATES:
                    out.append((f"{name}: date {v}", dict(body, **{name: v})))
            if name.endswith("_id") or name.endswith("_ids"):
                out.append((f"{name}: traversal", dict(body, **{name: "../../etc/passwd"})))
        elif t in ("integer", "number"):
            for v in INTS:
                out.append((f"{name}: {v}", dict(body, **{name: v})))
        elif t == "array":
            out.append((f"{name}: 10000 items", dict(body, **{name: ["x"] * 10000})))
    return out


def lone_surrogate(body, name):
    """`body` as JSON text with field `name` holding a lone UTF-16 surrogate escape."""
    text = json.dumps(dict(body, **{name: "SURROGATE"}))
    return text.replace('"SURROGATE"', '"a\\ud800b"').encode()


def body_cases(doc, op, body):
    valid = json.dumps(body).encode()
    cases = [
        ("truncated JSON", {"raw": valid[: max(1, len(valid) // 2)]}),
        ("top-level array", {"raw": b"[]"}),
        ("top-level string", {"raw": b'"text"'}),
        ("top-level number", {"raw": b"42"}),
        ("top-level null", {"raw": b"null"}),
        ("empty body", {"raw": b""}),
        ("whitespace body", {"raw": b"   "}),
        ("nested 20000 deep", {"raw": b"[" * 20000 + b"]" * 20000}),
        ("nested objects", {"raw": b'{"a":' * 5000 + b"1" + b"}" * 5000}),
        # On a connection of its own: the server may close it without reading the body.
        ("over the size limit", {"raw": b'{"x":"' + b"y" * (MAX_BODY + 100) + b'"}',
                                 "fresh": True}),
        ("trailing garbage", {"raw": valid + b"}}"}),
        ("duplicate keys", {"raw": valid[:-1] + b"," + valid[1:] if len(valid) > 2 else valid}),
        ("not UTF-8", {"raw": b'{"x":"\xff\xfe"}'}),
        ("text/plain", {"raw": valid, "ctype": "text/plain"}),
        ("no content type", {"raw": valid, "ctype": None}),
    ]
    if isinstance(body, dict):
        for label, b in field_cases(doc, op.body_schema, body):
            if isinstance(b, tuple):
                cases.append((label, {"raw": lone_surrogate(body, b[1])}))
            else:
                cases.append((label, {"body": b}))
    return cases


def param_cases(doc, op, values):
    cases = []
    for name in op.path_params:
        for bad in BAD_IDS:
            cases.append((f"path {name}={bad[:20]}", {"path": dict(values, **{name: bad}),
                                                      "raw_path": True}))
    for p in op.query_params():
        schema = openapi.resolve(doc, p.get("schema", {}))
        t = openapi.schema_type(doc, schema)
        bads = ["x" * 5000, "%00", "\u202e", "-1", BIG + "0", "1.5", "2026-02-30", "", "null"]
        if t == "integer":
            bads += ["abc", str(-(2 ** 63) - 1), "0"]
        for v in bads:
            cases.append((f"query {p['name']}={v[:12]}", {"query": {p["name"]: v}}))
        cases.append((f"query {p['name']} twice", {"query_raw": f"{p['name']}=1&{p['name']}=2"}))
    cases.append(("unknown query parameter", {"query": {"zz_probe": "1"}}))
    for h in op.header_params():
        if h["name"].lower() == "if-match":
            for v in ["abc", '"-1"', '"99999999999999999999999"', "*", '"' + "9" * 5000 + '"', ""]:
                cases.append((f"If-Match {v[:12]}", {"headers": {"If-Match": v}}))
        if h["name"].lower() == "idempotency-key":
            for v in ["x" * 5000, "\u00e9"]:
                cases.append((f"Idempotency-Key {v[:12]}", {"headers": {"Idempotency-Key": v}}))
    return cases


def send(w, op, role, values, kind, oid, case):
    """One case: the operation's plausible call (World.call) with what the case changes; the
    exception instead of an answer when the connection failed."""
    url = None
    if case.get("raw_path"):
        # Bad path values as they are when already escaped, else escaped.
        url = op.path
        for n in op.path_params:
            v = case["path"][n]
            url = url.replace("{" + n + "}", v if "%" in v else quote(v))
    elif case.get("query_raw"):
        url = op.url(values) + "?" + case["query_raw"]
    query = dict(w.query_for(op), **case["query"]) if "query" in case else None
    headers = dict(case.get("headers", {}))
    raw = case.get("raw")
    if case.get("body") is not None:
        raw = json.dumps(case["body"]).encode()
        headers["Content-Type"] = "application/json"
    elif raw is not None and case.get("ctype", "application/json"):
        headers["Content-Type"] = case.get("ctype", "application/json")
    try:
        return w.call(op, role, values, kind, oid, raw=raw, headers=headers, query=query,
                      url=url, fresh=case.get("fresh", False))
    except (OSError, http.client.HTTPException) as e:
        return e


def main():
    failures = []
    r = rng()
    with Service(NAME) as svc:
        svc.prepare().start()
        w = World(svc, NAME)
        ops = [op for op in w.ops if (op.params or op.body) and op.key not in SKIP]
        server_errors, partial, took_effect, not_problem = [], [], [], []
        requests = 0
        tally = {}

        for op in ops:
            binding, missing = w.binding(op)
            if missing:
                say(NAME, f"skipped {op.key}: {missing}")
                continue
            _, kind = w.target(binding)
            # The role: the first whose plausible call on its own object is not refused.
            chosen = None
            for role in ROLES:
                if kind:
                    own = [i for i in sorted(w.objects.get(kind, {}))
                           if (role in SEES_ALL or w.party(role, kind, i))
                           and w.fill(binding, kind, i)]
                    if not own:
                        continue
                    oid = own[0]
                    values = w.fill(binding, kind, oid)
                else:
                    oid, values = None, w.fill(binding, None, None) if binding else {}
                a = w.call(op, role, values, kind, oid)
                requests += 1
                if a.status >= 500:
                    server_errors.append(f"{role} {op.key} (plausible call) -> {a!r}")
                if a.status not in (401, 403, 404):
                    chosen = (role, values, oid)
                    break
            if chosen is None:
                say(NAME, f"{op.key}: no role may call it on an object of its own; as sme")
                role = "sme"
                oid = None
                values = w.ghost(binding, kind, None) if binding else {}
            else:
                role, values, oid = chosen

            cases = []
            if op.body_schema is not None and op.body_type == "application/json":
                body = openapi.sample(w.doc, op.body_schema, full=True)
                cases += body_cases(w.doc, op, body)
                if isinstance(body, dict):
                    props, _ = openapi.merged(w.doc, op.body_schema)
                    extra = {k: v for k, v in INJECTED.items() if k not in props}
                    cases.append(("mass assignment (all)", {"body": dict(body, **extra),
                                                            "mass": extra}))
                    for k, v in extra.items():
                        cases.append((f"mass assignment {k}", {"body": dict(body, **{k: v}),
                                                               "mass": {k: v}}))
            cases += param_cases(w.doc, op, values)
            if len(cases) > MAX_CASES:
                keep = [c for c in cases if c[0].startswith("mass assignment (all)")]
                rest = [c for c in cases if c not in keep]
                cases = keep + r.sample(rest, MAX_CASES - len(keep))
            for label, case in cases:
                before = w.counts() if op.is_write() else None
                a = send(w, op, role, values, kind, oid, case)
                requests += 1
                what = f"{role} {op.key} [{label}]"
                if isinstance(a, Exception):
                    server_errors.append(f"{what}: the connection failed: {a!r}")
                    continue
                fam = label.split(":")[-1].split(" ")[1 if label.startswith(("path", "query")) else 0] \
                    if ":" in label else label.split(" ")[0]
                tally.setdefault(fam, {}).setdefault(a.status, 0)
                tally[fam][a.status] += 1
                if os.environ.get("PROBE_VERBOSE"):
                    say(NAME, f"{what} -> {a.status} {a.body[:160]!r}")
                if a.status >= 500:
                    server_errors.append(f"{what} -> {a!r}")
                elif a.status >= 400:
                    ctype = (a.header("Content-Type") or "").split(";")[0].strip()
                    if ctype != "application/problem+json":
                        not_problem.append(f"{what} -> {a.status} {ctype or 'no content type'}")
                if before is not None:
                    diff = {t: n for t, n in w.changes(before).items()
                            if (op.key, t) not in RECORDS_OF_REFUSALS}
                    if diff and 400 <= a.status < 500:
                        partial.append(f"{what} -> {a.status}, rows {diff}")
                if case.get("mass") and a.status < 300:
                    took_effect += check_mass(svc, w, op, role, a, case["mass"], what, values)

        failures += [f"5xx: {s}" for s in server_errors]
        failures += [f"partial write: {s}" for s in partial]
        failures += [f"took effect: {s}" for s in took_effect]
        failures += [f"not problem+json: {s}" for s in not_problem]
        for fam, st in sorted(tally.items()):
            say(NAME, f"  {fam}: " + ", ".join(f"{k}x{v}" for k, v in sorted(st.items())))
        say(NAME, f"{requests} requests over {len(ops)} operations")
    finish(NAME, {
        "requests": requests,
        "non-problem 4xx": len(not_problem),
        "fields that took effect": len(took_effect),
        "partial writes": len(partial),
        "5xx": len(server_errors),
    }, failures, svc)


def check_mass(svc, w, op, role, answer, injected, what, values):
    """The object the call made or changed, read back: none of `injected` may show."""
    found = []
    body = answer.json()
    body = body if isinstance(body, dict) else {}
    objs = [body] if body else []
    loc = answer.header("Location")
    paths = []
    if loc:
        paths.append(loc)
    if body.get("id"):
        base = op.path.split("/{")[0]
        paths.append(f"{base}/{body['id']}" if "{" not in op.path else None)
    if op.path_params:
        paths.append(op.url(values).rsplit("/", 1)[0] if op.method == "POST" and
                     not op.path.endswith("}") else op.url(values))
    for p in [p for p in paths if p]:
        a = svc.get(p, token=w.tokens["admin"])
        if a.status == 200 and isinstance(a.json(), dict):
            objs.append(a.json())
    for obj in objs:
        for k, v in injected.items():
            if k in obj and obj[k] == v:
                found.append(f"{what}: {k} = {v!r} read back from {obj.get('id')}")
    return sorted(set(found))


if __name__ == "__main__":
    main()

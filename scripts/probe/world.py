"""What the demo holds, as the access and bad-input probes see it: the objects of every kind a
path can name, which organisations are party to each (read from the database, checks only),
what is public (derived from the API: what every organisation of a kind lists), and how to
fill an operation's path parameters with them."""
import datetime
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from service import say  # noqa: E402
import spec as openapi  # noqa: E402

PREFIX = "/api/v1"
ROLES = ("sme", "institute", "insurer", "admin", "auditor")
SEES_ALL = ("admin", "auditor")
# The users whose organisations' objects are foreign to the signed-in roles.
OTHER_USERS = {
    "sme2": "sme2@usefirst.demo",
    "sme3": "sme3@usefirst.demo",
    "institute2": "institute2@usefirst.demo",
}
LISTERS = {"sme": ["sme", "sme2", "sme3"], "institute": ["institute", "institute2"],
           "insurer": ["insurer"]}

# What each collection segment of a path holds, and how to find its objects and their parties
# in the database: `SELECT id, party, party...` (rows may repeat an id with more parties).
KINDS = {
    "agreements": ("agreement",
                   "SELECT id, sme_id, institute_id, insurer_id FROM agreements"),
    "technologies": ("technology", "SELECT id, institute_id FROM technologies"),
    "demands": ("demand",
                "SELECT id, sme_id FROM demands "
                "UNION ALL SELECT demand_id, institute_id FROM demand_invitees "
                "UNION ALL SELECT demand_id, institute_id FROM demand_proposals"),
    "proposals": ("proposal",
                  "SELECT p.id, p.institute_id, d.sme_id FROM demand_proposals p "
                  "JOIN demands d ON d.id = p.demand_id"),
    "products": ("product", "SELECT DISTINCT id, insurer_id FROM insurance_products"),
    "claims": ("claim",
               "SELECT c.id, c.insurer_id, c.claimant_org, a.sme_id, a.institute_id "
               "FROM insurance_claims c JOIN agreements a ON a.id = c.agreement_id"),
    "organisations": ("organisation", "SELECT id, id FROM organisations"),
    "users": ("user", "SELECT id, organisation_id FROM users"),
    "outbox": ("mail", "SELECT id FROM outbox"),
    "payments": ("payment",
                 "SELECT p.id, a.sme_id, a.institute_id FROM payments p "
                 "JOIN agreements a ON a.id = p.agreement_id"),
}
# The parent a child kind's path also names: /demands/{id}/proposals/{proposal_id}.
PARENT_SQL = {
    ("demand", "proposal"): "SELECT demand_id, id FROM demand_proposals",
}
# Lists that show each kind (paths under /api/v1), for the public sets.
LISTS = {
    "agreement": ["/agreements"],
    "technology": ["/technologies"],
    "demand": ["/demands"],
    "product": ["/insurance/products"],
    "claim": ["/claims"],
    "organisation": ["/organisations"],
    "user": ["/users"],
    "mail": ["/mail/outbox"],
}
# Path parameters that name no object: a value valid for any object.
VALUES = {
    "month": lambda: (datetime.date.today().replace(day=1)
                      - datetime.timedelta(days=1)).strftime("%Y-%m"),
}


# Tables the server's own scheduler writes on its ticks, whatever the requests do.
BACKGROUND_TABLES = ("job_runs",)


def rows(svc, sql, name="probe"):
    try:
        return svc.query(sql)
    except SystemExit as e:  # a table that does not exist (any more): no objects
        say(name, f"query failed ({e}): {sql}")
        return []


def list_ids(svc, token, path):
    """Every id the list at `path` shows to `token` (every page), or None if refused."""
    ids = set()
    for page in range(1, 51):
        a = svc.get(f"{PREFIX}{path}?page={page}&per_page=100", token=token)
        if page == 1 and a.status in (400, 422):  # a list that takes no paging
            a = svc.get(f"{PREFIX}{path}", token=token)
        if a.status != 200:
            return None if page == 1 else ids
        body = a.json()
        items = body if isinstance(body, list) else (body or {}).get("items", [])
        for it in items:
            if isinstance(it, dict) and it.get("id"):
                ids.add(str(it["id"]))
        total = body.get("total") if isinstance(body, dict) else None
        if not items or total is None or page * 100 >= total:
            break
    return ids


def add_demands(svc, tokens, org_of):
    """Demands and proposals through the API (the demo holds none): a public one of sme2, one
    of sme3 open to institute2 only, one of sme1's own, and on each a proposal of a listed
    technology by an institute that may see it."""
    wanted = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    made = {}
    for who, vis in (("sme2", "public"), ("sme3", "invited"), ("sme", "public")):
        body = {"title": f"Demand of {who}", "description": "A line that needs a better dryer",
                "sector": "agriculture", "province": "Hà Nội",
                "budget": {"currency": "VND", "min": "100000000", "max": "300000000"},
                "wanted_by": wanted, "visibility": vis}
        if vis == "invited":
            body["invited_institute_ids"] = [org_of["institute2"]]
        a = svc.post(PREFIX + "/demands", body, token=tokens[who])
        if a.status != 201:
            say("probe", f"could not make a demand as {who}: {a!r}")
            continue
        made[who] = a.json()["id"]
    for who, demand_of in (("institute2", "sme2"), ("institute2", "sme3"), ("institute", "sme")):
        if demand_of not in made:
            continue
        techs = svc.get(f"{PREFIX}/technologies?institute_id={org_of[who]}&status=listed",
                        token=tokens[who]).json() or {}
        items = techs.get("items", []) if isinstance(techs, dict) else techs
        if not items:
            say("probe", f"{who} has no listed technology to propose")
            continue
        a = svc.post(f"{PREFIX}/demands/{made[demand_of]}/proposals",
                     {"technology_id": items[0]["id"], "message": "Our dryer fits"},
                     token=tokens[who])
        if a.status != 201:
            say("probe", f"could not propose as {who}: {a!r}")


class World:
    def __init__(self, svc, name):
        self.svc = svc
        self.name = name
        self.tokens = svc.tokens()
        self.all_tokens = dict(self.tokens)
        self.all_tokens.update({k: svc.login(v) for k, v in OTHER_USERS.items()})
        self.org_of = {}
        for who, tok in self.all_tokens.items():
            me = svc.get(PREFIX + "/auth/me", token=tok).json() or {}
            user = me.get("user", me)
            org = user.get("organisation_id") or (me.get("organisation") or {}).get("id")
            if not org:
                raise SystemExit(f"{name}: /auth/me gave no organisation for {who}: {me}")
            self.org_of[who] = org
        self.doc = svc.openapi()
        self.ops = openapi.operations(self.doc)
        if not rows(svc, "SELECT id FROM demands", name):
            add_demands(svc, self.all_tokens, self.org_of)
        self.counted_tables = [t for t in svc.tables() if t not in BACKGROUND_TABLES]
        self.refresh()

    def counts(self):
        """Row counts of every table but the scheduler's record of its runs."""
        return self.svc.row_counts(self.counted_tables)

    def changes(self, before):
        """{table: rows added (or removed)} since the counts `before`."""
        after = self.counts()
        return {t: n - before.get(t, 0) for t, n in after.items() if n != before.get(t, 0)}

    def refresh(self):
        """Reads again what exists, who is party to it and what is public."""
        self.objects = {}
        for kind, sql in KINDS.values():
            found = self.objects.setdefault(kind, {})
            for row in rows(self.svc, sql, self.name):
                found.setdefault(row[0], set()).update(v for v in row[1:] if v)
        # What every organisation of a kind lists is public to that kind; what every
        # organisation lists is public to all.
        self.public = {}
        for kind, paths in LISTS.items():
            seen = {}
            for who in ("sme", "sme2", "sme3", "institute", "institute2", "insurer"):
                ids, refused = set(), True
                for p in paths:
                    got = list_ids(self.svc, self.all_tokens[who], p)
                    if got is not None:
                        refused = False
                        ids |= got
                        for i in got:  # whatever a list shows exists
                            self.objects.setdefault(kind, {}).setdefault(i, set())
                seen[who] = None if refused else ids
            everyone = [s for s in seen.values() if s is not None]
            to_all = set.intersection(*everyone) if everyone else set()
            for rk, whos in LISTERS.items():
                sets = [seen[w] for w in whos if seen[w] is not None]
                kind_public = set.intersection(*sets) if len(sets) > 1 else set()
                self.public[(kind, rk)] = kind_public | to_all
        self.parents = {}
        for key, sql in PARENT_SQL.items():
            self.parents[key] = {r[1]: r[0] for r in rows(self.svc, sql, self.name)}

    def party(self, role, kind, oid):
        return self.org_of[role] in self.objects.get(kind, {}).get(oid, set())

    def may_see(self, role, kind, oid):
        if role in SEES_ALL or self.party(role, kind, oid):
            return True
        return oid in self.public.get((kind, role.rstrip("0123456789")), set())

    def binding(self, op):
        """{param: ("object", kind) | ("enum", [values])} for the path's parameters, and the
        reasons it could not bind (empty when it could)."""
        segs = op.path.split("/")
        binding, missing = {}, []
        for name in op.path_params:
            i = segs.index("{" + name + "}")
            prev = segs[i - 1] if i > 0 else ""
            p = op.param(name, "path") or {}
            schema = openapi.resolve(self.doc, p.get("schema", {}))
            if prev in KINDS:
                binding[name] = ("object", KINDS[prev][0])
            elif schema.get("enum"):
                binding[name] = ("enum", [v for v in schema["enum"] if v is not None])
            elif name in VALUES:
                binding[name] = ("enum", [VALUES[name]()])
            elif schema.get("example") is not None:
                binding[name] = ("enum", [schema["example"]])
            else:
                missing.append(f"no value for {{{name}}}")
        return binding, missing

    @staticmethod
    def target(binding):
        """The last object parameter's name and kind (the object the operation acts on)."""
        names = [n for n, b in binding.items() if b[0] == "object"]
        return (names[-1], binding[names[-1]][1]) if names else (None, None)

    def fill(self, binding, kind, oid):
        """Path values with `oid` for the target object (parents looked up), or None."""
        values = {}
        for name, b in binding.items():
            if b[0] == "enum":
                values[name] = b[1][0]
            elif b[1] == kind:
                values[name] = oid
            else:
                parent = self.parents.get((b[1], kind), {}).get(oid)
                if parent is None:
                    return None
                values[name] = parent
        return values

    def ghost(self, binding, kind, real):
        """Path values like `real` but with a target id that does not exist."""
        values = dict(real or {})
        last, _ = self.target(binding)
        missing = str(uuid.uuid4())
        for name, b in binding.items():
            if name == last:
                values[name] = missing
            elif name not in values:
                values[name] = b[1][0] if b[0] == "enum" else missing
        return values

    def etag(self, kind, oid):
        """The object's current ETag, read as admin ('"1"' when it has none)."""
        for seg, (k, _) in KINDS.items():
            if k == kind:
                a = self.svc.get(f"{PREFIX}/{seg}/{oid}", token=self.tokens["admin"])
                if a.status == 200:
                    etag = a.header("ETag")
                    if etag:
                        return etag
                    v = (a.json() or {}).get("version")
                    if v is not None:
                        return f'"{v}"'
        return '"1"'

    def query_for(self, op):
        q = {}
        for p in op.query_params():
            if p.get("required"):
                q[p["name"]] = openapi.sample(self.doc, p.get("schema", {}), p["name"])
        return q

    def call(self, op, role, values, kind=None, oid=None, body=None, raw=None, headers=None,
             query=None, token=None, url=None, fresh=False):
        """The operation with a plausible request (body from the schema, If-Match from the
        object, the required query parameters) unless `body`/`raw`/`headers`/`query` say
        otherwise; `url` replaces the path and query altogether."""
        hdrs = {}
        if op.is_write() and kind:
            # The object's version, whether or not the spec says the write takes one.
            hdrs["If-Match"] = self.etag(kind, oid)
        for h in op.header_params():
            if h["name"].lower() == "if-match" and "If-Match" not in hdrs:
                hdrs["If-Match"] = '"1"'
            elif h["name"].lower() == "idempotency-key":
                hdrs["Idempotency-Key"] = str(uuid.uuid4())
        if body is None and raw is None and op.body_schema is not None:
            if op.body_type == "application/json":
                body = openapi.sample(self.doc, op.body_schema, full=True)
            else:
                raw = b"%PDF-1.4 probe"
                hdrs["Content-Type"] = op.body_type
        hdrs.update(headers or {})
        if url is None:
            url = op.url(values, self.query_for(op) if query is None else query)
        return self.svc.request(op.method, url, body=body, raw=raw,
                                token=token or self.tokens[role], headers=hdrs, fresh=fresh)

"""The access matrix: every operation of /api/openapi.json whose path takes a parameter, as
every demo role, on its own organisation's objects and on objects its organisation may not see.

What exists and who is party to it comes from the database (checks only); what is public comes
from the API itself: an object every organisation of a kind lists (every SME, both institutes)
is public to that kind, and one every organisation lists is public to all. A foreign object
must answer 404, or exactly what a missing id answers (a role that may not call the endpoint at
all: 401/403). Writes are attempted too, with a body built from the request schema and the
object's If-Match, and the row counts are compared around each one.

Figure: foreign successes (target 0) out of the attempts, leaks (foreign answers that differ
from a missing id's), row changes, and the id-taking operations covered.

    PROBE_FOREIGN_PER_OP  foreign objects tried per operation and role (default 3)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from service import Service, finish, say  # noqa: E402
from world import ROLES, SEES_ALL, World  # noqa: E402

NAME = "probe-access"
# Id-taking operations the probe may leave uncovered, by "METHOD /path", each with why.
ALLOWED_UNCOVERED = {
}
# Writes that a public object invites from organisations not party to it.
PUBLIC_WRITES = {
    "POST /api/v1/demands/{id}/proposals": "an institute proposes on a public demand",
}
FOREIGN_PER_OP = int(os.environ.get("PROBE_FOREIGN_PER_OP", "3"))


def pick(world, kind, ids):
    """Up to FOREIGN_PER_OP of `ids`, objects of different parties first."""
    picked, parties = [], set()
    for i in ids:
        p = frozenset(world.objects[kind][i])
        if p not in parties:
            parties.add(p)
            picked.append(i)
    picked += [i for i in ids if i not in picked]
    return picked[:FOREIGN_PER_OP]


class Tally:
    """What the calls found, over every operation and role."""

    def __init__(self):
        self.attempts = 0
        self.foreign_success, self.leaks, self.row_changes, self.failures = [], [], [], []
        self.own_ok = self.own_tried = 0
        self.covered = set()
        self.statuses = {}  # (method, status) -> foreign calls so answered


def try_role(w, op, binding, kind, role, t):
    """The operation as `role`: its own object once (reads only), then foreign ones."""
    if kind is None:
        # Only value parameters (a month): nothing is foreign; each role's call must still
        # answer without a server error.
        values = w.fill(binding, None, None)
        a = w.call(op, role, values)
        t.covered.add(op.key)
        if a.status >= 500:
            t.failures.append(f"{role} {op.method} {op.url(values)} -> {a!r}")
        return
    ids = sorted(w.objects[kind])
    own = [i for i in ids if w.may_see(role, kind, i)]
    foreign = [i for i in ids if not w.may_see(role, kind, i)]
    targets = pick(w, kind, foreign)
    if op.is_write() and role not in SEES_ALL and op.key not in PUBLIC_WRITES:
        # Objects it sees but is not party to (the public ones) are others' to change:
        # refused (403 is fine there, they are visible).
        targets += pick(w, kind, [i for i in own if not w.party(role, kind, i)])
    sample = next((v for v in (w.fill(binding, kind, i) for i in ids) if v), None)
    missing_answer = w.call(op, role, w.ghost(binding, kind, sample)).status
    if own and not op.is_write():
        values = w.fill(binding, kind, own[0])
        if values:
            t.own_tried += 1
            t.covered.add(op.key)
            a = w.call(op, role, values, kind, own[0])
            t.own_ok += a.status < 400
            if a.status >= 500:
                t.failures.append(f"{role} own {op.method} {op.url(values)} -> {a!r}")
    for oid in targets:
        values = w.fill(binding, kind, oid)
        if not values:
            continue
        t.covered.add(op.key)
        t.attempts += 1
        before = w.counts() if op.is_write() else None
        a = w.call(op, role, values, kind, oid)
        t.statuses[(op.method, a.status)] = t.statuses.get((op.method, a.status), 0) + 1
        if os.environ.get("PROBE_VERBOSE"):
            say(NAME, f"{role} {op.method} {op.url(values)} -> {a.status}")
        what = f"{role} {op.method} {op.url(values)} ({kind} of {sorted(w.objects[kind][oid])})"
        if a.status < 400:
            t.foreign_success.append(f"{what} -> {a!r}")
        elif a.status not in (404, missing_answer) and not w.may_see(role, kind, oid):
            t.leaks.append(f"{what} -> {a.status}, a missing id -> {missing_answer}: "
                           f"{a.body[:200]!r}")
        if a.status >= 500:
            t.failures.append(f"{what} -> {a!r}")
        if before is not None:
            diff = w.changes(before)
            if diff:
                t.row_changes.append(f"{what} -> {a.status}, rows {diff}")


def main():
    with Service(NAME) as svc:
        svc.prepare().start()
        w = World(svc, NAME)
        id_ops = [op for op in w.ops if op.path_params]
        plans, uncovered = [], []
        for op in id_ops:
            binding, missing = w.binding(op)
            _, kind = w.target(binding)
            if kind and not w.objects.get(kind):
                missing.append(f"the demo holds no {kind}")
            if missing:
                uncovered += [f"{op.key}: {m}" for m in missing]
            else:
                plans.append((op, binding, kind))

        t = Tally()
        # Reads first, then writes (a write that wrongly succeeds could change what later
        # reads see).
        for op, binding, kind in sorted(plans, key=lambda p: p[0].is_write()):
            for role in ROLES:
                try_role(w, op, binding, kind, role, t)
            if op.key not in t.covered:
                uncovered.append(f"{op.key}: no role had an object to call it with")

        failures = t.failures
        failures += [f"foreign success: {s}" for s in t.foreign_success]
        failures += [f"leak: {s}" for s in t.leaks]
        failures += [f"row change: {s}" for s in t.row_changes]
        uncovered = sorted(set(uncovered))
        for u in uncovered:
            say(NAME, f"uncovered: {u}")
        unexpected = [u for u in uncovered if u.split(":")[0] not in ALLOWED_UNCOVERED]
        if unexpected:
            failures.append(f"{len(unexpected)} id-taking operation(s) uncovered beyond the "
                            f"allowance ({', '.join(sorted(ALLOWED_UNCOVERED)) or 'none'})")
        say(NAME, "foreign answers: " + ", ".join(
            f"{m} {st}: {n}" for (m, st), n in sorted(t.statuses.items())))
        say(NAME, f"own objects: {t.own_ok} of {t.own_tried} reads answered below 400")
    finish(NAME, {
        "leaks": len(t.leaks),
        "row changes": len(t.row_changes),
        "operations covered": f"{len(t.covered)} / {len(id_ops)} id-taking",
        "foreign successes": f"{len(t.foreign_success)} / {t.attempts} attempts",
    }, failures, svc)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Concurrent writers against a running usefirst server (see scripts/probe-concurrency.sh).

1. 50 requests for one trial at once under one Idempotency-Key: one agreement with one
   agreement.requested event, and every answer names it.
2. The same key with another body: a 409 or 422 problem saying the key was used for another
   request, and nothing written; and 50 at once under a new key, half with one body and half
   with another: one agreement, every sender of the winning body answered with it, every other
   refused as above.
3. Two writers with one If-Match, 50 rounds each, on an update (a technology's description,
   PUT) and on a transition (withdrawing a trial request): each round exactly one 2xx and one
   412, and the version one higher.

Every request is sent on its own connection, opened before the threads are let go together.
"""
import http.client
import json
import os
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from service import Service, finish, quote, trial_body  # noqa: E402

NAME = "probe-concurrency"
RACERS = int(os.environ.get("PROBE_RACERS", "50"))
ROUNDS = int(os.environ.get("PROBE_ROUNDS", "50"))


def race(svc, calls):
    """Sends every (method, path, body, token, headers) in `calls` at once, each on its own
    connection opened beforehand; returns (status, parsed body, headers) per call, in order."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def one(i, call):
        method, path, body, token, headers = call
        conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=60)
        hdrs = {"Accept": "application/json", "Authorization": f"Bearer {token}",
                "Content-Type": "application/json"}
        hdrs.update(headers)
        data = json.dumps(body).encode()
        try:
            conn.connect()
            barrier.wait(timeout=30)
            conn.request(method, path, body=data, headers=hdrs)
            res = conn.getresponse()
            raw = res.read()
            try:
                parsed = json.loads(raw or b"null")
            except ValueError:
                parsed = raw[:300]
            out[i] = (res.status, parsed, {k.lower(): v for k, v in res.getheaders()})
        except Exception as e:  # a refused or dropped connection is an answer too
            out[i] = (0, repr(e), {})
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def says_key_reused(problem):
    if not isinstance(problem, dict):
        return False
    for e in problem.get("errors") or []:
        if "Idempotency-Key" in json.dumps(e):
            return True
    return "key" in (problem.get("detail") or "").lower()


def idempotency(svc, tok, tech, figures, failures):
    key = f"probe-{uuid.uuid4().hex}"
    body = trial_body(tech, "Xưởng thử nghiệm A")
    before = svc.row_counts(["agreements", "idempotency_keys"])
    answers = race(svc, [("POST", "/api/v1/agreements", body, tok["sme"],
                          {"Idempotency-Key": key})] * RACERS)
    after = svc.row_counts(["agreements", "idempotency_keys"])
    made = after["agreements"] - before["agreements"]
    figures["rows made by the 50"] = f"{made} (target 1)"
    if made != 1:
        failures.append(f"{RACERS} requests under one key made {made} agreements")
    if after["idempotency_keys"] - before["idempotency_keys"] != 1:
        failures.append(f"{RACERS} requests under one key kept "
                        f"{after['idempotency_keys'] - before['idempotency_keys']} keys")
    ids = {}
    for status, a, _ in answers:
        aid = a.get("id") if isinstance(a, dict) and 200 <= status < 300 else None
        ids.setdefault(aid, []).append(status)
    named = [k for k in ids if k]
    same = len(ids.get(named[0], [])) if len(named) == 1 else 0
    figures["answers naming it"] = f"{same}/{RACERS}"
    for aid in named:
        requested = svc.query(f"SELECT COUNT(*) FROM audit_events WHERE entity_id = '{aid}' "
                              "AND action = 'agreement.requested'")[0][0]
        if int(requested) != 1:
            failures.append(f"{RACERS} requests under one key: {requested} agreement.requested "
                            f"events for {aid}")
    if len(named) != 1 or same != RACERS:
        summary = {k or "no agreement": sorted(set(v)) for k, v in ids.items()}
        failures.append(f"answers under one key: {summary}; first other: "
                        f"{next((x for x in answers if x[0] != 201), None)}")
    statuses = sorted({s for s, _, _ in answers})
    if statuses != [201]:
        failures.append(f"statuses under one key: {statuses} (a replay answers as the first)")

    # The same key, another body.
    other = trial_body(tech, "Xưởng thử nghiệm A", start="2027-04-02")  # another day
    snap = svc.row_counts(["agreements", "idempotency_keys", "audit_events", "outbox"])
    a = svc.post("/api/v1/agreements", other, token=tok["sme"],
                 headers={"Idempotency-Key": key})
    problem = a.json()
    reuse_status = a.status
    figures["key reuse answer"] = str(a.status)
    if a.status not in (409, 422) or not says_key_reused(problem):
        failures.append(f"the key with another body answered {a!r}")
    if a.header("Content-Type") != "application/problem+json":
        failures.append(f"the key reuse answer is not a problem: {a.header('Content-Type')}")
    if svc.row_counts(["agreements", "idempotency_keys", "audit_events", "outbox"]) != snap:
        failures.append("the key reused with another body wrote something")

    # One key, two bodies, at once: one agreement; the first body's senders all get it, the
    # other body's senders the problem.
    key = f"probe-{uuid.uuid4().hex}"
    bodies = [trial_body(tech, "Xưởng thử nghiệm B"), trial_body(tech, "Xưởng thử nghiệm C")]
    before = svc.row_counts(["agreements"])["agreements"]
    answers = race(svc, [("POST", "/api/v1/agreements", bodies[i % 2], tok["sme"],
                          {"Idempotency-Key": key}) for i in range(RACERS)])
    made = svc.row_counts(["agreements"])["agreements"] - before
    won = {}
    for i, (status, a, _) in enumerate(answers):
        if status == 201:
            won.setdefault((i % 2, a.get("id")), 0)
            won[(i % 2, a.get("id"))] += 1
    refused = [(i, s, a) for i, (s, a, _) in enumerate(answers) if s != 201]
    ok = made == 1 and len(won) == 1
    if ok:
        winner = next(iter(won))[0]
        senders = sum(1 for i in range(RACERS) if i % 2 == winner)
        ok = sum(won.values()) == senders and len(refused) == RACERS - senders and all(
            i % 2 != winner and s == reuse_status and says_key_reused(a) for i, s, a in refused)
    figures["two bodies under one key at once"] = (
        f"{made} made ({sum(won.values())} answered it and {len(refused)} refused)")
    if not ok:
        failures.append(f"one key, two bodies at once: {made} agreements made, winners {won}, "
                        f"refused {[(i, s) for i, s, _ in refused][:6]}")


def rounds(svc, label, n, prepare, send, read_version, failures):
    """`n` rounds of two writers with one If-Match; returns the rounds with exactly one winner."""
    good = 0
    for i in range(n):
        target, version = prepare(i)
        answers = race(svc, [send(target, version, w) for w in (0, 1)])
        statuses = sorted(s for s, _, _ in answers)
        won = [a for a in answers if 200 <= a[0] < 300]
        now = read_version(target)
        ok = len(won) == 1 and statuses.count(412) == 1 and now == version + 1
        if ok:
            etag = won[0][2].get("etag")
            if etag != f'"{version + 1}"':
                failures.append(f"{label} round {i}: the winner's ETag {etag}, "
                                f"version now {now}")
                ok = False
            loser = next(a for a in answers if a[0] == 412)[1]
            if not isinstance(loser, dict) or loser.get("current_version") is None:
                failures.append(f"{label} round {i}: the 412 names no current version: {loser}")
        else:
            odd = [a[1] for a in answers if a[0] != 412 and not 200 <= a[0] < 300][:1]
            failures.append(f"{label} round {i}: answers {statuses} ({odd}), "
                            f"version {version} -> {now}")
        good += ok
    return good


def technology_input(i):
    return {
        "title": {"vi": "Công nghệ thử tranh chấp", "en": "Contention probe"},
        "summary": {"vi": f"Vòng {i}", "en": f"Round {i}"},
        "field": "materials", "ip_type": "know_how", "ip_reference": "PROBE-1",
        "valuation": {"amount": "100000000", "currency": "VND"},
    }


def if_match(svc, tok, tech, figures, failures):
    # An update, over and over on one technology.
    t = svc.post("/api/v1/technologies", technology_input(-1), token=tok["institute"])
    if t.status != 201:
        raise SystemExit(f"{NAME}: creating a technology answered {t!r}")
    tid = t.json()["id"]

    def tech_version(_):
        a = svc.get(f"/api/v1/technologies/{quote(tid)}", token=tok["institute"])
        return a.json()["version"]

    good = rounds(
        svc, "update", ROUNDS,
        lambda i: (tid, tech_version(None)),
        lambda target, v, w: ("PUT", f"/api/v1/technologies/{quote(target)}", technology_input(v),
                              tok["institute"], {"If-Match": f'"{v}"'}),
        tech_version, failures)
    figures["update rounds with one winner"] = f"{good}/{ROUNDS}"
    events = svc.query(f"SELECT COUNT(*) FROM audit_events WHERE entity_id = '{tid}' "
                       "AND action = 'technology.updated'")[0][0]
    if int(events) != good:
        failures.append(f"{good} updates won, {events} technology.updated events")

    # A transition: two withdrawals of one request at once, on a new request each round.
    ids = []
    for i in range(ROUNDS):
        a = svc.post("/api/v1/agreements", trial_body(tech, f"Xưởng rút {i}"), token=tok["sme"])
        if a.status != 201:
            raise SystemExit(f"{NAME}: a trial request answered {a!r}")
        ids.append(a.json()["id"])

    def agreement_version(aid):
        return svc.get(f"/api/v1/agreements/{quote(aid)}", token=tok["sme"]).json()["version"]

    good = rounds(
        svc, "transition", ROUNDS,
        lambda i: (ids[i], agreement_version(ids[i])),
        lambda target, v, w: ("POST", f"/api/v1/agreements/{quote(target)}/withdraw",
                              {"reason": "probe"}, tok["sme"], {"If-Match": f'"{v}"'}),
        agreement_version, failures)
    figures["transition rounds with one winner"] = f"{good}/{ROUNDS}"
    in_list = ", ".join(f"'{i}'" for i in ids)
    events = svc.query(f"SELECT COUNT(*) FROM audit_events WHERE entity_id IN ({in_list}) "
                       "AND action = 'agreement.withdraw'")[0][0]
    if int(events) != ROUNDS:
        failures.append(f"{ROUNDS} requests withdrawn, {events} agreement.withdraw events")


def main():
    figures, failures = {}, []
    with Service(NAME) as svc:
        svc.prepare().start()
        tok = svc.tokens("sme", "institute")
        tech = svc.listed_technology(tok["sme"])
        idempotency(svc, tok, tech, figures, failures)
        if_match(svc, tok, tech, figures, failures)
        ok, out = svc.verify_audit()
        if not ok:
            failures.append(f"verify-audit failed: {out}")
    finish(NAME, figures, failures, svc)


if __name__ == "__main__":
    main()

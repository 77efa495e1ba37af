#!/usr/bin/env python3
"""Acknowledged writes survive kill -9 (see scripts/probe-crash.sh).

A few writer threads send writes that each make an audit event (SMEs' trial requests, and
withdrawals of requests acknowledged earlier), recording every write the server acknowledged
(a 2xx with the agreement's id and version). After a random 0.2-1.5 s the server is killed
with SIGKILL, the audit chain is walked (`usefirst verify-audit`, server down), and the server
is started again; PROBE_KILLS times (default 30). At the end every trial request that got no
answer is sent again under its Idempotency-Key (it must answer 201, whether the first try was
committed or not, and never make a second agreement), every acknowledged write is read back
through the API (the agreement exists; a withdrawal stands at its version or later), and each
has its event in the agreement's history.

    PROBE_KILLS    kills (default 30)
    PROBE_WRITERS  writer threads (default 4)
"""
import http.client
import os
import random
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from service import Service, finish, quote, rng, say, trial_body  # noqa: E402

NAME = "probe-crash"
KILLS = int(os.environ.get("PROBE_KILLS", "30"))
WRITERS = int(os.environ.get("PROBE_WRITERS", "4"))
# A 2xx, then a drop: the server may have been killed between the COMMIT and the answer.
DOWN = (OSError, http.client.HTTPException)


class Ledger:
    """What the server acknowledged, across every life of the server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requested = {}   # agreement id -> version acknowledged at creation
        self.withdrawn = {}   # agreement id -> version acknowledged by the withdrawal
        self.open = []        # acknowledged requests not yet withdrawn (to withdraw later)
        self.unanswered = 0   # writes sent whose answer never came (the kill)
        self.unanswered_requests = []  # (Idempotency-Key, body) of trial requests among them
        self.refused = {}     # status -> count of non-2xx answers
        self.errors = []      # 5xx answers, kept for the report
        self.misanswered = []  # withdrawals acknowledged with another agreement's id

    def acked(self):
        return len(self.requested) + len(self.withdrawn)


def writer(svc, tok, tech, ledger, stop, rand, life, wid):
    n = 0
    while not stop.is_set():
        n += 1
        target, key, body = None, None, None
        with ledger.lock:
            if ledger.open and rand.random() < 0.4:
                target = ledger.open.pop(rand.randrange(len(ledger.open)))
        try:
            if target:
                aid, version = target
                a = svc.post(f"/api/v1/agreements/{quote(aid)}/withdraw", {"reason": "probe"},
                             token=tok, headers={"If-Match": f'"{version}"'}, fresh=True,
                             timeout=20)
            else:
                key = uuid.uuid4().hex
                body = trial_body(tech, f"probe-crash {life}-{wid}-{n}")
                a = svc.post("/api/v1/agreements", body, token=tok, fresh=True, timeout=20,
                             headers={"Idempotency-Key": key})
        except DOWN:
            with ledger.lock:
                ledger.unanswered += 1
                # A withdrawal perhaps made, perhaps not, is left alone from now on; a
                # request is sent again under its key at the end.
                if not target:
                    ledger.unanswered_requests.append((key, body))
            time.sleep(0.02)
            continue
        with ledger.lock:
            if 200 <= a.status < 300:
                body = a.json()
                if target:
                    ledger.withdrawn[aid] = body["version"]
                    if body.get("id") != aid:
                        ledger.misanswered.append(f"withdrawal of {aid} acknowledged for "
                                                  f"{body.get('id')}")
                else:
                    ledger.requested[body["id"]] = body["version"]
                    ledger.open.append((body["id"], body["version"]))
            else:
                ledger.refused[a.status] = ledger.refused.get(a.status, 0) + 1
                if a.status >= 500:
                    ledger.errors.append(repr(a))


def main():
    rand = rng()
    figures, failures = {}, []
    ledger = Ledger()
    breaks = 0
    with Service(NAME) as svc:
        svc.prepare().start()
        sme = svc.tokens("sme")["sme"]
        tech = svc.listed_technology(sme)
        for kills in range(1, KILLS + 1):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(
                svc, sme, tech, ledger, stop, random.Random(rand.random()), kills, w))
                for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rand.uniform(0.2, 1.5))
            svc.kill()
            stop.set()
            for t in threads:
                t.join()
            ok, out = svc.verify_audit()
            if not ok:
                breaks += 1
                failures.append(f"after kill {kills}: verify-audit failed: {out}")
            svc.start()
            if kills % 10 == 0:
                say(NAME, f"{kills} kills, {ledger.acked()} writes acknowledged")

        # Every request that got no answer, again under its key: one agreement, whether the
        # first try was committed or not.
        acked = ledger.acked()
        retried, doubled = 0, []
        for key, body in ledger.unanswered_requests:
            a = svc.post("/api/v1/agreements", body, token=sme, headers={"Idempotency-Key": key})
            if a.status != 201:
                failures.append(f"a request sent again under its key answered {a!r}")
                continue
            retried += 1
            ledger.requested[a.json()["id"]] = a.json()["version"]
        for place, n in svc.query("SELECT place_of_use, COUNT(*) FROM agreements "
                                  "WHERE place_of_use LIKE 'probe-crash %' "
                                  "GROUP BY place_of_use HAVING COUNT(*) > 1"):
            doubled.append(f"{place}: {n} agreements")
        failures.extend(f"a request made twice: {d}" for d in doubled[:10])

        # Every acknowledged write, read back.
        lost = []
        for aid, version in ledger.requested.items():
            a = svc.get(f"/api/v1/agreements/{quote(aid)}", token=sme)
            if a.status != 200:
                lost.append(f"request {aid} (acknowledged at version {version}) answers {a!r}")
                continue
            got = a.json()
            if got["version"] < version:
                lost.append(f"request {aid}: acknowledged version {version}, now {got['version']}")
            want = {"agreement.requested"}
            if aid in ledger.withdrawn:
                want.add("agreement.withdraw")
                if got["status"] != "withdrawn" or got["version"] < ledger.withdrawn[aid]:
                    lost.append(f"withdrawal of {aid} (acknowledged at version "
                                f"{ledger.withdrawn[aid]}): now {got['status']} "
                                f"version {got['version']}")
            events = svc.get(f"/api/v1/agreements/{quote(aid)}/events", token=sme)
            actions = set()
            if events.status == 200:
                actions = {e.get("action") for e in events.json() or []}
            if not want <= actions:
                lost.append(f"agreement {aid}: events {sorted(actions)}, expected {sorted(want)}")
        lost += ledger.misanswered
        svc.stop()
        ok, out = svc.verify_audit()
        if not ok:
            breaks += 1
            failures.append(f"at the end: verify-audit failed: {out}")
        counted = svc.query("SELECT COUNT(*) FROM agreements "
                            "WHERE place_of_use LIKE 'probe-crash %'")
        failures.extend(lost)
        for e in ledger.errors[:5]:
            failures.append(f"a 5xx answer: {e}")
        figures["kills"] = KILLS
        figures["acknowledged writes"] = acked
        figures["lost"] = f"{len(lost)} (target 0)"
        figures["chain breaks"] = f"{breaks} (target 0)"
        figures["unanswered requests sent again"] = retried
        figures["made twice"] = f"{len(doubled)} (target 0)"
        say(NAME, f"requests {len(ledger.requested)}, withdrawals {len(ledger.withdrawn)}, "
                  f"unanswered {ledger.unanswered}, refused {ledger.refused}, "
                  f"probe agreements in the database {counted[0][0]}")
        if acked < KILLS:
            failures.append(f"only {acked} writes acknowledged in {KILLS} lives")
        if ledger.errors:
            figures["5xx"] = len(ledger.errors)
    finish(NAME, figures, failures, svc)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Mail queued while the SMTP server is down is delivered once it is back (see
scripts/probe-mail-outage.sh).

The server is started with mail.smtp_url naming a port where nothing listens yet, a one-second
deliver-mail job and one-second retry base. Mails are caused (trial requests, which mail the
SME's and the institute's users, and password resets through the sign-in page's "forgotten
password" form); once every queued message has failed to go three times, a small SMTP
server (the sink, scripts/lib/smtp_sink.py) starts on that port, recording each message's
Message-ID and recipients. The outbox must empty: every message delivered, none lost (status
failed, or never received), none received twice.

Then a second round: the sink drops the connection after the message's final dot, before its
250, for the next few messages. The server cannot know these arrived and sends them again,
which SMTP cannot tell from a lost message: those re-sends are counted apart, and only a
duplicate of a message whose 250 was sent is a failure.

    PROBE_MAILS     trial requests to cause in each round (default 12)
    PROBE_ATTEMPTS  failed attempts of every message before the sink starts (default 3)
    PROBE_DROPS     replies the sink withholds in the second round (default 4)
"""
import os
import random
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from service import Service, finish, say, trial_body  # noqa: E402
from smtp_sink import Sink  # noqa: E402

NAME = "probe-mail-outage"
MAILS = int(os.environ.get("PROBE_MAILS", "12"))
ATTEMPTS = int(os.environ.get("PROBE_ATTEMPTS", "3"))
DROPS = int(os.environ.get("PROBE_DROPS", "4"))
WAIT = 150  # seconds, at most, for any one wait


def sink_port():
    """A free port below the ephemeral range: while nothing listens on it, a connection to an
    ephemeral port of this machine can, rarely, meet itself (TCP simultaneous open)."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"{NAME}: no free port for the SMTP sink")


def outbox(svc):
    """Every outbox row: (message_id, recipient, status, attempts)."""
    return [(r[0], r[1].lower(), r[2], int(r[3])) for r in
            svc.query("SELECT message_id, recipient_email, status, attempts FROM outbox")]


def cause_mails(svc, tok, tech, emails, tag):
    """Trial requests (each mails every user of the SME and the institute) and a password
    reset for each of `emails`, through the page a person would use."""
    for i in range(MAILS):
        a = svc.post("/api/v1/agreements", trial_body(tech, f"Xưởng {tag} {i}"), token=tok["sme"])
        if a.status != 201:
            raise SystemExit(f"{NAME}: a trial request answered {a!r}")
    for email in emails:
        csrf = f"probe{tag}csrf0123456789"
        body = f"csrf={csrf}&email={email}".encode()
        a = svc.request("POST", "/password/forgot", raw=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": f"uf_csrf={csrf}", "Accept": "text/html"})
        if a.status != 200:
            raise SystemExit(f"{NAME}: the forgotten-password form answered {a!r}")


def pending_via_api(svc, admin):
    a = svc.get("/api/v1/mail/outbox?status=pending&per_page=1", token=admin)
    if a.status != 200:
        raise SystemExit(f"{NAME}: the outbox list answered {a!r}")
    return a.json()["total"]


def tally(rows, received, failures, label, withheld_ok):
    """Compares the outbox with what the sink received; returns the figures' values."""
    by_id = {}
    for mid, rcpts, at, answered in received:
        by_id.setdefault(mid, []).append((rcpts, at, answered))
    lost, dup, resent = [], [], 0
    for mid, rcpt, status, attempts in rows:
        got = by_id.get(mid, [])
        if status != "sent" or not got:
            lost.append(f"{mid} to {rcpt}: {status} after {attempts} attempts, "
                        f"received {len(got)} times")
            continue
        if any(rcpt not in r for r, _, _ in got):
            failures.append(f"{label}: {mid} was for {rcpt}, received for {got[0][0]}")
        answered = sum(1 for _, _, a in got if a)
        if answered > 1:
            dup.append(f"{mid} to {rcpt}: received {len(got)} times, {answered} answered 250")
        elif len(got) > 1:
            # Received before, without a 250 the server heard: a re-send by SMTP's nature.
            resent += len(got) - 1
            if not withheld_ok:
                dup.append(f"{mid}: received {len(got)} times")
    strangers = [m for m in by_id if m not in {r[0] for r in rows}]
    if strangers:
        failures.append(f"{label}: {len(strangers)} messages not in the outbox, "
                        f"e.g. {strangers[:3]}")
    for line in lost[:10]:
        failures.append(f"{label}: lost {line}")
    for line in dup[:10]:
        failures.append(f"{label}: duplicated {line}")
    return len(lost), len(dup), resent


def main():
    figures, failures = {}, []
    port = sink_port()
    sink = Sink(port)
    with Service(NAME, env={
        "USEFIRST_MAIL__SMTP_URL": f"smtp://127.0.0.1:{port}",
        "USEFIRST_MAIL__RETRY_BASE_SECONDS": "1",
        "USEFIRST_MAIL__TIMEOUT_SECONDS": "5",
        "USEFIRST_SCHEDULER__TICK_SECONDS": "1",
        "USEFIRST_SCHEDULER__JOBS__DELIVER_MAIL__CRON": "* * * * * *",
    }) as svc:
        svc.prepare().start()
        tok = svc.tokens("sme", "admin")
        tech = svc.listed_technology(tok["sme"])
        users = svc.get("/api/v1/users?per_page=100", token=tok["admin"]).json()["items"]
        emails = [u["email"] for u in users][:6]

        # Round 1: the SMTP server is down while the mails are caused.
        cause_mails(svc, tok, tech, emails, "a")
        rows = outbox(svc)
        queued = len(rows)
        if not svc.wait_for(f"{ATTEMPTS} failed attempts of every message",
                            lambda: all(r[2] != "pending" or r[3] >= ATTEMPTS for r in outbox(svc)),
                            WAIT):
            failures.append(f"messages were not attempted {ATTEMPTS} times while the SMTP "
                            "server was down")
        if any(r[2] == "sent" for r in outbox(svc)):
            failures.append("a message counts as sent while the SMTP server was down")
        say(NAME, f"{queued} messages queued, each tried {ATTEMPTS} times; the sink starts")
        sink.start()
        svc.wait_for("the outbox to empty", lambda: pending_via_api(svc, tok["admin"]) == 0, WAIT)
        rows = outbox(svc)
        received = sink.snapshot()
        lost, dup, _ = tally(rows, received, failures, "outage", withheld_ok=False)
        last = max((at for _, _, at, _ in received), default=sink.started)
        figures["queued"] = queued
        figures["delivered"] = sum(1 for r in rows if r[2] == "sent")
        figures["lost"] = f"{lost} (target 0)"
        figures["duplicated"] = f"{dup} (target 0)"
        figures["seconds to the last delivery"] = f"{last - sink.started:.1f}"
        if len(rows) != queued:
            failures.append(f"{len(rows) - queued} messages appeared in the outbox meanwhile")

        # Round 2: the sink withholds the 250 of the next few messages and drops the line.
        before = {r[0] for r in rows}
        sink.withhold(DROPS)
        cause_mails(svc, tok, tech, [], "b")
        svc.wait_for("the outbox to empty again", lambda: pending_via_api(svc, tok["admin"]) == 0,
                     WAIT)
        rows2 = [r for r in outbox(svc) if r[0] not in before]
        received2 = [m for m in sink.snapshot() if m[0] not in before]
        lost2, dup2, resent = tally(rows2, received2, failures, "dropped replies",
                                    withheld_ok=True)
        withheld = sum(1 for m in received2 if not m[3])
        figures["dropped-reply round: queued"] = len(rows2)
        figures["lost"] = f"{lost + lost2} (target 0)"
        figures["duplicated"] = f"{dup + dup2} (target 0)"
        figures["re-sent after a withheld 250"] = f"{resent} of {withheld}"
        if withheld != DROPS:
            failures.append(f"the sink withheld {withheld} replies, meant {DROPS}")
    finish(NAME, figures, failures, svc)


if __name__ == "__main__":
    main()

"""Schemathesis (from PyPI, in a virtualenv this probe makes and then reuses) against the
running server's /api/openapi.json, once per demo role with that role's bearer token: it
generates requests from the spec, and checks that no answer is a server error and that every
answer conforms to the spec (status code, and body schema for the status).

Figures (targets 0): 5xx, schema violations (responses the spec does not describe).

    PROBE_SCHEMATHESIS_VENV  the virtualenv (default: $XDG_CACHE_HOME or ~/.cache,
                             usefirst/schemathesis-VERSION)
    PROBE_SEED               replays a run (printed on stderr)
    PROBE_MAX_EXAMPLES       cases per operation and phase (default 8)
    PROBE_ROLE_SECONDS       time budget of each role's run (default 24)
"""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from service import Service, finish, rng, say  # noqa: E402
from world import ROLES  # noqa: E402

NAME = "probe-schemathesis"
VERSION = "4.32.5"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
SERVER_ERRORS = {"not_a_server_error"}
# Operations not fuzzed, each with why.
EXCLUDED = {
    "/api/v1/auth/logout": "would end the session the role's run uses",
}


def venv():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.environ.get("PROBE_SCHEMATHESIS_VENV") or os.path.join(
        cache, "usefirst", f"schemathesis-{VERSION}")
    exe = os.path.join(path, "bin", "schemathesis")
    if os.access(exe, os.X_OK):
        return exe
    say(NAME, f"installing schemathesis {VERSION} into {path}")
    for cmd in ([sys.executable, "-m", "venv", path],
                [os.path.join(path, "bin", "pip"), "install", "-q", f"schemathesis=={VERSION}"]):
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout + r.stderr)
            print(f"{NAME}: schemathesis could not be installed ({' '.join(cmd[:3])}: exit "
                  f"{r.returncode}) — FAILED", flush=True)
            sys.exit(1)
    return exe


def main():
    exe = venv()
    r = rng()
    seed = r.randrange(1 << 30)
    examples = int(os.environ.get("PROBE_MAX_EXAMPLES", "8"))
    seconds = int(os.environ.get("PROBE_ROLE_SECONDS", "24"))
    failures = []
    server_errors, violations = [], []
    cases = 0
    with Service(NAME) as svc:
        svc.prepare().start()
        tokens = svc.tokens()
        for role in ROLES:
            report = os.path.join(svc.work, f"report-{role}")
            cmd = [exe, "run", f"{svc.base}/api/openapi.json",
                   "--url", svc.base,
                   "-H", f"Authorization: Bearer {tokens[role]}",
                   "--checks", CHECKS,
                   "--max-examples", str(examples),
                   "--max-time", str(seconds),
                   "--seed", str(seed),
                   # One worker: with two, CPython 3.11's AST constructor can miscount its
                   # recursion depth when both threads parse at once (python/cpython#106905;
                   # hypothesis parses lambda sources as it builds strategies), and the run
                   # ends in a SystemError that says nothing about the server. On two cores
                   # one worker runs as many cases in the same time.
                   "--workers", "1",
                   "--no-shrink",
                   "--request-timeout", "20",
                   "--report", "ndjson", "--report-dir", report,
                   "--warnings", "off"]
            for path in EXCLUDED:
                cmd += ["--exclude-path", path]
            started = time.time()
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               cwd=svc.work, timeout=seconds + 60,
                               env=dict(os.environ, NO_COLOR="1"))
            took = time.time() - started
            found = parse(report)
            cases += found["cases"]
            for f in found["failures"]:
                line = f"{role}: {f['check']}: {f['title']}: {f['where']}"
                (server_errors if f["check"] in SERVER_ERRORS else violations).append(line)
            say(NAME, f"{role}: {found['cases']} cases in {took:.0f}s, "
                      f"{len(found['failures'])} failure(s), exit {p.returncode}")
            if p.returncode not in (0, 1) or (p.returncode == 1 and not found["failures"]):
                sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
                failures.append(f"{role}: schemathesis exited {p.returncode} without a finding")
            if os.environ.get("PROBE_VERBOSE"):
                sys.stderr.write(p.stdout[-20000:])
        # The same finding seen by several roles counts once per role; list each once.
        failures += [f"5xx: {s}" for s in sorted(set(server_errors))]
        failures += [f"schema: {s}" for s in sorted(set(violations))]
    finish(NAME, {
        "cases": cases,
        "schema violations": len(set(violations)),
        "5xx": len(set(server_errors)),
    }, failures, svc)


def parse(report):
    """Cases and distinct failures (check, title, operation) from an ndjson report."""
    out = {"cases": 0, "failures": []}
    seen = set()
    for path in glob.glob(os.path.join(report, "*.ndjson")):
        with open(path) as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                walk(ev, out, seen)
    return out


def walk(ev, out, seen):
    """Finds the check results in an event, whatever its nesting."""
    if isinstance(ev, dict):
        if "ScenarioFinished" in ev:
            rec = ev["ScenarioFinished"].get("recorder", {})
            out["cases"] += len(rec.get("cases", {}))
            label = rec.get("label", "")
            for checks in rec.get("checks", {}).values():
                for c in checks:
                    if str(c.get("status", "")).lower() != "failure":
                        continue
                    fail = (c.get("failure_info") or {}).get("failure") or {}
                    key = (c.get("name"), fail.get("title") or c.get("name"), label)
                    if key not in seen:
                        seen.add(key)
                        out["failures"].append({"check": key[0], "title": key[1],
                                                "where": label})
            return
        for v in ev.values():
            walk(v, out, seen)
    elif isinstance(ev, list):
        for v in ev:
            walk(v, out, seen)


if __name__ == "__main__":
    main()

"""What every scripts/probe-*.sh shares: a usefirst server on a fresh database, its demo users,
calls to its API, and the figure a probe prints last.

Standard library only (CI runs the probes with the machine's Python, no packages).

    PROBE_BIN           the usefirst executable (default: target/debug/usefirst, built with
                        `cargo build --bin usefirst` when absent)
    PROBE_DATABASE_URL  postgres://.../DB: each server gets a fresh database made beside DB and
                        dropped afterwards; unset: a SQLite file in a temporary folder
    PROBE_KEEP          1: keep the temporary folder (logs, database) for a look afterwards
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO_PASSWORD = "trial-demo-2026"
# A trial's requested start, far enough ahead to stay valid.
TRIAL_START = "2027-04-01"
DEMO_USERS = {
    "sme": "sme1@usefirst.demo",
    "institute": "institute1@usefirst.demo",
    "insurer": "insurer@usefirst.demo",
    "admin": "admin@usefirst.demo",
    "auditor": "auditor@usefirst.demo",
}


def say(name, msg):
    print(f"{name}: {msg}", file=sys.stderr, flush=True)


def binary():
    path = os.environ.get("PROBE_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "usefirst")
    if not os.environ.get("PROBE_BIN") and not os.access(path, os.X_OK):
        subprocess.run(["cargo", "build", "--bin", "usefirst"], cwd=ROOT, check=True)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"no usefirst executable at {path}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trial_body(technology_id, place, start=TRIAL_START):
    """A trial request's body (POST /api/v1/agreements)."""
    return {"technology_id": technology_id, "place_of_use": place, "message": "",
            "requested_start": start}


def backend():
    """'postgres' or 'sqlite', as the probes will run."""
    return "postgres" if os.environ.get("PROBE_DATABASE_URL") else "sqlite"


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Service:
    """One usefirst server on its own fresh database (SQLite file or PostgreSQL database)."""

    def __init__(self, name, env=None):
        self.name = name
        self.bin = binary()
        self.work = tempfile.mkdtemp(prefix=f"uf-{name}.")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None  # the running server, None while it is down
        self.pg_admin = None
        self.pg_name = None
        url = os.environ.get("PROBE_DATABASE_URL")
        if url:
            server, _, _ = url.rpartition("/")
            self.pg_admin = url
            self.pg_name = f"uf_probe_{uuid.uuid4().hex[:16]}"
            self.psql(f'CREATE DATABASE "{self.pg_name}"', db=url)
            self.db_url = f"{server}/{self.pg_name}"
        else:
            self.db_url = os.path.join(self.work, "usefirst.db")
        self.env = dict(os.environ)
        self.env.update({
            "USEFIRST_DATABASE__URL": self.db_url,
            "USEFIRST_SERVER__LISTEN": f"127.0.0.1:{self.port}",
            "USEFIRST_APP__PUBLIC_URL": self.base,
            "USEFIRST_MAIL__OUTBOX_DIR": os.path.join(self.work, "mail"),
            "USEFIRST_LOG__FILTER": "warn",
            # The probes sign in far more often than a person would.
            "USEFIRST_AUTH__MAX_FAILED_LOGINS_PER_ADDRESS": "100000",
        })
        self.env.update(env or {})
        self.log = open(os.path.join(self.work, "server.log"), "ab")
        self.conns = {}
        self.pg_session = None
        self.exited_early = False  # the server ended before the probe stopped or killed it

    # --- the process -----------------------------------------------------------------------

    def cli(self, *args, check=True):
        r = subprocess.run([self.bin, *args], env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if check and r.returncode != 0:
            sys.stderr.write(r.stdout.decode(errors="replace"))
            raise SystemExit(f"{self.name}: usefirst {' '.join(args)} failed ({r.returncode})")
        return r

    def prepare(self, demo=True):
        self.cli("migrate")
        if demo:
            self.cli("seed-demo")
        return self

    def start(self, *args):
        self.proc = subprocess.Popen([self.bin, "serve", *args], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if not self.wait_for("the server to answer", self._live, 60, interval=0.05):
            self.dump_log()
            raise SystemExit(f"{self.name}: the server did not answer within 60 s")
        return self

    def _live(self):
        if self.proc.poll() is not None:
            self.dump_log()
            raise SystemExit(f"{self.name}: the server exited at start-up")
        try:
            return self.get("/health/live").status == 200
        except OSError:
            return False

    def kill(self):
        """kill -9: no shutdown, no flush."""
        if self.proc:
            self._note_early_exit()
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        self.conns.clear()

    def stop(self):
        if self.proc:
            self._note_early_exit()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None
        self.conns.clear()

    def _note_early_exit(self):
        if self.proc.poll() is not None:
            self.exited_early = True

    def ended_by_itself(self):
        """Whether the server ended without being stopped or killed, now or earlier."""
        return self.exited_early or (self.proc is not None and self.proc.poll() is not None)

    def close(self):
        self.stop()
        self.log.close()
        if self.pg_session:
            self.pg_session.close()
        if self.pg_name:
            self.psql(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)', db=self.pg_admin)
        if os.environ.get("PROBE_KEEP") == "1":
            say(self.name, f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def verify_audit(self):
        """`usefirst verify-audit` (the audit chain walked): whether it held, and the end of
        what it printed."""
        r = self.cli("verify-audit", check=False)
        return r.returncode == 0, r.stdout.decode(errors="replace")[-600:]

    def wait_for(self, what, test, seconds, interval=0.25):
        """Calls `test` until it holds (True) or `seconds` have passed (False, said on stderr)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if test():
                return True
            time.sleep(interval)
        say(self.name, f"gave up waiting for {what} after {seconds} s")
        return False

    def dump_log(self):
        self.log.flush()
        with open(os.path.join(self.work, "server.log"), "rb") as f:
            sys.stderr.write(f.read()[-4000:].decode(errors="replace"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the database, read directly (checks only, never the thing probed) ------------------

    def psql(self, sql, db=None):
        r = subprocess.run(["psql", db or self.db_url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                            "-c", sql], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"psql: {r.stderr.strip()}")
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def query(self, sql):
        """Rows of `sql` as lists of strings, on either backend."""
        if self.pg_name:
            if self.pg_session is None:
                self.pg_session = PsqlSession(self.db_url)
            return self.pg_session.query(sql)
        con = sqlite3.connect(f"file:{self.db_url}?mode=ro", uri=True, timeout=30)
        try:
            return [[None if v is None else str(v) for v in row] for row in con.execute(sql)]
        finally:
            con.close()

    def tables(self):
        if self.pg_name:
            rows = self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        else:
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%search_docs_%'")
        return sorted(r[0] for r in rows if r[0] != "__diesel_schema_migrations")

    def row_counts(self, tables=None):
        """{table: rows} of `tables` (default every table), in one query."""
        tables = tables or self.tables()
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in tables)
        return {t: int(n) for t, n in self.query(sql)}

    # --- HTTP -------------------------------------------------------------------------------

    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30,
                fresh=False):
        """One request; `body` is sent as JSON, `raw` as bytes. Keeps one connection per caller
        thread (fresh=True opens a new one)."""
        key = threading.get_ident()
        conn = None if fresh else self.conns.get(key)
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                conn.request(method, path, body=data, headers=hdrs)
                res = conn.getresponse()
                answer = Answer(res.status, res.getheaders(), res.read())
                if not fresh:
                    self.conns[key] = conn
                else:
                    conn.close()
                return answer
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed: once more on a new one.
                conn.close()
                conn = None
                self.conns.pop(key, None)
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body=body, token=token, **kw)

    def login(self, email, password=DEMO_PASSWORD):
        a = self.post("/api/v1/auth/login", {"email": email, "password": password})
        if a.status != 200:
            raise SystemExit(f"{self.name}: sign-in of {email} answered {a!r}")
        return a.json()["token"]

    def tokens(self, *roles):
        """A bearer token for each of `roles` (default every demo role)."""
        return {role: self.login(DEMO_USERS[role]) for role in roles or DEMO_USERS}

    def listed_technology(self, sme):
        """A listed technology the SME (token `sme`) can request a trial of: the first that
        takes a warm-up request."""
        page = self.get("/api/v1/technologies?status=listed&per_page=100", token=sme).json()
        for tech in page["items"]:
            a = self.post("/api/v1/agreements", trial_body(tech["id"], "warm-up"), token=sme)
            if a.status == 201:
                return tech["id"]
        raise SystemExit(f"{self.name}: no listed technology takes a trial request")

    def openapi(self):
        return self.get("/api/openapi.json").json()


class PsqlSession:
    """One psql kept open on a database: a query per call without starting psql each time."""

    def __init__(self, url):
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=0"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)

    def query(self, sql):
        marker = f"__end_{uuid.uuid4().hex}__"
        out, error = [], None
        with self.lock:
            self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + marker + "\n")
            self.proc.stdin.flush()
            for line in self.proc.stdout:
                line = line.rstrip("\n")
                if line == marker:
                    break
                # An error and what psql prints after it (LINE 1: ...) up to the marker.
                if error is None and line.startswith(("ERROR:", "psql:")):
                    error = line
                if error is None:
                    out.append(line.split("|"))
            else:
                error = error or "psql ended"
        if error:
            raise SystemExit(f"psql: {error}")
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def finish(name, figures, failures, svc=None):
    """Prints the figures (the last line is the one that counts) and exits non-zero on failure.
    With `svc`, a server that ended before the probe stopped it is a failure too."""
    if svc is not None and svc.ended_by_itself():
        failures.append("the server exited")
    for line in failures[:40]:
        print(f"{name}: FAIL {line}", file=sys.stderr)
    if len(failures) > 40:
        print(f"{name}: … and {len(failures) - 40} more", file=sys.stderr)
    summary = ", ".join(f"{k} {v}" for k, v in figures.items())
    verdict = "FAILED" if failures else "ok"
    print(f"{name} ({backend()}): {summary} — {verdict}", flush=True)
    sys.exit(1 if failures else 0)


def rng():
    seed = int(os.environ.get("PROBE_SEED", str(random.randrange(1 << 30))))
    print(f"seed {seed} (PROBE_SEED)", file=sys.stderr)
    return random.Random(seed)


def quote(s):
    return urllib.parse.quote(str(s), safe="")

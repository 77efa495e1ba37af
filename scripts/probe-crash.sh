#!/usr/bin/env bash
# Probes durability under kill -9 (scripts/probe/crash.py): writer threads send acknowledged
# writes with audit events (trial requests, withdrawals) while the server is killed with
# SIGKILL after a random 0.2-1.5 s and restarted, PROBE_KILLS times (default 30); the audit
# chain is walked (`usefirst verify-audit`) after each kill, and at the end every acknowledged
# write is read back through the API with its event in the agreement's history, and every
# trial request the kill left unanswered is sent again under its Idempotency-Key.
# Targets: lost 0, chain breaks 0, made twice 0.
# SQLite by default; PostgreSQL with PROBE_DATABASE_URL=postgres://.../postgres.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 scripts/probe/crash.py "$@"

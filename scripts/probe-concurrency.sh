#!/usr/bin/env bash
# Probes concurrent writers against a running server (scripts/probe/concurrency.py):
#   - 50 trial requests at once under one Idempotency-Key: 1 agreement made, with one
#     agreement.requested audit event, and all 50 answers name it;
#   - the same key with another body: a 409/422 problem naming the key, nothing written; 50 at
#     once under a new key with two bodies: 1 agreement, the other body's senders refused;
#   - two writers with one If-Match, 50 rounds on an update (PUT /technologies/{id}) and 50 on
#     a transition (withdraw): each round exactly one 2xx and one 412, the version one higher.
# Targets: rows made 1, answers naming it 50/50, rounds with one winner 50/50 each.
# SQLite by default; PostgreSQL with PROBE_DATABASE_URL=postgres://.../postgres.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 scripts/probe/concurrency.py "$@"

#!/usr/bin/env bash
# Two instances of the service on one database through a simulated month (issue: proven under
# load and faults). Runs the API suite's test of it, which starts two complete instances (each
# its own pool, writer, session cache, HTTP server and scheduler) on one database — PostgreSQL
# when PROBE_DATABASE_URL is set, else one SQLite file — ticks both schedulers at the same
# moments every hour for 31 days with every job on, and checks every slot ran once, no
# transition or reminder happened twice, every mail reached the SMTP server once, and a
# sign-out on one instance is honoured by the other within auth.session_cache_seconds.
# Prints its figures last: duplicate runs, missed runs, duplicate mails (targets 0, 0, 0).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
TEST_DATABASE_URL="${PROBE_DATABASE_URL:-}" cargo test -q --test api \
    scheduler::two_instances_over_a_month_run_every_slot_exactly_once -- --exact --nocapture \
    >"$out" 2>&1
rc=$?
set -e
figure=$(grep -E '^two instances \(' "$out" | tail -n 1 || true)
if [ "$rc" -ne 0 ] || [ -z "$figure" ]; then
    cat "$out" >&2
    echo "${figure:-two instances: the test did not print its figures} — FAILED"
    exit 1
fi
echo "$figure — ok"

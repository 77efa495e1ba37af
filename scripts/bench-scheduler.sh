#!/usr/bin/env bash
# Scheduler benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
# 1. The advance sweep follows the due rows, not the table: a fresh SQLite database with
#    BENCH_SMALL agreements (default 100,000) of which BENCH_DUE (10,000) are signed trials due
#    to start; a copy is swept (`usefirst run-job advance`). Then BENCH_LARGE − BENCH_SMALL more
#    agreements that are not due are added (default to 1,000,000 in all) and the same 10,000
#    are swept again. Prints both times and their ratio (target ≤ 1.5).
# 2. Delivery of BENCH_MAILS (1,000) messages from the outbox to a local SMTP sink
#    (scripts/smtp-sink.py) with one connection (mail.concurrency = 1) and with the pooled,
#    concurrent sender (mail.concurrency = BENCH_CONCURRENCY, default 8), on copies of the same
#    database. Prints both times and the speed-up (target ≥ 3×).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SMALL=${BENCH_SMALL:-100000}
LARGE=${BENCH_LARGE:-1000000}
DUE=${BENCH_DUE:-10000}
MAILS=${BENCH_MAILS:-1000}
CONCURRENCY=${BENCH_CONCURRENCY:-8}
say() { echo "bench-scheduler: $*" >&2; }
die() { echo "bench-scheduler: FAILED: $*" >&2; exit 1; }
for tool in sqlite3 python3; do command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"; done

BIN=${CARGO_TARGET_DIR:-target}/release/usefirst
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "cargo build --release"
    cargo build --release --bin usefirst >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/uf-bench-scheduler.XXXXXX")
sink_pid=""
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export USEFIRST_LOG__FILTER=warn
cli() { USEFIRST_DATABASE__URL="$1" "$BIN" "${@:2}" </dev/null; }
# run-job prints "NAME (manual run at T, X ms): ok {counts}"
job_ms() { sed -n 's/.*, \([0-9.]*\) ms): ok .*/\1/p' <<<"$1"; }
copy() { sqlite3 "$1" "VACUUM INTO '$2'"; }

db="$work/usefirst.db"
cli "$db" migrate >/dev/null
cli "$db" seed-demo >/dev/null
started=$SECONDS
cli "$db" seed-synthetic --agreements "$SMALL" --due "$DUE" >/dev/null
say "seeded $SMALL agreements ($DUE due) in $((SECONDS - started)) s"
copy "$db" "$work/small.db"
out=$(cli "$work/small.db" run-job advance) || die "advance on $SMALL: $out"
small_ms=$(job_ms "$out")
grep -q "\"transitions\":$DUE" <<<"$out" || die "expected $DUE transitions: $out"
say "advance over $SMALL: $out"

started=$SECONDS
cli "$db" seed-synthetic --agreements "$((LARGE - SMALL))" >/dev/null
say "added $((LARGE - SMALL)) agreements (none due) in $((SECONDS - started)) s"
out=$(cli "$db" run-job advance) || die "advance on $LARGE: $out"
large_ms=$(job_ms "$out")
grep -q "\"transitions\":$DUE" <<<"$out" || die "expected $DUE transitions: $out"
say "advance over $LARGE: $out"

# Mail: the sweep above wrote a message per party user for every trial it started.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 scripts/smtp-sink.py "$port" "$work/count" &
sink_pid=$!
# Wait until the sink accepts connections (at most 10 s).
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$sink_pid" 2>/dev/null || die "the SMTP sink exited at start-up"
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "the SMTP sink did not listen on $port"
pending=$(sqlite3 "$work/small.db" "SELECT count(*) FROM outbox WHERE status = 'pending'")
[ "$pending" -ge "$MAILS" ] || die "only $pending messages pending, need $MAILS"
deliver() {
    local conc=$1 copy_db="$work/mail-$1.db"
    copy "$work/small.db" "$copy_db"
    USEFIRST_MAIL__SMTP_URL="smtp://127.0.0.1:$port" USEFIRST_MAIL__CONCURRENCY=$conc \
        USEFIRST_MAIL__BATCH_SIZE=$MAILS cli "$copy_db" run-job deliver-mail
}
out1=$(deliver 1) || die "deliver-mail, 1 connection: $out1"
grep -q "\"sent\":$MAILS" <<<"$out1" || die "expected $MAILS sent: $out1"
one_ms=$(job_ms "$out1")
outn=$(deliver "$CONCURRENCY") || die "deliver-mail, $CONCURRENCY connections: $outn"
grep -q "\"sent\":$MAILS" <<<"$outn" || die "expected $MAILS sent: $outn"
pooled_ms=$(job_ms "$outn")
received=$(cat "$work/count")
[ "$received" = "$((2 * MAILS))" ] || die "the sink received $received messages, expected $((2 * MAILS))"

ratio=$(awk -v a="$large_ms" -v b="$small_ms" 'BEGIN { printf "%.2f", a / b }')
speedup=$(awk -v a="$one_ms" -v b="$pooled_ms" 'BEGIN { printf "%.2f", a / b }')
sweep_ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "met" : "MISSED" }')
mail_ok=$(awk -v r="$speedup" 'BEGIN { print (r >= 3) ? "met" : "MISSED" }')
echo
echo "== scheduler (commit $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) cores, SQLite)"
printf '%-58s %12s\n' measure "time"
printf '%-58s %9.0f ms\n' "advance sweep, $DUE due of $SMALL agreements" "$small_ms"
printf '%-58s %9.0f ms\n' "advance sweep, the same $DUE due of $LARGE agreements" "$large_ms"
echo "ratio large/small: $ratio (target <= 1.5: $sweep_ok)"
printf '%-58s %9.0f ms\n' "deliver $MAILS mails, 1 connection" "$one_ms"
printf '%-58s %9.0f ms\n' "deliver $MAILS mails, pooled, $CONCURRENCY in flight" "$pooled_ms"
echo "speed-up: ${speedup}x (target >= 3x: $mail_ok)"
echo "the sink received $received messages ($MAILS per run)"
if [ "${BENCH_STRICT:-0}" = 1 ] && { [ "$sweep_ok" = MISSED ] || [ "$mail_ok" = MISSED ]; }; then exit 1; fi
exit 0

#!/usr/bin/env bash
# PDF benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
# 1. `cargo bench --bench pdf`: median and p95 time and the size of a 3-page Vietnamese trial
#    agreement and a 3-page Chinese one, each beside a one-line PDF set with the same fonts (the
#    floor), with the ratios. Targets: p95 <= 25 ms and <= 60 KB (vi); p95 <= 10 ms and
#    <= 40 KB (zh).
# 2. Through the API: a release server on a fresh SQLite database (demo data and
#    BENCH_AGREEMENTS synthetic agreements) receives BENCH_CONCURRENT document requests at once,
#    each for a different agreement (half in Vietnamese, half in Chinese), so every one is
#    generated, not read from storage. Prints the answers' statuses, their median and p95 time,
#    the documents stored, and the server's RSS before and at its peak (target: peak < 150 MB).
#
# Environment:
#   BENCH_PDF_RUNS      timed renders per case in step 1 (default 300)
#   BENCH_CONCURRENT    simultaneous document requests in step 2 (default 200)
#   BENCH_AGREEMENTS    synthetic agreements to seed (default 2000)
#   BENCH_STRICT        1: exit non-zero when a target is missed
#   BENCH_PORT, BENCH_SKIP_BUILD   as for scripts/lib/bench-server.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONCURRENT=${BENCH_CONCURRENT:-200}
AGREEMENTS=${BENCH_AGREEMENTS:-2000}
STRICT=${BENCH_STRICT:-0}
RSS_MAX_MB=150
ADMIN_EMAIL=admin@usefirst.demo

say() { echo "bench-pdf: $*" >&2; }
die() { echo "bench-pdf: FAILED: $*" >&2; exit 1; }

for tool in curl jq xargs sqlite3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$CONCURRENT$AGREEMENTS" in
    *[!0-9]*) die "BENCH_CONCURRENT and BENCH_AGREEMENTS must be whole numbers" ;;
esac
[ "$CONCURRENT" -ge 1 ] || die "BENCH_CONCURRENT must be at least 1"

# --- 1. the generator alone ---------------------------------------------------------------------

say "cargo bench --bench pdf"
bench_log=$(mktemp)
trap 'rm -f "$bench_log"' EXIT
BENCH_STRICT=0 cargo bench --bench pdf | tee "$bench_log"
generator_missed=$(grep -c '^MISSED' "$bench_log" || true)
rm -f "$bench_log"
trap - EXIT

# --- 2. concurrent documents through the API ---------------------------------------------------

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh

fresh_server "$AGREEMENTS"

TOKEN=$(sign_in "$ADMIN_EMAIL")

# Agreements past approval have a trial agreement to print: one for a request by hand, the
# others for the simultaneous ones.
ids=()
for status in active converted declined signed lapsed terminated; do
    page=1
    while [ "${#ids[@]}" -le "$CONCURRENT" ]; do
        got=$(api GET "/api/v1/agreements?status=$status&per_page=100&page=$page" | jq -r '.items[].id')
        [ -n "$got" ] || break
        while read -r id; do ids+=("$id"); done <<<"$got"
        page=$((page + 1))
    done
done
[ "${#ids[@]}" -gt "$CONCURRENT" ] || die "only ${#ids[@]} agreements past approval; raise BENCH_AGREEMENTS"
by_hand=${ids[$CONCURRENT]}
ids=("${ids[@]:0:$CONCURRENT}")

# One by hand first (another agreement), so a broken endpoint shows its answer instead of a
# wall of failures.
code=$(curl -sS -o "$work/first.pdf" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v1/agreements/$by_hand/documents/trial-agreement?lang=vi")
[ "$code" = 200 ] || { cat "$work/first.pdf" >&2; die "the first document answered $code"; }

rss_before_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
say "${#ids[@]} document requests at once (server RSS before: $((rss_before_kb / 1024)) MB)"
: >"$work/requests"
for i in "${!ids[@]}"; do
    lang=vi
    [ $((i % 2)) -eq 1 ] && lang=zh
    echo "$BASE/api/v1/agreements/${ids[$i]}/documents/trial-agreement?lang=$lang" >>"$work/requests"
done
started=$(date +%s.%N)
xargs -P "$CONCURRENT" -n 1 curl -sS -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -w '%{http_code} %{time_total} %{size_download}\n' <"$work/requests" >"$work/answers" || true
elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
rss_peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
stop_server

answered=$(wc -l <"$work/answers")
ok=$(awk '$1 == 200' "$work/answers" | wc -l)
stored=$(sqlite3 "$work/usefirst.db" 'SELECT count(*) FROM agreement_documents')
read -r median p95 < <(awk '$1 == 200 { print $2 * 1000 }' "$work/answers" | sort -n |
    awk '{ t[NR] = $1 } END { if (NR) { m = t[int((NR + 1) / 2)]; p = t[int(NR * 0.95 + 0.999)]; printf "%.0f %.0f\n", m, p } else print "0 0" }')
avg_kb=$(awk '$1 == 200 { s += $3; n++ } END { if (n) printf "%.1f", s / n / 1024; else print "0" }' "$work/answers")
rss_peak_mb=$((rss_peak_kb / 1024))
rss_verdict=met
[ "$rss_peak_mb" -lt "$RSS_MAX_MB" ] || rss_verdict=MISSED
all_ok=met
[ "$ok" -eq "$CONCURRENT" ] || all_ok=MISSED

echo
echo "documents through the API, ${CONCURRENT} requests at once ($((CONCURRENT / 2)) vi, $((CONCURRENT - CONCURRENT / 2)) zh), each a new document"
echo "  answered 200:        $ok of $answered ($all_ok)"
echo "  stored afterwards:   $stored documents (one made by hand before)"
echo "  wall time:           ${elapsed} s (documents set ${USEFIRST_DOCUMENTS__MAX_CONCURRENT_RENDERS:-2} at a time: documents.max_concurrent_renders)"
echo "  per request:         median ${median} ms, p95 ${p95} ms (waiting included), ${avg_kb} KB on average"
echo "  server RSS:          ${rss_before_kb} kB before, peak ${rss_peak_kb} kB = ${rss_peak_mb} MB (target < ${RSS_MAX_MB} MB: $rss_verdict)"
echo
echo "| measure | figure | target |"
echo "|---|---:|---|"
echo "| documents answered 200 of ${CONCURRENT} at once | ${ok} | all: ${all_ok} |"
echo "| server peak RSS (VmHWM) | ${rss_peak_mb} MB (${rss_before_kb} kB before) | < ${RSS_MAX_MB} MB: ${rss_verdict} |"
echo "| wall time for all, median / p95 per request | ${elapsed} s, ${median} / ${p95} ms | |"

missed=$generator_missed
[ "$rss_verdict" = met ] || missed=$((missed + 1))
[ "$all_ok" = met ] || missed=$((missed + 1))
if [ "$STRICT" = 1 ] && [ "$missed" -gt 0 ]; then
    die "$missed target(s) missed"
fi

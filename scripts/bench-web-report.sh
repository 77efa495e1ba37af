#!/usr/bin/env bash
# The monthly report page against the JSON report of the same month (a measurement, not a
# test: it never fails on speed unless BENCH_STRICT=1). Also run as `scripts/bench-web.sh
# --report`.
#
#   scripts/bench-web-report.sh
#
# Builds the release binary, starts `usefirst serve` on a fresh SQLite database with the demo
# data and BENCH_AGREEMENTS synthetic agreements (default 1,000,000: seeding takes minutes;
# scripts/lib/bench-server.sh), signs in as admin@usefirst.demo twice — through the sign-in
# form with curl (the page's cookie session) and through the API (a bearer token) — and times,
# for the last full month (in app.time_zone) or BENCH_MONTH:
#   - GET /api/v1/reports/monthly/{month}?format=json (the JSON report), and
#   - GET /admin/reports?month={month} (the page: the same figures, charts and tables, and the
#     stored reports),
# one after the other, BENCH_RUNS times each after one warm-up of each, and prints the median
# server time of each (curl's time from the request sent to the first byte of the answer), the
# page ÷ JSON ratio (target <= 1.2) and the page's weight.
#
# Environment:
#   BENCH_AGREEMENTS   synthetic agreements to seed (default 1000000)
#   BENCH_RUNS         timed requests of each (default 15)
#   BENCH_MONTH        the month, yyyy-mm (default: the last full month)
#   BENCH_PORT, BENCH_SKIP_BUILD, BENCH_BIN   as in scripts/lib/bench-server.sh
#   BENCH_STRICT       1: exit non-zero when the target is missed
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

AGREEMENTS=${BENCH_AGREEMENTS:-1000000}
RUNS=${BENCH_RUNS:-15}
STRICT=${BENCH_STRICT:-0}
TZ_NAME=${USEFIRST_APP__TIME_ZONE:-Asia/Ho_Chi_Minh}
MONTH=${BENCH_MONTH:-$(TZ=$TZ_NAME date -d "$(TZ=$TZ_NAME date +%Y-%m-15) -1 month" +%Y-%m)}
ADMIN=admin@usefirst.demo

# Target: the page's server time at most this many times the JSON report's.
RATIO_MAX=1.2

say() { echo "bench-web-report: $*" >&2; }
die() { echo "bench-web-report: FAILED: $*" >&2; exit 1; }

for tool in curl jq; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$AGREEMENTS$RUNS" in
    *[!0-9]*) die "BENCH_AGREEMENTS and BENCH_RUNS must be whole numbers" ;;
esac
[ "$RUNS" -gt 0 ] || die "BENCH_RUNS must be at least 1"
[[ "$MONTH" =~ ^[0-9]{4}-[0-9]{2}$ ]] || die "BENCH_MONTH must be yyyy-mm"

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh
started=$SECONDS
fresh_server "$AGREEMENTS"
SEED_S=$((SECONDS - started))

# The page's session, through the sign-in form.
jar="$work/cookies"
curl -sS -o /dev/null -c "$jar" "$BASE/sign-in" || die "GET /sign-in: no answer"
csrf=$(awk '$6 == "uf_csrf" { print $7 }' "$jar")
[ -n "$csrf" ] || die "the sign-in page set no form token cookie"
code=$(curl -sS -o "$work/answer" -w '%{http_code}' -b "$jar" -c "$jar" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=$ADMIN" \
    --data-urlencode "password=$DEMO_PASSWORD" --data-urlencode "next=/home" "$BASE/sign-in")
[ "$code" = 303 ] || { cat "$work/answer" >&2; die "signing in through the form answered $code, not 303"; }
session=$(awk '$6 == "uf_session" { print $7 }' "$jar")
[ -n "$session" ] || die "signing in set no session cookie"
COOKIE="uf_session=$session; uf_csrf=$csrf"
# The API's bearer token.
TOKEN=$(sign_in "$ADMIN")

JSON_PATH="/api/v1/reports/monthly/$MONTH?format=json"
PAGE_PATH="/admin/reports?month=$MONTH"

# timed KIND: one request; prints the server time in ms (request sent to first byte).
timed() {
    local code pre first
    if [ "$1" = json ]; then
        read -r code pre first < <(curl -sS -o "$work/json" -w '%{http_code} %{time_pretransfer} %{time_starttransfer}\n' \
            -H "Authorization: Bearer $TOKEN" "$BASE$JSON_PATH")
    else
        read -r code pre first < <(curl -sS -o "$work/page" -w '%{http_code} %{time_pretransfer} %{time_starttransfer}\n' \
            -H "Cookie: $COOKIE" -H 'Accept-Language: vi' "$BASE$PAGE_PATH")
    fi
    [ "$code" = 200 ] || { head -c 2000 "$work/$1" >&2; echo >&2; die "GET ($1) answered $code"; }
    awk -v a="$pre" -v b="$first" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "warm-up"
timed json >/dev/null
timed page >/dev/null
jq -e '.counts.trials_started.month > 0' "$work/json" >/dev/null || say "note: no trial started in $MONTH"
JSON_RUNS=""
PAGE_RUNS=""
for i in $(seq 1 "$RUNS"); do
    # Alternate, so that both see the same machine.
    JSON_RUNS+="$(timed json)"$'\n'
    PAGE_RUNS+="$(timed page)"$'\n'
    say "run $i of $RUNS"
done
stop_server

json_ms=$(printf '%s' "$JSON_RUNS" | median)
page_ms=$(printf '%s' "$PAGE_RUNS" | median)
ratio=$(awk -v p="$page_ms" -v j="$json_ms" 'BEGIN { printf "%.2f", p / j }')
if awk -v r="$ratio" -v m="$RATIO_MAX" 'BEGIN { exit !(r <= m) }'; then verdict=met; else verdict=MISSED; fi
page_kb=$(awk -v b="$(wc -c <"$work/page")" 'BEGIN { printf "%.1f", b / 1024 }')
json_kb=$(awk -v b="$(wc -c <"$work/json")" 'BEGIN { printf "%.1f", b / 1024 }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

echo
echo "== report page against the JSON report, $MONTH, $AGREEMENTS synthetic agreements on SQLite (seeded in $SEED_S s), medians of $RUNS, $(nproc) cores ($cpu), commit $commit"
printf '%-48s %12s %10s\n' request "server ms" "size KB"
printf '%-48s %12s %10s\n' "GET $JSON_PATH" "$json_ms" "$json_kb"
printf '%-48s %12s %10s\n' "GET $PAGE_PATH" "$page_ms" "$page_kb"
echo "page ÷ JSON: $ratio (<= $RATIO_MAX: $verdict)"
echo
echo "== Markdown (for docs/PERFORMANCE.md)"
echo
echo "Measured $(date -u '+%Y-%m-%d'), commit \`$commit\`: \`scripts/bench-web-report.sh\`, release build, SQLite with"
echo "the demo and $AGREEMENTS synthetic agreements, month $MONTH, median server time (request sent to first"
echo "byte) of $RUNS alternating requests each, on $(nproc) cores ($cpu)."
echo
echo "| request | server time (ms) | size (KB) |"
echo "|---|---:|---:|"
echo "| \`GET $JSON_PATH\` (JSON report) | $json_ms | $json_kb |"
echo "| \`GET $PAGE_PATH\` (the page) | $page_ms | $page_kb |"
echo
echo "Page ÷ JSON: **$ratio** (target ≤ $RATIO_MAX: $verdict)."

if [ "$verdict" = MISSED ]; then
    say "target missed"
    [ "$STRICT" = 1 ] && exit 1
fi
exit 0

#!/usr/bin/env bash
# HTTP API benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
# Builds the release binary, starts `usefirst serve` on a fresh SQLite database in a temp folder
# seeded with the demo organisations and 10,000 agreements, and loads it over loopback with wrk
# (64 connections, 2 threads, BENCH_SECONDS each):
#   1. GET  /health/live                   the reference: the cheapest answer the server gives
#   2. GET  /api/v1/agreements/{id}        as an SME that is party to the agreement
#   3. POST /api/v1/agreements             the SME requests a trial (a write transaction)
#   4. POST /api/v1/agreements/{id}/payments  the institute records a payment on a converted
#      agreement, at ONE connection: the median round trip of a single client, the reference
#      for the settlement computation's cost (scripts/bench-settlement.sh)
# For each it prints requests/s, p50 and p99 latency, answers that were not 2xx/3xx and socket
# errors; then each endpoint's throughput relative to the reference and the server's peak RSS,
# first as a plain table and then as Markdown for docs/PERFORMANCE.md.
#
# Environment:
#   BENCH_SECONDS      load per endpoint, in seconds (default 15)
#   BENCH_WARMUP       warm-up per endpoint before measuring, in seconds (default 2; 0 skips)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_AGREEMENTS   synthetic agreements to seed (default 10000)
#   BENCH_PAY_CONTRACTS  converted agreements the payments rotate over (default 100; those the
#                      demo lacks are converted through the API before the load)
#   BENCH_PORT         port to listen on (default: a free one)
#   BENCH_STRICT       1: exit non-zero when a target is missed
#   BENCH_SKIP_BUILD   1: use target/release/usefirst as it is
#   BENCH_PROFILE      1: record the server with `perf record -g` during each measured run
#                      (dwarf: with DWARF call chains; scripts/lib/bench-server.sh)
#                      (which skews the figures) and write the hottest symbols of each to
#                      target/bench-profiles/api-NAME.txt, and the project's functions with
#                      what they call (inclusive) to api-NAME-inclusive.txt (the recording
#                      itself stays beside them as api-NAME.perf.data, for `perf report -i`)
#
# The client shares the machine's cores with the server, so figures compare endpoints with each
# other on one machine; they are not a capacity figure for a deployment.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_RUN=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
AGREEMENTS=${BENCH_AGREEMENTS:-10000}
PAY_CONTRACTS=${BENCH_PAY_CONTRACTS:-100}
STRICT=${BENCH_STRICT:-0}

# Targets (see docs/PERFORMANCE.md).
GET_MIN_PCT=50
POST_MIN_PCT=10
RSS_MAX_MB=64
PAYMENT_P50_MAX_MS=2

SME_EMAIL=sme1@usefirst.demo

say() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$SECONDS_PER_RUN$WARMUP$CONNECTIONS$THREADS$AGREEMENTS$PAY_CONTRACTS" in
    *[!0-9]*) die "BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_AGREEMENTS and BENCH_PAY_CONTRACTS must be whole numbers" ;;
esac
[ "$SECONDS_PER_RUN" -gt 0 ] || die "BENCH_SECONDS must be at least 1"

# --- build, a fresh database, the server (scripts/lib/bench-server.sh) -----------------------

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh

fresh_server "$AGREEMENTS"

# --- ids and a session, through the API as a client would ------------------------------------

TOKEN=$(sign_in "$SME_EMAIL")

page=$(api GET '/api/v1/agreements?per_page=1')
AGREEMENT_ID=$(jq -er '.items[0].id' <<<"$page") || die "the SME sees no agreement: $page"
sme_total=$(jq -r '.total // "?"' <<<"$page")
TECHNOLOGY_ID=$(api GET '/api/v1/technologies?status=listed&per_page=1' | jq -r '.items[0].id // empty')
if [ -z "$TECHNOLOGY_ID" ]; then
    TECHNOLOGY_ID=$(jq -er '.items[0].technology_id' <<<"$page") || die "found no technology to request"
fi
say "SME $SME_EMAIL is party to $sme_total agreements; GET uses $AGREEMENT_ID, POST requests technology $TECHNOLOGY_ID"

POST_BODY=$(jq -cn --arg t "$TECHNOLOGY_ID" \
    '{technology_id: $t, place_of_use: "Xưởng sản xuất, Bình Dương", message: "bench", requested_start: "2027-01-15"}')
# One request by hand first, so a contract mismatch shows its answer instead of a wall of errors.
api GET "/api/v1/agreements/$AGREEMENT_ID" >/dev/null
api POST /api/v1/agreements "$POST_BODY" >/dev/null

# Converted agreements of demo institute 1 with plenty left to pay: the payments rotate over
# BENCH_PAY_CONTRACTS of them, so each contract collects a realistic few dozen payments in a
# run (the answer is the contract's statement, which lists its payments: a contract holding
# hundreds measures the listing, not the payment). The demo has a handful; the rest are made
# through the API as their parties would (SME 2 requests from today, institute approves, both
# sign, the scheduler's `advance` starts the trials, SME 2 converts), on a technology of the
# institute whose terms need no insurance. SME 2, so that SME 1's agreements, which the GET
# and POST runs read, stay as the demo made them.
SME_TOKEN=$TOKEN
BUYER_TOKEN=$(sign_in sme2@usefirst.demo)
INSTITUTE_TOKEN=$(sign_in institute1@usefirst.demo)
TOKEN=$INSTITUTE_TOKEN
PAY_IDS=()
for id in $(api GET '/api/v1/agreements?status=converted&per_page=100' | jq -r '.items[].id'); do
    code=$(curl -sS -o "$work/settlement" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$BASE/api/v1/agreements/$id/settlement")
    [ "$code" = 200 ] || continue
    left=$(jq -r '.outstanding | tonumber | floor' "$work/settlement")
    [ "$left" -ge 100000 ] && PAY_IDS+=("$id")
done
demo_contracts=${#PAY_IDS[@]}
# take TOKEN ID ACTION: takes an action at the agreement's current version as TOKEN's holder.
take() {
    TOKEN=$1
    local v
    v=$(api GET "/api/v1/agreements/$2" | jq -er .version) || die "agreement $2 has no version"
    api POST "/api/v1/agreements/$2/$3" '{}' "$v" >/dev/null
}
if [ "$demo_contracts" -lt "$PAY_CONTRACTS" ]; then
    institute_org=$(api GET '/api/v1/agreements?per_page=1' | jq -er '.items[0].institute_id')
    tech=""
    for t in $(api GET '/api/v1/technologies?status=listed&per_page=100' \
        | jq -r --arg o "$institute_org" '.items[] | select(.institute_id == $o) | .id'); do
        # Its terms now (newest version first): without insurance, no insurer to name.
        if api GET "/api/v1/technologies/$t/terms" | jq -e '.[0].terms.insurance_required == false' >/dev/null; then
            tech=$t
            break
        fi
    done
    [ -n "$tech" ] || die "institute 1 has no listed technology whose terms need no insurance"
    body=$(jq -cn --arg t "$tech" --arg d "$(TZ=Asia/Ho_Chi_Minh date +%F)" \
        '{technology_id: $t, place_of_use: "Xưởng sản xuất, Bình Dương", message: "bench", requested_start: $d}')
    signed=()
    for _ in $(seq 1 $((PAY_CONTRACTS - demo_contracts))); do
        TOKEN=$BUYER_TOKEN
        id=$(api POST /api/v1/agreements "$body" | jq -er .id) || die "the trial request has no id"
        take "$INSTITUTE_TOKEN" "$id" approve
        take "$BUYER_TOKEN" "$id" sign
        take "$INSTITUTE_TOKEN" "$id" sign
        signed+=("$id")
    done
    run_cli "the scheduler's advance (starts the ${#signed[@]} trials)" run-job advance
    for id in "${signed[@]}"; do
        take "$BUYER_TOKEN" "$id" convert
        PAY_IDS+=("$id")
    done
fi
[ "${#PAY_IDS[@]}" -gt 0 ] || die "no converted agreement of institute 1 to pay (BENCH_PAY_CONTRACTS=$PAY_CONTRACTS)"
PAY_DAY=$(date -u +%F) # never ahead of the agreement's own day (its zone is east of UTC)
TOKEN=$INSTITUTE_TOKEN
api POST "/api/v1/agreements/${PAY_IDS[0]}/payments" \
    "{\"amount\":\"1\",\"received_on\":\"$PAY_DAY\",\"reference\":\"bench-by-hand-$$\"}" >/dev/null
TOKEN=$SME_TOKEN
say "payments rotate over ${#PAY_IDS[@]} converted agreements of institute1@usefirst.demo ($demo_contracts from the demo, the rest converted through the API)"

# --- wrk scripts ---------------------------------------------------------------------------------

lua_string() { jq -Rr '@json' <<<"$1"; } # a JSON string literal is a valid Lua string literal here

# Every scenario ends with one machine-readable line; wrk's own report is printed above it.
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d non2xx3xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
LUA

{
    echo "wrk.method = \"GET\""
    echo "wrk.headers[\"Accept\"] = \"application/json\""
    cat "$work/report.lua"
} >"$work/health.lua"

{
    echo "wrk.method = \"GET\""
    echo "wrk.headers[\"Accept\"] = \"application/json\""
    echo "wrk.headers[\"Authorization\"] = $(lua_string "Bearer $TOKEN")"
    cat "$work/report.lua"
} >"$work/get.lua"

{
    echo "wrk.method = \"POST\""
    echo "wrk.headers[\"Accept\"] = \"application/json\""
    echo "wrk.headers[\"Content-Type\"] = \"application/json\""
    echo "wrk.headers[\"Authorization\"] = $(lua_string "Bearer $TOKEN")"
    echo "wrk.body = $(lua_string "$POST_BODY")"
    cat "$work/report.lua"
} >"$work/post.lua"

# Each payment carries a reference no other request used: the run's tag (from wrk's arguments,
# so the warm-up and the measured run differ) and a counter.
{
    echo "wrk.method = \"POST\""
    echo "wrk.headers[\"Accept\"] = \"application/json\""
    echo "wrk.headers[\"Content-Type\"] = \"application/json\""
    echo "wrk.headers[\"Authorization\"] = $(lua_string "Bearer $INSTITUTE_TOKEN")"
    echo "pay_day = $(lua_string "$PAY_DAY")"
    echo "paths = {"
    for id in "${PAY_IDS[@]}"; do echo "  $(lua_string "/api/v1/agreements/$id/payments"),"; done
    echo "}"
    cat <<'LUA'
counter = 0
tag = "bench"
init = function(args) tag = args[1] or tag end
request = function()
  counter = counter + 1
  local body = string.format('{"amount":"1","received_on":"%s","reference":"%s-%d"}', pay_day, tag, counter)
  return wrk.format(nil, paths[(counter % #paths) + 1], nil, body)
end
LUA
    cat "$work/report.lua"
} >"$work/payment.lua"

# --- load ------------------------------------------------------------------------------------

declare -A RPS P50 P99 NON2XX SOCKET
declare -A P50_US
# run NAME LUA PATH [CONNECTIONS THREADS]
run() {
    local name=$1 lua=$2 path=$3 conns=${4:-$CONNECTIONS} threads=${5:-$THREADS}
    if [ "$WARMUP" -gt 0 ]; then
        wrk -t"$threads" -c"$conns" -d"${WARMUP}s" --timeout 5s -s "$lua" "$BASE$path" -- "warm-$name-$$" >/dev/null 2>&1 || true
    fi
    echo
    echo "== $name: ${SECONDS_PER_RUN}s, $conns connections, $threads threads"
    profile_start "api-$name"
    wrk -t"$threads" -c"$conns" -d"${SECONDS_PER_RUN}s" --timeout 5s --latency -s "$lua" "$BASE$path" -- "run-$name-$$" \
        | tee "$work/$name.out"
    profile_stop "api-$name"
    local line
    line=$(grep '^BENCH ' "$work/$name.out" | tail -1) || die "wrk printed no result for $name"
    local kv k v
    declare -A r=()
    for kv in ${line#BENCH }; do
        k=${kv%%=*}
        v=${kv#*=}
        r[$k]=$v
    done
    RPS[$name]=${r[rps]}
    P50[$name]=$(awk -v us="${r[p50_us]}" 'BEGIN { printf "%.2f", us / 1000 }')
    P50_US[$name]=${r[p50_us]}
    P99[$name]=$(awk -v us="${r[p99_us]}" 'BEGIN { printf "%.2f", us / 1000 }')
    NON2XX[$name]=${r[non2xx3xx]}
    SOCKET[$name]=$((${r[connect]} + ${r[read]} + ${r[write]} + ${r[timeout]}))
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server died during $name"; }
}

run reference "$work/health.lua" /health/live
run get "$work/get.lua" "/api/v1/agreements/$AGREEMENT_ID"
run post "$work/post.lua" /api/v1/agreements
run payment "$work/payment.lua" "/api/v1/agreements/${PAY_IDS[0]}/payments" 1 1

rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
rss_mb=$(awk -v kb="$rss_kb" 'BEGIN { printf "%.1f", kb / 1024 }')
stop_server

# --- summary ---------------------------------------------------------------------------------

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "0.0" }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo met; else echo MISSED; fi; }

get_pct=$(pct "${RPS[get]}" "${RPS[reference]}")
post_pct=$(pct "${RPS[post]}" "${RPS[reference]}")
errors_total=0
for n in reference get post payment; do
    errors_total=$((errors_total + ${NON2XX[$n]} + ${SOCKET[$n]}))
done
get_verdict=$(verdict at_least "$get_pct" "$GET_MIN_PCT")
post_verdict=$(verdict at_least "$post_pct" "$POST_MIN_PCT")
errors_verdict=$(verdict test "$errors_total" -eq 0)
rss_verdict=$(verdict at_most "$rss_mb" "$RSS_MAX_MB")
payment_verdict=$(verdict at_most "${P50[payment]}" "$PAYMENT_P50_MAX_MS")
missed=$(printf '%s\n' "$get_verdict" "$post_verdict" "$errors_verdict" "$rss_verdict" "$payment_verdict" | grep -c MISSED || true)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
when=$(date -u '+%Y-%m-%d')

label() {
    case "$1" in
        reference) echo "GET /health/live (reference)" ;;
        get) echo "GET /api/v1/agreements/{id}" ;;
        post) echo "POST /api/v1/agreements" ;;
        payment) echo "POST …/{id}/payments (1 conn)" ;;
    esac
}
md_label() {
    case "$1" in
        reference) echo '`GET /health/live` (reference)' ;;
        get) echo '`GET /api/v1/agreements/{id}`' ;;
        post) echo '`POST /api/v1/agreements`' ;;
        payment) echo '`POST /api/v1/agreements/{id}/payments`, 1 connection' ;;
    esac
}
vs_ref() {
    case "$1" in
        reference) echo "100%" ;;
        get) echo "${get_pct}% (target >= ${GET_MIN_PCT}%: $get_verdict)" ;;
        post) echo "${post_pct}% (target >= ${POST_MIN_PCT}%: $post_verdict)" ;;
        payment) echo "(one client: its p50 is one round trip; target <= ${PAYMENT_P50_MAX_MS} ms: $payment_verdict)" ;;
    esac
}

echo
echo "== summary: $AGREEMENTS agreements on SQLite, ${SECONDS_PER_RUN}s per endpoint, $CONNECTIONS connections, $THREADS wrk threads, $(nproc) cores ($cpu), commit $commit"
printf '%-32s %12s %10s %10s %12s %14s  %s\n' endpoint "requests/s" "p50 ms" "p99 ms" "non-2xx/3xx" "socket errors" "vs reference"
for n in reference get post payment; do
    printf '%-32s %12s %10s %10s %12s %14s  %s\n' "$(label $n)" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" \
        "${NON2XX[$n]}" "${SOCKET[$n]}" "$(vs_ref $n)"
done
echo "errors in all: $errors_total (target 0: $errors_verdict)"
echo "server peak RSS (VmHWM): ${rss_mb} MB (target <= ${RSS_MAX_MB} MB: $rss_verdict)"
echo "BENCH_PAYMENT_P50_US=${P50_US[payment]}"

echo
echo "== Markdown (for docs/PERFORMANCE.md)"
echo
echo "Measured $when, commit \`$commit\`: \`scripts/bench-api.sh\`, release build, SQLite with $AGREEMENTS"
echo "agreements, wrk over loopback with $CONNECTIONS connections and $THREADS threads for ${SECONDS_PER_RUN} s per"
echo "endpoint, on $(nproc) cores ($cpu) shared by the server and wrk."
echo
echo "| endpoint | requests/s | p50 (ms) | p99 (ms) | non-2xx/3xx | socket errors | vs reference | target |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for n in reference get post payment; do
    case "$n" in
        reference) target="—" ; ratio="100%" ;;
        payment) target="p50 ≤ ${PAYMENT_P50_MAX_MS} ms: $payment_verdict" ; ratio="—" ;;
        get) target="≥ ${GET_MIN_PCT}%: $get_verdict" ; ratio="${get_pct}%" ;;
        post) target="≥ ${POST_MIN_PCT}%: $post_verdict" ; ratio="${post_pct}%" ;;
    esac
    echo "| $(md_label $n) | ${RPS[$n]} | ${P50[$n]} | ${P99[$n]} | ${NON2XX[$n]} | ${SOCKET[$n]} | $ratio | $target |"
done
echo
echo "| measure | value | target |"
echo "|---|---:|---|"
echo "| errors (non-2xx/3xx + socket) | $errors_total | 0: $errors_verdict |"
echo "| server peak RSS (VmHWM) | ${rss_mb} MB | ≤ ${RSS_MAX_MB} MB: $rss_verdict |"

if [ "$missed" -gt 0 ]; then
    say "$missed target(s) missed"
    [ "$STRICT" = 1 ] && exit 1
fi
exit 0

#!/usr/bin/env bash
# Web page benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
#   scripts/bench-web.sh [PAGE...]
#   scripts/bench-web.sh --report   (the report page on 1,000,000 agreements: scripts/bench-web-report.sh)
#
# Builds the release binary, starts `usefirst serve` on a fresh SQLite database seeded with the
# demo organisations and BENCH_AGREEMENTS synthetic agreements (scripts/lib/bench-server.sh),
# signs in as a demo SME through the sign-in form with curl (the form token's cookie first,
# then the session cookie), and for each PAGE measures, in the same run:
#   - requests/s with wrk (BENCH_CONNECTIONS connections, BENCH_THREADS threads), against
#     GET /health/live as the reference, and the ratio (target >= PAGE_MIN_PCT %);
#   - the round trip's p50 and p99 under that load, and the server time of one client alone
#     (curl's time from the request sent to the answer's first byte, median of BENCH_SAMPLES
#     sequential requests);
#   - the weight transferred: the HTML and every stylesheet and script it links, on a first
#     view, and on later views with the stylesheets and scripts a browser may keep
#     (Cache-Control max-age > 0) cached.
# The load runs three rounds (reference, then each page) and prints the median of the three.
#
# PAGE is a path; `{agreement}` becomes an agreement of the demo SME, `{q}` a word from a
# listed technology's title and `{verify}` the code printed on a trial agreement of the demo SME
# (read with pdftotext from the PDF the API hands out; the public check page's per-address
# limit is lifted for the run, see BENCH_VERIFY_LIMIT). With no PAGE the default list below is
# measured. A page that answers 404 (not built yet) is skipped with a note; any other answer but 200 stops the run.
#
# Environment:
#   BENCH_SECONDS      load per page per round, in seconds (default 10)
#   BENCH_WARMUP       warm-up per page before the first round, in seconds (default 2; 0 skips)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_AGREEMENTS   synthetic agreements to seed (default 10000)
#   BENCH_SAMPLES      sequential requests for the one-client server time (default 50)
#   BENCH_PORT, BENCH_SKIP_BUILD, BENCH_BIN   as in scripts/lib/bench-server.sh
#   BENCH_STRICT       1: exit non-zero when a target is missed
#   BENCH_VERIFY_LIMIT documents.verify_requests_per_minute for the run (default: no real limit)
#   BENCH_PROFILE      1 (or dwarf): record the server with perf during each page's first round (which
#                      skews that round) into target/bench-profiles/web-PAGE.txt,
#                      web-PAGE-inclusive.txt and web-PAGE.perf.data (scripts/lib/bench-server.sh)
#
# A page opened again while nothing changed is given as kept (`web::kept`: the home, an
# agreement, a catalogue search and a document's check page), so these requests measure repeated
# views. To measure each page set anew (a first view, or the first after any change, less the
# one read of the record's head such a view also makes), run with
# USEFIRST_APP__PAGE_CACHE_KILOBYTES=0, which keeps no pages.
#
# The client shares the machine's cores with the server, so figures compare pages with the
# reference on one machine; they are not a capacity figure for a deployment.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --- `--report`: the monthly report page against the JSON report on 1,000,000 agreements -----
# A separate run (seeding that many takes minutes): scripts/bench-web-report.sh.
if [ "${1:-}" = "--report" ]; then
    shift
    exec scripts/bench-web-report.sh "$@"
fi

# The pages measured when none are given; add a page here once it exists.
DEFAULT_PAGES=(
    /home
    "/catalogue?q={q}"
    "/agreements/{agreement}"
    "/verify/{verify}"
)

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
AGREEMENTS=${BENCH_AGREEMENTS:-10000}
SAMPLES=${BENCH_SAMPLES:-50}
STRICT=${BENCH_STRICT:-0}
ROUNDS=3

# Target: a page answers at least this share of the reference's requests/s.
PAGE_MIN_PCT=20

SME_EMAIL=sme1@usefirst.demo

say() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$SECONDS_PER_RUN$WARMUP$CONNECTIONS$THREADS$AGREEMENTS$SAMPLES" in
    *[!0-9]*) die "BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_AGREEMENTS and BENCH_SAMPLES must be whole numbers" ;;
esac
[ "$SECONDS_PER_RUN" -gt 0 ] || die "BENCH_SECONDS must be at least 1"
[ "$SAMPLES" -gt 0 ] || die "BENCH_SAMPLES must be at least 1"

if [ "$#" -gt 0 ]; then PAGES=("$@"); else PAGES=("${DEFAULT_PAGES[@]}"); fi

# --- the public document check (/verify/{code}) -------------------------------------------------
# One client measures it, so the per-address limit (documents.verify_requests_per_minute) would
# answer 429 within the first second: lifted for the run unless BENCH_VERIFY_LIMIT says otherwise.
export USEFIRST_DOCUMENTS__VERIFY_REQUESTS_PER_MINUTE=${BENCH_VERIFY_LIMIT:-4000000000}

# --- build, a fresh database, the server (scripts/lib/bench-server.sh) -----------------------

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh
fresh_server "$AGREEMENTS"

# --- signed in as the demo SME, through the form ------------------------------------------------

jar="$work/cookies"
curl -sS -o /dev/null -c "$jar" "$BASE/sign-in" || die "GET /sign-in: no answer"
csrf=$(awk '$6 == "uf_csrf" { print $7 }' "$jar")
[ -n "$csrf" ] || die "the sign-in page set no form token cookie"
code=$(curl -sS -o "$work/answer" -w '%{http_code}' -b "$jar" -c "$jar" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=$SME_EMAIL" \
    --data-urlencode "password=$DEMO_PASSWORD" --data-urlencode "next=/home" "$BASE/sign-in")
[ "$code" = 303 ] || { cat "$work/answer" >&2; die "signing in through the form answered $code, not 303"; }
session=$(awk '$6 == "uf_session" { print $7 }' "$jar")
[ -n "$session" ] || die "signing in set no session cookie"
COOKIE="uf_session=$session; uf_csrf=$csrf"
say "signed in as $SME_EMAIL through the form"

# The placeholders' values, through the API.
TOKEN=$(sign_in "$SME_EMAIL")
AGREEMENT_ID=$(api GET '/api/v1/agreements?per_page=1' | jq -er '.items[0].id') || die "the SME sees no agreement"
Q=$(api GET '/api/v1/technologies?status=listed&per_page=1' | jq -r '.items[0].title.vi // empty' | awk '{ print $1 }')
[ -n "$Q" ] || Q=công
Q_URL=$(jq -rn --arg q "$Q" '$q | @uri')

# {verify}: the code a trial agreement of the demo SME prints (the PDF made on this request).
VERIFY_CODE=
if [[ " ${PAGES[*]} " == *"{verify}"* ]]; then
    command -v pdftotext >/dev/null || die "pdftotext is not installed (bash scripts/install-deps.sh)"
    DOC_AGREEMENT=
    for st in active awaiting_decision converted signed approved; do
        DOC_AGREEMENT=$(api GET "/api/v1/agreements?status=$st&per_page=1" | jq -r '.items[0].id // empty')
        [ -n "$DOC_AGREEMENT" ] && break
    done
    [ -n "$DOC_AGREEMENT" ] || die "the SME has no approved agreement to take a document of"
    code=$(curl -sS -o "$work/doc.pdf" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$BASE/api/v1/agreements/$DOC_AGREEMENT/documents/trial-agreement?lang=vi")
    [ "$code" = 200 ] || die "the trial agreement of $DOC_AGREEMENT answered $code"
    VERIFY_CODE=$(pdftotext "$work/doc.pdf" - | grep -oE '/verify/[0-9A-Z]{20}' | head -1 | cut -d/ -f3)
    [ -n "$VERIFY_CODE" ] || die "the trial agreement of $DOC_AGREEMENT prints no /verify/ code"
    say "document code $VERIFY_CODE (agreement $DOC_AGREEMENT)"
fi

# --- which pages answer ----------------------------------------------------------------------

# get_page PATH FILE -> the status; the body in FILE, the headers in FILE.h
get_page() {
    curl -sS --compressed -o "$2" -D "$2.h" -w '%{http_code}' -H "Cookie: $COOKIE" \
        -H 'Accept-Language: vi' "$BASE$1"
}

MEASURED=()
SKIPPED=()
for page in "${PAGES[@]}"; do
    path=${page//\{agreement\}/$AGREEMENT_ID}
    path=${path//\{q\}/$Q_URL}
    path=${path//\{verify\}/$VERIFY_CODE}
    code=$(get_page "$path" "$work/probe") || die "GET $path: no answer"
    case "$code" in
        200) MEASURED+=("$path") ;;
        404) SKIPPED+=("$page"); say "skipped $page: it answers 404 (not built yet?)" ;;
        *) head -c 2000 "$work/probe" >&2; echo >&2; die "GET $path answered $code" ;;
    esac
done
[ "${#MEASURED[@]}" -gt 0 ] || die "no page to measure answers 200"

# --- weight ---------------------------------------------------------------------------------

# cacheable HEADERS-FILE: a browser may keep the answer (Cache-Control max-age > 0, no no-store).
cacheable() {
    local cc
    cc=$(grep -i '^cache-control:' "$1" | tr -d '\r' | tr 'A-Z' 'a-z' || true)
    [[ "$cc" =~ max-age=([0-9]+) ]] || return 1
    [ "${BASH_REMATCH[1]}" -gt 0 ] && [[ "$cc" != *no-store* ]] && [[ "$cc" != *no-cache* ]]
}

declare -A HTML_B FIRST_B LATER_B ASSETS
weigh() {
    local path=$1 html assets=0 first later url bytes
    html=$(curl -sS --compressed -o /dev/null -w '%{size_download}' -H "Cookie: $COOKIE" \
        -H 'Accept-Language: vi' "$BASE$path")
    get_page "$path" "$work/page" >/dev/null
    first=$html
    later=$html
    # Stylesheets and scripts the page links from this site.
    while read -r url; do
        [ -n "$url" ] || continue
        case "$url" in http://* | https://* | //*) continue ;; esac
        bytes=$(curl -sS --compressed -o /dev/null -D "$work/asset.h" -w '%{size_download}' \
            -H "Cookie: $COOKIE" "$BASE$url")
        assets=$((assets + 1))
        first=$((first + bytes))
        cacheable "$work/asset.h" || later=$((later + bytes))
    done < <(grep -oE '<(link[^>]*rel="?stylesheet"?[^>]*|script[^>]*)>' "$work/page" |
        grep -oE '(href|src)="[^"]*"' | sed -E 's/^(href|src)="//; s/"$//' | sort -u)
    HTML_B[$path]=$html
    FIRST_B[$path]=$first
    LATER_B[$path]=$later
    ASSETS[$path]=$assets
}
for path in "${MEASURED[@]}"; do weigh "$path"; done

# --- server time, one client ------------------------------------------------------------------

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A ONE_MS
one_client() {
    local path=$1 cookie=${2:-}
    local args=(-sS -o /dev/null -w '%{time_pretransfer} %{time_starttransfer}\n')
    [ -n "$cookie" ] && args+=(-H "Cookie: $cookie")
    for _ in $(seq 1 "$SAMPLES"); do curl "${args[@]}" "$BASE$path"; done |
        awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' | median | awk '{ printf "%.3f", $1 }'
}
ONE_MS[/health/live]=$(one_client /health/live)
for path in "${MEASURED[@]}"; do ONE_MS[$path]=$(one_client "$path" "$COOKIE"); done

# --- load ---------------------------------------------------------------------------------------

cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH rps=%.1f p50_us=%d p99_us=%d non2xx3xx=%d socket=%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
lua_string() { jq -Rr '@json' <<<"$1"; }
{
    echo 'wrk.method = "GET"'
    cat "$work/report.lua"
} >"$work/health.lua"
{
    echo 'wrk.method = "GET"'
    echo "wrk.headers[\"Cookie\"] = $(lua_string "$COOKIE")"
    echo 'wrk.headers["Accept-Language"] = "vi"'
    echo 'wrk.headers["Accept-Encoding"] = "gzip, deflate, br"'
    cat "$work/report.lua"
} >"$work/page.lua"

# Each measure's values over the rounds, one per line.
declare -A RPS_RUNS P50_RUNS P99_RUNS ERRORS
load() {
    local key=$1 lua=$2 path=$3 round=$4 line
    if [ "$round" = 1 ] && [ "$WARMUP" -gt 0 ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s -s "$lua" "$BASE$path" >/dev/null 2>&1 || true
    fi
    # The first round of each page is recorded when BENCH_PROFILE=1 (web-home, web-catalogue…).
    local name
    name=web-$(printf '%s' "${path#/}" | cut -d'?' -f1 | cut -d/ -f1 | tr -c 'a-z0-9\n' '-')
    [ "$round" != 1 ] || profile_start "$name"
    line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 5s -s "$lua" "$BASE$path" |
        grep '^BENCH ' | tail -1) || die "wrk printed no result for $path"
    [ "$round" != 1 ] || profile_stop "$name"
    declare -A r=()
    local kv
    for kv in ${line#BENCH }; do r[${kv%%=*}]=${kv#*=}; done
    RPS_RUNS[$key]+="${r[rps]}"$'\n'
    P50_RUNS[$key]+="${r[p50_us]}"$'\n'
    P99_RUNS[$key]+="${r[p99_us]}"$'\n'
    ERRORS[$key]=$((${ERRORS[$key]:-0} + ${r[non2xx3xx]} + ${r[socket]}))
    say "round $round $path: ${r[rps]} requests/s, p50 ${r[p50_us]} us, p99 ${r[p99_us]} us"
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server died during $path"; }
}

for round in $(seq 1 "$ROUNDS"); do
    load /health/live "$work/health.lua" /health/live "$round"
    for path in "${MEASURED[@]}"; do load "$path" "$work/page.lua" "$path" "$round"; done
done
stop_server

# --- summary --------------------------------------------------------------------------------

med() { printf '%s' "$1" | median; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "0.0" }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

ref_rps=$(med "${RPS_RUNS[/health/live]}")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
missed=0

echo
echo "== summary: medians of $ROUNDS rounds, $AGREEMENTS agreements on SQLite, ${SECONDS_PER_RUN}s per page per round, $CONNECTIONS connections, $THREADS wrk threads, $(nproc) cores ($cpu), commit $commit; signed in as $SME_EMAIL"
printf '%-44s %11s %8s %8s %9s %7s  %-26s %9s %9s %9s\n' page "requests/s" "p50 ms" "p99 ms" "1 client" errors "vs reference" "HTML KB" "first KB" "later KB"
printf '%-44s %11s %8s %8s %9s %7s  %-26s %9s %9s %9s\n' "GET /health/live (reference)" "$ref_rps" \
    "$(ms "$(med "${P50_RUNS[/health/live]}")")" "$(ms "$(med "${P99_RUNS[/health/live]}")")" \
    "${ONE_MS[/health/live]}" "${ERRORS[/health/live]}" "100%" - - -
MD_ROWS=()
for path in "${MEASURED[@]}"; do
    rps=$(med "${RPS_RUNS[$path]}")
    ratio=$(pct "$rps" "$ref_rps")
    if at_least "$ratio" "$PAGE_MIN_PCT"; then verdict=met; else verdict=MISSED; missed=$((missed + 1)); fi
    [ "${ERRORS[$path]}" -eq 0 ] || { verdict="$verdict, errors"; missed=$((missed + 1)); }
    p50=$(ms "$(med "${P50_RUNS[$path]}")")
    p99=$(ms "$(med "${P99_RUNS[$path]}")")
    printf '%-44s %11s %8s %8s %9s %7s  %-26s %9s %9s %9s\n' "GET $path" "$rps" "$p50" "$p99" \
        "${ONE_MS[$path]}" "${ERRORS[$path]}" "${ratio}% (>= ${PAGE_MIN_PCT}%: $verdict)" \
        "$(kb "${HTML_B[$path]}")" "$(kb "${FIRST_B[$path]}")" "$(kb "${LATER_B[$path]}")"
    MD_ROWS+=("| \`GET $path\` | $rps | $p50 | $p99 | ${ONE_MS[$path]} | ${ERRORS[$path]} | ${ratio}% | ≥ ${PAGE_MIN_PCT}%: $verdict | $(kb "${HTML_B[$path]}") | $(kb "${FIRST_B[$path]}") (${ASSETS[$path]} files linked) | $(kb "${LATER_B[$path]}") |")
done
echo "(1 client: the median time from request sent to first byte of $SAMPLES sequential requests, in ms; weights as transferred, first view = HTML + linked CSS/JS, later views = without what the browser may cache)"
for page in "${SKIPPED[@]}"; do echo "skipped: $page answers 404"; done

echo
echo "== Markdown (for docs/PERFORMANCE.md)"
echo
echo "Measured $(date -u '+%Y-%m-%d'), commit \`$commit\`: \`scripts/bench-web.sh\`, release build, SQLite with"
echo "$AGREEMENTS agreements, signed in as the demo SME; wrk over loopback with $CONNECTIONS connections and"
echo "$THREADS threads, ${SECONDS_PER_RUN} s per page, medians of $ROUNDS rounds, on $(nproc) cores ($cpu)."
echo
echo "| page | requests/s | p50 (ms) | p99 (ms) | 1 client (ms) | errors | vs reference | target | HTML (KB) | first view (KB) | later views (KB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
echo "| \`GET /health/live\` (reference) | $ref_rps | $(ms "$(med "${P50_RUNS[/health/live]}")") | $(ms "$(med "${P99_RUNS[/health/live]}")") | ${ONE_MS[/health/live]} | ${ERRORS[/health/live]} | 100% | — | — | — | — |"
printf '%s\n' "${MD_ROWS[@]}"
for page in "${SKIPPED[@]}"; do echo; echo "Not measured: \`$page\` answers 404."; done

if [ "$missed" -gt 0 ]; then
    say "$missed target(s) missed"
    [ "$STRICT" = 1 ] && exit 1
fi
exit 0

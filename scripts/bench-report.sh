#!/usr/bin/env bash
# Monthly report benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
# Builds the release binary and, on a fresh SQLite database and a fresh PostgreSQL database
# (uf_bench_<random> on PG_BASE_URL, dropped at the end), loads the demo data and
# BENCH_AGREEMENTS synthetic agreements (default 1,000,000; `seed-synthetic`, four years). Then
# for each backend:
#   1. starts `usefirst serve --no-scheduler`, signs in as admin@usefirst.demo and times
#      GET /api/v1/reports/monthly/{month}?format=json and ?format=pdf for the last full month
#      (in app.time_zone): one warm-up, then the median of BENCH_RUNS (default 7) requests each;
#   2. the check: `usefirst report-check` reads the month's figures from the roll-ups the
#      database keeps (what the service answers from) and from the tables (GROUP BY), in one
#      snapshot, and prints both times; the bench fails if a figure differs;
#   3. the floor: the same aggregates src/reports/figures.rs computes, one hand-written GROUP BY
#      query per pass (and the month's breakdowns), with that month's bounds written in, run as
#      one file through `sqlite3` / `psql` on the same database: wall clock around the CLI,
#      process start and connection included, median of BENCH_RUNS after one warm-up.
# Prints backend, JSON median (target < 1 s), floor median, their ratio (target <= 3x), the
# check's two times, PDF median, PDF - JSON (target <= 100 ms), seeding time and database size,
# as a table and as Markdown for docs/PERFORMANCE.md.
#
# Environment:
#   BENCH_AGREEMENTS   synthetic agreements (default 1000000)
#   BENCH_RUNS         timed runs per measure (default 7)
#   BENCH_BACKENDS     "sqlite postgres" (default), or one of them
#   PG_BASE_URL        PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
#   BENCH_PORT         port to listen on (default: a free one)
#   BENCH_STRICT       1: exit non-zero when a target is missed
#   BENCH_SKIP_BUILD   1: use target/release/usefirst as it is
#   BENCH_FLOOR_ONLY   1: skip the server (the floor queries only, e.g. before the endpoint exists)
#   BENCH_PG_DB        an existing, already seeded database on PG_BASE_URL to measure instead of
#                      a fresh one (kept; seeding 10,000,000 agreements takes about half an hour)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

AGREEMENTS=${BENCH_AGREEMENTS:-1000000}
RUNS=${BENCH_RUNS:-7}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
PG_BASE_URL=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}
STRICT=${BENCH_STRICT:-0}
FLOOR_ONLY=${BENCH_FLOOR_ONLY:-0}
TZ_NAME=${USEFIRST_APP__TIME_ZONE:-Asia/Ho_Chi_Minh}

# Targets (see docs/PERFORMANCE.md).
RATIO_MAX=3
PDF_EXTRA_MAX_MS=100
JSON_MAX_MS=1000

say() { echo "bench-report: $*" >&2; }
die() { echo "bench-report: FAILED: $*" >&2; exit 1; }

for tool in curl jq sqlite3 psql; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$AGREEMENTS$RUNS" in
    *[!0-9]*) die "BENCH_AGREEMENTS and BENCH_RUNS must be whole numbers" ;;
esac
[ "$RUNS" -gt 0 ] || die "BENCH_RUNS must be at least 1"
for b in $BACKENDS; do
    case "$b" in sqlite | postgres) ;; *) die "unknown backend $b in BENCH_BACKENDS" ;; esac
done

# --- build, temp folder, server helpers (scripts/lib/bench-server.sh) -------------------------

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh

PG_DB=""
report_cleanup() {
    cleanup
    if [ -n "$PG_DB" ]; then
        psql -q "$PG_BASE_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 \
            || echo "bench-report: could not drop database $PG_DB" >&2
    fi
}
trap report_cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the month and its bounds ------------------------------------------------------------------

MONTH=$(TZ=$TZ_NAME date -d "$(TZ=$TZ_NAME date +%Y-%m-15) -1 month" +%Y-%m)
# The twelve months of the series (the report's month last) and the month after it.
STARTS=()
for back in $(seq 11 -1 -1); do
    STARTS+=("$(date -d "$MONTH-01 $((-back)) month" +%Y-%m-%d)")
done
# Local midnight of each, as a UTC instant (instants are stored in UTC).
INSTANTS=()
for d in "${STARTS[@]}"; do
    INSTANTS+=("$(date -u -d "TZ=\"$TZ_NAME\" $d 00:00:00" '+%Y-%m-%d %H:%M:%S')")
done
say "report month $MONTH ($TZ_NAME): $(printf '%s' "${INSTANTS[11]}") .. ${INSTANTS[12]} UTC"

# --- the floor: figures.rs's aggregates, written out by hand ----------------------------------

# pass FROM_WHERE COLUMN KEY AMOUNT AMOUNT2 dates|times: one bucketed GROUP BY, as figures.rs.
pass() {
    local from=$1 column=$2 key=$3 amount=$4 amount2=$5 kind=$6 i
    local -a b
    if [ "$kind" = dates ]; then b=("${STARTS[@]}"); else b=("${INSTANTS[@]}"); fi
    local case_sql="CASE WHEN $column < '${b[0]}' THEN -1"
    for i in $(seq 1 11); do case_sql+=" WHEN $column < '${b[$i]}' THEN $((i - 1))"; done
    case_sql+=" ELSE 11 END"
    echo "SELECT $case_sql AS bucket, CAST($key AS TEXT) AS k, COUNT(*) AS n," \
        "CAST(COALESCE(SUM($amount), 0) AS BIGINT) AS amount, CAST(COALESCE(SUM($amount2), 0) AS BIGINT) AS amount2" \
        "$from AND $column IS NOT NULL AND $column < '${b[12]}' GROUP BY 1, 2;"
}
# month_groups COLUMN CONDITION dates|times: the month's counts by technology and province.
month_groups() {
    local column=$1 condition=$2 kind=$3 lo hi
    if [ "$kind" = dates ]; then lo=${STARTS[11]}; hi=${STARTS[12]}; else lo=${INSTANTS[11]}; hi=${INSTANTS[12]}; fi
    echo "SELECT a.technology_id, o.province, COUNT(*) AS n FROM agreements a JOIN organisations o ON o.id = a.sme_id" \
        "WHERE $condition AND a.$column >= '$lo' AND a.$column < '$hi' GROUP BY a.technology_id, o.province;"
}
ALL="FROM agreements a WHERE 1 = 1"
DECIDED="('converted', 'declined', 'lapsed')"
{
    pass "$ALL" a.created_at "''" 0 0 times
    pass "$ALL" a.approved_at "''" 0 0 times
    pass "$ALL" a.closed_at a.status 0 0 times
    pass "$ALL" a.started_on "''" 0 0 dates
    pass "$ALL" a.trial_ended_on "''" 0 0 dates
    pass "FROM agreements a WHERE a.status IN $DECIDED" a.closed_at a.decision_days 0 0 times
    pass "FROM conversion_contracts c WHERE 1 = 1" c.converted_on c.currency c.total_minor 0 dates
    pass "FROM payments p JOIN conversion_contracts c ON c.agreement_id = p.agreement_id WHERE 1 = 1" \
        p.received_on c.currency p.amount_minor 0 dates
    pass "FROM insurance_policies i WHERE 1 = 1" i.bound_at i.currency i.premium_minor i.subsidy_minor times
    pass "FROM insurance_claims c WHERE 1 = 1" c.filed_at c.currency 0 0 times
    pass "FROM insurance_claims c WHERE c.status IN ('approved', 'paid')" c.decided_at c.currency 0 0 times
    pass "FROM insurance_claims c WHERE c.status = 'paid'" c.paid_at c.currency c.payout_minor 0 times
    month_groups created_at "1 = 1" times
    month_groups started_on "1 = 1" dates
    month_groups closed_at "a.status = 'converted'" times
    month_groups closed_at "a.status IN $DECIDED" times
    echo "SELECT id, institute_id, field, title_vi, title_en FROM technologies;"
    echo "SELECT id, name FROM organisations WHERE kind = 'institute';"
} >"$work/floor.sql"

# floor_once BACKEND: runs the query file once; prints its wall-clock milliseconds.
floor_once() {
    local t0 t1
    t0=$(now_ms)
    case "$1" in
        sqlite) sqlite3 -readonly "$SQLITE_DB" <"$work/floor.sql" >"$work/floor.out" ;;
        postgres) psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -f "$work/floor.sql" >"$work/floor.out" ;;
    esac
    t1=$(now_ms)
    echo $((t1 - t0))
}

# fetch FORMAT: one report request; prints its milliseconds (curl's total time).
fetch() {
    local code secs
    read -r code secs < <(curl -sS -o "$work/report.$1" -w '%{http_code} %{time_total}\n' \
        -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/reports/monthly/$MONTH?format=$1") \
        || die "GET report $1: no answer"
    [ "$code" = 200 ] || { head -c 600 "$work/report.$1" >&2; echo >&2; die "GET /api/v1/reports/monthly/$MONTH?format=$1 answered $code"; }
    awk -v s="$secs" 'BEGIN { printf "%.1f\n", s * 1000 }'
}

timed() { # timed COMMAND...: one warm-up, then RUNS timings (one per line)
    "$@" >/dev/null
    local i
    for i in $(seq 1 "$RUNS"); do "$@"; done
}

# --- each backend --------------------------------------------------------------------------------

declare -A JSON_MS PDF_MS FLOOR_MS SEED_S SIZE_MB RATE CONV CHECK
SQLITE_DB="$work/usefirst.db"
PG_URL=""
for backend in $BACKENDS; do
    case "$backend" in
        sqlite)
            export USEFIRST_DATABASE__URL="$SQLITE_DB"
            say "fresh SQLite database $SQLITE_DB"
            ;;
        postgres)
            if [ -n "${BENCH_PG_DB:-}" ]; then
                PG_URL="$PG_BASE_URL/$BENCH_PG_DB"
                export USEFIRST_DATABASE__URL="$PG_URL"
                AGREEMENTS=$(psql -X -At "$PG_URL" -c "SELECT COUNT(*) FROM agreements") || die "cannot read $BENCH_PG_DB"
                say "existing PostgreSQL database $BENCH_PG_DB ($AGREEMENTS agreements, kept)"
            else
                PG_DB="uf_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
                psql -q "$PG_BASE_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null || die "could not create $PG_DB on $PG_BASE_URL"
                PG_URL="$PG_BASE_URL/$PG_DB"
                export USEFIRST_DATABASE__URL="$PG_URL"
                say "fresh PostgreSQL database $PG_DB"
            fi
            ;;
    esac
    run_cli "$backend: migrate" migrate
    if [ "$backend" = postgres ] && [ -n "${BENCH_PG_DB:-}" ]; then
        SEED_S[$backend]="—"
        RATE[$backend]="—"
    else
        run_cli "$backend: seed-demo" seed-demo
        t0=$(now_ms)
        run_cli "$backend: seed-synthetic ($AGREEMENTS agreements)" seed-synthetic --agreements "$AGREEMENTS"
        t1=$(now_ms)
        grep -E '^(seed-synthetic|added|  )' "$work/cli.log" >&2 || true
        SEED_S[$backend]=$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", ms / 1000 }')
        RATE[$backend]=$(awk -v n="$AGREEMENTS" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ms / 1000) }')
    fi
    case "$backend" in
        sqlite)
            sqlite3 "$SQLITE_DB" "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;" >/dev/null
            bytes=$(stat -c %s "$SQLITE_DB")
            ;;
        postgres)
            psql -X -q "$PG_URL" -c "VACUUM ANALYZE" >/dev/null
            bytes=$(psql -X -At "$PG_URL" -c "SELECT pg_database_size(current_database())")
            ;;
    esac
    SIZE_MB[$backend]=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
    say "$backend: seeded in ${SEED_S[$backend]} s (${RATE[$backend]} agreements/s), database ${SIZE_MB[$backend]} MB"

    if [ "$FLOOR_ONLY" != 1 ]; then
        start_server --no-scheduler
        TOKEN=$(sign_in admin@usefirst.demo)
        JSON_MS[$backend]=$(timed fetch json | tail -n "$RUNS" | median)
        CONV[$backend]=$(jq -r '"\(.counts.requests.month) requests, \(.counts.conversions.month) conversions, \(.counts.trials_started.month) trials started"' "$work/report.json")
        PDF_MS[$backend]=$(timed fetch pdf | tail -n "$RUNS" | median)
        head -c 5 "$work/report.pdf" | grep -q '%PDF' || die "the PDF answer is not a PDF"
        stop_server
        say "$backend: JSON ${JSON_MS[$backend]} ms, PDF ${PDF_MS[$backend]} ms (median of $RUNS); $MONTH: ${CONV[$backend]}"
    fi
    # The check: the roll-ups and the tables give the same figures (and how long each took).
    "$BIN" report-check --month "$MONTH" >"$work/check.out" 2>"$work/check.err" \
        || { cat "$work/check.out" "$work/check.err" >&2; die "$backend: the tallies and the tables differ"; }
    CHECK[$backend]=$(grep -o 'from the tallies [0-9.]* ms, from the tables [0-9.]* ms' "$work/check.out")
    say "$backend: report-check: ${CHECK[$backend]}: the same figures"
    FLOOR_MS[$backend]=$(timed floor_once "$backend" | tail -n "$RUNS" | median)
    say "$backend: floor ${FLOOR_MS[$backend]} ms (median of $RUNS; $(grep -c . "$work/floor.out") result lines)"
done

# --- summary -------------------------------------------------------------------------------------

verdict() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { exit !((op == "le") ? a <= b : 0) }'; then echo met; else echo MISSED; fi; }
missed=0
declare -A RATIO EXTRA RATIO_V EXTRA_V JSON_V
for b in $BACKENDS; do
    if [ "$FLOOR_ONLY" = 1 ]; then
        RATIO[$b]="—"; EXTRA[$b]="—"; RATIO_V[$b]="—"; EXTRA_V[$b]="—"; JSON_MS[$b]="—"; PDF_MS[$b]="—"; JSON_V[$b]="—"
        continue
    fi
    JSON_V[$b]=$(awk -v a="${JSON_MS[$b]}" -v m="$JSON_MAX_MS" 'BEGIN { print (a < m) ? "met" : "MISSED" }')
    [ "${JSON_V[$b]}" = met ] || missed=$((missed + 1))
    RATIO[$b]=$(awk -v a="${JSON_MS[$b]}" -v f="${FLOOR_MS[$b]}" 'BEGIN { printf "%.2f", (f > 0) ? a / f : 0 }')
    EXTRA[$b]=$(awk -v p="${PDF_MS[$b]}" -v j="${JSON_MS[$b]}" 'BEGIN { printf "%.1f", p - j }')
    RATIO_V[$b]=$(verdict "${RATIO[$b]}" le "$RATIO_MAX")
    EXTRA_V[$b]=$(verdict "${EXTRA[$b]}" le "$PDF_EXTRA_MAX_MS")
    [ "${RATIO_V[$b]}" = met ] || missed=$((missed + 1))
    [ "${EXTRA_V[$b]}" = met ] || missed=$((missed + 1))
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
when=$(date -u '+%Y-%m-%d')

echo
echo "== monthly report $MONTH: $AGREEMENTS synthetic agreements (+ demo), median of $RUNS runs, $(nproc) cores ($cpu), commit $commit"
printf '%-9s %16s %10s %14s %10s %18s %9s %12s %8s\n' backend "JSON ms" "floor ms" "ratio" "PDF ms" "PDF-JSON ms" "seed s" "agreements/s" "size MB"
for b in $BACKENDS; do
    printf '%-9s %16s %10s %14s %10s %18s %9s %12s %8s\n' "$b" "${JSON_MS[$b]} (${JSON_V[$b]})" "${FLOOR_MS[$b]}" \
        "${RATIO[$b]}x (${RATIO_V[$b]})" "${PDF_MS[$b]}" "${EXTRA[$b]} (${EXTRA_V[$b]})" "${SEED_S[$b]}" "${RATE[$b]}" "${SIZE_MB[$b]}"
done
for b in $BACKENDS; do echo "check ($b): ${CHECK[$b]}: the same figures"; done
echo "targets: JSON < ${JSON_MAX_MS} ms; JSON <= ${RATIO_MAX}x the floor; PDF - JSON <= ${PDF_EXTRA_MAX_MS} ms. The floor runs the same"
echo "aggregates by hand through the sqlite3/psql command line (process start and connection included)."

echo
echo "== Markdown (for docs/PERFORMANCE.md)"
echo
echo "Measured $when, commit \`$commit\`: \`scripts/bench-report.sh\`, release build, \`seed-demo\` + \`seed-synthetic"
echo "--agreements $AGREEMENTS\` (four years), report month $MONTH, median of $RUNS requests after one warm-up, on"
echo "$(nproc) cores ($cpu). The floor is the same aggregates written as hand-made GROUP BY queries, run as one file"
echo "through \`sqlite3\` / \`psql\` (wall clock, process start and connection included)."
echo
echo "| backend | JSON (ms) | floor (ms) | JSON ÷ floor | check: tallies / tables (ms) | PDF (ms) | PDF − JSON (ms) | seeding (s) | agreements/s | database (MB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for b in $BACKENDS; do
    name=$([ "$b" = sqlite ] && echo SQLite || echo PostgreSQL)
    chk=$(echo "${CHECK[$b]}" | awk '{ print $4 " / " $9 }')
    echo "| $name | ${JSON_MS[$b]} (< ${JSON_MAX_MS}: ${JSON_V[$b]}) | ${FLOOR_MS[$b]} | ${RATIO[$b]}× (≤ ${RATIO_MAX}×: ${RATIO_V[$b]}) | $chk | ${PDF_MS[$b]} | ${EXTRA[$b]} (≤ ${PDF_EXTRA_MAX_MS}: ${EXTRA_V[$b]}) | ${SEED_S[$b]} | ${RATE[$b]} | ${SIZE_MB[$b]} |"
done

if [ "$missed" -gt 0 ]; then
    say "$missed target(s) missed"
    [ "$STRICT" = 1 ] && exit 1
fi
exit 0

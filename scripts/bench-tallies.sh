#!/usr/bin/env bash
# What the report's roll-up triggers cost a write (a measurement, not a test: it never fails on
# speed).
#
# On a fresh database of each backend (migrate + seed-demo), times the same writes twice: with
# the report_tallies triggers, and on a copy without them. The writes are BENCH_ROWS trial
# requests (the hot insert: three tallies each) copied from a demo request, then the same rows
# approved (an update that moves the approval's tally). SQLite: one statement for all the rows
# (the service's prepared statements are compiled once; the command line would otherwise
# compile the triggers into every statement it prepares). PostgreSQL: one statement per row,
# as the service writes them, since its triggers run once per statement. Each variant runs
# BENCH_RUNS times (SQLite in a transaction rolled back, PostgreSQL committing each statement),
# alternating with and without; the figure is the median run per row (an approval's: the run
# with approvals less the run of requests alone), and the difference is what the triggers add.
#
#   BENCH_ROWS      rows per run (default 3000)
#   BENCH_RUNS      runs per variant (default 5)
#   BENCH_BACKENDS  "sqlite postgres" (default), or one of them
#   PG_BASE_URL     PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
#   BENCH_SKIP_BUILD, BENCH_BIN  as in scripts/lib/bench-server.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS=${BENCH_ROWS:-3000}
RUNS=${BENCH_RUNS:-5}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
PG_BASE_URL=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}

say() { echo "bench-tallies: $*" >&2; }
die() { echo "bench-tallies: FAILED: $*" >&2; exit 1; }

for tool in sqlite3 psql; do
    command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh)"
done
case "$ROWS$RUNS" in *[!0-9]*) die "BENCH_ROWS and BENCH_RUNS must be whole numbers" ;; esac

# shellcheck source=lib/bench-server.sh
. scripts/lib/bench-server.sh

PG_DBS=()
tallies_cleanup() {
    cleanup
    for db in "${PG_DBS[@]}"; do
        psql -q "$PG_BASE_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
trap tallies_cleanup EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The agreement columns but id and number, and a demo request to copy.
COLUMNS=""
# sql_file BACKEND PHASES: the writes of one run: the requests ("insert"), or the requests and
# then their approvals ("approve"). SQLite: in a transaction rolled back. PostgreSQL: each
# statement its own transaction, as the service commits them (asynchronous commit, so neither
# variant waits on the disk); `reset` removes the rows afterwards, untimed.
sql_file() {
    local out="$work/writes.$1.$2.sql" i
    {
        if [ "$1" = sqlite ]; then
            echo "BEGIN;"
            echo "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < $ROWS)"
            echo "INSERT INTO agreements (id, number, $COLUMNS) SELECT 'bench-' || n.value, 'BENCH-' || n.value, $COLUMNS"
            echo "  FROM agreements, n WHERE agreements.id = (SELECT id FROM agreements WHERE status = 'requested' ORDER BY id LIMIT 1);"
            if [ "$2" = approve ]; then
                echo "UPDATE agreements SET status = 'approved', approved_at = datetime(created_at, '+1 hour') WHERE id LIKE 'bench-%';"
            fi
            echo "ROLLBACK;"
        else
            echo "SET synchronous_commit = off;"
            for i in $(seq 1 "$ROWS"); do
                echo "INSERT INTO agreements (id, number, $COLUMNS) SELECT 'bench-$i', 'BENCH-$i', $COLUMNS FROM agreements WHERE id = :'src';"
            done
            if [ "$2" = approve ]; then
                for i in $(seq 1 "$ROWS"); do
                    echo "UPDATE agreements SET status = 'approved', approved_at = created_at + INTERVAL '1 hour' WHERE id = 'bench-$i';"
                done
            fi
        fi
    } >"$out"
    echo "$out"
}

declare -A M
for backend in $BACKENDS; do
    case "$backend" in
        sqlite)
            export USEFIRST_DATABASE__URL="$work/with.db"
            run_cli "sqlite: migrate" migrate
            run_cli "sqlite: seed-demo" seed-demo
            sqlite3 "$work/with.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
            cp "$work/with.db" "$work/without.db"
            sqlite3 "$work/without.db" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_tallies_%'" \
                | sed 's/.*/DROP TRIGGER &;/' | sqlite3 "$work/without.db"
            COLUMNS=$(sqlite3 "$work/with.db" "SELECT group_concat(name, ', ') FROM pragma_table_info('agreements') WHERE name NOT IN ('id', 'number')")
            run_once() { sqlite3 "$work/$1.db" <"$(sql_file sqlite "$2")" >/dev/null; }
            reset() { :; }
            ;;
        postgres)
            for v in with without; do
                db="uf_bench_tallies_${v}_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
                psql -q "$PG_BASE_URL/postgres" -c "CREATE DATABASE $db" >/dev/null || die "could not create $db"
                PG_DBS+=("$db")
                export USEFIRST_DATABASE__URL="$PG_BASE_URL/$db"
                run_cli "postgres ($v): migrate" migrate
                run_cli "postgres ($v): seed-demo" seed-demo
                declare -g "PG_$v=$PG_BASE_URL/$db"
            done
            for t in agreements conversion_contracts payments insurance_policies insurance_claims; do
                for w in inserted updated deleted; do
                    psql -X -q "$PG_without" -c "DROP TRIGGER report_tallies_${t}_${w} ON $t" >/dev/null
                done
            done
            COLUMNS=$(psql -X -At "$PG_with" -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'agreements' AND column_name NOT IN ('id', 'number')")
            SRC=$(psql -X -At "$PG_with" -c "SELECT id FROM agreements WHERE status = 'requested' ORDER BY id LIMIT 1")
            run_once() {
                local url
                if [ "$1" = with ]; then url=$PG_with; else url=$PG_without; fi
                psql -X -q -v ON_ERROR_STOP=1 -v src="$SRC" "$url" -f "$(sql_file postgres "$2")" >/dev/null
            }
            reset() {
                local url
                if [ "$1" = with ]; then url=$PG_with; else url=$PG_without; fi
                psql -X -q "$url" -c "DELETE FROM agreements WHERE id LIKE 'bench-%'" >/dev/null
            }
            ;;
        *) die "unknown backend $backend in BENCH_BACKENDS" ;;
    esac
    declare -A samples=()
    for v in with without; do # warm-up
        run_once "$v" approve
        reset "$v"
    done
    for _ in $(seq 1 "$RUNS"); do
        for phases in insert approve; do
            for v in with without; do # alternating, so the machine's drift falls on both
                t0=$(now_ns)
                run_once "$v" "$phases"
                t1=$(now_ns)
                reset "$v"
                samples[$v.$phases]+="$(((t1 - t0) / 1000)) "
            done
        done
    done
    for k in with.insert without.insert with.approve without.approve; do
        M[$backend.$k]=$(echo "${samples[$k]}" | tr ' ' '\n' | grep . | median)
    done
    say "$backend: runs (µs): requests with triggers ${samples[with.insert]}, without ${samples[without.insert]}; requests and approvals with ${samples[with.approve]}, without ${samples[without.approve]}"
done

echo
echo "== the report's triggers: $ROWS trial requests, then the same with their approvals, median of $RUNS runs, $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
printf '%-9s %-9s %18s %18s %14s %8s\n' backend write "with (µs/row)" "without (µs/row)" "added (µs/row)" ratio
for b in $BACKENDS; do
    # The approval's own cost: the run with approvals less the run of requests alone.
    awk -v b="$b" -v n="$ROWS" -v wi="${M[$b.with.insert]}" -v oi="${M[$b.without.insert]}" \
        -v wa="${M[$b.with.approve]}" -v oa="${M[$b.without.approve]}" 'BEGIN {
        printf "%-9s %-9s %18.1f %18.1f %14.1f %7.2fx\n", b, "request", wi / n, oi / n, (wi - oi) / n, wi / oi
        printf "%-9s %-9s %18.1f %18.1f %14.1f %7.2fx\n", b, "approval", (wa - wi) / n, (oa - oi) / n, ((wa - wi) - (oa - oi)) / n, (wa - wi) / (oa - oi)
    }'
done
echo "SQLite writes the requests in one statement and the approvals in one, rolled back; PostgreSQL one statement"
echo "per request and per approval, each committed (its triggers run per statement). Process start and parsing are"
echo "in both columns alike."

#!/usr/bin/env bash
# Catalogue search benchmark (a measurement, not a test: it never fails on speed unless
# BENCH_STRICT=1).
#
# `cargo bench --bench search` loads BENCH_TECHNOLOGIES (default 100,000) synthetic
# technologies (the synthetic generator's vocabulary, every fifth with a Chinese name) through
# the catalogue's own create — row, search index and audit event in one transaction — first
# on a fresh SQLite file, then on a fresh PostgreSQL database, and times on each:
#   - two-word searches as typed: Vietnamese without accents ("may say") and Chinese pairs
#     ("太阳能 干燥机"), the catalogue's whole query (ranked matches, visibility, a page of 20);
#   - the reference: one technology read by its id (a primary-key lookup), in the same run.
# Prints p50/p95 of each and the ratio of the medians. Target: search p95 <= 20 ms on SQLite.
#
# Environment: BENCH_TECHNOLOGIES; PG_BASE_URL (default postgres://postgres@127.0.0.1:5432);
# BENCH_BACKENDS ("sqlite postgres"); BENCH_STRICT=1 exits non-zero on a missed target.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TARGET_P95_MS=20
PG_BASE_URL=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}
say() { echo "bench-search: $*" >&2; }

say "cargo bench --bench search --no-run"
cargo bench --bench search --no-run 2>&1 | grep -v '^\s*$' >&2

declare -A figures
run() {
    local backend=$1 log
    log=$(mktemp "${TMPDIR:-/tmp}/uf-bench-search.XXXXXX")
    if [ "$backend" = postgres ]; then
        local db="uf_bench_search_$$"
        psql "$PG_BASE_URL/postgres" -qc "CREATE DATABASE $db" >&2
        BENCH_DATABASE_URL="$PG_BASE_URL/$db" cargo bench --bench search 2>/dev/null | tee "$log" >&2
        psql "$PG_BASE_URL/postgres" -qc "DROP DATABASE $db WITH (FORCE)" >&2
    else
        cargo bench --bench search 2>/dev/null | tee "$log" >&2
    fi
    for key in VI_P50 VI_P95 ZH_P50 ZH_P95 SEARCH_P50 SEARCH_P95 INDEX_P50 INDEX_P95 LOOKUP_P50 LOOKUP_P95 RATIO_P50 LOAD_S; do
        figures[$backend.$key]=$(sed -n "s/^BENCH_${key}_MS=//p; s/^BENCH_${key}=//p" "$log" | tail -1)
    done
    rm -f "$log"
}

backends=${BENCH_BACKENDS:-sqlite postgres}
for b in $backends; do
    say "running on $b"
    run "$b"
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)
echo
echo "== catalogue search over ${BENCH_TECHNOLOGIES:-100000} technologies (commit $commit, $(nproc) cores)"
printf '%-10s %-44s %10s %10s\n' backend measure p50_ms p95_ms
verdict=met
for b in $backends; do
    printf '%-10s %-44s %10s %10s\n' "$b" "two words, Vietnamese without accents" "${figures[$b.VI_P50]}" "${figures[$b.VI_P95]}"
    printf '%-10s %-44s %10s %10s\n' "$b" "two words, Chinese pair" "${figures[$b.ZH_P50]}" "${figures[$b.ZH_P95]}"
    printf '%-10s %-44s %10s %10s\n' "$b" "all searches" "${figures[$b.SEARCH_P50]}" "${figures[$b.SEARCH_P95]}"
    printf '%-10s %-44s %10s %10s\n' "$b" "  of which the index alone" "${figures[$b.INDEX_P50]}" "${figures[$b.INDEX_P95]}"
    printf '%-10s %-44s %10s %10s\n' "$b" "reference: technology by id" "${figures[$b.LOOKUP_P50]}" "${figures[$b.LOOKUP_P95]}"
    echo "$b: search median / lookup median = ${figures[$b.RATIO_P50]}x; loading took ${figures[$b.LOAD_S]} s"
done
if [ -n "${figures[sqlite.SEARCH_P95]:-}" ]; then
    verdict=$(awk -v p="${figures[sqlite.SEARCH_P95]}" -v t="$TARGET_P95_MS" 'BEGIN { print (p <= t) ? "met" : "MISSED" }')
    echo "SQLite search p95 ${figures[sqlite.SEARCH_P95]} ms (target <= ${TARGET_P95_MS} ms: $verdict)"
fi
if [ "$verdict" = MISSED ] && [ "${BENCH_STRICT:-0}" = 1 ]; then exit 1; fi
exit 0

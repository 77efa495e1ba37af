#!/usr/bin/env bash
# Settlement benchmark (a measurement, not a test: it never fails on speed unless BENCH_STRICT=1).
#
# 1. `cargo bench --bench settlement`: criterion times the settlement computations of one
#    conversion at the largest size (a 36-installment schedule, the premium split, the
#    distribution and tax of every installment), more than one payment computes, and reports
#    its median.
# 2. `scripts/bench-api.sh`: among its scenarios, one client records payments on a converted
#    agreement; the median round trip of `POST /api/v1/agreements/{id}/payments` is the reference.
# Prints both medians and the computation's cost as a share of one request (target: under 1%).
#
# Environment: BENCH_SECONDS etc. as for bench-api.sh; BENCH_STRICT=1 exits non-zero on a miss.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TARGET_PCT=1
say() { echo "bench-settlement: $*" >&2; }
die() { echo "bench-settlement: FAILED: $*" >&2; exit 1; }

target_dir=${CARGO_TARGET_DIR:-target}
name="36-installments+premium+distribution"
rm -rf "$target_dir/criterion/settlement"
say "cargo bench --bench settlement"
cargo bench --bench settlement -- --noplot 2>&1 | grep -v '^\s*$' >&2
estimates=$(find "$target_dir/criterion" -path "*${name}*/new/estimates.json" | head -1)
[ -n "$estimates" ] || die "criterion wrote no estimates for $name"
compute_ns=$(jq -r '.median.point_estimate' "$estimates")
compute_lo=$(jq -r '.median.confidence_interval.lower_bound' "$estimates")
compute_hi=$(jq -r '.median.confidence_interval.upper_bound' "$estimates")

say "scripts/bench-api.sh (for the payment round trip)"
api_log=$(mktemp "${TMPDIR:-/tmp}/uf-bench-settlement.XXXXXX")
trap 'rm -f "$api_log"' EXIT
bash scripts/bench-api.sh | tee "$api_log" >&2
request_us=$(sed -n 's/^BENCH_PAYMENT_P50_US=//p' "$api_log" | tail -1)
[ -n "$request_us" ] && [ "$request_us" -gt 0 ] || die "bench-api.sh printed no payment round trip"

pct=$(awk -v ns="$compute_ns" -v us="$request_us" 'BEGIN { printf "%.3f", 100 * ns / (us * 1000) }')
verdict=$(awk -v p="$pct" -v t="$TARGET_PCT" 'BEGIN { print (p < t) ? "met" : "MISSED" }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)

echo
echo "== settlement computation vs one payment request (commit $commit, $(nproc) cores)"
printf '%-58s %14s\n' "measure" "median"
printf '%-58s %11.2f µs  (95%% CI %.2f–%.2f µs)\n' "36 installments + premium split + distribution (criterion)" \
    "$(awk -v n="$compute_ns" 'BEGIN { print n / 1000 }')" \
    "$(awk -v n="$compute_lo" 'BEGIN { print n / 1000 }')" "$(awk -v n="$compute_hi" 'BEGIN { print n / 1000 }')"
printf '%-58s %11.2f µs\n' "POST /api/v1/agreements/{id}/payments round trip (wrk, 1 conn)" "$request_us"
echo "computation / request: ${pct}% (target < ${TARGET_PCT}%: $verdict)"
if [ "$verdict" = MISSED ] && [ "${BENCH_STRICT:-0}" = 1 ]; then exit 1; fi
exit 0

#!/usr/bin/env bash
# Rewrites src/architecture/known.txt with the findings the layer test reports now: run it after
# removing back-imports (the test asks for it when it finds fewer than the list says). It never
# adds a finding silently: read the diff before committing it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(cargo test --lib architecture::tests::imports_point_down 2>&1 || true)
list=$(printf '%s\n' "$out" | sed -n '/^the findings now, for src\/architecture\/known.txt:$/,$p' | grep -E '^[0-9]+ [a-z]' || true)
if [ -z "$list" ]; then
    if printf '%s\n' "$out" | grep -q "test result: ok"; then
        echo "architecture-known: the test passes; known.txt is already exact"
        exit 0
    fi
    printf '%s\n' "$out" | tail -20 >&2
    echo "architecture-known: the test did not print its findings" >&2
    exit 1
fi
{
    echo "# Findings of src/architecture.rs still to remove, as COUNT FILE: WHY."
    echo "# Written by scripts/architecture-known.sh; the list only ever shrinks."
    printf '%s\n' "$list"
} >src/architecture/known.txt
git --no-pager diff --stat -- src/architecture/known.txt
echo "architecture-known: $(printf '%s\n' "$list" | awk '{s+=$1} END {print s}') findings in $(printf '%s\n' "$list" | wc -l) lines"

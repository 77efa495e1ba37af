#!/usr/bin/env bash
# Installs the system packages usefirst needs to build, test and benchmark, on Debian 12.
# Runs as root (no sudo). Idempotent: when every package is already installed it only checks
# and returns; `apt-get update` runs only when something is missing.
#
#   libpq-dev, pkg-config   diesel's PostgreSQL backend (links libpq)
#   postgresql-client       psql/createdb/dropdb for the PostgreSQL test run and migration check
#   sqlite3                 inspecting SQLite databases (migration check)
#   poppler-utils           pdftoppm/pdftotext/pdffonts/pdfinfo for the system tests
#                           (`cargo test --test system`), which rasterise every page
#   fonts-noto-cjk          Noto Sans CJK SC: the system tests' full CJK font, and the source
#                           of the built-in subset (scripts/subset-cjk-font.sh)
#   wrk                     HTTP load generator for scripts/bench-*.sh
#   curl, jq                scripts/bench-*.sh sign in and pick ids through the API
#   chromium, chromium-driver  headless Chromium and its WebDriver server for the browser tests
#                           (`cargo test --test browser`: keyboard use, screenshots, axe-core)
# Plain `cargo test` needs none of these (.ci/run proves it with scripts/without-system-tools.sh).
set -euo pipefail

PACKAGES=(libpq-dev pkg-config postgresql-client sqlite3 poppler-utils fonts-noto-cjk wrk curl jq
    chromium chromium-driver)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all present (${PACKAGES[*]})"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]}, and installing needs root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt-get update -qq >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get update failed" >&2
    exit 1
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get install failed for: ${missing[*]}" >&2
    exit 1
fi

for pkg in "${missing[@]}"; do
    if ! installed "$pkg"; then
        echo "install-deps: $pkg is still not installed" >&2
        exit 1
    fi
done
echo "install-deps: installed ${missing[*]}"

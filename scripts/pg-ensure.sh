#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 with trust authentication, for the
# PostgreSQL test run and the migration check. Runs as root on Debian 12.
#
#   - already answering: nothing to do;
#   - a cluster exists but is down: start it and wait up to 30 s;
#   - no cluster at all: install `postgresql` with apt, allow trust for 127.0.0.1 and ::1 in
#     pg_hba.conf (only in this case: an existing cluster's auth is left as its owner set it),
#     and start it.
#
# Prints the server's base URL on stdout (progress goes to stderr), so callers can do
#   base=$(bash scripts/pg-ensure.sh)
set -euo pipefail

HOST=127.0.0.1
PORT=5432
BASE_URL="postgres://postgres@${HOST}:${PORT}"

say() { echo "pg-ensure: $*" >&2; }

ready() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT"
}

cluster_version() {
    [ -d /etc/postgresql ] || return 1
    local v
    v=$(ls /etc/postgresql | head -1)
    [ -n "$v" ] && [ -d "/etc/postgresql/$v/main" ] || return 1
    echo "$v"
}

wait_ready() {
    local i
    for i in $(seq 1 30); do
        ready && return 0
        sleep 1
    done
    return 1
}

start_cluster() {
    local v=$1
    say "starting cluster $v/main"
    # A start that races with one already under way fails; waiting below decides.
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 || true
    if ! wait_ready; then
        say "PostgreSQL $v/main did not answer on $HOST:$PORT within 30 s"
        tail -n 20 "/var/log/postgresql/postgresql-$v-main.log" >&2 2>/dev/null || true
        exit 1
    fi
}

if ready; then
    say "PostgreSQL answers on $HOST:$PORT"
    echo "$BASE_URL"
    exit 0
fi

if version=$(cluster_version); then
    start_cluster "$version"
    say "PostgreSQL $version answers on $HOST:$PORT"
    echo "$BASE_URL"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "no PostgreSQL cluster found, and installing one needs root"
    exit 1
fi

say "no PostgreSQL cluster found: installing postgresql"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >"$log" 2>&1; then
    cat "$log" >&2
    say "installing postgresql failed"
    exit 1
fi

if ! version=$(cluster_version); then
    say "postgresql is installed but no cluster was created under /etc/postgresql"
    exit 1
fi

hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    say "allowing trust authentication from 127.0.0.1 and ::1 in $hba"
    # pg_hba.conf is read top-down and the first matching line wins: put ours first.
    {
        echo "# usefirst tests: local TCP connections are trusted"
        echo "host    all             all             127.0.0.1/32            trust"
        echo "host    all             all             ::1/128                 trust"
        cat "$hba"
    } >"$hba.new"
    chown --reference="$hba" "$hba.new"
    chmod --reference="$hba" "$hba.new"
    mv "$hba.new" "$hba"
fi

# The package may have started the cluster already (with the old pg_hba.conf): restart it.
if ready; then
    say "restarting cluster $version/main to apply pg_hba.conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart >&2
    wait_ready || { say "PostgreSQL did not come back within 30 s"; exit 1; }
else
    start_cluster "$version"
fi
say "PostgreSQL $version answers on $HOST:$PORT"
echo "$BASE_URL"

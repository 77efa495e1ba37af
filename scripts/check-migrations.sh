#!/usr/bin/env bash
# Checks that the migrations go up, all the way down, and up again, on SQLite and PostgreSQL,
# using the service's own `migrate` command (the same embedded migrations `serve` runs).
#
#   bash scripts/check-migrations.sh             # both backends
#   bash scripts/check-migrations.sh sqlite      # one backend
#   bash scripts/check-migrations.sh postgres
#
# For each backend, on a fresh database:
#   1. `usefirst migrate`              -> our tables exist (e.g. `agreements`)
#   2. `usefirst migrate --revert-all` -> none of our tables, views, sequences, types or
#                                         functions are left; diesel's bookkeeping table is empty
#   3. `usefirst migrate`              -> the schema is the same as after step 1
#   4. `usefirst migrate`              -> nothing to do, schema unchanged
#
# Environment:
#   USEFIRST_BIN     binary to run (default: target/debug/usefirst, built when missing or older
#                    than the sources)
#   PG_BASE_URL      PostgreSQL server (default postgres://postgres@127.0.0.1:5432); a fresh
#                    database uf_migcheck_<random> is created there and dropped afterwards
set -Eeuo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_BASE_URL=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}
EXPECTED_TABLE=agreements
DIESEL_TABLE=__diesel_schema_migrations

backends=("$@")
[ "${#backends[@]}" -gt 0 ] || backends=(sqlite postgres)
for b in "${backends[@]}"; do
    case "$b" in
        sqlite | postgres) ;;
        *) echo "usage: $0 [sqlite] [postgres]" >&2; exit 2 ;;
    esac
done

say() { echo "check-migrations: $*"; }
fail() { echo "check-migrations: FAILED: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/uf-migcheck.XXXXXX")
pg_db=""
cleanup() {
    if [ -n "$pg_db" ]; then
        psql "$PG_BASE_URL/postgres" -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 ||
            echo "check-migrations: could not drop database $pg_db" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "check-migrations: FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR

# --- the binary -----------------------------------------------------------------------------

target_dir=${CARGO_TARGET_DIR:-target}
BIN=${USEFIRST_BIN:-$target_dir/debug/usefirst}
if [ -z "${USEFIRST_BIN:-}" ]; then
    stale=""
    if [ -x "$BIN" ]; then
        stale=$(find src migrations Cargo.toml Cargo.lock -newer "$BIN" -type f 2>/dev/null | head -1)
    fi
    if [ ! -x "$BIN" ] || [ -n "$stale" ]; then
        say "building $BIN (cargo build)"
        cargo build --bin usefirst
    fi
fi
[ -x "$BIN" ] || fail "no executable at $BIN"

# Runs `usefirst migrate ARGS...` against $url; shows its output only when it fails.
migrate() {
    local step=$1
    shift
    local log="$work/migrate.log"
    if ! USEFIRST_DATABASE__URL="$url" USEFIRST_LOG__FILTER=warn "$BIN" migrate "$@" \
        </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        fail "$backend: step '$step' (usefirst migrate${*:+ $*}) exited non-zero"
    fi
}

# --- SQLite ---------------------------------------------------------------------------------

sqlite_q() { sqlite3 -batch -noheader "$db" "$1"; }

# Everything in the schema but SQLite's internals and diesel's bookkeeping table.
sqlite_leftovers() {
    sqlite_q "SELECT type || ' ' || name FROM sqlite_master
              WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> '$DIESEL_TABLE'
              ORDER BY type, name"
}

sqlite_schema() {
    sqlite_q "SELECT type, name, tbl_name, sql FROM sqlite_master
              WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> '$DIESEL_TABLE'
              ORDER BY type, name"
}

sqlite_has_table() {
    [ "$(sqlite_q "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$1'")" = 1 ]
}

sqlite_applied() {
    if sqlite_has_table "$DIESEL_TABLE"; then sqlite_q "SELECT count(*) FROM $DIESEL_TABLE"; else echo 0; fi
}

# --- PostgreSQL -----------------------------------------------------------------------------

pg_q() { psql "$url" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

# Relations, types and functions in user schemas, except diesel's table and what extensions own.
PG_OBJECTS="
    SELECT 'relation ' || n.nspname || '.' || c.relname || ' (' || c.relkind::text || ')'
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND c.relname <> '$DIESEL_TABLE'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'type ' || n.nspname || '.' || t.typname
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND (t.typtype IN ('e', 'd', 'r')
            OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'function ' || n.nspname || '.' || p.proname
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    ORDER BY 1"

pg_leftovers() { pg_q "$PG_OBJECTS"; }

# Columns, constraints and indexes of our tables: what a down/up round trip must reproduce.
pg_schema() {
    pg_q "$PG_OBJECTS"
    pg_q "SELECT table_schema, table_name, column_name, data_type, is_nullable,
                 coalesce(column_default, '')
            FROM information_schema.columns
           WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
             AND table_name <> '$DIESEL_TABLE'
           ORDER BY 1, 2, ordinal_position"
    pg_q "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint
           WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
             AND conrelid <> 0 AND conrelid::regclass::text <> '$DIESEL_TABLE'
           ORDER BY 1, 2"
    pg_q "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
           WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
             AND tablename <> '$DIESEL_TABLE'
           ORDER BY 1, 2, 3"
}

pg_has_table() {
    [ "$(pg_q "SELECT count(*) FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_name = '$1'")" = 1 ]
}

pg_applied() {
    if pg_has_table "$DIESEL_TABLE"; then pg_q "SELECT count(*) FROM $DIESEL_TABLE"; else echo 0; fi
}

# --- the round trip, the same for both ----------------------------------------------------------

round_trip() {
    local leftovers_fn=$1 schema_fn=$2 has_table_fn=$3 applied_fn=$4

    migrate "up"
    "$has_table_fn" "$EXPECTED_TABLE" || fail "$backend: no table '$EXPECTED_TABLE' after the first migrate"
    local applied
    applied=$("$applied_fn")
    [ "$applied" -gt 0 ] || fail "$backend: diesel recorded no applied migration after migrate"
    "$schema_fn" >"$work/schema-up1"
    say "$backend: up       ok ($applied migrations, $(wc -l <"$work/schema-up1") schema lines)"

    migrate "down" --revert-all
    local left
    left=$("$leftovers_fn")
    if [ -n "$left" ]; then
        printf '%s\n' "$left" | sed 's/^/    /' >&2
        fail "$backend: objects left after 'migrate --revert-all' (above)"
    fi
    applied=$("$applied_fn")
    [ "$applied" = 0 ] || fail "$backend: $DIESEL_TABLE still lists $applied migrations after --revert-all"
    say "$backend: down     ok (nothing of ours left)"

    migrate "up again"
    "$has_table_fn" "$EXPECTED_TABLE" || fail "$backend: no table '$EXPECTED_TABLE' after migrating up again"
    "$schema_fn" >"$work/schema-up2"
    if ! diff -u "$work/schema-up1" "$work/schema-up2" >"$work/schema.diff"; then
        cat "$work/schema.diff" >&2
        fail "$backend: the schema after down+up differs from the first up (diff above)"
    fi
    say "$backend: up again ok (same schema as the first up)"

    migrate "no-op up"
    "$schema_fn" >"$work/schema-up3"
    diff -q "$work/schema-up2" "$work/schema-up3" >/dev/null ||
        fail "$backend: a second migrate with nothing pending changed the schema"
    say "$backend: no-op    ok"

    # A one-shot command must exit cleanly every time: an earlier pool kept opening
    # connections from background threads and crashed now and then at exit (TLS teardown).
    local i
    for i in $(seq 1 "${MIGRATE_REPEAT:-20}"); do
        migrate "no-op up, repeat $i"
    done
    say "$backend: repeat   ok (${MIGRATE_REPEAT:-20} more no-op runs, all exited 0)"
}

# Each backend's round trip runs in a subshell, so a failure on one still checks the other.
# (Not as `( ... ) || ...`: bash ignores `set -e` inside a subshell tested that way.)
failed=()
check_backend() {
    local rc
    set +e
    trap - ERR
    (
        set -e
        trap 'echo "check-migrations: FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
        round_trip "$@"
    )
    rc=$?
    trap 'echo "check-migrations: FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
    set -e
    [ "$rc" -eq 0 ] || failed+=("$backend")
}
for backend in "${backends[@]}"; do
    case "$backend" in
        sqlite)
            command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (bash scripts/install-deps.sh)"
            db="$work/usefirst.db"
            url="$db"
            say "sqlite: fresh database $db"
            check_backend sqlite_leftovers sqlite_schema sqlite_has_table sqlite_applied
            ;;
        postgres)
            command -v psql >/dev/null || fail "psql is not installed (bash scripts/install-deps.sh)"
            if ! pg_isready -q -d "$PG_BASE_URL/postgres"; then
                fail "no PostgreSQL answers at $PG_BASE_URL (bash scripts/pg-ensure.sh)"
            fi
            pg_db="uf_migcheck_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
            psql "$PG_BASE_URL/postgres" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_db\"" >/dev/null ||
                fail "could not create database $pg_db on $PG_BASE_URL"
            url="$PG_BASE_URL/$pg_db"
            say "postgres: fresh database $url"
            check_backend pg_leftovers pg_schema pg_has_table pg_applied
            ;;
    esac
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "check-migrations: FAILED on ${failed[*]}" >&2
    exit 1
fi
say "all good (${backends[*]})"

# Shared by the scripts/bench-*.sh that load a running server: builds the release binary,
# prepares a fresh SQLite database in a temp folder, starts and stops `usefirst serve`, and calls
# the API with curl. Source it after defining `say` and `die`; it sets BIN, work, PORT, BASE and
# server_pid, and installs the clean-up traps. `fresh_server N` migrates, loads the demo data
# and N synthetic agreements and starts the server; `sign_in EMAIL` prints a demo user's token;
# `profile_start NAME` and `profile_stop NAME` record the server with perf around a measured run
# when BENCH_PROFILE=1 (and do nothing otherwise).
#
#   BENCH_PORT        port to listen on (default: a free one)
#   BENCH_SKIP_BUILD  1: use target/release/usefirst as it is
#   BENCH_BIN         another usefirst executable to measure (an older build, to compare two
#                     versions on one machine); nothing is built

# --- build -----------------------------------------------------------------------------------

BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/usefirst}
if [ -z "${BENCH_BIN:-}" ] && [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "cargo build --release"
    cargo build --release --bin usefirst >&2
fi
[ -x "$BIN" ] || die "no executable at $BIN"

# --- a fresh server ---------------------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/uf-bench.XXXXXX")
server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${BENCH_PORT:-}" ]; then
    PORT=$BENCH_PORT
    port_free "$PORT" || die "port $PORT is taken"
else
    PORT=""
    for _ in $(seq 1 50); do
        candidate=$((20000 + RANDOM % 20000))
        if port_free "$candidate"; then PORT=$candidate; break; fi
    done
    [ -n "$PORT" ] || die "found no free port"
fi

export USEFIRST_DATABASE__URL="$work/usefirst.db"
export USEFIRST_SERVER__LISTEN="127.0.0.1:$PORT"
export USEFIRST_LOG__FILTER=warn
BASE="http://127.0.0.1:$PORT"

run_cli() {
    local what=$1
    shift
    local started=$SECONDS
    if ! "$BIN" "$@" </dev/null >"$work/cli.log" 2>&1; then
        cat "$work/cli.log" >&2
        die "usefirst $* failed"
    fi
    say "$what done in $((SECONDS - started)) s"
}

# start_server [ARGS]: runs `usefirst serve ARGS` on the prepared database and waits for
# /health/live.
start_server() {
    "$BIN" serve "$@" </dev/null >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "$BASE/health/live" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server exited at start-up"; }
        sleep 0.1
    done
    curl -fsS -o /dev/null "$BASE/health/live" || { cat "$work/server.log" >&2; die "the server did not answer /health/live within 30 s"; }
    say "server pid $server_pid listening on $BASE"
}

# api METHOD PATH [BODY [VERSION]] -> prints the body; dies with the answer when the status is not
# 2xx. VERSION is sent as If-Match.
api() {
    local method=$1 path=$2 body=${3:-} version=${4:-}
    local args=(-sS -o "$work/answer" -w '%{http_code}' -X "$method" -H 'Accept: application/json')
    [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    [ -n "$version" ] && args+=(-H "If-Match: \"$version\"")
    local status
    status=$(curl "${args[@]}" "$BASE$path") || die "$method $path: no answer"
    case "$status" in
        2??) cat "$work/answer" ;;
        *) cat "$work/answer" >&2; echo >&2; die "$method $path answered $status" ;;
    esac
}

# fresh_server N: a fresh SQLite database with the demo data and N synthetic agreements, served.
fresh_server() {
    say "fresh SQLite database in $work"
    run_cli "migrate" migrate
    run_cli "seed-demo" seed-demo
    run_cli "seed-synthetic ($1 agreements)" seed-synthetic --agreements "$1"
    start_server
}

DEMO_PASSWORD=trial-demo-2026

# sign_in EMAIL: prints the bearer token of a demo user.
sign_in() {
    local login
    login=$(jq -cn --arg email "$1" --arg password "$DEMO_PASSWORD" '{email: $email, password: $password}')
    TOKEN="" api POST /api/v1/auth/login "$login" | jq -er '.token' || die "no token for $1"
}

# --- profiles (BENCH_PROFILE=1) ---------------------------------------------------------------
# profile_start NAME: records the server with `perf record -g` until profile_stop NAME, which
# writes the hottest symbols to target/bench-profiles/NAME.txt, the project's functions with
# what they call (inclusive) to NAME-inclusive.txt, and keeps the recording as NAME.perf.data
# (for `perf report -i`). Recording skews the run's figures. BENCH_PROFILE=dwarf unwinds the
# stacks from DWARF call frames (whole call chains in a build without frame pointers, at a
# higher cost per sample).
perf_pid=""
case "${BENCH_PROFILE:-0}" in
    1) PERF_CALLS=(-g) ;;
    dwarf) PERF_CALLS=(--call-graph dwarf,16384) ;;
    *) PERF_CALLS=() ;;
esac
if [ "${#PERF_CALLS[@]}" -gt 0 ]; then
    command -v perf >/dev/null || die "BENCH_PROFILE=1 needs perf (Debian: linux-perf)"
fi
profile_start() {
    [ "${#PERF_CALLS[@]}" -gt 0 ] || return 0
    perf record -q -F 997 "${PERF_CALLS[@]}" -p "$server_pid" -o "$work/perf-$1.data" >/dev/null 2>&1 &
    perf_pid=$!
}
profile_stop() {
    [ -n "$perf_pid" ] || return 0
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    mkdir -p target/bench-profiles
    perf report -i "$work/perf-$1.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
        | grep -v '^$' | grep -E '^ +[0-9]' | sed -E 's/ +(- +-)? *$//' | head -60 >"target/bench-profiles/$1.txt" || true
    # Inclusive shares of the project's own functions: which step of a request the time goes
    # to (the statement, the template, the commit), not only which leaf burns it.
    perf report -i "$work/perf-$1.data" --children --sort symbol -g none --stdio 2>/dev/null \
        | grep -E '^ +[0-9].*usefirst::' | sed -E 's/ +(- +-)? *$//' | head -80 \
        >"target/bench-profiles/$1-inclusive.txt" || true
    cp "$work/perf-$1.data" "target/bench-profiles/$1.perf.data"
    say "profile of $1: target/bench-profiles/$1.txt, $1-inclusive.txt, $1.perf.data"
}

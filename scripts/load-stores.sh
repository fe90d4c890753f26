#!/usr/bin/env bash
# HTTP load over loopback for the server-side stores (benches/examples/store-server.rs), against a
# redis-server and a memcached this script starts on free loopback ports and stops by PID.
#
# Ways, each a `<way>-write` (reads the session, changes it) and `<way>-read` (reads it only):
#   redis, memcached, memory   our layer with_store(...)      (`redis-untouched`: never takes it)
#   cookie                     our layer, sessions in cookies
#   revocation                 cookie sessions with_revocation(RedisStore) (`revocation-subject-read`:
#                              the session names a subject, so the check looks up two keys)
#   tower                      tower-sessions with its Redis store, same Redis
#   floor, fred-floor          bare clients: one GET (+ one SET to write) per request, with the
#                              client our RedisStore uses (redis) and the one tower-sessions' uses (fred)
#   memcached-floor            the same with async-memcached, over a list of idle connections
#   memcached-store-floor      the memcached floor's handlers calling our Timed<MemcachedStore>
#   store-floor                the floor's handlers calling our Timed<RedisStore>: the store path
#                              without the layer
#   sealed-floor,              the bare clients (redis, memcached) with what our stores promise
#   memcached-sealed-floor     written inline: a sealed id cookie, the key hashed from the id, the
#                              entry sealed at rest and decoded (SealedFloor in benches/common)
#   none                       no session at all
#
# 1. Round trips: N requests per way (curl, one keep-alive connection), with Redis `INFO
#    commandstats` and memcached `stats` read before and after: store commands per request.
# 2. Throughput: interleaved rounds of wrk (order rotated each round, fresh session cookies each
#    round): median requests/s, server, redis and memcached CPU time per request (/proc/<pid>/stat), and the
#    medians of per-round ratios (throughput drifts on a shared host; a ratio within a round holds).
# 3. Latency: the same ways over one connection (wrk -c1): median of each round's p50 and mean.
#
# Usage: scripts/load-stores.sh [--long] [rounds] [seconds-per-run] [connections]
#   default 3 rounds of 3 s at 32 connections, latency rounds of 2 s (about 7 minutes);
#   --long: 7 rounds of 10 s, latency rounds of 5 s (about 40 minutes).
#   WAYS="redis-write floor-write none" limits the ways (`none` is always run: ratios need it).
#   STORE_SERVER=path runs that store-server binary instead of building this tree's.
# Needs wrk, curl, redis-server, redis-cli, memcached (scripts/install-servers); installs wrk when
# run as root on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

LONG=0
if [ "${1:-}" = "--long" ]; then
    LONG=1
    shift
fi
if [ "$LONG" = 1 ]; then
    ROUNDS=${1:-7}; SECONDS_PER_RUN=${2:-10}; LATENCY_SECONDS=5
else
    ROUNDS=${1:-3}; SECONDS_PER_RUN=${2:-3}; LATENCY_SECONDS=2
fi
CONNECTIONS=${3:-32}
CHECK_REQUESTS=${CHECK_REQUESTS:-1000}

ALL_WAYS=(none
    redis-write redis-read redis-untouched
    memcached-write memcached-read
    memory-write memory-read
    cookie-write cookie-read
    revocation-write revocation-read revocation-subject-read
    tower-write tower-read
    floor-write floor-read
    store-floor-write store-floor-read
    fred-floor-write fred-floor-read
    memcached-floor-write memcached-floor-read
    memcached-store-floor-write memcached-store-floor-read
    sealed-floor-write sealed-floor-read
    memcached-sealed-floor-write memcached-sealed-floor-read)
if [ -n "${WAYS:-}" ]; then
    read -r -a WAYS_ARRAY <<<"none $WAYS"
    declare -A seen=()
    SELECTED=()
    for way in "${WAYS_ARRAY[@]}"; do
        [ -n "${seen[$way]:-}" ] && continue
        seen[$way]=1
        [[ " ${ALL_WAYS[*]} " == *" $way "* ]] || { echo "unknown way: $way" >&2; exit 1; }
        SELECTED+=("$way")
    done
else
    SELECTED=("${ALL_WAYS[@]}")
fi

for bin in curl redis-server redis-cli memcached; do
    command -v "$bin" >/dev/null || { echo "$bin is missing: scripts/install-servers" >&2; exit 1; }
done
# shellcheck source=lib/need.sh
. scripts/lib/need.sh
# shellcheck source=lib/rounds.sh
. scripts/lib/rounds.sh
need wrk wrk

if [ -n "${STORE_SERVER:-}" ]; then
    # A server binary built beforehand (say, of another commit, for a before/after run).
    SERVER=$STORE_SERVER
else
    cargo build --release -q -p session-benches --example store-server
    SERVER=target/release/examples/store-server
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    if [ -n "${SERVER_PID:-}" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "store-server exited early; its log:" >&2
        tail -30 "$WORK/server.log" >&2 || true
    fi
    stop_pids
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() {
    local what=$1 check=$2
    for _ in $(seq 100); do
        eval "$check" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$what did not start:" >&2
    cat "$WORK"/*.log >&2 || true
    exit 1
}

REDIS_PORT=$(free_port)
"${PIN_OTHERS[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_for redis-server "redis-cli -p $REDIS_PORT ping | grep -q PONG"

MC_PORT=$(free_port)
MC_USER=()
[ "$(id -u)" = 0 ] && MC_USER=(-u root)
"${PIN_OTHERS[@]}" memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 -t 1 "${MC_USER[@]}" \
    >"$WORK/memcached.log" 2>&1 &
MC_PID=$!
PIDS+=("$MC_PID")
mc_stats() {
    exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT"
    printf 'stats\r\nquit\r\n' >&3
    tr -d '\r' <&3
    exec 3<&-
}
wait_for memcached "mc_stats | grep -q '^STAT pid'"

SERVER_PORT=$(free_port)
ADDR="127.0.0.1:$SERVER_PORT"
"${PIN_SERVER[@]}" "$SERVER" "$ADDR" "redis://127.0.0.1:$REDIS_PORT/" "127.0.0.1:$MC_PORT" \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for store-server "grep -q listening '$WORK/server.log'"

# The route each way requests, and the route that sets its first cookie.
path_of() {
    case $1 in
        revocation-subject-read) echo revocation-read ;;
        *) echo "$1" ;;
    esac
}
init_of() {
    case $1 in
        none) echo "" ;;
        revocation-subject-read) echo revocation-subject-init ;;
        *) echo "${1%-*}-init" ;;
    esac
}

# A fresh session for each way: `name=value` pairs from its init route's Set-Cookie lines.
declare -A COOKIE
fresh_cookies() {
    local way init cookies
    for way in "${SELECTED[@]}"; do
        init=$(init_of "$way")
        if [ -z "$init" ]; then
            COOKIE[$way]="theme=dark"
            continue
        fi
        cookies=$(curl -s -D - -o /dev/null "http://$ADDR/$init" |
            tr -d '\r' |
            sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' |
            grep -v '=$' |
            paste -sd ';' - |
            sed 's/;/; /g')
        [ -n "$cookies" ] || { echo "$way: $init set no cookie" >&2; cat "$WORK/server.log" >&2; exit 1; }
        COOKIE[$way]="theme=dark; $cookies"
    done
}

# Calls per command since the server started, as `command calls` lines.
redis_calls() {
    redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p'
}
calls_of() { awk -v c="$2" '$1 == c {print $2; f = 1} END {if (!f) print 0}' <<<"$1"; }
mc_stat() { awk -v k="$2" '$1 == "STAT" && $2 == k {print $3}' <<<"$1"; }

# --- 1. Round trips per request -----------------------------------------------------------------

fresh_cookies
echo "== store commands per request, $CHECK_REQUESTS requests per way (one connection)" >&2
CHECK_TABLE="| way | responses | GET | SET | MGET | DEL | other Redis | memcached get | memcached set |
|---|---|---:|---:|---:|---:|---:|---:|---:|"
for way in "${SELECTED[@]}"; do
    before=$(redis_calls)
    mc_before=$(mc_stats)
    codes=$(curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: ${COOKIE[$way]}" \
        "http://$ADDR/$(path_of "$way")?n=[1-$CHECK_REQUESTS]" | sort | uniq -c |
        awk '{printf "%s%s×%s", sep, $1, $2; sep = ", "}')
    after=$(redis_calls)
    mc_after=$(mc_stats)
    per() { awk -v a="$1" -v b="$2" -v n="$CHECK_REQUESTS" 'BEGIN {printf "%.3f", (b - a) / n}'; }
    row="| $way | $codes"
    other_before=0
    other_after=0
    for cmd in get set mget del; do
        row="$row | $(per "$(calls_of "$before" "$cmd")" "$(calls_of "$after" "$cmd")")"
    done
    # Everything else, less the INFO that read the counters.
    other_before=$(awk '$1 !~ /^(get|set|mget|del|info)$/ {s += $2} END {print s + 0}' <<<"$before")
    other_after=$(awk '$1 !~ /^(get|set|mget|del|info)$/ {s += $2} END {print s + 0}' <<<"$after")
    row="$row | $(per "$other_before" "$other_after")"
    row="$row | $(per "$(mc_stat "$mc_before" cmd_get)" "$(mc_stat "$mc_after" cmd_get)")"
    row="$row | $(per "$(mc_stat "$mc_before" cmd_set)" "$(mc_stat "$mc_after" cmd_set)") |"
    CHECK_TABLE="$CHECK_TABLE
$row"
done

# The bytes each way keeps per session in Redis.
SIZES=""
for pattern in 'bench:s:*' 'floor:*' 'sealed-floor:*' 'fred-floor:*' 'bench-revoked:*'; do
    key=$(redis-cli -p "$REDIS_PORT" --scan --pattern "$pattern" | head -1)
    [ -n "$key" ] && SIZES="$SIZES ${pattern%\*}…=$(redis-cli -p "$REDIS_PORT" STRLEN "$key")B"
done
# tower-sessions' keys are bare ids.
key=$(redis-cli -p "$REDIS_PORT" --scan | grep -v ':' | head -1 || true)
[ -n "$key" ] && SIZES="$SIZES tower-sessions=$(redis-cli -p "$REDIS_PORT" STRLEN "$key")B"

# --- 2. Throughput ------------------------------------------------------------------------------

declare -A RPS SCPU RCPU MCPU P50 MEAN P99
to_us() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
        else print v }'
}

run() {
    local way=$1 connections=$2 seconds=$3 out s0 s1 r0 r1 m0 m1 requests
    s0=$(cpu_ticks "$SERVER_PID")
    r0=$(cpu_ticks "$REDIS_PID")
    m0=$(cpu_ticks "$MC_PID")
    out=$("${PIN_OTHERS[@]}" wrk -t1 -c"$connections" -d"${seconds}s" --latency \
        -H "Cookie: ${COOKIE[$way]}" "http://$ADDR/$(path_of "$way")")
    s1=$(cpu_ticks "$SERVER_PID")
    r1=$(cpu_ticks "$REDIS_PID")
    m1=$(cpu_ticks "$MC_PID")
    if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
        echo "$way: errors under load" >&2
        echo "$out" >&2
        tail -20 "$WORK/server.log" >&2
        exit 1
    fi
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    if [ "$connections" = 1 ]; then
        P50[$way]="${P50[$way]:-} $(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
        P99[$way]="${P99[$way]:-} $(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
        MEAN[$way]="${MEAN[$way]:-} $(to_us "$(awk '$1 == "Latency" && $2 != "Distribution" {print $2}' <<<"$out")")"
    else
        RPS[$way]="${RPS[$way]:-} $(awk '/Requests\/sec/ {print $2}' <<<"$out")"
        SCPU[$way]="${SCPU[$way]:-} $(us_per_request $((s1 - s0)) "$requests" 2)"
        RCPU[$way]="${RCPU[$way]:-} $(us_per_request $((r1 - r0)) "$requests" 2)"
        MCPU[$way]="${MCPU[$way]:-} $(us_per_request $((m1 - m0)) "$requests" 2)"
    fi
}

rounds() {
    local count=$1 connections=$2 seconds=$3 round i way
    for round in $(seq "$count"); do
        fresh_cookies
        # Rotate the order each round so no way always runs first or last.
        for i in "${!SELECTED[@]}"; do
            way=${SELECTED[$(((i + round) % ${#SELECTED[@]}))]}
            run "$way" "$connections" "$seconds"
        done
        echo "round $round of $count done (-c$connections)" >&2
    done
}

echo "== throughput: rounds=$ROUNDS seconds=$SECONDS_PER_RUN connections=$CONNECTIONS cpus=$(nproc) pinned=${PIN_SERVER[*]:-no}" >&2
rounds "$ROUNDS" "$CONNECTIONS" "$SECONDS_PER_RUN"
echo "== latency: one connection, rounds=$ROUNDS seconds=$LATENCY_SECONDS" >&2
rounds "$ROUNDS" 1 "$LATENCY_SECONDS"

# --- Report -------------------------------------------------------------------------------------

# The median over rounds of EXPR, computed per round from the lists a, b, c (same rounds).
per_round() {
    local expr=$1 a=$2 b=$3 c=${4:-}
    [ -z "$c" ] && c=$a
    paste -d' ' <(tr ' ' '\n' <<<"$a" | grep -v '^$') <(tr ' ' '\n' <<<"$b" | grep -v '^$') \
        <(tr ' ' '\n' <<<"$c" | grep -v '^$') |
        awk "{a = \$1; b = \$2; c = \$3; printf \"%.4f \", $expr}" | median |
        awk '{if ($1 == "-") print "-"; else printf "%.3f", $1}'
}
has() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

echo
echo "### Store commands per request ($CHECK_REQUESTS requests per way)"
echo
echo "$CHECK_TABLE"
echo
echo "Stored value sizes:${SIZES:- none}"
echo
echo "### Throughput ($ROUNDS rounds of ${SECONDS_PER_RUN} s, $CONNECTIONS connections)"
echo
echo "| way | median requests/s | per-round ratio to none | server CPU µs/request | redis CPU µs/request | memcached CPU µs/request | requests/s per round |"
echo "|---|---:|---:|---:|---:|---:|---|"
for way in "${SELECTED[@]}"; do
    echo "| $way | $(median <<<"${RPS[$way]}") | $(per_round 'a / b' "${RPS[$way]}" "${RPS[none]}") | $(median <<<"${SCPU[$way]}") | $(median <<<"${RCPU[$way]}") | $(median <<<"${MCPU[$way]}") | ${RPS[$way]# } |"
done
echo
echo "### Latency, one connection ($ROUNDS rounds of ${LATENCY_SECONDS} s; µs, medians over rounds)"
echo
echo "| way | p50 | mean | p99 |"
echo "|---|---:|---:|---:|"
for way in "${SELECTED[@]}"; do
    echo "| $way | $(median <<<"${P50[$way]}") | $(median <<<"${MEAN[$way]}") | $(median <<<"${P99[$way]}") |"
done

echo
echo "### Targets (medians of per-round values)"
echo
# Time per request is 1 / (requests/s), so the floor's requests/s over ours is ours over the
# floor's. "Added over none" subtracts the same round's no-session server CPU, leaving what the
# session (or the floor's commands) costs the server.
compare_floor() {
    local ours=$1 floor=$2
    has "$ours" && has "$floor" || return 0
    echo "- $ours vs $floor: time per request $(per_round 'b / a' "${RPS[$ours]}" "${RPS[$floor]}")× the floor's;" \
        "server CPU per request $(per_round 'a / b' "${SCPU[$ours]}" "${SCPU[$floor]}")× the floor's," \
        "added over none $(per_round '(a - c) / (b - c)' "${SCPU[$ours]}" "${SCPU[$floor]}" "${SCPU[none]}")×;" \
        "p50 on one connection $(per_round 'a / b' "${P50[$ours]}" "${P50[$floor]}")× (target ≤ 1.2×)"
}
compare_floor redis-write floor-write
compare_floor redis-read floor-read
compare_floor memcached-write memcached-floor-write
compare_floor memcached-read memcached-floor-read
compare_floor memcached-store-floor-write memcached-floor-write
compare_floor memcached-store-floor-read memcached-floor-read
compare_floor store-floor-write floor-write
compare_floor store-floor-read floor-read
# What the promises cost written inline, and our layer against that.
compare_floor sealed-floor-write floor-write
compare_floor sealed-floor-read floor-read
compare_floor redis-write sealed-floor-write
compare_floor redis-read sealed-floor-read
compare_floor memcached-sealed-floor-write memcached-floor-write
compare_floor memcached-sealed-floor-read memcached-floor-read
compare_floor memcached-write memcached-sealed-floor-write
compare_floor memcached-read memcached-sealed-floor-read
compare_floor tower-write floor-write
compare_floor tower-read floor-read
compare_floor tower-write fred-floor-write
compare_floor tower-read fred-floor-read
ahead() {
    local ours=$1 peer=$2
    has "$ours" && has "$peer" || return 0
    echo "- $ours vs $peer: requests/s $(per_round 'a / b' "${RPS[$ours]}" "${RPS[$peer]}")× (target > 1×)"
}
ahead redis-write tower-write
ahead redis-read tower-read
if has revocation-read && has cookie-read; then
    echo "- revocation-read vs cookie-read: requests/s $(per_round 'a / b' "${RPS[revocation-read]}" "${RPS[cookie-read]}")×," \
        "+$(per_round 'a - b' "${P50[revocation-read]}" "${P50[cookie-read]}") µs p50 and" \
        "+$(per_round 'a - b' "${MEAN[revocation-read]}" "${MEAN[cookie-read]}") µs mean on one connection," \
        "+$(per_round 'a - b' "${SCPU[revocation-read]}" "${SCPU[cookie-read]}") µs server CPU per request"
fi
if has revocation-write && has cookie-write; then
    echo "- revocation-write vs cookie-write: requests/s $(per_round 'a / b' "${RPS[revocation-write]}" "${RPS[cookie-write]}")×," \
        "+$(per_round 'a - b' "${P50[revocation-write]}" "${P50[cookie-write]}") µs p50 on one connection"
fi
if has revocation-subject-read && has revocation-read; then
    echo "- revocation-subject-read vs revocation-read (two keys in the MGET, not one): requests/s" \
        "$(per_round 'a / b' "${RPS[revocation-subject-read]}" "${RPS[revocation-read]}")×"
fi

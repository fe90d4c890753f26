#!/usr/bin/env bash
# HTTP load comparison on actix-web 4 (two workers), loopback: requests/s of the same handler
# with no session; the floor's codec work inline in an actix-web handler (open, change, seal,
# one cookie); our layer on actix-web (feature `actix`), sessions in cookies and in Redis; and
# actix-session with its cookie store and its Redis store. Every session route reads the
# reference session, changes `last_seen` and writes it back. Several interleaved rounds;
# medians, the median of each round's ratio to that round's no-session run, and the cookie
# value's length of each way.
#
# Usage: scripts/load-actix.sh [rounds] [seconds-per-run] [connections]
# Needs wrk (apt-get install wrk; installed when run as root on Debian), curl, redis-server and
# redis-cli (scripts/install-servers); a redis-server is started on a free port and stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
CONNECTIONS=${3:-32}

for bin in curl redis-server redis-cli; do
    command -v "$bin" >/dev/null || { echo "$bin is missing: scripts/install-servers" >&2; exit 1; }
done
# shellcheck source=lib/need.sh
. scripts/lib/need.sh
# shellcheck source=lib/rounds.sh
. scripts/lib/rounds.sh
need wrk wrk

cargo build --release -q -p session-benches --example actix-load-server
SERVER=target/release/examples/actix-load-server

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    stop_pids
    rm -rf "$WORK"
}
trap cleanup EXIT

REDIS_PORT=$(free_port)
"${PIN_OTHERS[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done

ADDR="127.0.0.1:$(free_port)"
"${PIN_SERVER[@]}" "$SERVER" "$ADDR" "redis://127.0.0.1:$REDIS_PORT/" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/server.log"

VARIANTS=(none floor ours actix-cookie ours-redis actix-redis)
declare -A COOKIE=([none]="theme=dark")
declare -A VALUE_LEN=([none]=0)
for variant in "${VARIANTS[@]:1}"; do
    # The first cookie of each way, from its /init route.
    pairs=$(cookies_from "$variant/init")
    [ -n "$pairs" ] || { echo "$variant: no first cookie" >&2; cat "$WORK/server.log" >&2; exit 1; }
    COOKIE[$variant]="theme=dark; $pairs"
    # The cookie values' length, names and separators left out.
    VALUE_LEN[$variant]=$(tr ';' '\n' <<<"$pairs" | sed 's/^ *[^=]*=//' | tr -d '\n' | wc -c)
done
declare -A RESULTS

wrk_rounds

echo "| handler | median requests/s | ratio to no session | ratio to the floor | cookie value (bytes) | runs |"
echo "|---|---:|---:|---:|---:|---|"
for variant in "${VARIANTS[@]}"; do
    m=$(median <<<"${RESULTS[$variant]}")
    to_none=$(awk -v r="$(ratios "${RESULTS[$variant]}" "${RESULTS[none]}" | median)" 'BEGIN {printf "%.3f", r}')
    to_floor=$(awk -v r="$(ratios "${RESULTS[$variant]}" "${RESULTS[floor]}" | median)" 'BEGIN {printf "%.3f", r}')
    echo "| $variant | $m | $to_none | $to_floor | ${VALUE_LEN[$variant]} | ${RESULTS[$variant]# } |"
done
# Ours against actix-session, per round, on the same store kind.
echo
for pair in "ours actix-cookie" "ours-redis actix-redis"; do
    read -r a b <<<"$pair"
    r=$(awk -v r="$(ratios "${RESULTS[$a]}" "${RESULTS[$b]}" | median)" 'BEGIN {printf "%.3f", r}')
    echo "$a / $b: median of per-round ratios $r"
done

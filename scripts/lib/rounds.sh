# Sourced by the load scripts: the statistics of interleaved rounds, each way's results a
# space-separated list with one value per round.

# The median of the numbers on stdin (space- or newline-separated); `-` when there are none.
median() {
    tr ' ' '\n' | grep -v '^$' | sort -g |
        awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# Per-round ratios of two lists of the same rounds, `$1 / $2`, as a list: throughput on a shared
# machine drifts between rounds, so a way is compared with another measured in the same round.
ratios() {
    paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') |
        awk '{printf "%.4f ", $1 / $2}'
}

# The server on CPU 0, the load generator (and any store servers) on CPU 1, when the machine
# has two CPUs and taskset: the server is then what limits throughput. Empty arrays otherwise.
PIN_SERVER=()
PIN_OTHERS=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_SERVER=(taskset -c 0)
    PIN_OTHERS=(taskset -c 1)
fi

# A free TCP port on the loopback interface.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Stops every process in PIDS (an array the caller fills as it starts them), by PID, and waits
# for each.
stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}

# Waits up to 10 s for a server's log ($1) to say it is listening; prints the log and stops the
# script if it never does.
wait_listening() {
    for _ in $(seq 100); do
        grep -q listening "$1" && return 0
        sleep 0.1
    done
    cat "$1" >&2
    exit 1
}

# The `name=value` pairs (`; `-separated) of the Set-Cookie lines that http://$ADDR/$1 answers
# with, removals left out: the first cookie of a way, from its init route.
cookies_from() {
    curl -s -D - -o /dev/null "http://$ADDR/$1" |
        tr -d '\r' |
        sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' |
        grep -v '=$' |
        paste -sd ';' - |
        sed 's/;/; /g'
}

# Microseconds per request of TICKS clock ticks ($1) of CPU over REQUESTS ($2), with DECIMALS
# ($3, default 3) decimals.
us_per_request() {
    awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" -v d="${3:-3}" \
        'BEGIN {printf "%.*f", d, t * 1e6 / hz / n}'
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat, counted
# after the command name, which may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# ROUNDS interleaved rounds of wrk, one run of SECONDS_PER_RUN s at CONNECTIONS connections per
# variant of VARIANTS against http://$ADDR/<variant> with the header `Cookie: ${COOKIE[variant]}`,
# the order rotated each round so no variant always runs first or last; each run's requests/s
# is appended to RESULTS[variant] (an associative array the caller declares). With SERVER_PID
# set, the server's CPU time (user + system) per request of each run, in µs, is appended to
# CPU_US[variant] (which the caller then declares too): steadier than requests/s on a shared
# host, since it does not count the time the server waits for the CPU. A run with a non-2xx
# response stops the script.
wrk_rounds() {
    local round i variant out rps c0 c1 requests
    echo "rounds=$ROUNDS seconds=$SECONDS_PER_RUN connections=$CONNECTIONS cpus=$(nproc) pinned=${PIN_SERVER[*]:-no}" >&2
    for round in $(seq "$ROUNDS"); do
        for i in "${!VARIANTS[@]}"; do
            variant=${VARIANTS[$(((i + round) % ${#VARIANTS[@]}))]}
            [ -n "${SERVER_PID:-}" ] && c0=$(cpu_ticks "$SERVER_PID")
            out=$("${PIN_OTHERS[@]}" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" \
                -H "Cookie: ${COOKIE[$variant]}" "http://$ADDR/$variant")
            if grep -q "Non-2xx" <<<"$out"; then
                echo "$variant: non-2xx responses" >&2
                echo "$out" >&2
                exit 1
            fi
            rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
            RESULTS[$variant]="${RESULTS[$variant]:-} $rps"
            if [ -n "${SERVER_PID:-}" ]; then
                c1=$(cpu_ticks "$SERVER_PID")
                requests=$(awk '/requests in/ {print $1}' <<<"$out")
                CPU_US[$variant]="${CPU_US[$variant]:-} $(us_per_request $((c1 - c0)) "$requests")"
            fi
        done
        echo "round $round done" >&2
    done
}

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

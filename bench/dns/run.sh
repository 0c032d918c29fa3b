#!/usr/bin/env bash
# DNS benchmark: certfleet's authority against NSD and Knot DNS, same zone, same queries, same
# machine, in one run.
#
# usage: bench/dns/run.sh BUILD_DIR
#   BENCH_SECONDS  measured seconds per server and round (default 10), after BENCH_WARMUP (3)
#   BENCH_ROUNDS   rounds, alternating the servers; the median round is reported (default 3)
#   BENCH_MODES    "one all" (default): one thread each pinned to BENCH_SERVER_CPU, then one
#                  thread per CPU each on every CPU
#   BENCH_RATE     queries per second of the fixed-rate latency runs (default 5000)
#   BENCH_LATENCY_SECONDS  their length (default 10); one a server and round, the median kept
#   BENCH_CLIENTS  dnsperf -c (default 4); BENCH_OUTSTANDING  dnsperf -q (default 100)
#   BENCH_NAMES    challenge names in the zone (default 10000)
#   BENCH_RSS_NAMES names for the memory measurement (default 100000)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU  cores for the servers and dnsperf (default 1 and 0)
#
# Zone acme.bench.test: SOA, NS, glue, and BENCH_NAMES TXT records shaped like DNS-01 values
# (43-character base64url) at 36-character labels. Queries: about 90% TXT hits, 5% NXDOMAIN,
# 5% SOA. No server limits its response rate (certfleet's and NSD's RRL off, Knot's module not
# loaded). In each mode the servers run side by side and are measured in alternating rounds, so
# that load from elsewhere on the machine hits them alike; dnsperf runs on BENCH_CLIENT_CPU (in
# mode "all" it shares the CPUs with the server: on a small machine that mode measures the
# whole machine, client included).
# Prints one `name value` figure a line, prefixed by the mode: queries per second, mean
# latency, lost queries, the NXDOMAIN share (a check that all serve the same data), the server's
# CPU time per query (what the server costs even when dnsperf is the bottleneck: see
# <name>_dnsperf_cpu_pct near 100), the 50th and 99th percentile latency at BENCH_RATE (mode
# "one"); then the three ratios of the goal, certfleet over the best of NSD and Knot:
# ratio_qps_<mode> (higher is better), ratio_cpu_per_query (lower is better) and
# ratio_p99_latency (lower is better); then certfleet's memory with BENCH_RSS_NAMES names. Every
# process started here is stopped by its PID. BENCH_KEEP=1 keeps the work directory (logs,
# dnsperf output). bench/dns/profile.sh shows where the time goes.
# Exit codes: 0 done; 1 a server or dnsperf failed to start or answered wrongly; 2 usage.
set -euo pipefail

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-3}
rss_names=${BENCH_RSS_NAMES:-100000}
modes=${BENCH_MODES:-one all}
rate=${BENCH_RATE:-5000}
latency_seconds=${BENCH_LATENCY_SECONDS:-10}

# shellcheck source=bench/dns/lib.sh
source "$(dirname "$0")/lib.sh"
bench_args "$@"
bench_setup

# The zone and the query file.
records "$names" "$work/records.zone"
queries "$work/records.zone" "$work/queries.txt"
sample_name=$(awk 'NR == 1 { print $1 }' "$work/records.zone").$apex
sample_value=$(awk -F'"' 'NR == 1 { print "\"" $2 "\"" }' "$work/records.zone")

servers=(certfleet nsd knot)
rounds=${BENCH_ROUNDS:-3}
for mode in $modes; do
    for name in "${servers[@]}"; do
        dir=$work/$mode/$name
        mkdir -p "$dir"
        cp "$work/records.zone" "$dir/records.zone"
        start "$name" "$dir"
        answer=$(dig +short +time=2 +tries=1 -p "${port[$name]}" @127.0.0.1 "$sample_name" TXT)
        [ "$answer" = "$sample_value" ] || fail "$name answered '$answer' for $sample_name TXT, not $sample_value"
        measure "$name" "$warmup" "$dir/warmup.txt"
    done
    for round in $(seq 1 "$rounds"); do
        for name in "${servers[@]}"; do
            measure "$name" "$seconds" "$work/$mode/$name/round$round.txt"
        done
    done
    if [ "$mode" = one ]; then
        # The fixed-rate latency in rounds as well, alternating the servers: the tail of a single
        # run is at the mercy of whatever else the machine did in those seconds.
        for round in $(seq 1 "$rounds"); do
            for name in "${servers[@]}"; do
                latency "$name" "$latency_seconds" "$rate" "$work/$mode/$name/latency$round.txt"
            done
        done
    fi
    for name in "${servers[@]}"; do
        summary "$name" "$work/$mode/$name"/round*.txt >"$work/$mode/$name/summary.txt"
        if [ "$mode" = one ]; then
            median_latency "$name" "$work/$mode/$name"/latency*.txt >>"$work/$mode/$name/summary.txt"
        fi
        sed "s/^/${mode}_/" "$work/$mode/$name/summary.txt" | tee -a "$work/figures.txt"
        stop_server "$name"
    done
done

# The goal's ratios: certfleet against the best of the others in each figure.
awk '
    function better_max(a, b) { return a > b ? a : b }
    { value[$1] = $2 }
    END {
        for (m = 1; m <= 2; m++) {
            mode = m == 1 ? "one" : "all";
            if (!((mode "_certfleet_qps") in value)) continue;
            best = better_max(value[mode "_nsd_qps"], value[mode "_knot_qps"]);
            printf "ratio_qps_%s %.2f\n", mode == "one" ? "one_thread" : "all_cores",
                (best > 0 ? value[mode "_certfleet_qps"] / best : 0);
        }
        mode = ("one_certfleet_server_cpu_us_per_query" in value) ? "one" : "all";
        n = value[mode "_nsd_server_cpu_us_per_query"];
        k = value[mode "_knot_server_cpu_us_per_query"];
        best = (n > 0 && (k <= 0 || n < k)) ? n : k;
        printf "ratio_cpu_per_query %.2f\n", (best > 0 ? value[mode "_certfleet_server_cpu_us_per_query"] / best : 0);
        if ("one_certfleet_p99_latency_ms" in value) {
            n = value["one_nsd_p99_latency_ms"];
            k = value["one_knot_p99_latency_ms"];
            best = (n > 0 && (k <= 0 || n < k)) ? n : k;
            printf "ratio_p99_latency %.2f\n", (best > 0 ? value["one_certfleet_p99_latency_ms"] / best : 0);
        }
    }' "$work/figures.txt"

# Memory: certfleet serving BENCH_RSS_NAMES names, after answering each of them once.
dir=$work/rss
mkdir -p "$dir"
records "$rss_names" "$dir/records.zone"
start certfleet "$dir"
awk -v apex="$apex" '{ printf "%s.%s TXT\n", $1, apex }' "$dir/records.zone" >"$dir/queries.txt"
taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[certfleet]}" -d "$dir/queries.txt" -n 1 \
    -q 100 >"$dir/dnsperf.txt" 2>&1 || fail "dnsperf against the ${rss_names}-name zone failed"
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/${pid[certfleet]}/status")
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/${pid[certfleet]}/status")
stop_server certfleet
awk -v r="$rss_kib" -v h="$hwm_kib" -v n="$rss_names" 'BEGIN {
    printf "certfleet_rss_mib_%dk_names %.1f\n", n / 1000, r / 1024;
    printf "certfleet_hwm_mib_%dk_names %.1f\n", n / 1000, h / 1024;
    printf "certfleet_rss_under_64mib %s\n", (r / 1024 < 64 ? "yes" : "no");
}'

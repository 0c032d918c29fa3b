#!/usr/bin/env bash
# DNS benchmark: certfleet's authority against NSD, same zone, same queries, same machine.
#
# usage: bench/dns/run.sh BUILD_DIR
#   BENCH_SECONDS  measured seconds per server and round (default 10), after BENCH_WARMUP (3)
#   BENCH_ROUNDS   rounds, alternating the servers; the median round is reported (default 3)
#   BENCH_CLIENTS  dnsperf -c (default 4); BENCH_OUTSTANDING  dnsperf -q (default 100)
#   BENCH_NAMES    challenge names in the zone (default 10000)
#   BENCH_RSS_NAMES names for the memory measurement (default 100000)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU  cores for the servers and dnsperf (default 1 and 0)
#
# Zone acme.bench.test: SOA, NS, glue, and BENCH_NAMES TXT records shaped like DNS-01 values
# (43-character base64url) at 36-character labels. Queries: about 90% TXT hits, 5% NXDOMAIN,
# 5% SOA. Each server runs one thread (certfleet's io_context, NSD server-count 1) pinned to
# BENCH_SERVER_CPU; dnsperf runs on BENCH_CLIENT_CPU. Both servers run side by side and are
# measured in alternating rounds, so that load from elsewhere on the machine hits both alike.
# Prints one `name value` figure a line: queries per second, mean latency, lost queries, the
# NXDOMAIN share (a check that both serve the same data), the server's CPU time per query (what
# the server costs even when dnsperf is the bottleneck: see <name>_dnsperf_cpu_pct near 100);
# then certfleet's memory with BENCH_RSS_NAMES names. Every process started here is stopped by
# its PID. BENCH_KEEP=1 keeps the work directory (logs, dnsperf output). bench/dns/profile.sh
# shows where the time goes.
# Exit codes: 0 done; 1 a server or dnsperf failed to start or answered wrongly; 2 usage.
set -euo pipefail

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-3}
rss_names=${BENCH_RSS_NAMES:-100000}

# shellcheck source=bench/dns/lib.sh
source "$(dirname "$0")/lib.sh"
bench_args "$@"
bench_setup

# The zone and the query file.
records "$names" "$work/records.zone"
queries "$work/records.zone" "$work/queries.txt"
sample_name=$(awk 'NR == 1 { print $1 }' "$work/records.zone").$apex
sample_value=$(awk -F'"' 'NR == 1 { print "\"" $2 "\"" }' "$work/records.zone")

servers=(certfleet nsd)
for name in "${servers[@]}"; do
    mkdir -p "$work/$name"
    cp "$work/records.zone" "$work/$name/records.zone"
    start "$name" "$work/$name"
    answer=$(dig +short +time=2 +tries=1 -p "${port[$name]}" @127.0.0.1 "$sample_name" TXT)
    [ "$answer" = "$sample_value" ] || fail "$name answered '$answer' for $sample_name TXT, not $sample_value"
    measure "$name" "$warmup" "$work/$name/warmup.txt"
done
rounds=${BENCH_ROUNDS:-3}
for round in $(seq 1 "$rounds"); do
    for name in "${servers[@]}"; do
        measure "$name" "$seconds" "$work/$name/round$round.txt"
    done
done
for name in "${servers[@]}"; do
    summary "$name" "$work/$name"/round*.txt | tee "$work/$name/summary.txt"
    stop_server "$name"
done
awk '$1 == "certfleet_qps" { a = $2 } $1 == "nsd_qps" { b = $2 }
    END { printf "ratio_qps_certfleet_over_nsd %.2f\n", (b > 0 ? a / b : 0) }' "$work"/*/summary.txt

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

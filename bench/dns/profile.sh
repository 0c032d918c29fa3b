#!/usr/bin/env bash
# Where the DNS servers' time goes, with the zone and queries of bench/dns/run.sh.
#
# usage: bench/dns/profile.sh BUILD_DIR
#   PROFILE_SECONDS    full-load seconds per server for perf (default 8)
#   PROFILE_QPS        query rate of the callgrind run (default 3000, for PROFILE_SECONDS)
#
# 1. perf stat (software events and syscall tracepoints; no hardware counters needed) on every
#    process of certfleet, then of NSD, during a full-load dnsperf run: system calls, epoll
#    waits, recvmmsg/sendmmsg calls, context switches and CPU time, each per query.
# 2. perf record -e cpu-clock -g on certfleet: the top symbols, kernel and user.
# 3. valgrind --tool=callgrind on certfleet at PROFILE_QPS: instructions per query of the
#    functions on the UDP path (respond, write_name, matches_at, lowered, ...).
# Writes figures as `name value` lines and leaves the reports in the printed directory.
set -euo pipefail

seconds=${PROFILE_SECONDS:-8}
rate=${PROFILE_QPS:-3000}

# shellcheck source=bench/dns/lib.sh
source "$(dirname "$0")/lib.sh"
bench_args "$@"
BENCH_KEEP=1 # the reports are the point
bench_setup perf valgrind callgrind_annotate

records "$names" "$work/records.zone"
queries "$work/records.zone" "$work/queries.txt"

events=task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_recvmmsg
events+=,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
events+=,syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_epoll_wait
events+=,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_futex

for name in certfleet nsd; do
    dir=$work/$name
    mkdir -p "$dir"
    cp "$work/records.zone" "$dir/records.zone"
    start "$name" "$dir"
    targets=$(descendants "${pid[$name]}" | tr '\n' ',')${pid[$name]}
    perf stat -x, -e "$events" -p "$targets" -o "$dir/perf-stat.csv" -- sleep "$seconds" &
    stat_pid=$!
    if [ "$name" = certfleet ]; then
        perf record -q -e cpu-clock -F 2000 -g -p "${pid[$name]}" -o "$dir/perf.data" -- sleep "$seconds" \
            >/dev/null 2>&1 &
        record_pid=$!
    fi
    taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$name]}" -d "$work/queries.txt" \
        -l "$seconds" -c "$clients" -T 1 -q "$outstanding" -t 2 >"$dir/dnsperf.txt" 2>&1 ||
        fail "dnsperf against $name failed"
    wait "$stat_pid"
    if [ "$name" = certfleet ]; then
        wait "$record_pid"
    fi
    stop_server "$name"
    completed=$(awk '/Queries completed:/ { print $3 }' "$dir/dnsperf.txt")
    echo "${name}_profile_qps $(awk '/Queries per second:/ { printf "%.0f", $4 }' "$dir/dnsperf.txt")"
    awk -F, -v p="$name" -v n="$completed" '
        $3 ~ /task-clock/ { printf "%s_cpu_us_per_query %.2f\n", p, 1000 * $1 / n }
        $3 ~ /context-switches/ { printf "%s_context_switches_per_query %.3f\n", p, $1 / n }
        $3 ~ /raw_syscalls/ { printf "%s_syscalls_per_query %.3f\n", p, $1 / n }
        $3 ~ /syscalls:sys_enter_/ && $1 > 0 {
            e = $3; sub(/.*sys_enter_/, "", e); printf "%s_%s_per_query %.3f\n", p, e, $1 / n
        }' "$dir/perf-stat.csv"
done

echo "# certfleet, perf record -e cpu-clock: top symbols (self)"
perf report -i "$work/certfleet/perf.data" --stdio --no-children --sort dso 2>/dev/null |
    grep -E '^ +[0-9.]+%' | sed 's/ *$//' || true
perf report -i "$work/certfleet/perf.data" --stdio --no-children --sort symbol 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -25 | cut -c1-140 | sed 's/ *$//' || true

# Instruction counts of the UDP path, at a rate callgrind keeps up with; instrumentation starts
# once the zone is loaded (callgrind_control -i on).
dir=$work/callgrind
mkdir -p "$dir"
cp "$work/records.zone" "$dir/records.zone"
port[callgrind]=$(free_port)
configure_certfleet "$dir" "${port[callgrind]}"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
    "$certfleet" serve --config "$dir/certfleet.toml" >"$dir/server.log" 2>&1 &
pid[callgrind]=$!
for _ in $(seq 1 300); do
    dig +short +time=1 +tries=1 -p "${port[callgrind]}" @127.0.0.1 "$apex" SOA 2>/dev/null |
        grep -q hostmaster && break
    sleep 0.2
done
callgrind_control -i on "${pid[callgrind]}" >/dev/null 2>&1
dnsperf -s 127.0.0.1 -p "${port[callgrind]}" -d "$work/queries.txt" -l "$seconds" -Q "$rate" \
    -c "$clients" -q 20 -t 3 >"$dir/dnsperf.txt" 2>&1 || fail "dnsperf against callgrind failed"
stop_server callgrind
completed=$(awk '/Queries completed:/ { print $3 }' "$dir/dnsperf.txt")
callgrind_annotate --inclusive=yes "$dir/callgrind.out" >"$dir/inclusive.txt" 2>/dev/null
callgrind_annotate --inclusive=no "$dir/callgrind.out" >"$dir/self.txt" 2>/dev/null
echo "# certfleet, callgrind at $rate queries/s: instructions per query ($completed queries)"
awk -v n="$completed" '
    BEGIN {
        split("udp_listener::drain() dns::respond( writer::write_name( writer::matches_at(" \
              " wire_name::lowered() catalog::find_zone( zone::find( visit_txt" \
              " challenge_records::name_exists( reader::decode_name( std::_Hash_bytes" \
              " udp_listener::wait() epoll_reactor::run(", wanted, " ")
    }
    /PROGRAM TOTALS/ { gsub(/,/, "", $1); printf "  total     %7.0f\n", $1 / n }
    {
        for (i in wanted) {
            if (!(i in seen) && index($0, wanted[i])) {
                seen[i] = 1; ir = $1; gsub(/,/, "", ir)
                printf "  inclusive %7.0f  %s\n", ir / n, wanted[i]
            }
        }
    }' "$dir/inclusive.txt"
echo "reports: $work"

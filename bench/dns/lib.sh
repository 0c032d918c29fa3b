# Shared by bench/dns/run.sh and bench/dns/profile.sh (sourced, not run): the zone and query
# generators, the certfleet, NSD and Knot configurations, and starting and stopping servers by
# PID.
# shellcheck shell=bash disable=SC2154

fail() {
    echo "bench: $*" >&2
    exit 1
}

# bench_args BUILD_DIR: the binary and the settings both scripts share (environment overrides).
bench_args() {
    if [ $# -ne 1 ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
    fi
    build_dir=$(cd "$1" && pwd)
    certfleet=$build_dir/src/app/certfleet
    clients=${BENCH_CLIENTS:-4}
    outstanding=${BENCH_OUTSTANDING:-100}
    names=${BENCH_NAMES:-10000}
    server_cpu=${BENCH_SERVER_CPU:-1}
    client_cpu=${BENCH_CLIENT_CPU:-0}
    apex=acme.bench.test
    # Set by the caller before start: one server thread pinned to $server_cpu ("one"), or one
    # thread per CPU on every CPU ("all").
    mode=one
}

# server_threads: the threads each server runs in the current mode.
server_threads() {
    if [ "$mode" = all ]; then nproc; else echo 1; fi
}

# bench_setup [TOOL...]: checks the tools (and TOOLs), makes the work directory ($work) and
# stops every server started here on exit.
# shellcheck disable=SC2120
bench_setup() {
    local tool
    for tool in nsd knotd dnsperf dig taskset "$@"; do
        command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-deps.sh all)"
    done
    [ -x "$certfleet" ] || fail "$certfleet not built (make build)"
    if [ "$(nproc)" -lt 2 ]; then
        server_cpu=0
        echo "bench: one CPU only: server and dnsperf share it" >&2
    fi
    work=$(mktemp -d /tmp/certfleet-bench.XXXXXX)
    trap cleanup EXIT
}

declare -A pid port # by server name: the processes started here, and their ports
cleanup() {
    local name
    for name in "${!pid[@]}"; do
        stop_server "$name"
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: work files kept in $work" >&2
    else
        rm -rf "$work"
    fi
}

# queries ZONE_RECORDS OUT: 100,000 queries, about 90% TXT at the challenge names, 5% TXT at
# names that do not exist, 5% SOA at the apex.
queries() {
    awk -v apex="$apex" 'BEGIN { srand(7) }
        { label[NR] = $1 }
        END {
            for (i = 0; i < 100000; i++) {
                r = rand();
                if (r < 0.90) printf "%s.%s TXT\n", label[int(rand() * NR) + 1], apex;
                else if (r < 0.95) printf "missing-%d.%s TXT\n", int(rand() * 1000000), apex;
                else printf "%s SOA\n", apex;
            }
        }' "$1" >"$2"
}

# A port free for both UDP and TCP on 127.0.0.1 (nothing bound to it in /proc/net).
free_port() {
    local candidate hex
    for _ in $(seq 1 200); do
        candidate=$((20000 + RANDOM % 40000))
        hex=$(printf ':%04X ' "$candidate")
        if ! grep -qi "$hex" /proc/net/udp /proc/net/tcp /proc/net/udp6 /proc/net/tcp6 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    fail "no free port found"
}

# records COUNT FILE: COUNT challenge TXT records, one `label ttl IN TXT "value"` a line, in the
# zone-file subset both certfleet (records_file) and NSD read. Deterministic (fixed seed).
records() {
    awk -v n="$1" 'BEGIN {
        srand(20240601);
        hex = "0123456789abcdef";
        b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (i = 0; i < n; i++) {
            label = "";
            for (j = 0; j < 32; j++) {
                label = label substr(hex, int(rand() * 16) + 1, 1);
                if (j == 7 || j == 11 || j == 15 || j == 19) label = label "-";
            }
            value = "";
            for (j = 0; j < 43; j++) value = value substr(b64, int(rand() * 64) + 1, 1);
            printf "%s 10 IN TXT \"%s\"\n", label, value;
        }
    }' >"$2"
}

# configure_certfleet DIR PORT: certfleet.toml serving DIR/records.zone. Rate limiting off, as
# for NSD and Knot: a benchmark is one source asking as fast as it can.
configure_certfleet() {
    cat >"$1/certfleet.toml" <<TOML
[dns]
listen = ["127.0.0.1:$2"]
threads = $(server_threads)

[dns.rate_limit]
enabled = false

[[dns.zone]]
apex = "$apex"
ttl = 300
soa = { mname = "ns1", rname = "hostmaster.$apex.", serial = 1, refresh = 3600, retry = 600, expire = 1209600, minimum = 10 }
ns = [ { name = "ns1", addresses = ["127.0.0.1"] } ]
records_file = "records.zone"
TOML
}

# master_zone DIR: DIR/$apex.zone, the zone for NSD and Knot, with the SOA, NS and glue that
# certfleet derives from its configuration.
master_zone() {
    {
        echo "\$ORIGIN $apex."
        echo "\$TTL 300"
        echo "@ 300 IN SOA ns1.$apex. hostmaster.$apex. 1 3600 600 1209600 10"
        echo "@ 300 IN NS ns1"
        echo "ns1 300 IN A 127.0.0.1"
        cat "$1/records.zone"
    } >"$1/$apex.zone"
}

# configure_nsd DIR PORT: the same zone for NSD.
configure_nsd() {
    local dir=$1
    master_zone "$dir"
    cat >"$dir/nsd.conf" <<CONF
server:
    server-count: $(server_threads)
    reuseport: yes
    ip-address: 127.0.0.1@$2
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    hide-version: yes
    # Like certfleet: no NS RRset in the authority section of positive answers, and no response
    # rate limiting (NSD's default RRL would drop most of a benchmark's answers).
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "$apex"
    zonefile: "$apex.zone"
CONF
}

# configure_knot DIR PORT: the same zone for Knot DNS; its rate limiting (mod-rrl) is not
# loaded, and its answers are minimal like certfleet's.
configure_knot() {
    local dir=$1
    master_zone "$dir"
    mkdir -p "$dir/db"
    cat >"$dir/knot.conf" <<CONF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$2
    udp-workers: $(server_threads)
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$dir/knot.sock"
database:
    storage: "$dir/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$dir"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $apex
    file: "$apex.zone"
CONF
}

# start NAME DIR: starts certfleet, nsd or knot on a free port (pinned to the server CPU in mode
# "one"), and waits until it answers SOA at the apex (30 s at most).
start() {
    local name=$1 dir=$2 cpus=$server_cpu
    if [ "$mode" = all ]; then
        cpus=0-$(($(nproc) - 1))
    fi
    port[$name]=$(free_port)
    "configure_$name" "$dir" "${port[$name]}"
    case $name in
        certfleet) taskset -c "$cpus" "$certfleet" serve --config "$dir/certfleet.toml" \
            >"$dir/server.log" 2>&1 & ;;
        nsd) taskset -c "$cpus" nsd -d -c "$dir/nsd.conf" >"$dir/server.log" 2>&1 & ;;
        knot) taskset -c "$cpus" knotd -c "$dir/knot.conf" >"$dir/server.log" 2>&1 & ;;
    esac
    pid[$name]=$!
    for _ in $(seq 1 300); do
        kill -0 "${pid[$name]}" 2>/dev/null || fail "$name exited during start-up: $(tail -3 "$dir/server.log")"
        if dig +short +time=1 +tries=1 -p "${port[$name]}" @127.0.0.1 "$apex" SOA 2>/dev/null |
            grep -q hostmaster; then
            if [ "$mode" = one ]; then
                pin_threads "$name" "$cpus"
            fi
            return 0
        fi
        sleep 0.1
    done
    fail "$name did not answer within 30 s"
}

# pin_threads NAME CPUS: every thread of NAME's processes on CPUS. Knot binds its UDP workers
# to CPUs itself (worker i on CPU i), overriding taskset: without this its worker would share
# dnsperf's CPU in mode "one" (a shorter wake-up path, and a busier CPU) while the others run
# on the server CPU.
pin_threads() {
    local p t
    for p in "${pid[$1]}" $(descendants "${pid[$1]}"); do
        for t in /proc/"$p"/task/*; do
            taskset -p -c "$2" "${t##*/}" >/dev/null 2>&1 || true
        done
    done
}

# descendants PID: the processes below PID (NSD forks its main and server processes).
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1"); do
        echo "$child"
        descendants "$child"
    done
}

stop_server() {
    local p below
    below=$(descendants "${pid[$1]}")
    kill "${pid[$1]}" 2>/dev/null || true
    wait "${pid[$1]}" 2>/dev/null || true
    for p in $below; do
        kill "$p" 2>/dev/null || true # normally gone with their parent already
    done
    unset "pid[$1]"
}

# cpu_ticks NAME: user+system clock ticks of the server and every process below it.
cpu_ticks() {
    local total=0 p
    for p in "${pid[$1]}" $(descendants "${pid[$1]}"); do
        # utime and stime, counted after the command name, which may hold spaces.
        total=$((total + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}

# measure NAME SECONDS OUT: one dnsperf run against NAME; appends the server's CPU ticks to OUT.
measure() {
    local name=$1 before
    local TIMEFORMAT='client_cpu_seconds %R %U %S' # real, user, system of dnsperf
    before=$(cpu_ticks "$name")
    { time taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$name]}" \
        -d "$work/queries.txt" -l "$2" -c "$clients" -T 1 -q "$outstanding" -t 2 >"$3" 2>&1; } \
        2>"$3.time" || fail "dnsperf against $name failed: $(tail -3 "$3")"
    echo "server_cpu_ticks $(($(cpu_ticks "$name") - before))" >>"$3"
    cat "$3.time" >>"$3"
}

# latency NAME SECONDS RATE OUT: dnsperf at a fixed RATE of queries per second, one query a
# line (-v); appends the 50th and 99th percentile latencies in milliseconds to OUT.
latency() {
    local name=$1
    taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$name]}" -d "$work/queries.txt" \
        -l "$2" -Q "$3" -c 1 -T 1 -q 100 -t 2 -v >"$4.raw" 2>&1 ||
        fail "dnsperf (fixed rate) against $name failed: $(tail -3 "$4.raw")"
    awk '$1 == ">" { print $NF * 1000 }' "$4.raw" | sort -n | awk -v p="$name" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print p "_p50_latency_ms 0"; print p "_p99_latency_ms 0"; exit }
            i50 = int(NR * 0.50); if (i50 < 1) i50 = 1;
            i99 = int(NR * 0.99); if (i99 < 1) i99 = 1;
            printf "%s_p50_latency_ms %.4f\n", p, v[i50];
            printf "%s_p99_latency_ms %.4f\n", p, v[i99];
        }' >>"$4"
    rm -f "$4.raw"
}

# median_latency NAME FILE...: the median of NAME's latency runs, for p50 and p99 apiece.
median_latency() {
    local name=$1 p key
    shift
    for p in p50 p99; do
        key=${name}_${p}_latency_ms
        awk -v k="$key" '$1 == k { print $2 }' "$@" | sort -n |
            awk -v k="$key" '{ v[NR] = $1 } END { printf "%s %.4f\n", k, (NR ? v[int((NR + 1) / 2)] : 0) }'
    done
}

# summary NAME FILE...: the median run (by queries per second) of NAME, as figures.
summary() {
    local name=$1 median
    shift
    median=$(for f in "$@"; do echo "$(awk '/Queries per second:/ { print $4 }' "$f") $f"; done |
        sort -n | awk '{ line[NR] = $2 } END { print line[int((NR + 1) / 2)] }')
    awk -v p="$name" -v hz="$(getconf CLK_TCK)" '
        /Queries sent:/ { sent = $3 }
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $3 }
        /Response codes:/ {
            for (i = 3; i < NF; i++) if ($i == "NXDOMAIN") { nx = $(i + 2); gsub(/[(),%]/, "", nx) }
        }
        /Run time/ { secs = $4 }
        /Queries per second:/ { qps = $4 }
        /Average Latency/ { lat = $4 * 1000 }
        /^server_cpu_ticks/ { ticks = $2 }
        /^client_cpu_seconds/ { client = ($2 > 0 ? 100 * ($3 + $4) / $2 : 0) }
        END {
            printf "%s_qps %.0f\n", p, qps;
            printf "%s_mean_latency_ms %.3f\n", p, lat;
            printf "%s_lost_pct %.3f\n", p, (sent ? 100 * lost / sent : 100);
            printf "%s_nxdomain_pct %.2f\n", p, nx + 0;
            printf "%s_server_cpu_pct %.0f\n", p, (secs ? 100 * ticks / hz / secs : 0);
            printf "%s_server_cpu_us_per_query %.2f\n", p, (done ? 1e6 * ticks / hz / done : 0);
            printf "%s_dnsperf_cpu_pct %.0f\n", p, client;
        }' "$median"
}


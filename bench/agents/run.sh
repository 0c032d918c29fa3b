#!/usr/bin/env bash
# bench/agents: 1,000 and 10,000 agents (BENCH_AGENTS) long-polling one `certfleet serve` on
# loopback, simulated in one process (each its own P-256 identity, TLS connection and signed
# requests). For each size, one figure a line: the server's resident memory while every agent
# waits in a poll, and the time from a renewal (a new certificate version in the store) until
# every agent has received and verified the new bundle (all, p50, p99); then the ratios against
# the goal (10,000 agents under 300 MiB, all served within 10 s).
set -euo pipefail
build=$(cd "${1:-build/default}" && pwd)
certfleet=$build/src/app/certfleet
bench=$build/bench/agents/bench_agents
# One descriptor per agent in each process (the hard limit may be lower than the wish).
ulimit -n "$(( $(ulimit -Hn) < 65536 ? $(ulimit -Hn) : 65536 ))"
# The simulator (not the server) runs on jemalloc: ten thousand TLS connections in one thread
# spent a quarter of its time in glibc's malloc, and the delivery figure measured the simulator.
sim_malloc=$(/sbin/ldconfig -p | awk '/libjemalloc\.so\.2 / { found = $NF } END { print found }')
if [ -z "$sim_malloc" ]; then
    echo "bench/agents: libjemalloc2 is missing: run scripts/install-deps.sh" >&2
    exit 1
fi
work=$(mktemp -d -t certfleet-agents-bench.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
free_port() {
    local port
    while :; do
        port=$(( (RANDOM << 1 | RANDOM & 1) % 30000 + 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench/agents: nothing listens on $1" >&2
    exit 1
}

for n in ${BENCH_AGENTS:-1000 10000}; do
    dir=$work/cf-$n
    dns_port=$(free_port); api_port=$(free_port)
    "$certfleet" init --dir "$dir" --listen "127.0.0.1:$dns_port" \
        --api-listen "127.0.0.1:$api_port" --directory "https://127.0.0.1:1/dir" >/dev/null
    # Room for every agent's connection (they come from many loopback source addresses, as the
    # server holds at most 256 connections per address).
    sed -i 's/^\[api\].*/&\nmax_connections = 20000/' "$dir/certfleet.toml"
    certificate=$("$bench" seed "$dir/certfleet.toml" "$n" "$work/tokens-$n")
    "$certfleet" serve --config "$dir/certfleet.toml" 2>"$work/serve-$n.log" &
    pid=$!
    wait_port "$api_port"
    if ! LD_PRELOAD=$sim_malloc "$bench" run "$dir/certfleet.toml" 127.0.0.1 "$api_port" \
        "$work/tokens-$n" "$certificate" "$pid"; then
        echo "bench/agents: the run with $n agents failed; the server's log ends with:" >&2
        tail -5 "$work/serve-$n.log" >&2
        exit 1
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done

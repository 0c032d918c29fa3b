#!/usr/bin/env bash
# make demo: certfleet's job, offline, end to end on loopback.
#   1. serves the delegated challenge zone on its embedded defaults and answers dig;
#   2. issues a two-name certificate from Pebble (Let's Encrypt's test CA) with DNS-01 answered
#      by certfleet's own DNS, reached through the customer's one-time CNAME, resolved by unbound
#      like a CA's resolver does; then checks the chain with openssl.
# Every server is started here on free loopback ports and stopped by its PID.
set -euo pipefail

build=${1:-build/default}
certfleet="$build/src/app/certfleet"
work=$(mktemp -d -t certfleet-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -n "${CERTFLEET_KEEP_DEMO:-}" ] && echo "demo files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# A loopback port that nothing listens on (TCP checked; UDP follows the same port).
free_port() {
    local port
    while :; do
        port=$(( (RANDOM << 1 | RANDOM & 1) % 30000 + 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

wait_port() { # port, pid, name
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || { echo "$3 exited; its log:" >&2; cat "$work/$3.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$3 did not start listening on port $1" >&2
    exit 1
}

step "1. certfleet serves the delegated zone (embedded defaults, acme.example.net)"
serve_port=$(free_port)
"$certfleet" serve --listen "127.0.0.1:$serve_port" 2>"$work/serve.log" &
pids+=($!)
wait_port "$serve_port" "$!" serve
dig +norec +nocmd +nostats @127.0.0.1 -p "$serve_port" acme.example.net SOA | sed -n '/HEADER/,$p'
dig +short @127.0.0.1 -p "$serve_port" _about.acme.example.net TXT
kill "${pids[-1]}"

step "2. the customer's zone (NSD): one CNAME per name, set once"
nsd_port=$(free_port); dns_port=$(free_port); unbound_port=$(free_port)
pebble_port=$(free_port); pebble_mgmt=$(free_port)
cat > "$work/customer.test.zone" <<ZONE
\$ORIGIN customer.test.
\$TTL 1
@ IN SOA ns1 hostmaster 1 3600 600 86400 1
@ IN NS ns1
ns1 IN A 127.0.0.1
_acme-challenge.www IN CNAME www.acme.delegated.test.
_acme-challenge.api IN CNAME api.acme.delegated.test.
ZONE
cat > "$work/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$nsd_port
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$work"
    database: ""
    zonelistfile: "$work/nsd.zonelist"
    xfrdfile: "$work/nsd.xfrd"
    pidfile: "$work/nsd.pid"
    logfile: "$work/nsd.log"
remote-control:
    control-enable: no
zone:
    name: customer.test
    zonefile: customer.test.zone
CONF
nsd -d -c "$work/nsd.conf" >>"$work/nsd.log" 2>&1 &
pids+=($!)
wait_port "$nsd_port" "$!" nsd
grep -v '^\$\|SOA\|NS\|^ns1' "$work/customer.test.zone"

step "3. unbound: the CA's recursive resolver, following the CNAME into certfleet's zone"
cat > "$work/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $unbound_port
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: "$work/unbound.pid"
    use-syslog: no
    logfile: ""
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    qname-minimisation: no
    local-zone: "test." static
    local-zone: "customer.test." transparent
    local-zone: "acme.delegated.test." transparent
remote-control:
    control-enable: no
stub-zone:
    name: "customer.test."
    stub-addr: 127.0.0.1@$nsd_port
stub-zone:
    name: "acme.delegated.test."
    stub-addr: 127.0.0.1@$dns_port
CONF
unbound -d -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
pids+=($!)
wait_port "$unbound_port" "$!" unbound

step "4. certfleet checks the delegation through that resolver"
"$certfleet" domain check www.customer.test --expect www.acme.delegated.test --resolver "127.0.0.1:$unbound_port"

step "5. Pebble, the ACME test CA, validating through unbound"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/https-ca.key" \
    -out "$work/https-ca.pem" -days 1 -subj "/CN=demo HTTPS CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/pebble.key" \
    -out "$work/pebble.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/pebble.csr" -CA "$work/https-ca.pem" -CAkey "$work/https-ca.key" \
    -CAcreateserial -out "$work/pebble.pem" -days 1 -extfile "$work/ext.cnf" 2>/dev/null
cat > "$work/pebble.json" <<CONF
{"pebble": {"listenAddress": "127.0.0.1:$pebble_port", "managementListenAddress": "127.0.0.1:$pebble_mgmt",
 "certificate": "$work/pebble.pem", "privateKey": "$work/pebble.key", "httpPort": $(free_port),
 "tlsPort": $(free_port), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
CONF
PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 pebble -config "$work/pebble.json" -dnsserver "127.0.0.1:$unbound_port" \
    >"$work/pebble.log" 2>&1 &
pids+=($!)
wait_port "$pebble_port" "$!" pebble
echo "directory https://127.0.0.1:$pebble_port/dir"

step "6. certfleet issues www + api.customer.test, answering DNS-01 from its own zone"
cat > "$work/certfleet.toml" <<CONF
[dns]
listen = ["127.0.0.1:$dns_port"]
challenge_ttl = 1

[[dns.zone]]
apex = "acme.delegated.test"
ttl = 60
soa = { mname = "ns1", rname = "hostmaster.customer.test.", minimum = 1 }
ns = [ { name = "ns1", addresses = ["127.0.0.1"] } ]

[acme]
directory = "https://127.0.0.1:$pebble_port/dir"
ca_bundle = "https-ca.pem"
contact = ["mailto:ops@customer.test"]
account_key = "account.key"

[[domain]]
name = "www.customer.test"
target = "www.acme.delegated.test"

[[domain]]
name = "api.customer.test"
target = "api.acme.delegated.test"
CONF
mkdir -p "$work/out"
"$certfleet" issue --config "$work/certfleet.toml" --name www.customer.test --name api.customer.test \
    --out-dir "$work/out"

step "7. the result"
openssl x509 -in "$work/out/fullchain.pem" -noout -subject -issuer -dates -ext subjectAltName
ls -l "$work/out"
openssl s_client -quiet -connect "127.0.0.1:$pebble_mgmt" -CAfile "$work/https-ca.pem" 2>/dev/null \
    <<<$'GET /roots/0 HTTP/1.0\r\nHost: localhost\r\n\r\n' | sed -n '/BEGIN/,/END/p' > "$work/root.pem"
awk 'BEGIN{n=0} /BEGIN CERT/{n++} {print > ("'"$work"'/cert" n ".pem")}' "$work/out/fullchain.pem"
openssl verify -CAfile "$work/root.pem" -untrusted "$work/out/fullchain.pem" "$work/cert1.pem"
echo
echo "demo complete: certificate issued through certfleet's own DNS-01 authority and verified."

#!/usr/bin/env bash
# make demo: certfleet's job, offline, end to end on loopback.
#   1. serves the delegated challenge zone on its embedded defaults and answers dig;
#   2. runs the issuance backend: `certfleet init`, `domain add` (the customer's zone, served by
#      NSD, holds the CNAME it prints), `serve` (scheduler, ACME, DNS), `cert add`; Pebble (Let's
#      Encrypt's test CA) validates through unbound, a recursive resolver that follows the CNAME
#      into certfleet's zone; the demo waits for issuance, prints the certificate, verifies its
#      chain and shows what the CI sweep would renew (`renew --due --dry-run`);
#   3. deploys it with an agent to nginx, renews it there, and prints the web dashboard's URL
#      and a read-only token; when stdin is a terminal the servers stay up until Enter.
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

step "2. certfleet init: configuration, master key (0600), database"
nsd_port=$(free_port); dns_port=$(free_port); unbound_port=$(free_port)
pebble_port=$(free_port); pebble_mgmt=$(free_port); api_port=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/https-ca.key" \
    -out "$work/https-ca.pem" -days 1 -subj "/CN=demo HTTPS CA" 2>/dev/null
"$certfleet" init --dir "$work/certfleet" --zone acme.delegated.test --listen "127.0.0.1:$dns_port" \
    --ns-address 127.0.0.1 --directory "https://127.0.0.1:$pebble_port/dir" \
    --ca-bundle "$work/https-ca.pem" --contact mailto:ops@customer.test --resolver "127.0.0.1:$unbound_port" \
    --api-listen "127.0.0.1:$api_port"
config="$work/certfleet/certfleet.toml"
sed -i 's/^challenge_ttl = 10/challenge_ttl = 1/' "$config"

step "3. certfleet domain add: one label per name, and the CNAME to create once"
"$certfleet" domain add --config "$config" www.customer.test api.customer.test
records=$("$certfleet" domain list --config "$config" --json)

step "4. the customer's zone (NSD) holds those CNAMEs"
{
    echo "\$ORIGIN customer.test."
    echo "\$TTL 1"
    echo "@ IN SOA ns1 hostmaster 1 3600 600 86400 1"
    echo "@ IN NS ns1"
    echo "ns1 IN A 127.0.0.1"
    python3 -c 'import json,sys; [print(d["record"].replace(" CNAME ", " 1 IN CNAME ")) for d in json.load(sys.stdin)]' <<<"$records"
} > "$work/customer.test.zone"
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
grep CNAME "$work/customer.test.zone"

step "5. unbound (the CA's resolver) and Pebble (the ACME test CA)"
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

step "6. certfleet serve: scheduler, ACME workers and the DNS authority in one process"
${CERTFLEET_SERVE_WRAPPER:-} "$certfleet" serve --config "$config" 2>"$work/serve.log" &
serve_pid=$!
pids+=($serve_pid)
wait_port "$dns_port" "$serve_pid" serve
"$certfleet" domain check --config "$config"

step "7. certfleet cert add: the running server issues it at once"
"$certfleet" cert add --config "$config" --name www.customer.test --name api.customer.test
for _ in $(seq 150); do
    state=$("$certfleet" cert list --config "$config" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')
    [ "$state" = valid ] && break
    [ "$state" = failed ] && break
    sleep 0.2
done
"$certfleet" cert show --config "$config" 1
[ "$state" = valid ] || { echo "issuance did not succeed; the server's log:" >&2; cat "$work/serve.log" >&2; exit 1; }

step "8. the certificate"
"$certfleet" cert export --config "$config" 1 --out "$work/out"
openssl x509 -in "$work/out/cert.pem" -noout -subject -issuer -enddate -ext subjectAltName
openssl s_client -quiet -connect "127.0.0.1:$pebble_mgmt" -CAfile "$work/https-ca.pem" 2>/dev/null \
    <<<$'GET /roots/0 HTTP/1.0\r\nHost: localhost\r\n\r\n' | sed -n '/BEGIN/,/END/p' > "$work/root.pem"
openssl verify -CAfile "$work/root.pem" -untrusted "$work/out/chain.pem" "$work/out/cert.pem"

step "9. the CI sweep: what is due now (nothing, it was just issued)"
"$certfleet" renew --due --dry-run --config "$config"
"$certfleet" status --config "$config"

step "10. the HTTPS API: a CI token, the sweep and the status from elsewhere (self-signed certificate pinned)"
wait_port "$api_port" "$serve_pid" serve
token=$("$certfleet" token create --config "$config" --name ci --scope renew 2>/dev/null)
fingerprint=$(openssl x509 -in "$work/certfleet/api-cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
export CERTFLEET_SERVER="https://127.0.0.1:$api_port" CERTFLEET_TOKEN="$token" CERTFLEET_CA_FINGERPRINT="$fingerprint"
"$certfleet" renew --due --json
"$certfleet" status
curl -s --cacert "$work/certfleet/api-cert.pem" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$api_port/api/v1/certificates" |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["items"][0]; print(json.dumps({k: c[k] for k in ("id","names","state","serial","not_after")}, indent=2))'
unset CERTFLEET_SERVER CERTFLEET_TOKEN CERTFLEET_CA_FINGERPRINT
renew_token=$token

step "11. nginx on loopback, serving a placeholder certificate over TLS"
nginx_port=$(free_port)
mkdir -p "$work/nginx/tls" "$work/nginx/logs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=placeholder \
    -keyout "$work/nginx/tls/key.pem" -out "$work/nginx/tls/fullchain.pem" 2>/dev/null
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        server_name www.customer.test;
        ssl_certificate $work/nginx/tls/fullchain.pem;
        ssl_certificate_key $work/nginx/tls/key.pem;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx.log" &
pids+=($!)
wait_port "$nginx_port" "$!" nginx
"$certfleet" probe "127.0.0.1:$nginx_port" --sni www.customer.test || true

step "12. certfleet-agent: enrolled with a one-time join token (pins the API's certificate and the bundle-signing key)"
agent="$build/src/app/certfleet-agent"
join=$("$certfleet" agent token create --config "$config" --name web1 --expires 10m 2>/dev/null)
"$agent" enroll --token "$join" --state-dir "$work/agent"
"$certfleet" cert assign --config "$config" 1 --agent web1 --target files \
    --options-json "{\"dir\":\"$work/nginx/tls\",
                     \"reload\":[\"nginx\",\"-c\",\"$work/nginx/nginx.conf\",\"-p\",\"$work/nginx\",\"-s\",\"reload\"],
                     \"verify\":{\"host\":\"127.0.0.1\",\"port\":$nginx_port,\"sni\":\"www.customer.test\"}}"
"$agent" run --state-dir "$work/agent" 2>"$work/agent.log" &
agent_pid=$!
pids+=($agent_pid)

# Waits until the agent reports the certificate's newest version deployed.
wait_deployed() {
    for _ in $(seq 150); do
        if "$certfleet" agent show --config "$config" web1 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["assignments"][0]
sys.exit(0 if a["deployed_version"] is not None and a["deployed_version"] == a["newest_version"] else 1)'; then
            return 0
        fi
        kill -0 "$agent_pid" 2>/dev/null || { cat "$work/agent.log" >&2; exit 1; }
        sleep 0.2
    done
    echo "the agent did not deploy; its log:" >&2; cat "$work/agent.log" >&2; exit 1
}
wait_deployed
"$certfleet" agent show --config "$config" web1
served_sha() { "$certfleet" cert list --config "$config" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["sha256"])'; }
"$certfleet" probe "127.0.0.1:$nginx_port" --sni www.customer.test --expect-sha256 "$(served_sha)"

step "13. a renewal reaches nginx by itself: renew over the API, the agent deploys the new version"
first=$(served_sha)
"$certfleet" cert renew 1 --server "https://127.0.0.1:$api_port" --token "$renew_token" --ca-fingerprint "$fingerprint" >/dev/null
wait_deployed
second=$(served_sha)
[ "$first" != "$second" ] || { echo "the renewal did not make a new certificate" >&2; exit 1; }
"$certfleet" probe "127.0.0.1:$nginx_port" --sni www.customer.test --expect-sha256 "$second"

step "14. the web dashboard: open it in a browser on this machine"
view_token=$("$certfleet" token create --config "$config" --name dashboard --scope read 2>/dev/null)
echo "URL:              https://127.0.0.1:$api_port/"
echo "read-only token:  $view_token"
echo "certificate:      self-signed; its SHA-256 fingerprint is $fingerprint"
if [ -t 0 ]; then
    read -r -p "The servers stay up: press Enter to stop them. " _
fi
echo
echo "demo complete: issued by certfleet serve through its own DNS-01 authority, stored sealed, served over its API, deployed by an agent to nginx and renewed there."

#!/usr/bin/env bash
# bench/api: the HTTPS API of `certfleet serve` beside nginx serving the same bytes over the same
# kind of connection (TLS 1.3, P-256, kept alive), one figure a line, ratios last:
#   - REST GET /api/v1/certificates (a page of 100) with 10,000 certificates in the store:
#     p50 and p99 over sequential requests on one connection; the anchor is nginx returning
#     that page as a static file;
#   - REST GET /api/v1/certificates?limit=1000 (the largest page), likewise;
#   - acme-dns POST /update per second from 16 kept-alive TLS connections, and the time from a
#     successful update until our DNS answers the new TXT value (p50, p99).
set -euo pipefail
build=$(cd "${1:-build/default}" && pwd)
certfleet=$build/src/app/certfleet
bench=$build/bench/api/bench_api
requests=${BENCH_REQUESTS:-2000}
work=$(mktemp -d -t certfleet-api-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
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
    echo "bench/api: nothing listens on $1" >&2
    exit 1
}

dns_port=$(free_port); api_port=$(free_port); nginx_port=$(free_port); acmedns_port=$(free_port)
"$certfleet" init --dir "$work/cf" --listen "127.0.0.1:$dns_port" --api-listen "127.0.0.1:$api_port" \
    --directory "https://127.0.0.1:1/dir" >/dev/null
cat >>"$work/cf/certfleet.toml" <<CONF

[acmedns]
listen = ["127.0.0.1:$acmedns_port"]
tls_certificate = "api-cert.pem"
tls_key = "api-key.pem"

[dns.rate_limit]                   # the bench asks one name over and over from one address
enabled = false
CONF
registration=$("$certfleet" acmedns register --config "$work/cf/certfleet.toml" --json)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$registration"; }
"$bench" populate "$work/cf/certfleet.db" "${BENCH_CERTIFICATES:-10000}"
"$certfleet" serve --config "$work/cf/certfleet.toml" 2>"$work/serve.log" &
pids+=($!)
wait_port "$api_port"
token=$("$certfleet" token create --config "$work/cf/certfleet.toml" --name bench --scope read 2>/dev/null)
pin=$(openssl x509 -in "$work/cf/api-cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
api="https://127.0.0.1:$api_port"

# The anchor: nginx with the same certificate, serving the same bodies as files.
mkdir -p "$work/www"
chmod 755 "$work" "$work/www" # nginx's workers run as www-data
for page in 100 1000; do
    curl -sf --cacert "$work/cf/api-cert.pem" -H "Authorization: Bearer $token" \
        "$api/api/v1/certificates?limit=$page" >"$work/www/page$page.json"
done
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $work/cf/api-cert.pem;
        ssl_certificate_key $work/cf/api-key.pem;
        root $work/www;
        default_type application/json;
    }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
wait_port "$nginx_port"
anchor="https://127.0.0.1:$nginx_port"

"$bench" latency certificates_page100 "$api/api/v1/certificates" "$token" "$pin" "$requests" | tee "$work/a.txt"
"$bench" latency nginx_page100 "$anchor/page100.json" - "$pin" "$requests" | tee -a "$work/a.txt"
"$bench" latency certificates_page1000 "$api/api/v1/certificates?limit=1000" "$token" "$pin" $((requests / 10)) | tee -a "$work/a.txt"
"$bench" latency nginx_page1000 "$anchor/page1000.json" - "$pin" $((requests / 10)) | tee -a "$work/a.txt"
"$bench" acmedns "https://127.0.0.1:$acmedns_port" "$pin" "$(field username)" "$(field password)" \
    "$(field subdomain)" "$dns_port" "$(field fulldomain)" "${BENCH_SECONDS:-5}" 16 "${BENCH_UPDATES:-500}"
awk '{v[$1]=$2} END {
    printf "ratio_page100_p50 %.2f\n", v["certificates_page100_p50_ms"] / v["nginx_page100_p50_ms"];
    printf "ratio_page100_p99 %.2f\n", v["certificates_page100_p99_ms"] / v["nginx_page100_p99_ms"];
    printf "ratio_page1000_p50 %.2f\n", v["certificates_page1000_p50_ms"] / v["nginx_page1000_p50_ms"];
    printf "ratio_page1000_p99 %.2f\n", v["certificates_page1000_p99_ms"] / v["nginx_page1000_p99_ms"];
}' "$work/a.txt"

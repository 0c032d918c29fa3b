#!/bin/sh
# Regenerates the certificate fixtures of tests/unit/core/certificate_test.cpp with the openssl
# CLI (run once; the test hard-codes the values printed at the end, so rerunning means updating
# the test). rfc9773-example.pem is not generated: it is the example certificate of RFC 9773
# (Appendix A, used in section 4.1), copied verbatim.
#
#   ca.pem / ca.key      "certfleet Test CA", EC P-256, self-signed, subjectKeyIdentifier
#   leaf.pem / leaf.key  EC P-256, serial 0x8badf00d5eed (high bit set: DER adds a 00 octet),
#                        SANs www.example.com, *.example.com, example.com, AKI = CA's SKI,
#                        2025-01-01T00:00:00Z (UTCTime) to 2050-06-01T12:00:00Z (GeneralizedTime)
#   chain.pem            leaf.pem then ca.pem
#   leaf-compressed.pem  leaf.key's public key with its point compressed (SEC 1 2.3.3), by the CA
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key

cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
organizationName = optional
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.com, DNS:*.example.com, DNS:example.com
CNF
: > "$work/index.txt"

echo 01 > "$work/serial"
openssl req -new -key ca.key -subj "/O=certfleet tests/CN=certfleet Test CA" -out "$work/ca.csr"
openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile ca.key -in "$work/ca.csr" \
    -extensions ca_ext -startdate 20250101000000Z -enddate 20500601120000Z -notext -out ca.pem

echo 8BADF00D5EED > "$work/serial"
openssl req -new -key leaf.key -subj "/CN=www.example.com" -out "$work/leaf.csr"
openssl ca -batch -config "$work/ca.cnf" -cert ca.pem -keyfile ca.key -in "$work/leaf.csr" \
    -extensions leaf_ext -startdate 250101000000Z -enddate 20500601120000Z -notext -out leaf.pem

cat leaf.pem ca.pem > chain.pem

openssl pkey -in leaf.key -pubout -ec_conv_form compressed -out "$work/leaf-compressed.pub"
openssl x509 -req -in "$work/leaf.csr" -CA ca.pem -CAkey ca.key -set_serial 0x0c0c \
    -force_pubkey "$work/leaf-compressed.pub" -days 9000 -out leaf-compressed.pem

for f in leaf.pem ca.pem; do
    echo "== $f"
    openssl x509 -in "$f" -noout -serial -dates -issuer -fingerprint -sha256
    openssl x509 -in "$f" -noout -fingerprint -sha1
    openssl x509 -in "$f" -noout -ext authorityKeyIdentifier,subjectKeyIdentifier
done

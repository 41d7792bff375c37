#!/usr/bin/env bash
# Regenerates the emulator's test-only TLS files: a CA (loopback-ca.crt, CA:TRUE) and a loopback
# leaf (loopback.crt + loopback.key, CA:FALSE, serverAuth, SAN localhost / 127.0.0.1 / ::1) signed
# by it. The CA key is thrown away, so nothing else can ever be signed by this CA.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=36500

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj '/CN=azcred test CA (loopback emulator only)' \
  -keyout "$work/ca.key" -out loopback-ca.crt \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -addext 'subjectKeyIdentifier=hash'

openssl req -newkey rsa:2048 -nodes -sha256 -subj '/CN=localhost' -keyout loopback.key -out "$work/leaf.csr"
cat > "$work/leaf.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in "$work/leaf.csr" -CA loopback-ca.crt -CAkey "$work/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -sha256 -days "$days" -extfile "$work/leaf.ext" -out loopback.crt
openssl verify -CAfile loopback-ca.crt loopback.crt

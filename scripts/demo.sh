#!/usr/bin/env bash
# The README's first command (make demo): a new PKI, the stock nginx with the
# module on 127.0.0.1 and the embedded store, one certificate issued by the
# CLI and checked by openssl.  "demo.sh stop" stops that nginx.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=${STEPCA_DEMO_DIR:-$top/demo}
port=${STEPCA_DEMO_PORT:-9443}
build=${STEPCA_BUILD:-$top/build}
pidfile=$demo/nginx/nginx.pid

stop() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    pid=$(cat "$pidfile")
    kill -QUIT "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped the demo nginx (pid $pid)"
  fi
}

if [ "${1:-}" = "stop" ]; then
  stop
  exit 0
fi

for f in "$build/stepca" "$build/ngx_http_stepca_module.so"; do
  [ -x "$f" ] || [ -f "$f" ] || { echo "missing $f: run make first" >&2; exit 1; }
done

stop
rm -rf "$demo"
mkdir -p "$demo/secrets" "$demo/nginx/conf" "$demo/nginx/logs" "$demo/out"
chmod 755 "$demo" "$demo/nginx" "$demo/out"
chmod 700 "$demo/secrets"
umask 077
openssl rand -hex 24 > "$demo/secrets/password.txt"
openssl rand -hex 24 > "$demo/secrets/provisioner-password.txt"
umask 022

echo "== stepca init: a root, an intermediate, a JWK provisioner (as step ca init)"
"$build/stepca" init --name "Demo CA" --dns localhost --dns 127.0.0.1 \
  --address "127.0.0.1:$port" --provisioner admin@demo.test \
  --password-file "$demo/secrets/password.txt" \
  --provisioner-password-file "$demo/secrets/provisioner-password.txt" \
  --steppath "$demo/step"
chmod 755 "$demo/step"

cat > "$demo/nginx/conf/nginx.conf" <<CONF
# The demo CA: the stock nginx, the module, the embedded store.
load_module $build/ngx_http_stepca_module.so;
thread_pool stepca threads=4;
worker_processes 2;
pid $pidfile;
error_log $demo/nginx/logs/error.log info;

events { worker_connections 256; }

http {
    access_log $demo/nginx/logs/access.log;
    client_body_temp_path $demo/nginx/tmp/body;
    proxy_temp_path $demo/nginx/tmp/proxy;
    fastcgi_temp_path $demo/nginx/tmp/fastcgi;
    uwsgi_temp_path $demo/nginx/tmp/uwsgi;
    scgi_temp_path $demo/nginx/tmp/scgi;

    stepca_ca_json       $demo/step/config/ca.json;
    stepca_password_file $demo/secrets/password.txt;
    stepca_store         lmdb:$demo/db;
    stepca_thread_pool   stepca;

    server {
        listen 127.0.0.1:$port ssl;
        server_name localhost;
        # the CA issues this listener's certificate and renews it itself
        stepca_tls_certificate on;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional_no_ca;

        location / {
            stepca;
        }
    }
}
CONF
mkdir -p "$demo/nginx/tmp"

echo "== nginx -t"
nginx -p "$demo/nginx" -c conf/nginx.conf -t
echo "== starting nginx on https://127.0.0.1:$port"
nginx -p "$demo/nginx" -c conf/nginx.conf
for _ in $(seq 1 100); do
  curl -sf --cacert "$demo/step/certs/root_ca.crt" "https://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done
curl -sS --cacert "$demo/step/certs/root_ca.crt" "https://127.0.0.1:$port/health"

echo "== stepca certificate demo.example.test (key + CSR + one-time token + POST /1.0/sign)"
"$build/stepca" certificate demo.example.test "$demo/out/demo.crt" "$demo/out/demo.key" \
  --san demo.example.test --san 127.0.0.1 \
  --provisioner admin@demo.test \
  --provisioner-password-file "$demo/secrets/provisioner-password.txt" \
  --ca-url "https://127.0.0.1:$port" --root "$demo/step/certs/root_ca.crt"

echo "== openssl verify"
openssl verify -CAfile "$demo/step/certs/root_ca.crt" \
  -untrusted "$demo/step/certs/intermediate_ca.crt" "$demo/out/demo.crt"
openssl x509 -in "$demo/out/demo.crt" -noout -subject -issuer -dates -ext subjectAltName

cat <<EOF2

The CA is running.
  CA URL          https://127.0.0.1:$port   (try: curl --cacert $demo/step/certs/root_ca.crt https://127.0.0.1:$port/roots)
  root            $demo/step/certs/root_ca.crt
  ca.json         $demo/step/config/ca.json
  passwords       $demo/secrets/
  nginx config    $demo/nginx/conf/nginx.conf
  logs            $demo/nginx/logs/
  store (LMDB)    $demo/db
  certificate     $demo/out/demo.crt  (key: $demo/out/demo.key)
Another one:      $build/stepca certificate NAME NAME.crt NAME.key --provisioner admin@demo.test --provisioner-password-file $demo/secrets/provisioner-password.txt --ca-url https://127.0.0.1:$port --root $demo/step/certs/root_ca.crt
Stop it:          make demo-stop   (or: kill -QUIT \$(cat $pidfile))
EOF2

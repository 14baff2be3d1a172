#!/usr/bin/env bash
# The fleet of docker-compose.yml with plain processes on 127.0.0.1:
# redis-server (append-only), two nginx CA nodes with the module on one
# ca.json and one Redis, and an nginx stream balancer (ssl_preread, PROXY
# protocol) in front. The nginx configurations are conf.d/fleet-node.conf and
# conf.d/fleet-balancer.conf, rendered by deploy/render.sh.
#
#   scripts/fleet.sh start     (make fleet) start everything, issue one certificate
#   scripts/fleet.sh status    which processes run, the URLs
#   scripts/fleet.sh stop      stop everything, by the PIDs in the pid files
#
# Environment: STEPCA_FLEET_DIR (default <repo>/fleet; the PKI and Redis's
# data survive stop/start), STEPCA_FLEET_PORT (default 9543: the balancer;
# node A +1 (PROXY) +2 (direct), node B +3 +4, Redis +5), or each port alone:
# FLEET_LB_PORT FLEET_A_PP_PORT FLEET_A_PORT FLEET_B_PP_PORT FLEET_B_PORT
# FLEET_REDIS_PORT. STEPCA_BUILD (default <repo>/build), NGINX, FLEET_WORKERS
# (default 2), FLEET_STORE_TIMEOUT (default 500ms).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${STEPCA_FLEET_DIR:-$top/fleet}
build=${STEPCA_BUILD:-$top/build}
nginx=${NGINX:-/usr/sbin/nginx}
base=${STEPCA_FLEET_PORT:-9543}
lb_port=${FLEET_LB_PORT:-$base}
a_pp=${FLEET_A_PP_PORT:-$((base + 1))}
a_port=${FLEET_A_PORT:-$((base + 2))}
b_pp=${FLEET_B_PP_PORT:-$((base + 3))}
b_port=${FLEET_B_PORT:-$((base + 4))}
redis_port=${FLEET_REDIS_PORT:-$((base + 5))}
workers=${FLEET_WORKERS:-2}
timeout=${FLEET_STORE_TIMEOUT:-500ms}
pki=$dir/pki

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid PIDFILE SIGNAL NAME: signal, then wait (bounded) for the exit.
stop_pid() {
  local pidfile=$1 sig=$2 name=$3 pid
  alive "$pidfile" || return 0
  pid=$(cat "$pidfile")
  kill "-$sig" "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name (pid $pid) did not stop in 15s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  echo "stopped $name (pid $pid)"
}

wait_port() {
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 after 15s" >&2
  return 1
}

status() {
  local rc=0
  for p in redis:redis/redis.pid node-a:node-a/nginx.pid node-b:node-b/nginx.pid balancer:balancer/nginx.pid; do
    if alive "$dir/${p#*:}"; then
      echo "${p%%:*}: running (pid $(cat "$dir/${p#*:}"))"
    else
      echo "${p%%:*}: stopped"; rc=3
    fi
  done
  urls
  return $rc
}

urls() {
  cat <<EOF2
  CA URL (balancer)  https://127.0.0.1:$lb_port
  node A             https://127.0.0.1:$a_port  (metrics: /metrics; PROXY protocol listener :$a_pp)
  node B             https://127.0.0.1:$b_port  (metrics: /metrics; PROXY protocol listener :$b_pp)
  Redis              redis://127.0.0.1:$redis_port/0  (append-only file in $dir/redis)
  root               $pki/certs/root_ca.crt
  logs               $dir/{node-a,node-b,balancer}/error.log, $dir/redis/redis.log
EOF2
}

stop() {
  stop_pid "$dir/balancer/nginx.pid" QUIT balancer
  stop_pid "$dir/node-a/nginx.pid" QUIT node-a
  stop_pid "$dir/node-b/nginx.pid" QUIT node-b
  stop_pid "$dir/redis/redis.pid" TERM redis
}

render_node() {  # name pp_port direct_port
  local p=$dir/$1
  mkdir -p "$p/tmp"
  STEPCA_MODULE=$build/ngx_http_stepca_module.so NODE_PREFIX=$p NODE_WORKERS=$workers \
  NODE_LISTEN_PP=127.0.0.1:$2 NODE_LISTEN_DIRECT=127.0.0.1:$3 BALANCER_ADDR=127.0.0.1 \
  STEPCA_CA_JSON=$pki/config/ca.json STEPCA_PASSWORD_FILE=$dir/secrets/password.txt \
  STEPCA_STORE="redis://127.0.0.1:$redis_port/0?timeout=$timeout&connect_timeout=$timeout" \
  TLS_CRT=$pki/certs/tls.crt TLS_KEY=$pki/secrets/tls.key \
    "$top/deploy/render.sh" "$top/conf.d/fleet-node.conf" "$p/nginx.conf"
}

start() {
  for f in "$build/stepca" "$build/ngx_http_stepca_module.so" /usr/lib/nginx/modules/ngx_stream_module.so; do
    [ -f "$f" ] || { echo "missing $f: run make (and make deps) first" >&2; exit 1; }
  done
  if alive "$dir/balancer/nginx.pid" || alive "$dir/node-a/nginx.pid" || \
     alive "$dir/node-b/nginx.pid" || alive "$dir/redis/redis.pid"; then
    echo "the fleet in $dir is already (partly) running; scripts/fleet.sh stop first" >&2
    status || true
    exit 1
  fi
  mkdir -p "$dir/redis" "$dir/balancer/tmp" "$dir/out"
  chmod 755 "$dir"

  if [ ! -f "$pki/config/ca.json" ]; then
    echo "== stepca init: the fleet's one PKI and ca.json ($pki)"
    mkdir -p "$dir/secrets"; chmod 700 "$dir/secrets"
    (umask 077
     openssl rand -hex 24 > "$dir/secrets/password.txt"
     openssl rand -hex 24 > "$dir/secrets/provisioner-password.txt")
    "$build/stepca" init --name "Fleet CA" --dns localhost --dns 127.0.0.1 \
      --address "127.0.0.1:$lb_port" --provisioner admin@fleet.test \
      --password-file "$dir/secrets/password.txt" \
      --provisioner-password-file "$dir/secrets/provisioner-password.txt" \
      --steppath "$pki" --tls-files >/dev/null
    chmod 755 "$pki"
  fi

  echo "== redis-server on 127.0.0.1:$redis_port (appendonly yes, appendfsync everysec)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$dir/redis/redis.pid" --dir "$dir/redis" --logfile "$dir/redis/redis.log" \
    --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction
  wait_port "$redis_port"

  render_node node-a "$a_pp" "$a_port"
  render_node node-b "$b_pp" "$b_port"
  BALANCER_PREFIX=$dir/balancer BALANCER_LISTEN=127.0.0.1:$lb_port \
  NODE_A_UPSTREAM=127.0.0.1:$a_pp NODE_B_UPSTREAM=127.0.0.1:$b_pp \
    "$top/deploy/render.sh" "$top/conf.d/fleet-balancer.conf" "$dir/balancer/nginx.conf"

  for n in node-a node-b balancer; do
    echo "== nginx $n"
    "$nginx" -p "$dir/$n" -c "$dir/$n/nginx.conf" -t -q
    "$nginx" -p "$dir/$n" -c "$dir/$n/nginx.conf"
  done
  wait_port "$a_port"; wait_port "$b_port"; wait_port "$lb_port"

  echo "== stepca certificate fleet.example.test through the balancer"
  "$build/stepca" certificate fleet.example.test "$dir/out/fleet.crt" "$dir/out/fleet.key" \
    --san fleet.example.test --provisioner admin@fleet.test \
    --provisioner-password-file "$dir/secrets/provisioner-password.txt" \
    --ca-url "https://127.0.0.1:$lb_port" --root "$pki/certs/root_ca.crt" >/dev/null
  openssl verify -CAfile "$pki/certs/root_ca.crt" \
    -untrusted "$pki/certs/intermediate_ca.crt" "$dir/out/fleet.crt"

  echo
  echo "The fleet is running:"
  urls
  echo "  Stop it:           scripts/fleet.sh stop"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

#!/bin/sh
# Container entrypoint: render the fleet template for this role, check it,
# run nginx in the foreground (docker stops it with SIGQUIT: graceful).
set -eu
role=${1:-node}
case "$role" in
  node)     tmpl=/etc/nginx/fleet/fleet-node.conf;     dir=$NODE_PREFIX ;;
  balancer) tmpl=/etc/nginx/fleet/fleet-balancer.conf; dir=$BALANCER_PREFIX ;;
  *) echo "usage: entrypoint.sh node|balancer" >&2; exit 2 ;;
esac
mkdir -p "$dir/tmp"
render.sh "$tmpl" "$dir/nginx.conf"
nginx -t -c "$dir/nginx.conf"
exec nginx -c "$dir/nginx.conf" -g 'daemon off;'

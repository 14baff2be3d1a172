#!/bin/sh
# Renders a conf.d/fleet-*.conf template: only the fleet's own ${NAMES} are
# substituted, nginx's $variables are left alone.
#   render.sh TEMPLATE OUTPUT     (values from the environment)
set -eu
vars='${STEPCA_MODULE} ${NODE_PREFIX} ${NODE_WORKERS} ${NODE_LISTEN_PP} ${NODE_LISTEN_DIRECT}
${BALANCER_ADDR} ${STEPCA_CA_JSON} ${STEPCA_PASSWORD_FILE} ${STEPCA_STORE} ${TLS_CRT} ${TLS_KEY}
${BALANCER_PREFIX} ${BALANCER_LISTEN} ${NODE_A_UPSTREAM} ${NODE_B_UPSTREAM}'
envsubst "$vars" < "$1" > "$2"
if grep -v '^[[:space:]]*#' "$2" | grep '\${[A-Z_]*}' >&2; then
  echo "render.sh: unfilled placeholders in $2 (from $1)" >&2
  exit 1
fi

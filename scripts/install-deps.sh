#!/usr/bin/env bash
# Installs the Debian 12 packages that build and test nginx-stepca, if any
# is missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  nginx nginx-dev libnginx-mod-stream
  build-essential cmake pkg-config
  libssl-dev libjansson-dev libhiredis-dev libcurl4-openssl-dev liblmdb-dev libidn2-dev
  libgtest-dev libgmock-dev googletest
  redis-server redis-sentinel curl openssl python3-pytest python3-yaml
  certbot lego uacme dehydrated knot
  openssh-client openssh-server
  libp11-kit-dev softhsm2 opensc ykcs11
  debhelper dpkg-dev help2man lintian
  mariadb-server  # t/test_migrate.py: step-ca's mysql type (a private mariadbd; the service is unused)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y \
  --no-install-recommends "${missing[@]}"

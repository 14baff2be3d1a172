#!/usr/bin/env bash
# Builds tools/stepca-db-export (the reader of step-ca's database that
# `stepca migrate` runs) the way scripts/build-smallstep.sh builds step-ca:
# GOPATH mode over Debian's /usr/share/gocode, offline, no module proxy.
# Its badger, bbolt and MySQL drivers are the ones step-ca 0.19 uses
# (github.com/smallstep/nosql from golang-github-smallstep-certificates-dev).
#
#   build/stepca-db-export/bin/stepca-db-export
#
# Usage: scripts/build-db-export.sh [BUILD_DIR]   (default <repo>/build)
# Rebuilds only when main.go is newer than the binary.
set -euo pipefail

top="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$top/build}"
out="$build/stepca-db-export"
bin="$out/bin/stepca-db-export"
srcfile="$top/tools/stepca-db-export/main.go"

if [ -x "$bin" ] && [ "$bin" -nt "$srcfile" ]; then
  echo "build-db-export: up to date ($bin)"
  exit 0
fi

packages=(golang-go golang-github-smallstep-certificates-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-db-export: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y \
    --no-install-recommends "${missing[@]}"
fi

gopath="$out/gopath"
pkg="$gopath/src/nginx-stepca.local/stepca-db-export"
mkdir -p "$pkg" "$out/bin"
cp "$srcfile" "$pkg/main.go"

export GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$gopath:/usr/share/gocode"
export GOCACHE="$out/gocache" CGO_ENABLED=1
log="$out/build.log"
if ! go build -trimpath -o "$bin.tmp" nginx-stepca.local/stepca-db-export >"$log" 2>&1; then
  cat "$log" >&2
  echo "build-db-export: go build failed" >&2
  exit 1
fi
mv "$bin.tmp" "$bin"
echo "build-db-export: built $bin"

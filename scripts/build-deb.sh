#!/usr/bin/env bash
# make deb: the Debian packages libnginx-mod-http-stepca and stepca, built
# by dpkg-buildpackage from a copy of this tree (what git tracks plus new
# files it does not ignore), so the working tree gets no build litter.
# The .deb files, .changes, .buildinfo and lintian's report land in $1
# (default build/deb). JOBS: parallel compile jobs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "${1:-$top/build/deb}"
out=$(cd "${1:-$top/build/deb}" && pwd)
src=$out/src
jobs=${JOBS:-$(nproc)}

rm -rf "$src"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo "$out"/lintian.txt
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Files deleted but not yet committed are still listed: skip them.
  (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
    tar -C "$top" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
else
  tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
fi

# The copy always has the same path, so ccache finds the objects of the
# last package build (dpkg-buildflags maps that path away in -ffile-prefix-map).
if command -v ccache >/dev/null; then
  export STEPCA_CCACHE=1
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR
fi

version=$(cd "$src" && dpkg-parsechangelog -SVersion)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
(
  cd "$src"
  STEPCA_DEB_OUT=$out dpkg-buildpackage -b --no-sign -j"$jobs" \
    --buildinfo-option=-u"$out" --changes-option=-u"$out" \
    --buildinfo-file="$out/nginx-stepca_${version}_${arch}.buildinfo" \
    --changes-file="$out/nginx-stepca_${version}_${arch}.changes"
)
rm -rf "$src"

if command -v lintian >/dev/null; then
  # Tags we accept are overridden, each with its reason, in
  # debian/*.lintian-overrides; anything else fails the build.
  lintian --fail-on error,warning --info --display-info \
    "$out/nginx-stepca_${version}_${arch}.changes" | tee "$out/lintian.txt"
else
  echo "lintian is not installed: packages not checked" >&2
fi
ls -l "$out"/*.deb

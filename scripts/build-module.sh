#!/usr/bin/env bash
# Builds build/ngx_http_stepca_module.so against Debian's nginx-dev with the
# distribution's own configure flags, so the stock /usr/sbin/nginx loads it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
src=${NGX_SRC:-/usr/share/nginx/src}
objs=$build/nginx-objs
# STEPCA_LIB: the authority archive to link (default: the CMake-built one).
lib=${STEPCA_LIB:-$build/libstepca_authority.a}
[ -f "$lib" ] || { echo "$0: $lib not found (build the library first)" >&2; exit 1; }

# STEPCA_MODULE_CC_OPT: extra compiler flags for the module (e.g. -fsanitize=address).
extra=${STEPCA_MODULE_CC_OPT:-}

stamp=$objs/configured
# The archive path is baked into nginx's generated Makefile: reconfigure
# when it changes, as when config or Debian's flags change.
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lib $extra" ] \
   || [ "$top/config" -nt "$stamp" ] || [ "$src/conf_flags" -nt "$stamp" ]; then
  rm -rf "$objs"
  (
    cd "$src"
    # shellcheck disable=SC1091
    . ./conf_flags
    STEPCA_LIB=$lib ./configure \
      --with-cc-opt="$(dpkg-buildflags --get CFLAGS) -fPIC $(dpkg-buildflags --get CPPFLAGS) $extra" \
      --with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC $extra" \
      "${NGX_CONF_FLAGS[@]}" \
      --add-dynamic-module="$top" --builddir="$objs" > "$build/nginx-configure.log" 2>&1 \
      || { tail -20 "$build/nginx-configure.log"; exit 1; }
  )
  printf '%s\n' "$lib $extra" > "$stamp"
fi

# The archive is a link input nginx's Makefile does not track.
[ "$objs/ngx_http_stepca_module.so" -nt "$lib" ] || rm -f "$objs/ngx_http_stepca_module.so"
make -s -f "$objs/Makefile" -C "$src" -j"$(nproc)" modules
cp "$objs/ngx_http_stepca_module.so" "$build/ngx_http_stepca_module.so.tmp"
mv "$build/ngx_http_stepca_module.so.tmp" "$build/ngx_http_stepca_module.so"

want=$(strings /usr/sbin/nginx | grep -m1 -E '^[0-9]+,[0-9]+,[0-9]+,[01]+$' || true)
got=$(strings "$build/ngx_http_stepca_module.so" | grep -m1 -E '^[0-9]+,[0-9]+,[0-9]+,[01]+$' || true)
if [ -z "$got" ] || { [ -n "$want" ] && [ "$want" != "$got" ]; }; then
  echo "module signature $got does not match /usr/sbin/nginx $want" >&2
  exit 1
fi

#!/bin/sh
# Builds the fuzz targets with clang into $FUZZ_BUILD, writes the seed
# corpora, runs each target for $FUZZ_SECONDS and prints a summary.
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_JOBS      targets run at once (default 1)
#   FUZZ_TARGETS   which targets (default all)
#   FUZZ_BUILD     build directory (default build/fuzz)
# Corpora grow in $FUZZ_BUILD/corpus/<target>; crashes go to
# $FUZZ_BUILD/artifacts/<target>/. Exit status 1 when a target failed.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
B=${FUZZ_BUILD:-build/fuzz}
ALL="fuzz_jws fuzz_jwk fuzz_jwe fuzz_csr_pem fuzz_csr_der fuzz_duration fuzz_base64 fuzz_store_uri fuzz_http fuzz_template fuzz_ocsp fuzz_oidc_discovery fuzz_identity_claims fuzz_aws_iid"
TARGETS=${FUZZ_TARGETS:-$ALL}
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
CC=${FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CXX" ]; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

[ -f "$B/CMakeCache.txt" ] || cmake -S fuzz -B "$B" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$B" -j"$(nproc)"
rm -rf "$B/seeds"
"$B/fuzz_seedgen" "$B/seeds"

run_one() {
  t=$1
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t" "$B/logs"
  dict=""
  [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
  # -timeout: a run over 10 s is a hang; fuzz_jwe caps p2c itself.
  if "$B/$t" -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$B/artifacts/$t/" $dict \
      "$B/corpus/$t" "$B/seeds/$t" >"$B/logs/$t.log" 2>&1; then
    echo ok >"$B/logs/$t.result"
  else
    echo FAILED >"$B/logs/$t.result"
  fi
}

echo "fuzz: $SECONDS_PER s per target, $JOBS at once"
n=0
for t in $TARGETS; do
  run_one "$t" &
  n=$((n + 1))
  if [ "$n" -ge "$JOBS" ]; then wait; n=0; fi
done
wait

status=0
printf '%-16s %12s %9s %7s %8s  %s\n' target executions exec/s cov corpus result
for t in $TARGETS; do
  log="$B/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(ls "$B/corpus/$t" | wc -l)
  res=$(cat "$B/logs/$t.result")
  [ "$res" = ok ] || status=1
  printf '%-16s %12s %9s %7s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corp" "$res"
  if [ "$res" != ok ]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$log" | head -5 | sed 's/^/    /'
  fi
done
exit $status

#!/usr/bin/env bash
# Service benchmarks under Wine (issue 9, performance 1-4), one command:
#
#   bench/service_bench.sh [PART...]        PART: boot start drift steady (default: all four)
#   bench/service_bench.sh --help
#
# Environment (defaults in brackets):
#   PORTGUARD_BINARY_DIR  Windows cross build with portguard, e2e-kit, floor_read, pg-bench [build/evidence-win]
#   SERVICES  extra services created through the SCM [300]
#   PAIRS   boot-path rounds, interleaved [15]      STARTS  service starts [20]
#   DRIFTS  drifts [100]   DRIFT_GAP_MS [300]   DRIFT_BATCH  drifts per guard run [2]
#   IDLE    idle seconds [600]   STORM  drift-storm seconds [60]   STORM_RATE  writes/s [100]
#
# The prefix is a Windows Server 2003 "DNS server" (tests/scenarios/lib.sh: DNS + IAS simulators) with
# 300 more services created through the SCM API and a 50-entry policy; PortGuard is installed as a
# service the way tests/scenarios does (SCM). Everything runs in one throwaway prefix with its own
# wineserver (stopped with `wineserver -k` for that prefix only), cloned by cmake/wine-run from the
# template in PORTGUARD_WINE_TEMPLATE [$PORTGUARD_BINARY_DIR/wine/template], which is made on
# first use. Prints numbers; never fails on them (exit 0), only on set-up errors.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
export PORTGUARD_BINARY_DIR=${PORTGUARD_BINARY_DIR:-$SRC/build/evidence-win}
export PORTGUARD_E2E_BIN=${PORTGUARD_E2E_BIN:-$PORTGUARD_BINARY_DIR/tests/scenarios}
export PORTGUARD_WINE_TEMPLATE=${PORTGUARD_WINE_TEMPLATE:-$PORTGUARD_BINARY_DIR/wine/template}
PAIRS=${PAIRS:-15} STARTS=${STARTS:-20} DRIFTS=${DRIFTS:-100} DRIFT_GAP_MS=${DRIFT_GAP_MS:-300} DRIFT_BATCH=${DRIFT_BATCH:-2}
IDLE=${IDLE:-600} STORM=${STORM:-60} STORM_RATE=${STORM_RATE:-100}
case ${1:-} in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(boot start drift steady)
want() { local p; for p in "${parts[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }

BENCH_EXE=$PORTGUARD_BINARY_DIR/bench/pg-bench.exe
FLOOR_EXE=$PORTGUARD_BINARY_DIR/bench/floor_read.exe
for f in "$BENCH_EXE" "$FLOOR_EXE" "$PORTGUARD_BINARY_DIR/service/portguard.exe"; do
  [[ -f $f ]] || { echo "missing $f: ninja -C $PORTGUARD_BINARY_DIR portguard e2e-kit floor_read pg-bench" >&2; exit 2; }
done
# shellcheck source=../tests/scenarios/lib.sh
source "$SRC/tests/scenarios/lib.sh"
source "$SRC/bench/lib_bench.sh"

e2e_setup bench win2003
bench_prepare_host "${SERVICES:-300}" 50
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start (other jobs share these cores)"
echo "host: $(pg_winver), $(bench_service_count) services installed, policy with $(grep -c '^\[\[reserve\]\]' "$BENCH_POLICY") [[reserve]] entries"

if want boot; then
  echo
  echo "== 1. boot-path cost: portguard check vs the floor (warm wineserver, $PAIRS interleaved rounds)"
  pg="$WINEPREFIX/drive_c/Program Files/PortGuard/portguard.exe"
  e2e_pg repair >/dev/null || true     # a realistic, compliant value to read
  run_floor() { WINEDEBUG=-all wine "$FLOOR_EXE" >/dev/null; }
  run_check() { WINEDEBUG=-all wine "$pg" check >/dev/null || true; }
  run_reg() { WINEDEBUG=-all wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters' /v ReservedPorts >/dev/null; }
  run_help() { WINEDEBUG=-all wine "$pg" --version >/dev/null 2>&1 || true; }
  for warm in 1 2 3; do run_floor; run_check; run_reg; run_help; done   # warm caches and wineserver
  declare -a t_floor=() t_check=() t_reg=() t_help=()
  for ((i = 0; i < PAIRS; i++)); do
    # Rotate the order every round so no arm always runs right after another.
    order=(floor check reg help)
    for ((k = 0; k < i % 4; k++)); do order=("${order[@]:1}" "${order[0]}"); done
    for arm in "${order[@]}"; do
      t0=$(date +%s%N); "run_$arm"; t1=$(date +%s%N)
      eval "t_$arm+=($(((t1 - t0) / 1000)))"
    done
  done
  bench_stats "floor_read.exe (open key, read value)" "${t_floor[@]}"
  bench_stats "portguard check" "${t_check[@]}"
  bench_stats "wine reg query" "${t_reg[@]}"
  bench_stats "portguard --version (start-up only)" "${t_help[@]}"
  bench_ratio "check / floor" t_check t_floor
  bench_ratio "reg query / floor" t_reg t_floor
  bench_ratio "check / reg query" t_check t_reg
  bench_ratio "--version / floor" t_help t_floor
  echo "check output: $(e2e_pg check | head -n1)"
fi

if want start; then
  echo
  echo "== 2. service start to first verdict: StartService -> RUNNING ($STARTS starts, RUNNING is reported after the first pass)"
  e2e_wine "$BENCH_EXE" start-latency PortGuard "$STARTS" | tr -d '\r' | grep -v '^sample'
  bench_first_pass_times
fi

if want drift; then
  echo
  echo "== 3. drift to repair: $DRIFTS external RegSetValueExW breaking ReservedPorts (gap $DRIFT_GAP_MS ms, guard restarted every $DRIFT_BATCH drifts)"
  bench_guard_running
  e2e_wine "$BENCH_EXE" drift "$DRIFTS" "$DRIFT_GAP_MS" "$DRIFT_BATCH" PortGuard | tr -d '\r' | grep -v '^sample'
fi

if want steady; then
  echo
  echo "== 4. steady state: ${IDLE} s idle, then ${STORM} s of a drift storm (${STORM_RATE} writes/s of an unrelated value)"
  bench_steady "$IDLE" "$STORM" "$STORM_RATE"
fi

echo
echo "Wine trace sanity check: $(grep -c 'fixme:advapi:ReportEventW' "$PG_TRACE" || true) events in this run's whole trace (service start/stop events included)"

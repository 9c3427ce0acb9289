# Shared by the CLI scenarios under Wine (cli_scenario.sh, cli_regressions.sh): a private Windows
# Server 2003 prefix (winecfg -v win2003, so ReservedPorts is the effective target) and `run`,
# which runs portguard.exe as an admin would and keeps what it printed.
#   source cli_lib.sh NAME     NAME names the work folder (build/tests/commands/NAME.XXXXXX)
: "${PORTGUARD_BINARY_DIR:?}" "${PORTGUARD_WINE_TEMPLATE:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../support/kit.sh"
PG_NAME=$1
BIN=$PORTGUARD_BINARY_DIR/service/portguard.exe
work=$(mktemp -d "$PORTGUARD_BINARY_DIR/tests/commands/${1:?cli_lib.sh NAME}.XXXXXX")
export WINEPREFIX=$work/prefix WINEDEBUG=-all
holder=""   # a port-holding helper a scenario started: stopped on exit
cleanup() {
  if [[ -n $holder ]]; then kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; fi
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
  if [[ $PORTGUARD_WINE_KEEP == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A private clone of the template prefix (cmake/wine-run: hard links for the bulk, copies of the hives).
"$(dirname "${BASH_SOURCE[0]}")/../../cmake/wine-run" --template "$PORTGUARD_WINE_TEMPLATE" --clone-to "$WINEPREFIX"
wineserver -p
wine winecfg -v win2003 >/dev/null 2>&1

# Older names of the kit's functions (tests/support/kit.sh), until the scenarios use the new ones.
fail() { pg_fail "$@"; }
step() { pg_log "$@"; }
# run ARGS...: the kit's pg_portguard (the build's portguard.exe), its results also as $out, $err, $rc.
PG_EXE=$BIN PG_OUT_FILE=$work/stdout PG_ERR_FILE=$work/stderr
run() { pg_portguard "$@"; out=$PG_OUT err=$PG_ERR rc=$PG_RC; }
expect_rc() { PG_RC=$rc pg_expect_rc "$@"; }
expect_out() { PG_OUT=$out pg_expect_out "$@"; }
# hold_port PROTO PORT: a process (pg-sleeper) binds the port, as a foreign holder would; Wine
# shows it without an owner PID. Stopped on exit, or by the scenario with kill "$holder".
hold_port() {
  wine "$PORTGUARD_BINARY_DIR/tests/adapters/pg-sleeper.exe" hold "$1" "$2" >"$work/holder.out" 2>&1 &
  holder=$!
  for _ in $(seq 600); do grep -q ready "$work/holder.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$work/holder.out" || fail "the port holder did not start"
}
reject_out() { PG_OUT=$out pg_reject_out "$@"; }

KEY='HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'

# shellcheck shell=bash
# Shared by the CLI scenarios under Wine (cli_scenario.sh, cli_regressions.sh): a private Windows
# Server 2003 prefix (winecfg -v win2003, so ReservedPorts is the effective target) from the kit
# (tests/support/kit.sh: pg_prefix_new, pg_portguard, pg_expect_*, pg_fail, pg_cleanup on exit).
#   source cli_lib.sh NAME     NAME names the prefix (and the scenario in its log lines)
: "${PORTGUARD_BINARY_DIR:?}" "${PORTGUARD_WINE_TEMPLATE:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../support/kit.sh"
pg_prefix_new "${1:?cli_lib.sh NAME}" win2003
export WINEDEBUG=-all
# Scratch files of the scenario (portguard's raw output, a saved policy): removed with the prefix.
work=$WINEPREFIX/pg-cli
mkdir -p "$work"
PG_OUT_FILE=$work/stdout PG_ERR_FILE=$work/stderr

# hold_port PROTO PORT: a process (pg-sleeper) binds the port, as a foreign holder would; Wine
# shows it without an owner PID. It ends with the prefix's wineserver (pg_cleanup), or earlier by
# the scenario with kill "$holder".
holder=""
hold_port() {
  wine "$PORTGUARD_BINARY_DIR/tests/adapters/pg-sleeper.exe" hold "$1" "$2" >"$work/holder.out" 2>&1 &
  holder=$!
  for _ in $(seq 600); do grep -q ready "$work/holder.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$work/holder.out" || pg_fail "the port holder did not start"
}

KEY='HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'

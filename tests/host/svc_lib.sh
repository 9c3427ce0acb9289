# shellcheck shell=bash
# Shared shell side of the service scenarios (tests/host/*.sh): one throwaway Wine prefix per
# scenario (tests/support/kit.sh), PortGuard installed with `portguard install-service` (the SCM
# API), and assertions on the trace of its Event Log calls.
set -euo pipefail

SVC_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${PORTGUARD_BINARY_DIR:=$SVC_SRC/../../build/service-win}"
PORTGUARD_BINARY_DIR=$(cd "$PORTGUARD_BINARY_DIR" && pwd)
source "$SVC_SRC/../support/kit.sh"
SVC_ROOT=$PG_ROOT
PORTGUARD_EXE=$PORTGUARD_BINARY_DIR/service/portguard.exe

TCPIP='SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'

# stderr included: the commands explain refusals there.
portguard() { WINEDEBUG=-all wine "$PORTGUARD_EXE" "$@" 2>&1 | tr -d '\r'; }

# svc_setup NAME [WINVER]: a fresh prefix cloned from the template, booted.
svc_setup() {
  [[ -f $PORTGUARD_EXE && -f $PORTGUARD_SCM_HELPER ]] || { echo "build portguard and pg-scm first" >&2; exit 1; }
  pg_prefix_new "svc-$1" "${2:-}"
  mkdir -p "$PG_DATA"
  pg_log "prefix $WINEPREFIX${2:+ ($2)}"
}

# svc_policy [EXTRA TOML...]: the scenario policy (IAS's RADIUS ports on ReservedPorts), written
# the way an admin's editor would (a new file content, same path).
svc_policy() {
  {
    printf '[guard]\nmode = "merge"\nenforcement = "enforce"\ntargets = ["reserved-ports"]\nrecheck_interval = "15m"\n\n'
    printf '[catalog]\nenabled = false\n\n'
    printf '[[reserve]]\nports = [1645, 1646, "1812-1813"]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n'
    local extra
    for extra in "$@"; do printf '\n%s\n' "$extra"; done
  } >"$PG_DATA/policy.toml.tmp"
  mv "$PG_DATA/policy.toml.tmp" "$PG_DATA/policy.toml"
}

svc_install() { portguard install-service >/dev/null || pg_fail "install-service failed"; }
svc_reserved() { pg_scm read-multi "$TCPIP" ReservedPorts; }

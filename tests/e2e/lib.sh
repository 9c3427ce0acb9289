# shellcheck shell=bash
# The end-to-end scenario kit's shell side: a Wine prefix that plays one Windows server, booted,
# rebooted and torn down by the scenario; services created with the SCM API (e2e-svc.exe); the
# Wine trace in which PortGuard's events appear. Source it, then call e2e_setup NAME [WINVER].
#
# A "boot" of the server = a fresh wineserver for the prefix (wineserver -p keeps it alive so
# services are not killed when the last non-service process exits) + the first wine process, which
# starts services.exe with the trace settings below; its stderr (and so every service's stderr and
# the Wine debug channels) goes to $E2E_TRACE. A reboot = wineserver -k of OUR prefix, then boot.
# Nothing is ever killed by name.
#
# Environment: PORTGUARD_E2E_BIN (dir with dns-sim.exe, radius-sim.exe, e2e-svc.exe),
# PORTGUARD_BINARY_DIR (build tree; portguard.exe and the MSI are looked up there),
# PORTGUARD_WINE_TEMPLATE (prefix to clone), PORTGUARD_E2E_KEEP=1 keeps the prefix.
set -euo pipefail

E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_SRC/../.." && pwd)
: "${PORTGUARD_BINARY_DIR:=$E2E_ROOT/build/e2e-win}"
: "${PORTGUARD_E2E_BIN:=$PORTGUARD_BINARY_DIR/tests/e2e}"
: "${PORTGUARD_WINE_TEMPLATE:=$PORTGUARD_BINARY_DIR/wine/template}"
export WINEDLLOVERRIDES="mscoree=;mshtml="
export WINEARCH=win64
# Services inherit the debug settings of the process that starts services.exe: ReportEventW's
# fixme line carries type and event ID, +eventlog adds the insertion strings of every level.
E2E_TRACE_DEBUG=${E2E_TRACE_DEBUG:-"-all,fixme+advapi,+eventlog"}

e2e_log() { printf '[e2e %s] %s\n' "${E2E_NAME:-?}" "$*"; }
e2e_fail() {
  printf '[e2e %s] FAIL: %s\n' "${E2E_NAME:-?}" "$*" >&2
  e2e_dump
  exit 1
}

# Windows path of a Unix file (Wine maps / to Z:).
e2e_winpath() { printf 'Z:%s' "${1//\//\\}"; }

e2e_wine() { WINEDEBUG=-all wine "$@"; }
e2e_svc() { e2e_wine "$PORTGUARD_E2E_BIN/e2e-svc.exe" "$@" | tr -d '\r'; }

e2e_cleanup() {
  local rc=$?
  if [[ -n ${WINEPREFIX:-} && -d ${WINEPREFIX:-/nonexistent} ]]; then
    wineserver -k 2>/dev/null || true
    wineserver -w 2>/dev/null || true
    if [[ ${PORTGUARD_E2E_KEEP:-0} == 1 ]]; then
      echo "[e2e] kept prefix: WINEPREFIX=$WINEPREFIX" >&2
    else
      rm -rf "$WINEPREFIX"
    fi
  fi
  return $rc
}

# e2e_setup NAME [win2003|win10|...]: clone the template prefix, boot it, install dns-sim as DNS
# and radius-sim as IAS (demand start: the scenario starts them in boot order itself, because Wine
# starts auto-start services alphabetically and ignores groups and dependencies).
e2e_setup() {
  E2E_NAME=$1
  local winver=${2:-}
  [[ -f $PORTGUARD_E2E_BIN/dns-sim.exe ]] || { echo "missing $PORTGUARD_E2E_BIN/dns-sim.exe: build target e2e-kit" >&2; exit 1; }
  if [[ ! -f $PORTGUARD_WINE_TEMPLATE/.portguard-ready ]]; then
    "$E2E_ROOT/cmake/wine-run" --template "$PORTGUARD_WINE_TEMPLATE" cmd /c exit 0 >/dev/null 2>&1
  fi
  local parent
  parent=$(dirname "$PORTGUARD_WINE_TEMPLATE")
  WINEPREFIX=$(mktemp -d "$parent/e2e-$E2E_NAME.XXXXXX")
  rmdir "$WINEPREFIX"
  # Same cloning as cmake/wine-run: hard links for the bulk, private copies of the hives.
  cp -al "$PORTGUARD_WINE_TEMPLATE" "$WINEPREFIX"
  local f
  for f in system.reg user.reg userdef.reg .update-timestamp; do
    rm -f "$WINEPREFIX/$f"
    cp "$PORTGUARD_WINE_TEMPLATE/$f" "$WINEPREFIX/$f"
  done
  export WINEPREFIX
  trap e2e_cleanup EXIT
  E2E_TRACE=$WINEPREFIX/e2e-trace.log
  E2E_DRIVE=$WINEPREFIX/drive_c/e2e
  : >"$E2E_TRACE"
  E2E_BOOTS=0
  e2e_boot
  if [[ -n $winver ]]; then
    e2e_wine winecfg -v "$winver" >/dev/null 2>&1
  fi
  e2e_svc create DNS "$(e2e_winpath "$PORTGUARD_E2E_BIN/dns-sim.exe")" demand "DNS Server" >/dev/null
  e2e_svc create IAS "$(e2e_winpath "$PORTGUARD_E2E_BIN/radius-sim.exe")" demand "Internet Authentication Service" >/dev/null
  e2e_log "prefix $WINEPREFIX ($(e2e_winver)), services DNS (dns-sim) and IAS (radius-sim) created"
}

e2e_winver() {
  e2e_wine reg query 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' /v CurrentVersion 2>/dev/null |
    tr -d '\r' | awk '$1 == "CurrentVersion" {print "Windows " $3}'
}

# Start the prefix's "machine": wineserver, then services.exe with its stderr in the trace.
e2e_boot() {
  E2E_BOOTS=$((E2E_BOOTS + 1))
  wineserver -p
  echo "=== boot $E2E_BOOTS ===" >>"$E2E_TRACE"
  WINEDEBUG=$E2E_TRACE_DEBUG wine cmd /c exit 0 </dev/null >>"$E2E_TRACE" 2>&1
  # What tcpip.sys reads at boot: dns-sim honours ReservedPorts as of this snapshot (<= 2003).
  e2e_svc boot-snapshot >/dev/null
}

e2e_shutdown() {
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
}

e2e_reboot() {
  e2e_shutdown
  e2e_boot
}

# e2e_start_dns [ARGS...]: start DNS (dns-sim) with start arguments (e.g. --seed 7 --count 200).
e2e_start() { e2e_svc start "$@"; }

# Lines of the trace that are PortGuard events: "TYPE ID" per line (ReportEventW's fixme line).
e2e_event_ids() {
  grep -a 'ReportEventW' "$E2E_TRACE" | sed -nE 's/.*ReportEventW \([^,]*,0x([0-9a-fA-F]+),[^,]*,([0-9]+),.*/\1 \2/p' |
    while read -r type id; do printf '%d %d\n' "0x$type" "$id"; done
}

e2e_assert_event() {
  local id=$1 what=$2
  e2e_event_ids | awk -v id="$id" '$2 == id {found=1} END {exit !found}' ||
    e2e_fail "event $id ($what) not raised"
  e2e_log "ok: event $id ($what)"
}

e2e_dump() {
  {
    echo "--- trace (last 60 lines) ---"
    tail -n 60 "$E2E_TRACE" 2>/dev/null || true
    local f
    for f in "$E2E_DRIVE"/*.log; do
      [[ -f $f ]] || continue
      echo "--- $(basename "$f") ---"
      tail -n 20 "$f"
    done
  } >&2
}

# Does dns-sim hold any of the given ports right now? Prints the ones it holds.
e2e_dns_holds() {
  local p
  for p in "$@"; do grep -qx "$p" "$E2E_DRIVE/dns-sim.ports" && echo "$p"; done
  return 0
}

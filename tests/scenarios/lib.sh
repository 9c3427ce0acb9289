# shellcheck shell=bash
# The end-to-end scenario kit's shell side: a Wine prefix that plays one Windows server, booted,
# rebooted and torn down by the scenario (tests/support/kit.sh); services created with the SCM API
# (pg-scm.exe); the Wine trace in which PortGuard's events appear. Source it, then call
# e2e_setup NAME [WINVER].
#
# A "boot" of the server = a fresh wineserver for the prefix (wineserver -p keeps it alive so
# services are not killed when the last non-service process exits) + the first wine process, which
# starts services.exe with the trace settings; its stderr (and so every service's stderr and the
# Wine debug channels) goes to the trace. A reboot = wineserver -k of OUR prefix, then boot.
# Nothing is ever killed by name.
#
# Environment: PORTGUARD_E2E_BIN (dir with dns-sim.exe, radius-sim.exe),
# PORTGUARD_BINARY_DIR (build tree; portguard.exe, the MSI and tests/support/pg-scm.exe are looked up
# there; PORTGUARD_SCM_HELPER overrides the last),
# PORTGUARD_WINE_TEMPLATE (prefix to clone), PORTGUARD_E2E_KEEP=1 keeps the prefix.
set -euo pipefail

E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${PORTGUARD_BINARY_DIR:=$E2E_SRC/../../build/e2e-win}"
: "${PORTGUARD_E2E_BIN:=$PORTGUARD_BINARY_DIR/tests/scenarios}"
source "$E2E_SRC/../support/kit.sh"
E2E_ROOT=$PG_ROOT

e2e_wine() { WINEDEBUG=-all wine "$@"; }

# What a failing end-to-end scenario adds to the kit's dump: who holds the RADIUS ports, the trace,
# the simulated services' own logs.
pg_dump_more() {
  echo "--- holders of the RADIUS ports on the host ---"
  e2e_port_holders || true
  echo "--- trace (last 60 lines) ---"
  tail -n 60 "$PG_TRACE" 2>/dev/null || true
  local f
  for f in "$E2E_DRIVE"/*.log; do
    [[ -f $f ]] || continue
    echo "--- $(basename "$f") ---"
    tail -n 20 "$f"
  done
}

# e2e_setup NAME [win2003|win10|...]: clone the template prefix, boot it, install dns-sim as DNS
# and radius-sim as IAS (demand start: the scenario starts them in boot order itself, because Wine
# starts auto-start services alphabetically and ignores groups and dependencies).
e2e_setup() {
  [[ -f $PORTGUARD_E2E_BIN/dns-sim.exe ]] || { echo "missing $PORTGUARD_E2E_BIN/dns-sim.exe: build target e2e-kit" >&2; exit 1; }
  # The template is made on first use (a fresh clone has none: the demo may be the first command).
  pg_prefix_new "e2e-$1" "${2:-}"
  E2E_DRIVE=$WINEPREFIX/drive_c/e2e
  pg_scm create DNS --binary "$(pg_winpath "$PORTGUARD_E2E_BIN/dns-sim.exe")" --display "DNS Server" >/dev/null
  pg_scm create IAS --binary "$(pg_winpath "$PORTGUARD_E2E_BIN/radius-sim.exe")" --display "Internet Authentication Service" >/dev/null
  # The server was "booted" with the registry as it is now.
  pg_scm boot-snapshot >/dev/null
  pg_log "prefix $WINEPREFIX ($(pg_winver)), services DNS (dns-sim) and IAS (radius-sim) created"
}

# Power off: first record what tcpip.sys will read at the next boot (ReservedPorts as persisted
# now; dns-sim honours that value on <= 2003, not the live one), then stop our wineserver.
e2e_shutdown() {
  pg_scm boot-snapshot >/dev/null
  pg_shutdown
}

e2e_reboot() {
  e2e_shutdown
  pg_boot
}

# e2e_start NAME [ARGS...]: start a service with start arguments (e.g. DNS --seed 7 --count 200).
e2e_start() { pg_scm start "$1" -- "${@:2}"; }

# Who holds the RADIUS ports on the Linux host (Wine sockets are host sockets): process, and the
# WINEPREFIX it belongs to - tells our prefix's holders from another test's.
e2e_port_holders() {
  local p line pid
  for p in "${E2E_RADIUS_PORTS[@]}"; do
    ss -uapnH "sport = :$p" 2>/dev/null | while read -r line; do
      pid=$(sed -nE 's/.*pid=([0-9]+).*/\1/p' <<<"$line")
      echo "UDP $p: ${line##* } prefix=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^WINEPREFIX=//p')"
    done
  done
}

# Does dns-sim hold any of the given ports right now? Prints the ones it holds.
e2e_dns_holds() {
  local p
  for p in "$@"; do grep -qx "$p" "$E2E_DRIVE/dns-sim.ports" && echo "$p"; done
  return 0
}

# --- PortGuard in the prefix ----------------------------------------------------------------
E2E_PG_EXE=${E2E_PG_EXE:-$PORTGUARD_BINARY_DIR/service/portguard.exe}
E2E_PG_DIR='C:\Program Files\PortGuard'
E2E_PG_DATA_UNIX() { printf '%s/drive_c/ProgramData/PortGuard' "$WINEPREFIX"; }

# The MSI built in PORTGUARD_BINARY_DIR, or nothing (status 0 either way: callers fall back to SCM).
e2e_msi() { { ls "$PORTGUARD_BINARY_DIR"/installer/portguard-*-x64.msi 2>/dev/null || true; } | head -n1; }

# e2e_install_guard [msi|scm] [POLICY]: install PortGuard the way ops do (the MSI, default policy
# unless POLICY is given) or, with scm (or when no MSI was built), copy portguard.exe to Program
# Files, the policy to %ProgramData%\PortGuard\policy.toml and create the service `PortGuard`
# ("portguard.exe run", auto start) with the SCM API. Does not start it.
e2e_install_guard() {
  local how=${1:-${E2E_GUARD_INSTALL:-auto}} policy=${2:-}
  local msi
  msi=$(e2e_msi)
  if [[ $how == auto ]]; then how=${msi:+msi}; how=${how:-scm}; fi
  if [[ $how == msi ]]; then
    [[ -n $msi ]] || pg_fail "no MSI in $PORTGUARD_BINARY_DIR/installer: build target msi"
    local props=()
    [[ -n $policy ]] && props+=("POLICYFILE=$(pg_winpath "$policy")")
    local rc=0
    # Its console output goes to a file: shown on failure, never into a scenario's (or the demo's) narration.
    e2e_wine msiexec /i "$(pg_winpath "$msi")" /qn "${props[@]}" /l*v 'C:\e2e-msiexec.log' \
      >"$WINEPREFIX/e2e-msiexec.out" 2>&1 || rc=$?
    if ((rc != 0)); then
      tr -d '\r' <"$WINEPREFIX/e2e-msiexec.out" | tail -n 10 >&2
      # The verbose log says which action failed: show the lines around "Return value 3".
      grep -a -B8 'Return value 3' "$WINEPREFIX/drive_c/e2e-msiexec.log" 2>/dev/null | tail -n 30 >&2 || true
      pg_fail "msiexec /i failed ($rc); log: $WINEPREFIX/drive_c/e2e-msiexec.log"
    fi
    E2E_GUARD_INSTALLED=msi
  else
    [[ -f $E2E_PG_EXE ]] || pg_fail "missing $E2E_PG_EXE: build target portguard"
    local data
    data=$(E2E_PG_DATA_UNIX)
    mkdir -p "$WINEPREFIX/drive_c/Program Files/PortGuard" "$data"
    cp "$E2E_PG_EXE" "$WINEPREFIX/drive_c/Program Files/PortGuard/portguard.exe"
    [[ -n $policy ]] || policy=$E2E_ROOT/config/policy.default.toml
    [[ -f $policy ]] || pg_fail "no policy to install ($policy)"
    cp "$policy" "$data/policy.toml"
    chmod 644 "$data/policy.toml"
    pg_scm create PortGuard --binary "\"$E2E_PG_DIR\\portguard.exe\" run" --start auto --display "PortGuard" >/dev/null
    e2e_wine reg add 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard' \
      /v EventMessageFile /t REG_EXPAND_SZ /d "$E2E_PG_DIR\\portguard.exe" /f >/dev/null
    e2e_wine reg add 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard' \
      /v TypesSupported /t REG_DWORD /d 7 /f >/dev/null
    # As the MSI records it (installer/portguard.wxs): where the service finds its data folder.
    e2e_wine reg add 'HKLM\SOFTWARE\PortGuard' /v DataDir /t REG_SZ /d 'C:\ProgramData\PortGuard\' /f >/dev/null
    E2E_GUARD_INSTALLED=scm
  fi
}

# The CLI as ops run it in the prefix; the exit code is portguard's (0..3 fit in the 8 bits).
e2e_pg() { WINEDEBUG=-all wine "$WINEPREFIX/drive_c/Program Files/PortGuard/portguard.exe" "$@" 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }

# e2e_check EXPECTED: `portguard check` exits EXPECTED (Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
e2e_check() {
  local want=$1 out rc
  set +e
  out=$(e2e_pg check)
  rc=$?
  set -e
  E2E_CHECK_OUT=$out
  [[ $rc -eq $want ]] || pg_fail "portguard check exited $rc, expected $want: $out"
  pg_log "ok: portguard check exit $rc: $(head -n1 <<<"$out")"
}

# e2e_covers "1645-1646\01812-1813" PORT...: every PORT lies in one of the ranges (reg query's
# REG_MULTI_SZ rendering, strings separated by \0). Prints the missing ones and fails otherwise.
e2e_covers() {
  local value=$1; shift
  local missing=() p r a b hit
  local IFS_save=$IFS
  for p in "$@"; do
    hit=0
    IFS=$'\n'
    for r in $(sed 's/\\0/\n/g' <<<"$value"); do
      IFS=$IFS_save
      [[ $r =~ ^[[:space:]]*([0-9]+)[[:space:]]*(-[[:space:]]*([0-9]+))?[[:space:]]*$ ]] || continue
      a=${BASH_REMATCH[1]}; b=${BASH_REMATCH[3]:-$a}
      if ((p >= a && p <= b)); then hit=1; break; fi
    done
    IFS=$IFS_save
    ((hit)) || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] || { echo "${missing[*]}"; return 1; }
}

E2E_RADIUS_PORTS=(1645 1646 1812 1813)

# The guard RUNNING after an install (the MSI starts it; an SCM install does not).
e2e_guard_up() {
  local out
  if [[ ${E2E_GUARD_INSTALLED:-} == msi ]]; then
    out=$(pg_scm wait PortGuard RUNNING 60) || pg_fail "PortGuard not RUNNING after the MSI install: $out"
  else
    out=$(e2e_start PortGuard) || pg_fail "PortGuard did not start: $out"
  fi
  pg_log "$out"
}

# e2e_start_ias CONTEXT: start IAS (radius-sim) expecting success. Wine sockets are host sockets,
# so another test's prefix on this machine may hold a RADIUS port at that moment (ctest runs tests
# in parallel; only tests declaring RESOURCE_LOCK radius_ports are kept apart). Such a failure is
# retried (for up to 120 s per scenario in all) only when the holder is identified as another
# prefix's wineserver; any other failure is the scenario's own and fails it.
E2E_FOREIGN_WAIT=0
e2e_start_ias() {
  local context=$1 out holders foreign
  while :; do
    if out=$(e2e_start IAS); then
      E2E_IAS_OUT=$out
      return 0
    fi
    holders=$(e2e_port_holders)
    foreign=$(grep -v "prefix=$WINEPREFIX\$" <<<"$holders" | grep 'prefix=/' || true)
    if [[ -n $foreign && -z $(grep "prefix=$WINEPREFIX\$" <<<"$holders") ]] && ((E2E_FOREIGN_WAIT < 120)); then
      E2E_FOREIGN_WAIT=$((E2E_FOREIGN_WAIT + 3))
      pg_log "NOTE: $context: IAS could not bind: held by another test's prefix ($(head -n1 <<<"$foreign")); retrying in 3 s"
      sleep 3
      continue
    fi
    pg_fail "$context: IAS failed to start: $out${holders:+ (holders: $holders)}"
  done
}

# e2e_widen_host_range FIRST LAST: the host's dynamic range was widened (Exchange 2007 on 2008 set
# 1025-60000). dns-sim draws from SimDynamicPortStart/End. For the guard, the scenario writes what
# its discovery reads (service/adapters/src/dynamic_ranges.cpp): Tcpip\Parameters\MaxUserPort on <= 5.2
# (range 1025..MaxUserPort). On 6.0+ Windows keeps the range where only netsh and WMI
# (MSFT_NetUDPSetting, Windows 8+, absent under Wine) show it, so the scenario sets what an admin
# sets on such a host: PortGuard's override HKLM\SOFTWARE\PortGuard\Parameters
# DynamicPortRangeUdp/Tcp (docs/architecture.md).
e2e_widen_host_range() {
  local first=$1 last=$2
  local dns_params='HKLM\SYSTEM\CurrentControlSet\Services\DNS\Parameters'
  e2e_wine reg add "$dns_params" /v SimDynamicPortStart /t REG_DWORD /d "$first" /f >/dev/null
  e2e_wine reg add "$dns_params" /v SimDynamicPortEnd /t REG_DWORD /d "$last" /f >/dev/null
  e2e_wine reg add 'HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters' /v MaxUserPort /t REG_DWORD /d "$last" /f >/dev/null
  local proto
  for proto in Udp Tcp; do
    e2e_wine reg add 'HKLM\SOFTWARE\PortGuard\Parameters' /v "DynamicPortRange$proto" /t REG_SZ /d "$first-$last" /f >/dev/null
  done
}

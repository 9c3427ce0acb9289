#!/usr/bin/env bash
# A startup failure ends in SERVICE_STOPPED with ERROR_SERVICE_SPECIFIC_ERROR (1066) and PortGuard's
# code 1, the reason in the file log and in event 3010 — never a hang in START_PENDING, never RUNNING
# without a first pass, never a silent exit. Two causes: the Tcpip parameters key cannot be opened
# for change notifications, and a DataDir setting that is not an absolute path (no data folder, so
# no file log: the event is the only place the reason shows).
source "$(dirname "$0")/svc_lib.sh"
svc_setup startfail win2003

svc_policy
svc_install
pg_scm deny-key "$TCPIP" >/dev/null || pg_fail "cannot deny access to the Tcpip key"
# start_must_fail WHY: starts the service and requires STOPPED with ERROR_SERVICE_SPECIFIC_ERROR/1
# and never RUNNING.
start_must_fail() {
  local out rc
  set +e
  out=$(pg_scm start PortGuard --timeout 60 --trace)
  rc=$?
  set -e
  echo "$out"
  ((rc != 0)) || pg_fail "the service reached RUNNING with $1"
  grep -q 'STOPPED win32_exit=1066 service_exit=1' <<<"$out" || pg_fail "$1: not STOPPED with ERROR_SERVICE_SPECIFIC_ERROR/1: $out"
  ! grep -q 'RUNNING' <<<"$out" || pg_fail "$1: RUNNING was reported before the failure"
}

start_must_fail "the Tcpip key denied"
grep -q 'PortGuard could not start: RegOpenKeyExW(SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters) failed' "$PG_DATA/logs/portguard.log" ||
  pg_fail "the file log does not explain the failure"
pg_log "log: $(grep 'could not start' "$PG_DATA/logs/portguard.log" | tr -d '\r' | cut -c25-)"
pg_assert_eq "$(pg_count_event 3010)" 1 "start-failed events after the Tcpip key failure"
pg_event_strings | grep -q 'RegOpenKeyExW(SYSTEM.*Tcpip.*Parameters) failed' || pg_fail "event 3010 does not name the failing call"

# --- a DataDir that is not an absolute path ----------------------------------------------------
pg_tool reg add 'HKLM\SOFTWARE\PortGuard' /v DataDir /t REG_SZ /d 'PortGuard\data' /f >/dev/null
log_lines=$(wc -l <"$PG_DATA/logs/portguard.log")
start_must_fail "a relative DataDir"
pg_assert_eq "$(pg_count_event 3010)" 2 "start-failed events after the DataDir failure"
# Wine's trace prints the insert as a C literal: quotes as \", backslashes doubled.
pg_event_strings | grep -qF 'DataDir is \"PortGuard\\data\", not an absolute local path' ||
  pg_fail "event 3010 does not name the bad DataDir value"
pg_assert_eq "$(wc -l <"$PG_DATA/logs/portguard.log")" "$log_lines" "lines written to the old data folder's log"
[[ ! -e $WINEPREFIX/drive_c/windows/system32/PortGuard ]] || pg_fail "the relative DataDir was created under the working directory"
pg_log "3010: $(pg_event_strings | grep -o 'DataDir is[^,]*' | head -1)"
pg_log "PASS"

#!/usr/bin/env bash
# A startup failure (here: the Tcpip parameters key cannot be opened for change notifications) ends
# in SERVICE_STOPPED with ERROR_SERVICE_SPECIFIC_ERROR (1066) and PortGuard's code 1, the reason in
# the file log — never a hang in START_PENDING and never RUNNING without a first pass.
source "$(dirname "$0")/svc_lib.sh"
svc_setup startfail win2003

svc_policy
svc_install
svc_helper deny-key "$TCPIP" >/dev/null || svc_fail "cannot deny access to the Tcpip key"
set +e
out=$(svc_helper start PortGuard 30)
rc=$?
set -e
echo "$out"
((rc != 0)) || svc_fail "the service reached RUNNING although it could not watch the registry"
grep -q 'STOPPED win32_exit=1066 service_exit=1' <<<"$out" || svc_fail "not STOPPED with ERROR_SERVICE_SPECIFIC_ERROR/1: $out"
grep -q 'RUNNING' <<<"$out" && svc_fail "RUNNING was reported before the failure"
grep -q 'PortGuard could not start: RegOpenKeyExW(SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters) failed' "$SVC_DATA/logs/portguard.log" ||
  svc_fail "the file log does not explain the failure"
svc_log "log: $(grep 'could not start' "$SVC_DATA/logs/portguard.log" | tr -d '\r' | cut -c25-)"
svc_log "PASS"

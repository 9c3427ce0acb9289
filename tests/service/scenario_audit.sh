#!/usr/bin/env bash
# Audit mode: the guard reports what enforce would change (2005) and never writes — neither at the
# first pass nor when the value drifts later.
source "$(dirname "$0")/svc_lib.sh"
svc_setup audit win2003

svc_wine reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1433-1434' /f >/dev/null || svc_fail "wine reg add of ReservedPorts failed"
svc_policy
sed -i 's/enforcement = "enforce"/enforcement = "audit"/' "$SVC_DATA/policy.toml"
svc_install
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_wait_event 1000 30
# Not repaired, so the RADIUS ports stay at risk inside the 2003 dynamic range 1025-5000: one 2004
# per condition, i.e. per range at risk (1645-1646 and 1812-1813), not per [[reserve]] entry.
svc_assert_eq "$(svc_event_ids)" "1004 2005 2004 2004 1000" "event IDs of an audit start"
svc_assert_eq "$(svc_events | awk '$1==2005{print $2}')" warning "level of 2005"
svc_event_strings | grep -q 'L"1645-1646, 1812-1813"' || svc_fail "2005 does not say what enforce would add"
svc_assert_eq "$(svc_reserved)" "1433-1434" "ReservedPorts in audit mode (untouched)"
svc_wine reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1434-1434' /f >/dev/null || svc_fail "wine reg add of ReservedPorts failed"
sleep 1
svc_assert_eq "$(svc_reserved)" "1434-1434" "ReservedPorts after drift in audit mode (untouched)"
svc_assert_eq "$(svc_count_event 1003)" 0 "repair events in audit mode"
[[ ! -d $SVC_DATA/backups ]] || [[ -z $(ls "$SVC_DATA/backups") ]] || svc_fail "audit mode wrote a backup"
svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_log "PASS"

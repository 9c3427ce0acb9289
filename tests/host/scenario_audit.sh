#!/usr/bin/env bash
# Audit mode: the guard reports what enforce would change (2005) and never writes — neither at the
# first pass nor when the value drifts later.
source "$(dirname "$0")/svc_lib.sh"
svc_setup audit win2003

pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1433-1434' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
svc_policy
sed -i 's/enforcement = "enforce"/enforcement = "audit"/' "$PG_DATA/policy.toml"
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_wait_event 1000 30
# Not repaired, so the RADIUS ports stay at risk inside the 2003 dynamic range 1025-5000: one 2004
# per condition, i.e. per range at risk (1645-1646 and 1812-1813), not per [[reserve]] entry.
pg_assert_eq "$(pg_event_ids | paste -sd' ')" "1004 2005 2004 2004 1000" "event IDs of an audit start"
pg_assert_eq "$(pg_events | awk -F'[ |]' '$1==2005{print $2}')" warning "level of 2005"
pg_event_strings | grep -q 'L"1645-1646, 1812-1813"' || pg_fail "2005 does not say what enforce would add"
pg_assert_eq "$(svc_reserved)" "1433-1434" "ReservedPorts in audit mode (untouched)"
pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1434-1434' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
sleep 1
pg_assert_eq "$(svc_reserved)" "1434-1434" "ReservedPorts after drift in audit mode (untouched)"
pg_assert_eq "$(pg_count_event 1003)" 0 "repair events in audit mode"
[[ ! -d $PG_DATA/backups ]] || [[ -z $(ls "$PG_DATA/backups") ]] || pg_fail "audit mode wrote a backup"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "PASS"

#!/usr/bin/env bash
# Policy edits while the service runs: a valid edit is picked up (1004, then the repair); an
# invalid edit keeps the last known good policy and raises 3003 — also across a service restart,
# where the last known good comes from the state directory.
source "$(dirname "$0")/svc_lib.sh"
svc_setup policy win2003

# 0. First start without any policy and without a last known good: RUNNING, 3008, nothing changed;
#    the policy appearing later is picked up through the directory notification.
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING without a policy"
pg_wait_event 3008 30
pg_assert_eq "$(svc_reserved)" "<absent>" "ReservedPorts without a policy (never wiped, never invented)"
svc_policy
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1645-1646|1812-1813" 30000) || pg_fail "the new policy was not picked up: $out"
pg_log "policy installed while running: applied ($out)"

# 1. A valid edit: L2TP for RemoteAccess.
l2tp='[[reserve]]
ports = [1701]
protocol = "udp"
service = "RemoteAccess"
reason = "L2TP"'
t0=$(date +%s%N)
svc_policy "$l2tp"
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1645-1646|1701-1701|1812-1813" 30000) || pg_fail "policy edit not applied: $out"
pg_log "measured: policy edit applied $((($(date +%s%N) - t0) / 1000000)) ms after the file was written"
pg_assert_eq "$(pg_count_event 1004)" 2 "policy-loaded events"

# 2. An invalid edit (a typo): refused, the last known good stays in force.
svc_policy "$l2tp" '[[reserve]]
ports = [2883]
protcol = "udp"
service = "SBS"
reason = "typo"'
pg_wait_event 3003 30
pg_assert_eq "$(pg_events | awk -F'[ |]' '$1==3003{print $2}')" error "level of 3003"
pg_event_strings | grep -q "protcol" || pg_fail "3003 does not name the problem"
pg_event_strings | grep -q "did you mean" || pg_fail "3003 does not suggest the fix"
# Still enforced with the last known good: drift is repaired back to it (including 1701, excluding 2883).
out=$(pg_scm drift "$TCPIP" ReservedPorts "1433-1434" "1433-1434|1645-1646|1701-1701|1812-1813" 30000) || pg_fail "last known good not enforced: $out"
pg_log "with an invalid policy, drift is still $out"

# 3. Restart with the invalid policy on disk: the last known good from the state directory is used.
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
[[ -f $PG_DATA/state/last-known-good.json ]] || pg_fail "no last known good in the state directory"
pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d "" /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
n3003=$(pg_count_event 3003)
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not start with an invalid policy"
pg_assert_eq "$(svc_reserved)" "1645-1646|1701-1701|1812-1813" "ReservedPorts from the last known good after a restart"
(($(pg_count_event 3003) > n3003)) || pg_fail "no 3003 at the restart with an invalid policy"
pg_event_strings | grep -q "last known good" || pg_fail "3003 does not say the last known good is in force"

# 4. Fixed: loaded again.
n1004=$(pg_count_event 1004)
svc_policy "$l2tp"
for _ in $(seq 300); do (($(pg_count_event 1004) > n1004)) && break; sleep 0.1; done
(($(pg_count_event 1004) > n1004)) || pg_fail "the fixed policy was not loaded"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

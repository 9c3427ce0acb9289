#!/usr/bin/env bash
# Drift written while the service runs is repaired (goal: 1 s, a benchmark's number; here within
# SVC_REPAIR_BOUND_MS, generous for a loaded machine, and the latency is printed). Two measurements, both exact to
# ~5 ms and independent of Wine process start-up (which takes 0.1-3 s depending on the load):
#  - `wine reg add` (as an admin would), observed by pg-svc-helper observe, which polls the value
#    every 5 ms from before the write: latency = repaired seen - drift seen;
#  - pg-svc-helper drift: writes and polls in one process.
source "$(dirname "$0")/svc_lib.sh"
svc_setup drift win2003

svc_policy
svc_install
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "ReservedPorts after the first pass"

worst=0
for round in 1 2; do
  obs=$WINEPREFIX/observe.$round
  # Not through svc_helper: its tr would buffer "ready" until the observer exits.
  WINEDEBUG=-all wine "$SVC_HELPER" observe "$TCPIP" ReservedPorts "1433-1434" "1433-1434|1645-1646|1812-1813" 30000 >"$obs" 2>/dev/null &
  observer=$!
  for _ in $(seq 200); do grep -q ready "$obs" 2>/dev/null && break; sleep 0.05; done
  svc_wine reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d "1433-1434" /f >/dev/null || svc_fail "wine reg add of ReservedPorts failed"
  wait "$observer" || svc_fail "drift written by reg add not repaired: $(tail -n1 "$obs")"
  out=$(tail -n1 "$obs" | tr -d "\r")
  ms=$(sed -E 's/repair latency ([0-9]+).*/\1/' <<<"$out")
  svc_log "reg add round $round: $out"
  ((ms > worst)) && worst=$ms
  sleep 5.5  # an admin's next edit, not a change-back within 5 s of the repair (that is a fight)
done
svc_log "measured (reg add): drift repaired within $worst ms"
((worst < SVC_REPAIR_BOUND_MS)) || svc_fail "drift took $worst ms to repair (bound $SVC_REPAIR_BOUND_MS ms)"
exact_worst=0
for round in 1; do
  out=$(svc_helper drift "$TCPIP" ReservedPorts "1434-1434" "1434-1434|1645-1646|1812-1813" 30000) || svc_fail "drift not repaired: $out"
  ms=$(sed -E 's/repaired after ([0-9]+).*/\1/' <<<"$out")
  svc_log "helper round $round: $out (exact, from the write)"
  ((ms > exact_worst)) && exact_worst=$ms
done
svc_log "measured (exact): drift repaired within $exact_worst ms"
((exact_worst < SVC_REPAIR_BOUND_MS)) || svc_fail "drift took $exact_worst ms to repair (bound $SVC_REPAIR_BOUND_MS ms)"
# Edits more than 5 s after the guard's repair are never a fight, however many (issue 18).
svc_wait_event_count 1003 4
svc_wait_event_count 2001 4
svc_assert_eq "$(svc_count_event 1003)" 4 "repair events (first pass + 3 drifts)"
svc_assert_eq "$(svc_count_event 2001)" 4 "drift events"
svc_assert_eq "$(svc_count_event 3006)" 0 "registry-fight events for an admin's occasional edits"

# An identical rewrite is no drift: nothing is written, nothing reported.
before=$(svc_count_event 1003)
svc_wine reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1434-1434\01645-1646\01812-1813' /f >/dev/null || svc_fail "wine reg add of ReservedPorts failed"
sleep 0.5
svc_assert_eq "$(svc_count_event 1003)" "$before" "repairs after an identical rewrite"

svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_log "PASS"

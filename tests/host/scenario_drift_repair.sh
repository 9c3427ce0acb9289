#!/usr/bin/env bash
# Drift written while the service runs is repaired (goal: 1 s, a benchmark's number; here within
# PG_REPAIR_BOUND_MS, generous for a loaded machine, and the latency is printed). Two measurements, both exact to
# ~5 ms and independent of Wine process start-up (which takes 0.1-3 s depending on the load):
#  - `wine reg add` (as an admin would), observed by pg-svc-helper observe, which polls the value
#    every 5 ms from before the write: latency = repaired seen - drift seen;
#  - pg-svc-helper drift: writes and polls in one process.
source "$(dirname "$0")/svc_lib.sh"
svc_setup drift win2003

svc_policy
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "ReservedPorts after the first pass"

worst=0
for round in 1 2; do
  obs=$WINEPREFIX/observe.$round
  # Not through pg_scm: its tr would buffer "ready" until the observer exits.
  WINEDEBUG=-all wine "$PORTGUARD_SCM_HELPER" observe "$TCPIP" ReservedPorts "1433-1434" "1433-1434|1645-1646|1812-1813" 30000 >"$obs" 2>/dev/null &
  observer=$!
  for _ in $(seq 200); do grep -q ready "$obs" 2>/dev/null && break; sleep 0.05; done
  pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d "1433-1434" /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
  wait "$observer" || pg_fail "drift written by reg add not repaired: $(tail -n1 "$obs")"
  out=$(tail -n1 "$obs" | tr -d "\r")
  ms=$(sed -E 's/repair latency ([0-9]+).*/\1/' <<<"$out")
  pg_log "reg add round $round: $out"
  ((ms > worst)) && worst=$ms
  sleep 5.5  # an admin's next edit, not a change-back within 5 s of the repair (that is a fight)
done
pg_log "measured (reg add): drift repaired within $worst ms"
((worst < PG_REPAIR_BOUND_MS)) || pg_fail "drift took $worst ms to repair (bound $PG_REPAIR_BOUND_MS ms)"
exact_worst=0
for round in 1; do
  out=$(pg_scm drift "$TCPIP" ReservedPorts "1434-1434" "1434-1434|1645-1646|1812-1813" 30000) || pg_fail "drift not repaired: $out"
  ms=$(sed -E 's/repaired after ([0-9]+).*/\1/' <<<"$out")
  pg_log "helper round $round: $out (exact, from the write)"
  ((ms > exact_worst)) && exact_worst=$ms
done
pg_log "measured (exact): drift repaired within $exact_worst ms"
((exact_worst < PG_REPAIR_BOUND_MS)) || pg_fail "drift took $exact_worst ms to repair (bound $PG_REPAIR_BOUND_MS ms)"
# Edits more than 5 s after the guard's repair are never a fight, however many (issue 18).
pg_wait_event_count 1003 4
pg_wait_event_count 2001 4
pg_assert_eq "$(pg_count_event 1003)" 4 "repair events (first pass + 3 drifts)"
pg_assert_eq "$(pg_count_event 2001)" 4 "drift events"
pg_assert_eq "$(pg_count_event 3006)" 0 "registry-fight events for an admin's occasional edits"

# An identical rewrite is no drift: nothing is written, nothing reported.
before=$(pg_count_event 1003)
pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1434-1434\01645-1646\01812-1813' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
sleep 0.5
pg_assert_eq "$(pg_count_event 1003)" "$before" "repairs after an identical rewrite"

pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "PASS"

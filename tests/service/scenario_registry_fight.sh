#!/usr/bin/env bash
# Another tool keeps rewriting ReservedPorts (every 20 ms whenever it differs from its idea). The
# guard must detect the fight after a bounded number of rounds, back off with 3006 and stop writing
# — not loop forever and not spin the CPU.
source "$(dirname "$0")/svc_lib.sh"
svc_setup fight win2003

svc_policy
svc_install
svc_helper start PortGuard 60 >/dev/null || svc_fail "the service did not reach RUNNING"
passes_before=$(grep -c 'pass done' "$SVC_DATA/logs/portguard.log")
repairs_before=$(svc_count_event 1003)

out=$(svc_helper fight "$TCPIP" ReservedPorts "1433-1434" 8 20)
svc_log "$out"
rewrites=$(sed -E 's/fight: ([0-9]+) rewrites.*/\1/' <<<"$out")
last_ms=$(sed -E 's/.*last rewrite at ([0-9]+) ms/\1/' <<<"$out")

svc_wait_event 3006 2
svc_assert_eq "$(svc_count_event 3006)" 1 "registry-fight events"
svc_assert_eq "$(svc_events | awk '$1==3006{print $2}')" error "level of 3006"
repairs=$(($(svc_count_event 1003) - repairs_before))
passes=$(($(grep -c 'pass done' "$SVC_DATA/logs/portguard.log") - passes_before))
svc_log "measured: $repairs guard repairs and $passes passes during an 8 s fight; the other tool rewrote $rewrites times, the last at $last_ms ms"
((repairs <= 5)) || svc_fail "the guard kept repairing: $repairs repairs"
((rewrites <= 6)) || svc_fail "the fight went on: the other tool had to rewrite $rewrites times"
((last_ms < 5000)) || svc_fail "the guard still fought $last_ms ms into the fight"
((passes < 40)) || svc_fail "$passes passes in 8 s: the guard spins"
svc_assert_eq "$(svc_reserved)" "1433-1434" "ReservedPorts after the back-off (left to the other tool)"
svc_event_strings | grep -q 'L"reserved-ports"' || svc_fail "3006 does not name the target"

svc_helper stop PortGuard 20 >/dev/null || svc_fail "the service did not stop"
svc_log "PASS"

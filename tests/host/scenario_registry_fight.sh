#!/usr/bin/env bash
# Issue 18, defects 2 and 3: what a registry fight is, and how long the guard leaves a value alone.
#  1. An admin's ordinary edits (the value emptied every 6 s, more than the 5 s change-back window
#     after the guard's repair) are repaired every time: never a fight, no 3006.
#  2. Another tool that changes the value back within 20 ms of every write: after three change-backs
#     in a row the guard backs off 1 s, 2 s, 4 s, 8 s ... (3006 once, rate limited), re-checking
#     exactly when each back-off ends: it keeps repairing a few times, never loops, never gives up
#     for the periodic interval (15 min here).
#  3. The tool stops: the guard repairs when the current back-off ends, within the documented
#     worst-case unprotected window (60 s, docs/service.md; asserted with 5 s of slack for a loaded
#     machine), and 1005 says the fight is over.
source "$(dirname "$0")/svc_lib.sh"
svc_setup fight win2003

svc_policy
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
required="1645-1646|1812-1813"

# 1. Ordinary edits, 6 s apart.
for edit in 1 2 3 4 5; do
  sleep 6
  out=$(pg_scm drift "$TCPIP" ReservedPorts "" "$required" 30000) || pg_fail "edit $edit was not repaired: $out"
  pg_log "admin edit $edit: $out"
done
pg_assert_eq "$(pg_count_event 3006)" 0 "registry-fight events after five ordinary edits"

# 2. A fight for 12 s (started more than 5 s after the last repair, so all three change-backs that
#    start it are the other tool's).
sleep 6
repairs_before=$(pg_count_event 1003)
passes_before=$(grep -c 'pass done' "$PG_DATA/logs/portguard.log")
out=$(pg_scm fight "$TCPIP" ReservedPorts "1433-1434" 12 20)
stopped=$(date +%s%N)
pg_log "$out"
rewrites=$(sed -E 's/fight: ([0-9]+) rewrites.*/\1/' <<<"$out")
repairs=$(($(pg_count_event 1003) - repairs_before))
passes=$(($(grep -c 'pass done' "$PG_DATA/logs/portguard.log") - passes_before))
pg_log "measured: $repairs guard repairs and $passes passes during a 12 s fight; the other tool rewrote $rewrites times"
pg_assert_eq "$(pg_count_event 3006)" 1 "registry-fight events (raised once, rate limited while the fight lasts)"
pg_assert_eq "$(pg_events | awk -F'[ |]' '$1==3006{print $2}')" error "level of 3006"
pg_event_strings | grep -aq 'L"reserved-ports"' || pg_fail "3006 does not name the target"
grep -aq 'backing off 1 s' "$PG_DATA/logs/portguard.log" || pg_fail "the first back-off is not 1 s"
grep -aq 'backing off 2 s' "$PG_DATA/logs/portguard.log" || pg_fail "the back-off does not double (no 2 s back-off)"
# Three quick repairs, then one per back-off end (1, 2, 4, 8 s): the guard keeps guarding.
((repairs >= 5)) || pg_fail "the guard gave up: only $repairs repairs in a 12 s fight"
((repairs <= 9)) || pg_fail "the guard fought too hard: $repairs repairs in 12 s"
((passes < 60)) || pg_fail "$passes passes in 12 s: the guard spins"

# 3. The other tool stopped: repaired when the current back-off ends.
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1433-1434|$required" 65000) ||
  pg_fail "not repaired within the documented worst-case window (60 s + 5 s slack) after the fight stopped: $out"
unprotected_ms=$((($(date +%s%N) - stopped) / 1000000))
pg_log "measured: value unprotected for $unprotected_ms ms after the other tool stopped (documented worst case: 60 s)"
((unprotected_ms <= 65000)) || pg_fail "unprotected for $unprotected_ms ms"
pg_wait_event 1005 15
pg_event_strings | grep -aq 'L"reserved-ports"' || pg_fail "1005 does not name the target"

# Back to normal: the next change is repaired at once.
out=$(pg_scm drift "$TCPIP" ReservedPorts "" "$required" 30000) || pg_fail "not guarded after the fight: $out"
pg_log "after the fight: $out"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

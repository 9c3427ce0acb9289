#!/usr/bin/env bash
# Scenario 5 — drift while running: with the guard running on a 2003 server and ReservedPorts
# repaired, an admin tool deletes the value. The guard writes it back (measured from the delete to
# the value being readable again, by a watcher armed before the delete; the goal is 1 s, shown by
# bench/service_bench.sh; here the bound is PG_REPAIR_BOUND_MS, generous for a loaded machine), and raises
# "drift detected" (2001, warning) and "repaired" (1003, information).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup drift win2003
tcpip_key='SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
e2e_install_guard
e2e_guard_up
value=$(pg_reg_value "HKLM\\$tcpip_key" ReservedPorts || true)
e2e_covers "$value" "${E2E_RADIUS_PORTS[@]}" >/dev/null || pg_fail "ReservedPorts not repaired at start: '$value'"

pg_mark drift
out=$(pg_scm delete-and-wait "$tcpip_key" ReservedPorts 30) || pg_fail "the guard did not restore ReservedPorts: $out"
pg_log "$(tr '\n' ' ' <<<"$out")"
ms=$(sed -nE 's/^restored after ([0-9]+) ms.*/\1/p' <<<"$out")
((ms <= PG_REPAIR_BOUND_MS)) || pg_fail "ReservedPorts restored after $ms ms (bound $PG_REPAIR_BOUND_MS ms)"
value=$(pg_reg_value "HKLM\\$tcpip_key" ReservedPorts || true)
missing=$(e2e_covers "$value" "${E2E_RADIUS_PORTS[@]}") || pg_fail "restored ReservedPorts '$value' misses UDP $missing"
PG_EVENTS_MARK=drift pg_assert_event 2001 "drift detected"
PG_EVENTS_MARK=drift pg_assert_event 1003 "reservations repaired"
out=$(pg_scm status PortGuard) || pg_fail "PortGuard stopped after the drift: $out"
pg_log "ok: drift repaired in $ms ms; $out"

#!/usr/bin/env bash
# Scenario 3 — a modern host (win10 prefix) whose dynamic port range was widened to 1025-60000
# (as Exchange 2007 did on 2008): RADIUS's ports now lie inside the range DNS draws from.
#  - control: without the guard, DNS forced onto 1645 takes it and IAS fails;
#  - the guard applies what this host offers: DNS SocketPoolExcludedPortRanges (1003, "takes effect
#    at DNS service restart"), and falls back because persistent reservations are unavailable under
#    Wine, saying so (3005; `check` CRITICAL "[unavailable]": on this version persistent
#    reservations are the mechanism, and check is as loud as the guard's error event);
#  - the guard reports the RADIUS ports at risk inside the widened range (WMI, which shows the range
#    on Windows 8+, is absent under Wine: the scenario sets PortGuard's documented administrator
#    override instead). The guard's first pass repairs them at once, so the report is asserted on
#    `portguard plan` of the live host (2004 is raised only while a port stays unprotected).
#  - after DNS restarts, dns-sim honours the exclusions (its forced first choice is skipped) and IAS
#    starts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup modern win10
dns_params='HKLM\SYSTEM\CurrentControlSet\Services\DNS\Parameters'
tcpip='HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
e2e_widen_host_range 1025 60000

# Control: the outage on the modern host.
e2e_start DNS --seed 3 --force-first 1645 >/dev/null || pg_fail "DNS did not start"
[[ $(e2e_dns_holds 1645) == 1645 ]] || pg_fail "control: dns-sim did not take 1645 from the widened range"
out=$(e2e_start IAS) && pg_fail "control: IAS started although DNS holds 1645: $out"
pg_log "ok: control: without PortGuard, $out"
pg_scm stop DNS >/dev/null

e2e_install_guard
e2e_guard_up
pg_assert_event 3005 "persistent reservations unavailable (fallback stated)" "not available on this host"
pg_assert_event 1003 "dns-socket-pool repaired" "DNS service restart"
set +e; out=$(e2e_pg check); rc=$?; set -e
((rc == 2)) && grep -q '\[unavailable\] Persistent UDP port reservations' <<<"$out" ||
  pg_fail "check should be CRITICAL naming the unavailable persistent reservations (exit $rc): $out"
pg_log "ok: check exit 1: $(head -n1 <<<"$out")"
out=$(e2e_pg plan) || pg_fail "plan of the live host failed: $out"
# One finding per condition: the RADIUS ranges, each naming every requirement (policy and catalog).
for range in 1645-1646 1812-1813; do
  grep -q "at-risk: UDP $range needed by IAS .* lies inside the dynamic port range 1025-60000 (administrator override" <<<"$out" ||
    pg_fail "plan does not report UDP $range at risk inside the widened range: $(grep -m3 'at-risk' <<<"$out")"
done
pg_log "ok: $(grep -c 'at-risk' <<<"$out") at-risk findings inside 1025-60000, e.g. $(grep -m1 'at-risk: UDP 1645' <<<"$out" | cut -c1-90)"
value=$(pg_reg_value "$dns_params" SocketPoolExcludedPortRanges || true)
missing=$(e2e_covers "$value" "${E2E_RADIUS_PORTS[@]}") ||
  pg_fail "SocketPoolExcludedPortRanges '$value' misses UDP $missing"
pg_log "ok: SocketPoolExcludedPortRanges = $value"
[[ -z $(pg_reg_value "$tcpip" ReservedPorts || true) ]] || pg_fail "ReservedPorts written on a version that ignores it"

# DNS restart: the exclusions take effect.
for seed in 3 4 5 6; do
  out=$(e2e_start DNS --seed "$seed" --force-first 1645) || pg_fail "DNS did not start: $out"
  grep 'first choice' "$E2E_DRIVE/dns-sim.log" | tail -n1 | grep -q 'first choice UDP 1645 skipped: reserved (SocketPoolExcludedPortRanges)' ||
    pg_fail "seed $seed: dns-sim did not skip 1645 as excluded"
  held=$(e2e_dns_holds "${E2E_RADIUS_PORTS[@]}")
  [[ -z $held ]] || pg_fail "seed $seed: dns-sim holds excluded UDP $held"
  e2e_start_ias "seed $seed"
  pg_scm stop IAS >/dev/null
  pg_scm stop DNS >/dev/null
done
pg_log "ok: after the DNS restart, 4 seeded starts: DNS skipped the excluded ports and IAS started"

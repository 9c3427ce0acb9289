#!/usr/bin/env bash
# Scenario 2 — PortGuard on a 2003 server. The install boot finds Tcpip ReservedPorts without
# IAS's ports: the guard repairs it and raises "repaired" (1003) and "pending reboot" (2002), and
# `portguard check` says WARNING (1) until the reboot. Until then the old value is still the one
# tcpip.sys uses (2003 reads ReservedPorts only at boot): dns-sim forced onto 1645 still takes it.
# After the reboot, over PG_BOOTS (default 50) seeded boots — each with DNS's first draw forced
# onto one of IAS's ports and 2,500 random ports from 1025-5000 — DNS never holds a reserved port
# and IAS always starts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
boots=${E2E_BOOTS_N:-50}
e2e_setup guard2003 win2003
tcpip='HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
[[ -z $(pg_reg_value "$tcpip" ReservedPorts || true) ]] || pg_fail "the template prefix already has ReservedPorts"

# What the guard will see: IAS's ports inside the dynamic range 1025-5000 (MaxUserPort default).
plan=$(WINEDEBUG=-all wine "$E2E_PG_EXE" plan --policy "$(pg_winpath "$E2E_ROOT/config/policy.default.toml")" 2>&1 | tr -d '\r') || true
grep -q 'at-risk: UDP 1645.* lies inside the dynamic port range 1025-5000' <<<"$plan" ||
  pg_fail "portguard plan does not report UDP 1645 at risk in 1025-5000: $plan"
grep -qE '^reserved-ports .*effective' <<<"$plan" || pg_fail "plan does not pick reserved-ports on 2003: $plan"
pg_log "ok: plan: $(grep -m1 'at-risk: UDP 1645' <<<"$plan" | sed 's/^ *//' | cut -c1-110)..."

e2e_install_guard
# Boot order on Windows: PortGuard's load-order group starts before ungrouped services like DNS.
# Wine ignores groups, so the scenario starts them in that order itself.
e2e_guard_up
value=$(pg_reg_value "$tcpip" ReservedPorts || true)
missing=$(e2e_covers "$value" "${E2E_RADIUS_PORTS[@]}") || pg_fail "ReservedPorts '$value' misses IAS's UDP $missing"
pg_log "ok: ReservedPorts repaired: $value"
pg_assert_event 1003 "reservations repaired"
pg_assert_event 2002 "pending reboot"
e2e_check 1
grep -qi 'reboot' <<<"$E2E_CHECK_OUT" || pg_fail "check does not say a reboot is pending: $E2E_CHECK_OUT"

# Same boot: the repair is not in effect yet.
e2e_start DNS --seed 1 --count 2500 --force-first 1645 >/dev/null || pg_fail "DNS did not start"
[[ $(e2e_dns_holds 1645) == 1645 ]] || pg_fail "before the reboot dns-sim should still get 1645 (2003 applies ReservedPorts at boot)"
pg_log "ok: before the reboot DNS still takes 1645 (ReservedPorts applies at boot)"

ports_csv=$(IFS=,; echo "${E2E_RADIUS_PORTS[*]}")
t0=$(date +%s)
for ((i = 1; i <= boots; i++)); do
  e2e_reboot
  # The guard is an auto-start service: it comes up with the "machine".
  pg_scm wait PortGuard RUNNING 60 >/dev/null || pg_fail "boot $i: PortGuard not RUNNING"
  first=${E2E_RADIUS_PORTS[$(( (i - 1) % 4 ))]}
  out=$(e2e_start DNS --seed "$i" --count 2500 --force-first "$first") || pg_fail "boot $i: DNS did not start: $out"
  held=$(e2e_dns_holds "${E2E_RADIUS_PORTS[@]}")
  [[ -z $held ]] || pg_fail "boot $i (seed $i): dns-sim holds reserved UDP $held"
  grep 'first choice' "$E2E_DRIVE/dns-sim.log" | tail -n1 | grep -q "first choice UDP $first skipped: reserved" ||
    pg_fail "boot $i: dns-sim's forced first choice $first was not skipped as reserved"
  e2e_start_ias "boot $i"
  if ((i == 1)); then
    # With DNS and IAS running, check must not be CRITICAL. Under Wine it is WARNING: the UDP table
    # has no owner PIDs, so IAS's own ports show as held by "an unknown process". The reboot itself
    # is seen (boot time = when services.exe started), so the pending reboot is over.
    set +e; out=$(e2e_pg check --json); rc=$?; set -e
    ((rc <= 1)) || pg_fail "check after the reboot exited $rc: $out"
    grep -q '"pending": 0' <<<"$out" || pg_fail "check still reports a pending reboot after the reboot: $out"
    pg_log "ok: check after the reboot exits $rc: $(head -n1 <<<"$out")"
  fi
  if ((i == 1)); then
    # After the reboot nothing needs repairing: no new "repaired" event, ReservedPorts still right.
    PG_EVENTS_BOOT=$PG_BOOTS pg_assert_no_event 1003 "repair after the reboot"
    e2e_covers "$(pg_reg_value "$tcpip" ReservedPorts || true)" "${E2E_RADIUS_PORTS[@]}" >/dev/null ||
      pg_fail "ReservedPorts lost across the reboot"
  fi
  # Log a line per 10 boots to keep the output short.
  ((i % 10 == 0)) && pg_log "ok: $i boots: DNS never held UDP $ports_csv, IAS always started"
done
# Every boot the guard came up compliant: one "in compliance" (1002) per boot after the install.
compliant=$(PG_EVENTS_BOOT=2 pg_event_ids | grep -cx 1002 || true)
((compliant >= boots)) || pg_fail "only $compliant 'in compliance' events (1002) in $boots boots"
pg_log "ok: $compliant 'in compliance' events (1002) in $boots boots"
errors=$(PG_EVENTS_BOOT=2 pg_events | awk '$1 >= 3000' | sort | uniq -c | sort -rn)
# Monitoring must stay quiet on a healthy reboot: no error event at all (a failed boot-time attempt
# that the guard retries only logs).
[[ -z $errors ]] || pg_fail "error events raised during the boots: $(head -n3 <<<"$errors" | tr -s ' ')"
pg_log "ok: $boots seeded boots in $(( $(date +%s) - t0 )) s ($(grep -c 'first choice UDP .* skipped: reserved' "$E2E_DRIVE/dns-sim.log") forced first choices skipped)"

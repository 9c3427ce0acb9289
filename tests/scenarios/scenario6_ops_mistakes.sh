#!/usr/bin/env bash
# Scenario 6 — ops mistakes while the guard runs on a 2003 server:
#  a) an invalid policy is pushed: the guard keeps the last known good policy (it still repairs
#     drift of IAS's ports) and raises "policy invalid, using last known good" (3003);
#  b) the policy is made Everyone-writable (chmod o+w: Wine maps it to an Everyone write ACE): the
#     guard refuses it (3007) and keeps guarding with the last known good.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup opsmistakes win2003
tcpip_key='SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
e2e_install_guard
e2e_guard_up
policy=$(E2E_PG_DATA_UNIX)/policy.toml
[[ -f $policy ]] || pg_fail "no policy at $policy"
good=$(cat "$policy")

still_guarding() {
  local out ms
  out=$(pg_scm delete-and-wait "$tcpip_key" ReservedPorts 30) || pg_fail "$1: the guard no longer repairs ReservedPorts: $out"
  ms=$(sed -nE 's/^restored after ([0-9]+) ms.*/\1/p' <<<"$out")
  e2e_covers "$(pg_reg_value "HKLM\\$tcpip_key" ReservedPorts || true)" "${E2E_RADIUS_PORTS[@]}" >/dev/null ||
    pg_fail "$1: ReservedPorts restored without IAS's ports"
  pg_scm status PortGuard >/dev/null || pg_fail "$1: PortGuard is not running"
  pg_log "ok: $1: still RUNNING, drift repaired in $ms ms with the last known good policy"
}

# a) invalid policy
pg_mark invalid
printf '%s\n' '# pushed by a broken deployment script' '[[reserve]]' 'ports = "1645-"' 'protocol = "udpp"' >"$policy"
PG_EVENTS_MARK=invalid pg_assert_event 3003 "policy invalid, using last known good" "policy.toml:3:"
still_guarding "invalid policy"
# Monitoring sees it too: the policy on disk cannot be used.
e2e_check 2

# b) a good policy, but writable by Everyone
pg_mark writable
# Written aside and renamed into place, so the guard never sees the good text with a safe mode.
printf '%s\n' "$good" >"$policy.new"
chmod o+w "$policy.new"
mv "$policy.new" "$policy"
PG_EVENTS_MARK=writable pg_assert_event 3007 "insecure policy file refused" "Everyone"
still_guarding "Everyone-writable policy"
PG_EVENTS_MARK=writable pg_assert_no_event 1004 "policy loaded (the writable file must not be loaded)"

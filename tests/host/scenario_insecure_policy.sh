#!/usr/bin/env bash
# A policy file that Everyone can write (chmod o+w on the Unix file: Wine synthesizes the DACL
# from the mode) is refused with 3007, and the last known good stays in force; fixing the
# permissions makes the guard load it.
source "$(dirname "$0")/svc_lib.sh"
svc_setup insecure win2003

svc_policy
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_assert_eq "$(pg_count_event 3007)" 0 "insecure-policy events with a 0644 policy"

# An Everyone-writable policy that would add 1701: refused at start.
svc_policy '[[reserve]]
ports = [1701]
protocol = "udp"
service = "RemoteAccess"
reason = "L2TP"'
chmod o+w "$PG_DATA/policy.toml"
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_wait_event 3007 30
pg_assert_eq "$(pg_events | awk -F'[ |]' '$1==3007{print $2}' | head -n1)" error "level of 3007"
pg_event_strings | grep -q "Everyone" || pg_fail "3007 does not name who can write the policy"
pg_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "ReservedPorts (the refused policy's 1701 is not applied)"
# Issue 18, defect 5: check, plan and validate give the service's verdict, not a plan from the
# refused policy (which would say WARNING drift about 1701).
set +e
check_out=$(portguard check); check_rc=$?
validate_out=$(portguard validate); validate_rc=$?
set -e
pg_log "check: $check_out (exit $check_rc)"
pg_assert_eq "$check_rc" 2 "check's exit code on a refused policy (CRITICAL)"
grep -q '^PORTGUARD CRITICAL - policy refused: writable by Everyone' <<<"$check_out" || pg_fail "check does not say the policy is refused: $check_out"
pg_assert_eq "$validate_rc" 1 "validate's exit code on a refused policy"
grep -q 'policy refused: writable by Everyone' <<<"$validate_out" || pg_fail "validate does not say the policy is refused: $validate_out"

# Permissions fixed while running: the change notification makes the guard re-check and load it.
chmod o-w "$PG_DATA/policy.toml"
touch "$PG_DATA/policy.toml"
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1645-1646|1701-1701|1812-1813" 30000) || pg_fail "the fixed policy was not loaded: $out"
pg_log "fixed policy applied: $out"

# A writable policy directory is as bad as a writable file (anyone could replace the file).
chmod o+w "$PG_DATA"
n=$(pg_count_event 3007)
touch "$PG_DATA/policy.toml"
for _ in $(seq 300); do (($(pg_count_event 3007) > n)) && break; sleep 0.1; done
(($(pg_count_event 3007) > n)) || pg_fail "a writable policy directory was not refused"
chmod o-w "$PG_DATA"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

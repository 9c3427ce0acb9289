#!/usr/bin/env bash
# A policy file that Everyone can write (chmod o+w on the Unix file: Wine synthesizes the DACL
# from the mode) is refused with 3007, and the last known good stays in force; fixing the
# permissions makes the guard load it.
source "$(dirname "$0")/svc_lib.sh"
svc_setup insecure win2003

svc_policy
svc_install
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_assert_eq "$(svc_count_event 3007)" 0 "insecure-policy events with a 0644 policy"

# An Everyone-writable policy that would add 1701: refused at start.
svc_policy '[[reserve]]
ports = [1701]
protocol = "udp"
service = "RemoteAccess"
reason = "L2TP"'
chmod o+w "$SVC_DATA/policy.toml"
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_wait_event 3007 30
svc_assert_eq "$(svc_events | awk '$1==3007{print $2}' | head -n1)" error "level of 3007"
svc_event_strings | grep -q "Everyone" || svc_fail "3007 does not name who can write the policy"
svc_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "ReservedPorts (the refused policy's 1701 is not applied)"
# Issue 18, defect 5: check, plan and validate give the service's verdict, not a plan from the
# refused policy (which would say WARNING drift about 1701).
set +e
check_out=$(portguard check); check_rc=$?
validate_out=$(portguard validate); validate_rc=$?
set -e
svc_log "check: $check_out (exit $check_rc)"
svc_assert_eq "$check_rc" 2 "check's exit code on a refused policy (CRITICAL)"
grep -q '^PORTGUARD CRITICAL - policy refused: writable by Everyone' <<<"$check_out" || svc_fail "check does not say the policy is refused: $check_out"
svc_assert_eq "$validate_rc" 1 "validate's exit code on a refused policy"
grep -q 'policy refused: writable by Everyone' <<<"$validate_out" || svc_fail "validate does not say the policy is refused: $validate_out"

# Permissions fixed while running: the change notification makes the guard re-check and load it.
chmod o-w "$SVC_DATA/policy.toml"
touch "$SVC_DATA/policy.toml"
out=$(svc_helper wait-multi "$TCPIP" ReservedPorts "1645-1646|1701-1701|1812-1813" 30000) || svc_fail "the fixed policy was not loaded: $out"
svc_log "fixed policy applied: $out"

# A writable policy directory is as bad as a writable file (anyone could replace the file).
chmod o+w "$SVC_DATA"
n=$(svc_count_event 3007)
touch "$SVC_DATA/policy.toml"
for _ in $(seq 300); do (($(svc_count_event 3007) > n)) && break; sleep 0.1; done
(($(svc_count_event 3007) > n)) || svc_fail "a writable policy directory was not refused"
chmod o-w "$SVC_DATA"
svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_log "events: $(svc_event_ids)"
svc_log "PASS"

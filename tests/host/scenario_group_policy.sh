#!/usr/bin/env bash
# Issue 17, Group Policy: values written to HKLM\SOFTWARE\Policies\PortGuard (what the Group Policy
# client writes from PortGuard.admx) change the running guard's policy within seconds, with gpo:
# provenance in plans and events; bad values give the documented error and never remove
# protection; Enforcement=audit stops writes; ProtectServices makes a service wait for PortGuard.
source "$(dirname "$0")/svc_lib.sh"
svc_setup group_policy win2003

GPO='HKLM\SOFTWARE\Policies\PortGuard'
POLICY='C:\ProgramData\PortGuard\policy.toml'
reg_add() { pg_tool reg add "$@" /f >/dev/null || pg_fail "wine reg add $* failed"; }
# wait_count ID N: until the trace holds more than N events ID (10 s), else fail.
wait_more() {
  for _ in $(seq 100); do (($(pg_count_event "$1") > $2)) && return 0; sleep 0.1; done
  pg_fail "no new event $1 within 10 s"
}

svc_policy
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "ReservedPorts from the policy file alone"

# --- a Group Policy reservation is merged in, written, and shown with gpo: provenance -------------
n1004=$(pg_count_event 1004)
reg_add "$GPO\\Reservations" /v 1 /t REG_SZ /d '1701/udp/RemoteAccess'
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1645-1646|1701-1701|1812-1813" 8000) ||
  pg_fail "the Group Policy reservation was not written: $out"
pg_log "Group Policy reservation written: $out"
wait_more 1004 "$n1004"
pg_event_strings | grep -aqF 'policy.toml + Group Policy (HKLM\\SOFTWARE\\Policies\\PortGuard)' ||
  pg_fail "1004 does not name Group Policy as a source"
plan=$(portguard plan --policy "$POLICY")
grep -qF '1701-1701/udp  RemoteAccess (gpo: HKLM\SOFTWARE\Policies\PortGuard\Reservations: Group Policy entry '"'"'1701/udp/RemoteAccess'"'"')' <<<"$plan" ||
  pg_fail "portguard plan does not show the gpo: provenance: $plan"
pg_log "ok: plan shows gpo: provenance"

# --- services that wait for PortGuard at boot ----------------------------------------------------
n2009=$(pg_count_event 2009)
pg_scm create IAS >/dev/null || pg_fail "cannot create a dummy IAS service"
reg_add "$GPO\\ProtectServices" /v 1 /t REG_SZ /d 'IAS'
reg_add "$GPO\\ProtectServices" /v 2 /t REG_SZ /d 'NoSuchService'
pg_wait_event 1006 10
wait_more 2009 "$n2009"
pg_assert_eq "$(pg_scm read-multi 'SYSTEM\CurrentControlSet\Services\IAS' DependOnService)" "PortGuard" "IAS DependOnService after ProtectServices=IAS"
pg_event_strings | grep -aq 'NoSuchService' || pg_fail "2009 does not name the missing service"
portguard protect --list | grep -qx IAS || pg_fail "the Group Policy protection is not recorded for unprotect"

# --- a bad value: the documented error, and protection stays ------------------------------------
n3003=$(pg_count_event 3003)
reg_add "$GPO\\Reservations" /v 2 /t REG_SZ /d '1813-1812/udp/IAS'
wait_more 3003 "$n3003"
pg_event_strings | grep -aqF "Reservations: value '2' ('1813-1812/udp/IAS'): reversed range '1813-1812'; write '1812-1813'" ||
  pg_fail "3003 does not name the registry value and what to write"
out=$(pg_scm drift "$TCPIP" ReservedPorts "" "1645-1646|1701-1701|1812-1813" 5000) ||
  pg_fail "with a bad Group Policy value the merged policy in force is not enforced: $out"
pg_log "bad Group Policy value: drift still repaired to $out"
validate=$(portguard validate --policy "$POLICY"; echo "rc=$?")
grep -qF "HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations: value '2'" <<<"$validate" || pg_fail "validate does not report the bad value: $validate"
grep -qF "the Group Policy settings under HKLM\\SOFTWARE\\Policies\\PortGuard are invalid" <<<"$validate" || pg_fail "validate does not say Group Policy is invalid: $validate"
check=$(portguard check --policy "$POLICY"; echo "rc=$?")
grep -q "rc=2" <<<"$check" || pg_fail "check with a bad Group Policy value is not CRITICAL: $check"
# The bad value removed: Group Policy is valid again, and the reload says so (1004).
n1004=$(pg_count_event 1004)
pg_tool reg delete "$GPO\\Reservations" /v 2 /f >/dev/null
wait_more 1004 "$n1004"

# --- Enforcement = audit stops writes ------------------------------------------------------------
n1004=$(pg_count_event 1004)
reg_add "$GPO" /v Enforcement /t REG_SZ /d audit
wait_more 1004 "$n1004"
# The insertion strings are traced apart from the event ID line: give them a moment to land.
for _ in $(seq 50); do pg_event_strings | grep -aq 'L"audit"' && break; sleep 0.1; done
pg_event_strings | grep -aq 'L"audit"' || pg_fail "1004 after Enforcement=audit does not say audit"
n2005=$(pg_count_event 2005)
pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1434-1434' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
wait_more 2005 "$n2005"
sleep 1
pg_assert_eq "$(svc_reserved)" "1434-1434" "ReservedPorts after drift with Group Policy Enforcement=audit (untouched)"
repair=$(portguard repair --policy "$POLICY"; echo "rc=$?")
grep -q "audit mode" <<<"$repair" || pg_fail "repair does not refuse in Group Policy audit mode: $repair"
pg_assert_eq "$(svc_reserved)" "1434-1434" "ReservedPorts after portguard repair in audit mode"

# --- the setting removed (Not configured): the file decides again and repairs ---------------------
pg_tool reg delete "$GPO" /v Enforcement /f >/dev/null
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1434-1434|1645-1646|1701-1701|1812-1813" 8000) ||
  pg_fail "after removing Enforcement the guard did not enforce again: $out"
pg_log "Enforcement removed: repaired to $out"

pg_scm stop PortGuard --timeout 20 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

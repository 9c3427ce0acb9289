#!/usr/bin/env bash
# The PortGuard service on a Windows Server 2003 prefix with a drifted ReservedPorts: installed with
# the SCM API, it starts, reports START_PENDING with rising checkpoints, reaches RUNNING only after
# the first pass repaired the value, raises the documented events in order, stops cleanly.
source "$(dirname "$0")/svc_lib.sh"
svc_setup lifecycle win2003

pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1433-1434' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
svc_policy
svc_install
pg_assert_eq "$(pg_scm read-sz 'SYSTEM\CurrentControlSet\Services\PortGuard' Group)" NetworkProvider "load-order group"
pg_assert_eq "$(pg_scm read-sz 'SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard' EventMessageFile)" \
  "$(printf 'Z:%s' "${PORTGUARD_EXE//\//\\}")" "event source message file"
# The data folder is recorded, as the MSI does, so the service never asks the shell for it.
pg_assert_eq "$(pg_scm read-sz 'SOFTWARE\PortGuard' DataDir)" 'C:\ProgramData\PortGuard' "recorded DataDir"

trace=$(pg_scm start PortGuard --timeout 60 --trace) || { echo "$trace"; pg_fail "the service did not reach RUNNING"; }
# Read the value the moment RUNNING is seen: the first pass must be complete by then.
value_at_running=$(svc_reserved)
echo "$trace"
pg_assert_eq "$value_at_running" "1433-1434|1645-1646|1812-1813" "ReservedPorts when RUNNING was first seen"

# START_PENDING with rising checkpoints and a wait hint, then RUNNING.
grep -q 'RUNNING' <<<"$trace" || pg_fail "no RUNNING in the status trace"
checkpoints=$(grep -o 'START_PENDING checkpoint=[0-9]*' <<<"$trace" | sed 's/.*=//' | tr '\n' ' ')
pg_log "START_PENDING checkpoints seen: $checkpoints"
prev=0
for cp in $checkpoints; do
  ((cp > prev)) || pg_fail "checkpoints do not rise: $checkpoints"
  prev=$cp
done
grep -q 'START_PENDING checkpoint=[1-9][0-9]* wait_hint=[1-9]' <<<"$trace" || pg_fail "START_PENDING without a wait hint"

# The events the first pass raised, in order: policy loaded, drift, repaired, pending reboot,
# in compliance, started.
pg_wait_event 1000 30
pg_assert_eq "$(pg_event_ids | paste -sd' ')" "1004 2001 1003 2002 1002 1000" "event IDs in order"
pg_assert_eq "$(pg_events | awk -F'[ |]' '$1==2001{print $2}')" warning "level of 2001"
pg_event_strings | grep -q 'L"1645-1646, 1812-1813"' || pg_fail "the drift event does not name the missing ranges"
pg_event_strings | grep -q 'L"next boot"' || pg_fail "the repair event does not say it takes effect at the next boot"

ls "$PG_DATA/backups/"*.json >/dev/null 2>&1 || pg_fail "no backup of the previous value"
pg_assert_eq "$(ls "$PG_DATA/backups/" | wc -l)" 1 "backups written"
grep -q 'pass done' "$PG_DATA/logs/portguard.log" || pg_fail "no file log in ProgramData\\PortGuard\\logs"

# PARAMCHANGE: "re-read the policy and check now", handled without blocking the handler.
passes=$(grep -c 'pass done' "$PG_DATA/logs/portguard.log")
pg_scm paramchange PortGuard >/dev/null || pg_fail "PARAMCHANGE refused"
for _ in $(seq 300); do (($(grep -c 'pass done' "$PG_DATA/logs/portguard.log") > passes)) && break; sleep 0.1; done
grep -q 'recheck requested' "$PG_DATA/logs/portguard.log" || pg_fail "PARAMCHANGE did not trigger a recheck"
(($(grep -c 'pass done' "$PG_DATA/logs/portguard.log") > passes)) || pg_fail "no pass after PARAMCHANGE"
pg_log "ok: PARAMCHANGE triggered a policy re-read and a pass"

stopped=$(pg_scm stop PortGuard --timeout 60) || { echo "$stopped"; pg_fail "the service did not stop"; }
echo "$stopped"
grep -q 'STOPPED win32_exit=0 service_exit=0' <<<"$stopped" || pg_fail "not a clean stop: $stopped"
pg_wait_event 1001 30
pg_assert_eq "$(pg_event_ids | paste -sd' ')" "1004 2001 1003 2002 1002 1000 1004 1001" "event IDs after PARAMCHANGE (policy re-read: 1004) and stop"

# `portguard check` (monitoring) sees the change the service made as pending until the reboot.
set +e
check_out=$(portguard check)
check_rc=$?
set -e
pg_log "check: rc=$check_rc: $(head -n1 <<<"$check_out")"
((check_rc == 1)) || pg_fail "check after the service's repair: expected WARNING (1), got $check_rc: $check_out"
grep -qi 'pending reboot' <<<"$check_out" || pg_fail "check does not report the pending reboot: $check_out"

# `run` outside the SCM explains itself instead of hanging; console mode runs the same routine.
if out=$(portguard run 2>&1); then pg_fail "portguard run outside the SCM succeeded"; fi
out=$(WINEDEBUG=-all wine "$PORTGUARD_EXE" run --console --once 2>&1 | tr -d '\r')
grep -q 'event 1002 Host in compliance' <<<"$out" || { echo "$out"; pg_fail "console mode did not run a pass"; }
pg_log "console mode: $(grep -c 'event ' <<<"$out") events echoed"
pg_log "PASS"

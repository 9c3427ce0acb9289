#!/usr/bin/env bash
# Issue 16 item 1 on the Windows 2003 path, for real under Wine: the dynamic port range is
# 1025..MaxUserPort (Tcpip\Parameters, REG_DWORD). An installer widens MaxUserPort to 65534:
#   `portguard check` warns (WARNING, dynamic-range-drift, exit 1) and says what repair writes;
#   `portguard repair` restores MaxUserPort = 5000 after backing up the exact previous DWORD, and
#   check then says WARNING "pending reboot" (MaxUserPort is read at boot) instead of the drift;
#   `portguard rollback` lists and restores that backup byte-exact;
#   the guard (enforce) restores a widening made while it runs (the Tcpip key is watched), with
#   warning 2007 then 1003 naming dynamic-range/udp, and a backup.
# (The WMI path of Windows 8/2012+ has no MSFT_Net*Setting under Wine: tests/core/dynamic_range_test.cpp.)
source "$(dirname "$0")/svc_lib.sh"
svc_setup rangedrift win2003

svc_policy '[guard.dynamic_range]
udp = "1025-5000"
tcp = "1025-5000"'
# RADIUS is reserved already: the only thing wrong with this host is the range.
svc_wine reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1645-1646\01812-1813' /f >/dev/null || svc_fail "wine reg add of ReservedPorts failed"
svc_wine reg add "HKLM\\$TCPIP" /v MaxUserPort /t REG_DWORD /d 65534 /f >/dev/null || svc_fail "wine reg add of MaxUserPort failed"
svc_assert_eq "$(svc_helper read-dword "$TCPIP" MaxUserPort)" 65534 "MaxUserPort widened by the 'installer'"

set +e
out=$(portguard check); rc=$?
set -e
svc_log "check: $out (exit $rc)"
svc_assert_eq "$rc" 1 "check's exit code on a widened range (WARNING)"
grep -q 'dynamic-range-drift.*UDP dynamic port range is 1025-65534 (MaxUserPort), but the policy expects 1025-5000' <<<"$out" ||
  svc_fail "check does not name the drift: $out"

out=$(portguard repair)
svc_log "repair: $out"
grep -q 'dynamic-range/udp: set 1025-5000 through MaxUserPort (was 1025-65534); backup .*takes effect at the next boot' <<<"$out" ||
  svc_fail "repair does not say what it restored: $out"
svc_assert_eq "$(svc_helper read-dword "$TCPIP" MaxUserPort)" 5000 "MaxUserPort after repair"
backup=$(ls "$SVC_DATA"/backups/*dynamic-range-udp.json 2>/dev/null | head -1)
[[ -n $backup ]] || svc_fail "no dynamic-range backup in $SVC_DATA/backups"
grep -q '"hex": "feff0000"' "$backup" || svc_fail "the backup does not hold the exact previous DWORD: $(cat "$backup")"
set +e
out=$(portguard check); rc=$?
set -e
svc_log "check after repair: $out (exit $rc)"
# MaxUserPort is read at boot: until then the wide range is in force, and check says so.
svc_assert_eq "$rc" 1 "check's exit code after repair (pending reboot)"
grep -q 'WARNING - pending reboot: dynamic-range/udp was changed and takes effect at the next boot' <<<"$out" ||
  svc_fail "check after repair does not say the restored range waits for a reboot: $out"
grep -q 'dynamic-range-drift' <<<"$out" && svc_fail "check still reports the drift after repair: $out"

# Rollback lists the backup and restores it exactly; a second repair puts the policy's range back.
id=$(basename "$backup" .json)
portguard rollback --list | grep -q "$id .*dynamic-range/udp (MaxUserPort)  was 1025-65534" || svc_fail "rollback --list: $(portguard rollback --list)"
out=$(portguard rollback --restore "$id")
svc_log "rollback: $out"
svc_assert_eq "$(svc_helper read-dword "$TCPIP" MaxUserPort)" 65534 "MaxUserPort after rollback"
portguard repair >/dev/null
svc_assert_eq "$(svc_helper read-dword "$TCPIP" MaxUserPort)" 5000 "MaxUserPort after a second repair"

# The guard: a widening while it runs is restored, with 2007 then 1003, and backed up.
backups_before=$(ls "$SVC_DATA"/backups/*.json | wc -l)
svc_install
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_assert_eq "$(svc_count_event 2007)" 0 "2007 events on a healthy range"
svc_wine reg add "HKLM\\$TCPIP" /v MaxUserPort /t REG_DWORD /d 65534 /f >/dev/null || svc_fail "wine reg add of MaxUserPort failed"
out=$(svc_helper wait-dword "$TCPIP" MaxUserPort 5000 30000) || svc_fail "the guard did not restore MaxUserPort: $out"
svc_log "measured: MaxUserPort widening restored by the guard, $out (from the end of the wine reg add)"
svc_wait_event 2007 30
svc_wait_event_count 1003 1
# The file log carries each event with its insertion strings (Wine's ReportEventW trace splits them).
grep -q 'event 2007 Dynamic port range differs from the policy: UDP | 1025-65534 | MaxUserPort | 1025-5000 | .*policy.toml:17 | PortGuard sets .*MaxUserPort = 5000' "$SVC_DATA/logs/portguard.log" ||
  svc_fail "2007 does not carry the ranges: $(grep 'event 2007' "$SVC_DATA/logs/portguard.log" | tail -2)"
grep -q 'event 1003 Reservations repaired: dynamic-range/udp | range 1025-5000 | range 1025-65534 | next boot | .*-dynamic-range-udp' "$SVC_DATA/logs/portguard.log" ||
  svc_fail "1003 does not name the restored range: $(grep 'event 1003' "$SVC_DATA/logs/portguard.log" | tail -2)"
(($(ls "$SVC_DATA"/backups/*.json | wc -l) > backups_before)) || svc_fail "the guard restored MaxUserPort without a backup"
svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_log "events: $(svc_event_ids)"
svc_log "PASS"

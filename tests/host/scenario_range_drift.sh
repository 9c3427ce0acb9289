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
pg_tool reg add "HKLM\\$TCPIP" /v ReservedPorts /t REG_MULTI_SZ /d '1645-1646\01812-1813' /f >/dev/null || pg_fail "wine reg add of ReservedPorts failed"
pg_tool reg add "HKLM\\$TCPIP" /v MaxUserPort /t REG_DWORD /d 65534 /f >/dev/null || pg_fail "wine reg add of MaxUserPort failed"
pg_assert_eq "$(pg_scm read-dword "$TCPIP" MaxUserPort)" 65534 "MaxUserPort widened by the 'installer'"

set +e
out=$(portguard check); rc=$?
set -e
pg_log "check: $out (exit $rc)"
pg_assert_eq "$rc" 1 "check's exit code on a widened range (WARNING)"
grep -q 'dynamic-range-drift.*UDP dynamic port range is 1025-65534 (MaxUserPort), but the policy expects 1025-5000' <<<"$out" ||
  pg_fail "check does not name the drift: $out"

out=$(portguard repair)
pg_log "repair: $out"
grep -q 'dynamic-range/udp: set 1025-5000 through MaxUserPort (was 1025-65534); backup .*takes effect at the next boot' <<<"$out" ||
  pg_fail "repair does not say what it restored: $out"
pg_assert_eq "$(pg_scm read-dword "$TCPIP" MaxUserPort)" 5000 "MaxUserPort after repair"
backup=$(ls "$PG_DATA"/backups/*dynamic-range-udp.json 2>/dev/null | head -1)
[[ -n $backup ]] || pg_fail "no dynamic-range backup in $PG_DATA/backups"
grep -q '"hex": "feff0000"' "$backup" || pg_fail "the backup does not hold the exact previous DWORD: $(cat "$backup")"
set +e
out=$(portguard check); rc=$?
set -e
pg_log "check after repair: $out (exit $rc)"
# MaxUserPort is read at boot: until then the wide range is in force, and check says so.
pg_assert_eq "$rc" 1 "check's exit code after repair (pending reboot)"
grep -q 'WARNING - pending reboot: dynamic-range/udp was changed and takes effect at the next boot' <<<"$out" ||
  pg_fail "check after repair does not say the restored range waits for a reboot: $out"
grep -q 'dynamic-range-drift' <<<"$out" && pg_fail "check still reports the drift after repair: $out"

# Rollback lists the backup and restores it exactly; a second repair puts the policy's range back.
id=$(basename "$backup" .json)
portguard rollback --list | grep -q "$id .*dynamic-range/udp (MaxUserPort)  was 1025-65534" || pg_fail "rollback --list: $(portguard rollback --list)"
out=$(portguard rollback --restore "$id")
pg_log "rollback: $out"
pg_assert_eq "$(pg_scm read-dword "$TCPIP" MaxUserPort)" 65534 "MaxUserPort after rollback"
portguard repair >/dev/null
pg_assert_eq "$(pg_scm read-dword "$TCPIP" MaxUserPort)" 5000 "MaxUserPort after a second repair"

# The guard: a widening while it runs is restored, with 2007 then 1003, and backed up.
backups_before=$(ls "$PG_DATA"/backups/*.json | wc -l)
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_assert_eq "$(pg_count_event 2007)" 0 "2007 events on a healthy range"
pg_tool reg add "HKLM\\$TCPIP" /v MaxUserPort /t REG_DWORD /d 65534 /f >/dev/null || pg_fail "wine reg add of MaxUserPort failed"
out=$(pg_scm wait-dword "$TCPIP" MaxUserPort 5000 30000) || pg_fail "the guard did not restore MaxUserPort: $out"
pg_log "measured: MaxUserPort widening restored by the guard, $out (from the end of the wine reg add)"
pg_wait_event 2007 30
pg_wait_event_count 1003 1
# The file log carries each event with its insertion strings (Wine's ReportEventW trace splits them).
grep -q 'event 2007 Dynamic port range differs from the policy: UDP | 1025-65534 | MaxUserPort | 1025-5000 | .*policy.toml:17 | PortGuard sets .*MaxUserPort = 5000' "$PG_DATA/logs/portguard.log" ||
  pg_fail "2007 does not carry the ranges: $(grep 'event 2007' "$PG_DATA/logs/portguard.log" | tail -2)"
grep -q 'event 1003 Reservations repaired: dynamic-range/udp | range 1025-5000 | range 1025-65534 | next boot | .*-dynamic-range-udp' "$PG_DATA/logs/portguard.log" ||
  pg_fail "1003 does not name the restored range: $(grep 'event 1003' "$PG_DATA/logs/portguard.log" | tail -2)"
(($(ls "$PG_DATA"/backups/*.json | wc -l) > backups_before)) || pg_fail "the guard restored MaxUserPort without a backup"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

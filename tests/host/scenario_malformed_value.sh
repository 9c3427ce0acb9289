#!/usr/bin/env bash
# Issue 18, defect 7: a ReservedPorts holding every required range but without the final NUL
# terminator that REG_MULTI_SZ requires (Windows may misread such a value at boot, KB 812873) is
# not "OK": check warns, and the guard backs it up and rewrites it canonically.
source "$(dirname "$0")/svc_lib.sh"
svc_setup malformed win2003

# The exact bytes of ReservedPorts (regedit /e; reg query hides a missing terminator).
reserved_hex() {
  pg_reg_export "$TCPIP" ReservedPorts | tr -d '\\\n ' | sed 's/^"ReservedPorts"=hex(7)://'
}

svc_policy
# "1645-1646\0" "1812-1813\0" without the list terminator, imported byte-exact by regedit (what a
# tool that writes REG_MULTI_SZ with a miscounted length leaves behind; reg.exe would add it).
# Version 5 .reg files are UTF-16LE and take hex(7) as the value's bytes (REGEDIT4 would widen them).
{
  printf '\xef\xbb\xbfWindows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\%s]\r\n' "$TCPIP"
  printf '"ReservedPorts"=hex(7):31,00,36,00,34,00,35,00,2d,00,31,00,36,00,34,00,36,00,00,00,31,00,38,00,31,00,32,00,2d,00,31,00,38,00,31,00,33,00,00,00\r\n'
} | iconv -f UTF-8 -t UTF-16LE >"$WINEPREFIX/drive_c/unterminated.reg"
WINEDEBUG=-all wine regedit /s 'C:\unterminated.reg' >/dev/null 2>&1
before=$(reserved_hex)
pg_log "ReservedPorts bytes before: $before"
[[ $before != *00,00,00,00 ]] || pg_fail "the test value has its terminator already; cannot test the defect"
pg_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "strings of the malformed value (every required range)"

set +e
out=$(portguard check); rc=$?
set -e
pg_log "check: $out (exit $rc)"
[[ $out != "PORTGUARD OK"* ]] || pg_fail "check says OK for a value without its final terminator"
pg_assert_eq "$rc" 1 "check's exit code (WARNING)"
grep -q 'two NUL' <<<"$out" || pg_fail "check does not say what is wrong with the value: $out"

svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
after=$(reserved_hex)
pg_log "ReservedPorts bytes after: $after"
[[ $after == *00,00,00,00 ]] || pg_fail "the guard did not rewrite the value with its terminator: $after"
pg_assert_eq "$(svc_reserved)" "1645-1646|1812-1813" "strings after the rewrite"
pg_assert_eq "$(pg_count_event 1003)" 1 "repaired events"
ls "$PG_DATA"/backups/*.json >/dev/null 2>&1 || pg_fail "no backup of the malformed value"
set +e
out=$(portguard check); rc=$?
set -e
pg_log "check after the rewrite: $out (exit $rc)"
grep -q 'two NUL' <<<"$out" && pg_fail "check still reports the terminator after the rewrite"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

#!/usr/bin/env bash
# Prometheus textfile (issue 17, docs/monitoring.md): the installed guard writes portguard.prom
# into the folder the policy names ([monitoring] textfile_dir); `promtool check metrics` accepts
# it; a Windows reader opening it as windows_exporter does never sees a partial file while the
# guard rewrites it pass after pass; counters survive a service restart (state folder); a missing
# folder and a locked file each cost one warning 2006 and the guard keeps guarding.
source "$(dirname "$0")/svc_lib.sh"
command -v promtool >/dev/null || { echo "promtool missing: install the Debian package 'prometheus' (scripts/setup)" >&2; exit 1; }
svc_setup metrics win2003

inputs=$WINEPREFIX/drive_c/textfile_inputs
prom=$inputs/portguard.prom
mkdir -p "$inputs"
svc_policy "[monitoring]
textfile_dir = 'C:\\textfile_inputs'"
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"

metric() { grep -E "^$1 " "$prom" | awk '{print $NF}'; }
wait_metric() {  # wait_metric NAME VALUE TIMEOUT_S
  local deadline=$((SECONDS + $3))
  while ((SECONDS <= deadline)); do
    [[ -f $prom && $(metric "$1") == "$2" ]] && return 0
    sleep 0.1
  done
  pg_fail "$1 is not $2 within $3 s (file: $(tr '\n' ' ' <"$prom" 2>/dev/null | cut -c1-400))"
}
wait_metric portguard_up 1 60
promtool check metrics <"$prom" || pg_fail "promtool check metrics rejected $prom"
pg_log "ok: promtool check metrics accepts the file the guard wrote"
pg_assert_eq "$(metric 'portguard_repairs_total\{target="reserved-ports",protocol="both"\}')" 1 "repairs after the first pass"
pg_assert_eq "$(metric 'portguard_target_compliant\{target="reserved-ports",protocol="both"\}')" 1 "reserved-ports compliant"
pg_assert_eq "$(metric 'portguard_ports_required\{target="reserved-ports",protocol="udp"\}')" 4 "UDP ports required"
pg_assert_eq "$(metric 'portguard_ports_reserved\{target="reserved-ports",protocol="udp"\}')" 4 "UDP ports reserved"
pg_assert_eq "$(metric portguard_policy_valid)" 1 "policy valid"
pg_assert_eq "$(metric portguard_pending_reboot)" 1 "pending reboot after writing ReservedPorts"
pg_assert_eq "$(tail -c1 "$prom" | od -An -c | tr -d ' ')" '\n' "last byte"
grep -q $'\r' "$prom" && pg_fail "CR in the metrics file"
pg_assert_eq "$(cd "$inputs" && ls)" "portguard.prom" "files in the textfile folder (no temporary left, nothing else *.prom)"

# A reader in the prefix reads the file as windows_exporter does while the guard rewrites it after
# every pass (a tick in an unmanaged Tcpip value triggers a pass). Every read must be whole.
passes_before=$(metric portguard_passes_total)
WINEDEBUG=-all wine "$PORTGUARD_SCM_HELPER" read-loop 'C:\textfile_inputs\portguard.prom' 15 portguard_failed_passes_total >"$WINEPREFIX/reader.out" 2>/dev/null &
reader=$!
pg_scm tick "$TCPIP" PortGuardTestTick 100 100 >/dev/null
wait "$reader" || pg_fail "the reader saw a partial file: $(tr -d '\r' <"$WINEPREFIX/reader.out" | tail -n 5)"
reads=$(tr -d '\r' <"$WINEPREFIX/reader.out" | tail -n1)
pg_log "reader: $reads"
versions=$(sed -E 's/.*versions ([0-9]+).*/\1/' <<<"$reads")
((versions >= 10)) || pg_fail "the reader saw only $versions versions of the file: the guard did not rewrite it during the reads"
passes_after=$(metric portguard_passes_total)
pg_log "passes_total $passes_before -> $passes_after during the reads"
((passes_after >= passes_before + 10)) || pg_fail "too few passes ran during the reader loop"
missing=$(sed -E 's/.*missing ([0-9]+).*/\1/' <<<"$reads")
pg_log "measured: the reader could not open the file $missing times (during a rename; never a partial read)"
pg_assert_eq "$(pg_count_event 2006)" 0 "metrics warnings while a reader polls the file"
promtool check metrics <"$prom" || pg_fail "promtool check metrics rejected the file after the rewrites"

# Counters survive a restart; a stopping guard says so.
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_assert_eq "$(metric portguard_up)" 0 "portguard_up after a stop"
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not restart"
wait_metric portguard_up 1 60
pg_assert_eq "$(metric 'portguard_repairs_total\{target="reserved-ports",protocol="both"\}')" 1 "repairs after a restart (kept in the state folder)"
pg_assert_eq "$(metric 'portguard_drift_detections_total\{target="reserved-ports",protocol="both"\}')" 1 "drift detections after a restart"
[[ -f $PG_DATA/state/metrics-counters.json ]] || pg_fail "no counters file in the state folder"
(($(metric portguard_passes_total) > passes_after)) || pg_fail "passes_total did not survive the restart"

# A folder that does not exist: one warning 2006, and the guard keeps guarding.
svc_policy "[monitoring]
textfile_dir = 'C:\\nowhere\\textfile_inputs'"
pg_wait_event 2006 30
pg_event_strings | grep -q 'C:\\\\nowhere\\\\textfile_inputs' || pg_event_strings | grep -q 'nowhere' || pg_fail "2006 does not name the folder"
out=$(pg_scm drift "$TCPIP" ReservedPorts "1433-1434" "1433-1434|1645-1646|1812-1813" 30000) || pg_fail "drift not repaired while the metrics folder is missing: $out"
pg_scm tick "$TCPIP" PortGuardTestTick 5 100 >/dev/null
pg_assert_eq "$(pg_count_event 2006)" 1 "warnings for the missing folder after several passes (rate limited)"

# A locked file (here: a folder where portguard.prom should be, so the rename is refused).
mkdir -p "$WINEPREFIX/drive_c/locked/portguard.prom"
svc_policy "[monitoring]
textfile_dir = 'C:\\locked'"
# A refused rename is reported when the next write is refused too: a few more passes.
out=$(pg_scm drift "$TCPIP" ReservedPorts "1434-1434" "1434-1434|1645-1646|1812-1813" 30000) || pg_fail "drift not repaired while the metrics file is locked: $out"
pg_scm tick "$TCPIP" PortGuardTestTick 5 100 >/dev/null
deadline=$((SECONDS + 30))
until (($(pg_count_event 2006) >= 2)); do ((SECONDS <= deadline)) || pg_fail "no 2006 for the locked file"; sleep 0.1; done
pg_scm tick "$TCPIP" PortGuardTestTick 5 100 >/dev/null
pg_assert_eq "$(pg_count_event 2006)" 2 "warnings: one per folder"
# Left behind: still there once the guard is idle (a write in progress has one for up to 150 ms of
# rename retries, docs/monitoring.md).
deadline=$((SECONDS + 10))
while [[ -n $(find "$WINEPREFIX/drive_c/locked" -name '*.tmp') ]]; do
  ((SECONDS <= deadline)) || pg_fail "a temporary file was left behind"
  sleep 0.2
done

pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "PASS"

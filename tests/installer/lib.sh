# Shared helpers for the installer scenarios (sourced, not run). Each scenario gets a throwaway
# Wine prefix of its own, cloned from the build's template prefix the way cmake/wine-run does it,
# with a persistent wineserver (so the installed service is not killed when msiexec exits) that
# is stopped -- only ours, by prefix -- on exit.
#
# Environment (set by portguard_add_script_test): PORTGUARD_WINE_TEMPLATE, PORTGUARD_SOURCE_DIR,
# PORTGUARD_BINARY_DIR. Arguments conventions: scenarios take MSI PG_EXITCODE_EXE [...].
set -euo pipefail

: "${PORTGUARD_WINE_TEMPLATE:?PORTGUARD_WINE_TEMPLATE must name the template prefix}"
: "${PORTGUARD_SOURCE_DIR:?}"
: "${PORTGUARD_BINARY_DIR:?}"
source "$PORTGUARD_SOURCE_DIR/tests/support/kit.sh"
export WINEDEBUG=${WINEDEBUG:--all}

PG_TEST_NAME=${PG_TEST_NAME:-installer}
PG_NAME=installer-$PG_TEST_NAME

# After the kit's pg_prefix_new (a fresh, booted prefix): PG_C (its drive_c) with C:\pgtest for
# staged files. The services' output is in the kit's $PG_TRACE; the short query commands (sc, reg)
# append their stderr ("value not found" is normal there) to $PG_TOOL_STDERR, kept for a failing
# scenario's report and for the crash check.
pg_prefix_ready() {
  PG_C=$WINEPREFIX/drive_c
  mkdir -p "$PG_C/pgtest"
}

# What a failing installer scenario adds to the kit's dump: the services' output, the errors in
# the msiexec logs.
pg_dump_more() {
  echo "==== last lines of the Wine/service output ===="
  tail -n 20 "${PG_TRACE:-/dev/null}"
  local log
  for log in "${PG_C:-/nonexistent}"/pgtest/*.log; do
    [[ -f $log ]] || continue
    echo "==== errors in $(basename "$log") ===="
    tr -d '\r' <"$log" | grep -a -i -e "error" -e "return value 3" -e "note:" | tail -n 20 || true
  done
}

# Copies a file into C:\pgtest and prints its Windows path.
pg_stage() {
  local src=$1 name=${2:-$(basename "$1")}
  cp "$src" "$PG_C/pgtest/$name"
  printf 'C:\\pgtest\\%s' "$name"
}

# pg_msiexec ARGS...: runs msiexec through pg-exitcode.exe (the shell would see only the low 8
# bits); sets MSI_RC to the full Windows exit code. Never fails by itself.
PG_LOG_SEQ=0
pg_msiexec() {
  PG_LOG_SEQ=$((PG_LOG_SEQ + 1))
  local out out_file=$WINEPREFIX/msiexec-$PG_LOG_SEQ.out
  wine "$PG_EXITCODE_EXE" msiexec "$@" /l*v "C:\\pgtest\\msiexec-$PG_LOG_SEQ.log" >"$out_file" 2>&1 || true
  out=$(tr -d '\r' <"$out_file")
  MSI_RC=$(sed -n 's/^exit code: \([0-9]*\)$/\1/p' <<<"$out" | tail -n 1)
  [[ -n $MSI_RC ]] || pg_fail "pg-exitcode did not report an exit code for 'msiexec $*': $out"
  pg_log "msiexec $* -> $MSI_RC"
}

# The query commands below run through wine_run_tool (tests/support/wine_crashes.sh): a failed
# Wine launch leaves a note naming it (stderr log, wine-launch-failures.log) where it would
# otherwise read as "not registered" or "value absent" without a word.

# Service state as `sc query` reports it (RUNNING, STOPPED, ...), empty when not registered.
pg_service_state() {
  local out
  out=$(wine_run_tool sc query "$1" 2>>"${PG_TOOL_STDERR:-/dev/null}" | tr -d '\r') || true
  sed -n 's/^ *STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p' <<<"$out"
}

# Waits up to 60 s for a state (the SCM may still be starting the process when msiexec returns;
# generous for a loaded machine, and it ends as soon as the state is reached).
pg_wait_service_state() {
  local name=$1 want=$2 i state=""
  for i in $(seq 1 120); do
    state=$(pg_service_state "$name")
    [[ $state == "$want" ]] && return 0
    sleep 0.5
  done
  pg_fail "service $name is '${state:-not registered}', expected $want"
}

# Number of installed products with PortGuard's UpgradeCode (Wine keeps the Windows layout:
# UpgradeCodes\<packed GUID> has one value per related product).
pg_related_products() {
  local packed=$1
  local out
  out=$(wine reg query "HKLM\\SOFTWARE\\Classes\\Installer\\UpgradeCodes\\$packed" 2>>"${PG_TOOL_STDERR:-/dev/null}" | tr -d '\r') || { echo 0; return; }
  grep -c -E '^ +[0-9A-F]{32} ' <<<"$out" || true
}

# Windows Installer "packed" GUID (the form used under ...\Installer\UpgradeCodes).
pg_pack_guid() {
  local g=${1//[\{\}-]/}
  g=${g^^}
  local rev=""
  rev_chunk() { local s=$1 r="" i; for ((i=${#s}-1; i>=0; i--)); do r+=${s:i:1}; done; printf '%s' "$r"; }
  rev+=$(rev_chunk "${g:0:8}")$(rev_chunk "${g:8:4}")$(rev_chunk "${g:12:4}")
  local i
  for ((i=16; i<32; i+=2)); do rev+=${g:i+1:1}${g:i:1}; done
  printf '%s' "$rev"
}

PG_UPGRADE_CODE=$(sed -n 's/.*define UpgradeCode = "\([0-9A-F-]*\)".*/\1/p' "$PORTGUARD_SOURCE_DIR/installer/portguard.wxs")
PG_SERVICE_KEY='HKLM\SYSTEM\CurrentControlSet\Services\PortGuard'
PG_EVENT_KEY='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard'
PG_SETTINGS_KEY='HKLM\SOFTWARE\PortGuard'

# PID of the running PortGuard service process in this prefix (empty if none): Wine processes are
# Unix processes (tests/support/kit.sh pg_unix_pids).
pg_service_pid() { pg_unix_pids 'C:\Program Files\PortGuard\portguard.exe run' | head -n1; }

# pg_wait_process_exit PID: waits up to 30 s for a process to exit. msiexec returns once the SCM
# reports the service STOPPED; the process itself may still be flushing its log and exiting, and on
# a loaded machine that takes a while. A zombie counts as exited.
pg_wait_process_exit() {
  local pid=$1 i state
  for i in $(seq 1 300); do
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    [[ -z $state || $state == Z ]] && return 0
    sleep 0.1
  done
  return 1
}

# pg_wait_service_process_gone: after an uninstall, waits up to 30 s for the service's process to
# exit (Wine's msiexec returns without waiting for it; see pg_stop_service_first). Fails otherwise.
pg_wait_service_process_gone() {
  local pid
  pid=$(pg_service_pid)
  [[ -z $pid ]] || pg_wait_process_exit "$pid" || pg_fail "the PortGuard process $pid still runs 30 s after uninstall"
}

# pg_stop_service_first: stops PortGuard and waits until its process has exited, before an upgrade,
# reinstall or uninstall of a running service. Windows Installer's StopServices waits for
# SERVICE_STOPPED; Wine 8's sends the STOP control and moves on (dlls/msi/action.c, stop_service),
# so the upgrade's InstallServices raced the old service's exit and now and then found it still
# marked for deletion (ERROR_SERVICE_MARKED_FOR_DELETE: msiexec 1603), and an uninstall's
# RemoveFiles found portguard.exe still running under load and left it for the next boot (soak,
# issue 14). The scenarios do the waiting Windows does.
pg_stop_service_first() {
  local pid
  pid=$(pg_service_pid)
  wine sc stop PortGuard >/dev/null 2>>"${PG_TOOL_STDERR:-/dev/null}" || true
  pg_wait_service_state PortGuard STOPPED
  [[ -z $pid ]] || pg_wait_process_exit "$pid" || pg_fail "the PortGuard process $pid still runs 30 s after it was stopped"
}

# Inode of the portguard.exe image a process has mapped: proves which file it is running.
pg_mapped_image_inode() {
  awk '/\/PortGuard\/portguard\.exe$/ { print $5; exit }' "/proc/$1/maps"
}

# ProductCode of an MSI file.
pg_msi_product_code() {
  msiinfo export "$1" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }'
}

# Builds a variant MSI (another version, or a rebuild with a fresh ProductCode) from the same
# sources: build-msi.sh VERSION EXE POLICY OUTPUT.
pg_build_msi() {
  "$PORTGUARD_SOURCE_DIR/installer/build-msi.sh" --version "$1" --exe "$2" --policy "$3" --output "$4" \
    --workdir "$4.stage" >/dev/null
}

PG_UNINSTALL_KEY='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'

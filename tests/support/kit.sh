# shellcheck shell=bash
# The one shell kit of the Wine scenarios (service, end-to-end, installer, CLI, bench): a throwaway
# Wine prefix per scenario that plays one Windows server, booted with a trace of PortGuard's Event
# Log calls, the tools that act on it, and assertions. Sourced first by each folder's kit, which
# adds only what is its own (tests/host/svc_lib.sh, tests/scenarios/lib.sh, ...).
#
# Wine facts this relies on (/work/shared/notes/wine-testing.md): the wineserver is started with -p
# first, or services die 1-2 s after the last non-service process; services inherit the stderr and
# WINEDEBUG of the process that starts services.exe, so the first wine process of a "boot" runs with
# the trace settings and its stderr goes to $PG_TRACE; ReportEventW is a stub whose fixme line
# carries the event type and ID, +eventlog adds the insertion strings. Nothing is ever killed by
# name: cleanup stops only this prefix's wineserver.
#
# Environment: PORTGUARD_BINARY_DIR (build tree), PORTGUARD_WINE_TEMPLATE (prefix to clone),
# PORTGUARD_SCM_HELPER (pg-scm.exe; default in the build tree), PORTGUARD_WINE_KEEP=1 keeps the
# prefix (PORTGUARD_E2E_KEEP and PORTGUARD_KEEP are older names of it).
set -euo pipefail

PG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$PG_ROOT/tests/support/wine_crashes.sh"
source "$PG_ROOT/tests/support/fail_trace.sh"
: "${PORTGUARD_BINARY_DIR:=$PG_ROOT/build/windows-cross}"
: "${PORTGUARD_WINE_TEMPLATE:=$PORTGUARD_BINARY_DIR/wine/template}"
: "${PORTGUARD_SCM_HELPER:=$PORTGUARD_BINARY_DIR/tests/support/pg-scm.exe}"
: "${PORTGUARD_WINE_KEEP:=${PORTGUARD_E2E_KEEP:-${PORTGUARD_KEEP:-0}}}"
export WINEDLLOVERRIDES="mscoree=;mshtml="
export WINEARCH=win64
# Services inherit the debug settings of the process that starts services.exe: ReportEventW's
# fixme line carries type and event ID, +eventlog adds the insertion strings of every level. The
# loader's err: lines are on too, so a boot that Wine fails says why in the trace.
PG_TRACE_DEBUG=${PG_TRACE_DEBUG:-"-all,fixme+advapi,+eventlog"}
PG_BOOT_ERR=err+module,err+virtual,err+process,err+loaddll,err+server

# Repairs must land within this bound in a scenario. The product's goal is 1 s on an idle machine,
# measured by bench/service_bench.sh (drift); a scenario on a 2-core machine shared with other
# suites sees Wine process starts of up to 3 s, so it asserts that the repair happens, within a
# bound with room for that, and prints the latency it measured.
PG_REPAIR_BOUND_MS=10000

# --- narration and failure -----------------------------------------------------------------------
pg_log() { printf '[%s] %s\n' "${PG_NAME:-pg}" "$*"; }
# pg_fail WHY: the scenario fails, explained (fail_trace.sh does not add its own trace), with the
# diagnostics dump.
pg_fail() {
  printf '[%s] FAIL: %s\n' "${PG_NAME:-pg}" "$*" >&2
  SCENARIO_EXPLAINED=1
  pg_dump
  exit 1
}
# pg_dump: what a failing scenario shows: the events, the tools' stderr, PortGuard's file log and
# whatever the folder kit adds in pg_dump_more (when it defines it). Nothing before pg_prefix_new:
# a script that runs no Wine (tests/installer/tables.sh) has nothing to show.
pg_dump() {
  [[ -n ${PG_TRACE:-} ]] || return 0
  {
    echo "--- events ---"
    pg_events || true
    echo "--- stderr of the tools (last 20 lines) ---"
    tail -n 20 "${PG_TOOL_STDERR:-/dev/null}" 2>/dev/null | tr -d '\r' || true
    echo "--- file log (last 60 lines) ---"
    tail -n 60 "${PG_LOG_FILE:-/nonexistent}" 2>/dev/null | tr -d '\r' || true
    if declare -F pg_dump_more >/dev/null; then pg_dump_more || true; fi
  } >&2
}

# --- the prefix: new, boot, shutdown, cleanup ----------------------------------------------------
# pg_prefix_new [NAME [WINVER]]: a fresh prefix cloned from the template (cmake/wine-run), booted,
# with WINVER (win2003, win10, ...) set when given. NAME defaults to $PG_NAME. Sets WINEPREFIX,
# PG_NAME, PG_TRACE, PG_TOOL_STDERR, PG_DATA and PG_LOG_FILE (PortGuard's data folder and file log
# in the prefix, not created) and the EXIT trap; then runs the folder kit's pg_prefix_ready, if any.
pg_prefix_new() {
  PG_NAME=${1:-${PG_NAME:?pg_prefix_new: no NAME}}
  local winver=${2:-}
  PG_MAIN_PID=$BASHPID
  WINEPREFIX=$("$PG_ROOT/cmake/wine-run" --template "$PORTGUARD_WINE_TEMPLATE" --new-prefix "$PG_NAME")
  export WINEPREFIX
  trap pg_cleanup EXIT
  PG_TRACE=$WINEPREFIX/pg-trace.log
  PG_TOOL_STDERR=$WINEPREFIX/pg-tool-stderr.log
  PG_DATA=$WINEPREFIX/drive_c/ProgramData/PortGuard
  PG_LOG_FILE=$PG_DATA/logs/portguard.log
  : >"$PG_TRACE"
  PG_BOOTS=0
  pg_boot
  if [[ -n $winver ]]; then pg_set_winver "$winver"; fi
  if declare -F pg_prefix_ready >/dev/null; then pg_prefix_ready; fi
}

# Start the prefix's "machine": wineserver, then services.exe with its stderr in the trace. A
# failed boot fails the scenario (a fresh-root run lost boot 41 of 50 to a Wine without its
# preloader, docs/testing.md; cmake/wine-run now requires it).
pg_boot() {
  PG_BOOTS=$((PG_BOOTS + 1))
  wineserver -p
  echo "=== boot $PG_BOOTS ===" >>"$PG_TRACE"
  local rc=0
  WINEDEBUG=$PG_TRACE_DEBUG,$PG_BOOT_ERR wine cmd /c exit 0 </dev/null >>"$PG_TRACE" 2>&1 || rc=$?
  if ((rc != 0)); then
    wine_launch_note "boot $PG_BOOTS ('wine cmd /c exit 0', its Wine errors are in the trace)" "$rc"
    pg_fail "boot $PG_BOOTS failed: 'wine cmd /c exit 0' exited $rc"
  fi
}
# Power off: stop our wineserver (and so every process of the prefix).
pg_shutdown() {
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
}
pg_reboot() {
  pg_shutdown
  pg_boot
}

# The EXIT trap: report failures, fail on a Wine crash, stop only our wineserver, remove the prefix.
pg_cleanup() {
  local rc=$?
  # Command substitutions may run the EXIT trap too: only the scenario's own shell cleans up.
  [[ $BASHPID == "${PG_MAIN_PID:-$BASHPID}" ]] || return $rc
  if scenario_report_failures $rc; then pg_dump; fi
  wine_fail_on_crash $rc "${PG_TRACE:-/nonexistent}" "${PG_TOOL_STDERR:-/nonexistent}" || rc=$?
  if [[ -n ${WINEPREFIX:-} && -d ${WINEPREFIX:-/nonexistent} ]]; then
    pg_shutdown
    if [[ $PORTGUARD_WINE_KEEP == 1 ]]; then echo "[${PG_NAME:-pg}] kept prefix: WINEPREFIX=$WINEPREFIX" >&2; else rm -rf "$WINEPREFIX"; fi
  fi
  return $rc
}

pg_set_winver() { WINEDEBUG=-all wine winecfg -v "$1" >/dev/null 2>&1; }
pg_winver() {
  WINEDEBUG=-all wine reg query 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' /v CurrentVersion 2>/dev/null |
    tr -d '\r' | awk '$1 == "CurrentVersion" {print "Windows " $3}'
}

# Windows path of a Unix file (Wine maps / to Z:).
pg_winpath() { printf 'Z:%s' "${1//\//\\}"; }

# --- tools ---------------------------------------------------------------------------------------
# pg_tool EXE ARGS...: a Windows tool, crash-noted (wine_run_tool); its stderr goes to
# $PG_TOOL_STDERR (shown by pg_dump, checked for crashes), never into the output a scenario parses.
pg_tool() { wine_run_tool "$@" 2>>"${PG_TOOL_STDERR:-/dev/null}" | tr -d '\r'; }
# pg_scm COMMAND ARGS...: the SCM and registry tool (tests/support/scm_helper.cpp lists its commands).
pg_scm() { pg_tool "$PORTGUARD_SCM_HELPER" "$@"; }

# pg_reg_value 'HKLM\...' NAME: the data of one value as `reg query` shows it (after name and
# type); empty output and status 1 when absent. Through wine_run_tool: a failed launch of reg
# leaves a note naming it instead of passing for "value absent" without a word.
pg_reg_value() {
  { wine_run_tool reg query "$1" /v "$2" 2>>"${PG_TOOL_STDERR:-/dev/null}" || true; } | tr -d '\r' |
    awk -v n="$2" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print; found = 1 } END { exit !found }'
}
pg_reg_key_exists() { WINEDEBUG=-all wine reg query "$1" >/dev/null 2>&1; }
# pg_reg_export 'HKLM\...' NAME: one value as `regedit /e` exports it ("NAME"=hex(7):31,00,...,
# continuation lines and all): its exact bytes, which `reg query` hides (it drops an unterminated
# last string of a REG_MULTI_SZ). Empty when the value is absent.
pg_reg_export() {
  local file=$WINEPREFIX/drive_c/pg-export.reg
  rm -f "$file"
  WINEDEBUG=-all wine regedit /e 'C:\pg-export.reg' "HKEY_LOCAL_MACHINE\\${1#HKLM\\}" >/dev/null 2>&1
  iconv -f UTF-16LE -t UTF-8 "$file" 2>/dev/null | tr -d '\r' | sed -n "/^\"$2\"=/,/[^\\\\]\$/p"
}

# pg_unix_pids PATTERN: Unix PIDs of the processes of OUR prefix whose command line contains
# PATTERN (case-insensitive): /proc scan filtered on this prefix's WINEPREFIX.
pg_unix_pids() {
  local pattern=$1 d
  for d in /proc/[0-9]*; do
    [[ -r $d/environ ]] || continue
    { tr "\0" "\n" <"$d/environ"; } 2>/dev/null | grep -cxF "WINEPREFIX=$WINEPREFIX" >/dev/null || continue
    { tr "\0" " " <"$d/cmdline"; } 2>/dev/null | grep -ciF -- "$pattern" >/dev/null || continue
    basename "$d"
  done
}

# --- events --------------------------------------------------------------------------------------
# PortGuard's events as the trace shows them, one per line: "ID level|string1|string2..." (level as
# events.toml spells it: information, warning, error). The fixme line carries the type and the event
# ID (the low 16 bits of the message ID: the .mc adds severity bits), the eventlog channel the
# insertion strings. PG_EVENTS_BOOT=N limits it to boot N and later, PG_EVENTS_MARK=LABEL to after
# `pg_mark LABEL` (and PG_EVENTS_UNTIL=LABEL2 to before `pg_mark LABEL2`).
pg_events() {
  PG_EVENTS_BOOT=${PG_EVENTS_BOOT:-1} perl -ne '
    BEGIN { $cur = ""; $from = $ENV{PG_EVENTS_BOOT}; $mark = $ENV{PG_EVENTS_MARK} // ""; $on = $from <= 1 && $mark eq "" }
    if (/^=== boot (\d+) ===/) { $on = 1 if $1 >= $from && $mark eq ""; next }
    if (/^=== mark (.*) ===/) { $on = 1 if $1 eq $mark; last if $on && $1 eq ($ENV{PG_EVENTS_UNTIL} // ""); next }
    next unless $on;
    # Every match on a line: processes writing to the same trace can glue lines together.
    my $event = 0;
    while (/fixme:advapi:ReportEventW \(([^,]*),([^,]*),([^,]*),([^,]*),/g) {
      print "$cur\n" if $cur ne "";
      my ($type, $id) = (hex($2), hex($4) & 0xFFFF);
      my $level = $type == 1 ? "error" : $type == 2 ? "warning" : $type == 4 ? "information" : "type$type";
      $cur = "$id $level";
      $event = 1;
    }
    if (!$event && $cur ne "" && /:eventlog:ReportEventW L"(.*)"(\.\.\.)?\s*$/) {
      # Wine escapes the string and cuts long ones ("..." after the quote).
      my ($str, $cut) = ($1, $2 // "");
      $str =~ s/\\(["\\])/$1/g;
      $cur .= "|$str$cut";
    }
    END { print "$cur\n" if $cur ne "" }
  ' "${PG_TRACE:-/dev/null}"
}
pg_mark() { echo "=== mark $1 ===" >>"$PG_TRACE"; }
# Event IDs in order, one per line.
pg_event_ids() { pg_events | awk '{print $1}'; }
pg_count_event() { pg_events | awk -v id="$1" '$1 == id' | wc -l; }
# Insertion strings as Wine's eventlog channel prints them (L"..."), for text assertions.
pg_event_strings() { grep -a 'eventlog:ReportEventW' "${PG_TRACE:-/dev/null}" | tr -d '\r' || true; }
# pg_wait_event ID TIMEOUT_S: until the event shows up in the trace.
pg_wait_event() {
  local id=$1 deadline=$((SECONDS + $2))
  while ((SECONDS <= deadline)); do
    [[ $(pg_count_event "$id") -gt 0 ]] && return 0
    sleep 0.1
  done
  pg_fail "event $id not raised within $2 s"
}
# pg_wait_event_count ID N: until the trace holds at least N events ID (up to 30 s: the service
# reports asynchronously, and a loaded machine delays it); the caller then asserts the exact count.
pg_wait_event_count() {
  local deadline=$((SECONDS + 30))
  while (($(pg_count_event "$1") < $2 && SECONDS <= deadline)); do sleep 0.1; done
}
# pg_assert_event ID WHAT [TEXT]: the event was raised (within PG_EVENT_WAIT s, default 30), and one
# of its insertion strings contains TEXT, when given.
pg_assert_event() {
  local id=$1 what=$2 text=${3:-}
  local lines tries=$(( ${PG_EVENT_WAIT:-30} * 10 ))
  while :; do
    lines=$(pg_events | awk -v id="$id" '$1 == id')
    if [[ -n $lines && ( -z $text || $lines == *"$text"* ) ]] || ((--tries <= 0)); then break; fi
    sleep 0.1
  done
  [[ -n $lines ]] || pg_fail "event $id ($what) not raised"
  if [[ -n $text ]] && ! grep -qF -- "$text" <<<"$lines"; then
    pg_fail "event $id ($what) raised, but no insertion string contains '$text': $lines"
  fi
  pg_log "ok: event $id ($what): $(head -n1 <<<"$lines")"
}
pg_assert_no_event() {
  local id=$1 what=$2
  if pg_event_ids | grep -qx "$id"; then pg_fail "unexpected event $id ($what)"; fi
  pg_log "ok: no event $id ($what)"
}

# --- PortGuard's CLI ------------------------------------------------------------------------------
# pg_portguard ARGS...: runs portguard as an admin would ($PG_EXE: the build's portguard.exe unless
# a kit points it at the installed one) and keeps what it printed: PG_OUT (stdout), PG_ERR (stderr),
# CRs stripped, and PG_RC, without tripping set -e; prints the transcript. The raw output stays in
# PG_OUT_FILE and PG_ERR_FILE (default: in the prefix).
PG_EXE=${PG_EXE:-$PORTGUARD_BINARY_DIR/service/portguard.exe}
pg_portguard() {
  local out_file=${PG_OUT_FILE:-$WINEPREFIX/pg-portguard.out} err_file=${PG_ERR_FILE:-$WINEPREFIX/pg-portguard.err}
  set +e
  WINEDEBUG=-all wine "$PG_EXE" "$@" >"$out_file" 2>"$err_file"
  PG_RC=$?
  set -e
  PG_OUT=$(tr -d '\r' <"$out_file")
  PG_ERR=$(tr -d '\r' <"$err_file")
  echo "\$ portguard $* -> exit $PG_RC"
  echo "$PG_OUT" | sed 's/^/    /'
  echo "$PG_ERR" | sed 's/^/    stderr: /'
}

# --- assertions ----------------------------------------------------------------------------------
# pg_assert_eq ACTUAL EXPECTED WHAT
pg_assert_eq() { [[ $1 == "$2" ]] || pg_fail "$3: expected '$2', got '$1'"; pg_log "ok: $3 = '$1'"; }
# On the last pg_portguard: its exit code, text its stdout must / must not contain.
pg_expect_rc() { [[ $PG_RC == "$1" ]] || pg_fail "expected exit $1, got $PG_RC"; }
pg_expect_out() { grep -qF -- "$1" <<<"$PG_OUT" || pg_fail "expected output containing: $1"; }
pg_reject_out() { ! grep -qF -- "$1" <<<"$PG_OUT" || pg_fail "output must not contain: $1"; }

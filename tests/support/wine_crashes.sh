# Sourced by the Wine scenario libraries (service, e2e, installer).
#
# A process that crashes under Wine prints "wine: Unhandled page fault ... at address X ..." and
# then lingers in winedbg. A scenario can pass all its own assertions while a PortGuard process
# died behind it, so every scenario checks its Wine output for such a line before it passes.
#
# Only crashes in code we wrote count: the instruction address lies in one of our images
# (portguard.exe and the test programs are linked at 0x140000000 and are smaller than 16 MiB; Wine
# loads them there), or the exception is a C++ exception that nothing caught (code 0x20474343,
# raised by MinGW's unwinder). Wine's own processes crash now and then while a scenario reboots a
# prefix under load (seen once in 50 forced reboots, in a Wine DLL): those are reported, not failed.

WINE_CRASH_OUR_IMAGES_FIRST=$((0x140000000))
WINE_CRASH_OUR_IMAGES_END=$((0x141000000))

# wine_crashes FILE...: prints the crash lines in our code (missing files are skipped); status 0 if
# there were any. Other crash lines go to stderr as notes.
wine_crashes() {
  local f line addr ours found=1
  for f in "$@"; do
    [[ -f $f ]] || continue
    while IFS= read -r line; do
      addr=$(sed -n 's/.* at address \([0-9A-Fa-f]\{1,16\}\).*/\1/p' <<<"$line")
      ours=0
      if [[ $line == *"exception 0x20474343"* ]]; then
        ours=1
      elif [[ -n $addr ]] && ((0x$addr >= WINE_CRASH_OUR_IMAGES_FIRST && 0x$addr < WINE_CRASH_OUR_IMAGES_END)); then
        ours=1
      fi
      if ((ours)); then
        printf '%s\n' "$line"
        found=0
      else
        printf 'note: a crash outside our code (a Wine process): %s\n' "$line" >&2
      fi
    done < <(grep -a -h "wine: Unhandled" "$f" | tr -d '\r')
  done
  return $found
}

# wine_run_tool CMD...: runs a Wine test tool (our helpers, reg, sc) once and passes on its stdout,
# stderr and status. The tool runs with Wine's error channel on (WINEDEBUG=-all,err+all), so a
# launch that Wine fails says why: the loader reports a DLL that failed to load or initialise, or
# the shared user data it could not map, only as err: lines, and WINEDEBUG=-all hid them.
# A launch that exits non-zero without any output of the tool itself (stdout empty, stderr empty
# or only err: lines of the loader's channels, WINE_LOADER_ERR) gets a note that names it a failed
# Wine launch and keeps the exit status, its meaning and those lines: our tools always print
# something. It is not retried: the silent failures seen before (about 1 process start in 5,000)
# were Wine running without its preloader (docs/testing.md), which cmake/wine-run now requires, so
# another one is a new defect to see, not to hide. Wine's own programs report their answers on
# their own err channel ("err:sc:query_service failed to open service 1060"): that is output, not a
# failed launch. The note also goes to $WINE_LAUNCH_FAILURES_LOG when set; scripts/soak counts them.
WINE_LOADER_ERR='^[0-9a-f]{4}:err:(module|virtual|process|environ|loaddll|seh|thread|sync|server|ntdll):'
wine_run_tool() {
  local out rc=0 errf
  errf=$(mktemp)
  out=$(WINEDEBUG=-all,err+all wine "$@" 2>"$errf") || rc=$?
  if ((rc != 0)) && [[ -z $out ]] && ! grep -qv -E "$WINE_LOADER_ERR" "$errf"; then
    wine_launch_note "${1##*[/\\]}" "$rc" "$errf"
  fi
  cat "$errf" >&2
  rm -f "$errf"
  [[ -z $out ]] || printf '%s\n' "$out"
  return "$rc"
}

# wine_launch_note WHAT STATUS [ERRFILE]: the note of a failed Wine launch, on stderr and in
# $WINE_LAUNCH_FAILURES_LOG; ERRFILE's err: lines go into it (and the file is emptied). The status
# is the low 8 bits of a Windows exit code (an NTSTATUS for a process the loader ended) or 128+N
# for a Unix signal N.
wine_launch_note() {
  local what=$1 rc=$2 errf=${3:-/dev/null} meaning
  case $rc in
    53) meaning="low byte of STATUS_DLL_NOT_FOUND (0xc0000135)" ;;
    1) meaning="the loader's exit(1) or an NTSTATUS ending in 01" ;;
    137) meaning="killed by SIGKILL (wineserver shutdown, or outside Wine)" ;;
    1[2-9][0-9]) meaning="killed by signal $((rc - 128))" ;;
    *) meaning="low byte of a Windows exit code" ;;
  esac
  {
    printf 'note: %s exited %s (%s) without any output of its own: a failed Wine launch (not retried)\n' "$what" "$rc" "$meaning"
    sed 's/^/note:   wine: /' "$errf"
  } | tee -a "${WINE_LAUNCH_FAILURES_LOG:-/dev/null}" >&2
  [[ $errf == /dev/null ]] || : >"$errf"
}

# wine_fail_on_crash RC FILE...: RC, or 1 with the crash lines on stderr if one of our processes
# crashed.
wine_fail_on_crash() {
  local rc=$1 crashes
  shift
  if [[ $rc -ne 0 ]]; then
    # The scenario failed anyway: any crash, ours or Wine's, may be why.
    if crashes=$(grep -a -h "wine: Unhandled" "$@" 2>/dev/null); then
      printf '==== crashes under Wine during the scenario ====\n%s\n' "$crashes" >&2
    fi
    return "$rc"
  fi
  if crashes=$(wine_crashes "$@"); then
    printf 'FAIL: a process crashed under Wine during the scenario:\n%s\n' "$crashes" >&2
    return 1
  fi
  return "$rc"
}

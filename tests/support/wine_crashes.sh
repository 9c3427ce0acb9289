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

# wine_run_tool CMD...: runs a Wine test tool (our helpers, reg) and passes on its stdout, stderr and
# status. A launch that exits non-zero without printing anything, on stdout or stderr, is retried
# once with a note on stderr. These tools always print something, so this can only be a failed Wine
# launch: WINEDEBUG=-all hides the loader's own messages. It was seen about once in 3 full soak runs
# (`e2e-svc start DNS` at boot 44 of the 50-boot scenario). Product commands are never retried.
wine_run_tool() {
  local attempt out rc errf
  errf=$(mktemp)
  for attempt in 1 2; do
    rc=0
    out=$(WINEDEBUG=-all wine "$@" 2>"$errf") || rc=$?
    if ((rc != 0 && attempt == 1)) && [[ -z $out && ! -s $errf ]]; then
      printf 'note: %s exited %s without any output (a failed Wine launch); retrying once\n' "${1##*[/\\]}" "$rc" >&2
      continue
    fi
    break
  done
  cat "$errf" >&2
  rm -f "$errf"
  [[ -z $out ]] || printf '%s\n' "$out"
  return "$rc"
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

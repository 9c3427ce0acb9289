# Sourced by the Wine scenario libraries (service, e2e, installer).
#
# A process that crashes under Wine prints "wine: Unhandled page fault ... starting debugger" and
# then lingers in winedbg. A scenario can pass all its own assertions while a PortGuard process
# died behind it, so every scenario checks its Wine output for such a line before it passes.

# wine_crashes FILE...: prints the crash lines of the files (missing files are skipped); status 0
# if there were any.
wine_crashes() {
  local f found=1
  for f in "$@"; do
    [[ -f $f ]] && grep -a -h "wine: Unhandled" "$f" && found=0
  done
  return $found
}

# wine_fail_on_crash RC FILE...: RC, or 1 with the crash lines on stderr if a process crashed.
wine_fail_on_crash() {
  local rc=$1 crashes
  shift
  if [[ $rc -eq 0 ]] && crashes=$(wine_crashes "$@"); then
    printf 'FAIL: a process crashed under Wine during the scenario:\n%s\n' "$crashes" >&2
    return 1
  fi
  return "$rc"
}

#!/usr/bin/env bash
# Runs a command as a user would and checks what they would notice: the exit code and lines of
# its output (stdout and stderr together).
#   expect.sh EXIT [REGEX...] -- COMMAND [ARGS...]
# Every REGEX (grep -E) must match a line; a REGEX starting with '!' must match none.
set -uo pipefail
want=$1; shift
patterns=()
while [[ $# -gt 0 && $1 != "--" ]]; do patterns+=("$1"); shift; done
shift || { echo "expect.sh: missing -- COMMAND" >&2; exit 2; }
out=$("$@" 2>&1); got=$?
out=${out//$'\r'/}   # Windows programs end lines with CRLF
printf '%s\n' "$out"
status=0
if [[ $got -ne $want ]]; then echo "FAIL: exit code $got, expected $want" >&2; status=1; fi
for p in "${patterns[@]}"; do
  if [[ $p == '!'* ]]; then
    if grep -Eq -- "${p:1}" <<<"$out"; then echo "FAIL: output matches forbidden /${p:1}/" >&2; status=1; fi
  elif ! grep -Eq -- "$p" <<<"$out"; then
    echo "FAIL: no output line matches /$p/" >&2; status=1
  fi
done
exit $status

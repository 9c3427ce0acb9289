#!/usr/bin/env bash
# `portguard why` against its goldens (tests/commands/why/cases.txt): every case run in the source tree
# with the test services file, stdout and the exit code compared with NAME.txt.
#   why_goldens.sh PORTGUARD SOURCE_DIR [--update]
set -euo pipefail
exe=$1 src=$2 update=${3:-}
cd "$src"
failed=0 count=0
while read -r name args; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  count=$((count + 1))
  # shellcheck disable=SC2086  # the arguments are words by design
  set +e
  out=$("$exe" $args --services-file tests/config/data/services 2>&1)
  rc=$?
  set -e
  actual=$(printf '%s\nexit %d\n' "$out" "$rc")
  golden="tests/commands/why/$name.txt"
  if [[ "$update" == --update ]]; then
    printf '%s\n' "$actual" > "$golden"
  elif ! diff -u "$golden" <(printf '%s\n' "$actual"); then
    echo "FAIL $name: portguard $args" >&2
    failed=$((failed + 1))
  fi
done < tests/commands/why/cases.txt
echo "why goldens: $count cases, $failed failed"
[[ $count -gt 0 && $failed -eq 0 ]]

#!/usr/bin/env bash
# portguard.exe must load on every Windows it supports, Windows Server 2003 x64 (SP2) included: the
# one version where ReservedPorts is the mechanism that works. Wine resolves every export whatever
# version the prefix reports, so the import table is checked here instead:
#   1. at load time only ADVAPI32, KERNEL32, IPHLPAPI, WS2_32 and msvcrt (shell32/ole32/oleaut32
#      would also pull user32 and gdi32 into every start: docs/performance.md);
#   2. every imported function is in tests/scenarios/imports-2003.txt, the list of functions checked
#      against their "minimum supported server" (Windows Server 2003 or earlier) in the Windows
#      API documentation. A new import fails here until someone checks it and adds it.
# usage: imports.sh OBJDUMP PORTGUARD_EXE ALLOWLIST
set -euo pipefail
objdump=$1 exe=$2 allow=$3
[[ -f $exe ]] || { echo "FAIL: $exe not built" >&2; exit 1; }

# "DLL Name: X" starts a block; the rows after it end with the function name.
table=$("$objdump" -p "$exe" | awk '
  /^\tDLL Name: / { dll = toupper($3); next }
  dll != "" && /^\t[0-9a-f]+\t +[0-9]+ +[A-Za-z_]/ { print dll " " $NF; next }
  /^$/ { dll = "" }')
[[ -n $table ]] || { echo "FAIL: no import table read from $exe" >&2; exit 1; }

status=0
dlls=$(awk '{print $1}' <<<"$table" | sort -u | tr '\n' ' ')
expected="ADVAPI32.DLL IPHLPAPI.DLL KERNEL32.DLL MSVCRT.DLL WS2_32.DLL "
if [[ $dlls != "$expected" ]]; then
  echo "FAIL: load-time DLLs are: $dlls(expected: $expected)" >&2
  status=1
fi

# Allowlist lines: "DLL Function", DLL upper-case; '#' starts a comment.
unlisted=$(sort -u <<<"$table" | comm -23 - <(sed 's/#.*//' "$allow" | awk 'NF >= 2 {print $1 " " $2}' | sort -u))
if [[ -n $unlisted ]]; then
  echo "FAIL: imports not checked for Windows Server 2003 (add them to $(basename "$allow") once checked):" >&2
  sed 's/^/  /' <<<"$unlisted" >&2
  status=1
fi
[[ $status == 0 ]] && echo "PASS: $(sort -u <<<"$table" | wc -l) imports from $dlls, all available on Windows Server 2003"
exit $status

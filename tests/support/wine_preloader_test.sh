#!/usr/bin/env bash
# harness.wine_preloader: every Wine process of a booted test prefix runs under Wine's preloader
# and owns KUSER_SHARED_DATA at 0x7ffe0000.
#
# Without the preloader (Debian's wine64-preloader, only "suggested" by wine64) the kernel places
# the brk heap of each wine64 process at random in the GiB above the loader (0x7d005000), and in
# about 1 start in 5,000 it covers 0x7ffe0000: the process cannot map the shared user data and
# exits 1, printing only an err: line that WINEDEBUG=-all hides (docs/testing.md, "Silent Wine
# launch failures"). cmake/wine-run refuses to make a prefix without it; this test checks the
# processes themselves: /proc/PID/exe is the preloader, and the page at 0x7ffe0000 is mapped.
#
#   wine_preloader_test.sh          (PORTGUARD_WINE_TEMPLATE: the template prefix to clone)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${PORTGUARD_WINE_TEMPLATE:?the template prefix (set by CTest)}"
export WINEDLLOVERRIDES="mscoree=;mshtml=" WINEARCH=win64 WINEDEBUG=-all

WINEPREFIX=$("$root/cmake/wine-run" --template "$PORTGUARD_WINE_TEMPLATE" --new-prefix preloader)
export WINEPREFIX
cleanup() {
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
  rm -rf "$WINEPREFIX"
}
trap cleanup EXIT

wineserver -p
# Boots the prefix: wineboot, services.exe, winedevice.exe, plugplay.exe, explorer.exe stay up.
wine cmd /c exit 0 </dev/null >/dev/null 2>&1

fail=0 checked=0
for env in /proc/[0-9]*/environ; do
  pid=${env#/proc/}; pid=${pid%/environ}
  # Only this prefix's processes (others belong to other tests); the server is not a Wine process.
  tr '\0' '\n' <"$env" 2>/dev/null | grep -cx "WINEPREFIX=$WINEPREFIX" >/dev/null || continue  # not -q: it can SIGPIPE tr under pipefail
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
  [[ $exe == */wineserver* ]] && continue
  name=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ *$//' | cut -c1-60)
  checked=$((checked + 1))
  if [[ $exe != */wine64-preloader* ]]; then
    echo "FAIL: process $pid ($name) runs as $exe, not under Wine's preloader"
    fail=1
  elif ! grep -q '^7ffe0000-' "/proc/$pid/maps" 2>/dev/null; then
    echo "FAIL: process $pid ($name) has nothing mapped at 0x7ffe0000 (KUSER_SHARED_DATA)"
    fail=1
  else
    echo "ok: process $pid ($name): $exe, shared user data at 0x7ffe0000"
  fi
done
((checked >= 3)) || { echo "FAIL: found only $checked Wine processes of the booted prefix (services.exe and more expected)"; exit 1; }
exit $fail

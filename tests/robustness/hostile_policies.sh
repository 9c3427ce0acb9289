#!/usr/bin/env bash
# Hostile input campaign, by hand (issue 9, robustness 4; results in docs/testing.md):
#
#   tests/robustness/hostile_policies.sh [BUILD_DIR]     (a native build; default build/evidence-linux)
#
# Generates a 100 MB policy, a policy with 1,000,000 entries, 100,000 [[reserve]] blocks, the worst
# cases under the 1 MiB cap and 100,000-deep nesting, and runs `portguard validate` on each with
# /usr/bin/time (wall time, peak RSS); then one guard pass over 1 MiB of REG_MULTI_SZ garbage
# (robustness_tests with PORTGUARD_GARBAGE_BYTES=1048576). Prints what each produced; exits 1 only
# when something crashed (exit code > 2) or a hostile policy was accepted.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build/evidence-linux}
PG=$BUILD/service/portguard
[[ -x $PG && -x $BUILD/tests/robustness/robustness_tests ]] || { echo "build first: ninja -C $BUILD portguard robustness_tests" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import sys, os
d = sys.argv[1]
hdr = '[guard]\nmode = "merge"\n\n[catalog]\nenabled = false\n\n'
cap = 1024 * 1024
def w(name, text): open(os.path.join(d, name), 'w').write(text)
line = '# ' + 'x' * 97 + '\n'
with open(os.path.join(d, '100mb.toml'), 'w') as f:
    f.write(hdr); f.write(line * (100 * 1024 * 1024 // len(line)))
    f.write('[[reserve]]\nports = [1645]\nprotocol = "udp"\nservice = "IAS"\nreason = "r"\n')
w('million-entries.toml', hdr + '[[reserve]]\nprotocol = "udp"\nservice = "X"\nreason = "r"\nports = [' +
  ', '.join(str(1 + i % 65535) for i in range(1_000_000)) + ']\n')
w('100k-blocks.toml', hdr + ''.join(f'[[reserve]]\nports = [{1 + i % 65535}]\nprotocol = "udp"\nservice = "S{i}"\nreason = "r"\n\n' for i in range(100_000)))
s = hdr + '[[reserve]]\nprotocol = "udp"\nservice = "X"\nreason = "r"\nports = ['
parts, i = [], 0
while len(s) + sum(map(len, parts)) + 16 < cap:
    parts.append(f'{1 + i % 65535}, '); i += 1
w('cap-list.toml', s + ''.join(parts) + '1]\n')
parts, n, i = [], len(hdr), 0
while i < 65535:
    t = f'[[reserve]]\nports = [{1 + i}]\nprotocol = "udp"\nservice = "S"\nreason = "r"\n\n'
    if n + len(t) > cap: break
    parts.append(t); n += len(t); i += 1
w('cap-blocks-valid.toml', hdr + ''.join(parts))
w('deep-arrays.toml', hdr + 'x = ' + '[' * 100_000 + ']' * 100_000 + '\n')
w('deep-tables.toml', hdr + 'x = ' + '{a=' * 100_000 + '1' + '}' * 100_000 + '\n')
PY
bad=0
for f in 100mb million-entries 100k-blocks cap-list cap-blocks-valid deep-arrays deep-tables; do
  size=$(stat -c %s "$tmp/$f.toml")
  set +e
  /usr/bin/time -o "$tmp/time" -f '%e s, %M KiB peak RSS' "$PG" validate --policy "$tmp/$f.toml" --services-file /dev/null >"$tmp/out" 2>&1
  rc=$?
  set -e
  printf '%-18s %10d bytes: exit %d, %s\n    %s\n' "$f" "$size" "$rc" "$(tail -n1 "$tmp/time")" "$(head -n1 "$tmp/out" | cut -c1-220)"
  ((rc <= 2)) || { echo "    CRASHED" ; bad=1; }
  [[ $f == cap-blocks-valid || $rc -ne 0 ]] || { echo "    ACCEPTED a hostile policy"; bad=1; }
done
echo "guard pass over 1 MiB of REG_MULTI_SZ garbage:"
/usr/bin/time -o "$tmp/time" -f '%e s, %M KiB peak RSS' env PORTGUARD_GARBAGE_BYTES=1048576 "$BUILD/tests/robustness/robustness_tests" "garbage*" | tail -n2
echo "    $(cat "$tmp/time")"
exit $bad

#!/usr/bin/env bash
# The ops commands end to end under Wine, as an admin would run them on a Windows Server 2003 box
# (prefix switched with winecfg -v win2003, so ReservedPorts is the effective target):
#   drift written with `wine reg add` is seen by snapshot and check; repair --dry-run writes
#   nothing; repair writes exactly the plan and backs up first; check then says "pending reboot";
#   rollback --list shows the backup and --restore brings back the exact bytes (regedit /e);
#   a broken policy makes check CRITICAL and repair refuse without writing.
set -euo pipefail

source "$(dirname "$0")/cli_lib.sh" cli-scenario

reserved_bytes() {
  # regedit /e shows the exact bytes (reg query drops an unterminated last string).
  rm -f "$WINEPREFIX/drive_c/export.reg"
  wine regedit /e 'C:\export.reg' "HKEY_LOCAL_MACHINE\\${KEY#HKLM\\}" >/dev/null 2>&1
  iconv -f UTF-16LE -t UTF-8 "$WINEPREFIX/drive_c/export.reg" 2>/dev/null | tr -d '\r' | sed -n '/^"ReservedPorts"=/,/[^\\]$/p'
}

pd="$WINEPREFIX/drive_c/ProgramData/PortGuard"
mkdir -p "$pd"
cat >"$pd/policy.toml" <<'TOML'
[catalog]
enabled = false

[[reserve]]
ports = ["1645-1646", "1812-1813"]
protocol = "udp"
service = "IAS"
reason = "RADIUS for the VPN concentrators"
TOML

step "drift written with reg add is seen"
wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '3000-3000\0abc' /f >/dev/null
before=$(reserved_bytes)
[[ -n $before ]] || fail "could not export ReservedPorts"
run snapshot -o 'C:\snap.json'
expect_rc 0
grep -q '"3000-3000"' "$WINEPREFIX/drive_c/snap.json" || fail "snapshot lacks the drifted value"
grep -q '"abc"' "$WINEPREFIX/drive_c/snap.json" || fail "snapshot lacks the unrecognised entry"
run check
expect_rc 1
expect_out "PORTGUARD WARNING - drift on reserved-ports: missing 1645-1646, 1812-1813"
run check --json
expect_rc 1
expect_out '"status": "WARNING"'
# The members the Zabbix recipe's JSONPath items read (docs/monitoring.md), with the right types.
python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
assert j["code"] == 1 and j["status"] == "WARNING", j
for k in ("conflicts", "at_risk", "pending"): assert isinstance(j[k], int), k
assert isinstance(j["summary"], str) and j["summary"], j
' <<<"$out" || fail "check --json lacks a member the Zabbix recipe reads (code, conflicts, at_risk, pending, summary)"

step "plan captures the live host (the hook the adapters give cmd_plan)"
run plan
expect_rc 0
expect_out "1645-1646"
expect_out "1812-1813"

step "the snapshot plans offline the same way"
run plan --snapshot 'C:\snap.json'
expect_rc 0
expect_out "+ 1645-1646/udp"
expect_out 'current value: "3000-3000" "abc"'

step "repair --dry-run writes nothing"
run repair --dry-run
expect_rc 0
expect_out "reserved-ports: would write [1645-1646, 1812-1813, 3000-3000, abc]"
[[ $(reserved_bytes) == "$before" ]] || fail "dry run changed ReservedPorts"
[[ ! -d $pd/backups ]] || [[ -z $(ls -A "$pd/backups") ]] || fail "dry run wrote a backup"

step "repair writes exactly the plan, backs up first"
run repair
expect_rc 0
expect_out "reserved-ports: written [1645-1646, 1812-1813, 3000-3000, abc] (was [3000-3000, abc]); backup "
set +e; q=$(wine reg query "$KEY" /v ReservedPorts | tr -d '\r'); set -e
grep -qF '1645-1646\01812-1813\03000-3000\0abc' <<<"$q" || fail "registry does not hold the plan: $q"
[[ $(ls "$pd/backups" | wc -l) == 1 ]] || fail "expected exactly one backup"

step "check now: compliant, but the change waits for a reboot"
run check
expect_rc 1
expect_out "PORTGUARD WARNING - pending reboot: reserved-ports"
run repair
expect_rc 0
expect_out "Nothing to do"

step "rollback restores the exact bytes"
run rollback --list
expect_rc 0
id=$(awk 'NR==1 {print $1}' <<<"$out")
[[ $id == *-reserved-ports ]] || fail "no backup id in the list"
expect_out 'was "3000-3000", "abc"'
run rollback --restore "$id" --dry-run
expect_rc 0
[[ $(reserved_bytes) != "$before" ]] || fail "dry-run restore changed the value"
run rollback --restore "$id"
expect_rc 0
expect_out "restored backup $id"
[[ $(reserved_bytes) == "$before" ]] || fail "rollback is not byte-exact: $(reserved_bytes) vs $before"
[[ $(ls "$pd/backups" | wc -l) == 2 ]] || fail "rollback did not back up the current value first"
run rollback --restore 20000101T000000.000Z-0001-reserved-ports
expect_rc 1
run rollback --list --restore x
expect_rc 64

step "discover: an installed IAS, its ports and who holds them"
wine sc create IAS binPath= 'C:\windows\system32\svchost.exe' DisplayName= "Network Policy Server" >/dev/null
hold_port udp 1812
run discover
expect_rc 0
grep -E '^IAS +stopped .*1812-1813/udp +1812: an unknown process' <<<"$out" >/dev/null || fail "discover does not show IAS's 1812 held"
grep -E '^IAS +stopped .*1645-1646/udp +free' <<<"$out" >/dev/null || fail "discover does not show IAS's 1645-1646 free"
run discover --json
expect_rc 0
expect_out '"holder": "an unknown process"'
# IAS is installed but stopped, so whoever holds 1812 is not IAS: CRITICAL, although Wine hides the PID.
run check
expect_rc 2
expect_out "UDP 1812 needed by IAS"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

step "a safety rail blocks repair: check is CRITICAL, repair refuses and writes nothing"
cp "$pd/policy.toml" "$work/policy.good"
printf '[guard.limits]\nmax_reserved_ports = 3\n\n' | cat - "$work/policy.good" >"$pd/policy.toml"
wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '3000-3000' /f >/dev/null
rail_before=$(reserved_bytes)
run check
expect_rc 2
expect_out "[rail-max-ports]"
run repair
expect_rc 1
[[ $(reserved_bytes) == "$rail_before" ]] || fail "a blocked repair changed ReservedPorts"
cp "$work/policy.good" "$pd/policy.toml"

step "a broken policy: check is CRITICAL, repair refuses and writes nothing"
echo '[[reserve]]
ports = [70000]' >"$pd/policy.toml"
broken_before=$(reserved_bytes)
run check
expect_rc 2
expect_out "PORTGUARD CRITICAL - no usable policy"
run repair
expect_rc 1
[[ $(reserved_bytes) == "$broken_before" ]] || fail "repair with a broken policy changed ReservedPorts"
run check --bogus-option
expect_rc 3

step "DataDir: commands use the folder the installer recorded; a bad value is refused, nothing written"
SETTINGS='HKLM\SOFTWARE\PortGuard'
mkdir -p "$WINEPREFIX/drive_c/PGData"
cp "$work/policy.good" "$WINEPREFIX/drive_c/PGData/policy.toml"
wine reg add "$SETTINGS" /v DataDir /t REG_SZ /d 'C:\PGData\' /f /reg:64 >/dev/null
run validate
expect_rc 0
expect_out 'C:\PGData\policy.toml: valid'
run repair --dry-run
expect_rc 0
expect_out "reserved-ports: would write"
wine reg add "$SETTINGS" /v DataDir /t REG_SZ /d 'PGData' /f /reg:64 >/dev/null
bad_before=$(reserved_bytes)
run check
expect_rc 3
expect_out 'DataDir is "PGData", not an absolute local path'
run repair
expect_rc 2
grep -qF 'DataDir is "PGData", not an absolute local path' "$work/stderr" || fail "repair does not say what is wrong with DataDir"
[[ $(reserved_bytes) == "$bad_before" ]] || fail "repair with a bad DataDir changed ReservedPorts"
wine reg delete "$SETTINGS" /v DataDir /f /reg:64 >/dev/null

step "secure-data-dir takes write access away from everyone but SYSTEM and Administrators"
# Wine maps the DACL to the Unix mode: Everyone's write is the "other" write bit.
chmod o+w "$pd"
run secure-data-dir
expect_rc 0
expect_out "SYSTEM and Administrators full control, Users read"
(( (8#$(stat -c %a "$pd") & 2) == 0 )) || fail "the data folder is still writable by Everyone: $(stat -c %A "$pd")"

echo "PASS"

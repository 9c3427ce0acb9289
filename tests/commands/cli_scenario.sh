#!/usr/bin/env bash
# The ops commands end to end under Wine, as an admin would run them on a Windows Server 2003 box
# (prefix switched with winecfg -v win2003, so ReservedPorts is the effective target):
#   drift written with `wine reg add` is seen by snapshot and check; repair --dry-run writes
#   nothing; repair writes exactly the plan and backs up first; check then says "pending reboot";
#   rollback --list shows the backup and --restore brings back the exact bytes (regedit /e);
#   a broken policy makes check CRITICAL and repair refuse without writing.
set -euo pipefail

source "$(dirname "$0")/cli_lib.sh" cli-scenario

# The exact bytes of ReservedPorts (the kit's pg_reg_export).
reserved_bytes() { pg_reg_export "$KEY" ReservedPorts; }

mkdir -p "$PG_DATA"
cat >"$PG_DATA/policy.toml" <<'TOML'
[catalog]
enabled = false

[[reserve]]
ports = ["1645-1646", "1812-1813"]
protocol = "udp"
service = "IAS"
reason = "RADIUS for the VPN concentrators"
TOML

pg_log "drift written with reg add is seen"
wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '3000-3000\0abc' /f >/dev/null
before=$(reserved_bytes)
[[ -n $before ]] || pg_fail "could not export ReservedPorts"
pg_portguard snapshot -o 'C:\snap.json'
pg_expect_rc 0
grep -q '"3000-3000"' "$WINEPREFIX/drive_c/snap.json" || pg_fail "snapshot lacks the drifted value"
grep -q '"abc"' "$WINEPREFIX/drive_c/snap.json" || pg_fail "snapshot lacks the unrecognised entry"
pg_portguard check
pg_expect_rc 1
pg_expect_out "PORTGUARD WARNING - drift on reserved-ports: missing 1645-1646, 1812-1813"
pg_portguard check --json
pg_expect_rc 1
pg_expect_out '"status": "WARNING"'
# The members the Zabbix recipe's JSONPath items read (docs/monitoring.md), with the right types.
python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
assert j["code"] == 1 and j["status"] == "WARNING", j
for k in ("conflicts", "at_risk", "pending"): assert isinstance(j[k], int), k
assert isinstance(j["summary"], str) and j["summary"], j
' <<<"$PG_OUT" || pg_fail "check --json lacks a member the Zabbix recipe reads (code, conflicts, at_risk, pending, summary)"

pg_log "plan captures the live host (the hook the adapters give cmd_plan)"
pg_portguard plan
pg_expect_rc 0
pg_expect_out "1645-1646"
pg_expect_out "1812-1813"

pg_log "the snapshot plans offline the same way"
pg_portguard plan --snapshot 'C:\snap.json'
pg_expect_rc 0
pg_expect_out "+ 1645-1646/udp"
pg_expect_out 'current value: "3000-3000" "abc"'

pg_log "repair --dry-run writes nothing"
pg_portguard repair --dry-run
pg_expect_rc 0
pg_expect_out "reserved-ports: would write [1645-1646, 1812-1813, 3000-3000, abc]"
[[ $(reserved_bytes) == "$before" ]] || pg_fail "dry run changed ReservedPorts"
[[ ! -d $PG_DATA/backups ]] || [[ -z $(ls -A "$PG_DATA/backups") ]] || pg_fail "dry run wrote a backup"

pg_log "repair writes exactly the plan, backs up first"
pg_portguard repair
pg_expect_rc 0
pg_expect_out "reserved-ports: written [1645-1646, 1812-1813, 3000-3000, abc] (was [3000-3000, abc]); backup "
set +e; q=$(wine reg query "$KEY" /v ReservedPorts | tr -d '\r'); set -e
grep -qF '1645-1646\01812-1813\03000-3000\0abc' <<<"$q" || pg_fail "registry does not hold the plan: $q"
[[ $(ls "$PG_DATA/backups" | wc -l) == 1 ]] || pg_fail "expected exactly one backup"

pg_log "check now: compliant, but the change waits for a reboot"
pg_portguard check
pg_expect_rc 1
pg_expect_out "PORTGUARD WARNING - pending reboot: reserved-ports"
pg_portguard repair
pg_expect_rc 0
pg_expect_out "Nothing to do"

pg_log "rollback restores the exact bytes"
pg_portguard rollback --list
pg_expect_rc 0
id=$(awk 'NR==1 {print $1}' <<<"$PG_OUT")
[[ $id == *-reserved-ports ]] || pg_fail "no backup id in the list"
pg_expect_out 'was "3000-3000", "abc"'
pg_portguard rollback --restore "$id" --dry-run
pg_expect_rc 0
[[ $(reserved_bytes) != "$before" ]] || pg_fail "dry-run restore changed the value"
pg_portguard rollback --restore "$id"
pg_expect_rc 0
pg_expect_out "restored backup $id"
[[ $(reserved_bytes) == "$before" ]] || pg_fail "rollback is not byte-exact: $(reserved_bytes) vs $before"
[[ $(ls "$PG_DATA/backups" | wc -l) == 2 ]] || pg_fail "rollback did not back up the current value first"
pg_portguard rollback --restore 20000101T000000.000Z-0001-reserved-ports
pg_expect_rc 1
pg_portguard rollback --list --restore x
pg_expect_rc 64

pg_log "discover: an installed IAS, its ports and who holds them"
wine sc create IAS binPath= 'C:\windows\system32\svchost.exe' DisplayName= "Network Policy Server" >/dev/null
hold_port udp 1812
pg_portguard discover
pg_expect_rc 0
grep -E '^IAS +stopped .*1812-1813/udp +1812: an unknown process' <<<"$PG_OUT" >/dev/null || pg_fail "discover does not show IAS's 1812 held"
grep -E '^IAS +stopped .*1645-1646/udp +free' <<<"$PG_OUT" >/dev/null || pg_fail "discover does not show IAS's 1645-1646 free"
pg_portguard discover --json
pg_expect_rc 0
pg_expect_out '"holder": "an unknown process"'
# IAS is installed but stopped, so whoever holds 1812 is not IAS: CRITICAL, although Wine hides the PID.
pg_portguard check
pg_expect_rc 2
pg_expect_out "UDP 1812 needed by IAS"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

pg_log "a safety rail blocks repair: check is CRITICAL, repair refuses and writes nothing"
cp "$PG_DATA/policy.toml" "$work/policy.good"
printf '[guard.limits]\nmax_reserved_ports = 3\n\n' | cat - "$work/policy.good" >"$PG_DATA/policy.toml"
wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '3000-3000' /f >/dev/null
rail_before=$(reserved_bytes)
pg_portguard check
pg_expect_rc 2
pg_expect_out "[rail-max-ports]"
pg_portguard repair
pg_expect_rc 1
[[ $(reserved_bytes) == "$rail_before" ]] || pg_fail "a blocked repair changed ReservedPorts"
cp "$work/policy.good" "$PG_DATA/policy.toml"

pg_log "a broken policy: check is CRITICAL, repair refuses and writes nothing"
echo '[[reserve]]
ports = [70000]' >"$PG_DATA/policy.toml"
broken_before=$(reserved_bytes)
pg_portguard check
pg_expect_rc 2
pg_expect_out "PORTGUARD CRITICAL - no usable policy"
pg_portguard repair
pg_expect_rc 1
[[ $(reserved_bytes) == "$broken_before" ]] || pg_fail "repair with a broken policy changed ReservedPorts"
pg_portguard check --bogus-option
pg_expect_rc 3

pg_log "DataDir: commands use the folder the installer recorded; a bad value is refused, nothing written"
SETTINGS='HKLM\SOFTWARE\PortGuard'
mkdir -p "$WINEPREFIX/drive_c/PGData"
cp "$work/policy.good" "$WINEPREFIX/drive_c/PGData/policy.toml"
wine reg add "$SETTINGS" /v DataDir /t REG_SZ /d 'C:\PGData\' /f /reg:64 >/dev/null
pg_portguard validate
pg_expect_rc 0
pg_expect_out 'C:\PGData\policy.toml: valid'
pg_portguard repair --dry-run
pg_expect_rc 0
pg_expect_out "reserved-ports: would write"
wine reg add "$SETTINGS" /v DataDir /t REG_SZ /d 'PGData' /f /reg:64 >/dev/null
bad_before=$(reserved_bytes)
pg_portguard check
pg_expect_rc 3
pg_expect_out 'DataDir is "PGData", not an absolute local path'
pg_portguard repair
pg_expect_rc 2
grep -qF 'DataDir is "PGData", not an absolute local path' "$PG_ERR_FILE" || pg_fail "repair does not say what is wrong with DataDir"
[[ $(reserved_bytes) == "$bad_before" ]] || pg_fail "repair with a bad DataDir changed ReservedPorts"
wine reg delete "$SETTINGS" /v DataDir /f /reg:64 >/dev/null

pg_log "secure-data-dir takes write access away from everyone but SYSTEM and Administrators"
# Wine maps the DACL to the Unix mode: Everyone's write is the "other" write bit.
chmod o+w "$PG_DATA"
pg_portguard secure-data-dir
pg_expect_rc 0
pg_expect_out "SYSTEM and Administrators full control, Users read"
(( (8#$(stat -c %a "$PG_DATA") & 2) == 0 )) || pg_fail "the data folder is still writable by Everyone: $(stat -c %A "$PG_DATA")"

echo "PASS"

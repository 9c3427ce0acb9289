#!/usr/bin/env bash
# Issue 19's defects of the Windows-only commands, one case per ctest (win32_cli_regression.CASE),
# each in its own Windows Server 2003 prefix (ReservedPorts is the effective target):
#   check_json_complete      check --json keeps every member with no usable policy / a bad command line
#   snapshot_missing_folder  snapshot -o into a missing folder: exit 2, no folder created
#   check_summary_count      "(and N other problems, listed below)": N counts problem lines
#   perfdata_unknown_holder  a port held by an unknown process, its service not installed: OK (info),
#                            conflicts=0 unknown_holders=1 (conflicts counts only what is CRITICAL)
#   protect_messages         protect says "already protected" when recorded; --list says when empty;
#                            uninstall-service with nothing installed: exit 1, not "removed"
#   rollback_absent_value    restoring a backup of an absent value says it deletes the value
set -euo pipefail
case_name=${1:?usage: cli_regressions.sh CASE}

source "$(dirname "$0")/cli_lib.sh" cli-regression

# Every member docs/cli.md promises for check --json, whatever the path.
expect_check_members() {
  python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
want = ["status", "code", "summary", "critical", "warning", "targets_managed", "targets_compliant",
        "conflicts", "unknown_holders", "at_risk", "pending", "policy"]
missing = [m for m in want if m not in j]
sys.exit("missing members: " + ", ".join(missing) if missing else 0)' <<<"$PG_OUT" || pg_fail "check --json lacks documented members"
}

mkdir -p "$PG_DATA"
write_policy() {  # write_policy PORTS: one [[reserve]] entry for IAS, catalog off
  printf '[catalog]\nenabled = false\n\n[[reserve]]\nports = [%s]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n' "$1" >"$PG_DATA/policy.toml"
}

case $case_name in
check_json_complete)
  pg_portguard check --json
  pg_expect_rc 2
  pg_expect_out '"status": "CRITICAL"'
  pg_expect_out 'no usable policy'
  expect_check_members
  pg_portguard check --json --bogus-option
  pg_expect_rc 3
  pg_expect_out '"status": "UNKNOWN"'
  expect_check_members
  pg_portguard check --json stray-argument
  pg_expect_rc 3
  expect_check_members
  ;;
snapshot_missing_folder)
  write_policy '"1645-1646"'
  pg_portguard snapshot -o 'C:\no-such-folder\deeper\host.json'
  pg_expect_rc 2
  grep -qF 'does not exist' <<<"$PG_ERR" || pg_fail "snapshot does not say the folder does not exist"
  [[ ! -e $WINEPREFIX/drive_c/no-such-folder ]] || pg_fail "snapshot -o created the missing folder"
  pg_portguard snapshot -o 'C:\host.json'
  pg_expect_rc 0
  [[ -s $WINEPREFIX/drive_c/host.json ]] || pg_fail "snapshot -o into an existing folder wrote nothing"
  ;;
check_summary_count)
  write_policy '"1645-1646", "1812"'
  wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '1645-1646' /f >/dev/null
  pg_portguard check
  pg_expect_rc 1
  summary=$(head -n1 <<<"$PG_OUT")
  problems=$(grep -cE '^(WARNING|CRITICAL): ' <<<"$PG_OUT")
  (( problems > 1 )) || pg_fail "the case needs more than one problem line, got $problems"
  grep -qF "drift on reserved-ports: missing 1812-1812 (and $((problems - 1)) other problem" <<<"$summary" ||
    pg_fail "the summary does not count the other problem lines ($((problems - 1))): $summary"
  pg_reject_out '(+'
  ;;
perfdata_unknown_holder)
  write_policy '"1812"'
  wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '1812-1812' /f >/dev/null
  hold_port udp 1812
  pg_portguard check
  pg_expect_rc 0
  pg_expect_out "PORTGUARD OK - "
  pg_expect_out "conflicts=0 unknown_holders=1"
  pg_portguard check --json
  pg_expect_out '"conflicts": 0'
  pg_expect_out '"unknown_holders": 1'
  ;;
protect_messages)
  pg_portguard protect --list
  pg_expect_rc 0
  pg_expect_out "No service is protected by PortGuard"
  pg_portguard uninstall-service
  pg_expect_rc 1
  pg_reject_out "PortGuard service removed"
  grep -qF "not installed" <<<"$PG_ERR" || pg_fail "uninstall-service does not say nothing is installed"
  pg_portguard install-service
  pg_expect_rc 0
  wine sc create PgDummy binPath= 'C:\windows\system32\svchost.exe' >/dev/null
  pg_portguard protect --service PgDummy
  pg_expect_rc 0
  pg_expect_out "PgDummy: now depends on PortGuard"
  pg_portguard protect --service PgDummy
  pg_expect_rc 0
  pg_expect_out "PgDummy: already protected by PortGuard"
  pg_reject_out "not recorded"
  pg_portguard protect --list
  pg_expect_out "PgDummy"
  pg_portguard uninstall-service
  pg_expect_rc 0
  pg_expect_out "PortGuard service removed"
  ;;
rollback_absent_value)
  write_policy '"1645-1646"'
  wine reg delete "$KEY" /v ReservedPorts /f >/dev/null 2>&1 || true
  pg_portguard repair
  pg_expect_rc 0
  pg_portguard rollback --list
  id=$(awk 'NR==1 {print $1}' <<<"$PG_OUT")
  [[ $id == *-reserved-ports ]] || pg_fail "no backup id in the list"
  pg_expect_out "was (value absent)"
  pg_portguard rollback --restore "$id" --dry-run
  pg_expect_rc 0
  pg_expect_out "would delete the value"
  pg_reject_out "[]"
  pg_portguard rollback --restore "$id"
  pg_expect_rc 0
  pg_expect_out "deleted the value"
  set +e; wine reg query "$KEY" /v ReservedPorts >/dev/null 2>&1; present=$?; set -e
  [[ $present != 0 ]] || pg_fail "the restore left ReservedPorts in place"
  ;;
*)
  pg_fail "unknown case $case_name"
  ;;
esac
echo "PASS"

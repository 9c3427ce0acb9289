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
sys.exit("missing members: " + ", ".join(missing) if missing else 0)' <<<"$out" || fail "check --json lacks documented members"
}

pd="$WINEPREFIX/drive_c/ProgramData/PortGuard"
mkdir -p "$pd"
write_policy() {  # write_policy PORTS: one [[reserve]] entry for IAS, catalog off
  printf '[catalog]\nenabled = false\n\n[[reserve]]\nports = [%s]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n' "$1" >"$pd/policy.toml"
}

case $case_name in
check_json_complete)
  run check --json
  expect_rc 2
  expect_out '"status": "CRITICAL"'
  expect_out 'no usable policy'
  expect_check_members
  run check --json --bogus-option
  expect_rc 3
  expect_out '"status": "UNKNOWN"'
  expect_check_members
  run check --json stray-argument
  expect_rc 3
  expect_check_members
  ;;
snapshot_missing_folder)
  write_policy '"1645-1646"'
  run snapshot -o 'C:\no-such-folder\deeper\host.json'
  expect_rc 2
  grep -qF 'does not exist' <<<"$err" || fail "snapshot does not say the folder does not exist"
  [[ ! -e $WINEPREFIX/drive_c/no-such-folder ]] || fail "snapshot -o created the missing folder"
  run snapshot -o 'C:\host.json'
  expect_rc 0
  [[ -s $WINEPREFIX/drive_c/host.json ]] || fail "snapshot -o into an existing folder wrote nothing"
  ;;
check_summary_count)
  write_policy '"1645-1646", "1812"'
  wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '1645-1646' /f >/dev/null
  run check
  expect_rc 1
  summary=$(head -n1 <<<"$out")
  problems=$(grep -cE '^(WARNING|CRITICAL): ' <<<"$out")
  (( problems > 1 )) || fail "the case needs more than one problem line, got $problems"
  grep -qF "drift on reserved-ports: missing 1812-1812 (and $((problems - 1)) other problem" <<<"$summary" ||
    fail "the summary does not count the other problem lines ($((problems - 1))): $summary"
  reject_out '(+'
  ;;
perfdata_unknown_holder)
  write_policy '"1812"'
  wine reg add "$KEY" /v ReservedPorts /t REG_MULTI_SZ /d '1812-1812' /f >/dev/null
  hold_port udp 1812
  run check
  expect_rc 0
  expect_out "PORTGUARD OK - "
  expect_out "conflicts=0 unknown_holders=1"
  run check --json
  expect_out '"conflicts": 0'
  expect_out '"unknown_holders": 1'
  ;;
protect_messages)
  run protect --list
  expect_rc 0
  expect_out "No service is protected by PortGuard"
  run uninstall-service
  expect_rc 1
  reject_out "PortGuard service removed"
  grep -qF "not installed" <<<"$err" || fail "uninstall-service does not say nothing is installed"
  run install-service
  expect_rc 0
  wine sc create PgDummy binPath= 'C:\windows\system32\svchost.exe' >/dev/null
  run protect --service PgDummy
  expect_rc 0
  expect_out "PgDummy: now depends on PortGuard"
  run protect --service PgDummy
  expect_rc 0
  expect_out "PgDummy: already protected by PortGuard"
  reject_out "not recorded"
  run protect --list
  expect_out "PgDummy"
  run uninstall-service
  expect_rc 0
  expect_out "PortGuard service removed"
  ;;
rollback_absent_value)
  write_policy '"1645-1646"'
  wine reg delete "$KEY" /v ReservedPorts /f >/dev/null 2>&1 || true
  run repair
  expect_rc 0
  run rollback --list
  id=$(awk 'NR==1 {print $1}' <<<"$out")
  [[ $id == *-reserved-ports ]] || fail "no backup id in the list"
  expect_out "was (value absent)"
  run rollback --restore "$id" --dry-run
  expect_rc 0
  expect_out "would delete the value"
  reject_out "[]"
  run rollback --restore "$id"
  expect_rc 0
  expect_out "deleted the value"
  set +e; wine reg query "$KEY" /v ReservedPorts >/dev/null 2>&1; present=$?; set -e
  [[ $present != 0 ]] || fail "the restore left ReservedPorts in place"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "PASS"

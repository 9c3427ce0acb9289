#!/usr/bin/env bash
# The MSI's whole life on one machine, as ops would live it (issue 7):
#   install -> service RUNNING, event source, policy + data folders, remembered properties
#   edit the policy -> upgrade to a newer build -> edit preserved, service runs the NEW binary
#   older MSI over the newer one -> refused (1603), newer one untouched
#   same-version rebuild -> upgrades in place: still exactly one PortGuard product
#   uninstall -> service, event source, binaries and settings gone; policy and backups kept
#
#   lifecycle.sh MSI PG_EXITCODE_EXE DEFAULT_POLICY VERSION
PG_TEST_NAME=lifecycle
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MSI=$1 PG_EXITCODE_EXE=$2 DEFAULT_POLICY=$3 VERSION=$4
[[ -f $MSI ]] || pg_fail "MSI $MSI not built (build the 'msi' target)"

pg_prefix_new
work=$WINEPREFIX/pgtest-msis   # removed with the prefix
mkdir -p "$work"

# --- the newer build and a same-version rebuild of it -------------------------------------------
IFS=. read -r major minor build <<<"$VERSION"
NEWER=$major.$minor.$((build + 1))
# A distinguishable "new binary": the same program with a marker appended (PE loaders ignore
# trailing data), so the test can tell which file the running service was started from.
marker="portguard-installer-test-upgrade-$NEWER-$$"
stage_exe=$(dirname "$MSI")/stage/portguard.exe
cp "$stage_exe" "$work/portguard.exe"
printf '%s' "$marker" >>"$work/portguard.exe"
pg_build_msi "$NEWER" "$work/portguard.exe" "$DEFAULT_POLICY" "$work/portguard-$NEWER-x64.msi"
pg_build_msi "$NEWER" "$work/portguard.exe" "$DEFAULT_POLICY" "$work/rebuild/portguard-$NEWER-x64.msi"
newer_code=$(pg_msi_product_code "$work/portguard-$NEWER-x64.msi")
rebuild_code=$(pg_msi_product_code "$work/rebuild/portguard-$NEWER-x64.msi")
[[ $newer_code != "$rebuild_code" ]] || pg_fail "a rebuild reused ProductCode $newer_code: Product Id must be '*'"

msi_old=$(pg_stage "$MSI" old.msi)
msi_new=$(pg_stage "$work/portguard-$NEWER-x64.msi" new.msi)
msi_rebuild=$(pg_stage "$work/rebuild/portguard-$NEWER-x64.msi" rebuild.msi)
exe="$PG_C/Program Files/PortGuard/portguard.exe"
data="$PG_C/ProgramData/PortGuard"
packed=$(pg_pack_guid "$PG_UPGRADE_CODE")

# --- install -------------------------------------------------------------------------------------
pg_msiexec /i "$msi_old" /qn
[[ $MSI_RC == 0 ]] || pg_fail "install of $VERSION failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(pg_reg_value "$PG_SERVICE_KEY" Start) == 0x2 ]] || pg_fail "service is not auto-start"
[[ $(pg_reg_value "$PG_SERVICE_KEY" Group) == NetworkProvider ]] || pg_fail "service is not in the NetworkProvider load-order group"
[[ $(pg_reg_value "$PG_SERVICE_KEY" ObjectName) == LocalSystem ]] || pg_fail "service does not run as LocalSystem"
pg_reg_value "$PG_SERVICE_KEY" Description | grep -q 'reserved' || pg_fail "service has no description"
pg_reg_value "$PG_SERVICE_KEY" ImagePath | grep -qi 'Program Files\\PortGuard\\portguard.exe.* run$' \
  || pg_fail "service ImagePath is not 'portguard.exe run': $(pg_reg_value "$PG_SERVICE_KEY" ImagePath)"

[[ $(pg_reg_value "$PG_EVENT_KEY" EventMessageFile) == 'C:\Program Files\PortGuard\portguard.exe' ]] \
  || pg_fail "event source EventMessageFile is '$(pg_reg_value "$PG_EVENT_KEY" EventMessageFile)'"
[[ $(pg_reg_value "$PG_EVENT_KEY" TypesSupported) == 0x7 ]] || pg_fail "event source TypesSupported is not 7"

[[ -f $data/policy.toml ]] || pg_fail "no policy installed in %ProgramData%\\PortGuard"
cmp -s "$data/policy.toml" "$DEFAULT_POLICY" || pg_fail "installed policy differs from the default policy"
for d in state backups logs; do [[ -d $data/$d ]] || pg_fail "%ProgramData%\\PortGuard\\$d not created"; done
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Mode) == enforce ]] || pg_fail "MODE not remembered as 'enforce' by default"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" DataDir) == 'C:\ProgramData\PortGuard\' ]] \
  || pg_fail "DataDir not recorded as the data folder: '$(pg_reg_value "$PG_SETTINGS_KEY" DataDir)'"
# The exe secured the data folder (for Windows Installer < 5, which ignores MsiLockPermissionsEx).
grep -q 'Action ended .*: SecureDataDir\. Return value 1\.' "$PG_C/pgtest/msiexec-$PG_LOG_SEQ.log" \
  || pg_fail "the SecureDataDir custom action did not run successfully (see msiexec-$PG_LOG_SEQ.log)"
[[ $(pg_related_products "$packed") == 1 ]] || pg_fail "expected one PortGuard product after install"
# Every file the MSI installs under the install folder, and nothing else: the exe, the Windows
# Event Forwarding subscription and the Group Policy templates (issue 17), byte-identical to the source.
installdir="$PG_C/Program Files/PortGuard"
installed=$(cd "$installdir" && find . -type f | sort | tr '\n' ' ')
[[ $installed == './admx/PortGuard.admx ./admx/en-US/PortGuard.adml ./portguard.exe ./wef/portguard-subscription.xml ' ]] \
  || pg_fail "installed files under Program Files\\PortGuard: $installed"
src_installer="$(dirname "$0")/../../installer"
for f in admx/PortGuard.admx admx/en-US/PortGuard.adml wef/portguard-subscription.xml; do
  cmp -s "$installdir/$f" "$src_installer/$f" || pg_fail "installed $f differs from installer/$f"
done
pg_log "installed $VERSION: service RUNNING, event source, policy, data folders, Mode=enforce"

# --- ops edit the policy and leave a backup behind; upgrade to the newer build -------------------
printf '\n# edited by ops: %s\n' "$marker" >>"$data/policy.toml"
edited=$(cat "$data/policy.toml")
printf 'backup made before the upgrade\n' >"$data/backups/ops-test-backup.txt"
old_pid=$(pg_service_pid)
[[ -n $old_pid ]] || pg_fail "no PortGuard service process found before the upgrade"

pg_stop_service_first
pg_msiexec /i "$msi_new" /qn
[[ $MSI_RC == 0 ]] || pg_fail "upgrade to $NEWER failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "the upgrade changed the ops-edited policy"
grep -q "$marker" "$exe" || pg_fail "the upgrade did not install the new portguard.exe"
new_pid=$(pg_service_pid)
[[ -n $new_pid ]] || pg_fail "no PortGuard service process after the upgrade"
[[ $new_pid != "$old_pid" ]] || pg_fail "the upgrade did not start a new service process (same PID $old_pid)"
[[ $(pg_mapped_image_inode "$new_pid") == $(stat -c %i "$exe") ]] || pg_fail "the running service is not the upgraded portguard.exe"
[[ $(pg_related_products "$packed") == 1 ]] || pg_fail "upgrade left $(pg_related_products "$packed") PortGuard products"
pg_reg_key_exists "$PG_UNINSTALL_KEY\\$newer_code" || pg_fail "upgraded product $newer_code not registered"
[[ $(pg_reg_value "$PG_UNINSTALL_KEY\\$newer_code" DisplayVersion) == "$NEWER" ]] || pg_fail "DisplayVersion is not $NEWER"
pg_log "upgraded to $NEWER: policy edit preserved, the new binary runs as the service (PID $old_pid -> $new_pid)"

# --- downgrade refused ---------------------------------------------------------------------------
pg_msiexec /i "$msi_old" /qn
[[ $MSI_RC == 1603 ]] || pg_fail "installing $VERSION over $NEWER returned $MSI_RC, expected 1603 (downgrade refused)"
grep -q "$marker" "$exe" || pg_fail "the refused downgrade replaced portguard.exe"
pg_wait_service_state PortGuard RUNNING
[[ $(pg_related_products "$packed") == 1 ]] || pg_fail "refused downgrade left $(pg_related_products "$packed") products"
pg_reg_key_exists "$PG_UNINSTALL_KEY\\$newer_code" || pg_fail "refused downgrade unregistered $NEWER"
# Refused by the downgrade launch condition (Wine does not log its message text under /qn; the
# tables test checks the message itself).
grep -a -q -E "LaunchConditions\. Return value [^1]" "$PG_C/pgtest/msiexec-$PG_LOG_SEQ.log" \
  || pg_fail "the downgrade was not refused by the launch conditions"
pg_log "downgrade to $VERSION refused by the launch condition with 1603"

# --- same-version rebuild upgrades in place ------------------------------------------------------
pg_stop_service_first
pg_msiexec /i "$msi_rebuild" /qn
[[ $MSI_RC == 0 ]] || pg_fail "same-version rebuild install failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(pg_related_products "$packed") == 1 ]] || pg_fail "same-version rebuild installed side by side ($(pg_related_products "$packed") products)"
pg_reg_key_exists "$PG_UNINSTALL_KEY\\$rebuild_code" || pg_fail "rebuild $rebuild_code not registered"
! pg_reg_key_exists "$PG_UNINSTALL_KEY\\$newer_code" || pg_fail "the product the rebuild replaced is still registered"
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "the same-version rebuild changed the ops-edited policy"
pg_log "same-version rebuild replaced $newer_code by $rebuild_code: one product"

# --- uninstall -----------------------------------------------------------------------------------
pg_stop_service_first  # the wait Windows Installer does before RemoveFiles and Wine's does not
pg_msiexec /x "$msi_rebuild" /qn
[[ $MSI_RC == 0 ]] || pg_fail "uninstall failed with exit code $MSI_RC"
[[ -z $(pg_service_state PortGuard) ]] || pg_fail "service still registered after uninstall"
! pg_reg_key_exists "$PG_SERVICE_KEY" || pg_fail "service key left behind"
! pg_reg_key_exists "$PG_EVENT_KEY" || pg_fail "event source left behind"
! pg_reg_key_exists "$PG_SETTINGS_KEY" || pg_fail "HKLM\\SOFTWARE\\PortGuard left behind"
[[ ! -e $exe ]] || pg_fail "portguard.exe left behind"
leftover=$(find "$installdir" -type f 2>/dev/null || true)  # the folder itself may be gone
[[ -z $leftover ]] || pg_fail "uninstall left files in the install folder: $leftover"
pg_wait_service_process_gone
[[ $(pg_related_products "$packed") == 0 ]] || pg_fail "a PortGuard product is still registered after uninstall"
[[ $(cat "$data/policy.toml" 2>/dev/null) == "$edited" ]] || pg_fail "uninstall removed or changed the policy"
[[ -f $data/backups/ops-test-backup.txt ]] || pg_fail "uninstall removed the backups"
pg_log "uninstalled: service, event source, settings and binary gone; policy and backups kept"
echo "PASS"

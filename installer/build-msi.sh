#!/usr/bin/env bash
# Builds portguard-<version>-x64.msi from installer/portguard.wxs with wixl (msitools), then patches
# with msibuild what wixl 0.101 cannot express but the real WiX v3 build gets from the same .wxs
# (see /work/shared/notes/wixl-msi.md and docs/install.md, "Two toolchains").
#
#   build-msi.sh --version X.Y.Z --exe portguard.exe --policy policy.toml --output out.msi [--workdir DIR]
#
# Used by the `msi` CMake target and by tests/installer (which builds a second, newer MSI for the
# upgrade scenario). Fails loudly if any patch does not land: a silently unpatched MSI would
# overwrite an ops-edited policy on upgrade.
set -euo pipefail

version="" exe="" policy="" output="" workdir=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --version) version=$2; shift 2 ;;
    --exe) exe=$2; shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) echo "build-msi.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in version exe policy output; do
  [[ -n ${!v} ]] || { echo "build-msi.sh: --$v is required" >&2; exit 2; }
done
# Windows Installer product versions: major.minor.build, at most 255.255.65535.
if ! [[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || (( BASH_REMATCH[1] > 255 || BASH_REMATCH[2] > 255 || BASH_REMATCH[3] > 65535 )); then
  echo "build-msi.sh: version '$version' is not a Windows Installer ProductVersion (major.minor.build, max 255.255.65535)" >&2
  exit 2
fi
[[ -f $exe ]] || { echo "build-msi.sh: executable '$exe' not found" >&2; exit 1; }
[[ -f $policy ]] || { echo "build-msi.sh: default policy '$policy' not found" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wxs=$here/portguard.wxs
output=$(realpath -m "$output")
[[ -n $workdir ]] || workdir=$(dirname "$output")/msi-stage-$version
workdir=$(realpath -m "$workdir")
rm -rf "$workdir"
mkdir -p "$workdir" "$(dirname "$output")"

# wixl resolves File/@Source relative to the working directory and rejects absolute paths, so the
# payload is staged under fixed names.
cp "$exe" "$workdir/portguard.exe"
cp "$policy" "$workdir/policy.toml"
cp "$here/wef/portguard-subscription.xml" "$workdir/portguard-subscription.xml"
cp "$here/admx/PortGuard.admx" "$workdir/PortGuard.admx"
cp "$here/admx/en-US/PortGuard.adml" "$workdir/PortGuard.adml"
tmp_msi=$workdir/unpatched.msi
(
  cd "$workdir"
  # wixl prints a GLib warning for every WiX attribute it ignores (the ones patched below);
  # keep real errors visible.
  wixl -a x64 -D WIXL=1 -D "Version=$version" -D PortGuardExe=portguard.exe -D DefaultPolicy=policy.toml \
    -D WefSubscription=portguard-subscription.xml -D AdmxTemplate=PortGuard.admx -D AdmlStrings=PortGuard.adml \
    -o "$tmp_msi" "$wxs" 2>"$workdir/wixl.log"
)
grep -v -e "has no property named" -e '^$' "$workdir/wixl.log" >&2 || true
# wixl reports some dropped rows only as GLib CRITICALs and still exits 0.
if grep -q -e CRITICAL -e ERROR "$workdir/wixl.log"; then
  echo "build-msi.sh: wixl reported errors (above); refusing to ship a partial MSI" >&2
  exit 1
fi
[[ -s $tmp_msi ]] || { echo "build-msi.sh: wixl did not produce $tmp_msi" >&2; exit 1; }

q() { msibuild "$tmp_msi" -q "$1"; }

# Component attributes (wixl ignores Permanent/NeverOverwrite): 256 Win64, 16 Permanent,
# 128 NeverOverwrite. The policy must survive upgrades and uninstall; the data folders and their
# contents (state, backups for `portguard rollback`, logs) survive uninstall.
q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'DefaultPolicy'"
for c in DataDir StateDir BackupDir LogDir; do
  q "UPDATE \`Component\` SET \`Attributes\` = 272 WHERE \`Component\` = '$c'"
done

# ErrorControl normal (1) + msidbServiceInstallErrorControlVital (0x8000): WiX's Vital="yes".
q "UPDATE \`ServiceInstall\` SET \`ErrorControl\` = 32769 WHERE \`ServiceInstall\` = 'PortGuardService'"

# Execute="rollback" is ignored by wixl: 18 (exe from File) + 64 (ignore exit code) + 256 (rollback)
# + 1024 (in-script) + 2048 (no impersonation).
q "UPDATE \`CustomAction\` SET \`Type\` = 3410 WHERE \`Action\` = 'RollbackProtectServices'"

# Public properties must be secure to reach the elevated execute sequence of a managed (GPO) install.
q "UPDATE \`Property\` SET \`Value\` = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;MODE;PROTECT;POLICYFILE;METRICS_DIR' WHERE \`Property\` = 'SecureCustomProperties'"

# Same-version rebuilds upgrade in place: make the upgrade row max-inclusive (1 MigrateFeatures
# migrate-features + 512 VersionMaxInclusive), i.e. WiX's AllowSameVersionUpgrades. Attributes is
# part of the Upgrade key, so the row is replaced rather than updated.
upgrade_code=$(sed -n 's/.*define UpgradeCode = "\([0-9A-F-]*\)".*/\1/p' "$wxs")
[[ -n $upgrade_code ]] || { echo "build-msi.sh: UpgradeCode not found in $wxs" >&2; exit 1; }
q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'"
q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('{$upgrade_code}', '$version', 513, 'WIX_UPGRADE_DETECTED')"

# Validate POLICYFILE before anything changes: 2 = exe stored in the Binary table, synchronous,
# exit code checked (non-zero fails the install).
q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('ValidatePolicyFile', 2, 'PortGuardValidator', 'validate --policy \"[POLICYFILE]\"')"

# POLICYFILE seeding (real WiX: Component/Condition, DirectorySearch+FileSearch, CopyFile).
# EXISTINGPOLICY = %ProgramData%\PortGuard\policy.toml when it exists; then neither the default nor
# POLICYFILE is installed over it. Otherwise POLICYFILE (if given) is copied by MoveFiles, else the
# default policy is installed.
q "UPDATE \`Component\` SET \`Condition\` = 'NOT POLICYFILE OR EXISTINGPOLICY' WHERE \`Component\` = 'DefaultPolicy'"
q "UPDATE \`Component\` SET \`Condition\` = '(POLICYFILE AND NOT EXISTINGPOLICY) OR REMOVE=\"ALL\"' WHERE \`Component\` = 'PolicyFromFile'"
q "INSERT INTO \`AppSearch\` (\`Property\`, \`Signature_\`) VALUES ('EXISTINGPOLICY', 'ExistingPolicySearch')"
q "INSERT INTO \`Signature\` (\`Signature\`, \`FileName\`) VALUES ('ExistingPolicySearch', 'policy.toml')"
{
  printf 'Signature_\tParent\tPath\tDepth\r\n'
  printf 's72\tS72\tS255\tI2\r\n'
  printf 'DrLocator\tSignature_\tParent\tPath\r\n'
  printf 'ExistingPolicySearch\t\t[CommonAppDataFolder]PortGuard\t0\r\n'
} > "$workdir/DrLocator.idt"
msibuild "$tmp_msi" -i "$workdir/DrLocator.idt"
# MoveFile: SourceName empty = the SourceFolder property (POLICYFILE) is the full path of the file;
# Options 0 = copy (the admin's file stays where it is).
{
  printf 'FileKey\tComponent_\tSourceName\tDestName\tSourceFolder\tDestFolder\tOptions\r\n'
  printf 's72\ts72\tL255\tL255\tS72\ts72\ti2\r\n'
  printf 'MoveFile\tFileKey\r\n'
  printf 'SeedPolicy\tPolicyFromFile\t\tpolicy.toml\tPOLICYFILE\tDATADIR\t0\r\n'
} > "$workdir/MoveFile.idt"
msibuild "$tmp_msi" -i "$workdir/MoveFile.idt"
# wixl schedules no MoveFiles action (it has no CopyFile): between RemoveFiles/CreateFolders and
# InstallFiles, after CreateFolders so %ProgramData%\PortGuard exists.
q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('MoveFiles', 3800)"

# Folder ACLs (real WiX: PermissionEx Sddl, which writes this same table). Kept in sync with
# DataSddl in portguard.wxs.
sddl=$(sed -n 's/.*define DataSddl = "\([^"]*\)".*/\1/p' "$wxs")
[[ -n $sddl ]] || { echo "build-msi.sh: DataSddl not found in $wxs" >&2; exit 1; }
{
  printf 'MsiLockPermissionsEx\tLockObject\tTable\tSDDL\tCondition\r\n'
  printf 's72\ts72\ts32\ts0\tS255\r\n'
  printf 'MsiLockPermissionsEx\tMsiLockPermissionsEx\r\n'
  for d in DATADIR STATEDIR BACKUPDIR LOGDIR; do
    printf 'Lock%s\t%s\tCreateFolder\t%s\t\r\n' "$d" "$d" "$sddl"
  done
} > "$workdir/MsiLockPermissionsEx.idt"
msibuild "$tmp_msi" -i "$workdir/MsiLockPermissionsEx.idt"

# Verify every patch landed (msibuild reports some failures only on stderr).
export_table() { msiinfo export "$tmp_msi" "$1" | tr -d '\r'; }
check() {
  local table=$1 pattern=$2
  export_table "$table" | grep -qP "$pattern" || { echo "build-msi.sh: patch check failed: $table does not match /$pattern/" >&2; exit 1; }
}
check Component '^DefaultPolicy\t.*\t400\t'
check Component '^BackupDir\t.*\t272\t'
check ServiceInstall '^PortGuardService\tPortGuard\t.*\t32769\tNetworkProvider\t'
check CustomAction '^RollbackProtectServices\t3410\t'
check Upgrade "^\{$upgrade_code\}\t\t$version\t\t513\t\tWIX_UPGRADE_DETECTED$"
check Property '^SecureCustomProperties\t.*MODE;PROTECT;POLICYFILE;METRICS_DIR'
check Component '^PolicyFromFile\t.*\t256\t\(POLICYFILE AND NOT EXISTINGPOLICY\) OR REMOVE="ALL"\t$'
check Component '^DefaultPolicy\t.*\tNOT POLICYFILE OR EXISTINGPOLICY\t'
check AppSearch '^EXISTINGPOLICY\tExistingPolicySearch$'
check DrLocator '^ExistingPolicySearch\t\t\[CommonAppDataFolder\]PortGuard\t0$'
check MoveFile '^SeedPolicy\tPolicyFromFile\t\tpolicy.toml\tPOLICYFILE\tDATADIR\t0$'
check InstallExecuteSequence '^MoveFiles\t\t3800$'
check CustomAction '^ValidatePolicyFile\t2\tPortGuardValidator\tvalidate --policy "\[POLICYFILE\]"\t$'
check File '^portguard_subscription.xml\tWefSubscription\t'
check MsiLockPermissionsEx '^LockBACKUPDIR\tBACKUPDIR\tCreateFolder\t'

mv "$tmp_msi" "$output"

#!/usr/bin/env bash
# What Wine cannot show, checked in the MSI's tables (msiinfo export): the msibuild patches that
# give the wixl build what the real WiX build gets from the same .wxs -- component attributes
# (policy never overwritten or removed), Vital service error control, same-version upgrades,
# folder ACLs, launch conditions, secure public properties, the elevated custom actions.
#   tables.sh MSI
set -euo pipefail
# The kit's pg_fail and pg_log; sourcing the kit starts no Wine, and with no prefix a failure dumps nothing.
source "$(dirname "$0")/../support/kit.sh"
PG_NAME=installer-tables
MSI=$1
[[ -f $MSI ]] || pg_fail "MSI $MSI not built"
table() { msiinfo export "$MSI" "$1" | tr -d '\r'; }
# row TABLE KEY: the row whose first column is KEY.
row() { table "$1" | awk -F'\t' -v k="$2" 'NR > 3 && $1 == k'; }
field() { row "$1" "$2" | cut -f"$3"; }

sddl='D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)'

# Component.Attributes: 256 Win64, 16 Permanent, 128 NeverOverwrite.
[[ $(field Component DefaultPolicy 4) == 400 ]] || pg_fail "DefaultPolicy attributes $(field Component DefaultPolicy 4), want 400 (Win64+Permanent+NeverOverwrite)"
for c in DataDir StateDir BackupDir LogDir; do
  [[ $(field Component $c 4) == 272 ]] || pg_fail "$c attributes $(field Component $c 4), want 272 (Win64+Permanent)"
done
for c in PortGuardExe RememberedProperties; do
  (( $(field Component $c 4) & 256 )) || pg_fail "$c is not a Win64 component"
  (( ($(field Component $c 4) & 16) == 0 )) || pg_fail "$c must not be Permanent (uninstall removes it)"
done

# ServiceInstall: name, own process (16), auto start (2), normal+Vital (32769), early group, LocalSystem, "run".
svc() { field ServiceInstall PortGuardService "$1"; }
name=$(svc 2) type=$(svc 4) start=$(svc 5) errctl=$(svc 6) group=$(svc 7) account=$(svc 9) args=$(svc 11) comp=$(svc 12)
[[ $name == PortGuard && $type == 16 && $start == 2 && $errctl == 32769 && $group == NetworkProvider \
   && $account == LocalSystem && $args == run* && $comp == PortGuardExe ]] \
  || pg_fail "ServiceInstall row is: $(row ServiceInstall PortGuardService)"
# ServiceControl events: 1 start on install, 2+32 stop on install and uninstall, 128 delete on uninstall = 163.
[[ $(field ServiceControl PortGuardServiceControl 3) == 163 ]] || pg_fail "ServiceControl events $(field ServiceControl PortGuardServiceControl 3), want 163"

# Upgrade: newer-or-same (max inclusive, 513) is replaced, newer-than-this is detected as a downgrade.
table Upgrade | grep -qP '^\{[0-9A-F-]+\}\t\t[0-9.]+\t\t513\t\tWIX_UPGRADE_DETECTED$' || pg_fail "Upgrade row is not max-inclusive: $(table Upgrade)"
table Upgrade | grep -qP '^\{[0-9A-F-]+\}\t[0-9.]+\t\t\t2\t\tWIX_DOWNGRADE_DETECTED$' || pg_fail "no downgrade detection row"
table LaunchCondition | grep -qP '^NOT WIX_DOWNGRADE_DETECTED\tA newer version of PortGuard is already installed' || pg_fail "no downgrade error message"
row LaunchCondition Privileged | grep -q . || pg_fail "no Privileged launch condition"
row LaunchCondition VersionNT64 | grep -q . || pg_fail "no VersionNT64 launch condition"

# Folder ACLs: SYSTEM + Administrators full, Users read, on every data folder.
for d in DATADIR STATEDIR BACKUPDIR LOGDIR; do
  [[ $(field MsiLockPermissionsEx Lock$d 2)/$(field MsiLockPermissionsEx Lock$d 3)/$(field MsiLockPermissionsEx Lock$d 4) == "$d/CreateFolder/$sddl" ]] \
    || pg_fail "MsiLockPermissionsEx for $d: $(row MsiLockPermissionsEx Lock$d)"
done
# The exe applies the same ACL where Windows Installer < 5 ignores that table (secure-data-dir).
grep -qF "data_dir_sddl = L\"$sddl\"" "$(dirname "$0")/../../service/adapters/include/portguard/adapters/policy_acl.hpp" \
  || pg_fail "service/adapters/include/portguard/adapters/policy_acl.hpp's data_dir_sddl differs from the MSI's DataSddl"

# The Windows Event Forwarding subscription (docs/monitoring.md) ships in <install folder>\wef.
[[ $(field File portguard_subscription.xml 2) == WefSubscription ]] || pg_fail "File portguard_subscription.xml: $(row File portguard_subscription.xml)"
[[ $(field Directory WEFDIR 2) == INSTALLDIR ]] || pg_fail "Directory WEFDIR: $(row Directory WEFDIR)"
# The Group Policy templates (docs/install.md) ship in <install folder>\admx and admx\en-US.
[[ $(field File PortGuard.admx 2)/$(field Directory ADMXDIR 2) == AdmxTemplate/INSTALLDIR ]] || pg_fail "File PortGuard.admx: $(row File PortGuard.admx)"
[[ $(field File PortGuard.adml 2)/$(field Directory ADMLDIR 2) == AdmlStrings/ADMXDIR ]] || pg_fail "File PortGuard.adml: $(row File PortGuard.adml)"

# Public properties reach the elevated sequence of a managed install.
[[ $(field Property SecureCustomProperties 2) == *MODE*PROTECT*POLICYFILE*METRICS_DIR* ]] || pg_fail "MODE/PROTECT/POLICYFILE/METRICS_DIR are not secure properties: $(field Property SecureCustomProperties 2)"
# Remembered in HKLM (RegLocator Type 18 = raw + 64-bit view).
for p in Mode Protect PolicyFile MetricsDir; do
  [[ $(field RegLocator Remembered$p 3)/$(field RegLocator Remembered$p 5) == 'SOFTWARE\PortGuard/18' ]] || pg_fail "RegLocator Remembered$p: $(row RegLocator Remembered$p)"
done

# Custom actions: 18 exe from the installed File + 1024 deferred + 2048 no impersonation (+64 ignore
# exit code, +256 rollback).
[[ $(field CustomAction ProtectServices 2) == 3090 ]] || pg_fail "ProtectServices type $(field CustomAction ProtectServices 2), want 3090"
[[ $(field CustomAction RollbackProtectServices 2) == 3410 ]] || pg_fail "RollbackProtectServices type $(field CustomAction RollbackProtectServices 2), want 3410"
[[ $(field CustomAction UnprotectServices 2) == 3154 ]] || pg_fail "UnprotectServices type $(field CustomAction UnprotectServices 2), want 3154"
[[ $(field CustomAction SecureDataDir 2)/$(field CustomAction SecureDataDir 4) == 3090/secure-data-dir ]] || pg_fail "SecureDataDir: $(row CustomAction SecureDataDir)"
# Sequenced between InstallInitialize (1500) and InstallFinalize (6600); unprotect before StopServices.
seq() { field InstallExecuteSequence "$1" 3; }
(( $(seq InstallInitialize) < $(seq UnprotectServices) && $(seq UnprotectServices) < $(seq StopServices) )) || pg_fail "UnprotectServices is not before StopServices"
(( $(seq InstallServices) < $(seq RollbackProtectServices) && $(seq RollbackProtectServices) < $(seq ProtectServices) && $(seq ProtectServices) < $(seq StartServices) )) \
  || pg_fail "ProtectServices is not between InstallServices and StartServices (after its rollback)"
(( $(seq WriteRegistryValues) < $(seq SecureDataDir) && $(seq InstallFiles) < $(seq SecureDataDir) && $(seq SecureDataDir) < $(seq StartServices) )) \
  || pg_fail "SecureDataDir must run after DataDir and the files are written, before StartServices"
[[ $(field InstallExecuteSequence SecureDataDir 2) == 'NOT REMOVE="ALL"' ]] || pg_fail "SecureDataDir condition: $(row InstallExecuteSequence SecureDataDir)"

# POLICYFILE: validated before anything changes (2 = exe from the Binary table, exit code checked),
# then copied by MoveFiles only when no policy exists.
[[ $(field CustomAction ValidatePolicyFile 2)/$(field CustomAction ValidatePolicyFile 3) == 2/PortGuardValidator ]] || pg_fail "ValidatePolicyFile: $(row CustomAction ValidatePolicyFile)"
(( $(seq CostFinalize) < $(seq ValidatePolicyFile) && $(seq ValidatePolicyFile) < $(seq InstallInitialize) )) || pg_fail "ValidatePolicyFile must run before InstallInitialize"
[[ $(row MoveFile SeedPolicy) == $'SeedPolicy\tPolicyFromFile\t\tpolicy.toml\tPOLICYFILE\tDATADIR\t0' ]] || pg_fail "MoveFile row: $(row MoveFile SeedPolicy)"
(( $(seq MoveFiles) < $(seq InstallFiles) )) || pg_fail "MoveFiles must run before InstallFiles"
[[ $(field Component PolicyFromFile 5) == '(POLICYFILE AND NOT EXISTINGPOLICY) OR REMOVE="ALL"' ]] || pg_fail "PolicyFromFile condition: $(field Component PolicyFromFile 5)"
[[ $(field Component DefaultPolicy 5) == 'NOT POLICYFILE OR EXISTINGPOLICY' ]] || pg_fail "DefaultPolicy condition: $(field Component DefaultPolicy 5)"
[[ $(field DrLocator ExistingPolicySearch 3) == '[CommonAppDataFolder]PortGuard' ]] || pg_fail "EXISTINGPOLICY search: $(row DrLocator ExistingPolicySearch)"

# Event source values.
table Registry | grep -qP '\tSYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\PortGuard\tEventMessageFile\t\[#portguard\.exe\]\t' || pg_fail "no EventMessageFile"
table Registry | grep -qP '\tSYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\PortGuard\tTypesSupported\t#7\t' || pg_fail "no TypesSupported=7"
echo "PASS: tables as specified"

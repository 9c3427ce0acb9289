#!/usr/bin/env bash
# The public properties of a silent install (issue 7), as a GPO/SCCM deployment would use them:
#   a broken or missing POLICYFILE -> install refused, nothing changed
#   PROTECT naming a service that does not exist -> install fails and is rolled back
#   POLICYFILE=... MODE=audit PROTECT=DNS on the first install -> the ops policy is the policy,
#     the choices are remembered in HKLM\SOFTWARE\PortGuard, DNS (a dummy service created here)
#     has PortGuard in its DependOnService (exactly once, after its own dependencies)
#   METRICS_DIR=... on the first install -> remembered; the service writes portguard.prom there
#     (promtool check metrics accepts it)
#   upgrade without any property -> the remembered choices still apply, the policy is untouched
#   uninstall -> PortGuard removed from DNS's DependOnService again, policy kept
#   reinstall with another POLICYFILE -> the existing policy is NOT replaced
#
#   properties.sh MSI PG_EXITCODE_EXE DEFAULT_POLICY VERSION
PG_TEST_NAME=properties
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MSI=$1 PG_EXITCODE_EXE=$2 DEFAULT_POLICY=$3 VERSION=$4
[[ -f $MSI ]] || pg_fail "MSI $MSI not built (build the 'msi' target)"

pg_prefix_new
work=$WINEPREFIX/pgtest-msis   # removed with the prefix
mkdir -p "$work"
IFS=. read -r major minor build <<<"$VERSION"
NEWER=$major.$minor.$((build + 1))
pg_build_msi "$NEWER" "$(dirname "$MSI")/stage/portguard.exe" "$DEFAULT_POLICY" "$work/portguard-$NEWER-x64.msi"
msi=$(pg_stage "$MSI" first.msi)
msi_new=$(pg_stage "$work/portguard-$NEWER-x64.msi" new.msi)
data="$PG_C/ProgramData/PortGuard"
dns_key='HKLM\SYSTEM\CurrentControlSet\Services\DNS'

# A stand-in for the DNS Server service with dependencies of its own, which must survive.
wine sc create DNS binPath= 'C:\windows\system32\notepad.exe' start= demand >/dev/null
wine reg add "$dns_key" /v DependOnService /t REG_MULTI_SZ /d 'RpcSs\0Afd' /f >/dev/null
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd' ]] || pg_fail "could not set up the dummy DNS service"

# The ops policy: the default one plus a recognisable comment (the service must accept it).
ops_policy=$PG_C/pgtest/ops-policy.toml
{ cat "$DEFAULT_POLICY"; printf '\n# ops policy for the properties test %s\n' "$$"; } >"$ops_policy"

# --- a broken or missing POLICYFILE fails the install before anything changes ------------------
printf '[guard]\nmode = "mrege"\n' >"$PG_C/pgtest/broken-policy.toml"
for bad in broken-policy.toml missing-policy.toml; do
  pg_msiexec /i "$msi" /qn "POLICYFILE=C:\\pgtest\\$bad" PROTECT=DNS
  [[ $MSI_RC != 0 ]] || pg_fail "install with POLICYFILE=$bad succeeded"
  [[ -z $(pg_service_state PortGuard) ]] || pg_fail "a failed install (POLICYFILE=$bad) left the service registered"
  [[ ! -e $data/policy.toml ]] || pg_fail "a failed install (POLICYFILE=$bad) left a policy behind"
  [[ ! -e "$PG_C/Program Files/PortGuard/portguard.exe" ]] || pg_fail "a failed install (POLICYFILE=$bad) left portguard.exe"
  [[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd' ]] || pg_fail "a failed install (POLICYFILE=$bad) changed DNS"
done
pg_log "broken and missing POLICYFILE refused (exit code $MSI_RC), nothing installed"


# --- first install with every property -----------------------------------------------------------
metrics_dir=$PG_C/textfile_inputs   # as windows_exporter's folder would be: it exists before
mkdir -p "$metrics_dir"
pg_msiexec /i "$msi" /qn 'POLICYFILE=C:\pgtest\ops-policy.toml' MODE=audit PROTECT=DNS 'METRICS_DIR=C:\textfile_inputs'
[[ $MSI_RC == 0 ]] || pg_fail "install with POLICYFILE/MODE/PROTECT failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
cmp -s "$data/policy.toml" "$ops_policy" || pg_fail "POLICYFILE was not installed as the policy"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Mode) == audit ]] || pg_fail "MODE=audit not remembered"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Protect) == DNS ]] || pg_fail "PROTECT=DNS not remembered"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" PolicyFile) == 'C:\pgtest\ops-policy.toml' ]] || pg_fail "POLICYFILE not remembered"
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd\0PortGuard' ]] \
  || pg_fail "DNS DependOnService after PROTECT=DNS is '$(pg_reg_value "$dns_key" DependOnService)', want RpcSs\\0Afd\\0PortGuard"
# MODE=audit makes the installation report-only although the policy says enforce: the guard
# (Windows 6.1 here, DNS installed) plans SocketPoolExcludedPortRanges but must not write it.
for _ in $(seq 300); do grep -q "policy .* loaded" "$data/logs/portguard.log" 2>/dev/null && break; sleep 0.1; done
grep -q "loaded (audit - the installation's MODE=audit" "$data/logs/portguard.log" \
  || pg_fail "the service does not run in audit mode after MODE=audit: $(grep -m3 'loaded' "$data/logs/portguard.log" 2>/dev/null)"
if pg_reg_value 'HKLM\SYSTEM\CurrentControlSet\Services\DNS\Parameters' SocketPoolExcludedPortRanges >/dev/null; then
  pg_fail "MODE=audit, yet the guard wrote SocketPoolExcludedPortRanges"
fi
[[ $(pg_reg_value "$PG_SETTINGS_KEY" MetricsDir) == 'C:\textfile_inputs' ]] || pg_fail "METRICS_DIR not remembered"
for _ in $(seq 300); do grep -q '^portguard_up 1$' "$metrics_dir/portguard.prom" 2>/dev/null && break; sleep 0.1; done
grep -q '^portguard_up 1$' "$metrics_dir/portguard.prom" 2>/dev/null || pg_fail "no portguard.prom in METRICS_DIR: $(ls "$metrics_dir")"
promtool check metrics <"$metrics_dir/portguard.prom" || pg_fail "promtool check metrics rejects the installed guard's portguard.prom"
cmp -s "$PG_C/Program Files/PortGuard/wef/portguard-subscription.xml" "$(dirname "$0")/../../installer/wef/portguard-subscription.xml" \
  || pg_fail "the WEF subscription is not installed as installer/wef/portguard-subscription.xml"
grep -q '^portguard_audit_mode 1$' "$metrics_dir/portguard.prom" || pg_fail "portguard.prom does not show MODE=audit"
pg_log "first install: POLICYFILE is the policy, MODE/PROTECT/POLICYFILE/METRICS_DIR remembered, DNS depends on PortGuard, portguard.prom written"

# --- upgrade without properties: remembered choices apply ----------------------------------------
printf '# edited after install\n' >>"$data/policy.toml"
edited=$(cat "$data/policy.toml")
pg_stop_service_first
pg_msiexec /i "$msi_new" /qn
[[ $MSI_RC == 0 ]] || pg_fail "upgrade without properties failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Mode) == audit ]] || pg_fail "the upgrade forgot MODE=audit"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Protect) == DNS ]] || pg_fail "the upgrade forgot PROTECT=DNS"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" MetricsDir) == 'C:\textfile_inputs' ]] || pg_fail "the upgrade forgot METRICS_DIR"
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd\0PortGuard' ]] \
  || pg_fail "DNS DependOnService after the upgrade is '$(pg_reg_value "$dns_key" DependOnService)'"
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "the upgrade replaced the policy (POLICYFILE re-applied or default installed)"
pg_log "upgrade: remembered MODE/PROTECT kept, DNS still depends on PortGuard once, policy untouched"

# --- a command-line value wins over the remembered one -------------------------------------------
pg_stop_service_first
pg_msiexec /i "$msi_new" /qn MODE=enforce REINSTALL=ALL REINSTALLMODE=omus
[[ $MSI_RC == 0 ]] || pg_fail "repair with MODE=enforce failed with exit code $MSI_RC"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Mode) == enforce ]] || pg_fail "MODE=enforce on the command line did not override the remembered audit"
pg_log "MODE on the command line overrides the remembered value"

# --- uninstall: the dependency goes, the policy stays --------------------------------------------
pg_msiexec /x "$msi_new" /qn
[[ $MSI_RC == 0 ]] || pg_fail "uninstall failed with exit code $MSI_RC"
pg_wait_service_process_gone
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd' ]] \
  || pg_fail "DNS DependOnService after uninstall is '$(pg_reg_value "$dns_key" DependOnService)', want RpcSs\\0Afd"
[[ $(pg_service_state DNS) == STOPPED ]] || pg_fail "the dummy DNS service is gone or changed state"
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "uninstall removed or changed the policy"
pg_log "uninstall: PortGuard removed from DNS's DependOnService, its own dependencies kept, policy kept"

# --- reinstall with another POLICYFILE: an existing policy is never replaced ---------------------
printf '# another policy\n' >"$PG_C/pgtest/other-policy.toml"
pg_msiexec /i "$msi" /qn 'POLICYFILE=C:\pgtest\other-policy.toml'
[[ $MSI_RC == 0 ]] || pg_fail "reinstall failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "POLICYFILE replaced an existing policy"
[[ $(pg_reg_value "$PG_SETTINGS_KEY" Mode) == enforce ]] || pg_fail "MODE is not the default 'enforce' on a fresh install"
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd' ]] || pg_fail "DNS was protected without PROTECT"
pg_log "reinstall with POLICYFILE kept the existing policy; MODE defaulted to enforce"

# --- PROTECT naming a service that does not exist fails the install and rolls it back ------------
# (After an uninstall, with the ops policy still in place: Wine's rollback keeps files of Permanent
# components, so on a virgin host it would leave the default policy behind; Windows removes it.)
pg_msiexec /x "$msi" /qn
[[ $MSI_RC == 0 ]] || pg_fail "uninstall before the PROTECT failure case failed with $MSI_RC"
pg_wait_service_process_gone
pg_msiexec /i "$msi" /qn PROTECT=NoSuchService
[[ $MSI_RC != 0 ]] || pg_fail "install with PROTECT=NoSuchService succeeded"
[[ -z $(pg_service_state PortGuard) ]] || pg_fail "the rolled-back install left the service registered"
[[ ! -e "$PG_C/Program Files/PortGuard/portguard.exe" ]] || pg_fail "the rolled-back install left portguard.exe"
! pg_reg_key_exists "$PG_SETTINGS_KEY" || pg_fail "the rolled-back install left HKLM\\SOFTWARE\\PortGuard"
[[ $(cat "$data/policy.toml") == "$edited" ]] || pg_fail "the rolled-back install changed the policy"
[[ $(pg_reg_value "$dns_key" DependOnService) == 'RpcSs\0Afd' ]] || pg_fail "the rolled-back install changed DNS"
pg_log "PROTECT=NoSuchService refused (exit code $MSI_RC) and rolled back; policy untouched"
echo "PASS"

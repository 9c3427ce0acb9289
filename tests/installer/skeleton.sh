#!/usr/bin/env bash
# Walking skeleton (issue 2, item 6): the MSI installs silently under Wine, the PortGuard service is
# registered and RUNNING, and a silent uninstall removes it again.
#   skeleton.sh MSI PG_EXITCODE_EXE
PG_TEST_NAME=skeleton
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MSI=$1 PG_EXITCODE_EXE=$2
[[ -f $MSI ]] || pg_fail "MSI $MSI not built (build the 'msi' target)"

pg_prefix_new
msi=$(pg_stage "$MSI")

pg_msiexec /i "$msi" /qn
[[ $MSI_RC == 0 ]] || pg_fail "install failed with exit code $MSI_RC"
pg_wait_service_state PortGuard RUNNING
[[ $(pg_reg_value "$PG_SERVICE_KEY" Start) == 0x2 ]] || pg_fail "PortGuard is not an auto-start service"

# Windows Installer waits for the service to stop before removing its files; Wine's does not.
pg_stop_service_first
pg_msiexec /x "$msi" /qn
[[ $MSI_RC == 0 ]] || pg_fail "uninstall failed with exit code $MSI_RC"
pg_wait_service_process_gone
state=$(pg_service_state PortGuard)
[[ -z $state ]] || pg_fail "service PortGuard still registered after uninstall (state $state)"
! pg_reg_key_exists "$PG_SERVICE_KEY" || pg_fail "$PG_SERVICE_KEY still exists after uninstall"
[[ ! -e "$PG_C/Program Files/PortGuard/portguard.exe" ]] || pg_fail "portguard.exe left behind by uninstall"
echo "PASS: installed, service RUNNING, uninstalled, service gone"

#!/usr/bin/env bash
# The installed guard does its job with the shipped default policy, and uninstall does not undo it:
#   Windows Server 2003 host (ReservedPorts is the effective mechanism) with IAS (a dummy service
#   created here) and an admin's own reservation -> install -> ReservedPorts holds the RADIUS
#   ports 1645-1646 and 1812-1813 of the default policy, the admin's entry kept (merge), a backup
#   of the old value taken -> uninstall -> the reservations and the backup are still there
#   (docs/install.md: `portguard rollback` before uninstall restores the pre-install value).
#
#   repair.sh MSI PG_EXITCODE_EXE
PG_TEST_NAME=repair
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MSI=$1 PG_EXITCODE_EXE=$2
[[ -f $MSI ]] || pg_fail "MSI $MSI not built (build the 'msi' target)"

pg_prefix_new
wine winecfg -v win2003 >/dev/null 2>&1
tcpip='HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
wine sc create IAS binPath= 'C:\windows\system32\notepad.exe' start= demand >/dev/null
wine reg add "$tcpip" /v ReservedPorts /t REG_MULTI_SZ /d '50000-50010' /f >/dev/null
[[ $(pg_reg_value "$tcpip" ReservedPorts) == 50000-50010 ]] || pg_fail "could not set up ReservedPorts"
msi=$(pg_stage "$MSI")
data="$PG_C/ProgramData/PortGuard"

# ReservedPorts as one entry per line.
reserved() { pg_reg_value "$tcpip" ReservedPorts | sed 's/\\0/\n/g'; }

pg_msiexec /i "$msi" /qn
[[ $MSI_RC == 0 ]] || pg_fail "install failed with exit code $MSI_RC"
# RUNNING is reported only after the first check-and-repair pass.
pg_wait_service_state PortGuard RUNNING
for entry in 1645-1646 1812-1813 50000-50010; do
  reserved | grep -qx "$entry" || pg_fail "ReservedPorts lacks $entry after install: $(reserved | tr '\n' ' ')"
done
ls "$data/backups/" | grep -q . || pg_fail "no backup of the previous ReservedPorts value in $data/backups"
before_uninstall=$(reserved)
pg_log "installed on win2003 with IAS: ReservedPorts = $(tr '\n' ' ' <<<"$before_uninstall")"

pg_msiexec /x "$msi" /qn
[[ $MSI_RC == 0 ]] || pg_fail "uninstall failed with exit code $MSI_RC"
pg_wait_service_process_gone
[[ -z $(pg_service_state PortGuard) ]] || pg_fail "service still registered after uninstall"
[[ $(reserved) == "$before_uninstall" ]] || pg_fail "uninstall changed ReservedPorts: $(reserved | tr '\n' ' ')"
ls "$data/backups/" | grep -q . || pg_fail "uninstall removed the backups"
pg_log "uninstalled: reservations and backups left in place"
echo "PASS"

#!/usr/bin/env bash
# Issue 16 item 4: `portguard protect --service hns` on a Docker Desktop / WSL host makes the Host
# Network Service wait for PortGuard, keeping HNS's own dependencies; `unprotect` removes exactly
# PortGuard. A `winnat` registered as a system-start kernel driver cannot wait for any service and
# is refused, naming hns. Wine ignores DependOnService ordering: this tests the registry effect
# (docs/service.md, "Docker Desktop, WSL and Hyper-V hosts").
source "$(dirname "$0")/../host/svc_lib.sh"
svc_setup protecthns

HNS_KEY='SYSTEM\CurrentControlSet\Services\hns'
WINNAT_KEY='SYSTEM\CurrentControlSet\Services\winnat'
pg_scm create hns --depend RpcSs --depend nsi >/dev/null
pg_scm create winnat >/dev/null
# winnat as a driver the kernel starts (SERVICE_KERNEL_DRIVER, SERVICE_SYSTEM_START).
pg_tool reg add "HKLM\\$WINNAT_KEY" /v Type /t REG_DWORD /d 1 /f >/dev/null || pg_fail "wine reg add of winnat Type failed"
pg_tool reg add "HKLM\\$WINNAT_KEY" /v Start /t REG_DWORD /d 1 /f >/dev/null || pg_fail "wine reg add of winnat Start failed"
pg_assert_eq "$(pg_scm read-multi "$HNS_KEY" DependOnService)" "RpcSs|nsi" "hns dependencies as created by the SCM API"

svc_install
out=$(portguard protect --service hns)
pg_log "protect: $out"
pg_assert_eq "$(pg_scm read-multi "$HNS_KEY" DependOnService)" "RpcSs|nsi|PortGuard" "hns dependencies after protect"
grep -q 'whenever something starts it (on demand or by a trigger), the SCM starts PortGuard first' <<<"$out" ||
  pg_fail "protect does not say how hns now starts: $out"
grep -q 'fails with error 1068 (ERROR_SERVICE_DEPENDENCY_FAIL)' <<<"$out" || pg_fail "protect does not state the trade-off: $out"
out=$(portguard protect --service HNS)
grep -q "already protected by PortGuard" <<<"$out" || pg_fail "second protect (other case): $out"
pg_assert_eq "$(pg_scm read-multi "$HNS_KEY" DependOnService)" "RpcSs|nsi|PortGuard" "hns dependencies after a second protect"

set +e
out=$(portguard protect --service winnat 2>&1); rc=$?
set -e
pg_log "protect winnat: $out (exit $rc)"
pg_assert_eq "$rc" 1 "protect of a system-start driver (refused)"
grep -q 'winnat is a driver started by the kernel (IoInitSystem) before the Service Control Manager starts any service.*hns' <<<"$out" ||
  pg_fail "unclear refusal for winnat: $out"
pg_assert_eq "$(pg_scm read-multi "$WINNAT_KEY" DependOnService)" "<absent>" "winnat dependencies after the refused protect"

pg_assert_eq "$(portguard protect --list | tr '\n' ' ')" "hns " "protect --list"
portguard unprotect --service hns >/dev/null
pg_assert_eq "$(pg_scm read-multi "$HNS_KEY" DependOnService)" "RpcSs|nsi" "hns dependencies after unprotect (existing ones preserved, in order)"

# protect again, then uninstall-service removes it too.
portguard protect --service hns >/dev/null
portguard uninstall-service >/dev/null
pg_assert_eq "$(pg_scm read-multi "$HNS_KEY" DependOnService)" "RpcSs|nsi" "hns dependencies after uninstall-service"
pg_log "PASS"

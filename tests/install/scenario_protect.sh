#!/usr/bin/env bash
# `portguard protect --service DNS` makes DNS wait for PortGuard: PortGuard is appended to DNS's
# DependOnService (read, append, write back: existing dependencies survive), recorded, and removed
# exactly by `unprotect` and by `uninstall-service`. Wine ignores DependOnService at boot, so this
# tests the registry effect; the start order itself only real Windows shows (docs/service.md).
source "$(dirname "$0")/../host/svc_lib.sh"
svc_setup protect

DNS_KEY='SYSTEM\CurrentControlSet\Services\DNS'
IAS_KEY='SYSTEM\CurrentControlSet\Services\IAS'
pg_scm create DNS --depend RpcSs >/dev/null
pg_scm create IAS >/dev/null
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs" "DNS dependencies as created by the SCM API"

# Refused before PortGuard is installed: DNS would no longer start at all.
if out=$(portguard protect --service DNS 2>&1); then pg_fail "protect succeeded without the PortGuard service: $out"; fi
grep -q "not installed" <<<"$out" || pg_fail "unclear refusal: $out"
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs" "DNS dependencies after the refused protect"

svc_install
portguard protect --service "DNS, IAS"   # one comma-separated value, as the MSI passes PROTECT
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs|PortGuard" "DNS dependencies after protect"
pg_assert_eq "$(pg_scm read-multi "$IAS_KEY" DependOnService)" "PortGuard" "IAS dependencies after protect"
pg_assert_eq "$(portguard protect --list | tr '\n' ' ')" "DNS IAS " "protect --list"
# Idempotent: a second protect changes nothing.
out=$(portguard protect --service DNS)
grep -q "already protected by PortGuard" <<<"$out" || pg_fail "second protect: $out"
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs|PortGuard" "DNS dependencies after a second protect"
# A service that does not exist is an error, not a silent no-op.
if portguard protect --service NoSuchService >/dev/null 2>&1; then pg_fail "protect of a missing service succeeded"; fi

portguard unprotect --service DNS
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs" "DNS dependencies after unprotect"
if portguard unprotect --service DNS >/dev/null 2>&1; then pg_fail "unprotect of an unrecorded service succeeded"; fi

# Uninstall removes what protect added (IAS had no DependOnService before: the value goes away).
portguard uninstall-service
pg_assert_eq "$(pg_scm read-multi "$IAS_KEY" DependOnService)" "<absent>" "IAS dependencies after uninstall"
pg_assert_eq "$(pg_scm read-multi "$DNS_KEY" DependOnService)" "RpcSs" "DNS dependencies after uninstall"
pg_assert_eq "$(pg_scm read-sz 'SYSTEM\CurrentControlSet\Services\PortGuard' ImagePath)" "<absent>" "PortGuard service after uninstall"
pg_assert_eq "$(pg_scm read-sz 'SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard' EventMessageFile)" "<absent>" "event source after uninstall"
pg_log "PASS"

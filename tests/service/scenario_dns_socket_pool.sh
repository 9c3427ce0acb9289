#!/usr/bin/env bash
# A Windows 10/2016-like prefix guarding the DNS socket pool exclusions. DNS\Parameters does not
# exist when PortGuard starts (nothing to watch yet); the first pass creates it (the policy names
# the target), and from then on the key is watched: an admin's rewrite is merged and repaired within
# 1 s. No pending-reboot warning for this target (it waits for a DNS restart, and DNS is not running).
source "$(dirname "$0")/svc_lib.sh"
svc_setup dnspool win10
# Only ports inside the dynamic range go into DNS's exclusions (docs/policy.md): an installer widened
# this host's UDP range to 1025-65535 (recorded in PortGuard's override, as Vista-2008 R2 need), so
# RADIUS is exposed to DNS's socket pool.
svc_wine reg add 'HKLM\SOFTWARE\PortGuard\Parameters' /v DynamicPortRangeUdp /t REG_SZ /d 1025-65535 /f >/dev/null ||
  svc_fail "cannot write the dynamic range override"

DNSP='SYSTEM\CurrentControlSet\Services\DNS\Parameters'
{
  printf '[guard]\nmode = "merge"\nenforcement = "enforce"\ntargets = ["dns-socket-pool"]\nrecheck_interval = "10s"\n\n'
  printf '[catalog]\nenabled = false\n\n'
  printf '[[reserve]]\nports = [1645, 1646, "1812-1813"]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n'
} >"$SVC_DATA/policy.toml"
svc_install
svc_helper start PortGuard --timeout 60 >/dev/null || svc_fail "the service did not reach RUNNING"
svc_log "DNS parameters after the first pass (DNS not installed): $(svc_helper read-multi "$DNSP" SocketPoolExcludedPortRanges)"

svc_assert_eq "$(svc_helper read-multi "$DNSP" SocketPoolExcludedPortRanges)" "1645-1646|1812-1813" "exclusions written by the first pass"
grep -q 'now watching HKLM.SYSTEM.CurrentControlSet.Services.DNS.Parameters' "$SVC_DATA/logs/portguard.log" ||
  svc_fail "the key created by the first pass is not watched"

# An admin replaces the list with his own exclusion: merged back (his entry kept), within the
# scenario bound (the 1 s goal is bench/service_bench.sh's).
out=$(svc_helper drift "$DNSP" SocketPoolExcludedPortRanges "3000-3010" "1645-1646|1812-1813|3000-3010" 30000) || svc_fail "drift not repaired: $out"
ms=$(sed -E 's/repaired after ([0-9]+).*/\1/' <<<"$out")
svc_log "measured: drift on the DNS exclusions $out"
((ms < SVC_REPAIR_BOUND_MS)) || svc_fail "drift took $ms ms (bound $SVC_REPAIR_BOUND_MS ms)"
svc_assert_eq "$(svc_count_event 2002)" 0 "pending-reboot events for the DNS target"
svc_helper stop PortGuard --timeout 60 >/dev/null || svc_fail "the service did not stop"
svc_log "events: $(svc_event_ids)"
svc_log "PASS"

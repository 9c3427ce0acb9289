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
pg_tool reg add 'HKLM\SOFTWARE\PortGuard\Parameters' /v DynamicPortRangeUdp /t REG_SZ /d 1025-65535 /f >/dev/null ||
  pg_fail "cannot write the dynamic range override"

DNSP='SYSTEM\CurrentControlSet\Services\DNS\Parameters'
{
  printf '[guard]\nmode = "merge"\nenforcement = "enforce"\ntargets = ["dns-socket-pool"]\nrecheck_interval = "10s"\n\n'
  printf '[catalog]\nenabled = false\n\n'
  printf '[[reserve]]\nports = [1645, 1646, "1812-1813"]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n'
} >"$PG_DATA/policy.toml"
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_log "DNS parameters after the first pass (DNS not installed): $(pg_scm read-multi "$DNSP" SocketPoolExcludedPortRanges)"

pg_assert_eq "$(pg_scm read-multi "$DNSP" SocketPoolExcludedPortRanges)" "1645-1646|1812-1813" "exclusions written by the first pass"
grep -q 'now watching HKLM.SYSTEM.CurrentControlSet.Services.DNS.Parameters' "$PG_DATA/logs/portguard.log" ||
  pg_fail "the key created by the first pass is not watched"

# An admin replaces the list with his own exclusion: merged back (his entry kept), within the
# scenario bound (the 1 s goal is bench/service_bench.sh's).
out=$(pg_scm drift "$DNSP" SocketPoolExcludedPortRanges "3000-3010" "1645-1646|1812-1813|3000-3010" 30000) || pg_fail "drift not repaired: $out"
ms=$(sed -E 's/repaired after ([0-9]+).*/\1/' <<<"$out")
pg_log "measured: drift on the DNS exclusions $out"
((ms < PG_REPAIR_BOUND_MS)) || pg_fail "drift took $ms ms (bound $PG_REPAIR_BOUND_MS ms)"
pg_assert_eq "$(pg_count_event 2002)" 0 "pending-reboot events for the DNS target"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

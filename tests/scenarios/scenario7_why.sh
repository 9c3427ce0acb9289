#!/usr/bin/env bash
# Scenario 7 — `portguard why` on a live Windows 10 prefix (issue 16): for a port a test service
# holds (IAS = radius-sim binding the RADIUS ports), a free port, and a reserved one (an
# administered exclusion as netsh ... store=persistent records it in the NSI store), the answer
# names what a user needs: who holds it, what reserves it, who needs it, and the exit code says
# whether anything stands in the way. Wine cannot hold a port in an excluded range the way
# HNS/WinNAT do (WSAEACCES without an owner): that path is the core's, tested with fakes
# (tests/core/exclusions_test.cpp) and listed as real-Windows-only in docs/testing.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup why win10

policy=$WINEPREFIX/why-policy.toml
cat >"$policy" <<'TOML'
[catalog]
enabled = false

[[reserve]]
ports = ["1812-1813"]
protocol = "udp"
service = "IAS"
reason = "RADIUS"

[[reserve]]
ports = [41660]
protocol = "udp"
service = "DevSvc"
reason = "a tool that is not installed yet"
TOML
e2e_install_guard scm "$policy"

# why PORT: runs `portguard why`, sets $out and $rc.
why() {
  set +e
  out=$(e2e_pg why "$@")
  rc=$?
  set -e
  pg_log "portguard why $* -> exit $rc"
  sed 's/^/    /' <<<"$out"
}
expect() { grep -qF -- "$1" <<<"$out" || pg_fail "portguard why: expected '$1' in: $out"; }

# 1. A port the test service holds: bound (Wine does not name owners), needed by IAS, which runs.
e2e_start_ias "why: IAS holds the RADIUS ports"
why 1812/udp
((rc == 0)) || pg_fail "why 1812/udp exited $rc, expected 0 (held by the service that needs it)"
expect "state:          in use, most likely by the service that needs it"
expect "bound by:       an unknown process"
expect "required by:    IAS (policy"
# ... and 1645, which IAS also holds but nobody in this policy needs: in use, exit 1.
why 1645/udp
((rc == 1)) || pg_fail "why 1645/udp exited $rc, expected 1 (held, required by nobody)"
expect "state:          in use: another bind fails with WSAEADDRINUSE 10048"
expect "required by:    nothing in the policy"

# 2. A free port: the live exclusive bind succeeds and is released (a second answer binds again).
for _ in 1 2; do
  why 41650/tcp --json
  ((rc == 0)) || pg_fail "why 41650/tcp exited $rc, expected 0 (free)"
  expect '"state": "free"'
  expect '"probe": "bound"'
done

# 3. A reserved port: an administered exclusion in the NSI store (UDP 41660, 1 port), which
# PortGuard reads without netsh; 41660 is required by a service that is not installed.
e2e_wine reg add 'HKLM\SYSTEM\CurrentControlSet\Control\Nsi\{eb004a02-9b1a-11d4-9123-0050047759bc}\5' \
  /v a2bc0100 /t REG_BINARY /d 1200ffff /f >/dev/null
why 41660/udp
((rc == 0)) || pg_fail "why 41660/udp exited $rc, expected 0 (reserved by an administered range)"
expect "excluded range: 41660-41660/udp IPv4+IPv6, administered by someone else (store=persistent) [Nsi registry (store=persistent)]"
expect "reserved by:    excluded range 41660-41660/udp, administered by someone else (store=persistent)"
expect "required by:    DevSvc (policy"

# 4. A bad port is a usage error, whatever the host.
why 0/udp
((rc == 64)) || pg_fail "why 0/udp exited $rc, expected 64"
pg_log "ok: why answers for a held, a free and a reserved port"

#!/usr/bin/env bash
# Scenario 1 — the outage, without PortGuard: on a 2003 server, DNS's socket pool takes UDP 1645
# (seeded: its first random choice is forced onto 1645) and IAS then fails to start with
# WSAEADDRINUSE (10048), the error an admin finds in the SCM. Stopping DNS frees the port and IAS
# starts: the failure is the collision, not the service.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup outage win2003

out=$(e2e_start DNS --seed 1 --count 300 --force-first 1645) || pg_fail "DNS did not start: $out"
pg_log "$out"
grep -q 'first choice UDP 1645 taken' "$E2E_DRIVE/dns-sim.log" || pg_fail "dns-sim did not take 1645"
[[ $(e2e_dns_holds 1645) == 1645 ]] || pg_fail "dns-sim's port list lacks 1645"

set +e
out=$(e2e_start IAS)
rc=$?
set -e
pg_log "$out"
[[ $rc -eq 1 ]] || pg_fail "IAS was expected to fail to start (pg-scm exit $rc)"
[[ $out == *"IAS: STOPPED win32_exit=10048 service_exit=0, Win32 exit code 10048: "* ]] || pg_fail "IAS did not report WSAEADDRINUSE: $out"
grep -q 'radius-sim: cannot bind UDP 1645: WSAEADDRINUSE (10048)' "$E2E_DRIVE/radius-sim.log" ||
  pg_fail "radius-sim did not log which port failed"
pg_log "ok: IAS failed to start: $(grep 'cannot bind' "$E2E_DRIVE/radius-sim.log" | tail -n1)"

# Control: the same server without the collision.
pg_scm stop DNS >/dev/null
out=$(e2e_start IAS) || pg_fail "IAS did not start once DNS released 1645: $out"
pg_log "ok: with DNS stopped, $out"

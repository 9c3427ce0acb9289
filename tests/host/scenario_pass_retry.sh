#!/usr/bin/env bash
# A first pass that fails (here: the Tcpip parameters can be watched but not read — standing in for
# a system component that is not up yet at boot, like Wine's network information service) is retried while the service is still START_PENDING, with
# rising checkpoints, before RUNNING is reported; only the last failed attempt raises 3009.
source "$(dirname "$0")/svc_lib.sh"
svc_setup passretry win2003

svc_policy
svc_install
# Everyone may only ask for change notifications (KEY_NOTIFY = 0x10) on the key.
pg_scm deny-key "$TCPIP" 'D:(A;;0x10;;;WD)' >/dev/null || pg_fail "cannot restrict the Tcpip key"
set +e
trace=$(pg_scm start PortGuard --timeout 60 --trace)
rc=$?
set -e
echo "$trace"
((rc == 0)) || pg_fail "the service did not reach RUNNING after its retries"
checkpoints=$(grep -o 'START_PENDING checkpoint=[0-9]*' <<<"$trace" | sed 's/.*=//' | tr '\n' ' ')
last=$(awk '{print $NF}' <<<"$checkpoints")
((last >= 8)) || pg_fail "expected checkpoints to keep rising through the retries, saw: $checkpoints"
grep -q 'first pass failed; retry 5 of 5' "$PG_DATA/logs/portguard.log" || pg_fail "no startup retries in the log"
pg_wait_event 1000 30
pg_assert_eq "$(pg_count_event 3009)" 1 "check-failed events (only the last startup attempt raises it)"
pg_log "3009: $(pg_event_strings | grep -m1 -i 'access\|denied\|failed' || true)"
pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "PASS"

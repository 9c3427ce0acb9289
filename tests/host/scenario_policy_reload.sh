#!/usr/bin/env bash
# Issue 18, defects 1, 4 and 6: a policy edit is picked up by its content, whatever the file time
# and size say; every different policy error is its own 3003 naming the last known good in force;
# 1002/1003 count and word port ranges as written.
#
# Each policy version is written with the SAME modification time (touch -d before the rename) and
# the same size as the previous one: exactly what two saves within one second look like to a
# time+size signature (the defect), deterministically.
source "$(dirname "$0")/svc_lib.sh"
svc_setup reload win2003

stamp=$(date -d '2026-01-01 12:00:00 UTC' +%s)
# write_policy PORT MODE: the scenario policy plus one L2TP entry, same size for one-digit changes.
write_policy() {
  {
    printf '[guard]\nmode = "%s"\nenforcement = "enforce"\ntargets = ["reserved-ports"]\nrecheck_interval = "15m"\n\n' "$2"
    printf '[catalog]\nenabled = false\n\n'
    printf '[[reserve]]\nports = [1645, 1646, "1812-1813"]\nprotocol = "udp"\nservice = "IAS"\nreason = "RADIUS"\n\n'
    printf '[[reserve]]\nports = [%s]\nprotocol = "udp"\nservice = "RemoteAccess"\nreason = "L2TP"\n' "$1"
  } >"$PG_DATA/policy.toml.tmp"
  touch -d "@$stamp" "$PG_DATA/policy.toml.tmp"
  mv "$PG_DATA/policy.toml.tmp" "$PG_DATA/policy.toml"
  pg_log "policy written: port $1, mode $2 ($(stat -c '%s bytes, mtime %Y' "$PG_DATA/policy.toml"))"
}
# All insertion strings in order on one line: 'L"reserved-ports" L"1702-1702" L"nothing" ...'
# (Wine prints one string per line, with backslashes doubled).
inserts_line() { pg_event_strings | sed -E 's/.*ReportEventW //' | tr '\n' ' '; }

write_policy 1701 merge
svc_install
pg_scm start PortGuard --timeout 60 >/dev/null || pg_fail "the service did not reach RUNNING"
pg_assert_eq "$(svc_reserved)" "1645-1646|1701-1701|1812-1813" "ReservedPorts after the first start"
# Defect 6 (1002): 1645, 1646, 1812-1813 and 1701 are three ranges once merged, not four requirements.
grep -qF 'L"3" L"reserved-ports"' <<<"$(inserts_line)" || pg_fail "1002 does not count 3 port ranges: $(inserts_line)"

# Defect 1: policy B, same size, same file time: must be applied.
n1004=$(pg_count_event 1004)
write_policy 1702 merge
out=$(pg_scm wait-multi "$TCPIP" ReservedPorts "1645-1646|1701-1702|1812-1813" 30000) ||
  pg_fail "policy B (same size, same file time) was not applied: $out"
pg_log "policy B applied: $out"
(($(pg_count_event 1004) > n1004)) || pg_fail "no 1004 for policy B"
# Defect 6 (1003): in merge mode 1701-1701 became 1701-1702: 1702 was added, nothing removed.
grep -qF 'L"1702-1702" L"nothing" L"next boot"' <<<"$(inserts_line)" || pg_fail "1003 does not say 1702-1702 was added and nothing removed"
! grep -aq 'L"1701-1701"' "$PG_TRACE" || pg_fail "1003 claims 1701-1701 was removed although it was merged into 1701-1702"

# Defect 1 (broken after good): "marge" instead of "merge", same size, same file time: 3003.
n3003=$(pg_count_event 3003)
write_policy 1702 marge
for _ in $(seq 300); do (($(pg_count_event 3003) > n3003)) && break; sleep 0.1; done
(($(pg_count_event 3003) > n3003)) || pg_fail "a broken policy of the same size and file time raised no 3003"
pg_event_strings | grep -aq "marge" || pg_fail "3003 does not name the error"

# Defect 4: a different error on the same file is a new event, and 3003 names the last known good.
n3003=$(pg_count_event 3003)
rm -f "$PG_DATA/policy.toml"
for _ in $(seq 300); do (($(pg_count_event 3003) > n3003)) && break; sleep 0.1; done
(($(pg_count_event 3003) > n3003)) || pg_fail "deleting the policy after a different error raised no 3003"
n3003=$(pg_count_event 3003)
write_policy 1702 marge
for _ in $(seq 300); do (($(pg_count_event 3003) > n3003)) && break; sleep 0.1; done
(($(pg_count_event 3003) > n3003)) || pg_fail "the 'marge' error after 'not found' raised no 3003 (rate limited as the same condition)"
inserts_line | grep -q 'last known good policy (read from C:.*policy.toml, accepted 20[0-9-]*T' ||
  pg_fail "3003 does not name the last known good in force (source and acceptance time)"
# Still enforced with policy B (the last known good): a delete is repaired back to it.
# Policy B asks for 1702 (1701 was only kept by merge mode): emptied, the value gets B's ranges back.
out=$(pg_scm drift "$TCPIP" ReservedPorts "" "1645-1646|1702-1702|1812-1813" 30000) || pg_fail "last known good not enforced: $out"
pg_log "with a broken policy, drift is still $out"

pg_scm stop PortGuard --timeout 60 >/dev/null || pg_fail "the service did not stop"
pg_log "events: $(pg_event_ids | paste -sd' ')"
pg_log "PASS"

#!/usr/bin/env bash
# Scenario 4 — conflict detection: DNS already holds UDP 1645 when the guard starts (this boot's
# socket pool took it). The guard cannot free it; it must say so: an error event (3001) naming the
# port, the service that needs it (IAS) and the holder (PID unknown under Wine: its UDP table has
# no owner PIDs; dns.exe (PID n) on Windows), and `portguard check` exits 2 (CRITICAL).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup conflict win2003
e2e_start DNS --seed 4 --count 300 --force-first 1645 >/dev/null || e2e_fail "DNS did not start"
[[ $(e2e_dns_holds 1645) == 1645 ]] || e2e_fail "dns-sim did not take 1645"

e2e_install_guard
e2e_guard_up
e2e_assert_event 3001 "port conflict" 1645
line=$(e2e_events | awk '$1 == 3001' | grep 1645 | head -n1)
grep -q 'IAS' <<<"$line" || e2e_fail "the conflict event does not name IAS: $line"
grep -qiE 'unknown' <<<"$line" || e2e_fail "the conflict event does not name the holder (unknown under Wine): $line"
e2e_check 2
grep -q 1645 <<<"$E2E_CHECK_OUT" || e2e_fail "check does not name the port: $E2E_CHECK_OUT"

# shellcheck shell=bash
# Helpers of the Wine benchmarks and campaigns (bench/service_bench.sh,
# tests/robustness/crash_consistency.sh). Source after tests/scenarios/lib.sh and e2e_setup.

BENCH_PG_LOG() { printf '%s/logs/portguard.log' "$(E2E_PG_DATA_UNIX)"; }

# bench_prepare_host SERVICES ENTRIES: SERVICES more services through the SCM API, a policy with
# ENTRIES [[reserve]] entries (catalog on, as shipped), PortGuard installed as a service (not started).
bench_prepare_host() {
  local services=$1 entries=$2 i port proto
  e2e_wine "$BENCH_EXE" create-services "$services" >/dev/null
  BENCH_POLICY=$WINEPREFIX/bench-policy.toml
  {
    printf '# Benchmark policy: %d explicit reservations on top of the catalog.\n' "$entries"
    printf '[guard]\nmode = "merge"\nenforcement = "enforce"\n\n[catalog]\nenabled = true\n\n'
    for ((i = 0; i < entries; i++)); do
      port=$((6000 + i * 13))
      proto=$([[ $((i % 2)) -eq 0 ]] && echo udp || echo tcp)
      printf '[[reserve]]\nports = [%d]\nprotocol = "%s"\nservice = "BenchSvc%03d"\nreason = "benchmark entry %d"\n\n' "$port" "$proto" "$i" "$i"
    done
  } >"$BENCH_POLICY"
  e2e_install_guard scm "$BENCH_POLICY"
  local out
  out=$(e2e_pg validate --policy 'C:\ProgramData\PortGuard\policy.toml') || { echo "benchmark policy invalid: $out" >&2; exit 2; }
}

bench_service_count() {
  e2e_wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services' 2>/dev/null | tr -d '\r' | grep -c '^HKEY_LOCAL_MACHINE'
}

# bench_stats LABEL MICROSECONDS...: median/min/max in ms.
bench_stats() {
  local label=$1; shift
  python3 - "$label" "$@" <<'EOF'
import statistics, sys
label, v = sys.argv[1], sorted(int(x) / 1000 for x in sys.argv[2:])
print(f"  {label:40s} median {statistics.median(v):7.1f} ms  min {v[0]:7.1f}  max {v[-1]:7.1f}  (n={len(v)})")
EOF
}

# bench_ratio LABEL ARRAY_A ARRAY_B: ratio of the medians, and the median/min/max of the per-round
# ratios (A and B measured in the same round, side by side).
bench_ratio() {
  local label=$1
  local -n a=$2 b=$3
  python3 - "$label" "${a[*]}" "${b[*]}" <<'EOF'
import statistics, sys
label = sys.argv[1]
a = [int(x) for x in sys.argv[2].split()]
b = [int(x) for x in sys.argv[3].split()]
r = sorted(x / y for x, y in zip(a, b))
print(f"  ratio {label:34s} {statistics.median(a) / statistics.median(b):5.2f}x of medians; per round median {statistics.median(r):.2f}x min {r[0]:.2f}x max {r[-1]:.2f}x")
EOF
}

# Unix PIDs of the processes of OUR prefix whose command line contains PATTERN (tests/support/kit.sh).
bench_unix_pids() { pg_unix_pids "$@"; }

# The Unix PID of the running PortGuard service: the process of our prefix running "portguard.exe run".
# Waits (up to 10 s) until exactly one exists: right after a restart the previous instance can still
# be exiting, and sampling it made the steady-state run fail when it vanished.
bench_guard_pid() {
  local pids i
  for ((i = 0; i < 100; i++)); do
    pids=$(bench_unix_pids 'portguard.exe run')
    if [[ -n $pids && $(wc -l <<<"$pids") == 1 ]]; then
      echo "$pids"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

bench_guard_running() {
  if ! pg_scm status PortGuard 2>/dev/null | grep -c RUNNING >/dev/null; then
    pg_scm start PortGuard >/dev/null
  fi
}

# CPU seconds (user+system) and RSS/HWM (KiB) of a Unix PID: "cpu_ticks rss_kib hwm_kib".
bench_proc_sample() {
  local pid=$1 ticks rss hwm
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  echo "$ticks $rss $hwm"
}

bench_first_pass_times() {
  local log
  log=$(BENCH_PG_LOG)
  [[ -f $log ]] || return 0
  grep -o 'pass done in [0-9.]* ms' "$log" | awk '{print $4}' | tail -n "$STARTS" | sort -n |
    awk '{v[NR] = $1} END { if (NR) printf "  guard pass duration from the service log (last %d passes): median %.1f ms, min %.1f, max %.1f\n", NR, v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# bench_event_ids FROM TO: "ID xCOUNT ..." of the events number FROM+1..TO in the Wine trace.
bench_event_ids() {
  [[ $2 -gt $1 ]] || { echo none; return 0; }
  grep 'fixme:advapi:ReportEventW' "$PG_TRACE" | sed -n "$(($1 + 1)),$2p" |
    perl -ne 'print hex($1) & 0xFFFF, "\n" if /ReportEventW \([^,]*,[^,]*,[^,]*,([^,]*),/' | sort | uniq -c |
    awk '{printf "%s x%s  ", $2, $1}'
}

# bench_steady IDLE_S STORM_S RATE
bench_steady() {
  local idle=$1 storm=$2 rate=$3 hz pid ws s0 s1 s2 w0 w1 w2 e0 e1 e2 p0 p1 p2 i step log
  hz=$(getconf CLK_TCK)
  log=$(BENCH_PG_LOG)
  pg_scm stop PortGuard >/dev/null 2>&1 || true
  pg_scm start PortGuard >/dev/null
  sleep 5
  pid=$(bench_guard_pid) || { echo "  cannot find the guard's Unix PID" >&2; return 1; }
  ws=$(bench_unix_pids wineserver | head -n1)
  echo "  guard Unix PID $pid (Windows PID $(e2e_wine "$BENCH_EXE" pid PortGuard | tr -d '\r')), wineserver PID ${ws:-?}"
  s0=$(bench_proc_sample "$pid"); w0=$([[ -n $ws ]] && awk '{print $14 + $15}' "/proc/$ws/stat" || echo 0)
  e0=$(grep -c 'fixme:advapi:ReportEventW' "$PG_TRACE" || true); p0=$(grep -c 'pass done' "$log" || true)
  step=$((idle / 10)); ((step > 0)) || step=1
  echo "  idle: RSS every ${step} s (KiB):"
  local rss_line=""
  for ((i = 0; i < idle; i += step)); do
    sleep "$step"
    if [[ ! -r /proc/$pid/status ]]; then
      echo "  the guard process $pid exited during the idle phase; service: $(pg_scm status PortGuard 2>&1 | tr -d '\r' | head -n1)" >&2
      return 1
    fi
    rss_line+=" $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  done
  echo "   $rss_line"
  s1=$(bench_proc_sample "$pid"); w1=$([[ -n $ws ]] && awk '{print $14 + $15}' "/proc/$ws/stat" || echo 0)
  e1=$(grep -c 'fixme:advapi:ReportEventW' "$PG_TRACE" || true); p1=$(grep -c 'pass done' "$log" || true)
  e2e_wine "$BENCH_EXE" storm "$storm" "$rate" | tr -d '\r' | sed 's/^/  /'
  sleep 2
  s2=$(bench_proc_sample "$pid"); w2=$([[ -n $ws ]] && awk '{print $14 + $15}' "/proc/$ws/stat" || echo 0)
  e2=$(grep -c 'fixme:advapi:ReportEventW' "$PG_TRACE" || true); p2=$(grep -c 'pass done' "$log" || true)
  echo "  events during the storm (ID x count): $(bench_event_ids "$e1" "$e2")"
  python3 - "$hz" "$idle" "$storm" "$s0" "$s1" "$s2" "$w0" "$w1" "$w2" "$e0" "$e1" "$e2" "$p0" "$p1" "$p2" <<'EOF'
import sys
hz, idle, storm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = [list(map(int, x.split())) for x in sys.argv[4:7]]
w = list(map(int, sys.argv[7:10])); e = list(map(int, sys.argv[10:13])); p = list(map(int, sys.argv[13:16]))
def row(name, a, b, secs, wa, wb, ea, eb, pa, pb):
    cpu = (b[0] - a[0]) / hz
    print(f"  {name:6s} {secs:4d} s: guard CPU {cpu:.2f} s ({100 * cpu / secs:.3f}% of one core), "
          f"RSS {a[1]} -> {b[1]} KiB (peak {b[2]} KiB), wineserver CPU {(wb - wa) / hz:.2f} s, "
          f"events (ReportEventW) {eb - ea}, guard passes {pb - pa}")
row("idle", s[0], s[1], idle, w[0], w[1], e[0], e[1], p[0], p[1])
row("storm", s[1], s[2], storm, w[1], w[2], e[1], e[2], p[1], p[2])
EOF
}

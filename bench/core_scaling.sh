#!/usr/bin/env bash
# Core scaling (issue 9, performance 5): callgrind instruction counts of ONE plan() call for
# 10, 100, 1k, 10k and 65,535 entries, plus the fitted growth. Instruction counts are stable on a
# noisy shared machine, unlike wall time (which is printed too, natively, for orientation).
#
#   bench/core_scaling.sh [BUILD_DIR]        (default build/evidence-linux; a native Release build)
#   bench/core_scaling.sh --help
#
# Prints a Markdown table. Never fails on the numbers: it is a benchmark, not a test.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build/evidence-linux}
exe=$build/bench/scaling_bench
[[ -x $exe ]] || { echo "build it first: ninja -C $build scaling_bench" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed: run scripts/setup --extras as root" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

sizes=(10 100 1000 10000 65535)
declare -A ir ms
for n in "${sizes[@]}"; do
  # One plan, collection toggled on only inside pg_bench_run_plan (setup is not counted).
  nice -n 10 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" --toggle-collect='pg_bench_run_plan*' \
    "$exe" "$n" 1 >/dev/null 2>"$tmp/vg.$n"
  ir[$n]=$(callgrind_annotate "$tmp/cg.$n" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",","",$1); print $1; done = 1}')
  ms[$n]=$(nice -n 10 "$exe" "$n" 11 | sed -E 's/.*median ([0-9.]+) min ([0-9.]+) max ([0-9.]+).*/\1 (\2..\3)/')
done

echo "| entries n | instructions (Ir) | Ir / n | Ir / (n log2 n) | local exponent vs previous row | wall ms native, median (min..max) of 11 |"
echo "|---:|---:|---:|---:|---:|---|"
prev=""
for n in "${sizes[@]}"; do
  awk -v n="$n" -v ir="${ir[$n]}" -v prev="$prev" -v pir="${prev:+${ir[$prev]:-}}" -v ms="${ms[$n]}" 'BEGIN {
    lg = log(n) / log(2);
    slope = (prev == "") ? "-" : sprintf("%.2f", log(ir / pir) / log(n / prev));
    printf "| %d | %d | %.0f | %.0f | %s | %s |\n", n, ir, ir / n, ir / (n * lg), slope, ms
  }'
  prev=$n
done
# Least-squares fit of log(Ir) = a + b log(n) over the three largest sizes (the small ones are
# dominated by constant per-plan work).
printf '%s\n' 1000 10000 65535 | while read -r n; do echo "$n ${ir[$n]}"; done | awk '
  { x = log($1); y = log($2); sx += x; sy += y; sxx += x * x; sxy += x * y; k++ }
  END { b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
        printf "\nfitted exponent over n = 1k..65,535: Ir ~ n^%.2f (n log n over this span is ~n^1.08; n^2 would be 2.00)\n", b }'

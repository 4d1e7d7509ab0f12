#!/usr/bin/env bash
# Side-by-side: `whiteout ls -r -p` against TSK `fls -r -p` on the same
# generated image, in the same run. Prints medians of R runs and the ratio.
# Usage: scripts/bench-ls.sh [NFILES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
runs=${2:-5}
img=${BENCH_IMG:-target/bench/ls-$n.img}
mkdir -p "$(dirname "$img")"
bash scripts/make-bench-image.sh "$img" "$n"
cargo build --release -q
command -v fls >/dev/null || { echo "fls not found: apt-get install sleuthkit" >&2; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_cmd() { # prints seconds
  local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
cat "$img" >/dev/null   # page cache: both tools read from memory
wo=(); tsk=()
for i in $(seq "$runs"); do
  wo+=("$(time_cmd target/release/whiteout ls "$img" -r -p)")
  tsk+=("$(time_cmd fls -r -p "$img")")
done
w=$(printf '%s\n' "${wo[@]}" | median); t=$(printf '%s\n' "${tsk[@]}" | median)
lines_w=$(target/release/whiteout ls "$img" -r -p | wc -l)
lines_t=$(fls -r -p "$img" | grep -vc '\$OrphanFiles')
rss_w=$( { /usr/bin/time -f %M target/release/whiteout ls "$img" -r -p >/dev/null; } 2>&1 | tail -1)
rss_t=$( { /usr/bin/time -f %M fls -r -p "$img" >/dev/null; } 2>&1 | tail -1)
printf '| tool | entries | median of %d (s) | peak RSS (MiB) |\n|---|---|---|---|\n' "$runs"
printf '| whiteout ls -r -p | %d | %.3f | %d |\n' "$lines_w" "$w" $((rss_w/1024))
printf '| fls -r -p (TSK %s) | %d | %.3f | %d |\n' "$(fls -V | awk '{print $NF}')" "$lines_t" "$t" $((rss_t/1024))
printf 'ratio: whiteout is %.1fx faster than fls\n' "$(echo "$t / $w" | bc -l)"

#!/usr/bin/env bash
# Replay every input of each fuzz target's corpus and artifacts once, and
# report the slowest. libFuzzer's -timeout is wall time, which misfires when
# other jobs share the CPU; an input slower than 1 s wall here is re-run on
# its own under /usr/bin/time, and counts as a hang only if it takes over
# 1 s of CPU beyond the target's start-up (inflating its base fixtures).
# Usage: scripts/fuzz-replay.sh [TARGET...]   (after scripts/fuzz-run.sh)
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
TARGETS=${*:-partitions superblock inode extents dirent xattr journal tarsplit docker_config logs whole_image bolt carve scan}
BIN=./target/x86_64-unknown-linux-gnu/release
cpu() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
printf '%-14s %8s %12s %10s %10s\n' target inputs slowest_ms over_1s_wall hangs_cpu
for t in $TARGETS; do
  files=$(find corpus/$t artifacts/$t -type f 2>/dev/null)
  n=$(echo "$files" | grep -c . || true)
  [ "$n" -eq 0 ] && { printf '%-14s %8s\n' "$t" 0; continue; }
  log=$(mktemp)
  echo "$files" | xargs -n 200 $BIN/$t -rss_limit_mb=512 >"$log" 2>&1
  slow=$(grep -o 'Executed .* in [0-9]* ms' "$log" | awk '$NF=="ms"{print $(NF-1), $2}' | sort -n | tail -1)
  over=$(grep -o 'Executed .* in [0-9]* ms' "$log" | awk '$(NF-1) > 1000 {print $2}')
  base=$(cpu $BIN/$t -runs=0 /dev/null)
  hangs=0
  for f in $over; do
    c=$(cpu $BIN/$t "$f")
    if awk -v c="$c" -v b="$base" 'BEGIN{exit !(c - b > 1.0)}'; then
      hangs=$((hangs + 1)); echo "  hang: $t $f (${c}s CPU, start-up ${base}s)" >&2
    fi
  done
  printf '%-14s %8s %12s %10s %10s\n' "$t" "$n" "${slow%% *}" "$(echo "$over" | grep -c . || true)" "$hangs"
  rm -f "$log"
done

#!/usr/bin/env bash
# Scale benchmark on one image from scripts/make-large-fs.sh: wall time,
# CPU% and peak RSS (/usr/bin/time) of whiteout against TSK in the same run.
# Usage: scripts/bench-scale.sh IMAGE [RUNS] [WHITEOUT_BIN]
# Env: TASKS (default "ls ils"; add "lsd deleted" for the deleted listings,
# which read every free block of initialised groups, and "scan" for
# `scan --no-carve --no-hash` into a scratch dir), TSK_RUNS (default 1),
# SCAN_DIR (default /tmp/bench-scale-scan; its contents are replaced),
# DELETED_RUNS (default RUNS). `scan` runs once.
set -euo pipefail
img=${1:?usage: bench-scale.sh IMAGE [RUNS] [BIN]}
runs=${2:-3}
wo=${3:-target/release/whiteout}
tsk_runs=${TSK_RUNS:-1}
tasks=${TASKS:-ls ils}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() { # label runs cmd...: prints "label median_s cpu% rss_MiB lines"
  local label=$1 n=$2; shift 2
  local ts=() cpu=0 rss=0 lines=0 t
  for _ in $(seq "$n"); do
    t=$( { /usr/bin/time -f '%e %P %M' "$@" > /tmp/bench-scale.out; } 2>&1 | tail -1)
    ts+=("${t%% *}"); cpu=$(echo "$t" | awk '{print $2}'); rss=$(echo "$t" | awk '{print int($3/1024)}')
  done
  lines=$(wc -l < /tmp/bench-scale.out)
  printf '| %s | %s | %s | %s | %s MiB | %s |\n' "$label" "$n" \
    "$(printf '%s\n' "${ts[@]}" | median)" "$cpu" "$rss" "$lines"
}
echo "image: $img ($(du -h "$img" | cut -f1) on disk), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo '| command | runs | median s | CPU% | peak RSS | lines |'
echo '|---|---|---|---|---|---|'
"$wo" ls "$img" -r -p > /dev/null  # warm the page cache with the metadata
for t in $tasks; do
  case $t in
    ls)  measure "whiteout ls -r -p" "$runs" "$wo" ls "$img" -r -p
         measure "fls -r -p" "$tsk_runs" fls -r -p "$img" ;;
    lsd) measure "whiteout ls -r -p -d" "$runs" "$wo" ls "$img" -r -p -d
         measure "fls -r -p -d" "$tsk_runs" fls -r -p -d "$img" ;;
    deleted) measure "whiteout deleted" "${DELETED_RUNS:-$runs}" "$wo" deleted "$img" ;;
    ils) measure "ils -A" "$tsk_runs" ils -A "$img" ;;
    scan) sd=${SCAN_DIR:-/tmp/bench-scale-scan}
          rm -rf "$sd"
          measure "whiteout scan --no-carve --no-hash" 1 "$wo" scan "$img" -o "$sd" \
            --no-carve --no-hash -q
          grep ' phase ' "$sd/scan.log" | sed 's/^[^ ]* info /    /' ;;
  esac
done

#!/usr/bin/env bash
# The whole-job benchmark: `whiteout scan --no-carve` against TSK
# `fls -r -p -d` alone, on the same image, runs alternated so both see the
# same machine state. Prints every run, the medians and the ratio, and the
# scan's per-phase times (scan.log) of its last run.
# Usage: scripts/bench-scan-vs-fls.sh IMAGE [RUNS] [WHITEOUT_BIN]
# Env: SCAN_DIR (default /tmp/bench-scan-vs-fls; its contents are replaced),
#      SCAN_ARGS (default "--no-carve --no-hash": no anchor hashes the image).
set -euo pipefail
img=${1:?usage: bench-scan-vs-fls.sh IMAGE [RUNS] [BIN]}
runs=${2:-3}
wo=${3:-target/release/whiteout}
sd=${SCAN_DIR:-/tmp/bench-scan-vs-fls}
read -r -a sargs <<< "${SCAN_ARGS:---no-carve --no-hash}"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
one() { # cmd...: prints "secs cpu% rss_kb"
  { /usr/bin/time -f '%e %P %M' "$@" > /dev/null; } 2>&1 | tail -1
}
echo "image: $img, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$wo" ls "$img" -r -p > /dev/null # warm the page cache with the metadata
ws=() fs=()
echo '| run | whiteout scan s | CPU% | peak RSS | fls -r -p -d s | CPU% | peak RSS |'
echo '|---|---|---|---|---|---|---|'
for i in $(seq "$runs"); do
  rm -rf "$sd" # not timed: --force would have scan delete the last run's GBs of output
  w=$(one "$wo" scan "$img" -o "$sd" "${sargs[@]}" -q)
  f=$(one fls -r -p -d "$img")
  ws+=("${w%% *}") fs+=("${f%% *}")
  echo "$i $w $f" | awk '{printf "| %s | %s | %s | %d MiB | %s | %s | %d MiB |\n", $1, $2, $3, $4/1024, $5, $6, $7/1024}'
done
mw=$(printf '%s\n' "${ws[@]}" | median)
mf=$(printf '%s\n' "${fs[@]}" | median)
echo
echo "median: whiteout scan ${sargs[*]} ${mw} s, fls -r -p -d ${mf} s, ratio $(awk -v a="$mw" -v b="$mf" 'BEGIN{printf "%.2f", a/b}') (below 1: scan is faster)"
echo "scan phases (last run, $sd/scan.log):"
grep ' phase ' "$sd/scan.log" | sed 's/^[^ ]* info /  /'

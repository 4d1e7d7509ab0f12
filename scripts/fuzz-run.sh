#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 600), one after another,
# with these limits: a 1 s hang is a crash (5 s for the whole-job
# `scan` target), 512 MiB RSS is an OOM.
# Needs cargo-fuzz and a nightly toolchain (or RUSTC_BOOTSTRAP=1 on stable).
# Corpora grow in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>),
# crashes land in fuzz/artifacts/<target>. Final stats: fuzz/stats.txt.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-600}
shift || true
TARGETS=${*:-partitions superblock inode extents dirent xattr journal tarsplit docker_config logs whole_image bolt carve scan ewf qcow2 vmdk vhd lvm}
cargo +nightly fuzz build --sanitizer none >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }
for t in $TARGETS; do
  mkdir -p corpus/$t artifacts/$t
  cp -n seeds/$t/* corpus/$t/ 2>/dev/null || true
  log=logs-$t.txt
  # BoltDB pages are 4 KiB: let inputs hold a small database.
  maxlen=20000; [ "$t" = bolt ] && maxlen=131072
  # Container seeds (fuzz/seeds/{ewf,qcow2,vmdk,vhd,lvm}, made by
  # ewfacquire/qemu-img/lvm2, not by fuzz-seeds.py) are up to 64 KiB.
  case $t in ewf | qcow2 | vmdk | vhd | lvm) maxlen=65536 ;; esac
  # scan runs the whole job (0.25 s CPU in release on an unmodified 32 MiB
  # base): a hang there is 5 s. Every other target: 1 s.
  # TIMEOUT (default 1) is wall time: raise it when other jobs share the CPU, then
  # replay the corpora (scripts/fuzz-replay.sh) to find inputs over 1 s CPU.
  tmo=${TIMEOUT:-1}; [ "$t" = scan ] && tmo=$((tmo * 5))
  ./target/x86_64-unknown-linux-gnu/release/$t corpus/$t seeds/$t \
    -artifact_prefix=artifacts/$t/ -max_total_time=$SECS -timeout=$tmo -rss_limit_mb=512 \
    -max_len=$maxlen -print_final_stats=1 -close_fd_mask=3 >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  crashes=$(ls artifacts/$t | wc -l)
  echo "$(date -u +%FT%TZ) $t rc=$rc secs=$SECS execs=${execs:-?} artifacts=$crashes" | tee -a stats.txt
done

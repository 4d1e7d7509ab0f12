#!/usr/bin/env bash
# Build 1 TiB sparse ext4 images populated by `mkfs.ext4 -d` from a generated
# tree, for metadata-scaling benchmarks (docs/benchmarks.md). Needs root (tmpfs staging,
# loop mount for the kernel-made huge directories and the deletions).
#
# Usage: scripts/make-large-fs.sh [DIR] [COUNT...]
#   DIR    output directory (default: large/ beside the repository, outside it;
#          never commit it)
#   COUNT  inode counts, default "1000000 2000000 5000000"
#
# Per COUNT it writes DIR/fs-COUNT.img:
#   - a 1 TiB sparse file, 4 KiB blocks, inode table limited with
#     -N COUNT*1.1 (256-byte inodes: 1.4 GB of table for 5M, not the
#     default 64M inodes / 16 GB), lazy itable and journal init so the file
#     stays sparse (about 0.8 GB on disk per million inodes);
#   - the bulk tree from scripts/gen-large-tree.py via `mkfs.ext4 -d`
#     (staged in a tmpfs, removed afterwards);
#   - three huge directories (2%, 1%, 0.5% of COUNT entries) made by the
#     kernel through a loop mount, so they are htree-indexed (mkfs -d
#     links into linear directories in O(n^2));
#   - then deletions through the same mount: 0.5% of directories as whole
#     subtrees, ~6% of files, half of the large files and half of the
#     smallest huge directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$(dirname "$(dirname "$here")")/large}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000000 2000000 5000000)
[ "$(id -u)" = 0 ] || { echo "needs root (tmpfs and loop mount)" >&2; exit 1; }
mkdir -p "$dir"
stage=$(mktemp -d "$dir/stage.XXXXXX")
mnt=$(mktemp -d "$dir/mnt.XXXXXX")
cleanup() {
  mountpoint -q "$stage" && umount "$stage"
  mountpoint -q "$mnt" && umount "$mnt"
  rmdir "$stage" "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
for n in "${counts[@]}"; do
  img=$dir/fs-$n.img
  if [ -s "$img" ] && [ -e "$img.done" ]; then
    echo "== $img exists"; continue
  fi
  echo "== $img ($n inodes) $(date -u +%T)"
  rm -f "$img" "$img.done"
  # tmpfs: ~1 KiB of RAM per inode plus the small files' data.
  mount -t tmpfs -o "size=$(( n / 1000 * 2 + 2048 ))M,nr_inodes=$(( n * 12 / 10 + 1000 ))" tmpfs "$stage"
  python3 "$here/gen-large-tree.py" tree "$stage" "$n" "$img.delete"
  truncate -s 1T "$img"
  mkfs.ext4 -q -F -b 4096 -I 256 -N $(( n * 11 / 10 )) -L "large-$n" \
    -E lazy_itable_init=1,lazy_journal_init=1 -d "$stage" "$img"
  umount "$stage"
  echo "   mkfs done $(date -u +%T)"
  # noinit_itable: no background zeroing of inode tables (keeps it sparse).
  mount -o loop,noinit_itable "$img" "$mnt"
  python3 "$here/gen-large-tree.py" huge "$mnt" "$n"
  sync
  python3 "$here/gen-large-tree.py" delete "$mnt" "$n" "$img.delete"
  umount "$mnt"
  touch "$img.done"
  echo "   done $(date -u +%T): $(du -h "$img" | cut -f1) on disk"
done

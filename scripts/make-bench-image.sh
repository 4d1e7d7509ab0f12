#!/usr/bin/env bash
# Build a large ext4 image for listing benchmarks (no root needed):
# a generated tree of N files (default 200000) in nested directories,
# written into a fresh filesystem by `mkfs.ext4 -d`.
# Usage: scripts/make-bench-image.sh OUT.img [NFILES]
set -euo pipefail
out=${1:?usage: make-bench-image.sh OUT.img [NFILES]}
n=${2:-200000}
if [ -s "$out" ] && [ "$(cat "$out.nfiles" 2>/dev/null)" = "$n" ]; then
  exit 0
fi
tree=$(mktemp -d "${TMPDIR:-/tmp}/wo-bench-tree.XXXXXX")
trap 'rm -rf "$tree"' EXIT
python3 - "$tree" "$n" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
# 3 levels: 40 top dirs x 25 subdirs x ~n/1000 files each
per = max(1, n // 1000)
made = 0
for a in range(40):
    for b in range(25):
        d = os.path.join(root, f"dir{a:02d}", f"sub{b:02d}")
        os.makedirs(d, exist_ok=True)
        for c in range(per):
            if made >= n:
                break
            name = f"file-{a:02d}-{b:02d}-{c:05d}-{rnd.getrandbits(32):08x}.txt"
            with open(os.path.join(d, name), "w") as f:
                f.write(f"{a} {b} {c}\n" * (1 + c % 7))
            made += 1
print(f"{made} files", file=sys.stderr)
PY
size_mb=$(( n / 1000 * 8 + 256 ))
rm -f "$out"
truncate -s "${size_mb}M" "$out"
mkfs.ext4 -q -F -b 4096 -N $(( n + 20000 )) -d "$tree" "$out"
echo "$n" > "$out.nfiles"

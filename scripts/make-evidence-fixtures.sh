#!/usr/bin/env bash
# Build the evidence-container fixtures in testdata/evidence/ from one small
# GPT disk (testdata/ext4/gpt.img.gz: 48 MiB, ext4 in partition 2), with the
# real tools: ewfacquire (libewf), qemu-img/qemu-io (QEMU), lvm2.
#
# Ground truth goes to testdata/evidence/manifest.json: the SHA-256 of the
# logical media of every container as the tool itself exports it
# (ewfexport, qemu-img convert -O raw), the commands and the tool versions.
#
# Needs root only for the LVM fixture (losetup). Run from the repository root:
#   apt-get install -y ewf-tools qemu-utils lvm2 fdisk
#   bash scripts/make-evidence-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=testdata/evidence
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*.E0* "$OUT"/*.qcow2* "$OUT"/*.vmdk* "$OUT"/*.vhd* "$OUT"/*.img.gz "$OUT"/manifest.json

zcat testdata/ext4/gpt.img.gz >"$W/disk.raw"
DISK_SHA=$(sha256sum "$W/disk.raw" | cut -d' ' -f1)
CMDS=()
run() { CMDS+=("$*"); "$@" >/dev/null; }
sha_raw() { sha256sum "$1" | cut -d' ' -f1; }

# --- EWF (EnCase 6) -------------------------------------------------------
# One compressed segment (zlib chunks, and stored chunks where zlib does not
# shrink them), with SHA-1 besides the MD5 that ewfacquire always stores.
run ewfacquire -u -q -t "$W/disk" -f encase6 -c deflate:best -S 1.4GiB -d sha1 \
  -C case42 -E ev1 -e examiner -D desc -N notes -m fixed -M physical "$W/disk.raw"
cp "$W/disk.E01" "$OUT/disk.E01"
# Four uncompressed 16 MiB segments: every chunk stored, tables in each
# segment. gzipped for the repository (the tests inflate them).
run ewfacquire -u -q -t "$W/split" -f encase6 -c none -S 16MiB \
  -C case43 -E ev2 -e examiner2 -D "split set" -N "stored chunks" "$W/disk.raw"
for f in "$W"/split.E0*; do gzip -9n -c "$f" >"$OUT/$(basename "$f").gz"; done
run ewfexport -u -q -t "$W/ewf-export" -f raw "$W/disk.E01"
EWF_SHA=$(sha_raw "$W/ewf-export.raw")
run ewfexport -u -q -t "$W/ewf-split-export" -f raw "$W/split.E01"
EWF_SPLIT_SHA=$(sha_raw "$W/ewf-split-export.raw")
ewfinfo "$W/disk.E01" >"$OUT/disk.E01.ewfinfo.txt"
ewfinfo "$W/split.E01" >"$OUT/split.E01.ewfinfo.txt"

# --- qcow2 ----------------------------------------------------------------
q() { run qemu-img convert -O qcow2 "$@"; }
q -c -o compat=1.1,compression_type=zlib "$W/disk.raw" "$W/zlib.qcow2"
q -c -o compat=1.1,compression_type=zstd "$W/disk.raw" "$W/zstd.qcow2"
q -o compat=0.10 "$W/disk.raw" "$W/v2.qcow2"
q -o compat=1.1,extended_l2=on,cluster_size=65536 "$W/disk.raw" "$W/extl2.qcow2"
# A backing chain: base (compressed) <- top, with an internal snapshot of
# top taken before top diverged, then data and zero clusters written.
q -c "$W/disk.raw" "$W/base.qcow2"
run qemu-img create -f qcow2 -b base.qcow2 -F qcow2 "$W/top.qcow2"
run qemu-img snapshot -c before-writes "$W/top.qcow2"
run qemu-io -f qcow2 -c "write -P 0xab 1M 128k" -c "write -z 2M 128k" \
  -c "write -P 0x5a 40M 4k" "$W/top.qcow2"
for f in zlib zstd base; do cp "$W/$f.qcow2" "$OUT/$f.qcow2"; done
for f in v2 extl2 top; do gzip -9n -c "$W/$f.qcow2" >"$OUT/$f.qcow2.gz"; done
run qemu-img convert -O raw "$W/top.qcow2" "$W/top.raw"
TOP_SHA=$(sha_raw "$W/top.raw")
qemu-img snapshot -l "$W/top.qcow2" >"$OUT/top.qcow2.snapshots.txt"

# --- VMDK -----------------------------------------------------------------
run qemu-img convert -O vmdk -o subformat=monolithicSparse "$W/disk.raw" "$W/sparse.vmdk"
run qemu-img convert -O vmdk -o subformat=streamOptimized "$W/disk.raw" "$W/stream.vmdk"
run qemu-img convert -O vmdk -o subformat=monolithicFlat "$W/disk.raw" "$W/flat.vmdk"
run qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse "$W/disk.raw" "$W/split.vmdk"
cp "$W/stream.vmdk" "$OUT/stream.vmdk"
gzip -9n -c "$W/sparse.vmdk" >"$OUT/sparse.vmdk.gz"
cp "$W/flat.vmdk" "$OUT/flat.vmdk"
gzip -9n -c "$W/flat-flat.vmdk" >"$OUT/flat-flat.vmdk.gz"
cp "$W/split.vmdk" "$OUT/split.vmdk"
for f in "$W"/split-s*.vmdk; do gzip -9n -c "$f" >"$OUT/$(basename "$f").gz"; done

# --- VHD / VHDX -----------------------------------------------------------
run qemu-img convert -O vpc -o subformat=dynamic,force_size=on "$W/disk.raw" "$W/dynamic.vhd"
run qemu-img convert -O vpc -o subformat=fixed,force_size=on "$W/disk.raw" "$W/fixed.vhd"
run qemu-img convert -O vhdx -o subformat=dynamic "$W/disk.raw" "$W/dynamic.vhdx"
run qemu-img convert -O vhdx -o subformat=fixed "$W/disk.raw" "$W/fixed.vhdx"
for f in dynamic.vhd fixed.vhd dynamic.vhdx fixed.vhdx; do
  gzip -9n -c "$W/$f" >"$OUT/$f.gz"
done

# Every qemu-made image converts back to the source disk (top excepted).
declare -A QSHA
for f in zlib.qcow2 zstd.qcow2 v2.qcow2 extl2.qcow2 base.qcow2 sparse.vmdk stream.vmdk \
  flat.vmdk split.vmdk dynamic.vhd fixed.vhd dynamic.vhdx fixed.vhdx; do
  # qemu-img probes a fixed VHD as raw (it is raw data plus a footer): name it.
  fmt=()
  case $f in *.vhd) fmt=(-f vpc) ;; esac
  run qemu-img convert "${fmt[@]}" -O raw "$W/$f" "$W/back.raw"
  QSHA[$f]=$(sha_raw "$W/back.raw")
done

# --- manifest -------------------------------------------------------------
{
  echo '{'
  echo "  \"source_disk\": \"testdata/ext4/gpt.img.gz\","
  echo "  \"source_sha256\": \"$DISK_SHA\","
  echo "  \"source_size\": $(stat -c %s "$W/disk.raw"),"
  echo "  \"ewf\": {\"disk.E01\": \"$EWF_SHA\", \"split.E01\": \"$EWF_SPLIT_SHA\"},"
  echo "  \"qcow2_top_sha256\": \"$TOP_SHA\","
  echo '  "qemu_img_convert_raw_sha256": {'
  first=1
  for k in "${!QSHA[@]}"; do
    [ $first = 1 ] || echo ','
    first=0
    printf '    "%s": "%s"' "$k" "${QSHA[$k]}"
  done
  echo
  echo '  },'
  echo "  \"tools\": {\"ewfacquire\": \"$(ewfacquire -V | head -1)\","
  echo "            \"qemu-img\": \"$(qemu-img --version | head -1)\"},"
  echo '  "commands": ['
  n=${#CMDS[@]}
  for i in "${!CMDS[@]}"; do
    c=${CMDS[$i]//$W/WORK}
    c=${c//\"/\\\"}
    sep=','
    [ "$i" = $((n - 1)) ] && sep=''
    echo "    \"$c\"$sep"
  done
  echo '  ]'
  echo '}'
} >"$OUT/manifest.json"
python3 -m json.tool "$OUT/manifest.json" >/dev/null
ls -la "$OUT"
du -sh "$OUT"

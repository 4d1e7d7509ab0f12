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

# --- LVM2 (run alone with `make-evidence-fixtures.sh lvm`) -----------------
# A 40 MiB GPT disk with two LVM partitions, both PVs of vg0 (1 MiB
# extents). lvm2 writes the labels and metadata; this kernel has no
# device-mapper, so the LV contents (ext4 made by mke2fs -d) are placed at
# their extents here, exactly as the segments map them:
#   data    16 MiB: extents 0-7 on pv0 PE 10-17, extents 8-15 on pv1 PE 2-9
#   stripes  8 MiB: striped over pv0 PE 0-3 and pv1 PE 10-13, 64 KiB stripes
make_lvm() {
  export DM_DISABLE_UDEV=1 LVM_SUPPRESS_FD_WARNINGS=1 E2FSPROGS_FAKE_TIME=1796500000
  local C='devices { obtain_device_list_from_udev=0 } activation { udev_sync=0 udev_rules=0 }'
  local D="$W/lvm" MiB=1048576
  mkdir -p "$D/files/docs"
  printf 'hello from an LVM logical volume\n' >"$D/files/hello.txt"
  python3 -c 'import random; r=random.Random(42); open("'"$D"'/files/docs/random.bin","wb").write(bytes(r.getrandbits(8) for _ in range(40000)))'
  printf 'striped\n' >"$D/files/docs/note.txt"
  # Large files of numbered 4 KiB blocks: data in every segment and stripe.
  python3 -c 'import sys
for name, n in (("'"$D"'/files/big.log", 1792), ("'"$D"'/files/docs/blocks.log", 700)):
    open(name, "wb").write(b"".join((b"block %06d " % i).ljust(4095, b".") + b"\n" for i in range(n)))'

  truncate -s 40M "$D/disk.img"
  printf 'label: gpt\nstart=2048, size=38912, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm-a"\nstart=40960, size=38912, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm-b"\n' |
    sfdisk -q "$D/disk.img"
  local P1 P2
  P1=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((38912 * 512)) "$D/disk.img")
  P2=$(losetup -f --show -o $((40960 * 512)) --sizelimit $((38912 * 512)) "$D/disk.img")
  run pvcreate -ff -y --config "$C" "$P1" "$P2"
  run vgcreate --config "$C" -s 1M vg0 "$P1" "$P2"
  run vgcfgbackup --config "$C" -f "$D/vg.txt" vg0
  # Insert the two LVs before the closing brace of the VG section.
  python3 - "$D/vg.txt" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
lvs = """
	logical_volumes {
		data {
			id = "dAtAdA-tAdA-tAdA-tAdA-tAdA-tAdA-dAtAdA"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 2
			segment1 {
				start_extent = 0
				extent_count = 8
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 10]
			}
			segment2 {
				start_extent = 8
				extent_count = 8
				type = "striped"
				stripe_count = 1
				stripes = ["pv1", 2]
			}
		}
		stripes {
			id = "sTrIpE-sTrI-pEsT-rIpE-sTrI-pEsT-sTrIpE"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 8
				type = "striped"
				stripe_count = 2
				stripe_size = 128
				stripes = ["pv0", 0, "pv1", 10]
			}
		}
	}
"""
i = t.rindex("}")
open(p, "w").write(t[:i] + lvs + t[i:])
PY
  run vgcfgrestore --config "$C" -f "$D/vg.txt" vg0
  lvs --config "$C" --noheadings -o lv_name,seg_start_pe,seg_size_pe,stripes,stripe_size,seg_pe_ranges vg0 \
    >"$OUT/lvm.lvs.txt"
  losetup -d "$P1" "$P2"
  run mkfs.ext4 -q -F -b 4096 -L lvdata -U 0d5a6f1e-0008-4e5f-8a6b-000000000008 \
    -E hash_seed=6f7c1f5e-2a4b-4c3d-9e8f-0a1b2c3d4e5f -d "$D/files" "$D/data.ext4" 16M
  run mkfs.ext4 -q -F -b 1024 -L lvstripes -U 0d5a6f1e-0009-4e5f-8a6b-000000000009 \
    -E hash_seed=6f7c1f5e-2a4b-4c3d-9e8f-0a1b2c3d4e5f -d "$D/files/docs" "$D/stripes.ext4" 8M
  local P0=$((2048 * 512)) Q0=$((40960 * 512)) PE0=$((2048 * 512))
  # data: extents 0-7 -> pv0 PE 10; extents 8-15 -> pv1 PE 2.
  dd if="$D/data.ext4" of="$D/disk.img" bs=$MiB count=8 seek=$(((P0 + PE0) / MiB + 10)) conv=notrunc status=none
  dd if="$D/data.ext4" of="$D/disk.img" bs=$MiB skip=8 count=8 seek=$(((Q0 + PE0) / MiB + 2)) conv=notrunc status=none
  # stripes: 64 KiB chunk k -> stripe k%2, row k/2.
  local k S=65536
  for k in $(seq 0 127); do
    if [ $((k % 2)) = 0 ]; then base=$(((P0 + PE0) / S + 0 * 16)); else base=$(((Q0 + PE0) / S + 10 * 16)); fi
    dd if="$D/stripes.ext4" of="$D/disk.img" bs=$S skip=$k count=1 seek=$((base + k / 2)) conv=notrunc status=none
  done
  gzip -9n -c "$D/disk.img" >"$OUT/lvm.img.gz"
  {
    echo '{'
    echo "  \"disk_sha256\": \"$(sha256sum "$D/disk.img" | cut -d' ' -f1)\","
    echo "  \"lv_sha256\": {\"vg0/data\": \"$(sha256sum "$D/data.ext4" | cut -d' ' -f1)\","
    echo "                \"vg0/stripes\": \"$(sha256sum "$D/stripes.ext4" | cut -d' ' -f1)\"},"
    echo "  \"files\": {"
    echo "    \"/hello.txt\": \"$(sha256sum "$D/files/hello.txt" | cut -d' ' -f1)\","
    echo "    \"/docs/random.bin\": \"$(sha256sum "$D/files/docs/random.bin" | cut -d' ' -f1)\","
    echo "    \"/docs/note.txt\": \"$(sha256sum "$D/files/docs/note.txt" | cut -d' ' -f1)\","
    echo "    \"/big.log\": \"$(sha256sum "$D/files/big.log" | cut -d' ' -f1)\","
    echo "    \"/docs/blocks.log\": \"$(sha256sum "$D/files/docs/blocks.log" | cut -d' ' -f1)\""
    echo '  },'
    echo "  \"tools\": {\"lvm\": \"$(lvm version 2>/dev/null | head -1 | sed 's/^ *//; s/  */ /g')\", \"mke2fs\": \"$(mke2fs -V 2>&1 | head -1)\"},"
    echo '  "commands": ['
    local i n=${#CMDS[@]}
    for i in "${!CMDS[@]}"; do
      c=${CMDS[$i]//$W/WORK}
      c=${c//\"/\\\"}
      sep=','
      [ "$i" = $((n - 1)) ] && sep=''
      echo "    \"$c\"$sep"
    done
    echo '  ]'
    echo '}'
  } >"$OUT/lvm.json"
  python3 -m json.tool "$OUT/lvm.json" >/dev/null
}
CMDS=()
run() { CMDS+=("$*"); "$@" >/dev/null; }
if [ "${1:-}" = lvm ]; then
  make_lvm
  exit 0
fi
rm -f "$OUT"/*.E0* "$OUT"/*.qcow2* "$OUT"/*.vmdk* "$OUT"/*.vhd* "$OUT"/*.img.gz "$OUT"/manifest.json

zcat testdata/ext4/gpt.img.gz >"$W/disk.raw"
DISK_SHA=$(sha256sum "$W/disk.raw" | cut -d' ' -f1)
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

#!/usr/bin/env bash
# Build testdata/evidence-docker/: the real dockerd fixture
# testdata/docker/docker-dataroot.img.gz (64 MiB ext4) inside one disk
#   GPT -> one Linux LVM partition -> PV -> VG vg0 -> LV docker
# whose LV is two non-contiguous segments (1 MiB extents):
#   extents  0-31 on PE 40-71, extents 32-63 on PE 4-35
# and that disk as an E01 set (six segments, gzipped), a compressed qcow2, a
# stream-optimized VMDK and a dynamic VHDX (gzipped). lvm2 writes the PV
# label and VG metadata (the same approach as make-evidence-fixtures.sh
# lvm: no device-mapper here, so the LV bytes are placed at their extents).
# The raw disk is not committed; manifest.json records its SHA-256.
#
# Needs root (losetup). Run from the repository root:
#   apt-get install -y ewf-tools qemu-utils lvm2 fdisk
#   bash scripts/make-docker-forms.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=testdata/evidence-docker
SRC=testdata/docker/docker-dataroot.img.gz
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*
CMDS=()
run() { CMDS+=("$*"); "$@" >/dev/null; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

export DM_DISABLE_UDEV=1 LVM_SUPPRESS_FD_WARNINGS=1
C='devices { obtain_device_list_from_udev=0 } activation { udev_sync=0 udev_rules=0 }'
MiB=1048576

zcat "$SRC" >"$W/docker.ext4"
[ "$(stat -c %s "$W/docker.ext4")" = $((64 * MiB)) ]

# --- the disk: 80 MiB, GPT, one LVM partition from sector 2048 -------------
truncate -s 80M "$W/disk.raw"
printf 'label: gpt\nlabel-id: 6D0C4E50-0000-4000-8000-00000000D0C4\nstart=2048, size=159744, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=6D0C4E50-0001-4000-8000-00000000D0C4, name="docker-pv"\n' |
  sfdisk -q "$W/disk.raw"
P=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((159744 * 512)) "$W/disk.raw")
run pvcreate -ff -y --config "$C" "$P"
run vgcreate --config "$C" -s 1M vg0 "$P"
run vgcfgbackup --config "$C" -f "$W/vg.txt" vg0
python3 - "$W/vg.txt" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
lvs = """
	logical_volumes {
		docker {
			id = "dOcKeR-dOcK-eRdO-cKeR-dOcK-eRdO-dOcKeR"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 2
			segment1 {
				start_extent = 0
				extent_count = 32
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 40]
			}
			segment2 {
				start_extent = 32
				extent_count = 32
				type = "striped"
				stripe_count = 1
				stripes = ["pv0", 4]
			}
		}
	}
"""
i = t.rindex("}")
open(p, "w").write(t[:i] + lvs + t[i:])
PY
run vgcfgrestore --config "$C" -f "$W/vg.txt" vg0
lvs --config "$C" --noheadings -o lv_name,seg_start_pe,seg_size_pe,seg_pe_ranges vg0 >"$W/lvs.txt"
losetup -d "$P"
# pe_start is 1 MiB: PE n is at disk offset 1 MiB (partition) + 1 MiB + n MiB.
run dd if="$W/docker.ext4" of="$W/disk.raw" bs=$MiB count=32 seek=$((2 + 40)) conv=notrunc status=none
run dd if="$W/docker.ext4" of="$W/disk.raw" bs=$MiB skip=32 count=32 seek=$((2 + 4)) conv=notrunc status=none

# --- the forms ------------------------------------------------------------
# E01 in several segments. ewfacquire's smallest segment is 1 MiB, and with
# -c fast or -c best the whole disk deflates to 1.5-1.8 MB: two segments
# only. -c empty-block deflates the all-zero chunks and stores the others
# (with their Adler-32): six 1 MiB segments, gzipped for the repository
# (the tests inflate them).
run ewfacquire -u -q -t "$W/disk" -f encase6 -c empty-block -S 1MiB \
  -C docker-host -E ev-docker -e examiner -D "dockerd data-root on LVM" -N notes "$W/disk.raw"
for f in "$W"/disk.E0*; do gzip -9n -c "$f" >"$OUT/$(basename "$f").gz"; done
ewfinfo "$W/disk.E01" >"$OUT/disk.E01.ewfinfo.txt"
run ewfexport -u -q -t "$W/ewf-export" -f raw "$W/disk.E01" </dev/null
run qemu-img convert -c -O qcow2 -o compat=1.1,compression_type=zlib "$W/disk.raw" "$OUT/disk.qcow2"
run qemu-img convert -O vmdk -o subformat=streamOptimized "$W/disk.raw" "$OUT/disk.vmdk"
run qemu-img convert -O vhdx -o subformat=dynamic "$W/disk.raw" "$W/disk.vhdx"
gzip -9n -c "$W/disk.vhdx" >"$OUT/disk.vhdx.gz"
declare -A BACK
BACK[disk.E01]=$(sha "$W/ewf-export.raw")
for f in disk.qcow2 disk.vmdk; do
  run qemu-img convert -O raw "$OUT/$f" "$W/back.raw"
  BACK[$f]=$(sha "$W/back.raw")
done
run qemu-img convert -O raw "$W/disk.vhdx" "$W/back.raw"
BACK[disk.vhdx]=$(sha "$W/back.raw")

DISK_SHA=$(sha "$W/disk.raw")
for f in "${!BACK[@]}"; do
  [ "${BACK[$f]}" = "$DISK_SHA" ] || { echo "$f converts back to ${BACK[$f]}" >&2; exit 1; }
done

# --- manifest -------------------------------------------------------------
{
  echo '{'
  echo "  \"source_image\": \"$SRC\","
  echo "  \"disk_size\": $(stat -c %s "$W/disk.raw"),"
  echo "  \"disk_sha256\": \"$DISK_SHA\","
  echo "  \"lv\": \"vg0/docker\","
  echo "  \"lv_sha256\": \"$(sha "$W/docker.ext4")\","
  echo "  \"lvs\": \"$(sed 's/^ *//; s/ *$//; s/  */ /g' "$W/lvs.txt" | paste -sd ';')\","
  echo "  \"converted_back_sha256\": {"
  echo "    \"disk.E01\": \"${BACK[disk.E01]}\", \"disk.qcow2\": \"${BACK[disk.qcow2]}\","
  echo "    \"disk.vmdk\": \"${BACK[disk.vmdk]}\", \"disk.vhdx\": \"${BACK[disk.vhdx]}\""
  echo '  },'
  echo "  \"tools\": {\"ewfacquire\": \"$(ewfacquire -V | head -1)\","
  echo "            \"qemu-img\": \"$(qemu-img --version | head -1)\","
  echo "            \"lvm\": \"$(lvm version 2>/dev/null | head -1 | sed 's/^ *//; s/  */ /g')\","
  echo "            \"sfdisk\": \"$(sfdisk --version)\"},"
  echo '  "commands": ['
  n=${#CMDS[@]}
  for i in "${!CMDS[@]}"; do
    c=${CMDS[$i]//$W/WORK}
    c=${c//$P/LOOP}
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
du -sh --apparent-size "$OUT"

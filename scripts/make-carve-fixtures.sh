#!/usr/bin/env bash
# make-carve-fixtures.sh: build testdata/carve/carve.img.gz + carve.json (ground truth).
#
#   sudo bash scripts/make-carve-fixtures.sh
#
# A real-kernel ext4 image (loop mount, 4 KiB blocks, NO journal so that deleted
# depth-0 inodes leave no block map anywhere and the files can only come back by
# carving). No dockerd: files are written into plain directories laid out like a
# Docker root (overlay2/<64hex>/diff, containers/<64hex>/), which is enough for
# carving. Files of every carvable type are generated, some fragmented on purpose
# (a keeper file is appended between two halves of a file, with sync between), the
# block map of each is recorded with `debugfs -R "stat PATH"` before deletion, then
# they are deleted. One extra PNG is written with >4 extents (depth-1 tree): its map
# survives deletion, `recover` gets it back, and carving must NOT report it again.
# Needs: root, mkfs.ext4, debugfs, python3, openssl, xz, bzip2, zstd, gzip,
# ImageMagick `convert` (JPEG/GIF).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/testdata/carve
WORK=${WORK:-/tmp/fx-carve}
export DEBUGFS_PAGER=__none__ PAGER=__none__ LC_ALL=C TZ=UTC
[ "$(id -u)" = 0 ] || { echo "run as root (loop mounts)" >&2; exit 1; }
for t in mkfs.ext4 debugfs python3 openssl xz bzip2 zstd gzip convert; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
mountpoint -q "$WORK/m" 2>/dev/null && umount "$WORK/m"
rm -rf "$WORK"; mkdir -p "$WORK/src" "$WORK/m" "$OUT"
IMG=$WORK/carve.img
M=$WORK/m
S=$WORK/src
trap 'mountpoint -q "$M" && umount "$M" || true' EXIT

# ---- generate the sample files (deterministic where the tools allow) ----
python3 - "$S" <<'PYEOF'
import gzip, bz2, io, json, os, random, sqlite3, struct, sys, tarfile, zipfile, zlib
S = sys.argv[1]
rnd = random.Random(1234)
def w(name, data):
    open(os.path.join(S, name), 'wb').write(data)
def text(n, seed):
    r = random.Random(seed); out = []; size = 0; i = 0
    while size < n:
        line = f"{seed} line {i} {r.getrandbits(64):016x} the quick brown fox {r.random():.6f}\n"
        out.append(line); size += len(line); i += 1
    return ''.join(out)[:n].encode()
# PNG (noisy gradient, ~70 KiB)
wd, ht = 160, 120
raw = b''.join(b'\0' + bytes((x * 3 + rnd.randrange(64)) & 255 for x in range(wd * 3)) for y in range(ht))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', wd, ht, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
w('image.png', png)
png2 = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', wd, ht, 8, 2, 0, 0, 0)) + chunk(b'tEXt', b'Comment\0dedup') + chunk(b'IDAT', zlib.compress(raw[::-1], 9)) + chunk(b'IEND', b'')
w('dedup.png', png2)
# PDF
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"]
stream = text(30000, 'pdf')
objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
pdf = b"%PDF-1.4\n"; offs = []
for i, o in enumerate(objs):
    offs.append(len(pdf)); pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b''.join(b"%010d 00000 n \n" % o for o in offs)
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
w('doc.pdf', pdf)
# ZIP family
def mkzip(members, comment=b''):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            zi = zipfile.ZipInfo(n, (2023, 11, 14, 22, 13, 20)); zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, d)
        z.comment = comment
    return b.getvalue()
w('archive.zip', mkzip([('a.txt', text(20000, 'za')), ('b/rand.bin', rnd.randbytes(9000))], b'carve fixture comment'))
w('report.docx', mkzip([('[Content_Types].xml', b'<?xml version="1.0"?><Types/>'), ('word/document.xml', text(15000, 'docx')), ('docProps/app.xml', rnd.randbytes(5000))]))
w('app.jar', mkzip([('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\r\nMain-Class: A\r\n\r\n'), ('A.class', rnd.randbytes(7000))]))
# gzip: text with random tail (not block aligned size)
w('data.gz', gzip.compress(text(120000, 'gz') + rnd.randbytes(3001), 9, mtime=1700000000))
# tar (python pads to 10240)
b = io.BytesIO()
with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as t:
    for n, d in [('etc/app.conf', text(3000, 'tar1')), ('bin/blob', rnd.randbytes(6000))]:
        ti = tarfile.TarInfo(n); ti.size = len(d); ti.mtime = 1700000000; t.addfile(ti, io.BytesIO(d))
w('layer.tar', b.getvalue())
w('notes.bz2', bz2.compress(text(80000, 'bz') + rnd.randbytes(2000), 9))
# SQLite
p = os.path.join(S, 'app.sqlite')
if os.path.exists(p): os.remove(p)
c = sqlite3.connect(p); c.execute('create table t(id integer primary key, v text)')
c.executemany('insert into t(v) values(?)', [(text(300, f'sq{i}').decode(),) for i in range(200)])
c.commit(); c.close()
# shell script
w('entrypoint.sh', b"#!/bin/sh\nset -e\n" + b''.join(b"echo step %d: configuring service\n" % i for i in range(150)) + b"exec \"$@\"\n")
# Docker-ish JSON
cid = 'c0ffee' + 'ab' * 29
conf = {"StreamConfig": {}, "State": {"Running": False, "Paused": False, "Pid": 0, "ExitCode": 0,
        "StartedAt": "2023-11-14T22:13:21.123456789Z", "FinishedAt": "2023-11-14T22:20:00.5Z"},
        "ID": cid, "Created": "2023-11-14T22:13:20.000000001Z", "Path": "/bin/sh",
        "Args": ["-c", "while true; do date; sleep 1; done"],
        "Config": {"Hostname": cid[:12], "Image": "base:1", "Cmd": ["/bin/sh", "-c", "loop"]},
        "Image": "sha256:" + 'd' * 64, "Name": "/gone_worker", "Driver": "overlay2",
        "GraphDriver": {"Data": {"UpperDir": "/var/lib/docker/overlay2/" + 'e' * 64 + "/diff"}, "Name": "overlay2"},
        "Pad": text(5000, 'conf').decode()}
w('config.v2.json', json.dumps(conf, separators=(',', ':')).encode())
w('hostconfig.json', json.dumps({"Binds": None, "NetworkMode": "none", "RestartPolicy": {"Name": "no"}, "LogConfig": {"Type": "json-file"}, "Pad": text(3000, 'hc').decode()}, separators=(',', ':')).encode())
log = b''.join(json.dumps({"log": f"tick {i} {random.Random(i).getrandbits(48):012x}\n", "stream": "stdout" if i % 3 else "stderr", "time": f"2023-11-14T22:{13 + i // 600:02d}:{(i // 10) % 60:02d}.{i:09d}Z"}, separators=(',', ':')).encode() + b'\n' for i in range(400))
w(cid + '-json.log', log)
# binary-ish payloads for JPEG/GIF via ImageMagick
PYEOF
convert -seed 7 -size 240x180 plasma:fractal -quality 92 "$S/photo.jpg"
convert -seed 9 -size 480x360 plasma:fractal -quality 95 "$S/frag.jpg"
convert -seed 11 -size 160x120 plasma:fractal "$S/anim.gif"
python3 -c "import lzma,sys; d=open('$S/entrypoint.sh','rb').read()*40; open('$S/backup.xz','wb').write(lzma.compress(d+open('/bin/true','rb').read(), check=lzma.CHECK_CRC64))"
cat "$S/doc.pdf" "$S/entrypoint.sh" "$S/doc.pdf" | zstd -q -19 --check -o "$S/blob.zst"
cp /bin/true "$S/true.elf"
openssl genrsa -out "$S/server.key" 2048 2>/dev/null
openssl req -new -x509 -key "$S/server.key" -subj /CN=carve.test -days 3650 -out "$S/server.crt" 2>/dev/null

# ---- the image ----
rm -f "$IMG"; truncate -s 40M "$IMG"
mkfs.ext4 -q -F -b 4096 -O ^has_journal -L carve -U 5a5a5a5a-0000-4000-8000-000000000005 -E hash_seed=5a5a5a5a-0000-4000-8000-000000000006 "$IMG"
mount -o loop "$IMG" "$M"
D=$M/var/lib/docker
C1=c0ffee$(printf 'ab%.0s' $(seq 29))
L1=$(printf 'e%.0s' $(seq 64))
L2=$(printf '7%.0s' $(seq 64))
mkdir -p "$D/containers/$C1" "$D/overlay2/$L1/diff/app" "$D/overlay2/$L2/diff/etc" "$M/home/user"
# keepers: live files placed between the deleted ones (stay allocated)
head -c 300000 /dev/zero | tr '\0' 'K' > "$M/home/user/keeper0"; sync
declare -A DEST=(
  [photo.jpg]=$D/overlay2/$L1/diff/app/photo.jpg
  [image.png]=$D/overlay2/$L1/diff/app/image.png
  [anim.gif]=$D/overlay2/$L1/diff/app/anim.gif
  [doc.pdf]=$M/home/user/doc.pdf
  [archive.zip]=$M/home/user/archive.zip
  [report.docx]=$M/home/user/report.docx
  [app.jar]=$D/overlay2/$L2/diff/etc/app.jar
  [data.gz]=$D/overlay2/$L2/diff/etc/data.gz
  [layer.tar]=$M/home/user/layer.tar
  [notes.bz2]=$M/home/user/notes.bz2
  [backup.xz]=$M/home/user/backup.xz
  [blob.zst]=$M/home/user/blob.zst
  [true.elf]=$D/overlay2/$L2/diff/etc/true
  [app.sqlite]=$D/overlay2/$L1/diff/app/app.sqlite
  [server.key]=$D/overlay2/$L2/diff/etc/server.key
  [server.crt]=$D/overlay2/$L2/diff/etc/server.crt
  [entrypoint.sh]=$D/overlay2/$L1/diff/app/entrypoint.sh
  [config.v2.json]=$D/containers/$C1/config.v2.json
  [hostconfig.json]=$D/containers/$C1/hostconfig.json
  [$C1-json.log]=$D/containers/$C1/$C1-json.log
)
ORDER="photo.jpg image.png anim.gif doc.pdf archive.zip report.docx app.jar data.gz layer.tar notes.bz2 backup.xz blob.zst true.elf app.sqlite server.key server.crt entrypoint.sh config.v2.json hostconfig.json $C1-json.log"
i=0
for f in $ORDER; do
  cp "$S/$f" "${DEST[$f]}"; sync
  i=$((i+1))
  # a small live file after every deleted one, so free space is interleaved with used
  head -c 5000 /dev/zero | tr '\0' 'k' > "$M/home/user/keep$i"; sync
done
# two-fragment JPEG: first half, a live keeper, second half
FJ=$D/overlay2/$L1/diff/app/frag.jpg
half=$(( $(stat -c %s "$S/frag.jpg") / 2 ))
head -c "$half" "$S/frag.jpg" > "$FJ"; sync
head -c 20000 /dev/zero | tr '\0' 'F' > "$M/home/user/keeper-frag"; sync
tail -c +$((half+1)) "$S/frag.jpg" >> "$FJ"; sync
# depth-1 PNG (>4 extents, one block every other block): its map survives deletion
python3 - "$S/dedup.png" "$M/home/user/dedup.png" <<'PYEOF'
import os, sys
d = open(sys.argv[1], 'rb').read(); fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(0, len(d), 4096):
    os.pwrite(fd, d[i:i + 4096], i * 2); os.fsync(fd)
os.close(fd)
PYEOF
sync
umount "$M"

# ---- ground truth (block maps before deletion) ----
: > "$WORK/list.tsv"
for f in $ORDER frag.jpg dedup.png; do
  case $f in frag.jpg) d=$FJ ;; dedup.png) d=$M/home/user/dedup.png ;; *) d=${DEST[$f]} ;; esac
  printf '%s\t%s\n' "$f" "${d#"$M"}" >> "$WORK/list.tsv"
done
python3 - "$IMG" "$S" "$WORK/list.tsv" "$OUT/carve.json" <<'PYEOF'
import hashlib, json, re, subprocess, sys
img, S, lst, out = sys.argv[1:5]
TYPES = {'jpg': 'jpg', 'png': 'png', 'gif': 'gif', 'pdf': 'pdf', 'zip': 'zip', 'docx': 'docx', 'jar': 'jar',
         'gz': 'gz', 'tar': 'tar', 'bz2': 'bz2', 'xz': 'xz', 'zst': 'zst', 'elf': 'elf', 'sqlite': 'sqlite',
         'key': 'pem', 'crt': 'pem', 'sh': 'sh', 'json': 'json', 'log': 'log'}
files = []
for line in open(lst):
    name, path = line.rstrip('\n').split('\t')
    st = subprocess.run(['debugfs', '-R', f'stat "{path}"', img], capture_output=True, text=True).stdout
    runs = []
    for m in re.finditer(r'\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?', st.split('EXTENTS:')[-1]):
        l0, l1, p0, p1 = m.groups()
        runs.append({'logical': int(l0), 'physical': int(p0), 'len': int(l1 or l0) - int(l0) + 1})
    data = open(f'{S}/{name}', 'rb').read()
    ext = name.rsplit('.', 1)[-1]
    files.append({'name': name, 'path': path, 'type': TYPES[ext], 'size': len(data),
                  'sha256': hashlib.sha256(data).hexdigest(), 'offset': runs[0]['physical'] * 4096 if runs else None,
                  'runs': runs, 'fragments': len(runs),
                  'dedup': name == 'dedup.png'})
json.dump({'image': 'carve.img.gz', 'block_size': 4096, 'journal': False,
           'notes': 'real kernel ext4 (loop mount), no journal, no dockerd: Docker-like plain directories; '
                    'dedup.png is sparse with a depth-1 extent tree whose map survives deletion (recover gets it; carve must skip it)',
           'files': files}, open(out, 'w'), indent=1)
print(f'{len(files)} files recorded')
PYEOF
mount -o loop "$IMG" "$M"
while IFS=$'\t' read -r f d; do rm -f "$M$d"; done < "$WORK/list.tsv"
sync; umount "$M"
gzip -9n -c "$IMG" > "$OUT/carve.img.gz"
ls -l "$OUT"

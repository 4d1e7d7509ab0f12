#!/usr/bin/env bash
# make-carve-docker-fixture.sh: build testdata/carve-docker/carve-docker.img.gz and
# carve-docker.json (ground truth), a carving fixture written by a real dockerd.
#
#   sudo bash scripts/make-carve-docker-fixture.sh
#
# A 128 MiB ext4 image (4 KiB blocks, 4096 blocks per group: 8 block groups, flex_bg
# of 2, NO journal, TOPDIR flag on overlay2/: a journal would keep pre-deletion inode copies and metadata
# recovery would get the files back, leaving nothing new to carve). Debian's dockerd
# 20.10 runs on it (overlay2, json-file logs) in a private mount namespace with the
# image's Docker root bound at /var/lib/docker, so the paths it records are a real
# host's. Three containers of a busybox image (`docker import`) each write one file of
# every carvable type (scripts/carve-samples.py, one seed per container) into /data
# with `docker exec -i ... cat`, with a sync after each file and a small live
# "keeper" file after each round. Fragmented on purpose:
#   - web's frag.jpg: first half, then worker writes its frag-gap.gz (deleted later),
#     then the second half: two fragments with free data (a gzip header) between;
#   - worker's frag.jpg: first half, web writes a live keeper, second half: two
#     fragments with allocated data between;
#   - gone's frag.pdf: likewise, with a live keeper of web between.
# The block map of every file is recorded with debugfs (by inode number) after a
# sync and before deletion, with its owner container, in-container path and sha256.
# Then web and worker delete their files (`docker exec rm`), gone is stopped and
# removed (`docker rm`), the daemon is stopped and the image unmounted.
# Work dir: /tmp/fx-carve-docker (wiped). Needs root, loop devices, overlayfs,
# docker.io (dockerd + docker), busybox-static, debugfs, python3, ImageMagick,
# openssl, zstd.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/testdata/carve-docker
W=${FX_CARVE_DOCKER_WORK:-/tmp/fx-carve-docker}
MNT=$W/mnt
SOCK=$W/d.sock
EXEC=$W/exec
PIDFILE=$W/dockerd.pid
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$W/client-config
export LC_ALL=C TZ=UTC DEBUGFS_PAGER=__none__ PAGER=__none__
: "${SOURCE_DATE_EPOCH:=1700000000}"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
LOOP=""
DNS=""

log() { printf '[carve-docker-fx] %s\n' "$*" >&2; }
die() { printf '[carve-docker-fx] ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (loop mounts, dockerd)"
for t in dockerd mkfs.ext4 debugfs e2fsck python3 convert openssl zstd busybox unshare; do
    command -v "$t" >/dev/null || die "missing $t"
done

# pids in our daemon's private mount namespace (dockerd, containerd, shims)
ns_pids() {
    [ -n "$DNS" ] || return 0
    [ "$DNS" != "$(readlink /proc/$$/ns/mnt)" ] || return 0
    local d
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$DNS" ] && echo "${d#/proc/}"
    done
    return 0
}
wait_gone() {
    local i p alive
    for i in $(seq 1 300); do
        alive=0
        for p in "$@"; do [ -d "/proc/$p" ] && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    return 1
}
stop_daemon() {
    local dpid="" pids
    [ -f "$PIDFILE" ] && dpid=$(cat "$PIDFILE")
    if [ -n "$dpid" ] && [ -d "/proc/$dpid" ]; then
        kill -TERM "$dpid"
        wait_gone "$dpid" || kill -9 "$dpid" || true
    fi
    pids=$(ns_pids)
    # shellcheck disable=SC2086
    if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; wait_gone $pids || kill -9 $pids 2>/dev/null || true; fi
    DNS=""
}
umount_under() {
    local mp
    while read -r mp; do
        [ -n "$mp" ] || continue
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "cannot umount $mp"
    done < <(awk -v m="$1/" 'index($2, m) == 1 { print $2 }' /proc/mounts | sort -r)
}
detach_loops() {
    local dev back
    while read -r dev back; do
        case "$back" in "$W"/*) losetup -d "$dev" 2>/dev/null || true ;; esac
    done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null || true)
    LOOP=""
}
cleanup() {
    set +e
    [ -n "$DNS" ] && stop_daemon
    sync
    umount_under "$W"
    detach_loops
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ -f "$PIDFILE" ] && [ -d "/proc/$(cat "$PIDFILE")" ] &&
    [ "$(basename "$(readlink "/proc/$(cat "$PIDFILE")/exe")")" = dockerd ]; then
    DNS=$(readlink "/proc/$(cat "$PIDFILE")/ns/mnt"); stop_daemon
fi
umount_under "$W"; detach_loops
rm -rf "$W"; mkdir -p "$W" "$MNT" "$DOCKER_CONFIG" "$OUT"

# ---- samples: one set per container
for s in 1 2 3; do python3 "$REPO/scripts/carve-samples.py" "$W/s$s" "$s"; done
python3 - "$W/gap.gz" <<'EOF'
import gzip, random, sys
r = random.Random(99)
open(sys.argv[1], 'wb').write(gzip.compress(r.randbytes(9000) + b'gap ' * 3000, 9, mtime=1700000000))
EOF

# ---- image
IMG=$W/carve-docker.img
truncate -s 128M "$IMG"
MKFS_ARGS="-T default -b 4096 -g 4096 -G 2 -N 8192 -O ^has_journal -L carvedock -U 5a5a5a5a-0000-4000-8000-00000000dc05 -E hash_seed=5a5a5a5a-0000-4000-8000-00000000dc06"
# shellcheck disable=SC2086
mkfs.ext4 -q -F $MKFS_ARGS "$IMG"
LOOP=$(losetup -f --show "$IMG")
mount -t ext4 "$LOOP" "$MNT"
mkdir -p "$MNT/etc/docker" "$MNT/var/lib/docker" "$MNT/root" "$MNT/tmp"
echo carvehost >"$MNT/etc/hostname"

# ---- dockerd in a private mount namespace, Docker root bound at /var/lib/docker
cat >"$W/ns-start.sh" <<'EOF'
#!/bin/sh
set -eu
MNT=$1; shift
mount -t tmpfs -o mode=0755,size=16m fx-carve-run /run
mount --bind "$MNT/etc/docker" /etc/docker
if [ ! -d /var/lib/docker ]; then
    mount -t tmpfs -o mode=0755,size=1m fx-carve-parent /var/lib
    mkdir -p /var/lib/docker
fi
mount --bind "$MNT/var/lib/docker" /var/lib/docker
exec dockerd --data-root /var/lib/docker "$@"
EOF
echo '{}' >"$W/dockerd-config.json"
mkdir -p "$EXEC"
setsid unshare --mount --propagation private sh "$W/ns-start.sh" "$MNT" \
    --config-file "$W/dockerd-config.json" --exec-root "$EXEC" --pidfile "$PIDFILE" \
    -H unix:///var/run/docker.sock -H "unix://$SOCK" --storage-driver overlay2 --log-driver json-file \
    --iptables=false --bridge=none --ip-masq=false >"$W/dockerd.log" 2>&1 </dev/null &
disown
for _ in $(seq 1 300); do
    if [ -f "$PIDFILE" ] && $DOCKER version >/dev/null 2>&1; then break; fi
    sleep 0.2
done
$DOCKER version >/dev/null 2>&1 || { tail -30 "$W/dockerd.log" >&2; die "dockerd did not come up"; }
DNS=$(readlink "/proc/$(cat "$PIDFILE")/ns/mnt")
[ "$DNS" != "$(readlink /proc/$$/ns/mnt)" ] || die "dockerd is not in a private mount namespace"
log "dockerd $(cat "$PIDFILE") up"
# Spread the layer dirs over the block groups like top-level dirs (Orlov honours the
# TOPDIR flag), and allocate each file near its inode's group (mb_stream_req=0: no
# shared per-CPU locality-group preallocation for small files), so that the
# containers' files sit in different block groups. Restored for the fragment round.
[ -d "$MNT/var/lib/docker/overlay2" ] || die "no overlay2 dir"
chattr +T "$MNT/var/lib/docker/overlay2"
SYSFS=/sys/fs/ext4/$(basename "$LOOP")
STREAM_REQ=$(cat "$SYSFS/mb_stream_req")
echo 0 >"$SYSFS/mb_stream_req"

# ---- busybox base image
R=$W/rootfs
mkdir -p "$R"/bin "$R"/etc "$R"/root "$R"/proc "$R"/sys "$R"/dev "$R"/data "$R"/tmp
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh ls cat rm mkdir echo sleep head tail sync dd seq true date; do ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
tar --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" --sort=name -C "$R" -cf - . |
    $DOCKER import -m "busybox rootfs for the carving fixture" -c 'CMD ["/bin/sh"]' - base:1 >/dev/null

# ---- three containers
$DOCKER run -d --name web --network none --hostname web01 base:1 \
    sh -c 'echo "web up"; i=0; while [ $i -lt 50 ]; do echo "web request $i GET /index.html 200"; i=$((i+1)); done; exec sleep 100000' >/dev/null
$DOCKER run -d --name worker --network none base:1 \
    sh -c 'echo "worker ready"; exec sleep 100000' >/dev/null
$DOCKER run -d --name gone --network none -e ROLE=batch base:1 \
    sh -c 'i=0; while [ $i -lt 300 ]; do echo "gone batch item $i processed ok"; i=$((i+1)); done; exec sleep 100000' >/dev/null
sleep 1
sync

TYPES="photo.jpg image.png anim.gif doc.pdf archive.zip report.docx app.jar data.gz layer.tar notes.bz2 backup.xz blob.zst tool.elf app.sqlite server.key server.crt entrypoint.sh settings.json"
CTS="web worker gone"
declare -A SEED=([web]=1 [worker]=2 [gone]=3)
put() { # container src dest-in-container
    $DOCKER exec -i "$1" sh -c "cat > '$3'" <"$2"
    sync
}
append_half() { # container src dest half(1|2)
    local n h
    n=$(stat -c %s "$2"); h=$((n / 2))
    if [ "$4" = 1 ]; then head -c "$h" "$2"; else tail -c +$((h + 1)) "$2"; fi |
        $DOCKER exec -i "$1" sh -c "cat >> '$3'"
    sync
}
keeper() { # container name size: a live file that stays
    head -c "$3" /dev/zero | tr '\0' "${1:0:1}" | $DOCKER exec -i "$1" sh -c "cat > '/data/$2'"
    sync
}
: >"$W/list.tsv"   # container name in-container-path src deleted
round=0
for f in $TYPES; do
    for c in $CTS; do
        put "$c" "$W/s${SEED[$c]}/$f" "/data/$f"
        printf '%s\t%s\t%s\t%s\t1\n' "$c" "$f" "/data/$f" "$W/s${SEED[$c]}/$f" >>"$W/list.tsv"
    done
    round=$((round + 1))
    for c in $CTS; do keeper "$c" "keep$round" 6000; done
done
# default allocator again: small appends share the per-CPU locality-group
# preallocation, so two containers' interleaved appends interleave on disk
echo "$STREAM_REQ" >"$SYSFS/mb_stream_req"
# web's frag.jpg around worker's deleted gzip
append_half web "$W/s1/frag.jpg" /data/frag.jpg 1
put worker "$W/gap.gz" /data/frag-gap.gz
append_half web "$W/s1/frag.jpg" /data/frag.jpg 2
# worker's frag.jpg around a live keeper of web
append_half worker "$W/s2/frag.jpg" /data/frag.jpg 1
keeper web keep-frag1 20000
append_half worker "$W/s2/frag.jpg" /data/frag.jpg 2
# gone's frag.pdf around a live keeper of web
cp "$W/s3/doc.pdf" "$W/s3/frag.pdf"
python3 - "$W/s3/frag.pdf" <<'EOF'
import sys
p = sys.argv[1]; d = open(p, 'rb').read()
open(p, 'wb').write(d.replace(b'%%EOF', b'% padding ' + b'frag ' * 6000 + b'\n%%EOF'))
EOF
append_half gone "$W/s3/frag.pdf" /data/frag.pdf 1
keeper web keep-frag2 20000
append_half gone "$W/s3/frag.pdf" /data/frag.pdf 2
{
    printf 'web\tfrag.jpg\t/data/frag.jpg\t%s\t1\n' "$W/s1/frag.jpg"
    printf 'worker\tfrag-gap.gz\t/data/frag-gap.gz\t%s\t1\n' "$W/gap.gz"
    printf 'worker\tfrag.jpg\t/data/frag.jpg\t%s\t1\n' "$W/s2/frag.jpg"
    printf 'gone\tfrag.pdf\t/data/frag.pdf\t%s\t1\n' "$W/s3/frag.pdf"
} >>"$W/list.tsv"
sleep 1
sync

# ---- ground truth before deletion
# shellcheck disable=SC2086
$DOCKER inspect $CTS >"$W/inspect.json"
python3 - "$IMG" "$MNT" "$W/inspect.json" "$W/list.tsv" "$W/truth.json" <<'PYEOF'
import hashlib, json, os, re, subprocess, sys
img, mnt, insp, lst, out = sys.argv[1:6]
TYPES = {'jpg': 'jpg', 'png': 'png', 'gif': 'gif', 'pdf': 'pdf', 'zip': 'zip', 'docx': 'docx', 'jar': 'jar',
         'gz': 'gz', 'tar': 'tar', 'bz2': 'bz2', 'xz': 'xz', 'zst': 'zst', 'elf': 'elf', 'sqlite': 'sqlite',
         'key': 'pem', 'crt': 'pem', 'sh': 'sh', 'json': 'json'}
cts = {}
for c in json.load(open(insp)):
    name = c['Name'].lstrip('/')
    cts[name] = {'id': c['Id'], 'name': c['Name'], 'image': c['Config']['Image'], 'image_id': c['Image'],
                 'path': c['Path'], 'args': c['Args'], 'cmd': c['Config']['Cmd'], 'created': c['Created'],
                 'started_at': c['State']['StartedAt'],
                 'upper_dir': c['GraphDriver']['Data']['UpperDir'],
                 'mount_id': c['GraphDriver']['Data']['UpperDir'].split('/')[-2],
                 'removed': name == 'gone'}
files = []
for line in open(lst):
    c, name, path, src, deleted = line.rstrip('\n').split('\t')
    host = cts[c]['upper_dir'] + path
    ino = os.stat(mnt + host).st_ino
    st = subprocess.run(['debugfs', '-R', f'stat <{ino}>', img], capture_output=True, text=True).stdout
    runs = []
    for m in re.finditer(r'\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?', st.split('EXTENTS:')[-1]):
        l0, l1, p0, p1 = m.groups()
        runs.append({'logical': int(l0), 'physical': int(p0), 'len': int(l1 or l0) - int(l0) + 1})
    data = open(src, 'rb').read()
    disk = open(mnt + host, 'rb').read()
    assert disk == data, (c, name)
    files.append({'container': c, 'container_id': cts[c]['id'], 'name': name, 'path': path,
                  'host_path': host, 'inode': ino, 'type': TYPES[name.rsplit('.', 1)[-1]], 'size': len(data),
                  'sha256': hashlib.sha256(data).hexdigest(),
                  'offset': runs[0]['physical'] * 4096 if runs else None, 'runs': runs, 'fragments': len(runs)})
json.dump({'containers': cts, 'files': files}, open(out, 'w'), indent=1)
print(f'{len(files)} files recorded', file=sys.stderr)
PYEOF

# ---- deletion
for c in web worker; do
    # shellcheck disable=SC2046
    $DOCKER exec "$c" rm $(awk -F'\t' -v c="$c" '$1 == c { print $3 }' "$W/list.tsv")
done
sync
$DOCKER stop -t 1 gone >/dev/null
$DOCKER rm gone >/dev/null
$DOCKER stop -t 1 web worker >/dev/null
sync
stop_daemon
sleep 1
umount_under "$W"
losetup -d "$LOOP"; LOOP=""
e2fsck -fn "$IMG" >"$W/fsck.txt" 2>&1 || { cat "$W/fsck.txt" >&2; die "e2fsck reports errors"; }

python3 - "$W/truth.json" "$OUT/carve-docker.json" "$MKFS_ARGS" "$($DOCKER version -f '{{.Server.Version}}' 2>/dev/null || dockerd --version)" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))
t = {'image': 'carve-docker.img.gz', 'block_size': 4096, 'blocks_per_group': 4096, 'journal': False,
     'mkfs': 'mkfs.ext4 -q -F ' + sys.argv[3], 'docker_root': '/var/lib/docker', 'dockerd': sys.argv[4],
     'notes': 'real dockerd (overlay2) on a loop-mounted ext4 without journal; every file below was written '
              'inside its container, then deleted: web and worker with docker exec rm, gone by docker rm; '
              'runs from debugfs before deletion',
     **t}
json.dump(t, open(sys.argv[2], 'w'), indent=1)
PYEOF
gzip -9n -c "$IMG" >"$OUT/carve-docker.img.gz"
ls -l "$OUT"

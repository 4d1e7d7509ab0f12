#!/usr/bin/env bash
# make-large-docker-host.sh: build a LARGE real Docker host on a sparse ext4 image, for
# benchmarks (scripts/bench-anchors.sh). Never commit the output.
#
#   sudo bash scripts/make-large-docker-host.sh [OUTDIR]      # default: large/docker-host beside the repository
#
# A real dockerd (Debian docker.io 20.10, overlay2, classic builder) writes onto a
# loop-mounted ext4 of LARGE_SIZE (default 20G, sparse). Contents:
#   - base:1 (docker import of a busybox rootfs) and four multi-layer images built with
#     DOCKER_BUILDKIT=0 from generated tarballs (ADD): LARGE_TARS tarballs of
#     LARGE_FILES_PER_TAR files each (default 6 x 150,000 = 900,000 layer files), plus
#     RUN layers that delete (whiteouts, an opaque dir);
#   - LARGE_CONTAINERS containers (default 50) run in parallel: each logs and writes
#     files in its r/w layer; half delete image files (whiteouts, opaque dir, copy-up)
#     and write-then-delete files; every 5th writes LARGE_DELETED_MB (default 300) of
#     random data, a tar.gz and an ELF, syncs and deletes them (deleted data in freed
#     blocks, ~3 GB in all); 5 are left running and the daemon is killed (crash);
#     the last 6 are removed with docker rm.
# The build containers of the classic builder are removed after each step, so their
# r/w copies of the ADDed trees are also freed (about as many deleted inodes as live).
#
# dockerd, containerd and the shims run in a private mount namespace in which the
# image's /var/lib/docker and /etc/docker are bind-mounted at those paths (as in
# scripts/make-docker-fixtures.sh), with --exec-root/--pidfile/socket under OUTDIR, so
# it does not clash with another dockerd. Output: OUTDIR/docker-host.img (sparse) and
# OUTDIR/summary.json (counts, docker ps -a, images). Needs root, loop, overlayfs,
# ~10 GB of real disk.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${1:-$(dirname "$REPO")/large/docker-host}
W=$(mkdir -p "$W" && cd "$W" && pwd)
MNT=$W/mnt
SOCK=/tmp/d8.sock
EXEC=$W/exec
PIDFILE=$W/dockerd.pid
IMG=$W/docker-host.img
DOCKER=/usr/bin/docker           # Debian docker.io client (matches the daemon)
SIZE=${LARGE_SIZE:-20G}
NTARS=${LARGE_TARS:-6}
PERTAR=${LARGE_FILES_PER_TAR:-150000}
NCT=${LARGE_CONTAINERS:-50}
DELMB=${LARGE_DELETED_MB:-300}
export DOCKER_HOST=unix://$SOCK DOCKER_BUILDKIT=0 DOCKER_CONFIG=$W/client-config
export LC_ALL=C TZ=UTC
: "${SOURCE_DATE_EPOCH:=1700000000}"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH

LOOP=""
DNS=""
CT_PIDS=()
CG_IDS=()
CG_PRE=$(ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null || true)
T0=$(date +%s)

log() { printf '[large-docker %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { printf '[large-docker] ERROR: %s\n' "$*" >&2; exit 1; }

workdir_reset() { rm -rf "$W"/mnt "$W"/exec "$W"/ctx "$W"/rootfs "$IMG" "$W"/*.log; mkdir -p "$DOCKER_CONFIG"; }
# shellcheck source=scripts/lib-dockerd.sh
. "$(dirname "$0")/lib-dockerd.sh"

host_tree() { # hostname
    install -d -m 0755 "$MNT"/etc/docker "$MNT"/etc/systemd/system "$MNT"/var/lib "$MNT"/var/log \
        "$MNT"/root "$MNT"/home/ops "$MNT"/srv "$MNT"/usr/bin "$MNT"/run
    install -d -m 1777 "$MNT"/tmp
    echo "$1" >"$MNT"/etc/hostname
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$1" >"$MNT"/etc/hosts
    cat >"$MNT"/etc/os-release <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
EOF
    cat >"$MNT"/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
dockremap:x:999:999::/home/dockremap:/bin/false
ops:x:1000:1000:Ops User,,,:/home/ops:/bin/bash
EOF
    cat >"$MNT"/etc/group <<'EOF'
root:x:0:
daemon:x:1:
nogroup:x:65534:
dockremap:x:999:
docker:x:998:ops
ops:x:1000:
EOF
    printf 'ops:100000:65536\ndockremap:165536:65536\n' >"$MNT"/etc/subuid
    printf 'ops:100000:65536\ndockremap:165536:65536\n' >"$MNT"/etc/subgid
    chown 1000:1000 "$MNT"/home/ops
}

# Start dockerd in a private mount namespace; DROOT is the Docker root as seen on the
# imaged host (/var/lib/docker, /srv/docker-data); USERFILES=1 also binds the image's
# /etc/passwd, group, subuid, subgid (userns-remap reads them).
start_daemon() { # fixture DROOT USERFILES extra-dockerd-args...
    local fx=$1 droot=$2 userfiles=$3 i
    shift 3
    rm -rf "$EXEC"; mkdir -p "$EXEC" "$MNT$droot"
    rm -f "$SOCK" "$PIDFILE"
    echo '{}' >"$W/dockerd-config.json"
    cat >"$W/ns-start.sh" <<'EOF'
#!/bin/sh
# runs inside `unshare --mount` (private propagation): show the image at real paths
set -eu
MNT=$1; DROOT=$2; USERFILES=$3; shift 3
mount -t tmpfs -o mode=0755,size=16m large-docker-run /run
mount --bind "$MNT/etc/docker" /etc/docker
if [ "$USERFILES" = 1 ]; then
    for f in passwd group subuid subgid; do mount --bind "$MNT/etc/$f" "/etc/$f"; done
fi
if [ ! -d "$DROOT" ]; then
    # e.g. /var/lib/docker does not exist on this machine: put a tmpfs on its parent
    mount -t tmpfs -o mode=0755,size=1m large-docker-parent "$(dirname "$DROOT")"
    mkdir -p "$DROOT"
fi
mount --bind "$MNT$DROOT" "$DROOT"
exec dockerd --data-root "$DROOT" "$@"
EOF
    setsid unshare --mount --propagation private sh "$W/ns-start.sh" "$MNT" "$droot" "$userfiles" \
        --config-file "$W/dockerd-config.json" \
        --exec-root "$EXEC" --pidfile "$PIDFILE" \
        -H unix:///var/run/docker.sock -H "unix://$SOCK" \
        --storage-driver "${FX_DRIVER:-overlay2}" --log-driver json-file \
        --iptables=false --bridge=none --ip-masq=false \
        "$@" >"$W/dockerd-$fx.log" 2>&1 </dev/null &
    disown
    for i in $(seq 1 300); do
        if [ -f "$PIDFILE" ] && $DOCKER version >/dev/null 2>&1; then break; fi
        sleep 0.2
    done
    $DOCKER version >/dev/null 2>&1 || { tail -30 "$W/dockerd-$fx.log" >&2; die "dockerd did not come up"; }
    DNS=$(readlink "/proc/$(cat "$PIDFILE")/ns/mnt")
    [ "$DNS" != "$(readlink /proc/$$/ns/mnt)" ] || die "dockerd is not in a private mount namespace"
    log "$fx: dockerd $(cat "$PIDFILE") up, $($DOCKER info -f '{{.DockerRootDir}} {{.Driver}}')"
}

# busybox rootfs -> docker import base:1
import_base() {
    local r=$W/rootfs a
    rm -rf "$r"
    mkdir -p "$r"/bin "$r"/etc "$r"/root "$r"/proc "$r"/sys "$r"/dev "$r"/var/log "$r"/usr/bin "$r"/home
    install -d -m 1777 "$r"/tmp
    cp /bin/busybox "$r"/bin/busybox
    for a in sh ash ls cat rm rmdir mkdir echo sleep printf head tail yes sync touch chmod chown \
        cp mv ln sed grep wc date true false id env sha256sum dd seq find stat hostname uname \
        ps kill tar gzip vi; do
        ln -s busybox "$r/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r"/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r"/etc/group
    echo "busybox fixture rootfs" >"$r"/etc/motd
    tar --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" --sort=name -C "$r" -cf - . |
        $DOCKER import -m "busybox rootfs for whiteout fixtures" -c 'CMD ["/bin/sh"]' - base:1 >/dev/null
}

# ---------------------------------------------------------------- generated layer tarballs

# Tarball k: PERTAR files in dirs of 100 (d0000/f000000.txt ...), ~35% empty, others
# 64..4000 bytes of text naming the file; deterministic. Written straight into the
# build contexts (ADD of a local tar extracts it into the layer).
gen_tars() {
    local k pids=()
    for k in $(seq 1 "$NTARS"); do
        python3 - "$W/ctx/t$k.tar" "$k" "$PERTAR" "$SOURCE_DATE_EPOCH" <<'PY' &
import io, random, sys, tarfile
out, k, n, epoch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(k)
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(n):
        if i % 100 == 0:
            d = tarfile.TarInfo(f"d{i // 100:04d}")
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, epoch
            t.addfile(d)
        ti = tarfile.TarInfo(f"d{i // 100:04d}/f{i:06d}.txt")
        ti.mode, ti.mtime = 0o644, epoch + i
        r = rnd.random()
        if r < 0.35:
            data = b""
        else:
            line = f"LARGE-T{k} layer file {i:06d} of tarball {k}\n".encode()
            data = (line * (1 + int(rnd.random() ** 2 * 4000) // len(line)))[:4000]
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
PY
        pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k"; done
}

build_images() {
    local C=$W/ctx n=$NTARS
    # app:1 = base + t1 + t2 + a RUN that deletes (whiteouts); app:2 = app:1 + t3 + opaque dir
    # web:1 = base + t4 + t5; db:1 = base + t6.. + a RUN that deletes
    mkdir -p "$C/app1" "$C/app2" "$C/web1" "$C/db1"
    mv "$C/t1.tar" "$C/app1/"; mv "$C/t2.tar" "$C/app1/" 2>/dev/null || true
    mv "$C/t3.tar" "$C/app2/" 2>/dev/null || true
    mv "$C/t4.tar" "$C/web1/" 2>/dev/null || true; mv "$C/t5.tar" "$C/web1/" 2>/dev/null || true
    local k; for k in $(seq 6 "$n"); do mv "$C/t$k.tar" "$C/db1/"; done
    { echo 'FROM base:1'
      for f in "$C"/app1/t*.tar; do b=$(basename "$f" .tar); echo "ADD $b.tar /srv/$b/"; done
      echo 'RUN rm -rf /srv/t1/d0007 && rm -f /srv/t1/d0001/f000110.txt /srv/t1/d0001/f000111.txt && echo LARGE-APP-RUN > /srv/run.txt'
      echo 'LABEL role=app'
      echo 'CMD ["/bin/sh"]'; } >"$C/app1/Dockerfile"
    { echo 'FROM base:1'
      for f in "$C"/web1/t*.tar; do b=$(basename "$f" .tar); echo "ADD $b.tar /var/www/$b/"; done
      echo 'LABEL role=web'; } >"$C/web1/Dockerfile"
    { echo 'FROM base:1'
      for f in "$C"/db1/t*.tar; do b=$(basename "$f" .tar); echo "ADD $b.tar /var/db/$b/"; done
      echo 'RUN rm -rf /var/db/t6/d0003 && echo LARGE-DB-RUN > /var/db/run.txt'
      echo 'LABEL role=db'; } >"$C/db1/Dockerfile"
    log "building app:1 web:1 db:1 in parallel"
    $DOCKER build -q -t app:1 "$C/app1" >"$W/build-app1.log" 2>&1 &
    local p1=$!
    $DOCKER build -q -t web:1 "$C/web1" >"$W/build-web1.log" 2>&1 &
    local p2=$!
    $DOCKER build -q -t db:1 "$C/db1" >"$W/build-db1.log" 2>&1 &
    local p3=$!
    wait $p1 || die "app:1 build failed: $(tail -5 "$W/build-app1.log")"
    wait $p2 || die "web:1 build failed: $(tail -5 "$W/build-web1.log")"
    wait $p3 || die "db:1 build failed: $(tail -5 "$W/build-db1.log")"
    { echo 'FROM app:1'
      for f in "$C"/app2/t*.tar; do b=$(basename "$f" .tar); echo "ADD $b.tar /srv/$b/"; done
      echo 'RUN rm -rf /srv/t2/d0004 && mkdir /srv/t2/d0004 && echo LARGE-OPAQUE > /srv/t2/d0004/new.txt'
      echo 'LABEL role=app version=2'; } >"$C/app2/Dockerfile"
    log "building app:2"
    $DOCKER build -q -t app:2 "$C/app2" >"$W/build-app2.log" 2>&1 || die "app:2 build failed: $(tail -5 "$W/build-app2.log")"
    rm -rf "$C"
}

# ---------------------------------------------------------------- containers

# Script run by container NN (busybox sh). $1 = NN, $2 = image root dir, $3 = MB of
# random data to write and delete (0 = none).
CT_SCRIPT='
n=$1; root=$2; mb=$3
echo "c$n: starting LARGE-CT-LOG-$n"
mkdir -p /work/out
i=0; while [ $i -lt 500 ]; do echo "container $n output $i LARGE-CT-OUT-$n" > /work/out/o$i.txt; i=$((i+1)); done
if [ $((n % 2)) = 1 ]; then
  d=$(cd $root && ls -d t* | head -1)
  rm -rf $root/$d/d00$((n % 90 + 10))
  for f in $(ls $root/$d/d0002 | head -20); do rm -f $root/$d/d0002/$f; done
  rm -rf $root/$d/d0003 && mkdir $root/$d/d0003 && echo "opaque by $n" > $root/$d/d0003/mine.txt
  echo "appended by c$n" >> $root/$d/d0005/$(ls $root/$d/d0005 | head -1)
  mkdir -p /tmp/scratch
  i=0; while [ $i -lt 200 ]; do echo "scratch $n $i LARGE-CT-SCRATCH-$n" > /tmp/scratch/s$i.txt; i=$((i+1)); done
  sync; rm -rf /tmp/scratch
  echo "c$n: deleted files"
fi
if [ "$mb" != 0 ]; then
  dd if=/dev/urandom of=/tmp/big.bin bs=1M count=$mb 2>/dev/null
  tar czf /tmp/etc.tgz /etc /bin 2>/dev/null
  cp /bin/busybox /tmp/bb.elf
  sync; rm -f /tmp/big.bin /tmp/etc.tgz /tmp/bb.elf; sync
  echo "c$n: wrote and deleted $mb MB"
fi
echo "c$n: done"
'

run_container() { # NN (zero-padded)
    local name=c$1 n=$((10#$1)) img root mb=0
    case $((n % 4)) in
        0) img=app:1; root=/srv ;;
        1) img=app:2; root=/srv ;;
        2) img=web:1; root=/var/www ;;
        3) img=db:1; root=/var/db ;;
    esac
    [ $((n % 5)) = 0 ] && mb=$DELMB
    $DOCKER run --name "$name" --network none --label "bench=large" "$img" sh -c "$CT_SCRIPT" sh "$n" "$root" "$mb" \
        >"$W/ct-logs/$name.out" 2>&1 || echo "$name exit $?" >>"$W/ct-logs/failures"
}

# ---------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || die "run as root: sudo bash scripts/make-large-docker-host.sh"
if ! command -v dockerd >/dev/null || [ ! -x $DOCKER ] || [ ! -x /bin/busybox ]; then
    log "installing docker.io busybox-static"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
fi
for t in mkfs.ext4 losetup unshare setsid python3; do command -v "$t" >/dev/null || die "missing tool: $t"; done
preclean

log "sparse $SIZE ext4 at $IMG"
truncate -s "$SIZE" "$IMG"
# Enough inodes for the layer trees and the freed copies of the build containers.
mkfs.ext4 -q -F -T default -N "${LARGE_INODES:-3000000}" -L largedocker \
    -U d0c4e500-0000-4000-8000-00000000d800 "$IMG"
LOOP=$(losetup -f --show "$IMG")
mkdir -p "$MNT"
mount -t ext4 "$LOOP" "$MNT"
host_tree largehost01
echo '{ "storage-driver": "overlay2" }' >"$MNT"/etc/docker/daemon.json

mkdir -p "$W/ctx" "$W/ct-logs"
log "generating $NTARS tarballs of $PERTAR files"
gen_tars
start_daemon large /var/lib/docker 0
import_base
build_images
log "images: $($DOCKER images --format '{{.Repository}}:{{.Tag}}' | tr '\n' ' ')"

log "running $NCT containers, 3 at a time"
export -f run_container
export DOCKER W CT_SCRIPT DELMB
seq -w 1 "$NCT" | xargs -P 3 -I{} bash -c 'run_container {}'
[ ! -f "$W/ct-logs/failures" ] || log "container failures: $(cat "$W/ct-logs/failures")"
for c in $($DOCKER ps -aq --no-trunc); do CG_IDS+=("$c"); done

RM_FROM=$((NCT - 5))
log "removing c$RM_FROM..c$NCT with docker rm"
for n in $(seq -w "$RM_FROM" "$NCT"); do $DOCKER rm "c$n" >/dev/null; done
log "starting 5 containers left running at the crash"
for n in 1 2 3 4 5; do
    img=$(case $((n % 4)) in 0) echo app:1 ;; 1) echo app:2 ;; 2) echo web:1 ;; *) echo db:1 ;; esac)
    $DOCKER run -d --name "live$n" --network none "$img" sh -c "echo live$n LARGE-LIVE-$n; echo x > /tmp/live.txt; sleep 100000" >/dev/null
    CG_IDS+=("$($DOCKER inspect -f '{{.Id}}' "live$n")")
done
sleep 1
$DOCKER ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Image}} {{.Status}}' >"$W/ps-a.txt"
$DOCKER images -a --no-trunc >"$W/images-a.txt"
sync
log "crash: killing dockerd, containerd, shims and the live containers"
kill_hard
cgroup_cleanup
sync
df -i "$MNT" >"$W/df-i.txt"; df -B1 "$MNT" >"$W/df.txt"
umount_under "$W"
losetup -d "$LOOP"; LOOP=""
python3 - "$W" "$IMG" "$NCT" "$NTARS" "$PERTAR" "$DELMB" <<'PY'
import json, os, sys
W, img, nct, ntars, pertar, delmb = sys.argv[1:]
ps = [l.split(None, 3) for l in open(f"{W}/ps-a.txt") if l.strip()]
dfi = open(f"{W}/df-i.txt").read().split("\n")[1].split()
df = open(f"{W}/df.txt").read().split("\n")[1].split()
st = os.stat(img)
json.dump({"image": img, "size": st.st_size, "allocated_bytes": st.st_blocks * 512,
           "inodes_total": int(dfi[1]), "inodes_used": int(dfi[2]),
           "fs_used_bytes": int(df[2]), "fs_free_bytes": int(df[3]),
           "layer_files": int(ntars) * int(pertar), "containers_run": int(nct),
           "deleted_random_mb": (int(nct) // 5) * int(delmb),
           "containers_on_disk": [{"id": p[0], "name": p[1], "image": p[2], "status": p[3] if len(p) > 3 else ""} for p in ps],
           "removed": [f"c{n:02d}" for n in range(int(nct) - 5, int(nct) + 1)]},
          open(f"{W}/summary.json", "w"), indent=1)
PY
log "done: $IMG ($(du -h "$IMG" | cut -f1) on disk), $(sed -n 2p "$W/df-i.txt" | awk '{print $3}') inodes used; summary in $W/summary.json"

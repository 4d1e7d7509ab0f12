#!/usr/bin/env bash
# make-reuse-fixture.sh: a REAL Docker host (Debian docker.io 20.10, overlay2) on which
# ext4 reuses inode numbers of deleted directories and files, with exact ground truth.
#
#   sudo bash scripts/make-reuse-fixture.sh
#
# Writes testdata/docker-reuse/: docker-reuse.img.gz (raw ext4), docker-reuse.json
# (manifest), truth.json.gz (every path/inode/generation seen in snapshots of the whole
# filesystem taken during the host's life; see testdata/docker-reuse/README.md).
#
# The life of the host: base:1 imported; app:1 built with the classic builder (a RUN
# step writes 1,500 files into its intermediate container, which the builder removes);
# containers tmp1..tmp4 run, then removed, exfil runs and is removed, crash exits 3; web
# runs, deletes files in /tmp one after another (inode numbers reused), and is left
# "running" (daemon, containerd, shims and its process SIGKILLed).
#
# Snapshots (scripts/reuse-truth.py): one after each step and before each deletion,
# plus a background poller (every ~0.1 s) during the whole life; the final one after the
# daemon was killed, before unmount.
#
# dockerd runs in a private mount namespace with the image's /var/lib/docker and
# /etc/docker bind-mounted at those paths (as make-docker-fixtures.sh does), so the
# paths dockerd records are real host paths. Work dir: /tmp/fx-reuse (wiped at start).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/testdata/docker-reuse
W=${FX_REUSE_WORK:-/tmp/fx-reuse}
MNT=$W/mnt
SOCK=$W/d.sock
EXEC=$W/exec
PIDFILE=$W/dockerd.pid
SNAP=$W/snaps
DOCKER=/usr/bin/docker            # Debian docker.io client (matches the daemon)
PY=python3
TRUTH="$PY $REPO/scripts/reuse-truth.py"
NAME=docker-reuse
UUID=d0c4e500-0000-4000-8000-00000000d0a1
export DOCKER DOCKER_HOST=unix://$SOCK DOCKER_BUILDKIT=0 DOCKER_CONFIG=$W/client-config

LOOP=""; DNS=""; CT_PIDS=(); CG_IDS=()
CG_PRE=$(ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null || true)

log() { printf '[reuse-fx] %s\n' "$*" >&2; }
die() { printf '[reuse-fx] ERROR: %s\n' "$*" >&2; exit 1; }
workdir_reset() { rm -rf "$W"; mkdir -p "$W" "$DOCKER_CONFIG" "$OUT" "$SNAP"; }

# shellcheck source=scripts/lib-fixtures.sh
. "$REPO/scripts/lib-fixtures.sh"      # fx_mkfs, fx_gzip (its fx_init/trap are not used)
FX_OUT=$OUT
# shellcheck source=scripts/lib-dockerd.sh
. "$REPO/scripts/lib-dockerd.sh"       # kill_hard, umount_under, cleanup trap, preclean
trap 'touch "$W/stop-poll" 2>/dev/null; cleanup' EXIT   # also stops the snapshot poller

# ---------------------------------------------------------------- helpers

STEPS=()          # JSON objects, one per step
DELETIONS=()      # JSON objects, one per intentional deletion
NAMED=()          # JSON objects: containers we named

snap() { # step: a snapshot of the whole filesystem, after a host sync
    sync
    $TRUTH snap "$MNT" "$SNAP" "$1"
}
phase() { echo "$1" >"$W/phase"; STEPS+=("{\"step\": \"$1\", \"time\": $(date +%s.%N)}"); log "step $1"; }

container_json() { # name -> {"name","id","image","mount_id"}
    $DOCKER inspect -f '{"name": "{{.Name}}", "id": "{{.Id}}", "image": "{{.Config.Image}}", "mount_id": "{{index .GraphDriver.Data "UpperDir"}}"}' "$1" |
        sed -e 's|"name": "/|"name": "|' -e 's|"mount_id": "[^"]*/overlay2/\([0-9a-f]*\)/diff"|"mount_id": "\1"|'
}

remember() { NAMED+=("$(container_json "$1")"); CG_IDS+=("$($DOCKER inspect -f '{{.Id}}' "$1")"); }

rm_container() { # name step
    local id
    id=$($DOCKER inspect -f '{{.Id}}' "$1")
    snap "before-$2"
    $DOCKER rm "$1" >/dev/null
    DELETIONS+=("{\"step\": \"$2\", \"kind\": \"docker rm\", \"container_name\": \"$1\", \"container_ids\": [\"$id\"]}")
    snap "after-$2"
}

start_daemon() {
    rm -rf "$EXEC"; mkdir -p "$EXEC" "$MNT/var/lib/docker" "$MNT/etc/docker"
    rm -f "$SOCK" "$PIDFILE"
    echo '{}' >"$W/dockerd-config.json"
    cat >"$W/ns-start.sh" <<'EOF'
#!/bin/sh
# runs inside `unshare --mount` (private propagation): show the image at real paths
set -eu
MNT=$1; shift
mount -t tmpfs -o mode=0755,size=16m fx-reuse-run /run
mount --bind "$MNT/etc/docker" /etc/docker
if [ ! -d /var/lib/docker ]; then
    mount -t tmpfs -o mode=0755,size=1m fx-reuse-parent /var/lib
    mkdir -p /var/lib/docker
fi
mount --bind "$MNT/var/lib/docker" /var/lib/docker
exec dockerd --data-root /var/lib/docker "$@"
EOF
    setsid unshare --mount --propagation private sh "$W/ns-start.sh" "$MNT" \
        --config-file "$W/dockerd-config.json" --exec-root "$EXEC" --pidfile "$PIDFILE" \
        -H unix:///var/run/docker.sock -H "unix://$SOCK" \
        --storage-driver overlay2 --log-driver json-file \
        --iptables=false --bridge=none --ip-masq=false >"$W/dockerd.log" 2>&1 </dev/null &
    disown
    local i
    for i in $(seq 1 300); do
        if [ -f "$PIDFILE" ] && $DOCKER version >/dev/null 2>&1; then break; fi
        sleep 0.2
    done
    $DOCKER version >/dev/null 2>&1 || { tail -30 "$W/dockerd.log" >&2; die "dockerd did not come up"; }
    DNS=$(readlink "/proc/$(cat "$PIDFILE")/ns/mnt")
    [ "$DNS" != "$(readlink /proc/$$/ns/mnt)" ] || die "dockerd is not in a private mount namespace"
}

import_base() {
    local r=$W/rootfs a
    rm -rf "$r"
    mkdir -p "$r"/bin "$r"/etc "$r"/root "$r"/proc "$r"/sys "$r"/dev "$r"/var/log "$r"/var/tmp "$r"/usr/bin
    install -d -m 1777 "$r"/tmp
    cp /bin/busybox "$r"/bin/busybox
    for a in sh ls cat rm mkdir echo sleep head sync seq stat true false id env dd; do
        ln -s busybox "$r/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r"/etc/passwd
    printf 'root:x:0:\n' >"$r"/etc/group
    tar --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" --sort=name -C "$r" -cf - . |
        $DOCKER import -m "busybox rootfs" -c 'CMD ["/bin/sh"]' - base:1 >/dev/null
}

web_file() { # step name content-command: create /tmp/NAME in web, sync, snapshot, rm, sync
    local step=$1 f=$2 cmd=$3 ino
    dx web sh -c "$cmd > /tmp/$f; sync"
    ino=$(stat -c %i "$MNT/var/lib/docker/overlay2/$WEB_MOUNT/diff/tmp/$f")
    snap "before-$step"
    dx web sh -c "rm /tmp/$f; sync"
    DELETIONS+=("{\"step\": \"$step\", \"kind\": \"rm in container web\", \"container_name\": \"web\", \"paths\": [\"/var/lib/docker/overlay2/$WEB_MOUNT/diff/tmp/$f\"], \"inode\": $ino}")
    log "web /tmp/$f was inode $ino"
    snap "after-$step"
}
dx() { $DOCKER exec "$@"; }

# ---------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || die "run as root"
if ! command -v dockerd >/dev/null || [ ! -x $DOCKER ] || [ ! -x /bin/busybox ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static e2fsprogs >/dev/null
fi
for t in mkfs.ext4 e2fsck debugfs dumpe2fs losetup unshare setsid gzip $PY; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done
preclean

IMG=$W/$NAME.img
# mkfs defaults (4 KiB blocks: -T default, or a 200 MiB image would get the 1 KiB
# "small" profile) and a 64 MiB journal, big enough to keep the whole history.
fx_mkfs "$IMG" 200M -T default -L dockerreuse -U $UUID -J size=64
MKFS_CMD="$FX_MKFS_CMD ($(mkfs.ext4 -V 2>&1 | sed -n 1p))"
LOOP=$(losetup -f --show "$IMG")
mkdir -p "$MNT"
mount -t ext4 "$LOOP" "$MNT"
install -d -m 0755 "$MNT"/etc/docker "$MNT"/var/lib "$MNT"/var/log "$MNT"/root
install -d -m 1777 "$MNT"/tmp
echo reusehost01 >"$MNT"/etc/hostname
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$MNT"/etc/passwd

phase start-daemon
start_daemon
snap after-daemon-start
: >"$W/phase"
rm -f "$W/stop-poll"
$TRUTH poll "$MNT" "$SNAP" "$W/stop-poll" "$W/phase" 2>"$W/poll.log" &
POLLER=$!

# 1. base:1
phase import-base
import_base
snap after-import-base

# 2. app:1 with the classic builder: the first RUN's intermediate container holds
# 1,500 files in /app/dir (synced, then 3 s of sleep so the poller sees them); the
# builder commits it into a layer and removes the container.
phase build
C=$W/ctx-app
mkdir -p "$C"
cat >"$C"/Dockerfile <<'EOF'
FROM base:1
RUN mkdir -p /app/dir && for i in $(seq 1 1500); do echo "reuse fixture build file $i of 1500" > /app/dir/file$i.txt; done && sync && sleep 3
RUN echo ok > /app/ok
CMD ["/bin/sh"]
EOF
$DOCKER build --network none -t app:1 "$C" >"$W/build.log" 2>&1 || { cat "$W/build.log" >&2; die "build failed"; }
DELETIONS+=('{"step": "build", "kind": "classic builder removed its intermediate containers", "build_containers": true}')
snap after-build

# 3. short-lived containers (new directories take freed inode numbers), exfil, crash
# (all four exist at once, so their directories spread over the freed numbers)
for i in 1 2 3 4; do
    phase "tmp$i"
    $DOCKER run --name "tmp$i" --network none base:1 true
    remember "tmp$i"
    snap "after-run-tmp$i"
done
for i in 1 2 3 4; do
    phase "rm-tmp$i"
    rm_container "tmp$i" "rm-tmp$i"
done
phase exfil
$DOCKER run --name exfil --network none base:1 sh -c 'echo stolen > /var/tmp/exfil.txt'
remember exfil
EXFIL_MOUNT=$($DOCKER inspect -f '{{index .GraphDriver.Data "UpperDir"}}' exfil | sed 's|.*/overlay2/\([0-9a-f]*\)/diff|\1|')
snap after-run-exfil
rm_container exfil rm-exfil
phase crash
$DOCKER run --name crash --network none base:1 sh -c 'exit 3' || [ $? = 3 ] || die "crash did not exit 3"
remember crash
snap after-crash

# 4. web: files in /tmp written, synced, deleted one after another
phase web
$DOCKER run -d --name web --network none app:1 sleep 100000 >/dev/null
remember web
WEB_MOUNT=$($DOCKER inspect -f '{{index .GraphDriver.Data "UpperDir"}}' web | sed 's|.*/overlay2/\([0-9a-f]*\)/diff|\1|')
sleep 1
snap after-web-start
web_file web-rm-dump dump.bin 'head -c 200000 /dev/urandom'
web_file web-rm-creds creds.txt "echo 'user=admin pass=hunter2 token=abc'"
web_file web-rm-note1 note1.txt "echo 'note one: rotate keys on db01'"
web_file web-rm-note2 note2.txt "echo 'note two: backup at /srv/backup/2026-12.tar'"
web_file web-rm-note3 note3.txt "echo 'note three: web01 maintenance window sunday'"

# ground truth from the daemon before the crash
$DOCKER version -f '{{json .}}' >"$W/version.json"
$DOCKER inspect $($DOCKER ps -aq --no-trunc) >"$W/container-inspect.json"
$DOCKER image inspect $($DOCKER images -aq --no-trunc | sort -u) >"$W/image-inspect.json"
$DOCKER ps -a --no-trunc >"$W/ps-a.txt"
WEB_PID=$($DOCKER inspect -f '{{.State.Pid}}' web)

# 5. crash: web stays "running" on disk
phase crash-daemon
touch "$W/stop-poll"
wait $POLLER || log "poller exited with $?"
CT_PIDS=("$WEB_PID")
kill_hard
sync
snap final
cgroup_cleanup
umount_under "$W"
losetup -d "$LOOP"; LOOP=""

e2fsck -fn "$IMG" >"$W/fsck.txt" 2>&1 || { cat "$W/fsck.txt" >&2; die "e2fsck reports errors"; }
debugfs -R "logdump -O" "$IMG" >"$W/logdump.txt" 2>&1 || true
dumpe2fs -h "$IMG" >"$W/dumpe2fs.txt" 2>/dev/null

# ---------------------------------------------------------------- truth + manifest
{
    printf '{"containers": [%s],\n' "$(IFS=,; echo "${NAMED[*]}")"
    printf ' "deletions": [%s],\n' "$(IFS=,; echo "${DELETIONS[*]}")"
    printf ' "steps": [%s]}\n' "$(IFS=,; echo "${STEPS[*]}")"
} >"$W/meta.json"
$TRUTH assemble "$SNAP" "$W/meta.json" "$OUT/truth.json.gz" "$W/reuse-report.json"
$PY - "$W/reuse-report.json" <<'EOF' || die "the inode reuse this fixture is about did not happen"
import json, sys
s = json.load(open(sys.argv[1]))['summary']
assert s['build_dirs_reused_by_later_dirs'] > 0, 'no directory of a build container was reused by a later directory'
tmp = [r for r in s['tmp_file_inode_reuse']
       if sum(1 for x in r['incarnations'] if any(p.endswith(('/tmp/dump.bin', '/tmp/creds.txt', '/tmp/note1.txt'))
                                                  for p in x['paths'])) >= 2]
assert tmp, 'web /tmp files did not share an inode number'
EOF

fx_gzip "$IMG" "$NAME"
$PY - "$W" "$OUT" "$IMG" "$MKFS_CMD" "$UUID" "$WEB_PID" <<'EOF'
import gzip, hashlib, json, os, re, sys
W, OUT, IMG, MKFS, UUID, WEB_PID = sys.argv[1:]
sha = lambda p: hashlib.sha256(open(p, 'rb').read()).hexdigest()
meta = json.load(open(W + '/meta.json'))
ver = json.load(open(W + '/version.json'))
rep = json.load(open(W + '/reuse-report.json'))
truth = json.load(gzip.open(OUT + '/truth.json.gz'))
ins = {c['Name'].lstrip('/'): c for c in json.load(open(W + '/container-inspect.json'))}
imgs = json.load(open(W + '/image-inspect.json'))
def mid(c):
    up = c['GraphDriver']['Data'].get('UpperDir', '')
    return up.split('/')[-2]
live, removed = [], []
for c in meta['containers']:
    if c['name'] in ins:
        i = ins[c['name']]
        live.append({'id': i['Id'], 'name': c['name'], 'image': i['Config']['Image'], 'image_id': i['Image'],
                     'mount_id': mid(i), 'init_id': mid(i) + '-init',
                     'state': {k: i['State'][k] for k in ('Status', 'Running', 'ExitCode', 'Pid')}})
    else:
        removed.append(dict(c, init_id=c['mount_id'] + '-init', removed=True))
images = []
for im in imgs:
    images.append({'id': im['Id'], 'tags': im['RepoTags'], 'parent': im.get('Parent') or None,
                   'diff_ids': im['RootFS'].get('Layers', []),
                   'created_by': [h.get('created_by') for h in im.get('Config', {}).get('History', [])] or None})
layers = [{'diff_id': o['image_layer']['diff_id'], 'chain_id': o['image_layer']['chain_id'],
           'cache_id': o['image_layer']['cache_id']} for o in truth['owners'] if o['kind'] == 'image-layer']
dump = open(W + '/dumpe2fs.txt').read()
jsize = re.search(r'^Total journal size:\s*(.*)$', dump, re.M)
ld = open(W + '/logdump.txt').read()
seqs = [int(x) for x in re.findall(r'Found expected sequence (\d+), type 2 \(commit block\)', ld)]
commits = len(seqs)
m = {'name': 'docker-reuse', 'synthetic': False,
     'docker_version': ver['Server']['Version'], 'api_version': ver['Server']['ApiVersion'],
     'kernel': os.uname().release, 'mkfs': MKFS, 'fs_uuid': UUID,
     'image': 'docker-reuse.img.gz', 'image_size': os.path.getsize(IMG), 'image_sha256': sha(IMG),
     'image_gz_sha256': sha(OUT + '/docker-reuse.img.gz'),
     'storage_driver': 'overlay2', 'docker_root': '/var/lib/docker', 'truth': 'truth.json.gz',
     'journal': {'size': jsize.group(1) if jsize else None, 'commits_found_by_logdump_O': commits,
                 'blocks': int(re.search(r'^Total journal blocks:\s*(\d+)', dump, re.M).group(1)),
                 'last_block_used': max(int(x) for x in re.findall(r'at block (\d+)', ld)),
                 'first_sequence': min(seqs) if seqs else None, 'last_sequence': max(seqs) if seqs else None,
                 'log_start_after_unmount': int(re.search(r'^Journal start:\s*(\d+)', dump, re.M).group(1))},
     'running': [{'name': 'web', 'pid': int(WEB_PID),
                  'how': 'SIGKILL to dockerd, containerd, the shims and the container process while running; State.Running stays true in config.v2.json'}],
     'containers': live, 'removed_containers': removed,
     'build_containers': [c for c in truth['containers'] if c['kind'] == 'build-container'],
     'images': images, 'image_layers': layers,
     'steps': meta['steps'], 'deletions': truth['deletions'],
     'reuse': {k: rep['summary'][k] for k in ('reused_inodes', 'build_dirs_reused_by_later_dirs', 'deleted_incarnations', 'incarnations', 'snapshots', 'rows')},
     'build_app_dir': rep['summary']['build_app_dir'],
     'tmp_file_inode_reuse': rep['summary']['tmp_file_inode_reuse'], 'dir_reuse': rep['dir_reuse'],
     'notes': ['Real dockerd %s (Debian docker.io) writing overlay2 onto a loop-mounted ext4 image; kernel %s.' % (ver['Server']['Version'], os.uname().release),
               'dockerd, containerd and the shims ran in a private mount namespace with the image\'s /var/lib/docker and /etc/docker bind-mounted at those paths (flags: --exec-root outside the image, --bridge=none, --iptables=false, empty --config-file); containers use --network none.',
               'Container web was RUNNING when dockerd, containerd, the shims and its process were SIGKILLed; the filesystem was then unmounted cleanly (journal clean, old transactions kept in the journal area).']}
with open(OUT + '/docker-reuse.json', 'w') as f:
    json.dump(m, f, indent=1)
    f.write('\n')
EOF
rm -rf "$W"/rootfs "$W"/ctx-* "$IMG"
log "done: $(stat -c %s "$OUT/$NAME.img.gz") bytes image, $(stat -c %s "$OUT/truth.json.gz") bytes truth"

#!/usr/bin/env bash
# make-docker-fixtures.sh: build REAL Docker-host ext4 fixtures, written by a real
# dockerd (Debian docker.io 20.10, overlay2) onto a loop-mounted ext4 image.
#
#   sudo bash scripts/make-docker-fixtures.sh                 # all fixtures
#   sudo bash scripts/make-docker-fixtures.sh docker-host     # just one
#
# Fixtures (see testdata/docker/README.md):
#   docker-host      /var/lib/docker with images, layers, whiteouts, running/stopped/
#                    privileged/removed containers, a volume, json-file + local logs
#   docker-dataroot  daemon.json "data-root": "/srv/docker-data"
#   docker-userns    daemon.json "userns-remap": "default" -> /var/lib/docker/165536.165536
#   docker-overlay   the legacy overlay (v1) storage driver (still accepted by dockerd 20.10)
#
# Outputs in testdata/docker/: <fixture>.img.gz, <fixture>.json (manifest) and
# <fixture>/ (ground truth captured from the daemon before it was stopped).
#
# How the daemon is run: dockerd, its containerd and the shims run in a private mount
# namespace (unshare -m) in which the image's directories are bind-mounted at their
# real places (/var/lib/docker or /srv/docker-data, /etc/docker, and for userns
# /etc/passwd,group,subuid,subgid), and /run is a private tmpfs (the daemon listens on
# /var/run/docker.sock in there and on $SOCK for this script). So every path dockerd
# writes into config.v2.json etc. is the path a real host would have, and nothing on
# this machine outside $W is modified. The daemon is started with explicit flags and an
# empty --config-file; the image's /etc/docker/daemon.json is only evidence.
#
# Work dir: /tmp/fx-docker (wiped at start). Needs root, loop devices, overlayfs.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/testdata/docker
W=${FX_DOCKER_WORK:-/tmp/fx-docker}   # override to run beside another copy
MNT=$W/mnt
SOCK=$W/d.sock
EXEC=$W/exec
PIDFILE=$W/dockerd.pid
DOCKER=/usr/bin/docker           # Debian docker.io client (matches the daemon)
PY=python3
export DOCKER_HOST=unix://$SOCK DOCKER_BUILDKIT=0 DOCKER_CONFIG=$W/client-config
export LC_ALL=C TZ=UTC
: "${SOURCE_DATE_EPOCH:=1700000000}"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH   # mkfs timestamps only

LOOP=""        # loop device of the current image
DNS=""         # mount namespace (readlink /proc/PID/ns/mnt) of our dockerd
CT_PIDS=()     # container processes to SIGKILL when stopping hard
CG_IDS=()      # container ids whose cgroups we may have to remove
CG_PRE=$(ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker 2>/dev/null || true)  # pre-existing

log() { printf '[docker-fx] %s\n' "$*" >&2; }
die() { printf '[docker-fx] ERROR: %s\n' "$*" >&2; exit 1; }

workdir_reset() { rm -rf "$W"; mkdir -p "$W" "$DOCKER_CONFIG" "$OUT"; }
# shellcheck source=scripts/lib-dockerd.sh
. "$(dirname "$0")/lib-dockerd.sh"

# ---------------------------------------------------------------- image + daemon

MKFS_CMD=""
new_image() { # fixture size uuid label
    local img=$W/$1.img
    rm -f "$img"
    truncate -s "$2" "$img"
    # 4 KiB blocks (-T default: an image this small would otherwise get the 1 KiB
    # "small" profile), fixed UUID, small journal; everything else mkfs defaults.
    mkfs.ext4 -q -F -T default -L "$4" -U "$3" -J size=4 "$img"
    MKFS_CMD="mkfs.ext4 -q -F -T default -L $4 -U $3 -J size=4 ($(mkfs.ext4 -V 2>&1 | sed -n 1p))"
    LOOP=$(losetup -f --show "$img")
    mkdir -p "$MNT"
    mount -t ext4 "$LOOP" "$MNT"
}

finish_image() { # fixture truth-dir markers...: unmount, check, count markers, compress
    local fx=$1 T=$2 img=$W/$1.img
    shift 2
    sync
    umount_under "$W"
    losetup -d "$LOOP"; LOOP=""
    e2fsck -fn "$img" >"$W/$fx.fsck" 2>&1 || { cat "$W/$fx.fsck" >&2; die "e2fsck reports errors on $fx"; }
    [ $# = 0 ] || fxtool markers "$img" "$T/markers.json" "$@"
    IMG_SIZE=$(stat -c %s "$img")
    IMG_SHA=$(sha256sum "$img" | cut -d' ' -f1)
    gzip -9n -c "$img" >"$OUT/$fx.img.gz"
    IMG_GZ_SHA=$(sha256sum "$OUT/$fx.img.gz" | cut -d' ' -f1)
    log "$fx: $(stat -c %s "$OUT/$fx.img.gz") bytes compressed"
}

# host tree: a minimal Debian-ish root around the Docker root
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
mount -t tmpfs -o mode=0755,size=16m fx-docker-run /run
mount --bind "$MNT/etc/docker" /etc/docker
if [ "$USERFILES" = 1 ]; then
    for f in passwd group subuid subgid; do mount --bind "$MNT/etc/$f" "/etc/$f"; done
fi
if [ ! -d "$DROOT" ]; then
    # e.g. /var/lib/docker does not exist on this machine: put a tmpfs on its parent
    mount -t tmpfs -o mode=0755,size=1m fx-docker-parent "$(dirname "$DROOT")"
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

binfile() { # path size: deterministic "binary-ish" file with an ELF magic
    $PY - "$1" "$2" <<'EOF'
import hashlib, sys
n = int(sys.argv[2]); out = bytearray(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8)
h = b"whiteout-fixture-appbin"
while len(out) < n:
    h = hashlib.sha256(h).digest(); out += h
open(sys.argv[1], "wb").write(bytes(out[:n]))
EOF
}

dx() { $DOCKER exec "$@"; }

# capabilities the kernel knows but this machine's bounding set lacks (upper case, no CAP_)
missing_caps_list() {
    $PY - <<'EOF'
names = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
         "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
         "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
         "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
         "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE").split()
bnd = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd")][0], 16)
last = int(open("/proc/sys/kernel/cap_last_cap").read())
print(" ".join(n for i, n in enumerate(names) if i <= last and not bnd >> i & 1))
EOF
}

# ---------------------------------------------------------------- ground truth

write_helper() {
    cat >"$W/fxtool.py" <<'PYEOF'
#!/usr/bin/env python3
"""Ground-truth helper for make-docker-fixtures.sh: reads a Docker root (overlay2)
through the loop mount and writes JSON. Paths called MNT are the mounted image,
ROOT is the Docker root as seen on the imaged host (e.g. /var/lib/docker)."""
import hashlib, json, os, stat, struct, subprocess, sys, tarfile


def rd(p, default=None):
    try:
        with open(p) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def sha256_path(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(b)
    return h.hexdigest()


def dump(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


def xval(v):
    try:
        s = v.decode("ascii")
        if s.isprintable():
            return s
    except UnicodeDecodeError:
        pass
    return "hex:" + v.hex()


def decode_origin(v):
    """trusted.overlay.origin = struct ovl_fb: version, magic 0xfb, len, flags, type,
    uuid[16], fid (ext4: FILEID_INO32_GEN = ino, generation, little-endian)."""
    if not v.startswith("hex:"):
        return None
    b = bytes.fromhex(v[4:])
    if len(b) < 21 or b[1] != 0xFB:
        return None
    d = {"version": b[0], "len": b[2], "flags": b[3], "fh_type": b[4],
         "uuid": "%s-%s-%s-%s-%s" % tuple(b[5:21].hex()[i:j] for i, j in
                                          ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))}
    fid = b[21:]
    if len(fid) >= 8:
        d["ino"], d["generation"] = struct.unpack("<II", fid[:8])
    return d


def xattrs(p):
    out = {}
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return out
    for n in sorted(names):
        try:
            out[n] = xval(os.getxattr(p, n, follow_symlinks=False))
        except OSError:
            pass
    return out


def entry(base, rel):
    p = os.path.join(base, rel) if rel else base
    st = os.lstat(p)
    m = st.st_mode
    e = {"path": "/" + rel if rel else "/", "type": "other",
         "mode": "%04o" % stat.S_IMODE(m), "uid": st.st_uid, "gid": st.st_gid,
         "ino": st.st_ino, "nlink": st.st_nlink, "mtime": int(st.st_mtime)}
    if stat.S_ISREG(m):
        e.update(type="file", size=st.st_size, sha256=sha256_path(p))
    elif stat.S_ISDIR(m):
        e["type"] = "dir"
    elif stat.S_ISLNK(m):
        e.update(type="symlink", target=os.readlink(p))
    elif stat.S_ISCHR(m):
        e.update(type="whiteout" if st.st_rdev == 0 else "chardev",
                 rdev=[os.major(st.st_rdev), os.minor(st.st_rdev)])
    elif stat.S_ISBLK(m):
        e.update(type="blockdev", rdev=[os.major(st.st_rdev), os.minor(st.st_rdev)])
    elif stat.S_ISFIFO(m):
        e["type"] = "fifo"
    elif stat.S_ISSOCK(m):
        e["type"] = "socket"
    x = xattrs(p)
    if x:
        e["xattrs"] = x
        if "trusted.overlay.origin" in x:
            e["origin"] = decode_origin(x["trusted.overlay.origin"])
    return e


def walk(base):
    if not os.path.isdir(base):
        return []
    out = [entry(base, "")]
    for dp, dns, fns in os.walk(base):
        dns.sort()
        for n in sorted(dns + fns):
            out.append(entry(base, os.path.relpath(os.path.join(dp, n), base)))
    out.sort(key=lambda e: e["path"])
    return out


def ovl(x, key):
    return x.get("trusted.overlay." + key, x.get("user.overlay." + key))


def summarize(entries):
    s = {"whiteouts": [], "opaque_dirs": [], "impure_dirs": [], "redirects": {}, "overlay_xattrs": {}}
    for e in entries:
        if e["type"] == "whiteout":
            s["whiteouts"].append(e["path"])
        x = e.get("xattrs", {})
        ox = {k: v for k, v in x.items() if ".overlay." in k}
        if ox:
            s["overlay_xattrs"][e["path"]] = ox
        if ovl(x, "opaque") == "y":
            s["opaque_dirs"].append(e["path"])
        if ovl(x, "impure") == "y":
            s["impure_dirs"].append(e["path"])
        if ovl(x, "redirect") is not None:
            s["redirects"][e["path"]] = ovl(x, "redirect")
    return s


def chain_ids(diffs):
    out, prev = [], None
    for d in diffs:
        c = d if prev is None else "sha256:" + hashlib.sha256(("%s %s" % (prev, d)).encode()).hexdigest()
        out.append(c)
        prev = c
    return out


def layerdb(R, chain):
    d = os.path.join(R, "image/overlay2/layerdb/sha256", chain.split(":", 1)[1])
    li = {"chain_id": chain, "diff_id": rd(d + "/diff"), "cache_id": rd(d + "/cache-id"),
          "parent": rd(d + "/parent"), "size": int(rd(d + "/size", "0"))}
    od = os.path.join(R, "overlay2", li["cache_id"] or "-")
    li["link"] = rd(od + "/link")
    li["lower"] = rd(od + "/lower")
    return li


def lower_chain(R, top):  # top-most first
    out, c = [], top
    while c:
        li = layerdb(R, c)
        out.append(li)
        c = li["parent"]
    return out


def images(R, inspect):
    res = []
    for im in inspect:
        hid = im["Id"].split(":", 1)[1]
        cfg = json.load(open(os.path.join(R, "image/overlay2/imagedb/content/sha256", hid)))
        diffs = (im.get("RootFS") or {}).get("Layers") or []
        hist = [h for h in cfg.get("history", []) if not h.get("empty_layer")]
        layers = []
        for i, (d, c) in enumerate(zip(diffs, chain_ids(diffs))):
            li = layerdb(R, c)
            assert li["diff_id"] == d, (im["Id"], c, li, d)
            li["created_by"] = hist[i].get("created_by") if len(hist) == len(diffs) else None
            layers.append(li)
        meta = os.path.join(R, "image/overlay2/imagedb/metadata/sha256", hid)
        res.append({"id": im["Id"], "tags": im.get("RepoTags") or [],
                    "parent": rd(meta + "/parent"), "created": im.get("Created"),
                    "layers": layers})
    return res


def container(R, cid):
    md = os.path.join(R, "image/overlay2/layerdb/mounts", cid)
    mount_id, init_id, parent = rd(md + "/mount-id"), rd(md + "/init-id"), rd(md + "/parent")
    upper = os.path.join(R, "overlay2", mount_id, "diff")
    lowers = [os.path.join(R, "overlay2", init_id, "diff")]
    lowers += [os.path.join(R, "overlay2", l["cache_id"], "diff") for l in lower_chain(R, parent)]

    def lower_of(path):
        rel = path.lstrip("/")
        for lw in lowers:
            q = os.path.join(lw, rel)
            if os.path.lexists(q):
                st = os.lstat(q)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    return None
                return {"layer_dir": os.path.basename(os.path.dirname(lw)), "ino": st.st_ino}
        return None

    entries = walk(upper)
    s = summarize(entries)
    copy_ups, new_files, new_dirs = [], [], []
    for e in entries:
        if e["path"] == "/" or e["type"] == "whiteout":
            continue
        lo = lower_of(e["path"])
        if lo and e["path"] not in s["opaque_dirs"]:
            cu = {"path": e["path"], "type": e["type"], "lower_layer_dir": lo["layer_dir"],
                  "lower_ino": lo["ino"], "origin": e.get("origin")}
            if e["type"] == "file":
                cu.update(size=e["size"], sha256=e["sha256"])
            copy_ups.append(cu)
        elif not lo:
            if e["type"] == "file":
                new_files.append({"path": e["path"], "size": e["size"], "sha256": e["sha256"], "ino": e["ino"]})
            elif e["type"] == "dir":
                new_dirs.append(e["path"])
    return {"mount_id": mount_id, "init_id": init_id, "parent_chain_id": parent,
            "overlay_dir": "overlay2/" + mount_id, "whiteouts": s["whiteouts"],
            "opaque_dirs": s["opaque_dirs"], "impure_dirs": s["impure_dirs"],
            "redirects": s["redirects"], "copy_ups": copy_ups, "new_dirs": new_dirs,
            "new_files": new_files, "_entries": entries,
            "_init_entries": walk(os.path.join(R, "overlay2", init_id, "diff"))}


def cmd_layers(mnt, root, inspect_json, out):
    R = mnt + root
    dump(images(R, json.load(open(inspect_json))), out)


def cmd_removed(mnt, root, inspect_json, out):
    R = mnt + root
    c = json.load(open(inspect_json))[0]
    a = container(R, c["Id"])
    logp = mnt + c["LogPath"] if c.get("LogPath") else None
    lines = [json.loads(l) for l in open(logp)] if logp and os.path.exists(logp) else []
    d = {"id": c["Id"], "name": c["Name"].lstrip("/"), "image": c["Config"]["Image"],
         "image_id": c["Image"], "created": c["Created"], "exit_code": c["State"]["ExitCode"],
         "started_at": c["State"]["StartedAt"], "finished_at": c["State"]["FinishedAt"],
         "mount_id": a["mount_id"], "init_id": a["init_id"], "parent_chain_id": a["parent_chain_id"],
         "container_dir": root + "/containers/" + c["Id"], "log_path": c.get("LogPath"),
         "log_lines": lines,
         "files": [{"path": f["path"], "size": f["size"], "sha256": f["sha256"], "ino": f["ino"]}
                   for f in a["new_files"]] + [{"path": f["path"], "size": f["size"],
                                                "sha256": f["sha256"], "copy_up": True}
                                               for f in a["copy_ups"] if f["type"] == "file"],
         "whiteouts": a["whiteouts"], "opaque_dirs": a["opaque_dirs"], "copy_ups": a["copy_ups"],
         "rw_layer_entries": a["_entries"]}
    dump(d, out)


def cmd_whiteouts(mnt, root, layers_json, cinspect_json, intended_json, out, contents_out):
    R = mnt + root
    imgs = json.load(open(layers_json))
    uniq = {}
    for im in imgs:
        name = im["tags"] or [im["id"][:19] + " (untagged)"]
        for li in im["layers"]:
            u = uniq.setdefault(li["chain_id"], dict(li, images=[]))
            for n in name:
                if n not in u["images"]:
                    u["images"].append(n)
    intended = json.load(open(intended_json)) if intended_json != "-" else {}
    layers_out, contents = [], {"image_layers": {}, "containers": {}}
    for chain, li in uniq.items():
        ents = walk(os.path.join(R, "overlay2", li["cache_id"], "diff"))
        s = summarize(ents)
        contents["image_layers"][li["cache_id"]] = ents
        layers_out.append({"chain_id": chain, "diff_id": li["diff_id"], "cache_id": li["cache_id"],
                           "overlay_dir": "overlay2/" + li["cache_id"], "created_by": li["created_by"],
                           "images": li["images"], "whiteouts": s["whiteouts"],
                           "opaque_dirs": s["opaque_dirs"], "overlay_xattrs": s["overlay_xattrs"]})
    conts = []
    for c in json.load(open(cinspect_json)):
        a = container(R, c["Id"])
        name = c["Name"].lstrip("/")
        contents["containers"][name] = {"rw": a.pop("_entries"), "init": a.pop("_init_entries")}
        conts.append(dict({"name": name, "id": c["Id"]}, **a))
    # attach the cache ids of the image layers the intended operations were made in
    for il in intended.get("image_layers", []):
        for l in layers_out:
            if il["image"] in l["images"] and il["created_by_contains"] in (l["created_by"] or ""):
                il["cache_id"], il["chain_id"], il["diff_id"] = l["cache_id"], l["chain_id"], l["diff_id"]
    removed = []
    rp = os.path.join(os.path.dirname(out), "removed.json")
    if os.path.exists(rp):
        r = json.load(open(rp))
        removed.append({k: r[k] for k in ("name", "id", "mount_id", "init_id", "whiteouts",
                                          "opaque_dirs", "copy_ups", "files")})
    for name, ic in intended.get("containers", {}).items():
        for c in conts + removed:
            if c["name"] == name:
                ic["mount_id"] = c["mount_id"]
    dump({"image_layers": layers_out, "containers": conts, "removed_containers": removed,
          "intended": intended}, out)
    dump(contents, contents_out)


def cmd_exports(out, *pairs):
    res = {}
    for pr in pairs:
        name, path = pr.split("=", 1)
        ents = []
        with tarfile.open(path, "r:*") as t:
            for m in t:
                n = m.name[2:] if m.name.startswith("./") else m.name
                e = {"path": "/" + n.strip("/"),
                     "type": {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
                              tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
                              tarfile.CHRTYPE: "chardev", tarfile.BLKTYPE: "blockdev",
                              tarfile.FIFOTYPE: "fifo"}.get(m.type, "other"),
                     "mode": "%04o" % m.mode, "uid": m.uid, "gid": m.gid}
                if m.isfile():
                    e["size"] = m.size
                    e["sha256"] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
                if m.issym() or m.islnk():
                    e["target"] = m.linkname
                ents.append(e)
        res[name] = ents
    dump(res, out)


def cmd_logs(docker, out, *names):
    res = {}
    for n in names:
        p = subprocess.run([docker, "logs", "--timestamps", n], capture_output=True, text=True)
        res[n] = {"stdout": p.stdout.splitlines(), "stderr": p.stderr.splitlines()}
    dump(res, out)


def cmd_check_state(mnt, root, cinspect_json, out):
    """What config.v2.json says on disk after the daemon is gone."""
    R = mnt + root
    res = {}
    for c in json.load(open(cinspect_json)):
        cfg = json.load(open(os.path.join(R, "containers", c["Id"], "config.v2.json")))
        st = cfg["State"]
        res[c["Name"].lstrip("/")] = {k: st.get(k) for k in ("Running", "Pid", "ExitCode", "StartedAt", "FinishedAt")}
    dump(res, out)


def cmd_markers(img, out, *markers):
    """How often each marker string occurs in the raw (uncompressed) image."""
    data = open(img, "rb").read()
    dump({m: data.count(m.encode()) for m in markers}, out)


def cmd_manifest(spec_json, truth_dir, out):
    spec = json.load(open(spec_json))
    T = lambda n: os.path.join(truth_dir, n)
    ld = lambda n, d=None: json.load(open(T(n))) if os.path.exists(T(n)) else d
    ver = ld("version.json", {})
    cins = ld("container-inspect.json", [])
    wo = ld("whiteouts.json", {"containers": [], "image_layers": []})
    mid = {c["id"]: c for c in wo["containers"]}
    conts = []
    for c in cins:
        a = mid.get(c["Id"], {})
        conts.append({"id": c["Id"], "name": c["Name"].lstrip("/"), "image": c["Config"]["Image"],
                      "image_id": c["Image"], "mount_id": a.get("mount_id"), "init_id": a.get("init_id"),
                      "status": c["State"]["Status"], "running": c["State"]["Running"],
                      "exit_code": c["State"]["ExitCode"], "pid": c["State"]["Pid"],
                      "error": c["State"].get("Error") or None, "log_driver": c["HostConfig"]["LogConfig"]["Type"], "log_path": c.get("LogPath") or None,
                      "removed": False})
    rm = ld("removed.json")
    if rm:
        conts.append({"id": rm["id"], "name": rm["name"], "image": rm["image"], "image_id": rm["image_id"],
                      "mount_id": rm["mount_id"], "init_id": rm["init_id"], "status": "removed",
                      "running": False, "exit_code": rm["exit_code"], "pid": 0, "error": None,
                      "log_driver": "json-file",
                      "log_path": rm["log_path"], "removed": True,
                      "files": [{k: f[k] for k in ("path", "size", "sha256")} for f in rm["files"]]})
    allimgs = ld("layers.json", [])
    parents = {i["parent"] for i in allimgs if i["parent"]}
    kind = lambda i: "tagged" if i["tags"] else ("intermediate" if i["id"] in parents else "dangling")
    imgs = [{"id": i["id"], "tags": i["tags"], "kind": kind(i), "parent": i["parent"],
             "layers": [{"diff_id": l["diff_id"], "chain_id": l["chain_id"], "cache_id": l["cache_id"]}
                        for l in i["layers"]]} for i in allimgs]
    rimgs = [{"id": i["id"], "tags": i["tags"], "removed": True,
              "layers": [{"diff_id": l["diff_id"], "chain_id": l["chain_id"], "cache_id": l["cache_id"],
                          "deleted_from_disk": l.get("deleted_from_disk", False)} for l in i["layers"]]}
             for i in ld("removed-images.json", [])]
    whiteouts = {
        "image_layers": [{k: l[k] for k in ("cache_id", "chain_id", "images", "whiteouts", "opaque_dirs")}
                         for l in wo["image_layers"] if l["whiteouts"] or l["opaque_dirs"]],
        "containers": [{"name": c["name"], "mount_id": c["mount_id"], "whiteouts": c["whiteouts"],
                        "opaque_dirs": c["opaque_dirs"],
                        "copy_ups": [u["path"] for u in c["copy_ups"]],
                        "new_files": [f["path"] for f in c["new_files"]]} for c in wo["containers"]],
        "removed_containers": [{"name": c["name"], "mount_id": c["mount_id"], "whiteouts": c["whiteouts"],
                                "opaque_dirs": c["opaque_dirs"], "copy_ups": [u["path"] for u in c["copy_ups"]],
                                "new_files": [f["path"] for f in c["files"] if not f.get("copy_up")]}
                               for c in wo.get("removed_containers", [])],
        "intended": wo.get("intended", {}),
    }
    m = {"name": spec["name"], "synthetic": False,
         "docker_version": (ver.get("Server") or {}).get("Version"),
         "api_version": (ver.get("Server") or {}).get("ApiVersion"),
         "kernel": os.uname().release, "mkfs": spec["mkfs"], "fs_uuid": spec["uuid"],
         "image": spec["image"], "image_size": spec["image_size"], "image_sha256": spec["image_sha256"],
         "image_gz_sha256": spec["image_gz_sha256"], "storage_driver": "overlay2",
         "docker_root": spec["docker_root"], "docker_root_effective": spec["docker_root_effective"],
         "ground_truth_dir": os.path.basename(truth_dir.rstrip("/")) + "/",
         "running": ld("running.json"), "state_on_disk": ld("state-on-disk.json"),
         "markers_in_image": ld("markers.json"),
         "containers": conts, "images": imgs, "removed_images": rimgs,
         "volumes": [{"name": v["Name"], "mountpoint": v["Mountpoint"], "driver": v["Driver"]}
                     for v in ld("volume-inspect.json", [])],
         "whiteouts": whiteouts, "notes": spec["notes"]}
    dump(m, out)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    globals()["cmd_" + cmd.replace("-", "_")](*args)
PYEOF
}
fxtool() { $PY "$W/fxtool.py" "$@"; }

# Ground truth common to all fixtures, captured while the daemon is up.
capture() { # fixture truth-dir root-in-image "names whose export tar.gz is kept"
    local fx=$1 T=$2 root=$3 keep=" $4 " c n ids pairs=()
    $DOCKER version --format '{{json .}}' >"$T/version.json"
    $DOCKER info --format '{{json .}}' >"$T/info.json"
    $DOCKER ps -a --no-trunc >"$T/ps-a.txt"
    $DOCKER images --digests --no-trunc >"$T/images.txt"
    $DOCKER images -a --digests --no-trunc >"$T/images-all.txt"
    ids=$($DOCKER ps -aq --no-trunc)
    # shellcheck disable=SC2086
    $DOCKER inspect $ids >"$T/container-inspect.json"
    # shellcheck disable=SC2046
    $DOCKER image inspect $($DOCKER images -aq --no-trunc | sort -u) >"$T/image-inspect.json"
    if [ -n "$($DOCKER volume ls -q)" ]; then
        # shellcheck disable=SC2046
        $DOCKER volume inspect $($DOCKER volume ls -q) >"$T/volume-inspect.json"
    fi
    fxtool layers "$MNT" "$root" "$T/image-inspect.json" "$T/layers.json"
    local names=()
    for c in $ids; do names+=("$($DOCKER inspect -f '{{.Name}}' "$c" | sed 's#^/##')"); done
    fxtool logs "$DOCKER" "$T/logs.json" "${names[@]}"
    for n in "${names[@]}"; do
        if [ "$keep" != "${keep/ $n /}" ]; then
            $DOCKER export "$n" | gzip -9n >"$T/export-$n.tar.gz"
            pairs+=("$n=$T/export-$n.tar.gz")
        else
            $DOCKER export "$n" >"$W/export-$n.tar"
            pairs+=("$n=$W/export-$n.tar")
        fi
    done
    fxtool exports "$T/exports.json" "${pairs[@]}"
    for c in $ids; do CG_IDS+=("$c"); done
}

post_capture() { # truth-dir root intended.json|-   (daemon stopped, image still mounted)
    local T=$1 root=$2 intended=$3
    fxtool whiteouts "$MNT" "$root" "$T/layers.json" "$T/container-inspect.json" "$intended" \
        "$T/whiteouts.json" "$T/layer-contents.json"
    fxtool check_state "$MNT" "$root" "$T/container-inspect.json" "$T/state-on-disk.json"
}

manifest() { # fixture truth-dir uuid docker_root docker_root_effective notes...
    local fx=$1 T=$2 uuid=$3 droot=$4 eff=$5
    shift 5
    $PY - "$W/spec-$fx.json" "$fx" "$MKFS_CMD" "$uuid" "$IMG_SIZE" "$IMG_SHA" "$IMG_GZ_SHA" \
        "$droot" "$eff" "$@" <<'EOF'
import json, sys
a = sys.argv
json.dump({"name": a[2], "mkfs": a[3], "uuid": a[4], "image": a[2] + ".img.gz",
           "image_size": int(a[5]), "image_sha256": a[6], "image_gz_sha256": a[7],
           "docker_root": a[8], "docker_root_effective": a[9], "notes": a[10:]},
          open(a[1], "w"), indent=2)
EOF
    fxtool manifest "$W/spec-$fx.json" "$T" "$OUT/$fx.json"
}

# ---------------------------------------------------------------- fixture: docker-host

fx_docker_host() {
    local fx=docker-host T=$OUT/docker-host uuid=d0c4e500-0000-4000-8000-00000000d001
    local root=/var/lib/docker
    log "== $fx"
    rm -rf "$T"; mkdir -p "$T"
    new_image $fx 112M $uuid dockerhost
    host_tree dockerhost01
    cat >"$MNT"/etc/docker/daemon.json <<'EOF'
{
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"],
  "storage-driver": "overlay2",
  "log-driver": "json-file"
}
EOF
    mkdir -p "$MNT"/etc/systemd/system/docker.service.d
    cat >"$MNT"/etc/systemd/system/docker.service.d/override.conf <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/bin/dockerd -H tcp://0.0.0.0:2375 -H fd://
EOF
    start_daemon $fx $root 0
    import_base

    # ---- app:1 (multi-layer, whiteout + opaque dir inside image layers)
    local C=$W/ctx-app
    rm -rf "$C"; mkdir -p "$C"/app/data "$C"/app/lib
    cat >"$C"/app/run.sh <<'EOF'
#!/bin/sh
echo "app: starting (APP_MODE=$APP_MODE)"
echo "app: serving from /app"
exec sleep 100000
EOF
    chmod 755 "$C"/app/run.sh
    echo "whiteout fixture application" >"$C"/app/README.txt
    echo "alpha record 1 (deleted later by container web)" >"$C"/app/data/a.txt
    echo "bravo: SECRET-IN-LOWER-LAYER (deleted by a later image layer)" >"$C"/app/data/b.txt
    echo "charlie record 3" >"$C"/app/data/c.txt
    echo "lib v1 core" >"$C"/app/lib/libv1.txt
    echo "lib v1 extra" >"$C"/app/lib/libv1-extra.txt
    printf '[app]\nlisten=0.0.0.0:8080\nmode=production\ndb_url=postgres://app:app-db-pass@db/app\n' >"$C"/app.conf
    binfile "$C"/appbin 16384
    cat >"$C"/Dockerfile <<'EOF'
FROM base:1
LABEL org.opencontainers.image.title="app" com.example.fixture="whiteout"
ENV APP_HOME=/app APP_MODE=production
COPY app/ /app/
COPY app.conf /etc/app.conf
COPY appbin /app/bin/appbin
RUN mkdir -p /opt/cache /var/log/app && echo "cache entry one" > /opt/cache/c1.dat && echo "cache entry two" > /opt/cache/c2.dat && echo "app image built" > /var/log/app/build.log
RUN rm /app/data/b.txt
RUN rm -rf /app/lib && mkdir /app/lib && echo "lib v2 replaces lib v1" > /app/lib/libv2.txt
WORKDIR /app
EXPOSE 8080
CMD ["/app/run.sh"]
EOF
    $DOCKER build -q --network none -t app:1 "$C" >/dev/null
    $DOCKER tag app:1 app:latest

    # ---- tool:2 (FROM app:1), built twice: the first build becomes a dangling image
    local v
    for v in 2.0-rc1 2.0; do
        C=$W/ctx-tool-$v
        rm -rf "$C"; mkdir -p "$C"
        cat >"$C"/Dockerfile <<EOF
FROM app:1
RUN mkdir -p /usr/local/bin && printf '#!/bin/sh\\necho "tool $v"\\n' > /usr/local/bin/tool && chmod 755 /usr/local/bin/tool
EOF
        $DOCKER build -q --network none -t tool:2 "$C" >/dev/null
    done

    # ---- junk:1, built then removed (docker rmi): its layer directory is deleted
    C=$W/ctx-junk
    rm -rf "$C"; mkdir -p "$C"
    cat >"$C"/Dockerfile <<'EOF'
FROM base:1
RUN mkdir /junk && yes "JUNK-LAYER-MARKER-0b7e removed image data" | head -c 65536 > /junk/blob.txt
EOF
    $DOCKER build -q --network none -t junk:1 "$C" >/dev/null
    $DOCKER image inspect junk:1 >"$W/junk-inspect.json"
    fxtool layers "$MNT" $root "$W/junk-inspect.json" "$T/removed-images.json"
    $DOCKER rmi junk:1 >/dev/null
    $PY - "$T/removed-images.json" "$MNT$root" <<'EOF'
import json, os, sys
imgs = json.load(open(sys.argv[1]))
for im in imgs:
    for l in im["layers"]:
        l["deleted_from_disk"] = not os.path.exists(os.path.join(sys.argv[2], "overlay2", l["cache_id"]))
json.dump(imgs, open(sys.argv[1], "w"), indent=2)
EOF

    # ---- web: left running, with whiteout, opaque dir, copy-up, new and deleted files
    $DOCKER run -d --name web --network none --hostname web01 --restart unless-stopped \
        -e DB_PASSWORD=hunter2-fixture --label com.example.role=frontend app:1 >/dev/null
    sleep 1
    dx web sh -c 'rm /app/data/a.txt'
    dx web sh -c 'rm -rf /opt/cache && mkdir /opt/cache && echo "web cache rebuilt" > /opt/cache/web.dat'
    dx web sh -c 'echo "# appended by web: listen=0.0.0.0:9090" >> /etc/app.conf'
    dx web sh -c 'mkdir -p /data && echo "customer notes WEB-DATA-MARKER" > /data/notes.txt && yes WEB-UPLOAD-BLOCK | head -c 8192 > /data/upload.bin'
    dx web sh -c 'echo "web: GET /index.html 200" > /proc/1/fd/1; echo "web: GET /admin 403" > /proc/1/fd/1; echo "web: warning: slow upstream WEB-LOG-MARKER" > /proc/1/fd/2'

    # ---- worker: exits with code 3 after writing log lines
    $DOCKER run -d --name worker --network none tool:2 sh -c \
        'for i in 1 2 3 4 5; do echo "worker: job $i done"; done; echo "worker: job 6 failed WORKER-ERR-MARKER" >&2; echo partial > /tmp/worker.out; exit 3' >/dev/null
    [ "$($DOCKER wait worker)" = 3 ] || die "worker did not exit 3"

    # ---- priv: dangerous configuration (privileged, docker.sock, host root, host pid ns).
    # runc grants a --privileged container every capability the kernel knows; where this
    # machine's bounding set lacks one (here CAP_SYS_RESOURCE) runc fails with "unable to
    # apply caps" and docker leaves the container "created" with State.Error set. So also
    # run allcaps: the same dangerous mounts with --cap-add ALL minus what is missing.
    local priv_note missing_caps
    missing_caps=$(missing_caps_list)
    if $DOCKER run --name priv --network none --privileged --pid=host \
        -v /var/run/docker.sock:/var/run/docker.sock -v /:/host:ro base:1 true 2>"$W/priv.err"; then
        priv_note="priv ran and exited 0."
    else
        priv_note="priv could NOT start on the build machine ($(grep -o 'unable to apply caps[^.:]*' "$W/priv.err" | sed -n 1p || true); its capability bounding set lacks ${missing_caps:-?}): it stays in state created with State.Error set; hostconfig.json still has Privileged=true, the binds and PidMode=host."
        log "$priv_note"
    fi
    # shellcheck disable=SC2046
    $DOCKER run --name allcaps --network none --cap-add ALL $(for c in $missing_caps; do printf -- '--cap-drop %s ' "$c"; done) \
        --security-opt seccomp=unconfined --pid=host \
        -v /var/run/docker.sock:/var/run/docker.sock -v /:/host:ro base:1 \
        sh -c 'ls /host/etc/hostname /var/run/docker.sock >/dev/null && echo "allcaps: host root and docker.sock reachable"'

    # ---- volwriter: named volume
    $DOCKER volume create --label com.example.fixture=whiteout vol1 >/dev/null
    $DOCKER run --name volwriter --network none -v vol1:/vol base:1 \
        sh -c 'echo "VOL1-MARKER payload" > /vol/data.txt && echo "volwriter: wrote /vol/data.txt"'

    # ---- loclog: local log driver (local-logs/container.log, protobuf frames)
    $DOCKER run --name loclog --network none --log-driver local base:1 \
        sh -c 'for i in 1 2 3; do echo "loclog: LOCAL-LOG-MARKER line $i"; done'

    # ---- created-only: created, never started
    $DOCKER create --name created-only --network none base:1 echo never-ran >/dev/null

    # ---- gone: writes files and logs, then removed (docker rm)
    $DOCKER run -d --name gone --network none app:1 sh -c \
        'mkdir -p /secret && echo "GONE-LOOT-3f9a aws_secret_access_key=FIXTUREONLYgoneKEY" > /secret/loot.txt && yes GONE-DUMP-BLOCK | head -c 6000 > /secret/dump.bin && rm /etc/app.conf && echo "gone: GONE-MARKER-5c1d9e staged /secret/loot.txt" && echo "gone: exiting"' >/dev/null
    [ "$($DOCKER wait gone)" = 0 ] || die "gone did not exit 0"
    $DOCKER inspect gone >"$T/removed-inspect.json"
    fxtool removed "$MNT" $root "$T/removed-inspect.json" "$T/removed.json"
    CG_IDS+=("$($DOCKER inspect -f '{{.Id}}' gone)")
    $DOCKER rm gone >/dev/null

    # ---- web, last write: a file created in its rw layer, synced, then deleted (no
    # whiteout: nothing below it). Done last so later allocations do not reuse its blocks.
    local scratch_sha scratch_ino
    scratch_ino=$(dx web sh -c 'for i in $(seq 1 2048); do printf "WEB-SCRATCH-DELETED-MARKER line %04d\n" $i; done > /tmp/scratch.txt && sync && stat -c %i /tmp/scratch.txt')
    dx web sh -c 'sleep 1 && rm /tmp/scratch.txt && sync'
    scratch_sha=$(for i in $(seq 1 2048); do printf "WEB-SCRATCH-DELETED-MARKER line %04d\n" "$i"; done | sha256sum | cut -d" " -f1)

    # ---- ground truth (daemon up)
    capture $fx "$T" $root "web worker"
    local web_id web_pid
    web_id=$($DOCKER inspect -f '{{.Id}}' web)
    web_pid=$($DOCKER inspect -f '{{.State.Pid}}' web)
    [ "$(tr '\0' ' ' </proc/"$web_pid"/cmdline)" = "sleep 100000 " ] || die "unexpected web pid $web_pid"
    $PY - "$T/running.json" web "$web_id" "$web_pid" "$(cat "$PIDFILE")" <<'EOF'
import json, sys
json.dump([{"name": sys.argv[2], "id": sys.argv[3], "pid": int(sys.argv[4]), "dockerd_pid": int(sys.argv[5]),
            "how": "SIGKILL to dockerd, containerd, the shims and the container process while running; "
                   "State.Running stays true in config.v2.json"}], open(sys.argv[1], "w"), indent=2)
EOF
    cat >"$W/intended-$fx.json" <<EOF
{
  "image_layers": [
    {"image": "app:1", "created_by_contains": "rm /app/data/b.txt",
     "whiteouts": ["/app/data/b.txt"]},
    {"image": "app:1", "created_by_contains": "rm -rf /app/lib",
     "opaque_dirs": ["/app/lib"], "hidden_lower_entries": ["/app/lib/libv1.txt", "/app/lib/libv1-extra.txt"],
     "new_files": ["/app/lib/libv2.txt"]}
  ],
  "containers": {
    "web": {
      "whiteouts": ["/app/data/a.txt"],
      "opaque_dirs": ["/opt/cache"],
      "hidden_lower_entries": ["/opt/cache/c1.dat", "/opt/cache/c2.dat"],
      "copy_ups": ["/etc/app.conf"],
      "new_files": ["/data/notes.txt", "/data/upload.bin", "/opt/cache/web.dat"],
      "rw_deleted": [{"path": "/tmp/scratch.txt", "size": 75776, "sha256": "$scratch_sha", "ino": $scratch_ino,
                      "content": "lines 'WEB-SCRATCH-DELETED-MARKER line NNNN' for NNNN = 0001..2048", "note": "created in the rw layer, synced, then rm'd: no whiteout, freed inode and blocks"}],
      "log_markers": ["app: starting", "WEB-LOG-MARKER"]
    },
    "gone": {"removed": true, "whiteouts": ["/etc/app.conf"], "new_files": ["/secret/loot.txt", "/secret/dump.bin"],
             "log_markers": ["GONE-MARKER-5c1d9e"]}
  }
}
EOF

    # ---- crash the daemon with web running, then record what is on disk
    CT_PIDS=("$web_pid")
    kill_hard
    post_capture "$T" $root "$W/intended-$fx.json"
    cgroup_cleanup
    finish_image $fx "$T" WEB-SCRATCH-DELETED-MARKER WEB-DATA-MARKER WEB-LOG-MARKER WORKER-ERR-MARKER \
        GONE-LOOT-3f9a GONE-MARKER-5c1d9e GONE-DUMP-BLOCK JUNK-LAYER-MARKER-0b7e VOL1-MARKER \
        LOCAL-LOG-MARKER SECRET-IN-LOWER-LAYER
    manifest $fx "$T" $uuid /var/lib/docker /var/lib/docker \
        "Real dockerd $($DOCKER --version | sed 's/^Docker version //') (Debian docker.io) writing overlay2 onto a loop-mounted ext4 image; kernel $(uname -r)." \
        "dockerd ran with explicit flags (-H unix:///var/run/docker.sock, --bridge=none, --iptables=false) and an empty --config-file; /etc/docker/daemon.json (hosts incl. tcp://0.0.0.0:2375) and the systemd drop-in (-H tcp://0.0.0.0:2375) are evidence only, nothing listened on tcp." \
        "dockerd, containerd and shims ran in a private mount namespace where the image's /var/lib/docker and /etc/docker were bind-mounted at those paths, so config.v2.json paths are the real host paths; /etc/docker/key.json was written by dockerd itself." \
        "Container web was RUNNING when dockerd, containerd, the shims and its process were SIGKILLed: config.v2.json keeps State.Running=true (see running.json, state-on-disk.json). Its overlay was torn down with the namespace, not unmounted by docker (merged/ is an empty dir)." \
        "Container gone was removed with docker rm after exiting 0; removed.json/removed-inspect.json hold its id, mount id, log lines and files (sha256) captured before removal. Its directories are gone; traces may remain in freed blocks/journal." \
        "Image junk:1 was built and removed with docker rmi (removed-images.json); tool:2 was built twice, the first build is a dangling <none> image; app:1 is also tagged app:latest. Classic builder (DOCKER_BUILDKIT=0) intermediate images are present (images-all.txt) and its intermediate build containers were removed." \
        "priv: docker run --privileged --pid=host -v /var/run/docker.sock:/var/run/docker.sock -v /:/host:ro base:1 true. $priv_note allcaps ran with the same binds and --pid=host, --cap-add ALL${missing_caps:+ --cap-drop $missing_caps}, seccomp=unconfined and exited 0. Bind sources resolved in the daemon's namespace: the socket is the daemon's own, / is the build machine's root." \
        "Volume vol1 written by volwriter; loclog uses --log-driver local; created-only was created but never started; worker exited with code 3." \
        "web's /tmp/scratch.txt (rw_deleted in whiteouts.json intended) was written, synced and deleted inside the running container as the last write; markers.json counts each marker string in the raw image (what survives in freed blocks, the journal and live files)." \
        "whiteouts.json: observed overlay marks per image layer and per container rw layer (scanned through the mount after the daemon died) plus the intended operations; layer-contents.json lists every entry (with inode numbers) of every layer dir."
}

# ---------------------------------------------------------------- fixture: docker-dataroot

fx_docker_dataroot() {
    local fx=docker-dataroot T=$OUT/docker-dataroot uuid=d0c4e500-0000-4000-8000-00000000d002
    local root=/srv/docker-data
    log "== $fx"
    rm -rf "$T"; mkdir -p "$T"
    new_image $fx 64M $uuid dataroot
    host_tree dataroot01
    cat >"$MNT"/etc/docker/daemon.json <<'EOF'
{
  "data-root": "/srv/docker-data",
  "storage-driver": "overlay2"
}
EOF
    start_daemon $fx $root 0
    import_base
    $DOCKER run --name job --network none base:1 \
        sh -c 'echo "job: DATAROOT-MARKER run"; echo "data-root result" > /result.txt'
    capture $fx "$T" $root ""
    stop_clean
    post_capture "$T" $root -
    cgroup_cleanup
    finish_image $fx "$T" DATAROOT-MARKER
    manifest $fx "$T" $uuid /srv/docker-data /srv/docker-data \
        "Docker root moved by /etc/docker/daemon.json \"data-root\": \"/srv/docker-data\"; there is no /var/lib/docker." \
        "dockerd ran in a private mount namespace with the image's /srv/docker-data bind-mounted at /srv/docker-data (--data-root /srv/docker-data), so stored paths are the host's." \
        "One image (base:1, docker import of a busybox rootfs), one stopped container job (exit 0, wrote /result.txt). dockerd was stopped cleanly (SIGTERM)." \
        "exports.json lists the docker export of job (the tar itself is not kept)."
}

# ---------------------------------------------------------------- fixture: docker-userns

fx_docker_userns() {
    local fx=docker-userns T=$OUT/docker-userns uuid=d0c4e500-0000-4000-8000-00000000d003
    local root=/var/lib/docker eff
    log "== $fx"
    rm -rf "$T"; mkdir -p "$T"
    new_image $fx 64M $uuid userns
    host_tree userns01
    cat >"$MNT"/etc/docker/daemon.json <<'EOF'
{
  "userns-remap": "default",
  "storage-driver": "overlay2"
}
EOF
    start_daemon $fx $root 1 --userns-remap=default
    eff=$($DOCKER info -f '{{.DockerRootDir}}')
    [ "$eff" = /var/lib/docker/165536.165536 ] || die "unexpected remapped root $eff"
    import_base
    $DOCKER run --name remapped --network none base:1 \
        sh -c 'id; echo "USERNS-MARKER owned by container root" > /root/owned.txt; ls -ln /root/owned.txt'
    capture $fx "$T" "$eff" ""
    stop_clean
    post_capture "$T" "$eff" -
    cgroup_cleanup
    finish_image $fx "$T" USERNS-MARKER
    manifest $fx "$T" $uuid /var/lib/docker "$eff" \
        "userns-remap=default: daemon.json \"userns-remap\": \"default\", user dockremap in /etc/passwd, dockremap:165536:65536 in /etc/subuid and /etc/subgid; the live Docker root is /var/lib/docker/165536.165536 and files in layers and containers are owned by 165536+ on disk." \
        "The dockremap user and the subuid/subgid ranges came from the image's own /etc files, bind-mounted over this machine's in dockerd's private mount namespace (this machine was not modified)." \
        "One image (base:1), one stopped container remapped (exit 0, wrote /root/owned.txt). dockerd was stopped cleanly (SIGTERM)." \
        "exports.json lists the docker export of remapped (uids as seen inside the container; the tar itself is not kept)."
}

# ---------------------------------------------------------------- fixture: docker-overlay

# The legacy overlay (v1) driver: overlay/<id>/root (a full copy of the lowest
# layer's tree, hard links for unchanged files in the layers above), overlay/<id>/upper
# + lower-id for the others. The fxtool ground truth is overlay2-specific, so this
# fixture keeps docker inspect and the docker export of the container (the merged view
# as the daemon showed it) and writes its manifest itself.
fx_docker_overlay() {
    local fx=docker-overlay T=$OUT/docker-overlay uuid=d0c4e500-0000-4000-8000-00000000d004
    local root=/var/lib/docker C=$W/ctx-ovl
    log "== $fx"
    rm -rf "$T"; mkdir -p "$T"
    new_image $fx 64M $uuid dockeroverlay
    host_tree overlay01
    cat >"$MNT"/etc/docker/daemon.json <<'EOJ'
{
  "storage-driver": "overlay"
}
EOJ
    FX_DRIVER=overlay start_daemon $fx $root 0
    [ "$($DOCKER info -f '{{.Driver}}')" = overlay ] || die "dockerd did not take --storage-driver overlay"
    import_base
    rm -rf "$C"; mkdir -p "$C"
    cat >"$C/Dockerfile" <<'EOD'
FROM base:1
RUN mkdir -p /opt/old && echo "old a" > /opt/old/a.txt && echo "old b" > /opt/old/b.txt && echo "OVL-SECRET" > /etc/secret.conf
RUN rm /etc/secret.conf && rm -rf /opt/old && mkdir /opt/old && echo "new c" > /opt/old/c.txt
EOD
    $DOCKER build -q -t ovl:1 "$C" >/dev/null
    $DOCKER run --name ovlbox --network none ovl:1 \
        sh -c 'rm /etc/motd; echo "OVL-LOOT" > /root/loot.txt; echo appended >> /etc/passwd; echo "OVL-MARKER done"'
    $DOCKER inspect ovlbox >"$T/container-inspect.json"
    $DOCKER image inspect ovl:1 base:1 >"$T/image-inspect.json"
    $DOCKER info --format '{{json .}}' >"$T/info.json"
    $DOCKER export ovlbox >"$W/export-ovlbox.tar"
    CG_IDS+=("$($DOCKER inspect -f '{{.Id}}' ovlbox)")
    stop_clean
    cgroup_cleanup
    $PY - "$W/export-ovlbox.tar" "$T/container-inspect.json" "$T/image-inspect.json" "$MNT$root" "$T/export.json" <<'EOP'
import hashlib, json, os, sys, tarfile
tar, ci, ii, R, out = sys.argv[1:]
ents = []
with tarfile.open(tar) as t:
    for m in t.getmembers():
        n = m.name[2:] if m.name.startswith("./") else m.name
        p = "/" + n.rstrip("/")
        if p == "/":
            continue
        e = {"path": p, "type": "dir" if m.isdir() else "symlink" if m.issym() else "file" if m.isfile() else "other"}
        if m.isfile():
            e["sha256"] = hashlib.sha256(t.extractfile(m).read()).hexdigest(); e["size"] = m.size
        ents.append(e)
c = json.load(open(ci))[0]
g = c["GraphDriver"]["Data"]
mount_id = os.path.basename(os.path.dirname(g["UpperDir"]))
chain = []
cur = mount_id
while True:
    p = os.path.join(R, "overlay", cur, "lower-id")
    if not os.path.exists(p):
        break
    cur = open(p).read().strip(); chain.append(cur)
    if os.path.isdir(os.path.join(R, "overlay", cur, "root")):
        break
json.dump({"container": {"id": c["Id"], "name": c["Name"].lstrip("/"), "driver": c["Driver"], "mount_id": mount_id,
                         "graph_driver": g, "lower_chain": chain, "exit_code": c["State"]["ExitCode"]},
           "images": [{"id": i["Id"], "tags": i["RepoTags"], "layers": i["RootFS"]["Layers"]} for i in json.load(open(ii))],
           "export": sorted(ents, key=lambda e: e["path"])}, open(out, "w"), indent=1)
EOP
    finish_image $fx "$T" OVL-MARKER
    $PY - "$OUT/$fx.json" "$T/export.json" "$MKFS_CMD" "$uuid" "$IMG_SIZE" "$IMG_SHA" "$IMG_GZ_SHA" "$(dockerd --version)" <<'EOP'
import json, sys
out, exp, mkfs, uuid, size, sha, gzsha, ver = sys.argv[1:]
e = json.load(open(exp))
json.dump({"name": "docker-overlay", "synthetic": False, "docker_version": ver, "storage_driver": "overlay",
           "mkfs": mkfs, "uuid": uuid, "image": "docker-overlay.img.gz", "image_size": int(size),
           "image_sha256": sha, "image_gz_sha256": gzsha, "docker_root": "/var/lib/docker",
           "docker_root_effective": "/var/lib/docker", "container": e["container"], "images": e["images"],
           "merged": {"export": e["export"],
                      "deleted": ["/etc/motd", "/etc/secret.conf", "/opt/old/a.txt", "/opt/old/b.txt"]},
           "notes": ["REAL: Debian dockerd 20.10 with --storage-driver overlay (the deprecated v1 driver) on a loop-mounted ext4 image.",
                     "ovl:1 = base:1 + a layer creating /opt/old/{a,b}.txt and /etc/secret.conf + a layer deleting them (whiteout, opaque /opt/old with c.txt).",
                     "Container ovlbox (exited 0) deleted /etc/motd, wrote /root/loot.txt, appended to /etc/passwd (copy-up). dockerd stopped cleanly.",
                     "docker-overlay/export.json: every path of `docker export ovlbox` with sha256 (the merged view as dockerd showed it)."]},
          open(out, "w"), indent=2)
EOP
}

# ---------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || die "run as root: sudo bash scripts/make-docker-fixtures.sh"
if ! command -v dockerd >/dev/null || [ ! -x $DOCKER ] || [ ! -x /bin/busybox ] ||
    ! file -L /bin/busybox 2>/dev/null | grep 'statically linked' >/dev/null; then
    log "installing docker.io busybox-static"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static file >/dev/null
fi
for t in mkfs.ext4 e2fsck losetup unshare setsid gzip sha256sum $PY; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done

preclean
write_helper
[ $# -gt 0 ] || set -- docker-host docker-dataroot docker-userns
for f in "$@"; do
    case "$f" in
        docker-host) fx_docker_host ;;
        docker-dataroot) fx_docker_dataroot ;;
        docker-userns) fx_docker_userns ;;
        docker-overlay) fx_docker_overlay ;;
        *) die "unknown fixture $f" ;;
    esac
done
rm -rf "$W"/export-*.tar "$W"/rootfs "$W"/ctx-* "$W"/*.img   # keep logs; images are in $OUT
log "done: $(cd "$OUT" && ls -l ./*.img.gz | awk '{s+=$5} END {print s}') bytes of images in $OUT"

#!/usr/bin/env bash
# SYNTHETIC Docker fixture: an aufs-driver Docker root (this kernel has no
# aufs and Debian's dockerd is 20.10, so the tree is written as plain files
# in the real on-disk formats) packed into a real ext4 image with
# `mkfs.ext4 -d` (no root, no mount needed). Output:
#   testdata/docker-synthetic/docker-aufs.img.gz + docker-aufs.json (synthetic: true)
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/docker-synthetic
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" "$out/docker-aufs.json" <<'PY'
import hashlib, json, os, sys
root, manifest = sys.argv[1], sys.argv[2]
D = os.path.join(root, "var/lib/docker")
def w(path, data, mode=0o644):
    p = os.path.join(D, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(p, mode)
def mk(path):
    os.makedirs(os.path.join(D, path), exist_ok=True)
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
# Two image layers (bottom, top) + init + container rw layer.
L1, L2 = "a1" * 32, "b2" * 32
mk(f"aufs/diff/{L1}/etc"); w(f"aufs/diff/{L1}/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
w(f"aufs/diff/{L1}/etc/secret.conf", "SYNTH-AUFS-SECRET\n")
mk(f"aufs/diff/{L1}/opt/old"); w(f"aufs/diff/{L1}/opt/old/a.txt", "old a\n"); w(f"aufs/diff/{L1}/opt/old/b.txt", "old b\n")
w(f"aufs/diff/{L1}/.wh..wh.aufs", "", 0o444); mk(f"aufs/diff/{L1}/.wh..wh.plnk"); mk(f"aufs/diff/{L1}/.wh..wh.orph")
# L2 deletes /etc/secret.conf and recreates /opt/old (opaque) with c.txt
mk(f"aufs/diff/{L2}/etc"); w(f"aufs/diff/{L2}/etc/.wh.secret.conf", "", 0o444)
mk(f"aufs/diff/{L2}/opt/old"); w(f"aufs/diff/{L2}/opt/old/.wh..wh..opq", "", 0o444); w(f"aufs/diff/{L2}/opt/old/c.txt", "new c\n")
mk(f"aufs/diff/{L2}/.wh..wh.plnk")
CID = "c0" * 32
M = "d3" * 32
mk(f"aufs/diff/{M}-init/etc"); w(f"aufs/diff/{M}-init/etc/hostname", "", 0o755); w(f"aufs/diff/{M}-init/.dockerenv", "", 0o755)
mk(f"aufs/diff/{M}/etc"); w(f"aufs/diff/{M}/etc/.wh.passwd", "", 0o444)
mk(f"aufs/diff/{M}/root"); w(f"aufs/diff/{M}/root/loot.txt", "SYNTH-AUFS-LOOT\n")
for d in (L1, L2, M, M + "-init"):
    mk(f"aufs/mnt/{d}")
w(f"aufs/layers/{L1}", "")
w(f"aufs/layers/{L2}", f"{L1}\n")
w(f"aufs/layers/{M}-init", f"{L2}\n{L1}\n")
w(f"aufs/layers/{M}", f"{M}-init\n{L2}\n{L1}\n")
d1, d2 = sha(b"layer-one"), sha(b"layer-two")
c1 = d1
c2 = sha(f"{c1} {d2}".encode())
for chain, diff, parent, cache in ((c1, d1, None, L1), (c2, d2, c1, L2)):
    base = f"image/aufs/layerdb/sha256/{chain[7:]}"
    w(f"{base}/diff", diff); w(f"{base}/cache-id", cache); w(f"{base}/size", "12")
    if parent:
        w(f"{base}/parent", parent)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2016-01-02T03:04:05Z",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
    "history": [{"created": "2016-01-02T03:04:05Z", "created_by": "ADD rootfs"},
                {"created": "2016-01-02T03:04:06Z", "created_by": "RUN rm /etc/secret.conf && rm -rf /opt/old && mkdir /opt/old"}],
    "rootfs": {"type": "layers", "diff_ids": [d1, d2]}}, separators=(",", ":")).encode()
IMG = sha(cfg)
w(f"image/aufs/imagedb/content/sha256/{IMG[7:]}", cfg)
mk(f"image/aufs/imagedb/metadata/sha256")
w("image/aufs/repositories.json", json.dumps({"Repositories": {"old": {"old:1": IMG}}}))
w(f"image/aufs/layerdb/mounts/{CID}/mount-id", M)
w(f"image/aufs/layerdb/mounts/{CID}/init-id", M + "-init")
w(f"image/aufs/layerdb/mounts/{CID}/parent", c2)
state = {"Running": False, "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False, "Pid": 0,
         "ExitCode": 7, "Error": "", "StartedAt": "2016-01-02T04:00:00Z", "FinishedAt": "2016-01-02T04:01:00Z"}
w(f"containers/{CID}/config.v2.json", json.dumps({"ID": CID, "Name": "/oldbox", "Created": "2016-01-02T03:59:00Z",
    "Path": "/bin/sh", "Args": [], "Config": {"Image": "old:1", "Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
    "Image": IMG, "State": state, "Driver": "aufs", "LogPath": "", "MountPoints": {}}))
w(f"containers/{CID}/hostconfig.json", json.dumps({"Binds": None, "Privileged": False, "NetworkMode": "host",
    "LogConfig": {"Type": "json-file"}}))
json.dump({
    "name": "docker-aufs", "synthetic": True,
    "note": "SYNTHETIC: an aufs Docker root written as plain files in the real formats (this kernel has no aufs); packed with mkfs.ext4 -d",
    "docker_root": "/var/lib/docker", "storage_driver": "aufs",
    "containers": [{"id": CID, "name": "oldbox", "image": "old:1", "image_id": IMG, "mount_id": M, "init_id": M + "-init",
                    "running": False, "exit_code": 7, "network_mode": "host"}],
    "images": [{"id": IMG, "tags": ["old:1"], "layers": [{"diff_id": d1, "chain_id": c1, "cache_id": L1}, {"diff_id": d2, "chain_id": c2, "cache_id": L2}]}],
    "merged": {"visible": ["/.dockerenv", "/etc", "/etc/hostname", "/opt", "/opt/old", "/opt/old/c.txt", "/root", "/root/loot.txt"],
               "deleted": {"/etc/passwd": "aufs-whiteout", "/etc/secret.conf": "aufs-whiteout", "/opt/old/a.txt": "opaque", "/opt/old/b.txt": "opaque"}},
    "layer_marks": {L1: {"whiteouts": [], "opaque_dirs": []}, L2: {"whiteouts": ["/etc/secret.conf"], "opaque_dirs": ["/opt/old"]},
                    M: {"whiteouts": ["/etc/passwd"], "opaque_dirs": []}},
}, open(manifest, "w"), indent=2)
PY
rm -f "$out/docker-aufs.img"
# Fixed UUID and hash seed, no timestamps from the build machine in the superblock beyond mkfs time.
E2FSPROGS_FAKE_TIME=1451703845 mkfs.ext4 -q -F -T default -L dockeraufs -U d0c4e500-0000-4000-8000-00000000d0a1 \
    -E hash_seed=d0c4e500-0000-4000-8000-00000000d0a2 -d "$tmp" "$out/docker-aufs.img" 16M
gzip -9nf "$out/docker-aufs.img"
echo "wrote $out/docker-aufs.img.gz"

# ---------------------------------------------------------------------------
# SYNTHETIC Docker 29 containerd image store (Debian's dockerd is 20.10): a
# Docker root whose container says Driver "overlayfs", with the system
# containerd's BoltDB files written page by page by scripts/boltwrite.py
# (bbolt's exact format), overlayfs snapshots with 0/0 whiteouts and an
# opaque dir, and content-store blobs (index, manifest, config). Output:
#   testdata/docker-synthetic/docker-containerd.img.gz + docker-containerd.json
tmp2=$(mktemp -d)
trap 'rm -rf "$tmp" "$tmp2"' EXIT
python3 - "$tmp2" "$out/docker-containerd.json" <<'PY'
import hashlib, json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
import boltwrite as bw
root, manifest_out = sys.argv[1], sys.argv[2]
D = os.path.join(root, "var/lib/docker")
C = os.path.join(root, "var/lib/containerd")
def w(base, path, data, mode=0o644):
    p = os.path.join(base, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(p, mode)
def mk(base, path, mode=0o755):
    p = os.path.join(base, path); os.makedirs(p, exist_ok=True); os.chmod(p, mode); return p
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
S = "io.containerd.snapshotter.v1.overlayfs/snapshots"
# Layer 1 (snapshot 1), layer 2 (snapshot 2), init (3), container (4).
mk(C, f"{S}/1/fs/etc"); w(C, f"{S}/1/fs/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
w(C, f"{S}/1/fs/etc/secret.conf", "SYNTH-CTRD-SECRET\n")
mk(C, f"{S}/1/fs/opt/old"); w(C, f"{S}/1/fs/opt/old/a.txt", "old a\n"); w(C, f"{S}/1/fs/opt/old/b.txt", "old b\n")
mk(C, f"{S}/1/fs/bin"); w(C, f"{S}/1/fs/bin/sh", "#!synthetic shell\n", 0o755)
mk(C, f"{S}/2/fs/etc"); os.mknod(os.path.join(C, f"{S}/2/fs/etc/secret.conf"), 0o20000, os.makedev(0, 0))
opq = mk(C, f"{S}/2/fs/opt/old"); os.setxattr(opq, "trusted.overlay.opaque", b"y")
w(C, f"{S}/2/fs/opt/old/c.txt", "new c\n")
mk(C, f"{S}/3/fs/etc"); w(C, f"{S}/3/fs/etc/hostname", "", 0o755); w(C, f"{S}/3/fs/.dockerenv", "", 0o755)
mk(C, f"{S}/4/fs/etc"); os.mknod(os.path.join(C, f"{S}/4/fs/etc/passwd"), 0o20000, os.makedev(0, 0))
mk(C, f"{S}/4/fs/root", 0o700); w(C, f"{S}/4/fs/root/loot.txt", "SYNTH-CTRD-LOOT\n")
for n in (1, 2, 3, 4):
    mk(C, f"{S}/{n}/work")
# Content store: config, manifest, index.
l1, l2 = b"layer-one-tar", b"layer-two-tar"
d1, d2 = sha(l1), sha(l2)
c1 = d1
c2 = sha(f"{c1} {d2}".encode())
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2025-11-02T03:04:05Z",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
    "history": [{"created": "2025-11-02T03:04:05Z", "created_by": "ADD rootfs"},
                {"created": "2025-11-02T03:04:06Z", "created_by": "RUN rm /etc/secret.conf && rm -rf /opt/old && mkdir /opt/old"}],
    "rootfs": {"type": "layers", "diff_ids": [d1, d2]}}, separators=(",", ":")).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d1, "size": len(l1)},
               {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d2, "size": len(l2)}]},
    separators=(",", ":")).encode()
idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man),
                   "platform": {"architecture": "amd64", "os": "linux"}}]}, separators=(",", ":")).encode()
B = "io.containerd.content.v1.content/blobs/sha256"
for b in (cfg, man, idx):
    w(C, f"{B}/{sha(b)[7:]}", b, 0o444)
IMG = sha(idx)
CID = "e5" * 32
T0 = 1762052645  # 2025-11-02T03:04:05Z
ts = lambda d: {b"createdat": bw.go_time(T0 + d), b"updatedat": bw.go_time(T0 + d)}
keys = [(c1, None, 1, 3), (c2, c1, 2, 3), (f"{CID}-init", c2, 3, 3), (CID, f"{CID}-init", 4, 2)]
meta_snaps, back_snaps = {}, {}
for key, parent, n, kind in keys:
    m = {b"name": f"moby/{n}/{key}".encode(), b"children": {}, b"labels": {}, **ts(n)}
    if parent:
        m[b"parent"] = parent.encode()
    meta_snaps[key.encode()] = m
    b = {b"id": bw.uvarint(n), b"kind": bytes([kind]), b"inodes": bw.varint(4), b"size": bw.varint(0), b"labels": {}, **ts(n)}
    if parent:
        pn = [x for x in keys if x[0] == parent][0][2]
        b[b"parent"] = f"moby/{pn}/{parent}".encode()
    back_snaps[f"moby/{n}/{key}".encode()] = b
# A snapshot of another namespace, ignored.
back_snaps[b"default/9/sha256:" + b"0" * 64] = {b"id": bw.uvarint(9), b"kind": bytes([3])}
meta = {b"v1": {b"version": bw.uvarint(3), b"moby": {
    b"images": {b"synth/app:29": {b"target": {b"digest": IMG.encode(), b"mediatype": b"application/vnd.oci.image.index.v1+json",
                                               b"size": bw.varint(len(idx))}, b"labels": {}, **ts(0)}},
    b"containers": {CID.encode(): {b"image": b"synth/app:29", b"snapshotter": b"overlayfs", b"snapshotKey": CID.encode(),
                                   b"runtime": {b"name": b"io.containerd.runc.v2"}, b"labels": {b"com.docker/engine.bundle.path": f"/var/run/docker/containerd/{CID}".encode()}, **ts(10)}},
    b"snapshots": {b"overlayfs": meta_snaps},
    b"content": {b"blob": {sha(x).encode(): {b"size": bw.varint(len(x)), **ts(0)} for x in (cfg, man, idx)}},
}}}
os.makedirs(os.path.join(C, "io.containerd.metadata.v1.bolt"))
bw.write(meta, os.path.join(C, "io.containerd.metadata.v1.bolt/meta.db"))
bw.write({b"v1": {b"snapshots": back_snaps, b"parents": {}}}, os.path.join(C, "io.containerd.snapshotter.v1.overlayfs/metadata.db"))
# The Docker root: containers/, volumes/, network/ (no image/, no layerdb).
mk(D, "volumes"); mk(D, "network/files"); mk(D, "buildkit")
state = {"Running": True, "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False, "Pid": 4242,
         "ExitCode": 0, "Error": "", "StartedAt": "2025-11-02T03:05:00Z", "FinishedAt": "0001-01-01T00:00:00Z"}
w(D, f"containers/{CID}/config.v2.json", json.dumps({"ID": CID, "Name": "/web29", "Created": "2025-11-02T03:04:55Z",
    "Path": "/bin/sh", "Args": [], "Config": {"Image": "synth/app:29", "Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
    "Image": IMG, "State": state, "Driver": "overlayfs", "LogPath": "", "MountPoints": {}}))
w(D, f"containers/{CID}/hostconfig.json", json.dumps({"Binds": None, "Privileged": False, "NetworkMode": "bridge",
    "LogConfig": {"Type": "json-file"}}))
json.dump({
    "name": "docker-containerd", "synthetic": True,
    "note": "SYNTHETIC: a Docker 29 containerd image store (driver overlayfs) written as plain files; the BoltDB files are written page by page by scripts/boltwrite.py; packed with mkfs.ext4 -d",
    "docker_root": "/var/lib/docker", "containerd_root": "/var/lib/containerd", "storage_driver": "overlayfs",
    "containers": [{"id": CID, "name": "web29", "image": "synth/app:29", "image_id": IMG, "running": True, "pid": 4242,
                    "snapshot_key": CID, "init": f"{CID}-init", "parent_chain_id": c2,
                    "layer_dirs": [f"/var/lib/containerd/{S}/{n}/fs" for n in (4, 3, 2, 1)]}],
    "images": [{"id": IMG, "tags": ["synth/app:29"], "config_digest": sha(cfg), "manifest_digest": sha(man),
                "layers": [{"diff_id": d1, "chain_id": c1, "snapshot": 1}, {"diff_id": d2, "chain_id": c2, "snapshot": 2}]}],
    "merged": {"visible": ["/.dockerenv", "/bin", "/bin/sh", "/etc", "/etc/hostname", "/opt", "/opt/old", "/opt/old/c.txt", "/root", "/root/loot.txt"],
               "deleted": {"/etc/passwd": "whiteout", "/etc/secret.conf": "whiteout", "/opt/old/a.txt": "opaque", "/opt/old/b.txt": "opaque"}},
}, open(manifest_out, "w"), indent=2)
PY
rm -f "$out/docker-containerd.img"
E2FSPROGS_FAKE_TIME=1762052645 mkfs.ext4 -q -F -T default -L dockerctrd -U d0c4e500-0000-4000-8000-00000000c7d1 \
    -E hash_seed=d0c4e500-0000-4000-8000-00000000c7d2 -I 256 -d "$tmp2" "$out/docker-containerd.img" 16M
gzip -9nf "$out/docker-containerd.img"
echo "wrote $out/docker-containerd.img.gz"

# ---------------------------------------------------------------------------
# SYNTHETIC legacy v1 graph layout (Docker < 1.10, aufs): graph/<id>/json with
# parent links (one image = one layer, random ids), repositories-aufs, a
# container with config.json (not config.v2.json). Output:
#   testdata/docker-synthetic/docker-graph-v1.img.gz + docker-graph-v1.json
tmp3=$(mktemp -d)
trap 'rm -rf "$tmp" "$tmp2" "$tmp3"' EXIT
python3 - "$tmp3" "$out/docker-graph-v1.json" <<'PY'
import json, os, sys
root, manifest_out = sys.argv[1], sys.argv[2]
D = os.path.join(root, "var/lib/docker")
def w(path, data, mode=0o644):
    p = os.path.join(D, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(p, mode)
def mk(path):
    os.makedirs(os.path.join(D, path), exist_ok=True)
I1, I2, CID = "1a" * 32, "2b" * 32, "3c" * 32
mk(f"aufs/diff/{I1}/etc"); w(f"aufs/diff/{I1}/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
w(f"aufs/diff/{I1}/etc/secret.conf", "SYNTH-V1-SECRET\n")
mk(f"aufs/diff/{I1}/opt/old"); w(f"aufs/diff/{I1}/opt/old/a.txt", "old a\n")
mk(f"aufs/diff/{I2}/etc"); w(f"aufs/diff/{I2}/etc/.wh.secret.conf", "", 0o444)
mk(f"aufs/diff/{I2}/opt/old"); w(f"aufs/diff/{I2}/opt/old/.wh..wh..opq", "", 0o444); w(f"aufs/diff/{I2}/opt/old/c.txt", "new c\n")
mk(f"aufs/diff/{CID}-init/etc"); w(f"aufs/diff/{CID}-init/etc/hostname", "", 0o755); w(f"aufs/diff/{CID}-init/.dockerenv", "", 0o755)
mk(f"aufs/diff/{CID}/root"); w(f"aufs/diff/{CID}/root/loot.txt", "SYNTH-V1-LOOT\n")
mk(f"aufs/diff/{CID}/etc"); w(f"aufs/diff/{CID}/etc/.wh.passwd", "", 0o444)
for d in (I1, I2, CID, CID + "-init"):
    mk(f"aufs/mnt/{d}")
w(f"aufs/layers/{I1}", ""); w(f"aufs/layers/{I2}", f"{I1}\n")
w(f"aufs/layers/{CID}-init", f"{I2}\n{I1}\n"); w(f"aufs/layers/{CID}", f"{CID}-init\n{I2}\n{I1}\n")
def img(i, parent, created, cmd, size):
    j = {"id": i, "created": created, "container_config": {"Cmd": cmd}, "docker_version": "1.9.1",
         "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]}, "architecture": "amd64", "os": "linux", "Size": size}
    if parent:
        j["parent"] = parent
    w(f"graph/{i}/json", json.dumps(j)); w(f"graph/{i}/layersize", str(size))
img(I1, None, "2015-06-01T10:00:00Z", ["/bin/sh", "-c", "#(nop) ADD file:rootfs in /"], 50)
img(I2, I1, "2015-06-01T10:00:05Z", ["/bin/sh", "-c", "rm /etc/secret.conf && rm -rf /opt/old && mkdir /opt/old"], 6)
w("repositories-aufs", json.dumps({"Repositories": {"legacy": {"1.0": I2}}}))
mk("graph/_tmp"); mk("volumes"); mk("trust")
w(f"containers/{CID}/config.json", json.dumps({"ID": CID, "Name": "/legacybox", "Created": "2015-06-01T11:00:00Z",
    "Path": "/bin/sh", "Args": [], "Config": {"Image": "legacy:1.0", "Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
    "Image": I2, "State": {"Running": False, "Paused": False, "Restarting": False, "OOMKilled": False, "Dead": False,
    "Pid": 0, "ExitCode": 3, "Error": "", "StartedAt": "2015-06-01T11:00:01Z", "FinishedAt": "2015-06-01T11:02:00Z"},
    "Driver": "aufs", "ExecDriver": "native-0.2", "MountLabel": "", "ProcessLabel": "", "Volumes": {}, "VolumesRW": {}}))
w(f"containers/{CID}/hostconfig.json", json.dumps({"Binds": None, "Privileged": True, "NetworkMode": "bridge"}))
json.dump({
    "name": "docker-graph-v1", "synthetic": True,
    "note": "SYNTHETIC: a Docker < 1.10 root (v1 graph layout, aufs) written as plain files in the real formats; packed with mkfs.ext4 -d",
    "docker_root": "/var/lib/docker", "storage_driver": "aufs",
    "images": [{"id": I1, "tags": [], "kind": "intermediate", "parent": None, "chain": [I1], "size": 50},
               {"id": I2, "tags": ["legacy:1.0"], "kind": "tagged", "parent": I1, "chain": [I1, I2], "size": 56}],
    "containers": [{"id": CID, "name": "legacybox", "image": "legacy:1.0", "image_id": I2, "exit_code": 3, "privileged": True,
                    "layers": [CID, CID + "-init", I2, I1]}],
    "merged": {"visible": ["/.dockerenv", "/etc", "/etc/hostname", "/opt", "/opt/old", "/opt/old/c.txt", "/root", "/root/loot.txt"],
               "deleted": {"/etc/passwd": "aufs-whiteout", "/etc/secret.conf": "aufs-whiteout", "/opt/old/a.txt": "opaque"}},
}, open(manifest_out, "w"), indent=2)
PY
rm -f "$out/docker-graph-v1.img"
E2FSPROGS_FAKE_TIME=1433152800 mkfs.ext4 -q -F -T default -L dockerv1 -U d0c4e500-0000-4000-8000-00000000f101 \
    -E hash_seed=d0c4e500-0000-4000-8000-00000000f102 -d "$tmp3" "$out/docker-graph-v1.img" 16M
gzip -9nf "$out/docker-graph-v1.img"
echo "wrote $out/docker-graph-v1.img.gz"

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

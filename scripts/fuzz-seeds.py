#!/usr/bin/env python3
"""Write small seed corpora for the fuzz targets (fuzz/seeds/<target>/) from
the committed fixtures. Needs the release binary (for Docker files) and
nothing else. Usage: python3 scripts/fuzz-seeds.py"""
import gzip, os, re, struct, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TD = os.path.join(ROOT, "testdata")
OUT = os.path.join(ROOT, "fuzz", "seeds")
BIN = os.path.join(ROOT, "target", "release", "whiteout")


def img(rel):
    with gzip.open(os.path.join(TD, rel)) as f:
        return f.read()


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def geometry(b, off=0):
    sb = b[off + 1024: off + 2048]
    bs = 1024 << struct.unpack_from("<I", sb, 24)[0]
    isize = struct.unpack_from("<H", sb, 88)[0]
    first = struct.unpack_from("<I", sb, 20)[0]
    gdt = (first + 1) * bs
    itab = struct.unpack_from("<I", b, off + gdt + 8)[0]
    blocks = struct.unpack_from("<I", sb, 4)[0]
    return bs, isize, itab, blocks


def inode_at(b, ino):
    bs, isize, itab, _ = geometry(b)
    p = itab * bs + (ino - 1) * isize
    return b[p: p + isize]


def main():
    blk1k = img("ext4/blk1k.img.gz")
    inline = img("ext4/inline.img.gz")
    mbr = img("ext4/mbr.img.gz")
    gpt = img("ext4/gpt.img.gz")
    put("partitions", "mbr", mbr[:4096])
    put("partitions", "gpt", gpt[:34 * 512])
    put("superblock", "blk1k", blk1k[1024:4096])
    bases = [(0, blk1k), (1, inline)]
    for k, b in bases:
        for ino in (2, 11, 12, 13, 14, 15, 20):
            put("inode", f"b{k}-i{ino}", bytes([k, ino - 2]) + inode_at(b, ino))
    bs, isize, itab, blocks = geometry(blk1k)
    for ino in range(12, 20):
        put("extents", f"i{ino}", inode_at(blk1k, ino)[40:100])
    # depth 1: one index to the tree block at blocks_count-16, a 2-extent leaf.
    tree = blocks - 16
    hdr1 = struct.pack("<HHHHI", 0xF30A, 1, 4, 1, 0) + struct.pack("<IIHH", 0, tree, 0, 0)
    leaf = struct.pack("<HHHHI", 0xF30A, 2, 84, 0, 0)
    leaf += struct.pack("<IHHI", 0, 4, 0, 5000) + struct.pack("<IHHI", 10, 32768 + 3, 0, 6000)
    put("extents", "depth1", hdr1.ljust(60, b"\0") + leaf.ljust(1024, b"\0"))
    # dirents: directory blocks of blk1k (block starts with inode 2 "." entry
    # or any dirent chain) and the htree fixture's dx_root.
    ht = img("ext4/htree.img.gz")
    hbs = geometry(ht)[0]
    n = 0
    for blk in range(len(ht) // hbs):
        blkb = ht[blk * hbs:(blk + 1) * hbs]
        # dx_root: "." rec_len 12, ".." rec_len bs-12, then dx info
        if blkb[4:6] == b"\x0c\x00" and blkb[8:10] == b".\x00" and blkb[0x1c] == 0 and blkb[0x1e] in (1, 2, 3):
            put("dirent", f"dxroot{n}", b"\0" + blkb)
            n += 1
        if n > 3:
            break
    n = 0
    for blk in range(len(ht) // hbs):
        blkb = ht[blk * hbs:(blk + 1) * hbs]
        ino, rl, nl = struct.unpack_from("<IHB", blkb, 0)
        if 11 < ino < 100000 and 12 <= rl <= 64 and 0 < nl < 40 and blkb[8:9].isalnum():
            put("dirent", f"leaf{n}", bytes([128 + n]) + blkb)
            n += 1
        if n > 3:
            break
    # xattrs: shared xattr blocks (magic 0xEA020000) and inode extra areas.
    n = 0
    for blk in range(len(blk1k) // 1024):
        if blk1k[blk * 1024: blk * 1024 + 4] == b"\x00\x00\x02\xea":
            extra = inode_at(blk1k, 12)[128:256]
            put("xattr", f"blk{n}", struct.pack("<H", len(extra)) + extra + blk1k[blk * 1024:(blk + 1) * 1024])
            n += 1
            if n > 3:
                break
    put("xattr", "empty", b"\0\0")
    # journal: jbd2 blocks (magic c03b3998) of the dirty fixture, by index.
    dd = img("deleted/del-dirty.img.gz")
    dbs = geometry(dd)[0]
    first = None
    n = 0
    for blk in range(len(dd) // dbs):
        p = blk * dbs
        if dd[p:p + 4] == b"\xc0\x3b\x39\x98":
            btype = struct.unpack_from(">I", dd, p + 4)[0]
            if first is None and btype in (3, 4):
                first = blk
            if first is not None and blk - first < 256:
                put("journal", f"j{blk - first}-t{btype}", bytes([blk - first]) + dd[p:p + dbs])
                n += 1
        if n > 24:
            break
    # Docker files, read through whiteout itself.
    host = os.path.join(TD, "docker", "docker-host.img.gz")
    if os.path.exists(BIN):
        ls = subprocess.run([BIN, "ls", "-r", "-p", host], capture_output=True).stdout.decode("utf-8", "replace")
        paths = [l.split("\t", 1)[1] for l in ls.splitlines() if "\t" in l]
        want = {"tarsplit": "tar-split.json.gz", "docker_config": ("config.v2.json", "hostconfig.json"), "logs": "-json.log"}
        n = {k: 0 for k in want}
        for p in paths:
            for t, suf in want.items():
                if p.endswith(suf) and n[t] < 4:
                    data = subprocess.run([BIN, "icat", host, "/" + p.lstrip("/")], capture_output=True).stdout
                    if t == "tarsplit":
                        try:
                            data = gzip.decompress(data)
                        except Exception:
                            continue
                        data = data[:8192]
                    if t == "logs":
                        data = data[:4096]
                    if data:
                        put(t, f"s{n[t]}", data)
                        n[t] += 1
        # BoltDB: the synthetic containerd store's meta.db, and the real
        # meta.db dockerd left on the sample host.
        for i, (im, path) in enumerate([
            (os.path.join(TD, "docker-synthetic", "docker-containerd.img.gz"),
             "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db"),
            (host, "/var/lib/docker/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db"),
        ]):
            data = subprocess.run([BIN, "icat", im, path], capture_output=True).stdout
            if data:
                put("bolt", f"s{i}", data[:65536])
        # Carving: the first 16 KiB after each header hit in the carve fixture.
        import json, tempfile
        with tempfile.TemporaryDirectory() as td:
            subprocess.run([BIN, "carve", os.path.join(TD, "carve", "carve.img.gz"), "-o", td + "/c"],
                           capture_output=True)
            rows = []
            mf = os.path.join(td, "c", "manifest.jsonl")
            if os.path.exists(mf):
                rows = [json.loads(l) for l in open(mf) if l.strip()]
        raw = img("carve/carve.img.gz")
        for k, r in enumerate(rows):
            o = r["offset"]
            put("carve", f"{k}-{r['type']}", raw[o:o + 16384])
    else:
        print("no release binary: Docker seeds skipped", file=sys.stderr)
    put("logs", "local", bytes.fromhex("0000001c") + b"\x0a\x06stdout\x10\x80\xe8\x91\xfa\x05\x1a\x04hi!\n" + bytes.fromhex("0000001c"))
    # whole image: base fixtures untouched, and a tiny raw image.
    for k in range(4):
        put("whole_image", f"base{k}", bytes([k]))
    put("whole_image", "raw-blk1k-head", bytes([200]) + blk1k[:65536])
    # scan: the same inputs as whole_image.
    for k in range(4):
        put("scan", f"base{k}", bytes([k]))
    for d in sorted(os.listdir(OUT)):
        print(d, len(os.listdir(os.path.join(OUT, d))))


main()

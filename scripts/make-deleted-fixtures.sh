#!/usr/bin/env bash
# make-deleted-fixtures.sh: build the deleted-file recovery fixtures in testdata/deleted/.
#
#   sudo bash scripts/make-deleted-fixtures.sh            # all fixtures
#   sudo bash scripts/make-deleted-fixtures.sh del-tree   # only the named ones
#
# Every image is written by the real kernel ext4 driver through a loop mount (del-slack
# is then rewritten offline: it is SYNTHETIC, see its manifest).  Before each deletion
# the ground truth (inode, block map from debugfs, sha256, times) is recorded; after the
# final unmount a manifest <name>.json, TSK's view (fls -r -d -p, jls), and, if the tools
# are installed, what ext4magic / extundelete recover, are written next to <name>.img.gz.
# Needs: root, mkfs.ext4/debugfs/e2fsck (e2fsprogs >= 1.47), python3, sleuthkit;
# optional: ext4magic, extundelete.  Work dir: $WORK (default /tmp/fx-del).
# Contents, names, UUIDs, hash seeds and layout are deterministic; timestamps and inode
# generation numbers are not (they come from the running kernel).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/testdata/deleted
WORK=${WORK:-/tmp/fx-del}
PY=$WORK/fxdel.py
export DEBUGFS_PAGER=__none__ PAGER=__none__

[ "$(id -u)" = 0 ] || { echo "run as root (loop mounts)" >&2; exit 1; }
for t in mkfs.ext4 debugfs e2fsck dumpe2fs python3 fls jls gzip; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
mkdir -p "$WORK" "$OUT"

cat > "$PY" <<'PYEOF'
#!/usr/bin/env python3
"""Helper for scripts/make-deleted-fixtures.sh (written out by that script).

Sub-commands:
  put MNT PATH SIZE [random|lines]     write deterministic content (seeded by PATH)
  sparse MNT PATH NBLOCKS STRIDE       write one 4 KiB block every STRIDE blocks
  interleave MNT ROUNDS PATH...        append one block to each PATH per round, syncfs between
  gt IMG MNT OUT.json PATH... | @LIST  ground truth of PATHs (lstat + debugfs stat/dump_extents)
  dirblocks IMG GT.json OUT.json       save raw blocks of the directories in GT.json
  slackify IMG PRE.json DELETED.json EXTRA.json   rewrite dir blocks to the pre-5.13 layout
  manifest --name ... (see below)      write the ground-truth manifest
  dirscan IMG MANIFEST.json            count deleted names still present in freed dir blocks
  journal IMG                          print what the journal ring holds
"""
import hashlib
import json
import os
import random
import re
import stat
import struct
import subprocess
import sys

BS = 4096


# ---------------------------------------------------------------- content
def content(path, size, kind="random"):
    """Deterministic content for PATH (the path inside the fs, e.g. /a/b)."""
    if kind == "random":
        return random.Random("whiteout-fixture:" + path).randbytes(size)
    if kind == "text":
        r = random.Random("whiteout-fixture:" + path)
        out = bytearray()
        while len(out) < size:
            out += ("%s %s\n" % (path, r.randbytes(12).hex())).encode()
        return bytes(out[:size])
    out = bytearray()
    i = 0
    while len(out) < size:
        s = ("%s line %08d " % (path, i)).encode()
        s = s + b"." * max(0, 63 - len(s)) + b"\n"
        out += s
        i += 1
    return bytes(out[:size])


def block_content(path, blk):
    s = b""
    out = bytearray()
    for i in range(BS // 64):
        s = ("%s blk %07d l%02d " % (path, blk, i)).encode()
        s = s + b"." * max(0, 63 - len(s)) + b"\n"
        out += s[:64]
    return bytes(out)


def syncfs(mnt):
    subprocess.run(["sync", "-f", mnt], check=True)


def cmd_put(mnt, path, size, kind="random"):
    with open(mnt + path, "wb") as f:
        f.write(content(path, int(size), kind))


def cmd_sparse(mnt, path, nblocks, stride):
    nblocks, stride = int(nblocks), int(stride)
    fd = os.open(mnt + path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        for i in range(nblocks):
            os.pwrite(fd, block_content(path, i * stride), i * stride * BS)
    finally:
        os.close(fd)


def cmd_mktree(mnt, root, na, nb, nf):
    """ROOT/a{i}/b{j}/f{k} (b level skipped when nb == 0), small distinct text files."""
    made = [root]
    os.mkdir(mnt + root)
    for i in range(int(na)):
        a = "%s/a%d" % (root, i)
        os.mkdir(mnt + a)
        made.append(a)
        subs = ["%s/b%d" % (a, j) for j in range(int(nb))] or [a]
        for b in subs:
            if b != a:
                os.mkdir(mnt + b)
                made.append(b)
            for k in range(int(nf)):
                fp = "%s/f%d" % (b, k)
                n = 24 + random.Random(fp).randrange(200)
                with open(mnt + fp, "wb") as f:
                    f.write(content(fp, n, "text"))
                made.append(fp)
    print("mktree %s: %d paths" % (root, len(made)))


def cmd_interleave(mnt, rounds, *paths):
    for r in range(int(rounds)):
        for p in paths:
            with open(mnt + p, "ab") as f:
                f.write(block_content(p, r))
        syncfs(mnt)


# ---------------------------------------------------------------- debugfs
def debugfs_batch(img, cmds):
    env = dict(os.environ, DEBUGFS_PAGER="__none__", PAGER="__none__")
    cf = img + ".dbgcmds"
    with open(cf, "w") as f:
        f.write("\n".join(cmds) + "\n")
    r = subprocess.run(["debugfs", "-f", cf, img], capture_output=True, text=True, env=env)
    os.unlink(cf)
    # split on echoed prompts
    parts = re.split(r"^debugfs: ", r.stdout, flags=re.M)
    res = []
    for p in parts[1:]:
        first, _, rest = p.partition("\n")
        res.append((first.strip(), rest))
    if len(res) != len(cmds):
        raise SystemExit("debugfs: expected %d outputs, got %d\n%s" % (len(cmds), len(res), r.stderr))
    return res


def _epoch(hexsec, hexextra):
    s = int(hexsec, 16)
    if s >= 1 << 31:
        s -= 1 << 32
    if hexextra is not None:
        s += (int(hexextra, 16) & 3) << 32
    return s


def parse_stat(txt):
    d = {}
    m = re.search(r"Inode: (\d+)\s+Type: (\S+)\s+Mode:\s+(\d+)\s+Flags: (0x[0-9a-f]+)", txt)
    if not m:
        raise ValueError("cannot parse stat output:\n" + txt)
    d["inode"] = int(m.group(1))
    d["dtype"] = m.group(2)
    d["flags"] = int(m.group(4), 16)
    d["generation"] = int(re.search(r"Generation: (\d+)", txt).group(1))
    d["size"] = int(re.search(r"Size: (\d+)", txt).group(1))
    d["links"] = int(re.search(r"Links: (\d+)", txt).group(1))
    for t in ("mtime", "crtime", "ctime", "atime"):
        m = re.search(r"^\s*%s: 0x([0-9a-f]+)(?::([0-9a-f]+))?" % t, txt, re.M)
        d[t] = _epoch(m.group(1), m.group(2)) if m else None
    m = re.search(r"Size of inline data: (\d+)", txt)
    d["inline_size"] = int(m.group(1)) if m else None
    m = re.search(r'Fast link dest: "(.*)"', txt)
    d["fast_link"] = m.group(1) if m else None
    return d


EXT_RE = re.compile(r"^\s*(\d+)/\s*(\d+)\s+(\d+)/\s*(\d+)\s+(\d+) -\s*(\d+)\s+(\d+)(?: -\s*(\d+))?\s+(\d+)\s*(\S*)\s*$")


def parse_extents(txt):
    depth = None
    leaves = []
    tree_blocks = []
    for line in txt.splitlines():
        m = EXT_RE.match(line)
        if not m:
            continue
        lvl, maxd = int(m.group(1)), int(m.group(2))
        if depth is None:
            depth = maxd
        lstart, lend, phys, ln = int(m.group(5)), int(m.group(6)), int(m.group(7)), int(m.group(9))
        if lvl == maxd:
            leaves.append([lstart, phys, ln])
        else:
            tree_blocks.append(phys)  # index line: physical = child node block
    return depth, leaves, tree_blocks


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cmd_gt(img, mnt, out, *paths):
    if len(paths) == 1 and paths[0].startswith("@"):
        with open(paths[0][1:]) as f:
            paths = [l.strip() for l in f if l.strip()]
    cmds = []
    for p in paths:
        cmds.append('stat "%s"' % p)
        cmds.append('dump_extents "%s"' % p)
    res = debugfs_batch(img, cmds)
    ents = []
    for i, p in enumerate(paths):
        st = os.lstat(mnt + p)
        s = parse_stat(res[2 * i][1])
        if s["inode"] != st.st_ino or s["size"] != st.st_size:
            raise SystemExit("debugfs/lstat mismatch for %s: %r vs ino %d size %d (not synced?)"
                             % (p, s, st.st_ino, st.st_size))
        depth, leaves, tree = parse_extents(res[2 * i + 1][1])
        inline = bool(s["flags"] & 0x10000000)
        if stat.S_ISREG(st.st_mode):
            typ, sha, target = "r", sha256_file(mnt + p), None
        elif stat.S_ISDIR(st.st_mode):
            typ, sha, target = "d", None, None
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(mnt + p)
            typ, sha = "l", hashlib.sha256(target.encode()).hexdigest()
        else:
            raise SystemExit("unexpected type " + p)
        parent = os.path.dirname(p) or "/"
        e = {
            "path": p, "inode": st.st_ino, "type": typ, "size": st.st_size, "sha256": sha,
            "target": target,
            "extent_depth": (depth or 0) if (s["flags"] & 0x80000) else None,
            "blocks": leaves, "extent_tree_blocks": tree,
            "parent_inode": os.lstat(mnt + parent).st_ino,
            "mtime": s["mtime"], "ctime": s["ctime"], "crtime": s["crtime"],
            "inline": inline, "fast_symlink": s["fast_link"] is not None,
            "generation": s["generation"], "links": s["links"], "inode_flags": s["flags"],
        }
        if e["fast_symlink"] and s["fast_link"] != target:
            raise SystemExit("fast link mismatch " + p)
        ents.append(e)
    with open(out, "w") as f:
        json.dump(ents, f)
    print("gt: %d entries -> %s" % (len(ents), out))


# ---------------------------------------------------------------- raw ext4
class FS:
    def __init__(self, img):
        self.f = open(img, "rb")
        sb = self.read(1024, 1024)
        assert struct.unpack_from("<H", sb, 0x38)[0] == 0xEF53
        self.sb = sb
        self.bs = 1024 << struct.unpack_from("<I", sb, 0x18)[0]
        self.blocks_count = struct.unpack_from("<I", sb, 0x4)[0]
        self.first_data = struct.unpack_from("<I", sb, 0x14)[0]
        self.bpg = struct.unpack_from("<I", sb, 0x20)[0]
        self.ipg = struct.unpack_from("<I", sb, 0x28)[0]
        self.isz = struct.unpack_from("<H", sb, 0x58)[0]
        self.incompat = struct.unpack_from("<I", sb, 0x60)[0]
        self.journal_inum = struct.unpack_from("<I", sb, 0xE0)[0]
        is64 = self.incompat & 0x80
        if is64:
            self.blocks_count |= struct.unpack_from("<I", sb, 0x150)[0] << 32
        dsz = struct.unpack_from("<H", sb, 0xFE)[0] if is64 else 32
        ngroups = (self.blocks_count - self.first_data + self.bpg - 1) // self.bpg
        gdt = self.read((self.first_data + 1) * self.bs, ngroups * dsz)
        self.groups = []
        for g in range(ngroups):
            d = gdt[g * dsz:(g + 1) * dsz]
            bb, ib, it = struct.unpack_from("<III", d, 0)
            flags = struct.unpack_from("<H", d, 0x12)[0]
            if is64 and dsz >= 64:
                bbh, ibh, ith = struct.unpack_from("<III", d, 0x20)
                bb |= bbh << 32
                ib |= ibh << 32
                it |= ith << 32
            self.groups.append({"block_bitmap": bb, "inode_bitmap": ib, "inode_table": it, "flags": flags})

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def block(self, b):
        return self.read(b * self.bs, self.bs)

    def inode_loc(self, ino):
        g, idx = divmod(ino - 1, self.ipg)
        byte = idx * self.isz
        return self.groups[g]["inode_table"] + byte // self.bs, byte % self.bs

    def inode(self, ino):
        b, o = self.inode_loc(ino)
        return self.block(b)[o:o + self.isz]

    def block_in_use(self, b):
        g, i = divmod(b - self.first_data, self.bpg)
        gd = self.groups[g]
        if gd["flags"] & 0x2:  # BLOCK_UNINIT
            return False
        bm = self.block(gd["block_bitmap"])
        return bool(bm[i // 8] >> (i % 8) & 1)

    def inode_in_use(self, ino):
        g, i = divmod(ino - 1, self.ipg)
        gd = self.groups[g]
        if gd["flags"] & 0x1:  # INODE_UNINIT
            return False
        bm = self.block(gd["inode_bitmap"])
        return bool(bm[i // 8] >> (i % 8) & 1)

    def extent_map(self, raw_inode):
        """[(logical, physical, len)] of an extent-mapped inode (walks the tree)."""
        out = []

        def node(buf):
            magic, entries, _mx, depth = struct.unpack_from("<HHHH", buf, 0)
            assert magic == 0xF30A, "bad extent magic"
            for k in range(entries):
                o = 12 + 12 * k
                if depth == 0:
                    lblk, ln, hi, lo = struct.unpack_from("<IHHI", buf, o)
                    if ln > 32768:
                        ln -= 32768
                    out.append((lblk, (hi << 32) | lo, ln))
                else:
                    _lblk, lo, hi = struct.unpack_from("<IIH", buf, o)
                    node(self.block((hi << 32) | lo))
        node(raw_inode[0x28:0x28 + 60])
        return out


def parse_raw_inode(raw):
    mode, = struct.unpack_from("<H", raw, 0)
    size_lo, = struct.unpack_from("<I", raw, 4)
    dtime, = struct.unpack_from("<I", raw, 0x14)
    links, = struct.unpack_from("<H", raw, 0x1A)
    flags, = struct.unpack_from("<I", raw, 0x20)
    gen, = struct.unpack_from("<I", raw, 0x64)
    size_hi, = struct.unpack_from("<I", raw, 0x6C)
    eh_magic, eh_entries, _mx, eh_depth = struct.unpack_from("<HHHH", raw, 0x28)
    return {"mode": mode, "size": size_lo | (size_hi << 32), "dtime": dtime, "links": links,
            "flags": flags, "generation": gen, "eh_magic": eh_magic, "eh_entries": eh_entries,
            "eh_depth": eh_depth}


# ---------------------------------------------------------------- jbd2
JBD2_MAGIC = 0xC03B3998


class Journal:
    def __init__(self, fs):
        self.fs = fs
        raw = fs.inode(fs.journal_inum)
        ext = fs.extent_map(raw)
        self.map = {}
        for l, p, n in ext:
            for k in range(n):
                self.map[l + k] = p + k
        jsb = self.jblock(0)
        (magic, btype, _seq) = struct.unpack_from(">III", jsb, 0)
        assert magic == JBD2_MAGIC and btype in (3, 4), "no jbd2 superblock"
        (self.jbs, self.maxlen, self.first, self.sequence, self.start) = struct.unpack_from(">IIIII", jsb, 12)
        self.compat, self.incompat, self.rocompat = struct.unpack_from(">III", jsb, 36)
        self.csum_v3 = bool(self.incompat & 0x10)
        self.csum_v2 = bool(self.incompat & 0x8)
        self.is64 = bool(self.incompat & 0x2)
        fc = struct.unpack_from(">I", jsb, 0x54)[0] if self.incompat & 0x20 else 0
        self.ring_end = self.maxlen - fc if fc else self.maxlen
        if self.csum_v3:
            self.tagbytes = 16
        else:
            self.tagbytes = 12 if self.is64 else 8
            if self.csum_v2:
                self.tagbytes += 2  # never used by current kernels; kept for completeness
        self.scan()

    def jblock(self, j):
        return self.fs.block(self.map[j])

    def nxt(self, j):
        j += 1
        return self.first if j >= self.ring_end else j

    def scan(self):
        blocks = {}
        commits = set()
        descs = []
        revokes = []
        for j in range(self.first, self.ring_end):
            b = self.jblock(j)
            magic, btype, seq = struct.unpack_from(">III", b, 0)
            if magic != JBD2_MAGIC:
                continue
            blocks[j] = (btype, seq)
            if btype == 2:
                commits.add(seq)
            elif btype == 1:
                descs.append((j, seq, b))
            elif btype == 5:
                revokes.append((j, seq))
        self.commits = commits
        self.copies = {}  # fs block -> [(seq, jblock, escaped)]
        self.ntags = 0
        limit = self.jbs - (4 if (self.csum_v2 or self.csum_v3) else 0)
        for j, seq, b in descs:
            if seq not in commits:
                continue
            off = 12
            dj = j
            while off + self.tagbytes <= limit:
                if self.csum_v3:
                    lo, flags, hi, _c = struct.unpack_from(">IIII", b, off)
                else:
                    lo, _c, flags = struct.unpack_from(">IHH", b, off)
                    hi = struct.unpack_from(">I", b, off + 8)[0] if self.is64 else 0
                off += self.tagbytes
                if not flags & 2:
                    off += 16
                dj = self.nxt(dj)
                fsblk = (hi << 32 | lo) if self.is64 else lo
                self.copies.setdefault(fsblk, []).append((seq, dj, bool(flags & 1)))
                self.ntags += 1
                if flags & 8:
                    break
        self.seqs = sorted(set(s for (_t, s) in blocks.values() if s in commits))

    def copy_data(self, jblk, escaped):
        d = bytearray(self.jblock(jblk))
        if escaped:
            d[0:4] = struct.pack(">I", JBD2_MAGIC)
        return bytes(d)


def in_journal(fs, j, e):
    """Latest sequence whose copy of e's inode-table block holds e's pre-deletion inode."""
    b, o = fs.inode_loc(e["inode"])
    best = None
    for seq, jb, esc in j.copies.get(b, []):
        ri = parse_raw_inode(j.copy_data(jb, esc)[o:o + fs.isz])
        if ri["links"] == 0 or ri["dtime"] != 0 or ri["generation"] != e["generation"]:
            continue
        if ri["size"] != e["size"]:
            continue
        if e["type"] in "rd" and not e.get("inline") and e["size"] > 0 and ri["flags"] & 0x80000:
            if ri["eh_entries"] == 0:
                continue
        if best is None or seq > best:
            best = seq
    return best


# ---------------------------------------------------------------- directories
def parse_dirents(buf, bs=BS):
    """Live chain of a directory block: [(offset, inode, rec_len, name_len, ftype, name)]."""
    out = []
    o = 0
    while o + 8 <= bs:
        ino, rl, nl, ft = struct.unpack_from("<IHBB", buf, o)
        if rl == 0 and bs == 65536:
            rl = 65536
        if rl < 8 or o + rl > bs or rl % 4:
            break
        out.append((o, ino, rl, nl, ft, buf[o + 8:o + 8 + nl]))
        o += rl
    return out


def cmd_dirblocks(img, gt, out):
    fs = FS(img)
    ents = json.load(open(gt))
    res = {}
    for e in ents:
        if e["type"] != "d" or e["inline"]:
            continue
        blks = []
        for l, p, n in e["blocks"]:
            for k in range(n):
                blks.append({"logical": l + k, "physical": p + k, "hex": fs.block(p + k).hex()})
        res[e["path"]] = {"inode": e["inode"], "blocks": blks}
    json.dump(res, open(out, "w"))
    print("dirblocks: %d dirs saved" % len(res))


def cmd_slackify(img, pre, deleted, extra_out):
    """Make the deleted entries look as a pre-5.13 kernel left them."""
    pre = json.load(open(pre))
    dele = json.load(open(deleted))
    bs = BS
    extra = {}
    with open(img, "r+b") as f:
        for dpath, d in pre.items():
            for blk in d["blocks"]:
                P = bytes.fromhex(blk["hex"])
                f.seek(blk["physical"] * bs)
                Q = bytearray(f.read(bs))
                qchain = {o: (ino, rl, nl) for (o, ino, rl, nl, _ft, _n) in parse_dirents(Q)}
                for (o, ino, rl, nl, ft, name) in parse_dirents(P):
                    if ino == 0:
                        continue
                    full = (dpath.rstrip("/") + "/" + name.decode()) if dpath != "/" else "/" + name.decode()
                    match = [e for e in dele if e["path"] == full and e["inode"] == ino]
                    if not match:
                        continue
                    info = {"dir_block": blk["physical"], "dir_logical_block": blk["logical"],
                            "offset": o, "rec_len": rl, "first_in_block": o == 0}
                    if o in qchain:
                        qino, qrl, qnl = qchain[o]
                        if qino == 0 and qnl == 0 and not any(Q[o + 8:o + qrl]):
                            # first entry of its block: old kernels only cleared the inode
                            Q[o + 6] = nl
                            Q[o + 7] = ft
                            Q[o + 8:o + 8 + nl] = name
                            info["restored"] = "name (inode 0, first in block)"
                        else:
                            info["restored"] = "no (slot reused by a newer entry)"
                    else:
                        region = Q[o:o + rl]
                        covered = any(s < o and s + r >= o + rl and s + 8 + ((n + 3) & ~3) <= o
                                      for s, (_i, r, n) in qchain.items())
                        if covered and not any(region):
                            Q[o:o + rl] = P[o:o + rl]
                            info["restored"] = "full record in previous entry's slack"
                        elif covered and not any(region[:8 + nl]):
                            Q[o:o + 8 + nl] = P[o:o + 8 + nl]
                            info["restored"] = "header+name in previous entry's slack"
                        else:
                            info["restored"] = "no (overwritten)"
                    extra[full] = {"dirent": info}
                f.seek(blk["physical"] * bs)
                f.write(bytes(Q))
    json.dump(extra, open(extra_out, "w"), indent=1)
    print("slackify: %d entries: %s" % (len(extra), sorted(set(v["dirent"]["restored"] for v in extra.values()))))


def cmd_dirscan(img, manifest):
    """Are deleted names still on disk?  (1) parse each deleted directory's own (freed) blocks
    as a dirent chain; (2) scan every 4-byte-aligned offset of the raw image for a dirent
    header + name matching a deleted (name, inode), split into journal area and elsewhere."""
    fs = FS(img)
    j = Journal(fs)
    jblocks = set(j.map.values())
    m = json.load(open(manifest))
    dele = m["deleted"]
    by_parent = {}
    for e in dele:
        by_parent.setdefault(e["parent_inode"], []).append(e)
    found = total = 0
    freed_blocks = inuse = 0
    for d in dele:
        if d["type"] != "d" or d["inline"]:
            continue
        kids = by_parent.get(d["inode"], [])
        names = set()
        for l, p, n in d["blocks"]:
            for k in range(n):
                if fs.block_in_use(p + k):
                    inuse += 1
                else:
                    freed_blocks += 1
                for (_o, ino, _rl, nl, _ft, name) in parse_dirents(fs.block(p + k)):
                    if ino:
                        names.add((name, ino))
        for kid in kids:
            total += 1
            if (os.path.basename(kid["path"]).encode(), kid["inode"]) in names:
                found += 1
    want = {}
    for e in dele:
        want.setdefault(e["inode"], set()).add(os.path.basename(e["path"]).encode())
    hit_j, hit_o = set(), set()
    with open(img, "rb") as f:
        b = 0
        while True:
            buf = f.read(fs.bs)
            if not buf:
                break
            if any(buf):
                for o in range(0, fs.bs - 8, 4):
                    ino = int.from_bytes(buf[o:o + 4], "little")
                    names = want.get(ino)
                    if names:
                        nl = buf[o + 6]
                        nm = buf[o + 8:o + 8 + nl]
                        if nm in names:
                            (hit_j if b in jblocks else hit_o).add((ino, nm))
            b += 1
    r = {"deleted_children_of_deleted_dirs": total,
         "found_by_inode_and_name_in_deleted_dirs_own_blocks": found,
         "deleted_dir_blocks_free_now": freed_blocks, "deleted_dir_blocks_in_use_now": inuse,
         "deleted_entries": len(dele),
         "dirents_found_outside_journal": len(hit_o), "dirents_found_in_journal_area": len(hit_j),
         "dirents_found_anywhere": len(hit_o | hit_j)}
    print(json.dumps(r))
    return r


def cmd_pickslack(pre):
    """Pick entries to delete so every slack case occurs: first entry of a non-first block,
    two consecutive entries, a middle one, the last entry of a block."""
    pre = json.load(open(pre))
    pick = []
    for dpath, d in sorted(pre.items()):
        for blk in d["blocks"]:
            ch = [x for x in parse_dirents(bytes.fromhex(blk["hex"])) if x[1] and x[5] not in (b".", b"..")]
            if len(ch) < 6:
                continue
            idx = {2, 3, len(ch) - 1, len(ch) // 2 + 1}
            if blk["logical"] > 0 and ch[0][0] == 0:
                idx.add(0)
            for i in sorted(idx):
                pick.append(dpath.rstrip("/") + "/" + ch[i][5].decode())
    print("\n".join(pick))


def cmd_toolreport(tool, log, rc, outdir, manifest):
    """Summarise what a third-party tool recovered, matched by sha256 to the ground truth."""
    m = json.load(open(manifest))
    by_sha = {}
    for e in m["deleted"]:
        if e["type"] == "r" and e["sha256"] and e["size"] > 0:
            by_sha.setdefault(e["sha256"], []).append(e["path"])
    files = []
    for root, _dirs, fns in os.walk(outdir):
        for fn in fns:
            p = os.path.join(root, fn)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            files.append((os.path.relpath(p, outdir), os.path.getsize(p), sha256_file(p)))
    files.sort()
    matched = set()
    body = []
    for rel, sz, h in files:
        hit = by_sha.get(h)
        if hit:
            matched.update(hit)
        body.append("%s\t%d\t%s\t%s" % (rel, sz, h[:16], ("MATCH " + ",".join(hit)) if hit else "-"))
    txt = open(log, errors="replace").read().splitlines()
    print("# %s on %s (exit code %s)" % (tool, m["image"], rc))
    print("# recovered files: %d; deleted non-empty regular files in ground truth: %d; recovered exactly (sha256): %d"
          % (len(files), sum(len(v) for v in by_sha.values()), len(matched)))
    print("# path\tsize\tsha256[:16]\tground truth")
    shown = [l for l in body if "\tMATCH " not in l] if len(body) > 300 else body
    if len(shown) != len(body):
        print("# (%d exact matches of deleted files not listed; other files:)" % (len(body) - len(shown)))
    for l in shown[:300]:
        print(l)
    if len(shown) > 300:
        print("# ... %d more" % (len(shown) - 300))
    print("# ---- tool output (first 200 lines of %d) ----" % len(txt))
    print("\n".join(txt[:200]))


# ---------------------------------------------------------------- manifest
def sha256_of(path):
    return sha256_file(path)


def cmd_manifest(args):
    import argparse
    ap = argparse.ArgumentParser(prog="fxdel.py manifest")
    ap.add_argument("--name", required=True)
    ap.add_argument("--img", required=True)
    ap.add_argument("--mkfs", required=True)
    ap.add_argument("--deleted", required=True)
    ap.add_argument("--live", required=True)
    ap.add_argument("--clean", type=int, required=True)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--notes", required=True)
    ap.add_argument("--extra", default=None)
    ap.add_argument("--logdump", action="store_true")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dirscan", action="store_true")
    a = ap.parse_args(args)
    fs = FS(a.img)
    j = Journal(fs)
    dele = json.load(open(a.deleted))
    live = json.load(open(a.live))
    extra = json.load(open(a.extra)) if a.extra else {}
    live_by_ino = {e["inode"]: e for e in live}
    live_blocks = set()
    for e in live:
        for l, p, n in e["blocks"]:
            live_blocks.update(range(p, p + n))
    n_inj = 0
    for e in dele:
        seq = in_journal(fs, j, e)
        e["in_journal"] = seq is not None
        e["journal_copy_seq"] = seq
        n_inj += seq is not None
        r = live_by_ino.get(e["inode"])
        e["reallocated_to"] = r["path"] if r and r["generation"] != e["generation"] else None
        e["inode_in_use_now"] = fs.inode_in_use(e["inode"])
        nb = inuse = 0
        for l, p, n in e["blocks"]:
            for k in range(n):
                nb += 1
                inuse += fs.block_in_use(p + k)
        e["blocks_in_use_now"] = inuse
        e.update(extra.get(e["path"], {}))
    with open(a.img, "rb") as f:
        f.seek(1024 + 0x60)
        incompat = struct.unpack("<I", f.read(4))[0]
    name = a.name
    m = {
        "name": name, "synthetic": a.synthetic, "kernel": os.uname().release, "mkfs": a.mkfs,
        "image": name + ".img.gz", "image_size": os.path.getsize(a.img),
        "image_sha256": sha256_of(a.img), "block_size": fs.bs,
        "clean_unmount": bool(a.clean), "needs_recovery": bool(incompat & 0x4),
        "journal": {"s_start": j.start, "s_sequence": j.sequence, "size_blocks": j.maxlen,
                    "csum_v3": j.csum_v3, "64bit": j.is64,
                    "committed_transactions_in_ring": len(j.seqs),
                    "first_seq_in_ring": j.seqs[0] if j.seqs else None,
                    "last_seq_in_ring": j.seqs[-1] if j.seqs else None,
                    "deleted_with_pre_deletion_inode_in_journal": n_inj},
        "deleted_count": len(dele), "live_count": len(live),
        "deleted": dele, "live": live,
        "tsk": {"fls_rd": name + ".fls-rd.txt", "jls": name + ".jls.txt"},
        "notes": a.notes,
    }
    if a.logdump:
        m["debugfs_logdump"] = name + ".debugfs-logdump.txt"
    for tool in ("ext4magic", "extundelete"):
        m.setdefault("other_tools", {})[tool] = name + "." + tool + ".txt"
    with open(a.out, "w") as f:
        f.write(dump_manifest(m))
    if a.dirscan:
        r = cmd_dirscan(a.img, a.out)
        m["freed_dir_block_scan"] = r
        with open(a.out, "w") as f:
            f.write(dump_manifest(m))
    print("manifest %s: %d deleted (%d with pre-deletion inode in journal), %d live, needs_recovery=%s s_start=%d"
          % (a.out, len(dele), n_inj, len(live), m["needs_recovery"], j.start))


def dump_manifest(m):
    """Pretty at top level, one line per file entry (keeps big manifests readable)."""
    lines = ["{"]
    keys = list(m.keys())
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        v = m[k]
        if k in ("deleted", "live"):
            if not v:
                lines.append('  "%s": []%s' % (k, comma))
                continue
            lines.append('  "%s": [' % k)
            for n, e in enumerate(v):
                lines.append("    " + json.dumps(e) + ("," if n < len(v) - 1 else ""))
            lines.append("  ]" + comma)
        else:
            lines.append('  "%s": %s%s' % (k, json.dumps(v), comma))
    lines.append("}")
    return "\n".join(lines) + "\n"


def cmd_journal(img):
    fs = FS(img)
    j = Journal(fs)
    print("journal: start=%d seq=%d maxlen=%d csum_v3=%s tags=%d committed seqs in ring: %s"
          % (j.start, j.sequence, j.maxlen, j.csum_v3, j.ntags, j.seqs[:3] + ["..."] + j.seqs[-3:] if len(j.seqs) > 6 else j.seqs))


def main():
    a = sys.argv[1:]
    c = a[0]
    if c == "put":
        cmd_put(*a[1:])
    elif c == "sparse":
        cmd_sparse(*a[1:])
    elif c == "mktree":
        cmd_mktree(*a[1:])
    elif c == "pickslack":
        cmd_pickslack(*a[1:])
    elif c == "toolreport":
        cmd_toolreport(*a[1:])
    elif c == "interleave":
        cmd_interleave(*a[1:])
    elif c == "gt":
        cmd_gt(*a[1:])
    elif c == "dirblocks":
        cmd_dirblocks(*a[1:])
    elif c == "slackify":
        cmd_slackify(*a[1:])
    elif c == "manifest":
        cmd_manifest(a[1:])
    elif c == "dirscan":
        cmd_dirscan(*a[1:])
    elif c == "journal":
        cmd_journal(*a[1:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
PYEOF

# ------------------------------------------------------------------ helpers
MNT=""     # the one mount point of ours that may be mounted
cleanup() {
  if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT" || umount -l "$MNT"; fi
}
trap cleanup EXIT

# fresh NAME SIZE UUID [extra mkfs options...]: new image, mkfs, mount on $M
fresh() {
  N=$1; local size=$2 uuid=$3; shift 3
  D=$WORK/$N; IMG=$D/$N.img; M=$D/m; FINAL=$IMG
  if mountpoint -q "$M" 2>/dev/null; then umount "$M"; fi
  rm -rf "$D"; mkdir -p "$M"
  truncate -s "$size" "$IMG"
  # hash seed derived from the UUID (fixed per fixture)
  local seed=${uuid:0:8}-5eed-4000-8000-${uuid: -12}
  local opts=(-q -b 4096 -I 256 -J size=4 -U "$uuid" -E "hash_seed=$seed" -L "$N" "$@")
  MKFS_DESC="truncate -s $size IMG && mkfs.ext4 ${opts[*]} IMG"
  mkfs.ext4 "${opts[@]}" "$IMG"
  mount -o loop "$IMG" "$M"; MNT=$M
  echo "== $N: mounted $IMG on $M ($(findmnt -no SOURCE "$M"))"
}
sfs() { sync -f "$M"; }
put() { python3 "$PY" put "$M" "$@"; }          # put /path SIZE [random|lines|text]
gt()  { local out=$1; shift; python3 "$PY" gt "$IMG" "$M" "$D/$out.json" "$@"; }
unmount() { umount "$M"; MNT=""; }
# all paths below a directory (inclusive), fs-absolute, parents first
walk() { (cd "$M" && find "${1#/}" | sed 's|^|/|' | sort); }

# finish CLEAN(0/1) NOTES [manifest options]: manifest, TSK, other tools, gzip
finish() {
  local clean=$1 notes=$2; shift 2
  python3 "$PY" manifest --name "$N" --img "$FINAL" --mkfs "$MKFS_DESC" \
    --deleted "$D/deleted.json" --live "$D/live.json" --clean "$clean" \
    --notes "$notes" --out "$OUT/$N.json" "$@"
  { echo "# fls -r -d -p $N.img  ($(fls -V | head -1))"; fls -r -d -p "$FINAL" 2>&1 || echo "# exit code $?"; } > "$OUT/$N.fls-rd.txt"
  { echo "# jls $N.img  ($(jls -V | head -1))"; jls "$FINAL" 2>&1 || echo "# exit code $?"; } > "$OUT/$N.jls.txt"
  other_tools
  gzip -9n -c "$FINAL" > "$OUT/$N.img.gz"
  # Large manifests are committed gzipped (tests/common read_data takes either).
  if [ "$(stat -c%s "$OUT/$N.json")" -gt 262144 ]; then gzip -9nf "$OUT/$N.json"; fi
  echo "== $N done: $(du -h "$OUT/$N.img.gz" | cut -f1) compressed"
}

# ext4magic / extundelete on a scratch copy (optional; they are slow to give up)
other_tools() {
  local T=$D/tools rc
  rm -rf "$T"; mkdir -p "$T"
  if command -v extundelete >/dev/null; then
    cp --sparse=always "$FINAL" "$T/x.img"
    rc=0; (cd "$T" && timeout 300 extundelete --restore-all x.img) > "$T/extundelete.log" 2>&1 || rc=$?
    mkdir -p "$T/RECOVERED_FILES"
    python3 "$PY" toolreport "extundelete --restore-all ($(extundelete -v 2>&1 | head -1))" "$T/extundelete.log" "$rc" \
      "$T/RECOVERED_FILES" "$OUT/$N.json" > "$OUT/$N.extundelete.txt"
    rm -f "$T/x.img"
  fi
  if command -v ext4magic >/dev/null; then
    cp --sparse=always "$FINAL" "$T/y.img"
    : > "$OUT/$N.ext4magic.txt"
    for mode in -m -M; do   # -m: deleted files; -M: multistage, all files
      rc=0; (cd "$T" && timeout 300 ext4magic y.img "$mode" -d "$T/em$mode") > "$T/ext4magic$mode.log" 2>&1 || rc=$?
      mkdir -p "$T/em$mode"
      python3 "$PY" toolreport "ext4magic $mode (0.3.2)" "$T/ext4magic$mode.log" "$rc" \
        "$T/em$mode" "$OUT/$N.json" >> "$OUT/$N.ext4magic.txt"
      echo >> "$OUT/$N.ext4magic.txt"
    done
    rm -f "$T/y.img"
  fi
}

logdump() {
  local f=$OUT/$N.debugfs-logdump.txt
  {
    echo "# debugfs -R 'logdump -a' $N.img  (debugfs $(debugfs -V 2>&1 | head -1 | awk '{print $2}'))"
    debugfs -R "logdump -a" "$FINAL" 2>&1
    echo
    echo "# debugfs -R 'logdump -aO' $N.img  (-O: also old, checkpointed transactions)"
    debugfs -R "logdump -aO" "$FINAL" 2>&1
  } > "$f.full"
  local n; n=$(wc -l < "$f.full")
  { head -n 3000 "$f.full"; [ "$n" -le 3000 ] || echo "# ... truncated: $n lines in full output"; } > "$f"
  rm -f "$f.full"
}

want() { [ "${#SEL[@]}" -eq 0 ] || [[ " ${SEL[*]} " == *" $1 "* ]]; }

# ------------------------------------------------------------------ 1. del-depth
mk_del_depth() {
  fresh del-depth 32M d0000001-0000-4000-8000-00000000de01
  mkdir "$M/keep" "$M/victim"
  put /keep/live-small.txt 3000
  put /keep/live-big.txt 200000 lines
  python3 "$PY" sparse "$M" /keep/live-sparse.bin 30 3
  # depth 1 by interleaved appends (one block per file per round, syncfs between rounds)
  python3 "$PY" interleave "$M" 24 /victim/frag-interleave.bin /keep/live-interleave.bin
  python3 "$PY" sparse "$M" /victim/sparse-d1.bin 60 2      # 60 one-block extents: depth 1
  python3 "$PY" sparse "$M" /victim/sparse-d2.bin 1400 2    # 1400 extents > 4*340: depth 2
  put /victim/small-d0.txt 700
  put /victim/contig-d0.txt 40000 lines                     # 10 blocks, 1 extent
  put /victim/empty.txt 0
  sfs
  gt deleted /victim/small-d0.txt /victim/contig-d0.txt /victim/empty.txt \
     /victim/frag-interleave.bin /victim/sparse-d1.bin /victim/sparse-d2.bin
  python3 - "$D/deleted.json" <<'EOF'
import json, sys
d = {e["path"]: e for e in json.load(open(sys.argv[1]))}
depths = sorted(set(e["extent_depth"] for e in d.values()))
print("depths:", {p: (e["extent_depth"], len(e["blocks"])) for p, e in d.items()})
assert depths == [0, 1, 2], depths
EOF
  sfs; sleep 1
  rm "$M"/victim/*
  sfs
  gt live $(walk /keep) /victim
  sfs
  sleep 7   # > 5 s commit interval
  unmount
  finish 1 "Real kernel deletion of regular files with extent depth 0 (small-d0 1 block, contig-d0 10 blocks, empty 0 blocks), depth 1 (frag-interleave: interleaved appends; sparse-d1: 60 one-block extents with holes) and depth 2 (sparse-d2: 1400 one-block extents with holes, > 4*340). Expected: depth>=1 block maps rebuildable from the surviving index/leaf blocks, depth 0 map only from the journal. Live files in /keep must not be reported deleted. Clean unmount; journal holds the pre-deletion transactions."
}

# ------------------------------------------------------------------ 2. del-tree
mk_del_tree() {
  fresh del-tree 32M d0000002-0000-4000-8000-00000000de02
  python3 "$PY" mktree "$M" /victim 10 10 20      # 2000 files in 110 dirs + /victim
  python3 "$PY" mktree "$M" /keep 3 0 10          # live sibling tree
  sfs
  walk /victim > "$D/victim.list"
  [ "$(cd "$M" && find victim -type f | wc -l)" = 2000 ]
  gt deleted "@$D/victim.list"
  sfs; sleep 1
  rm -rf "$M/victim"
  sfs
  gt live $(walk /keep)
  sfs
  sleep 7
  unmount
  finish 1 "rm -rf of /victim: exactly 2000 small files in /victim/a{0..9}/b{0..9}/f{0..19} plus 111 directories (all listed in deleted with inode numbers); /keep is a live sibling tree. The deleted directories' own blocks are freed; see freed_dir_block_scan for how many names and inode numbers are still readable there. Clean unmount." --dirscan
}

# ------------------------------------------------------------------ 3. del-inline
mk_del_inline() {
  fresh del-inline 32M d0000003-0000-4000-8000-00000000de03 -O inline_data
  mkdir -p "$M/keep/idir2" "$M/victim/idir"
  put /keep/live.txt 50 text
  put /keep/live-mid.txt 110 text
  put /keep/live-big.txt 5000 text
  for x in x y z; do put /keep/idir2/$x 20 text; done
  put /victim/tiny.txt 40 text        # < 60 bytes: all in i_block
  put /victim/mid-100.txt 100 text    # 61-150: i_block + system.data xattr
  put /victim/mid-120.txt 120 text
  put /victim/mid-150.txt 150 text    # may not fit inline in a 256-byte inode
  put /victim/empty.txt 0
  for x in a b c; do put /victim/idir/$x 30 text; done
  ln -s ../keep/live.txt "$M/victim/fast-link"
  ln -s /etc/passwd "$M/victim/fast-link2"
  ln -s "/very/long/target/$(printf 'component-%02d/' $(seq 1 12))end.txt" "$M/victim/slow-link"
  sfs
  gt deleted /victim/tiny.txt /victim/mid-100.txt /victim/mid-120.txt /victim/mid-150.txt \
     /victim/empty.txt /victim/fast-link /victim/fast-link2 /victim/slow-link \
     /victim/idir /victim/idir/a /victim/idir/b /victim/idir/c /keep/idir2/y
  sfs; sleep 1
  rm "$M"/victim/*.txt "$M"/victim/*-link*
  rm -rf "$M/victim/idir"
  rm "$M/keep/idir2/y"
  sfs
  gt live $(walk /keep) /victim
  sfs; sleep 7
  unmount
  finish 1 "mkfs -O inline_data. Deleted: inline files of 40, 100, 120 bytes (i_block, plus system.data xattr above 60 bytes; see each entry's inline flag: 150 bytes did not fit inline with 256-byte inodes if inline is false), an empty file, two fast symlinks (target in i_block: wiped on deletion, size kept), a slow symlink (target in a data block), an inline directory /victim/idir with 3 inline files (rm -rf), and one entry y of the live inline directory /keep/idir2. Clean unmount."
}

# ------------------------------------------------------------------ 4. del-realloc
mk_del_realloc() {
  fresh del-realloc 32M d0000004-0000-4000-8000-00000000de04
  mkdir "$M/data" "$M/other"
  put /data/keep1.txt 5000
  put /data/old-report.txt 12000
  put /data/old-notes.txt 3000
  put /data/old-third.txt 6000
  put /data/old-unreused.txt 9000
  put /data/keep2.txt 700
  sfs
  gt deleted /data/old-report.txt /data/old-notes.txt /data/old-third.txt /data/old-unreused.txt
  sfs; sleep 1
  local i_rep i_notes i_third i_un
  i_rep=$(stat -c %i "$M/data/old-report.txt"); i_notes=$(stat -c %i "$M/data/old-notes.txt")
  i_third=$(stat -c %i "$M/data/old-third.txt"); i_un=$(stat -c %i "$M/data/old-unreused.txt")
  rm "$M"/data/old-*.txt
  sfs
  # new objects take the lowest free inode numbers, in order
  put /data/new-report.txt 8000        # old-report's inode
  mkdir "$M/other/newdir"              # old-notes' inode
  put /other/newdir/inside.txt 100     # old-third's inode
  sfs
  ls -i "$M/data" "$M/other" "$M/other/newdir" | tee "$D/ls-i.txt"
  [ "$(stat -c %i "$M/data/new-report.txt")" = "$i_rep" ] || { echo "new-report did not reuse inode $i_rep" >&2; exit 1; }
  [ "$(stat -c %i "$M/other/newdir")" = "$i_notes" ] || { echo "newdir did not reuse inode $i_notes" >&2; exit 1; }
  [ "$(stat -c %i "$M/other/newdir/inside.txt")" = "$i_third" ] || { echo "inside.txt did not reuse inode $i_third" >&2; exit 1; }
  echo "inode $i_rep: old-report -> new-report; $i_notes: old-notes -> /other/newdir; $i_third: old-third -> inside.txt; $i_un unreused"
  gt live $(walk /data) $(walk /other)
  sfs; sleep 7
  unmount
  finish 1 "Deleted files whose inode numbers were then reused (verified with ls -i): /data/old-report.txt's inode now belongs to /data/new-report.txt (a file), /data/old-notes.txt's to /other/newdir (a directory), /data/old-third.txt's to /other/newdir/inside.txt; /data/old-unreused.txt's inode stays free (control). reallocated_to names the new owner; a tool must not attribute the new owner's content, size or blocks to the deleted file (compare generation numbers). blocks_in_use_now counts the deleted file's data blocks that are allocated again (e.g. reused by the new directory). Pre-deletion copies of all four inodes are in the journal."
}

# ------------------------------------------------------------------ 5./6. del-dirty, del-clean
# same operations; dirty = image copied while still mounted after sync.
mk_dirty_clean() {
  local mode=$1 uuid
  if [ "$mode" = dirty ]; then uuid=d0000005-0000-4000-8000-00000000de05; else uuid=d0000006-0000-4000-8000-00000000de06; fi
  fresh "del-$mode" 32M "$uuid"
  # layout the inode numbers so that set A (/olddocs) fills its own inode-table block
  mkdir "$M/keep" "$M/churn"
  for i in $(seq -w 0 18); do put "/keep/fill-$i.txt" 200 text; done
  mkdir "$M/olddocs"
  for i in $(seq -w 0 12); do put "/olddocs/o-$i.txt" $((1000 + 700 * 10#$i)); done
  mkdir "$M/olddocs/sub"; put /olddocs/sub/s-0.txt 5000
  sfs
  gt oldset $(walk /olddocs)
  sfs
  # churn: ~400 small transactions, far more than the 4 MiB journal holds, so that
  # set A's creation transactions are overwritten in the ring
  for i in $(seq 1 400); do echo "$i" > "$M/churn/c"; sync -f "$M"; done
  mkdir "$M/newdocs"
  for i in $(seq -f %02g 0 8); do put "/newdocs/n-$i.txt" $((500 + 3000 * 10#$i)); done
  python3 "$PY" sparse "$M" /newdocs/n-frag.bin 20 2
  sfs
  gt newset $(walk /newdocs)
  sfs; sleep 1
  rm -rf "$M/olddocs/sub"
  rm "$M"/olddocs/o-0[0-5].txt
  rm "$M"/newdocs/n-0[0-4].txt "$M/newdocs/n-frag.bin"
  sfs
  python3 - "$D" <<'EOF'
import json, os, sys
d = sys.argv[1]
gone = [e for f in ("oldset", "newset") for e in json.load(open(os.path.join(d, f + ".json")))
        if not os.path.lexists(os.path.join(d, "m") + e["path"])]
json.dump(gone, open(os.path.join(d, "deleted.json"), "w"))
print(len(gone), "deleted")
EOF
  gt live $(walk /keep) $(walk /olddocs) $(walk /newdocs) $(walk /churn)
  sfs
  if [ "$mode" = dirty ]; then
    cp --sparse=always "$IMG" "$D/$N.live-copy.img"
    FINAL=$D/$N.live-copy.img
    dumpe2fs -h "$FINAL" 2>/dev/null | grep -E 'features|Journal start|Journal sequence' | tee "$D/dumpe2fs-h.txt"
    unmount
    logdump
    finish 0 "Image copied with cp while the filesystem was still mounted, after sync (as when imaging a live host): needs_recovery is set and the journal's s_start is nonzero; the deleting transaction is committed in the journal. Operations as in del-clean: /olddocs (set A) was created first and then ~400 churn transactions wrapped the 4 MiB journal, so A's pre-deletion inodes are (mostly) not in the journal; /newdocs (set B) was created after the churn, so its pre-deletion inode-table block copies are in the journal (see in_journal / journal_copy_seq: the latest committed transaction holding the inode with links>0, its generation, size and extents). Deleted: /olddocs/sub (dir + file), /olddocs/o-00..05, /newdocs/n-00..04, /newdocs/n-frag.bin (depth 1)." --logdump
  else
    sleep 7
    unmount
    dumpe2fs -h "$FINAL" 2>/dev/null | grep -E 'features|Journal start|Journal sequence' | tee "$D/dumpe2fs-h.txt"
    logdump
    finish 1 "Same operations as del-dirty, cleanly unmounted: journal s_start is 0 but old transactions remain in the ring (scan it by magic and sequence). /olddocs (set A) was created first and then ~400 churn transactions wrapped the 4 MiB journal, so A's pre-deletion inodes are (mostly) not in the journal; /newdocs (set B) was created after the churn, so its pre-deletion inode-table block copies are (see in_journal / journal_copy_seq: the latest committed transaction holding the inode with links>0, its generation, size and extents). TSK jls output is kept for comparison (it misreads 64-bit/csum-v3 tags)." --logdump
  fi
}

# ------------------------------------------------------------------ 7. del-slack (SYNTHETIC)
mk_del_slack() {
  fresh del-slack 32M d0000007-0000-4000-8000-00000000de07 -O ^metadata_csum
  mkdir "$M/small" "$M/docs" "$M/other" "$M/keep"
  for x in alpha bravo charlie delta echo foxtrot golf hotel; do put "/small/$x.txt" 300 text; done
  # 90 long names: /docs outgrows one block and becomes an htree (root + leaf blocks)
  for i in $(seq -w 0 89); do put "/docs/report-$i-quarterly-financial-summary-final-version.txt" 200 text; done
  put /keep/live.txt 1000
  sfs
  gt pre $(walk /small) $(walk /docs)
  python3 "$PY" dirblocks "$IMG" "$D/pre.json" "$D/pre-dirblocks.json"
  python3 "$PY" pickslack "$D/pre-dirblocks.json" > "$D/pick.txt"
  cat "$D/pick.txt"
  python3 - "$D" <<'EOF'
import json, os, sys
d = sys.argv[1]
pick = set(open(os.path.join(d, "pick.txt")).read().split())
pre = json.load(open(os.path.join(d, "pre.json")))
json.dump([e for e in pre if e["path"] in pick], open(os.path.join(d, "deleted.json"), "w"))
EOF
  sfs; sleep 1
  # delete in directory order
  while read -r p; do rm "$M$p"; done < "$D/pick.txt"
  sfs
  put /other/new-owner.txt 2500      # reuses the lowest freed inode
  sfs
  gt live $(walk /small) $(walk /docs) $(walk /other) $(walk /keep)
  sfs; sleep 7
  unmount
  python3 "$PY" slackify "$IMG" "$D/pre-dirblocks.json" "$D/deleted.json" "$D/extra.json"
  finish 1 "SYNTHETIC. The kernel (6.18) wipes deleted directory entries; this image was then rewritten offline (python, from the directory blocks saved before the deletion) so that the deleted entries look as a pre-5.13 kernel left them: a merged entry's record (inode, rec_len, name_len, file_type, name) intact in the previous entry's slack; an entry first in its block (first entry of an htree leaf of /docs) with only inode set to 0 and its name kept. mkfs -O ^metadata_csum, so no directory block checksum needed updating. Inodes and data blocks are as the kernel left them; journal copies of the directory blocks are the kernel's (wiped) versions and were not rewritten. One deleted entry's inode was reused by /other/new-owner.txt (see reallocated_to; fls shows it as (realloc)). Each deleted entry has dirent {dir_block, offset, first_in_block, restored}." --synthetic --extra "$D/extra.json"
}

# ------------------------------------------------------------------ main
SEL=("$@")
ALL=(del-depth del-tree del-inline del-realloc del-dirty del-clean del-slack)
for s in "${SEL[@]}"; do [[ " ${ALL[*]} " == *" $s "* ]] || { echo "unknown fixture $s (one of: ${ALL[*]})" >&2; exit 1; }; done
want del-depth   && mk_del_depth
want del-tree    && mk_del_tree
want del-inline  && mk_del_inline
want del-realloc && mk_del_realloc
want del-dirty   && mk_dirty_clean dirty
want del-clean   && mk_dirty_clean clean
want del-slack   && mk_del_slack

# verification: every image must pass e2fsck -fn (del-dirty: journal recovery pending)
for n in "${ALL[@]}"; do
  want "$n" || continue
  f=$WORK/$n/check.img
  gzip -dc "$OUT/$n.img.gz" > "$f"
  rc=0; e2fsck -fn "$f" > "$WORK/$n/e2fsck.txt" 2>&1 || rc=$?
  echo "e2fsck -fn $n: exit $rc: $(grep -vE '^(Pass|e2fsck 1)' "$WORK/$n/e2fsck.txt" | tr '\n' ' ' | cut -c1-200)"
  python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert m['image_sha256']" "$OUT/$n.json"
  rm -f "$f"
done
echo "outputs in $OUT:"; ls -l "$OUT"

#!/usr/bin/env python3
"""Generator behind scripts/make-large-fs.sh (deterministic, seeded by N).

  gen-large-tree.py tree  ROOT N DELETE_LIST   staging tree for `mkfs.ext4 -d`
  gen-large-tree.py huge  MNT  N               huge directories (kernel, htree)
  gen-large-tree.py delete MNT N DELETE_LIST   delete a share of the files

Shape of an N-inode tree: ~8% directories nested up to ~12 levels (names
of 3..40 bytes), ~3% symlinks (fast and slow, some dangling), ~85% regular
files of which ~10% hold 1..16 KiB and the rest are empty, N/250000 large
files (8..64 MiB), and three huge directories (2%, 1% and 0.5% of N)
created later by the kernel so that they are htree-indexed.
"""
import os
import random
import shutil
import sys

WORDS = ("lib bin share etc usr var opt cache log tmp node_modules python3 site-packages "
         "include src doc man locale zoneinfo firmware modules kernel drivers net fs "
         "docker overlay2 containers volumes images layers diff merged work").split()


def name(rnd, i):
    w = rnd.choice(WORDS)
    r = rnd.random()
    if r < 0.5:
        return f"{w}{i}"
    if r < 0.85:
        return f"{w}-{rnd.getrandbits(32):08x}-{i}"
    return f"{w}.{rnd.getrandbits(96):024x}.{i}.data"


def shape(n):
    n_huge = [int(n * 0.02), int(n * 0.01), int(n * 0.005)]
    n_dirs = int(n * 0.08)
    n_links = int(n * 0.03)
    n_large = max(2, n // 250000)
    n_files = max(0, n - n_dirs - n_links - n_large - sum(n_huge) - 16)
    return n_dirs, n_links, n_large, n_files, n_huge


def tree(root, n, delete_list):
    rnd = random.Random(n)
    n_dirs, n_links, n_large, n_files, _ = shape(n)
    dirs = [""]
    depth = [0]
    made_dirs = 0
    while made_dirs < n_dirs:
        # Bias towards recent directories: deep, bushy branches.
        k = int(len(dirs) * (rnd.random() ** 0.35))
        k = min(k, len(dirs) - 1)
        if depth[k] >= 12:
            k = rnd.randrange(len(dirs))
            if depth[k] >= 12:
                continue
        p = os.path.join(dirs[k], name(rnd, made_dirs))
        os.mkdir(os.path.join(root, p))
        dirs.append(p)
        depth.append(depth[k] + 1)
        made_dirs += 1
    hot = [rnd.randrange(len(dirs)) for _ in range(max(1, len(dirs) // 100))]
    deletes = []
    # Whole subtrees to delete later (rm -rf): 0.5% of directories at depth >= 2.
    for k in rnd.sample(range(len(dirs)), max(1, len(dirs) // 200)):
        if depth[k] >= 2:
            deletes.append("D " + dirs[k])
    files = []
    pat = b"whiteout large-fs generated content line\n"
    for i in range(n_files):
        k = rnd.choice(hot) if rnd.random() < 0.05 else rnd.randrange(len(dirs))
        p = os.path.join(dirs[k], name(rnd, i))
        full = os.path.join(root, p)
        if rnd.random() < 0.10:
            size = min(16384, int(rnd.lognormvariate(7.0, 1.0)) + 1)
            with open(full, "wb") as f:
                f.write((p.encode() + b"\n" + pat * (size // len(pat) + 1))[:size])
        else:
            open(full, "wb").close()
        if i % 20 == 7:
            files.append(p)
        if rnd.random() < 0.06:
            deletes.append("F " + p)
    block = os.urandom(1 << 20)
    for i in range(n_large):
        k = rnd.randrange(len(dirs))
        p = os.path.join(dirs[k], f"large-{i}.bin")
        mib = rnd.randint(8, 64)
        with open(os.path.join(root, p), "wb") as f:
            for _ in range(mib):
                f.write(block)
        if i % 2 == 1:
            deletes.append("F " + p)
    for i in range(n_links):
        k = rnd.randrange(len(dirs))
        p = os.path.join(root, dirs[k], f"link{i}")
        r = rnd.random()
        if r < 0.6 and files:
            t = "/" + rnd.choice(files)
        elif r < 0.9:
            t = "/" + rnd.choice(dirs)
        else:
            t = "../missing/" + "x" * rnd.randint(10, 120)
        os.symlink(t, p)
    with open(delete_list, "w") as f:
        f.write("\n".join(deletes) + "\n")
    print(f"tree: {len(dirs)} dirs, {n_files} files, {n_links} symlinks, "
          f"{n_large} large files; {len(deletes)} deletions queued", file=sys.stderr)


def huge_names(n, which, count):
    rnd = random.Random(n * 7 + which)
    return [f"{rnd.getrandbits(160):040x}" for _ in range(count)]


def huge(mnt, n):
    _, _, _, _, n_huge = shape(n)
    for w, count in enumerate(n_huge):
        d = os.path.join(mnt, "var", "cache", f"huge-{w}")
        os.makedirs(d, exist_ok=True)
        for nm in huge_names(n, w, count):
            open(os.path.join(d, nm), "wb").close()
    print(f"huge dirs: {n_huge}", file=sys.stderr)


def delete(mnt, n, delete_list):
    nf = nd = 0
    with open(delete_list) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            kind, p = line[0], line[2:]
            full = os.path.join(mnt, p)
            try:
                if kind == "D":
                    shutil.rmtree(full)
                    nd += 1
                else:
                    os.unlink(full)
                    nf += 1
            except FileNotFoundError:
                pass  # inside a subtree already removed
    # Half of the smallest huge directory.
    _, _, _, _, n_huge = shape(n)
    d = os.path.join(mnt, "var", "cache", "huge-2")
    for nm in huge_names(n, 2, n_huge[2])[::2]:
        os.unlink(os.path.join(d, nm))
        nf += 1
    print(f"deleted {nf} files and {nd} subtrees", file=sys.stderr)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "tree":
        tree(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "huge":
        huge(sys.argv[2], int(sys.argv[3]))
    elif mode == "delete":
        delete(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(f"unknown mode {mode}")

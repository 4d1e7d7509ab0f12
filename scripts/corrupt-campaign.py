#!/usr/bin/env python3
"""Corruption campaign: mutate ONE metadata area of a real fixture
per mutant, run the release binary on it under a timeout, and report panics,
hangs, peak RSS and how much of the baseline evidence is still reported.

    python3 scripts/corrupt-campaign.py --n 1000          # full run
    python3 scripts/corrupt-campaign.py --n 30 --ci       # CI: fails on any panic/hang

Areas are located with dumpe2fs/debugfs (e2fsprogs) and `whiteout ls -r -p`:
superblock, gdt, bitmaps, inode tables (records of listed inodes), directory
blocks, extent tree blocks, journal blocks (bias to blocks with a jbd2 header),
Docker JSON files (config.v2.json, hostconfig.json, repositories.json, imagedb
configs, daemon.json) and layerdb files. Each mutant flips 1-32 random bits or
overwrites 1-16 random bytes (sometimes a whole run of bytes) inside one
randomly chosen block/record of the area. The mutant is written in place into
a scratch copy and undone afterwards, so a run costs no image copy.

Commands per mutant: `deleted`, `containers --all --json`, `ls -r -p`.
(`scan --no-carve` does not exist on this branch yet.)
"""
import argparse, gzip, json, os, random, re, resource, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TD = os.path.join(ROOT, "testdata")
FIXTURES = [
    ("ext4/blk1k", False), ("ext4/inline", False), ("ext4/htree", False), ("ext4/ext3", False),
    ("deleted/del-dirty", False), ("deleted/del-tree", False), ("deleted/del-depth", False),
    ("docker/docker-host", True), ("docker/docker-dataroot", True), ("docker/docker-userns", True),
]
CI_FIXTURES = ["ext4/blk1k", "deleted/del-dirty", "docker/docker-host"]
# "{out}" is a scratch case folder next to (never inside) the mutant's folder.
COMMANDS = [["deleted"], ["containers", "--all", "--json"], ["ls", "-r", "-p"],
            ["scan", "--no-carve", "--quiet", "--force", "-o", "{out}"]]
LS_RE = re.compile(r"^(\S)/(\S) (?:\* )?(\d+)(?:\(realloc\))?:\t(.*)$")
DOCKER_JSON = ("config.v2.json", "hostconfig.json", "repositories.json", "daemon.json")


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


class Fixture:
    def __init__(self, name, docker, work, binary):
        self.name, self.docker, self.bin = name, docker, binary
        self.path = os.path.join(work, name.replace("/", "_") + ".img")
        with gzip.open(os.path.join(TD, name + ".img.gz")) as f, open(self.path, "wb") as o:
            shutil.copyfileobj(f, o, 1 << 20)
        self.size = os.path.getsize(self.path)
        self.areas = {}
        self.locate()
        base = run_all(self, timeout=120)
        if base["panic"] or base["hang"]:
            raise SystemExit(f"{name}: the unmodified fixture fails: {base}")
        self.base_files, self.base_containers = base["files"], base["containers"]
        self.base_secs = base["secs"]

    def add(self, area, off, length):
        if length > 0 and 0 <= off < self.size:
            self.areas.setdefault(area, []).append((off, min(length, self.size - off)))

    def locate(self):
        d = sh(["dumpe2fs", self.path], text=True).stdout
        bs = int(re.search(r"^Block size:\s+(\d+)", d, re.M).group(1))
        isize = int(re.search(r"^Inode size:\s+(\d+)", d, re.M).group(1))
        ipg = int(re.search(r"^Inodes per group:\s+(\d+)", d, re.M).group(1))
        self.bs = bs
        self.add("superblock", 1024, 1024)
        itables = {}
        g = -1
        for line in d.splitlines():
            m = re.match(r"Group (\d+):", line)
            if m:
                g = int(m.group(1))
            m = re.search(r"Group descriptors at (\d+)-(\d+)", line)
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                self.add("gdt", a * bs, (b - a + 1) * bs if g == 0 else 0)
            for kind in ("Block bitmap", "Inode bitmap"):
                m = re.search(kind + r" at (\d+)", line)
                if m:
                    self.add("bitmaps", int(m.group(1)) * bs, bs)
            m = re.search(r"Inode table at (\d+)-(\d+)", line)
            if m:
                itables[g] = int(m.group(1))
        ls = sh([self.bin, "ls", "-r", "-p", self.path], text=True, errors="replace").stdout
        entries = [m.groups() for m in map(LS_RE.match, ls.splitlines()) if m]
        inos = sorted({int(e[2]) for e in entries} | {2, 8})
        for ino in inos:
            g, idx = (ino - 1) // ipg, (ino - 1) % ipg
            if g in itables:
                self.add("inode_tables", itables[g] * bs + idx * isize, isize)
        cmds, want = [], {}
        for t, _, ino, path in entries:
            ino = int(ino)
            if t == "d":
                want.setdefault(ino, set()).add("directory_blocks")
            if t == "r":
                want.setdefault(ino, set()).add("extent_blocks")
            base = path.rsplit("/", 1)[-1]
            if self.docker and t == "r":
                if base in DOCKER_JSON or "/imagedb/content/" in path:
                    want.setdefault(ino, set()).add("docker_json")
                if "/layerdb/" in path:
                    want.setdefault(ino, set()).add("layerdb")
        want.setdefault(8, set()).add("journal")
        order = list(want)[:6000]
        with tempfile.NamedTemporaryFile("w", suffix=".cmd", delete=False) as f:
            for ino in order:
                f.write(f"stat <{ino}>\n")
            cmdfile = f.name
        out = sh(["debugfs", "-f", cmdfile, self.path], text=True, errors="replace").stdout
        os.unlink(cmdfile)
        # debugfs prints one "Inode: N" block per stat.
        for chunk in re.split(r"(?m)^Inode: ", out)[1:]:
            ino = int(re.match(r"(\d+)", chunk).group(1))
            kinds = want.get(ino, set())
            runs = []
            for a, b, c in re.findall(r"\(\d+(?:-(\d+))?\):(\d+)(?:-(\d+))?", chunk):
                start = int(b)
                end = int(c) if c else start
                runs.append((start, end))
            etb = [int(x) for x in re.findall(r"\((?:ETB|IND|DIND|TIND)\d*\):(\d+)", chunk)]
            for k in kinds:
                if k == "extent_blocks":
                    for blk in etb:
                        self.add(k, blk * bs, bs)
                else:
                    for s, e in runs[:64]:
                        for blk in range(s, min(e, s + 256) + 1):
                            self.add(k, blk * bs, bs)
        # journal: prefer blocks that carry a jbd2 header
        jb = self.areas.get("journal", [])
        with open(self.path, "rb") as f:
            hot = []
            for off, ln in jb:
                f.seek(off)
                if f.read(4) == b"\xc0\x3b\x39\x98":
                    hot.append((off, ln))
        if hot:
            self.areas["journal"] = hot * 3 + jb[: len(hot) * 2]


def run_all(fx, timeout):
    res = {"panic": [], "hang": [], "files": None, "containers": None, "secs": 0.0}
    t0 = time.time()
    for cmd in COMMANDS:
        if cmd[0] == "containers" and not fx.docker:
            continue
        out_dir = os.path.join(os.path.dirname(fx.path), "case-" + os.path.basename(fx.path))
        args = [a.replace("{out}", out_dir) for a in cmd]
        # A hang is CPU time over `timeout` (or no end within 4x that wall
        # time): wall time alone misfires when other jobs share the CPU.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            p = sh([fx.bin] + args + [fx.path], timeout=4 * timeout)
        except subprocess.TimeoutExpired:
            res["hang"].append(" ".join(cmd) + f" (no end in {4 * timeout:.0f}s wall)")
            continue
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        res["cpu"] = max(res.get("cpu", 0.0), cpu)
        if cpu > timeout:
            res["hang"].append(" ".join(cmd) + f" ({cpu:.1f}s CPU)")
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode == 101 or "panicked" in err or p.returncode < 0:
            res["panic"].append(f"{' '.join(cmd)} rc={p.returncode}: {err.strip()[-300:]}")
        out = p.stdout.decode("utf-8", "replace")
        if cmd[0] == "ls":
            res["files"] = {m.group(4) for m in map(LS_RE.match, out.splitlines()) if m}
        if cmd[0] == "containers":
            ids = set()
            for line in out.splitlines():
                try:
                    ids.add(json.loads(line)["id"])
                except Exception:
                    pass
            res["containers"] = ids
    res["secs"] = time.time() - t0
    return res


def mutate(rng, f, off, length):
    """Mutate bytes in [off, off+length) of open file f; return undo list."""
    f.seek(off)
    orig = bytearray(f.read(length))
    new = bytearray(orig)
    mode = rng.random()
    if mode < 0.45:
        for _ in range(rng.randint(1, 32)):
            i = rng.randrange(len(new))
            new[i] ^= 1 << rng.randrange(8)
    elif mode < 0.85:
        for _ in range(rng.randint(1, 16)):
            new[rng.randrange(len(new))] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    else:
        i = rng.randrange(len(new))
        n = rng.randint(1, min(64, len(new) - i))
        new[i:i + n] = bytes(rng.randrange(256) for _ in range(n))
    f.seek(off)
    f.write(new)
    f.flush()
    return (off, bytes(orig))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--ci", action="store_true", help="3 fixtures, fail on any panic or hang")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=30.0, help="CPU seconds per command before it counts as a hang (wall limit: 4x)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "whiteout"))
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--keep", help="copy every mutant that panics or hangs into this directory")
    ap.add_argument("--only", help="comma-separated mutant numbers to run (the others are made and undone, not run)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sh(["cargo", "build", "--release"], cwd=ROOT)
    for tool in ("dumpe2fs", "debugfs"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: install e2fsprogs (it locates the metadata areas)")
    rng = random.Random(a.seed)
    only = {int(x) for x in a.only.split(",")} if a.only else None
    work = tempfile.mkdtemp(prefix="corrupt-")
    try:
        fixtures = []
        for name, docker in FIXTURES:
            if a.ci and name not in CI_FIXTURES:
                continue
            t = time.time()
            fixtures.append(Fixture(name, docker, work, a.bin))
            fx = fixtures[-1]
            print(f"# {name}: {len(fx.base_files or [])} files, {len(fx.base_containers or [])} containers, "
                  f"areas " + ", ".join(f"{k}={len(v)}" for k, v in sorted(fx.areas.items()))
                  + f" ({time.time() - t:.1f}s)", file=sys.stderr)
        stats = {}
        problems = []
        t_start = time.time()
        for i in range(a.n):
            fx = fixtures[i % len(fixtures)]
            area = rng.choice(sorted(fx.areas))
            off, length = rng.choice(fx.areas[area])
            with open(fx.path, "r+b") as f:
                undo = mutate(rng, f, off, length)
                try:
                    if only is not None and i not in only:
                        continue
                    r = run_all(fx, a.timeout)
                    if a.keep and (r["panic"] or r["hang"]):
                        os.makedirs(a.keep, exist_ok=True)
                        shutil.copyfile(fx.path, os.path.join(
                            a.keep, f"{fx.name.replace('/', '_')}-{area}-seed{a.seed}-m{i}.img"))
                finally:
                    f.seek(undo[0])
                    f.write(undo[1])
            s = stats.setdefault(area, {"n": 0, "panic": 0, "hang": 0, "files": [], "containers": []})
            s["n"] += 1
            s["panic"] += bool(r["panic"])
            s["hang"] += bool(r["hang"])
            if fx.base_files and r["files"] is not None:
                s["files"].append(len(fx.base_files & r["files"]) / len(fx.base_files))
            if fx.docker and fx.base_containers and r["containers"] is not None:
                s["containers"].append(len(fx.base_containers & r["containers"]) / len(fx.base_containers))
            for what in ("panic", "hang"):
                for p in r[what]:
                    problems.append(f"{what}: {fx.name} area={area} off={off} seed={a.seed} mutant={i}: {p}")
                    print(problems[-1], file=sys.stderr)
            if (i + 1) % 50 == 0:
                print(f"# {i + 1}/{a.n} mutants, {time.time() - t_start:.0f}s", file=sys.stderr)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        pct = lambda v: f"{100 * sum(v) / len(v):.1f}" if v else "n/a"
        rows = [("area", "mutants", "panics", "hangs", "containers found %", "files listed %")]
        tot = {"n": 0, "panic": 0, "hang": 0, "files": [], "containers": []}
        for area in sorted(stats):
            s = stats[area]
            rows.append((area, s["n"], s["panic"], s["hang"], pct(s["containers"]), pct(s["files"])))
            for k in tot:
                tot[k] += s[k]
        rows.append(("total", tot["n"], tot["panic"], tot["hang"], pct(tot["containers"]), pct(tot["files"])))
        if a.markdown:
            print("| " + " | ".join(map(str, rows[0])) + " |")
            print("|" + "---|" * len(rows[0]))
            for r in rows[1:]:
                print("| " + " | ".join(map(str, r)) + " |")
        else:
            for r in rows:
                print("{:<18} {:>8} {:>7} {:>6} {:>19} {:>15}".format(*r))
        print(f"peak RSS (any command, any mutant): {peak:.1f} MiB; wall {time.time() - t_start:.0f}s; "
              f"timeout {a.timeout}s per command; seed {a.seed}")
        if tot["panic"] or tot["hang"]:
            print("\n".join(problems))
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()

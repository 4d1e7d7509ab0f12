#!/usr/bin/env bash
# Side-by-side deleted-file recovery on the testdata/deleted fixtures:
#   whiteout recover  |  TSK fls -r -d -p + icat  |  ext4magic -r, ext4magic -m  |  extundelete --restore-all
# scored against each fixture's ground-truth manifest (testdata/deleted/<name>.json).
# Prints a markdown table and writes it, with tool versions and method, to
# docs/comparison-recovery.md.
# Usage: scripts/compare-recovery.sh [FIXTURE...]     (default: all testdata/deleted/*.img.gz)
# Env:   TOOL_TIMEOUT (seconds per tool run, default 120), KEEP_WORK=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmo=${TOOL_TIMEOUT:-120}

need_pkg() { # command package
  command -v "$1" >/dev/null && return 0
  echo "installing $2 ..." >&2
  apt-get install -y "$2" >/dev/null || { echo "cannot install $2" >&2; exit 1; }
}
need_pkg fls sleuthkit
need_pkg icat sleuthkit
need_pkg ext4magic ext4magic
need_pkg extundelete extundelete

cargo build --release -q
wo=$root/target/release/whiteout

work=$(mktemp -d /tmp/compare-recovery.XXXXXX)
if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $work" >&2
else trap 'rm -rf "$work"' EXIT; fi

if (($#)); then names=("$@")
else names=(); for f in testdata/deleted/*.img.gz; do b=$(basename "$f" .img.gz); names+=("$b"); done; fi

# run LOG RCFILE CMD...: run with timeout, never fail the script; rc goes to RCFILE
run() {
  local log=$1 rcf=$2; shift 2
  local rc=0
  timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1 </dev/null || rc=$?
  echo "$rc" >"$rcf"
}

for n in "${names[@]}"; do
  d=$work/$n; mkdir -p "$d"
  mkdir -p "$work/img"; img=$work/img/$n.img   # outputs in $d, apart from the evidence
  gunzip -c "testdata/deleted/$n.img.gz" >"$img"
  echo "== $n" >&2

  # whiteout
  run "$d/wo.log" "$d/wo.rc" "$wo" recover "$img" -o "$d/wo"

  # TSK: fls, then icat every deleted inode fls names
  run "$d/fls.txt" "$d/fls.rc" fls -r -d -p "$img"
  mkdir -p "$d/icat"
  { grep -oP '^\S+\s+(\*\s+)?\K\d+(?=(\([^)]*\))?:\t)' "$d/fls.txt" || true; } | sort -un |
    while read -r ino; do
      [[ $ino -gt 0 ]] || continue
      timeout "$tmo" icat "$img" "$ino" >"$d/icat/$ino" 2>/dev/null || echo "$ino $?" >>"$d/icat.fail"
    done

  # ext4magic -r and -m (each into its own dir; the image is read only)
  mkdir -p "$d/e4m-r" "$d/e4m-m"
  run "$d/e4m-r.log" "$d/e4m-r.rc" ext4magic "$img" -r -d "$d/e4m-r"
  run "$d/e4m-m.log" "$d/e4m-m.rc" ext4magic "$img" -m -d "$d/e4m-m"

  # extundelete: 0.2.4 has no --output-dir, only -o DIR (run from $d so nothing lands in the repo)
  (cd "$d" && run "$d/eu.log" "$d/eu.rc" extundelete "$img" --restore-all -o "$d/eu")
done

kernel=$(uname -r)
v_fls=$(fls -V 2>&1 | head -1)
v_e4m=$( (ext4magic -V 2>&1 || true) | head -1 | tr -s ' '; )
v_e4m_pkg=$(dpkg-query -W -f='${Version}' ext4magic 2>/dev/null || echo '?')
v_eu=$( (extundelete --version 2>&1 || true) | head -1)
v_eu_pkg=$(dpkg-query -W -f='${Version}' extundelete 2>/dev/null || echo '?')
v_wo=$("$wo" --version 2>&1 | head -1)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || rev="$rev+dirty"

export work kernel v_fls v_e4m v_e4m_pkg v_eu v_eu_pkg v_wo rev tmo
python3 - "${names[@]}" <<'PY'
import gzip, hashlib, json, os, re, sys, datetime
from collections import Counter

work = os.environ["work"]; names = sys.argv[1:]

def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()

def walk_hashes(top, skip=()):
    """{relpath: sha256} of every regular file (not symlink) under top."""
    out = {}
    if not os.path.isdir(top):
        return out
    for dp, dns, fns in os.walk(top):
        for fn in fns:
            p = os.path.join(dp, fn)
            rel = os.path.relpath(p, top)
            if rel in skip or os.path.islink(p) or not os.path.isfile(p):
                continue
            out[rel] = sha(p)
    return out

def multiset_match(truth_files, hashes):
    """Ground-truth files matched by content anywhere: per hash, min(#truth, #written)."""
    want = Counter(t["sha256"] for t in truth_files)
    have = Counter(hashes.values())
    return sum(min(c, have[h]) for h, c in want.items())

def at_path(truth_files, hashes):
    return [t for t in truth_files if hashes.get(t["path"].lstrip("/")) == t["sha256"]]

def rc_note(tool, rc):
    rc = int(rc)
    if rc == 0: return None
    if rc == 124 or rc == 137: return f"{tool}: timed out (rc {rc}); partial output scored"
    if rc > 128: return f"{tool}: crashed (signal {rc-128}, rc {rc}); partial output scored"
    return f"{tool}: exit code {rc}; output scored"

def rd(p, default="0"):
    try: return open(p).read().strip()
    except FileNotFoundError: return default

rows, notes, misses = [], [], []
tot = Counter()
for n in names:
    d = os.path.join(work, n)
    mp = f"testdata/deleted/{n}.json"
    m = json.load(open(mp) if os.path.exists(mp) else gzip.open(mp + ".gz"))
    truth = m["deleted"]
    regs = [t for t in truth if t["type"] == "r" and t["size"] > 0]
    tp = {t["path"]: t for t in truth}

    # whiteout
    wo_recs = []
    mp = os.path.join(d, "wo", "manifest.jsonl")
    if os.path.exists(mp):
        wo_recs = [json.loads(l) for l in open(mp) if l.strip()]
    wo_h = walk_hashes(os.path.join(d, "wo"), skip={"manifest.jsonl"})
    wo_at = at_path(regs, wo_h)
    wo_any = multiset_match(regs, wo_h)
    wo_names = {(r.get("path"), r.get("inode")) for r in wo_recs}
    wo_nm = sum(1 for t in truth if (t["path"], t["inode"]) in wo_names)

    # TSK
    fls_names, fls_inodes = set(), set()
    rx = re.compile(r"^\S+\s+(?:\*\s+)?(\d+)(?:\([^)]*\))?:\t(.*)$")
    for line in open(os.path.join(d, "fls.txt"), errors="replace"):
        mm = rx.match(line.rstrip("\n"))
        if mm:
            ino, path = int(mm.group(1)), "/" + mm.group(2)
            fls_names.add((path, ino)); fls_inodes.add(ino)
    fls_nm = sum(1 for t in truth if (t["path"], t["inode"]) in fls_names)
    icat_ok = []
    for t in regs:
        p = os.path.join(d, "icat", str(t["inode"]))
        if t["inode"] in fls_inodes and os.path.exists(p) and sha(p) == t["sha256"]:
            icat_ok.append(t)

    # file-writing tools
    def score(sub):
        h = walk_hashes(os.path.join(d, sub))
        top = os.path.join(d, sub)
        names_ok = sum(1 for t in truth if os.path.lexists(os.path.join(top, t["path"].lstrip("/"))))
        return multiset_match(regs, h), at_path(regs, h), names_ok, h
    r = {k: score(k) for k in ("e4m-r", "e4m-m", "eu")}

    for tool, rcf in (("whiteout", "wo.rc"), ("fls", "fls.rc"), ("ext4magic -r", "e4m-r.rc"),
                      ("ext4magic -m", "e4m-m.rc"), ("extundelete", "eu.rc")):
        note = rc_note(tool, rd(os.path.join(d, rcf)))
        if note: notes.append(f"{n}: {note}")
    if os.path.exists(os.path.join(d, "icat.fail")):
        notes.append(f"{n}: icat failed on inodes " + " ".join(l.split()[0] for l in open(os.path.join(d, "icat.fail"))))

    # files another tool got byte-exact that whiteout did not get at any name
    wo_set = Counter(wo_h.values())
    got_by = {}
    for t in icat_ok: got_by.setdefault(t["path"], []).append("icat")
    for k, lab in (("e4m-r", "ext4magic -r"), ("e4m-m", "ext4magic -m"), ("eu", "extundelete")):
        hs = set(r[k][3].values())
        for t in regs:
            if t["sha256"] in hs: got_by.setdefault(t["path"], []).append(lab)
    for t in regs:
        if t["path"] in got_by and wo_set[t["sha256"]] == 0:
            misses.append(f"{n}: {t['path']} (inode {t['inode']}) recovered by {', '.join(got_by[t['path']])} but not by whiteout")
        elif t["path"] in got_by and t not in wo_at:
            misses.append(f"{n}: {t['path']} (inode {t['inode']}) content recovered by whiteout but not under its original path")

    label = n + (" (synthetic)" if m.get("synthetic") else "")
    vals = dict(reg=len(regs), names=len(truth), wo_at=len(wo_at), wo_any=wo_any, wo_nm=wo_nm,
                icat=len(icat_ok), fls_nm=fls_nm,
                e4mr=r["e4m-r"][0], e4mr_at=len(r["e4m-r"][1]), e4mr_nm=r["e4m-r"][2],
                e4mm=r["e4m-m"][0], e4mm_at=len(r["e4m-m"][1]), e4mm_nm=r["e4m-m"][2],
                eu=r["eu"][0], eu_at=len(r["eu"][1]), eu_nm=r["eu"][2])
    tot.update(vals)
    rows.append((label, vals))

def fmt(label, v):
    return (f"| {label} | {v['reg']} / {v['names']} "
            f"| {v['wo_at']} / {v['wo_any']} / {v['wo_nm']} "
            f"| {v['icat']} / {v['fls_nm']} "
            f"| {v['e4mr']} / {v['e4mr_at']} / {v['e4mr_nm']} "
            f"| {v['e4mm']} / {v['e4mm_at']} / {v['e4mm_nm']} "
            f"| {v['eu']} / {v['eu_at']} / {v['eu_nm']} |")

lines = [
    "| fixture | truth: non-empty reg files / deleted names | whiteout exact@path / exact any name / names | TSK fls+icat exact / names | ext4magic -r exact / exact@path / names | ext4magic -m exact / exact@path / names | extundelete exact / exact@path / names |",
    "| --- | --- | --- | --- | --- | --- | --- |",
]
lines += [fmt(l, v) for l, v in rows]
lines.append(fmt("**total**", tot))
table = "\n".join(lines)
notes_md = "\n".join(f"- {x}" for x in notes) or "- none"
misses_md = "\n".join(f"- {x}" for x in misses) or "- none"

print(table)
print("\nCrashes / non-zero exits:")
print(notes_md)
print("\nFiles another tool recovers byte-exact that whiteout does not (at its original path):")
print(misses_md)

E = os.environ
doc = f"""# Deleted-file recovery: whiteout vs TSK, ext4magic, extundelete

Generated by `scripts/compare-recovery.sh` on {datetime.date.today().isoformat()}.

- whiteout: {E['v_wo']} (git {E['rev']}), `whiteout recover IMG -o OUT`
- The Sleuth Kit: {E['v_fls']}, `fls -r -d -p IMG` and `icat IMG INODE`
- ext4magic: {E['v_e4m']} (Debian package {E['v_e4m_pkg']}), `ext4magic IMG -r -d OUT` and `ext4magic IMG -m -d OUT2`
- extundelete: {E['v_eu']} (Debian package {E['v_eu_pkg']}), `extundelete IMG --restore-all -o OUT3` (0.2.4 has no `--output-dir`)
- kernel running the comparison: {E['kernel']} (the fixtures were made with the kernel named in each manifest)
- timeout per tool run: {E['tmo']} s

## Results

Counts per fixture; each cell is in the order given in its column header.

{table}

`del-slack` is partly synthetic (directory entries restored into slack by the fixture script,
see `testdata/deleted/README.md`); all other fixtures were deleted by the real kernel ext4 driver.

Crashes, timeouts and non-zero exits (whatever the tool had written was still scored):

{notes_md}

Files another tool recovered byte-exact that whiteout did not recover byte-exact under its original path:

{misses_md}

## Method

Each `testdata/deleted/<name>.img.gz` is decompressed to a temporary directory and every tool
is run on that copy with a timeout. Ground truth is the `deleted` array of
`testdata/deleted/<name>.json` (path, inode, type, size, sha256 recorded before deletion).
**exact** counts deleted non-empty regular files whose sha256 is found among the files a tool wrote,
under any name (multiset: two truth files with the same content need two written copies);
zero-length files are left out because any empty output would match them.
**exact@path** requires that the file a tool wrote at the file's original path (relative to the
output directory) has the right sha256. **names**: for whiteout, deleted entries (any type) whose
`path` and `inode` both appear in `OUT/manifest.jsonl`; for TSK, entries whose path and inode
both appear in `fls -r -d -p` (a `$OrphanFiles/OrphanFile-N` line does not count); for ext4magic
and extundelete, entries for which something (file, directory, symlink) exists at the original
relative path in the output directory, whatever its content. For TSK, **exact** is `icat` of each
deleted inode that `fls` lists, compared with the truth file of that inode. Output of `-m` of
ext4magic includes its `MAGIC-*` directories, which are scored for content only.
"""
os.makedirs("docs", exist_ok=True)
# keep the section with the results of scripts/compare-precision.sh
marker = "\n## Precision and recall against snapshot truth"
try:
    old = open("docs/comparison-recovery.md").read()
    if marker in old:
        doc = doc.rstrip("\n") + "\n" + old[old.index(marker):]
except FileNotFoundError:
    pass
open("docs/comparison-recovery.md", "w").write(doc)
print("\nwrote docs/comparison-recovery.md", file=sys.stderr)
PY

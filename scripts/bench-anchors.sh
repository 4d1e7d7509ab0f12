#!/usr/bin/env bash
# bench-anchors.sh: whiteout against the anchor tools, side by side, in one run.
#
#   bash scripts/bench-anchors.sh IMAGE [RUNS]          # RUNS default 5
#
# For each task both tools run on the same raw image (page cache warm), RUNS times each,
# interleaved; the table shows the median wall time, the median CPU% and the largest
# peak RSS (GNU time %e %P %M), and the ratio whiteout/anchor (< 1: whiteout is faster).
#
#   full recursive listing   whiteout ls -r -p          fls -r -p
#   deleted listing          whiteout ls -r -p -d       fls -r -p -d
#   inode walk               whiteout deleted           ils -A
#   container metadata       whiteout containers --all  target-query -f docker.containers (Dissect)
#   carving (same types)     whiteout carve --types T   photorec (free space, same types), foremost -t T
#   whole job                whiteout scan --no-hash    fls -r -p + ils -A + photorec + Dissect (sum of medians)
#
# Environment:
#   CARVE_RUNS   runs for the carving rows and `scan` with carving (default RUNS; carving
#                a 20 GiB image takes minutes per tool, so use fewer there and say so)
#   CARVE_TYPES  whiteout --types (default jpg,png,gif,pdf,zip: the types all three
#                tools know; PhotoRec gets the same, foremost the same -t list)
#   BENCH_WORK   work dir for outputs (default /tmp/bench-anchors); never beside the image
#   DISSECT_VENV Dissect venv (default /tmp/dissect-venv)
#   NO_FOREMOST=1, NO_PHOTOREC=1, NO_DISSECT=1  skip an anchor
#   TASKS        comma list of cat,list,ct,carve,scan (default all)
#   KEEP=1       keep BENCH_WORK/runs.tsv and add to it (finish a run in parts)
#   CARVE_TIMEOUT  stop an anchor carver after this many seconds (shown as "> N s")
# Writes BENCH_WORK/table.md (also printed) and BENCH_WORK/runs.tsv (every run).
# Needs: sleuthkit (fls, ils), testdisk (photorec), foremost, GNU time, e2fsprogs.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMG=$(realpath "${1:?usage: bench-anchors.sh IMAGE [RUNS]}")
RUNS=${2:-5}
CARVE_RUNS=${CARVE_RUNS:-$RUNS}
TYPES=${CARVE_TYPES:-jpg,png,gif,pdf,zip}
W=${BENCH_WORK:-/tmp/bench-anchors}
VENV=${DISSECT_VENV:-/tmp/dissect-venv}
WO=${WHITEOUT:-$REPO/target/release/whiteout}
case $W/ in "$(dirname "$IMG")"/*) echo "BENCH_WORK must not be beside the image" >&2; exit 1 ;; esac
[ -n "${KEEP:-}" ] || rm -rf "$W"
mkdir -p "$W"
TASKS=,${TASKS:-cat,list,ct,carve,scan},
want() { case $TASKS in *,$1,*) return 0 ;; esac; return 1; }
[ -n "${WHITEOUT:-}" ] || (cd "$REPO" && cargo build --release -q)
for t in fls ils /usr/bin/time dumpe2fs; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
[ -x "$VENV/bin/target-query" ] || NO_DISSECT=1
command -v photorec >/dev/null || NO_PHOTOREC=1
command -v foremost >/dev/null || NO_FOREMOST=1
RES=$W/runs.tsv
[ -n "${KEEP:-}" ] || : >"$RES"
log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# run KEY TOOL OUTDIR|- CMD...: one timed run; OUTDIR wiped first. The first run of a
# KEY/TOOL writes stdout to a file whose lines are counted (no separate warm-up run: the
# image is read once with cat first); later runs write to /dev/null.
run() {
    local key=$1 tool=$2 out=$3 tf=$W/time.txt so=/dev/null
    shift 3
    [ "$out" = - ] || rm -rf "$out"
    [ -f "$W/$key.$tool.lines" ] || [ "$key" = cat ] || so=$W/$key.$tool.out
    local rc=0
    /usr/bin/time -o "$tf" -f '%e %M %P' "$@" >"$so" 2>"$W/$key.$tool.err" || rc=$?
    tail -1 "$tf" | awk -v k="$key" -v t="$tool" -v rc="$rc" '{sub("%","",$3); print k "\t" t "\t" $1 "\t" $2 "\t" $3 "\t" rc}' >>"$RES"
    if [ "$so" != /dev/null ]; then wc -l <"$so" >"$W/$key.$tool.lines"; rm -f "$so"; fi
}

# ---- facts about the image
BS=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Block size/ {gsub(/ /,"",$2); print $2}')
FREEB=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Free blocks/ {gsub(/ /,"",$2); print $2}')
BCOUNT=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Block count/ {gsub(/ /,"",$2); print $2}')
ICOUNT=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Inode count/ {gsub(/ /,"",$2); print $2}')
IFREE=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Free inodes/ {gsub(/ /,"",$2); print $2}')
SIZE=$(stat -c %s "$IMG")
ALLOC=$(($(stat -c %b "$IMG") * 512))
log "image $IMG: $SIZE bytes ($ALLOC allocated in the file), $ICOUNT inodes ($((ICOUNT - IFREE)) used), $FREEB free blocks of $BS"

# ---- memory-bandwidth reference: cat from page cache (second of two reads)
if want cat; then
    cat "$IMG" >/dev/null
    for i in $(seq "$RUNS"); do run cat cat - cat "$IMG"; done
fi

# ---- listings and inode walk
want list && for i in $(seq "$RUNS"); do
    log "listings, run $i/$RUNS"
    run ls whiteout - "$WO" ls "$IMG" -r -p
    run ls fls - fls -r -p "$IMG"
    run lsd whiteout - "$WO" ls "$IMG" -r -p -d
    run lsd fls - fls -r -p -d "$IMG"
    run ils whiteout - "$WO" deleted "$IMG"
    run ils ils - ils -A "$IMG"
done

# ---- container metadata
want ct && for i in $(seq "$RUNS"); do
    log "containers, run $i/$RUNS"
    run ct whiteout - "$WO" containers "$IMG" --all
    [ -n "${NO_DISSECT:-}" ] || run ct dissect - "$VENV/bin/target-query" -q -f docker.containers "$IMG"
done

# ---- carving: the same types for every tool; PhotoRec on free space (as whiteout)
PR_OPTS="fileopt,everything,disable"
for t in ${TYPES//,/ }; do PR_OPTS="$PR_OPTS,$t,enable"; done
PR_OPTS="$PR_OPTS,freespace,search"
mkdir -p "$W/pr"
# PhotoRec resumes from photorec.ses in its cwd: run it from a clean dir every time
printf '#!/bin/sh\ncd "%s" && rm -f photorec.ses && exec photorec /d "%s" /cmd "%s" "%s"\n' \
    "$W/pr" "$W/pr/out/r" "$IMG" "$PR_OPTS" >"$W/photorec.sh"
TO=()
[ -z "${CARVE_TIMEOUT:-}" ] || TO=(timeout "$CARVE_TIMEOUT")
want carve && for i in $(seq "$CARVE_RUNS"); do
    log "carving, run $i/$CARVE_RUNS"
    run carve whiteout "$W/wo-carve" "$WO" carve "$IMG" -o "$W/wo-carve" --types "$TYPES"
    [ -n "${NO_PHOTOREC:-}" ] || { rm -rf "$W/pr/out"; mkdir -p "$W/pr/out"; run carve photorec - "${TO[@]}" sh "$W/photorec.sh"; }
    [ -n "${NO_FOREMOST:-}" ] || run carve foremost "$W/fm" "${TO[@]}" foremost -Q -t "$TYPES" -i "$IMG" -o "$W/fm"
done
for k in whiteout photorec foremost; do
    d=$W/wo-carve; [ $k = photorec ] && d=$W/pr/out; [ $k = foremost ] && d=$W/fm
    if [ -d "$d" ]; then find "$d" -type f ! -name '*.jsonl' ! -name audit.txt ! -name report.xml | wc -l >"$W/carve.$k.lines"; fi
done

# ---- whole job: scan (no evidence hashing: the anchors do not hash either)
want scan && for i in $(seq "$RUNS"); do
    log "scan --no-carve, run $i/$RUNS"
    run scannc whiteout "$W/scan-nc" "$WO" scan "$IMG" -o "$W/scan-nc" --no-hash --no-carve --quiet --jobs 2
done
want scan && for i in $(seq "$CARVE_RUNS"); do
    log "scan, run $i/$CARVE_RUNS"
    run scan whiteout "$W/scan" "$WO" scan "$IMG" -o "$W/scan" --no-hash --quiet --jobs 2
done

# ---- table
python3 - "$RES" "$W" "$IMG" "$SIZE" "$ALLOC" "$ICOUNT" "$IFREE" "$FREEB" "$BS" "$BCOUNT" "$RUNS" "$CARVE_RUNS" "$TYPES" \
    "$(fls -V 2>&1 | awk '{print $NF}')" "$("$VENV/bin/pip" show dissect.target 2>/dev/null | awk '/^Version/ {print $2}')" \
    "$(photorec /version 2>/dev/null | awk '/^PhotoRec/ {sub(",", "", $2); print $2; exit}')" "$(foremost -V 2>/dev/null | head -1)" \
    "$("$WO" --version)" <<'PY' | tee "$W/table.md"
import collections, os, statistics, sys
(res, W, img, size, alloc, icount, ifree, freeb, bs, bcount, runs, cruns, types,
 tsk, dissect, photorec, foremost, wov) = sys.argv[1:]
size, alloc, icount, ifree, freeb, bs, bcount = map(int, (size, alloc, icount, ifree, freeb, bs, bcount))
R = collections.defaultdict(list)
STOPPED = set()
for line in open(res):
    f = line.rstrip("\n").split("\t")
    k, t, e, m, p = f[:5]
    rc = int(f[5]) if len(f) > 5 and f[5] else 0
    if rc == 124:
        STOPPED.add((k, t))
    R[(k, t)].append((float(e), int(m), float(p) if p.strip() not in ("", "?") else float("nan")))
def med(k, t):
    v = R.get((k, t))
    if not v:
        return None
    return (statistics.median(x[0] for x in v), max(x[1] for x in v), statistics.median(x[2] for x in v), len(v))
def lines(k, t):
    p = f"{W}/{k}.{t}.lines"
    return open(p).read().strip() if os.path.exists(p) else ""
used = icount - ifree
unalloc = freeb * bs
mi = used / 1e6
gu = unalloc / 1e9
def fmt(m, key=None):
    if m is None:
        return "– | – | –"
    gt = "> " if key in STOPPED else ""
    return f"{gt}{m[0]:.2f} s | {m[1] / 1024:.0f} MiB | {m[2]:.0f}%"
print(f"Image `{os.path.basename(img)}`: {size / 2**30:.1f} GiB ({alloc / 1e9:.1f} GB allocated in the file), "
      f"{used:,} inodes in use of {icount:,}, {unalloc / 1e9:.2f} GB unallocated ({freeb:,} free blocks of {bs} B). "
      f"Medians of {runs} runs ({cruns} for carving and `scan`), max peak RSS, median CPU%; page cache warm; "
      f"ratio = whiteout time / anchor time (< 1: whiteout is faster). {wov}; TSK {tsk}; Dissect {dissect or '?'}; "
      f"PhotoRec {photorec or '?'}; foremost {foremost.split()[-1] if foremost else '?'}.")
print()
print("| task | whiteout | time | peak RSS | CPU | anchor | time | peak RSS | CPU | ratio | output lines/files (whiteout / anchor) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
rows = [
    ("full recursive listing", "ls", "`ls -r -p`", [("fls", "`fls -r -p`")]),
    ("deleted listing", "lsd", "`ls -r -p -d`", [("fls", "`fls -r -p -d`")]),
    ("inode walk", "ils", "`deleted`", [("ils", "`ils -A`")]),
    ("container metadata", "ct", "`containers --all`", [("dissect", "`target-query -f docker.containers`")]),
    ("carving", "carve", f"`carve --types {types}`", [("photorec", "PhotoRec (free space, same types)"), ("foremost", f"`foremost -t {types}`")]),
]
for name, k, wcmd, anchors in rows:
    w = med(k, "whiteout")
    for t, acmd in anchors:
        a = med(k, t)
        ratio = f"{w[0] / a[0]:.2f}" if (w and a and a[0] > 0) else "–"
        wl = lines(k, "whiteout") if k != "carve" else lines("carve", "whiteout")
        al = lines(k, t) if k != "carve" else lines("carve", t)
        if (k, t) in STOPPED and ratio != "–":
            ratio = "< " + ratio
        print(f"| {name} | {wcmd} | {fmt(w)} | {acmd} | {fmt(a, (k, t))} | **{ratio}** | {wl} / {al} |")
# whole job: anchors summed
parts = [("ls", "fls"), ("ils", "ils"), ("ct", "dissect"), ("carve", "photorec")]
have = [med(k, t) for k, t in parts]
summ = sum(m[0] for m in have if m)
names = " + ".join(t for (k, t), m in zip(parts, have) if m)
for k, wcmd, with_carve in (("scan", "`scan --no-hash`", True), ("scannc", "`scan --no-hash --no-carve`", False)):
    w = med(k, "whiteout")
    s = summ if with_carve else sum(m[0] for (kk, t), m in zip(parts, have) if m and kk != "carve")
    nm = names if with_carve else " + ".join(t for (kk, t), m in zip(parts, have) if m and kk != "carve")
    ratio = f"{w[0] / s:.2f}" if (w and s) else "–"
    print(f"| whole job | {wcmd} | {fmt(w)} | {nm} (sum of medians) | {s:.2f} s | | | **{ratio}** | |")
lsd = med("lsd", "fls")
nc = med("scannc", "whiteout")
print()
if lsd and nc:
    print(f"- `scan --no-carve` vs `fls -r -p -d` alone: {nc[0]:.2f} s vs {lsd[0]:.2f} s (ratio {nc[0] / lsd[0]:.2f}).")
cat = med("cat", "cat")
if cat:
    print(f"- Reference: `cat IMAGE > /dev/null` from page cache: {cat[0]:.2f} s = {size / cat[0] / 1e9:.2f} GB/s over {size / 1e9:.2f} GB.")
print(f"- Cost per million inodes in use ({mi:.3f} M):")
for k, t, label in (("ls", "whiteout", "whiteout ls -r -p"), ("ls", "fls", "fls -r -p"), ("lsd", "whiteout", "whiteout ls -r -p -d"),
                    ("lsd", "fls", "fls -r -p -d"), ("ils", "whiteout", "whiteout deleted"), ("ils", "ils", "ils -A"),
                    ("scannc", "whiteout", "whiteout scan --no-carve")):
    m = med(k, t)
    if m and mi > 0:
        print(f"  - {label}: {m[0] / mi:.2f} s per M inodes")
print(f"- Cost per GB of unallocated space ({gu:.2f} GB):")
for t in ("whiteout", "photorec", "foremost"):
    m = med("carve", t)
    if m and gu > 0:
        extra = ""
        if t == "foremost":
            extra = f" (foremost reads the whole image, {size / 1e9:.2f} GB: {size / 1e9 / m[0]:.2f} GB/s)"
        print(f"  - {t}: {m[0] / gu:.2f} s per GB = {gu / m[0]:.2f} GB/s of unallocated space{extra}")
m = med("carve", "whiteout")
if m and cat:
    print(f"- whiteout carve throughput / cat throughput: {(gu / m[0]) / (size / 1e9 / cat[0]):.2f}")
PY

#!/usr/bin/env bash
# Precision and recall of deleted-file names against ground truth:
#   whiteout deleted --json  |  TSK fls -r -d -p  |  ext4magic -r, ext4magic -m
# on testdata/docker-reuse (snapshot truth, truth.json.gz) and the kernel fixtures of
# testdata/deleted (manifest truth: path, inode, generation of every deleted entry).
# Each tool's output becomes claims (path, inode, generation, container, type,
# sha256); the evaluator of tests/common/truth.rs judges them (ignored test
# `evaluate_claims_from_tsv` in tests/truth_eval.rs). Prints one markdown table.
# Usage: scripts/compare-precision.sh [FIXTURE...]
#        (default: docker-reuse and every testdata/deleted/*.img.gz; FIXTURE is
#        `docker-reuse` or `deleted/<name>`)
# Env:   WHITEOUT_PREV=path/to/whiteout and WHITEOUT_PREV_LABEL=text add a row for
#        another whiteout build; TOOL_TIMEOUT (seconds per tool run, default 300);
#        KEEP_WORK=1 keeps the temp dir.
# Root is only needed if the tools cannot read the temp dir; nothing is written in
# the repository except cargo's target/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmo=${TOOL_TIMEOUT:-300}

for c in fls ext4magic python3; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install sleuthkit ext4magic)" >&2; exit 1; }
done

cargo build --release -q
wo=$root/target/release/whiteout

work=$(mktemp -d /tmp/compare-precision.XXXXXX)
if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $work" >&2
else trap 'rm -rf "$work"' EXIT; fi

if (($#)); then fixtures=("$@")
else
  fixtures=(docker-reuse)
  for f in testdata/deleted/*.img.gz; do fixtures+=("deleted/$(basename "$f" .img.gz)"); done
fi

# run LOG CMD...: with a timeout; never fails the script; the exit code is appended to LOG.rc
run() {
  local log=$1; shift
  local rc=0
  timeout --kill-after=10 "$tmo" "$@" >"$log" 2>"$log.err" </dev/null || rc=$?
  echo "$rc" >"$log.rc"
}

# to_claims TOOL INPUT OUT.tsv: one claim per line
# (path, inode, generation, container, type, sha256; empty = unknown)
to_claims() {
  python3 - "$@" <<'PY'
import hashlib, json, os, re, stat, sys
tool, src, out = sys.argv[1:4]
rows = []
if tool == "whiteout":
    for line in open(src, errors="replace"):
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("inode") is None:      # whiteout / opaque marks: not a deleted incarnation
            continue
        cont = r.get("container")
        a = r.get("attribution") or {}
        if not cont and a and not a.get("hint") and a.get("owner_kind") == "container":
            cont = a.get("owner")
        gen = r.get("generation")
        rows.append((r.get("host_path") or r.get("path"), str(r["inode"]),
                     "" if gen is None else str(gen), cont or "", "", ""))
elif tool == "fls":
    rx = re.compile(r"^\S+\s+(?:\*\s+)?(\d+)(?:\([^)]*\))?:\t(.*)$")
    for line in open(src, errors="replace"):
        m = rx.match(line.rstrip("\n"))
        if not m:
            continue
        p = m.group(2)
        rows.append((p if p.startswith("$Orphan") else "/" + p, m.group(1), "", "", "", ""))
else:                                   # ext4magic output directory
    kinds = {stat.S_IFREG: "f", stat.S_IFLNK: "l", stat.S_IFCHR: "c", stat.S_IFBLK: "b",
             stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}
    for dp, dns, fns in os.walk(src):
        for fn in fns + [d for d in dns if os.path.islink(os.path.join(dp, d))]:
            p = os.path.join(dp, fn)
            rel = os.path.relpath(p, src)
            st = os.lstat(p)
            k = kinds.get(stat.S_IFMT(st.st_mode), "?")
            sha = ""
            if k == "f":
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for b in iter(lambda: f.read(1 << 20), b""):
                        h.update(b)
                sha = h.hexdigest()
            if rel.split(os.sep)[0].startswith("MAGIC-"):
                path = "$Orphan/ext4magic/" + rel   # carved by type: no directory claimed
            else:
                path = "/" + rel
            rows.append((path, "", "", "", k, sha))
with open(out, "w") as f:
    for r in rows:
        f.write("\t".join(x.replace("\t", " ").replace("\n", " ") for x in r) + "\n")
PY
}

# evaluate CLAIMS.tsv TRUTH -> "claims named exact false false_owners unverified recalled deleted"
evaluate() {
  CLAIMS=$1 TRUTH=$2 cargo test --release -q --test truth_eval -- --ignored --nocapture \
    evaluate_claims_from_tsv 2>/dev/null | awk -F'\t' '$1 == "RESULT" { $1 = ""; print substr($0, 2) }'
}

tools=(whiteout)
[[ -n ${WHITEOUT_PREV:-} ]] && tools+=(whiteout-prev)
tools+=(fls e4m-r e4m-m)
declare -A label=([whiteout]="whiteout $(git rev-parse --short HEAD)"
  [whiteout-prev]="${WHITEOUT_PREV_LABEL:-whiteout (previous)}"
  [fls]="TSK fls -r -d -p" [e4m-r]="ext4magic -r" [e4m-m]="ext4magic -m")

echo "| fixture | tool | rows / claims | claims naming a directory | exact | false paths | unverified | precision | recall |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
notes=()
for fx in "${fixtures[@]}"; do
  n=${fx##*/}
  d=$work/$n; mkdir -p "$d" "$work/img"
  img=$work/img/$n.img
  if [[ $fx == docker-reuse ]]; then gunzip -c testdata/docker-reuse/docker-reuse.img.gz >"$img"
  else gunzip -c "testdata/$fx.img.gz" >"$img"; fi
  echo "== $fx" >&2

  run "$d/whiteout.jsonl" "$wo" deleted "$img" --json
  [[ -n ${WHITEOUT_PREV:-} ]] && run "$d/whiteout-prev.jsonl" "$WHITEOUT_PREV" deleted "$img" --json
  run "$d/fls.txt" fls -r -d -p "$img"
  mkdir -p "$d/e4m-r" "$d/e4m-m"
  run "$d/e4m-r.log" ext4magic "$img" -r -d "$d/e4m-r"
  run "$d/e4m-m.log" ext4magic "$img" -m -d "$d/e4m-m"

  for t in "${tools[@]}"; do
    case $t in
      whiteout|whiteout-prev) src=$d/$t.jsonl; log=$src; kind=whiteout
        rows=$(grep -c . "$src" || true) ;;
      fls) src=$d/fls.txt; log=$src; kind=fls; rows=$(grep -c . "$src" || true) ;;
      *) src=$d/$t; log=$d/$t.log; kind=ext4magic; rows= ;;
    esac
    rc=$(cat "$log.rc")
    [[ $rc == 0 ]] || notes+=("$fx: ${label[$t]}: exit code $rc; its output was scored")
    to_claims "$kind" "$src" "$d/$t.tsv"
    res=$(evaluate "$d/$t.tsv" "$fx" || true)
    [[ -n $res ]] || { echo "evaluation failed: $fx ${label[$t]} (CLAIMS=$d/$t.tsv)" >&2; exit 1; }
    read -r claims named exact false fo unv rec del <<<"$res"
    prec=$(awk -v n="$named" -v f="$false" 'BEGIN { if (n > 0) printf "%.1f %%", 100 * (n - f) / n; else print "n/a" }')
    rcl=$(awk -v r="$rec" -v d="$del" 'BEGIN { printf "%d / %d (%.1f %%)", r, d, d ? 100 * r / d : 0 }')
    rc_=$([[ -n $rows ]] && echo "$rows / $claims" || echo "$claims")
    echo "| $fx | ${label[$t]} | $rc_ | $named | $exact | $false | $unv | $prec | $rcl |"
    [[ $fo == 0 ]] || notes+=("$fx: ${label[$t]}: $fo false owners")
  done
done
if ((${#notes[@]})); then
  echo
  printf -- '- %s\n' "${notes[@]}"
fi

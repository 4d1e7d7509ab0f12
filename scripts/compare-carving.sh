#!/usr/bin/env bash
# compare-carving.sh: whiteout carve vs PhotoRec vs foremost on the carving fixtures.
#
#   bash scripts/compare-carving.sh                      # both committed fixtures
#   bash scripts/compare-carving.sh IMAGE[.gz] TRUTH.json  # one image
#
# Default: testdata/carve/carve.img.gz (scripts/make-carve-fixtures.sh) and
# testdata/carve-docker/carve-docker.img.gz (scripts/make-carve-docker-fixture.sh, a
# real dockerd), each with its ground truth written from debugfs before deletion. For
# every file of the truth: exact (an output file with the same sha256), partial (an
# output file that starts with the file's first 512 bytes but differs), missed. Also:
# files written that match nothing in the truth, and wall-clock times. Writes
# docs/comparison-carving.md (PhotoRec 7.1, foremost 1.5.7 when written).
# Needs: cargo, python3, bc; apt-get install -y testdisk foremost.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W0=${WORK:-/tmp/cmp-carve}
rm -rf "$W0"; mkdir -p "$W0"
(cd "$REPO" && cargo build --release -q)
WO=$REPO/target/release/whiteout
now() { date +%s.%N; }
if [ $# -ge 1 ]; then
  set -- "$1" "${2:-${1%.img*}.json}"
else
  set -- "$REPO/testdata/carve/carve.img.gz" "$REPO/testdata/carve/carve.json" \
         "$REPO/testdata/carve-docker/carve-docker.img.gz" "$REPO/testdata/carve-docker/carve-docker.json"
fi
: > "$W0/sections.md"
while [ $# -ge 2 ]; do
IMG_IN=$1; TRUTH=$2; shift 2
W=$W0/$(basename "${IMG_IN%%.img*}")
mkdir -p "$W"
case $IMG_IN in *.gz) gunzip -c "$IMG_IN" > "$W/image.img" ;; *) cp "$IMG_IN" "$W/image.img" ;; esac
IMG=$W/image.img
cat "$IMG" > /dev/null   # page cache for everyone

t0=$(now); "$WO" carve "$IMG" -o "$W/whiteout" 2>"$W/whiteout.log" || true; t1=$(now)
echo "whiteout $(echo "$t1 - $t0" | bc)" > "$W/times"
if command -v photorec >/dev/null; then
  t0=$(now); (cd "$W" && photorec /log /d "$W/photorec" /cmd "$IMG" fileopt,everything,enable,search >"$W/photorec.out" 2>&1) || true; t1=$(now)
  echo "photorec $(echo "$t1 - $t0" | bc)" >> "$W/times"
fi
if command -v foremost >/dev/null; then
  t0=$(now); foremost -Q -t all -i "$IMG" -o "$W/foremost" >"$W/foremost.log" 2>&1 || true; t1=$(now)
  echo "foremost $(echo "$t1 - $t0" | bc)" >> "$W/times"
fi

python3 - "$W" "$TRUTH" "$W/section.md" "$IMG_IN" "$REPO" <<'PYEOF'
import hashlib, json, os, sys
W, truth_p, out_md, img, repo = sys.argv[1:6]
truth = [f for f in json.load(open(truth_p))['files'] if not f.get('dedup')]
for f in truth:
    f['key'] = (f['container'] + '/' if f.get('container') else '') + f['name']
times = dict(l.split() for l in open(f'{W}/times'))
src = f'{W}/image.img'
def first_bytes(f):
    with open(src, 'rb') as fh:
        fh.seek(f['offset']); return fh.read(min(512, f['size']))
heads = {f['key']: first_bytes(f) for f in truth}
tools = {'whiteout': f'{W}/whiteout'}
for t in ('photorec', 'foremost'):
    if t in times:
        tools[t] = [os.path.join(W, d) for d in os.listdir(W) if d.startswith(t) and os.path.isdir(os.path.join(W, d))]
res = {}
for tool, dirs in tools.items():
    if isinstance(dirs, str): dirs = [dirs]
    outs = []
    for d in dirs:
        for root, _, files in os.walk(d):
            for n in files:
                if n in ('manifest.jsonl', 'docker-traces.jsonl', 'report.xml', 'audit.txt', 'photorec.log'): continue
                b = open(os.path.join(root, n), 'rb').read()
                outs.append((hashlib.sha256(b).hexdigest(), b[:512]))
    shas = {s for s, _ in outs}
    used = set()
    r = {}
    for f in truth:
        if f['sha256'] in shas:
            r[f['key']] = 'exact'; used.add(f['sha256'])
        elif any(h == heads[f['key']] for _, h in outs):
            r[f['key']] = 'partial'
            used.update(s for s, h in outs if h == heads[f['key']])
        else:
            r[f['key']] = 'missed'
    r['_other'] = sum(1 for s, _ in outs if s not in used)
    res[tool] = r
types = []
for f in truth:
    if f['type'] not in types: types.append(f['type'])
names = list(res)
nfrag = sum(1 for f in truth if f['fragments'] > 1)
L = [f'## `{os.path.relpath(img, repo)}`', '',
     f'{len(truth)} deleted files of {len(types)} types, {nfrag} of them in two fragments; truth from debugfs before deletion.', '',
     '| type | files | ' + ' | '.join(f'{t} exact / partial / missed' for t in names) + ' |',
     '|---|---|' + '---|' * len(names)]
for ty in types:
    fs = [f for f in truth if f['type'] == ty]
    cells = []
    for t in names:
        c = [sum(1 for f in fs if res[t][f['key']] == k) for k in ('exact', 'partial', 'missed')]
        cells.append(' / '.join(map(str, c)))
    L.append(f'| {ty} | {len(fs)} | ' + ' | '.join(cells) + ' |')
tot = []
for t in names:
    c = [sum(1 for f in truth if res[t][f['key']] == k) for k in ('exact', 'partial', 'missed')]
    tot.append(' / '.join(f'**{x}**' for x in c))
L.append(f'| **all** | {len(truth)} | ' + ' | '.join(tot) + ' |')
L += ['', '| tool | other files written | wall time (s) |', '|---|---|---|']
for t in names:
    L.append(f'| {t} | {res[t]["_other"]} | {float(times[t]):.2f} |')
L += ['', 'Per file:', '', '| file | type | size | fragments | ' + ' | '.join(names) + ' |', '|---|---|---|---|' + '---|' * len(names)]
for f in truth:
    L.append(f'| {f["key"][:40]} | {f["type"]} | {f["size"]} | {f["fragments"]} | ' + ' | '.join(res[t][f["key"]] for t in names) + ' |')
open(out_md, 'w').write('\n'.join(L) + '\n\n')
print('\n'.join(L))
PYEOF
cat "$W/section.md" >> "$W0/sections.md"
done
{
  echo '# Carving: whiteout vs PhotoRec vs foremost'
  echo
  echo "Generated by \`scripts/compare-carving.sh\`. exact = same sha256; partial = an output starts with the file's first 512 bytes but differs; missed = neither. Times are wall-clock from page cache."
  echo
  cat "$W0/sections.md"
} > "$REPO/docs/comparison-carving.md"

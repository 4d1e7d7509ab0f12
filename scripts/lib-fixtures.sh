# shellcheck shell=bash
# Shared helpers for the fixture generators (scripts/make-*-fixtures.sh).
#
# Source this file from a generator that runs as root with `set -euo pipefail`:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib-fixtures.sh"
#     fx_init /tmp/fx-NAME "$REPO/testdata/NAME"
#
# Everything is created below $FX_WORK (one private directory per generator, so
# generators that run at the same time do not collide). On exit every mount below
# $FX_WORK is unmounted and every loop device backed by a file below $FX_WORK is
# detached. Nothing outside $FX_WORK and $FX_OUT is touched.
#
# Ground-truth manifests are JSON written by python3 (see fx_py below):
#   fx_walk MNT OUT.json            walk a MOUNTED filesystem -> list of entries
#   fx_probe ...                    add debugfs / TSK facts from the UNMOUNTED image
#   fx_manifest ...                 write $FX_OUT/<name>.json and <name>.img.gz

: "${SOURCE_DATE_EPOCH:=1700000000}"
export SOURCE_DATE_EPOCH
# mke2fs honours this for s_mkfs_time / s_wtime etc. (the kernel overwrites
# mount/write times later, which is fine).
export E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH"
export LC_ALL=C
export TZ=UTC

FX_WORK=""
FX_OUT=""

fx_log() { printf '[fx] %s\n' "$*" >&2; }
fx_die() { printf '[fx] ERROR: %s\n' "$*" >&2; exit 1; }

fx_require() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || fx_die "missing tool: $t"
    done
}

# Unmount everything mounted below $FX_WORK (deepest first) and detach loop
# devices whose backing file lives below $FX_WORK. Safe to call repeatedly.
fx_cleanup() {
    [ -n "$FX_WORK" ] || return 0
    local mp dev back
    sync || true
    # /proc/mounts escapes spaces as \040; our mount points contain none.
    while read -r mp; do
        [ -n "$mp" ] || continue
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    done < <(awk -v w="$FX_WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    while read -r dev back; do
        [ -n "$dev" ] || continue
        case "$back" in
            "$FX_WORK"/*) losetup -d "$dev" 2>/dev/null || true ;;
        esac
    done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null || true)
}

# fx_init WORKDIR OUTDIR: (re)create WORKDIR, create OUTDIR, install the cleanup trap.
fx_init() {
    [ "$(id -u)" = 0 ] || fx_die "must run as root (loop mounts, mknod, trusted.* xattrs)"
    FX_WORK=$1
    FX_OUT=$2
    case "$FX_WORK" in /tmp/fx-*) ;; *) fx_die "work dir must be /tmp/fx-*: $FX_WORK" ;; esac
    fx_cleanup
    rm -rf "$FX_WORK"
    mkdir -p "$FX_WORK" "$FX_OUT"
    trap fx_cleanup EXIT
    trap 'fx_cleanup; exit 130' INT TERM
}

# fx_mkfs IMG SIZE MKFS-ARGS... : create a fresh sparse file of SIZE and run
# `mkfs.ext4 -q -F MKFS-ARGS IMG` on it. Sets FX_MKFS_CMD to the command line
# (with the image named by its basename) for the manifest.
FX_MKFS_CMD=""
fx_mkfs() {
    local img=$1 size=$2
    shift 2
    rm -f "$img"
    truncate -s "$size" "$img"
    mkfs.ext4 -q -F "$@" "$img"
    FX_MKFS_CMD="mkfs.ext4 -q -F $* $(basename "$img")"
}

fx_mount() { # fx_mount IMG MNT [extra -o options]
    mkdir -p "$2"
    mount -t ext4 -o "loop${3:+,$3}" "$1" "$2"
}

fx_umount() { # fx_umount MNT
    sync
    umount "$1"
}

# Compressed copy of an image in $FX_OUT (gzip -9n: no name, no timestamp).
fx_gzip() { # fx_gzip IMG NAME
    gzip -9n -c "$1" > "$FX_OUT/$2.img.gz"
}

# fx_extents IMG OFFSET OUTFILE PATH... : `debugfs dump_extents` of each PATH.
fx_extents() {
    local img=$1 off=$2 out=$3 p
    shift 3
    : > "$out"
    for p in "$@"; do
        {
            printf '### %s\n' "$p"
            debugfs -R "dump_extents \"$p\"" "$img?offset=$off" 2>/dev/null
            printf '\n'
        } >> "$out"
    done
}

fx_py() { python3 -c "$FX_PY" "$@"; }

# fx_walk MNT OUT.json: every entry below MNT except the contents of
# /lost+found, with lstat facts, sha256 of content / symlink target, xattrs.
fx_walk() { fx_py walk "$@"; }

# fx_probe IMG OFFSET PARTITION WALK.json OUT.json PREFIX MKFS-CMD
#   Runs fsstat and `fls -r -p` (TSK) into $FX_OUT/PREFIX.{fsstat,fls}.txt,
#   reads label/uuid/block size with dumpe2fs, adds the raw i_flags of every
#   entry and extent_depth of every extent-mapped one (debugfs inode_dump), and
#   for regular files tsk_sha256 (sha256 of `icat` output; null if icat fails).
#   PARTITION is a 1-based partition number or "null".
fx_probe() { FX_OUT="$FX_OUT" fx_py probe "$@"; }

# fx_manifest NAME IMG NOTES EXTRA.json|"" FS.json... : writes $FX_OUT/NAME.json.
#   EXTRA.json (optional) is an object merged into the top level.
fx_manifest() { FX_OUT="$FX_OUT" fx_py manifest "$@"; }

# fx_summary NAME...: table of fixture, compressed size, number of files.
fx_summary() { FX_OUT="$FX_OUT" fx_py summary "$@"; }

# fx_gen PATH SIZE SEED [random|text] : deterministic file content.
#   random: bytes from a PRNG seeded with SEED; text: numbered lines naming SEED
#   and the byte offset (compresses well but every block differs).
fx_gen() { fx_py gen "$@"; }

# fx_pwrite PATH OFFSET LEN SEED : write LEN bytes of `text` content at OFFSET
#   without truncating (for sparse files).
fx_pwrite() { fx_py pwrite "$@"; }

# fx_frag PATH BLOCKSIZE COUNT SEED : write COUNT blocks, one every other block
#   (block i at byte 2*i*BLOCKSIZE), so each data block is its own extent.
fx_frag() { fx_py frag "$@"; }

# fx_mksock PATH : create a unix socket inode (bind, then close).
fx_mksock() { fx_py mksock "$@"; }

IFS= read -r -d '' FX_PY <<'PYEOF' || true
import base64, hashlib, json, os, random, stat, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

def lossy(b):
    # serde_json rejects lone surrogates, so never emit surrogateescape text:
    # invalid UTF-8 becomes U+FFFD (like Rust's String::from_utf8_lossy) and the
    # exact bytes go in a *_hex field.
    return b.decode('utf-8', 'replace')

def is_utf8(b):
    try:
        b.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False

def sha256_file(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            c = f.read(1 << 20)
            if not c:
                break
            h.update(c)
    return h.hexdigest()

TYPES = [(stat.S_ISREG, 'r'), (stat.S_ISDIR, 'd'), (stat.S_ISLNK, 'l'), (stat.S_ISCHR, 'c'),
         (stat.S_ISBLK, 'b'), (stat.S_ISFIFO, 'p'), (stat.S_ISSOCK, 's')]

def describe(full, rel):
    st = os.lstat(full)
    t = next(c for f, c in TYPES if f(st.st_mode))
    e = {'path': lossy(rel)}
    if not is_utf8(rel):
        e['path_hex'] = rel.hex()
    e.update(inode=st.st_ino, type=t, mode=st.st_mode, uid=st.st_uid, gid=st.st_gid,
             links=st.st_nlink, size=st.st_size, mtime_ns=st.st_mtime_ns)
    if t == 'r':
        e['sha256'] = sha256_file(full)
    elif t == 'l':
        tgt = os.readlink(full)
        e['sha256'] = hashlib.sha256(tgt).hexdigest()
        e['target'] = lossy(tgt)
        if not is_utf8(tgt):
            e['target_hex'] = tgt.hex()
    if t in 'cb':
        e['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
    xa = {}
    for n in sorted(os.listxattr(full, follow_symlinks=False)):
        xa[n] = base64.b64encode(os.getxattr(full, n, follow_symlinks=False)).decode()
    if xa:
        e['xattrs'] = xa
    return e

def cmd_walk(mnt, out):
    root = os.fsencode(mnt).rstrip(b'/')
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = dirpath[len(root):] or b'/'
        dirnames.sort()
        if rel_dir == b'/lost+found':
            dirnames[:] = []
            continue
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            entries.append(describe(full, full[len(root):]))
    entries.sort(key=lambda e: bytes.fromhex(e['path_hex']) if 'path_hex' in e else e['path'].encode())
    with open(out, 'w') as f:
        json.dump(entries, f)

def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, **kw).stdout

def parse_inode_dumps(text):
    """debugfs `inode_dump <N>` output (octal offsets, '*' = repeat) -> {ino: bytes}."""
    res = {}
    cur = None
    buf = None
    prev = None
    pending_star = False
    def finish():
        if cur is not None:
            res[cur] = bytes(buf)
    for line in text.splitlines():
        if line.startswith('debugfs: inode_dump <'):
            finish()
            cur = int(line.split('<')[1].split('>')[0])
            buf = bytearray()
            prev = None
            pending_star = False
            continue
        if cur is None:
            continue
        if line.strip() == '*':
            pending_star = True
            continue
        parts = line.split('  ')
        if len(parts) < 2 or not parts[0].strip():
            continue
        try:
            off = int(parts[0].strip(), 8)
        except ValueError:
            continue
        if pending_star and prev is not None:
            while len(buf) < off:
                buf += prev
            del buf[off:]
            pending_star = False
        data = bytes.fromhex(parts[1].replace(' ', ''))
        buf[off:off + len(data)] = data
        prev = data
    finish()
    return res

def cmd_probe(img, offset, partition, walk_json, out_json, prefix, mkfs_cmd):
    offset = int(offset)
    assert offset % 512 == 0
    sect = offset // 512
    fx_out = os.environ['FX_OUT']
    dev = f'{img}?offset={offset}'
    files = json.load(open(walk_json))
    # superblock facts
    hdr = run(['dumpe2fs', '-h', dev], stderr=subprocess.DEVNULL).decode('utf-8', 'replace')
    sb = {}
    for line in hdr.splitlines():
        if ':' in line:
            k, v = line.split(':', 1)
            sb[k.strip()] = v.strip()
    label = sb.get('Filesystem volume name', '')
    if label == '<none>':
        label = ''
    bs = int(sb['Block size'])
    inode_size = int(sb.get('Inode size', '128'))
    # TSK listings
    tsk_o = ['-o', str(sect)] if sect else []
    fsstat_name = f'{prefix}.fsstat.txt'
    fls_name = f'{prefix}.fls.txt'
    with open(os.path.join(fx_out, fsstat_name), 'wb') as f:
        f.write(run(['fsstat'] + tsk_o + [img]))
    with open(os.path.join(fx_out, fls_name), 'wb') as f:
        f.write(run(['fls', '-r', '-p'] + tsk_o + [img]))
    # debugfs: raw inodes of all entries (flags, extent header)
    regs = [e for e in files if e['type'] == 'r']
    inos = sorted({e['inode'] for e in files})
    raw = {}
    if inos:
        cmdf = out_json + '.debugfs.cmds'
        with open(cmdf, 'w') as f:
            for i in inos:
                f.write(f'inode_dump <{i}>\n')
        txt = run(['debugfs', '-f', cmdf, dev], stderr=subprocess.DEVNULL).decode('latin-1')
        raw = parse_inode_dumps(txt)
        os.unlink(cmdf)
    def icat_sha(ino):
        h = hashlib.sha256()
        p = subprocess.Popen(['icat'] + tsk_o + [img, str(ino)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        while True:
            c = p.stdout.read(1 << 20)
            if not c:
                break
            h.update(c)
        rc = p.wait()
        return h.hexdigest() if rc == 0 else None
    reg_inos = sorted({e['inode'] for e in regs})
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        tsk = dict(zip(reg_inos, ex.map(icat_sha, reg_inos)))
    mismatches = 0
    for e in files:
        r = raw.get(e['inode'])
        if r is None or len(r) < 0x64:
            raise SystemExit(f'debugfs gave no inode dump for {e["inode"]}')
        flags = int.from_bytes(r[0x20:0x24], 'little')
        e['flags'] = flags
        if flags & 0x80000:  # EXT4_EXTENTS_FL
            ib = r[0x28:0x28 + 60]
            magic = int.from_bytes(ib[0:2], 'little')
            if magic != 0xF30A:
                raise SystemExit(f'inode {e["inode"]}: bad extent magic {magic:#x}')
            e['extent_depth'] = int.from_bytes(ib[6:8], 'little')
        if e['type'] != 'r':
            continue
        e['tsk_sha256'] = tsk[e['inode']]
        if e['tsk_sha256'] != e['sha256']:
            mismatches += 1
    fs = {'offset': offset, 'partition': None if partition == 'null' else int(partition),
          'label': label, 'uuid': sb['Filesystem UUID'], 'block_size': bs,
          'inode_size': inode_size, 'features': sb.get('Filesystem features', '').split(),
          'mkfs': mkfs_cmd, 'fsstat': fsstat_name, 'fls': fls_name,
          'tsk_sha256_mismatches': mismatches, 'files': files}
    with open(out_json, 'w') as f:
        json.dump(fs, f)

def cmd_manifest(name, img, notes, extra, *fs_jsons):
    fx_out = os.environ['FX_OUT']
    h = hashlib.sha256()
    with open(img, 'rb') as f:
        while True:
            c = f.read(1 << 20)
            if not c:
                break
            h.update(c)
    fss = [json.load(open(p)) for p in fs_jsons]
    mkfs = ' && '.join(fs['mkfs'] for fs in fss)
    m = {'name': name, 'synthetic': False, 'kernel': os.uname().release, 'mkfs': mkfs,
         'image': f'{name}.img.gz', 'image_size': os.path.getsize(img),
         'image_sha256': h.hexdigest(), 'filesystems': fss, 'notes': notes}
    if extra:
        m.update(json.load(open(extra)))
    # indented, except one compact line per file entry (htree has 6000+)
    files = []
    for i, fs in enumerate(m['filesystems']):
        files.append(fs['files'])
        fs['files'] = f'@@FILES{i}@@'
    text = json.dumps(m, indent=1, ensure_ascii=True)
    for i, fl in enumerate(files):
        body = ',\n'.join('   ' + json.dumps(e, ensure_ascii=True, separators=(', ', ': ')) for e in fl)
        text = text.replace(f'"@@FILES{i}@@"', '[\n' + body + '\n  ]' if fl else '[]')
    json.loads(text)
    with open(os.path.join(fx_out, f'{name}.json'), 'w') as f:
        f.write(text + '\n')

def cmd_summary(*names):
    fx_out = os.environ['FX_OUT']
    tot = 0
    print(f'{"fixture":10} {"img.gz bytes":>12} {"image bytes":>11} {"files":>6}  tsk-mismatch')
    for n in names:
        m = json.load(open(os.path.join(fx_out, f'{n}.json')))
        gz = os.path.getsize(os.path.join(fx_out, f'{n}.img.gz'))
        tot += gz
        nf = sum(len(fs['files']) for fs in m['filesystems'])
        mm = sum(fs['tsk_sha256_mismatches'] for fs in m['filesystems'])
        print(f'{n:10} {gz:12} {m["image_size"]:11} {nf:6}  {mm}')
    print(f'{"total":10} {tot:12}')

def cmd_gen(path, size, seed, kind='text'):
    size = int(size)
    if kind == 'random':
        data = random.Random(seed).randbytes(size)
    else:
        data = text_bytes(seed, 0, size)
    with open(path, 'wb') as f:
        f.write(data)

def text_bytes(seed, start, size):
    out = bytearray()
    n = start // 64
    while len(out) < size:
        line = f'{seed} line {n:08d}'.encode()
        out += line + b'.' * (63 - len(line)) + b'\n'
        n += 1
    return bytes(out[:size])

def cmd_pwrite(path, offset, size, seed):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, text_bytes(seed, int(offset), int(size)), int(offset))
    os.close(fd)

def cmd_frag(path, bs, count, seed):
    bs, count = int(bs), int(count)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for i in range(count):
        # one 64-byte line naming the block, repeated: distinct per block but
        # compresses to almost nothing
        line = f'{seed} block {i:06d} of {count}'.encode()
        line = line + b'.' * (63 - len(line)) + b'\n'
        os.pwrite(fd, (line * (bs // 64 + 1))[:bs], 2 * i * bs)
    os.fsync(fd)
    os.close(fd)

def cmd_mksock(path):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()

cmds = {'pwrite': cmd_pwrite, 'frag': cmd_frag, 'mksock': cmd_mksock,
        'walk': cmd_walk, 'probe': cmd_probe, 'manifest': cmd_manifest,
        'summary': cmd_summary, 'gen': cmd_gen}
cmds[sys.argv[1]](*sys.argv[2:])
PYEOF

#!/usr/bin/env python3
"""Ground truth for make-reuse-fixture.sh: whole-filesystem snapshots of a mounted
ext4 image, taken while a real dockerd writes to it, merged into truth.json.gz.

    reuse-truth.py snap MNT SNAPDIR STEP          one snapshot now
    reuse-truth.py poll MNT SNAPDIR STOPFILE PHASEFILE
                                                  snapshots every ~0.1 s (label
                                                  "poll:<phase>") and `docker ps -a`
                                                  + `docker inspect` every ~0.5 s, until
                                                  STOPFILE exists
    reuse-truth.py assemble SNAPDIR META.json OUT.json.gz REPORT.json
                                                  merge snapshots, owners, deletions;
                                                  check that inode reuse happened

A snapshot walks MNT with lstat (statx), stays on MNT's st_dev, never follows
symlinks. Per entry: path relative to MNT with a leading "/", inode, generation
(FS_IOC_GETVERSION on an O_RDONLY|O_NOFOLLOW fd; None when the entry cannot be
opened: symlinks, devices, fifos, sockets), type f/d/l/c/b/p/s, size, birth time
(statx btime, float seconds) and sha256 of regular files <= 1 MiB. Small Docker
metadata files that name directories (layerdb/mounts/<cid>/mount-id, init-id,
layerdb/sha256/<chain>/cache-id, diff) are read too, to learn owners.
"""
import ctypes, fcntl, gzip, hashlib, json, os, pickle, stat, struct, subprocess, sys, threading, time

FS_IOC_GETVERSION = 0x80087601  # _IOR('v', 1, long) on x86-64
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
STATX_BASIC = 0x7FF
STATX_BTIME = 0x800
MAX_SHA = 1 << 20
POLL = 0.1  # seconds between the starts of two poller snapshots (a walk takes ~0.03 s here)

_libc = ctypes.CDLL(None, use_errno=True)
_statx = _libc.statx
_statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p]
_statx.restype = ctypes.c_int


def statx(path):
    """(mode, ino, size, dev_major, dev_minor, birth or None, mtime_ns, ctime_ns)"""
    buf = ctypes.create_string_buffer(256)
    if _statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC | STATX_BTIME, buf) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)
    b = buf.raw
    mask = struct.unpack_from('<I', b, 0)[0]
    mode = struct.unpack_from('<H', b, 28)[0]
    ino, size = struct.unpack_from('<QQ', b, 32)
    bsec, bnsec = struct.unpack_from('<qI', b, 80)
    csec, cnsec = struct.unpack_from('<qI', b, 96)
    msec, mnsec = struct.unpack_from('<qI', b, 112)
    dmaj, dmin = struct.unpack_from('<II', b, 136)
    birth = round(bsec + bnsec / 1e9, 9) if mask & STATX_BTIME else None
    return mode, ino, size, dmaj, dmin, birth, msec * 10**9 + mnsec, csec * 10**9 + cnsec


def kind(mode):
    for f, c in ((stat.S_ISREG, 'f'), (stat.S_ISDIR, 'd'), (stat.S_ISLNK, 'l'), (stat.S_ISCHR, 'c'),
                 (stat.S_ISBLK, 'b'), (stat.S_ISFIFO, 'p'), (stat.S_ISSOCK, 's')):
        if f(mode):
            return c
    return '?'


def generation(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        buf = bytearray(8)
        fcntl.ioctl(fd, FS_IOC_GETVERSION, buf)
        return struct.unpack_from('<I', buf, 0)[0]
    except OSError:
        return None
    finally:
        os.close(fd)


_sha_cache = {}


def sha256(path, key):
    if key in _sha_cache:
        return _sha_cache[key]
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with os.fdopen(fd, 'rb') as f:
            while True:
                c = f.read(1 << 16)
                if not c:
                    break
                h.update(c)
    except OSError:
        return None
    d = h.hexdigest()
    _sha_cache[key] = d
    return d


META_NAMES = {b'mount-id', b'init-id', b'cache-id', b'diff', b'parent'}


def read_small(p):
    try:
        with open(p, 'rb') as f:
            return f.read(200).decode('utf-8', 'replace').strip()
    except OSError:
        return None


def walk(mnt):
    root = os.fsencode(mnt).rstrip(b'/')
    t0 = time.time()
    rmode, rino, rsize, dmaj, dmin, rbirth, _, _ = statx(root)
    entries = []
    meta = {}
    stack = [b'']
    first = True
    while stack:
        rel_dir = stack.pop()
        full_dir = root + rel_dir
        if first:
            entries.append(['/', rino, generation(root), 'd', rsize, rbirth, None])
            first = False
        try:
            names = os.listdir(full_dir)
        except OSError:
            continue
        for n in names:
            rel = rel_dir + b'/' + n
            full = root + rel
            try:
                mode, ino, size, mj, mn, birth, mt, ct = statx(full)
            except OSError:
                continue
            if (mj, mn) != (dmaj, dmin):
                continue
            t = kind(mode)
            gen = generation(full) if t in 'fd' else None
            sha = None
            if t == 'f' and size <= MAX_SHA:
                sha = sha256(full, (ino, gen, size, mt, ct))
                if n in META_NAMES and b'/image/overlay2/layerdb/' in rel:
                    v = read_small(full)
                    if v is not None:
                        meta[os.fsdecode(rel)] = v
            elif t == 'd':
                stack.append(rel)
            entries.append([rel.decode('utf-8', 'surrogateescape'), ino, gen, t, size, birth, sha])
    return t0, time.time(), entries, meta


def save(snapdir, step, res):
    t0, t1, entries, meta = res
    name = os.path.join(snapdir, 'snap-%d.pkl' % int(t0 * 1e9))
    with open(name + '.tmp', 'wb') as f:
        pickle.dump({'time': t0, 'end': t1, 'step': step, 'entries': entries, 'meta': meta}, f)
    os.rename(name + '.tmp', name)


def cmd_snap(mnt, snapdir, step):
    res = walk(mnt)
    save(snapdir, step, res)
    print('snapshot %s: %d entries in %.2f s' % (step, len(res[2]), res[1] - res[0]), file=sys.stderr)


def docker_poll(snapdir, stopfile, phasefile):
    docker = os.environ.get('DOCKER', 'docker')
    seen = {}
    while not os.path.exists(stopfile):
        try:
            out = subprocess.run([docker, 'ps', '-a', '--no-trunc', '--format', '{{.ID}}'],
                                 capture_output=True, text=True, timeout=10).stdout.split()
            new = [c for c in out if c not in seen]
            if new:
                r = subprocess.run([docker, 'inspect'] + new, capture_output=True, text=True, timeout=10)
                try:
                    ins = json.loads(r.stdout or '[]')
                except ValueError:
                    ins = []
                ph = read_small(phasefile) or ''
                for c in ins:
                    gd = (c.get('GraphDriver') or {}).get('Data') or {}
                    up = gd.get('UpperDir') or ''
                    seen[c['Id']] = {
                        'id': c['Id'], 'name': c.get('Name', '').lstrip('/'),
                        'image': (c.get('Config') or {}).get('Image'),
                        'cmd': (c.get('Config') or {}).get('Cmd'),
                        'created': c.get('Created'),
                        'mount_id': up.split('/')[-2] if up.endswith('/diff') else None,
                        'first_seen': time.time(), 'phase': ph}
                with open(os.path.join(snapdir, 'docker-ps.json.tmp'), 'w') as f:
                    json.dump(seen, f)
                os.rename(os.path.join(snapdir, 'docker-ps.json.tmp'), os.path.join(snapdir, 'docker-ps.json'))
        except Exception as e:  # the daemon may be busy; try again
            print('docker poll: %s' % e, file=sys.stderr)
        time.sleep(0.5)


def cmd_poll(mnt, snapdir, stopfile, phasefile):
    th = threading.Thread(target=docker_poll, args=(snapdir, stopfile, phasefile), daemon=True)
    th.start()
    n = 0
    while not os.path.exists(stopfile):
        t = time.time()
        ph = read_small(phasefile) or ''
        save(snapdir, 'poll:' + ph, walk(mnt))
        n += 1
        dt = time.time() - t
        if dt < POLL:
            time.sleep(POLL - dt)
    th.join(timeout=15)
    print('poller: %d snapshots' % n, file=sys.stderr)


# ---------------------------------------------------------------- assemble

def cmd_assemble(snapdir, meta_json, out, report_json):
    meta_in = json.load(open(meta_json))
    files = sorted(f for f in os.listdir(snapdir) if f.startswith('snap-') and f.endswith('.pkl'))
    snaps = []
    rows = []          # [path, ino, gen, type, size, birth, sha, first, last]
    open_rows = {}     # (path, ino, gen) -> row index
    lmeta = {}         # union of layerdb metadata file contents: path -> set of values
    final_id = None
    for sid, fn in enumerate(files):
        s = pickle.load(open(os.path.join(snapdir, fn), 'rb'))
        snaps.append({'id': sid, 'step': s['step'], 'time': round(s['time'], 6),
                      'end': round(s['end'], 6), 'entries': len(s['entries'])})
        if s['step'] == 'final':
            final_id = sid
        for k, v in s['meta'].items():
            lmeta.setdefault(k, set()).add(v)
        cur = {}
        for e in s['entries']:
            key = (e[0], e[1], e[2])
            obs = tuple(e[3:7])
            ri = open_rows.get(key)
            if ri is not None and rows[ri][8] == sid - 1 and tuple(rows[ri][3:7]) == obs:
                rows[ri][8] = sid
                cur[key] = ri
            else:
                rows.append(list(e) + [sid, sid])
                cur[key] = len(rows) - 1
        open_rows = cur
    assert final_id == len(snaps) - 1, 'the final snapshot must be the last one'

    D = '/var/lib/docker'
    # containers: from layerdb/mounts/<cid>/{mount-id,init-id} seen in any snapshot
    cont = {}
    for k, vs in lmeta.items():
        parts = k.split('/')
        if k.startswith(D + '/image/overlay2/layerdb/mounts/') and parts[-1] in ('mount-id', 'init-id'):
            cid = parts[-2]
            assert len(vs) == 1, (k, vs)
            cont.setdefault(cid, {})[parts[-1].replace('-', '_')] = next(iter(vs))
    ps = {}
    p = os.path.join(snapdir, 'docker-ps.json')
    if os.path.exists(p):
        ps = json.load(open(p))
    for cid, c in ps.items():
        if c.get('mount_id'):
            d = cont.setdefault(cid, {})
            assert d.get('mount_id', c['mount_id']) == c['mount_id']
            d['mount_id'] = c['mount_id']
    named = {c['id']: c for c in meta_in['containers']}
    owners = []
    containers_out = []
    for cid in sorted(cont, key=lambda c: (c not in named, c)):
        c = cont[cid]
        build = cid not in named
        name = None if build else named[cid]['name']
        info = ps.get(cid, {})
        containers_out.append({'id': cid, 'name': name, 'kind': 'build-container' if build else 'container',
                               'mount_id': c.get('mount_id'), 'init_id': c.get('init_id'),
                               'image': info.get('image') or (named.get(cid) or {}).get('image'),
                               'cmd': info.get('cmd'), 'first_seen_phase': info.get('phase')})
        base = 'build-container' if build else 'container'
        pre = [(D + '/containers/' + cid, base),
               (D + '/containerd/daemon/io.containerd.runtime.v2.task/moby/' + cid, base + '-task'),
               (D + '/image/overlay2/layerdb/mounts/' + cid, base + '-layerdb')]
        if c.get('mount_id'):
            pre.append((D + '/overlay2/' + c['mount_id'], base))
        if c.get('init_id'):
            pre.append((D + '/overlay2/' + c['init_id'], base + '-init'))
        elif c.get('mount_id'):
            pre.append((D + '/overlay2/' + c['mount_id'] + '-init', base + '-init'))
        for prefix, k in pre:
            owners.append({'prefix': prefix, 'kind': k, 'container_id': cid, 'container_name': name,
                           'image_layer': None})
    layers = {}
    for k, vs in lmeta.items():
        parts = k.split('/')
        if k.startswith(D + '/image/overlay2/layerdb/sha256/') and parts[-1] in ('cache-id', 'diff', 'parent'):
            layers.setdefault('sha256:' + parts[-2], {})[parts[-1].replace('-', '_')] = sorted(vs)[0]
    for chain, l in sorted(layers.items()):
        if 'cache_id' not in l:
            continue
        owners.append({'prefix': D + '/overlay2/' + l['cache_id'], 'kind': 'image-layer', 'container_id': None,
                       'container_name': None, 'image_layer': {'diff_id': l.get('diff'), 'chain_id': chain,
                                                               'cache_id': l['cache_id']}})
        owners.append({'prefix': D + '/image/overlay2/layerdb/sha256/' + chain.split(':', 1)[1],
                       'kind': 'image-layerdb', 'container_id': None, 'container_name': None,
                       'image_layer': {'diff_id': l.get('diff'), 'chain_id': chain, 'cache_id': l['cache_id']}})
    owners.sort(key=lambda o: o['prefix'])

    # deletions: container removals resolved to their prefixes
    deletions = []
    for d in meta_in['deletions']:
        d = dict(d)
        if 'inode' in d:  # a file deleted in a container: its generation from the snapshots
            gens = sorted({r[2] for r in rows if r[1] == d['inode'] and r[0] in d['paths']})
            assert len(gens) == 1, (d, gens)
            d['generation'] = gens[0]
        if d.get('container_ids'):
            d['paths'] = sorted(o['prefix'] for o in owners if o['container_id'] in d['container_ids'])
        if d.get('build_containers'):
            ids = [c['id'] for c in containers_out if c['kind'] == 'build-container']
            d['container_ids'] = ids
            d['paths'] = sorted(o['prefix'] for o in owners if o['container_id'] in ids)
            del d['build_containers']
        deletions.append(d)

    truth = {'format': 'whiteout reuse truth v1',
             'columns': ['path', 'inode', 'generation', 'type', 'size', 'birth', 'sha256',
                         'first_snapshot', 'last_snapshot'],
             'snapshots': snaps, 'final_snapshot': final_id, 'owners': owners,
             'containers': containers_out, 'deletions': deletions, 'entries': rows}
    text = json.dumps(truth, separators=(',', ':'), ensure_ascii=True)
    with open(out, 'wb') as f:
        with gzip.GzipFile(fileobj=f, mode='wb', compresslevel=9, mtime=0, filename='') as g:
            g.write(text.encode())
    report = check_reuse(truth)
    with open(report_json, 'w') as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report['summary'], indent=1), file=sys.stderr)


def owner_of(owners, path):
    best = None
    for o in owners:
        p = o['prefix']
        if (path == p or path.startswith(p + '/')) and (best is None or len(p) > len(best['prefix'])):
            best = o
    return best


def check_reuse(t):
    """Which inode numbers carried several incarnations, and where."""
    final = t['final_snapshot']
    live_final = {(r[1], r[2]) for r in t['entries'] if r[8] == final}
    inc = {}  # (ino, gen) -> {type, paths, first, last}
    for r in t['entries']:
        d = inc.setdefault((r[1], r[2]), {'type': r[3], 'paths': set(), 'first': r[7], 'last': r[8]})
        d['paths'].add(r[0])
        d['first'] = min(d['first'], r[7])
        d['last'] = max(d['last'], r[8])
    by_ino = {}
    for (ino, gen), d in inc.items():
        by_ino.setdefault(ino, []).append((gen, d))
    owners = t['owners']

    def own(p):
        o = owner_of(owners, p)
        return None if o is None else '%s:%s:%s' % (o['kind'], o['container_name'] or '', (o['container_id'] or '')[:12])

    reused = []
    for ino, lst in sorted(by_ino.items()):
        if len(lst) < 2:
            continue
        lst.sort(key=lambda x: x[1]['first'])
        reused.append({'inode': ino, 'incarnations': [
            {'generation': g, 'type': d['type'], 'first': d['first'], 'last': d['last'],
             'deleted': (ino, g) not in live_final, 'paths': sorted(d['paths'])[:3],
             'n_paths': len(d['paths']), 'owner': own(sorted(d['paths'])[0])} for g, d in lst]})
    build_ids = {c['id'] for c in t['containers'] if c['kind'] == 'build-container'}
    dir_reuse = []
    for r in reused:
        incs = r['incarnations']
        for i, a in enumerate(incs):
            if a['type'] != 'd' or not a['deleted'] or not (a['owner'] or '').startswith('build-container'):
                continue
            for b in incs[i + 1:]:
                if b['type'] == 'd' and b['first'] >= a['last']:
                    dir_reuse.append({'inode': r['inode'], 'build_dir': a['paths'][0], 'later_dir': b['paths'][0],
                                      'later_owner': b['owner'], 'later_deleted': b['deleted']})
    tmp_reuse = [r for r in reused if any('/diff/tmp/' in p for x in r['incarnations'] for p in x['paths'])]
    # the directory that held the build step's 1,500 files, and what its number became
    app_dir = []
    for r in reused:
        incs = r['incarnations']
        if any(p.endswith('/diff/app/dir') and (x['owner'] or '').startswith('build-container')
               for x in incs for p in x['paths']):
            app_dir.append({'inode': r['inode'], 'incarnations': [
                {'generation': x['generation'], 'type': x['type'], 'path': x['paths'][0], 'owner': x['owner'],
                 'deleted': x['deleted']} for x in incs]})
    deleted = sum(1 for k, d in inc.items() if k not in live_final)
    summary = {'snapshots': len(t['snapshots']), 'rows': len(t['entries']), 'incarnations': len(inc),
               'deleted_incarnations': deleted, 'reused_inodes': len(reused),
               'build_dirs_reused_by_later_dirs': len(dir_reuse),
               'build_containers': len(build_ids),
               'build_app_dir': app_dir,
               'tmp_file_inode_reuse': tmp_reuse}
    return {'summary': summary, 'dir_reuse': dir_reuse, 'reused': reused}


if __name__ == '__main__':
    cmds = {'snap': cmd_snap, 'poll': cmd_poll, 'assemble': cmd_assemble}
    cmds[sys.argv[1]](*sys.argv[2:])

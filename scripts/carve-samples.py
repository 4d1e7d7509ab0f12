#!/usr/bin/env python3
"""carve-samples.py OUTDIR SEED: one deterministic file of each carvable type.

Used by make-carve-docker-fixture.sh (one set per container, a different seed each).
Same formats as make-carve-fixtures.sh, smaller. JPEG/GIF need ImageMagick
`convert`; xz/zstd/openssl must be installed.
"""
import bz2, gzip, io, json, lzma, os, random, sqlite3, struct, subprocess, sys, tarfile, zipfile, zlib

S, SEED = sys.argv[1], int(sys.argv[2])
os.makedirs(S, exist_ok=True)
rnd = random.Random(SEED)


def w(name, data):
    with open(os.path.join(S, name), 'wb') as f:
        f.write(data)


def text(n, seed):
    r = random.Random(f"{SEED}-{seed}")
    out, size, i = [], 0, 0
    while size < n:
        line = f"{SEED} {seed} line {i} {r.getrandbits(64):016x} the quick brown fox {r.random():.6f}\n"
        out.append(line)
        size += len(line)
        i += 1
    return ''.join(out)[:n].encode()


def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))


wd, ht = 96, 72
raw = b''.join(b'\0' + bytes((x * 3 + rnd.randrange(64)) & 255 for x in range(wd * 3)) for y in range(ht))
w('image.png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', wd, ht, 8, 2, 0, 0, 0))
  + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"]
stream = text(12000, 'pdf')
objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
pdf, offs = b"%PDF-1.4\n", []
for i, o in enumerate(objs):
    offs.append(len(pdf))
    pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b''.join(b"%010d 00000 n \n" % o for o in offs)
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
w('doc.pdf', pdf)


def mkzip(members, comment=b''):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            zi = zipfile.ZipInfo(n, (2023, 11, 14, 22, 13, 20))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, d)
        z.comment = comment
    return b.getvalue()


w('archive.zip', mkzip([('a.txt', text(8000, 'za')), ('b/rand.bin', rnd.randbytes(4000))], b'seed %d' % SEED))
w('report.docx', mkzip([('[Content_Types].xml', b'<?xml version="1.0"?><Types/>'),
                        ('word/document.xml', text(6000, 'docx')), ('docProps/app.xml', rnd.randbytes(2000))]))
w('app.jar', mkzip([('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\r\nMain-Class: A\r\n\r\n'),
                    ('A.class', rnd.randbytes(3000))]))
w('data.gz', gzip.compress(text(40000, 'gz') + rnd.randbytes(1501), 9, mtime=1700000000))
b = io.BytesIO()
with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as t:
    for n, d in [('etc/app.conf', text(3000, 'tar1')), ('bin/blob', rnd.randbytes(3000))]:
        ti = tarfile.TarInfo(n)
        ti.size = len(d)
        ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(d))
w('layer.tar', b.getvalue())
w('notes.bz2', bz2.compress(text(30000, 'bz') + rnd.randbytes(1000), 9))
p = os.path.join(S, 'app.sqlite')
if os.path.exists(p):
    os.remove(p)
c = sqlite3.connect(p)
c.execute('create table t(id integer primary key, v text)')
c.executemany('insert into t(v) values(?)', [(text(300, f'sq{i}').decode(),) for i in range(60)])
c.commit()
c.close()
w('entrypoint.sh', b"#!/bin/sh\nset -e\n" + b''.join(b"echo step %d of %d: configuring\n" % (i, SEED) for i in range(80))
  + b"exec \"$@\"\n")
w('settings.json', json.dumps({"service": f"svc{SEED}", "replicas": SEED % 7, "env": {f"K{i}": text(40, f'e{i}').decode()
                                                                                    for i in range(40)}},
                              separators=(',', ':')).encode())
sh = open(os.path.join(S, 'entrypoint.sh'), 'rb').read()
w('backup.xz', lzma.compress(sh * 10 + rnd.randbytes(2000), check=lzma.CHECK_CRC64))
subprocess.run(['zstd', '-q', '-19', '--check', '-f', '-o', os.path.join(S, 'blob.zst')],
               input=pdf + sh + rnd.randbytes(1500), check=True)
elf = {0: '/bin/true', 1: '/usr/bin/env', 2: '/usr/bin/yes'}[SEED % 3]
w('tool.elf', open(elf, 'rb').read())
for name, size, q in (('photo.jpg', '160x120', 90), ('frag.jpg', '400x300', 93)):
    subprocess.run(['convert', '-seed', str(SEED * 10 + len(name)), '-size', size, 'plasma:fractal',
                    '-quality', str(q), os.path.join(S, name)], check=True)
subprocess.run(['convert', '-seed', str(SEED + 3), '-size', '96x72', 'plasma:fractal', os.path.join(S, 'anim.gif')],
               check=True)
key = os.path.join(S, 'server.key')
subprocess.run(['openssl', 'genrsa', '-out', key, '2048'], check=True, capture_output=True)
subprocess.run(['openssl', 'req', '-new', '-x509', '-key', key, '-subj', f'/CN=c{SEED}.carve.test', '-days', '3650',
                '-out', os.path.join(S, 'server.crt')], check=True, capture_output=True)

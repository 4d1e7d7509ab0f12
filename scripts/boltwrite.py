"""A minimal BoltDB (bbolt) writer for SYNTHETIC test fixtures.

Follows bbolt's on-disk format exactly (page.go, meta.go, bucket.go):
pages 0/1 meta (magic 0xED0CDAED, version 2, FNV-1a 64 checksum), page 2
an empty freelist, then leaf/branch pages. A tree is a dict: bytes keys,
values bytes (a plain value) or dict (a nested bucket). Small buckets
without sub-buckets are written inline, like bbolt does; buckets with at
least `split` entries are written as two leaves under a branch page, to
exercise branch pages. Values larger than a page use overflow pages.
"""
import struct

MAGIC = 0xED0CDAED
BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10


def fnv1a64(b):
    h = 0xCBF29CE484222325
    for x in b:
        h ^= x
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def go_time(unix, nsec=0):
    """Go time.Time.MarshalBinary (version 1, UTC)."""
    return struct.pack(">BqiH", 1, unix + 62135596800, nsec, 0xFFFF)


class Writer:
    def __init__(self, page_size=4096, split=4):
        self.ps = page_size
        self.split = split
        self.pages = [None, None, None]  # meta, meta, freelist

    def _place(self, body, flags, count):
        pgid = len(self.pages)
        n = max(1, -(-(16 + len(body)) // self.ps))
        page = struct.pack("<QHHI", pgid, flags, count, n - 1) + body
        page += b"\0" * (n * self.ps - len(page))
        self.pages.append(page)
        self.pages.extend([b""] * (n - 1))  # overflow slots
        return pgid

    @staticmethod
    def _leaf_body(items):
        n = len(items)
        elems, data = bytearray(), bytearray()
        for i, (k, v, flag) in enumerate(items):
            pos = 16 * n + len(data) - 16 * i
            elems += struct.pack("<IIII", flag, pos, len(k), len(v))
            data += k + v
        return bytes(elems + data)

    def _items(self, tree):
        out = []
        for k in sorted(tree):
            v = tree[k]
            if isinstance(v, dict):
                out.append((k, self.bucket(v), 1))
            else:
                out.append((k, v, 0))
        return out

    def bucket(self, tree, inline_ok=True):
        """The value of a bucket: header (+ inline page)."""
        items = self._items(tree)
        has_sub = any(f for _, _, f in items)
        body = self._leaf_body(items)
        if inline_ok and not has_sub and 16 + len(body) <= self.ps // 4 and len(items) < self.split:
            return struct.pack("<QQ", 0, 0) + struct.pack("<QHHI", 0, LEAF, len(items), 0) + body
        return struct.pack("<QQ", self.tree_page(items), 0)

    def tree_page(self, items):
        if len(items) >= self.split:
            half = len(items) // 2
            kids = [(items[0][0], self._place(self._leaf_body(items[:half]), LEAF, half)),
                    (items[half][0], self._place(self._leaf_body(items[half:]), LEAF, len(items) - half))]
            elems, data = bytearray(), bytearray()
            for i, (k, pg) in enumerate(kids):
                pos = 16 * len(kids) + len(data) - 16 * i
                elems += struct.pack("<IIQ", pos, len(k), pg)
                data += k
            return self._place(bytes(elems + data), BRANCH, len(kids))
        return self._place(self._leaf_body(items), LEAF, len(items))

    def write(self, tree, path):
        root = self.tree_page(self._items(tree))
        self.pages[2] = struct.pack("<QHHI", 2, FREELIST, 0, 0) + b"\0" * (self.ps - 16)
        hw = len(self.pages)
        for pg, txid in ((0, 2), (1, 3)):
            m = struct.pack("<IIII", MAGIC, 2, self.ps, 0) + struct.pack("<QQ", root, 0)
            m += struct.pack("<QQQ", 2, hw, txid)
            m += struct.pack("<Q", fnv1a64(m))
            page = struct.pack("<QHHI", pg, META, 0, 0) + m
            self.pages[pg] = page + b"\0" * (self.ps - len(page))
        with open(path, "wb") as f:
            for p in self.pages:
                f.write(p)


def write(tree, path, page_size=4096, split=4):
    Writer(page_size, split).write(tree, path)

//! A small read-only BoltDB (bbolt) page reader, for containerd's
//! `meta.db` and the snapshotter's `metadata.db`.
//!
//! The file is evidence: it is never opened through a library that may
//! write (bbolt replays nothing, but its Go and Python bindings open the
//! file read-write and take locks). This reader works on bytes already
//! read from the ext4 image. Every structure is bounds-checked, page
//! visits, nesting and entries are capped, loops are cut, and damage
//! degrades to a partial tree plus warnings; it never panics.
//!
//! Format (bbolt `page.go`, `meta.go`, `bucket.go`):
//! - page header: `id u64, flags u16 (0x01 branch, 0x02 leaf, 0x04 meta,
//!   0x10 freelist), count u16, overflow u32`, then the elements;
//! - meta (pages 0 and 1, after the header): `magic u32 = 0xED0CDAED,
//!   version u32 = 2, page_size u32, flags u32, root bucket {pgid u64,
//!   sequence u64}, freelist u64, pgid u64, txid u64, checksum u64`, the
//!   checksum being FNV-1a 64 of the 56 bytes before it; the valid meta
//!   with the higher txid wins;
//! - leaf element: `flags u32 (0x01 = bucket), pos u32, ksize u32,
//!   vsize u32`, key at `element + pos`, value right after the key;
//! - branch element: `pos u32, ksize u32, pgid u64`;
//! - a bucket value: `{root pgid u64, sequence u64}`, followed by an
//!   inline page when root is 0.

use std::collections::{BTreeMap, HashSet};

pub const MAGIC: u32 = 0xED0C_DAED;
pub const VERSION: u32 = 2;
const PAGE_HEADER: usize = 16;
const ELEM: usize = 16;
const FLAG_BRANCH: u16 = 0x01;
const FLAG_LEAF: u16 = 0x02;
const FLAG_META: u16 = 0x04;
const LEAF_BUCKET: u32 = 0x01;
/// Nested buckets deeper than this are not followed.
pub const MAX_NESTING: usize = 32;
/// Branch levels followed inside one bucket.
const MAX_TREE_DEPTH: usize = 64;
/// Pages visited in one file.
const MAX_PAGES: usize = 1_000_000;
/// Key/value pairs kept in one file.
const MAX_ENTRIES: usize = 2_000_000;

/// One bucket: its plain keys and its nested buckets.
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    pub values: BTreeMap<Vec<u8>, Vec<u8>>,
    pub buckets: BTreeMap<Vec<u8>, Bucket>,
    pub sequence: u64,
}

impl Bucket {
    /// A nested bucket by a path of names.
    pub fn path(&self, names: &[&[u8]]) -> Option<&Bucket> {
        let mut b = self;
        for n in names {
            b = b.buckets.get(*n)?;
        }
        Some(b)
    }
    pub fn bucket(&self, name: &[u8]) -> Option<&Bucket> {
        self.buckets.get(name)
    }
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.values.get(key).map(|v| v.as_slice())
    }
    /// A value as UTF-8 text (lossy).
    pub fn text(&self, key: &[u8]) -> Option<String> {
        self.get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// The chosen meta page.
#[derive(Clone, Debug)]
pub struct Meta {
    pub page: u64,
    pub page_size: u32,
    pub root: u64,
    pub freelist: u64,
    pub high_water: u64,
    pub txid: u64,
}

/// A parsed database: the root bucket, the meta used and what was
/// skipped.
#[derive(Clone, Debug)]
pub struct Db {
    pub meta: Meta,
    pub root: Bucket,
    pub warnings: Vec<String>,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    let s = b.get(o..o.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// FNV-1a 64.
pub fn fnv1a64(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parse the meta page at `off`: Ok(meta) or why it is invalid.
fn parse_meta(data: &[u8], off: usize, page: u64) -> Result<Meta, String> {
    let flags = u16_at(data, off + 8).ok_or("truncated")?;
    if flags & FLAG_META == 0 {
        return Err(format!("page flags {flags:#x} are not meta"));
    }
    let m = off + PAGE_HEADER;
    let magic = u32_at(data, m).ok_or("truncated")?;
    if magic != MAGIC {
        return Err(format!("magic {magic:#x} is not 0xED0CDAED"));
    }
    let version = u32_at(data, m + 4).ok_or("truncated")?;
    if version != VERSION {
        return Err(format!("version {version} is not 2"));
    }
    let body = data.get(m..m + 56).ok_or("truncated")?;
    let sum = u64_at(data, m + 56).ok_or("truncated")?;
    if fnv1a64(body) != sum {
        return Err("checksum mismatch".into());
    }
    let page_size = u32_at(data, m + 8).ok_or("truncated")?;
    if !(512..=1 << 20).contains(&page_size) {
        return Err(format!("page size {page_size} out of range"));
    }
    Ok(Meta {
        page,
        page_size,
        root: u64_at(data, m + 16).ok_or("truncated")?,
        freelist: u64_at(data, m + 32).ok_or("truncated")?,
        high_water: u64_at(data, m + 40).ok_or("truncated")?,
        txid: u64_at(data, m + 48).ok_or("truncated")?,
    })
}

/// Is this a BoltDB file (a valid meta on page 0 or 1)?
pub fn is_bolt(data: &[u8]) -> bool {
    u32_at(data, PAGE_HEADER) == Some(MAGIC)
}

struct Reader<'a> {
    data: &'a [u8],
    page_size: usize,
    pages: usize,
    entries: usize,
    warnings: Vec<String>,
}

impl<'a> Reader<'a> {
    fn warn(&mut self, w: String) {
        if self.warnings.len() < 100 {
            self.warnings.push(w);
        }
    }

    /// The bytes of page `pgid` (with its overflow pages).
    fn page(&mut self, pgid: u64) -> Option<&'a [u8]> {
        self.pages += 1;
        if self.pages > MAX_PAGES {
            if self.pages == MAX_PAGES + 1 {
                self.warn(format!("stopped after {MAX_PAGES} pages"));
            }
            return None;
        }
        let off = (pgid as usize).checked_mul(self.page_size)?;
        let data = self.data;
        let Some(hdr) = data.get(off..off.checked_add(PAGE_HEADER)?) else {
            self.warn(format!("page {pgid} is past the end of the file"));
            return None;
        };
        let id = u64_at(hdr, 0)?;
        if id != pgid {
            self.warn(format!("page {pgid} says it is page {id}; skipped"));
            return None;
        }
        let overflow = u32_at(hdr, 12)? as usize;
        let len = overflow
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.page_size))?;
        let end = off.saturating_add(len).min(data.len());
        if off + len > data.len() {
            self.warn(format!(
                "page {pgid}: {overflow} overflow pages run past the end; truncated"
            ));
        }
        data.get(off..end)
    }

    /// Read the tree rooted at page bytes `p` into `out`.
    fn node(
        &mut self,
        p: &'a [u8],
        out: &mut Bucket,
        nesting: usize,
        depth: usize,
        seen: &mut HashSet<u64>,
    ) {
        if depth > MAX_TREE_DEPTH {
            self.warn(format!("tree deeper than {MAX_TREE_DEPTH} levels; cut"));
            return;
        }
        let (Some(flags), Some(count)) = (u16_at(p, 8), u16_at(p, 10)) else {
            return;
        };
        let count = count as usize;
        if flags & FLAG_BRANCH != 0 {
            for i in 0..count {
                let e = PAGE_HEADER + i * ELEM;
                let Some(child) = u64_at(p, e + 8) else {
                    self.warn("branch element past its page; cut".into());
                    break;
                };
                if !seen.insert(child) {
                    self.warn(format!("page {child} reached twice (loop); skipped"));
                    continue;
                }
                if let Some(cp) = self.page(child) {
                    self.node(cp, out, nesting, depth + 1, seen);
                }
            }
        } else if flags & FLAG_LEAF != 0 {
            for i in 0..count {
                let e = PAGE_HEADER + i * ELEM;
                let (Some(ef), Some(pos), Some(ks), Some(vs)) = (
                    u32_at(p, e),
                    u32_at(p, e + 4),
                    u32_at(p, e + 8),
                    u32_at(p, e + 12),
                ) else {
                    self.warn("leaf element past its page; cut".into());
                    break;
                };
                let ks0 = e.checked_add(pos as usize);
                let kv = ks0.and_then(|k0| {
                    let k1 = k0.checked_add(ks as usize)?;
                    let v1 = k1.checked_add(vs as usize)?;
                    Some((p.get(k0..k1)?, p.get(k1..v1)?))
                });
                let Some((k, v)) = kv else {
                    self.warn(format!(
                        "leaf element {i}: key/value past its page; skipped"
                    ));
                    continue;
                };
                self.entries += 1;
                if self.entries > MAX_ENTRIES {
                    self.warn(format!("stopped after {MAX_ENTRIES} entries"));
                    return;
                }
                if ef & LEAF_BUCKET != 0 {
                    if nesting >= MAX_NESTING {
                        self.warn(format!("buckets nested deeper than {MAX_NESTING}; cut"));
                        continue;
                    }
                    let mut b = Bucket::default();
                    self.bucket(v, &mut b, nesting + 1, seen);
                    out.buckets.insert(k.to_vec(), b);
                } else {
                    out.values.insert(k.to_vec(), v.to_vec());
                }
            }
        } else {
            self.warn(format!(
                "page flags {flags:#x}: not a branch or leaf; skipped"
            ));
        }
    }

    /// A bucket from its value (header + optional inline page).
    fn bucket(&mut self, v: &'a [u8], out: &mut Bucket, nesting: usize, seen: &mut HashSet<u64>) {
        let (Some(root), Some(seq)) = (u64_at(v, 0), u64_at(v, 8)) else {
            self.warn("bucket value shorter than its header; empty".into());
            return;
        };
        out.sequence = seq;
        if root == 0 {
            if let Some(inline) = v.get(16..) {
                self.node(inline, out, nesting, 0, seen);
            }
        } else {
            if !seen.insert(root) {
                self.warn(format!("page {root} reached twice (loop); skipped"));
                return;
            }
            if let Some(p) = self.page(root) {
                self.node(p, out, nesting, 0, seen);
            }
        }
    }
}

/// Parse a whole database from its bytes.
pub fn parse(data: &[u8]) -> Result<Db, String> {
    let mut errs = Vec::new();
    let m0 = parse_meta(data, 0, 0);
    // Page 1 sits at the page size given by page 0, or a usual size.
    let mut sizes: Vec<usize> = Vec::new();
    if let Ok(m) = &m0 {
        sizes.push(m.page_size as usize);
    } else if let Some(ps) = u32_at(data, PAGE_HEADER + 8) {
        sizes.push(ps as usize);
    }
    for s in [4096usize, 16384, 65536, 8192] {
        if !sizes.contains(&s) {
            sizes.push(s);
        }
    }
    let mut m1 = Err("not found".to_string());
    for s in sizes {
        if !(512..=1 << 20).contains(&s) {
            continue;
        }
        if let Ok(m) = parse_meta(data, s, 1) {
            m1 = Ok(m);
            break;
        }
    }
    let meta = match (m0, m1) {
        (Ok(a), Ok(b)) => {
            if b.txid > a.txid && b.page_size == a.page_size {
                b
            } else {
                a
            }
        }
        (Ok(a), Err(e)) => {
            errs.push(format!("meta page 1 invalid: {e}"));
            a
        }
        (Err(e), Ok(b)) => {
            errs.push(format!("meta page 0 invalid: {e}"));
            b
        }
        (Err(a), Err(b)) => {
            return Err(format!("not a BoltDB file: meta 0 {a}; meta 1 {b}"));
        }
    };
    let mut r = Reader {
        data,
        page_size: meta.page_size as usize,
        pages: 0,
        entries: 0,
        warnings: errs,
    };
    let mut root = Bucket::default();
    let mut seen = HashSet::new();
    seen.insert(meta.root);
    if let Some(p) = r.page(meta.root) {
        r.node(p, &mut root, 0, 0, &mut seen);
    } else {
        r.warn(format!("root page {} unreadable", meta.root));
    }
    Ok(Db {
        meta,
        root,
        warnings: r.warnings,
    })
}

/// Go's `binary.Uvarint`.
pub fn uvarint(b: &[u8]) -> Option<u64> {
    let mut x: u64 = 0;
    let mut s = 0u32;
    for (i, &c) in b.iter().enumerate().take(10) {
        if c < 0x80 {
            if i == 9 && c > 1 {
                return None;
            }
            return Some(x | (c as u64) << s);
        }
        x |= ((c & 0x7f) as u64) << s;
        s += 7;
    }
    None
}

/// Go's `binary.Varint` (zig-zag).
pub fn varint(b: &[u8]) -> Option<i64> {
    let ux = uvarint(b)?;
    let x = (ux >> 1) as i64;
    Some(if ux & 1 != 0 { !x } else { x })
}

/// A Go `time.Time` as stored by containerd (`MarshalBinary`): version 1
/// or 2, seconds since year 1 (i64 BE), nanoseconds (i32 BE), zone
/// offset in minutes (i16 BE). Rendered RFC 3339 in UTC.
pub fn go_time(b: &[u8]) -> Option<String> {
    if b.len() < 15 || !(b[0] == 1 || b[0] == 2) {
        return None;
    }
    let mut s = [0u8; 8];
    s.copy_from_slice(&b[1..9]);
    let secs = i64::from_be_bytes(s);
    let nanos = u32::from_be_bytes([b[9], b[10], b[11], b[12]]);
    // 62135596800 seconds from 0001-01-01 to 1970-01-01.
    let unix = secs.checked_sub(62_135_596_800)?;
    if nanos >= 1_000_000_000 || !(-62_135_596_800..=253_402_300_799).contains(&unix) {
        return None;
    }
    Some(crate::util::time::Timestamp::new(unix, nanos).rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_without_panic() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0u8; 100]).is_err());
        let mut d = vec![0xffu8; 9000];
        d[16..20].copy_from_slice(&MAGIC.to_le_bytes());
        assert!(parse(&d).is_err());
    }

    #[test]
    fn varints() {
        assert_eq!(uvarint(&[0x01]), Some(1));
        assert_eq!(uvarint(&[0xac, 0x02]), Some(300));
        assert_eq!(varint(&[0x03]), Some(-2));
        assert_eq!(uvarint(&[0x80; 11]), None);
    }
}

//! Signatures and validators. Every validator sees the bytes from the
//! header on (`d`) and says how long the file is, whether it needs more
//! bytes, or that the header was a false hit.

use memchr::memmem;
use serde::Serialize;

/// A carvable file type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Jpg,
    Png,
    Gif,
    Pdf,
    Zip,
    Docx,
    Xlsx,
    Jar,
    Gz,
    Tar,
    Bz2,
    Xz,
    Zst,
    Elf,
    Sqlite,
    Pem,
    Sh,
    Json,
    Log,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Jpg,
        Kind::Png,
        Kind::Gif,
        Kind::Pdf,
        Kind::Zip,
        Kind::Docx,
        Kind::Xlsx,
        Kind::Jar,
        Kind::Gz,
        Kind::Tar,
        Kind::Bz2,
        Kind::Xz,
        Kind::Zst,
        Kind::Elf,
        Kind::Sqlite,
        Kind::Pem,
        Kind::Sh,
        Kind::Json,
        Kind::Log,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Jpg => "jpg",
            Kind::Png => "png",
            Kind::Gif => "gif",
            Kind::Pdf => "pdf",
            Kind::Zip => "zip",
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
            Kind::Jar => "jar",
            Kind::Gz => "gz",
            Kind::Tar => "tar",
            Kind::Bz2 => "bz2",
            Kind::Xz => "xz",
            Kind::Zst => "zst",
            Kind::Elf => "elf",
            Kind::Sqlite => "sqlite",
            Kind::Pem => "pem",
            Kind::Sh => "sh",
            Kind::Json => "json",
            Kind::Log => "log",
        }
    }

    /// File name extension of carved files.
    pub fn ext(self) -> &'static str {
        match self {
            Kind::Sqlite => "db",
            Kind::Elf => "elf",
            k => k.name(),
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "jpeg" => "jpg",
            "gzip" => "gz",
            "bzip2" => "bz2",
            "zstd" => "zst",
            "sqlite3" | "db" => "sqlite",
            "shell" => "sh",
            other => other,
        }
        .to_string();
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Largest file carved of this type (bounded memory per hit).
    pub fn max_len(self) -> usize {
        match self {
            Kind::Pem | Kind::Sh | Kind::Json => 8 << 20,
            Kind::Jpg | Kind::Png | Kind::Gif | Kind::Pdf | Kind::Log => 64 << 20,
            _ => 256 << 20,
        }
    }

    /// Formats without an end marker of their own: the search for the end
    /// stops at the next file header.
    pub fn weak_end(self) -> bool {
        matches!(self, Kind::Pdf | Kind::Sh)
    }
}

/// What a validator concluded.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A complete file of this length. `exact`: the format fixes the length.
    Ok {
        len: u64,
        exact: bool,
        kind: Kind,
        note: Option<&'static str>,
    },
    /// Ran out of bytes before the end.
    NeedMore,
    /// The data stops fitting the format at this block-aligned offset (an
    /// all-zero block or another file's header): the file goes on elsewhere.
    Fragmented { at: u64 },
    /// Not a file of this type.
    Invalid,
}

fn ok(len: usize, kind: Kind) -> Verdict {
    Verdict::Ok {
        len: len as u64,
        exact: true,
        kind,
        note: None,
    }
}

fn be16(d: &[u8], i: usize) -> usize {
    ((d[i] as usize) << 8) | d[i + 1] as usize
}
fn be16s(d: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(*d.get(i)?) << 8 | usize::from(*d.get(i + 1)?))
}
fn be32(d: &[u8], i: usize) -> u64 {
    u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as u64
}
fn le16(d: &[u8], i: usize) -> u64 {
    u16::from_le_bytes([d[i], d[i + 1]]) as u64
}
fn le32(d: &[u8], i: usize) -> u64 {
    u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as u64
}
fn le64(d: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(d[i..i + 8].try_into().unwrap_or([0; 8]))
}
fn crc32(d: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(d);
    c.sum()
}

/// The type whose header starts `b` (the first bytes of a block).
pub fn detect(b: &[u8]) -> Option<Kind> {
    if b.len() < 16 {
        return None;
    }
    let k = match b[0] {
        0xFF if b[1] == 0xD8 && b[2] == 0xFF => Kind::Jpg,
        0x89 if b.starts_with(b"\x89PNG\r\n\x1a\n") => Kind::Png,
        b'G' if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") => Kind::Gif,
        b'%' if b.starts_with(b"%PDF-") => Kind::Pdf,
        b'P' if b.starts_with(b"PK\x03\x04") => Kind::Zip,
        0x1F if b[1] == 0x8B && b[2] == 8 && b[3] & 0xE0 == 0 => Kind::Gz,
        b'B' if b.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&b[3])
            && (b[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                || b[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]) =>
        {
            Kind::Bz2
        }
        0xFD if b.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) => Kind::Xz,
        0x28 if b.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) => Kind::Zst,
        0x7F if b.starts_with(b"\x7fELF") && (1..=2).contains(&b[4]) && (1..=2).contains(&b[5]) => {
            Kind::Elf
        }
        b'S' if b.starts_with(b"SQLite format 3\0") => Kind::Sqlite,
        b'-' if b.starts_with(b"-----BEGIN ") => Kind::Pem,
        b'#' if b.starts_with(b"#!/") || b.starts_with(b"#! /") => Kind::Sh,
        b'{' if b.starts_with(b"{\"log\":\"") => Kind::Log,
        b'{' if b[1] == b'"' => Kind::Json,
        _ => {
            if b.len() >= 512 && &b[257..262] == b"ustar" && tar_header_ok(&b[..512]) {
                Kind::Tar
            } else {
                return None;
            }
        }
    };
    Some(k)
}

/// Validate a header hit. `at_end`: `d` holds every byte there is (the
/// end of the searched space or of the type's bound).
pub fn validate(kind: Kind, d: &[u8], at_end: bool, block: usize) -> Verdict {
    // Entropy-coded streams never hold a whole zero block: the stream was
    // cut there (deleted and wiped, or fragmented). Without this a cut
    // deflate stream over zeros decodes to max_len (zero bits are a valid
    // Huffman code), costing seconds per hostile header.
    let (d, at_end) = match kind {
        Kind::Gz | Kind::Bz2 | Kind::Xz | Kind::Zst => match first_zero_block(d, block) {
            Some(z) => (&d[..z], true),
            None => (d, at_end),
        },
        _ => (d, at_end),
    };
    let v = match kind {
        Kind::Jpg => jpeg(d, block),
        Kind::Png => png(d),
        Kind::Gif => gif(d),
        Kind::Pdf => pdf(d, at_end, block),
        Kind::Zip | Kind::Docx | Kind::Xlsx | Kind::Jar => zip(d),
        Kind::Gz => gzip(d),
        Kind::Tar => tar(d),
        Kind::Bz2 => bzip2(d),
        Kind::Xz => xz(d),
        Kind::Zst => zstd(d),
        Kind::Elf => elf(d),
        Kind::Sqlite => sqlite(d),
        Kind::Pem => pem(d),
        Kind::Sh => shell(d, at_end),
        Kind::Json => json(d),
        Kind::Log => log(d, at_end),
    };
    match v {
        Verdict::NeedMore if at_end => Verdict::Invalid,
        v => v,
    }
}

/// Offset of the first all-zero full block after the first one.
fn first_zero_block(d: &[u8], block: usize) -> Option<usize> {
    let block = block.max(512);
    (1..d.len() / block)
        .map(|k| k * block)
        .find(|&o| crate::util::bytes::is_zero(&d[o..o + block]))
}

// ---------------------------------------------------------------- images

/// Does the block at `o` end a fragment (zeros, or another file's header)?
fn fragment_end(d: &[u8], o: usize, block: usize) -> bool {
    let b = &d[o..(o + block).min(d.len())];
    b.len() == block && (crate::util::bytes::is_zero(b) || detect(b).is_some())
}

pub(crate) fn jpeg(d: &[u8], block: usize) -> Verdict {
    let block = block.max(512);
    if d.len() < 4 || d[0] != 0xFF || d[1] != 0xD8 {
        return Verdict::Invalid;
    }
    let first = d[3];
    if !(0xC0..=0xFE).contains(&first) {
        return Verdict::Invalid;
    }
    let (mut sof, mut sos) = (false, false);
    let mut i = 2;
    loop {
        if i + 4 > d.len() {
            return Verdict::NeedMore;
        }
        if d[i] != 0xFF {
            return Verdict::Invalid;
        }
        let m = d[i + 1];
        match m {
            0xFF => i += 1,
            0xD9 => {
                return if sof && sos {
                    ok(i + 2, Kind::Jpg)
                } else {
                    Verdict::Invalid
                }
            }
            0xD8 | 0x00 => return Verdict::Invalid,
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let len = be16(d, i + 2);
                if len < 2 {
                    return Verdict::Invalid;
                }
                if matches!(m, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
                    sof = true;
                }
                i += 2 + len;
                if m == 0xDA {
                    if !sof {
                        return Verdict::Invalid;
                    }
                    sos = true;
                    let mut next_boundary = i.div_ceil(block) * block;
                    // Entropy-coded data: 0xFF is followed by 0x00 (stuffing),
                    // RSTn or fill bytes; anything else is the next marker.
                    loop {
                        let found = d.get(i..).and_then(|s| memchr::memchr(0xFF, s));
                        let stop = found.map_or(d.len(), |p| i + p);
                        // Each block boundary crossed must still look like JPEG data.
                        while next_boundary < stop {
                            if fragment_end(d, next_boundary, block) {
                                return Verdict::Fragmented {
                                    at: next_boundary as u64,
                                };
                            }
                            next_boundary += block;
                        }
                        let Some(p) = found else {
                            return Verdict::NeedMore;
                        };
                        i += p;
                        if i + 1 >= d.len() {
                            return Verdict::NeedMore;
                        }
                        match d[i + 1] {
                            0x00 | 0xD0..=0xD7 => i += 2,
                            0xFF => i += 1,
                            _ => break,
                        }
                    }
                }
            }
        }
    }
}

/// Huffman table in the canonical form of ITU T.81 F.2.2.3.
struct Huff {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    vals: Vec<u8>,
}

fn huff(counts: &[u8], vals: &[u8]) -> Huff {
    let mut h = Huff {
        maxcode: [-1; 17],
        valptr: [0; 17],
        mincode: [0; 17],
        vals: vals.to_vec(),
    };
    let (mut code, mut k) = (0i32, 0i32);
    for l in 1..=16 {
        let n = i32::from(counts[l - 1]);
        if n > 0 {
            h.valptr[l] = k;
            h.mincode[l] = code;
            code += n;
            k += n;
            h.maxcode[l] = code - 1;
        }
        code <<= 1;
    }
    h
}

struct Bits<'a> {
    d: &'a [u8],
    pos: usize,
    acc: u32,
    n: u32,
    marker: bool,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        if self.n == 0 {
            if self.marker {
                return None;
            }
            let b = *self.d.get(self.pos)?;
            if b == 0xFF {
                match self.d.get(self.pos + 1)? {
                    0 => self.pos += 2,
                    _ => {
                        self.marker = true;
                        return None;
                    }
                }
            } else {
                self.pos += 1;
            }
            self.acc = u32::from(b);
            self.n = 8;
        }
        self.n -= 1;
        Some((self.acc >> self.n) & 1)
    }
    fn skip(&mut self, k: u32) -> Option<()> {
        for _ in 0..k {
            self.bit()?;
        }
        Some(())
    }
    fn decode(&mut self, h: &Huff) -> Option<u8> {
        let mut code = 0i32;
        for l in 1..=16 {
            code = (code << 1) | self.bit()? as i32;
            if code <= h.maxcode[l] {
                let i = h.valptr[l] + code - h.mincode[l];
                return h.vals.get(usize::try_from(i).ok()?).copied();
            }
        }
        None
    }
}

/// Does a baseline, single-scan JPEG's entropy data decode (Huffman codes
/// only, T.81 F.2.2) to exactly the MCU count of its frame, ending at the
/// EOI at `eoi`? `None`: not checkable here (progressive, arithmetic,
/// restart intervals, several scans).
pub(crate) fn jpeg_decodes(d: &[u8], eoi: usize) -> Option<bool> {
    let mut tabs: [Option<Huff>; 8] = Default::default();
    // (H, V, table selectors) per component, in frame order.
    let mut comps: Vec<(u8, u8, u8, usize)> = Vec::new();
    let (mut w, mut h) = (0usize, 0usize);
    let mut i = 2;
    loop {
        if *d.get(i)? != 0xFF {
            return Some(false);
        }
        let m = *d.get(i + 1)?;
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = be16s(d, i + 2)?;
        let seg = d.get(i + 4..i + 2 + len)?;
        match m {
            0xC4 => {
                let mut s = seg;
                while s.len() >= 17 {
                    let (tc, th) = (s[0] >> 4, s[0] & 15);
                    let n: usize = s[1..17].iter().map(|&c| usize::from(c)).sum();
                    let vals = s.get(17..17 + n)?;
                    if tc > 1 || th > 3 {
                        return None;
                    }
                    tabs[usize::from(tc) * 4 + usize::from(th)] = Some(huff(&s[1..17], vals));
                    s = &s[17 + n..];
                }
            }
            0xC0 | 0xC1 => {
                h = be16s(seg, 1)?;
                w = be16s(seg, 3)?;
                let nf = usize::from(*seg.get(5)?);
                for k in 0..nf {
                    let c = seg.get(6 + 3 * k..9 + 3 * k)?;
                    comps.push((c[0], c[1] >> 4, c[1] & 15, 0));
                }
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDD if be16s(seg, 0) != Some(0) => return None,
            0xDA => {
                let ns = usize::from(*seg.first()?);
                if ns != comps.len() || w == 0 || h == 0 {
                    return None;
                }
                for k in 0..ns {
                    let c = seg.get(1 + 2 * k..3 + 2 * k)?;
                    let j = comps.iter().position(|x| x.0 == c[0])?;
                    comps[j].3 = usize::from(c[1]);
                }
                let start = i + 2 + len;
                return Some(decode_scan(d.get(start..eoi)?, &tabs, &comps, w, h));
            }
            _ => {}
        }
        i += 2 + len;
    }
}

fn decode_scan(
    d: &[u8],
    tabs: &[Option<Huff>; 8],
    comps: &[(u8, u8, u8, usize)],
    w: usize,
    h: usize,
) -> bool {
    let hmax = usize::from(comps.iter().map(|c| c.1).max().unwrap_or(1).max(1));
    let vmax = usize::from(comps.iter().map(|c| c.2).max().unwrap_or(1).max(1));
    // One component: blocks of that component; several: interleaved MCUs.
    let (mcus, per): (usize, Vec<(usize, usize)>) = if comps.len() == 1 {
        let c = comps[0];
        let cw = (w * usize::from(c.1)).div_ceil(hmax);
        let ch = (h * usize::from(c.2)).div_ceil(vmax);
        (cw.div_ceil(8) * ch.div_ceil(8), vec![(1, c.3)])
    } else {
        (
            w.div_ceil(8 * hmax) * h.div_ceil(8 * vmax),
            comps
                .iter()
                .map(|c| (usize::from(c.1) * usize::from(c.2), c.3))
                .collect(),
        )
    };
    let mut b = Bits {
        d,
        pos: 0,
        acc: 0,
        n: 0,
        marker: false,
    };
    for _ in 0..mcus {
        for &(nblocks, sel) in &per {
            let (Some(dc), Some(ac)) = (&tabs[(sel >> 4) & 3], &tabs[4 + (sel & 3)]) else {
                return false;
            };
            for _ in 0..nblocks {
                let ok = (|| {
                    let t = b.decode(dc)?;
                    b.skip(u32::from(t))?;
                    let mut k = 1;
                    while k < 64 {
                        let rs = b.decode(ac)?;
                        let (r, s) = (rs >> 4, rs & 15);
                        if s == 0 {
                            if r != 15 {
                                break;
                            }
                            k += 16;
                        } else {
                            k += usize::from(r);
                            b.skip(u32::from(s))?;
                            k += 1;
                        }
                    }
                    (k <= 64).then_some(())
                })();
                if ok.is_none() {
                    return false;
                }
            }
        }
    }
    // Every MCU decoded: only the last byte's padding may remain.
    b.pos == d.len()
}

fn png(d: &[u8]) -> Verdict {
    let mut i = 8;
    let mut first = true;
    loop {
        if i + 12 > d.len() {
            return Verdict::NeedMore;
        }
        let len = be32(d, i) as usize;
        let ty = &d[i + 4..i + 8];
        if len > 0x7fff_ffff || !ty.iter().all(|c| c.is_ascii_alphabetic()) {
            return Verdict::Invalid;
        }
        if first && ty != b"IHDR" {
            return Verdict::Invalid;
        }
        first = false;
        let end = i + 12 + len;
        if end > d.len() {
            return Verdict::NeedMore;
        }
        if crc32(&d[i + 4..i + 8 + len]) as u64 != be32(d, i + 8 + len) {
            return Verdict::Invalid;
        }
        if ty == b"IEND" {
            return ok(end, Kind::Png);
        }
        i = end;
    }
}

fn gif(d: &[u8]) -> Verdict {
    if d.len() < 13 {
        return Verdict::NeedMore;
    }
    let flags = d[10];
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 7) + 1);
    }
    // Skip a chain of data sub-blocks ending with a 0 length.
    fn sub_blocks(d: &[u8], mut i: usize) -> Option<usize> {
        loop {
            let n = *d.get(i)? as usize;
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    }
    loop {
        let Some(&b) = d.get(i) else {
            return Verdict::NeedMore;
        };
        match b {
            0x3B => return ok(i + 1, Kind::Gif),
            0x21 => match sub_blocks(d, i + 2) {
                Some(n) if i + 2 <= d.len() => i = n,
                _ => return Verdict::NeedMore,
            },
            0x2C => {
                if i + 10 > d.len() {
                    return Verdict::NeedMore;
                }
                let f = d[i + 9];
                i += 10;
                if f & 0x80 != 0 {
                    i += 3 << ((f & 7) + 1);
                }
                i += 1; // LZW minimum code size
                match sub_blocks(d, i) {
                    Some(n) => i = n,
                    None => return Verdict::NeedMore,
                }
            }
            _ => return Verdict::Invalid,
        }
    }
}

// ------------------------------------------------------------- documents

/// First block-aligned all-zero block (the end of the data written there).
fn zero_block(d: &[u8], block: usize) -> Option<usize> {
    let block = block.max(512);
    (0..d.len() / block)
        .map(|k| k * block)
        .find(|&o| crate::util::bytes::is_zero(&d[o..o + block]))
}

fn pdf(d: &[u8], at_end: bool, block: usize) -> Verdict {
    let bound = match zero_block(d, block) {
        Some(z) => z,
        None if !at_end => return Verdict::NeedMore,
        None => d.len(),
    };
    let Some(p) = memmem::rfind(&d[..bound], b"%%EOF") else {
        return Verdict::Invalid;
    };
    let mut end = p + 5;
    if d.get(end) == Some(&b'\r') {
        end += 1;
    }
    if d.get(end) == Some(&b'\n') {
        end += 1;
    }
    Verdict::Ok {
        len: end as u64,
        exact: false,
        kind: Kind::Pdf,
        note: Some("last %%EOF before a zero block or the next header"),
    }
}

// -------------------------------------------------------------- archives

fn zip(d: &[u8]) -> Verdict {
    let finder = memmem::Finder::new(b"PK\x05\x06");
    let mut from = 0;
    while let Some(p) = finder.find(&d[from..]) {
        let e = from + p;
        from = e + 1;
        if e + 22 > d.len() {
            return Verdict::NeedMore;
        }
        let (cd_size, cd_off) = (le32(d, e + 12) as usize, le32(d, e + 16) as usize);
        let clen = le16(d, e + 20) as usize;
        if le16(d, e + 4) != 0 || cd_off.checked_add(cd_size) != Some(e) {
            continue;
        }
        if e + 22 + clen > d.len() {
            return Verdict::NeedMore;
        }
        // Subtype from the central directory's names.
        let mut kind = Kind::Zip;
        let mut i = cd_off;
        while i + 46 <= e && &d[i..i + 4] == b"PK\x01\x02" {
            let (n, x, c) = (
                le16(d, i + 28) as usize,
                le16(d, i + 30) as usize,
                le16(d, i + 32) as usize,
            );
            let name = &d[(i + 46).min(e)..(i + 46 + n).min(e)];
            if name.starts_with(b"word/") {
                kind = Kind::Docx;
            } else if name.starts_with(b"xl/") {
                kind = Kind::Xlsx;
            } else if name == b"META-INF/MANIFEST.MF" && kind == Kind::Zip {
                kind = Kind::Jar;
            }
            i += 46 + n + x + c;
        }
        return ok(e + 22 + clen, kind);
    }
    Verdict::NeedMore
}

fn gzip(d: &[u8]) -> Verdict {
    use flate2::{Decompress, FlushDecompress, Status};
    if d.len() < 18 {
        return Verdict::NeedMore;
    }
    let flg = d[3];
    let mut i = 10;
    if flg & 4 != 0 {
        i += 2 + le16(d, 10) as usize;
    }
    for bit in [8u8, 16] {
        if flg & bit != 0 {
            match d.get(i..).and_then(|s| memchr::memchr(0, s)) {
                Some(p) if p < 65536 => i += p + 1,
                Some(_) => return Verdict::Invalid,
                None => return Verdict::NeedMore,
            }
        }
    }
    if flg & 2 != 0 {
        i += 2;
    }
    if i >= d.len() {
        return Verdict::NeedMore;
    }
    let mut z = Decompress::new(false);
    let mut crc = flate2::Crc::new();
    let mut out = vec![0u8; 1 << 16];
    loop {
        let (bi, bo) = (z.total_in(), z.total_out());
        let st = z.decompress(&d[i + bi as usize..], &mut out, FlushDecompress::None);
        let produced = (z.total_out() - bo) as usize;
        crc.update(&out[..produced]);
        match st {
            Ok(Status::StreamEnd) => break,
            Ok(_) => {
                if z.total_in() == bi && produced == 0 {
                    return if i + z.total_in() as usize >= d.len() {
                        Verdict::NeedMore
                    } else {
                        Verdict::Invalid
                    };
                }
            }
            Err(_) => return Verdict::Invalid,
        }
    }
    let end = i + z.total_in() as usize;
    if end + 8 > d.len() {
        return Verdict::NeedMore;
    }
    if le32(d, end) != crc.sum() as u64 || le32(d, end + 4) != z.total_out() & 0xffff_ffff {
        return Verdict::Invalid;
    }
    ok(end + 8, Kind::Gz)
}

fn tar_header_ok(h: &[u8]) -> bool {
    let Some(want) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            if (148..156).contains(&k) {
                32
            } else {
                b as u64
            }
        })
        .sum();
    sum == want
}

fn octal(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|b| b & 0x80 != 0) {
        // base-256
        return Some(f[1..].iter().fold(0u64, |a, &b| (a << 8) | b as u64));
    }
    // Leading spaces, then octal digits up to the first other byte.
    let digits = f.iter().skip_while(|b| **b == b' ');
    let mut n: Option<u64> = None;
    for &b in digits.take_while(|b| (b'0'..=b'7').contains(*b)) {
        n = Some(n.unwrap_or(0).checked_mul(8)? | (b - b'0') as u64);
    }
    n
}

/// Where the 10240-byte tar record holding `end` ends: writers pad the
/// archive to it with zeros.
pub(crate) fn tar_record_end(end: u64) -> u64 {
    end.div_ceil(10240) * 10240
}

/// What the 1024 bytes at a tar member position say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TarStep {
    /// A valid header: the next member starts this many bytes on
    /// (512 + the data rounded up to 512).
    Next(u64),
    /// Two zero blocks: the end-of-archive marker.
    End,
    /// Neither: the walk stops here.
    Stop,
}

/// One step of a tar walk over `b` (at least 1024 bytes; shorter is `Stop`).
pub(crate) fn tar_step(b: &[u8]) -> TarStep {
    let (Some(h), Some(next)) = (b.get(..512), b.get(512..1024)) else {
        return TarStep::Stop;
    };
    if crate::util::bytes::is_zero(h) {
        return if crate::util::bytes::is_zero(next) {
            TarStep::End
        } else {
            TarStep::Stop
        };
    }
    if !tar_header_ok(h) {
        return TarStep::Stop;
    }
    // A lying size must not wrap the walk back onto earlier headers.
    let size = octal(&h[124..136]).unwrap_or(0);
    match size
        .div_ceil(512)
        .checked_mul(512)
        .and_then(|s| s.checked_add(512))
    {
        Some(adv) => TarStep::Next(adv),
        None => TarStep::Stop,
    }
}

/// The verdict for a tar whose end-of-archive marker ends at `end`.
pub(crate) fn tar_ok(end: u64) -> Verdict {
    Verdict::Ok {
        len: end,
        exact: true,
        kind: Kind::Tar,
        note: Some("two zero blocks, padded to the 10240-byte record when zero"),
    }
}

fn tar(d: &[u8]) -> Verdict {
    let mut i = 0usize;
    let mut headers = 0;
    loop {
        let Some(b) = i.checked_add(1024).and_then(|e| d.get(i..e)) else {
            return Verdict::NeedMore;
        };
        match tar_step(b) {
            TarStep::End if headers > 0 => {
                let mut end = i + 1024;
                let rec = tar_record_end(end as u64) as usize;
                if d.get(end..rec).is_some_and(crate::util::bytes::is_zero) {
                    end = rec;
                }
                return tar_ok(end as u64);
            }
            TarStep::End | TarStep::Stop => return Verdict::Invalid,
            TarStep::Next(adv) => {
                headers += 1;
                match usize::try_from(adv).ok().and_then(|a| i.checked_add(a)) {
                    Some(n) => i = n,
                    None => return Verdict::NeedMore,
                }
            }
        }
    }
}

fn bzip2(d: &[u8]) -> Verdict {
    const EOS: u64 = 0x1772_4538_5090;
    let mut acc: u64 = 0;
    for (k, &b) in d.iter().enumerate().skip(4) {
        acc = (acc << 8) | b as u64;
        if k < 10 {
            continue;
        }
        for s in 0..8 {
            if (acc >> s) & 0xFFFF_FFFF_FFFF == EOS {
                // Marker ends at bit (k+1)*8 - s; then the 32-bit stream CRC.
                let end_bits = (k + 1) * 8 - s + 32;
                let end = end_bits.div_ceil(8);
                if end > d.len() {
                    return Verdict::NeedMore;
                }
                return Verdict::Ok {
                    len: end as u64,
                    exact: true,
                    kind: Kind::Bz2,
                    note: Some("first bit-aligned end-of-stream marker; not decompressed"),
                };
            }
        }
    }
    Verdict::NeedMore
}

fn xz(d: &[u8]) -> Verdict {
    if d.len() < 32 {
        return Verdict::NeedMore;
    }
    if crc32(&d[6..8]) as u64 != le32(d, 8) {
        return Verdict::Invalid;
    }
    let flags = &d[6..8];
    let finder = memmem::Finder::new(b"YZ");
    let mut from = 12;
    while let Some(p) = finder.find(&d[from..]) {
        let y = from + p;
        from = y + 1;
        if (y + 2) % 4 != 0 || y < 22 {
            continue;
        }
        let f = y - 10;
        if &d[f + 8..f + 10] == flags && crc32(&d[f + 4..f + 10]) as u64 == le32(d, f) {
            return ok(y + 2, Kind::Xz);
        }
    }
    Verdict::NeedMore
}

fn zstd(d: &[u8]) -> Verdict {
    if d.len() < 6 {
        return Verdict::NeedMore;
    }
    let fhd = d[4];
    if fhd & 0x08 != 0 {
        return Verdict::Invalid; // reserved bit
    }
    let single = fhd & 0x20 != 0;
    let checksum = fhd & 0x04 != 0;
    let did = [0usize, 1, 2, 4][(fhd & 3) as usize];
    let fcs = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut i = 5 + usize::from(!single) + did + fcs;
    loop {
        if i + 3 > d.len() {
            return Verdict::NeedMore;
        }
        let h = d[i] as usize | (d[i + 1] as usize) << 8 | (d[i + 2] as usize) << 16;
        let (last, ty, size) = (h & 1 == 1, (h >> 1) & 3, h >> 3);
        if size > 128 << 10 {
            return Verdict::Invalid;
        }
        i += 3 + match ty {
            0 | 2 => size,
            1 => 1,
            _ => return Verdict::Invalid,
        };
        if last {
            break;
        }
    }
    if checksum {
        i += 4;
    }
    if i > d.len() {
        return Verdict::NeedMore;
    }
    Verdict::Ok {
        len: i as u64,
        exact: true,
        kind: Kind::Zst,
        note: Some("frame blocks walked; content checksum not verified"),
    }
}

// -------------------------------------------------- programs, databases

fn elf(d: &[u8]) -> Verdict {
    if d.len() < 64 {
        return Verdict::NeedMore;
    }
    let is64 = d[4] == 2;
    let le = d[5] == 1;
    let r16 = |i: usize| -> u64 {
        if le {
            le16(d, i)
        } else {
            be16(d, i) as u64
        }
    };
    let r32 = |i: usize| -> u64 {
        if le {
            le32(d, i)
        } else {
            be32(d, i)
        }
    };
    let r64 = |i: usize| -> u64 {
        if le {
            le64(d, i)
        } else {
            u64::from_be_bytes(d[i..i + 8].try_into().unwrap_or([0; 8]))
        }
    };
    let (shoff, shentsize, shnum) = if is64 {
        (r64(0x28), r16(0x3A), r16(0x3C))
    } else {
        (r32(0x20), r16(0x2E), r16(0x30))
    };
    if shoff == 0 || shnum == 0 || shentsize < if is64 { 64 } else { 40 } {
        return Verdict::Invalid;
    }
    let end = shoff + shentsize * shnum;
    if end > 1 << 31 {
        return Verdict::Invalid;
    }
    if end as usize > d.len() {
        return Verdict::NeedMore;
    }
    // Sections placed after the table still belong to the file.
    let mut max = end;
    for k in 0..shnum {
        let o = (shoff + k * shentsize) as usize;
        let (ty, off, size) = if is64 {
            (r32(o + 4), r64(o + 0x18), r64(o + 0x20))
        } else {
            (r32(o + 4), r32(o + 0x10), r32(o + 0x14))
        };
        if ty != 8 && off.saturating_add(size) > max && off + size < 1 << 31 {
            max = off + size;
        }
    }
    Verdict::Ok {
        len: max,
        exact: true,
        kind: Kind::Elf,
        note: Some("end of the section header table or the last section"),
    }
}

fn sqlite(d: &[u8]) -> Verdict {
    if d.len() < 100 {
        return Verdict::NeedMore;
    }
    let ps = match be16(d, 16) {
        1 => 65536,
        p if p >= 512 && p.is_power_of_two() => p as u64,
        _ => return Verdict::Invalid,
    };
    let count = be32(d, 28);
    if count == 0 || be32(d, 92) != be32(d, 24) {
        return Verdict::Invalid;
    }
    Verdict::Ok {
        len: ps * count,
        exact: true,
        kind: Kind::Sqlite,
        note: Some("page size x page count from the header"),
    }
}

// ------------------------------------------------------------ text kinds

fn pem(d: &[u8]) -> Verdict {
    // "-----BEGIN " is 11 bytes; the label runs to the next '-'.
    let Some(rest) = d.get(11..) else {
        return Verdict::Invalid;
    };
    let Some(e) = rest.iter().take(80).position(|&b| b == b'-') else {
        return Verdict::Invalid;
    };
    let label = &rest[..e];
    if label.is_empty() || !label.iter().all(|c| c.is_ascii_uppercase() || *c == b' ') {
        return Verdict::Invalid;
    }
    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    let Some(p) = memmem::find(d, &end_marker) else {
        return if d.len() > 1 << 20 {
            Verdict::Invalid
        } else {
            Verdict::NeedMore
        };
    };
    let body = &d[11 + e..p];
    if !body
        .iter()
        .all(|&c| c.is_ascii_graphic() || c == b'\n' || c == b'\r' || c == b' ')
    {
        return Verdict::Invalid;
    }
    let mut end = p + end_marker.len();
    if d.get(end) == Some(&b'\r') {
        end += 1;
    }
    if d.get(end) == Some(&b'\n') {
        end += 1;
    }
    ok(end, Kind::Pem)
}

fn is_text(b: u8) -> bool {
    b >= 0x20 || b == b'\n' || b == b'\t' || b == b'\r'
}

fn shell(d: &[u8], at_end: bool) -> Verdict {
    let end = memchr::memchr(0, d);
    let end = match end {
        Some(e) => e,
        None if at_end => d.len(),
        None => return Verdict::NeedMore,
    };
    let first_line = d[..end].split(|&b| b == b'\n').next().unwrap_or(&[]);
    if first_line.len() > 256 || !d[..end].iter().all(|&b| is_text(b)) {
        return Verdict::Invalid;
    }
    Verdict::Ok {
        len: end as u64,
        exact: false,
        kind: Kind::Sh,
        note: Some("to the first NUL"),
    }
}

/// Length of the balanced JSON object at the start of `d`.
pub fn json_object_len(d: &[u8]) -> Result<usize, bool> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (k, &b) in d.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            } else if b < 0x20 {
                return Err(false);
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(false)?;
                if depth == 0 {
                    return Ok(k + 1);
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => {}
            c if c < 0x20 || c == 0x7f => return Err(false),
            _ => {}
        }
    }
    Err(true)
}

fn json(d: &[u8]) -> Verdict {
    match json_object_len(d) {
        Ok(n) => {
            if serde_json::from_slice::<serde_json::Value>(&d[..n]).is_err() {
                return Verdict::Invalid;
            }
            let end = if d.get(n) == Some(&b'\n') { n + 1 } else { n };
            ok(end, Kind::Json)
        }
        Err(true) => Verdict::NeedMore,
        Err(false) => Verdict::Invalid,
    }
}

fn log(d: &[u8], at_end: bool) -> Verdict {
    let mut i = 0;
    loop {
        if !d[i..].starts_with(b"{\"log\":\"") {
            break;
        }
        let Some(nl) = memchr::memchr(b'\n', &d[i..]) else {
            if at_end || d.len() - i > 1 << 20 {
                break;
            }
            return Verdict::NeedMore;
        };
        if serde_json::from_slice::<serde_json::Value>(&d[i..i + nl]).is_err() {
            break;
        }
        i += nl + 1;
        if i >= d.len() {
            if at_end {
                break;
            }
            return Verdict::NeedMore;
        }
    }
    if i == 0 {
        return Verdict::Invalid;
    }
    Verdict::Ok {
        len: i as u64,
        exact: true,
        kind: Kind::Log,
        note: Some("consecutive json-file log lines"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn ok_len(v: Verdict) -> u64 {
        match v {
            Verdict::Ok { len, .. } => len,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gzip_exact_despite_trailing_bytes() {
        let text: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let g = gz(&text);
        let mut d = g.clone();
        d.extend_from_slice(&[0x55; 9000]);
        assert_eq!(detect(&d), Some(Kind::Gz));
        assert_eq!(ok_len(validate(Kind::Gz, &d, true, 4096)), g.len() as u64);
        // Cut short: more bytes needed, and invalid at the end of the space.
        assert_eq!(
            validate(Kind::Gz, &g[..g.len() - 3], false, 4096),
            Verdict::NeedMore
        );
        assert_eq!(
            validate(Kind::Gz, &g[..g.len() - 3], true, 4096),
            Verdict::Invalid
        );
        // A corrupted CRC is rejected.
        let mut bad = g.clone();
        let n = bad.len();
        bad[n - 8] ^= 1;
        assert_eq!(validate(Kind::Gz, &bad, true, 4096), Verdict::Invalid);
    }

    #[test]
    fn png_crc_checked() {
        fn chunk(t: &[u8], d: &[u8]) -> Vec<u8> {
            let mut v = (d.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(t);
            v.extend_from_slice(d);
            let mut td = t.to_vec();
            td.extend_from_slice(d);
            v.extend_from_slice(&crc32(&td).to_be_bytes());
            v
        }
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        p.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        p.extend(chunk(b"IEND", b""));
        let mut d = p.clone();
        d.extend_from_slice(&[1; 100]);
        assert_eq!(ok_len(validate(Kind::Png, &d, true, 4096)), p.len() as u64);
        d[20] ^= 0xFF;
        assert_eq!(validate(Kind::Png, &d, true, 4096), Verdict::Invalid);
    }

    #[test]
    fn zip_comment_and_subtype() {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&[0; 26]);
        let cd_off = z.len();
        let mut cd = b"PK\x01\x02".to_vec();
        cd.extend_from_slice(&[0; 24]);
        cd.extend_from_slice(&(17u16).to_le_bytes());
        cd.extend_from_slice(&[0; 16]);
        cd.extend_from_slice(b"word/document.xml");
        z.extend_from_slice(&cd);
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        z.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        z.extend_from_slice(&(cd_off as u32).to_le_bytes());
        z.extend_from_slice(&3u16.to_le_bytes());
        z.extend_from_slice(b"abc");
        let mut d = z.clone();
        d.extend_from_slice(&[7; 50]);
        match validate(Kind::Zip, &d, true, 4096) {
            Verdict::Ok { len, kind, .. } => {
                assert_eq!(len, z.len() as u64);
                assert_eq!(kind, Kind::Docx);
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn jpeg_fragment_end_detected() {
        // SOI, SOF0, SOS, then entropy data running into a zero block.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 11];
        j.extend_from_slice(&[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]);
        while j.len() < 4096 {
            j.push(0x42);
        }
        let mut frag = j.clone();
        frag.extend_from_slice(&[0; 4096]);
        assert_eq!(
            validate(Kind::Jpg, &frag, true, 4096),
            Verdict::Fragmented { at: 4096 }
        );
        let mut whole = j.clone();
        whole.extend_from_slice(&[0x43, 0xFF, 0x00, 0x44, 0xFF, 0xD9, 9, 9]);
        assert_eq!(
            ok_len(validate(Kind::Jpg, &whole, true, 4096)),
            whole.len() as u64 - 2
        );
    }

    #[test]
    fn sqlite_from_header() {
        let mut h = b"SQLite format 3\0".to_vec();
        h.extend_from_slice(&[0x10, 0]); // 4096
        h.resize(100, 0);
        h[24..28].copy_from_slice(&5u32.to_be_bytes());
        h[28..32].copy_from_slice(&7u32.to_be_bytes());
        h[92..96].copy_from_slice(&5u32.to_be_bytes());
        assert_eq!(ok_len(validate(Kind::Sqlite, &h, false, 4096)), 7 * 4096);
        h[92] = 1; // stale page count: not trusted
        assert_eq!(validate(Kind::Sqlite, &h, false, 4096), Verdict::Invalid);
    }

    #[test]
    fn text_kinds() {
        let pem = b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\nxx";
        assert_eq!(
            ok_len(validate(Kind::Pem, pem, true, 4096)),
            pem.len() as u64 - 2
        );
        let json = br#"{"a":"}\"","b":[1,{"c":2}]}"#;
        let mut d = json.to_vec();
        d.extend_from_slice(b"\0\0");
        assert_eq!(
            ok_len(validate(Kind::Json, &d, true, 4096)),
            json.len() as u64
        );
        let log = b"{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"t\"}\n\0\0";
        assert_eq!(
            ok_len(validate(Kind::Log, log, true, 4096)),
            log.len() as u64 - 2
        );
        let sh = b"#!/bin/sh\necho hi\n\0\0\0";
        assert_eq!(ok_len(validate(Kind::Sh, sh, true, 4096)), 18);
    }
}

//! Expert Witness Format, version 1 (`.E01`), as written by ewfacquire and
//! EnCase 6: the logical media split into chunks, each stored or
//! zlib-compressed, in one or more segment files.
//!
//! Format facts relied on:
//! - A segment file starts with the 8-byte signature `EVF 09 0D 0A FF 00`,
//!   a byte 1, the segment number (u16 LE, 1 for `.E01`) and two zero bytes.
//! - Then a chain of sections from offset 13. Each starts with a 76-byte
//!   descriptor: type (16 bytes, NUL-padded ASCII), the absolute offset of
//!   the next descriptor in this file (u64), this section's size including
//!   the descriptor (u64), 40 bytes padding, Adler-32 of the first 72 bytes.
//!   `next` and `done` end a segment; they point at themselves.
//! - `header2` (UTF-16LE) and `header` (ASCII) are zlib streams of a
//!   tab-separated table: a line of keys (`c` case number, `n` evidence
//!   number, `e` examiner, `a` description, `t` notes, `av` software
//!   version, `ov` OS, `m` acquisition date, `u` system date) and a line of
//!   values. header2 dates are seconds since 1970; header dates are
//!   `YYYY M D h m s`.
//! - `volume` (or `disk`): chunk count (u32 at 4), sectors per chunk (u32
//!   at 8), bytes per sector (u32 at 12), sector count (u64 at 16).
//! - `sectors` holds chunk data. `table` lists the chunks of this segment:
//!   entry count (u32 at 0), base offset (u64 at 8), Adler-32 of the first
//!   20 bytes (at 20), then one u32 per chunk whose bit 31 marks a
//!   compressed chunk and whose low 31 bits plus the base offset locate it
//!   in this file, then the Adler-32 of the entries. `table2` repeats it.
//!   A chunk's stored size is the distance to the next entry; the last one
//!   ends where its `sectors` section ends.
//! - A stored chunk is its data followed by the Adler-32 of the data (LE);
//!   a compressed chunk is a zlib stream, whose trailer is the Adler-32 of
//!   the inflated data (BE).
//! - `hash` holds the MD5 of the media (16 bytes); `digest` the MD5 and
//!   SHA-1 (16 + 20 bytes). All-zero means "not computed".
//! - Segment files are named `.E01`…`.E99`, then `.EAA`…`.EZZ`, `.FAA`…
//!   up to `.ZZZ` (lower case when the first one is).

use super::cache::{BlockCache, CACHE_BYTES};
use super::evidence::{AcquisitionInfo, ContainerWarning, StoredHashes, WarningLog};
use super::raw::RawFile;
use super::{ReadAt, Source};
use crate::util::bytes::{le32, le64, slice};
use crate::util::time::Timestamp;
use crate::{Error, Result};
use rayon::prelude::*;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const EVF_SIGNATURE: [u8; 8] = *b"EVF\x09\x0d\x0a\xff\x00";
const FILE_HEADER: u64 = 13;
const DESCRIPTOR: u64 = 76;
/// `.E01`…`.E99` (99) plus `.EAA`…`.ZZZ` (22 × 26 × 26).
pub const MAX_SEGMENTS: usize = 99 + 22 * 26 * 26;
/// Bound on sections walked in one segment file.
const MAX_SECTIONS: usize = 1 << 20;
/// Largest chunk accepted (sectors per chunk × bytes per sector).
const MAX_CHUNK: u64 = 64 << 20;
/// Largest header text read or inflated.
const MAX_HEADER: u64 = 1 << 20;
/// Most chunks in all tables (2^31 chunks of 32 KiB is 64 TiB of media).
const MAX_CHUNKS: u64 = 1 << 31;
/// Reads spanning at least this many chunks inflate them in parallel.
const PARALLEL_CHUNKS: usize = 4;

/// Adler-32 (RFC 1950), as EWF stores it for descriptors, tables and chunks.
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for block in data.chunks(5552) {
        for &x in block {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

pub fn is_ewf(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 8];
    src.read_exact_at(0, &mut m).is_ok() && m == EVF_SIGNATURE
}

/// The extension of segment `index` (0 for the first) in the set whose
/// first extension is `first` (`E01`, `e01`, also `s01` for SMART).
pub fn segment_extension(first: &str, index: usize) -> Option<String> {
    let b = first.as_bytes();
    if b.len() != 3 || !b[0].is_ascii_alphabetic() || &b[1..] != b"01" {
        return None;
    }
    let n = index + 1;
    if n <= 99 {
        return Some(format!("{}{n:02}", b[0] as char));
    }
    let lower = b[0].is_ascii_lowercase();
    let k = n - 100;
    let first_letter = b[0].to_ascii_uppercase() as usize + k / (26 * 26);
    if first_letter > b'Z' as usize {
        return None;
    }
    let s: String = [
        first_letter as u8,
        b'A' + (k / 26 % 26) as u8,
        b'A' + (k % 26) as u8,
    ]
    .iter()
    .map(|&c| c as char)
    .collect();
    Some(if lower { s.to_ascii_lowercase() } else { s })
}

/// The segment files of the set that starts at `first`, in order, up to
/// the first missing name.
pub fn segment_paths(first: &Path) -> Vec<PathBuf> {
    let mut out = vec![first.to_path_buf()];
    let Some(ext) = first.extension().and_then(|e| e.to_str()) else {
        return out;
    };
    for i in 1..MAX_SEGMENTS {
        let Some(e) = segment_extension(ext, i) else {
            break;
        };
        let p = first.with_extension(e);
        if !p.is_file() {
            break;
        }
        out.push(p);
    }
    out
}

/// Where one chunk's bytes live.
#[derive(Clone, Copy, Debug)]
struct ChunkLoc {
    segment: u32,
    offset: u64,
    stored_len: u32,
    compressed: bool,
}

/// What the section walk gathers over all segments.
#[derive(Default)]
struct Gathered {
    chunks: Vec<ChunkLoc>,
    header2: Option<Vec<u8>>,
    header: Option<Vec<u8>>,
    volume: Option<(u32, u32, u32, u64)>,
    md5: Option<[u8; 16]>,
    sha1: Option<[u8; 20]>,
    warnings: Vec<ContainerWarning>,
    done: bool,
}

/// One parsed `table`/`table2` section: entries and whether its checksums hold.
struct Table {
    base: u64,
    entries: Vec<u32>,
    ok: bool,
}

/// A read-only EWF1 image (all segments), read as its logical media.
pub struct EwfImage {
    segments: Vec<Source>,
    chunks: Vec<ChunkLoc>,
    chunk_size: u64,
    media_size: u64,
    cache: BlockCache,
    warnings: WarningLog,
    pub acquisition: AcquisitionInfo,
    pub stored_hashes: StoredHashes,
}

impl EwfImage {
    /// Open the set whose first segment is `first`; the other segments are
    /// found by name next to it and checked by their segment number.
    pub fn open(first: &Path, warnings: WarningLog) -> Result<Self> {
        let mut segs: Vec<(String, Source)> = Vec::new();
        for p in segment_paths(first) {
            segs.push((p.display().to_string(), Arc::new(RawFile::open(&p)?)));
        }
        Self::from_segments(segs, warnings)
    }

    /// Read a set from already opened segments (named for messages), in
    /// order; each must carry its own segment number.
    pub fn from_segments(segs: Vec<(String, Source)>, warnings: WarningLog) -> Result<Self> {
        for (i, (name, f)) in segs.iter().enumerate() {
            let mut h = [0u8; FILE_HEADER as usize];
            f.read_exact_at(0, &mut h)
                .map_err(|_| Error::corrupt(format!("{name}: shorter than an EWF file header")))?;
            if h[..8] != EVF_SIGNATURE {
                return Err(Error::corrupt(format!(
                    "{name}: not an EWF segment (no EVF signature)"
                )));
            }
            let n = u16::from_le_bytes([h[9], h[10]]) as usize;
            if n != i + 1 {
                return Err(Error::corrupt(format!(
                    "{name}: header says segment {n}, expected {}",
                    i + 1
                )));
            }
        }
        let mut g = Gathered::default();
        for (i, (name, seg)) in segs.iter().enumerate() {
            walk_segment(&**seg, name, i as u32, &mut g);
            if g.done {
                if i + 1 < segs.len() {
                    g.warnings.push(ContainerWarning::Structure(format!(
                        "segment {} ends the set; {} later segment file(s) ignored",
                        i + 1,
                        segs.len() - i - 1
                    )));
                }
                break;
            }
        }
        if !g.done {
            g.warnings.push(ContainerWarning::Structure(format!(
                "no `done` section in {} segment(s): the set is incomplete or truncated",
                segs.len()
            )));
        }
        let segments = segs.into_iter().map(|s| s.1).collect();
        Self::assemble(segments, g, warnings)
    }

    fn assemble(segments: Vec<Source>, g: Gathered, warnings: WarningLog) -> Result<Self> {
        let (_count, spc, bps, sectors) = g
            .volume
            .ok_or_else(|| Error::corrupt("EWF: no volume section"))?;
        let chunk_size = u64::from(spc) * u64::from(bps);
        if spc == 0 || bps == 0 || !(512..=MAX_CHUNK).contains(&chunk_size) {
            return Err(Error::corrupt(format!(
                "EWF: volume section gives {spc} sectors per chunk of {bps} bytes"
            )));
        }
        let media_size = sectors
            .checked_mul(u64::from(bps))
            .ok_or_else(|| Error::corrupt("EWF: sector count overflows"))?;
        let expected = media_size.div_ceil(chunk_size);
        let mut chunks = g.chunks;
        let found = chunks.len() as u64;
        if found < expected {
            warnings.push(ContainerWarning::MissingBlocks {
                first: found,
                count: expected - found,
            });
        } else if found > expected {
            warnings.push(ContainerWarning::Structure(format!(
                "tables list {found} chunks, the volume needs {expected}; the extra ones are ignored"
            )));
            chunks.truncate(expected as usize);
        }
        for w in g.warnings {
            warnings.push(w);
        }
        let mut acquisition = g
            .header2
            .as_deref()
            .map(|t| parse_header(&decode_utf16(t), true))
            .or_else(|| {
                g.header
                    .as_deref()
                    .map(|t| parse_header(&String::from_utf8_lossy(t), false))
            })
            .unwrap_or_default();
        acquisition.bytes_per_sector = Some(bps);
        acquisition.sector_count = Some(sectors);
        let nonzero = |b: &[u8]| b.iter().any(|&x| x != 0);
        let stored_hashes = StoredHashes {
            md5: g
                .md5
                .filter(|h| nonzero(h))
                .map(|h| crate::util::bytes::hex(&h)),
            sha1: g
                .sha1
                .filter(|h| nonzero(h))
                .map(|h| crate::util::bytes::hex(&h)),
        };
        Ok(EwfImage {
            segments,
            chunks,
            chunk_size,
            media_size,
            cache: BlockCache::new(CACHE_BYTES),
            warnings,
            acquisition,
            stored_hashes,
        })
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The inflated (or stored) data of chunk `i`; zeros where unreadable.
    fn chunk(&self, i: u64) -> Arc<Vec<u8>> {
        if let Some(c) = self.cache.get(i) {
            return c;
        }
        let want = self
            .chunk_size
            .min(self.media_size.saturating_sub(i * self.chunk_size)) as usize;
        let data = match self.chunks.get(i as usize) {
            Some(loc) => self.decode(i, loc, want).unwrap_or_else(|reason| {
                self.warnings
                    .push(ContainerWarning::BlockUnreadable { block: i, reason });
                vec![0u8; want]
            }),
            None => vec![0u8; want],
        };
        let data = Arc::new(data);
        self.cache.put(i, data.clone());
        data
    }

    fn decode(&self, i: u64, loc: &ChunkLoc, want: usize) -> std::result::Result<Vec<u8>, String> {
        let seg = self
            .segments
            .get(loc.segment as usize)
            .ok_or("no such segment")?;
        let len = u64::from(loc.stored_len).min(seg.size().saturating_sub(loc.offset));
        let mut raw = vec![0u8; len as usize];
        seg.read_exact_at(loc.offset, &mut raw)
            .map_err(|e| format!("segment {} offset {}: {e}", loc.segment + 1, loc.offset))?;
        if !loc.compressed {
            if raw.len() < want {
                return Err(format!(
                    "stored chunk is {} bytes, short of {want}",
                    raw.len()
                ));
            }
            let data = raw[..want].to_vec();
            let stored = le32(&raw, want);
            let computed = adler32(&data);
            if raw.len() >= want + 4 && stored != computed {
                self.warnings.push(ContainerWarning::ChunkChecksum {
                    chunk: i,
                    stored,
                    computed,
                });
            }
            return Ok(data);
        }
        let (mut data, trailer) = inflate_zlib(&raw, self.chunk_size as usize)?;
        let computed = adler32(&data);
        if let Some(stored) = trailer.filter(|&s| s != computed) {
            self.warnings.push(ContainerWarning::ChunkChecksum {
                chunk: i,
                stored,
                computed,
            });
        }
        data.resize(want, 0);
        Ok(data)
    }
}

/// Inflate one zlib stream of at most `limit` output bytes; also return the
/// stream's Adler-32 trailer when present.
fn inflate_zlib(raw: &[u8], limit: usize) -> std::result::Result<(Vec<u8>, Option<u32>), String> {
    if raw.len() < 2 || raw[0] & 0x0f != 8 || (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 != 0
    {
        return Err("not a zlib stream".into());
    }
    let mut d = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(limit);
    let st = d
        .decompress_vec(&raw[2..], &mut out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("inflate: {e}"))?;
    if st != flate2::Status::StreamEnd {
        return Err(format!("inflate stopped after {} bytes", out.len()));
    }
    let end = 2usize.saturating_add(d.total_in() as usize);
    let trailer = raw
        .get(end..end.saturating_add(4))
        .map(|t| u32::from_be_bytes([t[0], t[1], t[2], t[3]]));
    Ok((out, trailer))
}

/// Walk one segment's section chain, gathering into `g`.
fn walk_segment(seg: &dyn ReadAt, name: &str, index: u32, g: &mut Gathered) {
    let size = seg.size();
    let mut off = FILE_HEADER;
    // The sectors section seen last: chunks of the next table end by it.
    let mut sectors_end: Option<u64> = None;
    let mut last_table: Option<(Table, u64, u64)> = None;
    for _ in 0..MAX_SECTIONS {
        let mut d = [0u8; DESCRIPTOR as usize];
        if seg.read_exact_at(off, &mut d).is_err() {
            g.warnings.push(ContainerWarning::Structure(format!(
                "{name}: truncated at section offset {off} (file is {size} bytes); later sections missing"
            )));
            break;
        }
        if adler32(&d[..72]) != le32(&d, 72) {
            g.warnings.push(ContainerWarning::Structure(format!(
                "{name}: section descriptor at {off} fails its checksum; rest of segment skipped"
            )));
            break;
        }
        let kind =
            String::from_utf8_lossy(crate::util::bytes::cstr(&d, 0, 16).as_slice()).into_owned();
        let next = le64(&d, 16);
        let sec_size = le64(&d, 24);
        let data_off = off + DESCRIPTOR;
        let data_len = sec_size
            .saturating_sub(DESCRIPTOR)
            .min(size.saturating_sub(data_off));
        match kind.as_str() {
            "next" => break,
            "done" => {
                g.done = true;
                break;
            }
            "header2" | "header" => read_header(seg, data_off, data_len, &kind, g),
            "volume" | "disk" if g.volume.is_none() => {
                let b = read_bytes(seg, data_off, data_len.min(1052));
                if b.len() >= 24 {
                    g.volume = Some((le32(&b, 4), le32(&b, 8), le32(&b, 12), le64(&b, 16)));
                }
            }
            "sectors" => sectors_end = Some(off.saturating_add(sec_size).min(size)),
            "table" => {
                flush_table(&mut last_table, index, g);
                let t = read_table(seg, data_off, data_len);
                last_table = Some((t, sectors_end.unwrap_or(off).min(off), off));
            }
            "table2" => {
                let t2 = read_table(seg, data_off, data_len);
                if let Some((t, end, t_off)) = last_table.take() {
                    let use2 = !t.ok && t2.ok;
                    if use2 {
                        g.warnings.push(ContainerWarning::Structure(format!(
                            "{name}: table at {t_off} is damaged; its copy table2 at {off} is used"
                        )));
                    }
                    last_table = Some((if use2 { t2 } else { t }, end, t_off));
                }
            }
            "hash" => {
                let b = read_bytes(seg, data_off, data_len.min(16));
                g.md5 = g.md5.or_else(|| b.get(..16)?.try_into().ok());
            }
            "digest" => {
                let b = read_bytes(seg, data_off, data_len.min(36));
                if let (Some(m), Some(s)) = (b.get(..16), b.get(16..36)) {
                    g.md5 = m.try_into().ok();
                    g.sha1 = s.try_into().ok();
                }
            }
            _ => {}
        }
        if next >= size {
            g.warnings.push(ContainerWarning::Structure(format!(
                "{name}: truncated at section offset {next} (file is {size} bytes); later sections missing"
            )));
            break;
        }
        if next <= off {
            g.warnings.push(ContainerWarning::Structure(format!(
                "{name}: section `{kind}` at {off} points to {next}, not forward; rest of segment skipped"
            )));
            break;
        }
        off = next;
    }
    flush_table(&mut last_table, index, g);
}

fn read_bytes(seg: &dyn ReadAt, off: u64, len: u64) -> Vec<u8> {
    let mut v = vec![0u8; len.min(MAX_HEADER.max(1 << 26)) as usize];
    let n = seg.read_at(off, &mut v).unwrap_or(0);
    v.truncate(n);
    v
}

fn read_header(seg: &dyn ReadAt, off: u64, len: u64, kind: &str, g: &mut Gathered) {
    let slot = if kind == "header2" {
        &mut g.header2
    } else {
        &mut g.header
    };
    if slot.is_some() {
        return;
    }
    let raw = read_bytes(seg, off, len.min(MAX_HEADER));
    let mut text = Vec::new();
    match flate2::read::ZlibDecoder::new(&raw[..])
        .take(MAX_HEADER)
        .read_to_end(&mut text)
    {
        Ok(_) => *slot = Some(text),
        Err(e) => g.warnings.push(ContainerWarning::Structure(format!(
            "{kind} section at {off} does not inflate ({e}); its metadata is skipped"
        ))),
    }
}

fn read_table(seg: &dyn ReadAt, off: u64, len: u64) -> Table {
    let head = read_bytes(seg, off, 24.min(len));
    let count = u64::from(le32(&head, 0));
    let base = le64(&head, 8);
    let head_ok = head.len() == 24 && adler32(&head[..20]) == le32(&head, 20);
    // Entries must fit in the section as the descriptor sizes it.
    let fit = len.saturating_sub(24) / 4;
    let n = count.min(fit);
    let body = read_bytes(seg, off + 24, n * 4 + 4);
    let entries: Vec<u32> = (0..n as usize).map(|i| le32(&body, i * 4)).collect();
    let body_ok = body.len() as u64 == n * 4 + 4
        && adler32(slice(&body, 0, n as usize * 4)) == le32(&body, n as usize * 4);
    Table {
        base,
        entries,
        ok: head_ok && body_ok && n == count,
    }
}

/// Turn the pending table of a segment into chunk locations.
fn flush_table(pending: &mut Option<(Table, u64, u64)>, segment: u32, g: &mut Gathered) {
    let Some((t, end, _)) = pending.take() else {
        return;
    };
    if !t.ok {
        g.warnings.push(ContainerWarning::Structure(format!(
            "segment {}: chunk table fails its checksum and has no good copy; used as read",
            segment + 1
        )));
    }
    let starts: Vec<(u64, bool)> = t
        .entries
        .iter()
        .map(|&e| {
            (
                t.base.saturating_add(u64::from(e & 0x7fff_ffff)),
                e >> 31 == 1,
            )
        })
        .collect();
    for (k, &(start, compressed)) in starts.iter().enumerate() {
        if g.chunks.len() as u64 >= MAX_CHUNKS {
            g.warnings.push(ContainerWarning::Structure(format!(
                "more than {MAX_CHUNKS} chunks; the rest are ignored"
            )));
            return;
        }
        let next = starts.get(k + 1).map(|s| s.0).unwrap_or(end);
        let stored_len = next.saturating_sub(start).min(MAX_CHUNK + (MAX_CHUNK >> 4)) as u32;
        g.chunks.push(ChunkLoc {
            segment,
            offset: start,
            stored_len,
            compressed,
        });
    }
}

/// header2 text is UTF-16LE with a byte-order mark.
fn decode_utf16(b: &[u8]) -> String {
    let b = b.strip_prefix(&[0xff, 0xfe]).unwrap_or(b);
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The `main` category: a line of keys, then a line of values.
fn parse_header(text: &str, utc_dates: bool) -> AcquisitionInfo {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let Some(mi) = lines.iter().position(|l| *l == "main") else {
        return AcquisitionInfo::default();
    };
    let keys: Vec<&str> = lines
        .get(mi + 1)
        .map(|l| l.split('\t').collect())
        .unwrap_or_default();
    let vals: Vec<&str> = lines
        .get(mi + 2)
        .map(|l| l.split('\t').collect())
        .unwrap_or_default();
    let mut a = AcquisitionInfo::default();
    for (k, v) in keys.iter().zip(vals.iter()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let v = v.to_string();
        let date = |v: String| -> String {
            match v.parse::<i64>() {
                Ok(s) if utc_dates => Timestamp::new(s, 0).rfc3339().replace(".000000000Z", "Z"),
                _ => v,
            }
        };
        match *k {
            "c" => a.case_number = Some(v),
            "n" => a.evidence_number = Some(v),
            "e" => a.examiner = Some(v),
            "a" => a.description = Some(v),
            "t" => a.notes = Some(v),
            "av" => a.software = Some(v),
            "ov" => a.os = Some(v),
            "m" => a.acquisition_date = Some(date(v)),
            "u" => a.system_date = Some(date(v)),
            _ => {}
        }
    }
    a
}

impl ReadAt for EwfImage {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.media_size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.media_size - pos) as usize;
        let cs = self.chunk_size;
        // Cut the buffer at chunk boundaries: (chunk, offset in chunk, piece).
        let mut pieces = Vec::new();
        let mut rest = &mut buf[..n];
        let mut p = pos;
        while !rest.is_empty() {
            let in_chunk = (p % cs) as usize;
            let take = rest.len().min(cs as usize - in_chunk);
            let (a, b) = rest.split_at_mut(take);
            pieces.push((p / cs, in_chunk, a));
            rest = b;
            p += take as u64;
        }
        let fill = |(c, off, piece): (u64, usize, &mut [u8])| {
            let data = self.chunk(c);
            let avail = data.get(off..).unwrap_or(&[]);
            let k = avail.len().min(piece.len());
            piece[..k].copy_from_slice(&avail[..k]);
            piece[k..].fill(0);
        };
        if pieces.len() >= PARALLEL_CHUNKS {
            pieces.into_par_iter().for_each(fill);
        } else {
            pieces.into_iter().for_each(fill);
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.media_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&vec![0xffu8; 100_000]), {
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 255) % 65521;
                b = (b + a) % 65521;
            }
            ((b << 16) | a) as u32
        });
    }

    #[test]
    fn segment_extensions_follow_encase_naming() {
        let e = |i| segment_extension("E01", i).unwrap();
        assert_eq!(e(0), "E01");
        assert_eq!(e(98), "E99");
        assert_eq!(e(99), "EAA");
        assert_eq!(e(100), "EAB");
        assert_eq!(e(99 + 26), "EBA");
        assert_eq!(e(99 + 26 * 26), "FAA");
        assert_eq!(segment_extension("e01", 99).unwrap(), "eaa");
        assert_eq!(segment_extension("E01", MAX_SEGMENTS - 1).unwrap(), "ZZZ");
        assert!(segment_extension("E01", MAX_SEGMENTS).is_none());
        assert!(segment_extension("E02", 1).is_none());
        assert!(segment_extension("img", 1).is_none());
    }

    #[test]
    fn header_text_fields_are_mapped() {
        let t = "1\r\nmain\r\nc\tn\ta\te\tt\tav\tov\tm\tu\tp\r\ncase42\tev1\tdesc\texaminer\tnotes\t20140813\tLinux\t2026 12 6 2 1 56\t2026 12 6 2 1 56\t0\r\n\r\n";
        let a = parse_header(t, false);
        assert_eq!(a.case_number.as_deref(), Some("case42"));
        assert_eq!(a.evidence_number.as_deref(), Some("ev1"));
        assert_eq!(a.description.as_deref(), Some("desc"));
        assert_eq!(a.examiner.as_deref(), Some("examiner"));
        assert_eq!(a.notes.as_deref(), Some("notes"));
        assert_eq!(a.software.as_deref(), Some("20140813"));
        assert_eq!(a.acquisition_date.as_deref(), Some("2026 12 6 2 1 56"));
        let b = parse_header("3\nmain\nc\tm\nx\t0\n", true);
        assert_eq!(b.acquisition_date.as_deref(), Some("1970-01-01T00:00:00Z"));
    }

    #[test]
    fn garbage_zlib_is_an_error_not_a_panic() {
        assert!(inflate_zlib(&[], 10).is_err());
        assert!(inflate_zlib(&[0x78, 0x9c, 0xff, 0xff], 10).is_err());
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut enc, &[7u8; 1000]).unwrap();
        let z = enc.finish().unwrap();
        let (d, t) = inflate_zlib(&z, 1000).unwrap();
        assert_eq!(d, vec![7u8; 1000]);
        assert_eq!(t, Some(adler32(&d)));
        // Output beyond the limit is not produced.
        assert!(inflate_zlib(&z, 10).is_err());
    }
}

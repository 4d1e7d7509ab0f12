//! QEMU copy-on-write images, versions 2 and 3 (`qemu-img create -f qcow2`).
//!
//! Format facts relied on (all integers big-endian):
//! - Header: magic `QFI\xfb`, version (u32 at 4), backing file name offset
//!   (u64 at 8) and length (u32 at 16), cluster_bits (u32 at 20), virtual
//!   size (u64 at 24), encryption method (u32 at 32), L1 entry count (u32
//!   at 36), L1 table offset (u64 at 40), snapshot count (u32 at 60) and
//!   table offset (u64 at 64). Version 3 adds incompatible features (u64 at
//!   72: bit 0 dirty, 1 corrupt, 2 external data file, 3 compression type,
//!   4 extended L2), the header length (u32 at 100) and the compression
//!   type (byte at 104: 0 zlib, 1 zstd).
//! - A guest offset splits into an L1 index, an L2 index and an offset in
//!   the cluster; an L2 table fills one cluster (8-byte entries, 16 with
//!   extended L2).
//! - L1 entry: bits 9–55 locate the L2 table; 0 means unallocated.
//! - L2 entry: bit 62 marks a compressed cluster. Otherwise bits 9–55 are
//!   the host cluster offset, and in v3 bit 0 means "reads as zeros". An
//!   entry with neither reads from the backing file (or as zeros without
//!   one). A compressed entry keeps the host byte offset in its low
//!   `62 - (cluster_bits - 8)` bits and, above them, the count of further
//!   512-byte sectors the compressed stream spans; the stream is raw
//!   deflate (zlib type) or a zstd frame.
//! - Extended L2: the entry is followed by a 64-bit bitmap, 32 subclusters:
//!   bit i (0–31) "allocated", bit 32+i "reads as zeros"; an unset pair
//!   reads from the backing file.
//! - Snapshot table entries: L1 offset (u64), L1 size (u32), id length
//!   (u16), name length (u16), date seconds (u32), nanoseconds (u32), VM
//!   clock (u64), VM state size (u32), extra data length (u32), extra data,
//!   id, name, padded to 8 bytes.

use super::cache::{BlockCache, CACHE_BYTES};
use super::evidence::{ContainerWarning, WarningLog};
use super::ReadAt;
use super::Source;
use crate::util::bytes::{be32, be64, slice};
use crate::{Error, Result};
use serde::Serialize;
use std::io::{self, Read};
use std::sync::Arc;

pub const MAGIC: [u8; 4] = *b"QFI\xfb";
const L2_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
const INCOMPAT_DIRTY: u64 = 1;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_DATA_FILE: u64 = 1 << 2;
const INCOMPAT_COMPRESSION: u64 = 1 << 3;
const INCOMPAT_EXTL2: u64 = 1 << 4;
const KNOWN_INCOMPAT: u64 = 0x1f;
/// Largest L1 table read at open (4 Mi entries: 256 TiB with 64 KiB clusters).
const MAX_L1_ENTRIES: u64 = 1 << 22;
const MAX_SNAPSHOTS: u32 = 10_000;
/// L2 tables kept decoded (in bytes).
const L2_CACHE_BYTES: usize = 8 << 20;

pub fn is_qcow2(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 4];
    src.read_exact_at(0, &mut m).is_ok() && m == MAGIC
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Zlib,
    Zstd,
}

/// An internal snapshot, as listed in the snapshot table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub name: String,
    /// Seconds since 1970 when it was taken.
    pub date: u32,
    pub vm_state_size: u32,
}

/// The header fields the reader uses.
#[derive(Clone, Debug)]
pub struct Header {
    pub version: u32,
    pub cluster_bits: u32,
    pub size: u64,
    pub l1_entries: u64,
    pub l1_offset: u64,
    pub backing: Option<String>,
    pub compression: Compression,
    pub extended_l2: bool,
    pub snapshots: Vec<Snapshot>,
}

/// Parse the header; every field is checked before use.
pub fn read_header(f: &dyn ReadAt, warnings: &WarningLog) -> Result<Header> {
    let h = read(f, 0, 112).map_err(|_| Error::corrupt("qcow2: truncated header"))?;
    if h[..4] != MAGIC {
        return Err(Error::corrupt("qcow2: no QFI magic"));
    }
    let version = be32(&h, 4);
    if version != 2 && version != 3 {
        return Err(Error::Unsupported(format!("qcow2 version {version}")));
    }
    let cluster_bits = be32(&h, 20);
    if !(9..=21).contains(&cluster_bits) {
        return Err(Error::corrupt(format!(
            "qcow2: cluster_bits {cluster_bits}"
        )));
    }
    if be32(&h, 32) != 0 {
        return Err(Error::Unsupported(
            "qcow2 encryption (the key is not part of the evidence)".into(),
        ));
    }
    let incompat = if version >= 3 { be64(&h, 72) } else { 0 };
    if incompat & !KNOWN_INCOMPAT != 0 {
        return Err(Error::Unsupported(format!(
            "qcow2 incompatible feature bits {incompat:#x}"
        )));
    }
    if incompat & INCOMPAT_DATA_FILE != 0 {
        return Err(Error::Unsupported(
            "qcow2 with an external data file".into(),
        ));
    }
    if incompat & INCOMPAT_DIRTY != 0 {
        warnings.push(ContainerWarning::Structure(
            "qcow2 marked dirty (not closed cleanly): refcounts may be stale; data is read as mapped".into(),
        ));
    }
    if incompat & INCOMPAT_CORRUPT != 0 {
        warnings.push(ContainerWarning::Structure(
            "qcow2 marked corrupt by QEMU; data is read as mapped".into(),
        ));
    }
    let header_len = if version >= 3 { be32(&h, 100) } else { 72 };
    let compression = match (
        incompat & INCOMPAT_COMPRESSION != 0,
        header_len > 104,
        h[104],
    ) {
        (true, true, 1) => Compression::Zstd,
        (true, _, t) if t != 0 => {
            return Err(Error::Unsupported(format!("qcow2 compression type {t}")))
        }
        _ => Compression::Zlib,
    };
    let cluster = 1u64 << cluster_bits;
    let size = be64(&h, 24);
    let l2_entries = cluster
        / if incompat & INCOMPAT_EXTL2 != 0 {
            16
        } else {
            8
        };
    let need = size.div_ceil(cluster).div_ceil(l2_entries);
    let l1_entries = u64::from(be32(&h, 36));
    if l1_entries < need || l1_entries > MAX_L1_ENTRIES {
        return Err(Error::corrupt(format!(
            "qcow2: L1 table of {l1_entries} entries for a {size}-byte disk (needs {need}, at most {MAX_L1_ENTRIES})"
        )));
    }
    let backing = read_backing_name(f, be64(&h, 8), be32(&h, 16))?;
    let snapshots = read_snapshots(f, be64(&h, 64), be32(&h, 60), warnings);
    Ok(Header {
        version,
        cluster_bits,
        size,
        l1_entries,
        l1_offset: be64(&h, 40),
        backing,
        compression,
        extended_l2: incompat & INCOMPAT_EXTL2 != 0,
        snapshots,
    })
}

fn read(f: &dyn ReadAt, pos: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    f.read_exact_at(pos, &mut v)?;
    Ok(v)
}

fn read_backing_name(f: &dyn ReadAt, off: u64, len: u32) -> Result<Option<String>> {
    if off == 0 || len == 0 {
        return Ok(None);
    }
    if len > 1023 {
        return Err(Error::corrupt(format!(
            "qcow2: backing file name of {len} bytes"
        )));
    }
    let b = read(f, off, len as usize)
        .map_err(|_| Error::corrupt("qcow2: backing file name past the end"))?;
    Ok(Some(String::from_utf8_lossy(&b).into_owned()))
}

fn read_snapshots(f: &dyn ReadAt, mut off: u64, n: u32, warnings: &WarningLog) -> Vec<Snapshot> {
    let mut out = Vec::new();
    if n > MAX_SNAPSHOTS {
        warnings.push(ContainerWarning::Structure(format!(
            "qcow2 claims {n} snapshots; none listed"
        )));
        return out;
    }
    for i in 0..n {
        let Ok(h) = read(f, off, 40) else {
            warnings.push(ContainerWarning::Structure(format!(
                "qcow2 snapshot {i} past the end of the file; later ones not listed"
            )));
            break;
        };
        let id_len = u64::from(u16::from_be_bytes([h[12], h[13]]));
        let name_len = u64::from(u16::from_be_bytes([h[14], h[15]]));
        let extra = u64::from(be32(&h, 36));
        let names_at = off + 40 + extra;
        let Ok(names) = read(f, names_at, (id_len + name_len) as usize) else {
            warnings.push(ContainerWarning::Structure(format!(
                "qcow2 snapshot {i}: names past the end of the file"
            )));
            break;
        };
        out.push(Snapshot {
            id: String::from_utf8_lossy(slice(&names, 0, id_len as usize)).into_owned(),
            name: String::from_utf8_lossy(slice(&names, id_len as usize, name_len as usize))
                .into_owned(),
            date: be32(&h, 16),
            vm_state_size: be32(&h, 32),
        });
        off = (names_at + id_len + name_len).next_multiple_of(8);
    }
    out
}

/// Where a piece of the guest disk lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mapping {
    /// At this host offset (already including the offset in the cluster).
    Data(u64),
    /// In a compressed cluster: host offset and stored length of the stream.
    Compressed(u64, u64),
    Zero,
    /// Not in this layer: the backing file's bytes (or zeros).
    Backing,
}

/// One qcow2 layer, read as its guest disk (active state, not snapshots).
pub struct Qcow2Image {
    file: Source,
    name: String,
    pub header: Header,
    l1: Vec<u64>,
    backing: Option<Source>,
    clusters: BlockCache,
    l2_cache: BlockCache,
    warnings: WarningLog,
}

impl Qcow2Image {
    /// Read a layer; `backing` is the opened backing image, when the header
    /// names one (the caller resolves and opens it).
    pub fn new(
        file: Source,
        name: &str,
        header: Header,
        backing: Option<Source>,
        warnings: WarningLog,
    ) -> Result<Self> {
        let l1b = read(&*file, header.l1_offset, (header.l1_entries * 8) as usize)
            .map_err(|_| Error::corrupt(format!("{name}: L1 table past the end of the file")))?;
        let l1 = (0..header.l1_entries as usize)
            .map(|i| be64(&l1b, i * 8))
            .collect();
        Ok(Qcow2Image {
            file,
            name: name.to_string(),
            header,
            l1,
            backing,
            clusters: BlockCache::new(CACHE_BYTES),
            l2_cache: BlockCache::new(L2_CACHE_BYTES),
            warnings,
        })
    }

    fn cluster_size(&self) -> u64 {
        1 << self.header.cluster_bits
    }

    /// Granularity of a mapping: a subcluster with extended L2.
    fn unit(&self) -> u64 {
        if self.header.extended_l2 {
            self.cluster_size() / 32
        } else {
            self.cluster_size()
        }
    }

    fn l2_table(&self, off: u64) -> std::result::Result<Arc<Vec<u8>>, String> {
        if let Some(t) = self.l2_cache.get(off) {
            return Ok(t);
        }
        let t = Arc::new(
            read(&*self.file, off, self.cluster_size() as usize)
                .map_err(|e| format!("L2 table at {off}: {e}"))?,
        );
        self.l2_cache.put(off, t.clone());
        Ok(t)
    }

    /// The mapping of the unit holding guest offset `pos`.
    fn map(&self, pos: u64) -> std::result::Result<Mapping, String> {
        let cs = self.cluster_size();
        let ext = self.header.extended_l2;
        let entry_len = if ext { 16 } else { 8 };
        let per_l2 = cs / entry_len;
        let cluster = pos / cs;
        let l1e = self
            .l1
            .get((cluster / per_l2) as usize)
            .copied()
            .unwrap_or(0);
        let l2_off = l1e & L2_OFFSET_MASK;
        if l2_off == 0 {
            return Ok(Mapping::Backing);
        }
        let t = self.l2_table(l2_off)?;
        let at = ((cluster % per_l2) * entry_len) as usize;
        let e = be64(&t, at);
        if e & COMPRESSED != 0 {
            let x = 62 - (self.header.cluster_bits - 8);
            let host = e & ((1u64 << x) - 1);
            let sectors = (e & !COMPRESSED & !(1u64 << 63)) >> x;
            let len = (sectors + 1) * 512 - (host & 511);
            return Ok(Mapping::Compressed(host, len));
        }
        let host = e & L2_OFFSET_MASK;
        let in_cluster = pos % cs;
        if ext {
            let bitmap = be64(&t, at + 8);
            let sub = in_cluster / (cs / 32);
            return Ok(if bitmap >> sub & 1 == 1 && host != 0 {
                Mapping::Data(host + in_cluster)
            } else if bitmap >> (32 + sub) & 1 == 1 {
                Mapping::Zero
            } else {
                Mapping::Backing
            });
        }
        Ok(if self.header.version >= 3 && e & ZERO_FLAG != 0 {
            Mapping::Zero
        } else if host != 0 {
            Mapping::Data(host + in_cluster)
        } else {
            Mapping::Backing
        })
    }

    fn compressed_cluster(&self, host: u64, len: u64) -> std::result::Result<Arc<Vec<u8>>, String> {
        if let Some(c) = self.clusters.get(host) {
            return Ok(c);
        }
        let len = len.min(self.file.size().saturating_sub(host));
        let raw = read(&*self.file, host, len as usize).map_err(|e| e.to_string())?;
        let cs = self.cluster_size() as usize;
        let mut out = Vec::with_capacity(cs);
        match self.header.compression {
            Compression::Zlib => {
                let mut d = flate2::Decompress::new(false);
                d.decompress_vec(&raw, &mut out, flate2::FlushDecompress::Finish)
                    .map_err(|e| format!("inflate: {e}"))?;
            }
            Compression::Zstd => {
                let mut src = &raw[..];
                let dec = ruzstd::StreamingDecoder::new(&mut src)
                    .map_err(|e| format!("zstd frame: {e}"))?;
                dec.take(cs as u64)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("zstd: {e}"))?;
            }
        }
        if out.len() != cs {
            return Err(format!("inflates to {} bytes, not {cs}", out.len()));
        }
        let out = Arc::new(out);
        self.clusters.put(host, out.clone());
        Ok(out)
    }

    /// Fill `buf` (within one mapping unit) from guest offset `pos`.
    fn fill(&self, pos: u64, buf: &mut [u8]) {
        let res = self.map(pos).and_then(|m| match m {
            Mapping::Zero => {
                buf.fill(0);
                Ok(())
            }
            Mapping::Backing => {
                match &self.backing {
                    Some(b) if pos < b.size() => {
                        let n = ((b.size() - pos) as usize).min(buf.len());
                        b.read_exact_at(pos, &mut buf[..n])
                            .map_err(|e| format!("backing file: {e}"))?;
                        buf[n..].fill(0);
                    }
                    _ => buf.fill(0),
                }
                Ok(())
            }
            Mapping::Data(host) => self
                .file
                .read_exact_at(host, buf)
                .map_err(|e| format!("cluster data at {host}: {e}")),
            Mapping::Compressed(host, len) => {
                let c = self.compressed_cluster(host, len)?;
                let off = (pos % self.cluster_size()) as usize;
                buf.copy_from_slice(slice(&c, off, buf.len()));
                Ok(())
            }
        });
        if let Err(reason) = res {
            buf.fill(0);
            self.warnings.push(ContainerWarning::BlockUnreadable {
                block: pos / self.cluster_size(),
                reason: format!(
                    "{}: cluster {}: {reason}",
                    self.name,
                    pos / self.cluster_size()
                ),
            });
        }
    }
}

impl ReadAt for Qcow2Image {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.header.size;
        if pos >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(size - pos) as usize;
        let unit = self.unit();
        let mut done = 0usize;
        while done < n {
            let p = pos + done as u64;
            let take = ((unit - p % unit) as usize).min(n - done);
            self.fill(p, &mut buf[done..done + take]);
            done += take;
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.header.size
    }
}

/// Longest backing chain followed.
const MAX_CHAIN: usize = 32;

/// Open the qcow2 image at `path` with its backing chain, each backing file
/// looked for next to the image that names it. `chain` holds the images
/// already opened above (for loop detection); `layers` gets one line each.
pub fn open_chain(
    path: &std::path::Path,
    chain: &mut Vec<std::path::PathBuf>,
    warnings: &WarningLog,
    layers: &mut Vec<String>,
) -> Result<Source> {
    use super::sibling::{resolve, Outside};
    let canon = path
        .canonicalize()
        .map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    if chain.contains(&canon) {
        let names: Vec<String> = chain
            .iter()
            .chain(std::iter::once(&canon))
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        return Err(Error::corrupt(format!(
            "qcow2 backing loop: {}",
            names.join(" -> ")
        )));
    }
    if chain.len() >= MAX_CHAIN {
        return Err(Error::corrupt(format!(
            "qcow2 backing chain longer than {MAX_CHAIN}"
        )));
    }
    chain.push(canon);
    let file: Source = Arc::new(super::RawFile::open(path)?);
    let name = path.display().to_string();
    let header = read_header(&*file, warnings).map_err(|e| Error::usage(format!("{name}: {e}")))?;
    let snaps: Vec<String> = header
        .snapshots
        .iter()
        .map(|s| format!("{} '{}'", s.id, s.name))
        .collect();
    layers.push(format!(
        "qcow2 v{} {}: {} bytes, {}-byte clusters, {:?} compression{}{}{}",
        header.version,
        path.file_name().unwrap_or_default().to_string_lossy(),
        header.size,
        1u64 << header.cluster_bits,
        header.compression,
        if header.extended_l2 {
            ", extended L2"
        } else {
            ""
        },
        header
            .backing
            .as_ref()
            .map(|b| format!(", backing '{b}'"))
            .unwrap_or_default(),
        if snaps.is_empty() {
            String::new()
        } else {
            format!(", snapshots: {}", snaps.join(", "))
        },
    ));
    let backing = match &header.backing {
        None => None,
        Some(b) => {
            let what = format!("{name}: backing file");
            let p = resolve(path, b, &what, Outside::ByFileName)?;
            let raw = super::RawFile::open(&p)?;
            Some(if is_qcow2(&raw) {
                drop(raw);
                open_chain(&p, chain, warnings, layers)?
            } else {
                layers.push(format!("raw backing {}: {} bytes", p.display(), raw.size()));
                Arc::new(raw) as Source
            })
        }
    };
    Ok(Arc::new(Qcow2Image::new(
        file,
        &name,
        header,
        backing,
        warnings.clone(),
    )?))
}

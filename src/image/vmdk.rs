//! VMware virtual disks (VMDK): hosted sparse extents (monolithicSparse,
//! twoGbMaxExtentSparse), stream-optimized sparse extents (compressed
//! grains), and flat extents, described by a text descriptor.
//!
//! Format facts relied on (integers little-endian):
//! - A sparse extent starts with a 512-byte header: magic `KDMV`, version
//!   (u32 at 4), flags (u32 at 8: bit 16 compressed grains, bit 17
//!   markers), capacity in sectors (u64 at 12), grain size in sectors (u64
//!   at 20), embedded descriptor offset and size in sectors (u64 at 28, 36),
//!   grain table entries per table (u32 at 44), grain directory offset in
//!   sectors (u64 at 56; all ones means "at the end": the real header is
//!   then the footer, 1024 bytes before the end of the file), compression
//!   algorithm (u16 at 77: 1 = deflate).
//! - Grain directory: u32 sector offsets of grain tables; a grain table:
//!   u32 sector offsets of grains. 0 = not allocated (reads as zeros, no
//!   parent here), 1 = a zero grain.
//! - With compressed grains, a grain table entry points at a marker: the
//!   grain's LBA (u64), the compressed length (u32), then a zlib stream.
//! - The descriptor is text: `createType="…"`, optional
//!   `parentFileNameHint="…"` (a delta disk), and one line per extent in
//!   order: access, size in sectors, type (FLAT, VMFS, SPARSE, VMFSSPARSE,
//!   ZERO), the quoted file name, and for flat extents the start sector in
//!   that file.

use super::cache::{BlockCache, CACHE_BYTES};
use super::evidence::{ContainerWarning, WarningLog};
use super::sibling::{resolve, Outside};
use super::{RawFile, ReadAt, Source};
use crate::util::bytes::{le16, le32, le64};
use crate::{Error, Result};
use std::io;
use std::path::Path;
use std::sync::Arc;

pub const SPARSE_MAGIC: [u8; 4] = *b"KDMV";
pub const DESCRIPTOR_MAGIC: &[u8] = b"# Disk DescriptorFile";
const SECTOR: u64 = 512;
const FLAG_COMPRESSED: u32 = 1 << 16;
const GD_AT_END: u64 = u64::MAX;
/// Largest grain (sectors): 1 MiB.
const MAX_GRAIN: u64 = 2048;
const MAX_GTES: u32 = 1 << 16;
/// Largest grain directory read at open, in entries.
const MAX_GD_ENTRIES: u64 = 1 << 22;
/// Largest descriptor read (bytes) and most extents in one.
const MAX_DESCRIPTOR: u64 = 1 << 20;
const MAX_EXTENTS: usize = 10_000;
/// Grain tables kept decoded, in bytes.
const GT_CACHE_BYTES: usize = 8 << 20;

pub fn is_sparse(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 4];
    src.read_exact_at(0, &mut m).is_ok() && m == SPARSE_MAGIC
}

pub fn is_descriptor(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 21];
    src.read_exact_at(0, &mut m).is_ok() && m == DESCRIPTOR_MAGIC
}

/// One sparse extent file, read as its `capacity` sectors.
pub struct SparseExtent {
    file: Source,
    name: String,
    capacity: u64,
    grain: u64,
    gtes: u32,
    compressed: bool,
    gd: Vec<u32>,
    gt_cache: BlockCache,
    grains: BlockCache,
    warnings: WarningLog,
}

impl SparseExtent {
    pub fn open(file: Source, name: &str, warnings: WarningLog) -> Result<Self> {
        let bad = |m: String| Error::corrupt(format!("{name}: {m}"));
        let mut h = read(&*file, 0, 512).map_err(|_| bad("truncated sparse header".into()))?;
        if h[..4] != SPARSE_MAGIC {
            return Err(bad("no KDMV magic".into()));
        }
        if le64(&h, 56) == GD_AT_END {
            // Stream-optimized with metadata at the end: the footer holds it.
            let at = file
                .size()
                .checked_sub(1024)
                .ok_or_else(|| bad("no footer".into()))?;
            h = read(&*file, at, 512).map_err(|_| bad("footer unreadable".into()))?;
            if h[..4] != SPARSE_MAGIC || le64(&h, 56) == GD_AT_END {
                return Err(bad("grain directory at the end, but no valid footer".into()));
            }
        }
        let capacity = le64(&h, 12);
        let grain = le64(&h, 20);
        let gtes = le32(&h, 44);
        if !grain.is_power_of_two() || !(1..=MAX_GRAIN).contains(&grain) {
            return Err(bad(format!("grain of {grain} sectors")));
        }
        if gtes == 0 || gtes > MAX_GTES {
            return Err(bad(format!("{gtes} entries per grain table")));
        }
        let compressed = le32(&h, 8) & FLAG_COMPRESSED != 0;
        if compressed && le16(&h, 77) != 1 {
            return Err(Error::Unsupported(format!(
                "{name}: VMDK compression algorithm {}",
                le16(&h, 77)
            )));
        }
        let n = capacity.div_ceil(grain).div_ceil(u64::from(gtes));
        if n > MAX_GD_ENTRIES {
            return Err(bad(format!("{capacity} sectors need {n} grain tables")));
        }
        let gd_off = le64(&h, 56)
            .checked_mul(SECTOR)
            .ok_or_else(|| bad("grain directory offset overflows".into()))?;
        let gdb = read(&*file, gd_off, (n * 4) as usize)
            .map_err(|_| bad("grain directory past the end of the file".into()))?;
        let gd = (0..n as usize).map(|i| le32(&gdb, i * 4)).collect();
        Ok(SparseExtent {
            file,
            name: name.to_string(),
            capacity,
            grain,
            gtes,
            compressed,
            gd,
            gt_cache: BlockCache::new(GT_CACHE_BYTES),
            grains: BlockCache::new(CACHE_BYTES),
            warnings,
        })
    }

    fn grain_bytes(&self) -> u64 {
        self.grain * SECTOR
    }

    /// The grain table entry of grain `g` (0 when not allocated).
    fn gte(&self, g: u64) -> std::result::Result<u32, String> {
        let t = g / u64::from(self.gtes);
        let gt_sector = self.gd.get(t as usize).copied().unwrap_or(0);
        if gt_sector == 0 {
            return Ok(0);
        }
        let table = match self.gt_cache.get(t) {
            Some(x) => x,
            None => {
                let off = u64::from(gt_sector) * SECTOR;
                let b = read(&*self.file, off, self.gtes as usize * 4)
                    .map_err(|e| format!("grain table at {off}: {e}"))?;
                let b = Arc::new(b);
                self.gt_cache.put(t, b.clone());
                b
            }
        };
        Ok(le32(&table, ((g % u64::from(self.gtes)) * 4) as usize))
    }

    fn compressed_grain(&self, g: u64, sector: u32) -> std::result::Result<Arc<Vec<u8>>, String> {
        if let Some(x) = self.grains.get(g) {
            return Ok(x);
        }
        let off = u64::from(sector) * SECTOR;
        let m = read(&*self.file, off, 12).map_err(|e| format!("grain marker at {off}: {e}"))?;
        let len = u64::from(le32(&m, 8)).min(self.grain_bytes() * 2 + 1024);
        let z = read(&*self.file, off + 12, len as usize)
            .map_err(|e| format!("grain data at {off}: {e}"))?;
        let mut out = Vec::with_capacity(self.grain_bytes() as usize);
        let mut d = flate2::Decompress::new(true);
        d.decompress_vec(&z, &mut out, flate2::FlushDecompress::Finish)
            .map_err(|e| format!("grain {g}: inflate: {e}"))?;
        out.resize(self.grain_bytes() as usize, 0);
        let out = Arc::new(out);
        self.grains.put(g, out.clone());
        Ok(out)
    }

    /// Fill `buf`, within one grain, from extent offset `pos`.
    fn fill(&self, pos: u64, buf: &mut [u8]) {
        let g = pos / self.grain_bytes();
        let in_grain = pos % self.grain_bytes();
        let res = self.gte(g).and_then(|e| match e {
            0 | 1 => {
                buf.fill(0);
                Ok(())
            }
            s if self.compressed => {
                let data = self.compressed_grain(g, s)?;
                let at = in_grain as usize;
                buf.copy_from_slice(&data[at..at + buf.len()]);
                Ok(())
            }
            s => {
                let off = u64::from(s) * SECTOR + in_grain;
                self.file
                    .read_exact_at(off, buf)
                    .map_err(|e| format!("grain data at {off}: {e}"))
            }
        });
        if let Err(reason) = res {
            buf.fill(0);
            self.warnings.push(ContainerWarning::BlockUnreadable {
                block: g,
                reason: format!("{}: grain {g}: {reason}", self.name),
            });
        }
    }
}

impl ReadAt for SparseExtent {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.size();
        if pos >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(size - pos) as usize;
        let gb = self.grain_bytes();
        let mut done = 0;
        while done < n {
            let p = pos + done as u64;
            let take = ((gb - p % gb) as usize).min(n - done);
            self.fill(p, &mut buf[done..done + take]);
            done += take;
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.capacity.saturating_mul(SECTOR)
    }
}

fn read(f: &dyn ReadAt, pos: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    f.read_exact_at(pos, &mut v)?;
    Ok(v)
}

/// The extent types of a descriptor line (a closed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtentKind {
    Flat,
    Sparse,
    Zero,
}

/// One extent line: size in sectors, kind, file name, start sector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtentLine {
    pub sectors: u64,
    pub kind: ExtentKind,
    pub file: Option<String>,
    pub start: u64,
}

/// A parsed descriptor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    pub create_type: String,
    pub parent_hint: Option<String>,
    pub extents: Vec<ExtentLine>,
}

/// Parse descriptor text; a malformed extent line is an error naming it.
pub fn parse_descriptor(text: &str) -> Result<Descriptor> {
    let mut d = Descriptor::default();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        let val = |k: &str| {
            line.strip_prefix(k).map(|v| {
                v.trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
        };
        if let Some(v) = val("createType") {
            d.create_type = v;
        } else if let Some(v) = val("parentFileNameHint") {
            d.parent_hint = Some(v);
        } else if ["RW ", "RDONLY ", "NOACCESS "]
            .iter()
            .any(|a| line.starts_with(a))
        {
            if d.extents.len() >= MAX_EXTENTS {
                return Err(Error::corrupt(format!(
                    "VMDK descriptor: more than {MAX_EXTENTS} extents"
                )));
            }
            d.extents.push(parse_extent(line).ok_or_else(|| {
                Error::corrupt(format!(
                    "VMDK descriptor line {}: bad extent '{line}'",
                    no + 1
                ))
            })?);
        }
    }
    Ok(d)
}

fn parse_extent(line: &str) -> Option<ExtentLine> {
    let mut it = line.splitn(3, char::is_whitespace);
    let _access = it.next()?;
    let sectors: u64 = it.next()?.trim().parse().ok()?;
    let rest = it.next()?.trim_start();
    let (kind_s, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let kind = match kind_s {
        "FLAT" | "VMFS" => ExtentKind::Flat,
        "SPARSE" | "VMFSSPARSE" => ExtentKind::Sparse,
        "ZERO" => ExtentKind::Zero,
        _ => return None,
    };
    let rest = rest.trim();
    let (file, tail) = match rest.strip_prefix('"') {
        Some(r) => {
            let (f, t) = r.split_once('"')?;
            (Some(f.to_string()), t.trim())
        }
        None if kind == ExtentKind::Zero => (None, rest),
        None => return None,
    };
    let start = if tail.is_empty() {
        0
    } else {
        tail.parse().ok()?
    };
    Some(ExtentLine {
        sectors,
        kind,
        file,
        start,
    })
}

/// Extents laid end to end: (start byte, length, source).
pub struct VmdkImage {
    extents: Vec<(u64, u64, Option<Source>)>,
    size: u64,
}

impl VmdkImage {
    /// Open the disk whose descriptor file (or monolithic sparse file) is
    /// `path`; extents must lie in the same directory.
    pub fn open(path: &Path, warnings: &WarningLog, layers: &mut Vec<String>) -> Result<Self> {
        let name = path.display().to_string();
        let raw = RawFile::open(path)?;
        if is_sparse(&raw) {
            let e = SparseExtent::open(Arc::new(raw), &name, warnings.clone())?;
            layers.push(format!(
                "VMDK sparse extent: {} sectors, {}-sector grains{}",
                e.capacity,
                e.grain,
                if e.compressed {
                    ", compressed (stream-optimized)"
                } else {
                    ""
                }
            ));
            let size = e.size();
            return Ok(VmdkImage {
                extents: vec![(0, size, Some(Arc::new(e)))],
                size,
            });
        }
        if raw.size() > MAX_DESCRIPTOR {
            return Err(Error::corrupt(format!(
                "{name}: descriptor larger than 1 MiB"
            )));
        }
        let text = read(&raw, 0, raw.size() as usize)
            .map_err(|e| Error::io(format!("reading {name}"), e))?;
        let d = parse_descriptor(&String::from_utf8_lossy(&text))
            .map_err(|e| Error::usage(format!("{name}: {e}")))?;
        if let Some(p) = &d.parent_hint {
            return Err(Error::Unsupported(format!(
                "{name}: VMDK delta disk (parent '{p}'); open the parent disk instead"
            )));
        }
        layers.push(format!(
            "VMDK descriptor: createType {}, {} extent(s)",
            d.create_type,
            d.extents.len()
        ));
        Self::from_extents(path, &d, warnings)
    }

    fn from_extents(path: &Path, d: &Descriptor, warnings: &WarningLog) -> Result<Self> {
        let name = path.display().to_string();
        let mut extents = Vec::with_capacity(d.extents.len());
        let mut at = 0u64;
        for (i, e) in d.extents.iter().enumerate() {
            let len = e
                .sectors
                .checked_mul(SECTOR)
                .filter(|l| at.checked_add(*l).is_some());
            let len =
                len.ok_or_else(|| Error::corrupt(format!("{name}: extent {} too large", i + 1)))?;
            let src: Option<Source> = match (e.kind, &e.file) {
                (ExtentKind::Zero, _) => None,
                (_, None) => {
                    return Err(Error::corrupt(format!(
                        "{name}: extent {} has no file",
                        i + 1
                    )))
                }
                (kind, Some(f)) => {
                    let p = resolve(path, f, &format!("{name}: extent"), Outside::Refuse)?;
                    let file: Source = Arc::new(RawFile::open(&p)?);
                    let s: Source = if kind == ExtentKind::Sparse {
                        Arc::new(SparseExtent::open(
                            file,
                            &p.display().to_string(),
                            warnings.clone(),
                        )?)
                    } else {
                        let start = e.start.saturating_mul(SECTOR);
                        Arc::new(super::Slice::new(file, start, len))
                    };
                    if s.size() < len {
                        warnings.push(ContainerWarning::Structure(format!(
                            "{name}: extent {} ('{f}') holds {} of {len} bytes; the rest reads as zeros",
                            i + 1,
                            s.size()
                        )));
                    }
                    Some(s)
                }
            };
            extents.push((at, len, src));
            at += len;
        }
        Ok(VmdkImage { extents, size: at })
    }
}

impl ReadAt for VmdkImage {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let i = self.extents.partition_point(|e| e.0 + e.1 <= pos);
        let Some((start, len, src)) = self.extents.get(i) else {
            return Ok(0);
        };
        let rel = pos - start;
        let n = (buf.len() as u64).min(len - rel) as usize;
        let buf = &mut buf[..n];
        let got = match src {
            Some(s) => s.read_at(rel, buf)?,
            None => 0,
        };
        buf[got..].fill(0);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_lines_parse() {
        let d = parse_descriptor(
            "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 98304 FLAT \"a b-flat.vmdk\" 0\nRDONLY 16 ZERO\nRW 2048 SPARSE \"s.vmdk\"\n",
        )
        .unwrap();
        assert_eq!(d.create_type, "monolithicFlat");
        assert_eq!(
            d.extents,
            [
                ExtentLine {
                    sectors: 98304,
                    kind: ExtentKind::Flat,
                    file: Some("a b-flat.vmdk".into()),
                    start: 0
                },
                ExtentLine {
                    sectors: 16,
                    kind: ExtentKind::Zero,
                    file: None,
                    start: 0
                },
                ExtentLine {
                    sectors: 2048,
                    kind: ExtentKind::Sparse,
                    file: Some("s.vmdk".into()),
                    start: 0
                },
            ]
        );
        let e = parse_descriptor("RW 10 FLAT noquotes 0\n")
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "corrupt structure: VMDK descriptor line 1: bad extent 'RW 10 FLAT noquotes 0'"
        );
        assert!(parse_descriptor("RW x FLAT \"a\"").is_err());
        assert!(parse_descriptor("RW 1 TAPE \"a\"").is_err());
    }
}

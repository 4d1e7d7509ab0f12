//! Layer 1: evidence bytes.
//!
//! Everything above reads the evidence through [`ReadAt`], a positioned,
//! read-only byte source. Evidence files are opened only here, only with
//! `O_RDONLY` (plus `O_NOATIME` where the kernel allows it), never locked.

mod cache;
pub mod evidence;
pub mod ewf;
mod gzip;
pub mod lvm;
mod partition;
pub mod qcow2;
mod raw;
mod sibling;
pub mod signatures;
mod split;
pub mod vhd;
pub mod vhdx;
pub mod vmdk;

pub use evidence::{
    verify_stored_hashes, AcquisitionInfo, ContainerFormat, ContainerWarning, Evidence, HashCheck,
    StoredHashes, WarningLog,
};
pub use partition::{read_partitions, Partition, PartitionTable, Scheme};
pub use raw::RawFile;
pub use split::{split_segments, SplitImage};

use crate::{Error, Result};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// A positioned, read-only byte source.
pub trait ReadAt: Send + Sync {
    /// Read up to `buf.len()` bytes at `pos`; short only at the end.
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Total size in bytes.
    fn size(&self) -> u64;

    /// The first offset at or after `pos` that may hold data, or `None`
    /// when nothing up to the end does. A sparse file's holes read as
    /// zeros, so a reader may skip them. The default knows of no holes.
    fn next_data(&self, pos: u64) -> Option<u64> {
        (pos < self.size()).then_some(pos)
    }

    /// Fill `buf` completely or fail with `UnexpectedEof`.
    fn read_exact_at(&self, mut pos: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(pos, buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("read past end of evidence at byte {pos}"),
                    ))
                }
                Ok(n) => {
                    pos += n as u64;
                    buf = &mut buf[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Shared handle to any byte source.
pub type Source = Arc<dyn ReadAt>;

/// A byte range of another source (a partition).
pub struct Slice {
    inner: Source,
    start: u64,
    len: u64,
}

impl Slice {
    /// The range is clamped to the inner source's size.
    pub fn new(inner: Source, start: u64, len: u64) -> Self {
        let size = inner.size();
        let start = start.min(size);
        let len = len.min(size - start);
        Slice { inner, start, len }
    }
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl ReadAt for Slice {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.len - pos) as usize;
        self.inner.read_at(self.start + pos, &mut buf[..n])
    }
    fn size(&self) -> u64 {
        self.len
    }
    fn next_data(&self, pos: u64) -> Option<u64> {
        if pos >= self.len {
            return None;
        }
        let rel = self
            .inner
            .next_data(self.start + pos)?
            .saturating_sub(self.start);
        (rel < self.len).then_some(rel.max(pos))
    }
}

/// An in-memory source (tests, decompressed fixtures, carved data).
impl ReadAt for Vec<u8> {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len() as u64 {
            return Ok(0);
        }
        let p = pos as usize;
        let n = buf.len().min(self.len() - p);
        buf[..n].copy_from_slice(&self[p..p + n]);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// Open evidence by path and return its logical media: see
/// [`open_evidence`], whose metadata and warnings this drops.
pub fn open(path: &Path) -> Result<Source> {
    Ok(open_evidence(path)?.source)
}

/// Open evidence by path. The container format is recognised by its magic,
/// never by the file name: an EWF set (`.E01` and its siblings), qcow2
/// (with its backing chain), VMDK (descriptor or sparse extent), VHD, VHDX;
/// else a raw file, the first segment of a split raw image (`disk.001`,
/// `disk.aa`, whose siblings are found automatically), or a gzip-compressed
/// raw image (inflated in memory, bounded).
pub fn open_evidence(path: &Path) -> Result<Evidence> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot open {}: {}", path.display(), e)))?;
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory, not an image",
            path.display()
        )));
    }
    let raw = RawFile::open(path)?;
    let format = detect(path, &raw)?;
    let ev = open_container(path, raw, format)?;
    if ev.source.size() == 0 {
        return Err(Error::usage(format!("{} is empty", path.display())));
    }
    Ok(ev)
}

/// The container format of the file at `path`, by its magic.
fn detect(path: &Path, raw: &RawFile) -> Result<ContainerFormat> {
    Ok(if ewf::is_ewf(raw) {
        ContainerFormat::Ewf
    } else if qcow2::is_qcow2(raw) {
        ContainerFormat::Qcow2
    } else if vmdk::is_sparse(raw) || vmdk::is_descriptor(raw) {
        ContainerFormat::Vmdk
    } else if vhdx::is_vhdx(raw) {
        ContainerFormat::Vhdx
    } else if vhd::is_vhd(raw) {
        ContainerFormat::Vhd
    } else if split_segments(path)?.len() > 1 {
        ContainerFormat::Split
    } else if gzip::is_gzip(raw) {
        ContainerFormat::Gzip
    } else {
        ContainerFormat::Raw
    })
}

fn open_container(path: &Path, raw: RawFile, format: ContainerFormat) -> Result<Evidence> {
    let name = path.display().to_string();
    let mut ev = Evidence::plain(Arc::new(Vec::new()), format);
    let w = ev.warnings.clone();
    ev.source = match format {
        ContainerFormat::Raw => Arc::new(raw),
        ContainerFormat::Gzip => Arc::new(gzip::inflate(path, raw)?),
        ContainerFormat::Split => Arc::new(SplitImage::open(&split_segments(path)?)?),
        ContainerFormat::Ewf => {
            drop(raw);
            let img =
                ewf::EwfImage::open(path, w).map_err(|e| Error::usage(format!("{name}: {e}")))?;
            ev.layers.push(format!(
                "EWF: {} segment(s), {} chunks of {} bytes",
                img.segment_count(),
                img.chunk_count(),
                img.chunk_size()
            ));
            ev.acquisition = Some(img.acquisition.clone());
            ev.stored_hashes = img.stored_hashes.clone();
            Arc::new(img)
        }
        ContainerFormat::Qcow2 => {
            drop(raw);
            qcow2::open_chain(path, &mut Vec::new(), &w, &mut ev.layers)?
        }
        ContainerFormat::Vmdk => {
            drop(raw);
            Arc::new(vmdk::VmdkImage::open(path, &w, &mut ev.layers)?)
        }
        ContainerFormat::Vhd => {
            let (src, line) = vhd::open(Arc::new(raw), &name, &w)?;
            ev.layers.push(line);
            src
        }
        ContainerFormat::Vhdx => {
            let img = vhdx::VhdxImage::open(Arc::new(raw), &name, w)?;
            ev.layers.push(format!(
                "VHDX: {} bytes, {}-byte blocks",
                img.size(),
                img.block_size()
            ));
            Arc::new(img)
        }
    };
    Ok(ev)
}

/// The files that make up the evidence at `path`, in order: the segments
/// of an EWF set, a qcow2 image and its backing chain, a VMDK descriptor
/// and its extents, the segments of a split raw image, or just `path`.
/// Custody hashes these as stored. Names that do not resolve are left out
/// here; opening the evidence reports them.
pub fn evidence_files(path: &Path) -> Result<Vec<std::path::PathBuf>> {
    let Ok(raw) = RawFile::open(path) else {
        return split_segments(path);
    };
    if ewf::is_ewf(&raw) {
        return Ok(ewf::segment_paths(path));
    }
    let mut out = vec![path.to_path_buf()];
    if qcow2::is_qcow2(&raw) {
        let mut cur = path.to_path_buf();
        while out.len() < 32 {
            let Some(next) = RawFile::open(&cur)
                .ok()
                .and_then(|f| qcow2::read_header(&f, &WarningLog::default()).ok())
                .and_then(|h| h.backing)
                .and_then(|b| {
                    sibling::resolve(&cur, &b, "backing", sibling::Outside::ByFileName).ok()
                })
            else {
                break;
            };
            if out.contains(&next) {
                break;
            }
            out.push(next.clone());
            cur = next;
        }
        return Ok(out);
    }
    if vmdk::is_descriptor(&raw) && raw.size() <= 1 << 20 {
        let text = read_vec(&raw, 0, raw.size() as usize)?;
        if let Ok(d) = vmdk::parse_descriptor(&String::from_utf8_lossy(&text)) {
            for f in d.extents.iter().filter_map(|e| e.file.as_deref()) {
                if let Ok(p) = sibling::resolve(path, f, "extent", sibling::Outside::Refuse) {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        return Ok(out);
    }
    split_segments(path)
}

/// Read `len` bytes at `pos`, failing with context on a short read.
pub fn read_vec(src: &dyn ReadAt, pos: u64, len: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    src.read_exact_at(pos, &mut v)
        .map_err(|e| Error::io(format!("reading {len} bytes at offset {pos}"), e))?;
    Ok(v)
}

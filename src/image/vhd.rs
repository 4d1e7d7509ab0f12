//! Virtual Hard Disk (VHD, Microsoft Virtual PC / Hyper-V v1; `qemu-img
//! -O vpc`): fixed and dynamic disks.
//!
//! Format facts relied on (integers big-endian):
//! - A 512-byte footer ends the file (a dynamic disk also has a copy at
//!   offset 0): cookie `conectix`, data offset (u64 at 16: the dynamic
//!   header, all ones for a fixed disk), current size in bytes (u64 at 48),
//!   disk type (u32 at 60: 2 fixed, 3 dynamic, 4 differencing), checksum
//!   (u32 at 64: one's complement of the byte sum, the field taken as 0).
//! - Fixed: the disk is the first `current size` bytes of the file.
//! - Dynamic header (1024 bytes at the data offset): cookie `cxsparse`,
//!   block allocation table offset (u64 at 16), table entries (u32 at 28),
//!   block size (u32 at 32). Each table entry is the sector of a block, or
//!   all ones for a block never written (reads as zeros). A block starts
//!   with its sector bitmap, rounded up to whole sectors, then the data.

use super::evidence::{ContainerWarning, WarningLog};
use super::{ReadAt, Slice, Source};
use crate::util::bytes::{be32, be64};
use crate::{Error, Result};
use std::io;

pub const COOKIE: &[u8; 8] = b"conectix";
const SPARSE_COOKIE: &[u8; 8] = b"cxsparse";
const SECTOR: u64 = 512;
/// Most table entries read at open (2 TiB of 2 MiB blocks is 1 Mi).
const MAX_BAT: u32 = 1 << 22;
const UNALLOCATED: u32 = u32::MAX;

/// The disk types of the footer (a closed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskType {
    Fixed,
    Dynamic,
}

/// `conectix` at the start (dynamic) or in the last sector (fixed).
pub fn is_vhd(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 8];
    let at_start = src.read_exact_at(0, &mut m).is_ok() && &m == COOKIE;
    let end = src.size().checked_sub(SECTOR);
    at_start || end.is_some_and(|e| src.read_exact_at(e, &mut m).is_ok() && &m == COOKIE)
}

fn footer_checksum_ok(f: &[u8]) -> bool {
    let sum = f
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |s, (_, &b)| s.wrapping_add(u32::from(b)));
    !sum == be32(f, 64)
}

/// Open a VHD: the logical disk and a one-line description.
pub fn open(file: Source, name: &str, warnings: &WarningLog) -> Result<(Source, String)> {
    let bad = |m: &str| Error::corrupt(format!("{name}: {m}"));
    let size = file.size();
    let mut footer = vec![0u8; SECTOR as usize];
    let tail = size
        .checked_sub(SECTOR)
        .ok_or_else(|| bad("too short for a VHD footer"))?;
    file.read_exact_at(tail, &mut footer)
        .map_err(|e| Error::io(format!("{name}: footer"), e))?;
    if &footer[..8] != COOKIE {
        // A damaged end: use the copy at the start (dynamic disks have one).
        file.read_exact_at(0, &mut footer)
            .map_err(|e| Error::io(format!("{name}: footer copy"), e))?;
        warnings.push(ContainerWarning::Structure(format!(
            "{name}: no footer at the end of the file; the copy at offset 0 is used"
        )));
    }
    if !footer_checksum_ok(&footer) {
        warnings.push(ContainerWarning::Structure(format!(
            "{name}: VHD footer checksum does not match; fields used as read"
        )));
    }
    let current = be64(&footer, 48);
    match be32(&footer, 60) {
        2 => {
            if current > tail {
                warnings.push(ContainerWarning::Structure(format!(
                    "{name}: fixed VHD of {current} bytes holds only {tail}; the rest reads as zeros"
                )));
            }
            let s: Source = std::sync::Arc::new(Slice::new(file, 0, current.min(tail)));
            let s: Source = if current > tail {
                std::sync::Arc::new(Padded {
                    inner: s,
                    size: current,
                })
            } else {
                s
            };
            Ok((s, format!("VHD fixed: {current} bytes")))
        }
        3 => {
            let d = Dynamic::open(file, name, be64(&footer, 16), current, warnings.clone())?;
            let line = format!("VHD dynamic: {current} bytes, {}-byte blocks", d.block);
            Ok((std::sync::Arc::new(d), line))
        }
        4 => Err(Error::Unsupported(format!(
            "{name}: VHD differencing disk; open its parent instead"
        ))),
        t => Err(bad(&format!("VHD disk type {t}"))),
    }
}

/// A source read past its end as zeros up to `size`.
struct Padded {
    inner: Source,
    size: u64,
}

impl ReadAt for Padded {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.size {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.size - pos) as usize;
        let got = self.inner.read_at(pos, &mut buf[..n])?;
        buf[got..n].fill(0);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

/// A dynamic VHD.
pub struct Dynamic {
    file: Source,
    name: String,
    size: u64,
    block: u64,
    bitmap: u64,
    bat: Vec<u32>,
    warnings: WarningLog,
}

impl Dynamic {
    pub fn open(
        file: Source,
        name: &str,
        header_at: u64,
        size: u64,
        warnings: WarningLog,
    ) -> Result<Self> {
        let bad = |m: String| Error::corrupt(format!("{name}: {m}"));
        let mut h = vec![0u8; 1024];
        file.read_exact_at(header_at, &mut h)
            .map_err(|_| bad(format!("dynamic header at {header_at} past the end")))?;
        if &h[..8] != SPARSE_COOKIE {
            return Err(bad("no cxsparse dynamic header".into()));
        }
        let block = u64::from(be32(&h, 32));
        if !block.is_power_of_two() || !(SECTOR..=(256 << 20)).contains(&block) {
            return Err(bad(format!("block size {block}")));
        }
        let entries = be32(&h, 28);
        let need = size.div_ceil(block);
        if entries > MAX_BAT || u64::from(entries) < need {
            return Err(bad(format!(
                "{entries} table entries for {need} blocks (at most {MAX_BAT})"
            )));
        }
        let mut b = vec![0u8; entries as usize * 4];
        file.read_exact_at(be64(&h, 16), &mut b)
            .map_err(|_| bad("block allocation table past the end".into()))?;
        let bat = (0..entries as usize).map(|i| be32(&b, i * 4)).collect();
        let bitmap = (block / SECTOR).div_ceil(8).next_multiple_of(SECTOR);
        Ok(Dynamic {
            file,
            name: name.to_string(),
            size,
            block,
            bitmap,
            bat,
            warnings,
        })
    }
}

impl ReadAt for Dynamic {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64)
            .min(self.size - pos)
            .min(self.block - pos % self.block) as usize;
        let buf = &mut buf[..n];
        let b = pos / self.block;
        match self.bat.get(b as usize).copied().unwrap_or(UNALLOCATED) {
            UNALLOCATED => buf.fill(0),
            s => {
                let at = u64::from(s) * SECTOR + self.bitmap + pos % self.block;
                if let Err(e) = self.file.read_exact_at(at, buf) {
                    buf.fill(0);
                    self.warnings.push(ContainerWarning::BlockUnreadable {
                        block: b,
                        reason: format!("{}: block {b} data at {at}: {e}", self.name),
                    });
                }
            }
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

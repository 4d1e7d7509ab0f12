//! VHDX (Hyper-V v2; `qemu-img -O vhdx`): fixed and dynamic disks.
//!
//! Format facts relied on (integers little-endian; GUIDs in their on-disk
//! mixed-endian form):
//! - `vhdxfile` at offset 0. Two headers at 64 KiB and 128 KiB: signature
//!   `head`, CRC-32C (u32 at 4, over the 4 KiB header with the field
//!   zeroed), sequence number (u64 at 8), log GUID (at 48; non-zero means a
//!   log not yet replayed). The valid header with the larger sequence wins.
//! - Region tables at 192 KiB and 256 KiB: `regi`, CRC-32C over 64 KiB,
//!   entry count (u32 at 8), then 32-byte entries from 16: GUID, file
//!   offset (u64), length (u32). Needed here: the block allocation table
//!   (BAT) and the metadata region.
//! - Metadata region: `metadata`, entry count (u16 at 10), 32-byte entries
//!   from 32: item GUID, offset in the region (u32), length (u32). Items:
//!   file parameters (block size u32, flags u32: bit 1 has a parent),
//!   virtual disk size (u64), logical sector size (u32).
//! - BAT entries are u64: state in bits 0–2 (6 fully present; 0–3 not
//!   present, undefined, zero, unmapped: zeros here; 7 partially present
//!   only in differencing disks), file offset in MiB in bits 20–63. After
//!   every `chunk ratio` = 2^23 × logical sector size / block size payload
//!   entries comes one sector-bitmap entry.

use super::evidence::{ContainerWarning, WarningLog};
use super::{ReadAt, Source};
use crate::util::bytes::{le16, le32, le64, slice};
use crate::util::crc::crc32c;
use crate::{Error, Result};
use std::io;

pub const SIGNATURE: &[u8; 8] = b"vhdxfile";
const KIB64: u64 = 64 << 10;
/// Most BAT entries read at open (64 TiB of 32 MiB blocks is 2 Mi).
const MAX_BAT: u64 = 1 << 23;
const BAT_GUID: [u8; 16] = guid(
    0x2DC2_7766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
const METADATA_GUID: [u8; 16] = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const FILE_PARAMETERS: [u8; 16] = guid(
    0xCAA1_6737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const LOGICAL_SECTOR_SIZE: [u8; 16] = guid(
    0x8141_BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);

/// A GUID as stored: the first three fields little-endian.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

pub fn is_vhdx(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 8];
    src.read_exact_at(0, &mut m).is_ok() && &m == SIGNATURE
}

fn read(f: &dyn ReadAt, pos: u64, len: usize) -> Option<Vec<u8>> {
    let mut v = vec![0u8; len];
    f.read_exact_at(pos, &mut v).ok()?;
    Some(v)
}

/// A structure whose CRC-32C (at byte 4) holds over `len` bytes.
fn checked(f: &dyn ReadAt, pos: u64, len: usize, sig: &[u8; 4]) -> Option<Vec<u8>> {
    let mut b = read(f, pos, len)?;
    if &b[..4] != sig {
        return None;
    }
    let stored = le32(&b, 4);
    b[4..8].fill(0);
    (crc32c(&b) == stored).then_some(b)
}

/// A dynamic or fixed VHDX, read as its virtual disk.
pub struct VhdxImage {
    file: Source,
    name: String,
    size: u64,
    block: u64,
    chunk_ratio: u64,
    bat: Vec<u64>,
    warnings: WarningLog,
}

impl VhdxImage {
    pub fn open(file: Source, name: &str, warnings: WarningLog) -> Result<Self> {
        let bad = |m: &str| Error::corrupt(format!("{name}: {m}"));
        let f = &*file;
        let headers: Vec<Vec<u8>> = [KIB64, 2 * KIB64]
            .iter()
            .filter_map(|&at| checked(f, at, 4096, b"head"))
            .collect();
        let header = headers
            .iter()
            .max_by_key(|h| le64(h, 8))
            .ok_or_else(|| bad("no VHDX header with a valid checksum"))?;
        if slice(header, 48, 16).iter().any(|&b| b != 0) {
            warnings.push(ContainerWarning::Structure(format!(
                "{name}: VHDX log not replayed (the disk was not closed cleanly); blocks are read as last flushed"
            )));
        }
        let regions = [3 * KIB64, 4 * KIB64]
            .iter()
            .find_map(|&at| checked(f, at, KIB64 as usize, b"regi"))
            .ok_or_else(|| bad("no VHDX region table with a valid checksum"))?;
        let count = le32(&regions, 8).min(2047) as usize;
        let region = |g: &[u8; 16]| {
            (0..count).map(|i| 16 + i * 32).find_map(|o| {
                (slice(&regions, o, 16) == g)
                    .then(|| (le64(&regions, o + 16), le32(&regions, o + 24)))
            })
        };
        let (bat_off, bat_len) = region(&BAT_GUID).ok_or_else(|| bad("no BAT region"))?;
        let (meta_off, meta_len) =
            region(&METADATA_GUID).ok_or_else(|| bad("no metadata region"))?;
        let meta = read(f, meta_off, meta_len.min(1 << 20) as usize)
            .ok_or_else(|| bad("metadata region past the end"))?;
        if meta.get(..8) != Some(b"metadata") {
            return Err(bad("metadata region without its signature"));
        }
        let item = |g: &[u8; 16], len: usize| -> Option<Vec<u8>> {
            let n = le16(&meta, 10).min(2047) as usize;
            let o = (0..n)
                .map(|i| 32 + i * 32)
                .find(|&o| slice(&meta, o, 16) == g)?;
            let at = le32(&meta, o + 16) as usize;
            let b = slice(&meta, at, len);
            (b.len() == len).then(|| b.to_vec())
        };
        let params = item(&FILE_PARAMETERS, 8).ok_or_else(|| bad("no file parameters"))?;
        let size = item(&VIRTUAL_DISK_SIZE, 8)
            .map(|b| le64(&b, 0))
            .ok_or_else(|| bad("no disk size"))?;
        let lss = item(&LOGICAL_SECTOR_SIZE, 4)
            .map(|b| le32(&b, 0))
            .ok_or_else(|| bad("no sector size"))?;
        let block = u64::from(le32(&params, 0));
        if le32(&params, 4) & 2 != 0 {
            return Err(Error::Unsupported(format!(
                "{name}: VHDX differencing disk; open its parent instead"
            )));
        }
        if !block.is_power_of_two()
            || !((1 << 20)..=(256 << 20)).contains(&block)
            || !(lss == 512 || lss == 4096)
        {
            return Err(bad(&format!("block size {block}, sector size {lss}")));
        }
        let chunk_ratio = ((1u64 << 23) * u64::from(lss)) / block;
        let blocks = size.div_ceil(block);
        let entries = blocks + blocks.saturating_sub(1) / chunk_ratio;
        if entries > MAX_BAT || entries * 8 > u64::from(bat_len) {
            return Err(bad(&format!(
                "{blocks} blocks do not fit the BAT region of {bat_len} bytes"
            )));
        }
        let b = read(f, bat_off, (entries * 8) as usize).ok_or_else(|| bad("BAT past the end"))?;
        let bat = (0..entries as usize).map(|i| le64(&b, i * 8)).collect();
        Ok(VhdxImage {
            file,
            name: name.to_string(),
            size,
            block,
            chunk_ratio,
            bat,
            warnings,
        })
    }

    pub fn block_size(&self) -> u64 {
        self.block
    }
}

impl ReadAt for VhdxImage {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64)
            .min(self.size - pos)
            .min(self.block - pos % self.block) as usize;
        let buf = &mut buf[..n];
        let b = pos / self.block;
        let e = self
            .bat
            .get((b + b / self.chunk_ratio) as usize)
            .copied()
            .unwrap_or(0);
        match e & 7 {
            6 => {
                let at = (e >> 20 << 20).saturating_add(pos % self.block);
                if let Err(err) = self.file.read_exact_at(at, buf) {
                    buf.fill(0);
                    self.warnings.push(ContainerWarning::BlockUnreadable {
                        block: b,
                        reason: format!("{}: block {b} at {at}: {err}", self.name),
                    });
                }
            }
            0..=3 => buf.fill(0),
            s => {
                buf.fill(0);
                self.warnings.push(ContainerWarning::BlockUnreadable {
                    block: b,
                    reason: format!("{}: block {b} in BAT state {s}", self.name),
                });
            }
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

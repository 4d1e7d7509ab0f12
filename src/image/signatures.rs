//! Volumes recognised but not opened: encrypted volumes (LUKS, BitLocker)
//! and Linux md RAID members, of which a RAID1 member is read as its data.
//!
//! Format facts relied on:
//! - LUKS1 and LUKS2 start with `LUKS BA BE` and a big-endian u16 version.
//! - A BitLocker volume has `-FVE-FS-` at byte 3 of its boot sector.
//! - An md superblock v1.x (little-endian) starts with magic a92b4efc and
//!   major version 1; it lies at the start (v1.1), at 4 KiB (v1.2), or 8 KiB
//!   before the end rounded down to 4 KiB (v1.0). Fields used: array name
//!   (32 bytes at 32), RAID level (i32 at 72), data offset and data size in
//!   sectors (u64 at 128, 136). A RAID1 member holds a full copy of the
//!   array's data at the data offset.

use super::{ReadAt, Slice, Source};
use crate::util::bytes::{cstr, le32, le64};
use crate::{Error, Result};
use std::sync::Arc;

const MD_MAGIC: u32 = 0xa92b_4efc;

/// A Linux md RAID member's superblock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdMember {
    /// "1.0", "1.1" or "1.2".
    pub metadata: &'static str,
    pub level: i32,
    pub name: String,
    /// Bytes.
    pub data_offset: u64,
    pub data_size: u64,
}

/// What a volume's first bytes say it is (a closed set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    Luks(u16),
    BitLocker,
    Md(MdMember),
}

impl Signature {
    /// One line for the user.
    pub fn describe(&self) -> String {
        match self {
            Signature::Luks(v) => {
                format!("LUKS{v} encrypted volume (not decrypted: out of scope)")
            }
            Signature::BitLocker => {
                "BitLocker encrypted volume (not decrypted: out of scope)".into()
            }
            Signature::Md(m) if m.level == 1 => format!(
                "Linux md RAID1 member (metadata {}, array '{}'): read as its data at offset {}",
                m.metadata, m.name, m.data_offset
            ),
            Signature::Md(m) => format!(
                "Linux md RAID{} member (metadata {}, array '{}'): reassembling RAID{} is out of scope",
                m.level, m.metadata, m.name, m.level
            ),
        }
    }
}

pub fn md_member(src: &dyn ReadAt) -> Option<MdMember> {
    let size = src.size();
    let end = size.checked_sub(8192).map(|e| e & !4095);
    let places = [(Some(0), "1.1"), (Some(4096), "1.2"), (end, "1.0")];
    for (at, metadata) in places {
        let Some(at) = at else { continue };
        let mut b = [0u8; 256];
        if src.read_exact_at(at, &mut b).is_err() || le32(&b, 0) != MD_MAGIC || le32(&b, 4) != 1 {
            continue;
        }
        let data_offset = le64(&b, 128).checked_mul(512)?;
        let data_size = le64(&b, 136).checked_mul(512)?;
        return Some(MdMember {
            metadata,
            level: le32(&b, 72) as i32,
            name: String::from_utf8_lossy(&cstr(&b, 32, 32)).into_owned(),
            data_offset,
            data_size,
        });
    }
    None
}

/// Recognise an encrypted volume or an md member.
pub fn identify(src: &dyn ReadAt) -> Option<Signature> {
    let mut h = [0u8; 16];
    src.read_exact_at(0, &mut h).ok()?;
    if h[..6] == *b"LUKS\xba\xbe" {
        return Some(Signature::Luks(u16::from_be_bytes([h[6], h[7]])));
    }
    if h[3..11] == *b"-FVE-FS-" {
        return Some(Signature::BitLocker);
    }
    md_member(src).map(Signature::Md)
}

/// The data of a RAID1 member, as the array presents it.
pub fn md_raid1_data(src: &Source, m: &MdMember) -> Result<Source> {
    if m.level != 1 {
        return Err(Error::Unsupported(Signature::Md(m.clone()).describe()));
    }
    let end = m
        .data_offset
        .checked_add(m.data_size)
        .filter(|&e| e <= src.size());
    if end.is_none() || m.data_size == 0 {
        return Err(Error::corrupt(format!(
            "md member: data at {} of {} bytes lies outside the {}-byte device",
            m.data_offset,
            m.data_size,
            src.size()
        )));
    }
    Ok(Arc::new(Slice::new(
        src.clone(),
        m.data_offset,
        m.data_size,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(at: usize, level: i32, size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size];
        b[at..at + 4].copy_from_slice(&MD_MAGIC.to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&1u32.to_le_bytes());
        b[at + 32..at + 37].copy_from_slice(b"host0");
        b[at + 72..at + 76].copy_from_slice(&level.to_le_bytes());
        b[at + 128..at + 136].copy_from_slice(&2048u64.to_le_bytes());
        b[at + 136..at + 144].copy_from_slice(&4096u64.to_le_bytes());
        b
    }

    #[test]
    fn md_superblocks_at_each_place() {
        let src: Source = Arc::new(md(4096, 1, 4 << 20));
        let m = md_member(&*src).unwrap();
        assert_eq!(m.metadata, "1.2");
        assert_eq!((m.data_offset, m.data_size), (1 << 20, 2 << 20));
        assert_eq!(
            identify(&*src).unwrap().describe(),
            "Linux md RAID1 member (metadata 1.2, array 'host0'): read as its data at offset 1048576"
        );
        let data = md_raid1_data(&src, &m).unwrap();
        assert_eq!(data.size(), 2 << 20);
        let v10 = md((4 << 20) - 8192, 5, 4 << 20);
        let m = md_member(&v10).unwrap();
        assert_eq!(m.metadata, "1.0");
        let e = md_raid1_data(&(Arc::new(v10) as Source), &m)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "unsupported: Linux md RAID5 member (metadata 1.0, array 'host0'): reassembling RAID5 is out of scope"
        );
        // A data area past the device: refused, not read.
        let mut b = md(0, 1, 1 << 20);
        b[136..144].copy_from_slice(&u64::MAX.to_le_bytes());
        let src: Source = Arc::new(b);
        let m = md_member(&*src);
        assert!(m.is_none() || md_raid1_data(&src, &m.unwrap()).is_err());
    }

    #[test]
    fn encrypted_volumes_are_named() {
        let mut b = vec![0u8; 4096];
        b[..8].copy_from_slice(b"LUKS\xba\xbe\x00\x02");
        assert_eq!(
            identify(&b).unwrap().describe(),
            "LUKS2 encrypted volume (not decrypted: out of scope)"
        );
        let mut b = vec![0u8; 4096];
        b[3..11].copy_from_slice(b"-FVE-FS-");
        assert_eq!(identify(&b), Some(Signature::BitLocker));
        assert_eq!(identify(&vec![0u8; 4096]), None);
    }
}

//! Block group descriptors (`struct ext4_group_desc`, 32 or 64 bytes).

use super::superblock::{ro_compat, Superblock};
use crate::util::bytes::{le16, le32, slice};
use crate::util::crc::{crc16_update, crc32c_update};
use serde::Serialize;

pub const BG_INODE_UNINIT: u16 = 0x1;
pub const BG_BLOCK_UNINIT: u16 = 0x2;
pub const BG_INODE_ZEROED: u16 = 0x4;

#[derive(Clone, Debug, Serialize)]
pub struct GroupDesc {
    pub group: u64,
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks_count: u32,
    pub free_inodes_count: u32,
    pub used_dirs_count: u32,
    pub flags: u16,
    pub exclude_bitmap: u64,
    pub block_bitmap_csum: u32,
    pub inode_bitmap_csum: u32,
    pub itable_unused: u32,
    pub checksum: u16,
    /// Checksum verdict: `None` when the filesystem has no group checksums.
    pub checksum_ok: Option<bool>,
}

impl GroupDesc {
    pub fn parse(b: &[u8], group: u64, sb: &Superblock) -> GroupDesc {
        let big = sb.desc_size() >= 64;
        let hi32 = |off: usize| if big { (le32(b, off) as u64) << 32 } else { 0 };
        let hi16 = |off: usize| if big { (le16(b, off) as u32) << 16 } else { 0 };
        let mut g = GroupDesc {
            group,
            block_bitmap: le32(b, 0x0) as u64 | hi32(0x20),
            inode_bitmap: le32(b, 0x4) as u64 | hi32(0x24),
            inode_table: le32(b, 0x8) as u64 | hi32(0x28),
            free_blocks_count: le16(b, 0xC) as u32 | hi16(0x2C),
            free_inodes_count: le16(b, 0xE) as u32 | hi16(0x2E),
            used_dirs_count: le16(b, 0x10) as u32 | hi16(0x30),
            flags: le16(b, 0x12),
            exclude_bitmap: le32(b, 0x14) as u64 | hi32(0x34),
            block_bitmap_csum: le16(b, 0x18) as u32 | hi16(0x38),
            inode_bitmap_csum: le16(b, 0x1A) as u32 | hi16(0x3A),
            itable_unused: le16(b, 0x1C) as u32 | hi16(0x32),
            checksum: le16(b, 0x1E),
            checksum_ok: None,
        };
        g.checksum_ok = verify(b, group, sb);
        g
    }

    pub fn inode_uninit(&self) -> bool {
        self.flags & BG_INODE_UNINIT != 0
    }
    pub fn block_uninit(&self) -> bool {
        self.flags & BG_BLOCK_UNINIT != 0
    }
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.flags & BG_INODE_UNINIT != 0 {
            v.push("INODE_UNINIT");
        }
        if self.flags & BG_BLOCK_UNINIT != 0 {
            v.push("BLOCK_UNINIT");
        }
        if self.flags & BG_INODE_ZEROED != 0 {
            v.push("ITABLE_ZEROED");
        }
        v
    }
}

/// metadata_csum: low 16 bits of crc32c(seed, group, desc with csum = 0).
/// gdt_csum: crc16(~0, uuid, group, desc minus the csum field).
fn verify(b: &[u8], group: u64, sb: &Superblock) -> Option<bool> {
    let size = sb.desc_size() as usize;
    let d = slice(b, 0, size);
    if d.len() < 32 {
        return Some(false);
    }
    let gle = (group as u32).to_le_bytes();
    if sb.metadata_csum() {
        let mut c = crc32c_update(sb.csum_seed(), &gle);
        c = crc32c_update(c, &d[..0x1E]);
        c = crc32c_update(c, &[0, 0]);
        c = crc32c_update(c, &d[0x20..]);
        Some((c & 0xFFFF) as u16 == le16(d, 0x1E))
    } else if sb.has_ro_compat(ro_compat::GDT_CSUM) {
        let mut c = crc16_update(!0, &sb.uuid);
        c = crc16_update(c, &gle);
        c = crc16_update(c, &d[..0x1E]);
        if d.len() > 0x20 {
            c = crc16_update(c, &d[0x20..]);
        }
        Some(c == le16(d, 0x1E))
    } else {
        None
    }
}

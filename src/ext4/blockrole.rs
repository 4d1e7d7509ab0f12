//! What a filesystem block is: its role from static geometry (superblock,
//! descriptors, bitmaps, inode tables, the journal), and what a copy of
//! a block looks like from its bytes. Used to read the journal's logged
//! blocks and the free space; not specific to the journal.

use super::dir::rec_len_from_disk;
use super::extent::{EXTENT_MAGIC, MAX_DEPTH};
use super::fs::Filesystem;
use super::superblock::incompat as fs_incompat;
use crate::util::bytes::{is_zero, le16, le32, u8_at};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// What a filesystem block is, from static geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum BlockRole {
    Superblock,
    GroupDescriptors,
    BlockBitmap {
        group: u64,
    },
    InodeBitmap {
        group: u64,
    },
    InodeTable {
        group: u64,
        first_inode: u32,
        last_inode: u32,
    },
    JournalArea,
    Other,
}

impl fmt::Display for BlockRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRole::Superblock => write!(f, "superblock"),
            BlockRole::GroupDescriptors => write!(f, "group descriptors"),
            BlockRole::BlockBitmap { group } => write!(f, "block bitmap group {group}"),
            BlockRole::InodeBitmap { group } => write!(f, "inode bitmap group {group}"),
            BlockRole::InodeTable {
                group,
                first_inode,
                last_inode,
            } => write!(
                f,
                "inode table group {group} (inodes {first_inode}-{last_inode})"
            ),
            BlockRole::JournalArea => write!(f, "journal area"),
            BlockRole::Other => write!(f, "other"),
        }
    }
}

/// What a logged copy looks like, from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentHint {
    ExtentNode,
    DirBlock,
    XattrBlock,
    Zero,
    Unknown,
}

impl fmt::Display for ContentHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContentHint::ExtentNode => "extent node",
            ContentHint::DirBlock => "directory block",
            ContentHint::XattrBlock => "xattr block",
            ContentHint::Zero => "zeros",
            ContentHint::Unknown => "unknown content",
        })
    }
}

/// Sniff a block's content: extent tree node, directory block, xattr
/// block, all zeros, or unknown.
pub fn sniff(b: &[u8]) -> ContentHint {
    if b.is_empty() || is_zero(b) {
        return ContentHint::Zero;
    }
    if looks_like_extent_node(b) {
        return ContentHint::ExtentNode;
    }
    if b.len() >= 32 && le32(b, 0) == 0xEA02_0000 {
        return ContentHint::XattrBlock;
    }
    if looks_like_dir_block(b) {
        return ContentHint::DirBlock;
    }
    ContentHint::Unknown
}

fn looks_like_extent_node(b: &[u8]) -> bool {
    if b.len() < 24 || le16(b, 0) != EXTENT_MAGIC {
        return false;
    }
    let entries = le16(b, 2) as usize;
    let max = le16(b, 4) as usize;
    let depth = le16(b, 6);
    max > 0 && entries <= max && 12 + 12 * max <= b.len() && depth <= MAX_DEPTH
}

fn dirent_ok(b: &[u8], off: usize, rec_len: usize) -> bool {
    let end = b.len();
    let name_len = u8_at(b, off + 6) as usize;
    if rec_len < 12 || rec_len % 4 != 0 || off + rec_len > end || name_len + 8 > rec_len {
        return false;
    }
    if le32(b, off) != 0 {
        if name_len == 0 {
            return false;
        }
        let name = crate::util::bytes::slice(b, off + 8, name_len);
        if name.iter().any(|&c| c == 0 || c == b'/') {
            return false;
        }
    }
    true
}

fn looks_like_dir_block(b: &[u8]) -> bool {
    let n = b.len();
    if n < 24 {
        return false;
    }
    let bs = n as u64;
    // "." then "..".
    let r0 = rec_len_from_disk(le16(b, 4), bs) as usize;
    if le32(b, 0) != 0
        && r0 == 12
        && u8_at(b, 6) == 1
        && u8_at(b, 8) == b'.'
        && le32(b, 12) != 0
        && u8_at(b, 18) == 2
        && u8_at(b, 20) == b'.'
        && u8_at(b, 21) == b'.'
        && dirent_ok(b, 12, rec_len_from_disk(le16(b, 16), bs) as usize)
    {
        return true;
    }
    // A chain of valid records covering exactly the block.
    let mut off = 0usize;
    let mut named = 0usize;
    let mut records = 0usize;
    while off < n && records <= n / 12 {
        let rec_len = rec_len_from_disk(le16(b, off + 4), bs) as usize;
        if !dirent_ok(b, off, rec_len) {
            return false;
        }
        if le32(b, off) != 0 {
            named += 1;
        }
        records += 1;
        off += rec_len;
    }
    // Named entries, or one empty record over the whole block (an empty
    // directory block or an htree node).
    off == n && (named > 0 || (records == 1 && u8_at(b, 6) == 0))
}

/// Geometry index for [`BlockRole`] lookups over many blocks.
pub struct BlockClassifier {
    bitmaps: HashMap<u64, BlockRole>,
    /// (first block, block count, group), sorted by first block.
    itables: Vec<(u64, u64, u64)>,
    journal_runs: Vec<(u64, u64)>,
    first_data_block: u64,
    blocks_per_group: u64,
    gdt_blocks: u64,
    desc_per_block: u64,
    meta_bg: bool,
    first_meta_bg: u64,
    inodes_per_group: u64,
    inodes_per_block: u64,
    inodes_count: u64,
    blocks_count: u64,
    sb: super::superblock::Superblock,
}

impl BlockClassifier {
    /// `journal_runs`: physical (start, len) runs of the journal area.
    pub fn new(fs: &Filesystem, journal_runs: Vec<(u64, u64)>) -> BlockClassifier {
        let sb = &fs.sb;
        let bs = fs.block_size();
        let isz = sb.inode_size().max(1);
        let ipg = sb.inodes_per_group as u64;
        let itable_blocks = (ipg * isz).div_ceil(bs.max(1));
        let mut bitmaps = HashMap::new();
        let mut itables = Vec::new();
        for g in &fs.groups {
            bitmaps
                .entry(g.block_bitmap)
                .or_insert(BlockRole::BlockBitmap { group: g.group });
            bitmaps
                .entry(g.inode_bitmap)
                .or_insert(BlockRole::InodeBitmap { group: g.group });
            if g.inode_table != 0 {
                itables.push((g.inode_table, itable_blocks, g.group));
            }
        }
        itables.sort_unstable();
        let desc_per_block = (bs / sb.desc_size().max(1)).max(1);
        BlockClassifier {
            bitmaps,
            itables,
            journal_runs,
            first_data_block: sb.first_data_block as u64,
            blocks_per_group: (sb.blocks_per_group as u64).max(1),
            gdt_blocks: fs.group_count().div_ceil(desc_per_block),
            desc_per_block,
            meta_bg: sb.has_incompat(fs_incompat::META_BG),
            first_meta_bg: sb.first_meta_bg as u64,
            inodes_per_group: ipg,
            inodes_per_block: (bs / isz).max(1),
            inodes_count: sb.inodes_count as u64,
            blocks_count: sb.blocks_count,
            sb: sb.clone(),
        }
    }

    pub fn classify(&self, blk: u64) -> BlockRole {
        if blk >= self.blocks_count {
            return BlockRole::Other;
        }
        if blk >= self.first_data_block {
            let g = (blk - self.first_data_block) / self.blocks_per_group;
            let off = (blk - self.first_data_block) % self.blocks_per_group;
            let has_super = self.sb.group_has_super(g);
            if has_super && off == 0 {
                return BlockRole::Superblock;
            }
            if has_super && off >= 1 {
                let std_gdt = if self.meta_bg {
                    self.gdt_blocks.min(self.first_meta_bg)
                } else {
                    self.gdt_blocks
                };
                if off <= std_gdt {
                    return BlockRole::GroupDescriptors;
                }
            }
            if self.meta_bg && g / self.desc_per_block >= self.first_meta_bg {
                let idx = g % self.desc_per_block;
                if (idx == 0 || idx == 1 || idx == self.desc_per_block - 1)
                    && off == u64::from(has_super)
                {
                    return BlockRole::GroupDescriptors;
                }
            }
        }
        if let Some(r) = self.bitmaps.get(&blk) {
            return *r;
        }
        let i = self.itables.partition_point(|t| t.0 <= blk);
        if i > 0 {
            if let Some(&(start, len, group)) = self.itables.get(i - 1) {
                if blk < start.saturating_add(len) {
                    let first =
                        group * self.inodes_per_group + (blk - start) * self.inodes_per_block + 1;
                    let last = (first + self.inodes_per_block - 1)
                        .min((group + 1) * self.inodes_per_group)
                        .min(self.inodes_count.max(first));
                    return BlockRole::InodeTable {
                        group,
                        first_inode: first.min(u32::MAX as u64) as u32,
                        last_inode: last.min(u32::MAX as u64) as u32,
                    };
                }
            }
        }
        if self
            .journal_runs
            .iter()
            .any(|&(s, l)| blk >= s && blk < s.saturating_add(l))
        {
            return BlockRole::JournalArea;
        }
        BlockRole::Other
    }
}

/// Classify one filesystem block from static geometry (superblock copies,
/// descriptor tables, bitmaps, inode tables, the journal inode's blocks).
/// For many blocks build a [`BlockClassifier`] once instead.
pub fn classify_fs_block(fs: &Filesystem, fs_block: u64) -> BlockRole {
    let runs = journal_runs(fs);
    BlockClassifier::new(fs, runs).classify(fs_block)
}

fn journal_runs(fs: &Filesystem) -> Vec<(u64, u64)> {
    match fs.journal_inode().and_then(|i| fs.inode(i).ok()) {
        Some(ino) => fs
            .block_map(&ino)
            .runs
            .iter()
            .map(|r| (r.physical, r.len))
            .collect(),
        None => Vec::new(),
    }
}

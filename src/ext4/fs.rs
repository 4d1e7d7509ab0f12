//! `Filesystem`: the superblock, group descriptors and a block reader over
//! one ext2/3/4 volume. Higher-level readers (inodes, maps, directories,
//! xattrs) are `impl Filesystem` blocks in their own modules.

use super::group::GroupDesc;
use super::inode::Inode;
use super::superblock::{incompat, Superblock, EXT4_MAGIC, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE};
use crate::image::{ReadAt, Source};
use crate::util::bytes::le16;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// Where the superblock in use was read from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SuperblockSource {
    /// 0 for the primary; else the group whose backup was used.
    pub group: u64,
    pub byte_offset: u64,
    /// Why the primary was not used.
    pub reason: Option<String>,
}

pub struct Filesystem {
    src: Source,
    pub sb: Superblock,
    pub groups: Vec<GroupDesc>,
    pub sb_source: SuperblockSource,
    warnings: Mutex<Vec<String>>,
    cache: BlockCache,
}

/// Most group descriptors a filesystem may have (2^32 blocks of 1 KiB in
/// groups of 8192 is 2^19; 64bit 1 PiB of 4 KiB blocks in 32768 is 2^23).
const MAX_GROUPS: u64 = 1 << 24;

impl Filesystem {
    /// Open the ext filesystem at the start of `src`. A primary superblock
    /// that is unreadable, has a bad magic or fails its checksum is replaced
    /// by the first good backup, and the reason is recorded.
    pub fn open(src: Source) -> Result<Filesystem> {
        let size = src.size();
        if size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE as u64 {
            return Err(Error::usage(format!(
                "image is only {size} bytes: too small to hold an ext superblock"
            )));
        }
        let primary = read_sb(&*src, SUPERBLOCK_OFFSET);
        let primary_err = match &primary {
            Ok(sb) => match sb.sanity(size) {
                Ok(()) if sb.verify_checksum() == Some(false) => {
                    Some("primary superblock checksum mismatch".to_string())
                }
                Ok(()) => None,
                Err(e) => Some(format!("primary superblock: {e}")),
            },
            Err(e) => Some(format!("primary superblock unreadable: {e}")),
        };
        let (sb, sb_source) = match (primary, primary_err) {
            (Ok(sb), None) => (
                sb,
                SuperblockSource {
                    group: 0,
                    byte_offset: SUPERBLOCK_OFFSET,
                    reason: None,
                },
            ),
            (Err(e), None) => return Err(e),
            (p, Some(reason)) => match find_backup(&*src) {
                Some((sb, group, off)) => (
                    sb,
                    SuperblockSource {
                        group,
                        byte_offset: off,
                        reason: Some(reason),
                    },
                ),
                None => {
                    // A bad checksum alone is not fatal when no backup exists.
                    if let Ok(sb) = p {
                        if sb.sanity(size).is_ok() {
                            let fs = Filesystem::with_sb(
                                src,
                                sb,
                                SuperblockSource {
                                    group: 0,
                                    byte_offset: SUPERBLOCK_OFFSET,
                                    reason: Some(reason.clone()),
                                },
                            )?;
                            fs.warn(format!("{reason}; no valid backup found, using it anyway"));
                            return Ok(fs);
                        }
                    }
                    return Err(Error::usage(format!(
                        "no ext2/3/4 filesystem found: {reason}, and no backup superblock is valid"
                    )));
                }
            },
        };
        let reason = sb_source.reason.clone();
        let fs = Filesystem::with_sb(src, sb, sb_source)?;
        if let Some(r) = reason {
            fs.warn(format!(
                "{r}; using the backup superblock of group {}",
                fs.sb_source.group
            ));
        }
        Ok(fs)
    }

    fn with_sb(src: Source, sb: Superblock, sb_source: SuperblockSource) -> Result<Filesystem> {
        let mut fs = Filesystem {
            src,
            sb,
            groups: Vec::new(),
            sb_source,
            warnings: Mutex::new(Vec::new()),
            cache: BlockCache::new(),
        };
        if fs.sb.has_incompat(incompat::JOURNAL_DEV) {
            return Err(Error::Unsupported(
                "this is an external journal device, not a filesystem".into(),
            ));
        }
        let fs_bytes = fs.sb.blocks_count.saturating_mul(fs.block_size());
        if fs_bytes > fs.src.size() {
            fs.warn(format!(
                "filesystem claims {} bytes but the image holds {}: the image is truncated; blocks past the end read as errors",
                fs_bytes,
                fs.src.size()
            ));
        }
        fs.groups = fs.read_group_descs()?;
        Ok(fs)
    }

    pub fn source(&self) -> &Source {
        &self.src
    }
    pub fn block_size(&self) -> u64 {
        self.sb.block_size()
    }
    pub fn group_count(&self) -> u64 {
        self.sb.group_count()
    }

    pub fn warn(&self, msg: impl Into<String>) {
        if let Ok(mut w) = self.warnings.lock() {
            if w.len() < 100_000 {
                w.push(msg.into());
            }
        }
    }
    /// Warnings gathered so far (damaged structures skipped, fallbacks).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Read `len` bytes at byte `pos` of the filesystem.
    pub fn read_bytes(&self, pos: u64, buf: &mut [u8]) -> Result<()> {
        self.src
            .read_exact_at(pos, buf)
            .map_err(|e| Error::io(format!("reading {} bytes at fs offset {pos}", buf.len()), e))
    }

    /// Do bytes `pos..pos+len` lie wholly in a hole of a sparse image (or
    /// past its end)? They read as zeros, so a search may skip them.
    pub fn is_hole(&self, pos: u64, len: u64) -> bool {
        match self.src.next_data(pos) {
            None => true,
            Some(o) => o >= pos.saturating_add(len),
        }
    }

    /// Read one block (uncached).
    pub fn read_block(&self, blk: u64) -> Result<Vec<u8>> {
        if blk >= self.sb.blocks_count {
            return Err(Error::corrupt(format!(
                "block {blk} is past the end of the filesystem ({} blocks)",
                self.sb.blocks_count
            )));
        }
        let bs = self.block_size();
        let mut v = vec![0u8; bs as usize];
        self.read_bytes(blk * bs, &mut v)?;
        Ok(v)
    }

    /// Read `count` consecutive blocks into `buf` (len = count * bs).
    pub fn read_blocks_into(&self, blk: u64, buf: &mut [u8]) -> Result<()> {
        let bs = self.block_size();
        let count = buf.len() as u64 / bs;
        if blk.saturating_add(count) > self.sb.blocks_count {
            return Err(Error::corrupt(format!(
                "blocks {blk}+{count} run past the end of the filesystem"
            )));
        }
        self.read_bytes(blk * bs, buf)
    }

    /// A metadata block through the shared cache (inode tables, bitmaps).
    pub fn read_block_cached(&self, blk: u64) -> Result<std::sync::Arc<[u8]>> {
        if let Some(b) = self.cache.get(blk) {
            return Ok(b);
        }
        let b: std::sync::Arc<[u8]> = self.read_block(blk)?.into();
        self.cache.put(blk, b.clone());
        Ok(b)
    }

    fn read_group_descs(&self) -> Result<Vec<GroupDesc>> {
        let sb = &self.sb;
        let count = sb.group_count();
        if count == 0 || count > MAX_GROUPS {
            return Err(Error::corrupt(format!(
                "{count} block groups is implausible"
            )));
        }
        let bs = self.block_size();
        let dsz = sb.desc_size();
        let per_block = bs / dsz;
        let meta_bg = sb.has_incompat(incompat::META_BG);
        // The GDT follows the superblock copy in use (a backup group's GDT
        // copy when the primary superblock was bad).
        let base_group = self.sb_source.group;
        let gdt_start = self.group_first_block(base_group) + 1;
        let mut out = Vec::with_capacity(count as usize);
        let mut cur_blk = u64::MAX;
        let mut cur: Vec<u8> = Vec::new();
        for g in 0..count {
            let dblock_idx = g / per_block;
            let blk = if meta_bg && dblock_idx >= sb.first_meta_bg as u64 {
                // meta_bg: the descriptor block sits in the first group of
                // its meta group (after a superblock backup, if any).
                let first = dblock_idx * per_block;
                self.group_first_block(first) + u64::from(sb.group_has_super(first))
            } else {
                gdt_start + dblock_idx
            };
            if blk != cur_blk {
                cur = match self.read_block(blk) {
                    Ok(b) => b,
                    Err(e) => {
                        self.warn(format!(
                            "group descriptor block {blk}: {e}; groups from {g} unreadable"
                        ));
                        if out.is_empty() {
                            return Err(Error::corrupt(format!(
                                "group descriptors unreadable: {e}"
                            )));
                        }
                        break;
                    }
                };
                cur_blk = blk;
            }
            let off = ((g % per_block) * dsz) as usize;
            let d = GroupDesc::parse(&cur[off..off + dsz as usize], g, sb);
            if d.checksum_ok == Some(false) {
                self.warn(format!("group {g}: descriptor checksum mismatch"));
            }
            out.push(d);
        }
        Ok(out)
    }

    /// First block of group `g`.
    pub fn group_first_block(&self, g: u64) -> u64 {
        self.sb.first_data_block as u64 + g * self.sb.blocks_per_group as u64
    }
    /// The group that holds block `blk`.
    pub fn block_group_of(&self, blk: u64) -> u64 {
        blk.saturating_sub(self.sb.first_data_block as u64) / self.sb.blocks_per_group.max(1) as u64
    }
    /// The group that holds inode `ino`.
    pub fn inode_group_of(&self, ino: u32) -> u64 {
        (ino.saturating_sub(1) / self.sb.inodes_per_group.max(1)) as u64
    }
    /// Flex group (`2^s_log_groups_per_flex` groups).
    pub fn flex_group_of(&self, group: u64) -> u64 {
        group >> self.sb.log_groups_per_flex.min(31)
    }

    /// Byte position of inode `ino`'s record, if the number is in range.
    pub fn inode_position(&self, ino: u32) -> Result<u64> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(Error::NotFound(format!(
                "inode {ino} is outside 1..={}",
                self.sb.inodes_count
            )));
        }
        let ipg = self.sb.inodes_per_group as u64;
        let idx = (ino - 1) as u64;
        let g = idx / ipg;
        let gd = self
            .groups
            .get(g as usize)
            .ok_or_else(|| Error::corrupt(format!("inode {ino}: group {g} has no descriptor")))?;
        let table = gd.inode_table;
        let isz = self.sb.inode_size();
        let itable_blocks = (ipg * isz).div_ceil(self.block_size());
        if table == 0 || table.saturating_add(itable_blocks) > self.sb.blocks_count {
            return Err(Error::corrupt(format!(
                "group {g}: inode table at block {table} lies outside the filesystem"
            )));
        }
        Ok(table * self.block_size() + (idx % ipg) * isz)
    }

    /// Raw inode record bytes, whatever the allocation state.
    pub fn inode_raw(&self, ino: u32) -> Result<Vec<u8>> {
        let pos = self.inode_position(ino)?;
        let bs = self.block_size();
        let isz = self.sb.inode_size() as usize;
        let blk = self.read_block_cached(pos / bs)?;
        let off = (pos % bs) as usize;
        Ok(blk[off..off + isz].to_vec())
    }

    /// Just `i_mode` of inode `ino` (no decode, no checksum): the fast path
    /// for listings that only need the file type.
    pub fn inode_mode(&self, ino: u32) -> Result<u16> {
        let pos = self.inode_position(ino)?;
        let bs = self.block_size();
        let blk = self.read_block_cached(pos / bs)?;
        let off = (pos % bs) as usize;
        Ok(crate::util::bytes::le16(&blk, off))
    }

    /// Decode inode `ino`, whatever its allocation state.
    pub fn inode(&self, ino: u32) -> Result<Inode> {
        let raw = self.inode_raw(ino)?;
        Ok(Inode::parse(&raw, ino, &self.sb))
    }

    /// Journal inode or device, as the superblock names it.
    pub fn journal_inode(&self) -> Option<u32> {
        if self.sb.has_compat(super::superblock::compat::HAS_JOURNAL) && self.sb.journal_inum != 0 {
            Some(self.sb.journal_inum)
        } else {
            None
        }
    }
}

fn read_sb(src: &dyn ReadAt, pos: u64) -> Result<Superblock> {
    let b = crate::image::read_vec(src, pos, SUPERBLOCK_SIZE)?;
    Ok(Superblock::parse(&b))
}

/// Cheap probe: does `src` start with an ext2/3/4 superblock (primary or a
/// backup at a standard location)?
pub fn probe(src: &dyn ReadAt) -> bool {
    let mut b = [0u8; 2];
    if src.read_exact_at(SUPERBLOCK_OFFSET + 0x38, &mut b).is_ok() && le16(&b, 0) == EXT4_MAGIC {
        return true;
    }
    find_backup(src).is_some()
}

/// Try the group-1 backup for every block size (1 KiB .. 64 KiB), then
/// groups 3, 5, 7, 9 (sparse_super places copies at powers of 3, 5, 7).
fn find_backup(src: &dyn ReadAt) -> Option<(Superblock, u64, u64)> {
    let size = src.size();
    for log in 0..=6u32 {
        let bs = 1024u64 << log;
        let bpg = bs * 8;
        let first = if bs == 1024 { 1 } else { 0 };
        for g in [1u64, 3, 5, 7, 9, 25, 27, 49] {
            let blk = first + g * bpg;
            let pos = blk * bs; // backup superblock is the group's first block
            if pos + SUPERBLOCK_SIZE as u64 > size {
                break;
            }
            if let Ok(sb) = read_sb(src, pos) {
                if sb.magic == EXT4_MAGIC
                    && sb.block_size() == bs
                    && sb.blocks_per_group as u64 == bpg
                    && sb.sanity(size).is_ok()
                    && sb.verify_checksum() != Some(false)
                {
                    return Some((sb, g, pos));
                }
            }
        }
    }
    None
}

/// A small sharded FIFO cache for metadata blocks.
struct BlockCache {
    shards: Vec<Mutex<CacheShard>>,
}

struct CacheShard {
    map: HashMap<u64, std::sync::Arc<[u8]>>,
    order: std::collections::VecDeque<u64>,
}

const CACHE_SHARDS: usize = 16;
const CACHE_PER_SHARD: usize = 256;

impl BlockCache {
    fn new() -> Self {
        BlockCache {
            shards: (0..CACHE_SHARDS)
                .map(|_| {
                    Mutex::new(CacheShard {
                        map: HashMap::new(),
                        order: std::collections::VecDeque::new(),
                    })
                })
                .collect(),
        }
    }
    fn get(&self, blk: u64) -> Option<std::sync::Arc<[u8]>> {
        let s = self.shards[(blk as usize) % CACHE_SHARDS].lock().ok()?;
        s.map.get(&blk).cloned()
    }
    fn put(&self, blk: u64, b: std::sync::Arc<[u8]>) {
        if let Ok(mut s) = self.shards[(blk as usize) % CACHE_SHARDS].lock() {
            if s.map.insert(blk, b).is_none() {
                s.order.push_back(blk);
                if s.order.len() > CACHE_PER_SHARD {
                    if let Some(old) = s.order.pop_front() {
                        s.map.remove(&old);
                    }
                }
            }
        }
    }
}

//! Block maps: logical → physical runs for any inode, from extent trees
//! (any depth) or ext2/3 indirect maps, with bounded walks.

use super::extent::{tail_offset, ExtentNode, MAX_DEPTH};
use super::fs::Filesystem;
use super::inode::{flags, Inode};
use crate::util::bytes::le32;
use crate::util::crc::crc32c_update;
use serde::Serialize;
use std::collections::HashSet;

/// One run of the map. Holes are the logical gaps between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    /// Preallocated but unwritten: reads as zeros.
    pub unwritten: bool,
}

/// The full map of an inode, plus the tree/indirect blocks it used.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BlockMap {
    pub runs: Vec<Run>,
    /// Extent tree nodes or indirect blocks (block numbers).
    pub meta_blocks: Vec<u64>,
    /// Tree depth (extents) or indirection levels used (indirect maps).
    pub depth: u16,
    /// Extent tree block checksum failures (block numbers).
    pub bad_checksums: Vec<u64>,
    pub warnings: Vec<String>,
}

impl BlockMap {
    /// Number of data blocks mapped.
    pub fn mapped_blocks(&self) -> u64 {
        self.runs.iter().map(|r| r.len).sum()
    }
    /// Physical block for a logical block, if mapped.
    pub fn lookup(&self, logical: u64) -> Option<(u64, bool)> {
        let i = self.runs.partition_point(|r| r.logical + r.len <= logical);
        let r = self.runs.get(i)?;
        if r.logical <= logical {
            Some((r.physical + (logical - r.logical), r.unwritten))
        } else {
            None
        }
    }
    fn push(&mut self, logical: u64, physical: u64, len: u64, unwritten: bool) {
        if let Some(last) = self.runs.last_mut() {
            if last.logical + last.len == logical
                && last.physical + last.len == physical
                && last.unwritten == unwritten
            {
                last.len += len;
                return;
            }
        }
        self.runs.push(Run {
            logical,
            physical,
            len,
            unwritten,
        });
    }
    fn finish(&mut self) {
        // Order by logical block and drop overlaps (corrupt trees).
        self.runs.sort_by_key(|r| (r.logical, r.physical));
        let mut out: Vec<Run> = Vec::with_capacity(self.runs.len());
        let mut dropped = 0u64;
        for r in self.runs.drain(..) {
            if let Some(l) = out.last() {
                if r.logical < l.logical + l.len {
                    dropped += 1;
                    continue;
                }
            }
            out.push(r);
        }
        if dropped > 0 {
            self.warnings.push(format!(
                "{dropped} extents overlap earlier ones and were ignored"
            ));
        }
        // ext4 never maps one physical block twice in a file. A crafted tree
        // that does (84 extents over the same 2048 blocks) multiplies every
        // reader's work and memory: keep each physical block once.
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by_key(|&i| (out[i].physical, out[i].logical));
        let mut keep = vec![true; out.len()];
        let mut end = 0u64;
        let mut twice = 0u64;
        for &i in &order {
            let r = &out[i];
            if r.physical < end {
                keep[i] = false;
                twice += 1;
            } else {
                end = r.physical.saturating_add(r.len);
            }
        }
        if twice > 0 {
            self.warnings.push(format!(
                "{twice} extents map physical blocks already mapped by this inode (crafted or corrupt tree); ignored"
            ));
            let mut k = 0;
            out.retain(|_| {
                k += 1;
                keep[k - 1]
            });
        }
        self.runs = out;
    }
}

/// Upper bound on tree blocks visited for one inode (a 16 TiB file of
/// 4 KiB single-block extents needs ~12M leaves; anything past this is
/// hostile or a loop we failed to see).
const MAX_TREE_NODES: usize = 1 << 22;

impl Filesystem {
    /// The block map of a live (or still-described) inode.
    pub fn block_map(&self, inode: &Inode) -> BlockMap {
        let mut map = BlockMap::default();
        if inode.has_flag(flags::INLINE_DATA) {
            return map; // content lives in the inode; see `read_inline`
        }
        if matches!(
            inode.file_type(),
            super::inode::FileType::CharDev
                | super::inode::FileType::BlockDev
                | super::inode::FileType::Fifo
                | super::inode::FileType::Socket
        ) {
            return map;
        }
        if inode.file_type() == super::inode::FileType::Symlink && self.is_fast_symlink(inode) {
            return map;
        }
        if inode.has_flag(flags::EXTENTS) {
            let root = ExtentNode::parse(&inode.block, None);
            self.walk_extents(inode, &root, &mut map);
        } else {
            self.walk_indirect(&inode.block, &mut map);
        }
        map.finish();
        map
    }

    /// Walk an extent tree from a root node (normally `i_block`). Recovery
    /// passes a root re-parsed with an overridden entry count.
    pub fn walk_extents(&self, inode: &Inode, root: &ExtentNode, map: &mut BlockMap) {
        if !root.header.valid_magic() {
            map.warnings.push(format!(
                "inode {}: extent header magic 0x{:04x} is not 0xf30a",
                inode.ino, root.header.magic
            ));
            return;
        }
        if root.header.depth > MAX_DEPTH {
            map.warnings.push(format!(
                "inode {}: extent depth {} exceeds {MAX_DEPTH}",
                inode.ino, root.header.depth
            ));
            return;
        }
        map.depth = root.header.depth;
        let mut seen = HashSet::new();
        let seed = super::inode::Inode::csum_seed(inode.ino, inode.generation, &self.sb);
        self.walk_node(inode.ino, seed, root, root.header.depth, &mut seen, map);
    }

    fn walk_node(
        &self,
        ino: u32,
        seed: u32,
        node: &ExtentNode,
        depth: u16,
        seen: &mut HashSet<u64>,
        map: &mut BlockMap,
    ) {
        let total = self.sb.blocks_count;
        if node.overflow {
            map.warnings.push(format!(
                "inode {ino}: extent node claims {} entries, more than fit; truncated",
                node.header.entries
            ));
        }
        for l in &node.leaves {
            if l.len == 0 {
                continue;
            }
            let end = l.start.saturating_add(l.len as u64);
            if l.start == 0 || end > total {
                map.warnings.push(format!(
                    "inode {ino}: extent at logical {} -> {}+{} lies outside the filesystem ({} blocks); skipped",
                    l.block, l.start, l.len, total
                ));
                continue;
            }
            map.push(l.block as u64, l.start, l.len as u64, l.unwritten);
        }
        for idx in &node.indexes {
            if seen.len() >= MAX_TREE_NODES {
                map.warnings.push(format!(
                    "inode {ino}: more than {MAX_TREE_NODES} extent tree nodes; walk stopped"
                ));
                return;
            }
            if idx.leaf == 0 || idx.leaf >= total {
                map.warnings.push(format!(
                    "inode {ino}: extent index points to block {} outside the filesystem; subtree skipped",
                    idx.leaf
                ));
                continue;
            }
            if !seen.insert(idx.leaf) {
                map.warnings.push(format!(
                    "inode {ino}: extent tree loop at block {}; subtree skipped",
                    idx.leaf
                ));
                continue;
            }
            let blk = match self.read_block(idx.leaf) {
                Ok(b) => b,
                Err(e) => {
                    map.warnings
                        .push(format!("inode {ino}: extent block {}: {e}", idx.leaf));
                    continue;
                }
            };
            map.meta_blocks.push(idx.leaf);
            let child = ExtentNode::parse(&blk, None);
            if !child.header.valid_magic() {
                map.warnings.push(format!(
                    "inode {ino}: extent block {} has bad magic 0x{:04x}; subtree skipped",
                    idx.leaf, child.header.magic
                ));
                continue;
            }
            // Compared in u32: a crafted depth of 0xffff must not overflow.
            if u32::from(child.header.depth) + 1 != u32::from(depth) {
                map.warnings.push(format!(
                    "inode {ino}: extent block {} has depth {} under depth {depth}; subtree skipped",
                    idx.leaf, child.header.depth
                ));
                continue;
            }
            if self.sb.metadata_csum() {
                let off = tail_offset(&child.header);
                if off + 4 <= blk.len() {
                    let c = crc32c_update(seed, &blk[..off]);
                    if c != le32(&blk, off) {
                        map.bad_checksums.push(idx.leaf);
                    }
                }
            }
            self.walk_node(ino, seed, &child, child.header.depth, seen, map);
        }
    }

    /// ext2/3 maps: 12 direct, then single, double and triple indirect.
    pub fn walk_indirect(&self, i_block: &[u8; 60], map: &mut BlockMap) {
        let per = self.block_size() / 4;
        let mut seen = HashSet::new();
        for i in 0..12u64 {
            let b = le32(i_block, i as usize * 4) as u64;
            if b != 0 {
                self.push_checked(map, i, b);
            }
        }
        let mut base = 12u64;
        for level in 1..=3u32 {
            let ptr = le32(i_block, (11 + level as usize) * 4) as u64;
            if ptr != 0 {
                map.depth = level as u16;
                self.walk_ind_block(ptr, level, base, per, &mut seen, map);
            }
            base += per.pow(level);
        }
    }

    fn push_checked(&self, map: &mut BlockMap, logical: u64, phys: u64) {
        if phys >= self.sb.blocks_count {
            map.warnings.push(format!(
                "block pointer {phys} (logical {logical}) is outside the filesystem; skipped"
            ));
        } else {
            map.push(logical, phys, 1, false);
        }
    }

    fn walk_ind_block(
        &self,
        blk: u64,
        level: u32,
        base: u64,
        per: u64,
        seen: &mut HashSet<u64>,
        map: &mut BlockMap,
    ) {
        if blk >= self.sb.blocks_count {
            map.warnings.push(format!(
                "indirect block {blk} is outside the filesystem; skipped"
            ));
            return;
        }
        if !seen.insert(blk) || seen.len() > MAX_TREE_NODES {
            map.warnings
                .push(format!("indirect block {blk} seen twice (loop); skipped"));
            return;
        }
        let data = match self.read_block(blk) {
            Ok(d) => d,
            Err(e) => {
                map.warnings.push(format!("indirect block {blk}: {e}"));
                return;
            }
        };
        map.meta_blocks.push(blk);
        let span = per.pow(level - 1);
        for i in 0..per {
            let p = le32(&data, i as usize * 4) as u64;
            if p == 0 {
                continue;
            }
            let logical = base + i * span;
            if level == 1 {
                self.push_checked(map, logical, p);
            } else {
                self.walk_ind_block(p, level - 1, logical, per, seen, map);
            }
        }
    }
}

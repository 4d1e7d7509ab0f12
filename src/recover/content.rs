//! Content rebuild: choose the best surviving block map of a deleted
//! inode, check every block's present state, and stream what survives.

use super::{AllocCache, HistoricInode};
use crate::ext4::blockmap::{BlockMap, Run};
use crate::ext4::extent::{
    tail_offset, ExtentHeader, ExtentIndex, ExtentLeaf, ExtentNode, MAX_DEPTH,
};
use crate::ext4::inode::{flags, Inode};
use crate::ext4::journal::Journal;
use crate::ext4::Filesystem;
use crate::util::bytes::{is_zero, le32};
use crate::util::crc::crc32c_update;
use serde::Serialize;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentState {
    /// Every mapped block is free and holds data.
    Full,
    /// Some blocks survive, some are reallocated, wiped or unreadable.
    Partial,
    /// No map survives, or every block is in use by other files now.
    None,
    /// The blocks read back as zeros (discard/TRIM): nothing recovered.
    Wiped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Unallocated and holding data: recovered.
    Free,
    /// Unallocated but all zeros: wiped, not recovered.
    Zero,
    /// Allocated to something else now: may be overwritten, not claimed.
    Reallocated,
    /// Could not be read.
    Unreadable,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct RunCheck {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    pub state: RunState,
}

/// A block map rebuilt from deleted evidence.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveredMap {
    pub runs: Vec<Run>,
    pub tree_blocks: Vec<u64>,
    pub depth: u16,
    /// `journal` (a pre-deletion inode copy), `inode-index` (surviving index
    /// entries of a depth >= 1 tree), `inode-extents` (a tree whose header
    /// was not cleared), `stale-extents` (old leaf entries in i_block),
    /// `inode-blocks` (ext2/3 pointers).
    pub source: &'static str,
    pub journal_seq: Option<u32>,
    pub warnings: Vec<String>,
    /// The state of each run when checked for a candidate (empty until
    /// then); a candidate's `runs` in reports.
    #[serde(skip)]
    pub checks: Vec<RunCheck>,
}

impl RecoveredMap {
    pub fn blocks(&self) -> u64 {
        self.runs.iter().map(|r| r.len).sum()
    }
}

fn from_blockmap(m: BlockMap, source: &'static str, seq: Option<u32>) -> Option<RecoveredMap> {
    if m.runs.is_empty() {
        return None;
    }
    Some(RecoveredMap {
        runs: m.runs,
        tree_blocks: m.meta_blocks,
        depth: m.depth,
        source,
        journal_seq: seq,
        warnings: m.warnings,
        checks: Vec::new(),
    })
}

/// Is `blk` a plausible child extent node of inode `ino`? With
/// metadata_csum the tail checksum must match the inode's seed.
fn valid_child(fs: &Filesystem, ino: &Inode, blk: u64) -> Option<ExtentHeader> {
    if blk == 0 || blk >= fs.sb.blocks_count {
        return None;
    }
    let b = fs.read_block(blk).ok()?;
    let h = ExtentHeader::parse(&b);
    let max = ((fs.block_size() - 12) / 12) as u16;
    if !h.valid_magic()
        || h.depth >= MAX_DEPTH
        || h.max != max
        || h.entries == 0
        || h.entries > h.max
    {
        return None;
    }
    if fs.sb.metadata_csum() {
        let off = tail_offset(&h);
        let seed = Inode::csum_seed(ino.ino, ino.generation, &fs.sb);
        if off + 4 > b.len() || crc32c_update(seed, &b[..off]) != le32(&b, off) {
            return None;
        }
    }
    Some(h)
}

/// The best map for a deleted inode: a pre-deletion journal copy first,
/// then what the deleted inode itself still holds.
pub fn best_map(
    fs: &Filesystem,
    ino: &Inode,
    hist: Option<&HistoricInode>,
    _j: Option<&Journal>,
) -> Option<RecoveredMap> {
    if let Some(h) = hist {
        let c = &h.inode;
        if !c.has_flag(flags::INLINE_DATA) {
            let m = fs.block_map(c);
            if let Some(r) = from_blockmap(m, "journal", Some(h.sequence)) {
                return Some(r);
            }
        }
    }
    if ino.has_flag(flags::INLINE_DATA) {
        return None;
    }
    if !ino.has_flag(flags::EXTENTS) {
        let mut m = BlockMap::default();
        fs.walk_indirect(&ino.block, &mut m);
        return from_blockmap(m, "inode-blocks", None);
    }
    let root = ExtentNode::parse(&ino.block, None);
    if !root.header.valid_magic() {
        return None;
    }
    if root.header.entries > 0 {
        // Not cleared (orphan being deleted, or an older kernel).
        let m = fs.block_map(ino);
        if let Some(r) = from_blockmap(m, "inode-extents", None) {
            return Some(r);
        }
    }
    // eh_entries and eh_depth were zeroed; the index entries remain.
    let slots = ExtentNode::parse(&ino.block, Some(4));
    let mut idx: Vec<ExtentIndex> = Vec::new();
    let mut child_depth = None;
    for e in ino.block[12..60].chunks_exact(12) {
        let ix = ExtentIndex::parse(e);
        if let Some(h) = valid_child(fs, ino, ix.leaf) {
            if child_depth.is_none() || child_depth == Some(h.depth) {
                child_depth = Some(h.depth);
                idx.push(ix);
            }
        }
    }
    if let Some(d) = child_depth {
        let node = ExtentNode {
            header: ExtentHeader {
                depth: d + 1,
                entries: idx.len() as u16,
                ..root.header
            },
            indexes: idx,
            leaves: Vec::new(),
            overflow: false,
        };
        let mut m = BlockMap::default();
        let mut probe = ino.clone();
        probe.block[6..8].copy_from_slice(&(d + 1).to_le_bytes());
        fs.walk_extents(&probe, &node, &mut m);
        m.runs.sort_by_key(|r| r.logical);
        if let Some(r) = from_blockmap(m, "inode-index", None) {
            return Some(r);
        }
    }
    // Stale leaf entries left in i_block from before the tree grew.
    let mut m = BlockMap::default();
    let _ = slots;
    for e in ino.block[12..60].chunks_exact(12) {
        let l = ExtentLeaf::parse(e);
        if l.len > 0
            && l.start > fs.sb.first_data_block as u64
            && l.start + (l.len as u64) <= fs.sb.blocks_count
        {
            m.runs.push(Run {
                logical: l.block as u64,
                physical: l.start,
                len: l.len as u64,
                unwritten: l.unwritten,
            });
        }
    }
    m.runs.sort_by_key(|r| r.logical);
    from_blockmap(m, "stale-extents", None)
}

/// Check the present state of every mapped block.
pub fn check_runs(fs: &Filesystem, alloc: &AllocCache, map: &RecoveredMap) -> Vec<RunCheck> {
    let bs = fs.block_size() as usize;
    let mut out: Vec<RunCheck> = Vec::new();
    let mut buf = vec![0u8; bs];
    for r in &map.runs {
        for k in 0..r.len {
            let p = r.physical + k;
            let state = if r.unwritten {
                RunState::Zero
            } else {
                match alloc.block(p) {
                    Some(true) => RunState::Reallocated,
                    None => RunState::Unreadable,
                    Some(false) => match fs.read_blocks_into(p, &mut buf) {
                        Err(_) => RunState::Unreadable,
                        Ok(()) if is_zero(&buf) => RunState::Zero,
                        Ok(()) => RunState::Free,
                    },
                }
            };
            match out.last_mut() {
                Some(l)
                    if l.state == state
                        && l.logical + l.len == r.logical + k
                        && l.physical + l.len == p =>
                {
                    l.len += 1
                }
                _ => out.push(RunCheck {
                    logical: r.logical + k,
                    physical: p,
                    len: 1,
                    state,
                }),
            }
        }
    }
    out
}

/// Overall content verdict from the run states.
pub fn verdict(runs: &[RunCheck]) -> ContentState {
    let count = |s: RunState| {
        runs.iter()
            .filter(|r| r.state == s)
            .map(|r| r.len)
            .sum::<u64>()
    };
    let (free, zero, total) = (
        count(RunState::Free),
        count(RunState::Zero),
        runs.iter().map(|r| r.len).sum::<u64>(),
    );
    if total == 0 {
        ContentState::None
    } else if free == total {
        ContentState::Full
    } else if free > 0 {
        ContentState::Partial
    } else if zero > 0 {
        ContentState::Wiped
    } else {
        ContentState::None
    }
}

/// Blocks read at once by [`stream`]: 64 KiB at 4 KiB blocks (it was a
/// read per block), small enough to come from glibc's heap, as the
/// hashing runs on pool threads with arenas of their own.
const READ_BLOCKS: u64 = 16;

/// Stream recovered content: free blocks as read, everything else (holes,
/// wiped, reallocated, unreadable) as zeros. Stops at `size`.
pub fn stream(
    fs: &Filesystem,
    runs: &[RunCheck],
    size: u64,
    w: &mut dyn Write,
) -> crate::Result<()> {
    let bs = fs.block_size();
    let werr = |e: std::io::Error| crate::Error::io("writing recovered content", e);
    let mut pos = 0u64;
    // Free runs are read READ_BLOCKS at a time (not a read per block);
    // the buffer is no larger than the file needs.
    let most = size.div_ceil(bs.max(1)).clamp(1, READ_BLOCKS);
    let mut buf = vec![0u8; (most * bs) as usize];
    let zeros = vec![0u8; bs as usize];
    let mut sorted: Vec<&RunCheck> = runs.iter().collect();
    sorted.sort_by_key(|r| r.logical);
    for r in sorted {
        let mut k = 0u64;
        while k < r.len {
            let start = r.logical.saturating_add(k).saturating_mul(bs);
            if start >= size {
                return Ok(());
            }
            while pos < start {
                let n = (start - pos).min(bs);
                w.write_all(&zeros[..n as usize]).map_err(werr)?;
                pos += n;
            }
            // Blocks of this run still inside `size`, up to the buffer.
            let n = (r.len - k).min(most).min((size - start).div_ceil(bs));
            let take = (size - start).min(n * bs) as usize;
            let chunk = &mut buf[..(n * bs) as usize];
            let whole = r.state == RunState::Free
                && fs
                    .read_blocks_into(r.physical.saturating_add(k), chunk)
                    .is_ok();
            if whole {
                w.write_all(&chunk[..take]).map_err(werr)?;
            } else {
                // Block by block: an unreadable one is written as zeros.
                for j in 0..n {
                    let off = (j * bs) as usize;
                    let t = take.saturating_sub(off).min(bs as usize);
                    let one = &mut chunk[off..off + bs as usize];
                    if r.state == RunState::Free
                        && fs
                            .read_blocks_into(r.physical.saturating_add(k + j), one)
                            .is_ok()
                    {
                        w.write_all(&one[..t]).map_err(werr)?;
                    } else {
                        w.write_all(&zeros[..t]).map_err(werr)?;
                    }
                }
            }
            pos += take as u64;
            k += n;
        }
    }
    while pos < size {
        let n = (size - pos).min(bs);
        w.write_all(&zeros[..n as usize]).map_err(werr)?;
        pos += n;
    }
    Ok(())
}

/// Size estimate from a map when no inode says it: the end of the last
/// block, less trailing zero bytes of that block.
pub fn size_from_map(fs: &Filesystem, runs: &[RunCheck]) -> Option<u64> {
    let last = runs
        .iter()
        .filter(|r| r.state == RunState::Free)
        .max_by_key(|r| r.logical + r.len)?;
    let bs = fs.block_size();
    let b = fs.read_block(last.physical + last.len - 1).ok()?;
    let used = b.iter().rposition(|&c| c != 0).map(|i| i + 1).unwrap_or(0) as u64;
    Some((last.logical + last.len - 1) * bs + used)
}

/// Inline content of a deleted (or historic) inode: `i_block` plus the
/// `system.data` xattr from the inode body.
pub fn inline_content(fs: &Filesystem, ino: &Inode, size: u64) -> Vec<u8> {
    let mut v = ino.block.to_vec();
    if let Some(x) = fs.xattrs(ino).get(b"system.data") {
        v.extend_from_slice(&x.value);
    }
    v.truncate(size.min(v.len() as u64) as usize);
    v
}

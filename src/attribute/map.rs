//! The block ownership map: every block of the filesystem classified as
//! metadata, allocated to an inode (and so to an owner), claimed by deleted
//! evidence, or unallocated. Stored as sorted, non-overlapping runs split
//! at group boundaries, with an index of each group's first run: memory
//! grows with the number of extents, never with the disk size.

use super::owners::OwnerId;
use crate::ext4::Filesystem;
use serde::Serialize;

/// "No owner" in a [`SpanClass::Claimed`] run.
pub const NO_OWNER: OwnerId = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetaKind {
    Superblock,
    /// Group descriptor table (and its backups).
    Gdt,
    /// Reserved GDT blocks (online resize).
    ReservedGdt,
    BlockBitmap,
    InodeBitmap,
    InodeTable,
    Journal,
    /// Blocks before `s_first_data_block` (the boot block of 1 KiB filesystems).
    BootBlock,
}

impl MetaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetaKind::Superblock => "superblock",
            MetaKind::Gdt => "gdt",
            MetaKind::ReservedGdt => "reserved-gdt",
            MetaKind::BlockBitmap => "block-bitmap",
            MetaKind::InodeBitmap => "inode-bitmap",
            MetaKind::InodeTable => "inode-table",
            MetaKind::Journal => "journal",
            MetaKind::BootBlock => "boot-block",
        }
    }
}

/// What a run of blocks is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpanClass {
    Metadata(MetaKind),
    /// In use by a live inode reached from the root.
    Allocated {
        owner: OwnerId,
        inode: u32,
    },
    /// Free, but in a deleted candidate's surviving map. `strong`: the
    /// owner comes from a path or content (rules 2, 3), not a hint.
    Claimed {
        owner: OwnerId,
        inode: u32,
        strong: bool,
        score: f32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: u64,
    pub len: u32,
    pub class: SpanClass,
}

impl Span {
    pub fn end(&self) -> u64 {
        self.start + self.len as u64
    }
    pub fn inode(&self) -> Option<u32> {
        match self.class {
            SpanClass::Allocated { inode, .. } | SpanClass::Claimed { inode, .. } => Some(inode),
            SpanClass::Metadata(_) => None,
        }
    }
    /// The owner this run counts for (strong claims only).
    pub fn owner(&self) -> Option<OwnerId> {
        match self.class {
            SpanClass::Allocated { owner, .. } => Some(owner),
            SpanClass::Claimed {
                owner,
                strong: true,
                ..
            } if owner != NO_OWNER => Some(owner),
            _ => None,
        }
    }
}

/// The class of one block, as queries return it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BlockClass {
    Metadata(MetaKind),
    Allocated {
        owner: OwnerId,
        inode: u32,
    },
    /// Marked in use in the bitmap, but reached by no live path (orphan
    /// list, a damaged directory, inodes the walk skipped).
    AllocatedUnknown,
    Claimed {
        owner: OwnerId,
        inode: u32,
        strong: bool,
        score: f32,
    },
    Unallocated,
    /// Outside the filesystem, or the bitmap is unreadable.
    Unknown,
}

impl BlockClass {
    pub fn name(&self) -> &'static str {
        match self {
            BlockClass::Metadata(_) => "metadata",
            BlockClass::Allocated { .. } => "allocated",
            BlockClass::AllocatedUnknown => "allocated-unknown-owner",
            BlockClass::Claimed { .. } => "claimed-by-deleted-evidence",
            BlockClass::Unallocated => "unallocated",
            BlockClass::Unknown => "unknown",
        }
    }
    fn of(c: SpanClass) -> BlockClass {
        match c {
            SpanClass::Metadata(m) => BlockClass::Metadata(m),
            SpanClass::Allocated { owner, inode } => BlockClass::Allocated { owner, inode },
            SpanClass::Claimed {
                owner,
                inode,
                strong,
                score,
            } => BlockClass::Claimed {
                owner,
                inode,
                strong,
                score,
            },
        }
    }
}

/// Per-group totals.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct GroupCounts {
    pub metadata: u64,
    pub allocated: u64,
    pub allocated_unknown: u64,
    pub claimed: u64,
    pub unallocated: u64,
}

pub struct OwnershipMap {
    spans: Vec<Span>,
    /// `group_first[g]`: index of group g's first run (len = groups + 1).
    group_first: Vec<usize>,
    first_data_block: u64,
    blocks_per_group: u64,
    blocks_count: u64,
    /// Allocated bits per group (from the bitmaps), `None` if unreadable.
    alloc_bits: Vec<Option<u64>>,
}

/// Sort, then trim overlaps (the run that starts first keeps the blocks).
/// In place: a second array was 160 MB for 5M live files.
fn normalise(mut v: Vec<Span>) -> Vec<Span> {
    v.sort_by_key(|s| (s.start, std::cmp::Reverse(s.len)));
    let mut cursor = 0u64;
    let mut kept = 0;
    for i in 0..v.len() {
        let mut s = v[i];
        if s.len == 0 {
            continue;
        }
        if s.start < cursor {
            let cut = cursor - s.start;
            if cut >= s.len as u64 {
                continue;
            }
            s.start = cursor;
            s.len -= cut as u32;
        }
        cursor = s.end();
        v[kept] = s;
        kept += 1;
    }
    v.truncate(kept);
    v
}

/// The parts of `add` (normalised) not covered by `base` (normalised).
fn subtract(base: &[Span], add: Vec<Span>) -> Vec<Span> {
    let mut out = Vec::with_capacity(add.len());
    let mut j = 0;
    for a in add {
        while j < base.len() && base[j].end() <= a.start {
            j += 1;
        }
        let mut cur = a.start;
        let mut k = j;
        while k < base.len() && base[k].start < a.end() {
            let b = base[k];
            if b.start > cur {
                out.push(Span {
                    start: cur,
                    len: (b.start - cur) as u32,
                    class: a.class,
                });
            }
            cur = cur.max(b.end());
            k += 1;
        }
        if cur < a.end() {
            out.push(Span {
                start: cur,
                len: (a.end() - cur) as u32,
                class: a.class,
            });
        }
    }
    out
}

/// Runs for `len` blocks from `start` (clipped to the filesystem, split so
/// that no run crosses a group boundary).
pub fn runs(fs: &Filesystem, start: u64, len: u64, class: SpanClass, out: &mut Vec<Span>) {
    let total = fs.sb.blocks_count;
    let bpg = (fs.sb.blocks_per_group as u64).max(1);
    let fdb = fs.sb.first_data_block as u64;
    let mut s = start.min(total);
    let end = start.saturating_add(len).min(total);
    while s < end {
        let g_end = if s < fdb {
            fdb
        } else {
            fdb + ((s - fdb) / bpg + 1) * bpg
        };
        let e = end.min(g_end).min(s + u32::MAX as u64);
        out.push(Span {
            start: s,
            len: (e - s) as u32,
            class,
        });
        s = e;
    }
}

impl OwnershipMap {
    /// Build from tiers in priority order (metadata, allocated, claimed):
    /// a later tier only fills blocks no earlier tier took.
    pub fn build(fs: &Filesystem, tiers: Vec<Vec<Span>>) -> OwnershipMap {
        let mut all: Vec<Span> = Vec::new();
        for t in tiers {
            let t = normalise(t);
            let add = subtract(&all, t);
            all.extend(add);
            all.sort_by_key(|s| s.start);
        }
        let groups = fs.group_count();
        let bpg = (fs.sb.blocks_per_group as u64).max(1);
        let fdb = fs.sb.first_data_block as u64;
        let mut group_first = Vec::with_capacity(groups as usize + 1);
        let mut i = 0;
        for g in 0..=groups {
            let gstart = fdb + g * bpg;
            while i < all.len() && all[i].start < gstart && g > 0 {
                i += 1;
            }
            group_first.push(i);
        }
        use rayon::prelude::*;
        let alloc_bits: Vec<Option<u64>> = (0..groups)
            .into_par_iter()
            .map(|g| {
                fs.block_bitmap(g).ok().map(|b| {
                    let full = (b.len / 8) as usize;
                    let mut n: u64 = b.bits[..full.min(b.bits.len())]
                        .iter()
                        .map(|x| x.count_ones() as u64)
                        .sum();
                    for k in (full as u64 * 8)..b.len {
                        n += b.get(k) as u64;
                    }
                    n
                })
            })
            .collect();
        OwnershipMap {
            spans: all,
            group_first,
            first_data_block: fdb,
            blocks_per_group: bpg,
            blocks_count: fs.sb.blocks_count,
            alloc_bits,
        }
    }

    /// Name the hinted owner of weak claims (deleted inode → owner, score).
    pub fn set_hint_owners(&mut self, by_ino: &std::collections::HashMap<u32, (OwnerId, f32)>) {
        for s in &mut self.spans {
            if let SpanClass::Claimed {
                owner,
                inode,
                strong: false,
                score,
            } = &mut s.class
            {
                if let Some(&(o, sc)) = by_ino.get(inode) {
                    *owner = o;
                    *score = sc;
                }
            }
        }
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn group_count(&self) -> u64 {
        self.group_first.len().saturating_sub(1) as u64
    }

    pub fn group_of(&self, blk: u64) -> u64 {
        blk.saturating_sub(self.first_data_block) / self.blocks_per_group
    }

    /// The runs of group `g`.
    pub fn group_spans(&self, g: u64) -> &[Span] {
        let (Some(&a), Some(&b)) = (
            self.group_first.get(g as usize),
            self.group_first.get(g as usize + 1),
        ) else {
            return &[];
        };
        self.spans.get(a..b).unwrap_or(&[])
    }

    /// Index of the first run ending after `blk`.
    pub fn first_after(&self, blk: u64) -> usize {
        self.spans.partition_point(|s| s.end() <= blk)
    }

    /// The run holding `blk`, if any.
    pub fn span_at(&self, blk: u64) -> Option<&Span> {
        let gs = self.group_spans(self.group_of(blk));
        let i = gs.partition_point(|s| s.end() <= blk);
        gs.get(i).filter(|s| s.start <= blk)
    }

    /// The class of one block.
    pub fn class_of(&self, fs: &Filesystem, blk: u64) -> BlockClass {
        if blk >= self.blocks_count {
            return BlockClass::Unknown;
        }
        if let Some(s) = self.span_at(blk) {
            return BlockClass::of(s.class);
        }
        match fs.block_allocated(blk) {
            Some(true) => BlockClass::AllocatedUnknown,
            Some(false) => BlockClass::Unallocated,
            None => BlockClass::Unknown,
        }
    }

    /// Totals of group `g`.
    pub fn group_counts(&self, g: u64) -> GroupCounts {
        let mut c = GroupCounts::default();
        let mut allocated_in_bitmap = 0u64;
        let first = self.first_data_block + g * self.blocks_per_group;
        // The boot block before `s_first_data_block` (1 KiB blocks) is
        // counted by the summary, not by group 0.
        for s in self.group_spans(g).iter().filter(|s| s.start >= first) {
            let n = s.len as u64;
            match s.class {
                SpanClass::Metadata(_) => {
                    c.metadata += n;
                    allocated_in_bitmap += n;
                }
                SpanClass::Allocated { .. } => {
                    c.allocated += n;
                    allocated_in_bitmap += n;
                }
                SpanClass::Claimed { .. } => c.claimed += n,
            }
        }
        let len = self
            .blocks_count
            .saturating_sub(first)
            .min(self.blocks_per_group);
        let bits = self.alloc_bits.get(g as usize).copied().flatten();
        if let Some(bits) = bits {
            c.allocated_unknown = bits.saturating_sub(allocated_in_bitmap);
        }
        c.unallocated =
            len.saturating_sub(c.metadata + c.allocated + c.allocated_unknown + c.claimed);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(start: u64, len: u32, owner: OwnerId) -> Span {
        Span {
            start,
            len,
            class: SpanClass::Allocated {
                owner,
                inode: owner,
            },
        }
    }

    #[test]
    fn normalise_and_subtract() {
        let base = normalise(vec![sp(10, 10, 1), sp(15, 10, 2)]);
        assert_eq!(base, vec![sp(10, 10, 1), sp(20, 5, 2)]);
        let add = subtract(&base, normalise(vec![sp(0, 40, 3)]));
        assert_eq!(add, vec![sp(0, 10, 3), sp(25, 15, 3)]);
        assert!(subtract(&base, vec![sp(12, 3, 4)]).is_empty());
    }
}

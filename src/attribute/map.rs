//! The block ownership map: every block of the filesystem classified as
//! metadata, allocated to an inode (and so to an owner), claimed by deleted
//! evidence, or unallocated. Stored as sorted, non-overlapping 16-byte runs,
//! one array per block group (no run crosses a group), built one group at a
//! time: memory grows with the number of extents, never with the disk size.

use super::live::LiveOwners;
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

impl MetaKind {
    const ALL: [MetaKind; 8] = [
        MetaKind::Superblock,
        MetaKind::Gdt,
        MetaKind::ReservedGdt,
        MetaKind::BlockBitmap,
        MetaKind::InodeBitmap,
        MetaKind::InodeTable,
        MetaKind::Journal,
        MetaKind::BootBlock,
    ];
    fn id(self) -> u32 {
        MetaKind::ALL.iter().position(|&k| k == self).unwrap_or(0) as u32
    }
}

/// What a run of blocks is, as queries see it.
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

/// What a stored run refers to: the owner is looked up when asked, so a
/// run is 16 bytes (32 with the owner inside: 62 MB for 5M live files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKey {
    Metadata(MetaKind),
    /// A live inode.
    Allocated(u32),
    /// A deleted candidate, by index in the recovery's candidates.
    Claimed(u32),
}

/// The claim of one deleted candidate on its free runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Claim {
    pub inode: u32,
    pub owner: OwnerId,
    pub strong: bool,
    pub score: f32,
}

/// Tag bits above the block number. ext4 addresses at most 2^48 blocks
/// (48-bit extent starts, `ee_start_hi:ee_start_lo`); [`runs`] clips there.
const TAG_SHIFT: u32 = 62;
const MAX_BLOCKS: u64 = 1 << 48;

/// A run of blocks: start (and kind), length, and the inode, candidate or
/// metadata kind it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start_tag: u64,
    pub len: u32,
    id: u32,
}

impl Span {
    /// `start` must be below 2^48: [`runs`] clips there before calling.
    fn new(start: u64, len: u32, key: SpanKey) -> Span {
        let (tag, id) = match key {
            SpanKey::Metadata(k) => (0u64, k.id()),
            SpanKey::Allocated(i) => (1, i),
            SpanKey::Claimed(i) => (2, i),
        };
        Span {
            start_tag: (start & (MAX_BLOCKS - 1)) | tag << TAG_SHIFT,
            len,
            id,
        }
    }
    pub fn start(&self) -> u64 {
        self.start_tag & (MAX_BLOCKS - 1)
    }
    pub fn end(&self) -> u64 {
        self.start() + self.len as u64
    }
    pub fn key(&self) -> SpanKey {
        match self.start_tag >> TAG_SHIFT {
            0 => SpanKey::Metadata(
                MetaKind::ALL
                    .get(self.id as usize)
                    .copied()
                    .unwrap_or(MetaKind::Superblock),
            ),
            1 => SpanKey::Allocated(self.id),
            _ => SpanKey::Claimed(self.id),
        }
    }
    /// 0 metadata, 1 allocated, 2 claimed: earlier tiers win overlaps.
    fn tier(&self) -> u64 {
        self.start_tag >> TAG_SHIFT
    }
    fn with(&self, start: u64, len: u32) -> Span {
        Span {
            start_tag: (start & (MAX_BLOCKS - 1)) | self.tier() << TAG_SHIFT,
            len,
            id: self.id,
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
    /// Each group's runs, sorted and non-overlapping; one more bucket at
    /// the end for runs past the last group a lying superblock counts.
    groups: Vec<Box<[Span]>>,
    first_data_block: u64,
    blocks_per_group: u64,
    blocks_count: u64,
    /// Allocated bits per group (from the bitmaps), `None` if unreadable.
    alloc_bits: Vec<Option<u64>>,
    /// Owners of live inodes, and the claims of deleted candidates.
    pub live: LiveOwners,
    claims: Vec<Claim>,
}

/// Sort, then trim overlaps (the run that starts first keeps the blocks).
fn normalise(v: &mut Vec<Span>) {
    v.sort_by_key(|s| (s.start(), std::cmp::Reverse(s.len)));
    let mut cursor = 0u64;
    let mut kept = 0;
    for i in 0..v.len() {
        let Some(&s) = v.get(i) else { break };
        if s.len == 0 {
            continue;
        }
        let mut s = s;
        if s.start() < cursor {
            let cut = cursor - s.start();
            if cut >= s.len as u64 {
                continue;
            }
            s = s.with(cursor, s.len - cut as u32);
        }
        cursor = s.end();
        if let Some(slot) = v.get_mut(kept) {
            *slot = s;
        }
        kept += 1;
    }
    v.truncate(kept);
}

/// The parts of `add` (normalised) not covered by `base` (normalised).
fn subtract(base: &[Span], add: &[Span], out: &mut Vec<Span>) {
    let mut j = 0;
    for a in add {
        while base.get(j).is_some_and(|b| b.end() <= a.start()) {
            j += 1;
        }
        let mut cur = a.start();
        let mut k = j;
        while let Some(b) = base.get(k).filter(|b| b.start() < a.end()) {
            if b.start() > cur {
                out.push(a.with(cur, (b.start() - cur) as u32));
            }
            cur = cur.max(b.end());
            k += 1;
        }
        if cur < a.end() {
            out.push(a.with(cur, (a.end() - cur) as u32));
        }
    }
}

/// One group's runs from all tiers: each tier normalised, then a later
/// tier only fills blocks no earlier tier took; sorted by start.
fn merge_tiers(mut raw: Vec<Span>) -> Box<[Span]> {
    raw.sort_by_key(|s| s.tier());
    let mut out: Vec<Span> = Vec::new();
    let mut rest = raw.as_slice();
    let mut tier_buf = Vec::new();
    while let Some(first) = rest.first() {
        let t = first.tier();
        let n = rest.iter().take_while(|s| s.tier() == t).count();
        tier_buf.clear();
        tier_buf.extend_from_slice(rest.get(..n).unwrap_or(&[]));
        rest = rest.get(n..).unwrap_or(&[]);
        normalise(&mut tier_buf);
        let mut add = Vec::new();
        subtract(&out, &tier_buf, &mut add);
        out.extend(add);
        out.sort_by_key(|s| s.start());
    }
    out.into_boxed_slice()
}

/// Runs for `len` blocks from `start` (clipped to the filesystem, split so
/// that no run crosses a group boundary).
pub fn runs(fs: &Filesystem, start: u64, len: u64, key: SpanKey, out: &mut Vec<Span>) {
    let total = fs.sb.blocks_count.min(MAX_BLOCKS);
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
        out.push(Span::new(s, (e - s) as u32, key));
        s = e;
    }
}

/// Collects raw runs into their groups; [`MapBuilder::finish`] merges the
/// tiers one group at a time, so no second copy of all runs is made.
pub struct MapBuilder {
    groups: Vec<Vec<Span>>,
    first_data_block: u64,
    blocks_per_group: u64,
}

impl MapBuilder {
    pub fn new(fs: &Filesystem) -> MapBuilder {
        MapBuilder {
            groups: vec![Vec::new(); fs.group_count() as usize + 1],
            first_data_block: fs.sb.first_data_block as u64,
            blocks_per_group: (fs.sb.blocks_per_group as u64).max(1),
        }
    }

    /// Add runs made by [`runs`] (any order, any tier).
    pub fn add(&mut self, spans: &[Span]) {
        let last = self.groups.len().saturating_sub(1);
        for s in spans {
            let g = (s.start().saturating_sub(self.first_data_block) / self.blocks_per_group)
                .min(last as u64) as usize;
            if let Some(v) = self.groups.get_mut(g) {
                v.push(*s);
            }
        }
    }

    pub fn finish(self, fs: &Filesystem, live: LiveOwners, claims: Vec<Claim>) -> OwnershipMap {
        use rayon::prelude::*;
        // On this thread: the merged runs are the map's lasting arrays, and
        // made on pool threads they would stay in those threads' glibc
        // arenas, apart from the memory this thread has freed. Merging
        // every group's runs here took no visible time (attribution phase
        // at 1M: 1.50-1.53 s, against 1.54 s in parallel).
        let groups: Vec<Box<[Span]>> = self.groups.into_iter().map(merge_tiers).collect();
        let alloc_bits: Vec<Option<u64>> = (0..fs.group_count())
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
            groups,
            first_data_block: self.first_data_block,
            blocks_per_group: self.blocks_per_group,
            blocks_count: fs.sb.blocks_count,
            alloc_bits,
            live,
            claims,
        }
    }
}

impl OwnershipMap {
    /// What a run is, with its owner.
    pub fn class(&self, s: &Span) -> SpanClass {
        match s.key() {
            SpanKey::Metadata(m) => SpanClass::Metadata(m),
            SpanKey::Allocated(inode) => SpanClass::Allocated {
                owner: self.live.get(inode).map(|x| x.0).unwrap_or(NO_OWNER),
                inode,
            },
            SpanKey::Claimed(i) => {
                let c = self.claim(i);
                SpanClass::Claimed {
                    owner: c.owner,
                    inode: c.inode,
                    strong: c.strong,
                    score: c.score,
                }
            }
        }
    }

    fn claim(&self, i: u32) -> Claim {
        self.claims.get(i as usize).copied().unwrap_or(Claim {
            inode: 0,
            owner: NO_OWNER,
            strong: false,
            score: 0.0,
        })
    }

    /// The inode a run belongs to (live, or the deleted candidate's).
    pub fn inode(&self, s: &Span) -> Option<u32> {
        match s.key() {
            SpanKey::Allocated(inode) => Some(inode),
            SpanKey::Claimed(i) => Some(self.claim(i).inode),
            SpanKey::Metadata(_) => None,
        }
    }

    /// The owner a run counts for (strong claims only).
    pub fn owner(&self, s: &Span) -> Option<OwnerId> {
        match self.class(s) {
            SpanClass::Allocated { owner, .. } if owner != NO_OWNER => Some(owner),
            SpanClass::Claimed {
                owner,
                strong: true,
                ..
            } if owner != NO_OWNER => Some(owner),
            _ => None,
        }
    }

    /// Name the owner of weak claims (candidate index → owner, score).
    pub fn set_claim(&mut self, i: usize, owner: OwnerId, score: f32) {
        if let Some(c) = self.claims.get_mut(i) {
            c.owner = owner;
            c.score = score;
        }
    }

    /// Every run, in block order.
    pub fn spans(&self) -> impl Iterator<Item = &Span> + '_ {
        self.groups.iter().flat_map(|g| g.iter())
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.is_empty())
    }

    pub fn group_count(&self) -> u64 {
        self.groups.len().saturating_sub(1) as u64
    }

    pub fn group_of(&self, blk: u64) -> u64 {
        blk.saturating_sub(self.first_data_block) / self.blocks_per_group
    }

    fn bucket(&self, blk: u64) -> usize {
        (self.group_of(blk) as usize).min(self.groups.len().saturating_sub(1))
    }

    /// The runs of group `g`.
    pub fn group_spans(&self, g: u64) -> &[Span] {
        usize::try_from(g)
            .ok()
            .and_then(|g| self.groups.get(g))
            .map(|b| &b[..])
            .unwrap_or(&[])
    }

    /// Runs ending after `blk`, ascending.
    pub fn after(&self, blk: u64) -> impl Iterator<Item = &Span> + '_ {
        let g = self.bucket(blk);
        let first = self.groups.get(g).map(|s| {
            let k = s.partition_point(|x| x.end() <= blk);
            s.get(k..).unwrap_or(&[])
        });
        first
            .into_iter()
            .flatten()
            .chain(self.groups.iter().skip(g + 1).flat_map(|s| s.iter()))
    }

    /// Runs ending at or before `blk`, descending.
    pub fn before(&self, blk: u64) -> impl Iterator<Item = &Span> + '_ {
        let g = self.bucket(blk);
        let first = self.groups.get(g).map(|s| {
            let k = s.partition_point(|x| x.end() <= blk);
            s.get(..k).unwrap_or(&[])
        });
        first.into_iter().flat_map(|s| s.iter().rev()).chain(
            self.groups
                .get(..g)
                .unwrap_or(&[])
                .iter()
                .rev()
                .flat_map(|s| s.iter().rev()),
        )
    }

    /// The run holding `blk`, if any.
    pub fn span_at(&self, blk: u64) -> Option<&Span> {
        self.after(blk).next().filter(|s| s.start() <= blk)
    }

    /// The class of one block.
    pub fn class_of(&self, fs: &Filesystem, blk: u64) -> BlockClass {
        if blk >= self.blocks_count {
            return BlockClass::Unknown;
        }
        if let Some(s) = self.span_at(blk) {
            return BlockClass::of(self.class(s));
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
        for s in self.group_spans(g).iter().filter(|s| s.start() >= first) {
            let n = s.len as u64;
            match s.key() {
                SpanKey::Metadata(_) => {
                    c.metadata += n;
                    allocated_in_bitmap += n;
                }
                SpanKey::Allocated(_) => {
                    c.allocated += n;
                    allocated_in_bitmap += n;
                }
                SpanKey::Claimed(_) => c.claimed += n,
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

    fn sp(start: u64, len: u32, ino: u32) -> Span {
        Span::new(start, len, SpanKey::Allocated(ino))
    }

    #[test]
    fn normalise_and_subtract() {
        let mut base = vec![sp(10, 10, 1), sp(15, 10, 2)];
        normalise(&mut base);
        assert_eq!(base, vec![sp(10, 10, 1), sp(20, 5, 2)]);
        let mut add = vec![sp(0, 40, 3)];
        normalise(&mut add);
        let mut out = Vec::new();
        subtract(&base, &add, &mut out);
        assert_eq!(out, vec![sp(0, 10, 3), sp(25, 15, 3)]);
        out.clear();
        subtract(&base, &[sp(12, 3, 4)], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn tiers_merge_by_priority_and_keys_round_trip() {
        let meta = Span::new(12, 4, SpanKey::Metadata(MetaKind::InodeTable));
        let claim = Span::new(0, 30, SpanKey::Claimed(7));
        let merged = merge_tiers(vec![claim, sp(10, 10, 1), meta, sp(15, 10, 2)]);
        let got: Vec<(u64, u32, SpanKey)> =
            merged.iter().map(|s| (s.start(), s.len, s.key())).collect();
        assert_eq!(
            got,
            vec![
                (0, 10, SpanKey::Claimed(7)),
                (10, 2, SpanKey::Allocated(1)),
                (12, 4, SpanKey::Metadata(MetaKind::InodeTable)),
                (16, 4, SpanKey::Allocated(1)),
                (20, 5, SpanKey::Allocated(2)),
                (25, 5, SpanKey::Claimed(7)),
            ]
        );
        let big = Span::new((1 << 48) - 1, 1, SpanKey::Allocated(u32::MAX));
        assert_eq!(big.start(), (1 << 48) - 1);
        assert_eq!(big.key(), SpanKey::Allocated(u32::MAX));
        assert_eq!(std::mem::size_of::<Span>(), 16);
    }
}

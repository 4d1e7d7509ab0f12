//! Layer 3: deleted-file recovery.
//!
//! Evidence sources (docs/design.md):
//! - inode tables: deleted inodes keep mode, owner, times, xattrs, inline
//!   data, and for extent depth >= 1 the index entries in `i_block`;
//! - slack of live directory blocks (pre-5.13 kernels keep deleted names);
//! - freed directory blocks (after `rm -rf` they keep the original entries);
//! - the jbd2 journal: old copies of inode-table and directory blocks.
//!
//! All of it is combined into [`DeletedCandidate`]s, each with the evidence
//! it rests on, where its name came from and what state its content is in.

mod alloc;
pub mod carve;
mod clue;
pub mod content;
mod inodes;
mod names;
mod paths;
pub mod timeline;

pub use alloc::AllocCache;
pub use clue::{Clue, Digests, StaleName};
pub use content::{ContentState, RecoveredMap, RunCheck, RunState};
pub use names::{DeletedName, NameSource};
pub use timeline::{DeathSource, Incarnation, Now, Proof, Timeline};

use crate::ext4::inode::FileType;
use crate::ext4::journal::Journal;
use crate::ext4::{Filesystem, Inode};
use crate::util::time::Ext4Time;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CandidateKind {
    /// A deleted inode or name with a reconstructed path.
    Deleted,
    /// No surviving name: listed under `$Orphan/<inode>`.
    Orphan,
}

/// One deleted file, with every clue that survives.
#[derive(Clone, Debug, Serialize)]
pub struct DeletedCandidate {
    pub inode: u32,
    pub kind: CandidateKind,
    /// Full path (raw bytes), or `$Orphan/<inode>` when no name survives.
    #[serde(skip)]
    pub path: Box<[u8]>,
    pub name_source: NameSource,
    /// Every source that gave a name for this inode.
    pub name_sources: SourceSet,
    pub parent_inode: Option<u32>,
    pub file_type: FileType,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    /// Best known size: from the inode, a journal copy, or the block map.
    pub size: Option<u64>,
    pub size_source: SizeSource,
    pub atime: Ext4Time,
    pub mtime: Ext4Time,
    pub ctime: Ext4Time,
    pub crtime: Ext4Time,
    pub dtime: Ext4Time,
    pub generation: Option<u32>,
    /// The inode number is in use again by another file (fls `(realloc)`).
    pub realloc: bool,
    pub journal_seq: Option<u32>,
    /// How the path's chain was shown to hold at one time, its weakest
    /// link: `None` when the path does not reach the root.
    pub path_proof: Option<Proof>,
    /// Boxed: most candidates have none, and the record stays small.
    pub map: Option<Box<RecoveredMap>>,
    pub content: ContentState,
    /// Boxed: only candidates with content have them (hex on output via
    /// [`DeletedCandidate::sha256_hex`]).
    #[serde(skip)]
    pub digests: Option<Box<Digests>>,
    /// Worded on output by [`DeletedCandidate::evidence_text`].
    #[serde(skip)]
    pub evidence: Box<[Clue]>,
    /// 0.0 – 1.0: how sure we are that name, metadata and content belong together.
    pub confidence: f32,
    /// Second names, inline data and symlink targets: most candidates
    /// have none of them, so they share one optional box (three empty
    /// fields inline were 72 bytes of every candidate).
    #[serde(skip)]
    pub extras: Option<Box<Extras>>,
}

/// The rarer parts of a [`DeletedCandidate`].
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// Every other name found for this inode (full paths) with its source.
    pub other_paths: Vec<(Vec<u8>, NameSource)>,
    pub symlink_target: Option<String>,
    pub inline_data: Option<Vec<u8>>,
    /// Where `dtime` came from.
    pub dtime_source: Option<DeathSource>,
    /// Which incarnation of the inode number this row is.
    pub incarnation: Option<IncarnationInfo>,
}

/// One incarnation of an inode number, as a row reports it.
#[derive(Clone, Debug, Serialize)]
pub struct IncarnationInfo {
    pub generation: u32,
    pub crtime: Option<crate::util::time::Timestamp>,
    /// Journal transactions that first and last showed it linked, and the
    /// first that showed it unlinked.
    pub first_transaction: Option<u32>,
    pub last_transaction: Option<u32>,
    pub end_transaction: Option<u32>,
    /// `deleted-record` (the inode table holds it), `gone` (only the
    /// journal knows it).
    pub state: Now,
    /// The incarnation that took the number next.
    pub superseded_by: Option<Successor>,
}

/// The next incarnation of an inode number.
#[derive(Clone, Debug, Serialize)]
pub struct Successor {
    pub generation: u32,
    pub crtime: Option<crate::util::time::Timestamp>,
    /// It is the file that holds the number now.
    pub live: bool,
}

/// Where a candidate's size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SizeSource {
    None,
    /// `i_size` of a pre-deletion journal copy (exact).
    Journal,
    /// `i_size` left in the deleted inode.
    Inode,
    /// Estimated from the rebuilt block map.
    MapEstimate,
}

impl SizeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SizeSource::None => "none",
            SizeSource::Journal => "journal",
            SizeSource::Inode => "inode",
            SizeSource::MapEstimate => "map-estimate",
        }
    }
}

impl DeletedCandidate {
    /// Each run of the map with its state now (free, zeroed, reallocated).
    pub fn runs(&self) -> &[RunCheck] {
        self.map
            .as_ref()
            .map(|m| m.checks.as_slice())
            .unwrap_or(&[])
    }
    pub fn sha256_hex(&self) -> Option<String> {
        self.digests
            .as_ref()
            .map(|d| crate::util::bytes::hex(&d.sha256))
    }
    pub fn md5_hex(&self) -> Option<String> {
        self.digests
            .as_ref()
            .map(|d| crate::util::bytes::hex(&d.md5))
    }
    /// Every other name for this inode (full paths) with its source.
    pub fn other_paths(&self) -> &[(Vec<u8>, NameSource)] {
        self.extras
            .as_ref()
            .map(|e| e.other_paths.as_slice())
            .unwrap_or(&[])
    }
    pub fn symlink_target(&self) -> Option<&str> {
        self.extras.as_ref()?.symlink_target.as_deref()
    }
    /// Content held in the candidate itself (inline data, a fast symlink,
    /// or the empty content of a known-empty file).
    pub fn inline_data(&self) -> Option<&[u8]> {
        self.extras.as_ref()?.inline_data.as_deref()
    }
    pub fn dtime_source(&self) -> Option<DeathSource> {
        self.extras.as_ref()?.dtime_source
    }
    pub fn incarnation(&self) -> Option<&IncarnationInfo> {
        self.extras.as_ref()?.incarnation.as_ref()
    }
    pub fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }
    /// Every clue as a sentence, in the order found.
    pub fn evidence_text(&self) -> Vec<String> {
        self.evidence.iter().map(|e| e.text(self)).collect()
    }
}

/// A set of [`NameSource`]s in one byte (serialized as a sorted list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceSet(u8);

impl SourceSet {
    const ALL: [NameSource; 5] = [
        NameSource::Live,
        NameSource::Slack,
        NameSource::FreedDirBlock,
        NameSource::Journal,
        NameSource::None,
    ];
    fn bit(s: NameSource) -> u8 {
        1 << (s as u8)
    }
    pub fn insert(&mut self, s: NameSource) {
        self.0 |= Self::bit(s);
    }
    pub fn contains(&self, s: &NameSource) -> bool {
        self.0 & Self::bit(*s) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    /// In [`NameSource`]'s order (its `Ord`).
    pub fn iter(&self) -> impl Iterator<Item = NameSource> + '_ {
        Self::ALL.into_iter().filter(|s| self.contains(s))
    }
}

impl Serialize for SourceSet {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.iter())
    }
}

/// The result of a recovery pass over one filesystem.
#[derive(Default)]
pub struct Recovery {
    pub candidates: Vec<DeletedCandidate>,
    pub names: Vec<DeletedName>,
    pub warnings: Vec<String>,
    pub journal_present: bool,
    pub stats: Stats,
}

#[derive(Default, Debug, Serialize, Clone)]
pub struct Stats {
    pub inodes_scanned: u64,
    pub deleted_inodes: u64,
    pub journal_inode_versions: u64,
    pub names_slack: u64,
    pub names_freed_dir_blocks: u64,
    pub names_journal: u64,
    pub freed_blocks_scanned: u64,
    /// Groups never initialised since mkfs (BLOCK_UNINIT): no freed
    /// directory block can lie there, so their free blocks are not read.
    pub uninit_groups_skipped: u64,
}

/// Options for [`analyse`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Scan unallocated blocks for freed directory blocks.
    pub scan_freed_dir_blocks: bool,
    /// Compute hashes of recovered content.
    pub hash: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scan_freed_dir_blocks: true,
            hash: true,
        }
    }
}

/// What the journal knew about an inode before it was deleted.
#[derive(Clone, Debug)]
pub struct HistoricInode {
    pub inode: Inode,
    pub sequence: u32,
}

/// Run every recovery source and combine them.
pub fn analyse(fs: &Filesystem, opts: &Options) -> Recovery {
    let mut rec = Recovery::default();
    let alloc = AllocCache::new(fs);
    let journal = match Journal::open(fs) {
        Ok(j) => {
            rec.journal_present = true;
            rec.warnings
                .extend(j.warnings.iter().map(|w| format!("journal: {w}")));
            Some(j)
        }
        Err(crate::Error::NotFound(_)) => None,
        Err(e) => {
            rec.warnings.push(format!("journal unreadable: {e}"));
            None
        }
    };
    // 1. The live tree: directory paths, directory block owners, slack.
    let mut live = names::scan_live_dirs(fs, &alloc, &mut rec);
    // 2. Inode tables.
    let deleted = inodes::scan(fs, &alloc, &mut rec);
    // 3. Journal: every incarnation its inode-table copies show (and the
    //    names held in copies of inline directories).
    let mut inline_names = Recovery::default();
    let mut tl = {
        let mut cache = names::LiveCache::default();
        let mut seen = std::collections::HashSet::new();
        let mut f = |copy: &Inode, seq: u32, blk: u64| {
            inodes::inline_dir_names(
                fs,
                copy,
                NameSource::Journal,
                Some(seq),
                blk,
                &mut cache,
                &mut seen,
                &mut inline_names,
            );
        };
        Timeline::build(fs, journal.as_ref(), &alloc, &mut f)
    };
    rec.stats.names_journal += inline_names.stats.names_journal;
    rec.names.append(&mut inline_names.names);
    rec.stats.journal_inode_versions = tl.incs.iter().filter(|i| i.copy.is_some()).count() as u64;
    // Blocks of deleted directories (from their rebuilt maps) own freed
    // directory blocks that have no `.` entry; each block keeps every
    // directory known to have mapped it.
    let mut owners = names::DirBlockOwners {
        live: &live.dir_blocks,
        dead: HashMap::new(),
    };
    let deleted_dirs: Vec<Inode> = deleted
        .dirs()
        .iter()
        .filter_map(|&i| deleted.get(fs, i))
        .collect();
    let copies: Vec<&HistoricInode> = tl
        .incs
        .iter()
        .filter(|i| i.now != Now::Live)
        .filter_map(|i| i.copy.as_deref())
        .filter(|h| h.inode.is_dir())
        .collect();
    let maps = deleted_dirs
        .iter()
        .map(|d| (d, content::best_map(fs, d, None, journal.as_ref())))
        .chain(copies.iter().map(|h| {
            (
                &h.inode,
                content::best_map(fs, &h.inode, Some(h), journal.as_ref()),
            )
        }));
    for (d, m) in maps {
        for r in m.iter().flat_map(|m| m.runs.iter()) {
            for k in 0..r.len.min(1 << 16) {
                let v = owners.dead.entry(r.physical + k).or_default();
                if !v.contains(&(d.ino, d.generation)) {
                    v.push((d.ino, d.generation));
                }
            }
        }
    }
    drop(copies);
    // Owners of shared blocks are compared in time: their records merged.
    let shared: Vec<u32> = owners
        .dead
        .iter()
        .flat_map(|(b, v)| {
            live.dir_blocks
                .get(b)
                .into_iter()
                .copied()
                .chain(v.iter().map(|x| x.0))
        })
        .collect();
    for ino in shared {
        tl.intern(fs, &alloc, ino);
    }
    if let Some(j) = &journal {
        names::journal_dir_blocks(fs, j, &tl, &owners, &mut rec);
    }
    if opts.scan_freed_dir_blocks {
        names::freed_dir_blocks(fs, &alloc, &tl, &owners, &mut rec);
    }
    // Not needed to combine; freed before the largest allocation.
    drop(owners);
    rec.names.shrink_to_fit();
    rec.warnings.append(&mut tl.warnings);
    // 4. Combine.
    paths::build_candidates(
        fs,
        &alloc,
        journal.as_ref(),
        &mut live,
        &deleted,
        &mut tl,
        opts,
        &mut rec,
    );
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 400k candidates at 5M inodes: each 8 bytes is 3 MB of `scan`'s peak.
    #[test]
    fn candidate_stays_small() {
        assert!(std::mem::size_of::<DeletedCandidate>() <= 168);
    }
}

//! Layer 5: who owns each block, file and fragment.
//!
//! An [`Attributor`] classifies every block of the filesystem in an
//! [`OwnershipMap`] (metadata, allocated, claimed by deleted evidence,
//! unallocated) and names owners (a container, an image layer, the Docker
//! daemon's own metadata, the host) by five rules, each with a confidence
//! and its evidence:
//! 1. **path**: under a container's upper/init dir, `containers/<id>/`,
//!    its layerdb mount or its volume → that container (certain); under an
//!    image layer's `diff/` → that layer, and through it its images and
//!    containers;
//! 2. **recovered path**: rule 1 on a deleted file's rebuilt path, with the
//!    name source as evidence;
//! 3. **content**: a known container, mount or cache id (64 hex digits) in
//!    the content;
//! 4. **block group**: which owners occupy the block group, its flex group
//!    and the nearest blocks (ext4's Orlov allocator keeps files near their
//!    directory): a ranked hint, never certain;
//! 5. **inode proximity**: owners of the nearest inode numbers in the same
//!    inode group: a hint too.

pub mod live;
pub mod map;
pub mod owners;

pub use map::{BlockClass, Claim, MetaKind, OwnershipMap, Span, SpanClass, SpanKey};
pub use owners::{Owner, OwnerId, OwnerKind, Owners};

use crate::docker::removed::{find_removed, is_hex64, read_candidate, RemovedContainer};
use crate::docker::DockerHost;
use crate::ext4::inode::ROOT_INO;
use crate::ext4::Filesystem;
use crate::recover::Proof;
use crate::recover::{CandidateKind, DeletedCandidate, NameSource, Recovery, RunState};
use live::LiveOwners;
use map::{MapBuilder, NO_OWNER};
use owners::{short, FILESYSTEM, HOST};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Largest deleted content read for rule 3.
const CONTENT_CAP: u64 = 1 << 20;
/// Neighbourhood searched around a block range (rule 4), in blocks.
const NEAR_WINDOW: u64 = 2048;
/// Owned runs weighed on each side of a block range (rule 4).
const NEAR_RUNS: usize = 4;
/// Most runs looked at in one neighbourhood.
const NEAR_MAX_SPANS: usize = 4096;
/// Nearest inodes looked at on each side (rule 5).
const NEAR_INODES: usize = 6;
/// Hints never claim more than this.
const HINT_CAP: f32 = 0.75;

/// How sure an attribution is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// No owner could be named.
    None,
    /// Allocation locality (rules 4, 5): a hint, never proof.
    Hint,
    /// Content mentions the owner's id (rule 3).
    Medium,
    /// A recovered path (rule 2): the name may come from an old copy.
    High,
    /// A live path (rule 1), or filesystem metadata.
    Certain,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::None => "none",
            Confidence::Hint => "hint",
            Confidence::Medium => "medium",
            Confidence::High => "high",
            Confidence::Certain => "certain",
        }
    }
}

/// One owner of a hint's ranking.
#[derive(Clone, Debug, Serialize)]
pub struct RankedOwner {
    pub owner: String,
    pub owner_kind: OwnerKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// Share of the combined locality score (0–1).
    pub score: f32,
}

/// The owner of a file, block range or fragment, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Attribution {
    /// Container id, layer cache id, Docker root (daemon), `host` or
    /// `filesystem`; `None` when nothing points anywhere.
    pub owner: Option<String>,
    pub owner_kind: Option<OwnerKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    pub confidence: Confidence,
    /// 0–1; 1.0 only for `certain`.
    pub score: f32,
    /// `path`, `recovered-path`, `content`, `block-group`, `inode-proximity`,
    /// `metadata` or `none`.
    pub rule: &'static str,
    /// True when the owner rests on allocation locality only.
    pub hint: bool,
    /// Layers: the images holding it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Layers: the containers stacked on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub owner_removed: bool,
    pub evidence: Vec<String>,
    /// Hints: every candidate owner, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranking: Vec<RankedOwner>,
    #[serde(skip)]
    pub owner_id: Option<OwnerId>,
}

impl Attribution {
    fn none(evidence: Vec<String>) -> Attribution {
        Attribution {
            owner: None,
            owner_kind: None,
            owner_name: None,
            confidence: Confidence::None,
            score: 0.0,
            rule: "none",
            hint: false,
            images: Vec::new(),
            containers: Vec::new(),
            owner_removed: false,
            evidence,
            ranking: Vec::new(),
            owner_id: None,
        }
    }
}

/// Per-owner block totals (`whiteout attribute`).
#[derive(Clone, Debug, Serialize)]
pub struct OwnerSummary {
    /// Owner id; `unattributed` for the row of blocks with no owner.
    pub owner: String,
    pub owner_kind: Option<OwnerKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// In use by live files (metadata for the `filesystem` row; allocated
    /// blocks no live path reaches for the `unattributed` row).
    pub blocks_allocated: u64,
    /// Free blocks in a deleted file's surviving map, owner by path or content.
    pub blocks_deleted_recoverable: u64,
    /// Free blocks of deleted files whose owner is only a hint.
    pub blocks_deleted_hint: u64,
    /// Carved (not computed yet).
    pub blocks_carved: u64,
    /// `unattributed` row: free blocks nothing claims.
    pub blocks_unattributed: u64,
}

/// Docker state the attributor uses: the rebuilt host and the removed
/// containers.
pub struct DockerContext {
    pub host: DockerHost,
    pub removed: Vec<RemovedContainer>,
}

impl DockerContext {
    /// `None` when the filesystem has no Docker root.
    pub fn load(fs: &Filesystem, rec: &Recovery) -> Option<DockerContext> {
        let host = DockerHost::load(fs);
        if host.roots.is_empty() {
            return None;
        }
        let removed = find_removed(fs, &host, rec);
        Some(DockerContext { host, removed })
    }
}

/// Why a deleted candidate has its owner. Its evidence is worded on
/// demand ([`Attributor::for_candidate`]): worded for every candidate it was
/// about 900 bytes each, 370 MB for 400k candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Basis {
    /// Rule 3 on Docker daemon metadata: the content names the owner.
    DaemonContent,
    /// Rule 2: the recovered path.
    RecoveredPath,
    /// Rule 3: an id in the content.
    Content,
    /// Rules 4 and 5: allocation locality (the owner may be none).
    Hint,
}

/// A candidate's owner, compact.
#[derive(Clone, Copy, Debug)]
struct CandOwner {
    owner: OwnerId,
    score: f32,
    /// Index into `whys` of the rule-1 reason of the recovered path.
    why: u32,
    basis: Basis,
}

/// Content ids found in one candidate (rule 3): (owner, count, id).
type ContentIds = Vec<(OwnerId, usize, String)>;

/// Distinct rule-1 reasons, each stored once.
#[derive(Default)]
struct Whys {
    list: Vec<String>,
    index: HashMap<String, u32>,
}

impl Whys {
    fn id(&mut self, why: &str) -> u32 {
        if let Some(&i) = self.index.get(why) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(why.to_string());
        self.index.insert(why.to_string(), i);
        i
    }
}

/// Block, inode and fragment attribution over one filesystem.
pub struct Attributor<'a> {
    fs: &'a Filesystem,
    pub owners: Owners,
    pub map: OwnershipMap,
    whys: Vec<String>,
    /// Rule 5's deleted inodes: not live, owner from a path or content;
    /// sorted (live inodes come from `live`).
    dead: Vec<(u32, OwnerId)>,
    cands: &'a [DeletedCandidate],
    /// Candidates: (inode, index), sorted; their owners; their content ids
    /// (candidate index, ids), sorted, only where there are some.
    cand_index: Vec<(u32, u32)>,
    cand: Vec<CandOwner>,
    cand_ids: Vec<(u32, ContentIds)>,
    /// Blocks per owner in each block group / flex group.
    group_owner: Vec<Vec<(OwnerId, u64)>>,
    flex_owner: HashMap<u64, Vec<(OwnerId, u64)>>,
    /// Inodes per owner in each inode group.
    igroup_owner: HashMap<u64, Vec<(OwnerId, u64)>>,
    pub warnings: Vec<String>,
}

/// Rule 2's score by how the path's chain was shown to hold in time: high
/// only when every directory of the chain is the incarnation alive when
/// its name was written (docs/attribution.md).
fn path_score(proof: Option<Proof>) -> f32 {
    match proof {
        Some(Proof::Live | Proof::Copy) => 0.95,
        Some(Proof::Birth) => 0.8,
        Some(Proof::Overlap) | None => 0.7,
    }
}

fn path_chain_words(proof: Option<Proof>) -> String {
    match proof {
        Some(Proof::Live) => "every directory of the path is live now".into(),
        Some(Proof::Copy) => "every directory of the path is the incarnation journal copies or block checksums show alive when its name was written".into(),
        Some(Proof::Birth) => "a directory of the path is placed in time by creation times only (no journal copy of that moment): medium".into(),
        Some(Proof::Overlap) | None => "a directory of the path is the only known incarnation whose lifetime overlaps (no journal copy of that moment): medium".into(),
    }
}

fn add_count(v: &mut Vec<(OwnerId, u64)>, o: OwnerId, n: u64) {
    match v.iter_mut().find(|x| x.0 == o) {
        Some(x) => x.1 += n,
        None => v.push((o, n)),
    }
}

fn is_named(c: &DeletedCandidate) -> bool {
    c.kind == CandidateKind::Deleted
        && c.name_source != NameSource::None
        && !c.path.starts_with(b"$Orphan")
}

/// A recovered path whose chain was cut (`$OrphanDir-N`: a directory whose
/// own name was wiped) before any 64-hex id: the id that rule 1 needs is
/// the lost name, so the path names no owner (the Docker root would be
/// wrong: on the carve-docker fixture these are a removed container's files).
fn orphan_before_id(path: &[u8]) -> bool {
    for comp in path.split(|&b| b == b'/') {
        if comp.starts_with(b"$OrphanDir") {
            return true;
        }
        if is_hex64(comp.strip_suffix(b"-init".as_slice()).unwrap_or(comp)) {
            return false;
        }
    }
    false
}

fn name_source_str(s: NameSource) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

/// Free runs of a candidate's map (the blocks its recovery reads).
fn free_runs(c: &DeletedCandidate) -> Vec<(u64, u64)> {
    c.runs()
        .iter()
        .filter(|r| r.state == RunState::Free)
        .map(|r| (r.physical, r.len))
        .collect()
}

/// Live inodes from one walk of the tree, each with its rule-1 owner.
fn walk_live(
    fs: &Filesystem,
    owners: &mut Owners,
    whys: &mut Whys,
    warnings: &mut Vec<String>,
) -> LiveOwners {
    let mut live = LiveOwners::new(fs.group_count(), fs.sb.inodes_per_group);
    // (inode << 32 | index into `pairs`): 8 bytes a live inode until
    // sorted into runs, in chunks of 1M (8 MB). One array was 37 MB at 5M
    // inodes, too large for glibc to serve from its arenas, so it came as
    // new pages on top of the peak; chunks fit in the memory recovery freed.
    let mut found = Chunks::default();
    let mut pairs: Vec<(OwnerId, u32)> = Vec::new();
    let mut pair_idx: HashMap<(OwnerId, u32), u32> = HashMap::new();
    let mut pair = |o: OwnerId, w: u32| -> u32 {
        *pair_idx.entry((o, w)).or_insert_with(|| {
            pairs.push((o, w));
            pairs.len() as u32 - 1
        })
    };
    let mut past_end = 0u64;
    if live.insert(ROOT_INO) {
        let w = whys.id("the root directory");
        found.push((ROOT_INO as u64) << 32 | pair(HOST, w) as u64);
    }
    let walk = fs.walk(ROOT_INO, b"", &mut |w| {
        let ino = w.entry.inode;
        if ino == 0 || live.contains(ino) {
            return;
        }
        if !live.insert(ino) {
            past_end += 1;
            return;
        }
        let po = owners.of_path(w.path, true);
        let wi = whys.id(&po.why);
        found.push((ino as u64) << 32 | pair(po.owner, wi) as u64);
    });
    if let Err(e) = walk {
        warnings.push(format!("live tree walk: {e}"));
    }
    if past_end > 0 {
        warnings.push(format!(
            "live tree walk: {past_end} directory entries name inodes past the last inode group; not attributed"
        ));
    }
    live.set_owners(found.into_sorted().filter_map(|x| {
        let &(o, w) = pairs.get((x & 0xffff_ffff) as usize)?;
        Some(((x >> 32) as u32, o, w))
    }));
    live
}

/// Values gathered in fixed-size chunks, read back in sorted order.
#[derive(Default)]
struct Chunks {
    full: Vec<Vec<u64>>,
    cur: Vec<u64>,
}

impl Chunks {
    const LEN: usize = 1 << 20;

    fn push(&mut self, x: u64) {
        if self.cur.len() >= Self::LEN {
            let mut c = std::mem::take(&mut self.cur);
            c.sort_unstable();
            self.full.push(c);
        }
        if self.cur.capacity() == 0 {
            self.cur.reserve_exact(Self::LEN);
        }
        self.cur.push(x);
    }

    /// Every value, ascending: the sorted chunks merged.
    fn into_sorted(mut self) -> impl Iterator<Item = u64> {
        self.cur.sort_unstable();
        self.full.push(self.cur);
        let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<u64>>> = self
            .full
            .into_iter()
            .map(|c| c.into_iter().peekable())
            .collect();
        std::iter::from_fn(move || {
            let (_, k) = heads
                .iter_mut()
                .enumerate()
                .filter_map(|(k, h)| h.peek().map(|&x| (x, k)))
                .min()?;
            heads.get_mut(k)?.next()
        })
    }
}

impl<'a> Attributor<'a> {
    /// Build the ownership map from one walk of the live tree and the
    /// recovery candidates.
    pub fn new(
        fs: &'a Filesystem,
        docker: Option<&DockerContext>,
        rec: &'a Recovery,
    ) -> Attributor<'a> {
        Attributor::with_docker(
            fs,
            docker.map(|d| &d.host),
            docker.map(|d| d.removed.as_slice()).unwrap_or(&[]),
            rec,
        )
    }

    /// [`Attributor::new`] from a Docker host (with a root) and its removed
    /// containers already rebuilt, as `scan` has them: no second load.
    pub fn with_docker(
        fs: &'a Filesystem,
        host: Option<&DockerHost>,
        removed: &[RemovedContainer],
        rec: &'a Recovery,
    ) -> Attributor<'a> {
        let mut warnings = Vec::new();
        let mut owners = Owners::new(host, removed);
        // 1. Metadata.
        let meta = metadata_spans(fs);
        // 2. One walk of the live tree: inode → owner by path.
        let mut whys = Whys::default();
        let live = walk_live(fs, &mut owners, &mut whys, &mut warnings);
        let mut builder = MapBuilder::new(fs);
        builder.add(&meta);
        drop(meta);
        // Block maps of live inodes, in parallel by inode group, a batch
        // of groups at a time: the runs go straight into their block
        // groups, never all into one array.
        let igroups: Vec<u64> = (0..live.groups()).collect();
        for batch in igroups.chunks(256) {
            let parts: Vec<Vec<Span>> = batch
                .par_iter()
                .map(|&g| {
                    let mut out = Vec::new();
                    for (ino, _) in live.group(g) {
                        let Ok(inode) = fs.inode(ino) else { continue };
                        let class = SpanKey::Allocated(ino);
                        let bm = fs.block_map(&inode);
                        for r in &bm.runs {
                            map::runs(fs, r.physical, r.len, class, &mut out);
                        }
                        for &b in &bm.meta_blocks {
                            map::runs(fs, b, 1, class, &mut out);
                        }
                        if inode.file_acl != 0 {
                            map::runs(fs, inode.file_acl, 1, class, &mut out);
                        }
                    }
                    out
                })
                .collect();
            for p in &parts {
                builder.add(p);
            }
        }
        // 3. Deleted candidates: rule 2 (recovered path), rule 3 (content).
        // Paths first: they register owners (ids seen only in a path) that
        // rule 3 then finds in content.
        let cands = rec.candidates.as_slice();
        let path_owner: Vec<Option<(OwnerId, u32)>> = cands
            .iter()
            .map(|c| {
                (is_named(c) && !orphan_before_id(&c.path)).then(|| {
                    let po = owners.of_path(&c.path, true);
                    (po.owner, whys.id(&po.why))
                })
            })
            .collect();
        let cand_ids: Vec<(u32, ContentIds)> = cands
            .par_iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let ids = if let Some(t) = c.symlink_target() {
                    owners.ids_in_content(t.as_bytes())
                } else if c.inline_data().is_some() || c.size.is_some_and(|s| s <= CONTENT_CAP) {
                    read_candidate(fs, c, CONTENT_CAP)
                        .map(|b| owners.ids_in_content(&b))
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                (!ids.is_empty()).then_some((i as u32, ids))
            })
            .collect();
        let mut ids_at = cand_ids.iter().peekable();
        let mut cand: Vec<CandOwner> = Vec::with_capacity(cands.len());
        for (i, po) in path_owner.iter().enumerate() {
            let ids: &[(OwnerId, usize, String)] = match ids_at.peek() {
                Some((j, v)) if *j as usize == i => {
                    ids_at.next();
                    v
                }
                _ => &[],
            };
            // Daemon metadata about one container or layer (a short link,
            // a record) belongs to what its content names.
            let first = ids.first().map(|x| x.0);
            cand.push(match (po, first) {
                (Some((o, why)), Some(f)) if owners.get(*o).kind == OwnerKind::Daemon => {
                    CandOwner {
                        owner: f,
                        score: 0.8,
                        why: *why,
                        basis: Basis::DaemonContent,
                    }
                }
                (Some((o, why)), _) => CandOwner {
                    owner: *o,
                    score: path_score(cands[i].path_proof),
                    why: *why,
                    basis: Basis::RecoveredPath,
                },
                (None, Some(f)) => CandOwner {
                    owner: f,
                    score: 0.7,
                    why: 0,
                    basis: Basis::Content,
                },
                (None, None) => CandOwner {
                    owner: NO_OWNER,
                    score: 0.0,
                    why: 0,
                    basis: Basis::Hint,
                },
            });
        }
        drop(path_owner);
        // Claimed runs: strong when the owner came from rule 2 or 3.
        let mut claims: Vec<Claim> = Vec::with_capacity(cands.len());
        let mut claimed = Vec::new();
        for (i, (c, r)) in cands.iter().zip(&cand).enumerate() {
            claims.push(Claim {
                inode: c.inode,
                owner: r.owner,
                strong: r.basis != Basis::Hint,
                score: r.score,
            });
            claimed.clear();
            for (s, l) in free_runs(c) {
                map::runs(fs, s, l, SpanKey::Claimed(i as u32), &mut claimed);
            }
            builder.add(&claimed);
        }
        let omap = builder.finish(fs, live, claims);
        let live = &omap.live;
        // 4. Locality tables for rules 4 and 5.
        let groups = omap.group_count();
        let mut group_owner: Vec<Vec<(OwnerId, u64)>> = vec![Vec::new(); groups as usize];
        for (g, v) in group_owner.iter_mut().enumerate() {
            for s in omap.group_spans(g as u64) {
                if let Some(o) = omap.owner(s) {
                    add_count(v, o, s.len as u64);
                }
            }
        }
        let mut flex_owner: HashMap<u64, Vec<(OwnerId, u64)>> = HashMap::new();
        for (g, v) in group_owner.iter().enumerate() {
            let f = fs.flex_group_of(g as u64);
            let e = flex_owner.entry(f).or_default();
            for &(o, n) in v {
                add_count(e, o, n);
            }
        }
        // Deleted inodes with a path or content owner; for an inode with
        // several, the lowest owner id.
        let mut dead: Vec<(u32, OwnerId)> = cands
            .iter()
            .zip(&cand)
            .filter(|(c, r)| r.basis != Basis::Hint && !live.contains(c.inode))
            .map(|(c, r)| (c.inode, r.owner))
            .collect();
        dead.sort_unstable();
        dead.dedup_by_key(|x| x.0);
        let mut igroup_owner: HashMap<u64, Vec<(OwnerId, u64)>> = HashMap::new();
        for (i, o) in live.iter().chain(dead.iter().copied()) {
            add_count(igroup_owner.entry(fs.inode_group_of(i)).or_default(), o, 1);
        }
        let mut cand_index: Vec<(u32, u32)> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.inode, i as u32))
            .collect();
        // Named candidates first for an inode with several.
        cand_index.sort_by_key(|&(ino, i)| {
            let hint = cand.get(i as usize).is_none_or(|r| r.basis == Basis::Hint);
            (ino, hint, i)
        });
        let mut at = Attributor {
            fs,
            owners,
            map: omap,
            whys: whys.list,
            dead,
            cands,
            cand_index,
            cand: Vec::new(),
            cand_ids,
            group_owner,
            flex_owner,
            igroup_owner,
            warnings,
        };
        // 5. Nameless candidates: rules 4 and 5 (hints). Only the owner
        // and score are kept; the wording is redone on demand.
        let hinted: Vec<(usize, OwnerId, f32)> = cands
            .par_iter()
            .enumerate()
            .filter(|(i, _)| cand.get(*i).is_some_and(|r| r.basis == Basis::Hint))
            .filter_map(|(i, c)| {
                let a = at.hint_attribution(&free_runs(c), Some(c.inode), Some(c.inode));
                let o = a.owner_id.filter(|_| a.hint)?;
                Some((i, o, a.score))
            })
            .collect();
        // Record hint owners on the weak claims of their inode (the last
        // candidate of an inode wins).
        let mut by_ino: HashMap<u32, (OwnerId, f32)> = HashMap::new();
        for &(i, o, score) in &hinted {
            if let (Some(r), Some(c)) = (cand.get_mut(i), cands.get(i)) {
                r.owner = o;
                r.score = score;
                by_ino.insert(c.inode, (o, score));
            }
        }
        for (i, (c, r)) in cands.iter().zip(&cand).enumerate() {
            if r.basis == Basis::Hint {
                if let Some(&(o, score)) = by_ino.get(&c.inode) {
                    at.map.set_claim(i, o, score);
                }
            }
        }
        at.cand = cand;
        at
    }

    /// Content ids of candidate `i` (rule 3).
    fn content_ids(&self, i: usize) -> &[(OwnerId, usize, String)] {
        let k = self.cand_ids.partition_point(|x| (x.0 as usize) < i);
        match self.cand_ids.get(k) {
            Some((j, v)) if *j as usize == i => v,
            _ => &[],
        }
    }

    /// Word candidate `i`'s attribution.
    fn word_candidate(&self, i: usize, c: &DeletedCandidate, r: CandOwner) -> Attribution {
        let ids = self.content_ids(i);
        let why = self
            .whys
            .get(r.why as usize)
            .map(String::as_str)
            .unwrap_or("");
        let mut a = match r.basis {
            Basis::Hint => {
                return self.hint_attribution(&free_runs(c), Some(c.inode), Some(c.inode));
            }
            Basis::DaemonContent => {
                let mut a = self.owner_attr(r.owner, Confidence::Medium, r.score, "content");
                if let Some((o, n, id)) = ids.first() {
                    a.evidence.push(format!(
                        "rule 3: the recovered content names {} {} ({n} time(s)); the path {} is Docker daemon metadata ({why})",
                        self.owners.get(*o).kind.as_str(),
                        short(id),
                        crate::util::escape::escape_bytes(&c.path),
                    ));
                }
                a
            }
            Basis::RecoveredPath => {
                let conf = match c.path_proof {
                    Some(Proof::Live | Proof::Copy) => Confidence::High,
                    _ => Confidence::Medium,
                };
                let mut a = self.owner_attr(r.owner, conf, r.score, "recovered-path");
                a.evidence.push(format!(
                    "rule 2: recovered path {} (name from {}): {why}",
                    crate::util::escape::escape_bytes(&c.path),
                    c.name_sources
                        .iter()
                        .map(name_source_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
                a.evidence.push(path_chain_words(c.path_proof));
                a
            }
            Basis::Content => {
                let mut a = self.owner_attr(r.owner, Confidence::Medium, r.score, "content");
                if let Some((_, n, id)) = ids.first() {
                    a.evidence.push(format!(
                        "rule 3: the recovered content mentions id {} {n} time(s)",
                        short(id)
                    ));
                }
                a
            }
        };
        for (o, n, id) in ids.iter().take(4) {
            let tag = if Some(*o) == a.owner_id {
                "agrees"
            } else {
                "another owner"
            };
            if a.rule != "content" || Some(*o) != a.owner_id {
                a.evidence.push(format!(
                    "rule 3: content mentions {} {} {n} time(s) ({tag})",
                    self.owners.get(*o).kind.as_str(),
                    short(id)
                ));
            }
        }
        a
    }

    fn owner_attr(
        &self,
        o: OwnerId,
        conf: Confidence,
        score: f32,
        rule: &'static str,
    ) -> Attribution {
        attribution_for(&self.owners, o, conf, score, rule)
    }

    /// The attribution of inode `ino`: live (rule 1), deleted (rules 2, 3,
    /// or hints), or unknown (hints from its number and any block map).
    pub fn for_inode(&self, ino: u32) -> Attribution {
        if let Some((o, w)) = self.map.live.get(ino) {
            let mut a = self.owner_attr(o, Confidence::Certain, 1.0, "path");
            a.evidence.push(format!(
                "rule 1: live inode {ino}: {}",
                self.whys.get(w as usize).map(String::as_str).unwrap_or("")
            ));
            self.add_inode_evidence(&mut a, ino);
            return a;
        }
        let k = self.cand_index.partition_point(|x| x.0 < ino);
        if let Some(&(_, idx)) = self.cand_index.get(k).filter(|x| x.0 == ino) {
            if let Some(mut a) = self.for_candidate(idx as usize) {
                if !a.hint {
                    self.add_inode_evidence(&mut a, ino);
                }
                return a;
            }
        }
        let blocks = match self.fs.inode(ino) {
            Ok(inode) if inode.mode != 0 => self
                .fs
                .block_map(&inode)
                .runs
                .iter()
                .map(|r| (r.physical, r.len))
                .collect(),
            _ => Vec::new(),
        };
        self.hint_attribution(&blocks, Some(ino), None)
    }

    /// The attribution of a candidate by its index in `Recovery::candidates`.
    pub fn for_candidate(&self, index: usize) -> Option<Attribution> {
        let (c, r) = (self.cands.get(index)?, self.cand.get(index)?);
        Some(self.word_candidate(index, c, *r))
    }

    /// The owner of `len` blocks from `start` (a carved fragment or any range).
    pub fn for_blocks(&self, start: u64, len: u64) -> Attribution {
        self.for_fragment(start, len, None)
    }

    /// As [`Self::for_blocks`], plus rule 3 on the fragment's bytes.
    pub fn for_fragment(&self, start: u64, len: u64, content: Option<&[u8]>) -> Attribution {
        let len = len.max(1);
        let end = start.saturating_add(len);
        // What the map already knows about these blocks.
        let mut known: Vec<(SpanClass, u64)> = Vec::new();
        let mut covered = 0u64;
        for s in self.map.after(start) {
            if s.start() >= end || known.len() > 64 {
                break;
            }
            let n = s.end().min(end) - s.start().max(start);
            covered += n;
            let class = self.map.class(s);
            match known.iter_mut().find(|x| x.0 == class) {
                Some(x) => x.1 += n,
                None => known.push((class, n)),
            }
        }
        known.sort_by_key(|b| std::cmp::Reverse(b.1));
        if let Some(&(class, n)) = known.first() {
            let mut a = match class {
                SpanClass::Metadata(m) => {
                    let mut a = self.owner_attr(FILESYSTEM, Confidence::Certain, 1.0, "metadata");
                    a.evidence
                        .push(format!("filesystem metadata: {}", m.as_str()));
                    a
                }
                SpanClass::Allocated { inode, .. } => {
                    let mut a = self.for_inode(inode);
                    a.evidence
                        .insert(0, format!("blocks allocated to live inode {inode}"));
                    a
                }
                SpanClass::Claimed { inode, .. } => {
                    let mut a = self.for_inode(inode);
                    a.evidence.insert(
                        0,
                        format!("free blocks in the surviving map of deleted inode {inode}"),
                    );
                    a
                }
            };
            if n < len {
                a.evidence.push(format!(
                    "{n} of {len} blocks are in this run; {} other run class(es), {} block(s) in no run",
                    known.len() - 1,
                    len - covered.min(len)
                ));
            }
            if !a.hint || content.is_none() {
                return a;
            }
        }
        let blocks = [(start, len)];
        let mut hint = self.hint_attribution(&blocks, None, None);
        if let Some(b) = content {
            let ids = self.owners.ids_in_content(b);
            if let Some((o, n, id)) = ids.first() {
                let mut a = self.owner_attr(*o, Confidence::Medium, 0.7, "content");
                a.evidence.push(format!(
                    "rule 3: the content mentions id {} {n} time(s)",
                    short(id)
                ));
                for (o2, n2, id2) in ids.iter().skip(1).take(3) {
                    a.evidence.push(format!(
                        "rule 3: also mentions {} {} {n2} time(s)",
                        self.owners.get(*o2).kind.as_str(),
                        short(id2)
                    ));
                }
                a.evidence.extend(hint.evidence);
                a.ranking = hint.ranking;
                return a;
            }
        }
        if hint.owner.is_none() {
            hint.evidence.push("unallocated and unclaimed".into());
        }
        hint
    }

    /// Rule 5 as supporting evidence: how many inodes of the same owner
    /// share the inode group.
    fn add_inode_evidence(&self, a: &mut Attribution, ino: u32) {
        let Some(o) = a.owner_id else { return };
        let g = self.fs.inode_group_of(ino);
        if let Some(v) = self.igroup_owner.get(&g) {
            let mine = v.iter().find(|x| x.0 == o).map(|x| x.1).unwrap_or(0);
            let all: u64 = v.iter().map(|x| x.1).sum();
            if mine > 1 && all > 0 {
                a.evidence.push(format!(
                    "rule 5: inode group {g} holds {mine} of {all} attributed inodes of this owner"
                ));
            }
        }
    }

    /// Rules 4 and 5: rank owners by allocation locality. `exclude` leaves
    /// one inode's own blocks and number out (leave-one-out checks).
    pub fn hint_attribution(
        &self,
        blocks: &[(u64, u64)],
        ino: Option<u32>,
        exclude: Option<u32>,
    ) -> Attribution {
        let mut total: HashMap<OwnerId, f64> = HashMap::new();
        let mut evidence = Vec::new();
        let add = |comp: &HashMap<OwnerId, f64>, weight: f64, total: &mut HashMap<OwnerId, f64>| {
            let sum: f64 = comp.values().sum();
            if sum <= 0.0 {
                return false;
            }
            for (o, v) in comp {
                *total.entry(*o).or_default() += weight * v / sum;
            }
            true
        };
        let label = |o: OwnerId| {
            let ow = self.owners.get(o);
            match &ow.name {
                Some(n) => format!("{} {} ({n})", ow.kind.as_str(), short(&ow.id)),
                None => format!("{} {}", ow.kind.as_str(), short(&ow.id)),
            }
        };
        let mut rule = "none";
        // Rule 4a: the nearest owned blocks.
        if !blocks.is_empty() {
            let mut near: HashMap<OwnerId, f64> = HashMap::new();
            let mut nearest: Option<(u64, OwnerId)> = None;
            for &(s, l) in blocks.iter().take(16) {
                let e = s.saturating_add(l.max(1));
                let mut visit = |sp: &Span, d: u64, taken: &mut usize| {
                    if exclude.is_some() && self.map.inode(sp) == exclude {
                        return;
                    }
                    let Some(o) = self.map.owner(sp) else { return };
                    let w = 1.0 / (1.0 + *taken as f64) / (1.0 + d as f64 / 8.0);
                    *near.entry(o).or_default() += w;
                    *taken += 1;
                    if nearest.is_none_or(|(nd, _)| d < nd) {
                        nearest = Some((d, o));
                    }
                };
                // The nearest owned runs before the range, then after it.
                let mut taken = 0;
                for (n, sp) in self.map.before(s).enumerate() {
                    let d = s.saturating_sub(sp.end());
                    if taken >= NEAR_RUNS || n >= NEAR_MAX_SPANS || d > NEAR_WINDOW {
                        break;
                    }
                    visit(sp, d, &mut taken);
                }
                let mut taken = 0;
                for (n, sp) in self.map.after(s).enumerate() {
                    let d = sp.start().saturating_sub(e);
                    if taken >= NEAR_RUNS || n >= NEAR_MAX_SPANS || d > NEAR_WINDOW {
                        break;
                    }
                    visit(sp, d, &mut taken);
                }
            }
            if add(&near, 0.6, &mut total) {
                rule = "block-group";
                if let Some((d, o)) = nearest {
                    evidence.push(format!(
                        "rule 4: nearest owned blocks ({d} block(s) away) belong to {}",
                        label(o)
                    ));
                }
            }
            // Rule 4b: the block group and its flex group.
            let g = self.map.group_of(blocks[0].0);
            if let Some(v) = self.group_owner.get(g as usize) {
                let mut comp: HashMap<OwnerId, f64> =
                    v.iter().map(|&(o, n)| (o, n as f64)).collect();
                if let Some(x) = exclude {
                    for sp in self.map.group_spans(g) {
                        if self.map.inode(sp) == Some(x) {
                            if let Some(o) = self.map.owner(sp) {
                                if let Some(c) = comp.get_mut(&o) {
                                    *c = (*c - sp.len as f64).max(0.0);
                                }
                            }
                        }
                    }
                }
                comp.remove(&FILESYSTEM);
                if add(&comp, 0.25, &mut total) {
                    rule = "block-group";
                    let mut top: Vec<_> = comp.iter().collect();
                    top.sort_by(|a, b| b.1.total_cmp(a.1));
                    evidence.push(format!(
                        "rule 4: block group {g} is mostly {}",
                        top.iter()
                            .take(3)
                            .map(|(o, n)| format!("{} ({n} blocks)", label(**o)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if let Some(v) = self.flex_owner.get(&self.fs.flex_group_of(g)) {
                let comp: HashMap<OwnerId, f64> = v
                    .iter()
                    .filter(|x| x.0 != FILESYSTEM)
                    .map(|&(o, n)| (o, n as f64))
                    .collect();
                add(&comp, 0.15, &mut total);
            }
        }
        // Rule 5: the nearest inode numbers.
        if let Some(ino) = ino {
            let g = self.fs.inode_group_of(ino);
            let k = self.dead.partition_point(|x| x.0 < ino);
            let mut near: HashMap<OwnerId, f64> = HashMap::new();
            let mut list = Vec::new();
            // Walk outwards lazily from `ino`: each side stops after a few
            // inodes or at the group edge (collecting a side first made every
            // call linear in the number of attributed inodes).
            let below = merge_by_inode(
                self.map.live.near(ino, false),
                self.dead[..k].iter().rev().copied(),
                true,
            );
            let above = merge_by_inode(
                self.map.live.near(ino, true),
                self.dead[k..].iter().copied(),
                false,
            );
            let sides: [Box<dyn Iterator<Item = (u32, OwnerId)>>; 2] =
                [Box::new(below), Box::new(above)];
            for side in sides {
                let mut taken = 0;
                for (n, o) in side {
                    if taken >= NEAR_INODES || self.fs.inode_group_of(n) != g {
                        break;
                    }
                    if Some(n) == exclude || n == ino {
                        continue;
                    }
                    let d = n.abs_diff(ino) as f64;
                    *near.entry(o).or_default() += 1.0 / (1.0 + d);
                    if taken < 2 {
                        list.push(format!("{n} ({})", label(o)));
                    }
                    taken += 1;
                }
            }
            if add(&near, 0.6, &mut total) {
                if rule == "none" {
                    rule = "inode-proximity";
                }
                evidence.push(format!(
                    "rule 5: nearest attributed inodes: {}",
                    list.join(", ")
                ));
            }
            if let Some(v) = self.igroup_owner.get(&g) {
                let comp: HashMap<OwnerId, f64> = v.iter().map(|&(o, n)| (o, n as f64)).collect();
                add(&comp, 0.1, &mut total);
            }
        }
        let sum: f64 = total.values().sum();
        if sum <= 0.0 {
            let mut a = Attribution::none(evidence);
            a.evidence.push("no owned blocks or inodes nearby".into());
            return a;
        }
        let mut ranked: Vec<(OwnerId, f64)> =
            total.into_iter().map(|(o, v)| (o, v / sum)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (top, share) = ranked[0];
        let mut a = self.owner_attr(
            top,
            Confidence::Hint,
            (share as f32 * HINT_CAP).min(HINT_CAP),
            rule,
        );
        a.hint = true;
        a.evidence = evidence;
        a.evidence.push(
            "a hint from ext4 allocation locality (Orlov: files near their directory), not proof"
                .into(),
        );
        a.ranking = ranked
            .iter()
            .take(5)
            .map(|&(o, s)| {
                let ow = self.owners.get(o);
                RankedOwner {
                    owner: ow.id.clone(),
                    owner_kind: ow.kind,
                    owner_name: ow.name.clone(),
                    score: s as f32,
                }
            })
            .collect();
        a
    }

    /// Blocks per owner, plus the `filesystem` (metadata) and
    /// `unattributed` rows.
    pub fn summary(&self) -> Vec<OwnerSummary> {
        let n = self.owners.list.len();
        let mut alloc = vec![0u64; n];
        let mut del = vec![0u64; n];
        let mut hint = vec![0u64; n];
        let (mut meta, mut unk_alloc, mut claimed_none, mut free) = (0u64, 0u64, 0u64, 0u64);
        for s in self.map.spans() {
            let l = s.len as u64;
            match self.map.class(s) {
                SpanClass::Metadata(_) => meta += l,
                SpanClass::Allocated { owner, .. } => {
                    if let Some(x) = alloc.get_mut(owner as usize) {
                        *x += l
                    }
                }
                SpanClass::Claimed { owner, strong, .. } => {
                    let v = if strong { &mut del } else { &mut hint };
                    match v.get_mut(owner as usize) {
                        Some(x) => *x += l,
                        None => claimed_none += l,
                    }
                }
            }
        }
        for g in 0..self.map.group_count() {
            let c = self.map.group_counts(g);
            unk_alloc += c.allocated_unknown;
            free += c.unallocated;
        }
        let mut out: Vec<OwnerSummary> = Vec::new();
        for (i, o) in self.owners.list.iter().enumerate() {
            let a = if i == FILESYSTEM as usize {
                meta
            } else {
                alloc[i]
            };
            if a == 0 && del[i] == 0 && hint[i] == 0 && !matches!(o.kind, OwnerKind::Container) {
                continue;
            }
            out.push(OwnerSummary {
                owner: o.id.clone(),
                owner_kind: Some(o.kind),
                owner_name: o.name.clone(),
                blocks_allocated: a,
                blocks_deleted_recoverable: del[i],
                blocks_deleted_hint: hint[i],
                blocks_carved: 0,
                blocks_unattributed: 0,
            });
        }
        out.push(OwnerSummary {
            owner: "unattributed".into(),
            owner_kind: None,
            owner_name: None,
            blocks_allocated: unk_alloc,
            blocks_deleted_recoverable: claimed_none,
            blocks_deleted_hint: 0,
            blocks_carved: 0,
            blocks_unattributed: free,
        });
        out
    }

    /// Rows of `attribute --blocks`: consecutive blocks of one class, with
    /// gaps between map runs split by bitmap state. At most `max_rows`.
    pub fn block_rows(&self, start: u64, end: u64, max_rows: usize) -> Vec<(u64, u64, BlockClass)> {
        let end = end.min(self.fs.sb.blocks_count);
        let mut rows: Vec<(u64, u64, BlockClass)> = Vec::new();
        let push = |s: u64, e: u64, c: BlockClass, rows: &mut Vec<(u64, u64, BlockClass)>| {
            if let Some(last) = rows.last_mut() {
                if last.1 == s && last.2 == c {
                    last.1 = e;
                    return;
                }
            }
            rows.push((s, e, c));
        };
        let mut b = start;
        let mut spans = self.map.after(start).peekable();
        while b < end && rows.len() < max_rows {
            let next = spans.peek().copied().filter(|s| s.start() < end);
            match next {
                Some(s) if s.start() <= b => {
                    let e = s.end().min(end);
                    push(b, e, self.map.class_of(self.fs, b), &mut rows);
                    b = e;
                    spans.next();
                }
                _ => {
                    let gap_end = next.map(|s| s.start()).unwrap_or(end);
                    // Split the gap by bitmap state, one group bitmap at a time.
                    while b < gap_end && rows.len() < max_rows {
                        let g = self.map.group_of(b);
                        let first = self.fs.group_first_block(g);
                        let g_end = gap_end
                            .min(first.saturating_add(self.fs.sb.blocks_per_group.max(1) as u64));
                        let ratio = (self.fs.sb.cluster_size() / self.fs.block_size()).max(1);
                        match self.fs.block_bitmap(g) {
                            Ok(bm) if b >= first && g_end > b => {
                                while b < g_end && rows.len() < max_rows {
                                    let c = if bm.get((b - first) / ratio) {
                                        BlockClass::AllocatedUnknown
                                    } else {
                                        BlockClass::Unallocated
                                    };
                                    push(b, b + 1, c, &mut rows);
                                    b += 1;
                                }
                            }
                            _ => {
                                let e = g_end.max(b + 1);
                                push(b, e, self.map.class_of(self.fs, b), &mut rows);
                                b = e;
                            }
                        }
                    }
                }
            }
        }
        rows
    }

    /// Owner details for an id in the table.
    pub fn owner(&self, id: OwnerId) -> &Owner {
        self.owners.get(id)
    }
}

/// Two inode-ordered sequences of distinct inodes as one, descending when
/// `desc`.
fn merge_by_inode<'x>(
    a: impl Iterator<Item = (u32, OwnerId)> + 'x,
    b: impl Iterator<Item = (u32, OwnerId)> + 'x,
    desc: bool,
) -> impl Iterator<Item = (u32, OwnerId)> + 'x {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if (x.0 < y.0) != desc => a.next(),
        (Some(_), None) => a.next(),
        _ => b.next(),
    })
}

fn attribution_for(
    owners: &Owners,
    o: OwnerId,
    conf: Confidence,
    score: f32,
    rule: &'static str,
) -> Attribution {
    let ow = owners.get(o);
    Attribution {
        owner: Some(ow.id.clone()),
        owner_kind: Some(ow.kind),
        owner_name: ow.name.clone(),
        confidence: conf,
        score,
        rule,
        hint: false,
        images: if ow.kind == OwnerKind::Layer {
            ow.images.clone()
        } else {
            Vec::new()
        },
        containers: if ow.kind == OwnerKind::Layer {
            ow.containers.clone()
        } else {
            Vec::new()
        },
        owner_removed: ow.removed,
        evidence: Vec::new(),
        ranking: Vec::new(),
        owner_id: Some(o),
    }
}

/// Metadata runs: each group's superblock/GDT copies, bitmaps and inode
/// table, the resize inode's reserved GDT blocks and the journal.
fn metadata_spans(fs: &Filesystem) -> Vec<Span> {
    let bs = fs.block_size();
    let per_block = (bs / fs.sb.desc_size().max(1)).max(1);
    let gdt = fs.group_count().div_ceil(per_block);
    let itb = (fs.sb.inodes_per_group as u64 * fs.sb.inode_size()).div_ceil(bs.max(1));
    let per_group: Vec<Vec<Span>> = (0..fs.group_count())
        .into_par_iter()
        .map(|g| {
            let mut out = Vec::new();
            let first = fs.group_first_block(g);
            if fs.sb.group_has_super(g) {
                map::runs(
                    fs,
                    first,
                    1,
                    SpanKey::Metadata(MetaKind::Superblock),
                    &mut out,
                );
            }
            for b in fs.group_metadata_blocks(g) {
                let kind = match fs.groups.get(g as usize) {
                    Some(gd) if b == gd.block_bitmap => MetaKind::BlockBitmap,
                    Some(gd) if b == gd.inode_bitmap => MetaKind::InodeBitmap,
                    Some(gd) if b >= gd.inode_table && b < gd.inode_table.saturating_add(itb) => {
                        continue;
                    }
                    _ if b == first && fs.sb.group_has_super(g) => continue,
                    _ if b > first && b <= first + gdt => MetaKind::Gdt,
                    _ => MetaKind::ReservedGdt,
                };
                map::runs(fs, b, 1, SpanKey::Metadata(kind), &mut out);
            }
            if let Some(gd) = fs.groups.get(g as usize) {
                map::runs(
                    fs,
                    gd.inode_table,
                    itb,
                    SpanKey::Metadata(MetaKind::InodeTable),
                    &mut out,
                );
            }
            out
        })
        .collect();
    let mut out: Vec<Span> = per_group.into_iter().flatten().collect();
    let fdb = fs.sb.first_data_block as u64;
    if fdb > 0 {
        map::runs(fs, 0, fdb, SpanKey::Metadata(MetaKind::BootBlock), &mut out);
    }
    for (ino, kind) in [
        (fs.journal_inode(), MetaKind::Journal),
        (Some(crate::ext4::inode::RESIZE_INO), MetaKind::ReservedGdt),
    ] {
        let Some(ino) = ino else { continue };
        let Ok(inode) = fs.inode(ino) else { continue };
        if inode.mode == 0 && inode.blocks == 0 {
            continue;
        }
        let bm = fs.block_map(&inode);
        for r in &bm.runs {
            map::runs(fs, r.physical, r.len, SpanKey::Metadata(kind), &mut out);
        }
        for &b in &bm.meta_blocks {
            map::runs(fs, b, 1, SpanKey::Metadata(kind), &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Chunks;

    #[test]
    fn chunks_come_back_sorted_across_chunks() {
        // Two full chunks and a partial one, in a scrambled order.
        let n = 2 * Chunks::LEN as u64 + 12_345;
        let mut c = Chunks::default();
        for i in 0..n {
            c.push(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (n * 4));
        }
        let mut want: Vec<u64> = (0..n)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (n * 4))
            .collect();
        want.sort_unstable();
        let got: Vec<u64> = c.into_sorted().collect();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
        assert_eq!(Chunks::default().into_sorted().count(), 0);
    }
}

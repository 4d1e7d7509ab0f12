//! One candidate per deleted incarnation: names are joined to the
//! incarnation of their parent directory that was alive when the entry was
//! written, and to the incarnation of the inode that was alive then. A
//! path is built only from names that hold at the same time all the way
//! up; where no such chain exists the name is listed under
//! `$OrphanDir-<inode>[-g<generation>]/` and no later directory's path is
//! borrowed (docs/design.md, "Incarnations").

use super::content::{self, ContentState};
use super::names::{LiveTree, NameSource};
use super::timeline::{Now, Proof, Timeline};
use super::{
    AllocCache, CandidateKind, Clue, DeletedCandidate, DeletedName, HistoricInode, Incarnation,
    Options, Recovery, SizeSource, SourceSet,
};
use crate::ext4::inode::{flags, FileType, Inode, ROOT_INO};
use crate::ext4::journal::Journal;
use crate::ext4::Filesystem;
use crate::util::time::Ext4Time;
use md5::Md5;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Deepest chain of deleted parents followed for one path.
const MAX_PATH_DEPTH: usize = 256;

/// The directory a name was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// A reserved inode (the root): never reused.
    Fixed(u32),
    /// That incarnation of the directory, and how it is known.
    Inc(u32, Proof),
    /// The directory's number is known, not which incarnation it was.
    Ino(u32),
    /// Not known at all.
    Unknown,
}

/// A name's parent and child, resolved in time.
#[derive(Clone, Copy, Debug)]
struct Res {
    parent: Parent,
    child: Option<(u32, Proof)>,
}

/// A directory's path as known: the bytes, the weakest link of its chain,
/// and whether it reaches the root.
#[derive(Clone, Debug)]
struct DirPath {
    path: Vec<u8>,
    proof: Proof,
    rooted: bool,
}

/// One name of a candidate: (full path, proof, rooted, source, journal
/// sequence, parent inode).
struct NamePath {
    path: Vec<u8>,
    proof: Proof,
    rooted: bool,
    source: NameSource,
    /// Every source that gave this path.
    sources: SourceSet,
    seq: Option<u32>,
    parent: Option<u32>,
}

fn source_rank(s: NameSource) -> u8 {
    match s {
        NameSource::Live => 0,
        NameSource::Journal => 1,
        NameSource::FreedDirBlock => 2,
        NameSource::Slack => 3,
        NameSource::None => 4,
    }
}

fn type_fits(tl: &Timeline, inc: u32, dirent_type: u8) -> bool {
    dirent_type == 0
        || tl
            .get(inc)
            .is_some_and(|i| FileType::from_dirent(dirent_type) == i.file_type())
}

/// The incarnation of `dir` that wrote a name, from the name's own
/// evidence: its block's checksum, the live tree, the journal's time.
fn resolve_parent(tl: &Timeline, first_ino: u32, n: &DeletedName) -> Parent {
    let Some(d) = n.parent else {
        return Parent::Unknown;
    };
    if d < first_ino {
        return Parent::Fixed(d);
    }
    if n.gen_unmatched {
        // The block's checksum fits no known incarnation of `d`: when `d`
        // came from the block's own `.` the number is right.
        return if n.dot_owner {
            Parent::Ino(d)
        } else {
            Parent::Unknown
        };
    }
    let dirs = |g: u32| {
        let v: Vec<u32> = tl
            .indexes(d)
            .filter(|&i| {
                tl.get(i)
                    .is_some_and(|x| x.key.generation == g && x.is_dir())
            })
            .collect();
        v
    };
    if let Some(g) = n.block_gen {
        let v = dirs(g);
        return match v.as_slice() {
            [i] => Parent::Inc(*i, Proof::Copy),
            _ => Parent::Ino(d),
        };
    }
    match n.source {
        NameSource::Slack => tl
            .live(d)
            .map(|i| Parent::Inc(i, Proof::Live))
            .unwrap_or(Parent::Ino(d)),
        NameSource::Journal => n
            .journal_seq
            .and_then(|s| tl.order(s))
            .and_then(|o| tl.alive_at(d, o))
            .filter(|(i, _)| tl.get(*i).is_some_and(|x| x.is_dir()))
            .map(|(i, p)| Parent::Inc(i, p))
            .unwrap_or(Parent::Ino(d)),
        NameSource::FreedDirBlock => {
            // A freed block is no live directory's: one of the others.
            let v: Vec<u32> = tl
                .indexes(d)
                .filter(|&i| tl.get(i).is_some_and(|x| x.is_dir() && x.now != Now::Live))
                .collect();
            match v.as_slice() {
                [i] => Parent::Inc(*i, Proof::Overlap),
                _ => Parent::Ino(d),
            }
        }
        _ => Parent::Ino(d),
    }
}

/// The incarnation of the name's inode alive when the name was written.
fn resolve_child(
    tl: &Timeline,
    first_ino: u32,
    n: &DeletedName,
    parent: Parent,
) -> Option<(u32, Proof)> {
    if n.inode < first_ino {
        return None;
    }
    if let (NameSource::Journal, Some(seq)) = (n.source, n.journal_seq) {
        let o = tl.order(seq)?;
        return tl
            .alive_at(n.inode, o)
            .filter(|(i, _)| type_fits(tl, *i, n.file_type));
    }
    let window = match parent {
        Parent::Inc(p, _) => tl.life(p),
        _ => (None, None),
    };
    let v: Vec<u32> = tl
        .overlapping(n.inode, window)
        .into_iter()
        .filter(|&i| type_fits(tl, i, n.file_type))
        .collect();
    match v.as_slice() {
        // The file that lives now may have had the name (a rename, a
        // removed link) or an unknown earlier one did: not claimed.
        [i] if tl.get(*i).is_some_and(|x| x.now != Now::Live) => Some((*i, Proof::Overlap)),
        _ => None,
    }
}

struct Resolver<'a> {
    /// The first non-reserved inode: lower ones are never reused.
    first_ino: u32,
    live: &'a LiveTree,
    tl: &'a Timeline,
    names: &'a [DeletedName],
    res: Vec<Res>,
    /// (child incarnation, name index) sorted: the names of each.
    by_inc: Vec<(u32, u32)>,
    /// (child directory inode, `..` name index) sorted.
    dotdot: Vec<(u32, u32)>,
    memo: HashMap<u32, Option<DirPath>>,
}

fn range(v: &[(u32, u32)], key: u32) -> impl Iterator<Item = usize> + '_ {
    let lo = v.partition_point(|x| x.0 < key);
    v[lo..]
        .iter()
        .take_while(move |x| x.0 == key)
        .map(|x| x.1 as usize)
}

fn join(mut base: Vec<u8>, name: &[u8]) -> Vec<u8> {
    base.push(b'/');
    base.extend_from_slice(name);
    base
}

impl Resolver<'_> {
    /// The path of the directory a name was written in.
    fn parent_path(&mut self, i: usize, depth: usize) -> DirPath {
        match self.res[i].parent {
            Parent::Fixed(d) => DirPath {
                path: if d == ROOT_INO {
                    Vec::new()
                } else {
                    self.live
                        .dir_path
                        .get(&d)
                        .unwrap_or_else(|| format!("$OrphanDir-{d}").into_bytes())
                },
                proof: Proof::Live,
                rooted: d == ROOT_INO || self.live.dir_path.contains_key(&d),
            },
            Parent::Inc(p, proof) => {
                let mut dp = self.inc_path(p, depth + 1);
                dp.proof = dp.proof.weakest(proof);
                dp
            }
            Parent::Ino(d) => DirPath {
                path: format!("$OrphanDir-{d}").into_bytes(),
                proof: Proof::Overlap,
                rooted: false,
            },
            Parent::Unknown => DirPath {
                path: b"$Orphan/unknown-parent".to_vec(),
                proof: Proof::Overlap,
                rooted: false,
            },
        }
    }

    /// The path of directory incarnation `p`: live, from its own names,
    /// or `$OrphanDir-<ino>-g<generation>` under what its `..` says.
    fn inc_path(&mut self, p: u32, depth: usize) -> DirPath {
        let Some(inc) = self.tl.get(p) else {
            return orphan_dir(p, None);
        };
        let (ino, generation, now) = (inc.ino, inc.key.generation, inc.now);
        if now == Now::Live {
            if let Some(path) = self.live.dir_path.get(&ino) {
                return DirPath {
                    path,
                    proof: Proof::Live,
                    rooted: true,
                };
            }
        }
        if depth > MAX_PATH_DEPTH {
            return orphan_dir(ino, Some(generation));
        }
        if let Some(m) = self.memo.get(&p) {
            return m
                .clone()
                .unwrap_or_else(|| orphan_dir(ino, Some(generation)));
        }
        self.memo.insert(p, None); // cycle guard
        let idx: Vec<usize> = range(&self.by_inc, p).collect();
        let mut best: Option<(DirPath, u8)> = None;
        for i in idx {
            let (name, source) = (self.names[i].name.clone(), self.names[i].source);
            let pp = self.parent_path(i, depth);
            let proof = pp
                .proof
                .weakest(self.res[i].child.map(|c| c.1).unwrap_or(Proof::Overlap));
            let cand = DirPath {
                path: join(pp.path, &name),
                proof,
                rooted: pp.rooted,
            };
            let rank = source_rank(source);
            let better = best
                .as_ref()
                .is_none_or(|(b, r)| (!cand.rooted, cand.proof, rank) < (!b.rooted, b.proof, *r));
            if better {
                best = Some((cand, rank));
            }
        }
        let out = match best {
            Some((b, _)) => b,
            None => self.dotdot_path(p, ino, generation, depth),
        };
        self.memo.insert(p, Some(out.clone()));
        out
    }

    /// A directory with no surviving name: `$OrphanDir-<ino>-g<gen>` under
    /// the parent its own block's `..` names, when that parent's
    /// incarnation is known.
    fn dotdot_path(&mut self, p: u32, ino: u32, generation: u32, depth: usize) -> DirPath {
        let tail = format!("$OrphanDir-{ino}-g{generation}");
        let links: Vec<usize> = range(&self.dotdot, ino)
            .filter(|&i| self.names[i].block_gen.is_none_or(|g| g == generation))
            .collect();
        for i in links {
            let Some(q) = self.names[i].parent else {
                continue;
            };
            let parent = if q < self.first_ino {
                Some(Parent::Fixed(q))
            } else {
                let v: Vec<u32> = self
                    .tl
                    .overlapping(q, self.tl.life(p))
                    .into_iter()
                    .filter(|&x| self.tl.get(x).is_some_and(Incarnation::is_dir))
                    .collect();
                match v.as_slice() {
                    [x] => Some(Parent::Inc(*x, Proof::Overlap)),
                    _ => None,
                }
            };
            if let Some(par) = parent {
                let saved = self.res[i].parent;
                self.res[i].parent = par;
                let pp = self.parent_path(i, depth);
                self.res[i].parent = saved;
                return DirPath {
                    path: join(pp.path, tail.as_bytes()),
                    proof: pp.proof,
                    rooted: false,
                };
            }
        }
        orphan_dir(ino, Some(generation))
    }
}

fn orphan_dir(ino: u32, generation: Option<u32>) -> DirPath {
    DirPath {
        path: match generation {
            Some(g) => format!("$OrphanDir-{ino}-g{g}").into_bytes(),
            None => format!("$OrphanDir-{ino}").into_bytes(),
        },
        proof: Proof::Overlap,
        rooted: false,
    }
}

/// Resolve every name in time, and index them by child incarnation.
fn resolver<'a>(
    fs: &Filesystem,
    live: &'a LiveTree,
    tl: &'a Timeline,
    names: &'a [DeletedName],
) -> Resolver<'a> {
    let first_ino = fs.sb.first_ino.max(11);
    let mut res = Vec::with_capacity(names.len());
    let mut by_inc = Vec::new();
    let mut dotdot = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let parent = resolve_parent(tl, first_ino, n);
        if n.name.is_empty() {
            dotdot.push((n.inode, i as u32));
            res.push(Res {
                parent,
                child: None,
            });
            continue;
        }
        let child = resolve_child(tl, first_ino, n, parent);
        if let Some((c, _)) = child {
            by_inc.push((c, i as u32));
        }
        res.push(Res { parent, child });
    }
    same_entry(names, &mut res, &mut by_inc);
    by_inc.sort_unstable();
    dotdot.sort_unstable();
    Resolver {
        first_ino,
        live,
        tl,
        names,
        res,
        by_inc,
        dotdot,
        memo: HashMap::new(),
    }
}

/// A name seen without a time (slack, a freed block) that the journal
/// shows as the same entry (same directory, name and inode number) of
/// exactly one incarnation is that incarnation's entry too.
fn same_entry(names: &[DeletedName], res: &mut [Res], by_inc: &mut Vec<(u32, u32)>) {
    let mut resolved: HashMap<(u32, &[u8], u32), Option<u32>> = HashMap::new();
    for (n, r) in names.iter().zip(res.iter()) {
        if let (Some(p), Some((c, _))) = (n.parent, r.child) {
            resolved
                .entry((p, n.name.as_slice(), n.inode))
                .and_modify(|x| {
                    if *x != Some(c) {
                        *x = None;
                    }
                })
                .or_insert(Some(c));
        }
    }
    for (i, (n, r)) in names.iter().zip(res.iter_mut()).enumerate() {
        if r.child.is_some() || n.name.is_empty() || n.source == NameSource::Journal {
            continue;
        }
        let Some(p) = n.parent else { continue };
        if let Some(Some(c)) = resolved.get(&(p, n.name.as_slice(), n.inode)) {
            r.child = Some((*c, Proof::Overlap));
            by_inc.push((*c, i as u32));
        }
    }
}

/// Every name of one candidate (name indexes `idx`) as a full path, the
/// best first: rooted, then the strongest chain, then the best source.
fn name_paths(r: &mut Resolver, idx: &[usize]) -> Vec<NamePath> {
    let mut out: Vec<NamePath> = Vec::new();
    for &i in idx {
        let n = &r.names[i];
        let (name, source, seq, parent) = (n.name.clone(), n.source, n.journal_seq, n.parent);
        let pp = r.parent_path(i, 0);
        let proof = pp
            .proof
            .weakest(r.res[i].child.map(|c| c.1).unwrap_or(Proof::Overlap));
        let path = join(pp.path, &name);
        match out.iter_mut().find(|x| x.path == path) {
            Some(x) => {
                x.sources.insert(source);
                if (proof, source_rank(source)) < (x.proof, source_rank(x.source)) {
                    x.proof = proof;
                    x.source = source;
                    x.seq = seq;
                }
            }
            None => {
                let mut sources = SourceSet::default();
                sources.insert(source);
                out.push(NamePath {
                    path,
                    proof,
                    rooted: pp.rooted,
                    source,
                    sources,
                    seq,
                    parent,
                })
            }
        }
    }
    out.sort_by_key(|p| (!p.rooted, p.proof, source_rank(p.source)));
    out
}

#[allow(clippy::too_many_arguments)]
pub fn build_candidates(
    fs: &Filesystem,
    alloc: &AllocCache,
    journal: Option<&Journal>,
    live: &mut LiveTree,
    deleted: &super::inodes::DeletedInodes,
    tl: &mut Timeline,
    opts: &Options,
    rec: &mut Recovery,
) {
    // Every inode with deleted evidence, with its record merged in.
    let mut inos: Vec<u32> = deleted.numbers().to_vec();
    inos.extend(tl.inodes());
    for n in &rec.names {
        inos.push(n.inode);
        inos.extend(n.parent);
    }
    inos.sort_unstable();
    inos.dedup();
    for &ino in &inos {
        tl.intern(fs, alloc, ino);
    }
    let first_ino = fs.sb.first_ino.max(11);
    inos.retain(|&i| i >= first_ino);
    live.dir_blocks = HashMap::new();
    let names = std::mem::take(&mut rec.names);
    let tl: &Timeline = tl;
    let mut r = resolver(fs, live, tl, &names);
    // Names whose inode's incarnation is not known, by inode.
    // (A name that is a live entry now, e.g. the copy an htree split
    // leaves behind in the old block's slack, is no deleted file.)
    let mut live_cache = super::names::LiveCache::default();
    let mut loose: Vec<(u32, u32)> = Vec::new();
    for (i, x) in r.res.iter().enumerate() {
        let n = &names[i];
        if x.child.is_some() || n.name.is_empty() {
            continue;
        }
        if let Some(p) = n.parent {
            if super::names::is_live(fs, &mut live_cache, p, &n.name, n.inode) {
                continue;
            }
        }
        loose.push((n.inode, i as u32));
    }
    drop(live_cache);
    loose.sort_unstable();
    rec.candidates.reserve(inos.len());
    let mut to_hash: Vec<usize> = Vec::new();
    for ino in inos {
        let incs: Vec<u32> = tl.indexes(ino).collect();
        for i in incs {
            let Some(inc) = tl.get(i) else { continue };
            if inc.now == Now::Live {
                continue;
            }
            let idx: Vec<usize> = range(&r.by_inc, i).collect();
            if idx.is_empty() && inc.copy.is_none() && inc.now == Now::Gone {
                continue; // only its unlinked state was seen: nothing to show
            }
            let paths = name_paths(&mut r, &idx);
            let del = (inc.now == Now::DeletedRecord)
                .then(|| deleted.get(fs, ino).or_else(|| fs.inode(ino).ok()))
                .flatten();
            let cand = incarnation_candidate(
                fs,
                alloc,
                journal,
                tl,
                i,
                del,
                paths,
                opts,
                &mut to_hash,
                rec.candidates.len(),
            );
            rec.candidates.push(cand);
        }
        let idx: Vec<usize> = range(&loose, ino).collect();
        if !idx.is_empty() {
            let paths = name_paths(&mut r, &idx);
            let dtype = names[idx[0]].file_type;
            rec.candidates
                .push(unresolved_candidate(tl, ino, dtype, paths));
        }
    }
    drop(r);
    rec.names = names;
    hash_contents(fs, &mut rec.candidates, &mut to_hash);
    // In place: a stable sort allocates half the array again. (path,
    // inode, generation) ties keep the input order, which is
    // deterministic, by the unstable sort's key.
    rec.candidates.sort_unstable_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.inode.cmp(&b.inode))
            .then(a.generation.cmp(&b.generation))
            .then(a.journal_seq.cmp(&b.journal_seq))
    });
    rec.candidates.shrink_to_fit();
}

/// The candidate for incarnation `i`: its own names, its own record or
/// journal copy, its own content.
#[allow(clippy::too_many_arguments)]
fn incarnation_candidate(
    fs: &Filesystem,
    alloc: &AllocCache,
    journal: Option<&Journal>,
    tl: &Timeline,
    i: u32,
    del: Option<Inode>,
    paths: Vec<NamePath>,
    opts: &Options,
    to_hash: &mut Vec<usize>,
    at: usize,
) -> DeletedCandidate {
    let inc = &tl.incs[i as usize];
    let ino = inc.ino;
    let hist: Option<&HistoricInode> = inc.copy.as_deref();
    let del = del.as_ref();
    let meta: Option<&Inode> = del.or(hist.map(|h| &h.inode));
    let realloc = tl.live(ino).is_some();
    let mut evidence = Vec::new();
    if let Some(d) = del {
        evidence.push(Clue::InodeRecord {
            group: fs.inode_group_of(ino) as u32,
            allocated: alloc.inode(ino) == Some(true),
            links: d.links_count,
            dtime: d.dtime,
        });
    }
    if let Some(h) = hist {
        evidence.push(Clue::JournalCopy { seq: h.sequence });
    }
    if realloc {
        evidence.push(Clue::Reallocated);
    }
    let mut cand = base_candidate(ino, &paths, &mut evidence);
    cand.realloc = realloc;
    if let Some(m) = meta {
        cand.file_type = m.file_type();
        cand.mode = m.mode;
        cand.uid = m.uid;
        cand.gid = m.gid;
        cand.atime = Ext4Time::pack(Some(m.atime));
        cand.mtime = Ext4Time::pack(Some(m.mtime));
        cand.ctime = Ext4Time::pack(Some(m.ctime));
        cand.crtime = Ext4Time::pack(m.crtime);
    } else {
        cand.file_type = inc.file_type();
        cand.mode = inc.mode;
    }
    cand.generation = Some(inc.key.generation);
    cand.journal_seq = hist.map(|h| h.sequence).or(cand.journal_seq);
    if let Some((t, src)) = inc.death {
        cand.dtime = Ext4Time::pack(Some(t));
        cand.extras_mut().dtime_source = Some(src);
    }
    cand.extras_mut().incarnation = Some(incarnation_info(tl, i));
    if realloc && del.is_none() {
        if let Some(h) = hist {
            evidence.push(Clue::EarlierIncarnation {
                generation: h.inode.generation,
                seq: h.sequence,
            });
        }
    }
    let hash_later = rebuild_content(
        fs,
        alloc,
        journal,
        del,
        hist,
        opts,
        &mut cand,
        &mut evidence,
    );
    cand.confidence = confidence(&cand);
    cand.evidence = evidence.into_boxed_slice();
    if hash_later {
        to_hash.push(at);
    }
    cand
}

/// What the report says of an incarnation: its identity, when the
/// journal saw it, and the incarnation that took its number.
fn incarnation_info(tl: &Timeline, i: u32) -> super::IncarnationInfo {
    let inc = &tl.incs[i as usize];
    let seq = |o: Option<u32>| o.and_then(|o| tl.sequence(o));
    let next = inc.next.and_then(|n| tl.get(n));
    super::IncarnationInfo {
        generation: inc.key.generation,
        crtime: inc.key.crtime,
        first_transaction: seq(inc.first),
        last_transaction: seq(inc.last_alive.or(inc.first)),
        end_transaction: seq(inc.end),
        state: inc.now,
        superseded_by: next.map(|n| super::Successor {
            generation: n.key.generation,
            crtime: n.key.crtime,
            live: n.now == Now::Live,
        }),
    }
}

/// A row for names whose inode's incarnation at the time is unknown: the
/// names are claimed, no metadata or content is.
fn unresolved_candidate(
    tl: &Timeline,
    ino: u32,
    dirent_type: u8,
    paths: Vec<NamePath>,
) -> DeletedCandidate {
    let mut evidence = Vec::new();
    let realloc = tl.live(ino).is_some();
    if realloc {
        evidence.push(Clue::Reallocated);
    }
    let mut cand = base_candidate(ino, &paths, &mut evidence);
    cand.realloc = realloc;
    cand.file_type = FileType::from_dirent(dirent_type);
    evidence.push(Clue::Note(&UNRESOLVED));
    cand.evidence = evidence.into_boxed_slice();
    cand.confidence = 0.3;
    cand
}

const UNRESOLVED: &str = "no known incarnation of the inode can be shown alive when the name was written: the name is claimed, no metadata or content is";

/// A candidate with its names and path, and nothing else yet.
fn base_candidate(ino: u32, paths: &[NamePath], evidence: &mut Vec<Clue>) -> DeletedCandidate {
    let mut sources = SourceSet::default();
    for (k, p) in paths.iter().enumerate() {
        for s in p.sources.iter() {
            sources.insert(s);
        }
        evidence.push(Clue::Name {
            path: k as u32,
            source: p.source,
            seq: p.seq,
        });
    }
    if let Some(p) = paths.first() {
        evidence.push(Clue::PathChain(p.proof, p.rooted));
    }
    let (path, name_source, seq, parent, proof) = match paths.first() {
        Some(p) => (p.path.clone(), p.source, p.seq, p.parent, Some(p.proof)),
        None => (
            format!("$Orphan/{ino}").into_bytes(),
            NameSource::None,
            None,
            None,
            None,
        ),
    };
    let mut c = DeletedCandidate {
        inode: ino,
        kind: if name_source == NameSource::None {
            CandidateKind::Orphan
        } else {
            CandidateKind::Deleted
        },
        path: path.into_boxed_slice(),
        name_source,
        name_sources: sources,
        parent_inode: parent,
        file_type: FileType::Unknown,
        mode: 0,
        uid: 0,
        gid: 0,
        size: None,
        size_source: SizeSource::None,
        atime: Ext4Time::NONE,
        mtime: Ext4Time::NONE,
        ctime: Ext4Time::NONE,
        crtime: Ext4Time::NONE,
        dtime: Ext4Time::NONE,
        generation: None,
        realloc: false,
        journal_seq: seq,
        path_proof: proof.filter(|_| paths.first().is_some_and(|p| p.rooted)),
        map: None,
        content: ContentState::None,
        digests: None,
        evidence: Box::default(),
        confidence: 0.0,
        extras: None,
    };
    if paths.len() > 1 {
        c.extras_mut().other_paths = paths
            .iter()
            .skip(1)
            .map(|p| (p.path.clone(), p.source))
            .collect();
    }
    c
}

fn confidence(c: &DeletedCandidate) -> f32 {
    let mut s: f32 = match c.map.as_ref().map(|m| m.source) {
        Some("journal") => 0.95,
        Some("inode-index") | Some("inode-extents") => 0.9,
        Some("inode-blocks") => 0.7,
        Some("stale-extents") => 0.4,
        _ if c.inline_data().is_some() => 0.9,
        _ => 0.5,
    };
    if c.kind == CandidateKind::Orphan {
        s -= 0.1;
    }
    if c.realloc {
        s -= 0.2;
    }
    if c.content == ContentState::Partial {
        s -= 0.1;
    }
    if c.path_proof == Some(Proof::Overlap) {
        s -= 0.1;
    }
    s.clamp(0.05, 1.0)
}

#[allow(clippy::too_many_arguments)]
fn rebuild_content(
    fs: &Filesystem,
    alloc: &AllocCache,
    journal: Option<&Journal>,
    del: Option<&Inode>,
    hist: Option<&HistoricInode>,
    opts: &Options,
    c: &mut DeletedCandidate,
    ev: &mut Vec<Clue>,
) -> bool {
    let base: Option<&Inode> = del.or(hist.map(|h| &h.inode));
    let Some(base) = base else { return false };
    let empty_sha = |c: &mut DeletedCandidate| {
        c.content = ContentState::Full;
        hash(c, &[], opts);
        c.extras_mut().inline_data = Some(Vec::new());
    };
    // Size: a journal copy is exact; a deleted inode's i_size is zeroed
    // by the kernel, so a non-zero one (older kernels, orphans) is kept.
    if let Some(h) = hist {
        c.size = Some(h.inode.size);
        c.size_source = SizeSource::Journal;
    } else if base.size > 0 {
        c.size = Some(base.size);
        c.size_source = SizeSource::Inode;
    }
    let is_inline = base.has_flag(flags::INLINE_DATA)
        || hist.is_some_and(|h| h.inode.has_flag(flags::INLINE_DATA));
    if c.file_type == FileType::Symlink {
        let src = hist.map(|h| &h.inode).unwrap_or(base);
        if fs.is_fast_symlink(src) && src.size > 0 && src.size < 60 {
            let t = &src.block[..src.size as usize];
            if t.iter().any(|&b| b != 0) {
                c.extras_mut().symlink_target = Some(crate::util::escape::json_name(t));
                c.content = ContentState::Full;
                c.extras_mut().inline_data = Some(t.to_vec());
                hash(c, t, opts);
            } else {
                ev.push(Clue::Note(&"fast symlink target was zeroed at deletion"));
            }
            return false;
        }
    }
    if is_inline {
        let src = hist.map(|h| &h.inode).unwrap_or(base);
        let size = c.size.unwrap_or(src.size);
        if size == 0 && c.size.is_none() {
            return false;
        }
        let data = content::inline_content(fs, src, size);
        c.size = Some(size);
        if c.size_source == SizeSource::None {
            c.size_source = SizeSource::Inode;
        }
        c.content = ContentState::Full;
        ev.push(Clue::InlineBytes(data.len() as u64));
        if c.file_type == FileType::Symlink {
            c.extras_mut().symlink_target = Some(crate::util::escape::json_name(&data));
        }
        hash(c, &data, opts);
        c.extras_mut().inline_data = Some(data);
        return false;
    }
    if c.size == Some(0) && matches!(c.file_type, FileType::Regular) {
        // A known-empty file is fully recovered by definition.
        empty_sha(c);
        return false;
    }
    if c.file_type == FileType::Dir {
        // Directory content is not "recovered" as a file; its map is kept.
        c.map = content::best_map(fs, base, hist, journal).map(Box::new);
        return false;
    }
    let Some(map) = content::best_map(fs, base, hist, journal) else {
        ev.push(Clue::Note(&"no block map survives (depth-0 extents are zeroed at deletion and no journal copy was found)"));
        return false;
    };
    let runs = content::check_runs(fs, alloc, &map);
    c.content = content::verdict(&runs);
    if c.size.is_none() {
        c.size = content::size_from_map(fs, &runs);
        c.size_source = SizeSource::MapEstimate;
    }
    ev.push(Clue::BlockMap);
    for (n, rc) in runs.iter().enumerate() {
        if rc.state != content::RunState::Free {
            ev.push(Clue::Run(n as u32));
        }
    }
    // Hashed later, on every core (see `hash_contents`).
    let hash_later = matches!(c.content, ContentState::Full | ContentState::Partial) && opts.hash;
    if c.file_type == FileType::Symlink && c.content == ContentState::Full {
        let mut t = Vec::new();
        if content::stream(fs, &runs, c.size.unwrap_or(0).min(4096), &mut t).is_ok() {
            c.extras_mut().symlink_target = Some(crate::util::escape::json_name(&t));
        }
    }
    let mut map = map;
    map.checks = runs;
    map.checks.shrink_to_fit();
    c.map = Some(Box::new(map));
    hash_later
}

/// MD5 and SHA-256 of the content of the candidates at `idx` (their
/// checked runs, up to their size), in chunks spread over every core:
/// hashing was most of the recovery's time on images with GBs of deleted
/// data. A chunk's digests are boxed here, on the calling thread (pool
/// threads would keep them in arenas of their own).
fn hash_contents(fs: &Filesystem, cands: &mut [DeletedCandidate], idx: &mut [usize]) {
    use rayon::prelude::*;
    // Largest first, so a chunk does not end waiting on one big file.
    idx.sort_by_key(|&i| std::cmp::Reverse(cands.get(i).and_then(|c| c.size).unwrap_or(0)));
    for chunk in idx.chunks(8192) {
        let cs: &[DeletedCandidate] = cands;
        // One file a piece: a worker never holds a run of big ones.
        let d: Vec<Option<super::Digests>> = chunk
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                let c = cs.get(i)?;
                let map = c.map.as_ref()?;
                let mut h = HashWriter::default();
                content::stream(fs, &map.checks, c.size.unwrap_or(0), &mut h).ok()?;
                Some(h.digests())
            })
            .collect();
        for (&i, d) in chunk.iter().zip(d) {
            if let Some(c) = cands.get_mut(i) {
                c.digests = d.map(Box::new);
            }
        }
    }
}

fn hash(c: &mut DeletedCandidate, data: &[u8], opts: &Options) {
    if opts.hash {
        let mut h = HashWriter::default();
        h.update(data);
        c.digests = Some(Box::new(h.digests()));
    }
}

/// SHA-256 and MD5 in one pass.
#[derive(Default)]
pub struct HashWriter {
    sha: Sha256,
    md5: Md5,
}

impl HashWriter {
    pub fn update(&mut self, b: &[u8]) {
        self.sha.update(b);
        self.md5.update(b);
    }
    pub fn digests(&self) -> super::Digests {
        super::Digests {
            sha256: self.sha.clone().finalize().into(),
            md5: self.md5.clone().finalize().into(),
        }
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

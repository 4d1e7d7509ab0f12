//! Combine inodes, names and journal history into candidates with full
//! paths: a deleted name plus its parent gives a path through the live
//! tree or through recovered (deleted) directories.

use super::content::{self, ContentState};
use super::names::{LiveTree, NameSource};
use super::{
    AllocCache, CandidateKind, Clue, DeletedCandidate, HistoricInode, Options, Recovery,
    SizeSource, SourceSet, StaleName,
};
use crate::ext4::inode::{flags, FileType, Inode};
use crate::ext4::journal::Journal;
use crate::ext4::Filesystem;
use crate::util::time::{Ext4Time, Timestamp};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// (full path, name source, journal sequence, parent inode)
type PathClue = (Vec<u8>, NameSource, Option<u32>, Option<u32>);

/// Deepest chain of deleted parents followed for one path.
const MAX_PATH_DEPTH: usize = 256;

struct Resolver<'a> {
    live: &'a LiveTree,
    /// child inode → indexes into names (with a non-empty name)
    by_child: NamesByChild,
    /// child directory inode → parent (from `..` of freed blocks)
    dotdot: HashMap<u32, u32>,
    names: &'a [super::DeletedName],
    /// names[i] belongs to an earlier incarnation of its (now live)
    /// parent directory: it must not be joined to the live path.
    stale: Vec<bool>,
    memo: HashMap<u32, Option<Vec<u8>>>,
    /// Paths of earlier incarnations of live directories.
    memo_hist: HashMap<u32, Option<Vec<u8>>>,
}

/// Names by the inode they point at: (child, name index) pairs sorted by
/// child. One flat array, not a map of vectors (a heap block per inode).
struct NamesByChild(Vec<(u32, u32)>);

impl NamesByChild {
    fn indexes(&self, child: u32) -> impl Iterator<Item = usize> + '_ {
        let lo = self.0.partition_point(|x| x.0 < child);
        self.0[lo..]
            .iter()
            .take_while(move |x| x.0 == child)
            .map(|x| x.1 as usize)
    }
    fn children(&self) -> impl Iterator<Item = u32> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(k, x)| k.checked_sub(1).and_then(|p| self.0.get(p)).map(|p| p.0) != Some(x.0))
            .map(|(_, x)| x.0)
    }
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

impl Resolver<'_> {
    /// Path of directory `d`, live or deleted.
    fn dir_path(&mut self, d: u32, depth: usize) -> Option<Vec<u8>> {
        if let Some(p) = self.live.dir_path.get(&d) {
            return Some(p);
        }
        self.old_dir_path(d, depth, false)
    }

    /// The path of the directory a name's parent inode was when the name
    /// was written: the live path, or for a stale name (an earlier
    /// incarnation of a live directory) the path from that incarnation's
    /// own names.
    fn parent_path(&mut self, i: usize, child: u32, depth: usize) -> Option<Vec<u8>> {
        let n = &self.names[i];
        let parent = n.parent.or_else(|| self.dotdot.get(&child).copied())?;
        if self.stale[i] {
            self.old_dir_path(parent, depth, true)
        } else {
            self.dir_path(parent, depth)
        }
    }

    /// Path of directory `d` from its deleted names (not its live path:
    /// with `hist`, `d` is live now but the caller needs its earlier
    /// incarnation). Names whose directory-entry type says "not a
    /// directory" are not used for a directory.
    fn old_dir_path(&mut self, d: u32, depth: usize, hist: bool) -> Option<Vec<u8>> {
        if depth > MAX_PATH_DEPTH {
            return None;
        }
        let memo = if hist { &self.memo_hist } else { &self.memo };
        if let Some(m) = memo.get(&d) {
            return m.clone();
        }
        if hist {
            self.memo_hist.insert(d, None); // cycle guard
        } else {
            self.memo.insert(d, None);
        }
        let mut best: Option<Vec<u8>> = None;
        let idx: Vec<usize> = self.by_child.indexes(d).collect();
        for i in idx {
            let n = &self.names[i];
            // 2 = directory; 0 = unknown (no filetype feature).
            if n.file_type != 2 && n.file_type != 0 {
                continue;
            }
            let name = n.name.clone();
            if let Some(p) = self.parent_path(i, d, depth + 1) {
                let mut full = p;
                full.push(b'/');
                full.extend_from_slice(&name);
                best = Some(full);
                break;
            }
        }
        if best.is_none() && !hist {
            // Name lost, but `..` of its freed block names the parent
            // (an earlier incarnation of it when `d`'s own name there is
            // stale).
            if let Some(p) = self.dotdot.get(&d).copied() {
                let stale_parent = self
                    .by_child
                    .indexes(d)
                    .any(|i| self.stale[i] && self.names[i].parent == Some(p));
                let pp = if stale_parent {
                    self.old_dir_path(p, depth + 1, true)
                } else {
                    self.dir_path(p, depth + 1)
                };
                if let Some(mut pp) = pp {
                    pp.extend_from_slice(format!("/$OrphanDir-{d}").as_bytes());
                    best = Some(pp);
                }
            }
        }
        if hist {
            self.memo_hist.insert(d, best.clone());
        } else {
            self.memo.insert(d, best.clone());
        }
        best
    }
}

/// Does name `n` belong to an earlier incarnation of its parent, a
/// directory that is live now (same inode number, reused)? Then joining
/// it to the live path would put it under the wrong directory.
/// - the block says (by its `.` entry) it belonged to the parent, but it
///   is not one of the live directory's blocks now (a live directory
///   never gives blocks back: the block is from an earlier directory with
///   that inode number);
/// - the journal holds an older generation of the parent inode, logged
///   at or after the transaction the name was read from.
fn stale_name(
    fs: &Filesystem,
    live: &LiveTree,
    history: &HashMap<u32, HistoricInode>,
    gens: &mut HashMap<u32, Option<u32>>,
    n: &super::DeletedName,
) -> bool {
    let Some(p) = n.parent else { return false };
    if n.name.is_empty() || !live.dir_path.contains_key(&p) {
        return false;
    }
    if n.dot_owner
        && matches!(n.source, NameSource::Journal | NameSource::FreedDirBlock)
        && live.dir_blocks.get(&n.block) != Some(&p)
    {
        return true;
    }
    if let (Some(h), Some(seq)) = (history.get(&p), n.journal_seq) {
        let cur = *gens
            .entry(p)
            .or_insert_with(|| fs.inode(p).ok().map(|i| i.generation));
        if cur.is_some_and(|g| g != h.inode.generation) && seq <= h.sequence {
            return true;
        }
    }
    false
}

#[allow(clippy::too_many_arguments)]
pub fn build_candidates(
    fs: &Filesystem,
    alloc: &AllocCache,
    journal: Option<&Journal>,
    live: &mut LiveTree,
    deleted: &super::inodes::DeletedInodes,
    history: &HashMap<u32, HistoricInode>,
    opts: &Options,
    rec: &mut Recovery,
) {
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut dotdot = HashMap::new();
    for (i, n) in rec.names.iter().enumerate() {
        if n.name.is_empty() {
            if let Some(p) = n.parent {
                dotdot.insert(n.inode, p);
            }
        } else if n.inode != 0 {
            pairs.push((n.inode, i as u32));
        }
    }
    // Per child: best source first, then the newest transaction, then
    // the order found.
    pairs.sort_unstable_by_key(|&(child, i)| {
        let n = &rec.names[i as usize];
        (
            child,
            source_rank(n.source),
            std::cmp::Reverse(n.journal_seq),
            i,
        )
    });
    let by_child = NamesByChild(pairs);
    let names = std::mem::take(&mut rec.names);
    let mut gens = HashMap::new();
    let stale: Vec<bool> = names
        .iter()
        .map(|n| stale_name(fs, live, history, &mut gens, n))
        .collect();
    drop(gens);
    // Directory block owners are needed only for the check above; freed
    // before the candidates are built.
    live.dir_blocks = HashMap::new();
    let live: &LiveTree = live;
    let mut r = Resolver {
        live,
        by_child,
        dotdot,
        names: &names,
        stale,
        memo: HashMap::new(),
        memo_hist: HashMap::new(),
    };

    // Every inode with deleted evidence.
    let mut inos: Vec<u32> = deleted.numbers().to_vec();
    inos.extend(history.keys().copied());
    inos.extend(r.by_child.children());
    inos.sort_unstable();
    inos.dedup();
    let mut live_cache = super::names::LiveCache::default();
    // At most one candidate per inode: reserved once instead of grown by
    // doubling (the array is the largest single allocation of recovery).
    rec.candidates.reserve_exact(inos.len());
    let mut to_hash: Vec<usize> = Vec::new();
    for ino in inos {
        let now_alloc = alloc.inode(ino) == Some(true);
        let del_inode = deleted.get(fs, ino);
        let del = del_inode.as_ref();
        let current = if del.is_none() {
            fs.inode(ino).ok()
        } else {
            None
        };
        // A live inode with only historic/name evidence: keep it only when
        // a name points at it that is no longer live (fls `(realloc)`).
        let names_for: Vec<usize> = r.by_child.indexes(ino).collect();
        let hist = history.get(&ino);
        if del.is_none() {
            let has_dead_name = names_for.iter().any(|&i| {
                let n = &names[i];
                match n.parent {
                    Some(p) => !super::names::is_live(fs, &mut live_cache, p, &n.name, ino),
                    None => true,
                }
            });
            let reused = match (&current, hist) {
                (Some(c), Some(h)) => c.generation != h.inode.generation || c.links_count == 0,
                _ => false,
            };
            if !has_dead_name && !reused {
                continue;
            }
        }
        // Metadata: the deleted inode, else the journal's copy.
        let hist_same = hist.filter(|h| del.is_none_or(|d| d.generation == h.inode.generation));
        let meta: Option<&Inode> = del.or(hist_same.map(|h| &h.inode));
        let realloc = now_alloc && del.is_none();
        let mut evidence = Vec::new();
        if let Some(d) = del {
            evidence.push(Clue::InodeRecord {
                group: fs.inode_group_of(ino) as u32,
                allocated: now_alloc,
                links: d.links_count,
                dtime: d.dtime,
            });
        }
        if let Some(h) = hist_same {
            evidence.push(Clue::JournalCopy { seq: h.sequence });
        }
        if realloc {
            evidence.push(Clue::Reallocated);
        }
        // Name and path.
        let mut paths: Vec<PathClue> = Vec::new();
        let mut all_sources = SourceSet::default();
        for &i in &names_for {
            let n = &names[i];
            let parent = n.parent.or_else(|| r.dotdot.get(&ino).copied());
            let pp = r.parent_path(i, ino, 0);
            if r.stale[i] {
                evidence.push(Clue::StaleName(Box::new(StaleName {
                    name: n.name.clone().into_boxed_slice(),
                    parent: parent.unwrap_or(0),
                })));
            }
            let full = match pp {
                Some(mut p) => {
                    p.push(b'/');
                    p.extend_from_slice(&n.name);
                    p
                }
                None => {
                    let mut p = match parent {
                        Some(p) => format!("$Orphan/{p}").into_bytes(),
                        None => b"$Orphan/unknown-parent".to_vec(),
                    };
                    p.push(b'/');
                    p.extend_from_slice(&n.name);
                    p
                }
            };
            all_sources.insert(n.source);
            if !paths.iter().any(|x| x.0 == full) {
                paths.push((full, n.source, n.journal_seq, parent));
            }
        }
        // Prefer a path rooted in the live tree.
        paths.sort_by_key(|p| (p.0.starts_with(b"$Orphan"), source_rank(p.1)));
        let (path, name_source, name_seq, parent) = match paths.first() {
            Some(p) => (p.0.clone(), p.1, p.2, p.3),
            None => (
                format!("$Orphan/{ino}").into_bytes(),
                NameSource::None,
                None,
                None,
            ),
        };
        let kind = if name_source == NameSource::None {
            CandidateKind::Orphan
        } else {
            CandidateKind::Deleted
        };
        for (k, (_, s, seq, _)) in paths.iter().enumerate() {
            evidence.push(Clue::Name {
                path: k as u32,
                source: *s,
                seq: *seq,
            });
        }
        let dtype = names_for
            .first()
            .map(|&i| FileType::from_dirent(names[i].file_type))
            .unwrap_or(FileType::Unknown);
        let ftype = meta.map(|m| m.file_type()).unwrap_or(dtype);
        let mut cand = DeletedCandidate {
            inode: ino,
            kind,
            path: path.into_boxed_slice(),
            name_source,
            name_sources: all_sources,
            parent_inode: parent,
            file_type: ftype,
            mode: meta.map(|m| m.mode).unwrap_or(0),
            uid: meta.map(|m| m.uid).unwrap_or(0),
            gid: meta.map(|m| m.gid).unwrap_or(0),
            size: None,
            size_source: SizeSource::None,
            atime: Ext4Time::pack(meta.map(|m| m.atime)),
            mtime: Ext4Time::pack(meta.map(|m| m.mtime)),
            ctime: Ext4Time::pack(meta.map(|m| m.ctime)),
            crtime: Ext4Time::pack(meta.and_then(|m| m.crtime)),
            dtime: Ext4Time::pack(
                del.filter(|d| d.dtime != 0)
                    .map(|d| Timestamp::new(d.dtime as i64, 0)),
            ),
            generation: meta.map(|m| m.generation),
            realloc,
            journal_seq: hist_same.map(|h| h.sequence).or(name_seq),
            map: None,
            content: ContentState::None,
            digests: None,
            evidence: Box::default(),
            confidence: 0.0,
            extras: None,
        };
        if paths.len() > 1 {
            cand.extras_mut().other_paths =
                paths.iter().skip(1).map(|p| (p.0.clone(), p.1)).collect();
        }
        let mut hash_later = false;
        if !realloc {
            hash_later = rebuild_content(
                fs,
                alloc,
                journal,
                del,
                hist_same,
                opts,
                &mut cand,
                &mut evidence,
            );
        } else if let Some(h) = hist.filter(|h| {
            current
                .as_ref()
                .is_none_or(|c| c.generation != h.inode.generation)
        }) {
            // The old incarnation is known from the journal: its blocks may
            // have been reused; check them.
            evidence.push(Clue::EarlierIncarnation {
                generation: h.inode.generation,
                seq: h.sequence,
            });
            cand.mode = h.inode.mode;
            cand.file_type = h.inode.file_type();
            cand.mtime = Ext4Time::pack(Some(h.inode.mtime));
            hash_later = rebuild_content(
                fs,
                alloc,
                journal,
                None,
                Some(h),
                opts,
                &mut cand,
                &mut evidence,
            );
        }
        cand.confidence = confidence(&cand);
        // Exact size (growth by doubling left half of each spare).
        cand.evidence = evidence.into_boxed_slice();
        if hash_later {
            to_hash.push(rec.candidates.len());
        }
        rec.candidates.push(cand);
    }
    rec.names = names;
    hash_contents(fs, &mut rec.candidates, &mut to_hash);
    drop(to_hash);
    // In place: a stable sort allocates half the array again (25 MB at 1M
    // inodes). (path, inode) ties are the same file; the input order is
    // deterministic, so the output is too.
    rec.candidates
        .sort_unstable_by(|a, b| a.path.cmp(&b.path).then(a.inode.cmp(&b.inode)));
    rec.candidates.shrink_to_fit();
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

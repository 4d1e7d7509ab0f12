//! Deleted names: slack in live directory blocks, freed directory blocks
//! and the journal's copies of directory blocks.

use super::timeline::Timeline;
use super::{AllocCache, Recovery};
use crate::ext4::dir::{min_rec_len, parse_dirents, rec_len_from_disk};
use crate::ext4::inode::ROOT_INO;
use crate::ext4::journal::{sniff, ContentHint, Journal};
use crate::ext4::superblock::incompat;
use crate::ext4::Filesystem;
use crate::util::bytes::{le16, le32, slice, u8_at};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameSource {
    Live,
    Slack,
    FreedDirBlock,
    Journal,
    None,
}

/// A name that points at an inode from somewhere other than a live entry.
#[derive(Clone, Debug, Serialize)]
pub struct DeletedName {
    /// Directory that held the entry, when known.
    pub parent: Option<u32>,
    #[serde(skip)]
    pub name: Vec<u8>,
    pub inode: u32,
    pub file_type: u8,
    pub source: NameSource,
    /// Filesystem block the entry was read from (for the journal: the
    /// block the copy describes).
    pub block: u64,
    pub offset: u32,
    pub journal_seq: Option<u32>,
    /// The parent was read from the block's own `.` entry (the block says
    /// which directory it belonged to), not from its current owner.
    #[serde(skip)]
    pub dot_owner: bool,
    /// The generation of the directory whose block (or inline record)
    /// held the entry: the parent for a name, the child itself for a `..`
    /// link (empty name). Known when the block's metadata_csum tail
    /// matches that generation, or the entry came from the directory's
    /// own inode record (inline data).
    #[serde(skip)]
    pub block_gen: Option<u32>,
    /// The block has a checksum tail that no known incarnation of the
    /// parent wrote: the parent's incarnation is unknown (and an owner
    /// taken from a block map is wrong).
    #[serde(skip)]
    pub gen_unmatched: bool,
}

/// Which incarnation of directory `dir` wrote directory block `block`: the
/// generation among `gens` whose checksum seed makes the block's
/// metadata_csum tail match. `None` when the filesystem or the block has
/// no checksum; `Some(None)` when none of `gens` matches.
pub fn writer_generation(
    fs: &Filesystem,
    block: &[u8],
    dir: u32,
    gens: &[u32],
) -> Option<Option<u32>> {
    if !fs.sb.metadata_csum() || block.len() < 24 || !crate::ext4::dir::has_tail(block) {
        return None;
    }
    Some(gens.iter().copied().find(|&g| {
        crate::ext4::dir::tail_checksum_ok(block, crate::ext4::Inode::csum_seed(dir, g, &fs.sb))
    }))
}

/// The generations a directory number is known to have had: its record
/// now and every incarnation the timeline holds.
pub fn known_generations(fs: &Filesystem, tl: &super::timeline::Timeline, dir: u32) -> Vec<u32> {
    let mut g = tl.generations(dir);
    if let Ok(i) = fs.inode(dir) {
        if i.mode != 0 && !g.contains(&i.generation) {
            g.push(i.generation);
        }
    }
    g
}

/// Which directories are known to have mapped each directory block: the
/// live directories now, and the deleted ones (inode records and journal
/// copies) with their generation. A block can have had several owners
/// over time (a directory's blocks are freed and given to another).
pub struct DirBlockOwners<'a> {
    pub live: &'a HashMap<u64, u32>,
    /// block → (inode, generation) of each deleted directory whose map
    /// held it.
    pub dead: HashMap<u64, Vec<(u32, u32)>>,
}

impl DirBlockOwners<'_> {
    /// Every known owner of `blk`: (inode, `None` for the live directory
    /// or `Some(generation)`).
    fn candidates(&self, blk: u64) -> Vec<(u32, Option<u32>)> {
        let mut v: Vec<(u32, Option<u32>)> = self
            .live
            .get(&blk)
            .map(|&d| (d, None))
            .into_iter()
            .collect();
        if let Some(d) = self.dead.get(&blk) {
            for &(ino, g) in d {
                if !v.contains(&(ino, Some(g))) {
                    v.push((ino, Some(g)));
                }
            }
        }
        v
    }
}

/// Who wrote a directory block, as far as the block and the known owners
/// tell.
#[derive(Clone, Copy, Debug, Default)]
struct Writer {
    parent: Option<u32>,
    /// Shown by the checksum tail.
    generation: Option<u32>,
    /// A checksum tail that no known incarnation of any candidate wrote.
    unmatched: bool,
    /// `parent` is the block's own `.` entry.
    dot: bool,
}

/// The directory that wrote directory block `blk` (bytes `data`):
/// - with metadata_csum, the (inode, generation) among its `.` entry or
///   its known owners whose checksum seed makes the tail match;
/// - without, its `.` entry, or its one known owner; for a journal copy
///   (`at`: journal order) the owners alive then; for a freed block the
///   deleted owners (a freed block is no live directory's).
fn block_writer(
    fs: &Filesystem,
    tl: &Timeline,
    owners: &DirBlockOwners,
    blk: u64,
    data: &[u8],
    dot: Option<u32>,
    at: Option<u32>,
) -> Writer {
    let cands = match dot {
        Some(d) => vec![(d, None)],
        None => owners.candidates(blk),
    };
    let first = cands.first().map(|c| c.0);
    let dotted = dot.is_some();
    let tail = fs.sb.metadata_csum() && data.len() >= 24 && crate::ext4::dir::has_tail(data);
    if tail {
        for &(ino, g) in &cands {
            let gens = match g {
                Some(g) => vec![g],
                None => known_generations(fs, tl, ino),
            };
            if let Some(Some(m)) = writer_generation(fs, data, ino, &gens) {
                return Writer {
                    parent: Some(ino),
                    generation: Some(m),
                    unmatched: false,
                    dot: dotted,
                };
            }
        }
        return Writer {
            parent: first,
            generation: None,
            unmatched: first.is_some(),
            dot: dotted,
        };
    }
    if dotted || cands.len() <= 1 {
        return Writer {
            parent: first,
            dot: dotted,
            ..Writer::default()
        };
    }
    let fits = |&&(ino, g): &&(u32, Option<u32>)| match at {
        Some(o) => tl
            .alive_at(ino, o)
            .and_then(|(i, _)| tl.get(i))
            .is_some_and(|x| match g {
                Some(g) => x.key.generation == g,
                None => x.now == super::timeline::Now::Live,
            }),
        None => g.is_some(),
    };
    let alive: Vec<&(u32, Option<u32>)> = cands.iter().filter(fits).collect();
    match alive.as_slice() {
        [one] => Writer {
            parent: Some(one.0),
            ..Writer::default()
        },
        _ => Writer::default(),
    }
}

/// Paths of the live directories, kept as parent links (inode → parent
/// and name): full paths for every directory were the largest part of
/// recovery's memory on big trees (141 MB of 992 MB at 5M inodes).
/// Names sit in one arena, each behind a length byte (a dirent name is at
/// most 255 bytes): a boxed name per directory cost its own heap block.
#[derive(Default)]
pub struct DirPaths {
    /// dir → (parent, offset of its name in `names`)
    links: HashMap<u32, (u32, u32)>,
    names: Vec<u8>,
}

impl DirPaths {
    /// Record `dir` under `parent`. Refused (false) when the arena would
    /// pass 4 GiB, a bound no real tree reaches.
    pub fn insert(&mut self, dir: u32, parent: u32, name: &[u8]) -> bool {
        let name = &name[..name.len().min(255)];
        let Ok(off) = u32::try_from(self.names.len()) else {
            return false;
        };
        if off.checked_add(256).is_none() {
            return false;
        }
        self.names.push(name.len() as u8);
        self.names.extend_from_slice(name);
        self.links.insert(dir, (parent, off));
        true
    }
    /// Drop spare capacity once the tree is complete.
    pub fn shrink_to_fit(&mut self) {
        self.links.shrink_to_fit();
        self.names.shrink_to_fit();
    }
    fn name(&self, off: u32) -> &[u8] {
        let off = off as usize;
        let len = self.names.get(off).copied().unwrap_or(0) as usize;
        self.names.get(off + 1..off + 1 + len).unwrap_or(&[])
    }
    pub fn contains_key(&self, dir: &u32) -> bool {
        self.links.contains_key(dir)
    }
    /// `/a/b` for a directory below the root, empty for the root.
    pub fn get(&self, dir: &u32) -> Option<Vec<u8>> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut d = *dir;
        // Links are made top-down from the root, so they hold no cycle;
        // the bound is a guard all the same.
        for _ in 0..=self.links.len() {
            let &(parent, off) = self.links.get(&d)?;
            if d == ROOT_INO {
                let mut p = Vec::new();
                for n in names.iter().rev() {
                    p.push(b'/');
                    p.extend_from_slice(n);
                }
                return Some(p);
            }
            names.push(self.name(off));
            d = parent;
        }
        None
    }
}

/// The live tree as recovery needs it.
#[derive(Default)]
pub struct LiveTree {
    /// Path of every live directory.
    pub dir_path: DirPaths,
    /// Directory block → owning live directory inode.
    pub dir_blocks: HashMap<u64, u32>,
}

fn filetype(fs: &Filesystem) -> bool {
    fs.sb.has_incompat(incompat::FILETYPE)
}

/// Deleted records hidden in the slack after each live record (kernels
/// before 5.13 merge a deleted entry into its predecessor's rec_len and
/// leave its bytes; a deleted first entry keeps its name with inode 0).
pub fn slack_entries(b: &[u8], bs: u64, ft: bool, max_ino: u32) -> Vec<(u32, Vec<u8>, u8, u32)> {
    let mut out = Vec::new();
    let mut off = 0usize;
    let n = b.len();
    let mut guard = 0;
    while off + 8 <= n && guard < n / 4 {
        guard += 1;
        let ino = le32(b, off);
        let rec = rec_len_from_disk(le16(b, off + 4), bs) as usize;
        let nl = u8_at(b, off + 6) as usize;
        if rec < 12 || rec % 4 != 0 || off + rec > n {
            break;
        }
        if ino == 0 && nl > 0 && off + 8 + nl <= n && (rec_len_ok(rec, nl)) {
            let name = slice(b, off + 8, nl);
            if plausible_name(name) && !(rec == 12 && nl == 0) {
                out.push((
                    0,
                    name.to_vec(),
                    if ft { u8_at(b, off + 7) } else { 0 },
                    off as u32,
                ));
            }
        }
        let used = if ino == 0 {
            0
        } else {
            min_rec_len(nl) as usize
        };
        let mut q = off + used.max(if ino == 0 { 0 } else { 12 });
        let end = off + rec;
        if ino == 0 {
            q = off + min_rec_len(nl) as usize;
        }
        while q + 12 <= end {
            let dino = le32(b, q);
            let dnl = u8_at(b, q + 6) as usize;
            let dft = if ft { u8_at(b, q + 7) } else { 0 };
            let drec = rec_len_from_disk(le16(b, q + 4), bs) as usize;
            let need = min_rec_len(dnl) as usize;
            if dino != 0
                && dino <= max_ino
                && dnl > 0
                && q + need <= end
                && drec >= need
                && drec % 4 == 0
                && dft <= 7
            {
                let name = slice(b, q + 8, dnl);
                if plausible_name(name) {
                    out.push((dino, name.to_vec(), dft, q as u32));
                    q += need;
                    continue;
                }
            }
            q += 4;
        }
        off += rec;
    }
    out
}

fn rec_len_ok(rec: usize, nl: usize) -> bool {
    rec >= min_rec_len(nl) as usize
}

fn plausible_name(n: &[u8]) -> bool {
    !n.is_empty() && !n.iter().any(|&c| c == 0 || c == b'/') && n != b"." && n != b".."
}

/// Walk the live tree breadth-first: directory paths, block owners, and
/// deleted names in the slack of live directory blocks.
pub fn scan_live_dirs(fs: &Filesystem, alloc: &AllocCache, rec: &mut Recovery) -> LiveTree {
    let _ = alloc;
    let mut t = LiveTree::default();
    let bs = fs.block_size();
    let ft = filetype(fs);
    let max = fs.sb.inodes_count;
    t.dir_path.insert(ROOT_INO, ROOT_INO, b"");
    let mut queue = vec![ROOT_INO];
    let mut arena_full = false;
    let mut buf = vec![0u8; bs as usize];
    while let Some(d) = queue.pop() {
        let Ok(ino) = fs.inode(d) else { continue };
        if !ino.is_dir() {
            continue;
        }
        let listing = fs.read_dir(&ino);
        for e in &listing.entries {
            if e.is_dot() {
                continue;
            }
            if e.dirent_type() == crate::ext4::inode::FileType::Dir
                && !t.dir_path.contains_key(&e.inode)
            {
                if t.dir_path.insert(e.inode, d, &e.name) {
                    queue.push(e.inode);
                } else if !arena_full {
                    arena_full = true;
                    rec.warnings.push(format!(
                        "live tree: directory names past 4 GiB; directory {} and later ones not walked for slack or paths",
                        e.inode
                    ));
                }
            }
        }
        if ino.has_flag(crate::ext4::inode::flags::INLINE_DATA) {
            continue;
        }
        let map = fs.block_map(&ino);
        for r in &map.runs {
            for k in 0..r.len.min(1 << 20) {
                let p = r.physical + k;
                t.dir_blocks.insert(p, d);
                if fs.read_blocks_into(p, &mut buf).is_err() {
                    continue;
                }
                for (dino, name, dft, off) in slack_entries(&buf, bs, ft, max) {
                    rec.stats.names_slack += 1;
                    rec.names.push(DeletedName {
                        parent: Some(d),
                        name,
                        inode: dino,
                        file_type: dft,
                        source: NameSource::Slack,
                        block: p,
                        offset: off,
                        journal_seq: None,
                        dot_owner: false,
                        block_gen: None,
                        gen_unmatched: false,
                    });
                }
            }
        }
    }
    t.dir_path.shrink_to_fit();
    t
}

/// Directory listings [`is_live`] keeps at once.
const LIVE_CACHE_DIRS: usize = 256;

/// Listings of the live directories [`is_live`] asked about last.
#[derive(Default)]
pub struct LiveCache {
    dirs: HashMap<u32, Listing>,
}

/// One live directory's entries, compact: names in one arena and
/// (offset, length, inode) sorted by name, 12 bytes an entry (a map of
/// owned names was about 70; 13 MB of `scan`'s peak at 5M inodes).
#[derive(Default)]
struct Listing {
    names: Vec<u8>,
    ents: Vec<(u32, u8, u32)>,
}

impl Listing {
    fn read(fs: &Filesystem, dir: u32) -> Listing {
        let mut l = Listing::default();
        let Ok(i) = fs.inode(dir) else { return l };
        if !(i.is_dir() && i.links_count > 0 && i.dtime == 0) {
            return l;
        }
        let entries = fs.read_dir(&i).entries;
        l.ents.reserve_exact(entries.len());
        // Later entries win a repeated name (as the map's insert did):
        // added last first, the stable sort keeps them first, and dedup
        // keeps the first of each name.
        for e in entries.iter().rev() {
            let Ok(off) = u32::try_from(l.names.len()) else {
                break; // a listing over 4 GiB of names: no real directory
            };
            let name = &e.name[..e.name.len().min(255)];
            l.names.extend_from_slice(name);
            l.ents.push((off, name.len() as u8, e.inode));
        }
        drop(entries);
        let names = &l.names;
        l.ents
            .sort_by(|a, b| Listing::name(names, a).cmp(Listing::name(names, b)));
        l.ents
            .dedup_by(|a, b| Listing::name(names, a) == Listing::name(names, b));
        l.ents.shrink_to_fit();
        l
    }

    /// The name of entry `e` in the arena.
    fn name<'n>(names: &'n [u8], &(off, len, _): &(u32, u8, u32)) -> &'n [u8] {
        names
            .get(off as usize..off as usize + len as usize)
            .unwrap_or(&[])
    }

    fn get(&self, name: &[u8]) -> Option<u32> {
        let i = self
            .ents
            .binary_search_by(|e| Listing::name(&self.names, e).cmp(name))
            .ok()?;
        self.ents.get(i).map(|e| e.2)
    }
}

/// Is (parent, name) → inode a live entry now?
pub fn is_live(
    fs: &Filesystem,
    cache: &mut LiveCache,
    parent: u32,
    name: &[u8],
    inode: u32,
) -> bool {
    // Bounded: listings of the last directories asked about, not of every
    // directory (they were 14 MB at 5M inodes).
    if cache.dirs.len() >= LIVE_CACHE_DIRS && !cache.dirs.contains_key(&parent) {
        cache.dirs.clear();
    }
    let m = cache
        .dirs
        .entry(parent)
        .or_insert_with(|| Listing::read(fs, parent));
    m.get(name) == Some(inode)
}

/// Names from the journal's copies of directory blocks.
pub fn journal_dir_blocks(
    fs: &Filesystem,
    j: &Journal,
    tl: &Timeline,
    owners: &DirBlockOwners,
    rec: &mut Recovery,
) {
    let bs = fs.block_size();
    let ft = filetype(fs);
    let max = fs.sb.inodes_count;
    let mut live_cache = LiveCache::default();
    let mut seen: HashMap<(Option<u32>, Vec<u8>, u32), usize> = HashMap::new();
    for t in &j.transactions {
        if t.commit.is_none() {
            continue;
        }
        for lb in &t.blocks {
            let Ok(data) = j.read_logged(fs, lb) else {
                continue;
            };
            if sniff(&data) != ContentHint::DirBlock {
                continue;
            }
            let db = parse_dirents(&data, bs, ft, max, 0);
            let dot = db
                .entries
                .first()
                .filter(|e| e.name == b"." && e.offset == 0)
                .map(|e| e.inode);
            let w = block_writer(
                fs,
                tl,
                owners,
                lb.fs_block,
                &data,
                dot,
                tl.order(t.sequence),
            );
            let (owner, dot_owner) = (w.parent, w.dot);
            let mut entries: Vec<(u32, Vec<u8>, u8, u32)> = db
                .entries
                .iter()
                .filter(|e| !e.is_dot())
                .map(|e| (e.inode, e.name.clone(), e.file_type, e.offset))
                .collect();
            entries.extend(
                slack_entries(&data, bs, ft, max)
                    .into_iter()
                    .filter(|e| e.0 != 0),
            );
            for (ino, name, ftype, off) in entries {
                if let Some(p) = owner {
                    if is_live(fs, &mut live_cache, p, &name, ino) {
                        continue;
                    }
                }
                let key = (owner, name.clone(), ino);
                let dn = DeletedName {
                    parent: owner,
                    name,
                    inode: ino,
                    file_type: ftype,
                    source: NameSource::Journal,
                    block: lb.fs_block,
                    offset: off,
                    journal_seq: Some(t.sequence),
                    dot_owner,
                    block_gen: w.generation,
                    gen_unmatched: w.unmatched,
                };
                match seen.get(&key) {
                    Some(&i) => rec.names[i] = dn, // newer copy
                    None => {
                        seen.insert(key, rec.names.len());
                        rec.stats.names_journal += 1;
                        rec.names.push(dn);
                    }
                }
            }
        }
    }
}

/// Directory entry chains in unallocated blocks. A block that starts with
/// `.` and `..` names its directory and parent; other blocks are accepted
/// when a deleted directory's rebuilt map owns them, or when they end in a
/// valid metadata_csum tail.
pub fn freed_dir_blocks(
    fs: &Filesystem,
    alloc: &AllocCache,
    tl: &Timeline,
    owners: &DirBlockOwners,
    rec: &mut Recovery,
) {
    let bs = fs.block_size();
    let groups: Vec<u64> = (0..fs.groups.len() as u64).collect();
    let found: Vec<(Vec<DeletedName>, u64, bool)> = groups
        .par_iter()
        .map(|&g| {
            let mut out = Vec::new();
            // One group's bitmap at a time (all of them at once were 32 MB
            // on a 1 TiB volume).
            let Some(bm) = &alloc.group_blocks(g) else {
                return (out, 0, false);
            };
            // BLOCK_UNINIT: no block of this group was ever allocated since
            // mkfs (the kernel clears the flag on first allocation and never
            // sets it again), so no directory block can have been freed
            // here. Skipping these groups keeps a mostly empty terabyte
            // volume from costing a terabyte of reads.
            if bm.uninit {
                return (out, 0, true);
            }
            let first = fs.group_first_block(g);
            let mut scanned = 0u64;
            let mut chunk = vec![0u8; (FREE_CHUNK_BLOCKS * bs) as usize];
            let mut i = 0u64;
            while i < bm.len {
                // Next run of free blocks, read in large sequential chunks
                // (one syscall per chunk, not one per block).
                if bm.get(i) {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j < bm.len && j - i < FREE_CHUNK_BLOCKS && !bm.get(j) {
                    j += 1;
                }
                let start = first + i;
                let count = (j - i).min(fs.sb.blocks_count.saturating_sub(start));
                i = j;
                if count == 0 {
                    break;
                }
                // A hole of a sparse image reads as zeros: no entry there.
                if count >= HOLE_CHECK_BLOCKS && fs.is_hole(start * bs, count * bs) {
                    scanned += count;
                    continue;
                }
                let buf = &mut chunk[..(count * bs) as usize];
                let whole = fs.read_blocks_into(start, buf).is_ok();
                for k in 0..count {
                    let blk = start + k;
                    scanned += 1;
                    let b = &mut buf[(k * bs) as usize..((k + 1) * bs) as usize];
                    // A chunk that failed (truncated image): per block.
                    if !whole && fs.read_blocks_into(blk, b).is_err() {
                        continue;
                    }
                    freed_dir_block(fs, tl, b, blk, owners, &mut out);
                }
            }
            (out, scanned, false)
        })
        .collect();
    let mut seen: HashSet<(Option<u32>, Vec<u8>, u32)> = rec
        .names
        .iter()
        .map(|n| (n.parent, n.name.clone(), n.inode))
        .collect();
    for (names, scanned, skipped) in found {
        rec.stats.freed_blocks_scanned += scanned;
        rec.stats.uninit_groups_skipped += u64::from(skipped);
        for n in names {
            if !n.name.is_empty() {
                rec.stats.names_freed_dir_blocks += 1;
            }
            if seen.insert((n.parent, n.name.clone(), n.inode)) {
                rec.names.push(n);
            }
        }
    }
}

/// Free blocks read per request while looking for freed directory blocks.
const FREE_CHUNK_BLOCKS: u64 = 256;
/// Free runs at least this long first ask whether they lie in a hole of a
/// sparse image (one lseek); holes count as scanned, as zeros would.
const HOLE_CHECK_BLOCKS: u64 = 16;

/// Names in one unallocated block `buf` (block `blk`), if it is a
/// directory block that can be tied to a directory.
fn freed_dir_block(
    fs: &Filesystem,
    tl: &Timeline,
    buf: &[u8],
    blk: u64,
    owners: &DirBlockOwners,
    out: &mut Vec<DeletedName>,
) {
    let (bs, ft, max) = (fs.block_size(), filetype(fs), fs.sb.inodes_count);
    // Cheap pre-check on the first record before parsing.
    let head = &buf[..12];
    let r0 = rec_len_from_disk(le16(head, 4), bs) as usize;
    let i0 = le32(head, 0);
    if r0 < 12
        || r0 % 4 != 0
        || r0 as u64 > bs
        || i0 > max
        || (i0 == 0 && r0 as u64 != bs && r0 != 12)
    {
        return;
    }
    if sniff(buf) != ContentHint::DirBlock {
        return;
    }
    let db = parse_dirents(buf, bs, ft, max, 0);
    if db.error.is_some() {
        return;
    }
    let has_dot = db
        .entries
        .first()
        .is_some_and(|e| e.name == b"." && e.offset == 0);
    let dot = db.entries.first().filter(|_| has_dot).map(|e| e.inode);
    let tail = db.last_record == Some(buf.len() - 12) && u8_at(buf, buf.len() - 5) == 0xDE;
    let w = block_writer(fs, tl, owners, blk, buf, dot, None);
    let owner = w.parent;
    if owner.is_none() && !tail {
        return;
    }
    let (block_gen, gen_unmatched) = (w.generation, w.unmatched);
    for e in db.entries.iter().filter(|e| !e.is_dot()) {
        out.push(DeletedName {
            parent: owner,
            name: e.name.clone(),
            inode: e.inode,
            file_type: e.file_type,
            source: NameSource::FreedDirBlock,
            block: blk,
            offset: e.offset,
            journal_seq: None,
            dot_owner: has_dot,
            block_gen,
            gen_unmatched,
        });
    }
    if has_dot {
        // `..` tells the parent of the block's own directory.
        if let (Some(dot), Some(dotdot)) = (
            db.entries.first(),
            db.entries.get(1).filter(|e| e.name == b".."),
        ) {
            out.push(DeletedName {
                parent: Some(dotdot.inode),
                name: Vec::new(), // name unknown: links child to parent only
                inode: dot.inode,
                file_type: 2,
                source: NameSource::FreedDirBlock,
                block: blk,
                offset: 12,
                journal_seq: None,
                dot_owner: true,
                block_gen,
                gen_unmatched,
            });
        }
    }
}

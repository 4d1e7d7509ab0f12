//! The filesystem through time: every incarnation of an inode number that
//! the journal or the inode table shows, and which one was alive when a
//! directory block was written.
//!
//! The facts this rests on (docs/design.md, "Incarnations"):
//! - a journal transaction logs whole inode-table blocks, so a copy at
//!   transaction T holds the state of every inode of that block as T
//!   committed it;
//! - every change to an inode is journaled, so between two copies of its
//!   table block the inode is as the earlier copy shows, provided the
//!   journal still holds every transaction in between;
//! - an inode number is reused with a new `i_generation` and a new
//!   `i_crtime`: the pair names one incarnation, and incarnations of one
//!   number follow each other in time, never overlapping;
//! - a deleted inode keeps its generation and crtime, and gets `i_dtime`.

use super::{AllocCache, HistoricInode};
use crate::ext4::inode::FileType;
use crate::ext4::journal::{BlockRole, Journal};
use crate::ext4::{Filesystem, Inode};
use crate::util::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// One incarnation's identity: generation and creation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IncKey {
    pub generation: u32,
    pub crtime: Option<Timestamp>,
}

impl IncKey {
    pub fn of(i: &Inode) -> IncKey {
        IncKey {
            generation: i.generation,
            crtime: i.crtime,
        }
    }
}

/// Where an incarnation's deletion time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeathSource {
    /// `i_dtime` of the deleted inode record in the inode table.
    Inode,
    /// `i_dtime` of a journal copy taken after the deletion.
    JournalInode,
    /// The commit time of the transaction whose copy first shows the
    /// inode unlinked (`links_count` 0).
    JournalCommit,
    /// Not known exactly: before the creation of the next incarnation of
    /// the same inode number (an upper bound).
    BeforeReuse,
}

/// What is known of an incarnation now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Now {
    /// The inode table holds it, allocated and linked: the file exists.
    Live,
    /// The inode table holds it as a deleted record.
    DeletedRecord,
    /// Only the journal knows it: the record was reused or cleared since.
    Gone,
}

/// How the incarnation alive at some time was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proof {
    /// The live tree now.
    Live,
    /// A journal copy of the inode (or a checksum that names the
    /// generation) from the same transaction or a run of transactions
    /// with no gap since.
    Copy,
    /// Creation time before the moment, and seen alive after it.
    Birth,
    /// The only known incarnation whose life overlaps the directory's.
    Overlap,
}

impl Proof {
    /// The weaker of two links of a chain.
    pub fn weakest(self, other: Proof) -> Proof {
        self.max(other)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Live => "live",
            Proof::Copy => "journal-copy",
            Proof::Birth => "creation-time",
            Proof::Overlap => "lifetime-overlap",
        }
    }
}

/// One incarnation of an inode number.
#[derive(Clone, Debug)]
pub struct Incarnation {
    pub ino: u32,
    pub key: IncKey,
    pub mode: u16,
    /// Journal order (index into the committed transactions) of the first
    /// copy that shows it, and of the last that shows it linked.
    pub first: Option<u32>,
    pub last_alive: Option<u32>,
    /// First copy that shows it unlinked.
    pub end: Option<u32>,
    pub death: Option<(Timestamp, DeathSource)>,
    pub now: Now,
    /// The last journal copy that shows it linked (size, block map), with
    /// its transaction sequence; kept only for incarnations not live now.
    pub copy: Option<Box<HistoricInode>>,
    /// The next incarnation of the same number (index).
    pub next: Option<u32>,
}

impl Incarnation {
    /// A new incarnation first seen at journal order `first` (`None`: in
    /// the inode table only); nothing else known yet.
    fn new(ino: u32, key: IncKey, mode: u16, first: Option<u32>) -> Incarnation {
        Incarnation {
            ino,
            key,
            mode,
            first,
            last_alive: None,
            end: None,
            death: None,
            now: Now::Gone,
            copy: None,
            next: None,
        }
    }
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode)
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Dir
    }
}

/// A state change seen in the journal: (inode, transaction order, state).
/// `state` is the incarnation index times two plus one when unlinked, or
/// [`FREE`].
type Seen = (u32, u32, u32);
const FREE: u32 = u32::MAX;
/// The state "linked, as the incarnation that lives now": no incarnation
/// object is made for the journal's copies of live files (they were most
/// of the timeline's memory on busy journals); the live one is interned
/// when a name needs it.
const LIVE_NOW: u32 = u32::MAX - 1;

/// Every incarnation the journal and inode table show, and when each was
/// alive.
#[derive(Default)]
pub struct Timeline {
    pub incs: Vec<Incarnation>,
    /// inode → its first incarnation; later ones follow `next`.
    head: HashMap<u32, u32>,
    /// Inodes whose current record has been merged in, one bit each (a
    /// map was 16 bytes an inode at 400k deleted inodes).
    interned: Vec<u64>,
    /// Past the bitset's bound (a hostile inode count): a set.
    interned_far: std::collections::HashSet<u32>,
    /// State changes sorted by (inode, order).
    seen: Vec<Seen>,
    /// Committed transactions in journal order: (sequence, commit time).
    txs: Vec<(u32, Timestamp)>,
    /// sequence → journal order.
    order: HashMap<u32, u32>,
    pub warnings: Vec<String>,
}

/// Journal copies of one inode record: is it linked, and who is it.
fn copy_state(r: &[u8], ino: u32, fs: &Filesystem) -> Option<(Inode, bool)> {
    if r.len() < 2 || (r[0] == 0 && r[1] == 0) {
        return None;
    }
    let i = Inode::parse(r, ino, &fs.sb);
    if i.mode == 0 {
        return None;
    }
    let alive = i.links_count > 0 && i.dtime == 0;
    Some((i, alive))
}

impl Timeline {
    /// Read every committed transaction's inode-table copies. `inline_dir`
    /// is shown each linked copy of an inline-data directory with its
    /// transaction and table block (its entries are names of that time).
    pub fn build(
        fs: &Filesystem,
        j: Option<&Journal>,
        alloc: &AllocCache,
        inline_dir: &mut dyn FnMut(&Inode, u32, u64),
    ) -> Timeline {
        let mut tl = Timeline::default();
        let Some(j) = j else { return tl };
        let cls = j.classifier(fs);
        let isz = fs.sb.inode_size() as usize;
        let first_ino = fs.sb.first_ino.max(11);
        let mut index: HashMap<(u32, IncKey), u32> = HashMap::new();
        let mut last: HashMap<u32, u32> = HashMap::new();
        // The incarnation each inode has now, when it lives: its copies
        // are not kept (a copy is ~300 bytes, and a busy journal logs the
        // tables of hundreds of thousands of live files).
        let mut live_now: HashMap<u32, Option<IncKey>> = HashMap::new();
        for t in j.transactions.iter().filter(|t| t.commit.is_some()) {
            let ord = tl.txs.len() as u32;
            let when = t.commit.as_ref().map(|c| c.time).unwrap_or_default();
            tl.txs.push((t.sequence, when));
            tl.order.insert(t.sequence, ord);
            for lb in &t.blocks {
                let BlockRole::InodeTable { first_inode, .. } = cls.classify(lb.fs_block) else {
                    continue;
                };
                let Ok(data) = j.read_logged(fs, lb) else {
                    continue;
                };
                for (k, r) in data.chunks_exact(isz.max(128)).enumerate() {
                    let ino = first_inode.saturating_add(k as u32);
                    if ino < first_ino || ino > fs.sb.inodes_count {
                        continue;
                    }
                    let state = match copy_state(r, ino, fs) {
                        None => FREE,
                        Some((copy, alive)) => {
                            if alive
                                && copy.is_dir()
                                && copy.has_flag(crate::ext4::inode::flags::INLINE_DATA)
                            {
                                inline_dir(&copy, t.sequence, lb.fs_block);
                            }
                            let now = *live_now.entry(ino).or_insert_with(|| {
                                fs.inode(ino)
                                    .ok()
                                    .filter(|n| {
                                        alloc.inode(ino) == Some(true)
                                            && n.links_count > 0
                                            && n.dtime == 0
                                    })
                                    .map(|n| IncKey::of(&n))
                            });
                            if alive && now == Some(IncKey::of(&copy)) {
                                LIVE_NOW
                            } else {
                                let i =
                                    tl.note_copy(&mut index, copy, alive, ord, when, t.sequence);
                                i * 2 + u32::from(!alive)
                            }
                        }
                    };
                    if last.get(&ino) != Some(&state) {
                        if state == FREE && !last.contains_key(&ino) {
                            continue; // never used while the journal looked
                        }
                        last.insert(ino, state);
                        tl.seen.push((ino, ord, state));
                    }
                }
            }
        }
        drop(index);
        tl.seen.sort_by_key(|s| (s.0, s.1));
        let inos: Vec<u32> = tl.head.keys().copied().collect();
        for ino in inos {
            tl.intern(fs, alloc, ino);
        }
        tl
    }

    /// Record one journal copy; returns its incarnation index.
    fn note_copy(
        &mut self,
        index: &mut HashMap<(u32, IncKey), u32>,
        copy: Inode,
        alive: bool,
        ord: u32,
        when: Timestamp,
        seq: u32,
    ) -> u32 {
        let key = IncKey::of(&copy);
        let ino = copy.ino;
        let i = match index.get(&(ino, key)) {
            Some(&i) => i,
            None => {
                let i = self.push(Incarnation::new(ino, key, copy.mode, Some(ord)));
                index.insert((ino, key), i);
                i
            }
        };
        let inc = &mut self.incs[i as usize];
        if alive {
            inc.last_alive = Some(ord);
            inc.mode = copy.mode;
            let mut c = copy;
            c.drop_raw_unless_needed();
            inc.copy = Some(Box::new(HistoricInode {
                inode: c,
                sequence: seq,
            }));
        } else if inc.death.is_none() {
            inc.end = Some(ord);
            inc.death = Some(if copy.dtime != 0 {
                (
                    Timestamp::new(copy.dtime as i64, 0),
                    DeathSource::JournalInode,
                )
            } else {
                (when, DeathSource::JournalCommit)
            });
        }
        i
    }

    fn push(&mut self, inc: Incarnation) -> u32 {
        let i = self.incs.len() as u32;
        let ino = inc.ino;
        let last = self.indexes(ino).last();
        self.incs.push(inc);
        match last {
            Some(prev) => self.incs[prev as usize].next = Some(i),
            None => {
                self.head.insert(ino, i);
            }
        }
        i
    }

    /// Merge the inode table's current record of `ino` into its
    /// incarnations (once per inode).
    pub fn intern(&mut self, fs: &Filesystem, alloc: &AllocCache, ino: u32) {
        if !self.mark_interned(ino) {
            return;
        }
        let Ok(rec) = fs.inode(ino) else { return };
        if rec.mode == 0 {
            self.finish_deaths(ino);
            return;
        }
        let live = alloc.inode(ino) == Some(true) && rec.links_count > 0 && rec.dtime == 0;
        let key = IncKey::of(&rec);
        let found = self
            .indexes(ino)
            .find(|&i| self.incs[i as usize].key == key);
        let i = match found {
            Some(i) => i,
            None => self.push(Incarnation::new(ino, key, rec.mode, None)),
        };
        let inc = &mut self.incs[i as usize];
        inc.mode = rec.mode;
        if live {
            inc.now = Now::Live;
            inc.copy = None;
            inc.death = None;
        } else {
            inc.now = Now::DeletedRecord;
            if rec.dtime != 0 {
                inc.death = Some((Timestamp::new(rec.dtime as i64, 0), DeathSource::Inode));
            }
        }
        self.finish_deaths(ino);
    }

    /// Mark `ino` merged; false when it already was. The bitset stops at
    /// 2^27 inodes (16 MiB); a larger (hostile) number goes to a set.
    fn mark_interned(&mut self, ino: u32) -> bool {
        const BITSET_INODES: u32 = 1 << 27;
        if ino >= BITSET_INODES {
            return self.interned_far.insert(ino);
        }
        let (w, b) = ((ino / 64) as usize, ino % 64);
        if self.interned.len() <= w {
            self.interned.resize(w + 1, 0);
        }
        let fresh = self.interned[w] & (1 << b) == 0;
        self.interned[w] |= 1 << b;
        fresh
    }

    /// Incarnations replaced without a copy of their unlinking get the
    /// next one's creation as an upper bound.
    fn finish_deaths(&mut self, ino: u32) {
        let idx: Vec<u32> = self.indexes(ino).collect();
        for w in idx.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            if self.incs[a].death.is_none() {
                let bound = self.incs[b].key.crtime.or_else(|| {
                    self.incs[b]
                        .first
                        .and_then(|o| self.txs.get(o as usize))
                        .map(|t| t.1)
                });
                if let Some(t) = bound {
                    self.incs[a].death = Some((t, DeathSource::BeforeReuse));
                }
            }
        }
    }

    /// The incarnation indexes of `ino`, oldest first.
    pub fn indexes(&self, ino: u32) -> impl Iterator<Item = u32> + '_ {
        let mut cur = self.head.get(&ino).copied();
        let mut guard = self.incs.len() + 1;
        std::iter::from_fn(move || {
            let i = cur?;
            guard = guard.checked_sub(1)?;
            cur = self.incs.get(i as usize)?.next;
            Some(i)
        })
    }

    pub fn get(&self, i: u32) -> Option<&Incarnation> {
        self.incs.get(i as usize)
    }

    /// The incarnation of `ino` that is live now.
    pub fn live(&self, ino: u32) -> Option<u32> {
        self.indexes(ino)
            .find(|&i| self.incs[i as usize].now == Now::Live)
    }

    /// The incarnation of `ino` whose record is in the table (live or
    /// deleted).
    pub fn current(&self, ino: u32) -> Option<u32> {
        self.indexes(ino)
            .find(|&i| self.incs[i as usize].now != Now::Gone)
    }

    /// Journal order of a transaction sequence.
    pub fn order(&self, seq: u32) -> Option<u32> {
        self.order.get(&seq).copied()
    }

    pub fn sequence(&self, ord: u32) -> Option<u32> {
        self.txs.get(ord as usize).map(|t| t.0)
    }

    /// Commit time of the transaction at journal order `ord`.
    pub fn commit_time(&self, ord: u32) -> Option<Timestamp> {
        self.txs
            .get(ord as usize)
            .map(|t| t.1)
            .filter(|t| !t.is_zero())
    }

    /// Every transaction from `a` to `b` (journal order) is in the journal:
    /// no sequence number is missing between them.
    fn contiguous(&self, a: u32, b: u32) -> bool {
        let (Some(sa), Some(sb)) = (self.txs.get(a as usize), self.txs.get(b as usize)) else {
            return false;
        };
        sb.0.wrapping_sub(sa.0) == b.wrapping_sub(a)
    }

    /// The incarnation of `ino` alive when the transaction at journal
    /// order `ord` committed, with how that is known; `None` when no
    /// known incarnation can be shown alive then.
    pub fn alive_at(&self, ino: u32, ord: u32) -> Option<(u32, Proof)> {
        let lo = self.seen.partition_point(|s| s.0 < ino);
        let runs = &self.seen[lo..];
        let n = runs.iter().take_while(|s| s.0 == ino).count();
        let runs = &runs[..n];
        let k = runs.partition_point(|s| s.1 <= ord);
        let before = k.checked_sub(1).and_then(|b| runs.get(b));
        if let Some(&(_, o, st)) = before {
            if self.contiguous(o, ord) {
                return self.linked(ino, st).map(|i| (i, Proof::Copy));
            }
        }
        // Seen alive before the moment (across a gap in the journal) and
        // still alive after it: alive then.
        if let Some((st, a)) = before.and_then(|b| Some((b.2, self.linked(ino, b.2)?))) {
            let t = self.commit_time(ord);
            let still = self.get(a).is_some_and(|inc| {
                inc.now == Now::Live
                    || runs.get(k).is_some_and(|r| r.2 == st)
                    || inc
                        .death
                        .zip(t)
                        .is_some_and(|(d, t)| d.1 != DeathSource::BeforeReuse && not_before(&d, t))
            });
            if still {
                return Some((a, Proof::Birth));
            }
        }
        // Seen alive after the moment, and created before it: alive then.
        let after: Option<u32> = match runs.get(k) {
            // First seen unlinked after the moment, with no transaction
            // missing in between: the unlinking is that transaction, so
            // the incarnation was still linked at the moment.
            Some(&(_, o, st)) if st != FREE && st != LIVE_NOW && st % 2 == 1 => {
                self.contiguous(ord, o).then_some(st / 2)
            }
            Some(&(_, _, st)) => self.linked(ino, st),
            None if before.is_none() => self.current(ino),
            None => None,
        };
        let a = after?;
        let inc = self.get(a)?;
        let t = self.commit_time(ord)?;
        let born = inc.key.crtime?;
        if born > t {
            return None;
        }
        match inc.now {
            Now::Live => Some((a, Proof::Birth)),
            _ if runs.get(k).is_some() => Some((a, Proof::Birth)),
            _ => inc
                .death
                .filter(|d| d.1 != DeathSource::BeforeReuse && not_before(d, t))
                .map(|_| (a, Proof::Birth)),
        }
    }

    /// The incarnation a recorded state shows linked, if any (unlinked
    /// states show none).
    fn linked(&self, ino: u32, st: u32) -> Option<u32> {
        match st {
            FREE => None,
            LIVE_NOW => self.live(ino),
            s if s % 2 == 0 => Some(s / 2),
            _ => None,
        }
    }

    /// The life of an incarnation as (created, deleted); `None` for an
    /// unknown bound (alive now: no end).
    pub fn life(&self, i: u32) -> (Option<Timestamp>, Option<Timestamp>) {
        let Some(inc) = self.get(i) else {
            return (None, None);
        };
        // Without crtime the first copy bounds creation only from above:
        // no lower bound is known.
        let born = inc.key.crtime;
        let died = match inc.now {
            Now::Live => None,
            _ => inc.death.map(|d| d.0),
        };
        (born, died)
    }

    /// The incarnations of `ino` whose life overlaps `window` (unknown
    /// bounds overlap everything).
    pub fn overlapping(
        &self,
        ino: u32,
        window: (Option<Timestamp>, Option<Timestamp>),
    ) -> Vec<u32> {
        self.indexes(ino)
            .filter(|&i| {
                let (b, d) = self.life(i);
                let starts_before_end = match (b, window.1) {
                    (Some(b), Some(e)) => b <= e,
                    _ => true,
                };
                let ends_after_start = match (d, window.0) {
                    (Some(d), Some(s)) => d >= s,
                    _ => true,
                };
                starts_before_end && ends_after_start
            })
            .collect()
    }

    /// The generations of every known incarnation of `ino`.
    pub fn generations(&self, ino: u32) -> Vec<u32> {
        let mut g: Vec<u32> = self
            .indexes(ino)
            .map(|i| self.incs[i as usize].key.generation)
            .collect();
        g.sort_unstable();
        g.dedup();
        g
    }

    /// The inodes with any incarnation known.
    pub fn inodes(&self) -> impl Iterator<Item = u32> + '_ {
        self.head.keys().copied()
    }
}

/// Did a death happen at or after `t`? `i_dtime` holds whole seconds, so
/// a death from an inode record is compared by the second.
fn not_before(d: &(Timestamp, DeathSource), t: Timestamp) -> bool {
    match d.1 {
        DeathSource::Inode | DeathSource::JournalInode => d.0.secs >= t.secs,
        _ => d.0 >= t,
    }
}

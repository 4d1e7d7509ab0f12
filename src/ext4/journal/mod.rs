//! The jbd2 journal of an internal (inode) journal, read as evidence.
//!
//! All jbd2 fields are big-endian. The whole ring (`s_first..s_maxlen`) is
//! scanned, not only the live log from `s_start`: a cleanly unmounted
//! journal has `s_start == 0` but still holds old transactions, and those
//! hold pre-deletion copies of inode-table and directory blocks (see
//! docs/design.md).
//!
//! How the scan works, and why it is bounded:
//! 1. Every ring block's 12-byte header is read once; blocks with the jbd2
//!    magic and a descriptor/commit/revoke type are parsed and their own
//!    checksum (csum v2/v3) is verified.
//! 2. The write head is placed after the newest transaction (largest
//!    sequence relative to `s_sequence`, checksum-valid headers preferred).
//!    Walking the ring once from the head visits blocks in the order they
//!    were written, so a descriptor's data blocks are the ones that follow
//!    it, and a later transaction that overwrote an older one is seen after
//!    it. Data blocks are skipped (never taken for headers); a data run ends
//!    early only where a header that proves itself (valid checksum, or a
//!    same-or-newer sequence without checksums) sits, and the remaining tags
//!    are marked `missing`.
//! 3. The live log (what the kernel would replay) is followed separately
//!    from `s_start` with `s_sequence`, as jbd2's PASS_SCAN does.
//!
//! Each ring block is visited at most twice (header pass and walk), each
//! descriptor yields at most `(block size - 12) / tag size` tags, and the
//! ring is capped at [`MAX_RING_BLOCKS`].

mod records;
mod superblock;

pub use super::blockrole::{classify_fs_block, sniff, BlockClassifier, BlockRole, ContentHint};
pub use records::{JournalCommit, JournalTransaction, LoggedBlock};
pub use superblock::*;

use crate::ext4::blockmap::BlockMap;
use crate::ext4::fs::Filesystem;
use crate::ext4::superblock::{compat, incompat as fs_incompat};
use crate::util::bytes::{be32, be64, u8_at, uuid};
use crate::util::crc::crc32c_update;
use crate::util::time::Timestamp;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A parsed descriptor tag.
#[derive(Clone, Copy, Debug)]
struct Tag {
    blocknr: u64,
    flags: u32,
    checksum: u32,
}

/// What the header pass found at a journal block.
#[derive(Clone, Copy, Debug)]
struct Meta {
    blocktype: u32,
    seq: u32,
    /// The block's own checksum (descriptor/revoke tail, commit), v2/v3.
    checksum_ok: Option<bool>,
    /// Descriptor tag count.
    ntags: u32,
}

/// Position of the ring walk: the next block and how many were visited.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    pos: u64,
    steps: u64,
}

/// Counts from the scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanStats {
    pub blocks_scanned: u64,
    pub descriptor_blocks: u64,
    pub commit_blocks: u64,
    pub revoke_blocks: u64,
    pub unreadable_blocks: u64,
    pub logged_blocks: u64,
}

/// The journal of a filesystem: superblock, every transaction found in
/// the ring (ordered by sequence, oldest first) and what was skipped.
#[derive(Clone, Debug)]
pub struct Journal {
    /// Journal inode number.
    pub inode: u32,
    pub sb: JournalSuperblock,
    /// Filesystem block size (journal blocks are filesystem blocks).
    pub block_size: u64,
    /// The ring scanned: journal blocks `ring_first..ring_end`.
    pub ring_first: u64,
    pub ring_end: u64,
    /// Where the scan placed the write head (after the newest transaction).
    pub head: Option<u64>,
    /// Where the live log ends (the first block the kernel would not replay),
    /// when the log is not empty.
    pub live_end: Option<u64>,
    /// The filesystem superblock's needs_recovery flag.
    pub fs_needs_recovery: bool,
    pub transactions: Vec<JournalTransaction>,
    pub warnings: Vec<String>,
    pub stats: ScanStats,
    map: BlockMap,
    /// (fs block, transaction index, block index) of every logged copy,
    /// sorted, so oldest first per block: one flat array (a map of
    /// vectors was a heap block per logged block).
    index: Vec<(u64, u32, u32)>,
    /// fs block -> order key of the newest transaction revoking it.
    revokes: HashMap<u64, i64>,
    suppressed_warnings: usize,
}

impl Journal {
    /// Open and scan the journal of `fs`. Errors only when there is no
    /// internal journal to read (none, external device, unreadable or
    /// invalid journal superblock); damage past that yields partial results
    /// and warnings.
    pub fn open(fs: &Filesystem) -> Result<Journal> {
        let sb = &fs.sb;
        if !sb.has_compat(compat::HAS_JOURNAL) {
            return Err(Error::NotFound("the filesystem has no journal".into()));
        }
        if sb.journal_inum == 0 {
            return Err(Error::Unsupported(format!(
                "the journal is on an external device (device 0x{:x}, journal UUID {}); external journals are not read",
                sb.journal_dev,
                uuid(&sb.journal_uuid)
            )));
        }
        let inum = sb.journal_inum;
        let ino = fs.inode(inum)?;
        let map = fs.block_map(&ino);
        let bs = fs.block_size();
        let mut j = Journal {
            inode: inum,
            sb: JournalSuperblock::parse(&[]),
            block_size: bs,
            ring_first: 0,
            ring_end: 0,
            head: None,
            live_end: None,
            fs_needs_recovery: sb.has_incompat(fs_incompat::RECOVER),
            transactions: Vec::new(),
            warnings: Vec::new(),
            stats: ScanStats::default(),
            map,
            index: Vec::new(),
            revokes: HashMap::new(),
            suppressed_warnings: 0,
        };
        for w in j.map.warnings.clone() {
            j.warn(format!("journal inode {inum}: {w}"));
        }
        if j.map.runs.is_empty() {
            return Err(Error::corrupt(format!(
                "journal inode {inum} maps no blocks inside the filesystem"
            )));
        }
        let b0 = j.read_jblock(fs, 0).map_err(|e| {
            Error::corrupt(format!(
                "journal superblock (journal block 0) unreadable: {e}"
            ))
        })?;
        j.sb = JournalSuperblock::parse(&b0);
        if !j.sb.valid_magic() {
            return Err(Error::corrupt(format!(
                "journal superblock has magic 0x{:08x} type {} (want 0x{JBD2_MAGIC:08x} type 3 or 4)",
                j.sb.magic, j.sb.blocktype
            )));
        }
        if j.sb.checksum_ok == Some(false) {
            j.warn("journal superblock checksum mismatch".to_string());
        }
        if j.sb.block_size as u64 != bs {
            j.warn(format!(
                "journal block size {} differs from the filesystem block size {bs}; using {bs}",
                j.sb.block_size
            ));
        }
        if j.sb.feature_ro_compat != 0 {
            j.warn(format!(
                "unknown journal ro_compat features 0x{:x}",
                j.sb.feature_ro_compat
            ));
        }
        let known = 0x3F;
        if j.sb.feature_incompat & !known != 0 {
            j.warn(format!(
                "unknown journal incompat features 0x{:x}; parsing may be wrong",
                j.sb.feature_incompat & !known
            ));
        }
        if j.sb.compat_checksum() && !j.sb.csum_v2or3() {
            j.warn("journal_checksum (v1) commit checksums are not verified".to_string());
        }
        j.set_ring();
        j.scan(fs);
        j.build_index();
        if j.suppressed_warnings > 0 {
            let n = j.suppressed_warnings;
            j.warnings
                .push(format!("… and {n} more journal warnings not kept"));
        }
        Ok(j)
    }

    fn warn(&mut self, msg: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(msg);
        } else {
            self.suppressed_warnings += 1;
        }
    }

    /// Whether a non-empty log awaits replay (`s_start != 0`).
    pub fn needs_recovery(&self) -> bool {
        self.sb.start != 0
    }

    /// Physical filesystem block of journal block `jblock`.
    pub fn physical(&self, jblock: u64) -> Option<u64> {
        self.map.lookup(jblock).map(|(p, _)| p)
    }

    /// Physical (start, len) runs of the journal inode.
    pub fn runs(&self) -> Vec<(u64, u64)> {
        self.map.runs.iter().map(|r| (r.physical, r.len)).collect()
    }

    /// A classifier that also knows this journal's area.
    pub fn classifier(&self, fs: &Filesystem) -> BlockClassifier {
        BlockClassifier::new(fs, self.runs())
    }

    /// Read journal block `jblock` raw (as stored in the journal).
    pub fn read_jblock(&self, fs: &Filesystem, jblock: u64) -> Result<Vec<u8>> {
        match self.map.lookup(jblock) {
            Some((_, true)) => Ok(vec![0u8; self.block_size as usize]),
            Some((p, false)) => fs.read_block(p),
            None => Err(Error::corrupt(format!(
                "journal block {jblock} is not mapped by the journal inode"
            ))),
        }
    }

    /// Physical block, blocks left in its run, and unwritten flag.
    fn run_at(&self, jblock: u64) -> Option<(u64, u64, bool)> {
        let runs = &self.map.runs;
        let i = runs.partition_point(|r| r.logical + r.len <= jblock);
        let r = runs.get(i)?;
        if r.logical > jblock {
            return None;
        }
        let k = jblock - r.logical;
        Some((r.physical + k, r.len - k, r.unwritten))
    }

    fn read_header(&self, fs: &Filesystem, jblock: u64) -> Result<[u8; HEADER_SIZE]> {
        let mut h = [0u8; HEADER_SIZE];
        match self.map.lookup(jblock) {
            Some((_, true)) => Ok(h),
            Some((p, false)) => {
                if p >= fs.sb.blocks_count {
                    return Err(Error::corrupt(format!(
                        "journal block {jblock} maps to block {p} past the filesystem end"
                    )));
                }
                let at = p.checked_mul(self.block_size).ok_or_else(|| {
                    Error::corrupt(format!("journal block {jblock}: block {p} overflows"))
                })?;
                fs.read_bytes(at, &mut h)?;
                Ok(h)
            }
            None => Err(Error::corrupt(format!(
                "journal block {jblock} is not mapped by the journal inode"
            ))),
        }
    }

    /// The logged copy's bytes, unescaped (the jbd2 magic restored when
    /// the tag has the ESCAPE flag).
    pub fn read_logged(&self, fs: &Filesystem, lb: &LoggedBlock) -> Result<Vec<u8>> {
        if lb.missing {
            return Err(Error::NotFound(format!(
                "the copy of block {} from transaction {} is no longer in the journal (block {} was overwritten)",
                lb.fs_block, lb.sequence, lb.journal_block
            )));
        }
        let mut b = self.read_jblock(fs, lb.journal_block)?;
        if lb.escaped {
            if let Some(h) = b.get_mut(0..4) {
                h.copy_from_slice(&JBD2_MAGIC.to_be_bytes());
            }
        }
        Ok(b)
    }

    /// Order key of a sequence number: its distance from `s_sequence`
    /// (negative for history before the log start), which handles u32
    /// wrap-around.
    pub fn seq_key(&self, seq: u32) -> i64 {
        seq.wrapping_sub(self.sb.sequence) as i32 as i64
    }

    pub fn transaction(&self, seq: u32) -> Option<&JournalTransaction> {
        let k = self.seq_key(seq);
        let i = self
            .transactions
            .partition_point(|t| self.seq_key(t.sequence) < k);
        self.transactions.get(i).filter(|t| t.sequence == seq)
    }

    /// All logged copies of `fs_block` (present ones and missing ones),
    /// newest transaction first.
    pub fn copies_of(&self, fs_block: u64) -> Vec<&LoggedBlock> {
        let mut out = Vec::new();
        let lo = self.index.partition_point(|x| x.0 < fs_block);
        let hi = lo + self.index[lo..].partition_point(|x| x.0 == fs_block);
        for &(_, t, b) in self.index[lo..hi].iter().rev() {
            if let Some(lb) = self
                .transactions
                .get(t as usize)
                .and_then(|t| t.blocks.get(b as usize))
            {
                out.push(lb);
            }
        }
        out
    }

    /// Whether a transaction with sequence `>= sequence` revokes `fs_block`:
    /// jbd2 would not replay copies of the block from `sequence` (the
    /// kernel's `jbd2_journal_test_revoke`). Copies are kept as evidence.
    pub fn revoked_after(&self, fs_block: u64, sequence: u32) -> bool {
        self.revokes
            .get(&fs_block)
            .is_some_and(|&r| r >= self.seq_key(sequence))
    }

    fn set_ring(&mut self) {
        let mapped_end = self.map.runs.last().map(|r| r.logical + r.len).unwrap_or(0);
        let mut end = self.sb.max_len as u64;
        if end > mapped_end {
            self.warn(format!(
                "journal s_maxlen {end} exceeds the {mapped_end} blocks the journal inode maps; scanning {mapped_end}"
            ));
            end = mapped_end;
        }
        if end > MAX_RING_BLOCKS {
            self.warn(format!(
                "journal of {end} blocks is larger than {MAX_RING_BLOCKS}; only the first {MAX_RING_BLOCKS} are scanned"
            ));
            end = MAX_RING_BLOCKS;
        }
        let fc = self.sb.fast_commit_blocks() as u64;
        if fc > 0 {
            if fc < end {
                end -= fc;
                self.warn(format!(
                    "fast-commit area (journal blocks {end}..{}) is not parsed",
                    end + fc
                ));
            } else {
                self.warn(format!(
                    "fast-commit area of {fc} blocks is larger than the journal"
                ));
            }
        }
        let mut first = self.sb.first as u64;
        if first == 0 || first >= end {
            self.warn(format!(
                "journal s_first {first} is outside 1..{end}; using 1"
            ));
            first = 1;
        }
        self.ring_first = first;
        self.ring_end = end.max(first);
    }

    fn ring_len(&self) -> u64 {
        self.ring_end - self.ring_first
    }
    fn ring_add(&self, j: u64, n: u64) -> u64 {
        let len = self.ring_len().max(1);
        self.ring_first + (j.saturating_sub(self.ring_first) % len + n % len) % len
    }

    /// Parse a metadata block's header and verify its own checksum.
    fn parse_meta(&self, b: &[u8]) -> Option<Meta> {
        if be32(b, 0) != JBD2_MAGIC {
            return None;
        }
        let blocktype = be32(b, 4);
        let seq = be32(b, 8);
        let csum = self.sb.csum_v2or3();
        let (checksum_ok, ntags) = match blocktype {
            blocktype::DESCRIPTOR => {
                let (tags, _) = self.parse_tags(b);
                (
                    if csum { Some(self.tail_ok(b)) } else { None },
                    tags.len() as u32,
                )
            }
            blocktype::REVOKE => (if csum { Some(self.tail_ok(b)) } else { None }, 0),
            blocktype::COMMIT => (if csum { Some(self.commit_ok(b)) } else { None }, 0),
            _ => (None, 0),
        };
        Some(Meta {
            blocktype,
            seq,
            checksum_ok,
            ntags,
        })
    }

    fn tail_ok(&self, b: &[u8]) -> bool {
        let n = b.len();
        if n < HEADER_SIZE + TAIL_SIZE {
            return false;
        }
        let mut c = crc32c_update(self.sb.csum_seed(), &b[..n - TAIL_SIZE]);
        c = crc32c_update(c, &[0; 4]);
        c == be32(b, n - TAIL_SIZE)
    }

    fn commit_ok(&self, b: &[u8]) -> bool {
        if b.len() < 0x14 {
            return false;
        }
        let mut c = crc32c_update(self.sb.csum_seed(), &b[..0x10]);
        c = crc32c_update(c, &[0; 4]);
        c = crc32c_update(c, &b[0x14..]);
        c == be32(b, 0x10)
    }

    /// Tags of a descriptor block, as the kernel walks them. Returns the
    /// tags and whether a LAST_TAG flag ended the list.
    fn parse_tags(&self, b: &[u8]) -> (Vec<Tag>, bool) {
        let tag_bytes = self.sb.tag_size();
        let size = if self.sb.csum_v2or3() {
            b.len().saturating_sub(TAIL_SIZE)
        } else {
            b.len()
        };
        let v3 = self.sb.csum_v3();
        let is64 = self.sb.is_64bit();
        let mut tags = Vec::new();
        let mut off = HEADER_SIZE;
        let max_tags = size / tag_bytes.max(1);
        while off + tag_bytes <= size && tags.len() < max_tags {
            let flags = if v3 {
                be32(b, off + 4)
            } else {
                (be32(b, off + 4) & 0xFFFF) as u16 as u32
            };
            let mut blocknr = be32(b, off) as u64;
            if is64 {
                blocknr |= (be32(b, off + 8) as u64) << 32;
            }
            let checksum = if v3 {
                be32(b, off + 12)
            } else {
                (be32(b, off + 4) >> 16) & 0xFFFF
            };
            tags.push(Tag {
                blocknr,
                flags,
                checksum,
            });
            off += tag_bytes;
            if flags & tag_flag::SAME_UUID == 0 {
                off += 16;
            }
            if flags & tag_flag::LAST_TAG != 0 {
                return (tags, true);
            }
        }
        (tags, false)
    }

    fn tag_checksum_ok(&self, tag: &Tag, seq: u32, data: &[u8]) -> bool {
        let c = crc32c_update(self.sb.csum_seed(), &seq.to_be_bytes());
        let c = crc32c_update(c, data);
        if self.sb.csum_v3() {
            c == tag.checksum
        } else {
            (c & 0xFFFF) == (tag.checksum & 0xFFFF)
        }
    }

    fn scan(&mut self, fs: &Filesystem) {
        if self.ring_end <= self.ring_first {
            self.warn("the journal ring is empty; nothing scanned".to_string());
            return;
        }
        let metas = self.header_pass(fs);
        let head = self.find_head(&metas);
        self.head = Some(head);
        let mut txs = self.walk(fs, &metas, head);
        for t in &mut txs {
            t.complete = t.commit.is_some()
                && !(t.descriptor_blocks.is_empty() && t.revoke_blocks.is_empty())
                && !t.blocks.iter().any(|b| b.missing);
        }
        let s0 = self.sb.sequence;
        txs.sort_by_key(|t| t.sequence.wrapping_sub(s0) as i32);
        for t in &txs {
            if t.commit.is_some() && t.descriptor_blocks.is_empty() && t.revoke_blocks.is_empty() {
                self.warn(format!(
                    "transaction {}: only its commit block survives (empty, or its start was overwritten)",
                    t.sequence
                ));
            }
        }
        self.transactions = txs;
        self.follow_live_log(&metas);
    }

    /// Pass 1: every ring block's header, read in chunks of physically
    /// contiguous blocks (one block at a time where a chunk fails).
    fn header_pass(&mut self, fs: &Filesystem) -> HashMap<u64, Meta> {
        let (first, end) = (self.ring_first, self.ring_end);
        let mut metas: HashMap<u64, Meta> = HashMap::new();
        let mut unreadable: Vec<u64> = Vec::new();
        let bs = self.block_size as usize;
        let mut buf: Vec<u8> = Vec::new();
        let mut j = first;
        while j < end {
            let Some((phys, run_left, unwritten)) = self.run_at(j) else {
                unreadable.push(j);
                self.stats.blocks_scanned += 1;
                j += 1;
                continue;
            };
            let n = run_left.min(end - j).clamp(1, SCAN_CHUNK_BLOCKS);
            self.stats.blocks_scanned += n;
            if unwritten {
                j += n; // reads as zeros: no headers
                continue;
            }
            buf.resize(n as usize * bs, 0);
            if fs.read_blocks_into(phys, &mut buf).is_ok() {
                for (i, b) in buf.chunks_exact(bs).enumerate() {
                    if let Some(m) = self.parse_meta(b) {
                        metas.insert(j + i as u64, m);
                    }
                }
            } else {
                for k in j..j + n {
                    match self.read_header(fs, k) {
                        Ok(h) if be32(&h, 0) != JBD2_MAGIC => {}
                        Ok(_) => match self.read_jblock(fs, k) {
                            Ok(b) => {
                                if let Some(m) = self.parse_meta(&b) {
                                    metas.insert(k, m);
                                }
                            }
                            Err(_) => unreadable.push(k),
                        },
                        Err(_) => unreadable.push(k),
                    }
                }
            }
            j += n;
        }
        self.stats.unreadable_blocks = unreadable.len() as u64;
        if let Some(&u) = unreadable.first() {
            self.warn(format!(
                "{} journal blocks unreadable or unmapped (first: journal block {u}); skipped",
                unreadable.len()
            ));
        }
        metas
    }

    /// Pass 2: walk the ring once from the head, oldest writes first,
    /// grouping metadata blocks into transactions by sequence and skipping
    /// the data blocks each descriptor announces.
    fn walk(
        &mut self,
        fs: &Filesystem,
        metas: &HashMap<u64, Meta>,
        head: u64,
    ) -> Vec<JournalTransaction> {
        let ring_len = self.ring_len();
        let mut txs: Vec<JournalTransaction> = Vec::new();
        let mut by_seq: HashMap<u32, usize> = HashMap::new();
        let mut cur = Cursor {
            pos: head,
            steps: 0,
        };
        let mut newest: Option<(i64, u32, u64)> = None;
        while cur.steps < ring_len {
            let j = cur.pos;
            cur.pos = self.ring_add(cur.pos, 1);
            cur.steps += 1;
            let Some(m) = metas.get(&j).copied() else {
                continue;
            };
            let what = match m.blocktype {
                blocktype::DESCRIPTOR => "descriptor",
                blocktype::REVOKE => "revoke",
                blocktype::COMMIT => "commit",
                bt => {
                    self.warn(format!(
                        "journal block {j}: jbd2 header of unexpected type {bt} (sequence {}); skipped",
                        m.seq
                    ));
                    continue;
                }
            };
            let key = self.seq_key(m.seq);
            if let Some((nk, ns, nj)) = newest {
                if key < nk {
                    self.warn(format!(
                        "journal block {j}: sequence {} goes backwards after sequence {ns} at journal block {nj}",
                        m.seq
                    ));
                }
            }
            if newest.is_none_or(|(nk, _, _)| key >= nk) {
                newest = Some((key, m.seq, j));
            }
            if m.checksum_ok == Some(false) {
                self.warn(format!(
                    "journal block {j}: {what} block of sequence {} fails its checksum; parsed anyway",
                    m.seq
                ));
            }
            let ti = *by_seq.entry(m.seq).or_insert_with(|| {
                txs.push(JournalTransaction::new(m.seq));
                txs.len() - 1
            });
            let Some(t) = txs.get_mut(ti) else { continue };
            if t.commit.is_some() {
                // A stray block proves nothing: what follows it is
                // scanned normally.
                self.warn(format!(
                    "journal block {j}: {what} block of sequence {} after that transaction's commit; ignored",
                    m.seq
                ));
                continue;
            }
            let b = match self.read_jblock(fs, j) {
                Ok(b) => b,
                Err(e) => {
                    self.warn(format!("journal block {j}: {e}"));
                    continue;
                }
            };
            match m.blocktype {
                blocktype::DESCRIPTOR => {
                    self.stats.descriptor_blocks += 1;
                    let blocks = self.descriptor(fs, metas, j, m, &b, &mut cur);
                    self.stats.logged_blocks += blocks.len() as u64;
                    t.descriptor_blocks.push(j);
                    merge_ok(&mut t.descriptor_checksums_ok, m.checksum_ok);
                    t.blocks.extend(blocks);
                }
                blocktype::REVOKE => {
                    self.stats.revoke_blocks += 1;
                    t.revoke_blocks.push(j);
                    merge_ok(&mut t.descriptor_checksums_ok, m.checksum_ok);
                    t.revoked.extend(self.parse_revoke(j, &b));
                }
                _ => {
                    self.stats.commit_blocks += 1;
                    t.commit = Some(self.parse_commit(j, &b, m.checksum_ok));
                }
            }
        }
        txs
    }

    /// The data blocks of the descriptor at journal block `j`: the blocks
    /// after `cur`, one per tag, each checked against its tag checksum.
    /// A header that proves itself (csum v2/v3: a valid checksum; else a
    /// same-or-newer sequence) where a data block should be, or the write
    /// head, ends the run: the remaining tags are marked missing.
    fn descriptor(
        &mut self,
        fs: &Filesystem,
        metas: &HashMap<u64, Meta>,
        j: u64,
        m: Meta,
        b: &[u8],
        cur: &mut Cursor,
    ) -> Vec<LoggedBlock> {
        let ring_len = self.ring_len();
        let key = self.seq_key(m.seq);
        let csum = self.sb.csum_v2or3();
        let (tags, last) = self.parse_tags(b);
        if !last {
            self.warn(format!(
                "journal block {j}: descriptor of sequence {} has no LAST_TAG; {} tags read to the end of the block",
                m.seq,
                tags.len()
            ));
        }
        let mut blocks = Vec::with_capacity(tags.len());
        let mut lost: Option<(u64, String)> = None;
        for tag in &tags {
            let mut lb = LoggedBlock {
                sequence: m.seq,
                fs_block: tag.blocknr,
                journal_block: cur.pos,
                tag_flags: tag.flags,
                escaped: tag.flags & tag_flag::ESCAPE != 0,
                deleted_flag: tag.flags & tag_flag::DELETED != 0,
                checksum_ok: None,
                missing: false,
            };
            if lost.is_none() {
                if cur.steps >= ring_len {
                    lost = Some((cur.pos, "the data would run past the write head".into()));
                } else if let Some(hm) = metas.get(&cur.pos) {
                    let proves = if csum {
                        hm.checksum_ok == Some(true)
                    } else {
                        self.seq_key(hm.seq) >= key
                    };
                    if proves {
                        lost = Some((
                            cur.pos,
                            format!(
                                "journal block {} holds a sequence {} header",
                                cur.pos, hm.seq
                            ),
                        ));
                    }
                }
            }
            if let Some((at, _)) = &lost {
                // Where the copy would have been.
                let k = blocks.iter().filter(|b: &&LoggedBlock| b.missing).count() as u64;
                lb.journal_block = self.ring_add(*at, k);
                lb.missing = true;
                blocks.push(lb);
                continue;
            }
            cur.pos = self.ring_add(cur.pos, 1);
            cur.steps += 1;
            if tag.blocknr >= fs.sb.blocks_count {
                self.warn(format!(
                    "journal block {}: transaction {} logs block {} past the filesystem end ({} blocks)",
                    lb.journal_block, m.seq, tag.blocknr, fs.sb.blocks_count
                ));
            }
            if csum {
                match self.read_jblock(fs, lb.journal_block) {
                    Ok(data) => lb.checksum_ok = Some(self.tag_checksum_ok(tag, m.seq, &data)),
                    Err(e) => self.warn(format!("journal block {}: {e}", lb.journal_block)),
                }
            }
            blocks.push(lb);
        }
        if let Some((at, why)) = lost {
            let n = blocks.iter().filter(|b| b.missing).count();
            self.warn(format!(
                "journal block {j}: descriptor of sequence {} lists {} tags but {why}; {n} logged blocks from journal block {at} on are lost",
                m.seq,
                tags.len()
            ));
        }
        let bad = blocks
            .iter()
            .filter(|b| b.checksum_ok == Some(false))
            .count();
        if bad > 0 {
            self.warn(format!(
                "transaction {}: {bad} logged blocks of the descriptor at journal block {j} fail their tag checksum",
                m.seq
            ));
        }
        blocks
    }

    /// The write head: after the last block of the newest transaction.
    fn find_head(&mut self, metas: &HashMap<u64, Meta>) -> u64 {
        let trusted = |m: &Meta| {
            m.checksum_ok != Some(false)
                && matches!(
                    m.blocktype,
                    blocktype::DESCRIPTOR | blocktype::COMMIT | blocktype::REVOKE
                )
        };
        let mut cands: Vec<(u64, Meta)> = metas
            .iter()
            .filter(|(_, m)| trusted(m))
            .map(|(&j, &m)| (j, m))
            .collect();
        if cands.is_empty() {
            cands = metas.iter().map(|(&j, &m)| (j, m)).collect();
        }
        let Some(newest) = cands.iter().map(|(_, m)| self.seq_key(m.seq)).max() else {
            return self.ring_first;
        };
        let mut pos: Vec<(u64, Meta)> = cands
            .into_iter()
            .filter(|(_, m)| self.seq_key(m.seq) == newest)
            .collect();
        pos.sort_unstable_by_key(|p| p.0);
        // The last block of the newest transaction: the one before the
        // largest cyclic gap between its blocks.
        let len = self.ring_len().max(1);
        let mut last = None;
        let mut best_gap = 0u64;
        for (i, &(a, m)) in pos.iter().enumerate() {
            let b = pos.get(i + 1).or(pos.first()).map_or(a, |p| p.0);
            let gap = if b == a { len } else { (b + len - a) % len };
            if last.is_none() || gap > best_gap {
                best_gap = gap;
                last = Some((a, m));
            }
        }
        let Some((j, m)) = last else {
            return self.ring_first;
        };
        let skip = if m.blocktype == blocktype::DESCRIPTOR {
            (m.ntags as u64).min(len.saturating_sub(1))
        } else {
            0
        };
        self.ring_add(j, 1 + skip)
    }

    fn parse_revoke(&mut self, j: u64, b: &[u8]) -> Vec<u64> {
        let limit = if self.sb.csum_v2or3() {
            b.len().saturating_sub(TAIL_SIZE)
        } else {
            b.len()
        };
        let mut count = be32(b, 0xC) as usize;
        if count > limit {
            self.warn(format!(
                "journal block {j}: revoke block claims {count} bytes, more than the {limit} available; truncated"
            ));
            count = limit;
        }
        let rec = if self.sb.is_64bit() { 8 } else { 4 };
        let mut out = Vec::new();
        let mut off = 16usize;
        while off + rec <= count {
            out.push(if rec == 8 {
                be64(b, off)
            } else {
                be32(b, off) as u64
            });
            off += rec;
        }
        out
    }

    fn parse_commit(&self, j: u64, b: &[u8], checksum_ok: Option<bool>) -> JournalCommit {
        let sec = be64(b, 0x30);
        let nsec = be32(b, 0x38);
        JournalCommit {
            journal_block: j,
            time: Timestamp::new(
                sec.min(i64::MAX as u64) as i64,
                if nsec < 1_000_000_000 { nsec } else { 0 },
            ),
            checksum_type: u8_at(b, 0xC),
            checksum_size: u8_at(b, 0xD),
            checksum: be32(b, 0x10),
            checksum_ok,
        }
    }

    /// Follow the live log from `s_start` expecting `s_sequence`, as the
    /// kernel's recovery scan does, and mark what it reaches.
    fn follow_live_log(&mut self, metas: &HashMap<u64, Meta>) {
        let start = self.sb.start as u64;
        if start == 0 {
            return;
        }
        if start < self.ring_first || start >= self.ring_end {
            self.warn(format!(
                "journal s_start {start} is outside the ring {}..{}; live log not followed",
                self.ring_first, self.ring_end
            ));
            return;
        }
        let len = self.ring_len();
        let mut pos = start;
        let mut expect = self.sb.sequence;
        let mut steps = 0u64;
        let mut live: HashSet<u32> = HashSet::new();
        while steps < len {
            let Some(m) = metas.get(&pos) else { break };
            if m.seq != expect {
                break;
            }
            match m.blocktype {
                blocktype::DESCRIPTOR => {
                    if m.checksum_ok == Some(false) {
                        break;
                    }
                    live.insert(expect);
                    let n = 1 + m.ntags as u64;
                    pos = self.ring_add(pos, n);
                    steps += n;
                }
                blocktype::REVOKE => {
                    live.insert(expect);
                    pos = self.ring_add(pos, 1);
                    steps += 1;
                }
                blocktype::COMMIT => {
                    if m.checksum_ok == Some(false) {
                        break;
                    }
                    live.insert(expect);
                    expect = expect.wrapping_add(1);
                    pos = self.ring_add(pos, 1);
                    steps += 1;
                }
                _ => break,
            }
        }
        self.live_end = Some(pos);
        for t in &mut self.transactions {
            if live.contains(&t.sequence) {
                t.in_live_log = true;
            }
        }
    }

    fn build_index(&mut self) {
        let mut idx: Vec<(u64, u32, u32)> =
            Vec::with_capacity(self.transactions.iter().map(|t| t.blocks.len()).sum());
        for (ti, t) in self.transactions.iter().enumerate() {
            for (bi, b) in t.blocks.iter().enumerate() {
                idx.push((b.fs_block, ti as u32, bi as u32));
            }
        }
        // By block, then in log order (transaction, position).
        idx.sort_unstable();
        self.index = idx;
        let mut rev: HashMap<u64, i64> = HashMap::new();
        for t in &self.transactions {
            let k = self.seq_key(t.sequence);
            for &b in &t.revoked {
                let e = rev.entry(b).or_insert(k);
                *e = (*e).max(k);
            }
        }
        self.revokes = rev;
    }
}

fn merge_ok(acc: &mut Option<bool>, v: Option<bool>) {
    if let Some(v) = v {
        *acc = Some(acc.unwrap_or(true) && v);
    }
}

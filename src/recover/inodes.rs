//! Deleted inodes in the inode tables, and pre-deletion inode versions in
//! the journal's copies of inode-table blocks.

use super::names::{is_live, DeletedName, NameSource};
use super::{AllocCache, Recovery};
use crate::ext4::{Filesystem, Inode};
use rayon::prelude::*;

/// Inode-table bytes read per request (sequential, large).
const CHUNK: u64 = 1 << 20;

/// A deleted inode is worth reporting when its record was used: it has a
/// mode, and it is unallocated, unlinked or carries a deletion time.
fn is_deleted(ino: &Inode, allocated: Option<bool>) -> bool {
    if ino.mode == 0 || ino.is_empty() {
        return false;
    }
    allocated == Some(false) || ino.links_count == 0 || ino.dtime != 0
}

/// The deleted inodes found by [`scan`], kept as sorted numbers only: a
/// decoded [`Inode`] is about 300 bytes with its map entry, and at 5M
/// inodes the deleted ones were the largest single part of recovery's
/// memory. The records are read again from the (read-only) inode tables
/// when a candidate is built, in inode order, so mostly from the block
/// cache.
#[derive(Default)]
pub struct DeletedInodes {
    inos: Vec<u32>,
    /// The deleted directories among them (their maps own freed blocks).
    dirs: Vec<u32>,
}

impl DeletedInodes {
    pub fn contains(&self, ino: u32) -> bool {
        self.inos.binary_search(&ino).is_ok()
    }
    pub fn numbers(&self) -> &[u32] {
        &self.inos
    }
    pub fn dirs(&self) -> &[u32] {
        &self.dirs
    }
    /// The deleted inode's record, read again; `None` when `ino` was not
    /// found deleted by the scan (or its table is unreadable now).
    pub fn get(&self, fs: &Filesystem, ino: u32) -> Option<Inode> {
        if !self.contains(ino) {
            return None;
        }
        let mut i = fs.inode(ino).ok()?;
        i.drop_raw_unless_needed();
        Some(i)
    }
}

/// What one group's inode table gave.
#[derive(Default)]
struct GroupScan {
    /// Deleted inodes, in order.
    found: Vec<u32>,
    /// The directories among them.
    dirs: Vec<u32>,
    /// Deleted directories with inline data (their names are read later).
    inline_dirs: Vec<Inode>,
    warns: Vec<String>,
    scanned: u64,
}

/// Every deleted inode, by number. Groups are read in parallel, each in
/// large sequential chunks.
pub fn scan(fs: &Filesystem, alloc: &AllocCache, rec: &mut Recovery) -> DeletedInodes {
    let ipg = fs.sb.inodes_per_group as u64;
    let isz = fs.sb.inode_size();
    let bs = fs.block_size();
    let first_ino = fs.sb.first_ino.max(11);
    let groups: Vec<u64> = (0..fs.groups.len() as u64).collect();
    // Bitmaps first (cheap), so the parallel part needs no locks.
    let bitmaps: Vec<Option<crate::ext4::bitmap::Bitmap>> =
        groups.iter().map(|&g| fs.inode_bitmap(g).ok()).collect();
    let _ = alloc;
    let results: Vec<GroupScan> = groups
        .par_iter()
        .map(|&g| {
            let mut found = Vec::new();
            let mut inline_dirs = Vec::new();
            let mut dirs = Vec::new();
            let mut warns = Vec::new();
            let gd = &fs.groups[g as usize];
            if gd.inode_uninit() {
                return GroupScan::default(); // never used since mkfs
            }
            let table = gd.inode_table;
            let total = ipg * isz;
            if table == 0 || table.saturating_add(total.div_ceil(bs)) > fs.sb.blocks_count {
                warns.push(format!(
                    "group {g}: inode table at block {table} is outside the filesystem; skipped"
                ));
                return GroupScan {
                    warns,
                    ..GroupScan::default()
                };
            }
            let mut scanned = 0u64;
            let mut off = 0u64;
            let mut buf = vec![0u8; CHUNK.min(total) as usize];
            while off < total {
                let n = (total - off).min(CHUNK);
                let b = &mut buf[..n as usize];
                if let Err(e) = fs.read_bytes(table * bs + off, b) {
                    warns.push(format!(
                        "group {g}: inode table bytes {off}+{n}: {e}; skipped"
                    ));
                    off += n;
                    continue;
                }
                for (i, rec) in b.chunks_exact(isz as usize).enumerate() {
                    let idx = off / isz + i as u64;
                    let ino = (g * ipg + idx + 1) as u32;
                    scanned += 1;
                    if ino < first_ino || ino > fs.sb.inodes_count {
                        continue;
                    }
                    // Cheap filter before decoding: mode == 0 and no dtime.
                    if rec[0] == 0 && rec[1] == 0 && rec[0x14..0x18] == [0; 4] {
                        continue;
                    }
                    let allocated = bitmaps[g as usize].as_ref().map(|bm| bm.get(idx));
                    let inode = Inode::parse(rec, ino, &fs.sb);
                    if is_deleted(&inode, allocated) {
                        if inode.is_dir() {
                            dirs.push(ino);
                            if inode.has_flag(crate::ext4::inode::flags::INLINE_DATA) {
                                // Names in a deleted inline directory: read
                                // below, after the parallel part.
                                inline_dirs.push(inode);
                            }
                        }
                        found.push(ino);
                    }
                }
                off += n;
            }
            GroupScan {
                found,
                dirs,
                inline_dirs,
                warns,
                scanned,
            }
        })
        .collect();
    let mut out = DeletedInodes::default();
    out.inos
        .reserve_exact(results.iter().map(|r| r.found.len()).sum());
    let mut live_cache = super::names::LiveCache::default();
    let mut seen = std::collections::HashSet::new();
    // Groups in order, inodes in order within each: `inos` is sorted.
    for GroupScan {
        found,
        dirs,
        inline_dirs,
        warns,
        scanned,
    } in results
    {
        rec.stats.inodes_scanned += scanned;
        rec.warnings.extend(warns);
        for i in inline_dirs {
            let blk = fs.inode_position(i.ino).map(|p| p / bs).unwrap_or(0);
            inline_dir_names(
                fs,
                &i,
                NameSource::FreedDirBlock,
                None,
                blk,
                &mut live_cache,
                &mut seen,
                rec,
            );
        }
        out.inos.extend(found);
        out.dirs.extend(dirs);
    }
    rec.stats.deleted_inodes = out.inos.len() as u64;
    out
}

/// Entries of an inline directory held in an inode record (a deleted
/// inode, or a journal copy of one) that are not live now.
#[allow(clippy::too_many_arguments)]
pub fn inline_dir_names(
    fs: &Filesystem,
    dir: &Inode,
    source: NameSource,
    seq: Option<u32>,
    block: u64,
    live_cache: &mut super::names::LiveCache,
    seen: &mut std::collections::HashSet<(u32, Vec<u8>, u32)>,
    rec: &mut Recovery,
) {
    let listing = fs.read_dir(dir);
    for e in listing.entries {
        if e.name == b"." {
            continue;
        }
        if e.name == b".." {
            if seen.insert((e.inode, Vec::new(), dir.ino)) {
                rec.names.push(DeletedName {
                    parent: Some(e.inode),
                    name: Vec::new(),
                    inode: dir.ino,
                    file_type: 2,
                    source,
                    block,
                    offset: 0,
                    journal_seq: seq,
                    dot_owner: false,
                    block_gen: Some(dir.generation),
                    gen_unmatched: false,
                });
            }
            continue;
        }
        if is_live(fs, live_cache, dir.ino, &e.name, e.inode)
            || !seen.insert((dir.ino, e.name.clone(), e.inode))
        {
            continue;
        }
        match source {
            NameSource::Journal => rec.stats.names_journal += 1,
            _ => rec.stats.names_freed_dir_blocks += 1,
        }
        rec.names.push(DeletedName {
            parent: Some(dir.ino),
            name: e.name,
            inode: e.inode,
            file_type: e.file_type,
            source,
            block,
            offset: 0,
            journal_seq: seq,
            dot_owner: false,
            block_gen: Some(dir.generation),
            gen_unmatched: false,
        });
    }
}

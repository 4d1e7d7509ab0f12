//! Allocation state of blocks and inodes, with bitmaps loaded once.

use crate::ext4::bitmap::Bitmap;
use crate::ext4::Filesystem;
use std::collections::HashMap;
use std::sync::Mutex;

/// A bitmap as kept: one with no bit set drops its bytes ([`Bitmap::get`]
/// reads missing bytes as clear). Most groups of a large, mostly empty
/// volume are like that, and a 4 KiB copy of each was 32 MB on a 1 TiB
/// filesystem.
fn kept(bm: Option<Bitmap>) -> Option<Bitmap> {
    bm.map(|mut b| {
        if b.bits.iter().all(|&x| x == 0) {
            b.bits = Vec::new();
        }
        b
    })
}

pub struct AllocCache<'a> {
    fs: &'a Filesystem,
    blocks: Mutex<HashMap<u64, Option<Bitmap>>>,
    inodes: Mutex<HashMap<u64, Option<Bitmap>>>,
}

impl<'a> AllocCache<'a> {
    pub fn new(fs: &'a Filesystem) -> Self {
        AllocCache {
            fs,
            blocks: Mutex::new(HashMap::new()),
            inodes: Mutex::new(HashMap::new()),
        }
    }

    /// `None` when the bitmap is unreadable or the block is out of range.
    pub fn block(&self, blk: u64) -> Option<bool> {
        let fs = self.fs;
        if blk >= fs.sb.blocks_count {
            return None;
        }
        if blk < fs.sb.first_data_block as u64 {
            return Some(true);
        }
        let g = fs.block_group_of(blk);
        let mut m = self.blocks.lock().ok()?;
        let bm = m.entry(g).or_insert_with(|| kept(fs.block_bitmap(g).ok()));
        let ratio = (fs.sb.cluster_size() / fs.block_size()).max(1);
        bm.as_ref()
            .map(|b| b.get((blk - fs.group_first_block(g)) / ratio))
    }

    pub fn inode(&self, ino: u32) -> Option<bool> {
        let fs = self.fs;
        if ino == 0 || ino > fs.sb.inodes_count {
            return None;
        }
        let g = fs.inode_group_of(ino);
        let mut m = self.inodes.lock().ok()?;
        let bm = m.entry(g).or_insert_with(|| kept(fs.inode_bitmap(g).ok()));
        bm.as_ref()
            .map(|b| b.get(((ino - 1) % fs.sb.inodes_per_group) as u64))
    }

    /// The whole block bitmap of a group (for free-space scans).
    pub fn group_blocks(&self, g: u64) -> Option<Bitmap> {
        let mut m = self.blocks.lock().ok()?;
        m.entry(g)
            .or_insert_with(|| kept(self.fs.block_bitmap(g).ok()))
            .clone()
    }
}

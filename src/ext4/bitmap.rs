//! Block and inode bitmaps, honouring BLOCK_UNINIT / INODE_UNINIT.
//! Recovery needs the allocation state of every block and inode.

use super::fs::Filesystem;
use crate::util::crc::crc32c_update;
use crate::Result;

/// One group's bitmap. `bits` covers exactly the group's members.
#[derive(Clone, Debug)]
pub struct Bitmap {
    pub group: u64,
    pub bits: Vec<u8>,
    /// Number of members in this group (the tail of the last group is short).
    pub len: u64,
    /// The group was flagged *_UNINIT: `bits` was synthesised, not read.
    pub uninit: bool,
    /// `None` when the filesystem has no bitmap checksums.
    pub checksum_ok: Option<bool>,
}

impl Bitmap {
    pub fn get(&self, i: u64) -> bool {
        i < self.len
            && self
                .bits
                .get((i / 8) as usize)
                .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }
    pub fn count_set(&self) -> u64 {
        (0..self.len).filter(|&i| self.get(i)).count() as u64
    }
}

impl Filesystem {
    /// The block (cluster) bitmap of group `g`.
    pub fn block_bitmap(&self, g: u64) -> Result<Bitmap> {
        let gd = self.group_desc(g)?;
        let cpg = self.sb.clusters_per_group.max(1) as u64;
        let first = self.group_first_block(g);
        let blocks_in_group = (self.sb.blocks_count - first.min(self.sb.blocks_count))
            .min(self.sb.blocks_per_group as u64);
        let ratio = (self.sb.cluster_size() / self.block_size()).max(1);
        let len = blocks_in_group.div_ceil(ratio).min(cpg);
        let nbytes = cpg.div_ceil(8) as usize;
        if gd.block_uninit() {
            // Never initialised: only this group's own metadata is in use.
            let mut bits = vec![0u8; nbytes];
            for blk in self.group_metadata_blocks(g) {
                if blk >= first {
                    let i = (blk - first) / ratio;
                    if i < len {
                        bits[(i / 8) as usize] |= 1 << (i % 8);
                    }
                }
            }
            return Ok(Bitmap {
                group: g,
                bits,
                len,
                uninit: true,
                checksum_ok: None,
            });
        }
        self.read_bitmap(g, gd.block_bitmap, nbytes, len, gd.block_bitmap_csum)
    }

    /// The inode bitmap of group `g`.
    pub fn inode_bitmap(&self, g: u64) -> Result<Bitmap> {
        let gd = self.group_desc(g)?;
        let ipg = self.sb.inodes_per_group as u64;
        let nbytes = ipg.div_ceil(8) as usize;
        if gd.inode_uninit() {
            return Ok(Bitmap {
                group: g,
                bits: vec![0u8; nbytes],
                len: ipg,
                uninit: true,
                checksum_ok: None,
            });
        }
        self.read_bitmap(g, gd.inode_bitmap, nbytes, ipg, gd.inode_bitmap_csum)
    }

    /// Read a bitmap block and check it: crc32c(fs seed, the bitmap's
    /// bytes), 16 bits with 32-byte descriptors, 32 with 64-byte ones.
    fn read_bitmap(
        &self,
        g: u64,
        blk: u64,
        nbytes: usize,
        len: u64,
        stored: u32,
    ) -> Result<Bitmap> {
        let blk = self.read_block_cached(blk)?;
        let bits = blk[..nbytes.min(blk.len())].to_vec();
        let checksum_ok = self.sb.metadata_csum().then(|| {
            let c = crc32c_update(self.sb.csum_seed(), &bits);
            let want = if self.sb.desc_size() >= 64 {
                c
            } else {
                c & 0xFFFF
            };
            want == stored
        });
        Ok(Bitmap {
            group: g,
            bits,
            len,
            uninit: false,
            checksum_ok,
        })
    }

    pub fn group_desc(&self, g: u64) -> Result<&super::group::GroupDesc> {
        self.groups
            .get(g as usize)
            .ok_or_else(|| crate::Error::NotFound(format!("block group {g}")))
    }

    /// Is inode `ino` marked in use? `None` if its bitmap is unreadable.
    pub fn inode_allocated(&self, ino: u32) -> Option<bool> {
        if ino == 0 || ino > self.sb.inodes_count {
            return None;
        }
        let g = self.inode_group_of(ino);
        let bm = self.inode_bitmap(g).ok()?;
        Some(bm.get(((ino - 1) % self.sb.inodes_per_group) as u64))
    }

    /// Is block `blk` marked in use? `None` if its bitmap is unreadable.
    pub fn block_allocated(&self, blk: u64) -> Option<bool> {
        if blk >= self.sb.blocks_count || blk < self.sb.first_data_block as u64 {
            return if blk < self.sb.first_data_block as u64 {
                Some(true)
            } else {
                None
            };
        }
        let g = self.block_group_of(blk);
        let bm = self.block_bitmap(g).ok()?;
        let ratio = (self.sb.cluster_size() / self.block_size()).max(1);
        Some(bm.get((blk - self.group_first_block(g)) / ratio))
    }

    /// Blocks that belong to group `g`'s own fixed metadata: superblock
    /// backup, GDT and reserved GDT copies, and (wherever they are placed)
    /// this group's bitmaps and inode table.
    pub fn group_metadata_blocks(&self, g: u64) -> Vec<u64> {
        let mut v = Vec::new();
        let first = self.group_first_block(g);
        let bs = self.block_size();
        if self.sb.group_has_super(g) {
            v.push(first);
            let per_block = bs / self.sb.desc_size();
            let meta_bg = self.sb.has_incompat(super::superblock::incompat::META_BG);
            let gdt_blocks = if meta_bg {
                (self.sb.first_meta_bg as u64).min(self.group_count().div_ceil(per_block))
            } else {
                self.group_count().div_ceil(per_block)
            };
            for i in 0..gdt_blocks + self.sb.reserved_gdt_blocks as u64 {
                v.push(first + 1 + i);
            }
        }
        if self.sb.has_incompat(super::superblock::incompat::META_BG) {
            let per_block = bs / self.sb.desc_size();
            let pos = g % per_block;
            let mbg = g / per_block;
            if mbg >= self.sb.first_meta_bg as u64 && (pos == 0 || pos == 1 || pos == per_block - 1)
            {
                v.push(first + u64::from(self.sb.group_has_super(g)));
            }
        }
        if let Some(gd) = self.groups.get(g as usize) {
            v.push(gd.block_bitmap);
            v.push(gd.inode_bitmap);
            let itb = (self.sb.inodes_per_group as u64 * self.sb.inode_size()).div_ceil(bs);
            v.extend(gd.inode_table..gd.inode_table.saturating_add(itb));
        }
        v
    }
}

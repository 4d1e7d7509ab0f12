//! File content: block-mapped reads (holes and unwritten extents read as
//! zeros), inline data (`i_block` + the `system.data` xattr) and symlinks.

use super::blockmap::BlockMap;
use super::fs::Filesystem;
use super::inode::{flags, FileType, Inode};
use super::superblock::incompat;
use crate::{Error, Result};
use std::io::Write;

/// Largest file ext4 can describe: 2^32 logical blocks (extents), or the
/// triple-indirect limit. An i_size above it is corrupt and is clamped.
pub fn max_file_size(fs: &Filesystem, inode: &Inode) -> u64 {
    let bs = fs.block_size();
    if inode.has_flag(flags::EXTENTS) {
        (1u64 << 32) * bs
    } else {
        let p = bs / 4;
        (12 + p + p * p + p * p * p).saturating_mul(bs)
    }
}

impl Filesystem {
    /// `i_size`, clamped to what the format can address (with a warning).
    pub fn content_size(&self, inode: &Inode) -> u64 {
        let max = max_file_size(self, inode);
        if inode.size > max {
            self.warn(format!(
                "inode {}: i_size {} exceeds the format's maximum {}; clamped",
                inode.ino, inode.size, max
            ));
            max
        } else {
            inode.size
        }
    }

    pub fn is_fast_symlink(&self, inode: &Inode) -> bool {
        if inode.file_type() != FileType::Symlink || inode.has_flag(flags::INLINE_DATA) {
            return false;
        }
        let ea = if inode.file_acl != 0 {
            self.sb.cluster_size()
        } else {
            0
        };
        inode.blocks_bytes(&self.sb).saturating_sub(ea) == 0 && inode.size < 60
    }

    /// Inline data: up to 60 bytes in `i_block`, the rest in `system.data`.
    pub fn read_inline(&self, inode: &Inode) -> Vec<u8> {
        let mut v = inode.block.to_vec();
        if let Some(x) = self.xattrs(inode).get(b"system.data") {
            v.extend_from_slice(&x.value);
        }
        v.truncate(inode.size.min(v.len() as u64) as usize);
        v
    }

    /// Read `len` bytes from `offset` of the content (stops at i_size).
    pub fn read_content(&self, inode: &Inode, offset: u64, len: u64) -> Result<Vec<u8>> {
        let size = self.content_size(inode);
        let end = offset.saturating_add(len).min(size);
        if offset >= end {
            return Ok(Vec::new());
        }
        if end - offset > (1 << 32) {
            return Err(Error::Unsupported(format!(
                "inode {}: refusing to load {} bytes into memory; stream it instead",
                inode.ino,
                end - offset
            )));
        }
        let mut out = Vec::with_capacity((end - offset) as usize);
        self.stream_range(inode, None, offset, end, &mut out)?;
        Ok(out)
    }

    /// Write the whole content to `w` (holes and unwritten extents as zeros).
    pub fn stream_content(&self, inode: &Inode, w: &mut dyn Write) -> Result<u64> {
        let size = self.content_size(inode);
        self.stream_range(inode, None, 0, size, w)?;
        Ok(size)
    }

    /// Stream bytes `[start, end)` using `map` (or the inode's own map).
    pub fn stream_range(
        &self,
        inode: &Inode,
        map: Option<&BlockMap>,
        start: u64,
        end: u64,
        w: &mut dyn Write,
    ) -> Result<()> {
        let werr = |e: std::io::Error| Error::io("writing output", e);
        if inode.has_flag(flags::INLINE_DATA) && self.sb.has_incompat(incompat::INLINE_DATA) {
            let d = self.read_inline(inode);
            let s = (start as usize).min(d.len());
            let e = (end as usize).min(d.len());
            w.write_all(&d[s..e]).map_err(werr)?;
            // An inline file is never larger than its inline area; pad if
            // i_size lies.
            write_zeros(w, end.saturating_sub(start).saturating_sub((e - s) as u64))?;
            return Ok(());
        }
        if inode.file_type() == FileType::Symlink && self.is_fast_symlink(inode) {
            let t = &inode.block[..(inode.size as usize).min(60)];
            let s = (start as usize).min(t.len());
            let e = (end as usize).min(t.len());
            w.write_all(&t[s..e]).map_err(werr)?;
            return Ok(());
        }
        let own;
        let map = match map {
            Some(m) => m,
            None => {
                own = self.block_map(inode);
                for wmsg in &own.warnings {
                    self.warn(wmsg.clone());
                }
                &own
            }
        };
        let bs = self.block_size();
        let mut pos = start;
        // Chunked reads of contiguous runs: up to 1 MiB at a time.
        let chunk_blocks = (1u64 << 20) / bs;
        // Sized to the range (plus a block for an unaligned start): most
        // files are small, and zeroing 1 MiB per file dominated layer
        // verification.
        let want = end.saturating_sub(start).div_ceil(bs).saturating_add(1);
        let mut buf = vec![0u8; (want.min(chunk_blocks) * bs) as usize];
        let chunk_blocks = want.min(chunk_blocks);
        let mut i = map
            .runs
            .partition_point(|r| (r.logical + r.len) * bs <= pos);
        while pos < end {
            let lblk = pos / bs;
            let run = map.runs.get(i).filter(|r| r.logical <= lblk);
            match run {
                None => {
                    // Hole until the next run (or the end).
                    let next = map.runs.get(i).map(|r| r.logical * bs).unwrap_or(u64::MAX);
                    let stop = next.min(end);
                    write_zeros(w, stop - pos)?;
                    pos = stop;
                }
                Some(r) => {
                    let run_end = ((r.logical + r.len) * bs).min(end);
                    if r.unwritten {
                        write_zeros(w, run_end - pos)?;
                        pos = run_end;
                    } else {
                        while pos < run_end {
                            let lb = pos / bs;
                            let nblk = ((run_end - lb * bs).div_ceil(bs)).min(chunk_blocks);
                            let pb = r.physical + (lb - r.logical);
                            let b = &mut buf[..(nblk * bs) as usize];
                            if let Err(e) = self.read_blocks_into(pb, b) {
                                self.warn(format!(
                                    "inode {}: data blocks {pb}+{nblk}: {e}; zeros written",
                                    inode.ino
                                ));
                                b.fill(0);
                            }
                            let skip = (pos - lb * bs) as usize;
                            let take = ((nblk * bs) as usize - skip).min((run_end - pos) as usize);
                            w.write_all(&b[skip..skip + take]).map_err(werr)?;
                            pos += take as u64;
                        }
                    }
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// Symlink target bytes (fast, slow or inline).
    pub fn symlink_target(&self, inode: &Inode) -> Result<Vec<u8>> {
        if inode.file_type() != FileType::Symlink {
            return Err(Error::usage(format!(
                "inode {} is not a symlink",
                inode.ino
            )));
        }
        // PATH_MAX bounds a target; anything longer is corrupt.
        self.read_content(inode, 0, inode.size.min(4096))
    }
}

fn write_zeros(w: &mut dyn Write, mut n: u64) -> Result<()> {
    static ZEROS: [u8; 65536] = [0u8; 65536];
    while n > 0 {
        let k = n.min(ZEROS.len() as u64) as usize;
        w.write_all(&ZEROS[..k])
            .map_err(|e| Error::io("writing output", e))?;
        n -= k as u64;
    }
    Ok(())
}

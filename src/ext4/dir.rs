//! Directories: linear dirent blocks, htree (read as its leaf blocks),
//! checksum tails, inline directories. Names are raw bytes.

use super::fs::Filesystem;
use super::inode::{flags, FileType, Inode};
use super::superblock::incompat;
use crate::util::bytes::{le16, le32, slice, u8_at};
use crate::util::crc::crc32c_update;
use serde::Serialize;

/// Bound on entries read from one directory (hostile "billions"). An entry
/// in memory costs ~90 bytes: 2M keep one listing under ~200 MiB, inside the
/// 512 MiB memory budget. Real directories this large are very rare;
/// the warning names the cap.
pub const MAX_DIR_ENTRIES: usize = 2_000_000;

/// One `ext4_dir_entry_2` as found on disk.
#[derive(Clone, Debug, Serialize)]
pub struct DirEntry {
    pub inode: u32,
    pub rec_len: u32,
    pub name_len: u8,
    /// Raw `file_type` byte (0 when the filesystem lacks the filetype feature).
    pub file_type: u8,
    #[serde(skip)]
    pub name: Vec<u8>,
    /// Logical block within the directory (or u64::MAX for inline data).
    pub lblock: u64,
    /// Byte offset of the record within its block.
    pub offset: u32,
}

impl DirEntry {
    pub fn dirent_type(&self) -> FileType {
        FileType::from_dirent(self.file_type)
    }
    pub fn is_dot(&self) -> bool {
        self.name == b"." || self.name == b".."
    }
}

/// Decode a record length (64 KiB blocks store 65536 as 65535 or 0, and
/// use the low 2 bits as bits 16-17).
pub fn rec_len_from_disk(raw: u16, block_size: u64) -> u32 {
    if block_size < 65536 {
        return raw as u32;
    }
    if raw == 65535 || raw == 0 {
        return 65536;
    }
    (raw as u32 & 65532) | ((raw as u32 & 3) << 16)
}

/// Minimum record length for a name of `n` bytes (EXT4_DIR_REC_LEN).
pub fn min_rec_len(n: usize) -> u32 {
    ((n + 8 + 3) & !3) as u32
}

/// Result of parsing one directory block.
#[derive(Clone, Debug, Default)]
pub struct DirBlock {
    /// Live entries (inode != 0), including `.` and `..`.
    pub entries: Vec<DirEntry>,
    /// The block is an htree interior node (fake empty dirent over it all).
    pub dx_node: bool,
    /// `Some(ok)` when a checksum tail was present and checked.
    pub checksum_ok: Option<bool>,
    /// Byte offset where parsing stopped because a record was invalid.
    pub error: Option<String>,
    /// Offset of the last record of the chain (a checksum tail sits at
    /// `len - 12` when present).
    pub last_record: Option<usize>,
}

/// Parse a dirent chain in `b` (one block, or an inline area).
/// `filetype`: whether byte 7 is `file_type` (else it is name_len's high byte).
pub fn parse_dirents(
    b: &[u8],
    block_size: u64,
    filetype: bool,
    max_inode: u32,
    lblock: u64,
) -> DirBlock {
    let mut out = DirBlock::default();
    let mut off = 0usize;
    let end = b.len();
    while off + 8 <= end {
        let ino = le32(b, off);
        let rec_len = rec_len_from_disk(le16(b, off + 4), block_size) as usize;
        let name_len = u8_at(b, off + 6) as usize;
        let ft = if filetype { u8_at(b, off + 7) } else { 0 };
        if rec_len < 12
            || rec_len % 4 != 0
            || off + rec_len > end
            || (ino != 0 && (rec_len as u32) < min_rec_len(name_len))
        {
            out.error = Some(format!(
                "invalid dirent at offset {off}: rec_len {rec_len}, name_len {name_len}"
            ));
            break;
        }
        if ino > max_inode {
            out.error = Some(format!(
                "dirent at offset {off} names inode {ino} past the inode count"
            ));
            off += rec_len;
            continue;
        }
        if ino != 0 {
            out.entries.push(DirEntry {
                inode: ino,
                rec_len: rec_len as u32,
                name_len: name_len as u8,
                file_type: ft,
                name: slice(b, off + 8, name_len).to_vec(),
                lblock,
                offset: off as u32,
            });
        } else if off == 0 && rec_len == end && name_len == 0 {
            out.dx_node = true;
        }
        out.last_record = Some(off);
        off += rec_len;
    }
    out
}

/// Does a directory block's checksum tail match the directory's checksum
/// seed (`Inode::csum_seed`: fs seed, inode number, generation)? The caller
/// has checked the tail is there ([`has_tail`]).
pub(crate) fn tail_checksum_ok(block: &[u8], seed: u32) -> bool {
    let n = block.len();
    n >= 12 && crc32c_update(seed, &block[..n - 12]) == le32(block, n - 4)
}

/// A checksum tail (`ext4_dir_entry_tail`) at the end of the block?
pub(crate) fn has_tail(b: &[u8]) -> bool {
    let n = b.len();
    n >= 12
        && le32(b, n - 12) == 0
        && le16(b, n - 8) == 12
        && u8_at(b, n - 6) == 0
        && u8_at(b, n - 5) == 0xDE
}

/// The listing of one directory inode.
#[derive(Clone, Debug, Default)]
pub struct DirListing {
    pub entries: Vec<DirEntry>,
    pub htree: bool,
    pub inline: bool,
    /// Blocks whose checksum tail did not match.
    pub bad_checksums: Vec<u64>,
    pub warnings: Vec<String>,
}

impl Filesystem {
    /// Read every entry of a directory inode. Damaged blocks are skipped
    /// with a warning naming them.
    pub fn read_dir(&self, dir: &Inode) -> DirListing {
        let mut out = DirListing {
            htree: dir.has_flag(flags::INDEX),
            ..Default::default()
        };
        let filetype = self.sb.has_incompat(incompat::FILETYPE);
        let max_ino = self.sb.inodes_count;
        let bs = self.block_size();
        if dir.has_flag(flags::INLINE_DATA) && self.sb.has_incompat(incompat::INLINE_DATA) {
            out.inline = true;
            // i_block: 4-byte parent inode, then dirents; then system.data.
            let parent = le32(&dir.block, 0);
            out.entries.push(synthetic(b".", dir.ino));
            out.entries.push(synthetic(b"..", parent));
            let first = parse_dirents(&dir.block[4..], bs, filetype, max_ino, u64::MAX);
            if let Some(e) = first.error {
                out.warnings
                    .push(format!("inline directory {}: {e}", dir.ino));
            }
            out.entries.extend(first.entries);
            if let Some(x) = self.xattrs(dir).get(b"system.data") {
                let more = parse_dirents(&x.value, bs, filetype, max_ino, u64::MAX);
                if let Some(e) = more.error {
                    out.warnings
                        .push(format!("inline directory {} (system.data): {e}", dir.ino));
                }
                out.entries.extend(more.entries);
            }
            return out;
        }
        let map = self.block_map(dir);
        out.warnings.extend(map.warnings.iter().cloned());
        let size_blocks = self.content_size(dir).div_ceil(bs);
        let seed = if self.sb.metadata_csum() {
            Some(Inode::csum_seed(dir.ino, dir.generation, &self.sb))
        } else {
            None
        };
        let mut buf = vec![0u8; bs as usize];
        'runs: for r in &map.runs {
            if r.unwritten {
                continue;
            }
            for k in 0..r.len {
                let lblk = r.logical + k;
                if lblk >= size_blocks {
                    break 'runs;
                }
                let pblk = r.physical + k;
                if let Err(e) = self.read_blocks_into(pblk, &mut buf) {
                    out.warnings
                        .push(format!("directory {} block {pblk}: {e}; skipped", dir.ino));
                    continue;
                }
                // A checksum tail is the chain's last record, at len - 12.
                // (Stale tail-like bytes can remain in an htree root's
                // unused area, so the chain itself must reach it.)
                let mut db = parse_dirents(&buf, bs, filetype, max_ino, lblk);
                let tail = db.last_record == Some(buf.len() - 12) && has_tail(&buf);
                if let (Some(seed), true) = (seed, tail) {
                    let ok = tail_checksum_ok(&buf, seed);
                    db.checksum_ok = Some(ok);
                    if !ok {
                        out.bad_checksums.push(pblk);
                    }
                }
                if let Some(e) = &db.error {
                    out.warnings.push(format!(
                        "directory {} logical block {lblk} (block {pblk}): {e}; rest of block skipped",
                        dir.ino
                    ));
                }
                out.entries.append(&mut db.entries);
                if out.entries.len() > MAX_DIR_ENTRIES {
                    out.warnings.push(format!(
                        "directory {} has more than {MAX_DIR_ENTRIES} entries; the rest are skipped",
                        dir.ino
                    ));
                    out.entries.truncate(MAX_DIR_ENTRIES);
                    break 'runs;
                }
            }
        }
        if !out.bad_checksums.is_empty() {
            out.warnings.push(format!(
                "directory {}: {} block(s) failed their checksum: {:?}",
                dir.ino,
                out.bad_checksums.len(),
                &out.bad_checksums[..out.bad_checksums.len().min(8)]
            ));
        }
        out
    }
}

fn synthetic(name: &[u8], ino: u32) -> DirEntry {
    DirEntry {
        inode: ino,
        rec_len: 0,
        name_len: name.len() as u8,
        file_type: 2,
        name: name.to_vec(),
        lblock: u64::MAX,
        offset: 0,
    }
}

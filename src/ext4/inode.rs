//! Inodes (`struct ext4_inode`), decoded whatever their allocation state.
//! Nothing here assumes the inode is live: deleted inodes keep most fields
//! (see docs/design.md) and recovery reads them raw.

use super::superblock::{ro_compat, Superblock};
use crate::util::bytes::{le16, le32, slice};
use crate::util::crc::crc32c_update;
use crate::util::time::Timestamp;
use serde::Serialize;

pub const ROOT_INO: u32 = 2;
pub const JOURNAL_INO: u32 = 8;
pub const RESIZE_INO: u32 = 7;

pub mod flags {
    pub const SECRM: u32 = 0x1;
    pub const UNRM: u32 = 0x2;
    pub const COMPR: u32 = 0x4;
    pub const SYNC: u32 = 0x8;
    pub const IMMUTABLE: u32 = 0x10;
    pub const APPEND: u32 = 0x20;
    pub const NODUMP: u32 = 0x40;
    pub const NOATIME: u32 = 0x80;
    pub const ENCRYPT: u32 = 0x800;
    pub const INDEX: u32 = 0x1000;
    pub const IMAGIC: u32 = 0x2000;
    pub const JOURNAL_DATA: u32 = 0x4000;
    pub const NOTAIL: u32 = 0x8000;
    pub const DIRSYNC: u32 = 0x10000;
    pub const TOPDIR: u32 = 0x20000;
    pub const HUGE_FILE: u32 = 0x40000;
    pub const EXTENTS: u32 = 0x80000;
    pub const VERITY: u32 = 0x100000;
    pub const EA_INODE: u32 = 0x200000;
    pub const DAX: u32 = 0x2000000;
    pub const INLINE_DATA: u32 = 0x10000000;
    pub const PROJINHERIT: u32 = 0x20000000;
    pub const CASEFOLD: u32 = 0x40000000;
}

const FLAG_NAMES: &[(u32, &str)] = &[
    (0x1, "secrm"),
    (0x2, "unrm"),
    (0x4, "compr"),
    (0x8, "sync"),
    (0x10, "immutable"),
    (0x20, "append"),
    (0x40, "nodump"),
    (0x80, "noatime"),
    (0x100, "dirty"),
    (0x200, "comprblk"),
    (0x400, "nocompr"),
    (0x800, "encrypt"),
    (0x1000, "index"),
    (0x2000, "imagic"),
    (0x4000, "journal_data"),
    (0x8000, "notail"),
    (0x10000, "dirsync"),
    (0x20000, "topdir"),
    (0x40000, "huge_file"),
    (0x80000, "extents"),
    (0x100000, "verity"),
    (0x200000, "ea_inode"),
    (0x2000000, "dax"),
    (0x10000000, "inline_data"),
    (0x20000000, "projinherit"),
    (0x40000000, "casefold"),
];

/// File type from the mode's top bits (S_IFMT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Fifo,
    CharDev,
    Dir,
    BlockDev,
    Regular,
    Symlink,
    Socket,
    Unknown,
}

impl FileType {
    pub fn from_mode(mode: u16) -> FileType {
        match mode & 0xF000 {
            0x1000 => FileType::Fifo,
            0x2000 => FileType::CharDev,
            0x4000 => FileType::Dir,
            0x6000 => FileType::BlockDev,
            0x8000 => FileType::Regular,
            0xA000 => FileType::Symlink,
            0xC000 => FileType::Socket,
            _ => FileType::Unknown,
        }
    }
    /// Directory entry `file_type` byte (EXT4_FT_*).
    pub fn from_dirent(t: u8) -> FileType {
        match t {
            1 => FileType::Regular,
            2 => FileType::Dir,
            3 => FileType::CharDev,
            4 => FileType::BlockDev,
            5 => FileType::Fifo,
            6 => FileType::Socket,
            7 => FileType::Symlink,
            _ => FileType::Unknown,
        }
    }
    /// TSK's one-letter marker (`r`, `d`, `l`, `c`, `b`, `p`, `h`, `-`).
    pub fn tsk_char(self) -> char {
        match self {
            FileType::Regular => 'r',
            FileType::Dir => 'd',
            FileType::Symlink => 'l',
            FileType::CharDev => 'c',
            FileType::BlockDev => 'b',
            FileType::Fifo => 'p',
            FileType::Socket => 'h',
            FileType::Unknown => '-',
        }
    }
    /// `ls -l` style type character.
    pub fn ls_char(self) -> char {
        match self {
            FileType::Regular => '-',
            FileType::Dir => 'd',
            FileType::Symlink => 'l',
            FileType::CharDev => 'c',
            FileType::BlockDev => 'b',
            FileType::Fifo => 'p',
            FileType::Socket => 's',
            FileType::Unknown => '?',
        }
    }
}

/// An inode as stored. `raw` keeps all `s_inode_size` bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Inode {
    pub ino: u32,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime: Timestamp,
    pub ctime: Timestamp,
    pub mtime: Timestamp,
    /// Deletion time (32-bit seconds; also reused as the orphan-list link).
    pub dtime: u32,
    pub crtime: Option<Timestamp>,
    pub links_count: u16,
    /// Raw `i_blocks` (lo + hi); see [`Inode::blocks_bytes`].
    pub blocks: u64,
    pub flags: u32,
    pub version: u64,
    #[serde(skip)]
    pub block: [u8; 60],
    pub generation: u32,
    pub file_acl: u64,
    pub faddr: u32,
    pub extra_isize: u16,
    pub checksum: u32,
    pub projid: u32,
    /// Checksum verdict: `None` when the filesystem has no metadata_csum.
    pub checksum_ok: Option<bool>,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

impl Inode {
    /// Decode an inode record (at least 128 bytes; missing extra fields are
    /// absent rather than garbage).
    pub fn parse(b: &[u8], ino: u32, sb: &Superblock) -> Inode {
        let good_old = b.len() <= 128;
        let extra_isize = if good_old { 0 } else { le16(b, 0x80) };
        // An extra field exists when 128 + extra_isize covers its end.
        let has = |end: usize| !good_old && 128 + extra_isize as usize >= end && b.len() >= end;
        let xt = |off: usize| {
            if has(off + 4) {
                Some(le32(b, off))
            } else {
                None
            }
        };
        let mut block = [0u8; 60];
        block.copy_from_slice(&crate::util::bytes::array::<60>(b, 0x28));
        let blocks_hi = if sb.has_ro_compat(ro_compat::HUGE_FILE) {
            le16(b, 0x74) as u64
        } else {
            0
        };
        let crtime = if has(0x94) {
            Some(Timestamp::from_ext4(le32(b, 0x90), xt(0x94)))
        } else {
            None
        };
        let mut ino_out = Inode {
            ino,
            mode: le16(b, 0x0),
            uid: le16(b, 0x2) as u32 | (le16(b, 0x78) as u32) << 16,
            gid: le16(b, 0x18) as u32 | (le16(b, 0x7A) as u32) << 16,
            size: le32(b, 0x4) as u64 | (le32(b, 0x6C) as u64) << 32,
            atime: Timestamp::from_ext4(le32(b, 0x8), xt(0x8C)),
            ctime: Timestamp::from_ext4(le32(b, 0xC), xt(0x84)),
            mtime: Timestamp::from_ext4(le32(b, 0x10), xt(0x88)),
            dtime: le32(b, 0x14),
            crtime,
            links_count: le16(b, 0x1A),
            blocks: le32(b, 0x1C) as u64 | blocks_hi << 32,
            flags: le32(b, 0x20),
            version: le32(b, 0x24) as u64 | (xt(0x98).unwrap_or(0) as u64) << 32,
            block,
            generation: le32(b, 0x64),
            file_acl: le32(b, 0x68) as u64 | (le16(b, 0x76) as u64) << 32,
            faddr: le32(b, 0x70),
            extra_isize,
            checksum: le16(b, 0x7C) as u32
                | if has(0x84) {
                    (le16(b, 0x82) as u32) << 16
                } else {
                    0
                },
            projid: xt(0x9C).unwrap_or(0),
            checksum_ok: None,
            raw: b.to_vec(),
        };
        ino_out.checksum_ok = ino_out.verify_checksum(sb);
        ino_out
    }

    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode)
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Dir
    }
    pub fn has_flag(&self, f: u32) -> bool {
        self.flags & f != 0
    }
    pub fn perm(&self) -> u16 {
        self.mode & 0o7777
    }
    pub fn flag_names(&self) -> Vec<String> {
        super::superblock::feature_names(self.flags, FLAG_NAMES, "F")
    }

    /// The all-zero record of a never-used inode.
    pub fn is_empty(&self) -> bool {
        self.raw.len() >= 128 && crate::util::bytes::is_zero(slice(&self.raw, 0, 128))
    }

    /// Frees the raw record when nothing still needs it: no inline data
    /// and no in-inode xattr area (magic 0xEA020000 at 128 + i_extra_isize).
    /// Every decoded field stays. For inodes held by the hundred thousand
    /// (deleted inodes during recovery), the 256-byte copies add up.
    pub fn drop_raw_unless_needed(&mut self) {
        if !self.has_inode_xattrs() && !self.has_flag(flags::INLINE_DATA) {
            self.raw = Vec::new();
        }
    }

    /// An in-inode xattr area follows the fixed fields: magic 0xEA020000
    /// at 128 + i_extra_isize.
    pub fn has_inode_xattrs(&self) -> bool {
        let ibody = 128 + self.extra_isize as usize;
        self.raw.len() > 128
            && ibody + 4 <= self.raw.len()
            && crate::util::bytes::le32(&self.raw, ibody) == super::xattr::XATTR_MAGIC
    }

    /// Bytes of storage charged to the inode (`i_blocks` in 512-byte units,
    /// or in filesystem blocks with the HUGE_FILE inode flag).
    pub fn blocks_bytes(&self, sb: &Superblock) -> u64 {
        if sb.has_ro_compat(ro_compat::HUGE_FILE) && self.has_flag(flags::HUGE_FILE) {
            self.blocks.saturating_mul(sb.block_size())
        } else {
            self.blocks.saturating_mul(512)
        }
    }

    /// Device number of a char/block device: old 16-bit encoding in
    /// `i_block[0]`, else the new 32-bit encoding in `i_block[1]`.
    pub fn rdev(&self) -> Option<(u32, u32)> {
        if !matches!(self.file_type(), FileType::CharDev | FileType::BlockDev) {
            return None;
        }
        let old = le32(&self.block, 0);
        if old != 0 {
            return Some(((old >> 8) & 0xff, old & 0xff));
        }
        let new = le32(&self.block, 4);
        Some(((new >> 8) & 0xfff, (new & 0xff) | ((new >> 12) & 0xfff00)))
    }

    /// A 0/0 character device: overlayfs's whiteout.
    pub fn is_whiteout_device(&self) -> bool {
        self.file_type() == FileType::CharDev && self.rdev() == Some((0, 0))
    }

    /// Per-inode checksum seed: crc32c(fs seed, inum, generation).
    pub fn csum_seed(ino: u32, generation: u32, sb: &Superblock) -> u32 {
        let c = crc32c_update(sb.csum_seed(), &ino.to_le_bytes());
        crc32c_update(c, &generation.to_le_bytes())
    }

    fn verify_checksum(&self, sb: &Superblock) -> Option<bool> {
        if !sb.metadata_csum() {
            return None;
        }
        let b = &self.raw;
        if b.len() < 128 {
            return Some(false);
        }
        let seed = Inode::csum_seed(self.ino, self.generation, sb);
        let mut c = crc32c_update(seed, &b[..0x7C]);
        c = crc32c_update(c, &[0, 0]);
        c = crc32c_update(c, &b[0x7E..0x80]);
        let has_hi = b.len() > 128 && 128 + self.extra_isize as usize >= 0x84;
        if b.len() > 128 {
            c = crc32c_update(c, &b[0x80..0x82]);
            if has_hi {
                c = crc32c_update(c, &[0, 0]);
                c = crc32c_update(c, &b[0x84..]);
            } else {
                c = crc32c_update(c, &b[0x82..]);
            }
        }
        let want = if has_hi { c } else { c & 0xFFFF };
        Some(want == self.checksum)
    }

    /// `rwxr-xr-x`-style permissions with the type char in front.
    pub fn mode_string(&self) -> String {
        mode_string(self.mode)
    }
}

/// `ls -l` style mode string for a raw mode.
pub fn mode_string(mode: u16) -> String {
    mode_bytes(mode).iter().map(|&b| b as char).collect()
}

/// `ls -l` style mode as ASCII bytes: type, then rwx triplets with the
/// setuid, setgid and sticky letters.
pub fn mode_bytes(mode: u16) -> [u8; 10] {
    let mut s = [b'-'; 10];
    s[0] = FileType::from_mode(mode).ls_char() as u8;
    const BITS: [(u16, u8); 9] = [
        (0o400, b'r'),
        (0o200, b'w'),
        (0o100, b'x'),
        (0o040, b'r'),
        (0o020, b'w'),
        (0o010, b'x'),
        (0o004, b'r'),
        (0o002, b'w'),
        (0o001, b'x'),
    ];
    for (i, &(b, c)) in BITS.iter().enumerate() {
        let set = mode & b != 0;
        let special = match i {
            2 => (mode & 0o4000 != 0).then_some(b's'),
            5 => (mode & 0o2000 != 0).then_some(b's'),
            8 => (mode & 0o1000 != 0).then_some(b't'),
            _ => None,
        };
        s[i + 1] = match special {
            Some(l) if set => l,
            Some(l) => l.to_ascii_uppercase(),
            None if set => c,
            None => b'-',
        };
    }
    s
}

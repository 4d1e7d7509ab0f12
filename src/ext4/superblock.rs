//! The ext4 superblock (1024 bytes at byte 1024 of the filesystem, with
//! backups at the start of groups 1, 3^n, 5^n, 7^n under sparse_super).
//! Field offsets follow the kernel's `struct ext4_super_block`.

use crate::util::bytes::{array, cstr, le16, le32, le64, u8_at, uuid};
use crate::util::crc::crc32c_update;
use crate::util::time::Timestamp;
use serde::Serialize;

pub const SUPERBLOCK_OFFSET: u64 = 1024;
pub const SUPERBLOCK_SIZE: usize = 1024;
pub const EXT4_MAGIC: u16 = 0xEF53;

pub mod compat {
    pub const DIR_PREALLOC: u32 = 0x1;
    pub const IMAGIC_INODES: u32 = 0x2;
    pub const HAS_JOURNAL: u32 = 0x4;
    pub const EXT_ATTR: u32 = 0x8;
    pub const RESIZE_INODE: u32 = 0x10;
    pub const DIR_INDEX: u32 = 0x20;
    pub const LAZY_BG: u32 = 0x40;
    pub const EXCLUDE_BITMAP: u32 = 0x100;
    pub const SPARSE_SUPER2: u32 = 0x200;
    pub const FAST_COMMIT: u32 = 0x400;
    pub const STABLE_INODES: u32 = 0x800;
    pub const ORPHAN_FILE: u32 = 0x1000;
}
pub mod incompat {
    pub const COMPRESSION: u32 = 0x1;
    pub const FILETYPE: u32 = 0x2;
    pub const RECOVER: u32 = 0x4;
    pub const JOURNAL_DEV: u32 = 0x8;
    pub const META_BG: u32 = 0x10;
    pub const EXTENTS: u32 = 0x40;
    pub const BIT64: u32 = 0x80;
    pub const MMP: u32 = 0x100;
    pub const FLEX_BG: u32 = 0x200;
    pub const EA_INODE: u32 = 0x400;
    pub const DIRDATA: u32 = 0x1000;
    pub const CSUM_SEED: u32 = 0x2000;
    pub const LARGEDIR: u32 = 0x4000;
    pub const INLINE_DATA: u32 = 0x8000;
    pub const ENCRYPT: u32 = 0x10000;
    pub const CASEFOLD: u32 = 0x20000;
}
pub mod ro_compat {
    pub const SPARSE_SUPER: u32 = 0x1;
    pub const LARGE_FILE: u32 = 0x2;
    pub const BTREE_DIR: u32 = 0x4;
    pub const HUGE_FILE: u32 = 0x8;
    pub const GDT_CSUM: u32 = 0x10;
    pub const DIR_NLINK: u32 = 0x20;
    pub const EXTRA_ISIZE: u32 = 0x40;
    pub const HAS_SNAPSHOT: u32 = 0x80;
    pub const QUOTA: u32 = 0x100;
    pub const BIGALLOC: u32 = 0x200;
    pub const METADATA_CSUM: u32 = 0x400;
    pub const REPLICA: u32 = 0x800;
    pub const READONLY: u32 = 0x1000;
    pub const PROJECT: u32 = 0x2000;
    pub const SHARED_BLOCKS: u32 = 0x4000;
    pub const VERITY: u32 = 0x8000;
    pub const ORPHAN_PRESENT: u32 = 0x10000;
}

const COMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "dir_prealloc"),
    (0x2, "imagic_inodes"),
    (0x4, "has_journal"),
    (0x8, "ext_attr"),
    (0x10, "resize_inode"),
    (0x20, "dir_index"),
    (0x40, "lazy_bg"),
    (0x100, "exclude_bitmap"),
    (0x200, "sparse_super2"),
    (0x400, "fast_commit"),
    (0x800, "stable_inodes"),
    (0x1000, "orphan_file"),
];
const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "compression"),
    (0x2, "filetype"),
    (0x4, "needs_recovery"),
    (0x8, "journal_dev"),
    (0x10, "meta_bg"),
    (0x40, "extent"),
    (0x80, "64bit"),
    (0x100, "mmp"),
    (0x200, "flex_bg"),
    (0x400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];
const RO_COMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "sparse_super"),
    (0x2, "large_file"),
    (0x4, "btree_dir"),
    (0x8, "huge_file"),
    (0x10, "uninit_bg"),
    (0x20, "dir_nlink"),
    (0x40, "extra_isize"),
    (0x80, "snapshot"),
    (0x100, "quota"),
    (0x200, "bigalloc"),
    (0x400, "metadata_csum"),
    (0x800, "replica"),
    (0x1000, "read-only"),
    (0x2000, "project"),
    (0x4000, "shared_blocks"),
    (0x8000, "verity"),
    (0x10000, "orphan_present"),
];

/// Names of the set bits; unknown bits are shown as `FEATURE_X0x...`.
pub fn feature_names(bits: u32, table: &[(u32, &str)], prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = bits;
    for &(b, n) in table {
        if bits & b != 0 {
            out.push(n.to_string());
            rest &= !b;
        }
    }
    for i in 0..32 {
        if rest & (1 << i) != 0 {
            out.push(format!("FEATURE_{prefix}{i}"));
        }
    }
    out
}

/// Every field of `struct ext4_super_block`, decoded. `raw` keeps the bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u64,
    pub r_blocks_count: u64,
    pub free_blocks_count: u64,
    pub free_inodes_count: u32,
    pub first_data_block: u32,
    pub log_block_size: u32,
    pub log_cluster_size: u32,
    pub blocks_per_group: u32,
    pub clusters_per_group: u32,
    pub inodes_per_group: u32,
    pub mtime: Timestamp,
    pub wtime: Timestamp,
    pub mnt_count: u16,
    pub max_mnt_count: i16,
    pub magic: u16,
    pub state: u16,
    pub errors: u16,
    pub minor_rev_level: u16,
    pub lastcheck: Timestamp,
    pub checkinterval: u32,
    pub creator_os: u32,
    pub rev_level: u32,
    pub def_resuid: u16,
    pub def_resgid: u16,
    pub first_ino: u32,
    pub inode_size: u16,
    pub block_group_nr: u16,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    pub uuid: [u8; 16],
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub volume_name: Vec<u8>,
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub last_mounted: Vec<u8>,
    pub algorithm_usage_bitmap: u32,
    pub prealloc_blocks: u8,
    pub prealloc_dir_blocks: u8,
    pub reserved_gdt_blocks: u16,
    pub journal_uuid: [u8; 16],
    pub journal_inum: u32,
    pub journal_dev: u32,
    pub last_orphan: u32,
    pub hash_seed: [u32; 4],
    pub def_hash_version: u8,
    pub jnl_backup_type: u8,
    pub desc_size: u16,
    pub default_mount_opts: u32,
    pub first_meta_bg: u32,
    pub mkfs_time: Timestamp,
    pub jnl_blocks: [u32; 17],
    pub min_extra_isize: u16,
    pub want_extra_isize: u16,
    pub flags: u32,
    pub raid_stride: u16,
    pub mmp_interval: u16,
    pub mmp_block: u64,
    pub raid_stripe_width: u32,
    pub log_groups_per_flex: u8,
    pub checksum_type: u8,
    pub encryption_level: u8,
    pub kbytes_written: u64,
    pub snapshot_inum: u32,
    pub snapshot_id: u32,
    pub snapshot_r_blocks_count: u64,
    pub snapshot_list: u32,
    pub error_count: u32,
    pub first_error_time: Timestamp,
    pub first_error_ino: u32,
    pub first_error_block: u64,
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub first_error_func: Vec<u8>,
    pub first_error_line: u32,
    pub last_error_time: Timestamp,
    pub last_error_ino: u32,
    pub last_error_line: u32,
    pub last_error_block: u64,
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub last_error_func: Vec<u8>,
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub mount_opts: Vec<u8>,
    pub usr_quota_inum: u32,
    pub grp_quota_inum: u32,
    pub overhead_clusters: u32,
    pub backup_bgs: [u32; 2],
    pub encrypt_algos: [u8; 4],
    pub lpf_ino: u32,
    pub prj_quota_inum: u32,
    pub checksum_seed: u32,
    pub first_error_errcode: u8,
    pub last_error_errcode: u8,
    pub encoding: u16,
    pub encoding_flags: u16,
    pub orphan_file_inum: u32,
    pub checksum: u32,
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// crc32c(~0, uuid), worked out once: every inode, directory block and
    /// bitmap checksum starts from it.
    #[serde(skip)]
    uuid_seed: u32,
}

fn t_hi(lo: u32, hi: u8) -> Timestamp {
    // Superblock times: 32-bit seconds plus an 8-bit high byte (bits 32-39).
    Timestamp::new(lo as i64 | ((hi as i64) << 32), 0)
}

impl Superblock {
    /// Decode 1024 bytes. Does not validate beyond what decoding needs;
    /// see [`Superblock::sanity`].
    pub fn parse(b: &[u8]) -> Superblock {
        let incompat = le32(b, 0x60);
        let is64 = incompat & incompat::BIT64 != 0;
        let hi = |off: usize| if is64 { (le32(b, off) as u64) << 32 } else { 0 };
        let mut jnl_blocks = [0u32; 17];
        for (i, j) in jnl_blocks.iter_mut().enumerate() {
            *j = le32(b, 0x10C + 4 * i);
        }
        Superblock {
            inodes_count: le32(b, 0x0),
            blocks_count: le32(b, 0x4) as u64 | hi(0x150),
            r_blocks_count: le32(b, 0x8) as u64 | hi(0x154),
            free_blocks_count: le32(b, 0xC) as u64 | hi(0x158),
            free_inodes_count: le32(b, 0x10),
            first_data_block: le32(b, 0x14),
            log_block_size: le32(b, 0x18),
            log_cluster_size: le32(b, 0x1C),
            blocks_per_group: le32(b, 0x20),
            clusters_per_group: le32(b, 0x24),
            inodes_per_group: le32(b, 0x28),
            mtime: t_hi(le32(b, 0x2C), u8_at(b, 0x275)),
            wtime: t_hi(le32(b, 0x30), u8_at(b, 0x274)),
            mnt_count: le16(b, 0x34),
            max_mnt_count: le16(b, 0x36) as i16,
            magic: le16(b, 0x38),
            state: le16(b, 0x3A),
            errors: le16(b, 0x3C),
            minor_rev_level: le16(b, 0x3E),
            lastcheck: t_hi(le32(b, 0x40), u8_at(b, 0x277)),
            checkinterval: le32(b, 0x44),
            creator_os: le32(b, 0x48),
            rev_level: le32(b, 0x4C),
            def_resuid: le16(b, 0x50),
            def_resgid: le16(b, 0x52),
            first_ino: le32(b, 0x54),
            inode_size: le16(b, 0x58),
            block_group_nr: le16(b, 0x5A),
            feature_compat: le32(b, 0x5C),
            feature_incompat: incompat,
            feature_ro_compat: le32(b, 0x64),
            uuid: array(b, 0x68),
            volume_name: cstr(b, 0x78, 16),
            last_mounted: cstr(b, 0x88, 64),
            algorithm_usage_bitmap: le32(b, 0xC8),
            prealloc_blocks: u8_at(b, 0xCC),
            prealloc_dir_blocks: u8_at(b, 0xCD),
            reserved_gdt_blocks: le16(b, 0xCE),
            journal_uuid: array(b, 0xD0),
            journal_inum: le32(b, 0xE0),
            journal_dev: le32(b, 0xE4),
            last_orphan: le32(b, 0xE8),
            hash_seed: [le32(b, 0xEC), le32(b, 0xF0), le32(b, 0xF4), le32(b, 0xF8)],
            def_hash_version: u8_at(b, 0xFC),
            jnl_backup_type: u8_at(b, 0xFD),
            desc_size: le16(b, 0xFE),
            default_mount_opts: le32(b, 0x100),
            first_meta_bg: le32(b, 0x104),
            mkfs_time: t_hi(le32(b, 0x108), u8_at(b, 0x276)),
            jnl_blocks,
            min_extra_isize: le16(b, 0x15C),
            want_extra_isize: le16(b, 0x15E),
            flags: le32(b, 0x160),
            raid_stride: le16(b, 0x164),
            mmp_interval: le16(b, 0x166),
            mmp_block: le64(b, 0x168),
            raid_stripe_width: le32(b, 0x170),
            log_groups_per_flex: u8_at(b, 0x174),
            checksum_type: u8_at(b, 0x175),
            encryption_level: u8_at(b, 0x176),
            kbytes_written: le64(b, 0x178),
            snapshot_inum: le32(b, 0x180),
            snapshot_id: le32(b, 0x184),
            snapshot_r_blocks_count: le64(b, 0x188),
            snapshot_list: le32(b, 0x190),
            error_count: le32(b, 0x194),
            first_error_time: t_hi(le32(b, 0x198), u8_at(b, 0x278)),
            first_error_ino: le32(b, 0x19C),
            first_error_block: le64(b, 0x1A0),
            first_error_func: cstr(b, 0x1A8, 32),
            first_error_line: le32(b, 0x1C8),
            last_error_time: t_hi(le32(b, 0x1CC), u8_at(b, 0x279)),
            last_error_ino: le32(b, 0x1D0),
            last_error_line: le32(b, 0x1D4),
            last_error_block: le64(b, 0x1D8),
            last_error_func: cstr(b, 0x1E0, 32),
            mount_opts: cstr(b, 0x200, 64),
            usr_quota_inum: le32(b, 0x240),
            grp_quota_inum: le32(b, 0x244),
            overhead_clusters: le32(b, 0x248),
            backup_bgs: [le32(b, 0x24C), le32(b, 0x250)],
            encrypt_algos: array(b, 0x254),
            lpf_ino: le32(b, 0x268),
            prj_quota_inum: le32(b, 0x26C),
            checksum_seed: le32(b, 0x270),
            first_error_errcode: u8_at(b, 0x27A),
            last_error_errcode: u8_at(b, 0x27B),
            encoding: le16(b, 0x27C),
            encoding_flags: le16(b, 0x27E),
            orphan_file_inum: le32(b, 0x280),
            checksum: le32(b, 0x3FC),
            raw: b.get(..SUPERBLOCK_SIZE).unwrap_or(b).to_vec(),
            uuid_seed: crc32c_update(!0, &array::<16>(b, 0x68)),
        }
    }

    pub fn has_compat(&self, f: u32) -> bool {
        self.feature_compat & f != 0
    }
    pub fn has_incompat(&self, f: u32) -> bool {
        self.feature_incompat & f != 0
    }
    pub fn has_ro_compat(&self, f: u32) -> bool {
        self.feature_ro_compat & f != 0
    }
    pub fn metadata_csum(&self) -> bool {
        self.has_ro_compat(ro_compat::METADATA_CSUM)
    }
    pub fn is_64bit(&self) -> bool {
        self.has_incompat(incompat::BIT64)
    }

    /// Block size in bytes (1 KiB to 64 KiB). Only valid after [`sanity`].
    pub fn block_size(&self) -> u64 {
        1024u64 << self.log_block_size.min(6)
    }
    pub fn cluster_size(&self) -> u64 {
        if self.has_ro_compat(ro_compat::BIGALLOC) {
            1024u64 << self.log_cluster_size.min(12)
        } else {
            self.block_size()
        }
    }
    pub fn inode_size(&self) -> u64 {
        if self.rev_level == 0 {
            128
        } else {
            self.inode_size as u64
        }
    }
    /// Group descriptor size: 32, or `s_desc_size` (>= 64) with 64bit.
    pub fn desc_size(&self) -> u64 {
        if self.is_64bit() && self.desc_size >= 64 {
            self.desc_size as u64
        } else {
            32
        }
    }
    pub fn group_count(&self) -> u64 {
        let bpg = self.blocks_per_group.max(1) as u64;
        self.blocks_count
            .saturating_sub(self.first_data_block as u64)
            .div_ceil(bpg)
    }
    pub fn label(&self) -> String {
        crate::util::escape::escape_bytes(&self.volume_name)
    }
    pub fn uuid_string(&self) -> String {
        uuid(&self.uuid)
    }

    /// The seed for every metadata checksum (`s_checksum_seed` with
    /// metadata_csum_seed, else crc32c(~0, uuid)).
    pub fn csum_seed(&self) -> u32 {
        if self.has_incompat(incompat::CSUM_SEED) {
            self.checksum_seed
        } else {
            self.uuid_seed
        }
    }

    /// `Some(true/false)` when metadata_csum is on, else `None`.
    pub fn verify_checksum(&self) -> Option<bool> {
        if !self.metadata_csum() || self.raw.len() < SUPERBLOCK_SIZE {
            return None;
        }
        Some(crc32c_update(!0, &self.raw[..0x3FC]) == self.checksum)
    }

    /// Checks that make the geometry safe to use. Returns the reason when not.
    pub fn sanity(&self, device_size: u64) -> Result<(), String> {
        if self.magic != EXT4_MAGIC {
            return Err(format!("bad magic 0x{:04x} (want 0xef53)", self.magic));
        }
        if self.log_block_size > 6 {
            return Err(format!(
                "block size 2^(10+{}) is out of range",
                self.log_block_size
            ));
        }
        if self.blocks_per_group == 0 || self.inodes_per_group == 0 {
            return Err("zero blocks or inodes per group".into());
        }
        let bs = self.block_size();
        if self.blocks_per_group as u64 > bs * 8 * 16 {
            return Err(format!(
                "{} blocks per group is implausible",
                self.blocks_per_group
            ));
        }
        if self.inodes_per_group as u64 > bs * 8 {
            return Err(format!(
                "{} inodes per group exceeds one bitmap block",
                self.inodes_per_group
            ));
        }
        let isz = self.inode_size();
        if isz < 128 || isz > bs || !isz.is_power_of_two() {
            return Err(format!("inode size {isz} is invalid"));
        }
        if self.blocks_count == 0 || self.blocks_count <= self.first_data_block as u64 {
            return Err("block count is zero".into());
        }
        if self.first_data_block > 1 {
            return Err(format!(
                "first data block {} is invalid",
                self.first_data_block
            ));
        }
        if self.is_64bit()
            && self.desc_size != 0
            && (self.desc_size < 32
                || !self.desc_size.is_power_of_two()
                || self.desc_size as u64 > bs)
        {
            return Err(format!("descriptor size {} is invalid", self.desc_size));
        }
        let groups = self.group_count();
        if (self.inodes_count as u64) > groups * self.inodes_per_group as u64 {
            return Err("inode count exceeds groups × inodes per group".into());
        }
        // A filesystem may be larger than a truncated image; that is reported
        // by the caller, not rejected here.
        let _ = device_size;
        Ok(())
    }

    pub fn compat_names(&self) -> Vec<String> {
        feature_names(self.feature_compat, COMPAT_NAMES, "C")
    }
    pub fn incompat_names(&self) -> Vec<String> {
        feature_names(self.feature_incompat, INCOMPAT_NAMES, "I")
    }
    pub fn ro_compat_names(&self) -> Vec<String> {
        feature_names(self.feature_ro_compat, RO_COMPAT_NAMES, "R")
    }

    /// Whether group `g` holds a superblock backup (and so a GDT copy).
    pub fn group_has_super(&self, g: u64) -> bool {
        if g == 0 {
            return true;
        }
        if self.has_compat(compat::SPARSE_SUPER2) {
            return g == self.backup_bgs[0] as u64 || g == self.backup_bgs[1] as u64;
        }
        if !self.has_ro_compat(ro_compat::SPARSE_SUPER) || g == 1 {
            return true;
        }
        for base in [3u64, 5, 7] {
            let mut p = base;
            while p < g {
                p = p.saturating_mul(base);
            }
            if p == g {
                return true;
            }
        }
        false
    }

    pub fn state_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.state & 1 != 0 {
            v.push("clean");
        } else {
            v.push("not clean");
        }
        if self.state & 2 != 0 {
            v.push("errors");
        }
        if self.state & 4 != 0 {
            v.push("orphans being recovered");
        }
        v
    }

    pub fn creator_os_name(&self) -> &'static str {
        match self.creator_os {
            0 => "Linux",
            1 => "Hurd",
            2 => "Masix",
            3 => "FreeBSD",
            4 => "Lites",
            _ => "unknown",
        }
    }
}

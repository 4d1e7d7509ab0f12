//! The journal superblock (`journal_superblock_t`), its features and
//! the journal's constants. All fields are big-endian.

use crate::ext4::superblock::feature_names;
use crate::util::bytes::{array, be32, u8_at, uuid};
use crate::util::crc::crc32c_update;
use serde::{Serialize, Serializer};

/// `JBD2_MAGIC_NUMBER`, the first 4 bytes of every journal metadata block.
pub const JBD2_MAGIC: u32 = 0xC03B_3998;
/// `journal_header_t`: magic, blocktype, sequence.
pub const HEADER_SIZE: usize = 12;
/// `jbd2_journal_block_tail` at the end of descriptor and revoke blocks.
pub const TAIL_SIZE: usize = 4;
/// The journal superblock structure is 1024 bytes.
pub const JSB_SIZE: usize = 1024;
/// Largest ring we scan (jbd2 journals are at most 10,240,000 blocks).
pub const MAX_RING_BLOCKS: u64 = 1 << 24;
/// `JBD2_DEFAULT_FAST_COMMIT_BLOCKS` when `s_num_fc_blks` is 0.
pub const DEFAULT_FC_BLOCKS: u32 = 256;
/// Warnings kept per journal (the rest are counted).
pub(super) const MAX_WARNINGS: usize = 10_000;
/// Blocks read at once by the header pass.
pub(super) const SCAN_CHUNK_BLOCKS: u64 = 64;

/// `h_blocktype` values.
pub mod blocktype {
    pub const DESCRIPTOR: u32 = 1;
    pub const COMMIT: u32 = 2;
    pub const SUPERBLOCK_V1: u32 = 3;
    pub const SUPERBLOCK_V2: u32 = 4;
    pub const REVOKE: u32 = 5;
}

/// Journal superblock feature bits.
pub mod feature {
    pub const COMPAT_CHECKSUM: u32 = 0x1;
    pub const INCOMPAT_REVOKE: u32 = 0x1;
    pub const INCOMPAT_64BIT: u32 = 0x2;
    pub const INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
    pub const INCOMPAT_CSUM_V2: u32 = 0x8;
    pub const INCOMPAT_CSUM_V3: u32 = 0x10;
    pub const INCOMPAT_FAST_COMMIT: u32 = 0x20;
}

/// Descriptor tag flags (`t_flags`).
pub mod tag_flag {
    /// The data block began with the jbd2 magic, which was zeroed.
    pub const ESCAPE: u32 = 0x1;
    /// No 16-byte UUID follows the tag.
    pub const SAME_UUID: u32 = 0x2;
    pub const DELETED: u32 = 0x4;
    pub const LAST_TAG: u32 = 0x8;
}

const JCOMPAT_NAMES: &[(u32, &str)] = &[(0x1, "journal_checksum")];
const JINCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "journal_incompat_revoke"),
    (0x2, "journal_64bit"),
    (0x4, "journal_async_commit"),
    (0x8, "journal_checksum_v2"),
    (0x10, "journal_checksum_v3"),
    (0x20, "journal_fast_commit"),
];

fn ser_uuid<S: Serializer>(u: &[u8; 16], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&uuid(u))
}
fn ser_uuids<S: Serializer>(u: &[[u8; 16]], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(u.iter().map(uuid))
}

/// `journal_superblock_t`, v1 or v2, every field decoded. v1 superblocks
/// end after `s_errno`: the later fields are reported as 0.
#[derive(Clone, Debug, Serialize)]
pub struct JournalSuperblock {
    pub magic: u32,
    /// 3 (v1) or 4 (v2).
    pub blocktype: u32,
    pub header_sequence: u32,
    pub block_size: u32,
    pub max_len: u32,
    pub first: u32,
    /// First transaction expected in the log (`s_sequence`).
    pub sequence: u32,
    /// Journal block of the log start; 0 when the log is empty (clean).
    pub start: u32,
    pub errno: i32,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    #[serde(serialize_with = "ser_uuid")]
    pub uuid: [u8; 16],
    pub nr_users: u32,
    pub dynsuper: u32,
    pub max_transaction: u32,
    pub max_trans_data: u32,
    pub checksum_type: u8,
    pub num_fc_blocks: u32,
    pub head: u32,
    pub checksum: u32,
    /// crc32c verdict with csum v2/v3, else `None`.
    pub checksum_ok: Option<bool>,
    /// `s_users`: the first `min(nr_users, 48)` filesystem UUIDs.
    #[serde(serialize_with = "ser_uuids")]
    pub users: Vec<[u8; 16]>,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

impl JournalSuperblock {
    /// Decode a journal superblock from the start of journal block 0.
    pub fn parse(b: &[u8]) -> JournalSuperblock {
        let blocktype = be32(b, 0x4);
        let v2 = blocktype == blocktype::SUPERBLOCK_V2;
        let v2f = |off: usize| if v2 { be32(b, off) } else { 0 };
        let nr_users = v2f(0x40);
        let mut users = Vec::new();
        if v2 {
            for i in 0..(nr_users.min(48) as usize) {
                users.push(array::<16>(b, 0x100 + 16 * i));
            }
        }
        let mut sb = JournalSuperblock {
            magic: be32(b, 0x0),
            blocktype,
            header_sequence: be32(b, 0x8),
            block_size: be32(b, 0xC),
            max_len: be32(b, 0x10),
            first: be32(b, 0x14),
            sequence: be32(b, 0x18),
            start: be32(b, 0x1C),
            errno: be32(b, 0x20) as i32,
            feature_compat: v2f(0x24),
            feature_incompat: v2f(0x28),
            feature_ro_compat: v2f(0x2C),
            uuid: if v2 { array::<16>(b, 0x30) } else { [0; 16] },
            nr_users,
            dynsuper: v2f(0x44),
            max_transaction: v2f(0x48),
            max_trans_data: v2f(0x4C),
            checksum_type: if v2 { u8_at(b, 0x50) } else { 0 },
            num_fc_blocks: v2f(0x54),
            head: v2f(0x58),
            checksum: v2f(0xFC),
            checksum_ok: None,
            users,
            raw: b.get(..JSB_SIZE).unwrap_or(b).to_vec(),
        };
        if sb.csum_v2or3() {
            sb.checksum_ok = Some(match sb.raw.get(..JSB_SIZE) {
                Some(r) => {
                    let mut c = crc32c_update(!0, &r[..0xFC]);
                    c = crc32c_update(c, &[0; 4]);
                    c = crc32c_update(c, &r[0x100..]);
                    c == sb.checksum
                }
                None => false,
            });
        }
        sb
    }

    pub fn valid_magic(&self) -> bool {
        self.magic == JBD2_MAGIC
            && (self.blocktype == blocktype::SUPERBLOCK_V1
                || self.blocktype == blocktype::SUPERBLOCK_V2)
    }
    /// 1 or 2 (0 if the block type is neither).
    pub fn version(&self) -> u8 {
        match self.blocktype {
            blocktype::SUPERBLOCK_V1 => 1,
            blocktype::SUPERBLOCK_V2 => 2,
            _ => 0,
        }
    }
    pub fn has_incompat(&self, f: u32) -> bool {
        self.feature_incompat & f != 0
    }
    pub fn is_64bit(&self) -> bool {
        self.has_incompat(feature::INCOMPAT_64BIT)
    }
    pub fn csum_v2(&self) -> bool {
        self.has_incompat(feature::INCOMPAT_CSUM_V2)
    }
    pub fn csum_v3(&self) -> bool {
        self.has_incompat(feature::INCOMPAT_CSUM_V3)
    }
    pub fn csum_v2or3(&self) -> bool {
        self.csum_v2() || self.csum_v3()
    }
    /// v1 commit-block checksums (`JBD2_FEATURE_COMPAT_CHECKSUM`).
    pub fn compat_checksum(&self) -> bool {
        self.feature_compat & feature::COMPAT_CHECKSUM != 0
    }
    /// Bytes per descriptor tag, as the kernel's `journal_tag_bytes()`:
    /// 16 with csum v3; else 12 (64bit) or 8, plus 2 with csum v2.
    pub fn tag_size(&self) -> usize {
        if self.csum_v3() {
            return 16;
        }
        let mut sz = 12;
        if self.csum_v2() {
            sz += 2;
        }
        if self.is_64bit() {
            sz
        } else {
            sz - 4
        }
    }
    /// Blocks reserved for fast commits at the end of the journal.
    pub fn fast_commit_blocks(&self) -> u32 {
        if self.has_incompat(feature::INCOMPAT_FAST_COMMIT) {
            if self.num_fc_blocks == 0 {
                DEFAULT_FC_BLOCKS
            } else {
                self.num_fc_blocks
            }
        } else {
            0
        }
    }
    /// `crc32c(~0, s_uuid)`, the seed of every csum v2/v3 checksum.
    pub fn csum_seed(&self) -> u32 {
        crc32c_update(!0, &self.uuid)
    }
    pub fn compat_names(&self) -> Vec<String> {
        feature_names(self.feature_compat, JCOMPAT_NAMES, "JC")
    }
    pub fn incompat_names(&self) -> Vec<String> {
        feature_names(self.feature_incompat, JINCOMPAT_NAMES, "JI")
    }
    pub fn ro_compat_names(&self) -> Vec<String> {
        feature_names(self.feature_ro_compat, &[], "JR")
    }
    pub fn checksum_type_name(&self) -> &'static str {
        match self.checksum_type {
            0 => "none",
            1 => "crc32",
            2 => "md5",
            3 => "sha1",
            4 => "crc32c",
            _ => "unknown",
        }
    }
    pub fn uuid_string(&self) -> String {
        uuid(&self.uuid)
    }
}

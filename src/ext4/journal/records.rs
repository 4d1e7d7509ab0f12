//! What the ring scan finds: transactions, their logged blocks and
//! commit blocks.

use crate::util::time::Timestamp;
use serde::Serialize;

/// A commit block (`struct commit_header`).
#[derive(Clone, Debug, Serialize)]
pub struct JournalCommit {
    pub journal_block: u64,
    /// `h_commit_sec` / `h_commit_nsec`.
    pub time: Timestamp,
    pub checksum_type: u8,
    pub checksum_size: u8,
    /// `h_chksum[0]`.
    pub checksum: u32,
    /// csum v2/v3: crc32c of the block. `None` without csum v2/v3 (v1
    /// `journal_checksum` commit checksums are not verified).
    pub checksum_ok: Option<bool>,
}

/// One filesystem block copy logged by a descriptor tag.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedBlock {
    pub sequence: u32,
    /// Filesystem block this is a copy of.
    pub fs_block: u64,
    /// Journal (logical) block holding the copy.
    pub journal_block: u64,
    /// Raw `t_flags`.
    pub tag_flags: u32,
    /// The copy's first 4 bytes were the jbd2 magic (restored on read).
    pub escaped: bool,
    pub deleted_flag: bool,
    /// csum v2/v3 tag checksum verdict; `None` without checksums or when
    /// the block could not be read.
    pub checksum_ok: Option<bool>,
    /// The copy is not where the descriptor says: a later header
    /// overwrote it, or it lies past the surviving log.
    pub missing: bool,
}

/// One transaction as found in the ring.
#[derive(Clone, Debug, Serialize)]
pub struct JournalTransaction {
    pub sequence: u32,
    /// Journal blocks of its descriptor blocks, in log order.
    pub descriptor_blocks: Vec<u64>,
    /// Journal blocks of its revoke blocks.
    pub revoke_blocks: Vec<u64>,
    pub blocks: Vec<LoggedBlock>,
    /// Filesystem blocks revoked by this transaction.
    pub revoked: Vec<u64>,
    pub commit: Option<JournalCommit>,
    /// Descriptor and revoke block tail checksums (csum v2/v3): all good,
    /// any bad, or `None` without checksums.
    pub descriptor_checksums_ok: Option<bool>,
    /// A commit block was found after the transaction's descriptor/revoke
    /// blocks and every logged data block is present.
    pub complete: bool,
    /// Part of the live log the kernel would replay (from `s_start` with
    /// `s_sequence` onward); false for older history.
    pub in_live_log: bool,
}

impl JournalTransaction {
    pub(super) fn new(sequence: u32) -> Self {
        JournalTransaction {
            sequence,
            descriptor_blocks: Vec::new(),
            revoke_blocks: Vec::new(),
            blocks: Vec::new(),
            revoked: Vec::new(),
            commit: None,
            descriptor_checksums_ok: None,
            complete: false,
            in_live_log: false,
        }
    }
}

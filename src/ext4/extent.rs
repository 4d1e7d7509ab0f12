//! Extent trees (`ext4_extent_header`, `ext4_extent_idx`, `ext4_extent`).
//!
//! The parsers here work on raw byte slices so that recovery can walk trees
//! the live inode no longer describes (a deleted depth>=1 inode keeps its
//! index entries with `eh_entries = 0`; see ext4-deletion-facts.md).

use crate::util::bytes::{le16, le32};
use serde::Serialize;

pub const EXTENT_MAGIC: u16 = 0xF30A;
/// ext4 never builds trees deeper than 5 (EXT4_MAX_EXTENT_DEPTH).
pub const MAX_DEPTH: u16 = 5;
/// An extent longer than this is an unwritten (preallocated) extent.
pub const INIT_MAX_LEN: u16 = 32768;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtentHeader {
    pub magic: u16,
    pub entries: u16,
    pub max: u16,
    pub depth: u16,
    pub generation: u32,
}

impl ExtentHeader {
    pub fn parse(b: &[u8]) -> ExtentHeader {
        ExtentHeader {
            magic: le16(b, 0),
            entries: le16(b, 2),
            max: le16(b, 4),
            depth: le16(b, 6),
            generation: le32(b, 8),
        }
    }
    pub fn valid_magic(&self) -> bool {
        self.magic == EXTENT_MAGIC
    }
}

/// An interior entry: covers logical blocks from `block`, child at `leaf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtentIndex {
    pub block: u32,
    pub leaf: u64,
}

impl ExtentIndex {
    pub fn parse(b: &[u8]) -> ExtentIndex {
        ExtentIndex {
            block: le32(b, 0),
            leaf: le32(b, 4) as u64 | (le16(b, 8) as u64) << 32,
        }
    }
}

/// A leaf entry: `len` blocks from logical `block` at physical `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtentLeaf {
    pub block: u32,
    pub len: u16,
    pub unwritten: bool,
    pub start: u64,
}

impl ExtentLeaf {
    pub fn parse(b: &[u8]) -> ExtentLeaf {
        let raw_len = le16(b, 4);
        let (len, unwritten) = if raw_len > INIT_MAX_LEN {
            (raw_len - INIT_MAX_LEN, true)
        } else {
            (raw_len, false)
        };
        ExtentLeaf {
            block: le32(b, 0),
            len,
            unwritten,
            start: le32(b, 8) as u64 | (le16(b, 6) as u64) << 32,
        }
    }
}

/// One node of a tree: header plus its entries (bounded by the slice and
/// by `max`, whichever is smaller; `entries` beyond that is corruption).
#[derive(Clone, Debug)]
pub struct ExtentNode {
    pub header: ExtentHeader,
    pub indexes: Vec<ExtentIndex>,
    pub leaves: Vec<ExtentLeaf>,
    /// `eh_entries` claimed more than fit; the node was truncated.
    pub overflow: bool,
}

impl ExtentNode {
    /// Parse a node from `b` (the 60-byte i_block, or a whole tree block).
    /// `count` overrides `eh_entries` (recovery reads zeroed headers).
    pub fn parse(b: &[u8], count: Option<usize>) -> ExtentNode {
        let header = ExtentHeader::parse(b);
        let fit = b.len().saturating_sub(12) / 12;
        let want = count.unwrap_or(header.entries as usize);
        let n = want.min(fit);
        let mut node = ExtentNode {
            header,
            indexes: Vec::new(),
            leaves: Vec::new(),
            overflow: want > fit,
        };
        for i in 0..n {
            let e = &b[12 + i * 12..24 + i * 12];
            if header.depth > 0 {
                node.indexes.push(ExtentIndex::parse(e));
            } else {
                node.leaves.push(ExtentLeaf::parse(e));
            }
        }
        node
    }
}

/// Offset of the `ext4_extent_tail` checksum in a tree block.
pub fn tail_offset(header: &ExtentHeader) -> usize {
    12 + 12 * header.max as usize
}

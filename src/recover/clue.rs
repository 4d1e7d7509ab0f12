//! The evidence behind a candidate, kept as typed fields and worded only
//! when a report is written. A formatted sentence per clue was the largest
//! part of a candidate (about 300 bytes of 440) on trees with 400k deleted
//! files; a [`Clue`] is 16 bytes (the rare stale name is boxed, a note is
//! a thin pointer), and what the candidate holds anyway (its map, its
//! runs) is referred to, not copied.

use super::content::RunState;
use super::names::NameSource;
use super::DeletedCandidate;
use crate::util::escape::escape_bytes;

/// One fact a candidate rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// The inode record: its group, bitmap state, links and `i_dtime`.
    InodeRecord {
        group: u32,
        allocated: bool,
        links: u16,
        dtime: u32,
    },
    /// A pre-deletion copy of the inode in a journal transaction.
    JournalCopy { seq: u32 },
    /// The inode number belongs to another file now (fls `(realloc)`).
    Reallocated,
    /// A name written when its parent's inode was an earlier directory.
    StaleName(Box<StaleName>),
    /// A name for the file: `path` indexes [`DeletedCandidate::path`]
    /// (0) then [`DeletedCandidate::other_paths`] (1…).
    Name {
        path: u32,
        source: NameSource,
        seq: Option<u32>,
    },
    /// The journal holds an earlier incarnation of a reused inode.
    EarlierIncarnation { generation: u32, seq: u32 },
    /// Bytes of inline data in the inode (`i_block` and `system.data`).
    InlineBytes(u64),
    /// Where the block map came from (worded from the candidate's map).
    BlockMap,
    /// Run `n` of the candidate's map is not recoverable as it stands.
    Run(u32),
    /// A fixed sentence.
    Note(&'static &'static str),
    /// How the main path's chain holds in time (its weakest link), and
    /// whether it reaches the root.
    PathChain(super::Proof, bool),
}

/// The name and parent of a [`Clue::StaleName`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleName {
    pub name: Box<[u8]>,
    pub parent: u32,
}

impl Clue {
    /// The sentence for this clue about candidate `c`.
    pub fn text(&self, c: &DeletedCandidate) -> String {
        let ino = c.inode;
        match self {
            Clue::InodeRecord {
                group,
                allocated,
                links,
                dtime,
            } => format!(
                "inode {ino} in group {group} is {} with links {links} and dtime {dtime}",
                if *allocated {
                    "allocated"
                } else {
                    "unallocated"
                }
            ),
            Clue::JournalCopy { seq } => {
                format!("pre-deletion copy of inode {ino} in journal transaction {seq}")
            }
            Clue::Reallocated => format!("inode {ino} is allocated again to another file"),
            Clue::StaleName(st) => format!(
                "{} was written when inode {parent} was an earlier directory (its block or journal copy predates the live directory with that number): not joined to the live path",
                escape_bytes(&st.name),
                parent = st.parent
            ),
            Clue::Name { path, source, seq } => {
                let p: &[u8] = match *path {
                    0 => &c.path,
                    k => c
                        .other_paths()
                        .get(k as usize - 1)
                        .map(|x| x.0.as_slice())
                        .unwrap_or(b"?"),
                };
                format!(
                    "name {} from {}{}",
                    escape_bytes(p),
                    match source {
                        NameSource::Slack => "directory slack",
                        NameSource::FreedDirBlock => "a freed directory block",
                        NameSource::Journal => "a journal copy of a directory block",
                        _ => "?",
                    },
                    seq.map(|s| format!(" (transaction {s})"))
                        .unwrap_or_default()
                )
            }
            Clue::EarlierIncarnation { generation, seq } => format!(
                "earlier incarnation (generation {generation}) in journal transaction {seq}"
            ),
            Clue::InlineBytes(n) => format!("{n} bytes of inline data in the inode"),
            Clue::BlockMap => match c.map.as_deref() {
                Some(m) => format!(
                    "block map from {} ({} blocks, depth {})",
                    m.source,
                    m.blocks(),
                    m.depth
                ),
                None => "block map".to_string(),
            },
            Clue::Run(n) => {
                let Some(r) = c.runs().get(*n as usize) else {
                    return format!("run {n} of the block map");
                };
                let (physical, len) = (r.physical, r.len);
                match r.state {
                RunState::Zero => format!(
                    "blocks {physical}+{len} read as zeros: wiped (discard), not recovered"
                ),
                RunState::Reallocated => format!(
                    "blocks {physical}+{len} are allocated to another file now: possibly overwritten, not claimed"
                ),
                RunState::Unreadable => format!("blocks {physical}+{len} unreadable"),
                RunState::Free => format!("blocks {physical}+{len} are free"),
                }
            }
            Clue::Note(s) => (**s).to_string(),
            Clue::PathChain(proof, rooted) => path_chain_text(*proof, *rooted),
        }
    }
}

/// The sentence for a [`Clue::PathChain`].
fn path_chain_text(proof: super::Proof, rooted: bool) -> String {
    use super::Proof;
    if !rooted {
        return "the path does not reach the root: no directory incarnation alive when the name was written could be named, so no later directory's path is used".to_string();
    }
    match proof {
        Proof::Live => "path: the name's directory is live now and held the entry".to_string(),
        Proof::Copy => "path: every directory of the chain is the incarnation the journal (inode copies or block checksums) shows alive when each name was written".to_string(),
        Proof::Birth => "path: every directory of the chain was created before its name was written and seen alive after (creation times and journal copies)".to_string(),
        Proof::Overlap => "path: at least one link of the chain rests on the only known incarnation whose lifetime overlaps the directory's (no journal copy of that time): lower confidence".to_string(),
    }
}

/// SHA-256 and MD5 of recovered content, as bytes (hex on output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub sha256: [u8; 32],
    pub md5: [u8; 16],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clue_is_small() {
        assert!(std::mem::size_of::<Clue>() <= 16);
    }
}

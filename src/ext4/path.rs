//! Path lookup and recursive walks over the live tree.

use super::dir::DirEntry;
use super::fs::Filesystem;
use super::inode::{FileType, ROOT_INO};
use crate::{Error, Result};
use std::collections::HashSet;

/// Symlink hops allowed while resolving one path (the kernel's MAXSYMLINKS).
const MAX_SYMLINK_HOPS: usize = 40;
/// Deepest directory nesting a walk descends into.
pub const MAX_WALK_DEPTH: usize = 4096;

/// One entry met by [`Filesystem::walk`].
pub struct WalkEntry<'a> {
    /// Full path from the walk's start, `/`-separated raw bytes.
    pub path: &'a [u8],
    pub entry: &'a DirEntry,
    pub parent: u32,
    pub depth: usize,
}

impl Filesystem {
    /// Resolve `path` (absolute, raw bytes) to an inode number. Symlinks in
    /// the middle are followed (bounded); the final component is not.
    pub fn lookup(&self, path: &[u8]) -> Result<u32> {
        self.resolve(path, false)
    }

    /// Like [`lookup`](Self::lookup), optionally following a final symlink.
    pub fn resolve(&self, path: &[u8], follow_final: bool) -> Result<u32> {
        let mut hops = 0usize;
        let mut stack: Vec<u32> = vec![ROOT_INO];
        let mut pending: Vec<Vec<u8>> = split(path).into_iter().rev().collect();
        while let Some(comp) = pending.pop() {
            let cur = *stack.last().unwrap_or(&ROOT_INO);
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let dir = self.inode(cur)?;
            if dir.file_type() != FileType::Dir {
                return Err(Error::NotFound(format!(
                    "{}: a component is not a directory",
                    crate::util::escape::escape_bytes(path)
                )));
            }
            let listing = self.read_dir(&dir);
            let found = listing
                .entries
                .iter()
                .find(|e| e.name == comp)
                .map(|e| e.inode);
            let Some(ino) = found else {
                return Err(Error::NotFound(crate::util::escape::escape_bytes(path)));
            };
            let is_last = pending.is_empty();
            let node = self.inode(ino)?;
            if node.file_type() == FileType::Symlink && (!is_last || follow_final) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(Error::corrupt(format!(
                        "{}: too many levels of symbolic links",
                        crate::util::escape::escape_bytes(path)
                    )));
                }
                let target = self.symlink_target(&node)?;
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                for c in split(&target).into_iter().rev() {
                    pending.push(c);
                }
                continue;
            }
            stack.push(ino);
        }
        Ok(*stack.last().unwrap_or(&ROOT_INO))
    }

    /// Depth-first pre-order walk below directory `start` (not included),
    /// calling `f` for each entry except `.` and `..`. Memory grows with
    /// the current branch, not the whole tree. Directory loops (a hostile
    /// image can link a directory twice) are cut and reported.
    pub fn walk(&self, start: u32, prefix: &[u8], f: &mut dyn FnMut(&WalkEntry)) -> Result<()> {
        let root = self.inode(start)?;
        if root.file_type() != FileType::Dir {
            return Err(Error::usage(format!("inode {start} is not a directory")));
        }
        let mut visited: HashSet<u32> = HashSet::new();
        visited.insert(start);
        struct Frame {
            entries: std::vec::IntoIter<DirEntry>,
            dir: u32,
            path_len: usize,
        }
        let mut path: Vec<u8> = prefix.to_vec();
        let listing = self.read_dir(&root);
        for w in listing.warnings {
            self.warn(w);
        }
        let mut stack = vec![Frame {
            entries: listing.entries.into_iter(),
            dir: start,
            path_len: path.len(),
        }];
        while let Some(top) = stack.last_mut() {
            let Some(e) = top.entries.next() else {
                stack.pop();
                continue;
            };
            if e.is_dot() {
                continue;
            }
            let parent = top.dir;
            path.truncate(top.path_len);
            path.push(b'/');
            path.extend_from_slice(&e.name);
            let depth = stack.len();
            f(&WalkEntry {
                path: &path,
                entry: &e,
                parent,
                depth,
            });
            // Descend by the dirent type when present, else by the inode.
            let is_dir = match e.dirent_type() {
                FileType::Dir => true,
                FileType::Unknown => self.inode(e.inode).map(|i| i.is_dir()).unwrap_or(false),
                _ => false,
            };
            if !is_dir {
                continue;
            }
            if depth >= MAX_WALK_DEPTH {
                self.warn(format!(
                    "{}: nesting deeper than {MAX_WALK_DEPTH}; not descended",
                    crate::util::escape::escape_bytes(&path)
                ));
                continue;
            }
            if !visited.insert(e.inode) {
                self.warn(format!(
                    "{}: directory inode {} already visited (loop or hard-linked directory); not descended",
                    crate::util::escape::escape_bytes(&path),
                    e.inode
                ));
                continue;
            }
            let child = match self.inode(e.inode) {
                Ok(c) if c.is_dir() => c,
                Ok(_) => continue,
                Err(err) => {
                    self.warn(format!(
                        "{}: {err}",
                        crate::util::escape::escape_bytes(&path)
                    ));
                    continue;
                }
            };
            let listing = self.read_dir(&child);
            for w in listing.warnings {
                self.warn(w);
            }
            let plen = path.len();
            stack.push(Frame {
                entries: listing.entries.into_iter(),
                dir: e.inode,
                path_len: plen,
            });
        }
        Ok(())
    }
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&c| c == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| c.to_vec())
        .collect()
}

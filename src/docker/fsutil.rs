//! Small helpers over the ext4 reader: capped file reads, child lookups
//! that never follow symlinks, path joins.

use crate::ext4::dir::DirEntry;
use crate::ext4::inode::{FileType, Inode};
use crate::ext4::Filesystem;
use crate::util::escape::escape_bytes;
use crate::{Error, Result};

/// Largest JSON or text file we load (config.v2.json, image configs).
pub const MAX_JSON: u64 = 64 << 20;
/// Largest small metadata file (`cache-id`, `link`, `lower`, `parent`).
pub const MAX_SMALL: u64 = 1 << 20;

/// Join a directory path and a name with one `/`.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    join_into(&mut p, dir, name);
    p
}

/// [`join`] into a buffer the caller reuses (cleared first).
pub fn join_into(p: &mut Vec<u8>, dir: &[u8], name: &[u8]) {
    p.clear();
    p.extend_from_slice(dir);
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name.strip_prefix(b"/").unwrap_or(name));
}

/// Live entries of a directory inode, without `.` and `..`. Damage is
/// pushed to the filesystem's warnings.
pub fn list_dir(fs: &Filesystem, ino: u32) -> Vec<DirEntry> {
    let Ok(dir) = fs.inode(ino) else {
        fs.warn(format!("directory inode {ino}: unreadable; skipped"));
        return Vec::new();
    };
    if !dir.is_dir() {
        return Vec::new();
    }
    let l = fs.read_dir(&dir);
    for w in l.warnings {
        fs.warn(w);
    }
    l.entries.into_iter().filter(|e| !e.is_dot()).collect()
}

/// The entry `name` of directory `dir_ino` (no symlink is followed).
pub fn child(fs: &Filesystem, dir_ino: u32, name: &[u8]) -> Option<DirEntry> {
    list_dir(fs, dir_ino).into_iter().find(|e| e.name == name)
}

/// Walk `rel` (relative components) below `dir_ino` without following
/// any symlink; `None` when a component is missing or not a directory.
pub fn descend(fs: &Filesystem, dir_ino: u32, rel: &[u8]) -> Option<u32> {
    let mut cur = dir_ino;
    for comp in rel
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
    {
        let e = child(fs, cur, comp)?;
        cur = e.inode;
    }
    Some(cur)
}

/// `descend` and require a directory.
pub fn descend_dir(fs: &Filesystem, dir_ino: u32, rel: &[u8]) -> Option<u32> {
    let ino = descend(fs, dir_ino, rel)?;
    fs.inode(ino).ok().filter(|i| i.is_dir()).map(|_| ino)
}

/// Read a regular file's content, refusing more than `cap` bytes.
pub fn read_inode(fs: &Filesystem, inode: &Inode, cap: u64, what: &[u8]) -> Result<Vec<u8>> {
    if inode.file_type() != FileType::Regular {
        return Err(Error::NotFound(format!(
            "{} is not a regular file",
            escape_bytes(what)
        )));
    }
    if inode.size > cap {
        return Err(Error::Unsupported(format!(
            "{} is {} bytes, over the {cap}-byte cap; not loaded",
            escape_bytes(what),
            inode.size
        )));
    }
    fs.read_content(inode, 0, inode.size)
}

/// Read file `name` in directory `dir_ino` (no symlink followed).
pub fn read_child(fs: &Filesystem, dir_ino: u32, name: &[u8], cap: u64) -> Result<Vec<u8>> {
    let e = child(fs, dir_ino, name).ok_or_else(|| Error::NotFound(escape_bytes(name)))?;
    let ino = fs.inode(e.inode)?;
    read_inode(fs, &ino, cap, name)
}

/// A small text file in `dir_ino`, trimmed; `None` when absent/unreadable.
pub fn read_text(fs: &Filesystem, dir_ino: u32, name: &[u8]) -> Option<String> {
    let b = read_child(fs, dir_ino, name, MAX_SMALL).ok()?;
    Some(String::from_utf8_lossy(&b).trim().to_string())
}

/// Read an absolute host path (symlinks in the middle are followed by the
/// ext4 resolver, bounded; a final symlink is followed too).
pub fn read_host_file(fs: &Filesystem, path: &[u8], cap: u64) -> Result<(u32, Vec<u8>)> {
    let ino = fs.resolve(path, true)?;
    let inode = fs.inode(ino)?;
    Ok((ino, read_inode(fs, &inode, cap, path)?))
}

/// Is `path` an existing directory on the host? Returns its inode.
pub fn host_dir(fs: &Filesystem, path: &[u8]) -> Option<u32> {
    let ino = fs.resolve(path, true).ok()?;
    fs.inode(ino).ok().filter(|i| i.is_dir()).map(|_| ino)
}

/// `sha256:<hex>` of bytes.
pub fn sha256_id(b: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(b);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for x in d {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Lossy UTF-8 of path bytes, for JSON.
pub fn lossy(b: &[u8]) -> String {
    crate::util::escape::json_name(b)
}

/// serde: serialize `Vec<u8>` path bytes as a string.
pub fn ser_path<S: serde::Serializer>(v: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    crate::util::escape::ser_bytes(v, s)
}

/// The first `n` bytes of `s`, cut back to a char boundary (ids come from
/// directory names on the evidence and may be any UTF-8).
pub fn short(s: &str, n: usize) -> &str {
    let mut k = n.min(s.len());
    while k > 0 && !s.is_char_boundary(k) {
        k -= 1;
    }
    &s[..k]
}

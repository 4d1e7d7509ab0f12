//! TSK 3.x bodyfile rows:
//! `MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`.
//! Deleted names end in ` (deleted)` as fls writes them; in-container
//! paths are prefixed with the container name (`web:/app/x`).

use crate::ext4::inode::{mode_bytes, FileType};
use crate::util::dec::push_u64;
use crate::util::escape::escape_bytes;
use crate::util::time::Timestamp;

/// One file's fields.
pub struct Row<'a> {
    /// MD5 of the content when computed (recovered deleted files), else `0`.
    pub md5: Option<&'a str>,
    pub name: &'a [u8],
    pub prefix: Option<&'a str>,
    pub deleted: bool,
    pub inode: u32,
    pub dirent_type: Option<FileType>,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime: Option<Timestamp>,
    pub mtime: Option<Timestamp>,
    pub ctime: Option<Timestamp>,
    pub crtime: Option<Timestamp>,
}

/// `r/rrw-r--r--`: the name's type, the inode's type, the permissions.
pub fn mode_as_string(dirent: Option<FileType>, mode: u16) -> String {
    let mut s = Vec::with_capacity(12);
    push_mode(&mut s, dirent, mode);
    ascii(s)
}

/// The rows are built as bytes: every byte pushed is ASCII or comes from
/// a `String` (`escape_bytes`), so this never takes the lossy branch.
fn ascii(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn push_mode(out: &mut Vec<u8>, dirent: Option<FileType>, mode: u16) {
    let it = FileType::from_mode(mode);
    let dt = dirent.filter(|t| *t != FileType::Unknown).unwrap_or(it);
    out.push(ascii_char(dt.tsk_char()));
    out.push(b'/');
    out.push(ascii_char(it.tsk_char()));
    out.extend_from_slice(mode_bytes(mode).get(1..).unwrap_or_default());
}

fn ascii_char(c: char) -> u8 {
    if c.is_ascii() {
        c as u8
    } else {
        b'?'
    }
}

/// A name safe for the `|`-separated format (control bytes escaped).
pub fn safe_name(prefix: Option<&str>, name: &[u8]) -> String {
    let mut s = Vec::new();
    push_safe_name(&mut s, prefix, name);
    ascii(s)
}

/// Printable ASCII without `|` or `\\` needs no escaping (the common case).
fn plain(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'|' && c != b'\\')
}

fn push_escaped(out: &mut Vec<u8>, b: &[u8]) {
    if plain(b) {
        out.extend_from_slice(b);
    } else {
        out.extend_from_slice(escape_bytes(b).replace('|', "\\x7c").as_bytes());
    }
}

fn push_safe_name(out: &mut Vec<u8>, prefix: Option<&str>, name: &[u8]) {
    if let Some(p) = prefix {
        push_escaped(out, p.as_bytes());
        out.push(b':');
    }
    push_escaped(out, name);
}

fn secs(t: Option<Timestamp>) -> u64 {
    t.map(|t| t.secs.max(0) as u64).unwrap_or(0)
}

impl<'a> Row<'a> {
    /// A live or whiteout-hidden file's row: every field from its inode.
    pub fn of_inode(
        name: &'a [u8],
        prefix: Option<&'a str>,
        deleted: bool,
        dirent_type: Option<FileType>,
        i: &crate::ext4::Inode,
    ) -> Row<'a> {
        Row {
            md5: None,
            name,
            prefix,
            deleted,
            inode: i.ino,
            dirent_type,
            mode: i.mode,
            uid: i.uid,
            gid: i.gid,
            size: i.size,
            atime: Some(i.atime),
            mtime: Some(i.mtime),
            ctime: Some(i.ctime),
            crtime: i.crtime,
        }
    }

    pub fn line(&self) -> String {
        let mut s = Vec::with_capacity(96 + self.name.len());
        self.push_line(&mut s);
        ascii(s)
    }

    /// Appends the row and its newline to `out`.
    pub fn push_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            self.md5
                .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or("0")
                .as_bytes(),
        );
        out.push(b'|');
        push_safe_name(out, self.prefix, self.name);
        if self.deleted {
            out.extend_from_slice(b" (deleted)");
        }
        out.push(b'|');
        push_u64(out, self.inode as u64);
        out.push(b'|');
        push_mode(out, self.dirent_type, self.mode);
        for v in [
            self.uid as u64,
            self.gid as u64,
            self.size,
            secs(self.atime),
            secs(self.mtime),
            secs(self.ctime),
            secs(self.crtime),
        ] {
            out.push(b'|');
            push_u64(out, v);
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rows() {
        let r = Row {
            md5: None,
            name: b"/a|b\n",
            prefix: Some("web"),
            deleted: true,
            inode: 12,
            dirent_type: None,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            size: 5,
            atime: Some(Timestamp::new(10, 0)),
            mtime: None,
            ctime: Some(Timestamp::new(12, 5)),
            crtime: None,
        };
        assert_eq!(
            r.line(),
            "0|web:/a\\x7cb\\x0a (deleted)|12|r/rrw-r--r--|0|0|5|10|0|12|0\n"
        );
    }
}

//! TSK 3.x bodyfile rows:
//! `MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`.
//! Deleted names end in ` (deleted)` as fls writes them; in-container
//! paths are prefixed with the container name (`web:/app/x`).

use crate::ext4::inode::{mode_string, FileType};
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
    let it = FileType::from_mode(mode);
    let dt = dirent.filter(|t| *t != FileType::Unknown).unwrap_or(it);
    let perms: String = mode_string(mode).chars().skip(1).collect();
    format!("{}/{}{}", dt.tsk_char(), it.tsk_char(), perms)
}

/// A name safe for the `|`-separated format (control bytes escaped).
pub fn safe_name(prefix: Option<&str>, name: &[u8]) -> String {
    let mut s = String::new();
    if let Some(p) = prefix {
        s.push_str(&escape_bytes(p.as_bytes()));
        s.push(':');
    }
    s.push_str(&escape_bytes(name));
    s.replace('|', "\\x7c")
}

fn secs(t: Option<Timestamp>) -> i64 {
    t.map(|t| t.secs.max(0)).unwrap_or(0)
}

impl Row<'_> {
    pub fn line(&self) -> String {
        let mut name = safe_name(self.prefix, self.name);
        if self.deleted {
            name.push_str(" (deleted)");
        }
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}\n",
            self.md5
                .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or("0"),
            name,
            self.inode,
            mode_as_string(self.dirent_type, self.mode),
            self.uid,
            self.gid,
            self.size,
            secs(self.atime),
            secs(self.mtime),
            secs(self.ctime),
            secs(self.crtime)
        )
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

//! Extended attributes: in the inode body (after `i_extra_isize`), in an
//! external block (possibly shared, `h_refcount` > 1), and values stored in
//! their own inode (ea_inode). Every namespace is kept: user, trusted
//! (overlayfs marks), security, system.posix_acl_*, system.data.

use super::fs::Filesystem;
use super::inode::Inode;
use crate::util::bytes::{le16, le32, slice, u8_at};
use crate::util::crc::crc32c_update;
use serde::Serialize;

pub const XATTR_MAGIC: u32 = 0xEA02_0000;
/// Values larger than this are not loaded (ea_inode values can be 64 KiB+;
/// a hostile size is capped with a warning).
const MAX_VALUE: u64 = 16 << 20;
const MAX_ENTRIES: usize = 4096;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum XattrLocation {
    Inode,
    Block { block: u64, refcount: u32 },
    EaInode { block: Option<u64>, ea_inode: u32 },
}

#[derive(Clone, Debug, Serialize)]
pub struct Xattr {
    /// Full name with its namespace prefix, e.g. `trusted.overlay.opaque`.
    #[serde(serialize_with = "crate::util::escape::ser_bytes")]
    pub name: Vec<u8>,
    pub name_index: u8,
    #[serde(skip)]
    pub value: Vec<u8>,
    pub value_size: u32,
    pub location: XattrLocation,
}

impl Xattr {
    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct XattrList {
    pub attrs: Vec<Xattr>,
    /// External block checksum: `None` when absent or unchecked.
    pub block_checksum_ok: Option<bool>,
    pub warnings: Vec<String>,
}

impl XattrList {
    pub fn get(&self, name: &[u8]) -> Option<&Xattr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// Namespace prefix for `e_name_index`.
pub fn prefix(index: u8) -> &'static str {
    match index {
        1 => "user.",
        2 => "system.posix_acl_access",
        3 => "system.posix_acl_default",
        4 => "trusted.",
        6 => "security.",
        7 => "system.",
        8 => "system.richacl",
        _ => "",
    }
}

struct RawEntry {
    name: Vec<u8>,
    index: u8,
    value_offs: u16,
    value_inum: u32,
    value_size: u32,
}

/// Parse an entry table at `b[start..]`, ending at a 4-zero-byte marker.
fn parse_entries(b: &[u8], start: usize, warnings: &mut Vec<String>, what: &str) -> Vec<RawEntry> {
    let mut out = Vec::new();
    let mut off = start;
    while off + 16 <= b.len() {
        if le32(b, off) == 0 {
            break;
        }
        if out.len() >= MAX_ENTRIES {
            warnings.push(format!(
                "{what}: more than {MAX_ENTRIES} xattr entries; rest skipped"
            ));
            break;
        }
        let name_len = u8_at(b, off) as usize;
        let index = u8_at(b, off + 1);
        let name = slice(b, off + 16, name_len);
        if name.len() != name_len {
            warnings.push(format!(
                "{what}: xattr entry at {off} runs past the end; rest skipped"
            ));
            break;
        }
        let mut full = prefix(index).as_bytes().to_vec();
        full.extend_from_slice(name);
        if index == 0 || prefix(index).is_empty() {
            full = format!("unknown{index}.").into_bytes();
            full.extend_from_slice(name);
        }
        out.push(RawEntry {
            name: full,
            index,
            value_offs: le16(b, off + 2),
            value_inum: le32(b, off + 4),
            value_size: le32(b, off + 8),
        });
        off += (16 + name_len + 3) & !3;
    }
    out
}

impl Filesystem {
    /// All xattrs of an inode. Damaged parts are skipped with a warning.
    pub fn xattrs(&self, inode: &Inode) -> XattrList {
        let mut list = XattrList::default();
        let in_inode = inode.has_inode_xattrs();
        if !in_inode && inode.file_acl == 0 {
            return list;
        }
        let what = format!("inode {}", inode.ino);
        // In-inode area: after 128 + i_extra_isize, magic then entries;
        // value offsets are relative to the first entry.
        let ibody = 128 + inode.extra_isize as usize;
        if in_inode {
            let area = inode.raw.get(ibody + 4..).unwrap_or_default();
            let ents = parse_entries(area, 0, &mut list.warnings, &what);
            for e in ents {
                let value = self.xattr_value(area, &e, None, &mut list.warnings, &what);
                let location = if e.value_inum != 0 {
                    XattrLocation::EaInode {
                        block: None,
                        ea_inode: e.value_inum,
                    }
                } else {
                    XattrLocation::Inode
                };
                list.attrs.push(Xattr {
                    name: e.name,
                    name_index: e.index,
                    value,
                    value_size: e.value_size,
                    location,
                });
            }
        }
        if inode.file_acl != 0 {
            let blk = inode.file_acl;
            match self.read_block(blk) {
                Ok(b) if le32(&b, 0) == XATTR_MAGIC => {
                    let refcount = le32(&b, 4);
                    if self.sb.metadata_csum() {
                        let mut c = crc32c_update(self.sb.csum_seed(), &blk.to_le_bytes());
                        c = crc32c_update(c, &b[..16]);
                        c = crc32c_update(c, &[0; 4]);
                        c = crc32c_update(c, &b[20..]);
                        list.block_checksum_ok = Some(c == le32(&b, 16));
                    }
                    let bwhat = format!("{what} xattr block {blk}");
                    for e in parse_entries(&b, 32, &mut list.warnings, &bwhat) {
                        let value = self.xattr_value(&b, &e, Some(blk), &mut list.warnings, &bwhat);
                        let location = if e.value_inum != 0 {
                            XattrLocation::EaInode {
                                block: Some(blk),
                                ea_inode: e.value_inum,
                            }
                        } else {
                            XattrLocation::Block {
                                block: blk,
                                refcount,
                            }
                        };
                        list.attrs.push(Xattr {
                            name: e.name,
                            name_index: e.index,
                            value,
                            value_size: e.value_size,
                            location,
                        });
                    }
                }
                Ok(_) => list
                    .warnings
                    .push(format!("{what}: xattr block {blk} has bad magic; skipped")),
                Err(e) => list
                    .warnings
                    .push(format!("{what}: xattr block {blk}: {e}")),
            }
        }
        list
    }

    fn xattr_value(
        &self,
        area: &[u8],
        e: &RawEntry,
        _blk: Option<u64>,
        warnings: &mut Vec<String>,
        what: &str,
    ) -> Vec<u8> {
        if e.value_inum != 0 {
            // ea_inode: the value is the content of another inode.
            let size = (e.value_size as u64).min(MAX_VALUE);
            match self.inode(e.value_inum) {
                Ok(vi) => match self.read_content(&vi, 0, size) {
                    Ok(v) => return v,
                    Err(err) => warnings.push(format!("{what}: ea_inode {}: {err}", e.value_inum)),
                },
                Err(err) => warnings.push(format!("{what}: ea_inode {}: {err}", e.value_inum)),
            }
            return Vec::new();
        }
        let v = slice(area, e.value_offs as usize, e.value_size as usize);
        if v.len() != e.value_size as usize {
            warnings.push(format!(
                "{what}: value of {} ({} bytes at {}) runs past its area; skipped",
                String::from_utf8_lossy(&e.name),
                e.value_size,
                e.value_offs
            ));
            return Vec::new();
        }
        v.to_vec()
    }
}

/// Convert an on-disk ext4 ACL (`ext4_acl_header` version 1: short
/// entries without an id for USER_OBJ, GROUP_OBJ, MASK and OTHER) to the
/// generic `system.posix_acl_*` xattr form the kernel shows (version 2,
/// 8-byte entries, id 0xFFFFFFFF where undefined).
pub fn acl_to_vfs(disk: &[u8]) -> Option<Vec<u8>> {
    if disk.len() < 4 || le32(disk, 0) != 1 {
        return None;
    }
    let mut out = 2u32.to_le_bytes().to_vec();
    let mut off = 4;
    let mut n = 0;
    while off + 4 <= disk.len() && n < 4096 {
        let tag = le16(disk, off);
        let perm = le16(disk, off + 2);
        let id = match tag {
            0x02 | 0x08 => {
                if off + 8 > disk.len() {
                    return None;
                }
                let id = le32(disk, off + 4);
                off += 8;
                id
            }
            0x01 | 0x04 | 0x10 | 0x20 => {
                off += 4;
                u32::MAX
            }
            _ => return None,
        };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&perm.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
        n += 1;
    }
    Some(out)
}

/// Decode a POSIX ACL xattr value (on-disk version 1 or generic version 2)
/// into `getfacl`-like text.
pub fn acl_text(v: &[u8]) -> Option<String> {
    let conv;
    let v = if v.len() >= 4 && le32(v, 0) == 1 {
        conv = acl_to_vfs(v)?;
        &conv[..]
    } else {
        v
    };
    if v.len() < 4 || le32(v, 0) != 2 {
        return None;
    }
    let mut parts = Vec::new();
    let mut off = 4;
    while off + 8 <= v.len() {
        let tag = le16(v, off);
        let perm = le16(v, off + 2);
        let id = le32(v, off + 4);
        let p = format!(
            "{}{}{}",
            if perm & 4 != 0 { 'r' } else { '-' },
            if perm & 2 != 0 { 'w' } else { '-' },
            if perm & 1 != 0 { 'x' } else { '-' }
        );
        parts.push(match tag {
            0x01 => format!("user::{p}"),
            0x02 => format!("user:{id}:{p}"),
            0x04 => format!("group::{p}"),
            0x08 => format!("group:{id}:{p}"),
            0x10 => format!("mask::{p}"),
            0x20 => format!("other::{p}"),
            _ => format!("tag{tag:#x}:{id}:{p}"),
        });
        off += 8;
    }
    Some(parts.join(","))
}

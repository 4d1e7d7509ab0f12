//! Extended attributes: the in-inode area (after the 128-byte core) and the
//! shared xattr block of an inode that has one. Input: u16 length of the
//! in-inode part, that part, then the xattr block.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use whiteout::ext4::xattr::{acl_text, acl_to_vfs};
use whiteout_fuzz::*;

/// (inode, inode byte offset, shared block byte offset or 0)
fn target() -> (u32, u64, u64) {
    static T: OnceLock<(u32, u64, u64)> = OnceLock::new();
    *T.get_or_init(|| {
        let fs = base_fs(&blk1k());
        let mut found = (0u32, 0u64);
        let _ = fs.walk(2, b"", &mut |w| {
            if let Ok(i) = fs.inode(w.entry.inode) {
                if i.file_acl != 0 && found.0 == 0 {
                    found = (w.entry.inode, i.file_acl);
                }
            }
        });
        if found.0 == 0 {
            found = (2, 0);
        }
        let pos = fs.inode_position(found.0).unwrap();
        (found.0, pos, found.1 * fs.block_size())
    })
}

fuzz_target!(
    init: {
        let _ = (blk1k(), target());
    },
    |data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (ino, pos, blk) = target();
    let l = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (inner, shared) = data[2..].split_at(l);
    let inner = &inner[..inner.len().min(128)];
    let shared = &shared[..shared.len().min(1024)];
    let mut o = Overlay::new(blk1k()).patch(pos + 128, inner);
    if blk != 0 {
        o = o.patch(blk, shared);
    }
    let Ok(fs) = whiteout::ext4::Filesystem::open(o.source()) else { return };
    let Ok(i) = fs.inode(ino) else { return };
    let list = fs.xattrs(&i);
    for x in &list.attrs {
        if let Some(v) = acl_to_vfs(&x.value) {
            let _ = acl_text(&v);
        }
        let _ = acl_text(&x.value);
    }
}
);

//! Extent tree walk: i_block of a regular file (first 60 bytes of input)
//! and up to 16 tree blocks at blocks_count-16.. (the rest).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use whiteout::ext4::inode::FileType;
use whiteout_fuzz::*;

fn target() -> (u32, u64, u64) {
    static T: OnceLock<(u32, u64, u64)> = OnceLock::new();
    *T.get_or_init(|| {
        let fs = base_fs(&blk1k());
        let mut found = 0;
        let _ = fs.walk(2, b"", &mut |w| {
            if found == 0 {
                if let Ok(i) = fs.inode(w.entry.inode) {
                    if i.file_type() == FileType::Regular && i.has_flag(0x80000) {
                        found = w.entry.inode;
                    }
                }
            }
        });
        let pos = fs.inode_position(found).unwrap();
        (found, pos, fs.sb.blocks_count - 16)
    })
}

fuzz_target!(
    init: {
        let _ = (blk1k(), target());
    },
    |data: &[u8]| {
    let (ino, pos, tree_blk) = target();
    let (iblock, rest) = data.split_at(data.len().min(60));
    let bs = 1024;
    let rest = &rest[..rest.len().min(16 * bs)];
    let src = Overlay::new(blk1k())
        .patch(pos + 40, iblock)
        .patch(tree_blk * bs as u64, rest)
        .source();
    let Ok(fs) = whiteout::ext4::Filesystem::open(src) else { return };
    let Ok(i) = fs.inode(ino) else { return };
    let map = fs.block_map(&i);
    for l in [0u64, 1, 7, 1000, u32::MAX as u64] {
        let _ = map.lookup(l);
    }
    let _ = fs.read_content(&i, 0, 1 << 16);
    let _ = fs.stream_content(&i, &mut std::io::sink());
}
);

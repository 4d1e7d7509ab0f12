//! Superblock + group descriptor table of a 1 KiB-block image (GDT at 2048),
//! then the bitmaps and a capped walk.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::ext4::superblock::Superblock;
use whiteout_fuzz::*;

fuzz_target!(
    init: {
        let _ = blk1k();
    },
    |data: &[u8]| {
    if data.len() >= 1024 {
        let sb = Superblock::parse(&data[..1024]);
        let _ = sb.sanity(1 << 24);
    }
    let src = Overlay::new(blk1k()).patch(1024, data).source();
    let Some(fs) = open_fs(src) else { return };
    for g in 0..fs.group_count().min(4) {
        let _ = fs.block_bitmap(g);
        let _ = fs.inode_bitmap(g);
        let _ = fs.group_metadata_blocks(g);
    }
    exercise(&fs, 64);
}
);

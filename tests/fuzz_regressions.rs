//! Every crashing, hanging or memory-hungry input the fuzz targets found
//! (fuzz/, issue 7), replayed exactly as its target feeds it. Inputs live in
//! testdata/fuzz/<target>-<what>.bin.

mod common;

use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use whiteout::ext4::inode::FileType;
use whiteout::ext4::Filesystem;
use whiteout::image::Source;

fn input(name: &str) -> Vec<u8> {
    std::fs::read(testdata().join("fuzz").join(name)).unwrap()
}

fn patch(base: &mut [u8], off: u64, data: &[u8]) {
    let off = off as usize;
    let end = (off + data.len()).min(base.len());
    base[off..end].copy_from_slice(&data[..end - off]);
}

/// The `extents` target: i_block of the first extent-mapped regular file of
/// blk1k (60 bytes), then up to 16 tree blocks at blocks_count-16.
fn replay_extents(data: &[u8]) {
    let mut b = image_bytes("ext4", "blk1k");
    let fs = fs_from_bytes(b.clone()).unwrap();
    let mut ino = 0;
    fs.walk(2, b"", &mut |w| {
        if ino == 0 {
            if let Ok(i) = fs.inode(w.entry.inode) {
                if i.file_type() == FileType::Regular && i.has_flag(0x80000) {
                    ino = w.entry.inode;
                }
            }
        }
    })
    .unwrap();
    let pos = fs.inode_position(ino).unwrap();
    let tree = fs.sb.blocks_count - 16;
    let (iblock, rest) = data.split_at(data.len().min(60));
    patch(&mut b, pos + 40, iblock);
    patch(&mut b, tree * 1024, &rest[..rest.len().min(16 * 1024)]);
    let src: Source = Arc::new(b);
    let fs = Filesystem::open(src).unwrap();
    let i = fs.inode(ino).unwrap();
    let t = Instant::now();
    let map = fs.block_map(&i);
    let _ = map.lookup(0);
    let _ = fs.read_content(&i, 0, 1 << 16);
    let _ = fs.stream_content(&i, &mut std::io::sink());
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn extents_child_depth_0xffff_does_not_overflow() {
    // An index pointing at a node whose depth is 0xffff: `depth + 1`
    // overflowed (a panic with overflow checks, a wrong comparison without).
    replay_extents(&input("extents-depth-overflow.bin"));
}

//! Every crashing, hanging or memory-hungry input the fuzz targets found
//! (fuzz/), replayed exactly as its target feeds it. Inputs live in
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

/// The `carve` target: every validator on the raw input, then the whole
/// carver over del-inline with the input laid at the block-aligned middle.
fn replay_carve(data: &[u8]) -> whiteout::recover::carve::Carving {
    use whiteout::recover::carve::{carve, formats, Kind, Options};
    for k in Kind::ALL {
        for block in [1024usize, 4096] {
            let _ = formats::validate(k, data, true, block);
            let _ = formats::validate(k, data, false, block);
        }
    }
    let mut b = image_bytes("deleted", "del-inline");
    let bs = fs_from_bytes(b.clone()).unwrap().block_size() as usize;
    let off = (b.len() / 2) / bs * bs;
    patch(&mut b, off as u64, data);
    let fs = fs_from_bytes(b).unwrap();
    let t = Instant::now();
    let c = carve(
        &fs,
        &Options {
            kinds: None,
            all_space: true,
            traces: true,
            exclude: Vec::new(),
        },
    );
    // Was 10-13 s in the fuzz build (1.5 s release) per header: bounded now.
    assert!(t.elapsed() < Duration::from_secs(10));
    c
}

#[test]
fn carve_validators_take_short_input() {
    // `validate(Pem, b"")` sliced d[11..] and panicked; every validator
    // must take any prefix, including the empty one.
    let full: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    for n in 0..=full.len() {
        let d = &full[..n];
        for k in whiteout::recover::carve::Kind::ALL {
            for at_end in [true, false] {
                let _ = whiteout::recover::carve::formats::validate(k, d, at_end, 4096);
            }
        }
    }
}

#[test]
fn carve_cut_streams_over_zeros_stop_at_the_zero_block() {
    // A 16 KiB prefix of a gzip (and of a bzip2) file, then zeros: zero
    // bits decode as a Huffman code, so inflating went on to max_len. An
    // entropy-coded stream never holds a whole zero block: it is cut there,
    // so neither is carved.
    for name in [
        "carve-gz-cut-over-zeros.bin",
        "carve-bz2-cut-over-zeros.bin",
    ] {
        let c = replay_carve(&input(name));
        let kinds: Vec<_> = c.files.iter().map(|f| f.kind.name()).collect();
        assert!(
            !kinds.contains(&"gz") && !kinds.contains(&"bz2"),
            "{name}: {kinds:?}"
        );
    }
}

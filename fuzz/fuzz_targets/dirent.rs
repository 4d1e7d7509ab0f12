//! Dirent blocks and htree: one block of the 6000-entry htree directory
//! (byte 0 picks which, 0 = the dx_root) replaced by the input, then
//! read_dir, a lookup and a capped walk; plus parse_dirents on the raw input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use whiteout::ext4::dir::parse_dirents;
use whiteout_fuzz::*;

fn htree() -> Arc<Vec<u8>> {
    static C: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| fixture("ext4/htree.img.gz")).clone()
}

/// (dir inode, physical byte offsets of its blocks, block size)
fn dir() -> &'static (u32, Vec<u64>, u64) {
    static D: OnceLock<(u32, Vec<u64>, u64)> = OnceLock::new();
    D.get_or_init(|| {
        let fs = base_fs(&htree());
        let mut best = (0u32, 0u64);
        let _ = fs.walk(2, b"", &mut |w| {
            if let Ok(i) = fs.inode(w.entry.inode) {
                if i.has_flag(0x1000) && i.size > best.1 {
                    best = (w.entry.inode, i.size);
                }
            }
        });
        let i = fs.inode(best.0).unwrap();
        let bs = fs.block_size();
        let map = fs.block_map(&i);
        let offs = (0..i.size / bs)
            .filter_map(|l| map.lookup(l).map(|(p, _)| p * bs))
            .collect();
        (best.0, offs, bs)
    })
}

fuzz_target!(
    init: {
        let _ = (htree(), dir());
    },
    |data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (ino, offs, bs) = dir();
    let _ = parse_dirents(&data[1..], *bs, true, 1 << 20, 0);
    let _ = parse_dirents(&data[1..], 1024, false, 1 << 20, 0);
    let which = match data[0] {
        0..=127 => 0,
        x => (x as usize) % offs.len(),
    };
    let blk = &data[1..data.len().min(1 + *bs as usize)];
    let src = Overlay::new(htree()).patch(offs[which], blk).source();
    let Ok(fs) = whiteout::ext4::Filesystem::open(src) else { return };
    let Ok(i) = fs.inode(*ino) else { return };
    let _ = fs.read_dir(&i);
    let mut n = 0;
    let _ = fs.walk(*ino, b"", &mut |_| n += 1);
    let _ = fs.lookup(b"/d/f01234");
}
);

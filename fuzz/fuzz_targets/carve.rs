//! Carving: every signature validator on the raw input (as if it were the
//! bytes after a header hit, complete or cut), then the whole carver
//! (signatures and Docker traces) over a real image whose free blocks
//! hold the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::recover::carve::{carve, formats, Options};
use whiteout_fuzz::*;

fuzz_target!(
    init: {
        let _ = del_inline();
    },
    |data: &[u8]| {
    let _ = formats::detect(data);
    let _ = formats::json_object_len(data);
    for k in formats::Kind::ALL {
        for block in [1024usize, 4096] {
            let _ = formats::validate(k, data, true, block);
            let _ = formats::validate(k, data, false, block);
        }
    }
    // Lay the input over the free space of del-inline, block-aligned where
    // headers are searched, and carve everything.
    let base = del_inline();
    let fs0 = base_fs(&base);
    let bs = fs0.block_size();
    let size = base.len() as u64;
    let off = (size / 2) / bs * bs;
    let n = (data.len() as u64).min(size - off) as usize;
    let src = Overlay::new(base).patch(off, &data[..n]).source();
    let Some(fs) = open_fs(src) else { return };
    let _ = carve(
        &fs,
        &Options {
            kinds: None,
            all_space: true,
            traces: true,
            exclude: Vec::new(),
        },
    );
}
);

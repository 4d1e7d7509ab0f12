//! VMDK: the descriptor parser, and a sparse extent (header, footer, grain
//! directory and tables, compressed grains) held in memory.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::image::vmdk::{parse_descriptor, SparseExtent};
use whiteout::image::{ReadAt, Source, WarningLog};

fuzz_target!(|data: &[u8]| {
    let _ = parse_descriptor(&String::from_utf8_lossy(data));
    let src: Source = Arc::new(data.to_vec());
    if let Ok(e) = SparseExtent::open(src, "fuzz.vmdk", WarningLog::default()) {
        let mut buf = vec![0u8; 1 << 16];
        let size = e.size();
        for pos in [0, size / 2, size.saturating_sub(100)] {
            let _ = e.read_at(pos, &mut buf);
        }
    }
});

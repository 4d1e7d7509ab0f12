//! qcow2: header, snapshot table, L1/L2 lookups (standard and extended)
//! and compressed clusters of one in-memory image without backing file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::image::qcow2::{read_header, Qcow2Image};
use whiteout::image::{ReadAt, Source, WarningLog};

fuzz_target!(|data: &[u8]| {
    let w = WarningLog::default();
    let f: Source = Arc::new(data.to_vec());
    let Ok(h) = read_header(&*f, &w) else { return };
    if let Ok(img) = Qcow2Image::new(f, "fuzz.qcow2", h, None, w) {
        let mut buf = vec![0u8; 1 << 16];
        let size = img.size();
        for pos in [0, size / 2, size.saturating_sub(100)] {
            let _ = img.read_at(pos, &mut buf);
        }
    }
});

//! VHD (footer, dynamic header, BAT) and VHDX (headers, region table,
//! metadata, BAT) of one in-memory file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::image::vhdx::VhdxImage;
use whiteout::image::{vhd, ReadAt, Source, WarningLog};

fn read_some(s: &dyn ReadAt) {
    let mut buf = vec![0u8; 1 << 16];
    let size = s.size();
    for pos in [0, size / 2, size.saturating_sub(100)] {
        let _ = s.read_at(pos, &mut buf);
    }
}

fuzz_target!(|data: &[u8]| {
    let f: Source = Arc::new(data.to_vec());
    if let Ok((s, _)) = vhd::open(f.clone(), "fuzz.vhd", &WarningLog::default()) {
        read_some(&*s);
    }
    if let Ok(img) = VhdxImage::open(f, "fuzz.vhdx", WarningLog::default()) {
        read_some(&img);
    }
});

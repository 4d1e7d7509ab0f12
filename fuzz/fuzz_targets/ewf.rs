//! EWF (E01): the section walk, tables, header text and chunk inflation of
//! one segment held in memory.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::image::ewf::EwfImage;
use whiteout::image::{ReadAt, Source, WarningLog};

fuzz_target!(|data: &[u8]| {
    let seg: Source = Arc::new(data.to_vec());
    if let Ok(img) = EwfImage::from_segments(vec![("fuzz.E01".into(), seg)], WarningLog::default()) {
        let mut buf = vec![0u8; 1 << 16];
        let size = img.size();
        for pos in [0, size / 2, size.saturating_sub(100)] {
            let _ = img.read_at(pos, &mut buf);
        }
    }
});

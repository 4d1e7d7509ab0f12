//! LVM2: the metadata text parser, and a PV (label, metadata area, ring)
//! held in memory with its logical volumes opened and read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::image::lvm::{parse_metadata, scan, volume_group};
use whiteout::image::{Source, WarningLog};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_metadata(&String::from_utf8_lossy(data)) {
        let _ = volume_group(&m);
    }
    let dev: Source = Arc::new(data.to_vec());
    let s = scan(&[("fuzz".into(), dev)]);
    for name in s.names() {
        if let Ok(lv) = s.open(&name, &WarningLog::default()) {
            let mut buf = vec![0u8; 1 << 16];
            let _ = lv.read_at(0, &mut buf);
            let _ = lv.read_at(lv.size() / 2, &mut buf);
        }
    }
});

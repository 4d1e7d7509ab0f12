//! MBR (with EBR chains), GPT (primary and backup) and the volume probe.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::ext4::volume::{identify_other, locate};
use whiteout::image::{read_partitions, Source};

fuzz_target!(|data: &[u8]| {
    let src: Source = Arc::new(data.to_vec());
    let _ = read_partitions(&*src);
    let _ = identify_other(&*src);
    let _ = locate(&src, None, None);
    for p in 1..=6 {
        let _ = locate(&src, Some(p), None);
    }
});

//! tar-split.json (already inflated) lines.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut w = Vec::new();
    let _ = whiteout::docker::tarsplit::parse(data, &mut w);
});

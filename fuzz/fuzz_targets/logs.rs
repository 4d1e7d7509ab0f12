//! json-file and local-driver (protobuf frames) container logs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::docker::logs::{parse_json_file, parse_local};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let mut w = Vec::new();
    parse_json_file(data, "f", &mut out, &mut w);
    parse_local(data, "f", &mut out, &mut w);
});

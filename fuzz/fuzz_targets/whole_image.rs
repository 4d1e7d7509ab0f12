//! Whole image: the main library analyses (open, walk, recovery without the
//! freed-block scan, Docker load, logs) on a small image.
//! Byte 0 < 200: a base fixture (byte 0 % 4) with patches
//! `[u32 LE offset][u8 len][len bytes]...` laid over it.
//! Byte 0 >= 200: the rest of the input is the image itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::docker::{logs::read_logs, DockerHost};
use whiteout::recover::{analyse, Options};
use whiteout_fuzz::*;

fuzz_target!(
    init: {
        // Inflate every base once, before the per-input timeout applies.
        let _ = (docker_aufs(), inline(), del_inline(), overlay());
    },
    |data: &[u8]| {
    let Some(src) = whole_image_input(data) else {
        return;
    };
    let Some(fs) = open_fs(src) else { return };
    exercise(&fs, 256);
    let _ = analyse(
        &fs,
        &Options {
            scan_freed_dir_blocks: false,
            hash: false,
        },
    );
    let host = DockerHost::load(&fs);
    let mut w = Vec::new();
    for c in host.containers.iter().take(8) {
        let _ = read_logs(&fs, c, &mut w);
    }
}
);

//! Whole image: the main library analyses (open, walk, recovery without the
//! freed-block scan, Docker load, logs) on a small image.
//! Byte 0 < 200: a base fixture (byte 0 % 4) with patches
//! `[u32 LE offset][u8 len][len bytes]...` laid over it.
//! Byte 0 >= 200: the rest of the input is the image itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use whiteout::docker::{logs::read_logs, DockerHost};
use whiteout::image::Source;
use whiteout::recover::{analyse, Options};
use whiteout_fuzz::*;

fuzz_target!(
    init: {
        // Inflate every base once, before the per-input timeout applies.
        let _ = (docker_aufs(), inline(), del_inline(), overlay());
    },
    |data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let src: Source = if data[0] >= 200 {
        Arc::new(data[1..].to_vec())
    } else {
        let base = match data[0] % 4 {
            0 => docker_aufs(),
            1 => inline(),
            2 => del_inline(),
            _ => overlay(),
        };
        let size = base.len() as u64;
        let mut o = Overlay::new(base);
        let mut p = &data[1..];
        while p.len() >= 5 {
            let off = u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as u64 % size;
            let n = (p[4] as usize).min(p.len() - 5);
            o = o.patch(off, &p[5..5 + n]);
            p = &p[5 + n..];
        }
        o.source()
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

//! `scan` without carving over a small image: the whole job the CLI runs
//! (custody, partitions, filesystem, Docker, recovery, attribution, every
//! report file). Input format as `whole_image`: byte 0 < 200 patches a
//! base fixture, byte 0 >= 200 is the image itself. The image and the
//! case folder live in a per-process temporary directory ($TMPDIR, else
//! /dev/shm, else /tmp).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use whiteout::report::scan::{scan_image, ScanOptions};
use whiteout_fuzz::*;

fn work() -> &'static PathBuf {
    static W: OnceLock<PathBuf> = OnceLock::new();
    W.get_or_init(|| {
        // tmpfs when there is one: no writeback throttling per exec.
        let base = std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let shm = PathBuf::from("/dev/shm");
                if shm.is_dir() {
                    shm
                } else {
                    "/tmp".into()
                }
            });
        let d = base.join(format!("whiteout-fuzz-scan-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("work dir");
        d
    })
}

fuzz_target!(
    init: {
        let _ = (docker_aufs(), inline(), del_inline(), overlay());
    },
    |data: &[u8]| {
    let Some(src) = whole_image_input(data) else {
        return;
    };
    let mut bytes = vec![0u8; src.size() as usize];
    if src.read_at(0, &mut bytes).is_err() {
        return;
    }
    let img = work().join("evidence.img");
    if std::fs::write(&img, &bytes).is_err() {
        return;
    }
    let out = work().join("case");
    let _ = scan_image(
        &img,
        &out,
        &ScanOptions {
            hash: false,
            carve: false,
            quiet: true,
            command_line: Vec::new(),
            case_id: None,
            expected: None,
            partition: None,
            offset: None,
            volume: None,
        },
    );
}
);

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
use whiteout::image::ReadAt;
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
    if data.is_empty() {
        return;
    }
    let bytes: Vec<u8> = if data[0] >= 200 {
        data[1..].to_vec()
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
        let mut v = vec![0u8; size as usize];
        if o.read_at(0, &mut v).is_err() {
            return;
        }
        v
    };
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
        },
    );
}
);

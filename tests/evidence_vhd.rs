//! VHD (fixed, dynamic) and VHDX (fixed, dynamic) written by qemu-img 10.0,
//! byte-exact against `qemu-img convert -O raw`; damaged copies.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;
mod evidence_common;

use common::{raw_copy, run};
use evidence_common::*;
use std::sync::Arc;
use whiteout::image::vhdx::VhdxImage;
use whiteout::image::{self, ContainerFormat, ContainerWarning, ReadAt, Source, WarningLog};

#[test]
fn vhd_and_vhdx_read_byte_exact() {
    let files = [
        "fixed.vhd.gz",
        "dynamic.vhd.gz",
        "fixed.vhdx.gz",
        "dynamic.vhdx.gz",
    ];
    let dir = stage("vhd", &files);
    let want = [
        (
            "fixed.vhd",
            ContainerFormat::Vhd,
            "VHD fixed: 50331648 bytes",
        ),
        (
            "dynamic.vhd",
            ContainerFormat::Vhd,
            "VHD dynamic: 50331648 bytes, 2097152-byte blocks",
        ),
        (
            "fixed.vhdx",
            ContainerFormat::Vhdx,
            "VHDX: 50331648 bytes, 8388608-byte blocks",
        ),
        (
            "dynamic.vhdx",
            ContainerFormat::Vhdx,
            "VHDX: 50331648 bytes, 8388608-byte blocks",
        ),
    ];
    for (name, format, layer) in want {
        let ev = image::open_evidence(&dir.join(name)).unwrap();
        assert_eq!(ev.format, format, "{name}");
        assert_eq!(ev.layers, [layer], "{name}");
        assert_eq!(sha256_source(&*ev.source), qemu_sha(name), "{name}");
        assert_eq!(qemu_sha(name), source_sha256());
        assert!(ev.warnings.snapshot().is_empty(), "{name}");
    }
    let (code, out, err) = run(&["ls", dir.join("dynamic.vhdx").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    let (_, out_raw, _) = run(&["ls", raw_copy("ext4", "gpt").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(out, out_raw);
}

#[test]
fn damaged_vhd_and_vhdx_structures() {
    let dir = stage("vhdbad", &["dynamic.vhd.gz", "dynamic.vhdx.gz"]);
    // VHD: the end footer gone; the copy at offset 0 is used, with a warning.
    let p = dir.join("dynamic.vhd");
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len();
    b[n - 512..].fill(0);
    std::fs::write(&p, &b).unwrap();
    let ev = image::open_evidence(&p).unwrap();
    assert_eq!(sha256_source(&*ev.source), source_sha256());
    let ws: Vec<String> = ev
        .warnings
        .snapshot()
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        ws,
        [format!(
            "{}: no footer at the end of the file; the copy at offset 0 is used",
            p.display()
        )]
    );
    // VHD: a BAT entry count far too large is refused in one line.
    let hdr = u64::from_be_bytes(b[16..24].try_into().unwrap()) as usize;
    b[hdr + 28..hdr + 32].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&p, &b).unwrap();
    let e = image::open_evidence(&p).err().unwrap().to_string();
    assert!(
        e.ends_with("4294967295 table entries for 24 blocks (at most 4194304)"),
        "{e}"
    );
    // VHDX: both headers' checksums broken: refused.
    let orig = std::fs::read(dir.join("dynamic.vhdx")).unwrap();
    let mut b = orig.clone();
    b[65536 + 200] ^= 1;
    b[131072 + 200] ^= 1;
    let e = VhdxImage::open(Arc::new(b), "x.vhdx", WarningLog::default())
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "corrupt structure: x.vhdx: no VHDX header with a valid checksum"
    );
    // VHDX: one header broken: the other one is used.
    let mut b = orig.clone();
    b[65536 + 200] ^= 1;
    let img = VhdxImage::open(Arc::new(b), "x.vhdx", WarningLog::default()).unwrap();
    assert_eq!(sha256_source(&img), source_sha256());
    // VHDX: a BAT entry pointing past the end: a warning naming the block.
    let regions = &orig[196608..196608 + 65536];
    let count = u32::from_le_bytes(regions[8..12].try_into().unwrap()) as usize;
    let bat_guid = [0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42];
    let bat_off = (0..count)
        .map(|i| 16 + i * 32)
        .find(|&o| regions[o..o + 8] == bat_guid)
        .map(|o| u64::from_le_bytes(regions[o + 16..o + 24].try_into().unwrap()) as usize)
        .unwrap();
    let mut b = orig.clone();
    b[bat_off..bat_off + 8].copy_from_slice(&((1u64 << 40) | 6).to_le_bytes());
    let w = WarningLog::default();
    let img = VhdxImage::open(Arc::new(b), "x.vhdx", w.clone()).unwrap();
    let mut buf = vec![7u8; 4096];
    img.read_exact_at(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&x| x == 0));
    let ws = w.snapshot();
    assert!(
        matches!(&ws[..], [ContainerWarning::BlockUnreadable { block: 0, reason }] if reason.starts_with("x.vhdx: block 0 at 1099511627776")),
        "{ws:?}"
    );
}

#[test]
fn mutated_vhdx_never_panics() {
    let dir = stage("vhdxmut", &["dynamic.vhdx.gz"]);
    let orig = std::fs::read(dir.join("dynamic.vhdx")).unwrap();
    let mut state = 0x853C_49E6_748F_EA9Bu64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..40 {
        let mut b = orig.clone();
        for _ in 0..1 + rnd() % 3 {
            // Header, region table, metadata and BAT live in the first 4 MiB.
            let at = match i % 2 {
                0 => 65536 + rnd() as usize % (4 << 20),
                _ => rnd() as usize % b.len(),
            }
            .min(b.len() - 1);
            b[at] = rnd() as u8;
        }
        let src: Source = Arc::new(b);
        if let Ok(img) = VhdxImage::open(src, "m.vhdx", WarningLog::default()) {
            let mut buf = vec![0u8; 256 << 10];
            for pos in [0, img.size() / 2, 6 << 20] {
                let _ = img.read_at(pos, &mut buf);
            }
        }
    }
}

//! VMDK on disks written by qemu-img 10.0: monolithicSparse,
//! streamOptimized (compressed grains), monolithicFlat and
//! twoGbMaxExtentSparse descriptors; byte-exact against
//! `qemu-img convert -O raw`; hostile descriptors and headers.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;
mod evidence_common;

use common::{raw_copy, run};
use evidence_common::*;
use std::sync::Arc;
use whiteout::image::vmdk::SparseExtent;
use whiteout::image::{self, ContainerFormat, ContainerWarning, ReadAt, Source, WarningLog};

#[test]
fn every_vmdk_subformat_reads_byte_exact() {
    let files = [
        "sparse.vmdk.gz",
        "stream.vmdk",
        "flat.vmdk",
        "flat-flat.vmdk.gz",
        "split.vmdk",
        "split-s001.vmdk.gz",
    ];
    let dir = stage("v", &files);
    let want: [(&str, &[&str]); 4] = [
        ("sparse.vmdk", &["VMDK sparse extent: 98304 sectors, 128-sector grains"]),
        (
            "stream.vmdk",
            &["VMDK sparse extent: 98304 sectors, 128-sector grains, compressed (stream-optimized)"],
        ),
        ("flat.vmdk", &["VMDK descriptor: createType monolithicFlat, 1 extent(s)"]),
        ("split.vmdk", &["VMDK descriptor: createType twoGbMaxExtentSparse, 1 extent(s)"]),
    ];
    for (name, layers) in want {
        let ev = image::open_evidence(&dir.join(name)).unwrap();
        assert_eq!(ev.format, ContainerFormat::Vmdk);
        assert_eq!(ev.layers, layers);
        assert_eq!(sha256_source(&*ev.source), qemu_sha(name), "{name}");
        assert_eq!(qemu_sha(name), source_sha256());
        assert!(ev.warnings.snapshot().is_empty(), "{name}");
    }
    let ev = image::open_evidence(&dir.join("stream.vmdk")).unwrap();
    let (code, out, err) = run(&["ls", dir.join("stream.vmdk").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    let (_, out_raw, _) = run(&["ls", raw_copy("ext4", "gpt").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(out, out_raw);
    drop(ev);
}

#[test]
fn stream_optimized_with_the_directory_in_the_footer() {
    // As VMware writes it: header gdOffset = all ones, the real header in a
    // footer 1024 bytes before the end (then an end-of-stream marker).
    let orig = std::fs::read(evidence_dir().join("stream.vmdk")).unwrap();
    let mut b = orig.clone();
    let end = b.len() - 512; // qemu's end-of-stream marker
    b.truncate(end);
    b.extend_from_slice(&orig[..512]); // footer: the header copy
    b.extend_from_slice(&[0u8; 512]); // end-of-stream marker
    b[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = SparseExtent::open(Arc::new(b), "f.vmdk", WarningLog::default()).unwrap();
    assert_eq!(sha256_source(&e), source_sha256());
    // No valid footer: refused in one line.
    let mut b = orig.clone();
    b[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = SparseExtent::open(Arc::new(b), "f.vmdk", WarningLog::default())
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "corrupt structure: f.vmdk: grain directory at the end, but no valid footer"
    );
}

#[test]
fn descriptors_naming_files_outside_the_evidence_are_refused() {
    let dir = stage("vbad", &["flat.vmdk", "flat-flat.vmdk.gz"]);
    let text = std::fs::read_to_string(dir.join("flat.vmdk")).unwrap();
    for (bad, why) in [
        ("/etc/shadow", "is outside the evidence directory; refused"),
        ("../x", "is outside the evidence directory; refused"),
        ("sub/../../x", "is outside the evidence directory; refused"),
        ("nothere-flat.vmdk", "not found (looked for "),
    ] {
        let p = dir.join("bad.vmdk");
        std::fs::write(&p, text.replace("flat-flat.vmdk", bad)).unwrap();
        let e = image::open_evidence(&p).err().unwrap().to_string();
        assert!(
            e.contains(&format!("bad.vmdk: extent '{bad}' {why}")),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
    // A symlink inside the directory that leads out is refused too.
    std::os::unix::fs::symlink("/etc/hostname", dir.join("link-flat.vmdk")).unwrap();
    let p = dir.join("link.vmdk");
    std::fs::write(&p, text.replace("flat-flat.vmdk", "link-flat.vmdk")).unwrap();
    let e = image::open_evidence(&p).err().unwrap().to_string();
    assert!(
        e.contains("extent 'link-flat.vmdk' resolves outside the evidence directory; refused"),
        "{e}"
    );
    // A flat extent shorter than declared: a warning, the rest reads as zeros.
    let short = dir.join("short-flat.vmdk");
    let flat = std::fs::read(dir.join("flat-flat.vmdk")).unwrap();
    std::fs::write(&short, &flat[..1 << 20]).unwrap();
    let p = dir.join("short.vmdk");
    std::fs::write(&p, text.replace("flat-flat.vmdk", "short-flat.vmdk")).unwrap();
    let ev = image::open_evidence(&p).unwrap();
    assert_eq!(ev.source.size(), 50_331_648);
    let ws: Vec<String> = ev
        .warnings
        .snapshot()
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(ws.len(), 1);
    assert!(
        ws[0].ends_with(
            "extent 1 ('short-flat.vmdk') holds 1048576 of 50331648 bytes; the rest reads as zeros"
        ),
        "{ws:?}"
    );
    let mut buf = vec![1u8; 4096];
    ev.source.read_exact_at(2 << 20, &mut buf).unwrap();
    assert!(buf.iter().all(|&x| x == 0));
}

#[test]
fn damaged_grain_tables_warn_and_mutants_never_panic() {
    let orig = std::fs::read(evidence_dir().join("stream.vmdk")).unwrap();
    let gd = u64::from_le_bytes(orig[56..64].try_into().unwrap()) as usize * 512;
    let gt = u32::from_le_bytes(orig[gd..gd + 4].try_into().unwrap()) as usize * 512;
    // Grain 0's marker moved past the end of the file.
    let mut b = orig.clone();
    b[gt..gt + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let w = WarningLog::default();
    let e = SparseExtent::open(Arc::new(b), "g.vmdk", w.clone()).unwrap();
    let mut buf = vec![9u8; 65536];
    e.read_exact_at(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&x| x == 0));
    let ws = w.snapshot();
    assert!(
        matches!(&ws[..], [ContainerWarning::BlockUnreadable { block: 0, reason }] if reason.starts_with("g.vmdk: grain 0: grain marker at 1099511619584")),
        "{ws:?}"
    );
    // Deterministic mutants of header, directory, tables and grains.
    let mut state = 0xD1B5_4A32_D192_ED03u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut opened = 0;
    for i in 0..200 {
        let mut b = orig.clone();
        for _ in 0..1 + rnd() % 3 {
            let at = match i % 3 {
                0 => rnd() as usize % 512,
                1 => gd + rnd() as usize % 8192,
                _ => rnd() as usize % b.len(),
            }
            .min(b.len() - 1);
            b[at] = rnd() as u8;
        }
        let src: Source = Arc::new(b);
        if let Ok(e) = SparseExtent::open(src, "m.vmdk", WarningLog::default()) {
            opened += 1;
            let mut buf = vec![0u8; 256 << 10];
            for pos in [0, e.size() / 2, 6 << 20] {
                let _ = e.read_at(pos, &mut buf);
            }
        }
    }
    assert!(opened > 60, "{opened}");
}

#[test]
fn custody_covers_the_descriptor_and_its_extents() {
    let dir = stage("vfiles", &["flat.vmdk", "flat-flat.vmdk.gz", "stream.vmdk"]);
    let names = |f: &str| -> Vec<String> {
        image::evidence_files(&dir.join(f))
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names("flat.vmdk"), ["flat.vmdk", "flat-flat.vmdk"]);
    assert_eq!(names("stream.vmdk"), ["stream.vmdk"]);
}

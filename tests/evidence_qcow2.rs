//! qcow2 on images written by qemu-img/qemu-io 10.0: v2, v3 with zlib and
//! zstd compressed clusters, extended L2, a backing chain with zero
//! clusters and an internal snapshot; byte-exact against
//! `qemu-img convert -O raw`, and damaged copies.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;
mod evidence_common;

use common::{raw_copy, run};
use evidence_common::*;
use std::path::Path;
use std::sync::Arc;
use whiteout::image::qcow2::{read_header, Qcow2Image};
use whiteout::image::{self, ContainerFormat, ContainerWarning, ReadAt, Source, WarningLog};

#[test]
fn every_qcow2_variant_reads_byte_exact() {
    let files = [
        "zlib.qcow2",
        "zstd.qcow2",
        "v2.qcow2.gz",
        "extl2.qcow2.gz",
        "base.qcow2",
    ];
    let dir = stage("q", &files);
    let want = [
        ("zlib.qcow2", "qcow2 v3 zlib.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression"),
        ("zstd.qcow2", "qcow2 v3 zstd.qcow2: 50331648 bytes, 65536-byte clusters, Zstd compression"),
        ("v2.qcow2", "qcow2 v2 v2.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression"),
        (
            "extl2.qcow2",
            "qcow2 v3 extl2.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression, extended L2",
        ),
        ("base.qcow2", "qcow2 v3 base.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression"),
    ];
    for (name, layer) in want {
        let ev = image::open_evidence(&dir.join(name)).unwrap();
        assert_eq!(ev.format, ContainerFormat::Qcow2);
        assert_eq!(ev.layers, [layer]);
        assert_eq!(sha256_source(&*ev.source), qemu_sha(name), "{name}");
        assert_eq!(qemu_sha(name), source_sha256());
        assert!(ev.warnings.snapshot().is_empty(), "{name}");
    }
}

#[test]
fn backing_chain_zero_clusters_and_snapshot() {
    let dir = stage("qtop", &["top.qcow2.gz", "base.qcow2"]);
    let ev = image::open_evidence(&dir.join("top.qcow2")).unwrap();
    assert_eq!(
        sha256_source(&*ev.source),
        manifest()["qcow2_top_sha256"].as_str().unwrap()
    );
    assert_eq!(
        ev.layers,
        [
            "qcow2 v3 top.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression, backing 'base.qcow2', snapshots: 1 'before-writes'",
            "qcow2 v3 base.qcow2: 50331648 bytes, 65536-byte clusters, Zlib compression",
        ]
    );
    // The qemu-io writes: a pattern, zero clusters, a pattern; the rest is base.
    let read = |pos: u64, len: usize| {
        let mut b = vec![0x11u8; len];
        ev.source.read_exact_at(pos, &mut b).unwrap();
        b
    };
    assert!(read(1 << 20, 128 << 10).iter().all(|&x| x == 0xab));
    assert!(read(2 << 20, 128 << 10).iter().all(|&x| x == 0));
    assert!(read(40 << 20, 4096).iter().all(|&x| x == 0x5a));
    let raw = std::fs::read(raw_copy("ext4", "gpt")).unwrap();
    assert!(read(6 << 20, 1 << 20) == raw[6 << 20..7 << 20]);
    // The snapshot as `qemu-img snapshot -l` lists it.
    let listed = std::fs::read_to_string(evidence_dir().join("top.qcow2.snapshots.txt")).unwrap();
    let f = whiteout::image::RawFile::open(&dir.join("top.qcow2")).unwrap();
    let h = read_header(&f, &WarningLog::default()).unwrap();
    assert_eq!(h.snapshots.len(), 1);
    assert_eq!(h.snapshots[0].id, "1");
    assert_eq!(h.snapshots[0].name, "before-writes");
    assert!(listed.contains("1       before-writes"), "{listed}");
}

#[test]
fn cli_lists_the_ext4_inside_a_zstd_qcow2() {
    let dir = stage("qcli", &["zstd.qcow2"]);
    let q = dir.join("zstd.qcow2");
    let (code, out, err) = run(&["ls", q.to_str().unwrap(), "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    let (_, out_raw, _) = run(&["ls", raw_copy("ext4", "gpt").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(out, out_raw);
    let (code, data, err) = run(&["icat", q.to_str().unwrap(), "/dir/sub/data.bin"]);
    assert_eq!(code, 0, "{err}");
    let (_, data_raw, _) = run(&[
        "icat",
        raw_copy("ext4", "gpt").to_str().unwrap(),
        "/dir/sub/data.bin",
    ]);
    assert!(!data.is_empty() && data == data_raw);
}

/// Rewrite the backing file name of a qcow2 file in place.
fn set_backing(p: &Path, name: &str) {
    let mut b = std::fs::read(p).unwrap();
    let off = u64::from_be_bytes(b[8..16].try_into().unwrap()) as usize;
    b[off..off + name.len()].copy_from_slice(name.as_bytes());
    b[16..20].copy_from_slice(&(name.len() as u32).to_be_bytes());
    std::fs::write(p, b).unwrap();
}

#[test]
fn missing_and_looping_backing_files_are_one_line_errors() {
    let dir = stage("qmiss", &["top.qcow2.gz"]);
    let e = image::open_evidence(&dir.join("top.qcow2"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("backing file 'base.qcow2' not found (looked for "),
        "{e}"
    );
    assert!(!e.contains('\n'));
    // top names itself.
    let dir = stage("qself", &["top.qcow2.gz"]);
    set_backing(&dir.join("top.qcow2"), "top.qcow2");
    let e = image::open_evidence(&dir.join("top.qcow2"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("qcow2 backing loop: top.qcow2 -> top.qcow2"),
        "{e}"
    );
    // a -> b -> a.
    let dir = stage("qloop", &["top.qcow2.gz"]);
    std::fs::copy(dir.join("top.qcow2"), dir.join("aaaa.qcow2")).unwrap();
    std::fs::copy(dir.join("top.qcow2"), dir.join("bbbb.qcow2")).unwrap();
    set_backing(&dir.join("aaaa.qcow2"), "bbbb.qcow2");
    set_backing(&dir.join("bbbb.qcow2"), "aaaa.qcow2");
    let e = image::open_evidence(&dir.join("aaaa.qcow2"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("qcow2 backing loop: aaaa.qcow2 -> bbbb.qcow2 -> aaaa.qcow2"),
        "{e}"
    );
    // An absolute name is looked for by file name next to the image only.
    let dir = stage("qabs", &["top.qcow2.gz"]);
    set_backing(&dir.join("top.qcow2"), "/etc/shadow");
    let e = image::open_evidence(&dir.join("top.qcow2"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("backing file '/etc/shadow' not found (looked for "),
        "{e}"
    );
    assert!(
        e.ends_with("/shadow)") && !e.contains("/etc/shadow)"),
        "{e}"
    );
}

fn from_bytes(b: Vec<u8>) -> whiteout::Result<(Qcow2Image, WarningLog)> {
    let w = WarningLog::default();
    let f: Source = Arc::new(b);
    let h = read_header(&*f, &w)?;
    Ok((Qcow2Image::new(f, "m.qcow2", h, None, w.clone())?, w))
}

#[test]
fn damaged_tables_warn_and_read_zeros() {
    let orig = std::fs::read(evidence_dir().join("zlib.qcow2")).unwrap();
    let l1_off = u64::from_be_bytes(orig[40..48].try_into().unwrap()) as usize;
    // L1 table past the end of the file: refused at open.
    let mut b = orig.clone();
    b[40..48].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let e = from_bytes(b).err().unwrap().to_string();
    assert!(
        e.contains("m.qcow2: L1 table past the end of the file"),
        "{e}"
    );
    // An L1 count far beyond the disk size: refused.
    let mut b = orig.clone();
    b[36..40].copy_from_slice(&u32::MAX.to_be_bytes());
    let e = from_bytes(b).err().unwrap().to_string();
    assert!(e.contains("L1 table of 4294967295 entries"), "{e}");
    // The first L2 table's entry 0 points past the end of the file.
    let mut b = orig.clone();
    let l2 = (u64::from_be_bytes(b[l1_off..l1_off + 8].try_into().unwrap()) & 0x00ff_ffff_ffff_fe00)
        as usize;
    b[l2..l2 + 8].copy_from_slice(&(0x8000_0000_0000_0000u64 | (1 << 40)).to_be_bytes());
    let (img, w) = from_bytes(b).unwrap();
    let mut buf = vec![0xffu8; 65536];
    img.read_exact_at(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&x| x == 0));
    let ws = w.snapshot();
    assert!(
        matches!(&ws[..], [ContainerWarning::BlockUnreadable { block: 0, reason }] if reason.contains("cluster data at 1099511627776")),
        "{ws:?}"
    );
}

/// Deterministic mutants of the real zstd and extended-L2 images: open or
/// a one-line error; reads never panic.
#[test]
fn mutated_qcow2_never_panics() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dir = stage("qmut", &["extl2.qcow2.gz"]);
    for name in ["zstd.qcow2", "extl2.qcow2"] {
        let p = if name == "zstd.qcow2" {
            evidence_dir().join(name)
        } else {
            dir.join(name)
        };
        let orig = std::fs::read(p).unwrap();
        let l1 = u64::from_be_bytes(orig[40..48].try_into().unwrap()) as usize;
        let mut opened = 0;
        for i in 0..150 {
            let mut b = orig.clone();
            for _ in 0..1 + rnd() % 3 {
                let at = match i % 3 {
                    0 => rnd() as usize % 112,
                    1 => l1 + rnd() as usize % 65536,
                    _ => rnd() as usize % b.len(),
                }
                .min(b.len() - 1);
                b[at] = rnd() as u8;
            }
            if let Ok((img, _)) = from_bytes(b) {
                opened += 1;
                let mut buf = vec![0u8; 512 << 10];
                for pos in [0, img.size() / 2, 6 << 20] {
                    let _ = img.read_at(pos, &mut buf);
                }
            }
        }
        assert!(opened > 50, "{name}: {opened}");
    }
}

#[test]
fn custody_covers_the_backing_chain() {
    let dir = stage("qfiles", &["top.qcow2.gz", "base.qcow2"]);
    let files = image::evidence_files(&dir.join("top.qcow2")).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["top.qcow2", "base.qcow2"]);
    // A self-naming image is listed once.
    set_backing(&dir.join("top.qcow2"), "top.qcow2");
    assert_eq!(
        image::evidence_files(&dir.join("top.qcow2")).unwrap().len(),
        1
    );
}

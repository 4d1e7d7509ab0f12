//! LVM2 on a disk whose PV labels and VG metadata lvm2 2.03 wrote (two PVs
//! on two GPT partitions); the LV contents were placed at their extents
//! (no device-mapper here). Logical volumes read byte-exact, the ext4
//! inside listed and extracted; damaged metadata and missing PVs.

mod common;
mod evidence_common;

use common::{run, sha256_hex};
use evidence_common::*;
use serde_json::Value;
use std::sync::Arc;
use whiteout::image::lvm::{self, parse_metadata, scan_disk, SegmentKind};
use whiteout::image::{self, Source, WarningLog};

fn lvm_manifest() -> Value {
    serde_json::from_slice(&std::fs::read(evidence_dir().join("lvm.json")).unwrap()).unwrap()
}

fn disk() -> (std::path::PathBuf, Source) {
    let dir = stage("lvm", &["lvm.img.gz"]);
    let p = dir.join("lvm.img");
    let src = image::open(&p).unwrap();
    (p, src)
}

#[test]
fn volume_group_and_logical_volumes_as_lvs_lists_them() {
    let (_, src) = disk();
    let scan = scan_disk(&src);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    assert_eq!(scan.vgs.len(), 1);
    let vg = &scan.vgs[0];
    assert_eq!(vg.name, "vg0");
    assert_eq!(vg.seqno, 2); // vgcreate wrote 1, vgcfgrestore 2
    assert_eq!(vg.extent_size, 1 << 20);
    assert_eq!(vg.pvs.len(), 2);
    assert_eq!(vg.pvs[0].pe_start, 1 << 20);
    assert_eq!(vg.pvs[0].pe_count, 18);
    assert_eq!(scan.pvs.len(), 2);
    assert_eq!(scan.names(), ["vg0/data", "vg0/stripes"]);
    // As `lvs -o seg_start_pe,seg_size_pe,stripes,seg_pe_ranges` printed them.
    let lvs = std::fs::read_to_string(evidence_dir().join("lvm.lvs.txt")).unwrap();
    let mut rows = Vec::new();
    for lv in &vg.lvs {
        for s in &lv.segments {
            let SegmentKind::Striped { stripes, .. } = &s.kind else {
                panic!("{s:?}")
            };
            let ranges: Vec<String> = stripes
                .iter()
                .map(|(pv, pe)| {
                    let per = s.extent_count / stripes.len() as u64;
                    let dev = if pv == "pv0" {
                        "/dev/loop0"
                    } else {
                        "/dev/loop1"
                    };
                    format!("{dev}:{pe}-{}", pe + per - 1)
                })
                .collect();
            rows.push(format!(
                "{} {} {} {} {}",
                lv.name,
                s.start_extent,
                s.extent_count,
                stripes.len(),
                ranges.join(" ")
            ));
        }
    }
    let want: Vec<String> = lvs
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let mut v = vec![f[0], f[1], f[2], f[3]];
            v.extend(f[5..].iter().copied().filter(|x| x.starts_with("/dev")));
            if f[4].starts_with("/dev") {
                v.insert(4, f[4]);
            }
            v.join(" ")
        })
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn logical_volumes_read_byte_exact() {
    let (_, src) = disk();
    let scan = scan_disk(&src);
    let m = lvm_manifest();
    for name in ["vg0/data", "vg0/stripes"] {
        let lv = scan.open(name, &WarningLog::default()).unwrap();
        assert_eq!(
            sha256_source(&*lv),
            m["lv_sha256"][name].as_str().unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        scan.open("vg0/data", &WarningLog::default())
            .unwrap()
            .size(),
        16 << 20
    );
    let e = scan
        .open("vg0/nope", &WarningLog::default())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "no LVM logical volume vg0/nope; found: vg0/data, vg0/stripes"
    );
}

#[test]
fn cli_reads_the_ext4_inside_logical_volumes() {
    let (p, _) = disk();
    let img = p.to_str().unwrap();
    let m = lvm_manifest();
    // No choice given: the disk has no ext partition, so the LVs are probed.
    let (code, out, err) = run(&["ls", img, "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: reading LVM logical volume vg0/data (logical volumes: vg0/data, vg0/stripes); use --volume VG/LV to read another"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&out);
    for f in ["hello.txt", "big.log", "docs/random.bin", "docs/blocks.log"] {
        assert!(out.lines().any(|l| l.ends_with(f)), "{f}: {out}");
    }
    for (vol, path, key) in [
        ("vg0/data", "/hello.txt", "/hello.txt"),
        ("vg0/data", "/big.log", "/big.log"),
        ("vg0/data", "/docs/random.bin", "/docs/random.bin"),
        ("vg0/stripes", "/blocks.log", "/docs/blocks.log"),
        ("vg0/stripes", "/random.bin", "/docs/random.bin"),
        ("vg0/stripes", "/note.txt", "/docs/note.txt"),
    ] {
        let (code, data, err) = run(&["icat", img, path, "--volume", vol]);
        assert_eq!(code, 0, "{vol} {path}: {err}");
        assert_eq!(
            sha256_hex(&data),
            m["files"][key].as_str().unwrap(),
            "{vol} {path}"
        );
    }
    let (code, _, err) = run(&["ls", img, "--volume", "vg9/x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no LVM logical volume vg9/x; found: vg0/data, vg0/stripes"),
        "{err}"
    );
}

#[test]
fn damaged_metadata_uses_the_ring_and_missing_pvs_read_zeros() {
    let (p, src) = disk();
    let mut b = vec![0u8; src.size() as usize];
    src.read_exact_at(0, &mut b).unwrap();
    // Partition 1 starts at 1 MiB; its metadata area at 4096 of the PV.
    let mda = (1 << 20) + 4096;
    let loc = u64::from_le_bytes(b[mda + 40..mda + 48].try_into().unwrap()) as usize;
    let good = b.clone();
    b[mda + loc + 10] ^= 0x20; // the current text's checksum breaks
    let s: Source = Arc::new(b.clone());
    let scan = scan_disk(&s);
    assert_eq!(scan.names(), ["vg0/data", "vg0/stripes"]);
    assert!(
        scan.warnings
            .iter()
            .any(|w| w.starts_with("partition 1: metadata at ")
                && w.ends_with("checksum mismatch; looking for older copies in the ring")),
        "{:?}",
        scan.warnings
    );
    // The second PV's label gone: its extents read as zeros, with a warning.
    let mut b = good.clone();
    let p2 = 40960 * 512;
    b[p2 + 512..p2 + 520].fill(0);
    let s: Source = Arc::new(b);
    let scan = scan_disk(&s);
    let w = WarningLog::default();
    let lv = scan.open("vg0/data", &w).unwrap();
    let ws: Vec<String> = w.snapshot().iter().map(|x| x.to_string()).collect();
    assert_eq!(ws.len(), 1, "{ws:?}");
    assert!(
        ws[0].starts_with("vg0/data: pv1 (")
            && ws[0].ends_with(") not found; its extents read as zeros"),
        "{ws:?}"
    );
    let mut second = vec![1u8; 8 << 20];
    lv.read_exact_at(8 << 20, &mut second).unwrap();
    assert!(second.iter().all(|&x| x == 0));
    drop(p);
}

#[test]
fn metadata_parser_rejects_garbage_without_panicking() {
    assert!(parse_metadata("vg { a = [1, \"x\" }").is_err());
    assert!(parse_metadata("vg { a = \"unterminated }").is_err());
    assert!(parse_metadata(&"a {".repeat(100)).is_err());
    let v = parse_metadata("vg {\n id = \"x\"\n seqno = 7 # c\n l = [\"pv0\", 2]\n}\n").unwrap();
    assert_eq!(
        v.get("vg").unwrap().get("l"),
        Some(&lvm::Value::List(vec![
            lvm::Value::Str("pv0".into()),
            lvm::Value::Int(2)
        ]))
    );
    // Mutants of the real metadata text.
    let (_, src) = disk();
    let mut b = vec![0u8; 1 << 20];
    src.read_exact_at(1 << 20, &mut b).unwrap();
    let mda = 4096;
    let loc = u64::from_le_bytes(b[mda + 40..mda + 48].try_into().unwrap()) as usize;
    let len = u64::from_le_bytes(b[mda + 48..mda + 56].try_into().unwrap()) as usize;
    let text = b[mda + loc..mda + loc + len].to_vec();
    let mut state = 0x1234_5678_9ABC_DEF1u64;
    for _ in 0..300 {
        let mut t = text.clone();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = state as usize % t.len();
            t[at] = b"{}[]=,\"#-9 a\n"[(state >> 40) as usize % 13];
        }
        if let Ok(m) = parse_metadata(&String::from_utf8_lossy(&t)) {
            let _ = lvm::volume_group(&m);
        }
    }
}

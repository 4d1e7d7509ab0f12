//! EWF (E01) on fixtures written by ewfacquire (libewf 20140813): the
//! logical media byte-exact against ewfexport's, the acquisition metadata
//! and stored hashes as ewfinfo prints them, the ext4 inside, and damaged
//! copies (truncated, lying, looping) read with warnings, never a panic.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;
mod evidence_common;

use common::{manifest as fixture_manifest, raw_copy, run, sha256_hex};
use evidence_common::*;
use std::path::Path;
use whiteout::image::{
    self, ewf::adler32, verify_stored_hashes, ContainerFormat, ContainerWarning, Evidence,
};

/// `Key:<tabs>value` lines of the committed ewfinfo output.
fn ewfinfo(name: &str, key: &str) -> String {
    let t = std::fs::read_to_string(evidence_dir().join(format!("{name}.ewfinfo.txt"))).unwrap();
    t.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} not in ewfinfo"))
        .trim()
        .to_string()
}

fn open(p: &Path) -> Evidence {
    image::open_evidence(p).unwrap()
}

fn warnings(ev: &Evidence) -> Vec<String> {
    ev.warnings
        .snapshot()
        .iter()
        .map(|w| w.to_string())
        .collect()
}

/// Sections of one segment: (type, descriptor offset, next, size).
fn sections(b: &[u8]) -> Vec<(String, usize, u64, u64)> {
    let mut out = Vec::new();
    let mut off = 13usize;
    loop {
        let d = &b[off..off + 76];
        let t = String::from_utf8_lossy(&d[..16])
            .trim_end_matches('\0')
            .to_string();
        let next = u64::from_le_bytes(d[16..24].try_into().unwrap());
        let size = u64::from_le_bytes(d[24..32].try_into().unwrap());
        out.push((t.clone(), off, next, size));
        if t == "done" || t == "next" {
            return out;
        }
        off = next as usize;
    }
}

fn section(b: &[u8], kind: &str) -> (usize, u64) {
    let s = sections(b);
    let (_, off, _, size) = s.iter().find(|s| s.0 == kind).unwrap();
    (*off, *size)
}

/// (absolute offset, compressed) of every chunk in the first table.
fn table_entries(b: &[u8]) -> Vec<(usize, bool)> {
    let (off, _) = section(b, "table");
    let d = off + 76;
    let n = u32::from_le_bytes(b[d..d + 4].try_into().unwrap()) as usize;
    let base = u64::from_le_bytes(b[d + 8..d + 16].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| {
            let e = u32::from_le_bytes(b[d + 24 + 4 * i..d + 28 + 4 * i].try_into().unwrap());
            (base + (e & 0x7fff_ffff) as usize, e >> 31 == 1)
        })
        .collect()
}

/// Rewrite table entry `i` of the section at `off` and fix its checksum.
fn set_table_entry(b: &mut [u8], off: usize, i: usize, value: u32) {
    let d = off + 76;
    let n = u32::from_le_bytes(b[d..d + 4].try_into().unwrap()) as usize;
    b[d + 24 + 4 * i..d + 28 + 4 * i].copy_from_slice(&value.to_le_bytes());
    let sum = adler32(&b[d + 24..d + 24 + 4 * n]);
    b[d + 24 + 4 * n..d + 28 + 4 * n].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn single_segment_e01_reads_byte_exact_with_metadata() {
    let dir = stage("ewf1", &["disk.E01"]);
    let ev = open(&dir.join("disk.E01"));
    assert_eq!(ev.format, ContainerFormat::Ewf);
    assert_eq!(ev.source.size(), 50_331_648);
    let m = manifest();
    assert_eq!(
        sha256_source(&*ev.source),
        m["ewf"]["disk.E01"].as_str().unwrap()
    );
    assert_eq!(sha256_source(&*ev.source), source_sha256());
    let a = ev.acquisition.clone().unwrap();
    assert_eq!(
        a.case_number.as_deref(),
        Some(ewfinfo("disk.E01", "Case number").as_str())
    );
    assert_eq!(a.case_number.as_deref(), Some("case42"));
    assert_eq!(a.evidence_number.as_deref(), Some("ev1"));
    assert_eq!(a.examiner.as_deref(), Some("examiner"));
    assert_eq!(a.description.as_deref(), Some("desc"));
    assert_eq!(a.notes.as_deref(), Some("notes"));
    assert_eq!(
        a.software.as_deref(),
        Some(ewfinfo("disk.E01", "Software version used").as_str())
    );
    assert_eq!(a.os.as_deref(), Some("Linux"));
    assert_eq!(a.bytes_per_sector, Some(512));
    assert_eq!(a.sector_count, Some(98304));
    // ewfinfo prints the header2 time stamp in local time; this machine is UTC.
    assert_eq!(
        ewfinfo("disk.E01", "Acquisition date"),
        "Sun Dec  6 02:01:56 2026"
    );
    assert_eq!(a.acquisition_date.as_deref(), Some("2026-12-06T02:01:56Z"));
    assert_eq!(
        ev.stored_hashes.md5.as_deref(),
        Some(ewfinfo("disk.E01", "MD5").as_str())
    );
    assert_eq!(
        ev.stored_hashes.sha1.as_deref(),
        Some(ewfinfo("disk.E01", "SHA1").as_str())
    );
    assert_eq!(ev.layers, ["EWF: 1 segment(s), 1536 chunks of 32768 bytes"]);
    assert!(warnings(&ev).is_empty(), "{:?}", warnings(&ev));
    // The stored MD5 and SHA-1 verify against the media as read.
    let checks = verify_stored_hashes(&ev).unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].algorithm, "MD5");
    assert_eq!(checks[0].computed, "9b42a9bc2bbfbeebc6abe38ba0360d69");
    assert!(checks.iter().all(|c| c.matches), "{checks:?}");
}

#[test]
fn four_segment_stored_set_reads_byte_exact() {
    let files = [
        "split.E01.gz",
        "split.E02.gz",
        "split.E03.gz",
        "split.E04.gz",
    ];
    let dir = stage("ewf4", &files);
    let ev = open(&dir.join("split.E01"));
    assert_eq!(ev.layers, ["EWF: 4 segment(s), 1536 chunks of 32768 bytes"]);
    assert_eq!(
        sha256_source(&*ev.source),
        manifest()["ewf"]["split.E01"].as_str().unwrap()
    );
    let a = ev.acquisition.clone().unwrap();
    assert_eq!(a.case_number.as_deref(), Some("case43"));
    assert_eq!(a.description.as_deref(), Some("split set"));
    assert_eq!(a.notes.as_deref(), Some("stored chunks"));
    assert_eq!(
        ev.stored_hashes.md5.as_deref(),
        Some(ewfinfo("split.E01", "MD5").as_str())
    );
    assert_eq!(ev.stored_hashes.sha1, None);
    assert!(warnings(&ev).is_empty(), "{:?}", warnings(&ev));
    // A read crossing the segment boundaries equals the raw disk.
    let raw = std::fs::read(raw_copy("ext4", "gpt")).unwrap();
    let mut buf = vec![0u8; 3 << 20];
    let at = (16 << 20) - 12345;
    ev.source.read_exact_at(at, &mut buf).unwrap();
    assert!(buf == raw[at as usize..at as usize + buf.len()]);
}

#[test]
fn cli_lists_and_extracts_the_ext4_inside_an_e01() {
    let dir = stage("ewfcli", &["disk.E01"]);
    let e01 = dir.join("disk.E01");
    let (code, out, err) = run(&["ls", e01.to_str().unwrap(), "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    let (_, out_raw, _) = run(&["ls", raw_copy("ext4", "gpt").to_str().unwrap(), "-r", "-p"]);
    assert_eq!(out, out_raw);
    assert!(String::from_utf8_lossy(&out).contains("dir/sub/data.bin"));
    let m = fixture_manifest("ext4", "gpt");
    let files = m["filesystems"][0]["files"].as_array().unwrap();
    let f = files.iter().find(|f| f["path"] == "/dir/file.txt").unwrap();
    let (code, data, err) = run(&["icat", e01.to_str().unwrap(), "/dir/file.txt"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sha256_hex(&data), f["sha256"].as_str().unwrap());
    // info names the container and its acquisition metadata.
    let (code, out, err) = run(&["info", e01.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("container: EWF (E01)"), "{out}");
    assert!(out.contains("case number: case42"), "{out}");
    assert!(
        out.contains("stored MD5: 9b42a9bc2bbfbeebc6abe38ba0360d69"),
        "{out}"
    );
}

#[test]
fn damaged_table_falls_back_to_table2() {
    let dir = stage("ewftab", &["disk.E01"]);
    let p = dir.join("disk.E01");
    let mut b = std::fs::read(&p).unwrap();
    let (off, _) = section(&b, "table");
    b[off + 76 + 24 + 40] ^= 0x01; // an entry: the entries checksum breaks
    std::fs::write(&p, &b).unwrap();
    let ev = open(&p);
    assert_eq!(sha256_source(&*ev.source), source_sha256());
    assert_eq!(
        warnings(&ev),
        [format!(
            "{}: table at {off} is damaged; its copy table2 at {} is used",
            p.display(),
            off + 6248
        )]
    );
}

#[test]
fn chunk_damage_is_a_warning_naming_the_chunk() {
    // Stored chunk: a flipped byte keeps the data, and the Adler-32 names it.
    let files = [
        "split.E01.gz",
        "split.E02.gz",
        "split.E03.gz",
        "split.E04.gz",
    ];
    let dir = stage("ewfchunk", &files);
    let p = dir.join("split.E01");
    let mut b = std::fs::read(&p).unwrap();
    let ents = table_entries(&b);
    assert!(!ents[3].1);
    b[ents[3].0 + 7] ^= 0x80;
    std::fs::write(&p, &b).unwrap();
    let ev = open(&p);
    let mut one = [0u8; 1];
    ev.source.read_exact_at(3 * 32768 + 7, &mut one).unwrap();
    let w = ev.warnings.snapshot();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        matches!(w[0], ContainerWarning::ChunkChecksum { chunk: 3, .. }),
        "{w:?}"
    );
    // The whole media then differs from the original by that one bit.
    let checks = verify_stored_hashes(&ev).unwrap();
    assert!(!checks[0].matches);
    // Compressed chunk: damage inside the deflate data of chunk 5.
    let dir = stage("ewfz", &["disk.E01"]);
    let p = dir.join("disk.E01");
    let mut b = std::fs::read(&p).unwrap();
    let ents = table_entries(&b);
    assert!(ents[5].1);
    for k in 2..(ents[6].0 - ents[5].0 - 4) {
        b[ents[5].0 + k] = 0xA5;
    }
    std::fs::write(&p, &b).unwrap();
    let ev = open(&p);
    assert_eq!(ev.source.size(), 50_331_648);
    sha256_source(&*ev.source);
    let w = ev.warnings.snapshot();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        matches!(
            w[0],
            ContainerWarning::ChunkChecksum { chunk: 5, .. }
                | ContainerWarning::BlockUnreadable { block: 5, .. }
        ),
        "{w:?}"
    );
}

#[test]
fn table_pointing_into_itself_reads_zeros_with_a_warning() {
    let dir = stage("ewfself", &["disk.E01"]);
    let p = dir.join("disk.E01");
    let mut b = std::fs::read(&p).unwrap();
    for kind in ["table", "table2"] {
        let (off, _) = section(&b, kind);
        let d = off + 76;
        let base = u64::from_le_bytes(b[d + 8..d + 16].try_into().unwrap()) as usize;
        // Entry 9 now points (compressed) at its own table's entries.
        set_table_entry(&mut b, off, 9, 0x8000_0000 | (d + 24 - base) as u32);
    }
    std::fs::write(&p, &b).unwrap();
    let ev = open(&p);
    let mut chunk = vec![0xEEu8; 32768];
    ev.source.read_exact_at(9 * 32768, &mut chunk).unwrap();
    assert!(chunk.iter().all(|&x| x == 0));
    let w = ev.warnings.snapshot();
    assert!(
        matches!(&w[..], [ContainerWarning::BlockUnreadable { block: 9, .. }]),
        "{w:?}"
    );
}

#[test]
fn truncated_missing_and_lying_segments() {
    let files = [
        "split.E01.gz",
        "split.E02.gz",
        "split.E03.gz",
        "split.E04.gz",
    ];
    // E02 cut in half: its later sections are gone; their chunks read as zeros.
    let dir = stage("ewftrunc", &files);
    let e02 = dir.join("split.E02");
    let b = std::fs::read(&e02).unwrap();
    std::fs::write(&e02, &b[..b.len() / 2]).unwrap();
    let ev = open(&dir.join("split.E01"));
    let ws = warnings(&ev);
    assert!(
        ws.iter()
            .any(|w| w.contains("split.E02: truncated at section offset")),
        "{ws:?}"
    );
    assert_eq!(ev.source.size(), 50_331_648);
    assert_ne!(sha256_source(&*ev.source), source_sha256());
    // E03 missing: E02 says more follow; the set is reported incomplete.
    let dir = stage("ewfmiss", &files);
    std::fs::remove_file(dir.join("split.E03")).unwrap();
    let ev = open(&dir.join("split.E01"));
    let ws = warnings(&ev);
    assert!(
        ws.iter()
            .any(|w| w.contains("no `done` section in 2 segment(s)")),
        "{ws:?}"
    );
    assert!(
        ev.warnings
            .snapshot()
            .iter()
            .any(|w| matches!(w, ContainerWarning::MissingBlocks { .. })),
        "{ws:?}"
    );
    // E02 claims to be segment 7: a one-line error.
    let dir = stage("ewflie", &files);
    let e02 = dir.join("split.E02");
    let mut b = std::fs::read(&e02).unwrap();
    b[9] = 7;
    std::fs::write(&e02, &b).unwrap();
    let e = image::open_evidence(&dir.join("split.E01"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("split.E02: header says segment 7, expected 2"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn section_chain_pointing_back_stops_the_walk() {
    let dir = stage("ewfloop", &["disk.E01"]);
    let p = dir.join("disk.E01");
    let mut b = std::fs::read(&p).unwrap();
    let (off, _) = section(&b, "data");
    // `data` now points back at the first header2 section.
    b[off + 16..off + 24].copy_from_slice(&13u64.to_le_bytes());
    let sum = adler32(&b[off..off + 72]);
    b[off + 72..off + 76].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(&p, &b).unwrap();
    let ev = open(&p);
    let ws = warnings(&ev);
    assert!(
        ws.iter()
            .any(|w| w.contains(&format!("section `data` at {off} points to 13"))),
        "{ws:?}"
    );
    // Chunks were all found before it; the hash sections after it were not.
    assert_eq!(sha256_source(&*ev.source), source_sha256());
    assert_eq!(ev.stored_hashes.md5, None);
}

#[test]
fn scan_hashes_every_segment_and_verifies_the_stored_md5() {
    let files = [
        "split.E01.gz",
        "split.E02.gz",
        "split.E03.gz",
        "split.E04.gz",
    ];
    let dir = stage("ewfscan", &files);
    let out = dir.join("report");
    let e01 = dir.join("split.E01");
    let (code, _, err) = run(&["scan", e01.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(code == 0 || code == 3, "{err}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    // Custody covers the stored segment files, concatenated in order.
    let mut stored = Vec::new();
    for f in ["split.E01", "split.E02", "split.E03", "split.E04"] {
        stored.extend(std::fs::read(dir.join(f)).unwrap());
    }
    assert_eq!(r["image"]["hashes"]["over"], "segments");
    assert_eq!(r["image"]["hashes"]["sha256"], sha256_hex(&stored));
    assert_eq!(r["image"]["size"], stored.len() as u64);
    let log = std::fs::read_to_string(out.join("scan.log")).unwrap();
    let md5 = ewfinfo("split.E01", "MD5");
    assert!(
        log.contains(&format!("info stored MD5 verified: {md5}")),
        "{log}"
    );
    assert!(log.contains("info container: EWF (E01)"), "{log}");
    assert!(log.contains("info   case number: case43"), "{log}");
}

/// Deterministic mutants of the real E01 (bytes in descriptors, header,
/// volume, tables and chunk data replaced): every one opens or fails with
/// a one-line error, and reads never panic.
#[test]
fn mutated_e01_never_panics() {
    use std::sync::Arc;
    use whiteout::image::{ewf::EwfImage, Source, WarningLog};
    let orig = std::fs::read(evidence_dir().join("disk.E01")).unwrap();
    let secs = sections(&orig);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut opened, mut refused) = (0, 0);
    for i in 0..240 {
        let mut b = orig.clone();
        // Aim at a section start most of the time, anywhere otherwise.
        let (_, off, _, _) = secs[i % secs.len()];
        let base = if i % 4 == 3 { 0 } else { off };
        let span = if i % 4 == 3 { b.len() } else { 200 };
        for _ in 0..1 + rnd() % 4 {
            let at = (base + (rnd() as usize % span)).min(b.len() - 1);
            b[at] = match rnd() % 3 {
                0 => 0xff,
                1 => 0,
                _ => rnd() as u8,
            };
        }
        let seg: Source = Arc::new(b);
        match EwfImage::from_segments(vec![("m.E01".into(), seg)], WarningLog::default()) {
            Ok(img) => {
                opened += 1;
                let mut buf = vec![0u8; 256 << 10];
                let size = whiteout::image::ReadAt::size(&img);
                for pos in [0, size / 3, size.saturating_sub(1000)] {
                    let _ = whiteout::image::ReadAt::read_at(&img, pos, &mut buf);
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().contains('\n'), "{e}");
            }
        }
    }
    assert_eq!(opened + refused, 240);
    assert!(opened > 100, "{opened} opened");
}

//! Partition tables, volume choice, split images and the read-only CLI
//! on the kernel-written gpt/mbr fixtures.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use std::sync::Arc;
use whiteout::ext4::volume::locate;
use whiteout::image::{read_partitions, Scheme, Source};

fn parts(src: &Source) -> Vec<(u32, u64, u64, String)> {
    read_partitions(&**src)
        .partitions
        .iter()
        .map(|p| (p.index, p.start, p.len, p.type_id.clone()))
        .collect()
}

#[test]
fn gpt_partitions_match_sfdisk() {
    let m = manifest("ext4", "gpt");
    let src = image("ext4", "gpt");
    let t = read_partitions(&*src);
    assert_eq!(t.scheme, Some(Scheme::Gpt));
    assert!(!t.used_backup_gpt);
    assert_eq!(t.disk_guid.as_deref(), m["disk_id"].as_str());
    let want: Vec<(u32, u64, u64, String)> = m["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["index"].as_u64().unwrap() as u32,
                p["offset"].as_u64().unwrap(),
                p["size"].as_u64().unwrap(),
                p["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(parts(&src), want);
    assert_eq!(t.partitions[1].name, "linux");
    // The ext partition is chosen by probing: partition 2, not the FAT one.
    let loc = locate(&src, None, None).unwrap();
    assert_eq!(loc.partition.as_ref().unwrap().index, 2);
    assert_eq!(loc.offset, 6291456);
    assert!(loc.note.is_none());
    // --partition 1 holds FAT: a clear error naming it.
    let e = locate(&src, Some(1), None).err().unwrap().to_string();
    assert!(
        e.contains("partition 1 holds no ext2/3/4 filesystem (found FAT)"),
        "{e}"
    );
}

#[test]
fn damaged_primary_gpt_falls_back_to_backup() {
    let mut b = image_bytes("ext4", "gpt");
    b[512 + 100] ^= 0xFF; // inside the primary header's reserved area: CRC breaks
    b[512 + 16] ^= 0x01;
    let src: Source = Arc::new(b);
    let t = read_partitions(&*src);
    assert_eq!(t.scheme, Some(Scheme::Gpt));
    assert!(t.used_backup_gpt);
    assert!(
        t.warnings.iter().any(|w| w.contains("backup GPT")),
        "{:?}",
        t.warnings
    );
    assert_eq!(t.partitions.len(), 2);
    assert_eq!(t.partitions[1].start, 6291456);
}

#[test]
fn gpt_entries_pointing_past_the_end() {
    let mut b = image_bytes("ext4", "gpt");
    // Damage both headers' entry-array LBA (and their CRCs with it): the
    // table is then unreadable and reported, never followed.
    let last = b.len() - 512;
    for h in [512usize, last] {
        b[h + 72..h + 80].copy_from_slice(&(u64::MAX / 1024).to_le_bytes());
        let mut hdr = b[h..h + 92].to_vec();
        hdr[16..20].fill(0);
        let crc = !whiteout::util::crc::crc32_update(!0, &hdr);
        b[h + 16..h + 20].copy_from_slice(&crc.to_le_bytes());
    }
    let src: Source = Arc::new(b);
    let t = read_partitions(&*src);
    assert!(
        t.warnings.iter().any(|w| w.contains("points past the end")),
        "{:?}",
        t.warnings
    );
    assert!(t.partitions.is_empty());
    // With no usable table the image is probed as a whole and fails clearly.
    let e = locate(&src, None, None).err().unwrap().to_string();
    assert!(
        e.contains("not an ext2/3/4 image") || e.contains("no ext2/3/4"),
        "{e}"
    );
    // A partition entry that runs past the end of the image is clamped.
    let mut b = image_bytes("ext4", "gpt");
    let cut = b.len() - 8 * 1024 * 1024;
    b.truncate(cut);
    let src: Source = Arc::new(b);
    let t = read_partitions(&*src);
    let p2 = t.partitions.iter().find(|p| p.index == 2).unwrap();
    assert!(p2.truncated);
    assert_eq!(p2.start + p2.len, cut as u64);
    assert!(
        t.warnings.iter().any(|w| w.contains("runs past the end")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn mbr_with_extended_and_logical_partitions() {
    let m = manifest("ext4", "mbr");
    let src = image("ext4", "mbr");
    let t = read_partitions(&*src);
    assert_eq!(t.scheme, Some(Scheme::Mbr));
    let got: Vec<(u32, u64, u64)> = t
        .partitions
        .iter()
        .map(|p| (p.index, p.start, p.len))
        .collect();
    let want: Vec<(u32, u64, u64)> = m["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["index"].as_u64().unwrap() as u32,
                p["offset"].as_u64().unwrap(),
                p["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(t.partitions[1].type_name, "Extended");
    // Two ext filesystems: the first is read and the note says how to pick.
    let loc = locate(&src, None, None).unwrap();
    assert_eq!(loc.offset, 7340032);
    let note = loc.note.unwrap();
    assert!(
        note.contains("2 ext filesystems found") && note.contains("--partition N"),
        "{note}"
    );
    for fsm in m["filesystems"].as_array().unwrap() {
        let p = fsm["partition"].as_u64().unwrap() as u32;
        let loc = locate(&src, Some(p), None).unwrap();
        let fs = whiteout::ext4::Filesystem::open(loc.volume).unwrap();
        assert_eq!(fs.sb.label(), fsm["label"].as_str().unwrap());
        assert_eq!(loc.offset, fsm["offset"].as_u64().unwrap());
    }
}

#[test]
fn split_images_read_like_the_whole() {
    let whole = image_bytes("ext4", "gpt");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("split");
    std::fs::create_dir_all(&dir).unwrap();
    let seg = 7 * 1024 * 1024 + 4096; // not a multiple of the block size
    for (style, names) in [
        (
            "num",
            (1..=8).map(|i| format!("disk.{i:03}")).collect::<Vec<_>>(),
        ),
        (
            "alpha",
            ["aa", "ab", "ac", "ad", "ae", "af", "ag", "ah"]
                .iter()
                .map(|s| format!("disk.{s}"))
                .collect(),
        ),
    ] {
        let d = dir.join(style);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (i, chunk) in whole.chunks(seg).enumerate() {
            std::fs::write(d.join(&names[i]), chunk).unwrap();
        }
        let first = d.join(&names[0]);
        let src = whiteout::image::open(&first).unwrap();
        assert_eq!(src.size(), whole.len() as u64, "{style}");
        let mut buf = vec![0u8; 3 * seg];
        src.read_exact_at(seg as u64 - 100, &mut buf).unwrap();
        assert!(
            buf == whole[seg - 100..seg - 100 + 3 * seg],
            "{style}: bytes across segments"
        );
        // The CLI lists the same tree as from the whole image.
        let (code, out, err) = run(&["ls", first.to_str().unwrap(), "-r", "-p"]);
        assert_eq!(code, 0, "{err}");
        let (_, out_whole, _) = run(&["ls", raw_copy("ext4", "gpt").to_str().unwrap(), "-r", "-p"]);
        assert_eq!(out, out_whole, "{style}");
        assert!(String::from_utf8_lossy(&out).lines().count() >= 8);
    }
}

#[test]
fn cli_info_ls_istat_icat_on_a_partitioned_disk() {
    let img = raw_copy("ext4", "mbr");
    let img = img.to_str().unwrap();
    let (code, out, err) = run(&["info", img]);
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("PARTITION TABLE: Mbr"), "{out}");
    assert!(out.contains("Volume Name: fxmbr5"), "{out}");
    assert!(err.contains("note: 2 ext filesystems found"), "{err}");
    let (code, out, _) = run(&["info", img, "--partition", "6", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["filesystem"]["label"], "fxmbr6");
    assert_eq!(v["filesystem"]["block_size"], 4096);
    assert_eq!(v["selected"]["offset"], 16777216);
    assert_eq!(
        v["partition_table"]["partitions"].as_array().unwrap().len(),
        4
    );
    // ls --json: JSON Lines with the required fields, exact values.
    let m = manifest("ext4", "mbr");
    let fsm = &m["filesystems"][1];
    let (code, out, err) = run(&["ls", img, "--partition", "6", "-r", "-p", "--json"]);
    assert_eq!(code, 0, "{err}");
    let mut n = 0;
    for line in String::from_utf8(out).unwrap().lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        for k in [
            "path", "inode", "type", "mode", "uid", "gid", "size", "atime", "mtime", "ctime",
            "crtime", "links",
        ] {
            assert!(row.get(k).is_some(), "missing {k} in {line}");
        }
        if row["path"].as_str().unwrap().starts_with("/lost+found/") {
            continue;
        }
        let f = fsm["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == row["path"])
            .unwrap();
        assert_eq!(row["inode"], f["inode"]);
        assert_eq!(row["size"], f["size"]);
        let mt = row["mtime"].as_str().unwrap();
        assert!(
            mt.ends_with('Z') && mt.len() == 30,
            "RFC 3339 with ns: {mt}"
        );
        n += 1;
    }
    assert_eq!(n, fsm["files"].as_array().unwrap().len());
    // icat by path and by inode, istat --json.
    let f = fsm["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "r" && f["size"].as_u64().unwrap() > 0)
        .unwrap();
    let (code, by_path, _) = run(&["icat", img, "--partition", "6", f["path"].as_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(sha256_hex(&by_path), f["sha256"].as_str().unwrap());
    let ino = f["inode"].as_u64().unwrap().to_string();
    let (_, by_ino, _) = run(&["icat", img, "--partition", "6", &ino]);
    assert_eq!(by_path, by_ino);
    let (code, out, _) = run(&["istat", img, "--partition", "6", &ino, "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["allocated"], true);
    assert_eq!(v["checksum_ok"], true);
    assert_eq!(v["size"], f["size"]);
    assert!(!v["block_map"]["runs"].as_array().unwrap().is_empty());
    // A missing path: exit 1 with one line.
    let (code, _, err) = run(&["icat", img, "--partition", "6", "/no/such/file"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn cli_names_are_escaped_on_the_terminal_and_exact_in_json() {
    let img = raw_copy("ext4", "default");
    let (code, out, _) = run(&["ls", img.to_str().unwrap(), "/names"]);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).expect("terminal output is valid UTF-8");
    assert!(text.contains("\tnew\\x0aline"), "{text}");
    assert!(text.contains("\tcaf\\xe9\n"), "{text}");
    assert!(text.contains("\t\\xff\\xfe\n"), "{text}");
    let (_, out, _) = run(&["ls", img.to_str().unwrap(), "/names", "--json"]);
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let nl = rows.iter().find(|r| r["inode"] == 48).unwrap();
    // `path` is the full path, `name` the entry's own name.
    assert_eq!(nl["path"], "/names/new\nline");
    assert_eq!(nl["name"], "new\nline");
    let bad = rows.iter().find(|r| r["inode"] == 45).unwrap();
    assert_eq!(bad["path_hex"], "2f6e616d65732ffffe");
}

//! Deleted-file recovery on kernel-written fixtures, against the
//! generator's ground truth (recorded before each deletion).
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use std::collections::HashMap;
use whiteout::ext4::Filesystem;
use whiteout::recover::{
    self, CandidateKind, ContentState, DeletedCandidate, NameSource, RunState,
};

fn analyse(name: &str) -> (Filesystem, serde_json::Value, Vec<DeletedCandidate>) {
    let m = manifest("deleted", name);
    let fs = fs_from_bytes(image_bytes("deleted", name)).unwrap();
    let r = recover::analyse(&fs, &recover::Options::default());
    (fs, m, r.candidates)
}

fn by_inode(c: &[DeletedCandidate]) -> HashMap<u32, &DeletedCandidate> {
    c.iter().map(|c| (c.inode, c)).collect()
}

fn path(c: &DeletedCandidate) -> String {
    String::from_utf8_lossy(&c.path).into_owned()
}

/// No false claims: whatever is reported as fully recovered hashes to the
/// ground truth, and wiped/reallocated runs are never counted as content.
fn no_false_claims(m: &serde_json::Value, cands: &[DeletedCandidate]) {
    let truth: HashMap<u64, &serde_json::Value> = m["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["inode"].as_u64().unwrap(), d))
        .collect();
    for c in cands {
        if c.content == ContentState::Full
            && c.file_type == whiteout::ext4::FileType::Regular
            && !c.realloc
        {
            if let Some(d) = truth.get(&(c.inode as u64)) {
                assert_eq!(
                    c.sha256_hex().as_deref(),
                    d["sha256"].as_str(),
                    "{}: claimed full but differs",
                    path(c)
                );
            }
        }
        if c.content == ContentState::Full {
            assert!(
                c.runs().iter().all(|r| r.state == RunState::Free),
                "{}: full with non-free runs",
                path(c)
            );
        }
    }
}

#[test]
fn depth_0_1_2_deleted_files_are_byte_exact() {
    let (fs, m, cands) = analyse("del-depth");
    let by = by_inode(&cands);
    assert_eq!(cands.len(), 6);
    for d in m["deleted"].as_array().unwrap() {
        let c = by[&(d["inode"].as_u64().unwrap() as u32)];
        assert_eq!(path(c), d["path"].as_str().unwrap());
        assert_eq!(c.kind, CandidateKind::Deleted);
        assert_eq!(c.content, ContentState::Full, "{}", path(c));
        assert_eq!(c.size, d["size"].as_u64());
        assert_eq!(
            c.sha256_hex().as_deref(),
            d["sha256"].as_str(),
            "{}",
            path(c)
        );
        assert_eq!(c.dtime.get().map(|t| t.secs as u64 > 0), Some(true));
        // Times survive the 8-byte packing exactly: the creation time as
        // recorded before deletion, and every time as the inode holds it.
        let secs = |t: Option<whiteout::util::time::Timestamp>| t.map(|t| t.secs as u64);
        assert_eq!(secs(c.crtime.get()), d["crtime"].as_u64(), "{}", path(c));
        let raw = fs.inode(c.inode).unwrap();
        assert_eq!(c.atime.get(), Some(raw.atime));
        assert_eq!(c.mtime.get(), Some(raw.mtime));
        assert_eq!(c.ctime.get(), Some(raw.ctime));
        assert_eq!(c.crtime.get(), raw.crtime);
        assert_eq!(secs(c.dtime.get()), Some(raw.dtime as u64));
        assert!(raw.mtime.nanos > 0, "kernel times carry nanoseconds");
        assert_eq!(c.parent_inode, d["parent_inode"].as_u64().map(|p| p as u32));
    }
    // Without the journal, depth >= 1 maps are rebuilt from the index
    // entries the kernel leaves in i_block: exact block maps and content.
    let alloc = recover::AllocCache::new(&fs);
    let mut depth_ge1 = 0;
    for d in m["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["extent_depth"].as_u64().unwrap() >= 1)
    {
        let ino = fs.inode(d["inode"].as_u64().unwrap() as u32).unwrap();
        assert_eq!(ino.size, 0, "the kernel zeroes i_size");
        let map = recover::content::best_map(&fs, &ino, None, None)
            .expect("map from inode index entries");
        assert_eq!(map.source, "inode-index");
        assert_eq!(map.depth as u64, d["extent_depth"].as_u64().unwrap());
        let want: Vec<(u64, u64, u64)> = d["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b[0].as_u64().unwrap(),
                    b[1].as_u64().unwrap(),
                    b[2].as_u64().unwrap(),
                )
            })
            .collect();
        let got: Vec<(u64, u64, u64)> = map
            .runs
            .iter()
            .map(|r| (r.logical, r.physical, r.len))
            .collect();
        assert_eq!(got, want, "{}", d["path"]);
        let runs = recover::content::check_runs(&fs, &alloc, &map);
        assert!(runs.iter().all(|r| r.state == RunState::Free));
        let mut v = Vec::new();
        recover::content::stream(&fs, &runs, d["size"].as_u64().unwrap(), &mut v).unwrap();
        assert_eq!(sha256_hex(&v), d["sha256"].as_str().unwrap());
        depth_ge1 += 1;
    }
    assert_eq!(depth_ge1, 3);
    // Depth 0 without the journal: no map survives, and none is invented.
    let d0 = m["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "/victim/contig-d0.txt")
        .unwrap();
    let ino = fs.inode(d0["inode"].as_u64().unwrap() as u32).unwrap();
    assert!(recover::content::best_map(&fs, &ino, None, None).is_none());
    no_false_claims(&m, &cands);
}

#[test]
fn rm_rf_tree_of_2000_files_gets_every_full_path() {
    let (_fs, m, cands) = analyse("del-tree");
    let by = by_inode(&cands);
    let (mut files, mut dirs, mut exact) = (0, 0, 0);
    for d in m["deleted"].as_array().unwrap() {
        let c = by
            .get(&(d["inode"].as_u64().unwrap() as u32))
            .unwrap_or_else(|| panic!("{} missing", d["path"]));
        assert_eq!(path(c), d["path"].as_str().unwrap());
        assert_ne!(c.name_source, NameSource::None);
        if d["type"] == "r" {
            files += 1;
            if c.sha256_hex().as_deref() == d["sha256"].as_str() {
                exact += 1;
            }
        } else {
            dirs += 1;
        }
    }
    assert_eq!((files, dirs), (2000, 111));
    assert_eq!(exact, 2000);
    // Freed directory blocks alone also give every name (no journal).
    let fs = fs_from_bytes(image_bytes("deleted", "del-tree")).unwrap();
    let r = recover::analyse(&fs, &recover::Options::default());
    assert!(r.stats.names_freed_dir_blocks >= 2110, "{:?}", r.stats);
    no_false_claims(&m, &cands);
}

#[test]
fn inline_files_symlinks_and_inline_dirs() {
    let (_fs, m, cands) = analyse("del-inline");
    let by = by_inode(&cands);
    for d in m["deleted"].as_array().unwrap() {
        let c = by[&(d["inode"].as_u64().unwrap() as u32)];
        assert_eq!(path(c), d["path"].as_str().unwrap());
        match d["type"].as_str().unwrap() {
            "r" => assert_eq!(
                c.sha256_hex().as_deref(),
                d["sha256"].as_str(),
                "{}",
                path(c)
            ),
            "l" => assert_eq!(c.symlink_target(), d["target"].as_str(), "{}", path(c)),
            _ => {}
        }
    }
    assert_eq!(cands.len(), m["deleted"].as_array().unwrap().len());
}

#[test]
fn reallocated_inodes_and_blocks_are_flagged_not_claimed() {
    let (_fs, m, cands) = analyse("del-realloc");
    let by = by_inode(&cands);
    for d in m["deleted"].as_array().unwrap() {
        let c = by[&(d["inode"].as_u64().unwrap() as u32)];
        assert_eq!(path(c), d["path"].as_str().unwrap());
        assert_eq!(c.realloc, !d["reallocated_to"].is_null(), "{}", path(c));
        if d["blocks_in_use_now"].as_u64().unwrap() > 0 {
            assert_eq!(c.content, ContentState::Partial, "{}", path(c));
            assert!(c.runs().iter().any(|r| r.state == RunState::Reallocated));
            assert_ne!(c.sha256_hex().as_deref(), d["sha256"].as_str());
        } else {
            assert_eq!(
                c.sha256_hex().as_deref(),
                d["sha256"].as_str(),
                "{}",
                path(c)
            );
        }
    }
    no_false_claims(&m, &cands);
}

#[test]
fn clean_and_dirty_journals_give_pre_deletion_versions() {
    for name in ["del-clean", "del-dirty"] {
        let (_fs, m, cands) = analyse(name);
        let by = by_inode(&cands);
        let (mut in_j, mut exact) = (0, 0);
        for d in m["deleted"].as_array().unwrap() {
            let c = by[&(d["inode"].as_u64().unwrap() as u32)];
            if d["in_journal"] == true {
                in_j += 1;
                assert_eq!(path(c), d["path"].as_str().unwrap(), "{name}");
                assert_eq!(
                    c.journal_seq.map(|s| s as u64),
                    d["journal_copy_seq"].as_u64(),
                    "{name}"
                );
                if d["type"] == "r" && c.sha256_hex().as_deref() == d["sha256"].as_str() {
                    exact += 1;
                }
            } else if d["type"] == "r" {
                // Name wiped and no pre-deletion copy: an orphan (or, for a
                // file in a deleted dir, its name under that dir), and no
                // content is claimed (its depth-0 map is gone).
                let base = d["path"].as_str().unwrap().rsplit('/').next().unwrap();
                assert!(
                    c.kind == CandidateKind::Orphan || path(c).ends_with(&format!("/{base}")),
                    "{name}: {}",
                    path(c)
                );
                assert_eq!(c.content, ContentState::None);
                assert!(c.digests.is_none());
            }
        }
        assert_eq!(in_j, 6, "{name}");
        assert_eq!(exact, 6, "{name}");
        no_false_claims(&m, &cands);
    }
}

#[test]
fn pre_5_13_slack_names_as_fls_shows_them() {
    let (_fs, m, cands) = analyse("del-slack");
    let by = by_inode(&cands);
    let mut slack = 0;
    for d in m["deleted"].as_array().unwrap() {
        let c = by[&(d["inode"].as_u64().unwrap() as u32)];
        assert_eq!(path(c), d["path"].as_str().unwrap());
        assert_eq!(c.sha256_hex().as_deref(), d["sha256"].as_str());
        if c.name_sources.contains(&NameSource::Slack) {
            slack += 1;
        }
        assert_eq!(c.realloc, !d["reallocated_to"].is_null(), "{}", path(c));
    }
    // Two deleted entries were first in their block: only their names
    // survive in slack (inode 0); the journal links them to their inodes.
    assert_eq!(slack, 12);
}

#[test]
fn recover_command_writes_files_and_manifest() {
    let img = raw_copy("deleted", "del-tree");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("recover-del-tree");
    let _ = std::fs::remove_dir_all(&out);
    let (code, _, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--path",
        "/victim/a3/**",
    ]);
    assert_eq!(code, 0, "{err}");
    let m = manifest("deleted", "del-tree");
    let mut n = 0;
    for d in m["deleted"].as_array().unwrap() {
        let p = d["path"].as_str().unwrap();
        if !p.starts_with("/victim/a3/") {
            continue;
        }
        let f = out.join(&p[1..]);
        if d["type"] == "r" {
            assert_eq!(
                sha256_hex(&std::fs::read(&f).unwrap()),
                d["sha256"].as_str().unwrap(),
                "{p}"
            );
            n += 1;
        } else {
            assert!(f.is_dir(), "{p}");
        }
    }
    assert_eq!(n, 200);
    let manifest_rows = std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(manifest_rows, 210);
    // Never beside the evidence.
    let beside = img.parent().unwrap().join("out");
    let (code, _, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        img.parent().unwrap().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds the evidence"), "{err}");
    let _ = beside;
    // icat --recover of a depth-2 deleted file.
    let img = raw_copy("deleted", "del-depth");
    let (code, bytes, err) = run(&["icat", img.to_str().unwrap(), "20", "--recover"]);
    assert_eq!(code, 0, "{err}");
    let md = manifest("deleted", "del-depth");
    let d = md["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["inode"] == 20)
        .unwrap();
    assert_eq!(sha256_hex(&bytes), d["sha256"].as_str().unwrap());
}

#[test]
fn ls_deleted_lists_like_fls_d() {
    let img = raw_copy("deleted", "del-realloc");
    let (code, out, err) = run(&["ls", img.to_str().unwrap(), "-r", "-p", "-d"]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("r/r * 15(realloc):\tdata/old-report.txt"),
        "{text}"
    );
    assert!(text.contains("r/r * 18:\tdata/old-unreused.txt"), "{text}");
    let (_, out, _) = run(&["ls", img.to_str().unwrap(), "-r", "-p", "-d", "--json"]);
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r["deleted"], true);
        assert_eq!(r["name_source"], "journal");
        assert!(r["content"].is_string());
        assert!(r["journal_seq"].is_u64());
    }
}

/// Evidence is kept as typed clues and worded on output; these are the
/// sentences and report fields of five kernel-made candidates, one per
/// kind of clue, exactly as they were worded before the change to clues
/// (`deleted --json` compared byte for byte).
#[test]
fn clues_are_worded_on_kernel_fixtures() {
    use whiteout::report::recovered::candidate_json;
    let cases: [(&str, u32, serde_json::Value); 5] = [
        (
            "del-realloc",
            15,
            serde_json::json!({
                "path": "/data/old-report.txt",
                "name_sources": ["journal"],
                "size_source": "journal",
                "runs": [
                    {"len": 1, "logical": 0, "physical": 1553, "state": "reallocated"},
                    {"len": 2, "logical": 1, "physical": 1554, "state": "free"}
                ],
                "sha256": "e2d9ba5bcdcfdeb7ad114313d4120a553a0e1b0c0897abc2f5da923b3b09cae3",
                "symlink_target": null,
                "other_paths": [],
                "evidence": [
                    "pre-deletion copy of inode 15 in journal transaction 3",
                    "inode 15 is allocated again to another file",
                    "name /data/old-report.txt from a journal copy of a directory block (transaction 2)",
                    "path: every directory of the chain is the incarnation the journal (inode copies or block checksums) shows alive when each name was written",
                    "earlier incarnation (generation 2781818057) in journal transaction 3",
                    "block map from journal (3 blocks, depth 0)",
                    "blocks 1553+1 are allocated to another file now: possibly overwritten, not claimed"
                ]
            }),
        ),
        (
            "del-realloc",
            16,
            serde_json::json!({
                "path": "/data/old-notes.txt",
                "name_sources": ["journal"],
                "size_source": "journal",
                "runs": [{"len": 1, "logical": 0, "physical": 1556, "state": "free"}],
                "sha256": "bfbcbd5e28d3d7e7bd948a802815892049e7571f95cf3a414a13f823dbb79c8e",
                "symlink_target": null,
                "other_paths": [],
                "evidence": [
                    "pre-deletion copy of inode 16 in journal transaction 3",
                    "inode 16 is allocated again to another file",
                    "name /data/old-notes.txt from a journal copy of a directory block (transaction 2)",
                    "path: every directory of the chain is the incarnation the journal (inode copies or block checksums) shows alive when each name was written",
                    "earlier incarnation (generation 723767762) in journal transaction 3",
                    "block map from journal (1 blocks, depth 0)"
                ]
            }),
        ),
        (
            "del-inline",
            20,
            serde_json::json!({
                "path": "/keep/idir2/y",
                "name_sources": ["journal"],
                "size_source": "journal",
                "runs": [],
                "sha256": "d271557a0c880a02c4de8e1f8669d57b50f64653749d6b9fdde7ba609c2d784a",
                "symlink_target": null,
                "other_paths": [],
                "evidence": [
                    "inode 20 in group 0 is unallocated with links 0 and dtime 1795868506",
                    "pre-deletion copy of inode 20 in journal transaction 3",
                    "name /keep/idir2/y from a journal copy of a directory block (transaction 2)",
                    "path: every directory of the chain is the incarnation the journal (inode copies or block checksums) shows alive when each name was written",
                    "20 bytes of inline data in the inode"
                ]
            }),
        ),
        (
            "del-dirty",
            34,
            serde_json::json!({
                "path": "$Orphan/34",
                "name_sources": [],
                "size_source": "none",
                "runs": [],
                "sha256": null,
                "symlink_target": null,
                "other_paths": [],
                "evidence": [
                    "inode 34 in group 0 is unallocated with links 0 and dtime 1795868600",
                    "no block map survives (depth-0 extents are zeroed at deletion and no journal copy was found)"
                ]
            }),
        ),
        (
            "del-slack",
            18,
            serde_json::json!({
                "path": "/small/charlie.txt",
                "name_sources": ["slack", "journal"],
                "size_source": "journal",
                "runs": [{"len": 1, "logical": 0, "physical": 1555, "state": "free"}],
                "sha256": "949e1e0be2c05dd83b5e2cfa38ffc0fce7f7b7022d8f5ae887d23535124cb84e",
                "symlink_target": null,
                "other_paths": [],
                "evidence": [
                    "pre-deletion copy of inode 18 in journal transaction 17",
                    "inode 18 is allocated again to another file",
                    "name /small/charlie.txt from a journal copy of a directory block (transaction 2)",
                    "path: every directory of the chain is the incarnation the journal (inode copies or block checksums) shows alive when each name was written",
                    "earlier incarnation (generation 772837276) in journal transaction 17",
                    "block map from journal (1 blocks, depth 0)"
                ]
            }),
        ),
    ];
    for (name, ino, want) in cases {
        let (_, _, cands) = analyse(name);
        let c = cands
            .iter()
            .find(|c| c.inode == ino)
            .unwrap_or_else(|| panic!("{name}: inode {ino} not a candidate"));
        let row = candidate_json(c);
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&row[k], v, "{name} inode {ino}: {k}");
        }
        // The md5 is worded from the same digests as the sha256.
        assert_eq!(
            row["md5"].is_null(),
            row["sha256"].is_null(),
            "{name} {ino}"
        );
    }
}

#[test]
fn content_stream_reads_runs_in_chunks_and_zero_fills_unreadable_blocks() {
    // A run that crosses the end of the kernel-written filesystem: the
    // chunked read fails, and the block-by-block fallback must give the
    // two last real blocks as read, then zeros for the two beyond.
    use whiteout::recover::content::{stream, RunCheck};
    let (fs, _, cands) = analyse("del-depth");
    let bs = fs.block_size();
    let last = fs.sb.blocks_count;
    let run = |physical, len| RunCheck {
        logical: 0,
        physical,
        len,
        state: RunState::Free,
    };
    let mut got = Vec::new();
    stream(&fs, &[run(last - 2, 4)], 4 * bs - 100, &mut got).unwrap();
    let mut want = fs.read_block(last - 2).unwrap();
    want.extend(fs.read_block(last - 1).unwrap());
    want.resize((4 * bs - 100) as usize, 0);
    assert_eq!(got, want);
    // Inside the filesystem, chunked reads equal the blocks one by one
    // (the longest free run of the kernel's deleted maps, past one chunk).
    let r = cands
        .iter()
        .filter_map(|c| c.map.as_ref())
        .flat_map(|m| m.checks.iter().copied())
        .filter(|r| r.state == RunState::Free)
        .max_by_key(|r| r.len)
        .unwrap();
    assert!(r.len >= 2, "a multi-block run: {r:?}");
    // And a 40-block run (three reads of at most 16 blocks) over the
    // image's own metadata, cut 7 bytes short of its end.
    for (r, size) in [(r, r.len * bs), (run(1, 40), 40 * bs - 7)] {
        let mut got = Vec::new();
        stream(&fs, &[r], size, &mut got).unwrap();
        let mut want = Vec::new();
        for k in 0..r.len {
            want.extend(fs.read_block(r.physical + k).unwrap());
        }
        want.truncate(size as usize);
        assert_eq!(got, want, "{r:?}");
    }
}

/// A sparse copy of a kernel image: its holes are skipped (lseek
/// SEEK_DATA), and the freed-directory-block search finds the same.
#[test]
fn sparse_copy_skips_holes_and_recovers_the_same() {
    let bytes = image_bytes("deleted", "del-tree");
    let dense = fs_from_bytes(bytes.clone()).unwrap();
    let sparse =
        Filesystem::open(whiteout::image::open(&sparse_copy("deleted", "del-tree")).unwrap())
            .unwrap();
    let chunk = 64u64 << 10;
    let zero = (0..bytes.len() as u64 / chunk)
        .map(|k| k * chunk)
        .find(|&o| {
            bytes[o as usize..(o + chunk) as usize]
                .iter()
                .all(|&b| b == 0)
        })
        .unwrap();
    assert!(sparse.is_hole(zero, chunk));
    assert!(!dense.is_hole(zero, chunk));
    // Block 0 holds the superblock: data.
    assert!(!sparse.is_hole(0, 4096));
    assert!(sparse.is_hole(bytes.len() as u64, 1));
    let a = recover::analyse(&dense, &recover::Options::default());
    let b = recover::analyse(&sparse, &recover::Options::default());
    assert!(a.stats.names_freed_dir_blocks >= 2110, "{:?}", a.stats);
    assert_eq!(format!("{:?}", a.stats), format!("{:?}", b.stats));
    assert_eq!(format!("{:?}", a.names), format!("{:?}", b.names));
}

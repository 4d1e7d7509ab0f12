//! Carving on a real-kernel ext4 image (scripts/make-carve-fixtures.sh):
//! every deleted file comes back with its exact size and sha256, the
//! two-fragment JPEG included, and nothing already recovered through
//! metadata is carved again.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use whiteout::ext4::Filesystem;
use whiteout::recover::carve::{self, Carving, Kind, TraceKind};
use whiteout::util::bytes::hex;

// Measured on the carve-docker fixture (see the tests below).
const CARVE_DOCKER_GROUPS: usize = 3;
const CARVE_DOCKER_EXTRA: usize = 23;

fn fs() -> Filesystem {
    common::fs_at(&common::image("carve", "carve"), 0)
}

fn truth() -> Vec<Value> {
    common::manifest("carve", "carve")["files"]
        .as_array()
        .unwrap()
        .clone()
}

fn carve_default(fs: &Filesystem) -> Carving {
    let exclude = carve::recovered_runs(fs);
    carve::carve(
        fs,
        &carve::Options {
            kinds: None,
            all_space: false,
            traces: true,
            exclude,
        },
    )
}

#[test]
fn every_deleted_file_exact() {
    let fs = fs();
    let res = carve_default(&fs);
    let mut matched = 0;
    for t in truth().iter().filter(|t| !t["dedup"].as_bool().unwrap()) {
        let name = t["name"].as_str().unwrap();
        let off = t["offset"].as_u64().unwrap();
        let c = res
            .files
            .iter()
            .find(|c| c.offset == off)
            .unwrap_or_else(|| panic!("{name} at {off} not carved"));
        assert_eq!(c.kind.name(), t["type"].as_str().unwrap(), "{name}");
        assert_eq!(c.length, t["size"].as_u64().unwrap(), "{name}: size");
        let data = carve::read_carved(&fs, c).unwrap();
        assert_eq!(
            hex(&Sha256::digest(&data)),
            t["sha256"].as_str().unwrap(),
            "{name}: sha256"
        );
        assert_eq!(
            c.fragments.len() as u64,
            t["fragments"].as_u64().unwrap(),
            "{name}: fragments"
        );
        // Fragment offsets are the debugfs block map.
        for (f, r) in c.fragments.iter().zip(t["runs"].as_array().unwrap()) {
            assert_eq!(f.offset, r["physical"].as_u64().unwrap() * 4096, "{name}");
        }
        matched += 1;
    }
    assert_eq!(matched, 21);
    // Nothing else: no false positives on this image.
    assert_eq!(res.files.len(), 21, "{:?}", res.files);
    // gzip and SQLite sizes are exact by construction.
    for k in [Kind::Gz, Kind::Sqlite, Kind::Jpg, Kind::Zip, Kind::Xz] {
        assert!(res.files.iter().filter(|c| c.kind == k).all(|c| c.exact));
    }
}

#[test]
fn nothing_carved_from_recovered_blocks() {
    let fs = fs();
    let t = truth();
    let dedup = t.iter().find(|t| t["dedup"].as_bool().unwrap()).unwrap();
    let blocks: HashSet<u64> = dedup["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let p = r["physical"].as_u64().unwrap();
            p..p + r["len"].as_u64().unwrap()
        })
        .collect();
    // Metadata recovery gets this file back (depth-1 extent tree)...
    let runs = carve::recovered_runs(&fs);
    let recovered: HashSet<u64> = runs.iter().flat_map(|&(s, n)| s..s + n).collect();
    assert!(
        blocks.is_subset(&recovered),
        "dedup.png not recovered by metadata"
    );
    // ...so carving never reports its blocks.
    let res = carve_default(&fs);
    for c in &res.files {
        for f in &c.fragments {
            for b in f.offset / 4096..(f.offset + f.length).div_ceil(4096) {
                assert!(
                    !recovered.contains(&b),
                    "{:?} overlaps recovered block {b}",
                    c
                );
            }
        }
    }
    // Without the de-duplication the PNG header block is a hit.
    let all = carve::carve(
        &fs,
        &carve::Options {
            kinds: Some(vec![Kind::Png]),
            all_space: false,
            traces: false,
            exclude: Vec::new(),
        },
    );
    let first = dedup["offset"].as_u64().unwrap();
    assert!(
        all.stats.header_hits > res.files.iter().filter(|c| c.kind == Kind::Png).count() as u64
    );
    assert!(
        !res.files.iter().any(|c| c.offset == first),
        "dedup.png carved again"
    );
}

#[test]
fn docker_traces() {
    let fs = fs();
    let res = carve_default(&fs);
    let cfg = res
        .traces
        .iter()
        .find(|t| t.kind == Some(TraceKind::ContainerConfig))
        .expect("config.v2.json trace");
    let id = format!("c0ffee{}", "ab".repeat(29));
    assert_eq!(cfg.id.as_deref(), Some(id.as_str()));
    assert_eq!(cfg.name.as_deref(), Some("/gone_worker"));
    assert_eq!(cfg.image.as_deref(), Some("base:1"));
    assert_eq!(cfg.path.as_deref(), Some("/bin/sh"));
    assert_eq!(cfg.args.as_ref().map(|a| a.len()), Some(2));
    assert_eq!(
        cfg.created.as_deref(),
        Some("2023-11-14T22:13:20.000000001Z")
    );
    assert_eq!(
        cfg.started_at.as_deref(),
        Some("2023-11-14T22:13:21.123456789Z")
    );
    assert_eq!(cfg.finished_at.as_deref(), Some("2023-11-14T22:20:00.5Z"));
    let lines = res
        .traces
        .iter()
        .filter(|t| t.kind == Some(TraceKind::LogLine))
        .count();
    assert_eq!(lines, 400);
    assert!(res
        .traces
        .iter()
        .any(|t| t.kind == Some(TraceKind::Overlay2Id)
            && t.id.as_deref() == Some("e".repeat(64).as_str())));
    assert!(res
        .traces
        .iter()
        .any(|t| t.kind == Some(TraceKind::HexId) && t.id.as_deref() == Some(id.as_str())));
}

#[test]
fn types_filter_and_all_space() {
    let fs = fs();
    let only = carve::carve(
        &fs,
        &carve::Options {
            kinds: Some(vec![Kind::Gz, Kind::Sqlite]),
            all_space: false,
            traces: false,
            exclude: carve::recovered_runs(&fs),
        },
    );
    let kinds: HashSet<Kind> = only.files.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, HashSet::from([Kind::Gz, Kind::Sqlite]));
    assert!(only.traces.is_empty());
    // Every block: the live keeper files are searched too, and the
    // space is the whole filesystem.
    let all = carve::carve(
        &fs,
        &carve::Options {
            kinds: None,
            all_space: true,
            traces: false,
            exclude: Vec::new(),
        },
    );
    assert_eq!(all.stats.bytes_searched, fs.sb.blocks_count * 4096);
    assert!(all.files.len() >= 20);
}

#[test]
fn cli_writes_files_and_manifest() {
    let out = std::env::temp_dir().join(format!("whiteout-carve-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let img = common::testdata().join("carve/carve.img.gz");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_whiteout"))
        .args(["carve"])
        .arg(&img)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let man = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let rows: Vec<Value> = man
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 21);
    for r in &rows {
        for k in [
            "offset",
            "length",
            "type",
            "sha256",
            "md5",
            "block_group",
            "fragments",
        ] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
        // Every carved file gets an owner; block-group evidence is a
        // hint and never "certain".
        let a = &r["attribution"];
        assert!(a.is_object(), "{r}");
        assert!(a["owner"].is_string(), "{a}");
        if a["rule"].as_str().is_some_and(|x| x.contains("block")) {
            assert_ne!(a["confidence"], "certain", "{a}");
        }
        let f = out.join(r["file"].as_str().unwrap());
        let data = std::fs::read(&f).unwrap();
        assert_eq!(data.len() as u64, r["length"].as_u64().unwrap());
        assert_eq!(hex(&Sha256::digest(&data)), r["sha256"].as_str().unwrap());
        assert!(f.starts_with(out.join(r["type"].as_str().unwrap())));
    }
    assert!(out.join("docker-traces.jsonl").exists());
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_whiteout"))
        .args(["carve", "--types", "nope"])
        .arg(&img)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&out);
}

// ---- carve-docker: a real dockerd, three containers (scripts/make-carve-docker-fixture.sh)

fn docker_fs() -> Filesystem {
    common::fs_at(&common::image("carve-docker", "carve-docker"), 0)
}

#[test]
fn docker_fixture_every_deleted_file_exact() {
    let fs = docker_fs();
    let m = common::manifest("carve-docker", "carve-docker");
    assert_eq!(fs.group_count(), 8);
    let res = carve_default(&fs);
    let files = m["files"].as_array().unwrap();
    let mut groups = std::collections::BTreeSet::new();
    for t in files {
        let what = format!("{} {}", t["container"], t["name"]);
        let off = t["offset"].as_u64().unwrap();
        let c = res
            .files
            .iter()
            .find(|c| c.offset == off)
            .unwrap_or_else(|| panic!("{what} at {off} not carved"));
        assert_eq!(c.kind.name(), t["type"].as_str().unwrap(), "{what}");
        assert_eq!(c.length, t["size"].as_u64().unwrap(), "{what}: size");
        let data = carve::read_carved(&fs, c).unwrap();
        assert_eq!(
            hex(&Sha256::digest(&data)),
            t["sha256"].as_str().unwrap(),
            "{what}: sha256"
        );
        let runs = t["runs"].as_array().unwrap();
        assert_eq!(c.fragments.len(), runs.len(), "{what}: fragments");
        for (f, r) in c.fragments.iter().zip(runs) {
            assert_eq!(f.offset, r["physical"].as_u64().unwrap() * 4096, "{what}");
        }
        groups.insert(c.block_group);
    }
    assert_eq!(files.len(), 58);
    // Two JPEGs whose second fragment lies before the first on disk, one
    // PDF split by a live file.
    assert_eq!(
        res.files.iter().filter(|c| c.fragments.len() == 2).count(),
        3
    );
    // The containers' files lie in several block groups.
    assert_eq!(groups.len(), CARVE_DOCKER_GROUPS);
    // Everything else carved is the daemon's own deleted JSON (older
    // config.v2.json / hostconfig.json copies) and the removed container's log.
    let extra: Vec<_> = res
        .files
        .iter()
        .filter(|c| !files.iter().any(|t| t["offset"].as_u64() == Some(c.offset)))
        .collect();
    assert_eq!(extra.len(), CARVE_DOCKER_EXTRA, "{extra:?}");
    assert!(extra
        .iter()
        .all(|c| matches!(c.kind, Kind::Json | Kind::Log)));
}

#[test]
fn docker_fixture_removed_container_from_carved_config() {
    let fs = docker_fs();
    let m = common::manifest("carve-docker", "carve-docker");
    let g = &m["containers"]["gone"];
    let host = whiteout::docker::DockerHost::load(&fs);
    let rec = whiteout::recover::analyse(&fs, &Default::default());
    let mut removed = whiteout::docker::removed::find_removed(&fs, &host, &rec);
    let res = carve_default(&fs);
    whiteout::docker::removed::merge_carved(&mut removed, &host, &res.traces);
    let gone: Vec<_> = removed
        .iter()
        .filter(|r| r.container.id == g["id"].as_str().unwrap())
        .collect();
    assert_eq!(gone.len(), 1);
    let c = &gone[0].container;
    assert!(c.removed);
    assert_eq!(c.name.as_deref(), Some("gone"));
    assert_eq!(c.image.as_deref(), g["image"].as_str());
    assert_eq!(c.image_id.as_deref(), g["image_id"].as_str());
    assert_eq!(c.path.as_deref(), g["path"].as_str());
    let args: Vec<String> = serde_json::from_value(g["args"].clone()).unwrap();
    assert_eq!(c.args, args);
    let cmd: Vec<String> = serde_json::from_value(g["cmd"].clone()).unwrap();
    assert_eq!(c.cmd.as_ref(), Some(&cmd));
    assert_eq!(c.created.as_deref(), g["created"].as_str());
    assert_eq!(c.started_at.as_deref(), g["started_at"].as_str());
    // dockerd 20.10 keeps no GraphDriver in config.v2.json: no mount id.
    assert_eq!(c.mount_id, None);
    // The config's source is carving, with its offset.
    let ev = c
        .evidence
        .iter()
        .find(|e| e.kind == "carved-config.v2.json")
        .expect("carved evidence");
    assert!(
        ev.note.as_deref().unwrap().starts_with("carved at offset "),
        "{ev:?}"
    );
    // Live containers are not reported as removed.
    for n in ["web", "worker"] {
        let id = m["containers"][n]["id"].as_str().unwrap();
        assert!(!removed.iter().any(|r| r.container.id == id), "{n}");
    }
    // And through the CLI: `containers --all` lists gone as removed.
    let img = common::testdata().join("carve-docker/carve-docker.img.gz");
    let (code, out, err) = common::run(&["containers", "--all", "--json", img.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let r = rows.iter().find(|r| r["id"] == g["id"]).unwrap();
    assert_eq!(r["name"], "gone");
    assert_eq!(r["removed"], true);
    assert_eq!(r["cmd"], g["cmd"]);
}

/// A sparse copy of the fixture: holes are skipped, not read, and the
/// carved files and traces are the same.
#[test]
fn sparse_copy_carves_the_same() {
    let dense = fs();
    let sparse =
        Filesystem::open(whiteout::image::open(&common::sparse_copy("carve", "carve")).unwrap())
            .unwrap();
    let a = carve_default(&dense);
    let b = carve_default(&sparse);
    assert_eq!(a.files.len(), 21);
    assert_eq!(
        serde_json::to_string(&a.files).unwrap(),
        serde_json::to_string(&b.files).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&a.traces).unwrap(),
        serde_json::to_string(&b.traces).unwrap()
    );
    assert_eq!(format!("{:?}", a.stats), format!("{:?}", b.stats));
}

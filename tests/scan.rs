//! `whiteout scan` and `whiteout index` on the real dockerd-written
//! docker-host fixture. Expected values come from the fixture's ground
//! truth (docker-host.json, whiteouts.json, removed.json).
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn truth(file: &str) -> Value {
    let p = testdata().join("docker").join("docker-host").join(file);
    serde_json::from_slice(&read_data(&p)).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("scan")
        .join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    p
}

fn json_file(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Exit 0, or 3 exactly when the report lists warnings.
fn assert_exit(code: i32, err: &str, report: &Value) {
    let warned = !report["warnings"].as_array().unwrap().is_empty();
    assert_eq!(code, if warned { 3 } else { 0 }, "{err}");
    assert_eq!(report["exit_code"], code);
}

#[test]
fn one_scan_produces_every_output() {
    let img = raw_copy("docker", "docker-host");
    let out = tmp("one");
    let (code, _, err) = run(&["scan", img.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    for f in [
        "report.json",
        "report.html",
        "bodyfile",
        "timeline.jsonl",
        "scan.log",
        "done.json",
        "recovered/manifest.jsonl",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; {err}");
    }
    let r = json_file(&out.join("report.json"));
    assert_exit(code, &err, &r);
    assert_eq!(r["schema"], "whiteout-scan-report");
    assert_eq!(r["schema_version"], 1);
    assert!(r["command_line"].as_array().unwrap().len() >= 4);
    // Chain of custody.
    let m = manifest("docker", "docker-host");
    assert_eq!(r["image"]["size"], m["image_size"]);
    assert_eq!(r["image"]["hashes"]["sha256"], m["image_sha256"]);
    assert_eq!(r["image"]["hashes"]["md5"].as_str().unwrap().len(), 32);
    assert_eq!(r["image"]["hashes"]["sha1"].as_str().unwrap().len(), 40);
    assert_eq!(r["image"]["end_check"]["ok"], true);
    assert_eq!(r["image"]["end_check"]["hash_unchanged"], true);
    // Every container, live and removed, by id.
    let live: BTreeSet<String> = r["docker"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let gone: BTreeSet<String> = r["docker"]["removed_containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    for c in m["containers"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap().to_string();
        if c["removed"] == true {
            assert!(gone.contains(&id), "removed {} missing", c["name"]);
        } else {
            assert!(live.contains(&id), "live {} missing", c["name"]);
        }
    }
    // Every ground-truth deletion, with its owner.
    let cands = r["deleted"]["candidates"].as_array().unwrap();
    let wj = truth("whiteouts.json");
    let web = wj["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap();
    for d in wj["intended"]["containers"]["web"]["rw_deleted"]
        .as_array()
        .unwrap()
    {
        let row = cands
            .iter()
            .find(|c| c["inode"] == d["ino"] && c["container_path"] == d["path"])
            .unwrap_or_else(|| panic!("web's deleted {} not in report", d["path"]));
        assert_eq!(row["class"], "rw-deleted");
        assert_eq!(row["container"], web["id"]);
        assert_eq!(row["container_name"], "web");
        assert_eq!(row["sha256"], d["sha256"]);
    }
    let gone_truth = truth("removed.json");
    for f in gone_truth["files"].as_array().unwrap() {
        let row = cands
            .iter()
            .find(|c| c["inode"] == f["ino"] && c["container_path"] == f["path"])
            .unwrap_or_else(|| panic!("gone's {} not in report", f["path"]));
        assert_eq!(row["container"], gone_truth["id"]);
        assert_eq!(row["container_removed"], true);
        assert_eq!(row["sha256"], f["sha256"]);
        let rel = row["recovered_to"].as_str().expect("recovered_to");
        let data = std::fs::read(out.join(rel)).unwrap();
        assert_eq!(sha256_hex(&data), f["sha256"]);
    }
    // Merged-view whiteouts of web.
    let wh = r["whiteouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["container_name"] == "web")
        .unwrap();
    for p in wj["intended"]["containers"]["web"]["whiteouts"]
        .as_array()
        .unwrap()
    {
        assert!(
            wh["whiteouts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| &w["path"] == p),
            "whiteout {p} missing"
        );
    }
    assert!(!r["findings"].as_array().unwrap().is_empty());
    assert_eq!(r["attribution"]["status"], "done");
    assert!(!r["attribution"]["owners"].as_array().unwrap().is_empty());
    // Every deleted file classified into a container is attributed to it.
    let mut attributed = 0;
    for d in r["deleted"]["candidates"].as_array().unwrap() {
        if d["class"] == "rw-deleted"
            && d["container"].is_string()
            && d["container_path"]
                .as_str()
                .is_some_and(|p| p.starts_with('/') && !p.starts_with("/var/lib/docker"))
        {
            assert_eq!(
                d["attribution"]["owner"], d["container"],
                "{}",
                d["host_path"]
            );
            attributed += 1;
        }
    }
    assert!(attributed >= 3, "{attributed}");
    assert_eq!(r["carving"]["status"], "done");

    // Bodyfile: 11 fields, numeric where TSK expects numbers.
    let body = std::fs::read_to_string(out.join("bodyfile")).unwrap();
    let mut names = BTreeSet::new();
    for l in body.lines() {
        let f: Vec<&str> = l.split('|').collect();
        assert_eq!(f.len(), 11, "{l}");
        assert!(f[0] == "0" || f[0].len() == 32, "{l}");
        for i in [2, 4, 5, 6, 7, 8, 9, 10] {
            f[i].parse::<u64>()
                .unwrap_or_else(|_| panic!("field {i} of {l}"));
        }
        assert!(f[3].len() == 12 && &f[3][1..2] == "/", "{l}");
        names.insert(f[1].to_string());
    }
    let expected_deleted: Vec<String> = wj["intended"]["containers"]["web"]["rw_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("web:{} (deleted)", d["path"].as_str().unwrap()))
        .chain(
            gone_truth["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("gone:{} (deleted)", f["path"].as_str().unwrap())),
        )
        .chain(std::iter::once("web:/app/data/a.txt (deleted)".to_string()))
        .collect();
    for n in &expected_deleted {
        assert!(names.contains(n), "bodyfile lacks {n}");
    }
    assert!(names.contains("/var/lib/docker"));
    // mactime -b, when TSK is installed.
    match std::process::Command::new("mactime")
        .args([
            "-b",
            out.join("bodyfile").to_str().unwrap(),
            "-d",
            "-z",
            "UTC",
        ])
        .output()
    {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            for n in &expected_deleted {
                assert!(
                    text.lines()
                        .any(|l| l.ends_with(&format!("\"{n}\"")) || l.ends_with(&format!(",{n}"))),
                    "mactime output lacks {n}"
                );
            }
            let rows = text.lines().skip(1).count();
            assert!(rows >= body.lines().count(), "mactime gave {rows} rows");
        }
        _ => eprintln!("note: mactime (sleuthkit) not installed; mactime check skipped"),
    }

    // timeline.jsonl: Timesketch's required fields on every row.
    let tl = std::fs::read_to_string(out.join("timeline.jsonl")).unwrap();
    let mut descs = BTreeSet::new();
    let mut rows = 0;
    for l in tl.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let dt = v["datetime"].as_str().unwrap();
        assert!(
            dt.len() >= 20 && &dt[4..5] == "-" && &dt[10..11] == "T" && dt.ends_with('Z'),
            "{dt}"
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(v["timestamp"].as_i64().is_some());
        // Equal times share one event (mactime's `macb`): its desc lists
        // every meaning, in M, A, C, B, D order, one letter each.
        let desc = v["timestamp_desc"].as_str().unwrap();
        let parts: Vec<&str> = desc.split("; ").collect();
        if v["data_type"] == "whiteout:file" {
            let msg = v["message"].as_str().unwrap();
            let letters: String = parts
                .iter()
                .map(|p| match *p {
                    "Content Modification Time" => 'M',
                    "Last Access Time" => 'A',
                    "Metadata Modification Time" => 'C',
                    "Creation Time" => 'B',
                    "Deletion Time" => 'D',
                    other => panic!("unknown desc {other}"),
                })
                .collect();
            assert!(msg.starts_with(&format!("[{letters}] ")), "{msg} / {desc}");
        }
        descs.extend(parts.iter().map(|p| p.to_string()));
        rows += 1;
    }
    assert!(rows > 100);
    for d in [
        "Content Modification Time",
        "Last Access Time",
        "Metadata Modification Time",
        "Creation Time",
        "Deletion Time",
        "Container Created",
        "Container Started",
        "Container Finished",
        "Image Created",
        "Log Line Written",
    ] {
        assert!(descs.contains(d), "no {d} event");
    }
    assert!(tl.contains("WEB-LOG-MARKER"));

    // report.html: self-contained, key sections present.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for id in [
        "id=\"summary\"",
        "id=\"containers\"",
        "id=\"block-map-svg\"",
        "id=\"timeline-svg\"",
        "id=\"deleted-table\"",
        "Content-Security-Policy",
    ] {
        assert!(html.contains(id), "{id}");
    }
    assert!(!html.contains("http://") || !html.contains("src=\"http"));
    assert!(!html.contains("https://"));

    // Recovered files: gone's loot, byte-exact.
    let man = std::fs::read_to_string(out.join("recovered/manifest.jsonl")).unwrap();
    let f = &gone_truth["files"][1];
    let row: Value = man
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["inode"] == f["ino"])
        .unwrap();
    let p = out
        .join("recovered")
        .join(row["written_to"].as_str().unwrap());
    assert_eq!(sha256_hex(&std::fs::read(p).unwrap()), f["sha256"]);

    // Resume: a second run skips the completed image.
    let (code2, _, err2) = run(&["scan", img.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code2, code);
    assert!(err2.contains("already done"), "{err2}");
}

/// Two symlinked copies of the fixture in an evidence folder.
fn store(name: &str) -> (PathBuf, Vec<PathBuf>) {
    let img = raw_copy("docker", "docker-host");
    let ev = tmp(&format!("{name}-evidence"));
    std::fs::create_dir_all(&ev).unwrap();
    let v: Vec<PathBuf> = ["hostA.dd", "hostB.dd"]
        .iter()
        .map(|n| {
            let p = ev.join(n);
            std::os::unix::fs::symlink(&img, &p).unwrap();
            p
        })
        .collect();
    (ev, v)
}

#[test]
fn shards_merge_to_the_full_index_and_runs_resume() {
    let (_ev, imgs) = store("store");
    let a = imgs[0].to_str().unwrap();
    let b = imgs[1].to_str().unwrap();
    let full = tmp("full");
    let (code, _, err) = run(&[
        "scan",
        a,
        b,
        "-o",
        full.to_str().unwrap(),
        "--no-hash",
        "--quiet",
        "--jobs",
        "2",
        "--max-memory",
        "2G",
    ]);
    assert!(code == 0 || code == 3, "{err}");
    let ix_full = json_file(&full.join("index.json"));
    assert_eq!(ix_full["totals"]["images"], 2);
    assert!(full.join("index.html").is_file());
    assert!(full.join("hostA.dd/report.json").is_file());

    // Two shards into one folder, merged with `whiteout index`.
    let sharded = tmp("sharded");
    for s in ["0/2", "1/2"] {
        let (c, _, e) = run(&[
            "scan",
            b,
            a,
            "-o",
            sharded.to_str().unwrap(),
            "--no-hash",
            "--quiet",
            "--shard",
            s,
        ]);
        assert!(c == 0 || c == 3, "{e}");
    }
    std::fs::remove_file(sharded.join("index.json")).unwrap();
    let (c, _, e) = run(&["index", sharded.to_str().unwrap()]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(json_file(&sharded.join("index.json")), ix_full);

    // Interrupted run: hostB has no done marker; only it is redone.
    std::fs::remove_file(full.join("hostB.dd/done.json")).unwrap();
    let before = std::fs::read(full.join("hostA.dd/report.json")).unwrap();
    let (c, _, e) = run(&["scan", a, b, "-o", full.to_str().unwrap(), "--no-hash"]);
    assert!(c == 0 || c == 3, "{e}");
    assert!(e.contains("hostA.dd: already done"), "{e}");
    assert!(full.join("hostB.dd/done.json").is_file());
    assert_eq!(
        std::fs::read(full.join("hostA.dd/report.json")).unwrap(),
        before
    );
    assert_eq!(json_file(&full.join("index.json")), ix_full);
}

#[test]
fn manifest_hashes_are_verified_before_analysis() {
    let (ev, imgs) = store("manifest");
    let m = manifest("docker", "docker-host");
    let sha = m["image_sha256"].as_str().unwrap();
    // A wrong hash: exit 2, nothing analysed.
    let csv = ev.join("bad.csv");
    std::fs::write(
        &csv,
        format!("case_id,path,sha256\nC-1,hostA.dd,{}\n", "0".repeat(64)),
    )
    .unwrap();
    let out = tmp("manifest-bad");
    let (c, _, e) = run(&[
        "scan",
        "--manifest",
        csv.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("hash mismatch"), "{e}");
    assert!(!out.join("hostA.dd/report.json").exists());
    let ix = json_file(&out.join("index.json"));
    assert_eq!(ix["totals"]["images"], 0);
    assert!(ix["failed"][0]["error"]
        .as_str()
        .unwrap()
        .contains("hash mismatch"));
    // The right hash (JSON manifest): analysed, case id recorded.
    let js = ev.join("good.json");
    std::fs::write(
        &js,
        serde_json::to_vec(&serde_json::json!([
            {"case_id": "C-1", "path": imgs[0].to_str().unwrap(), "sha256": sha}
        ]))
        .unwrap(),
    )
    .unwrap();
    let out = tmp("manifest-good");
    let (c, _, e) = run(&[
        "scan",
        "--manifest",
        js.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quiet",
        "--no-carve",
    ]);
    assert!(c == 0 || c == 3, "{e}");
    let r = json_file(&out.join("hostA.dd/report.json"));
    assert_eq!(r["image"]["case_id"], "C-1");
    assert_eq!(r["image"]["manifest_verified"], true);
    assert_eq!(r["carving"]["status"], "skipped");
    let ix = json_file(&out.join("index.json"));
    assert_eq!(ix["images"][0]["case_id"], "C-1");
}

#[test]
fn bad_usage_is_exit_2() {
    let out = tmp("bad");
    let (c, _, e) = run(&["scan", "/nonexistent/x.dd", "-o", out.to_str().unwrap()]);
    assert_eq!(c, 2, "{e}");
    let (c, _, _) = run(&["scan", "-o", out.to_str().unwrap()]);
    assert_eq!(c, 2);
    let (c, _, _) = run(&["scan", "x", "-o", out.to_str().unwrap(), "--shard", "2/2"]);
    assert_eq!(c, 2);
}

#[test]
fn damaged_structures_finish_with_exit_3() {
    let full = image_bytes("ext4", "default");
    let ev = tmp("damaged-evidence");
    std::fs::create_dir_all(&ev).unwrap();
    let img = ev.join("cut.img");
    std::fs::write(&img, &full[..full.len() / 2]).unwrap();
    let out = tmp("damaged");
    let (c, _, e) = run(&[
        "scan",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(c, 3, "{e}");
    let r = json_file(&out.join("report.json"));
    assert_eq!(r["exit_code"], 3);
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("truncated")));
    assert!(out.join("done.json").is_file());
    let log = std::fs::read_to_string(out.join("scan.log")).unwrap();
    assert!(log.contains(" warning "));
}

/// A single unreadable image: exit 2 with one line, and OUTDIR/error.json
/// says why (as for an image of a store).
#[test]
fn single_unreadable_image_writes_error_json() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-unreadable");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("evidence")).unwrap();
    let img = base.join("evidence").join("bad.img");
    std::fs::write(&img, vec![0x5a; 8192]).unwrap();
    let out = base.join("out");
    let (code, _, err) = run(&[
        "scan",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let e: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("error.json")).unwrap()).unwrap();
    assert_eq!(e["exit_code"], 2);
    assert_eq!(e["image"], img.to_str().unwrap());
    assert!(
        e["error"].as_str().unwrap().contains("no superblock magic"),
        "{e}"
    );
    assert!(!out.join("done.json").exists());
}

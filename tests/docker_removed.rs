//! Removed containers (`docker rm`) and `deleted` classification by
//! container, against the real docker-host fixture. Expected values come
//! from the ground truth (removed.json, whiteouts.json), never hard-coded.

mod common;

use common::*;
use serde_json::Value;
use whiteout::docker::removed::find_removed;
use whiteout::docker::DockerHost;
use whiteout::ext4::Filesystem;

fn truth(file: &str) -> Value {
    let p = testdata().join("docker").join("docker-host").join(file);
    serde_json::from_slice(&read_data(&p)).unwrap()
}

#[test]
fn gone_is_rebuilt_from_deleted_evidence() {
    let gone = truth("removed.json");
    let fs = Filesystem::open(image("docker", "docker-host")).unwrap();
    let host = DockerHost::load(&fs);
    let id = gone["id"].as_str().unwrap();
    assert!(
        host.containers.iter().all(|c| c.id != id),
        "gone must not be live"
    );
    let rec = whiteout::recover::analyse(&fs, &whiteout::recover::Options::default());
    let removed = find_removed(&fs, &host, &rec);
    let r = removed
        .iter()
        .find(|r| r.container.id == id)
        .unwrap_or_else(|| panic!("removed container {id} not found"));
    let c = &r.container;
    assert!(c.removed);
    assert!(!c.evidence.is_empty());
    assert_eq!(c.name.as_deref(), gone["name"].as_str());
    assert_eq!(c.mount_id.as_deref(), gone["mount_id"].as_str());
    assert_eq!(c.init_id.as_deref(), gone["init_id"].as_str());
    assert_eq!(
        c.parent_chain_id.as_deref(),
        gone["parent_chain_id"].as_str()
    );
    assert_eq!(c.image.as_deref(), gone["image"].as_str());
    assert_eq!(c.image_id.as_deref(), gone["image_id"].as_str());
    assert_eq!(c.created.as_deref(), gone["created"].as_str());
    assert_eq!(c.started_at.as_deref(), gone["started_at"].as_str());
    assert_eq!(c.finished_at.as_deref(), gone["finished_at"].as_str());
    assert_eq!(c.exit_code, gone["exit_code"].as_i64());
    // Every r/w layer file of the ground truth is recovered, same content.
    let mut matched = 0;
    for f in gone["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let rf = r
            .files
            .iter()
            .find(|x| x.area == "rw-layer" && x.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("{path} not among recovered files"));
        assert_eq!(rf.sha256.as_deref(), f["sha256"].as_str(), "{path}");
        matched += 1;
    }
    assert!(matched >= 1);
    // Live containers are never reported as removed.
    for rc in &removed {
        assert!(host.containers.iter().all(|c| c.id != rc.container.id));
    }
}

#[test]
fn containers_all_lists_removed() {
    let gone = truth("removed.json");
    let img = raw_copy("docker", "docker-host");
    let (code, out, err) = run(&["containers", img.to_str().unwrap(), "--all", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let g = rows
        .iter()
        .find(|r| r["id"] == gone["id"])
        .expect("gone listed");
    assert_eq!(g["removed"], true);
    assert_eq!(g["mount_id"], gone["mount_id"]);
    assert!(g["recovered_files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["sha256"] == gone["files"][0]["sha256"]));
    // Removed ones come after the live ones.
    let first_removed = rows.iter().position(|r| r["removed"] == true).unwrap();
    assert!(rows[first_removed..].iter().all(|r| r["removed"] == true));
    let (code, text, _) = run(&["containers", img.to_str().unwrap(), "--all"]);
    assert_eq!(code, 0);
    let text = String::from_utf8(text).unwrap();
    assert!(text
        .lines()
        .any(|l| l.starts_with(&gone["id"].as_str().unwrap()[..12]) && l.contains("REMOVED")));
}

#[test]
fn deleted_is_classified_by_container() {
    let wj = truth("whiteouts.json");
    let web_id = wj["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap()["id"]
        .clone();
    let web_mount = wj["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap()["mount_id"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = truth("removed.json");
    let img = raw_copy("docker", "docker-host");
    let (code, out, err) = run(&["deleted", img.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    for r in &rows {
        let k = r["kind"].as_str().unwrap();
        assert!(
            [
                "rw-deleted",
                "image-deleted",
                "runtime-metadata",
                "host-deleted",
                "orphan",
                "whiteout",
                "opaque"
            ]
            .contains(&k),
            "{k}"
        );
        assert!(r["host_path"].is_string());
    }
    for d in wj["intended"]["containers"]["web"]["rw_deleted"]
        .as_array()
        .unwrap()
    {
        let path = d["path"].as_str().unwrap();
        let host_path = format!("/var/lib/docker/overlay2/{web_mount}/diff{path}");
        let r = rows
            .iter()
            .find(|r| r["inode"] == d["ino"] && r["host_path"] == host_path.as_str())
            .unwrap_or_else(|| panic!("web's deleted {path} not listed"));
        assert_eq!(r["kind"], "rw-deleted");
        assert_eq!(r["container"], web_id);
        assert_eq!(r["path"], path);
        assert_eq!(r["sha256"], d["sha256"]);
    }
    // web's whiteout and opaque directory are rows too, with the hidden
    // lower originals.
    let web = &wj["intended"]["containers"]["web"];
    let mark = |kind: &str, path: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["path"] == path)
            .unwrap_or_else(|| panic!("{kind} {path} not listed"))
    };
    let w = mark("whiteout", web["whiteouts"][0].as_str().unwrap());
    assert_eq!(w["container"], web_id);
    assert_eq!(w["container_name"], "web");
    assert_eq!(w["hidden"].as_array().unwrap().len(), 1);
    let o = mark("opaque", web["opaque_dirs"][0].as_str().unwrap());
    let mut hidden: Vec<String> = o["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let p = h["host_path"].as_str().unwrap();
            p[p.find("/diff/").unwrap() + 5..].to_string()
        })
        .collect();
    hidden.sort();
    let want: Vec<String> = web["hidden_lower_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(hidden, want);
    // gone's files: rw-deleted of the removed container.
    for f in gone["files"].as_array().unwrap() {
        let r = rows
            .iter()
            .find(|r| r["inode"] == f["ino"] && r["path"] == f["path"])
            .unwrap_or_else(|| panic!("gone's {} not listed", f["path"]));
        assert_eq!(r["kind"], "rw-deleted");
        assert_eq!(r["container"], gone["id"]);
        assert_eq!(r["container_removed"], true);
    }
}

#[test]
fn no_removed_containers_where_none_were_removed() {
    for name in ["docker-dataroot", "docker-userns"] {
        let m = manifest("docker", name);
        let expected = m["whiteouts"]["removed_containers"]
            .as_array()
            .unwrap()
            .len();
        let fs = Filesystem::open(image("docker", name)).unwrap();
        let host = DockerHost::load(&fs);
        let rec = whiteout::recover::analyse(&fs, &whiteout::recover::Options::default());
        let removed = find_removed(&fs, &host, &rec);
        assert_eq!(removed.len(), expected, "{name}");
    }
}

#[test]
fn names_of_reused_inodes_are_not_joined_to_the_live_directory() {
    // Regression: gone's init layer dir (inode X) and its diff dir (inode
    // Y) were freed by `docker rm`; web, still running, then got X for its
    // /tmp and Y for /tmp/scratch.txt. Journal copies of X's and Y's old
    // directory blocks (whose `.` says X / Y) used to be joined to the live
    // paths: `.../diff/tmp/committed`, `.../diff/tmp/scratch.txt/etc/hostname`.
    let gone = truth("removed.json");
    let m = manifest("docker", "docker-host");
    let web = m["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap();
    let web_tmp = format!(
        "/var/lib/docker/overlay2/{}/diff/tmp/",
        web["mount_id"].as_str().unwrap()
    );
    let gone_init = format!(
        "/var/lib/docker/overlay2/{}/",
        gone["init_id"].as_str().unwrap()
    );
    let fs = Filesystem::open(image("docker", "docker-host")).unwrap();
    let rec = whiteout::recover::analyse(&fs, &whiteout::recover::Options::default());
    let path_of = |c: &whiteout::recover::DeletedCandidate| {
        let p = String::from_utf8_lossy(&c.path).into_owned();
        if p.starts_with('/') || p.starts_with('$') {
            p
        } else {
            format!("/{p}")
        }
    };
    // Nothing below a live regular file, nothing of gone's init layer
    // under web's /tmp.
    for c in &rec.candidates {
        let p = path_of(c);
        assert!(!p.contains("/tmp/scratch.txt/"), "{p}");
        for n in ["committed", "link", "lower", "work", "diff", "work/work"] {
            assert_ne!(p, format!("{web_tmp}{n}"), "{p}");
        }
    }
    // They are under gone's init layer now, each with the reason: the
    // directory incarnation alive when the name was written.
    for n in [
        "committed",
        "link",
        "work",
        "diff/.dockerenv",
        "diff/etc/hostname",
    ] {
        let want = format!("{gone_init}{n}");
        let c = rec
            .candidates
            .iter()
            .find(|c| path_of(c) == want)
            .unwrap_or_else(|| panic!("{want} not recovered"));
        if !n.contains('/') {
            assert!(
                c.evidence_text()
                    .iter()
                    .any(|e| e.contains("shows alive when each name was written")),
                "{want}: {:?}",
                c.evidence_text()
            );
        }
    }
}

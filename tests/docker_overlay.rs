//! The legacy overlay (v1) driver against a REAL fixture: Debian dockerd
//! 20.10 with `--storage-driver overlay` (testdata/docker/docker-overlay,
//! scripts/make-docker-fixtures.sh docker-overlay). The merged view is
//! compared with `docker export` of the container.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use whiteout::docker::overlay::{Lookup, MergedView};
use whiteout::docker::DockerHost;
use whiteout::ext4::inode::FileType;
use whiteout::ext4::Filesystem;

#[test]
fn overlay_v1_stack_and_merged_view_match_docker_export() {
    let m = manifest("docker", "docker-overlay");
    assert_eq!(m["synthetic"], false);
    let fs = Filesystem::open(image("docker", "docker-overlay")).unwrap();
    let host = DockerHost::load(&fs);
    assert_eq!(host.roots.len(), 1);
    assert_eq!(host.roots[0].drivers, vec!["overlay".to_string()]);
    let want = &m["container"];
    let c = host.find_container(want["name"].as_str().unwrap()).unwrap();
    assert_eq!(c.id, want["id"].as_str().unwrap());
    assert_eq!(c.driver.as_deref(), Some("overlay"));
    assert_eq!(c.mount_id.as_deref(), want["mount_id"].as_str());
    assert_eq!(c.exit_code, want["exit_code"].as_i64());
    // The stack: the container's upper, then the lower-id chain down to
    // the image layer whose root/ holds the whole image tree.
    let g = &want["graph_driver"];
    let dirs: Vec<String> = c
        .layers
        .iter()
        .map(|l| String::from_utf8_lossy(&l.dir).into_owned())
        .collect();
    assert_eq!(dirs[0], g["UpperDir"].as_str().unwrap());
    assert_eq!(dirs[1..].join(":"), g["LowerDir"].as_str().unwrap());
    assert!(c.layers.iter().all(|l| l.inode.is_some()));
    // Images and their layers.
    for wi in m["images"].as_array().unwrap() {
        let img = host.find_image(wi["id"].as_str().unwrap()).unwrap();
        let diffs: Vec<Value> = img
            .config
            .diff_ids
            .iter()
            .map(|d| Value::String(d.clone()))
            .collect();
        assert_eq!(&Value::Array(diffs), &wi["layers"]);
        assert!(img.missing_layers.is_empty());
    }
    // The merged view equals docker export: paths, types, contents.
    let view = MergedView::of_container(&fs, &host, c);
    let mut ours: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut deleted = Vec::new();
    let root = view.root().unwrap();
    view.walk(
        &root,
        &mut |e| {
            let t = if e.is_dir() {
                "dir"
            } else if e.inode.file_type() == FileType::Symlink {
                "symlink"
            } else if e.inode.file_type() == FileType::Regular {
                "file"
            } else {
                "other"
            };
            let sha = if t == "file" {
                Some(sha256_hex(
                    &fs.read_content(&e.inode, 0, e.inode.size).unwrap(),
                ))
            } else {
                None
            };
            ours.insert(
                String::from_utf8(e.path.clone()).unwrap(),
                (t.to_string(), sha),
            );
            Ok(())
        },
        &mut |w| {
            deleted.push(String::from_utf8(w.path.clone()).unwrap());
            Ok(())
        },
    )
    .unwrap();
    let theirs: BTreeMap<String, (String, Option<String>)> = m["merged"]["export"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["sha256"].as_str().map(|s| s.to_string()),
                ),
            )
        })
        .collect();
    // docker export adds the mount points the daemon bind-mounts over
    // (/etc/hostname, /etc/hosts, /etc/resolv.conf are in the upper; /dev,
    // /proc, /sys are in the image): no difference expected.
    let only_ours: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    let only_theirs: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "only ours {only_ours:?}, only export {only_theirs:?}"
    );
    for (p, v) in &theirs {
        assert_eq!(&ours[p], v, "{p}");
    }
    // The container deleted /etc/motd: a whiteout over the image's copy.
    assert_eq!(deleted, vec!["/etc/motd".to_string()]);
    match view.lookup(b"/etc/motd", false).unwrap() {
        Lookup::Deleted(w) => assert_eq!(w.hidden.len(), 1),
        _ => panic!("/etc/motd should be deleted in the container"),
    }
    // What the image deleted was applied when the layer root was built.
    for p in ["/etc/secret.conf", "/opt/old/a.txt", "/opt/old/b.txt"] {
        assert!(
            matches!(view.lookup(p.as_bytes(), false).unwrap(), Lookup::Missing),
            "{p}"
        );
    }
}

//! SYNTHETIC Docker fixtures (manifests say `"synthetic": true`): formats
//! this host's dockerd (20.10) cannot write, built as plain files in the
//! real on-disk formats by scripts/make-docker-synthetic-fixtures.sh.
//! Expected values come from the manifests.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use whiteout::docker::bolt;
use whiteout::docker::overlay::{Lookup, MergedView};
use whiteout::docker::DockerHost;
use whiteout::ext4::Filesystem;

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(|x| x.to_string())
}

fn host_file(fs: &Filesystem, path: &str) -> Vec<u8> {
    whiteout::docker::fsutil::read_host_file(fs, path.as_bytes(), 1 << 30)
        .unwrap()
        .1
}

#[test]
fn containerd_store_roots_images_containers_and_stack() {
    let m = manifest("docker-synthetic", "docker-containerd");
    assert_eq!(m["synthetic"], true);
    let fs = Filesystem::open(image("docker-synthetic", "docker-containerd")).unwrap();
    let host = DockerHost::load(&fs);
    assert_eq!(host.roots.len(), 1, "{:?}", host.warnings);
    let r = &host.roots[0];
    assert_eq!(
        String::from_utf8_lossy(&r.path),
        m["docker_root"].as_str().unwrap()
    );
    assert_eq!(r.drivers, vec!["overlayfs".to_string()]);
    assert_eq!(
        r.containerd_store.as_deref(),
        Some(m["containerd_root"].as_str().unwrap().as_bytes())
    );
    assert!(r.how.iter().any(|h| h.contains("containerd image store")));
    assert!(host.warnings.is_empty(), "{:?}", host.warnings);

    // Images: the index digest is the id, config from the content store.
    let want = &m["images"][0];
    assert_eq!(host.images.len(), 1);
    let img = &host.images[0];
    assert_eq!(img.id, want["id"].as_str().unwrap());
    assert_eq!(img.tags, vec!["synth/app:29".to_string()]);
    assert!(img.config_digest_ok);
    assert!(img.missing_layers.is_empty());
    assert!(img
        .config_path
        .ends_with(&want["config_digest"].as_str().unwrap().as_bytes()[7..]));
    for (k, l) in want["layers"].as_array().unwrap().iter().enumerate() {
        assert_eq!(Some(img.chain_ids[k].clone()), s(&l["chain_id"]));
        let layer = host.layer(&img.root, &img.chain_ids[k]).unwrap();
        assert_eq!(layer.diff_id, s(&l["diff_id"]));
        assert_eq!(layer.cache_id, Some(l["snapshot"].to_string()));
        assert_eq!(layer.chain_id_ok, Some(true));
        assert!(layer.dir_inode.is_some());
        assert_eq!(layer.images, vec![img.id.clone()]);
    }

    // The container and its snapshot stack.
    let w = &m["containers"][0];
    let c = host.find_container(w["name"].as_str().unwrap()).unwrap();
    assert_eq!(c.id, w["id"].as_str().unwrap());
    assert_eq!(c.driver.as_deref(), Some("overlayfs"));
    assert_eq!(c.image_id, s(&w["image_id"]));
    assert_eq!(c.image_tags, vec!["synth/app:29".to_string()]);
    assert_eq!(c.running, w["running"].as_bool().unwrap());
    assert!(c.running_at_acquisition);
    assert_eq!(c.pid, w["pid"].as_i64());
    assert_eq!(c.mount_id, s(&w["snapshot_key"]));
    assert_eq!(c.init_id, s(&w["init"]));
    assert_eq!(c.parent_chain_id, s(&w["parent_chain_id"]));
    assert!(c.evidence.iter().any(|e| e.kind == "containerd-snapshot"));
    let dirs: Vec<String> = c
        .layers
        .iter()
        .map(|l| String::from_utf8_lossy(&l.dir).into_owned())
        .collect();
    let want_dirs: Vec<String> = w["layer_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert_eq!(dirs, want_dirs);
    let roles: Vec<&str> = c.layers.iter().map(|l| l.role.as_str()).collect();
    assert_eq!(roles, vec!["upper", "init", "image", "image"]);
    assert!(c.layers.iter().all(|l| l.inode.is_some()));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    // The merged view: 0/0 whiteouts and the opaque dir applied.
    let view = MergedView::of_container(&fs, &host, c);
    let mut seen = BTreeSet::new();
    let mut deleted = BTreeMap::new();
    let root = view.root().unwrap();
    view.walk(
        &root,
        &mut |e| {
            seen.insert(String::from_utf8(e.path.clone()).unwrap());
            Ok(())
        },
        &mut |w| {
            deleted.insert(
                String::from_utf8(w.path.clone()).unwrap(),
                w.kind.to_string(),
            );
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, set_of(&m["merged"]["visible"]));
    let want: BTreeMap<String, String> = m["merged"]["deleted"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), s(v).unwrap()))
        .collect();
    assert_eq!(deleted, want);
    match view.lookup(b"/etc/passwd", false).unwrap() {
        Lookup::Deleted(w) => assert_eq!(w.hidden.len(), 1),
        _ => panic!("/etc/passwd should be deleted in the container"),
    }
    // whoowns: a file of snapshot 1 (outside the Docker root) is an image
    // layer file of synth/app:29, deleted in web29's view.
    let o = whiteout::docker::owner::who_owns(
        &fs,
        &host,
        format!("{}/fs/etc/passwd", &want_dirs[3][..want_dirs[3].len() - 3]).as_bytes(),
        None,
    );
    assert_eq!(o.area, "layer");
    assert_eq!(o.chain_ids, vec![img.chain_ids[0].clone()]);
    assert_eq!(o.images[0].id, img.id);
    assert_eq!(o.containers.len(), 1);
    assert!(o.containers[0]
        .state
        .starts_with("deleted in container view"));
    match view.lookup(b"/root/loot.txt", false).unwrap() {
        Lookup::Found(e) => {
            assert_eq!(
                fs.read_content(&e.inode, 0, e.inode.size).unwrap(),
                b"SYNTH-CTRD-LOOT\n"
            )
        }
        _ => panic!("/root/loot.txt should be visible"),
    }
}

#[test]
fn containerd_cli_cat_and_containers() {
    let img = testdata()
        .join("docker-synthetic")
        .join("docker-containerd.img.gz");
    let dir = std::env::temp_dir().join(format!("wo-ctrd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("ctrd.img");
    std::fs::write(&raw, read_data(&img)).unwrap();
    let p = raw.to_str().unwrap();
    let (rc, out, _) = run(&["cat", p, "--container", "web29", "/opt/old/c.txt"]);
    assert_eq!(rc, 0);
    assert_eq!(out, b"new c\n");
    let (rc, _, err) = run(&["cat", p, "--container", "web29", "/etc/secret.conf"]);
    assert_eq!(rc, 1);
    assert!(err.contains("deleted in container"), "{err}");
    let (rc, out, _) = run(&["containers", p, "--json"]);
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(v["driver"], "overlayfs");
    assert_eq!(v["layers"].as_array().unwrap().len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bolt_reader_reads_both_files_exactly() {
    let fs = Filesystem::open(image("docker-synthetic", "docker-containerd")).unwrap();
    let meta = host_file(
        &fs,
        "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
    );
    let db = bolt::parse(&meta).unwrap();
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    assert_eq!(db.meta.page_size, 4096);
    assert_eq!(db.meta.txid, 3, "the newer valid meta wins");
    let ns = db.root.path(&[b"v1", b"moby"]).unwrap();
    let snaps = ns.path(&[b"snapshots", b"overlayfs"]).unwrap();
    assert_eq!(snaps.buckets.len(), 4); // split over a branch page
    let snap = host_file(
        &fs,
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db",
    );
    let db = bolt::parse(&snap).unwrap();
    let s = db.root.path(&[b"v1", b"snapshots"]).unwrap();
    assert_eq!(s.buckets.len(), 5); // 4 moby + 1 other namespace
    let ids: Vec<u64> = s
        .buckets
        .values()
        .filter_map(|b| b.get(b"id").and_then(bolt::uvarint))
        .collect();
    assert_eq!(ids, vec![9, 1, 2, 3, 4]);
}

#[test]
fn bolt_reader_survives_damage() {
    let fs = Filesystem::open(image("docker-synthetic", "docker-containerd")).unwrap();
    let orig = host_file(
        &fs,
        "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
    );
    // A bad checksum on meta 1: meta 0 is used.
    let mut d = orig.clone();
    d[4096 + 16 + 48] ^= 1;
    let db = bolt::parse(&d).unwrap();
    assert_eq!(db.meta.txid, 2);
    assert!(!db.warnings.is_empty());
    // Every byte flipped in turn past the metas, and truncations: never
    // a panic.
    for i in (8192..orig.len()).step_by(7) {
        let mut d = orig.clone();
        d[i] ^= 0xff;
        let _ = bolt::parse(&d);
    }
    for n in [0, 10, 4096, 8192, 9000, orig.len() - 1] {
        let _ = bolt::parse(&orig[..n]);
    }
    // A branch page pointing at itself: cut as a loop.
    let mut d = orig.clone();
    for pg in 3..d.len() / 4096 {
        let off = pg * 4096;
        if u16::from_le_bytes([d[off + 8], d[off + 9]]) == 0x01 {
            d[off + 16 + 8..off + 16 + 16].copy_from_slice(&(pg as u64).to_le_bytes());
        }
    }
    let db = bolt::parse(&d).unwrap();
    assert!(
        db.warnings.iter().any(|w| w.contains("loop")),
        "{:?}",
        db.warnings
    );
}

#[test]
fn legacy_v1_graph_layout() {
    let m = manifest("docker-synthetic", "docker-graph-v1");
    assert_eq!(m["synthetic"], true);
    let fs = Filesystem::open(image("docker-synthetic", "docker-graph-v1")).unwrap();
    let host = DockerHost::load(&fs);
    assert_eq!(host.roots.len(), 1);
    assert_eq!(host.roots[0].drivers, vec!["aufs".to_string()]);
    assert!(host.roots[0].how.iter().any(|h| h.contains("v1 graph")));
    assert!(host.warnings.is_empty(), "{:?}", host.warnings);
    for wi in m["images"].as_array().unwrap() {
        let img = host.find_image(wi["id"].as_str().unwrap()).unwrap();
        assert_eq!(
            img.tags,
            set_of(&wi["tags"]).into_iter().collect::<Vec<_>>()
        );
        assert_eq!(img.kind, wi["kind"].as_str().unwrap());
        assert_eq!(img.parent, s(&wi["parent"]));
        let chain: Vec<String> = wi["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert_eq!(img.chain_ids, chain);
        assert_eq!(img.size, wi["size"].as_u64().unwrap());
        assert!(img.missing_layers.is_empty());
    }
    let w = &m["containers"][0];
    let c = host.find_container(w["name"].as_str().unwrap()).unwrap();
    assert_eq!(c.id, w["id"].as_str().unwrap());
    assert_eq!(c.image_id, s(&w["image_id"]));
    assert_eq!(c.image_tags, vec![w["image"].as_str().unwrap().to_string()]);
    assert_eq!(c.exit_code, w["exit_code"].as_i64());
    assert_eq!(c.privileged, w["privileged"].as_bool().unwrap());
    assert!(c.evidence.iter().any(|e| e.kind == "config.json"));
    let ids: Vec<String> = c.layers.iter().map(|l| l.id.clone()).collect();
    let want: Vec<String> = w["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, want);
    assert!(c.layers.iter().all(|l| l.inode.is_some()));
    let view = MergedView::of_container(&fs, &host, c);
    let mut seen = BTreeSet::new();
    let mut deleted = BTreeMap::new();
    let root = view.root().unwrap();
    view.walk(
        &root,
        &mut |e| {
            seen.insert(String::from_utf8(e.path.clone()).unwrap());
            Ok(())
        },
        &mut |w| {
            deleted.insert(
                String::from_utf8(w.path.clone()).unwrap(),
                w.kind.to_string(),
            );
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, set_of(&m["merged"]["visible"]));
    let want: BTreeMap<String, String> = m["merged"]["deleted"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), s(v).unwrap()))
        .collect();
    assert_eq!(deleted, want);
}

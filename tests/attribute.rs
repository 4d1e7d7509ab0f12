//! Block and file attribution against the real docker-host fixture. Owners
//! expected come from the generator's ground truth (manifest, removed.json,
//! layer-contents.json), never hard-coded.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use whiteout::attribute::{Attributor, Confidence, DockerContext, OwnerKind};
use whiteout::ext4::Filesystem;
use whiteout::recover::{CandidateKind, DeletedCandidate, NameSource, Recovery, RunState};

// Measured on the carve-docker fixture (see the tests at the end).
const CARVE_DOCKER_NAMED: (u32, u32, u32) = (0, 19, 0);
const CARVE_DOCKER_TOP1: u32 = 34;

struct Setup {
    fs: &'static Filesystem,
    rec: &'static Recovery,
    at: Attributor<'static>,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let fs: &'static Filesystem = Box::leak(Box::new(
            Filesystem::open(image("docker", "docker-host")).unwrap(),
        ));
        let rec: &'static Recovery = Box::leak(Box::new(whiteout::recover::analyse(
            fs,
            &whiteout::recover::Options::default(),
        )));
        let ctx: &'static Option<DockerContext> = Box::leak(Box::new(DockerContext::load(fs, rec)));
        assert!(ctx.is_some(), "docker-host has a Docker root");
        let at = Attributor::new(fs, ctx.as_ref(), rec);
        Setup { fs, rec, at }
    })
}

fn truth(file: &str) -> Value {
    let p = testdata().join("docker").join("docker-host").join(file);
    serde_json::from_slice(&read_data(&p)).unwrap()
}

/// Ground-truth owners: 64-hex dir name → (kind, owner id).
fn truth_ids() -> HashMap<String, (OwnerKind, String)> {
    let m = manifest("docker", "docker-host");
    let mut ids = HashMap::new();
    for c in m["containers"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap().to_string();
        for k in ["id", "mount_id", "init_id"] {
            if let Some(v) = c[k].as_str() {
                ids.insert(v.to_string(), (OwnerKind::Container, id.clone()));
            }
        }
    }
    for i in m["images"].as_array().unwrap() {
        for l in i["layers"].as_array().unwrap() {
            let cid = l["cache_id"].as_str().unwrap().to_string();
            ids.entry(cid.clone())
                .or_insert((OwnerKind::Layer, cid.clone()));
        }
    }
    ids
}

/// The true owner of a deleted file with a path: the manifest id in its
/// path (or, for an overlay2 short link, in its target); daemon or host
/// otherwise. `None` when the path names an id the manifest does not know.
fn true_owner(
    c: &DeletedCandidate,
    ids: &HashMap<String, (OwnerKind, String)>,
) -> Option<(OwnerKind, String)> {
    let path = String::from_utf8_lossy(&c.path).into_owned();
    let root = "/var/lib/docker/";
    let Some(rel) = path.strip_prefix(root) else {
        return Some((OwnerKind::Host, "host".into()));
    };
    let mut text = rel.to_string();
    if rel.starts_with("overlay2/l/") {
        text = c.symlink_target().map(String::from).unwrap_or_default();
    }
    for comp in text.split('/') {
        let comp = comp.strip_suffix("-init").unwrap_or(comp);
        if comp.len() == 64 && comp.bytes().all(|b| b.is_ascii_hexdigit()) {
            return ids.get(comp).cloned();
        }
    }
    Some((OwnerKind::Daemon, "/var/lib/docker".into()))
}

fn named(c: &DeletedCandidate) -> bool {
    c.kind == CandidateKind::Deleted
        && c.name_source != NameSource::None
        && !c.path.starts_with(b"$Orphan")
}

fn free_runs(c: &DeletedCandidate) -> Vec<(u64, u64)> {
    c.runs()
        .iter()
        .filter(|r| r.state == RunState::Free)
        .map(|r| (r.physical, r.len))
        .collect()
}

#[test]
fn web_upper_dir_files_are_webs_certain() {
    let s = setup();
    let wj = truth("whiteouts.json");
    let web = wj["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap();
    let web_id = web["id"].as_str().unwrap();
    let lc = truth("layer-contents.json");
    let mut n = 0;
    for area in ["rw", "init"] {
        for e in lc["containers"]["web"][area].as_array().unwrap() {
            let ino = e["ino"].as_u64().unwrap() as u32;
            let a = s.at.for_inode(ino);
            assert_eq!(a.owner.as_deref(), Some(web_id), "{area} {}", e["path"]);
            assert_eq!(a.owner_kind, Some(OwnerKind::Container));
            assert_eq!(a.owner_name.as_deref(), Some("web"));
            assert_eq!(a.confidence, Confidence::Certain);
            assert_eq!(a.score, 1.0);
            assert_eq!(a.rule, "path");
            assert!(!a.evidence.is_empty());
            n += 1;
        }
    }
    eprintln!("web: {n}/{n} upper/init entries attributed to web, certain");
    assert!(n >= 10);
}

#[test]
fn image_layer_files_belong_to_their_layer_images_and_containers() {
    let s = setup();
    let m = manifest("docker", "docker-host");
    let lc = truth("layer-contents.json");
    // cache id → images (manifest) and live containers on those images.
    let mut imgs: HashMap<String, BTreeSet<String>> = HashMap::new();
    for i in m["images"].as_array().unwrap() {
        for l in i["layers"].as_array().unwrap() {
            imgs.entry(l["cache_id"].as_str().unwrap().to_string())
                .or_default()
                .insert(i["id"].as_str().unwrap().to_string());
        }
    }
    let mut users: HashMap<String, BTreeSet<String>> = HashMap::new();
    for c in m["containers"].as_array().unwrap() {
        if c["removed"] == true {
            continue;
        }
        let img = c["image_id"].as_str().unwrap();
        for (cache, ims) in &imgs {
            if ims.contains(img) {
                users
                    .entry(cache.clone())
                    .or_default()
                    .insert(c["id"].as_str().unwrap().to_string());
            }
        }
    }
    let mut n = 0;
    for (cache, entries) in lc["image_layers"].as_object().unwrap() {
        for e in entries.as_array().unwrap() {
            let ino = e["ino"].as_u64().unwrap() as u32;
            let a = s.at.for_inode(ino);
            assert_eq!(a.owner.as_deref(), Some(cache.as_str()), "{}", e["path"]);
            assert_eq!(a.owner_kind, Some(OwnerKind::Layer));
            assert_eq!(a.confidence, Confidence::Certain);
            let got: BTreeSet<String> = a.images.iter().cloned().collect();
            assert!(
                imgs[cache].is_subset(&got),
                "{cache}: images {got:?} miss some of {:?}",
                imgs[cache]
            );
            let got: BTreeSet<String> = a.containers.iter().cloned().collect();
            let want = users.get(cache).cloned().unwrap_or_default();
            assert!(
                want.is_subset(&got),
                "{cache}: containers {got:?} miss some of {want:?}"
            );
            n += 1;
        }
    }
    eprintln!(
        "image layers: {n}/{n} entries attributed to their layer (with images and containers)"
    );
    assert!(n >= 100);
}

#[test]
fn gone_recovered_files_belong_to_gone_by_rule_2() {
    let s = setup();
    let gone = truth("removed.json");
    let id = gone["id"].as_str().unwrap();
    let files = gone["files"].as_array().unwrap();
    for f in files {
        let ino = f["ino"].as_u64().unwrap() as u32;
        let a = s.at.for_inode(ino);
        assert_eq!(a.owner.as_deref(), Some(id), "{}", f["path"]);
        assert_eq!(a.owner_name.as_deref(), Some("gone"));
        assert_eq!(a.rule, "recovered-path");
        assert_eq!(a.confidence, Confidence::High);
        assert!(a.owner_removed);
        assert!(
            a.evidence.iter().any(|e| e.contains("journal")),
            "{:?}",
            a.evidence
        );
    }
    eprintln!(
        "gone: {}/{} recovered files attributed to gone by rule 2",
        files.len(),
        files.len()
    );
}

#[test]
fn deleted_files_with_a_path_have_the_right_owner() {
    let s = setup();
    let ids = truth_ids();
    let (mut total, mut right, mut unknown) = (0, 0, 0);
    for (i, c) in s.rec.candidates.iter().enumerate() {
        if !named(c) {
            continue;
        }
        let Some((kind, want)) = true_owner(c, &ids) else {
            unknown += 1;
            continue;
        };
        let a = s.at.for_candidate(i).unwrap();
        total += 1;
        assert!(!a.hint, "{}", String::from_utf8_lossy(&c.path));
        if a.owner.as_deref() == Some(want.as_str()) && a.owner_kind == Some(kind) {
            right += 1;
        } else {
            eprintln!(
                "wrong: {} → {:?} {:?}, truth {kind:?} {want}",
                String::from_utf8_lossy(&c.path),
                a.owner_kind,
                a.owner
            );
        }
    }
    eprintln!(
        "deleted files with a recovered path: {right}/{total} correct owner ({unknown} name ids unknown to the manifest)"
    );
    assert!(total >= 80, "{total}");
    assert_eq!(right, total);
}

#[test]
fn nameless_evidence_is_a_ranked_hint_never_certain() {
    let s = setup();
    let ids = truth_ids();
    // Orphans: hints only.
    let mut orphans = 0;
    for (i, c) in s.rec.candidates.iter().enumerate() {
        if named(c) {
            continue;
        }
        let a = s.at.for_candidate(i).unwrap();
        orphans += 1;
        if a.owner.is_some() && a.rule != "content" {
            assert!(a.hint);
            assert_eq!(a.confidence, Confidence::Hint);
            assert!(a.score <= 0.75, "{}", a.score);
            assert!(!a.ranking.is_empty());
            assert!(a.evidence.iter().any(|e| e.contains("not proof")));
        }
    }
    // Leave-one-out: deleted files with a known owner, their name hidden.
    let (mut n, mut top1) = (0, 0);
    for c in s.rec.candidates.iter().filter(|c| named(c)) {
        let Some((_, want)) = true_owner(c, &ids) else {
            continue;
        };
        let a =
            s.at.hint_attribution(&free_runs(c), Some(c.inode), Some(c.inode));
        assert_ne!(a.confidence, Confidence::Certain);
        assert!(a.score < 1.0);
        n += 1;
        if a.owner.as_deref() == Some(want.as_str()) {
            top1 += 1;
        }
    }
    // Live files of containers and layers as carved fragments: their blocks
    // and number, with the file itself left out.
    let lc = truth("layer-contents.json");
    let wj = manifest("docker", "docker-host");
    let name_to_id: HashMap<&str, &str> = wj["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["id"].as_str().unwrap()))
        .collect();
    let mut items: Vec<(u32, String)> = Vec::new();
    for (name, areas) in lc["containers"].as_object().unwrap() {
        for area in ["rw", "init"] {
            for e in areas[area].as_array().into_iter().flatten() {
                if e["type"] == "file" {
                    items.push((
                        e["ino"].as_u64().unwrap() as u32,
                        name_to_id[name.as_str()].to_string(),
                    ));
                }
            }
        }
    }
    for (cache, entries) in lc["image_layers"].as_object().unwrap() {
        for e in entries.as_array().unwrap() {
            if e["type"] == "file" {
                items.push((e["ino"].as_u64().unwrap() as u32, cache.clone()));
            }
        }
    }
    let (mut fn_, mut ftop, mut bn, mut btop) = (0, 0, 0, 0);
    for (ino, want) in &items {
        let inode = s.fs.inode(*ino).unwrap();
        let runs: Vec<(u64, u64)> =
            s.fs.block_map(&inode)
                .runs
                .iter()
                .map(|r| (r.physical, r.len))
                .collect();
        // As a nameless inode (number and blocks).
        let a = s.at.hint_attribution(&runs, Some(*ino), Some(*ino));
        assert_ne!(a.confidence, Confidence::Certain);
        assert!(a.score <= 0.75);
        fn_ += 1;
        if a.owner.as_deref() == Some(want.as_str()) {
            ftop += 1;
        }
        // As a carved fragment (blocks only).
        if !runs.is_empty() {
            let a = s.at.hint_attribution(&runs[..1], None, Some(*ino));
            assert!(a.score <= 0.75 && a.hint || a.owner.is_none());
            bn += 1;
            if a.owner.as_deref() == Some(want.as_str()) {
                btop += 1;
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    eprintln!("orphans (no name): {orphans}, every owner a hint");
    eprintln!(
        "leave-one-out, deleted files with the name hidden: top-ranked owner correct {top1}/{n} ({:.1}%)",
        pct(top1, n)
    );
    eprintln!(
        "live container/layer files as nameless inodes: top-ranked owner correct {ftop}/{fn_} ({:.1}%)",
        pct(ftop, fn_)
    );
    eprintln!(
        "live container/layer files as carved fragments (first run only): top-ranked owner correct {btop}/{bn} ({:.1}%)",
        pct(btop, bn)
    );
    assert!(orphans >= 1 && n >= 50 && fn_ >= 50 && bn >= 20);
    // Locality must beat always guessing the commonest owner.
    assert!(top1 * 2 > n, "{top1}/{n}");
    assert!(ftop * 2 > fn_, "{ftop}/{fn_}");
    assert!(btop * 2 > bn, "{btop}/{bn}");
}

#[test]
fn metadata_blocks_say_metadata() {
    let s = setup();
    let gd = &s.fs.groups[0];
    let a = s.at.for_blocks(gd.inode_table, 4);
    assert_eq!(a.owner_kind, Some(OwnerKind::Filesystem));
    assert_eq!(a.rule, "metadata");
    assert!(a.evidence.iter().any(|e| e.contains("inode-table")));
    let img = raw_copy("docker", "docker-host");
    let range = format!("0-{}", gd.inode_table + 2);
    let (code, out, err) = run(&[
        "attribute",
        img.to_str().unwrap(),
        "--blocks",
        &range,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["start"], 0);
    assert_eq!(rows[0]["class"], "metadata");
    assert_eq!(rows[0]["metadata"], "superblock");
    let bb = rows
        .iter()
        .find(|r| r["start"].as_u64() == Some(gd.block_bitmap))
        .unwrap();
    assert_eq!(bb["metadata"], "block-bitmap");
    let it = rows.last().unwrap();
    assert_eq!(it["class"], "metadata");
    assert_eq!(it["metadata"], "inode-table");
    assert_eq!(it["attribution"]["owner_kind"], "filesystem");
    assert_eq!(it["attribution"]["confidence"], "certain");
    // Rows cover the range exactly, in order.
    let mut next = 0;
    for r in &rows {
        assert_eq!(r["start"].as_u64().unwrap(), next);
        next = r["end"].as_u64().unwrap() + 1;
    }
    assert_eq!(next, gd.inode_table + 3);
}

#[test]
fn summary_accounts_for_every_block() {
    let s = setup();
    let rows = s.at.summary();
    let total: u64 = rows
        .iter()
        .map(|r| {
            r.blocks_allocated
                + r.blocks_deleted_recoverable
                + r.blocks_deleted_hint
                + r.blocks_unattributed
        })
        .sum();
    assert_eq!(total, s.fs.sb.blocks_count);
    let gone = truth("removed.json");
    let g = rows
        .iter()
        .find(|r| r.owner == gone["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(g.blocks_allocated, 0);
    assert!(g.blocks_deleted_recoverable >= 2);
    let free: u64 = rows.iter().map(|r| r.blocks_unattributed).sum::<u64>()
        + rows
            .iter()
            .map(|r| r.blocks_deleted_recoverable + r.blocks_deleted_hint)
            .sum::<u64>();
    let want_free: u64 = (0..s.fs.group_count())
        .map(|g| s.fs.groups[g as usize].free_blocks_count as u64)
        .sum();
    assert_eq!(free, want_free);
    for r in &rows {
        eprintln!(
            "{:?} {} alloc {} deleted {} hint {} unattributed {}",
            r.owner_kind,
            r.owner,
            r.blocks_allocated,
            r.blocks_deleted_recoverable,
            r.blocks_deleted_hint,
            r.blocks_unattributed
        );
    }
    let img = raw_copy("docker", "docker-host");
    let (code, out, err) = run(&["attribute", img.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let n = String::from_utf8(out).unwrap().lines().count();
    assert_eq!(n, rows.len());
}

#[test]
fn content_names_the_owner_of_a_fragment() {
    let s = setup();
    let gone = truth("removed.json");
    let id = gone["id"].as_str().unwrap();
    // A free block nothing claims.
    let free = (1..s.fs.sb.blocks_count)
        .rev()
        .find(|&b| s.fs.block_allocated(b) == Some(false) && s.at.map.span_at(b).is_none())
        .unwrap();
    let text = format!("{{\"ID\":\"{id}\",\"Name\":\"/gone\"}}");
    let a = s.at.for_fragment(free, 1, Some(text.as_bytes()));
    assert_eq!(a.owner.as_deref(), Some(id));
    assert_eq!(a.rule, "content");
    assert_eq!(a.confidence, Confidence::Medium);
    let a = s.at.for_fragment(free, 1, None);
    assert!(a.owner.is_none() || a.hint);
}

#[test]
fn deleted_json_and_recover_manifest_carry_attribution() {
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
        let a = &r["attribution"];
        assert!(a.is_object(), "{r}");
        assert!(a["confidence"].is_string() && a["evidence"].is_array());
    }
    let gone = truth("removed.json");
    let ino = gone["files"][0]["ino"].as_u64().unwrap().to_string();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("attribute-recover");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, _, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--inode",
        &ino,
    ]);
    assert_eq!(code, 0, "{err}");
    let man = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let row: Value = serde_json::from_str(man.lines().next().unwrap()).unwrap();
    assert_eq!(row["attribution"]["owner"], gone["id"]);
    assert_eq!(row["attribution"]["rule"], "recovered-path");
    let (code, out, _) = run(&["attribute", img.to_str().unwrap(), "--inode", &ino]);
    assert_eq!(code, 0);
    assert!(String::from_utf8(out).unwrap().contains("gone"));
}

#[test]
fn summary_is_exact_without_docker_and_on_1k_blocks() {
    for (dir, name) in [("ext4", "blk1k"), ("ext4", "ext3"), ("deleted", "del-tree")] {
        let fs = Filesystem::open(image(dir, name)).unwrap();
        let rec = whiteout::recover::analyse(&fs, &whiteout::recover::Options::default());
        let ctx = DockerContext::load(&fs, &rec);
        assert!(ctx.is_none());
        let at = Attributor::new(&fs, None, &rec);
        let rows = at.summary();
        let total: u64 = rows
            .iter()
            .map(|r| {
                r.blocks_allocated
                    + r.blocks_deleted_recoverable
                    + r.blocks_deleted_hint
                    + r.blocks_unattributed
            })
            .sum();
        assert_eq!(total, fs.sb.blocks_count, "{name}");
        // Without Docker, every recovered path is the host's.
        for (i, c) in rec.candidates.iter().enumerate() {
            if named(c) {
                let a = at.for_candidate(i).unwrap();
                assert_eq!(a.owner_kind, Some(OwnerKind::Host), "{name}");
            }
        }
        if fs.sb.first_data_block > 0 {
            assert_eq!(
                at.map.class_of(&fs, 0),
                whiteout::attribute::BlockClass::Metadata(whiteout::attribute::MetaKind::BootBlock)
            );
        }
    }
}

#[test]
fn volume_and_container_dir_files_belong_to_their_container() {
    let s = setup();
    let m = manifest("docker", "docker-host");
    let id_of = |name: &str| {
        m["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let vol = m["volumes"][0]["mountpoint"].as_str().unwrap();
    let ino = s.fs.lookup(format!("{vol}/data.txt").as_bytes()).unwrap();
    let a = s.at.for_inode(ino);
    assert_eq!(a.owner, Some(id_of("volwriter")));
    assert_eq!(a.confidence, Confidence::Certain);
    assert!(a.evidence[0].contains("volume"));
    let web = id_of("web");
    let ino =
        s.fs.lookup(format!("/var/lib/docker/containers/{web}/config.v2.json").as_bytes())
            .unwrap();
    let a = s.at.for_inode(ino);
    assert_eq!(a.owner, Some(web));
    assert_eq!(a.confidence, Confidence::Certain);
    // Other files under the root are the daemon's own.
    let ino =
        s.fs.lookup(b"/var/lib/docker/image/overlay2/repositories.json")
            .unwrap();
    let a = s.at.for_inode(ino);
    assert_eq!(a.owner_kind, Some(OwnerKind::Daemon));
    assert_eq!(a.owner.as_deref(), Some("/var/lib/docker"));
    let ino = s.fs.lookup(b"/etc/hostname").unwrap();
    assert_eq!(s.at.for_inode(ino).owner_kind, Some(OwnerKind::Host));
}

/// The carve-docker fixture (scripts/make-carve-docker-fixture.sh): a real
/// dockerd, three containers, 58 deleted files on an 8-group filesystem.
struct CarveDocker {
    fs: &'static Filesystem,
    rec: &'static Recovery,
    at: Attributor<'static>,
    m: Value,
}

fn carve_docker() -> &'static CarveDocker {
    static S: OnceLock<CarveDocker> = OnceLock::new();
    S.get_or_init(|| {
        let fs: &'static Filesystem = Box::leak(Box::new(
            Filesystem::open(image("carve-docker", "carve-docker")).unwrap(),
        ));
        let rec: &'static Recovery = Box::leak(Box::new(whiteout::recover::analyse(
            fs,
            &whiteout::recover::Options::default(),
        )));
        let ctx: &'static Option<DockerContext> = Box::leak(Box::new(DockerContext::load(fs, rec)));
        let at = Attributor::new(fs, ctx.as_ref(), rec);
        let m = manifest("carve-docker", "carve-docker");
        assert!(ctx.is_some());
        CarveDocker { fs, rec, at, m }
    })
}

/// Container id owning a path, from the manifest (container id or mount id
/// in the path); `None` for paths outside every container.
fn carve_docker_owner(m: &Value, path: &[u8]) -> Option<String> {
    let p = String::from_utf8_lossy(path);
    let cs = m["containers"].as_object().unwrap();
    p.split('/').find_map(|comp| {
        let comp = comp.strip_suffix("-init").unwrap_or(comp);
        cs.values()
            .find(|c| c["id"] == comp || c["mount_id"] == comp)
            .map(|c| c["id"].as_str().unwrap().to_string())
    })
}

#[test]
fn carve_docker_recovered_paths_have_the_right_owner() {
    let s = carve_docker();
    // Truth by inode number (debugfs, before deletion), else by an id in the path.
    let by_inode: HashMap<u64, String> = s.m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["inode"].as_u64().unwrap(),
                f["container_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (mut n, mut ok) = (0, 0);
    let (mut cut, mut cut_top1) = (0, 0);
    for (i, c) in s.rec.candidates.iter().enumerate() {
        if !named(c) {
            continue;
        }
        let Some(want) = by_inode
            .get(&u64::from(c.inode))
            .cloned()
            .or_else(|| carve_docker_owner(&s.m, &c.path))
        else {
            continue;
        };
        let a = s.at.for_candidate(i).unwrap();
        let path = String::from_utf8_lossy(&c.path);
        // `docker rm` wiped the names of the container's own directories
        // in the live overlay2/ and containers/: below them the names
        // survive in freed directory blocks, but the path names no owner.
        let head = path.split("/$OrphanDir-").next().unwrap_or("");
        if path.contains("/$OrphanDir-") && !head.split('/').any(|x| x.len() == 64) {
            cut += 1;
            assert_ne!(a.rule, "recovered-path", "{path}: {a:?}");
            assert_ne!(a.confidence, Confidence::Certain, "{path}");
            assert_ne!(a.confidence, Confidence::High, "{path}");
            if a.owner.as_deref() == Some(want.as_str()) {
                cut_top1 += 1;
            }
            continue;
        }
        n += 1;
        if a.owner.as_deref() == Some(want.as_str()) {
            ok += 1;
        }
    }
    eprintln!("carve-docker: deleted files whose recovered path names the owner: {ok}/{n} correct; paths cut at a wiped container dir: {cut}, top-ranked owner correct {cut_top1}");
    assert_eq!(ok, n);
    assert_eq!((n, cut, cut_top1), CARVE_DOCKER_NAMED);
}

#[test]
fn carve_docker_carved_fragments_ranked_owner() {
    use whiteout::recover::carve;
    let s = carve_docker();
    let res = carve::carve(
        s.fs,
        &carve::Options {
            kinds: None,
            all_space: false,
            traces: false,
            exclude: carve::free_runs(s.rec),
        },
    );
    let mut per: HashMap<String, (u32, u32)> = HashMap::new();
    let (mut n, mut top1) = (0, 0);
    for f in s.m["files"].as_array().unwrap() {
        let c = res
            .files
            .iter()
            .find(|c| c.offset == f["offset"].as_u64().unwrap())
            .unwrap();
        let data = carve::read_carved(s.fs, c).unwrap();
        let first = c.fragments[0];
        let a = s.at.for_fragment(
            first.offset / 4096,
            first.length.div_ceil(4096),
            Some(&data),
        );
        // Block-group evidence is a hint, never certain.
        assert_ne!(a.confidence, Confidence::Certain, "{a:?}");
        if a.rule == "block-group" {
            assert!(a.hint && a.score <= 0.75, "{a:?}");
        }
        let want = f["container_id"].as_str().unwrap();
        let e = per
            .entry(f["container"].as_str().unwrap().into())
            .or_default();
        e.0 += 1;
        n += 1;
        if a.owner.as_deref() == Some(want) {
            top1 += 1;
            e.1 += 1;
        }
    }
    let mut per: Vec<_> = per.into_iter().collect();
    per.sort();
    eprintln!("carve-docker: carved files, top-ranked owner correct {top1}/{n}; per container (files, correct): {per:?}");
    assert_eq!(n, 58);
    assert_eq!(top1, CARVE_DOCKER_TOP1);
}

/// `whoowns` of a deleted file's host path names its deleted incarnation,
/// its container and its evidence; a path nothing knows is exit 1.
#[test]
fn whoowns_of_a_deleted_path_names_its_incarnation_and_container() {
    let img = raw_copy("docker", "docker-host");
    let wj = truth("whiteouts.json");
    let web = &wj["intended"]["containers"]["web"];
    let d = &web["rw_deleted"][0];
    let host_path = format!(
        "/var/lib/docker/overlay2/{}/diff{}",
        web["mount_id"].as_str().unwrap(),
        d["path"].as_str().unwrap()
    );
    let (code, out, err) = run(&["whoowns", img.to_str().unwrap(), &host_path, "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["inode"], d["ino"]);
    assert_eq!(r["live"], false);
    assert_eq!(r["class"], "rw-deleted");
    assert_eq!(r["sha256"], d["sha256"]);
    assert_eq!(r["attribution"]["owner_name"], "web");
    assert_eq!(r["attribution"]["confidence"], "high");
    let (code, _, err) = run(&["whoowns", img.to_str().unwrap(), "/no/such/path"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no live file and no deleted incarnation"),
        "{err}"
    );
}

//! Docker reconstruction against real dockerd-written fixtures
//! (testdata/docker): every value is read from the manifests and ground
//! truth captured from the daemon, never hard-coded.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use whiteout::docker::export::export_tar;
use whiteout::docker::findings;
use whiteout::docker::logs::read_logs;
use whiteout::docker::overlay::{layer_marks, LayerFormat, Lookup, MergedView};
use whiteout::docker::tarsplit::verify_layer;
use whiteout::docker::DockerHost;
use whiteout::ext4::Filesystem;
use whiteout::util::time::parse_rfc3339;

const FIXTURES: &[&str] = &["docker-host", "docker-dataroot", "docker-userns"];

fn open(name: &str) -> (Filesystem, Value) {
    let src = image("docker", name);
    let fs = Filesystem::open(src).unwrap();
    (fs, manifest("docker", name))
}

fn truth(name: &str, file: &str) -> Value {
    let p = testdata().join("docker").join(name).join(file);
    serde_json::from_slice(&read_data(&p)).unwrap()
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(|x| x.to_string())
}

#[test]
fn roots_are_found_with_how() {
    for name in FIXTURES {
        let (fs, m) = open(name);
        let host = DockerHost::load(&fs);
        let paths: Vec<String> = host
            .roots
            .iter()
            .map(|r| String::from_utf8_lossy(&r.path).into_owned())
            .collect();
        assert_eq!(
            paths,
            vec![m["docker_root_effective"].as_str().unwrap().to_string()],
            "{name}: roots"
        );
        let r = &host.roots[0];
        assert_eq!(r.drivers, vec!["overlay2".to_string()], "{name}");
        let how = r.how.join(" | ");
        match *name {
            "docker-dataroot" => assert!(
                how.contains("data-root") && how.contains("/etc/docker/daemon.json"),
                "{how}"
            ),
            "docker-userns" => {
                assert_eq!(r.userns.as_deref(), Some("165536.165536"));
                assert!(how.contains("userns-remap"), "{how}");
            }
            _ => assert!(how.contains("default"), "{how}"),
        }
    }
}

#[test]
fn containers_equal_ground_truth() {
    for name in FIXTURES {
        let (fs, m) = open(name);
        let host = DockerHost::load(&fs);
        let want: Vec<&Value> = m["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c["removed"].as_bool().unwrap())
            .collect();
        let ours: BTreeSet<String> = host.containers.iter().map(|c| c.id.clone()).collect();
        let theirs: BTreeSet<String> = want.iter().map(|c| s(&c["id"]).unwrap()).collect();
        assert_same_set(&ours, &theirs, &format!("{name}: container ids"));
        for w in want {
            let id = w["id"].as_str().unwrap();
            let c = host.containers.iter().find(|c| c.id == id).unwrap();
            let what = format!("{name}:{}", w["name"]);
            assert_eq!(c.name, s(&w["name"]), "{what}: name");
            assert_eq!(c.image, s(&w["image"]), "{what}: image");
            assert_eq!(c.image_id, s(&w["image_id"]), "{what}: image id");
            assert_eq!(c.mount_id, s(&w["mount_id"]), "{what}: mount id");
            assert_eq!(c.init_id, s(&w["init_id"]), "{what}: init id");
            assert_eq!(
                c.running,
                w["running"].as_bool().unwrap(),
                "{what}: running"
            );
            assert_eq!(
                c.running_at_acquisition,
                w["running"].as_bool().unwrap(),
                "{what}: running at acquisition"
            );
            assert_eq!(c.exit_code, w["exit_code"].as_i64(), "{what}: exit code");
            assert_eq!(c.pid, w["pid"].as_i64(), "{what}: pid");
            assert_eq!(c.status, s(&w["status"]), "{what}: status");
            assert_eq!(c.error, s(&w["error"]), "{what}: error");
            assert_eq!(c.log_driver, s(&w["log_driver"]), "{what}: log driver");
            if w["log_path"].is_string() {
                assert_eq!(c.log_path, s(&w["log_path"]), "{what}: log path");
            }
            assert!(!c.removed);
            assert!(
                c.evidence.iter().any(|e| e.kind == "config.v2.json"),
                "{what}: evidence"
            );
            // State times as stored on disk.
            let st = &m["state_on_disk"][w["name"].as_str().unwrap()];
            assert_eq!(c.started_at, s(&st["StartedAt"]), "{what}: started");
            assert_eq!(c.finished_at, s(&st["FinishedAt"]), "{what}: finished");
            // Stack: upper, init, then the image's layers top first.
            assert_eq!(c.layers[0].role.as_str(), "upper");
            assert_eq!(Some(c.layers[0].id.clone()), c.mount_id);
            assert_eq!(c.layers[1].role.as_str(), "init");
            assert_eq!(Some(c.layers[1].id.clone()), c.init_id);
            let img = m["images"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == w["image_id"])
                .unwrap();
            let caches: Vec<String> = img["layers"]
                .as_array()
                .unwrap()
                .iter()
                .rev()
                .map(|l| s(&l["cache_id"]).unwrap())
                .collect();
            let ours: Vec<String> = c.layers[2..].iter().map(|l| l.id.clone()).collect();
            assert_eq!(ours, caches, "{what}: image layers of the stack");
            assert!(
                c.layers.iter().all(|l| l.inode.is_some()),
                "{what}: layer dirs"
            );
        }
        // Id prefixes and names resolve.
        for c in &host.containers {
            assert_eq!(host.find_container(&c.id[..12]).unwrap().id, c.id);
            assert_eq!(
                host.find_container(c.name.as_deref().unwrap()).unwrap().id,
                c.id
            );
        }
    }
}

#[test]
fn web_running_is_corroborated() {
    let (fs, m) = open("docker-host");
    let host = DockerHost::load(&fs);
    let r = &m["running"][0];
    let c = host.find_container(r["name"].as_str().unwrap()).unwrap();
    assert!(c.running_at_acquisition);
    assert_eq!(c.pid, r["pid"].as_i64());
    let n = c.running_corroboration.join(" | ");
    assert!(n.contains("merged exists"), "{n}");
    assert!(n.contains("after StartedAt"), "{n}");
}

#[test]
fn images_and_layers_equal_ground_truth() {
    for name in FIXTURES {
        let (fs, m) = open(name);
        let host = DockerHost::load(&fs);
        let want = m["images"].as_array().unwrap();
        let ours: BTreeSet<String> = host.images.iter().map(|i| i.id.clone()).collect();
        let theirs: BTreeSet<String> = want.iter().map(|i| s(&i["id"]).unwrap()).collect();
        assert_same_set(&ours, &theirs, &format!("{name}: image ids"));
        for w in want {
            let img = host
                .images
                .iter()
                .find(|i| Some(i.id.clone()) == s(&w["id"]))
                .unwrap();
            let what = format!("{name}:{}", img.id);
            let mut tags: Vec<String> = w["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| s(t).unwrap())
                .collect();
            tags.sort();
            assert_eq!(img.tags, tags, "{what}: tags");
            assert_eq!(img.kind, w["kind"].as_str().unwrap(), "{what}: kind");
            assert_eq!(img.parent, s(&w["parent"]), "{what}: parent");
            assert!(img.config_digest_ok, "{what}: config digest");
            assert!(img.missing_layers.is_empty(), "{what}: missing layers");
            let wl = w["layers"].as_array().unwrap();
            assert_eq!(img.config.diff_ids.len(), wl.len(), "{what}: layer count");
            for (k, l) in wl.iter().enumerate() {
                assert_eq!(
                    Some(img.config.diff_ids[k].clone()),
                    s(&l["diff_id"]),
                    "{what}: diff id {k}"
                );
                assert_eq!(
                    Some(img.chain_ids[k].clone()),
                    s(&l["chain_id"]),
                    "{what}: chain id {k}"
                );
                let layer = host.layer(&img.root, &img.chain_ids[k]).unwrap();
                assert_eq!(layer.cache_id, s(&l["cache_id"]), "{what}: cache id {k}");
                assert_eq!(layer.diff_id, s(&l["diff_id"]), "{what}: layerdb diff {k}");
                assert!(layer.images.contains(&img.id));
            }
        }
        // Every layerdb entry: chain id verified, directory present, and
        // the directory still equals its tar-split.
        for l in &host.layers {
            assert_eq!(l.chain_id_ok, Some(true), "{name}: {} chain id", l.chain_id);
            assert!(l.dir_inode.is_some(), "{name}: {} dir", l.chain_id);
            let it = verify_layer(&fs, l);
            assert_eq!(
                it.verdict, "intact",
                "{name}: {} integrity: {:?}",
                l.chain_id, it
            );
            assert!(
                it.files_checked > 0 || it.tar_entries > 0,
                "{name}: {}",
                l.chain_id
            );
        }
    }
    // Sizes and parents from layers.json.
    let lj = truth("docker-host", "layers.json");
    let (fs, _) = open("docker-host");
    let host = DockerHost::load(&fs);
    let mut n = 0;
    for img in lj
        .as_object()
        .map(|o| o.values().collect::<Vec<_>>())
        .unwrap_or_else(|| lj.as_array().unwrap().iter().collect())
    {
        let layers = img
            .get("layers")
            .and_then(|l| l.as_array())
            .cloned()
            .unwrap_or_default();
        for l in layers {
            let Some(chain) = l.get("chain_id").and_then(|c| c.as_str()) else {
                continue;
            };
            let ours = host.layers.iter().find(|x| x.chain_id == chain).unwrap();
            if let Some(sz) = l.get("size").and_then(|x| {
                x.as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .or(x.as_u64())
            }) {
                assert_eq!(ours.size, Some(sz), "{chain}: size");
                n += 1;
            }
        }
    }
    assert!(n > 0, "layers.json: no sizes compared");
}

#[test]
fn tampered_layer_file_is_detected() {
    let (fs, _) = open("docker-host");
    let host = DockerHost::load(&fs);
    // Flip a byte of /app/run.sh in its image layer, in an in-memory copy.
    let l = host.layers.iter().find(|l| {
        let Some(d) = l.dir_inode else { return false };
        whiteout::docker::fsutil::descend(&fs, d, b"app/run.sh").is_some()
    });
    let l = l.unwrap().clone();
    let ino = whiteout::docker::fsutil::descend(&fs, l.dir_inode.unwrap(), b"app/run.sh").unwrap();
    let inode = fs.inode(ino).unwrap();
    let map = fs.block_map(&inode);
    let blk = map.runs[0].physical;
    let mut bytes = image_bytes("docker", "docker-host");
    let pos = (blk * fs.block_size()) as usize;
    bytes[pos] ^= 0x20;
    let fs2 = fs_from_bytes(bytes).unwrap();
    let it = verify_layer(&fs2, &l);
    assert_eq!(it.verdict, "modified");
    assert_eq!(it.altered.len(), 1, "{:?}", it.altered);
    assert_eq!(it.altered[0].path, "/app/run.sh");
    assert!(it.altered[0].what.contains("CRC-64"));
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| match x.as_str() {
            Some(s) => s.to_string(),
            None => x["path"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn whiteouts_and_opaque_dirs_per_layer_and_container() {
    for name in FIXTURES {
        let (fs, _) = open(name);
        let host = DockerHost::load(&fs);
        let w = truth(name, "whiteouts.json");
        for l in w["image_layers"].as_array().unwrap() {
            let cache = l["cache_id"].as_str().unwrap();
            let layer = host
                .layers
                .iter()
                .find(|x| x.cache_id.as_deref() == Some(cache))
                .unwrap();
            let marks = layer_marks(&fs, layer.dir_inode.unwrap(), LayerFormat::Overlay);
            let what = format!("{name}: layer {cache}");
            assert_eq!(
                marks.whiteouts.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&l["whiteouts"]),
                "{what}: whiteouts"
            );
            assert_eq!(
                marks.opaque_dirs.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&l["opaque_dirs"]),
                "{what}: opaque"
            );
        }
        for cw in w["containers"].as_array().unwrap() {
            let c = host.find_container(cw["name"].as_str().unwrap()).unwrap();
            let what = format!("{name}: container {}", cw["name"]);
            let marks = layer_marks(&fs, c.layers[0].inode.unwrap(), LayerFormat::Overlay);
            assert_eq!(
                marks.whiteouts.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&cw["whiteouts"]),
                "{what}: whiteouts"
            );
            assert_eq!(
                marks.opaque_dirs.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&cw["opaque_dirs"]),
                "{what}: opaque"
            );
            assert_eq!(
                marks.copy_ups.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&cw["copy_ups"]),
                "{what}: copy-ups"
            );
            assert_eq!(
                marks.impure_dirs.iter().cloned().collect::<BTreeSet<_>>(),
                set_of(&cw["impure_dirs"]),
                "{what}: impure"
            );
            // Origins decode to the recorded lower inode, in the recorded layer.
            let view = MergedView::of_container(&fs, &host, c);
            for cu in cw["copy_ups"].as_array().unwrap() {
                let p = cu["path"].as_str().unwrap();
                let Lookup::Found(e) = view.lookup(p.as_bytes(), false).unwrap() else {
                    panic!("{what}: {p} not found")
                };
                let o = view
                    .origin(&e)
                    .unwrap_or_else(|| panic!("{what}: {p}: no origin"));
                assert_eq!(
                    o.inode as u64,
                    cu["origin"]["ino"].as_u64().unwrap(),
                    "{what}: {p} origin inode"
                );
                assert_eq!(
                    o.generation as u64,
                    cu["origin"]["generation"].as_u64().unwrap(),
                    "{what}: {p} generation"
                );
                assert_eq!(
                    o.uuid,
                    cu["origin"]["uuid"].as_str().unwrap(),
                    "{what}: {p} uuid"
                );
                assert_eq!(o.fh_type as u64, cu["origin"]["fh_type"].as_u64().unwrap());
                assert_eq!(o.generation_ok, Some(true));
                let ll = o.lower_layer.unwrap();
                assert!(
                    ll.ends_with(cu["lower_layer_dir"].as_str().unwrap()),
                    "{what}: {p} lower layer {ll}"
                );
            }
        }
    }
    // Intended deletions of web: each hidden original readable.
    let (fs, m) = open("docker-host");
    let host = DockerHost::load(&fs);
    let w = truth("docker-host", "whiteouts.json");
    let web = &w["intended"]["containers"]["web"];
    let c = host.find_container("web").unwrap();
    let view = MergedView::of_container(&fs, &host, c);
    for p in web["whiteouts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(web["hidden_lower_entries"].as_array().unwrap())
    {
        let p = p.as_str().unwrap();
        let Lookup::Deleted(d) = view.lookup(p.as_bytes(), false).unwrap() else {
            panic!("{p}: not deleted")
        };
        let h = &d.hidden[0];
        let ino = fs.inode(h.inode).unwrap();
        assert!(fs.read_content(&ino, 0, ino.size).unwrap().len() as u64 == ino.size);
        assert_eq!(
            fs.lookup(&h.host_path).unwrap(),
            h.inode,
            "{p}: host path of the original"
        );
    }
    let _ = m;
}

/// (type, mode, uid, gid, size, sha256, link target) of one tar entry.
type TarRow = (char, u32, u64, u64, u64, Option<String>, Option<String>);

/// Entries of a tar (ustar + PAX path/linkpath), as (path, type, mode, uid, gid, size, sha256, link).
fn read_tar(b: &[u8]) -> BTreeMap<String, TarRow> {
    let mut out = BTreeMap::new();
    let mut p = 0;
    let mut pax_path: Option<String> = None;
    let mut pax_link: Option<String> = None;
    let oct = |f: &[u8]| -> u64 {
        let s: String = f
            .iter()
            .take_while(|&&c| c != 0 && c != b' ')
            .map(|&c| c as char)
            .collect();
        u64::from_str_radix(s.trim(), 8).unwrap_or(0)
    };
    while p + 512 <= b.len() {
        let h = &b[p..p + 512];
        if h.iter().all(|&c| c == 0) {
            break;
        }
        let name: String = String::from_utf8_lossy(&h[..100])
            .trim_end_matches('\0')
            .to_string();
        let size = oct(&h[124..136]);
        let tf = h[156] as char;
        let link: String = String::from_utf8_lossy(&h[157..257])
            .trim_end_matches('\0')
            .to_string();
        let data = &b[p + 512..p + 512 + size as usize];
        p += 512 + (size as usize).div_ceil(512) * 512;
        if tf == 'x' {
            let txt = String::from_utf8_lossy(data);
            for rec in txt.split('\n') {
                if let Some((_, kv)) = rec.split_once(' ') {
                    if let Some(v) = kv.strip_prefix("path=") {
                        pax_path = Some(v.to_string());
                    }
                    if let Some(v) = kv.strip_prefix("linkpath=") {
                        pax_link = Some(v.to_string());
                    }
                }
            }
            continue;
        }
        let path = format!("/{}", pax_path.take().unwrap_or(name).trim_end_matches('/'));
        let link = pax_link
            .take()
            .or(if link.is_empty() { None } else { Some(link) });
        let sha = if tf == '0' {
            Some(sha256_hex(data))
        } else {
            None
        };
        out.insert(
            path,
            (
                tf,
                oct(&h[100..108]) as u32,
                oct(&h[108..116]),
                oct(&h[116..124]),
                size,
                sha,
                link,
            ),
        );
    }
    out
}

#[test]
fn export_of_every_container_equals_docker_export() {
    // Compared: names, types, permission bits, uid/gid, size, content
    // sha256, symlink targets. Not compared: mtimes (the daemon touches
    // the init-layer and copied-up directories when it mounts).
    let mut checked = 0;
    for name in FIXTURES {
        let (fs, _) = open(name);
        let host = DockerHost::load(&fs);
        let ex = truth(name, "exports.json");
        for (cname, entries) in ex.as_object().unwrap() {
            let c = host.find_container(cname).unwrap();
            let view = MergedView::of_container(&fs, &host, c);
            let (tar, stats) = export_tar(&view, Vec::new()).unwrap();
            // Under userns-remap, docker export drops entries it cannot map
            // (the init layer's /etc/mtab symlink is owned by host root).
            if *name == "docker-userns" {
                assert_eq!(stats.skipped.len(), 1, "{:?}", stats.skipped);
                assert!(
                    stats.skipped[0].starts_with("/etc/mtab "),
                    "{:?}",
                    stats.skipped
                );
            } else {
                assert!(
                    stats.skipped.is_empty(),
                    "{name}:{cname}: skipped {:?}",
                    stats.skipped
                );
            }
            let ours = read_tar(&tar);
            let theirs: BTreeMap<String, &Value> = entries
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (s(&e["path"]).unwrap(), e))
                .collect();
            let a: BTreeSet<String> = ours.keys().cloned().collect();
            let b: BTreeSet<String> = theirs.keys().cloned().collect();
            assert_same_set(&a, &b, &format!("{name}:{cname}: exported names"));
            for (p, t) in &theirs {
                let (tf, mode, uid, gid, size, sha, link) = &ours[p];
                let what = format!("{name}:{cname}:{p}");
                let want_tf = match t["type"].as_str().unwrap() {
                    "file" => '0',
                    "dir" => '5',
                    "symlink" => '2',
                    "hardlink" => '1',
                    "char" => '3',
                    "block" => '4',
                    "fifo" => '6',
                    x => panic!("{what}: type {x}"),
                };
                assert_eq!(*tf, want_tf, "{what}: type");
                let want_mode =
                    u32::from_str_radix(t["mode"].as_str().unwrap(), 8).unwrap() & 0o7777;
                assert_eq!(*mode, want_mode, "{what}: mode");
                assert_eq!(*uid, t["uid"].as_u64().unwrap(), "{what}: uid");
                assert_eq!(*gid, t["gid"].as_u64().unwrap(), "{what}: gid");
                if let Some(sz) = t.get("size").and_then(|x| x.as_u64()) {
                    if want_tf == '0' {
                        assert_eq!(*size, sz, "{what}: size");
                    }
                }
                if let Some(h) = t.get("sha256").and_then(|x| x.as_str()) {
                    assert_eq!(sha.as_deref(), Some(h), "{what}: content");
                }
                if let Some(l) = t.get("target").and_then(|x| x.as_str()) {
                    assert_eq!(link.as_deref(), Some(l), "{what}: link target");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} exports compared");
}

#[test]
fn logs_equal_docker_logs() {
    for name in FIXTURES {
        let (fs, _) = open(name);
        let host = DockerHost::load(&fs);
        let lj = truth(name, "logs.json");
        for (cname, streams) in lj.as_object().unwrap() {
            let c = host.find_container(cname).unwrap();
            let mut ws = Vec::new();
            let lines = read_logs(&fs, c, &mut ws);
            assert!(ws.is_empty(), "{name}:{cname}: {ws:?}");
            for stream in ["stdout", "stderr"] {
                let want: Vec<(i64, u32, String)> = streams[stream]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        let (t, text) = l.as_str().unwrap().split_once(' ').unwrap();
                        let ts = parse_rfc3339(t).unwrap();
                        (ts.secs, ts.nanos, text.to_string())
                    })
                    .collect();
                let ours: Vec<(i64, u32, String)> = lines
                    .iter()
                    .filter(|l| l.stream == stream)
                    .map(|l| {
                        let ts = parse_rfc3339(l.time.as_deref().unwrap()).unwrap();
                        (ts.secs, ts.nanos, l.line.clone())
                    })
                    .collect();
                assert_eq!(ours, want, "{name}:{cname}:{stream}");
            }
        }
    }
}

#[test]
fn findings_name_the_dangerous_settings() {
    let (fs, m) = open("docker-host");
    let host = DockerHost::load(&fs);
    let mut ws = Vec::new();
    let f = findings::collect(&fs, &host.roots, &host.containers, &mut ws);
    let has = |kind: &str, cname: Option<&str>, ev: &str| {
        f.iter().any(|x| {
            x.kind == kind
                && x.container_name.as_deref() == cname
                && x.evidence.iter().any(|e| e.contains(ev))
        })
    };
    assert!(
        has("remote-api-no-tls", None, "/etc/docker/daemon.json"),
        "{f:#?}"
    );
    assert!(has(
        "remote-api-no-tls",
        None,
        "/etc/systemd/system/docker.service.d/override.conf"
    ));
    let id = |n: &str| {
        m["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for n in ["priv", "allcaps"] {
        assert!(has("docker-sock-mount", Some(n), &id(n)), "{n}");
        assert!(has("host-root-mount", Some(n), "hostconfig.json"), "{n}");
        assert!(has("pid-host", Some(n), "hostconfig.json"), "{n}");
    }
    assert!(has("privileged", Some("priv"), &id("priv")));
    assert!(!f
        .iter()
        .any(|x| x.kind == "privileged" && x.container_name.as_deref() != Some("priv")));
    assert!(has("cap-add-all", Some("allcaps"), "hostconfig.json"));
    assert!(has("running-at-acquisition", Some("web"), "config.v2.json"));
    assert!(f
        .iter()
        .filter(|x| x.kind == "remote-api-no-tls")
        .all(|x| x.severity == findings::Severity::Critical));
    // The other hosts expose nothing.
    for name in ["docker-dataroot", "docker-userns"] {
        let (fs, _) = open(name);
        let host = DockerHost::load(&fs);
        let f = findings::collect(&fs, &host.roots, &host.containers, &mut ws);
        assert!(
            !f.iter().any(|x| x.severity <= findings::Severity::High),
            "{name}: {f:#?}"
        );
    }
}

#[test]
fn cli_cat_ls_export_whoowns() {
    let img = testdata().join("docker/docker-host.img.gz");
    let img = img.to_str().unwrap();
    let m = manifest("docker", "docker-host");
    let web = m["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A deleted path: exit 1, clear message, how to read the original.
    let (code, out, err) = run(&["cat", img, "--container", &web[..10], "/app/data/a.txt"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("deleted in container web") && err.contains("whiteout icat"),
        "{err}"
    );
    // A copy-up reads the upper version.
    let ex = truth("docker-host", "exports.json");
    let conf = ex["web"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/etc/app.conf")
        .unwrap();
    let (code, out, _) = run(&["cat", img, "--container", "web", "/etc/app.conf"]);
    assert_eq!(code, 0);
    assert_eq!(sha256_hex(&out), conf["sha256"].as_str().unwrap());
    // ls --deleted lists the whiteout with its original.
    let (code, out, _) = run(&["ls", img, "--container", "web", "-r", "--deleted", "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.iter().any(|r| r["path"] == "/app/data/a.txt"
        && r["kind"] == "whiteout"
        && r["layer_role"] == "upper"));
    assert!(rows
        .iter()
        .any(|r| r["path"] == "/opt/cache/c1.dat" && r["kind"] == "opaque"));
    // containers --json has the promised fields.
    let (code, out, _) = run(&["containers", img, "--all", "--json"]);
    assert_eq!(code, 0);
    let first: Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    for k in [
        "id",
        "name",
        "image",
        "image_id",
        "created",
        "running",
        "paused",
        "exit_code",
        "pid",
        "started_at",
        "finished_at",
        "mount_id",
        "init_id",
        "layers",
        "env",
        "cmd",
        "privileged",
        "binds",
        "removed",
        "evidence",
    ] {
        assert!(first.get(k).is_some(), "containers --json lacks {k}");
    }
    // export refuses to overwrite the image; writes a tar elsewhere.
    let raw = raw_copy("docker", "docker-host");
    let rp = raw.to_str().unwrap();
    let (code, _, err) = run(&["export", rp, "--container", "web", "-o", rp]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refusing"), "{err}");
    let outp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-export.tar");
    let (code, _, err) = run(&[
        "export",
        img,
        "--container",
        "web",
        "-o",
        outp.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let a = std::fs::read(&outp).unwrap();
    let (code, _, _) = run(&[
        "export",
        img,
        "--container",
        "web",
        "-o",
        outp.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        a,
        std::fs::read(&outp).unwrap(),
        "export is not deterministic"
    );
    // whoowns: an image-layer file hidden in web, visible in worker.
    let wj = truth("docker-host", "whiteouts.json");
    let _ = wj;
    let (fs, _) = open("docker-host");
    let host = DockerHost::load(&fs);
    let c = host.find_container("web").unwrap();
    let view = MergedView::of_container(&fs, &host, c);
    let Lookup::Deleted(d) = view.lookup(b"/app/data/a.txt", false).unwrap() else {
        panic!()
    };
    let hp = String::from_utf8(d.hidden[0].host_path.clone()).unwrap();
    let (code, out, _) = run(&["whoowns", img, &hp, "--json"]);
    assert_eq!(code, 0);
    let o: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(o["area"], "layer");
    assert!(o["images"].as_array().unwrap().iter().any(|i| i["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "app:1")));
    let cs = o["containers"].as_array().unwrap();
    assert!(cs
        .iter()
        .any(|x| x["name"] == "web" && x["state"].as_str().unwrap().starts_with("deleted")));
    assert!(cs
        .iter()
        .any(|x| x["name"] == "worker" && x["state"] == "visible"));
}

#[test]
fn hostile_inputs_degrade() {
    use whiteout::docker::{base64, logs, overlay, tarsplit};
    let mut ws = Vec::new();
    let mut out = Vec::new();
    logs::parse_local(&[0, 0, 0, 9, 1, 2], "x", &mut out, &mut ws);
    logs::parse_local(
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        "x",
        &mut out,
        &mut ws,
    );
    logs::parse_local(
        &[0, 0, 0, 2, 0x0a, 0xff, 0, 0, 0, 2],
        "x",
        &mut out,
        &mut ws,
    );
    logs::parse_json_file(b"{\"log\":1}\n\xff\xfe\n{", "x", &mut out, &mut ws);
    assert!(!ws.is_empty());
    let e = tarsplit::parse(&b"{\"type\":1,\"name\":\"a\",\"payload\":\"!!\"}\n{\"type\":2,\"payload\":\"AAAA\"}\nnot json\n"[..], &mut ws);
    assert_eq!(e.len(), 1);
    assert!(overlay::decode_origin(&[0, 0xfb, 5]).is_none());
    assert!(base64::decode("@@").is_none());
}

#[test]
fn synthetic_aufs_root_merges_with_wh_marks() {
    // SYNTHETIC fixture (manifest "synthetic": true): an aufs root written
    // as plain files in the real formats, see
    // scripts/make-docker-synthetic-fixtures.sh.
    let m = manifest("docker-synthetic", "docker-aufs");
    assert_eq!(m["synthetic"], true);
    let fs = Filesystem::open(image("docker-synthetic", "docker-aufs")).unwrap();
    let host = DockerHost::load(&fs);
    assert_eq!(host.roots.len(), 1);
    assert_eq!(host.roots[0].drivers, vec!["aufs".to_string()]);
    let w = &m["containers"][0];
    let c = host.find_container(w["name"].as_str().unwrap()).unwrap();
    assert_eq!(c.id, w["id"].as_str().unwrap());
    assert_eq!(c.image_id, s(&w["image_id"]));
    assert_eq!(c.mount_id, s(&w["mount_id"]));
    assert_eq!(c.init_id, s(&w["init_id"]));
    assert_eq!(c.exit_code, w["exit_code"].as_i64());
    assert_eq!(c.network_mode, s(&w["network_mode"]));
    let img = &m["images"][0];
    let ours = &host.images[0];
    assert_eq!(ours.id, img["id"].as_str().unwrap());
    assert_eq!(ours.tags, vec!["old:1".to_string()]);
    for (k, l) in img["layers"].as_array().unwrap().iter().enumerate() {
        assert_eq!(Some(ours.chain_ids[k].clone()), s(&l["chain_id"]));
        let layer = host.layer(&ours.root, &ours.chain_ids[k]).unwrap();
        assert_eq!(layer.cache_id, s(&l["cache_id"]));
        assert_eq!(layer.chain_id_ok, Some(true));
    }
    for (id, want) in m["layer_marks"].as_object().unwrap() {
        let l = c.layers.iter().find(|l| &l.id == id).unwrap();
        let marks = layer_marks(&fs, l.inode.unwrap(), LayerFormat::Aufs);
        assert_eq!(
            marks.whiteouts.iter().cloned().collect::<BTreeSet<_>>(),
            set_of(&want["whiteouts"]),
            "{id}"
        );
        assert_eq!(
            marks.opaque_dirs.iter().cloned().collect::<BTreeSet<_>>(),
            set_of(&want["opaque_dirs"]),
            "{id}"
        );
    }
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

#[test]
fn real_containerd_meta_db_corroborates_running() {
    // dockerd 20.10's own containerd keeps a BoltDB meta.db with a
    // container record per live task (namespace moby): read page by page.
    let (fs, m) = open("docker-host");
    let host = DockerHost::load(&fs);
    let r = &host.roots[0];
    let ct = r.containerd.as_ref().expect("containerd store of the root");
    assert!(ct.warnings.is_empty(), "{:?}", ct.warnings);
    assert!(ct.snapshots.is_empty() && ct.images.is_empty());
    let running: BTreeSet<String> = m["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["running"] == true)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let recs: BTreeSet<String> = ct.containers.iter().map(|c| c.id.clone()).collect();
    assert_eq!(recs, running);
    for c in &host.containers {
        let has = c
            .running_corroboration
            .iter()
            .any(|n| n.contains("containerd container record"));
        assert_eq!(has, running.contains(&c.id), "{}", c.id);
    }
    let raw = whiteout::docker::fsutil::read_host_file(
        &fs,
        b"/var/lib/docker/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db",
        1 << 30,
    )
    .unwrap()
    .1;
    let db = whiteout::docker::bolt::parse(&raw).unwrap();
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    let rec = db
        .root
        .path(&[b"v1", b"moby", b"containers"])
        .unwrap()
        .buckets
        .values()
        .next()
        .unwrap();
    // The OCI spec is larger than a page: read through overflow pages.
    assert!(rec.get(b"spec").unwrap().len() > 4096);
    assert_eq!(
        rec.path(&[b"runtime"]).unwrap().text(b"name").as_deref(),
        Some("io.containerd.runc.v2")
    );
}

#[test]
fn shared_listing_cache_changes_no_merged_view() {
    // scan shares image-layer listings between containers (ListingCache).
    // Every container's export, through one shared cache, walked twice
    // (the second time from the cache), must be byte-identical to the
    // uncached export, which the test above checks against docker export.
    use whiteout::docker::overlay::ListingCache;
    let mut compared = 0;
    for name in FIXTURES {
        let (fs, _) = open(name);
        let host = DockerHost::load(&fs);
        let cache = ListingCache::new(400_000);
        for round in 0..2 {
            for c in &host.containers {
                let plain = export_tar(&MergedView::of_container(&fs, &host, c), Vec::new());
                let cached = export_tar(
                    &MergedView::of_container(&fs, &host, c).with_cache(&cache, 0),
                    Vec::new(),
                );
                let (plain, cached) = (plain.unwrap().0, cached.unwrap().0);
                assert!(!plain.is_empty());
                assert!(
                    plain == cached,
                    "{name}:{} round {round}: cached export differs",
                    c.display_name()
                );
                compared += 1;
            }
            // The image layers' listings are held, so the cache was used.
            assert!(cache.entries() > 0, "{name}: nothing cached");
        }
        // A cap smaller than one directory: nothing is kept, same result.
        let tiny = ListingCache::new(1);
        for c in &host.containers {
            let plain = export_tar(&MergedView::of_container(&fs, &host, c), Vec::new());
            let cached = export_tar(
                &MergedView::of_container(&fs, &host, c).with_cache(&tiny, 0),
                Vec::new(),
            );
            assert!(plain.unwrap().0 == cached.unwrap().0);
        }
    }
    assert!(compared >= 2 * FIXTURES.len(), "{compared}");
}

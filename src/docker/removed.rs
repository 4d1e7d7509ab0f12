//! Containers removed with `docker rm`, rebuilt from deleted-file evidence.
//!
//! `docker rm` deletes `containers/<id>/`, `overlay2/<mount-id>[-init]/`
//! and `image/<driver>/layerdb/mounts/<id>/`. What survives is joined here:
//! - deleted candidates (inodes with names) under those three places;
//! - deleted names (journal copies, freed directory blocks) whose parent is
//!   the live `containers/`, `<driver>/` or `layerdb/mounts/` directory;
//! - recovered `layerdb/mounts/<id>/mount-id` content (joins id and mount);
//! - recovered `config.v2.json` / `hostconfig.json` content;
//! - container ids mentioned in live containers' logs.
//!
//! Every read is capped; damaged or missing evidence gives partial records.

use super::containers::{apply_config, apply_hostconfig, Container, Evidence};
use super::fsutil::{self, join, lossy};
use super::DockerHost;
use crate::ext4::inode::FileType;
use crate::ext4::Filesystem;
use crate::recover::carve::{DockerTrace, TraceKind};
use crate::recover::{ContentState, DeletedCandidate, NameSource, Recovery};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Most removed containers reported per root.
const MAX_REMOVED: usize = 10_000;
/// Most recovered files listed per removed container.
const MAX_FILES: usize = 100_000;
/// Largest recovered config read.
const MAX_CONFIG: u64 = 4 << 20;
/// Most log lines scanned for ids (all live containers together).
const MAX_LOG_LINES: usize = 200_000;

/// One recoverable file of a removed container.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveredFile {
    /// `container-dir` (`containers/<id>/`), `rw-layer` (`<mount-id>/diff`),
    /// `init-layer` (`<mount-id>-init/diff`), `layer-dir` (other files of
    /// the mount dirs) or `layerdb-mount`.
    pub area: &'static str,
    /// Path inside the container (rw/init layer files only).
    pub path: Option<String>,
    #[serde(serialize_with = "fsutil::ser_path")]
    pub host_path: Vec<u8>,
    pub inode: u32,
    pub file_type: FileType,
    pub size: Option<u64>,
    pub content: ContentState,
    pub sha256: Option<String>,
    pub name_source: NameSource,
}

/// A removed container and what of it can be recovered.
#[derive(Clone, Debug, Serialize)]
pub struct RemovedContainer {
    pub container: Container,
    pub files: Vec<RecoveredFile>,
}

/// Is `s` a 64-digit lowercase hex id?
pub fn is_hex64(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where a host path lies relative to a Docker root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// `<root>/containers/<id>/<rest>` (rest may be empty).
    ContainerDir { id: &'a [u8], rest: &'a [u8] },
    /// `<root>/image/<driver>/layerdb/mounts/<id>/<rest>`.
    LayerdbMount { id: &'a [u8], rest: &'a [u8] },
    /// `<root>/<driver>/<dir>/<rest>` (`dir` may end in `-init`).
    LayerDir { dir: &'a [u8], rest: &'a [u8] },
    /// `<root>/containerd/daemon/io.containerd.runtime.v2.task/<ns>/<id>/<rest>`:
    /// dockerd's own containerd keeps each running container's OCI bundle
    /// there (config.json, the rootfs mount point, the shim's files).
    TaskBundle { id: &'a [u8], rest: &'a [u8] },
}

fn split1(p: &[u8]) -> (&[u8], &[u8]) {
    match p.iter().position(|&b| b == b'/') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => (p, &[]),
    }
}

/// Locate `path` under `root` (both absolute, raw bytes).
pub fn place<'a>(root: &[u8], drivers: &[String], path: &'a [u8]) -> Option<Place<'a>> {
    let root = root.strip_suffix(b"/").unwrap_or(root);
    let rel = path.strip_prefix(root)?.strip_prefix(b"/")?;
    let (first, rest) = split1(rel);
    if first == b"containers" {
        let (id, rest) = split1(rest);
        return is_hex64(id).then_some(Place::ContainerDir { id, rest });
    }
    if first == b"containerd" {
        let rest = rest.strip_prefix(b"daemon/io.containerd.runtime.v2.task/".as_slice())?;
        let (_namespace, rest) = split1(rest);
        let (id, rest) = split1(rest);
        return is_hex64(id).then_some(Place::TaskBundle { id, rest });
    }
    if first == b"image" {
        let (drv, rest) = split1(rest);
        if !drivers.iter().any(|d| d.as_bytes() == drv) {
            return None;
        }
        let rest = rest.strip_prefix(b"layerdb/mounts/".as_slice())?;
        let (id, rest) = split1(rest);
        return is_hex64(id).then_some(Place::LayerdbMount { id, rest });
    }
    if drivers.iter().any(|d| d.as_bytes() == first) {
        let (dir, rest) = split1(rest);
        let base = dir.strip_suffix(b"-init".as_slice()).unwrap_or(dir);
        return is_hex64(base).then_some(Place::LayerDir { dir, rest });
    }
    None
}

/// Recovered bytes of a candidate (inline data, or full content), capped.
pub fn read_candidate(fs: &Filesystem, c: &DeletedCandidate, cap: u64) -> Option<Vec<u8>> {
    if let Some(d) = c.inline_data() {
        return Some(d[..d.len().min(cap as usize)].to_vec());
    }
    if c.content != ContentState::Full {
        return None;
    }
    let size = c.size?;
    if size > cap {
        return None;
    }
    let mut buf = Vec::with_capacity(size as usize);
    crate::recover::content::stream(fs, c.runs(), size, &mut buf).ok()?;
    Some(buf)
}

/// Every name of a candidate: its path, then its other paths.
fn names_of(c: &DeletedCandidate) -> impl Iterator<Item = &[u8]> {
    std::iter::once(&c.path[..]).chain(c.other_paths().iter().map(|(p, _)| p.as_slice()))
}

#[derive(Default)]
struct Partial {
    evidence: Vec<Evidence>,
    mount_id: Option<String>,
    init_id: Option<String>,
    parent: Option<String>,
    driver: Option<String>,
    /// (inode, mtime, bytes) of recovered config.v2.json / hostconfig.json.
    configs: Vec<(u32, i64, Value)>,
    hostconfigs: Vec<(u32, i64, Value)>,
    files: Vec<(usize, &'static str, Option<String>, Vec<u8>)>,
}

fn ev(kind: &str, path: Vec<u8>, inode: Option<u32>, note: Option<String>) -> Evidence {
    Evidence {
        kind: kind.into(),
        path,
        inode,
        note,
    }
}

fn mtime_of(c: &DeletedCandidate) -> i64 {
    c.mtime
        .get()
        .or(c.ctime.get())
        .map(|t| t.secs)
        .unwrap_or(i64::MIN)
}

/// Order of config.v2.json versions: latest non-zero state time, then
/// `RemovalInProgress`.
fn state_key(v: &Value) -> (String, bool) {
    let st = v.get("State");
    let t = |k: &str| {
        st.and_then(|s| s.get(k))
            .and_then(|x| x.as_str())
            .filter(|x| !super::containers::is_zero_time(x))
            .unwrap_or("")
            .to_string()
    };
    let removing = st
        .and_then(|s| s.get("RemovalInProgress"))
        .and_then(|x| x.as_bool())
        .unwrap_or(false);
    (t("StartedAt").max(t("FinishedAt")), removing)
}

fn small_text(fs: &Filesystem, c: &DeletedCandidate) -> Option<String> {
    let b = read_candidate(fs, c, fsutil::MAX_SMALL)?;
    let s = String::from_utf8(b).ok()?;
    let s = s.trim().to_string();
    (!s.is_empty() && s.len() <= 200 && !s.contains('\0')).then_some(s)
}

fn in_container_path(rest: &[u8]) -> Option<String> {
    let r = rest.strip_prefix(b"diff".as_slice())?;
    if r.is_empty() {
        return Some("/".into());
    }
    r.strip_prefix(b"/").map(|p| format!("/{}", lossy(p)))
}

/// Rebuild the containers of every root that `docker rm` removed.
pub fn find_removed(fs: &Filesystem, host: &DockerHost, rec: &Recovery) -> Vec<RemovedContainer> {
    let mut out = Vec::new();
    for root in &host.roots {
        let mut drivers = root.drivers.clone();
        if drivers.is_empty() {
            drivers.push("overlay2".into());
        }
        let live_ids: HashSet<&str> = host
            .containers
            .iter()
            .filter(|c| c.root == root.path)
            .map(|c| c.id.as_str())
            .collect();
        // Layer dirs in use: live containers' mount and init dirs, image
        // layers' cache ids, and every live directory under `<driver>/`.
        let mut live_dirs: HashSet<Vec<u8>> = HashSet::new();
        for c in host.containers.iter().filter(|c| c.root == root.path) {
            for m in c.mount_id.iter().chain(c.init_id.iter()) {
                live_dirs.insert(m.as_bytes().to_vec());
            }
        }
        for l in host.layers.iter().filter(|l| l.root == root.path) {
            if let Some(cid) = &l.cache_id {
                live_dirs.insert(cid.as_bytes().to_vec());
            }
        }
        let mut parent_dirs: BTreeMap<u32, (&'static str, String)> = BTreeMap::new();
        if let Some(ino) = fsutil::child(fs, root.inode, b"containers").map(|e| e.inode) {
            parent_dirs.insert(ino, ("containers", String::new()));
        }
        for d in &drivers {
            if let Some(ino) = fsutil::child(fs, root.inode, d.as_bytes()).map(|e| e.inode) {
                for e in fsutil::list_dir(fs, ino).into_iter().take(1_000_000) {
                    live_dirs.insert(e.name.clone());
                }
                parent_dirs.insert(ino, ("driver", d.clone()));
            }
            if let Some(ino) = fsutil::descend_dir(
                fs,
                root.inode,
                format!("image/{d}/layerdb/mounts").as_bytes(),
            ) {
                parent_dirs.insert(ino, ("mounts", d.clone()));
            }
        }

        let mut by_id: BTreeMap<String, Partial> = BTreeMap::new();
        // Mount dir (without -init) -> candidate indexes and evidence.
        let mut by_mount: BTreeMap<String, Partial> = BTreeMap::new();

        for (idx, c) in rec.candidates.iter().enumerate() {
            // The first name that places the candidate wins.
            let Some((p, name)) =
                names_of(c).find_map(|n| place(&root.path, &drivers, n).map(|p| (p, n)))
            else {
                continue;
            };
            match p {
                Place::ContainerDir { id, rest } => {
                    let ids = lossy(id);
                    if live_ids.contains(ids.as_str()) {
                        continue;
                    }
                    let part = by_id.entry(ids).or_default();
                    if rest.is_empty() {
                        part.evidence.push(ev(
                            "deleted-dir",
                            name.to_vec(),
                            Some(c.inode),
                            Some(format!("containers/ entry, name from {:?}", c.name_source)),
                        ));
                        continue;
                    }
                    let base = rest.rsplit(|&b| b == b'/').next().unwrap_or(rest);
                    let is_cfg =
                        base == b"config.v2.json" || base.starts_with(b".tmp-config.v2.json");
                    let is_host =
                        base == b"hostconfig.json" || base.starts_with(b".tmp-hostconfig.json");
                    if (is_cfg || is_host) && c.file_type == FileType::Regular {
                        if let Some(v) = read_candidate(fs, c, MAX_CONFIG)
                            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                        {
                            if is_cfg {
                                part.configs.push((c.inode, mtime_of(c), v));
                            } else {
                                part.hostconfigs.push((c.inode, mtime_of(c), v));
                            }
                        }
                    }
                    if part.files.len() < MAX_FILES {
                        part.files.push((idx, "container-dir", None, name.to_vec()));
                    }
                }
                Place::TaskBundle { id, .. } => {
                    let ids = lossy(id);
                    if live_ids.contains(ids.as_str()) {
                        continue;
                    }
                    let part = by_id.entry(ids).or_default();
                    if part.files.len() < MAX_FILES {
                        part.files.push((idx, "task-bundle", None, name.to_vec()));
                    }
                }
                Place::LayerdbMount { id, rest } => {
                    let ids = lossy(id);
                    if live_ids.contains(ids.as_str()) {
                        continue;
                    }
                    let part = by_id.entry(ids).or_default();
                    let value = || small_text(fs, c);
                    match rest {
                        b"" => part.evidence.push(ev(
                            "deleted-layerdb-mount",
                            name.to_vec(),
                            Some(c.inode),
                            None,
                        )),
                        b"mount-id" => {
                            if let Some(v) = value().filter(|v| is_hex64(v.as_bytes())) {
                                part.evidence.push(ev(
                                    "deleted-layerdb-mount",
                                    name.to_vec(),
                                    Some(c.inode),
                                    Some(format!("mount-id {v}")),
                                ));
                                part.mount_id = Some(v);
                            }
                        }
                        b"init-id" => part.init_id = value().or(part.init_id.take()),
                        b"parent" => part.parent = value().or(part.parent.take()),
                        _ => {}
                    }
                    if let Some(Place::LayerdbMount { .. }) = place(&root.path, &drivers, name) {
                        let drv = name
                            .strip_prefix(root.path.as_slice())
                            .and_then(|r| r.strip_prefix(b"/image/".as_slice()))
                            .map(|r| lossy(split1(r).0));
                        part.driver = part.driver.take().or(drv);
                    }
                    if part.files.len() < MAX_FILES {
                        part.files.push((idx, "layerdb-mount", None, name.to_vec()));
                    }
                }
                Place::LayerDir { dir, rest } => {
                    let base = dir.strip_suffix(b"-init".as_slice()).unwrap_or(dir);
                    if live_dirs.contains(base) || live_dirs.contains(dir) {
                        continue;
                    }
                    let init = base.len() != dir.len();
                    let part = by_mount.entry(lossy(base)).or_default();
                    if rest.is_empty() {
                        part.evidence.push(ev(
                            "deleted-layer-dir",
                            name.to_vec(),
                            Some(c.inode),
                            None,
                        ));
                        continue;
                    }
                    let inner = in_container_path(rest);
                    let area = match (&inner, init) {
                        (Some(_), false) => "rw-layer",
                        (Some(_), true) => "init-layer",
                        (None, _) => "layer-dir",
                    };
                    if part.files.len() < MAX_FILES {
                        part.files.push((idx, area, inner, name.to_vec()));
                    }
                }
            }
        }

        // Deleted names (journal, freed directory blocks, slack) whose
        // parent is one of the live Docker directories.
        let mut seen_names: BTreeSet<(String, &'static str)> = BTreeSet::new();
        for n in rec.names.iter().take(10_000_000) {
            let Some((what, drv)) = n.parent.and_then(|p| parent_dirs.get(&p)) else {
                continue;
            };
            let base = n.name.strip_suffix(b"-init".as_slice()).unwrap_or(&n.name);
            if !is_hex64(base) {
                continue;
            }
            let id = lossy(base);
            let src = format!("{:?}", n.source);
            match *what {
                "containers" | "mounts" if base.len() == n.name.len() => {
                    if live_ids.contains(id.as_str()) || !seen_names.insert((id.clone(), what)) {
                        continue;
                    }
                    let sub = if *what == "containers" {
                        "containers".to_string()
                    } else {
                        format!("image/{drv}/layerdb/mounts")
                    };
                    by_id.entry(id.clone()).or_default().evidence.push(ev(
                        "deleted-name",
                        join(&join(&root.path, sub.as_bytes()), &n.name),
                        Some(n.inode),
                        Some(format!("{src} entry in block {}", n.block)),
                    ));
                }
                "driver" => {
                    if live_dirs.contains(base) || !seen_names.insert((lossy(&n.name), what)) {
                        continue;
                    }
                    by_mount.entry(id).or_default().evidence.push(ev(
                        "deleted-name",
                        join(&join(&root.path, drv.as_bytes()), &n.name),
                        Some(n.inode),
                        Some(format!("{src} entry in block {}", n.block)),
                    ));
                }
                _ => {}
            }
        }

        // Ids named in live containers' logs.
        let mut lines = 0usize;
        let mut log_hits: BTreeMap<String, Evidence> = BTreeMap::new();
        for c in host.containers.iter().filter(|c| c.root == root.path) {
            if lines >= MAX_LOG_LINES || by_id.is_empty() {
                break;
            }
            let mut ws = Vec::new();
            for l in super::logs::read_logs(fs, c, &mut ws) {
                lines += 1;
                if lines >= MAX_LOG_LINES {
                    break;
                }
                for id in by_id.keys() {
                    if !log_hits.contains_key(id) && l.line.contains(id.as_str()) {
                        log_hits.insert(
                            id.clone(),
                            ev(
                                "log-mention",
                                c.log_path.clone().unwrap_or_default().into_bytes(),
                                None,
                                Some(format!("in the log of container {}", c.short_id())),
                            ),
                        );
                    }
                }
            }
        }

        // Assemble by container id.
        for (id, mut part) in by_id {
            if out.len() >= MAX_REMOVED {
                break;
            }
            let mut c = Container {
                id: id.clone(),
                root: root.path.clone(),
                dir: join(&join(&root.path, b"containers"), id.as_bytes()),
                removed: true,
                ..Default::default()
            };
            // Latest parsable config whose ID matches.
            // The daemon rewrites config.v2.json on every state change: the
            // latest state (then removal in progress, then mtime) wins.
            part.configs
                .sort_by_key(|(ino, t, v)| (state_key(v), *t, *ino));
            if let Some((ino, _, v)) = part
                .configs
                .iter()
                .rev()
                .find(|(_, _, v)| v.get("ID").and_then(|x| x.as_str()) == Some(id.as_str()))
            {
                apply_config(&mut c, v);
                c.id = id.clone();
                c.evidence.push(ev(
                    "deleted-config.v2.json",
                    join(&c.dir, b"config.v2.json"),
                    Some(*ino),
                    Some("recovered content".into()),
                ));
            }
            part.hostconfigs.sort_by_key(|(ino, t, _)| (*t, *ino));
            if let Some((ino, _, v)) = part.hostconfigs.last() {
                apply_hostconfig(&mut c, v);
                c.evidence.push(ev(
                    "deleted-hostconfig.json",
                    join(&c.dir, b"hostconfig.json"),
                    Some(*ino),
                    Some("recovered content".into()),
                ));
            }
            c.running_at_acquisition = false;
            c.status = Some("removed".into());
            c.mount_id = part.mount_id.take();
            c.init_id = part.init_id.take();
            c.parent_chain_id = part.parent.take();
            if c.driver.is_none() {
                c.driver = part.driver.take();
            }
            if let Some(img) = c.image_id.as_ref().and_then(|iid| {
                host.images
                    .iter()
                    .find(|i| &i.id == iid && i.root == root.path)
            }) {
                c.image_tags = img.tags.clone();
            }
            c.evidence.append(&mut part.evidence);
            if let Some(e) = log_hits.remove(&id) {
                c.evidence.push(e);
            }
            let mut files = std::mem::take(&mut part.files);
            if let Some(m) = &c.mount_id {
                if let Some(mut mp) = by_mount.remove(m) {
                    c.evidence.append(&mut mp.evidence);
                    files.append(&mut mp.files);
                }
            }
            if c.evidence.is_empty() && files.is_empty() {
                continue;
            }
            let files = files
                .into_iter()
                .take(MAX_FILES)
                .map(|(i, area, path, host_path)| {
                    file_of(&rec.candidates[i], area, path, host_path)
                })
                .collect();
            out.push(RemovedContainer {
                container: c,
                files,
            });
        }
        // Mount dirs joined to no container id: a removed container whose
        // id did not survive.
        for (mid, mut part) in by_mount {
            if out.len() >= MAX_REMOVED {
                break;
            }
            // A container's layer has a `-init` sibling and no `committed`
            // file; anything else is more likely a removed image layer.
            let init = format!("{mid}-init");
            let has_init = part
                .evidence
                .iter()
                .any(|e| e.path.ends_with(init.as_bytes()))
                || part.files.iter().any(|f| f.1 == "init-layer");
            let committed = part
                .files
                .iter()
                .any(|f| f.1 == "layer-dir" && f.3.ends_with(b"/committed"));
            if !has_init || committed {
                continue;
            }
            let mut c = Container {
                root: root.path.clone(),
                removed: true,
                mount_id: Some(mid.clone()),
                status: Some("removed".into()),
                ..Default::default()
            };
            c.warnings
                .push("removed layer directory with no recovered container id".into());
            c.evidence.append(&mut part.evidence);
            let files = part
                .files
                .into_iter()
                .take(MAX_FILES)
                .map(|(i, area, path, host_path)| {
                    file_of(&rec.candidates[i], area, path, host_path)
                })
                .collect();
            out.push(RemovedContainer {
                container: c,
                files,
            });
        }
    }
    out
}

/// Merge Docker traces carved from unallocated space (see
/// `recover::carve::docker`) into `removed`. `docker rm` frees
/// `containers/<id>/config.v2.json`, and the daemon's atomic rewrites free
/// older copies on every state change: a carved object whose `ID` is no
/// live container rebuilds (or completes) that removed container. The
/// latest state wins, as for recovered configs. Carved 64-hex ids that name
/// a removed container add evidence. Every carved source says "carved at
/// offset X".
pub fn merge_carved(
    removed: &mut Vec<RemovedContainer>,
    host: &DockerHost,
    traces: &[DockerTrace],
) {
    let live: HashSet<&str> = host
        .containers
        .iter()
        .filter(|c| !c.removed)
        .map(|c| c.id.as_str())
        .collect();
    let Some(first_root) = host.roots.first() else {
        return;
    };
    // Configs by id: (complete, state key, offset) picks the best.
    let mut by_id: BTreeMap<&str, Vec<&DockerTrace>> = BTreeMap::new();
    for t in traces {
        if t.kind != Some(TraceKind::ContainerConfig) {
            continue;
        }
        let Some(id) = t.id.as_deref().filter(|i| is_hex64(i.as_bytes())) else {
            continue;
        };
        if !live.contains(id) {
            by_id.entry(id).or_default().push(t);
        }
    }
    for (id, mut ts) in by_id {
        if removed.len() >= MAX_REMOVED {
            break;
        }
        ts.sort_by_key(|t| {
            (
                t.complete == Some(true),
                t.config.as_ref().map(state_key).unwrap_or_else(|| {
                    let a = t.started_at.clone().unwrap_or_default();
                    let b = t.finished_at.clone().unwrap_or_default();
                    (a.max(b), false)
                }),
                std::cmp::Reverse(t.offset),
            )
        });
        let Some(best) = ts.last() else { continue };
        let mount = best
            .upper_dir
            .as_deref()
            .and_then(|u| u.strip_suffix("/diff"))
            .and_then(|u| u.rsplit('/').next())
            .filter(|m| is_hex64(m.as_bytes()))
            .map(str::to_string);
        let root = host
            .roots
            .iter()
            .find(|r| {
                best.upper_dir
                    .as_deref()
                    .is_some_and(|u| u.as_bytes().starts_with(&r.path))
            })
            .unwrap_or(first_root);
        // An existing record: same id, or the id-less record of its mount dir.
        let at = removed
            .iter()
            .position(|r| r.container.id == id)
            .or_else(|| {
                removed.iter().position(|r| {
                    r.container.id.is_empty() && mount.is_some() && r.container.mount_id == mount
                })
            });
        let idx = match at {
            Some(i) => i,
            None => {
                removed.push(RemovedContainer {
                    container: Container {
                        id: id.to_string(),
                        root: root.path.clone(),
                        dir: join(&join(&root.path, b"containers"), id.as_bytes()),
                        removed: true,
                        ..Default::default()
                    },
                    files: Vec::new(),
                });
                removed.len() - 1
            }
        };
        let c = &mut removed[idx].container;
        let had_config = c
            .evidence
            .iter()
            .any(|e| e.kind == "deleted-config.v2.json");
        if !had_config {
            let keep = (
                c.mount_id.take(),
                c.init_id.take(),
                c.parent_chain_id.take(),
            );
            let (ev0, warn0) = (
                std::mem::take(&mut c.evidence),
                std::mem::take(&mut c.warnings),
            );
            match &best.config {
                Some(v) => apply_config(c, v),
                None => {
                    c.name = best
                        .name
                        .as_deref()
                        .map(|n| n.trim_start_matches('/').to_string());
                    c.image = best.image.clone();
                    c.image_id = best.image_id.clone();
                    c.path = best.path.clone();
                    c.args = best.args.clone().unwrap_or_default();
                    c.cmd = best.cmd.clone();
                    c.created = best.created.clone();
                    c.started_at = best.started_at.clone();
                    c.finished_at = best.finished_at.clone();
                }
            }
            c.id = id.to_string();
            c.evidence = ev0;
            c.warnings = warn0;
            c.mount_id = keep.0.or(mount.clone());
            c.init_id = keep.1.or(c.mount_id.as_ref().map(|m| format!("{m}-init")));
            c.parent_chain_id = keep.2;
            c.removed = true;
            c.running_at_acquisition = false;
            c.status = Some("removed".into());
            c.dir = join(&join(&root.path, b"containers"), id.as_bytes());
            if let Some(img) = c.image_id.as_ref().and_then(|iid| {
                host.images
                    .iter()
                    .find(|i| &i.id == iid && i.root == root.path)
            }) {
                c.image_tags = img.tags.clone();
            }
        }
        let what = if best.complete == Some(true) {
            "complete object"
        } else {
            "fragment, fields picked"
        };
        c.evidence.push(ev(
            "carved-config.v2.json",
            join(&c.dir, b"config.v2.json"),
            None,
            Some(format!(
                "carved at offset {} of unallocated space ({what}; {} carved cop{} of this container's config)",
                best.offset,
                ts.len(),
                if ts.len() == 1 { "y" } else { "ies" }
            )),
        ));
    }
    // Carved ids naming a removed container.
    for t in traces {
        if t.kind != Some(TraceKind::HexId) {
            continue;
        }
        let Some(id) = t.id.as_deref() else { continue };
        if let Some(r) = removed.iter_mut().find(|r| r.container.id == id) {
            r.container.evidence.push(ev(
                "carved-id",
                Vec::new(),
                None,
                Some(format!(
                    "the id carved at offset {} of unallocated space ({} occurrences)",
                    t.offset,
                    t.count.unwrap_or(1)
                )),
            ));
        }
    }
}

fn file_of(
    c: &DeletedCandidate,
    area: &'static str,
    path: Option<String>,
    host_path: Vec<u8>,
) -> RecoveredFile {
    RecoveredFile {
        area,
        path,
        host_path,
        inode: c.inode,
        file_type: c.file_type,
        size: c.size,
        content: c.content,
        sha256: c.sha256_hex(),
        name_source: c.name_source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        let d = vec!["overlay2".to_string()];
        let id = "a".repeat(64);
        let p = format!("/var/lib/docker/containers/{id}/config.v2.json");
        assert_eq!(
            place(b"/var/lib/docker", &d, p.as_bytes()),
            Some(Place::ContainerDir {
                id: id.as_bytes(),
                rest: b"config.v2.json"
            })
        );
        let p = format!("/var/lib/docker/overlay2/{id}-init/diff/etc");
        assert!(matches!(
            place(b"/var/lib/docker", &d, p.as_bytes()),
            Some(Place::LayerDir { .. })
        ));
        assert_eq!(
            place(b"/var/lib/docker", &d, b"/var/lib/dockerx/containers"),
            None
        );
        assert_eq!(
            place(b"/var/lib/docker", &d, b"/var/lib/docker/overlay2/l/XYZ"),
            None
        );
        assert_eq!(in_container_path(b"diff/a/b").as_deref(), Some("/a/b"));
        assert_eq!(in_container_path(b"work/x"), None);
    }
}

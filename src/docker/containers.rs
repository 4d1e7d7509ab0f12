//! Containers: `containers/<id>/config.v2.json` + `hostconfig.json`, the
//! layerdb mount (mount id, init id, parent chain), the layer stack, and
//! the running-at-acquisition verdict with its corroboration.

use super::fsutil::{self, join, lossy, MAX_JSON};
use super::images::{chain_of, is_safe_id, keys_of, labels_of, str_list, Image, Layer};
use super::overlay::LayerRole;
use super::overlay::{LayerFormat, LayerStack, StackLayer};
use super::roots::DockerRoot;
use crate::ext4::Filesystem;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Most containers loaded from one root.
const MAX_CONTAINERS: usize = 1_000_000;

/// One piece of evidence: the host path (or structure) a fact came from.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// `config.v2.json`, `hostconfig.json`, `layerdb-mount`, `layer-dir`,
    /// `log`, later `deleted-inode`, `journal`, ...
    pub kind: String,
    #[serde(serialize_with = "fsutil::ser_path")]
    pub path: Vec<u8>,
    pub inode: Option<u32>,
    pub note: Option<String>,
}

/// One bind or volume mount.
#[derive(Clone, Debug, Serialize)]
pub struct MountPoint {
    pub source: String,
    pub destination: String,
    #[serde(rename = "type")]
    pub mtype: Option<String>,
    pub name: Option<String>,
    pub rw: bool,
}

/// A container as the daemon knew it. Every field is optional or
/// defaulted so that a removed container, rebuilt from fragments, can be
/// represented with what was recovered (`removed: true`, `evidence`).
#[derive(Clone, Debug, Serialize, Default)]
pub struct Container {
    pub id: String,
    pub name: Option<String>,
    /// The image as given to `docker run` (`Config.Image`).
    pub image: Option<String>,
    pub image_id: Option<String>,
    pub image_tags: Vec<String>,
    pub created: Option<String>,
    pub path: Option<String>,
    pub args: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub exposed_ports: Vec<String>,
    // State.
    pub status: Option<String>,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: Option<i64>,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub restart_count: Option<i64>,
    /// `State.Running` on disk: the container was running when the host
    /// went down or was imaged.
    pub running_at_acquisition: bool,
    /// What corroborates (or contradicts) the running verdict.
    pub running_corroboration: Vec<String>,
    // Storage.
    pub driver: Option<String>,
    pub mount_id: Option<String>,
    pub init_id: Option<String>,
    pub parent_chain_id: Option<String>,
    pub layers: Vec<StackLayer>,
    pub layers_source: Option<String>,
    // Host configuration.
    pub privileged: bool,
    pub binds: Vec<String>,
    pub mounts: Vec<MountPoint>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub pid_mode: Option<String>,
    pub network_mode: Option<String>,
    pub ipc_mode: Option<String>,
    pub uts_mode: Option<String>,
    pub userns_mode: Option<String>,
    pub port_bindings: BTreeMap<String, Vec<String>>,
    pub security_opt: Vec<String>,
    pub devices: Vec<String>,
    pub restart_policy: Option<String>,
    pub readonly_rootfs: bool,
    pub log_driver: Option<String>,
    pub log_path: Option<String>,
    // Provenance.
    #[serde(serialize_with = "fsutil::ser_path")]
    pub root: Vec<u8>,
    #[serde(serialize_with = "fsutil::ser_path")]
    pub dir: Vec<u8>,
    pub dir_inode: Option<u32>,
    pub removed: bool,
    pub evidence: Vec<Evidence>,
    pub warnings: Vec<String>,
}

impl Container {
    pub fn short_id(&self) -> &str {
        crate::docker::fsutil::short(&self.id, 12)
    }
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.short_id().to_string())
    }
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(|x| x.as_str())
        .map(|x| x.to_string())
        .filter(|x| !x.is_empty())
}
fn b(v: Option<&Value>) -> bool {
    v.and_then(|x| x.as_bool()).unwrap_or(false)
}
fn i(v: Option<&Value>) -> Option<i64> {
    v.and_then(|x| x.as_i64())
}

/// Docker's zero time.
pub fn is_zero_time(t: &str) -> bool {
    t.starts_with("0001-01-01")
}

/// Load every container of a root.
pub fn load_containers(
    fs: &Filesystem,
    root: &DockerRoot,
    images: &[Image],
    layers: &[Layer],
    warnings: &mut Vec<String>,
) -> Vec<Container> {
    let mut out = Vec::new();
    let Some(cdir) = fsutil::child(fs, root.inode, b"containers") else {
        return out;
    };
    let cbase = join(&root.path, b"containers");
    for e in fsutil::list_dir(fs, cdir.inode)
        .into_iter()
        .take(MAX_CONTAINERS)
    {
        if e.dirent_type() != crate::ext4::inode::FileType::Dir {
            continue;
        }
        let id = lossy(&e.name);
        let dir = join(&cbase, &e.name);
        let mut c = Container {
            id: id.clone(),
            root: root.path.clone(),
            dir: dir.clone(),
            dir_inode: Some(e.inode),
            ..Default::default()
        };
        let mut cfg_name: &[u8] = b"config.v2.json";
        let cfg = match fsutil::read_child(fs, e.inode, b"config.v2.json", MAX_JSON) {
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => Some(v),
                Err(err) => {
                    c.warnings.push(format!(
                        "config.v2.json is not valid JSON ({err}); partial record"
                    ));
                    None
                }
            },
            Err(err) => {
                // Older daemons (< 1.10): config.json.
                match fsutil::read_child(fs, e.inode, b"config.json", MAX_JSON) {
                    Ok(bytes) => {
                        cfg_name = b"config.json";
                        serde_json::from_slice::<Value>(&bytes).ok()
                    }
                    Err(_) => {
                        c.warnings
                            .push(format!("config.v2.json: {err}; partial record"));
                        None
                    }
                }
            }
        };
        if let Some(v) = &cfg {
            c.evidence.push(Evidence {
                kind: lossy(cfg_name),
                path: join(&dir, cfg_name),
                inode: fsutil::child(fs, e.inode, cfg_name).map(|x| x.inode),
                note: None,
            });
            apply_config(&mut c, v);
            if c.id != id {
                c.warnings.push(format!(
                    "config.v2.json ID {} differs from its directory name {id}",
                    c.id
                ));
                c.id = id.clone();
            }
        }
        match fsutil::read_child(fs, e.inode, b"hostconfig.json", MAX_JSON) {
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => {
                    c.evidence.push(Evidence {
                        kind: "hostconfig.json".into(),
                        path: join(&dir, b"hostconfig.json"),
                        inode: fsutil::child(fs, e.inode, b"hostconfig.json").map(|x| x.inode),
                        note: None,
                    });
                    apply_hostconfig(&mut c, &v);
                }
                Err(err) => c
                    .warnings
                    .push(format!("hostconfig.json is not valid JSON ({err})")),
            },
            Err(err) => c.warnings.push(format!("hostconfig.json: {err}")),
        }
        if let Some(img) = c
            .image_id
            .as_ref()
            .and_then(|id| images.iter().find(|i| &i.id == id && i.root == root.path))
        {
            c.image_tags = img.tags.clone();
        }
        load_mount(fs, root, &mut c, layers);
        corroborate_running(fs, root, &mut c);
        for w in &c.warnings {
            warnings.push(format!("container {}: {w}", c.short_id()));
        }
        out.push(c);
    }
    // layerdb mounts without a container directory: traces of removed ones.
    for d in &root.drivers {
        let Some(mounts) = fsutil::descend_dir(
            fs,
            root.inode,
            format!("image/{d}/layerdb/mounts").as_bytes(),
        ) else {
            continue;
        };
        for m in fsutil::list_dir(fs, mounts)
            .into_iter()
            .take(MAX_CONTAINERS)
        {
            let id = lossy(&m.name);
            if !out.iter().any(|c| c.id == id) {
                warnings.push(format!(
                    "layerdb mount {id} in {} has no containers/ directory: a removed container's leftover",
                    lossy(&root.path)
                ));
            }
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    out
}

#[doc(hidden)]
pub fn apply_config(c: &mut Container, v: &Value) {
    let state = v.get("State");
    let st = |k: &str| state.and_then(|x| x.get(k));
    c.id = s(v.get("ID")).unwrap_or_else(|| c.id.clone());
    c.name = s(v.get("Name")).map(|n| n.trim_start_matches('/').to_string());
    c.created = s(v.get("Created"));
    c.path = s(v.get("Path"));
    c.args = str_list(v.get("Args")).unwrap_or_default();
    c.image_id = s(v.get("Image"));
    let cf = v.get("Config");
    let g = |k: &str| cf.and_then(|x| x.get(k));
    c.image = s(g("Image"));
    c.env = str_list(g("Env")).unwrap_or_default();
    c.cmd = str_list(g("Cmd"));
    c.entrypoint = str_list(g("Entrypoint"));
    c.labels = labels_of(g("Labels"));
    c.user = s(g("User"));
    c.working_dir = s(g("WorkingDir"));
    c.hostname = s(g("Hostname"));
    c.exposed_ports = keys_of(g("ExposedPorts"));
    c.running = b(st("Running"));
    c.paused = b(st("Paused"));
    c.restarting = b(st("Restarting"));
    c.oom_killed = b(st("OOMKilled"));
    c.dead = b(st("Dead"));
    c.pid = i(st("Pid"));
    c.exit_code = i(st("ExitCode"));
    c.error = s(st("Error"));
    c.started_at = s(st("StartedAt"));
    c.finished_at = s(st("FinishedAt"));
    c.restart_count = i(v.get("RestartCount"));
    c.driver = s(v.get("Driver"));
    c.log_path = s(v.get("LogPath"));
    c.status = Some(
        if c.running && c.paused {
            "paused"
        } else if c.restarting {
            "restarting"
        } else if c.running {
            "running"
        } else if c.dead {
            "dead"
        } else if c.started_at.as_deref().is_some_and(|t| !is_zero_time(t)) {
            "exited"
        } else {
            "created"
        }
        .to_string(),
    );
    c.running_at_acquisition = c.running;
    if let Some(mp) = v.get("MountPoints").and_then(|x| x.as_object()) {
        for (dest, m) in mp.iter().take(100_000) {
            c.mounts.push(MountPoint {
                source: s(m.get("Source")).unwrap_or_default(),
                destination: s(m.get("Destination")).unwrap_or_else(|| dest.clone()),
                mtype: s(m.get("Type")),
                name: s(m.get("Name")),
                rw: b(m.get("RW")),
            });
        }
    }
}

#[doc(hidden)]
pub fn apply_hostconfig(c: &mut Container, v: &Value) {
    c.privileged = b(v.get("Privileged"));
    c.binds = str_list(v.get("Binds")).unwrap_or_default();
    c.cap_add = str_list(v.get("CapAdd")).unwrap_or_default();
    c.cap_drop = str_list(v.get("CapDrop")).unwrap_or_default();
    c.pid_mode = s(v.get("PidMode"));
    c.network_mode = s(v.get("NetworkMode"));
    c.ipc_mode = s(v.get("IpcMode"));
    c.uts_mode = s(v.get("UTSMode"));
    c.userns_mode = s(v.get("UsernsMode"));
    c.security_opt = str_list(v.get("SecurityOpt")).unwrap_or_default();
    c.readonly_rootfs = b(v.get("ReadonlyRootfs"));
    c.devices = v
        .get("Devices")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .take(100_000)
                .map(|d| {
                    format!(
                        "{}:{}:{}",
                        s(d.get("PathOnHost")).unwrap_or_default(),
                        s(d.get("PathInContainer")).unwrap_or_default(),
                        s(d.get("CgroupPermissions")).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(pb) = v.get("PortBindings").and_then(|x| x.as_object()) {
        for (port, binds) in pb.iter().take(100_000) {
            let list = binds
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|b| {
                            format!(
                                "{}:{}",
                                s(b.get("HostIp")).unwrap_or_else(|| "0.0.0.0".into()),
                                s(b.get("HostPort")).unwrap_or_default()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            c.port_bindings.insert(port.clone(), list);
        }
    }
    c.restart_policy = v.get("RestartPolicy").and_then(|r| s(r.get("Name")));
    c.log_driver = v.get("LogConfig").and_then(|l| s(l.get("Type")));
    // Binds not already listed in MountPoints (config.v2.json).
    for bnd in &c.binds {
        let parts: Vec<&str> = bnd.splitn(3, ':').collect();
        if parts.len() >= 2 && !c.mounts.iter().any(|m| m.destination == parts[1]) {
            c.mounts.push(MountPoint {
                source: parts[0].to_string(),
                destination: parts[1].to_string(),
                mtype: Some("bind".into()),
                name: None,
                rw: !parts
                    .get(2)
                    .is_some_and(|o| o.split(',').any(|x| x == "ro")),
            });
        }
    }
}

/// mount id / init id / parent from `image/<driver>/layerdb/mounts/<id>`,
/// then the layer stack.
fn load_mount(fs: &Filesystem, root: &DockerRoot, c: &mut Container, layers: &[Layer]) {
    let drivers: Vec<String> = match &c.driver {
        Some(d) => vec![d.clone()],
        None => root.drivers.clone(),
    };
    for d in &drivers {
        let rel = format!("image/{d}/layerdb/mounts/{}", c.id);
        if let Some(m) = fsutil::descend_dir(fs, root.inode, rel.as_bytes()) {
            c.mount_id = fsutil::read_text(fs, m, b"mount-id");
            c.init_id = fsutil::read_text(fs, m, b"init-id");
            c.parent_chain_id = fsutil::read_text(fs, m, b"parent");
            c.evidence.push(Evidence {
                kind: "layerdb-mount".into(),
                path: join(&root.path, rel.as_bytes()),
                inode: Some(m),
                note: None,
            });
            if c.driver.is_none() {
                c.driver = Some(d.clone());
            }
            break;
        }
    }
    if c.driver.as_deref() == Some("overlayfs") {
        if let Some(ct) = &root.containerd {
            let rec = ct.containers.iter().find(|x| x.id == c.id);
            let key = rec
                .and_then(|r| r.snapshot_key.clone())
                .unwrap_or_else(|| c.id.clone());
            let mut w = Vec::new();
            let chain = ct.chain(&key, &mut w);
            c.mount_id = Some(key.clone());
            c.init_id = chain
                .iter()
                .find(|s| s.key.ends_with("-init"))
                .map(|s| s.key.clone());
            c.parent_chain_id = chain
                .iter()
                .find(|s| s.key.starts_with("sha256:"))
                .map(|s| s.key.clone());
            let path = ct.meta_db.clone().or_else(|| ct.snap_db.clone());
            if let Some(path) = path {
                c.evidence.push(Evidence {
                    kind: "containerd-snapshot".into(),
                    path,
                    inode: None,
                    note: Some(format!(
                        "snapshot {key}{}",
                        if rec.is_some() {
                            ", container record in meta.db"
                        } else {
                            ""
                        }
                    )),
                });
            }
        }
    }
    // v1 graph layout: the layer dirs are named after the container id,
    // the init layer `<id>-init`, and the image is the parent layer.
    if c.mount_id.is_none()
        && fsutil::child(fs, root.inode, b"graph").is_some()
        && c.driver.as_deref() != Some("overlayfs")
    {
        c.mount_id = Some(c.id.clone());
        c.init_id = Some(format!("{}-init", c.id));
        c.parent_chain_id = c.image_id.clone();
        if c.driver.is_none() {
            c.driver = root.drivers.first().cloned();
        }
    }
    let stack = build_stack(fs, root, c, layers);
    c.layers = stack.layers;
    c.layers_source = Some(stack.source);
    c.warnings.extend(stack.warnings);
}

/// The stack of a container: upper, init, image layers (top first).
pub fn build_stack(
    fs: &Filesystem,
    root: &DockerRoot,
    c: &Container,
    layers: &[Layer],
) -> LayerStack {
    let mut st = LayerStack::default();
    let Some(mount_id) = c.mount_id.clone().filter(|m| is_safe_id(m)) else {
        st.source = "none (no mount id)".into();
        return st;
    };
    let driver = c.driver.clone().unwrap_or_else(|| "overlay2".into());
    let find_layer = |cache: &str| {
        layers
            .iter()
            .find(|l| l.root == root.path && l.cache_id.as_deref() == Some(cache))
    };
    let mk = |role: LayerRole, id: &str, rel: Vec<u8>, format: LayerFormat| {
        let l = if role == LayerRole::Image {
            find_layer(id)
        } else {
            None
        };
        StackLayer {
            role,
            id: id.to_string(),
            chain_id: l.map(|l| l.chain_id.clone()),
            diff_id: l.and_then(|l| l.diff_id.clone()),
            dir: join(&root.path, &rel),
            inode: fsutil::descend_dir(fs, root.inode, &rel),
            format,
            created_by: l.and_then(|l| l.created_by.clone()),
        }
    };
    let role_of = |id: &str| {
        if id.ends_with("-init") {
            LayerRole::Init
        } else {
            LayerRole::Image
        }
    };
    // From the layerdb chain (what the daemon would mount).
    let mut from_chain: Vec<String> = Vec::new();
    if let Some(init) = &c.init_id {
        from_chain.push(init.clone());
    }
    if let Some(p) = &c.parent_chain_id {
        for l in chain_of(layers, &root.path, p).iter().rev() {
            if let Some(cid) = &l.cache_id {
                from_chain.push(cid.clone());
            }
        }
    }
    match driver.as_str() {
        "overlay2" => {
            st.layers.push(mk(
                LayerRole::Upper,
                &mount_id,
                format!("overlay2/{mount_id}/diff").into_bytes(),
                LayerFormat::Overlay,
            ));
            let lower =
                fsutil::descend_dir(fs, root.inode, format!("overlay2/{mount_id}").as_bytes())
                    .and_then(|d| fsutil::read_text(fs, d, b"lower"));
            let l_dir = fsutil::descend_dir(fs, root.inode, b"overlay2/l");
            let mut from_lower: Vec<String> = Vec::new();
            if let (Some(lower), Some(l_dir)) = (&lower, l_dir) {
                for part in lower.split(':').take(super::images::MAX_CHAIN) {
                    let short = part.strip_prefix("l/").unwrap_or(part);
                    let target = fsutil::child(fs, l_dir, short.as_bytes())
                        .and_then(|e| fs.inode(e.inode).ok())
                        .and_then(|i| fs.symlink_target(&i).ok());
                    match target {
                        Some(t) => {
                            // ../<id>/diff
                            let t = lossy(&t);
                            let id = t
                                .trim_start_matches("../")
                                .trim_end_matches("/diff")
                                .to_string();
                            if is_safe_id(&id) {
                                from_lower.push(id);
                            } else {
                                st.warnings.push(format!(
                                    "overlay2/l/{short} points at {t:?}, not a layer dir; skipped"
                                ));
                            }
                        }
                        None => st.warnings.push(format!(
                            "lower entry {part:?}: overlay2/l/{short} is missing or unreadable"
                        )),
                    }
                }
            }
            let ids = if !from_lower.is_empty() {
                st.source = "overlay2 lower file (l/ links)".into();
                if !from_chain.is_empty() && from_chain != from_lower {
                    st.warnings.push(format!(
                        "the lower file ({} layers) differs from the layerdb chain ({} layers)",
                        from_lower.len(),
                        from_chain.len()
                    ));
                }
                from_lower
            } else {
                st.source = "layerdb chain".into();
                from_chain
            };
            for id in ids {
                st.layers.push(mk(
                    role_of(&id),
                    &id,
                    format!("overlay2/{id}/diff").into_bytes(),
                    LayerFormat::Overlay,
                ));
            }
        }
        "aufs" => {
            st.layers.push(mk(
                LayerRole::Upper,
                &mount_id,
                format!("aufs/diff/{mount_id}").into_bytes(),
                LayerFormat::Aufs,
            ));
            let ids: Vec<String> = fsutil::descend_dir(fs, root.inode, b"aufs/layers")
                .and_then(|d| {
                    fsutil::read_child(fs, d, mount_id.as_bytes(), fsutil::MAX_SMALL).ok()
                })
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .lines()
                        .map(|l| l.trim().to_string())
                        .filter(|l| is_safe_id(l))
                        .take(super::images::MAX_CHAIN)
                        .collect()
                })
                .unwrap_or_default();
            st.source = if ids.is_empty() {
                "layerdb chain".into()
            } else {
                "aufs/layers file".into()
            };
            let ids = if ids.is_empty() { from_chain } else { ids };
            for id in ids {
                st.layers.push(mk(
                    role_of(&id),
                    &id,
                    format!("aufs/diff/{id}").into_bytes(),
                    LayerFormat::Aufs,
                ));
            }
        }
        "overlay" => {
            // overlay v1: <id>/upper over the lower layer's root (one lower).
            st.layers.push(mk(
                LayerRole::Upper,
                &mount_id,
                format!("overlay/{mount_id}/upper").into_bytes(),
                LayerFormat::Overlay,
            ));
            let mut cur = mount_id.clone();
            let mut n = 0;
            while let Some(lower) =
                fsutil::descend_dir(fs, root.inode, format!("overlay/{cur}").as_bytes())
                    .and_then(|d| fsutil::read_text(fs, d, b"lower-id"))
                    .filter(|l| is_safe_id(l))
            {
                n += 1;
                if n > super::images::MAX_CHAIN {
                    break;
                }
                let has_root =
                    fsutil::descend_dir(fs, root.inode, format!("overlay/{lower}/root").as_bytes())
                        .is_some();
                let sub = if has_root { "root" } else { "upper" };
                st.layers.push(mk(
                    role_of(&lower),
                    &lower,
                    format!("overlay/{lower}/{sub}").into_bytes(),
                    LayerFormat::Overlay,
                ));
                if has_root {
                    break;
                }
                cur = lower;
            }
            st.source = "overlay lower-id".into();
        }
        "overlayfs" => match &root.containerd {
            Some(ct) => {
                let s = ct.stack(&mount_id, layers);
                st.layers = s.layers;
                st.source = s.source;
                st.warnings.extend(s.warnings);
            }
            None => {
                st.source = "containerd store not found".into();
                st.warnings.push(
                    "driver overlayfs but no containerd store (meta.db / metadata.db) found".into(),
                );
            }
        },
        other => {
            st.source = format!("unsupported driver {other}");
            st.warnings
                .push(format!("storage driver {other}: no merged view"));
        }
    }
    for l in &st.layers {
        if l.inode.is_none() {
            st.warnings.push(format!(
                "{} layer {}: directory {} missing",
                l.role,
                l.id,
                lossy(&l.dir)
            ));
        }
    }
    st
}

/// Corroborate `State.Running`: the shm mount point (mode 1777 while
/// mounted is not visible on disk; the dir exists), the overlay `merged/`
/// and `work/work` leftovers, and upper-dir times after `StartedAt`.
fn corroborate_running(fs: &Filesystem, root: &DockerRoot, c: &mut Container) {
    let mut notes = Vec::new();
    // dockerd creates the containerd container when it starts one and
    // deletes it when the task exits: a record means a live task.
    if let Some(ct) = &root.containerd {
        if let Some(rec) = ct.containers.iter().find(|x| x.id == c.id) {
            notes.push(format!(
                "containerd container record in {} (namespace moby{}): created on start, deleted on exit",
                ct.meta_db.as_deref().map(lossy).unwrap_or_default(),
                rec.created
                    .as_deref()
                    .map(|t| format!(", created {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(d) = c.dir_inode {
        if let Some(shm) = fsutil::descend(fs, d, b"mounts/shm") {
            if let Ok(i) = fs.inode(shm) {
                notes.push(format!(
                    "containers/{}/mounts/shm exists, mode {:o}{}",
                    c.short_id(),
                    i.perm(),
                    if i.perm() == 0o1777 {
                        " (tmpfs root mode left on disk)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    if let Some(m) = c.mount_id.as_deref().filter(|m| is_safe_id(m)) {
        if let Some(md) =
            fsutil::descend_dir(fs, root.inode, format!("overlay2/{m}/merged").as_bytes())
        {
            notes.push(format!(
                "overlay2/{}/merged exists ({} entries): a mount point left behind",
                crate::docker::fsutil::short(m, 12),
                fsutil::list_dir(fs, md).len()
            ));
        }
        if let Some(w) =
            fsutil::descend_dir(fs, root.inode, format!("overlay2/{m}/work/work").as_bytes())
        {
            let n = fsutil::list_dir(fs, w).len();
            if n > 0 {
                notes.push(format!(
                    "overlay2/{}/work/work holds {n} entries (in-flight overlay state)",
                    crate::docker::fsutil::short(m, 12)
                ));
            }
        }
        if let Some(u) =
            fsutil::descend_dir(fs, root.inode, format!("overlay2/{m}/diff").as_bytes())
        {
            if let Ok(i) = fs.inode(u) {
                let started = c
                    .started_at
                    .as_deref()
                    .and_then(crate::util::time::parse_rfc3339);
                let finished = c
                    .finished_at
                    .as_deref()
                    .filter(|t| !is_zero_time(t))
                    .and_then(crate::util::time::parse_rfc3339);
                let newest = i.mtime.max(i.ctime);
                let mut n = format!("upper dir changed {}", newest.rfc3339());
                if let Some(s) = started {
                    if newest > s {
                        n.push_str(", after StartedAt");
                    }
                }
                if let Some(f) = finished {
                    if newest > f {
                        n.push_str(", after FinishedAt (written after the recorded stop?)");
                    }
                }
                notes.push(n);
            }
        }
    }
    if c.running && c.pid.unwrap_or(0) > 0 {
        notes.push(format!("State.Pid {} recorded", c.pid.unwrap_or(0)));
    }
    c.running_corroboration = notes;
}

//! Docker's containerd image store (Docker 24+ optional, default on new
//! Docker 29 installs): config.v2.json `Driver: "overlayfs"`, no layerdb.
//!
//! - `io.containerd.metadata.v1.bolt/meta.db` (BoltDB), namespace `moby`:
//!   `v1/moby/images/<name>/target/{digest,mediatype,size}`,
//!   `v1/moby/containers/<id>/{image,snapshotter,snapshotKey}`,
//!   `v1/moby/snapshots/overlayfs/<key>/{name,parent}`;
//! - `io.containerd.snapshotter.v1.overlayfs/metadata.db`:
//!   `v1/snapshots/<name>/{id (uvarint),kind,parent}`; the files of
//!   snapshot `id` are in `snapshots/<id>/fs`;
//! - `io.containerd.content.v1.content/blobs/sha256/<hex>`: manifests,
//!   indexes, image configs.
//!
//! The store is either `<root>/containerd/daemon` (dockerd's own
//! containerd) or `/var/lib/containerd` (the system containerd).

use super::bolt::{self, Bucket};
use super::fsutil::{self, join, lossy, sha256_id, MAX_JSON};
use super::images::{chain_ids, is_safe_id, Image, ImageConfig, Layer, MAX_CHAIN};
use super::overlay::LayerRole;
use super::overlay::{LayerFormat, LayerStack, StackLayer};
use crate::ext4::Filesystem;
use crate::util::escape::escape_bytes;
use serde_json::Value;
use std::collections::BTreeMap;

/// Docker's containerd namespace.
pub const NAMESPACE: &str = "moby";
/// Largest BoltDB file loaded.
const MAX_DB: u64 = 256 << 20;
const META_DB: &[u8] = b"io.containerd.metadata.v1.bolt/meta.db";
const SNAP_DIR: &[u8] = b"io.containerd.snapshotter.v1.overlayfs";
const BLOBS: &[u8] = b"io.containerd.content.v1.content/blobs/sha256";

/// One snapshot of the overlayfs snapshotter, by its key in `moby`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The key in the namespace (chain id, `<container id>`, `<id>-init`).
    pub key: String,
    /// The snapshotter's own key (`moby/<n>/<key>`).
    pub name: Option<String>,
    /// Parent key in the namespace.
    pub parent: Option<String>,
    /// The snapshotter's numeric id: the directory `snapshots/<id>`.
    pub id: Option<u64>,
    /// `view`, `active` or `committed`.
    pub kind: Option<&'static str>,
    pub created: Option<String>,
    /// Host path of `snapshots/<id>/fs`.
    pub dir: Vec<u8>,
    pub dir_inode: Option<u32>,
}

/// An image record of `meta.db`.
#[derive(Clone, Debug, Default)]
pub struct CtrdImage {
    pub name: String,
    pub digest: String,
    pub media_type: Option<String>,
    pub created: Option<String>,
}

/// A container record of `meta.db`.
#[derive(Clone, Debug, Default)]
pub struct CtrdContainer {
    pub id: String,
    pub image: Option<String>,
    pub snapshotter: Option<String>,
    pub snapshot_key: Option<String>,
    pub created: Option<String>,
}

/// One containerd store as Docker used it.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Host path and inode of the containerd root.
    pub base: Vec<u8>,
    pub base_inode: u32,
    pub meta_db: Option<Vec<u8>>,
    pub snap_db: Option<Vec<u8>>,
    pub snapshots: BTreeMap<String, Snapshot>,
    pub images: Vec<CtrdImage>,
    pub containers: Vec<CtrdContainer>,
    pub warnings: Vec<String>,
}

fn kind_name(b: u8) -> Option<&'static str> {
    match b {
        1 => Some("view"),
        2 => Some("active"),
        3 => Some("committed"),
        _ => None,
    }
}

fn load_db(fs: &Filesystem, base_ino: u32, rel: &[u8], path: &[u8]) -> Result<bolt::Db, String> {
    let ino = fsutil::descend(fs, base_ino, rel).ok_or("absent")?;
    let inode = fs.inode(ino).map_err(|e| e.to_string())?;
    let data = fsutil::read_inode(fs, &inode, MAX_DB, path).map_err(|e| e.to_string())?;
    bolt::parse(&data)
}

/// Candidate containerd roots for a Docker root.
pub fn candidates(fs: &Filesystem, root_path: &[u8], root_ino: u32) -> Vec<(Vec<u8>, u32)> {
    let mut out = Vec::new();
    if let Some(i) = fsutil::descend_dir(fs, root_ino, b"containerd/daemon") {
        out.push((join(root_path, b"containerd/daemon"), i));
    }
    if let Some(i) = fsutil::host_dir(fs, b"/var/lib/containerd") {
        if !out.iter().any(|(_, x)| *x == i) {
            out.push((b"/var/lib/containerd".to_vec(), i));
        }
    }
    out
}

/// Load the store at `base` (None when it holds no `moby` data).
pub fn load(fs: &Filesystem, base: &[u8], base_ino: u32) -> Option<Store> {
    let mut st = Store {
        base: base.to_vec(),
        base_inode: base_ino,
        ..Default::default()
    };
    let meta_path = join(base, META_DB);
    let ns = NAMESPACE.as_bytes();
    match load_db(fs, base_ino, META_DB, &meta_path) {
        Ok(db) => {
            for w in &db.warnings {
                st.warnings
                    .push(format!("{}: {w}", escape_bytes(&meta_path)));
            }
            st.meta_db = Some(meta_path.clone());
            if let Some(nsb) = db.root.path(&[b"v1", ns]) {
                read_namespace(nsb, &mut st);
            }
        }
        Err(e) if e == "absent" => {}
        Err(e) => st
            .warnings
            .push(format!("{}: {e}", escape_bytes(&meta_path))),
    }
    let snap_path = join(&join(base, SNAP_DIR), b"metadata.db");
    let snap_rel = join(SNAP_DIR, b"metadata.db");
    match load_db(fs, base_ino, &snap_rel, &snap_path) {
        Ok(db) => {
            for w in &db.warnings {
                st.warnings
                    .push(format!("{}: {w}", escape_bytes(&snap_path)));
            }
            st.snap_db = Some(snap_path.clone());
            if let Some(snaps) = db.root.path(&[b"v1", b"snapshots"]) {
                read_backend(fs, base, base_ino, snaps, &mut st);
            }
        }
        Err(e) if e == "absent" => {}
        Err(e) => st
            .warnings
            .push(format!("{}: {e}", escape_bytes(&snap_path))),
    }
    if st.snapshots.is_empty() && st.images.is_empty() && st.containers.is_empty() {
        return None;
    }
    Some(st)
}

fn read_namespace(nsb: &Bucket, st: &mut Store) {
    if let Some(imgs) = nsb.bucket(b"images") {
        for (name, b) in imgs.buckets.iter().take(1_000_000) {
            let t = b.bucket(b"target");
            st.images.push(CtrdImage {
                name: lossy(name),
                digest: t.and_then(|t| t.text(b"digest")).unwrap_or_default(),
                media_type: t.and_then(|t| t.text(b"mediatype")),
                created: b.get(b"createdat").and_then(bolt::go_time),
            });
        }
    }
    if let Some(cs) = nsb.bucket(b"containers") {
        for (id, b) in cs.buckets.iter().take(1_000_000) {
            st.containers.push(CtrdContainer {
                id: lossy(id),
                image: b.text(b"image"),
                snapshotter: b.text(b"snapshotter"),
                snapshot_key: b.text(b"snapshotKey"),
                created: b.get(b"createdat").and_then(bolt::go_time),
            });
        }
    }
    if let Some(snaps) = nsb.path(&[b"snapshots", b"overlayfs"]) {
        for (key, b) in snaps.buckets.iter().take(1_000_000) {
            let key = lossy(key);
            st.snapshots.insert(
                key.clone(),
                Snapshot {
                    key,
                    name: b.text(b"name"),
                    parent: b.text(b"parent"),
                    created: b.get(b"createdat").and_then(bolt::go_time),
                    ..Default::default()
                },
            );
        }
    }
}

/// The namespace key of a snapshotter key `moby/<n>/<key>`.
fn user_key(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(NAMESPACE)?.strip_prefix('/')?;
    let (n, key) = rest.split_once('/')?;
    n.bytes().all(|c| c.is_ascii_digit()).then_some(key)
}

fn read_backend(fs: &Filesystem, base: &[u8], base_ino: u32, snaps: &Bucket, st: &mut Store) {
    // Backend name → namespace key (from meta.db, else from the name).
    let by_name: BTreeMap<String, String> = st
        .snapshots
        .values()
        .filter_map(|s| s.name.clone().map(|n| (n, s.key.clone())))
        .collect();
    let mut parents_by_name: Vec<(String, String)> = Vec::new();
    for (name, b) in snaps.buckets.iter().take(1_000_000) {
        let name = lossy(name);
        let Some(key) = by_name
            .get(&name)
            .cloned()
            .or_else(|| user_key(&name).map(|k| k.to_string()))
        else {
            continue; // another namespace
        };
        let id = b.get(b"id").and_then(bolt::uvarint);
        let kind = b
            .get(b"kind")
            .and_then(|k| k.first().copied())
            .and_then(kind_name);
        if let Some(p) = b.text(b"parent") {
            parents_by_name.push((key.clone(), p));
        }
        let s = st.snapshots.entry(key.clone()).or_insert_with(|| Snapshot {
            key: key.clone(),
            name: Some(name.clone()),
            ..Default::default()
        });
        s.id = id;
        s.kind = kind;
        if s.created.is_none() {
            s.created = b.get(b"createdat").and_then(bolt::go_time);
        }
        if let Some(id) = id {
            let rel = format!("{}/snapshots/{id}/fs", lossy(SNAP_DIR));
            s.dir = join(base, rel.as_bytes());
            s.dir_inode = fsutil::descend_dir(fs, base_ino, rel.as_bytes());
        }
    }
    // Parents known only to the snapshotter (meta.db missing or damaged).
    for (key, pname) in parents_by_name {
        let pkey = by_name
            .get(&pname)
            .cloned()
            .or_else(|| user_key(&pname).map(|k| k.to_string()));
        if let (Some(s), Some(pk)) = (st.snapshots.get_mut(&key), pkey) {
            match &s.parent {
                None => s.parent = Some(pk),
                Some(p) if *p != pk => st.warnings.push(format!(
                    "snapshot {key}: meta.db names parent {p}, the snapshotter {pk}"
                )),
                _ => {}
            }
        }
    }
}

impl Store {
    /// The parent chain of a snapshot key, the key first (bounded, loops
    /// cut).
    pub fn chain(&self, key: &str, warnings: &mut Vec<String>) -> Vec<&Snapshot> {
        let mut out: Vec<&Snapshot> = Vec::new();
        let mut cur = Some(key.to_string());
        while let Some(k) = cur {
            let Some(s) = self.snapshots.get(&k) else {
                if !out.is_empty() || k != key {
                    warnings.push(format!("snapshot {k}: not in the snapshot store"));
                }
                break;
            };
            if out.iter().any(|o| o.key == s.key) {
                warnings.push(format!("snapshot {k}: parent loop; cut"));
                break;
            }
            if out.len() >= MAX_CHAIN {
                warnings.push(format!("snapshot chain longer than {MAX_CHAIN}; cut"));
                break;
            }
            out.push(s);
            cur = s.parent.clone();
        }
        out
    }

    fn blob(&self, fs: &Filesystem, digest: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let hex = digest.strip_prefix("sha256:")?;
        if !is_safe_id(hex) {
            return None;
        }
        let rel = join(BLOBS, hex.as_bytes());
        let path = join(&self.base, &rel);
        let ino = fsutil::descend(fs, self.base_inode, &rel)?;
        let inode = fs.inode(ino).ok()?;
        let b = fsutil::read_inode(fs, &inode, MAX_JSON, &path).ok()?;
        Some((path, b))
    }

    /// Images and layers for the Docker model.
    pub fn images_and_layers(
        &self,
        fs: &Filesystem,
        root_path: &[u8],
        warnings: &mut Vec<String>,
    ) -> (Vec<Image>, Vec<Layer>) {
        let mut images: Vec<Image> = Vec::new();
        for ci in &self.images {
            let dangling = ci.name.starts_with("moby-dangling@");
            if let Some(i) = images.iter_mut().find(|i| i.id == ci.digest) {
                if !dangling {
                    i.tags.push(ci.name.clone());
                    i.tags.sort();
                }
                continue;
            }
            let Some((mpath, mut manifest)) = self.blob(fs, &ci.digest) else {
                warnings.push(format!(
                    "containerd image {}: blob {} missing from the content store",
                    ci.name, ci.digest
                ));
                continue;
            };
            let mut digest_ok = sha256_id(&manifest) == ci.digest;
            let mut mv: Value = serde_json::from_slice(&manifest).unwrap_or(Value::Null);
            // An index: the first linux manifest whose blob is present.
            if let Some(ms) = mv.get("manifests").and_then(|m| m.as_array()) {
                let mut pick = None;
                for m in ms.iter().take(1000) {
                    let os = m.pointer("/platform/os").and_then(|x| x.as_str());
                    if os.is_some_and(|o| o != "linux") {
                        continue;
                    }
                    if let Some(d) = m.get("digest").and_then(|d| d.as_str()) {
                        if let Some((_, b)) = self.blob(fs, d) {
                            digest_ok &= sha256_id(&b) == d;
                            pick = Some(b);
                            break;
                        }
                    }
                }
                match pick {
                    Some(b) => {
                        manifest = b;
                        mv = serde_json::from_slice(&manifest).unwrap_or(Value::Null);
                    }
                    None => {
                        warnings.push(format!(
                            "containerd image {}: no manifest of the index is in the content store",
                            ci.name
                        ));
                        continue;
                    }
                }
            }
            let Some(cd) = mv.pointer("/config/digest").and_then(|d| d.as_str()) else {
                warnings.push(format!(
                    "containerd image {}: {} is not an image manifest",
                    ci.name,
                    escape_bytes(&mpath)
                ));
                continue;
            };
            let Some((cpath, cfg)) = self.blob(fs, cd) else {
                warnings.push(format!(
                    "containerd image {}: config blob {cd} missing",
                    ci.name
                ));
                continue;
            };
            digest_ok &= sha256_id(&cfg) == cd;
            if !digest_ok {
                warnings.push(format!(
                    "containerd image {}: a blob's sha256 does not match its name (altered?)",
                    ci.name
                ));
            }
            let v: Value = serde_json::from_slice(&cfg).unwrap_or(Value::Null);
            let config = ImageConfig::parse(&v);
            let chain = chain_ids(&config.diff_ids);
            let missing: Vec<String> = chain
                .iter()
                .filter(|c| self.snapshots.get(*c).and_then(|s| s.dir_inode).is_none())
                .cloned()
                .collect();
            images.push(Image {
                id: ci.digest.clone(),
                root: root_path.to_vec(),
                driver: "overlayfs".into(),
                tags: if dangling {
                    Vec::new()
                } else {
                    vec![ci.name.clone()]
                },
                kind: if dangling { "dangling" } else { "tagged" },
                parent: None,
                children: Vec::new(),
                last_updated: ci.created.clone(),
                config_digest_ok: digest_ok,
                config,
                chain_ids: chain,
                missing_layers: missing,
                size: 0,
                config_path: cpath,
            });
        }
        images.sort_by(|a, b| a.id.cmp(&b.id));
        // Layers: committed snapshots keyed by chain id.
        let mut layers: Vec<Layer> = Vec::new();
        for s in self.snapshots.values() {
            if !s.key.starts_with("sha256:") {
                continue;
            }
            let mut diff_id = None;
            let mut created_by = None;
            let mut ids = Vec::new();
            for i in &images {
                if let Some(pos) = i.chain_ids.iter().position(|c| *c == s.key) {
                    ids.push(i.id.clone());
                    diff_id = i.config.diff_ids.get(pos).cloned();
                    let steps: Vec<_> =
                        i.config.history.iter().filter(|h| !h.empty_layer).collect();
                    if steps.len() == i.chain_ids.len() && created_by.is_none() {
                        created_by = steps[pos].created_by.clone();
                    }
                }
            }
            let chain_id_ok = diff_id.as_ref().map(|d| match &s.parent {
                None => *d == s.key,
                Some(p) => sha256_id(format!("{p} {d}").as_bytes()) == s.key,
            });
            layers.push(Layer {
                root: root_path.to_vec(),
                driver: "overlayfs".into(),
                chain_id: s.key.clone(),
                diff_id,
                parent: s.parent.clone(),
                cache_id: s.id.map(|i| i.to_string()),
                size: None,
                chain_id_ok,
                dir: s.dir.clone(),
                dir_inode: s.dir_inode,
                link: None,
                has_tar_split: false,
                images: ids,
                created_by,
                layerdb_path: self
                    .meta_db
                    .clone()
                    .or_else(|| self.snap_db.clone())
                    .unwrap_or_default(),
            });
        }
        (images, layers)
    }

    /// The stack of a container whose rootfs is snapshot `key`.
    pub fn stack(&self, key: &str, layers: &[Layer]) -> LayerStack {
        let mut st = LayerStack {
            source: "containerd snapshot chain (metadata.db / meta.db)".into(),
            ..Default::default()
        };
        let chain = self.chain(key, &mut st.warnings);
        if chain.is_empty() {
            st.warnings
                .push(format!("snapshot {key}: not in the containerd store"));
        }
        for (n, s) in chain.iter().enumerate() {
            let role = if n == 0 {
                LayerRole::Upper
            } else if s.key.ends_with("-init") {
                LayerRole::Init
            } else {
                LayerRole::Image
            };
            let l = layers.iter().find(|l| l.chain_id == s.key);
            st.layers.push(StackLayer {
                role,
                id: s.id.map(|i| i.to_string()).unwrap_or_else(|| s.key.clone()),
                chain_id: (role == LayerRole::Image).then(|| s.key.clone()),
                diff_id: l.and_then(|l| l.diff_id.clone()),
                dir: s.dir.clone(),
                inode: s.dir_inode,
                format: LayerFormat::Overlay,
                created_by: l.and_then(|l| l.created_by.clone()),
            });
        }
        st
    }
}

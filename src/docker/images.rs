//! The image store of one root and driver: `repositories.json`, the
//! imagedb (image configs, parents) and the layerdb (chain id → diff id →
//! cache id → layer directory).

use super::fsutil::{self, join, lossy, sha256_id, MAX_JSON};
use super::roots::DockerRoot;
use crate::ext4::Filesystem;
use crate::util::escape::escape_bytes;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most layers followed along one parent chain (Docker caps at 127).
pub const MAX_CHAIN: usize = 1024;
/// Most images or layers loaded from one store.
const MAX_ENTRIES: usize = 1_000_000;

/// One `history[]` entry of an image config.
#[derive(Clone, Debug, Serialize, Default)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// The image config JSON (imagedb content).
#[derive(Clone, Debug, Serialize, Default)]
pub struct ImageConfig {
    pub created: Option<String>,
    pub author: Option<String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub docker_version: Option<String>,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub history: Vec<HistoryEntry>,
    pub diff_ids: Vec<String>,
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(|s| s.to_string())
}
pub(crate) fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    let a = v?.as_array()?;
    Some(
        a.iter()
            .take(100_000)
            .map(|x| match x.as_str() {
                Some(s) => s.to_string(),
                None => x.to_string(),
            })
            .collect(),
    )
}
pub(crate) fn keys_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(|x| x.as_object())
        .map(|o| o.keys().take(100_000).cloned().collect())
        .unwrap_or_default()
}
pub(crate) fn labels_of(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(|x| x.as_object())
        .map(|o| {
            o.iter()
                .take(100_000)
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ImageConfig {
    pub fn parse(v: &Value) -> ImageConfig {
        let c = v.get("config").or_else(|| v.get("container_config"));
        let get = |k: &str| c.and_then(|c| c.get(k));
        ImageConfig {
            created: str_of(v, "created"),
            author: str_of(v, "author"),
            architecture: str_of(v, "architecture"),
            os: str_of(v, "os"),
            docker_version: str_of(v, "docker_version"),
            env: str_list(get("Env")).unwrap_or_default(),
            cmd: str_list(get("Cmd")),
            entrypoint: str_list(get("Entrypoint")),
            user: get("User").and_then(|x| x.as_str()).map(|s| s.to_string()),
            working_dir: get("WorkingDir")
                .and_then(|x| x.as_str())
                .map(|s| s.to_string()),
            labels: labels_of(get("Labels")),
            exposed_ports: keys_of(get("ExposedPorts")),
            volumes: keys_of(get("Volumes")),
            history: v
                .get("history")
                .and_then(|h| h.as_array())
                .map(|a| {
                    a.iter()
                        .take(100_000)
                        .map(|h| HistoryEntry {
                            created: str_of(h, "created"),
                            created_by: str_of(h, "created_by"),
                            comment: str_of(h, "comment"),
                            empty_layer: h
                                .get("empty_layer")
                                .and_then(|x| x.as_bool())
                                .unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            diff_ids: v
                .get("rootfs")
                .and_then(|r| str_list(r.get("diff_ids")))
                .unwrap_or_default(),
        }
    }
}

/// One image of the imagedb.
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    /// `sha256:<hex>`.
    pub id: String,
    #[serde(serialize_with = "fsutil::ser_path")]
    pub root: Vec<u8>,
    pub driver: String,
    pub tags: Vec<String>,
    /// `tagged`, `dangling` (untagged, nobody's parent) or `intermediate`
    /// (untagged parent of another image, e.g. classic-builder steps).
    pub kind: &'static str,
    pub parent: Option<String>,
    pub children: Vec<String>,
    pub last_updated: Option<String>,
    /// sha256 of the stored config equals the id.
    pub config_digest_ok: bool,
    pub config: ImageConfig,
    /// Chain ids, bottom layer first, computed from the diff ids.
    pub chain_ids: Vec<String>,
    /// Chain ids with no layerdb entry.
    pub missing_layers: Vec<String>,
    /// Sum of the layerdb `size` files.
    pub size: u64,
    /// Host path of the config file (evidence).
    #[serde(serialize_with = "fsutil::ser_path")]
    pub config_path: Vec<u8>,
}

impl Image {
    pub fn id_hex(&self) -> &str {
        self.id.strip_prefix("sha256:").unwrap_or(&self.id)
    }
    /// `app:1` or `sha256:0e119b43134e` for display.
    pub fn display_name(&self) -> String {
        self.tags.first().cloned().unwrap_or_else(|| {
            format!("sha256:{}", crate::docker::fsutil::short(self.id_hex(), 12))
        })
    }
}

/// One layerdb entry (`layerdb/sha256/<chain id>/`).
#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    #[serde(serialize_with = "fsutil::ser_path")]
    pub root: Vec<u8>,
    pub driver: String,
    pub chain_id: String,
    pub diff_id: Option<String>,
    pub parent: Option<String>,
    pub cache_id: Option<String>,
    pub size: Option<u64>,
    /// chain id recomputed from parent chain id and diff id.
    pub chain_id_ok: Option<bool>,
    /// Host path of the layer's files (`overlay2/<cache id>/diff`).
    #[serde(serialize_with = "fsutil::ser_path")]
    pub dir: Vec<u8>,
    pub dir_inode: Option<u32>,
    /// overlay2 short link name (`overlay2/<cache id>/link`).
    pub link: Option<String>,
    pub has_tar_split: bool,
    /// Image ids whose layer list holds this layer.
    pub images: Vec<String>,
    /// The history `created_by` of the step that made it, if known.
    pub created_by: Option<String>,
    /// Host path of the layerdb directory (evidence).
    #[serde(serialize_with = "fsutil::ser_path")]
    pub layerdb_path: Vec<u8>,
}

/// The image store of one root.
#[derive(Default)]
pub struct Store {
    pub images: Vec<Image>,
    pub layers: Vec<Layer>,
}

/// chain(L1) = diff(L1); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)).
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => sha256_id(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// Where a driver keeps a layer's files, relative to the root.
pub fn layer_dir_rel(driver: &str, cache_id: &str) -> Vec<u8> {
    match driver {
        "overlay2" => format!("overlay2/{cache_id}/diff"),
        "aufs" => format!("aufs/diff/{cache_id}"),
        "overlay" => format!("overlay/{cache_id}/root"),
        "vfs" => format!("vfs/dir/{cache_id}"),
        d => format!("{d}/{cache_id}"),
    }
    .into_bytes()
}

/// Load the image stores of every driver of a root.
pub fn load_store(fs: &Filesystem, root: &DockerRoot, warnings: &mut Vec<String>) -> Store {
    let mut store = Store::default();
    for driver in &root.drivers {
        load_driver(fs, root, driver, &mut store, warnings);
    }
    if fsutil::child(fs, root.inode, b"graph").is_some() {
        load_graph(fs, root, &mut store, warnings);
    }
    if let Some(ct) = &root.containerd {
        let (i, l) = ct.images_and_layers(fs, &root.path, warnings);
        store.images.extend(i);
        store.layers.extend(l);
    }
    store
}

fn load_driver(
    fs: &Filesystem,
    root: &DockerRoot,
    driver: &str,
    store: &mut Store,
    warnings: &mut Vec<String>,
) {
    let base = join(&join(&root.path, b"image"), driver.as_bytes());
    let Some(base_ino) = fsutil::descend_dir(fs, root.inode, &join(b"image", driver.as_bytes()))
    else {
        return;
    };
    // Tags.
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    match fsutil::read_child(fs, base_ino, b"repositories.json", MAX_JSON) {
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(v) => {
                if let Some(repos) = v.get("Repositories").and_then(|r| r.as_object()) {
                    for (_, refs) in repos.iter().take(MAX_ENTRIES) {
                        if let Some(o) = refs.as_object() {
                            for (r, id) in o.iter().take(MAX_ENTRIES) {
                                if let Some(id) = id.as_str() {
                                    tags.entry(id.to_string()).or_default().push(r.clone());
                                }
                            }
                        }
                    }
                }
            }
            Err(e) => warnings.push(format!(
                "{}: not valid JSON ({e}); tags unknown",
                escape_bytes(&join(&base, b"repositories.json"))
            )),
        },
        Err(crate::Error::NotFound(_)) => {}
        Err(e) => warnings.push(format!(
            "{}: {e}",
            escape_bytes(&join(&base, b"repositories.json"))
        )),
    }
    // Layers.
    let mut layers: Vec<Layer> = Vec::new();
    if let Some(ldb) = fsutil::descend_dir(fs, base_ino, b"layerdb/sha256") {
        for e in fsutil::list_dir(fs, ldb).into_iter().take(MAX_ENTRIES) {
            let hex = lossy(&e.name);
            let chain_id = format!("sha256:{hex}");
            let diff_id = fsutil::read_text(fs, e.inode, b"diff");
            let parent = fsutil::read_text(fs, e.inode, b"parent");
            let cache_id = fsutil::read_text(fs, e.inode, b"cache-id");
            let size = fsutil::read_text(fs, e.inode, b"size").and_then(|s| s.parse().ok());
            let chain_id_ok = diff_id.as_ref().map(|d| match &parent {
                None => *d == chain_id,
                Some(p) => sha256_id(format!("{p} {d}").as_bytes()) == chain_id,
            });
            if chain_id_ok == Some(false) {
                warnings.push(format!(
                    "layer {chain_id}: chain id does not match sha256(parent + \" \" + diff id): layerdb entry altered or mislabelled"
                ));
            }
            let (dir, dir_inode, link) = match &cache_id {
                Some(c) if is_safe_id(c) => {
                    let rel = layer_dir_rel(driver, c);
                    let ino = fsutil::descend_dir(fs, root.inode, &rel);
                    let link = if driver == "overlay2" {
                        fsutil::descend_dir(fs, root.inode, format!("overlay2/{c}").as_bytes())
                            .and_then(|d| fsutil::read_text(fs, d, b"link"))
                    } else {
                        None
                    };
                    (join(&root.path, &rel), ino, link)
                }
                Some(c) => {
                    warnings.push(format!(
                        "layer {chain_id}: cache-id {c:?} is not a plain name; ignored"
                    ));
                    (Vec::new(), None, None)
                }
                None => (Vec::new(), None, None),
            };
            let has_tar_split = fsutil::child(fs, e.inode, b"tar-split.json.gz").is_some();
            layers.push(Layer {
                root: root.path.clone(),
                driver: driver.to_string(),
                chain_id,
                diff_id,
                parent,
                cache_id,
                size,
                chain_id_ok,
                dir,
                dir_inode,
                link,
                has_tar_split,
                images: Vec::new(),
                created_by: None,
                layerdb_path: join(&join(&base, b"layerdb/sha256"), &e.name),
            });
        }
    }
    // Images.
    let mut images: Vec<Image> = Vec::new();
    let meta = fsutil::descend_dir(fs, base_ino, b"imagedb/metadata/sha256");
    if let Some(content) = fsutil::descend_dir(fs, base_ino, b"imagedb/content/sha256") {
        for e in fsutil::list_dir(fs, content).into_iter().take(MAX_ENTRIES) {
            let hex = lossy(&e.name);
            let id = format!("sha256:{hex}");
            let cpath = join(&join(&base, b"imagedb/content/sha256"), &e.name);
            let raw = match fs.inode(e.inode).map_err(|x| x.to_string()).and_then(|i| {
                fsutil::read_inode(fs, &i, MAX_JSON, &cpath).map_err(|x| x.to_string())
            }) {
                Ok(b) => b,
                Err(err) => {
                    warnings.push(format!("image {id}: {err}; skipped"));
                    continue;
                }
            };
            let config_digest_ok = sha256_id(&raw) == id;
            if !config_digest_ok {
                warnings.push(format!(
                    "image {id}: the config's sha256 does not match its name (altered?)"
                ));
            }
            let v: Value = match serde_json::from_slice(&raw) {
                Ok(v) => v,
                Err(err) => {
                    warnings.push(format!(
                        "image {id}: config is not valid JSON ({err}); skipped"
                    ));
                    continue;
                }
            };
            let config = ImageConfig::parse(&v);
            let md = meta
                .and_then(|m| fsutil::child(fs, m, &e.name))
                .map(|m| m.inode);
            let parent = md.and_then(|m| fsutil::read_text(fs, m, b"parent"));
            let last_updated = md.and_then(|m| fsutil::read_text(fs, m, b"lastUpdated"));
            let chain = chain_ids(&config.diff_ids);
            let mut missing = Vec::new();
            let mut size = 0u64;
            for c in &chain {
                match layers.iter().find(|l| &l.chain_id == c) {
                    Some(l) => size = size.saturating_add(l.size.unwrap_or(0)),
                    None => missing.push(c.clone()),
                }
            }
            let mut t = tags.remove(&id).unwrap_or_default();
            t.sort();
            images.push(Image {
                id,
                root: root.path.clone(),
                driver: driver.to_string(),
                tags: t,
                kind: "",
                parent,
                children: Vec::new(),
                last_updated,
                config_digest_ok,
                config,
                chain_ids: chain,
                missing_layers: missing,
                size,
                config_path: cpath,
            });
        }
    }
    for (id, t) in tags {
        warnings.push(format!(
            "{}: tags {t:?} point at image {id}, which has no config in the imagedb",
            escape_bytes(&join(&base, b"repositories.json"))
        ));
    }
    // Kinds and children.
    let parents: HashMap<String, Vec<String>> = {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for i in &images {
            if let Some(p) = &i.parent {
                m.entry(p.clone()).or_default().push(i.id.clone());
            }
        }
        m
    };
    for i in &mut images {
        i.children = parents.get(&i.id).cloned().unwrap_or_default();
        i.children.sort();
        i.kind = if !i.tags.is_empty() {
            "tagged"
        } else if !i.children.is_empty() {
            "intermediate"
        } else {
            "dangling"
        };
    }
    images.sort_by(|a, b| a.id.cmp(&b.id));
    // Layer → images, created_by from history (non-empty steps in order).
    for l in &mut layers {
        let mut ids: Vec<String> = images
            .iter()
            .filter(|i| i.chain_ids.contains(&l.chain_id))
            .map(|i| i.id.clone())
            .collect();
        ids.sort();
        l.images = ids;
        for i in &images {
            if let Some(pos) = i.chain_ids.iter().position(|c| *c == l.chain_id) {
                let steps: Vec<&HistoryEntry> =
                    i.config.history.iter().filter(|h| !h.empty_layer).collect();
                if steps.len() == i.chain_ids.len() {
                    l.created_by = steps[pos].created_by.clone();
                    break;
                }
            }
        }
    }
    layers.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
    store.images.extend(images);
    store.layers.extend(layers);
}

/// The legacy v1 graph (Docker < 1.10): `graph/<id>/json` (one image =
/// one layer, `parent` links), tags in `repositories-<driver>`, layer
/// files in the driver dir under the same id. Image and layer ids are the
/// bare 64-hex v1 ids (random, not content digests).
fn load_graph(fs: &Filesystem, root: &DockerRoot, store: &mut Store, warnings: &mut Vec<String>) {
    let Some(graph) = fsutil::child(fs, root.inode, b"graph") else {
        return;
    };
    let gbase = join(&root.path, b"graph");
    let driver = graph_driver(fs, root);
    // Tags.
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let repo_file = format!("repositories-{driver}");
    if let Ok(b) = fsutil::read_child(fs, root.inode, repo_file.as_bytes(), MAX_JSON) {
        match serde_json::from_slice::<Value>(&b) {
            Ok(v) => {
                if let Some(repos) = v.get("Repositories").and_then(|r| r.as_object()) {
                    for (repo, refs) in repos.iter().take(MAX_ENTRIES) {
                        for (t, id) in refs.as_object().into_iter().flatten().take(MAX_ENTRIES) {
                            if let Some(id) = id.as_str() {
                                tags.entry(id.to_string())
                                    .or_default()
                                    .push(format!("{repo}:{t}"));
                            }
                        }
                    }
                }
            }
            Err(e) => warnings.push(format!(
                "{}: not valid JSON ({e}); tags unknown",
                escape_bytes(&join(&root.path, repo_file.as_bytes()))
            )),
        }
    }
    struct G {
        id: String,
        parent: Option<String>,
        v: Value,
        path: Vec<u8>,
        size: Option<u64>,
    }
    let mut gs: Vec<G> = Vec::new();
    for e in fsutil::list_dir(fs, graph.inode)
        .into_iter()
        .take(MAX_ENTRIES)
    {
        let id = lossy(&e.name);
        if !is_safe_id(&id) || id.starts_with('_') {
            continue; // _tmp
        }
        let path = join(&join(&gbase, &e.name), b"json");
        let v = match fsutil::read_child(fs, e.inode, b"json", MAX_JSON)
            .map_err(|x| x.to_string())
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|x| x.to_string()))
        {
            Ok(v) => v,
            Err(err) => {
                warnings.push(format!("v1 graph image {id}: json: {err}; skipped"));
                continue;
            }
        };
        if v.get("id")
            .and_then(|x| x.as_str())
            .is_some_and(|x| x != id)
        {
            warnings.push(format!("v1 graph image {id}: its json names another id"));
        }
        let parent = str_of(&v, "parent").filter(|p| !p.is_empty());
        let size = fsutil::read_text(fs, e.inode, b"layersize")
            .and_then(|s| s.parse().ok())
            .or_else(|| v.get("Size").and_then(|x| x.as_u64()));
        gs.push(G {
            id,
            parent,
            v,
            path,
            size,
        });
    }
    let by_id: HashMap<&str, &G> = gs.iter().map(|g| (g.id.as_str(), g)).collect();
    let mut layers: Vec<Layer> = Vec::new();
    let mut images: Vec<Image> = Vec::new();
    for g in &gs {
        // Ancestors, bottom first (bounded, loops cut).
        let mut chain = vec![g.id.clone()];
        let mut cur = g.parent.clone();
        while let Some(p) = cur {
            if chain.contains(&p) || chain.len() >= MAX_CHAIN {
                warnings.push(format!(
                    "v1 graph image {}: parent loop or too deep; cut",
                    g.id
                ));
                break;
            }
            chain.push(p.clone());
            cur = by_id.get(p.as_str()).and_then(|x| x.parent.clone());
        }
        chain.reverse();
        let missing: Vec<String> = chain
            .iter()
            .filter(|c| !by_id.contains_key(c.as_str()))
            .cloned()
            .collect();
        let rel = layer_dir_rel(&driver, &g.id);
        let dir_inode = fsutil::descend_dir(fs, root.inode, &rel);
        let created_by =
            g.v.get("container_config")
                .and_then(|c| str_list(c.get("Cmd")))
                .map(|c| c.join(" "));
        layers.push(Layer {
            root: root.path.clone(),
            driver: driver.clone(),
            chain_id: g.id.clone(),
            diff_id: None,
            parent: g.parent.clone(),
            cache_id: Some(g.id.clone()),
            size: g.size,
            chain_id_ok: None,
            dir: join(&root.path, &rel),
            dir_inode,
            link: None,
            has_tar_split: false,
            images: Vec::new(),
            created_by,
            layerdb_path: join(&gbase, g.id.as_bytes()),
        });
        let mut config = ImageConfig::parse(&g.v);
        if config.history.is_empty() {
            config.history = chain
                .iter()
                .filter_map(|c| by_id.get(c.as_str()))
                .map(|x| HistoryEntry {
                    created: str_of(&x.v, "created"),
                    created_by: x
                        .v
                        .get("container_config")
                        .and_then(|c| str_list(c.get("Cmd")))
                        .map(|c| c.join(" ")),
                    comment: str_of(&x.v, "comment"),
                    empty_layer: false,
                })
                .collect();
        }
        let size = chain
            .iter()
            .filter_map(|c| by_id.get(c.as_str()).and_then(|x| x.size))
            .fold(0u64, |a, b| a.saturating_add(b));
        let mut t = tags.remove(&g.id).unwrap_or_default();
        t.sort();
        images.push(Image {
            id: g.id.clone(),
            root: root.path.clone(),
            driver: driver.clone(),
            tags: t,
            kind: "",
            parent: g.parent.clone(),
            children: Vec::new(),
            last_updated: None,
            // v1 ids are random, not digests of the json.
            config_digest_ok: true,
            config,
            chain_ids: chain,
            missing_layers: missing,
            size,
            config_path: g.path.clone(),
        });
    }
    for (id, t) in tags {
        warnings.push(format!(
            "{repo_file}: tags {t:?} point at v1 image {id}, which is not in graph/"
        ));
    }
    for i in 0..images.len() {
        let id = images[i].id.clone();
        let mut ch: Vec<String> = images
            .iter()
            .filter(|x| x.parent.as_deref() == Some(id.as_str()))
            .map(|x| x.id.clone())
            .collect();
        ch.sort();
        let img = &mut images[i];
        img.children = ch;
        img.kind = if !img.tags.is_empty() {
            "tagged"
        } else if !img.children.is_empty() {
            "intermediate"
        } else {
            "dangling"
        };
    }
    for l in &mut layers {
        let mut ids: Vec<String> = images
            .iter()
            .filter(|i| i.chain_ids.contains(&l.chain_id))
            .map(|i| i.id.clone())
            .collect();
        ids.sort();
        l.images = ids;
    }
    images.sort_by(|a, b| a.id.cmp(&b.id));
    layers.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
    store.images.extend(images);
    store.layers.extend(layers);
}

/// The driver of a v1 graph root: `repositories-<driver>`, else the first
/// driver directory present.
pub fn graph_driver(fs: &Filesystem, root: &DockerRoot) -> String {
    let names: Vec<String> = fsutil::list_dir(fs, root.inode)
        .into_iter()
        .map(|e| lossy(&e.name))
        .collect();
    if let Some(d) = names.iter().find_map(|n| n.strip_prefix("repositories-")) {
        return d.to_string();
    }
    for d in ["aufs", "overlay", "devicemapper", "btrfs", "vfs", "zfs"] {
        if names.iter().any(|n| n == d) {
            return d.to_string();
        }
    }
    "aufs".into()
}

/// A cache id / mount id / container id used as a directory name: no
/// slash, not `.`/`..`, not empty.
pub fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.contains('/')
        && !s.contains('\0')
        && s.len() <= 255
}

/// Layers of a chain id, bottom first, by following `parent` files
/// (bounded; loops cut).
pub fn chain_of<'a>(layers: &'a [Layer], root: &[u8], top: &str) -> Vec<&'a Layer> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = Some(top.to_string());
    while let Some(c) = cur {
        if !seen.insert(c.clone()) || out.len() >= MAX_CHAIN {
            break;
        }
        match layers.iter().find(|l| l.root == root && l.chain_id == c) {
            Some(l) => {
                out.push(l);
                cur = l.parent.clone();
            }
            None => break,
        }
    }
    out.reverse();
    out
}

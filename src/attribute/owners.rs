//! Owners (containers, image layers, the Docker daemon, the host) and the
//! path rule (rule 1) and content rule (rule 3) that name them.

use crate::docker::fsutil::lossy;
use crate::docker::overlay::LayerRole;
use crate::docker::removed::{is_hex64, RemovedContainer};
use crate::docker::DockerHost;
use serde::Serialize;
use std::collections::HashMap;

/// Index of an [`Owner`] in the attributor's owner table.
pub type OwnerId = u32;

/// Most owners registered (hostile images could name millions of ids).
const MAX_OWNERS: usize = 1 << 20;
/// Most bytes of content scanned for ids (rule 3).
pub const MAX_CONTENT_SCAN: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerKind {
    /// A container (live or removed): its r/w and init layers, its
    /// `containers/<id>/` directory, its layerdb mount entry, its volumes.
    Container,
    /// An image layer (overlay2 cache id), shared by images and containers.
    Layer,
    /// The Docker daemon's own metadata (anything else under a Docker root).
    Daemon,
    /// The host, outside every Docker root.
    Host,
    /// Filesystem metadata (superblocks, GDT, bitmaps, inode tables, journal).
    Filesystem,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Container => "container",
            OwnerKind::Layer => "layer",
            OwnerKind::Daemon => "daemon",
            OwnerKind::Host => "host",
            OwnerKind::Filesystem => "filesystem",
        }
    }
}

/// Who a piece of data belongs to.
#[derive(Clone, Debug, Serialize)]
pub struct Owner {
    pub kind: OwnerKind,
    /// Container id, layer cache id, Docker root path, `host` or `filesystem`.
    pub id: String,
    /// Container name, or the first image tag of a layer.
    pub name: Option<String>,
    /// A container removed with `docker rm`, or an id only seen in deleted
    /// evidence.
    pub removed: bool,
    /// Layers: ids of the images whose layer list holds it.
    pub images: Vec<String>,
    /// Layers: containers stacked on it. Containers: their image layers.
    pub containers: Vec<String>,
}

/// Where rule 1 placed a path.
#[derive(Clone, Debug)]
pub struct PathOwner {
    pub owner: OwnerId,
    /// `upper dir of container …`, `containers/<id>/`, …
    pub why: String,
    /// The owner is a known container/layer (not an id only seen in a path).
    pub known: bool,
}

struct RootIdx {
    path: Vec<u8>,
    drivers: Vec<String>,
    daemon: OwnerId,
}

/// The owner table and the indexes rule 1 and rule 3 use.
pub struct Owners {
    pub list: Vec<Owner>,
    by_key: HashMap<(OwnerKind, String), OwnerId>,
    roots: Vec<RootIdx>,
    /// container id, mount id, init id → container.
    containers: HashMap<String, OwnerId>,
    mounts: HashMap<String, OwnerId>,
    /// cache id → layer; short link → layer; chain id → layer.
    layers: HashMap<String, OwnerId>,
    links: HashMap<String, OwnerId>,
    chains: HashMap<String, OwnerId>,
    /// volume name → containers mounting it.
    volumes: HashMap<String, Vec<OwnerId>>,
    /// Every 64-hex id rule 3 looks for: container, mount, init and cache ids.
    pub content_ids: HashMap<String, OwnerId>,
}

pub const FILESYSTEM: OwnerId = 0;
pub const HOST: OwnerId = 1;

impl Owners {
    pub fn new(host: Option<&DockerHost>, removed: &[RemovedContainer]) -> Owners {
        let mut o = Owners {
            list: Vec::new(),
            by_key: HashMap::new(),
            roots: Vec::new(),
            containers: HashMap::new(),
            mounts: HashMap::new(),
            layers: HashMap::new(),
            links: HashMap::new(),
            chains: HashMap::new(),
            volumes: HashMap::new(),
            content_ids: HashMap::new(),
        };
        o.add(OwnerKind::Filesystem, "filesystem", None, false);
        o.add(OwnerKind::Host, "host", None, false);
        let Some(host) = host else { return o };
        for r in &host.roots {
            let daemon = o.add(OwnerKind::Daemon, &lossy(&r.path), None, false);
            o.roots.push(RootIdx {
                path: r.path.clone(),
                drivers: if r.drivers.is_empty() {
                    vec!["overlay2".into()]
                } else {
                    r.drivers.clone()
                },
                daemon,
            });
        }
        let all = host
            .containers
            .iter()
            .chain(removed.iter().map(|r| &r.container));
        for c in all {
            if c.id.is_empty() {
                continue;
            }
            let id = o.add(
                OwnerKind::Container,
                &c.id,
                c.name.clone(),
                c.removed || removed.iter().any(|r| r.container.id == c.id),
            );
            o.containers.insert(c.id.clone(), id);
            o.content_ids.insert(c.id.clone(), id);
            for m in c.mount_id.iter().chain(c.init_id.iter()) {
                o.mounts.insert(m.clone(), id);
                o.content_ids.insert(m.clone(), id);
            }
            for m in &c.mounts {
                if m.mtype.as_deref() == Some("volume") {
                    if let Some(n) = &m.name {
                        o.volumes.entry(n.clone()).or_default().push(id);
                    }
                }
            }
            let layers: Vec<String> = c
                .layers
                .iter()
                .filter(|l| l.role == LayerRole::Image)
                .map(|l| l.id.clone())
                .collect();
            if let Some(ow) = o.list.get_mut(id as usize) {
                ow.containers = layers;
            }
        }
        for l in &host.layers {
            let Some(cache) = &l.cache_id else { continue };
            let images = l.images.clone();
            // Name a layer after the tagged image it tops, else any tag.
            let holders: Vec<&crate::docker::Image> = images
                .iter()
                .filter_map(|i| host.images.iter().find(|x| &x.id == i))
                .filter(|x| !x.tags.is_empty())
                .collect();
            let tag = holders
                .iter()
                .find(|x| x.chain_ids.last() == Some(&l.chain_id))
                .or_else(|| holders.iter().min_by_key(|x| x.chain_ids.len()))
                .and_then(|x| x.tags.first().cloned());
            let id = o.add(OwnerKind::Layer, cache, tag, false);
            let users: Vec<String> = host
                .containers
                .iter()
                .chain(removed.iter().map(|r| &r.container))
                .filter(|c| c.layers.iter().any(|s| &s.id == cache))
                .map(|c| c.id.clone())
                .collect();
            if let Some(ow) = o.list.get_mut(id as usize) {
                for i in images {
                    if !ow.images.contains(&i) {
                        ow.images.push(i);
                    }
                }
                for u in users {
                    if !ow.containers.contains(&u) {
                        ow.containers.push(u);
                    }
                }
            }
            o.layers.insert(cache.clone(), id);
            o.content_ids.entry(cache.clone()).or_insert(id);
            o.chains.insert(l.chain_id.clone(), id);
            if let Some(link) = &l.link {
                o.links.insert(link.clone(), id);
            }
        }
        o
    }

    fn add(&mut self, kind: OwnerKind, id: &str, name: Option<String>, removed: bool) -> OwnerId {
        if let Some(&x) = self.by_key.get(&(kind, id.to_string())) {
            return x;
        }
        if self.list.len() >= MAX_OWNERS {
            return HOST;
        }
        let n = self.list.len() as OwnerId;
        self.list.push(Owner {
            kind,
            id: id.to_string(),
            name,
            removed,
            images: Vec::new(),
            containers: Vec::new(),
        });
        self.by_key.insert((kind, id.to_string()), n);
        n
    }

    pub fn get(&self, id: OwnerId) -> &Owner {
        self.list
            .get(id as usize)
            .unwrap_or(&self.list[HOST as usize])
    }

    fn label(&self, id: OwnerId) -> String {
        let o = self.get(id);
        match &o.name {
            Some(n) => format!("{} {} ({})", o.kind.as_str(), short(&o.id), n),
            None => format!("{} {}", o.kind.as_str(), short(&o.id)),
        }
    }

    /// Rule 1: the owner of a host path. Ids seen only in the path (removed
    /// builder containers, removed image layers) are registered when
    /// `register` is set; otherwise they fall back to the daemon.
    pub fn of_path(&mut self, path: &[u8], register: bool) -> PathOwner {
        let Some((ri, rel)) = self.roots.iter().enumerate().find_map(|(i, r)| {
            let root = r.path.strip_suffix(b"/").unwrap_or(&r.path);
            path.strip_prefix(root)
                .and_then(|x| x.strip_prefix(b"/"))
                .map(|rel| (i, rel))
        }) else {
            return PathOwner {
                owner: HOST,
                why: "outside every Docker root".into(),
                known: true,
            };
        };
        let daemon = self.roots[ri].daemon;
        let comps: Vec<&[u8]> = rel.split(|&b| b == b'/').take(8).collect();
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let drivers = self.roots[ri].drivers.clone();
        let is_driver = |c: &[u8]| drivers.iter().any(|d| d.as_bytes() == c);
        let daemon_owner = |why: &str| PathOwner {
            owner: daemon,
            why: why.to_string(),
            known: true,
        };
        match comps.as_slice() {
            [b"containers", id, ..] if is_hex64(id) => self.container(
                &s(id),
                "containers/<id>/ (container metadata and logs)",
                register,
                daemon,
            ),
            [b"image", drv, b"layerdb", b"mounts", id, ..] if is_driver(drv) && is_hex64(id) => {
                self.container(
                    &s(id),
                    "layerdb mounts/<id>/ (container layer record)",
                    register,
                    daemon,
                )
            }
            [b"image", drv, b"layerdb", b"sha256", chain, ..] if is_driver(drv) => {
                match self.chains.get(&format!("sha256:{}", s(chain))) {
                    Some(&l) => PathOwner {
                        owner: l,
                        why: format!("layerdb entry of {}", self.label(l)),
                        known: true,
                    },
                    None => daemon_owner("layerdb entry of a layer no longer in the store"),
                }
            }
            [b"containerd", b"daemon", task, b"moby", id, ..]
                if task.starts_with(b"io.containerd.runtime") && is_hex64(id) =>
            {
                self.container(
                    &s(id),
                    "containerd task dir moby/<id>/ (runtime state)",
                    register,
                    daemon,
                )
            }
            [b"volumes", name, b"_data", ..] => {
                let users = self.volumes.get(&s(name)).cloned().unwrap_or_default();
                match users.as_slice() {
                    [] => daemon_owner("volume not mounted by any known container"),
                    [one] => PathOwner {
                        owner: *one,
                        why: format!("volume {} mounted by {}", s(name), self.label(*one)),
                        known: true,
                    },
                    [first, rest @ ..] => PathOwner {
                        owner: *first,
                        why: format!(
                            "volume {} mounted by {} and {} other container(s): {}",
                            s(name),
                            self.label(*first),
                            rest.len(),
                            rest.iter()
                                .map(|x| short(&self.get(*x).id))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        known: true,
                    },
                }
            }
            [drv, b"l", link, ..] if is_driver(drv) => match self.links.get(&s(link)) {
                Some(&l) => PathOwner {
                    owner: l,
                    why: format!("short link of {}", self.label(l)),
                    known: true,
                },
                None => daemon_owner("overlay2 short link of an unknown layer"),
            },
            [drv, dir, rest @ ..] if is_driver(drv) => {
                let dir_s = s(dir);
                let base = dir_s.strip_suffix("-init").unwrap_or(&dir_s).to_string();
                if !is_hex64(base.as_bytes()) {
                    return daemon_owner("storage driver directory");
                }
                let inner = if rest.first() == Some(&b"diff".as_slice()) {
                    "/diff"
                } else {
                    ""
                };
                if let Some(&c) = self.mounts.get(&dir_s).or_else(|| self.mounts.get(&base)) {
                    let role = if dir_s.ends_with("-init") {
                        "init layer"
                    } else {
                        "r/w upper layer"
                    };
                    return PathOwner {
                        owner: c,
                        why: format!("{role} ({}{inner}) of {}", short(&dir_s), self.label(c)),
                        known: true,
                    };
                }
                if let Some(&l) = self.layers.get(&base) {
                    return PathOwner {
                        owner: l,
                        why: format!(
                            "{} of image {}",
                            if inner.is_empty() {
                                "overlay2 dir (outside diff/)"
                            } else {
                                "files (diff/)"
                            },
                            self.label(l)
                        ),
                        known: true,
                    };
                }
                if register {
                    // A layer dir whose id is in no record: a removed image
                    // layer or a removed (builder) container's mount.
                    let l = self.add(OwnerKind::Layer, &base, None, true);
                    return PathOwner {
                        owner: l,
                        why: format!(
                            "{inner} of overlay2 dir {} (in no layerdb or container record)",
                            short(&dir_s)
                        ),
                        known: false,
                    };
                }
                daemon_owner("overlay2 directory of an unknown id")
            }
            _ => daemon_owner("Docker daemon metadata"),
        }
    }

    fn container(&mut self, id: &str, why: &str, register: bool, daemon: OwnerId) -> PathOwner {
        if let Some(&c) = self.containers.get(id) {
            return PathOwner {
                owner: c,
                why: format!("{why} of {}", self.label(c)),
                known: true,
            };
        }
        if register {
            let c = self.add(OwnerKind::Container, id, None, true);
            self.containers.insert(id.to_string(), c);
            self.content_ids.entry(id.to_string()).or_insert(c);
            return PathOwner {
                owner: c,
                why: format!(
                    "{why} of container {} (in no live or rebuilt record: removed)",
                    short(id)
                ),
                known: false,
            };
        }
        PathOwner {
            owner: daemon,
            why: format!("{why} of an unknown container {}", short(id)),
            known: false,
        }
    }

    /// Rule 3: owners whose ids (64 hex digits) occur in `content`, with
    /// the number of mentions, most mentioned first.
    pub fn ids_in_content(&self, content: &[u8]) -> Vec<(OwnerId, usize, String)> {
        let b = &content[..content.len().min(MAX_CONTENT_SCAN)];
        let mut hits: HashMap<OwnerId, (usize, String)> = HashMap::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            if i - start == 64 {
                let id = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
                if let Some(&o) = self.content_ids.get(&id) {
                    let e = hits.entry(o).or_insert((0, id));
                    e.0 += 1;
                }
            }
        }
        let mut v: Vec<(OwnerId, usize, String)> =
            hits.into_iter().map(|(o, (n, id))| (o, n, id)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// First 12 characters of an id (whole string when shorter).
pub fn short(s: &str) -> &str {
    crate::docker::fsutil::short(s, 12)
}

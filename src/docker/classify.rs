//! `whiteout deleted` by container: which container or image layer a
//! deleted file belonged to, and its path inside the container.
//!
//! Whiteouts and opaque directories are live files: they are no deleted
//! candidates, and `deleted` lists them from [`super::deletions`].

use super::removed::{place, Place, RemovedContainer};
use super::DockerHost;
use crate::recover::{CandidateKind, DeletedCandidate, NameSource};
use serde::Serialize;
use std::collections::HashMap;

/// What a deleted row is, by where it lived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeletedKind {
    /// A file of a container's writable layer (`<mount id>/diff/`, or the
    /// `-init` layer's `diff/`).
    RwDeleted,
    /// A file of an image layer's `diff/`.
    ImageDeleted,
    /// The runtime's own bookkeeping about a container or layer: the
    /// daemon's rewritten `config.v2.json` / `hostconfig.json` and their
    /// `.tmp-*` files under `containers/<id>/`, the layer dir's `link`,
    /// `lower`, `committed`, `work/` and `merged/` entries, layerdb
    /// mounts and the containerd task bundle.
    RuntimeMetadata,
    /// A host file outside any container or layer.
    HostDeleted,
    /// No name survives, or the path does not reach the root.
    Orphan,
    /// A whiteout in a container's upper layer: the file was deleted
    /// inside the container (the original is in a lower layer).
    Whiteout,
    /// An opaque directory: everything below it in the lower layers was
    /// deleted inside the container.
    Opaque,
}

impl DeletedKind {
    pub const ALL: [DeletedKind; 7] = [
        DeletedKind::RwDeleted,
        DeletedKind::ImageDeleted,
        DeletedKind::RuntimeMetadata,
        DeletedKind::HostDeleted,
        DeletedKind::Orphan,
        DeletedKind::Whiteout,
        DeletedKind::Opaque,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DeletedKind::RwDeleted => "rw-deleted",
            DeletedKind::ImageDeleted => "image-deleted",
            DeletedKind::RuntimeMetadata => "runtime-metadata",
            DeletedKind::HostDeleted => "host-deleted",
            DeletedKind::Orphan => "orphan",
            DeletedKind::Whiteout => "whiteout",
            DeletedKind::Opaque => "opaque",
        }
    }
    pub fn parse(s: &str) -> Option<DeletedKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for DeletedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classification of one deleted candidate.
#[derive(Clone, Debug, Serialize)]
pub struct Classification {
    pub kind: DeletedKind,
    /// In-container path for files of a container or image layer's
    /// `diff/`; `None` when it is the host path (the candidate's own path,
    /// not copied: two copies per candidate were 75 MB at 400k
    /// candidates).
    #[serde(skip)]
    pub inner_path: Option<Vec<u8>>,
    /// Container id (live or removed).
    pub container: Option<String>,
    /// Image layer cache id (image-deleted only).
    pub layer: Option<String>,
    /// The container is a removed one.
    pub container_removed: bool,
}

impl Classification {
    /// The path inside the container or layer, else the host path of `c`
    /// (the candidate this classifies).
    pub fn path<'a>(&'a self, c: &'a DeletedCandidate) -> &'a [u8] {
        self.inner_path.as_deref().unwrap_or(&c.path)
    }
}

/// The classification of every candidate: stored when there is a Docker
/// root; without one each is [`plain`], made when asked (an array of them
/// was 38 MB at 400k candidates).
pub struct Classes<'a> {
    cands: &'a [DeletedCandidate],
    list: Vec<Classification>,
}

impl<'a> Classes<'a> {
    /// `docker`: the host and its removed containers, if it has a root.
    pub fn new(
        docker: Option<(&DockerHost, &[RemovedContainer])>,
        cands: &'a [DeletedCandidate],
    ) -> Classes<'a> {
        let list = match docker {
            Some((host, removed)) if !host.roots.is_empty() => {
                classify_deleted(host, removed, cands)
            }
            _ => Vec::new(),
        };
        Classes { cands, list }
    }

    /// Candidate `i`'s classification.
    pub fn get(&self, i: usize) -> Option<std::borrow::Cow<'_, Classification>> {
        if self.list.is_empty() {
            return self.cands.get(i).map(|c| std::borrow::Cow::Owned(plain(c)));
        }
        self.list.get(i).map(std::borrow::Cow::Borrowed)
    }

    pub fn len(&self) -> usize {
        if self.list.is_empty() {
            self.cands.len()
        } else {
            self.list.len().min(self.cands.len())
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Classify without Docker knowledge: `orphan` or `host-deleted`.
pub fn plain(c: &DeletedCandidate) -> Classification {
    Classification {
        kind: if is_orphan(c) {
            DeletedKind::Orphan
        } else {
            DeletedKind::HostDeleted
        },
        inner_path: None,
        container: None,
        layer: None,
        container_removed: false,
    }
}

fn is_orphan(c: &DeletedCandidate) -> bool {
    c.kind == CandidateKind::Orphan
        || c.name_source == NameSource::None
        || c.path.starts_with(b"$Orphan")
}

fn diff_path(rest: &[u8]) -> Option<Vec<u8>> {
    let r = rest.strip_prefix(b"diff".as_slice())?;
    if r.is_empty() {
        return Some(b"/".to_vec());
    }
    r.strip_prefix(b"/").map(|p| {
        let mut v = b"/".to_vec();
        v.extend_from_slice(p);
        v
    })
}

/// Classify every candidate (same order as `cands`).
pub fn classify_deleted(
    host: &DockerHost,
    removed: &[RemovedContainer],
    cands: &[DeletedCandidate],
) -> Vec<Classification> {
    // Per root: container ids, mount dir -> container, cache id -> layer.
    struct RootIdx<'a> {
        root: &'a [u8],
        drivers: Vec<String>,
        ids: HashMap<&'a str, bool>,
        mounts: HashMap<&'a str, (&'a str, bool)>,
        layers: HashMap<&'a str, ()>,
    }
    let mut roots: Vec<RootIdx> = Vec::new();
    for r in &host.roots {
        let mut idx = RootIdx {
            root: &r.path,
            drivers: if r.drivers.is_empty() {
                vec!["overlay2".into()]
            } else {
                r.drivers.clone()
            },
            ids: HashMap::new(),
            mounts: HashMap::new(),
            layers: HashMap::new(),
        };
        let all = host
            .containers
            .iter()
            .map(|c| (c, false))
            .chain(removed.iter().map(|r| (&r.container, true)));
        for (c, rm) in all.filter(|(c, _)| c.root == r.path) {
            if !c.id.is_empty() {
                idx.ids.insert(&c.id, rm);
            }
            for m in c.mount_id.iter().chain(c.init_id.iter()) {
                idx.mounts.insert(m, (&c.id, rm));
            }
            if let Some(m) = &c.mount_id {
                // The init dir is `<mount-id>-init` even when init-id is lost.
                idx.mounts.entry(m).or_insert((&c.id, rm));
            }
        }
        for l in host.layers.iter().filter(|l| l.root == r.path) {
            if let Some(cid) = &l.cache_id {
                idx.layers.insert(cid, ());
            }
        }
        roots.push(idx);
    }
    cands
        .iter()
        .map(|c| {
            let mut out = plain(c);
            if out.kind == DeletedKind::Orphan {
                return out;
            }
            for r in &roots {
                let Some(p) = place(r.root, &r.drivers, &c.path) else {
                    continue;
                };
                match p {
                    Place::ContainerDir { id, .. }
                    | Place::LayerdbMount { id, .. }
                    | Place::TaskBundle { id, .. } => {
                        out.kind = DeletedKind::RuntimeMetadata;
                        let id = String::from_utf8_lossy(id);
                        if let Some(rm) = r.ids.get(id.as_ref()) {
                            out.container = Some(id.into_owned());
                            out.container_removed = *rm;
                        }
                    }
                    Place::LayerDir { dir, rest } => {
                        let dir_s = String::from_utf8_lossy(dir);
                        let base = dir_s.strip_suffix("-init").unwrap_or(&dir_s);
                        let owner = r.mounts.get(dir_s.as_ref()).or_else(|| r.mounts.get(base));
                        let inner = diff_path(rest).filter(|p| p.as_slice() != b"/");
                        if let Some((id, rm)) = owner {
                            out.kind = match inner {
                                Some(_) => DeletedKind::RwDeleted,
                                None => DeletedKind::RuntimeMetadata,
                            };
                            out.container = (!id.is_empty()).then(|| id.to_string());
                            out.container_removed = *rm;
                            out.inner_path = inner;
                        } else if r.layers.contains_key(dir_s.as_ref()) {
                            out.kind = match inner {
                                Some(_) => DeletedKind::ImageDeleted,
                                None => DeletedKind::RuntimeMetadata,
                            };
                            out.layer = Some(dir_s.into_owned());
                            out.inner_path = inner;
                        } else {
                            // A layer dir of no known container or image
                            // (a removed build step): its bookkeeping is
                            // still the runtime's.
                            if inner.is_none() {
                                out.kind = DeletedKind::RuntimeMetadata;
                            }
                        }
                    }
                }
                break;
            }
            out
        })
        .collect()
}

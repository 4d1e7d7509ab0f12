//! `whiteout deleted` by container: which container or image layer a
//! deleted file belonged to, and its path inside the container.
//!
//! Whiteouts and opaque directories are live files, listed by
//! `ls --container --deleted`; they never appear among deleted candidates.

use super::removed::{place, Place, RemovedContainer};
use super::DockerHost;
use crate::recover::{CandidateKind, DeletedCandidate, NameSource};
use serde::Serialize;
use std::collections::HashMap;

/// The classification of one deleted candidate.
#[derive(Clone, Debug, Serialize)]
pub struct Classification {
    /// `rw-deleted`, `image-deleted`, `host-deleted` or `orphan`.
    pub kind: &'static str,
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
            "orphan"
        } else {
            "host-deleted"
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
            if out.kind == "orphan" {
                return out;
            }
            for r in &roots {
                let Some(p) = place(r.root, &r.drivers, &c.path) else {
                    continue;
                };
                match p {
                    Place::ContainerDir { id, .. } => {
                        let id = String::from_utf8_lossy(id);
                        if let Some(rm) = r.ids.get(id.as_ref()) {
                            out.kind = "rw-deleted";
                            out.container = Some(id.into_owned());
                            out.container_removed = *rm;
                        }
                    }
                    Place::LayerdbMount { id, .. } => {
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
                        if let Some((id, rm)) = owner {
                            out.kind = "rw-deleted";
                            out.container = (!id.is_empty()).then(|| id.to_string());
                            out.container_removed = *rm;
                            if let Some(p) = diff_path(rest) {
                                out.inner_path = Some(p);
                            }
                        } else if r.layers.contains_key(dir_s.as_ref()) {
                            out.kind = "image-deleted";
                            out.layer = Some(dir_s.into_owned());
                            if let Some(p) = diff_path(rest) {
                                out.inner_path = Some(p);
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

//! `whoowns`: attribute a host path or inode to a Docker root, layer,
//! image(s) and container(s), and say whether each container sees it.

use super::containers::Container;
use super::fsutil::lossy;
use super::overlay::{Lookup, MergedView};
use super::DockerHost;
use crate::ext4::inode::ROOT_INO;
use crate::ext4::Filesystem;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct ImageRef {
    pub id: String,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ContainerUse {
    pub id: String,
    pub name: Option<String>,
    /// `upper`, `init` or `image`.
    pub role: &'static str,
    /// `visible`, `shadowed` (an upper layer provides another version),
    /// `deleted` (a whiteout or opaque dir hides it), `absent`.
    pub state: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ownership {
    pub host_path: String,
    pub inode: Option<u32>,
    pub root: Option<String>,
    /// `layer`, `container-upper`, `container-init`, `container-metadata`,
    /// `image-metadata`, `docker-root`, or `host`.
    pub area: &'static str,
    pub layer_id: Option<String>,
    pub chain_ids: Vec<String>,
    /// Path inside the layer / container.
    pub path_in_layer: Option<String>,
    pub images: Vec<ImageRef>,
    pub containers: Vec<ContainerUse>,
}

/// Host paths of an inode (hard links give several), by a full walk.
pub fn paths_of_inode(fs: &Filesystem, ino: u32, max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let _ = fs.walk(ROOT_INO, b"", &mut |w| {
        if w.entry.inode == ino && out.len() < max {
            out.push(w.path.to_vec());
        }
    });
    out
}

/// Attribute one host path.
pub fn who_owns(fs: &Filesystem, host: &DockerHost, path: &[u8], inode: Option<u32>) -> Ownership {
    let p = lossy(path);
    let mut o = Ownership {
        host_path: p.clone(),
        inode,
        root: None,
        area: "host",
        layer_id: None,
        chain_ids: Vec::new(),
        path_in_layer: None,
        images: Vec::new(),
        containers: Vec::new(),
    };
    for r in &host.roots {
        let rp = lossy(&r.path);
        // containerd snapshots may live outside the root (/var/lib/containerd).
        let snap = r.containerd_store.as_ref().and_then(|b| {
            let pre = format!(
                "{}/io.containerd.snapshotter.v1.overlayfs/snapshots/",
                lossy(b).trim_end_matches('/')
            );
            p.strip_prefix(&pre).map(|x| format!("\0snapshots/{x}"))
        });
        let rest: String = match snap {
            Some(x) => x,
            None => match p.strip_prefix(&format!("{}/", rp.trim_end_matches('/'))) {
                Some(x) => x.to_string(),
                None => continue,
            },
        };
        o.root = Some(rp.clone());
        o.area = "docker-root";
        let comps: Vec<&str> = rest.split('/').collect();
        let (layer_id, inner) = match comps.as_slice() {
            ["overlay2", id, "diff", tail @ ..] => (Some(id.to_string()), tail.join("/")),
            ["overlay", id, "root" | "upper", tail @ ..] => (Some(id.to_string()), tail.join("/")),
            ["aufs", "diff", id, tail @ ..] => (Some(id.to_string()), tail.join("/")),
            ["\0snapshots", id, "fs", tail @ ..] => (Some(id.to_string()), tail.join("/")),
            ["containers", id, ..] => {
                o.area = "container-metadata";
                if let Some(c) = host
                    .containers
                    .iter()
                    .find(|c| c.id == *id && c.root == r.path)
                {
                    o.containers.push(ContainerUse {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        role: "metadata",
                        state: "n/a".into(),
                    });
                }
                (None, String::new())
            }
            ["image", ..] => {
                o.area = "image-metadata";
                (None, String::new())
            }
            _ => (None, String::new()),
        };
        let Some(lid) = layer_id else { break };
        let inner_path = format!("/{inner}");
        o.layer_id = Some(lid.clone());
        o.path_in_layer = Some(inner_path.clone());
        let layers: Vec<_> = host
            .layers
            .iter()
            .filter(|l| l.root == r.path && l.cache_id.as_deref() == Some(lid.as_str()))
            .collect();
        o.area = if !layers.is_empty() {
            "layer"
        } else if lid.ends_with("-init") {
            "container-init"
        } else {
            "container-upper"
        };
        for l in &layers {
            o.chain_ids.push(l.chain_id.clone());
            for id in &l.images {
                if !o.images.iter().any(|x| &x.id == id) {
                    let tags = host
                        .images
                        .iter()
                        .find(|i| &i.id == id)
                        .map(|i| i.tags.clone())
                        .unwrap_or_default();
                    o.images.push(ImageRef {
                        id: id.clone(),
                        tags,
                    });
                }
            }
        }
        for c in host.containers.iter().filter(|c| c.root == r.path) {
            let Some(idx) = c.layers.iter().position(|l| l.id == lid) else {
                continue;
            };
            o.containers.push(ContainerUse {
                id: c.id.clone(),
                name: c.name.clone(),
                role: c.layers[idx].role.as_str(),
                state: visibility(fs, c, idx, &inner_path, inode),
            });
        }
        break;
    }
    o
}

fn visibility(
    fs: &Filesystem,
    c: &Container,
    idx: usize,
    inner: &str,
    inode: Option<u32>,
) -> String {
    let view = MergedView::new(
        fs,
        super::LayerStack {
            layers: c.layers.clone(),
            source: String::new(),
            warnings: Vec::new(),
        },
    );
    match view.lookup(inner.as_bytes(), false) {
        Ok(Lookup::Found(e)) => {
            if e.layer == idx
                || e.parts
                    .iter()
                    .any(|&(l, i)| l == idx && inode.is_none_or(|n| n == i))
            {
                "visible".into()
            } else {
                format!(
                    "shadowed by layer {} ({})",
                    e.layer,
                    view.layer_label(e.layer)
                )
            }
        }
        Ok(Lookup::Deleted(w)) => {
            if w.layer < idx {
                format!(
                    "deleted in container view ({} in layer {})",
                    w.kind,
                    view.layer_label(w.layer)
                )
            } else {
                format!("the path is a {} mark in this layer", w.kind)
            }
        }
        Ok(Lookup::Missing) => "absent".into(),
        Err(e) => format!("unknown ({e})"),
    }
}

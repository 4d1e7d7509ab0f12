//! Deletions made inside a container that leave no deleted inode: the
//! whiteouts and opaque directories of its writable layer, each with the
//! lower originals it hides (docs/design.md, "Whiteouts"). They are rows
//! of `deleted` beside the deleted files.

use super::containers::Container;
use super::overlay::{layer_marks, Lookup, MergedView, Whiteout};
use super::DockerHost;
use crate::ext4::Filesystem;

/// One container-level deletion.
#[derive(Clone, Debug)]
pub struct ContainerDeletion {
    pub container: String,
    pub container_name: Option<String>,
    /// The mark, with its layer and the hidden originals.
    pub mark: Whiteout,
    /// Host path of the mark in the upper layer.
    pub host_path: Vec<u8>,
}

/// Whiteouts and opaque directories at most listed per container (a
/// hostile layer could hold millions of marks).
const MAX_MARKS: usize = 100_000;

/// Every whiteout and opaque directory of the writable layer of each
/// container of `host`, in container order, then path order.
pub fn container_deletions(fs: &Filesystem, host: &DockerHost) -> Vec<ContainerDeletion> {
    let mut out = Vec::new();
    for c in &host.containers {
        out.extend(of_container(fs, host, c));
    }
    out
}

fn of_container(fs: &Filesystem, host: &DockerHost, c: &Container) -> Vec<ContainerDeletion> {
    let view = MergedView::of_container(fs, host, c);
    let Some((upper, layer)) = view
        .stack
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.role == super::overlay::LayerRole::Upper)
        .and_then(|(i, l)| Some((l.inode?, i)))
    else {
        return Vec::new();
    };
    let format = view.stack.layers[layer].format;
    let marks = layer_marks(fs, upper, format);
    let mut out = Vec::new();
    let row = |mark: Whiteout| ContainerDeletion {
        container: c.id.clone(),
        container_name: c.name.clone(),
        host_path: join(&view.stack.layers[layer].dir, &mark.path),
        mark,
    };
    for p in marks.whiteouts.iter().take(MAX_MARKS) {
        if let Ok(Lookup::Deleted(w)) = view.lookup(p.as_bytes(), false) {
            if w.layer == layer {
                out.push(row(w));
            }
        }
    }
    for p in marks.opaque_dirs.iter().take(MAX_MARKS) {
        let Ok(Lookup::Found(dir)) = view.lookup(p.as_bytes(), false) else {
            continue;
        };
        let hidden = view.opaque_hidden(&dir);
        let Some(first) = hidden.first() else {
            continue;
        };
        let mut w = first.clone();
        w.path = p.as_bytes().to_vec();
        w.hidden = hidden.into_iter().flat_map(|h| h.hidden).collect();
        out.push(row(w));
    }
    out
}

fn join(dir: &[u8], path: &[u8]) -> Vec<u8> {
    let mut v = dir.to_vec();
    if path != b"/" {
        if !path.starts_with(b"/") {
            v.push(b'/');
        }
        v.extend_from_slice(path);
    }
    v
}

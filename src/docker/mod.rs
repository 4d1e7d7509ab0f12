//! Layer 4: Docker on disk, rebuilt from the ext4 reader alone (no mount,
//! no daemon). Formats: docs/design.md ("Docker's layout").
//!
//! - [`roots`]: every Docker root on the filesystem and how it was found;
//! - [`images`]: `repositories.json`, imagedb configs, the layerdb chain;
//! - [`tarsplit`]: layer integrity against `tar-split.json.gz`;
//! - [`containers`]: `config.v2.json` + `hostconfig.json`, layerdb mounts;
//! - [`logs`]: json-file (rotated, gzip) and local-driver logs;
//! - [`overlay`]: the layer stack of a container and its merged view;
//! - [`removed`]: containers removed by `docker rm`, from deleted evidence;
//! - [`classify`]: `deleted` candidates by container and layer;
//! - [`findings`]: host and container findings with severity and evidence;
//! - [`tar`]: a deterministic tar writer for `export`.
//!
//! Everything read here is evidence from a possibly compromised host:
//! reads are capped, loops and recursion are bounded, and damage degrades
//! to partial results with warnings naming what was skipped.

pub mod base64;
pub mod bolt;
pub mod build;
pub mod classify;
pub mod containerd;
pub mod containers;
pub mod deletions;
pub mod export;
pub mod findings;
pub mod fsutil;
pub mod images;
mod listing_cache;
pub mod logs;
pub mod overlay;
pub mod owner;
pub mod removed;
pub mod roots;
pub mod tar;
pub mod tarsplit;

pub use containers::Container;
pub use findings::{Finding, Severity};
pub use images::{Image, ImageConfig, Layer};
pub use overlay::{LayerStack, MergedView, StackLayer, Whiteout};
pub use roots::DockerRoot;

use crate::ext4::Filesystem;
use serde::Serialize;

/// Everything rebuilt from one filesystem.
#[derive(Debug, Serialize)]
pub struct DockerHost {
    pub roots: Vec<DockerRoot>,
    pub images: Vec<Image>,
    pub layers: Vec<Layer>,
    pub containers: Vec<Container>,
    pub warnings: Vec<String>,
}

impl DockerHost {
    /// Find every root and load its images, layers and containers.
    /// Layer integrity (tar-split) is not computed here: it reads every
    /// layer file; see [`tarsplit::verify_layer`].
    pub fn load(fs: &Filesystem) -> DockerHost {
        let mut warnings = Vec::new();
        let roots = roots::find_roots(fs, &mut warnings);
        let mut images = Vec::new();
        let mut layers = Vec::new();
        let mut containers = Vec::new();
        for r in &roots {
            let store = images::load_store(fs, r, &mut warnings);
            images.extend(store.images);
            layers.extend(store.layers);
        }
        for r in &roots {
            containers.extend(containers::load_containers(
                fs,
                r,
                &images,
                &layers,
                &mut warnings,
            ));
        }
        DockerHost {
            roots,
            images,
            layers,
            containers,
            warnings,
        }
    }

    /// A container by full id, unique id prefix or name (with or without
    /// the leading `/`).
    pub fn find_container(&self, key: &str) -> crate::Result<&Container> {
        let key = key.trim();
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(c) = self
            .containers
            .iter()
            .find(|c| c.id == key || c.name.as_deref() == Some(name))
        {
            return Ok(c);
        }
        let hits: Vec<&Container> = if key.len() >= 2 && key.bytes().all(|b| b.is_ascii_hexdigit())
        {
            self.containers
                .iter()
                .filter(|c| c.id.starts_with(key))
                .collect()
        } else {
            Vec::new()
        };
        match hits.len() {
            1 => Ok(hits[0]),
            0 => Err(crate::Error::NotFound(format!(
                "no container with id, id prefix or name {key:?}"
            ))),
            n => Err(crate::Error::usage(format!(
                "{key:?} is ambiguous: {n} containers have ids starting with it"
            ))),
        }
    }

    /// The image with this id (`sha256:...`), a unique prefix, or a tag.
    pub fn find_image(&self, key: &str) -> Option<&Image> {
        let bare = key.strip_prefix("sha256:").unwrap_or(key);
        self.images
            .iter()
            .find(|i| i.id == key || i.tags.iter().any(|t| t == key))
            .or_else(|| {
                let hits: Vec<&Image> = self
                    .images
                    .iter()
                    .filter(|i| bare.len() >= 4 && i.id_hex().starts_with(bare))
                    .collect();
                if hits.len() == 1 {
                    Some(hits[0])
                } else {
                    None
                }
            })
    }

    /// The layer with this chain id in the given root.
    pub fn layer(&self, root: &[u8], chain_id: &str) -> Option<&Layer> {
        self.layers
            .iter()
            .find(|l| l.root == root && l.chain_id == chain_id)
    }
}

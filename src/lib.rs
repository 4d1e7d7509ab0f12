//! whiteout: a read-only forensic reader for ext4 Docker hosts.
//!
//! Layers, each importing only from the ones above it in this list:
//! [`util`] (shared helpers) → [`image`] (raw bytes, segments, partitions)
//! → [`ext4`] (on-disk structures) → `recover` → `docker` → `attribute`
//! → `report` → [`cli`].
#![forbid(unsafe_code)]

pub mod attribute;
pub mod cli;
pub mod docker;
pub mod error;
pub mod ext4;
pub mod image;
pub mod recover;
pub mod report;
pub mod util;

pub use error::{Error, Result};

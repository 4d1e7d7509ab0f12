//! Layer 6: everything whiteout writes. Output files are created only
//! through [`extract::SafeDir`], which keeps every write inside the
//! output directory.
//!
//! - [`recovered`]: recovered files and their manifest (`recover`, `scan`);
//! - [`hashing`]: MD5/SHA-1/SHA-256 of the evidence in one read pass;
//! - [`scan`]: one image, all analyses, every report file;
//! - [`bodyfile`], [`timeline`], [`html`]: the report formats;
//! - [`index`]: the evidence-store summary over many reports.

pub mod bodyfile;
pub mod carved;
pub mod extract;
pub mod hashing;
pub mod html;
pub mod index;
pub mod recovered;
pub mod scan;
pub mod timeline;

//! Layer 6: everything whiteout writes. Output files are created only
//! through [`extract::SafeDir`], which keeps every write inside the
//! output directory.

pub mod extract;

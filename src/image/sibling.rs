//! Files that an evidence container names (qcow2 backing files, VMDK
//! extents) are looked for in the evidence's own directory, never
//! elsewhere: a name is data from the evidence, and may lie.

use crate::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// How a recorded name that is absolute or climbs (`..`) is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outside {
    /// Refused with an error (VMDK extents: the descriptor is the layout).
    Refuse,
    /// Looked for by its file name next to the image (qcow2 backing files
    /// record the absolute path on the machine that made them).
    ByFileName,
}

/// Resolve `recorded` (as written in `image`) to a file inside the
/// directory of `image`, following symlinks no further out.
pub fn resolve(image: &Path, recorded: &str, what: &str, outside: Outside) -> Result<PathBuf> {
    let dir = image.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let rec = Path::new(recorded);
    let climbs = rec.components().any(|c| !matches!(c, Component::Normal(_)));
    let candidate = if recorded.is_empty() || recorded.contains('\0') {
        return Err(Error::corrupt(format!("{what}: empty or invalid name")));
    } else if !climbs {
        dir.join(rec)
    } else if outside == Outside::ByFileName {
        match rec.file_name() {
            Some(n) => dir.join(n),
            None => return Err(Error::corrupt(format!("{what} '{recorded}': no file name"))),
        }
    } else {
        return Err(Error::usage(format!(
            "{what} '{recorded}' is outside the evidence directory; refused"
        )));
    };
    let canon_dir = dir
        .canonicalize()
        .map_err(|e| Error::usage(format!("{}: {e}", dir.display())))?;
    let canon = candidate.canonicalize().map_err(|_| {
        Error::usage(format!(
            "{what} '{recorded}' not found (looked for {})",
            candidate.display()
        ))
    })?;
    if !canon.starts_with(&canon_dir) {
        return Err(Error::usage(format!(
            "{what} '{recorded}' resolves outside the evidence directory; refused"
        )));
    }
    Ok(canon)
}

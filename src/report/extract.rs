//! Safe extraction: names from a hostile image become paths under an
//! output directory without `..`, absolute paths, control characters,
//! symlink following, device nodes or setuid bits.
//!
//! The one module that creates files (clippy.toml's disallowed methods are
//! allowed here): only under the output directory, never beside evidence.
#![allow(clippy::disallowed_methods)]

use crate::util::bytes::hex;
use crate::{Error, Result};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Longest component written (bytes); longer names are cut and suffixed
/// with a hash so they stay unique.
const MAX_COMPONENT: usize = 200;
/// Deepest nesting written.
const MAX_DEPTH: usize = 256;

/// An output directory that only ever grows inside itself.
pub struct SafeDir {
    root: PathBuf,
}

/// Turn one raw name into a safe path component.
pub fn safe_component(name: &[u8]) -> String {
    let mut s = String::new();
    for chunk in name.utf8_chunks() {
        for ch in chunk.valid().chars() {
            let c = ch as u32;
            if c < 0x20 || c == 0x7f || ch == '/' || ch == '\\' || (0x80..0xa0).contains(&c) {
                s.push_str(&format!("%{c:02x}"));
            } else if ch == '%' {
                s.push_str("%25");
            } else {
                s.push(ch);
            }
        }
        for &b in chunk.invalid() {
            s.push_str(&format!("%{b:02x}"));
        }
    }
    if s.is_empty() || s == "." || s == ".." {
        s = s.replace('.', "%2e");
        if s.is_empty() {
            s = "%00".into();
        }
    }
    if s.len() > MAX_COMPONENT {
        use sha2::Digest;
        let h = hex(&sha2::Sha256::digest(name)[..6]);
        // "…" is 3 bytes, the hash 12: the result stays within MAX_COMPONENT.
        let mut cut = MAX_COMPONENT - 15;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s = format!("{}…{h}", &s[..cut]);
    }
    s
}

impl SafeDir {
    /// Create (or reuse) `root`. It must not be a symlink, and must not be
    /// the directory that holds the evidence.
    pub fn create(root: &Path, evidence: &[&Path]) -> Result<SafeDir> {
        if let Ok(m) = fs::symlink_metadata(root) {
            if m.file_type().is_symlink() {
                return Err(Error::usage(format!(
                    "{} is a symlink; refusing to write through it",
                    root.display()
                )));
            }
            if !m.is_dir() {
                return Err(Error::usage(format!(
                    "{} exists and is not a directory",
                    root.display()
                )));
            }
        } else {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(root)
                .map_err(|e| Error::usage(format!("cannot create {}: {e}", root.display())))?;
        }
        let canon = fs::canonicalize(root)
            .map_err(|e| Error::io(format!("resolving {}", root.display()), e))?;
        for ev in evidence {
            if let Some(dir) = fs::canonicalize(ev)
                .ok()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()))
            {
                if dir == canon {
                    return Err(Error::usage(format!(
                        "{} holds the evidence; write the output elsewhere (evidence stays read-only and nothing is written beside it)",
                        root.display()
                    )));
                }
            }
        }
        Ok(SafeDir { root: canon })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The safe relative path for raw path bytes (`/a/b` or `a/b`).
    pub fn relative(raw: &[u8]) -> PathBuf {
        let mut p = PathBuf::new();
        for c in raw
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .take(MAX_DEPTH)
        {
            p.push(safe_component(c));
        }
        if p.as_os_str().is_empty() {
            p.push("%00");
        }
        p
    }

    /// Create the directories of `rel` one by one, refusing any existing
    /// component that is not a real directory.
    fn make_parents(&self, rel: &Path) -> Result<PathBuf> {
        let mut cur = self.root.clone();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                cur.push(c);
                match fs::symlink_metadata(&cur) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(Error::usage(format!(
                            "{} exists and is not a directory",
                            cur.display()
                        )))
                    }
                    Err(_) => fs::DirBuilder::new()
                        .mode(0o755)
                        .create(&cur)
                        .map_err(|e| Error::io(format!("creating {}", cur.display()), e))?,
                }
            }
        }
        Ok(cur)
    }

    /// Create a directory at `rel`.
    pub fn mkdir(&self, rel: &Path) -> Result<PathBuf> {
        let parent = self.make_parents(rel)?;
        let p = parent.join(rel.file_name().unwrap_or_default());
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => Ok(p),
            Ok(_) => Err(Error::usage(format!(
                "{} exists and is not a directory",
                p.display()
            ))),
            Err(_) => {
                fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&p)
                    .map_err(|e| Error::io(format!("creating {}", p.display()), e))?;
                Ok(p)
            }
        }
    }

    /// Create a new regular file at `rel` (never replacing anything: a
    /// taken name gets a `.N` suffix), mode 0644, and let `f` fill it.
    /// Returns the path written, relative to the root.
    pub fn write_file(
        &self,
        rel: &Path,
        f: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
    ) -> Result<PathBuf> {
        let parent = self.make_parents(rel)?;
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "%00".into());
        for n in 0..10_000u32 {
            let cand = if n == 0 {
                name.clone()
            } else {
                format!("{name}.{n}")
            };
            let p = parent.join(&cand);
            // create_new + O_NOFOLLOW: never follows a planted symlink and
            // never truncates an existing file.
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .custom_flags(O_NOFOLLOW)
                .open(&p);
            match file {
                Ok(file) => {
                    let mut w = std::io::BufWriter::new(file);
                    f(&mut w)?;
                    w.flush()
                        .map_err(|e| Error::io(format!("writing {}", p.display()), e))?;
                    return Ok(p.strip_prefix(&self.root).unwrap_or(&p).to_path_buf());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(format!("creating {}", p.display()), e)),
            }
        }
        Err(Error::usage(format!("too many files named {name}")))
    }

    /// A private scratch file for overflow output: created new in the
    /// root (never an existing name, never through a symlink) and unlinked
    /// at once, so nothing is left behind even if the scan is killed
    /// after this returns.
    pub fn scratch_file(&self, tag: usize) -> std::io::Result<fs::File> {
        for k in 0..100u32 {
            let p = self.root.join(format!(
                ".whiteout-scratch-{}-{tag}-{k}",
                std::process::id()
            ));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(O_NOFOLLOW)
                .open(&p)
            {
                Ok(f) => {
                    fs::remove_file(&p)?;
                    return Ok(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free scratch file name"))
    }

    /// Append-only file at the root (manifests, logs).
    pub fn create_root_file(&self, name: &str) -> Result<std::io::BufWriter<fs::File>> {
        self.create_root_file_sized(name, 8 << 10)
    }

    /// [`create_root_file`](Self::create_root_file) with a `cap`-byte
    /// buffer: the timeline alone is GBs, written a buffer per syscall.
    pub fn create_root_file_sized(
        &self,
        name: &str,
        cap: usize,
    ) -> Result<std::io::BufWriter<fs::File>> {
        let p = self.root.join(safe_component(name.as_bytes()));
        if let Ok(m) = fs::symlink_metadata(&p) {
            if m.file_type().is_symlink() {
                return Err(Error::usage(format!(
                    "{} is a symlink; refusing",
                    p.display()
                )));
            }
        }
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(O_NOFOLLOW)
            .open(&p)
            .map_err(|e| Error::io(format!("creating {}", p.display()), e))?;
        Ok(std::io::BufWriter::with_capacity(cap, f))
    }
}

/// Create (or truncate) a single output file chosen by the user, such as an
/// export tar. Refuses a symlink, the evidence itself, and the directory
/// that holds the evidence.
pub fn create_output_file(path: &Path, evidence: &[&Path]) -> Result<std::io::BufWriter<fs::File>> {
    if let Ok(m) = fs::symlink_metadata(path) {
        if m.file_type().is_symlink() {
            return Err(Error::usage(format!(
                "{} is a symlink; refusing to write through it",
                path.display()
            )));
        }
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let pdir = fs::canonicalize(&parent)
        .map_err(|e| Error::usage(format!("cannot write to {}: {e}", parent.display())))?;
    for ev in evidence {
        let Ok(evc) = fs::canonicalize(ev) else {
            continue;
        };
        if fs::canonicalize(path).ok().as_ref() == Some(&evc) {
            return Err(Error::usage(format!(
                "refusing to overwrite the evidence image {}",
                ev.display()
            )));
        }
        if evc.parent() == Some(pdir.as_path()) {
            return Err(Error::usage(format!(
                "{} is beside the evidence; write the output elsewhere (nothing is written beside the evidence)",
                path.display()
            )));
        }
    }
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, f))
}

use crate::util::O_NOFOLLOW;

/// Simple glob: `*` (not `/`), `**` (anything), `?` (one byte).
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    fn m(p: &[u8], s: &[u8], budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = &p[2..];
                (0..=s.len()).any(|i| m(rest, &s[i..], budget))
            }
            Some(b'*') => {
                let rest = &p[1..];
                for i in 0..=s.len() {
                    if m(rest, &s[i..], budget) {
                        return true;
                    }
                    if i < s.len() && s[i] == b'/' {
                        break;
                    }
                }
                false
            }
            Some(b'?') => !s.is_empty() && s[0] != b'/' && m(&p[1..], &s[1..], budget),
            Some(&c) => s.first() == Some(&c) && m(&p[1..], &s[1..], budget),
        }
    }
    let mut budget = 1_000_000;
    m(pat, s, &mut budget)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn components_are_safe() {
        assert_eq!(safe_component(b".."), "%2e%2e");
        assert_eq!(safe_component(b"."), "%2e");
        assert_eq!(safe_component(b"a/b"), "a%2fb");
        assert_eq!(safe_component(b"x\x1b[31m"), "x%1b[31m");
        assert_eq!(safe_component(b"caf\xe9"), "caf%e9");
        assert_eq!(safe_component(b""), "%00");
        assert!(safe_component(&[b'x'; 300]).len() <= MAX_COMPONENT + 3);
        assert_eq!(
            SafeDir::relative(b"/../../etc/passwd"),
            PathBuf::from("%2e%2e/%2e%2e/etc/passwd")
        );
        assert!(glob_match(b"/victim/**/f1*", b"/victim/a0/b0/f10"));
        assert!(glob_match(b"/a/*.txt", b"/a/x.txt"));
        assert!(!glob_match(b"/a/*.txt", b"/a/b/x.txt"));
    }
}

//! A raw (dd) image file, opened read-only.
//!
//! The one module that opens evidence (clippy.toml's disallowed methods are
//! allowed here), with `OpenOptions::read(true)` and nothing else.
#![allow(clippy::disallowed_methods)]

use super::ReadAt;
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Linux `O_NOATIME` (asm-generic fcntl.h); not exported by std.
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "riscv64"))]
const O_NOATIME: i32 = 0o1000000;
#[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
const O_NOATIME: i32 = 0o1000000;
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "arm"
)))]
const O_NOATIME: i32 = 0;

pub struct RawFile {
    file: File,
    len: u64,
    path: PathBuf,
}

/// The only place in the crate that opens evidence. Read-only by
/// construction: `OpenOptions::read(true)` and nothing else.
pub(crate) fn open_readonly(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    if O_NOATIME != 0 {
        let mut na = OpenOptions::new();
        na.read(true).custom_flags(O_NOATIME);
        // O_NOATIME needs ownership or CAP_FOWNER; fall back silently.
        if let Ok(f) = na.open(path) {
            return Ok(f);
        }
    }
    o.open(path)
}

impl RawFile {
    pub fn open(path: &Path) -> Result<Self> {
        let file = open_readonly(path)
            .map_err(|e| Error::usage(format!("cannot open {}: {}", path.display(), e)))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format!("stat {}", path.display()), e))?;
        // Block devices report size 0 in metadata; seek to the end instead.
        let mut len = meta.len();
        if len == 0 && !meta.is_file() {
            use std::io::Seek;
            let mut f = &file;
            len = f.seek(io::SeekFrom::End(0)).unwrap_or(0);
        }
        Ok(RawFile {
            file,
            len,
            path: path.to_path_buf(),
        })
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ReadAt for RawFile {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.len - pos) as usize;
        self.file.read_at(&mut buf[..n], pos)
    }
    fn size(&self) -> u64 {
        self.len
    }
    fn next_data(&self, pos: u64) -> Option<u64> {
        if pos >= self.len {
            return None;
        }
        // lseek(SEEK_DATA) moves only the descriptor's offset, which pread
        // ignores. ENXIO: no data from `pos` to the end of the file.
        match rustix::fs::seek(&self.file, rustix::fs::SeekFrom::Data(pos)) {
            Ok(o) => (o < self.len).then_some(o.max(pos)),
            Err(rustix::io::Errno::NXIO) => None,
            // No SEEK_DATA here (old kernel, some network filesystems).
            Err(_) => Some(pos),
        }
    }
}

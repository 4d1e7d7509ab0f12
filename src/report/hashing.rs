//! Chain of custody: the evidence's size, mtime, MD5, SHA-1 and SHA-256,
//! computed in one read pass through the read-only image layer.

use crate::image::{self, Source};
use crate::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// What was hashed and the digests.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Hashes {
    /// `file` (the stored bytes, compressed or not) or `segments` (split
    /// image segments, concatenated in order).
    pub over: &'static str,
    pub bytes: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

/// Size and modification time of the evidence file as stored.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileState {
    pub size: u64,
    /// Seconds and nanoseconds since the epoch.
    pub mtime: Option<String>,
    pub segments: usize,
}

/// A progress bar on stderr, drawn only when stderr is a terminal and not
/// silenced; otherwise hidden (machine outputs never carry progress).
pub fn progress(len: u64, msg: &str, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if !quiet && std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }
    pb.set_message(msg.to_string());
    pb
}

/// A spinner for phases without a known length.
pub fn spinner(msg: &str, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if !quiet && std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    pb.set_message(msg.to_string());
    pb
}

fn stored(path: &Path) -> Result<(Source, &'static str, usize)> {
    let segs = image::evidence_files(path)?;
    if segs.len() > 1 {
        let n = segs.len();
        return Ok((Arc::new(image::SplitImage::open(&segs)?), "segments", n));
    }
    Ok((Arc::new(image::RawFile::open(path)?), "file", 1))
}

/// Size and mtime of the stored evidence (all segments).
pub fn file_state(path: &Path) -> Result<FileState> {
    let segs = image::evidence_files(path)?;
    let mut size = 0;
    let mut newest: Option<(i64, u32)> = None;
    for s in &segs {
        let m = std::fs::metadata(s)
            .map_err(|e| Error::usage(format!("cannot stat {}: {e}", s.display())))?;
        size += m.len();
        if let Ok(t) = m.modified() {
            if let Ok(d) = t.duration_since(std::time::UNIX_EPOCH) {
                let v = (d.as_secs() as i64, d.subsec_nanos());
                newest = Some(newest.map_or(v, |n| n.max(v)));
            }
        }
    }
    Ok(FileState {
        size,
        mtime: newest.map(|(s, n)| crate::util::time::Timestamp::new(s, n).rfc3339()),
        segments: segs.len(),
    })
}

/// Hash the stored evidence in one pass (all three digests per buffer).
pub fn hash_image(path: &Path, quiet: bool, label: &str) -> Result<Hashes> {
    use md5::Digest as _;
    let (src, over, _) = stored(path)?;
    let len = src.size();
    let pb = progress(len, label, quiet);
    let mut md5 = md5::Md5::new();
    let mut sha1 = sha1::Sha1::new();
    let mut sha256 = sha2::Sha256::new();
    let mut buf = vec![0u8; 4 << 20];
    let mut pos = 0u64;
    while pos < len {
        let n = src
            .read_at(pos, &mut buf)
            .map_err(|e| Error::io(format!("hashing {} at byte {pos}", path.display()), e))?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        sha1.update(&buf[..n]);
        sha256.update(&buf[..n]);
        pos += n as u64;
        pb.set_position(pos);
    }
    pb.finish_and_clear();
    let h = |d: &[u8]| crate::util::bytes::hex(d);
    Ok(Hashes {
        over,
        bytes: pos,
        md5: h(&md5.finalize()),
        sha1: h(&sha1.finalize()),
        sha256: h(&sha256.finalize()),
    })
}

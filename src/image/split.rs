//! Split raw images: `name.001, name.002, …` (also `.000` first) and
//! `name.aa, name.ab, …` as written by `split`.

use super::raw::RawFile;
use super::ReadAt;
use crate::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};

/// Upper bound on segments; a store never holds more, and it bounds the scan.
const MAX_SEGMENTS: usize = 100_000;

/// The ordered segment list that starts at `first`, or just `[first]` when
/// the name does not look like a first segment.
pub fn split_segments(first: &Path) -> Result<Vec<PathBuf>> {
    let name = match first.file_name().and_then(|n| n.to_str()) {
        Some(n) => n.to_string(),
        None => return Ok(vec![first.to_path_buf()]),
    };
    let Some(dot) = name.rfind('.') else {
        return Ok(vec![first.to_path_buf()]);
    };
    let (stem, ext) = (&name[..dot], &name[dot + 1..]);
    let dir = first.parent().unwrap_or(Path::new(""));
    let mut out = vec![first.to_path_buf()];
    if !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_digit()) && ext.len() >= 2 {
        let start: u64 = ext.parse().unwrap_or(u64::MAX);
        if start > 1 {
            return Ok(out);
        }
        let width = ext.len();
        let mut n = start + 1;
        while out.len() < MAX_SEGMENTS {
            let p = dir.join(format!("{stem}.{n:0width$}"));
            if !p.is_file() {
                break;
            }
            out.push(p);
            n += 1;
        }
    } else if ext.len() >= 2 && ext.bytes().all(|b| b == b'a') {
        // aa, ab, … az, ba, … ; also aaa… for longer suffixes.
        let width = ext.len();
        let mut idx: u64 = 1;
        while out.len() < MAX_SEGMENTS {
            let mut suf = vec![b'a'; width];
            let mut v = idx;
            for c in suf.iter_mut().rev() {
                *c = b'a' + (v % 26) as u8;
                v /= 26;
            }
            if v != 0 {
                break;
            }
            let p = dir.join(format!("{stem}.{}", String::from_utf8_lossy(&suf)));
            if !p.is_file() {
                break;
            }
            out.push(p);
            idx += 1;
        }
    }
    Ok(out)
}

/// Several raw files read as one.
pub struct SplitImage {
    /// (start offset, segment), sorted by start.
    segments: Vec<(u64, RawFile)>,
    len: u64,
}

impl SplitImage {
    pub fn open(paths: &[PathBuf]) -> Result<Self> {
        let mut segments = Vec::with_capacity(paths.len());
        let mut off = 0u64;
        for p in paths {
            let f = RawFile::open(p)?;
            let l = f.size();
            if l == 0 {
                return Err(Error::usage(format!(
                    "split segment {} is empty",
                    p.display()
                )));
            }
            segments.push((off, f));
            off += l;
        }
        Ok(SplitImage { segments, len: off })
    }
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

impl ReadAt for SplitImage {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let i = match self.segments.binary_search_by(|(s, _)| s.cmp(&pos)) {
            Ok(i) => i,
            Err(i) => i - 1, // i >= 1 because segments[0].0 == 0 <= pos
        };
        let (start, seg) = &self.segments[i];
        // One call reads within one segment; read_exact_at loops across.
        seg.read_at(pos - start, buf)
    }
    fn size(&self) -> u64 {
        self.len
    }
}

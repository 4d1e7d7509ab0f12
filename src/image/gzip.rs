//! gzip-compressed raw images (`disk.img.gz`, as `dd | gzip` makes them and
//! as the bundled samples are stored). A gzip stream has no random access,
//! so the image is inflated into memory once, within a bound.

use super::raw::RawFile;
use super::ReadAt;
use crate::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest inflated image held in memory. Larger evidence should be
/// decompressed to disk first (`gunzip -k`), and the error says so.
pub const MAX_INFLATED: u64 = 4 << 30;

pub fn is_gzip(src: &dyn ReadAt) -> bool {
    let mut m = [0u8; 3];
    src.read_exact_at(0, &mut m).is_ok() && m == [0x1f, 0x8b, 0x08]
}

/// Inflate a gzip image (all members) into memory.
pub fn inflate(path: &Path, raw: RawFile) -> Result<Vec<u8>> {
    struct R<'a>(&'a RawFile, u64);
    impl Read for R<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read_at(self.1, buf)?;
            self.1 += n as u64;
            Ok(n)
        }
    }
    let dec =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, R(&raw, 0)));
    let mut out = Vec::new();
    let n = dec
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::usage(format!("{}: gzip stream is damaged: {e}", path.display())))?;
    if n as u64 > MAX_INFLATED {
        return Err(Error::usage(format!(
            "{}: inflates to more than {} GiB; decompress it to a raw file first (gunzip -k)",
            path.display(),
            MAX_INFLATED >> 30
        )));
    }
    Ok(out)
}

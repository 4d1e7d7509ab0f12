//! Tar hits, validated by walking member headers.
//!
//! Every member header of a tar (`ustar` at offset 257) that starts a block
//! is a header hit of its own. Validating each hit by reading forward to
//! the end-of-archive marker re-reads the rest of the archive once per
//! member: quadratic, and hours on a freed 150,000-file build context.
//! Instead the hits are resolved from the last to the first, and a walk
//! stops at the first later hit it lands on, whose end is already known.
//! Each member header is then read once (1 KiB), whatever the archive's
//! size. The verdicts equal those of `formats::validate` with the growing
//! window of `validate_hit` (see `verdict`).

use super::formats::{self, Kind, TarStep, Verdict};
use super::{first_window, max_window, windows, Space};
use crate::ext4::Filesystem;

/// Most member headers read over all tar hits. Chains that merge between
/// hits are walked again; this bounds a hostile image's cost.
const MAX_STEPS: u64 = 16 << 20;

/// Where the walk from a position ends.
#[derive(Clone, Copy)]
enum Terminal {
    /// End-of-archive marker (two zero blocks) at this space offset.
    End(u64),
    /// A position that is not a header, or unreadable, or past the space.
    Stop,
}

/// Verdicts for the tar hits at the sorted space offsets `hits`, in order.
/// A warning names the hits left unvalidated when the step bound is hit.
pub(super) fn validate(
    fs: &Filesystem,
    space: &Space,
    hits: &[u64],
) -> (Vec<Option<Verdict>>, Option<String>) {
    debug_assert!(hits.windows(2).all(|w| w[0] < w[1]));
    let mut term: Vec<Option<Terminal>> = vec![None; hits.len()];
    let mut steps = 0u64;
    let mut buf = [0u8; 1024];
    let mut unresolved = 0usize;
    for j in (0..hits.len()).rev() {
        let mut p = hits[j];
        let t = loop {
            if steps >= MAX_STEPS {
                break None;
            }
            steps += 1;
            if space.read(fs, p, &mut buf) < buf.len() {
                break Some(Terminal::Stop);
            }
            match formats::tar_step(&buf) {
                TarStep::End => break Some(Terminal::End(p)),
                TarStep::Stop => break Some(Terminal::Stop),
                TarStep::Next(adv) => match p.checked_add(adv) {
                    Some(q) if q < space.total => {
                        // A later hit on this chain: its walk is done.
                        if let Ok(k) = hits.binary_search(&q) {
                            break term[k];
                        }
                        p = q;
                    }
                    _ => break Some(Terminal::Stop),
                },
            }
        };
        if t.is_none() {
            unresolved += 1;
        }
        term[j] = t;
    }
    let verdicts = hits
        .iter()
        .zip(&term)
        .map(|(&h, t)| match t {
            Some(Terminal::End(e)) => verdict(fs, space, h, *e),
            _ => None,
        })
        .collect();
    let warning = (unresolved > 0).then(|| {
        format!(
            "carving: tar walk stopped after {MAX_STEPS} member headers; {unresolved} tar headers \
             not validated (not carved)"
        )
    });
    (verdicts, warning)
}

/// The verdict `validate_hit` gives a tar hit at `h` whose walk reaches
/// the end-of-archive marker at `e`. Of the `windows`, the first that
/// holds both zero blocks decides; the 10240-byte record padding counts
/// only if it also fits that window and is zero.
fn verdict(fs: &Filesystem, space: &Space, h: u64, e: u64) -> Option<Verdict> {
    if e == h {
        // No header before the marker: not an archive.
        return None;
    }
    let end = e - h + 1024;
    let max = max_window(space, h, Kind::Tar, u64::MAX);
    let win = windows(first_window(Kind::Tar), max).find(|&w| w as u64 >= end)? as u64;
    let rec = formats::tar_record_end(end);
    if rec > end && rec <= win {
        let mut pad = vec![0u8; (rec - end) as usize];
        if space.read(fs, h + end, &mut pad) == pad.len() && crate::util::bytes::is_zero(&pad) {
            return Some(formats::tar_ok(rec));
        }
    }
    Some(formats::tar_ok(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The carve fixture (real kernel ext4), as bytes.
    #[allow(clippy::disallowed_methods)] // a committed fixture, read-only
    fn fixture() -> Vec<u8> {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/carve/carve.img.gz");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn open(img: &[u8]) -> Filesystem {
        Filesystem::open(std::sync::Arc::new(img.to_vec())).unwrap()
    }

    /// A ustar header with this size field (checksum filled in).
    fn header(size: [u8; 12]) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"file");
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(&size);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn octal(n: u64) -> [u8; 12] {
        format!("{n:011o}\0").as_bytes().try_into().unwrap()
    }

    /// Members of these data sizes (data bytes 0x5A), then `tail`.
    fn archive(sizes: &[u64], tail: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        for &s in sizes {
            t.extend(header(octal(s)));
            t.extend(std::iter::repeat_n(0x5A, s as usize));
            t.resize(t.len().div_ceil(512) * 512, 0);
        }
        t.extend_from_slice(tail);
        t
    }

    /// Write `bytes` at space offset `v` of the image (through the runs).
    fn put(img: &mut [u8], space: &Space, v: u64, bytes: &[u8]) {
        let mut done = 0;
        for f in space.fragments(v, bytes.len() as u64) {
            let n = f.length as usize;
            img[f.offset as usize..][..n].copy_from_slice(&bytes[done..done + n]);
            done += n;
        }
    }

    /// The archives are crafted (synthetic) and written into the free
    /// space of the kernel-made carve image, so they are read through its
    /// real free-run map.
    #[test]
    fn member_walk_equals_windowed_validation() {
        let mut img = fixture();
        let mut warn = Vec::new();
        let space = Space::new(&open(&img), false, &[], &mut warn);
        let end_zeros = |n: usize| vec![0u8; n];
        let aligned = 4096 - 512;
        // A: six block-aligned members, two small ones, the marker and
        // zeros to the record (27,648 -> 30,720 bytes), then non-zero.
        let mut zeros = end_zeros(1024);
        zeros.resize(1024 + 3072, 0);
        zeros.extend([0xAA; 4096]);
        let a = archive(
            &[
                aligned, aligned, aligned, aligned, aligned, aligned, 100, 100,
            ],
            &zeros,
        );
        // B: 40 aligned members (164,864 bytes), longer than the first
        // window; non-zero after the marker, so no record padding.
        let mut b_tail = end_zeros(1024);
        b_tail.extend([0xAA; 4096]);
        let b = archive(&[aligned; 40], &b_tail);
        // C: ends at exactly 65,536, the first window, so its zero record
        // padding (to 71,680) does not count; later hits have their own.
        let mut c_sizes = vec![aligned; 15];
        c_sizes.push(2560);
        let mut c_tail = end_zeros(1024);
        c_tail.resize(1024 + 6144, 0);
        c_tail.extend([0xAA; 4096]);
        let c = archive(&c_sizes, &c_tail);
        // D: a base-256 size of 2^64 - 1024, which wrapped the old walk
        // back onto itself, then an aligned member.
        let mut lying = [0u8; 12];
        lying[0] = 0x80;
        lying[4..11].fill(0xFF);
        lying[10] = 0xFC;
        let mut d = header(lying);
        d.resize(4096, 0x5A);
        let mut d_tail = end_zeros(1024);
        d_tail.extend([0xAA; 4096]);
        d.extend(archive(&[aligned], &d_tail));
        // E: three aligned members, then a block that is neither.
        let e = archive(&[aligned; 3], &[0x77; 4096]);
        for (k, t) in [a, b, c, d, e].iter().enumerate() {
            put(&mut img, &space, k as u64 * (256 << 10), t);
        }
        let fs = open(&img);
        let hits: Vec<u64> = (0..(5 * (256 << 10)) / 4096)
            .map(|blk| blk * 4096)
            .filter(|&v| {
                let mut blk = vec![0u8; 4096];
                space.read(&fs, v, &mut blk);
                formats::detect(&blk) == Some(Kind::Tar)
            })
            .collect();
        // The member after the last aligned one starts a block too (A, C).
        assert_eq!(hits.len(), 7 + 40 + 16 + 2 + 3, "{hits:?}");
        let (walked, warning) = validate(&fs, &space, &hits);
        assert!(warning.is_none());
        let windowed: Vec<Option<Verdict>> = hits
            .iter()
            .map(|&h| super::super::validate_hit(&fs, &space, h, Kind::Tar, u64::MAX))
            .collect();
        assert_eq!(walked, windowed);
        let len = |h: u64| match &walked[hits.binary_search(&h).unwrap()] {
            Some(Verdict::Ok { len, .. }) => Some(*len),
            _ => None,
        };
        assert_eq!(len(0), Some(30720));
        // Its record would end at 34,816, over the non-zero bytes.
        assert_eq!(len(4096), Some(27648 - 4096));
        assert_eq!(len(256 << 10), Some(164_864));
        assert_eq!(len(512 << 10), Some(65536));
        // 61,440 is a whole record; from 57,344 the zeros pad to it.
        assert_eq!(len((512 << 10) + 4096), Some(61440));
        assert_eq!(len((512 << 10) + 8192), Some(61440));
        assert_eq!(len(768 << 10), None);
        assert_eq!(len((768 << 10) + 4096), Some(5120));
        assert!((0..3).all(|k| len((1024 << 10) + k * 4096).is_none()));
    }
}

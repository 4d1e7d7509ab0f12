//! Shared test helpers: fixture manifests, opening committed images.
#![allow(dead_code)]
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

pub mod truth;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use whiteout::ext4::volume::locate;
use whiteout::ext4::Filesystem;
use whiteout::image::{self, Source};

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Read a committed text/JSON file, transparently gunzipping `*.gz`
/// (large manifests and listings are stored compressed).
pub fn read_data(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let gz = if path.exists() {
        None
    } else {
        Some(path.with_extension(format!(
            "{}.gz",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        )))
    };
    let p = gz.as_deref().unwrap_or(path);
    let raw = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

pub fn manifest(dir: &str, name: &str) -> Value {
    let p = testdata().join(dir).join(format!("{name}.json"));
    serde_json::from_slice(&read_data(&p)).unwrap()
}

/// Names of all fixtures (manifests) in a testdata subdirectory.
pub fn fixture_names(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(testdata().join(dir))
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".json")
                .or_else(|| n.strip_suffix(".json.gz"))
                .map(|s| s.to_string())
        })
        .collect();
    v.sort();
    v
}

/// The committed image, inflated in memory.
pub fn image(dir: &str, name: &str) -> Source {
    image::open(&testdata().join(dir).join(format!("{name}.img.gz"))).unwrap()
}

/// Inflated bytes of a committed image (for corruption tests).
pub fn image_bytes(dir: &str, name: &str) -> Vec<u8> {
    let src = image(dir, name);
    let mut v = vec![0u8; src.size() as usize];
    src.read_exact_at(0, &mut v).unwrap();
    v
}

pub fn fs_at(src: &Source, offset: u64) -> Filesystem {
    let loc = locate(src, None, Some(offset)).unwrap();
    Filesystem::open(loc.volume).unwrap()
}

pub fn fs_from_bytes(bytes: Vec<u8>) -> whiteout::Result<Filesystem> {
    let src: Source = Arc::new(bytes);
    Filesystem::open(src)
}

/// A raw (uncompressed) copy of a fixture on disk, made once per test run.
pub fn raw_copy(dir: &str, name: &str) -> PathBuf {
    placed("fixtures", dir, name, |tmp| {
        std::fs::write(tmp, image_bytes(dir, name)).unwrap()
    })
}

/// A raw copy with a hole wherever the fixture has 64 KiB of zeros
/// (aligned), as a sparse acquisition would leave it.
pub fn sparse_copy(dir: &str, name: &str) -> PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    placed("sparse", dir, name, |tmp| {
        let bytes = image_bytes(dir, name);
        let mut f = std::fs::File::create(tmp).unwrap();
        for c in bytes.chunks(64 << 10) {
            if c.iter().all(|&b| b == 0) {
                f.seek(SeekFrom::Current(c.len() as i64)).unwrap();
            } else {
                f.write_all(c).unwrap();
            }
        }
        f.set_len(bytes.len() as u64).unwrap();
    })
}

/// `KIND/DIR/NAME.img` under the test tmpdir, written once per test run
/// by `write` into a temporary name, then renamed into place.
fn placed(kind: &str, dir: &str, name: &str, write: impl FnOnce(&Path)) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(kind).join(dir);
    std::fs::create_dir_all(&out).unwrap();
    let p = out.join(format!("{name}.img"));
    if !p.exists() {
        // Unique per thread: tests of one binary run in parallel threads.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = out.join(format!("{name}.img.{}.{k}.tmp", std::process::id()));
        write(&tmp);
        if std::fs::rename(&tmp, &p).is_err() && !p.exists() {
            panic!("cannot place {}", p.display());
        }
        let _ = std::fs::remove_file(&tmp);
    }
    p
}

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Exact path bytes of a manifest file entry.
pub fn entry_path(f: &Value) -> Vec<u8> {
    match f.get("path_hex").and_then(|v| v.as_str()) {
        Some(h) => unhex(h),
        None => f["path"].as_str().unwrap().as_bytes().to_vec(),
    }
}

/// Run the whiteout binary; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_whiteout"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn b64decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        } as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Assert two sets are equal, printing only the differences (bounded).
pub fn assert_same_set<T: Ord + std::fmt::Debug + Clone>(
    ours: &std::collections::BTreeSet<T>,
    theirs: &std::collections::BTreeSet<T>,
    what: &str,
) {
    let only_ours: Vec<T> = ours.difference(theirs).take(10).cloned().collect();
    let only_theirs: Vec<T> = theirs.difference(ours).take(10).cloned().collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "{what}: {} only ours (first: {:?}), {} only theirs (first: {:?})",
        ours.difference(theirs).count(),
        only_ours,
        theirs.difference(ours).count(),
        only_theirs
    );
}

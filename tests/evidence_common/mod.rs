//! Helpers for the evidence-container tests: stage committed containers
//! (inflating the `*.gz` ones) into a fresh directory, hash logical media.
#![allow(dead_code)]
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

use serde_json::Value;
use std::path::{Path, PathBuf};
use whiteout::image::ReadAt;

pub fn evidence_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/evidence")
}

pub fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(evidence_dir().join("manifest.json")).unwrap()).unwrap()
}

/// SHA-256 of `qemu-img convert -O raw` of fixture `name` (the manifest's
/// reference for the qemu-made containers).
pub fn qemu_sha(name: &str) -> String {
    manifest()["qemu_img_convert_raw_sha256"][name]
        .as_str()
        .unwrap()
        .to_string()
}

/// SHA-256 of the source disk every container holds.
pub fn source_sha256() -> String {
    manifest()["source_sha256"].as_str().unwrap().to_string()
}

/// A new directory under the test tmpdir holding `files` from
/// testdata/evidence, `name.gz` inflated to `name`.
pub fn stage(tag: &str, files: &[&str]) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("evidence")
        .join(format!("{tag}-{}-{k}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in files {
        let bytes = std::fs::read(evidence_dir().join(f)).unwrap();
        let (name, data) = match f.strip_suffix(".gz") {
            Some(n) => {
                use std::io::Read;
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .unwrap();
                (n, out)
            }
            None => (*f, bytes),
        };
        std::fs::write(dir.join(name), data).unwrap();
    }
    dir
}

/// SHA-256 of a whole source, read in 1 MiB pieces through `ReadAt`.
pub fn sha256_source(src: &dyn ReadAt) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0;
    while pos < src.size() {
        let n = (src.size() - pos).min(buf.len() as u64) as usize;
        src.read_exact_at(pos, &mut buf[..n]).unwrap();
        h.update(&buf[..n]);
        pos += n as u64;
    }
    h.finalize().iter().map(|x| format!("{x:02x}")).collect()
}

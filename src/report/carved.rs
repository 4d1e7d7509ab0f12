//! Carved files on disk: `DIR/<type>/<offset>.<ext>`, `DIR/manifest.jsonl`
//! (with attribution) and `DIR/docker-traces.jsonl`.

use super::extract::SafeDir;
use crate::attribute::Attributor;
use crate::ext4::Filesystem;
use crate::recover::carve::{self, Carving};
use crate::util::bytes::hex;
use crate::{Error, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// What was written.
#[derive(Default)]
pub struct CarvedOut {
    pub rows: Vec<Value>,
    pub traces: usize,
}

/// Write every carved file and its manifest row; each row carries the
/// owner attribution of its blocks (block-group evidence is a hint).
pub fn write_carved(
    fs: &Filesystem,
    dir: &SafeDir,
    res: &Carving,
    at: Option<&Attributor>,
    traces: bool,
) -> Result<CarvedOut> {
    let mut out = CarvedOut::default();
    let mut manifest = dir.create_root_file("manifest.jsonl")?;
    let werr = |e: std::io::Error| Error::io("writing manifest.jsonl".to_string(), e);
    let bs = fs.block_size();
    for c in &res.files {
        let data = match carve::read_carved(fs, c) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("warning: carved {} at {}: {e}", c.kind.name(), c.offset);
                continue;
            }
        };
        use md5::Digest as _;
        let sha = hex(&sha2::Sha256::digest(&data));
        let md5 = hex(&md5::Md5::digest(&data));
        let rel = Path::new(c.kind.name()).join(format!("{}.{}", c.offset, c.kind.ext()));
        let written = dir.write_file(&rel, &mut |w| {
            w.write_all(&data)
                .map_err(|e| Error::io(format!("writing {}", rel.display()), e))
        })?;
        let attribution = at
            .map(|a| {
                let first = c
                    .fragments
                    .first()
                    .map(|f| (f.offset, f.length))
                    .unwrap_or((c.offset, c.length));
                json!(a.for_fragment(
                    first.0 / bs,
                    first.1.div_ceil(bs).max(1),
                    Some(&data[..data.len().min(1 << 20)])
                ))
            })
            .unwrap_or(Value::Null);
        let row = json!({
            "offset": c.offset,
            "length": c.length,
            "type": c.kind,
            "sha256": sha,
            "md5": md5,
            "block_group": c.block_group,
            "fragments": c.fragments,
            "exact": c.exact,
            "note": c.note,
            "file": written.to_string_lossy(),
            "attribution": attribution,
        });
        serde_json::to_writer(&mut manifest, &row)
            .map_err(|e| Error::io("manifest".to_string(), e.into()))?;
        manifest.write_all(b"\n").map_err(werr)?;
        out.rows.push(row);
    }
    manifest.flush().map_err(werr)?;
    if traces {
        let mut tf = dir.create_root_file("docker-traces.jsonl")?;
        for t in &res.traces {
            serde_json::to_writer(&mut tf, t)
                .map_err(|e| Error::io("docker-traces".to_string(), e.into()))?;
            tf.write_all(b"\n").map_err(werr)?;
            out.traces += 1;
        }
        tf.flush().map_err(werr)?;
    }
    Ok(out)
}

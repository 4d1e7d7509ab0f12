//! `whiteout carve IMAGE -o DIR [--types ...] [--all-space]`

use crate::ext4::Filesystem;
use crate::recover::carve::{self, Kind};
use crate::report::extract::SafeDir;
use crate::util::bytes::hex;
use crate::{Error, Result};
use serde_json::json;
use std::io::Write;
use std::path::Path;

pub fn parse_types(s: Option<&str>) -> Result<(Option<Vec<Kind>>, bool)> {
    let Some(s) = s else {
        return Ok((None, true));
    };
    let mut kinds = Vec::new();
    let mut traces = false;
    for t in s.split(',').filter(|t| !t.trim().is_empty()) {
        if t.trim() == "docker" {
            traces = true;
            continue;
        }
        kinds.push(Kind::parse(t).ok_or_else(|| {
            Error::usage(format!(
                "unknown carving type {t:?} (known: {}, docker)",
                Kind::ALL.map(|k| k.name()).join(",")
            ))
        })?);
    }
    Ok((Some(kinds), traces))
}

pub fn carve_to(
    fs: &Filesystem,
    image: &Path,
    out: &Path,
    types: Option<&str>,
    all_space: bool,
) -> Result<i32> {
    let (kinds, traces) = parse_types(types)?;
    let dir = SafeDir::create(out, &[image])?;
    let exclude = if all_space {
        Vec::new()
    } else {
        carve::recovered_runs(fs)
    };
    let t0 = std::time::Instant::now();
    let res = carve::carve(
        fs,
        &carve::Options {
            kinds,
            all_space,
            traces,
            exclude,
        },
    );
    let secs = t0.elapsed().as_secs_f64();
    for w in &res.warnings {
        eprintln!("warning: {}", crate::util::escape::escape_str(w));
    }
    let mut manifest = dir.create_root_file("manifest.jsonl")?;
    let werr = |e: std::io::Error| Error::io("writing manifest.jsonl".to_string(), e);
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
            "attribution": null,
        });
        serde_json::to_writer(&mut manifest, &row)
            .map_err(|e| Error::io("manifest".to_string(), e.into()))?;
        manifest.write_all(b"\n").map_err(werr)?;
    }
    manifest.flush().map_err(werr)?;
    if traces {
        let mut tf = dir.create_root_file("docker-traces.jsonl")?;
        for t in &res.traces {
            serde_json::to_writer(&mut tf, t)
                .map_err(|e| Error::io("docker-traces".to_string(), e.into()))?;
            tf.write_all(b"\n").map_err(werr)?;
        }
        tf.flush().map_err(werr)?;
    }
    let s = &res.stats;
    eprintln!(
        "carved {} files, {} Docker traces from {:.1} MiB in {} runs ({} blocks already recovered skipped) in {:.2}s; {} header hits, {} false, {} nested",
        s.carved,
        s.traces,
        s.bytes_searched as f64 / (1 << 20) as f64,
        s.runs,
        s.excluded_blocks,
        secs,
        s.header_hits,
        s.false_hits,
        s.nested_hits
    );
    Ok(if res.files.is_empty() && res.traces.is_empty() {
        1
    } else {
        0
    })
}

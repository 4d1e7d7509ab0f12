//! `whiteout carve IMAGE -o DIR [--types ...] [--all-space]`

use crate::ext4::Filesystem;
use crate::recover::carve::{self, Kind};
use crate::report::extract::SafeDir;
use crate::{Error, Result};
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
    // One recovery pass: its recovered blocks are left out of the search,
    // and it feeds the attributor that gives each carved file an owner.
    let rec = crate::recover::analyse(
        fs,
        &crate::recover::Options {
            scan_freed_dir_blocks: true,
            hash: false,
        },
    );
    let exclude: Vec<(u64, u64)> = if all_space {
        Vec::new()
    } else {
        crate::recover::carve::free_runs(&rec)
    };
    let ctx = crate::attribute::DockerContext::load(fs, &rec);
    let at = crate::attribute::Attributor::new(fs, ctx.as_ref(), &rec);
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
    crate::report::carved::write_carved(fs, &dir, &res, Some(&at), traces)?;
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

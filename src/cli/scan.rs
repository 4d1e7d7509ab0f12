//! `scan` (one image or an evidence store) and `index` (merge shards).

use crate::report::scan::{self as rscan, Expected, ScanOptions};
use crate::report::{extract::SafeDir, index};
use crate::{Error, Result};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

/// Arguments of `whiteout scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Images (raw, split first segment, or .gz). Optional with --manifest.
    pub images: Vec<PathBuf>,
    /// Output directory: the report itself for one image, else one
    /// subdirectory per image plus index.json/index.html.
    #[arg(short = 'o', long = "out", value_name = "OUTDIR")]
    pub out: PathBuf,
    /// Skip MD5/SHA-1/SHA-256 of the evidence (size and mtime are still checked).
    #[arg(long)]
    pub no_hash: bool,
    /// Skip carving.
    #[arg(long)]
    pub no_carve: bool,
    /// No progress bars or per-image lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Images analysed at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Memory budget for images analysed at once (e.g. 4G, 512M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// Redo images that already have a complete report.
    #[arg(long)]
    pub force: bool,
    /// Take slice I of N (0-based) of the sorted input list.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// CSV or JSON list of images with case ids and expected hashes,
    /// verified before analysis.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Read partition N of every image.
    #[arg(long, value_name = "N")]
    pub partition: Option<u32>,
    /// Read the filesystem at this byte offset of every image.
    #[arg(long, value_name = "BYTES", conflicts_with = "partition")]
    pub offset: Option<u64>,
    /// Read the LVM logical volume VG/LV of every image.
    #[arg(long, value_name = "VG/LV", conflicts_with = "partition")]
    pub volume: Option<String>,
}

/// `4G`, `512M`, `100k`, `1024` (bytes; binary units).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = t[i..].to_ascii_lowercase();
            let m: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => return Err(format!("unknown size unit in {s:?}")),
            };
            (&t[..i], m)
        }
        None => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?}"))?;
    if n <= 0.0 {
        return Err(format!("size must be positive: {s:?}"));
    }
    Ok((n * mul as f64) as u64)
}

/// `I/N` with 0 <= I < N.
pub fn parse_shard(s: &str) -> std::result::Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard takes I/N, got {s:?}"))?;
    let i: usize = i.trim().parse().map_err(|_| format!("bad shard {s:?}"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("bad shard {s:?}"))?;
    if n == 0 || i >= n {
        return Err(format!("--shard I/N needs 0 <= I < N, got {s:?}"));
    }
    Ok((i, n))
}

/// One input image.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub path: PathBuf,
    pub case_id: Option<String>,
    pub expected: Option<Expected>,
}

fn field<'a>(m: &'a serde_json::Map<String, serde_json::Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| m.get(*k).and_then(|v| v.as_str()))
        .filter(|s| !s.trim().is_empty())
}

/// Read a manifest: a JSON list (or `{"images": [...]}`) of objects, or a
/// CSV with a header naming `path` and any of `case_id`, `md5`, `sha1`,
/// `sha256`. Relative paths are relative to the manifest.
pub fn read_manifest(path: &Path) -> Result<Vec<Input>> {
    let data = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read manifest {}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let text = String::from_utf8_lossy(&data);
    let mk = |case: Option<&str>,
              p: &str,
              md5: Option<&str>,
              sha1: Option<&str>,
              sha256: Option<&str>| {
        let pp = PathBuf::from(p.trim());
        let e = Expected {
            md5: md5.map(|s| s.trim().to_string()),
            sha1: sha1.map(|s| s.trim().to_string()),
            sha256: sha256.map(|s| s.trim().to_string()),
        };
        Input {
            path: if pp.is_absolute() { pp } else { base.join(pp) },
            case_id: case.map(|s| s.trim().to_string()),
            expected: (!e.is_empty()).then_some(e),
        }
    };
    let t = text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t)
            .map_err(|e| Error::usage(format!("manifest {}: {e}", path.display())))?;
        let list = v
            .as_array()
            .or_else(|| v["images"].as_array())
            .ok_or_else(|| Error::usage("manifest JSON must be a list of images"))?;
        let mut out = Vec::new();
        for (i, x) in list.iter().enumerate() {
            let m = x
                .as_object()
                .ok_or_else(|| Error::usage(format!("manifest entry {i} is not an object")))?;
            let p = field(m, &["path", "image", "file"])
                .ok_or_else(|| Error::usage(format!("manifest entry {i} has no path")))?;
            out.push(mk(
                field(m, &["case_id", "case"]),
                p,
                field(m, &["md5"]),
                field(m, &["sha1", "sha-1"]),
                field(m, &["sha256", "sha-256"]),
            ));
        }
        return Ok(out);
    }
    let mut lines = t.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| head.iter().position(|h| names.contains(&h.as_str()));
    let pc = col(&["path", "image", "file"])
        .ok_or_else(|| Error::usage("manifest CSV needs a header with a path column"))?;
    let (cc, m5, s1, s2) = (
        col(&["case_id", "case"]),
        col(&["md5"]),
        col(&["sha1", "sha-1"]),
        col(&["sha256", "sha-256"]),
    );
    let mut out = Vec::new();
    for l in lines {
        let cells: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"')).collect();
        let get = |c: Option<usize>| {
            c.and_then(|i| cells.get(i).copied())
                .filter(|s| !s.is_empty())
        };
        let Some(p) = get(Some(pc)) else {
            return Err(Error::usage(format!(
                "manifest CSV row without a path: {l}"
            )));
        };
        out.push(mk(get(cc), p, get(m5), get(s1), get(s2)));
    }
    Ok(out)
}

/// Memory an image's analysis is expected to need.
fn estimate(path: &Path) -> u64 {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let gz = path.extension().is_some_and(|e| e == "gz");
    if gz {
        // Inflated in memory: assume 8x compression, bounded by the 4 GiB cap.
        (size.saturating_mul(8)).min(4 << 30) + (256 << 20)
    } else {
        (256 << 20) + size / 64
    }
}

struct Budget {
    used: Mutex<u64>,
    cv: Condvar,
    max: Option<u64>,
}

impl Budget {
    fn acquire(&self, want: u64) -> u64 {
        let Some(max) = self.max else { return 0 };
        let want = want.min(max);
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *u + want > max && *u > 0 {
            u = self.cv.wait(u).unwrap_or_else(|e| e.into_inner());
        }
        *u += want;
        want
    }
    fn release(&self, n: u64) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *u -= n.min(*u);
        self.cv.notify_all();
    }
}

/// `whiteout scan`.
pub fn scan(a: &ScanArgs) -> Result<i32> {
    let mut inputs: Vec<Input> = Vec::new();
    if let Some(m) = &a.manifest {
        inputs.extend(read_manifest(m)?);
    }
    for p in &a.images {
        if !inputs.iter().any(|i| i.path == *p) {
            inputs.push(Input {
                path: p.clone(),
                ..Default::default()
            });
        }
    }
    if inputs.is_empty() {
        return Err(Error::usage(
            "scan needs at least one IMAGE (or --manifest)",
        ));
    }
    inputs.sort_by(|x, y| x.path.cmp(&y.path));
    inputs.dedup_by(|x, y| x.path == y.path);
    let all_paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    let dirs = rscan::image_dirs(&all_paths);
    let single = inputs.len() == 1 && a.shard.is_none() && a.manifest.is_none();
    let picked: Vec<usize> = (0..inputs.len())
        .filter(|i| a.shard.is_none_or(|(k, n)| i % n == k))
        .collect();
    // Refuse an output directory that holds any evidence, up front.
    let evid: Vec<&Path> = all_paths.iter().map(|p| p.as_path()).collect();
    let root = SafeDir::create(&a.out, &evid)?;
    let command_line: Vec<String> = std::env::args_os()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
        .min(picked.len().max(1));
    let queue = Mutex::new(picked.iter().copied().collect::<VecDeque<usize>>());
    let budget = Budget {
        used: Mutex::new(0),
        cv: Condvar::new(),
        max: a.max_memory,
    };
    let results: Mutex<Vec<(usize, i32)>> = Mutex::new(Vec::new());
    let parallel = jobs > 1;
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(i) = next else { break };
                let inp = &inputs[i];
                let out = if single {
                    root.root().to_path_buf()
                } else {
                    root.root().join(&dirs[i])
                };
                let code = if !a.force && rscan::is_done_for(&out, &inp.path) {
                    if !a.quiet {
                        eprintln!(
                            "{}: already done (report in {}); --force to redo",
                            inp.path.display(),
                            out.display()
                        );
                    }
                    done_code(&out)
                } else {
                    let held = budget.acquire(estimate(&inp.path));
                    let opts = ScanOptions {
                        hash: !a.no_hash,
                        carve: !a.no_carve,
                        quiet: a.quiet || parallel,
                        command_line: command_line.clone(),
                        case_id: inp.case_id.clone(),
                        expected: inp.expected.clone(),
                        partition: a.partition,
                        offset: a.offset,
                        volume: a.volume.clone(),
                    };
                    let r = rscan::scan_image(&inp.path, &out, &opts);
                    budget.release(held);
                    match r {
                        Ok(o) => {
                            if !a.quiet {
                                eprintln!(
                                    "{}: done, {} warnings -> {}",
                                    inp.path.display(),
                                    o.warnings,
                                    out.display()
                                );
                            }
                            o.exit_code
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            eprintln!(
                                "whiteout: {}: {}",
                                inp.path.display(),
                                crate::util::escape::escape_str(&msg)
                            );
                            // One image or many: OUTDIR says why (the safe
                            // writer refuses a directory beside the evidence).
                            if let Err(e2) = rscan::write_error(&out, &inp.path, &msg) {
                                eprintln!("whiteout: {}: {e2}", out.display());
                            }
                            2
                        }
                    }
                };
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, code));
            });
        }
    });
    if !single {
        let ix = index::write(root.root())?;
        if !a.quiet {
            eprintln!(
                "index: {} images in {}",
                ix["totals"]["images"],
                root.root().join("index.html").display()
            );
        }
    }
    let codes = results.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(if codes.iter().any(|c| c.1 == 2) {
        2
    } else if codes.iter().any(|c| c.1 == 3) {
        3
    } else {
        0
    })
}

fn done_code(dir: &Path) -> i32 {
    std::fs::read(dir.join("done.json"))
        .ok()
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
        .and_then(|v| v["exit_code"].as_i64())
        .map(|c| c as i32)
        .unwrap_or(0)
}

/// `whiteout index DIR`: rebuild index.json/index.html from the per-image
/// reports under DIR (the merge step after sharded runs).
pub fn index_cmd(dir: &Path) -> Result<i32> {
    let ix = index::write(dir)?;
    eprintln!(
        "{} images indexed; {} incomplete; see {}",
        ix["totals"]["images"],
        ix["incomplete"].as_array().map_or(0, |a| a.len()),
        dir.join("index.html").display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sizes_and_shards() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("100k"), Ok(100 << 10));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("0").is_err() && parse_size("4X").is_err());
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(parse_shard("4/4").is_err() && parse_shard("1").is_err());
    }
    #[test]
    #[allow(clippy::disallowed_methods)] // a manifest in the test temp dir
    fn csv_manifest() {
        let d = std::env::temp_dir().join(format!("wo-man-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("m.csv");
        std::fs::write(&p, "Case_ID,Path,SHA256\n\"C1\",a.dd,ABC\nC2,/x/b.dd,\n").unwrap();
        let m = read_manifest(&p).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].path, d.join("a.dd"));
        assert_eq!(m[0].case_id.as_deref(), Some("C1"));
        assert_eq!(
            m[0].expected.as_ref().unwrap().sha256.as_deref(),
            Some("ABC")
        );
        assert_eq!(m[1].path, PathBuf::from("/x/b.dd"));
        assert!(m[1].expected.is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }
}

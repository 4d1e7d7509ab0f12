//! The evidence-store index: `index.json` and `index.html` summarising
//! every completed image report under a directory. Built only from the
//! per-image report.json files, so shards merged with `whiteout index`
//! give the same index as one full run. It carries no run times.

use super::extract::SafeDir;
use super::scan::is_done;
use crate::{Error, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const INDEX_SCHEMA: &str = "whiteout-scan-index";
/// Deletions listed per image.
const TOP: usize = 10;

fn summary(dir: &str, r: &Value) -> Value {
    let arr = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let live = arr(&r["docker"]["containers"]);
    let gone = arr(&r["docker"]["removed_containers"]);
    let findings = arr(&r["findings"]);
    let mut sev: BTreeMap<String, u64> = BTreeMap::new();
    for f in &findings {
        *sev.entry(f["severity"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let cands = arr(&r["deleted"]["candidates"]);
    let rank = |c: &Value| match c["class"].as_str() {
        Some("rw-deleted") => 0,
        Some("image-deleted") => 1,
        Some("host-deleted") => 2,
        _ => 3,
    };
    let mut top: Vec<&Value> = cands.iter().collect();
    top.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b["size"].as_u64().cmp(&a["size"].as_u64()))
            .then(a["inode"].as_u64().cmp(&b["inode"].as_u64()))
    });
    let name = |c: &Value| {
        json!({"id": c["id"], "name": c["name"], "image": c["image"],
               "running_at_acquisition": c["running_at_acquisition"]})
    };
    json!({
        "dir": dir,
        "name": r["image"]["name"],
        "path": r["image"]["path"],
        "case_id": r["image"]["case_id"],
        "size": r["image"]["size"],
        "md5": r["image"]["hashes"]["md5"],
        "sha1": r["image"]["hashes"]["sha1"],
        "sha256": r["image"]["hashes"]["sha256"],
        "custody_ok": r["image"]["end_check"]["ok"],
        "exit_code": r["exit_code"],
        "warnings": arr(&r["warnings"]).len(),
        "containers": live.len(),
        "running": live.iter().filter(|c| c["running_at_acquisition"] == true).count(),
        "container_list": live.iter().map(name).collect::<Vec<_>>(),
        "removed_containers": gone.len(),
        "removed_list": gone.iter().map(name).collect::<Vec<_>>(),
        "images": arr(&r["docker"]["images"]).len(),
        "findings": findings.len(),
        "findings_by_severity": sev,
        "deleted": cands.len(),
        "top_deletions": top.iter().take(TOP).map(|c| json!({
            "path": c["container_path"], "host_path": c["host_path"], "class": c["class"],
            "container_name": c["container_name"], "inode": c["inode"],
            "size": c["size"], "content": c["content"], "sha256": c["sha256"],
        })).collect::<Vec<_>>(),
        "report": format!("{dir}/report.json"),
    })
}

/// Build the index from every completed `<dir>/report.json` under
/// `root` (sorted by directory name). Images that failed (`error.json`)
/// and incomplete ones are listed apart.
pub fn build(root: &Path) -> Result<Value> {
    let rd = std::fs::read_dir(root)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", root.display())))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut images = Vec::new();
    let mut incomplete = Vec::new();
    let mut failed = Vec::new();
    for n in names {
        let d = root.join(&n);
        if !is_done(&d) {
            if let Some(e) = std::fs::read(d.join("error.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                failed.push(json!({"dir": n, "image": e["image"], "error": e["error"]}));
                continue;
            }
            if d.join("report.json").exists() || d.join("scan.log").exists() {
                incomplete.push(n);
            }
            continue;
        }
        let raw = std::fs::read(d.join("report.json"))
            .map_err(|e| Error::io(format!("reading {}/report.json", d.display()), e))?;
        let r: Value = serde_json::from_slice(&raw).map_err(|e| {
            Error::usage(format!(
                "{}/report.json is not valid JSON: {e}",
                d.display()
            ))
        })?;
        if r["schema"] != super::scan::SCHEMA {
            continue;
        }
        images.push(summary(&n, &r));
    }
    let sum = |k: &str| -> u64 { images.iter().map(|i| i[k].as_u64().unwrap_or(0)).sum() };
    let totals = json!({
        "images": images.len(),
        "containers": sum("containers"),
        "running": sum("running"),
        "removed_containers": sum("removed_containers"),
        "findings": sum("findings"),
        "deleted": sum("deleted"),
    });
    Ok(json!({
        "schema": INDEX_SCHEMA,
        "schema_version": 1,
        "tool": {"name": "whiteout", "version": env!("CARGO_PKG_VERSION")},
        "totals": totals,
        "images": images,
        "incomplete": incomplete,
        "failed": failed,
    }))
}

/// Build and write `index.json` and `index.html` in `root`.
pub fn write(root: &Path) -> Result<Value> {
    let ix = build(root)?;
    let dir = SafeDir::create(root, &[])?;
    let mut w = dir.create_root_file("index.json")?;
    serde_json::to_writer_pretty(&mut w, &ix)
        .map_err(|e| Error::io("index.json", std::io::Error::other(e)))?;
    w.write_all(b"\n")
        .and_then(|_| w.flush())
        .map_err(|e| Error::io("index.json", e))?;
    let mut h = dir.create_root_file("index.html")?;
    h.write_all(super::html::index_html(&ix).as_bytes())
        .and_then(|_| h.flush())
        .map_err(|e| Error::io("index.html", e))?;
    Ok(ix)
}

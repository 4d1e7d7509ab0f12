//! Writing recovered deleted files and their manifest. Shared by
//! `whiteout recover` and `whiteout scan` (its `recovered/` folder).

use super::extract::{glob_match, SafeDir};
use crate::ext4::Filesystem;
use crate::recover::{self, ContentState, DeletedCandidate};
use crate::util::bytes::hex;
use crate::util::escape::{is_utf8, json_name};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::io::Write;

/// One JSON row for a candidate (shared by `deleted`, `ls -d --json`, the
/// recovery manifest and report.json).
pub fn candidate_json(c: &DeletedCandidate) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("path".into(), json!(json_name(&c.path)));
        if !is_utf8(&c.path) {
            m.insert("path_hex".into(), json!(hex(&c.path)));
        }
        m.insert(
            "other_paths".into(),
            json!(c
                .other_paths()
                .iter()
                .map(|(p, s)| json!({"path": json_name(p), "name_source": s}))
                .collect::<Vec<_>>()),
        );
        m.insert("sha256".into(), json!(c.sha256_hex()));
        m.insert("runs".into(), json!(c.runs()));
        m.insert("symlink_target".into(), json!(c.symlink_target()));
        m.insert("md5".into(), json!(c.md5_hex()));
        m.insert("evidence".into(), json!(c.evidence_text()));
        m.insert("dtime_source".into(), json!(c.dtime_source()));
        m.insert("incarnation".into(), json!(c.incarnation()));
        m.insert("deleted".into(), json!(true));
    }
    v
}

/// Stream a candidate's recoverable content.
pub fn write_content(fs: &Filesystem, c: &DeletedCandidate, w: &mut dyn Write) -> Result<()> {
    if let Some(d) = c.inline_data() {
        return w.write_all(d).map_err(|e| Error::io("writing", e));
    }
    if matches!(c.content, ContentState::Full | ContentState::Partial) {
        return recover::content::stream(fs, c.runs(), c.size.unwrap_or(0), w);
    }
    Ok(())
}

/// Which candidates to write.
#[derive(Default, Clone, Copy)]
pub struct Filter<'a> {
    pub glob: Option<&'a str>,
    pub inode: Option<u32>,
}

/// Counts of a recovery write.
#[derive(Default, Debug, Clone, Copy, serde::Serialize)]
pub struct Written {
    pub listed: usize,
    pub written: usize,
    /// Candidates whose sanitised path was taken by another of another type.
    pub not_written: usize,
}

/// Write every selected candidate under `dir` at its sanitised path, and
/// one manifest row each to `DIR/manifest.jsonl`. `extra(i)` adds fields
/// to the row of `cands[i]` (classification, attribution).
pub fn write_recovered(
    fs: &Filesystem,
    dir: &SafeDir,
    cands: &[DeletedCandidate],
    filter: Filter,
    extra: &dyn Fn(usize, &mut serde_json::Map<String, Value>),
) -> Result<Written> {
    let mut manifest = dir.create_root_file_sized("manifest.jsonl", 1 << 20)?;
    let mut n = Written::default();
    for (i, c) in cands.iter().enumerate() {
        if filter.inode.is_some_and(|x| x != c.inode) {
            continue;
        }
        if let Some(g) = filter.glob {
            if !glob_match(g.as_bytes(), &c.path) {
                continue;
            }
        }
        n.listed += 1;
        let rel = SafeDir::relative(&c.path);
        let mut row = candidate_json(c);
        // A name taken by another candidate of a different type (a file
        // where a directory was, after reuse) is reported, not fatal.
        let mut not_written: Option<String> = None;
        let wrote = match c.file_type {
            crate::ext4::FileType::Dir => {
                if let Err(e) = dir.mkdir(&rel) {
                    not_written = Some(e.to_string());
                }
                None
            }
            crate::ext4::FileType::Regular | crate::ext4::FileType::Unknown
                if c.inline_data().is_some()
                    || matches!(c.content, ContentState::Full | ContentState::Partial) =>
            {
                match dir.write_file(&rel, &mut |w| write_content(fs, c, w)) {
                    Ok(p) => Some(p),
                    Err(e @ Error::Usage(_)) => {
                        not_written = Some(e.to_string());
                        None
                    }
                    Err(e) => return Err(e),
                }
            }
            // Symlinks are never created: their target is in the manifest.
            // Devices, FIFOs and sockets are never created either.
            _ => None,
        };
        if let (Some(why), Value::Object(m)) = (&not_written, &mut row) {
            m.insert("not_written".into(), json!(why));
            n.not_written += 1;
        }
        let missing: Vec<Value> = c
            .runs()
            .iter()
            .filter(|r| r.state != recover::RunState::Free)
            .map(|r| json!({"logical": r.logical, "physical": r.physical, "len": r.len, "state": r.state}))
            .collect();
        if let Value::Object(m) = &mut row {
            if let Some(p) = &wrote {
                m.insert("written_to".into(), json!(p.to_string_lossy()));
                n.written += 1;
            }
            m.insert("not_recovered_runs".into(), json!(missing));
            extra(i, m);
        }
        serde_json::to_writer(&mut manifest, &row)
            .map_err(|e| Error::io("manifest", std::io::Error::other(e)))?;
        manifest
            .write_all(b"\n")
            .map_err(|e| Error::io("manifest", e))?;
    }
    manifest.flush().map_err(|e| Error::io("manifest", e))?;
    Ok(n)
}

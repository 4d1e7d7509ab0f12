//! `deleted`, `recover`, `ls -d` and `icat --recover`.

use super::output::{print_warnings, Out};
use crate::ext4::Filesystem;
use crate::recover::{self, ContentState, DeletedCandidate, NameSource, Recovery};
use crate::report::extract::{glob_match, SafeDir};
use crate::util::bytes::hex;
use crate::util::escape::{escape_bytes, is_utf8, json_name};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// One JSON row for a candidate (shared by `deleted`, `ls -d --json` and
/// the recovery manifest).
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
                .other_paths
                .iter()
                .map(|(p, s)| json!({"path": json_name(p), "name_source": s}))
                .collect::<Vec<_>>()),
        );
        m.insert("deleted".into(), json!(true));
    }
    v
}

fn run_recovery(fs: &Filesystem) -> Recovery {
    let r = recover::analyse(fs, &recover::Options::default());
    let mut ws = r.warnings.clone();
    ws.extend(fs.take_warnings());
    print_warnings(&ws, 20);
    r
}

/// `whiteout deleted IMAGE [--json]`
pub fn deleted(fs: &Filesystem, as_json: bool) -> Result<i32> {
    let r = run_recovery(fs);
    let classes = classify(fs, &r);
    let mut out = Out::new();
    for (c, k) in r.candidates.iter().zip(&classes) {
        if as_json {
            let mut row = candidate_json(c);
            if let Value::Object(m) = &mut row {
                m.insert("kind".into(), json!(k.kind));
                m.insert("host_path".into(), json!(json_name(&k.host_path)));
                m.insert("path".into(), json!(json_name(&k.path)));
                m.remove("path_hex");
                if !is_utf8(&k.path) {
                    m.insert("path_hex".into(), json!(hex(&k.path)));
                }
                for (key, v) in [("container", &k.container), ("layer", &k.layer)] {
                    if let Some(v) = v {
                        m.insert(key.into(), json!(v));
                    }
                }
                if k.container.is_some() {
                    m.insert("container_removed".into(), json!(k.container_removed));
                }
            }
            out.json(&row)?;
        } else {
            out.line(&text_row(c, true))?;
        }
    }
    out.finish()?;
    if !as_json {
        eprintln!(
            "{} candidates: {} with a name, {} orphans; content full {}, partial {}, wiped {}, none {}",
            r.candidates.len(),
            r.candidates.iter().filter(|c| c.name_source != NameSource::None).count(),
            r.candidates.iter().filter(|c| c.name_source == NameSource::None).count(),
            count(&r, ContentState::Full),
            count(&r, ContentState::Partial),
            count(&r, ContentState::Wiped),
            count(&r, ContentState::None),
        );
    }
    Ok(0)
}

/// Classify candidates by container when a Docker root exists.
fn classify(fs: &Filesystem, r: &Recovery) -> Vec<crate::docker::classify::Classification> {
    use crate::docker::{classify, removed, DockerHost};
    let host = DockerHost::load(fs);
    if host.roots.is_empty() {
        return r.candidates.iter().map(classify::plain).collect();
    }
    let gone = removed::find_removed(fs, &host, r);
    classify::classify_deleted(&host, &gone, &r.candidates)
}

fn count(r: &Recovery, s: ContentState) -> usize {
    r.candidates.iter().filter(|c| c.content == s).count()
}

/// fls-style deleted row: `r/r * 1234(realloc):\tpath`.
fn text_row(c: &DeletedCandidate, details: bool) -> String {
    let t = c.file_type.tsk_char();
    let path = c.path.strip_prefix(b"/").unwrap_or(&c.path);
    let mut s = format!(
        "{t}/{t} * {}{}:\t{}",
        c.inode,
        if c.realloc { "(realloc)" } else { "" },
        escape_bytes(path)
    );
    if details {
        s.push_str(&format!(
            "\t[{} name:{} content:{}{}]",
            c.size.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
            serde_json::to_value(c.name_source)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            serde_json::to_value(c.content)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            c.sha256
                .as_ref()
                .map(|h| format!(" sha256:{}", &h[..16]))
                .unwrap_or_default()
        ));
    }
    s
}

/// `ls -d`: deleted entries under `prefix` (fls -d style).
pub fn ls_deleted(fs: &Filesystem, prefix: &[u8], recursive: bool, as_json: bool) -> Result<i32> {
    let r = run_recovery(fs);
    let mut out = Out::new();
    let pre: Vec<u8> = if prefix == b"/" {
        Vec::new()
    } else {
        prefix.to_vec()
    };
    for c in &r.candidates {
        let under = c.path.starts_with(&pre) && c.path.get(pre.len()) == Some(&b'/');
        let orphan = c.path.starts_with(b"$Orphan");
        let depth_ok = recursive
            || !c.path[pre.len().min(c.path.len())..]
                .iter()
                .skip(1)
                .any(|&b| b == b'/');
        if !((under && depth_ok) || (orphan && pre.is_empty() && recursive)) {
            continue;
        }
        if as_json {
            out.json(&candidate_json(c))?;
        } else {
            out.line(&text_row(c, false))?;
        }
    }
    out.finish()?;
    Ok(0)
}

/// `icat --recover`: content of a deleted inode from its best map.
pub fn icat_recover(fs: &Filesystem, ino: u32) -> Result<i32> {
    let r = recover::analyse(
        fs,
        &recover::Options {
            scan_freed_dir_blocks: false,
            hash: false,
        },
    );
    let Some(c) = r.candidates.iter().find(|c| c.inode == ino) else {
        return Err(Error::NotFound(format!(
            "inode {ino} has no deleted-file evidence"
        )));
    };
    let mut out = Out::new();
    write_content(fs, c, out.raw())?;
    out.finish()?;
    eprintln!(
        "inode {ino}: content {}, size {} ({}), map {}",
        serde_json::to_value(c.content)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        c.size.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
        c.size_source,
        c.map.as_ref().map(|m| m.source).unwrap_or("none")
    );
    Ok(
        if c.content == ContentState::None || c.content == ContentState::Wiped {
            1
        } else {
            0
        },
    )
}

fn write_content(fs: &Filesystem, c: &DeletedCandidate, w: &mut dyn std::io::Write) -> Result<()> {
    if let Some(d) = &c.inline_data {
        return w.write_all(d).map_err(|e| Error::io("writing", e));
    }
    if matches!(c.content, ContentState::Full | ContentState::Partial) {
        return recover::content::stream(fs, &c.runs, c.size.unwrap_or(0), w);
    }
    Ok(())
}

/// `whiteout recover IMAGE -o DIR [--path GLOB] [--inode N]`
pub fn recover_to(
    fs: &Filesystem,
    image: &Path,
    outdir: &Path,
    glob: Option<&str>,
    inode: Option<u32>,
) -> Result<i32> {
    let dir = SafeDir::create(outdir, &[image])?;
    let r = run_recovery(fs);
    let mut manifest = dir.create_root_file("manifest.jsonl")?;
    let (mut written, mut listed, mut failed) = (0usize, 0usize, 0usize);
    for c in &r.candidates {
        if inode.is_some_and(|n| n != c.inode) {
            continue;
        }
        if let Some(g) = glob {
            if !glob_match(g.as_bytes(), &c.path) {
                continue;
            }
        }
        listed += 1;
        let rel = SafeDir::relative(&c.path);
        let mut row = candidate_json(c);
        // One hostile entry (a name colliding with a file, a planted
        // symlink in the output) must not end the whole recovery: the
        // failure is recorded in its manifest row and the rest goes on.
        let outcome = match c.file_type {
            crate::ext4::FileType::Dir => dir.mkdir(&rel).map(|_| None),
            crate::ext4::FileType::Regular | crate::ext4::FileType::Unknown
                if c.inline_data.is_some()
                    || matches!(c.content, ContentState::Full | ContentState::Partial) =>
            {
                dir.write_file(&rel, &mut |w| write_content(fs, c, w))
                    .map(Some)
            }
            // Symlinks are never created: their target is in the manifest.
            // Devices, FIFOs and sockets are never created either.
            _ => Ok(None),
        };
        let wrote = match outcome {
            Ok(w) => w,
            Err(e) => {
                failed += 1;
                if failed <= 20 {
                    eprintln!("warning: not written: {}: {e}", escape_bytes(&c.path));
                }
                if let Value::Object(m) = &mut row {
                    m.insert("write_error".into(), json!(e.to_string()));
                }
                None
            }
        };
        if let (Some(p), Value::Object(m)) = (&wrote, &mut row) {
            m.insert("written_to".into(), json!(p.to_string_lossy()));
            written += 1;
        }
        let missing: Vec<Value> = c
            .runs
            .iter()
            .filter(|r| r.state != recover::RunState::Free)
            .map(|r| json!({"logical": r.logical, "physical": r.physical, "len": r.len, "state": r.state}))
            .collect();
        if let Value::Object(m) = &mut row {
            m.insert("not_recovered_runs".into(), json!(missing));
        }
        serde_json::to_writer(&mut manifest, &row)
            .map_err(|e| Error::io("manifest", std::io::Error::other(e)))?;
        std::io::Write::write_all(&mut manifest, b"\n").map_err(|e| Error::io("manifest", e))?;
    }
    std::io::Write::flush(&mut manifest).map_err(|e| Error::io("manifest", e))?;
    eprintln!(
        "{listed} candidates, {written} files written under {}{}; see manifest.jsonl",
        dir.root().display(),
        if failed > 0 {
            format!(", {failed} not written (see write_error)")
        } else {
            String::new()
        }
    );
    Ok(0)
}

//! `deleted`, `recover`, `ls -d` and `icat --recover`.

use super::output::{print_warnings, Out};
use crate::ext4::Filesystem;
use crate::recover::{self, ContentState, DeletedCandidate, NameSource, Recovery};
use crate::report::extract::SafeDir;
use crate::util::bytes::hex;
use crate::util::escape::{escape_bytes, is_utf8, json_name};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

pub use crate::report::recovered::candidate_json;

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
    let ctx = crate::attribute::DockerContext::load(fs, &r);
    // Only JSON rows show the classification.
    let classes = crate::docker::classify::Classes::new(
        ctx.as_ref()
            .filter(|_| as_json)
            .map(|c| (&c.host, c.removed.as_slice())),
        &r.candidates,
    );
    let at = as_json.then(|| crate::attribute::Attributor::new(fs, ctx.as_ref(), &r));
    let mut out = Out::new();
    for (i, c) in r.candidates.iter().enumerate() {
        if as_json {
            let Some(k) = classes.get(i) else { break };
            let mut row = candidate_json(c);
            if let Value::Object(m) = &mut row {
                if let Some(a) = at.as_ref().and_then(|at| at.for_candidate(i)) {
                    m.insert("attribution".into(), json!(a));
                }
                m.insert("kind".into(), json!(k.kind));
                let kp = k.path(c);
                m.insert("host_path".into(), json!(json_name(&c.path)));
                m.insert("path".into(), json!(json_name(kp)));
                m.remove("path_hex");
                if !is_utf8(kp) {
                    m.insert("path_hex".into(), json!(hex(kp)));
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
            c.sha256_hex()
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
    crate::report::recovered::write_content(fs, c, out.raw())?;
    out.finish()?;
    eprintln!(
        "inode {ino}: content {}, size {} ({}), map {}",
        serde_json::to_value(c.content)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        c.size.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
        c.size_source.as_str(),
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
    let ctx = crate::attribute::DockerContext::load(fs, &r);
    let at = crate::attribute::Attributor::new(fs, ctx.as_ref(), &r);
    let n = crate::report::recovered::write_recovered(
        fs,
        &dir,
        &r.candidates,
        crate::report::recovered::Filter { glob, inode },
        &|i, m| {
            if let Some(a) = at.for_candidate(i) {
                m.insert("attribution".into(), json!(a));
            }
        },
    )?;
    let (listed, written, failed) = (n.listed, n.written, n.not_written);
    eprintln!(
        "{listed} candidates, {written} files written under {}{}; see manifest.jsonl",
        dir.root().display(),
        if failed > 0 {
            format!(", {failed} not written (see not_written)")
        } else {
            String::new()
        }
    );
    Ok(0)
}

//! `deleted`, `recover`, `ls -d` and `icat --recover`.

use super::output::{print_warnings, Out};
use crate::docker::classify::DeletedKind;
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

/// `whiteout deleted IMAGE [--json] [--kind K,...]`
pub fn deleted(fs: &Filesystem, as_json: bool, kinds: &[DeletedKind]) -> Result<i32> {
    let r = run_recovery(fs);
    let ctx = crate::attribute::DockerContext::load(fs, &r);
    let classes = crate::docker::classify::Classes::new(
        ctx.as_ref().map(|c| (&c.host, c.removed.as_slice())),
        &r.candidates,
    );
    let want = |k: DeletedKind| kinds.is_empty() || kinds.contains(&k);
    let at = as_json.then(|| crate::attribute::Attributor::new(fs, ctx.as_ref(), &r));
    let names = ctx.as_ref().map(container_names).unwrap_or_default();
    let mut out = Out::new();
    let mut shown = 0usize;
    for (i, c) in r.candidates.iter().enumerate() {
        let Some(k) = classes.get(i) else { break };
        if !want(k.kind) {
            continue;
        }
        shown += 1;
        if !as_json {
            out.line(&text_row(c, true))?;
            continue;
        }
        let mut row = candidate_json(c);
        if let Value::Object(m) = &mut row {
            if let Some(a) = at.as_ref().and_then(|at| at.for_candidate(i)) {
                m.insert("attribution".into(), json!(a));
            }
            m.insert("kind".into(), json!(k.kind));
            m.insert("class".into(), json!(k.kind));
            let kp = k.path(c);
            m.insert("host_path".into(), json!(json_name(&c.path)));
            m.insert("path".into(), json!(json_name(kp)));
            m.remove("path_hex");
            if !is_utf8(kp) {
                m.insert("path_hex".into(), json!(hex(kp)));
            }
            m.insert("container".into(), json!(k.container));
            m.insert(
                "container_name".into(),
                json!(k.container.as_ref().and_then(|id| names.get(id))),
            );
            if let Some(l) = &k.layer {
                m.insert("layer".into(), json!(l));
            }
            if k.container.is_some() {
                m.insert("container_removed".into(), json!(k.container_removed));
            }
        }
        out.json(&row)?;
    }
    let marks = match &ctx {
        Some(c) if want(DeletedKind::Whiteout) || want(DeletedKind::Opaque) => {
            crate::docker::deletions::container_deletions(fs, &c.host)
        }
        _ => Vec::new(),
    };
    for d in &marks {
        let kind = if d.mark.kind == "opaque" {
            DeletedKind::Opaque
        } else {
            DeletedKind::Whiteout
        };
        if !want(kind) {
            continue;
        }
        shown += 1;
        if as_json {
            out.json(&container_deletion_json(d, kind))?;
        } else {
            out.line(&format!(
                "{}  {}",
                super::docker::whiteout_text(&d.mark),
                d.container_name.as_deref().unwrap_or(&d.container)
            ))?;
        }
    }
    out.finish()?;
    if !as_json {
        eprintln!(
            "{}; {} with a name, {} orphans; content full {}, partial {}, wiped {}, none {}; {} whiteout or opaque {}",
            plural(shown, "row"),
            r.candidates.iter().filter(|c| c.name_source != NameSource::None).count(),
            r.candidates.iter().filter(|c| c.name_source == NameSource::None).count(),
            count(&r, ContentState::Full),
            count(&r, ContentState::Partial),
            count(&r, ContentState::Wiped),
            count(&r, ContentState::None),
            marks.len(),
            if marks.len() == 1 { "mark" } else { "marks" },
        );
    }
    Ok(0)
}

/// "1 row", "2 rows".
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Container id → name, live and removed.
fn container_names(
    ctx: &crate::attribute::DockerContext,
) -> std::collections::HashMap<String, String> {
    ctx.host
        .containers
        .iter()
        .chain(ctx.removed.iter().map(|r| &r.container))
        .filter_map(|c| Some((c.id.clone(), c.name.clone()?)))
        .collect()
}

/// The JSON row of a whiteout or opaque directory.
fn container_deletion_json(
    d: &crate::docker::deletions::ContainerDeletion,
    kind: DeletedKind,
) -> Value {
    let w = &d.mark;
    let what = match kind {
        DeletedKind::Opaque => "opaque directory (trusted.overlay.opaque=y)",
        _ => "whiteout",
    };
    json!({
        "kind": kind,
        "class": kind,
        "deleted": true,
        "path": json_name(&w.path),
        "host_path": json_name(&d.host_path),
        "container": d.container,
        "container_name": d.container_name,
        "layer": w.layer_id,
        "layer_role": w.layer_role,
        "marker_inode": w.marker_inode,
        "hidden": w.hidden,
        "attribution": {
            "owner": d.container,
            "owner_kind": "container",
            "owner_name": d.container_name,
            "confidence": "certain",
            "score": 1.0,
            "rule": "path",
            "hint": false,
            "evidence": [format!(
                "rule 1: the mark lies in the container's writable layer {}",
                escape_bytes(&d.host_path)
            )],
        },
        "evidence": [format!(
            "{what} inode {} in the container's {} layer {}, above {} hidden original(s)",
            w.marker_inode,
            w.layer_role,
            crate::docker::fsutil::short(&w.layer_id, 12),
            w.hidden.len()
        )],
    })
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
        "{}, {written} files written under {}{}; see manifest.jsonl",
        plural(listed, "row"),
        dir.root().display(),
        if failed > 0 {
            format!(", {failed} not written (see not_written)")
        } else {
            String::new()
        }
    );
    Ok(0)
}

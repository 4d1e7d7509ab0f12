//! `whiteout attribute IMAGE [--json] [--blocks START-END] [--inode N]`.

use super::output::{print_warnings, Out};
use crate::attribute::{Attribution, Attributor, BlockClass, DockerContext};
use crate::ext4::Filesystem;
use crate::recover;
use crate::util::escape::escape_str;
use crate::{Error, Result};
use serde_json::{json, Value};

/// Most rows `--blocks` prints.
const MAX_BLOCK_ROWS: usize = 100_000;

/// Recovery, Docker state and the attributor, built once.
pub fn build(fs: &Filesystem, hash: bool) -> (recover::Recovery, Option<DockerContext>) {
    let rec = recover::analyse(
        fs,
        &recover::Options {
            scan_freed_dir_blocks: true,
            hash,
        },
    );
    let ctx = DockerContext::load(fs, &rec);
    (rec, ctx)
}

fn parse_range(s: &str) -> Result<(u64, u64)> {
    let bad = || {
        Error::usage(format!(
            "--blocks {s:?}: expected START-END (block numbers)"
        ))
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (s.trim(), s.trim()),
    };
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if b < a {
        return Err(bad());
    }
    Ok((a, b))
}

fn owner_text(a: &Attribution) -> String {
    match (&a.owner, a.owner_kind) {
        (Some(o), Some(k)) => format!(
            "{} {}{} [{}{}, {}]",
            k.as_str(),
            if k == crate::attribute::OwnerKind::Daemon {
                escape_str(o)
            } else {
                crate::docker::fsutil::short(o, 12).to_string()
            },
            a.owner_name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            a.confidence.as_str(),
            if a.hint && a.confidence != crate::attribute::Confidence::Hint {
                " (hint)"
            } else {
                ""
            },
            a.rule
        ),
        _ => "no owner".into(),
    }
}

pub fn attribute(
    fs: &Filesystem,
    as_json: bool,
    blocks: Option<&str>,
    inode: Option<u32>,
) -> Result<i32> {
    let range = blocks.map(parse_range).transpose()?;
    if let Some((a, _)) = range {
        if a >= fs.sb.blocks_count {
            return Err(Error::usage(format!(
                "--blocks: block {a} is past the end of the filesystem ({} blocks)",
                fs.sb.blocks_count
            )));
        }
    }
    let (rec, ctx) = build(fs, false);
    let at = Attributor::new(fs, ctx.as_ref(), &rec);
    let mut ws = rec.warnings.clone();
    ws.extend(at.warnings.iter().cloned());
    ws.extend(fs.take_warnings());
    print_warnings(&ws, 20);
    let mut out = Out::new();
    if let Some(ino) = inode {
        if ino == 0 || ino > fs.sb.inodes_count {
            return Err(Error::NotFound(format!(
                "inode {ino} is outside 1..={}",
                fs.sb.inodes_count
            )));
        }
        let a = at.for_inode(ino);
        if as_json {
            let mut v = serde_json::to_value(&a).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("inode".into(), json!(ino));
            }
            out.pretty(&v)?;
        } else {
            out.line(&format!("inode {ino}: {}", owner_text(&a)))?;
            for i in &a.images {
                out.line(&format!("  image: {i}"))?;
            }
            for c in &a.containers {
                out.line(&format!("  container: {c}"))?;
            }
            for e in &a.evidence {
                out.line(&format!("  evidence: {}", escape_str(e)))?;
            }
            for r in &a.ranking {
                out.line(&format!(
                    "  rank: {:.2} {} {}{}",
                    r.score,
                    r.owner_kind.as_str(),
                    crate::docker::fsutil::short(&r.owner, 12),
                    r.owner_name
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ))?;
            }
        }
        out.finish()?;
        return Ok(0);
    }
    if let Some((a, b)) = range {
        let rows = at.block_rows(a, b.saturating_add(1), MAX_BLOCK_ROWS);
        for (s, e, class) in &rows {
            let attr = match class {
                BlockClass::Allocated { inode, .. } | BlockClass::Claimed { inode, .. } => {
                    Some(at.for_inode(*inode))
                }
                BlockClass::Metadata(_) => Some(at.for_blocks(*s, e - s)),
                // Free blocks: the locality hint (rule 4), labelled as such.
                BlockClass::Unallocated | BlockClass::AllocatedUnknown => {
                    Some(at.for_blocks(*s, e - s)).filter(|a| a.owner.is_some())
                }
                _ => None,
            };
            let (ino, meta) = match class {
                BlockClass::Allocated { inode, .. } | BlockClass::Claimed { inode, .. } => {
                    (Some(*inode), None)
                }
                BlockClass::Metadata(m) => (None, Some(m.as_str())),
                _ => (None, None),
            };
            if as_json {
                let mut v = json!({
                    "start": s, "end": e - 1, "blocks": e - s, "class": class.name(),
                });
                if let Value::Object(m) = &mut v {
                    if let Some(k) = meta {
                        m.insert("metadata".into(), json!(k));
                    }
                    if let Some(i) = ino {
                        m.insert("inode".into(), json!(i));
                    }
                    if let Some(a) = &attr {
                        m.insert(
                            "attribution".into(),
                            serde_json::to_value(a).unwrap_or(Value::Null),
                        );
                    }
                }
                out.json(&v)?;
            } else {
                let mut line = format!("{s}-{}\t{}", e - 1, class.name());
                if let Some(k) = meta {
                    line.push_str(&format!(" ({k})"));
                }
                if let Some(i) = ino {
                    line.push_str(&format!("\tinode {i}"));
                }
                if let Some(a) = &attr {
                    if meta.is_none() {
                        line.push_str(&format!("\t{}", owner_text(a)));
                    }
                }
                out.line(&line)?;
            }
        }
        out.finish()?;
        if rows.len() >= MAX_BLOCK_ROWS {
            eprintln!("note: stopped after {MAX_BLOCK_ROWS} rows; narrow --blocks");
        }
        return Ok(0);
    }
    let rows = at.summary();
    if as_json {
        for r in &rows {
            out.json(r)?;
        }
    } else {
        out.line(
            "KIND\tOWNER\tNAME\tALLOCATED\tDELETED-RECOVERABLE\tDELETED-HINT\tCARVED\tUNATTRIBUTED",
        )?;
        for r in &rows {
            out.line(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.owner_kind.map(|k| k.as_str()).unwrap_or("-"),
                if r.owner_kind == Some(crate::attribute::OwnerKind::Daemon) {
                    escape_str(&r.owner)
                } else {
                    crate::docker::fsutil::short(&r.owner, 12).to_string()
                },
                r.owner_name
                    .as_deref()
                    .map(escape_str)
                    .unwrap_or_else(|| "-".into()),
                r.blocks_allocated,
                r.blocks_deleted_recoverable,
                r.blocks_deleted_hint,
                r.blocks_carved,
                r.blocks_unattributed
            ))?;
        }
    }
    out.finish()?;
    Ok(0)
}

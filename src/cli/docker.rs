//! Docker commands: `containers`, `images`, `layers`, `roots`, `logs`,
//! `findings`, `whoowns`, and the merged-view `ls --container`, `cat`,
//! `export`.

use super::output::{print_warnings, Out};
use super::{open_fs, VolumeOpts};
use crate::docker::export::export_tar;
use crate::docker::overlay::{layer_marks, Lookup, MergedEntry, MergedView};
use crate::docker::{findings, logs, owner, tarsplit, Container, DockerHost, Whiteout};
use crate::ext4::inode::FileType;
use crate::ext4::Filesystem;
use crate::util::escape::{escape_bytes, escape_str, json_name};
use crate::{Error, Result};
use serde_json::json;
use std::path::Path;

fn load(vol: &VolumeOpts) -> Result<(Filesystem, DockerHost)> {
    let (_, fs) = open_fs(vol)?;
    let host = DockerHost::load(&fs);
    Ok((fs, host))
}

fn finish(out: Out, fs: &Filesystem, host: &DockerHost) -> Result<i32> {
    out.finish()?;
    let mut ws = host.warnings.clone();
    ws.extend(fs.take_warnings());
    print_warnings(&ws, 20);
    Ok(0)
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(escape_str).unwrap_or_else(|| "-".into())
}

pub fn roots(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let mut out = Out::new();
    if host.roots.is_empty() && !as_json {
        out.line("no Docker root found")?;
    }
    for r in &host.roots {
        if as_json {
            out.json(r)?;
        } else {
            out.line(&format!(
                "{}  drivers: {}{}",
                escape_bytes(&r.path),
                if r.drivers.is_empty() {
                    "-".into()
                } else {
                    r.drivers.join(",")
                },
                r.userns
                    .as_ref()
                    .map(|u| format!("  userns {u}"))
                    .unwrap_or_default()
            ))?;
            for h in &r.how {
                out.line(&format!("    found: {}", escape_str(h)))?;
            }
        }
    }
    finish(out, &fs, &host)
}

/// An image as docker's table shows it: a tag, or a 12-digit id.
fn image_column(image: &str) -> String {
    match image.strip_prefix("sha256:") {
        // Hex only: a hostile config's multi-byte name is not cut mid-char.
        Some(id) if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            id[..12].to_string()
        }
        _ => escape_str(image),
    }
}

/// `docker ps`: running-at-acquisition containers; `--all` for every one.
pub fn containers(vol: &VolumeOpts, all: bool, carve: bool, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let mut out = Out::new();
    if !as_json {
        out.line("CONTAINER ID  NAME                 IMAGE                STATUS      EXIT  PID     CREATED                         MOUNT ID      FLAGS")?;
    }
    // With --all, containers removed by `docker rm` follow the live ones.
    let removed = if all {
        // The table shows no hashes: only --json (recovered_files[].sha256)
        // needs every recoverable deleted file read and hashed.
        let opts = crate::recover::Options {
            hash: as_json,
            ..crate::recover::Options::default()
        };
        let rec = crate::recover::analyse(&fs, &opts);
        let mut removed = crate::docker::removed::find_removed(&fs, &host, &rec);
        // Docker traces carved from unallocated space complete the report.
        if carve && !host.roots.is_empty() {
            let res = crate::recover::carve::carve(
                &fs,
                &crate::recover::carve::Options {
                    kinds: Some(Vec::new()),
                    all_space: false,
                    traces: true,
                    exclude: crate::recover::carve::free_runs(&rec),
                },
            );
            crate::docker::removed::merge_carved(&mut removed, &host, &res.traces);
        }
        removed
    } else {
        Vec::new()
    };
    let live = host.containers.iter().filter(|c| all || c.running);
    let rows = live
        .map(|c| (c, None))
        .chain(removed.iter().map(|r| (&r.container, Some(&r.files))));
    for (c, files) in rows {
        let step = crate::docker::build::build_step(&host, c);
        if as_json {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let serde_json::Value::Object(m) = &mut v {
                if let Some(f) = files {
                    m.insert("recovered_files".into(), json!(f));
                }
                m.insert("build_step".into(), json!(step));
            }
            out.json(&v)?;
            continue;
        }
        let mut flags = Vec::new();
        if step.is_some() {
            flags.push("BUILD-STEP".to_string());
        }
        if c.running_at_acquisition {
            flags.push("RUNNING-AT-ACQUISITION".to_string());
        }
        if c.privileged {
            flags.push("privileged".into());
        }
        if c.pid_mode.as_deref() == Some("host") {
            flags.push("pid=host".into());
        }
        if c.network_mode.as_deref() == Some("host") {
            flags.push("net=host".into());
        }
        if c.removed {
            flags.push("REMOVED".into());
        }
        out.line(&format!(
            "{:<12}  {:<20} {:<20} {:<10} {:>5} {:>7} {:<31} {:<12}  {}",
            c.short_id(),
            opt(&c.name),
            c.image
                .as_deref()
                .map(image_column)
                .unwrap_or_else(|| "-".into()),
            opt(&c.status),
            c.exit_code
                .map(|e| e.to_string())
                .unwrap_or_else(|| "-".into()),
            c.pid.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
            opt(&c.created),
            c.mount_id
                .as_deref()
                .map(|m| crate::docker::fsutil::short(m, 12))
                .unwrap_or("-"),
            flags.join(",")
        ))?;
    }
    finish(out, &fs, &host)
}

pub fn images(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let mut out = Out::new();
    if !as_json {
        out.line(
            "IMAGE ID      KIND          TAGS                      LAYERS  SIZE        CREATED",
        )?;
    }
    for i in &host.images {
        if as_json {
            out.json(i)?;
            continue;
        }
        out.line(&format!(
            "{:<12}  {:<12}  {:<25} {:>6}  {:>10}  {}",
            crate::docker::fsutil::short(i.id_hex(), 12),
            i.kind,
            if i.tags.is_empty() {
                "<none>".into()
            } else {
                escape_str(&i.tags.join(","))
            },
            i.chain_ids.len(),
            i.size,
            opt(&i.config.created)
        ))?;
    }
    finish(out, &fs, &host)
}

/// Every layerdb layer, its overlay marks and the tar-split integrity
/// verdict.
pub fn layers(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let mut out = Out::new();
    for l in &host.layers {
        let integrity = tarsplit::verify_layer(&fs, l);
        let fmt = if l.driver == "aufs" {
            crate::docker::overlay::LayerFormat::Aufs
        } else {
            crate::docker::overlay::LayerFormat::Overlay
        };
        let marks = l
            .dir_inode
            .map(|d| layer_marks(&fs, d, fmt))
            .unwrap_or_default();
        let tags: Vec<String> = l
            .images
            .iter()
            .filter_map(|id| host.images.iter().find(|i| &i.id == id))
            .map(|i| i.display_name())
            .collect();
        if as_json {
            out.json(&json!({
                "layer": l,
                "image_names": tags,
                "whiteouts": marks.whiteouts,
                "opaque_dirs": marks.opaque_dirs,
                "redirects": marks.redirects,
                "integrity": integrity,
            }))?;
            continue;
        }
        out.line(&format!(
            "{}  cache {}  diff {}  size {}  {}{}",
            l.chain_id,
            l.cache_id.as_deref().unwrap_or("-"),
            l.diff_id.as_deref().unwrap_or("-"),
            l.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            integrity.verdict.to_uppercase(),
            if l.chain_id_ok == Some(false) {
                "  CHAIN-ID-MISMATCH"
            } else {
                ""
            }
        ))?;
        out.line(&format!("    images: {}", escape_str(&tags.join(", "))))?;
        if let Some(c) = &l.created_by {
            out.line(&format!("    created by: {}", escape_str(c)))?;
        }
        for w in &marks.whiteouts {
            out.line(&format!("    whiteout: {}", escape_str(w)))?;
        }
        for w in &marks.opaque_dirs {
            out.line(&format!("    opaque:   {}", escape_str(w)))?;
        }
        for a in &integrity.added {
            out.line(&format!("    ADDED:   {}", escape_str(a)))?;
        }
        for a in &integrity.missing {
            out.line(&format!("    MISSING: {}", escape_str(a)))?;
        }
        for a in &integrity.altered {
            out.line(&format!(
                "    ALTERED: {} ({})",
                escape_str(&a.path),
                escape_str(&a.what)
            ))?;
        }
    }
    finish(out, &fs, &host)
}

pub fn findings(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let mut ws = Vec::new();
    let f = findings::collect(&fs, &host.roots, &host.containers, &mut ws);
    let mut out = Out::new();
    for x in &f {
        if as_json {
            out.json(x)?;
        } else {
            out.line(&format!(
                "[{:<8}] {:<24} {}  (evidence: {}{})",
                x.severity.as_str(),
                x.kind,
                escape_str(&x.message),
                escape_str(&x.evidence.join(", ")),
                x.detail
                    .as_ref()
                    .map(|d| format!("; {}", escape_str(d)))
                    .unwrap_or_default()
            ))?;
        }
    }
    print_warnings(&ws, 20);
    finish(out, &fs, &host)
}

pub fn logs(vol: &VolumeOpts, container: &str, as_json: bool) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let c = host.find_container(container)?;
    let mut ws = Vec::new();
    let lines = logs::read_logs(&fs, c, &mut ws);
    let mut out = Out::new();
    for l in &lines {
        if as_json {
            out.json(l)?;
        } else {
            out.line(&format!(
                "{} {} {}",
                l.time.as_deref().unwrap_or("-"),
                escape_str(&l.stream),
                escape_str(&l.line)
            ))?;
        }
    }
    print_warnings(&ws, 20);
    finish(out, &fs, &host)
}

fn view_of<'a>(fs: &'a Filesystem, host: &DockerHost, c: &Container) -> MergedView<'a> {
    MergedView::of_container(fs, host, c)
}

fn image_names(host: &DockerHost, c: &Container, layer: usize) -> Vec<String> {
    let Some(l) = c.layers.get(layer) else {
        return Vec::new();
    };
    match &l.chain_id {
        Some(ch) => host
            .layer(&c.root, ch)
            .map(|x| {
                x.images
                    .iter()
                    .filter_map(|id| host.images.iter().find(|i| &i.id == id))
                    .map(|i| i.display_name())
                    .collect()
            })
            .unwrap_or_default(),
        None => vec![format!("container {}", c.display_name())],
    }
}

fn entry_json(
    view: &MergedView,
    host: &DockerHost,
    c: &Container,
    e: &MergedEntry,
) -> serde_json::Value {
    let i = &e.inode;
    let l = c.layers.get(e.layer);
    json!({
        "path": json_name(&e.path),
        "name": json_name(&e.name),
        "type": i.file_type(),
        "mode": i.mode_string(),
        "mode_octal": format!("{:o}", i.mode),
        "uid": view.ids(i).0,
        "gid": view.ids(i).1,
        "size": i.size,
        "mtime": i.mtime,
        "inode": i.ino,
        "layer": e.layer,
        "layer_role": l.map(|l| l.role),
        "layer_id": l.map(|l| l.id.clone()),
        "chain_id": l.and_then(|l| l.chain_id.clone()),
        "images": image_names(host, c, e.layer),
        "host_path": json_name(&view.host_path(e.layer, &e.path)),
        "symlink_target": if i.file_type() == FileType::Symlink { view.fs.symlink_target(i).ok().map(|t| json_name(&t)) } else { None },
        "origin": view.origin(e),
    })
}

pub(crate) fn whiteout_text(w: &Whiteout) -> String {
    let orig = match w.hidden.first() {
        Some(h) => format!(
            "original: inode {} ({:?}, {} bytes) in layer {} at {}",
            h.inode,
            h.ftype,
            h.size,
            crate::docker::fsutil::short(&h.layer_id, 12),
            escape_bytes(&h.host_path)
        ),
        None => "no lower original".into(),
    };
    format!(
        "D {:<14} {}  [{} {}]  {}",
        w.kind,
        escape_bytes(&w.path),
        w.layer_role,
        crate::docker::fsutil::short(&w.layer_id, 12),
        orig
    )
}

/// `ls --container`: the merged view.
pub fn merged_ls(
    vol: &VolumeOpts,
    container: &str,
    path: Option<&str>,
    recursive: bool,
    show_layers: bool,
    deleted: bool,
    as_json: bool,
) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let c = host.find_container(container)?;
    let view = view_of(&fs, &host, c);
    let p = path.unwrap_or("/");
    let dir = match view.lookup(p.as_bytes(), true)? {
        Lookup::Found(e) => e,
        Lookup::Deleted(w) => {
            eprintln!("whiteout: {}", whiteout_text(&w));
            return Err(Error::NotFound(format!(
                "{p}: deleted in container {}",
                c.display_name()
            )));
        }
        Lookup::Missing => {
            return Err(Error::NotFound(format!(
                "{p}: not in the merged view of {}",
                c.display_name()
            )))
        }
    };
    let mut out = Out::new();
    let mut err: Option<Error> = None;
    let mut emit = |e: &MergedEntry| -> Result<()> {
        if deleted {
            return Ok(());
        }
        if as_json {
            return out.json(&entry_json(&view, &host, c, e));
        }
        let i = &e.inode;
        let mut line = format!(
            "{} {:>6}/{:<6} {:>10} {} {}",
            i.mode_string(),
            view.ids(i).0,
            view.ids(i).1,
            i.size,
            i.mtime.rfc3339(),
            escape_bytes(&e.path)
        );
        if i.file_type() == FileType::Symlink {
            if let Ok(t) = view.fs.symlink_target(i) {
                line.push_str(&format!(" -> {}", escape_bytes(&t)));
            }
        }
        if show_layers {
            line.push_str(&format!(
                "  [{}; {}]",
                view.layer_label(e.layer),
                escape_str(&image_names(&host, c, e.layer).join(","))
            ));
        }
        out.line(&line)
    };
    let mut whs: Vec<Whiteout> = Vec::new();
    if !dir.is_dir() {
        emit(&dir)?;
    } else if recursive {
        view.walk(&dir, &mut emit, &mut |w| {
            whs.push(w.clone());
            Ok(())
        })?;
    } else {
        let (entries, w) = view.list(&dir);
        for e in &entries {
            if let Err(x) = emit(e) {
                err = Some(x);
                break;
            }
        }
        whs.extend(w);
        whs.extend(view.opaque_hidden(&dir));
    }
    if let Some(e) = err {
        return Err(e);
    }
    if deleted {
        let mut out2 = Out::new();
        for w in &whs {
            if as_json {
                out2.json(w)?;
            } else {
                out2.line(&whiteout_text(w))?;
            }
        }
        out2.finish()?;
    }
    finish(out, &fs, &host)
}

/// `cat --container`: a file of the merged view.
pub fn cat(vol: &VolumeOpts, container: &str, path: &str) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let c = host.find_container(container)?;
    let view = view_of(&fs, &host, c);
    match view.lookup(path.as_bytes(), true)? {
        Lookup::Found(e) => {
            if e.is_dir() {
                return Err(Error::usage(format!(
                    "{path}: is a directory (use ls --container)"
                )));
            }
            let mut out = Out::new();
            fs.stream_content(&e.inode, out.raw())
                .map_err(|e| match e {
                    Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => {
                        std::process::exit(0)
                    }
                    other => other,
                })?;
            finish(out, &fs, &host)
        }
        Lookup::Deleted(w) => {
            let how = match w.hidden.first() {
                Some(h) => format!(
                    "; the original is inode {} in layer {} ({}): read it with `whiteout icat {} {}`",
                    h.inode,
                    crate::docker::fsutil::short(&h.layer_id, 12),
                    escape_bytes(&h.host_path),
                    escape_str(&vol.image.display().to_string()),
                    h.inode
                ),
                None => String::new(),
            };
            Err(Error::NotFound(format!(
                "{}: deleted in container {} ({} in its {} layer {}){how}",
                escape_str(path),
                c.display_name(),
                w.kind,
                w.layer_role,
                crate::docker::fsutil::short(&w.layer_id, 12)
            )))
        }
        Lookup::Missing => Err(Error::NotFound(format!(
            "{}: not in the merged view of container {}",
            escape_str(path),
            c.display_name()
        ))),
    }
}

/// `export --container -o FILE`.
pub fn export(vol: &VolumeOpts, container: &str, out_path: &Path) -> Result<i32> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if out_path.as_os_str() == "-" {
        return Err(Error::usage("export needs an output file (-o rootfs.tar)"));
    }
    if same(out_path, &vol.image) {
        return Err(Error::usage(format!(
            "refusing to overwrite the evidence image {}",
            vol.image.display()
        )));
    }
    let (fs, host) = load(vol)?;
    let c = host.find_container(container)?;
    let view = view_of(&fs, &host, c);
    let w = crate::report::extract::create_output_file(out_path, &[&vol.image])?;
    let (_, stats) = export_tar(&view, w)?;
    eprintln!(
        "exported container {} ({}): {} entries, {} files, {} bytes to {}",
        escape_str(&c.display_name()),
        c.short_id(),
        stats.entries,
        stats.files,
        stats.bytes,
        out_path.display()
    );
    print_warnings(
        &stats
            .skipped
            .iter()
            .map(|s| format!("not exported: {s}"))
            .collect::<Vec<_>>(),
        20,
    );
    finish(Out::new(), &fs, &host)
}

pub fn whoowns(
    vol: &VolumeOpts,
    path: Option<&str>,
    inode: Option<u32>,
    as_json: bool,
) -> Result<i32> {
    let (fs, host) = load(vol)?;
    let paths: Vec<(Vec<u8>, Option<u32>)> = match (path, inode) {
        (_, Some(n)) => {
            let ps = owner::paths_of_inode(&fs, n, 64);
            if ps.is_empty() {
                return Err(Error::NotFound(format!("inode {n}: no live path names it")));
            }
            ps.into_iter().map(|p| (p, Some(n))).collect()
        }
        (Some(p), None) => {
            let ino = fs.lookup(p.as_bytes()).ok();
            if ino.is_none() {
                return whoowns_deleted(&fs, &host, p, as_json);
            }
            vec![(p.as_bytes().to_vec(), ino)]
        }
        (None, None) => return Err(Error::usage("give a host PATH or --inode N")),
    };
    let mut out = Out::new();
    for (p, ino) in paths {
        let o = owner::who_owns(&fs, &host, &p, ino);
        if as_json {
            out.json(&o)?;
            continue;
        }
        out.line(&format!(
            "{} (inode {}): {}{}",
            escape_str(&o.host_path),
            ino.map(|i| i.to_string()).unwrap_or_else(|| "?".into()),
            o.area,
            o.root
                .as_ref()
                .map(|r| format!(" in Docker root {}", escape_str(r)))
                .unwrap_or_default()
        ))?;
        if let Some(l) = &o.layer_id {
            out.line(&format!("  layer dir: {l}"))?;
        }
        if let Some(p) = &o.path_in_layer {
            out.line(&format!("  path in layer/container: {}", escape_str(p)))?;
        }
        for ch in &o.chain_ids {
            out.line(&format!("  chain id: {ch}"))?;
        }
        for i in &o.images {
            out.line(&format!(
                "  image: {} {}",
                i.id,
                if i.tags.is_empty() {
                    "<none>".into()
                } else {
                    escape_str(&i.tags.join(","))
                }
            ))?;
        }
        for c in &o.containers {
            out.line(&format!(
                "  container: {} {} ({} layer): {}",
                crate::docker::fsutil::short(&c.id, 12),
                c.name.as_deref().map(escape_str).unwrap_or_default(),
                c.role,
                escape_str(&c.state)
            ))?;
        }
    }
    finish(out, &fs, &host)
}

/// `whoowns PATH` where no live file has that path: the deleted
/// incarnations that had it, each with its owner and evidence. Exit 1
/// only when nothing at all is known of the path.
fn whoowns_deleted(fs: &Filesystem, host: &DockerHost, path: &str, as_json: bool) -> Result<i32> {
    let want = format!("/{}", path.trim_matches('/'));
    let r = crate::recover::analyse(fs, &crate::recover::Options::default());
    let hits: Vec<usize> = r
        .candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            std::iter::once(&c.path[..])
                .chain(c.other_paths().iter().map(|(p, _)| p.as_slice()))
                .any(|p| p == want.as_bytes())
        })
        .map(|(i, _)| i)
        .collect();
    if hits.is_empty() {
        return Err(Error::NotFound(format!(
            "{}: no live file and no deleted incarnation has this path",
            escape_str(path)
        )));
    }
    let ctx = crate::attribute::DockerContext::load(fs, &r);
    let classes = crate::docker::classify::Classes::new(
        ctx.as_ref().map(|c| (&c.host, c.removed.as_slice())),
        &r.candidates,
    );
    let at = crate::attribute::Attributor::new(fs, ctx.as_ref(), &r);
    let place = owner::who_owns(fs, host, want.as_bytes(), None);
    let mut out = Out::new();
    for i in hits {
        let c = &r.candidates[i];
        let a = at.for_candidate(i);
        let k = classes.get(i);
        if as_json {
            let mut row = super::recover::candidate_json(c);
            if let serde_json::Value::Object(m) = &mut row {
                m.insert("live".into(), json!(false));
                m.insert("place".into(), json!(place));
                m.insert("class".into(), json!(k.as_ref().map(|k| k.kind)));
                m.insert(
                    "container".into(),
                    json!(k.as_ref().and_then(|k| k.container.clone())),
                );
                m.insert("attribution".into(), json!(a));
            }
            out.json(&row)?;
            continue;
        }
        out.line(&format!(
            "{} (deleted: inode {} generation {}): {}",
            escape_str(&want),
            c.inode,
            c.generation
                .map(|g| g.to_string())
                .unwrap_or_else(|| "?".into()),
            k.as_ref()
                .map(|k| k.kind.as_str())
                .unwrap_or("host-deleted"),
        ))?;
        if let Some(a) = &a {
            out.line(&format!(
                "  owner: {} {} ({}, {})",
                a.owner_kind.map(|k| k.as_str()).unwrap_or("none"),
                a.owner
                    .as_deref()
                    .map(|o| crate::docker::fsutil::short(o, 12))
                    .unwrap_or("-"),
                a.owner_name.as_deref().map(escape_str).unwrap_or_default(),
                a.confidence.as_str()
            ))?;
        }
        out.line(&format!(
            "  content: {}; size {}; deleted {}{}",
            serde_json::to_value(c.content)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            c.size.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
            c.dtime
                .get()
                .map(|t| t.rfc3339())
                .unwrap_or_else(|| "at an unknown time".into()),
            c.dtime_source()
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(|s| format!(" ({s})")))
                .unwrap_or_default()
        ))?;
        for e in c.evidence_text() {
            out.line(&format!("  evidence: {e}"))?;
        }
    }
    finish(out, fs, host)
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_column_shortens_ids_and_never_cuts_a_character() {
        let id = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(super::image_column(&id), "abababababab");
        let hostile = format!("sha256:{}", "é".repeat(32)); // 64 bytes
        assert_eq!(super::image_column(&hostile), hostile);
        assert_eq!(super::image_column("app:1"), "app:1");
    }
}

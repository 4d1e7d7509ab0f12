//! `scan` of one image: every analysis in order, every report file.
//!
//! Order: chain of custody (size, mtime, hashes), partitions, filesystem,
//! Docker roots, images, layers (with integrity), containers (live and
//! removed), merged-view whiteouts, deleted files (classified), attribution,
//! carving, findings; then the end-of-run custody check. `done.json` is
//! written last: its presence marks a complete image for resume.

use super::bodyfile::{self, Row};
use super::extract::SafeDir;
use super::hashing::{self, FileState, Hashes};
use super::recovered::{self, candidate_json};
use super::timeline::Timeline;
use crate::docker::classify::Classes;
use crate::docker::overlay::{layer_marks, LayerFormat, MergedView};
use crate::docker::removed::{self, RemovedContainer};
use crate::docker::{findings, logs, tarsplit, DockerHost, Finding, Whiteout};
use crate::ext4::inode::ROOT_INO;
use crate::ext4::volume::locate_lvm;
use crate::ext4::Filesystem;
use crate::recover::{self, ContentState, Recovery};
use crate::util::escape::json_name;
use crate::util::time::{parse_rfc3339, Timestamp};
use crate::{image, Error, Result};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// report.json schema identifier and version (see the README).
pub const SCHEMA: &str = "whiteout-scan-report";
pub const SCHEMA_VERSION: u32 = 1;
/// Files and folders a scan writes in an image's output directory.
pub const OUTPUTS: &[&str] = &[
    "done.json",
    "error.json",
    "report.json",
    "report.html",
    "bodyfile",
    "timeline.jsonl",
    "scan.log",
    "recovered",
    "carved",
];

/// Hashes a manifest expects (any subset).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Expected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Expected {
    pub fn is_empty(&self) -> bool {
        self.md5.is_none() && self.sha1.is_none() && self.sha256.is_none()
    }
    /// Mismatching digests as `name expected X, got Y`.
    pub fn mismatches(&self, h: &Hashes) -> Vec<String> {
        let mut v = Vec::new();
        for (n, e, g) in [
            ("md5", &self.md5, &h.md5),
            ("sha1", &self.sha1, &h.sha1),
            ("sha256", &self.sha256, &h.sha256),
        ] {
            if let Some(e) = e {
                if !e.trim().eq_ignore_ascii_case(g) {
                    v.push(format!("{n} expected {}, got {g}", e.trim()));
                }
            }
        }
        v
    }
}

/// Options of one image's scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub hash: bool,
    pub carve: bool,
    pub quiet: bool,
    pub command_line: Vec<String>,
    pub case_id: Option<String>,
    pub expected: Option<Expected>,
    pub partition: Option<u32>,
    pub offset: Option<u64>,
    /// An LVM logical volume, `VG/LV`.
    pub volume: Option<String>,
}

/// Result of one image's scan.
#[derive(Debug)]
pub struct Outcome {
    /// 0 done, 3 finished with damaged structures skipped.
    pub exit_code: i32,
    pub warnings: usize,
}

pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(d.as_secs() as i64, d.subsec_nanos())
}

/// Remove what an earlier (interrupted or forced) scan left in `dir`:
/// only the names a scan writes, never anything else. Symlinks are
/// removed as links, never followed.
// Removes only whiteout's own outputs in the output directory (`--force`).
#[allow(clippy::disallowed_methods)]
pub fn clear_outputs(dir: &Path) -> Result<()> {
    for n in OUTPUTS {
        let p = dir.join(n);
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let r = if m.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| Error::io(format!("removing {}", p.display()), e))?;
    }
    Ok(())
}

/// The evidence's custody record before analysis.
pub struct Custody {
    pub state: FileState,
    pub hashes: Option<Hashes>,
}

/// Stat and hash the evidence, and check it against expected hashes.
pub fn custody(image: &Path, opts: &ScanOptions) -> Result<Custody> {
    let state = hashing::file_state(image)?;
    let want = opts.expected.as_ref().filter(|e| !e.is_empty());
    let hashes = if opts.hash || want.is_some() {
        Some(hashing::hash_image(image, opts.quiet, "hashing")?)
    } else {
        None
    };
    if let (Some(e), Some(h)) = (want, &hashes) {
        let bad = e.mismatches(h);
        if !bad.is_empty() {
            return Err(Error::usage(format!(
                "{}: hash mismatch against the manifest ({}); not analysed",
                image.display(),
                bad.join("; ")
            )));
        }
    }
    Ok(Custody { state, hashes })
}

struct Log {
    w: std::io::BufWriter<std::fs::File>,
    warnings: Vec<String>,
    notes: Vec<String>,
    /// Start of the current phase, for the per-phase timings in scan.log.
    phase_start: std::time::Instant,
}

impl Log {
    fn info(&mut self, msg: &str) {
        let _ = writeln!(self.w, "{} info {}", now().rfc3339(), msg);
    }
    /// Ends a phase: logs its wall time and starts the next one.
    fn phase_done(&mut self, phase: &str) {
        let t = self.phase_start.elapsed();
        self.info(&format!("phase {phase}: {:.2} s", t.as_secs_f64()));
        self.phase_start = std::time::Instant::now();
    }
    fn warn(&mut self, phase: &str, msg: &str) {
        let m = format!("{phase}: {msg}");
        // Notes describe normal states: they do not make the exit code 3.
        if crate::util::warning::severity(msg) == crate::util::warning::Severity::Note {
            let _ = writeln!(
                self.w,
                "{} note {}",
                now().rfc3339(),
                crate::util::escape::escape_str(&m)
            );
            self.notes.push(m);
            return;
        }
        let _ = writeln!(
            self.w,
            "{} warning {}",
            now().rfc3339(),
            crate::util::escape::escape_str(&m)
        );
        self.warnings.push(m);
    }
    fn warn_all(&mut self, phase: &str, ws: &[String]) {
        for w in ws {
            self.warn(phase, w);
        }
    }
}

/// The container and its metadata; with hashing on, the hashes stored in
/// it (EWF) are checked against the media as read, which also reads every
/// chunk and so reports every damaged one.
fn log_container(log: &mut Log, ev: &image::Evidence, hash: bool) {
    for l in ev.summary_lines() {
        if !l.starts_with("  warning:") {
            log.info(&l);
        }
    }
    if hash {
        match image::verify_stored_hashes(ev) {
            Ok(checks) => {
                for c in checks {
                    if c.matches {
                        log.info(&format!("stored {} verified: {}", c.algorithm, c.computed));
                    } else {
                        let m = format!(
                            "stored {} {} does not match the media as read ({})",
                            c.algorithm, c.stored, c.computed
                        );
                        log.warn("container", &m);
                    }
                }
            }
            Err(e) => log.warn("container", &format!("stored hashes not checked: {e}")),
        }
    }
    for w in ev.summary().warnings {
        log.warn("container", &w);
    }
}

fn ts_field(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::from(t.rfc3339())).unwrap_or(Value::Null)
}

fn docker_time(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref()
        .filter(|s| !crate::docker::containers::is_zero_time(s))
        .and_then(parse_rfc3339)
}

/// A buffered output file (the bodyfile, timeline.jsonl).
type OutFile = std::io::BufWriter<std::fs::File>;
type TimelineFile = Timeline<OutFile>;

/// Scan one image into `out` (created; must not hold the evidence).
///
/// A pipeline of phases: custody, the filesystem, Docker beside the
/// recovery, attribution and classification beside the walks (bodyfile,
/// timeline, merged views, recovered files), deleted rows, Docker events,
/// the block map, the end-of-run custody check, then the report files.
/// Each phase's results are held here until the end of the scan; only the
/// deleted names are freed early (in `docker_and_recovery`).
pub fn scan_image(img: &Path, out: &Path, opts: &ScanOptions) -> Result<Outcome> {
    let started = now();
    let dir = SafeDir::create(out, &[img])?;
    // Custody, then the filesystem: a missing or unreadable image, or a
    // hash mismatch, leaves any earlier report in place.
    let cust = custody(img, opts)?;
    let opened = open_filesystem(img, opts)?;
    clear_outputs(dir.root())?;
    let mut log = start_log(&dir, img, opts, &cust, &opened)?;
    let fs = &opened.fs;
    let sp = hashing::spinner("docker", opts.quiet);
    let ctx = Ctx {
        fs,
        dir: &dir,
        img,
        opts,
        sp: &sp,
    };
    let mut an = docker_and_recovery(&ctx, &mut log);
    // Bodyfile, merged views (whiteouts), timeline.
    let mut body = dir.create_root_file_sized("bodyfile", 1 << 20)?;
    let mut tl = Timeline::new(dir.create_root_file_sized("timeline.jsonl", 1 << 20)?);
    let tl_lock = std::sync::Mutex::new(&mut tl);
    let (order, group) = walk_order(&an.host);
    let listings = crate::docker::overlay::ListingCache::new(300_000);
    let walker = Walker {
        fs,
        host: &an.host,
        dir: &dir,
        order: &order,
        group: &group,
        listings: &listings,
        tl: &tl_lock,
    };
    let (cl, walked) = classify_and_walk(
        &ctx,
        &mut log,
        &an.host,
        &mut an.gone,
        &an.rec,
        &walker,
        &mut body,
    )?;
    let mut walks = finish_walks(fs, &mut log, &an.host, &order, walked)?;
    walks.body_rows += deleted_rows(&mut body, &mut tl, &an.rec, &cl)?;
    log.phase_done("deleted rows");
    docker_events(fs, &mut log, &mut tl, &an.host, &an.gone)?;
    let timeline_rows = tl.rows;
    let histogram = tl.finish(60)?;
    log.phase_done("docker events and timeline");

    sp.finish_and_clear();

    // Block map.
    let block_map = block_map(fs, &an.rec, 2048);
    log.phase_done("block map");

    let end = end_custody(img, opts, &cust, &mut log)?;

    // report.json
    // One candidate's row. Built on demand: report.json streams them (234k
    // candidates made a 460 MB array, about 4 GiB as one in-memory Value).
    let cands = Candidates {
        rec: &an.rec,
        cl: &cl,
        written_to: &walks.written_to,
    };
    let n_candidates = cl.classes.len();
    let removed_json: Vec<Value> = an
        .gone
        .iter()
        .map(|g| {
            let mut v = serde_json::to_value(&g.container).unwrap_or_default();
            if let Value::Object(m) = &mut v {
                m.insert("recovered_files".into(), json!(g.files));
                m.insert(
                    "build_step".into(),
                    json!(crate::docker::build::build_step(&an.host, &g.container)),
                );
            }
            v
        })
        .collect();
    let exit_code = if log.warnings.is_empty() { 0 } else { 3 };
    let finished = now();
    let report = assemble_report(&ReportInput {
        img,
        opts,
        started,
        finished,
        cust: &cust,
        end: &end,
        opened: &opened,
        an: &an,
        cl: &cl,
        walks: &walks,
        timeline_rows,
        histogram: &histogram,
        block_map: &block_map,
        removed_json: &removed_json,
        log: &log,
        exit_code,
        n_candidates,
    });
    write_outputs(&dir, &mut log, report, &cands, n_candidates, exit_code)?;
    // The completion marker, last.
    write_done(&dir, img, &cust, finished, exit_code)?;
    Ok(Outcome {
        exit_code,
        warnings: log.warnings.len(),
    })
}

/// What every phase reads: the filesystem, the output directory, the
/// evidence's path and the options.
struct Ctx<'a> {
    fs: &'a Filesystem,
    dir: &'a SafeDir,
    img: &'a Path,
    opts: &'a ScanOptions,
    /// The progress line (hidden with --quiet or off a terminal).
    sp: &'a ProgressBar,
}

/// The evidence opened down to its ext4 filesystem.
struct Opened {
    ev: image::Evidence,
    src: image::Source,
    loc: crate::ext4::volume::Located,
    fs: Filesystem,
}

/// Open the evidence, find the ext4 volume (partition, LVM) and open it.
fn open_filesystem(img: &Path, opts: &ScanOptions) -> Result<Opened> {
    let ev = image::open_evidence(img)?;
    let src = ev.source.clone();
    let loc = locate_lvm(
        &src,
        opts.volume.as_deref(),
        opts.partition,
        opts.offset,
        &ev.warnings,
    )?;
    let fs = Filesystem::open(loc.volume.clone()).map_err(|e| match e {
        Error::Io { context, source } => {
            Error::usage(format!("{}: {context}: {source}", img.display()))
        }
        other => other,
    })?;
    Ok(Opened { ev, src, loc, fs })
}

/// scan.log, begun with the evidence, its container, partitions and
/// filesystem.
fn start_log(
    dir: &SafeDir,
    img: &Path,
    opts: &ScanOptions,
    cust: &Custody,
    opened: &Opened,
) -> Result<Log> {
    let mut log = Log {
        w: dir.create_root_file("scan.log")?,
        warnings: Vec::new(),
        notes: Vec::new(),
        phase_start: std::time::Instant::now(),
    };
    log.info(&format!(
        "whiteout {} scan of {}",
        env!("CARGO_PKG_VERSION"),
        img.display()
    ));
    if let Some(h) = &cust.hashes {
        log.info(&format!(
            "{} bytes; md5 {} sha1 {} sha256 {}",
            h.bytes, h.md5, h.sha1, h.sha256
        ));
    }
    log_container(&mut log, &opened.ev, opts.hash);
    // Partitions and filesystem.
    if let Some(n) = &opened.loc.note {
        log.info(n);
    }
    log.warn_all("partitions", &opened.loc.table.warnings);
    log.warn_all("filesystem", &opened.fs.take_warnings());
    Ok(log)
}

/// Docker (roots, images, layers with integrity and marks, containers)
/// and the deleted-file analysis, and the removed containers found from
/// the deleted names.
struct Analysis {
    host: DockerHost,
    /// Each layer with its integrity and whiteout marks.
    layers: Vec<Value>,
    /// The recovery, without its deleted names (freed once read).
    rec: Recovery,
    gone: Vec<RemovedContainer>,
}

fn docker_and_recovery(ctx: &Ctx, log: &mut Log) -> Analysis {
    let (fs, sp) = (ctx.fs, ctx.sp);
    // Docker (roots, images, layers, containers; layer verification) and
    // the deleted-file analysis are independent: they run side by side.
    log.info("docker: roots, images, layers, containers");
    log.info("recovery: inode tables, journal, directory slack, freed directory blocks");
    sp.set_message("docker and deleted files");
    use rayon::prelude::*;
    // The recovery runs on this thread: its arrays live on in the later
    // phases, which run here too, so they share one allocator arena (on a
    // pool thread, glibc kept its freed memory apart: about 40 MB at 5M).
    let ((host, layers), mut rec): ((DockerHost, Vec<Value>), Recovery) = std::thread::scope(|s| {
        let docker = s.spawn(|| {
            let host = DockerHost::load(fs);
            // Layers are verified on every core (tar-split CRCs read each
            // file).
            let layers = host
                .layers
                .par_iter()
                .map(|l| {
                    let integrity = tarsplit::verify_layer(fs, l);
                    let fmt = if l.driver == "aufs" {
                        LayerFormat::Aufs
                    } else {
                        LayerFormat::Overlay
                    };
                    let marks = l
                        .dir_inode
                        .map(|d| layer_marks(fs, d, fmt))
                        .unwrap_or_default();
                    json!({"layer": l, "integrity": integrity, "whiteouts": marks.whiteouts,
                           "opaque_dirs": marks.opaque_dirs, "redirects": marks.redirects})
                })
                .collect();
            (host, layers)
        });
        let rec = recover::analyse(fs, &recover::Options::default());
        let docker = docker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (docker, rec)
    });
    log.warn_all("docker", &host.warnings);
    log.phase_done("docker and recovery (side by side)");
    sp.set_message("attribution");
    // Removed containers are found from the deleted names (merged with
    // carved traces below). No later phase reads the names, so they are
    // freed before the attribution map is built (about 15 MB at 5M inodes).
    let gone: Vec<RemovedContainer> = if host.roots.is_empty() {
        Vec::new()
    } else {
        removed::find_removed(fs, &host, &rec)
    };
    rec.names = Vec::new();
    Analysis {
        host,
        layers,
        rec,
        gone,
    }
}

/// One walk's result: the host's rows (task 0), or a container's rows,
/// whiteouts and error.
enum Part {
    Host(Result<u64>),
    Container(u64, Vec<Whiteout>, Option<String>),
}

/// The order in which the containers are walked, and each one's cache
/// group.
///
/// Containers of one image are walked one after another, so their
/// shared image-layer listings stay in the cache (about 340 bytes an
/// entry). Their bodyfile rows follow that order; report.json keeps
/// the containers' own order. A tree larger than the cap keeps its
/// first 300k entries: on the large Docker host (a 455k-entry image)
/// caps of 200k to 600k ran the phase in about the same time, and 100k
/// took half as long again.
fn walk_order(host: &DockerHost) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..host.containers.len()).collect();
    order.sort_by_key(|&i| host.containers.get(i).map(|c| c.image.clone()));
    // Cache group of each task: the position of its image's first
    // container in `order` (sorted by image, so one pass).
    let mut group: Vec<usize> = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        let img = host.containers.get(i).map(|c| &c.image);
        let prev = k
            .checked_sub(1)
            .and_then(|p| order.get(p))
            .and_then(|&j| host.containers.get(j))
            .map(|c| &c.image);
        let g = match group.last() {
            Some(&g) if prev == img => g,
            _ => k,
        };
        group.push(g);
    }
    (order, group)
}

/// The bodyfile walks: host live files (task 0) and each container's
/// merged view (tasks 1..), run on every core, their bodyfile rows
/// written in this order. Only task 0 writes timeline events.
struct Walker<'a, 'b> {
    fs: &'a Filesystem,
    host: &'a DockerHost,
    dir: &'a SafeDir,
    order: &'a [usize],
    group: &'a [usize],
    listings: &'a crate::docker::overlay::ListingCache,
    tl: &'a std::sync::Mutex<&'b mut TimelineFile>,
}

/// One bodyfile row into a walk's ordered output.
fn put_row(line: &mut Vec<u8>, w: &mut crate::util::ordered::OrderedWriter, r: &Row) -> Result<()> {
    line.clear();
    r.push_line(line);
    w.write_all(line).map_err(|e| Error::io("bodyfile", e))
}

impl Walker<'_, '_> {
    /// The walks write the bodyfile (host rows, then each container's
    /// merged view) and the host's timeline events. 256 MB of out-of-turn
    /// output stays in memory: 8 MB per task spilled about 1 GB on the
    /// large Docker host, each spilled byte written, read back and written
    /// again.
    fn run(&self, body: &mut OutFile) -> std::io::Result<Vec<Part>> {
        crate::util::ordered::run(
            self.host.containers.len() + 1,
            rayon::current_num_threads(),
            256 << 20,
            Some(&|i| self.dir.scratch_file(i)),
            body,
            &|t, w| self.task(t, w),
        )
    }

    fn task(&self, t: usize, w: &mut crate::util::ordered::OrderedWriter) -> Part {
        match t
            .checked_sub(1)
            .and_then(|i| self.order.get(i))
            .and_then(|&i| self.host.containers.get(i))
        {
            Some(c) => self.container(t, c, w),
            None => self.host_files(w),
        }
    }

    /// The host's live files: bodyfile rows and timeline events.
    fn host_files(&self, w: &mut crate::util::ordered::OrderedWriter) -> Part {
        let fs = self.fs;
        let mut line = Vec::new();
        let Ok(mut tl) = self.tl.lock() else {
            return Part::Host(Err(Error::io(
                "timeline.jsonl",
                std::io::Error::other("lock poisoned"),
            )));
        };
        let mut rows = 0u64;
        let mut walk_err: Option<Error> = None;
        let r = fs.walk(ROOT_INO, b"", &mut |e| {
            if walk_err.is_some() {
                return;
            }
            let Ok(i) = fs.inode(e.entry.inode) else {
                return;
            };
            let r = Row::of_inode(e.path, None, false, Some(e.entry.dirent_type()), &i);
            if let Err(x) = put_row(&mut line, w, &r) {
                walk_err = Some(x);
                return;
            }
            rows += 1;
            if let Err(x) = file_events(&mut tl, &r, None, None) {
                walk_err = Some(x);
            }
        });
        Part::Host(match (r, walk_err) {
            (Err(e), _) | (_, Some(e)) => Err(e),
            _ => Ok(rows),
        })
    }

    /// One container's merged view (task `t`): rows and whiteouts.
    fn container(
        &self,
        t: usize,
        c: &crate::docker::Container,
        w: &mut crate::util::ordered::OrderedWriter,
    ) -> Part {
        let fs = self.fs;
        let mut line = Vec::new();
        let name = c.display_name();
        let g = t
            .checked_sub(1)
            .and_then(|i| self.group.get(i))
            .copied()
            .unwrap_or(0);
        let view = MergedView::of_container(fs, self.host, c).with_cache(self.listings, g);
        let mut whs: Vec<Whiteout> = Vec::new();
        let mut rows = 0u64;
        let res = view.root().and_then(|root| {
            view.walk(
                &root,
                &mut |e| {
                    let i = &e.inode;
                    let (uid, gid) = view.ids(i);
                    // Ids as the container sees them (userns-remap).
                    let r = Row {
                        uid,
                        gid,
                        ..Row::of_inode(&e.path, Some(&name), false, None, i)
                    };
                    rows += 1;
                    put_row(&mut line, w, &r)
                },
                &mut |wh| {
                    whs.push(wh.clone());
                    Ok(())
                },
            )
        });
        let mut err = res.err().map(|e| format!("container {name}: {e}"));
        for wh in &whs {
            let Some(h) = wh.hidden.first() else { continue };
            let Ok(i) = fs.inode(h.inode) else { continue };
            let r = Row::of_inode(&wh.path, Some(&name), true, None, &i);
            if let Err(e) = put_row(&mut line, w, &r) {
                err.get_or_insert(format!("container {name}: {e}"));
                break;
            }
            rows += 1;
        }
        Part::Container(rows, whs, err)
    }
}

/// Attribution, carving, removed containers, classification and
/// findings: what the deleted rows, recovered files and report read.
struct Classified<'a> {
    attributor: crate::attribute::Attributor<'a>,
    carving: Value,
    classes: Classes<'a>,
    found: Vec<Finding>,
    /// Names of containers, live and removed, by id.
    cname: HashMap<String, String>,
}

fn classify<'a>(
    ctx: &Ctx<'a>,
    log: &mut Log,
    host: &DockerHost,
    gone: &mut Vec<RemovedContainer>,
    rec: &'a Recovery,
) -> Result<Classified<'a>> {
    let fs = ctx.fs;
    let attributor = crate::attribute::Attributor::with_docker(
        fs,
        (!host.roots.is_empty()).then_some(host),
        &gone[..],
        rec,
    );
    log.phase_done("attribution");
    log.warn_all("recovery", &rec.warnings);
    // Carving (unallocated space; blocks recovered through metadata are
    // left out so only new material is reported). Its Docker traces feed
    // the removed-container report.
    let (carving, traces) = if ctx.opts.carve {
        ctx.sp.set_message("carving");
        log.info("carving unallocated space");
        carving_section(fs, ctx.dir, ctx.img, rec, &attributor)?
    } else {
        (
            json!({"status": "skipped", "reason": "--no-carve", "files": []}),
            Vec::new(),
        )
    };
    if !host.roots.is_empty() {
        removed::merge_carved(gone, host, &traces);
    }
    let classes = Classes::new(Some((host, &gone[..])), &rec.candidates);
    let mut fws = Vec::new();
    let found: Vec<Finding> = findings::collect(fs, &host.roots, &host.containers, &mut fws);
    log.warn_all("findings", &fws);
    log.phase_done("carving, removed containers, classification, findings");

    // Names of containers, live and removed, by id.
    let mut cname: HashMap<String, String> = Default::default();
    for c in host
        .containers
        .iter()
        .chain(gone.iter().map(|g| &g.container))
    {
        cname.insert(c.id.clone(), c.display_name());
    }
    Ok(Classified {
        attributor,
        carving,
        classes,
        found,
        cname,
    })
}

/// The recovered files and their manifest, with each written candidate's
/// path (`recovered/...`).
fn write_recovered_files(
    ctx: &Ctx,
    rdir: &SafeDir,
    rec: &Recovery,
    cl: &Classified,
) -> Result<(recovered::Written, HashMap<usize, String>)> {
    let written_to: std::cell::RefCell<HashMap<usize, String>> = Default::default();
    let written = recovered::write_recovered(
        ctx.fs,
        rdir,
        &rec.candidates,
        recovered::Filter::default(),
        &|i, m| {
            if let Some(p) = m.get("written_to").and_then(|v| v.as_str()) {
                written_to.borrow_mut().insert(i, format!("recovered/{p}"));
            }
            let (Some(k), Some(c)) = (cl.classes.get(i), rec.candidates.get(i)) else {
                return;
            };
            m.insert("class".into(), json!(k.kind));
            m.insert("container".into(), json!(k.container));
            m.insert(
                "container_name".into(),
                json!(k.container.as_ref().and_then(|id| cl.cname.get(id))),
            );
            m.insert("layer".into(), json!(k.layer));
            m.insert("container_path".into(), json!(json_name(k.path(c))));
            m.insert(
                "attribution".into(),
                candidate_attribution(&cl.attributor, i),
            );
        },
    )?;
    Ok((written, written_to.into_inner()))
}

/// The walks' and the recovered files' results, not yet checked.
struct Walked {
    parts: std::io::Result<Vec<Part>>,
    recovered: Result<(recovered::Written, HashMap<usize, String>)>,
}

/// Attribution and classification beside the walks, then the recovered
/// files beside the rest of the walks.
fn classify_and_walk<'a>(
    ctx: &Ctx<'a>,
    log: &mut Log,
    host: &DockerHost,
    gone: &mut Vec<RemovedContainer>,
    rec: &'a Recovery,
    walker: &Walker,
    body: &mut OutFile,
) -> Result<(Classified<'a>, Walked)> {
    // With containers, the walks start now, beside the attribution (one
    // core) and classification: none of them reads the other's results.
    // Without, the host walk runs later on this thread, in its malloc
    // arena (a new thread's arena added 30 MB at 5M inodes).
    let early = !host.containers.is_empty();
    std::thread::scope(|s| -> Result<_> {
        let (early_walks, late_body) = if early {
            (Some(s.spawn(|| walker.run(body))), None)
        } else {
            (None, Some(body))
        };
        let cl = classify(ctx, log, host, gone, rec)?;

        ctx.sp.set_message("bodyfile, timeline and recovered files");
        // Recovered files are written meanwhile, on a thread of their own:
        // mostly file I/O, which overlaps the walks' CPU work.
        let rdir = SafeDir::create(&ctx.dir.root().join("recovered"), &[ctx.img])?;
        let (parts, recovered) = std::thread::scope(|s2| {
            let rh = s2.spawn(|| write_recovered_files(ctx, &rdir, rec, &cl));
            let parts = match (early_walks, late_body) {
                (Some(h), _) => h
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("bodyfile walks failed"))),
                (None, Some(b)) => walker.run(b),
                (None, None) => Ok(Vec::new()),
            };
            let r = rh.join().unwrap_or_else(|_| {
                Err(Error::io(
                    "recovered files",
                    std::io::Error::other("writer thread failed"),
                ))
            });
            (parts, r)
        });
        Ok((cl, Walked { parts, recovered }))
    })
}

/// The walks' totals: bodyfile rows, whiteouts per container (in the
/// containers' order), the recovered files.
struct Walks {
    body_rows: u64,
    whiteouts: Vec<Value>,
    written: recovered::Written,
    written_to: HashMap<usize, String>,
}

fn finish_walks(
    fs: &Filesystem,
    log: &mut Log,
    host: &DockerHost,
    order: &[usize],
    walked: Walked,
) -> Result<Walks> {
    let parts = walked.parts.map_err(|e| Error::io("bodyfile", e))?;
    let (written, written_to) = walked.recovered?;
    log.info(&format!(
        "recovered: {} candidates, {} files written, {} not written (path taken by another candidate; see recovered/manifest.jsonl)",
        written.listed, written.written, written.not_written
    ));
    let mut body_rows = 0u64;
    let mut whiteouts: Vec<Value> = vec![Value::Null; host.containers.len()];
    let mut containers = order.iter();
    for p in parts {
        match p {
            Part::Host(r) => body_rows += r?,
            Part::Container(rows, whs, err) => {
                let Some(&i) = containers.next() else { break };
                let Some(c) = host.containers.get(i) else {
                    break;
                };
                body_rows += rows;
                if let Some(e) = err {
                    log.warn("merged view", &e);
                }
                if let Some(slot) = whiteouts.get_mut(i) {
                    *slot = json!({
                        "container": c.id, "container_name": c.display_name(),
                        "whiteouts": whs,
                    });
                }
            }
        }
    }
    // Threads finish in any order: sort their warnings for a stable log.
    let mut ws = fs.take_warnings();
    ws.sort();
    log.warn_all("filesystem, merged views and recovered files", &ws);
    log.phase_done(
        "host bodyfile and timeline, merged views (begun beside the attribution), recovered files (side by side)",
    );
    Ok(Walks {
        body_rows,
        whiteouts,
        written,
        written_to,
    })
}

/// Deleted candidates' bodyfile rows and timeline events: host path, and
/// the in-container path. Returns the rows written.
fn deleted_rows(
    body: &mut OutFile,
    tl: &mut TimelineFile,
    rec: &Recovery,
    cl: &Classified,
) -> Result<u64> {
    let bw = |body: &mut OutFile, r: &Row| {
        body.write_all(r.line().as_bytes())
            .map_err(|e| Error::io("bodyfile", e))
    };
    let mut body_rows = 0u64;
    for (i, c) in rec.candidates.iter().enumerate() {
        let Some(k) = cl.classes.get(i) else { break };
        let mode = if c.mode == 0 {
            type_bits(c.file_type)
        } else {
            c.mode
        };
        let md5 = c.md5_hex();
        let mut r = Row {
            md5: md5.as_deref(),
            name: &c.path,
            prefix: None,
            deleted: true,
            inode: c.inode,
            dirent_type: Some(c.file_type),
            mode,
            uid: c.uid,
            gid: c.gid,
            size: c.size.unwrap_or(0),
            atime: c.atime.get(),
            mtime: c.mtime.get(),
            ctime: c.ctime.get(),
            crtime: c.crtime.get(),
        };
        bw(body, &r)?;
        body_rows += 1;
        let cn = k.container.as_ref().and_then(|id| cl.cname.get(id));
        file_events(tl, &r, c.dtime.get(), cn.map(|s| s.as_str()))?;
        // The in-container row only where the path is inside the container
        // (its r/w or init layer's diff/), not a host path under it.
        if let Some(n) = cn.filter(|_| k.path(c) != &c.path[..]) {
            r.name = k.path(c);
            r.prefix = Some(n);
            bw(body, &r)?;
            body_rows += 1;
        }
    }
    body.flush().map_err(|e| Error::io("bodyfile", e))?;
    Ok(body_rows)
}

/// Docker events on the timeline: containers created, started and
/// finished, their log lines, images created.
fn docker_events(
    fs: &Filesystem,
    log: &mut Log,
    tl: &mut TimelineFile,
    host: &DockerHost,
    gone: &[RemovedContainer],
) -> Result<()> {
    for c in host
        .containers
        .iter()
        .chain(gone.iter().map(|g| &g.container))
    {
        let name = c.display_name();
        let mut f = Map::new();
        f.insert("container".into(), json!(c.id));
        f.insert("container_name".into(), json!(name));
        f.insert("image".into(), json!(c.image));
        f.insert("removed".into(), json!(c.removed));
        for (t, desc, what) in [
            (&c.created, "Container Created", "created"),
            (&c.started_at, "Container Started", "started"),
            (&c.finished_at, "Container Finished", "finished"),
        ] {
            if let Some(ts) = docker_time(t) {
                tl.event(
                    ts,
                    desc,
                    "container",
                    format!("container {name} ({}) {what}", c.short_id()),
                    f.clone(),
                )?;
            }
        }
        let mut lws = Vec::new();
        for l in logs::read_logs(fs, c, &mut lws) {
            if let Some(ts) = l.time.as_deref().and_then(parse_rfc3339) {
                let mut g = f.clone();
                g.insert("stream".into(), json!(l.stream));
                g.insert("log_file".into(), json!(l.file));
                tl.event(
                    ts,
                    "Log Line Written",
                    "log",
                    format!("{name} [{}] {}", l.stream, l.line.trim_end()),
                    g,
                )?;
            }
        }
        log.warn_all("logs", &lws);
    }
    for i in &host.images {
        if let Some(ts) = docker_time(&i.config.created) {
            let mut f = Map::new();
            f.insert("image_id".into(), json!(i.id));
            f.insert("tags".into(), json!(i.tags));
            tl.event(
                ts,
                "Image Created",
                "image",
                format!("image {} created", i.display_name()),
                f,
            )?;
        }
    }
    Ok(())
}

/// The end-of-run custody check.
struct EndCheck {
    state: FileState,
    size_ok: bool,
    mtime_ok: bool,
    hash_ok: Option<bool>,
}

fn end_custody(img: &Path, opts: &ScanOptions, cust: &Custody, log: &mut Log) -> Result<EndCheck> {
    let end_state = hashing::file_state(img)?;
    let end_hashes = match &cust.hashes {
        Some(_) => Some(hashing::hash_image(img, opts.quiet, "verifying hashes")?),
        None => None,
    };
    let size_ok = end_state.size == cust.state.size;
    let mtime_ok = end_state.mtime == cust.state.mtime;
    let hash_ok = end_hashes.as_ref().map(|h| Some(h) == cust.hashes.as_ref());
    if !size_ok || !mtime_ok || hash_ok == Some(false) {
        log.warn(
            "custody",
            "the evidence changed during the scan (size, mtime or hash differs)",
        );
    }
    Ok(EndCheck {
        state: end_state,
        size_ok,
        mtime_ok,
        hash_ok,
    })
}

/// The deleted candidates' report rows, built on demand.
struct Candidates<'r, 'a> {
    rec: &'r Recovery,
    cl: &'r Classified<'a>,
    written_to: &'r HashMap<usize, String>,
}

impl Candidates<'_, '_> {
    /// One candidate's row.
    fn row(&self, i: usize) -> Value {
        let (Some(c), Some(k)) = (self.rec.candidates.get(i), self.cl.classes.get(i)) else {
            return Value::Null;
        };
        let mut v = candidate_json(c);
        if let Value::Object(m) = &mut v {
            m.insert("recovered_to".into(), json!(self.written_to.get(&i)));
            m.insert("class".into(), json!(k.kind));
            m.insert("host_path".into(), json!(json_name(&c.path)));
            m.insert("container_path".into(), json!(json_name(k.path(c))));
            m.insert("container".into(), json!(k.container));
            m.insert(
                "container_name".into(),
                json!(k.container.as_ref().and_then(|id| self.cl.cname.get(id))),
            );
            m.insert("container_removed".into(), json!(k.container_removed));
            m.insert("layer".into(), json!(k.layer));
            m.insert(
                "attribution".into(),
                candidate_attribution(&self.cl.attributor, i),
            );
        }
        v
    }
}

/// Everything report.json holds, from the phases.
struct ReportInput<'r, 'a> {
    img: &'r Path,
    opts: &'r ScanOptions,
    started: Timestamp,
    finished: Timestamp,
    cust: &'r Custody,
    end: &'r EndCheck,
    opened: &'r Opened,
    an: &'r Analysis,
    cl: &'r Classified<'a>,
    walks: &'r Walks,
    timeline_rows: u64,
    histogram: &'r Value,
    block_map: &'r Value,
    removed_json: &'r [Value],
    log: &'r Log,
    exit_code: i32,
    n_candidates: usize,
}

/// The report, with `CANDIDATES_SLOT` in place of the candidates.
fn assemble_report(r: &ReportInput) -> Value {
    let (img, opts, cust, end) = (r.img, r.opts, r.cust, r.end);
    let (fs, loc) = (&r.opened.fs, &r.opened.loc);
    let (host, rec, cl, walks) = (&r.an.host, &r.an.rec, r.cl, r.walks);
    let (size_ok, mtime_ok, hash_ok) = (end.size_ok, end.mtime_ok, end.hash_ok);
    let sb = &fs.sb;
    json!({
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "whiteout", "version": env!("CARGO_PKG_VERSION")},
        "command_line": opts.command_line,
        "started": r.started.rfc3339(),
        "finished": r.finished.rfc3339(),
        "image": {
            "path": img.display().to_string(),
            "name": img.file_name().map(|n| n.to_string_lossy().into_owned()),
            "case_id": opts.case_id,
            "size": cust.state.size,
            "mtime": cust.state.mtime,
            "segments": cust.state.segments,
            "logical_size": r.opened.src.size(),
            "hashes": cust.hashes,
            "expected": opts.expected,
            "manifest_verified": opts.expected.as_ref().filter(|e| !e.is_empty()).map(|_| true),
            "end_check": {
                "size": end.state.size, "mtime": end.state.mtime,
                "size_unchanged": size_ok, "mtime_unchanged": mtime_ok,
                "hash_unchanged": hash_ok,
                "ok": size_ok && mtime_ok && hash_ok != Some(false),
            },
        },
        "partitions": loc.table,
        "volume": {
            "offset": loc.offset,
            "partition": loc.partition.as_ref().map(|p| p.index),
            "ext_filesystems": loc.candidates,
            "note": loc.note,
        },
        "filesystem": {
            "label": json_name(&sb.volume_name),
            "uuid": sb.uuid_string(),
            "block_size": fs.block_size(),
            "blocks_count": sb.blocks_count,
            "free_blocks_count": sb.free_blocks_count,
            "inodes_count": sb.inodes_count,
            "free_inodes_count": sb.free_inodes_count,
            "group_count": fs.group_count(),
            "blocks_per_group": sb.blocks_per_group,
            "features": { "compat": sb.compat_names(), "incompat": sb.incompat_names(), "ro_compat": sb.ro_compat_names() },
            "state": sb.state_names(),
            "created": sb.mkfs_time,
            "last_mount": sb.mtime,
            "last_write": sb.wtime,
            "last_mounted_on": json_name(&sb.last_mounted),
            "superblock_source": fs.sb_source,
            "journal_present": rec.journal_present,
        },
        "docker": {
            "roots": host.roots,
            "images": host.images,
            "layers": r.an.layers,
            "containers": host.containers,
            "removed_containers": r.removed_json,
        },
        "whiteouts": walks.whiteouts,
        "deleted": {
            "stats": rec.stats,
            "count": r.n_candidates,
            "candidates": CANDIDATES_SLOT,
        },
        "attribution": attribution_section(&cl.attributor),
        "carving": cl.carving,
        "findings": cl.found,
        "recovered": {
            "dir": "recovered",
            "manifest": "recovered/manifest.jsonl",
            "listed": walks.written.listed,
            "written": walks.written.written,
            "not_written": walks.written.not_written,
        },
        "block_map": r.block_map,
        "timeline_summary": r.histogram,
        "outputs": {
            "bodyfile": {"path": "bodyfile", "rows": walks.body_rows},
            "timeline": {"path": "timeline.jsonl", "rows": r.timeline_rows},
            "html": "report.html",
            "log": "scan.log",
        },
        "warnings": r.log.warnings,
        "notes": r.log.notes,
        "exit_code": r.exit_code,
    })
}

/// report.html: the report with the candidates it shows.
fn write_html(
    dir: &SafeDir,
    mut report: Value,
    cands: &Candidates,
    n_candidates: usize,
) -> Result<()> {
    // The HTML shows the first 5000 candidates and the first 2000 of
    // each container: only those are built.
    let mut per: HashMap<String, usize> = Default::default();
    let shown: Vec<Value> = (0..n_candidates)
        .filter(|&i| {
            let n = cands
                .cl
                .classes
                .get(i)
                .and_then(|k| k.container.clone())
                .map(|c| {
                    let n = per.entry(c).or_default();
                    *n += 1;
                    *n
                });
            i < 5000 || n.is_some_and(|n| n <= 2000)
        })
        .map(|i| cands.row(i))
        .collect();
    report["deleted"]["candidates"] = Value::Array(shown);
    let mut h = dir.create_root_file("report.html")?;
    h.write_all(super::html::report_html(&report).as_bytes())
        .and_then(|_| h.flush())
        .map_err(|e| Error::io("report.html", e))
}

/// report.json (candidates streamed), report.html, the end of scan.log.
fn write_outputs(
    dir: &SafeDir,
    log: &mut Log,
    report: Value,
    cands: &Candidates,
    n_candidates: usize,
    exit_code: i32,
) -> Result<()> {
    // report.html after report.json, not beside it: on a thread of its
    // own it added 44 MB to the peak at 5M inodes (273,616 -> 317,404 KB).
    let json = dir
        .create_root_file_sized("report.json", 1 << 20)
        .and_then(|mut w| {
            write_report(&mut w, &report, n_candidates, &|i| cands.row(i))
                .map_err(|e| Error::io("report.json", e))
        });
    log.phase_done("report.json");
    json.and_then(|_| write_html(dir, report, cands, n_candidates))?;
    log.phase_done("report.html");
    log.info(&format!(
        "done: {} warnings, exit code {exit_code}",
        log.warnings.len()
    ));
    log.w.flush().map_err(|e| Error::io("scan.log", e))
}

/// done.json, the completion marker.
fn write_done(
    dir: &SafeDir,
    img: &Path,
    cust: &Custody,
    finished: Timestamp,
    exit_code: i32,
) -> Result<()> {
    let mut d = dir.create_root_file("done.json")?;
    serde_json::to_writer_pretty(
        &mut d,
        &json!({"finished": finished.rfc3339(), "exit_code": exit_code,
                "image": img.display().to_string(),
                "sha256": cust.hashes.as_ref().map(|h| h.sha256.clone())}),
    )
    .map_err(|e| Error::io("done.json", std::io::Error::other(e)))?;
    d.flush().map_err(|e| Error::io("done.json", e))
}

/// Placeholder for `deleted.candidates` in the report Value; never a name
/// (ext4 names hold no NUL).
const CANDIDATES_SLOT: &str = "\u{0}whiteout:deleted.candidates\u{0}";

/// report.json: the report, pretty, with the candidates array streamed in
/// place of `CANDIDATES_SLOT`, one compact candidate per line.
fn write_report<W: Write>(
    w: &mut W,
    report: &Value,
    n: usize,
    cand: &(dyn Fn(usize) -> Value + Sync),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    let slot = serde_json::to_string(CANDIDATES_SLOT).map_err(std::io::Error::other)?;
    let (head, tail) = text.split_once(&slot).unwrap_or((&text, ""));
    w.write_all(head.as_bytes())?;
    if !tail.is_empty() || head.len() < text.len() {
        w.write_all(b"[")?;
        // Rendered on every core, 4096 rows at a time, written in order.
        const CHUNK: usize = 4096;
        for start in (0..n).step_by(CHUNK) {
            let rows: Vec<std::io::Result<String>> = (start..(start + CHUNK).min(n))
                .into_par_iter()
                .map(|i| serde_json::to_string(&cand(i)).map_err(std::io::Error::other))
                .collect();
            for (k, row) in rows.into_iter().enumerate() {
                w.write_all(if start + k == 0 { b"\n" } else { b",\n" })?;
                w.write_all(row?.as_bytes())?;
            }
        }
        w.write_all(b"\n]")?;
        w.write_all(tail.as_bytes())?;
    }
    w.write_all(b"\n")?;
    w.flush()
}

/// MACB (+ dtime) events of one file.
fn file_events<W: Write>(
    tl: &mut Timeline<W>,
    r: &Row,
    dtime: Option<Timestamp>,
    container: Option<&str>,
) -> Result<()> {
    let name = bodyfile::safe_name(r.prefix, r.name);
    let path = json_name(r.name);
    let mode = bodyfile::mode_as_string(r.dirent_type, r.mode);
    let f = crate::report::timeline::FileFields {
        container_name: container,
        deleted: r.deleted,
        gid: r.gid,
        inode: r.inode,
        mode: &mode,
        path: &path,
        size: r.size,
        uid: r.uid,
    };
    let del = if r.deleted { " (deleted)" } else { "" };
    // Equal times make one event, as mactime prints `macb`: its
    // timestamp_desc lists each meaning and the message shows the letters
    // (`[MACB] /etc/passwd`). Files unpacked from image layers mostly
    // share three of their four times.
    let kinds = [
        (r.mtime, "Content Modification Time", 'M'),
        (r.atime, "Last Access Time", 'A'),
        (r.ctime, "Metadata Modification Time", 'C'),
        (r.crtime, "Creation Time", 'B'),
        (dtime, "Deletion Time", 'D'),
    ];
    let mut done = [false; 5];
    let mut msg = String::with_capacity(name.len() + 24);
    let mut desc = String::with_capacity(64);
    for (k, &(t, _, _)) in kinds.iter().enumerate() {
        let Some(ts) = t else { continue };
        if done[k] {
            continue;
        }
        msg.clear();
        desc.clear();
        msg.push('[');
        for (j, &(u, d, letter)) in kinds.iter().enumerate().skip(k) {
            if u == Some(ts) && !done[j] {
                done[j] = true;
                msg.push(letter);
                if !desc.is_empty() {
                    desc.push_str("; ");
                }
                desc.push_str(d);
            }
        }
        msg.push_str("] ");
        msg.push_str(&name);
        msg.push_str(del);
        tl.file_event(ts, &desc, &msg, &f)?;
    }
    Ok(())
}

/// Per-candidate owner attribution (rules 1–5 of src/attribute).
pub fn candidate_attribution(at: &crate::attribute::Attributor, i: usize) -> Value {
    at.for_candidate(i).map(|a| json!(a)).unwrap_or(Value::Null)
}

/// The report's `attribution` section: blocks per owner.
pub fn attribution_section(at: &crate::attribute::Attributor) -> Value {
    json!({
        "status": "done",
        "note": "block-group evidence (rule 4) is a hint, never proof",
        "owners": at.summary(),
    })
}

/// The report's `carving` section, and the Docker traces carved.
pub fn carving_section(
    fs: &Filesystem,
    dir: &SafeDir,
    img: &std::path::Path,
    rec: &Recovery,
    at: &crate::attribute::Attributor,
) -> crate::Result<(Value, Vec<crate::recover::carve::DockerTrace>)> {
    let cdir = SafeDir::create(&dir.root().join("carved"), &[img])?;
    let exclude: Vec<(u64, u64)> = crate::recover::carve::free_runs(rec);
    let res = crate::recover::carve::carve(
        fs,
        &crate::recover::carve::Options {
            kinds: None,
            all_space: false,
            traces: true,
            exclude,
        },
    );
    let out = super::carved::write_carved(fs, &cdir, &res, Some(at), true)?;
    let v = json!({
        "status": "done",
        "dir": "carved",
        "manifest": "carved/manifest.jsonl",
        "docker_traces": "carved/docker-traces.jsonl",
        "stats": res.stats,
        "warnings": res.warnings,
        "files": out.rows,
        "traces": out.traces,
    });
    Ok((v, res.traces))
}

/// A map of the filesystem in at most `cells` cells: for each, the
/// fraction of allocated blocks (block bitmaps) and the blocks holding
/// recoverable deleted content (candidate runs in free blocks).
pub fn block_map(fs: &Filesystem, rec: &Recovery, cells: u64) -> Value {
    let total = fs.sb.blocks_count.max(1);
    let per = total.div_ceil(cells.max(1)).max(1);
    let n = total.div_ceil(per) as usize;
    let mut alloc = vec![0u64; n];
    let mut deleted = vec![0u64; n];
    let bpg = fs.sb.blocks_per_group.max(1) as u64;
    let first = fs.sb.first_data_block as u64;
    for g in 0..fs.group_count() {
        let Ok(bm) = fs.block_bitmap(g) else {
            continue;
        };
        let start = first + g * bpg;
        for i in 0..bm.len {
            if bm.get(i) {
                let b = start + i;
                if let Some(x) = alloc.get_mut((b / per) as usize) {
                    *x += 1;
                }
            }
        }
    }
    for c in &rec.candidates {
        if !matches!(c.content, ContentState::Full | ContentState::Partial) {
            continue;
        }
        for r in c.runs() {
            if r.state != recover::RunState::Free {
                continue;
            }
            for k in 0..r.len.min(1 << 20) {
                if let Some(x) = deleted.get_mut(((r.physical + k) / per) as usize) {
                    *x += 1;
                }
            }
        }
    }
    let _ = fs.take_warnings();
    json!({
        "blocks": total,
        "blocks_per_cell": per,
        "blocks_per_group": bpg,
        "allocated": alloc,
        "deleted": deleted,
        "carved": Vec::<u64>::new(),
        "owners": Value::Null,
    })
}

/// Where one image's outputs go inside a store: a unique, safe name.
pub fn image_dir_name(img: &Path) -> String {
    let base = img
        .file_name()
        .map(|n| n.as_encoded_bytes().to_vec())
        .unwrap_or_else(|| b"image".to_vec());
    super::extract::safe_component(&base)
}

/// The output directory of each image, unique within the list: a
/// duplicate file name gets a suffix from its full path's hash.
pub fn image_dirs(images: &[PathBuf]) -> Vec<String> {
    use sha2::Digest;
    let names: Vec<String> = images.iter().map(|p| image_dir_name(p)).collect();
    names
        .iter()
        .zip(images)
        .map(|(n, p)| {
            if names.iter().filter(|m| *m == n).count() > 1 {
                let h = sha2::Sha256::digest(p.as_os_str().as_encoded_bytes());
                format!("{n}-{}", &crate::util::bytes::hex(&h)[..8])
            } else {
                n.clone()
            }
        })
        .collect()
}

/// Record why an image could not be analysed (`error.json`, listed by the
/// index). Earlier outputs of the image are left as they were.
pub fn write_error(out: &Path, img: &Path, err: &str) -> Result<()> {
    let dir = SafeDir::create(out, &[img])?;
    let mut w = dir.create_root_file("error.json")?;
    serde_json::to_writer_pretty(
        &mut w,
        &json!({"image": img.display().to_string(), "error": err, "exit_code": 2}),
    )
    .map_err(|e| Error::io("error.json", std::io::Error::other(e)))?;
    w.flush().map_err(|e| Error::io("error.json", e))
}

/// Is this output directory a completed scan?
pub fn is_done(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join("done.json")).is_ok_and(|m| m.is_file())
        && std::fs::symlink_metadata(dir.join("report.json")).is_ok_and(|m| m.is_file())
}

/// Is this output directory a completed scan of `img` (same path as given)?
pub fn is_done_for(dir: &Path, img: &Path) -> bool {
    is_done(dir)
        && std::fs::read(dir.join("done.json"))
            .ok()
            .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
            .is_some_and(|v| v["image"].as_str() == Some(&img.display().to_string()))
}

fn type_bits(t: crate::ext4::FileType) -> u16 {
    use crate::ext4::FileType as F;
    match t {
        F::Regular => 0o100000,
        F::Dir => 0o040000,
        F::Symlink => 0o120000,
        F::CharDev => 0o020000,
        F::BlockDev => 0o060000,
        F::Fifo => 0o010000,
        F::Socket => 0o140000,
        F::Unknown => 0,
    }
}

/// Make timestamps in docker strings usable in tests and HTML.
pub fn ts(t: Option<Timestamp>) -> Value {
    ts_field(t)
}

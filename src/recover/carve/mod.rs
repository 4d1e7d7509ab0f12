//! File carving over unallocated space (or every block with `all_space`).
//!
//! The searched space is the concatenation of the free block runs (block
//! bitmaps), minus the blocks that metadata-based recovery already got
//! back (de-duplication). Because allocated blocks are left out, a file
//! whose fragments are separated only by allocated (or recovered) blocks
//! reads back contiguous: the common two-fragment case is carved whole.
//!
//! One pass, parallel across chunks (rayon), with an overlap so that a
//! trace near a chunk edge is not lost:
//! - file headers are tested at every block start (ext4 starts every file
//!   on a block boundary; embedded headers would only give nested hits);
//! - Docker traces (config.v2.json, json-file log lines) are found
//!   anywhere with a multi-pattern search (aho-corasick), 64-hex ids with
//!   a strided probe.
//!
//! Each header is then validated with a growing, bounded window.

pub mod docker;
pub mod formats;
mod tarwalk;

pub use docker::{DockerTrace, TraceKind};
pub use formats::{Kind, Verdict};

use crate::ext4::Filesystem;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Bytes of searched space per parallel chunk.
pub const CHUNK: usize = 8 << 20;
/// Bytes read past a chunk's end (a log line or id crossing the edge).
const OVERLAP: usize = 64 << 10;
/// First validation window (grown x4 while a validator needs more).
const FIRST_WINDOW: usize = 64 << 10;
/// Most distinct 64-hex ids kept (memory bound); the rest are counted.
const MAX_IDS: usize = 200_000;
/// Window read for a config.v2.json trace.
const CONFIG_WINDOW: usize = 1 << 20;
/// Reads at least this long first ask whether they lie in a hole (one
/// lseek); shorter ones just read.
const HOLE_CHECK: usize = 64 << 10;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only these types (`None`: all).
    pub kinds: Option<Vec<Kind>>,
    /// Search every block, allocated or not.
    pub all_space: bool,
    /// Search for Docker traces.
    pub traces: bool,
    /// Block runs (start, count) already recovered through metadata: left
    /// out of the searched space.
    pub exclude: Vec<(u64, u64)>,
}

/// One piece of a carved file on disk (filesystem byte offsets).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct Fragment {
    pub offset: u64,
    pub length: u64,
}

/// One carved file.
#[derive(Clone, Debug, Serialize)]
pub struct Carved {
    /// Filesystem byte offset of the first byte.
    pub offset: u64,
    pub length: u64,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The format fixes the length (false: a bound such as the first NUL).
    pub exact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    pub block_group: u64,
    pub fragments: Vec<Fragment>,
    /// Offset in the searched space.
    #[serde(skip)]
    pub vstart: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub bytes_searched: u64,
    pub runs: u64,
    pub excluded_blocks: u64,
    pub header_hits: u64,
    pub false_hits: u64,
    pub nested_hits: u64,
    pub carved: u64,
    pub traces: u64,
    /// 64-hex ids not kept once MAX_IDS distinct ones were found.
    pub ids_dropped: u64,
}

#[derive(Default)]
pub struct Carving {
    pub files: Vec<Carved>,
    pub traces: Vec<DockerTrace>,
    pub stats: Stats,
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
struct Seg {
    /// Offset in the searched space.
    v: u64,
    block: u64,
    blocks: u64,
}

/// The searched space: free block runs laid end to end.
pub struct Space {
    segs: Vec<Seg>,
    bs: u64,
    total: u64,
}

impl Space {
    /// Free runs of `fs` (every block with `all_space`) minus `exclude`.
    pub fn new(
        fs: &Filesystem,
        all_space: bool,
        exclude: &[(u64, u64)],
        warn: &mut Vec<String>,
    ) -> Space {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut push = |start: u64, n: u64| match runs.last_mut() {
            Some(l) if l.0 + l.1 == start => l.1 += n,
            _ => runs.push((start, n)),
        };
        let blocks = fs.sb.blocks_count;
        if all_space {
            push(0, blocks);
        } else {
            let ratio = (fs.sb.cluster_size() / fs.block_size()).max(1);
            for g in 0..fs.group_count() {
                let first = fs.group_first_block(g);
                let bm = match fs.block_bitmap(g) {
                    Ok(b) => b,
                    Err(e) => {
                        warn.push(format!(
                            "group {g}: block bitmap unreadable ({e}); group skipped"
                        ));
                        continue;
                    }
                };
                let mut i = 0;
                while i < bm.len {
                    let byte = bm.bits.get((i / 8) as usize).copied().unwrap_or(0xFF);
                    if i % 8 == 0 && i + 8 <= bm.len && (byte == 0xFF || byte == 0) {
                        if byte == 0 {
                            push(first + i * ratio, 8 * ratio);
                        }
                        i += 8;
                        continue;
                    }
                    if !bm.get(i) {
                        push(first + i * ratio, ratio);
                    }
                    i += 1;
                }
            }
        }
        // Clip to the filesystem and subtract the excluded runs.
        let mut ex: Vec<(u64, u64)> = exclude.iter().copied().filter(|r| r.1 > 0).collect();
        ex.sort_unstable();
        let mut segs = Vec::new();
        let mut v = 0;
        let mut k = 0;
        for (mut s, n) in runs {
            let end = (s + n).min(blocks);
            while s < end {
                while k < ex.len() && ex[k].0 + ex[k].1 <= s {
                    k += 1;
                }
                let (cut_s, cut_e) = match ex.get(k) {
                    Some(&(es, en)) if es < end => (es.max(s), es + en),
                    _ => (end, end),
                };
                if cut_s > s {
                    segs.push(Seg {
                        v,
                        block: s,
                        blocks: cut_s - s,
                    });
                    v += (cut_s - s) * fs.block_size();
                }
                s = cut_e.min(end).max(cut_s);
                if cut_s == end {
                    break;
                }
            }
        }
        Space {
            segs,
            bs: fs.block_size(),
            total: v,
        }
    }

    pub fn len(&self) -> u64 {
        self.total
    }
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
    pub fn runs(&self) -> usize {
        self.segs.len()
    }

    fn seg_at(&self, v: u64) -> usize {
        self.segs.partition_point(|s| s.v + s.blocks * self.bs <= v)
    }

    /// Read from offset `v` of the space; returns the bytes read (short
    /// only at the end). Unreadable blocks read as zeros.
    pub fn read(&self, fs: &Filesystem, mut v: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        let mut i = self.seg_at(v);
        while done < buf.len() && i < self.segs.len() {
            let s = self.segs[i];
            let within = v - s.v;
            let take = ((s.blocks * self.bs - within) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + take];
            let pos = s.block * self.bs + within;
            // A sparse image's hole reads as zeros: no read needed.
            let hole = take >= HOLE_CHECK && fs.is_hole(pos, take as u64);
            if hole || fs.read_bytes(pos, dst).is_err() {
                dst.fill(0);
            }
            done += take;
            v += take as u64;
            i += 1;
        }
        done
    }

    /// Filesystem byte ranges of `[v, v+len)`.
    pub fn fragments(&self, mut v: u64, len: u64) -> Vec<Fragment> {
        let mut out: Vec<Fragment> = Vec::new();
        let mut left = len;
        let mut i = self.seg_at(v);
        while left > 0 && i < self.segs.len() {
            let s = self.segs[i];
            let within = v - s.v;
            let take = (s.blocks * self.bs - within).min(left);
            let off = s.block * self.bs + within;
            match out.last_mut() {
                Some(l) if l.offset + l.length == off => l.length += take,
                _ => out.push(Fragment {
                    offset: off,
                    length: take,
                }),
            }
            left -= take;
            v += take;
            i += 1;
        }
        out
    }
}

/// Ids are random hex: fold the key's 8-byte words (no SipHash per hit).
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

type IdMap = HashMap<([u8; 32], bool), (u64, u64), std::hash::BuildHasherDefault<IdHasher>>;

struct ChunkOut {
    headers: Vec<(u64, Kind)>,
    configs: Vec<u64>,
    traces: Vec<DockerTrace>,
    /// Distinct 64-hex ids (as 32 bytes, after `overlay2/`?) -> (first offset, count).
    ids: IdMap,
}

fn unhex(h: &[u8]) -> [u8; 32] {
    let v = |c: u8| {
        if c <= b'9' {
            c.wrapping_sub(b'0')
        } else {
            c.wrapping_sub(b'a').wrapping_add(10)
        }
    };
    let mut out = [0u8; 32];
    for (o, p) in out.iter_mut().zip(h.chunks_exact(2)) {
        *o = (v(p[0]) << 4) | (v(p[1]) & 15);
    }
    out
}

fn wanted(opts: &Options, k: Kind) -> bool {
    match &opts.kinds {
        None => true,
        Some(ks) => {
            ks.contains(&k)
                || (k == Kind::Zip
                    && ks
                        .iter()
                        .any(|x| matches!(x, Kind::Docx | Kind::Xlsx | Kind::Jar)))
        }
    }
}

/// Bytes handled at a time inside a chunk (L2-sized): the header test,
/// the trace search and the id probe all run on one window while it is
/// in cache.
const WINDOW: usize = 256 << 10;

fn scan_chunk(
    fs: &Filesystem,
    space: &Space,
    opts: &Options,
    ac: &aho_corasick::AhoCorasick,
    buf: &mut Vec<u8>,
    c: u64,
) -> ChunkOut {
    let start = c * CHUNK as u64;
    let len = (CHUNK as u64).min(space.total - start) as usize;
    let want = (len + OVERLAP).min((space.total - start) as usize);
    // The buffer is reused by each worker thread: no allocation per chunk.
    buf.resize(want, 0);
    let got = space.read(fs, start, &mut buf[..want]);
    let buf = &buf[..got];
    let mut out = ChunkOut {
        headers: Vec::new(),
        configs: Vec::new(),
        traces: Vec::new(),
        ids: IdMap::default(),
    };
    let bs = space.bs as usize;
    let len = len.min(buf.len());
    let any_kind = opts.kinds.as_ref().is_none_or(|k| !k.is_empty());
    let mut probe = docker::HexProbe::default();
    // Consecutive occurrences of one id are counted without a lookup.
    let mut last: Option<(([u8; 32], bool), u64, u64)> = None;
    let mut w0 = 0;
    while w0 < len {
        let w1 = (w0 + WINDOW).min(len);
        if any_kind {
            let mut o = w0;
            while o < w1 {
                let b = &buf[o..(o + bs).min(buf.len())];
                // Most free blocks start with a zero: skip them in one test.
                if b[0] != 0 {
                    if let Some(k) = formats::detect(b) {
                        if wanted(opts, k) {
                            out.headers.push((start + o as u64, k));
                        }
                    }
                }
                o += bs;
            }
        }
        if opts.traces {
            // A pattern starting before w1 may end after it.
            let ac_end = (w1 + 32).min(buf.len());
            for m in ac.find_iter(&buf[w0..ac_end]) {
                let at = w0 + m.start();
                if at >= w1 {
                    break;
                }
                let v = start + at as u64;
                match m.pattern().as_usize() {
                    0 => out.configs.push(v),
                    _ => {
                        if let Some(t) = docker::parse_log_line(&buf[at..], v) {
                            out.traces.push(t);
                        }
                    }
                }
            }
            let ids = &mut out.ids;
            probe.scan(buf, w0, w1, len, start == 0, |s, ov| {
                let key = (unhex(&buf[s..s + 64]), ov);
                let v = start + s as u64;
                match &mut last {
                    Some((k, _, n)) if *k == key => *n += 1,
                    _ => {
                        if let Some((k, v0, n)) = last.replace((key, v, 1)) {
                            let e = ids.entry(k).or_insert((v0, 0));
                            e.1 += n;
                        }
                    }
                }
            });
        }
        w0 = w1;
    }
    if let Some((k, v0, n)) = last {
        let e = out.ids.entry(k).or_insert((v0, 0));
        e.1 += n;
    }
    out
}

/// Validate one header hit with a growing window, at most `limit` bytes.
fn validate_hit(fs: &Filesystem, space: &Space, v: u64, kind: Kind, limit: u64) -> Option<Verdict> {
    let remaining = space.total - v;
    let max = max_window(space, v, kind, limit);
    for win in windows(first_window(kind), max) {
        let mut buf = vec![0u8; win];
        let got = space.read(fs, v, &mut buf);
        buf.truncate(got);
        let at_end = got == max || got < win;
        match formats::validate(kind, &buf, at_end, space.bs as usize) {
            Verdict::NeedMore if !at_end => continue,
            Verdict::Ok { len, .. } if len == 0 || len > remaining => return None,
            v @ (Verdict::Ok { .. } | Verdict::Fragmented { .. }) => return Some(v),
            _ => return None,
        }
    }
    None
}

/// Most bytes a hit at `v` may span: its type's limit, the space left,
/// and `limit`.
fn max_window(space: &Space, v: u64, kind: Kind, limit: u64) -> usize {
    (kind.max_len() as u64).min(space.total - v).min(limit) as usize
}

/// The first validation window of a type: 8 KiB for text types.
fn first_window(kind: Kind) -> usize {
    if matches!(kind, Kind::Json | Kind::Pem | Kind::Sh | Kind::Log) {
        8 << 10
    } else {
        FIRST_WINDOW
    }
}

/// Validation windows: `first`, then each 4 times the last, up to `max`.
fn windows(first: usize, max: usize) -> impl Iterator<Item = usize> {
    std::iter::successors(Some(first.min(max)), move |&w| {
        (w < max).then(|| (w * 4).min(max))
    })
}

/// Block runs (start, count) that metadata-based recovery gets back:
/// carving leaves them out so it reports only new material.
pub fn recovered_runs(fs: &Filesystem) -> Vec<(u64, u64)> {
    let opts = super::Options {
        scan_freed_dir_blocks: true,
        hash: false,
    };
    free_runs(&super::analyse(fs, &opts))
}

/// The blocks a recovery pass got back (runs in free blocks), to leave out
/// of carving.
pub fn free_runs(rec: &super::Recovery) -> Vec<(u64, u64)> {
    rec.candidates
        .iter()
        .flat_map(|c| c.runs().iter())
        .filter(|r| r.state == super::RunState::Free)
        .map(|r| (r.physical, r.len))
        .collect()
}

/// Carve `fs`.
pub fn carve(fs: &Filesystem, opts: &Options) -> Carving {
    let mut res = Carving::default();
    let space = Space::new(fs, opts.all_space, &opts.exclude, &mut res.warnings);
    res.stats.bytes_searched = space.total;
    res.stats.runs = space.segs.len() as u64;
    res.stats.excluded_blocks = opts.exclude.iter().map(|r| r.1).sum();
    let ac = docker::matcher();
    let nchunks = space.total.div_ceil(CHUNK as u64);
    let chunks: Vec<ChunkOut> = (0..nchunks)
        .into_par_iter()
        .map_init(Vec::new, |buf, c| scan_chunk(fs, &space, opts, &ac, buf, c))
        .collect();
    let mut headers = Vec::new();
    let mut configs = Vec::new();
    let mut ids = IdMap::default();
    for ch in chunks {
        headers.extend(ch.headers);
        configs.extend(ch.configs);
        res.traces.extend(ch.traces);
        for (key, (v, n)) in ch.ids {
            if ids.len() >= MAX_IDS && !ids.contains_key(&key) {
                res.stats.ids_dropped += n;
                continue;
            }
            let e = ids.entry(key).or_insert((v, 0));
            e.0 = e.0.min(v);
            e.1 += n;
        }
    }
    res.stats.header_hits = headers.len() as u64;
    // Tar hits are resolved together, by walking member headers (tarwalk).
    let tars: Vec<u64> = headers
        .iter()
        .filter(|h| h.1 == Kind::Tar)
        .map(|h| h.0)
        .collect();
    let (tar_verdicts, tar_warning) = tarwalk::validate(fs, &space, &tars);
    res.warnings.extend(tar_warning);
    let mut tar_verdicts = tar_verdicts.into_iter();
    // Validate every other header in parallel; weak formats end before the
    // next header.
    let mut verdicts: Vec<Option<Verdict>> = headers
        .par_iter()
        .enumerate()
        .map(|(i, &(v, k))| {
            let limit = if k.weak_end() {
                headers.get(i + 1).map_or(u64::MAX, |n| n.0 - v)
            } else {
                u64::MAX
            };
            (k != Kind::Tar)
                .then(|| validate_hit(fs, &space, v, k, limit))
                .flatten()
        })
        .collect();
    for (slot, _) in verdicts
        .iter_mut()
        .zip(&headers)
        .filter(|(_, h)| h.1 == Kind::Tar)
    {
        *slot = tar_verdicts.next().flatten();
    }
    let mut end = 0u64;
    let mut broken = Vec::new();
    for (&(v, k), verdict) in headers.iter().zip(verdicts) {
        if let Some(Verdict::Fragmented { at }) = verdict {
            if v >= end {
                broken.push((v, k, at));
                end = v + at;
            } else {
                res.stats.nested_hits += 1;
            }
            continue;
        }
        let Some(Verdict::Ok {
            len,
            exact,
            kind,
            note,
        }) = verdict
        else {
            res.stats.false_hits += 1;
            continue;
        };
        if v < end {
            res.stats.nested_hits += 1;
            continue;
        }
        if !wanted_final(opts, kind) {
            continue;
        }
        end = v + len;
        let fragments = space.fragments(v, len);
        let first = fragments.first().map_or(0, |f| f.offset);
        res.files.push(Carved {
            offset: first,
            length: len,
            kind,
            exact,
            note,
            block_group: fs.block_group_of(first / space.bs),
            fragments,
            vstart: v,
        });
    }
    // Two-fragment JPEGs: the header fragment stops at a zero block or
    // another header; find the continuation that decodes to EOI.
    let covered: Vec<(u64, u64)> = res
        .files
        .iter()
        .map(|c| (c.vstart, c.vstart + c.length))
        .chain(broken.iter().map(|&(v, _, at)| (v, v + at)))
        .collect();
    let found: Vec<Option<Carved>> = broken
        .par_iter()
        .map(|&(v, _, at)| bifragment_jpeg(fs, &space, v, at, &covered))
        .collect();
    for f in found {
        match f {
            Some(c) if wanted_final(opts, Kind::Jpg) => res.files.push(c),
            _ => res.stats.false_hits += 1,
        }
    }
    res.files.sort_by_key(|c| c.vstart);
    res.stats.carved = res.files.len() as u64;
    // config.v2.json objects and fragments.
    let cfg: Vec<DockerTrace> = configs
        .par_iter()
        .map(|&v| {
            let win = (CONFIG_WINDOW as u64).min(space.total - v) as usize;
            let mut buf = vec![0u8; win];
            let got = space.read(fs, v, &mut buf);
            buf.truncate(got);
            let mut t = docker::parse_config(&buf, v);
            t.offset = space.fragments(v, 1).first().map_or(0, |f| f.offset);
            t
        })
        .collect();
    for t in res.traces.iter_mut() {
        t.offset = space.fragments(t.offset, 1).first().map_or(0, |f| f.offset);
    }
    res.traces.extend(cfg);
    let mut idv: Vec<_> = ids.into_iter().collect();
    idv.sort_by_key(|(_, (v, _))| *v);
    for ((id, ov), (v, count)) in idv {
        res.traces.push(DockerTrace {
            offset: space.fragments(v, 1).first().map_or(0, |f| f.offset),
            kind: Some(if ov {
                TraceKind::Overlay2Id
            } else {
                TraceKind::HexId
            }),
            id: Some(crate::util::bytes::hex(&id)),
            count: Some(count),
            ..Default::default()
        });
    }
    res.traces.sort_by_key(|t| (t.offset, t.kind));
    res.stats.traces = res.traces.len() as u64;
    if res.stats.ids_dropped > 0 {
        res.warnings.push(format!(
            "{} more 64-hex id occurrences not listed (limit {MAX_IDS} distinct ids)",
            res.stats.ids_dropped
        ));
    }
    res
}

/// How far past the header fragment a continuation is looked for.
const MAX_GAP: u64 = 16 << 20;

fn bifragment_jpeg(
    fs: &Filesystem,
    space: &Space,
    v: u64,
    at: u64,
    covered: &[(u64, u64)],
) -> Option<Carved> {
    let bs = space.bs;
    let mut head = vec![0u8; at as usize];
    if space.read(fs, v, &mut head) != head.len() {
        return None;
    }
    let mut probe = vec![0u8; bs as usize];
    // Forward first; then backward: mballoc may place an append in a free
    // extent before the first one (measured on the carve-docker fixture).
    let fwd = (v + at..(v + at + MAX_GAP).min(space.total)).step_by(bs as usize);
    let back = (1..=v.min(MAX_GAP) / bs).map(move |i| v - i * bs);
    let mut skip_to: Option<u64> = None;
    for c in fwd.chain(back) {
        if let Some(s) = skip_to {
            // Forward: skip to the end of a covered range; backward: to its start.
            if (c > v && c < s) || (c < v && c >= s) {
                continue;
            }
            skip_to = None;
        }
        if let Some(&(s, e)) = covered.iter().find(|&&(s, e)| s <= c && c < e) {
            skip_to = Some(if c > v { e } else { s });
            continue;
        }
        if space.read(fs, c, &mut probe) < probe.len()
            || crate::util::bytes::is_zero(&probe)
            || formats::detect(&probe).is_some()
        {
            continue;
        }
        if let Some(found) = continuation(fs, space, v, at, &head, c) {
            return Some(found);
        }
    }
    None
}

/// The header fragment `head` (at `v`) followed by the data at `c`, if
/// that decodes to EOI.
fn continuation(
    fs: &Filesystem,
    space: &Space,
    v: u64,
    at: u64,
    head: &[u8],
    c: u64,
) -> Option<Carved> {
    let bs = space.bs;
    let max = max_window(space, c, Kind::Jpg, u64::MAX);
    for win in windows(256 << 10, max) {
        let mut buf = head.to_vec();
        buf.resize(head.len() + win, 0);
        let got = space.read(fs, c, &mut buf[head.len()..]);
        buf.truncate(head.len() + got);
        let at_end = got == max || got < win;
        match formats::validate(Kind::Jpg, &buf, at_end, bs as usize) {
            Verdict::NeedMore if !at_end => continue,
            Verdict::Ok { len, .. } => {
                // The continuation must not run into the header fragment,
                // and its Huffman data must decode to the frame's MCU count.
                if (c < v && c + (len - at) > v)
                    || formats::jpeg_decodes(&buf, len as usize - 2) == Some(false)
                {
                    return None;
                }
                let mut fragments = space.fragments(v, at);
                fragments.extend(space.fragments(c, len - at));
                let first = fragments.first().map_or(0, |f| f.offset);
                return Some(Carved {
                    offset: first,
                    length: len,
                    kind: Kind::Jpg,
                    exact: true,
                    note: Some(
                        "two fragments: header fragment + the continuation that decodes to EOI",
                    ),
                    block_group: fs.block_group_of(first / bs),
                    fragments,
                    vstart: v,
                });
            }
            _ => return None,
        }
    }
    None
}

fn wanted_final(opts: &Options, k: Kind) -> bool {
    match &opts.kinds {
        None => true,
        Some(ks) => ks.contains(&k),
    }
}

/// The bytes of a carved file (read back from its fragments).
pub fn read_carved(fs: &Filesystem, c: &Carved) -> crate::Result<Vec<u8>> {
    let mut out = vec![0u8; c.length as usize];
    let mut at = 0;
    for f in &c.fragments {
        fs.read_bytes(f.offset, &mut out[at..at + f.length as usize])?;
        at += f.length as usize;
    }
    Ok(out)
}

//! Container logs: the json-file driver (`<id>-json.log`, rotated `.1`,
//! `.2`..., possibly gzip) and the local driver (`local-logs/container.log`,
//! protobuf `LogEntry` frames: 4-byte big-endian length, message, length).

use super::containers::Container;
use super::fsutil::{self, join, lossy};
use crate::ext4::Filesystem;
use crate::util::time::Timestamp;
use serde::Serialize;
use std::io::Read;

/// Largest log file (or inflated gzip member) loaded.
pub const MAX_LOG: u64 = 256 << 20;
/// Largest single local-driver frame.
const MAX_FRAME: usize = 16 << 20;

#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    pub time: Option<String>,
    pub stream: String,
    /// The line without its trailing newline.
    pub line: String,
    pub partial: bool,
    /// Log file it came from (host path).
    pub file: String,
}

/// Read every log file of a container, oldest first.
pub fn read_logs(fs: &Filesystem, c: &Container, warnings: &mut Vec<String>) -> Vec<LogLine> {
    let mut out = Vec::new();
    let Some(dir) = c.dir_inode else { return out };
    // json-file: <id>-json.log[.N][.gz]
    let prefix = format!("{}-json.log", c.id);
    let mut files: Vec<(u32, Vec<u8>, u32)> = Vec::new();
    for e in fsutil::list_dir(fs, dir) {
        let n = lossy(&e.name);
        if let Some(rest) = n.strip_prefix(&prefix) {
            let num = rest.trim_start_matches('.').trim_end_matches(".gz");
            let rank = if rest.is_empty() {
                0
            } else {
                num.parse::<u32>().unwrap_or(u32::MAX)
            };
            files.push((rank, e.name.clone(), e.inode));
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, name, ino) in &files {
        let path = join(&c.dir, name);
        if let Some(data) = load(fs, *ino, name, &path, warnings) {
            parse_json_file(&data, &lossy(&path), &mut out, warnings);
        }
    }
    // local driver
    if let Some(ld) = fsutil::child(fs, dir, b"local-logs") {
        let mut lf: Vec<(u32, Vec<u8>, u32)> = Vec::new();
        for e in fsutil::list_dir(fs, ld.inode) {
            let n = lossy(&e.name);
            if let Some(rest) = n.strip_prefix("container.log") {
                let num = rest.trim_start_matches('.').trim_end_matches(".gz");
                let rank = if rest.is_empty() {
                    0
                } else {
                    num.parse::<u32>().unwrap_or(u32::MAX)
                };
                lf.push((rank, e.name.clone(), e.inode));
            }
        }
        lf.sort_by_key(|f| std::cmp::Reverse(f.0));
        let base = join(&c.dir, b"local-logs");
        for (_, name, ino) in &lf {
            let path = join(&base, name);
            if let Some(data) = load(fs, *ino, name, &path, warnings) {
                parse_local(&data, &lossy(&path), &mut out, warnings);
            }
        }
    }
    out
}

fn load(
    fs: &Filesystem,
    ino: u32,
    name: &[u8],
    path: &[u8],
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    let inode = fs.inode(ino).ok()?;
    let len = inode.size.min(MAX_LOG);
    if inode.size > MAX_LOG {
        warnings.push(format!(
            "{}: {} bytes; only the first {MAX_LOG} read",
            lossy(path),
            inode.size
        ));
    }
    let raw = match fs.read_content(&inode, 0, len) {
        Ok(r) => r,
        Err(e) => {
            warnings.push(format!("{}: {e}", lossy(path)));
            return None;
        }
    };
    if name.ends_with(b".gz") || raw.starts_with(&[0x1f, 0x8b]) {
        let mut outb = Vec::new();
        let r = flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_LOG)
            .read_to_end(&mut outb);
        if let Err(e) = r {
            warnings.push(format!(
                "{}: gzip: {e}; {} bytes recovered",
                lossy(path),
                outb.len()
            ));
        }
        return Some(outb);
    }
    Some(raw)
}

/// json-file lines: `{"log": "...\n", "stream": "stdout", "time": "..."}`.
pub fn parse_json_file(
    data: &[u8],
    file: &str,
    out: &mut Vec<LogLine>,
    warnings: &mut Vec<String>,
) {
    let mut bad = 0usize;
    for line in data.split(|&c| c == b'\n') {
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(v) => {
                let log = v.get("log").and_then(|x| x.as_str()).unwrap_or("");
                let partial = !log.ends_with('\n');
                out.push(LogLine {
                    time: v
                        .get("time")
                        .and_then(|x| x.as_str())
                        .map(|s| s.to_string()),
                    stream: v
                        .get("stream")
                        .and_then(|x| x.as_str())
                        .unwrap_or("")
                        .to_string(),
                    line: log.strip_suffix('\n').unwrap_or(log).to_string(),
                    partial,
                    file: file.to_string(),
                });
            }
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        warnings.push(format!(
            "{file}: {bad} line(s) are not JSON (torn write or tampering); skipped"
        ));
    }
}

fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let c = *b.get(*pos)?;
        *pos += 1;
        v |= ((c & 0x7f) as u64) << shift;
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Decode one protobuf `LogEntry`.
fn parse_entry(m: &[u8]) -> Option<(String, i64, Vec<u8>, bool)> {
    let (mut source, mut t, mut line, mut partial) = (String::new(), 0i64, Vec::new(), false);
    let mut p = 0usize;
    while p < m.len() {
        let key = varint(m, &mut p)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let v = varint(m, &mut p)?;
                match field {
                    2 => t = v as i64,
                    4 => partial = v != 0,
                    _ => {}
                }
            }
            2 => {
                let len = varint(m, &mut p)? as usize;
                let end = p.checked_add(len).filter(|&e| e <= m.len())?;
                let v = &m[p..end];
                match field {
                    1 => source = String::from_utf8_lossy(v).into_owned(),
                    3 => line = v.to_vec(),
                    _ => {}
                }
                p = end;
            }
            1 => p = p.checked_add(8).filter(|&e| e <= m.len())?,
            5 => p = p.checked_add(4).filter(|&e| e <= m.len())?,
            _ => return None,
        }
    }
    Some((source, t, line, partial))
}

/// local driver frames.
pub fn parse_local(data: &[u8], file: &str, out: &mut Vec<LogLine>, warnings: &mut Vec<String>) {
    let mut p = 0usize;
    while p + 4 <= data.len() {
        let len = u32::from_be_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]]) as usize;
        if len == 0 || len > MAX_FRAME || p + 8 + len > data.len() {
            warnings.push(format!(
                "{file}: bad frame at byte {p} (length {len}); rest skipped"
            ));
            return;
        }
        let msg = &data[p + 4..p + 4 + len];
        let trailer = u32::from_be_bytes([
            data[p + 4 + len],
            data[p + 5 + len],
            data[p + 6 + len],
            data[p + 7 + len],
        ]) as usize;
        if trailer != len {
            warnings.push(format!(
                "{file}: frame at byte {p}: trailing length {trailer} != {len}"
            ));
        }
        match parse_entry(msg) {
            Some((source, t, line, partial)) => {
                let ts = Timestamp::new(
                    t.div_euclid(1_000_000_000),
                    t.rem_euclid(1_000_000_000) as u32,
                );
                let l = String::from_utf8_lossy(&line).into_owned();
                out.push(LogLine {
                    time: Some(ts.rfc3339()),
                    stream: source,
                    line: l.strip_suffix('\n').map(|s| s.to_string()).unwrap_or(l),
                    partial,
                    file: file.to_string(),
                });
            }
            None => warnings.push(format!(
                "{file}: frame at byte {p} is not a LogEntry; skipped"
            )),
        }
        p += 8 + len;
    }
}

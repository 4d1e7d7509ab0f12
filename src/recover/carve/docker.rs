//! Docker traces anywhere in the searched space (not only at block
//! starts): `config.v2.json` fragments, json-file log lines, container
//! and overlay2 ids. They rebuild removed containers' metadata.

use super::formats::json_object_len;
use aho_corasick::AhoCorasick;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum TraceKind {
    /// A `config.v2.json` object or fragment.
    ContainerConfig,
    /// One json-file log line.
    LogLine,
    /// A 64-hex id (container id, image/layer digest, ...).
    HexId,
    /// A 64-hex id right after `overlay2/`.
    Overlay2Id,
}

/// One Docker trace found by carving.
#[derive(Clone, Debug, Serialize, Default)]
pub struct DockerTrace {
    /// Filesystem byte offset of the trace.
    pub offset: u64,
    pub kind: Option<TraceKind>,
    /// The whole object parsed (false: fields picked from a fragment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// `Config.Cmd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// For ids: how many times the same value was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The whole config.v2.json object, when it parsed (for the
    /// removed-container report).
    #[serde(skip)]
    pub config: Option<Value>,
}

pub(crate) const PATTERNS: [&[u8]; 2] = [b"{\"StreamConfig\":", b"{\"log\":\""];

pub(crate) fn matcher() -> AhoCorasick {
    AhoCorasick::new(PATTERNS).expect("static patterns")
}

static HEX: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c >= b'0' as usize && c <= b'9' as usize)
            || (c >= b'a' as usize && c <= b'f' as usize);
        c += 1;
    }
    t
};

/// Every maximal run of exactly 64 lowercase hex digits starting in
/// `buf[..limit]`: (start, preceded by `overlay2/`). `first`: `buf[0]` is
/// the start of the space (otherwise a run touching `buf[0]` may begin in
/// the previous chunk, which reports it).
#[cfg(test)]
pub(crate) fn hex_ids(buf: &[u8], limit: usize, first: bool) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut p = HexProbe::default();
    p.scan(buf, 0, buf.len(), limit, first, |s, ov| out.push((s, ov)));
    out
}

/// The 64-hex probe, run window by window over one chunk buffer.
#[derive(Default)]
pub(crate) struct HexProbe {
    last_end: usize,
}

impl HexProbe {
    /// Probe `buf[from..to]` (`from` a multiple of 32). Any run of 64 covers
    /// two consecutive multiples of 32, and every byte between them: test
    /// those two and three in between, expand only when all five are hex.
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        from: usize,
        to: usize,
        limit: usize,
        first: bool,
        mut hit: impl FnMut(usize, bool),
    ) {
        let to = to.min(buf.len());
        let Some(w) = buf.get(from..to) else {
            return;
        };
        let mut prev: Option<&[u8]> = None;
        for (k, cur) in w.chunks(32).enumerate() {
            let Some(pv) = prev.replace(cur) else {
                continue;
            };
            // pv: the 32 bytes at p, cur: the ones from p+32.
            if !(HEX[usize::from(pv[0])]
                && HEX[usize::from(cur[0])]
                && pv.len() == 32
                && HEX[usize::from(pv[16])]
                && HEX[usize::from(pv[8])]
                && HEX[usize::from(pv[24])])
            {
                continue;
            }
            let p = from + (k - 1) * 32;
            if p < self.last_end {
                continue;
            }
            self.expand(buf, p, limit, first, &mut hit);
        }
        // The last probe of the window needs the next window's first byte.
        if let Some(p) = (to - from).checked_sub(1).map(|n| from + n / 32 * 32) {
            if p >= self.last_end
                && buf.get(p + 32).is_some_and(|&b| HEX[usize::from(b)])
                && HEX[usize::from(buf[p])]
            {
                self.expand(buf, p, limit, first, &mut hit);
            }
        }
    }

    fn expand(
        &mut self,
        buf: &[u8],
        p: usize,
        limit: usize,
        first: bool,
        hit: &mut impl FnMut(usize, bool),
    ) {
        // Iterators, not indexing: no bounds check per byte.
        let back = buf[..p].iter().rev().take_while(|&&b| HEX[usize::from(b)]);
        let s = p - back.count();
        let e = p + buf[p..]
            .iter()
            .take_while(|&&b| HEX[usize::from(b)])
            .count();
        self.last_end = e;
        let cut_left = s == 0 && !first;
        let cut_right = e == buf.len() && buf.len() > limit;
        if e - s == 64 && s < limit && !cut_left && !cut_right {
            hit(s, s >= 9 && &buf[s - 9..s] == b"overlay2/");
        }
    }
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(|x| x.to_string())
}

/// Pick `"key":"value"` from a fragment that no longer parses.
fn pick(d: &[u8], key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let p = memchr::memmem::find(d, pat.as_bytes())? + pat.len();
    let mut out = Vec::new();
    let mut esc = false;
    for &b in &d[p..] {
        if esc {
            out.push(b);
            esc = false;
        } else if b == b'\\' {
            esc = true;
        } else if b == b'"' {
            return Some(String::from_utf8_lossy(&out).into_owned());
        } else if b < 0x20 {
            return None;
        } else {
            out.push(b);
        }
    }
    None
}

/// Parse a `config.v2.json` object (or fragment) at the start of `d`.
pub(crate) fn parse_config(d: &[u8], offset: u64) -> DockerTrace {
    let mut t = DockerTrace {
        offset,
        kind: Some(TraceKind::ContainerConfig),
        ..Default::default()
    };
    let full = json_object_len(d)
        .ok()
        .and_then(|n| serde_json::from_slice::<Value>(&d[..n]).ok());
    if let Some(v) = full {
        t.complete = Some(true);
        t.id = s(&v, "ID");
        t.name = s(&v, "Name");
        t.image_id = s(&v, "Image");
        t.image = v.get("Config").and_then(|c| s(c, "Image"));
        t.path = s(&v, "Path");
        let list = |a: Option<&Value>| {
            a.and_then(|a| a.as_array()).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(|x| x.to_string()))
                    .collect()
            })
        };
        t.args = list(v.get("Args"));
        t.cmd = list(v.pointer("/Config/Cmd"));
        t.created = s(&v, "Created");
        t.started_at = v.get("State").and_then(|x| s(x, "StartedAt"));
        t.finished_at = v.get("State").and_then(|x| s(x, "FinishedAt"));
        t.upper_dir = v
            .pointer("/GraphDriver/Data/UpperDir")
            .and_then(|x| x.as_str())
            .map(|x| x.to_string());
        t.config = Some(v);
    } else {
        // A fragment: the end was overwritten. Take what survives, up to
        // the first NUL.
        let end = memchr::memchr(0, d).unwrap_or(d.len());
        let d = &d[..end];
        t.complete = Some(false);
        t.id = pick(d, "ID");
        t.name = pick(d, "Name");
        t.image_id = pick(d, "Image");
        t.path = pick(d, "Path");
        t.created = pick(d, "Created");
        t.started_at = pick(d, "StartedAt");
        t.finished_at = pick(d, "FinishedAt");
        t.upper_dir = pick(d, "UpperDir");
    }
    t
}

/// Parse one json-file log line at the start of `d`.
pub(crate) fn parse_log_line(d: &[u8], offset: u64) -> Option<DockerTrace> {
    let n = memchr::memchr(b'\n', d)?;
    let v: Value = serde_json::from_slice(&d[..n]).ok()?;
    Some(DockerTrace {
        offset,
        kind: Some(TraceKind::LogLine),
        complete: Some(true),
        stream: s(&v, "stream"),
        time: s(&v, "time"),
        log: s(&v, "log"),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_runs_exactly_64() {
        let id = "ab".repeat(32);
        let buf = format!("xx overlay2/{id}/diff and {id}0 and {id}.");
        let hits = hex_ids(buf.as_bytes(), buf.len(), true);
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert!(hits[0].1);
        assert!(!hits[1].1);
    }

    #[test]
    fn config_fragment_fields() {
        let d = br#"{"StreamConfig":{},"State":{"StartedAt":"2023-01-01T00:00:00Z"},"ID":"abc","Name":"/x","Path":"/bin/sh"#;
        let t = parse_config(d, 7);
        assert_eq!(t.complete, Some(false));
        assert_eq!(t.id.as_deref(), Some("abc"));
        assert_eq!(t.name.as_deref(), Some("/x"));
        assert_eq!(t.started_at.as_deref(), Some("2023-01-01T00:00:00Z"));
        assert_eq!(t.path, None);
    }
}

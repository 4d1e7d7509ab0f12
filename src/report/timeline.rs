//! Timesketch-ready JSON Lines: every row has `message`, `datetime`
//! (RFC 3339 UTC), `timestamp` (microseconds since the epoch) and
//! `timestamp_desc`, plus flat fields.

use crate::util::time::Timestamp;
use crate::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;

/// Streams events and keeps a small per-kind histogram for the HTML chart.
pub struct Timeline<W: Write> {
    w: W,
    pub rows: u64,
    /// (secs >> shift, kind) -> count. Exact (shift 0) while there are at
    /// most `MAX_TIME_KEYS` distinct keys; coarsened by halves beyond, so
    /// memory stays bounded whatever the image holds.
    times: BTreeMap<(i64, &'static str), u64>,
    shift: u32,
    /// Exact first and last event second.
    range: Option<(i64, i64)>,
    /// Exact first container event second.
    first_container: Option<i64>,
    line: Vec<u8>,
}

const MAX_TIME_KEYS: usize = 1 << 16;

/// The per-file fields of a file event (`path` already JSON-ready).
pub struct FileFields<'a> {
    pub container_name: Option<&'a str>,
    pub deleted: bool,
    pub gid: u32,
    pub inode: u32,
    pub mode: &'a str,
    pub path: &'a str,
    pub size: u64,
    pub uid: u32,
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes `"`, `\\` and control bytes only: without them
    // the string is copied as it is.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn json_num(out: &mut Vec<u8>, key: &str, v: u64) {
    json_key(out, key);
    crate::util::dec::push_u64(out, v);
}

impl<W: Write> Timeline<W> {
    pub fn new(w: W) -> Self {
        Timeline {
            w,
            rows: 0,
            times: BTreeMap::new(),
            shift: 0,
            range: None,
            first_container: None,
            line: Vec::new(),
        }
    }

    fn note(&mut self, secs: i64, kind: &'static str) {
        self.rows += 1;
        self.range = Some(match self.range {
            Some((lo, hi)) => (lo.min(secs), hi.max(secs)),
            None => (secs, secs),
        });
        if kind == "container" {
            self.first_container = Some(self.first_container.map_or(secs, |f| f.min(secs)));
        }
        *self.times.entry((secs >> self.shift, kind)).or_default() += 1;
        if self.times.len() > MAX_TIME_KEYS {
            self.shift += 1;
            let old = std::mem::take(&mut self.times);
            for ((k, kind), n) in old {
                *self.times.entry((k >> 1, kind)).or_default() += n;
            }
        }
    }

    /// One file event (MACB or deletion), written directly: a scan writes
    /// millions, and building a JSON map per event dominated its time.
    /// Same keys and order as [`Timeline::event`].
    pub fn file_event(
        &mut self,
        ts: Timestamp,
        desc: &str,
        message: &str,
        f: &FileFields,
    ) -> Result<()> {
        if ts.is_zero() || ts.secs <= 0 {
            return Ok(());
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        l.push(b'{');
        if let Some(c) = f.container_name {
            l.extend_from_slice(b"\"container_name\":");
            json_str(&mut l, c);
            l.push(b',');
        }
        l.extend_from_slice(b"\"data_type\":\"whiteout:file\",\"datetime\":\"");
        ts.push_rfc3339(&mut l);
        l.push(b'"');
        json_key(&mut l, "deleted");
        l.extend_from_slice(if f.deleted { b"true" } else { b"false" });
        json_num(&mut l, "gid", f.gid.into());
        json_num(&mut l, "inode", f.inode.into());
        l.extend_from_slice(b",\"message\":");
        json_str(&mut l, message);
        l.extend_from_slice(b",\"mode\":");
        json_str(&mut l, f.mode);
        l.extend_from_slice(b",\"path\":");
        json_str(&mut l, f.path);
        json_num(&mut l, "size", f.size);
        json_key(&mut l, "timestamp");
        crate::util::dec::push_i64(
            &mut l,
            ts.secs
                .saturating_mul(1_000_000)
                .saturating_add((ts.nanos / 1000) as i64),
        );
        l.extend_from_slice(b",\"timestamp_desc\":");
        json_str(&mut l, desc);
        json_num(&mut l, "uid", f.uid.into());
        l.extend_from_slice(b"}\n");
        let r = self.w.write_all(&l);
        self.line = l;
        r.map_err(|e| Error::io("timeline.jsonl", e))?;
        self.note(ts.secs, "file");
        Ok(())
    }

    /// Write one event. Zero or pre-epoch-zero times are skipped.
    pub fn event(
        &mut self,
        ts: Timestamp,
        desc: &str,
        kind: &'static str,
        message: String,
        mut fields: Map<String, Value>,
    ) -> Result<()> {
        if ts.is_zero() || ts.secs <= 0 {
            return Ok(());
        }
        fields.insert("message".into(), Value::from(message));
        fields.insert("datetime".into(), Value::from(ts.rfc3339()));
        fields.insert(
            "timestamp".into(),
            Value::from(ts.secs * 1_000_000 + (ts.nanos / 1000) as i64),
        );
        fields.insert("timestamp_desc".into(), Value::from(desc));
        fields.insert("data_type".into(), Value::from(format!("whiteout:{kind}")));
        serde_json::to_writer(&mut self.w, &Value::Object(fields))
            .map_err(|e| Error::io("timeline.jsonl", std::io::Error::other(e)))?;
        self.w
            .write_all(b"\n")
            .map_err(|e| Error::io("timeline.jsonl", e))?;
        self.note(ts.secs, kind);
        Ok(())
    }

    /// Flush and return the histograms (counts per kind in `n` equal
    /// buckets): `all` from the first to the last event, and `focus` from
    /// an hour before the first container event to the last event (the
    /// case's activity, without years-old image files), or `all` again
    /// when there is no container event. Exact unless more than
    /// `MAX_TIME_KEYS` distinct seconds were seen; then counts are placed
    /// at the start of their 2^shift-second key (`key_secs` in the result).
    pub fn finish(mut self, n: usize) -> Result<Value> {
        self.w.flush().map_err(|e| Error::io("timeline.jsonl", e))?;
        let shift = self.shift;
        let rows: Vec<(i64, &'static str, u64)> = self
            .times
            .iter()
            .map(|(&(k, kind), &c)| (k << shift, kind, c))
            .collect();
        let all = histogram(&rows, self.range, n, shift);
        let focus = match (self.first_container, self.range) {
            (Some(s), Some((lo, hi))) => {
                let from = (s - 3600).max(lo);
                let v: Vec<(i64, &'static str, u64)> = rows
                    .iter()
                    .copied()
                    .filter(|t| t.0 >= (from >> shift) << shift)
                    .collect();
                histogram(&v, Some((from, hi)), n, shift)
            }
            _ => all.clone(),
        };
        Ok(serde_json::json!({"all": all, "focus": focus}))
    }
}

/// Event counts in `n` buckets per kind over `range` (first and last
/// second); `times` holds (second, kind, count).
pub fn histogram(
    times: &[(i64, &'static str, u64)],
    range: Option<(i64, i64)>,
    n: usize,
    shift: u32,
) -> Value {
    let Some((lo, hi)) = range.filter(|_| !times.is_empty()) else {
        return serde_json::json!({"start": null, "end": null, "bucket_secs": 0, "kinds": {}});
    };
    // No more buckets than seconds in the range.
    let n = (n.max(1) as i64).min(hi - lo + 1).max(1);
    let width = ((hi - lo) / n + 1).max(1);
    let mut kinds: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for &(t, k, c) in times {
        let b = ((t.max(lo) - lo) / width).min(n - 1) as usize;
        kinds.entry(k).or_insert_with(|| vec![0; n as usize])[b] += c;
    }
    serde_json::json!({
        "start": Timestamp::new(lo, 0).rfc3339(),
        "end": Timestamp::new(hi, 0).rfc3339(),
        "start_secs": lo,
        "bucket_secs": width,
        "buckets": n,
        "key_secs": 1u64 << shift.min(62),
        "kinds": kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> Vec<Value> {
        std::str::from_utf8(b)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn json_str_matches_serde() {
        for t in [
            "",
            "/etc/passwd",
            "a\"b",
            "a\\b",
            "tab\there",
            "\u{7f}",
            "é/日本",
            "\u{1}x",
        ] {
            let mut a = Vec::new();
            json_str(&mut a, t);
            assert_eq!(a, serde_json::to_vec(t).unwrap(), "{t:?}");
        }
    }

    #[test]
    fn file_event_matches_generic_event() {
        let f = FileFields {
            container_name: Some("web\"x"),
            deleted: true,
            gid: 5,
            inode: 12,
            mode: "r/rrw-r--r--",
            path: "/a\nb",
            size: 7,
            uid: 1000,
        };
        let ts = Timestamp::new(1_700_000_000, 123_456_789);
        let mut a = Timeline::new(Vec::new());
        a.file_event(ts, "Creation Time", "[B] x", &f).unwrap();
        let mut m = Map::new();
        m.insert("container_name".into(), Value::from("web\"x"));
        m.insert("deleted".into(), Value::from(true));
        m.insert("gid".into(), Value::from(5));
        m.insert("inode".into(), Value::from(12));
        m.insert("mode".into(), Value::from("r/rrw-r--r--"));
        m.insert("path".into(), Value::from("/a\nb"));
        m.insert("size".into(), Value::from(7));
        m.insert("uid".into(), Value::from(1000));
        let mut b = Timeline::new(Vec::new());
        b.event(ts, "Creation Time", "file", "[B] x".into(), m)
            .unwrap();
        assert_eq!(a.w, b.w);
        assert_eq!(parse(&a.w)[0]["timestamp"], 1_700_000_000_123_456i64);
    }

    #[test]
    fn histogram_stays_bounded_and_counts_everything() {
        let mut t = Timeline::new(std::io::sink());
        let total = (MAX_TIME_KEYS as i64) * 3;
        for s in 0..total {
            t.note(1_000_000 + s * 7, "file");
        }
        t.note(1_000_000 + total * 7, "container");
        assert!(t.times.len() <= MAX_TIME_KEYS);
        assert!(t.shift >= 2);
        let h = t.finish(60).unwrap();
        let sum: u64 = h["all"]["kinds"]["file"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sum, total as u64);
        assert_eq!(h["all"]["start_secs"], 1_000_000);
        assert_eq!(
            h["focus"]["kinds"]["container"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>(),
            1
        );
    }
}

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
    /// (bucket start secs, kind) -> count; buckets are set by `bucket`.
    times: Vec<(i64, &'static str)>,
}

impl<W: Write> Timeline<W> {
    pub fn new(w: W) -> Self {
        Timeline {
            w,
            rows: 0,
            times: Vec::new(),
        }
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
        self.rows += 1;
        self.times.push((ts.secs, kind));
        Ok(())
    }

    /// Flush and return the histograms (counts per kind in `n` equal
    /// buckets): `all` from the first to the last event, and `focus` from
    /// an hour before the first container event to the last event (the
    /// case's activity, without years-old image files), or `all` again
    /// when there is no container event.
    pub fn finish(mut self, n: usize) -> Result<Value> {
        self.w.flush().map_err(|e| Error::io("timeline.jsonl", e))?;
        let all = histogram(&self.times, n);
        let first_container = self
            .times
            .iter()
            .filter(|t| t.1 == "container")
            .map(|t| t.0)
            .min();
        let focus = match first_container {
            Some(s) => {
                let v: Vec<(i64, &'static str)> = self
                    .times
                    .iter()
                    .copied()
                    .filter(|t| t.0 >= s - 3600)
                    .collect();
                histogram(&v, n)
            }
            None => all.clone(),
        };
        Ok(serde_json::json!({"all": all, "focus": focus}))
    }
}

/// Event counts in `n` buckets per kind.
pub fn histogram(times: &[(i64, &'static str)], n: usize) -> Value {
    let (Some(lo), Some(hi)) = (
        times.iter().map(|t| t.0).min(),
        times.iter().map(|t| t.0).max(),
    ) else {
        return serde_json::json!({"start": null, "end": null, "bucket_secs": 0, "kinds": {}});
    };
    // No more buckets than seconds in the range.
    let n = (n.max(1) as i64).min(hi - lo + 1);
    let width = ((hi - lo) / n + 1).max(1);
    let mut kinds: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (t, k) in times {
        let b = ((t - lo) / width).min(n - 1) as usize;
        kinds.entry(k).or_insert_with(|| vec![0; n as usize])[b] += 1;
    }
    serde_json::json!({
        "start": Timestamp::new(lo, 0).rfc3339(),
        "end": Timestamp::new(hi, 0).rfc3339(),
        "start_secs": lo,
        "bucket_secs": width,
        "buckets": n,
        "kinds": kinds,
    })
}

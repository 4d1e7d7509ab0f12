//! Output helpers: buffered stdout that treats a closed pipe as success,
//! JSON Lines, and warning summaries on stderr.

use crate::util::escape::escape_str;
use crate::{Error, Result};
use std::io::{self, BufWriter, Write};

pub struct Out {
    w: BufWriter<io::Stdout>,
}

impl Out {
    pub fn new() -> Self {
        Out {
            w: BufWriter::with_capacity(1 << 16, io::stdout()),
        }
    }
    pub fn line(&mut self, s: &str) -> Result<()> {
        self.w
            .write_all(s.as_bytes())
            .and_then(|_| self.w.write_all(b"\n"))
            .map_err(pipe)
    }
    pub fn json<T: serde::Serialize>(&mut self, v: &T) -> Result<()> {
        serde_json::to_writer(&mut self.w, v).map_err(json_err)?;
        self.w.write_all(b"\n").map_err(pipe)
    }
    pub fn pretty<T: serde::Serialize>(&mut self, v: &T) -> Result<()> {
        serde_json::to_writer_pretty(&mut self.w, v).map_err(json_err)?;
        self.w.write_all(b"\n").map_err(pipe)
    }
    pub fn raw(&mut self) -> &mut dyn Write {
        &mut self.w
    }
    pub fn finish(mut self) -> Result<()> {
        self.w.flush().map_err(pipe)
    }
}

fn json_err(e: serde_json::Error) -> Error {
    match e.io_error_kind() {
        Some(k) => pipe(io::Error::from(k)),
        None => Error::io("writing JSON", io::Error::other(e)),
    }
}

fn pipe(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        // `whiteout ls ... | head`: the reader left; stop quietly.
        std::process::exit(0);
    }
    Error::io("writing output", e)
}

/// Print warnings to stderr, at most `max` of them, then a count.
pub fn print_warnings(ws: &[String], max: usize) {
    for w in ws.iter().take(max) {
        eprintln!(
            "{}: {}",
            crate::util::warning::severity(w).as_str(),
            escape_str(w)
        );
    }
    if ws.len() > max {
        eprintln!("warning: … and {} more", ws.len() - max);
    }
}

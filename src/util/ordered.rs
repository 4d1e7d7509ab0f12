//! Run tasks on several threads while their output reaches one writer in
//! task order, byte for byte as a serial loop would write it.
//!
//! The task whose turn it is (the head) writes straight through. Other
//! tasks keep their output in memory while all of them together hold less
//! than `budget` bytes, and spill the rest to a scratch file the caller
//! provides; so memory stays bounded by about `budget` and no thread ever
//! waits for another. A finished task that is not the head is parked; the
//! head writes the parked outputs in order when it finishes. (A spilled
//! byte is written, read back and written again: with two workers about
//! half the output is out of turn, so the budget should hold a few
//! tasks' output.)

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A task's output not yet written to the sink.
#[derive(Default)]
struct Pending {
    spill: Option<File>,
    buf: Vec<u8>,
    /// Bytes of `buf` counted in [`Shared::held`].
    held: usize,
}

struct Shared<'w> {
    sink: &'w mut (dyn Write + Send),
    /// Index of the task whose output goes next.
    turn: usize,
    parked: BTreeMap<usize, Pending>,
    err: Option<io::Error>,
    /// Out-of-turn bytes held in memory, by every task, and their limit.
    held: usize,
    budget: usize,
}

impl Shared<'_> {
    fn emit(&mut self, p: &mut Pending) {
        if self.err.is_some() {
            return;
        }
        let mut r = Ok(());
        if let Some(f) = p.spill.as_mut() {
            r = f
                .rewind()
                .and_then(|_| io::copy(&mut f.take(u64::MAX), &mut *self.sink).map(|_| ()));
        }
        if r.is_ok() {
            r = self.sink.write_all(&p.buf);
        }
        p.buf.clear();
        p.spill = None;
        self.held = self.held.saturating_sub(std::mem::take(&mut p.held));
        if let Err(e) = r {
            self.err = Some(e);
        }
    }
}

/// The writer a task gets.
pub struct OrderedWriter<'a, 'w> {
    shared: &'a Mutex<Shared<'w>>,
    idx: usize,
    out: Pending,
    /// Buffer length at which the shared state is next consulted.
    check_at: usize,
    scratch: Option<Scratch<'a>>,
    /// The turn has reached this task: writes go to the sink.
    head: bool,
    done: bool,
}

const BATCH: usize = 64 * 1024;

fn poisoned() -> io::Error {
    io::Error::other("output lock poisoned")
}

/// Makes a scratch file for task `idx`'s overflow. The caller's output
/// layer owns it (whiteout writes only through src/report): it should be
/// new, private and already unlinked.
pub type Scratch<'a> = &'a (dyn Fn(usize) -> io::Result<File> + Sync);

impl OrderedWriter<'_, '_> {
    /// The task is done: write its output if it is the head (then any
    /// parked successors), else park it.
    fn finish(&mut self) -> io::Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let mut out = std::mem::take(&mut self.out);
        let mut g = self.shared.lock().map_err(|_| poisoned())?;
        if g.turn != self.idx {
            g.parked.insert(self.idx, out);
            return Ok(());
        }
        g.emit(&mut out);
        g.turn += 1;
        loop {
            let t = g.turn;
            let Some(mut p) = g.parked.remove(&t) else {
                break;
            };
            g.emit(&mut p);
            g.turn += 1;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let Some(make) = self.scratch else {
            return Ok(());
        };
        if self.out.spill.is_none() {
            self.out.spill = Some(make(self.idx)?);
        }
        if let Some(f) = self.out.spill.as_mut() {
            f.write_all(&self.out.buf)?;
        }
        self.out.buf.clear();
        let held = std::mem::take(&mut self.out.held);
        let mut g = self.shared.lock().map_err(|_| poisoned())?;
        g.held = g.held.saturating_sub(held);
        Ok(())
    }
}

impl Drop for OrderedWriter<'_, '_> {
    /// Even a task that unwinds passes the turn on.
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl Write for OrderedWriter<'_, '_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.out.buf.extend_from_slice(b);
        if self.out.buf.len() < self.check_at {
            return Ok(b.len());
        }
        let mut g = self.shared.lock().map_err(|_| poisoned())?;
        self.head = self.head || g.turn == self.idx;
        if self.head {
            let mut out = std::mem::take(&mut self.out);
            g.emit(&mut out);
            self.out = out;
            self.check_at = BATCH;
            if let Some(e) = &g.err {
                return Err(io::Error::new(e.kind(), e.to_string()));
            }
            return Ok(b.len());
        }
        let more = self.out.buf.len().saturating_sub(self.out.held);
        if self.scratch.is_none() || g.held + more <= g.budget {
            g.held += more;
            self.out.held = self.out.buf.len();
            self.check_at = self.out.buf.len() + BATCH;
        } else {
            drop(g);
            self.spill()?;
            self.check_at = BATCH;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `task(i, writer)` for `i` in `0..n` on up to `threads` threads,
/// tasks taken in index order. The bytes each task writes reach `sink` in
/// index order; the results come back in index order. A write error on
/// the sink (or on a scratch file) is returned.
pub fn run<R: Send>(
    n: usize,
    threads: usize,
    budget: usize,
    scratch: Option<Scratch>,
    sink: &mut (dyn Write + Send),
    task: &(dyn Fn(usize, &mut OrderedWriter) -> R + Sync),
) -> io::Result<Vec<R>> {
    let shared = Mutex::new(Shared {
        sink,
        turn: 0,
        parked: BTreeMap::new(),
        err: None,
        held: 0,
        budget,
    });
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    let task_err: Mutex<Option<io::Error>> = Mutex::new(None);
    let threads = threads.clamp(1, n.max(1));
    // The calling thread is one of the workers: with one task nothing is
    // spawned. A new thread gets a fresh glibc malloc arena, where the
    // caller's arena already holds the memory it freed (at 5M inodes the
    // host walk's own arena was 30 MB of `scan`'s peak).
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= n {
            break;
        }
        let mut w = OrderedWriter {
            shared: &shared,
            idx: i,
            out: Pending::default(),
            check_at: BATCH,
            scratch,
            head: false,
            done: false,
        };
        let r = task(i, &mut w);
        if let Err(e) = w.finish() {
            if let Ok(mut t) = task_err.lock() {
                t.get_or_insert(e);
            }
        }
        if let Ok(mut g) = results.lock() {
            if let Some(slot) = g.get_mut(i) {
                *slot = Some(r);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
    let sh = shared.into_inner().map_err(|_| poisoned())?;
    if let Some(e) = sh.err {
        return Err(e);
    }
    if let Some(e) = task_err.into_inner().map_err(|_| poisoned())? {
        return Err(e);
    }
    let results = results.into_inner().map_err(|_| poisoned())?;
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(n: usize) -> String {
        let mut want = String::new();
        for i in 0..n {
            for k in 0..(i * 5000) {
                want.push_str(&format!("{i} {k}\n"));
            }
        }
        want
    }

    fn task(i: usize, w: &mut OrderedWriter) -> usize {
        // Later tasks write more, so they overtake earlier ones.
        for k in 0..(i * 5000) {
            writeln!(w, "{i} {k}").unwrap();
        }
        i * 2
    }

    #[test]
    fn output_in_task_order_in_memory() {
        let mut out: Vec<u8> = Vec::new();
        let res = run(20, 3, 1, None, &mut out, &task).unwrap();
        assert_eq!(res, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(String::from_utf8(out).unwrap(), want(20));
    }

    #[test]
    fn output_in_task_order_spilled() {
        let made = AtomicUsize::new(0);
        let scratch = |_: usize| -> io::Result<File> {
            made.fetch_add(1, Ordering::SeqCst);
            // An unnamed temporary: /dev/null cannot be read back, so use
            // an anonymous file made and unlinked in the temp dir.
            let p = std::env::temp_dir().join(format!(
                "whiteout-ordered-{}-{}",
                std::process::id(),
                made.load(Ordering::SeqCst)
            ));
            // A scratch file in the temp dir, unlinked at once: never
            // evidence, never beside it.
            #[allow(clippy::disallowed_methods)]
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&p)?;
            #[allow(clippy::disallowed_methods)]
            std::fs::remove_file(&p)?;
            Ok(f)
        };
        let mut out: Vec<u8> = Vec::new();
        let res = run(20, 3, 1, Some(&scratch), &mut out, &task).unwrap();
        assert_eq!(res.len(), 20);
        assert_eq!(String::from_utf8(out).unwrap(), want(20));
        assert!(made.load(Ordering::SeqCst) > 0, "nothing was spilled");
        // A budget that holds every task's output: nothing is spilled.
        made.store(0, Ordering::SeqCst);
        let mut out: Vec<u8> = Vec::new();
        run(20, 3, 64 << 20, Some(&scratch), &mut out, &task).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), want(20));
        assert_eq!(made.load(Ordering::SeqCst), 0, "spilled within the budget");
    }

    #[test]
    fn empty_and_single() {
        let mut out: Vec<u8> = Vec::new();
        assert!(run(0, 2, 0, None, &mut out, &|_, _| 1u8)
            .unwrap()
            .is_empty());
        let r = run(1, 4, 0, None, &mut out, &|_, w| w.write_all(b"x").is_ok()).unwrap();
        assert_eq!((r, out), (vec![true], b"x".to_vec()));
    }
}

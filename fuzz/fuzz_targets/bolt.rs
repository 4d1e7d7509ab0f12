//! BoltDB pages (containerd's `meta.db`, the snapshotter's `metadata.db`):
//! parse, then visit every bucket and decode values the way the
//! containerd reader does (varints, Go times).
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout::docker::bolt::{self, Bucket};

fn visit(b: &Bucket, depth: usize) {
    if depth > 64 {
        return;
    }
    for (k, v) in &b.values {
        let _ = bolt::uvarint(v);
        let _ = bolt::varint(v);
        let _ = bolt::go_time(v);
        let _ = b.text(k);
    }
    for c in b.buckets.values() {
        visit(c, depth + 1);
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = bolt::is_bolt(data);
    if let Ok(db) = bolt::parse(data) {
        visit(&db.root, 0);
        let _ = db.root.path(&[b"v1", b"moby", b"containers"]);
        let _ = db.root.path(&[b"v1", b"moby", b"snapshots"]);
    }
});

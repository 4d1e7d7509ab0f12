//! Hot loops of the ext4 layer on a large generated image.
//!
//! `cargo bench` builds (once) a 200k-file ext4 image with
//! `scripts/make-bench-image.sh` (mkfs.ext4 -d; no root needed) and times:
//! a full recursive listing (walk + i_mode of every entry), a full inode
//! decode of every listed inode, and the inode-table scan used by recovery.
//! When run as a test (`cargo test --benches`) it uses a small committed
//! fixture instead, so it stays quick.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use whiteout::ext4::Filesystem;

fn bench_image() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = std::env::args().any(|a| a == "--bench");
    if !real {
        return root.join("testdata/ext4/htree.img.gz");
    }
    let n = std::env::var("WHITEOUT_BENCH_FILES").unwrap_or_else(|_| "200000".into());
    let img = root.join(format!("target/bench/ls-{n}.img"));
    let st = std::process::Command::new("bash")
        .arg(root.join("scripts/make-bench-image.sh"))
        .arg(&img)
        .arg(&n)
        .status()
        .expect("run scripts/make-bench-image.sh");
    assert!(st.success(), "make-bench-image.sh failed (needs mkfs.ext4)");
    img
}

fn open(p: &Path) -> Filesystem {
    Filesystem::open(whiteout::image::open(p).unwrap()).unwrap()
}

fn benches(c: &mut Criterion) {
    let img = bench_image();
    let fs = open(&img);
    let mut g = c.benchmark_group("ext4");
    g.sample_size(10);
    g.bench_function("walk_and_mode", |b| {
        b.iter(|| {
            let mut n = 0u64;
            fs.walk(2, b"", &mut |w| {
                n += fs.inode_mode(w.entry.inode).map(|m| m as u64).unwrap_or(0) & 1;
            })
            .unwrap();
            n
        })
    });
    let mut inos = Vec::new();
    fs.walk(2, b"", &mut |w| inos.push(w.entry.inode)).unwrap();
    g.bench_function("inode_decode_all", |b| {
        b.iter(|| {
            inos.iter()
                .filter_map(|&i| fs.inode(i).ok())
                .filter(|i| i.checksum_ok == Some(true))
                .count()
        })
    });
    g.bench_function("recovery_analyse", |b| {
        b.iter(|| {
            whiteout::recover::analyse(
                &fs,
                &whiteout::recover::Options {
                    scan_freed_dir_blocks: true,
                    hash: false,
                },
            )
            .candidates
            .len()
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);

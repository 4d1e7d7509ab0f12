//! Carving throughput over a large unallocated region, from page cache.
//!
//! `cargo bench --bench carve` builds (once) `target/bench/carve-<MB>.img`
//! (default 1024 MiB, `WHITEOUT_BENCH_CARVE_MB`): mkfs.ext4 on a sparse
//! file (no root needed), then every free block is filled with a mix of
//! pseudo-random blocks (50%), JSON application-log blocks naming one of
//! 64 container ids (30%; each block starts with a JSON object) and zero
//! blocks (20%), with false JPEG headers sprinkled in. It then reads the image
//! once (page cache) and times a full carve (headers, validation, Docker
//! traces) in GB/s of searched space. Printed beside it: the time of
//! `cat IMAGE > /dev/null`, and of `foremost -t all` on the same image
//! when foremost is installed (set `WHITEOUT_BENCH_FOREMOST=0` to skip).
//! As a test (`cargo test --benches`) it runs once on the small fixture.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use whiteout::ext4::Filesystem;
use whiteout::recover::carve;

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn fill_block(b: &mut [u8], k: u64, seed: &mut u64) {
    match k % 10 {
        0..=4 => {
            for c in b.chunks_mut(8) {
                let r = xorshift(seed).to_le_bytes();
                c.copy_from_slice(&r[..c.len()]);
            }
            if k % 97 == 0 {
                b[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]); // a false JPEG
            }
        }
        5..=7 => {
            // Application log lines naming one of 64 container ids.
            let mut s = String::new();
            while s.len() < b.len() {
                let r = xorshift(seed);
                let id = r % 64;
                s.push_str(&format!(
                    "{{\"level\":\"info\",\"msg\":\"request {r} served\",\"container\":\"{:064x}\"}}\n",
                    id * 0x1234_5678_9abc_def1
                ));
            }
            b.copy_from_slice(&s.as_bytes()[..b.len()]);
        }
        _ => b.fill(0),
    }
}

fn bench_image() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mb: u64 = std::env::var("WHITEOUT_BENCH_CARVE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let img = root.join(format!("target/bench/carve-{mb}.img"));
    if img.exists() {
        return img;
    }
    std::fs::create_dir_all(img.parent().unwrap()).unwrap();
    let tmp = img.with_extension("tmp");
    let f = std::fs::File::create(&tmp).unwrap();
    f.set_len(mb << 20).unwrap();
    drop(f);
    let st = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "4096", "-O", "^has_journal"])
        .arg(&tmp)
        .status()
        .expect("mkfs.ext4");
    assert!(st.success());
    let fs = Filesystem::open(whiteout::image::open(&tmp).unwrap()).unwrap();
    let w = std::fs::OpenOptions::new().write(true).open(&tmp).unwrap();
    let bs = fs.block_size();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut buf = vec![0u8; bs as usize];
    for g in 0..fs.group_count() {
        let bm = fs.block_bitmap(g).unwrap();
        let first = fs.group_first_block(g);
        for i in 0..bm.len {
            if !bm.get(i) {
                let blk = first + i;
                fill_block(&mut buf, blk, &mut seed);
                w.write_all_at(&buf, blk * bs).unwrap();
            }
        }
    }
    drop(w);
    std::fs::rename(&tmp, &img).unwrap();
    img
}

fn secs(cmd: &mut Command) -> Option<f64> {
    let t = Instant::now();
    let st = cmd.status().ok()?;
    st.success().then(|| t.elapsed().as_secs_f64())
}

fn benches(c: &mut Criterion) {
    let real = std::env::args().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let img = if real {
        bench_image()
    } else {
        root.join("testdata/carve/carve.img.gz")
    };
    let fs = Filesystem::open(whiteout::image::open(&img).unwrap()).unwrap();
    let opts = carve::Options {
        kinds: None,
        all_space: false,
        traces: true,
        exclude: Vec::new(),
    };
    // Warm the page cache, and time `cat` for the ratio.
    let cat = if real {
        secs(
            Command::new("sh")
                .arg("-c")
                .arg(format!("cat '{}' > /dev/null", img.display())),
        );
        secs(
            Command::new("sh")
                .arg("-c")
                .arg(format!("cat '{}' > /dev/null", img.display())),
        )
    } else {
        None
    };
    let probe = carve::carve(&fs, &opts);
    let searched = probe.stats.bytes_searched;
    let mut g = c.benchmark_group("carve");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(searched));
    g.bench_function("unallocated", |b| {
        b.iter(|| carve::carve(&fs, &opts).stats.carved)
    });
    // File headers only (`--types` without `docker`): no byte-wise trace search.
    let files_only = carve::Options {
        traces: false,
        ..opts.clone()
    };
    g.bench_function("unallocated-files-only", |b| {
        b.iter(|| carve::carve(&fs, &files_only).stats.carved)
    });
    g.finish();
    if !real {
        return;
    }
    let t = Instant::now();
    let n = 3;
    for _ in 0..n {
        carve::carve(&fs, &opts);
    }
    let ours = t.elapsed().as_secs_f64() / n as f64;
    let size = std::fs::metadata(&img).unwrap().len();
    println!(
        "carve: {:.2} GiB searched ({} header hits, {} carved, {} traces) in {ours:.3}s = {:.2} GB/s",
        searched as f64 / (1u64 << 30) as f64,
        probe.stats.header_hits,
        probe.stats.carved,
        probe.stats.traces,
        searched as f64 / ours / 1e9
    );
    if let Some(cat) = cat {
        println!(
            "cat IMAGE > /dev/null: {cat:.3}s for {:.2} GiB = {:.2} GB/s; carve/cat time ratio {:.2}",
            size as f64 / (1u64 << 30) as f64,
            size as f64 / cat / 1e9,
            ours / cat
        );
    }
    let want_foremost = std::env::var("WHITEOUT_BENCH_FOREMOST").map_or(true, |v| v != "0");
    if want_foremost {
        let out = img.with_extension("foremost");
        let _ = std::fs::remove_dir_all(&out);
        if let Some(fm) = secs(
            Command::new("foremost")
                .args(["-Q", "-t", "all", "-i"])
                .arg(&img)
                .arg("-o")
                .arg(&out),
        ) {
            println!(
                "foremost -t all: {fm:.2}s = {:.2} GB/s; whiteout is {:.1}x faster",
                size as f64 / fm / 1e9,
                fm / ours
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

criterion_group!(carve_benches, benches);
criterion_main!(carve_benches);

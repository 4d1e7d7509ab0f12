//! Criterion benchmarks for the hot loops, on committed
//! fixtures and data generated in-process (no root, no mkfs):
//!
//! - `inode_table_parse`: decode every record of every inode table of a
//!   fixture, read in one sequential chunk per group (what `deleted` does);
//! - `extent_walk`: parse extent nodes (a full 4 KiB leaf block built here),
//!   and the block map of every inode of a fixture;
//! - `dirent_parse`: parse a 4 KiB directory block of 60 entries built here,
//!   and read every directory of a fixture;
//! - `journal_scan`: open and scan the jbd2 journal of a dirty fixture;
//! - `attribution_map`: recovery + Docker state + ownership map on the
//!   Docker host fixture (`Attributor::new`).
//!
//! Carving throughput is in `benches/carve.rs`, the large listing in
//! `benches/listing.rs`; the terabyte-scale figures in
//! `docs/benchmarks.md`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use whiteout::ext4::dir::parse_dirents;
use whiteout::ext4::extent::ExtentNode;
use whiteout::ext4::{Filesystem, Inode};

fn open(rel: &str) -> Filesystem {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    Filesystem::open(whiteout::image::open(&p).expect("fixture")).expect("ext4 fixture")
}

/// Every inode table, one sequential read per group.
fn itables(fs: &Filesystem) -> Vec<Vec<u8>> {
    let bs = fs.block_size();
    let len = fs.sb.inodes_per_group as u64 * fs.sb.inode_size();
    fs.groups
        .iter()
        .filter(|g| !g.inode_uninit())
        .filter_map(|g| {
            let mut b = vec![0u8; len as usize];
            fs.read_bytes(g.inode_table * bs, &mut b).ok().map(|_| b)
        })
        .collect()
}

fn inode_table_parse(c: &mut Criterion) {
    let fs = open("testdata/deleted/del-dirty.img.gz");
    let tables = itables(&fs);
    let isz = fs.sb.inode_size() as usize;
    let n: usize = tables.iter().map(|t| t.len() / isz).sum();
    let mut g = c.benchmark_group("inode_table_parse");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("decode_all_records", |b| {
        b.iter(|| {
            let mut used = 0u32;
            for t in &tables {
                for (i, r) in t.chunks_exact(isz).enumerate() {
                    let ino = Inode::parse(r, i as u32 + 1, &fs.sb);
                    used += u32::from(ino.mode != 0);
                }
            }
            black_box(used)
        })
    });
    g.bench_function("prefilter_then_decode", |b| {
        // The `deleted` fast path: skip never-used records before decoding.
        b.iter(|| {
            let mut used = 0u32;
            for t in &tables {
                for (i, r) in t.chunks_exact(isz).enumerate() {
                    if r[0] == 0 && r[1] == 0 && r[0x14..0x18] == [0; 4] {
                        continue;
                    }
                    used += u32::from(Inode::parse(r, i as u32 + 1, &fs.sb).links_count == 0);
                }
            }
            black_box(used)
        })
    });
    g.finish();
}

fn extent_leaf_block() -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    let max = (4096 - 12) / 12;
    b[0..2].copy_from_slice(&0xF30Au16.to_le_bytes());
    b[2..4].copy_from_slice(&(max as u16).to_le_bytes());
    b[4..6].copy_from_slice(&(max as u16).to_le_bytes());
    for i in 0..max {
        let e = &mut b[12 + i * 12..24 + i * 12];
        e[0..4].copy_from_slice(&((i as u32) * 8).to_le_bytes());
        e[4..6].copy_from_slice(&8u16.to_le_bytes());
        e[8..12].copy_from_slice(&(100_000 + (i as u32) * 16).to_le_bytes());
    }
    b
}

fn extent_walk(c: &mut Criterion) {
    let leaf = extent_leaf_block();
    let fs = open("testdata/ext4/default.img.gz");
    let inodes: Vec<Inode> = (1..=fs.sb.inodes_count.min(4096))
        .filter_map(|i| fs.inode(i).ok())
        .filter(|i| i.mode != 0 && i.links_count > 0)
        .collect();
    let mut g = c.benchmark_group("extent_walk");
    g.throughput(Throughput::Elements(340));
    g.bench_function("parse_full_leaf_block", |b| {
        b.iter(|| black_box(ExtentNode::parse(black_box(&leaf), None).leaves.len()))
    });
    g.throughput(Throughput::Elements(inodes.len() as u64));
    g.bench_function("block_map_every_inode", |b| {
        b.iter(|| {
            inodes
                .iter()
                .map(|i| fs.block_map(i).runs.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn dirent_block() -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    let mut off = 0usize;
    let mut i = 0u32;
    loop {
        let name = format!("file-{i:05}-{:08x}.txt", i.wrapping_mul(2654435761));
        let need = (8 + name.len() + 3) & !3;
        if off + need + 40 > 4096 {
            let rec = 4096 - off;
            b[off..off + 4].copy_from_slice(&(i + 12).to_le_bytes());
            b[off + 4..off + 6].copy_from_slice(&(rec as u16).to_le_bytes());
            b[off + 6] = name.len() as u8;
            b[off + 7] = 1;
            b[off + 8..off + 8 + name.len()].copy_from_slice(name.as_bytes());
            break;
        }
        b[off..off + 4].copy_from_slice(&(i + 12).to_le_bytes());
        b[off + 4..off + 6].copy_from_slice(&(need as u16).to_le_bytes());
        b[off + 6] = name.len() as u8;
        b[off + 7] = 1;
        b[off + 8..off + 8 + name.len()].copy_from_slice(name.as_bytes());
        off += need;
        i += 1;
    }
    b
}

fn dirent_parse(c: &mut Criterion) {
    let blk = dirent_block();
    let n = parse_dirents(&blk, 4096, true, u32::MAX, 0).entries.len();
    let fs = open("testdata/ext4/htree.img.gz");
    let dirs: Vec<Inode> = (1..=fs.sb.inodes_count.min(8192))
        .filter_map(|i| fs.inode(i).ok())
        .filter(|i| i.is_dir() && i.links_count > 0)
        .collect();
    let mut g = c.benchmark_group("dirent_parse");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("parse_4k_block", |b| {
        b.iter(|| {
            black_box(
                parse_dirents(black_box(&blk), 4096, true, u32::MAX, 0)
                    .entries
                    .len(),
            )
        })
    });
    g.bench_function("read_dir_every_directory", |b| {
        b.iter(|| {
            dirs.iter()
                .map(|d| fs.read_dir(d).entries.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn journal_scan(c: &mut Criterion) {
    let fs = open("testdata/deleted/del-dirty.img.gz");
    let mut g = c.benchmark_group("journal_scan");
    g.sample_size(20);
    g.bench_function("open_and_scan", |b| {
        b.iter(|| {
            whiteout::ext4::journal::Journal::open(&fs)
                .map(|j| j.transactions.len())
                .unwrap_or(0)
        })
    });
    g.finish();
}

fn attribution_map(c: &mut Criterion) {
    let fs = open("testdata/docker/docker-host.img.gz");
    let rec = whiteout::recover::analyse(
        &fs,
        &whiteout::recover::Options {
            scan_freed_dir_blocks: true,
            hash: false,
        },
    );
    let ctx = whiteout::attribute::DockerContext::load(&fs, &rec);
    let mut g = c.benchmark_group("attribution_map");
    g.sample_size(10);
    g.bench_function("attributor_new", |b| {
        b.iter(|| {
            whiteout::attribute::Attributor::new(&fs, ctx.as_ref(), &rec)
                .map
                .len()
        })
    });
    g.finish();
}

criterion_group!(
    group,
    inode_table_parse,
    extent_walk,
    dirent_parse,
    journal_scan,
    attribution_map
);
criterion_main!(group);

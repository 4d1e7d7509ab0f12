//! Resource bounds: crafted directories claiming millions of
//! entries, very deep nesting, a journal claiming a 2^32-block ring, huge
//! sizes and xattr counts all finish in bounded time and memory, with a
//! warning naming the cap.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use std::time::{Duration, Instant};
use whiteout::ext4::Filesystem;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Peak RSS of this test process (MiB), from /proc.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

const EXTENTS_FL: u32 = 0x80000;
const INDEX_FL: u32 = 0x1000;

/// First run of `n` free blocks (by the block bitmap) of a 1 KiB image.
fn free_run(fs: &Filesystem, n: u64) -> u64 {
    let mut start = 0;
    let mut len = 0;
    for b in 1..fs.sb.blocks_count {
        if fs.block_allocated(b) == Some(false) {
            if len == 0 {
                start = b;
            }
            len += 1;
            if len == n {
                return start;
            }
        } else {
            len = 0;
        }
    }
    panic!("no free run of {n} blocks");
}

/// A directory block of 1 KiB full of 12-byte entries naming `ino`.
fn tiny_entries_block(ino: u32, seed: u32) -> Vec<u8> {
    let mut b = vec![0u8; 1024];
    let n = 1024 / 12;
    for k in 0..n {
        let o = k * 12;
        put32(&mut b, o, ino);
        let rec = if k == n - 1 { 1024 - o } else { 12 };
        put16(&mut b, o + 4, rec as u16);
        b[o + 6] = 4;
        b[o + 7] = 1;
        b[o + 8..o + 12].copy_from_slice(&(seed.wrapping_mul(97) + k as u32).to_be_bytes());
    }
    b
}

/// Point inode `ino`'s i_block at a depth-1 extent tree whose single leaf
/// (at `leaf`) maps `extents` (logical, len, physical).
fn set_extent_tree(b: &mut [u8], ipos: usize, leaf: u64, extents: &[(u32, u16, u64)]) {
    let ib = ipos + 40;
    b[ib..ib + 60].fill(0);
    put16(b, ib, 0xF30A);
    put16(b, ib + 2, 1);
    put16(b, ib + 4, 4);
    put16(b, ib + 6, 1);
    put32(b, ib + 12, 0);
    put32(b, ib + 16, leaf as u32);
    let lo = (leaf * 1024) as usize;
    b[lo..lo + 1024].fill(0);
    put16(b, lo, 0xF30A);
    put16(b, lo + 2, extents.len() as u16);
    put16(b, lo + 4, 84);
    for (k, &(l, n, p)) in extents.iter().enumerate() {
        let o = lo + 12 + k * 12;
        put32(b, o, l);
        put16(b, o + 4, n);
        put16(b, o + 6, (p >> 32) as u16);
        put32(b, o + 8, p as u32);
    }
    let flags = u32::from_le_bytes(b[ipos + 32..ipos + 36].try_into().unwrap());
    put32(b, ipos + 32, (flags | EXTENTS_FL) & !INDEX_FL);
}

/// A directory whose 84 extents all map the same 2048 blocks of 85 tiny
/// entries each: 14.6 million claimed entries in 2 MiB of image.
#[test]
fn directory_claiming_millions_of_entries_is_capped() {
    let mut b = image_bytes("ext4", "blk1k");
    let fs = fs_from_bytes(b.clone()).unwrap();
    let dir = fs.lookup(b"/a/b/c").unwrap();
    let target = fs.lookup(b"/files/one").unwrap();
    let first = free_run(&fs, 2050);
    let leaf = first;
    let data = first + 1;
    for k in 0..2048u64 {
        let o = ((data + k) * 1024) as usize;
        b[o..o + 1024].copy_from_slice(&tiny_entries_block(target, k as u32));
    }
    let ipos = fs.inode_position(dir).unwrap() as usize;
    let extents: Vec<(u32, u16, u64)> = (0..84u32).map(|k| (k * 2048, 2048, data)).collect();
    set_extent_tree(&mut b, ipos, leaf, &extents);
    let size = 84u64 * 2048 * 1024;
    put32(&mut b, ipos + 4, size as u32);
    put32(&mut b, ipos + 0x6C, (size >> 32) as u32);
    let fs = fs_from_bytes(b.clone()).unwrap();
    let t = Instant::now();
    let l = fs.read_dir(&fs.inode(dir).unwrap());
    // Each physical block is read once: 2048 blocks of 85 entries, not 84x.
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("83 extents map physical blocks already mapped")),
        "{:?}",
        &l.warnings[..l.warnings.len().min(5)]
    );
    assert!(l.entries.len() <= 2048 * 85);
    assert!(l.entries.len() <= whiteout::ext4::dir::MAX_DIR_ENTRIES);
    drop(l);
    let mut n = 0u64;
    fs.walk(2, b"", &mut |_| n += 1).unwrap();
    assert!(n <= 2048 * 85 + 100);
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(peak_rss_mib() < 512, "peak RSS {} MiB", peak_rss_mib());
    // The CLI (release or debug) lists it with the cap in a warning.
    let img = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bounds-million.img");
    std::fs::write(&img, &b).unwrap();
    let (code, _out, err) = run(&["ls", img.to_str().unwrap(), "--inode", &dir.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already mapped by this inode"), "{err}");
    // The deleted-file analysis too (it reads every directory block).
    let t = Instant::now();
    let (code, _out, err) = run(&["deleted", img.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

/// 4000 directories nested one in another, the last linking back to the
/// first: the walk is bounded, the loop is cut and named.
#[test]
fn very_deep_nesting_and_a_loop_are_bounded() {
    let mut b = image_bytes("ext4", "blk1k");
    let fs = fs_from_bytes(b.clone()).unwrap();
    let isize = fs.sb.inode_size as usize;
    let depth = 4000u32;
    // Free inodes (group 0 and 1) and free blocks for the chain.
    let inos: Vec<u32> = (12..=fs.sb.inodes_count)
        .filter(|&i| fs.inode_allocated(i) == Some(false))
        .take(depth as usize)
        .collect();
    assert_eq!(inos.len(), depth as usize);
    let blocks = free_run(&fs, depth as u64);
    let root_pos = fs.inode_position(2).unwrap() as usize;
    let template = b[root_pos..root_pos + isize].to_vec();
    for (k, &ino) in inos.iter().enumerate() {
        let parent = if k == 0 { 2 } else { inos[k - 1] };
        let child = inos[(k + 1) % inos.len()];
        let blk = blocks + k as u64;
        let pos = fs.inode_position(ino).unwrap() as usize;
        b[pos..pos + isize].copy_from_slice(&template);
        put16(&mut b, pos, 0o040755);
        put32(&mut b, pos + 4, 1024);
        put32(&mut b, pos + 0x6C, 0);
        put32(&mut b, pos + 0x14, 0); // dtime
        put16(&mut b, pos + 0x1A, 2);
        let ib = pos + 40;
        b[ib..ib + 60].fill(0);
        put16(&mut b, ib, 0xF30A);
        put16(&mut b, ib + 2, 1);
        put16(&mut b, ib + 4, 4);
        put32(&mut b, ib + 12, 0);
        put16(&mut b, ib + 16, 1);
        put32(&mut b, ib + 20, blk as u32);
        put32(&mut b, pos + 32, EXTENTS_FL);
        let o = (blk * 1024) as usize;
        let d = &mut b[o..o + 1024];
        d.fill(0);
        put32(d, 0, ino);
        put16(d, 4, 12);
        d[6] = 1;
        d[7] = 2;
        d[8] = b'.';
        put32(d, 12, parent);
        put16(d, 16, 12);
        d[18] = 2;
        d[19] = 2;
        d[20..22].copy_from_slice(b"..");
        put32(d, 24, child);
        put16(d, 28, 1000);
        d[30] = 1;
        d[31] = 2;
        d[32] = b'd';
    }
    // Hook the chain into the root: rename lost+found's entry to "d".
    let lf = fs.lookup(b"/lost+found").unwrap();
    let root = fs.inode(2).unwrap();
    let map = fs.block_map(&root);
    let ro = (map.runs[0].physical * 1024) as usize;
    let mut off = ro;
    loop {
        let ino = u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
        let rec = u16::from_le_bytes([b[off + 4], b[off + 5]]) as usize;
        if ino == lf {
            put32(&mut b, off, inos[0]);
            break;
        }
        off += rec;
        assert!(rec > 0 && off < ro + 1024);
    }
    let fs = fs_from_bytes(b.clone()).unwrap();
    let t = Instant::now();
    let mut n = 0usize;
    let mut longest = 0usize;
    fs.walk(2, b"", &mut |w| {
        n += 1;
        longest = longest.max(w.path.len());
    })
    .unwrap();
    assert!(n >= depth as usize, "{n}");
    assert!(longest >= 2 * depth as usize - 2);
    let ws = fs.warnings();
    assert!(
        ws.iter().any(|w| w.contains("already visited (loop")),
        "{:?}",
        &ws[..ws.len().min(5)]
    );
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    // The CLI and the deleted-file analysis finish too.
    let img = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bounds-deep.img");
    std::fs::write(&img, &b).unwrap();
    for args in [vec!["ls", "-r", "-p"], vec!["deleted"]] {
        let mut a = args.clone();
        a.push(img.to_str().unwrap());
        let (code, _out, err) = run(&a);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
}

/// A journal superblock claiming a ring of 2^32 blocks, and one whose first
/// block lies past its end.
#[test]
fn journal_claiming_a_huge_ring_is_bounded() {
    let orig = image_bytes("deleted", "del-dirty");
    let fs = fs_from_bytes(orig.clone()).unwrap();
    let j = whiteout::ext4::journal::Journal::open(&fs).unwrap();
    let jsb = (j.physical(0).unwrap() * fs.block_size()) as usize;
    for (field, v) in [
        (0x10usize, u32::MAX),
        (0x14, u32::MAX - 1),
        (0x18, u32::MAX),
    ] {
        let mut b = orig.clone();
        b[jsb + field..jsb + field + 4].copy_from_slice(&v.to_be_bytes());
        let fs = fs_from_bytes(b).unwrap();
        let t = Instant::now();
        let _ = whiteout::ext4::journal::Journal::open(&fs);
        let r = whiteout::recover::analyse(&fs, &whiteout::recover::Options::default());
        assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
        drop(r);
    }
}

/// i_size 2^63 on a directory and an xattr entry claiming a 2 GiB value.
#[test]
fn huge_directory_size_and_xattr_value_are_bounded() {
    let mut b = image_bytes("ext4", "blk1k");
    let fs = fs_from_bytes(b.clone()).unwrap();
    let pos = fs.inode_position(2).unwrap() as usize;
    put32(&mut b, pos + 4, 0);
    put32(&mut b, pos + 0x6C, 0x8000_0000);
    // In-inode xattr area: magic, then one entry with a 2 GiB value.
    let isize = fs.sb.inode_size as usize;
    let extra = u16::from_le_bytes([b[pos + 128], b[pos + 129]]) as usize;
    let x = pos + 128 + extra;
    if x + 40 < pos + isize {
        put32(&mut b, x, 0xEA02_0000);
        let e = x + 4;
        b[e] = 4; // name_len
        b[e + 1] = 1; // user.
        put16(&mut b, e + 2, 0); // value offset
        put32(&mut b, e + 4, 0); // value inode
        put32(&mut b, e + 8, 0x8000_0000); // value size
        b[e + 16..e + 20].copy_from_slice(b"evil");
    }
    let fs = fs_from_bytes(b).unwrap();
    let t = Instant::now();
    let root = fs.inode(2).unwrap();
    let l = fs.read_dir(&root);
    assert!(l.entries.len() < 100);
    let xs = fs.xattrs(&root);
    assert!(xs.attrs.iter().all(|a| a.value.len() < (16 << 20) + 1));
    let mut n = 0;
    fs.walk(2, b"", &mut |_| n += 1).unwrap();
    assert!(t.elapsed() < Duration::from_secs(30));
}

/// A missing argument is named in the one-line error; `--version` carries
/// the version; completions and the man page are generated from the same
/// command model.
#[test]
fn cli_explains_itself() {
    let (code, _, err) = run(&["ls"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("<IMAGE>"), "{err}");
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let v = String::from_utf8(out).unwrap();
    assert!(
        v.starts_with(&format!("whiteout {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let (code, out, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    let bash = String::from_utf8(out).unwrap();
    assert!(
        bash.contains("_whiteout()") && bash.contains("deleted"),
        "bash completion"
    );
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    let man = String::from_utf8(out).unwrap();
    assert!(
        man.contains(".TH whiteout 1") && man.contains("whoowns"),
        "man page"
    );
    let (code, _, err) = run(&["deleted", "x.img", "--kind", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown kind \"nope\""), "{err}");
}

/// Every option and argument of every command says what it is.
#[test]
fn every_option_has_help() {
    use clap::CommandFactory;
    let root = whiteout::cli::Cli::command();
    let mut missing = Vec::new();
    for sub in root.get_subcommands() {
        for a in sub.get_arguments() {
            let id = a.get_id().as_str();
            if id != "help" && id != "version" && a.get_help().is_none() {
                missing.push(format!("{} --{id}", sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

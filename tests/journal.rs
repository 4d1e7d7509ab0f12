//! jbd2 journal parser: kernel-written fixtures (testdata/deleted) checked
//! against their manifests and debugfs logdump output, plus hostile images
//! built by corrupting a fixture in memory.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use whiteout::ext4::extent::ExtentNode;
use whiteout::ext4::journal::{
    classify_fs_block, sniff, tag_flag, BlockRole, ContentHint, Journal, JBD2_MAGIC,
};
use whiteout::ext4::{Filesystem, Inode};
use whiteout::image::{self, ReadAt, Source};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/deleted")
}

/// Every fixture with an image and a manifest (the three named ones must exist).
fn fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .expect("testdata/deleted")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.strip_suffix(".img.gz").map(|s| s.to_string())
        })
        .filter(|n| {
            dir().join(format!("{n}.json")).exists() || dir().join(format!("{n}.json.gz")).exists()
        })
        .collect();
    v.sort();
    for need in ["del-clean", "del-dirty", "del-depth", "del-tree"] {
        assert!(v.iter().any(|n| n == need), "fixture {need} missing");
    }
    v
}

/// The manifest, plain or gzipped (large ones are committed gzipped).
fn manifest(name: &str) -> Value {
    use std::io::Read;
    let p = dir().join(format!("{name}.json"));
    let t = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(_) => {
            let gz = std::fs::read(p.with_extension("json.gz")).unwrap();
            let mut t = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut t)
                .unwrap();
            t
        }
    };
    serde_json::from_str(&t).unwrap()
}

fn open(name: &str) -> Filesystem {
    let src = image::open(&dir().join(format!("{name}.img.gz"))).unwrap();
    Filesystem::open(src).unwrap()
}

fn bytes(name: &str) -> Vec<u8> {
    let src = image::open(&dir().join(format!("{name}.img.gz"))).unwrap();
    image::read_vec(&*src, 0, src.size() as usize).unwrap()
}

fn fs_of(b: Vec<u8>) -> Filesystem {
    let src: Source = Arc::new(b);
    Filesystem::open(src).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

#[test]
fn every_fixture_matches_its_manifest() {
    for name in fixtures() {
        let m = manifest(&name);
        let mj = &m["journal"];
        let fs = open(&name);
        let j = Journal::open(&fs).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(j.inode, 8, "{name}");
        assert!(j.sb.valid_magic(), "{name}");
        assert_eq!(j.sb.version(), 2, "{name}");
        assert!(j.sb.checksum_ok.unwrap_or(true), "{name}");
        assert_eq!(j.sb.block_size as u64, u(&m["block_size"]), "{name}");
        assert_eq!(j.sb.max_len as u64, u(&mj["size_blocks"]), "{name}");
        assert_eq!(j.sb.start as u64, u(&mj["s_start"]), "{name}");
        assert_eq!(j.sb.sequence as u64, u(&mj["s_sequence"]), "{name}");
        assert_eq!(j.sb.csum_v3(), mj["csum_v3"].as_bool().unwrap(), "{name}");
        assert_eq!(j.sb.is_64bit(), mj["64bit"].as_bool().unwrap(), "{name}");
        assert_eq!(j.sb.tag_size(), if j.sb.csum_v3() { 16 } else { 12 });
        assert_eq!(
            j.fs_needs_recovery,
            m["needs_recovery"].as_bool().unwrap(),
            "{name}"
        );
        assert_eq!(j.needs_recovery(), !m["clean_unmount"].as_bool().unwrap());
        assert_eq!((j.ring_first, j.ring_end), (1, j.sb.max_len as u64));
        assert_eq!(j.stats.blocks_scanned, j.sb.max_len as u64 - 1);
        assert_eq!(j.stats.unreadable_blocks, 0);

        // Committed transactions in the ring, first and last sequence.
        let committed: Vec<u32> = j
            .transactions
            .iter()
            .filter(|t| t.commit.is_some())
            .map(|t| t.sequence)
            .collect();
        assert_eq!(
            committed.len() as u64,
            u(&mj["committed_transactions_in_ring"]),
            "{name}"
        );
        assert_eq!(
            committed.first().copied().map(u64::from),
            Some(u(&mj["first_seq_in_ring"])),
            "{name}"
        );
        assert_eq!(
            committed.last().copied().map(u64::from),
            Some(u(&mj["last_seq_in_ring"])),
            "{name}"
        );
        // Strictly increasing sequences (they do not wrap in these images).
        for w in j.transactions.windows(2) {
            assert!(w[0].sequence < w[1].sequence, "{name}: order");
            assert!(j.seq_key(w[0].sequence) < j.seq_key(w[1].sequence));
        }
        // Every transaction but possibly the oldest (whose start the ring
        // overwrote) is complete; every tag checksum verifies (csum v3).
        for (i, t) in j.transactions.iter().enumerate() {
            let c = t.commit.as_ref().expect("commit");
            assert!(c.time.secs > 1_700_000_000, "{name}: commit time");
            if i > 0 {
                assert!(t.complete, "{name}: transaction {} incomplete", t.sequence);
            }
            if j.sb.csum_v3() {
                assert_eq!(c.checksum_ok, Some(true), "{name}: {}", t.sequence);
                if !t.descriptor_blocks.is_empty() {
                    assert_eq!(t.descriptor_checksums_ok, Some(true));
                }
            } else {
                assert_eq!(c.checksum_ok, None);
            }
            for b in &t.blocks {
                assert!(b.fs_block < fs.sb.blocks_count, "{name}: fs block");
                assert!(b.journal_block >= j.ring_first && b.journal_block < j.ring_end);
                assert!(!b.missing, "{name}: missing block");
                assert_eq!(b.sequence, t.sequence);
                let want = if j.sb.csum_v3() { Some(true) } else { None };
                assert_eq!(b.checksum_ok, want, "{name}: tag checksum");
            }
        }
        // No warnings on these intact images except the overwritten start.
        for w in &j.warnings {
            assert!(w.contains("only its commit block survives"), "{name}: {w}");
        }
        // Live log: the dirty image has one, from s_start with s_sequence.
        let live: Vec<u32> = j
            .transactions
            .iter()
            .filter(|t| t.in_live_log)
            .map(|t| t.sequence)
            .collect();
        if j.sb.start == 0 {
            assert!(live.is_empty(), "{name}");
            assert_eq!(j.live_end, None);
        } else {
            assert_eq!(live.first().copied(), Some(j.sb.sequence), "{name}");
            assert_eq!(live.last().copied(), committed.last().copied(), "{name}");
            assert_eq!(
                live.len() as u32,
                live.last().unwrap() - live.first().unwrap() + 1
            );
        }
    }
}

#[test]
fn dirty_journal_needs_recovery() {
    let fs = open("del-dirty");
    let j = Journal::open(&fs).unwrap();
    assert_ne!(j.sb.start, 0);
    assert!(j.needs_recovery());
    assert!(j.fs_needs_recovery);
    assert!(fs
        .sb
        .has_incompat(whiteout::ext4::superblock::incompat::RECOVER));
    // History before the live log is there too.
    assert!(j
        .transactions
        .iter()
        .any(|t| !t.in_live_log && t.commit.is_some()));
    let clean = Journal::open(&open("del-clean")).unwrap();
    assert_eq!(clean.sb.start, 0);
    assert!(!clean.fs_needs_recovery);
    assert!(clean.transactions.iter().all(|t| !t.in_live_log));
}

/// Parse a debugfs `logdump` section: (sequence, fs block, journal block,
/// flags) for logged blocks, (sequence, fs block) revokes, commit blocks,
/// the log start and where the log ended.
struct Logdump {
    start: (u64, u64),
    logged: BTreeSet<(u32, u64, u64, u32)>,
    revoked: BTreeSet<(u32, u64)>,
    commits: BTreeSet<(u32, u64)>,
    end: Option<u64>,
}

fn parse_logdump(text: &str) -> Logdump {
    let mut ld = Logdump {
        start: (0, 0),
        logged: BTreeSet::new(),
        revoked: BTreeSet::new(),
        commits: BTreeSet::new(),
        end: None,
    };
    let num = |s: &str| s.trim_end_matches([',', ':', '.']).parse::<u64>().unwrap();
    let mut seq = 0u32;
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("Journal starts at block") {
            ld.start = (num(w[4]), num(w[6]));
        } else if line.starts_with("Dumping descriptor block, sequence")
            || line.starts_with("Dumping revoke block, sequence")
        {
            seq = num(w[4]) as u32;
        } else if line.trim_start().starts_with("FS block") && line.contains("logged at") {
            // "  FS block 40 logged at journal block 364 (flags 0x2)"
            let flags =
                u32::from_str_radix(w[9].trim_start_matches("0x").trim_end_matches(')'), 16)
                    .unwrap();
            ld.logged.insert((seq, num(w[2]), num(w[7]), flags));
        } else if line.trim_start().starts_with("Revoke FS block") {
            ld.revoked.insert((seq, num(w[3])));
        } else if line.starts_with("Found expected sequence") && line.contains("(commit block)") {
            ld.commits.insert((num(w[3]) as u32, num(w[w.len() - 1])));
        } else if line.starts_with("No magic number at block") {
            ld.end = Some(num(w[5]));
        }
    }
    ld
}

/// debugfs `logdump -a` walks the live log of the dirty image exactly as
/// the kernel would: our live transactions must list the same blocks.
#[test]
fn dirty_live_log_matches_debugfs_logdump() {
    let text = String::from_utf8_lossy(
        &std::fs::read(dir().join("del-dirty.debugfs-logdump.txt")).unwrap(),
    )
    .to_string();
    // First section only (`logdump -a`; the second is `-aO`).
    let first = text
        .split("\n# debugfs")
        .next()
        .unwrap_or(&text)
        .to_string();
    let ld = parse_logdump(&first);
    let fs = open("del-dirty");
    let j = Journal::open(&fs).unwrap();
    assert_eq!(ld.start, (j.sb.start as u64, j.sb.sequence as u64));
    let mut logged = BTreeSet::new();
    let mut revoked = BTreeSet::new();
    let mut commits = BTreeSet::new();
    for t in j.transactions.iter().filter(|t| t.in_live_log) {
        for b in &t.blocks {
            logged.insert((t.sequence, b.fs_block, b.journal_block, b.tag_flags));
        }
        for &r in &t.revoked {
            revoked.insert((t.sequence, r));
        }
        if let Some(c) = &t.commit {
            commits.insert((t.sequence, c.journal_block));
        }
    }
    assert!(
        ld.logged.len() > 20,
        "parsed {} logdump lines",
        ld.logged.len()
    );
    assert_eq!(logged, ld.logged);
    assert_eq!(revoked, ld.revoked);
    assert_eq!(commits, ld.commits);
    assert_eq!(j.live_end, ld.end);
}

/// The clean image: debugfs finds no live log (s_start 0), we still find
/// the history; the dirty image's `-aO` lines agree with our blocks too.
#[test]
fn clean_logdump_start_and_history() {
    let text = String::from_utf8_lossy(
        &std::fs::read(dir().join("del-clean.debugfs-logdump.txt")).unwrap(),
    )
    .to_string();
    let ld = parse_logdump(&text);
    let j = Journal::open(&open("del-clean")).unwrap();
    assert_eq!(ld.start, (0, j.sb.sequence as u64));
    assert!(ld.logged.is_empty());
    assert!(j.transactions.len() > 100);
}

fn inode_copy_checks(name: &str) -> (usize, usize) {
    let m = manifest(name);
    let fs = open(name);
    let j = Journal::open(&fs).unwrap();
    let bs = fs.block_size();
    let isz = fs.sb.inode_size() as usize;
    let mut checked = 0;
    let mut extents_checked = 0;
    for d in m["deleted"].as_array().unwrap() {
        if d.get("in_journal").and_then(|v| v.as_bool()) != Some(true) {
            continue;
        }
        let ino = u(&d["inode"]) as u32;
        let pos = fs.inode_position(ino).unwrap();
        let blk = pos / bs;
        let off = (pos % bs) as usize;
        match classify_fs_block(&fs, blk) {
            BlockRole::InodeTable {
                first_inode,
                last_inode,
                ..
            } => assert!(first_inode <= ino && ino <= last_inode),
            r => panic!("{name}: inode {ino} block {blk} classified {r:?}"),
        }
        // Newest committed copy with the live (pre-deletion) inode.
        let mut found = None;
        for lb in j.copies_of(blk) {
            let committed = j
                .transaction(lb.sequence)
                .is_some_and(|t| t.commit.is_some());
            if !committed || lb.missing {
                continue;
            }
            let data = j.read_logged(&fs, lb).unwrap();
            let inode = Inode::parse(&data[off..off + isz], ino, &fs.sb);
            if inode.links_count > 0 && inode.generation as u64 == u(&d["generation"]) {
                found = Some((lb.sequence, inode));
                break;
            }
        }
        let (seq, inode) = found.unwrap_or_else(|| panic!("{name}: no copy of inode {ino}"));
        assert_eq!(seq as u64, u(&d["journal_copy_seq"]), "{name}: inode {ino}");
        assert_eq!(inode.size, u(&d["size"]), "{name}: inode {ino} size");
        assert!(inode.checksum_ok.unwrap_or(true));
        // Depth-0 extent files: the copy's extents are the manifest's map.
        let plain = d["extent_depth"].as_u64() == Some(0)
            && d["inline"].as_bool() == Some(false)
            && d["fast_symlink"].as_bool() == Some(false)
            && inode.has_flag(whiteout::ext4::inode::flags::EXTENTS);
        if plain {
            let node = ExtentNode::parse(&inode.block, None);
            let got: Vec<(u64, u64, u64)> = node
                .leaves
                .iter()
                .map(|l| (l.block as u64, l.start, l.len as u64))
                .collect();
            let want: Vec<(u64, u64, u64)> = d["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (u(&r[0]), u(&r[1]), u(&r[2])))
                .collect();
            assert_eq!(got, want, "{name}: inode {ino} extents");
            extents_checked += 1;
        }
        checked += 1;
    }
    if let Some(n) = m["journal"]["deleted_with_pre_deletion_inode_in_journal"].as_u64() {
        assert_eq!(checked as u64, n, "{name}");
    }
    (checked, extents_checked)
}

#[test]
fn pre_deletion_inode_copies_have_manifest_sizes() {
    let mut total = 0;
    for name in fixtures() {
        let (n, _) = inode_copy_checks(&name);
        total += n;
    }
    assert!(total >= 6 + 6 + 6 + 2111, "{total}");
    let (n, e) = inode_copy_checks("del-dirty");
    assert_eq!((n, e), (6, 5));
}

#[test]
fn classify_and_sniff() {
    let fs = open("del-dirty");
    let j = Journal::open(&fs).unwrap();
    let cls = j.classifier(&fs);
    assert_eq!(cls.classify(0), BlockRole::Superblock);
    assert_eq!(cls.classify(1), BlockRole::GroupDescriptors);
    let g0 = &fs.groups[0];
    assert_eq!(
        cls.classify(g0.block_bitmap),
        BlockRole::BlockBitmap { group: 0 }
    );
    assert_eq!(
        cls.classify(g0.inode_bitmap),
        BlockRole::InodeBitmap { group: 0 }
    );
    let per = (fs.block_size() / fs.sb.inode_size()) as u32;
    assert_eq!(
        cls.classify(g0.inode_table),
        BlockRole::InodeTable {
            group: 0,
            first_inode: 1,
            last_inode: per
        }
    );
    assert_eq!(
        cls.classify(g0.inode_table + 2),
        BlockRole::InodeTable {
            group: 0,
            first_inode: 2 * per + 1,
            last_inode: 3 * per
        }
    );
    let jphys = j.physical(5).unwrap();
    assert_eq!(cls.classify(jphys), BlockRole::JournalArea);
    assert_eq!(classify_fs_block(&fs, jphys), BlockRole::JournalArea);
    assert_eq!(cls.classify(fs.sb.blocks_count + 5), BlockRole::Other);
    assert_eq!(
        BlockRole::InodeTable {
            group: 0,
            first_inode: 1,
            last_inode: 16
        }
        .to_string(),
        "inode table group 0 (inodes 1-16)"
    );

    // The depth-1 file's extent leaf and the directories' blocks, as
    // logged before the deletion.
    let m = manifest("del-dirty");
    let mut kinds = BTreeSet::new();
    for d in m["deleted"].as_array().unwrap() {
        for tb in d["extent_tree_blocks"].as_array().unwrap() {
            let c = j.copies_of(u(tb));
            assert!(!c.is_empty(), "extent leaf {tb} not logged");
            let data = j.read_logged(&fs, c[0]).unwrap();
            assert_eq!(sniff(&data), ContentHint::ExtentNode);
            kinds.insert("extent");
        }
    }
    for l in m["live"].as_array().unwrap() {
        if l["type"] == "d" {
            let blk = u(&l["blocks"][0][1]);
            for c in j.copies_of(blk) {
                let data = j.read_logged(&fs, c).unwrap();
                assert_eq!(sniff(&data), ContentHint::DirBlock, "dir block {blk}");
                kinds.insert("dir");
            }
        }
    }
    assert_eq!(kinds.len(), 2);
    assert_eq!(sniff(&[0u8; 4096]), ContentHint::Zero);
    let mut x = vec![0u8; 4096];
    x[..4].copy_from_slice(&0xEA02_0000u32.to_le_bytes());
    x[4] = 1;
    assert_eq!(sniff(&x), ContentHint::XattrBlock);
    let mut r = vec![0u8; 4096];
    for (i, b) in r.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    assert_eq!(sniff(&r), ContentHint::Unknown);
    assert_eq!(sniff(&[]), ContentHint::Zero);
    assert_eq!(sniff(&[0x0a, 0xf3, 1, 0, 1]), ContentHint::Unknown);
}

#[test]
fn copies_and_revokes() {
    let fs = open("del-dirty");
    let j = Journal::open(&fs).unwrap();
    // Every logged block is found through copies_of, newest first.
    let mut n = 0;
    for t in &j.transactions {
        for b in &t.blocks {
            let c = j.copies_of(b.fs_block);
            assert!(c.iter().any(|x| x.journal_block == b.journal_block));
            for w in c.windows(2) {
                assert!(j.seq_key(w[0].sequence) >= j.seq_key(w[1].sequence));
            }
            n += 1;
        }
    }
    assert_eq!(n as u64, j.stats.logged_blocks);
    // The deleting transaction revokes freed metadata blocks (the depth-1
    // file's extent leaf): copies logged before are revoked, a block
    // never revoked is not.
    let m = manifest("del-dirty");
    let frag = m["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["extent_depth"].as_u64() == Some(1))
        .unwrap();
    let leaf = u(&frag["extent_tree_blocks"][0]);
    let rev: Vec<u32> = j
        .transactions
        .iter()
        .filter(|t| t.revoked.contains(&leaf))
        .map(|t| t.sequence)
        .collect();
    assert_eq!(rev.len(), 1, "one revoke of {leaf}");
    let copies = j.copies_of(leaf);
    assert!(!copies.is_empty());
    for c in &copies {
        assert!(j.seq_key(c.sequence) < j.seq_key(rev[0]));
        assert!(j.revoked_after(leaf, c.sequence));
    }
    assert!(!j.revoked_after(leaf, rev[0].wrapping_add(1)));
    assert!(!j.revoked_after(0, j.transactions[0].sequence));
    assert!(j.copies_of(u64::MAX).is_empty());
}

// ---- hostile images -------------------------------------------------------

struct Img {
    bytes: Vec<u8>,
    bs: usize,
    /// Journal block -> byte offset in the image.
    phys: Vec<usize>,
    j: Journal,
}

fn img(name: &str) -> Img {
    let bytes = bytes(name);
    let fs = fs_of(bytes.clone());
    let j = Journal::open(&fs).unwrap();
    let bs = fs.block_size() as usize;
    let phys = (0..j.sb.max_len as u64)
        .map(|b| j.physical(b).unwrap() as usize * bs)
        .collect();
    Img { bytes, bs, phys, j }
}

impl Img {
    fn block(&mut self, jb: u64) -> &mut [u8] {
        let o = self.phys[jb as usize];
        &mut self.bytes[o..o + self.bs]
    }
    fn reopen(&self) -> (Filesystem, whiteout::Result<Journal>) {
        let fs = fs_of(self.bytes.clone());
        let j = Journal::open(&fs);
        (fs, j)
    }
}

fn has_warning(j: &Journal, needle: &str) -> bool {
    j.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn hostile_bad_superblock_magic_is_an_error() {
    let mut im = img("del-dirty");
    im.block(0)[0] ^= 0xFF;
    let (_, r) = im.reopen();
    let e = r.expect_err("bad journal superblock must fail");
    assert!(e.to_string().contains("magic"), "{e}");
}

#[test]
fn hostile_bad_descriptor_magic() {
    let mut im = img("del-dirty");
    let t =
        im.j.transactions
            .iter()
            .find(|t| t.in_live_log)
            .unwrap()
            .clone();
    let d = t.descriptor_blocks[0];
    im.block(d)[0] = 0;
    let (_, r) = im.reopen();
    let j = r.unwrap();
    let tt = j.transaction(t.sequence).unwrap();
    assert!(tt.descriptor_blocks.is_empty());
    assert!(tt.blocks.is_empty());
    assert!(!tt.complete);
    assert!(has_warning(&j, "only its commit block survives"));
    // The live log stops there: nothing after it is live.
    assert!(j.transactions.iter().all(|t| !t.in_live_log));
    assert_eq!(j.live_end, Some(d));
    // Everything else survives.
    assert_eq!(j.transactions.len(), im.j.transactions.len());
}

#[test]
fn hostile_tags_without_last_tag() {
    let mut im = img("del-dirty");
    let t =
        im.j.transactions
            .iter()
            .rev()
            .find(|t| t.blocks.len() >= 2)
            .unwrap()
            .clone();
    let d = t.descriptor_blocks[0];
    let ts = im.j.sb.tag_size();
    let n = t.blocks.len();
    {
        let b = im.block(d);
        // Clear LAST_TAG on the real tags: the tag list now runs on over
        // the zeros after them (each a tag plus a UUID) to the block end.
        let mut off = 12;
        for _ in 0..n {
            let f = u32::from_be_bytes([b[off + 4], b[off + 5], b[off + 6], b[off + 7]]);
            b[off + 4..off + 8].copy_from_slice(&(f & !tag_flag::LAST_TAG).to_be_bytes());
            off += ts;
            if f & tag_flag::SAME_UUID == 0 {
                off += 16;
            }
        }
    }
    let (fs, r) = im.reopen();
    let j = r.unwrap();
    assert!(has_warning(&j, "no LAST_TAG"));
    assert!(has_warning(&j, "fails its checksum"));
    let tt = j.transaction(t.sequence).unwrap();
    let max = (im.bs - 12 - 4) / ts;
    assert!(tt.blocks.len() > n && tt.blocks.len() <= max);
    // The real copies are intact; the extra tags ran into the commit
    // block (which proves itself by its checksum) and are missing.
    for (a, b) in t.blocks.iter().zip(&tt.blocks) {
        assert_eq!((a.fs_block, a.journal_block), (b.fs_block, b.journal_block));
        assert_eq!(b.checksum_ok, Some(true));
    }
    assert!(tt.blocks[n..].iter().all(|b| b.missing));
    assert!(tt.commit.is_some());
    assert!(!tt.complete);
    assert!(j.read_logged(&fs, &tt.blocks[n]).is_err());
    // The transactions after it are untouched.
    assert_eq!(
        j.transactions.iter().filter(|t| t.complete).count(),
        im.j.transactions.iter().filter(|t| t.complete).count() - 1
    );
}

#[test]
fn hostile_sequence_goes_backwards() {
    let mut im = img("del-clean");
    let mid = im.j.transactions[im.j.transactions.len() / 2].clone();
    let d = mid.descriptor_blocks[0];
    let c = mid.commit.as_ref().unwrap().journal_block;
    for jb in [d, c] {
        im.block(jb)[8..12].copy_from_slice(&5u32.to_be_bytes());
    }
    let (_, r) = im.reopen();
    let j = r.unwrap();
    assert!(has_warning(&j, "goes backwards"));
    assert!(j.transaction(mid.sequence).is_none());
    let five = j.transaction(5).expect("sequence 5 kept as found");
    assert_eq!(five.blocks.len(), mid.blocks.len());
    assert_eq!(five.commit.as_ref().unwrap().checksum_ok, Some(false));
    assert_eq!(five.descriptor_checksums_ok, Some(false));
    // Tag checksums are seeded with the sequence: they now fail too.
    assert!(five.blocks.iter().all(|b| b.checksum_ok == Some(false)));
    // Ordered by sequence relative to s_sequence, still strictly.
    for w in j.transactions.windows(2) {
        assert!(j.seq_key(w[0].sequence) < j.seq_key(w[1].sequence));
    }
    assert_eq!(j.transactions.len(), im.j.transactions.len());
}

#[test]
fn hostile_zero_filled_commit() {
    let mut im = img("del-dirty");
    let last = im.j.transactions.last().unwrap().clone();
    let c = last.commit.as_ref().unwrap().journal_block;
    im.block(c).fill(0);
    let (_, r) = im.reopen();
    let j = r.unwrap();
    let t = j.transaction(last.sequence).unwrap();
    assert!(t.commit.is_none());
    assert!(!t.complete);
    assert_eq!(t.blocks.len(), last.blocks.len());
    // The uncommitted transaction is visited by the live walk but its
    // commit is absent: the log ends at the zeroed block.
    assert_eq!(j.live_end, Some(c));
    let prev = &j.transactions[j.transactions.len() - 2];
    assert!(prev.complete && prev.in_live_log);
}

#[test]
fn hostile_journal_extent_past_fs_end() {
    let mut im = img("del-dirty");
    let fs = fs_of(im.bytes.clone());
    let pos = fs.inode_position(8).unwrap() as usize;
    let ib = pos + 0x28;
    let entries = u16::from_le_bytes([im.bytes[ib + 2], im.bytes[ib + 3]]) as usize;
    assert!(entries >= 2, "journal inode has {entries} extents");
    assert_eq!(u16::from_le_bytes([im.bytes[ib + 6], im.bytes[ib + 7]]), 0);
    // Point the last extent past the end of the filesystem.
    let e = ib + 12 + 12 * (entries - 1);
    im.bytes[e + 6..e + 8].copy_from_slice(&0u16.to_le_bytes());
    im.bytes[e + 8..e + 12].copy_from_slice(&(fs.sb.blocks_count as u32 + 10).to_le_bytes());
    let (_, r) = im.reopen();
    let j = r.unwrap();
    assert!(has_warning(&j, "outside the filesystem"));
    assert!(has_warning(&j, "exceeds the"));
    assert!(j.ring_end < im.j.ring_end);
    for t in &j.transactions {
        for b in &t.blocks {
            assert!(b.journal_block < j.ring_end || b.missing);
        }
    }
    // Pointing the first extent (with the journal superblock) outside:
    // nothing to read, an error.
    im.bytes[ib + 12 + 6..ib + 12 + 8].copy_from_slice(&0u16.to_le_bytes());
    im.bytes[ib + 12 + 8..ib + 12 + 12]
        .copy_from_slice(&(fs.sb.blocks_count as u32 + 10).to_le_bytes());
    let (_, r) = im.reopen();
    assert!(r.is_err());
}

#[test]
fn hostile_descriptor_wraps_past_ring_end() {
    let mut im = img("del-depth");
    // Copy a real descriptor (with the newest sequence + 1, so it is the
    // head) into the last ring block, with its tag list running on.
    let t = im.j.transactions.last().unwrap().clone();
    let src = im.block(t.descriptor_blocks[0]).to_vec();
    let end = im.j.ring_end - 1;
    let ts = im.j.sb.tag_size();
    let b = im.block(end);
    b.copy_from_slice(&src);
    b[8..12].copy_from_slice(&(t.sequence + 1).to_be_bytes());
    let mut off = 12;
    while off + ts <= b.len() - 4 {
        b[off + 7] = tag_flag::SAME_UUID as u8;
        off += ts;
    }
    let (_, r) = im.reopen();
    let j = r.unwrap();
    let w = j.transaction(t.sequence + 1).expect("wrapped descriptor");
    assert!(w.commit.is_none());
    let total: usize = j.transactions.iter().map(|t| t.blocks.len()).sum();
    assert!(total as u64 <= j.ring_end - j.ring_first + 255);
    // Its data wrapped to the ring start.
    assert_eq!(w.blocks[0].journal_block, j.ring_first);
}

#[test]
fn hostile_escape_flag_restores_magic() {
    let mut im = img("del-dirty");
    let t = im.j.transactions.last().unwrap().clone();
    let d = t.descriptor_blocks[0];
    {
        let b = im.block(d);
        b[12 + 7] |= tag_flag::ESCAPE as u8;
    }
    let (fs, r) = im.reopen();
    let j = r.unwrap();
    let tt = j.transaction(t.sequence).unwrap();
    assert!(tt.blocks[0].escaped);
    let data = j.read_logged(&fs, &tt.blocks[0]).unwrap();
    assert_eq!(&data[..4], &JBD2_MAGIC.to_be_bytes());
    let raw = j.read_jblock(&fs, tt.blocks[0].journal_block).unwrap();
    assert_eq!(&data[4..], &raw[4..]);
}

/// Every ring block a jbd2 header of random type/sequence, descriptors
/// full of tags: bounded, no panic.
#[test]
fn hostile_garbage_everywhere() {
    let mut im = img("del-inline");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for jb in 1..im.j.sb.max_len as u64 {
        let r = next();
        let bs = im.bs;
        let b = im.block(jb);
        for (i, c) in b.iter_mut().enumerate() {
            *c = (r >> ((i % 8) * 8)) as u8 ^ (i as u8);
        }
        b[..4].copy_from_slice(&JBD2_MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&((r % 6) as u32).to_be_bytes());
        b[8..12].copy_from_slice(&((r >> 8) as u32 % 7).to_be_bytes());
        b[12..16].copy_from_slice(&((r >> 16) as u32).to_be_bytes());
        assert_eq!(b.len(), bs);
    }
    let (_, r) = im.reopen();
    let j = r.unwrap();
    assert!(!j.warnings.is_empty());
    let total: u64 = j.transactions.iter().map(|t| t.blocks.len() as u64).sum();
    assert!(total <= (j.ring_end - j.ring_first) * 2);
    // Also as a v1 superblock (no features: 8-byte tags, no checksums).
    im.block(0)[4..8].copy_from_slice(&3u32.to_be_bytes());
    let (_, r) = im.reopen();
    let j = r.unwrap();
    assert_eq!(j.sb.version(), 1);
    assert_eq!(j.sb.tag_size(), 8);
}

#[test]
fn hostile_huge_maxlen_and_bad_first() {
    let mut im = img("del-realloc");
    {
        let b = im.block(0);
        b[0x10..0x14].copy_from_slice(&u32::MAX.to_be_bytes());
        b[0x14..0x18].copy_from_slice(&u32::MAX.to_be_bytes());
        b[0x1C..0x20].copy_from_slice(&(u32::MAX - 1).to_be_bytes());
    }
    let (_, r) = im.reopen();
    let j = r.unwrap();
    assert_eq!(j.sb.checksum_ok, Some(false));
    assert!(has_warning(&j, "exceeds the"));
    assert!(has_warning(&j, "s_first"));
    assert!(has_warning(&j, "s_start"));
    assert_eq!(j.ring_end, im.j.ring_end);
    assert_eq!(j.transactions.len(), im.j.transactions.len());
}

#[test]
fn no_journal_and_tiny_images() {
    // A filesystem without has_journal: NotFound.
    let mut b = bytes("del-realloc");
    let compat = 1024 + 0x5C;
    let v = u32::from_le_bytes([b[compat], b[compat + 1], b[compat + 2], b[compat + 3]]) & !4;
    b[compat..compat + 4].copy_from_slice(&v.to_le_bytes());
    // Keep the superblock checksum valid so the primary is used.
    let c = whiteout::util::crc::crc32c_update(!0, &b[1024..1024 + 0x3FC]);
    b[1024 + 0x3FC..1024 + 0x400].copy_from_slice(&c.to_le_bytes());
    let fs = fs_of(b);
    assert!(matches!(
        Journal::open(&fs),
        Err(whiteout::Error::NotFound(_))
    ));
}

/// A shared image with byte patches laid over it (no 32 MiB copy per case).
struct Patched {
    base: Arc<Vec<u8>>,
    patches: Vec<(usize, Vec<u8>)>,
}

impl ReadAt for Patched {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.base.read_at(pos, buf)?;
        let (a, b) = (pos as usize, pos as usize + n);
        for (off, p) in &self.patches {
            let (pa, pb) = (*off, *off + p.len());
            let (lo, hi) = (a.max(pa), b.min(pb));
            if lo < hi {
                buf[lo - a..hi - a].copy_from_slice(&p[lo - pa..hi - pa]);
            }
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.base.size()
    }
}

/// Random corruption of journal metadata fields (headers, tags, revoke
/// counts, the journal superblock): never a panic, always bounded.
#[test]
fn hostile_random_corruption() {
    for name in ["del-dirty", "del-slack"] {
        let im = img(name);
        let base = Arc::new(im.bytes.clone());
        let metas: Vec<u64> =
            im.j.transactions
                .iter()
                .flat_map(|t| {
                    t.descriptor_blocks
                        .iter()
                        .chain(&t.revoke_blocks)
                        .copied()
                        .chain(t.commit.as_ref().map(|c| c.journal_block))
                })
                .chain([0])
                .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..100 {
            let mut patches = Vec::new();
            for _ in 0..(1 + rnd() % 4) {
                let jb = metas[(rnd() % metas.len() as u64) as usize];
                // Mostly the first 128 bytes (header, tags, sb fields).
                let off = if rnd() % 4 == 0 {
                    rnd() as usize % im.bs
                } else {
                    rnd() as usize % 128
                };
                let len = 1 + rnd() as usize % 8;
                let val: Vec<u8> = (0..len)
                    .map(|_| match rnd() % 4 {
                        0 => 0,
                        1 => 0xFF,
                        _ => rnd() as u8,
                    })
                    .collect();
                let at = im.phys[jb as usize] + off.min(im.bs - len);
                patches.push((at, val));
            }
            let src: Source = Arc::new(Patched {
                base: base.clone(),
                patches,
            });
            let fs = Filesystem::open(src).unwrap();
            if let Ok(j) = Journal::open(&fs) {
                let logged: u64 = j.transactions.iter().map(|t| t.blocks.len() as u64).sum();
                assert!(logged <= (j.ring_end - j.ring_first) + 1024);
                for t in &j.transactions {
                    for b in t.blocks.iter().take(3) {
                        let _ = j.read_logged(&fs, b);
                    }
                }
                let _ = j.copies_of(40);
                let _ = j.revoked_after(40, j.sb.sequence);
            }
        }
    }
}

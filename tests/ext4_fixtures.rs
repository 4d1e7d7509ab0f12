//! The ext4 reader against kernel-written fixtures: exact equality with the
//! generator's ground truth (taken from the mounted filesystem), with The
//! Sleuth Kit's `fls -r -p` / `icat` output recorded beside each fixture, and
//! with the `ext4-view` crate as an independent oracle.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use whiteout::ext4::inode::FileType;
use whiteout::ext4::Filesystem;

/// (path bytes, inode) of every live entry below the root, excluding the
/// contents of /lost+found (as the manifests do).
fn walk_all(fs: &Filesystem) -> BTreeMap<Vec<u8>, u32> {
    let mut m = BTreeMap::new();
    fs.walk(2, b"", &mut |w| {
        if !w.path.starts_with(b"/lost+found/") {
            m.insert(w.path.to_vec(), w.entry.inode);
        }
    })
    .unwrap();
    m
}

fn type_char(t: FileType) -> &'static str {
    match t {
        FileType::Regular => "r",
        FileType::Dir => "d",
        FileType::Symlink => "l",
        FileType::CharDev => "c",
        FileType::BlockDev => "b",
        FileType::Fifo => "p",
        FileType::Socket => "s",
        FileType::Unknown => "?",
    }
}

fn filesystems(m: &serde_json::Value) -> Vec<serde_json::Value> {
    m["filesystems"].as_array().unwrap().clone()
}

#[test]
fn every_fixture_equals_kernel_ground_truth() {
    let names = fixture_names("ext4");
    assert!(names.len() >= 6, "fixtures missing: {names:?}");
    let mut checked_files = 0;
    for name in &names {
        let m = manifest("ext4", name);
        let src = image("ext4", name);
        assert_eq!(
            src.size(),
            m["image_size"].as_u64().unwrap(),
            "{name}: size"
        );
        for fsm in filesystems(&m) {
            let fs = fs_at(&src, fsm["offset"].as_u64().unwrap());
            assert_eq!(
                fs.sb.uuid_string(),
                fsm["uuid"].as_str().unwrap(),
                "{name}: uuid"
            );
            assert_eq!(
                fs.sb.label(),
                fsm["label"].as_str().unwrap(),
                "{name}: label"
            );
            assert_eq!(
                fs.block_size(),
                fsm["block_size"].as_u64().unwrap(),
                "{name}: block size"
            );
            assert!(
                fs.sb.verify_checksum().unwrap_or(true),
                "{name}: sb checksum"
            );
            assert!(
                fs.groups.iter().all(|g| g.checksum_ok != Some(false)),
                "{name}: gdt checksum"
            );
            let ours = walk_all(&fs);
            let files = fsm["files"].as_array().unwrap();
            let truth: BTreeMap<Vec<u8>, u32> = files
                .iter()
                .map(|f| (entry_path(f), f["inode"].as_u64().unwrap() as u32))
                .collect();
            let show = |m: &BTreeMap<Vec<u8>, u32>| -> BTreeSet<(String, u32)> {
                m.iter()
                    .map(|(p, i)| (String::from_utf8_lossy(p).into_owned(), *i))
                    .collect()
            };
            assert_same_set(
                &show(&ours),
                &show(&truth),
                &format!("{name}: path/inode set vs the kernel's"),
            );
            for f in files {
                let path = entry_path(f);
                let what = format!("{name}:{}", String::from_utf8_lossy(&path));
                let ino = fs.inode(f["inode"].as_u64().unwrap() as u32).unwrap();
                assert!(ino.checksum_ok.unwrap_or(true), "{what}: inode checksum");
                assert_eq!(
                    type_char(ino.file_type()),
                    f["type"].as_str().unwrap(),
                    "{what}: type"
                );
                assert_eq!(ino.mode as u64, f["mode"].as_u64().unwrap(), "{what}: mode");
                assert_eq!(ino.uid as u64, f["uid"].as_u64().unwrap(), "{what}: uid");
                assert_eq!(ino.gid as u64, f["gid"].as_u64().unwrap(), "{what}: gid");
                assert_eq!(
                    ino.links_count as u64,
                    f["links"].as_u64().unwrap(),
                    "{what}: links"
                );
                assert_eq!(ino.size, f["size"].as_u64().unwrap(), "{what}: size");
                if let Some(ns) = f.get("mtime_ns").and_then(|v| v.as_u64()) {
                    let got = ino.mtime.secs as u64 * 1_000_000_000 + ino.mtime.nanos as u64;
                    assert_eq!(got, ns, "{what}: mtime");
                }
                if let Some(fl) = f.get("flags").and_then(|v| v.as_u64()) {
                    assert_eq!(ino.flags as u64, fl, "{what}: flags");
                }
                if let Some(d) = f.get("extent_depth").and_then(|v| v.as_u64()) {
                    let map = fs.block_map(&ino);
                    if ino.file_type() != FileType::Symlink
                        && !ino.has_flag(whiteout::ext4::inode::flags::INLINE_DATA)
                    {
                        assert_eq!(map.depth as u64, d, "{what}: extent depth");
                    }
                    assert!(map.warnings.is_empty(), "{what}: {:?}", map.warnings);
                }
                match ino.file_type() {
                    FileType::Regular => {
                        let mut v = Vec::new();
                        fs.stream_content(&ino, &mut v).unwrap();
                        assert_eq!(
                            sha256_hex(&v),
                            f["sha256"].as_str().unwrap(),
                            "{what}: content"
                        );
                        checked_files += 1;
                    }
                    FileType::Symlink => {
                        let t = fs.symlink_target(&ino).unwrap();
                        let want = match f.get("target_hex").and_then(|v| v.as_str()) {
                            Some(h) => unhex(h),
                            None => f["target"].as_str().unwrap().as_bytes().to_vec(),
                        };
                        assert_eq!(t, want, "{what}: symlink target");
                    }
                    FileType::CharDev | FileType::BlockDev => {
                        let r = ino.rdev().unwrap();
                        let want = f["rdev"].as_array().unwrap();
                        assert_eq!(
                            (r.0 as u64, r.1 as u64),
                            (want[0].as_u64().unwrap(), want[1].as_u64().unwrap()),
                            "{what}: rdev"
                        );
                    }
                    _ => {}
                }
                // Xattrs: the kernel's list equals ours, except system.data
                // (inline data), which the kernel hides.
                let xl = fs.xattrs(&ino);
                assert!(xl.warnings.is_empty(), "{what}: {:?}", xl.warnings);
                assert_ne!(
                    xl.block_checksum_ok,
                    Some(false),
                    "{what}: xattr block checksum"
                );
                let ours: BTreeMap<String, Vec<u8>> = xl
                    .attrs
                    .iter()
                    .filter(|x| x.name != b"system.data")
                    .map(|x| {
                        // ACLs are stored in ext4's short form; the kernel
                        // shows the generic form.
                        let v = if x.name.starts_with(b"system.posix_acl") {
                            whiteout::ext4::xattr::acl_to_vfs(&x.value).unwrap()
                        } else {
                            x.value.clone()
                        };
                        (x.name_str(), v)
                    })
                    .collect();
                let want: BTreeMap<String, Vec<u8>> = f
                    .get("xattrs")
                    .and_then(|x| x.as_object())
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), b64decode(v.as_str().unwrap())))
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(ours, want, "{what}: xattrs");
            }
            assert!(
                fs.warnings().is_empty(),
                "{name}: warnings {:?}",
                fs.warnings()
            );
        }
    }
    assert!(checked_files > 100, "only {checked_files} files checked");
}

/// TSK prints control characters in names as `^` and other bytes raw.
fn tsk_name(p: &[u8]) -> Vec<u8> {
    p.iter().map(|&c| if c < 0x20 { b'^' } else { c }).collect()
}

/// Parse `fls -r -p` output: (path, inode) of allocated entries.
fn parse_fls(text: &[u8]) -> BTreeSet<(Vec<u8>, u32)> {
    let mut out = BTreeSet::new();
    for line in text.split(|&c| c == b'\n') {
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let Some(tab) = line.iter().position(|&c| c == b'\t') else {
            continue;
        };
        let head = String::from_utf8_lossy(&line[..tab]).to_string();
        let path = line[tab + 1..].to_vec();
        if head.contains('*')
            || path.starts_with(b"$OrphanFiles")
            || path.starts_with(b"lost+found/")
        {
            continue;
        }
        let num = head
            .split_whitespace()
            .last()
            .unwrap()
            .trim_end_matches(':');
        let ino: u32 = num.split('-').next().unwrap().parse().unwrap();
        out.insert((path, ino));
    }
    out
}

#[test]
fn listing_equals_sleuthkit_fls() {
    let mut compared = 0;
    let mut tsk_garbage = 0;
    for name in fixture_names("ext4") {
        let m = manifest("ext4", &name);
        let src = image("ext4", &name);
        for fsm in filesystems(&m) {
            let fls = read_data(&testdata().join("ext4").join(fsm["fls"].as_str().unwrap()));
            let theirs = parse_fls(&fls);
            let fs = fs_at(&src, fsm["offset"].as_u64().unwrap());
            let ours: BTreeSet<(Vec<u8>, u32)> = walk_all(&fs)
                .into_iter()
                .map(|(p, i)| (tsk_name(&p[1..]), i))
                .collect();
            // Everything we list, fls lists too.
            let missing: Vec<_> = ours.difference(&theirs).collect();
            assert!(missing.is_empty(), "{name}: fls lacks {missing:?}");
            // fls may list more: TSK 4.11 reads htree interior (dx) blocks
            // as dirent blocks and prints garbage names. None of those names
            // exists in the kernel's listing.
            let truth: BTreeSet<Vec<u8>> = fsm["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| tsk_name(&entry_path(f)[1..]))
                .collect();
            for (p, i) in theirs.difference(&ours) {
                assert!(
                    !truth.contains(p),
                    "{name}: fls lists {:?} ({i}) which the kernel has and we miss",
                    String::from_utf8_lossy(p)
                );
                tsk_garbage += 1;
            }
            compared += ours.len();
        }
    }
    assert!(compared > 5000, "only {compared} entries compared");
    eprintln!(
        "fls: {compared} entries equal; {tsk_garbage} extra garbage entries from htree dx blocks"
    );
    assert!(tsk_garbage <= 10, "{tsk_garbage}");
}

/// Files where TSK 4.11's `icat` output differs from the kernel's content,
/// recorded by the generator (`tsk_sha256`). whiteout must match the kernel.
#[test]
fn content_equals_sleuthkit_icat_where_tsk_is_right() {
    let mut agree = 0;
    let mut tsk_wrong = Vec::new();
    for name in fixture_names("ext4") {
        let m = manifest("ext4", &name);
        for fsm in filesystems(&m) {
            for f in fsm["files"].as_array().unwrap() {
                let (Some(kernel), Some(tsk)) = (
                    f.get("sha256").and_then(|v| v.as_str()),
                    f.get("tsk_sha256"),
                ) else {
                    continue;
                };
                if f["type"] != "r" {
                    continue;
                }
                match tsk.as_str() {
                    Some(t) if t == kernel => agree += 1,
                    _ => tsk_wrong.push(format!("{name}:{}", f["path"].as_str().unwrap())),
                }
            }
        }
    }
    // every_fixture_equals_kernel_ground_truth checks whiteout == kernel for
    // all of these; here we pin down where TSK itself is wrong.
    tsk_wrong.sort();
    assert!(agree > 100, "{agree}");
    eprintln!("TSK icat disagrees with the kernel on: {tsk_wrong:?}");
    assert!(tsk_wrong.len() <= 8, "{tsk_wrong:?}");
}

/// Independent oracle: the `ext4-view` crate reads every allocated file of
/// every bare fixture it supports; paths, types, modes, owners, sizes,
/// symlink targets and content must be identical.
#[test]
fn ext4_view_oracle_agrees() {
    use ext4_view::{Ext4, PathBuf as EPath};
    let mut compared = 0;
    let mut view_errors: Vec<String> = Vec::new();
    for name in fixture_names("ext4") {
        let m = manifest("ext4", &name);
        for fsm in filesystems(&m) {
            let off = fsm["offset"].as_u64().unwrap() as usize;
            let bytes = image_bytes("ext4", &name);
            let part = bytes[off..].to_vec();
            eprintln!("ext4-view: {name} at {off}");
            let ev = match Ext4::load(Box::new(part)) {
                Ok(e) => e,
                Err(e) => {
                    // ext4-view refuses some layouts by design; we do not.
                    eprintln!("{name}: ext4-view refuses: {e}");
                    continue;
                }
            };
            let fs = fs_at(&image("ext4", &name), off as u64);
            let by_path = walk_all(&fs);
            let mut stack = vec![EPath::new("/")];
            let mut seen = BTreeSet::new();
            while let Some(dir) = stack.pop() {
                let rd = match ev.read_dir(&dir) {
                    Ok(r) => r,
                    Err(e) => {
                        view_errors.push(format!("{name}:{}: read_dir: {e}", dir.display()));
                        continue;
                    }
                };
                for de in rd {
                    let Ok(de) = de else {
                        view_errors.push(format!("{name}:{}: entry error", dir.display()));
                        continue;
                    };
                    let n = de.file_name();
                    let nb: &[u8] = n.as_ref();
                    if nb == b"." || nb == b".." {
                        continue;
                    }
                    let p = de.path();
                    let pb: Vec<u8> = p.as_ref().to_vec();
                    if pb.starts_with(b"/lost+found/") {
                        continue;
                    }
                    let what = format!("{name}:{}", p.display());
                    let meta = ev.symlink_metadata(&p).unwrap();
                    let ino_no = *by_path
                        .get(&pb)
                        .unwrap_or_else(|| panic!("{what}: not in our listing"));
                    let ino = fs.inode(ino_no).unwrap();
                    assert_eq!(meta.mode() & 0o7777, ino.perm(), "{what}: mode");
                    assert_eq!(meta.uid(), ino.uid, "{what}: uid");
                    assert_eq!(meta.gid(), ino.gid, "{what}: gid");
                    assert_eq!(meta.len(), ino.size, "{what}: size");
                    if meta.is_dir() {
                        assert!(ino.is_dir(), "{what}");
                        stack.push(p.clone());
                    } else if meta.is_symlink() {
                        let t = ev.read_link(&p).unwrap();
                        let tb: &[u8] = t.as_ref();
                        assert_eq!(fs.symlink_target(&ino).unwrap(), tb, "{what}: target");
                    } else if ino.file_type() == FileType::Regular {
                        let theirs = match ev.read(&p) {
                            Ok(t) => t,
                            Err(e) => {
                                view_errors.push(format!("{what}: read: {e}"));
                                seen.insert(pb);
                                continue;
                            }
                        };
                        let mut ours = Vec::new();
                        fs.stream_content(&ino, &mut ours).unwrap();
                        assert!(theirs == ours, "{what}: content differs");
                    }
                    seen.insert(pb);
                    compared += 1;
                }
            }
            let ours: BTreeSet<Vec<u8>> = walk_all(&fs).into_keys().collect();
            assert_eq!(ours, seen, "{name}: path set differs from ext4-view");
        }
    }
    assert!(compared > 1000, "only {compared} compared");
    eprintln!("ext4-view could not read: {view_errors:?}");
    assert!(view_errors.len() <= 4, "{view_errors:?}");
}

//! Extraction safety: hostile names, symlinks, devices, FIFOs,
//! sockets and setuid bits in a crafted image never make `recover` or
//! `export` write outside the output directory, follow a symlink, create a
//! special file or keep setuid/setgid bits. Terminal output escapes control
//! characters and ANSI sequences; JSON keeps the exact bytes.
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use whiteout::ext4::journal::Journal;
use whiteout::report::extract::{safe_component, SafeDir};

fn tmpdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("extraction")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Replace every occurrence of `from` in `b` by `to` (same length).
fn replace_all(b: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= b.len() {
        if &b[i..i + from.len()] == from {
            b[i..i + to.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

fn pad(s: &[u8], len: usize) -> Vec<u8> {
    let mut v = s.to_vec();
    v.truncate(len);
    v.resize(len, b'A');
    v
}

/// Set `i_mode` of `ino` in the inode table and in every journal copy of
/// its inode-table block (recovery reads the pre-deletion copies).
fn set_mode_everywhere(b: &mut [u8], ino: u32, mode: u16) {
    let fs = fs_from_bytes(b.to_vec()).unwrap();
    let bs = fs.block_size();
    let pos = fs.inode_position(ino).unwrap();
    let (blk, within) = (pos / bs, pos % bs);
    let mut offs = vec![pos];
    if let Ok(j) = Journal::open(&fs) {
        for lb in j.copies_of(blk) {
            if let Some(p) = j.physical(lb.journal_block) {
                offs.push(p * bs + within);
            }
        }
    }
    for o in offs {
        let o = o as usize;
        b[o..o + 2].copy_from_slice(&mode.to_le_bytes());
    }
}

/// Every path under `root`, without following symlinks.
fn tree(root: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.push((p, m));
        }
    }
    out
}

/// What every extraction must leave: only directories and regular files,
/// no setuid/setgid/sticky bit, every path inside `out`.
fn assert_clean_output(out: &Path) {
    let canon = std::fs::canonicalize(out).unwrap();
    for (p, m) in tree(out) {
        let ft = m.file_type();
        assert!(ft.is_dir() || ft.is_file(), "{}: {ft:?}", p.display());
        assert_eq!(
            m.permissions().mode() & 0o7000,
            0,
            "{}: mode {:o}",
            p.display(),
            m.permissions().mode()
        );
        assert!(std::fs::canonicalize(&p).unwrap().starts_with(&canon));
    }
}

/// The deleted-names fixture with hostile names written over deleted names
/// (slack, freed blocks and journal copies alike).
fn hostile_slack() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut b = image_bytes("deleted", "del-slack");
    let mut names = Vec::new();
    let hostile: [&[u8]; 5] = [
        b"../../../../../../../../../../../../../../../../../tmp/x",
        b"/etc/cron.d/evil/../../../../../../../../../../../../../..",
        b"\x1b[31mRED\x1b[0m\x07\x00NUL\r\ncr\x1b]0;title\x07\xe2\x80\xaebidi\xff\xfe",
        b"..",
        b"a/b/c/./../../..//d",
    ];
    for (k, h) in hostile.iter().enumerate() {
        let from = format!(
            "report-{:02}-quarterly-financial-summary-final-version.txt",
            [1, 5, 7, 12, 22][k]
        );
        let to = pad(h, from.len());
        assert!(replace_all(&mut b, from.as_bytes(), &to) > 0, "{from}");
        names.push(to);
    }
    (b, names)
}

#[test]
fn recover_hostile_names_stays_inside_the_output_directory() {
    let (b, _names) = hostile_slack();
    let base = tmpdir("names");
    let img = base.join("evidence").join("slack.img");
    std::fs::create_dir_all(img.parent().unwrap()).unwrap();
    std::fs::write(&img, &b).unwrap();
    let work = base.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = work.join("out");
    let (code, _o, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Nothing beside the output directory, nothing under /tmp/x.
    let beside: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("out")]);
    assert!(!Path::new("/tmp/x").exists() || !Path::new("/tmp/x").is_file());
    assert_clean_output(&out);
    // Every written file name is free of control bytes, '..' and NUL.
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let mut written = 0;
    for line in manifest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(w) = v.get("written_to").and_then(|w| w.as_str()) {
            written += 1;
            assert!(
                !w.split('/').any(|c| c == ".." || c == "." || c.is_empty()),
                "{w}"
            );
            assert!(!w.chars().any(|c| c.is_control()), "{w:?}");
            assert!(out.join(w).is_file());
        }
    }
    assert!(written >= 10, "{manifest}");
    // The exact hostile bytes survive in the manifest (path_hex when not UTF-8).
    assert!(manifest.contains("\\u001b[31mRED"), "{manifest}");
    assert!(manifest.contains("path_hex"));
}

#[test]
fn recover_never_creates_devices_fifos_sockets_or_setuid_files() {
    let mut b = image_bytes("deleted", "del-inline");
    // victim/tiny.txt setuid+setgid, mid-100 char device, mid-120 FIFO,
    // mid-150 socket, empty.txt block device, idir/a sticky+setuid.
    for (ino, mode) in [
        (22u32, 0o106_755u16),
        (23, 0o020_644),
        (24, 0o010_644),
        (25, 0o140_644),
        (26, 0o060_644),
        (27, 0o107_777),
    ] {
        set_mode_everywhere(&mut b, ino, mode);
    }
    let base = tmpdir("special");
    let img = base.join("inline.img");
    std::fs::write(&img, &b).unwrap();
    let out = base.join("out");
    let (code, _o, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_clean_output(&out);
    // The deleted symlinks (fast-link, slow-link) are not created either:
    // their targets are in the manifest only (assert_clean_output checks
    // that no symlink exists at all).
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    assert!(manifest.contains("fast-link"), "{manifest}");
    // The crafted modes really reached the candidates; the setuid files
    // were written, without their special bits; the special files were not.
    let rows: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |ino: u64| rows.iter().find(|r| r["inode"] == ino).unwrap();
    for (ino, mode, written) in [
        (22u64, 0o106_755u64, true),
        (27, 0o107_777, true),
        (23, 0o020_644, false),
        (24, 0o010_644, false),
        (25, 0o140_644, false),
        (26, 0o060_644, false),
    ] {
        assert_eq!(row(ino)["mode"], mode, "inode {ino}");
        assert_eq!(row(ino).get("written_to").is_some(), written, "inode {ino}");
    }
}

#[test]
fn recover_does_not_follow_planted_symlinks() {
    let (b, _) = hostile_slack();
    let base = tmpdir("planted");
    let img = base.join("slack.img");
    std::fs::write(&img, &b).unwrap();
    let outside = base.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out = base.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // A symlink where recovered files go, a dangling one, and a chain.
    std::os::unix::fs::symlink(&outside, out.join("docs")).unwrap();
    std::os::unix::fs::symlink(outside.join("x"), out.join("manifest.jsonl.link")).unwrap();
    std::os::unix::fs::symlink(out.join("chain2"), out.join("small")).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("chain2")).unwrap();
    let (code, _o, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not written"), "{err}");
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "written through a symlink"
    );
    // The output directory itself as a symlink is refused.
    let link = base.join("out-link");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let (code, _o, err) = run(&[
        "recover",
        img.to_str().unwrap(),
        "-o",
        link.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn long_names_and_deep_paths_are_capped() {
    let long = vec![b'n'; 300];
    let c = safe_component(&long);
    assert!(c.len() <= 200, "{}", c.len());
    assert_ne!(safe_component(&vec![b'n'; 301]), c, "cut names stay unique");
    for bad in [&b".."[..], b".", b"", b"a/b", b"\0", b"\x1b[2J", b"\\"] {
        let s = safe_component(bad);
        assert!(s != "." && s != ".." && !s.is_empty(), "{bad:?} -> {s}");
        assert!(!s.contains('/') && !s.contains('\0') && !s.chars().any(|c| c.is_control()));
    }
    // 1000 levels: capped, and never escapes.
    let deep: Vec<u8> = b"../".repeat(1000);
    let rel = SafeDir::relative(&deep);
    assert!(rel.components().count() <= 256);
    assert!(rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_))));
    let base = tmpdir("deep");
    let d = SafeDir::create(&base.join("out"), &[]).unwrap();
    let p = d
        .write_file(&SafeDir::relative(&[b'x'; 255].repeat(3)), &mut |w| {
            w.write_all(b"ok").map_err(|e| whiteout::Error::io("w", e))
        })
        .unwrap();
    assert!(base.join("out").join(p).is_file());
    assert_clean_output(&base.join("out"));
}

#[test]
fn export_writes_one_tar_and_refuses_symlinks() {
    let img = raw_copy("docker", "docker-host");
    let base = tmpdir("export");
    let tar = base.join("web.tar");
    let (code, _o, err) = run(&[
        "export",
        img.to_str().unwrap(),
        "--container",
        "web",
        "-o",
        tar.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let entries: Vec<_> = std::fs::read_dir(&base).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let m = std::fs::symlink_metadata(&tar).unwrap();
    assert!(m.is_file());
    assert_eq!(m.permissions().mode() & 0o7000, 0);
    let outside = base.join("outside.tar");
    let link = base.join("link.tar");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let (code, _o, err) = run(&[
        "export",
        img.to_str().unwrap(),
        "--container",
        "web",
        "-o",
        link.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!outside.exists());
}

fn assert_terminal_safe(what: &str, out: &[u8]) {
    for (i, &c) in out.iter().enumerate() {
        assert!(
            c == b'\n' || c == b'\t' || (c >= 0x20 && c != 0x7f),
            "{what}: raw control byte {c:#04x} at {i}: {:?}",
            String::from_utf8_lossy(&out[i.saturating_sub(40)..(i + 40).min(out.len())])
        );
    }
    let s = String::from_utf8_lossy(out);
    assert!(!s.contains('\u{202e}'), "{what}: raw bidi override");
    assert!(
        !s.contains('\u{fffd}'),
        "{what}: invalid UTF-8 passed through"
    );
}

#[test]
fn terminal_output_escapes_hostile_names_and_json_keeps_them() {
    let (b, names) = hostile_slack();
    let base = tmpdir("escape");
    let img = base.join("slack.img");
    std::fs::write(&img, &b).unwrap();
    let i = img.to_str().unwrap();
    for args in [
        vec!["deleted", i],
        vec!["ls", i, "-r", "-p", "-d"],
        vec!["ls", i, "-r", "-p"],
        vec!["journal", i],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_terminal_safe(&format!("{args:?}"), &out);
        assert_terminal_safe(&format!("{args:?} stderr"), err.as_bytes());
    }
    let (_, out, _) = run(&["deleted", i]);
    assert!(String::from_utf8_lossy(&out).contains("\\x1b[31mRED"));
    // JSON: exact bytes, via path (valid UTF-8) or path_hex.
    let (code, out, err) = run(&["deleted", i, "--json"]);
    assert_eq!(code, 0, "{err}");
    let hexes: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| match v.get("path_hex").and_then(|h| h.as_str()) {
            Some(h) => h.to_string(),
            None => whiteout::util::bytes::hex(v["path"].as_str().unwrap().as_bytes()),
        })
        .collect();
    let want = whiteout::util::bytes::hex(&names[2]);
    assert!(
        hexes.iter().any(|h| h.ends_with(&want)),
        "exact hostile name not in JSON: {want}"
    );
}

#[test]
fn container_names_and_log_lines_are_escaped_on_the_terminal() {
    let mut b = image_bytes("docker", "docker-host");
    assert_eq!(
        replace_all(
            &mut b,
            br#""Name":"/created-only""#,
            br#""Name":"\u001b[31mABC""#
        ),
        1
    );
    let from = br#""log":"web: GET /admin 403\n""#;
    let to = br#""log":"\u001b[2JZabc\u009b\n""#;
    assert_eq!(from.len(), to.len());
    assert_eq!(replace_all(&mut b, from, to), 1);
    let base = tmpdir("escape-docker");
    let img = base.join("host.img");
    std::fs::write(&img, &b).unwrap();
    let i = img.to_str().unwrap();
    for args in [
        vec!["containers", i, "--all"],
        vec!["logs", i, "--container", "web"],
        vec!["ls", i, "--container", "web", "/app"],
        vec!["images", i],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_terminal_safe(&format!("{args:?}"), &out);
    }
    let (_, out, _) = run(&["containers", i, "--all"]);
    assert!(String::from_utf8_lossy(&out).contains("\\x1b[31mABC"));
    let (_, out, _) = run(&["logs", i, "--container", "web"]);
    assert!(String::from_utf8_lossy(&out).contains("\\x1b[2J"));
    // JSON keeps the exact strings.
    let (_, out, _) = run(&["containers", i, "--all", "--json"]);
    let names: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["name"].as_str().map(String::from))
        .collect();
    assert!(names.iter().any(|n| n == "\u{1b}[31mABC"), "{names:?}");
    let (_, out, _) = run(&["logs", i, "--container", "web", "--json"]);
    assert!(
        String::from_utf8_lossy(&out).contains(r#"\u001b[2JZabc\u009b\n"#)
            || String::from_utf8_lossy(&out).contains("\\u001b[2J"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

/// The flag the safe writer opens with is this target's `O_NOFOLLOW`: a
/// symlink planted at the opened path is refused (ELOOP), never followed.
#[test]
fn o_nofollow_refuses_a_planted_symlink() {
    use std::os::unix::fs::OpenOptionsExt;
    let base = tmpdir("nofollow");
    let target = base.join("target.txt");
    std::fs::write(&target, b"outside").unwrap();
    let link = base.join("planted");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(whiteout::util::O_NOFOLLOW)
        .open(&link);
    let e = r.expect_err("a symlink was followed");
    assert_eq!(e.raw_os_error(), Some(40), "{e}"); // ELOOP
    let r = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(whiteout::util::O_NOFOLLOW)
        .open(&link);
    assert!(r.is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"outside");
}

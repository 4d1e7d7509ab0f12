//! Read-only proof: copies of the fixtures, write permission
//! removed from the files and their directory, every command run on them,
//! then sha256, size and mtime compared with what they were before. (CI
//! runs as root, which ignores the permission bits: the hashes are what
//! prove nothing was written.)
#![allow(clippy::disallowed_methods)] // tests write fixtures' copies and outputs in temp dirs only

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

struct Snapshot {
    sha: String,
    size: u64,
    mtime: (i64, i64),
}

fn snapshot(p: &Path) -> Snapshot {
    let m = std::fs::metadata(p).unwrap();
    Snapshot {
        sha: sha256_hex(&std::fs::read(p).unwrap()),
        size: m.len(),
        mtime: (m.mtime(), m.mtime_nsec()),
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn every_command_leaves_the_evidence_untouched() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readonly");
    if base.exists() {
        let _ = std::fs::set_permissions(
            base.join("evidence"),
            std::fs::Permissions::from_mode(0o755),
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
    let ev = base.join("evidence");
    let out = base.join("out");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let mut images: Vec<PathBuf> = Vec::new();
    for (dir, name) in [
        ("docker", "docker-host"),
        ("deleted", "del-dirty"),
        ("ext4", "mbr"),
    ] {
        let p = ev.join(format!("{name}.img"));
        std::fs::write(&p, image_bytes(dir, name)).unwrap();
        images.push(p);
    }
    // A gzip image too (inflated in memory, never written back).
    let gz = ev.join("blk1k.img.gz");
    std::fs::copy(testdata().join("ext4").join("blk1k.img.gz"), &gz).unwrap();
    images.push(gz);
    for p in &images {
        chmod(p, 0o444);
    }
    chmod(&ev, 0o555);
    let before: Vec<Snapshot> = images.iter().map(|p| snapshot(p)).collect();

    let mut runs = 0;
    for (k, img) in images.iter().enumerate() {
        let i = img.to_str().unwrap();
        let o = |n: &str| out.join(format!("{k}-{n}")).display().to_string();
        let part: &[&str] = if i.ends_with("mbr.img") {
            &["--partition", "5"]
        } else {
            &[]
        };
        let rec = o("recovered");
        let tar = o("web.tar");
        let cmds: Vec<Vec<&str>> = vec![
            vec!["info", i],
            vec!["info", i, "--json"],
            vec!["ls", i, "-r", "-p"],
            vec!["ls", i, "-r", "-p", "-d", "--json"],
            vec!["deleted", i, "--json"],
            vec!["istat", i, "2", "--json"],
            vec!["icat", i, "2"],
            vec!["journal", i, "--json"],
            vec!["recover", i, "-o", &rec],
            vec!["roots", i],
            vec!["images", i],
            vec!["layers", i],
            vec!["containers", i, "--all"],
            vec!["logs", i, "--container", "web"],
            vec!["ls", i, "--container", "web", "-r"],
            vec!["cat", i, "--container", "web", "/app/run.sh"],
            vec!["export", i, "--container", "web", "-o", &tar],
            vec!["whoowns", i, "/etc/docker/daemon.json"],
            vec!["findings", i],
        ];
        for mut c in cmds {
            c.extend_from_slice(part);
            let (code, _out, err) = run(&c);
            assert!(code == 0 || code == 1 || code == 2, "{c:?}: {code} {err}");
            assert!(!err.contains("panicked"), "{c:?}: {err}");
            runs += 1;
        }
        // Output into the evidence directory is refused.
        let (code, _o, err) = run(&["recover", i, "-o", ev.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
    }
    assert!(runs >= 70);
    for (p, b) in images.iter().zip(&before) {
        let a = snapshot(p);
        assert_eq!(a.sha, b.sha, "{} content changed", p.display());
        assert_eq!(a.size, b.size, "{} size changed", p.display());
        assert_eq!(a.mtime, b.mtime, "{} mtime changed", p.display());
    }
    // Nothing was added to the evidence directory.
    let names: Vec<_> = std::fs::read_dir(&ev).unwrap().collect();
    assert_eq!(names.len(), images.len());
    chmod(&ev, 0o755);
}

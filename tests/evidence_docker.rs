#![allow(clippy::disallowed_methods)] // tests write in temp dirs only
//! A real Docker host (testdata/docker/docker-dataroot.img.gz, made by
//! dockerd 20.10) inside GPT -> LVM2 (LV vg0/docker in two non-contiguous
//! segments), as an E01 set, a compressed qcow2, a stream-optimized VMDK
//! and a dynamic VHDX (scripts/make-docker-forms.sh). Every form reads as
//! the raw disk, and the containers, the listing and the files read through
//! it equal those of the raw ext4 image.

mod common;
mod evidence_common;

use common::{run, sha256_hex};
use evidence_common::sha256_source;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use whiteout::image::lvm::{scan_disk, SegmentKind};
use whiteout::image::{self, ContainerFormat, WarningLog};

const CONTAINER_ID: &str = "5e64c209b33b510af635c93a3d0e97ef7ce3e46862de3f5b9da0d4dee665a846";
const CONTAINER_DIR: &str =
    "srv/docker-data/containers/5e64c209b33b510af635c93a3d0e97ef7ce3e46862de3f5b9da0d4dee665a846";
const AUTO_NOTE: &str = "note: reading LVM logical volume vg0/docker (logical volumes: vg0/docker); use --volume VG/LV to read another";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/evidence-docker")
}

fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(fixture_dir().join("manifest.json")).unwrap()).unwrap()
}

fn raw_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/docker/docker-dataroot.img.gz")
        .to_str()
        .unwrap()
        .to_string()
}

/// The four forms, staged once per test process (the `.gz` files inflated),
/// with the format each must be recognised as.
fn forms() -> &'static [(PathBuf, ContainerFormat)] {
    static FORMS: OnceLock<Vec<(PathBuf, ContainerFormat)>> = OnceLock::new();
    FORMS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("evidence-docker")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(fixture_dir()).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            let bytes = std::fs::read(fixture_dir().join(&name)).unwrap();
            match name.strip_suffix(".gz") {
                Some(n) => {
                    use std::io::Read;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    std::fs::write(dir.join(n), out).unwrap();
                }
                None => std::fs::write(dir.join(&name), bytes).unwrap(),
            }
        }
        vec![
            (dir.join("disk.E01"), ContainerFormat::Ewf),
            (dir.join("disk.qcow2"), ContainerFormat::Qcow2),
            (dir.join("disk.vmdk"), ContainerFormat::Vmdk),
            (dir.join("disk.vhdx"), ContainerFormat::Vhdx),
        ]
    })
}

#[test]
fn every_form_reads_as_the_raw_disk_and_its_lv_as_the_ext4_image() {
    let m = manifest();
    assert_eq!(m["disk_size"], 80 << 20);
    assert_eq!(
        m["lv_sha256"],
        "e00b51a8b5672dcb2abe06f1168e49a4e3d77822d1b727e5cc5251b1c25930d0"
    );
    // The fixture's own manifest names the same image hash.
    let dm: Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/docker/docker-dataroot.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(m["lv_sha256"], dm["image_sha256"]);
    for (path, format) in forms() {
        let ev = image::open_evidence(path).unwrap();
        assert_eq!(ev.format, *format, "{}", path.display());
        assert_eq!(ev.source.size(), 80 << 20, "{}", path.display());
        assert_eq!(
            sha256_source(&*ev.source),
            m["disk_sha256"].as_str().unwrap(),
            "{}",
            path.display()
        );
        assert!(
            ev.warnings.snapshot().is_empty(),
            "{}: {:?}",
            path.display(),
            ev.warnings.snapshot()
        );
        // GPT -> one PV -> vg0 -> docker, two segments as lvs printed them:
        // extents 0-31 on PE 40-71, extents 32-63 on PE 4-35.
        let scan = scan_disk(&ev.source);
        assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
        assert_eq!(scan.names(), ["vg0/docker"]);
        let vg = &scan.vgs[0];
        assert_eq!(vg.extent_size, 1 << 20);
        assert_eq!(vg.pvs.len(), 1);
        let segs: Vec<String> = vg.lvs[0]
            .segments
            .iter()
            .map(|s| match &s.kind {
                SegmentKind::Striped { stripes, .. } => {
                    let r: Vec<String> = stripes
                        .iter()
                        .map(|(pv, pe)| format!("{pv}:{pe}-{}", pe + s.extent_count - 1))
                        .collect();
                    format!("{} {} {}", s.start_extent, s.extent_count, r.join(" "))
                }
                k => panic!("{k:?}"),
            })
            .collect();
        assert_eq!(segs, ["0 32 pv0:40-71", "32 32 pv0:4-35"]);
        assert_eq!(
            m["lvs"],
            "docker 0 32 /dev/loop0:40-71;docker 32 32 /dev/loop0:4-35"
        );
        let lv = scan.open("vg0/docker", &WarningLog::default()).unwrap();
        assert_eq!(lv.size(), 64 << 20);
        assert_eq!(sha256_source(&*lv), m["lv_sha256"].as_str().unwrap());
    }
}

#[test]
fn e01_set_has_six_segments_and_its_stored_md5_verifies() {
    let (e01, _) = &forms()[0];
    let ev = image::open_evidence(e01).unwrap();
    let info = std::fs::read_to_string(fixture_dir().join("disk.E01.ewfinfo.txt")).unwrap();
    let md5 = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("MD5:"))
        .unwrap()
        .trim();
    assert_eq!(ev.stored_hashes.md5.as_deref(), Some(md5));
    let checks = image::verify_stored_hashes(&ev).unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].algorithm, "MD5");
    assert!(checks[0].matches, "{:?}", checks[0].computed);
    assert_eq!(ev.layers, ["EWF: 6 segment(s), 2560 chunks of 32768 bytes"]);
    let a = ev.acquisition.as_ref().unwrap();
    assert_eq!(a.case_number.as_deref(), Some("docker-host"));
}

#[test]
fn containers_equal_the_raw_fixture_and_the_lv_is_probed() {
    let raw = raw_fixture();
    let (code, want, err) = run(&["containers", &raw, "--all", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = String::from_utf8(want.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], CONTAINER_ID);
    assert_eq!(rows[0]["name"], "job");
    assert_eq!(rows[0]["status"], "exited");
    assert_eq!(rows[0]["running"], false);
    assert_eq!(rows[0]["exit_code"], 0);
    assert_eq!(rows[0]["image"], "base:1");
    for (path, _) in forms() {
        let p = path.to_str().unwrap();
        // No --volume: the disk has no ext partition, so the LV is probed.
        let (code, out, err) = run(&["containers", p, "--all", "--json"]);
        assert_eq!(code, 0, "{p}: {err}");
        assert!(err.contains(AUTO_NOTE), "{p}: {err}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want.clone()).unwrap(),
            "{p}"
        );
        // Named explicitly: the same, without the note.
        let (code, out, err) = run(&["containers", p, "--all", "--json", "--volume", "vg0/docker"]);
        assert_eq!(code, 0, "{p}: {err}");
        assert!(!err.contains("note: reading LVM"), "{p}: {err}");
        assert_eq!(out, want, "{p}");
    }
}

/// `ls -r -p` of the raw fixture: text lines "r/r INODE:\tPATH".
fn raw_listing() -> String {
    let (code, out, err) = run(&["ls", &raw_fixture(), "-r", "-p"]);
    assert_eq!(code, 0, "{err}");
    String::from_utf8(out).unwrap()
}

#[test]
fn recursive_listing_equals_the_raw_fixture() {
    let want = raw_listing();
    assert_eq!(want.lines().count(), 188);
    assert!(want.contains(&format!("r/r 188:\t{CONTAINER_DIR}/config.v2.json\n")));
    for (path, _) in forms() {
        let p = path.to_str().unwrap();
        let (code, out, err) = run(&["ls", p, "-r", "-p", "--volume", "vg0/docker"]);
        assert_eq!(code, 0, "{p}: {err}");
        assert_eq!(String::from_utf8(out).unwrap(), want, "{p}");
    }
}

#[test]
fn container_files_extract_byte_identical() {
    // Every regular file in the container's config directory (config.v2.json,
    // hostconfig.json, the json log, hostname, hosts, resolv.conf ...), and
    // the file the container wrote in its upper dir.
    let listing = raw_listing();
    let mut files: Vec<String> = listing
        .lines()
        .filter(|l| l.starts_with("r/r "))
        .filter_map(|l| l.split_once(":\t").map(|(_, p)| p.to_string()))
        .filter(|p| p.starts_with(&format!("{CONTAINER_DIR}/")))
        .collect();
    let names: Vec<&str> = files
        .iter()
        .map(|f| &f[CONTAINER_DIR.len() + 1..])
        .collect();
    let log = format!("{CONTAINER_ID}-json.log");
    assert_eq!(
        names,
        [
            "hosts",
            "resolv.conf",
            "hostconfig.json",
            "config.v2.json",
            "resolv.conf.hash",
            "hostname",
            log.as_str()
        ]
    );
    let result = "srv/docker-data/overlay2/82e58b5bc6aea43a6db045c82475efdaa282233b58bc231c9c5f71643d821bc0/diff/result.txt";
    files.push(result.to_string());
    let raw = raw_fixture();
    let want: Vec<Vec<u8>> = files
        .iter()
        .map(|f| {
            let (code, data, err) = run(&["icat", &raw, &format!("/{f}")]);
            assert_eq!(code, 0, "{f}: {err}");
            data
        })
        .collect();
    assert_eq!(want.last().unwrap(), b"data-root result\n");
    let config: Value = serde_json::from_slice(
        &want[files
            .iter()
            .position(|f| f.ends_with("config.v2.json"))
            .unwrap()],
    )
    .unwrap();
    assert_eq!(config["ID"], CONTAINER_ID);
    assert_eq!(config["Name"], "/job");
    for (path, _) in forms() {
        let p = path.to_str().unwrap();
        for (f, w) in files.iter().zip(&want) {
            let (code, data, err) = run(&["icat", p, &format!("/{f}"), "--volume", "vg0/docker"]);
            assert_eq!(code, 0, "{p} {f}: {err}");
            assert_eq!(sha256_hex(&data), sha256_hex(w), "{p} {f}");
        }
    }
}

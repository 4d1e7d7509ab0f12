//! Deleted files by incarnation: every path and owner whiteout claims for a
//! deleted incarnation is compared with ground truth.
//!
//! `docker-reuse` is a real dockerd host whose inode numbers were reused
//! (a classic-builder step's 1,500 files, removed containers, five files
//! deleted one after another under one inode number in a running
//! container); its truth is a series of whole-filesystem snapshots
//! (`testdata/docker-reuse/README.md`). The kernel fixtures of
//! `testdata/deleted` carry the generation and path of every deleted file.

mod common;

use common::truth::{Claim, Truth};
use common::*;
use whiteout::attribute::{Attributor, DockerContext, OwnerKind};
use whiteout::docker::classify::Classes;
use whiteout::ext4::Filesystem;
use whiteout::recover::{self, Recovery};

fn recovery(dir: &str, name: &str) -> (Filesystem, Recovery) {
    let fs = fs_from_bytes(image_bytes(dir, name)).unwrap();
    let r = recover::analyse(&fs, &recover::Options::default());
    (fs, r)
}

/// What whiteout claims of each deleted row: its host path, its
/// incarnation, and its container (the classification's, or an
/// attribution that is not a hint).
fn claims(fs: &Filesystem, r: &Recovery) -> Vec<Claim> {
    let ctx = DockerContext::load(fs, r);
    let classes = Classes::new(
        ctx.as_ref().map(|c| (&c.host, c.removed.as_slice())),
        &r.candidates,
    );
    let at = Attributor::new(fs, ctx.as_ref(), r);
    r.candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let attributed = at
                .for_candidate(i)
                .filter(|a| !a.hint && a.owner_kind == Some(OwnerKind::Container))
                .and_then(|a| a.owner);
            let classified = classes.get(i).and_then(|k| k.container.clone());
            if let (Some(a), Some(k)) = (&attributed, &classified) {
                assert_eq!(a, k, "{}: attribution and class disagree", path(c));
            }
            Claim {
                path: path(c),
                inode: c.inode,
                generation: c.generation,
                container_id: classified.or(attributed),
            }
        })
        .collect()
}

fn path(c: &recover::DeletedCandidate) -> String {
    String::from_utf8_lossy(&c.path).into_owned()
}

#[test]
fn docker_reuse_claims_no_false_path_and_no_false_owner() {
    let (fs, r) = recovery("docker-reuse", "docker-reuse");
    let truth = Truth::load("docker-reuse");
    let v = truth.evaluate(&claims(&fs, &r));
    eprintln!("docker-reuse: {} rows; {}", r.candidates.len(), v.summary());
    for (c, why) in v.false_paths.iter().take(5) {
        eprintln!("false path {} (inode {}): {why}", c.path, c.inode);
    }
    for (c, why) in v.false_owners.iter().take(5) {
        eprintln!("false owner {} {:?}: {why}", c.path, c.container_id);
    }
    assert!(v.false_paths.is_empty(), "{}", v.summary());
    assert!(v.false_owners.is_empty(), "{}", v.summary());
    // Recall: of the truly deleted files and directories, those named
    // with their exact full path.
    assert_eq!(v.deleted_incarnations, 1848);
    assert_eq!(v.recalled, 1674, "{}", v.summary());
    assert_eq!(v.exact, 1694, "{}", v.summary());
}

/// Five files deleted one after another in `web`'s /tmp all had inode 216:
/// each has its own row, with its own name, generation, size, content and
/// deletion time.
#[test]
fn each_incarnation_of_a_reused_inode_has_its_own_row() {
    let (_fs, r) = recovery("docker-reuse", "docker-reuse");
    let truth = Truth::load("docker-reuse");
    let mut n = 0;
    for d in truth.deletions.iter().filter(|d| d.inode.is_some()) {
        let (ino, generation) = (d.inode.unwrap(), d.generation);
        let want = truth
            .entries_of(ino)
            .find(|e| e.generation == generation && e.kind == 'f')
            .expect("truth entry");
        let rows: Vec<_> = r
            .candidates
            .iter()
            .filter(|c| c.inode == ino && c.generation == generation)
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "{}: rows of generation {generation:?}",
            d.paths[0]
        );
        let c = rows[0];
        assert_eq!(path(c), d.paths[0]);
        assert_eq!(c.size, Some(want.size), "{}", d.paths[0]);
        assert_eq!(c.sha256_hex(), want.sha256, "{}", d.paths[0]);
        assert!(c.dtime.get().is_some(), "{}: no deletion time", d.paths[0]);
        assert!(c.dtime_source().is_some());
        let inc = c.incarnation().expect("incarnation");
        assert_eq!(Some(inc.generation), generation);
        n += 1;
    }
    assert_eq!(n, 5);
}

/// A claimed path agrees with the truth when it is the truth, or claims no
/// directory (`$Orphan...`), or claims a known directory prefix and then
/// `$OrphanDir-...` for the rest, with the same file name.
fn agrees(claim: &str, truth: &str) -> bool {
    if claim == truth || claim.starts_with('$') {
        return true;
    }
    match claim.find("/$OrphanDir-") {
        Some(i) => {
            let (known, rest) = claim.split_at(i + 1);
            truth.starts_with(known) && rest.rsplit('/').next() == truth.rsplit('/').next()
        }
        None => false,
    }
}

/// On the kernel fixtures, a row that names a known deleted incarnation
/// (inode and generation from the generator's truth) names its own path,
/// or claims no directory at all.
#[test]
fn kernel_fixtures_give_no_incarnation_another_path() {
    let mut checked = 0;
    for name in fixture_names("deleted") {
        let (_fs, r) = recovery("deleted", &name);
        let m = manifest("deleted", &name);
        for d in m["deleted"].as_array().unwrap() {
            let (ino, gen) = (
                d["inode"].as_u64().unwrap() as u32,
                d["generation"].as_u64().map(|g| g as u32),
            );
            let truth_path = d["path"].as_str().unwrap();
            for c in r
                .candidates
                .iter()
                .filter(|c| c.inode == ino && c.generation.is_some() && c.generation == gen)
            {
                let p = path(c);
                let names = std::iter::once(p.clone()).chain(
                    c.other_paths()
                        .iter()
                        .map(|(x, _)| String::from_utf8_lossy(x).into_owned()),
                );
                for q in names {
                    assert!(
                        agrees(&q, truth_path),
                        "{name}: inode {ino} generation {gen:?} claimed at {q}, truth {truth_path}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 2000, "{checked}");
}

/// The classic builder's removed step containers are labelled build steps
/// (and only they), with the instruction they ran.
#[test]
fn removed_build_step_containers_are_labelled() {
    let img = raw_copy("docker-reuse", "docker-reuse");
    let (code, out, err) = run(&["containers", img.to_str().unwrap(), "--all", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth = Truth::load("docker-reuse");
    let mut builds = 0;
    for t in &truth.containers {
        let id = t["id"].as_str().unwrap();
        let Some(r) = rows.iter().find(|r| r["id"] == id) else {
            continue; // a step too short-lived to leave a config
        };
        let is_build = t["kind"] == "build-container";
        assert_eq!(
            r["build_step"].is_object(),
            is_build,
            "{id}: {}",
            r["build_step"]
        );
        if is_build {
            builds += 1;
            assert!(r["build_step"]["instruction"].is_string());
        }
    }
    assert!(builds >= 2, "{builds}");
    let rubin = rows
        .iter()
        .find(|r| {
            r["build_step"]["instruction"]
                .as_str()
                .is_some_and(|i| i.contains("seq 1 1500"))
        })
        .expect("the RUN step that wrote 1,500 files");
    // app:1 and the builder's intermediate images hold the step.
    let images = rubin["build_step"]["images"].as_array().unwrap();
    assert!(images.iter().any(|i| i == "app:1"), "{images:?}");
}

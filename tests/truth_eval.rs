//! The snapshot-truth evaluator (tests/common/truth.rs): its rules on small
//! hand-made truths, and the docker-reuse fixture's truth checked against itself.

mod common;

use common::truth::{dirname, Claim, Truth};
use serde_json::json;

fn claim(path: &str, inode: u32, generation: Option<u32>, container: Option<&str>) -> Claim {
    Claim {
        path: path.to_string(),
        inode,
        generation,
        container_id: container.map(str::to_string),
    }
}

/// Snapshots 0..=3 (3 final). A build container B's /app/dir (inode 20, gen 1) held
/// f.txt (inode 30, gen 7); B was removed; inode 20 came back (gen 2) as the
/// `-init/diff` dir of container C, which holds .dockerenv (inode 30, gen 8). Container
/// W's /tmp/a.txt (inode 40 gen 1) was deleted and inode 40 reused by /tmp/b.txt (gen 2),
/// also deleted. A symlink (no generation) lives on.
fn small() -> Truth {
    let b = "/var/lib/docker/overlay2/bbbb";
    let c = "/var/lib/docker/overlay2/cccc-init";
    let w = "/var/lib/docker/overlay2/wwww";
    Truth::from_value(&json!({
        "snapshots": [
            {"id": 0, "step": "poll:build", "time": 1.0},
            {"id": 1, "step": "after-build", "time": 2.0},
            {"id": 2, "step": "before-rm", "time": 3.0},
            {"id": 3, "step": "final", "time": 4.0}
        ],
        "final_snapshot": 3,
        "owners": [
            {"prefix": b, "kind": "build-container", "container_id": "b".repeat(64), "container_name": null, "image_layer": null},
            {"prefix": c, "kind": "container-init", "container_id": "c".repeat(64), "container_name": "tmp1", "image_layer": null},
            {"prefix": "/var/lib/docker/overlay2/cccc", "kind": "container", "container_id": "c".repeat(64), "container_name": "tmp1", "image_layer": null},
            {"prefix": w, "kind": "container", "container_id": "a".repeat(64), "container_name": "web", "image_layer": null},
            {"prefix": "/var/lib/docker/overlay2/llll", "kind": "image-layer", "container_id": null, "container_name": null,
             "image_layer": {"diff_id": "sha256:1", "chain_id": "sha256:1", "cache_id": "llll"}}
        ],
        "deletions": [],
        "entries": [
            ["/", 2, 0, "d", 4096, null, null, 0, 3],
            [format!("{b}/diff/app/dir"), 20, 1, "d", 4096, null, null, 0, 0],
            [format!("{b}/diff/app/dir/f.txt"), 30, 7, "f", 5, null, "00", 0, 0],
            [format!("{c}/diff"), 20, 2, "d", 4096, null, null, 1, 3],
            [format!("{c}/diff/.dockerenv"), 30, 8, "f", 0, null, "11", 1, 3],
            [format!("{w}/diff/tmp/a.txt"), 40, 1, "f", 3, null, "22", 1, 1],
            [format!("{w}/diff/tmp/b.txt"), 40, 2, "f", 3, null, "33", 2, 2],
            [format!("{w}/diff/tmp/a.txt"), 40, 1, "f", 4, null, "44", 2, 2],
            ["/var/lib/docker/overlay2/llll/diff/app/dir/f.txt", 50, 9, "f", 5, null, "00", 1, 3],
            ["/var/lib/docker/overlay2/l/XYZ", 60, null, "l", 10, null, null, 0, 3]
        ]
    }))
}

#[test]
fn dirname_of_paths() {
    assert_eq!(dirname("/a/b/c"), "/a/b");
    assert_eq!(dirname("/a"), "/");
    assert_eq!(dirname("$Orphan/20/f.txt"), "$Orphan/20");
}

#[test]
fn exact_claims_and_recall() {
    let t = small();
    let b = "/var/lib/docker/overlay2/bbbb/diff/app/dir/f.txt";
    // exact with and without a generation; the owner (build container) matches by id
    // prefix; a wrong generation is not exact.
    let v = t.evaluate(&[
        claim(b, 30, Some(7), Some(&"b".repeat(12))),
        claim(b, 30, None, None),
        claim(
            "/var/lib/docker/overlay2/wwww/diff/tmp/a.txt",
            40,
            Some(1),
            Some("web"),
        ),
    ]);
    assert_eq!(v.exact, 3, "{v:?}");
    assert!(
        v.false_paths.is_empty() && v.false_owners.is_empty() && v.unverified.is_empty(),
        "{v:?}"
    );
    // deleted: dir 20/1, file 30/7, 40/1, 40/2 (the symlink lives; 20/2, 30/8 live)
    assert_eq!(v.deleted_incarnations, 4);
    assert_eq!(v.recalled, 2);
    let v = t.evaluate(&[claim(b, 30, Some(8), None)]);
    assert_eq!(v.exact, 0);
    // 30/8 exists (in C's -init/diff), never in B's /app/dir: false
    assert_eq!(v.false_paths.len(), 1, "{v:?}");
}

#[test]
fn name_joined_to_a_later_directory_is_false() {
    let t = small();
    // f.txt (inode 30 gen 7) joined to the path inode 20 has at the end: C's -init/diff
    let wrong = "/var/lib/docker/overlay2/cccc-init/diff/f.txt";
    let v = t.evaluate(&[claim(wrong, 30, Some(7), Some("tmp1"))]);
    assert_eq!(v.exact, 0);
    assert_eq!(v.false_paths.len(), 1, "{v:?}");
    assert!(
        v.false_paths[0]
            .1
            .contains("/var/lib/docker/overlay2/bbbb/diff/app/dir/f.txt"),
        "{}",
        v.false_paths[0].1
    );
    // ... and tmp1 never owned inode 30 gen 7 (the build container did)
    assert_eq!(v.false_owners.len(), 1, "{v:?}");
    assert!(
        v.false_owners[0].1.contains("build-container"),
        "{}",
        v.false_owners[0].1
    );
    // Without a generation, inode 30's incarnation 30/8 did live in C's -init/diff:
    // the directory is right, the name unseen -> unverified, owner tmp1 is possible.
    let v = t.evaluate(&[claim(wrong, 30, None, Some("tmp1"))]);
    assert_eq!(
        (
            v.exact,
            v.false_paths.len(),
            v.unverified.len(),
            v.false_owners.len()
        ),
        (0, 0, 1, 0),
        "{v:?}"
    );
    // A generation the truth never saw (an incarnation between two snapshots): not
    // judged, neither the path nor the owner.
    let f = "/var/lib/docker/overlay2/wwww/diff/tmp/f.txt";
    let v = t.evaluate(&[claim(f, 30, Some(99), Some("web"))]);
    assert_eq!(
        (
            v.false_paths.len(),
            v.unverified.len(),
            v.false_owners.len()
        ),
        (0, 1, 0),
        "{v:?}"
    );
    // Without a generation the inode number is judged by all its incarnations.
    let v = t.evaluate(&[claim(f, 30, None, None)]);
    assert_eq!(v.false_paths.len(), 1, "{v:?}");
}

#[test]
fn reused_file_inode_keeps_its_rows_apart() {
    let t = small();
    let a = "/var/lib/docker/overlay2/wwww/diff/tmp/a.txt";
    let bb = "/var/lib/docker/overlay2/wwww/diff/tmp/b.txt";
    // a.txt reported with b.txt's generation: the same directory, so not false, but
    // not exact either
    let v = t.evaluate(&[claim(a, 40, Some(2), Some("web"))]);
    assert_eq!(
        (
            v.exact,
            v.false_paths.len(),
            v.unverified.len(),
            v.false_owners.len()
        ),
        (0, 0, 1, 0),
        "{v:?}"
    );
    // both incarnations claimed: both recalled
    let v = t.evaluate(&[claim(a, 40, Some(1), None), claim(bb, 40, Some(2), None)]);
    assert_eq!((v.exact, v.recalled), (2, 2), "{v:?}");
}

#[test]
fn orphans_unknown_inodes_and_owners() {
    let t = small();
    let v = t.evaluate(&[
        // $Orphan: never false, never recalled, even when its inode is known
        claim("$Orphan/20/f.txt", 30, Some(7), None),
        // an inode number the truth never saw: unverified, owner not judged
        claim(
            "/var/lib/docker/overlay2/zzzz/diff/x",
            999,
            None,
            Some("web"),
        ),
        // right dir, unseen name: unverified
        claim(
            "/var/lib/docker/overlay2/bbbb/diff/app/dir/g.txt",
            30,
            Some(7),
            None,
        ),
    ]);
    assert_eq!(
        (v.exact, v.false_paths.len(), v.unverified.len(), v.recalled),
        (0, 0, 3, 0),
        "{v:?}"
    );
    assert!(v.false_owners.is_empty(), "{v:?}");
    // $Orphan with a container: judged against the incarnation's paths
    let v = t.evaluate(&[claim("$Orphan/20/f.txt", 30, Some(7), Some("web"))]);
    assert_eq!(v.false_owners.len(), 1, "{v:?}");
    // an exact path in an image layer claimed by a container: false owner
    let v = t.evaluate(&[claim(
        "/var/lib/docker/overlay2/llll/diff/app/dir/f.txt",
        50,
        None,
        Some("web"),
    )]);
    assert_eq!((v.exact, v.false_owners.len()), (1, 1), "{v:?}");
    // owner lookups: longest prefix, and `cccc` does not own `cccc-init`
    assert_eq!(
        t.owner_of("/var/lib/docker/overlay2/cccc-init/diff/x")
            .unwrap()
            .kind,
        "container-init"
    );
    assert_eq!(
        t.owner_of("/var/lib/docker/overlay2/cccc/diff")
            .unwrap()
            .kind,
        "container"
    );
    assert!(t.owner_of("/var/lib/docker/overlay2/ccccc").is_none());
    assert!(t.owner_of("/etc/passwd").is_none());
    // symlink entries have no generation: any claimed generation matches
    let v = t.evaluate(&[claim("/var/lib/docker/overlay2/l/XYZ", 60, Some(5), None)]);
    assert_eq!(v.exact, 1);
    // ... but they do not make a claim with a generation false (another incarnation
    // of inode 60, unseen, may have lived elsewhere)
    let v = t.evaluate(&[claim(
        "/var/lib/docker/containers/x/.tmp-config",
        60,
        Some(5),
        Some("web"),
    )]);
    assert_eq!(
        (
            v.false_paths.len(),
            v.unverified.len(),
            v.false_owners.len()
        ),
        (0, 1, 0),
        "{v:?}"
    );
    let v = t.evaluate(&[claim(
        "/var/lib/docker/containers/x/.tmp-config",
        60,
        None,
        None,
    )]);
    assert_eq!(v.false_paths.len(), 1, "{v:?}");
}

// ---------------------------------------------------------------- the docker-reuse fixture

#[test]
fn reuse_truth_is_consistent_with_itself() {
    let t = Truth::load("docker-reuse");
    assert_eq!(t.final_snapshot, t.snapshots.len() - 1);
    assert_eq!(t.snapshots[t.final_snapshot].step, "final");
    // every row, claimed as seen, is exact; the final state recalls nothing deleted
    let claims: Vec<Claim> = t
        .entries
        .iter()
        .map(|e| Claim {
            path: e.path.clone(),
            inode: e.inode,
            generation: e.generation,
            container_id: t.owner_of(&e.path).and_then(|o| o.container_id.clone()),
        })
        .collect();
    let v = t.evaluate(&claims);
    assert_eq!(v.exact, claims.len(), "{}", v.summary());
    assert!(v.false_owners.is_empty(), "{:?}", v.false_owners.first());
    assert_eq!(v.recalled, v.deleted_incarnations);
    assert!(v.deleted_incarnations > 1500, "{}", v.summary());
}

#[test]
fn reuse_fixture_reuses_the_build_directory_number() {
    let t = Truth::load("docker-reuse");
    // the build container's /app/dir and one of its 1,500 files
    let file = t
        .entries
        .iter()
        .find(|e| {
            e.path.ends_with("/diff/app/dir/file1.txt")
                && t.owner_of(&e.path)
                    .is_some_and(|o| o.kind == "build-container")
        })
        .expect("the build container's file1.txt is in the truth");
    let dir = dirname(&file.path);
    let d = t.entries.iter().find(|e| e.path == dir).unwrap();
    // a later directory with that number, owned by a named container
    let later = t
        .entries_of(d.inode)
        .filter(|e| e.kind == 'd' && e.first > d.last && e.generation != d.generation)
        .find(|e| {
            t.owner_of(&e.path)
                .is_some_and(|o| o.container_name.is_some())
        })
        .expect("the build container's /app/dir inode number is reused by a container's directory");
    let owner = t.owner_of(&later.path).unwrap();
    // the bug this fixture is about: file1.txt joined to the later directory's path
    let wrong = format!("{}/file1.txt", later.path);
    let v = t.evaluate(&[Claim {
        path: wrong,
        inode: file.inode,
        generation: file.generation,
        container_id: owner.container_id.clone(),
    }]);
    assert_eq!((v.false_paths.len(), v.false_owners.len()), (1, 1), "{v:?}");
}

#[test]
fn reuse_fixture_web_files_share_one_inode() {
    let t = Truth::load("docker-reuse");
    let web: Vec<_> = t.deletions.iter().filter(|d| d.inode.is_some()).collect();
    assert_eq!(web.len(), 5, "dump.bin, creds.txt, note1-3.txt");
    let inodes: std::collections::BTreeSet<u32> = web.iter().map(|d| d.inode.unwrap()).collect();
    let gens: std::collections::BTreeSet<Option<u32>> = web.iter().map(|d| d.generation).collect();
    assert_eq!(inodes.len(), 1, "{inodes:?}");
    assert_eq!(gens.len(), 5, "{gens:?}");
    let deleted: std::collections::HashSet<common::truth::Incarnation> = t
        .deleted_incarnations()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for d in &web {
        assert!(
            deleted.contains(&(d.inode.unwrap(), d.generation)),
            "{:?}",
            d.paths
        );
        assert_eq!(
            t.owner_of(&d.paths[0]).unwrap().container_name.as_deref(),
            Some("web")
        );
    }
}

// ---------------------------------------------------------------- claims of other tools

/// A truth for `TRUTH`: a directory of testdata with `truth.json.gz` (`docker-reuse`),
/// or `deleted/<name>`, a kernel fixture whose manifest records each deleted entry's
/// path, inode, generation and content before the deletion (snapshot 0) and the live
/// entries at the end (snapshot 1, the final one).
fn truth_named(name: &str) -> Truth {
    let Some(fixture) = name.strip_prefix("deleted/") else {
        return Truth::load(name);
    };
    let m = common::manifest("deleted", fixture);
    let row = |e: &serde_json::Value, first: usize, last: usize| {
        let kind = match e["type"].as_str().unwrap_or("?") {
            "r" => "f",
            k => k,
        };
        json!([
            e["path"],
            e["inode"],
            e["generation"],
            kind,
            e["size"],
            null,
            e["sha256"],
            first,
            last
        ])
    };
    let mut entries: Vec<serde_json::Value> = Vec::new();
    for e in m["deleted"].as_array().unwrap() {
        entries.push(row(e, 0, 0));
    }
    for e in m["live"].as_array().into_iter().flatten() {
        entries.push(row(e, 1, 1));
    }
    Truth::from_value(&json!({
        "snapshots": [
            {"id": 0, "step": "before-deletion", "time": 0.0},
            {"id": 1, "step": "final", "time": 1.0}
        ],
        "final_snapshot": 1,
        "entries": entries,
    }))
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Judges a TSV of claims (`CLAIMS`) against a truth (`TRUTH`) and prints one line:
/// `RESULT claims named exact false_paths false_owners unverified recalled deleted`.
///
/// Columns: path, inode, generation, container, type, sha256 (empty = unknown).
/// A claim with an inode is judged by `Truth::evaluate`. A claim without one (a tool
/// that writes files under their original path) is exact when the truth saw that path
/// with that content (regular files: same sha256; other types: same type), and is then
/// judged as a claim of that entry's incarnation; it is a false path when its content
/// (a non-empty regular file) is known to the truth but never in the claimed
/// directory; otherwise unverified. `$Orphan...` paths name no directory. A path
/// `<known>/$OrphanDir-<inode>.../<name>` names only its known prefix: it is false when
/// no path of the claimed incarnation lies under that prefix with that file name,
/// otherwise unverified (never exact).
///
/// `CLAIMS=claims.tsv TRUTH=docker-reuse cargo test --release --test truth_eval -- --ignored --nocapture`
#[test]
#[ignore = "needs CLAIMS and TRUTH; run by scripts/compare-precision.sh"]
fn evaluate_claims_from_tsv() {
    let path = std::env::var("CLAIMS").expect("CLAIMS: a TSV of claims");
    let t = truth_named(&std::env::var("TRUTH").expect("TRUTH: e.g. docker-reuse"));
    let text = std::fs::read_to_string(&path).unwrap();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let deleted: std::collections::HashSet<_> = t
        .deleted_incarnations()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let (mut claims, mut extra_false, mut extra_unverified, mut named) = (Vec::new(), 0, 0, 0);
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| f.get(i).copied().unwrap_or("");
        let cpath = col(0).to_string();
        let orphan = cpath.starts_with("$Orphan");
        if !orphan {
            named += 1;
        }
        if let Ok(inode) = col(1).parse::<u32>() {
            let generation = col(2).parse().ok();
            if let Some(i) = cpath.find("/$OrphanDir-") {
                // a known directory prefix, then a directory without a name
                let (known, name) = (&cpath[..=i], cpath.rsplit('/').next().unwrap_or(""));
                let mut es = t
                    .entries_of(inode)
                    .filter(|e| generation.is_none() || e.generation == generation)
                    .peekable();
                if es.peek().is_some()
                    && !es.any(|e| {
                        e.path.starts_with(known) && e.path.rsplit('/').next() == Some(name)
                    })
                {
                    extra_false += 1;
                } else {
                    extra_unverified += 1;
                }
                continue;
            }
            claims.push(Claim {
                path: cpath,
                inode,
                generation,
                container_id: opt(col(3)),
            });
            continue;
        }
        let (kind, sha) = (col(4).chars().next(), opt(col(5)));
        if orphan {
            extra_unverified += 1;
            continue;
        }
        let same = |e: &common::truth::Entry| {
            e.path == cpath
                && Some(e.kind) == kind
                && (e.kind != 'f' || (sha.is_some() && e.sha256 == sha))
        };
        let hit = t
            .entries
            .iter()
            .filter(|e| same(e))
            .max_by_key(|e| deleted.contains(&(e.inode, e.generation)));
        if let Some(e) = hit {
            claims.push(Claim {
                path: cpath,
                inode: e.inode,
                generation: e.generation,
                container_id: opt(col(3)),
            });
            continue;
        }
        let seen: Vec<_> = match (&sha, kind) {
            (Some(s), Some('f')) if s != EMPTY_SHA256 => t
                .entries
                .iter()
                .filter(|e| e.sha256.as_ref() == Some(s))
                .collect(),
            _ => Vec::new(),
        };
        if !seen.is_empty() && !seen.iter().any(|e| dirname(&e.path) == dirname(&cpath)) {
            extra_false += 1;
        } else {
            extra_unverified += 1;
        }
    }
    let v = t.evaluate(&claims);
    let total = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    eprintln!("{}", v.summary());
    for (c, why) in v.false_paths.iter().take(3) {
        eprintln!("false path {} (inode {}): {why}", c.path, c.inode);
    }
    println!(
        "RESULT\t{total}\t{named}\t{}\t{}\t{}\t{}\t{}\t{}",
        v.exact,
        v.false_paths.len() + extra_false,
        v.false_owners.len(),
        v.unverified.len() + extra_unverified,
        v.recalled,
        v.deleted_incarnations
    );
}

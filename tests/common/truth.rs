//! Ground truth of fixtures whose life was recorded in snapshots
//! (`testdata/<dir>/truth.json.gz`, written by `scripts/reuse-truth.py`; format in
//! `testdata/docker-reuse/README.md`), and an evaluator that judges what a reader
//! claims about deleted files against it.
//!
//! Vocabulary:
//! - An *incarnation* is an (inode, generation) pair: ext4 gives a reused inode number
//!   a new generation. The truth knows an incarnation when some snapshot saw it.
//! - A *truly deleted* incarnation was seen in some snapshot but is not in the final
//!   snapshot (the state on disk); the final snapshot may hold the same inode number
//!   with another generation.
//! - Truth entries whose generation is unknown (`null`: symlinks, devices, or a file
//!   that vanished before it could be opened) match any claimed generation for
//!   exactness, but never make a claim with a generation false.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};

/// An (inode, generation) pair; the generation is `None` where the truth could not read it.
pub type Incarnation = (u32, Option<u32>);

/// One snapshot of the whole filesystem.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: usize,
    pub step: String,
    pub time: f64,
}

/// One identical observation of (path, inode, generation, ...) in the consecutive
/// snapshots `first..=last`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub inode: u32,
    pub generation: Option<u32>,
    /// `f d l c b p s`
    pub kind: char,
    pub size: u64,
    pub birth: Option<f64>,
    pub sha256: Option<String>,
    pub first: usize,
    pub last: usize,
}

/// What a directory prefix belongs to (a container's layer dirs, its `containers/<id>`
/// dir, its containerd task bundle, an image layer...).
#[derive(Debug, Clone)]
pub struct Owner {
    pub prefix: String,
    /// `container`, `container-init`, `container-task`, `container-layerdb`, the same
    /// with `build-container`, `image-layer`, `image-layerdb`.
    pub kind: String,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    /// `{diff_id, chain_id, cache_id}` for image layers.
    pub image_layer: Option<Value>,
}

/// An intentional deletion of the fixture's story.
#[derive(Debug, Clone)]
pub struct Deletion {
    pub step: String,
    pub kind: String,
    pub paths: Vec<String>,
    pub container_ids: Vec<String>,
    pub inode: Option<u32>,
    pub generation: Option<u32>,
}

pub struct Truth {
    pub snapshots: Vec<Snapshot>,
    pub final_snapshot: usize,
    pub entries: Vec<Entry>,
    pub owners: Vec<Owner>,
    pub deletions: Vec<Deletion>,
    /// Every container the generator saw (`id`, `name`, `kind`: `container` or
    /// `build-container`, `mount_id`, `image`, `cmd`, ...), as recorded.
    pub containers: Vec<Value>,
    by_inode: HashMap<u32, Vec<usize>>,
}

/// What a reader says about one (deleted) file or directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Path on the host (`/var/lib/docker/overlay2/<id>/diff/...`), or `$Orphan/...`
    /// for a name without a known directory.
    pub path: String,
    pub inode: u32,
    pub generation: Option<u32>,
    /// The container the reader says the file belongs to: a full id, an id prefix of at
    /// least 12 characters, or a container name.
    pub container_id: Option<String>,
}

/// The evaluator's judgement of a list of claims. Every claim is exactly one of
/// exact / false path / unverified; owners are judged separately.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Claims whose (path, inode[, generation]) some snapshot saw.
    pub exact: usize,
    /// Claims that put the inode in a directory where the truth never saw it (with why).
    pub false_paths: Vec<(Claim, String)>,
    /// Claims naming a container that did not own the file (with why).
    pub false_owners: Vec<(Claim, String)>,
    /// Neither exact nor provably false.
    pub unverified: Vec<Claim>,
    /// Truly deleted incarnations that are regular files or directories (outside
    /// `/lost+found`): the recall denominator.
    pub deleted_incarnations: usize,
    /// How many of those have at least one exact claim.
    pub recalled: usize,
}

impl Verdict {
    pub fn summary(&self) -> String {
        format!(
            "exact {}, false paths {}, false owners {}, unverified {}, recall {}/{}",
            self.exact,
            self.false_paths.len(),
            self.false_owners.len(),
            self.unverified.len(),
            self.recalled,
            self.deleted_incarnations
        )
    }
}

/// `dirname` of a `/`-separated path (`/a/b` -> `/a`, `/a` -> `/`).
pub fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    }
}

fn gen_matches(entry: Option<u32>, claimed: Option<u32>) -> bool {
    match (entry, claimed) {
        (Some(e), Some(c)) => e == c,
        _ => true,
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

impl Truth {
    /// Loads `testdata/<dir>/truth.json` (or `truth.json.gz`).
    pub fn load(dir: &str) -> Truth {
        let p = super::testdata().join(dir).join("truth.json");
        let v: Value = serde_json::from_slice(&super::read_data(&p)).unwrap();
        Truth::from_value(&v)
    }

    /// Builds a truth from its JSON form (also used for hand-made truths in tests).
    pub fn from_value(v: &Value) -> Truth {
        let s = |x: &Value| x.as_str().map(str::to_string);
        let u32_ = |x: &Value| x.as_u64().map(|n| u32::try_from(n).unwrap());
        let snapshots: Vec<Snapshot> = v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| Snapshot {
                id: x["id"].as_u64().unwrap() as usize,
                step: s(&x["step"]).unwrap_or_default(),
                time: x["time"].as_f64().unwrap_or(0.0),
            })
            .collect();
        let entries: Vec<Entry> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Entry {
                path: s(&r[0]).unwrap(),
                inode: u32_(&r[1]).unwrap(),
                generation: u32_(&r[2]),
                kind: r[3].as_str().unwrap().chars().next().unwrap(),
                size: r[4].as_u64().unwrap_or(0),
                birth: r[5].as_f64(),
                sha256: s(&r[6]),
                first: r[7].as_u64().unwrap() as usize,
                last: r[8].as_u64().unwrap() as usize,
            })
            .collect();
        let owners = v["owners"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| Owner {
                        prefix: s(&o["prefix"]).unwrap(),
                        kind: s(&o["kind"]).unwrap_or_default(),
                        container_id: s(&o["container_id"]),
                        container_name: s(&o["container_name"]),
                        image_layer: o.get("image_layer").filter(|x| !x.is_null()).cloned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let strs = |x: &Value| -> Vec<String> {
            x.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|y| y.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let deletions = v["deletions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| Deletion {
                        step: s(&d["step"]).unwrap_or_default(),
                        kind: s(&d["kind"]).unwrap_or_default(),
                        paths: strs(&d["paths"]),
                        container_ids: strs(&d["container_ids"]),
                        inode: u32_(&d["inode"]),
                        generation: u32_(&d["generation"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let final_snapshot = v["final_snapshot"]
            .as_u64()
            .map(|n| n as usize)
            .unwrap_or_else(|| snapshots.iter().map(|x| x.id).max().unwrap_or(0));
        let mut by_inode: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_inode.entry(e.inode).or_default().push(i);
        }
        Truth {
            snapshots,
            final_snapshot,
            entries,
            owners,
            deletions,
            containers: v["containers"].as_array().cloned().unwrap_or_default(),
            by_inode,
        }
    }

    /// Every entry that ever had this inode number.
    pub fn entries_of(&self, inode: u32) -> impl Iterator<Item = &Entry> {
        self.by_inode
            .get(&inode)
            .into_iter()
            .flatten()
            .map(move |&i| &self.entries[i])
    }

    /// The owner of a path: the longest owner prefix equal to it or a parent of it.
    /// A short link `<driver>/l/<NAME>` belongs to the layer dir whose `link` file
    /// holds NAME (the truth has that file's SHA-256).
    pub fn owner_of(&self, path: &str) -> Option<&Owner> {
        let direct = self
            .owners
            .iter()
            .filter(|o| under(path, &o.prefix))
            .max_by_key(|o| o.prefix.len());
        direct.or_else(|| self.short_link_owner(path))
    }

    fn short_link_owner(&self, path: &str) -> Option<&Owner> {
        use sha2::{Digest, Sha256};
        let (dir, name) = path.rsplit_once('/')?;
        let driver = dir.strip_suffix("/l")?;
        let want: String = Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let layer = self.entries.iter().find(|e| {
            e.sha256.as_deref() == Some(want.as_str())
                && e.path.ends_with("/link")
                && e.path.starts_with(driver)
        })?;
        let layer_dir = layer.path.strip_suffix("/link")?;
        self.owners
            .iter()
            .filter(|o| under(layer_dir, &o.prefix))
            .max_by_key(|o| o.prefix.len())
    }

    /// Incarnations (inode, generation) present in the final snapshot.
    pub fn live_incarnations(&self) -> HashSet<Incarnation> {
        self.entries
            .iter()
            .filter(|e| e.last == self.final_snapshot)
            .map(|e| (e.inode, e.generation))
            .collect()
    }

    /// Truly deleted incarnations of regular files and directories (outside
    /// `/lost+found`), each with the paths it had: the recall denominator.
    pub fn deleted_incarnations(&self) -> Vec<(Incarnation, BTreeSet<String>)> {
        let live = self.live_incarnations();
        let mut out: HashMap<Incarnation, BTreeSet<String>> = HashMap::new();
        for e in &self.entries {
            let k = (e.inode, e.generation);
            if live.contains(&k) || !matches!(e.kind, 'f' | 'd') || under(&e.path, "/lost+found") {
                continue;
            }
            out.entry(k).or_default().insert(e.path.clone());
        }
        let mut v: Vec<_> = out.into_iter().collect();
        v.sort();
        v
    }

    /// Entries of the claimed incarnation: the claim's inode with its generation when
    /// it gives one (nothing when the truth never saw that generation: an incarnation
    /// that lived between two snapshots cannot be judged; entries without a generation,
    /// such as symlinks, are not that incarnation either), every incarnation of the
    /// inode number when it gives none.
    fn candidates(&self, c: &Claim) -> Vec<&Entry> {
        self.entries_of(c.inode)
            .filter(|e| c.generation.is_none() || e.generation == c.generation)
            .collect()
    }

    fn exact_entries<'a>(&'a self, c: &'a Claim) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries_of(c.inode)
            .filter(move |e| e.path == c.path && gen_matches(e.generation, c.generation))
    }

    fn same_container(o: &Owner, claimed: &str) -> bool {
        match &o.container_id {
            Some(id) => {
                id == claimed
                    || (claimed.len() >= 12 && id.starts_with(claimed))
                    || o.container_name.as_deref() == Some(claimed)
            }
            None => false,
        }
    }

    fn describe(&self, es: &[&Entry]) -> String {
        let mut paths: Vec<String> = es
            .iter()
            .map(|e| {
                format!(
                    "{} (gen {:?}, snapshots {}-{})",
                    e.path, e.generation, e.first, e.last
                )
            })
            .collect();
        paths.sort();
        paths.dedup();
        let n = paths.len();
        paths.truncate(3);
        if n > 3 {
            paths.push(format!("and {} more", n - 3));
        }
        paths.join(", ")
    }

    /// Judges claims against the truth.
    ///
    /// - *exact*: some snapshot has `path` with that inode (and that generation when the
    ///   claim gives one).
    /// - *false path*: not exact, and the truth knows the claimed incarnation (the inode
    ///   with the claimed generation; every incarnation of the inode number when the
    ///   claim gives no generation), but `dirname(path)` is never the parent directory
    ///   of any of its entries in any snapshot: the claim puts the inode in a directory
    ///   it never was in (typically: a deleted name joined to the path that its parent
    ///   directory's inode number had at another time). With a generation, only that
    ///   incarnation's directories count, so a directory path that held the inode number
    ///   only in another incarnation does not save the claim. Paths starting with
    ///   `$Orphan` claim no directory and are never false.
    /// - *unverified*: neither; e.g. a name in the right directory that no snapshot saw
    ///   (a transient file between two snapshots), an inode number the truth never saw,
    ///   a generation the truth never saw for that inode number (an incarnation that
    ///   lived between two snapshots, e.g. while dockerd started), or an `$Orphan` path.
    /// - *false owner* (independent of the above): the claim names a container, and no
    ///   path of the claimed incarnation (the claimed path itself when exact) has an
    ///   owner of that container: the owner of the path (longest owner prefix) is another
    ///   container, an image layer, or nothing. Claims without a container, and claims
    ///   about incarnations the truth never saw, are never false owners.
    /// - *recall*: among truly deleted incarnations that are regular files or
    ///   directories, how many have at least one exact claim. `$Orphan` claims never
    ///   count.
    ///
    /// Caveat: a snapshot walk is not atomic and snapshots are ~0.1 s apart, so an
    /// incarnation that lived entirely between two snapshots is unknown. Claims with a
    /// generation are safe from that (an unknown generation is unverified); a claim
    /// without one about such an incarnation of a number the truth knows elsewhere is
    /// counted false.
    pub fn evaluate(&self, claims: &[Claim]) -> Verdict {
        let mut v = Verdict::default();
        let mut hit: HashSet<Incarnation> = HashSet::new();
        for c in claims {
            let exact: Vec<&Entry> = self.exact_entries(c).collect();
            let orphan = c.path.starts_with("$Orphan");
            let cands = if exact.is_empty() {
                self.candidates(c)
            } else {
                exact.clone()
            };
            if !exact.is_empty() {
                v.exact += 1;
                for e in &exact {
                    hit.insert((e.inode, e.generation));
                }
            } else if orphan || cands.is_empty() {
                v.unverified.push(c.clone());
            } else {
                let parent = dirname(&c.path);
                if cands.iter().any(|e| dirname(&e.path) == parent) {
                    v.unverified.push(c.clone());
                } else {
                    let why = format!(
                        "inode {} was never in {parent}; the truth has it at {}",
                        c.inode,
                        self.describe(&cands)
                    );
                    v.false_paths.push((c.clone(), why));
                }
            }
            if let Some(cid) = &c.container_id {
                if !cands.is_empty()
                    && !cands.iter().any(|e| {
                        self.owner_of(&e.path)
                            .is_some_and(|o| Self::same_container(o, cid))
                    })
                {
                    let mut owners: Vec<String> = cands
                        .iter()
                        .map(|e| match self.owner_of(&e.path) {
                            Some(o) => format!(
                                "{} {}{}",
                                o.kind,
                                o.container_name.as_deref().unwrap_or(""),
                                o.container_id
                                    .as_deref()
                                    .map(|i| format!(" ({})", &i[..i.len().min(12)]))
                                    .unwrap_or_else(|| format!(" ({})", o.prefix))
                            ),
                            None => "no owner".to_string(),
                        })
                        .collect();
                    owners.sort();
                    owners.dedup();
                    let why = format!(
                        "claimed container {cid}; truth: {} at {}",
                        owners.join(", "),
                        self.describe(&cands)
                    );
                    v.false_owners.push((c.clone(), why));
                }
            }
        }
        let deleted = self.deleted_incarnations();
        v.deleted_incarnations = deleted.len();
        v.recalled = deleted.iter().filter(|(k, _)| hit.contains(k)).count();
        v
    }
}

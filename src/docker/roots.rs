//! Finding every Docker root on the filesystem, and the daemon
//! configuration that points at them.

use super::fsutil::{self, join, lossy, MAX_JSON, MAX_SMALL};
use crate::ext4::Filesystem;
use crate::util::escape::escape_bytes;
use serde::Serialize;
use std::collections::{HashSet, VecDeque};

/// One Docker root (a `--data-root` directory).
#[derive(Clone, Debug, Serialize)]
pub struct DockerRoot {
    /// Absolute host path.
    #[serde(serialize_with = "fsutil::ser_path")]
    pub path: Vec<u8>,
    pub inode: u32,
    /// Every way this root was found (default path, daemon.json, flags,
    /// userns sub-root, snap, rootless, scan).
    pub how: Vec<String>,
    /// Storage drivers with an image store (`image/<driver>`).
    pub drivers: Vec<String>,
    /// `<uid>.<gid>` when this is a userns-remap sub-root.
    pub userns: Option<String>,
    /// Has `containers/` (a daemon ran here).
    pub has_containers: bool,
    /// Host path of the containerd image store used by this root
    /// (`<root>/containerd/daemon` or `/var/lib/containerd`), if any.
    #[serde(serialize_with = "ser_opt_path")]
    pub containerd_store: Option<Vec<u8>>,
    /// That store, loaded (images, containers, snapshot chains).
    #[serde(skip)]
    pub containerd: Option<Box<super::containerd::Store>>,
}

fn ser_opt_path<S: serde::Serializer>(
    v: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(p) => fsutil::ser_path(p, s),
        None => s.serialize_none(),
    }
}

/// Daemon configuration found in one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DaemonConfig {
    #[serde(serialize_with = "fsutil::ser_path")]
    pub path: Vec<u8>,
    /// `daemon.json`, `env` (/etc/default, /etc/sysconfig) or `systemd`.
    pub kind: &'static str,
    pub data_root: Vec<String>,
    pub hosts: Vec<String>,
    pub tls: bool,
    pub tlsverify: bool,
    pub userns_remap: Option<String>,
    /// The raw command lines / values the flags came from.
    pub lines: Vec<String>,
}

const DAEMON_JSON: &[u8] = b"/etc/docker/daemon.json";
const ENV_FILES: &[&[u8]] = &[b"/etc/default/docker", b"/etc/sysconfig/docker"];
const UNIT_DIRS: &[&[u8]] = &[
    b"/lib/systemd/system",
    b"/usr/lib/systemd/system",
    b"/etc/systemd/system",
    b"/run/systemd/system",
];
/// Directories scanned for leftover roots: depth and directory budget.
const SCAN_DEPTH: usize = 6;
const SCAN_MAX_DIRS: usize = 200_000;

/// Split a command line roughly like a shell: whitespace separated,
/// single and double quotes group, backslash escapes one char.
pub fn shell_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut q: Option<char> = None;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (q, c) {
            (None, '\'' | '"') => {
                q = Some(c);
                have = true;
            }
            (Some(x), _) if x == c => q = None,
            (None | Some('"'), '\\') => {
                if let Some(n) = it.next() {
                    if n != '\n' {
                        cur.push(n);
                        have = true;
                    }
                }
            }
            (None, c) if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            _ => {
                cur.push(c);
                have = true;
            }
        }
        if out.len() > 10_000 {
            break;
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// Pull daemon flags out of tokens: `-g`, `--graph`, `--data-root`,
/// `-H`, `--host`, `--tls`, `--tlsverify`, `--userns-remap`.
fn apply_flags(tokens: &[String], cfg: &mut DaemonConfig) {
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let (flag, inline) = match t.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (t, None),
        };
        let takes = matches!(
            flag,
            "-g" | "--graph" | "--data-root" | "-H" | "--host" | "--userns-remap"
        );
        let value = if takes {
            match inline {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    tokens.get(i).cloned()
                }
            }
        } else if let Some(v) = flag
            .strip_prefix("-H")
            .filter(|v| !v.is_empty() && !flag.starts_with("--"))
        {
            // -Htcp://...
            Some(v.to_string())
        } else {
            inline
        };
        match flag {
            "-g" | "--graph" | "--data-root" => cfg.data_root.extend(value),
            "-H" | "--host" => cfg.hosts.extend(value),
            "--userns-remap" => cfg.userns_remap = value,
            "--tls" => cfg.tls = value.as_deref() != Some("false"),
            "--tlsverify" => cfg.tlsverify = value.as_deref() != Some("false"),
            f if f.starts_with("-H") && !f.starts_with("--") => cfg.hosts.extend(value),
            _ => {}
        }
        i += 1;
    }
}

/// Every daemon configuration file present: daemon.json, env files,
/// systemd units and drop-ins naming dockerd.
pub fn daemon_configs(fs: &Filesystem, warnings: &mut Vec<String>) -> Vec<DaemonConfig> {
    let mut out = Vec::new();
    if let Ok((_, b)) = fsutil::read_host_file(fs, DAEMON_JSON, MAX_JSON) {
        let mut cfg = DaemonConfig {
            path: DAEMON_JSON.to_vec(),
            kind: "daemon.json",
            ..Default::default()
        };
        match serde_json::from_slice::<serde_json::Value>(&b) {
            Ok(v) => {
                for k in ["data-root", "graph"] {
                    if let Some(s) = v.get(k).and_then(|x| x.as_str()) {
                        cfg.data_root.push(s.to_string());
                        cfg.lines.push(format!("\"{k}\": {s:?}"));
                    }
                }
                if let Some(h) = v.get("hosts").and_then(|x| x.as_array()) {
                    for x in h.iter().filter_map(|x| x.as_str()) {
                        cfg.hosts.push(x.to_string());
                    }
                    cfg.lines.push(format!(
                        "\"hosts\": {}",
                        serde_json::Value::Array(h.clone())
                    ));
                }
                cfg.tls = v.get("tls").and_then(|x| x.as_bool()).unwrap_or(false);
                cfg.tlsverify = v
                    .get("tlsverify")
                    .and_then(|x| x.as_bool())
                    .unwrap_or(false);
                cfg.userns_remap = v
                    .get("userns-remap")
                    .and_then(|x| x.as_str())
                    .map(|s| s.to_string());
            }
            Err(e) => warnings.push(format!(
                "{}: not valid JSON ({e}); its settings are ignored",
                escape_bytes(DAEMON_JSON)
            )),
        }
        out.push(cfg);
    }
    for p in ENV_FILES {
        if let Ok((_, b)) = fsutil::read_host_file(fs, p, MAX_SMALL) {
            let mut cfg = DaemonConfig {
                path: p.to_vec(),
                kind: "env",
                ..Default::default()
            };
            for line in String::from_utf8_lossy(&b).lines().take(100_000) {
                let l = line.trim();
                if l.starts_with('#') {
                    continue;
                }
                let Some((_, val)) = l.split_once('=') else {
                    continue;
                };
                let toks: Vec<String> = shell_split(val)
                    .iter()
                    .flat_map(|t| shell_split(t))
                    .collect();
                let before = (cfg.data_root.len(), cfg.hosts.len());
                apply_flags(&toks, &mut cfg);
                if before != (cfg.data_root.len(), cfg.hosts.len()) || cfg.userns_remap.is_some() {
                    cfg.lines.push(l.to_string());
                }
            }
            out.push(cfg);
        }
    }
    for d in UNIT_DIRS {
        let Some(dino) = fsutil::host_dir(fs, d) else {
            continue;
        };
        let mut files: Vec<Vec<u8>> = Vec::new();
        for e in fsutil::list_dir(fs, dino) {
            let n = &e.name;
            if n.starts_with(b"docker") && n.ends_with(b".service") {
                files.push(join(d, n));
            }
            if n.starts_with(b"docker") && n.ends_with(b".service.d") {
                let dd = join(d, n);
                for f in fsutil::list_dir(fs, e.inode) {
                    if f.name.ends_with(b".conf") {
                        files.push(join(&dd, &f.name));
                    }
                }
            }
        }
        files.sort();
        for f in files {
            if let Ok((_, b)) = fsutil::read_host_file(fs, &f, MAX_SMALL) {
                let mut cfg = DaemonConfig {
                    path: f.clone(),
                    kind: "systemd",
                    ..Default::default()
                };
                let text = String::from_utf8_lossy(&b).replace("\\\n", " ");
                for line in text.lines().take(100_000) {
                    let l = line.trim();
                    if let Some(v) = l.strip_prefix("ExecStart=") {
                        if v.contains("dockerd")
                            || v.contains("docker daemon")
                            || v.contains("docker -d")
                        {
                            apply_flags(&shell_split(v), &mut cfg);
                            cfg.lines.push(l.to_string());
                        }
                    }
                }
                out.push(cfg);
            }
        }
    }
    out
}

/// Does the directory look like a Docker root (`image/` plus a driver
/// dir or `containers/`)?
fn looks_like_root(fs: &Filesystem, ino: u32) -> bool {
    let names: HashSet<Vec<u8>> = fsutil::list_dir(fs, ino)
        .into_iter()
        .map(|e| e.name)
        .collect();
    let has = |n: &[u8]| names.contains(n);
    (has(b"image") || has(b"graph"))
        && (has(b"containers")
            || has(b"overlay2")
            || has(b"aufs")
            || has(b"overlay")
            || has(b"vfs")
            || has(b"btrfs")
            || has(b"zfs")
            || has(b"devicemapper"))
        || (has(b"containers") && (has(b"overlay2") || has(b"aufs") || has(b"containerd")))
        // Docker 29 with the system containerd's image store: no image/.
        || (has(b"containers") && has(b"volumes") && has(b"network"))
}

/// Find every Docker root: default, configured, userns sub-roots, snap,
/// rootless and leftovers found by a bounded scan.
pub fn find_roots(fs: &Filesystem, warnings: &mut Vec<String>) -> Vec<DockerRoot> {
    let cfgs = daemon_configs(fs, warnings);
    let mut cands: Vec<(Vec<u8>, String)> = vec![(
        b"/var/lib/docker".to_vec(),
        "default path /var/lib/docker".into(),
    )];
    for c in &cfgs {
        for d in &c.data_root {
            cands.push((
                d.as_bytes().to_vec(),
                format!("data-root {d:?} in {} ({})", lossy(&c.path), c.kind),
            ));
        }
    }
    cands.push((
        b"/var/snap/docker/common/var-lib-docker".to_vec(),
        "snap docker root".into(),
    ));
    cands.push((
        b"/root/.local/share/docker".to_vec(),
        "rootless docker root of root".into(),
    ));
    if let Some(home) = fsutil::host_dir(fs, b"/home") {
        for e in fsutil::list_dir(fs, home).into_iter().take(100_000) {
            let p = join(&join(b"/home", &e.name), b".local/share/docker");
            cands.push((
                p,
                format!("rootless docker root of user {}", escape_bytes(&e.name)),
            ));
        }
    }
    let userns_how = cfgs
        .iter()
        .find_map(|c| c.userns_remap.as_ref().map(|u| (u.clone(), lossy(&c.path))));
    let mut roots: Vec<DockerRoot> = Vec::new();
    let add = |roots: &mut Vec<DockerRoot>,
               path: Vec<u8>,
               ino: u32,
               how: String,
               userns: Option<String>| {
        if let Some(r) = roots.iter_mut().find(|r| r.inode == ino) {
            if !r.how.contains(&how) {
                r.how.push(how);
            }
            return;
        }
        roots.push(DockerRoot {
            path,
            inode: ino,
            how: vec![how],
            drivers: Vec::new(),
            userns,
            has_containers: false,
            containerd_store: None,
            containerd: None,
        });
    };
    for (path, how) in &cands {
        let Some(ino) = fsutil::host_dir(fs, path) else {
            if !how.starts_with("default")
                && !how.starts_with("snap")
                && !how.starts_with("rootless")
            {
                warnings.push(format!("{how}: {} does not exist", escape_bytes(path)));
            }
            continue;
        };
        if looks_like_root(fs, ino) {
            add(&mut roots, path.clone(), ino, how.clone(), None);
        }
        // userns-remap sub-roots: <root>/<uid>.<gid>/
        for e in fsutil::list_dir(fs, ino) {
            let n = String::from_utf8_lossy(&e.name).into_owned();
            let is_ug = n
                .split_once('.')
                .map(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                })
                .unwrap_or(false);
            if is_ug && looks_like_root(fs, e.inode) {
                let mut h = format!(
                    "userns-remap sub-root {n} of {} ({how})",
                    escape_bytes(path)
                );
                if let Some((u, f)) = &userns_how {
                    h.push_str(&format!("; userns-remap {u:?} in {f}"));
                }
                add(&mut roots, join(path, &e.name), e.inode, h, Some(n));
            }
        }
    }
    // Leftover roots: bounded breadth-first scan of the host tree.
    let mut seen: HashSet<u32> = roots.iter().map(|r| r.inode).collect();
    let mut q: VecDeque<(Vec<u8>, u32, usize)> = VecDeque::new();
    q.push_back((b"/".to_vec(), crate::ext4::inode::ROOT_INO, 0));
    let mut visited = 0usize;
    let mut visited_set: HashSet<u32> = HashSet::new();
    while let Some((path, ino, depth)) = q.pop_front() {
        visited += 1;
        if visited > SCAN_MAX_DIRS {
            warnings.push(format!(
                "root scan stopped after {SCAN_MAX_DIRS} directories; leftover roots deeper may be missed"
            ));
            break;
        }
        if !visited_set.insert(ino) {
            continue;
        }
        for e in fsutil::list_dir(fs, ino) {
            if e.dirent_type() != crate::ext4::inode::FileType::Dir {
                continue;
            }
            let p = join(&path, &e.name);
            if matches!(&p[..], b"/proc" | b"/sys" | b"/dev" | b"/lost+found") {
                continue;
            }
            if seen.contains(&e.inode) {
                continue; // a known root: do not descend into its layers
            }
            if looks_like_root(fs, e.inode) {
                seen.insert(e.inode);
                add(
                    &mut roots,
                    p,
                    e.inode,
                    "found by scan: a directory laid out like a Docker root (leftover or unconfigured)".into(),
                    None,
                );
                continue;
            }
            if depth + 1 < SCAN_DEPTH {
                q.push_back((p, e.inode, depth + 1));
            }
        }
    }
    for r in &mut roots {
        let names: Vec<Vec<u8>> = fsutil::list_dir(fs, r.inode)
            .into_iter()
            .map(|e| e.name)
            .collect();
        r.has_containers = names.iter().any(|n| n == b"containers");
        if let Some(img) = fsutil::child(fs, r.inode, b"image") {
            let mut d: Vec<String> = fsutil::list_dir(fs, img.inode)
                .into_iter()
                .map(|e| lossy(&e.name))
                .collect();
            d.sort();
            r.drivers = d;
        } else if fsutil::child(fs, r.inode, b"graph").is_some() {
            // The legacy v1 graph layout (Docker < 1.10).
            r.drivers = vec![super::images::graph_driver(fs, r)];
            r.how
                .push("legacy v1 graph layout (graph/, repositories-<driver>)".into());
        }
        // The containerd image store: only when a container of this root
        // uses the overlayfs snapshotter, or the store is the root's own.
        for (base, ino) in super::containerd::candidates(fs, &r.path, r.inode) {
            let own = base.starts_with(&r.path);
            if !own && !uses_overlayfs(fs, r.inode) {
                continue;
            }
            if let Some(st) = super::containerd::load(fs, &base, ino) {
                for w in &st.warnings {
                    warnings.push(w.clone());
                }
                // Docker < 24 keeps only running containers' records there;
                // the image store is in use when it holds snapshots/images.
                if !st.snapshots.is_empty() || !st.images.is_empty() {
                    r.how.push(format!(
                        "containerd image store at {} (driver overlayfs)",
                        escape_bytes(&base)
                    ));
                    if !r.drivers.iter().any(|d| d == "overlayfs") {
                        r.drivers.push("overlayfs".into());
                    }
                }
                r.containerd_store = Some(base);
                r.containerd = Some(Box::new(st));
                break;
            }
        }
    }
    roots
}

/// Does any container of the root say `Driver: "overlayfs"`?
fn uses_overlayfs(fs: &Filesystem, root_ino: u32) -> bool {
    let Some(c) = fsutil::child(fs, root_ino, b"containers") else {
        return false;
    };
    fsutil::list_dir(fs, c.inode)
        .into_iter()
        .take(10_000)
        .any(|e| {
            fsutil::read_child(fs, e.inode, b"config.v2.json", MAX_JSON)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| {
                    v.get("Driver")
                        .and_then(|d| d.as_str())
                        .map(|d| d == "overlayfs")
                })
                .unwrap_or(false)
        })
}

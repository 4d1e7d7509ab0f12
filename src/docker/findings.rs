//! Host and container findings: remote API exposure, uid maps, cgroup
//! names, dangerous container configurations. Each has a severity and the
//! evidence path it was read from.

use super::containers::Container;
use super::fsutil::{self, join, lossy, MAX_SMALL};
use super::roots::{daemon_configs, DockerRoot};
use crate::ext4::Filesystem;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier: `remote-api-no-tls`, `privileged`, `docker-sock-mount`, ...
    pub kind: &'static str,
    pub message: String,
    pub container: Option<String>,
    pub container_name: Option<String>,
    /// Host path(s) the finding was read from.
    pub evidence: Vec<String>,
    /// The exact setting (line, bind, flag).
    pub detail: Option<String>,
}

/// Host paths whose bind mount into a container is dangerous.
const SENSITIVE: &[&str] = &[
    "/etc",
    "/root",
    "/home",
    "/boot",
    "/proc",
    "/sys",
    "/dev",
    "/var/lib/docker",
    "/var/run",
    "/run",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/var/log",
    "/var/lib/kubelet",
    "/etc/kubernetes",
];
const DANGEROUS_CAPS: &[&str] = &[
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
    "DAC_OVERRIDE",
    "NET_ADMIN",
    "SYS_RAWIO",
    "BPF",
    "PERFMON",
    "SYS_BOOT",
];

/// All findings for a filesystem.
pub fn collect(
    fs: &Filesystem,
    roots: &[DockerRoot],
    containers: &[Container],
    warnings: &mut Vec<String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for cfg in daemon_configs(fs, warnings) {
        let ev = vec![lossy(&cfg.path)];
        for h in &cfg.hosts {
            let Some(addr) = h.strip_prefix("tcp://") else {
                continue;
            };
            let port = addr
                .rsplit_once(':')
                .map(|(_, p)| p.trim_end_matches('/'))
                .unwrap_or("");
            let any =
                addr.starts_with("0.0.0.0") || addr.starts_with("[::]") || addr.starts_with(':');
            let (sev, kind, msg) = if port == "2375" || (!cfg.tls && !cfg.tlsverify) {
                (
                    Severity::Critical,
                    "remote-api-no-tls",
                    format!(
                        "Docker API exposed on {h} without TLS{}: anyone reaching it controls the host",
                        if port == "2375" { " (port 2375)" } else { "" }
                    ),
                )
            } else if !cfg.tlsverify {
                (
                    Severity::High,
                    "remote-api-tls-no-verify",
                    format!("Docker API on {h} with TLS but no client verification"),
                )
            } else {
                (
                    Severity::Low,
                    "remote-api-tls",
                    format!("Docker API on {h} with TLS client verification"),
                )
            };
            let local = addr.starts_with("127.")
                || addr.starts_with("localhost")
                || addr.starts_with("[::1]");
            out.push(Finding {
                // Loopback-only exposure is still a local privilege escalation.
                severity: if local && sev == Severity::Critical && !any {
                    Severity::High
                } else {
                    sev
                },
                kind,
                message: msg,
                container: None,
                container_name: None,
                evidence: ev.clone(),
                detail: Some(
                    cfg.lines
                        .iter()
                        .find(|l| l.contains(h.as_str()))
                        .cloned()
                        .unwrap_or_else(|| h.clone()),
                ),
            });
        }
        if let Some(u) = &cfg.userns_remap {
            out.push(Finding {
                severity: Severity::Info,
                kind: "userns-remap",
                message: format!(
                    "userns-remap {u:?} configured: container uids map to host subordinate ids"
                ),
                container: None,
                container_name: None,
                evidence: ev.clone(),
                detail: None,
            });
        }
        for d in &cfg.data_root {
            out.push(Finding {
                severity: Severity::Info,
                kind: "data-root",
                message: format!("Docker root moved to {d}"),
                container: None,
                container_name: None,
                evidence: ev.clone(),
                detail: None,
            });
        }
    }
    for p in [&b"/etc/subuid"[..], b"/etc/subgid"] {
        if let Ok((_, b)) = fsutil::read_host_file(fs, p, MAX_SMALL) {
            let entries: Vec<String> = String::from_utf8_lossy(&b)
                .lines()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .take(10_000)
                .map(|l| l.to_string())
                .collect();
            if !entries.is_empty() {
                out.push(Finding {
                    severity: Severity::Info,
                    kind: "uid-map",
                    message: format!("{}: {}", lossy(p), entries.join(", ")),
                    container: None,
                    container_name: None,
                    evidence: vec![lossy(p)],
                    detail: None,
                });
            }
        }
    }
    if let Ok((_, b)) = fsutil::read_host_file(fs, b"/etc/cgconfig.conf", MAX_SMALL) {
        let text = String::from_utf8_lossy(&b);
        let names: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("group "))
            .map(|r| r.trim_end_matches('{').trim().to_string())
            .take(10_000)
            .collect();
        out.push(Finding {
            severity: Severity::Info,
            kind: "cgroup-names",
            message: format!(
                "persistent cgroups in /etc/cgconfig.conf: {}",
                names.join(", ")
            ),
            container: None,
            container_name: None,
            evidence: vec!["/etc/cgconfig.conf".into()],
            detail: None,
        });
    }
    for r in roots {
        if r.how.iter().all(|h| h.starts_with("found by scan")) {
            out.push(Finding {
                severity: Severity::Low,
                kind: "extra-docker-root",
                message: format!(
                    "a Docker root not named by any configuration: {}",
                    lossy(&r.path)
                ),
                container: None,
                container_name: None,
                evidence: vec![lossy(&r.path)],
                detail: None,
            });
        }
    }
    for c in containers {
        container_findings(c, &mut out);
    }
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.kind.cmp(b.kind))
            .then(a.container.cmp(&b.container))
    });
    out
}

fn container_findings(c: &Container, out: &mut Vec<Finding>) {
    let hc = lossy(&join(&c.dir, b"hostconfig.json"));
    let cfg = lossy(&join(&c.dir, b"config.v2.json"));
    let mut push = |severity, kind, message: String, detail: Option<String>, ev: &str| {
        out.push(Finding {
            severity,
            kind,
            message: format!(
                "container {} ({}): {message}",
                c.display_name(),
                c.short_id()
            ),
            container: Some(c.id.clone()),
            container_name: c.name.clone(),
            evidence: vec![ev.to_string()],
            detail,
        })
    };
    if c.privileged {
        push(
            Severity::Critical,
            "privileged",
            "runs --privileged (all capabilities, all devices)".into(),
            Some("Privileged: true".into()),
            &hc,
        );
    }
    for m in &c.mounts {
        let src = m.source.trim_end_matches('/');
        let src = if src.is_empty() { "/" } else { src };
        let detail = Some(format!(
            "{}:{}{}",
            m.source,
            m.destination,
            if m.rw { "" } else { ":ro" }
        ));
        if src.ends_with("docker.sock") || src.ends_with("containerd.sock") {
            push(
                Severity::Critical,
                "docker-sock-mount",
                format!("the Docker socket {src} is mounted at {}", m.destination),
                detail,
                &hc,
            );
        } else if src == "/" {
            push(
                Severity::Critical,
                "host-root-mount",
                format!(
                    "the host root / is mounted at {}{}",
                    m.destination,
                    if m.rw { " read-write" } else { " (read-only)" }
                ),
                detail,
                &hc,
            );
        } else if SENSITIVE
            .iter()
            .any(|s| src == *s || src.starts_with(&format!("{s}/")))
            && m.mtype.as_deref() != Some("volume")
        {
            push(
                Severity::High,
                "sensitive-host-mount",
                format!("host path {src} is mounted at {}", m.destination),
                detail,
                &hc,
            );
        }
    }
    if c.pid_mode.as_deref() == Some("host") {
        push(
            Severity::High,
            "pid-host",
            "shares the host PID namespace (--pid=host)".into(),
            Some("PidMode: host".into()),
            &hc,
        );
    }
    if c.network_mode.as_deref() == Some("host") {
        push(
            Severity::Medium,
            "net-host",
            "shares the host network namespace (--net=host)".into(),
            Some("NetworkMode: host".into()),
            &hc,
        );
    }
    if c.ipc_mode.as_deref() == Some("host") {
        push(
            Severity::Medium,
            "ipc-host",
            "shares the host IPC namespace (--ipc=host)".into(),
            Some("IpcMode: host".into()),
            &hc,
        );
    }
    if c.userns_mode.as_deref() == Some("host") {
        push(
            Severity::Low,
            "userns-host",
            "opts out of user-namespace remapping (--userns=host)".into(),
            None,
            &hc,
        );
    }
    for cap in &c.cap_add {
        let n = cap.trim_start_matches("CAP_").to_ascii_uppercase();
        if n == "ALL" {
            push(
                Severity::Critical,
                "cap-add-all",
                "adds ALL capabilities".into(),
                Some(format!("CapAdd: {cap}")),
                &hc,
            );
        } else if n == "SYS_ADMIN" {
            push(
                Severity::High,
                "cap-add-sys-admin",
                "adds CAP_SYS_ADMIN".into(),
                Some(format!("CapAdd: {cap}")),
                &hc,
            );
        } else if DANGEROUS_CAPS.contains(&n.as_str()) {
            push(
                Severity::Medium,
                "cap-add",
                format!("adds CAP_{n}"),
                Some(format!("CapAdd: {cap}")),
                &hc,
            );
        }
    }
    for s in &c.security_opt {
        if s.contains("unconfined") || s == "no-new-privileges=false" {
            push(
                Severity::Medium,
                "security-opt",
                format!("security option {s}"),
                Some(s.clone()),
                &hc,
            );
        }
    }
    for d in &c.devices {
        push(
            Severity::Medium,
            "device",
            format!("host device mapped: {d}"),
            Some(d.clone()),
            &hc,
        );
    }
    if c.running_at_acquisition {
        push(
            Severity::Info,
            "running-at-acquisition",
            "State.Running is true on disk: running when the host went down or was imaged".into(),
            c.pid.map(|p| format!("Pid: {p}")),
            &cfg,
        );
    }
}

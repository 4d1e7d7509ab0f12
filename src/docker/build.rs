//! Containers made by the classic builder (`docker build` without
//! BuildKit): one per Dockerfile step, removed when the step is committed.
//! What marks them (docs/design.md, "Docker's layout"):
//! - a metadata step (`CMD`, `ENV`, `LABEL`, …) runs `/bin/sh -c "#(nop) "`
//!   followed by the instruction, a command no user runs;
//! - a `RUN` step runs `/bin/sh -c CMD` on a bare image id, and the image
//!   it committed keeps `/bin/sh -c CMD` as a history `created_by`.

use super::containers::Container;
use super::DockerHost;
use serde::Serialize;

/// Why a container is taken for a build step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildStep {
    /// The Dockerfile instruction (`RUN …`, `CMD ["/bin/sh"]`, …).
    pub instruction: String,
    /// The images whose history holds the step, when any still does.
    pub images: Vec<String>,
    pub evidence: String,
}

/// The build step container `c` ran, if it is one.
pub fn build_step(host: &DockerHost, c: &Container) -> Option<BuildStep> {
    if c.path.as_deref() != Some("/bin/sh") || c.args.first().map(String::as_str) != Some("-c") {
        return None;
    }
    let script = c.args.get(1)?;
    if let Some(rest) = script.strip_prefix("#(nop) ") {
        let instr = match c.args.get(2) {
            Some(i) => i.clone(),
            None => rest.trim().to_string(),
        };
        return Some(BuildStep {
            instruction: instr,
            images: images_with(
                host,
                &format!(
                    "/bin/sh -c #(nop) {}",
                    c.args.get(2).map(String::as_str).unwrap_or(rest.trim())
                ),
            ),
            evidence:
                "its command is the classic builder's metadata-step marker `/bin/sh -c #(nop)`"
                    .into(),
        });
    }
    let on_image_id = c.image.as_deref().is_some_and(|i| i.starts_with("sha256:"));
    let created_by = format!("/bin/sh -c {script}");
    let images = images_with(host, &created_by);
    if !on_image_id || images.is_empty() {
        return None;
    }
    Some(BuildStep {
        instruction: format!("RUN {script}"),
        evidence: format!(
            "it ran `/bin/sh -c` on a bare image id, and the history of image(s) {} records that command as a step",
            images.join(", ")
        ),
        images,
    })
}

/// Display names of the images whose history has a step `created_by`.
fn images_with(host: &DockerHost, created_by: &str) -> Vec<String> {
    let mut v: Vec<String> = host
        .images
        .iter()
        .filter(|i| {
            i.config
                .history
                .iter()
                .any(|h| h.created_by.as_deref() == Some(created_by))
        })
        .map(|i| i.display_name())
        .collect();
    v.sort();
    v.dedup();
    v
}

//! What an evidence container says about itself: its format, acquisition
//! metadata, stored hashes, and the damage found while reading it.

use super::{ReadAt, Source};
use crate::util::bytes::hex;
use crate::{Error, Result};
use serde::Serialize;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The container format holding the logical media (a closed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerFormat {
    /// A raw (dd) image or block device.
    Raw,
    /// Raw segments `.001`, `.aa`, read as one.
    Split,
    /// A gzip-compressed raw image.
    Gzip,
    /// Expert Witness Format version 1 (EnCase `.E01`, as ewfacquire writes).
    Ewf,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
    /// VMware virtual disk (sparse, stream-optimized or flat extents).
    Vmdk,
    /// Microsoft Virtual Hard Disk (fixed or dynamic).
    Vhd,
    /// Microsoft VHDX (fixed or dynamic).
    Vhdx,
}

impl ContainerFormat {
    pub fn name(self) -> &'static str {
        match self {
            ContainerFormat::Raw => "raw",
            ContainerFormat::Split => "split raw",
            ContainerFormat::Gzip => "gzip",
            ContainerFormat::Ewf => "EWF (E01)",
            ContainerFormat::Qcow2 => "qcow2",
            ContainerFormat::Vmdk => "VMDK",
            ContainerFormat::Vhd => "VHD",
            ContainerFormat::Vhdx => "VHDX",
        }
    }
}

/// Acquisition metadata recorded by the imaging tool (EWF header/header2
/// and volume sections). Every field is what the file claims, unverified.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AcquisitionInfo {
    pub case_number: Option<String>,
    pub evidence_number: Option<String>,
    pub examiner: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
    /// As recorded: header2 stores seconds since 1970 (shown as UTC here),
    /// header stores `YYYY M D h m s` local time of the acquiring machine.
    pub acquisition_date: Option<String>,
    pub system_date: Option<String>,
    /// Version of the acquiring software (`av`).
    pub software: Option<String>,
    /// Operating system of the acquiring machine (`ov`).
    pub os: Option<String>,
    pub bytes_per_sector: Option<u32>,
    pub sector_count: Option<u64>,
}

/// Hashes of the logical media stored in the container at acquisition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoredHashes {
    /// Lower-case hex.
    pub md5: Option<String>,
    pub sha1: Option<String>,
}

/// Damage met while opening or reading a container (a closed set); the
/// read goes on, and the warning names what was affected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContainerWarning {
    /// A chunk's stored Adler-32 does not match its data; the data is
    /// returned as stored (stored chunk) or as inflated (compressed chunk).
    ChunkChecksum {
        chunk: u64,
        stored: u32,
        computed: u32,
    },
    /// A block could not be decoded; it reads as zeros.
    BlockUnreadable { block: u64, reason: String },
    /// Part of the media has no block in any table; it reads as zeros.
    MissingBlocks { first: u64, count: u64 },
    /// A structure was skipped or a fallback used (free text).
    Structure(String),
}

impl fmt::Display for ContainerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContainerWarning::ChunkChecksum {
                chunk,
                stored,
                computed,
            } => write!(
                f,
                "chunk {chunk}: Adler-32 mismatch (stored {stored:08x}, computed {computed:08x}); data kept as read"
            ),
            ContainerWarning::BlockUnreadable { block, reason } => {
                write!(f, "block {block} unreadable ({reason}); reads as zeros")
            }
            ContainerWarning::MissingBlocks { first, count } => write!(
                f,
                "blocks {first}..{} are in no table; they read as zeros",
                first.saturating_add(*count)
            ),
            ContainerWarning::Structure(s) => write!(f, "{s}"),
        }
    }
}

/// Most warnings kept per container; the rest are only counted.
const MAX_WARNINGS: usize = 1000;

/// Warnings collected while a container is read (shared with its reader).
#[derive(Clone, Default)]
pub struct WarningLog(Arc<Mutex<(Vec<ContainerWarning>, u64)>>);

impl WarningLog {
    pub fn push(&self, w: ContainerWarning) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if g.0.contains(&w) {
            return; // the same chunk read twice warns once
        }
        if g.0.len() < MAX_WARNINGS {
            g.0.push(w);
        } else {
            g.1 += 1;
        }
    }
    /// Warnings so far, without removing them.
    pub fn snapshot(&self) -> Vec<ContainerWarning> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }
    /// Warnings past the kept ones.
    pub fn dropped(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// Opened evidence: the logical media plus what the container says.
pub struct Evidence {
    pub source: Source,
    pub format: ContainerFormat,
    /// One line per layer below the logical media ("qcow2 v3, backing
    /// base.qcow2", "EWF: 4 segments").
    pub layers: Vec<String>,
    pub acquisition: Option<AcquisitionInfo>,
    pub stored_hashes: StoredHashes,
    /// Open-time and read-time warnings (reads add to it).
    pub warnings: WarningLog,
}

impl Evidence {
    pub fn plain(source: Source, format: ContainerFormat) -> Self {
        Evidence {
            source,
            format,
            layers: Vec::new(),
            acquisition: None,
            stored_hashes: StoredHashes::default(),
            warnings: WarningLog::default(),
        }
    }
}

/// Outcome of comparing one stored hash with the media as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashCheck {
    pub algorithm: &'static str,
    pub stored: String,
    pub computed: String,
    pub matches: bool,
}

/// Hash the whole logical media (MD5 and SHA-1, as EWF stores them) and
/// compare with each stored hash. Empty when the container stores none.
pub fn verify_stored_hashes(ev: &Evidence) -> Result<Vec<HashCheck>> {
    use md5::Digest;
    let h = &ev.stored_hashes;
    if h.md5.is_none() && h.sha1.is_none() {
        return Ok(Vec::new());
    }
    let mut md5 = md5::Md5::new();
    let mut sha1 = sha1::Sha1::new();
    let src: &dyn ReadAt = &*ev.source;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    while pos < src.size() {
        let n = (src.size() - pos).min(buf.len() as u64) as usize;
        src.read_exact_at(pos, &mut buf[..n])
            .map_err(|e| Error::io(format!("hashing media at offset {pos}"), e))?;
        if h.md5.is_some() {
            md5.update(&buf[..n]);
        }
        if h.sha1.is_some() {
            sha1.update(&buf[..n]);
        }
        pos += n as u64;
    }
    let mut out = Vec::new();
    if let Some(s) = &h.md5 {
        let c = hex(&md5.finalize());
        out.push(HashCheck {
            algorithm: "MD5",
            matches: *s == c,
            stored: s.clone(),
            computed: c,
        });
    }
    if let Some(s) = &h.sha1 {
        let c = hex(&sha1.finalize());
        out.push(HashCheck {
            algorithm: "SHA-1",
            matches: *s == c,
            stored: s.clone(),
            computed: c,
        });
    }
    Ok(out)
}

/// What `info` and the scan report show of a container (serialisable).
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceSummary {
    pub format: ContainerFormat,
    pub layers: Vec<String>,
    pub acquisition: Option<AcquisitionInfo>,
    pub stored_hashes: StoredHashes,
    pub warnings: Vec<String>,
}

impl Evidence {
    pub fn summary(&self) -> EvidenceSummary {
        let mut warnings: Vec<String> = self
            .warnings
            .snapshot()
            .iter()
            .map(|w| w.to_string())
            .collect();
        let dropped = self.warnings.dropped();
        if dropped > 0 {
            warnings.push(format!("{dropped} more container warnings not kept"));
        }
        EvidenceSummary {
            format: self.format,
            layers: self.layers.clone(),
            acquisition: self.acquisition.clone(),
            stored_hashes: self.stored_hashes.clone(),
            warnings,
        }
    }

    /// Human-readable lines: the container, its layers, metadata, hashes.
    pub fn summary_lines(&self) -> Vec<String> {
        let s = self.summary();
        let mut out = vec![format!("container: {}", s.format.name())];
        out.extend(s.layers.iter().map(|l| format!("  {l}")));
        if let Some(a) = &s.acquisition {
            let fields: [(&str, Option<String>); 11] = [
                ("case number", a.case_number.clone()),
                ("evidence number", a.evidence_number.clone()),
                ("examiner", a.examiner.clone()),
                ("description", a.description.clone()),
                ("notes", a.notes.clone()),
                ("acquisition date", a.acquisition_date.clone()),
                ("system date", a.system_date.clone()),
                ("software", a.software.clone()),
                ("acquired on OS", a.os.clone()),
                (
                    "bytes per sector",
                    a.bytes_per_sector.map(|v| v.to_string()),
                ),
                ("sectors", a.sector_count.map(|v| v.to_string())),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    out.push(format!("  {k}: {}", crate::util::escape::escape_str(&v)));
                }
            }
        }
        if let Some(h) = &s.stored_hashes.md5 {
            out.push(format!("  stored MD5: {h}"));
        }
        if let Some(h) = &s.stored_hashes.sha1 {
            out.push(format!("  stored SHA-1: {h}"));
        }
        for w in &s.warnings {
            out.push(format!("  warning: {}", crate::util::escape::escape_str(w)));
        }
        out
    }
}

//! Choosing the ext filesystem inside an image: a bare filesystem, a
//! partition found by probing each entry of an MBR/GPT table, or an
//! explicit `--partition N` / `--offset BYTES`.

use super::fs::probe;
use crate::image::{read_partitions, Partition, PartitionTable, ReadAt, Slice, Source};
use crate::{Error, Result};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, Serialize)]
pub struct ExtCandidate {
    pub partition: Option<u32>,
    pub offset: u64,
    pub len: u64,
}

/// The chosen volume and what else was seen.
pub struct Located {
    pub volume: Source,
    pub image_size: u64,
    pub offset: u64,
    pub partition: Option<Partition>,
    pub table: PartitionTable,
    pub candidates: Vec<ExtCandidate>,
    /// Shown to the user when several ext filesystems exist.
    pub note: Option<String>,
}

/// Name a non-ext filesystem by its signature, for a helpful error.
pub fn identify_other(src: &dyn ReadAt) -> Option<&'static str> {
    let mut head = vec![0u8; 4096];
    let n = src.read_at(0, &mut head).ok()?;
    head.truncate(n);
    let at = |off: usize, sig: &[u8]| head.get(off..off + sig.len()) == Some(sig);
    if at(3, b"NTFS    ") {
        return Some("NTFS");
    }
    if at(0, b"XFSB") {
        return Some("XFS");
    }
    if at(0, b"LUKS\xba\xbe") {
        return Some("LUKS encrypted volume");
    }
    if at(512, b"LABELONE") {
        return Some("LVM physical volume");
    }
    if at(3, b"EXFAT   ") {
        return Some("exFAT");
    }
    if at(82, b"FAT32   ") || at(54, b"FAT16   ") || at(54, b"FAT12   ") {
        return Some("FAT");
    }
    let mut b = [0u8; 8];
    if src.read_exact_at(0x10040, &mut b).is_ok() && &b == b"_BHRfS_M" {
        return Some("btrfs");
    }
    let mut b = [0u8; 4];
    if src.read_exact_at(0x8001, &mut b[..4]).is_ok() && &b == b"CD00" {
        return Some("ISO 9660");
    }
    if src.read_exact_at(0, &mut b).is_ok() && &b == b"QFI\xfb" {
        return Some("QCOW2 disk image (give whiteout the .qcow2 file itself)");
    }
    None
}

/// [`locate`], with LVM logical volumes as volumes: `volume` (`VG/LV`)
/// reads that LV, found on the disk or its partitions; with no choice at
/// all, a disk whose partitions hold no ext filesystem has its LVs probed
/// and the first holding one is read, with a note naming the others.
pub fn locate_lvm(
    src: &Source,
    volume: Option<&str>,
    partition: Option<u32>,
    offset: Option<u64>,
    warnings: &crate::image::WarningLog,
) -> Result<Located> {
    use crate::image::{lvm, ContainerWarning};
    let scan_warn = |scan: &lvm::LvmScan| {
        for w in &scan.warnings {
            warnings.push(ContainerWarning::Structure(format!("LVM: {w}")));
        }
    };
    if let Some(v) = volume {
        let scan = lvm::scan_disk(src);
        scan_warn(&scan);
        let lv = scan.open(v, warnings)?;
        return locate(&lv, None, offset).map_err(|e| Error::usage(format!("LVM volume {v}: {e}")));
    }
    let err = match locate(src, partition, offset) {
        Ok(l) => return Ok(l),
        Err(e) if partition.is_none() && offset.is_none() => e,
        Err(e) => return Err(e),
    };
    let scan = lvm::scan_disk(src);
    let names = scan.names();
    if let Some(loc) = locate_md_raid1(src)? {
        return Ok(loc);
    }
    for name in &names {
        let Ok(lv) = scan.open(name, warnings) else {
            continue;
        };
        if probe(&*lv) {
            scan_warn(&scan);
            let mut loc = locate(&lv, None, None)?;
            loc.note = Some(format!(
                "reading LVM logical volume {name} (logical volumes: {}); use --volume VG/LV to read another",
                names.join(", ")
            ));
            return Ok(loc);
        }
    }
    // Say what the volumes are, when they are known but not readable here.
    let mut found = Vec::new();
    for (what, dev) in devices(src) {
        if let Some(sig) = crate::image::signatures::identify(&*dev) {
            found.push(format!("{what}: {}", sig.describe()));
        }
    }
    if found.is_empty() {
        Err(err)
    } else {
        Err(Error::usage(format!("{err}; {}", found.join("; "))))
    }
}

/// The whole disk and each partition of its table, named for messages.
fn devices(src: &Source) -> Vec<(String, Source)> {
    let mut out = vec![("disk".to_string(), src.clone())];
    for p in read_partitions(&**src).partitions {
        let s: Source = Arc::new(Slice::new(src.clone(), p.start, p.len));
        out.push((format!("partition {}", p.index), s));
    }
    out
}

/// The first Linux md RAID1 member (whole disk or partition) whose data
/// holds an ext filesystem, read as that data.
fn locate_md_raid1(src: &Source) -> Result<Option<Located>> {
    use crate::image::signatures::{md_member, md_raid1_data};
    for (what, dev) in devices(src) {
        let Some(m) = md_member(&*dev).filter(|m| m.level == 1) else {
            continue;
        };
        let Ok(data) = md_raid1_data(&dev, &m) else {
            continue;
        };
        if probe(&*data) {
            let mut loc = locate(&data, None, None)?;
            loc.note = Some(format!(
                "reading {what}, a Linux md RAID1 member (metadata {}, array '{}'), as its data at offset {}",
                m.metadata, m.name, m.data_offset
            ));
            return Ok(Some(loc));
        }
    }
    Ok(None)
}

/// Find the ext filesystem to read.
pub fn locate(src: &Source, partition: Option<u32>, offset: Option<u64>) -> Result<Located> {
    let table = read_partitions(&**src);
    let size = src.size();
    if let Some(off) = offset {
        if off >= size {
            return Err(Error::usage(format!(
                "--offset {off} is past the end of the image ({size} bytes)"
            )));
        }
        let vol: Source = Arc::new(Slice::new(src.clone(), off, size - off));
        if !probe(&*vol) {
            let what = identify_other(&*vol)
                .map(|w| format!(" (found {w})"))
                .unwrap_or_default();
            return Err(Error::usage(format!(
                "no ext2/3/4 superblock at offset {off}{what}"
            )));
        }
        return Ok(Located {
            volume: vol,
            image_size: size,
            offset: off,
            partition: None,
            table,
            candidates: Vec::new(),
            note: None,
        });
    }
    let mut candidates = Vec::new();
    for p in &table.partitions {
        if p.type_name == "Extended" {
            continue;
        }
        let s = Slice::new(src.clone(), p.start, p.len);
        if probe(&s) {
            candidates.push(ExtCandidate {
                partition: Some(p.index),
                offset: p.start,
                len: p.len,
            });
        }
    }
    if let Some(n) = partition {
        let Some(p) = table.partitions.iter().find(|p| p.index == n) else {
            let have: Vec<String> = table
                .partitions
                .iter()
                .map(|p| p.index.to_string())
                .collect();
            return Err(Error::usage(if have.is_empty() {
                format!("--partition {n}: the image has no partition table")
            } else {
                format!(
                    "--partition {n}: no such partition (have {})",
                    have.join(", ")
                )
            }));
        };
        let vol: Source = Arc::new(Slice::new(src.clone(), p.start, p.len));
        if !probe(&*vol) {
            let what = identify_other(&*vol)
                .map(|w| format!(" (found {w})"))
                .unwrap_or_default();
            return Err(Error::usage(format!(
                "partition {n} holds no ext2/3/4 filesystem{what}"
            )));
        }
        return Ok(Located {
            volume: vol,
            image_size: size,
            offset: p.start,
            partition: Some(p.clone()),
            table,
            candidates,
            note: None,
        });
    }
    if table.partitions.is_empty() {
        if !probe(&**src) {
            let what = identify_other(&**src)
                .map(|w| format!(": it holds {w}"))
                .unwrap_or_else(|| ": no superblock magic at byte 1080, no backup superblock, and no partition table".into());
            return Err(Error::usage(format!("not an ext2/3/4 image{what}")));
        }
        return Ok(Located {
            volume: src.clone(),
            image_size: size,
            offset: 0,
            partition: None,
            table,
            candidates: vec![ExtCandidate {
                partition: None,
                offset: 0,
                len: size,
            }],
            note: None,
        });
    }
    let Some(first) = candidates.first().cloned() else {
        let list: Vec<String> = table
            .partitions
            .iter()
            .map(|p| format!("{} ({}, offset {})", p.index, p.type_name, p.start))
            .collect();
        return Err(Error::usage(format!(
            "no ext2/3/4 filesystem in any partition: {}",
            list.join("; ")
        )));
    };
    let p = table
        .partitions
        .iter()
        .find(|p| Some(p.index) == first.partition)
        .cloned();
    let note = if candidates.len() > 1 {
        let list: Vec<String> = candidates
            .iter()
            .map(|c| {
                format!(
                    "partition {} at offset {}",
                    c.partition.unwrap_or(0),
                    c.offset
                )
            })
            .collect();
        Some(format!(
            "{} ext filesystems found ({}); reading partition {}. Use --partition N to read another.",
            candidates.len(),
            list.join(", "),
            first.partition.unwrap_or(0)
        ))
    } else {
        None
    };
    let vol: Source = Arc::new(Slice::new(src.clone(), first.offset, first.len));
    Ok(Located {
        volume: vol,
        image_size: size,
        offset: first.offset,
        partition: p,
        table,
        candidates,
        note,
    })
}

//! Partition tables: MBR (with extended/logical chains) and GPT (primary,
//! falling back to the backup header). Every LBA and count is checked
//! against the image size; a table that lies yields warnings, not a panic.

use super::ReadAt;
use crate::util::bytes::{hex, le16, le32, le64, slice};
use crate::util::crc::crc32_update;
use serde::Serialize;

const SECTOR: u64 = 512;
/// GPT entry arrays larger than this are treated as corrupt (spec minimum is 16 KiB).
const MAX_GPT_ENTRIES_BYTES: u64 = 1 << 20;
/// Bound on the EBR chain (real disks have a handful of logicals).
const MAX_LOGICAL: usize = 128;

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Mbr,
    Gpt,
}

#[derive(Clone, Debug, Serialize)]
pub struct Partition {
    /// 1-based; MBR logical partitions are numbered from 5, as Linux does.
    pub index: u32,
    pub scheme: Scheme,
    /// Byte offset and length within the image.
    pub start: u64,
    pub len: u64,
    /// MBR type byte as `0x83`, or the GPT type GUID.
    pub type_id: String,
    pub type_name: &'static str,
    pub name: String,
    /// The partition extends past the end of the image (truncated evidence).
    pub truncated: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PartitionTable {
    pub scheme: Option<Scheme>,
    pub sector_size: u64,
    pub disk_guid: Option<String>,
    pub partitions: Vec<Partition>,
    /// The GPT was read from the backup header because the primary was bad.
    pub used_backup_gpt: bool,
    pub warnings: Vec<String>,
}

fn read_sector(src: &dyn ReadAt, lba: u64, ss: u64) -> Option<Vec<u8>> {
    let mut b = vec![0u8; ss as usize];
    src.read_exact_at(lba.checked_mul(ss)?, &mut b).ok()?;
    Some(b)
}

/// Mixed-endian GUID text form.
pub fn guid(b: &[u8]) -> String {
    let b = slice(b, 0, 16);
    if b.len() < 16 {
        return String::new();
    }
    format!(
        "{:08X}-{:04X}-{:04X}-{}-{}",
        le32(b, 0),
        le16(b, 4),
        le16(b, 6),
        hex(&b[8..10]).to_uppercase(),
        hex(&b[10..16]).to_uppercase()
    )
}

fn gpt_type_name(g: &str) -> &'static str {
    match g {
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI System",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "Linux LVM",
        "A19D880F-05FC-4D3B-A006-743F0F84911E" => "Linux RAID",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" => "Linux root (x86-64)",
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915" => "Linux /home",
        "21686148-6449-6E6F-744E-656564454649" => "BIOS boot",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        _ => "unknown",
    }
}

fn mbr_type_name(t: u8) -> &'static str {
    match t {
        0x83 => "Linux",
        0x82 => "Linux swap",
        0x8e => "Linux LVM",
        0xfd => "Linux RAID",
        0x05 | 0x0f | 0x85 => "Extended",
        0x07 => "NTFS/exFAT",
        0x0b | 0x0c => "FAT32",
        0x06 | 0x0e => "FAT16",
        0xee => "GPT protective",
        0xef => "EFI System",
        _ => "unknown",
    }
}

/// Read the partition table, if any. An image with no table (a bare
/// filesystem) gives an empty list and no warning.
pub fn read_partitions(src: &dyn ReadAt) -> PartitionTable {
    let mut t = PartitionTable {
        sector_size: SECTOR,
        ..Default::default()
    };
    let size = src.size();
    let Some(mbr) = read_sector(src, 0, SECTOR) else {
        return t;
    };
    let has_sig = le16(&mbr, 510) == 0xAA55;
    // Probe GPT at 512- and 4096-byte sectors, primary then backup.
    for ss in [512u64, 4096] {
        if let Some(()) = read_gpt(src, ss, &mut t) {
            return t;
        }
    }
    if !has_sig {
        return t;
    }
    // A bare ext filesystem has no 0x55AA at 510 (its boot block is zero),
    // but FAT/NTFS boot sectors do; require plausible entries.
    let mut parts = Vec::new();
    let mut any_protective = false;
    for i in 0..4usize {
        let e = slice(&mbr, 446 + i * 16, 16);
        let status = e[0];
        let typ = e[4];
        let lba = le32(e, 8) as u64;
        let cnt = le32(e, 12) as u64;
        if typ == 0 || cnt == 0 {
            continue;
        }
        if status != 0 && status != 0x80 {
            // Not a partition table (e.g. a FAT boot sector).
            return t;
        }
        if typ == 0xee {
            any_protective = true;
            continue;
        }
        parts.push((i as u32 + 1, typ, lba, cnt));
    }
    if parts.is_empty() && !any_protective {
        return t;
    }
    t.scheme = Some(Scheme::Mbr);
    if any_protective && parts.is_empty() {
        t.warnings
            .push("protective MBR present but no readable GPT header (primary or backup)".into());
    }
    let mut next_logical = 5u32;
    for (idx, typ, lba, cnt) in parts {
        push_mbr(&mut t, size, idx, typ, lba, cnt);
        if matches!(typ, 0x05 | 0x0f | 0x85) {
            read_ebr_chain(src, &mut t, lba, cnt, &mut next_logical);
        }
    }
    t
}

fn push_mbr(t: &mut PartitionTable, size: u64, index: u32, typ: u8, lba: u64, cnt: u64) {
    let start = lba * SECTOR;
    let mut len = cnt * SECTOR;
    let truncated = start.saturating_add(len) > size;
    if truncated {
        t.warnings.push(format!(
            "partition {index} (MBR type 0x{typ:02x}) runs past the end of the image ({} > {size} bytes); reading what is present",
            start + len
        ));
        len = size.saturating_sub(start);
    }
    t.partitions.push(Partition {
        index,
        scheme: Scheme::Mbr,
        start,
        len,
        type_id: format!("0x{typ:02x}"),
        type_name: mbr_type_name(typ),
        name: String::new(),
        truncated,
    });
}

fn read_ebr_chain(
    src: &dyn ReadAt,
    t: &mut PartitionTable,
    ext_lba: u64,
    ext_cnt: u64,
    next: &mut u32,
) {
    let size = src.size();
    let mut ebr_lba = ext_lba;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_LOGICAL {
        if !seen.insert(ebr_lba) {
            t.warnings.push(format!(
                "extended partition chain loops at LBA {ebr_lba}; stopped"
            ));
            return;
        }
        let Some(ebr) = read_sector(src, ebr_lba, SECTOR) else {
            t.warnings.push(format!(
                "EBR at LBA {ebr_lba} is past the end of the image; chain stopped"
            ));
            return;
        };
        if le16(&ebr, 510) != 0xAA55 {
            t.warnings.push(format!(
                "EBR at LBA {ebr_lba} has no 0x55AA signature; chain stopped"
            ));
            return;
        }
        let e0 = slice(&ebr, 446, 16);
        let (typ, rel, cnt) = (e0[4], le32(e0, 8) as u64, le32(e0, 12) as u64);
        if typ != 0 && cnt != 0 {
            push_mbr(t, size, *next, typ, ebr_lba + rel, cnt);
            *next += 1;
        }
        let e1 = slice(&ebr, 462, 16);
        let (ntyp, nrel) = (e1[4], le32(e1, 8) as u64);
        if ntyp == 0 || nrel == 0 {
            return;
        }
        if nrel >= ext_cnt {
            t.warnings.push(format!(
                "EBR link at LBA {ebr_lba} points outside the extended partition; chain stopped"
            ));
            return;
        }
        ebr_lba = ext_lba + nrel;
    }
    t.warnings.push(format!(
        "more than {MAX_LOGICAL} logical partitions; the rest are skipped"
    ));
}

/// Validate a GPT header sector; returns (entries lba, count, entry size).
fn gpt_header_ok(h: &[u8]) -> Option<(u64, u64, u64, u32)> {
    if slice(h, 0, 8) != b"EFI PART" {
        return None;
    }
    let hsize = le32(h, 12) as usize;
    if !(92..=h.len()).contains(&hsize) {
        return None;
    }
    let mut hdr = h[..hsize].to_vec();
    hdr[16..20].fill(0);
    if !crc32_update(!0, &hdr) != le32(h, 16) {
        return None;
    }
    Some((
        le64(h, 72),
        le32(h, 80) as u64,
        le32(h, 84) as u64,
        le32(h, 88),
    ))
}

fn read_gpt(src: &dyn ReadAt, ss: u64, t: &mut PartitionTable) -> Option<()> {
    let size = src.size();
    let last_lba = (size / ss).checked_sub(1)?;
    let mut warnings = Vec::new();
    let primary = read_sector(src, 1, ss);
    let mut candidates: Vec<(Vec<u8>, bool)> = Vec::new();
    if let Some(p) = primary {
        if slice(&p, 0, 8) == b"EFI PART" {
            candidates.push((p.clone(), false));
            // The primary names where its backup lives.
            let alt = le64(&p, 32);
            if alt != 0 && alt <= last_lba && alt != last_lba {
                if let Some(b) = read_sector(src, alt, ss) {
                    candidates.push((b, true));
                }
            }
        }
    }
    if let Some(b) = read_sector(src, last_lba, ss) {
        candidates.push((b, true));
    }
    for (h, is_backup) in candidates {
        let Some((ent_lba, count, esize, ecrc)) = gpt_header_ok(&h) else {
            if !is_backup {
                warnings.push("primary GPT header checksum is bad".to_string());
            }
            continue;
        };
        if !(128..=4096).contains(&esize)
            || count == 0
            || count.saturating_mul(esize) > MAX_GPT_ENTRIES_BYTES
        {
            warnings.push(format!(
                "GPT header{} claims {count} entries of {esize} bytes; ignored",
                if is_backup { " (backup)" } else { "" }
            ));
            continue;
        }
        let bytes = count * esize;
        let Some(pos) = ent_lba.checked_mul(ss) else {
            continue;
        };
        if pos.saturating_add(bytes) > size {
            warnings.push(format!(
                "GPT{} partition entry array at LBA {ent_lba} points past the end of the image",
                if is_backup { " backup" } else { "" }
            ));
            continue;
        }
        let mut ents = vec![0u8; bytes as usize];
        if src.read_exact_at(pos, &mut ents).is_err() {
            continue;
        }
        if !crc32_update(!0, &ents) != ecrc {
            warnings.push(format!(
                "GPT{} partition entry array checksum is bad",
                if is_backup { " backup" } else { "" }
            ));
            continue;
        }
        t.scheme = Some(Scheme::Gpt);
        t.sector_size = ss;
        t.disk_guid = Some(guid(slice(&h, 56, 16)));
        t.used_backup_gpt = is_backup;
        if is_backup {
            warnings
                .push("primary GPT is damaged; partitions were read from the backup GPT".into());
        }
        for i in 0..count as usize {
            let e = slice(&ents, i * esize as usize, esize as usize);
            let tg = slice(e, 0, 16);
            if tg.iter().all(|&b| b == 0) {
                continue;
            }
            let first = le64(e, 32);
            let last = le64(e, 40);
            if last < first {
                warnings.push(format!(
                    "GPT entry {} has last LBA < first LBA; skipped",
                    i + 1
                ));
                continue;
            }
            let start = first.saturating_mul(ss);
            let mut len = (last - first + 1).saturating_mul(ss);
            let truncated = start.saturating_add(len) > size;
            if truncated {
                warnings.push(format!(
                    "GPT partition {} runs past the end of the image; reading what is present",
                    i + 1
                ));
                len = size.saturating_sub(start);
            }
            let name_units: Vec<u16> = slice(e, 56, 72)
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            let type_id = guid(tg);
            t.partitions.push(Partition {
                index: i as u32 + 1,
                scheme: Scheme::Gpt,
                start,
                len,
                type_name: gpt_type_name(&type_id),
                type_id,
                name: String::from_utf16_lossy(&name_units),
                truncated,
            });
        }
        t.warnings.extend(warnings);
        return Some(());
    }
    if !warnings.is_empty() && ss == 512 {
        t.warnings.extend(warnings);
    }
    None
}

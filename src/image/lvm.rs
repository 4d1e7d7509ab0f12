//! LVM2: physical volume labels, the text metadata of volume groups, and
//! logical volumes (linear and striped segments) read as byte sources.
//!
//! Format facts relied on (integers little-endian):
//! - The label sits in one of the first four 512-byte sectors: `LABELONE`,
//!   its own sector number (u64 at 8), a CRC (u32 at 16) over bytes 20–511,
//!   the offset of the PV header in the sector (u32 at 20), type `LVM2 001`.
//!   LVM's CRC is the reflected IEEE CRC-32 seeded with 0xf597a6cf, with no
//!   final inversion.
//! - PV header: the PV UUID (32 characters, no dashes), the device size
//!   (u64), then a zero-terminated list of data areas and one of metadata
//!   areas, each an (offset, size) pair of u64 from the start of the PV.
//! - A metadata area starts with a 512-byte header: CRC (u32 at 0, over
//!   bytes 4–511), magic ` LVM2 x[5A%r0N*>` (at 4), version (u32 at 20),
//!   the area's start and size (u64 at 24, 32), then locations (offset
//!   from the area start u64, size u64, CRC u32, flags u32). The first
//!   location is the current metadata; the area after the header is a ring
//!   that may wrap, and still holds older copies at sector boundaries.
//! - The metadata is text: `name = value` and `name { … }`, values are
//!   numbers, quoted strings or `[lists]`. The VG section holds `seqno`
//!   (higher is newer), `extent_size` (sectors), `physical_volumes` (id,
//!   pe_start in sectors) and `logical_volumes`, each with `segmentN`
//!   sections: start_extent, extent_count, type, stripe_count, stripe_size
//!   (sectors), stripes = ["pvN", first extent on that PV, …].

use super::evidence::{ContainerWarning, WarningLog};
use super::{read_partitions, ReadAt, Slice, Source};
use crate::util::bytes::{le32, le64, slice};
use crate::util::crc::crc32_update;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::io;
use std::sync::Arc;

const LABEL: &[u8; 8] = b"LABELONE";
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
const INITIAL_CRC: u32 = 0xf597_a6cf;
const SECTOR: u64 = 512;
/// Largest metadata area read, and largest metadata text.
const MAX_MDA: u64 = 16 << 20;
/// Nesting and size bounds of the metadata parser.
const MAX_DEPTH: usize = 32;
const MAX_ITEMS: usize = 1 << 20;
const MAX_SEGMENTS: usize = 1 << 16;

pub fn lvm_crc(data: &[u8]) -> u32 {
    crc32_update(INITIAL_CRC, data)
}

/// A PV label found on a source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PvLabel {
    /// As in the metadata text: 6-4-4-4-4-4-6 dashed.
    pub uuid: String,
    pub device_size: u64,
    pub metadata_areas: Vec<(u64, u64)>,
}

/// Dash a 32-character PV/VG UUID the way the metadata text writes it.
fn dashed(u: &str) -> String {
    let mut out = String::new();
    for (i, c) in u.chars().enumerate() {
        if [6, 10, 14, 18, 22, 26].contains(&i) {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The PV label in the first four sectors, if any (CRC checked).
pub fn read_label(src: &dyn ReadAt) -> Option<PvLabel> {
    for s in 0..4u64 {
        let mut b = [0u8; 512];
        src.read_exact_at(s * SECTOR, &mut b).ok()?;
        if &b[..8] != LABEL || &b[24..32] != LABEL_TYPE || lvm_crc(&b[20..]) != le32(&b, 16) {
            continue;
        }
        let h = le32(&b, 20) as usize;
        let uuid = String::from_utf8_lossy(slice(&b, h, 32)).into_owned();
        let mut at = h + 40;
        let mut lists = [Vec::new(), Vec::new()];
        for list in lists.iter_mut() {
            while at + 16 <= 512 {
                let (o, l) = (le64(&b, at), le64(&b, at + 8));
                at += 16;
                if o == 0 {
                    break;
                }
                list.push((o, l));
            }
        }
        return Some(PvLabel {
            uuid: dashed(&uuid),
            device_size: le64(&b, h + 32),
            metadata_areas: std::mem::take(&mut lists[1]),
        });
    }
    None
}

/// A value of the metadata text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Section(Vec<(String, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Section(e) => e.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn entries(&self) -> &[(String, Value)] {
        match self {
            Value::Section(e) => e,
            _ => &[],
        }
    }
}

/// Parse LVM metadata text into a section; bounded in depth and size.
pub fn parse_metadata(text: &str) -> std::result::Result<Value, String> {
    let toks = tokenize(text)?;
    let mut i = 0;
    let v = parse_section(&toks, &mut i, 0)?;
    Ok(v)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Punct(char),
}

fn tokenize(text: &str) -> std::result::Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        if out.len() > MAX_ITEMS {
            return Err("metadata has too many items".into());
        }
        match c {
            '#' => {
                while it.peek().is_some_and(|&(_, c)| c != '\n') {
                    it.next();
                }
            }
            c if c.is_whitespace() || c == '\0' => {}
            '{' | '}' | '[' | ']' | '=' | ',' => out.push(Tok::Punct(c)),
            '"' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        None => return Err("unterminated string".into()),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => s.extend(it.next().map(|x| x.1)),
                        Some((_, x)) => s.push(x),
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::from(c);
                while let Some(&(_, d)) = it.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    s.push(d);
                    it.next();
                }
                out.push(Tok::Int(s.parse().map_err(|_| format!("bad number {s}"))?));
            }
            c if c.is_alphanumeric() || "_.+".contains(c) => {
                let mut s = String::from(c);
                while let Some(&(_, d)) = it
                    .peek()
                    .filter(|(_, d)| d.is_alphanumeric() || "_.+-".contains(*d))
                {
                    s.push(d);
                    it.next();
                }
                out.push(Tok::Ident(s));
            }
            c => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(out)
}

fn parse_section(t: &[Tok], i: &mut usize, depth: usize) -> std::result::Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("metadata nested too deeply".into());
    }
    let mut entries = Vec::new();
    while let Some(tok) = t.get(*i) {
        let key = match tok {
            Tok::Punct('}') => break,
            Tok::Ident(k) => k.clone(),
            other => return Err(format!("expected a name, found {other:?}")),
        };
        *i += 1;
        match t.get(*i) {
            Some(Tok::Punct('{')) => {
                *i += 1;
                let v = parse_section(t, i, depth + 1)?;
                if t.get(*i) != Some(&Tok::Punct('}')) {
                    return Err(format!("section {key} not closed"));
                }
                *i += 1;
                entries.push((key, v));
            }
            Some(Tok::Punct('=')) => {
                *i += 1;
                let v = parse_value(t, i)?;
                entries.push((key, v));
            }
            _ => return Err(format!("expected = or {{ after {key}")),
        }
    }
    Ok(Value::Section(entries))
}

fn parse_value(t: &[Tok], i: &mut usize) -> std::result::Result<Value, String> {
    let v = match t.get(*i) {
        Some(Tok::Int(n)) => Value::Int(*n),
        Some(Tok::Str(s)) => Value::Str(s.clone()),
        Some(Tok::Punct('[')) => {
            *i += 1;
            let mut items = Vec::new();
            loop {
                match t.get(*i) {
                    Some(Tok::Punct(']')) => break,
                    Some(Tok::Punct(',')) => *i += 1,
                    Some(Tok::Int(n)) => {
                        items.push(Value::Int(*n));
                        *i += 1;
                    }
                    Some(Tok::Str(s)) => {
                        items.push(Value::Str(s.clone()));
                        *i += 1;
                    }
                    other => return Err(format!("bad list item {other:?}")),
                }
            }
            Value::List(items)
        }
        other => return Err(format!("bad value {other:?}")),
    };
    *i += 1;
    Ok(v)
}

/// The kind of a segment (a closed set; others are reported, read as zeros).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentKind {
    /// `striped` with one stripe or more: (PV name, first extent) per stripe.
    Striped {
        stripe_size: u64,
        stripes: Vec<(String, u64)>,
    },
    Zero,
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start_extent: u64,
    pub extent_count: u64,
    pub kind: SegmentKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogicalVolume {
    pub name: String,
    pub id: String,
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhysicalVolume {
    pub name: String,
    pub id: String,
    /// Start of the first extent, in bytes from the PV start.
    pub pe_start: u64,
    pub pe_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolumeGroup {
    pub name: String,
    pub id: String,
    pub seqno: u64,
    /// Bytes per extent.
    pub extent_size: u64,
    pub pvs: Vec<PhysicalVolume>,
    pub lvs: Vec<LogicalVolume>,
}

/// Read the VG out of parsed metadata (the one section holding `seqno`).
pub fn volume_group(meta: &Value) -> std::result::Result<VolumeGroup, String> {
    let (name, vg) = meta
        .entries()
        .iter()
        .find(|(_, v)| v.get("seqno").is_some() && v.get("physical_volumes").is_some())
        .ok_or("no volume group section")?;
    let num = |v: &Value, k: &str| -> std::result::Result<u64, String> {
        v.int(k)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| format!("{k} missing or negative"))
    };
    let extent_size = num(vg, "extent_size")?
        .checked_mul(SECTOR)
        .filter(|&e| e > 0)
        .ok_or("bad extent_size")?;
    let pvs = vg
        .get("physical_volumes")
        .map(|p| p.entries())
        .unwrap_or_default()
        .iter()
        .map(|(n, p)| {
            Ok(PhysicalVolume {
                name: n.clone(),
                id: p.str("id").unwrap_or_default().to_string(),
                pe_start: num(p, "pe_start")?
                    .checked_mul(SECTOR)
                    .ok_or("bad pe_start")?,
                pe_count: num(p, "pe_count")?,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let mut lvs = Vec::new();
    for (n, lv) in vg
        .get("logical_volumes")
        .map(|l| l.entries())
        .unwrap_or_default()
    {
        let mut segments = Vec::new();
        for (k, s) in lv.entries() {
            let is_section = matches!(s, Value::Section(_));
            if !k.starts_with("segment") || !is_section || segments.len() >= MAX_SEGMENTS {
                continue;
            }
            segments.push(segment(s).map_err(|e| format!("{n} {k}: {e}"))?);
        }
        segments.sort_by_key(|s| s.start_extent);
        lvs.push(LogicalVolume {
            name: n.clone(),
            id: lv.str("id").unwrap_or_default().to_string(),
            segments,
        });
    }
    Ok(VolumeGroup {
        name: name.clone(),
        id: vg.str("id").unwrap_or_default().to_string(),
        seqno: num(vg, "seqno")?,
        extent_size,
        pvs,
        lvs,
    })
}

fn segment(s: &Value) -> std::result::Result<Segment, String> {
    let num = |k: &str| {
        s.int(k)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(format!("{k} missing"))
    };
    let kind = match s.str("type").unwrap_or("") {
        "striped" => {
            let items = match s.get("stripes") {
                Some(Value::List(l)) => l.clone(),
                _ => return Err("no stripes list".into()),
            };
            let stripes: Vec<(String, u64)> = items
                .chunks(2)
                .map(|c| match c {
                    [Value::Str(pv), Value::Int(pe)] if *pe >= 0 => Ok((pv.clone(), *pe as u64)),
                    _ => Err("bad stripes entry".to_string()),
                })
                .collect::<std::result::Result<_, _>>()?;
            if stripes.is_empty() {
                return Err("empty stripes list".into());
            }
            let stripe_size = if stripes.len() > 1 {
                num("stripe_size")?
                    .checked_mul(SECTOR)
                    .ok_or("stripe_size overflows")?
            } else {
                0
            };
            if stripes.len() > 1 && stripe_size == 0 {
                return Err("striped segment without stripe_size".into());
            }
            SegmentKind::Striped {
                stripe_size,
                stripes,
            }
        }
        "zero" => SegmentKind::Zero,
        other => SegmentKind::Unsupported(other.to_string()),
    };
    Ok(Segment {
        start_extent: num("start_extent")?,
        extent_count: num("extent_count")?,
        kind,
    })
}

/// Read one metadata area: the current text (CRC checked), or else the
/// newest parseable copy left in the ring.
fn read_mda(pv: &dyn ReadAt, off: u64, size: u64, w: &mut Vec<String>) -> Option<VolumeGroup> {
    let mut h = [0u8; 512];
    pv.read_exact_at(off, &mut h).ok()?;
    if &h[4..20] != MDA_MAGIC {
        w.push(format!("metadata area at {off}: no LVM2 magic"));
        return None;
    }
    if lvm_crc(&h[4..]) != le32(&h, 0) {
        w.push(format!(
            "metadata area at {off}: header checksum mismatch; read anyway"
        ));
    }
    let size = le64(&h, 32).min(size.max(le64(&h, 32))).min(MAX_MDA);
    if size <= 512 {
        return None;
    }
    let mut area = vec![0u8; size as usize];
    let n = pv.read_at(off, &mut area).unwrap_or(0);
    area.truncate(n);
    let (loc, len, crc) = (le64(&h, 40), le64(&h, 48), le32(&h, 56));
    if len > 0 && len < size {
        // The text may wrap from the end of the area to just after its header.
        let mut text = Vec::with_capacity(len as usize);
        let first = slice(&area, loc as usize, len as usize);
        text.extend_from_slice(first);
        let rest = len as usize - first.len();
        text.extend_from_slice(slice(&area, 512, rest));
        if text.len() == len as usize && lvm_crc(&text) == crc {
            let vg = parse_metadata(&String::from_utf8_lossy(&text)).and_then(|m| volume_group(&m));
            match vg {
                Ok(vg) => return Some(vg),
                Err(e) => w.push(format!("metadata at {}: {e}", off.saturating_add(loc))),
            }
        } else {
            w.push(format!(
                "metadata at {}: checksum mismatch; looking for older copies in the ring",
                off.saturating_add(loc)
            ));
        }
    }
    ring_copies(&area, off, w)
}

/// The copy with the highest seqno among the texts at sector boundaries.
fn ring_copies(area: &[u8], off: u64, w: &mut Vec<String>) -> Option<VolumeGroup> {
    let mut best: Option<VolumeGroup> = None;
    for at in (512..area.len()).step_by(512) {
        let b = &area[at..];
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        let head = &b[..end.min(256)];
        if !head.contains(&b'{') || !head.windows(4).any(|x| x == b"id =") {
            continue;
        }
        let Ok(meta) = parse_metadata(&String::from_utf8_lossy(&b[..end])) else {
            continue;
        };
        if let Ok(vg) = volume_group(&meta) {
            if best.as_ref().is_none_or(|x| vg.seqno > x.seqno) {
                best = Some(vg);
            }
        }
    }
    if let Some(vg) = &best {
        w.push(format!(
            "metadata area at {off}: using the ring copy with seqno {}",
            vg.seqno
        ));
    }
    best
}

/// What a scan of candidate devices found.
#[derive(Default)]
pub struct LvmScan {
    pub vgs: Vec<VolumeGroup>,
    /// PV UUID (dashed) → its device.
    pub pvs: HashMap<String, Source>,
    pub warnings: Vec<String>,
}

/// Scan devices (named for messages) for PV labels and metadata; per VG,
/// the copy with the highest seqno wins.
pub fn scan(devices: &[(String, Source)]) -> LvmScan {
    let mut s = LvmScan::default();
    for (name, dev) in devices {
        let Some(label) = read_label(&**dev) else {
            continue;
        };
        s.pvs.insert(label.uuid.clone(), dev.clone());
        let mut w = Vec::new();
        for &(off, size) in label.metadata_areas.iter().take(2) {
            if let Some(vg) = read_mda(&**dev, off, size, &mut w) {
                match s.vgs.iter_mut().find(|v| v.id == vg.id) {
                    Some(old) if old.seqno >= vg.seqno => {}
                    Some(old) => *old = vg,
                    None => s.vgs.push(vg),
                }
            }
        }
        s.warnings
            .extend(w.into_iter().map(|m| format!("{name}: {m}")));
    }
    s
}

/// Scan a disk: the whole of it and each partition of its table.
pub fn scan_disk(disk: &Source) -> LvmScan {
    let mut devs = vec![("disk".to_string(), disk.clone())];
    for p in read_partitions(&**disk).partitions {
        let s: Source = Arc::new(Slice::new(disk.clone(), p.start, p.len));
        devs.push((format!("partition {}", p.index), s));
    }
    scan(&devs)
}

impl LvmScan {
    /// `VG/LV` names of every logical volume, in metadata order.
    pub fn names(&self) -> Vec<String> {
        self.vgs
            .iter()
            .flat_map(|vg| {
                vg.lvs
                    .iter()
                    .map(move |lv| format!("{}/{}", vg.name, lv.name))
            })
            .collect()
    }

    /// Open `VG/LV` as a byte source; segments on missing PVs read as zeros
    /// and are reported in `warnings`.
    pub fn open(&self, name: &str, warnings: &WarningLog) -> Result<Source> {
        let (vgn, lvn) = name
            .split_once('/')
            .ok_or_else(|| Error::usage(format!("--volume takes VG/LV, not '{name}'")))?;
        let vg = self.vgs.iter().find(|v| v.name == vgn);
        let lv = vg.and_then(|v| v.lvs.iter().find(|l| l.name == lvn));
        let (Some(vg), Some(lv)) = (vg, lv) else {
            let all = self.names();
            return Err(Error::usage(format!(
                "no LVM logical volume {name}; found: {}",
                if all.is_empty() {
                    "none".to_string()
                } else {
                    all.join(", ")
                }
            )));
        };
        let mut segs = Vec::new();
        for s in &lv.segments {
            let start = s.start_extent.checked_mul(vg.extent_size);
            let len = s.extent_count.checked_mul(vg.extent_size);
            let (Some(start), Some(len)) = (start, len) else {
                return Err(Error::corrupt(format!("{name}: segment extents overflow")));
            };
            segs.push(LvSegment {
                start,
                len,
                areas: self.areas(vg, s, name, warnings),
                stripe_size: match &s.kind {
                    SegmentKind::Striped { stripe_size, .. } => *stripe_size,
                    _ => 0,
                },
            });
        }
        let size = segs
            .iter()
            .map(|s| s.start.saturating_add(s.len))
            .max()
            .unwrap_or(0);
        Ok(Arc::new(LvReader { segs, size }))
    }

    /// (device, byte offset of the stripe's first extent) per stripe.
    fn areas(
        &self,
        vg: &VolumeGroup,
        s: &Segment,
        name: &str,
        w: &WarningLog,
    ) -> Vec<Option<(Source, u64)>> {
        let stripes = match &s.kind {
            SegmentKind::Striped { stripes, .. } => stripes,
            SegmentKind::Zero => return Vec::new(),
            SegmentKind::Unsupported(t) => {
                w.push(ContainerWarning::Structure(format!(
                    "{name}: segment type '{t}' at extent {} not supported; it reads as zeros",
                    s.start_extent
                )));
                return Vec::new();
            }
        };
        stripes
            .iter()
            .map(|(pvn, pe)| {
                let pv = vg.pvs.iter().find(|p| &p.name == pvn);
                let dev = pv.and_then(|p| self.pvs.get(&p.id));
                let off = pv.and_then(|p| pe.checked_mul(vg.extent_size)?.checked_add(p.pe_start));
                match (dev, off) {
                    (Some(d), Some(o)) => Some((d.clone(), o)),
                    _ => {
                        w.push(ContainerWarning::Structure(format!(
                            "{name}: {pvn} ({}) not found; its extents read as zeros",
                            pv.map(|p| p.id.as_str()).unwrap_or("not in the metadata")
                        )));
                        None
                    }
                }
            })
            .collect()
    }
}

struct LvSegment {
    start: u64,
    len: u64,
    /// Empty for zero segments; None for a missing PV.
    areas: Vec<Option<(Source, u64)>>,
    stripe_size: u64,
}

/// A logical volume: segments laid out by extent.
struct LvReader {
    segs: Vec<LvSegment>,
    size: u64,
}

impl ReadAt for LvReader {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let Some(seg) = self
            .segs
            .iter()
            .find(|s| pos >= s.start && pos - s.start < s.len)
        else {
            // A gap between segments: zeros up to the next one.
            let next = self
                .segs
                .iter()
                .map(|s| s.start)
                .filter(|&s| s > pos)
                .min()
                .unwrap_or(self.size);
            let n = (buf.len() as u64).min(next - pos) as usize;
            buf[..n].fill(0);
            return Ok(n);
        };
        let r = pos - seg.start;
        let mut n = (buf.len() as u64).min(seg.len - r);
        let (area, at) = match seg.areas.len() {
            0 => (None, 0),
            1 => (seg.areas[0].as_ref(), r),
            k => {
                let ss = seg.stripe_size;
                let chunk = r / ss;
                n = n.min(ss - r % ss);
                let row = chunk / k as u64;
                (
                    seg.areas[(chunk % k as u64) as usize].as_ref(),
                    row * ss + r % ss,
                )
            }
        };
        let buf = &mut buf[..n as usize];
        match area {
            Some((dev, base)) => {
                let got = dev.read_at(base.saturating_add(at), buf)?;
                buf[got..].fill(0);
            }
            None => buf.fill(0),
        }
        Ok(n as usize)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lying_segment_numbers_are_errors() {
        let meta = |stripe_size: &str| {
            format!(
                "vg {{ id = \"v\" seqno = 1 extent_size = 8 physical_volumes {{ pv0 {{ id = \"p\" pe_start = 1 pe_count = 4 }} }}\n\
                 logical_volumes {{ lv {{ segment1 {{ start_extent = 0 extent_count = 2 type = \"striped\"\n\
                 stripe_count = 2 stripe_size = {stripe_size} stripes = [\"pv0\", 0, \"pv0\", 1] }} }} }} }}"
            )
        };
        let vg = volume_group(&parse_metadata(&meta("128")).unwrap()).unwrap();
        assert_eq!(
            vg.lvs[0].segments[0].kind,
            SegmentKind::Striped {
                stripe_size: 65536,
                stripes: vec![("pv0".into(), 0), ("pv0".into(), 1)],
            }
        );
        let e = volume_group(&parse_metadata(&meta("9223372036854775807")).unwrap()).err();
        assert_eq!(e.as_deref(), Some("lv segment1: stripe_size overflows"));
        let e = volume_group(&parse_metadata(&meta("0")).unwrap()).err();
        assert_eq!(
            e.as_deref(),
            Some("lv segment1: striped segment without stripe_size")
        );
        assert_eq!(
            dashed("NXmAo8oscMsXXs3jcdH2jh16o3lfrKIJ"),
            "NXmAo8-oscM-sXXs-3jcd-H2jh-16o3-lfrKIJ"
        );
    }
}

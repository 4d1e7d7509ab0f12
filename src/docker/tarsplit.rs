//! Layer integrity: compare a layer directory with the tar-split metadata
//! (`layerdb/sha256/<chain>/tar-split.json.gz`) recorded when the layer
//! was unpacked. Each line is a JSON object; type 1 entries carry the
//! file `name`, `size` and `payload` (base64 of the big-endian CRC-64/ISO
//! of the file data); type 2 entries carry raw tar header bytes (base64),
//! from which the entry's type and link target are read.

use super::base64;
use super::fsutil::{self, lossy};
use super::images::Layer;
use crate::ext4::inode::FileType;
use crate::ext4::Filesystem;
use crate::util::crc::crc64_iso_update;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read};

/// Largest compressed tar-split read, and the inflated line budget.
const MAX_COMPRESSED: u64 = 256 << 20;
const MAX_INFLATED: u64 = 2 << 30;
const MAX_LINE: usize = 64 << 20;
const MAX_ENTRIES: usize = 10_000_000;

/// One file entry of the original layer tar.
#[derive(Clone, Debug, Serialize)]
pub struct TarEntry {
    /// Normalised name: no leading `./` or `/`, no trailing `/`.
    pub name: String,
    pub size: u64,
    pub crc64: Option<u64>,
    /// Tar typeflag (`0` file, `1` hard link, `2` symlink, `5` dir, ...),
    /// from the raw header; `?` when unknown.
    pub typeflag: char,
    pub linkname: Option<String>,
}

/// The fields of a tar-split line, typed. A line these types do not fit
/// (a duplicate key, a number where a string belongs, ...) is read again
/// as a `serde_json::Value` and its fields taken as that gives them: the
/// typed read only saves a map per line, it changes no result.
#[derive(serde::Deserialize)]
struct RawLine<'a> {
    #[serde(rename = "type")]
    ty: Option<u64>,
    #[serde(borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
    size: Option<u64>,
    #[serde(borrow)]
    payload: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> RawLine<'a> {
    fn read(line: &'a [u8]) -> Option<RawLine<'a>> {
        if let Ok(l) = serde_json::from_slice::<RawLine>(line) {
            return Some(l);
        }
        let v = serde_json::from_slice::<serde_json::Value>(line).ok()?;
        let text = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(|x| x.to_owned().into())
        };
        Some(RawLine {
            ty: v.get("type").and_then(|t| t.as_u64()),
            name: text("name"),
            size: v.get("size").and_then(|n| n.as_u64()),
            payload: text("payload"),
        })
    }
}

/// Parse inflated tar-split JSON lines.
pub fn parse<R: BufRead>(mut r: R, warnings: &mut Vec<String>) -> Vec<TarEntry> {
    let mut out = Vec::new();
    let mut last_hdr: Vec<u8> = Vec::new();
    let mut line = Vec::new();
    let mut bad = 0usize;
    loop {
        line.clear();
        match (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                warnings.push(format!(
                    "tar-split: read error {e}; {} entries kept",
                    out.len()
                ));
                break;
            }
        }
        if line.len() > MAX_LINE {
            warnings.push("tar-split: a line longer than 64 MiB; stopped".into());
            break;
        }
        if out.len() >= MAX_ENTRIES {
            warnings.push(format!(
                "tar-split: more than {MAX_ENTRIES} entries; rest skipped"
            ));
            break;
        }
        let Some(v) = RawLine::read(&line) else {
            if !line.iter().all(|c| c.is_ascii_whitespace()) {
                bad += 1;
            }
            continue;
        };
        match v.ty {
            Some(2) => {
                if let Some(p) = v.payload.as_deref() {
                    if let Some(b) = base64::decode(p) {
                        last_hdr.extend_from_slice(&b);
                        if last_hdr.len() > 4096 {
                            let cut = last_hdr.len() - 512;
                            last_hdr.drain(..cut);
                        }
                    }
                }
            }
            Some(1) => {
                let raw_name = v.name.as_deref().unwrap_or("");
                let size = v.size.unwrap_or(0);
                let crc64 = v
                    .payload
                    .as_deref()
                    .and_then(base64::decode)
                    .filter(|b| b.len() == 8)
                    .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
                let (mut typeflag, mut linkname) = ('?', None);
                if last_hdr.len() >= 512 {
                    let h = &last_hdr[last_hdr.len() - 512..];
                    if &h[257..262] == b"ustar" || h[156] != 0 || h[0] != 0 {
                        typeflag = if h[156] == 0 { '0' } else { h[156] as char };
                        let ln = crate::util::bytes::cstr(h, 157, 100);
                        if !ln.is_empty() {
                            linkname = Some(lossy(&ln));
                        }
                    }
                }
                if raw_name.ends_with('/') && typeflag == '?' {
                    typeflag = '5';
                }
                let mut name = raw_name
                    .trim_start_matches("./")
                    .trim_start_matches('/')
                    .to_string();
                while name.ends_with('/') {
                    name.pop();
                }
                last_hdr.clear();
                out.push(TarEntry {
                    name,
                    size,
                    crc64,
                    typeflag,
                    linkname,
                });
            }
            _ => bad += 1,
        }
    }
    if bad > 0 {
        warnings.push(format!("tar-split: {bad} malformed line(s) skipped"));
    }
    out
}

/// One difference between the tar and the directory.
#[derive(Clone, Debug, Serialize)]
pub struct Altered {
    pub path: String,
    pub what: String,
}

/// Verdict for one layer.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Integrity {
    /// `intact`, `modified`, or `unverifiable` (no tar-split / no dir).
    pub verdict: String,
    pub tar_entries: usize,
    pub files_checked: usize,
    pub added: Vec<String>,
    pub missing: Vec<String>,
    pub altered: Vec<Altered>,
    pub warnings: Vec<String>,
}

struct CrcWriter(u64);
impl std::io::Write for CrcWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 = crc64_iso_update(self.0, b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// CRC-64/ISO (Go `hash/crc64`) of an inode's content, streamed.
pub fn crc64_of(fs: &Filesystem, ino: &crate::ext4::Inode) -> crate::Result<u64> {
    let mut w = CrcWriter(0);
    fs.stream_content(ino, &mut w)?;
    Ok(w.0)
}

/// The tar entries of a layer, from its tar-split file.
pub fn read_tar_split(
    fs: &Filesystem,
    layer: &Layer,
    warnings: &mut Vec<String>,
) -> Option<Vec<TarEntry>> {
    let dir = fs.resolve(&layer.layerdb_path, true).ok()?;
    let e = fsutil::child(fs, dir, b"tar-split.json.gz")?;
    let ino = fs.inode(e.inode).ok()?;
    if ino.size > MAX_COMPRESSED {
        warnings.push(format!(
            "tar-split of {} is {} bytes; not read",
            layer.chain_id, ino.size
        ));
        return None;
    }
    let raw = match fs.read_content(&ino, 0, ino.size) {
        Ok(r) => r,
        Err(err) => {
            warnings.push(format!("tar-split of {}: {err}", layer.chain_id));
            return None;
        }
    };
    let gz = flate2::read::MultiGzDecoder::new(&raw[..]).take(MAX_INFLATED);
    Some(parse(std::io::BufReader::new(gz), warnings))
}

/// Compare one layer directory with its tar-split.
pub fn verify_layer(fs: &Filesystem, layer: &Layer) -> Integrity {
    let mut it = Integrity::default();
    let Some(dir_ino) = layer.dir_inode else {
        it.verdict = "unverifiable".into();
        it.warnings.push("layer directory missing".into());
        return it;
    };
    let Some(entries) = read_tar_split(fs, layer, &mut it.warnings) else {
        it.verdict = "unverifiable".into();
        it.warnings.push("no readable tar-split.json.gz".into());
        return it;
    };
    it.tar_entries = entries.len();
    let aufs = layer.driver == "aufs";
    // Expected on-disk state.
    #[derive(Debug)]
    enum Want {
        Whiteout,
        Entry(TarEntry),
    }
    let mut want: BTreeMap<String, Want> = BTreeMap::new();
    let mut want_opaque: BTreeSet<String> = BTreeSet::new();
    for e in entries {
        if e.name.is_empty() || e.name == "." {
            continue;
        }
        let (parent, base) = match e.name.rsplit_once('/') {
            Some((p, b)) => (p.to_string(), b.to_string()),
            None => (String::new(), e.name.clone()),
        };
        if !aufs {
            if base == ".wh..wh..opq" {
                want_opaque.insert(format!("/{parent}").trim_end_matches('/').to_string());
                continue;
            }
            if base.starts_with(".wh..wh.") {
                continue;
            }
            if let Some(real) = base.strip_prefix(".wh.") {
                let p = if parent.is_empty() {
                    format!("/{real}")
                } else {
                    format!("/{parent}/{real}")
                };
                want.insert(p, Want::Whiteout);
                continue;
            }
        }
        want.insert(format!("/{}", e.name), Want::Entry(e));
    }
    let mut disk: BTreeMap<String, u32> = BTreeMap::new();
    let _ = fs.walk(dir_ino, b"", &mut |w| {
        disk.insert(lossy(w.path), w.entry.inode);
    });
    for (p, w) in &want {
        let Some(&ino) = disk.get(p) else {
            it.missing.push(p.clone());
            continue;
        };
        let Ok(i) = fs.inode(ino) else {
            it.altered.push(Altered {
                path: p.clone(),
                what: "inode unreadable".into(),
            });
            continue;
        };
        match w {
            Want::Whiteout => {
                if !i.is_whiteout_device() {
                    it.altered.push(Altered {
                        path: p.clone(),
                        what: format!("tar has a whiteout, disk has a {:?}", i.file_type()),
                    });
                }
            }
            Want::Entry(e) => {
                let ft = i.file_type();
                let want_ft = match e.typeflag {
                    '0' | '7' | '1' => Some(FileType::Regular),
                    '2' => Some(FileType::Symlink),
                    '3' => Some(FileType::CharDev),
                    '4' => Some(FileType::BlockDev),
                    '5' => Some(FileType::Dir),
                    '6' => Some(FileType::Fifo),
                    _ => None,
                };
                if let Some(wf) = want_ft {
                    if wf != ft {
                        it.altered.push(Altered {
                            path: p.clone(),
                            what: format!("type {ft:?}, tar says {wf:?}"),
                        });
                        continue;
                    }
                }
                match ft {
                    FileType::Regular if e.typeflag != '1' => {
                        it.files_checked += 1;
                        if i.size != e.size {
                            it.altered.push(Altered {
                                path: p.clone(),
                                what: format!("size {} (tar: {})", i.size, e.size),
                            });
                        } else if let Some(want_crc) = e.crc64 {
                            match crc64_of(fs, &i) {
                                Ok(c) if c == want_crc => {}
                                Ok(c) => it.altered.push(Altered {
                                    path: p.clone(),
                                    what: format!("content CRC-64 {c:016x} (tar: {want_crc:016x})"),
                                }),
                                Err(err) => it.altered.push(Altered {
                                    path: p.clone(),
                                    what: format!("content unreadable: {err}"),
                                }),
                            }
                        }
                    }
                    FileType::Symlink => {
                        if let (Some(l), Ok(t)) = (&e.linkname, fs.symlink_target(&i)) {
                            if lossy(&t) != *l {
                                it.altered.push(Altered {
                                    path: p.clone(),
                                    what: format!("symlink target {:?} (tar: {l:?})", lossy(&t)),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for (p, &ino) in &disk {
        if want.contains_key(p) {
            continue;
        }
        // aufs housekeeping is not part of the layer.
        if aufs
            && p.rsplit('/')
                .next()
                .is_some_and(|b| b.starts_with(".wh..wh."))
        {
            continue;
        }
        let what = match fs.inode(ino) {
            Ok(i) if i.is_whiteout_device() => format!("{p} (whiteout)"),
            _ => p.clone(),
        };
        it.added.push(what);
    }
    // Opaque marks.
    for p in &want_opaque {
        let target = if p.is_empty() {
            Some(dir_ino)
        } else {
            disk.get(p).copied()
        };
        let ok = target
            .and_then(|t| fs.inode(t).ok())
            .map(|i| {
                let x = fs.xattrs(&i);
                x.get(b"trusted.overlay.opaque")
                    .or_else(|| x.get(b"user.overlay.opaque"))
                    .map(|a| a.value == b"y")
                    .unwrap_or(false)
            })
            .unwrap_or(false);
        if !ok {
            it.altered.push(Altered {
                path: if p.is_empty() { "/".into() } else { p.clone() },
                what: "tar marks it opaque, disk has no opaque xattr".into(),
            });
        }
    }
    it.verdict = if it.added.is_empty() && it.missing.is_empty() && it.altered.is_empty() {
        "intact".into()
    } else {
        "modified".into()
    };
    it
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_fallback_lines_read_alike() {
        let text = concat!(
            "{\"type\":1,\"name\":\"./a/\",\"size\":0,\"payload\":null,\"position\":0}\n",
            // A duplicate key: read as a Value, the last one wins.
            "{\"type\":1,\"name\":\"b\",\"name\":\"c\",\"size\":5,\"payload\":\"AAAAAAAAAAE=\"}\n",
            // A string size: read as a Value, no size.
            "{\"type\":1,\"name\":\"d\",\"size\":\"x\"}\n",
            "[1,2]\n",
            "\n",
            "{\"type\":3}\n",
        );
        let mut w = Vec::new();
        let e = parse(text.as_bytes(), &mut w);
        let got: Vec<(&str, u64, Option<u64>, char)> = e
            .iter()
            .map(|e| (e.name.as_str(), e.size, e.crc64, e.typeflag))
            .collect();
        assert_eq!(
            got,
            [
                ("a", 0, None, '5'),
                ("c", 5, Some(1), '?'),
                ("d", 0, None, '?')
            ]
        );
        assert_eq!(w, ["tar-split: 2 malformed line(s) skipped"]);
    }
}

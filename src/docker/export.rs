//! `docker export` of a merged view: a deterministic tar (names in byte
//! order, depth first; times, owners and modes from the providing inode).

use super::overlay::{MergedEntry, MergedView};
use super::tar::{TarHeader, TarWriter};
use crate::ext4::inode::FileType;
use crate::util::escape::escape_bytes;
use crate::{Error, Result};
use std::collections::HashMap;
use std::io::Write;

#[derive(Debug, Default, serde::Serialize)]
pub struct ExportStats {
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
    pub skipped: Vec<String>,
}

/// Write the merged view below `/` as a tar to `w`.
pub fn export_tar<W: Write>(view: &MergedView, w: W) -> Result<(W, ExportStats)> {
    let fs = view.fs;
    let mut tw = TarWriter::new(w);
    let mut stats = ExportStats::default();
    let mut links: HashMap<(usize, u32), Vec<u8>> = HashMap::new();
    let root = view.root()?;
    let werr = |e: std::io::Error| Error::io("writing the tar", e);
    let mut f = |e: &MergedEntry| -> Result<()> {
        let i = &e.inode;
        let rel = e.path.strip_prefix(b"/").unwrap_or(&e.path).to_vec();
        let Some((uid, gid)) = view.mapped_ids(i) else {
            stats.skipped.push(format!(
                "{} (owner {}:{} on disk lies outside the userns-remap range; docker export drops it too)",
                escape_bytes(&e.path),
                i.uid,
                i.gid
            ));
            return Ok(());
        };
        let mut h = TarHeader {
            path: rel.clone(),
            mode: i.perm() as u32,
            uid: uid as u64,
            gid: gid as u64,
            mtime: i.mtime.secs,
            ..Default::default()
        };
        match i.file_type() {
            FileType::Dir => {
                h.path.push(b'/');
                h.typeflag = b'5';
            }
            FileType::Regular => {
                if i.links_count > 1 {
                    if let Some(first) = links.get(&(e.layer, i.ino)) {
                        h.typeflag = b'1';
                        h.linkname = first.clone();
                        tw.header(&h).map_err(werr)?;
                        stats.entries += 1;
                        return Ok(());
                    }
                    links.insert((e.layer, i.ino), rel.clone());
                }
                h.typeflag = b'0';
                h.size = fs.content_size(i);
                tw.header(&h).map_err(werr)?;
                let mut cw = Counting { w: tw.data(), n: 0 };
                if let Err(err) = fs.stream_content(i, &mut cw) {
                    return Err(Error::corrupt(format!(
                        "{}: content unreadable mid-entry ({err}); the tar would be inconsistent",
                        escape_bytes(&e.path)
                    )));
                }
                let n = cw.n;
                if n != h.size {
                    return Err(Error::corrupt(format!(
                        "{}: wrote {n} bytes, header says {}",
                        escape_bytes(&e.path),
                        h.size
                    )));
                }
                tw.end_data(n).map_err(werr)?;
                stats.files += 1;
                stats.bytes += n;
                stats.entries += 1;
                return Ok(());
            }
            FileType::Symlink => {
                h.typeflag = b'2';
                h.linkname = fs.symlink_target(i).unwrap_or_default();
            }
            FileType::CharDev | FileType::BlockDev => {
                h.typeflag = if i.file_type() == FileType::CharDev {
                    b'3'
                } else {
                    b'4'
                };
                let (ma, mi) = i.rdev().unwrap_or((0, 0));
                h.devmajor = ma;
                h.devminor = mi;
            }
            FileType::Fifo => h.typeflag = b'6',
            FileType::Socket | FileType::Unknown => {
                stats
                    .skipped
                    .push(format!("{} ({:?})", escape_bytes(&e.path), i.file_type()));
                return Ok(());
            }
        }
        tw.header(&h).map_err(werr)?;
        stats.entries += 1;
        Ok(())
    };
    view.walk(&root, &mut f, &mut |_| Ok(()))?;
    let w = tw.finish().map_err(werr)?;
    Ok((w, stats))
}

struct Counting<'a, W: Write> {
    w: &'a mut W,
    n: u64,
}
impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let k = self.w.write(b)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

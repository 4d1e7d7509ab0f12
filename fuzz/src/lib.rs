//! Shared helpers for the fuzz targets: committed fixtures inflated once,
//! and a copy-on-read overlay that patches fuzz bytes into one area of an
//! image without copying the whole image per input.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use whiteout::ext4::volume::locate;
use whiteout::ext4::Filesystem;
use whiteout::image::{self, ReadAt, Source};

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// Inflated bytes of a committed fixture (bare ext4 images only).
pub fn fixture(rel: &str) -> Arc<Vec<u8>> {
    let src = image::open(&testdata().join(rel)).expect("fixture");
    let mut v = vec![0u8; src.size() as usize];
    src.read_exact_at(0, &mut v).expect("fixture read");
    Arc::new(v)
}

macro_rules! cached {
    ($name:ident, $rel:expr) => {
        pub fn $name() -> Arc<Vec<u8>> {
            static C: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
            C.get_or_init(|| fixture($rel)).clone()
        }
    };
}
cached!(blk1k, "ext4/blk1k.img.gz");
cached!(inline, "ext4/inline.img.gz");
cached!(overlay, "ext4/overlay.img.gz");
cached!(del_inline, "deleted/del-inline.img.gz");
cached!(del_dirty, "deleted/del-dirty.img.gz");
cached!(docker_aufs, "docker-synthetic/docker-aufs.img.gz");

/// `base` with `patches` (offset, bytes) laid over it.
pub struct Overlay {
    base: Arc<Vec<u8>>,
    patches: Vec<(u64, Vec<u8>)>,
}

impl Overlay {
    pub fn new(base: Arc<Vec<u8>>) -> Overlay {
        Overlay {
            base,
            patches: Vec::new(),
        }
    }
    pub fn patch(mut self, off: u64, data: &[u8]) -> Overlay {
        if !data.is_empty() {
            self.patches.push((off, data.to_vec()));
        }
        self
    }
    pub fn source(self) -> Source {
        Arc::new(self)
    }
}

impl ReadAt for Overlay {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.base.read_at(pos, buf)?;
        let end = pos + n as u64;
        for (off, data) in &self.patches {
            let pend = off + data.len() as u64;
            let lo = pos.max(*off);
            let hi = end.min(pend);
            if lo < hi {
                buf[(lo - pos) as usize..(hi - pos) as usize]
                    .copy_from_slice(&data[(lo - off) as usize..(hi - off) as usize]);
            }
        }
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.base.len() as u64
    }
}

/// The unpatched filesystem of a base image (to find where areas are).
pub fn base_fs(base: &Arc<Vec<u8>>) -> Filesystem {
    let src: Source = base.clone();
    Filesystem::open(src).expect("base fs")
}

/// Open whatever is in `src` the way the CLI does (partition probe).
pub fn open_fs(src: Source) -> Option<Filesystem> {
    let loc = locate(&src, None, None).ok()?;
    Filesystem::open(loc.volume).ok()
}

/// Bounded exercise of everything the ext4 layer offers for one filesystem:
/// walk (capped), inode decode, block maps, content, xattrs, symlinks.
pub fn exercise(fs: &Filesystem, max_entries: usize) {
    let mut inos = Vec::new();
    let _ = fs.walk(2, b"", &mut |w| {
        if inos.len() < max_entries {
            inos.push(w.entry.inode);
        }
    });
    for ino in inos {
        exercise_inode(fs, ino);
    }
}

pub fn exercise_inode(fs: &Filesystem, ino: u32) {
    use whiteout::ext4::inode::FileType;
    let Ok(i) = fs.inode(ino) else { return };
    let _ = fs.block_map(&i);
    let _ = fs.xattrs(&i);
    match i.file_type() {
        FileType::Regular => {
            let _ = fs.read_content(&i, 0, 1 << 16);
            let _ = fs.content_size(&i);
        }
        FileType::Dir => {
            let _ = fs.read_dir(&i);
        }
        FileType::Symlink => {
            let _ = fs.symlink_target(&i);
        }
        _ => {}
    }
}

/// The whole-image input format (`whole_image`, `scan`): byte 0 < 200 picks a
/// base fixture (byte 0 % 4) and the rest is `[u32 LE offset][u8 len][len
/// bytes]...` patches; byte 0 >= 200: the rest is the image itself.
pub fn whole_image_input(data: &[u8]) -> Option<Source> {
    let first = *data.first()?;
    if first >= 200 {
        return Some(Arc::new(data[1..].to_vec()));
    }
    let base = match first % 4 {
        0 => docker_aufs(),
        1 => inline(),
        2 => del_inline(),
        _ => overlay(),
    };
    let size = base.len() as u64;
    let mut o = Overlay::new(base);
    let mut p = &data[1..];
    while p.len() >= 5 {
        let off = u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as u64 % size;
        let n = (p[4] as usize).min(p.len() - 5);
        o = o.patch(off, &p[5..5 + n]);
        p = &p[5 + n..];
    }
    Some(o.source())
}

//! A container's layer stack and its merged view, rebuilt from the layer
//! directories the way overlayfs (or aufs) would combine them:
//! 0/0 character-device whiteouts, xattr whiteouts (`overlay.whiteout`),
//! opaque directories (`trusted.`/`user.overlay.opaque = y`), directory
//! redirects (`overlay.redirect`), aufs `.wh.` marks; copy-up origins
//! (`overlay.origin` file handles) are decoded and linked to the lower inode.

use super::fsutil::{self, join, join_into, lossy};
pub use super::listing_cache::ListingCache;
use super::listing_cache::{CacheUse, CachedEntry};
use crate::ext4::dir::DirEntry;
use crate::ext4::inode::{FileType, Inode};
use crate::ext4::path::MAX_WALK_DEPTH;
use crate::ext4::Filesystem;
use crate::util::escape::escape_bytes;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Symlink hops allowed inside a merged view (the kernel's MAXSYMLINKS).
const MAX_HOPS: usize = 40;
/// Most entries a merged walk yields (hostile trees).
pub const MAX_WALK_ENTRIES: usize = 10_000_000;

/// How whiteouts are written in a layer directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerFormat {
    /// overlay / overlay2 / containerd overlayfs: 0/0 char devices, xattrs.
    Overlay,
    /// aufs: `.wh.<name>` files, `.wh..wh..opq`.
    Aufs,
}

/// What a layer is to a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerRole {
    /// The container's writable layer.
    Upper,
    /// The `-init` layer dockerd writes below it (hostname, resolv.conf).
    Init,
    /// A layer of its image.
    Image,
}

impl LayerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerRole::Upper => "upper",
            LayerRole::Init => "init",
            LayerRole::Image => "image",
        }
    }
}

impl std::fmt::Display for LayerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One layer of a container's stack.
#[derive(Clone, Debug, Serialize)]
pub struct StackLayer {
    pub role: LayerRole,
    /// Directory name under the driver dir (mount id, `<mount id>-init`,
    /// cache id).
    pub id: String,
    pub chain_id: Option<String>,
    pub diff_id: Option<String>,
    /// Host path of the layer's files.
    #[serde(serialize_with = "fsutil::ser_path")]
    pub dir: Vec<u8>,
    pub inode: Option<u32>,
    pub format: LayerFormat,
    pub created_by: Option<String>,
}

/// The layers of one container, top first.
#[derive(Clone, Debug, Serialize, Default)]
pub struct LayerStack {
    pub layers: Vec<StackLayer>,
    /// Where the lower list came from (`lower file`, `layerdb chain`, ...).
    pub source: String,
    pub warnings: Vec<String>,
}

/// A decoded `overlay.origin` file handle.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Origin {
    pub version: u8,
    pub flags: u8,
    pub fh_type: u8,
    pub uuid: String,
    pub inode: u32,
    pub generation: u32,
    /// The lower layer (stack index and id) holding that inode at the same
    /// path, when found.
    pub lower_layer: Option<String>,
    /// The inode's current generation equals the handle's.
    pub generation_ok: Option<bool>,
}

/// Decode an overlayfs file handle (`struct ovl_fb`): version, magic
/// 0xfb, len, flags, type, 16-byte uuid, then the ext4 fid (inode and
/// generation, little-endian).
pub fn decode_origin(v: &[u8]) -> Option<Origin> {
    // Some kernels store the padded `ovl_fh` (3 bytes of padding first).
    let v = if v.len() >= 4 && v.get(1) != Some(&0xfb) && v.get(4) == Some(&0xfb) {
        &v[3..]
    } else {
        v
    };
    if v.len() < 29 || v[1] != 0xfb {
        return None;
    }
    let mut u = [0u8; 16];
    u.copy_from_slice(&v[5..21]);
    Some(Origin {
        version: v[0],
        flags: v[3],
        fh_type: v[4],
        uuid: crate::util::bytes::uuid(&u),
        inode: u32::from_le_bytes([v[21], v[22], v[23], v[24]]),
        generation: u32::from_le_bytes([v[25], v[26], v[27], v[28]]),
        lower_layer: None,
        generation_ok: None,
    })
}

/// An overlay xattr by its short name, in either namespace.
fn ovl_xattr(fs: &Filesystem, ino: &Inode, short: &str) -> Option<Vec<u8>> {
    if ino.file_acl == 0 && !ino.has_inode_xattrs() {
        return None;
    }
    let x = fs.xattrs(ino);
    let is = |a: &&crate::ext4::xattr::Xattr, ns: &[u8]| {
        a.name.strip_prefix(ns) == Some(short.as_bytes())
    };
    [b"trusted.overlay.".as_slice(), b"user.overlay."]
        .iter()
        .find_map(|ns| x.attrs.iter().find(|a| is(a, ns)))
        .map(|a| a.value.clone())
}

/// What one directory entry of one layer means.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mark {
    Normal,
    /// Hides the lower entry with this name.
    Whiteout(&'static str),
    /// aufs housekeeping (`.wh..wh.*`): not shown.
    Housekeeping,
}

/// What a merged entry is.
#[derive(Clone, Debug)]
pub(super) enum Decided {
    File {
        layer: usize,
        ino: u32,
        /// The inode, when `mark` already read it (saves a second read).
        inode: Option<Box<Inode>>,
    },
    Dir {
        parts: Vec<(usize, u32)>,
        closed: bool,
        redirect: Option<(usize, Vec<u8>)>,
    },
    Whiteout {
        layer: usize,
        ino: u32,
        kind: &'static str,
        hidden: Vec<(usize, u32)>,
    },
}

/// One entry of the merged view.
#[derive(Clone, Debug)]
pub struct MergedEntry {
    pub name: Vec<u8>,
    /// Path inside the container.
    pub path: Vec<u8>,
    /// Providing layer (index into the stack; the top one for a dir).
    pub layer: usize,
    pub inode: Inode,
    /// For a directory: every (layer, inode) merged into it, top first.
    pub parts: Vec<(usize, u32)>,
}

impl MergedEntry {
    pub fn is_dir(&self) -> bool {
        self.inode.is_dir()
    }
}

/// A path deleted in a layer: whiteout or opaque dir, with what it hides.
#[derive(Clone, Debug, Serialize)]
pub struct Whiteout {
    /// Path inside the container.
    #[serde(serialize_with = "fsutil::ser_path")]
    pub path: Vec<u8>,
    /// `whiteout` (0/0 char dev), `xattr-whiteout`, `aufs-whiteout`, `opaque`.
    pub kind: &'static str,
    /// Stack index and id of the layer holding the mark.
    pub layer: usize,
    pub layer_id: String,
    pub layer_role: &'static str,
    /// Inode of the mark itself.
    pub marker_inode: u32,
    /// The hidden lower originals (readable with `icat`).
    pub hidden: Vec<HiddenOriginal>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HiddenOriginal {
    pub layer: usize,
    pub layer_id: String,
    pub inode: u32,
    #[serde(rename = "type")]
    pub ftype: FileType,
    pub size: u64,
    /// Host path of the original in the lower layer directory.
    #[serde(serialize_with = "fsutil::ser_path")]
    pub host_path: Vec<u8>,
}

/// Result of looking a path up in the merged view.
#[derive(Debug)]
pub enum Lookup {
    Found(MergedEntry),
    /// Hidden by a whiteout or an opaque dir above a lower original.
    Deleted(Whiteout),
    Missing,
}

/// The merged view of a stack.
pub struct MergedView<'a> {
    pub fs: &'a Filesystem,
    pub stack: LayerStack,
    /// userns-remap: host (uid, gid) that container root maps to; shown
    /// ids are shifted back into the container's range (as `docker export`).
    pub id_base: Option<(u32, u32)>,
    /// Listings shared with other views (see [`ListingCache`]).
    cache: Option<CacheUse<'a>>,
}

/// A merged directory's parts: (layer index, directory inode), top first.
pub(super) type Parts = Vec<(usize, u32)>;

/// A directory's entries: its own, or a cached listing shared by views.
enum Listing {
    Owned(Vec<MergedEntry>),
    Shared(Arc<Vec<CachedEntry>>),
}

/// One open directory of a walk.
enum Frame {
    Owned(std::vec::IntoIter<MergedEntry>),
    Shared {
        items: Arc<Vec<CachedEntry>>,
        next: usize,
        dir: Vec<u8>,
    },
}

impl<'a> MergedView<'a> {
    pub fn new(fs: &'a Filesystem, stack: LayerStack) -> MergedView<'a> {
        MergedView {
            fs,
            stack,
            cache: None,
            id_base: None,
        }
    }

    /// Container-side (uid, gid) of an inode under userns-remap (ids
    /// outside the remapped range are shown as stored).
    pub fn ids(&self, i: &Inode) -> (u32, u32) {
        self.mapped_ids(i).unwrap_or((i.uid, i.gid))
    }

    /// Like [`ids`](Self::ids) but `None` when userns-remap is active and
    /// an id lies outside the remapped range (`docker export` drops such
    /// entries: they cannot be mapped into the container).
    pub fn mapped_ids(&self, i: &Inode) -> Option<(u32, u32)> {
        match self.id_base {
            Some((u, g)) => {
                let uid = i.uid.checked_sub(u).filter(|x| *x < 65536)?;
                let gid = i.gid.checked_sub(g).filter(|x| *x < 65536)?;
                Some((uid, gid))
            }
            None => Some((i.uid, i.gid)),
        }
    }

    /// A merged view of a container, with its root's userns id base.
    pub fn of_container(
        fs: &'a Filesystem,
        host: &super::DockerHost,
        c: &super::Container,
    ) -> MergedView<'a> {
        let mut v = MergedView::new(
            fs,
            LayerStack {
                layers: c.layers.clone(),
                source: c.layers_source.clone().unwrap_or_default(),
                warnings: Vec::new(),
            },
        );
        v.id_base = host
            .roots
            .iter()
            .find(|r| r.path == c.root)
            .and_then(|r| r.userns.as_ref())
            .and_then(|u| u.split_once('.'))
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        v
    }

    fn format(&self, layer: usize) -> LayerFormat {
        self.stack
            .layers
            .get(layer)
            .map(|l| l.format)
            .unwrap_or(LayerFormat::Overlay)
    }

    fn layer_id(&self, layer: usize) -> String {
        self.stack
            .layers
            .get(layer)
            .map(|l| l.id.clone())
            .unwrap_or_default()
    }

    /// Is this layer directory opaque?
    pub fn is_opaque(&self, layer: usize, dir_ino: u32) -> bool {
        match self.format(layer) {
            LayerFormat::Overlay => match self.fs.inode(dir_ino) {
                Ok(i) => ovl_xattr(self.fs, &i, "opaque").as_deref() == Some(b"y"),
                Err(_) => false,
            },
            LayerFormat::Aufs => fsutil::child(self.fs, dir_ino, b".wh..wh..opq").is_some(),
        }
    }

    /// The (effective name, mark) of a layer entry, and its inode when
    /// deciding needed it.
    fn mark(&self, layer: usize, e: DirEntry) -> (Vec<u8>, Mark, Option<Inode>) {
        match self.format(layer) {
            LayerFormat::Aufs => {
                if e.name.starts_with(b".wh..wh.") {
                    (e.name, Mark::Housekeeping, None)
                } else if let Some(n) = e.name.strip_prefix(b".wh.") {
                    (n.to_vec(), Mark::Whiteout("aufs-whiteout"), None)
                } else {
                    (e.name, Mark::Normal, None)
                }
            }
            LayerFormat::Overlay => {
                let t = e.dirent_type();
                if matches!(t, FileType::CharDev | FileType::Regular | FileType::Unknown) {
                    if let Ok(i) = self.fs.inode(e.inode) {
                        if i.is_whiteout_device() {
                            return (e.name, Mark::Whiteout("whiteout"), Some(i));
                        }
                        if i.file_type() == FileType::Regular
                            && i.size == 0
                            && ovl_xattr(self.fs, &i, "whiteout").is_some()
                        {
                            return (e.name, Mark::Whiteout("xattr-whiteout"), Some(i));
                        }
                        return (e.name, Mark::Normal, Some(i));
                    }
                }
                (e.name, Mark::Normal, None)
            }
        }
    }

    /// The root directory's parts.
    pub fn root_parts(&self) -> Vec<(usize, u32)> {
        let mut parts = Vec::new();
        for (i, l) in self.stack.layers.iter().enumerate() {
            let Some(ino) = l.inode else { continue };
            parts.push((i, ino));
            if self.is_opaque(i, ino) {
                break;
            }
        }
        parts
    }

    /// Merge the entries of a directory given its parts; with `only`, just
    /// that name.
    fn merge(&self, parts: &[(usize, u32)], only: Option<&[u8]>) -> BTreeMap<Vec<u8>, Decided> {
        let mut d: BTreeMap<Vec<u8>, Decided> = BTreeMap::new();
        for &(li, dino) in parts {
            for e in fsutil::list_dir(self.fs, dino) {
                let (e_ino, e_type) = (e.inode, e.dirent_type());
                let (name, mark, inode) = self.mark(li, e);
                if only.is_some_and(|o| o != name.as_slice()) {
                    continue;
                }
                if mark == Mark::Housekeeping {
                    continue;
                }
                let is_dir = matches!(mark, Mark::Normal)
                    && match e_type {
                        FileType::Dir => true,
                        FileType::Unknown => inode.as_ref().is_some_and(|i| i.is_dir()),
                        _ => false,
                    };
                match d.get_mut(&name) {
                    None => {
                        let v = match mark {
                            Mark::Whiteout(kind) => Decided::Whiteout {
                                layer: li,
                                ino: e_ino,
                                kind,
                                hidden: Vec::new(),
                            },
                            _ if is_dir => {
                                let redirect = self
                                    .fs
                                    .inode(e_ino)
                                    .ok()
                                    .filter(|_| self.format(li) == LayerFormat::Overlay)
                                    .and_then(|i| ovl_xattr(self.fs, &i, "redirect"))
                                    .map(|r| (li, r));
                                Decided::Dir {
                                    parts: vec![(li, e_ino)],
                                    closed: self.is_opaque(li, e_ino) || redirect.is_some(),
                                    redirect,
                                }
                            }
                            _ => Decided::File {
                                layer: li,
                                ino: e_ino,
                                inode: inode.map(Box::new),
                            },
                        };
                        d.insert(name, v);
                    }
                    Some(Decided::Dir { parts, closed, .. }) => {
                        if *closed {
                            continue;
                        }
                        if is_dir {
                            parts.push((li, e_ino));
                            if self.is_opaque(li, e_ino) {
                                *closed = true;
                            }
                        } else {
                            *closed = true;
                        }
                    }
                    Some(Decided::Whiteout { hidden, .. }) => {
                        // Only the nearest lower original matters; a lower
                        // whiteout hides nothing more.
                        if hidden.is_empty() && mark == Mark::Normal {
                            hidden.push((li, e_ino));
                        }
                    }
                    Some(Decided::File { .. }) => {}
                }
            }
        }
        // Redirected dirs: their lower parts come from the redirect path.
        let names: Vec<Vec<u8>> = d
            .iter()
            .filter(|(_, v)| {
                matches!(
                    v,
                    Decided::Dir {
                        redirect: Some(_),
                        ..
                    }
                )
            })
            .map(|(k, _)| k.clone())
            .collect();
        for n in names {
            if let Some(Decided::Dir {
                parts: dparts,
                redirect: Some((li, r)),
                ..
            }) = d.get_mut(&n)
            {
                let li = *li;
                for (j, l) in self.stack.layers.iter().enumerate().skip(li + 1) {
                    let found = if r.first() == Some(&b'/') {
                        l.inode
                            .and_then(|root| fsutil::descend_dir(self.fs, root, r))
                    } else {
                        parts
                            .iter()
                            .find(|(pj, _)| *pj == j)
                            .and_then(|(_, pino)| fsutil::descend_dir(self.fs, *pino, r))
                    };
                    if let Some(ino) = found {
                        dparts.push((j, ino));
                        if self.is_opaque(j, ino) {
                            break;
                        }
                    }
                }
            }
        }
        d
    }

    fn entry_of(&self, name: Vec<u8>, path: Vec<u8>, dec: &Decided) -> Option<MergedEntry> {
        let (layer, ino, parts, known) = match dec {
            Decided::File { layer, ino, inode } => (*layer, *ino, Vec::new(), inode.as_deref()),
            Decided::Dir { parts, .. } => {
                let (l, i) = *parts.first()?;
                (l, i, parts.clone(), None)
            }
            Decided::Whiteout { .. } => return None,
        };
        let inode = match known.cloned().map(Ok).unwrap_or_else(|| self.fs.inode(ino)) {
            Ok(i) => i,
            Err(e) => {
                self.fs.warn(format!(
                    "{}: inode {ino}: {e}; skipped",
                    escape_bytes(&path)
                ));
                return None;
            }
        };
        Some(MergedEntry {
            name,
            path,
            layer,
            inode,
            parts,
        })
    }

    fn whiteout_of(&self, path: Vec<u8>, dec: &Decided) -> Option<Whiteout> {
        let Decided::Whiteout {
            layer,
            ino,
            kind,
            hidden,
        } = dec
        else {
            return None;
        };
        Some(Whiteout {
            path: path.clone(),
            kind,
            layer: *layer,
            layer_id: self.layer_id(*layer),
            layer_role: self
                .stack
                .layers
                .get(*layer)
                .map(|l| l.role.as_str())
                .unwrap_or(""),
            marker_inode: *ino,
            hidden: hidden
                .iter()
                .map(|&(l, i)| self.hidden_of(l, i, &path))
                .collect(),
        })
    }

    /// An entry of a lower layer hidden by the opaque directory marked in
    /// `layer` (inode `marker`): `trusted.overlay.opaque = y`.
    fn opaque_whiteout(
        &self,
        path: Vec<u8>,
        layer: usize,
        marker: u32,
        lower: usize,
        ino: u32,
    ) -> Whiteout {
        let hidden = vec![self.hidden_of(lower, ino, &path)];
        Whiteout {
            path,
            kind: "opaque",
            layer,
            layer_id: self.layer_id(layer),
            layer_role: self
                .stack
                .layers
                .get(layer)
                .map(|l| l.role.as_str())
                .unwrap_or(""),
            marker_inode: marker,
            hidden,
        }
    }

    fn hidden_of(&self, layer: usize, ino: u32, path: &[u8]) -> HiddenOriginal {
        let i = self.fs.inode(ino).ok();
        HiddenOriginal {
            layer,
            layer_id: self.layer_id(layer),
            inode: ino,
            ftype: i
                .as_ref()
                .map(|i| i.file_type())
                .unwrap_or(FileType::Unknown),
            size: i.as_ref().map(|i| i.size).unwrap_or(0),
            host_path: self.host_path(layer, path),
        }
    }

    /// Host path of `path` inside layer `layer`'s directory.
    pub fn host_path(&self, layer: usize, path: &[u8]) -> Vec<u8> {
        match self.stack.layers.get(layer) {
            Some(l) => join(&l.dir, path),
            None => path.to_vec(),
        }
    }

    /// List one merged directory: visible entries and the whiteouts in it.
    pub fn list(&self, dir: &MergedEntry) -> (Vec<MergedEntry>, Vec<Whiteout>) {
        self.list_parts(&dir.parts, &dir.path)
    }

    /// Share merged listings of image-layer directories through `cache`,
    /// with the other views of `group` (scan: containers of one image).
    pub fn with_cache(mut self, cache: &'a ListingCache, group: usize) -> MergedView<'a> {
        self.cache = Some(cache.enter(group));
        self
    }

    fn list_parts(
        &self,
        parts: &[(usize, u32)],
        dir_path: &[u8],
    ) -> (Vec<MergedEntry>, Vec<Whiteout>) {
        let (l, wh) = self.listing(parts, dir_path);
        let out = match l {
            Listing::Owned(v) => v,
            Listing::Shared(items) => items
                .iter()
                .filter_map(|it| self.cached_entry(it, dir_path))
                .collect(),
        };
        (out, wh)
    }

    /// A directory's listing: its own entries, or the shared cached ones
    /// when every part is an image layer (see [`ListingCache`]).
    fn listing(&self, parts: &[(usize, u32)], dir_path: &[u8]) -> (Listing, Vec<Whiteout>) {
        let cache = self.cache.as_ref().filter(|_| {
            parts.iter().all(|&(l, _)| {
                self.stack
                    .layers
                    .get(l)
                    .is_some_and(|x| x.role == LayerRole::Image)
            })
        });
        let owned = |d| {
            let (v, wh) = self.list_merged(d, dir_path);
            (Listing::Owned(v), wh)
        };
        let Some(cache) = cache else {
            return owned(self.merge(parts, None));
        };
        let items = match cache.cache.get(parts, cache.group) {
            Some(hit) => hit,
            None => {
                let d = self.merge(parts, None);
                // A redirect is resolved against layers outside the key.
                if d.values().any(|v| {
                    matches!(
                        v,
                        Decided::Dir {
                            redirect: Some(_),
                            ..
                        }
                    )
                }) {
                    return owned(d);
                }
                let items: Vec<CachedEntry> = d
                    .into_iter()
                    .map(|(name, mut dec)| {
                        let inode = match &mut dec {
                            Decided::File { inode, ino, .. } => match inode.take() {
                                Some(i) => Some(*i),
                                None => self.fs.inode(*ino).ok(),
                            },
                            Decided::Dir { parts, .. } => {
                                parts.first().and_then(|&(_, i)| self.fs.inode(i).ok())
                            }
                            Decided::Whiteout { .. } => None,
                        };
                        let inode = inode.map(|mut i| {
                            i.drop_raw_unless_needed();
                            i
                        });
                        CachedEntry { name, dec, inode }
                    })
                    .collect();
                let items = Arc::new(items);
                cache.cache.put(parts.to_vec(), items.clone(), cache.group);
                items
            }
        };
        let wh = items
            .iter()
            .filter_map(|it| self.whiteout_of(join(dir_path, &it.name), &it.dec))
            .collect();
        (Listing::Shared(items), wh)
    }

    /// The merged entry of a cached item; `None` for a whiteout.
    fn cached_entry(&self, it: &CachedEntry, dir_path: &[u8]) -> Option<MergedEntry> {
        if matches!(it.dec, Decided::Whiteout { .. }) {
            return None;
        }
        let p = join(dir_path, &it.name);
        match (&it.inode, &it.dec) {
            (Some(i), Decided::File { layer, .. }) => Some(MergedEntry {
                name: it.name.clone(),
                path: p,
                layer: *layer,
                inode: i.clone(),
                parts: Vec::new(),
            }),
            (Some(i), Decided::Dir { parts, .. }) => parts.first().map(|&(l, _)| MergedEntry {
                name: it.name.clone(),
                path: p,
                layer: l,
                inode: i.clone(),
                parts: parts.clone(),
            }),
            // Unreadable inode: entry_of reads again and warns.
            _ => self.entry_of(it.name.clone(), p, &it.dec),
        }
    }

    fn list_merged(
        &self,
        d: BTreeMap<Vec<u8>, Decided>,
        dir_path: &[u8],
    ) -> (Vec<MergedEntry>, Vec<Whiteout>) {
        let mut out = Vec::new();
        let mut wh = Vec::new();
        for (name, dec) in d {
            let p = join(dir_path, &name);
            if let Some(w) = self.whiteout_of(p.clone(), &dec) {
                wh.push(w);
            } else if let Some(e) = self.entry_of(name, p, &dec) {
                out.push(e);
            }
        }
        (out, wh)
    }

    /// The root of the merged view.
    pub fn root(&self) -> Result<MergedEntry> {
        let parts = self.root_parts();
        let &(l, i) = parts.first().ok_or_else(|| {
            Error::NotFound("the container has no readable layer directory".into())
        })?;
        Ok(MergedEntry {
            name: Vec::new(),
            path: b"/".to_vec(),
            layer: l,
            inode: self.fs.inode(i)?,
            parts,
        })
    }

    /// Look a path up; symlinks in the middle are followed inside the
    /// view (bounded), a final one only with `follow`.
    pub fn lookup(&self, path: &[u8], follow: bool) -> Result<Lookup> {
        let mut hops = 0usize;
        let mut stack: Vec<MergedEntry> = vec![self.root()?];
        let mut pending: Vec<Vec<u8>> = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .map(|c| c.to_vec())
            .rev()
            .collect();
        while let Some(comp) = pending.pop() {
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let Some(cur) = stack.last() else { break };
            if !cur.is_dir() {
                return Ok(Lookup::Missing);
            }
            let d = self.merge(&cur.parts, Some(&comp));
            let p = join(&cur.path, &comp);
            let Some(dec) = d.get(&comp) else {
                // Hidden by an opaque dir above?
                return Ok(self
                    .hidden_by_opaque(cur, &comp)
                    .map(Lookup::Deleted)
                    .unwrap_or(Lookup::Missing));
            };
            if let Some(w) = self.whiteout_of(p.clone(), dec) {
                if pending.is_empty() {
                    return Ok(Lookup::Deleted(w));
                }
                return Ok(Lookup::Missing);
            }
            let Some(e) = self.entry_of(comp, p, dec) else {
                return Ok(Lookup::Missing);
            };
            let last = pending.is_empty();
            if e.inode.file_type() == FileType::Symlink && (!last || follow) {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(Error::corrupt(format!(
                        "{}: too many levels of symbolic links",
                        escape_bytes(path)
                    )));
                }
                let target = self.fs.symlink_target(&e.inode)?;
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                for c in target.split(|&c| c == b'/').filter(|c| !c.is_empty()).rev() {
                    pending.push(c.to_vec());
                }
                continue;
            }
            stack.push(e);
        }
        match stack.pop() {
            Some(e) => Ok(Lookup::Found(e)),
            None => Ok(Lookup::Missing),
        }
    }

    /// `name` under `dir` absent from the view but present in a layer
    /// below an opaque part: deleted by the opaque dir.
    fn hidden_by_opaque(&self, dir: &MergedEntry, name: &[u8]) -> Option<Whiteout> {
        let &(last_layer, last_ino) = dir.parts.last()?;
        if !self.is_opaque(last_layer, last_ino) {
            return None;
        }
        let rel = dir.path.clone();
        for (j, l) in self.stack.layers.iter().enumerate().skip(last_layer + 1) {
            let Some(root) = l.inode else { continue };
            if let Some(d) = fsutil::descend_dir(self.fs, root, &rel) {
                if let Some(e) = fsutil::child(self.fs, d, name) {
                    let p = join(&rel, name);
                    return Some(self.opaque_whiteout(p, last_layer, last_ino, j, e.inode));
                }
            }
        }
        None
    }

    /// Depth-first pre-order walk of the merged view below `dir`, names in
    /// byte order. `f` gets each entry; deletions go to `on_whiteout`.
    pub fn walk(
        &self,
        dir: &MergedEntry,
        f: &mut dyn FnMut(&MergedEntry) -> Result<()>,
        on_whiteout: &mut dyn FnMut(&Whiteout) -> Result<()>,
    ) -> Result<()> {
        let mut seen: HashSet<(usize, u32)> = HashSet::new();
        let mut count = 0usize;
        let mut stack: Vec<Frame> = Vec::new();
        // Files of shared listings are lent to `f` through one reused
        // entry: no allocation per file.
        let mut lent: Option<MergedEntry> = None;
        let mut open = |e: &MergedEntry, stack: &mut Vec<Frame>| -> Result<()> {
            let (l, whs) = self.listing(&e.parts, &e.path);
            for w in &whs {
                on_whiteout(w)?;
            }
            for w in self.opaque_hidden(e) {
                on_whiteout(&w)?;
            }
            stack.push(match l {
                Listing::Owned(v) => Frame::Owned(v.into_iter()),
                Listing::Shared(items) => Frame::Shared {
                    items,
                    next: 0,
                    dir: e.path.clone(),
                },
            });
            Ok(())
        };
        open(dir, &mut stack)?;
        // Counts one entry; past MAX_WALK_ENTRIES the walk stops, warned.
        let over_limit = |count: &mut usize| {
            *count += 1;
            let over = *count > MAX_WALK_ENTRIES;
            if over {
                self.fs.warn(format!(
                    "merged walk stopped after {MAX_WALK_ENTRIES} entries"
                ));
            }
            over
        };
        while let Some(top) = stack.last_mut() {
            let e = match top {
                Frame::Owned(it) => match it.next() {
                    Some(e) => e,
                    None => {
                        stack.pop();
                        continue;
                    }
                },
                Frame::Shared { items, next, dir } => {
                    let Some(it) = items.get(*next) else {
                        stack.pop();
                        continue;
                    };
                    *next += 1;
                    match (&it.dec, &it.inode) {
                        (Decided::File { layer, .. }, Some(i)) if !i.is_dir() => {
                            if over_limit(&mut count) {
                                break;
                            }
                            let e = match lent.as_mut() {
                                Some(e) => {
                                    e.name.clear();
                                    e.name.extend_from_slice(&it.name);
                                    e.inode.clone_from(i);
                                    e
                                }
                                None => lent.insert(MergedEntry {
                                    name: it.name.clone(),
                                    path: Vec::new(),
                                    layer: 0,
                                    inode: i.clone(),
                                    parts: Vec::new(),
                                }),
                            };
                            join_into(&mut e.path, dir, &it.name);
                            e.layer = *layer;
                            f(e)?;
                            continue;
                        }
                        _ => match self.cached_entry(it, dir) {
                            Some(e) => e,
                            None => continue,
                        },
                    }
                }
            };
            if over_limit(&mut count) {
                break;
            }
            f(&e)?;
            if !e.is_dir() {
                continue;
            }
            if stack.len() >= MAX_WALK_DEPTH {
                self.fs.warn(format!(
                    "{}: nesting too deep; not descended",
                    escape_bytes(&e.path)
                ));
                continue;
            }
            if !seen.insert((e.layer, e.inode.ino)) {
                self.fs.warn(format!(
                    "{}: directory already visited (loop); not descended",
                    escape_bytes(&e.path)
                ));
                continue;
            }
            open(&e, &mut stack)?;
        }
        Ok(())
    }

    /// For an opaque merged dir: the lower entries it hides, one record
    /// per hidden name.
    pub fn opaque_hidden(&self, dir: &MergedEntry) -> Vec<Whiteout> {
        let Some(&(last_layer, last_ino)) = dir.parts.last() else {
            return Vec::new();
        };
        if !self.is_opaque(last_layer, last_ino) {
            return Vec::new();
        }
        let visible: HashSet<Vec<u8>> = self.merge(&dir.parts, None).into_keys().collect();
        let mut out: BTreeMap<Vec<u8>, Whiteout> = BTreeMap::new();
        for (j, l) in self.stack.layers.iter().enumerate().skip(last_layer + 1) {
            let Some(root) = l.inode else { continue };
            let Some(d) = fsutil::descend_dir(self.fs, root, &dir.path) else {
                continue;
            };
            for e in fsutil::list_dir(self.fs, d) {
                let e_ino = e.inode;
                let (name, mark, _) = self.mark(j, e);
                if mark != Mark::Normal || visible.contains(&name) || out.contains_key(&name) {
                    continue;
                }
                let p = join(&dir.path, &name);
                out.insert(
                    name,
                    self.opaque_whiteout(p, last_layer, last_ino, j, e_ino),
                );
            }
        }
        out.into_values().collect()
    }

    /// Decode the origin of a merged entry (copy-up) and link it to the
    /// lower inode at the same path.
    pub fn origin(&self, e: &MergedEntry) -> Option<Origin> {
        if self.format(e.layer) != LayerFormat::Overlay {
            return None;
        }
        let raw = ovl_xattr(self.fs, &e.inode, "origin")?;
        let mut o = decode_origin(&raw)?;
        for (j, l) in self.stack.layers.iter().enumerate().skip(e.layer + 1) {
            let Some(root) = l.inode else { continue };
            if fsutil::descend(self.fs, root, &e.path) == Some(o.inode) {
                o.lower_layer = Some(format!("{j}:{}", l.id));
                break;
            }
        }
        o.generation_ok = self
            .fs
            .inode(o.inode)
            .ok()
            .map(|i| i.generation == o.generation);
        Some(o)
    }

    /// Images and role of the layer providing an entry (for `ls --layers`).
    pub fn layer_label(&self, layer: usize) -> String {
        match self.stack.layers.get(layer) {
            Some(l) => format!("{}:{}", l.role, crate::docker::fsutil::short(&l.id, 12)),
            None => "?".into(),
        }
    }
}

/// Overlay marks found in one layer directory.
#[derive(Clone, Debug, Serialize, Default)]
pub struct LayerMarks {
    pub whiteouts: Vec<String>,
    pub opaque_dirs: Vec<String>,
    pub redirects: BTreeMap<String, String>,
    /// Entries with an `overlay.origin` (copied up from a lower layer).
    pub copy_ups: Vec<String>,
    pub impure_dirs: Vec<String>,
}

/// Walk one layer directory and collect its overlay (or aufs) marks.
pub fn layer_marks(fs: &Filesystem, dir_ino: u32, format: LayerFormat) -> LayerMarks {
    let mut m = LayerMarks::default();
    if format == LayerFormat::Overlay {
        if let Ok(i) = fs.inode(dir_ino) {
            if ovl_xattr(fs, &i, "opaque").as_deref() == Some(b"y") {
                m.opaque_dirs.push("/".into());
            }
            if ovl_xattr(fs, &i, "impure").as_deref() == Some(b"y") {
                m.impure_dirs.push("/".into());
            }
        }
    }
    let _ = fs.walk(dir_ino, b"", &mut |w| {
        let path = lossy(w.path);
        match format {
            LayerFormat::Aufs => {
                let n = &w.entry.name;
                if n == b".wh..wh..opq" {
                    let parent = path.rsplit_once('/').map(|(a, _)| a).unwrap_or("");
                    m.opaque_dirs.push(if parent.is_empty() {
                        "/".into()
                    } else {
                        parent.into()
                    });
                } else if n.starts_with(b".wh..wh.") {
                } else if let Some(real) = n.strip_prefix(b".wh.") {
                    let parent = path.rsplit_once('/').map(|(a, _)| a).unwrap_or("");
                    m.whiteouts.push(format!("{parent}/{}", lossy(real)));
                }
            }
            LayerFormat::Overlay => {
                let t = w.entry.dirent_type();
                let need = matches!(
                    t,
                    FileType::CharDev | FileType::Dir | FileType::Unknown | FileType::Regular
                );
                if !need {
                    return;
                }
                let Ok(i) = fs.inode(w.entry.inode) else {
                    return;
                };
                if i.is_whiteout_device() {
                    m.whiteouts.push(path);
                    return;
                }
                if i.file_type() == FileType::Regular
                    && i.size == 0
                    && ovl_xattr(fs, &i, "whiteout").is_some()
                {
                    m.whiteouts.push(path);
                    return;
                }
                if ovl_xattr(fs, &i, "origin").is_some() {
                    m.copy_ups.push(path.clone());
                }
                if i.is_dir() {
                    if ovl_xattr(fs, &i, "opaque").as_deref() == Some(b"y") {
                        m.opaque_dirs.push(path.clone());
                    }
                    if ovl_xattr(fs, &i, "impure").as_deref() == Some(b"y") {
                        m.impure_dirs.push(path.clone());
                    }
                    if let Some(r) = ovl_xattr(fs, &i, "redirect") {
                        m.redirects.insert(path, lossy(&r));
                    }
                }
            }
        }
    });
    m.whiteouts.sort();
    m.opaque_dirs.sort();
    m.copy_ups.sort();
    m.impure_dirs.sort();
    m
}

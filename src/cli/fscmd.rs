//! `info`, `ls`, `istat`, `icat`.

use super::output::{print_warnings, Out};
use super::{open_fs_evidence, VolumeOpts};
use crate::ext4::dir::DirEntry;
use crate::ext4::inode::{FileType, Inode, ROOT_INO};
use crate::ext4::xattr::acl_text;
use crate::ext4::Filesystem;
use crate::util::bytes::hex;
use crate::util::escape::{escape_bytes, is_utf8, json_name};
use crate::util::time::Timestamp;
use crate::{Error, Result};
use serde::Serialize;
use serde_json::json;

pub fn info(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (ev, loc, fs) = open_fs_evidence(vol)?;
    let sb = &fs.sb;
    let bs = fs.block_size();
    let journal = journal_summary(&fs);
    if as_json {
        let mut out = Out::new();
        out.pretty(&json!({
            "image": vol.image.display().to_string(),
            "image_size": loc.image_size,
            "container": ev.summary(),
            "partition_table": &loc.table,
            "ext_filesystems": &loc.candidates,
            "selected": { "partition": loc.partition.as_ref().map(|p| p.index), "offset": loc.offset },
            "superblock_source": &fs.sb_source,
            "filesystem": {
                "label": json_name(&sb.volume_name),
                "uuid": sb.uuid_string(),
                "block_size": bs,
                "cluster_size": sb.cluster_size(),
                "inode_size": sb.inode_size(),
                "blocks_count": sb.blocks_count,
                "free_blocks_count": sb.free_blocks_count,
                "inodes_count": sb.inodes_count,
                "free_inodes_count": sb.free_inodes_count,
                "group_count": fs.group_count(),
                "blocks_per_group": sb.blocks_per_group,
                "inodes_per_group": sb.inodes_per_group,
                "flex_bg_size": if sb.has_incompat(crate::ext4::superblock::incompat::FLEX_BG) { Some(1u64 << sb.log_groups_per_flex.min(31)) } else { None },
                "features": { "compat": sb.compat_names(), "incompat": sb.incompat_names(), "ro_compat": sb.ro_compat_names() },
                "state": sb.state_names(),
                "errors_behaviour": sb.errors,
                "error_count": sb.error_count,
                "created": sb.mkfs_time,
                "last_mount": sb.mtime,
                "last_write": sb.wtime,
                "last_mounted_on": json_name(&sb.last_mounted),
                "mount_count": sb.mnt_count,
                "creator_os": sb.creator_os_name(),
                "revision": sb.rev_level,
                "hash_seed": sb.hash_seed.iter().map(|h| format!("{h:08x}")).collect::<Vec<_>>(),
                "default_hash_version": sb.def_hash_version,
                "checksum_type": sb.checksum_type,
                "superblock_checksum_ok": sb.verify_checksum(),
                "journal": journal,
            },
            "superblock": sb,
            "groups": &fs.groups,
            "warnings": fs.warnings(),
        }))?;
        out.finish()?;
        return Ok(0);
    }
    let mut o = Out::new();
    o.line(&format!(
        "IMAGE: {}",
        escape_bytes(vol.image.as_os_str().as_encoded_bytes())
    ))?;
    for l in ev.summary_lines() {
        o.line(&l)?;
    }
    match loc.table.scheme {
        Some(s) => {
            o.line(&format!(
                "PARTITION TABLE: {s:?} (sector size {})",
                loc.table.sector_size
            ))?;
            if loc.table.used_backup_gpt {
                o.line("  (read from the backup GPT header: the primary is damaged)")?;
            }
            o.line("  #   start(bytes)        length(bytes)       type")?;
            for p in &loc.table.partitions {
                let ext = loc.candidates.iter().any(|c| c.partition == Some(p.index));
                let sel = loc.partition.as_ref().map(|s| s.index) == Some(p.index);
                o.line(&format!(
                    "  {:<3} {:<19} {:<19} {} {}{}{}{}",
                    p.index,
                    p.start,
                    p.len,
                    p.type_id,
                    p.type_name,
                    if p.name.is_empty() {
                        String::new()
                    } else {
                        format!(" \"{}\"", crate::util::escape::escape_str(&p.name))
                    },
                    if ext { " [ext]" } else { "" },
                    if sel { " <- selected" } else { "" }
                ))?;
            }
        }
        None => o.line("PARTITION TABLE: none (bare filesystem image)")?,
    }
    o.line("")?;
    o.line("FILE SYSTEM INFORMATION")?;
    o.line("--------------------------------------------")?;
    o.line(&format!("File System Type: {}", fs_type_name(&fs)))?;
    o.line(&format!("Offset in image: {} bytes", loc.offset))?;
    if let Some(r) = &fs.sb_source.reason {
        o.line(&format!(
            "Superblock: BACKUP from group {} ({r})",
            fs.sb_source.group
        ))?;
    }
    o.line(&format!("Volume Name: {}", sb.label()))?;
    o.line(&format!("Volume ID: {}", sb.uuid_string()))?;
    o.line(&format!("Created: {}", sb.mkfs_time.rfc3339()))?;
    o.line(&format!("Last Written at: {}", sb.wtime.rfc3339()))?;
    o.line(&format!("Last Mounted at: {}", sb.mtime.rfc3339()))?;
    o.line(&format!(
        "Last mounted on: {}",
        escape_bytes(&sb.last_mounted)
    ))?;
    o.line(&format!("State: {}", sb.state_names().join(", ")))?;
    o.line(&format!(
        "Mount count: {}  Error count: {}",
        sb.mnt_count, sb.error_count
    ))?;
    o.line(&format!(
        "Source OS: {}  Revision: {}",
        sb.creator_os_name(),
        sb.rev_level
    ))?;
    o.line(&format!(
        "Compat Features: {}",
        sb.compat_names().join(", ")
    ))?;
    o.line(&format!(
        "InCompat Features: {}",
        sb.incompat_names().join(", ")
    ))?;
    o.line(&format!(
        "Read Only Compat Features: {}",
        sb.ro_compat_names().join(", ")
    ))?;
    if let Some(ok) = sb.verify_checksum() {
        o.line(&format!(
            "Superblock checksum: {}",
            if ok { "ok" } else { "MISMATCH" }
        ))?;
    }
    o.line(&format!(
        "Hash seed: {}",
        sb.hash_seed
            .iter()
            .map(|h| format!("{h:08x}"))
            .collect::<Vec<_>>()
            .join("-")
    ))?;
    o.line(&format!(
        "Journal: {}",
        journal
            .as_ref()
            .map(|j| j.to_string())
            .unwrap_or_else(|| "none".into())
    ))?;
    o.line("")?;
    o.line("METADATA INFORMATION")?;
    o.line("--------------------------------------------")?;
    o.line(&format!("Inode Range: 1 - {}", sb.inodes_count))?;
    o.line(&format!("Free Inodes: {}", sb.free_inodes_count))?;
    o.line(&format!("Inode Size: {}", sb.inode_size()))?;
    o.line("")?;
    o.line("CONTENT INFORMATION")?;
    o.line("--------------------------------------------")?;
    o.line(&format!(
        "Block Range: {} - {}",
        0,
        sb.blocks_count.saturating_sub(1)
    ))?;
    o.line(&format!("Block Size: {bs}"))?;
    if sb.cluster_size() != bs {
        o.line(&format!("Cluster Size: {}", sb.cluster_size()))?;
    }
    o.line(&format!("Free Blocks: {}", sb.free_blocks_count))?;
    o.line(&format!("Number of Block Groups: {}", fs.group_count()))?;
    o.line(&format!(
        "Blocks per group: {}  Inodes per group: {}",
        sb.blocks_per_group, sb.inodes_per_group
    ))?;
    if sb.has_incompat(crate::ext4::superblock::incompat::FLEX_BG) {
        o.line(&format!(
            "Flex group size: {} groups",
            1u64 << sb.log_groups_per_flex.min(31)
        ))?;
    }
    o.line("")?;
    o.line("BLOCK GROUPS")?;
    for g in fs.groups.iter().take(64) {
        o.line(&format!(
            "Group {}: block bitmap {}, inode bitmap {}, inode table {}, free blocks {}, free inodes {}, dirs {}{}{}",
            g.group,
            g.block_bitmap,
            g.inode_bitmap,
            g.inode_table,
            g.free_blocks_count,
            g.free_inodes_count,
            g.used_dirs_count,
            if g.flags != 0 { format!(" [{}]", g.flag_names().join(",")) } else { String::new() },
            match g.checksum_ok { Some(false) => " CHECKSUM MISMATCH", _ => "" }
        ))?;
    }
    if fs.groups.len() > 64 {
        o.line(&format!(
            "… {} more groups (use --json for all)",
            fs.groups.len() - 64
        ))?;
    }
    o.finish()?;
    print_warnings(&fs.take_warnings(), 20);
    Ok(0)
}

fn fs_type_name(fs: &Filesystem) -> &'static str {
    use crate::ext4::superblock::{compat, incompat};
    let sb = &fs.sb;
    if sb.has_incompat(incompat::EXTENTS | incompat::BIT64 | incompat::FLEX_BG)
        || sb.has_ro_compat(0x8 | 0x40 | 0x400)
    {
        "Ext4"
    } else if sb.has_compat(compat::HAS_JOURNAL) {
        "Ext3"
    } else {
        "Ext2"
    }
}

#[derive(Serialize)]
struct JournalSummary {
    inode: Option<u32>,
    external_device: Option<u32>,
    external_uuid: Option<String>,
    size_bytes: Option<u64>,
    blocks: Option<Vec<(u64, u64)>>,
}

impl std::fmt::Display for JournalSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(i) = self.inode {
            write!(f, "inode {i}")?;
            if let Some(s) = self.size_bytes {
                write!(f, ", {} bytes ({} MiB)", s, s >> 20)?;
            }
            if let Some(b) = &self.blocks {
                let runs: Vec<String> = b.iter().take(4).map(|(s, l)| format!("{s}+{l}")).collect();
                write!(f, ", blocks {}", runs.join(" "))?;
            }
            Ok(())
        } else if let Some(d) = self.external_device {
            write!(
                f,
                "external device 0x{d:x} (uuid {})",
                self.external_uuid.clone().unwrap_or_default()
            )
        } else {
            write!(f, "none")
        }
    }
}

fn journal_summary(fs: &Filesystem) -> Option<JournalSummary> {
    use crate::ext4::superblock::compat;
    if !fs.sb.has_compat(compat::HAS_JOURNAL) {
        return None;
    }
    if fs.sb.journal_inum == 0 {
        return Some(JournalSummary {
            inode: None,
            external_device: Some(fs.sb.journal_dev),
            external_uuid: Some(crate::util::bytes::uuid(&fs.sb.journal_uuid)),
            size_bytes: None,
            blocks: None,
        });
    }
    let ino = fs.inode(fs.sb.journal_inum).ok()?;
    let map = fs.block_map(&ino);
    Some(JournalSummary {
        inode: Some(fs.sb.journal_inum),
        external_device: None,
        external_uuid: None,
        size_bytes: Some(ino.size),
        blocks: Some(map.runs.iter().map(|r| (r.physical, r.len)).collect()),
    })
}

/// Accept `N` or an absolute path.
pub(crate) fn resolve_target(fs: &Filesystem, target: &str) -> Result<u32> {
    if let Ok(n) = target.parse::<u32>() {
        return Ok(n);
    }
    if !target.starts_with('/') {
        return Err(Error::usage(format!(
            "{target:?}: give an inode number or an absolute path starting with /"
        )));
    }
    fs.lookup(target.as_bytes())
}

/// One listing row, shared by `ls --json` and later the deleted listings.
#[derive(Serialize)]
pub struct LsRow {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub name: String,
    pub inode: u32,
    pub parent_inode: u32,
    #[serde(rename = "type")]
    pub ftype: FileType,
    pub dirent_type: FileType,
    pub mode: String,
    pub mode_octal: String,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    pub crtime: Option<Timestamp>,
    pub links: u16,
    pub deleted: bool,
    pub name_source: &'static str,
}

fn ls_row(path: &[u8], e: &DirEntry, parent: u32, ino: Option<&Inode>) -> LsRow {
    let ft = ino.map(|i| i.file_type()).unwrap_or(FileType::Unknown);
    LsRow {
        path: json_name(path),
        path_hex: if is_utf8(path) { None } else { Some(hex(path)) },
        name: json_name(&e.name),
        inode: e.inode,
        parent_inode: parent,
        ftype: ft,
        dirent_type: e.dirent_type(),
        mode: ino.map(|i| i.mode_string()).unwrap_or_default(),
        mode_octal: ino.map(|i| format!("{:o}", i.mode)).unwrap_or_default(),
        uid: ino.map(|i| i.uid).unwrap_or(0),
        gid: ino.map(|i| i.gid).unwrap_or(0),
        size: ino.map(|i| i.size).unwrap_or(0),
        atime: ino.map(|i| i.atime).unwrap_or_default(),
        mtime: ino.map(|i| i.mtime).unwrap_or_default(),
        ctime: ino.map(|i| i.ctime).unwrap_or_default(),
        crtime: ino.and_then(|i| i.crtime),
        links: ino.map(|i| i.links_count).unwrap_or(0),
        deleted: false,
        name_source: "live",
    }
}

/// fls-style text line: `r/r 12:\tname`.
fn ls_text(path: &[u8], e: &DirEntry, itype: Option<FileType>) -> String {
    let it = itype.map(|t| t.tsk_char()).unwrap_or('-');
    format!(
        "{}/{} {}:\t{}",
        e.dirent_type().tsk_char(),
        it,
        e.inode,
        escape_bytes(path)
    )
}

pub fn ls(
    fs: &Filesystem,
    path: Option<&str>,
    inode: Option<u32>,
    recursive: bool,
    full: bool,
    as_json: bool,
) -> Result<i32> {
    let start = match (path, inode) {
        (_, Some(n)) => n,
        (Some(p), None) => resolve_target(fs, p)?,
        (None, None) => ROOT_INO,
    };
    let dir = fs.inode(start)?;
    if !dir.is_dir() {
        return Err(Error::usage(format!("inode {start} is not a directory")));
    }
    let mut out = Out::new();
    let mut err: Option<Error> = None;
    // JSON rows carry the full path (`name` is the entry's own name): the
    // listed directory's path in front of the walk's relative one.
    let base: Vec<u8> = match (path, inode) {
        (Some(p), None) => {
            let t = p.trim_end_matches('/');
            let t = t.strip_prefix('/').unwrap_or(t);
            if t.is_empty() {
                Vec::new()
            } else {
                format!("/{t}").into_bytes()
            }
        }
        _ => Vec::new(),
    };
    let mut full_path = Vec::new();
    let mut emit = |path: &[u8], e: &DirEntry, parent: u32| {
        if err.is_some() {
            return;
        }
        let shown: &[u8] = if full {
            path.strip_prefix(b"/").unwrap_or(path)
        } else {
            &e.name
        };
        let r = if as_json {
            let ino = fs.inode(e.inode).ok();
            full_path.clear();
            full_path.extend_from_slice(&base);
            full_path.extend_from_slice(path);
            out.json(&ls_row(&full_path, e, parent, ino.as_ref()))
        } else {
            // Text needs only the type from i_mode: no full decode.
            let it = fs.inode_mode(e.inode).ok().map(FileType::from_mode);
            out.line(&ls_text(shown, e, it))
        };
        if let Err(x) = r {
            err = Some(x);
        }
    };
    if recursive {
        fs.walk(start, b"", &mut |w| emit(w.path, w.entry, w.parent))?;
    } else {
        let listing = fs.read_dir(&dir);
        for w in &listing.warnings {
            fs.warn(w.clone());
        }
        for e in listing.entries.iter().filter(|e| !e.is_dot()) {
            let mut p = b"/".to_vec();
            p.extend_from_slice(&e.name);
            emit(&p, e, start);
        }
    }
    if let Some(e) = err {
        return Err(e);
    }
    out.finish()?;
    print_warnings(&fs.take_warnings(), 20);
    Ok(0)
}

pub fn istat(fs: &Filesystem, ino: u32, as_json: bool) -> Result<i32> {
    let inode = fs.inode(ino)?;
    let allocated = fs.inode_allocated(ino);
    let map = fs.block_map(&inode);
    let xattrs = fs.xattrs(&inode);
    let group = fs.inode_group_of(ino);
    let target = if inode.file_type() == FileType::Symlink {
        fs.symlink_target(&inode).ok()
    } else {
        None
    };
    let x_rows: Vec<serde_json::Value> = xattrs
        .attrs
        .iter()
        .map(|x| {
            json!({
                "name": json_name(&x.name),
                "size": x.value_size,
                "location": x.location,
                "value_hex": hex(&x.value),
                "value_text": std::str::from_utf8(&x.value).ok().filter(|s| s.chars().all(|c| !c.is_control() || c == '\n' || c == '\0')),
                "acl": if x.name.starts_with(b"system.posix_acl") { acl_text(&x.value) } else { None },
            })
        })
        .collect();
    if as_json {
        let mut out = Out::new();
        out.pretty(&json!({
            "inode": ino,
            "allocated": allocated,
            "group": group,
            "type": inode.file_type(),
            "mode": inode.mode_string(),
            "mode_octal": format!("{:o}", inode.mode),
            "uid": inode.uid,
            "gid": inode.gid,
            "size": inode.size,
            "links": inode.links_count,
            "atime": inode.atime,
            "mtime": inode.mtime,
            "ctime": inode.ctime,
            "crtime": inode.crtime,
            "dtime": inode.dtime,
            "dtime_rfc3339": if inode.dtime != 0 { Some(Timestamp::new(inode.dtime as i64, 0)) } else { None },
            "flags": inode.flags,
            "flag_names": inode.flag_names(),
            "generation": inode.generation,
            "version": inode.version,
            "blocks_raw": inode.blocks,
            "allocated_bytes": inode.blocks_bytes(&fs.sb),
            "file_acl": inode.file_acl,
            "extra_isize": inode.extra_isize,
            "project_id": inode.projid,
            "rdev": inode.rdev(),
            "symlink_target": target.as_ref().map(|t| json_name(t)),
            "i_block_hex": hex(&inode.block),
            "checksum": format!("{:08x}", inode.checksum),
            "checksum_ok": inode.checksum_ok,
            "block_map": {
                "depth": map.depth,
                "runs": map.runs,
                "tree_blocks": map.meta_blocks,
                "bad_tree_checksums": map.bad_checksums,
            },
            "xattrs": x_rows,
            "xattr_block_checksum_ok": xattrs.block_checksum_ok,
            "warnings": map.warnings.iter().chain(xattrs.warnings.iter()).collect::<Vec<_>>(),
        }))?;
        out.finish()?;
        return Ok(0);
    }
    let mut o = Out::new();
    o.line(&format!("inode: {ino}"))?;
    o.line(match allocated {
        Some(true) => "Allocated",
        Some(false) => "Not Allocated",
        None => "Allocation unknown (bitmap unreadable)",
    })?;
    o.line(&format!("Group: {group}"))?;
    o.line(&format!("Generation Id: {}", inode.generation))?;
    o.line(&format!("uid / gid: {} / {}", inode.uid, inode.gid))?;
    o.line(&format!("mode: {} ({:o})", inode.mode_string(), inode.mode))?;
    o.line(&format!("Flags: {}", inode.flag_names().join(", ")))?;
    if let Some((ma, mi)) = inode.rdev() {
        o.line(&format!(
            "Device: {ma}, {mi}{}",
            if (ma, mi) == (0, 0) {
                " (overlayfs whiteout)"
            } else {
                ""
            }
        ))?;
    }
    if let Some(t) = &target {
        o.line(&format!("symbolic link to: {}", escape_bytes(t)))?;
    }
    o.line(&format!("size: {}", inode.size))?;
    o.line(&format!("num of links: {}", inode.links_count))?;
    o.line(&format!("allocated bytes: {}", inode.blocks_bytes(&fs.sb)))?;
    if inode.projid != 0 {
        o.line(&format!("project id: {}", inode.projid))?;
    }
    if let Some(ok) = inode.checksum_ok {
        o.line(&format!(
            "inode checksum: {:08x} {}",
            inode.checksum,
            if ok { "ok" } else { "MISMATCH" }
        ))?;
    }
    o.line("")?;
    o.line("Inode Times:")?;
    o.line(&format!("Accessed:\t{}", inode.atime.rfc3339()))?;
    o.line(&format!("File Modified:\t{}", inode.mtime.rfc3339()))?;
    o.line(&format!("Inode Modified:\t{}", inode.ctime.rfc3339()))?;
    if let Some(c) = inode.crtime {
        o.line(&format!("File Created:\t{}", c.rfc3339()))?;
    }
    if inode.dtime != 0 {
        o.line(&format!(
            "Deleted:\t{} (raw {})",
            Timestamp::new(inode.dtime as i64, 0).rfc3339(),
            inode.dtime
        ))?;
    }
    if !xattrs.attrs.is_empty() {
        o.line("")?;
        o.line("Extended Attributes:")?;
        for x in &xattrs.attrs {
            let shown = if x.name.starts_with(b"system.posix_acl") {
                acl_text(&x.value).unwrap_or_else(|| hex(&x.value))
            } else {
                match std::str::from_utf8(&x.value) {
                    Ok(s) if s.chars().all(|c| !c.is_control()) && s.len() <= 200 => {
                        format!("\"{}\"", crate::util::escape::escape_str(s))
                    }
                    _ => format!(
                        "0x{}{}",
                        hex(&x.value[..x.value.len().min(64)]),
                        if x.value.len() > 64 { "…" } else { "" }
                    ),
                }
            };
            let loc = match &x.location {
                crate::ext4::xattr::XattrLocation::Inode => "inode".to_string(),
                crate::ext4::xattr::XattrLocation::Block { block, refcount } => {
                    format!("block {block}, refcount {refcount}")
                }
                crate::ext4::xattr::XattrLocation::EaInode { ea_inode, .. } => {
                    format!("ea_inode {ea_inode}")
                }
            };
            o.line(&format!(
                "{} = {} ({} bytes, {loc})",
                escape_bytes(&x.name),
                shown,
                x.value_size
            ))?;
        }
        if let Some(ok) = xattrs.block_checksum_ok {
            o.line(&format!(
                "xattr block checksum: {}",
                if ok { "ok" } else { "MISMATCH" }
            ))?;
        }
    }
    o.line("")?;
    if inode.has_flag(crate::ext4::inode::flags::INLINE_DATA) {
        o.line("Content: inline data")?;
    } else if !map.runs.is_empty() {
        o.line(&format!(
            "Block runs (logical -> physical, {} levels):",
            map.depth
        ))?;
        for r in map.runs.iter().take(10_000) {
            o.line(&format!(
                "{}-{} -> {}-{}{}",
                r.logical,
                r.logical + r.len - 1,
                r.physical,
                r.physical + r.len - 1,
                if r.unwritten { " (unwritten)" } else { "" }
            ))?;
        }
        if !map.meta_blocks.is_empty() {
            let s: Vec<String> = map
                .meta_blocks
                .iter()
                .take(64)
                .map(|b| b.to_string())
                .collect();
            o.line(&format!("Tree/indirect blocks: {}", s.join(" ")))?;
        }
    }
    o.finish()?;
    let mut ws = map.warnings.clone();
    ws.extend(xattrs.warnings.iter().cloned());
    ws.extend(fs.take_warnings());
    print_warnings(&ws, 20);
    Ok(0)
}

pub fn icat(fs: &Filesystem, target: &str) -> Result<i32> {
    let ino = resolve_target(fs, target)?;
    let inode = fs.inode(ino)?;
    let mut out = Out::new();
    fs.stream_content(&inode, out.raw()).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(0)
        }
        other => other,
    })?;
    out.finish()?;
    print_warnings(&fs.take_warnings(), 20);
    Ok(0)
}

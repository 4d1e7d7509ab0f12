//! Layer 7: the command line. Thin: argument parsing, opening the evidence
//! and printing. All analysis lives in the library layers.

mod attribute;
mod carve;
mod docker;
mod fscmd;
mod journal;
mod output;
mod recover;
mod scan;

use crate::ext4::volume::{locate_lvm, Located};
use crate::ext4::Filesystem;
use crate::{image, Error};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "whiteout", version = VERSION, about = "Read-only forensic reader for ext4 Docker hosts", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Command,
}

/// The crate version and, when built from a git checkout, the commit
/// (`0.1.0 (abc1234def56)`, set by build.rs).
const VERSION: &str = match option_env!("WHITEOUT_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// Options every command takes to find the filesystem inside the image.
#[derive(Args, Debug, Clone)]
pub struct VolumeOpts {
    /// Evidence: raw (dd), split raw (first segment: .001, .aa), gzip, EWF
    /// (first segment: .E01), qcow2, VMDK, VHD or VHDX; the format is
    /// recognised from the content, not the name.
    pub image: PathBuf,
    /// Read partition N of the MBR/GPT (1-based; logical partitions from 5).
    #[arg(long, global = true, value_name = "N")]
    pub partition: Option<u32>,
    /// Read the filesystem at this byte offset of the image.
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        conflicts_with = "partition"
    )]
    pub offset: Option<u64>,
    /// Read the LVM logical volume VG/LV (on the disk or its partitions).
    #[arg(
        long,
        global = true,
        value_name = "VG/LV",
        conflicts_with = "partition"
    )]
    pub volume: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Partitions and a filesystem summary (like fsstat).
    Info {
        #[command(flatten)]
        vol: VolumeOpts,
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
    /// List directory entries (like fls).
    Ls {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Directory path to list (default: the root).
        path: Option<String>,
        /// List the directory with this inode number.
        #[arg(long, value_name = "N", conflicts_with = "path")]
        inode: Option<u32>,
        /// Recurse into subdirectories.
        #[arg(short, long)]
        recursive: bool,
        /// Print full paths.
        #[arg(short = 'p', long = "full-path")]
        full_path: bool,
        /// JSON Lines, one object per entry.
        #[arg(long)]
        json: bool,
        /// Deleted entries only (fls -d): names from slack, freed directory
        /// blocks and the journal, and nameless orphans.
        #[arg(short = 'd', long)]
        deleted: bool,
        /// List the merged view of this container (id, unique id prefix or
        /// name) instead of the host filesystem; with --deleted, list its
        /// whiteouts and opaque-hidden entries with their lower originals.
        #[arg(long, value_name = "ID|NAME", conflicts_with = "inode")]
        container: Option<String>,
        /// With --container: name the layer (and images) providing each entry.
        #[arg(long, requires = "container")]
        layers: bool,
    },
    /// Everything deleted: every deleted incarnation with its evidence, and
    /// each container's whiteouts and opaque directories.
    Deleted {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON Lines: one object per row, with kind, class,
        /// container, container_name, host_path, incarnation and evidence.
        #[arg(long)]
        json: bool,
        /// Only these kinds (comma-separated): rw-deleted, image-deleted,
        /// runtime-metadata, host-deleted, orphan, whiteout, opaque.
        #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
        kind: Vec<crate::docker::classify::DeletedKind>,
    },
    /// Write recovered deleted files under DIR, with DIR/manifest.jsonl.
    Recover {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Output directory (created; never beside the evidence).
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: std::path::PathBuf,
        /// Only paths matching this glob (`*`, `**`, `?`).
        #[arg(long, value_name = "GLOB")]
        path: Option<String>,
        /// Only this inode.
        #[arg(long, value_name = "N")]
        inode: Option<u32>,
    },
    /// Carve files and Docker traces from unallocated space into DIR,
    /// with DIR/manifest.jsonl and DIR/docker-traces.jsonl.
    Carve {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Output directory (created; never beside the evidence).
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: std::path::PathBuf,
        /// Only these types (comma-separated: jpg,png,gif,pdf,zip,docx,xlsx,jar,gz,tar,bz2,xz,zst,elf,sqlite,pem,sh,json,log,docker).
        #[arg(long, value_name = "LIST")]
        types: Option<String>,
        /// Search every block, allocated or not.
        #[arg(long)]
        all_space: bool,
    },
    /// Every field of one inode, its block runs, xattrs and checksum status.
    Istat {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Inode number.
        inode: u32,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Raw content of an inode or path to stdout.
    Icat {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Inode number, or an absolute path inside the filesystem.
        target: String,
        /// Rebuild a deleted inode's content from its best surviving map.
        #[arg(long)]
        recover: bool,
    },
    /// The jbd2 journal: superblock and every transaction in the ring (like jls).
    Journal {
        #[command(flatten)]
        vol: VolumeOpts,
        /// JSON Lines: the journal superblock, then one object per transaction.
        #[arg(long)]
        json: bool,
    },
    /// Docker roots found on the filesystem and how each was found.
    Roots {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Docker containers (running at acquisition; --all for every one).
    Containers {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Every container, not only those running at acquisition.
        #[arg(short, long)]
        all: bool,
        /// With --all: do not search unallocated space for carved
        /// config.v2.json traces of removed containers.
        #[arg(long)]
        no_carve: bool,
        /// JSON Lines, one object per container.
        #[arg(long)]
        json: bool,
    },
    /// Docker images: tags, kind (tagged/dangling/intermediate), layers.
    Images {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Docker layers: chain/diff/cache ids, overlay marks, and integrity
    /// against tar-split (files added, missing, altered).
    Layers {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// A container's logs (json-file incl. rotated/gzip, local driver).
    Logs {
        #[command(flatten)]
        vol: VolumeOpts,
        /// The container, by id (or a unique prefix) or name.
        #[arg(long, value_name = "ID|NAME")]
        container: String,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Print a file of a container's merged view.
    Cat {
        #[command(flatten)]
        vol: VolumeOpts,
        /// The container, by id (or a unique prefix) or name.
        #[arg(long, value_name = "ID|NAME")]
        container: String,
        /// Path inside the container.
        path: String,
    },
    /// Write a container's merged view as a tar (like docker export).
    Export {
        #[command(flatten)]
        vol: VolumeOpts,
        /// The container, by id (or a unique prefix) or name.
        #[arg(long, value_name = "ID|NAME")]
        container: String,
        /// Output tar file (never the image itself).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Layer, image(s) and container(s) of a host path or inode.
    Whoowns {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Absolute host path.
        path: Option<String>,
        /// The inode number instead of a path.
        #[arg(long, value_name = "N", conflicts_with = "path")]
        inode: Option<u32>,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Who owns each block: a summary per owner (container, image layer,
    /// daemon, host); --blocks for a range, --inode for one inode's evidence.
    Attribute {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
        /// The owner of each block in START-END (inclusive block numbers).
        #[arg(long, value_name = "START-END", conflicts_with = "inode")]
        blocks: Option<String>,
        /// The attribution of one inode, with its evidence.
        #[arg(long, value_name = "N")]
        inode: Option<u32>,
    },
    /// The whole analysis of one image or an evidence store, with
    /// report.json, report.html, bodyfile, timeline.jsonl, recovered files.
    Scan(scan::ScanArgs),
    /// Rebuild index.json/index.html from the reports under DIR (merges shards).
    Index {
        /// The scan output directory holding one folder per image.
        dir: PathBuf,
    },
    /// Host and container findings with severity and evidence.
    Findings {
        #[command(flatten)]
        vol: VolumeOpts,
        /// Write JSON (JSON Lines for lists, one document for a single object).
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    Man,
}

/// Exit codes: 0 done, 1 the thing asked for is absent, 2 bad usage or
/// unreadable input, 3 (scan) finished with damaged structures skipped.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                };
            }
            // One line: clap's first line, without the usage block; a
            // missing argument is named (clap puts it on the next line).
            let text = e.render().to_string();
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("invalid arguments");
            let line = match e.kind() {
                ErrorKind::MissingRequiredArgument => match lines.next() {
                    Some(m) if !m.starts_with("Usage") => format!("{first} {m}"),
                    _ => first.to_string(),
                },
                _ => first.to_string(),
            };
            eprintln!("{line} (see whiteout --help)");
            return 2;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "whiteout: {}",
                crate::util::escape::escape_str(&e.to_string())
            );
            match e {
                Error::NotFound(_) => 1,
                _ => 2,
            }
        }
    }
}

fn run(cli: Cli) -> crate::Result<i32> {
    match cli.cmd {
        Command::Info { vol, json } => fscmd::info(&vol, json),
        Command::Ls {
            vol,
            path,
            inode,
            recursive,
            full_path,
            json,
            deleted,
            container,
            layers,
        } => {
            if let Some(c) = container {
                return docker::merged_ls(
                    &vol,
                    &c,
                    path.as_deref(),
                    recursive,
                    layers,
                    deleted,
                    json,
                );
            }
            let fs = open_fs(&vol)?;
            if deleted {
                let prefix = path.unwrap_or_else(|| "/".into());
                return recover::ls_deleted(&fs.1, prefix.as_bytes(), recursive, json);
            }
            fscmd::ls(&fs.1, path.as_deref(), inode, recursive, full_path, json)
        }
        Command::Deleted { vol, json, kind } => {
            let fs = open_fs(&vol)?;
            recover::deleted(&fs.1, json, &kind)
        }
        Command::Recover {
            vol,
            out,
            path,
            inode,
        } => {
            let fs = open_fs(&vol)?;
            recover::recover_to(&fs.1, &vol.image, &out, path.as_deref(), inode)
        }
        Command::Carve {
            vol,
            out,
            types,
            all_space,
        } => {
            let fs = open_fs(&vol)?;
            carve::carve_to(&fs.1, &vol.image, &out, types.as_deref(), all_space)
        }
        Command::Istat { vol, inode, json } => {
            let fs = open_fs(&vol)?;
            fscmd::istat(&fs.1, inode, json)
        }
        Command::Icat {
            vol,
            target,
            recover: rec,
        } => {
            let fs = open_fs(&vol)?;
            if rec {
                let ino = fscmd::resolve_target(&fs.1, &target)?;
                return recover::icat_recover(&fs.1, ino);
            }
            fscmd::icat(&fs.1, &target)
        }
        Command::Journal { vol, json } => journal::journal(&vol, json),
        Command::Roots { vol, json } => docker::roots(&vol, json),
        Command::Containers {
            vol,
            all,
            no_carve,
            json,
        } => docker::containers(&vol, all, !no_carve, json),
        Command::Images { vol, json } => docker::images(&vol, json),
        Command::Layers { vol, json } => docker::layers(&vol, json),
        Command::Logs {
            vol,
            container,
            json,
        } => docker::logs(&vol, &container, json),
        Command::Cat {
            vol,
            container,
            path,
        } => docker::cat(&vol, &container, &path),
        Command::Export {
            vol,
            container,
            output,
        } => docker::export(&vol, &container, &output),
        Command::Whoowns {
            vol,
            path,
            inode,
            json,
        } => docker::whoowns(&vol, path.as_deref(), inode, json),
        Command::Findings { vol, json } => docker::findings(&vol, json),
        Command::Attribute {
            vol,
            json,
            blocks,
            inode,
        } => {
            let fs = open_fs(&vol)?;
            attribute::attribute(&fs.1, json, blocks.as_deref(), inode)
        }
        Command::Scan(a) => scan::scan(&a),
        Command::Index { dir } => scan::index_cmd(&dir),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "whiteout", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("writing the man page", e))?;
            Ok(0)
        }
    }
}

/// Open the image, choose the volume, open the filesystem. Notes about the
/// choice go to stderr.
pub(crate) fn open_fs(vol: &VolumeOpts) -> crate::Result<(Located, Filesystem)> {
    open_fs_evidence(vol).map(|(_, loc, fs)| (loc, fs))
}

/// [`open_fs`], also returning the opened container (format, acquisition
/// metadata, stored hashes, warnings).
pub(crate) fn open_fs_evidence(
    vol: &VolumeOpts,
) -> crate::Result<(image::Evidence, Located, Filesystem)> {
    let ev = image::open_evidence(&vol.image)?;
    for w in ev.warnings.snapshot() {
        eprintln!(
            "warning: {}",
            crate::util::escape::escape_str(&w.to_string())
        );
    }
    let src = ev.source.clone();
    let loc = locate_lvm(
        &src,
        vol.volume.as_deref(),
        vol.partition,
        vol.offset,
        &ev.warnings,
    )?;
    if let Some(n) = &loc.note {
        eprintln!("note: {n}");
    }
    for w in &loc.table.warnings {
        eprintln!("warning: {}", crate::util::escape::escape_str(w));
    }
    let fs = Filesystem::open(loc.volume.clone()).map_err(|e| match e {
        Error::Io { context, source } => {
            Error::usage(format!("{}: {context}: {source}", vol.image.display()))
        }
        other => other,
    })?;
    for w in fs.take_warnings() {
        eprintln!("warning: {}", crate::util::escape::escape_str(&w));
    }
    Ok((ev, loc, fs))
}

/// A `--kind` value.
fn parse_kind(s: &str) -> std::result::Result<crate::docker::classify::DeletedKind, String> {
    use crate::docker::classify::DeletedKind;
    DeletedKind::parse(s).ok_or_else(|| {
        let all: Vec<&str> = DeletedKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {s:?}; one of {}", all.join(", "))
    })
}

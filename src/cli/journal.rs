//! `journal`: the jbd2 journal's superblock and every transaction in the
//! ring (like TSK's jls, but reading 64-bit / csum-v3 tags correctly).

use super::output::{print_warnings, Out};
use super::{open_fs, VolumeOpts};
use crate::ext4::journal::{sniff, BlockClassifier, Journal, JournalTransaction, LoggedBlock};
use crate::ext4::Filesystem;
use crate::Result;
use serde_json::{json, Value};

pub fn journal(vol: &VolumeOpts, as_json: bool) -> Result<i32> {
    let (_loc, fs) = open_fs(vol)?;
    let j = Journal::open(&fs)?;
    let cls = j.classifier(&fs);
    let mut o = Out::new();
    if as_json {
        // Through `line` so that a closed pipe (`| head`) ends quietly.
        o.line(&json!({ "journal_superblock": sb_json(&fs, &j) }).to_string())?;
        for t in &j.transactions {
            o.line(&tx_json(&fs, &j, &cls, t).to_string())?;
        }
    } else {
        print_text(&mut o, &fs, &j, &cls)?;
    }
    o.finish()?;
    print_warnings(&j.warnings, 50);
    Ok(0)
}

fn sb_json(fs: &Filesystem, j: &Journal) -> Value {
    let complete = j.transactions.iter().filter(|t| t.complete).count();
    let live = j.transactions.iter().filter(|t| t.in_live_log).count();
    json!({
        "journal_inode": j.inode,
        "version": j.sb.version(),
        "superblock": &j.sb,
        "features": {
            "compat": j.sb.compat_names(),
            "incompat": j.sb.incompat_names(),
            "ro_compat": j.sb.ro_compat_names(),
        },
        "checksum_type_name": j.sb.checksum_type_name(),
        "tag_size": j.sb.tag_size(),
        "fast_commit_blocks": j.sb.fast_commit_blocks(),
        "fs_needs_recovery": j.fs_needs_recovery,
        "log_empty": j.sb.start == 0,
        "ring_first": j.ring_first,
        "ring_end": j.ring_end,
        "head": j.head,
        "live_end": j.live_end,
        "physical_runs": j.runs(),
        "filesystem_blocks": fs.sb.blocks_count,
        "transactions": j.transactions.len(),
        "complete_transactions": complete,
        "live_transactions": live,
        "stats": &j.stats,
        "warnings": &j.warnings,
    })
}

fn block_json(fs: &Filesystem, j: &Journal, cls: &BlockClassifier, b: &LoggedBlock) -> Value {
    let content = if b.missing {
        None
    } else {
        j.read_logged(fs, b).ok().map(|d| sniff(&d))
    };
    json!({
        "journal_block": b.journal_block,
        "fs_block": b.fs_block,
        "role": cls.classify(b.fs_block),
        "content": content,
        "tag_flags": b.tag_flags,
        "escaped": b.escaped,
        "deleted_flag": b.deleted_flag,
        "checksum_ok": b.checksum_ok,
        "missing": b.missing,
        "revoked_later": j.revoked_after(b.fs_block, b.sequence),
    })
}

fn tx_json(fs: &Filesystem, j: &Journal, cls: &BlockClassifier, t: &JournalTransaction) -> Value {
    json!({
        "sequence": t.sequence,
        "commit_time": t.commit.as_ref().map(|c| c.time),
        "complete": t.complete,
        "in_live_log": t.in_live_log,
        "descriptor_blocks": &t.descriptor_blocks,
        "descriptor_checksums_ok": t.descriptor_checksums_ok,
        "revoke_blocks": &t.revoke_blocks,
        "commit": &t.commit,
        "blocks": t.blocks.iter().map(|b| block_json(fs, j, cls, b)).collect::<Vec<_>>(),
        "revoked": &t.revoked,
    })
}

fn ok_text(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "ok",
        Some(false) => "BAD",
        None => "-",
    }
}

fn print_text(o: &mut Out, fs: &Filesystem, j: &Journal, cls: &BlockClassifier) -> Result<()> {
    let sb = &j.sb;
    o.line("JOURNAL SUPERBLOCK")?;
    o.line("--------------------------------------------")?;
    o.line(&format!("Journal inode: {}", j.inode))?;
    o.line(&format!(
        "Version: {} (block type {})",
        sb.version(),
        sb.blocktype
    ))?;
    o.line(&format!("UUID: {}", sb.uuid_string()))?;
    o.line(&format!(
        "Block size: {}  Length: {} blocks  First log block: {}",
        sb.block_size, sb.max_len, sb.first
    ))?;
    if sb.fast_commit_blocks() > 0 {
        o.line(&format!(
            "Fast-commit blocks: {} (not parsed)",
            sb.fast_commit_blocks()
        ))?;
    }
    o.line(&format!(
        "Sequence: {}  Log start: {}{}",
        sb.sequence,
        sb.start,
        if sb.start == 0 {
            " (log empty: clean)"
        } else {
            " (log not empty: needs recovery)"
        }
    ))?;
    o.line(&format!(
        "Filesystem needs_recovery flag: {}",
        if j.fs_needs_recovery { "set" } else { "clear" }
    ))?;
    o.line(&format!("Errno: {}", sb.errno))?;
    o.line(&format!(
        "Features: compat [{}] incompat [{}] ro_compat [{}]",
        sb.compat_names().join(" "),
        sb.incompat_names().join(" "),
        sb.ro_compat_names().join(" ")
    ))?;
    o.line(&format!(
        "Tag size: {} bytes  Checksum: {} (type {}) 0x{:08x} {}",
        sb.tag_size(),
        sb.checksum_type_name(),
        sb.checksum_type,
        sb.checksum,
        ok_text(sb.checksum_ok)
    ))?;
    o.line(&format!(
        "Max transaction: {}  Max trans data: {}  Users: {}",
        sb.max_transaction, sb.max_trans_data, sb.nr_users
    ))?;
    let complete = j.transactions.iter().filter(|t| t.complete).count();
    let live = j.transactions.iter().filter(|t| t.in_live_log).count();
    o.line(&format!(
        "Ring scanned: journal blocks {}..{} ({} blocks; head at {})",
        j.ring_first,
        j.ring_end,
        j.stats.blocks_scanned,
        j.head.map(|h| h.to_string()).unwrap_or_else(|| "-".into())
    ))?;
    o.line(&format!(
        "Transactions: {} ({} complete, {} in the live log, {} history); logged blocks: {}",
        j.transactions.len(),
        complete,
        live,
        j.transactions.len() - live,
        j.stats.logged_blocks
    ))?;
    for t in &j.transactions {
        o.line("")?;
        let when = match &t.commit {
            Some(c) => format!(
                "committed {} (commit at journal block {}, checksum {})",
                c.time.rfc3339(),
                c.journal_block,
                ok_text(c.checksum_ok)
            ),
            None => "no commit block".to_string(),
        };
        o.line(&format!(
            "TRANSACTION {} [{}] {}, {}",
            t.sequence,
            if t.in_live_log { "live log" } else { "history" },
            if t.complete { "complete" } else { "INCOMPLETE" },
            when
        ))?;
        if !t.descriptor_blocks.is_empty() {
            o.line(&format!(
                "  descriptor blocks: {} (checksum {})",
                join(&t.descriptor_blocks),
                ok_text(t.descriptor_checksums_ok)
            ))?;
        }
        for b in &t.blocks {
            let content = if b.missing {
                "overwritten".to_string()
            } else {
                match j.read_logged(fs, b) {
                    Ok(d) => sniff(&d).to_string(),
                    Err(_) => "unreadable".to_string(),
                }
            };
            let mut flags = Vec::new();
            if b.escaped {
                flags.push("escaped");
            }
            if b.deleted_flag {
                flags.push("deleted-flag");
            }
            if b.missing {
                flags.push("MISSING");
            }
            if j.revoked_after(b.fs_block, b.sequence) {
                flags.push("revoked-later");
            }
            o.line(&format!(
                "  {:>8} -> {:<10} {}; {}; csum {}{}{}",
                b.journal_block,
                b.fs_block,
                cls.classify(b.fs_block),
                content,
                ok_text(b.checksum_ok),
                if flags.is_empty() { "" } else { "; " },
                flags.join(", ")
            ))?;
        }
        if !t.revoke_blocks.is_empty() {
            o.line(&format!(
                "  revoke blocks: {}; revoked fs blocks ({}): {}",
                join(&t.revoke_blocks),
                t.revoked.len(),
                join(&t.revoked)
            ))?;
        }
    }
    Ok(())
}

fn join(v: &[u64]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

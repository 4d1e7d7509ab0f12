//! jbd2: one journal block of the dirty-journal fixture (byte 0 picks it:
//! 0 = journal superblock, else descriptors/commits/revokes/data) replaced
//! by the input, then the whole ring scan and journal-based recovery.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use whiteout::ext4::journal::{Journal, JournalSuperblock};
use whiteout::recover::{analyse, Options};
use whiteout_fuzz::*;

fn blocks() -> &'static Vec<u64> {
    static B: OnceLock<Vec<u64>> = OnceLock::new();
    B.get_or_init(|| {
        let fs = base_fs(&del_dirty());
        let j = Journal::open(&fs).unwrap();
        let bs = fs.block_size();
        (0..256)
            .filter_map(|k| j.physical(k).map(|p| p * bs))
            .collect()
    })
}

fuzz_target!(
    init: {
        let _ = (del_dirty(), blocks());
    },
    |data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let _ = JournalSuperblock::parse(&data[1..]);
    let b = blocks();
    let off = b[data[0] as usize % b.len()];
    let blk = &data[1..data.len().min(1 + 4096)];
    let src = Overlay::new(del_dirty()).patch(off, blk).source();
    let Ok(fs) = whiteout::ext4::Filesystem::open(src) else { return };
    if let Ok(j) = Journal::open(&fs) {
        for t in j.transactions.iter().take(64) {
            for lb in t.blocks.iter().take(8) {
                let _ = j.read_logged(&fs, lb);
                let _ = j.copies_of(lb.fs_block);
            }
        }
    }
    let _ = analyse(
        &fs,
        &Options {
            scan_freed_dir_blocks: false,
            hash: false,
        },
    );
}
);

//! One inode record of a real image replaced by the input; every reader of
//! that inode (map, content, dir, symlink, xattrs) and a capped walk.
#![no_main]
use libfuzzer_sys::fuzz_target;
use whiteout_fuzz::*;

fuzz_target!(
    init: {
        let _ = (blk1k(), inline(), overlay(), del_inline());
    },
    |data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let base = match data[0] % 4 {
        0 => blk1k(),
        1 => inline(),
        2 => overlay(),
        _ => del_inline(),
    };
    let ino = 2 + (data[1] as u32 % 40);
    let bfs = base_fs(&base);
    let Ok(pos) = bfs.inode_position(ino) else { return };
    let rec = &data[2..data.len().min(2 + bfs.sb.inode_size as usize)];
    let src = Overlay::new(base).patch(pos, rec).source();
    let Ok(fs) = whiteout::ext4::Filesystem::open(src) else { return };
    exercise_inode(&fs, ino);
    exercise(&fs, 32);
}
);

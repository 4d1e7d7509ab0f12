//! Detection-only volumes on copies of the kernel-written GPT fixture:
//! LUKS and BitLocker named in the error, a Linux md RAID1 member (v1.2
//! superblock laid out as mdadm does) read as its data.

mod common;

use common::{image_bytes, manifest};
use std::sync::Arc;
use whiteout::ext4::volume::locate_lvm;
use whiteout::ext4::Filesystem;
use whiteout::image::{Source, WarningLog};

const P2: usize = 6291456;

#[test]
fn encrypted_partitions_are_named_in_one_line() {
    for (sig, at, want) in [
        (
            &b"LUKS\xba\xbe\x00\x01"[..],
            0,
            "partition 2: LUKS1 encrypted volume (not decrypted: out of scope)",
        ),
        (
            &b"LUKS\xba\xbe\x00\x02"[..],
            0,
            "partition 2: LUKS2 encrypted volume (not decrypted: out of scope)",
        ),
        (
            &b"-FVE-FS-"[..],
            3,
            "partition 2: BitLocker encrypted volume (not decrypted: out of scope)",
        ),
    ] {
        let mut b = image_bytes("ext4", "gpt");
        b[P2..P2 + 4096].fill(0); // the ext superblock at 1024 goes too
        b[P2 + at..P2 + at + sig.len()].copy_from_slice(sig);
        let src: Source = Arc::new(b);
        let e = locate_lvm(&src, None, None, None, &WarningLog::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.ends_with(want), "{e}");
        assert!(
            e.starts_with("no ext2/3/4 filesystem in any partition"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}

#[test]
fn md_raid1_member_reads_as_its_data() {
    // A member device: v1.2 superblock at 4 KiB, data at 1 MiB (2048
    // sectors), the data being partition 2's ext4.
    let whole = image_bytes("ext4", "gpt");
    let m = manifest("ext4", "gpt");
    let len = m["partitions"][1]["size"].as_u64().unwrap() as usize;
    let mut dev = vec![0u8; (1 << 20) + len];
    let sb = 4096;
    dev[sb..sb + 4].copy_from_slice(&0xa92b_4efcu32.to_le_bytes());
    dev[sb + 4..sb + 8].copy_from_slice(&1u32.to_le_bytes());
    dev[sb + 32..sb + 39].copy_from_slice(b"host:md");
    dev[sb + 72..sb + 76].copy_from_slice(&1i32.to_le_bytes());
    dev[sb + 128..sb + 136].copy_from_slice(&2048u64.to_le_bytes());
    dev[sb + 136..sb + 144].copy_from_slice(&((len / 512) as u64).to_le_bytes());
    dev[1 << 20..].copy_from_slice(&whole[P2..P2 + len]);
    let src: Source = Arc::new(dev);
    let loc = locate_lvm(&src, None, None, None, &WarningLog::default()).unwrap();
    assert_eq!(
        loc.note.as_deref(),
        Some("reading disk, a Linux md RAID1 member (metadata 1.2, array 'host:md'), as its data at offset 1048576")
    );
    let fs = Filesystem::open(loc.volume).unwrap();
    assert_eq!(fs.sb.label(), "fxgpt2");
    // RAID5: named, not read.
    let mut dev = vec![0u8; 4 << 20];
    dev[sb..sb + 4].copy_from_slice(&0xa92b_4efcu32.to_le_bytes());
    dev[sb + 4..sb + 8].copy_from_slice(&1u32.to_le_bytes());
    dev[sb + 72..sb + 76].copy_from_slice(&5i32.to_le_bytes());
    let src: Source = Arc::new(dev);
    let e = locate_lvm(&src, None, None, None, &WarningLog::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("disk: Linux md RAID5 member (metadata 1.2, array ''): reassembling RAID5 is out of scope"),
        "{e}"
    );
}

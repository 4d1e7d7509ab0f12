//! Layer 2: ext2/3/4 on-disk structures, parsed by our own code.
//!
//! Raw structures are exposed whatever their allocation state (deleted
//! inodes, bitmaps, raw directory blocks, block maps, xattrs) because the
//! recovery and attribution layers need them. Checksums are verified and
//! reported, never fatal. See docs/development.md for why we do not use the
//! `ext4` crate.

pub mod bitmap;
pub mod blockmap;
pub mod blockrole;
pub mod dir;
pub mod extent;
pub mod file;
pub mod fs;
pub mod group;
pub mod inode;
pub mod journal;
pub mod path;
pub mod superblock;
pub mod volume;
pub mod xattr;

pub use blockmap::{BlockMap, Run};
pub use dir::{DirEntry, DirListing};
pub use fs::Filesystem;
pub use group::GroupDesc;
pub use inode::{FileType, Inode};
pub use superblock::Superblock;
pub use xattr::{Xattr, XattrList};

//! Small helpers shared by every layer: bounds-checked little-endian reads,
//! CRCs, time formatting and safe name escaping.

pub mod bytes;
pub mod crc;
pub mod dec;
pub mod escape;
pub mod ordered;
pub mod time;

/// Linux `O_NOFOLLOW` (asm-generic fcntl.h).
pub const O_NOFOLLOW: i32 = 0o400000;

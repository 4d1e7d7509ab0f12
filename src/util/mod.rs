//! Small helpers shared by every layer: bounds-checked little-endian reads,
//! CRCs, time formatting and safe name escaping.

pub mod bytes;
pub mod crc;
pub mod dec;
pub mod escape;
pub mod ordered;
pub mod time;
pub mod warning;

/// `O_NOFOLLOW` for this target, from rustix (its value differs between
/// architectures: 0o400000 on x86-64 is `O_LARGEFILE` on arm64).
pub const O_NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

//! Small helpers shared by every layer: bounds-checked little-endian reads,
//! CRCs, time formatting and safe name escaping.

pub mod bytes;
pub mod crc;
pub mod escape;
pub mod time;

//! Bounds-checked little-endian field access over byte slices.
//!
//! On-disk structures are parsed from slices whose length may lie; every
//! accessor returns 0 (or an empty slice) rather than panicking when the
//! field lies outside the slice. Callers that must distinguish "short" from
//! "zero" check the slice length first.

#[inline]
pub fn u8_at(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

#[inline]
pub fn le16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off.wrapping_add(2)) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

#[inline]
pub fn le32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

#[inline]
pub fn le64(b: &[u8], off: usize) -> u64 {
    match b.get(off..off.wrapping_add(8)) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

#[inline]
pub fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

#[inline]
pub fn be64(b: &[u8], off: usize) -> u64 {
    match b.get(off..off.wrapping_add(8)) {
        Some(s) => u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

/// `len` bytes at `off`, or an empty slice when out of bounds.
#[inline]
pub fn slice(b: &[u8], off: usize, len: usize) -> &[u8] {
    b.get(off..off.saturating_add(len)).unwrap_or(&[])
}

/// Fixed-size copy (zero-filled where the source is short).
pub fn array<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(off..) {
        let n = s.len().min(N);
        out[..n].copy_from_slice(&s[..n]);
    }
    out
}

/// A NUL-terminated (or NUL-padded) fixed-width string field.
pub fn cstr(b: &[u8], off: usize, len: usize) -> Vec<u8> {
    let s = slice(b, off, len);
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    s[..end].to_vec()
}

pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &c in b {
        s.push(H[(c >> 4) as usize] as char);
        s.push(H[(c & 15) as usize] as char);
    }
    s
}

pub fn is_zero(b: &[u8]) -> bool {
    // Compare in word-sized chunks; the compiler vectorises this.
    let (chunks, rest) = b.split_at(b.len() - b.len() % 8);
    chunks
        .chunks_exact(8)
        .all(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) == 0)
        && rest.iter().all(|&c| c == 0)
}

/// RFC 4122 UUID text form of 16 bytes.
pub fn uuid(b: &[u8; 16]) -> String {
    let h = hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn out_of_bounds_reads_are_zero() {
        let b = [1u8, 2, 3];
        assert_eq!(le16(&b, 0), 0x0201);
        assert_eq!(le16(&b, 2), 0);
        assert_eq!(le32(&b, usize::MAX), 0);
        assert_eq!(slice(&b, 2, 5), &[] as &[u8]);
        assert_eq!(array::<4>(&b, 1), [2, 3, 0, 0]);
        assert!(is_zero(&[0u8; 17]));
        assert!(!is_zero(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    }
}

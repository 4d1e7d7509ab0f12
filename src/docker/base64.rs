//! A small standard-alphabet base64 decoder (tar-split payloads). No new
//! dependency for twenty lines.

const INVALID: u8 = 0xFF;
const PAD: u8 = 0xFE;
const SPACE: u8 = 0xFD;

const fn table() -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t[b'=' as usize] = PAD;
    t[b' ' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t
}
static TABLE: [u8; 256] = table();

/// Decode standard base64 (`+/`, `=` padding optional; the URL-safe
/// `-_` too). Whitespace is skipped; any other byte outside the alphabet
/// makes it `None`. Whole 4-character groups take a fast path (tar-split
/// payloads are most of a layer check's parsing).
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 4 * 3 + 3);
    let mut buf: u32 = 0;
    let mut bits = 0u32;
    let mut pad = 0usize;
    let mut i = 0;
    while i < b.len() {
        if bits == 0 && pad == 0 {
            if let Some(q) = b.get(i..i + 4) {
                let v = [
                    TABLE[q[0] as usize],
                    TABLE[q[1] as usize],
                    TABLE[q[2] as usize],
                    TABLE[q[3] as usize],
                ];
                if v.iter().all(|&x| x < 64) {
                    let n = (v[0] as u32) << 18
                        | (v[1] as u32) << 12
                        | (v[2] as u32) << 6
                        | v[3] as u32;
                    out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
                    i += 4;
                    continue;
                }
            }
        }
        let v = TABLE[b[i] as usize];
        i += 1;
        match v {
            PAD => {
                pad += 1;
                continue;
            }
            SPACE => continue,
            INVALID => return None,
            _ => {}
        }
        if pad > 0 {
            return None; // data after padding
        }
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    if pad > 2 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        assert_eq!(super::decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(super::decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(super::decode("").unwrap(), b"");
        assert_eq!(
            super::decode("AAECAwQFBgc=").unwrap(),
            [0, 1, 2, 3, 4, 5, 6, 7]
        );
        assert!(super::decode("a$b").is_none());
        assert_eq!(super::decode("aGVs\nbG8=").unwrap(), b"hello");
        assert!(super::decode("aGVsbG8=aGVs").is_none());
        // Every 0..=255 byte value, through both paths.
        let all: Vec<u8> = (0..=255u8).collect();
        let enc = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
        assert_eq!(super::decode(enc).unwrap(), all);
        let spaced: String = enc.chars().flat_map(|c| [c, ' ']).collect();
        assert_eq!(super::decode(&spaced).unwrap(), all);
    }
}

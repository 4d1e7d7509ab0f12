//! Names are bytes. These helpers show them without letting a hostile name
//! drive the terminal (control characters, ANSI escapes) and without losing
//! the original bytes.

/// Escape for the terminal: printable UTF-8 is kept; control characters,
/// DEL, C1 controls and invalid bytes become `\xNN`; a backslash is doubled.
pub fn escape_bytes(b: &[u8]) -> String {
    if b.iter().all(|&c| (0x20..0x7f).contains(&c) && c != b'\\') {
        // Printable ASCII: nothing to escape (the common case).
        return String::from_utf8_lossy(b).into_owned();
    }
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for ch in chunk.valid().chars() {
            let c = ch as u32;
            if ch == '\\' {
                out.push_str("\\\\");
            } else if c < 0x20 || c == 0x7f || (0x80..0xa0).contains(&c) {
                // Includes ESC (0x1b), CR, LF, tab: all shown as \xNN.
                if c < 0x100 {
                    out.push_str(&format!("\\x{c:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{c:x}}}"));
                }
            } else if matches!(c, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069) {
                // Bidi overrides can reorder what the examiner sees.
                out.push_str(&format!("\\u{{{c:x}}}"));
            } else {
                out.push(ch);
            }
        }
        for &bad in chunk.invalid() {
            out.push_str(&format!("\\x{bad:02x}"));
        }
    }
    out
}

/// Escape a `str` for the terminal (log lines, labels).
pub fn escape_str(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

/// For JSON: valid UTF-8 is returned as is (serde escapes it exactly);
/// invalid bytes become `\xNN`. Callers add a hex field for exact bytes
/// when [`is_utf8`] is false.
pub fn json_name(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                for &bad in chunk.invalid() {
                    out.push_str(&format!("\\x{bad:02x}"));
                }
            }
            out
        }
    }
}

/// serde helper: raw bytes as a JSON string via [`json_name`].
pub fn ser_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&json_name(v))
}

pub fn is_utf8(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn escapes_hostile_names() {
        assert_eq!(escape_bytes(b"plain name.txt"), "plain name.txt");
        assert_eq!(escape_bytes(b"a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(escape_bytes(b"caf\xe9"), "caf\\xe9");
        assert_eq!(escape_bytes(b"new\nline"), "new\\x0aline");
        assert_eq!(escape_bytes("é€".as_bytes()), "é€");
        assert_eq!(escape_bytes("\u{202e}txt".as_bytes()), "\\u{202e}txt");
        assert_eq!(json_name(b"\xff\xfe"), "\\xff\\xfe");
    }
}

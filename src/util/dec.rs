//! Decimal digits straight into a byte buffer, for the row writers
//! (bodyfile, timeline) that emit millions of numbers: no `fmt` machinery,
//! no UTF-8 checks.

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `v` in decimal, two digits at a time.
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 && i >= 2 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if v >= 10 && i >= 2 {
        let d = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    } else if i >= 1 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// `v` in decimal, with a leading `-` when negative.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// `v` zero-padded to at least `width` digits, as `{:0width$}` prints it.
pub fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut n = 1;
    let mut x = v;
    while x >= 10 {
        x /= 10;
        n += 1;
    }
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(n)));
    push_u64(out, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn as_fmt_prints() {
        for v in [
            0u64,
            7,
            9,
            10,
            42,
            99,
            100,
            101,
            999,
            1000,
            1795868431,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            push_u64(&mut b, v);
            assert_eq!(b, v.to_string().as_bytes());
            for w in [0, 2, 4, 9] {
                let mut b = Vec::new();
                push_padded(&mut b, v, w);
                assert_eq!(b, format!("{v:0w$}").as_bytes());
            }
        }
        for v in [0i64, -1, 5, -99, i64::MIN, i64::MAX, 1_795_868_431_000_000] {
            let mut b = Vec::new();
            push_i64(&mut b, v);
            assert_eq!(b, v.to_string().as_bytes());
        }
    }
}

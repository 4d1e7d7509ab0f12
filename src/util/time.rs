//! Timestamps: ext4's split seconds/extra encoding and RFC 3339 output.

/// A point in time as seconds since the Unix epoch plus nanoseconds.
/// Packed to 4-byte alignment: 12 bytes, 16 as an `Option` (24 unpacked).
/// Every inode and candidate holds four or five.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
#[repr(C, packed(4))]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: u32) -> Self {
        Timestamp { secs, nanos }
    }

    /// ext4 time: a signed 32-bit seconds field, optionally widened by the
    /// `_extra` field (bits 0-1: epoch bits 32-33, bits 2-31: nanoseconds).
    pub fn from_ext4(lo: u32, extra: Option<u32>) -> Self {
        let mut secs = lo as i32 as i64;
        let mut nanos = 0;
        if let Some(x) = extra {
            secs += ((x & 3) as i64) << 32;
            nanos = x >> 2;
            if nanos >= 1_000_000_000 {
                nanos = 0; // hostile or garbage extra field
            }
        }
        Timestamp { secs, nanos }
    }

    pub fn is_zero(&self) -> bool {
        self.secs == 0 && self.nanos == 0
    }

    /// RFC 3339 UTC with nanoseconds: `2024-01-02T03:04:05.123456789Z`.
    pub fn rfc3339(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            y,
            m,
            d,
            sod / 3600,
            (sod / 60) % 60,
            sod % 60,
            self.nanos
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days` algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse an RFC 3339 timestamp as Docker writes them
/// (`2024-05-01T10:11:12.123456789Z` or with a `+hh:mm` offset).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let mut offset = 0i64;
    match b.get(i) {
        Some(b'Z') | Some(b'z') => {}
        Some(&c) if c == b'+' || c == b'-' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            offset = (oh * 3600 + om * 60) * if c == b'-' { -1 } else { 1 };
        }
        _ => return None,
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset;
    Some(Timestamp { secs, nanos })
}

/// Serialised as RFC 3339 UTC with nanoseconds.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn formats_and_parses() {
        assert_eq!(
            Timestamp::new(0, 0).rfc3339(),
            "1970-01-01T00:00:00.000000000Z"
        );
        let t = Timestamp::new(1_700_000_000, 5);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(parse_rfc3339(&t.rfc3339()), Some(t));
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.5+01:00"),
            Some(Timestamp::new(1_700_000_000, 500_000_000))
        );
        assert_eq!(
            Timestamp::new(-1, 0).rfc3339(),
            "1969-12-31T23:59:59.000000000Z"
        );
        // Epoch bits extend past 2038.
        let t = Timestamp::from_ext4(0x8000_0000, Some(1));
        let secs = t.secs; // packed: copied out, never referenced
        assert_eq!(secs, 0x8000_0000);
        assert_eq!(std::mem::size_of::<Option<Timestamp>>(), 16);
    }
}

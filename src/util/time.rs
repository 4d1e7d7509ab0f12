//! Timestamps: ext4's split seconds/extra encoding and RFC 3339 output.

/// A point in time as seconds since the Unix epoch plus nanoseconds.
/// Packed to 4-byte alignment: 12 bytes, 16 as an `Option` (24 unpacked).
/// Every inode and candidate holds four or five.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
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
        let mut v = Vec::with_capacity(30);
        self.push_rfc3339(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }

    /// [`rfc3339`](Self::rfc3339) appended to `out` (digits only, ASCII).
    pub fn push_rfc3339(&self, out: &mut Vec<u8>) {
        use super::dec::push_padded;
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400) as u64;
        let (y, m, d) = civil_from_days(days);
        let Ok(y) = u64::try_from(y) else {
            out.extend_from_slice(self.rfc3339_fmt(y, m, d, sod).as_bytes());
            return;
        };
        push_padded(out, y, 4);
        for (sep, v) in [
            (b'-', m as u64),
            (b'-', d as u64),
            (b'T', sod / 3600),
            (b':', (sod / 60) % 60),
            (b':', sod % 60),
        ] {
            out.push(sep);
            push_padded(out, v, 2);
        }
        out.push(b'.');
        push_padded(out, self.nanos as u64, 9);
        out.push(b'Z');
    }

    /// Years before 0: as `format!` pads a negative number.
    fn rfc3339_fmt(&self, y: i64, m: u32, d: u32, sod: u64) -> String {
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

/// An optional ext4 time in 8 bytes (an `Option<Timestamp>` is 16): the
/// on-disk seconds word and its `_extra` word (bits 0-1 epoch, bits 2-31
/// nanoseconds). `extra == u32::MAX` (10^9 or more nanoseconds, which
/// [`Timestamp::from_ext4`] never yields) means no time. Deleted-file
/// candidates hold five, and 5M-inode images have 400k candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ext4Time {
    lo: u32,
    extra: u32,
}

impl Ext4Time {
    pub const NONE: Ext4Time = Ext4Time {
        lo: 0,
        extra: u32::MAX,
    };

    /// Exact for every time ext4 can hold (what [`Timestamp::from_ext4`]
    /// returns, and `i_dtime` as seconds); seconds outside ext4's 34-bit
    /// range saturate to its ends.
    pub fn pack(t: Option<Timestamp>) -> Self {
        let Some(t) = t else { return Self::NONE };
        const MIN: i64 = i32::MIN as i64;
        const MAX: i64 = i32::MAX as i64 + (3 << 32);
        let secs = t.secs.clamp(MIN, MAX);
        let lo = secs as u32;
        let epoch = ((secs - lo as i32 as i64) >> 32) as u32 & 3;
        let nanos = if t.nanos < 1_000_000_000 { t.nanos } else { 0 };
        Ext4Time {
            lo,
            extra: epoch | nanos << 2,
        }
    }

    pub fn get(self) -> Option<Timestamp> {
        (self.extra != u32::MAX).then(|| Timestamp::from_ext4(self.lo, Some(self.extra)))
    }
}

/// Serialised as the `Option<Timestamp>` it holds.
impl serde::Serialize for Ext4Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.get() {
            Some(t) => s.serialize_some(&t),
            None => s.serialize_none(),
        }
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
    #[test]
    fn rfc3339_digits_match_fmt() {
        for secs in [
            0i64,
            1,
            -1,
            86_399,
            1_795_868_431,
            -62_135_596_800,
            -62_198_755_200,
            17_179_869_183,
            -2_147_483_648,
        ] {
            for nanos in [0u32, 5, 999_999_999, 1_234_567_890] {
                let t = Timestamp::new(secs, nanos);
                let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
                let sod = secs.rem_euclid(86_400) as u64;
                assert_eq!(t.rfc3339(), t.rfc3339_fmt(y, m, d, sod), "{secs} {nanos}");
            }
        }
        assert_eq!(
            Timestamp::new(0, 5).rfc3339(),
            "1970-01-01T00:00:00.000000005Z"
        );
    }

    use super::*;
    #[test]
    fn ext4_time_round_trips() {
        assert_eq!(std::mem::size_of::<Ext4Time>(), 8);
        assert_eq!(Ext4Time::pack(None).get(), None);
        for secs in [
            0i64,
            1,
            -1,
            i32::MIN as i64,
            i32::MAX as i64,
            u32::MAX as i64,
            1_700_000_000,
            i32::MAX as i64 + (3 << 32),
        ] {
            for nanos in [0u32, 1, 999_999_999] {
                let t = Timestamp::new(secs, nanos);
                assert_eq!(Ext4Time::pack(Some(t)).get(), Some(t), "{secs} {nanos}");
            }
        }
        // Every value from_ext4 decodes is kept exactly.
        for (lo, extra) in [
            (0u32, 3u32),
            (0x8000_0000, 1),
            (u32::MAX, (999_999_999 << 2) | 2),
        ] {
            let t = Timestamp::from_ext4(lo, Some(extra));
            assert_eq!(Ext4Time::pack(Some(t)).get(), Some(t));
        }
        assert_eq!(
            Ext4Time::pack(Some(Timestamp::new(i64::MAX, 5))).get(),
            Some(Timestamp::new(i32::MAX as i64 + (3 << 32), 5))
        );
        assert_eq!(serde_json::to_string(&Ext4Time::NONE).unwrap(), "null");
        assert_eq!(
            serde_json::to_string(&Ext4Time::pack(Some(Timestamp::new(1, 2)))).unwrap(),
            "\"1970-01-01T00:00:01.000000002Z\""
        );
    }

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

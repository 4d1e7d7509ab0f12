//! CRCs used by the on-disk formats.
//!
//! - crc32c (Castagnoli): ext4 metadata_csum and jbd2 csum v2/v3. The kernel's
//!   `ext4_chksum()` is a raw update with no pre/post inversion; callers seed
//!   it as the format says (usually `!0`).
//! - crc16 (poly 0x8005, reflected): ext4 `gdt_csum` group descriptors.
//! - crc32 (IEEE, reflected): jbd2 v1 `JBD2_FEATURE_COMPAT_CHECKSUM` commit blocks.
//! - crc64 (ISO polynomial, reflected): Go's `hash/crc64` as used by tar-split.

const fn make_table32(poly: u32) -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static CRC32C: [[u32; 256]; 8] = make_table32(0x82F6_3B78);
static CRC32: [[u32; 256]; 8] = make_table32(0xEDB8_8320);

fn update32(t: &[[u32; 256]; 8], mut crc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ b as u32) & 0xff) as usize];
    }
    crc
}

/// Raw crc32c update (no inversion), as the kernel's `crc32c(crc, p, len)`.
pub fn crc32c_update(crc: u32, data: &[u8]) -> u32 {
    update32(&CRC32C, crc, data)
}

/// Standard crc32c of a buffer (seed !0, final inversion).
pub fn crc32c(data: &[u8]) -> u32 {
    !crc32c_update(!0, data)
}

/// Raw IEEE crc32 update (no inversion), as the kernel's `crc32_be`-less `crc32_le`.
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    update32(&CRC32, crc, data)
}

const fn make_table16() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA001
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}
static CRC16: [u16; 256] = make_table16();

/// Linux `crc16()` update (poly 0x8005 reflected, no inversion).
pub fn crc16_update(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc = (crc >> 8) ^ CRC16[((crc ^ b as u16) & 0xff) as usize];
    }
    crc
}

const fn make_table64() -> [[u64; 256]; 8] {
    // ISO 3309 polynomial, reflected (Go hash/crc64 ISO table); tables 1..7
    // for slicing-by-8.
    let poly: u64 = 0xD800_0000_0000_0000;
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let p = t[k - 1][i];
            t[k][i] = (p >> 8) ^ t[0][(p & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}
static CRC64_ISO: [[u64; 256]; 8] = make_table64();

/// Go `crc64.Update(crc, ISOTable, p)`: inverted on entry and exit.
pub fn crc64_iso_update(crc: u64, data: &[u8]) -> u64 {
    let t = &CRC64_ISO;
    let mut c = !crc;
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(ch);
        c ^= u64::from_le_bytes(w);
        c = t[7][(c & 0xff) as usize]
            ^ t[6][((c >> 8) & 0xff) as usize]
            ^ t[5][((c >> 16) & 0xff) as usize]
            ^ t[4][((c >> 24) & 0xff) as usize]
            ^ t[3][((c >> 32) & 0xff) as usize]
            ^ t[2][((c >> 40) & 0xff) as usize]
            ^ t[1][((c >> 48) & 0xff) as usize]
            ^ t[0][(c >> 56) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ b as u64) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_vectors() {
        // RFC 3720 / iSCSI check value for "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(!crc32_update(!0, b"123456789"), 0xCBF4_3926);
        // CRC-16/ARC check value.
        assert_eq!(crc16_update(0, b"123456789"), 0xBB3D);
        // CRC-64/GO-ISO check value; slicing-by-8 matches the bytewise
        // form at every length and split.
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let bytewise = |d: &[u8]| {
            let mut c = !0u64;
            for &b in d {
                c = CRC64_ISO[0][((c ^ b as u64) & 0xff) as usize] ^ (c >> 8);
            }
            !c
        };
        for n in [0, 1, 7, 8, 9, 63, 64, 999, 1000] {
            assert_eq!(crc64_iso_update(0, &data[..n]), bytewise(&data[..n]));
            let half = crc64_iso_update(0, &data[..n / 3]);
            assert_eq!(
                crc64_iso_update(half, &data[n / 3..n]),
                bytewise(&data[..n])
            );
        }
        assert_eq!(crc64_iso_update(0, b"123456789"), 0xB909_56C7_75A4_1001);
        // Splitting the input gives the same result.
        let whole = crc32c_update(!0, b"hello world, ext4");
        let split = crc32c_update(crc32c_update(!0, b"hello "), b"world, ext4");
        assert_eq!(whole, split);
    }
}

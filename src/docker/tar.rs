//! A deterministic ustar writer with PAX extended headers for long names,
//! long link targets and big numbers (what `docker export` emits).

use std::io::Write;

/// One tar header.
#[derive(Clone, Debug, Default)]
pub struct TarHeader {
    /// Relative path (no leading `/`); directories end with `/`.
    pub path: Vec<u8>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: i64,
    /// `0` file, `1` hard link, `2` symlink, `3` char, `4` block, `5` dir, `6` fifo.
    pub typeflag: u8,
    pub linkname: Vec<u8>,
    pub devmajor: u32,
    pub devminor: u32,
}

pub struct TarWriter<W: Write> {
    w: W,
    pub written: u64,
}

fn octal(buf: &mut [u8], v: u64) -> bool {
    // width-1 digits then NUL
    let digits = buf.len() - 1;
    let s = format!("{v:0digits$o}");
    if s.len() > digits {
        return false;
    }
    buf[..digits].copy_from_slice(s.as_bytes());
    buf[digits] = 0;
    true
}

fn pax_record(out: &mut Vec<u8>, key: &str, val: &[u8]) {
    // "<len> key=value\n" where len counts itself.
    let body = key.len() + val.len() + 3; // ' ', '=', '\n'
    let mut n = body + 1;
    loop {
        let total = body + n.to_string().len();
        if total == n {
            break;
        }
        n = total;
    }
    out.extend_from_slice(format!("{n} {key}=").as_bytes());
    out.extend_from_slice(val);
    out.push(b'\n');
}

impl<W: Write> TarWriter<W> {
    pub fn new(w: W) -> Self {
        TarWriter { w, written: 0 }
    }

    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.w.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self, len: u64) -> std::io::Result<()> {
        let r = (512 - (len % 512)) % 512;
        if r > 0 {
            self.put(&vec![0u8; r as usize])?;
        }
        Ok(())
    }

    fn raw_header(
        &mut self,
        h: &TarHeader,
        name: &[u8],
        link: &[u8],
        size: u64,
        typeflag: u8,
    ) -> std::io::Result<()> {
        let mut b = [0u8; 512];
        let n = name.len().min(100);
        b[..n].copy_from_slice(&name[..n]);
        octal(&mut b[100..108], (h.mode & 0o7777) as u64);
        if !octal(&mut b[108..116], h.uid) {
            octal(&mut b[108..116], 0);
        }
        if !octal(&mut b[116..124], h.gid) {
            octal(&mut b[116..124], 0);
        }
        if !octal(&mut b[124..136], size) {
            octal(&mut b[124..136], 0);
        }
        octal(&mut b[136..148], h.mtime.max(0) as u64);
        b[156] = typeflag;
        let l = link.len().min(100);
        b[157..157 + l].copy_from_slice(&link[..l]);
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        if typeflag == b'3' || typeflag == b'4' {
            octal(&mut b[329..337], h.devmajor as u64);
            octal(&mut b[337..345], h.devminor as u64);
        }
        b[148..156].copy_from_slice(b"        ");
        let sum: u32 = b.iter().map(|&x| x as u32).sum();
        let s = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(s.as_bytes());
        self.put(&b)
    }

    /// Write a header (with a PAX header first when needed). The caller
    /// then writes exactly `h.size` bytes with [`data`](Self::data).
    pub fn header(&mut self, h: &TarHeader) -> std::io::Result<()> {
        let mut pax = Vec::new();
        if h.path.len() > 100 || !h.path.is_ascii() {
            pax_record(&mut pax, "path", &h.path);
        }
        if h.linkname.len() > 100 || !h.linkname.is_ascii() {
            pax_record(&mut pax, "linkpath", &h.linkname);
        }
        if h.size >= 0o77777777777 {
            pax_record(&mut pax, "size", h.size.to_string().as_bytes());
        }
        if h.uid > 0o7777777 {
            pax_record(&mut pax, "uid", h.uid.to_string().as_bytes());
        }
        if h.gid > 0o7777777 {
            pax_record(&mut pax, "gid", h.gid.to_string().as_bytes());
        }
        if !pax.is_empty() {
            let mut name = b"PaxHeaders/".to_vec();
            let tail = &h.path[h.path.len().saturating_sub(80)..];
            name.extend(
                tail.iter()
                    .map(|&c| if c.is_ascii() && c != 0 { c } else { b'_' }),
            );
            let ph = TarHeader {
                mode: 0o644,
                mtime: h.mtime,
                ..Default::default()
            };
            self.raw_header(&ph, &name, b"", pax.len() as u64, b'x')?;
            self.put(&pax)?;
            self.pad(pax.len() as u64)?;
        }
        self.raw_header(h, &h.path, &h.linkname, h.size, h.typeflag)
    }

    /// Payload bytes of the current entry (call [`end_data`](Self::end_data) after).
    pub fn data(&mut self) -> &mut W {
        &mut self.w
    }

    /// Account for `len` payload bytes written through [`data`](Self::data) and pad.
    pub fn end_data(&mut self, len: u64) -> std::io::Result<()> {
        self.written += len;
        self.pad(len)
    }

    /// Two zero blocks, then flush.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.put(&[0u8; 1024])?;
        self.w.flush()?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pax_len_counts_itself() {
        let mut v = Vec::new();
        super::pax_record(&mut v, "path", b"abc");
        assert_eq!(v, b"12 path=abc\n");
        let mut v = Vec::new();
        super::pax_record(&mut v, "path", &[b'a'; 95]);
        assert_eq!(v.len(), 105);
        assert!(v.starts_with(b"105 path="));
    }
}

//! A deterministic tar writer (POSIX ustar + PAX), with headers written field by field.
//!
//! Why not the `tar` crate's builder: its deterministic mode clears setuid/setgid bits,
//! and a root filesystem needs them; it also writes no xattrs. Here every header field
//! comes from [`TarEntry`] alone: uname/gname are always empty, numeric fields are octal,
//! and anything a ustar header cannot hold goes into a PAX extended header whose records
//! have a fixed order (path, linkpath, size, uid, gid, then xattrs sorted by name as
//! `SCHILY.xattr.NAME`). So the same entries always give the same bytes.

use std::io::{self, Read, Write};

/// What a tar entry is: its typeflag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarEntryType {
    File,
    Dir,
    Symlink,
    /// A hard link (type `1`) to an earlier entry, named by `link`.
    HardLink,
    Char,
    Block,
    Fifo,
}

impl TarEntryType {
    fn typeflag(self) -> u8 {
        match self {
            TarEntryType::File => b'0',
            TarEntryType::HardLink => b'1',
            TarEntryType::Symlink => b'2',
            TarEntryType::Char => b'3',
            TarEntryType::Block => b'4',
            TarEntryType::Dir => b'5',
            TarEntryType::Fifo => b'6',
        }
    }
}

/// One archive member. `path` is relative, without a leading `/` or `./`; directories
/// get their trailing `/` from the writer.
#[derive(Debug, Clone)]
pub struct TarEntry {
    pub path: Vec<u8>,
    pub kind: TarEntryType,
    /// Permission bits including setuid, setgid and sticky (`& 0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch (negative values are written as 0).
    pub mtime: i64,
    /// Content length; only regular files carry content.
    pub size: u64,
    /// Symlink target or hard-link target path.
    pub link: Vec<u8>,
    pub dev_major: u32,
    pub dev_minor: u32,
    /// Extended attributes, in any order (written sorted by name).
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TarEntry {
    pub fn new(path: Vec<u8>, kind: TarEntryType) -> TarEntry {
        TarEntry {
            path,
            kind,
            mode: if kind == TarEntryType::Dir {
                0o755
            } else {
                0o644
            },
            uid: 0,
            gid: 0,
            mtime: 0,
            size: 0,
            link: Vec::new(),
            dev_major: 0,
            dev_minor: 0,
            xattrs: Vec::new(),
        }
    }
}

const BLOCK: usize = 512;
const MAX_OCTAL_7: u64 = 0o7777777;
const MAX_OCTAL_11: u64 = 0o77777777777;

/// Writes entries; [`TarWriter::finish`] adds the two zero end blocks.
pub struct TarWriter<W: Write> {
    w: W,
    buf: Vec<u8>,
}

impl<W: Write> TarWriter<W> {
    pub fn new(w: W) -> TarWriter<W> {
        TarWriter {
            w,
            buf: vec![0u8; 256 * 1024],
        }
    }

    /// Append one entry. For regular files `data` must yield exactly `entry.size` bytes
    /// (a file that changed while being read is an error, not a corrupt archive).
    pub fn append(&mut self, e: &TarEntry, data: Option<&mut dyn Read>) -> io::Result<()> {
        let mut path = e.path.clone();
        if e.kind == TarEntryType::Dir && !path.ends_with(b"/") {
            path.push(b'/');
        }
        let size = if e.kind == TarEntryType::File {
            e.size
        } else {
            0
        };
        let pax = pax_for(e, &path, size);
        if !pax.is_empty() {
            let body = pax_records(&pax);
            let mut name = b"PaxHeaders/".to_vec();
            let base = path
                .rsplit(|&b| b == b'/')
                .find(|s| !s.is_empty())
                .unwrap_or(b"entry");
            name.extend_from_slice(&base[..base.len().min(80)]);
            let h = header(
                &name,
                b'x',
                0o644,
                0,
                0,
                e.mtime,
                body.len() as u64,
                b"",
                0,
                0,
            );
            self.w.write_all(&h)?;
            self.w.write_all(&body)?;
            self.pad(body.len() as u64)?;
        }
        let h = header(
            &path,
            e.kind.typeflag(),
            e.mode & 0o7777,
            e.uid,
            e.gid,
            e.mtime,
            size,
            &e.link,
            e.dev_major,
            e.dev_minor,
        );
        self.w.write_all(&h)?;
        if size > 0 {
            let r = data.ok_or_else(|| io::Error::other("a regular file entry needs its data"))?;
            let mut left = size;
            while left > 0 {
                let want = (self.buf.len() as u64).min(left) as usize;
                let n = match r.read(&mut self.buf[..want]) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!(
                                "{} shrank while being read ({left} of {size} bytes missing)",
                                String::from_utf8_lossy(&e.path)
                            ),
                        ))
                    }
                    Ok(n) => n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                };
                self.w.write_all(&self.buf[..n])?;
                left -= n as u64;
            }
            self.pad(size)?;
        }
        Ok(())
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let rem = (len % BLOCK as u64) as usize;
        if rem != 0 {
            self.w.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    /// Write the end-of-archive marker and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.w)
    }
}

/// The PAX records an entry needs: whatever its ustar header cannot hold, in a fixed
/// order (path, linkpath, size, uid, gid, then xattrs sorted by name).
fn pax_for(e: &TarEntry, path: &[u8], size: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if path.len() > 100 {
        pax.push((b"path".to_vec(), path.to_vec()));
    }
    if e.link.len() > 100 {
        pax.push((b"linkpath".to_vec(), e.link.clone()));
    }
    if size > MAX_OCTAL_11 {
        pax.push((b"size".to_vec(), size.to_string().into_bytes()));
    }
    if e.uid > MAX_OCTAL_7 {
        pax.push((b"uid".to_vec(), e.uid.to_string().into_bytes()));
    }
    if e.gid > MAX_OCTAL_7 {
        pax.push((b"gid".to_vec(), e.gid.to_string().into_bytes()));
    }
    let mut xattrs: Vec<&(Vec<u8>, Vec<u8>)> = e.xattrs.iter().collect();
    xattrs.sort();
    for (k, v) in xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(k);
        pax.push((key, v.clone()));
    }
    pax
}

/// PAX records: `"%d %s=%s\n"`, where the length counts the whole record.
fn pax_records(records: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        let base = k.len() + v.len() + 3; // ' ', '=', '\n'
        let mut len = base + 1;
        while base + len.to_string().len() != len {
            len = base + len.to_string().len();
        }
        out.extend_from_slice(len.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
        out.push(b'\n');
    }
    out
}

fn octal(field: &mut [u8], value: u64) {
    // `width - 1` digits then NUL; values that do not fit were moved to PAX and are 0 here.
    let digits = field.len() - 1;
    let max = if digits >= 22 {
        u64::MAX
    } else {
        (1u64 << (3 * digits)) - 1
    };
    let v = if value > max { 0 } else { value };
    let s = format!("{v:0digits$o}");
    field[..digits].copy_from_slice(s.as_bytes());
    field[digits] = 0;
}

#[allow(clippy::too_many_arguments)]
fn header(
    path: &[u8],
    typeflag: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: i64,
    size: u64,
    link: &[u8],
    dev_major: u32,
    dev_minor: u32,
) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    // Names longer than 100 bytes are carried by PAX; the header keeps a prefix.
    let n = path.len().min(100);
    h[0..n].copy_from_slice(&path[..n]);
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], uid);
    octal(&mut h[116..124], gid);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime.max(0) as u64);
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // uname (265..297) and gname (297..329) stay empty: no host-specific names.
    octal(&mut h[329..337], dev_major as u64);
    octal(&mut h[337..345], dev_minor as u64);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        // 90 bytes fit a 2-digit length (99); 91 need 3 digits (101): 100 is impossible.
        let r = pax_records(&[(b"path".to_vec(), vec![b'a'; 90])]);
        assert!(r.starts_with(b"99 path="));
        assert_eq!(r.len(), 99);
        let r = pax_records(&[(b"path".to_vec(), vec![b'a'; 91])]);
        assert!(r.starts_with(b"101 path="));
        assert_eq!(r.len(), 101);
        let r = pax_records(&[(b"k".to_vec(), b"v".to_vec())]);
        assert_eq!(r, b"6 k=v\n");
    }

    #[test]
    fn large_files_and_ids_go_to_pax() {
        let mut e = TarEntry::new(b"big".to_vec(), TarEntryType::File);
        e.size = 10 << 30; // 10 GiB: more than 11 octal digits hold
        e.gid = 1 << 30;
        let pax = pax_for(&e, b"big", e.size);
        assert_eq!(
            pax,
            vec![
                (b"size".to_vec(), b"10737418240".to_vec()),
                (b"gid".to_vec(), b"1073741824".to_vec())
            ]
        );
        let h = header(b"big", b'0', 0o644, 0, e.gid, 0, e.size, b"", 0, 0);
        assert_eq!(
            &h[124..136],
            b"00000000000\0",
            "the header size defers to PAX"
        );
    }

    #[test]
    fn round_trips_through_the_tar_crate() {
        let long = vec![b'x'; 150];
        let mut f = TarEntry::new(b"bin/su".to_vec(), TarEntryType::File);
        f.mode = 0o4755;
        f.size = 5;
        f.uid = 5_000_000; // needs PAX
        f.mtime = 1_700_000_000;
        f.xattrs = vec![
            (b"user.b".to_vec(), b"2".to_vec()),
            (
                b"security.capability".to_vec(),
                vec![1, 0, 0, 2, 0x20, 0, 0, 0],
            ),
        ];
        let mut l = TarEntry::new(long.clone(), TarEntryType::Symlink);
        l.link = long.clone();
        let mut h = TarEntry::new(b"bin/su2".to_vec(), TarEntryType::HardLink);
        h.link = b"bin/su".to_vec();
        let mut c = TarEntry::new(b"dev/null".to_vec(), TarEntryType::Char);
        c.dev_major = 1;
        c.dev_minor = 3;
        let mut w = TarWriter::new(Vec::new());
        w.append(&TarEntry::new(b"bin".to_vec(), TarEntryType::Dir), None)
            .unwrap();
        w.append(&f, Some(&mut &b"hello"[..])).unwrap();
        w.append(&l, None).unwrap();
        w.append(&h, None).unwrap();
        w.append(&c, None).unwrap();
        let bytes = w.finish().unwrap();
        let mut a = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path_bytes().to_vec();
            let hdr = e.header().clone();
            let pax: Vec<(String, Vec<u8>)> = e
                .pax_extensions()
                .unwrap()
                .into_iter()
                .flatten()
                .map(|x| {
                    let x = x.unwrap();
                    (x.key().unwrap().to_string(), x.value_bytes().to_vec())
                })
                .collect();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            seen.push((path, hdr, pax, body));
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[0].0, b"bin/");
        assert_eq!(seen[1].1.mode().unwrap(), 0o4755);
        assert_eq!(seen[1].3, b"hello");
        assert!(seen[1]
            .2
            .iter()
            .any(|(k, v)| k == "SCHILY.xattr.security.capability" && v.len() == 8));
        assert!(seen[1].2.iter().any(|(k, v)| k == "uid" && v == b"5000000"));
        assert_eq!(seen[1].1.username_bytes(), Some(&b""[..]));
        assert_eq!(seen[2].0, long);
        assert_eq!(seen[3].1.entry_type(), tar::EntryType::Link);
        assert_eq!(seen[4].1.device_major().unwrap(), Some(1));
        assert_eq!(seen[4].1.device_minor().unwrap(), Some(3));
    }
}

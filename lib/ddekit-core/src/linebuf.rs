//! Per-thread collection of `ddekit_print` fragments into whole log lines:
//! printk continuation fragments (KERN_CONT) join the line they continue, and
//! each line goes out once, without its newline, at the level of its first
//! fragment.

/// Level of a line nobody gave a level (info).
pub const DEFAULT_LEVEL: u8 = 3;

pub struct LineBuffer<const N: usize> {
    buf: [u8; N],
    len: usize,
    level: u8,
}

impl<const N: usize> Default for LineBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuffer<N> {
    pub const fn new() -> Self {
        LineBuffer { buf: [0; N], len: 0, level: DEFAULT_LEVEL }
    }

    /// Sets the level of the line being collected, if it has not started yet.
    pub fn set_level(&mut self, level: u8) {
        if self.len == 0 {
            self.level = level;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a fragment; `emit(level, line)` gets every line it completes.
    /// A line longer than the buffer goes out in pieces.
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(u8, &str)) {
        for &b in bytes {
            match b {
                0 => break,
                b'\n' => self.end_line(&mut emit),
                _ => {
                    if self.len == N {
                        self.emit(&mut emit);
                    }
                    self.buf[self.len] = b;
                    self.len += 1;
                }
            }
        }
    }

    /// Ends the current line (if any) as if a newline came.
    pub fn end_line(&mut self, emit: &mut impl FnMut(u8, &str)) {
        self.emit(emit);
        self.level = DEFAULT_LEVEL;
    }

    fn emit(&mut self, emit: &mut impl FnMut(u8, &str)) {
        if self.len > 0 {
            emit(self.level, sanitize(&mut self.buf[..self.len]));
        }
        self.len = 0;
    }
}

/// Makes bytes valid UTF-8 in place (each invalid byte becomes `?`).
pub fn sanitize(bytes: &mut [u8]) -> &str {
    let mut from = 0;
    loop {
        match core::str::from_utf8(&bytes[from..]) {
            Ok(_) => break,
            Err(e) => {
                let bad = from + e.valid_up_to();
                let n = e.error_len().unwrap_or(bytes.len() - bad);
                bytes[bad..bad + n].fill(b'?');
                from = bad + n;
            }
        }
    }
    core::str::from_utf8(bytes).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(buf: &mut LineBuffer<16>, parts: &[(Option<u8>, &[u8])]) -> Vec<(u8, String)> {
        let mut out = Vec::new();
        for (level, bytes) in parts {
            if let Some(l) = level {
                buf.set_level(*l);
            }
            buf.push(bytes, |l, s| out.push((l, s.to_string())));
        }
        out
    }

    #[test]
    fn fragments_join_and_keep_the_first_level() {
        let mut b = LineBuffer::<16>::new();
        let out = run(&mut b, &[(Some(1), b"eth0: "), (Some(4), b"link "), (None, b"up\nnext")]);
        assert_eq!(out, [(1, "eth0: link up".to_string())]);
        let out = run(&mut b, &[(None, b" line\n\n")]);
        assert_eq!(out, [(3, "next line".to_string())], "empty lines are dropped, level back to info");
    }

    #[test]
    fn long_lines_and_bad_bytes() {
        let mut b = LineBuffer::<16>::new();
        let out = run(&mut b, &[(Some(2), b"0123456789abcdefXYZ\n")]);
        assert_eq!(out, [(2, "0123456789abcdef".to_string()), (2, "XYZ".to_string())]);
        let out = run(&mut b, &[(None, b"a\xffb\xe2\x82\n")]);
        assert_eq!(out, [(3, "a?b??".to_string())]);
        let out = run(&mut b, &[(None, b"stop\0ignored\n"), (None, b"\n")]);
        assert_eq!(out, [(3, "stop".to_string())]);
    }
}

//! Logging through the kernel log capability, with the task's name as prefix.
use core::fmt;
#[cfg(not(feature = "fiasco"))]
use l4_sys::MsgTag;
#[cfg(not(feature = "fiasco"))]
use l4_sys::cap::slot;
#[cfg(not(feature = "fiasco"))]
use l4_sys::proto::{PROTO_LOG, log::Request};

#[cfg(feature = "fiasco")]
pub use crate::platform::fiasco::log::write;

/// A fixed buffer for formatting without the heap (panics may run out of it).
pub struct Buf {
    bytes: [u8; 480],
    len: usize,
}

impl Buf {
    pub const fn new() -> Buf {
        Buf { bytes: [0; 480], len: 0 }
    }
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are ever appended.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes one line at a level (see `l4_sys::proto::log`).
#[cfg(not(feature = "fiasco"))]
pub fn write(level: u64, text: &str) {
    let req = Request::Write { level, text: l4_sys::message::Bytes::truncated(text) };
    if let Ok(words) = crate::ipc::encode(&req) {
        let _ = crate::ipc::send(slot::LOG, MsgTag::new(PROTO_LOG, words, 0), l4_sys::Timeout::Never);
    }
}

pub fn write_fmt(level: u64, args: fmt::Arguments) {
    let mut b = Buf::new();
    let _ = fmt::write(&mut b, args);
    write(level, b.as_str());
}

#[macro_export]
macro_rules! info { ($($a:tt)*) => { $crate::log::write_fmt($crate::sys::proto::log::LEVEL_INFO, format_args!($($a)*)) } }
#[macro_export]
macro_rules! warn { ($($a:tt)*) => { $crate::log::write_fmt($crate::sys::proto::log::LEVEL_WARN, format_args!($($a)*)) } }
#[macro_export]
macro_rules! error { ($($a:tt)*) => { $crate::log::write_fmt($crate::sys::proto::log::LEVEL_ERROR, format_args!($($a)*)) } }
#[macro_export]
macro_rules! debug { ($($a:tt)*) => { $crate::log::write_fmt($crate::sys::proto::log::LEVEL_DEBUG, format_args!($($a)*)) } }

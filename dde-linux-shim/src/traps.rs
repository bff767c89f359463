//! The end of a call to a Linux function the shim does not implement.
//!
//! When a legacy driver is linked, every symbol its objects use that neither
//! the shim, DDEKit nor the runtime define gets a generated trap of that name
//! (`src/traps.rs` of the host tool writes them): it calls
//! [`resurgo_unimplemented`] with its own name and its caller's return
//! address. The task then ends with the reason "called unimplemented `NAME`",
//! which the reincarnation server logs and `svc list` and the status page show.

use core::ffi::{CStr, c_char};
use core::fmt::Write;

/// The exit code of a task that called a trap (0 would be a clean exit).
const EXIT_UNIMPLEMENTED: u64 = 3;

/// A reason in a fixed buffer: a trap may be called with any lock held, the
/// heap's included, so nothing here allocates.
struct Reason {
    buf: [u8; 120],
    len: usize,
}

impl Write for Reason {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut b = [0u8; 4];
            let bytes = c.encode_utf8(&mut b).as_bytes();
            if self.len + bytes.len() > self.buf.len() {
                return Ok(());
            }
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
        Ok(())
    }
}

/// Called by a generated trap: `name` is the function the driver called,
/// `caller` the address it was called from.
///
/// # Safety
///
/// `name` is a NUL-terminated string (a trap's own, in its read-only data).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn resurgo_unimplemented(name: *const c_char, caller: usize) -> ! {
    let name = if name.is_null() {
        "?"
    } else {
        // SAFETY: the caller passes a NUL-terminated string that lives for good.
        unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("?")
    };
    rt::error!("called unimplemented `{}` (from {:#x}): the shim lacks it; ending the task", name, caller);
    let mut reason = Reason { buf: [0; 120], len: 0 };
    let _ = write!(reason, "called unimplemented `{name}`");
    rt::exit(EXIT_UNIMPLEMENTED, core::str::from_utf8(&reason.buf[..reason.len]).unwrap_or("called unimplemented"))
}

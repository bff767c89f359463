//! Print and panic: `ddekit_print`, `ddekit_print_level`, `ddekit_panic`.
//!
//! Text is collected per thread (in the thread's record) until a newline, so
//! that printk fragments, `KERN_CONT` continuations above all, become one log
//! line; each line goes to the kernel log (`rt::log::write`) with its level.
//! `ddekit_print_level` starts a new line at a level (ending an unfinished one
//! first, as a printk with a level does); `ddekit_print` continues the current
//! line (at info level if it is new).

use crate::thread::current;
use core::ffi::{c_char, c_int};
use ddekit_core::linebuf::DEFAULT_LEVEL;

fn emit(level: u8, line: &str) {
    rt::log::write(level as u64, line);
}

fn print(level: Option<c_int>, bytes: &[u8]) {
    let Some(buf) = current().print_buffer() else { return };
    if let Some(level) = level {
        if !buf.is_empty() {
            buf.end_line(&mut emit);
        }
        let level = if (1..=4).contains(&level) { level as u8 } else { DEFAULT_LEVEL };
        buf.set_level(level);
    }
    buf.push(bytes, emit);
}

/// # Safety
/// `msg` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_print(msg: *const c_char) {
    // SAFETY: by the contract.
    if let Some(bytes) = unsafe { crate::cstr(msg) } {
        print(None, bytes);
    }
}

/// `level`: 1 error, 2 warn, 3 info, 4 debug (others: info).
///
/// # Safety
/// `msg` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_print_level(level: c_int, msg: *const c_char) {
    // SAFETY: by the contract.
    let bytes = unsafe { crate::cstr(msg) }.unwrap_or(b"");
    print(Some(level), bytes);
}

/// Logs the message at error level and ends the task with it as the reason.
///
/// # Safety
/// `msg` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_panic(msg: *const c_char) -> ! {
    if let Some(buf) = current().print_buffer() {
        buf.end_line(&mut emit);
    }
    let mut bytes = [0u8; 400];
    // SAFETY: by the contract.
    let msg = unsafe { crate::cstr(msg) }.unwrap_or(b"(no message)");
    let n = msg.len().min(bytes.len());
    bytes[..n].copy_from_slice(&msg[..n]);
    let text = ddekit_core::linebuf::sanitize(&mut bytes[..n]);
    let text = text.trim_end_matches('\n');
    rt::error!("panic: {}", text);
    rt::exit(1, text)
}

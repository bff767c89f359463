//! DDEKit on Resurgo: the device-driver environment kit that the Linux shim
//! (`dde-linux-shim`) is written against, implemented on the Resurgo runtime
//! and exported with exactly the C ABI of `include/ddekit.h`.
//!
//! | module | group of ddekit.h |
//! |---|---|
//! | [`print`] | print / panic |
//! | [`memory`] | simple, large and contiguous memory, slabs (all DMA-able) |
//! | [`pgtab`] | virtual <-> physical |
//! | [`thread`] | threads, sleeping, and the platform the locks park on |
//! | [`sync`] | locks, semaphores, condition variables |
//! | [`time`] | jiffies, clock, delays and sleeps |
//! | [`timer`] | timers on the task's timer thread |
//! | [`interrupt`] | interrupt threads |
//! | [`pci`] | the task's PCI device, through the io server |
//! | [`resource`] | I/O ports and device memory |
//! | [`initcall`] | running the `ddekit_initcalls` section |
//!
//! The pure logic (allocator, lock algorithms, timer queue, interrupt-line
//! state, ...) lives in `ddekit-core`, where it has host tests; this crate adds
//! the system calls. Everything starts lazily on first use: there is no init
//! function to call.
//!
//! Calls from C are checked: a null or unknown pointer, a double free, an
//! impossible size or an unbalanced enable is logged (a few times per call
//! site) and refused, never a crash of the task.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

/// Logs a misuse by the C side at warn level, at most ten times per call site.
macro_rules! misuse {
    ($($a:tt)*) => {{
        static COUNT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
        if COUNT.fetch_add(1, core::sync::atomic::Ordering::Relaxed) < 10 {
            rt::warn!($($a)*);
        }
    }};
}

pub mod initcall;
pub mod interrupt;
pub mod memory;
pub mod pci;
pub mod pgtab;
pub mod print;
pub mod resource;
pub mod sync;
pub mod thread;
pub mod time;
pub mod timer;

/// The bytes of a NUL-terminated C string, without the NUL; `None` for null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn cstr<'a>(p: *const core::ffi::c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // Counted here, with volatile reads so that the compiler does not turn the
    // loop back into a call: `CStr::from_ptr` would call the C library's
    // strlen, which a Resurgo task does not have.
    let mut len = 0;
    // SAFETY: non-null and NUL-terminated by the caller's contract, so every
    // byte up to and including the NUL may be read.
    while unsafe { p.add(len).read_volatile() } != 0 {
        len += 1;
    }
    // SAFETY: the `len` bytes before the NUL, valid for `'a`.
    Some(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// A C callback taking one pointer.
pub type Callback = unsafe extern "C" fn(*mut core::ffi::c_void);

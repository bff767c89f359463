//! Initcalls: `ddekit_do_initcalls` runs every entry of the linker section
//! `ddekit_initcalls` once, by ascending level and within a level in link
//! order.
//!
//! The linker defines `__start_ddekit_initcalls` and `__stop_ddekit_initcalls`
//! only if the section exists; stable Rust has no weak references, so this
//! crate contributes an entry of its own without a function (skipped), which
//! makes the section, and the symbols, always exist.

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};
use ddekit_core::initcall::LevelOrder;

/// `struct ddekit_initcall`.
#[repr(C)]
pub struct DdekitInitcall {
    pub level: c_int,
    pub func: Option<unsafe extern "C" fn() -> c_int>,
}

const _: () = assert!(core::mem::size_of::<DdekitInitcall>() == 16);

#[used]
#[unsafe(link_section = "ddekit_initcalls")]
static SENTINEL: DdekitInitcall = DdekitInitcall { level: 0, func: None };

unsafe extern "C" {
    static __start_ddekit_initcalls: DdekitInitcall;
    static __stop_ddekit_initcalls: DdekitInitcall;
}

/// Most initcalls sorted (far more than any driver has).
const MAX_INITCALLS: usize = 1024;

static DONE: AtomicBool = AtomicBool::new(false);

/// The entries of the section.
pub fn entries() -> &'static [DdekitInitcall] {
    // Keep the sentinel (and with it the section) in the link.
    // SAFETY: a plain read of our own static.
    let _ = unsafe { core::ptr::read_volatile(&SENTINEL.level) };
    let start = &raw const __start_ddekit_initcalls;
    let stop = &raw const __stop_ddekit_initcalls;
    let bytes = (stop as usize).saturating_sub(start as usize);
    if !(start as usize).is_multiple_of(align_of::<DdekitInitcall>()) {
        rt::error!("ddekit: initcall section is misaligned");
        return &[];
    }
    // SAFETY: the linker puts every `ddekit_initcalls` input section, each a
    // whole number of 16-byte, 8-aligned entries (ddekit.h's macro and the
    // sentinel), between the two symbols; the section is never written.
    unsafe { core::slice::from_raw_parts(start, bytes / size_of::<DdekitInitcall>()) }
}

/// Runs every initcall once (later calls do nothing); returns how many failed
/// (returned non-zero).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_do_initcalls() -> c_int {
    if DONE.swap(true, Ordering::AcqRel) {
        return 0;
    }
    let entries = entries();
    let entries = &entries[..entries.len().min(MAX_INITCALLS)];
    let mut levels = [0i32; MAX_INITCALLS];
    for (l, e) in levels.iter_mut().zip(entries) {
        *l = e.level;
    }
    let mut failed = 0;
    for i in LevelOrder::new(&levels[..entries.len()]) {
        let e = &entries[i];
        let Some(f) = e.func else { continue };
        // SAFETY: the entry was put in the section by DDEKIT_INITCALL with a
        // function of this type, to be called once, now.
        let rc = unsafe { f() };
        if rc != 0 {
            failed += 1;
            rt::warn!("ddekit: initcall {:#x} (level {}) failed: {}", f as usize, e.level, rc);
        }
    }
    failed
}

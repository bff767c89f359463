//! Start-up on Fiasco.OC: `_start` gets the entry stack ned's loader built,
//! finds the L4Re environment in its aux vector, gets the heap from moe
//! through `mem_alloc` and the region manager, and runs the task's `main`.

use super::{ARGC, ARGV, ENV, KIP};
use core::sync::atomic::Ordering;

/// Heap size unless the task's arguments say `heap.size=BYTES`.
pub const DEFAULT_HEAP: u64 = 4 << 20;

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    "mov rdi, rsp",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    ".text",
    start = sym rt_start_fiasco,
);

unsafe extern "Rust" {
    /// Defined by the task through `rt::entry!`.
    fn __resurgo_main();
}

extern "C" fn rt_start_fiasco(sp: *const u64) -> ! {
    // SAFETY: the loader's entry stack holds argc, argv, envp and the aux
    // vector in order, each list ended by a zero word; `parse_stack_with` reads
    // no further than the aux vector's end marker.
    let start = l4_sys::fiasco::env::parse_stack_with(|i| Some(unsafe { sp.add(i).read() }));
    let Some(start) = start.filter(|s| s.env != 0) else {
        // No environment, so no log to say so: end the thread's life here.
        loop {
            super::ipc::sleep_forever();
        }
    };
    ENV.store(start.env, Ordering::Release);
    KIP.store(start.kip, Ordering::Relaxed);
    ARGC.store(start.argc, Ordering::Relaxed);
    ARGV.store(sp as u64 + 8, Ordering::Relaxed);
    super::cap::init(super::l4re_env().first_free_cap);

    let size = super::env::value("heap.size").unwrap_or(DEFAULT_HEAP);
    match super::mem::alloc_heap(size) {
        // SAFETY: the region is fresh RAM of `size` bytes mapped for this task
        // alone, and this runs once, before any allocation.
        Ok(heap) => unsafe { crate::start::init_heap(heap.addr as *mut u8, heap.size as usize) },
        Err(e) => crate::exit(1, if e == l4_sys::Error::OutOfMemory { "no memory for the heap" } else { e.as_str() }),
    }
    if let Err(e) = bind_served_gates() {
        crate::exit(1, e);
    }
    if let Some(p) = super::env::value("priority") {
        let p = u8::try_from(p).unwrap_or(u8::MAX);
        if let Err(e) = super::thread::set_own_priority(p) {
            crate::log::write_fmt(
                l4_sys::proto::log::LEVEL_WARN,
                format_args!("priority {p}: the scheduler refused it ({}); running at the default", e.as_str()),
            );
        }
    }
    // SAFETY: the task defines this function through `rt::entry!`.
    unsafe { __resurgo_main() };
    crate::exit(0, "")
}

/// Binds the gates the task serves (`gate.LABEL` in its environment) to its
/// first thread, so that calls through them reach it as on Resurgo's kernel.
fn bind_served_gates() -> Result<(), &'static str> {
    let main = crate::obj::Thread(l4_sys::fiasco::Cap(super::l4re_env().main_thread).idx());
    for e in super::env::entries() {
        let Some(label) = l4_sys::fiasco::env::served_gate_label(e.name()) else { continue };
        let gate = crate::obj::Gate(l4_sys::fiasco::Cap(e.cap).idx());
        gate.bind(&main, label).map_err(|_| "cannot bind a gate the task serves to its thread")?;
    }
    Ok(())
}

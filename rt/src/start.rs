//! Task start, the heap, and panics.

use crate::sync::Mutex;
use core::alloc::{GlobalAlloc, Layout};
use core::fmt::Write;
use core::ptr::NonNull;
use linked_list_allocator::Heap;

/// The task's heap, behind a lock that sleeps rather than spins (see `sync`).
struct TaskHeap(Mutex<Heap>);

// SAFETY: allocation and deallocation go through the locked `Heap`, which hands
// out disjoint, correctly aligned blocks of the region it was given.
unsafe impl GlobalAlloc for TaskHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().allocate_first_fit(layout).map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: the caller returns a block this allocator handed out.
            unsafe { self.0.lock().deallocate(p, layout) };
        }
    }
}

#[global_allocator]
static HEAP: TaskHeap = TaskHeap(Mutex::new(Heap::empty()));

/// Gives the heap its memory.
///
/// # Safety
/// `base..base + size` must be RAM mapped writable for this task alone, and
/// this must run once, before any allocation.
#[cfg_attr(not(feature = "fiasco"), allow(dead_code))]
pub(crate) unsafe fn init_heap(base: *mut u8, size: usize) {
    // SAFETY: see the function contract.
    unsafe { HEAP.0.lock().init(base, size) };
}

// Start-up on Resurgo's kernel; Fiasco.OC's is `platform/fiasco/start.rs`.
#[cfg(not(feature = "fiasco"))]
core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    ".text",
    start = sym rt_start,
);

#[cfg(not(feature = "fiasco"))]
unsafe extern "Rust" {
    /// Defined by the task through `rt::entry!`.
    fn __resurgo_main();
}

#[cfg(not(feature = "fiasco"))]
extern "C" fn rt_start() -> ! {
    let env = crate::env::page();
    let heap = env.find("heap.size", l4_sys::env::Kind::Value).unwrap_or(0);
    if heap > 0 {
        // SAFETY: the creator mapped `heap.size` bytes of RAM at HEAP_BASE for this
        // task alone, and this runs once, before any allocation.
        unsafe { HEAP.0.lock().init(l4_sys::layout::HEAP_BASE as *mut u8, heap as usize) };
    }
    // SAFETY: the task defines this function through `rt::entry!`.
    unsafe { __resurgo_main() };
    crate::exit(0, "")
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut buf = crate::log::Buf::new();
    let _ = write!(buf, "panic: {}", info.message());
    if let Some(loc) = info.location() {
        let _ = write!(buf, " at {}:{}", loc.file(), loc.line());
    }
    crate::log::write(l4_sys::proto::log::LEVEL_ERROR, buf.as_str());
    crate::exit(101, buf.as_str())
}

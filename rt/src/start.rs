//! Task start, the heap, and panics.

use core::fmt::Write;
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

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

unsafe extern "Rust" {
    /// Defined by the task through `rt::entry!`.
    fn __resurgo_main();
}

extern "C" fn rt_start() -> ! {
    let env = crate::env::page();
    let heap = env.find("heap.size", l4_sys::env::Kind::Value).unwrap_or(0);
    if heap > 0 {
        // SAFETY: the creator mapped `heap.size` bytes of RAM at HEAP_BASE for this
        // task alone, and this runs once, before any allocation.
        unsafe { HEAP.lock().init(l4_sys::layout::HEAP_BASE as *mut u8, heap as usize) };
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

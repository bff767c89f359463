//! The kernel heap: a fixed region of RAM set aside at boot, outside the frame
//! allocator, so that object allocations never show up as changes in the
//! free-frame count.
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// # Safety
/// `[start, start + size)` must be unused, mapped kernel memory, given once.
pub unsafe fn init(start: *mut u8, size: usize) {
    // SAFETY: see the function contract.
    unsafe { HEAP.lock().init(start, size) };
}

pub fn used() -> usize {
    HEAP.lock().used()
}

pub fn free() -> usize {
    HEAP.lock().free()
}

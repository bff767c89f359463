//! Physical memory: the frame allocator, the kernel heap and the page tables.
pub mod frames;
#[cfg(not(test))]
pub mod heap;
pub mod paging;

/// All physical memory is mapped at this offset in the kernel half.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
pub const PAGE_SIZE: u64 = 4096;

/// Kernel heap a task's request may not eat into: objects are charged to quotas
/// in pages of RAM, the heap is a separate fixed region, and running out of it
/// would be a panic. Requests that would leave less free are refused.
pub const HEAP_RESERVE: usize = 1 << 20;

/// Whether the kernel heap has room for another object beyond the reserve.
#[cfg(not(test))]
pub fn heap_has_room() -> bool {
    heap::free() >= HEAP_RESERVE
}

/// The kernel-virtual address of a physical address (through the direct map).
pub fn phys_to_virt(phys: u64) -> *mut u8 {
    (PHYS_OFFSET + phys) as *mut u8
}

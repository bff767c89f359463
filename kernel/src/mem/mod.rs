//! Physical memory: the frame allocator, the kernel heap and the page tables.
pub mod frames;
#[cfg(not(test))]
pub mod heap;
#[cfg(not(test))]
pub mod paging;

/// All physical memory is mapped at this offset in the kernel half.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
pub const PAGE_SIZE: u64 = 4096;

/// The kernel-virtual address of a physical address (through the direct map).
pub fn phys_to_virt(phys: u64) -> *mut u8 {
    (PHYS_OFFSET + phys) as *mut u8
}

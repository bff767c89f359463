//! Four-level x86-64 page tables, edited through the direct map.
//!
//! The upper half (PML4 slots 256..512) is the kernel's and identical in every
//! address space, except slot 510, which holds each space's own I/O bitmap
//! window. The lower half is the task's; its intermediate tables belong to the
//! address space and are freed with it. Leaf frames belong to dataspaces.

use super::frames::{Frame, FrameAllocator};
use super::phys_to_virt;
use l4_sys::Error;

pub const PRESENT: u64 = 1 << 0;
pub const WRITABLE: u64 = 1 << 1;
pub const USER: u64 = 1 << 2;
pub const WRITE_THROUGH: u64 = 1 << 3;
pub const NO_CACHE: u64 = 1 << 4;
pub const HUGE: u64 = 1 << 7;
pub const GLOBAL: u64 = 1 << 8;
pub const NO_EXECUTE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// The PML4 slot whose contents differ per address space (I/O bitmap window).
pub const PER_SPACE_SLOT: usize = 510;

fn table(phys: u64) -> &'static mut [u64; 512] {
    // SAFETY: `phys` is a page-table frame owned by the kernel (allocated here or
    // built at boot), mapped through the direct map; the kernel is single-threaded
    // with interrupts off, so no other reference to it is live.
    unsafe { &mut *(phys_to_virt(phys) as *mut [u64; 512]) }
}

fn index(vaddr: u64, level: u32) -> usize {
    ((vaddr >> (12 + 9 * level)) & 0x1ff) as usize
}

pub fn alloc_table(frames: &mut FrameAllocator) -> Result<u64, Error> {
    let f = frames.alloc().ok_or(Error::OutOfMemory)?;
    table(f.addr()).fill(0);
    Ok(f.addr())
}

/// Maps one 4 KiB page, creating intermediate tables as needed; returns how many
/// tables it created. `flags` must include `PRESENT`.
pub fn map_page(pml4: u64, vaddr: u64, paddr: u64, flags: u64, frames: &mut FrameAllocator) -> Result<u64, Error> {
    let mut created = 0;
    let mut t = pml4;
    for level in (1..4).rev() {
        let e = &mut table(t)[index(vaddr, level)];
        if *e & PRESENT == 0 {
            let new = alloc_table(frames)?;
            created += 1;
            // Intermediate entries allow everything; the leaf decides.
            *e = new | PRESENT | WRITABLE | (flags & USER);
        }
        t = *e & ADDR_MASK;
    }
    let leaf = &mut table(t)[index(vaddr, 0)];
    if *leaf & PRESENT != 0 {
        return Err(Error::InUse);
    }
    *leaf = (paddr & ADDR_MASK) | flags;
    Ok(created)
}

/// The leaf entry for `vaddr`, if one exists (4 KiB pages only).
fn leaf(pml4: u64, vaddr: u64) -> Option<&'static mut u64> {
    let mut t = pml4;
    for level in (1..4).rev() {
        let e = table(t)[index(vaddr, level)];
        if e & PRESENT == 0 || e & HUGE != 0 {
            return None;
        }
        t = e & ADDR_MASK;
    }
    Some(&mut table(t)[index(vaddr, 0)])
}

/// Removes the mapping of one page; returns the physical address it had.
pub fn unmap_page(pml4: u64, vaddr: u64) -> Option<u64> {
    let e = leaf(pml4, vaddr)?;
    if *e & PRESENT == 0 {
        return None;
    }
    let old = *e & ADDR_MASK;
    *e = 0;
    Some(old)
}

/// Physical address and flags of a mapped user page.
pub fn translate(pml4: u64, vaddr: u64) -> Option<(u64, u64)> {
    let e = *leaf(pml4, vaddr & !0xfff)?;
    (e & PRESENT != 0).then_some((e & ADDR_MASK | (vaddr & 0xfff), e & !ADDR_MASK))
}

/// Frees every intermediate table of the user half and the PML4 itself.
pub fn free_space(pml4: u64, frames: &mut FrameAllocator) {
    fn free_level(t: u64, level: u32, frames: &mut FrameAllocator) {
        if level > 0 {
            for &e in table(t).iter() {
                if e & PRESENT != 0 {
                    free_level(e & ADDR_MASK, level - 1, frames);
                }
            }
        }
        frames.free(Frame::containing(t));
    }
    for slot in 0..256 {
        let e = table(pml4)[slot];
        if e & PRESENT != 0 {
            free_level(e & ADDR_MASK, 2, frames);
        }
    }
    frames.free(Frame::containing(pml4));
}

/// A new address space: empty user half, the kernel half copied from `master`.
pub fn new_space(master: u64, frames: &mut FrameAllocator) -> Result<u64, Error> {
    let pml4 = alloc_table(frames)?;
    table(pml4)[256..].copy_from_slice(&table(master)[256..]);
    Ok(pml4)
}

/// Sets the per-space PML4 slot (the I/O bitmap window).
pub fn set_per_space_slot(pml4: u64, entry: u64) {
    table(pml4)[PER_SPACE_SLOT] = entry;
}

/// Maps `[phys, phys + size)` with 2 MiB pages at `virt` into a kernel table
/// hierarchy (boot-time only; tables come from `frames` and are never freed).
pub fn map_kernel_huge(pml4: u64, virt: u64, phys: u64, size: u64, flags: u64, frames: &mut FrameAllocator) {
    let mut off = 0;
    while off < size {
        let v = virt + off;
        let mut t = pml4;
        for level in (2..4).rev() {
            let e = &mut table(t)[index(v, level)];
            if *e & PRESENT == 0 {
                *e = alloc_table(frames).expect("out of memory for kernel page tables") | PRESENT | WRITABLE;
            }
            t = *e & ADDR_MASK;
        }
        table(t)[index(v, 1)] = (phys + off) | flags | HUGE | PRESENT;
        off += 2 << 20;
    }
}

/// Maps one 4 KiB kernel page (boot-time only).
pub fn map_kernel_page(pml4: u64, virt: u64, phys: u64, flags: u64, frames: &mut FrameAllocator) {
    map_page(pml4, virt, phys, flags | PRESENT, frames).expect("kernel page already mapped");
}

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

/// A page-table frame the kernel owns. Only [`alloc_table`] and
/// [`new_space`] make one (and this module, from the entries of such a
/// table), so every function here walks and edits kernel tables, never an
/// address a caller made up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table(u64);

impl Table {
    /// The frame's physical address, for CR3.
    pub const fn phys(self) -> u64 {
        self.0
    }

    /// The table an entry of a kernel table points to.
    fn of_entry(e: u64) -> Table {
        Table(e & ADDR_MASK)
    }

    fn slot(self, i: usize) -> *mut u64 {
        // Entries are 512 to a table; `i` is masked so the pointer never leaves it.
        (phys_to_virt(self.0) as *mut u64).wrapping_add(i & 0x1ff)
    }

    fn get(self, i: usize) -> u64 {
        // SAFETY: a `Table` is a page-table frame the kernel owns, reached
        // through the direct map; the kernel is single-threaded with
        // interrupts off, so no write to it races this read.
        unsafe { self.slot(i).read() }
    }

    fn set(self, i: usize, e: u64) {
        // SAFETY: as in `get`; no reference into a table is ever handed out,
        // so this write aliases nothing.
        unsafe { self.slot(i).write(e) }
    }

    /// A table for host tests of code that records one but never walks it.
    #[cfg(test)]
    pub const UNWALKED: Table = Table(0);
}

fn index(vaddr: u64, level: u32) -> usize {
    ((vaddr >> (12 + 9 * level)) & 0x1ff) as usize
}

pub fn alloc_table(frames: &mut FrameAllocator) -> Result<Table, Error> {
    let f = frames.alloc().ok_or(Error::OutOfMemory)?;
    let t = Table(f.addr());
    (0..512).for_each(|i| t.set(i, 0));
    Ok(t)
}

/// Maps one 4 KiB page, creating intermediate tables as needed; returns how many
/// tables it created. `flags` must include `PRESENT`.
pub fn map_page(pml4: Table, vaddr: u64, paddr: u64, flags: u64, frames: &mut FrameAllocator) -> Result<u64, Error> {
    let mut created = 0;
    let mut t = pml4;
    for level in (1..4).rev() {
        let i = index(vaddr, level);
        let mut e = t.get(i);
        if e & PRESENT == 0 {
            let new = alloc_table(frames)?;
            created += 1;
            // Intermediate entries allow everything; the leaf decides.
            e = new.phys() | PRESENT | WRITABLE | (flags & USER);
            t.set(i, e);
        }
        t = Table::of_entry(e);
    }
    let i = index(vaddr, 0);
    if t.get(i) & PRESENT != 0 {
        return Err(Error::InUse);
    }
    t.set(i, (paddr & ADDR_MASK) | flags);
    Ok(created)
}

/// The last-level table and index of `vaddr`'s entry, if that table exists
/// (4 KiB pages only).
fn leaf(pml4: Table, vaddr: u64) -> Option<(Table, usize)> {
    let mut t = pml4;
    for level in (1..4).rev() {
        let e = t.get(index(vaddr, level));
        if e & PRESENT == 0 || e & HUGE != 0 {
            return None;
        }
        t = Table::of_entry(e);
    }
    Some((t, index(vaddr, 0)))
}

/// Removes the mapping of one page; returns the physical address it had.
pub fn unmap_page(pml4: Table, vaddr: u64) -> Option<u64> {
    let (t, i) = leaf(pml4, vaddr)?;
    let e = t.get(i);
    if e & PRESENT == 0 {
        return None;
    }
    t.set(i, 0);
    Some(e & ADDR_MASK)
}

/// Physical address and flags of a mapped user page.
pub fn translate(pml4: Table, vaddr: u64) -> Option<(u64, u64)> {
    let (t, i) = leaf(pml4, vaddr & !0xfff)?;
    let e = t.get(i);
    (e & PRESENT != 0).then_some((e & ADDR_MASK | (vaddr & 0xfff), e & !ADDR_MASK))
}

/// Frees every intermediate table of the user half and the PML4 itself.
pub fn free_space(pml4: Table, frames: &mut FrameAllocator) {
    fn free_level(t: Table, level: u32, frames: &mut FrameAllocator) {
        if level > 0 {
            for i in 0..512 {
                let e = t.get(i);
                if e & PRESENT != 0 {
                    free_level(Table::of_entry(e), level - 1, frames);
                }
            }
        }
        frames.free(Frame::containing(t.phys()));
    }
    for slot in 0..256 {
        let e = pml4.get(slot);
        if e & PRESENT != 0 {
            free_level(Table::of_entry(e), 2, frames);
        }
    }
    frames.free(Frame::containing(pml4.phys()));
}

/// A new address space: empty user half, the kernel half copied from `master`.
pub fn new_space(master: Table, frames: &mut FrameAllocator) -> Result<Table, Error> {
    let pml4 = alloc_table(frames)?;
    (256..512).for_each(|i| pml4.set(i, master.get(i)));
    Ok(pml4)
}

/// Sets the per-space PML4 slot (the I/O bitmap window).
pub fn set_per_space_slot(pml4: Table, entry: u64) {
    pml4.set(PER_SPACE_SLOT, entry);
}

/// Maps `[phys, phys + size)` with 2 MiB pages at `virt` into a kernel table
/// hierarchy (boot-time only; tables come from `frames` and are never freed).
pub fn map_kernel_huge(pml4: Table, virt: u64, phys: u64, size: u64, flags: u64, frames: &mut FrameAllocator) {
    let mut off = 0;
    while off < size {
        let v = virt + off;
        let mut t = pml4;
        for level in (2..4).rev() {
            let i = index(v, level);
            let mut e = t.get(i);
            if e & PRESENT == 0 {
                e = alloc_table(frames).expect("out of memory for kernel page tables").phys() | PRESENT | WRITABLE;
                t.set(i, e);
            }
            t = Table::of_entry(e);
        }
        t.set(index(v, 1), (phys + off) | flags | HUGE | PRESENT);
        off += 2 << 20;
    }
}

/// Maps one 4 KiB kernel page (boot-time only).
pub fn map_kernel_page(pml4: Table, virt: u64, phys: u64, flags: u64, frames: &mut FrameAllocator) {
    map_page(pml4, virt, phys, flags | PRESENT, frames).expect("kernel page already mapped");
}

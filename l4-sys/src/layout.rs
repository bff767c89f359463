//! The user address space: where the kernel and creators put things.
//!
//! Everything below [`USER_END`] belongs to the task; the kernel lives in the upper
//! half and is mapped in every address space.

pub const PAGE_SIZE: u64 = 4096;

/// Tasks are linked here (non-PIE, static).
pub const IMAGE_BASE: u64 = 0x40_0000;

/// Read-only page the creator fills: task name, named capabilities, arguments.
pub const ENV_PAGE: u64 = 0x10_0000;

/// Read-only kernel information page (time), mapped by the kernel.
pub const KIP: u64 = 0x11_0000;

/// The heap the creator maps for the runtime.
pub const HEAP_BASE: u64 = 0x1_0000_0000;

/// Dataspaces a task maps at run time go above this.
pub const MAP_AREA: u64 = 0x100_0000_0000;
pub const MAP_AREA_END: u64 = 0x600_0000_0000;

/// Per-thread UTCBs: thread `n` of a task has its UTCB at `UTCB_AREA + n * 4096`.
pub const UTCB_AREA: u64 = 0x7f00_0000_0000;
/// Most threads a task can have.
pub const MAX_THREADS: u64 = 256;

/// Main thread's stack top; further thread stacks are mapped below it.
pub const STACK_TOP: u64 = 0x7ff0_0000_0000;

/// First non-canonical address above the user half.
pub const CANONICAL_END: u64 = 0x8000_0000_0000;

/// First address the kernel refuses as a user address. The last page below
/// [`CANONICAL_END`] is never mapped: an instruction there can end exactly at
/// the boundary, and a `syscall` in its last two bytes would return to a
/// non-canonical address, which `sysret` and `iretq` fault on in kernel mode
/// (the SYSRET bug, CVE-2012-0217). Linux keeps the same guard page.
pub const USER_END: u64 = CANONICAL_END - PAGE_SIZE;

pub const fn utcb_addr(thread_index: u64) -> u64 {
    UTCB_AREA + thread_index * PAGE_SIZE
}

/// Whether `[addr, addr + len)` is page aligned and inside the user half.
pub const fn is_user_range(addr: u64, len: u64) -> bool {
    addr.is_multiple_of(PAGE_SIZE)
        && len.is_multiple_of(PAGE_SIZE)
        && len != 0
        && addr < USER_END
        && len <= USER_END - addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ranges() {
        assert!(is_user_range(IMAGE_BASE, PAGE_SIZE));
        assert!(!is_user_range(IMAGE_BASE + 1, PAGE_SIZE));
        assert!(!is_user_range(USER_END - PAGE_SIZE, 2 * PAGE_SIZE));
        assert!(!is_user_range(0, 0));
        assert!(!is_user_range(!0xfff, PAGE_SIZE));
        // The guard page below the canonical boundary is not a user page.
        assert!(is_user_range(USER_END - PAGE_SIZE, PAGE_SIZE));
        assert!(!is_user_range(CANONICAL_END - PAGE_SIZE, PAGE_SIZE));
    }
}

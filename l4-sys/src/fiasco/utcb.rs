//! Fiasco's UTCB on x86-64: 1 KiB per thread, its address at `%gs:0`.
//!
//! Message registers at offset 0, the buffer descriptor at 512 and the buffer
//! registers after it, the error word at 984 (`l4sys/include/utcb.h`,
//! `ARCH-amd64/arch/utcb.h`).

/// Message registers a message can use (`L4_UTCB_GENERIC_DATA_SIZE`).
pub const MR_WORDS: usize = 63;
/// Buffer registers (`L4_UTCB_GENERIC_BUFFERS_SIZE`).
pub const BR_COUNT: usize = 58;
/// Size of one UTCB (`L4_UTCB_OFFSET`): a task's UTCB area holds them back to back.
pub const SIZE: u64 = 1024;

#[repr(C)]
pub struct Utcb {
    /// Message registers (the 64th word is never part of a message).
    pub mr: [u64; 64],
    /// Buffer descriptor: index of the first buffer register in use.
    pub bdr: u64,
    /// Buffer registers: receive items for capabilities and flexpages.
    pub br: [u64; BR_COUNT],
    /// IPC error code of the last failed IPC.
    pub error: u64,
    pub free_marker: u64,
    /// Words user code may keep per thread; the kernel does not touch them.
    pub user: [u64; 3],
}

pub const ERROR_OFFSET: usize = 984;

const _: () = assert!(core::mem::size_of::<Utcb>() == SIZE as usize);
const _: () = assert!(core::mem::offset_of!(Utcb, bdr) == 512);
const _: () = assert!(core::mem::offset_of!(Utcb, error) == ERROR_OFFSET);

/// The calling thread's UTCB.
///
/// The kernel points every thread's `%gs` base at a word holding its UTCB's
/// address (`l4_utcb_direct`).
#[cfg(all(target_arch = "x86_64", feature = "fiasco"))]
#[inline(always)]
pub fn current() -> *mut Utcb {
    let p: u64;
    // SAFETY: reading %gs:0 has no side effects; on Fiasco it holds this thread's
    // UTCB address for the thread's whole life.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) p, options(nostack, readonly, preserves_flags));
    }
    p as *mut Utcb
}

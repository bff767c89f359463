//! The kernel information page: read-only, mapped by the kernel at
//! [`crate::layout::KIP`] in every task, so that time can be read without a
//! system call.

use core::sync::atomic::{AtomicU64, Ordering};

pub const MAGIC: u64 = 0x4b49_5052_5355_5247; // "GRUSRPIK"

#[repr(C)]
pub struct Kip {
    pub magic: u64,
    /// Timer ticks since boot; [`Kip::hz`] per second.
    pub ticks: AtomicU64,
    pub hz: u64,
    /// Time-stamp-counter increments per millisecond, measured at boot against
    /// the PIT (under `-icount` it counts guest instructions).
    pub tsc_per_ms: u64,
}

impl Kip {
    /// The page, in a task (the kernel maps it before the task starts).
    ///
    /// # Safety
    /// Only in a Resurgo task, where the page is mapped for the task's life.
    pub unsafe fn get() -> &'static Kip {
        // SAFETY: see the function contract.
        unsafe { &*(crate::layout::KIP as *const Kip) }
    }

    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }
}

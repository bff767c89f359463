//! Free capability slots of this task on Fiasco.OC: the loader says which is
//! the first one the application may use (`first_free_cap`); the runtime hands
//! out [`SLOTS`] from there.

use crate::sync::Mutex;
use core::sync::atomic::{AtomicU32, Ordering};
use l4_sys::CapIdx;

/// Slots the runtime manages.
pub const SLOTS: usize = 1024;

static BASE: AtomicU32 = AtomicU32::new(0);
static USED: Mutex<[u64; SLOTS / 64]> = Mutex::new([0; SLOTS / 64]);

pub(crate) fn init(first_free: u64) {
    BASE.store(u32::try_from(first_free).unwrap_or(u32::MAX), Ordering::Relaxed);
}

/// A free slot, or `None` when the table is full (or start-up found none).
pub fn alloc() -> Option<CapIdx> {
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return None;
    }
    let mut used = USED.lock();
    for i in 0..SLOTS {
        if used[i / 64] & (1 << (i % 64)) == 0 {
            used[i / 64] |= 1 << (i % 64);
            return base.checked_add(i as u32).map(CapIdx);
        }
    }
    None
}

/// Returns a slot (after its capability was deleted or never arrived).
pub fn free(idx: CapIdx) {
    let base = BASE.load(Ordering::Relaxed);
    if let Some(i) = idx.0.checked_sub(base).map(|i| i as usize).filter(|&i| i < SLOTS) {
        USED.lock()[i / 64] &= !(1 << (i % 64));
    }
}

//! Free capability slots of this task.
//!
//! Slots below [`FIRST_DYNAMIC`] are the creator's to fill (see the environment
//! page); the runtime hands out the rest.

use crate::sync::Mutex;
use l4_sys::CapIdx;
use l4_sys::cap::CAP_SLOTS;

pub const FIRST_DYNAMIC: u32 = 256;

static USED: Mutex<[u64; CAP_SLOTS / 64]> = Mutex::new([0; CAP_SLOTS / 64]);

/// A free slot, or `None` when the table is full.
pub fn alloc() -> Option<CapIdx> {
    let mut used = USED.lock();
    for i in FIRST_DYNAMIC as usize..CAP_SLOTS {
        if used[i / 64] & (1 << (i % 64)) == 0 {
            used[i / 64] |= 1 << (i % 64);
            return Some(CapIdx(i as u32));
        }
    }
    None
}

/// Returns a slot (after its capability was deleted or never arrived).
pub fn free(idx: CapIdx) {
    let i = idx.0 as usize;
    if (FIRST_DYNAMIC as usize..CAP_SLOTS).contains(&i) {
        USED.lock()[i / 64] &= !(1 << (i % 64));
    }
}

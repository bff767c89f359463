//! A mutual-exclusion lock for the runtime's own state (heap, capability
//! slots, map area) that cannot livelock under fixed priorities.
//!
//! A plain spin lock does, on one CPU: a high-priority thread that spins on a
//! lock held by a preempted lower-priority thread never lets the holder run.
//! This lock spins briefly, then sleeps a millisecond between attempts, which
//! lets any holder run and finish.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

pub struct Mutex<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through a guard, and `locked` admits one
// guard at a time.
unsafe impl<T: Send> Send for Mutex<T> {}
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Attempts before the first sleep: a holder on another CPU usually finishes
/// within these.
const SPINS: u32 = 64;

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then_some(Guard { lock: self })
    }

    pub fn lock(&self) -> Guard<'_, T> {
        let mut attempts = 0u32;
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            attempts += 1;
            if attempts < SPINS {
                core::hint::spin_loop();
            } else {
                crate::ipc::sleep_ms(1);
            }
        }
    }
}

pub struct Guard<'a, T> {
    lock: &'a Mutex<T>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

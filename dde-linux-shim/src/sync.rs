//! A sleeping lock for Rust state shared with driver threads, on DDEKit's
//! locks (through their C ABI, the same ones the Linux shim uses).

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::ptr;

#[repr(C)]
struct DdekitLock {
    _opaque: [u8; 0],
}

unsafe extern "C" {
    fn ddekit_lock_init(lock: *mut *mut DdekitLock);
    fn ddekit_lock_lock(lock: *mut *mut DdekitLock);
    fn ddekit_lock_unlock(lock: *mut *mut DdekitLock);
}

pub struct Lock<T> {
    raw: UnsafeCell<*mut DdekitLock>,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialized by the DDEKit lock.
unsafe impl<T: Send> Send for Lock<T> {}
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    pub fn new(value: T) -> Lock<T> {
        let mut raw = ptr::null_mut();
        // SAFETY: ddekit_lock_init fills in a fresh lock handle.
        unsafe { ddekit_lock_init(&mut raw) };
        Lock { raw: UnsafeCell::new(raw), value: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> Guard<'_, T> {
        // SAFETY: the handle was initialised in `new` and lives as long as self.
        unsafe { ddekit_lock_lock(self.raw.get()) };
        Guard { lock: self }
    }
}

pub struct Guard<'a, T> {
    lock: &'a Lock<T>,
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
        // SAFETY: this guard took the lock.
        unsafe { ddekit_lock_unlock(self.lock.raw.get()) };
    }
}

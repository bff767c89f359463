//! Locks, semaphores and condition variables (`ddekit_lock_*`,
//! `ddekit_sem_*`, `ddekit_condvar_*`): the sleeping primitives of
//! `ddekit_core::sync` on the [`L4`] platform, as pool objects behind the
//! opaque C handles.
//!
//! What they guarantee (see `ddekit_core::sync` for how):
//! * a lock is a sleeping mutex: a thread that finds it taken sleeps in the
//!   kernel; `unlock` hands it to the longest waiter (FIFO, no barging), and
//!   `ddekit_lock_owner` names the holder;
//! * a semaphore's `up` wakes the longest waiter or counts; a timed `down`
//!   that times out took nothing;
//! * a condition-variable waiter is queued before it drops the lock, so a
//!   signal that comes after it (from a thread holding the lock) is never
//!   missed; a waiter holds the lock again when it returns, signalled or not.
//!
//! Nothing here spins: waits block on the thread's wake-up IRQ.
//!
//! A `ddekit_lock_t` that is still NULL (a statically zeroed Linux spinlock or
//! mutex) is created on first use, race-free, so static initialisers need no
//! constructor. Handles are checked (in the pool, magic word) before use: an
//! unknown or destroyed one is logged and ignored.

use crate::memory::{self, Object, alloc_obj, free_obj, object};
use crate::thread::{DdekitThread, L4, current};
use core::ffi::c_int;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use ddekit_core::sync::{Condvar, Mutex, Semaphore};

const LOCK_MAGIC: u64 = 0x6464_656b_6c6f_636b;
const SEM_MAGIC: u64 = 0x6464_656b_7365_6d61;
const CONDVAR_MAGIC: u64 = 0x6464_656b_636f_6e64;

fn me() -> usize {
    current().handle()
}

// ---------------------------------------------------------------------------
// Locks
// ---------------------------------------------------------------------------

/// `struct ddekit_lock`.
#[repr(C)]
pub struct DdekitLock {
    magic: u64,
    m: Mutex<L4>,
}

// SAFETY: `repr(C)` with the magic first.
unsafe impl Object for DdekitLock {
    const MAGIC: u64 = LOCK_MAGIC;
}

impl DdekitLock {
    pub fn mutex(&self) -> &Mutex<L4> {
        &self.m
    }
}

/// The lock behind a `ddekit_lock_t *`, created if the handle is still NULL
/// and `create` is set.
///
/// # Safety
/// `lockp` is null or points to a `ddekit_lock_t` (a pointer-sized,
/// pointer-aligned variable) that stays valid during the call.
unsafe fn lock_of(lockp: *mut *mut DdekitLock, create: bool, func: &str) -> Option<&'static DdekitLock> {
    if lockp.is_null() {
        misuse!("{}: NULL lock", func);
        return None;
    }
    // SAFETY: by the contract; other threads may initialise the same variable
    // concurrently, so it is only accessed atomically.
    let cell = unsafe { AtomicPtr::from_ptr(lockp) };
    let mut p = cell.load(Ordering::Acquire);
    if p.is_null() {
        if !create {
            misuse!("{}: lock was never initialised", func);
            return None;
        }
        let new: *mut DdekitLock = alloc_obj(DdekitLock { magic: LOCK_MAGIC, m: Mutex::new() })?;
        match cell.compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => p = new,
            Err(other) => {
                // SAFETY: `new` was never published.
                unsafe { free_obj(new) };
                p = other;
            }
        }
    }
    let l = object(p);
    if l.is_none() {
        misuse!("{}: {:p} is not a lock", func, p);
    }
    l
}

/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_init(lock: *mut *mut DdekitLock) {
    if lock.is_null() {
        misuse!("ddekit_lock_init: NULL");
        return;
    }
    // SAFETY: by the contract.
    unsafe { *lock = ptr::null_mut() };
    // SAFETY: by the contract.
    unsafe { lock_of(lock, true, "ddekit_lock_init") };
}

/// Destroys the lock and sets the handle to NULL. A lock that is held or
/// waited for is left alone (and logged).
///
/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_deinit(lock: *mut *mut DdekitLock) {
    if lock.is_null() {
        return;
    }
    // SAFETY: by the contract; accessed atomically as in `lock_of`.
    let cell = unsafe { AtomicPtr::from_ptr(lock) };
    let p = cell.load(Ordering::Acquire);
    if p.is_null() {
        return;
    }
    let Some(l) = object(p) else {
        misuse!("ddekit_lock_deinit: {:p} is not a lock", p);
        return;
    };
    if l.m.is_locked() || l.m.waiters() > 0 {
        misuse!("ddekit_lock_deinit: lock {:p} is held or waited for; not destroyed", p);
        return;
    }
    if cell.compare_exchange(p, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire).is_ok() {
        // SAFETY: the lock is free, nobody waits, and the handle no longer
        // names it.
        unsafe { free_obj(p) };
    }
}

/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_lock(lock: *mut *mut DdekitLock) {
    // SAFETY: by the contract.
    if let Some(l) = unsafe { lock_of(lock, true, "ddekit_lock_lock") } {
        let me = me();
        if l.m.owner() == me {
            // Locks do not nest: this thread will wait for itself forever.
            // Say so, since nothing else will.
            misuse!("ddekit_lock_lock: lock {:p} is already held by this thread: deadlock", l);
        }
        l.m.lock(me);
    }
}

/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_try_lock(lock: *mut *mut DdekitLock) -> c_int {
    // SAFETY: by the contract.
    match unsafe { lock_of(lock, true, "ddekit_lock_try_lock") } {
        Some(l) if l.m.try_lock(me()) => 0,
        _ => -1,
    }
}

/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_unlock(lock: *mut *mut DdekitLock) {
    // SAFETY: by the contract.
    if let Some(l) = unsafe { lock_of(lock, false, "ddekit_lock_unlock") }
        && !l.m.unlock()
    {
        misuse!("ddekit_lock_unlock: lock {:p} is not locked", l);
    }
}

/// # Safety
/// `lock` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_lock_owner(lock: *mut *mut DdekitLock) -> *mut DdekitThread {
    if lock.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: by the contract; accessed atomically as in `lock_of`.
    let p = unsafe { AtomicPtr::from_ptr(lock) }.load(Ordering::Acquire);
    match object(p) {
        Some(l) => l.m.owner() as *mut DdekitThread,
        None => ptr::null_mut(),
    }
}

// ---------------------------------------------------------------------------
// Semaphores
// ---------------------------------------------------------------------------

/// `ddekit_sem_t`.
#[repr(C)]
pub struct DdekitSem {
    magic: u64,
    s: Semaphore<L4>,
}

// SAFETY: `repr(C)` with the magic first.
unsafe impl Object for DdekitSem {
    const MAGIC: u64 = SEM_MAGIC;
}

fn sem(p: *mut DdekitSem, func: &str) -> Option<&'static DdekitSem> {
    let s = object(p);
    if s.is_none() {
        misuse!("{}: {:p} is not a semaphore", func, p);
    }
    s
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_init(value: c_int) -> *mut DdekitSem {
    if value < 0 {
        misuse!("ddekit_sem_init({}): negative; starting at 0", value);
    }
    match alloc_obj(DdekitSem { magic: SEM_MAGIC, s: Semaphore::new(value.max(0) as u64) }) {
        Some(s) => s,
        None => ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_deinit(p: *mut DdekitSem) {
    let Some(s) = sem(p, "ddekit_sem_deinit") else { return };
    if s.s.waiters() > 0 {
        misuse!("ddekit_sem_deinit: semaphore {:p} has waiters; not destroyed", p);
        return;
    }
    // SAFETY: a live semaphore (checked) nobody waits on; deinit says nobody
    // uses it any more.
    unsafe { free_obj(s as *const DdekitSem as *mut DdekitSem) };
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_down(p: *mut DdekitSem) {
    if let Some(s) = sem(p, "ddekit_sem_down") {
        s.s.down(me());
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_down_try(p: *mut DdekitSem) -> c_int {
    match sem(p, "ddekit_sem_down_try") {
        Some(s) if s.s.try_down() => 0,
        _ => -1,
    }
}

/// 0 on success, -1 on time-out (at once if `timo_ms <= 0` and no unit is
/// there).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_down_timed(p: *mut DdekitSem, timo_ms: c_int) -> c_int {
    let Some(s) = sem(p, "ddekit_sem_down_timed") else { return -1 };
    let ok = if timo_ms <= 0 { s.s.try_down() } else { s.s.down_timeout(me(), timo_ms as u64) };
    if ok { 0 } else { -1 }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_sem_up(p: *mut DdekitSem) {
    if let Some(s) = sem(p, "ddekit_sem_up") {
        s.s.up();
    }
}

// ---------------------------------------------------------------------------
// Condition variables
// ---------------------------------------------------------------------------

/// `ddekit_condvar_t`.
#[repr(C)]
pub struct DdekitCondvar {
    magic: u64,
    cv: Condvar<L4>,
}

// SAFETY: `repr(C)` with the magic first.
unsafe impl Object for DdekitCondvar {
    const MAGIC: u64 = CONDVAR_MAGIC;
}

fn condvar(p: *mut DdekitCondvar, func: &str) -> Option<&'static DdekitCondvar> {
    let c = object(p);
    if c.is_none() {
        misuse!("{}: {:p} is not a condition variable", func, p);
    }
    c
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_condvar_init() -> *mut DdekitCondvar {
    match alloc_obj(DdekitCondvar { magic: CONDVAR_MAGIC, cv: Condvar::new() }) {
        Some(c) => c,
        None => ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_condvar_deinit(p: *mut DdekitCondvar) {
    let Some(c) = condvar(p, "ddekit_condvar_deinit") else { return };
    if c.cv.waiters() > 0 {
        misuse!("ddekit_condvar_deinit: condition variable {:p} has waiters; not destroyed", p);
        return;
    }
    // SAFETY: live (checked), nobody waits; deinit says nobody uses it any
    // more.
    unsafe { free_obj(c as *const DdekitCondvar as *mut DdekitCondvar) };
}

/// # Safety
/// `mp` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_condvar_wait(p: *mut DdekitCondvar, mp: *mut *mut DdekitLock) {
    let Some(c) = condvar(p, "ddekit_condvar_wait") else { return };
    // SAFETY: by the contract.
    let Some(l) = (unsafe { lock_of(mp, true, "ddekit_condvar_wait") }) else { return };
    c.cv.wait(me(), &l.m);
}

/// 0 when signalled, -1 on time-out; the lock is held again either way.
///
/// # Safety
/// `mp` is null or points to a `ddekit_lock_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_condvar_wait_timed(
    p: *mut DdekitCondvar,
    mp: *mut *mut DdekitLock,
    timo_ms: c_int,
) -> c_int {
    let Some(c) = condvar(p, "ddekit_condvar_wait_timed") else { return -1 };
    // SAFETY: by the contract.
    let Some(l) = (unsafe { lock_of(mp, true, "ddekit_condvar_wait_timed") }) else { return -1 };
    if timo_ms <= 0 {
        return -1;
    }
    if c.cv.wait_timeout(me(), &l.m, timo_ms as u64) { 0 } else { -1 }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_condvar_signal(p: *mut DdekitCondvar) {
    if let Some(c) = condvar(p, "ddekit_condvar_signal") {
        c.cv.signal();
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_condvar_broadcast(p: *mut DdekitCondvar) {
    if let Some(c) = condvar(p, "ddekit_condvar_broadcast") {
        c.cv.broadcast();
    }
}

/// Whether `p` is a live lock (for tests and the shim's checks).
pub fn is_lock(p: *mut DdekitLock) -> bool {
    memory::object(p).is_some()
}

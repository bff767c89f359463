//! Timers: `ddekit_add_timer`, `ddekit_del_timer`, `ddekit_timer_pending`.
//!
//! One timer thread per task (started with the first timer, at a priority
//! between the driver's threads and its interrupt threads, like Linux's timer
//! softirq) keeps the queue of pending timers sorted by expiry
//! (`ddekit_core::timers`: a fixed table, so that interrupt handlers can add
//! timers without allocating). It runs every expired callback, on itself, one
//! at a time and without holding the queue's lock, then sleeps on its wake-up
//! IRQ with a timeout until the earliest expiry. Adding a timer that expires
//! before everything queued wakes it early. Because the thread re-reads the
//! queue under its lock after every wake-up, and an adder queues before it
//! wakes the thread, no timer is ever overlooked.

use crate::Callback;
use crate::thread::{DdekitThread, Lock, park, spawn, timer_priority, wake};
use core::ffi::{c_int, c_ulong, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};
use ddekit_core::timers::TimerQueue;

/// Most timers pending at once.
pub const MAX_TIMERS: usize = 512;

static QUEUE: Lock<TimerQueue<(Callback, usize), MAX_TIMERS>> = Lock::new(TimerQueue::new());
static THREAD: AtomicPtr<DdekitThread> = AtomicPtr::new(core::ptr::null_mut());
static STARTING: Lock<()> = Lock::new(());

/// The timer thread, started on first use.
fn timer_thread() -> Option<&'static DdekitThread> {
    let p = THREAD.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: only thread records are stored here, and they are never freed.
        return Some(unsafe { &*p });
    }
    let _starting = STARTING.lock();
    let p = THREAD.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: as above.
        return Some(unsafe { &*p });
    }
    let t = spawn(b"ddekit-timer", timer_priority(), run)?;
    THREAD.store(t as *const DdekitThread as *mut DdekitThread, Ordering::Release);
    Some(t)
}

/// The timer thread's loop.
fn run() {
    loop {
        let now = rt::time::ticks();
        let due = QUEUE.lock().pop_due(now);
        if let Some(t) = due {
            let (f, arg) = t.payload;
            // SAFETY: the callback and its argument were given to
            // ddekit_add_timer to be called like this.
            unsafe { f(arg as *mut c_void) };
            continue;
        }
        let next = QUEUE.lock().next_expiry();
        park(next.map(|e| e.saturating_sub(now).max(1)));
    }
}

/// Runs `fn(args)` on the timer thread once `ddekit_jiffies() >= expires`;
/// the timer's id, or -1.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_add_timer(f: Option<Callback>, args: *mut c_void, expires: c_ulong) -> c_int {
    let Some(f) = f else {
        misuse!("ddekit_add_timer: no function");
        return -1;
    };
    let Some(thread) = timer_thread() else { return -1 };
    let (id, earliest) = {
        let mut q = QUEUE.lock();
        let before = q.next_expiry();
        match q.add(expires, (f, args as usize)) {
            Some(id) => (id, before.is_none_or(|b| expires < b)),
            None => {
                drop(q);
                misuse!("ddekit_add_timer: {} timers pending, the most there can be", MAX_TIMERS);
                return -1;
            }
        }
    };
    if earliest {
        wake(thread);
    }
    id
}

/// Cancels a pending timer: 0 if it was pending, -1 otherwise. Does not wait
/// for a callback that is running.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_del_timer(timer: c_int) -> c_int {
    if QUEUE.lock().remove(timer).is_some() { 0 } else { -1 }
}

/// 1 if the timer is pending (not yet run nor deleted).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_timer_pending(timer: c_int) -> c_int {
    QUEUE.lock().pending(timer) as c_int
}

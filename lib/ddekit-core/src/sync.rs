//! Sleeping synchronization for driver threads: a small internal lock for short
//! critical sections ([`RawLock`], with a data-carrying wrapper [`Locked`]),
//! and on top of it DDEKit's mutex with FIFO hand-off ([`Mutex`]), counting
//! semaphore ([`Semaphore`]) and condition variable ([`Condvar`]).
//!
//! # Why no spin locks
//!
//! Resurgo schedules by fixed priority, and a driver task's interrupt threads
//! run above its other threads. On one CPU a spin lock is a livelock: if a
//! low-priority thread is preempted while it holds the lock and a
//! higher-priority thread then spins for it, the holder never runs again
//! (yielding does not help: a yield only gives way to threads of the same
//! priority). So nothing here ever waits for another thread by spinning:
//!
//! * [`RawLock`] is a word lock in the style of WebKit's `WordLock` and
//!   `parking_lot`'s: one atomic word holds the lock bit, a queue-lock bit and
//!   the head of a queue of waiting threads, whose nodes live on the waiters'
//!   stacks. A thread that finds the lock taken pushes itself onto the queue
//!   with a compare-and-swap and *sleeps* (in the kernel), so the holder, even
//!   at a lower priority, gets the CPU and finishes. The queue-lock bit is only
//!   ever *tried*: whoever finds it set leaves the wake-up to its holder, so no
//!   thread ever waits on a preempted queue-lock holder either.
//! * The DDEKit primitives keep their wait lists (intrusive lists of nodes on
//!   the waiters' stacks: no heap) under a [`RawLock`]; the critical sections
//!   are a few pointer updates.
//!
//! # Waiting and waking
//!
//! A [`Platform`] parks and unparks threads with the semantics of
//! `std::thread::park`: an unpark before the park is remembered (once), and a
//! park may return spuriously. On Resurgo each thread has a wake-up IRQ object
//! attached to itself: park is a closed receive on it (with a timeout), unpark
//! triggers it, and the kernel keeps a trigger that arrives before the receive
//! pending. Every wait here therefore loops on a flag that the waker sets
//! (after it has read everything it needs from the waiter's node, so that the
//! node may vanish as soon as the flag is visible), and a wake-up is never
//! lost. A stale token only causes one extra turn of some later wait loop.
//!
//! # Guarantees
//!
//! * [`Mutex`]: mutual exclusion; strict FIFO among waiters (the unlocker hands
//!   ownership to the oldest waiter, nobody can barge in); the owner is known.
//! * [`Semaphore`]: an `up` either wakes the oldest waiter (handing it the unit)
//!   or increments the count; a timed-out `down` takes no unit, and a unit
//!   handed over at the moment of the time-out is not lost (the down succeeds).
//! * [`Condvar`]: a waiter is queued before it releases the mutex, so a signal
//!   sent after that (by a thread that took the mutex) always finds it;
//!   `signal` wakes the oldest waiter, `broadcast` every waiter queued at the
//!   time; a woken or timed-out waiter holds the mutex again when it returns.

use core::cell::{Cell, UnsafeCell};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

/// What the system provides: identifying, parking and waking threads, and a
/// millisecond clock.
pub trait Platform {
    /// The calling thread's wake-up handle, non-zero; 0 if it has none yet (its
    /// waits then poll).
    fn current() -> usize;
    /// Blocks the calling thread (`me`, as [`Platform::current`] returned)
    /// until `unpark(me)`, for at most `timeout_ms` if given. Returns at once if
    /// an unpark came since the last park; may return spuriously.
    fn park(me: usize, timeout_ms: Option<u64>);
    /// Wakes `thread` from its park, or makes its next park return at once.
    fn unpark(thread: usize);
    /// Milliseconds of a monotonic clock.
    fn now_ms() -> u64;
}

// ---------------------------------------------------------------------------
// RawLock
// ---------------------------------------------------------------------------

const LOCKED: usize = 1;
const QUEUE_LOCKED: usize = 2;
const QUEUE_MASK: usize = !3;

/// A thread waiting for a [`RawLock`], on its own stack.
#[repr(align(8))]
struct LockNode {
    thread: usize,
    parked: AtomicBool,
    /// Set on the node at the head of the queue (cached by unlockers).
    queue_tail: Cell<*const LockNode>,
    prev: Cell<*const LockNode>,
    next: Cell<*const LockNode>,
}

/// A lock for short critical sections that sleeps instead of spinning.
/// Not fair (a running thread may take it before a woken one).
pub struct RawLock<P> {
    state: AtomicUsize,
    _platform: PhantomData<fn() -> P>,
}

impl<P: Platform> Default for RawLock<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> RawLock<P> {
    pub const fn new() -> Self {
        RawLock { state: AtomicUsize::new(0), _platform: PhantomData }
    }

    pub fn try_lock(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(state, state | LOCKED, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(x) => state = x,
            }
        }
    }

    #[inline]
    pub fn lock(&self) {
        if self.state.compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_slow();
        }
    }

    #[cold]
    fn lock_slow(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                match self.state.compare_exchange_weak(state, state | LOCKED, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => return,
                    Err(x) => state = x,
                }
                continue;
            }
            // Taken: queue up and sleep (never spin; see the module docs).
            let node = LockNode {
                thread: P::current(),
                parked: AtomicBool::new(true),
                queue_tail: Cell::new(ptr::null()),
                prev: Cell::new(ptr::null()),
                next: Cell::new(ptr::null()),
            };
            let head = (state & QUEUE_MASK) as *const LockNode;
            if head.is_null() {
                node.queue_tail.set(&node);
            } else {
                node.next.set(head);
            }
            let new = (state & !QUEUE_MASK) | (&node as *const LockNode as usize);
            if let Err(x) = self.state.compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed) {
                // Nobody saw the node; build it again for the new state.
                state = x;
                continue;
            }
            // The node is published: it must stay where it is until an unlocker
            // has taken it off the queue and cleared `parked`.
            while node.parked.load(Ordering::Acquire) {
                P::park(node.thread, None);
            }
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// Releases the lock. Only the thread that holds it may call this.
    #[inline]
    pub fn unlock(&self) {
        let state = self.state.fetch_sub(LOCKED, Ordering::Release);
        if state & QUEUE_LOCKED != 0 || state & QUEUE_MASK == 0 {
            return;
        }
        self.unlock_slow();
    }

    #[cold]
    fn unlock_slow(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            // Someone else is waking a thread, or nobody waits.
            if state & QUEUE_LOCKED != 0 || state & QUEUE_MASK == 0 {
                return;
            }
            match self.state.compare_exchange_weak(state, state | QUEUE_LOCKED, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(x) => state = x,
            }
        }
        'outer: loop {
            let head = (state & QUEUE_MASK) as *const LockNode;
            // SAFETY: we hold the queue lock. Queued nodes stay valid until their
            // thread sees `parked` cleared, which only the queue-lock holder does;
            // their link fields are only written by their owner before it
            // published the node (with release ordering, acquired above) and by
            // the queue-lock holder.
            let tail = unsafe {
                let mut current = head;
                loop {
                    let tail = (*current).queue_tail.get();
                    if !tail.is_null() {
                        break tail;
                    }
                    let next = (*current).next.get();
                    (*next).prev.set(current);
                    current = next;
                }
            };
            // SAFETY: as above.
            unsafe { (*head).queue_tail.set(tail) };

            // Locked again: its holder's unlock will wake somebody.
            if state & LOCKED != 0 {
                match self.state.compare_exchange_weak(
                    state,
                    state & !QUEUE_LOCKED,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(x) => state = x,
                }
                fence(Ordering::Acquire);
                continue;
            }

            // SAFETY: as above.
            let new_tail = unsafe { (*tail).prev.get() };
            if new_tail.is_null() {
                // The tail is the only node: empty the queue (keep a LOCKED bit
                // that may have appeared meanwhile).
                loop {
                    match self.state.compare_exchange_weak(state, state & LOCKED, Ordering::Release, Ordering::Relaxed)
                    {
                        Ok(_) => break,
                        Err(x) => state = x,
                    }
                    if state & QUEUE_MASK != head as usize {
                        // New nodes arrived: find the tail's predecessor again.
                        fence(Ordering::Acquire);
                        continue 'outer;
                    }
                }
            } else {
                // SAFETY: as above.
                unsafe { (*head).queue_tail.set(new_tail) };
                self.state.fetch_and(!QUEUE_LOCKED, Ordering::Release);
            }
            // SAFETY: the tail is off the queue and ours alone to wake; read the
            // thread before clearing `parked`, after which the node may vanish.
            unsafe {
                let thread = (*tail).thread;
                (*tail).parked.store(false, Ordering::Release);
                P::unpark(thread);
            }
            return;
        }
    }

    /// Whether some thread holds the lock (a snapshot).
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }
}

/// Data behind a [`RawLock`], with a guard.
pub struct Locked<P, T> {
    raw: RawLock<P>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, which exists only while the
// lock is held, so at most one thread touches it at a time.
unsafe impl<P, T: Send> Sync for Locked<P, T> {}
// SAFETY: as above; moving the lock moves the data with it.
unsafe impl<P, T: Send> Send for Locked<P, T> {}

impl<P: Platform, T> Locked<P, T> {
    pub const fn new(value: T) -> Self {
        Locked { raw: RawLock::new(), data: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> Guard<'_, P, T> {
        self.raw.lock();
        Guard { lock: self }
    }

    pub fn try_lock(&self) -> Option<Guard<'_, P, T>> {
        self.raw.try_lock().then_some(Guard { lock: self })
    }
}

pub struct Guard<'a, P: Platform, T> {
    lock: &'a Locked<P, T>,
}

impl<P: Platform, T> Deref for Guard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<P: Platform, T> DerefMut for Guard<'_, P, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held, and `&mut self`
        // makes this the only reference through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<P: Platform, T> Drop for Guard<'_, P, T> {
    fn drop(&mut self) {
        self.lock.raw.unlock();
    }
}

// ---------------------------------------------------------------------------
// Wait lists
// ---------------------------------------------------------------------------

/// A thread waiting in a [`Mutex`], [`Semaphore`] or [`Condvar`], on its stack.
/// All fields but `woken` are touched only under the owning primitive's lock.
struct Waiter {
    thread: usize,
    woken: AtomicBool,
    linked: Cell<bool>,
    prev: Cell<*const Waiter>,
    next: Cell<*const Waiter>,
}

impl Waiter {
    fn new(thread: usize) -> Waiter {
        Waiter {
            thread,
            woken: AtomicBool::new(false),
            linked: Cell::new(false),
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
        }
    }
}

/// Intrusive FIFO of [`Waiter`]s.
struct WaitList {
    head: *const Waiter,
    tail: *const Waiter,
    len: usize,
}

impl WaitList {
    const fn new() -> WaitList {
        WaitList { head: ptr::null(), tail: ptr::null(), len: 0 }
    }

    /// # Safety
    /// `w` is not in a list and stays valid and in place until it is taken off
    /// again; the caller holds the lock that guards this list.
    unsafe fn push_back(&mut self, w: &Waiter) {
        w.prev.set(self.tail);
        w.next.set(ptr::null());
        w.linked.set(true);
        if self.tail.is_null() {
            self.head = w;
        } else {
            // SAFETY: the tail is a linked, valid node (the caller's contract for
            // every node in the list).
            unsafe { (*self.tail).next.set(w) };
        }
        self.tail = w;
        self.len += 1;
    }

    /// # Safety
    /// The caller holds the lock that guards this list.
    unsafe fn pop_front(&mut self) -> Option<*const Waiter> {
        if self.head.is_null() {
            return None;
        }
        let w = self.head;
        // SAFETY: nodes in the list are valid (push_back's contract).
        unsafe { self.remove(&*w) };
        Some(w)
    }

    /// Takes `w` off the list if it is on it; returns whether it was.
    ///
    /// # Safety
    /// The caller holds the lock that guards this list, and `w` is either on
    /// this list or on none.
    unsafe fn remove(&mut self, w: &Waiter) -> bool {
        if !w.linked.get() {
            return false;
        }
        let (prev, next) = (w.prev.get(), w.next.get());
        if prev.is_null() {
            self.head = next;
        } else {
            // SAFETY: linked neighbours are valid nodes of this list.
            unsafe { (*prev).next.set(next) };
        }
        if next.is_null() {
            self.tail = prev;
        } else {
            // SAFETY: as above.
            unsafe { (*next).prev.set(prev) };
        }
        w.linked.set(false);
        w.prev.set(ptr::null());
        w.next.set(ptr::null());
        self.len -= 1;
        true
    }

    /// Empties the list; returns the old head, the nodes still chained through
    /// `next` but no longer linked.
    ///
    /// # Safety
    /// The caller holds the lock that guards this list.
    unsafe fn take_all(&mut self) -> *const Waiter {
        let head = self.head;
        let mut n = head;
        while !n.is_null() {
            // SAFETY: nodes in the list are valid.
            unsafe {
                (*n).linked.set(false);
                n = (*n).next.get();
            }
        }
        self.head = ptr::null();
        self.tail = ptr::null();
        self.len = 0;
        head
    }
}

/// Wakes a waiter that the caller took off its list (and so owns the wake-up).
///
/// # Safety
/// `w` is valid: its thread waits until `woken` is set.
unsafe fn wake<P: Platform>(w: *const Waiter) {
    // SAFETY: see the contract; after the store the node may go away, so the
    // thread is read before.
    unsafe {
        let thread = (*w).thread;
        (*w).woken.store(true, Ordering::Release);
        P::unpark(thread);
    }
}

/// Sleeps until `w` is woken (true) or `deadline` passes (false).
fn sleep<P: Platform>(w: &Waiter, deadline: Option<u64>) -> bool {
    loop {
        if w.woken.load(Ordering::Acquire) {
            return true;
        }
        match deadline {
            None => P::park(w.thread, None),
            Some(d) => {
                let now = P::now_ms();
                if now >= d {
                    return false;
                }
                P::park(w.thread, Some(d - now));
            }
        }
    }
}

fn deadline<P: Platform>(timeout_ms: u64) -> u64 {
    P::now_ms().saturating_add(timeout_ms)
}

// ---------------------------------------------------------------------------
// Mutex
// ---------------------------------------------------------------------------

struct MutexInner {
    held: bool,
    waiters: WaitList,
}

/// A sleeping mutex with FIFO hand-off and a known owner. Threads are named by
/// their [`Platform::current`] handle.
pub struct Mutex<P> {
    raw: RawLock<P>,
    owner: AtomicUsize,
    inner: UnsafeCell<MutexInner>,
}

// SAFETY: `inner` is only touched with `raw` held; `owner` is atomic.
unsafe impl<P> Sync for Mutex<P> {}
// SAFETY: as above.
unsafe impl<P> Send for Mutex<P> {}

impl<P: Platform> Default for Mutex<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> Mutex<P> {
    pub const fn new() -> Self {
        Mutex {
            raw: RawLock::new(),
            owner: AtomicUsize::new(0),
            inner: UnsafeCell::new(MutexInner { held: false, waiters: WaitList::new() }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut MutexInner) -> R) -> R {
        self.raw.lock();
        // SAFETY: `raw` is held; `f` cannot leak the reference (it is not
        // 'static).
        let r = f(unsafe { &mut *self.inner.get() });
        self.raw.unlock();
        r
    }

    /// Takes the mutex for `me`, sleeping behind earlier waiters.
    pub fn lock(&self, me: usize) {
        let w = Waiter::new(me);
        let acquired = self.with(|m| {
            if !m.held {
                m.held = true;
                self.owner.store(me, Ordering::Relaxed);
                true
            } else {
                // SAFETY: `w` stays here until it is woken (below), and a
                // woken waiter has been taken off the list by the unlocker.
                unsafe { m.waiters.push_back(&w) };
                false
            }
        });
        if !acquired {
            sleep::<P>(&w, None);
        }
    }

    /// Takes the mutex if it is free.
    pub fn try_lock(&self, me: usize) -> bool {
        self.with(|m| {
            if m.held {
                return false;
            }
            m.held = true;
            self.owner.store(me, Ordering::Relaxed);
            true
        })
    }

    /// Releases the mutex, handing it to the oldest waiter if there is one.
    /// Returns false (and does nothing) if it was not locked.
    pub fn unlock(&self) -> bool {
        self.raw.lock();
        // SAFETY: `raw` is held.
        let m = unsafe { &mut *self.inner.get() };
        if !m.held {
            self.raw.unlock();
            return false;
        }
        // SAFETY: `raw` is held.
        match unsafe { m.waiters.pop_front() } {
            Some(w) => {
                // SAFETY: the waiter is valid until woken.
                self.owner.store(unsafe { (*w).thread }, Ordering::Relaxed);
                self.raw.unlock();
                // SAFETY: we took it off the list, so the wake-up is ours.
                unsafe { wake::<P>(w) };
            }
            None => {
                m.held = false;
                self.owner.store(0, Ordering::Relaxed);
                self.raw.unlock();
            }
        }
        true
    }

    /// The owner's handle, 0 when free (a snapshot).
    pub fn owner(&self) -> usize {
        self.owner.load(Ordering::Relaxed)
    }

    pub fn is_locked(&self) -> bool {
        self.with(|m| m.held)
    }

    /// Threads waiting (a snapshot).
    pub fn waiters(&self) -> usize {
        self.with(|m| m.waiters.len)
    }
}

// ---------------------------------------------------------------------------
// Semaphore
// ---------------------------------------------------------------------------

struct SemInner {
    count: u64,
    waiters: WaitList,
}

/// A counting semaphore; waiters are served in FIFO order.
pub struct Semaphore<P> {
    raw: RawLock<P>,
    inner: UnsafeCell<SemInner>,
}

// SAFETY: `inner` is only touched with `raw` held.
unsafe impl<P> Sync for Semaphore<P> {}
// SAFETY: as above.
unsafe impl<P> Send for Semaphore<P> {}

impl<P: Platform> Semaphore<P> {
    pub const fn new(count: u64) -> Self {
        Semaphore { raw: RawLock::new(), inner: UnsafeCell::new(SemInner { count, waiters: WaitList::new() }) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut SemInner) -> R) -> R {
        self.raw.lock();
        // SAFETY: `raw` is held.
        let r = f(unsafe { &mut *self.inner.get() });
        self.raw.unlock();
        r
    }

    pub fn down(&self, me: usize) {
        self.down_until(me, None);
    }

    pub fn try_down(&self) -> bool {
        self.with(|s| {
            if s.count > 0 {
                s.count -= 1;
                true
            } else {
                false
            }
        })
    }

    /// Waits at most `timeout_ms` for a unit; false on time-out.
    pub fn down_timeout(&self, me: usize, timeout_ms: u64) -> bool {
        self.down_until(me, Some(deadline::<P>(timeout_ms)))
    }

    fn down_until(&self, me: usize, deadline: Option<u64>) -> bool {
        let w = Waiter::new(me);
        let got = self.with(|s| {
            if s.count > 0 {
                s.count -= 1;
                return true;
            }
            // SAFETY: `w` stays here until woken or taken off the list below.
            unsafe { s.waiters.push_back(&w) };
            false
        });
        if got || sleep::<P>(&w, deadline) {
            return true;
        }
        // Timed out: leave the queue, unless an `up` took us off it already (then
        // its unit is ours; wait for its wake-up so that it is done with `w`).
        // SAFETY: `w` is on this semaphore's list or on none.
        let removed = self.with(|s| unsafe { s.waiters.remove(&w) });
        if removed {
            return false;
        }
        sleep::<P>(&w, None);
        true
    }

    pub fn up(&self) {
        self.raw.lock();
        // SAFETY: `raw` is held.
        let s = unsafe { &mut *self.inner.get() };
        // SAFETY: `raw` is held.
        match unsafe { s.waiters.pop_front() } {
            Some(w) => {
                self.raw.unlock();
                // SAFETY: we took it off the list.
                unsafe { wake::<P>(w) };
            }
            None => {
                s.count = s.count.saturating_add(1);
                self.raw.unlock();
            }
        }
    }

    /// The count (a snapshot).
    pub fn count(&self) -> u64 {
        self.with(|s| s.count)
    }

    /// Threads waiting (a snapshot).
    pub fn waiters(&self) -> usize {
        self.with(|s| s.waiters.len)
    }
}

// ---------------------------------------------------------------------------
// Condvar
// ---------------------------------------------------------------------------

/// A condition variable for a [`Mutex`].
pub struct Condvar<P> {
    raw: RawLock<P>,
    waiters: UnsafeCell<WaitList>,
}

// SAFETY: `waiters` is only touched with `raw` held.
unsafe impl<P> Sync for Condvar<P> {}
// SAFETY: as above.
unsafe impl<P> Send for Condvar<P> {}

impl<P: Platform> Default for Condvar<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> Condvar<P> {
    pub const fn new() -> Self {
        Condvar { raw: RawLock::new(), waiters: UnsafeCell::new(WaitList::new()) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut WaitList) -> R) -> R {
        self.raw.lock();
        // SAFETY: `raw` is held.
        let r = f(unsafe { &mut *self.waiters.get() });
        self.raw.unlock();
        r
    }

    /// Releases `m` (which `me` should hold), waits for a signal, takes `m`
    /// again.
    pub fn wait(&self, me: usize, m: &Mutex<P>) {
        self.wait_until(me, m, None);
    }

    /// As [`Condvar::wait`], for at most `timeout_ms`; true if signalled.
    pub fn wait_timeout(&self, me: usize, m: &Mutex<P>, timeout_ms: u64) -> bool {
        self.wait_until(me, m, Some(deadline::<P>(timeout_ms)))
    }

    fn wait_until(&self, me: usize, m: &Mutex<P>, deadline: Option<u64>) -> bool {
        let w = Waiter::new(me);
        // Queued before the mutex is released: a signal after that finds us.
        // SAFETY: `w` stays here until woken or taken off the list below.
        self.with(|l| unsafe { l.push_back(&w) });
        m.unlock();
        let mut signalled = sleep::<P>(&w, deadline);
        if !signalled {
            // SAFETY: `w` is on this condvar's list or on none.
            let removed = self.with(|l| unsafe { l.remove(&w) });
            if !removed {
                // A signal or broadcast took us off already: wait until it is
                // done with `w`, and count it as signalled.
                sleep::<P>(&w, None);
                signalled = true;
            }
        }
        m.lock(me);
        signalled
    }

    /// Wakes the oldest waiter; returns whether there was one.
    pub fn signal(&self) -> bool {
        // SAFETY: `raw` is held inside `with`.
        match self.with(|l| unsafe { l.pop_front() }) {
            Some(w) => {
                // SAFETY: we took it off the list.
                unsafe { wake::<P>(w) };
                true
            }
            None => false,
        }
    }

    /// Wakes every waiter; returns how many.
    pub fn broadcast(&self) -> usize {
        // SAFETY: `raw` is held inside `with`.
        let mut n = self.with(|l| unsafe { l.take_all() });
        let mut woken = 0;
        while !n.is_null() {
            // SAFETY: the chain is ours alone now (its nodes are unlinked, so
            // their threads wait for `woken`); read `next` before waking.
            unsafe {
                let next = (*n).next.get();
                wake::<P>(n);
                n = next;
            }
            woken += 1;
        }
        woken
    }

    /// Threads waiting (a snapshot).
    pub fn waiters(&self) -> usize {
        self.with(|l| l.len)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use std::time::{Duration, Instant};

    /// `std::thread` parking as the platform.
    pub struct Std;

    thread_local! {
        static ME: &'static std::thread::Thread = Box::leak(Box::new(std::thread::current()));
    }

    fn start() -> Instant {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *START.get_or_init(Instant::now)
    }

    impl Platform for Std {
        fn current() -> usize {
            ME.with(|t| *t as *const std::thread::Thread as usize)
        }
        fn park(_me: usize, timeout_ms: Option<u64>) {
            match timeout_ms {
                None => std::thread::park(),
                Some(ms) => std::thread::park_timeout(Duration::from_millis(ms)),
            }
        }
        fn unpark(thread: usize) {
            // SAFETY: handles are leaked `Thread`s (see ME).
            unsafe { &*(thread as *const std::thread::Thread) }.unpark();
        }
        fn now_ms() -> u64 {
            start().elapsed().as_millis() as u64
        }
    }

    fn me() -> usize {
        Std::current()
    }

    /// A counter that is not atomic, to catch broken mutual exclusion.
    struct Racy(UnsafeCell<u64>);
    // SAFETY: test helper; only touched under the lock being tested.
    unsafe impl Sync for Racy {}

    fn wait_for(mut cond: impl FnMut() -> bool) {
        let t = Instant::now();
        while !cond() {
            assert!(t.elapsed() < Duration::from_secs(10), "condition never became true");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn raw_lock_excludes() {
        let lock = Arc::new(RawLock::<Std>::new());
        let n = Arc::new(Racy(UnsafeCell::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (lock, n) = (lock.clone(), n.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        lock.lock();
                        // SAFETY: under the lock.
                        unsafe { *n.0.get() += 1 };
                        if i % 1000 == 0 {
                            std::thread::yield_now();
                        }
                        lock.unlock();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: all threads joined.
        assert_eq!(unsafe { *n.0.get() }, 160_000);
        assert!(!lock.is_locked());
        assert!(lock.try_lock());
        assert!(!lock.try_lock());
        lock.unlock();
    }

    #[test]
    fn raw_lock_sleepers_are_woken() {
        // Holders that sleep while holding force every other thread onto the
        // queue, exercising the slow paths.
        let lock = Arc::new(Locked::<Std, Vec<u32>>::new(Vec::new()));
        let threads: Vec<_> = (0..6)
            .map(|k| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let mut g = lock.lock();
                        g.push(k * 1000 + i);
                        if i % 10 == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(lock.lock().len(), 300);
    }

    #[test]
    fn mutex_excludes_and_tracks_owner() {
        let m = Arc::new(Mutex::<Std>::new());
        let n = Arc::new(Racy(UnsafeCell::new(0)));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (m, n) = (m.clone(), n.clone());
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        if i % 3 == 0 {
                            while !m.try_lock(me()) {
                                std::thread::yield_now();
                            }
                        } else {
                            m.lock(me());
                        }
                        assert_eq!(m.owner(), me());
                        // SAFETY: under the mutex.
                        unsafe { *n.0.get() += 1 };
                        assert!(m.unlock());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: all threads joined.
        assert_eq!(unsafe { *n.0.get() }, 30_000);
        assert_eq!(m.owner(), 0);
        assert!(!m.is_locked());
        assert!(!m.unlock(), "unlocking a free mutex is refused");
    }

    #[test]
    fn mutex_hands_over_in_fifo_order() {
        let m = Arc::new(Mutex::<Std>::new());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        m.lock(me());
        let mut threads = Vec::new();
        for k in 0..5 {
            let (m2, order2) = (m.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                m2.lock(me());
                order2.lock().unwrap().push(k);
                std::thread::sleep(Duration::from_millis(2));
                m2.unlock();
            }));
            // Each waiter queues before the next one starts.
            wait_for(|| m.waiters() == k + 1);
        }
        assert!(!m.try_lock(me()));
        m.unlock();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn semaphore_counts_and_times_out() {
        let s = Arc::new(Semaphore::<Std>::new(2));
        assert!(s.try_down());
        assert!(s.down_timeout(me(), 10));
        assert!(!s.try_down());
        let t0 = Instant::now();
        assert!(!s.down_timeout(me(), 30));
        assert!(t0.elapsed() >= Duration::from_millis(29));
        assert_eq!(s.waiters(), 0);
        let s2 = s.clone();
        let upper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            s2.up();
        });
        assert!(s.down_timeout(me(), 5_000));
        upper.join().unwrap();
        assert_eq!(s.count(), 0);
        s.up();
        s.down(me());
        assert_eq!(s.count(), 0);
    }

    #[test]
    fn semaphore_never_loses_or_invents_units() {
        // Consumers with tiny time-outs race producers: every unit is taken
        // exactly once, whether it was handed over or counted.
        let s = Arc::new(Semaphore::<Std>::new(0));
        const UNITS: u64 = 4_000;
        let taken = Arc::new(AtomicU64::new(0));
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let (s, taken) = (s.clone(), taken.clone());
                std::thread::spawn(move || {
                    while taken.load(Ordering::SeqCst) < UNITS {
                        if s.down_timeout(me(), 1) {
                            taken.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..UNITS / 2 {
                        s.up();
                        if i % 64 == 0 {
                            std::thread::sleep(Duration::from_micros(300));
                        }
                    }
                })
            })
            .collect();
        for t in producers.into_iter().chain(consumers) {
            t.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::SeqCst), UNITS);
        assert_eq!(s.count(), 0);
        assert_eq!(s.waiters(), 0);
    }

    #[test]
    fn condvar_signal_broadcast_and_timeout() {
        struct Shared {
            m: Mutex<Std>,
            cv: Condvar<Std>,
            value: Racy,
        }
        let sh = Arc::new(Shared { m: Mutex::new(), cv: Condvar::new(), value: Racy(UnsafeCell::new(0)) });

        // Time-out: false, and the mutex is held again.
        sh.m.lock(me());
        let t0 = Instant::now();
        assert!(!sh.cv.wait_timeout(me(), &sh.m, 20));
        assert!(t0.elapsed() >= Duration::from_millis(19));
        assert_eq!(sh.m.owner(), me());
        sh.m.unlock();

        // Broadcast wakes everyone waiting for the value to change.
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let sh = sh.clone();
                std::thread::spawn(move || {
                    sh.m.lock(me());
                    // SAFETY: under the mutex.
                    while unsafe { *sh.value.0.get() } == 0 {
                        sh.cv.wait(me(), &sh.m);
                    }
                    assert_eq!(sh.m.owner(), me());
                    sh.m.unlock();
                })
            })
            .collect();
        wait_for(|| sh.cv.waiters() == 4);
        sh.m.lock(me());
        // SAFETY: under the mutex.
        unsafe { *sh.value.0.get() = 1 };
        assert_eq!(sh.cv.broadcast(), 4);
        sh.m.unlock();
        for t in waiters {
            t.join().unwrap();
        }

        // Signal wakes exactly one.
        let sh2 = sh.clone();
        let one = std::thread::spawn(move || {
            sh2.m.lock(me());
            let got = sh2.cv.wait_timeout(me(), &sh2.m, 5_000);
            sh2.m.unlock();
            got
        });
        wait_for(|| sh.cv.waiters() == 1);
        assert!(sh.cv.signal());
        assert!(one.join().unwrap());
        assert!(!sh.cv.signal());
    }

    #[test]
    fn condvar_queue_stress() {
        // A bounded queue with producers and consumers on one mutex and two
        // condvars, some waits timed: nothing is lost or duplicated.
        struct Q {
            m: Mutex<Std>,
            not_empty: Condvar<Std>,
            not_full: Condvar<Std>,
            items: UnsafeCell<std::collections::VecDeque<u64>>,
        }
        // SAFETY: items only under m.
        unsafe impl Sync for Q {}
        // SAFETY: as above.
        unsafe impl Send for Q {}
        let q = Arc::new(Q {
            m: Mutex::new(),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            items: UnsafeCell::new(Default::default()),
        });
        const PER: u64 = 3_000;
        let sum = Arc::new(AtomicU64::new(0));
        let count = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        for p in 0..3u64 {
            let q = q.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..PER {
                    q.m.lock(me());
                    // SAFETY: under q.m.
                    while unsafe { (*q.items.get()).len() } >= 8 {
                        q.not_full.wait_timeout(me(), &q.m, 2);
                    }
                    // SAFETY: under q.m.
                    unsafe { (*q.items.get()).push_back(p * PER + i) };
                    q.not_empty.signal();
                    q.m.unlock();
                }
            }));
        }
        for _ in 0..3 {
            let (q, sum, count) = (q.clone(), sum.clone(), count.clone());
            threads.push(std::thread::spawn(move || {
                loop {
                    q.m.lock(me());
                    loop {
                        if count.load(Ordering::SeqCst) >= 3 * PER {
                            q.m.unlock();
                            return;
                        }
                        // SAFETY: under q.m.
                        if let Some(v) = unsafe { (*q.items.get()).pop_front() } {
                            sum.fetch_add(v, Ordering::SeqCst);
                            count.fetch_add(1, Ordering::SeqCst);
                            q.not_full.broadcast();
                            break;
                        }
                        q.not_empty.wait_timeout(me(), &q.m, 3);
                    }
                    q.m.unlock();
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        let n = 3 * PER;
        assert_eq!(count.load(Ordering::SeqCst), n);
        assert_eq!(sum.load(Ordering::SeqCst), n * (n - 1) / 2);
    }
}

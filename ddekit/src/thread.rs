//! Threads: `ddekit_thread_*`, and the [`L4`] platform on which every
//! blocking primitive of DDEKit parks.
//!
//! Each DDEKit thread is a kernel thread of the driver task with a
//! [`DdekitThread`] record (name, one data pointer, print buffer) and its own
//! *wake-up IRQ*: a software IRQ object attached to the thread itself. A
//! thread that must wait does a closed receive on its wake-up IRQ (with a
//! timeout if the wait has one); whoever wakes it triggers that IRQ. The kernel
//! keeps a trigger that arrives before the receive pending, so a wake-up is
//! never lost; waits loop on their own condition, so a stale trigger costs one
//! extra turn and nothing else.
//!
//! The record of the running thread is found through the UTCB's thread-local
//! word [`TLS_THREAD`] (the runtime keeps the thread capability in word 0).
//! Threads DDEKit did not create (the task's main thread, above all) get a
//! record the first time they call into DDEKit. Records are never freed, so a
//! waker that still holds one after its thread ended triggers a dead IRQ
//! object instead of freed memory.
//!
//! Priorities: the task's first thread runs at its declared priority P, and
//! the task may raise threads up to P+10. DDEKit threads run at P, the timer
//! thread at P+1 and interrupt threads at P+2, so that interrupt handlers
//! preempt everything else in the driver, as in Linux.

use crate::memory;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_ulong, c_void};
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, Ordering};
use ddekit_core::linebuf::LineBuffer;
use ddekit_core::sync::{Locked, Platform, RawLock};
use rt::obj::{Factory, Irq, Thread};
use rt::{CapIdx, Error, Timeout};

/// UTCB thread-local word that holds the running thread's [`DdekitThread`].
pub const TLS_THREAD: usize = 1;
/// Attach label of a thread's wake-up IRQ (`DDEKIT_WAKE_LABEL` in ddekit.h):
/// a thread that does open waits of its own may see it and must ignore it.
pub const WAKE_LABEL: u64 = 0xdde0;
/// Stack of threads DDEKit starts.
pub const STACK_SIZE: u64 = 64 << 10;
/// Bytes of a log line collected per thread.
pub const PRINT_BUFFER: usize = 480;
const NAME_LEN: usize = 32;
const MAGIC: u64 = 0x6464_656b_7468_7264;

/// A DDEKit thread (`ddekit_thread_t` in C).
#[repr(C)]
pub struct DdekitThread {
    magic: u64,
    /// NUL-terminated.
    name: [u8; NAME_LEN],
    data: AtomicPtr<c_void>,
    /// Capability slot of the kernel thread, once it runs.
    cap: AtomicU32,
    wake: Option<Irq>,
    /// Touched only by the thread itself (see [`DdekitThread::print_buffer`]).
    print: UnsafeCell<LineBuffer<PRINT_BUFFER>>,
}

// SAFETY: every field but `print` is immutable or atomic; `print` is only
// reached through `print_buffer`, which hands it to the owning thread alone.
unsafe impl Sync for DdekitThread {}

impl DdekitThread {
    pub fn name(&self) -> &[u8] {
        let n = self.name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        &self.name[..n]
    }

    pub fn data(&self) -> *mut c_void {
        self.data.load(Ordering::Acquire)
    }

    pub fn set_data(&self, data: *mut c_void) {
        self.data.store(data, Ordering::Release);
    }

    /// The kernel thread (once it has started).
    pub fn thread(&self) -> Option<Thread> {
        match self.cap.load(Ordering::Acquire) {
            0 => None,
            c => Some(Thread(CapIdx(c))),
        }
    }

    /// The handle the locks know this thread by.
    pub fn handle(&'static self) -> usize {
        self as *const DdekitThread as usize
    }

    /// The running thread's print buffer.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn print_buffer(&'static self) -> Option<&'static mut LineBuffer<PRINT_BUFFER>> {
        if L4::current() != self.handle() {
            return None;
        }
        // SAFETY: only the thread whose record this is gets here (checked
        // above), and it uses the buffer in one place at a time (print does not
        // re-enter itself).
        Some(unsafe { &mut *self.print.get() })
    }

    /// On the thread itself: makes this record the running thread's.
    fn adopt(&'static self) {
        let me = rt::thread::current_cap();
        self.cap.store(me.0, Ordering::Release);
        if let Some(irq) = self.wake
            && let Err(e) = irq.attach(&Thread(me), WAKE_LABEL)
        {
            rt::warn!("ddekit: cannot attach the wake-up IRQ of {}: {}", self.name_str(), e);
        }
        if let Err(e) = rt::thread::tls_set(TLS_THREAD, self.handle() as u64) {
            rt::warn!("ddekit: cannot keep the record of {} in its thread word: {}", self.name_str(), e);
        }
    }

    fn name_str(&self) -> &str {
        core::str::from_utf8(self.name()).unwrap_or("?")
    }
}

// SAFETY: `repr(C)` with the magic word first.
unsafe impl memory::Object for DdekitThread {
    const MAGIC: u64 = MAGIC;
}

/// The record of `ptr` if it is one (C passes these back to us).
pub(crate) fn from_ptr(ptr: *const DdekitThread) -> Option<&'static DdekitThread> {
    memory::object(ptr)
}

// ---------------------------------------------------------------------------
// Platform
// ---------------------------------------------------------------------------

/// Parking on Resurgo: a thread sleeps in a closed receive on its wake-up IRQ.
pub struct L4;

impl L4 {
    fn wake_irq(handle: usize) -> Option<Irq> {
        // SAFETY: handles are `DdekitThread` records, which are never freed.
        (handle != 0).then(|| unsafe { &*(handle as *const DdekitThread) }).and_then(|t| t.wake)
    }
}

impl Platform for L4 {
    fn current() -> usize {
        rt::thread::tls_get(TLS_THREAD) as usize
    }

    fn park(me: usize, timeout_ms: Option<u64>) {
        let Some(irq) = Self::wake_irq(me) else {
            // A thread without a wake-up IRQ (one being registered) polls.
            rt::ipc::sleep_ms(1);
            return;
        };
        let timeout = match timeout_ms {
            None => Timeout::Never,
            Some(ms) => Timeout::Millis(ms.clamp(1, u32::MAX as u64 - 1) as u32),
        };
        match irq.wait(timeout) {
            Ok(_) | Err(Error::Timeout) => {}
            // Never expected; do not turn a broken IRQ into a busy loop.
            Err(_) => rt::ipc::sleep_ms(1),
        }
    }

    fn unpark(thread: usize) {
        if let Some(irq) = Self::wake_irq(thread) {
            let _ = irq.trigger();
        }
    }

    fn now_ms() -> u64 {
        rt::time::ticks()
    }
}

/// Data behind DDEKit's internal lock.
pub type Lock<T> = Locked<L4, T>;

/// Serialises DDEKit's calls into the runtime functions that take the
/// runtime's spin locks (capability slots, map area, heap): DDEKit threads of
/// different priorities then never meet inside one of those, where the higher
/// one would spin on a lock the lower one holds. Never held while taking
/// another DDEKit lock.
static RT: RawLock<L4> = RawLock::new();

pub(crate) fn rt_call<R>(f: impl FnOnce() -> R) -> R {
    RT.lock();
    let r = f();
    RT.unlock();
    r
}

// ---------------------------------------------------------------------------
// Priorities
// ---------------------------------------------------------------------------

static BASE_PRIORITY: AtomicU8 = AtomicU8::new(0);

/// The task's declared priority: its first thread's, read once.
pub fn base_priority() -> u8 {
    match BASE_PRIORITY.load(Ordering::Relaxed) {
        0 => {
            let p = rt::thread::declared_priority().unwrap_or(100);
            BASE_PRIORITY.store(p, Ordering::Relaxed);
            p
        }
        p => p,
    }
}

pub fn normal_priority() -> u8 {
    base_priority()
}

pub fn timer_priority() -> u8 {
    base_priority().saturating_add(1)
}

pub fn irq_priority() -> u8 {
    base_priority().saturating_add(2)
}

// ---------------------------------------------------------------------------
// Records and threads
// ---------------------------------------------------------------------------

/// The running thread's record, registering the thread on first use.
pub fn current() -> &'static DdekitThread {
    match L4::current() {
        0 => register_current(),
        // SAFETY: the word only ever holds a record's address (set by `adopt`),
        // and records are never freed.
        p => unsafe { &*(p as *const DdekitThread) },
    }
}

#[cold]
fn register_current() -> &'static DdekitThread {
    base_priority();
    let name: &[u8] = if rt::thread::current_cap() == rt::thread::main_cap() { b"main" } else { b"thread" };
    match new_record(name) {
        Some(t) => {
            t.adopt();
            t
        }
        None => {
            // Without memory for a record DDEKit cannot work on this thread.
            rt::error!("ddekit: no memory for a thread record");
            rt::exit(12, "ddekit: no memory for a thread record")
        }
    }
}

/// A record with a fresh wake-up IRQ, not yet bound to a thread.
fn new_record(name: &[u8]) -> Option<&'static DdekitThread> {
    let wake = match rt_call(|| Factory::own().create_irq()) {
        Ok(irq) => Some(irq),
        Err(e) => {
            rt::warn!("ddekit: no wake-up IRQ for a thread ({}); its waits will poll", e);
            None
        }
    };
    let mut n = [0u8; NAME_LEN];
    let len = name.len().min(NAME_LEN - 1);
    n[..len].copy_from_slice(&name[..len]);
    let record = DdekitThread {
        magic: MAGIC,
        name: n,
        data: AtomicPtr::new(core::ptr::null_mut()),
        cap: AtomicU32::new(0),
        wake,
        print: UnsafeCell::new(LineBuffer::new()),
    };
    match memory::alloc_obj(record) {
        Some(t) => Some(t),
        None => {
            if let Some(irq) = wake {
                rt_call(|| rt::obj::release(irq.0));
            }
            None
        }
    }
}

/// Starts a DDEKit thread named `name` at `priority` running `f`. Its record
/// exists (and is returned) before it runs.
pub fn spawn(name: &[u8], priority: u8, f: impl FnOnce() + Send + 'static) -> Option<&'static DdekitThread> {
    let t = new_record(name)?;
    start(t, priority, f).ok()?;
    Some(t)
}

/// Starts the kernel thread for a record made by [`spawn`]'s first half.
fn start(t: &'static DdekitThread, priority: u8, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
    let handle = t.handle();
    let started = rt_call(|| {
        rt::thread::spawn(priority, STACK_SIZE, move || {
            // SAFETY: `handle` is the address of a record, never freed.
            let me = unsafe { &*(handle as *const DdekitThread) };
            me.adopt();
            f();
        })
    });
    if let Err(e) = started {
        rt::warn!("ddekit: cannot start thread {}: {}", t.name_str(), e);
        // The record was never published; give back what it holds.
        if let Some(irq) = t.wake {
            rt_call(|| rt::obj::release(irq.0));
        }
        // SAFETY: nobody else knows the record.
        unsafe { memory::free_obj(t as *const DdekitThread as *mut DdekitThread) };
        return Err(e);
    }
    Ok(())
}

/// Sleeps the calling thread until woken by [`wake`] (or `timeout_ms`).
/// May return early: callers re-check what they wait for.
pub fn park(timeout_ms: Option<u64>) {
    L4::park(current().handle(), timeout_ms);
}

pub fn wake(t: &'static DdekitThread) {
    L4::unpark(t.handle());
}

// ---------------------------------------------------------------------------
// C ABI
// ---------------------------------------------------------------------------

/// Starts `fun(arg)` in a new thread named `name`; NULL if it cannot.
///
/// # Safety
/// `name` is null or a NUL-terminated string; `fun` may be called with `arg`
/// on another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_thread_create(
    fun: Option<crate::Callback>,
    arg: *mut c_void,
    name: *const c_char,
) -> *mut DdekitThread {
    let Some(fun) = fun else {
        misuse!("ddekit_thread_create: no function");
        return core::ptr::null_mut();
    };
    // SAFETY: by the caller's contract.
    let name = unsafe { crate::cstr(name) }.unwrap_or(b"ddekit");
    let arg = arg as usize;
    // SAFETY: the caller gave `fun` and `arg` to be called on a new thread.
    let body = move || unsafe { fun(arg as *mut c_void) };
    match spawn(name, normal_priority(), body) {
        Some(t) => t as *const DdekitThread as *mut DdekitThread,
        None => core::ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_myself() -> *mut DdekitThread {
    current() as *const DdekitThread as *mut DdekitThread
}

/// The thread's name (NUL-terminated, valid for the task's life); NULL for an
/// unknown thread.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_get_name(t: *mut DdekitThread) -> *const c_char {
    match from_ptr(t) {
        Some(t) => t.name.as_ptr() as *const c_char,
        None => {
            misuse!("ddekit_thread_get_name: unknown thread {:p}", t);
            core::ptr::null()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_set_data(t: *mut DdekitThread, data: *mut c_void) {
    match from_ptr(t) {
        Some(t) => t.set_data(data),
        None => misuse!("ddekit_thread_set_data: unknown thread {:p}", t),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_get_data(t: *mut DdekitThread) -> *mut c_void {
    match from_ptr(t) {
        Some(t) => t.data(),
        None => {
            misuse!("ddekit_thread_get_data: unknown thread {:p}", t);
            core::ptr::null_mut()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_set_my_data(data: *mut c_void) {
    current().set_data(data);
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_get_my_data() -> *mut c_void {
    current().data()
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_msleep(msecs: c_ulong) {
    crate::time::sleep_ns(msecs.saturating_mul(1_000_000));
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_usleep(usecs: c_ulong) {
    crate::time::sleep_ns(usecs.saturating_mul(1_000));
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_nsleep(nsecs: c_ulong) {
    crate::time::sleep_ns(nsecs);
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_yield() {
    Thread(rt::thread::current_cap()).yield_now();
}

/// Ends the calling thread (not the task).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_thread_exit() -> ! {
    if let Some(t) = (L4::current() != 0).then(current)
        && let Some(buf) = t.print_buffer()
    {
        buf.end_line(&mut |level, line| rt::log::write(level as u64, line));
    }
    Thread(rt::thread::current_cap()).exit();
    // The kernel does not return from a thread's own exit.
    loop {
        rt::ipc::sleep_ms(u32::MAX - 1);
    }
}

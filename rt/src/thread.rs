//! More threads in the calling task.
use crate::mem;
use crate::obj::{Factory, Task, Thread};
use alloc::boxed::Box;
use l4_sys::Error;

type Start = Box<dyn FnOnce() + Send + 'static>;

extern "C" fn trampoline(arg: u64) -> ! {
    // SAFETY: `spawn` passes a pointer from `Box::into_raw` of a `Box<Start>`,
    // handed to exactly this thread.
    let f = unsafe { Box::from_raw(arg as *mut Start) };
    f();
    Thread(crate::thread::current_cap()).exit();
    loop {
        core::hint::spin_loop();
    }
}

/// The capability slot of the running thread's own thread capability, kept in
/// its UTCB's thread-local words by `spawn` (slot 2 for the main thread).
pub fn current_cap() -> l4_sys::CapIdx {
    let v = tls_word(0);
    if v == 0 { l4_sys::cap::slot::THREAD } else { l4_sys::CapIdx(v as u32) }
}

/// Thread-local words the running thread has (in its UTCB).
pub const TLS_WORDS: usize = 16;
const _: () = assert!(core::mem::size_of::<[u64; TLS_WORDS]>() == 16 * 8);

/// Thread-local word `i` of the running thread (0 past the last). Word 0 is
/// the runtime's (the thread capability); the others are the task's.
pub fn tls_get(i: usize) -> u64 {
    if i < TLS_WORDS { tls_word(i) } else { 0 }
}

/// Sets the running thread's thread-local word `i`; word 0 (the runtime's)
/// and words past the last are refused.
pub fn tls_set(i: usize, value: u64) -> Result<(), l4_sys::Error> {
    if i == 0 || i >= TLS_WORDS {
        return Err(l4_sys::Error::InvalidArgument);
    }
    let utcb = crate::ipc::utcb_ptr();
    // SAFETY: the UTCB is mapped for the thread's life and only this thread uses
    // it; `i` is within `tls`; no reference is made.
    unsafe { (&raw mut (*utcb).tls).cast::<u64>().add(i).write(value) };
    Ok(())
}

fn tls_word(i: usize) -> u64 {
    let utcb = crate::ipc::utcb_ptr();
    // SAFETY: as in `tls_set`; callers pass `i < TLS_WORDS`.
    unsafe { (&raw const (*utcb).tls).cast::<u64>().add(i.min(TLS_WORDS - 1)).read() }
}

/// The thread capability of the task's first thread.
pub fn main_cap() -> l4_sys::CapIdx {
    Thread::own_main().0
}

/// The priority the task was started with (its first thread's), where the
/// kernel tells.
pub fn declared_priority() -> Option<u8> {
    Thread::own_main().info().ok().map(|i| i.priority.max(1))
}

/// A running thread of this task.
pub struct Handle {
    pub thread: Thread,
    pub index: u64,
}

/// Starts `f` in a new thread at `priority` with a stack of `stack` bytes.
pub fn spawn(priority: u8, stack: u64, f: impl FnOnce() + Send + 'static) -> Result<Handle, Error> {
    let (thread, index) = Factory::own().create_thread(&Task::own())?;
    let region = mem::alloc(stack, false)?;
    // The ABI wants rsp + 8 to be 16-byte aligned at function entry (as if a call
    // had pushed a return address).
    let sp = region.addr + region.size - 8;
    // The stack stays mapped for the thread's life; only its capability goes.
    crate::obj::release(region.ds.0);
    // The new thread finds its own capability in its UTCB.
    let utcb = (l4_sys::layout::utcb_addr(index)) as *mut l4_sys::utcb::Utcb;
    // SAFETY: the kernel mapped the new thread's UTCB in this task; it has not
    // started, so nobody else uses it yet.
    unsafe { (*utcb).tls[0] = thread.0.0 as u64 };
    let arg = Box::into_raw(Box::new(Box::new(f) as Start)) as u64;
    thread.start(trampoline as *const () as u64, sp, priority, arg)?;
    Ok(Handle { thread, index })
}

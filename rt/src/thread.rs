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
    let v = crate::ipc::utcb().tls[0];
    if v == 0 { l4_sys::cap::slot::THREAD } else { l4_sys::CapIdx(v as u32) }
}

/// The running thread's thread-local words (in its UTCB). Word 0 is the
/// runtime's (the thread capability); the others are the task's.
pub fn tls() -> &'static mut [u64] {
    &mut crate::ipc::utcb().tls[..]
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

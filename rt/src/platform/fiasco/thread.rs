//! More threads in the calling task on Fiasco.OC: a thread from the factory,
//! bound to this task with a UTCB from the task's UTCB area, paged by the
//! region manager (as L4Re's pthreads do without ITAS registration), its
//! registers set with `ex_regs`, and run by the scheduler ned gave the task.

use crate::ipc;
use crate::mem;
use crate::obj::{Factory, Thread, release};
use crate::sync::Mutex;
use alloc::boxed::Box;
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::{Cap, msg};
use l4_sys::{CapIdx, Error};

type Start = Box<dyn FnOnce() + Send + 'static>;

/// UTCBs not yet used: `[next, end)` (both 0 until the first thread is made).
static UTCBS: Mutex<(u64, u64)> = Mutex::new((0, 0));

/// Kernel-user memory added at a time when the UTCB area is used up: 16 KiB,
/// 16 UTCBs (ned gives a task one page, room for its first thread and three more).
const KUMEM_ORDER: u8 = 14;

core::arch::global_asm!(
    ".text",
    ".global __rt_fiasco_thread_entry",
    "__rt_fiasco_thread_entry:",
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym thread_main,
);

unsafe extern "C" {
    fn __rt_fiasco_thread_entry();
}

extern "C" fn thread_main(arg: u64, cap: u64) -> ! {
    set_tls_word(0, cap);
    // SAFETY: `spawn` put a pointer from `Box::into_raw` of a `Box<Start>` on
    // this thread's stack, handed to exactly this thread.
    let f = unsafe { Box::from_raw(arg as *mut Start) };
    f();
    Thread(current_cap()).exit();
    loop {
        crate::ipc::sleep_forever();
    }
}

/// The capability slot of the running thread's own thread capability.
pub fn current_cap() -> CapIdx {
    let v = tls_get(0);
    if v == 0 { Cap(super::l4re_env().main_thread).idx() } else { CapIdx(v as u32) }
}

/// Thread-local words the running thread has (the UTCB's user words).
pub const TLS_WORDS: usize = 3;

/// Thread-local word `i` of the running thread (0 past the last). Word 0 is
/// the runtime's (the thread capability); the others are the task's.
pub fn tls_get(i: usize) -> u64 {
    if i >= TLS_WORDS {
        return 0;
    }
    let utcb = l4_sys::fiasco::utcb::current();
    // SAFETY: %gs:0 is this thread's mapped UTCB, used only by this thread; `i`
    // is within `user`; no reference is made.
    unsafe { (&raw const (*utcb).user).cast::<u64>().add(i).read() }
}

/// Sets the running thread's thread-local word `i`; word 0 (the runtime's)
/// and words past the last are refused.
pub fn tls_set(i: usize, value: u64) -> Result<(), Error> {
    if i == 0 || i >= TLS_WORDS {
        return Err(Error::InvalidArgument);
    }
    set_tls_word(i, value);
    Ok(())
}

fn set_tls_word(i: usize, value: u64) {
    let utcb = l4_sys::fiasco::utcb::current();
    // SAFETY: as in `tls_get`; callers pass `i < TLS_WORDS`.
    unsafe { (&raw mut (*utcb).user).cast::<u64>().add(i.min(TLS_WORDS - 1)).write(value) }
}

/// The thread capability of the task's first thread.
pub fn main_cap() -> CapIdx {
    Cap(super::l4re_env().main_thread).idx()
}

/// The priority the task was started with: Fiasco's scheduler does not say
/// (ned's script sets none), so `None`, and DDEKit's threads run at L4Re's
/// default level. Starting them at the driver's manifest priority, as on
/// Resurgo's kernel, was measured and not kept: it made the rtl8139's
/// receive path faster but e1000's echo about half as fast (doc/fiasco.md,
/// "DDEKit's threads on the driver's level, measured and not kept").
pub fn declared_priority() -> Option<u8> {
    None
}

/// Tells this task's supervisor (its region manager, the reincarnation
/// server for a driver it started) of `thread`, with a capability to it:
/// [`spawn`] does so for each thread when the supervisor asks
/// (`announce-threads=1`).
pub fn announce(thread: Thread) -> Result<(), Error> {
    let rm = Cap(super::l4re_env().rm);
    call(rm, ipc::compose(|m| msg::thread_announce(m, Cap::from_idx(thread.0)))).map(|_| ())
}

/// Whether this task's supervisor wants to be told of each thread it starts.
fn announces_threads() -> bool {
    super::env::value("announce-threads") == Some(1)
}

/// A running thread of this task.
pub struct Handle {
    pub thread: Thread,
    /// The thread's UTCB address (its index in the task, as far as Fiasco has one).
    pub index: u64,
}

/// A UTCB that no thread uses yet: from the task's UTCB area, then from
/// kernel-user memory added to the task when that is used up.
fn alloc_utcb() -> Result<u64, Error> {
    let size = l4_sys::fiasco::utcb::SIZE;
    let mut room = UTCBS.lock();
    if room.1 == 0 {
        let env = super::l4re_env();
        let base = env.utcb_area & !0xfff;
        let end = base.saturating_add(1u64.checked_shl(((env.utcb_area >> 6) & 0x3f) as u32).unwrap_or(0));
        *room = (env.first_free_utcb.max(base), end);
    }
    if room.0.saturating_add(size) > room.1 {
        *room = add_kumem()?;
    }
    let at = room.0;
    room.0 += size;
    Ok(at)
}

/// Reserves a region of kernel-user memory with the region manager and adds
/// it to this task (`L4Re::Util::kumem_alloc`); returns its `[start, end)`.
fn add_kumem() -> Result<(u64, u64), Error> {
    let reply = call(Cap(super::l4re_env().rm), ipc::compose(|m| msg::rm_attach_kumem(m, KUMEM_ORDER)))
        .map_err(|_| Error::QuotaExceeded)?;
    let start = super::mem::region_at(reply, 1 << KUMEM_ORDER)?;
    let fpage = msg::mem_fpage(start, KUMEM_ORDER as u32, 6);
    if let Err(e) = call(super::TASK, ipc::compose(|m| msg::task_add_ku_mem(m, fpage))) {
        let _ = call(Cap(super::l4re_env().rm), ipc::compose(|m| msg::rm_detach(m, start, 1 << KUMEM_ORDER)));
        return Err(e);
    }
    Ok((start, start + (1 << KUMEM_ORDER)))
}

/// Fiasco's priority for Resurgo's ([`l4_sys::fiasco::limits::priority_level`]).
pub(crate) fn fiasco_prio(priority: u8) -> u64 {
    l4_sys::fiasco::limits::priority_level(priority)
}

/// Moves the task's first thread to Fiasco's priority for `priority`. ned
/// starts every task's first thread at L4Re's default; a task whose manifest
/// gives it another priority (`priority=N` among its arguments) takes it
/// here, so that the order of tasks is the manifest's on both kernels. The
/// reincarnation server needs it most: its drivers run above the default,
/// and a driver that spins would otherwise starve the very loop that is to
/// restart it.
pub(crate) fn set_own_priority(priority: u8) -> Result<(), Error> {
    let main = Cap(super::l4re_env().main_thread);
    call(Cap(super::l4re_env().scheduler), ipc::compose(|m| msg::scheduler_run_thread(m, main, fiasco_prio(priority))))
        .map(|_| ())
}

/// Starts `f` in a new thread at `priority` with a stack of `stack` bytes.
pub fn spawn(priority: u8, stack: u64, f: impl FnOnce() + Send + 'static) -> Result<Handle, Error> {
    let env = super::l4re_env();
    let utcb_addr = alloc_utcb()?;
    let thread = Factory::own().create_thread_cap()?;
    let cap = Cap::from_idx(thread.0);
    let rm = Cap(env.rm);
    if let Err(e) = call(cap, ipc::compose(|m| msg::thread_control_bind(m, rm, rm, utcb_addr, super::TASK))) {
        release(thread.0);
        return Err(e);
    }
    // The stack stays mapped for the thread's life, and so does its dataspace
    // capability: the in-task region manager resolves page faults through
    // this task's own capability.
    let region = match mem::alloc(stack, false) {
        Ok(r) => r,
        Err(e) => {
            release(thread.0);
            return Err(e);
        }
    };
    let top = region.addr + region.size;
    let arg = Box::into_raw(Box::new(Box::new(f) as Start)) as u64;
    let sp = top - 16;
    // SAFETY: [top - 16, top) is the top of the fresh, writable stack region.
    unsafe {
        (sp as *mut u64).write(arg);
        ((sp + 8) as *mut u64).write(thread.0.0 as u64);
    }
    // A supervisor that watches this task's threads hears of each before it
    // runs; one that cannot be told of it is not started.
    if announces_threads()
        && let Err(e) = announce(thread)
    {
        release(thread.0);
        region.free();
        // SAFETY: `arg` came from `Box::into_raw` above and nobody took it.
        drop(unsafe { Box::from_raw(arg as *mut Start) });
        return Err(e);
    }
    let entry = __rt_fiasco_thread_entry as *const () as u64;
    let started = call(cap, ipc::compose(|m| msg::thread_ex_regs(m, entry, sp, 0))).and_then(|_| {
        call(Cap(env.scheduler), ipc::compose(|m| msg::scheduler_run_thread(m, cap, fiasco_prio(priority))))
    });
    match started {
        Ok(_) => Ok(Handle { thread, index: utcb_addr }),
        Err(e) => {
            // The thread never ran: its capability, stack and closure are ours.
            release(thread.0);
            region.free();
            // SAFETY: `arg` came from `Box::into_raw` above and nobody took it.
            drop(unsafe { Box::from_raw(arg as *mut Start) });
            Err(e)
        }
    }
}

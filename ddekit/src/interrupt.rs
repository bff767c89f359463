//! Interrupts: `ddekit_interrupt_attach`, `_detach`, `_disable`,
//! `_disable_nosync`, `_enable`.
//!
//! Each interrupt line the task uses gets one interrupt thread, created by the
//! first attach, at the task's interrupt priority (above its other threads).
//! The thread attaches the line's IRQ object (the device's, from
//! [`rt::device`], or else one the boot manifest granted it as `irq.<line>`)
//! to itself and waits for messages from it and from its own wake-up
//! IRQ. On an interrupt it calls every handler of the line (several when the
//! line is shared) and then acknowledges (`Irq::unmask_and_wait`: the EOI and
//! the next wait, one system call on Fiasco.OC), which lets the line
//! fire again. Before a newly attached handler first runs, its `thread_init`
//! runs once on the interrupt thread.
//!
//! Disable/enable nest. While the line is disabled (or has no handler) an
//! interrupt is *held*: not acknowledged, so the line stays masked and
//! nothing is lost; the enable that makes it runnable again wakes the thread,
//! which runs the handlers and then acknowledges. `ddekit_interrupt_disable`
//! also waits until a handler that is running has returned (unless called by
//! a handler, which would wait for itself); `_nosync` does not.
//!
//! The line's state is guarded by a sleeping mutex; the interrupt thread
//! re-reads it after every message, and whoever changes it in a way that lets
//! a held interrupt run changes it first and wakes the thread after, so the
//! wake-up cannot be missed even when it is consumed by a lock the thread
//! sleeps on in between.

use crate::Callback;
use crate::memory::alloc_obj;
use crate::thread::{DdekitThread, L4, Lock, current, irq_priority, wake};
use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};
use ddekit_core::irq::{Action, LineState};
use ddekit_core::sync::{Condvar, Mutex, Platform};
use rt::obj::{Irq, Thread};
use rt::sys::AckWaitError;
use rt::sys::proto::PROTO_IRQ;
use rt::{Timeout, ipc};

/// Attach label of the line's IRQ object at its interrupt thread.
const HW_LABEL: u64 = 1;
/// Lines a task may attach: its INTx line, or its MSI, or up to eight MSI-X
/// vectors, and a few granted directly.
const MAX_LINES: usize = 10;
const MAX_HANDLERS: usize = 8;

#[derive(Clone, Copy)]
struct Handler {
    func: Callback,
    arg: usize,
    init: Option<Callback>,
    init_done: bool,
    shared: bool,
}

struct LineData {
    state: LineState,
    handlers: [Option<Handler>; MAX_HANDLERS],
}

/// One interrupt line of the task.
struct Line {
    line: u64,
    irq: Irq,
    thread: AtomicPtr<DdekitThread>,
    m: Mutex<L4>,
    /// Signalled when running handlers return.
    idle: Condvar<L4>,
    data: UnsafeCell<LineData>,
}

// SAFETY: `data` is only touched with `m` held (see `Line::with`).
unsafe impl Sync for Line {}

impl Line {
    /// Runs `f` on the line's data with the mutex held.
    fn with<R>(&self, f: impl FnOnce(&mut LineData) -> R) -> R {
        let me = current().handle();
        self.m.lock(me);
        // SAFETY: the mutex is held; `f` cannot keep the reference.
        let r = f(unsafe { &mut *self.data.get() });
        self.m.unlock();
        r
    }

    fn thread(&self) -> Option<&'static DdekitThread> {
        let p = self.thread.load(Ordering::Acquire);
        // SAFETY: only thread records are stored here; they are never freed.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    fn on_own_thread(&self) -> bool {
        self.thread.load(Ordering::Acquire) as usize == L4::current()
    }

    /// Waits (with the mutex held, as `with` would) until no handler runs.
    fn disable(&self, sync: bool) {
        let me = current().handle();
        self.m.lock(me);
        // SAFETY: the mutex is held.
        unsafe { (*self.data.get()).state.disable() };
        if sync && !self.on_own_thread() {
            // SAFETY: the mutex is held whenever `data` is read here: `wait`
            // returns with it held again.
            while unsafe { (*self.data.get()).state.running } {
                self.idle.wait(me, &self.m);
            }
        }
        self.m.unlock();
    }

    /// Waits until running handlers returned, unless on the line's thread.
    fn wait_idle(&self) {
        if self.on_own_thread() {
            return;
        }
        let me = current().handle();
        self.m.lock(me);
        // SAFETY: as in `disable`.
        while unsafe { (*self.data.get()).state.running } {
            self.idle.wait(me, &self.m);
        }
        self.m.unlock();
    }
}

static LINES: Lock<[Option<&'static Line>; MAX_LINES]> = Lock::new([None; MAX_LINES]);

fn find_line(irq: c_int) -> Option<&'static Line> {
    LINES.lock().iter().flatten().find(|l| l.line == irq as u64).copied()
}

/// The IRQ object for `line`: the device's ([`rt::device::Device::irq`]),
/// else one the manifest granted the task directly (`irqs = [...]`, named
/// `irq.<line>`).
fn irq_object(line: u64) -> Option<Irq> {
    if let Some(irq) = crate::pci::device().and_then(|d| crate::thread::rt_call(|| d.irq(line)).ok()) {
        return Some(irq);
    }
    let mut name = *b"irq.000";
    let mut n = 4;
    for div in [100, 10, 1] {
        if line >= div || div == 1 {
            name[n] = b'0' + (line / div % 10) as u8;
            n += 1;
        }
    }
    rt::env::cap(core::str::from_utf8(&name[..n]).ok()?).map(Irq)
}

/// The interrupt thread of a line.
fn run(line: &'static Line) {
    let me = Thread(rt::thread::current_cap());
    if let Err(e) = line.irq.attach(&me, HW_LABEL) {
        rt::error!("ddekit: cannot attach to interrupt line {}: {}", line.line, e);
        return;
    }
    let mut interrupt = false;
    loop {
        // thread_init of new handlers, here, before they first run.
        loop {
            let init = line.with(|d| {
                d.handlers.iter_mut().flatten().find(|h| !h.init_done).map(|h| {
                    h.init_done = true;
                    (h.init, h.arg)
                })
            });
            match init {
                Some((Some(f), arg)) => {
                    // SAFETY: given to ddekit_interrupt_attach to be called
                    // once on the interrupt thread.
                    unsafe { f(arg as *mut c_void) }
                }
                Some((None, _)) => {}
                None => break,
            }
        }
        let (action, handlers) = line.with(|d| {
            let a = if interrupt { d.state.interrupt() } else { d.state.kick() };
            (a, d.handlers)
        });
        interrupt = false;
        let next = if action == Action::Run {
            for h in handlers.iter().flatten().filter(|h| h.init_done) {
                // SAFETY: given to ddekit_interrupt_attach to be called for
                // each interrupt.
                unsafe { (h.func)(h.arg as *mut c_void) };
            }
            line.with(|d| d.state.finished());
            line.idle.broadcast();
            // The acknowledgement and the next wait: one kernel entry where
            // the kernel allows it (each costs a TLB refill under QEMU on
            // Fiasco.OC, doc/fiasco.md).
            match line.irq.unmask_and_wait(Timeout::Never) {
                Err(AckWaitError::Unmask(e)) => {
                    rt::warn!("ddekit: acknowledging interrupt line {}: {}", line.line, e);
                    ipc::wait(Timeout::Never)
                }
                Err(AckWaitError::Wait(e)) => Err(e),
                Ok(m) => Ok(m),
            }
        } else {
            ipc::wait(Timeout::Never)
        };
        match next {
            Ok(m) => interrupt = m.label == HW_LABEL && m.tag.label() == PROTO_IRQ,
            Err(e) => {
                rt::warn!("ddekit: interrupt thread of line {}: {}", line.line, e);
                rt::ipc::sleep_ms(1);
            }
        }
    }
}

/// Attaches `handler(priv)` to interrupt line `irq`; returns the line's
/// interrupt thread, or NULL (no IRQ capability for the line, a non-shared
/// handler already there, no thread).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_interrupt_attach(
    irq: c_int,
    shared: c_int,
    thread_init: Option<Callback>,
    handler: Option<Callback>,
    priv_: *mut c_void,
) -> *mut DdekitThread {
    let Some(func) = handler else {
        misuse!("ddekit_interrupt_attach({}): no handler", irq);
        return core::ptr::null_mut();
    };
    let mut lines = LINES.lock();
    let line = match lines.iter().flatten().find(|l| l.line == irq as u64) {
        Some(l) => *l,
        None => {
            let Some(irq_obj) = (irq >= 0).then(|| irq_object(irq as u64)).flatten() else {
                misuse!("ddekit_interrupt_attach({}): the task has no IRQ capability for this line", irq);
                return core::ptr::null_mut();
            };
            let Some(slot) = lines.iter_mut().find(|l| l.is_none()) else {
                misuse!("ddekit_interrupt_attach({}): too many interrupt lines", irq);
                return core::ptr::null_mut();
            };
            let new = Line {
                line: irq as u64,
                irq: irq_obj,
                thread: AtomicPtr::new(core::ptr::null_mut()),
                m: Mutex::new(),
                idle: Condvar::new(),
                data: UnsafeCell::new(LineData { state: LineState::default(), handlers: [None; MAX_HANDLERS] }),
            };
            let Some(l) = alloc_obj(new) else { return core::ptr::null_mut() };
            let l: &'static Line = l;
            *slot = Some(l);
            l
        }
    };
    let shared = shared != 0;
    let h = Handler { func, arg: priv_ as usize, init: thread_init, init_done: thread_init.is_none(), shared };
    let added = line.with(|d| {
        let existing = d.handlers.iter().flatten();
        if d.state.handlers > 0 && (!shared || existing.clone().any(|h| !h.shared)) {
            return Err("the line is taken by a handler that does not share it");
        }
        let slot = d.handlers.iter_mut().find(|h| h.is_none()).ok_or("too many handlers")?;
        *slot = Some(h);
        d.state.handlers += 1;
        Ok(())
    });
    if let Err(e) = added {
        misuse!("ddekit_interrupt_attach({}): {}", irq, e);
        return core::ptr::null_mut();
    }
    let thread = match line.thread() {
        Some(t) => {
            // Run thread_init and anything held.
            wake(t);
            t
        }
        None => {
            let mut name = *b"irq    ";
            let digits = irq.unsigned_abs();
            for (i, d) in [digits / 100, digits / 10 % 10, digits % 10].iter().enumerate() {
                name[3 + i] = b'0' + *d as u8;
            }
            match crate::thread::spawn(&name[..6], irq_priority(), move || run(line)) {
                Some(t) => {
                    line.thread.store(t as *const DdekitThread as *mut DdekitThread, Ordering::Release);
                    // The thread may have checked the line before it learnt of
                    // itself: make it look again.
                    wake(t);
                    t
                }
                None => {
                    line.with(|d| {
                        if let Some(s) = d.handlers.iter_mut().find(|s| s.is_some_and(|x| x.arg == h.arg)) {
                            *s = None;
                            d.state.handlers -= 1;
                        }
                    });
                    return core::ptr::null_mut();
                }
            }
        }
    };
    drop(lines);
    thread as *const DdekitThread as *mut DdekitThread
}

/// Removes every handler of the line (waiting for one that runs). The
/// interrupt thread stays; interrupts are held until a handler is attached.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_interrupt_detach(irq: c_int) {
    let Some(line) = find_line(irq) else {
        misuse!("ddekit_interrupt_detach({}): nothing attached", irq);
        return;
    };
    line.with(|d| {
        d.handlers = [None; MAX_HANDLERS];
        d.state.handlers = 0;
    });
    line.wait_idle();
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_interrupt_disable(irq: c_int) {
    match find_line(irq) {
        Some(line) => line.disable(true),
        None => misuse!("ddekit_interrupt_disable({}): nothing attached", irq),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_interrupt_disable_nosync(irq: c_int) {
    match find_line(irq) {
        Some(line) => line.disable(false),
        None => misuse!("ddekit_interrupt_disable_nosync({}): nothing attached", irq),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_interrupt_enable(irq: c_int) {
    let Some(line) = find_line(irq) else {
        misuse!("ddekit_interrupt_enable({}): nothing attached", irq);
        return;
    };
    match line.with(|d| d.state.enable()) {
        Ok(true) => {
            if let Some(t) = line.thread() {
                wake(t);
            }
        }
        Ok(false) => {}
        Err(_) => misuse!("ddekit_interrupt_enable({}): not disabled", irq),
    }
}

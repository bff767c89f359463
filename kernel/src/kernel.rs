//! The kernel's state and the big lock around it, thread switching, time, and how
//! task events reach a task's creator.
//!
//! The kernel runs with interrupts off and never blocks; every entry takes the
//! lock, acts, picks the thread to run and releases the lock before returning to
//! user mode. One lock over the whole state keeps the door open for more CPUs.

use crate::arch::{cpu, gdt};
use crate::irq::Line;
use crate::mem::frames::FrameAllocator;
use crate::mem::paging::Table;
use crate::obj::{Arena, ObjId, Object};
use crate::sched::{Scheduler, TIME_SLICE};
use crate::thread::{Source, State, Thread};
use alloc::vec::Vec;
use l4_sys::event::{Cause, Event, TaskState};
use l4_sys::proto::thread::{DEFAULT_PRIORITY, HANG_TICKS, RUNAWAY_TICKS};
use l4_sys::{Error, MsgTag};

#[derive(Default, Clone, Copy)]
pub struct Stats {
    pub ipc_denied: u64,
    pub resources_denied: u64,
    pub faults: u64,
    /// Threads demoted for running too long above the default priority.
    pub runaways: u64,
    /// DMA requests the IOMMU blocked and recorded.
    pub dma_faults: u64,
}

/// Whether the `n`-th occurrence of a repeated warning is logged: the first few,
/// then every power of two, so that a task cannot flood the console.
pub fn worth_logging(n: u64) -> bool {
    n <= 16 || n.is_power_of_two()
}

pub struct Kernel {
    pub frames: FrameAllocator,
    pub objs: Arena,
    pub sched: Scheduler,
    pub ticks: u64,
    /// Threads with a pending timeout (lazily pruned), each at most once: at most
    /// as many entries as threads, however often timeouts are armed and cancelled.
    pub sleepers: Vec<ObjId>,
    pub lines: [Line; crate::arch::pic::LINES],
    pub stats: Stats,
    /// The kernel's own PML4: source of the upper half of every space.
    /// The kernel's own tables, which every space's kernel half copies (set
    /// at boot, before any task exists).
    pub master_pml4: Option<Table>,
    /// Usable RAM, `[start, end)` physical: never handed out as device memory.
    pub ram: Vec<(u64, u64)>,
    /// PML4 entry for spaces with no port grants (all ports denied).
    pub io_deny_entry: u64,
    /// A frame of all-ones bytes: the byte after every I/O bitmap.
    pub io_ones_page: u64,
    /// The kernel log object every task gets.
    pub log: Option<ObjId>,
    /// Physical address of the kernel information page, mapped in every task.
    pub kip: u64,
    /// A thread that IPC made ready and that should run next if priorities allow.
    pub handoff: Option<ObjId>,
    /// The VT-d unit, when there is one and DMA remapping is on.
    pub iommu: Option<crate::iommu::glue::Iommu>,
    /// The local APIC, the target of message-signalled interrupts (None:
    /// no MSI).
    pub apic: Option<crate::arch::lapic::Apic>,
    /// The MSI vectors, each bound to one IRQ object (`crate::msi`).
    pub msi: [Option<crate::msi::Msi>; crate::arch::lines::MSI_VECTORS],
    /// CR3 and thread whose state the CPU currently holds.
    loaded_space: Option<Table>,
    loaded_thread: Option<ObjId>,
}

pub static KERNEL: spin::Mutex<Kernel> = spin::Mutex::new(Kernel::new());

impl Kernel {
    const fn new() -> Kernel {
        Kernel {
            frames: FrameAllocator::empty(),
            objs: Arena::new(),
            sched: Scheduler::new(),
            ticks: 0,
            sleepers: Vec::new(),
            lines: [const { Line::new() }; crate::arch::pic::LINES],
            stats: Stats { ipc_denied: 0, resources_denied: 0, faults: 0, runaways: 0, dma_faults: 0 },
            master_pml4: None,
            ram: Vec::new(),
            io_deny_entry: 0,
            io_ones_page: 0,
            log: None,
            kip: 0,
            handoff: None,
            iommu: None,
            apic: None,
            msi: [None; crate::arch::lines::MSI_VECTORS],
            loaded_space: None,
            loaded_thread: None,
        }
    }

    /// Creates an object charged to `task`'s memory quota (`pages` pages of
    /// kernel memory): a task cannot exhaust the kernel by creating objects.
    pub fn new_object(&mut self, object: Object, task: ObjId, pages: u64) -> Result<ObjId, Error> {
        self.charge(task, pages)?;
        Ok(self.objs.insert_charged(object, Some((task, pages))))
    }

    /// Destroys an object and refunds its charge.
    pub fn remove_object(&mut self, id: ObjId) -> Option<Object> {
        let (obj, charge) = self.objs.remove(id)?;
        if let Some((task, pages)) = charge {
            self.refund(task, pages);
        }
        Some(obj)
    }

    pub fn charge(&mut self, task: ObjId, pages: u64) -> Result<(), Error> {
        let t = self.objs.task_mut(task).ok_or(Error::DeadObject)?;
        if t.used_pages + pages > t.quota_pages {
            return Err(Error::QuotaExceeded);
        }
        if !crate::mem::heap_has_room() {
            return Err(Error::OutOfMemory);
        }
        t.used_pages += pages;
        Ok(())
    }

    pub fn refund(&mut self, task: ObjId, pages: u64) {
        if let Some(t) = self.objs.task_mut(task) {
            t.used_pages = t.used_pages.saturating_sub(pages);
        }
    }

    pub fn is_ram(&self, start: u64, end: u64) -> bool {
        self.ram.iter().any(|&(s, e)| start < e && s < end)
    }

    /// Makes a blocked thread ready and queues it.
    pub fn make_ready(&mut self, id: ObjId) {
        if let Some(t) = self.objs.thread_mut(id) {
            if matches!(t.state, State::Dead | State::Inactive) {
                return;
            }
            t.state = State::Ready;
            t.wakeup = None;
            let prio = t.priority;
            if self.sched.current != Some(id) {
                self.sched.enqueue(id, prio);
            }
        }
    }

    /// Sets the result of a thread's pending `invoke` and lets it run again.
    pub fn finish(&mut self, id: ObjId, result: Result<(MsgTag, u64), Error>) {
        if let Some(t) = self.objs.thread_mut(id) {
            t.set_result(result);
            if t.state != State::Ready {
                self.make_ready(id);
            }
        }
    }

    /// Like `finish`, but the woken thread runs next if its priority allows
    /// (direct process switch on IPC).
    pub fn finish_handoff(&mut self, id: ObjId, result: Result<(MsgTag, u64), Error>) {
        if let Some(t) = self.objs.thread_mut(id) {
            t.set_result(result);
            t.state = State::Ready;
            t.wakeup = None;
            if let Some(prev) = self.handoff.replace(id) {
                self.make_ready_queued(prev);
            }
        }
    }

    fn make_ready_queued(&mut self, id: ObjId) {
        if let Some(t) = self.objs.thread(id)
            && t.state == State::Ready
            && self.sched.current != Some(id)
        {
            let prio = t.priority;
            self.sched.enqueue(id, prio);
        }
    }

    /// Arms a timeout `ms` ticks from now for a thread about to block. A thread
    /// already in the sleeper list (a timeout armed and cancelled since the last
    /// tick) is not added again.
    pub fn arm_timeout(&mut self, id: ObjId, ms: u32) {
        let at = self.ticks + ms as u64;
        if let Some(t) = self.objs.thread_mut(id) {
            t.wakeup = Some(at);
            if !core::mem::replace(&mut t.in_sleepers, true) {
                self.sleepers.push(id);
            }
        }
    }

    /// The timer tick: wake timed-out threads, account the time slice.
    pub fn tick(&mut self) {
        self.ticks += 1;
        if self.ticks.is_multiple_of(4) {
            self.poll_dma_faults();
        }
        if self.kip != 0 {
            // SAFETY: the KIP frame is the kernel's, mapped through the direct map;
            // tasks only read it.
            unsafe {
                (*(crate::mem::phys_to_virt(self.kip) as *const l4_sys::kip::Kip))
                    .ticks
                    .store(self.ticks, core::sync::atomic::Ordering::Relaxed)
            };
        }
        let now = self.ticks;
        let mut i = 0;
        while i < self.sleepers.len() {
            let id = self.sleepers[i];
            let due = match self.objs.thread_mut(id) {
                Some(t) => match t.wakeup {
                    Some(at) if at <= now => {
                        t.in_sleepers = false;
                        true
                    }
                    Some(_) => {
                        i += 1;
                        continue;
                    }
                    None => {
                        t.in_sleepers = false;
                        false
                    }
                },
                None => false,
            };
            self.sleepers.swap_remove(i);
            if due {
                self.timeout(id);
            }
        }
        if let Some(cur) = self.sched.current
            && let Some(t) = self.objs.thread_mut(cur)
        {
            // A thread above the default priority that has run RUNAWAY_TICKS
            // without waiting drops to the default priority until it waits:
            // it then takes turns with the default-priority tasks.
            t.run_ticks = t.run_ticks.saturating_add(1);
            if t.run_ticks == HANG_TICKS && t.base_priority > DEFAULT_PRIORITY {
                // Still running, long after its demotion: its creator learns
                // of it (for a driver, a hang).
                let (task, index, base, ip) = (t.task, t.index, t.base_priority, t.frame.rip);
                let event = Event {
                    cause: Cause::Runaway,
                    ip,
                    addr: base as u64,
                    code: HANG_TICKS as u64,
                    thread: index as u64,
                };
                self.report(task, event, &[]);
            }
            let Some(t) = self.objs.thread_mut(cur) else { return };
            if t.run_ticks >= RUNAWAY_TICKS && t.priority > DEFAULT_PRIORITY {
                let (task, index, base) = (t.task, t.index, t.base_priority);
                t.priority = DEFAULT_PRIORITY;
                t.slice = 1;
                self.stats.runaways += 1;
                if worth_logging(self.stats.runaways) {
                    let name = self.objs.task(task).map_or("?", |t| t.name());
                    crate::kwarn!(
                        "runaway: {} thread {} ran {} ms at priority {} without waiting; at {} until it waits",
                        name,
                        index,
                        RUNAWAY_TICKS,
                        base,
                        DEFAULT_PRIORITY
                    );
                }
            }
            let Some(t) = self.objs.thread_mut(cur) else { return };
            t.slice = t.slice.saturating_sub(1);
            if t.slice == 0 {
                t.slice = TIME_SLICE;
                if t.state == State::Ready {
                    let prio = t.priority;
                    if self.sched.highest().is_some_and(|h| h >= prio) {
                        self.sched.enqueue(cur, prio);
                        self.sched.current = None;
                    }
                }
            }
        }
    }

    fn timeout(&mut self, id: ObjId) {
        let Some(t) = self.objs.thread_mut(id) else { return };
        t.wakeup = None;
        match t.state {
            State::Sending { to } => {
                if let Some(target) = self.objs.thread_mut(to) {
                    target.senders.retain(|&s| s != id);
                }
                self.finish(id, Err(Error::Timeout));
            }
            State::Receiving { .. } => self.finish(id, Err(Error::Timeout)),
            _ => {}
        }
    }

    /// Chooses the thread to run and loads it; `None` means idle.
    pub fn schedule(&mut self) -> Option<*const crate::arch::frame::TrapFrame> {
        let current = self.sched.current.filter(|&c| self.objs.thread(c).is_some_and(|t| t.state == State::Ready));
        let handoff = self.handoff.take().filter(|&h| self.objs.thread(h).is_some_and(|t| t.state == State::Ready));
        let queued = self.sched.highest();
        let prio = |k: &Kernel, id: ObjId| k.objs.thread(id).map_or(0, |t| t.priority);

        let next = match (current, handoff) {
            (Some(c), Some(h)) => {
                // A send woke a thread without blocking the sender: a higher
                // priority receiver preempts, otherwise it queues.
                if prio(self, h) > prio(self, c) {
                    self.sched.enqueue_front(c, prio(self, c));
                    h
                } else {
                    self.sched.enqueue(h, prio(self, h));
                    c
                }
            }
            (Some(c), None) => {
                if queued.is_some_and(|q| q > prio(self, c)) {
                    self.sched.enqueue_front(c, prio(self, c));
                    self.sched.pop_highest().unwrap_or(c)
                } else {
                    c
                }
            }
            (None, Some(h)) => {
                if queued.is_some_and(|q| q > prio(self, h)) {
                    self.sched.enqueue(h, prio(self, h));
                    self.sched.pop_highest().unwrap_or(h)
                } else {
                    h
                }
            }
            (None, None) => match self.sched.pop_highest() {
                Some(n) => n,
                None => {
                    self.sched.current = None;
                    return None;
                }
            },
        };
        Some(self.load(next))
    }

    /// Makes `id` the running thread: address space, UTCB pointer, entry frame.
    pub fn load(&mut self, id: ObjId) -> *const crate::arch::frame::TrapFrame {
        let t = self.objs.thread(id).expect("scheduled thread vanished") as *const Thread;
        // SAFETY: `t` was just looked up and stays valid while the lock is held.
        unsafe { self.load_thread(&*t) }
    }

    /// `load` for a thread the caller already holds.
    #[inline]
    pub fn load_thread(&mut self, t: &Thread) -> *const crate::arch::frame::TrapFrame {
        self.sched.current = Some(t.id);
        if self.loaded_thread != Some(t.id) {
            if Some(t.space) != self.loaded_space {
                // SAFETY: every task PML4 shares the kernel half with the master.
                unsafe { cpu::write_cr3(t.space.phys()) };
                self.loaded_space = Some(t.space);
            }
            // SAFETY: FS base is the user's UTCB pointer; any value is harmless to
            // the kernel, which never uses %fs.
            unsafe { cpu::wrmsr(cpu::MSR_FS_BASE, t.utcb_addr) };
            gdt::set_current(t.frame_top(), &t.fpu as *const _ as u64);
            self.loaded_thread = Some(t.id);
        }
        &t.frame
    }

    /// Forgets the loaded thread (it is being destroyed).
    pub fn unload_thread(&mut self, id: ObjId) {
        if self.loaded_thread == Some(id) {
            self.loaded_thread = None;
        }
        if self.sched.current == Some(id) {
            self.sched.current = None;
        }
    }

    /// Forgets the loaded address space (it is being destroyed): switch to the
    /// kernel's own tables first so the CPU never walks freed frames.
    pub fn unload_space(&mut self, pml4: Table) {
        if self.loaded_space == Some(pml4)
            && let Some(master) = self.master_pml4
        {
            // SAFETY: the master PML4 maps the kernel half like every space.
            unsafe { cpu::write_cr3(master.phys()) };
            self.loaded_space = Some(master);
        }
    }

    pub fn is_loaded_space(&self, pml4: Table) -> bool {
        self.loaded_space == Some(pml4)
    }

    /// Records an event of a task and notifies its creator. `stop` events also
    /// stop every thread of the task.
    pub fn report(&mut self, task: ObjId, event: Event, reason: &[u8]) {
        let Some(t) = self.objs.task_mut(task) else { return };
        if t.state == TaskState::Stopped {
            return;
        }
        let record = crate::task::Record::new(event, reason);
        t.last_event = Some(record);
        if t.events.len() == l4_sys::event::QUEUE_LEN {
            t.events.pop_front();
        }
        t.events.push_back(record);
        t.events_total += 1;
        let notify = t.event_irq;
        if event.cause.stops_task() {
            t.state = TaskState::Stopped;
            self.stop_threads(task);
        }
        if let Some(irq) = notify {
            self.trigger_irq(irq);
        }
    }

    /// A fault or violation of the current thread: report it with its place.
    pub fn report_current(&mut self, cause: Cause, addr: u64, code: u64) {
        let Some(cur) = self.sched.current else { return };
        let Some(t) = self.objs.thread(cur) else { return };
        let (task, ip, index) = (t.task, t.frame.rip, t.index as u64);
        self.report(task, Event { cause, ip, addr, code, thread: index }, &[]);
    }

    /// Stops every thread of a task: they leave the run queues and every IPC
    /// partner waiting on them gets an error.
    pub fn stop_threads(&mut self, task: ObjId) {
        let threads: Vec<ObjId> = match self.objs.task(task) {
            Some(t) => t.live_threads().collect(),
            None => return,
        };
        for id in threads {
            self.stop_thread(id);
        }
    }

    pub fn stop_thread(&mut self, id: ObjId) {
        let Some(t) = self.objs.thread_mut(id) else { return };
        let (state, prio) = (t.state, t.priority);
        if state == State::Dead {
            return;
        }
        t.state = State::Dead;
        t.wakeup = None;
        t.pending_irqs.clear();
        let senders: Vec<ObjId> = t.senders.drain(..).collect();
        let reply_to = t.reply_to.take();
        if state == State::Ready && self.sched.current != Some(id) {
            self.sched.remove(id, prio);
        }
        if self.sched.current == Some(id) {
            self.sched.current = None;
        }
        if self.handoff == Some(id) {
            self.handoff = None;
        }
        if let State::Sending { to } = state
            && let Some(target) = self.objs.thread_mut(to)
        {
            target.senders.retain(|&s| s != id);
        }
        for s in senders {
            self.finish(s, Err(Error::PeerDied));
        }
        if let Some(c) = reply_to
            && self.objs.thread(c).is_some_and(|t| t.state == (State::Receiving { from: Source::Reply(id) }))
        {
            self.finish(c, Err(Error::PeerDied));
        }
        // Anyone else waiting for a message from this thread.
        let waiting = self.objs.ids_where(|o| {
            matches!(o, Object::Thread(t) if t.state == State::Receiving { from: Source::Thread(id) }
                    || t.state == State::Receiving { from: Source::Reply(id) })
        });
        for w in waiting {
            self.finish(w, Err(Error::PeerDied));
        }
        self.detach_thread(id);
    }
}

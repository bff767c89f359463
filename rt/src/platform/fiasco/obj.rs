//! Typed handles for the objects a task uses on Fiasco.OC, with the names and
//! signatures they have on Resurgo's kernel where both kernels have the
//! operation: the task itself (exit), threads, IPC gates, IRQs, dataspaces and
//! the factory. Handles are plain capability indices; [`release`] deletes one.

use crate::cap;
use crate::ipc::{self, irq_label, kernel_label, set_receive_slot};
pub use crate::memory::{Dataspace, DsInfo};
use l4_sys::fiasco::syscall::{Phase, call, call_at_once, send};
use l4_sys::fiasco::{Cap, item, msg, proto, task};
use l4_sys::syscall::Received;
use l4_sys::{AckWaitError, CapIdx, Error, MsgTag, Rights, Timeout};

/// An operation that creates a capability: returns its slot.
pub(crate) fn create(on: Cap, fill: impl FnOnce(&mut [u64]) -> MsgTag) -> Result<CapIdx, Error> {
    let slot = cap::alloc().ok_or(Error::QuotaExceeded)?;
    set_receive_slot(slot);
    let tag = ipc::compose(fill);
    match call(on, tag) {
        Ok(_) => Ok(slot),
        Err(e) => {
            cap::free(slot);
            Err(e)
        }
    }
}

/// Deletes one of this task's capabilities; the slot stays reserved for reuse.
pub fn delete(idx: CapIdx) -> Result<(), Error> {
    // L4_TASK_UNMAP_OP, L4_FP_ALL_SPACES, the capability's flexpage.
    ipc::write_mrs(0, &[1, 0x8000_0000, item::obj_fpage(Cap::from_idx(idx), item::CAP_RWSD)])?;
    call(super::TASK, MsgTag::new(proto::TASK, 3, 0)).map(|_| ())
}

/// Whether this task's slot `idx` names an object (`l4_task_cap_valid`).
pub fn cap_valid(idx: CapIdx) -> Result<bool, Error> {
    if !Cap::from_idx(idx).is_valid() {
        return Err(Error::NoCapability);
    }
    let tag = call(super::TASK, ipc::compose(|m| task::task_cap_valid(m, Cap::from_idx(idx))))?;
    Ok(tag.label() > 0)
}

/// Deletes one of this task's capabilities and frees its slot.
pub fn release(idx: CapIdx) {
    super::device::forget_irq(idx);
    let _ = delete(idx);
    cap::free(idx);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task(pub CapIdx);

impl Task {
    pub fn own() -> Task {
        Task(super::TASK.idx())
    }

    /// Copies this task's capability `src` into slot `dst` of this task
    /// (`l4_task_map`), with at most `mask`'s rights (and R, without which
    /// Fiasco maps nothing). A slot that names no object is an error, as on
    /// Resurgo's kernel, rather than an empty map.
    pub fn give(&self, src: CapIdx, dst: CapIdx, mask: Rights) -> Result<(), Error> {
        if !cap_valid(src)? {
            return Err(Error::DeadObject);
        }
        let fpage = item::obj_fpage(Cap::from_idx(src), mask.bits() as u64 | item::CAP_R);
        let base = task::map_control(Cap::from_idx(dst).0, task::CACHE_AS_SENDER);
        call(Cap::from_idx(self.0), ipc::compose(|m| task::task_map(m, super::TASK, fpage, base))).map(|_| ())
    }

    /// Ends the calling task: the reason goes to the log, the code to the
    /// parent (`Parent::signal(0, code)`), which then takes the task down.
    pub fn exit(&self, code: u64, reason: &str) {
        if !reason.is_empty() {
            crate::log::write_fmt(l4_sys::proto::log::LEVEL_INFO, format_args!("exit {code}: {reason}"));
        }
        let parent = Cap(super::l4re_env().parent);
        let tag = ipc::compose(|m| msg::parent_signal(m, 0, code));
        let _ = send(parent, tag);
        loop {
            crate::ipc::sleep_forever();
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread(pub CapIdx);

impl Thread {
    /// The task's first thread.
    pub fn own_main() -> Thread {
        Thread(Cap(super::l4re_env().main_thread).idx())
    }

    /// Ends the calling thread. Fiasco has no self-deletion for a thread that
    /// is not the last: it blocks for good.
    pub fn exit(&self) {
        loop {
            crate::ipc::sleep_forever();
        }
    }

    pub fn yield_now(&self) {
        crate::ipc::sleep_ms(0);
    }

    /// The time the thread has run so far, in microseconds
    /// (`l4_thread_stats_time`). Never waits: a capability handed over as a
    /// thread that is not one (a gate whose server would not answer) is an
    /// error.
    pub fn consumed_us(&self) -> Result<u64, Error> {
        call_at_once(Cap::from_idx(self.0), ipc::compose(msg::thread_stats_time))?;
        Ok(ipc::mr::<0>())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factory(pub CapIdx);

impl Factory {
    pub fn own() -> Factory {
        Factory(Cap(super::l4re_env().factory).idx())
    }

    fn cap(&self) -> Cap {
        Cap::from_idx(self.0)
    }

    /// An IPC gate; messages through it reach `thread` (if given) with `label`.
    pub fn create_gate(&self, thread: Option<&Thread>, label: u64) -> Result<Gate, Error> {
        let t = thread.map(|t| Cap::from_idx(t.0));
        create(self.cap(), |m| msg::factory_create_gate(m, t, kernel_label(label))).map(Gate)
    }

    /// A dataspace of `size` bytes (physically contiguous with
    /// `contiguous`). On Fiasco.OC memory comes from moe (`mem_alloc`), not
    /// from the kernel's factory.
    pub fn create_dataspace(&self, size: u64, contiguous: bool) -> Result<Dataspace, Error> {
        crate::mem::alloc_dataspace(size, contiguous)
    }

    /// A software IRQ (a notification object).
    pub fn create_irq(&self) -> Result<Irq, Error> {
        create(self.cap(), |m| msg::factory_create(m, proto::IRQ_SENDER)).map(Irq)
    }

    pub(crate) fn create_thread_cap(&self) -> Result<Thread, Error> {
        create(self.cap(), |m| msg::factory_create(m, proto::THREAD)).map(Thread)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate(pub CapIdx);

impl Gate {
    pub fn bind(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        let tag = ipc::compose(|m| msg::rcv_ep_bind(m, Cap::from_idx(thread.0), kernel_label(label)));
        call(Cap::from_idx(self.0), tag).map(|_| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Irq(pub CapIdx);

impl Irq {
    /// Whether a thread is attached: Fiasco's IRQ objects do not tell.
    pub fn attached(&self) -> Result<bool, Error> {
        Err(Error::BadOpcode)
    }

    /// Triggers of this IRQ reach `thread` as messages with `label`.
    /// A device's line starts masked: it is unmasked once here, so that the
    /// first interrupt arrives.
    pub fn attach(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        let tag = ipc::compose(|m| msg::rcv_ep_bind(m, Cap::from_idx(thread.0), irq_label(label)));
        call(Cap::from_idx(self.0), tag)?;
        if super::device::device_irq(self.0).is_some() {
            self.unmask()?;
        }
        Ok(())
    }
    pub fn trigger(&self) -> Result<(), Error> {
        send(Cap::from_idx(self.0), MsgTag::new(proto::IRQ, 0, 0))
    }
    /// Lets the interrupt fire again: the EOI through the IRQ object, or at
    /// io's virtual ICU for a line io unmasks there.
    pub fn unmask(&self) -> Result<(), Error> {
        let (to, tag) = self.unmask_message();
        send(to, tag)
    }
    /// [`Irq::unmask`], then an open wait for the next message
    /// ([`crate::ipc::wait`]), in one system call (`l4_irq_wait`'s EOI and
    /// wait, or the unmask sent to io's ICU and the wait).
    pub fn unmask_and_wait(&self, timeout: Timeout) -> Result<Received, AckWaitError> {
        let (to, tag) = self.unmask_message();
        ipc::send_and_wait(to, tag, timeout).map_err(|(phase, e)| match phase {
            Phase::Send => AckWaitError::Unmask(e),
            Phase::Receive => AckWaitError::Wait(e),
        })
    }
    /// Where the unmask goes and its message (in the message registers).
    fn unmask_message(&self) -> (Cap, MsgTag) {
        if let Some(Some((icu, line))) = super::device::device_irq(self.0) {
            return (icu, ipc::compose(|m| l4_sys::fiasco::vbus::icu_unmask(m, line)));
        }
        ipc::set_mr::<0>(4); // L4_IRQ_OP_EOI
        (Cap::from_idx(self.0), MsgTag::new(proto::IRQ, 1, 0))
    }

    /// Waits for this IRQ only.
    pub fn wait(&self, timeout: Timeout) -> Result<u64, Error> {
        crate::ipc::receive(self.0, timeout).map(|r| r.label)
    }

    /// What an IRQ someone else handed over is, found without blocking.
    /// Fiasco.OC's IRQ objects do not say whether they are bound to a line,
    /// so any live object counts as a software IRQ here; a gate or thread
    /// passed instead takes [`Irq::trigger_nonblocking`] as IPC, which never
    /// blocks the caller either.
    pub fn probe(&self) -> Result<IrqKind, Error> {
        match cap_valid(self.0)? {
            true => Ok(IrqKind::Software),
            false => Err(Error::DeadObject),
        }
    }

    /// [`Irq::trigger`] of an IRQ someone else handed over, without ever
    /// blocking (`l4_irq_trigger`'s zero timeouts): they could pass a gate
    /// or a thread instead.
    pub fn trigger_nonblocking(&self) -> Result<(), Error> {
        let zero = l4_sys::fiasco::timeout::pair(Timeout::Zero, Timeout::Zero);
        l4_sys::fiasco::syscall::ipc(
            Cap::from_idx(self.0),
            l4_sys::fiasco::sysf::SEND,
            0,
            MsgTag::new(proto::IRQ, 0, 0),
            zero,
        )
        .map(|_| ())
    }
}

/// What a capability handed over as an IRQ turned out to be ([`Irq::probe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqKind {
    /// A live software IRQ.
    Software,
    /// An IRQ bound to an interrupt line.
    Line,
    /// Something that took the probe as IPC (a gate or a thread).
    Ipc,
}

impl Dataspace {
    pub fn info(&self) -> Result<DsInfo, Error> {
        let tag = ipc::compose(msg::ds_info);
        call(Cap::from_idx(self.0), tag)?;
        // Fiasco's `Stats` carry the size and the rights, not the kind of memory.
        Ok(DsInfo { size: ipc::mr::<0>(), contiguous: false, phys: 0 })
    }
}

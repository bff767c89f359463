//! Typed handles for the kernel objects, one method per operation of its protocol
//! (see `l4_sys::proto`). Handles are plain capability indices: copying one does
//! not copy the capability; [`release`] deletes it.

use crate::cap;
use crate::ipc;
pub use crate::memory::{Dataspace, DsInfo};
use l4_sys::cap::slot;
use l4_sys::event::{Event, TaskState};
use l4_sys::message::{Bytes, Message};
use l4_sys::proto::*;
use l4_sys::syscall::{Flags, invoke};
use l4_sys::{AckWaitError, CapIdx, Error, MsgTag, Rights, Timeout};

pub use l4_sys::proto::task::MapAccess;
pub use l4_sys::utcb::ITEM_MAP;

/// Invokes a kernel object with a request its protocol declares
/// (`l4_sys::proto`); the answer's words are in `mr` and their number in the
/// tag.
fn kcall(cap: CapIdx, proto: i64, req: &impl Message) -> Result<MsgTag, Error> {
    let words = ipc::encode(req)?;
    invoke(cap, Flags::SEND, MsgTag::new(proto, words, 0), Timeout::pair(Timeout::Never, Timeout::Never)).map(|r| r.tag)
}

/// [`kcall`] for an operation whose answer the protocol declares: the answer,
/// checked like a request.
fn kcall_reply<R: Message>(cap: CapIdx, proto: i64, req: &impl Message) -> Result<R, Error> {
    let tag = kcall(cap, proto, req)?;
    R::decode(&ipc::received_words(tag))
}

/// [`kcall`] for an operation that answers one word.
fn kcall_word(cap: CapIdx, proto: i64, req: &impl Message) -> Result<u64, Error> {
    match kcall(cap, proto, req)?.words() {
        1 => Ok(ipc::mr::<0>()),
        _ => Err(Error::BadProtocol),
    }
}

/// Like [`kcall`] for an operation that creates a capability: returns its slot.
fn kcall_new(cap: CapIdx, proto: i64, req: &impl Message) -> Result<CapIdx, Error> {
    let slot = cap::alloc().ok_or(Error::QuotaExceeded)?;
    ipc::set_receive_slot(slot);
    match kcall(cap, proto, req) {
        Ok(_) => Ok(slot),
        Err(e) => {
            cap::free(slot);
            Err(e)
        }
    }
}

/// Deletes one of this task's capabilities; the slot stays reserved for reuse.
pub fn delete(idx: CapIdx) -> Result<(), Error> {
    kcall(slot::TASK, PROTO_TASK, &task::Request::CapDelete { slot: idx }).map(|_| ())
}

/// Deletes one of this task's capabilities and frees its slot.
pub fn release(idx: CapIdx) {
    let _ = delete(idx);
    cap::free(idx);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task(pub CapIdx);

/// A task's state and last event, as its parent reads them.
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo {
    pub state: TaskState,
    pub event: Option<Event>,
    pub events_total: u64,
    pub reason: [u8; l4_sys::event::REASON_BYTES],
    pub reason_len: usize,
}

impl TaskInfo {
    pub fn reason(&self) -> &str {
        core::str::from_utf8(&self.reason[..self.reason_len]).unwrap_or("?")
    }
}

impl Task {
    pub fn own() -> Task {
        Task(slot::TASK)
    }

    pub fn map(&self, ds: &Dataspace, offset: u64, addr: u64, size: u64, access: MapAccess) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::Map { ds: ds.0, offset, addr, size, access }).map(|_| ())
    }

    pub fn unmap(&self, addr: u64, size: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::Unmap { addr, size }).map(|_| ())
    }

    /// Copies our capability `src` into the task's slot `dst`.
    pub fn give(&self, src: CapIdx, dst: CapIdx, mask: Rights) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::CapCopy { src, dst, mask }).map(|_| ())
    }

    /// State and last event (the event stays queued).
    pub fn info(&self) -> Result<TaskInfo, Error> {
        self.read_info(task::Request::Info {})
    }

    /// State and the oldest event not yet taken (`event` is `None` when none is
    /// left).
    pub fn next_event(&self) -> Result<TaskInfo, Error> {
        self.read_info(task::Request::NextEvent {})
    }

    fn read_info(&self, req: task::Request) -> Result<TaskInfo, Error> {
        let r: task::InfoReply = kcall_reply(self.0, PROTO_TASK, &req)?;
        let state = if r.state == 1 { TaskState::Stopped } else { TaskState::Running };
        let event = if r.has_event { Event::from_words(&[r.cause, r.ip, r.addr, r.code, r.thread]) } else { None };
        let mut reason = [0u8; l4_sys::event::REASON_BYTES];
        reason[..r.reason.len()].copy_from_slice(r.reason.as_bytes());
        Ok(TaskInfo { state, event, events_total: r.events_total, reason, reason_len: r.reason.len() })
    }

    pub fn kill(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::Kill {}).map(|_| ())
    }

    pub fn destroy(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::Destroy {}).map(|_| ())
    }

    pub fn exit(&self, code: u64, reason: &str) {
        let _ = kcall(self.0, PROTO_TASK, &task::Request::Exit { code, reason: Bytes::truncated(reason) });
    }

    /// Gives the task the ports of `ports`; with `iopl`, all ports by IOPL 3.
    pub fn grant_io(&self, ports: &IoPorts, iopl: bool) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &task::Request::GrantIo { ports: ports.0, iopl }).map(|_| ())
    }

    pub fn factory(&self) -> Result<Factory, Error> {
        kcall_new(self.0, PROTO_TASK, &task::Request::Factory {}).map(Factory)
    }

    /// Patches the task's text (needs `Rights::DEBUG`): writes `bytes` (at most
    /// `task::POKE_MAX`) at `addr` and returns the bytes they replaced.
    pub fn poke(&self, addr: u64, bytes: &[u8]) -> Result<([u8; task::POKE_MAX], usize), Error> {
        if bytes.is_empty() {
            return Err(Error::InvalidArgument);
        }
        let tag = kcall(self.0, PROTO_TASK, &task::Request::Poke { addr, bytes: Bytes::new(bytes)? })?;
        if tag.words() != bytes.len().div_ceil(8) {
            return Err(Error::BadProtocol);
        }
        let mut old = [0u8; task::POKE_MAX];
        l4_sys::message::unpack(&ipc::received_words(tag), &mut old[..bytes.len()]);
        Ok((old, bytes.len()))
    }

    pub fn virt_to_phys(&self, addr: u64) -> Result<u64, Error> {
        kcall_word(self.0, PROTO_TASK, &task::Request::VirtToPhys { addr })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread(pub CapIdx);

impl Thread {
    pub fn own_main() -> Thread {
        Thread(slot::THREAD)
    }

    pub fn start(&self, ip: u64, sp: u64, priority: u8, arg: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_THREAD, &thread::Request::Start { ip, sp, priority, arg }).map(|_| ())
    }

    pub fn yield_now(&self) {
        let _ = kcall(self.0, PROTO_THREAD, &thread::Request::Yield {});
    }

    pub fn exit(&self) {
        let _ = kcall(self.0, PROTO_THREAD, &thread::Request::Exit {});
    }

    pub fn set_priority(&self, prio: u8) -> Result<(), Error> {
        kcall(self.0, PROTO_THREAD, &thread::Request::SetPriority { priority: prio }).map(|_| ())
    }

    /// Index, state and priority.
    pub fn info(&self) -> Result<thread::InfoReply, Error> {
        kcall_reply(self.0, PROTO_THREAD, &thread::Request::Info {})
    }
}

/// Limits for a new task.
pub struct TaskSpec<'a> {
    pub name: &'a str,
    pub event_irq: Option<Irq>,
    pub quota_pages: u64,
    pub max_priority: u8,
    pub max_threads: u32,
    /// Whether the child's capabilities to the tasks it creates carry
    /// `Rights::DEBUG` (only if this task's do).
    pub may_debug: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factory(pub CapIdx);

impl Factory {
    pub fn own() -> Factory {
        Factory(slot::FACTORY)
    }

    pub fn create_task(&self, spec: &TaskSpec) -> Result<Task, Error> {
        let req = factory::Request::CreateTask {
            fault_irq: spec.event_irq.map(|i| i.0),
            quota_pages: spec.quota_pages,
            max_priority: spec.max_priority,
            max_threads: spec.max_threads,
            flags: if spec.may_debug { factory::TASK_MAY_DEBUG } else { 0 },
            name: Bytes::truncated(spec.name),
        };
        kcall_new(self.0, PROTO_FACTORY, &req).map(Task)
    }

    /// A thread in `task`, and its index there.
    pub fn create_thread(&self, task: &Task) -> Result<(Thread, u64), Error> {
        let t = kcall_new(self.0, PROTO_FACTORY, &factory::Request::CreateThread { task: task.0 })?;
        Ok((Thread(t), ipc::mr::<0>()))
    }

    pub fn create_gate(&self, thread: Option<&Thread>, label: u64) -> Result<Gate, Error> {
        let req = factory::Request::CreateGate { thread: thread.map(|t| t.0), label };
        kcall_new(self.0, PROTO_FACTORY, &req).map(Gate)
    }

    pub fn create_irq(&self) -> Result<Irq, Error> {
        kcall_new(self.0, PROTO_FACTORY, &factory::Request::CreateIrq {}).map(Irq)
    }

    pub fn create_dataspace(&self, size: u64, contiguous: bool) -> Result<Dataspace, Error> {
        let flags = if contiguous { factory::DS_CONTIGUOUS } else { 0 };
        kcall_new(self.0, PROTO_FACTORY, &factory::Request::CreateDataspace { size, flags }).map(Dataspace)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate(pub CapIdx);

impl Gate {
    pub fn bind(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_KOBJECT, &gate::Request::Bind { thread: thread.0, label }).map(|_| ())
    }
    pub fn unbind(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_KOBJECT, &gate::Request::Unbind {}).map(|_| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Irq(pub CapIdx);

impl Irq {
    fn op(&self, req: irq::Request) -> Result<MsgTag, Error> {
        kcall(self.0, req.label(), &req)
    }
    /// Its line, whether a trigger is pending, whether a thread is attached.
    pub fn info(&self) -> Result<irq::InfoReply, Error> {
        kcall_reply(self.0, PROTO_IRQ, &irq::Request::Info {})
    }
    /// Whether a thread is attached to the IRQ.
    pub fn attached(&self) -> Result<bool, Error> {
        self.info().map(|i| i.attached)
    }
    pub fn attach(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        self.op(irq::Request::Attach { thread: thread.0, label }).map(|_| ())
    }
    pub fn detach(&self) -> Result<(), Error> {
        self.op(irq::Request::Detach {}).map(|_| ())
    }
    pub fn trigger(&self) -> Result<(), Error> {
        self.op(irq::Request::Trigger {}).map(|_| ())
    }
    pub fn unmask(&self) -> Result<(), Error> {
        self.op(irq::Request::Unmask {}).map(|_| ())
    }
    /// [`Irq::unmask`], then an open wait for the next message
    /// ([`crate::ipc::wait`]): two system calls on this kernel (one on
    /// Fiasco.OC).
    pub fn unmask_and_wait(&self, timeout: Timeout) -> Result<l4_sys::syscall::Received, AckWaitError> {
        self.unmask().map_err(AckWaitError::Unmask)?;
        crate::ipc::wait(timeout).map_err(AckWaitError::Wait)
    }

    /// Waits for this IRQ only.
    pub fn wait(&self, timeout: Timeout) -> Result<u64, Error> {
        crate::ipc::receive(self.0, timeout).map(|r| r.label)
    }

    /// An operation on an IRQ someone else handed over, without ever
    /// blocking: they could pass a gate or a thread instead, and an IRQ
    /// request sent there is IPC to their thread.
    fn op_nonblocking(&self, op: u64) -> Result<MsgTag, Error> {
        ipc::set_mr::<0>(op);
        invoke(self.0, Flags::SEND, MsgTag::new(PROTO_IRQ, 1, 0), Timeout::pair(Timeout::Zero, Timeout::Zero))
            .map(|r| r.tag)
    }

    /// What an IRQ someone else handed over is, found without blocking.
    pub fn probe(&self) -> Result<IrqKind, Error> {
        // An IRQ answers INFO with three words: line (none: u64::MAX),
        // pending, attached. IPC to a client's thread answers with none.
        match self.op_nonblocking(irq::INFO) {
            Ok(tag) if tag.words() == 3 && ipc::mr::<0>() == u64::MAX => Ok(IrqKind::Software),
            Ok(tag) if tag.words() == 3 => Ok(IrqKind::Line),
            Ok(_) => Ok(IrqKind::Ipc),
            Err(e) => Err(e),
        }
    }

    /// [`Irq::trigger`] of an IRQ someone else handed over, without ever
    /// blocking.
    pub fn trigger_nonblocking(&self) -> Result<(), Error> {
        self.op_nonblocking(irq::TRIGGER).map(|_| ())
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icu(pub CapIdx);

impl Icu {
    pub fn bind(&self, line: u8, irq: &Irq) -> Result<(), Error> {
        kcall(self.0, PROTO_ICU, &icu::Request::Bind { line: line as u64, irq: irq.0 }).map(|_| ())
    }

    /// Binds a message-signalled interrupt of the PCI device `source` (bus
    /// << 8 | devfn) to `irq`; returns the `(address, data)` its MSI
    /// capability must be programmed with.
    pub fn bind_msi(&self, source: u16, irq: &Irq) -> Result<(u64, u32), Error> {
        match kcall(self.0, PROTO_ICU, &icu::Request::BindMsi { source: source as u64, irq: irq.0 })?.words() {
            2 => {
                let [address, data] = ipc::mrs::<2>();
                Ok((address, u32::try_from(data).map_err(|_| Error::BadProtocol)?))
            }
            _ => Err(Error::BadProtocol),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoPorts(pub CapIdx);

impl IoPorts {
    pub fn restrict(&self, first: u16, count: u32) -> Result<IoPorts, Error> {
        kcall_new(self.0, PROTO_IO_PORTS, &io_ports::Request::Restrict { first, count }).map(IoPorts)
    }
    /// `(first port, count)`.
    pub fn info(&self) -> Result<(u64, u64), Error> {
        match kcall(self.0, PROTO_IO_PORTS, &io_ports::Request::Info {})?.words() {
            2 => Ok(ipc::mrs::<2>().into()),
            _ => Err(Error::BadProtocol),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoMem(pub CapIdx);

impl IoMem {
    pub fn restrict(&self, phys: u64, size: u64) -> Result<IoMem, Error> {
        kcall_new(self.0, PROTO_IO_MEM, &io_mem::Request::Restrict { phys, size }).map(IoMem)
    }
    pub fn create_dataspace(&self, phys: u64, size: u64) -> Result<Dataspace, Error> {
        kcall_new(self.0, PROTO_IO_MEM, &io_mem::Request::CreateDataspace { phys, size }).map(Dataspace)
    }
    /// `(physical address, size)`.
    pub fn info(&self) -> Result<(u64, u64), Error> {
        match kcall(self.0, PROTO_IO_MEM, &io_mem::Request::Info {})?.words() {
            2 => Ok(ipc::mrs::<2>().into()),
            _ => Err(Error::BadProtocol),
        }
    }
}

/// The IOMMU root capability (the bus owner's): creates DMA domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iommu(pub CapIdx);

impl Iommu {
    /// Whether DMA remapping is on.
    pub fn enabled(&self) -> bool {
        kcall(self.0, PROTO_IOMMU, &iommu::Request::Info {}).is_ok_and(|t| t.words() == 2) && ipc::mr::<0>() == 1
    }
    /// A fresh domain for the PCI device with `source` id (bus << 8 | devfn).
    pub fn create_domain(&self, source: u16) -> Result<DmaDomain, Error> {
        kcall_new(self.0, PROTO_IOMMU, &iommu::Request::CreateDomain { source }).map(DmaDomain)
    }
}

/// What one PCI device can reach by DMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaDomain(pub CapIdx);

impl DmaDomain {
    /// Makes a contiguous dataspace reachable by the device; returns its I/O address.
    pub fn map(&self, ds: &Dataspace) -> Result<u64, Error> {
        kcall_word(self.0, PROTO_DMA_DOMAIN, &dma_domain::Request::Map { ds: ds.0 })
    }
    pub fn unmap(&self, ds: &Dataspace) -> Result<(), Error> {
        kcall(self.0, PROTO_DMA_DOMAIN, &dma_domain::Request::Unmap { ds: ds.0 }).map(|_| ())
    }
    /// `[source id, mapped pages]`, or an error when `self` is no domain.
    pub fn info(&self) -> Result<(u64, u64), Error> {
        match kcall(self.0, PROTO_DMA_DOMAIN, &dma_domain::Request::Info {})?.words() {
            2 => Ok(ipc::mrs::<2>().into()),
            _ => Err(Error::BadProtocol),
        }
    }
    /// Detaches and destroys the domain (needs SERVER); frees the slot.
    pub fn destroy(self) -> Result<(), Error> {
        let r = kcall(self.0, PROTO_DMA_DOMAIN, &dma_domain::Request::Destroy {}).map(|_| ());
        release(self.0);
        r
    }
}

impl Dataspace {
    pub fn info(&self) -> Result<DsInfo, Error> {
        let r: dataspace::InfoReply = kcall_reply(self.0, PROTO_DATASPACE, &dataspace::Request::Info {})?;
        Ok(DsInfo { size: r.size, contiguous: r.flags & factory::DS_CONTIGUOUS != 0, phys: r.phys })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelCap(pub CapIdx);

/// The kernel's counters (`kernel::STATS`).
pub type KernelStats = kernel::StatsReply;

/// A task as the kernel sees it.
#[derive(Clone, Copy, Debug)]
pub struct KernelTaskInfo {
    pub running: bool,
    pub events_total: u64,
    pub used_pages: u64,
    pub quota_pages: u64,
    pub threads: u64,
    /// Cause, instruction pointer and address of the last event.
    pub last_event: Option<(l4_sys::event::Cause, u64, u64)>,
    pub name: [u8; 32],
    pub name_len: usize,
}

impl KernelTaskInfo {
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }
}

impl KernelCap {
    pub fn stats(&self) -> Result<KernelStats, Error> {
        kcall_reply(self.0, PROTO_KERNEL, &kernel::Request::Stats {})
    }
    pub fn shutdown(&self, status: u64) -> ! {
        let _ = kcall(self.0, PROTO_KERNEL, &kernel::Request::Shutdown { status });
        crate::exit(1, "shutdown refused")
    }
    pub fn irq_entry_tsc(&self, line: u8) -> Result<u64, Error> {
        kcall_word(self.0, PROTO_KERNEL, &kernel::Request::IrqEntryTsc { line: line as u64 })
    }
    /// The `n`-th live task, or `None` past the last.
    pub fn task_info(&self, n: u64) -> Result<Option<KernelTaskInfo>, Error> {
        let tag = kcall(self.0, PROTO_KERNEL, &kernel::Request::TaskInfo { n })?;
        let words = ipc::received_words(tag);
        if *words == [u64::MAX] {
            return Ok(None);
        }
        let r = kernel::TaskInfoReply::decode(&words)?;
        let mut name = [0u8; factory::NAME_MAX];
        name[..r.name.len()].copy_from_slice(r.name.as_bytes());
        Ok(Some(KernelTaskInfo {
            running: r.state == 0,
            events_total: r.events_total,
            used_pages: r.used_pages,
            quota_pages: r.quota_pages,
            threads: r.threads,
            last_event: if r.has_event {
                l4_sys::event::Cause::from_raw(r.cause).map(|c| (c, r.ip, r.addr))
            } else {
                None
            },
            name,
            name_len: r.name.len(),
        }))
    }

    pub fn set_log_level(&self, level: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_KERNEL, &kernel::Request::SetLogLevel { level }).map(|_| ())
    }
}

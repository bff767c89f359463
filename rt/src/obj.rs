//! Typed handles for the kernel objects, one method per operation of its protocol
//! (see `l4_sys::proto`). Handles are plain capability indices: copying one does
//! not copy the capability; [`release`] deletes it.

use crate::cap;
use crate::ipc::{mr, utcb};
pub use crate::memory::{Dataspace, DsInfo};
use l4_sys::cap::slot;
use l4_sys::event::{Event, TaskState};
use l4_sys::proto::*;
use l4_sys::syscall::{Flags, invoke};
use l4_sys::utcb::BR_RECV_CAP;
use l4_sys::{CapIdx, Error, MsgTag, Rights, Timeout};

pub use l4_sys::proto::task::MapAccess;
pub use l4_sys::utcb::ITEM_MAP;

/// Invokes a kernel object: `words` go to `mr[0..]`, the answer's words are
/// returned in `mr` and their number in the tag.
pub fn kcall(cap: CapIdx, proto: i64, words: &[u64]) -> Result<MsgTag, Error> {
    mr()[..words.len()].copy_from_slice(words);
    invoke(cap, Flags::SEND, MsgTag::new(proto, words.len(), 0), Timeout::pair(Timeout::Never, Timeout::Never))
        .map(|r| r.tag)
}

/// Like [`kcall`] for an operation that creates a capability: returns its slot.
fn kcall_new(cap: CapIdx, proto: i64, words: &[u64]) -> Result<CapIdx, Error> {
    let slot = cap::alloc().ok_or(Error::QuotaExceeded)?;
    utcb().br[BR_RECV_CAP] = slot.selector();
    match kcall(cap, proto, words) {
        Ok(_) => Ok(slot),
        Err(e) => {
            cap::free(slot);
            Err(e)
        }
    }
}

fn pack_str(out: &mut [u64], s: &str) -> usize {
    for (i, chunk) in s.as_bytes().chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        out[i] = u64::from_le_bytes(w);
    }
    s.len().div_ceil(8)
}

/// Deletes one of this task's capabilities; the slot stays reserved for reuse.
pub fn delete(idx: CapIdx) -> Result<(), Error> {
    kcall(slot::TASK, PROTO_TASK, &[task::CAP_DELETE, idx.0 as u64]).map(|_| ())
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
        kcall(self.0, PROTO_TASK, &[task::MAP, ds.0.0 as u64, offset, addr, size, access.bits()]).map(|_| ())
    }

    pub fn unmap(&self, addr: u64, size: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &[task::UNMAP, addr, size]).map(|_| ())
    }

    /// Copies our capability `src` into the task's slot `dst`.
    pub fn give(&self, src: CapIdx, dst: CapIdx, mask: Rights) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &[task::CAP_COPY, src.0 as u64, dst.0 as u64, mask.bits() as u64]).map(|_| ())
    }

    /// State and last event (the event stays queued).
    pub fn info(&self) -> Result<TaskInfo, Error> {
        self.read_info(task::INFO)
    }

    /// State and the oldest event not yet taken (`event` is `None` when none is
    /// left).
    pub fn next_event(&self) -> Result<TaskInfo, Error> {
        self.read_info(task::NEXT_EVENT)
    }

    fn read_info(&self, op: u64) -> Result<TaskInfo, Error> {
        let tag = kcall(self.0, PROTO_TASK, &[op])?;
        let m = mr();
        let state = if m[0] == 1 { TaskState::Stopped } else { TaskState::Running };
        let event = if m[1] == 1 { Event::from_words(&m[2..7]) } else { None };
        let mut reason = [0u8; l4_sys::event::REASON_BYTES];
        let len = (m[8] as usize).min(reason.len()).min(tag.words().saturating_sub(9) * 8);
        for (i, b) in reason[..len].iter_mut().enumerate() {
            *b = (m[9 + i / 8] >> ((i % 8) * 8)) as u8;
        }
        Ok(TaskInfo { state, event, events_total: m[7], reason, reason_len: len })
    }

    pub fn kill(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &[task::KILL]).map(|_| ())
    }

    pub fn destroy(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &[task::DESTROY]).map(|_| ())
    }

    pub fn exit(&self, code: u64, reason: &str) {
        let mut w = [0u64; 3 + 15];
        w[0] = task::EXIT;
        w[1] = code;
        let reason = &reason[..reason.len().min(l4_sys::event::REASON_BYTES)];
        w[2] = reason.len() as u64;
        let n = pack_str(&mut w[3..], reason);
        let _ = kcall(self.0, PROTO_TASK, &w[..3 + n]);
    }

    /// Gives the task the ports of `ports`; with `iopl`, all ports by IOPL 3.
    pub fn grant_io(&self, ports: &IoPorts, iopl: bool) -> Result<(), Error> {
        kcall(self.0, PROTO_TASK, &[task::GRANT_IO, ports.0.0 as u64, iopl as u64]).map(|_| ())
    }

    pub fn factory(&self) -> Result<Factory, Error> {
        kcall_new(self.0, PROTO_TASK, &[task::FACTORY]).map(Factory)
    }

    /// Patches the task's text (needs `Rights::DEBUG`): writes `bytes` (at most
    /// `task::POKE_MAX`) at `addr` and returns the bytes they replaced.
    pub fn poke(&self, addr: u64, bytes: &[u8]) -> Result<([u8; task::POKE_MAX], usize), Error> {
        if bytes.is_empty() || bytes.len() > task::POKE_MAX {
            return Err(Error::InvalidArgument);
        }
        let mut w = [0u64; 3 + task::POKE_MAX / 8];
        w[0] = task::POKE;
        w[1] = addr;
        w[2] = bytes.len() as u64;
        for (i, b) in bytes.iter().enumerate() {
            w[3 + i / 8] |= (*b as u64) << ((i % 8) * 8);
        }
        kcall(self.0, PROTO_TASK, &w[..3 + bytes.len().div_ceil(8)])?;
        let mut old = [0u8; task::POKE_MAX];
        let m = mr();
        for (i, b) in old[..bytes.len()].iter_mut().enumerate() {
            *b = (m[i / 8] >> ((i % 8) * 8)) as u8;
        }
        Ok((old, bytes.len()))
    }

    pub fn virt_to_phys(&self, addr: u64) -> Result<u64, Error> {
        kcall(self.0, PROTO_TASK, &[task::VIRT_TO_PHYS, addr])?;
        Ok(mr()[0])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread(pub CapIdx);

impl Thread {
    pub fn own_main() -> Thread {
        Thread(slot::THREAD)
    }

    pub fn start(&self, ip: u64, sp: u64, priority: u8, arg: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_THREAD, &[thread::START, ip, sp, priority as u64, arg]).map(|_| ())
    }

    pub fn yield_now(&self) {
        let _ = kcall(self.0, PROTO_THREAD, &[thread::YIELD]);
    }

    pub fn exit(&self) {
        let _ = kcall(self.0, PROTO_THREAD, &[thread::EXIT]);
    }

    pub fn set_priority(&self, prio: u8) -> Result<(), Error> {
        kcall(self.0, PROTO_THREAD, &[thread::SET_PRIORITY, prio as u64]).map(|_| ())
    }

    /// `(index, state, priority)`.
    pub fn info(&self) -> Result<(u64, u64, u64), Error> {
        kcall(self.0, PROTO_THREAD, &[thread::INFO])?;
        let m = mr();
        Ok((m[0], m[1], m[2]))
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
        let mut w = [0u64; 7 + 4];
        w[0] = factory::CREATE_TASK as u64;
        w[1] = spec.event_irq.map_or(0, |i| i.0.0 as u64);
        w[2] = spec.quota_pages;
        w[3] = spec.max_priority as u64;
        w[4] = spec.max_threads as u64;
        w[5] = if spec.may_debug { factory::TASK_MAY_DEBUG } else { 0 };
        let name = spec.name.get(..spec.name.len().min(32)).unwrap_or("?");
        w[6] = name.len() as u64;
        let n = pack_str(&mut w[7..], name);
        kcall_new(self.0, PROTO_FACTORY, &w[..7 + n]).map(Task)
    }

    /// A thread in `task`, and its index there.
    pub fn create_thread(&self, task: &Task) -> Result<(Thread, u64), Error> {
        let t = kcall_new(self.0, PROTO_FACTORY, &[factory::CREATE_THREAD as u64, task.0.0 as u64])?;
        Ok((Thread(t), mr()[0]))
    }

    pub fn create_gate(&self, thread: Option<&Thread>, label: u64) -> Result<Gate, Error> {
        let th = thread.map_or(0, |t| t.0.0 as u64);
        kcall_new(self.0, PROTO_FACTORY, &[factory::CREATE_GATE as u64, th, label]).map(Gate)
    }

    pub fn create_irq(&self) -> Result<Irq, Error> {
        kcall_new(self.0, PROTO_FACTORY, &[factory::CREATE_IRQ as u64]).map(Irq)
    }

    pub fn create_dataspace(&self, size: u64, contiguous: bool) -> Result<Dataspace, Error> {
        let flags = if contiguous { factory::DS_CONTIGUOUS } else { 0 };
        kcall_new(self.0, PROTO_FACTORY, &[factory::CREATE_DATASPACE as u64, size, flags]).map(Dataspace)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate(pub CapIdx);

impl Gate {
    pub fn bind(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_KOBJECT, &[gate::BIND, thread.0.0 as u64, label]).map(|_| ())
    }
    pub fn unbind(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_KOBJECT, &[gate::UNBIND]).map(|_| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Irq(pub CapIdx);

impl Irq {
    /// Whether a thread is attached to the IRQ (`irq::INFO`).
    pub fn attached(&self) -> Result<bool, Error> {
        kcall(self.0, PROTO_IRQ, &[irq::INFO]).map(|_| mr()[2] != 0)
    }

    pub fn attach(&self, thread: &Thread, label: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_IRQ_SENDER, &[irq::ATTACH, thread.0.0 as u64, label]).map(|_| ())
    }
    pub fn detach(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_IRQ_SENDER, &[irq::DETACH]).map(|_| ())
    }
    pub fn trigger(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_IRQ, &[irq::TRIGGER]).map(|_| ())
    }
    pub fn unmask(&self) -> Result<(), Error> {
        kcall(self.0, PROTO_IRQ, &[irq::UNMASK]).map(|_| ())
    }
    /// Waits for this IRQ only.
    pub fn wait(&self, timeout: Timeout) -> Result<u64, Error> {
        crate::ipc::receive(self.0, timeout).map(|r| r.label)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icu(pub CapIdx);

impl Icu {
    pub fn bind(&self, line: u8, irq: &Irq) -> Result<(), Error> {
        kcall(self.0, PROTO_ICU, &[icu::BIND, line as u64, irq.0.0 as u64]).map(|_| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoPorts(pub CapIdx);

impl IoPorts {
    pub fn restrict(&self, first: u16, count: u32) -> Result<IoPorts, Error> {
        kcall_new(self.0, PROTO_IO_PORTS, &[io_ports::RESTRICT, first as u64, count as u64]).map(IoPorts)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoMem(pub CapIdx);

impl IoMem {
    pub fn restrict(&self, phys: u64, size: u64) -> Result<IoMem, Error> {
        kcall_new(self.0, PROTO_IO_MEM, &[io_mem::RESTRICT, phys, size]).map(IoMem)
    }
    pub fn create_dataspace(&self, phys: u64, size: u64) -> Result<Dataspace, Error> {
        kcall_new(self.0, PROTO_IO_MEM, &[io_mem::CREATE_DATASPACE, phys, size]).map(Dataspace)
    }
}

/// The IOMMU root capability (the bus owner's): creates DMA domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iommu(pub CapIdx);

impl Iommu {
    /// Whether DMA remapping is on.
    pub fn enabled(&self) -> bool {
        kcall(self.0, PROTO_IOMMU, &[iommu::INFO]).is_ok() && mr()[0] == 1
    }
    /// A fresh domain for the PCI device with `source` id (bus << 8 | devfn).
    pub fn create_domain(&self, source: u16) -> Result<DmaDomain, Error> {
        kcall_new(self.0, PROTO_IOMMU, &[iommu::CREATE_DOMAIN, source as u64]).map(DmaDomain)
    }
}

/// What one PCI device can reach by DMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaDomain(pub CapIdx);

impl DmaDomain {
    /// Makes a contiguous dataspace reachable by the device; returns its I/O address.
    pub fn map(&self, ds: &Dataspace) -> Result<u64, Error> {
        kcall(self.0, PROTO_DMA_DOMAIN, &[dma_domain::MAP, ds.0.0 as u64])?;
        Ok(mr()[0])
    }
    pub fn unmap(&self, ds: &Dataspace) -> Result<(), Error> {
        kcall(self.0, PROTO_DMA_DOMAIN, &[dma_domain::UNMAP, ds.0.0 as u64]).map(|_| ())
    }
    /// `[source id, mapped pages]`, or an error when `self` is no domain.
    pub fn info(&self) -> Result<(u64, u64), Error> {
        kcall(self.0, PROTO_DMA_DOMAIN, &[dma_domain::INFO])?;
        Ok((mr()[0], mr()[1]))
    }
    /// Detaches and destroys the domain (needs SERVER); frees the slot.
    pub fn destroy(self) -> Result<(), Error> {
        let r = kcall(self.0, PROTO_DMA_DOMAIN, &[dma_domain::DESTROY]).map(|_| ());
        release(self.0);
        r
    }
}

impl Dataspace {
    pub fn info(&self) -> Result<DsInfo, Error> {
        kcall(self.0, PROTO_DATASPACE, &[dataspace::INFO])?;
        let m = mr();
        Ok(DsInfo { size: m[0], contiguous: m[1] & factory::DS_CONTIGUOUS != 0, phys: m[2] })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelCap(pub CapIdx);

#[derive(Clone, Copy, Debug)]
pub struct KernelStats {
    pub free_frames: u64,
    pub total_frames: u64,
    pub ipc_denied: u64,
    pub ticks: u64,
    pub tasks: u64,
    pub threads: u64,
    pub heap_bytes: u64,
}

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
        kcall(self.0, PROTO_KERNEL, &[kernel::STATS])?;
        let m = mr();
        Ok(KernelStats {
            free_frames: m[0],
            total_frames: m[1],
            ipc_denied: m[2],
            ticks: m[3],
            tasks: m[4],
            threads: m[5],
            heap_bytes: m[6],
        })
    }
    pub fn shutdown(&self, status: u64) -> ! {
        let _ = kcall(self.0, PROTO_KERNEL, &[kernel::SHUTDOWN, status]);
        crate::exit(1, "shutdown refused")
    }
    pub fn irq_entry_tsc(&self, line: u8) -> Result<u64, Error> {
        kcall(self.0, PROTO_KERNEL, &[kernel::IRQ_ENTRY_TSC, line as u64])?;
        Ok(mr()[0])
    }
    /// The `n`-th live task, or `None` past the last.
    pub fn task_info(&self, n: u64) -> Result<Option<KernelTaskInfo>, Error> {
        kcall(self.0, PROTO_KERNEL, &[kernel::TASK_INFO, n])?;
        let m = mr();
        if m[0] == u64::MAX {
            return Ok(None);
        }
        let mut name = [0u8; 32];
        let len = (m[9] as usize).min(32);
        for (i, b) in name[..len].iter_mut().enumerate() {
            *b = (m[10 + i / 8] >> ((i % 8) * 8)) as u8;
        }
        Ok(Some(KernelTaskInfo {
            running: m[0] == 0,
            events_total: m[1],
            used_pages: m[2],
            quota_pages: m[3],
            threads: m[4],
            last_event: if m[5] == 1 { l4_sys::event::Cause::from_raw(m[6]).map(|c| (c, m[7], m[8])) } else { None },
            name,
            name_len: len,
        }))
    }

    pub fn set_log_level(&self, level: u64) -> Result<(), Error> {
        kcall(self.0, PROTO_KERNEL, &[kernel::SET_LOG_LEVEL, level]).map(|_| ())
    }
}

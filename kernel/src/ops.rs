//! Operations of the kernel objects: what a message to a task, thread, factory,
//! gate, IRQ, ICU, I/O range, dataspace, log or kernel capability does.
//!
//! Each operation reads its arguments from the caller's message registers,
//! validates all of them, then acts, and answers in the message registers. Rights
//! are checked against the capability used. A new capability goes to the slot
//! named by the caller's buffer register 0, which is checked before anything is
//! created, so a failed call leaves nothing behind.

use crate::kernel::Kernel;
use crate::lifecycle::{Access, OBJECT_PAGES, TaskLimits};
use crate::obj::{Gate, IoMem, IoPorts, Irq, ObjId, Object};
use crate::space::{Dataspace, Memory};
use crate::task::Cap;
use crate::thread::State;
use alloc::boxed::Box;
use l4_sys::event::{Cause, Event, TaskState};
use l4_sys::proto::{self, *};
use l4_sys::utcb::BR_RECV_CAP;
use l4_sys::{CapIdx, Error, MsgTag, Rights};

type OpResult = Result<(MsgTag, u64), Error>;

/// The caller's view during one operation.
struct Call {
    thread: ObjId,
    task: ObjId,
    cap: Cap,
    tag: MsgTag,
}

fn need(cap: &Cap, rights: Rights) -> Result<(), Error> {
    if cap.rights.contains(rights) { Ok(()) } else { Err(Error::Denied) }
}

impl Kernel {
    pub fn kernel_op(&mut self, thread: ObjId, cap: Cap, tag: MsgTag) -> OpResult {
        let task = self.objs.thread(thread).ok_or(Error::DeadObject)?.task;
        let c = Call { thread, task, cap, tag };
        let label = tag.label();
        match (self.objs.get(cap.obj).ok_or(Error::DeadObject)?, label) {
            (Object::Task(_), PROTO_TASK) => self.task_op(&c),
            (Object::Thread(_), PROTO_THREAD) => self.thread_op(&c),
            (Object::Factory(_), PROTO_FACTORY) => self.factory_op(&c),
            (Object::Gate(_), PROTO_KOBJECT) => self.gate_op(&c),
            (Object::Irq(_), PROTO_IRQ | PROTO_IRQ_SENDER) => self.irq_op(&c),
            (Object::Icu, PROTO_ICU) => self.icu_op(&c),
            (Object::IoPorts(_), PROTO_IO_PORTS) => self.io_ports_op(&c),
            (Object::IoMem(_), PROTO_IO_MEM) => self.io_mem_op(&c),
            (Object::Dataspace(_), PROTO_DATASPACE) => self.dataspace_op(&c),
            (Object::Log, PROTO_LOG) => self.log_op(&c),
            (Object::Kernel, PROTO_KERNEL) => self.kernel_info_op(&c),
            (Object::Iommu, PROTO_IOMMU) => self.iommu_op(&c),
            (Object::DmaDomain(_), PROTO_DMA_DOMAIN) => self.dma_domain_op(&c),
            _ => Err(Error::BadProtocol),
        }
    }

    fn mr(&self, c: &Call, i: usize) -> u64 {
        if i >= c.tag.words() {
            return 0;
        }
        self.objs.thread(c.thread).map_or(0, |t| t.utcb().mr[i])
    }

    /// Bytes packed in message registers from `first`, `len` long.
    fn mr_bytes(&self, c: &Call, first: usize, len: usize, out: &mut [u8]) -> usize {
        let Some(t) = self.objs.thread(c.thread) else { return 0 };
        let avail = c.tag.words().saturating_sub(first) * 8;
        let n = len.min(avail).min(out.len());
        let words = &t.utcb().mr[first..];
        for (i, b) in out[..n].iter_mut().enumerate() {
            *b = (words[i / 8] >> ((i % 8) * 8)) as u8;
        }
        n
    }

    fn reply_words(&mut self, c: &Call, words: &[u64]) -> OpResult {
        let t = self.objs.thread_mut(c.thread).ok_or(Error::DeadObject)?;
        t.utcb_mut().mr[..words.len()].copy_from_slice(words);
        Ok((MsgTag::new(0, words.len(), 0), 0))
    }

    fn done(&self) -> OpResult {
        Ok((MsgTag::new(0, 0, 0), 0))
    }

    /// The empty slot buffer register 0 names, for a capability about to be made.
    fn recv_slot(&self, c: &Call) -> Result<CapIdx, Error> {
        let sel = self.objs.thread(c.thread).ok_or(Error::DeadObject)?.utcb().br[BR_RECV_CAP];
        let idx = CapIdx::from_selector(sel);
        if !idx.is_valid() {
            return Err(Error::NoReceiveSlot);
        }
        let task = self.objs.task(c.task).ok_or(Error::DeadObject)?;
        if task.caps.get(idx).is_some() {
            return Err(Error::InUse);
        }
        Ok(idx)
    }

    /// A capability of the caller, of the expected kind.
    fn arg_cap(&self, c: &Call, slot: u64) -> Result<Cap, Error> {
        let cap = self.objs.task(c.task).and_then(|t| t.caps.get(CapIdx(slot as u32))).ok_or(Error::NoCapability)?;
        self.objs.get(cap.obj).ok_or(Error::DeadObject)?;
        Ok(cap)
    }

    fn task_op(&mut self, c: &Call) -> OpResult {
        let target = c.cap.obj;
        match self.mr(c, 0) {
            task::MAP => {
                need(&c.cap, Rights::WRITE)?;
                let (ds_slot, offset, addr, size, rights) =
                    (self.mr(c, 1), self.mr(c, 2), self.mr(c, 3), self.mr(c, 4), self.mr(c, 5));
                if offset % 4096 != 0 || size % 4096 != 0 {
                    return Err(Error::BadAddress);
                }
                let ds = self.arg_cap(c, ds_slot)?;
                if !matches!(self.objs.get(ds.obj), Some(Object::Dataspace(_))) {
                    return Err(Error::InvalidArgument);
                }
                need(&ds, Rights::READ)?;
                let access = task::MapAccess::from_bits(rights).ok_or(Error::InvalidArgument)?;
                let writable = access.contains(task::MapAccess::WRITE);
                let executable = access.contains(task::MapAccess::EXECUTE);
                if writable {
                    need(&ds, Rights::WRITE)?;
                }
                self.map_ds(
                    target,
                    ds.obj,
                    offset / 4096,
                    addr,
                    size / 4096,
                    Access { write: writable, execute: executable },
                )?;
                self.done()
            }
            task::UNMAP => {
                need(&c.cap, Rights::WRITE)?;
                self.unmap_range(target, self.mr(c, 1), self.mr(c, 2))?;
                self.done()
            }
            task::CAP_COPY => {
                need(&c.cap, Rights::WRITE)?;
                let mask = Rights::from_bits_truncate(self.mr(c, 3) as u8);
                self.copy_cap(c.task, CapIdx(self.mr(c, 1) as u32), target, CapIdx(self.mr(c, 2) as u32), mask)?;
                self.done()
            }
            task::CAP_DELETE => {
                need(&c.cap, Rights::WRITE)?;
                self.delete_cap(target, CapIdx(self.mr(c, 1) as u32))?;
                self.done()
            }
            op @ (task::INFO | task::NEXT_EVENT) => {
                need(&c.cap, Rights::READ)?;
                let t = self.objs.task_mut(target).ok_or(Error::DeadObject)?;
                let record = if op == task::INFO { t.last_event } else { t.events.pop_front() };
                let mut w = [0u64; 9 + 15];
                w[0] = t.state as u64;
                w[7] = t.events_total;
                let mut n = 9;
                if let Some(r) = record {
                    w[1] = 1;
                    w[2..7].copy_from_slice(&r.event.to_words());
                    w[8] = r.reason_len as u64;
                    for (i, b) in r.reason[..r.reason_len].iter().enumerate() {
                        w[9 + i / 8] |= (*b as u64) << ((i % 8) * 8);
                    }
                    n += r.reason_len.div_ceil(8);
                }
                self.reply_words(c, &w[..n])
            }
            task::KILL => {
                need(&c.cap, Rights::WRITE)?;
                let ip = self.objs.thread(c.thread).map_or(0, |t| t.frame.rip);
                self.report(target, Event { cause: Cause::Killed, ip, addr: 0, code: 0, thread: 0 }, b"killed");
                self.done()
            }
            task::EXIT => {
                if target != c.task {
                    return Err(Error::Denied);
                }
                let code = self.mr(c, 1);
                let mut reason = [0u8; l4_sys::event::REASON_BYTES];
                let n = self.mr_bytes(c, 3, self.mr(c, 2) as usize, &mut reason);
                let (ip, index) = self.objs.thread(c.thread).map_or((0, 0), |t| (t.frame.rip, t.index as u64));
                let event = Event { cause: Cause::Exit, ip, addr: 0, code, thread: index };
                self.report(target, event, &reason[..n]);
                if self.objs.task(target).is_some_and(|t| t.event_irq.is_none()) {
                    let name = self.objs.task(target).map(|t| t.name()).unwrap_or("?");
                    crate::kinfo!("{} exited with status {} and nobody to tell", name, code);
                }
                self.done()
            }
            task::GRANT_IO => {
                need(&c.cap, Rights::WRITE)?;
                let io = self.arg_cap(c, self.mr(c, 1))?;
                // Using ports is WRITE; DELEGATE is for passing them on, which
                // a driver given its device's ports must not be able to do.
                need(&io, Rights::WRITE)?;
                let Some(Object::IoPorts(p)) = self.objs.get(io.obj) else { return Err(Error::InvalidArgument) };
                let (base, count) = (p.base, p.count);
                if self.mr(c, 2) == 1 {
                    if base != 0 || count != 65536 {
                        return Err(Error::Denied);
                    }
                    self.grant_iopl(target)?;
                } else {
                    self.grant_ports(target, base, count)?;
                }
                self.done()
            }
            task::DESTROY => {
                need(&c.cap, Rights::WRITE)?;
                if target == c.task {
                    return Err(Error::InvalidArgument);
                }
                self.destroy_task(target);
                self.done()
            }
            task::FACTORY => {
                need(&c.cap, Rights::WRITE)?;
                let slot = self.recv_slot(c)?;
                let f = self.objs.task(target).and_then(|t| t.factory).ok_or(Error::DeadObject)?;
                self.install_cap(c.task, slot, Cap { obj: f, rights: Rights::ALL })?;
                self.done()
            }
            task::POKE => {
                need(&c.cap, Rights::DEBUG)?;
                let (addr, len) = (self.mr(c, 1), self.mr(c, 2) as usize);
                if len == 0 || len > task::POKE_MAX {
                    return Err(Error::InvalidArgument);
                }
                let mut bytes = [0u8; task::POKE_MAX];
                if self.mr_bytes(c, 3, len, &mut bytes) != len {
                    return Err(Error::InvalidArgument);
                }
                let old = self.poke_text(target, addr, &bytes[..len])?;
                let mut w = [0u64; task::POKE_MAX / 8];
                for (i, b) in old[..len].iter().enumerate() {
                    w[i / 8] |= (*b as u64) << ((i % 8) * 8);
                }
                self.reply_words(c, &w[..len.div_ceil(8)])
            }
            task::VIRT_TO_PHYS => {
                need(&c.cap, Rights::READ)?;
                let t = self.objs.task(target).ok_or(Error::DeadObject)?;
                let (phys, _) = crate::mem::paging::translate(t.space.pml4, self.mr(c, 1)).ok_or(Error::BadAddress)?;
                self.reply_words(c, &[phys])
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn thread_op(&mut self, c: &Call) -> OpResult {
        let target = c.cap.obj;
        let own = self.objs.thread(target).is_some_and(|t| t.task == c.task);
        match self.mr(c, 0) {
            thread::START => {
                need(&c.cap, Rights::WRITE)?;
                self.start_thread(target, self.mr(c, 1), self.mr(c, 2), self.mr(c, 3), self.mr(c, 4))?;
                self.done()
            }
            thread::YIELD => {
                if target != c.thread {
                    return Err(Error::Denied);
                }
                let prio = self.objs.thread(target).map_or(0, |t| t.priority);
                if self.sched.highest().is_some_and(|h| h >= prio) {
                    self.sched.enqueue(target, prio);
                    self.sched.current = None;
                }
                self.done()
            }
            thread::EXIT => {
                if !own {
                    return Err(Error::Denied);
                }
                let others = self.objs.task(c.task).map_or(0, |t| {
                    t.live_threads()
                        .filter(|&x| x != target && self.objs.thread(x).is_some_and(|t| t.is_alive()))
                        .count()
                });
                if others == 0 {
                    let (ip, index) = self.objs.thread(target).map_or((0, 0), |t| (t.frame.rip, t.index as u64));
                    self.report(
                        c.task,
                        Event { cause: Cause::Exit, ip, addr: 0, code: 0, thread: index },
                        b"last thread exited",
                    );
                } else {
                    self.stop_thread(target);
                }
                self.done()
            }
            thread::SET_PRIORITY => {
                need(&c.cap, Rights::WRITE)?;
                let max = self
                    .objs
                    .task(self.objs.thread(target).ok_or(Error::DeadObject)?.task)
                    .map_or(0, |t| t.max_priority);
                let prio = self.mr(c, 1).min(max as u64) as u8;
                let t = self.objs.thread_mut(target).ok_or(Error::DeadObject)?;
                let (old, state) = (t.priority, t.state);
                t.base_priority = prio;
                // A demoted runaway stays demoted until it waits.
                let prio = if t.run_ticks >= l4_sys::proto::thread::RUNAWAY_TICKS {
                    prio.min(l4_sys::proto::thread::DEFAULT_PRIORITY)
                } else {
                    prio
                };
                t.priority = prio;
                if state == State::Ready && self.sched.current != Some(target) {
                    self.sched.remove(target, old);
                    self.sched.enqueue(target, prio);
                }
                self.done()
            }
            thread::INFO => {
                let t = self.objs.thread(target).ok_or(Error::DeadObject)?;
                let state = match t.state {
                    State::Inactive => 0,
                    State::Ready => 1,
                    State::Sending { .. } => 2,
                    State::Receiving { .. } => 3,
                    State::Dead => 4,
                };
                let w = [t.index as u64, state, t.priority as u64];
                self.reply_words(c, &w)
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn factory_op(&mut self, c: &Call) -> OpResult {
        need(&c.cap, Rights::WRITE)?;
        let Some(Object::Factory(f)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let charged = f.task;
        let slot = self.recv_slot(c)?;
        let kind = self.mr(c, 0) as i64;
        let (obj, rights, out) = match kind {
            factory::CREATE_TASK => {
                let irq_slot = self.mr(c, 1);
                let event_irq = if irq_slot == 0 {
                    None
                } else {
                    let cap = self.arg_cap(c, irq_slot)?;
                    match self.objs.get(cap.obj) {
                        Some(Object::Irq(_)) => Some(cap.obj),
                        _ => return Err(Error::InvalidArgument),
                    }
                };
                // The payer reserves the child's quota: at most what it has left.
                let parent = self.objs.task(charged).ok_or(Error::DeadObject)?;
                let left = parent.quota_pages.saturating_sub(parent.used_pages + crate::lifecycle::TASK_PAGES);
                // Debugging is passed down only by a creator that may debug.
                let may_debug = self.objs.task(c.task).is_some_and(|t| t.may_debug);
                let limits = TaskLimits {
                    quota_pages: self.mr(c, 2).min(left),
                    max_priority: self.mr(c, 3).min(parent.max_priority as u64) as u8,
                    max_threads: self.mr(c, 4).min(l4_sys::layout::MAX_THREADS) as u32,
                    may_debug: may_debug && self.mr(c, 5) & factory::TASK_MAY_DEBUG != 0,
                };
                let mut name = [0u8; 32];
                let n = self.mr_bytes(c, 7, self.mr(c, 6) as usize, &mut name);
                let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
                let log = self.log.expect("log object exists after boot");
                let id = self.create_task(Some(c.task), Some(charged), name, event_irq, limits, log)?;
                (id, if may_debug { Rights::ALL } else { Rights::ALL - Rights::DEBUG }, None)
            }
            factory::CREATE_THREAD => {
                let task = self.arg_cap(c, self.mr(c, 1))?;
                need(&task, Rights::WRITE)?;
                if !matches!(self.objs.get(task.obj), Some(Object::Task(_))) {
                    return Err(Error::InvalidArgument);
                }
                let (id, index) = self.create_thread(task.obj, charged)?;
                (id, Rights::ALL, Some(index as u64))
            }
            factory::CREATE_GATE => {
                let thread_slot = self.mr(c, 1);
                let thread = if thread_slot == 0 { None } else { Some(self.thread_arg(c, thread_slot)?) };
                let gate = Gate { owner: c.task, thread, label: self.mr(c, 2) };
                let id = self.new_object(Object::Gate(gate), charged, OBJECT_PAGES)?;
                (id, Rights::ALL, None)
            }
            factory::CREATE_IRQ => {
                let irq = Irq { owner: c.task, target: None, pending: false, line: None, awaiting_ack: false };
                (self.new_object(Object::Irq(irq), charged, OBJECT_PAGES)?, Rights::ALL, None)
            }
            factory::CREATE_DATASPACE => {
                let size = self.mr(c, 1);
                if size == 0 || !size.is_multiple_of(4096) {
                    return Err(Error::InvalidArgument);
                }
                let contiguous = self.mr(c, 2) & factory::DS_CONTIGUOUS != 0;
                (self.create_ram_ds(charged, size / 4096, contiguous)?, Rights::ALL, None)
            }
            _ => return Err(Error::BadOpcode),
        };
        self.install_cap(c.task, slot, Cap { obj, rights })?;
        match out {
            Some(v) => self.reply_words(c, &[v]),
            None => self.done(),
        }
    }

    fn thread_arg(&self, c: &Call, slot: u64) -> Result<ObjId, Error> {
        let cap = self.arg_cap(c, slot)?;
        match self.objs.get(cap.obj) {
            Some(Object::Thread(t)) if t.is_alive() => Ok(cap.obj),
            Some(Object::Thread(_)) => Err(Error::PeerDied),
            _ => Err(Error::InvalidArgument),
        }
    }

    fn gate_op(&mut self, c: &Call) -> OpResult {
        need(&c.cap, Rights::SERVER)?;
        match self.mr(c, 0) {
            gate::BIND => {
                let thread = self.thread_arg(c, self.mr(c, 1))?;
                let label = self.mr(c, 2);
                let Some(Object::Gate(g)) = self.objs.get_mut(c.cap.obj) else { return Err(Error::DeadObject) };
                g.thread = Some(thread);
                g.label = label;
                self.done()
            }
            gate::UNBIND => {
                if let Some(Object::Gate(g)) = self.objs.get_mut(c.cap.obj) {
                    g.thread = None;
                }
                self.done()
            }
            gate::INFO => {
                let Some(Object::Gate(g)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
                let w = [g.label, g.thread.is_some() as u64];
                self.reply_words(c, &w)
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn irq_op(&mut self, c: &Call) -> OpResult {
        let id = c.cap.obj;
        match (c.tag.label(), self.mr(c, 0)) {
            (PROTO_IRQ_SENDER, irq::ATTACH) => {
                need(&c.cap, Rights::SERVER)?;
                let thread = self.thread_arg(c, self.mr(c, 1))?;
                let label = self.mr(c, 2);
                let i = self.objs.irq_mut(id).ok_or(Error::DeadObject)?;
                i.target = Some((thread, label));
                let pending = core::mem::take(&mut i.pending);
                if pending {
                    self.trigger_irq(id);
                }
                self.done()
            }
            (PROTO_IRQ_SENDER, irq::DETACH) => {
                need(&c.cap, Rights::SERVER)?;
                self.objs.irq_mut(id).ok_or(Error::DeadObject)?.target = None;
                self.done()
            }
            (PROTO_IRQ, irq::TRIGGER) => {
                need(&c.cap, Rights::WRITE)?;
                if self.objs.irq_mut(id).ok_or(Error::DeadObject)?.line.is_some() {
                    return Err(Error::Denied);
                }
                self.trigger_irq(id);
                self.done()
            }
            (PROTO_IRQ, irq::UNMASK) => {
                need(&c.cap, Rights::SERVER)?;
                self.ack_irq(id);
                self.done()
            }
            (PROTO_IRQ, irq::INFO) => {
                let i = self.objs.irq_mut(id).ok_or(Error::DeadObject)?;
                let w = [i.line.map_or(u64::MAX, |l| l as u64), i.pending as u64, i.target.is_some() as u64];
                self.reply_words(c, &w)
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn icu_op(&mut self, c: &Call) -> OpResult {
        match self.mr(c, 0) {
            icu::BIND => {
                need(&c.cap, Rights::WRITE)?;
                let line = self.mr(c, 1);
                // Line 0 is the kernel's timer, line 2 the cascade.
                if line >= crate::arch::pic::LINES as u64 || line == 0 || line == crate::arch::pic::CASCADE as u64 {
                    return Err(Error::InvalidArgument);
                }
                let irq = self.arg_cap(c, self.mr(c, 2))?;
                let i = self.objs.irq_mut(irq.obj).ok_or(Error::InvalidArgument)?;
                if i.line.is_some() {
                    return Err(Error::Busy);
                }
                self.bind_line(line as u8, irq.obj);
                self.done()
            }
            icu::INFO => self.reply_words(c, &[crate::arch::pic::LINES as u64]),
            _ => Err(Error::BadOpcode),
        }
    }

    fn io_ports_op(&mut self, c: &Call) -> OpResult {
        let Some(Object::IoPorts(p)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let (base, count) = (p.base as u64, p.count as u64);
        match self.mr(c, 0) {
            io_ports::RESTRICT => {
                need(&c.cap, Rights::DELEGATE)?;
                let (first, n) = (self.mr(c, 1), self.mr(c, 2));
                if n == 0 || first < base || first.saturating_add(n) > base + count {
                    self.report_current(Cause::ResourceDenied, first, n);
                    return Err(Error::Denied);
                }
                let slot = self.recv_slot(c)?;
                let ports = IoPorts { owner: Some(c.task), base: first as u16, count: n as u32 };
                let id = self.new_object(Object::IoPorts(ports), c.task, OBJECT_PAGES)?;
                self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights })?;
                self.done()
            }
            io_ports::INFO => self.reply_words(c, &[base, count]),
            _ => Err(Error::BadOpcode),
        }
    }

    fn iommu_op(&mut self, c: &Call) -> OpResult {
        match self.mr(c, 0) {
            iommu::INFO => {
                let levels = self.iommu.as_ref().map_or(0, |i| i.unit.levels as u64);
                self.reply_words(c, &[u64::from(self.iommu.is_some()), levels])
            }
            iommu::CREATE_DOMAIN => {
                need(&c.cap, Rights::WRITE)?;
                let slot = self.recv_slot(c)?;
                let id = self.create_domain(c.task, self.mr(c, 1))?;
                if let Err(e) = self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights }) {
                    self.destroy_domain(id);
                    return Err(e);
                }
                self.done()
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn dma_domain_op(&mut self, c: &Call) -> OpResult {
        let id = c.cap.obj;
        match self.mr(c, 0) {
            op @ (dma_domain::MAP | dma_domain::UNMAP) => {
                need(&c.cap, Rights::WRITE)?;
                let ds = self.arg_cap(c, self.mr(c, 1))?;
                if !matches!(self.objs.get(ds.obj), Some(Object::Dataspace(_))) {
                    return Err(Error::InvalidArgument);
                }
                if op == dma_domain::UNMAP {
                    self.domain_unmap(id, ds.obj)?;
                    return self.done();
                }
                need(&ds, Rights::READ | Rights::WRITE)?;
                let iova = self.domain_map(id, ds.obj, c.task)?;
                self.reply_words(c, &[iova])
            }
            dma_domain::DESTROY => {
                need(&c.cap, Rights::SERVER)?;
                self.destroy_domain(id);
                self.done()
            }
            dma_domain::INFO => {
                let Some(Object::DmaDomain(d)) = self.objs.get(id) else { return Err(Error::DeadObject) };
                let pages = d.maps.iter().map(|m| m.pages).sum();
                let source = d.source as u64;
                self.reply_words(c, &[source, pages])
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn io_mem_op(&mut self, c: &Call) -> OpResult {
        let Some(Object::IoMem(m)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let (base, size) = (m.base, m.size);
        let (addr, len) = (self.mr(c, 1), self.mr(c, 2));
        let inside = len > 0 && addr >= base && addr.checked_add(len).is_some_and(|e| e <= base + size);
        match self.mr(c, 0) {
            op @ (io_mem::RESTRICT | io_mem::CREATE_DATASPACE) => {
                if addr % 4096 != 0 || len % 4096 != 0 {
                    return Err(Error::InvalidArgument);
                }
                if !inside || self.is_ram(addr, addr + len) || self.is_iommu_regs(addr, len) {
                    self.stats.resources_denied += 1;
                    if crate::kernel::worth_logging(self.stats.resources_denied) {
                        let (name, _) = self.current_place();
                        crate::kwarn!(
                            "denied: {} asked for device memory {:#x}+{:#x} outside its grant",
                            name,
                            addr,
                            len
                        );
                    }
                    self.report_current(Cause::MmioDenied, addr, len);
                    return Err(Error::Denied);
                }
                let slot = self.recv_slot(c)?;
                let id = if op == io_mem::RESTRICT {
                    need(&c.cap, Rights::DELEGATE)?;
                    self.new_object(
                        Object::IoMem(IoMem { owner: Some(c.task), base: addr, size: len }),
                        c.task,
                        OBJECT_PAGES,
                    )?
                } else {
                    let ds = Dataspace {
                        memory: Memory::Device { phys: addr },
                        pages: len / 4096,
                        refs: 0,
                        charged_to: None,
                    };
                    self.new_object(Object::Dataspace(Box::new(ds)), c.task, OBJECT_PAGES)?
                };
                // No more rights than the capability it came from: a driver
                // whose device memory cannot be passed on cannot pass on a
                // dataspace over it either.
                self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights })?;
                self.done()
            }
            io_mem::INFO => self.reply_words(c, &[base, size]),
            _ => Err(Error::BadOpcode),
        }
    }

    fn dataspace_op(&mut self, c: &Call) -> OpResult {
        let Some(Object::Dataspace(d)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        match self.mr(c, 0) {
            dataspace::INFO => {
                let flags = if matches!(d.memory, Memory::Contiguous { .. }) { factory::DS_CONTIGUOUS } else { 0 };
                let w = [d.pages * 4096, flags, d.phys_base().unwrap_or(0)];
                self.reply_words(c, &w)
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn log_op(&mut self, c: &Call) -> OpResult {
        match self.mr(c, 0) {
            proto::log::WRITE => {
                let level = crate::log::Level::from_raw(self.mr(c, 1));
                let mut buf = [0u8; 8 * 61];
                let n = self.mr_bytes(c, 3, self.mr(c, 2) as usize, &mut buf);
                // One line per message, no control characters: a task cannot
                // forge a line that looks like someone else's (or the kernel's).
                let n = buf[..n].iter().rposition(|&b| b != b'\n').map_or(0, |i| i + 1);
                for b in &mut buf[..n] {
                    if *b < 0x20 || *b == 0x7f {
                        *b = b' ';
                    }
                }
                let text = core::str::from_utf8(&buf[..n]).unwrap_or("<invalid utf-8>");
                let name = self.objs.task(c.task).map_or("?", |t| t.name());
                crate::log::line(level, name, format_args!("{}", text));
                self.done()
            }
            _ => Err(Error::BadOpcode),
        }
    }

    fn kernel_info_op(&mut self, c: &Call) -> OpResult {
        match self.mr(c, 0) {
            kernel::STATS => {
                let tasks = self.objs.ids_where(|o| matches!(o, Object::Task(_))).len() as u64;
                let threads = self.objs.ids_where(|o| matches!(o, Object::Thread(_))).len() as u64;
                let w = [
                    self.frames.free_count(),
                    self.frames.total_count(),
                    self.stats.ipc_denied,
                    self.ticks,
                    tasks,
                    threads,
                    crate::mem::heap::used() as u64,
                ];
                self.reply_words(c, &w)
            }
            kernel::SHUTDOWN => {
                need(&c.cap, Rights::WRITE)?;
                let status = self.mr(c, 1);
                crate::kinfo!("shutdown requested with status {}", status);
                crate::arch::exit_qemu(if status == 0 { crate::arch::EXIT_SUCCESS } else { crate::arch::EXIT_FAILURE });
            }
            kernel::IRQ_ENTRY_TSC => {
                let line = self.mr(c, 1) as usize;
                let tsc = self.lines.get(line).ok_or(Error::InvalidArgument)?.entry_tsc;
                self.reply_words(c, &[tsc])
            }
            kernel::TASK_INFO => {
                let n = self.mr(c, 1) as usize;
                let ids = self.objs.ids_where(|o| matches!(o, Object::Task(_)));
                let Some(t) = ids.get(n).and_then(|&id| self.objs.task(id)) else {
                    return self.reply_words(c, &[u64::MAX]);
                };
                let mut w = [0u64; 14];
                w[0] = t.state as u64;
                w[1] = t.events_total;
                w[2] = t.used_pages;
                w[3] = t.quota_pages;
                w[4] = t.live_threads().filter(|&x| self.objs.thread(x).is_some_and(|th| th.is_alive())).count() as u64;
                if let Some(r) = t.last_event {
                    w[5] = 1;
                    w[6] = r.event.cause as u64;
                    w[7] = r.event.ip;
                    w[8] = r.event.addr;
                }
                let name = &t.name[..t.name_len.min(32)];
                w[9] = name.len() as u64;
                for (i, b) in name.iter().enumerate() {
                    w[10 + i / 8] |= (*b as u64) << ((i % 8) * 8);
                }
                self.reply_words(c, &w)
            }
            kernel::SET_LOG_LEVEL => {
                need(&c.cap, Rights::WRITE)?;
                crate::log::set_level(crate::log::Level::from_raw(self.mr(c, 1)));
                self.done()
            }
            _ => Err(Error::BadOpcode),
        }
    }
}

// Keep the task state encoding in sync with the ABI.
const _: () = assert!(TaskState::Running as u64 == 0 && TaskState::Stopped as u64 == 1);

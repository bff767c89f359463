//! Operations of the kernel objects: what a message to a task, thread, factory,
//! gate, IRQ, ICU, I/O range, dataspace, log or kernel capability does.
//!
//! Each operation's message is decoded once, by `syscall::Op::decode` (the
//! generated decoder of its protocol, `l4_sys::proto`, which checks the
//! operation, the word count and every field's type), and `Op::check` refuses
//! it if the capability used lacks the rights it needs or an argument is wrong
//! whatever the state. The operation here then validates what depends on the
//! kernel's state (argument capabilities and their rights, ranges against
//! grants), acts, and answers in the message registers, replies of several
//! words through their declared types. A new capability goes to the slot
//! named by the caller's buffer register 0, which is checked before anything is
//! created, so a failed call leaves nothing behind.

use crate::kernel::Kernel;
use crate::lifecycle::{Access, OBJECT_PAGES, TaskLimits};
use crate::obj::{Gate, IoMem, IoPorts, Irq, ObjId, Object};
use crate::space::{Dataspace, Memory};
use crate::syscall::Op;
use crate::task::Cap;
use crate::thread::State;
use alloc::boxed::Box;
use l4_sys::event::{Cause, Event, TaskState};
use l4_sys::message::{Bytes, pack};
use l4_sys::proto::{self, *};
use l4_sys::utcb::{BR_RECV_CAP, MR_COUNT};
use l4_sys::{CapIdx, Error, MsgTag, Rights};

type OpResult = Result<(MsgTag, u64), Error>;

/// The caller's view during one operation.
struct Call {
    thread: ObjId,
    task: ObjId,
    cap: Cap,
}

fn need(cap: &Cap, rights: Rights) -> Result<(), Error> {
    if cap.rights.contains(rights) { Ok(()) } else { Err(Error::Denied) }
}

impl Kernel {
    pub fn kernel_op(&mut self, thread: ObjId, cap: Cap, tag: MsgTag) -> OpResult {
        let t = self.objs.thread(thread).ok_or(Error::DeadObject)?;
        let task = t.task;
        // The words the tag says were sent, copied out once: each protocol's
        // generated decoder (`l4_sys::proto`) checks them before anything acts.
        let n = tag.words().min(MR_COUNT);
        let mut mr = [0u64; MR_COUNT];
        mr[..n].copy_from_slice(&t.utcb().mr[..n]);
        let words = &mr[..n];
        let c = Call { thread, task, cap };
        let kind = self.objs.get(cap.obj).ok_or(Error::DeadObject)?.kind();
        let op = Op::decode(kind, tag.label(), words)?;
        op.check(cap.rights)?;
        match op {
            Op::Task(req) => self.task_op(&c, req),
            Op::Thread(req) => self.thread_op(&c, req),
            Op::Factory(req) => self.factory_op(&c, req),
            Op::Gate(req) => self.gate_op(&c, req),
            Op::Irq(req) => self.irq_op(&c, req),
            Op::Icu(req) => self.icu_op(&c, req),
            Op::IoPorts(req) => self.io_ports_op(&c, req),
            Op::IoMem(req) => self.io_mem_op(&c, req),
            Op::Dataspace(req) => self.dataspace_op(&c, req),
            Op::Log => self.log_op(&c, proto::log::Request::decode(words)?),
            Op::Kernel(req) => self.kernel_info_op(&c, req),
            Op::Iommu(req) => self.iommu_op(&c, req),
            Op::DmaDomain(req) => self.dma_domain_op(&c, req),
        }
    }

    /// Answers with a reply the protocol declares.
    fn reply_with(&mut self, c: &Call, encode: impl FnOnce(&mut [u64]) -> Result<usize, Error>) -> OpResult {
        let t = self.objs.thread_mut(c.thread).ok_or(Error::DeadObject)?;
        let n = encode(&mut t.utcb_mut().mr)?;
        Ok((MsgTag::new(0, n, 0), 0))
    }

    fn reply_words(&mut self, c: &Call, words: &[u64]) -> OpResult {
        self.reply_with(c, |mr| {
            mr[..words.len()].copy_from_slice(words);
            Ok(words.len())
        })
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
    fn arg_cap(&self, c: &Call, slot: CapIdx) -> Result<Cap, Error> {
        let cap = self.objs.task(c.task).and_then(|t| t.caps.get(slot)).ok_or(Error::NoCapability)?;
        self.objs.get(cap.obj).ok_or(Error::DeadObject)?;
        Ok(cap)
    }

    fn task_op(&mut self, c: &Call, req: task::Request) -> OpResult {
        use task::Request as R;
        let target = c.cap.obj;
        match req {
            R::Map { ds, offset, addr, size, access } => {
                let ds = self.arg_cap(c, ds)?;
                if !matches!(self.objs.get(ds.obj), Some(Object::Dataspace(_))) {
                    return Err(Error::InvalidArgument);
                }
                need(&ds, Rights::READ)?;
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
            R::Unmap { addr, size } => {
                self.unmap_range(target, addr, size)?;
                self.done()
            }
            R::CapCopy { src, dst, mask } => {
                self.copy_cap(c.task, src, target, dst, mask)?;
                self.done()
            }
            R::CapDelete { slot } => {
                self.delete_cap(target, slot)?;
                self.done()
            }
            R::Info {} | R::NextEvent {} => {
                let t = self.objs.task_mut(target).ok_or(Error::DeadObject)?;
                let record = if matches!(req, R::Info {}) { t.last_event } else { t.events.pop_front() };
                let [cause, ip, addr, code, thread] = record.map_or([0; 5], |r| r.event.to_words());
                let reply = task::InfoReply {
                    state: t.state as u64,
                    has_event: record.is_some(),
                    cause,
                    ip,
                    addr,
                    code,
                    thread,
                    events_total: t.events_total,
                    reason: Bytes::new(record.as_ref().map_or(&[][..], |r| &r.reason[..r.reason_len]))?,
                };
                self.reply_with(c, |mr| reply.encode(mr))
            }
            R::Kill {} => {
                let ip = self.objs.thread(c.thread).map_or(0, |t| t.frame.rip);
                self.report(target, Event { cause: Cause::Killed, ip, addr: 0, code: 0, thread: 0 }, b"killed");
                self.done()
            }
            R::Exit { code, reason } => {
                if target != c.task {
                    return Err(Error::Denied);
                }
                let (ip, index) = self.objs.thread(c.thread).map_or((0, 0), |t| (t.frame.rip, t.index as u64));
                let event = Event { cause: Cause::Exit, ip, addr: 0, code, thread: index };
                self.report(target, event, reason.as_bytes());
                if self.objs.task(target).is_some_and(|t| t.event_irq.is_none()) {
                    let name = self.objs.task(target).map(|t| t.name()).unwrap_or("?");
                    crate::kinfo!("{} exited with status {} and nobody to tell", name, code);
                }
                self.done()
            }
            R::GrantIo { ports, iopl } => {
                let io = self.arg_cap(c, ports)?;
                // Using ports is WRITE; DELEGATE is for passing them on, which
                // a driver given its device's ports must not be able to do.
                need(&io, Rights::WRITE)?;
                let Some(Object::IoPorts(p)) = self.objs.get(io.obj) else { return Err(Error::InvalidArgument) };
                let (base, count) = (p.base, p.count);
                if iopl {
                    if base != 0 || count != 65536 {
                        return Err(Error::Denied);
                    }
                    self.grant_iopl(target)?;
                } else {
                    self.grant_ports(target, base, count)?;
                }
                self.done()
            }
            R::Destroy {} => {
                if target == c.task {
                    return Err(Error::InvalidArgument);
                }
                self.destroy_task(target);
                self.done()
            }
            R::Factory {} => {
                let slot = self.recv_slot(c)?;
                let f = self.objs.task(target).and_then(|t| t.factory).ok_or(Error::DeadObject)?;
                self.install_cap(c.task, slot, Cap { obj: f, rights: Rights::ALL })?;
                self.done()
            }
            R::Poke { addr, bytes } => {
                let old = self.poke_text(target, addr, bytes.as_bytes())?;
                let mut w = [0u64; task::POKE_MAX / 8];
                let n = pack(&old[..bytes.len()], &mut w);
                self.reply_words(c, &w[..n])
            }
            R::VirtToPhys { addr } => {
                let t = self.objs.task(target).ok_or(Error::DeadObject)?;
                let (phys, _) = crate::mem::paging::translate(t.space.pml4, addr).ok_or(Error::BadAddress)?;
                self.reply_words(c, &[phys])
            }
        }
    }

    fn thread_op(&mut self, c: &Call, req: thread::Request) -> OpResult {
        use thread::Request as R;
        let target = c.cap.obj;
        let own = self.objs.thread(target).is_some_and(|t| t.task == c.task);
        match req {
            R::Start { ip, sp, priority, arg } => {
                self.start_thread(target, ip, sp, priority, arg)?;
                self.done()
            }
            R::Yield {} => {
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
            R::Exit {} => {
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
            R::SetPriority { priority } => {
                let max = self
                    .objs
                    .task(self.objs.thread(target).ok_or(Error::DeadObject)?.task)
                    .map_or(0, |t| t.max_priority);
                let prio = priority.min(max);
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
            R::Info {} => {
                let t = self.objs.thread(target).ok_or(Error::DeadObject)?;
                let state = match t.state {
                    State::Inactive => 0,
                    State::Ready => 1,
                    State::Sending { .. } => 2,
                    State::Receiving { .. } => 3,
                    State::Dead => 4,
                };
                let reply = thread::InfoReply { index: t.index as u64, state, priority: t.priority };
                self.reply_with(c, |mr| reply.encode(mr))
            }
        }
    }

    fn factory_op(&mut self, c: &Call, req: factory::Request) -> OpResult {
        use factory::Request as R;
        let Some(Object::Factory(f)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let charged = f.task;
        let slot = self.recv_slot(c)?;
        let (obj, rights, out) = match req {
            R::CreateTask { fault_irq, quota_pages, max_priority, max_threads, flags, name } => {
                let event_irq = match fault_irq {
                    None => None,
                    Some(irq_slot) => {
                        let cap = self.arg_cap(c, irq_slot)?;
                        match self.objs.get(cap.obj) {
                            Some(Object::Irq(_)) => Some(cap.obj),
                            _ => return Err(Error::InvalidArgument),
                        }
                    }
                };
                // The payer reserves the child's quota: at most what it has left.
                let parent = self.objs.task(charged).ok_or(Error::DeadObject)?;
                let left = parent.quota_pages.saturating_sub(parent.used_pages + crate::lifecycle::TASK_PAGES);
                // Debugging is passed down only by a creator that may debug.
                let may_debug = self.objs.task(c.task).is_some_and(|t| t.may_debug);
                let limits = TaskLimits {
                    quota_pages: quota_pages.min(left),
                    max_priority: max_priority.min(parent.max_priority),
                    max_threads: max_threads.min(l4_sys::layout::MAX_THREADS as u32),
                    may_debug: may_debug && flags & factory::TASK_MAY_DEBUG != 0,
                };
                let name = name.as_str().unwrap_or("?");
                let log = self.log.expect("log object exists after boot");
                let id = self.create_task(Some(c.task), Some(charged), name, event_irq, limits, log)?;
                (id, if may_debug { Rights::ALL } else { Rights::ALL - Rights::DEBUG }, None)
            }
            R::CreateThread { task } => {
                let task = self.arg_cap(c, task)?;
                need(&task, Rights::WRITE)?;
                if !matches!(self.objs.get(task.obj), Some(Object::Task(_))) {
                    return Err(Error::InvalidArgument);
                }
                let (id, index) = self.create_thread(task.obj, charged)?;
                (id, Rights::ALL, Some(index as u64))
            }
            R::CreateGate { thread, label } => {
                let thread = match thread {
                    None => None,
                    Some(slot) => Some(self.thread_arg(c, slot)?),
                };
                let gate = Gate { owner: c.task, thread, label };
                let id = self.new_object(Object::Gate(gate), charged, OBJECT_PAGES)?;
                (id, Rights::ALL, None)
            }
            R::CreateIrq {} => {
                let irq =
                    Irq { owner: c.task, target: None, pending: false, line: None, msi: None, awaiting_ack: false };
                (self.new_object(Object::Irq(irq), charged, OBJECT_PAGES)?, Rights::ALL, None)
            }
            R::CreateDataspace { size, flags } => {
                let contiguous = flags & factory::DS_CONTIGUOUS != 0;
                (self.create_ram_ds(charged, size / 4096, contiguous)?, Rights::ALL, None)
            }
        };
        self.install_cap(c.task, slot, Cap { obj, rights })?;
        match out {
            Some(v) => self.reply_words(c, &[v]),
            None => self.done(),
        }
    }

    fn thread_arg(&self, c: &Call, slot: CapIdx) -> Result<ObjId, Error> {
        let cap = self.arg_cap(c, slot)?;
        match self.objs.get(cap.obj) {
            Some(Object::Thread(t)) if t.is_alive() => Ok(cap.obj),
            Some(Object::Thread(_)) => Err(Error::PeerDied),
            _ => Err(Error::InvalidArgument),
        }
    }

    fn gate_op(&mut self, c: &Call, req: gate::Request) -> OpResult {
        use gate::Request as R;
        match req {
            R::Bind { thread, label } => {
                let thread = self.thread_arg(c, thread)?;
                let Some(Object::Gate(g)) = self.objs.get_mut(c.cap.obj) else { return Err(Error::DeadObject) };
                g.thread = Some(thread);
                g.label = label;
                self.done()
            }
            R::Unbind {} => {
                if let Some(Object::Gate(g)) = self.objs.get_mut(c.cap.obj) {
                    g.thread = None;
                }
                self.done()
            }
            R::Info {} => {
                let Some(Object::Gate(g)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
                let reply = gate::InfoReply { label: g.label, bound: g.thread.is_some() };
                self.reply_with(c, |mr| reply.encode(mr))
            }
        }
    }

    fn irq_op(&mut self, c: &Call, req: irq::Request) -> OpResult {
        use irq::Request as R;
        let id = c.cap.obj;
        match req {
            R::Attach { thread, label } => {
                let thread = self.thread_arg(c, thread)?;
                let i = self.objs.irq_mut(id).ok_or(Error::DeadObject)?;
                i.target = Some((thread, label));
                let pending = core::mem::take(&mut i.pending);
                if pending {
                    self.trigger_irq(id);
                }
                self.done()
            }
            R::Detach {} => {
                self.objs.irq_mut(id).ok_or(Error::DeadObject)?.target = None;
                self.done()
            }
            R::Trigger {} => {
                let i = self.objs.irq_mut(id).ok_or(Error::DeadObject)?;
                if i.line.is_some() || i.msi.is_some() {
                    return Err(Error::Denied);
                }
                self.trigger_irq(id);
                self.done()
            }
            R::Unmask {} => {
                self.ack_irq(id);
                self.done()
            }
            R::Info {} => {
                let i = self.objs.irq_mut(id).ok_or(Error::DeadObject)?;
                let reply = irq::InfoReply {
                    line: match (i.line, i.msi) {
                        (Some(l), _) => l as u64,
                        (None, Some(n)) => irq::MSI_LINES + n as u64,
                        (None, None) => u64::MAX,
                    },
                    pending: i.pending,
                    attached: i.target.is_some(),
                };
                self.reply_with(c, |mr| reply.encode(mr))
            }
        }
    }

    fn icu_op(&mut self, c: &Call, req: icu::Request) -> OpResult {
        match req {
            icu::Request::Bind { line, irq } => {
                let irq = self.arg_cap(c, irq)?;
                let i = self.objs.irq_mut(irq.obj).ok_or(Error::InvalidArgument)?;
                if i.line.is_some() || i.msi.is_some() {
                    return Err(Error::Busy);
                }
                self.bind_line(line as u8, irq.obj);
                self.done()
            }
            icu::Request::Info {} => self.reply_words(c, &[crate::arch::pic::LINES as u64]),
            icu::Request::BindMsi { source, irq } => {
                let irq = self.arg_cap(c, irq)?;
                // Checked at decode: 16 bits.
                let (address, data) = self.bind_msi(source as u16, irq.obj)?;
                self.reply_words(c, &[address, data as u64])
            }
        }
    }

    fn io_ports_op(&mut self, c: &Call, req: io_ports::Request) -> OpResult {
        let Some(Object::IoPorts(p)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let (base, count) = (p.base as u64, p.count as u64);
        match req {
            io_ports::Request::Restrict { first, count: n } => {
                let (first_port, ports) = (first as u64, n as u64);
                if ports == 0 || first_port < base || first_port + ports > base + count {
                    self.report_current(Cause::ResourceDenied, first_port, ports);
                    return Err(Error::Denied);
                }
                let slot = self.recv_slot(c)?;
                let ports = IoPorts { owner: Some(c.task), base: first, count: n };
                let id = self.new_object(Object::IoPorts(ports), c.task, OBJECT_PAGES)?;
                self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights })?;
                self.done()
            }
            io_ports::Request::Info {} => self.reply_words(c, &[base, count]),
        }
    }

    fn iommu_op(&mut self, c: &Call, req: iommu::Request) -> OpResult {
        match req {
            iommu::Request::Info {} => {
                let levels = self.iommu.as_ref().map_or(0, |i| i.unit.levels as u64);
                self.reply_words(c, &[u64::from(self.iommu.is_some()), levels])
            }
            iommu::Request::CreateDomain { source } => {
                let slot = self.recv_slot(c)?;
                let id = self.create_domain(c.task, source)?;
                if let Err(e) = self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights }) {
                    self.destroy_domain(id);
                    return Err(e);
                }
                self.done()
            }
        }
    }

    fn dma_domain_op(&mut self, c: &Call, req: dma_domain::Request) -> OpResult {
        use dma_domain::Request as R;
        let id = c.cap.obj;
        match req {
            R::Map { ds } | R::Unmap { ds } => {
                let ds = self.arg_cap(c, ds)?;
                if !matches!(self.objs.get(ds.obj), Some(Object::Dataspace(_))) {
                    return Err(Error::InvalidArgument);
                }
                if matches!(req, R::Unmap { .. }) {
                    self.domain_unmap(id, ds.obj)?;
                    return self.done();
                }
                need(&ds, Rights::READ | Rights::WRITE)?;
                let iova = self.domain_map(id, ds.obj, c.task)?;
                self.reply_words(c, &[iova])
            }
            R::Destroy {} => {
                self.destroy_domain(id);
                self.done()
            }
            R::Info {} => {
                let Some(Object::DmaDomain(d)) = self.objs.get(id) else { return Err(Error::DeadObject) };
                let pages = d.maps.iter().map(|m| m.pages).sum();
                let source = d.source as u64;
                self.reply_words(c, &[source, pages])
            }
        }
    }

    fn io_mem_op(&mut self, c: &Call, req: io_mem::Request) -> OpResult {
        let Some(Object::IoMem(m)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        let (base, size) = (m.base, m.size);
        let (addr, len, restrict) = match req {
            io_mem::Request::Info {} => return self.reply_words(c, &[base, size]),
            io_mem::Request::Restrict { phys, size } => (phys, size, true),
            io_mem::Request::CreateDataspace { phys, size } => (phys, size, false),
        };
        let inside = len > 0 && addr >= base && addr.checked_add(len).is_some_and(|e| e <= base + size);
        if !inside || self.is_ram(addr, addr + len) || self.is_iommu_regs(addr, len) || self.is_apic_regs(addr, len) {
            self.stats.resources_denied += 1;
            if crate::kernel::worth_logging(self.stats.resources_denied) {
                let (name, _) = self.current_place();
                crate::kwarn!("denied: {} asked for device memory {:#x}+{:#x} outside its grant", name, addr, len);
            }
            self.report_current(Cause::MmioDenied, addr, len);
            return Err(Error::Denied);
        }
        let slot = self.recv_slot(c)?;
        let id = if restrict {
            self.new_object(Object::IoMem(IoMem { owner: Some(c.task), base: addr, size: len }), c.task, OBJECT_PAGES)?
        } else {
            let ds = Dataspace { memory: Memory::Device { phys: addr }, pages: len / 4096, refs: 0, charged_to: None };
            self.new_object(Object::Dataspace(Box::new(ds)), c.task, OBJECT_PAGES)?
        };
        // No more rights than the capability it came from: a driver whose
        // device memory cannot be passed on cannot pass on a dataspace over
        // it either.
        self.install_cap(c.task, slot, Cap { obj: id, rights: c.cap.rights })?;
        self.done()
    }

    fn dataspace_op(&mut self, c: &Call, req: dataspace::Request) -> OpResult {
        let Some(Object::Dataspace(d)) = self.objs.get(c.cap.obj) else { return Err(Error::DeadObject) };
        match req {
            dataspace::Request::Info {} => {
                let flags = if matches!(d.memory, Memory::Contiguous { .. }) { factory::DS_CONTIGUOUS } else { 0 };
                let reply = dataspace::InfoReply { size: d.pages * 4096, flags, phys: d.phys_base().unwrap_or(0) };
                self.reply_with(c, |mr| reply.encode(mr))
            }
        }
    }

    fn log_op(&mut self, c: &Call, req: proto::log::Request) -> OpResult {
        let proto::log::Request::Write { level, text } = req;
        let level = crate::log::Level::from_raw(level);
        let mut buf = [0u8; proto::log::LINE_MAX];
        let n = text.len();
        buf[..n].copy_from_slice(text.as_bytes());
        // One line per message, no control characters: a task cannot forge a
        // line that looks like someone else's (or the kernel's).
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

    fn kernel_info_op(&mut self, c: &Call, req: kernel::Request) -> OpResult {
        use kernel::Request as R;
        match req {
            R::Stats {} => {
                let reply = kernel::StatsReply {
                    free_frames: self.frames.free_count(),
                    total_frames: self.frames.total_count(),
                    ipc_denied: self.stats.ipc_denied,
                    ticks: self.ticks,
                    tasks: self.objs.ids_where(|o| matches!(o, Object::Task(_))).len() as u64,
                    threads: self.objs.ids_where(|o| matches!(o, Object::Thread(_))).len() as u64,
                    heap_bytes: crate::mem::heap::used() as u64,
                };
                self.reply_with(c, |mr| reply.encode(mr))
            }
            R::Shutdown { status } => {
                crate::kinfo!("shutdown requested with status {}", status);
                crate::arch::exit_qemu(if status == 0 { crate::arch::EXIT_SUCCESS } else { crate::arch::EXIT_FAILURE });
            }
            R::IrqEntryTsc { line } => {
                let line = usize::try_from(line).map_err(|_| Error::InvalidArgument)?;
                let tsc = self.lines.get(line).ok_or(Error::InvalidArgument)?.entry_tsc;
                self.reply_words(c, &[tsc])
            }
            R::TaskInfo { n } => {
                let ids = self.objs.ids_where(|o| matches!(o, Object::Task(_)));
                let Some(t) = usize::try_from(n).ok().and_then(|n| ids.get(n)).and_then(|&id| self.objs.task(id))
                else {
                    return self.reply_words(c, &[u64::MAX]);
                };
                let event = t.last_event.map(|r| r.event);
                let reply = kernel::TaskInfoReply {
                    state: t.state as u64,
                    events_total: t.events_total,
                    used_pages: t.used_pages,
                    quota_pages: t.quota_pages,
                    threads: t.live_threads().filter(|&x| self.objs.thread(x).is_some_and(|th| th.is_alive())).count()
                        as u64,
                    has_event: event.is_some(),
                    cause: event.map_or(0, |e| e.cause as u64),
                    ip: event.map_or(0, |e| e.ip),
                    addr: event.map_or(0, |e| e.addr),
                    name: Bytes::new(&t.name[..t.name_len.min(factory::NAME_MAX)])?,
                };
                self.reply_with(c, |mr| reply.encode(mr))
            }
            R::SetLogLevel { level } => {
                crate::log::set_level(crate::log::Level::from_raw(level));
                self.done()
            }
        }
    }
}

// Keep the task state encoding in sync with the ABI.
const _: () = assert!(TaskState::Running as u64 == 0 && TaskState::Stopped as u64 == 1);

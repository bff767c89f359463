//! Object protocols: the label a message to a kernel object carries, and the
//! operation numbers in `mr[0]`.
//!
//! For each operation: **in** lists the message registers after `mr[0]`, **out** the
//! message registers of the answer, **cap** whether a new capability lands in the
//! slot named by buffer register 0. A call to a kernel object is `SEND` (add
//! `RECV` to wait for nothing: kernel operations complete in the call); results are
//! in the UTCB when `invoke` returns.
//!
//! Labels are Fiasco.OC's where Fiasco has the object; Resurgo's own objects use
//! labels below `-0x100`.

pub const PROTO_IRQ: i64 = -1;
pub const PROTO_KOBJECT: i64 = -10;
pub const PROTO_TASK: i64 = -11;
pub const PROTO_THREAD: i64 = -12;
pub const PROTO_LOG: i64 = -13;
pub const PROTO_FACTORY: i64 = -15;
pub const PROTO_IRQ_SENDER: i64 = -18;
pub const PROTO_DATASPACE: i64 = -0x101;
pub const PROTO_ICU: i64 = -0x102;
pub const PROTO_IO_PORTS: i64 = -0x103;
pub const PROTO_IO_MEM: i64 = -0x104;
pub const PROTO_KERNEL: i64 = -0x105;
pub const PROTO_IOMMU: i64 = -0x106;
pub const PROTO_DMA_DOMAIN: i64 = -0x107;

/// Operations on a task (label [`PROTO_TASK`]).
pub mod task {
    /// Map part of a dataspace into the task.
    /// in: `[ds slot, ds offset, address, size, access]`, `access` the bits of
    /// [`MapAccess`] (not [`crate::Rights`]: a mapping's access is Fiasco's
    /// flexpage rights). Needs WRITE on the task and READ on the dataspace,
    /// and WRITE on it for a writable mapping. Errors: `BadAddress`
    /// (unaligned, outside the user half), `InUse` (overlaps a mapping),
    /// `InvalidArgument` (beyond the dataspace, or `access` with a bit
    /// [`MapAccess`] does not define).
    pub const MAP: u64 = 0;

    bitflags::bitflags! {
        /// The access a [`MAP`] gives, as Fiasco.OC's flexpage rights. Every
        /// mapping can be read; READ says so explicitly and may be left out.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct MapAccess: u64 {
            const EXECUTE = 1;
            const WRITE = 2;
            const READ = 4;
        }
    }
    /// Remove mappings. in: `[address, size]`.
    pub const UNMAP: u64 = 1;
    /// Copy a capability from the caller's table into the task's.
    /// in: `[source slot in caller, destination slot in task, rights mask]`. The
    /// source needs DELEGATE. Errors: `InUse` if the destination slot is taken.
    pub const CAP_COPY: u64 = 2;
    /// Empty a slot of the task. in: `[slot]`.
    pub const CAP_DELETE: u64 = 3;
    /// Read the task's state and last event.
    /// out: `[state, has_event, cause, ip, addr, code, thread, events_total,
    /// reason_len, reason bytes...]` (see [`crate::event`]).
    pub const INFO: u64 = 4;
    /// Stop the task: its threads stop for good, its memory stays until destroyed;
    /// its creator is notified with cause `Killed`.
    pub const KILL: u64 = 5;
    /// End the calling task. in: `[code, reason_len, reason bytes...]`. Only on
    /// the caller's own task.
    pub const EXIT: u64 = 6;
    /// Give the task the ports of an I/O-port capability (which needs WRITE;
    /// passing the capability on would need DELEGATE).
    /// in: `[io ports slot, iopl]`; `iopl = 1` instead raises the task's I/O
    /// privilege level to 3 (all ports), which needs the full-range capability.
    pub const GRANT_IO: u64 = 7;
    /// Destroy the task: free its memory, threads, capabilities and the objects it
    /// created; the task capability becomes dead. Works on running tasks too.
    pub const DESTROY: u64 = 8;
    /// Map the task's factory into the caller's slot (cap).
    pub const FACTORY: u64 = 9;
    /// Physical address of a mapped page of the task, for DMA.
    /// in: `[address]`; out: `[physical address]`.
    pub const VIRT_TO_PHYS: u64 = 10;
    /// Take the oldest event not yet taken (the kernel keeps the last
    /// [`crate::event::QUEUE_LEN`]). out: as [`INFO`], with `has_event = 0` when
    /// none is left.
    pub const NEXT_EVENT: u64 = 11;
    /// Patch the task's code, for fault injection and debugging: write bytes
    /// and get back the ones they replaced. in: `[address, len, bytes...]` with
    /// `1 <= len <=` [`POKE_MAX`]; out: `[old bytes...]`. Needs DEBUG on the
    /// task. Only the task's own text can be written: every byte must lie in a
    /// page it maps executable, of RAM its own quota pays for and nobody else
    /// maps (so a patch can never reach another task, shared memory, a device
    /// or the boot archive). Errors: `Denied` (no DEBUG, or not such a page),
    /// `BadAddress` (not mapped, or outside the user half), `InvalidArgument`
    /// (`len` out of range).
    pub const POKE: u64 = 12;
    /// The most bytes one [`POKE`] writes: two x86 instructions' worth.
    pub const POKE_MAX: usize = 32;

    use crate::event::REASON_BYTES;
    use crate::{CapIdx, Rights};

    crate::requests! {
        /// A task operation, as the constants above describe it.
        pub enum Request {
            Map(MAP) { ds: CapIdx, offset: u64, addr: u64, size: u64, access: MapAccess },
            Unmap(UNMAP) { addr: u64, size: u64 },
            CapCopy(CAP_COPY) { src: CapIdx, dst: CapIdx, mask: Rights },
            CapDelete(CAP_DELETE) { slot: CapIdx },
            Info(INFO),
            Kill(KILL),
            Exit(EXIT) { code: u64 } bytes reason[REASON_BYTES],
            GrantIo(GRANT_IO) { ports: CapIdx, iopl: bool },
            Destroy(DESTROY),
            Factory(FACTORY),
            VirtToPhys(VIRT_TO_PHYS) { addr: u64 },
            NextEvent(NEXT_EVENT),
            Poke(POKE) { addr: u64 } bytes bytes[POKE_MAX],
        }
    }

    crate::reply! {
        /// What [`INFO`] and [`NEXT_EVENT`] answer: the task's state (0
        /// running, 1 stopped), the event if there is one (its five words,
        /// as [`crate::event::Event::to_words`]), the events so far and the
        /// event's reason.
        pub struct InfoReply {
            state: u64,
            has_event: bool,
            cause: u64,
            ip: u64,
            addr: u64,
            code: u64,
            thread: u64,
            events_total: u64,
        } bytes reason[REASON_BYTES]
    }
}

/// Operations on a thread (label [`PROTO_THREAD`]).
pub mod thread {
    /// The priority tasks run at unless their manifest says otherwise.
    pub const DEFAULT_PRIORITY: u8 = 100;
    /// Timer ticks (ms) a thread above [`DEFAULT_PRIORITY`] may run without
    /// waiting for anything; past that it runs at [`DEFAULT_PRIORITY`] until it
    /// next waits (receives, or sends to a partner not ready), so that no
    /// thread can starve the default-priority tasks for good.
    pub const RUNAWAY_TICKS: u32 = 200;
    /// Timer ticks (ms) a thread that was above [`DEFAULT_PRIORITY`] may run
    /// without waiting before its task's creator is told (a `Runaway` event:
    /// for a driver, a hang). Longer than [`RUNAWAY_TICKS`]: Linux drivers
    /// busy-wait in probe (EEPROM reads, resets with `mdelay`), which under
    /// emulation can take far more than 200 ms, and only a thread that never
    /// waits again is hung.
    pub const HANG_TICKS: u32 = 2000;
    /// Start the thread. in: `[ip, sp, priority, arg]`; `arg` arrives in `rdi`.
    /// The priority is capped by the task's maximum. Errors: `Busy` if running.
    pub const START: u64 = 0;
    /// Give up the rest of the time slice. Only on the caller's own threads.
    pub const YIELD: u64 = 1;
    /// End the calling thread (not the task). Only on the caller's own thread.
    pub const EXIT: u64 = 2;
    /// Change the priority. in: `[priority]`.
    pub const SET_PRIORITY: u64 = 3;
    /// out: `[thread index, state, priority]`.
    pub const INFO: u64 = 4;

    crate::requests! {
        /// A thread operation.
        pub enum Request {
            Start(START) { ip: u64, sp: u64, priority: u8, arg: u64 },
            Yield(YIELD),
            Exit(EXIT),
            SetPriority(SET_PRIORITY) { priority: u8 },
            Info(INFO),
        }
    }

    crate::reply! {
        /// What [`INFO`] answers; `state` is 0 inactive, 1 ready, 2 sending,
        /// 3 receiving, 4 dead.
        pub struct InfoReply {
            index: u64,
            state: u64,
            priority: u8,
        }
    }
}

/// Operations on a factory (label [`PROTO_FACTORY`]): `mr[0]` is the protocol of
/// the object to create; the new capability lands in buffer register 0's slot.
pub mod factory {
    /// Create a task. mr[0] = [`super::PROTO_TASK`];
    /// in: `[fault irq slot (0: none), memory quota pages, max priority,
    /// max threads, flags, name_len, name bytes...]`; flags: [`TASK_MAY_DEBUG`]. The factory's task pays
    /// [`TASK_PAGES`] plus the child's whole quota, reserved up front and given
    /// back when the child is destroyed; a quota larger than what the payer
    /// has left is cut to it. Objects the child paid for that outlive it are
    /// charged to its creator. The new task's slots 1..4 are filled (task, no
    /// thread yet, factory, log).
    pub const CREATE_TASK: i64 = super::PROTO_TASK;
    /// [`CREATE_TASK`] flag: the child may debug the tasks it creates (its
    /// capabilities to them carry `Rights::DEBUG`). Granted only by a creator
    /// that may debug itself; the root task may.
    pub const TASK_MAY_DEBUG: u64 = 1;
    /// Pages of quota a task object itself costs its payer (capability table,
    /// control block, page-table root), on top of the quota reserved for it.
    pub const TASK_PAGES: u64 = 6;
    /// Create a thread in a task. mr[0] = [`super::PROTO_THREAD`]; in: `[task slot]`.
    /// out: `[thread index]`. Its UTCB is mapped at `layout::utcb_addr(index)`.
    pub const CREATE_THREAD: i64 = super::PROTO_THREAD;
    /// Create an IPC gate. mr[0] = [`super::PROTO_KOBJECT`]; in: `[thread slot
    /// (0: unbound), label]`.
    pub const CREATE_GATE: i64 = super::PROTO_KOBJECT;
    /// Create a software IRQ (a notification object). mr[0] = [`super::PROTO_IRQ`].
    pub const CREATE_IRQ: i64 = super::PROTO_IRQ;
    /// Create a dataspace of zeroed RAM. mr[0] = [`super::PROTO_DATASPACE`];
    /// in: `[size, flags]` with [`DS_CONTIGUOUS`] for DMA memory.
    pub const CREATE_DATASPACE: i64 = super::PROTO_DATASPACE;
    /// Dataspace flag: physically contiguous (DMA-able), its physical address known.
    pub const DS_CONTIGUOUS: u64 = 1;
    /// The longest task name.
    pub const NAME_MAX: usize = 32;

    use crate::CapIdx;

    crate::requests! {
        /// What to create; the new capability lands in buffer register 0's slot.
        pub enum Request {
            CreateTask(CREATE_TASK) {
                fault_irq: Option<CapIdx>,
                quota_pages: u64,
                max_priority: u8,
                max_threads: u32,
                flags: u64,
            } bytes name[NAME_MAX],
            CreateThread(CREATE_THREAD) { task: CapIdx },
            CreateGate(CREATE_GATE) { thread: Option<CapIdx>, label: u64 },
            CreateIrq(CREATE_IRQ),
            CreateDataspace(CREATE_DATASPACE) { size: u64, flags: u64 },
        }
    }
}

/// Operations on an IPC gate (label [`PROTO_KOBJECT`], needs SERVER). Any other
/// label is an IPC to the bound thread, which receives the gate's label.
pub mod gate {
    /// in: `[thread slot, label]`.
    pub const BIND: u64 = 0x10;
    /// out: `[label, bound]`.
    pub const INFO: u64 = 0x11;
    pub const UNBIND: u64 = 0x12;

    use crate::CapIdx;

    crate::requests! {
        /// A gate operation (label [`super::PROTO_KOBJECT`]).
        pub enum Request {
            Bind(BIND) { thread: CapIdx, label: u64 },
            Info(INFO),
            Unbind(UNBIND),
        }
    }

    crate::reply! {
        /// What [`INFO`] answers.
        pub struct InfoReply {
            label: u64,
            bound: bool,
        }
    }
}

/// Operations on an IRQ object: attach/detach use [`PROTO_IRQ_SENDER`], the rest
/// [`PROTO_IRQ`]. A thread attached to an IRQ receives each trigger as a message with
/// label [`PROTO_IRQ`] and the attach label; triggers while it is not waiting are
/// kept (counted once) until it waits.
pub mod irq {
    /// in: `[thread slot, label]`. Needs SERVER.
    pub const ATTACH: u64 = 0;
    pub const DETACH: u64 = 1;
    /// Needs WRITE. Software IRQs only.
    pub const TRIGGER: u64 = 2;
    /// Acknowledge a hardware interrupt: the line is unmasked once every IRQ object
    /// sharing it has acknowledged. Needs SERVER.
    pub const UNMASK: u64 = 4;
    /// out: `[line or u64::MAX, pending, attached]`.
    pub const INFO: u64 = 5;
    /// The line an IRQ object bound to a message-signalled interrupt reports:
    /// `MSI_LINES + n` for the kernel's MSI vector `n`, above every PIC line.
    pub const MSI_LINES: u64 = 0x100;

    use crate::CapIdx;

    crate::requests! {
        /// An IRQ operation; [`Request::label`] is the label it travels with.
        pub enum Request {
            Attach(ATTACH) { thread: CapIdx, label: u64 },
            Detach(DETACH),
            Trigger(TRIGGER),
            Unmask(UNMASK),
            Info(INFO),
        }
    }

    impl Request {
        /// Attaching and detaching speak the IRQ sender's protocol, the rest
        /// the IRQ's.
        pub fn label(&self) -> i64 {
            match self {
                Request::Attach { .. } | Request::Detach {} => super::PROTO_IRQ_SENDER,
                _ => super::PROTO_IRQ,
            }
        }
    }

    crate::reply! {
        /// What [`INFO`] answers; `line` is `u64::MAX` for a software IRQ.
        pub struct InfoReply {
            line: u64,
            pending: bool,
            attached: bool,
        }
    }
}

/// Operations on the interrupt controller (label [`PROTO_ICU`]), held by init.
pub mod icu {
    /// Bind hardware line to an IRQ object. in: `[line, irq slot]`.
    pub const BIND: u64 = 0;
    /// out: `[number of lines]`.
    pub const INFO: u64 = 2;
    /// Bind a message-signalled interrupt of the PCI device `source` (bus <<
    /// 8 | devfn) to an IRQ object that has no line yet: the kernel takes a
    /// free vector for it and, with interrupt remapping on, a remapping
    /// entry that only requests from `source` may use. in: `[source, irq
    /// slot]`. out: `[address, data]`, what the device's MSI capability must
    /// be programmed with (the remappable format under the IOMMU, else the
    /// compatibility format). `OutOfMemory` when every vector is taken, `Busy`
    /// when the object is bound already, `BadProtocol` without a local APIC.
    /// The vector is free again when the object is destroyed.
    pub const BIND_MSI: u64 = 3;

    crate::requests! {
        /// An interrupt-controller operation.
        pub enum Request {
            Bind(BIND) { line: u64, irq: crate::CapIdx },
            Info(INFO),
            BindMsi(BIND_MSI) { source: u64, irq: crate::CapIdx },
        }
    }
}

/// Operations on an I/O-port range capability (label [`PROTO_IO_PORTS`]).
pub mod io_ports {
    /// A capability for a sub-range. in: `[first port, count]` (cap).
    pub const RESTRICT: u64 = 0;
    /// out: `[first port, count]`.
    pub const INFO: u64 = 1;

    crate::requests! {
        /// An I/O-port capability's operation.
        pub enum Request {
            Restrict(RESTRICT) { first: u16, count: u32 },
            Info(INFO),
        }
    }
}

/// Operations on a physical-address-range capability for device memory
/// (label [`PROTO_IO_MEM`]). Ranges that are RAM are never granted.
pub mod io_mem {
    /// A capability for a sub-range. in: `[physical address, size]` (cap).
    pub const RESTRICT: u64 = 0;
    /// An uncached dataspace for device registers. in: `[physical address, size]`
    /// (cap), with the device-memory capability's rights (no DELEGATE without
    /// it). `Denied` outside the capability's range.
    pub const CREATE_DATASPACE: u64 = 1;
    /// out: `[physical address, size]`.
    pub const INFO: u64 = 2;

    crate::requests! {
        /// A device-memory capability's operation.
        pub enum Request {
            Restrict(RESTRICT) { phys: u64, size: u64 },
            CreateDataspace(CREATE_DATASPACE) { phys: u64, size: u64 },
            Info(INFO),
        }
    }
}

/// Operations on the IOMMU (label [`PROTO_IOMMU`]), held by init and given
/// to the task that owns the PCI bus (manifest `devices`).
pub mod iommu {
    /// out: `[1 when DMA remapping is on (else 0), page-table levels of a domain]`.
    pub const INFO: u64 = 0;
    /// A fresh DMA domain for one PCI device: until it maps memory, the
    /// device's DMA reaches nothing. in: `[source id: bus << 8 | device << 3 |
    /// function]` (cap, with the IOMMU capability's rights). `InUse` while
    /// the device has a live domain; `BadProtocol` when there is no IOMMU.
    pub const CREATE_DOMAIN: u64 = 1;

    crate::requests! {
        /// An IOMMU operation.
        pub enum Request {
            Info(INFO),
            CreateDomain(CREATE_DOMAIN) { source: u16 },
        }
    }
}

/// Operations on a DMA domain (label [`PROTO_DMA_DOMAIN`]): the memory one
/// PCI device can reach by DMA, at I/O virtual addresses equal to the
/// physical ones.
pub mod dma_domain {
    /// Make a physically contiguous dataspace reachable by the device, read
    /// and write (needs WRITE on both). in: `[dataspace slot]`; out: `[I/O
    /// virtual address]`. `InUse` when it is mapped already,
    /// `InvalidArgument` for other memory, `QuotaExceeded` beyond
    /// [`MAX_MAPPINGS`]. The domain holds a reference to the dataspace, so
    /// its frames stay until it is unmapped.
    pub const MAP: u64 = 0;
    /// Unmap a dataspace and invalidate the IOMMU's caches before its
    /// reference goes. in: `[dataspace slot]`.
    pub const UNMAP: u64 = 1;
    /// Detach the domain from its device and destroy it (needs SERVER): every
    /// mapping goes, the device's DMA reaches nothing, and every capability to
    /// the domain is dead.
    pub const DESTROY: u64 = 2;
    /// out: `[source id, mapped pages]`.
    pub const INFO: u64 = 3;
    /// Dataspaces one domain maps at most.
    pub const MAX_MAPPINGS: usize = 128;

    use crate::CapIdx;

    crate::requests! {
        /// A DMA domain's operation.
        pub enum Request {
            Map(MAP) { ds: CapIdx },
            Unmap(UNMAP) { ds: CapIdx },
            Destroy(DESTROY),
            Info(INFO),
        }
    }
}

/// Operations on a dataspace (label [`PROTO_DATASPACE`]).
pub mod dataspace {
    /// out: `[size, flags, physical address (contiguous and device only, else 0)]`.
    pub const INFO: u64 = 0;

    crate::requests! {
        /// A dataspace's operation.
        pub enum Request {
            Info(INFO),
        }
    }

    crate::reply! {
        /// What [`INFO`] answers.
        pub struct InfoReply {
            size: u64,
            flags: u64,
            phys: u64,
        }
    }
}

/// Operations on the kernel log (label [`PROTO_LOG`]).
pub mod log {
    /// in: `[level, length, bytes...]`; the kernel prefixes the task's name.
    pub const WRITE: u64 = 0;
    pub const LEVEL_ERROR: u64 = 1;
    pub const LEVEL_WARN: u64 = 2;
    pub const LEVEL_INFO: u64 = 3;
    pub const LEVEL_DEBUG: u64 = 4;
    /// The longest line one [`WRITE`] carries.
    pub const LINE_MAX: usize = 480;

    crate::requests! {
        /// A log operation.
        pub enum Request {
            Write(WRITE) { level: u64 } bytes text[LINE_MAX],
        }
    }
}

/// Operations on the kernel-information capability (label [`PROTO_KERNEL`]).
pub mod kernel {
    /// out: `[free frames, total frames, ipc denied count, ticks, tasks, threads,
    /// kernel heap bytes in use]`.
    pub const STATS: u64 = 0;
    /// Power off QEMU through its debug-exit device. in: `[status]`.
    pub const SHUTDOWN: u64 = 1;
    /// TSC at kernel entry of the last interrupt on a line. in: `[line]`;
    /// out: `[tsc]`. For interrupt-latency measurement.
    pub const IRQ_ENTRY_TSC: u64 = 2;
    /// Set the console log level. in: `[level]`.
    pub const SET_LOG_LEVEL: u64 = 3;
    /// The `n`-th live task (in creation order of its slot). in: `[n]`.
    /// out: `[state, events total, pages used, quota pages, live threads,
    /// has event, cause, ip, address, name length, name bytes (4 words)]`, or
    /// `[u64::MAX]` past the last task.
    pub const TASK_INFO: u64 = 4;

    crate::requests! {
        /// An operation on the kernel-information capability.
        pub enum Request {
            Stats(STATS),
            Shutdown(SHUTDOWN) { status: u64 },
            IrqEntryTsc(IRQ_ENTRY_TSC) { line: u64 },
            SetLogLevel(SET_LOG_LEVEL) { level: u64 },
            TaskInfo(TASK_INFO) { n: u64 },
        }
    }

    crate::reply! {
        /// What [`STATS`] answers.
        pub struct StatsReply {
            free_frames: u64,
            total_frames: u64,
            ipc_denied: u64,
            ticks: u64,
            tasks: u64,
            threads: u64,
            heap_bytes: u64,
        }
    }

    crate::reply! {
        /// What [`TASK_INFO`] answers for a live task (past the last one the
        /// answer is the single word `u64::MAX`).
        pub struct TaskInfoReply {
            state: u64,
            events_total: u64,
            used_pages: u64,
            quota_pages: u64,
            threads: u64,
            has_event: bool,
            cause: u64,
            ip: u64,
            addr: u64,
        } bytes name[super::factory::NAME_MAX]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_operations_of_an_object_share_a_number() {
        let all: [(&str, &[u64]); 13] = [
            ("task", task::Request::OPS),
            ("thread", thread::Request::OPS),
            ("factory", factory::Request::OPS),
            ("gate", gate::Request::OPS),
            ("irq", irq::Request::OPS),
            ("icu", icu::Request::OPS),
            ("io_ports", io_ports::Request::OPS),
            ("io_mem", io_mem::Request::OPS),
            ("iommu", iommu::Request::OPS),
            ("dma_domain", dma_domain::Request::OPS),
            ("dataspace", dataspace::Request::OPS),
            ("log", log::Request::OPS),
            ("kernel", kernel::Request::OPS),
        ];
        for (name, ops) in all {
            for (i, op) in ops.iter().enumerate() {
                assert!(!ops[i + 1..].contains(op), "{name}: operation {op:#x} is declared twice");
            }
        }
    }

    #[test]
    fn the_longest_messages_fit_the_registers() {
        let mut mr = [0u64; crate::utcb::MR_COUNT];
        let line = [b'x'; log::LINE_MAX];
        let w = log::Request::Write { level: log::LEVEL_INFO, text: crate::message::Bytes::new(&line).unwrap() };
        assert!(w.encode(&mut mr).unwrap() <= 63, "a tag counts at most 63 words");
        let reason = [b'r'; crate::event::REASON_BYTES];
        let e = task::Request::Exit { code: 1, reason: crate::message::Bytes::new(&reason).unwrap() };
        assert!(e.encode(&mut mr).unwrap() <= 63);
        let info = task::InfoReply {
            state: 1,
            has_event: true,
            cause: 3,
            ip: 4,
            addr: 5,
            code: 6,
            thread: 7,
            events_total: 8,
            reason: crate::message::Bytes::new(&reason).unwrap(),
        };
        let n = info.encode(&mut mr).unwrap();
        assert_eq!(task::InfoReply::decode(&mr[..n]), Ok(info));
    }

    #[test]
    fn the_layouts_are_the_documented_ones() {
        let mut mr = [0u64; crate::utcb::MR_COUNT];
        let map = task::Request::Map {
            ds: crate::CapIdx(9),
            offset: 0x1000,
            addr: 0x40_0000,
            size: 0x2000,
            access: task::MapAccess::READ | task::MapAccess::WRITE,
        };
        let n = map.encode(&mut mr).unwrap();
        assert_eq!(&mr[..n], &[task::MAP, 9, 0x1000, 0x40_0000, 0x2000, 6]);
        let ct = factory::Request::CreateTask {
            fault_irq: None,
            quota_pages: 10,
            max_priority: 120,
            max_threads: 4,
            flags: factory::TASK_MAY_DEBUG,
            name: crate::message::Bytes::new(b"netd").unwrap(),
        };
        let n = ct.encode(&mut mr).unwrap();
        assert_eq!(&mr[..n], &[PROTO_TASK as u64, 0, 10, 120, 4, 1, 4, u64::from_le_bytes(*b"netd\0\0\0\0")]);
        assert_eq!(irq::Request::Attach { thread: crate::CapIdx(1), label: 2 }.label(), PROTO_IRQ_SENDER);
        assert_eq!(irq::Request::Unmask {}.label(), PROTO_IRQ);
        // MAP takes the flexpage access bits, not capability rights: 8 is no access bit.
        assert_eq!(task::Request::decode(&[task::MAP, 9, 0, 0, 0x1000, 8]), Err(crate::Error::InvalidArgument));
    }
}

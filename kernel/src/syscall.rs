//! The system-call decoding layer: what a thread's registers and message words
//! ask the kernel for, as typed values, and the checks that need nothing but
//! those values and the capability used.
//!
//! Everything here is pure (no kernel state, no hardware), so it runs as host
//! unit tests: the `invoke` registers become an [`Invocation`], a message to a
//! kernel object becomes an [`Op`] through its protocol's generated decoder
//! (`l4_sys::proto`), [`Op::check`] refuses an operation the capability's
//! rights do not cover or whose arguments are wrong whatever the state, a
//! capability item becomes an [`Item`], and a result becomes the registers
//! `invoke` returns. `ops.rs` then validates what depends on the kernel's
//! state, and acts.

use l4_sys::proto::{self, *};
use l4_sys::syscall::Flags;
use l4_sys::utcb::{BR_COUNT, ITEM_MAP, MR_COUNT};
use l4_sys::{CapIdx, Error, MsgTag, Rights, Timeout};

/// Most capabilities one message can carry: one per buffer register.
pub const MAX_ITEMS: usize = BR_COUNT;

/// The `invoke` system call's arguments (`rdi`, `rsi`, `r10`; see
/// `l4_sys::syscall`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub flags: Flags,
    /// The destination (or the source of a closed receive).
    pub dest: CapIdx,
    pub tag: MsgTag,
    pub send_timeout: Timeout,
    pub recv_timeout: Timeout,
}

impl Invocation {
    /// Decodes the argument registers. Every value is acceptable here: flags
    /// the ABI does not define are ignored, a selector names a slot that is
    /// looked up (and may be empty) later, and a tag's shape is checked by
    /// [`check_shape`] when a message is sent.
    pub fn from_registers(rdi: u64, rsi: u64, r10: u64) -> Invocation {
        let (send_timeout, recv_timeout) = Timeout::unpair(r10);
        Invocation {
            flags: Flags::from_bits_truncate(rdi & 0xf),
            dest: CapIdx::from_selector(rdi),
            tag: MsgTag(rsi),
            send_timeout,
            recv_timeout,
        }
    }
}

/// A message fits its registers: its words and two words per capability item
/// within the message registers, and no more items than buffer registers.
pub fn check_shape(tag: MsgTag) -> Result<(), Error> {
    let (words, items) = (tag.words(), tag.items());
    if words + 2 * items > MR_COUNT || items > MAX_ITEMS { Err(Error::InvalidArgument) } else { Ok(()) }
}

/// A capability item of a message: the sender's slot and the rights it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub slot: CapIdx,
    pub mask: Rights,
}

impl Item {
    /// Decodes an item's two words, `[flags, selector | rights]`: only map
    /// items exist.
    pub fn decode(flags: u64, fpage: u64) -> Result<Item, Error> {
        if flags & ITEM_MAP == 0 {
            return Err(Error::InvalidArgument);
        }
        Ok(Item { slot: CapIdx::from_selector(fpage), mask: Rights::from_bits_truncate(fpage as u8 & 0xf) })
    }
}

/// The registers `invoke` returns a result in: `(rax, rsi, rdx)`, that is the
/// error code (0 for success), the received tag and the label.
pub fn result_registers(result: Result<(MsgTag, u64), Error>) -> (u64, u64, u64) {
    match result {
        Ok((tag, label)) => (0, tag.0, label),
        Err(e) => (e as u64, 0, 0),
    }
}

/// The kind of kernel object a capability names: what decides which protocol a
/// message to it must speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Task,
    Thread,
    Factory,
    Gate,
    Irq,
    Icu,
    IoPorts,
    IoMem,
    Dataspace,
    Log,
    Kernel,
    Iommu,
    DmaDomain,
}

/// An operation on a kernel object, decoded and typed.
// Every operation's `Op` is built and moved on the kernel stack, so its size is
// paid on each kernel call: a log line (about 500 bytes) is checked here but
// kept out of it ([`Op::Log`]), which keeps `Op` at the size of the next
// largest request (a test holds it there). Moving 504 bytes twice per call cost an
// IRQ unmask about 3,000 TSC cycles under QEMU's TCG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Task(task::Request),
    Thread(thread::Request),
    Factory(factory::Request),
    Gate(gate::Request),
    Irq(irq::Request),
    Icu(icu::Request),
    IoPorts(io_ports::Request),
    IoMem(io_mem::Request),
    Dataspace(dataspace::Request),
    /// A log line: its message was decoded and checked, and the handler
    /// decodes it again from the words (log lines are rare; `Op` stays small).
    Log,
    Kernel(kernel::Request),
    Iommu(iommu::Request),
    DmaDomain(dma_domain::Request),
}

impl Op {
    /// Decodes a message to an object of `kind`: a label that is not the
    /// object's protocol is `BadProtocol`; an unknown operation is `BadOpcode`;
    /// a wrong word count or a field out of its type's range is
    /// `InvalidArgument` (the generated decoders).
    pub fn decode(kind: Kind, label: i64, words: &[u64]) -> Result<Op, Error> {
        Ok(match (kind, label) {
            (Kind::Task, PROTO_TASK) => Op::Task(task::Request::decode(words)?),
            (Kind::Thread, PROTO_THREAD) => Op::Thread(thread::Request::decode(words)?),
            (Kind::Factory, PROTO_FACTORY) => Op::Factory(factory::Request::decode(words)?),
            (Kind::Gate, PROTO_KOBJECT) => Op::Gate(gate::Request::decode(words)?),
            (Kind::Irq, PROTO_IRQ | PROTO_IRQ_SENDER) => {
                let req = irq::Request::decode(words)?;
                // Attach and detach travel as IRQ senders, the rest as IRQs.
                if req.label() != label {
                    return Err(Error::BadOpcode);
                }
                Op::Irq(req)
            }
            (Kind::Icu, PROTO_ICU) => Op::Icu(icu::Request::decode(words)?),
            (Kind::IoPorts, PROTO_IO_PORTS) => Op::IoPorts(io_ports::Request::decode(words)?),
            (Kind::IoMem, PROTO_IO_MEM) => Op::IoMem(io_mem::Request::decode(words)?),
            (Kind::Dataspace, PROTO_DATASPACE) => Op::Dataspace(dataspace::Request::decode(words)?),
            (Kind::Log, PROTO_LOG) => {
                proto::log::Request::decode(words)?;
                Op::Log
            }
            (Kind::Kernel, PROTO_KERNEL) => Op::Kernel(kernel::Request::decode(words)?),
            (Kind::Iommu, PROTO_IOMMU) => Op::Iommu(iommu::Request::decode(words)?),
            (Kind::DmaDomain, PROTO_DMA_DOMAIN) => Op::DmaDomain(dma_domain::Request::decode(words)?),
            _ => return Err(Error::BadProtocol),
        })
    }

    /// The rights the operation needs on the capability it is invoked through
    /// (`l4_sys::proto` documents them per operation). Operations that only a
    /// thread's own task may do (a task's EXIT, a thread's YIELD and EXIT) need
    /// none here: which task is calling is the kernel's state, checked there.
    pub fn needs(&self) -> Rights {
        use Rights as R;
        match self {
            Op::Task(r) => match r {
                task::Request::Info {} | task::Request::NextEvent {} | task::Request::VirtToPhys { .. } => R::READ,
                task::Request::Exit { .. } => R::empty(),
                task::Request::Poke { .. } => R::DEBUG,
                _ => R::WRITE,
            },
            Op::Thread(r) => match r {
                thread::Request::Start { .. } | thread::Request::SetPriority { .. } => R::WRITE,
                thread::Request::Yield {} | thread::Request::Exit {} | thread::Request::Info {} => R::empty(),
            },
            Op::Factory(_) => R::WRITE,
            Op::Gate(_) => R::SERVER,
            Op::Irq(r) => match r {
                irq::Request::Trigger {} => R::WRITE,
                irq::Request::Info {} => R::empty(),
                irq::Request::Attach { .. } | irq::Request::Detach {} | irq::Request::Unmask {} => R::SERVER,
            },
            Op::Icu(icu::Request::Bind { .. } | icu::Request::BindMsi { .. }) => R::WRITE,
            Op::IoPorts(io_ports::Request::Restrict { .. }) => R::DELEGATE,
            Op::IoMem(io_mem::Request::Restrict { .. }) => R::DELEGATE,
            Op::Iommu(iommu::Request::CreateDomain { .. }) => R::WRITE,
            Op::DmaDomain(r) => match r {
                dma_domain::Request::Map { .. } | dma_domain::Request::Unmap { .. } => R::WRITE,
                dma_domain::Request::Destroy {} => R::SERVER,
                dma_domain::Request::Info {} => R::empty(),
            },
            Op::Kernel(kernel::Request::Shutdown { .. } | kernel::Request::SetLogLevel { .. }) => R::WRITE,
            Op::Icu(_) | Op::IoPorts(_) | Op::IoMem(_) | Op::Iommu(_) | Op::Dataspace(_) | Op::Log | Op::Kernel(_) => {
                R::empty()
            }
        }
    }

    /// What can be refused before the kernel looks at its state: rights the
    /// capability lacks (`Denied`), then arguments that are wrong whatever the
    /// state (`BadAddress` for an unaligned mapping, `InvalidArgument` for an
    /// empty or unaligned size, a patch of no bytes, a reserved interrupt line).
    pub fn check(&self, rights: Rights) -> Result<(), Error> {
        if !rights.contains(self.needs()) {
            return Err(Error::Denied);
        }
        let page = |v: u64| v.is_multiple_of(4096);
        match *self {
            Op::Task(task::Request::Map { offset, size, .. }) if !page(offset) || !page(size) => Err(Error::BadAddress),
            Op::Task(task::Request::Poke { bytes, .. }) if bytes.is_empty() => Err(Error::InvalidArgument),
            Op::Factory(factory::Request::CreateDataspace { size, .. }) if size == 0 || !page(size) => {
                Err(Error::InvalidArgument)
            }
            Op::IoMem(io_mem::Request::Restrict { phys, size } | io_mem::Request::CreateDataspace { phys, size })
                if !page(phys) || !page(size) =>
            {
                Err(Error::InvalidArgument)
            }
            Op::Icu(icu::Request::Bind { line, .. }) if !icu_line_bindable(line) => Err(Error::InvalidArgument),
            // A PCI source id is 16 bits.
            Op::Icu(icu::Request::BindMsi { source, .. }) if source > 0xffff => Err(Error::InvalidArgument),
            _ => Ok(()),
        }
    }
}

/// Interrupt lines a task may bind: not line 0 (the kernel's timer), not line 2
/// (the cascade), and only lines the interrupt controllers have.
pub fn icu_line_bindable(line: u64) -> bool {
    line < crate::arch::lines::LINES as u64 && line != 0 && line != crate::arch::lines::CASCADE as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use l4_sys::message::Bytes;

    #[test]
    fn an_op_stays_small_since_every_kernel_call_moves_one() {
        // The task request with its name is the largest (144 bytes, plus the tag).
        assert!(core::mem::size_of::<Op>() <= 160, "Op is {} bytes", core::mem::size_of::<Op>());
    }

    const KINDS: [(Kind, i64); 13] = [
        (Kind::Task, PROTO_TASK),
        (Kind::Thread, PROTO_THREAD),
        (Kind::Factory, PROTO_FACTORY),
        (Kind::Gate, PROTO_KOBJECT),
        (Kind::Irq, PROTO_IRQ),
        (Kind::Icu, PROTO_ICU),
        (Kind::IoPorts, PROTO_IO_PORTS),
        (Kind::IoMem, PROTO_IO_MEM),
        (Kind::Dataspace, PROTO_DATASPACE),
        (Kind::Log, PROTO_LOG),
        (Kind::Kernel, PROTO_KERNEL),
        (Kind::Iommu, PROTO_IOMMU),
        (Kind::DmaDomain, PROTO_DMA_DOMAIN),
    ];

    fn words(req: impl FnOnce(&mut [u64]) -> Result<usize, Error>) -> alloc::vec::Vec<u64> {
        let mut mr = [0u64; MR_COUNT];
        let n = req(&mut mr).unwrap();
        mr[..n].to_vec()
    }

    #[test]
    fn registers_decode_as_the_abi_says() {
        let rdi = (7u64 << 12) | Flags::CALL.bits() | 0x30;
        let r10 = Timeout::pair(Timeout::Millis(5), Timeout::Never);
        let inv = Invocation::from_registers(rdi, MsgTag::new(PROTO_TASK, 3, 1).0, r10);
        assert_eq!(inv.flags, Flags::CALL, "bits above the four flags are the selector's, not flags");
        assert_eq!(inv.dest, CapIdx::from_selector(rdi));
        assert_eq!((inv.tag.label(), inv.tag.words(), inv.tag.items()), (PROTO_TASK, 3, 1));
        assert_eq!((inv.send_timeout, inv.recv_timeout), (Timeout::Millis(5), Timeout::Never));
        // Garbage in every register still decodes: what it names is checked later.
        let inv = Invocation::from_registers(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(inv.flags, Flags::all());
        assert!(check_shape(inv.tag).is_err());
    }

    #[test]
    fn message_shape_fits_the_registers() {
        assert_eq!(check_shape(MsgTag::new(0, MR_COUNT, 0)), Ok(()));
        assert_eq!(check_shape(MsgTag::new(0, MR_COUNT - 2 * MAX_ITEMS, MAX_ITEMS)), Ok(()));
        assert_eq!(check_shape(MsgTag::new(0, MR_COUNT - 1, 1)), Err(Error::InvalidArgument));
        assert_eq!(check_shape(MsgTag::new(0, 0, MAX_ITEMS + 1)), Err(Error::InvalidArgument));
    }

    #[test]
    fn items_are_map_items_with_a_rights_mask() {
        let sel = CapIdx(9).selector() | Rights::READ.bits() as u64;
        let item = Item::decode(ITEM_MAP, sel).unwrap();
        assert_eq!(item, Item { slot: CapIdx(9), mask: Rights::READ });
        assert_eq!(Item::decode(0, sel), Err(Error::InvalidArgument));
    }

    #[test]
    fn results_round_trip_through_the_registers() {
        let tag = MsgTag::new(-3, 2, 0);
        assert_eq!(result_registers(Ok((tag, 42))), (0, tag.0, 42));
        for code in 1..64u64 {
            let Err(e) = Error::from_raw(code) else { panic!("code {code} decodes as success") };
            let (rax, rsi, rdx) = result_registers(Err(e));
            assert_eq!((Error::from_raw(rax), rsi, rdx), (Err(e), 0, 0), "error {e:?}");
        }
    }

    #[test]
    fn a_label_that_is_not_the_objects_protocol_is_refused() {
        for (kind, label) in KINDS {
            for (_, other) in KINDS.iter().filter(|(k, _)| *k != kind) {
                assert_eq!(Op::decode(kind, *other, &[0]), Err(Error::BadProtocol), "{kind:?} with label {other}");
            }
            assert_eq!(Op::decode(kind, 0, &[0]), Err(Error::BadProtocol), "{kind:?} with label 0");
            // The right label with no operation word, or an operation nobody
            // defines, is refused by the protocol's decoder.
            assert!(Op::decode(kind, label, &[]).is_err(), "{kind:?} with no words");
            assert_eq!(Op::decode(kind, label, &[0xdead]), Err(Error::BadOpcode), "{kind:?} op 0xdead");
        }
    }

    #[test]
    fn word_counts_are_exact() {
        let unmap = words(|mr| task::Request::Unmap { addr: 0x1000, size: 0x2000 }.encode(mr));
        assert_eq!(
            Op::decode(Kind::Task, PROTO_TASK, &unmap),
            Ok(Op::Task(task::Request::Unmap { addr: 0x1000, size: 0x2000 }))
        );
        let mut long = unmap.clone();
        long.push(0);
        assert_eq!(Op::decode(Kind::Task, PROTO_TASK, &long), Err(Error::InvalidArgument));
        assert_eq!(Op::decode(Kind::Task, PROTO_TASK, &unmap[..2]), Err(Error::InvalidArgument));
    }

    #[test]
    fn irq_operations_travel_with_their_own_label() {
        let attach = words(|mr| irq::Request::Attach { thread: CapIdx(3), label: 1 }.encode(mr));
        assert!(Op::decode(Kind::Irq, PROTO_IRQ_SENDER, &attach).is_ok());
        assert_eq!(Op::decode(Kind::Irq, PROTO_IRQ, &attach), Err(Error::BadOpcode));
        let unmask = words(|mr| irq::Request::Unmask {}.encode(mr));
        assert!(Op::decode(Kind::Irq, PROTO_IRQ, &unmask).is_ok());
        assert_eq!(Op::decode(Kind::Irq, PROTO_IRQ_SENDER, &unmask), Err(Error::BadOpcode));
    }

    #[test]
    fn each_operation_needs_its_rights() {
        let cases: [(Op, Rights); 12] = [
            (Op::Task(task::Request::Kill {}), Rights::WRITE),
            (Op::Task(task::Request::Info {}), Rights::READ),
            (Op::Task(task::Request::Poke { addr: 0x1000, bytes: Bytes::new(&[0x90]).unwrap() }), Rights::DEBUG),
            (Op::Task(task::Request::Destroy {}), Rights::WRITE),
            (Op::Thread(thread::Request::SetPriority { priority: 9 }), Rights::WRITE),
            (Op::Factory(factory::Request::CreateIrq {}), Rights::WRITE),
            (Op::Gate(gate::Request::Info {}), Rights::SERVER),
            (Op::Irq(irq::Request::Unmask {}), Rights::SERVER),
            (Op::Irq(irq::Request::Trigger {}), Rights::WRITE),
            (Op::IoPorts(io_ports::Request::Restrict { first: 0x70, count: 2 }), Rights::DELEGATE),
            (Op::DmaDomain(dma_domain::Request::Destroy {}), Rights::SERVER),
            (Op::Kernel(kernel::Request::Shutdown { status: 0 }), Rights::WRITE),
        ];
        for (op, needed) in cases {
            assert_eq!(op.check(needed), Ok(()), "{op:?} with {needed:?}");
            assert_eq!(op.check(Rights::ALL - needed), Err(Error::Denied), "{op:?} without {needed:?}");
        }
        // What a task may ask of itself, or only read, needs nothing.
        for op in [
            Op::Thread(thread::Request::Yield {}),
            Op::Irq(irq::Request::Info {}),
            Op::Kernel(kernel::Request::Stats {}),
            Op::Dataspace(dataspace::Request::Info {}),
        ] {
            assert_eq!(op.check(Rights::empty()), Ok(()), "{op:?}");
        }
    }

    #[test]
    fn arguments_wrong_whatever_the_state_are_refused_first() {
        let map = |offset, size| {
            Op::Task(task::Request::Map {
                ds: CapIdx(4),
                offset,
                addr: 0x40_0000,
                size,
                access: task::MapAccess::WRITE,
            })
        };
        assert_eq!(map(0, 0x1000).check(Rights::WRITE), Ok(()));
        assert_eq!(map(0x10, 0x1000).check(Rights::WRITE), Err(Error::BadAddress));
        assert_eq!(map(0, 0x1001).check(Rights::WRITE), Err(Error::BadAddress));
        // Rights come first: a caller without them learns nothing about its arguments.
        assert_eq!(map(0x10, 0x1000).check(Rights::READ), Err(Error::Denied));
        let ds = |size| Op::Factory(factory::Request::CreateDataspace { size, flags: 0 });
        assert_eq!(ds(0x2000).check(Rights::WRITE), Ok(()));
        assert_eq!(ds(0).check(Rights::WRITE), Err(Error::InvalidArgument));
        assert_eq!(ds(100).check(Rights::WRITE), Err(Error::InvalidArgument));
        let mem = Op::IoMem(io_mem::Request::CreateDataspace { phys: 0xfebf_0010, size: 0x1000 });
        assert_eq!(mem.check(Rights::ALL), Err(Error::InvalidArgument));
        let bind = |line| Op::Icu(icu::Request::Bind { line, irq: CapIdx(5) });
        assert_eq!(bind(11).check(Rights::WRITE), Ok(()));
        for reserved in [0, crate::arch::lines::CASCADE as u64, crate::arch::lines::LINES as u64, u64::MAX] {
            assert_eq!(bind(reserved).check(Rights::WRITE), Err(Error::InvalidArgument), "line {reserved}");
        }
        let msi = |source| Op::Icu(icu::Request::BindMsi { source, irq: CapIdx(5) });
        assert_eq!(msi(0x0010).check(Rights::WRITE), Ok(()));
        assert_eq!(msi(0x0010).check(Rights::READ), Err(Error::Denied));
        for bad in [0x1_0000, u64::MAX] {
            assert_eq!(msi(bad).check(Rights::WRITE), Err(Error::InvalidArgument), "source {bad:#x}");
        }
        let poke = Op::Task(task::Request::Poke { addr: 0x1000, bytes: Bytes::new(&[]).unwrap() });
        assert_eq!(poke.check(Rights::DEBUG), Err(Error::InvalidArgument));
    }
}

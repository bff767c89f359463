//! Message encodings of the Fiasco and L4Re protocols Resurgo's runtime
//! speaks. Each function fills the message registers it is given and returns
//! the tag to send with them; buffer registers, where an operation needs
//! one, are the caller's (see [`rcv_cap`]).
//!
//! L4Re servers use L4's C++ IPC framework (`l4sys/include/cxx/ipc_iface`):
//! an `int` opcode at byte 0, then each input argument at its natural
//! alignment, variable arrays as their length then the elements, and
//! capabilities as typed items after the words. The layouts below are those
//! the framework produces for the signatures in `l4re/include/*`.

use super::{Cap, item, proto};
use crate::MsgTag;
use crate::layout::PAGE_SIZE as PAGE;

/// Most bytes one vcon write carries (`L4_VCON_WRITE_SIZE`).
pub const VCON_WRITE_MAX: usize = (super::utcb::MR_WORDS - 2) * 8;

/// The buffer-register word that receives one capability into `slot`.
pub const fn rcv_cap(slot: Cap) -> u64 {
    (slot.0 & !0xfff) | item::RCV_SINGLE_CAP
}

/// The two words of a map item sending `cap` with `rights` (`L4_CAP_FPAGE_*`).
pub const fn map_item(cap: Cap, rights: u64) -> [u64; 2] {
    [item::MAP, item::obj_fpage(cap, rights)]
}

/// Vcon write (`L4_VCON_WRITE_OP`, label [`proto::LOG`]): `[0, length,
/// bytes...]`. Longer text is cut to [`VCON_WRITE_MAX`]; returns the tag and
/// the bytes taken.
pub fn vcon_write(mr: &mut [u64], text: &[u8]) -> (MsgTag, usize) {
    let n = text.len().min(VCON_WRITE_MAX);
    mr[0] = 0;
    mr[1] = n as u64;
    let words = crate::message::pack(&text[..n], &mut mr[2..]);
    (MsgTag::new(proto::LOG, 2 + words, 0), n)
}

/// Most bytes one vcon read returns (`L4_VCON_READ_SIZE`).
pub const VCON_READ_MAX: usize = (super::utcb::MR_WORDS - 1) * 8;

/// Vcon read (`l4_vcon_read_with_flags`, `L4_VCON_READ_OP`): up to `size`
/// bytes (at most [`VCON_READ_MAX`]), answered in [`vcon_read_answer`]'s form.
pub fn vcon_read(mr: &mut [u64], size: usize) -> MsgTag {
    mr[0] = ((size.min(VCON_READ_MAX) as u64) << 16) | 1;
    MsgTag::new(proto::LOG, 1, 0)
}

/// A vcon read's answer word: how many of the `asked` bytes follow (in the
/// words after it), and whether more input is waiting
/// (`L4_VCON_READ_STAT_DONE` clear).
pub const fn vcon_read_answer(word: u64, asked: usize) -> (usize, bool) {
    let n = (word & 0x3fff_ffff) as usize;
    let done = word & (1 << 31) != 0;
    (if n < asked { n } else { asked }, !done)
}

/// A console's attributes (`l4_vcon_attr_t`): input, output and local flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VconAttr {
    pub i_flags: u64,
    pub o_flags: u64,
    pub l_flags: u64,
}

impl VconAttr {
    /// `L4_VCON_ICRNL`: a CR in the input becomes NL.
    pub const ICRNL: u64 = 0o400;
    /// `L4_VCON_ICANON`: the console collects whole lines.
    pub const ICANON: u64 = 0o2;
    /// `L4_VCON_ECHO`: the console echoes its input.
    pub const ECHO: u64 = 0o10;

    pub const fn from_words(w: [u64; 3]) -> VconAttr {
        VconAttr { i_flags: w[0], o_flags: w[1], l_flags: w[2] }
    }
}

/// `l4_vcon_get_attr`: the answer's words 1 to 3 are a [`VconAttr`].
pub fn vcon_get_attr(mr: &mut [u64]) -> MsgTag {
    mr[0] = 3;
    MsgTag::new(proto::LOG, 1, 0)
}

/// `l4_vcon_set_attr`.
pub fn vcon_set_attr(mr: &mut [u64], a: VconAttr) -> MsgTag {
    mr[..4].copy_from_slice(&[2, a.i_flags, a.o_flags, a.l_flags]);
    MsgTag::new(proto::LOG, 4, 0)
}

const VARG_UMWORD: u64 = 0x01 | (8 << 16);
const VARG_MWORD: u64 = 0x81 | (8 << 16);

/// Mem_alloc flag: physically contiguous memory.
pub const MEM_CONTINUOUS: u64 = 1;
/// Mem_alloc flag: pinned (never paged out).
pub const MEM_PINNED: u64 = 2;
/// Mem_alloc flag: backed by superpages (2 MiB on x86-64), which the
/// dataspace then maps whole.
pub const MEM_SUPER_PAGES: u64 = 4;

/// `Mem_alloc::alloc`: a factory create of a [`proto::DATASPACE`] with the size,
/// flags and alignment (log2, 0 for the default) as typed arguments. The
/// dataspace lands in the slot of buffer register 0.
pub fn mem_alloc(mr: &mut [u64], size: u64, flags: u64, align: u64) -> MsgTag {
    mr[..7].copy_from_slice(&[proto::DATASPACE as u64, VARG_MWORD, size, VARG_UMWORD, flags, VARG_UMWORD, align]);
    MsgTag::new(proto::FACTORY, 7, 0)
}

/// A factory create of a kernel object without arguments: a thread
/// ([`proto::THREAD`]) or an IRQ ([`proto::IRQ_SENDER`]).
pub fn factory_create(mr: &mut [u64], object: i64) -> MsgTag {
    mr[0] = object as u64;
    MsgTag::new(proto::FACTORY, 1, 0)
}

/// A factory create of a factory with a quota of `limit` bytes
/// (`l4_factory_create_factory`). On the kernel's factory the new one pays
/// for the kernel objects made through it out of `limit`; on moe's
/// allocator (`L4::Factory::Protocol` in its `op_create`) it is an
/// allocator whose dataspaces `limit` bounds, and which is not moe's root,
/// so it cannot make schedulers.
pub fn factory_create_factory(mr: &mut [u64], limit: u64) -> MsgTag {
    mr[..3].copy_from_slice(&[proto::FACTORY as u64, VARG_UMWORD, limit]);
    MsgTag::new(proto::FACTORY, 3, 0)
}

/// Moe's root allocator creates a scheduler proxy (`Sched_proxy`): a thread
/// it runs at priority `p` runs at `min(p + base, max)` (`max > base`).
pub fn factory_create_scheduler(mr: &mut [u64], max: u64, base: u64) -> MsgTag {
    mr[..5].copy_from_slice(&[proto::SCHEDULER as u64, VARG_MWORD, max, VARG_MWORD, base]);
    MsgTag::new(proto::FACTORY, 5, 0)
}

/// A factory create of an IPC gate with `label`, bound to `thread` if given.
pub fn factory_create_gate(mr: &mut [u64], thread: Option<Cap>, label: u64) -> MsgTag {
    mr[0] = 0;
    mr[1] = VARG_UMWORD;
    mr[2] = label;
    match thread {
        Some(t) => {
            mr[3..5].copy_from_slice(&map_item(t, item::CAP_RWS));
            MsgTag::new(proto::FACTORY, 3, 1)
        }
        None => MsgTag::new(proto::FACTORY, 3, 0),
    }
}

/// `l4_rcv_ep_bind_thread` on a gate or IRQ: messages through it go to
/// `thread` with `label`.
pub fn rcv_ep_bind(mr: &mut [u64], thread: Cap, label: u64) -> MsgTag {
    mr[0] = 0x10;
    mr[1] = label;
    mr[2..4].copy_from_slice(&map_item(thread, item::CAP_RWS));
    MsgTag::new(proto::KOBJECT, 2, 1)
}

/// Thread control: set pager and exception handler and bind the thread to
/// `task` with its UTCB at `utcb` (`l4_thread_control_*`).
pub fn thread_control_bind(mr: &mut [u64], pager: Cap, exc_handler: Cap, utcb: u64, task: Cap) -> MsgTag {
    const SET_PAGER: u64 = 0x001_0000;
    const BIND_TASK: u64 = 0x020_0000;
    const SET_EXC_HANDLER: u64 = 0x100_0000;
    mr[0] = SET_PAGER | BIND_TASK | SET_EXC_HANDLER;
    mr[1] = pager.0;
    mr[2] = exc_handler.0;
    mr[3] = 0;
    mr[4] = 0;
    mr[5] = utcb;
    mr[6..8].copy_from_slice(&map_item(task, item::CAP_RWS));
    MsgTag::new(proto::THREAD, 6, 1)
}

/// `l4_thread_ex_regs`: set instruction and stack pointer.
pub fn thread_ex_regs(mr: &mut [u64], ip: u64, sp: u64, flags: u64) -> MsgTag {
    mr[0] = 1 | flags;
    mr[1] = ip;
    mr[2] = sp;
    MsgTag::new(proto::THREAD, 3, 0)
}

/// `l4_thread_stats_time`: the answer's word 0 is the time the thread has
/// consumed, in microseconds.
pub fn thread_stats_time(mr: &mut [u64]) -> MsgTag {
    mr[0] = 3;
    MsgTag::new(proto::THREAD, 1, 0)
}

/// A supervised child tells its supervisor of a thread it started
/// ([`proto::RESURGO_THREAD`]): one word (0) and the thread's capability,
/// without the right to delete it.
pub fn thread_announce(mr: &mut [u64], thread: Cap) -> MsgTag {
    mr[0] = 0;
    mr[1..3].copy_from_slice(&map_item(thread, item::CAP_RWS));
    MsgTag::new(proto::RESURGO_THREAD, 1, 1)
}

/// `l4_scheduler_run_thread` at `prio` on every CPU the scheduler has.
pub fn scheduler_run_thread(mr: &mut [u64], thread: Cap, prio: u64) -> MsgTag {
    mr[0] = 1;
    mr[1] = 0xff << 24; // granularity ~0, offset 0 (`l4_sched_cpu_set(0, ~0, 1)`)
    mr[2] = 1;
    mr[3] = prio;
    mr[4] = 0; // the default quantum
    mr[5..7].copy_from_slice(&map_item(thread, item::CAP_RWS));
    MsgTag::new(proto::SCHEDULER, 5, 1)
}

/// `Dataspace::info` (opcode 2): answers `[size, flags, ...]`.
pub fn ds_info(mr: &mut [u64]) -> MsgTag {
    mr[0] = 2;
    MsgTag::new(proto::DATASPACE, 1, 0)
}

/// `Dataspace::map` (opcode 0): the dataspace's memory at `offset`, into
/// the caller's receive window (buffer registers [`rcv_mem_window`]) at
/// `spot` bytes into it, with the rights and caching `flags`
/// (`Dataspace::F`: R 4, W 2, X 1, uncached 0x20). Answers label 0 and the
/// mapping as a received map item in `mr[0..2]` ([`received_order`]): the
/// kernel maps at most the window, and less where the server's memory is
/// in smaller pieces.
pub fn ds_map(mr: &mut [u64], offset: u64, spot: u64, flags: u64) -> MsgTag {
    mr[..4].copy_from_slice(&[0, offset, spot, flags]);
    MsgTag::new(proto::DATASPACE, 4, 0)
}

/// The buffer registers of a receive window for memory: `[base, base + (1
/// << order))` of the receiver's own address space.
pub const fn rcv_mem_window(base: u64, order: u32) -> [u64; 2] {
    [item::MAP, mem_fpage(base, order, 0)]
}

/// The order of what a received map item brought, from the item's first
/// word as the kernel left it in the receiver's registers (`Snd_fpage::rcv_order`).
pub const fn received_order(item: u64) -> u32 {
    ((item >> 6) & 0x3f) as u32
}

/// Region-manager flag: pick a free address (`Rm::F::Search_addr`).
pub const RM_SEARCH_ADDR: u32 = 0x2_0000;
/// Region-manager flag: map the whole region now (`Rm::F::Eager_map`).
pub const RM_EAGER_MAP: u32 = 0x8_0000;
/// Region-manager region flag: kernel-user memory (`Rm::F::Kernel`), a
/// region no dataspace backs.
pub const RM_KERNEL: u32 = 0x100;
/// Region rights (`Rm::F::R`, `W`, `X`).
pub const RM_R: u32 = 4;
pub const RM_W: u32 = 2;
pub const RM_X: u32 = 1;

/// `Rm::attach` (opcode 0) of `size` bytes of dataspace `ds` from `offset`,
/// at `addr` (or anywhere, with [`RM_SEARCH_ADDR`]), aligned to `1 << align`.
/// Answers label 0 and the address in `mr[0]`.
///
/// Words: opcode, start, size, flags (u32), offset, align (u8), the
/// dataspace's selector again (the optional client capability), the region's
/// name (length 1, `"\0"`), the backing offset; then `ds` as a map item.
pub fn rm_attach(mr: &mut [u64], addr: u64, size: u64, flags: u32, ds: Cap, offset: u64, align: u8) -> MsgTag {
    mr[..10].copy_from_slice(&[0, addr, size, flags as u64, offset, align as u64, ds.0 & !0xfff, 1, 0, 0]);
    mr[10..12].copy_from_slice(&[item::MAP, item::obj_fpage(ds, item::CAP_R | item::CAP_W)]);
    MsgTag::new(proto::RM, 10, 1)
}

/// The end of the user half of an x86-64 address space (47 bits).
const USER_END: u64 = 1 << 47;

/// The address `Rm::attach`'s answer gives the region of `size` bytes
/// (`mr0`), if it can be one: the answer has its word, and the region is
/// page aligned, not at 0 and ends within the user half. A region manager
/// that answers otherwise (a stale word, a hostile parent) is not believed:
/// the caller would write its stack or heap wherever the word pointed.
pub fn rm_attach_answer(reply: MsgTag, mr0: u64, size: u64) -> Option<u64> {
    let fits = mr0.checked_add(size).is_some_and(|end| end <= USER_END);
    (reply.words() >= 1 && mr0 != 0 && mr0.is_multiple_of(PAGE) && fits).then_some(mr0)
}

/// `Rm::attach` of `1 << order` bytes of kernel-user memory anywhere (no
/// dataspace, so no item), as L4Re's `kumem_alloc` reserves it before
/// `Task::add_ku_mem`. Answers label 0 and the address in `mr[0]`.
pub fn rm_attach_kumem(mr: &mut [u64], order: u8) -> MsgTag {
    let flags = RM_SEARCH_ADDR | RM_KERNEL | RM_R | RM_W;
    mr[..10].copy_from_slice(&[0, 0, 1 << order, flags as u64, 0, order as u64, Cap::INVALID.0 & !0xfff, 1, 0, 0]);
    MsgTag::new(proto::RM, 10, 0)
}

/// `Task::add_ku_mem` (opcode 3): the memory flexpage `fpage` of this
/// task's address space becomes kernel-user memory, room for more UTCBs.
pub fn task_add_ku_mem(mr: &mut [u64], fpage: u64) -> MsgTag {
    mr[..2].copy_from_slice(&[3, fpage]);
    MsgTag::new(proto::TASK, 2, 0)
}

/// Memory flexpage of `1 << order` bytes at `addr` with `rights`
/// (`l4_fpage`, rights as `L4_FPAGE_RO` 4 | `W` 2 | `X` 1).
pub const fn mem_fpage(addr: u64, order: u32, rights: u64) -> u64 {
    const FPAGE_MEMORY: u64 = 1;
    (addr & !0xfff) | ((order as u64) << 6) | (FPAGE_MEMORY << 4) | (rights & 0xf)
}

/// `Rm::Unmapped_range`, in `Rm::detach`'s positive answer: the region
/// manager unmapped the pages itself (else the caller must).
pub const RM_DETACH_UNMAPPED: u64 = 8;

/// `Rm::detach` (opcode 1) of the region at `addr`: `[opcode, addr, size, flags]`.
/// The answer's label is `Rm::Detach_result` bits (or an error), its words
/// the detached range's start and size.
pub fn rm_detach(mr: &mut [u64], addr: u64, size: u64) -> MsgTag {
    mr[..4].copy_from_slice(&[1, addr, size, 0]);
    MsgTag::new(proto::RM, 4, 0)
}

/// The answer to an `Rm::detach` that detached `[start, start + size)` and
/// unmapped it: label `Detached_ds | Unmapped_range`, words the range and
/// the dataspace capability (none is given back).
pub fn rm_detach_answer(mr: &mut [u64], start: u64, size: u64) -> MsgTag {
    mr[..3].copy_from_slice(&[start, size, Cap::INVALID.0]);
    MsgTag::new(RM_DETACH_UNMAPPED as i64, 3, 0)
}

/// What an `Rm::detach` of `[addr, addr + size)` answered with `reply`
/// (words `mr`) leaves the caller to unmap: `None` if the region manager
/// unmapped the range itself. The range is cut to the pages asked for
/// (a detach without `Detach_overlap` frees nothing outside them), and an
/// answer without the range yields none: a region manager that answers
/// wrongly cannot make the caller unmap its own text.
pub fn rm_detach_left(reply: MsgTag, mr: &[u64], addr: u64, size: u64) -> Option<(u64, u64)> {
    if reply.label() as u64 & RM_DETACH_UNMAPPED != 0 || reply.words() < 2 || mr.len() < 2 {
        return None;
    }
    let lo = addr & !(PAGE - 1);
    let hi = addr.checked_add(size)?.checked_next_multiple_of(PAGE)?;
    let start = mr[0].max(lo);
    let end = mr[0].checked_add(mr[1]).and_then(|e| e.checked_next_multiple_of(PAGE)).unwrap_or(u64::MAX).min(hi);
    (start < end && start.is_multiple_of(PAGE)).then(|| (start, end - start))
}

/// `Parent::signal` (opcode 0): signal 0 with a value is the task's exit.
pub fn parent_signal(mr: &mut [u64], sig: u64, val: u64) -> MsgTag {
    mr[..3].copy_from_slice(&[0, sig, val]);
    MsgTag::new(proto::PARENT, 3, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_announced_with_its_capability_and_its_time_asked_as_l4sys_does() {
        let mut mr = [0u64; 8];
        let tag = thread_stats_time(&mut mr);
        // L4_THREAD_STATS_OP, one word, on the thread protocol.
        assert_eq!((tag.label(), tag.words(), tag.items(), mr[0]), (proto::THREAD, 1, 0, 3));
        let thread = Cap::from_index(0x42);
        let tag = thread_announce(&mut mr, thread);
        assert_eq!((tag.label(), tag.words(), tag.items(), mr[0]), (proto::RESURGO_THREAD, 1, 1, 0));
        // A map item of the one capability, without the right to delete it.
        assert_eq!([mr[1], mr[2]], map_item(thread, item::CAP_RWS));
        assert_eq!(mr[2] & item::CAP_RWSD, item::CAP_RWS);
    }

    #[test]
    fn vcon_read_and_attributes_are_encoded_as_l4sys_does() {
        let mut mr = [0u64; 8];
        let tag = vcon_read(&mut mr, 64);
        assert_eq!((tag.label(), tag.words(), mr[0]), (proto::LOG, 1, (64 << 16) | 1));
        vcon_read(&mut mr, 100_000);
        assert_eq!(mr[0] >> 16, VCON_READ_MAX as u64);
        // 5 bytes, done; 64 bytes and more waiting; a size above the asked is cut.
        assert_eq!(vcon_read_answer(5 | 1 << 31, 64), (5, false));
        assert_eq!(vcon_read_answer(64, 64), (64, true));
        assert_eq!(vcon_read_answer(70 | 1 << 31, 64), (64, false));
        let tag = vcon_get_attr(&mut mr);
        assert_eq!((tag.words(), mr[0]), (1, 3));
        let a = VconAttr { i_flags: VconAttr::ICRNL, o_flags: 4, l_flags: 0 };
        let tag = vcon_set_attr(&mut mr, a);
        assert_eq!((tag.words(), &mr[..4]), (4, &[2, 0o400, 4, 0][..]));
        assert_eq!(VconAttr::from_words([0o400, 4, 0]), a);
    }

    #[test]
    fn dataspace_maps_are_encoded_as_l4re_does() {
        let mut mr = [0u64; 8];
        let tag = ds_map(&mut mr, 0x3000, 0, 6);
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::DATASPACE, 4, 0));
        assert_eq!(&mr[..4], &[0, 0x3000, 0, 6]);
        // A 2 MiB window at 0x4020_0000: the map-item word, then the memory flexpage.
        assert_eq!(rcv_mem_window(0x4020_0000, 21), [8, 0x4020_0000 | 21 << 6 | 1 << 4]);
        // As Fiasco.OC left them after a 2 MiB and a 4 MiB mapping (seen on the console).
        assert_eq!((received_order(0x558), received_order(0x598)), (21, 22));
        assert_eq!(received_order(item::MAP | 12 << 6), 12);
    }

    #[test]
    fn vcon() {
        let mut mr = [0u64; 64];
        let (tag, n) = vcon_write(&mut mr, b"hello, fiasco\n");
        assert_eq!((tag.label(), tag.words(), tag.items(), n), (-13, 4, 0, 14));
        assert_eq!(mr[1], 14);
        assert_eq!(&mr[2].to_le_bytes(), b"hello, f");
        let long = [b'x'; 1000];
        let (tag, n) = vcon_write(&mut mr, &long);
        assert_eq!(n, VCON_WRITE_MAX);
        assert_eq!(tag.words(), 63);
    }

    #[test]
    fn mem_alloc_matches_the_freestanding_example() {
        // examples/fs.c in the shared L4Re build: 2 MiB, contiguous.
        let mut mr = [0u64; 64];
        let tag = mem_alloc(&mut mr, 2 << 20, MEM_CONTINUOUS, 0);
        assert_eq!(&mr[..7], &[0x4000, 0x81 | (8 << 16), 2 << 20, 0x01 | (8 << 16), 1, 0x01 | (8 << 16), 0]);
        assert_eq!(tag.0, ((-15i64 as u64) << 16) | 7);
        assert_eq!(rcv_cap(Cap::from_index(0x41f)), 0x41f00a);
    }

    #[test]
    fn sub_factories_and_scheduler_proxies_carry_typed_arguments() {
        // l4_factory_create_factory: the protocol, then the limit as an
        // unsigned word; moe's Sched_proxy: the maximum, then the base.
        let mut mr = [0u64; 64];
        let tag = factory_create_factory(&mut mr, 1 << 20);
        assert_eq!(&mr[..3], &[(-15i64) as u64, 0x01 | (8 << 16), 1 << 20]);
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::FACTORY, 3, 0));
        let tag = factory_create_scheduler(&mut mr, 4, 0);
        assert_eq!(&mr[..5], &[(-14i64) as u64, 0x81 | (8 << 16), 4, 0x81 | (8 << 16), 0]);
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::FACTORY, 5, 0));
    }

    #[test]
    fn kernel_user_memory_grows_the_utcb_room() {
        let mut mr = [0u64; 64];
        let tag = rm_attach_kumem(&mut mr, 14);
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::RM, 10, 0));
        assert_eq!(&mr[..6], &[0, 0, 1 << 14, 0x2_0106, 0, 14]);
        // l4_fpage(0xb3004000, 14, L4_FPAGE_RW)
        assert_eq!(mem_fpage(0xb300_4000, 14, 6), 0xb300_4000 | 14 << 6 | 0x16);
        let tag = task_add_ku_mem(&mut mr, mem_fpage(0xb300_4000, 14, 6));
        assert_eq!((tag.label(), tag.words(), mr[0]), (proto::TASK, 2, 3));
    }

    #[test]
    fn items_follow_the_words() {
        let mut mr = [0u64; 64];
        let tag = thread_control_bind(&mut mr, Cap(0x1f010), Cap(0x1f010), 0xb300_0800, Cap::from_index(1));
        assert_eq!((tag.words(), tag.items()), (6, 1));
        assert_eq!(mr[6..8], [8, 0x1037]);
        let tag = rm_attach(&mut mr, 0, 0x10000, RM_SEARCH_ADDR | RM_R | RM_W, Cap::from_index(0x420), 0, 12);
        assert_eq!((tag.label(), tag.words(), tag.items()), (0x4005, 10, 1));
        assert_eq!(mr[3], 0x2_0006);
        assert_eq!(mr[10..12], [8, 0x420035]);
        let tag = factory_create_gate(&mut mr, None, 0x40);
        assert_eq!((tag.words(), tag.items()), (3, 0));
    }

    #[test]
    fn an_attach_answer_is_believed_only_when_it_can_be_a_region() {
        let answer = MsgTag::new(0, 1, 0);
        assert_eq!(rm_attach_answer(answer, 0x1_0000_0000, 0x80_0000), Some(0x1_0000_0000));
        // The word the child once took for its stack's region (a clobbered answer).
        assert_eq!(rm_attach_answer(answer, 0x318, 0x1_0000), None);
        assert_eq!(rm_attach_answer(answer, 0, 0x1000), None);
        assert_eq!(rm_attach_answer(MsgTag::new(0, 0, 0), 0x40_0000, 0x1000), None);
        assert_eq!(rm_attach_answer(answer, USER_END - 0x1000, 0x2000), None);
        assert_eq!(rm_attach_answer(answer, !0xfff, 0x1000), None);
        assert_eq!(rm_attach_answer(answer, USER_END - 0x1000, 0x1000), Some(USER_END - 0x1000));
    }

    #[test]
    fn a_detach_answer_leaves_only_the_asked_pages_to_unmap() {
        let mut mr = [0u64; 4];
        // Resurgo's region manager in the parent unmapped the range itself.
        let tag = rm_detach_answer(&mut mr, 0x40_0000, 0x2000);
        assert_eq!(rm_detach_left(tag, &mr, 0x40_0000, 0x2000), None);
        // L4Re's: the region, to unmap here.
        let tag = MsgTag::new(0, 3, 0);
        assert_eq!(rm_detach_left(tag, &[0x40_0000, 0x1800, 0], 0x40_0000, 0x1800), Some((0x40_0000, 0x2000)));
        // An answer beyond the asked pages is cut to them; one outside them,
        // or without its words, leaves nothing (it once unmapped the text).
        assert_eq!(rm_detach_left(tag, &[0x1, 0x11bd_6000, 0], 0x11bd_6000, 0x1000), Some((0x11bd_6000, 0x1000)));
        assert_eq!(rm_detach_left(tag, &[0x40_0000, 0x1000, 0], 0x11bd_6000, 0x1000), None);
        assert_eq!(rm_detach_left(MsgTag::new(0, 0, 0), &[0x11bd_6000, 0x1000], 0x11bd_6000, 0x1000), None);
        assert_eq!(rm_detach_left(tag, &[u64::MAX - 0xfff, 0x1000, 0], u64::MAX - 0xfff, 0x1000), None);
    }
}

//! What a task needs to start and supervise others on Fiasco.OC: creating a
//! task (`l4_factory_create_task`), mapping memory and capabilities into it
//! (`l4_task_map`), taking them back (`l4_task_unmap`), and the messages the
//! kernel sends a pager and exception handler: page faults
//! (`L4_PROTO_PAGE_FAULT`, `[address | flags, ip]`) and exceptions
//! (`L4_PROTO_EXCEPTION`, the registers as `l4_exc_regs_t`). The region
//! manager's requests a pager serves for its children (`Rm::attach`,
//! `detach`) are decoded here too (`l4re/include/rm`,
//! `l4sys/include/task.h`, `factory.h`, `ARCH-amd64/arch/utcb.h`).

use super::{Cap, item, proto};
use crate::MsgTag;

/// `L4_VARG_TYPE_FPAGE` with its size (8), for a factory argument.
const VARG_FPAGE: u64 = 0x03 | (8 << 16);

/// `l4_factory_create_task`: a task with its UTCB area at the memory
/// flexpage `utcb_area`. The new task lands in buffer register 0's slot.
pub fn factory_create_task(mr: &mut [u64], utcb_area: u64) -> MsgTag {
    mr[..3].copy_from_slice(&[proto::TASK as u64, VARG_FPAGE, utcb_area]);
    MsgTag::new(proto::FACTORY, 3, 0)
}

/// Cacheability of a memory send item: as the sender's mapping.
pub const CACHE_AS_SENDER: u64 = 0;

/// `l4_map_control(base, cache, 0)`: where a send item lands in the
/// receiver's space (a page address, or a capability selector).
pub const fn map_control(base: u64, cache: u64) -> u64 {
    (base & !0xfff) | (cache << 4) | item::MAP
}

/// `l4_task_map(dst, src, fpage, base)`, sent to the destination task:
/// the flexpage `fpage` of the source task `src` (memory or capabilities)
/// lands at `base` in the destination.
pub fn task_map(mr: &mut [u64], src: Cap, fpage: u64, base: u64) -> MsgTag {
    mr[..5].copy_from_slice(&[0, base, fpage, item::MAP, item::obj_fpage(src, item::CAP_RWS)]);
    MsgTag::new(proto::TASK, 3, 1)
}

/// `l4_task_unmap(task, fpage, mask)`: takes the flexpage back from the task
/// (and, with [`UNMAP_ALL_SPACES`], from everyone it was mapped to from there).
pub fn task_unmap(mr: &mut [u64], fpage: u64, mask: u64) -> MsgTag {
    mr[..3].copy_from_slice(&[1, mask, fpage]);
    MsgTag::new(proto::TASK, 3, 0)
}

/// `l4_task_cap_valid(task, cap)`: the answer's label is positive when the
/// slot `cap` of the task names an object, 0 when it is empty.
pub fn task_cap_valid(mr: &mut [u64], cap: Cap) -> MsgTag {
    mr[..2].copy_from_slice(&[2, cap.0 & !1]);
    MsgTag::new(proto::TASK, 2, 0)
}

/// `L4_FPAGE_C_OBJ_RIGHTS`, in a capability map's send base: the object's
/// own rights (an IPC gate's server right, `L4_FPAGE_C_IPCGATE_SVR`, that
/// binding it needs) go along, as far as the sender has them.
pub const OBJ_RIGHTS: u64 = 0xe0;

/// `L4_FP_ALL_SPACES`.
pub const UNMAP_ALL_SPACES: u64 = 0x8000_0000;
/// `L4_FP_DELETE_OBJ`: unmapping a capability with its D right deletes the object.
pub const UNMAP_DELETE_OBJ: u64 = 0xc000_0000;

/// Memory flexpage rights (`L4_FPAGE_RO` 4, `W` 2, `X` 1).
pub const FPAGE_R: u64 = 4;
pub const FPAGE_W: u64 = 2;
pub const FPAGE_X: u64 = 1;

/// The flexpages, largest first, that cover `[src, src + size)` so that each
/// lands at the same offset from `dst`: each is aligned to its size in both
/// spaces, at most `1 << max_order` bytes. Yields `(src, dst, order)`.
pub fn chunks(src: u64, dst: u64, size: u64, max_order: u32) -> impl Iterator<Item = (u64, u64, u32)> {
    let mut off = 0u64;
    core::iter::from_fn(move || {
        if off >= size {
            return None;
        }
        let (s, d, left) = (src + off, dst + off, size - off);
        let mut order = 12;
        while order < max_order {
            let next = 1u64 << (order + 1);
            if s % next != 0 || d % next != 0 || left < next {
                break;
            }
            order += 1;
        }
        off += 1 << order;
        Some((s, d, order))
    })
}

/// A page fault as the kernel reports it to the pager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFault {
    pub addr: u64,
    pub write: bool,
    pub ip: u64,
}

impl PageFault {
    /// From the message words of a [`proto::PAGE_FAULT`] message.
    pub fn decode(mr: &[u64]) -> PageFault {
        PageFault { addr: mr[0] & !7, write: mr[0] & 2 != 0, ip: mr[1] }
    }
}

/// An exception as the kernel reports it to the exception handler: the
/// fields of `l4_exc_regs_t` that say what happened (amd64 layout: r15 ..
/// rax, then trapno, err, ip, dummy, flags, sp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub trapno: u64,
    pub err: u64,
    pub ip: u64,
    pub sp: u64,
    pub pfa: u64,
}

impl Exception {
    pub const WORDS: usize = 22;

    pub fn decode(mr: &[u64]) -> Exception {
        Exception { trapno: mr[16], err: mr[17], ip: mr[18], sp: mr[21], pfa: mr[11] }
    }

    /// The x86 name of the trap.
    pub fn name(&self) -> &'static str {
        match self.trapno {
            0 => "divide-error",
            1 => "debug",
            3 => "breakpoint",
            4 => "overflow",
            5 => "bound-range",
            6 => "invalid-opcode",
            7 => "device-not-available",
            8 => "double-fault",
            10 => "invalid-tss",
            11 => "segment-not-present",
            12 => "stack-fault",
            13 => "general-protection",
            14 => "page-fault",
            16 => "x87-fault",
            17 => "alignment-check",
            19 => "simd-fault",
            _ => "exception",
        }
    }
}

/// A region-manager request from a child, as a pager that is its region
/// manager receives it (`L4Re::Rm`, label [`proto::RM`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RmRequest {
    /// `attach`: `size` bytes of the dataspace that came with the message
    /// (none for kernel-user memory) from `offset`, at `addr` or anywhere
    /// with `search`, aligned to `1 << align`.
    Attach {
        addr: u64,
        size: u64,
        flags: u32,
        offset: u64,
        align: u8,
        with_ds: bool,
    },
    Detach {
        addr: u64,
        size: u64,
    },
    Other(u64),
}

impl RmRequest {
    /// The request in `words` message words with `items` items (see
    /// [`super::msg::rm_attach`] for the layout).
    pub fn decode(mr: &[u64], words: usize, items: usize) -> Option<RmRequest> {
        match *mr.first()? & 0xffff_ffff {
            0 if words >= 6 => Some(RmRequest::Attach {
                addr: mr[1],
                size: mr[2],
                flags: mr[3] as u32,
                offset: mr[4],
                align: mr[5] as u8,
                with_ds: items > 0,
            }),
            1 if words >= 3 => Some(RmRequest::Detach { addr: mr[1], size: mr[2] }),
            op if words >= 1 => Some(RmRequest::Other(op)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiasco::msg;

    #[test]
    fn create_and_map() {
        let mut mr = [0u64; 64];
        let fp = msg::mem_fpage(0xb300_0000, 14, 0);
        let tag = factory_create_task(&mut mr, fp);
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::FACTORY, 3, 0));
        assert_eq!(mr[..3], [-11i64 as u64, 0x8_0003, 0xb300_0000 | 14 << 6 | 0x10]);
        // l4_task_map(dst, L4RE_THIS_TASK_CAP, l4_obj_fpage(0x20 << 12, 0, RWS), 5 << 12 | L4_ITEM_MAP)
        let tag =
            task_map(&mut mr, Cap::from_index(1), item::obj_fpage(Cap::from_index(0x20), 7), map_control(0x5000, 0));
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::TASK, 3, 1));
        assert_eq!(mr[..5], [0, 0x5008, 0x20037, 8, 0x1037]);
        let tag = task_unmap(&mut mr, 0x1234_5037, UNMAP_ALL_SPACES);
        assert_eq!((tag.words(), mr[0], mr[1]), (3, 1, 0x8000_0000));
        // L4_TASK_CAP_INFO_OP with the selector.
        let tag = task_cap_valid(&mut mr, Cap::from_index(0x42));
        assert_eq!((tag.label(), tag.words(), tag.items()), (proto::TASK, 2, 0));
        assert_eq!(mr[..2], [2, 0x42000]);
    }

    #[test]
    fn chunks_follow_both_alignments() {
        let c: std::vec::Vec<_> = chunks(0x20_0000, 0x1020_0000, 0x40_3000, 21).collect();
        assert_eq!(
            c,
            [
                (0x20_0000, 0x1020_0000, 21),
                (0x40_0000, 0x1040_0000, 21),
                (0x60_0000, 0x1060_0000, 13),
                (0x60_2000, 0x1060_2000, 12)
            ]
        );
        // Different alignment in the two spaces: pages.
        assert!(chunks(0x1000, 0x2000, 0x4000, 21).all(|(_, _, o)| o == 12));
        assert_eq!(chunks(0x1000, 0x2000, 0x4000, 21).count(), 4);
        assert_eq!(chunks(0, 0, 0, 21).count(), 0);
    }

    #[test]
    fn fault_messages() {
        let pf = PageFault::decode(&[0x7f_f00a, 0x40_1234]);
        assert_eq!(pf, PageFault { addr: 0x7f_f008, write: true, ip: 0x40_1234 });
        let mut regs = [0u64; Exception::WORDS];
        regs[16] = 6;
        regs[18] = 0x40_5678;
        regs[21] = 0x7fff_0000;
        let e = Exception::decode(&regs);
        assert_eq!((e.name(), e.ip, e.sp), ("invalid-opcode", 0x40_5678, 0x7fff_0000));
    }

    #[test]
    fn rm_requests() {
        let mut mr = [0u64; 64];
        let tag =
            msg::rm_attach(&mut mr, 0, 0x10000, msg::RM_SEARCH_ADDR | msg::RM_R, Cap::from_index(0x40), 0x2000, 12);
        let r = RmRequest::decode(&mr, tag.words(), tag.items()).unwrap();
        assert_eq!(
            r,
            RmRequest::Attach {
                addr: 0,
                size: 0x10000,
                flags: msg::RM_SEARCH_ADDR | msg::RM_R,
                offset: 0x2000,
                align: 12,
                with_ds: true
            }
        );
        let tag = msg::rm_attach_kumem(&mut mr, 14);
        assert!(matches!(
            RmRequest::decode(&mr, tag.words(), tag.items()),
            Some(RmRequest::Attach { with_ds: false, align: 14, .. })
        ));
        let tag = msg::rm_detach(&mut mr, 0x1000_0000, 0x4000);
        assert_eq!(RmRequest::decode(&mr, tag.words(), 0), Some(RmRequest::Detach { addr: 0x1000_0000, size: 0x4000 }));
        assert_eq!(RmRequest::decode(&[], 0, 0), None);
    }
}

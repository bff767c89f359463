//! The Fiasco.OC (L4Re microkernel) ABI on x86-64: the second backend of
//! `l4-sys`, next to Resurgo's own ([`crate::syscall`]).
//!
//! What both kernels share stays in the crate root and is used by both
//! backends unchanged: [`crate::MsgTag`] (Fiasco's layout), [`crate::CapIdx`]
//! (a selector is `index << 12` on both), [`crate::Rights`], [`crate::Error`]
//! (Fiasco's IPC and object errors are mapped onto it, [`error`]) and
//! [`crate::Timeout`] (encoded here as Fiasco's mantissa/exponent halves,
//! [`timeout`]). What differs lives in this module:
//!
//! * `syscall`: the register convention (`rax` tag, `rdx` selector | flags,
//!   `rsi` label, `r8` timeouts; `rdi`, `rcx`, `r11`, `r15` clobbered);
//! * [`utcb`]: the 1 KiB UTCB found through `%gs:0`;
//! * `env`: the L4Re environment a task started by ned finds in its aux
//!   vector, and its named initial capabilities;
//! * [`msg`]: the encodings of Fiasco's and L4Re's protocols that Resurgo's
//!   runtime speaks (vcon, factory, thread, scheduler, dataspace, region
//!   manager, parent), as plain functions that fill message registers, so that
//!   they are tested on the host.
//!
//! The facts come from l4re-core's public headers (`l4sys/include`,
//! `l4re/include`); `doc/fiasco.md` says which and how the seam works. A crate
//! selects this backend with the `fiasco` feature ([`crate::KERNEL`]): only
//! then do the system-call stubs (`syscall`, `utcb::current`) exist, so
//! that no task built for Resurgo's kernel can reach them. The encodings and
//! types are always there (and tested on the host).

pub mod env;
pub mod error;
pub mod limits;
pub mod msg;
#[cfg(feature = "fiasco")]
pub mod syscall;
pub mod task;
pub mod timeout;
pub mod utcb;
pub mod vbus;

/// A Fiasco capability selector: `index << 12`, the low bits free for the
/// syscall flags (and, for some servers' capabilities, bits of their own that
/// must be kept, so a selector is carried whole, not as an index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Cap(pub u64);

impl Cap {
    /// `L4_INVALID_CAP`: `~0 << 11`.
    pub const INVALID: Cap = Cap(!0u64 << 11);
    /// `L4_INVALID_CAP_BIT`.
    pub const INVALID_BIT: u64 = 1 << 11;

    pub const fn from_index(index: u64) -> Cap {
        Cap(index << crate::cap::CAP_SHIFT)
    }

    pub const fn index(self) -> u64 {
        self.0 >> crate::cap::CAP_SHIFT
    }

    pub const fn is_valid(self) -> bool {
        self.0 & Self::INVALID_BIT == 0
    }

    /// The same slot as Resurgo's shared capability index.
    pub const fn idx(self) -> crate::CapIdx {
        crate::CapIdx(self.index() as u32)
    }

    pub const fn from_idx(idx: crate::CapIdx) -> Cap {
        Cap(idx.selector())
    }
}

/// Message tag flag: the IPC failed, the code is in the UTCB's error word.
pub const TAG_ERROR: u64 = 0x8000;

/// Syscall flags in the low bits of the destination (`L4_SYSF_*`).
pub mod sysf {
    pub const SEND: u64 = 0x1;
    pub const RECV: u64 = 0x2;
    pub const OPEN_WAIT: u64 = 0x4;
    pub const REPLY: u64 = 0x8;
    pub const CALL: u64 = SEND | RECV;
    pub const WAIT: u64 = RECV | OPEN_WAIT;
    pub const REPLY_AND_WAIT: u64 = REPLY | SEND | RECV | OPEN_WAIT;
}

/// Protocol labels of kernel objects (`L4_PROTO_*`) and L4Re servers
/// (`L4RE_PROTO_*`). The kernel's match Resurgo's where Resurgo has the
/// object ([`crate::proto`]).
pub mod proto {
    pub const IRQ: i64 = -1;
    pub const PAGE_FAULT: i64 = -2;
    pub const PREEMPTION: i64 = -3;
    pub const SYS_EXCEPTION: i64 = -4;
    pub const EXCEPTION: i64 = -5;
    pub const IO_PAGE_FAULT: i64 = -8;
    pub const KOBJECT: i64 = -10;
    pub const TASK: i64 = -11;
    pub const THREAD: i64 = -12;
    pub const LOG: i64 = -13;
    pub const SCHEDULER: i64 = -14;
    pub const FACTORY: i64 = -15;
    pub const IRQ_SENDER: i64 = -18;
    /// L4Re's dataspace protocol (also the type a mem_alloc creates).
    pub const DATASPACE: i64 = 0x4000;
    pub const PARENT: i64 = 0x4002;
    pub const RM: i64 = 0x4005;
    /// Resurgo's own, on a supervised child's pager gate: the child started
    /// a thread, whose capability the message maps (so that the supervisor
    /// can read the time it consumes, `l4_thread_stats_time`).
    pub const RESURGO_THREAD: i64 = 0x5254;
}

/// Typed items (`L4_ITEM_MAP`, `L4_RCV_ITEM_SINGLE_CAP`, flexpage types).
pub mod item {
    pub const MAP: u64 = 8;
    /// A buffer register that receives one capability into its slot.
    pub const RCV_SINGLE_CAP: u64 = MAP | 2;
    pub const FPAGE_OBJ: u64 = 3;
    /// Capability rights in an object flexpage (`L4_CAP_FPAGE_*`).
    pub const CAP_R: u64 = 0x4;
    pub const CAP_W: u64 = 0x1;
    pub const CAP_S: u64 = 0x2;
    pub const CAP_D: u64 = 0x8;
    pub const CAP_RWS: u64 = CAP_R | CAP_W | CAP_S;
    pub const CAP_RWSD: u64 = CAP_RWS | CAP_D;

    /// `l4_obj_fpage(cap, 0, rights)`.
    pub const fn obj_fpage(cap: super::Cap, rights: u64) -> u64 {
        (cap.0 & !0xfff) | (FPAGE_OBJ << 4) | (rights & 0xf)
    }

    /// `l4_obj_fpage(cap, order, rights)`: `1 << order` slots from `cap`
    /// (which that many slots align).
    pub const fn obj_fpage_order(cap: super::Cap, order: u64, rights: u64) -> u64 {
        (cap.0 & !0xfff) | ((order & 0x3f) << 6) | (FPAGE_OBJ << 4) | (rights & 0xf)
    }

    /// `L4_WHOLE_ADDRESS_SPACE`: the order of a flexpage over a whole space.
    pub const WHOLE_SPACE: u64 = 63;

    /// `l4_obj_fpage(0, L4_WHOLE_ADDRESS_SPACE, rights)`: every slot of a
    /// capability space.
    pub const fn all_objects(rights: u64) -> u64 {
        (WHOLE_SPACE << 6) | (FPAGE_OBJ << 4) | (rights & 0xf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(Cap::from_index(5).0, 0x5000);
        assert!(!Cap::INVALID.is_valid());
        assert!(Cap::from_index(0x417).is_valid());
        assert_eq!(Cap(0x1f010).index(), 0x1f);
        assert_eq!(Cap::from_index(7).idx(), crate::CapIdx(7));
        assert_eq!(item::obj_fpage(Cap::from_index(3), item::CAP_RWS), 0x3037);
    }
}

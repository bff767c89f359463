//! Capability selectors, well-known slots and rights.
//!
//! A task names its capabilities by index into its capability table. On the wire a
//! selector is `index << 12` (Fiasco's `L4_CAP_SHIFT`), which leaves the low bits of
//! the first syscall register free for the operation flags.

use bitflags::bitflags;

/// Bits a selector is shifted by.
pub const CAP_SHIFT: u32 = 12;

/// Number of slots in a task's capability table.
pub const CAP_SLOTS: usize = 1024;

/// Index of a slot in the calling task's capability table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct CapIdx(pub u32);

impl CapIdx {
    /// Slot 0 never holds a capability: invoking it is an error, receiving from it
    /// with a timeout is a sleep.
    pub const INVALID: CapIdx = CapIdx(0);

    pub const fn selector(self) -> u64 {
        (self.0 as u64) << CAP_SHIFT
    }

    pub const fn from_selector(sel: u64) -> CapIdx {
        CapIdx((sel >> CAP_SHIFT) as u32)
    }

    pub const fn is_valid(self) -> bool {
        self.0 != 0 && (self.0 as usize) < CAP_SLOTS
    }
}

/// Slots every task starts with. The creator fills the rest; the task's environment
/// page (see [`crate::layout::ENV_PAGE`]) names them.
pub mod slot {
    use super::CapIdx;
    /// The task itself.
    pub const TASK: CapIdx = CapIdx(1);
    /// The task's first thread.
    pub const THREAD: CapIdx = CapIdx(2);
    /// The task's factory, which allocates against the task's own quota.
    pub const FACTORY: CapIdx = CapIdx(3);
    /// The kernel log.
    pub const LOG: CapIdx = CapIdx(4);
    /// First slot the creator hands out by name.
    pub const FIRST_GRANT: CapIdx = CapIdx(16);
}

bitflags! {
    /// What a capability allows, in Fiasco's bit positions.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Rights: u8 {
        /// Modify the object: write a dataspace, trigger an IRQ, change a task.
        const WRITE = 0x1;
        /// Serve through the object: bind a gate, attach to an IRQ.
        const SERVER = 0x2;
        /// Invoke the object at all: call a gate, read a dataspace.
        const READ = 0x4;
        /// Pass the capability on in IPC or to a child.
        const DELEGATE = 0x8;
        /// Resurgo's own bit (Fiasco has none here): on a task, read and patch
        /// its text ([`crate::proto::task::POKE`]). The kernel sets it only on
        /// the capability a task gets for a child it creates, and only when the
        /// creator was itself started with `factory::TASK_MAY_DEBUG` (the
        /// manifest's `debug = true`); a task's capability to itself never
        /// carries it.
        const DEBUG = 0x10;
    }
}

impl Rights {
    pub const ALL: Rights = Rights::all();
}

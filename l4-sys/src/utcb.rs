//! The user thread control block: one page per thread, mapped into its task, that
//! holds the message registers the kernel copies between threads.
//!
//! The kernel points the thread's `%fs` base at its UTCB; `self_ptr` lets user code
//! find it with one `mov %fs:OFFSET`, without the FSGSBASE extension.

/// Number of message registers.
pub const MR_COUNT: usize = 64;
/// Number of buffer registers.
pub const BR_COUNT: usize = 8;

/// The first word of a typed item that transfers a capability (the second is
/// `slot << 12 | rights mask`, the rights the receiver's copy keeps). The
/// kernel writes the same word, with the receiver's slot, into the received
/// message.
pub const ITEM_MAP: u64 = 8;

/// Buffer register 0: the slot (as a selector) where a received capability goes,
/// for IPC capability transfer and for every kernel operation that creates one.
pub const BR_RECV_CAP: usize = 0;

#[repr(C, align(4096))]
pub struct Utcb {
    /// Message registers: the words of the message, then two words per typed item.
    pub mr: [u64; MR_COUNT],
    /// Buffer registers: where received items go.
    pub br: [u64; BR_COUNT],
    /// Words the user runtime keeps per thread (thread-local data); the kernel
    /// never touches them.
    pub tls: [u64; 16],
    _pad: [u64; 512 - MR_COUNT - BR_COUNT - 16 - 1],
    /// The UTCB's own user address, written by the kernel.
    pub self_ptr: u64,
}

/// Offset of [`Utcb::self_ptr`] from the UTCB start (and from `%fs`).
pub const SELF_PTR_OFFSET: usize = 4096 - 8;

const _: () = assert!(core::mem::size_of::<Utcb>() == 4096);
const _: () = assert!(core::mem::offset_of!(Utcb, self_ptr) == SELF_PTR_OFFSET);

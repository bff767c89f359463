//! The one system call, `invoke`, and its register convention.
//!
//! | register | in                                         | out                    |
//! |----------|--------------------------------------------|------------------------|
//! | `rdi`    | destination selector \| [`Flags`]           | preserved              |
//! | `rsi`    | message tag of the message sent            | tag of message received|
//! | `r10`    | timeouts ([`crate::Timeout::pair`])        | preserved              |
//! | `rax`    | ignored                                    | 0 or an [`crate::Error`] |
//! | `rdx`    | ignored                                    | label of the received message (gate or IRQ label) |
//!
//! `rcx` and `r11` are clobbered by the `syscall` instruction; every other register,
//! including the SSE state, is preserved. Message words travel in the UTCB.
//!
//! The flags select the phases, as in Fiasco.OC:
//! * `SEND`: send the message to the destination (a thread, gate or IRQ), or
//!   perform the operation if the destination is a kernel object.
//! * `RECV`: then wait for a message: with `OPEN_WAIT` from anyone (any gate bound
//!   to this thread, any IRQ attached to it), otherwise only from the destination
//!   (the callee of a call, or an IRQ; on the invalid selector a receive that times
//!   out is a sleep).
//! * `REPLY`: the send phase goes to the thread whose call this thread received
//!   last; the destination selector is ignored.

use crate::{CapIdx, Error, MsgTag, Timeout};
use bitflags::bitflags;

bitflags! {
    /// Phases of an `invoke`, in the low bits of the destination register.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Flags: u64 {
        const SEND = 0x1;
        const RECV = 0x2;
        const OPEN_WAIT = 0x4;
        const REPLY = 0x8;
    }
}

impl Flags {
    pub const CALL: Flags = Flags::SEND.union(Flags::RECV);
    pub const WAIT: Flags = Flags::RECV.union(Flags::OPEN_WAIT);
    pub const REPLY_AND_WAIT: Flags = Flags::SEND.union(Flags::REPLY).union(Flags::WAIT);
    pub const REPLY_ONLY: Flags = Flags::SEND.union(Flags::REPLY);
}

/// What a successful `invoke` returns: the received tag and label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub tag: MsgTag,
    pub label: u64,
}

/// Issues the system call.
///
/// The message words must already be in the calling thread's UTCB.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn invoke(dest: CapIdx, flags: Flags, tag: MsgTag, timeouts: u64) -> Result<Received, Error> {
    let err: u64;
    let rtag: u64;
    let label: u64;
    // SAFETY: the kernel reads only registers and the caller's own UTCB, preserves
    // every register but those listed, and writes memory only in the UTCB, which the
    // compiler must treat as changed (no `nomem`).
    unsafe {
        core::arch::asm!(
            "syscall",
            in("rdi") dest.selector() | flags.bits(),
            inout("rsi") tag.0 => rtag,
            in("r10") timeouts,
            out("rax") err,
            out("rdx") label,
            out("rcx") _,
            out("r11") _,
            options(nostack)
        );
    }
    Error::from_raw(err)?;
    Ok(Received { tag: MsgTag(rtag), label })
}

/// `invoke` with both timeouts infinite.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn invoke_never(dest: CapIdx, flags: Flags, tag: MsgTag) -> Result<Received, Error> {
    invoke(dest, flags, tag, Timeout::pair(Timeout::Never, Timeout::Never))
}

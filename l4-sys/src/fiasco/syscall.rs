//! Fiasco's one system call, `l4_ipc`, on x86-64.
//!
//! | register | in                               | out                         |
//! |----------|----------------------------------|-----------------------------|
//! | `rax`    | message tag                      | tag of the answer / message |
//! | `rdx`    | destination selector \| [`super::sysf`] flags | clobbered      |
//! | `rsi`    | label (reply-and-wait)           | label of the received message |
//! | `r8`     | timeouts ([`super::timeout::pair`]) | preserved                |
//!
//! `rdi`, `rcx`, `r11` and `r15` are clobbered (`l4sys/include/ARCH-amd64/arch/ipc.h`).
//! A failed IPC sets [`super::TAG_ERROR`] in the returned tag and leaves the
//! code in the UTCB's error word.

use super::{Cap, TAG_ERROR, error, utcb};
use crate::syscall::Received;
use crate::{Error, MsgTag};

/// The raw system call: returns the answer's tag and label, errors unread.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn ipc_raw(dest: Cap, flags: u64, label: u64, tag: MsgTag, timeouts: u64) -> (MsgTag, u64) {
    let rtag: u64;
    let rlabel: u64;
    // SAFETY: the kernel reads only these registers and the caller's own UTCB and
    // writes only the listed registers and the UTCB (memory is not `nomem`, so
    // the compiler assumes it changed).
    unsafe {
        core::arch::asm!(
            "syscall",
            inout("rax") tag.0 => rtag,
            inout("rdx") dest.0 | flags => _,
            inout("rsi") label => rlabel,
            in("r8") timeouts,
            out("rdi") _,
            out("rcx") _,
            out("r11") _,
            out("r15") _,
            options(nostack)
        );
    }
    (MsgTag(rtag), rlabel)
}

/// The system call with the IPC error decoded.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn ipc(dest: Cap, flags: u64, label: u64, tag: MsgTag, timeouts: u64) -> Result<Received, Error> {
    let (tag, label) = ipc_raw(dest, flags, label, tag, timeouts);
    if tag.0 & TAG_ERROR != 0 {
        // SAFETY: the UTCB is mapped for the calling thread's life.
        let word = unsafe { (*utcb::current()).error };
        return Err(error::from_ipc(word));
    }
    Ok(Received { tag, label })
}

/// Which half of a send-and-receive system call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing was sent, nor waited for.
    Send,
    Receive,
}

/// A send followed by an open wait in one system call
/// (`l4_ipc_send_and_wait`): the next message, or the phase that failed.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn send_and_wait(dest: Cap, tag: MsgTag, timeouts: u64) -> Result<Received, (Phase, Error)> {
    let flags = super::sysf::SEND | super::sysf::WAIT;
    let (tag, label) = ipc_raw(dest, flags, 0, tag, timeouts);
    if tag.0 & TAG_ERROR != 0 {
        // SAFETY: the UTCB is mapped for the calling thread's life.
        let word = unsafe { (*utcb::current()).error };
        let phase = if error::in_send_phase(word) { Phase::Send } else { Phase::Receive };
        return Err((phase, error::from_ipc(word)));
    }
    Ok(Received { tag, label })
}

/// A call to a kernel object or server: the IPC error, else the answer's
/// label as a result code (negative labels are errors).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn call(dest: Cap, tag: MsgTag) -> Result<MsgTag, Error> {
    call_within(dest, tag, 0)
}

/// [`call`] with zero timeouts in both phases: a kernel object answers at
/// once, anything else (a gate someone passed off as a thread) is an error
/// rather than a wait that the other side could make last for ever.
pub fn call_at_once(dest: Cap, tag: MsgTag) -> Result<MsgTag, Error> {
    call_within(dest, tag, super::timeout::pair(crate::Timeout::Zero, crate::Timeout::Zero))
}

/// A call with the encoded `timeouts`; an error label in the answer is the error.
fn call_within(dest: Cap, tag: MsgTag, timeouts: u64) -> Result<MsgTag, Error> {
    let r = ipc(dest, super::sysf::CALL, 0, tag, timeouts)?;
    error::from_label(r.tag.label())?;
    Ok(r.tag)
}

/// A send without a receive phase, waiting for the partner without end.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn send(dest: Cap, tag: MsgTag) -> Result<(), Error> {
    ipc(dest, super::sysf::SEND, 0, tag, 0).map(|_| ())
}

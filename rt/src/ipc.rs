//! IPC: the message registers and the send/receive forms of `invoke`.
use l4_sys::syscall::{Flags, Received, invoke};
use l4_sys::utcb::Utcb;
use l4_sys::{CapIdx, Error, MsgTag, Timeout};

pub use crate::regs::*;

/// This thread's UTCB. Only a raw pointer leaves this function: the message
/// registers are reached through `regs` by copying, the buffer registers and
/// the thread words through the setters below.
#[inline(always)]
pub(crate) fn utcb_ptr() -> *mut Utcb {
    let p: u64;
    // SAFETY: the kernel points %fs at this thread's UTCB, whose last word holds
    // its own address; reading it has no side effects.
    unsafe {
        core::arch::asm!("mov {}, fs:[{off}]", out(reg) p, off = const l4_sys::utcb::SELF_PTR_OFFSET, options(nostack, readonly, preserves_flags));
    }
    p as *mut Utcb
}

/// Sets buffer register `i` (ignored past the last one).
fn set_br(i: usize, value: u64) {
    if i < l4_sys::utcb::BR_COUNT {
        let utcb = utcb_ptr();
        // SAFETY: the UTCB is mapped for the thread's whole life and only this
        // thread uses it; `i` is within the buffer registers; no reference made.
        unsafe { (&raw mut (*utcb).br).cast::<u64>().add(i).write(value) }
    }
}

pub fn call(dest: CapIdx, tag: MsgTag, timeout: Timeout) -> Result<Received, Error> {
    invoke(dest, Flags::CALL, tag, Timeout::pair(timeout, timeout))
}

pub fn send(dest: CapIdx, tag: MsgTag, timeout: Timeout) -> Result<(), Error> {
    invoke(dest, Flags::SEND, tag, Timeout::pair(timeout, Timeout::Never)).map(|_| ())
}

/// Open wait: the next message from any gate or IRQ bound to this thread.
pub fn wait(timeout: Timeout) -> Result<Received, Error> {
    invoke(CapIdx::INVALID, Flags::WAIT, MsgTag(0), Timeout::pair(Timeout::Never, timeout))
}

/// Closed receive from one thread or IRQ.
pub fn receive(from: CapIdx, timeout: Timeout) -> Result<Received, Error> {
    invoke(from, Flags::RECV, MsgTag(0), Timeout::pair(Timeout::Never, timeout))
}

/// Replies to the last caller, then waits for the next message.
pub fn reply_and_wait(tag: MsgTag, timeout: Timeout) -> Result<Received, Error> {
    invoke(CapIdx::INVALID, Flags::REPLY_AND_WAIT, tag, Timeout::pair(Timeout::Zero, timeout))
}

pub fn reply(tag: MsgTag) -> Result<(), Error> {
    invoke(CapIdx::INVALID, Flags::REPLY_ONLY, tag, Timeout::pair(Timeout::Zero, Timeout::Never)).map(|_| ())
}

/// Sleeps for `ms` milliseconds (a receive from nobody that times out).
pub fn sleep_ms(ms: u32) {
    let t = if ms == 0 { Timeout::Zero } else { Timeout::Millis(ms) };
    let _ = invoke(CapIdx::INVALID, Flags::RECV, MsgTag(0), Timeout::pair(Timeout::Never, t));
}

/// Item words for sending capability `slot` (rights reduced to `mask`).
pub fn cap_item(slot: CapIdx, mask: l4_sys::Rights) -> [u64; 2] {
    [crate::obj::ITEM_MAP, slot.selector() | mask.bits() as u64]
}

/// Writes raw words into the buffer registers from register `at` (those past
/// the last are left out). For code that must hand the kernel exactly what it
/// chose, malformed or not (the fuzzers); everything else names slots with
/// [`set_receive_slots`].
pub fn write_brs(at: usize, words: &[u64]) {
    for (i, w) in words.iter().enumerate() {
        set_br(at.saturating_add(i), *w);
    }
}

/// Sets the slot where the next received capability goes.
pub fn set_receive_slot(slot: CapIdx) {
    set_br(l4_sys::utcb::BR_RECV_CAP, slot.selector());
}

/// Sets the slots where the next received capabilities go, in item order.
pub fn set_receive_slots(slots: &[CapIdx]) {
    for (i, s) in slots.iter().enumerate() {
        set_br(i, s.selector());
    }
}

/// Takes back the first `n` receive slots: no capability is received there.
pub fn clear_receive_slots(n: usize) {
    for i in 0..n.min(l4_sys::utcb::BR_COUNT) {
        set_br(i, 0);
    }
}

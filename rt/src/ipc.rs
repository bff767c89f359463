//! IPC: the message registers and the send/receive forms of `invoke`.
use l4_sys::syscall::{Flags, Received, invoke};
use l4_sys::utcb::Utcb;
use l4_sys::{CapIdx, Error, MsgTag, Timeout};

/// This thread's UTCB.
#[inline(always)]
pub fn utcb() -> &'static mut Utcb {
    let p: u64;
    // SAFETY: the kernel points %fs at this thread's UTCB, whose last word holds
    // its own address; the UTCB is mapped for the thread's whole life and only
    // this thread uses it.
    unsafe {
        core::arch::asm!("mov {}, fs:[{off}]", out(reg) p, off = const l4_sys::utcb::SELF_PTR_OFFSET, options(nostack, readonly, preserves_flags));
        &mut *(p as *mut Utcb)
    }
}

/// Message registers.
#[inline(always)]
pub fn mr() -> &'static mut [u64; l4_sys::utcb::MR_COUNT] {
    &mut utcb().mr
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

/// Sets the slot where the next received capability goes.
pub fn set_receive_slot(slot: CapIdx) {
    utcb().br[l4_sys::utcb::BR_RECV_CAP] = slot.selector();
}

/// Sets the slots where the next received capabilities go, in item order.
pub fn set_receive_slots(slots: &[CapIdx]) {
    for (b, s) in utcb().br.iter_mut().zip(slots) {
        *b = s.selector();
    }
}

/// Takes back the first `n` receive slots: no capability is received there.
pub fn clear_receive_slots(n: usize) {
    let br = &mut utcb().br;
    let n = n.min(br.len());
    br[..n].fill(0);
}

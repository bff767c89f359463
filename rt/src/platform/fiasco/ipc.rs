//! IPC on Fiasco.OC: the message registers and the send/receive forms of
//! `l4_ipc`, with the same signatures as on Resurgo's kernel.
//!
//! Labels: Fiasco delivers an IPC gate's label with its two low bits carrying
//! the rights of the sender's capability. The runtime binds gates and IRQs
//! with the label shifted left by two (`kernel_label`) and shifts received
//! labels back, so any label below 2^61 arrives as it was given, as on
//! Resurgo's kernel.
//!
//! IRQs: Fiasco delivers an interrupt or trigger as a message with tag 0
//! (`Irq_sender::transfer_msg`), where Resurgo's kernel puts `PROTO_IRQ` in
//! the tag's label. The runtime binds IRQs with the label's top bit set
//! (`irq_label`), and a received message with that bit and tag 0 gets
//! Resurgo's tag, so a task tells an interrupt from a message the same way
//! on both kernels. Gate labels never have that bit.

use l4_sys::fiasco::syscall::ipc;
use l4_sys::fiasco::utcb::Utcb;
use l4_sys::fiasco::{Cap, msg, sysf, timeout};
use l4_sys::syscall::Received;
use l4_sys::{CapIdx, Error, MsgTag, Timeout};

pub use crate::regs::*;

/// Sets the buffer descriptor to 0 and buffer register `i` (ignored past the
/// last one).
fn set_br(i: usize, value: u64) {
    if i < l4_sys::fiasco::utcb::BR_COUNT {
        let u: *mut Utcb = l4_sys::fiasco::utcb::current();
        // SAFETY: %gs:0 is this thread's UTCB, mapped for its whole life and used
        // only by this thread; `i` is within the buffer registers; no reference
        // is made.
        unsafe {
            (&raw mut (*u).bdr).write(0);
            (&raw mut (*u).br).cast::<u64>().add(i).write(value);
        }
    }
}

fn dest(c: CapIdx) -> Cap {
    if c == CapIdx::INVALID { Cap::INVALID } else { Cap::from_idx(c) }
}

/// The label the kernel is given for a label a task chose.
pub(crate) const fn kernel_label(label: u64) -> u64 {
    label << 2
}

/// The bit that marks the label of an IRQ (see the module's header).
const IRQ_BIT: u64 = 1 << 63;

/// The label the kernel is given for an IRQ's `label`.
pub(crate) const fn irq_label(label: u64) -> u64 {
    kernel_label(label) | IRQ_BIT
}

fn clean(r: Received) -> Received {
    let tag = if r.label & IRQ_BIT != 0 && r.tag.0 == 0 { MsgTag::new(l4_sys::proto::PROTO_IRQ, 0, 0) } else { r.tag };
    Received { tag, label: (r.label & !IRQ_BIT) >> 2 }
}

pub fn call(to: CapIdx, tag: MsgTag, t: Timeout) -> Result<Received, Error> {
    ipc(dest(to), sysf::CALL, 0, tag, timeout::pair(t, t)).map(clean)
}

pub fn send(to: CapIdx, tag: MsgTag, t: Timeout) -> Result<(), Error> {
    ipc(dest(to), sysf::SEND, 0, tag, timeout::pair(t, Timeout::Never)).map(|_| ())
}

/// Open wait: the next message from any gate or IRQ bound to this thread.
pub fn wait(t: Timeout) -> Result<Received, Error> {
    ipc(Cap::INVALID, sysf::WAIT, 0, MsgTag(0), timeout::pair(Timeout::Never, t)).map(clean)
}

/// A send to `to`, then an open wait, in one system call; on failure, the
/// phase that failed (after a failed send nothing was waited for).
pub(crate) fn send_and_wait(
    to: Cap,
    tag: MsgTag,
    t: Timeout,
) -> Result<Received, (l4_sys::fiasco::syscall::Phase, Error)> {
    l4_sys::fiasco::syscall::send_and_wait(to, tag, timeout::pair(Timeout::Never, t)).map(clean)
}

/// Closed receive from one thread or IRQ.
pub fn receive(from: CapIdx, t: Timeout) -> Result<Received, Error> {
    ipc(dest(from), sysf::RECV, 0, MsgTag(0), timeout::pair(Timeout::Never, t)).map(clean)
}

/// Replies to the last caller, then waits for the next message.
pub fn reply_and_wait(tag: MsgTag, t: Timeout) -> Result<Received, Error> {
    ipc(Cap::INVALID, sysf::REPLY_AND_WAIT, 0, tag, timeout::pair(Timeout::Zero, t)).map(clean)
}

pub fn reply(tag: MsgTag) -> Result<(), Error> {
    ipc(Cap::INVALID, sysf::REPLY | sysf::SEND, 0, tag, timeout::pair(Timeout::Zero, Timeout::Never)).map(|_| ())
}

/// Sleeps for `ms` milliseconds (a receive from nobody that times out).
pub fn sleep_ms(ms: u32) {
    let t = if ms == 0 { Timeout::Zero } else { Timeout::Millis(ms) };
    let _ = ipc(Cap::INVALID, sysf::RECV, 0, MsgTag(0), timeout::pair(Timeout::Never, t));
}

/// Blocks the calling thread for good.
pub fn sleep_forever() {
    let _ = ipc(Cap::INVALID, sysf::RECV, 0, MsgTag(0), 0);
}

/// Item words for sending capability `slot` (rights reduced to `mask`; the
/// rights bits are Fiasco's on both kernels). R always goes along: without
/// it Fiasco maps nothing (on Resurgo's kernel a capability sent with only
/// `WRITE`, such as a driver's wake-up IRQ, still arrives).
pub fn cap_item(slot: CapIdx, mask: l4_sys::Rights) -> [u64; 2] {
    msg::map_item(Cap::from_idx(slot), mask.bits() as u64 | l4_sys::fiasco::item::CAP_R)
}

/// Sets the slots where the next received capabilities go, in item order
/// (one small receive item per buffer register).
pub fn set_receive_slots(slots: &[CapIdx]) {
    for (i, s) in slots.iter().enumerate() {
        set_br(i, msg::rcv_cap(Cap::from_idx(*s)));
    }
}

/// Takes back the first `n` receive slots: no capability is received there.
pub fn clear_receive_slots(n: usize) {
    for i in 0..n.min(l4_sys::fiasco::utcb::BR_COUNT) {
        set_br(i, 0);
    }
}

/// Sets the slot where the next received capability goes.
pub fn set_receive_slot(slot: CapIdx) {
    set_br(0, msg::rcv_cap(Cap::from_idx(slot)));
}

/// Puts raw receive items (already encoded, e.g. an I/O flexpage window) in
/// the first buffer registers.
pub(crate) fn set_receive_items(items: &[u64]) {
    for (i, w) in items.iter().enumerate() {
        set_br(i, *w);
    }
}

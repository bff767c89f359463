//! The IPC fast path: a call to a waiting server, and a server's reply-and-wait
//! to a waiting caller, handled without the general machinery.
//!
//! These two cases make up every client/server round trip. When the partner
//! already waits, has nothing else pending and may run next by priority, the
//! kernel copies the message words and switches straight to it. Anything else
//! (capability items, timeouts to arm, queued senders, pending IRQs, kernel
//! objects, a partner of lower priority than a ready thread) falls through to the
//! general path in `ipc.rs`, which has the same semantics.
//!
//! The current thread is reached through the frame pointer the entry code passes
//! (the frame is the first field of its control block), and the partner through
//! one arena lookup: each step here is counted in the benchmark.

use crate::arch::frame::TrapFrame;
use crate::kernel::Kernel;
use crate::obj::Object;
use crate::thread::{Source, State, Thread};
use l4_sys::syscall::Flags;
use l4_sys::{CapIdx, MsgTag, Rights, Timeout};

/// Longest message (in words) the fast path copies.
const MAX_WORDS: usize = 8;

/// Copies message words; volatile accesses keep the compiler from turning the
/// loop into a `memcpy` call for these few words.
#[inline(always)]
fn copy_words(from: &Thread, to: &mut Thread, n: usize) {
    let (src, dst) = (from.utcb().mr.as_ptr(), to.utcb_mut().mr.as_mut_ptr());
    for i in 0..n {
        // SAFETY: n <= MAX_WORDS < MR_COUNT, both UTCBs are live and distinct.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
}

impl Kernel {
    /// Tries the fast path for `invoke` of the current thread, whose control
    /// block is `cur`; returns the frame to resume when it handled the call.
    ///
    /// # Safety
    /// `cur` must point to the current thread's control block, live and not
    /// otherwise borrowed, with the kernel lock held.
    #[inline]
    pub unsafe fn fastpath(&mut self, cur: *mut Thread) -> Option<*const TrapFrame> {
        // SAFETY: the caller guarantees `cur` is the live current thread.
        let c = unsafe { &*cur };
        let tag = MsgTag(c.frame.rsi);
        if tag.items() != 0 || tag.words() > MAX_WORDS {
            return None;
        }
        // Only waits without a timeout: nothing to arm.
        if Timeout::unpair(c.frame.r10).1 != Timeout::Never {
            return None;
        }
        let flags = c.frame.rdi & 0xf;
        if flags == Flags::CALL.bits() {
            // SAFETY: as above.
            unsafe { self.fast_call(cur, CapIdx::from_selector(c.frame.rdi), tag) }
        } else if flags == Flags::REPLY_AND_WAIT.bits() {
            // SAFETY: as above.
            unsafe { self.fast_reply_wait(cur, tag) }
        } else {
            None
        }
    }

    /// # Safety
    /// As [`Kernel::fastpath`].
    unsafe fn fast_call(&mut self, cur: *mut Thread, dest: CapIdx, tag: MsgTag) -> Option<*const TrapFrame> {
        // SAFETY: `cur` is live (contract); its task, and so its capability table,
        // outlives it.
        let (cur_id, cap) = unsafe { ((*cur).id, (*(*cur).caps).get(dest)?) };
        let (server, label) = match self.objs.get(cap.obj)? {
            Object::Gate(g) if tag.label() != l4_sys::proto::PROTO_KOBJECT && cap.rights.contains(Rights::READ) => {
                (g.thread?, g.label)
            }
            _ => return None,
        };
        if server == cur_id {
            return None;
        }
        let s = self.objs.thread_ptr(server)?;
        // SAFETY: `s` is a live thread other than `cur` (checked above); no other
        // reference to either exists while the kernel lock is held.
        let (c, s) = unsafe { (&mut *cur, &mut *s) };
        let waits = match s.state {
            State::Receiving { from: Source::Any } => s.pending_irqs.is_empty(),
            State::Receiving { from: Source::Thread(x) } => x == cur_id,
            _ => false,
        };
        if !waits || self.sched.has_above(s.priority) {
            return None;
        }
        copy_words(c, s, tag.words());
        c.waits(State::Receiving { from: Source::Reply(server) });
        // The callee runs on the caller's time slice: a client and a server that
        // call each other share one slice, and others of their priority get turns.
        s.slice = c.slice.max(1);
        s.reply_to = Some(cur_id);
        s.set_result(Ok((tag, label)));
        s.state = State::Ready;
        s.wakeup = None;
        Some(self.load_thread(s))
    }

    /// # Safety
    /// As [`Kernel::fastpath`].
    unsafe fn fast_reply_wait(&mut self, cur: *mut Thread, tag: MsgTag) -> Option<*const TrapFrame> {
        // SAFETY: `cur` is live (contract).
        let (cur_id, caller) = unsafe { ((*cur).id, (*cur).reply_to?) };
        if caller == cur_id {
            return None;
        }
        let c = self.objs.thread_ptr(caller)?;
        // SAFETY: two distinct live threads, no other references (see fast_call).
        let (s, c) = unsafe { (&mut *cur, &mut *c) };
        if c.state != (State::Receiving { from: Source::Reply(cur_id) })
            || !s.senders.is_empty()
            || !s.pending_irqs.is_empty()
            || self.sched.has_above(c.priority)
        {
            return None;
        }
        copy_words(s, c, tag.words());
        s.reply_to = None;
        s.waits(State::Receiving { from: Source::Any });
        c.set_result(Ok((tag, 0)));
        c.state = State::Ready;
        c.wakeup = None;
        c.slice = s.slice.max(1);
        Some(self.load_thread(c))
    }
}

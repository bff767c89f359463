//! Threads: a register frame, an FPU area, a UTCB, and where the thread stands in
//! IPC.

use crate::arch::frame::{FpuArea, TrapFrame};
use crate::mem::frames::Frame;
use crate::mem::paging::Table;
use crate::obj::ObjId;
use alloc::collections::VecDeque;
use l4_sys::MsgTag;
use l4_sys::utcb::Utcb;

/// Whom a receiving thread waits for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// Any gate bound to it, any IRQ attached to it (open wait).
    Any,
    /// One thread's sends (a closed receive).
    Thread(ObjId),
    /// One thread's reply: the receive phase of a call. Only a reply matches,
    /// not an ordinary send from that thread.
    Reply(ObjId),
    /// One IRQ object.
    Irq(ObjId),
    /// Nobody: a sleep that ends with the timeout.
    Nobody,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// Created, not started.
    Inactive,
    /// Running or in the ready queue.
    Ready,
    /// Waiting to send to a thread (queued in its `senders`).
    Sending { to: ObjId },
    /// Waiting to receive.
    Receiving { from: Source },
    /// Its task stopped or it exited: never runs again.
    Dead,
}

/// A send that waits for its receiver.
#[derive(Clone, Copy, Debug)]
pub struct PendingSend {
    pub tag: MsgTag,
    /// Label the receiver gets (the gate's).
    pub label: u64,
    /// A call: wait for the reply after the send.
    pub call: bool,
    /// Receive timeout of the call's reply phase, in ticks from the send (0: none).
    pub reply_timeout: Option<u32>,
}

#[repr(C)]
pub struct Thread {
    /// Saved user registers. Must stay first: the entry code saves into it.
    pub frame: TrapFrame,
    pub fpu: FpuArea,
    pub task: ObjId,
    /// This thread's own id.
    pub id: ObjId,
    /// The task's capability table, for the IPC fast path: the task outlives its
    /// threads (they are destroyed first), and the table never moves.
    pub caps: *const crate::task::CapTable,
    /// The task's PML4 (fixed for the thread's life): switching needs no task lookup.
    pub space: Table,
    pub index: u32,
    pub state: State,
    /// The priority it is scheduled at: `base_priority`, or
    /// `DEFAULT_PRIORITY` while it is demoted as a runaway.
    pub priority: u8,
    /// The priority it was started with or set to.
    pub base_priority: u8,
    /// Ticks it has run since it last waited (see `RUNAWAY_TICKS`).
    pub run_ticks: u32,
    /// Ticks left in the current time slice.
    pub slice: u32,
    /// Kernel mapping of the UTCB (through the direct map).
    pub utcb: *mut Utcb,
    pub utcb_frame: Frame,
    pub utcb_addr: u64,
    /// Threads waiting to send to this one, in arrival order.
    pub senders: VecDeque<ObjId>,
    /// The caller whose reply this thread owes.
    pub reply_to: Option<ObjId>,
    /// IRQ objects triggered while this thread was not waiting for them.
    pub pending_irqs: VecDeque<ObjId>,
    /// Tick at which the current wait times out.
    pub wakeup: Option<u64>,
    /// Whether the kernel's sleeper list holds this thread (at most once).
    pub in_sleepers: bool,
    pub send: Option<PendingSend>,
}

// SAFETY: the raw UTCB pointer refers to a frame owned by the thread; the kernel
// reaches threads only under its big lock, so moving one between CPUs is sound.
unsafe impl Send for Thread {}

impl Thread {
    pub fn utcb(&self) -> &Utcb {
        // SAFETY: `utcb` points into the UTCB frame owned by this thread, mapped
        // through the kernel's direct map for the thread's whole life.
        unsafe { &*self.utcb }
    }

    pub fn utcb_mut(&mut self) -> &mut Utcb {
        // SAFETY: as in `utcb`; `&mut self` makes the access exclusive in the kernel
        // (user code on this CPU is not running while the kernel is).
        unsafe { &mut *self.utcb }
    }

    pub fn frame_top(&self) -> u64 {
        &self.frame as *const TrapFrame as u64 + core::mem::size_of::<TrapFrame>() as u64
    }

    pub fn is_alive(&self) -> bool {
        !matches!(self.state, State::Dead)
    }

    /// The thread starts to wait: it is no runaway, and a demoted one gets its
    /// own priority back (it is in no ready queue now).
    #[inline(always)]
    pub fn waits(&mut self, state: State) {
        self.state = state;
        self.run_ticks = 0;
        self.priority = self.base_priority;
    }

    /// Sets the results `invoke` returns to this thread.
    pub fn set_result(&mut self, result: Result<(MsgTag, u64), l4_sys::Error>) {
        (self.frame.rax, self.frame.rsi, self.frame.rdx) = crate::syscall::result_registers(result);
    }
}

//! The Resurgo ABI, shared by the kernel and every task.
//!
//! Resurgo has a single system call, `invoke`: it sends a message to an object named
//! by a capability selector and/or receives one. What happens depends on the object:
//! a thread or an IPC gate passes the message to a user thread; a kernel object
//! (task, thread control, factory, IRQ, dataspace, ...) interprets it as an operation
//! of its protocol and answers in the message registers. This is Fiasco.OC's model,
//! and where it costs nothing the encodings follow Fiasco's (message tag layout,
//! capability selectors shifted by 12, protocol labels, operation numbers), so that
//! a Fiasco.OC backend stays a second set of stubs rather than a rewrite.
//!
//! `doc/abi.md` walks through every operation; each protocol module here documents
//! its arguments (message registers in), results (message registers out) and errors.
#![cfg_attr(not(test), no_std)]

pub mod cap;
pub mod env;
pub mod error;
pub mod event;
pub mod fiasco;
pub mod kip;
pub mod layout;
pub mod message;
pub mod proto;
pub mod syscall;
pub mod tag;
pub mod timeout;
pub mod utcb;

pub use cap::{CapIdx, Rights};
pub use error::{AckWaitError, Error};
pub use tag::MsgTag;
pub use timeout::Timeout;

/// The kernels `l4-sys` has system-call stubs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Resurgo's own microkernel ([`syscall`]).
    Resurgo,
    /// Fiasco.OC, the L4Re microkernel ([`fiasco`]).
    Fiasco,
}

impl Kernel {
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Resurgo => "resurgo",
            Kernel::Fiasco => "fiasco",
        }
    }
}

/// The kernel this build is for: Fiasco.OC with the `fiasco` feature, else
/// Resurgo's. `resurgo build --kernel` sets the feature; the runtime (`rt`)
/// picks its platform layer by it.
#[cfg(feature = "fiasco")]
pub const KERNEL: Kernel = Kernel::Fiasco;
#[cfg(not(feature = "fiasco"))]
pub const KERNEL: Kernel = Kernel::Resurgo;

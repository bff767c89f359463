//! The Resurgo user runtime, linked by every task.
//!
//! It starts the task (`_start` → heap → the task's `main`), turns a panic into an
//! exit whose reason the parent can read, logs through the kernel log, and wraps
//! the one system call in typed helpers: IPC ([`ipc`]), the kernel objects
//! ([`obj`]), memory ([`mem`]), threads ([`thread`]) and loading tasks
//! ([`loader`]).
//!
//! A task crate provides `fn main()` and names it with [`entry!`].
#![no_std]

extern crate alloc;
extern crate freestanding;

// The kernel-specific modules: Resurgo's are the files here; with the
// `fiasco` feature, Fiasco.OC's from `platform/fiasco/` under the same names
// (see `platform`).
#[cfg(not(feature = "fiasco"))]
pub mod cap;
#[cfg(not(feature = "fiasco"))]
pub mod env;
#[cfg(not(feature = "fiasco"))]
pub mod ipc;
#[cfg(not(feature = "fiasco"))]
pub mod loader;
#[cfg(not(feature = "fiasco"))]
pub mod mem;
#[cfg(not(feature = "fiasco"))]
pub mod obj;
#[cfg(not(feature = "fiasco"))]
pub mod thread;
#[cfg(not(feature = "fiasco"))]
pub mod time;
#[cfg(feature = "fiasco")]
pub use platform::fiasco::{cap, env, ipc, mem, obj, thread, time};

pub mod log;
pub mod memory;
pub mod platform;
pub mod sync;

mod start;

pub use l4_sys as sys;
pub use l4_sys::{CapIdx, Error, MsgTag, Rights, Timeout};

/// Names the task's main function: `rt::entry!(main);`
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn __resurgo_main() {
            $main()
        }
    };
}

/// Ends the task with a status and a reason its parent can read.
pub fn exit(code: u64, reason: &str) -> ! {
    obj::Task::own().exit(code, reason);
    // The kernel stops every thread of the task on exit; never reached.
    loop {
        core::hint::spin_loop();
    }
}

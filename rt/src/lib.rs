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

pub mod cap;
pub mod env;
pub mod ipc;
pub mod loader;
pub mod log;
pub mod mem;
pub mod obj;
pub mod sync;
pub mod thread;
pub mod time;

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

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
mod console_uart;
#[cfg(not(feature = "fiasco"))]
mod device_io;
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
pub use platform::fiasco::{cap, env, ipc, loader, mem, obj, thread, time};

pub mod console;
pub mod device;
mod load;
pub mod log;
pub mod memory;
pub mod platform;
mod regs;
pub mod sync;

mod start;

pub use l4_sys as sys;
pub use l4_sys::{CapIdx, Error, MsgTag, Rights, Timeout};

/// Items that exist only in a build for Resurgo's kernel (what uses
/// Resurgo-only parts of `rt`, such as the ELF loader and the task and I/O
/// objects): `rt::resurgo_only! { mod spawn; pub use spawn::*; }`. In a
/// build for Fiasco.OC they are left out, so a crate that has both portable
/// and Resurgo-only parts builds for either kernel.
#[cfg(not(feature = "fiasco"))]
#[macro_export]
macro_rules! resurgo_only {
    ($($item:item)*) => { $($item)* };
}

/// Items that exist only in a build for Resurgo's kernel (left out here, in
/// the build for Fiasco.OC).
#[cfg(feature = "fiasco")]
#[macro_export]
macro_rules! resurgo_only {
    ($($item:item)*) => {};
}

/// Items that exist only in a build for Fiasco.OC (the counterpart of
/// [`resurgo_only!`]): a crate's Fiasco-specific parts, such as the
/// reincarnation server's pager.
#[cfg(feature = "fiasco")]
#[macro_export]
macro_rules! fiasco_only {
    ($($item:item)*) => { $($item)* };
}

/// Items that exist only in a build for Fiasco.OC (left out here, in the
/// build for Resurgo's kernel).
#[cfg(not(feature = "fiasco"))]
#[macro_export]
macro_rules! fiasco_only {
    ($($item:item)*) => {};
}

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

//! The parts of DDEKit that are pure logic, kept apart from the Resurgo
//! runtime so that they can be tested on the host (`cargo test -p ddekit-core`).
//!
//! `ddekit` (the crate with the C ABI) supplies what these need from the system:
//! a [`sync::Platform`] that parks and wakes threads (a wake-up IRQ object per
//! thread on Resurgo; `std::thread::park` in the tests), the memory the
//! allocator manages, and the clock. Nothing here makes a system call, and
//! nothing here allocates from the global heap: driver interrupt threads use
//! all of it, and must never wait for a lock a lower-priority thread holds
//! while spinning.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod initcall;
pub mod irq;
pub mod linebuf;
pub mod pool;
pub mod ranges;
pub mod sync;
pub mod time;
pub mod timers;

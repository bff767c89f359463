//! The Linux kernel API on DDEKit, and the task around a legacy Linux NIC
//! driver.
//!
//! This crate is a static library. The image builder links it with a driver's
//! unmodified Linux sources (compiled against `include/`) into the driver's task
//! image. The C half (`csrc/`) implements the Linux API on DDEKit; the Rust half
//! (here) is the task itself: it runs the driver and connects its network device
//! to netd. `include/resurgo/host.h` is the contract between the two halves, and
//! reaches Rust through bindgen.
#![no_std]

extern crate alloc;
// The task runtime (entry, heap, panics) and DDEKit's C ABI must be linked in.
extern crate ddekit;
extern crate rt;

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/host.rs"));
}

mod config;
mod firmware;
mod nic;
mod sync;
mod task;
mod timeline;
mod traps;

rt::entry!(task::main);

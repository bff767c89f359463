//! The Linux kernel API on DDEKit, and the task around a legacy Linux
//! driver.
//!
//! This crate is a static library. The image builder links it with a driver's
//! unmodified Linux sources (compiled against Linux's own headers) into the
//! driver's task image. The C half implements the Linux API on DDEKit in two
//! layers: a generic one (`csrc/core`: memory, locks, time, work, interrupts,
//! PCI, DMA, the device model, firmware) and device classes on it
//! (`csrc/net`: netdevice, NAPI, skb, ethtool). The Rust half (here) is the
//! task itself, in the same layers: [`task`] runs the driver and answers the
//! reincarnation server, and a class ([`class`], [`net`]) serves the device
//! the probe registered (the network class attaches it to netd).
//! `include/resurgo/host.h` and each class's `net.h` are the contracts
//! between the halves, and reach Rust through bindgen.
#![no_std]

extern crate alloc;
// The task runtime (entry, heap, panics) and DDEKit's C ABI must be linked in.
extern crate ddekit;
extern crate rt;

/// The generic layer's contract with the shim's C (`include/resurgo/host.h`).
#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/host.rs"));
}

mod class;
mod firmware;
mod net;
mod sync;
mod task;
mod timeline;
mod traps;

rt::entry!(task::main);

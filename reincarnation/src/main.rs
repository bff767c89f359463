//! The reincarnation server: parent of every driver task, on either kernel.
//!
//! On Resurgo's kernel ([`resurgo`]) it starts its children from the boot
//! archive and the kernel reports their faults and exits as events. On
//! Fiasco.OC ([`fiasco`]) it creates their tasks itself, loads their images
//! and is their pager, exception handler, region manager and parent, so each
//! fault, exception and exit arrives as IPC. Both restart by the same policy
//! (`reincarnation-core`) and ping by the same heartbeat thread.
#![no_std]
#![no_main]

extern crate alloc;

mod heartbeat;
mod supervisor;

rt::resurgo_only! {
    mod resurgo;
    rt::entry!(resurgo::main);
}

rt::fiasco_only! {
    mod fiasco;
    rt::entry!(fiasco::main);
}

//! Starting the tasks of a boot manifest with exactly what it grants them.
//!
//! init turns each task's declaration into capabilities (IRQ objects bound to
//! their lines, I/O port and device-memory ranges, IPC gates) and starts the
//! tasks whose parent it is. A task declared with `parent = "P"` is started by P
//! instead: init hands P the child's capabilities, named `child:grant`, and P
//! starts (and restarts) the child from the same boot archive with
//! [`spawn_child`]. The objects stay owned by init, so a gate or an IRQ
//! outlives every incarnation of the task that serves it. P holds them with
//! DELEGATE; the child gets them without (it cannot pass its gates on).
//!
//! What a served task needs on either kernel (its clients by gate label,
//! [`clients_of`]) is here; starting tasks ([`spawn`] and the rest, in
//! `spawn.rs`) uses Resurgo's ELF loader and task objects and exists only in
//! a build for Resurgo's kernel (`rt::resurgo_only!`).
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

rt::resurgo_only! {
    mod spawn;
    pub use spawn::*;
}

/// Label of the gate through which client number `client` (its index in the
/// manifest, from 0) reaches a server's `endpoint`-th endpoint: unique per gate,
/// so a server knows who calls.
pub fn gate_label(endpoint: usize, client: usize) -> u64 {
    ((client as u64 + 1) << 8) | (endpoint as u64 + 1)
}

/// The clients of this task's `endpoint`, by the labels of their gates (from the
/// `endpoint@client` values init put in the environment).
pub fn clients_of(endpoint: &str) -> Vec<(String, u64)> {
    let suffix = format!("{endpoint}@");
    rt::env::values().filter_map(|(name, v)| Some((name.strip_prefix(suffix.as_str())?.to_string(), v))).collect()
}

//! Device classes: what the task does with the device a driver's probe
//! registered.
//!
//! The generic Linux layer (`csrc/core`, [`crate::task`]) knows no class. A
//! class is a folder of the shim's C (`csrc/net`), its contract with the
//! Rust side (`include/resurgo/net.h`) and a module here ([`crate::net`]),
//! listed in [`ALL`]. A block class would be one more of each, beside the
//! network class, which it would not touch.

use alloc::string::String;

/// One device class of the task.
pub trait Class: Sync {
    /// What the log calls it.
    fn name(&self) -> &'static str;
    /// Called once before the driver's initcalls run.
    fn prepare(&self) {}
    /// How many devices of this class the probe registered.
    fn devices(&self) -> usize;
    /// Serves the class's devices for the rest of the task's life.
    fn serve(&self) -> !;
}

/// Every class, asked in this order which one the probe registered a device
/// of.
pub static ALL: &[&dyn Class] = &[&crate::net::Net];

/// The classes' names, for the log: "network" (or "network or block").
pub fn names() -> String {
    let mut all = String::new();
    for (i, c) in ALL.iter().enumerate() {
        if i > 0 {
            all.push_str(" or ");
        }
        all.push_str(c.name());
    }
    all
}

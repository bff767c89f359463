//! The platform layer: what the runtime does differently per kernel.
//!
//! `rt`'s modules are the same names on both kernels (`ipc`, `log`, `env`,
//! `mem`, `obj`, `thread`, `time`, `cap`, start-up), so task code above `rt`
//! does not know which kernel it runs on. For Resurgo's kernel they are the
//! files in `rt/src/` themselves; for Fiasco.OC (feature `fiasco`) `lib.rs`
//! takes them from `fiasco` (`rt/src/platform/fiasco/`) instead, and a few
//! shared files (`log.rs`, `start.rs`) call into it for the part that
//! differs. What exists only on one kernel (Resurgo's ELF loader, its
//! kernel-statistics object) is only there.

/// The kernel this runtime was built for.
pub const KERNEL: l4_sys::Kernel = l4_sys::KERNEL;

#[cfg(feature = "fiasco")]
pub mod fiasco;

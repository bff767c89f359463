//! The Resurgo microkernel: address spaces, threads, capabilities, IPC, IRQ
//! objects, I/O bitmaps, dataspaces and fault notification. Everything else runs
//! at user level.
//!
//! The kernel runs with interrupts off, on one stack per CPU, and never trusts a
//! value that comes from user mode: capability selectors are looked up in the
//! caller's table, addresses are checked against the user half and the caller's
//! mappings, ranges against the grants.
//!
//! This library is the whole kernel; `main.rs` only links it into the bootable
//! ELF. Being a library lets the pure parts (frame allocator, object arena,
//! scheduler queues, address-space bookkeeping) run as host unit tests.
#![cfg_attr(not(test), no_std)]
// Host unit tests build only the pure modules; the rest looks unused there.
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;
#[cfg(not(test))]
extern crate freestanding;

#[macro_use]
pub mod log;
mod iommu;
mod mem;
mod obj;
mod sched;
mod space;
mod syscall;

mod arch;
#[cfg(not(test))]
mod boot;
#[cfg(not(test))]
mod bootstrap;
#[cfg(not(test))]
mod debug;
#[cfg(not(test))]
mod fastpath;
#[cfg(not(test))]
mod ipc;
#[cfg(not(test))]
mod irq;
#[cfg(not(test))]
mod kernel;
#[cfg(not(test))]
mod lifecycle;
mod msi;
#[cfg(not(test))]
mod ops;
mod task;
mod thread;
#[cfg(not(test))]
mod trap;

/// Called by the boot stub in long mode, on the boot stack.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn kernel_main(start_info: u64) -> ! {
    arch::serial::init();
    log::line(log::Level::Info, "kernel", format_args!("Resurgo microkernel {}", env!("CARGO_PKG_VERSION")));
    bootstrap::start(start_info)
}

/// Prints a panic's reason and ends QEMU with the panic status: the bootable
/// binary's panic handler (in `main.rs`, so that host builds of this library
/// never meet std's).
#[cfg(not(test))]
pub fn panic_exit(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let _ = writeln!(log::Console, "\n[kernel] PANIC: {info}");
    arch::exit_qemu(arch::EXIT_PANIC)
}

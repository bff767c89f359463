//! Misbehaves in the way its `mode` value says, to show that only it stops.
//!
//! 1: writes through a wild pointer; 2: executes `ud2`; 3: reads a port it was
//! not granted; 4: maps device memory it was not granted; 5: calls a gate it was
//! not granted. Modes 4 and 5 are refused by the kernel with an error (and
//! reported to the parent); the task then ends itself with that error.
#![no_std]
#![no_main]

use rt::obj::{IoMem, KernelCap};
use rt::{CapIdx, MsgTag, Timeout, ipc};

rt::entry!(main);

/// The unmapped address the wild write goes to.
pub const WILD: u64 = 0xdead_b000;
/// A port nobody granted this task (the keyboard controller's status port).
pub const PORT: u16 = 0x64;
/// Device memory outside this task's grant (the local APIC).
pub const FOREIGN_MMIO: u64 = 0xfee0_0000;
/// A slot the task holds no capability in.
pub const EMPTY_SLOT: u32 = 200;

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fault_wild_write() {
    // SAFETY: deliberately unsound: this write is the fault under test.
    unsafe { core::ptr::write_volatile(WILD as *mut u64, 0x5a5a) };
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fault_ud2() {
    // SAFETY: raises #UD, the fault under test.
    unsafe { core::arch::asm!("ud2") };
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fault_port() -> u8 {
    let v: u8;
    // SAFETY: the port is not granted: this read is the fault under test.
    unsafe { core::arch::asm!("in al, dx", in("dx") PORT, out("al") v, options(nomem, nostack)) };
    v
}

fn main() {
    let mode = rt::env::value("mode").unwrap_or(0);
    rt::info!("misbehaving in mode {}", mode);
    match mode {
        1 => fault_wild_write(),
        2 => fault_ud2(),
        3 => {
            let _ = fault_port();
        }
        4 => {
            // The granted window works; the foreign one is refused.
            let mmio = IoMem(rt::env::require_cap("mmio.0"));
            let granted = mmio.create_dataspace(0xfed0_0000, 4096).is_ok();
            match mmio.create_dataspace(FOREIGN_MMIO, 4096) {
                Err(e) => rt::exit(2, if granted { "device memory outside the grant: denied" } else { e.as_str() }),
                Ok(_) => rt::exit(3, "mapped device memory it was never granted"),
            }
        }
        5 => match ipc::call(CapIdx(EMPTY_SLOT), MsgTag::new(0, 0, 0), Timeout::Never) {
            Err(e) => rt::exit(2, e.as_str()),
            Ok(_) => rt::exit(3, "called a gate it was never granted"),
        },
        _ => {}
    }
    // Still alive after a fault that should have stopped it.
    let _ = KernelCap(CapIdx(0));
    rt::exit(4, "survived its own fault");
}

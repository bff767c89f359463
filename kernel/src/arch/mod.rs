//! x86-64 specifics: CPU tables, entry code, the PIC, the local APIC (for
//! message-signalled interrupts), the PIT and COM1.
#[cfg(not(test))]
pub mod cpu;
#[cfg(not(test))]
pub mod entry;
pub mod frame;
#[cfg(not(test))]
pub mod gdt;
#[cfg(not(test))]
pub mod idt;
#[cfg(not(test))]
pub mod lapic;
#[cfg(not(test))]
pub mod pic;

/// The interrupt lines of the PIC pair, without the hardware (for host tests).
pub mod lines {
    /// Lines 0..16 at vectors 32..48.
    pub const LINES: usize = 16;
    /// The line that cascades the second PIC into the first.
    pub const CASCADE: u8 = 2;
    /// Vectors 48..64 are message-signalled interrupts, one per device.
    pub const MSI_BASE: u64 = 48;
    pub const MSI_VECTORS: usize = 16;
    /// Every vector above them (the local APIC's spurious vector 255
    /// among them) enters as this one: a stray interrupt, acknowledged and
    /// dropped.
    pub const STRAY_VECTOR: u64 = 255;
}
#[cfg(not(test))]
pub mod pit;
#[cfg(not(test))]
pub mod port;
#[cfg(not(test))]
pub mod serial;

/// Status codes written to QEMU's isa-debug-exit device; QEMU exits with
/// `(code << 1) | 1`, so the host sees 33, 35 and 37.
pub const EXIT_SUCCESS: u8 = 0x10;
pub const EXIT_FAILURE: u8 = 0x11;
pub const EXIT_PANIC: u8 = 0x12;

#[cfg(not(test))]
pub fn exit_qemu(code: u8) -> ! {
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device, present in every Resurgo boot.
    unsafe { port::outb(0xf4, code) };
    loop {
        // SAFETY: halting with interrupts off just stops this CPU.
        unsafe { core::arch::asm!("cli; hlt") };
    }
}

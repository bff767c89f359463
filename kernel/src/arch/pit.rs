//! The 8254 timer on line 0 drives the scheduler tick.
use super::port::{inb, outb};

const PIT_HZ: u32 = 1_193_182;

/// # Safety
/// Call once at boot with interrupts disabled.
pub unsafe fn init(hz: u32) {
    let divisor = (PIT_HZ / hz) as u16;
    // SAFETY: the PIT belongs to the kernel; channel 0, lo/hi byte, rate generator.
    unsafe {
        outb(0x43, 0x34);
        outb(0x40, divisor as u8);
        outb(0x40, (divisor >> 8) as u8);
    }
}

/// Measures the TSC against PIT channel 2 over 10 ms (channel 0 keeps running).
pub fn calibrate_tsc_per_ms() -> u64 {
    const MS: u64 = 10;
    let count = (PIT_HZ as u64 * MS / 1000) as u16;
    // SAFETY: the PIT and port 0x61 belong to the kernel; channel 2 is the
    // speaker's, gated off again afterwards.
    unsafe {
        let gate = inb(0x61);
        outb(0x61, (gate & !0x02) | 0x01);
        outb(0x43, 0xb0); // channel 2, lo/hi, mode 0
        outb(0x42, count as u8);
        outb(0x42, (count >> 8) as u8);
        let t0 = super::cpu::rdtsc();
        while inb(0x61) & 0x20 == 0 {}
        let t1 = super::cpu::rdtsc();
        outb(0x61, gate);
        ((t1 - t0) / MS).max(1)
    }
}

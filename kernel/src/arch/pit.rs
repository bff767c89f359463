//! The 8254 timer on line 0 drives the scheduler tick.
use super::port::outb;

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

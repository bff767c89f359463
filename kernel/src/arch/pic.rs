//! The two cascaded 8259 PICs of QEMU's `pc` machine: lines 0..16 at vectors
//! 32..48. A line is masked while its interrupt is being handled by user level
//! (Omega0 style) and unmasked when every handler sharing it has acknowledged.
use super::port::{inb, outb};

const PIC1: u16 = 0x20;
const PIC2: u16 = 0xa0;

pub use super::lines::{CASCADE, LINES};

static mut MASK: u16 = 0xffff;

/// # Safety
/// Call once at boot with interrupts disabled.
pub unsafe fn init(base: u8) {
    // SAFETY: the PICs belong to the kernel; standard ICW1..ICW4 sequence.
    unsafe {
        outb(PIC1, 0x11);
        outb(PIC2, 0x11);
        outb(PIC1 + 1, base);
        outb(PIC2 + 1, base + 8);
        outb(PIC1 + 1, 4);
        outb(PIC2 + 1, 2);
        outb(PIC1 + 1, 1);
        outb(PIC2 + 1, 1);
        MASK = !(1 << CASCADE);
        write_mask();
    }
}

unsafe fn write_mask() {
    // SAFETY: kernel-owned device, interrupts off.
    unsafe {
        outb(PIC1 + 1, MASK as u8);
        outb(PIC2 + 1, (MASK >> 8) as u8);
    }
}

pub fn mask(line: u8) {
    // SAFETY: kernel-owned device; the kernel runs with interrupts off.
    unsafe {
        MASK |= 1 << line;
        write_mask();
    }
}

pub fn unmask(line: u8) {
    // SAFETY: as in `mask`.
    unsafe {
        MASK &= !(1 << line);
        write_mask();
    }
}

pub fn eoi(line: u8) {
    // SAFETY: acknowledging the interrupt in service on a kernel-owned device.
    unsafe {
        if line >= 8 {
            outb(PIC2, 0x20);
        }
        outb(PIC1, 0x20);
    }
}

/// Whether a line-7 or line-15 interrupt is spurious (not in service).
pub fn is_spurious(line: u8) -> bool {
    // SAFETY: reading the in-service register (OCW3 0x0b) of a kernel-owned device.
    unsafe {
        match line {
            7 => {
                outb(PIC1, 0x0b);
                inb(PIC1) & 0x80 == 0
            }
            15 => {
                outb(PIC2, 0x0b);
                let spurious = inb(PIC2) & 0x80 == 0;
                if spurious {
                    // The master saw a real cascade interrupt.
                    outb(PIC1, 0x20);
                }
                spurious
            }
            _ => false,
        }
    }
}

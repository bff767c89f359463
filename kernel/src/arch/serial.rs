//! COM1, the kernel's debug console: polled output, 115200 8N1.
use super::port::{inb, outb};

const COM1: u16 = 0x3f8;

pub fn init() {
    // SAFETY: COM1 belongs to the kernel; this is the standard 16550 setup sequence.
    unsafe {
        outb(COM1 + 1, 0x00); // no interrupts
        outb(COM1 + 3, 0x80); // DLAB
        outb(COM1, 0x01); // divisor 1: 115200
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03); // 8N1
        outb(COM1 + 2, 0xc7); // FIFO on, cleared
        outb(COM1 + 4, 0x03); // DTR, RTS
    }
}

pub fn write_byte(b: u8) {
    // SAFETY: COM1 belongs to the kernel; wait for the transmit holding register.
    unsafe {
        while inb(COM1 + 5) & 0x20 == 0 {}
        outb(COM1, b);
    }
}

pub fn write_str(s: &str) {
    for b in s.bytes() {
        if b == b'\n' {
            write_byte(b'\r');
        }
        write_byte(b);
    }
}

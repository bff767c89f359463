//! Port I/O instructions for the kernel's own devices (COM1, PIC, PIT).
use core::arch::asm;

/// # Safety
/// Writing a port has device side effects; the caller must own the device.
pub unsafe fn outb(port: u16, val: u8) {
    // SAFETY: see the function contract.
    unsafe { asm!("out dx, al", in("dx") port, in("al") val, options(nomem, nostack, preserves_flags)) };
}

/// # Safety
/// Reading a port may have device side effects; the caller must own the device.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: see the function contract.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) };
    v
}

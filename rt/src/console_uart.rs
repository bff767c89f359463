//! [`crate::console`] on Resurgo's kernel: COM1's receive side. The kernel
//! keeps writing to COM1; this only reads the receive buffer and enables the
//! receive interrupt, so the two never fight over the UART.

use crate::obj::{Irq, Thread};
use crate::{Error, Timeout};

const COM1: u16 = 0x3f8;
/// The receive-data-available interrupt (IER).
const IER_RX: u8 = 0x01;
/// OUT2 (MCR): gates the UART's interrupt onto the line.
const MCR_OUT2: u8 = 0x08;
/// Data ready (LSR).
const LSR_DR: u8 = 0x01;

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: a port of COM1, which the manifest grants the console's task
    // (without the grant the instruction faults, which stops the task).
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

fn outb(port: u16, v: u8) {
    // SAFETY: as in `inb`.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

/// COM1's receive side, with its interrupt attached to the calling thread.
pub struct Console {
    irq: Irq,
}

impl Console {
    /// Takes COM1's receive side: the task needs the capability `irq.4` and
    /// COM1's ports.
    pub fn open() -> Result<Console, Error> {
        let irq = Irq(crate::env::cap("irq.4").ok_or(Error::NoCapability)?);
        irq.attach(&Thread::own_main(), 4)?;
        outb(COM1 + 1, IER_RX);
        outb(COM1 + 4, inb(COM1 + 4) | MCR_OUT2);
        Ok(Console { irq })
    }

    /// Waits up to `timeout` for input (not at all when some is there) and
    /// reads what there is into `buf`; 0 when nothing came.
    pub fn read(&mut self, buf: &mut [u8], timeout: Timeout) -> usize {
        if inb(COM1 + 5) & LSR_DR == 0 {
            let _ = self.irq.wait(timeout);
        }
        let mut n = 0;
        while n < buf.len() && inb(COM1 + 5) & LSR_DR != 0 {
            buf[n] = inb(COM1);
            n += 1;
        }
        let _ = self.irq.unmask();
        n
    }
}

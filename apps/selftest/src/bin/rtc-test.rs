//! Interrupt delivery as IPC from a real device line: the CMOS RTC's periodic
//! interrupt on line 8, acknowledged at the device (register C) and unmasked
//! at the kernel after each one.
#![no_std]
#![no_main]

use rt::obj::{Irq, KernelCap, Thread};
use rt::{Timeout, ipc};
use selftest::check;

rt::entry!(main);

fn cmos_read(reg: u8) -> u8 {
    // SAFETY: ports 0x70-0x71 are granted to this task by its manifest.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") reg, options(nomem, nostack));
        let v: u8;
        core::arch::asm!("in al, 0x71", out("al") v, options(nomem, nostack));
        v
    }
}

fn cmos_write(reg: u8, value: u8) {
    // SAFETY: as in `cmos_read`.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") reg, options(nomem, nostack));
        core::arch::asm!("out 0x71, al", in("al") value, options(nomem, nostack));
    }
}

pub const WANTED: u32 = 20;

fn main() {
    let irq = Irq(rt::env::require_cap("irq.8"));
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    irq.attach(&Thread::own_main(), 8).expect("attach to line 8");
    // 64 Hz periodic interrupt: rate 10 in register A, PIE in register B.
    cmos_write(0x0a, (cmos_read(0x0a) & 0xf0) | 10);
    cmos_write(0x0b, cmos_read(0x0b) | 0x40);
    let _ = cmos_read(0x0c);
    let t0 = kernel.stats().map(|s| s.ticks).unwrap_or(0);
    let mut got = 0;
    let mut periodic = 0;
    while got < WANTED {
        match ipc::receive(irq.0, Timeout::Millis(2000)) {
            Ok(m) if m.label == 8 => {
                got += 1;
                // Reading register C acknowledges the RTC; then let the line fire again.
                if cmos_read(0x0c) & 0x40 != 0 {
                    periodic += 1;
                }
                irq.unmask().expect("unmask");
            }
            Ok(m) => rt::warn!("unexpected message label {}", m.label),
            Err(e) => {
                rt::error!("no interrupt: {}", e);
                break;
            }
        }
    }
    let ms = kernel.stats().map(|s| s.ticks).unwrap_or(0) - t0;
    cmos_write(0x0b, cmos_read(0x0b) & !0x40);
    // 20 interrupts at 64 Hz take about 300 ms.
    check!(
        "irq.rtc",
        got == WANTED && periodic == WANTED && (150..3000).contains(&ms),
        "count={got} periodic={periodic} ms={ms}"
    );
}

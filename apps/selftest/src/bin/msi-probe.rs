//! A test driver for message-signalled interrupts: it opens its e1000e as
//! any driver would, asks io for the device's MSI (`rt::device`'s
//! `enable_msi`), attaches its thread to the IRQ object it gets, and has the
//! card raise interrupts with real registers (the link-status cause set
//! through ICS, unmasked in IMS). Each must arrive as IPC on the MSI's
//! object, through the kernel's vector and the IOMMU's remapping entry.
//! Then: MSI off and on again gives the same line and still delivers; a
//! software trigger of the hardware IRQ is refused; and with MSI off the
//! card's interrupt goes to its INTx line, not the MSI.
#![no_std]
#![no_main]

use rt::Timeout;
use rt::obj::{Irq, Thread};
use rt::sys::proto::PROTO_IRQ;

rt::entry!(main);

// e1000e registers (offsets into BAR 0) and the link-status cause.
const ICR: u64 = 0xc0;
const ICS: u64 = 0xc8;
const IMS: u64 = 0xd0;
const IMC: u64 = 0xd8;
const CAUSE_LSC: u32 = 0x4;
/// The label the MSI's object is attached with.
const LABEL: u64 = 0x3517;
const ROUNDS: u32 = 3;

struct Regs(u64);

impl Regs {
    fn read(&self, off: u64) -> u32 {
        // SAFETY: BAR 0 (128 KiB) is mapped uncached at `self.0`; the
        // offsets are registers within it.
        unsafe { ((self.0 + off) as *const u32).read_volatile() }
    }
    fn write(&self, off: u64, v: u32) {
        // SAFETY: as in `read`.
        unsafe { ((self.0 + off) as *mut u32).write_volatile(v) }
    }
}

/// Has the card raise the link-status interrupt `ROUNDS` times; how many
/// arrived on `irq` within a second each.
fn fire(regs: &Regs, irq: &Irq) -> u32 {
    let mut got = 0;
    for _ in 0..ROUNDS {
        regs.write(IMC, !0);
        regs.read(ICR);
        // A real link change (the card's link comes up on its own) may
        // have signalled while IMS was open: that trigger is not this one.
        while rt::ipc::wait(Timeout::Millis(20)).is_ok() {
            let _ = irq.unmask();
        }
        regs.write(IMS, CAUSE_LSC);
        regs.write(ICS, CAUSE_LSC);
        let arrived =
            rt::ipc::wait(Timeout::Millis(1000)).is_ok_and(|m| m.label == LABEL && m.tag.label() == PROTO_IRQ);
        // Reading ICR acknowledges the cause at the card.
        let cause = regs.read(ICR);
        if arrived && cause & CAUSE_LSC != 0 {
            got += 1;
        }
        let _ = irq.unmask();
    }
    regs.write(IMC, !0);
    got
}

fn main() {
    let dev = rt::device::open().unwrap_or_else(|e| {
        rt::error!("no device: {}", e);
        rt::exit(2, "no device")
    });
    let bar0 = dev.info().bars[0].filter(|b| !b.is_io).expect("a memory BAR 0");
    let mmio = dev.map_mem(bar0.base, bar0.size).expect("its registers");
    let regs = Regs(mmio.virt);
    // Memory decoding and bus mastering on: an MSI is a write the card makes.
    let cmd = dev.config_read(0x04, 2).expect("command register");
    dev.config_write(0x04, 2, cmd | 0b110).expect("bus mastering");

    let line = match dev.enable_msi() {
        Ok(l) => l,
        Err(e) => {
            rt::info!("TEST msi.enabled FAIL {}", e);
            rt::exit(3, "no MSI")
        }
    };
    let irq = dev.irq(line).expect("the MSI's IRQ object");
    rt::info!("TEST msi.enabled ok line={:#x}", line);
    irq.attach(&Thread::own_main(), LABEL).expect("attach");

    let got = fire(&regs, &irq);
    let verdict = if got == ROUNDS { "ok" } else { "FAIL" };
    rt::info!("TEST msi.delivered {} got={} of={}", verdict, got, ROUNDS);

    let refused = irq.trigger().is_err();
    rt::info!("TEST msi.no_software_trigger {} refused={}", if refused { "ok" } else { "FAIL" }, refused);

    // Off: the card's interrupt is the INTx line's again, not the MSI's.
    dev.disable_msi().expect("MSI off");
    let stray = fire(&regs, &irq);
    rt::info!("TEST msi.off {} got={}", if stray == 0 { "ok" } else { "FAIL" }, stray);

    // On again: the same object and line, delivering again.
    let again = dev.enable_msi().expect("MSI on again");
    let got = fire(&regs, &irq);
    let verdict = if again == line && got == ROUNDS { "ok" } else { "FAIL" };
    rt::info!("TEST msi.again {} line={:#x} got={} of={}", verdict, again, got, ROUNDS);
    rt::info!("TEST msi done");
}

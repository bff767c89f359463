//! A driver task that reaches beyond its device, to show the io server and the
//! kernel refuse it: it claims its own device (which works), then writes one of
//! its BARs (refused by io), maps device memory outside its BARs (refused by the
//! kernel), reads the configuration ports directly or reads another device's
//! ports (each a fault that stops it). `mode` picks the last step.
#![no_std]
#![no_main]

use protocols::pci::{self, INFO_WORDS};
use rt::obj::{IoMem, IoPorts, Task};
use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: reading a port either works (granted) or faults this task alone,
    // which is what this test is about.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

fn main() {
    let io = rt::env::require_cap("io.pci");
    let mode = rt::env::value("mode").unwrap_or(0);
    // Claim the device: info words plus one capability per BAR and the IRQ.
    let slots: [rt::CapIdx; 4] = core::array::from_fn(|_| rt::cap::alloc().expect("slot"));
    ipc::set_receive_slots(&slots);
    let r = ipc::call(io, MsgTag::new(pci::OPEN, 0, 0), Timeout::Never).expect("io answers");
    if r.tag.words() != INFO_WORDS {
        rt::exit(2, "io gave no device");
    }
    let info = selftest::open_reply();
    let bar0 = info.bars[0].expect("an I/O BAR");
    // Its own ports work once granted.
    Task::own().grant_io(&IoPorts(slots[0]), false).expect("grant own ports");
    let own = inb(bar0.base as u16);
    rt::info!(
        "TEST pci.own_device ok vendor={:#x} device={:#x} bar0={:#x} reg0={:#x}",
        info.vendor,
        info.device,
        bar0.base,
        own
    );

    // Moving a BAR: refused by io.
    let _ = ipc::write_mrs(0, &[0x10, 4, 0xdead_0001]);
    let _ = ipc::call(io, MsgTag::new(pci::CONFIG_WRITE, 3, 0), Timeout::Never);
    let refused = protocols::status::decode::<pci::Error>(ipc::mr::<0>()) == Err(pci::Error::Denied);
    rt::info!("TEST pci.bar_write_refused {} answer={}", if refused { "ok" } else { "FAIL" }, ipc::mr::<0>() as i64);

    // Device memory outside its BARs (the VGA framebuffer): refused by the kernel.
    // The capabilities come in BAR order; a device without a memory BAR has
    // nothing to try this with.
    let mem_cap = info.bars.iter().flatten().position(|b| !b.is_io).map(|i| slots[i]);
    if let Some(cap) = mem_cap {
        let outside = IoMem(cap).create_dataspace(0xfd00_0000, 4096);
        rt::info!(
            "TEST pci.mmio_outside_refused {} result={:?}",
            if outside.is_err() { "ok" } else { "FAIL" },
            outside.err()
        );
    }

    match mode {
        // Configuration mechanism ports: never granted to a driver.
        1 => rt::info!("read {:#x}", inb(0xcfc)),
        // Another device's ports, given by the test.
        2 => {
            let port = rt::env::value("foreign-port").unwrap_or(0xc100) as u16;
            rt::info!("read {:#x}", inb(port));
        }
        _ => {}
    }
    rt::exit(3, "reached past its device and was not stopped");
}

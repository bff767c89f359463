//! A driver writing its configuration space where it may not: over its BAR
//! another device's address (`foreign-bar`), the expansion ROM, the
//! capability pointer, BIST, the interrupt pin, command bits it has no
//! business with. io must refuse each, and the device must read back as
//! before; what a driver may write (the cache line size) still works. With
//! `mode = 1` the task is the bystander: the driver of the other device,
//! which checks after the attack that its device is where io said, and that
//! its ports answer. With `mode = 2` it is a driver that leaves its device's
//! settings behind and exits, again and again under the reincarnation
//! server: each instance first checks that it got the device as the firmware
//! left it (interrupt enabled, no bus mastering, nothing of its
//! predecessor's in the cache line, latency and interrupt line registers).
#![no_std]
#![no_main]

use protocols::pci::DeviceInfo;
use protocols::pci::{self, INFO_WORDS};
use protocols::pci_config;
use protocols::status::ProtocolError;
use rt::obj::{IoPorts, Task};
use rt::{CapIdx, MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

fn read(io: CapIdx, offset: u64, len: u64) -> u64 {
    let _ = ipc::write_mrs(0, &[offset, len]);
    match ipc::call(io, MsgTag::new(pci::CONFIG_READ, 2, 0), Timeout::Millis(2000)) {
        Ok(_) => ipc::mr::<0>(),
        Err(_) => u64::MAX,
    }
}

/// io's answer: 0, or a negative error code.
fn write(io: CapIdx, offset: u64, len: u64, value: u64) -> i64 {
    let _ = ipc::write_mrs(0, &[offset, len, value]);
    match ipc::call(io, MsgTag::new(pci::CONFIG_WRITE, 3, 0), Timeout::Millis(2000)) {
        Ok(_) => ipc::mr::<0>() as i64,
        Err(_) => i64::MIN,
    }
}

fn main() {
    let io = rt::env::require_cap("io.pci");
    let foreign = rt::env::value("foreign-bar").unwrap_or(0xc100);
    let slots: [CapIdx; 4] = core::array::from_fn(|_| rt::cap::alloc().expect("slot"));
    ipc::set_receive_slots(&slots);
    let r = ipc::call(io, MsgTag::new(pci::OPEN, 0, 0), Timeout::Never).expect("io answers");
    if r.tag.words() != INFO_WORDS {
        rt::exit(2, "io gave no device");
    }
    match rt::env::value("mode") {
        Some(1) => {
            return bystander(io, selftest::open_reply(), slots[0]);
        }
        Some(2) => leaver(io),
        _ => {}
    }
    // The header as it was.
    let before: [u64; 16] = core::array::from_fn(|i| read(io, 4 * i as u64, 4));
    let attacks: [(&str, u64, u64, u64); 8] = [
        ("bar0_over_another_device", 0x10, 4, foreign | 1),
        ("bar1_over_another_device", 0x14, 4, foreign),
        ("expansion_rom", 0x30, 4, 0xfeb0_0001),
        ("capability_pointer", 0x34, 1, 0x40),
        ("bist", 0x0f, 1, 0x40),
        ("interrupt_pin", 0x3d, 1, 0x02),
        ("header_type", 0x0e, 1, 0x80),
        ("device_id", 0x00, 4, 0x1234_5678),
    ];
    for (what, offset, len, value) in attacks {
        let answer = write(io, offset, len, value);
        check!("pci.write_refused", answer == pci::Error::Denied.code(), "what={what} answer={answer}");
    }
    // Command bits past the allowed ones (SERR, parity) keep their value.
    let command = before[1] & 0xffff;
    let answer = write(io, 0x04, 2, command | 0x0140);
    let after_command = read(io, 0x04, 2);
    check!(
        "pci.command_filtered",
        answer == 0 && after_command & 0x0140 == command & 0x0140,
        "answer={answer} before={command:#x} after={after_command:#x}"
    );
    // What a driver may change, it can.
    let cache_line = write(io, 0x0c, 1, 0x10);
    check!("pci.cache_line_allowed", cache_line == 0 && read(io, 0x0c, 1) == 0x10, "answer={cache_line}");
    // Nothing else moved: identity, BARs, ROM, pointer, pin read as before.
    let after: [u64; 16] = core::array::from_fn(|i| read(io, 4 * i as u64, 4));
    let fixed = [0usize, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    let moved = fixed.iter().filter(|&&i| before[i] != after[i]).count();
    let pin_same = before[15] >> 8 & 0xff == after[15] >> 8 & 0xff;
    check!(
        "pci.header_unchanged",
        moved == 0 && pin_same && before[3] >> 16 == after[3] >> 16,
        "moved_dwords={moved} bar0={:#x}->{:#x}",
        before[4],
        after[4]
    );
    rt::info!("TEST pci.hostile done");
}

/// What a `leaver` writes into its device's header before it exits.
const LEFT_CACHE_LINE: u64 = 0x20;
const LEFT_LATENCY: u64 = 0x40;
const LEFT_IRQ_LINE: u64 = 0x05;

/// Checks that the device came as the firmware left it, then leaves it with
/// its interrupt disabled, bus mastering on and other values in the cache
/// line, latency and interrupt line registers, and exits.
fn leaver(io: CapIdx) -> ! {
    let command = read(io, 0x04, 2);
    let (cache_line, latency, irq_line) = (read(io, 0x0c, 1), read(io, 0x0d, 1), read(io, 0x3c, 1));
    check!(
        "pci.handover_clean",
        command & u64::from(pci_config::COMMAND_INTX_DISABLE) == 0
            && command & u64::from(pci_config::COMMAND_BUS_MASTER) == 0
            && cache_line != LEFT_CACHE_LINE
            && latency != LEFT_LATENCY
            && irq_line != LEFT_IRQ_LINE,
        "command={command:#x} cache_line={cache_line:#x} latency={latency:#x} irq_line={irq_line}"
    );
    let left = command | u64::from(pci_config::COMMAND_INTX_DISABLE) | u64::from(pci_config::COMMAND_BUS_MASTER);
    let answers = [
        write(io, 0x04, 2, left),
        write(io, 0x0c, 1, LEFT_CACHE_LINE),
        write(io, 0x0d, 1, LEFT_LATENCY),
        write(io, 0x3c, 1, LEFT_IRQ_LINE),
    ];
    let now = read(io, 0x04, 2);
    check!(
        "pci.leaver_wrote",
        answers.iter().all(|&a| a == 0) && now & u64::from(pci_config::COMMAND_INTX_DISABLE) != 0,
        "answers={answers:?} command={now:#x}"
    );
    rt::exit(1, "left its device's settings behind")
}

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: a port of this task's own device, put into its I/O bitmap
    // before; anything else faults this task alone.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

/// The other device's driver, after the attack: its BAR is where io said,
/// and its registers answer (an ne2k's command register never reads 0xff).
fn bystander(io: CapIdx, info: DeviceInfo, ports: CapIdx) {
    ipc::sleep_ms(3000);
    let bar0 = info.bars[0].map_or(0, |b| b.base);
    let reads = read(io, 0x10, 4) & !0x3;
    let granted = Task::own().grant_io(&IoPorts(ports), false);
    let reg = if granted.is_ok() { inb(bar0 as u16) } else { 0xff };
    check!(
        "pci.bystander_ok",
        reads == bar0 && granted.is_ok() && reg != 0xff,
        "bar0={bar0:#x} reads={reads:#x} reg0={reg:#x}"
    );
    rt::info!("TEST pci.bystander done");
}

//! A hostile driver: it opens its RTL8139 as any driver would and programs
//! it, with real registers, to receive a frame into memory that is not its
//! own: the first incarnation into a page of the boot archive (a kernel
//! frame), the second into another task's page (dma-victim's). The frame is
//! the card's own, sent from this task's DMA memory and looped back
//! (transmit configuration loopback), so no host is needed. The IOMMU must
//! block the write, the kernel report it as this task's fault, and the
//! reincarnation server restart it; the third incarnation checks that both
//! targets are unchanged and exits.
#![no_std]
#![no_main]

use rt::obj::Task;
use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

// RTL8139 registers (C mode).
const TSD0: u16 = 0x10;
const TSAD0: u16 = 0x20;
const RBSTART: u16 = 0x30;
const CR: u16 = 0x37;
const IMR: u16 = 0x3c;
const TCR: u16 = 0x40;
const RCR: u16 = 0x44;
const CR_RESET: u8 = 1 << 4;
const CR_RE: u8 = 1 << 3;
const CR_TE: u8 = 1 << 2;
/// Transmit loopback (both LBK bits).
const TCR_LOOPBACK: u32 = 0b11 << 17;
/// Accept every frame, and do not wrap a frame at the buffer's end.
const RCR_ALL_WRAP: u32 = 0xf | (1 << 7);

fn outb(port: u16, v: u8) {
    // SAFETY: the port is one of this task's device's, granted to it.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn outl(port: u16, v: u32) {
    // SAFETY: as in `outb`.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as in `outb`.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The first page of the boot archive (kernel memory, read-only to tasks):
/// its physical address and checksum.
fn kernel_page() -> (u64, u64) {
    let cap = rt::env::require_cap("boot-archive");
    let ds = rt::obj::Dataspace(cap);
    let addr = rt::mem::attach(&ds, 4096, false).expect("map the boot archive");
    let phys = Task::own().virt_to_phys(addr).expect("its physical address");
    // SAFETY: one page of the boot archive is mapped read-only at `addr`.
    let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, 4096) };
    (phys, checksum(bytes))
}

/// The victim's page: physical address, checksum, and this call's number.
fn victim() -> (u64, u64, u64) {
    let gate = rt::env::require_cap("dma-victim.main");
    ipc::call(gate, MsgTag::new(1, 0, 0), Timeout::Never).expect("the victim answers");
    let [phys, sum, calls] = ipc::mrs::<3>();
    (phys, sum, calls)
}

fn main() {
    let (victim_phys, victim_sum, incarnation) = victim();
    let (kernel_phys, kernel_sum) = kernel_page();
    if incarnation >= 3 {
        rt::info!("TEST dma.after ok kind=kernel phys={:#x} sum={:#x}", kernel_phys, kernel_sum);
        rt::info!("TEST dma.after ok kind=task phys={:#x} sum={:#x}", victim_phys, victim_sum);
        rt::exit(0, "checked the targets");
    }
    let (kind, target, sum) =
        if incarnation == 1 { ("kernel", kernel_phys, kernel_sum) } else { ("task", victim_phys, victim_sum) };

    let dev = rt::device::open().unwrap_or_else(|e| {
        rt::error!("no device: {}", e);
        rt::exit(2, "no device")
    });
    let bar0 = dev.info().bars[0].filter(|b| b.is_io).expect("an I/O BAR");
    dev.request_ports(bar0.base, bar0.size).expect("its ports");
    // I/O decoding and bus mastering on, as the driver's probe would.
    let cmd = dev.config_read(0x04, 2).expect("command register");
    dev.config_write(0x04, 2, cmd | 0b101).expect("bus mastering");
    let io = bar0.base as u16;
    outb(io + CR, CR_RESET);
    while inb(io + CR) & CR_RESET != 0 {}

    // The frame, in this task's own DMA memory (mapped in its domain).
    let tx = rt::device::dma_alloc(4096).expect("DMA memory");
    // SAFETY: `tx` is this task's fresh 4096-byte mapping.
    let frame = unsafe { core::slice::from_raw_parts_mut(tx.as_mut_ptr(), 64) };
    frame[..6].fill(0xff);
    frame[6..12].copy_from_slice(&[0x52, 0x54, 0, 0xde, 0xad, 0x01]);
    frame[12..14].copy_from_slice(&[0x88, 0xb5]);
    frame[14..].fill(0xa5);

    rt::info!("TEST dma.before ok kind={} target={:#x} sum={:#x} incarnation={}", kind, target, sum, incarnation);
    outb(io + CR, CR_RE | CR_TE);
    outl(io + RBSTART, target as u32);
    outl(io + RCR, RCR_ALL_WRAP);
    outl(io + TCR, TCR_LOOPBACK);
    outl(io + IMR, 0);
    outl(io + TSAD0, tx.phys as u32);
    // Size 64, OWN clear: the card sends it now, into its own receiver.
    outl(io + TSD0, 64);
    rt::info!("TEST dma.programmed ok kind={} target={:#x}", kind, target);
    // The kernel stops this task when the IOMMU records the blocked write.
    ipc::sleep_ms(3000);
    rt::info!("TEST dma.not_stopped FAIL kind={}", kind);
    rt::exit(3, "the device's write was not reported");
}

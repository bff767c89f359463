//! PCI configuration space through configuration mechanism 1 (ports 0xcf8 and
//! 0xcfc, granted to the io server alone), and the bus scan.

use alloc::vec::Vec;
use protocols::pci::{BARS, Bar, DeviceInfo};
pub use protocols::pci_config::COMMAND_BUS_MASTER;
use protocols::pci_config::{Capabilities, Writable};

const ADDRESS: u16 = 0xcf8;
const DATA: u16 = 0xcfc;

/// A device's place on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bdf {
    pub bus: u8,
    pub slot: u8,
    pub func: u8,
}

impl core::fmt::Display for Bdf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.slot, self.func)
    }
}

fn outl(port: u16, v: u32) {
    // SAFETY: the manifest grants this task ports 0xcf8..0xd00.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack)) };
}

fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as in `outl`.
    unsafe { core::arch::asm!("in eax, dx", in("dx") port, out("eax") v, options(nomem, nostack)) };
    v
}

fn address(d: Bdf, offset: u8) -> u32 {
    1 << 31 | (d.bus as u32) << 16 | (d.slot as u32) << 11 | (d.func as u32) << 8 | (offset as u32 & 0xfc)
}

pub fn read32(d: Bdf, offset: u8) -> u32 {
    outl(ADDRESS, address(d, offset));
    inl(DATA)
}

pub fn write32(d: Bdf, offset: u8, v: u32) {
    outl(ADDRESS, address(d, offset));
    outl(DATA, v);
}

/// Reads 1, 2 or 4 bytes at an offset aligned to the length.
pub fn read(d: Bdf, offset: u8, len: u8) -> u32 {
    let shift = (offset & 3) * 8;
    let v = read32(d, offset) >> shift;
    match len {
        1 => v & 0xff,
        2 => v & 0xffff,
        _ => v,
    }
}

/// Writes 1, 2 or 4 bytes at an offset aligned to the length (read-modify-write
/// of the containing dword for the shorter ones).
pub fn write(d: Bdf, offset: u8, len: u8, value: u32) {
    if len == 4 {
        return write32(d, offset, value);
    }
    let shift = (offset & 3) * 8;
    let mask = if len == 1 { 0xffu32 } else { 0xffff } << shift;
    let old = read32(d, offset);
    write32(d, offset, (old & !mask) | ((value << shift) & mask));
}

/// A device found on the bus, with what its BARs decode.
#[derive(Clone, Debug)]
pub struct Device {
    pub bdf: Bdf,
    pub info: DeviceInfo,
    /// Its capability list, read once at the scan: what a driver may not
    /// write (MSI, MSI-X, power states) is found there.
    pub caps: Capabilities,
    /// The fields a driver may write, as the firmware left them: what each
    /// new driver instance gets back.
    pub boot: Writable,
}

/// Scans every bus reachable from bus 0 through PCI-to-PCI bridges.
pub fn scan() -> Vec<Device> {
    let mut found = Vec::new();
    let mut buses = alloc::vec![0u8];
    let mut seen = [false; 256];
    while let Some(bus) = buses.pop() {
        if core::mem::replace(&mut seen[bus as usize], true) {
            continue;
        }
        for slot in 0..32 {
            for func in 0..8 {
                let d = Bdf { bus, slot, func };
                let id = read32(d, 0);
                if id & 0xffff == 0xffff {
                    if func == 0 {
                        break;
                    }
                    continue;
                }
                let header = read(d, 0x0e, 1);
                let class = read32(d, 0x08);
                if header & 0x7f == 1 {
                    // A bridge: scan its secondary bus.
                    buses.push(read(d, 0x19, 1) as u8);
                } else if header & 0x7f == 0 {
                    found.push(Device {
                        bdf: d,
                        info: probe(d, id, class),
                        caps: Capabilities::read(|at| read32(d, at)),
                        boot: Writable::read(|at| read32(d, at)),
                    });
                }
                if func == 0 && header & 0x80 == 0 {
                    break;
                }
            }
        }
    }
    found
}

fn probe(d: Bdf, id: u32, class: u32) -> DeviceInfo {
    let subsys = read32(d, 0x2c);
    let mut info = DeviceInfo {
        bus: d.bus,
        slot: d.slot,
        func: d.func,
        irq_line: read(d, 0x3c, 1) as u8,
        ..DeviceInfo::from_header(id, class, subsys)
    };
    // Size the BARs with decoding off, then restore everything.
    let command = read(d, 0x04, 2);
    write(d, 0x04, 2, command & !0x3);
    let mut i = 0;
    while i < BARS {
        let off = 0x10 + 4 * i as u8;
        let orig = read32(d, off);
        write32(d, off, 0xffff_ffff);
        let mask = read32(d, off);
        write32(d, off, orig);
        if mask == 0 || mask == 0xffff_ffff && orig == 0 {
            i += 1;
            continue;
        }
        if orig & 1 == 1 {
            let size = (!(mask & 0xffff_fffc)).wrapping_add(1) & 0xffff;
            info.bars[i] = Some(Bar { base: (orig & 0xffff_fffc) as u64, size: size as u64, is_io: true });
            i += 1;
        } else {
            let is64 = (orig >> 1) & 3 == 2;
            let mut base = (orig & 0xffff_fff0) as u64;
            let mut size_mask = (mask & 0xffff_fff0) as u64 | 0xffff_ffff_0000_0000;
            if is64 && i + 1 < BARS {
                let hi_off = off + 4;
                let hi = read32(d, hi_off);
                write32(d, hi_off, 0xffff_ffff);
                let hi_mask = read32(d, hi_off);
                write32(d, hi_off, hi);
                base |= (hi as u64) << 32;
                size_mask = (mask & 0xffff_fff0) as u64 | (hi_mask as u64) << 32;
            }
            let size = (!size_mask).wrapping_add(1);
            if size != 0 {
                info.bars[i] = Some(Bar { base, size, is_io: false });
            }
            i += if is64 { 2 } else { 1 };
        }
    }
    write(d, 0x04, 2, command);
    info
}

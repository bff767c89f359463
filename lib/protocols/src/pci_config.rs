//! What io lets a driver write into its device's configuration space.
//!
//! In the header a driver may change the command register (I/O and memory
//! decoding, INTx disable, and bus mastering when its manifest says `dma`),
//! clear status bits, and set the cache line size, latency timer and
//! interrupt line. Never the identity, the BARs (one could be moved over
//! another device), the expansion ROM, the capability pointer, the interrupt
//! pin or BIST. In the capability list it may not write any capability's
//! header, nothing of MSI or MSI-X (an interrupt message is a DMA write the
//! device makes wherever it is told), and in power management only the
//! control register with the power state kept at D0 (a device in D3 stops
//! decoding; only io may decide that). Device-specific registers outside the
//! capabilities are the driver's.
//!
//! What a driver writes stays in the device after the driver is gone, and
//! its successor (a clean image, with a fresh probe) may not undo it: Linux
//! drivers take the header as the firmware left it. So io records the
//! writable fields at boot ([`Writable`]) and puts them back between
//! instances ([`Writable::handover`]), as Linux restores a device's saved
//! state after a reset.

/// Capability ids.
pub const CAP_PM: u8 = 0x01;
pub const CAP_MSI: u8 = 0x05;
pub const CAP_MSIX: u8 = 0x11;

/// Offset of the power management control/status register in its capability.
pub const PM_CTRL: u8 = 4;

/// Command register: the device may master the bus (DMA).
pub const COMMAND_BUS_MASTER: u32 = 0x0004;

/// One entry of a device's capability list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capability {
    pub id: u8,
    pub offset: u8,
    /// Bytes it spans (for MSI from its control word; unknown kinds: 2, the
    /// header alone).
    pub len: u8,
}

/// The most capabilities io keeps per device; a longer (or looping) list is
/// cut there.
pub const MAX_CAPS: usize = 16;

/// A device's capability list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    list: [Capability; MAX_CAPS],
    n: usize,
}

impl Capability {
    /// A short name for logs: `pm`, `msi`, `msi-x`, `pcie`, or the id in hex.
    pub fn kind(&self) -> Kind {
        Kind(self.id)
    }
}

/// A capability id, shown by name where io has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind(pub u8);

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            CAP_PM => f.write_str("pm"),
            CAP_MSI => f.write_str("msi"),
            CAP_MSIX => f.write_str("msi-x"),
            0x10 => f.write_str("pcie"),
            id => write!(f, "{id:#04x}"),
        }
    }
}

impl Capabilities {
    pub fn as_slice(&self) -> &[Capability] {
        &self.list[..self.n]
    }

    /// Walks the list in the configuration space `read32` reads (dword at an
    /// aligned offset). Pointers below 0x40 end it, as does a repeat.
    pub fn read(read32: impl Fn(u8) -> u32) -> Capabilities {
        let mut caps = Capabilities::default();
        let status = read32(0x04) >> 16;
        if status & 0x10 == 0 {
            return caps;
        }
        let mut at = (read32(0x34) & 0xfc) as u8;
        while at >= 0x40 && caps.n < MAX_CAPS && !caps.as_slice().iter().any(|c| c.offset == at) {
            let head = read32(at);
            let id = head as u8;
            let len = match id {
                CAP_PM => 8,
                CAP_MSIX => 12,
                CAP_MSI => {
                    let control = head >> 16;
                    10 + if control & 0x80 != 0 { 4 } else { 0 } + if control & 0x100 != 0 { 10 } else { 0 }
                }
                _ => 2,
            };
            caps.list[caps.n] = Capability { id, offset: at, len };
            caps.n += 1;
            at = ((head >> 8) & 0xfc) as u8;
        }
        caps
    }
}

/// Why a write was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not 1, 2 or 4 bytes, or not aligned to its length.
    Malformed,
    /// A header field drivers may not change (its name).
    Header(&'static str),
    /// A capability's id or next pointer.
    CapabilityHeader,
    Msi,
    MsiX,
    /// Power management: another state than D0 (the state asked for).
    PowerState(u8),
    /// Power management registers other than the control register.
    PowerRegister,
}

impl Refusal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Malformed => "not 1, 2 or 4 aligned bytes",
            Refusal::Header(what) => what,
            Refusal::CapabilityHeader => "a capability's header",
            Refusal::Msi => "the MSI capability",
            Refusal::MsiX => "the MSI-X capability",
            Refusal::PowerState(_) => "a power state other than D0",
            Refusal::PowerRegister => "a power management register other than its control",
        }
    }
}

/// Whether a driver may write `len` bytes of `value` at `offset`, and what to
/// write: command-register bits outside the allowed set keep their current
/// value (`current_command`).
pub fn filter_write(
    current_command: u32,
    offset: u8,
    len: u8,
    value: u32,
    allow_dma: bool,
    caps: &[Capability],
) -> Result<u32, Refusal> {
    if !matches!(len, 1 | 2 | 4) || !(offset as u32).is_multiple_of(len as u32) {
        return Err(Refusal::Malformed);
    }
    let start = offset as u32;
    let end = start + len as u32;
    let overlaps = |a: u32, b: u32| start < b && a < end;
    const FIXED: [(u32, u32, &str); 7] = [
        (0x00, 0x04, "the vendor and device ids"),
        (0x08, 0x0c, "the revision and class"),
        (0x0e, 0x10, "the header type and BIST"),
        (0x10, 0x28, "a BAR"),
        (0x28, 0x30, "the CardBus CIS and subsystem ids"),
        (0x30, 0x38, "the expansion ROM or the capability pointer"),
        (0x3d, 0x40, "the interrupt pin and the grant and latency limits"),
    ];
    if let Some((_, _, what)) = FIXED.iter().find(|(a, b, _)| overlaps(*a, *b)) {
        return Err(Refusal::Header(what));
    }
    for c in caps {
        let (a, b) = (c.offset as u32, c.offset as u32 + c.len as u32);
        if !overlaps(a, b) {
            continue;
        }
        if overlaps(a, a + 2) {
            return Err(Refusal::CapabilityHeader);
        }
        match c.id {
            CAP_MSI => return Err(Refusal::Msi),
            CAP_MSIX => return Err(Refusal::MsiX),
            CAP_PM => {
                let ctrl = a + PM_CTRL as u32;
                // Only the control register (2 bytes; PME status and enable
                // are in its upper byte), with the state bits left at D0.
                if start < ctrl || end > ctrl + 2 {
                    return Err(Refusal::PowerRegister);
                }
                if start == ctrl && value & 0x3 != 0 {
                    return Err(Refusal::PowerState((value & 0x3) as u8));
                }
            }
            _ => {}
        }
    }
    if overlaps(0x04, 0x06) {
        // Command register: I/O, memory, bus master, INTx disable.
        let mut allowed = (DRIVER_COMMAND_BITS & !(COMMAND_BUS_MASTER as u16)) as u32;
        if allow_dma {
            allowed |= COMMAND_BUS_MASTER;
        }
        let shift = (start.saturating_sub(0x04)) * 8;
        let new_cmd = if start <= 0x04 { value & 0xffff } else { (value << shift) & 0xffff };
        let merged = (current_command & !allowed) | (new_cmd & allowed);
        if start <= 0x04 {
            return Ok((value & !0xffff) | merged);
        }
        return Ok(merged >> shift);
    }
    Ok(value)
}

/// Command register: the device's INTx interrupt is disabled.
pub const COMMAND_INTX_DISABLE: u16 = 0x0400;

/// The header fields a driver may write (the command register's bits it may
/// change, the cache line size, latency timer and interrupt line), as read
/// at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Writable {
    pub command: u16,
    pub cache_line: u8,
    pub latency: u8,
    pub irq_line: u8,
}

/// One write that puts a field back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restore {
    pub offset: u8,
    pub len: u8,
    pub value: u32,
    /// What it restores, for the log.
    pub what: &'static str,
}

/// What a [`Restore`] of the command register says when it only switched bus
/// mastering off (which io logs on its own).
pub const BUS_MASTERING_OFF: &str = "bus mastering off";

/// The command register bits a driver may change (`filter_write`).
const DRIVER_COMMAND_BITS: u16 = 0x0001 | 0x0002 | COMMAND_BUS_MASTER as u16 | COMMAND_INTX_DISABLE;

impl Writable {
    /// Reads the fields with `read32` (a dword of configuration space).
    pub fn read(mut read32: impl FnMut(u8) -> u32) -> Writable {
        let command = read32(0x04) as u16;
        let cache = read32(0x0c);
        let irq = read32(0x3c);
        Writable { command, cache_line: cache as u8, latency: (cache >> 8) as u8, irq_line: irq as u8 }
    }

    /// What a device's next driver gets, from the state at boot: bus
    /// mastering off (the next driver enables it when it is ready for DMA)
    /// and its interrupt enabled; decoding, cache line size, latency timer
    /// and interrupt line as at boot.
    pub fn handover(&self) -> Writable {
        let command = self.command & !(COMMAND_BUS_MASTER as u16) & !COMMAND_INTX_DISABLE;
        Writable { command, ..*self }
    }

    /// The writes that make `now` into `self`, each field that differs.
    /// Command bits a driver may not change are left as they are.
    pub fn restore_from(&self, now: &Writable) -> impl Iterator<Item = Restore> {
        let command = (now.command & !DRIVER_COMMAND_BITS) | (self.command & DRIVER_COMMAND_BITS);
        let what_command = if (now.command ^ command) & COMMAND_INTX_DISABLE != 0 && command & COMMAND_INTX_DISABLE == 0
        {
            "the interrupt enabled (INTx disable cleared)"
        } else if now.command ^ command == COMMAND_BUS_MASTER as u16 {
            BUS_MASTERING_OFF
        } else {
            "the command register"
        };
        let writes = [
            (now.command != command, Restore { offset: 0x04, len: 2, value: command as u32, what: what_command }),
            (
                now.cache_line != self.cache_line,
                Restore { offset: 0x0c, len: 1, value: self.cache_line as u32, what: "the cache line size" },
            ),
            (
                now.latency != self.latency,
                Restore { offset: 0x0d, len: 1, value: self.latency as u32, what: "the latency timer" },
            ),
            (
                now.irq_line != self.irq_line,
                Restore { offset: 0x3c, len: 1, value: self.irq_line as u32, what: "the interrupt line" },
            ),
        ];
        writes.into_iter().filter(|(differs, _)| *differs).map(|(_, w)| w)
    }
}

/// MSI message control: enabled; 64-bit address; per-vector masking; the
/// vectors enabled (multiple message enable, bits 6:4).
pub const MSI_ENABLE: u16 = 0x0001;
const MSI_64BIT: u16 = 0x0080;
const MSI_MASKABLE: u16 = 0x0100;
const MSI_MULTIPLE_ENABLE: u16 = 0x0070;

/// A configuration write io makes on its own account (not a driver's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    pub offset: u8,
    pub len: u8,
    pub value: u32,
}

/// The writes, in order, that point the MSI capability `cap` (its message
/// control word is `control`) at `address` and `data` for one vector and
/// then enable it: the address and data first, the vector unmasked where
/// the capability masks per vector, the control word last. None when the
/// address does not fit a 32-bit capability.
pub fn msi_enable(cap: &Capability, control: u16, address: u64, data: u32) -> Option<[Option<Write>; 5]> {
    let wide = control & MSI_64BIT != 0;
    if !wide && address >> 32 != 0 {
        return None;
    }
    let at = |off: u8| cap.offset.checked_add(off);
    let (data_at, mask_at) = if wide { (0x0c, 0x10) } else { (0x08, 0x0c) };
    let control = (control & !MSI_MULTIPLE_ENABLE) | MSI_ENABLE;
    Some([
        Some(Write { offset: at(4)?, len: 4, value: address as u32 }),
        wide.then_some(Write { offset: at(8)?, len: 4, value: (address >> 32) as u32 }),
        Some(Write { offset: at(data_at)?, len: 2, value: data & 0xffff }),
        (control & MSI_MASKABLE != 0).then_some(Write { offset: at(mask_at)?, len: 4, value: 0 }),
        Some(Write { offset: at(2)?, len: 2, value: control as u32 }),
    ])
}

/// The write that disables the MSI capability `cap` (control word
/// `control`), or None when it is not enabled.
pub fn msi_disable(cap: &Capability, control: u16) -> Option<Write> {
    (control & MSI_ENABLE != 0).then(|| Write {
        offset: cap.offset.saturating_add(2),
        len: 2,
        value: (control & !MSI_ENABLE & !MSI_MULTIPLE_ENABLE) as u32,
    })
}

/// MSI-X message control: enabled; all vectors masked; the table's size
/// less one (bits 10:0).
pub const MSIX_ENABLE: u16 = 0x8000;
const MSIX_FUNCTION_MASK: u16 = 0x4000;
const MSIX_TABLE_SIZE: u16 = 0x07ff;
/// Bytes of one MSI-X table entry: address (two dwords), data, vector control.
pub const MSIX_ENTRY: u64 = 16;

/// Where an MSI-X capability's table is: in BAR `bar`, at `offset`, with
/// `entries` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsixTable {
    pub bar: usize,
    pub offset: u64,
    pub entries: u16,
}

impl MsixTable {
    /// From the capability's message control word and its table
    /// offset/BIR dword; None for a BAR indicator past the six BARs.
    pub fn decode(control: u16, table: u32) -> Option<MsixTable> {
        let bar = (table & 7) as usize;
        (bar < 6).then_some(MsixTable { bar, offset: u64::from(table & !7), entries: (control & MSIX_TABLE_SIZE) + 1 })
    }
}

/// An MSI-X table entry pointing at `address` with `data`, unmasked, as
/// its four dwords in order.
pub const fn msix_entry(address: u64, data: u32) -> [u32; 4] {
    [address as u32, (address >> 32) as u32, data, 0]
}

/// The MSI-X message control word that enables it, no vector masked as a
/// whole (the entries say which are).
pub const fn msix_enable(control: u16) -> u16 {
    (control | MSIX_ENABLE) & !MSIX_FUNCTION_MASK
}

/// The control word that disables an enabled MSI-X, or None.
pub const fn msix_disable(control: u16) -> Option<u16> {
    if control & MSIX_ENABLE != 0 { Some(control & !MSIX_ENABLE & !MSIX_FUNCTION_MASK) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// QEMU 7.2's e1000e (82574L) configuration space, as its guest reads it:
    /// power management at 0xc8, MSI (64-bit) at 0xd0, PCI Express at 0xe0,
    /// MSI-X at 0xa0.
    const E1000E: [u32; 64] = [
        0x10d38086, 0x00100107, 0x02000000, 0x00000000, 0xfeb80000, 0xfeba0000, 0x0000c041, 0xfebd0000, 0, 0, 0,
        0x00008086, 0xfeb40000, 0x000000c8, 0, 0x0000010b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0x00040011, 0x00000003, 0x00002003, 0, 0, 0, 0, 0, 0, 0, 0x0022d001, 0, 0x0080e005, 0, 0, 0,
        0x0091a010, 0x00008000, 0, 0x00000411, 0x00110000, 0, 0, 0,
    ];

    fn e1000e() -> Capabilities {
        Capabilities::read(|at| E1000E[at as usize / 4])
    }

    #[test]
    fn the_capability_list_is_walked_with_each_kind_s_extent() {
        let caps = e1000e();
        let ids: [(u8, u8, u8); 4] = [(CAP_PM, 0xc8, 8), (CAP_MSI, 0xd0, 14), (0x10, 0xe0, 2), (CAP_MSIX, 0xa0, 12)];
        let got: [(u8, u8, u8); 4] = core::array::from_fn(|i| {
            let c = caps.as_slice()[i];
            (c.id, c.offset, c.len)
        });
        assert_eq!(got, ids);
        assert_eq!(caps.as_slice().len(), 4);
        // No capability-list bit: no list, whatever the pointer says (QEMU's rtl8139).
        assert!(Capabilities::read(|at| if at == 0x34 { 0xdc } else { 0 }).as_slice().is_empty());
        // A list that loops ends at the repeat.
        let looping = Capabilities::read(|at| match at {
            0x04 => 0x0010_0000,
            0x34 => 0x40,
            0x40 => 0x4401,
            0x44 => 0x4009,
            _ => 0,
        });
        assert_eq!(looping.as_slice().len(), 2);
    }

    #[test]
    fn io_programs_msi_address_and_data_before_the_enable() {
        let msi = e1000e().as_slice()[1];
        let w = |offset, len, value| Some(Write { offset, len, value });
        // e1000e's MSI is 64-bit (control 0x0080) without per-vector masks:
        // the address in two dwords at 0xd4, the data at 0xdc, then the control.
        assert_eq!(
            msi_enable(&msi, 0x0080, 0xfee0_0070, 0),
            Some([w(0xd4, 4, 0xfee0_0070), w(0xd8, 4, 0), w(0xdc, 2, 0), None, w(0xd2, 2, 0x0081)])
        );
        // A 32-bit capability with per-vector masks: data at +8, mask at +12;
        // a multiple-message enable a driver could not have set is cleared.
        let narrow = Capability { id: CAP_MSI, offset: 0x50, len: 20 };
        assert_eq!(
            msi_enable(&narrow, 0x0176, 0xfee0_3000, 0x31),
            Some([w(0x54, 4, 0xfee0_3000), None, w(0x58, 2, 0x31), w(0x5c, 4, 0), w(0x52, 2, 0x0107)])
        );
        assert_eq!(msi_enable(&narrow, 0x0100, 0x1_fee0_0000, 0), None, "a 64-bit address in a 32-bit capability");
        // A capability at the end of configuration space does not wrap.
        assert_eq!(msi_enable(&Capability { id: CAP_MSI, offset: 0xfc, len: 14 }, 0x80, 0xfee0_0000, 0), None);
        // Disabled only if enabled.
        assert_eq!(msi_disable(&msi, 0x0081), Some(Write { offset: 0xd2, len: 2, value: 0x0080 }));
        assert_eq!(msi_disable(&msi, 0x0080), None);
    }

    #[test]
    fn msix_tables_and_controls_decode() {
        // e1000e: MSI-X at 0xa0, control 0x0004 (5 entries), table in BAR 3 at 0.
        assert_eq!(E1000E[0xa0 / 4] >> 16, 0x0004);
        let t = MsixTable::decode(0x0004, E1000E[0xa4 / 4]).unwrap();
        assert_eq!(t, MsixTable { bar: 3, offset: 0, entries: 5 });
        assert_eq!(MsixTable::decode(0x07ff, 0x0000_2001), Some(MsixTable { bar: 1, offset: 0x2000, entries: 2048 }));
        assert_eq!(MsixTable::decode(0, 6), None, "BAR indicator 6 is reserved");
        assert_eq!(msix_entry(0xfee0_0030, 0), [0xfee0_0030, 0, 0, 0]);
        assert_eq!(msix_entry(0x1_fee0_0000, 0x31)[1..3], [1, 0x31]);
        assert_eq!(msix_enable(0x4004), 0x8004, "enabled, the function mask cleared");
        assert_eq!(msix_disable(0xc004), Some(0x0004));
        assert_eq!(msix_disable(0x0004), None);
    }

    #[test]
    fn msi_msix_and_power_states_are_refused() {
        let caps = e1000e();
        let c = caps.as_slice();
        // MSI: control (enable), address, data.
        assert_eq!(filter_write(0x107, 0xd2, 2, 0x0081, true, c), Err(Refusal::Msi));
        assert_eq!(filter_write(0x107, 0xd4, 4, 0xfee0_0000, true, c), Err(Refusal::Msi));
        assert_eq!(filter_write(0x107, 0xdc, 2, 0x0030, true, c), Err(Refusal::Msi));
        // MSI-X enable in its message control.
        assert_eq!(filter_write(0x107, 0xa2, 2, 0x8004, true, c), Err(Refusal::MsiX));
        // Any capability's header.
        assert_eq!(filter_write(0x107, 0xe0, 4, 0, true, c), Err(Refusal::CapabilityHeader));
        assert_eq!(filter_write(0x107, 0xc9, 1, 0xd8, true, c), Err(Refusal::CapabilityHeader));
        // Power: D3hot refused, D0 (and PME status or enable) allowed.
        assert_eq!(filter_write(0x107, 0xcc, 2, 0x0003, true, c), Err(Refusal::PowerState(3)));
        assert_eq!(filter_write(0x107, 0xcc, 1, 0x01, true, c), Err(Refusal::PowerState(1)));
        assert_eq!(filter_write(0x107, 0xcc, 2, 0x8100, true, c), Ok(0x8100));
        assert_eq!(filter_write(0x107, 0xcd, 1, 0x81, true, c), Ok(0x81));
        assert_eq!(filter_write(0x107, 0xca, 2, 0xffff, true, c), Err(Refusal::PowerRegister));
        // The PCI Express capability's body and device-specific space are the driver's.
        assert_eq!(filter_write(0x107, 0xe8, 2, 0x2810, true, c), Ok(0x2810));
        assert_eq!(filter_write(0x107, 0x40, 4, 0x1234, true, c), Ok(0x1234));
    }

    #[test]
    fn header_fields_a_driver_may_not_change_are_refused() {
        for (offset, len) in
            [(0x10, 4), (0x14, 4), (0x24, 4), (0x30, 4), (0x34, 1), (0x0f, 1), (0x0c, 4), (0x3c, 4), (0x00, 2)]
        {
            assert!(
                matches!(filter_write(0x7, offset, len, 0, true, &[]), Err(Refusal::Header(_))),
                "{offset:#x}+{len}"
            );
        }
        assert_eq!(filter_write(0x7, 0x11, 2, 0, true, &[]), Err(Refusal::Malformed));
        assert_eq!(filter_write(0x7, 0x0c, 1, 0x10, true, &[]), Ok(0x10));
        assert_eq!(filter_write(0x7, 0x0d, 1, 0x40, true, &[]), Ok(0x40));
        assert_eq!(filter_write(0x7, 0x3c, 1, 11, true, &[]), Ok(11));
    }

    #[test]
    fn the_command_register_keeps_bits_a_driver_may_not_set() {
        // SERR and parity stay as they are; bus mastering only with DMA.
        assert_eq!(filter_write(0x0003, 0x04, 2, 0x0147, true, &[]), Ok(0x0007));
        assert_eq!(filter_write(0x0003, 0x04, 2, 0x0007, false, &[]), Ok(0x0003));
        // A dword write keeps the status half as given (write 1 to clear).
        assert_eq!(filter_write(0x0003, 0x04, 4, 0xf900_0407, true, &[]), Ok(0xf900_0407));
        assert_eq!(filter_write(0x0003, 0x05, 1, 0x04, true, &[]), Ok(0x04));
    }

    #[test]
    fn a_driver_s_leftovers_are_undone_for_its_successor() {
        // As SeaBIOS leaves an e1000: I/O and memory decoding on.
        let boot = Writable { command: 0x0003, cache_line: 0, latency: 0, irq_line: 11 };
        let want = boot.handover();
        assert_eq!(want, boot);
        // The dead driver had the card mastering the bus, its interrupt
        // disabled, and other values in the cache line and latency registers.
        let left = Writable { command: 0x0407 | 0x0100, cache_line: 0x10, latency: 0x40, irq_line: 11 };
        let writes: Vec<Restore> = want.restore_from(&left).collect();
        assert_eq!(writes.len(), 3, "{writes:?}");
        // SERR (0x100) is not the driver's to change: it stays.
        assert_eq!(
            writes[0],
            Restore { offset: 0x04, len: 2, value: 0x0103, what: "the interrupt enabled (INTx disable cleared)" }
        );
        assert_eq!((writes[1].offset, writes[1].value), (0x0c, 0));
        assert_eq!((writes[2].offset, writes[2].value), (0x0d, 0));
        // Only bus mastering: said so.
        let master = Writable { command: 0x0007, ..boot };
        let w: Vec<Restore> = want.restore_from(&master).collect();
        assert_eq!(w, [Restore { offset: 0x04, len: 2, value: 0x0003, what: "bus mastering off" }]);
        // Nothing to undo, nothing written.
        assert_eq!(want.restore_from(&boot).count(), 0);
        // A firmware that left bus mastering or INTx disable on: the next
        // driver still gets neither.
        let odd = Writable { command: 0x0407, ..boot };
        assert_eq!(odd.handover().command, 0x0003);
    }

    #[test]
    fn writable_fields_are_read_from_their_dwords() {
        let w = Writable::read(|at| match at {
            0x04 => 0x0010_0407,
            0x0c => 0x0080_4010,
            0x3c => 0x0000_010b,
            _ => 0xdead_beef,
        });
        assert_eq!(w, Writable { command: 0x0407, cache_line: 0x10, latency: 0x40, irq_line: 11 });
    }
}

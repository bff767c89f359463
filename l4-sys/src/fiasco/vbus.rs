//! L4Re io's virtual bus (vbus) and the objects a driver reaches through it:
//! device iteration, resources, PCI configuration space, I/O ports as I/O
//! flexpages, the virtual ICU, the DMA domain, and moe's `Dma_space`.
//!
//! io speaks L4's old stream marshalling (`cxx/lib/ipc/include/ipc_stream`)
//! on label 0 (`L4vbus::Vbus` has no protocol of its own): every value at its
//! natural alignment in the message registers, a string as an `unsigned long`
//! length (with the NUL) and its bytes. A request starts with the device
//! handle (a word) and a `u32` opcode: the sub-interface in bits 26 and up
//! (`vbus_interfaces.h`), the operation below. The answer's label is the
//! result (negative: `-L4_E*`), its words the stream of outputs.
//!
//! Sources: kernkonzept/io `libvbus/lib/src/vbus.cc`, `vbus_pci.cc`,
//! `libvbus/include/{vbus_types.h, vdevice-ops.h, vbus_pci-ops.h}`,
//! `io/server/src/virt/vbus.cc`, `virt/pci/vpci.cc`; l4re-core (r-2026-W21)
//! `l4sys/include/icu.h`, `l4re/include/dma_space`, `l4re/include/rm`.

use super::{Cap, item};
use crate::MsgTag;

/// The label vbus requests go with.
pub const PROTO_VBUS: i64 = 0;
/// The label of the ICU protocol (`L4_PROTO_IRQ`).
pub const PROTO_ICU: i64 = -1;
/// `L4RE_PROTO_DMA_SPACE`: also the type a mem_alloc factory creates.
pub const PROTO_DMA_SPACE: i64 = 0x4008;

/// The root device (`L4VBUS_ROOT_BUS`), and "no device yet" for iteration
/// (`L4VBUS_NULL`).
pub const ROOT: u64 = 0;
pub const NULL: u64 = u64::MAX;
/// How deep iteration goes (`L4VBUS_MAX_DEPTH`).
pub const MAX_DEPTH: u32 = 100;

const IFACE_SHIFT: u32 = 26;
const IFACE_ICU: u32 = 0;
const IFACE_PCIDEV: u32 = 3;
const IFACE_BUS: u32 = 5;
const IFACE_GENERIC: u32 = 0x20;

/// Opcodes (`L4vbus_vdevice_*`, `L4vbus_vbus_*`, `L4vbus_vicu_get_cap`,
/// `L4vbus_pcidev_*`).
pub mod op {
    use super::*;
    pub const ADR: u32 = IFACE_GENERIC << IFACE_SHIFT | 1;
    pub const GET_BY_HID: u32 = IFACE_GENERIC << IFACE_SHIFT | 2;
    pub const GET_NEXT: u32 = IFACE_GENERIC << IFACE_SHIFT | 3;
    pub const GET_RESOURCE: u32 = IFACE_GENERIC << IFACE_SHIFT | 4;
    pub const IS_COMPATIBLE: u32 = IFACE_GENERIC << IFACE_SHIFT | 6;
    pub const REQUEST_RESOURCE: u32 = IFACE_BUS << IFACE_SHIFT;
    pub const ASSIGN_DMA_DOMAIN: u32 = IFACE_BUS << IFACE_SHIFT | 2;
    pub const VICU_GET_CAP: u32 = IFACE_ICU << IFACE_SHIFT;
    pub const PCIDEV_CFG_READ: u32 = IFACE_PCIDEV << IFACE_SHIFT;
    pub const PCIDEV_CFG_WRITE: u32 = IFACE_PCIDEV << IFACE_SHIFT | 1;
    pub const PCIDEV_IRQ_ENABLE: u32 = IFACE_PCIDEV << IFACE_SHIFT | 2;
}

/// Device-info type bit: the device has the PCI-device sub-interface.
pub const TYPE_PCIDEV: u32 = 1 << IFACE_PCIDEV;
/// The virtual ICU's hardware id.
pub const HID_ICU: &[u8] = b"L40009";

/// Resource types (`l4vbus_resource_type_t`).
pub mod res {
    pub const IRQ: u16 = 1;
    pub const MEM: u16 = 2;
    pub const PORT: u16 = 3;
    pub const DMA_DOMAIN: u16 = 6;
}

/// `assign_dma_domain` flags: bind, an L4Re `Dma_space` (not a kernel one).
pub const DMAD_BIND: u32 = 1;
/// `assign_dma_domain`'s domain id for the vbus's whole DMA domain group.
pub const DMAD_ALL: u32 = !0;

/// `l4vbus_resource_t`: 40 bytes (type and flags `u16`, start, end and
/// provider words, id `u32`), `start` and `end` inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub kind: u16,
    pub flags: u16,
    pub start: u64,
    pub end: u64,
    pub provider: u64,
    pub id: u32,
}

const RESOURCE_WORDS: usize = 5;

impl Resource {
    pub fn to_words(&self) -> [u64; RESOURCE_WORDS] {
        [self.kind as u64 | (self.flags as u64) << 16, self.start, self.end, self.provider, self.id as u64]
    }

    pub fn from_words(w: &[u64]) -> Option<Resource> {
        let w: &[u64; RESOURCE_WORDS] = w.get(..RESOURCE_WORDS)?.try_into().ok()?;
        Some(Resource {
            kind: w[0] as u16,
            flags: (w[0] >> 16) as u16,
            start: w[1],
            end: w[2],
            provider: w[3],
            id: w[4] as u32,
        })
    }

    /// How many ports or bytes, 0 for an inverted range.
    pub fn len(&self) -> u64 {
        if self.end < self.start { 0 } else { self.end - self.start + 1 }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `l4vbus_device_t`, as much of it as a driver needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Bit set of sub-interfaces (`1 << L4VBUS_INTERFACE_*`).
    pub kind: u32,
    pub num_resources: u32,
    pub flags: u32,
}

/// An answer to [`get_next`] or [`get_by_hid`]: the device handle (a word),
/// then `l4vbus_device_t` (type u32, name[64], num_resources, flags) at the
/// next 4-byte boundary.
pub fn parse_device(mr: &[u64]) -> Option<(u64, DeviceInfo)> {
    if mr.len() < 11 {
        return None;
    }
    let handle = mr[0];
    let kind = mr[1] as u32;
    // name: bytes 12..76; num_resources at 76, flags at 80.
    let num_resources = (mr[9] >> 32) as u32;
    let flags = mr[10] as u32;
    Some((handle, DeviceInfo { kind, num_resources, flags }))
}

/// Words an answer to [`get_next`] carries.
pub const DEVICE_WORDS: usize = 11;

fn head(mr: &mut [u64], device: u64, opcode: u32) {
    mr[0] = device;
    mr[1] = opcode as u64;
}

/// `l4vbus_get_next_device(parent, child, depth)`: the device after `child`
/// (or the first, for [`NULL`]) below `parent`. Answers [`parse_device`].
pub fn get_next(mr: &mut [u64], parent: u64, child: u64, depth: u32) -> MsgTag {
    head(mr, parent, op::GET_NEXT);
    mr[2] = child;
    mr[3] = depth as u64;
    MsgTag::new(PROTO_VBUS, 4, 0)
}

fn put_str(mr: &mut [u64], at: usize, s: &[u8]) -> usize {
    // length with the NUL, then the bytes and the NUL.
    mr[at] = s.len() as u64 + 1;
    let mut words = crate::message::pack(s, &mut mr[at + 1..]);
    if s.len().is_multiple_of(8) {
        // The NUL needs a word of its own.
        mr[at + 1 + words] = 0;
        words += 1;
    }
    at + 1 + words
}

/// Longest hardware id or compatible id [`get_by_hid`] and
/// [`is_compatible`] take (the rest of the message registers).
pub const MAX_ID: usize = 64;

/// `l4vbus_get_device_by_hid(parent, child, hid, depth)`: answers
/// [`parse_device`]. `None` for an id longer than [`MAX_ID`].
pub fn get_by_hid(mr: &mut [u64], parent: u64, child: u64, hid: &[u8], depth: u32) -> Option<MsgTag> {
    if hid.len() > MAX_ID {
        return None;
    }
    head(mr, parent, op::GET_BY_HID);
    mr[2] = child;
    mr[3] = depth as u64;
    let end = put_str(mr, 4, hid);
    Some(MsgTag::new(PROTO_VBUS, end, 0))
}

/// `l4vbus_get_adr(dev)`: the device's ACPI address (for PCI, slot << 16 |
/// function) as a `u32` in `mr[0]`.
pub fn get_adr(mr: &mut [u64], device: u64) -> MsgTag {
    head(mr, device, op::ADR);
    MsgTag::new(PROTO_VBUS, 2, 0)
}

/// `l4vbus_is_compatible(dev, cid)`: the answer's label is 1 or 0.
pub fn is_compatible(mr: &mut [u64], device: u64, cid: &[u8]) -> Option<MsgTag> {
    if cid.len() > MAX_ID {
        return None;
    }
    head(mr, device, op::IS_COMPATIBLE);
    let end = put_str(mr, 2, cid);
    Some(MsgTag::new(PROTO_VBUS, end, 0))
}

/// `l4vbus_get_resource(dev, index)`: answers a [`Resource`] in `mr[0..5]`.
pub fn get_resource(mr: &mut [u64], device: u64, index: u32) -> MsgTag {
    head(mr, device, op::GET_RESOURCE);
    mr[1] |= (index as u64) << 32;
    MsgTag::new(PROTO_VBUS, 2, 0)
}

/// One request of ports: io maps them as an I/O flexpage of `1 << order`
/// ports from `start`. The caller's buffer registers take it
/// ([`rcv_io_window`]).
pub fn request_ports(mr: &mut [u64], start: u64, order: u32) -> MsgTag {
    head(mr, 0, op::REQUEST_RESOURCE);
    let r = Resource { kind: res::PORT, start, end: start + (1u64 << order) - 1, ..Resource::default() };
    mr[2..2 + RESOURCE_WORDS].copy_from_slice(&r.to_words());
    MsgTag::new(PROTO_VBUS, 2 + RESOURCE_WORDS, 0)
}

/// The power-of-two pieces `libvbus` requests a port range in: each piece
/// naturally aligned, the largest that fits (`l4util_splitlog2_size`).
pub fn port_pieces(first: u64, count: u64) -> impl Iterator<Item = (u64, u32)> {
    let end = first.saturating_add(count);
    let mut at = first;
    core::iter::from_fn(move || {
        if at >= end || count == 0 {
            return None;
        }
        let align = if at == 0 { 63 } else { at.trailing_zeros() };
        let fit = 63 - (end - at).leading_zeros();
        let order = align.min(fit).min(16);
        let piece = (at, order);
        at += 1 << order;
        Some(piece)
    })
}

/// I/O flexpage of `1 << order` ports from `port` (`l4_iofpage`, RW).
pub const fn io_fpage(port: u64, order: u32) -> u64 {
    const FPAGE_IO: u64 = 2;
    const RW: u64 = 6;
    (port << 12) | ((order as u64) << 6) | (FPAGE_IO << 4) | RW
}

/// The two buffer registers that accept any I/O flexpage (the whole port space).
pub const fn rcv_io_window() -> [u64; 2] {
    [item::MAP, io_fpage(0, 16)]
}

/// `l4vbus_vicu_get_cap(icu)`: the ICU capability arrives in the slot of
/// buffer register 0 (a small receive buffer, [`super::msg::rcv_cap`]).
pub fn vicu_get_cap(mr: &mut [u64], icu: u64) -> MsgTag {
    head(mr, icu, op::VICU_GET_CAP);
    MsgTag::new(PROTO_VBUS, 2, 0)
}

/// `l4vbus_pcidev_cfg_read(dev, reg, width)`: width in bits (8, 16, 32);
/// answers the value in `mr[0]`'s low half.
pub fn pcidev_cfg_read(mr: &mut [u64], device: u64, reg: u32, bits: u32) -> MsgTag {
    head(mr, device, op::PCIDEV_CFG_READ);
    mr[1] |= (reg as u64) << 32;
    mr[2] = bits as u64;
    MsgTag::new(PROTO_VBUS, 3, 0)
}

/// `l4vbus_pcidev_cfg_write(dev, reg, value, width)`.
pub fn pcidev_cfg_write(mr: &mut [u64], device: u64, reg: u32, value: u32, bits: u32) -> MsgTag {
    head(mr, device, op::PCIDEV_CFG_WRITE);
    mr[1] |= (reg as u64) << 32;
    mr[2] = value as u64 | (bits as u64) << 32;
    MsgTag::new(PROTO_VBUS, 3, 0)
}

/// `l4vbus_pcidev_irq_enable(dev)`: answers `[irq (i32), trigger (u8),
/// polarity (u8)]` packed in `mr[0]` and the label 0, or an error label.
pub fn pcidev_irq_enable(mr: &mut [u64], device: u64) -> MsgTag {
    head(mr, device, op::PCIDEV_IRQ_ENABLE);
    MsgTag::new(PROTO_VBUS, 2, 0)
}

/// The answer of [`pcidev_irq_enable`]: `(irq, trigger, polarity)`.
pub fn parse_irq_enable(w0: u64) -> (u32, u8, u8) {
    (w0 as u32, (w0 >> 32) as u8, (w0 >> 40) as u8)
}

/// `l4vbus_assign_dma_domain(DMAD_ALL, BIND | L4RE_DMA_SPACE, dma)`: io
/// attaches `dma_space` (a moe `Dma_space`) to the vbus's DMA domain; device
/// addresses then come from `Dma_space::map`.
pub fn assign_dma_domain(mr: &mut [u64], dma_space: Cap) -> MsgTag {
    head(mr, 0, op::ASSIGN_DMA_DOMAIN);
    mr[1] |= (DMAD_ALL as u64) << 32;
    mr[2] = DMAD_BIND as u64;
    mr[3..5].copy_from_slice(&super::msg::map_item(dma_space, item::CAP_RWS));
    MsgTag::new(PROTO_VBUS, 3, 1)
}

/// `l4_icu_bind(icu, irq, irq_cap)`: interrupts of line `irq` trigger the IRQ
/// object.
pub fn icu_bind(mr: &mut [u64], irq: u64, irq_cap: Cap) -> MsgTag {
    mr[0] = 0; // L4_ICU_OP_BIND
    mr[1] = irq;
    mr[2..4].copy_from_slice(&super::msg::map_item(irq_cap, item::CAP_RWS));
    MsgTag::new(PROTO_ICU, 2, 1)
}

/// What `l4_icu_bind`'s answer label 1 means: the line is unmasked at the
/// ICU ([`icu_unmask`]), not through the IRQ object (answer 0). io answers 1
/// for a line the kernel wants unmasked at its ICU (a level-triggered
/// IO-APIC pin on QEMU's `pc`): an EOI through the IRQ object then leaves
/// the pin masked.
pub const BIND_UNMASK_VIA_ICU: i64 = 1;

/// `l4_icu_unmask(icu, irq, NULL, ...)`: `L4_ICU_OP_UNMASK` (4) with
/// `L4_ICU_CTL_UNMASK` (0), a send without an answer.
pub fn icu_unmask(mr: &mut [u64], irq: u64) -> MsgTag {
    mr[0] = 4;
    mr[1] = irq;
    MsgTag::new(PROTO_ICU, 2, 0)
}

/// `l4_icu_set_mode(icu, irq, mode)` (op 6).
pub fn icu_set_mode(mr: &mut [u64], irq: u64, mode: u64) -> MsgTag {
    mr[0] = 6;
    mr[1] = irq;
    mr[2] = mode;
    MsgTag::new(PROTO_ICU, 3, 0)
}

/// `Dma_space::map(ds, offset, size, attrs, dir)` (opcode 0, r-2026-W21):
/// words opcode, offset, size, attributes (a word), direction
/// (bidirectional, 0); the dataspace as a map item. Answers `[size,
/// dma_addr]`.
pub fn dma_map(mr: &mut [u64], ds: Cap, offset: u64, size: u64) -> MsgTag {
    mr[..5].copy_from_slice(&[0, offset, size, 0, 0]);
    mr[5..7].copy_from_slice(&super::msg::map_item(ds, item::CAP_R | item::CAP_W));
    MsgTag::new(PROTO_DMA_SPACE, 5, 1)
}

/// The vbus as a dataspace: `Dataspace` offsets are physical addresses of
/// its device memory, so the region manager maps a device's MMIO by
/// attaching the vbus capability at the BAR's address. io maps it uncached
/// unless the resource is prefetchable and a caching mode is asked for.
pub const RM_UNCACHED: u32 = 0x20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icu_unmask_is_op_4_with_the_line() {
        let mut mr = [0u64; 64];
        let t = icu_unmask(&mut mr, 11);
        assert_eq!((t.label(), t.words(), t.items()), (-1, 2, 0));
        assert_eq!(&mr[..2], &[4, 11]);
    }

    #[test]
    fn opcodes_match_libvbus() {
        assert_eq!(op::GET_NEXT, 0x8000_0003);
        assert_eq!(op::GET_RESOURCE, 0x8000_0004);
        assert_eq!(op::REQUEST_RESOURCE, 0x1400_0000);
        assert_eq!(op::ASSIGN_DMA_DOMAIN, 0x1400_0002);
        assert_eq!(op::PCIDEV_CFG_READ, 0x0c00_0000);
        assert_eq!(op::VICU_GET_CAP, 0);
    }

    #[test]
    fn stream_layout() {
        let mut mr = [0u64; 64];
        let t = get_next(&mut mr, ROOT, NULL, MAX_DEPTH);
        assert_eq!((t.label(), t.words()), (0, 4));
        assert_eq!(&mr[..4], &[0, 0x8000_0003, u64::MAX, 100]);
        let t = get_resource(&mut mr, 3, 2);
        assert_eq!(mr[1], 0x2_8000_0004);
        assert_eq!(t.words(), 2);
        let t = pcidev_cfg_read(&mut mr, 3, 0x10, 32);
        assert_eq!((&mr[..3], t.words()), (&[3, 0x10_0c00_0000, 32][..], 3));
        pcidev_cfg_write(&mut mr, 3, 4, 0x107, 16);
        assert_eq!(mr[2], 0x107 | 16 << 32);
        let t = is_compatible(&mut mr, 3, b"PCI/CC_02").unwrap();
        // 10 bytes with the NUL: two words of text.
        assert_eq!((mr[2], t.words()), (10, 5));
        assert_eq!(&mr[3].to_le_bytes(), b"PCI/CC_0");
        assert_eq!(mr[4], b'2' as u64);
        let t = get_by_hid(&mut mr, ROOT, NULL, b"L40009", MAX_DEPTH).unwrap();
        assert_eq!((mr[4], t.words()), (7, 6));
        assert!(is_compatible(&mut mr, 3, &[b'x'; 65]).is_none());
        // An id of eight bytes puts its NUL in a word of its own.
        let t = is_compatible(&mut mr, 3, b"PCI/CC_X").unwrap();
        assert_eq!((mr[2], t.words(), mr[4]), (9, 5, 0));
    }

    #[test]
    fn devices_and_resources() {
        // A device answer: handle 3, type PCIDEV|..., 5 resources.
        let mut mr = [0u64; 11];
        mr[0] = 3;
        mr[1] = 0x8 | (u64::from_le_bytes(*b"pci_net\0") & 0xffff_ffff) << 32;
        mr[9] = 5 << 32;
        let (h, d) = parse_device(&mr).unwrap();
        assert_eq!((h, d.kind & TYPE_PCIDEV != 0, d.num_resources), (3, true, 5));
        assert!(parse_device(&mr[..5]).is_none());
        let r = Resource { kind: res::PORT, flags: 0, start: 0xc000, end: 0xc0ff, provider: 0, id: 0 };
        assert_eq!(Resource::from_words(&r.to_words()), Some(r));
        assert_eq!(r.len(), 0x100);
        let t = request_ports(&mut mr_64(), 0xc000, 8);
        assert_eq!(t.words(), 7);
    }

    fn mr_64() -> [u64; 64] {
        [0; 64]
    }

    #[test]
    fn port_pieces_are_aligned_powers_of_two() {
        let p: alloc_free::V = port_pieces(0xc000, 0x100).collect();
        assert_eq!(p.as_slice(), &[(0xc000, 8)]);
        let p: alloc_free::V = port_pieces(0xc010, 0x30).collect();
        assert_eq!(p.as_slice(), &[(0xc010, 4), (0xc020, 5)]);
        assert_eq!(port_pieces(0x10, 0).count(), 0);
        assert_eq!(port_pieces(0x3f8, 8).collect::<alloc_free::V>().as_slice(), &[(0x3f8, 3)]);
    }

    /// A fixed-size collection, so that the tests need no allocator.
    mod alloc_free {
        #[derive(Default)]
        pub struct V(pub [(u64, u32); 8], pub usize);
        impl V {
            pub fn as_slice(&self) -> &[(u64, u32)] {
                &self.0[..self.1]
            }
        }
        impl FromIterator<(u64, u32)> for V {
            fn from_iter<I: IntoIterator<Item = (u64, u32)>>(i: I) -> V {
                let mut v = V::default();
                for x in i {
                    v.0[v.1] = x;
                    v.1 += 1;
                }
                v
            }
        }
    }

    #[test]
    fn items() {
        let mut mr = [0u64; 64];
        let t = icu_bind(&mut mr, 11, Cap::from_index(0x420));
        assert_eq!((t.label(), t.words(), t.items()), (-1, 2, 1));
        assert_eq!(mr[2..4], [8, 0x420037]);
        let t = assign_dma_domain(&mut mr, Cap::from_index(0x421));
        assert_eq!((t.words(), t.items()), (3, 1));
        assert_eq!(mr[1], 0xffff_ffff_1400_0002);
        let t = dma_map(&mut mr, Cap::from_index(0x422), 0, 0x10000);
        assert_eq!((t.label(), t.words(), t.items()), (0x4008, 5, 1));
        assert_eq!(rcv_io_window(), [8, 0x426]);
        assert_eq!(io_fpage(0xc000, 8), 0xc000226);
        assert_eq!(parse_irq_enable(0x0001_0100_0000_000b), (11, 0, 1));
    }
}

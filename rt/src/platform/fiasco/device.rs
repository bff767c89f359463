//! [`crate::device`] on Fiasco.OC: the driver's device on L4Re io's virtual
//! bus, which ned hands the task as `vbus`.
//!
//! io's configuration (written from the manifest by the host) puts on a
//! driver's vbus only the devices its driver's PCI ids match. [`open`] walks
//! the bus and takes the first PCI device whose vendor/device id is one of
//! the task's `pci.N` values (`0xVVVVDDDD`), or the first PCI device when it
//! has none. BAR bases come from the device's configuration space and their
//! sizes from the vbus resource at the same address; the interrupt line is
//! the device's IRQ resource.
//!
//! * ports: io maps them as I/O flexpages into the task (`request_resource`,
//!   one naturally aligned power of two at a time);
//! * registers: the vbus is also a dataspace whose offsets are physical
//!   addresses, so the region manager attaches it, uncached, at the BAR;
//! * the interrupt: an IRQ object from the factory, bound to the line at io's
//!   virtual ICU; io binds it to the hardware line and the interrupt arrives
//!   as IPC at the attached thread. The line starts masked: `Irq::attach`
//!   unmasks it once (L4Re's "unmask to receive the first IRQ"). `Irq::unmask`
//!   is the kernel's EOI through the IRQ object, or, when io's bind answered
//!   that the line is unmasked at the ICU (a level-triggered IO-APIC pin), an
//!   unmask sent to io's virtual ICU, which unmasks the pin at the kernel's
//!   ICU;
//! * DMA: contiguous, pinned dataspaces from moe, mapped eagerly, and one
//!   `Dma_space` (made by moe, attached to the vbus's DMA domain by io) that
//!   gives each its device address.

use crate::device::{BARS, Bar, Bars, DeviceError, DeviceInfo, Mmio, page_cover, valid_config_access, within};
use crate::ipc::{self, set_receive_slot};
use crate::memory::Region;
use crate::obj::{Factory, Irq, release};
use crate::sync::Mutex;
use l4_sys::Error;
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::vbus::{self, Resource, res};
use l4_sys::fiasco::{Cap, msg};
use l4_sys::layout::PAGE_SIZE;
use protocols::pci_config::COMMAND_BUS_MASTER;

/// Most resources of a device the runtime looks at.
const MAX_RESOURCES: usize = 12;
/// Most PCI ids a task may name (`pci.0` ... `pci.63`).
const MAX_IDS: usize = 64;

/// The task's opened device.
pub struct Device {
    info: DeviceInfo,
    bus: Cap,
    handle: u64,
    resources: [Option<Resource>; MAX_RESOURCES],
}

fn vbus_cap() -> Result<Cap, DeviceError> {
    crate::env::cap("vbus").map(Cap::from_idx).ok_or(DeviceError::NoBus)
}

fn cfg_read(bus: Cap, handle: u64, pos: u64, len: u64) -> Result<u32, Error> {
    call(bus, ipc::compose(|m| vbus::pcidev_cfg_read(m, handle, pos as u32, (len * 8) as u32)))?;
    Ok(ipc::mr::<0>() as u32)
}

fn wanted_ids() -> ([u32; MAX_IDS], usize) {
    let mut ids = [0u32; MAX_IDS];
    let mut n = 0;
    for i in 0..MAX_IDS {
        let name = [b'p', b'c', b'i', b'.', b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        let name = if i < 10 {
            &name[..4].iter().chain(&name[5..]).copied().collect::<alloc::vec::Vec<u8>>()[..]
        } else {
            &name[..]
        };
        let Some(v) = core::str::from_utf8(name).ok().and_then(crate::env::value) else { break };
        ids[n] = v as u32;
        n += 1;
    }
    (ids, n)
}

/// How long [`open`] waits for io to serve the vbus: ned starts io and the
/// drivers together, and io scans the platform first.
const IO_START_MS: u32 = 30_000;

/// Opens the task's device on its vbus.
pub fn open() -> Result<Device, DeviceError> {
    let bus = vbus_cap()?;
    let (ids, n) = wanted_ids();
    open_on(bus.idx(), &ids[..n])
}

/// Opens the first PCI device on the vbus `bus` whose vendor/device id
/// (`0xVVVVDDDD`) is one of `ids` (any PCI device when `ids` is empty).
/// A supervisor uses it on a child's vbus, which it holds to hand on.
pub fn open_on(bus: crate::CapIdx, ids: &[u32]) -> Result<Device, DeviceError> {
    let bus = Cap::from_idx(bus);
    // Until io binds its end of the channel, IPC to it finds no partner.
    let mut waited = 0;
    while let Err(Error::NoCapability) =
        call(bus, ipc::compose(|m| vbus::get_next(m, vbus::ROOT, vbus::NULL, vbus::MAX_DEPTH)))
    {
        if waited >= IO_START_MS {
            return Err(DeviceError::Sys(Error::NoCapability));
        }
        crate::ipc::sleep_ms(50);
        waited += 50;
    }
    let mut child = vbus::NULL;
    loop {
        let Ok(_) = call(bus, ipc::compose(|m| vbus::get_next(m, vbus::ROOT, child, vbus::MAX_DEPTH))) else {
            return Err(DeviceError::NoDevice);
        };
        let (handle, dev) = vbus::parse_device(&ipc::mrs::<{ vbus::DEVICE_WORDS }>()).ok_or(DeviceError::NoDevice)?;
        child = handle;
        if dev.kind & vbus::TYPE_PCIDEV == 0 {
            continue;
        }
        let Ok(id) = cfg_read(bus, handle, 0, 4) else { continue };
        // Config dword 0 is device << 16 | vendor; the task names vendor << 16 | device.
        let vendor_device = (id & 0xffff) << 16 | id >> 16;
        if !ids.is_empty() && !ids.contains(&vendor_device) {
            continue;
        }
        return describe(bus, handle, dev.num_resources);
    }
}

/// The PCI command register.
const COMMAND: u64 = 0x04;

/// Switches bus mastering off for the device [`open_on`] finds on `bus`
/// with `ids`, so that it can no longer reach memory by DMA; returns
/// whether it was on. A supervisor does this for a dead driver
/// while the dead instance's DMA memory is still mapped, before it frees
/// that memory.
pub fn stop_bus_mastering(bus: crate::CapIdx, ids: &[u32]) -> Result<bool, DeviceError> {
    let dev = open_on(bus, ids)?;
    let cmd = dev.config_read(COMMAND, 2)?;
    let on = cmd & COMMAND_BUS_MASTER != 0;
    if on {
        dev.config_write(COMMAND, 2, cmd & !COMMAND_BUS_MASTER)?;
        // io's virtual device filters what it passes on: see that it took.
        if dev.config_read(COMMAND, 2)? & COMMAND_BUS_MASTER != 0 {
            return Err(DeviceError::Refused);
        }
    }
    Ok(on)
}

fn describe(bus: Cap, handle: u64, count: u32) -> Result<Device, DeviceError> {
    let mut resources = [None; MAX_RESOURCES];
    for (i, r) in resources.iter_mut().enumerate().take(count as usize) {
        if call(bus, ipc::compose(|m| vbus::get_resource(m, handle, i as u32))).is_ok() {
            *r = Resource::from_words(&ipc::mrs::<5>());
        }
    }
    let cfg = |pos| cfg_read(bus, handle, pos, 4);
    let id = cfg(0)?;
    let class = cfg(8)?;
    let sub = cfg(0x2c)?;
    let line = resources.iter().flatten().find(|r| r.kind == res::IRQ).map(|r| r.start as u8);
    let mut bars = [None; BARS];
    let mut i = 0;
    while i < BARS {
        let v = cfg(0x10 + 4 * i as u64)?;
        let is_io = v & 1 != 0;
        let wide = !is_io && v & 0b110 == 0b100;
        let mut base = if is_io { (v & !3) as u64 } else { (v & !0xf) as u64 };
        if wide && i + 1 < BARS {
            base |= (cfg(0x14 + 4 * i as u64)? as u64) << 32;
        }
        let kind = if is_io { res::PORT } else { res::MEM };
        if base != 0
            && let Some(r) = resources.iter().flatten().find(|r| r.kind == kind && r.start == base)
        {
            bars[i] = Some(Bar { base, size: r.len(), is_io });
        }
        i += if wide { 2 } else { 1 };
    }
    // ACPI's _ADR of a PCI device: slot << 16 | function.
    let adr = call(bus, ipc::compose(|m| vbus::get_adr(m, handle))).map(|_| ipc::mr::<0>() as u32).unwrap_or(0);
    let info = DeviceInfo {
        bus: 0,
        slot: (adr >> 16) as u8,
        func: adr as u8,
        irq_line: line.unwrap_or(0),
        bars: Bars(bars),
        ..DeviceInfo::from_header(id, class, sub)
    };
    Ok(Device { info, bus, handle, resources })
}

impl Device {
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn resource(&self, kind: u16, start: u64, count: u64) -> Option<Resource> {
        self.resources.iter().flatten().copied().find(|r| r.kind == kind && within(r.start, r.len(), start, count))
    }

    pub fn config_read(&self, pos: u64, len: u64) -> Result<u32, DeviceError> {
        if !valid_config_access(pos, len) {
            return Err(DeviceError::BadAccess);
        }
        Ok(cfg_read(self.bus, self.handle, pos, len)?)
    }

    /// Writes configuration space (io's virtual PCI device filters it).
    pub fn config_write(&self, pos: u64, len: u64, value: u32) -> Result<(), DeviceError> {
        if !valid_config_access(pos, len) {
            return Err(DeviceError::BadAccess);
        }
        let tag = ipc::compose(|m| vbus::pcidev_cfg_write(m, self.handle, pos as u32, value, (len * 8) as u32));
        call(self.bus, tag).map(|_| ()).map_err(|_| DeviceError::Refused)
    }

    /// Has io map the device's port resource that covers `[first, first +
    /// count)` into the task; returns the range mapped.
    pub fn request_ports(&self, first: u64, count: u64) -> Result<(u64, u64), DeviceError> {
        let r = self.resource(res::PORT, first, count).ok_or(DeviceError::NotTheDevices)?;
        for (start, order) in vbus::port_pieces(r.start, r.len()) {
            ipc::set_receive_items(&vbus::rcv_io_window());
            let tag = ipc::compose(|m| vbus::request_ports(m, start, order));
            let result = call(self.bus, tag);
            ipc::clear_receive_slots(2);
            result?;
        }
        Ok((r.start, r.len()))
    }

    /// Maps the page-aligned cover of `[start, start + size)` of the device's
    /// memory, uncached, through the vbus's dataspace interface.
    pub fn map_mem(&self, start: u64, size: u64) -> Result<Mmio, DeviceError> {
        let (base, len) = page_cover(start, size).ok_or(DeviceError::NotTheDevices)?;
        self.resource(res::MEM, start, size).ok_or(DeviceError::NotTheDevices)?;
        let rm = Cap(super::l4re_env().rm);
        let flags = msg::RM_SEARCH_ADDR | msg::RM_EAGER_MAP | msg::RM_R | msg::RM_W | vbus::RM_UNCACHED;
        let tag = ipc::compose(|m| msg::rm_attach(m, 0, len, flags, self.bus, base, 12));
        let virt = super::mem::region_at(call(rm, tag)?, len)?;
        Ok(Mmio { virt, phys: base, size: len, ds: None })
    }

    pub fn unmap_mem(&self, m: Mmio) {
        let _ = crate::mem::detach(m.virt, m.size);
    }

    /// Message-signalled interrupts are not asked of io's vbus by this
    /// backend (only the INTx line is bound at its ICU), so drivers keep
    /// their line.
    pub fn enable_msi(&self) -> Result<u64, DeviceError> {
        Err(DeviceError::NotSupported)
    }

    /// Nothing to switch back from (see [`Device::enable_msi`]).
    pub fn disable_msi(&self) -> Result<(), DeviceError> {
        Err(DeviceError::NotSupported)
    }

    /// Nor MSI-X (see [`Device::enable_msi`]).
    pub fn enable_msix(&self, _count: usize, _lines: &mut [u64]) -> Result<(), DeviceError> {
        Err(DeviceError::NotSupported)
    }

    pub fn disable_msix(&self) -> Result<(), DeviceError> {
        Err(DeviceError::NotSupported)
    }

    /// A new IRQ object bound to interrupt line `line` at io's virtual ICU.
    pub fn irq(&self, line: u64) -> Result<Irq, DeviceError> {
        if !self.resources.iter().flatten().any(|r| r.kind == res::IRQ && r.start == line) {
            return Err(DeviceError::NotTheDevices);
        }
        let icu = icu(self.bus)?;
        let irq = Factory::own().create_irq()?;
        let via_icu = match call(icu, ipc::compose(|m| vbus::icu_bind(m, line, Cap::from_idx(irq.0)))) {
            Ok(answer) => answer.label() == vbus::BIND_UNMASK_VIA_ICU,
            Err(e) => {
                release(irq.0);
                return Err(e.into());
            }
        };
        let mut lines = DEVICE_IRQS.lock();
        let Some(free) = lines.iter_mut().find(|l| l.is_none()) else {
            drop(lines);
            release(irq.0);
            return Err(DeviceError::Sys(Error::QuotaExceeded));
        };
        *free = Some(DeviceIrq { irq: irq.0, icu, line, via_icu });
        Ok(irq)
    }
}

/// An IRQ object bound to a line of the device at io's virtual ICU.
#[derive(Clone, Copy)]
struct DeviceIrq {
    irq: l4_sys::CapIdx,
    icu: Cap,
    line: u64,
    /// io's bind answered [`vbus::BIND_UNMASK_VIA_ICU`].
    via_icu: bool,
}

/// Most device IRQ objects a task has at once.
const MAX_DEVICE_IRQS: usize = 8;
static DEVICE_IRQS: Mutex<[Option<DeviceIrq>; MAX_DEVICE_IRQS]> = Mutex::new([None; MAX_DEVICE_IRQS]);

/// How IRQ object `irq` is unmasked, if it is a device's: `Some(Some((icu,
/// line)))` at io's virtual ICU, `Some(None)` through the object itself.
pub(crate) fn device_irq(irq: l4_sys::CapIdx) -> Option<Option<(Cap, u64)>> {
    DEVICE_IRQS.lock().iter().flatten().find(|l| l.irq == irq).map(|l| l.via_icu.then_some((l.icu, l.line)))
}

/// Forgets IRQ object `irq` (it is being deleted).
pub(crate) fn forget_irq(irq: l4_sys::CapIdx) {
    for l in DEVICE_IRQS.lock().iter_mut() {
        if l.is_some_and(|l| l.irq == irq) {
            *l = None;
        }
    }
}

/// The vbus's virtual ICU, fetched once.
static ICU: Mutex<Option<Cap>> = Mutex::new(None);

fn icu(bus: Cap) -> Result<Cap, DeviceError> {
    let mut icu = ICU.lock();
    if let Some(c) = *icu {
        return Ok(c);
    }
    let hid = ipc::compose(|m| vbus::get_by_hid(m, vbus::ROOT, vbus::NULL, vbus::HID_ICU, vbus::MAX_DEPTH))
        .ok_or(DeviceError::NoBus)?;
    call(bus, hid).map_err(|_| DeviceError::NoDevice)?;
    let handle = ipc::mr::<0>();
    let slot = crate::cap::alloc().ok_or(Error::QuotaExceeded)?;
    set_receive_slot(slot);
    if let Err(e) = call(bus, ipc::compose(|m| vbus::vicu_get_cap(m, handle))) {
        crate::cap::free(slot);
        return Err(e.into());
    }
    let c = Cap::from_idx(slot);
    *icu = Some(c);
    Ok(c)
}

/// The `Dma_space` attached to the vbus's DMA domain, made once.
static DMA_SPACE: Mutex<Option<Cap>> = Mutex::new(None);

fn dma_space() -> Result<Cap, DeviceError> {
    let mut space = DMA_SPACE.lock();
    if let Some(c) = *space {
        return Ok(c);
    }
    let bus = vbus_cap()?;
    let slot = crate::cap::alloc().ok_or(Error::QuotaExceeded)?;
    set_receive_slot(slot);
    let mem_alloc = Cap(super::l4re_env().mem_alloc);
    if let Err(e) = call(mem_alloc, ipc::compose(|m| msg::factory_create(m, vbus::PROTO_DMA_SPACE))) {
        crate::cap::free(slot);
        return Err(e.into());
    }
    let c = Cap::from_idx(slot);
    match call(bus, ipc::compose(|m| vbus::assign_dma_domain(m, c))) {
        Ok(_) => {}
        // A vbus without devices has no DMA domain: no device can reach
        // this task's memory, which then has no device address.
        Err(Error::NoCapability) => {
            release(slot);
            return Ok(Cap::INVALID);
        }
        Err(e) => {
            release(slot);
            return Err(e.into());
        }
    }
    *space = Some(c);
    Ok(c)
}

/// Zeroed memory the device can reach, mapped writable; `Region::phys` is
/// the device (DMA) address.
pub fn dma_alloc(size: u64) -> Result<Region, DeviceError> {
    let space = dma_space()?;
    let size = size.next_multiple_of(PAGE_SIZE);
    let ds = crate::mem::alloc_dataspace(size, true)?;
    let rm = Cap(super::l4re_env().rm);
    let flags = msg::RM_SEARCH_ADDR | msg::RM_EAGER_MAP | msg::RM_R | msg::RM_W;
    let answer = call(rm, ipc::compose(|m| msg::rm_attach(m, 0, size, flags, Cap::from_idx(ds.0), 0, 12)));
    let addr = match answer.and_then(|reply| super::mem::region_at(reply, size)) {
        Ok(addr) => addr,
        Err(e) => {
            release(ds.0);
            return Err(e.into());
        }
    };
    let region = Region { addr, size, ds, phys: 0 };
    if !space.is_valid() {
        return Ok(region);
    }
    match call(space, ipc::compose(|m| vbus::dma_map(m, Cap::from_idx(ds.0), 0, size))) {
        Ok(_) if ipc::mr::<0>() >= size => Ok(Region { phys: ipc::mr::<1>(), ..region }),
        Ok(_) => {
            region.free();
            Err(DeviceError::Sys(Error::OutOfMemory))
        }
        Err(e) => {
            region.free();
            Err(e.into())
        }
    }
}

/// What stays of a DMA region kept for the task's life. On Fiasco the
/// region manager resolves faults through the dataspace capability, so it
/// stays with the mapping.
pub fn keep(r: Region) -> (u64, u64, u64) {
    (r.addr, r.size, r.phys)
}

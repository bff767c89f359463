//! [`crate::device`] on Resurgo's kernel: the device the io server gives
//! this task, through the `io.pci` gate (`protocols::pci`).
//!
//! OPEN answers the device information and, as capabilities, the device's
//! I/O-port ranges, device-memory ranges and IRQ object. Which capability is
//! which is asked of the kernel (each answers only its own protocol's INFO),
//! so nothing depends on the order or on which resources the driver's
//! manifest allows. Configuration space goes through CONFIG_READ and
//! CONFIG_WRITE; the io server decides what may be written. With the IOMMU
//! on, OPEN also hands over the device's DMA domain, and [`dma_alloc`] maps
//! every region it allocates into it (at the I/O address = physical address).

use crate::device::{DeviceError, DeviceInfo, Mmio, page_cover, valid_config_access, within};
use crate::ipc;
use crate::mem::Region;
use crate::obj::{DmaDomain, IoMem, IoPorts, Irq, Task};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use l4_sys::{CapIdx, Timeout};
use protocols::pci::{self as proto, INFO_WORDS};
use protocols::status::ReplyError;

/// Items OPEN can return: six BARs, the IRQ and the DMA domain.
const MAX_ITEMS: usize = 8;

/// The slot of the DMA domain OPEN handed over (`u32::MAX`: none, no IOMMU).
static DMA_DOMAIN: AtomicU32 = AtomicU32::new(u32::MAX);
/// OPEN has answered (with or without a domain).
static OPENED: AtomicBool = AtomicBool::new(false);
/// The slot of the MSI's IRQ object ENABLE_MSI handed over (`u32::MAX`:
/// none yet), and its line. A restarted driver asks again and gets the same
/// object; within one instance the slot is kept once received.
static MSI_IRQ: AtomicU32 = AtomicU32::new(u32::MAX);
static MSI_LINE: AtomicU64 = AtomicU64::new(u64::MAX);
/// The same for the MSI-X vectors ENABLE_MSIX handed over, in table order.
static MSIX_IRQ: [AtomicU32; proto::MAX_MSIX] = [const { AtomicU32::new(u32::MAX) }; proto::MAX_MSIX];
static MSIX_LINE: [AtomicU64; proto::MAX_MSIX] = [const { AtomicU64::new(u64::MAX) }; proto::MAX_MSIX];
/// Dataspaces of DMA regions allocated before OPEN (DDEKit's pool starts
/// before the driver probes), held until the domain is known and maps them.
static EARLY: [AtomicU32; EARLY_MAX] = [const { AtomicU32::new(u32::MAX) }; EARLY_MAX];
const EARLY_MAX: usize = 16;

/// Maps the regions allocated before OPEN into the domain (if there is one)
/// and lets their dataspace slots go.
fn map_early(domain: Option<DmaDomain>) {
    for e in &EARLY {
        let slot = e.swap(u32::MAX, Ordering::AcqRel);
        if slot == u32::MAX {
            continue;
        }
        let ds = crate::memory::Dataspace(CapIdx(slot));
        if let Some(d) = domain
            && d.map(&ds).is_err()
        {
            crate::warn!("device: cannot map early DMA memory into the device's domain");
        }
        crate::obj::release(ds.0);
    }
}

/// A capability OPEN returned, and what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Ports { cap: CapIdx, first: u64, count: u64 },
    Mem { cap: CapIdx, base: u64, size: u64 },
    Irq { cap: CapIdx, line: u64 },
    Dma { cap: CapIdx },
}

/// The task's opened device.
pub struct Device {
    info: DeviceInfo,
    gate: CapIdx,
    resources: [Option<Resource>; MAX_ITEMS],
}

/// Opens the task's device: one OPEN on `io.pci` (a restarted driver gets the
/// same objects again).
pub fn open() -> Result<Device, DeviceError> {
    let gate = crate::env::cap("io.pci").ok_or(DeviceError::NoBus)?;
    let mut slots = [CapIdx::INVALID; MAX_ITEMS];
    for s in slots.iter_mut() {
        match crate::cap::alloc() {
            Some(c) => *s = c,
            None => {
                free_slots(&slots);
                return Err(DeviceError::Sys(crate::Error::QuotaExceeded));
            }
        }
    }
    ipc::set_receive_slots(&slots);
    let reply = ipc::encode_call(&proto::Request::Open {}).and_then(|tag| ipc::call(gate, tag, Timeout::Never));
    ipc::clear_receive_slots(MAX_ITEMS);
    let tag = match reply {
        Ok(r) => r.tag,
        Err(e) => {
            free_slots(&slots);
            return Err(DeviceError::Sys(e));
        }
    };
    let mr = ipc::received(tag.words() + 2 * tag.items());
    let info = match protocols::status::decode_reply::<DeviceInfo, proto::Error>(&mr[..tag.words()]) {
        Ok(info) if tag.words() == INFO_WORDS => info,
        refused => {
            free_slots(&slots);
            return Err(match refused {
                Err(ReplyError::Refused(e)) => e.into(),
                // Not the device's description.
                _ => DeviceError::Refused,
            });
        }
    };
    let items = tag.items().min(MAX_ITEMS);
    let mut received = [CapIdx::INVALID; MAX_ITEMS];
    for (i, r) in received.iter_mut().enumerate().take(items) {
        *r = CapIdx::from_selector(mr.word(INFO_WORDS + 2 * i + 1));
    }
    let mut resources = [None; MAX_ITEMS];
    for (i, &cap) in received.iter().enumerate().take(items) {
        resources[i] = classify(cap);
        if let Some(Resource::Dma { cap }) = resources[i] {
            DMA_DOMAIN.store(cap.0, Ordering::Relaxed);
        }
        if resources[i].is_none() {
            crate::warn!("device: io.pci OPEN sent a capability of an unexpected kind");
        }
    }
    // Slots no item arrived in go back.
    let unused: [CapIdx; MAX_ITEMS] =
        core::array::from_fn(|i| if received.contains(&slots[i]) { CapIdx::INVALID } else { slots[i] });
    free_slots(&unused);
    let domain = DMA_DOMAIN.load(Ordering::Relaxed);
    OPENED.store(true, Ordering::Release);
    map_early((domain != u32::MAX).then_some(DmaDomain(CapIdx(domain))));
    Ok(Device { info, gate, resources })
}

/// Deletes whatever arrived in `slots` and frees them.
fn release_all(slots: &[CapIdx]) {
    for s in slots.iter().filter(|s| s.is_valid()) {
        crate::obj::release(*s);
    }
}

fn free_slots(slots: &[CapIdx]) {
    for s in slots.iter().filter(|s| s.is_valid()) {
        crate::cap::free(*s);
    }
}

/// What a capability is: each kernel object answers only its own protocol.
fn classify(cap: CapIdx) -> Option<Resource> {
    if let Ok((first, count)) = IoPorts(cap).info() {
        return Some(Resource::Ports { cap, first, count });
    }
    if let Ok((base, size)) = IoMem(cap).info() {
        return Some(Resource::Mem { cap, base, size });
    }
    if let Ok(i) = Irq(cap).info() {
        return Some(Resource::Irq { cap, line: i.line });
    }
    if DmaDomain(cap).info().is_ok() {
        return Some(Resource::Dma { cap });
    }
    None
}

impl Device {
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn resources(&self) -> impl Iterator<Item = Resource> + '_ {
        self.resources.iter().flatten().copied()
    }

    /// Reads `len` (1, 2, 4) bytes of configuration space at `pos`.
    pub fn config_read(&self, pos: u64, len: u64) -> Result<u32, DeviceError> {
        if !valid_config_access(pos, len) {
            return Err(DeviceError::BadAccess);
        }
        let request = proto::Request::ConfigRead { offset: pos as u8, len: len as u8 };
        let r = ipc::call(self.gate, ipc::encode_call(&request)?, Timeout::Never)?;
        let v = ipc::mr::<0>();
        if r.tag.words() == 0 {
            return Err(DeviceError::Refused);
        }
        protocols::status::decode::<proto::Error>(v).map(|v| v as u32).map_err(DeviceError::from)
    }

    /// Writes configuration space (the io server filters what may change).
    pub fn config_write(&self, pos: u64, len: u64, value: u32) -> Result<(), DeviceError> {
        if !valid_config_access(pos, len) {
            return Err(DeviceError::BadAccess);
        }
        let request = proto::Request::ConfigWrite { offset: pos as u8, len: len as u8, value };
        let r = ipc::call(self.gate, ipc::encode_call(&request)?, Timeout::Never)?;
        if r.tag.words() == 0 {
            return Err(DeviceError::Refused);
        }
        protocols::status::decode::<proto::Error>(ipc::mr::<0>()).map(|_| ()).map_err(DeviceError::from)
    }

    /// Puts the device's ports `[first, first + count)` into the task's I/O
    /// bitmap (the whole capability that covers them); returns the range
    /// granted. The kernel cannot take them out again.
    pub fn request_ports(&self, first: u64, count: u64) -> Result<(u64, u64), DeviceError> {
        let found = self.resources().find_map(|r| match r {
            Resource::Ports { cap, first: f, count: n } if within(f, n, first, count) => Some((cap, f, n)),
            _ => None,
        });
        let (cap, f, n) = found.ok_or(DeviceError::NotTheDevices)?;
        Task::own().grant_io(&IoPorts(cap), false)?;
        Ok((f, n))
    }

    /// Maps the page-aligned cover of the device's memory `[start, start +
    /// size)` uncached.
    pub fn map_mem(&self, start: u64, size: u64) -> Result<Mmio, DeviceError> {
        let (base, len) = page_cover(start, size).ok_or(DeviceError::NotTheDevices)?;
        let cap = self
            .resources()
            .find_map(|r| match r {
                Resource::Mem { cap, base: b, size: s } if within(b, s, start, size) => Some(cap),
                _ => None,
            })
            .ok_or(DeviceError::NotTheDevices)?;
        let ds = IoMem(cap).create_dataspace(base, len)?;
        match crate::mem::attach(&ds, len, true) {
            Ok(virt) => Ok(Mmio { virt, phys: base, size: len, ds: Some(ds) }),
            Err(e) => {
                crate::obj::release(ds.0);
                Err(e.into())
            }
        }
    }

    pub fn unmap_mem(&self, m: Mmio) {
        let _ = crate::mem::detach(m.virt, m.size);
        if let Some(ds) = m.ds {
            crate::obj::release(ds.0);
        }
    }

    /// The IRQ object of interrupt line `line`, as the io server gave it
    /// (the INTx line's at OPEN, the MSI's at [`Device::enable_msi`]).
    pub fn irq(&self, line: u64) -> Result<Irq, DeviceError> {
        let msi = MSI_IRQ.load(Ordering::Acquire);
        if msi != u32::MAX && MSI_LINE.load(Ordering::Acquire) == line {
            return Ok(Irq(CapIdx(msi)));
        }
        for (slot, l) in MSIX_IRQ.iter().zip(&MSIX_LINE) {
            let s = slot.load(Ordering::Acquire);
            if s != u32::MAX && l.load(Ordering::Acquire) == line {
                return Ok(Irq(CapIdx(s)));
            }
        }
        self.resources()
            .find_map(|r| match r {
                Resource::Irq { cap, line: l } if l == line => Some(Irq(cap)),
                _ => None,
            })
            .ok_or(DeviceError::NotTheDevices)
    }

    /// Switches the device to its message-signalled interrupt (io's
    /// ENABLE_MSI) and returns its line, for [`Device::irq`]. The INTx line
    /// is disabled until [`Device::disable_msi`].
    pub fn enable_msi(&self) -> Result<u64, DeviceError> {
        // The object comes into a fresh slot each time (the kernel maps
        // nothing over a used one); asked before, it is the same object,
        // and the second slot goes again.
        let slot = crate::cap::alloc().ok_or(DeviceError::Sys(crate::Error::QuotaExceeded))?;
        // Whether or not an object arrived in it.
        let drop_slot = || crate::obj::release(slot);
        let give_back = |e: DeviceError| {
            drop_slot();
            e
        };
        ipc::set_receive_slots(&[slot]);
        let reply =
            ipc::encode_call(&proto::Request::EnableMsi {}).and_then(|tag| ipc::call(self.gate, tag, Timeout::Never));
        ipc::clear_receive_slots(1);
        let tag = reply.map_err(|e| give_back(DeviceError::Sys(e)))?.tag;
        let line = match protocols::status::decode::<proto::Error>(ipc::mr::<0>()) {
            _ if tag.words() == 0 => return Err(give_back(DeviceError::Refused)),
            Err(e) => return Err(give_back(e.into())),
            Ok(line) => line,
        };
        // The object must be an IRQ on that line, whatever the answer says.
        match Irq(slot).info() {
            Ok(i) if tag.items() == 1 && i.line == line => {}
            _ => return Err(give_back(DeviceError::Refused)),
        }
        if MSI_IRQ.load(Ordering::Acquire) != u32::MAX {
            // Only io hands out the device's MSI, always the same one.
            if MSI_LINE.load(Ordering::Acquire) != line {
                return Err(give_back(DeviceError::Refused));
            }
            drop_slot();
            return Ok(line);
        }
        MSI_LINE.store(line, Ordering::Release);
        MSI_IRQ.store(slot.0, Ordering::Release);
        Ok(line)
    }

    /// Switches the device to MSI-X with `count` vectors (io's
    /// ENABLE_MSIX, 1 to `MAX_MSIX`); writes their lines, in table order,
    /// to `lines` (at least `count` long), for [`Device::irq`].
    pub fn enable_msix(&self, count: usize, lines: &mut [u64]) -> Result<(), DeviceError> {
        if count == 0 || count > proto::MAX_MSIX || lines.len() < count {
            return Err(DeviceError::BadAccess);
        }
        let mut slots = [CapIdx::INVALID; proto::MAX_MSIX];
        for s in slots.iter_mut().take(count) {
            match crate::cap::alloc() {
                Some(c) => *s = c,
                None => {
                    release_all(&slots);
                    return Err(DeviceError::Sys(crate::Error::QuotaExceeded));
                }
            }
        }
        let give_back = |e: DeviceError| {
            release_all(&slots);
            e
        };
        ipc::set_receive_slots(&slots[..count]);
        let request = proto::Request::EnableMsix { count: count as u8 };
        let reply = ipc::encode_call(&request).and_then(|tag| ipc::call(self.gate, tag, Timeout::Never));
        ipc::clear_receive_slots(count);
        let tag = reply.map_err(|e| give_back(DeviceError::Sys(e)))?.tag;
        if tag.words() == 0 {
            return Err(give_back(DeviceError::Refused));
        }
        match protocols::status::decode::<proto::Error>(ipc::mr::<0>()) {
            Ok(n) if n as usize == count && tag.words() == 1 + count && tag.items() == count => {}
            Ok(_) => return Err(give_back(DeviceError::Refused)),
            Err(e) => return Err(give_back(e.into())),
        }
        let mr = ipc::received(1 + 3 * count);
        for i in 0..count {
            let line = mr.word(1 + i);
            // Each object must be an IRQ on the line the answer gives it.
            if !Irq(slots[i]).info().is_ok_and(|info| info.line == line) {
                return Err(give_back(DeviceError::Refused));
            }
            lines[i] = line;
        }
        for i in 0..count {
            let known = MSIX_IRQ[i].load(Ordering::Acquire);
            if known != u32::MAX && MSIX_LINE[i].load(Ordering::Acquire) == lines[i] {
                // Asked before: the same object; the new slot goes again.
                crate::obj::release(slots[i]);
                continue;
            }
            if known != u32::MAX {
                crate::obj::release(CapIdx(known));
            }
            MSIX_LINE[i].store(lines[i], Ordering::Release);
            MSIX_IRQ[i].store(slots[i].0, Ordering::Release);
        }
        Ok(())
    }

    /// Back to the INTx line from MSI-X (io's DISABLE_MSIX).
    pub fn disable_msix(&self) -> Result<(), DeviceError> {
        let r = ipc::call(self.gate, ipc::encode_call(&proto::Request::DisableMsix {})?, Timeout::Never)?;
        if r.tag.words() == 0 {
            return Err(DeviceError::Refused);
        }
        protocols::status::decode::<proto::Error>(ipc::mr::<0>()).map(|_| ()).map_err(DeviceError::from)
    }

    /// Back to the INTx line (io's DISABLE_MSI).
    pub fn disable_msi(&self) -> Result<(), DeviceError> {
        let r = ipc::call(self.gate, ipc::encode_call(&proto::Request::DisableMsi {})?, Timeout::Never)?;
        if r.tag.words() == 0 {
            return Err(DeviceError::Refused);
        }
        protocols::status::decode::<proto::Error>(ipc::mr::<0>()).map(|_| ()).map_err(DeviceError::from)
    }
}

/// Zeroed memory the device can reach, mapped writable: physically
/// contiguous, and the device address is the physical address
/// (`Region::phys`). With the IOMMU on it is mapped into the device's DMA
/// domain at that address; it stays there until the domain is destroyed
/// (the io server does that when the instance is gone).
pub fn dma_alloc(size: u64) -> Result<Region, DeviceError> {
    let r = crate::mem::alloc(size, true)?;
    if r.phys == 0 {
        r.free();
        return Err(DeviceError::Sys(crate::Error::OutOfMemory));
    }
    if !OPENED.load(Ordering::Acquire) {
        // Before OPEN: a copy of the capability waits for the domain.
        if let Some(slot) = crate::cap::alloc() {
            let copied = Task::own().give(r.ds.0, slot, l4_sys::Rights::READ | l4_sys::Rights::WRITE).is_ok();
            if copied
                && EARLY
                    .iter()
                    .any(|e| e.compare_exchange(u32::MAX, slot.0, Ordering::AcqRel, Ordering::Relaxed).is_ok())
            {
                return Ok(r);
            }
            if copied {
                crate::obj::release(slot);
            } else {
                crate::cap::free(slot);
            }
        }
        crate::warn!("device: cannot keep DMA memory allocated before the device is opened");
        r.free();
        return Err(DeviceError::Sys(crate::Error::OutOfMemory));
    }
    let domain = DMA_DOMAIN.load(Ordering::Relaxed);
    if domain != u32::MAX {
        match DmaDomain(CapIdx(domain)).map(&r.ds) {
            Ok(iova) if iova == r.phys => {}
            Ok(_) | Err(_) => {
                crate::warn!("device: cannot map {} KiB of DMA memory into the device's domain", size >> 10);
                r.free();
                return Err(DeviceError::Sys(crate::Error::OutOfMemory));
            }
        }
    }
    Ok(r)
}

/// What stays of a DMA region that is kept for the task's life: the mapping
/// keeps the dataspace alive, so its capability goes.
pub fn keep(r: Region) -> (u64, u64, u64) {
    crate::obj::release(r.ds.0);
    (r.addr, r.size, r.phys)
}

impl From<proto::Error> for DeviceError {
    fn from(e: proto::Error) -> Self {
        match e {
            proto::Error::NoDevice => DeviceError::NoDevice,
            proto::Error::Invalid => DeviceError::BadAccess,
            proto::Error::Denied => DeviceError::Refused,
            proto::Error::NoMsi => DeviceError::NotSupported,
        }
    }
}

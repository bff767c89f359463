//! PCI: the one device the io server gives this task, through the `io.pci`
//! gate (`protocols::pci`).
//!
//! The first call that needs the device calls OPEN, once: the reply carries
//! the device information and, as capabilities, the device's I/O-port ranges,
//! device-memory ranges and IRQ object. Which capability is which is asked of
//! the kernel (each answers only its own protocol's INFO), so nothing depends
//! on the order or on which resources the driver's manifest allows. The
//! result is kept for the task's life; `resource` and `interrupt` find their
//! capabilities here. Configuration space goes through CONFIG_READ and
//! CONFIG_WRITE; the io server decides what may be written.

use crate::memory::alloc_obj;
use crate::thread::{Lock, rt_call};
use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, Ordering};
use protocols::pci::{self as proto, DeviceInfo, INFO_WORDS};
use rt::obj::kcall;
use rt::sys::proto::{PROTO_IO_MEM, PROTO_IO_PORTS, PROTO_IRQ, io_mem, io_ports, irq};
use rt::{CapIdx, MsgTag, Timeout, ipc};

/// Items OPEN can return: six BARs and the IRQ.
const MAX_ITEMS: usize = 7;

/// A capability OPEN returned, and what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Ports { cap: CapIdx, first: u64, count: u64 },
    Mem { cap: CapIdx, base: u64, size: u64 },
    Irq { cap: CapIdx, line: u64 },
}

/// The opened device.
pub struct Device {
    pub info: DeviceInfo,
    pub gate: CapIdx,
    pub resources: [Option<Resource>; MAX_ITEMS],
}

impl Device {
    pub fn resources(&self) -> impl Iterator<Item = Resource> + '_ {
        self.resources.iter().flatten().copied()
    }

    pub fn is(&self, bus: c_int, slot: c_int, func: c_int) -> bool {
        (bus, slot, func) == (self.info.bus as c_int, self.info.slot as c_int, self.info.func as c_int)
    }
}

static DEVICE: AtomicPtr<Device> = AtomicPtr::new(core::ptr::null_mut());
/// Held while opening; true once opening failed (not tried again).
static OPENING: Lock<bool> = Lock::new(false);

/// The device, opened on first use; `None` if the task has none.
pub fn device() -> Option<&'static Device> {
    let p = DEVICE.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: only a leaked, never-changed Device is stored here.
        return Some(unsafe { &*p });
    }
    let mut failed = OPENING.lock();
    let p = DEVICE.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: as above.
        return Some(unsafe { &*p });
    }
    if *failed {
        return None;
    }
    match open().and_then(|d| alloc_obj(d).ok_or("no memory")) {
        Ok(d) => {
            DEVICE.store(d, Ordering::Release);
            Some(d)
        }
        Err(e) => {
            rt::warn!("ddekit: no PCI device: {}", e);
            *failed = true;
            None
        }
    }
}

fn open() -> Result<Device, &'static str> {
    let gate = rt::env::cap("io.pci").ok_or("the task has no `io.pci` capability")?;
    let mut slots = [CapIdx::INVALID; MAX_ITEMS];
    for s in slots.iter_mut() {
        match rt_call(rt::cap::alloc) {
            Some(c) => *s = c,
            None => {
                free_slots(&slots);
                return Err("no free capability slots");
            }
        }
    }
    let br = &mut ipc::utcb().br;
    for (i, s) in slots.iter().enumerate() {
        br[i] = s.selector();
    }
    let reply = ipc::call(gate, MsgTag::new(proto::OPEN, 0, 0), Timeout::Never);
    ipc::utcb().br[..MAX_ITEMS].fill(0);
    let tag = match reply {
        Ok(r) => r.tag,
        Err(e) => {
            rt::warn!("ddekit: io.pci OPEN: {}", e);
            free_slots(&slots);
            return Err("the io server did not answer");
        }
    };
    let mr = ipc::mr();
    if tag.words() < INFO_WORDS {
        rt::warn!("ddekit: io.pci OPEN refused: {}", mr[0] as i64);
        free_slots(&slots);
        return Err("the io server has no device for this task");
    }
    let mut words = [0u64; INFO_WORDS];
    words.copy_from_slice(&mr[..INFO_WORDS]);
    let items = tag.items().min(MAX_ITEMS);
    let mut received = [CapIdx::INVALID; MAX_ITEMS];
    for (i, r) in received.iter_mut().enumerate().take(items) {
        *r = CapIdx::from_selector(mr[INFO_WORDS + 2 * i + 1]);
    }
    let mut resources = [None; MAX_ITEMS];
    for (i, &cap) in received.iter().enumerate().take(items) {
        resources[i] = classify(cap);
        if resources[i].is_none() {
            rt::warn!("ddekit: io.pci OPEN sent a capability of an unexpected kind");
        }
    }
    // Slots no item arrived in go back.
    let unused: [CapIdx; MAX_ITEMS] =
        core::array::from_fn(|i| if received.contains(&slots[i]) { CapIdx::INVALID } else { slots[i] });
    free_slots(&unused);
    Ok(Device { info: DeviceInfo::from_words(&words), gate, resources })
}

fn free_slots(slots: &[CapIdx]) {
    for s in slots.iter().filter(|s| s.is_valid()) {
        rt_call(|| rt::cap::free(*s));
    }
}

/// What a capability is: each kernel object answers only its own protocol.
fn classify(cap: CapIdx) -> Option<Resource> {
    if kcall(cap, PROTO_IO_PORTS, &[io_ports::INFO]).is_ok() {
        let m = ipc::mr();
        return Some(Resource::Ports { cap, first: m[0], count: m[1] });
    }
    if kcall(cap, PROTO_IO_MEM, &[io_mem::INFO]).is_ok() {
        let m = ipc::mr();
        return Some(Resource::Mem { cap, base: m[0], size: m[1] });
    }
    if kcall(cap, PROTO_IRQ, &[irq::INFO]).is_ok() {
        return Some(Resource::Irq { cap, line: ipc::mr()[0] });
    }
    None
}

/// The IRQ object of `line`, if the device has one.
pub fn irq_cap(line: u64) -> Option<CapIdx> {
    device()?.resources().find_map(|r| match r {
        Resource::Irq { cap, line: l } if l == line => Some(cap),
        _ => None,
    })
}

fn valid_access(pos: c_int, len: c_int) -> bool {
    (0..256).contains(&pos) && matches!(len, 1 | 2 | 4) && pos + len <= 256
}

/// Reads configuration space of the task's device.
pub fn config_read(pos: u64, len: u64) -> Option<u32> {
    let d = device()?;
    let mr = ipc::mr();
    mr[0] = pos;
    mr[1] = len;
    let r = ipc::call(d.gate, MsgTag::new(proto::CONFIG_READ, 2, 0), Timeout::Never).ok()?;
    let v = ipc::mr()[0];
    (r.tag.words() >= 1 && (v as i64) >= 0).then_some(v as u32)
}

/// Writes configuration space of the task's device.
pub fn config_write(pos: u64, len: u64, value: u32) -> bool {
    let Some(d) = device() else { return false };
    let mr = ipc::mr();
    mr[0] = pos;
    mr[1] = len;
    mr[2] = value as u64;
    match ipc::call(d.gate, MsgTag::new(proto::CONFIG_WRITE, 3, 0), Timeout::Never) {
        Ok(r) => r.tag.words() >= 1 && ipc::mr()[0] == 0,
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------
// C ABI
// ---------------------------------------------------------------------------

/// Device `nr` (only 0 exists): its real bus, slot and function.
///
/// # Safety
/// Each output pointer is null or valid for writing an `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_pci_get_device(
    nr: c_int,
    bus: *mut c_int,
    slot: *mut c_int,
    func: *mut c_int,
) -> c_int {
    if nr != 0 {
        return -1;
    }
    let Some(d) = device() else { return -1 };
    for (out, v) in [(bus, d.info.bus), (slot, d.info.slot), (func, d.info.func)] {
        if !out.is_null() {
            // SAFETY: non-null, and valid for writes by the contract.
            unsafe { out.write(v as c_int) };
        }
    }
    0
}

/// # Safety
/// `val` is null or valid for writing a `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_pci_read(
    bus: c_int,
    slot: c_int,
    func: c_int,
    pos: c_int,
    len: c_int,
    val: *mut u32,
) -> c_int {
    if val.is_null() || !valid_access(pos, len) || !device().is_some_and(|d| d.is(bus, slot, func)) {
        return -1;
    }
    match config_read(pos as u64, len as u64) {
        Some(v) => {
            // SAFETY: non-null, and valid for writes by the contract.
            unsafe { val.write(v) };
            0
        }
        None => -1,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pci_write(bus: c_int, slot: c_int, func: c_int, pos: c_int, len: c_int, val: u32) -> c_int {
    if !valid_access(pos, len) || !device().is_some_and(|d| d.is(bus, slot, func)) {
        return -1;
    }
    if config_write(pos as u64, len as u64, val) { 0 } else { -1 }
}

/// `struct ddekit_pci_bar`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DdekitPciBar {
    pub base: u64,
    pub size: u64,
    pub is_io: c_int,
    pub present: c_int,
}

/// `struct ddekit_pci_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DdekitPciInfo {
    pub vendor: u16,
    pub device: u16,
    pub subsystem_vendor: u16,
    pub subsystem_device: u16,
    pub revision: u8,
    pub irq_line: u8,
    pub class_code: u32,
    pub bars: [DdekitPciBar; 6],
}

const _: () = assert!(core::mem::size_of::<DdekitPciInfo>() == 16 + 6 * 24);

pub fn info() -> Option<DdekitPciInfo> {
    let i = device()?.info;
    let mut out = DdekitPciInfo {
        vendor: i.vendor,
        device: i.device,
        subsystem_vendor: i.subsystem_vendor,
        subsystem_device: i.subsystem_device,
        revision: i.revision,
        irq_line: i.irq_line,
        class_code: i.class_code,
        bars: [DdekitPciBar::default(); 6],
    };
    for (o, b) in out.bars.iter_mut().zip(i.bars.iter()) {
        if let Some(b) = b {
            *o = DdekitPciBar { base: b.base, size: b.size, is_io: b.is_io as c_int, present: 1 };
        }
    }
    Some(out)
}

/// # Safety
/// `out` is null or valid for writing a `struct ddekit_pci_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_pci_get_info(out: *mut DdekitPciInfo) -> c_int {
    if out.is_null() {
        return -1;
    }
    match info() {
        Some(i) => {
            // SAFETY: non-null, and valid for writes by the contract.
            unsafe { out.write(i) };
            0
        }
        None => -1,
    }
}

/// Sets the bus-master bit (bit 2) of the command register.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pci_enable_busmaster() -> c_int {
    let Some(cmd) = config_read(0x04, 2) else { return -1 };
    if cmd & 0x4 != 0 || config_write(0x04, 2, cmd | 0x4) { 0 } else { -1 }
}

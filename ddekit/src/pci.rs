//! PCI: the one device the task's manifest assigns it, through
//! [`rt::device`] (the io server's `io.pci` on Resurgo's kernel, L4Re io's
//! vbus on Fiasco.OC; DDEKit does not know which).
//!
//! The first call that needs the device opens it, once; the result is kept
//! for the task's life. `resource` and `interrupt` find it here.

use crate::memory::alloc_obj;
use crate::thread::{Lock, rt_call};
use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, Ordering};
use protocols::pci::MAX_MSIX;
pub use rt::device::Device;

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
    match rt_call(rt::device::open) {
        Ok(d) => match alloc_obj(d) {
            Some(d) => {
                DEVICE.store(d, Ordering::Release);
                Some(d)
            }
            None => {
                rt::warn!("ddekit: no PCI device: no memory");
                *failed = true;
                None
            }
        },
        Err(e) => {
            rt::warn!("ddekit: no PCI device: {}", e);
            *failed = true;
            None
        }
    }
}

fn is(d: &Device, bus: c_int, slot: c_int, func: c_int) -> bool {
    let i = d.info();
    (bus, slot, func) == (i.bus as c_int, i.slot as c_int, i.func as c_int)
}

fn valid_access(pos: c_int, len: c_int) -> bool {
    pos >= 0 && len >= 0 && rt::device::valid_config_access(pos as u64, len as u64)
}

/// Reads configuration space of the task's device.
pub fn config_read(pos: u64, len: u64) -> Option<u32> {
    let d = device()?;
    d.config_read(pos, len).ok()
}

/// Writes configuration space of the task's device.
pub fn config_write(pos: u64, len: u64, value: u32) -> bool {
    let Some(d) = device() else { return false };
    d.config_write(pos, len, value).is_ok()
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
    for (out, v) in [(bus, d.info().bus), (slot, d.info().slot), (func, d.info().func)] {
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
    if val.is_null() || !valid_access(pos, len) || !device().is_some_and(|d| is(d, bus, slot, func)) {
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
    if !valid_access(pos, len) || !device().is_some_and(|d| is(d, bus, slot, func)) {
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
    let i = *device()?.info();
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

/// Switches the device to its message-signalled interrupt; the interrupt
/// number to attach, or -1 (no MSI: the INTx line stays).
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pci_enable_msi() -> c_int {
    let Some(d) = device() else { return -1 };
    match rt_call(|| d.enable_msi()) {
        Ok(line) => c_int::try_from(line).unwrap_or(-1),
        Err(e) => {
            rt::info!("ddekit: no MSI for the device ({}): it keeps its INTx line", e);
            -1
        }
    }
}

/// Back to the INTx line: 0, or -1 when MSI was not on.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pci_disable_msi() -> c_int {
    let Some(d) = device() else { return -1 };
    if rt_call(|| d.disable_msi()).is_ok() { 0 } else { -1 }
}

/// Switches the device to MSI-X with `count` vectors; writes entry `i`'s
/// interrupt number to `lines[i]`; `count`, or -1 (nothing changed).
///
/// # Safety
/// `lines` is valid for writing `count` ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_pci_enable_msix(count: c_int, lines: *mut c_int) -> c_int {
    let Ok(n) = usize::try_from(count) else { return -1 };
    if lines.is_null() || n == 0 || n > MAX_MSIX {
        return -1;
    }
    let Some(d) = device() else { return -1 };
    let mut got = [0u64; MAX_MSIX];
    match rt_call(|| d.enable_msix(n, &mut got)) {
        Ok(()) => {
            for (i, &line) in got.iter().take(n).enumerate() {
                let Ok(l) = c_int::try_from(line) else { return -1 };
                // SAFETY: `lines` holds `count` ints by the contract, and i < count.
                unsafe { lines.add(i).write(l) };
            }
            count
        }
        Err(e) => {
            rt::info!("ddekit: no MSI-X with {} vectors for the device ({})", n, e);
            -1
        }
    }
}

/// Back to the INTx line from MSI-X: 0, or -1 when MSI-X was not on.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pci_disable_msix() -> c_int {
    let Some(d) = device() else { return -1 };
    if rt_call(|| d.disable_msix()).is_ok() { 0 } else { -1 }
}

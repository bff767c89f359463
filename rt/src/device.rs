//! A driver's PCI device, the same interface on both kernels.
//!
//! A driver task has (at most) one device, which its manifest assigns. It
//! opens it once ([`open`]) and then reads and writes its configuration
//! space, puts its I/O ports into its own I/O bitmap, maps its registers
//! uncached, gets an IRQ object for its interrupt line, and allocates memory
//! the device can reach by DMA ([`dma_alloc`]), which comes with the address
//! the device uses for it.
//!
//! | | Resurgo's kernel | Fiasco.OC + L4Re |
//! |---|---|---|
//! | the device | `io.pci` OPEN: the io server's answer, and its capabilities | io's vbus (`vbus`): the device whose PCI vendor/device id the task's `device` value names (else the first PCI device on the bus) |
//! | configuration space | `io.pci` CONFIG_READ / CONFIG_WRITE | vbus PCI-device `cfg_read` / `cfg_write` |
//! | ports | the I/O-port capability into the task's bitmap (`Task::grant_io`) | io maps them as I/O flexpages |
//! | registers | a dataspace of the device-memory capability, mapped uncached | the vbus as a dataspace at the BAR's physical address, attached uncached by the region manager |
//! | interrupt | the IRQ object the io server handed over | a new IRQ object bound to the line at io's virtual ICU |
//! | DMA memory | a contiguous dataspace: device address = physical address | a contiguous, pinned dataspace from moe, its device address from a `Dma_space` attached to the vbus's DMA domain |
//!
//! Either way the interrupt is delivered as IPC to the thread that attaches
//! the IRQ object (`Irq::attach`), with its label, and the line stays masked
//! until `Irq::unmask`.

use core::fmt;

pub use protocols::pci::{BARS, Bar, Bars, DeviceInfo};

#[cfg(not(feature = "fiasco"))]
pub use crate::device_io::{Device, dma_alloc, keep, open};
#[cfg(feature = "fiasco")]
pub use crate::platform::fiasco::device::{Device, dma_alloc, keep, open, open_on, stop_bus_mastering};

/// Why a device operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The task was given no way to its device (`io.pci`, or `vbus` on Fiasco).
    NoBus,
    /// The bus has no device for this task.
    NoDevice,
    /// The range or line is not one of the device's.
    NotTheDevices,
    /// A bad offset or width for configuration space.
    BadAccess,
    /// The device's server refused the operation (a write it does not allow).
    Refused,
    /// The device, its bus or the kernel does not offer it (message-signalled
    /// interrupts without an MSI capability, or on Fiasco.OC).
    NotSupported,
    /// The kernel or a server failed.
    Sys(crate::Error),
}

impl From<crate::Error> for DeviceError {
    fn from(e: crate::Error) -> Self {
        DeviceError::Sys(e)
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NoBus => f.write_str("the task has no capability for its device's bus"),
            DeviceError::NoDevice => f.write_str("the bus has no device for this task"),
            DeviceError::NotTheDevices => f.write_str("not a resource of this task's device"),
            DeviceError::BadAccess => f.write_str("bad configuration-space offset or width"),
            DeviceError::Refused => f.write_str("refused by the device's server"),
            DeviceError::NotSupported => f.write_str("not offered by the device, its bus or the kernel"),
            DeviceError::Sys(e) => write!(f, "{}", e),
        }
    }
}

/// Whether `(pos, len)` is an access configuration space allows.
pub fn valid_config_access(pos: u64, len: u64) -> bool {
    pos < 256 && matches!(len, 1 | 2 | 4) && pos + len <= 256
}

/// Device memory mapped by [`Device::map_mem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mmio {
    /// Where `phys` is mapped.
    pub virt: u64,
    /// The page-aligned start of the mapping.
    pub phys: u64,
    pub size: u64,
    /// The dataspace of the mapping, where the task holds one of its own.
    pub(crate) ds: Option<crate::obj::Dataspace>,
}

/// Page-aligned cover of `[start, start + size)`: `(base, len)`, or `None`
/// for an empty or overflowing range.
pub fn page_cover(start: u64, size: u64) -> Option<(u64, u64)> {
    let page = l4_sys::layout::PAGE_SIZE;
    let end = start.checked_add(size).filter(|_| size > 0)?;
    let base = start & !(page - 1);
    let top = end.checked_next_multiple_of(page)?;
    Some((base, top - base))
}

/// Whether `[start, start + count)` lies within `[first, first + len)`.
pub fn within(first: u64, len: u64, start: u64, count: u64) -> bool {
    match (start.checked_add(count), first.checked_add(len)) {
        (Some(end), Some(top)) => count > 0 && start >= first && end <= top,
        _ => false,
    }
}

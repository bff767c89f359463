//! The IOMMU (Intel VT-d): finding the remapping unit at boot, switching DMA
//! remapping on with every device blocked, and the DMA domains through which
//! a device reaches exactly the memory its driver allocated for it.
//! doc/iommu.md describes the design.

pub mod acpi;
#[cfg(not(test))]
pub mod glue;
pub mod sl;
pub mod vtd;

use crate::obj::ObjId;
use acpi::{AcpiError, Dmar};
use alloc::vec::Vec;

/// Kernel-virtual address of the remapping unit's register page (below the TSS page).
pub const REGS_VIRT: u64 = 0xffff_ff00_0000_0000 - 3 * 4096;

/// One dataspace a domain maps, at `iova` (= its physical address).
#[derive(Clone, Copy, Debug)]
pub struct DmaMap {
    pub iova: u64,
    pub pages: u64,
    pub ds: ObjId,
}

/// Whether `iova` falls in one of `ranges` (`(iova, pages)`).
pub fn within(ranges: &[(u64, u64)], iova: u64) -> bool {
    ranges.iter().any(|&(start, pages)| iova >= start && iova - start < pages.saturating_mul(4096))
}

/// A DMA domain: the second-level tables one PCI device translates through.
pub struct DmaDomain {
    /// The task that created it (the bus owner); it pays for the tables.
    pub owner: ObjId,
    /// The task that maps memory into it (the driver: the first to map),
    /// whose fault a blocked DMA of the device is.
    pub user: Option<ObjId>,
    pub source: u16,
    pub did: u16,
    pub root: u64,
    /// Table pages besides the root, charged to `owner`.
    pub tables: u64,
    pub maps: Vec<DmaMap>,
}

/// A list of PCI addresses, for the log.
struct Scopes<'a>(&'a [acpi::Bdf]);

impl core::fmt::Display for Scopes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            write!(f, "{}{:02x}:{:02x}.{}", if i == 0 { "" } else { " " }, b.bus, b.dev, b.func)?;
        }
        Ok(())
    }
}

/// The 16-bit source id of a PCI address.
pub const fn source_id(b: acpi::Bdf) -> u16 {
    ((b.bus as u16) << 8) | ((b.dev as u16 & 0x1f) << 3) | (b.func as u16 & 7)
}

/// Finds the DMAR table (`rsdp_hint` is the boot loader's RSDP address, 0
/// when it gave none) and logs what it found.
pub fn probe(read: acpi::PhysReader, rsdp_hint: u64) -> Result<Dmar, AcpiError> {
    let found = acpi::dmar(read, Some(rsdp_hint));
    match &found {
        Ok(d) => {
            for u in &d.units {
                crate::kinfo!(
                    "IOMMU: VT-d unit at {:#x} (segment {}, {}{}), {}-bit DMA addresses, interrupt remapping {}",
                    u.base,
                    u.segment,
                    if u.include_all { "every device" } else { "devices listed: " },
                    Scopes(&u.endpoints),
                    d.host_address_width,
                    if d.interrupt_remapping { "offered" } else { "absent" }
                );
            }
        }
        Err(e) => crate::kwarn!("no IOMMU ({e}): DMA is not confined; a driver's device can write anywhere"),
    }
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn within_its_ranges_and_nowhere_else() {
        let r = [(0x0568_0000, 8), (0x1000_0000, 1)];
        assert!(super::within(&r, 0x0568_6000));
        assert!(super::within(&r, 0x0568_7fff));
        assert!(!super::within(&r, 0x0568_8000));
        assert!(super::within(&r, 0x1000_0fff));
        assert!(!super::within(&r, 0x0fff_ffff));
        assert!(!super::within(&[(u64::MAX - 4095, u64::MAX)], 0));
    }
}

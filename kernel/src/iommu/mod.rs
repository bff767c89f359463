//! The IOMMU (Intel VT-d): finding the remapping units at boot and saying
//! whether devices' DMA is confined. doc/iommu.md describes the design.

pub mod acpi;

use acpi::{AcpiError, Dmar};

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

/// Finds the DMAR table (`rsdp_hint` is the boot loader's RSDP address, 0
/// when it gave none) and says at boot what it means for DMA.
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
            crate::kwarn!("DMA is not confined: this kernel does not switch DMA remapping on yet");
        }
        Err(e) => crate::kwarn!("no IOMMU ({e}): DMA is not confined; a driver's device can write anywhere"),
    }
    found
}

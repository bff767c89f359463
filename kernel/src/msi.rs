//! Message-signalled interrupts: one kernel vector per device that asks for
//! one, bound to an IRQ object, delivered like a line's interrupt.
//!
//! The io server, which owns PCI configuration space, binds a device's MSI
//! (`icu::BIND_MSI`) with the device's source id, and writes the address
//! and data the kernel answers into the device's MSI capability. With the
//! IOMMU's interrupt remapping on, the kernel gives each MSI a remapping
//! entry of its own, which names the vector and checks the requester's
//! source id: a device (or a driver programming it) can raise only its own
//! interrupt, and a write to the interrupt window that names another
//! entry is blocked. Without remapping (the `pc` machine) the address and
//! data are the compatibility format, and any device could raise any
//! vector, as it could write anywhere.
//!
//! An MSI is edge-triggered: it is acknowledged at the local APIC as it
//! arrives, and nothing is masked while the driver handles it; one that
//! comes before the driver waits again is kept as the IRQ's pending
//! trigger, as for any IRQ object.

use crate::arch::lines::{MSI_BASE, MSI_VECTORS};
use crate::obj::ObjId;

/// The compatibility-format MSI address and data: fixed delivery, edge,
/// physical destination `dest` (an xAPIC id).
pub const fn compat(dest: u8, vector: u8) -> (u64, u32) {
    (0xfee0_0000 | (dest as u64) << 12, vector as u32)
}

/// The vector of MSI slot `n` (`n` < [`MSI_VECTORS`]).
pub const fn vector(n: usize) -> u8 {
    (MSI_BASE as usize + n) as u8
}

/// The MSI slot of an interrupt vector, if it is one.
pub fn slot(vector: u64) -> Option<usize> {
    let n = vector.checked_sub(MSI_BASE)? as usize;
    (n < MSI_VECTORS).then_some(n)
}

/// A bound MSI vector.
#[derive(Clone, Copy, Debug)]
pub struct Msi {
    pub irq: ObjId,
    pub count: u64,
}

#[cfg(not(test))]
mod bind {
    use super::{Msi, compat, vector};
    use crate::iommu::vtd;
    use crate::kernel::Kernel;
    use crate::obj::ObjId;
    use l4_sys::Error;

    impl Kernel {
        /// Binds a vector for the device `source` to `irq` and answers the
        /// address and data its MSI capability must hold.
        pub fn bind_msi(&mut self, source: u16, irq: ObjId) -> Result<(u64, u32), Error> {
            let apic = self.apic.ok_or(Error::BadProtocol)?;
            let i = self.objs.irq_mut(irq).ok_or(Error::InvalidArgument)?;
            if i.line.is_some() || i.msi.is_some() {
                return Err(Error::Busy);
            }
            let n = self.msi.iter().position(Option::is_none).ok_or(Error::OutOfMemory)?;
            let (address, data) = match self.iommu.as_mut() {
                Some(io) if io.unit.irt.is_some() => {
                    io.unit.set_irte(n, Some(vtd::irte(vector(n), apic.id, source))).map_err(|why| {
                        crate::kerror!("IOMMU: cannot write remapping entry {n}: {why}");
                        Error::Busy
                    })?;
                    vtd::msi_remappable(n as u16)
                }
                _ => compat(apic.id, vector(n)),
            };
            if let Some(i) = self.objs.irq_mut(irq) {
                i.msi = Some(n as u8);
            }
            self.msi[n] = Some(Msi { irq, count: 0 });
            Ok((address, data))
        }

        /// MSI slot `n`'s vector entered the kernel.
        pub fn msi_interrupt(&mut self, n: usize) {
            crate::arch::lapic::eoi();
            let Some(m) = self.msi.get_mut(n).and_then(Option::as_mut) else { return };
            m.count += 1;
            let irq = m.irq;
            self.trigger_irq(irq);
        }

        /// Slot `n`'s IRQ object is going away: its vector and remapping
        /// entry are free again (the entry not present before the slot is
        /// reused, so a device still signalling it is blocked).
        pub fn unbind_msi(&mut self, n: u8) {
            let n = n as usize;
            if let Some(io) = self.iommu.as_mut()
                && io.unit.irt.is_some()
                && let Err(why) = io.unit.set_irte(n, None)
            {
                crate::kerror!("IOMMU: cannot clear remapping entry {n}: {why}");
                // Keep the slot taken: its entry may still be live.
                return;
            }
            if let Some(slot) = self.msi.get_mut(n) {
                *slot = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compatibility_format_encodes() {
        // APIC 0, vector 48: fixed delivery and edge trigger are zero bits.
        assert_eq!(compat(0, 48), (0xfee0_0000, 48));
        assert_eq!(compat(3, 0x3e), (0xfee0_3000, 0x3e));
    }

    #[test]
    fn slots_and_vectors_correspond() {
        assert_eq!(vector(0), 48);
        assert_eq!(slot(48), Some(0));
        assert_eq!(slot(63), Some(MSI_VECTORS - 1));
        assert_eq!(vector(MSI_VECTORS - 1), 63);
        // The stray vector and the PIC's are not MSI slots.
        for v in [64, 255, 47, 32, 0, u64::MAX] {
            assert_eq!(slot(v), None, "vector {v}");
        }
    }
}

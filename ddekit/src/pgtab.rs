//! pgtab: virtual <-> physical for DMA (`ddekit_pgtab_get_physaddr`,
//! `ddekit_pgtab_get_virtaddr`).
//!
//! Memory of the memory group lies in physically contiguous regions, so its
//! physical address is region phys + offset (looked up without a lock); device
//! memory mapped by `ddekit_request_mem` is found in its mapping table. Any
//! other address (a driver's static buffer, its stack) has no contiguous
//! physical backing DDEKit knows of, and gets 0.

use crate::{memory, resource};
use core::ffi::c_void;

pub fn virt_to_phys(virt: u64) -> Option<u64> {
    memory::virt_to_phys(virt).or_else(|| resource::mapping_virt_to_phys(virt))
}

pub fn phys_to_virt(phys: u64) -> Option<u64> {
    memory::phys_to_virt(phys).or_else(|| resource::mapping_phys_to_virt(phys))
}

/// Physical address of `virt`; 0 when unknown.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pgtab_get_physaddr(virt: *const c_void) -> u64 {
    virt_to_phys(virt as u64).unwrap_or_else(|| {
        misuse!("ddekit_pgtab_get_physaddr({:p}): not memory of the memory group or a device", virt);
        0
    })
}

/// Virtual address of a physical address the memory group handed out (or of
/// mapped device memory); 0 when unknown.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_pgtab_get_virtaddr(phys: u64) -> u64 {
    phys_to_virt(phys).unwrap_or(0)
}

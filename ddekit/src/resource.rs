//! Resources: `ddekit_request_io` / `ddekit_release_io` (I/O ports) and
//! `ddekit_request_mem` / `ddekit_release_mem` (device memory).
//!
//! Only resources of the task's own device are available ([`crate::pci`],
//! [`rt::device`]). Ports are granted by putting the whole port range that
//! covers the request into the task's I/O bitmap; after that `in`/`out` are
//! plain instructions. They are not taken out again, so a release only checks
//! the range (the ports stay usable, as they belong to the device anyway).
//! Device memory is mapped uncached for the page-aligned cover of the
//! request; the mapping is remembered for `ddekit_pgtab_*` and for its
//! release.

use crate::pci::device;
use crate::thread::{Lock, rt_call};
use core::ffi::c_int;
use ddekit_core::ranges::{Mapping, RangeMap};
use rt::device::Mmio;

/// Port ranges (first, count) granted so far.
static GRANTED: Lock<[Option<(u64, u64)>; 8]> = Lock::new([None; 8]);
/// Device memory mapped by `ddekit_request_mem` (the tag is the index of its
/// [`Mmio`] in `MMIO`).
static MAPPINGS: Lock<RangeMap<32>> = Lock::new(RangeMap::new());
static MMIO: Lock<[Option<Mmio>; 32]> = Lock::new([None; 32]);

fn covers(first: u64, count: u64, start: u64, end: u64) -> bool {
    start >= first && end <= first.saturating_add(count)
}

/// Physical address of device memory mapped here.
pub fn mapping_virt_to_phys(virt: u64) -> Option<u64> {
    MAPPINGS.lock().virt_to_phys(virt)
}

pub fn mapping_phys_to_virt(phys: u64) -> Option<u64> {
    MAPPINGS.lock().phys_to_virt(phys)
}

/// Puts the ports into the task's I/O bitmap: 0, or -1 if they are not the
/// device's.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_request_io(start: u64, count: u64) -> c_int {
    let Some(end) = start.checked_add(count).filter(|_| count > 0) else {
        misuse!("ddekit_request_io({:#x}, {:#x}): empty or overflowing range", start, count);
        return -1;
    };
    let Some(d) = device() else {
        misuse!("ddekit_request_io({:#x}, {:#x}): the task has no device", start, count);
        return -1;
    };
    let mut granted = GRANTED.lock();
    if granted.iter().flatten().any(|&(f, c)| covers(f, c, start, end)) {
        return 0;
    }
    match rt_call(|| d.request_ports(start, count)) {
        Ok((first, n)) => {
            if let Some(slot) = granted.iter_mut().find(|g| g.is_none()) {
                *slot = Some((first, n));
            }
            0
        }
        Err(rt::device::DeviceError::NotTheDevices) => {
            misuse!("ddekit_request_io({:#x}, {:#x}): not ports of this task's device", start, count);
            -1
        }
        Err(e) => {
            rt::warn!("ddekit_request_io({:#x}, {:#x}): {}", start, count, e);
            -1
        }
    }
}

/// 0 if the range was requested (the ports stay in the bitmap: the kernel
/// cannot take them out), else -1.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_release_io(start: u64, count: u64) -> c_int {
    let end = start.saturating_add(count);
    if GRANTED.lock().iter().flatten().any(|&(f, c)| covers(f, c, start, end)) {
        0
    } else {
        misuse!("ddekit_release_io({:#x}, {:#x}): never requested", start, count);
        -1
    }
}

/// Maps device memory of the task's device uncached; `*vaddr` gets the
/// virtual address of `start`.
///
/// # Safety
/// `vaddr` is null or valid for writing a `ddekit_addr_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ddekit_request_mem(start: u64, size: u64, vaddr: *mut u64) -> c_int {
    if vaddr.is_null() {
        misuse!("ddekit_request_mem: NULL vaddr");
        return -1;
    }
    if start.checked_add(size).filter(|_| size > 0).is_none() {
        misuse!("ddekit_request_mem({:#x}, {:#x}): empty or overflowing range", start, size);
        return -1;
    }
    let Some(d) = device() else {
        misuse!("ddekit_request_mem({:#x}, {:#x}): the task has no device", start, size);
        return -1;
    };
    let mmio = match rt_call(|| d.map_mem(start, size)) {
        Ok(m) => m,
        Err(rt::device::DeviceError::NotTheDevices) => {
            misuse!("ddekit_request_mem({:#x}, {:#x}): not device memory of this task's device", start, size);
            return -1;
        }
        Err(e) => {
            rt::warn!("ddekit_request_mem({:#x}, {:#x}): {}", start, size, e);
            return -1;
        }
    };
    let mut table = MMIO.lock();
    let Some(index) = table.iter().position(|m| m.is_none()) else {
        drop(table);
        rt::warn!("ddekit_request_mem: too many device-memory mappings");
        rt_call(|| d.unmap_mem(mmio));
        return -1;
    };
    let m = Mapping { virt: mmio.virt, phys: mmio.phys, size: mmio.size, tag: index as u64 };
    if !MAPPINGS.lock().insert(m) {
        drop(table);
        rt::warn!("ddekit_request_mem: too many device-memory mappings");
        rt_call(|| d.unmap_mem(mmio));
        return -1;
    }
    table[index] = Some(mmio);
    // SAFETY: non-null, and valid for writes by the contract.
    unsafe { vaddr.write(mmio.virt + (start - mmio.phys)) };
    0
}

fn unmap(m: Mapping) {
    let mmio = MMIO.lock().get_mut(m.tag as usize).and_then(Option::take);
    if let (Some(mmio), Some(d)) = (mmio, device()) {
        rt_call(|| d.unmap_mem(mmio));
    }
}

/// Unmaps what `ddekit_request_mem` mapped for `start`: 0, or -1 if nothing.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_release_mem(start: u64, size: u64) -> c_int {
    let m = MAPPINGS.lock().remove_phys(start);
    match m {
        Some(m) => {
            unmap(m);
            0
        }
        None => {
            misuse!("ddekit_release_mem({:#x}, {:#x}): not mapped", start, size);
            -1
        }
    }
}

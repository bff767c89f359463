//! Resources: `ddekit_request_io` / `ddekit_release_io` (I/O ports) and
//! `ddekit_request_mem` / `ddekit_release_mem` (device memory).
//!
//! Only resources of the task's own device are available: the capabilities
//! the io server returned on OPEN ([`crate::pci`]). Ports are granted by
//! putting the whole port capability that covers the request into the task's
//! I/O bitmap (`Task::grant_io`); after that `in`/`out` are plain instructions.
//! The kernel has no operation to take ports out of the bitmap again, so a
//! release only checks the range (the ports stay usable, as they belong to the
//! device anyway). Device memory is mapped uncached through a dataspace the
//! device-memory capability creates for the page-aligned cover of the request;
//! the mapping is remembered for `ddekit_pgtab_*` and for its release.

use crate::pci::{Resource, device};
use crate::thread::{Lock, rt_call};
use core::ffi::c_int;
use ddekit_core::pool::PAGE;
use ddekit_core::ranges::{Mapping, RangeMap};
use rt::CapIdx;
use rt::obj::{Dataspace, IoMem, IoPorts, Task};

/// Port ranges (first, count) granted so far.
static GRANTED: Lock<[Option<(u64, u64)>; 8]> = Lock::new([None; 8]);
/// Device memory mapped by `ddekit_request_mem`; the tag is the dataspace slot.
static MAPPINGS: Lock<RangeMap<32>> = Lock::new(RangeMap::new());

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
    let bar = device().and_then(|d| {
        d.resources().find_map(|r| match r {
            Resource::Ports { cap, first, count } if covers(first, count, start, end) => Some((cap, first, count)),
            _ => None,
        })
    });
    let Some((cap, first, n)) = bar else {
        misuse!("ddekit_request_io({:#x}, {:#x}): not ports of this task's device", start, count);
        return -1;
    };
    let mut granted = GRANTED.lock();
    if granted.iter().flatten().any(|&(f, c)| covers(f, c, start, end)) {
        return 0;
    }
    if let Err(e) = Task::own().grant_io(&IoPorts(cap), false) {
        rt::warn!("ddekit_request_io({:#x}, {:#x}): {}", start, count, e);
        return -1;
    }
    if let Some(slot) = granted.iter_mut().find(|g| g.is_none()) {
        *slot = Some((first, n));
    }
    0
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
    let Some(end) = start.checked_add(size).filter(|_| size > 0) else {
        misuse!("ddekit_request_mem({:#x}, {:#x}): empty or overflowing range", start, size);
        return -1;
    };
    let bar = device().and_then(|d| {
        d.resources().find_map(|r| match r {
            Resource::Mem { cap, base, size } if covers(base, size, start, end) => Some(cap),
            _ => None,
        })
    });
    let Some(cap) = bar else {
        misuse!("ddekit_request_mem({:#x}, {:#x}): not device memory of this task's device", start, size);
        return -1;
    };
    let page_base = start & !(PAGE - 1);
    let len = end.next_multiple_of(PAGE) - page_base;
    let mapped = rt_call(|| {
        let ds = IoMem(cap).create_dataspace(page_base, len)?;
        match rt::mem::attach(&ds, len, true) {
            Ok(addr) => Ok((ds, addr)),
            Err(e) => {
                rt::obj::release(ds.0);
                Err(e)
            }
        }
    });
    let (ds, addr) = match mapped {
        Ok(m) => m,
        Err(e) => {
            rt::warn!("ddekit_request_mem({:#x}, {:#x}): {}", start, size, e);
            return -1;
        }
    };
    let m = Mapping { virt: addr, phys: page_base, size: len, tag: ds.0.0 as u64 };
    if !MAPPINGS.lock().insert(m) {
        rt::warn!("ddekit_request_mem: too many device-memory mappings");
        unmap(m);
        return -1;
    }
    // SAFETY: non-null, and valid for writes by the contract.
    unsafe { vaddr.write(addr + (start - page_base)) };
    0
}

fn unmap(m: Mapping) {
    rt_call(|| {
        let _ = rt::mem::detach(m.virt, m.size);
        rt::obj::release(Dataspace(CapIdx(m.tag as u32)).0);
    });
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

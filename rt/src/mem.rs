//! Memory a task maps at run time: anonymous RAM, DMA memory, device registers,
//! shared dataspaces, placed in the task's map area.

pub use crate::memory::Region;
use crate::obj::{Dataspace, Factory, MapAccess, Task, release};
use crate::sync::Mutex;
use alloc::vec::Vec;
use l4_sys::Error;
use l4_sys::layout::{MAP_AREA, MAP_AREA_END, PAGE_SIZE};

/// Free address ranges of the map area, first fit.
static FREE: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());
static INIT: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Reserves `size` bytes (page multiple) of address space in the map area.
pub fn reserve(size: u64) -> Result<u64, Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    let mut free = FREE.lock();
    if !INIT.swap(true, core::sync::atomic::Ordering::Relaxed) {
        free.push((MAP_AREA, MAP_AREA_END));
    }
    let i = free.iter().position(|&(s, e)| e - s >= size).ok_or(Error::OutOfMemory)?;
    let start = free[i].0;
    free[i].0 += size;
    if free[i].0 == free[i].1 {
        free.remove(i);
    }
    Ok(start)
}

/// Returns address space to the map area.
pub fn unreserve(addr: u64, size: u64) {
    let size = size.next_multiple_of(PAGE_SIZE);
    let mut free = FREE.lock();
    let at = free.partition_point(|&(s, _)| s < addr);
    free.insert(at, (addr, addr + size));
    // Merge with neighbours.
    if at + 1 < free.len() && free[at].1 == free[at + 1].0 {
        free[at].1 = free[at + 1].1;
        free.remove(at + 1);
    }
    if at > 0 && free[at - 1].1 == free[at].0 {
        free[at - 1].1 = free[at].1;
        free.remove(at);
    }
}

/// Maps a dataspace (or its first `size` bytes) into this task; returns the address.
pub fn attach(ds: &Dataspace, size: u64, writable: bool) -> Result<u64, Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    let addr = reserve(size)?;
    let rights = if writable { MapAccess::READ | MapAccess::WRITE } else { MapAccess::READ };
    if let Err(e) = Task::own().map(ds, 0, addr, size, rights) {
        unreserve(addr, size);
        return Err(e);
    }
    Ok(addr)
}

pub fn detach(addr: u64, size: u64) -> Result<(), Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    Task::own().unmap(addr, size)?;
    unreserve(addr, size);
    Ok(())
}

/// Zeroed RAM, `contiguous` for DMA (its physical address is then known).
pub fn alloc(size: u64, contiguous: bool) -> Result<Region, Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    let ds = Factory::own().create_dataspace(size, contiguous)?;
    let addr = match attach(&ds, size, true) {
        Ok(a) => a,
        Err(e) => {
            release(ds.0);
            return Err(e);
        }
    };
    let phys = if contiguous { ds.info().map(|i| i.phys).unwrap_or(0) } else { 0 };
    Ok(Region { addr, size, ds, phys })
}

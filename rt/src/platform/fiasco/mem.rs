//! Memory on Fiasco.OC: dataspaces from moe (`mem_alloc`), mapped by the
//! task's region manager (the `l4re_itas` that loaded it), which then resolves
//! the page faults on them through the task's own dataspace capability: unlike
//! on Resurgo's kernel, that capability must stay while the memory is mapped.

use crate::ipc::{self, set_receive_slot};
pub use crate::memory::Region;
use crate::obj::{Dataspace, release};
use l4_sys::Error;
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::{Cap, msg, task};
use l4_sys::layout::PAGE_SIZE;

/// Maps a dataspace (or its first `size` bytes) into this task at an address
/// the region manager picks; returns it.
pub fn attach(ds: &Dataspace, size: u64, writable: bool) -> Result<u64, Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    let rights = msg::RM_R | if writable { msg::RM_W } else { 0 };
    let rm = Cap(super::l4re_env().rm);
    let tag = ipc::compose(|m| msg::rm_attach(m, 0, size, msg::RM_SEARCH_ADDR | rights, Cap::from_idx(ds.0), 0, 12));
    region_at(call(rm, tag)?, size)
}

/// The region address of the region manager's answer to an attach of `size`
/// bytes ([`msg::rm_attach_answer`]), or `BadAddress` for an answer that
/// cannot be one.
pub(super) fn region_at(reply: l4_sys::MsgTag, size: u64) -> Result<u64, Error> {
    msg::rm_attach_answer(reply, ipc::mr::<0>(), size).ok_or(Error::BadAddress)
}

/// Unmaps the region at `addr` and frees its addresses. L4Re's region
/// manager only forgets the region: unless its answer says it unmapped the
/// pages itself, the caller must take them back from its own page table
/// (as L4Re's `Rm::detach` does). Otherwise the pages stay mapped, and the
/// next region attached at the same addresses would read and write the old
/// dataspace's memory instead of its own.
pub fn detach(addr: u64, size: u64) -> Result<(), Error> {
    let rm = Cap(super::l4re_env().rm);
    let tag = ipc::compose(|m| msg::rm_detach(m, addr, size.next_multiple_of(PAGE_SIZE)));
    let reply = call(rm, tag)?;
    let answer = [ipc::mr::<0>(), ipc::mr::<1>()];
    if let Some((start, len)) = msg::rm_detach_left(reply, &answer, addr, size) {
        for (page, _, order) in task::chunks(start, start, len, MAX_UNMAP_ORDER) {
            let fp = msg::mem_fpage(page, order, task::FPAGE_R | task::FPAGE_W | task::FPAGE_X);
            call(super::TASK, ipc::compose(|m| task::task_unmap(m, fp, task::UNMAP_ALL_SPACES)))?;
        }
    }
    Ok(())
}

/// The largest flexpage [`detach`] unmaps at once (2 MiB).
const MAX_UNMAP_ORDER: u32 = 21;

/// A dataspace of `size` bytes from moe (physically contiguous with
/// `contiguous`).
pub fn alloc_dataspace(size: u64, contiguous: bool) -> Result<Dataspace, Error> {
    let flags = if contiguous { msg::MEM_CONTINUOUS | msg::MEM_PINNED } else { 0 };
    mem_alloc(size, flags, 0)
}

/// `Mem_alloc::alloc` from moe with its flags and log2 alignment.
fn mem_alloc(size: u64, flags: u64, align: u64) -> Result<Dataspace, Error> {
    let slot = crate::cap::alloc().ok_or(Error::QuotaExceeded)?;
    set_receive_slot(slot);
    let tag = ipc::compose(|m| msg::mem_alloc(m, size, flags, align));
    match call(Cap(super::l4re_env().mem_alloc), tag) {
        Ok(_) => Ok(Dataspace(slot)),
        Err(e) => {
            crate::cap::free(slot);
            Err(e)
        }
    }
}

/// The task's heap: zeroed RAM in whole superpages, so that its pager
/// maps it 2 MiB at a fault instead of 64 KiB (a restarted driver's probe
/// took 24 such faults, each a page mapped at a time). moe backs only
/// physically contiguous memory with superpages; where it has none that
/// large, the heap is ordinary memory ([`alloc`]).
pub fn alloc_heap(size: u64) -> Result<Region, Error> {
    const SUPERPAGE: u64 = 2 << 20;
    let size = size.next_multiple_of(SUPERPAGE);
    let flags = msg::MEM_CONTINUOUS | msg::MEM_SUPER_PAGES;
    match mem_alloc(size, flags, SUPERPAGE.trailing_zeros() as u64) {
        Ok(ds) => attached(ds, size),
        Err(_) => alloc(size, false),
    }
}

/// Zeroed RAM, mapped writable.
pub fn alloc(size: u64, contiguous: bool) -> Result<Region, Error> {
    let size = size.next_multiple_of(PAGE_SIZE);
    attached(alloc_dataspace(size, contiguous)?, size)
}

/// `ds` attached writable here; released if it cannot be.
fn attached(ds: Dataspace, size: u64) -> Result<Region, Error> {
    match attach(&ds, size, true) {
        Ok(addr) => Ok(Region { addr, size, ds, phys: 0 }),
        Err(e) => {
            release(ds.0);
            Err(e)
        }
    }
}

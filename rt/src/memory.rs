//! The memory handles both kernels' platforms share: a dataspace capability,
//! what it says of itself, and a mapping of one in this task. Each platform
//! implements the operations (`obj::Dataspace::info`, `mem::attach`,
//! `mem::detach`); the types are defined once, here.

use l4_sys::CapIdx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dataspace(pub CapIdx);

/// `(size, flags, physical address)` of a dataspace.
#[derive(Clone, Copy, Debug)]
pub struct DsInfo {
    pub size: u64,
    pub contiguous: bool,
    /// Physical address of contiguous memory; 0 where the kernel does not
    /// tell (Fiasco.OC without a DMA space).
    pub phys: u64,
}

/// Memory this task mapped. On Resurgo's kernel the dataspace stays alive
/// while mapped, so the capability can be dropped unless it is to be shared;
/// on Fiasco.OC the region manager needs it for as long as the mapping.
pub struct Region {
    pub addr: u64,
    pub size: u64,
    pub ds: Dataspace,
    /// Physical address, for contiguous (DMA) memory (0 where not known).
    pub phys: u64,
}

impl Region {
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.addr as *mut u8
    }

    /// Unmaps the memory and drops the capability: the memory goes back
    /// unless someone else holds the dataspace.
    pub fn free(self) {
        let _ = crate::mem::detach(self.addr, self.size);
        crate::obj::release(self.ds.0);
    }
}

//! Dataspaces (memory objects) and address spaces (which dataspaces a task sees
//! where).
//!
//! A dataspace is reference counted: every capability to it and every mapping of
//! it counts. Its frames go back to the allocator when the last reference goes,
//! whoever held it. That is what lets a ring dataspace outlive the driver that
//! used it, and what keeps the free-frame count exact across restarts.

use crate::mem::frames::{Frame, FrameAllocator};
use crate::mem::paging::Table;
use crate::obj::ObjId;
use alloc::vec::Vec;

pub enum Memory {
    /// Anonymous RAM, frame by frame.
    Ram(Vec<Frame>),
    /// Physically contiguous RAM: DMA memory whose physical address is known.
    Contiguous { base: Frame },
    /// Device registers at a physical address; mapped uncached; never freed.
    Device { phys: u64 },
    /// A boot module (the boot archive), read-only; never freed.
    Boot { phys: u64 },
}

pub struct Dataspace {
    pub memory: Memory,
    pub pages: u64,
    /// Capabilities plus mappings.
    pub refs: u32,
    /// The task whose memory quota pays for it.
    pub charged_to: Option<ObjId>,
}

impl Dataspace {
    pub fn page_phys(&self, page: u64) -> u64 {
        match &self.memory {
            Memory::Ram(frames) => frames[page as usize].addr(),
            Memory::Contiguous { base } => base.addr() + page * 4096,
            Memory::Device { phys } | Memory::Boot { phys } => phys + page * 4096,
        }
    }

    /// Physical base address for contiguous and device memory.
    pub fn phys_base(&self) -> Option<u64> {
        match &self.memory {
            Memory::Ram(_) => None,
            Memory::Contiguous { base } => Some(base.addr()),
            Memory::Device { phys } | Memory::Boot { phys } => Some(*phys),
        }
    }

    pub fn is_device(&self) -> bool {
        matches!(self.memory, Memory::Device { .. })
    }

    pub fn is_read_only(&self) -> bool {
        matches!(self.memory, Memory::Boot { .. })
    }

    /// Pages charged to a quota (RAM only).
    pub fn charged_pages(&self) -> u64 {
        match self.memory {
            Memory::Ram(_) | Memory::Contiguous { .. } => self.pages,
            _ => 0,
        }
    }

    /// Returns the frames to the allocator.
    pub fn release(self, frames: &mut FrameAllocator) {
        match self.memory {
            Memory::Ram(list) => list.into_iter().for_each(|f| frames.free(f)),
            Memory::Contiguous { base } => (0..self.pages).for_each(|i| frames.free(Frame(base.0 + i))),
            Memory::Device { .. } | Memory::Boot { .. } => {}
        }
    }
}

/// One dataspace window in an address space.
#[derive(Clone, Copy, Debug)]
pub struct Mapping {
    pub vaddr: u64,
    pub pages: u64,
    pub ds: ObjId,
}

impl Mapping {
    pub fn end(&self) -> u64 {
        self.vaddr + self.pages * 4096
    }
}

pub struct AddressSpace {
    pub pml4: Table,
    /// Sorted by address, never overlapping.
    pub mappings: Vec<Mapping>,
}

/// Mapping records one page of a task's quota pays for: a record is 24 bytes,
/// and the vector holding them may have twice the room it uses.
pub const MAPPINGS_PER_PAGE: usize = 64;

/// Pages of quota `n` mapping records cost.
pub fn record_pages(n: usize) -> u64 {
    n.div_ceil(MAPPINGS_PER_PAGE) as u64
}

impl AddressSpace {
    /// Whether `[vaddr, vaddr + pages * 4096)` meets a mapping. The mappings are
    /// sorted and disjoint, so their ends are sorted too: a binary search.
    pub fn overlaps(&self, vaddr: u64, pages: u64) -> bool {
        let end = vaddr + pages * 4096;
        let i = self.mappings.partition_point(|m| m.end() <= vaddr);
        self.mappings.get(i).is_some_and(|m| m.vaddr < end)
    }

    /// The mapping that holds `vaddr`.
    pub fn find(&self, vaddr: u64) -> Option<&Mapping> {
        let i = self.mappings.partition_point(|m| m.end() <= vaddr);
        self.mappings.get(i).filter(|m| m.vaddr <= vaddr)
    }

    pub fn insert(&mut self, m: Mapping) {
        let at = self.mappings.partition_point(|x| x.vaddr < m.vaddr);
        self.mappings.insert(at, m);
    }

    /// Removes and returns the mappings that lie within `[vaddr, vaddr + size)`.
    /// A mapping that only partly overlaps the range makes the request invalid.
    pub fn take_range(&mut self, vaddr: u64, size: u64) -> Result<Vec<Mapping>, l4_sys::Error> {
        let end = vaddr.checked_add(size).ok_or(l4_sys::Error::InvalidArgument)?;
        if self.mappings.iter().any(|m| m.vaddr < end && vaddr < m.end() && (m.vaddr < vaddr || m.end() > end)) {
            return Err(l4_sys::Error::InvalidArgument);
        }
        let (taken, kept) = self.mappings.drain(..).partition(|m| m.vaddr >= vaddr && m.end() <= end);
        self.mappings = kept;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(vaddr: u64, pages: u64) -> Mapping {
        Mapping { vaddr, pages, ds: ObjId { index: 0, generation: 0 } }
    }

    #[test]
    fn ranges_overlap_and_split_only_cleanly() {
        let mut s = AddressSpace { pml4: Table::UNWALKED, mappings: Vec::new() };
        s.insert(m(0x3000, 2));
        s.insert(m(0x1000, 1));
        assert!(s.overlaps(0x4000, 1));
        assert!(!s.overlaps(0x2000, 1));
        assert!(!s.overlaps(0x5000, 10));
        assert!(s.overlaps(0x0, 2));
        assert!(s.overlaps(0x2000, 2));
        assert!(s.overlaps(0x4fff & !0xfff, 1));
        assert!(!s.overlaps(0x0, 1));
        assert_eq!(s.find(0x4fff).map(|m| m.vaddr), Some(0x3000));
        assert_eq!(s.find(0x1000).map(|m| m.vaddr), Some(0x1000));
        assert!(s.find(0x2000).is_none() && s.find(0x5000).is_none() && s.find(0).is_none());
        assert_eq!(record_pages(0), 0);
        assert_eq!(record_pages(1), 1);
        assert_eq!(record_pages(MAPPINGS_PER_PAGE + 1), 2);
        assert_eq!(s.mappings[0].vaddr, 0x1000);
        assert_eq!(s.take_range(0x3000, 0x1000).unwrap_err(), l4_sys::Error::InvalidArgument);
        let taken = s.take_range(0x3000, 0x2000).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(s.mappings.len(), 1);
    }
}

//! A small fixed table of mappings with known physical addresses (device
//! memory mapped by `ddekit_request_mem`), for virtual <-> physical lookups
//! and for finding a mapping again when it is released.

/// One mapping: `size` bytes at `virt`, physically at `phys`; `tag` is the
/// caller's (on Resurgo, the dataspace capability).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub virt: u64,
    pub phys: u64,
    pub size: u64,
    pub tag: u64,
}

impl Mapping {
    pub fn contains_virt(&self, virt: u64) -> bool {
        virt >= self.virt && virt - self.virt < self.size
    }

    pub fn contains_phys(&self, phys: u64) -> bool {
        phys >= self.phys && phys - self.phys < self.size
    }
}

pub struct RangeMap<const N: usize> {
    entries: [Option<Mapping>; N],
}

impl<const N: usize> Default for RangeMap<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RangeMap<N> {
    pub const fn new() -> Self {
        RangeMap { entries: [None; N] }
    }

    /// False if the table is full or the mapping is empty.
    pub fn insert(&mut self, m: Mapping) -> bool {
        if m.size == 0 {
            return false;
        }
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(e) => {
                *e = Some(m);
                true
            }
            None => false,
        }
    }

    /// Takes out the oldest mapping whose physical range holds `phys`.
    pub fn remove_phys(&mut self, phys: u64) -> Option<Mapping> {
        let e = self.entries.iter_mut().find(|e| e.is_some_and(|m| m.contains_phys(phys)))?;
        e.take()
    }

    pub fn find_virt(&self, virt: u64) -> Option<Mapping> {
        self.entries.iter().flatten().find(|m| m.contains_virt(virt)).copied()
    }

    pub fn find_phys(&self, phys: u64) -> Option<Mapping> {
        self.entries.iter().flatten().find(|m| m.contains_phys(phys)).copied()
    }

    pub fn virt_to_phys(&self, virt: u64) -> Option<u64> {
        self.find_virt(virt).map(|m| m.phys + (virt - m.virt))
    }

    pub fn phys_to_virt(&self, phys: u64) -> Option<u64> {
        self.find_phys(phys).map(|m| m.virt + (phys - m.phys))
    }

    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_both_ways_and_removal() {
        let mut t: RangeMap<2> = RangeMap::new();
        assert!(t.is_empty());
        let a = Mapping { virt: 0x1000_0000, phys: 0xfebf_0000, size: 0x2000, tag: 7 };
        let b = Mapping { virt: 0x2000_0000, phys: 0xfec0_0000, size: 0x1000, tag: 8 };
        assert!(t.insert(a));
        assert!(!t.insert(Mapping { size: 0, ..b }));
        assert!(t.insert(b));
        assert!(!t.insert(b), "full");
        assert_eq!(t.virt_to_phys(0x1000_1234), Some(0xfebf_1234));
        assert_eq!(t.virt_to_phys(0x1000_2000), None, "one past the end");
        assert_eq!(t.phys_to_virt(0xfec0_0010), Some(0x2000_0010));
        assert_eq!(t.phys_to_virt(0x1000), None);
        assert_eq!(t.remove_phys(0xfebf_1000), Some(a));
        assert_eq!(t.remove_phys(0xfebf_1000), None);
        assert_eq!(t.len(), 1);
        assert!(t.insert(a));
    }
}

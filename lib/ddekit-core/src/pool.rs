//! DDEKit's DMA memory allocator: bookkeeping over physically contiguous
//! regions, without touching the memory it hands out.
//!
//! Every byte DDEKit allocates must be DMA-able, so all of it comes from
//! physically contiguous regions whose physical address is known; the
//! physical address of any allocation is then region phys + offset. A
//! [`Pool`] holds up to N such [`Region`]s (the caller adds another when an
//! allocation fails).
//!
//! Within a region, memory is handed out in pages (for large and contiguous
//! allocations, with alignment, boundary and address limits checked against
//! the *physical* address) or carved into slabs of power-of-two objects of
//! 16 to 2048 bytes (for small ones, naturally aligned like Linux's kmalloc).
//! What each page is used for is kept in a [`PageInfo`] per page, which the
//! caller stores in the region's own first pages: freeing needs no size and no
//! header, and a pointer that was never handed out (or is freed twice, or
//! points into the middle of an object) is recognised and refused instead of
//! corrupting the allocator.

use core::mem::size_of;

pub const PAGE: u64 = 4096;
/// Smallest object: 16 bytes.
const MIN_SHIFT: u32 = 4;
/// Object sizes 16, 32, ..., 2048.
pub const CLASSES: usize = 8;
/// Largest size served from slabs; larger requests get whole pages.
pub const MAX_SMALL: usize = 2048;
const NONE: u32 = u32::MAX;

const FREE: u8 = 0;
const META: u8 = 1;
const SLAB: u8 = 2;
const HEAD: u8 = 3;
const TAIL: u8 = 4;

/// What one page of a region is used for. All-zero bytes are a free page, so
/// zeroed memory is valid (but [`Region::new`] initialises it anyway).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PageInfo {
    kind: u8,
    /// Slab pages: the object class.
    class: u8,
    /// Slab pages: objects in use.
    used: u16,
    /// Head of a page run: its length in pages.
    run: u32,
    /// Slab pages: neighbours in the class's list of pages with free objects.
    next: u32,
    prev: u32,
    /// Slab pages: one bit per object, set when in use.
    map: [u64; 4],
}

/// Pages of [`PageInfo`] needed for a region of `pages` pages.
pub const fn meta_pages(pages: u64) -> u64 {
    (pages * size_of::<PageInfo>() as u64).div_ceil(PAGE)
}

/// The slab class for an object of `size` bytes, or `None` if it needs pages.
pub fn class_of(size: usize) -> Option<usize> {
    if size > MAX_SMALL {
        return None;
    }
    let s = size.max(1).next_power_of_two().max(1 << MIN_SHIFT);
    Some((s.trailing_zeros() - MIN_SHIFT) as usize)
}

pub const fn class_size(class: usize) -> usize {
    1 << (class as u32 + MIN_SHIFT)
}

const fn per_page(class: usize) -> usize {
    PAGE as usize / class_size(class)
}

/// Where a run of pages may lie, in physical addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constraints {
    /// A power of two, at least [`PAGE`].
    pub align: u64,
    /// The run must not cross a multiple of this (0: no limit).
    pub boundary: u64,
    /// Lowest first byte.
    pub low: u64,
    /// Highest last byte.
    pub high: u64,
}

impl Constraints {
    pub const ANY: Constraints = Constraints { align: PAGE, boundary: 0, low: 0, high: u64::MAX };

    /// From the arguments of `ddekit_contig_malloc`, made sane: an alignment
    /// below a page is a page, one that is not a power of two is rounded up,
    /// `high == 0` means no limit. `None` if no placement of `size` bytes can
    /// satisfy them.
    pub fn from_c(size: u64, low: u64, high: u64, align: u64, boundary: u64) -> Option<Constraints> {
        let align = align.max(PAGE).checked_next_power_of_two()?;
        let high = if high == 0 { u64::MAX } else { high };
        let c = Constraints { align, boundary, low, high };
        let possible = size > 0
            && low <= high
            && (boundary == 0 || size <= boundary)
            && low.checked_add(size - 1).is_some_and(|last| last <= high);
        possible.then_some(c)
    }

    pub fn fits(&self, phys: u64, size: u64) -> bool {
        let Some(last) = phys.checked_add(size.max(1) - 1) else { return false };
        phys.is_multiple_of(self.align)
            && phys >= self.low
            && last <= self.high
            && (self.boundary == 0 || phys / self.boundary == last / self.boundary)
    }
}

/// Why a free was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// Not in any region.
    Unknown,
    /// In a region, but not allocated (never, or freed already).
    NotAllocated,
    /// Inside an allocation, but not at its start.
    Interior,
}

/// One physically contiguous region and what each of its pages holds.
pub struct Region<'a> {
    virt: u64,
    phys: u64,
    pages: usize,
    meta: &'a mut [PageInfo],
    /// Per class, the first slab page with a free object.
    partial: [u32; CLASSES],
    free_pages: usize,
}

impl<'a> Region<'a> {
    /// Manages `size` bytes (a page multiple) at `virt`, physically contiguous
    /// from `phys`. The first `reserved` pages are never handed out (the caller
    /// keeps `meta` there); `meta` needs one entry per page.
    pub fn new(virt: u64, phys: u64, size: u64, meta: &'a mut [PageInfo], reserved: usize) -> Region<'a> {
        let pages = ((size / PAGE) as usize).min(meta.len());
        let meta = &mut meta[..pages];
        let reserved = reserved.min(pages);
        for (i, m) in meta.iter_mut().enumerate() {
            *m = PageInfo { kind: if i < reserved { META } else { FREE }, ..PageInfo::default() };
        }
        Region { virt, phys, pages, meta, partial: [NONE; CLASSES], free_pages: pages - reserved }
    }

    pub fn virt(&self) -> u64 {
        self.virt
    }

    pub fn phys(&self) -> u64 {
        self.phys
    }

    pub fn size(&self) -> u64 {
        self.pages as u64 * PAGE
    }

    pub fn free_bytes(&self) -> u64 {
        self.free_pages as u64 * PAGE
    }

    pub fn contains(&self, virt: u64) -> bool {
        virt >= self.virt && virt - self.virt < self.size()
    }

    pub fn contains_phys(&self, phys: u64) -> bool {
        phys >= self.phys && phys - self.phys < self.size()
    }

    /// A run of `n` pages whose physical placement satisfies `c`.
    pub fn alloc_pages(&mut self, n: usize, c: &Constraints) -> Option<u64> {
        let p = self.take_pages(n, c)?;
        Some(self.virt + p as u64 * PAGE)
    }

    fn take_pages(&mut self, n: usize, c: &Constraints) -> Option<usize> {
        if n == 0 || n > self.free_pages {
            return None;
        }
        let bytes = n as u64 * PAGE;
        let mut i = 0;
        while i + n <= self.pages {
            let m = &self.meta[i];
            if m.kind != FREE {
                i += if m.kind == HEAD { m.run.max(1) as usize } else { 1 };
                continue;
            }
            let phys = self.phys + i as u64 * PAGE;
            if phys > c.high {
                return None;
            }
            if !c.fits(phys, bytes) {
                let misalign = phys % c.align;
                i += if misalign != 0 { ((c.align - misalign) / PAGE) as usize } else { 1 };
                continue;
            }
            match (i..i + n).find(|&j| self.meta[j].kind != FREE) {
                Some(j) => i = j + 1,
                None => {
                    self.meta[i] = PageInfo { kind: HEAD, run: n as u32, ..PageInfo::default() };
                    for t in &mut self.meta[i + 1..i + n] {
                        *t = PageInfo { kind: TAIL, ..PageInfo::default() };
                    }
                    self.free_pages -= n;
                    return Some(i);
                }
            }
        }
        None
    }

    /// An object of at most [`MAX_SMALL`] bytes from a slab.
    pub fn alloc_small(&mut self, size: usize) -> Option<u64> {
        let class = class_of(size)?;
        let mut p = self.partial[class];
        if p == NONE {
            let page = self.take_pages(1, &Constraints::ANY)?;
            self.meta[page] = PageInfo { kind: SLAB, class: class as u8, run: 1, ..PageInfo::default() };
            self.push_partial(class, page as u32);
            p = page as u32;
        }
        let per = per_page(class);
        let m = &mut self.meta[p as usize];
        let bit = m
            .map
            .iter()
            .enumerate()
            .find(|(_, w)| **w != u64::MAX)
            .map(|(i, w)| i * 64 + w.trailing_ones() as usize)
            .filter(|&b| b < per)?;
        m.map[bit / 64] |= 1 << (bit % 64);
        m.used += 1;
        if m.used as usize == per {
            self.unlink_partial(class, p);
        }
        Some(self.virt + p as u64 * PAGE + (bit * class_size(class)) as u64)
    }

    fn push_partial(&mut self, class: usize, p: u32) {
        let head = self.partial[class];
        self.meta[p as usize].prev = NONE;
        self.meta[p as usize].next = head;
        if head != NONE {
            self.meta[head as usize].prev = p;
        }
        self.partial[class] = p;
    }

    fn unlink_partial(&mut self, class: usize, p: u32) {
        let (prev, next) = (self.meta[p as usize].prev, self.meta[p as usize].next);
        if prev == NONE {
            self.partial[class] = next;
        } else {
            self.meta[prev as usize].next = next;
        }
        if next != NONE {
            self.meta[next as usize].prev = prev;
        }
        self.meta[p as usize].next = NONE;
        self.meta[p as usize].prev = NONE;
    }

    /// Size of the allocation that starts exactly at `virt`.
    pub fn size_of(&self, virt: u64) -> Option<u64> {
        if !self.contains(virt) {
            return None;
        }
        let off = virt - self.virt;
        let m = &self.meta[(off / PAGE) as usize];
        match m.kind {
            SLAB => {
                let size = class_size(m.class as usize) as u64;
                let bit = ((off % PAGE) / size) as usize;
                let allocated = (off % PAGE).is_multiple_of(size) && m.map[bit / 64] & (1 << (bit % 64)) != 0;
                allocated.then_some(size)
            }
            HEAD if off.is_multiple_of(PAGE) => Some(m.run as u64 * PAGE),
            _ => None,
        }
    }

    /// Frees the allocation starting at `virt`; returns its size.
    pub fn free(&mut self, virt: u64) -> Result<u64, FreeError> {
        if !self.contains(virt) {
            return Err(FreeError::Unknown);
        }
        let off = virt - self.virt;
        let p = (off / PAGE) as usize;
        match self.meta[p].kind {
            SLAB => {
                let class = self.meta[p].class as usize;
                let size = class_size(class) as u64;
                let in_page = off % PAGE;
                if !in_page.is_multiple_of(size) {
                    return Err(FreeError::Interior);
                }
                let bit = (in_page / size) as usize;
                let m = &mut self.meta[p];
                if m.map[bit / 64] & (1 << (bit % 64)) == 0 {
                    return Err(FreeError::NotAllocated);
                }
                m.map[bit / 64] &= !(1 << (bit % 64));
                let was_full = m.used as usize == per_page(class);
                m.used -= 1;
                let empty = m.used == 0;
                if was_full {
                    self.push_partial(class, p as u32);
                }
                // Keep one page per class for the next allocation; give back
                // further empty ones.
                let alone = self.partial[class] == p as u32 && self.meta[p].next == NONE;
                if empty && !alone {
                    self.unlink_partial(class, p as u32);
                    self.meta[p] = PageInfo::default();
                    self.free_pages += 1;
                }
                Ok(size)
            }
            HEAD => {
                if !off.is_multiple_of(PAGE) {
                    return Err(FreeError::Interior);
                }
                let n = self.meta[p].run as usize;
                for m in &mut self.meta[p..p + n] {
                    *m = PageInfo::default();
                }
                self.free_pages += n;
                Ok(n as u64 * PAGE)
            }
            TAIL => Err(FreeError::Interior),
            META => Err(FreeError::Unknown),
            _ => Err(FreeError::NotAllocated),
        }
    }
}

/// Up to N regions.
pub struct Pool<'a, const N: usize> {
    regions: [Option<Region<'a>>; N],
}

impl<const N: usize> Default for Pool<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const N: usize> Pool<'a, N> {
    pub const fn new() -> Self {
        Pool { regions: [const { None }; N] }
    }

    /// Adds a region; gives it back if the pool is full.
    pub fn add(&mut self, r: Region<'a>) -> Result<(), Region<'a>> {
        match self.regions.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(r);
                Ok(())
            }
            None => Err(r),
        }
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region<'a>> {
        self.regions.iter().flatten()
    }

    fn regions_mut(&mut self) -> impl Iterator<Item = &mut Region<'a>> {
        self.regions.iter_mut().flatten()
    }

    pub fn is_full(&self) -> bool {
        self.regions.iter().all(Option::is_some)
    }

    /// `size` bytes: a slab object up to [`MAX_SMALL`], else whole pages.
    pub fn alloc(&mut self, size: usize) -> Option<u64> {
        if size <= MAX_SMALL {
            self.regions_mut().find_map(|r| r.alloc_small(size))
        } else {
            self.alloc_pages((size as u64).div_ceil(PAGE) as usize, &Constraints::ANY)
        }
    }

    pub fn alloc_pages(&mut self, n: usize, c: &Constraints) -> Option<u64> {
        self.regions_mut().find_map(|r| r.alloc_pages(n, c))
    }

    pub fn free(&mut self, virt: u64) -> Result<u64, FreeError> {
        match self.regions_mut().find(|r| r.contains(virt)) {
            Some(r) => r.free(virt),
            None => Err(FreeError::Unknown),
        }
    }

    pub fn size_of(&self, virt: u64) -> Option<u64> {
        self.regions().find(|r| r.contains(virt))?.size_of(virt)
    }

    pub fn contains(&self, virt: u64) -> bool {
        self.regions().any(|r| r.contains(virt))
    }

    pub fn virt_to_phys(&self, virt: u64) -> Option<u64> {
        let r = self.regions().find(|r| r.contains(virt))?;
        Some(r.phys + (virt - r.virt))
    }

    pub fn phys_to_virt(&self, phys: u64) -> Option<u64> {
        let r = self.regions().find(|r| r.contains_phys(phys))?;
        Some(r.virt + (phys - r.phys))
    }

    pub fn total_bytes(&self) -> u64 {
        self.regions().map(Region::size).sum()
    }

    pub fn free_bytes(&self) -> u64 {
        self.regions().map(Region::free_bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(pages: usize, virt: u64, phys: u64) -> Region<'static> {
        let meta = Box::leak(vec![PageInfo::default(); pages].into_boxed_slice());
        let reserved = meta_pages(pages as u64) as usize;
        Region::new(virt, phys, pages as u64 * PAGE, meta, reserved)
    }

    #[test]
    fn classes() {
        assert_eq!(size_of::<PageInfo>(), 48);
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(1), Some(0));
        assert_eq!(class_of(16), Some(0));
        assert_eq!(class_of(17), Some(1));
        assert_eq!(class_of(1536), Some(7));
        assert_eq!(class_of(2048), Some(7));
        assert_eq!(class_of(2049), None);
        assert_eq!(class_size(7), 2048);
        assert_eq!(meta_pages(1024), 12);
    }

    #[test]
    fn small_objects_are_aligned_distinct_and_reused() {
        let mut r = region(64, 0x1000_0000, 0x20_0000);
        let reserved = meta_pages(64);
        let mut seen = std::collections::BTreeSet::new();
        for size in [1usize, 16, 24, 100, 1500, 2048] {
            let align = class_size(class_of(size).unwrap()) as u64;
            for _ in 0..20 {
                let a = r.alloc_small(size).unwrap();
                assert_eq!(a % align, 0, "size {size}");
                assert!(a >= 0x1000_0000 + reserved * PAGE, "never in the meta pages");
                assert!(seen.insert(a), "handed out twice: {a:#x}");
                assert_eq!(r.size_of(a), Some(align));
            }
        }
        let a = *seen.iter().next().unwrap();
        let size = r.free(a).unwrap();
        assert_eq!(r.free(a), Err(FreeError::NotAllocated), "double free");
        assert_eq!(r.alloc_small(size as usize), Some(a), "the freed slot comes back first");
        assert_eq!(r.free(a + 8), Err(FreeError::Interior));
        assert_eq!(r.free(0x1000_0000), Err(FreeError::Unknown), "meta pages");
        assert_eq!(r.free(0x2000_0000), Err(FreeError::Unknown));
    }

    #[test]
    fn slab_pages_return_when_empty() {
        let mut r = region(32, 0x4000_0000, 0x10_0000);
        let free0 = r.free_bytes();
        // Three pages of 2048-byte objects.
        let objs: Vec<u64> = (0..6).map(|_| r.alloc_small(2000).unwrap()).collect();
        assert_eq!(r.free_bytes(), free0 - 3 * PAGE);
        for o in &objs {
            r.free(*o).unwrap();
        }
        // One page stays cached for the class.
        assert_eq!(r.free_bytes(), free0 - PAGE);
        // Everything still works.
        for _ in 0..100 {
            let a = r.alloc_small(2000).unwrap();
            r.free(a).unwrap();
        }
        assert_eq!(r.free_bytes(), free0 - PAGE);
    }

    #[test]
    fn page_runs_and_exhaustion() {
        let mut r = region(16, 0x10_0000, 0x80_0000);
        let usable = 16 - meta_pages(16) as usize;
        let a = r.alloc_pages(3, &Constraints::ANY).unwrap();
        assert_eq!(a % PAGE, 0);
        assert_eq!(r.size_of(a), Some(3 * PAGE));
        assert_eq!(r.free(a + PAGE), Err(FreeError::Interior));
        assert_eq!(r.alloc_pages(usable, &Constraints::ANY), None);
        let b = r.alloc_pages(usable - 3, &Constraints::ANY).unwrap();
        assert_eq!(r.free_bytes(), 0);
        assert_eq!(r.alloc_small(8), None);
        assert_eq!(r.free(a), Ok(3 * PAGE));
        assert_eq!(r.free(a), Err(FreeError::NotAllocated));
        assert_eq!(r.free(b), Ok((usable as u64 - 3) * PAGE));
        assert_eq!(r.alloc_pages(usable, &Constraints::ANY), Some(a));
    }

    #[test]
    fn constraints_apply_to_physical_addresses() {
        // Virtual and physical addresses deliberately differ in alignment.
        let virt = 0x7000_1000;
        let phys = 0x0030_3000;
        let mut r = region(256, virt, phys);
        let to_phys = |v: u64| phys + (v - virt);

        let c = Constraints::from_c(3 * PAGE, 0, 0, 0x10000, 0).unwrap();
        let a = r.alloc_pages(3, &c).unwrap();
        assert_eq!(to_phys(a) % 0x10000, 0);

        // 8 KiB that must not cross a 16 KiB boundary, 8 KiB aligned.
        let c = Constraints::from_c(2 * PAGE, 0, 0, 2 * PAGE, 4 * PAGE).unwrap();
        for _ in 0..10 {
            let b = r.alloc_pages(2, &c).unwrap();
            let p = to_phys(b);
            assert_eq!(p / (4 * PAGE), (p + 2 * PAGE - 1) / (4 * PAGE));
        }
        // Not crossing a boundary without alignment: 3 pages in 16 KiB chunks.
        let c = Constraints::from_c(3 * PAGE, 0, 0, 0, 4 * PAGE).unwrap();
        for _ in 0..5 {
            let p = to_phys(r.alloc_pages(3, &c).unwrap());
            assert_eq!(p / (4 * PAGE), (p + 3 * PAGE - 1) / (4 * PAGE));
        }
        // Below a limit and above a floor.
        let c = Constraints::from_c(PAGE, phys + 100 * PAGE, phys + 120 * PAGE - 1, 0, 0).unwrap();
        let p = to_phys(r.alloc_pages(1, &c).unwrap());
        assert!((phys + 100 * PAGE..phys + 120 * PAGE).contains(&p));
        let c = Constraints::from_c(PAGE, 0, phys - 1, 0, 0).unwrap();
        assert_eq!(r.alloc_pages(1, &c), None, "the whole region lies above `high`");
        // Impossible requests.
        assert_eq!(Constraints::from_c(3 * PAGE, 0, 0, 0, 2 * PAGE), None);
        assert_eq!(Constraints::from_c(PAGE, 10 * PAGE, 5 * PAGE, 0, 0), None);
        assert_eq!(Constraints::from_c(0, 0, 0, 0, 0), None);
        // Odd alignments are rounded up to a power of two.
        assert_eq!(Constraints::from_c(PAGE, 0, 0, 3 * PAGE, 0).unwrap().align, 4 * PAGE);
    }

    #[test]
    fn pool_spans_regions_and_translates() {
        let mut pool: Pool<'static, 4> = Pool::new();
        assert_eq!(pool.alloc(64), None, "empty pool");
        pool.add(region(8, 0x1000_0000, 0x100_0000)).ok().unwrap();
        pool.add(region(64, 0x2000_0000, 0x900_0000)).ok().unwrap();
        let big = pool.alloc(20 * PAGE as usize).unwrap();
        assert!((0x2000_0000..0x2004_0000).contains(&big), "only the second region has room");
        assert_eq!(pool.virt_to_phys(big + 5), Some(0x900_0000 + (big - 0x2000_0000) + 5));
        assert_eq!(pool.phys_to_virt(0x900_0000 + (big - 0x2000_0000) + 5), Some(big + 5));
        assert_eq!(pool.virt_to_phys(0x3000_0000), None);
        assert_eq!(pool.phys_to_virt(0x50), None);
        let small = pool.alloc(100).unwrap();
        assert_eq!(pool.size_of(small), Some(128));
        assert_eq!(pool.free(small), Ok(128));
        assert_eq!(pool.free(small), Err(FreeError::NotAllocated));
        assert_eq!(pool.free(0xdead_0000), Err(FreeError::Unknown));
        assert_eq!(pool.free(big), Ok(20 * PAGE));
        pool.add(region(8, 0x3000_0000, 0)).ok().unwrap();
        pool.add(region(8, 0x4000_0000, 0)).ok().unwrap();
        assert!(pool.is_full());
        assert!(pool.add(region(8, 0x5000_0000, 0)).is_err());
    }

    #[test]
    fn random_alloc_free_keeps_accounting_exact() {
        // A deterministic pseudo-random mix; afterwards everything is freed and
        // the region is as free as at the start (but for cached slab pages).
        let mut r = region(512, 0x1_0000_0000, 0x400_0000);
        let start = r.free_bytes();
        let mut live: Vec<(u64, u64)> = Vec::new();
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if live.len() > 200 || (x.is_multiple_of(3) && !live.is_empty()) {
                let i = (x as usize / 3) % live.len();
                let (a, size) = live.swap_remove(i);
                assert_eq!(r.free(a), Ok(size));
            } else {
                let a = if x.is_multiple_of(5) {
                    let n = (x / 5 % 4 + 1) as usize;
                    r.alloc_pages(n, &Constraints::ANY)
                } else {
                    r.alloc_small((x / 7 % 2048) as usize + 1)
                };
                if let Some(a) = a {
                    let size = r.size_of(a).unwrap();
                    for &(b, bs) in &live {
                        assert!(a + size <= b || b + bs <= a, "overlap {a:#x}+{size} with {b:#x}+{bs}");
                    }
                    live.push((a, size));
                }
            }
        }
        for (a, size) in live.drain(..) {
            assert_eq!(r.free(a), Ok(size));
        }
        assert!(r.free_bytes() >= start - CLASSES as u64 * PAGE);
    }
}

//! VT-d second-level page tables: the I/O virtual address → physical
//! translation of one DMA domain.
//!
//! The format is x86-64's with the read and write bits at 0 and 1 (a
//! present entry is one that allows reading or writing), 512 entries a table,
//! three levels for 39-bit and four for 48-bit addresses. Table memory is
//! reached through [`Tables`], so the same code edits the kernel's frames and
//! a host test's map.

use l4_sys::Error;

pub const READ: u64 = 1 << 0;
pub const WRITE: u64 = 1 << 1;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const PAGE: u64 = 4096;

/// Where table frames come from and how their entries are read and written.
pub trait Tables {
    /// A zeroed table frame's physical address.
    fn alloc(&mut self) -> Option<u64>;
    fn free(&mut self, table: u64);
    fn get(&self, table: u64, i: usize) -> u64;
    fn set(&mut self, table: u64, i: usize, entry: u64);
}

fn index(iova: u64, level: u32) -> usize {
    ((iova >> (12 + 9 * level)) & 0x1ff) as usize
}

/// Whether `[iova, iova + pages * 4096)` fits the address width of `levels`.
pub fn fits(levels: u32, iova: u64, pages: u64) -> bool {
    let limit = 1u64 << (12 + 9 * levels);
    iova.is_multiple_of(PAGE)
        && pages > 0
        && pages.checked_mul(PAGE).and_then(|n| iova.checked_add(n)).is_some_and(|e| e <= limit)
}

/// The leaf table and index of `iova`, creating tables when `create`; counts
/// the tables created in `created`.
fn walk(
    t: &mut impl Tables,
    root: u64,
    levels: u32,
    iova: u64,
    create: bool,
    created: &mut u64,
) -> Option<(u64, usize)> {
    let mut table = root;
    for level in (1..levels).rev() {
        let i = index(iova, level);
        let mut e = t.get(table, i);
        if e & (READ | WRITE) == 0 {
            if !create {
                return None;
            }
            let next = t.alloc()?;
            *created += 1;
            e = next | READ | WRITE;
            t.set(table, i, e);
        }
        table = e & ADDR_MASK;
    }
    Some((table, index(iova, 0)))
}

/// Maps `pages` pages at `iova` to `phys` onwards, readable and, with
/// `write`, writable; returns how many tables it created. Fails without a
/// change (`InUse`) when a page is mapped already, or when a table cannot be
/// had (`OutOfMemory`; the tables made so far stay, empty, until
/// [`free_all`]).
pub fn map(
    t: &mut impl Tables,
    root: u64,
    levels: u32,
    iova: u64,
    phys: u64,
    pages: u64,
    write: bool,
) -> Result<u64, Error> {
    if !fits(levels, iova, pages) || !phys.is_multiple_of(PAGE) {
        return Err(Error::InvalidArgument);
    }
    let mut created = 0;
    for i in 0..pages {
        if let Some((table, at)) = walk(t, root, levels, iova + i * PAGE, false, &mut created)
            && t.get(table, at) & (READ | WRITE) != 0
        {
            return Err(Error::InUse);
        }
    }
    let flags = READ | if write { WRITE } else { 0 };
    for i in 0..pages {
        let Some((table, at)) = walk(t, root, levels, iova + i * PAGE, true, &mut created) else {
            unmap(t, root, levels, iova, i);
            return Err(Error::OutOfMemory);
        };
        t.set(table, at, (phys + i * PAGE) | flags);
    }
    Ok(created)
}

/// Clears the entries of `pages` pages at `iova` (tables stay until [`free_all`]).
pub fn unmap(t: &mut impl Tables, root: u64, levels: u32, iova: u64, pages: u64) {
    let mut none = 0;
    for i in 0..pages {
        if let Some((table, at)) = walk(t, root, levels, iova + i * PAGE, false, &mut none) {
            t.set(table, at, 0);
        }
    }
}

/// The physical address `iova` translates to, and whether it is writable.
#[cfg(test)]
pub fn translate(t: &mut impl Tables, root: u64, levels: u32, iova: u64) -> Option<(u64, bool)> {
    let mut none = 0;
    let (table, at) = walk(t, root, levels, iova & !(PAGE - 1), false, &mut none)?;
    let e = t.get(table, at);
    (e & (READ | WRITE) != 0).then_some(((e & ADDR_MASK) | (iova & (PAGE - 1)), e & WRITE != 0))
}

/// Frees every table under `root` and `root` itself; returns how many.
pub fn free_all(t: &mut impl Tables, root: u64, levels: u32) -> u64 {
    fn free_level(t: &mut impl Tables, table: u64, level: u32) -> u64 {
        let mut n = 0;
        if level > 0 {
            for i in 0..512 {
                let e = t.get(table, i);
                if e & (READ | WRITE) != 0 {
                    n += free_level(t, e & ADDR_MASK, level - 1);
                }
            }
        }
        t.free(table);
        n + 1
    }
    free_level(t, root, levels - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    /// Tables in a map, frames numbered from 1 MiB up; `limit` bounds them.
    #[derive(Default)]
    struct Fake {
        tables: BTreeMap<u64, Vec<u64>>,
        next: u64,
        freed: u64,
        limit: Option<usize>,
    }

    impl Tables for Fake {
        fn alloc(&mut self) -> Option<u64> {
            if self.limit.is_some_and(|l| self.tables.len() >= l) {
                return None;
            }
            self.next += PAGE;
            let at = 0x10_0000 + self.next;
            self.tables.insert(at, std::vec![0; 512]);
            Some(at)
        }
        fn free(&mut self, table: u64) {
            assert!(self.tables.remove(&table).is_some(), "double free of {table:#x}");
            self.freed += 1;
        }
        fn get(&self, table: u64, i: usize) -> u64 {
            self.tables[&table][i]
        }
        fn set(&mut self, table: u64, i: usize, e: u64) {
            self.tables.get_mut(&table).unwrap()[i] = e;
        }
    }

    #[test]
    fn identity_maps_translate_and_unmap() {
        for levels in [3, 4] {
            let mut f = Fake::default();
            let root = f.alloc().unwrap();
            // 3 pages straddling a 2 MiB boundary: two leaf tables.
            let base = 0x1ff_e000;
            let created = map(&mut f, root, levels, base, base, 3, true).unwrap();
            assert_eq!(created, levels as u64 - 1 + 1, "levels {levels}");
            assert_eq!(translate(&mut f, root, levels, base + 0x123), Some((base + 0x123, true)));
            assert_eq!(translate(&mut f, root, levels, base + 2 * PAGE), Some((base + 2 * PAGE, true)));
            assert_eq!(translate(&mut f, root, levels, base + 3 * PAGE), None, "nothing past the mapping");
            assert_eq!(translate(&mut f, root, levels, base - PAGE), None);
            assert_eq!(map(&mut f, root, levels, base + 2 * PAGE, 0x5000, 1, true), Err(Error::InUse));
            map(&mut f, root, levels, 0x40_0000, 0x80_0000, 1, false).unwrap();
            assert_eq!(translate(&mut f, root, levels, 0x40_0000), Some((0x80_0000, false)));
            unmap(&mut f, root, levels, base, 3);
            assert_eq!(translate(&mut f, root, levels, base), None);
            map(&mut f, root, levels, base, base, 3, true).unwrap();
            let tables = f.tables.len() as u64;
            assert_eq!(free_all(&mut f, root, levels), tables);
            assert!(f.tables.is_empty());
        }
    }

    #[test]
    fn bad_ranges_are_refused_and_a_full_allocator_leaves_nothing_mapped() {
        let mut f = Fake::default();
        let root = f.alloc().unwrap();
        assert_eq!(map(&mut f, root, 3, 0x1001, 0x1000, 1, true), Err(Error::InvalidArgument));
        assert_eq!(map(&mut f, root, 3, 0x1000, 0x1001, 1, true), Err(Error::InvalidArgument));
        assert_eq!(map(&mut f, root, 3, 0x1000, 0x1000, 0, true), Err(Error::InvalidArgument));
        assert_eq!(map(&mut f, root, 3, (1 << 39) - PAGE, 0, 2, true), Err(Error::InvalidArgument));
        assert_eq!(map(&mut f, root, 3, !0xfff, 0, u64::MAX, true), Err(Error::InvalidArgument));
        assert!(map(&mut f, root, 4, (1 << 39) - PAGE, 0, 2, true).is_ok(), "48 bits with four levels");
        let mut f = Fake { limit: Some(3), ..Fake::default() };
        let root = f.alloc().unwrap();
        // The second 2 MiB region needs a leaf table the allocator lacks.
        assert_eq!(map(&mut f, root, 3, 0x1f_f000, 0x1f_f000, 2, true), Err(Error::OutOfMemory));
        assert_eq!(translate(&mut f, root, 3, 0x1f_f000), None, "rolled back");
        free_all(&mut f, root, 3);
        assert!(f.tables.is_empty());
    }
}

//! The memory group: `ddekit_simple_malloc`, `ddekit_large_malloc`,
//! `ddekit_contig_malloc`, slabs — and the objects DDEKit itself allocates
//! (locks, semaphores, thread records, ...).
//!
//! Everything comes from one pool of physically contiguous dataspaces the
//! device can reach (`rt::device::dma_alloc`), so every allocation is
//! DMA-able and its device ("physical") address is the region's plus the
//! offset ([`virt_to_phys`]). The pool
//! starts empty and grows by a region whenever an allocation does not fit:
//! 1 MiB first, then as large as the pool already is, up to 4 MiB per region
//! (a request larger than that gets a region of its own size). Regions stay for
//! the task's life. The bookkeeping (`ddekit_core::pool`) keeps one record per
//! page in the region's first pages: small objects come from power-of-two
//! slabs (16..2048 bytes, naturally aligned), larger ones from page runs placed
//! by *physical* alignment, boundary and limits, and frees need no size and
//! detect pointers that were never handed out.
//!
//! The pool is guarded by DDEKit's sleeping internal lock; the list of regions
//! is also published lock-free (regions are only ever added), so that
//! physical-address lookups and pointer checks never wait.

use crate::thread::{Lock, rt_call};
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use ddekit_core::pool::{Constraints, FreeError, PAGE, PageInfo, Pool, Region, meta_pages};

const MAX_REGIONS: usize = 64;
const FIRST_REGION: u64 = 1 << 20;
const MAX_REGION: u64 = 4 << 20;

static POOL: Lock<Pool<'static, MAX_REGIONS>> = Lock::new(Pool::new());

/// The regions, published lock-free: `(virt, size, phys)` of the first
/// `REGION_COUNT` entries never change once counted.
static REGION_COUNT: AtomicUsize = AtomicUsize::new(0);
static DIRECTORY: [[AtomicU64; 3]; MAX_REGIONS] = [const { [const { AtomicU64::new(0) }; 3] }; MAX_REGIONS];

fn directory() -> impl Iterator<Item = (u64, u64, u64)> {
    let n = REGION_COUNT.load(Ordering::Acquire).min(MAX_REGIONS);
    DIRECTORY[..n]
        .iter()
        .map(|e| (e[0].load(Ordering::Relaxed), e[1].load(Ordering::Relaxed), e[2].load(Ordering::Relaxed)))
}

/// Whether `[virt, virt + len)` lies in one region of the pool.
pub fn contains(virt: u64, len: u64) -> bool {
    directory().any(|(v, size, _)| virt >= v && len <= size && virt - v <= size - len)
}

pub fn virt_to_phys(virt: u64) -> Option<u64> {
    directory().find(|&(v, size, _)| virt >= v && virt - v < size).map(|(v, _, p)| p + (virt - v))
}

pub fn phys_to_virt(phys: u64) -> Option<u64> {
    directory().find(|&(_, size, p)| phys >= p && phys - p < size).map(|(v, _, p)| v + (phys - p))
}

/// Adds a fresh contiguous region of at least `size` bytes to the pool.
fn grow(pool: &mut Pool<'static, MAX_REGIONS>, need: u64) -> bool {
    if pool.is_full() {
        rt::warn!("ddekit: memory pool has {} regions, the most it can have", MAX_REGIONS);
        return false;
    }
    // Pages for `need` bytes plus their page records.
    let pages = need.div_ceil(PAGE) + 1;
    let min = (pages + meta_pages(pages + meta_pages(pages))) * PAGE;
    let usual = pool.total_bytes().clamp(FIRST_REGION, MAX_REGION);
    let mut last_error = None;
    let sizes = [usual.max(min), min];
    for &size in if sizes[0] == sizes[1] { &sizes[..1] } else { &sizes[..] } {
        let region = match rt_call(|| rt::device::dma_alloc(size)) {
            Ok(r) => r,
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        let pages = region.size / PAGE;
        // SAFETY: the region is fresh, zeroed RAM mapped read-write at `addr`
        // for `size` bytes and never unmapped; its first `meta_pages(pages)`
        // pages hold the page records and are never handed out (Region::new
        // marks them reserved), so nothing else aliases them. PageInfo is plain
        // integers, valid for any bytes, and its alignment (8) divides the page.
        let meta = unsafe { core::slice::from_raw_parts_mut(region.addr as *mut PageInfo, pages as usize) };
        let r = Region::new(region.addr, region.phys, region.size, meta, meta_pages(pages) as usize);
        if pool.add(r).is_err() {
            rt_call(|| region.free());
            return false;
        }
        // Kept for the task's life (on Resurgo's kernel the mapping keeps the
        // dataspace alive and its slot goes; on Fiasco.OC the capability stays).
        let (addr, size, phys) = rt_call(|| rt::device::keep(region));
        let i = REGION_COUNT.load(Ordering::Relaxed);
        DIRECTORY[i][0].store(addr, Ordering::Relaxed);
        DIRECTORY[i][1].store(size, Ordering::Relaxed);
        DIRECTORY[i][2].store(phys, Ordering::Relaxed);
        REGION_COUNT.store(i + 1, Ordering::Release);
        return true;
    }
    if let Some(e) = last_error {
        rt::warn!("ddekit: cannot grow the memory pool by {} KiB: {}", min >> 10, e);
    }
    false
}

/// Runs `f` on the pool; if it finds nothing, grows the pool by at least
/// `need` bytes and tries once more.
fn with_growth(need: u64, f: impl Fn(&mut Pool<'static, MAX_REGIONS>) -> Option<u64>) -> Option<u64> {
    let mut pool = POOL.lock();
    if let Some(a) = f(&mut pool) {
        return Some(a);
    }
    if !grow(&mut pool, need) {
        return None;
    }
    f(&mut pool)
}

/// `size` bytes, 16-byte aligned (power-of-two objects up to 2 KiB are
/// aligned to their size), or whole pages above 2 KiB.
pub fn alloc(size: usize) -> Option<u64> {
    with_growth(size as u64, |p| p.alloc(size))
}

/// `pages` pages placed as `c` says.
pub fn alloc_pages(pages: usize, c: &Constraints) -> Option<u64> {
    // Room for the alignment slack in a new region.
    let need = (pages as u64 * PAGE).saturating_add(c.align.saturating_sub(PAGE));
    with_growth(need, |p| p.alloc_pages(pages, c))
}

pub fn free(virt: u64) -> Result<u64, FreeError> {
    POOL.lock().free(virt)
}

pub fn allocation_size(virt: u64) -> Option<u64> {
    POOL.lock().size_of(virt)
}

/// Types DDEKit allocates from the pool and hands to C as opaque pointers.
///
/// # Safety
/// The type is `repr(C)` and its first field is a `u64` that holds `MAGIC`
/// while the object is alive.
pub unsafe trait Object {
    const MAGIC: u64;
}

/// Whether `p` could point to a `T` in pool memory (in a region, aligned).
pub(crate) fn is_object<T>(p: *const T) -> bool {
    !p.is_null() && (p as usize).is_multiple_of(align_of::<T>()) && contains(p as u64, size_of::<T>() as u64)
}

/// The live object `p` points to, if it is one: checked to lie in the pool
/// and to carry `T`'s magic, so a stray or freed pointer from C is refused.
pub(crate) fn object<T: Object>(p: *const T) -> Option<&'static T> {
    if !is_object(p) {
        return None;
    }
    // SAFETY: `p` is aligned and lies in pool memory, which stays mapped
    // read-write for the task's life; a `u64` is valid for any bytes.
    let magic = unsafe { (p as *const u64).read_volatile() };
    // SAFETY: the magic says this is a live `T` (see `Object`): objects are
    // written whole before their address is handed out and lose the magic
    // before they are freed.
    (magic == T::MAGIC).then(|| unsafe { &*p })
}

/// Moves `value` into pool memory.
pub fn alloc_obj<T>(value: T) -> Option<&'static mut T> {
    const { assert!(align_of::<T>() as u64 <= PAGE) };
    let p = alloc(size_of::<T>().max(1))? as *mut T;
    // SAFETY: fresh pool memory of at least `size_of::<T>()` bytes that nobody
    // else has the address of, aligned for T: objects up to 2 KiB are aligned
    // to their power-of-two slab size, which is at least T's size and so a
    // multiple of its (power-of-two) alignment; larger ones to a page.
    unsafe {
        p.write(value);
        Some(&mut *p)
    }
}

/// Drops and frees an object from [`alloc_obj`], clearing its magic first.
///
/// # Safety
/// `p` came from [`alloc_obj`] and nobody uses it any more.
pub unsafe fn free_obj<T>(p: *mut T) {
    // SAFETY: by the contract, `p` is a live T that nobody else uses.
    unsafe {
        core::ptr::drop_in_place(p);
        if size_of::<T>() >= 8 {
            (p as *mut u64).write_volatile(0);
        }
    }
    if let Err(e) = free(p as u64) {
        rt::error!("ddekit: freeing an internal object at {:p} failed: {:?}", p, e);
    }
}

// ---------------------------------------------------------------------------
// C ABI
// ---------------------------------------------------------------------------

fn report_free(func: &str, p: *mut c_void, e: FreeError) {
    match e {
        FreeError::Unknown => misuse!("{}({:p}): not memory of the memory group; ignored", func, p),
        FreeError::NotAllocated => misuse!("{}({:p}): not allocated (double free?); ignored", func, p),
        FreeError::Interior => misuse!("{}({:p}): points inside an allocation; ignored", func, p),
    }
}

/// DMA-able memory for a small object; NULL when exhausted.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_simple_malloc(size: usize) -> *mut c_void {
    match alloc(size) {
        Some(a) => a as *mut c_void,
        None => {
            misuse!("ddekit_simple_malloc({}): out of memory", size);
            core::ptr::null_mut()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_simple_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    if let Err(e) = free(p as u64) {
        report_free("ddekit_simple_free", p, e);
    }
}

/// Page-aligned DMA-able memory.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_large_malloc(size: usize) -> *mut c_void {
    let pages = (size as u64).div_ceil(PAGE).max(1) as usize;
    match alloc_pages(pages, &Constraints::ANY) {
        Some(a) => a as *mut c_void,
        None => {
            misuse!("ddekit_large_malloc({}): out of memory", size);
            core::ptr::null_mut()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_large_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    if let Err(e) = free(p as u64) {
        report_free("ddekit_large_free", p, e);
    }
}

/// Physically contiguous memory whose physical placement satisfies `low`,
/// `high` (highest last byte; 0: none), `align` and `boundary`.
#[unsafe(no_mangle)]
pub extern "C" fn ddekit_contig_malloc(size: usize, low: u64, high: u64, align: usize, boundary: usize) -> *mut c_void {
    let Some(c) = Constraints::from_c(size as u64, low, high, align as u64, boundary as u64) else {
        misuse!(
            "ddekit_contig_malloc(size {:#x}, low {:#x}, high {:#x}, align {:#x}, boundary {:#x}): impossible",
            size,
            low,
            high,
            align,
            boundary
        );
        return core::ptr::null_mut();
    };
    let pages = (size as u64).div_ceil(PAGE) as usize;
    match alloc_pages(pages, &c) {
        Some(a) => a as *mut c_void,
        None => {
            misuse!("ddekit_contig_malloc({:#x} bytes, {:?}): no memory that fits", size, c);
            core::ptr::null_mut()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_contig_free(p: *mut c_void, size: usize) {
    if p.is_null() {
        return;
    }
    match free(p as u64) {
        Ok(freed) if freed < size as u64 => {
            misuse!("ddekit_contig_free({:p}, {:#x}): the allocation had only {:#x} bytes", p, size, freed)
        }
        Ok(_) => {}
        Err(e) => report_free("ddekit_contig_free", p, e),
    }
}

// ---------------------------------------------------------------------------
// Slabs
// ---------------------------------------------------------------------------

const SLAB_MAGIC: u64 = 0x6464_656b_736c_6162;

/// A slab cache (`struct ddekit_slab`): objects of one size from the pool
/// (pool slabs are contiguous and DMA-able, so `contiguous` changes nothing).
#[repr(C)]
pub struct DdekitSlab {
    magic: u64,
    size: usize,
    live: AtomicUsize,
}

// SAFETY: `repr(C)` with the magic first.
unsafe impl Object for DdekitSlab {
    const MAGIC: u64 = SLAB_MAGIC;
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_slab_init(size: usize, _contiguous: c_int) -> *mut DdekitSlab {
    if size == 0 {
        misuse!("ddekit_slab_init: objects of 0 bytes");
        return core::ptr::null_mut();
    }
    match alloc_obj(DdekitSlab { magic: SLAB_MAGIC, size, live: AtomicUsize::new(0) }) {
        Some(s) => s,
        None => core::ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_slab_alloc(slab: *mut DdekitSlab) -> *mut c_void {
    let Some(s) = object(slab) else {
        misuse!("ddekit_slab_alloc: unknown slab {:p}", slab);
        return core::ptr::null_mut();
    };
    match alloc(s.size) {
        Some(a) => {
            s.live.fetch_add(1, Ordering::Relaxed);
            a as *mut c_void
        }
        None => core::ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_slab_free(slab: *mut DdekitSlab, obj: *mut c_void) {
    let Some(s) = object(slab) else {
        misuse!("ddekit_slab_free: unknown slab {:p}", slab);
        return;
    };
    if obj.is_null() {
        return;
    }
    if allocation_size(obj as u64).is_some_and(|n| n < s.size as u64) {
        misuse!("ddekit_slab_free({:p}): object is smaller than the slab's objects; ignored", obj);
        return;
    }
    match free(obj as u64) {
        Ok(_) => {
            s.live.fetch_sub(1, Ordering::Relaxed);
        }
        Err(e) => report_free("ddekit_slab_free", obj, e),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_slab_destroy(slab: *mut DdekitSlab) {
    let Some(s) = object(slab) else {
        misuse!("ddekit_slab_destroy: unknown slab {:p}", slab);
        return;
    };
    let live = s.live.load(Ordering::Relaxed);
    if live != 0 {
        misuse!("ddekit_slab_destroy: {} objects still allocated; they stay valid", live);
    }
    // SAFETY: a live slab from `alloc_obj` (checked); destroying it is the
    // caller's statement that nobody uses it any more.
    unsafe { free_obj(s as *const DdekitSlab as *mut DdekitSlab) };
}

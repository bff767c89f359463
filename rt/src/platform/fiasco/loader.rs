//! Creating a task from an ELF image on Fiasco.OC, and being its pager: the
//! loader the reincarnation server uses to start its drivers itself.
//!
//! [`spawn`] creates the task through this task's factory (with a UTCB area),
//! copies the image's segments into dataspaces this task owns (or takes
//! them from a [`prepare`] done ahead) and maps them into the child
//! (`l4_task_map`), with the stack that holds the entry
//! stack L4Re's start-up expects (argc, argv, envp, the aux vector with an
//! `l4re_env_t`), the KIP, and the child's capabilities in the slots an L4Re
//! application finds them in (task 1, factory 2, thread 3, log 5, scheduler
//! 7, region manager 0x10, mem_alloc 0x11, parent 0x13, the grants by name
//! from 0x20). Its first thread's pager and exception handler is a gate the
//! caller gives ([`Spawn::pager`]), and the child's region manager and
//! parent are that gate too: so every page fault, exception, `Rm::attach` or
//! `detach` and the exit of the child arrive at the caller as IPC through it,
//! and [`Child::serve`] answers or names them.
//!
//! The child's own threads (`rt::thread::spawn` in the child) take its region
//! manager as pager and exception handler, so they are paged by the caller
//! as well: one pager for the whole task, outside it. A region the child
//! attaches is mapped into the caller first (eagerly, with the cache
//! attributes the child asked for) and then into the child, whole, so the
//! child never faults on memory it was given; a fault that reaches the pager
//! is a fault of the child's code.

use crate::ipc::{self, set_receive_slot};
use crate::mem;
use crate::obj::{Factory, Gate, Task, Thread, release};
use alloc::vec::Vec;
use l4_sys::fiasco::env::{CapEntry, Env};
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::task::{self as t, Exception, PageFault, RmRequest};
use l4_sys::fiasco::{Cap, item, msg, proto};
use l4_sys::layout::PAGE_SIZE;
use l4_sys::{CapIdx, Error, MsgTag};

pub struct Spawn<'a> {
    /// The child's name (its `argv[0]`).
    pub name: &'a str,
    pub image: &'a [u8],
    /// Priority of the first thread (Resurgo's scale, as `rt::thread::spawn`).
    pub priority: u8,
    pub stack: u64,
    /// The child's heap (its `heap.size` argument); 0: the runtime's default.
    pub heap: u64,
    pub grants: &'a [Grant<'a>],
    /// Passed as `NAME=VALUE` arguments (read by `rt::env::value`).
    pub values: &'a [(&'a str, u64)],
    /// The child's log; this task's when `None`.
    pub log: Option<CapIdx>,
    /// The gate through which the child's faults, exceptions, region-manager
    /// calls and exit reach this task.
    pub pager: Gate,
    /// The allocator the child takes its memory from ([`allocator`]): one
    /// for all of a child's instances, made by the caller.
    pub mem_alloc: CapIdx,
    /// What the child may have (its manifest's `memory` and `threads`),
    /// which bound the kernel memory its own factory may spend.
    pub memory: u64,
    pub threads: u32,
}

/// An allocator of moe's for a child, bounded by `limit` bytes, made from
/// this task's (moe's root allocator, for a task ned started), for all of
/// the child's instances. Not one per instance: moe deletes every
/// dataspace an allocator made when the allocator goes, and others may
/// still map a dead instance's (netd maps a MINIX-style instance's rings
/// until the next instance announces its own); a dataspace that no one
/// holds any more goes back to it on its own (moe's deletion IRQ). It is
/// not moe's root, so it makes no scheduler.
pub fn allocator(limit: u64) -> Result<CapIdx, Error> {
    crate::obj::create(Cap(super::l4re_env().mem_alloc), |m| msg::factory_create_factory(m, limit.max(1)))
}

pub use crate::load::{Grant, LoadError};

/// The child's capability slots (those of an L4Re application).
mod slot {
    pub const TASK: u64 = 1;
    pub const FACTORY: u64 = 2;
    pub const THREAD: u64 = 3;
    pub const LOG: u64 = 5;
    pub const SCHEDULER: u64 = 7;
    pub const RM: u64 = 0x10;
    pub const MEM_ALLOC: u64 = 0x11;
    pub const PARENT: u64 = 0x13;
    pub const FIRST_GRANT: u64 = 0x20;
    /// Most grants.
    pub const GRANTS: u64 = 0x20;
}

/// The child's UTCB area: 16 KiB (16 threads; the child's runtime adds
/// kernel-user memory when it needs more).
const UTCB_AREA: u64 = 0xb300_0000;
const UTCB_ORDER: u32 = 14;
/// Where regions the child attaches anywhere start, and where they must end.
const REGIONS_START: u64 = 0x1000_0000;
const REGIONS_END: u64 = 0xb000_0000;
/// The largest flexpage mapped at once (2 MiB, a superpage).
const MAX_ORDER: u32 = 21;

/// A region of the child: `[child, child + size)` is `[local, local + size)`
/// of this task (and `ds`, which this task holds for as long).
struct Region {
    child: u64,
    size: u64,
    local: u64,
    ds: Option<CapIdx>,
    /// Where in `ds` the region starts.
    offset: u64,
    /// A segment of the image's text, copied here and mapped writable in
    /// this task (what [`Child::poke`] may patch).
    text: bool,
    /// Mapped into the child as it touches it ([`Child::resolve`]), with
    /// these region-manager flags; `None`: mapped whole when attached.
    lazy: Option<u32>,
    /// Whether its dataspace maps in superpages (a lazy region's faults
    /// then map 2 MiB each); `None` until a fault has tried.
    superpages: Option<bool>,
}

impl Region {
    /// For a fault at `addr` (in the child) in a region whose dataspace
    /// maps in superpages: maps the 2 MiB around it here and returns its
    /// offset in the region, to be mapped on whole. The first fault tries;
    /// a dataspace that maps less is remembered and faulted in blocks.
    fn superpage(&mut self, addr: u64, flags: u32) -> Option<u64> {
        let big = 1u64 << MAX_ORDER;
        let ds = self.ds?;
        let start = (addr & !(big - 1)).checked_sub(self.child)?;
        let fits = self.local % big == self.child % big && start + big <= self.size;
        if self.superpages == Some(false) || !fits || flags & l4_sys::fiasco::vbus::RM_UNCACHED != 0 {
            return None;
        }
        let got = map_piece(ds, self.offset + start, self.local + start, MAX_ORDER, flags);
        self.superpages = Some(got == Some(MAX_ORDER));
        (got == Some(MAX_ORDER)).then_some(start)
    }

    /// Detaches it here and releases its dataspace.
    fn release(self) {
        detach_here(self.local, self.size);
        if let Some(ds) = self.ds {
            release(ds);
        }
    }
}

/// A started child, with the memory this task maps into it.
pub struct Child {
    pub task: Task,
    pub thread: Thread,
    regions: Vec<Region>,
    /// The next free address for regions placed anywhere.
    next: u64,
    /// Whether [`Child::stop`] has deleted its threads.
    stopped: bool,
    /// The threads the child told of ([`proto::RESURGO_THREAD`]), besides
    /// its first: this task's capabilities to them.
    threads: Vec<CapIdx>,
    /// The factory and scheduler made for this instance alone
    /// ([`OwnObjects`]); released after its task.
    own: Vec<CapIdx>,
}

/// The authority a child gets of its own in place of this task's. With
/// this task's factory, memory allocator and scheduler, a driver could make
/// kernel objects and take memory until the system had none left, and run
/// its threads at any priority, this task's and above (ned's allocator is
/// moe's root, which makes schedulers of any range). Each instance gets
/// instead: a factory of the kernel's with a quota from its `threads` and
/// `memory` ([`l4_sys::fiasco::limits::kernel_quota`]) and a scheduler
/// proxy of moe's whose priorities end at the level of the child's own
/// first thread; its memory comes from [`Spawn::mem_alloc`].
struct OwnObjects {
    factory: CapIdx,
    scheduler: CapIdx,
}

impl OwnObjects {
    fn make(s: &Spawn, own: &mut Vec<CapIdx>) -> Result<OwnObjects, LoadError> {
        let env = super::l4re_env();
        let kernel = l4_sys::fiasco::limits::kernel_quota(s.threads, s.memory);
        let factory = crate::obj::create(Cap(env.factory), |m| msg::factory_create_factory(m, kernel))
            .map_err(|e| LoadError::OwnObject("factory", e))?;
        own.push(factory);
        let top = super::thread::fiasco_prio(s.priority);
        let scheduler = crate::obj::create(Cap(env.mem_alloc), |m| msg::factory_create_scheduler(m, top, 0))
            .map_err(|e| LoadError::OwnObject("scheduler", e))?;
        own.push(scheduler);
        Ok(OwnObjects { factory, scheduler })
    }
}

/// The most threads a child may tell of; it is refused the next.
pub const MAX_ANNOUNCED_THREADS: usize = 32;

/// What a message from a child through its pager gate was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Answer it with this tag (a region-manager request, served).
    Reply(MsgTag),
    /// A page fault the child was given no memory for: the thread waits.
    PageFault(PageFault),
    /// An exception: the thread waits.
    Exception(Exception),
    /// The child ended with this code (`Parent::signal`).
    Exit(u64),
    /// A message of no protocol the pager speaks (its label).
    Unknown(i64),
}

/// The receive slot for a capability a child sends with a message (the
/// dataspace of an `Rm::attach`), set before every wait ([`arm`]).
static PENDING: crate::sync::Mutex<Option<CapIdx>> = crate::sync::Mutex::new(None);

/// Gives the calling thread's next receive a slot for one capability. A
/// server that pages children calls it before each wait.
pub fn arm() {
    let mut p = PENDING.lock();
    if p.is_none() {
        *p = crate::cap::alloc();
    }
    match *p {
        Some(slot) => set_receive_slot(slot),
        None => crate::ipc::clear_receive_slots(1),
    }
}

/// Takes the slot a capability was received into; the next [`arm`] sets a new one.
fn take_received() -> Option<CapIdx> {
    PENDING.lock().take()
}

fn own() -> Cap {
    super::TASK
}

/// Maps `[local, local + size)` of this task into `task` at `child` with `rights`.
fn map_memory(task: Cap, local: u64, child: u64, size: u64, rights: u64) -> Result<(), Error> {
    for (s, d, order) in t::chunks(local, child, size, MAX_ORDER) {
        call(
            task,
            ipc::compose(|m| {
                t::task_map(m, own(), msg::mem_fpage(s, order, rights), t::map_control(d, t::CACHE_AS_SENDER))
            }),
        )?;
    }
    Ok(())
}

/// Maps this task's capability `cap` into `task`'s slot `to` with `rights`
/// and the object's own rights this task has (a served gate's server right).
fn map_cap(task: Cap, cap: Cap, to: u64, rights: u64) -> Result<(), Error> {
    let base = ((to << 12) & !0xfff) | t::OBJ_RIGHTS | item::MAP;
    call(task, ipc::compose(|m| t::task_map(m, own(), item::obj_fpage(cap, rights), base))).map(|_| ())
}

/// How much of a lazily mapped region one fault maps (64 KiB, naturally
/// aligned in the region).
const LAZY_BLOCK: u64 = 16 * PAGE_SIZE;

/// Attaches `size` bytes of `ds` from `offset` here, every page present
/// (so that it can be mapped on), with `flags`' rights and cache attributes.
fn attach_here(ds: CapIdx, size: u64, offset: u64, flags: u32) -> Result<u64, Error> {
    let local = attach_absent(ds, size, offset, flags)?;
    present(ds, offset, local, size, flags);
    Ok(local)
}

/// Makes `[local, local + size)`, where `size` bytes of `ds` from `offset`
/// are attached here with `flags`, present: through the dataspace's own
/// `map`, in as few flexpages as its memory allows (one call per piece, up
/// to 2 MiB, where touching takes a page fault per page), or by touching
/// what it did not map (device memory, a dataspace that does not answer).
fn present(ds: CapIdx, offset: u64, local: u64, size: u64, flags: u32) {
    let mapped =
        if flags & l4_sys::fiasco::vbus::RM_UNCACHED != 0 { 0 } else { map_here(ds, offset, local, size, flags) };
    if mapped < size {
        touch(local + mapped, size - mapped, flags);
    }
}

/// Has `ds` map `[offset, offset + size)` at `local` here, each piece the
/// largest naturally aligned block that fits; returns how many bytes from
/// the start it mapped before it stopped (at the first refusal).
fn map_here(ds: CapIdx, offset: u64, local: u64, size: u64, flags: u32) -> u64 {
    let end = local + size;
    let mut at = local;
    while at < end {
        let mut order = at.trailing_zeros().min(MAX_ORDER);
        while order > 12 && at + (1 << order) > end {
            order -= 1;
        }
        let Some(got) = map_piece(ds, offset + (at - local), at, order, flags) else { break };
        at += 1 << got;
    }
    at - local
}

/// One `Dataspace::map` of `ds` at `offset` into the window of `1 << order`
/// bytes at `at` here (naturally aligned): the order of what it mapped, from
/// the window's start, or `None` when it mapped nothing.
fn map_piece(ds: CapIdx, offset: u64, at: u64, order: u32, flags: u32) -> Option<u32> {
    let rights = (flags & (msg::RM_R | msg::RM_W | msg::RM_X)) as u64;
    ipc::set_receive_items(&msg::rcv_mem_window(at, order));
    let answer = call(Cap::from_idx(ds), ipc::compose(|m| msg::ds_map(m, offset, 0, rights)));
    ipc::clear_receive_slots(2);
    let tag = answer.ok().filter(|t| t.items() > 0)?;
    // The received map item follows the answer's untyped words; its first
    // word says the order the kernel mapped.
    let item = *crate::regs::mrs::<8>().get(tag.words())?;
    Some(msg::received_order(item).clamp(12, order))
}

/// Attaches `size` bytes of `ds` from `offset` here, with `flags`' rights
/// and cache attributes, nothing present yet ([`touch`] makes it so).
fn attach_absent(ds: CapIdx, size: u64, offset: u64, flags: u32) -> Result<u64, Error> {
    let keep = msg::RM_R | msg::RM_W | msg::RM_X | l4_sys::fiasco::vbus::RM_UNCACHED;
    let flags = (flags & keep) | msg::RM_SEARCH_ADDR | msg::RM_EAGER_MAP;
    let align = if size >= 1 << MAX_ORDER { MAX_ORDER as u8 } else { 12 };
    let rm = Cap(super::l4re_env().rm);
    let reply = call(rm, ipc::compose(|m| msg::rm_attach(m, 0, size, flags, Cap::from_idx(ds), offset, align)))?;
    super::mem::region_at(reply, size)
}

/// Makes the pages of `[local, local + size)`, attached here with `flags`,
/// present, so that they can be mapped on.
fn touch(local: u64, size: u64, flags: u32) {
    // The region manager here maps on faults only (an eager attach left the
    // pages absent): each page is touched, so that it is present before it
    // is mapped on. A writable page is touched by an atomic `or` of 0, which
    // changes nothing even while another task writes the page (netd's
    // rings); device memory (uncached) by a read.
    let writable = flags & msg::RM_W != 0 && flags & l4_sys::fiasco::vbus::RM_UNCACHED == 0;
    for page in (local..local + size).step_by(PAGE_SIZE as usize) {
        if writable {
            // SAFETY: `page` lies in the writable mapping just attached; a
            // locked `or` of 0 writes the byte as it is, atomically. (Written
            // out, because the compiler turns an atomic add of 0 into a load,
            // and a read fault leaves the page read-only here.)
            unsafe { core::arch::asm!("lock or byte ptr [{0}], 0", in(reg) page, options(nostack)) };
        } else {
            // SAFETY: `page` lies in the readable mapping just attached.
            let _ = unsafe { core::ptr::read_volatile(page as *const u8) };
        }
    }
}

fn detach_here(local: u64, size: u64) {
    let _ = super::mem::detach(local, size);
}

/// Memory rights of a region-manager flag word.
fn rights_of(flags: u32) -> u64 {
    let mut r = 0;
    if flags & msg::RM_R != 0 {
        r |= t::FPAGE_R;
    }
    if flags & msg::RM_W != 0 {
        r |= t::FPAGE_W;
    }
    if flags & msg::RM_X != 0 {
        r |= t::FPAGE_X;
    }
    r
}

impl Child {
    /// A free range of `size` bytes in the child at the alignment of
    /// `local` (up to 2 MiB), so that large pages map it.
    fn place(&mut self, size: u64, align: u64, local: u64) -> Result<u64, Error> {
        let big = 1u64 << MAX_ORDER;
        let base = self.next.checked_next_multiple_of(align.max(big)).ok_or(Error::OutOfMemory)?;
        let at = base + (local % big) - (local % big) % align.min(big);
        let end = at.checked_add(size).ok_or(Error::OutOfMemory)?;
        if end > REGIONS_END {
            return Err(Error::OutOfMemory);
        }
        self.next = end.next_multiple_of(PAGE_SIZE);
        Ok(at)
    }

    /// Puts a dataspace of this task into the child: attached here, mapped there.
    fn add(
        &mut self,
        ds: Option<CapIdx>,
        child: Option<u64>,
        size: u64,
        offset: u64,
        flags: u32,
        align: u64,
    ) -> Result<u64, Error> {
        let size = size.next_multiple_of(PAGE_SIZE);
        let Some(ds_cap) = ds else {
            // Kernel-user memory: a range of the child's space, nothing mapped.
            return match child {
                Some(a) => Ok(a),
                None => self.place(size, align, 0),
            };
        };
        // What the child asks to have mapped at once (`RM_EAGER_MAP`: its DMA
        // memory) is; the rest (its heap, a ring) as it touches it.
        let eager = flags & msg::RM_EAGER_MAP != 0;
        let local =
            if eager { attach_here(ds_cap, size, offset, flags)? } else { attach_absent(ds_cap, size, offset, flags)? };
        let at = match child {
            Some(a) => Ok(a),
            None => self.place(size, align, local),
        };
        let mapped = at.and_then(|at| {
            if eager {
                map_memory(Cap::from_idx(self.task.0), local, at, size, rights_of(flags))?;
            }
            Ok(at)
        });
        match mapped {
            Ok(at) => {
                let lazy = (!eager).then_some(flags);
                self.regions.push(Region { child: at, size, local, ds, offset, text: false, lazy, superpages: None });
                Ok(at)
            }
            Err(e) => {
                detach_here(local, size);
                Err(e)
            }
        }
    }

    /// Maps the block of a lazily mapped region that `pf` touched into the
    /// child, when the region allows the access: [`LAZY_BLOCK`] bytes
    /// around it (one page of device memory, whose reads may have effects).
    /// Whether it did; a fault it does not resolve is the child's.
    fn resolve(&mut self, pf: PageFault) -> bool {
        let task = Cap::from_idx(self.task.0);
        let Some(r) = self.regions.iter_mut().find(|r| pf.addr >= r.child && pf.addr - r.child < r.size) else {
            return false;
        };
        let Some(flags) = r.lazy else { return false };
        if pf.write && flags & msg::RM_W == 0 {
            return false;
        }
        if let Some(mapped) = r.superpage(pf.addr, flags) {
            return map_memory(task, r.local + mapped, r.child + mapped, 1 << MAX_ORDER, rights_of(flags)).is_ok();
        }
        let block = if flags & l4_sys::fiasco::vbus::RM_UNCACHED != 0 { PAGE_SIZE } else { LAZY_BLOCK };
        let start = (pf.addr - r.child) & !(block - 1);
        let len = block.min(r.size - start);
        match r.ds {
            Some(ds) => present(ds, r.offset + start, r.local + start, len, flags),
            None => touch(r.local + start, len, flags),
        }
        map_memory(task, r.local + start, r.child + start, len, rights_of(flags)).is_ok()
    }

    fn remove(&mut self, addr: u64) -> Result<(u64, u64), Error> {
        let i = self
            .regions
            .iter()
            .position(|r| addr >= r.child && addr < r.child + r.size)
            .ok_or(Error::InvalidArgument)?;
        let r = self.regions.swap_remove(i);
        for (_, d, order) in t::chunks(r.local, r.child, r.size, MAX_ORDER) {
            let fp = msg::mem_fpage(d, order, t::FPAGE_R | t::FPAGE_W | t::FPAGE_X);
            let _ = call(Cap::from_idx(self.task.0), ipc::compose(|m| t::task_unmap(m, fp, t::UNMAP_ALL_SPACES)));
        }
        let range = (r.child, r.size);
        r.release();
        Ok(range)
    }

    /// Where the child's first thread is: its instruction and stack pointer
    /// (`l4_thread_ex_regs` that changes nothing answers them).
    pub fn first_thread_at(&self) -> Option<(u64, u64)> {
        Child::thread_at(self.thread)
    }

    /// Patches the child's text (software-implemented fault injection, as
    /// `Task::poke` on Resurgo's kernel): writes `bytes` at `addr` through
    /// this task's own mapping of the image's text segment, which the child
    /// runs from, and returns the bytes they replaced. The range must lie
    /// within one text segment.
    pub fn poke(&self, addr: u64, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        if bytes.is_empty() {
            return Err(Error::InvalidArgument);
        }
        let end = addr.checked_add(bytes.len() as u64).ok_or(Error::InvalidArgument)?;
        let r =
            self.regions.iter().find(|r| r.text && addr >= r.child && end <= r.child + r.size).ok_or(Error::Denied)?;
        let at = (r.local + (addr - r.child)) as *mut u8;
        let mut old = alloc::vec![0u8; bytes.len()];
        // SAFETY: `[at, at + len)` lies within this task's writable mapping
        // of the child's text segment (`fresh`, kept for the child's life);
        // volatile, as the child may run the bytes meanwhile.
        unsafe {
            for (i, (o, b)) in old.iter_mut().zip(bytes).enumerate() {
                *o = core::ptr::read_volatile(at.add(i));
                core::ptr::write_volatile(at.add(i), *b);
            }
        }
        Ok(old)
    }

    /// Whether `addr` lies in memory the child was given.
    pub fn maps(&self, addr: u64) -> bool {
        self.regions.iter().any(|r| addr >= r.child && addr < r.child + r.size)
    }

    /// A message that arrived through the child's pager gate with `tag` (its
    /// words in the message registers): a region-manager request is served
    /// and answered, anything else is named for the supervisor.
    pub fn serve(&mut self, tag: MsgTag) -> Event {
        // A copy: serving an attach makes calls of its own.
        let request = ipc::received(tag.words() + 2 * tag.items());
        let m = request.padded();
        match tag.label() {
            proto::RM => {
                let received = if tag.items() > 0 { take_received() } else { None };
                let Some(req) = RmRequest::decode(&m[..], tag.words(), tag.items()) else {
                    return Event::Reply(MsgTag::new(l4_sys::fiasco::error::to_label(Error::InvalidArgument), 0, 0));
                };
                let answer = match req {
                    RmRequest::Attach { addr, size, flags, offset, align, with_ds } => {
                        let search = flags & msg::RM_SEARCH_ADDR != 0;
                        let ds = if with_ds { received } else { None };
                        if with_ds && ds.is_none() {
                            Err(Error::InvalidArgument)
                        } else {
                            let r = self.add(
                                ds,
                                (!search).then_some(addr),
                                size,
                                offset,
                                flags,
                                1u64 << align.clamp(12, 30),
                            );
                            if r.is_err()
                                && let Some(ds) = ds
                            {
                                release(ds);
                            }
                            r.map(|at| {
                                ipc::set_mr::<0>(at);
                                MsgTag::new(0, 1, 0)
                            })
                        }
                    }
                    RmRequest::Detach { addr, .. } => {
                        self.remove(addr).map(|(start, size)| ipc::compose(|m| msg::rm_detach_answer(m, start, size)))
                    }
                    RmRequest::Other(_) => Err(Error::BadOpcode),
                };
                match answer {
                    Ok(reply) => Event::Reply(reply),
                    Err(e) => Event::Reply(MsgTag::new(l4_sys::fiasco::error::to_label(e), 0, 0)),
                }
            }
            proto::RESURGO_THREAD => {
                let received = if tag.items() > 0 { take_received() } else { None };
                let answer = match received {
                    None => Err(Error::InvalidArgument),
                    Some(c) if self.threads.len() >= MAX_ANNOUNCED_THREADS => {
                        release(c);
                        Err(Error::QuotaExceeded)
                    }
                    Some(c) => {
                        self.threads.push(c);
                        Ok(())
                    }
                };
                Event::Reply(match answer {
                    Ok(()) => MsgTag::new(0, 0, 0),
                    Err(e) => MsgTag::new(l4_sys::fiasco::error::to_label(e), 0, 0),
                })
            }
            proto::PARENT if tag.words() >= 3 => Event::Exit(m[2]),
            proto::PAGE_FAULT if tag.words() >= 2 => {
                let pf = PageFault::decode(&m[..]);
                if self.resolve(pf) {
                    // Mapped: the thread retries the access.
                    Event::Reply(MsgTag::new(0, 0, 0))
                } else {
                    Event::PageFault(pf)
                }
            }
            proto::EXCEPTION if tag.words() >= Exception::WORDS => Event::Exception(Exception::decode(&m[..])),
            l => Event::Unknown(l),
        }
    }

    /// Stops the child: deletes the objects it holds with D (the threads
    /// it made, its IRQs and gates) and its first thread, so that none of
    /// its code runs any more, while its address space and memory stay: a
    /// device can still be quiesced while the DMA memory it may be writing
    /// is mapped, and no frame of the dead instance's goes to a device
    /// being stopped. Idempotent; [`Child::destroy`] stops first.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // The task's own objects first, so that no thread of it is still
        // running when its pager's slot goes (it would fault with no pager
        // left): the slots its runtime allocates from, then the rest. What
        // it was granted it holds without D: only its entries go.
        let child = Cap::from_idx(self.task.0);
        let first = slot::FIRST_GRANT + slot::GRANTS;
        let mut at = first;
        while at < first + crate::cap::SLOTS as u64 {
            // The largest naturally aligned block from `at`.
            let order = at.trailing_zeros() as u64;
            let fp = item::obj_fpage_order(Cap::from_index(at), order, item::CAP_RWSD);
            let _ = call(child, ipc::compose(|m| t::task_unmap(m, fp, t::UNMAP_DELETE_OBJ)));
            at += 1 << order;
        }
        // Its first thread is this task's object: deleted here, before the
        // slots it faults through go.
        delete_own(self.thread.0);
        // The others went with its slots; these are only names of them.
        for c in self.threads.drain(..) {
            release(c);
        }
    }

    /// The child's threads this task can watch: its first and those it told
    /// of, while it runs.
    pub fn threads(&self) -> impl Iterator<Item = Thread> + '_ {
        let (first, others) = if self.stopped { (None, &[][..]) } else { (Some(self.thread), &self.threads[..]) };
        first.into_iter().chain(others.iter().map(|&c| Thread(c)))
    }

    /// Where thread `t` of the child is: its instruction and stack pointer
    /// (without waiting: see [`Thread::consumed_us`]).
    pub fn thread_at(t: Thread) -> Option<(u64, u64)> {
        let ask = ipc::compose(|m| msg::thread_ex_regs(m, !0, !0, 0));
        l4_sys::fiasco::syscall::call_at_once(Cap::from_idx(t.0), ask).ok()?;
        Some((ipc::mr::<1>(), ipc::mr::<2>()))
    }

    /// Destroys the child: stops it, then its task (with the D right, so it
    /// goes even though others were mapped from it) and the memory this
    /// task mapped into it.
    pub fn destroy(mut self) {
        self.stop();
        let child = Cap::from_idx(self.task.0);
        let unmap = |fpage| call(child, ipc::compose(|m| t::task_unmap(m, fpage, t::UNMAP_DELETE_OBJ)));
        let _ = unmap(item::all_objects(item::CAP_RWSD));
        delete_own(self.task.0);
        for r in self.regions.drain(..) {
            r.release();
        }
        for c in self.own.drain(..) {
            release(c);
        }
    }
}

/// Deletes an object this task holds with D, and frees its slot.
fn delete_own(c: CapIdx) {
    let fp = item::obj_fpage(Cap::from_idx(c), item::CAP_RWSD);
    let _ = call(own(), ipc::compose(|m| t::task_unmap(m, fp, t::UNMAP_DELETE_OBJ)));
    crate::cap::free(c);
}

/// Zeroed memory of this task for the child: a dataspace attached here
/// writable, every page present.
fn fresh(size: u64) -> Result<(CapIdx, u64), Error> {
    let ds = mem::alloc_dataspace(size, false)?;
    match attach_here(ds.0, size, 0, msg::RM_R | msg::RM_W | msg::RM_X) {
        Ok(local) => Ok((ds.0, local)),
        Err(e) => {
            release(ds.0);
            Err(e)
        }
    }
}

/// Creates, loads and starts a task. On failure nothing is left behind.
pub fn spawn(s: &Spawn) -> Result<Child, LoadError> {
    spawn_prepared(s, prepare(s.image)?)
}

/// An image's loadable segments, copied into dataspaces of this task ahead
/// of a [`spawn_prepared`]: the copying, most of what creating a child
/// costs, done while nothing waits for it. Dropping it releases them.
pub struct Prepared {
    /// The image it was made from (its address and length).
    image: (usize, usize),
    /// Each segment, with the region-manager rights it is mapped with.
    segments: Vec<(Region, u32)>,
}

impl Prepared {
    /// Whether it holds the segments of `image`.
    pub fn is_of(&self, image: &[u8]) -> bool {
        self.image == (image.as_ptr() as usize, image.len())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        for (r, _) in self.segments.drain(..) {
            r.release();
        }
    }
}

/// Copies the loadable segments of `image` into fresh dataspaces of this
/// task, each at its page-aligned child address, with its rights.
pub fn prepare(image: &[u8]) -> Result<Prepared, LoadError> {
    use elf::endian::LittleEndian;
    let file = elf::ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|_| LoadError::NotElf)?;
    let segments = file.segments().ok_or(LoadError::NotElf)?;
    // Released by its drop if a later segment fails.
    let mut prepared = Prepared { image: (image.as_ptr() as usize, image.len()), segments: Vec::new() };
    for ph in segments.iter().filter(|p| p.p_type == elf::abi::PT_LOAD && p.p_memsz > 0) {
        let start = ph.p_vaddr & !(PAGE_SIZE - 1);
        let end = ph.p_vaddr.checked_add(ph.p_memsz).ok_or(LoadError::BadSegment)?.next_multiple_of(PAGE_SIZE);
        if start < PAGE_SIZE || end > REGIONS_START {
            return Err(LoadError::BadSegment);
        }
        let file_end = ph.p_offset.checked_add(ph.p_filesz).ok_or(LoadError::BadSegment)?;
        let data = image.get(ph.p_offset as usize..file_end as usize).ok_or(LoadError::BadSegment)?;
        if (ph.p_vaddr - start).checked_add(ph.p_filesz).is_none_or(|n| n > end - start) {
            return Err(LoadError::BadSegment);
        }
        let mut flags = msg::RM_R;
        if ph.p_flags & elf::abi::PF_W != 0 {
            flags |= msg::RM_W;
        }
        if ph.p_flags & elf::abi::PF_X != 0 {
            flags |= msg::RM_X;
        }
        let size = end - start;
        let (ds, local) = fresh(size)?;
        let at = (ph.p_vaddr - start) as usize;
        // SAFETY: `local` is a fresh writable mapping of `size` bytes of `ds`,
        // which nothing else uses yet; the segment lies within it (checked above).
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), (local as *mut u8).add(at), data.len());
        }
        let text = ph.p_flags & elf::abi::PF_X != 0;
        prepared.segments.push((
            Region { child: start, size, local, ds: Some(ds), offset: 0, text, lazy: None, superpages: None },
            flags,
        ));
    }
    Ok(prepared)
}

/// [`spawn`], with the image's segments copied already (`prepared`, which
/// must be of `s.image`: else they are copied again).
pub fn spawn_prepared(s: &Spawn, prepared: Prepared) -> Result<Child, LoadError> {
    let prepared = if prepared.is_of(s.image) { prepared } else { prepare(s.image)? };
    let slot = crate::cap::alloc().ok_or(Error::QuotaExceeded)?;
    set_receive_slot(slot);
    let factory = Cap(super::l4re_env().factory);
    if let Err(e) = call(factory, ipc::compose(|m| t::factory_create_task(m, msg::mem_fpage(UTCB_AREA, UTCB_ORDER, 0))))
    {
        crate::cap::free(slot);
        return Err(e.into());
    }
    let task = Task(slot);
    let thread = match Factory::own().create_thread_cap() {
        Ok(th) => th,
        Err(e) => {
            let fp = item::obj_fpage(Cap::from_idx(slot), item::CAP_RWSD);
            let _ = call(own(), ipc::compose(|m| t::task_unmap(m, fp, t::UNMAP_DELETE_OBJ)));
            crate::cap::free(slot);
            return Err(e.into());
        }
    };
    let mut child = Child {
        task,
        thread,
        regions: Vec::new(),
        next: REGIONS_START,
        stopped: false,
        threads: Vec::new(),
        own: Vec::new(),
    };
    match populate(&mut child, s, prepared) {
        Ok(()) => Ok(child),
        Err(e) => {
            child.destroy();
            Err(e)
        }
    }
}

/// The bytes of the start page: argc, argv, envp, auxv, the environment, the
/// capability list and the strings, for a stack whose top is `top` in the child.
struct StartPage<'a> {
    buf: &'a mut [u8],
    /// Child address of `buf[0]`.
    base: u64,
    /// Strings and tables grow down from the top.
    low: usize,
}

impl StartPage<'_> {
    fn child(&self, off: usize) -> u64 {
        self.base + off as u64
    }

    /// Puts `bytes` (and a NUL) below what is there; returns its child address.
    fn push_str(&mut self, bytes: &[u8]) -> Result<u64, LoadError> {
        let n = bytes.len() + 1;
        self.low = self.low.checked_sub(n).ok_or(LoadError::TooManyGrants)?;
        self.buf[self.low..self.low + bytes.len()].copy_from_slice(bytes);
        self.buf[self.low + bytes.len()] = 0;
        Ok(self.child(self.low))
    }

    /// Reserves `n` bytes aligned to 16 below what is there; returns its offset.
    fn reserve(&mut self, n: usize) -> Result<usize, LoadError> {
        self.low = self.low.checked_sub(n).ok_or(LoadError::TooManyGrants)? & !15;
        Ok(self.low)
    }
}

fn populate(child: &mut Child, s: &Spawn, mut prepared: Prepared) -> Result<(), LoadError> {
    use elf::endian::LittleEndian;
    let task = Cap::from_idx(child.task.0);
    let file = elf::ElfBytes::<LittleEndian>::minimal_parse(s.image).map_err(|_| LoadError::NotElf)?;
    // Each segment becomes the child's as it is mapped (and is released
    // with it); those left are released when `prepared` is dropped.
    while let Some((r, flags)) = prepared.segments.pop() {
        let mapped = map_memory(task, r.local, r.child, r.size, rights_of(flags));
        child.regions.push(r);
        mapped?;
    }

    // The KIP, where this task has it (touched, so that it is mapped here),
    // executable: the kernel's clock is code in it (`l4_kip_clock`).
    let kip = super::kip();
    // SAFETY: the KIP is mapped readable in this task for its whole life.
    let _ = unsafe { core::ptr::read_volatile(kip as *const u64) };
    map_memory(task, kip & !(PAGE_SIZE - 1), kip & !(PAGE_SIZE - 1), PAGE_SIZE, t::FPAGE_R | t::FPAGE_X)?;

    // Capabilities.
    if s.grants.len() as u64 > slot::GRANTS {
        return Err(LoadError::TooManyGrants);
    }
    let env = super::l4re_env();
    let own = OwnObjects::make(s, &mut child.own)?;
    let gate = Cap::from_idx(s.pager.0);
    let rws = item::CAP_RWS;
    map_cap(task, task, slot::TASK, rws)?;
    map_cap(task, Cap::from_idx(own.factory), slot::FACTORY, rws)?;
    map_cap(task, Cap::from_idx(child.thread.0), slot::THREAD, rws)?;
    map_cap(task, s.log.map(Cap::from_idx).unwrap_or(Cap(env.log)), slot::LOG, rws)?;
    map_cap(task, Cap::from_idx(own.scheduler), slot::SCHEDULER, rws)?;
    map_cap(task, gate, slot::RM, rws)?;
    map_cap(task, Cap::from_idx(s.mem_alloc), slot::MEM_ALLOC, rws)?;
    map_cap(task, gate, slot::PARENT, rws)?;
    for (i, g) in s.grants.iter().enumerate() {
        // Never the D right: Fiasco.OC deletes the objects a task holds
        // with D when the task goes, and these (ned's gates, io's vbus)
        // must outlive every instance.
        map_cap(task, Cap::from_idx(g.cap), slot::FIRST_GRANT + i as u64, g.rights.bits() as u64 & item::CAP_RWS)?;
    }

    // The stack, with the start page at its top.
    let stack = s.stack.max(4 * PAGE_SIZE).next_multiple_of(PAGE_SIZE);
    let (ds, local) = fresh(stack)?;
    let top = child.place(stack, PAGE_SIZE, local).map_err(LoadError::Kernel)?;
    let sp = {
        // SAFETY: `local` is a fresh writable mapping of `stack` bytes, ours alone.
        let buf = unsafe { core::slice::from_raw_parts_mut(local as *mut u8, stack as usize) };
        let len = buf.len();
        let mut page = StartPage { buf, base: top, low: len };
        build_start(&mut page, s, child)?
    };
    if let Err(e) = map_memory(task, local, top, stack, t::FPAGE_R | t::FPAGE_W) {
        detach_here(local, stack);
        release(ds);
        return Err(e.into());
    }
    child.regions.push(Region {
        child: top,
        size: stack,
        local,
        ds: Some(ds),
        offset: 0,
        text: false,
        lazy: None,
        superpages: None,
    });

    // The first thread: paged by the gate, bound to the task, started.
    let th = Cap::from_idx(child.thread.0);
    let pager = Cap::from_index(slot::RM);
    call(th, ipc::compose(|m| msg::thread_control_bind(m, pager, pager, UTCB_AREA, task)))?;
    call(th, ipc::compose(|m| msg::thread_ex_regs(m, file.ehdr.e_entry, sp, 0)))?;
    let prio = super::thread::fiasco_prio(s.priority);
    call(Cap(env.scheduler), ipc::compose(|m| msg::scheduler_run_thread(m, th, prio)))?;
    Ok(())
}

/// Writes the entry stack into `page`; returns the child's stack pointer.
fn build_start(page: &mut StartPage, s: &Spawn, child: &Child) -> Result<u64, LoadError> {
    let _ = child;
    // Strings: argv[0] is the name, then NAME=VALUE for the heap and values.
    let mut argv: Vec<u64> = Vec::new();
    argv.push(page.push_str(s.name.as_bytes())?);
    let mut text = alloc::string::String::new();
    let heap = (s.heap > 0).then_some(("heap.size", s.heap));
    for (k, v) in heap.into_iter().chain(s.values.iter().copied()) {
        text.clear();
        use core::fmt::Write;
        let _ = write!(text, "{k}={v}");
        argv.push(page.push_str(text.as_bytes())?);
    }
    // The capability list, ended by an entry with flags !0.
    let n = s.grants.len();
    let caps_off = page.reserve((n + 1) * core::mem::size_of::<CapEntry>())?;
    for (i, g) in s.grants.iter().enumerate() {
        let mut name = [0u8; 16];
        let b = g.name.as_bytes();
        if b.len() > name.len() {
            return Err(LoadError::TooManyGrants);
        }
        name[..b.len()].copy_from_slice(b);
        let e = CapEntry { cap: (slot::FIRST_GRANT + i as u64) << 12, flags: 0, name };
        write_at(page.buf, caps_off + i * core::mem::size_of::<CapEntry>(), e);
    }
    let end = CapEntry { cap: Cap::INVALID.0, flags: !0, name: [0; 16] };
    write_at(page.buf, caps_off + n * core::mem::size_of::<CapEntry>(), end);
    let sel = |i: u64| i << 12;
    let env = Env {
        parent: sel(slot::PARENT),
        rm: sel(slot::RM),
        mem_alloc: sel(slot::MEM_ALLOC),
        log: sel(slot::LOG),
        main_thread: sel(slot::THREAD),
        factory: sel(slot::FACTORY),
        scheduler: sel(slot::SCHEDULER),
        itas: Cap::INVALID.0,
        dbg_events: Cap::INVALID.0,
        first_free_cap: slot::FIRST_GRANT + slot::GRANTS,
        first_free_reply_cap: 0,
        utcb_area: msg::mem_fpage(UTCB_AREA, UTCB_ORDER, 0),
        first_free_utcb: UTCB_AREA + l4_sys::fiasco::utcb::SIZE,
        caps: page.child(caps_off) as *const CapEntry,
    };
    let env_off = page.reserve(core::mem::size_of::<Env>())?;
    write_at(page.buf, env_off, env);
    // argc, argv..., 0, (no envp) 0, auxv: AT_L4_ENV, AT_L4_KIP, AT_NULL.
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend_from_slice(&argv);
    words.extend_from_slice(&[0, 0]);
    words.extend_from_slice(&[l4_sys::fiasco::env::AT_L4_ENV, page.child(env_off)]);
    words.extend_from_slice(&[l4_sys::fiasco::env::AT_L4_KIP, super::kip()]);
    words.extend_from_slice(&[l4_sys::fiasco::env::AT_NULL, 0]);
    let off = page.reserve(words.len() * 8 + 16)?;
    for (i, w) in words.iter().enumerate() {
        write_at(page.buf, off + i * 8, *w);
    }
    Ok(page.child(off))
}

/// Writes `v` at byte `off` of `buf` (unaligned; plain data only).
fn write_at<T: Copy>(buf: &mut [u8], off: usize, v: T) {
    let n = core::mem::size_of::<T>();
    if off + n <= buf.len() {
        // SAFETY: `[off, off + n)` lies within `buf`; `T` is plain data
        // (`Copy`, no references that outlive the write).
        unsafe { core::ptr::write_unaligned(buf.as_mut_ptr().add(off) as *mut T, v) };
    }
}

/// Waits up to `ms` milliseconds until the server behind the vbus `bus`
/// (L4Re's io) serves it: until then IPC to it finds no partner. A driver
/// started before io is ready would spend its first heartbeats waiting.
pub fn wait_for_vbus(bus: CapIdx, ms: u32) -> Result<(), Error> {
    use l4_sys::fiasco::vbus;
    let mut waited = 0;
    loop {
        match call(Cap::from_idx(bus), ipc::compose(|m| vbus::get_next(m, vbus::ROOT, vbus::NULL, vbus::MAX_DEPTH))) {
            Err(Error::NoCapability) if waited < ms => {
                crate::ipc::sleep_ms(50);
                waited += 50;
            }
            Err(Error::NoCapability) => return Err(Error::Timeout),
            _ => return Ok(()),
        }
    }
}

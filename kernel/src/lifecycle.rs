//! Creating and destroying tasks, threads and memory.
//!
//! Destruction is where leaks and dangling references hide, so it is all here:
//! a destroyed task takes its threads, the objects it created (child tasks
//! included), its capabilities, mappings, page tables and I/O bitmap with it, and
//! every frame goes back to the allocator unless another task still holds the
//! dataspace.

use crate::arch::frame::{FpuArea, TrapFrame, user_rflags};
use crate::kernel::Kernel;
use crate::mem::frames::Frame;
use crate::mem::{PAGE_SIZE, paging, phys_to_virt};
use crate::obj::{Factory, ObjId, Object};
use crate::space::{AddressSpace, Dataspace, Mapping, Memory};
use crate::task::{Cap, CapTable, IoBitmap, Task};
use crate::thread::{State, Thread};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use l4_sys::cap::slot;
use l4_sys::event::TaskState;
use l4_sys::utcb::Utcb;
use l4_sys::{Error, Rights, layout};

/// Pages of quota a task, a thread and a small object (gate, IRQ, I/O range)
/// cost their creator: the kernel memory behind them (capability table, control
/// blocks, UTCB), rounded up.
pub const TASK_PAGES: u64 = l4_sys::proto::factory::TASK_PAGES;
pub const THREAD_PAGES: u64 = 2;
pub const OBJECT_PAGES: u64 = 1;

/// What a mapping allows beyond reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub write: bool,
    pub execute: bool,
}

impl Access {
    pub const READ: Access = Access { write: false, execute: false };
    pub const READ_WRITE: Access = Access { write: true, execute: false };
}

/// Limits a new task starts with.
pub struct TaskLimits {
    pub quota_pages: u64,
    pub max_priority: u8,
    pub max_threads: u32,
    /// Whether its capabilities to the tasks it creates carry `Rights::DEBUG`.
    pub may_debug: bool,
}

impl Kernel {
    /// A new task owned by `creator` (destroyed with it). `payer` pays for it:
    /// its kernel memory and, reserved up front, the child's whole quota, so a
    /// task's descendants together never get more memory than its own quota.
    pub fn create_task(
        &mut self,
        creator: Option<ObjId>,
        payer: Option<ObjId>,
        name: &str,
        event_irq: Option<ObjId>,
        limits: TaskLimits,
        log: ObjId,
    ) -> Result<ObjId, Error> {
        let cost = TASK_PAGES + limits.quota_pages;
        if let Some(p) = payer {
            self.charge(p, cost)?;
        }
        // The master tables exist from boot on, before any task can ask.
        let new = self.master_pml4.ok_or(Error::OutOfMemory).and_then(|m| paging::new_space(m, &mut self.frames));
        let pml4 = match new {
            Ok(p) => p,
            Err(e) => {
                if let Some(p) = payer {
                    self.refund(p, cost);
                }
                return Err(e);
            }
        };
        paging::set_per_space_slot(pml4, self.io_deny_entry);
        if self.kip != 0 {
            let flags = paging::PRESENT | paging::USER | paging::NO_EXECUTE;
            if let Err(e) = paging::map_page(pml4, layout::KIP, self.kip, flags, &mut self.frames) {
                paging::free_space(pml4, &mut self.frames);
                if let Some(p) = payer {
                    self.refund(p, cost);
                }
                return Err(e);
            }
        }
        let mut name_buf = [0u8; 32];
        let n = name.len().min(32);
        name_buf[..n].copy_from_slice(&name.as_bytes()[..n]);
        let task = Box::new(Task {
            name: name_buf,
            name_len: n,
            creator,
            event_irq,
            caps: CapTable::new(),
            space: AddressSpace { pml4, mappings: Vec::new() },
            threads: Vec::new(),
            max_threads: limits.max_threads.min(layout::MAX_THREADS as u32),
            state: TaskState::Running,
            last_event: None,
            events: VecDeque::new(),
            events_total: 0,
            quota_pages: limits.quota_pages,
            used_pages: 0,
            max_priority: limits.max_priority,
            iopl: false,
            io_bitmap: None,
            factory: None,
            may_debug: limits.may_debug,
        });
        let id = self.objs.insert_charged(Object::Task(task), payer.map(|p| (p, cost)));
        let factory = self.objs.insert(Object::Factory(Factory { task: id }));
        let t = self.objs.task_mut(id).expect("just inserted");
        t.factory = Some(factory);
        // Patching one's own text is not what the debugging right is for.
        t.caps.install(slot::TASK, Cap { obj: id, rights: Rights::ALL - Rights::DEBUG })?;
        t.caps.install(slot::FACTORY, Cap { obj: factory, rights: Rights::ALL })?;
        t.caps.install(slot::LOG, Cap { obj: log, rights: Rights::READ | Rights::WRITE | Rights::DELEGATE })?;
        Ok(id)
    }

    /// A new, inactive thread in `task`, with its UTCB mapped, charged to `payer`.
    pub fn create_thread(&mut self, task: ObjId, payer: ObjId) -> Result<(ObjId, u32), Error> {
        let t = self.objs.task(task).ok_or(Error::DeadObject)?;
        if t.state != TaskState::Running {
            return Err(Error::DeadObject);
        }
        let index = match t.threads.iter().position(|x| x.is_none()) {
            Some(i) => i,
            None if t.threads.len() < t.max_threads as usize => t.threads.len(),
            None => return Err(Error::QuotaExceeded),
        } as u32;
        let pml4 = t.space.pml4;
        let caps = &t.caps as *const CapTable;
        self.charge(payer, THREAD_PAGES)?;
        let Some(frame) = self.frames.alloc() else {
            self.refund(payer, THREAD_PAGES);
            return Err(Error::OutOfMemory);
        };
        let utcb_addr = layout::utcb_addr(index as u64);
        let flags = paging::PRESENT | paging::WRITABLE | paging::USER | paging::NO_EXECUTE;
        if let Err(e) = paging::map_page(pml4, utcb_addr, frame.addr(), flags, &mut self.frames) {
            self.frames.free(frame);
            self.refund(payer, THREAD_PAGES);
            return Err(e);
        }
        let utcb = phys_to_virt(frame.addr()) as *mut Utcb;
        // SAFETY: the frame was just allocated for this UTCB and is mapped through
        // the direct map; nobody else references it yet.
        unsafe {
            utcb.cast::<u8>().write_bytes(0, PAGE_SIZE as usize);
            (*utcb).self_ptr = utcb_addr;
        }
        let thread = Box::new(Thread {
            frame: TrapFrame::default(),
            fpu: FpuArea::new(),
            task,
            id: self.objs.next_id(),
            caps,
            space: pml4,
            index,
            state: State::Inactive,
            priority: 0,
            base_priority: 0,
            run_ticks: 0,
            slice: crate::sched::TIME_SLICE,
            utcb,
            utcb_frame: frame,
            utcb_addr,
            senders: VecDeque::new(),
            reply_to: None,
            pending_irqs: VecDeque::new(),
            wakeup: None,
            in_sleepers: false,
            send: None,
        });
        let id = self.objs.insert_charged(Object::Thread(thread), Some((payer, THREAD_PAGES)));
        debug_assert_eq!(self.objs.thread(id).map(|t| t.id), Some(id));
        let t = self.objs.task_mut(task).expect("checked above");
        if index as usize == t.threads.len() {
            t.threads.push(Some(id));
        } else {
            t.threads[index as usize] = Some(id);
        }
        Ok((id, index))
    }

    pub fn start_thread(&mut self, id: ObjId, ip: u64, sp: u64, priority: u8, arg: u64) -> Result<(), Error> {
        let t = self.objs.thread(id).ok_or(Error::DeadObject)?;
        if t.state != State::Inactive {
            return Err(Error::Busy);
        }
        let task = self.objs.task(t.task).ok_or(Error::DeadObject)?;
        if ip >= layout::USER_END || sp >= layout::USER_END {
            return Err(Error::BadAddress);
        }
        let prio = priority.min(task.max_priority);
        let iopl = task.iopl;
        let t = self.objs.thread_mut(id).expect("checked above");
        t.frame = TrapFrame::new_user(ip, sp, arg, iopl);
        t.priority = prio;
        t.base_priority = prio;
        t.state = State::Ready;
        self.sched.enqueue(id, prio);
        Ok(())
    }

    /// Stops and frees one thread (its UTCB too).
    pub fn destroy_thread(&mut self, id: ObjId) {
        self.stop_thread(id);
        self.unload_thread(id);
        let Some(Object::Thread(t)) = self.remove_object(id) else { return };
        if let Some(task) = self.objs.task_mut(t.task) {
            if let Some(slot) = task.threads.get_mut(t.index as usize) {
                *slot = None;
            }
            let pml4 = task.space.pml4;
            paging::unmap_page(pml4, t.utcb_addr);
            if self.is_loaded_space(pml4) {
                crate::arch::cpu::invlpg(t.utcb_addr);
            }
        }
        self.frames.free(t.utcb_frame);
    }

    /// Destroys a task and everything it owns, the tasks it created included,
    /// and theirs: all of them stopped first, then destroyed children before
    /// parents. A loop, not recursion: however deep tasks nest their children,
    /// the kernel's stack does not grow with it.
    pub fn destroy_task(&mut self, id: ObjId) {
        if self.objs.task(id).is_none() {
            return;
        }
        let mut tree = alloc::vec![id];
        let mut i = 0;
        while i < tree.len() {
            let parent = tree[i];
            self.stop_threads(parent);
            if let Some(t) = self.objs.task_mut(parent) {
                t.state = TaskState::Stopped;
            }
            let children = self.objs.ids_where(|o| matches!(o, Object::Task(t) if t.creator == Some(parent)));
            tree.extend(children.into_iter().filter(|&c| c != parent));
            i += 1;
        }
        for task in tree.into_iter().rev() {
            self.destroy_one_task(task);
        }
    }

    /// Destroys one stopped task whose child tasks are gone already.
    fn destroy_one_task(&mut self, id: ObjId) {
        // Objects it created.
        let owned = self.objs.ids_where(|o| !matches!(o, Object::Thread(_)) && o.owner() == Some(id));
        for obj in owned {
            match self.objs.get(obj) {
                Some(Object::Irq(_)) => {
                    self.unbind_irq(obj);
                    self.remove_object(obj);
                }
                Some(Object::DmaDomain(_)) => self.destroy_domain(obj),
                Some(Object::Task(_)) | None => {}
                Some(_) => {
                    self.remove_object(obj);
                }
            }
        }
        let threads: Vec<ObjId> = self.objs.task(id).map(|t| t.live_threads().collect()).unwrap_or_default();
        for th in threads {
            self.destroy_thread(th);
        }
        let Some(t) = self.objs.task_mut(id) else { return };
        let caps: Vec<Cap> = t.caps.drain().collect();
        let mappings = core::mem::take(&mut t.space.mappings);
        let io = t.io_bitmap.take();
        let pml4 = t.space.pml4;
        for cap in caps {
            self.drop_ds_ref(cap.obj);
        }
        for m in mappings {
            self.drop_ds_ref(m.ds);
        }
        self.unload_space(pml4);
        paging::set_per_space_slot(pml4, 0);
        paging::free_space(pml4, &mut self.frames);
        if let Some(io) = io {
            io.bitmap.iter().chain(io.tables.iter()).for_each(|&f| self.frames.free(Frame::containing(f)));
        }
        self.recharge_survivors(id);
        self.remove_object(id);
    }

    /// Objects a dying task paid for that outlive it (created through its
    /// factory by another task, or dataspaces someone else still holds) are
    /// charged to its creator from now on: its reserved quota goes back to the
    /// creator, so without this the memory would belong to no quota at all.
    fn recharge_survivors(&mut self, id: ObjId) {
        let creator = self.objs.task(id).and_then(|t| t.creator);
        let mut pages = self.objs.recharge(id, creator);
        for ds in self.objs.ids_where(|o| matches!(o, Object::Dataspace(d) if d.charged_to == Some(id))) {
            if let Some(d) = self.objs.dataspace_mut(ds) {
                d.charged_to = creator;
                pages += d.charged_pages();
            }
        }
        if let Some(t) = creator.and_then(|c| self.objs.task_mut(c)) {
            t.used_pages += pages;
        }
    }

    /// A dataspace of zeroed RAM, charged to `charged`'s quota. Its reference
    /// count starts at zero: the caller installs a capability or maps it.
    pub fn create_ram_ds(&mut self, charged: ObjId, pages: u64, contiguous: bool) -> Result<ObjId, Error> {
        if pages == 0 || pages > (1 << 20) {
            return Err(Error::InvalidArgument);
        }
        let t = self.objs.task(charged).ok_or(Error::DeadObject)?;
        if t.used_pages + pages > t.quota_pages {
            return Err(Error::QuotaExceeded);
        }
        if !crate::mem::heap_has_room() {
            return Err(Error::OutOfMemory);
        }
        let memory = if contiguous {
            let base = self.frames.alloc_contiguous(pages, 1).ok_or(Error::OutOfMemory)?;
            // SAFETY: freshly allocated frames, reached through the direct map.
            unsafe { phys_to_virt(base.addr()).write_bytes(0, (pages * PAGE_SIZE) as usize) };
            Memory::Contiguous { base }
        } else {
            if self.frames.free_count() < pages {
                return Err(Error::OutOfMemory);
            }
            let frames: Vec<Frame> = (0..pages)
                .map(|_| {
                    let f = self.frames.alloc().expect("counted above");
                    // SAFETY: as above.
                    unsafe { phys_to_virt(f.addr()).write_bytes(0, PAGE_SIZE as usize) };
                    f
                })
                .collect();
            Memory::Ram(frames)
        };
        self.objs.task_mut(charged).expect("checked above").used_pages += pages;
        Ok(self.objs.insert(Object::Dataspace(Box::new(Dataspace {
            memory,
            pages,
            refs: 0,
            charged_to: Some(charged),
        }))))
    }

    /// Maps `pages` pages of a dataspace, starting at page `ds_page`, at `vaddr`.
    pub fn map_ds(
        &mut self,
        task: ObjId,
        ds: ObjId,
        ds_page: u64,
        vaddr: u64,
        pages: u64,
        access: Access,
    ) -> Result<(), Error> {
        if pages == 0
            || !l4_sys::layout::is_user_range(vaddr, pages.checked_mul(PAGE_SIZE).ok_or(Error::InvalidArgument)?)
        {
            return Err(Error::BadAddress);
        }
        // UTCBs live in their own window, mapped by the kernel only.
        let utcb_end = layout::UTCB_AREA + layout::MAX_THREADS * PAGE_SIZE;
        if vaddr < utcb_end && layout::UTCB_AREA < vaddr + pages * PAGE_SIZE {
            return Err(Error::BadAddress);
        }
        let Some(Object::Dataspace(d)) = self.objs.get(ds) else { return Err(Error::InvalidArgument) };
        if ds_page.checked_add(pages).is_none_or(|end| end > d.pages) {
            return Err(Error::InvalidArgument);
        }
        if access.write && d.is_read_only() {
            return Err(Error::Denied);
        }
        let mut flags = paging::PRESENT | paging::USER;
        if access.write {
            flags |= paging::WRITABLE;
        }
        if !access.execute {
            flags |= paging::NO_EXECUTE;
        }
        if d.is_device() {
            flags |= paging::NO_CACHE | paging::WRITE_THROUGH;
        }
        let phys: Vec<u64> = (0..pages).map(|i| d.page_phys(ds_page + i)).collect();
        let t = self.objs.task(task).ok_or(Error::DeadObject)?;
        if t.space.overlaps(vaddr, pages) {
            return Err(Error::InUse);
        }
        let pml4 = t.space.pml4;
        // Page tables count against the task's quota too: at most three per
        // started 2 MiB of the range plus one per further 2 MiB. So does the
        // kernel memory behind the mapping record.
        let n = t.space.mappings.len();
        let record = crate::space::record_pages(n + 1) - crate::space::record_pages(n);
        let worst = 3 + pages.div_ceil(512) + record;
        if t.used_pages + worst > t.quota_pages {
            return Err(Error::QuotaExceeded);
        }
        if !crate::mem::heap_has_room() {
            return Err(Error::OutOfMemory);
        }
        let mut tables = 0;
        for (i, &p) in phys.iter().enumerate() {
            match paging::map_page(pml4, vaddr + i as u64 * PAGE_SIZE, p, flags, &mut self.frames) {
                Ok(n) => tables += n,
                Err(e) => {
                    for j in 0..i {
                        paging::unmap_page(pml4, vaddr + j as u64 * PAGE_SIZE);
                    }
                    self.objs.task_mut(task).expect("checked").used_pages += tables;
                    return Err(e);
                }
            }
        }
        let t = self.objs.task_mut(task).expect("checked");
        t.used_pages += tables + record;
        t.space.insert(Mapping { vaddr, pages, ds });
        if let Some(d) = self.objs.dataspace_mut(ds) {
            d.refs += 1;
        }
        Ok(())
    }

    pub fn unmap_range(&mut self, task: ObjId, vaddr: u64, size: u64) -> Result<(), Error> {
        let t = self.objs.task_mut(task).ok_or(Error::DeadObject)?;
        let before = t.space.mappings.len();
        let taken = t.space.take_range(vaddr, size)?;
        let refund = crate::space::record_pages(before) - crate::space::record_pages(t.space.mappings.len());
        t.used_pages = t.used_pages.saturating_sub(refund);
        let pml4 = t.space.pml4;
        let loaded = self.is_loaded_space(pml4);
        for m in taken {
            for i in 0..m.pages {
                let va = m.vaddr + i * PAGE_SIZE;
                paging::unmap_page(pml4, va);
                if loaded {
                    crate::arch::cpu::invlpg(va);
                }
            }
            self.drop_ds_ref(m.ds);
        }
        Ok(())
    }

    /// Allows the ports `[base, base + count)` in a task's I/O bitmap.
    pub fn grant_ports(&mut self, task: ObjId, base: u16, count: u32) -> Result<(), Error> {
        let t = self.objs.task(task).ok_or(Error::DeadObject)?;
        let pml4 = t.space.pml4;
        if t.io_bitmap.is_none() {
            let mut frames = [0u64; 5];
            for i in 0..5 {
                match self.frames.alloc() {
                    Some(f) => frames[i] = f.addr(),
                    None => {
                        frames[..i].iter().for_each(|&f| self.frames.free(Frame::containing(f)));
                        return Err(Error::OutOfMemory);
                    }
                }
            }
            let [b0, b1, pdpt, pd, pt] = frames;
            for f in [b0, b1] {
                // SAFETY: fresh frames through the direct map.
                unsafe { phys_to_virt(f).write_bytes(0xff, PAGE_SIZE as usize) };
            }
            for f in [pdpt, pd, pt] {
                // SAFETY: as above.
                unsafe { phys_to_virt(f).write_bytes(0, PAGE_SIZE as usize) };
            }
            let entry = |p: u64| p | paging::PRESENT | paging::WRITABLE;
            let leaf = |p: u64| p | paging::PRESENT | paging::NO_EXECUTE;
            // SAFETY: the table frames are ours and zeroed; writes go through the
            // direct map.
            unsafe {
                let pt_v = phys_to_virt(pt) as *mut u64;
                pt_v.write(leaf(b0));
                pt_v.add(1).write(leaf(b1));
                pt_v.add(2).write(leaf(self.io_ones_page));
                (phys_to_virt(pd) as *mut u64).write(entry(pt));
                (phys_to_virt(pdpt) as *mut u64).write(entry(pd));
            }
            paging::set_per_space_slot(pml4, entry(pdpt));
            if self.is_loaded_space(pml4) {
                for i in 0..3 {
                    crate::arch::cpu::invlpg(crate::arch::gdt::IO_BITMAP_BASE + i * PAGE_SIZE);
                }
            }
            self.objs.task_mut(task).expect("checked").io_bitmap =
                Some(IoBitmap { bitmap: [b0, b1], tables: [pdpt, pd, pt] });
        }
        let io = self.objs.task(task).and_then(|t| t.io_bitmap.as_ref()).expect("just set");
        let bitmap = io.bitmap;
        for port in base as u32..(base as u32 + count).min(65536) {
            let frame = bitmap[(port / 32768) as usize];
            let bit = port % 32768;
            // SAFETY: the bitmap frame is owned by this task's I/O window.
            unsafe {
                let byte = phys_to_virt(frame).add((bit / 8) as usize);
                *byte &= !(1 << (bit % 8));
            }
        }
        Ok(())
    }

    /// Gives a task IOPL 3: all ports, from every thread.
    pub fn grant_iopl(&mut self, task: ObjId) -> Result<(), Error> {
        let t = self.objs.task_mut(task).ok_or(Error::DeadObject)?;
        t.iopl = true;
        let threads: Vec<ObjId> = t.live_threads().collect();
        for th in threads {
            if let Some(t) = self.objs.thread_mut(th) {
                t.frame.rflags = user_rflags(t.frame.rflags, true);
            }
        }
        Ok(())
    }
}

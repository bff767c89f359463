//! The IOMMU's kernel objects: the `Iommu` root capability that creates DMA
//! domains, the `DmaDomain` operations (map, unmap, destroy), and their
//! teardown. Arguments are validated first, then the tables change, then the
//! unit's caches are invalidated, and only then do references go.

use super::acpi::Dmar;
use super::sl::{self, Tables};
use super::vtd::{Request, Unit};
use super::{DmaDomain, DmaMap, REGS_VIRT, source_id};
use crate::kernel::Kernel;
use crate::mem::frames::{Frame, FrameAllocator};
use crate::mem::{paging, phys_to_virt};
use crate::obj::{ObjId, Object};
use crate::space::Memory;
use alloc::boxed::Box;
use alloc::vec::Vec;
use l4_sys::Error;
use l4_sys::proto::dma_domain::MAX_MAPPINGS;

/// The unit the kernel drives and which devices it covers.
pub struct Iommu {
    pub unit: Unit,
    /// Physical address of its register page (never granted as device memory).
    pub regs_phys: u64,
    pub include_all: bool,
    pub sources: Vec<u16>,
    /// Per device, what the domain it had last mapped (`(iova, pages)`):
    /// a device the previous instance programmed may go on reading and
    /// writing there once the next instance turns bus mastering back on,
    /// before that instance's probe has reset it.
    pub retired: Vec<(u16, Vec<(u64, u64)>)>,
}

impl Iommu {
    /// Remembers what the domain of `source` being destroyed had mapped.
    fn retire(&mut self, source: u16, ranges: Vec<(u64, u64)>) {
        self.retired.retain(|(s, _)| *s != source);
        self.retired.push((source, ranges));
    }

    /// Whether `iova` is an address the previous domain of `source` mapped.
    fn stale(&self, source: u16, iova: u64) -> bool {
        self.retired.iter().any(|(s, r)| *s == source && super::within(r, iova))
    }
}

/// Table frames from the kernel's allocator, reached through the direct map.
struct FrameTables<'a>(&'a mut FrameAllocator);

impl Tables for FrameTables<'_> {
    fn alloc(&mut self) -> Option<u64> {
        super::vtd::hw_zeroed(self.0)
    }
    fn free(&mut self, table: u64) {
        self.0.free(Frame::containing(table));
    }
    fn get(&self, table: u64, i: usize) -> u64 {
        // SAFETY: `table` is a second-level table frame of a domain, which
        // the kernel allocated and owns; `i` is masked to its 512 entries.
        unsafe { (phys_to_virt(table) as *const u64).wrapping_add(i & 0x1ff).read_volatile() }
    }
    fn set(&mut self, table: u64, i: usize, entry: u64) {
        // SAFETY: as in `get`; the unit only reads these entries.
        unsafe { (phys_to_virt(table) as *mut u64).wrapping_add(i & 0x1ff).write_volatile(entry) }
    }
}

/// Maps the first unit's registers into the kernel's tables and switches DMA
/// remapping on (at boot, with the kernel's tables loaded). Says at boot
/// whether DMA is confined.
pub fn start(dmar: Option<&Dmar>, master: paging::Table, frames: &mut FrameAllocator) -> Option<Iommu> {
    let d = dmar?;
    let Some(u) = d.units.first() else {
        crate::kwarn!("DMA is not confined: the DMAR table lists no remapping unit");
        return None;
    };
    if d.units.len() > 1 {
        crate::kwarn!("IOMMU: only the first of {} remapping units is used", d.units.len());
    }
    if u.base % 4096 != 0 {
        crate::kwarn!("DMA is not confined: the unit's registers at {:#x} are not page-aligned", u.base);
        return None;
    }
    let flags = paging::WRITABLE | paging::NO_CACHE | paging::WRITE_THROUGH | paging::GLOBAL | paging::NO_EXECUTE;
    paging::map_kernel_page(master, REGS_VIRT, u.base, flags, frames);
    crate::arch::cpu::invlpg(REGS_VIRT);
    match Unit::start(REGS_VIRT, frames) {
        Ok(mut unit) => {
            crate::kinfo!(
                "DMA confined: remapping on ({}-level tables, {} domains, {} invalidation); a device reaches only memory its driver's domain maps",
                unit.levels,
                unit.caps.domains,
                if unit.caps.queued_invalidation { "queued" } else { "register-based" }
            );
            match unit.start_interrupt_remapping(frames) {
                Ok(()) if unit.interrupts_remapped() => crate::kinfo!(
                    "interrupt remapping on (256 entries, none present; compatibility format not allowed): no device can raise an interrupt by DMA"
                ),
                Ok(()) => crate::kwarn!("interrupt remapping: the unit says it is not on as asked"),
                Err(why) => {
                    crate::kwarn!("interrupt remapping is off ({why}): a device's DMA to 0xFEEx_xxxx is an interrupt")
                }
            }
            let sources = u.endpoints.iter().map(|&b| source_id(b)).collect();
            Some(Iommu { unit, regs_phys: u.base, include_all: u.include_all, sources, retired: Vec::new() })
        }
        Err(why) => {
            crate::kwarn!("DMA is not confined: the VT-d unit cannot be used ({why})");
            None
        }
    }
}

impl Kernel {
    /// Whether `[addr, addr + len)` meets the IOMMU's registers.
    pub fn is_iommu_regs(&self, addr: u64, len: u64) -> bool {
        self.iommu.as_ref().is_some_and(|i| addr < i.regs_phys + 4096 && i.regs_phys < addr.saturating_add(len))
    }

    fn domain_mut(&mut self, id: ObjId) -> Option<&mut DmaDomain> {
        match self.objs.get_mut(id) {
            Some(Object::DmaDomain(d)) => Some(d),
            _ => None,
        }
    }

    /// A fresh, empty domain for `source`, owned and paid for by `owner`.
    pub fn create_domain(&mut self, owner: ObjId, source: u16) -> Result<ObjId, Error> {
        let Some(io) = self.iommu.as_ref() else { return Err(Error::BadProtocol) };
        if !io.include_all && !io.sources.contains(&source) {
            return Err(Error::InvalidArgument);
        }
        if !self.objs.ids_where(|o| matches!(o, Object::DmaDomain(d) if d.source == source)).is_empty() {
            return Err(Error::InUse);
        }
        // The object and its root table.
        self.charge(owner, 1)?;
        let Some(root) = super::vtd::hw_zeroed(&mut self.frames) else {
            self.refund(owner, 1);
            return Err(Error::OutOfMemory);
        };
        let undo = |k: &mut Kernel| {
            k.frames.free(Frame::containing(root));
            k.refund(owner, 1);
        };
        let Some(did) = self.iommu.as_mut().and_then(|i| i.unit.alloc_did()) else {
            undo(self);
            return Err(Error::OutOfMemory);
        };
        let domain = DmaDomain { owner, user: None, source, did, root, tables: 0, maps: Vec::new() };
        let id = match self.new_object(Object::DmaDomain(Box::new(domain)), owner, crate::lifecycle::OBJECT_PAGES) {
            Ok(id) => id,
            Err(e) => {
                if let Some(i) = self.iommu.as_mut() {
                    i.unit.free_did(did);
                }
                undo(self);
                return Err(e);
            }
        };
        let Some(io) = self.iommu.as_mut() else { return Err(Error::BadProtocol) };
        if let Err(e) = io.unit.set_context(source, Some((root, did)), &mut self.frames) {
            self.destroy_domain(id);
            return Err(e);
        }
        Ok(id)
    }

    /// Maps the contiguous dataspace `ds` into domain `id` at its physical
    /// address, for `caller`: the first task to map is the domain's user, and
    /// no other task may map into it after that.
    pub fn domain_map(&mut self, id: ObjId, ds: ObjId, caller: ObjId) -> Result<u64, Error> {
        let (phys, pages) = match self.objs.get(ds) {
            Some(Object::Dataspace(d)) => match d.memory {
                Memory::Contiguous { base } => (base.addr(), d.pages),
                _ => return Err(Error::InvalidArgument),
            },
            _ => return Err(Error::InvalidArgument),
        };
        let Some(levels) = self.iommu.as_ref().map(|i| i.unit.levels) else { return Err(Error::BadProtocol) };
        let d = self.domain_mut(id).ok_or(Error::DeadObject)?;
        if d.user.is_some_and(|u| u != caller) {
            return Err(Error::Denied);
        }
        if d.maps.iter().any(|m| m.ds == ds) {
            return Err(Error::InUse);
        }
        if d.maps.len() >= MAX_MAPPINGS {
            return Err(Error::QuotaExceeded);
        }
        if !sl::fits(levels, phys, pages) {
            return Err(Error::InvalidArgument);
        }
        let (owner, root) = (d.owner, d.root);
        // The most tables the mapping can create, charged first.
        let worst = levels as u64 - 1 + pages.div_ceil(512);
        self.charge(owner, worst)?;
        let created = match sl::map(&mut FrameTables(&mut self.frames), root, levels, phys, phys, pages, true) {
            Ok(n) => n,
            Err(e) => {
                self.refund(owner, worst);
                return Err(e);
            }
        };
        self.refund(owner, worst - created);
        let d = self.domain_mut(id).ok_or(Error::DeadObject)?;
        d.tables += created;
        d.user = Some(caller);
        d.maps.push(DmaMap { iova: phys, pages, ds });
        if let Some(ds) = self.objs.dataspace_mut(ds) {
            ds.refs += 1;
        }
        if let Some(io) = self.iommu.as_mut()
            && io.unit.caps.caching_mode
            && !io.unit.invalidate()
        {
            crate::kerror!("IOMMU: invalidation did not complete");
        }
        Ok(phys)
    }

    /// Unmaps `ds` from domain `id`, invalidates, then drops the reference.
    pub fn domain_unmap(&mut self, id: ObjId, ds: ObjId) -> Result<(), Error> {
        let Some(levels) = self.iommu.as_ref().map(|i| i.unit.levels) else { return Err(Error::BadProtocol) };
        let d = self.domain_mut(id).ok_or(Error::DeadObject)?;
        let at = d.maps.iter().position(|m| m.ds == ds).ok_or(Error::InvalidArgument)?;
        let m = d.maps.remove(at);
        let root = d.root;
        sl::unmap(&mut FrameTables(&mut self.frames), root, levels, m.iova, m.pages);
        if let Some(io) = self.iommu.as_mut()
            && !io.unit.invalidate()
        {
            crate::kerror!("IOMMU: invalidation did not complete");
        }
        self.drop_ds_ref(m.ds);
        Ok(())
    }

    /// Reads the faults the unit recorded and reports each as a `DmaFault`
    /// of the task using the faulting device's domain (called on the timer
    /// tick). A fault of a device with no domain, or none in use, is only
    /// logged: the device is blocked whoever it works for.
    pub fn poll_dma_faults(&mut self) {
        let Some(io) = self.iommu.as_ref() else { return };
        let mut faults = Vec::new();
        io.unit.take_faults(&mut faults);
        for f in faults {
            self.stats.dma_faults += 1;
            let user =
                self.objs.ids_where(|o| matches!(o, Object::DmaDomain(d) if d.source == f.source)).first().and_then(
                    |&id| match self.objs.get(id) {
                        Some(Object::DmaDomain(d)) => d.user,
                        _ => None,
                    },
                );
            // An address only the previous domain mapped: the device still
            // works from what the dead instance programmed, not for this one.
            let stale = match f.request {
                Request::Dma { iova, .. } => self.iommu.as_ref().is_some_and(|i| i.stale(f.source, iova)),
                Request::Interrupt { .. } => false,
            };
            let user = if stale { None } else { user };
            let fault = l4_sys::event::DmaFault { source: f.source, write: f.write(), reason: f.reason };
            let name = user.and_then(|u| self.objs.task(u)).map(|t| t.name());
            let whose = match (stale, name.is_some()) {
                (true, _) => "; stale: the device's previous instance had it mapped",
                (false, true) => "; a fault of ",
                (false, false) => "; the device has no driver",
            };
            if crate::kernel::worth_logging(self.stats.dma_faults) {
                match f.request {
                    Request::Dma { iova, .. } => crate::kwarn!(
                        "DMA fault: {} {} at I/O address {:#x} blocked (VT-d reason {:#x}){}{}",
                        fault,
                        fault.access(),
                        iova,
                        f.reason,
                        whose,
                        name.unwrap_or("")
                    ),
                    Request::Interrupt { index } => crate::kwarn!(
                        "interrupt-remapping fault: {} interrupt request (index {}) blocked (VT-d reason {:#x}: {}){}{}",
                        fault,
                        index,
                        f.reason,
                        super::vtd::reason_text(f.reason),
                        whose,
                        name.unwrap_or("")
                    ),
                }
            }
            if let Some(task) = user {
                let event = l4_sys::event::Event {
                    cause: l4_sys::event::Cause::DmaFault,
                    ip: 0,
                    addr: f.addr(),
                    code: fault.code(),
                    thread: 0,
                };
                self.report(task, event, b"");
            }
        }
    }

    /// Detaches domain `id` from its device (invalidating), frees its tables
    /// and drops its dataspace references, then destroys the object.
    pub fn destroy_domain(&mut self, id: ObjId) {
        let Some(Object::DmaDomain(d)) = self.objs.get(id) else { return };
        let (source, did, root, owner, tables) = (d.source, d.did, d.root, d.owner, d.tables);
        let maps = d.maps.clone();
        if let Some(io) = self.iommu.as_mut() {
            let levels = io.unit.levels;
            if io.unit.set_context(source, None, &mut self.frames).is_err() {
                crate::kerror!("IOMMU: cannot detach domain {did}");
            }
            io.unit.free_did(did);
            sl::free_all(&mut FrameTables(&mut self.frames), root, levels);
            io.retire(source, maps.iter().map(|m| (m.iova, m.pages)).collect());
        }
        self.refund(owner, tables + 1);
        self.remove_object(id);
        for m in maps {
            self.drop_ds_ref(m.ds);
        }
    }
}

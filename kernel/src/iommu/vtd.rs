//! One Intel VT-d remapping unit: its registers, the root and context
//! tables that lead each PCI device (by source id) to its domain's
//! second-level tables, and invalidation of the unit's caches.
//!
//! The encodings (capability fields, root and context entries) are plain
//! functions, host-tested; the register accesses are `cfg(not(test))`.
//! Invalidation is global and waited for, so that when a call returns the
//! unit no longer uses what it was told to forget: through the invalidation
//! queue (a wait descriptor whose status write says it is done) when the
//! unit offers queued invalidation, else through the context command and
//! IOTLB registers (never both: register-based invalidation is not allowed
//! while the queue is on). With the queue on, interrupt remapping is
//! switched on with an interrupt remapping table of entries that are all
//! not present and compatibility-format interrupts not allowed (CFI clear):
//! no device can raise an interrupt through the unit (doc/iommu.md).

/// Register offsets (VT-d specification, chapter 11).
pub mod reg {
    pub const CAP: usize = 0x08;
    pub const ECAP: usize = 0x10;
    pub const GCMD: usize = 0x18;
    pub const GSTS: usize = 0x1c;
    pub const RTADDR: usize = 0x20;
    pub const CCMD: usize = 0x28;
    pub const FSTS: usize = 0x34;
    pub const IQH: usize = 0x80;
    pub const IQT: usize = 0x88;
    pub const IQA: usize = 0x90;
    pub const IRTA: usize = 0xb8;
}

/// Fault status bits.
pub mod fsts {
    /// Primary pending fault and fault overflow.
    pub const FAULTS: u32 = 0b11;
    /// Invalidation queue error: the unit stopped at a bad descriptor.
    pub const IQE: u32 = 1 << 4;
}

/// Global command / status bits.
pub mod gcmd {
    pub const TE: u32 = 1 << 31;
    pub const SRTP: u32 = 1 << 30;
    pub const QIE: u32 = 1 << 26;
    pub const IRE: u32 = 1 << 25;
    pub const SIRTP: u32 = 1 << 24;
    pub const CFI: u32 = 1 << 23;
    /// The bits that stay set once set (the others are one-shot commands).
    pub const PERSISTENT: u32 = TE | QIE | IRE | CFI;
}

/// What the capability registers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Second-level table levels to use (3 for 39-bit, 4 for 48-bit), or
    /// None when the unit supports neither.
    pub levels: Option<u32>,
    /// Domain ids the unit supports.
    pub domains: u32,
    /// Byte offset and number of the fault-recording registers.
    pub fault_offset: usize,
    pub faults: usize,
    /// Byte offset of the IOTLB registers (IVA; the IOTLB register is 8 on).
    pub iotlb_offset: usize,
    /// Not-present entries may be cached: invalidate after making one present.
    pub caching_mode: bool,
    /// Writes must be flushed from the write buffer before invalidation.
    pub write_buffer_flush: bool,
    /// The unit offers interrupt remapping and queued invalidation.
    pub interrupt_remapping: bool,
    pub queued_invalidation: bool,
}

impl Caps {
    pub fn decode(cap: u64, ecap: u64) -> Caps {
        let sagaw = (cap >> 8) & 0x1f;
        let levels = if sagaw & 0b010 != 0 {
            Some(3)
        } else if sagaw & 0b100 != 0 {
            Some(4)
        } else {
            None
        };
        Caps {
            levels,
            domains: 1 << (4 + 2 * (cap & 7).min(6)),
            fault_offset: (((cap >> 24) & 0x3ff) * 16) as usize,
            faults: ((cap >> 40) & 0xff) as usize + 1,
            iotlb_offset: (((ecap >> 8) & 0x3ff) * 16) as usize,
            caching_mode: cap & (1 << 7) != 0,
            write_buffer_flush: cap & (1 << 4) != 0,
            interrupt_remapping: ecap & (1 << 3) != 0,
            queued_invalidation: ecap & (1 << 1) != 0,
        }
    }
}

/// A root-table entry (legacy mode): present, and the bus's context table.
pub const fn root_entry(context_table: u64) -> [u64; 2] {
    [(context_table & !0xfff) | 1, 0]
}

/// A context entry: present, untranslated requests go through the
/// second-level tables at `sl_root` (`levels` deep), tagged with domain `did`.
pub const fn context_entry(sl_root: u64, levels: u32, did: u16) -> [u64; 2] {
    // Translation type 00 (bits 3:2); address width 1 = 39 bits, 2 = 48 bits.
    let aw = (levels - 2) as u64;
    [(sl_root & !0xfff) | 1, aw | ((did as u64) << 8)]
}

/// Context-command register values: invalidate every context entry.
pub const CCMD_GLOBAL: u64 = (1 << 63) | (1 << 61);
/// IOTLB register values: invalidate globally, draining reads and writes.
pub const IOTLB_GLOBAL: u64 = (1 << 63) | (1 << 60) | (1 << 49) | (1 << 48);

/// Queued-invalidation descriptors (128-bit, legacy mode; VT-d 6.5.2).
pub mod qi {
    /// Entries of a one-page queue (IQA's size field 0: 2^8 entries).
    pub const ENTRIES: usize = 256;

    /// Context-cache invalidation, global.
    pub const fn context_global() -> [u64; 2] {
        [0x1 | (1 << 4), 0]
    }

    /// IOTLB invalidation, global, draining reads and writes.
    pub const fn iotlb_global() -> [u64; 2] {
        [0x2 | (1 << 4) | (1 << 6) | (1 << 7), 0]
    }

    /// Interrupt entry cache invalidation, global.
    pub const fn iec_global() -> [u64; 2] {
        [0x4, 0]
    }

    /// Invalidation wait: once everything before it is done, the unit writes
    /// `data` to the dword at physical `status` (status write, no interrupt).
    pub const fn wait(status: u64, data: u32) -> [u64; 2] {
        [0x5 | (1 << 5) | ((data as u64) << 32), status & !3]
    }

    /// The queue index after `tail` once `n` descriptors were written.
    pub const fn advance(tail: usize, n: usize) -> usize {
        (tail + n) % ENTRIES
    }

    /// The IQT (and IQH) register value of queue index `i`.
    pub const fn reg(i: usize) -> u64 {
        (i as u64 % ENTRIES as u64) << 4
    }
}

/// The interrupt remapping table's size: 2^(IRTA_SIZE + 1) = 256 entries
/// of 16 bytes, one page.
pub const IRTA_SIZE: u64 = 7;

/// The IRTA register value: the table at `table`, `2^(size + 1)` entries,
/// xAPIC mode (EIME clear: the unit's QEMU model offers no x2APIC mode
/// under TCG, and the kernel does not use it).
pub const fn irta(table: u64, size: u64) -> u64 {
    (table & !0xfff) | (size & 0xf)
}

/// An interrupt remapping table entry (VT-d 9.10, remapped format): a
/// present, edge-triggered, fixed-delivery interrupt of `vector` to the
/// xAPIC `dest` in physical destination mode, usable only by requests whose
/// source id is `source` (SVT 01 with SQ 00: all 16 bits compared).
pub const fn irte(vector: u8, dest: u8, source: u16) -> [u64; 2] {
    // xAPIC mode: the APIC id sits in bits 15:8 of the 32-bit destination
    // field (bits 47:40 of the entry).
    let lo = 1 | (vector as u64) << 16 | (dest as u64) << 40;
    let hi = source as u64 | 0b01 << 18;
    [lo, hi]
}

/// The MSI address and data that name remapping entry `index` (the
/// remappable format: bit 4 set, the index in bits 19:5 and bit 2, no
/// subhandle, so the data is 0).
pub const fn msi_remappable(index: u16) -> (u64, u32) {
    let i = index as u64;
    (0xfee0_0000 | (i & 0x7fff) << 5 | 1 << 4 | (i >> 15) << 2, 0)
}

/// What a faulting request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A DMA request at the page-aligned I/O virtual address `iova`.
    Dma { iova: u64, write: bool },
    /// An interrupt request (a write to 0xFEEx_xxxx) that interrupt
    /// remapping blocked; `index` is its interrupt index (0 for a
    /// compatibility-format request).
    Interrupt { index: u16 },
}

/// One fault-recording register's meaning (a 128-bit record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    /// The faulting request's source id (bus << 8 | devfn).
    pub source: u16,
    pub request: Request,
    /// The unit's fault reason code.
    pub reason: u8,
}

/// Fault reasons 0x20..0x2f are interrupt-remapping faults.
pub const fn is_interrupt_reason(reason: u8) -> bool {
    reason & 0xf0 == 0x20
}

/// What a VT-d fault reason means, in a few words.
pub const fn reason_text(reason: u8) -> &'static str {
    match reason {
        0x1 => "no root entry",
        0x2 => "no context entry",
        0x3 => "bad context entry",
        0x4 => "address beyond the domain's width",
        0x5 => "write to a page not writable (or not mapped)",
        0x6 => "read of a page not readable (or not mapped)",
        0x7 => "bad second-level table address",
        0x20 => "interrupt request with a reserved field set",
        0x21 => "interrupt index beyond the remapping table",
        0x22 => "interrupt remapping entry not present",
        0x23 => "remapping table not accessible",
        0x24 => "interrupt remapping entry with a reserved field set",
        0x25 => "compatibility-format interrupt blocked",
        0x26 => "interrupt request from a source the entry does not allow",
        r if is_interrupt_reason(r) => "interrupt request blocked",
        _ => "request blocked",
    }
}

impl FaultRecord {
    /// Decodes a record; None when its fault bit is clear.
    pub fn decode(lo: u64, hi: u64) -> Option<FaultRecord> {
        if hi & (1 << 63) == 0 {
            return None;
        }
        let reason = (hi >> 32) as u8;
        let request = if is_interrupt_reason(reason) {
            // Fault info bits 63:48 hold the interrupt index.
            Request::Interrupt { index: (lo >> 48) as u16 }
        } else {
            // Type bit 62: 0 is a write request, 1 a read.
            Request::Dma { iova: lo & !0xfff, write: hi & (1 << 62) == 0 }
        };
        Some(FaultRecord { source: hi as u16, request, reason })
    }

    /// The address to report: the I/O virtual address of a DMA request, the
    /// interrupt window's base for an interrupt request.
    pub fn addr(&self) -> u64 {
        match self.request {
            Request::Dma { iova, .. } => iova,
            Request::Interrupt { .. } => 0xfee0_0000,
        }
    }

    /// Whether the request wrote (an interrupt request is a write).
    pub fn write(&self) -> bool {
        match self.request {
            Request::Dma { write, .. } => write,
            Request::Interrupt { .. } => true,
        }
    }
}

#[cfg(not(test))]
pub use hw::{Unit, zeroed as hw_zeroed};

#[cfg(not(test))]
mod hw {
    use super::*;
    use crate::mem::frames::FrameAllocator;
    use crate::mem::phys_to_virt;

    /// How often a register is read before a command counts as not done.
    const SPINS: u32 = 10_000_000;

    /// A unit the kernel drives: its registers mapped at `regs`.
    pub struct Unit {
        regs: u64,
        pub caps: Caps,
        pub levels: u32,
        /// The root table: 256 entries of 16 bytes, one per bus.
        pub root: u64,
        /// Each bus's context table (0: none yet).
        context: [u64; 256],
        /// Domain ids in use (0 stays unused: caching mode reserves it).
        dids: alloc::vec::Vec<bool>,
        /// The invalidation queue, once it is on.
        queue: Option<Queue>,
        /// The interrupt remapping table, once remapping is on.
        pub irt: Option<u64>,
    }

    /// The invalidation queue: a page of descriptors, the next free index,
    /// and a status dword the wait descriptors write their sequence into.
    struct Queue {
        base: u64,
        tail: usize,
        status: u64,
        seq: u32,
    }

    /// Why queued invalidation did not complete.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum QiError {
        /// The unit flagged a descriptor as invalid (FSTS.IQE).
        QueueError,
        /// The wait descriptor's status write never came.
        Timeout,
    }

    fn write_entry(table: u64, i: usize, e: [u64; 2]) {
        let p = (phys_to_virt(table) as *mut u64).wrapping_add(2 * (i & 0xff));
        // SAFETY: `table` is a root or context table frame the kernel owns,
        // reached through the direct map; `i` is masked to its 256 entries.
        // The high half goes first so the present bit comes last.
        unsafe {
            p.add(1).write_volatile(e[1]);
            p.write_volatile(e[0]);
        }
    }

    impl Unit {
        pub fn r32(&self, off: usize) -> u32 {
            // SAFETY: the unit's register page is mapped uncached at `regs`
            // and `off` is one of its register offsets, within the page.
            unsafe { ((self.regs + off as u64) as *const u32).read_volatile() }
        }
        pub fn w32(&self, off: usize, v: u32) {
            // SAFETY: as in `r32`.
            unsafe { ((self.regs + off as u64) as *mut u32).write_volatile(v) }
        }
        pub fn r64(&self, off: usize) -> u64 {
            // SAFETY: as in `r32`; 64-bit registers are 8-byte aligned.
            unsafe { ((self.regs + off as u64) as *const u64).read_volatile() }
        }
        pub fn w64(&self, off: usize, v: u64) {
            // SAFETY: as in `r64`.
            unsafe { ((self.regs + off as u64) as *mut u64).write_volatile(v) }
        }

        /// Waits until `done` holds of the register at `off`.
        fn wait(&self, off: usize, wide: bool, done: impl Fn(u64) -> bool) -> bool {
            (0..SPINS).any(|_| done(if wide { self.r64(off) } else { self.r32(off) as u64 }))
        }

        /// Issues a one-shot or persistent global command and waits for its status.
        fn command(&self, bit: u32, on: bool) -> bool {
            let keep = self.r32(reg::GSTS) & gcmd::PERSISTENT;
            self.w32(reg::GCMD, if on { keep | bit } else { keep & !bit });
            let one_shot = bit & gcmd::PERSISTENT == 0;
            self.wait(reg::GSTS, false, |s| {
                let set = s as u32 & bit != 0;
                if one_shot || on { set } else { !set }
            })
        }

        /// Takes over the unit whose registers are mapped at `regs`: an empty
        /// root table (every device's DMA blocked), caches flushed, DMA
        /// remapping on. None, with the reason, when the unit cannot be used.
        pub fn start(regs: u64, frames: &mut FrameAllocator) -> Result<Unit, &'static str> {
            let mut u = Unit {
                regs,
                caps: Caps::decode(0, 0),
                levels: 3,
                root: 0,
                context: [0; 256],
                dids: alloc::vec::Vec::new(),
                queue: None,
                irt: None,
            };
            u.caps = Caps::decode(u.r64(reg::CAP), u.r64(reg::ECAP));
            u.levels = u.caps.levels.ok_or("it supports neither 3- nor 4-level tables")?;
            if u.r32(reg::GSTS) & gcmd::TE != 0 && !u.command(gcmd::TE, false) {
                return Err("the firmware left translation on and it does not switch off");
            }
            u.dids = alloc::vec![false; u.caps.domains.min(4096) as usize];
            u.root = zeroed(frames).ok_or("no memory for its root table")?;
            u.w64(reg::RTADDR, u.root);
            if !u.command(gcmd::SRTP, true) {
                return Err("it did not take the root table");
            }
            if u.caps.queued_invalidation {
                u.start_queue(frames)?;
            }
            if !u.invalidate() {
                return Err("its caches do not invalidate");
            }
            if !u.command(gcmd::TE, true) {
                return Err("translation does not switch on");
            }
            Ok(u)
        }

        /// Switches the invalidation queue on: from then on every
        /// invalidation goes through it.
        fn start_queue(&mut self, frames: &mut FrameAllocator) -> Result<(), &'static str> {
            let base = zeroed(frames).ok_or("no memory for its invalidation queue")?;
            let status = zeroed(frames).ok_or("no memory for its invalidation status")?;
            // An empty queue (head = tail = 0) of 256 128-bit descriptors.
            self.w64(reg::IQT, 0);
            self.w64(reg::IQA, base & !0xfff);
            if !self.command(gcmd::QIE, true) {
                return Err("queued invalidation does not switch on");
            }
            let tail = (self.r64(reg::IQH) >> 4) as usize % qi::ENTRIES;
            self.queue = Some(Queue { base, tail, status, seq: 0 });
            Ok(())
        }

        /// Switches interrupt remapping on (needs the queue, for the
        /// interrupt entry cache): a table whose 256 entries are all not
        /// present, compatibility-format interrupts not allowed. Every
        /// interrupt request a device sends to 0xFEEx_xxxx is then blocked.
        pub fn start_interrupt_remapping(&mut self, frames: &mut FrameAllocator) -> Result<(), &'static str> {
            if !self.caps.interrupt_remapping {
                return Err("the unit does not offer it");
            }
            if self.queue.is_none() {
                return Err("it needs queued invalidation, which the unit does not offer");
            }
            let irt = zeroed(frames).ok_or("no memory for its table")?;
            self.w64(reg::IRTA, irta(irt, IRTA_SIZE));
            if !self.command(gcmd::SIRTP, true) {
                return Err("the unit did not take the table");
            }
            self.submit(&[qi::iec_global()]).map_err(|_| "the interrupt entry cache does not invalidate")?;
            if self.r32(reg::GSTS) & gcmd::CFI != 0 && !self.command(gcmd::CFI, false) {
                return Err("compatibility-format interrupts stay allowed");
            }
            if !self.command(gcmd::IRE, true) {
                return Err("it does not switch on");
            }
            self.irt = Some(irt);
            Ok(())
        }

        /// Writes remapping entry `index` (None: not present) and
        /// invalidates the interrupt entry cache, so that when it returns
        /// the unit uses the new entry.
        pub fn set_irte(&mut self, index: usize, entry: Option<[u64; 2]>) -> Result<(), &'static str> {
            let irt = self.irt.ok_or("interrupt remapping is off")?;
            if index >= 1 << (IRTA_SIZE + 1) {
                return Err("no such remapping entry");
            }
            let p = (phys_to_virt(irt) as *mut u64).wrapping_add(2 * index);
            // SAFETY: the table is one page the kernel allocated (256 entries
            // of 16 bytes) and `index` < 256. The present bit (low word, bit
            // 0) is written last when setting and first when clearing.
            unsafe {
                match entry {
                    Some([lo, hi]) => {
                        p.add(1).write_volatile(hi);
                        p.write_volatile(lo);
                    }
                    None => {
                        p.write_volatile(0);
                        p.add(1).write_volatile(0);
                    }
                }
            }
            self.submit(&[qi::iec_global()]).map_err(|_| "the interrupt entry cache does not invalidate")
        }

        /// Whether interrupt remapping is on and compatibility-format
        /// interrupts are not allowed, as the status register says.
        pub fn interrupts_remapped(&self) -> bool {
            let s = self.r32(reg::GSTS);
            s & gcmd::IRE != 0 && s & gcmd::CFI == 0
        }

        /// Puts `descs` and a wait descriptor on the queue and waits for the
        /// wait's status write.
        fn submit(&mut self, descs: &[[u64; 2]]) -> Result<(), QiError> {
            let Some(q) = self.queue.as_mut() else { return Err(QiError::QueueError) };
            q.seq = q.seq.wrapping_add(1).max(1);
            let (seq, status) = (q.seq, q.status);
            // SAFETY: the status dword is in a frame the kernel allocated
            // for the queue, reached through the direct map.
            unsafe { (phys_to_virt(status) as *mut u32).write_volatile(0) };
            // Every submission is waited for, so the queue is empty here
            // and the few descriptors of one cannot fill it.
            for d in descs.iter().copied().chain(core::iter::once(qi::wait(status, seq))) {
                let p = (phys_to_virt(q.base) as *mut u64).wrapping_add(2 * q.tail);
                // SAFETY: `q.tail` < 256, so the 16 bytes are within the
                // queue's page, which the kernel owns.
                unsafe {
                    p.write_volatile(d[0]);
                    p.add(1).write_volatile(d[1]);
                }
                q.tail = qi::advance(q.tail, 1);
            }
            let tail = q.tail;
            self.w64(reg::IQT, qi::reg(tail));
            for _ in 0..SPINS {
                // SAFETY: as above; the unit writes it by DMA.
                if unsafe { (phys_to_virt(status) as *const u32).read_volatile() } == seq {
                    return Ok(());
                }
                if self.r32(reg::FSTS) & fsts::IQE != 0 {
                    // Skip what the unit refused, clear the error, go on.
                    let head = self.r64(reg::IQH);
                    self.w64(reg::IQT, head);
                    if let Some(q) = self.queue.as_mut() {
                        q.tail = (head >> 4) as usize % qi::ENTRIES;
                    }
                    self.w32(reg::FSTS, fsts::IQE);
                    return Err(QiError::QueueError);
                }
            }
            Err(QiError::Timeout)
        }

        /// Invalidates the context cache and the IOTLB (globally) and waits.
        pub fn invalidate(&mut self) -> bool {
            if self.queue.is_some() {
                return self.submit(&[qi::context_global(), qi::iotlb_global()]).is_ok();
            }
            self.w64(reg::CCMD, CCMD_GLOBAL);
            let ctx = self.wait(reg::CCMD, true, |v| v & (1 << 63) == 0);
            let iotlb = self.caps.iotlb_offset + 8;
            self.w64(iotlb, IOTLB_GLOBAL);
            ctx && self.wait(iotlb, true, |v| v & (1 << 63) == 0)
        }

        /// Takes the recorded faults out of the fault-recording registers
        /// (clearing each, and the overflow bit), oldest first.
        pub fn take_faults(&self, out: &mut alloc::vec::Vec<FaultRecord>) {
            // Primary pending fault (1) or fault overflow (0).
            if self.r32(reg::FSTS) & fsts::FAULTS == 0 {
                return;
            }
            for i in 0..self.caps.faults.min(256) {
                let at = self.caps.fault_offset + 16 * i;
                if at + 16 > 4096 {
                    break;
                }
                if let Some(f) = FaultRecord::decode(self.r64(at), self.r64(at + 8)) {
                    out.push(f);
                    // The F bit (127) is write-1-to-clear.
                    self.w32(at + 12, 1 << 31);
                }
            }
            self.w32(reg::FSTS, 1);
        }

        /// A free domain id.
        pub fn alloc_did(&mut self) -> Option<u16> {
            let i = self.dids.iter().skip(1).position(|&used| !used)? + 1;
            self.dids[i] = true;
            Some(i as u16)
        }

        pub fn free_did(&mut self, did: u16) {
            if let Some(d) = self.dids.get_mut(did as usize) {
                *d = false;
            }
        }

        /// Points the device `source` at `sl_root` in domain `did` (or, with
        /// None, at nothing: its DMA faults), then invalidates.
        pub fn set_context(
            &mut self,
            source: u16,
            target: Option<(u64, u16)>,
            frames: &mut FrameAllocator,
        ) -> Result<(), l4_sys::Error> {
            let bus = (source >> 8) as usize;
            if self.context[bus] == 0 {
                if target.is_none() {
                    return Ok(());
                }
                let t = zeroed(frames).ok_or(l4_sys::Error::OutOfMemory)?;
                self.context[bus] = t;
                write_entry(self.root, bus, root_entry(t));
            }
            let e = match target {
                Some((sl_root, did)) => context_entry(sl_root, self.levels, did),
                None => [0, 0],
            };
            write_entry(self.context[bus], (source & 0xff) as usize, e);
            if !self.invalidate() {
                crate::kerror!("IOMMU: invalidation did not complete");
            }
            Ok(())
        }
    }

    /// A zeroed frame.
    pub fn zeroed(frames: &mut FrameAllocator) -> Option<u64> {
        let f = frames.alloc()?;
        // SAFETY: a fresh frame, reached through the direct map.
        unsafe { phys_to_virt(f.addr()).write_bytes(0, 4096) };
        Some(f.addr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemus_capabilities_decode() {
        // QEMU 7.2's intel-iommu with intremap=on: 39-bit SAGAW, ND 2, fault
        // recording at 0x220 (FRO 0x22), one record, IOTLB registers at 0xf0.
        let cap = (0x22u64 << 24) | (0b010 << 8) | 2 | (0x26 << 16) | (1 << 39);
        let ecap = (0xfu64 << 8) | (1 << 3) | (1 << 1);
        let c = Caps::decode(cap, ecap);
        assert_eq!(c.levels, Some(3));
        assert_eq!(c.domains, 256);
        assert_eq!((c.fault_offset, c.faults), (0x220, 1));
        assert_eq!(c.iotlb_offset, 0xf0);
        assert!(c.interrupt_remapping && c.queued_invalidation);
        assert!(!c.caching_mode && !c.write_buffer_flush);
        assert_eq!(Caps::decode(0b100 << 8, 0).levels, Some(4));
        assert_eq!(Caps::decode(0b001 << 8, 0).levels, None, "2-level tables only: unusable");
    }

    #[test]
    fn entries_encode() {
        assert_eq!(root_entry(0x12_3000), [0x12_3001, 0]);
        let [lo, hi] = context_entry(0x45_6000, 3, 7);
        assert_eq!(lo, 0x45_6001, "present, translation type 0");
        assert_eq!(hi, 1 | (7 << 8), "39-bit width, domain 7");
        assert_eq!(context_entry(0x45_6000, 4, 1)[1] & 7, 2, "48-bit width");
    }

    #[test]
    fn fault_records_decode() {
        assert_eq!(FaultRecord::decode(0x1234_5678, 0), None, "fault bit clear");
        let hi = (1u64 << 63) | (6u64 << 32) | 0x0010;
        let f = FaultRecord::decode(0xfee0_0abc, hi).unwrap();
        assert_eq!(
            f,
            FaultRecord { source: 0x10, request: Request::Dma { iova: 0xfee0_0000, write: true }, reason: 6 }
        );
        assert!(f.write() && f.addr() == 0xfee0_0000);
        assert!(!FaultRecord::decode(0, hi | (1 << 62)).unwrap().write());
    }

    #[test]
    fn interrupt_remapping_faults_decode() {
        // Reason 0x22 (entry not present) for index 0x8000 of 00:02.0: the
        // index is in fault info bits 63:48, the type bit means nothing.
        let hi = (1u64 << 63) | (1 << 62) | (0x22u64 << 32) | 0x0010;
        let f = FaultRecord::decode(0x8000u64 << 48, hi).unwrap();
        assert_eq!(f, FaultRecord { source: 0x10, request: Request::Interrupt { index: 0x8000 }, reason: 0x22 });
        assert!(f.write(), "an interrupt request is a write");
        assert_eq!(f.addr(), 0xfee0_0000);
        for r in 0x20..=0x26 {
            assert!(is_interrupt_reason(r), "{r:#x}");
            assert!(reason_text(r).contains("interrupt") || reason_text(r).contains("remapping table"), "{r:#x}");
        }
        assert!(!is_interrupt_reason(0x5) && !is_interrupt_reason(0x30));
        assert_eq!(reason_text(0x25), "compatibility-format interrupt blocked");
        assert_eq!(reason_text(0x5), "write to a page not writable (or not mapped)");
    }

    #[test]
    fn queue_descriptors_encode() {
        // Type in bits 3:0, granularity 01 (global) in bits 5:4.
        assert_eq!(qi::context_global(), [0x11, 0]);
        assert_eq!(qi::iotlb_global(), [0x12 | 0xc0, 0], "global, drain reads and writes");
        assert_eq!(qi::iec_global(), [0x4, 0], "global: granularity bit 4 clear");
        // Wait: type 5, status write (bit 5), no interrupt (bit 4 clear),
        // the data in bits 63:32 and the dword-aligned address in the high half.
        let [lo, hi] = qi::wait(0x1234_5678, 0xabcd);
        assert_eq!(lo, 0x25 | (0xabcd << 32));
        assert_eq!(lo & (1 << 4), 0);
        assert_eq!(hi, 0x1234_5678 & !3);
        assert_eq!(qi::wait(0x1003, 1)[1], 0x1000);
        // The queue wraps after 256 entries; IQT holds the index at bit 4.
        assert_eq!(qi::advance(254, 3), 1);
        assert_eq!(qi::advance(0, 1), 1);
        assert_eq!(qi::reg(3), 0x30);
        assert_eq!(qi::reg(qi::ENTRIES), 0);
    }

    #[test]
    fn remapping_entries_and_their_msi_encode() {
        // Vector 0x31 to APIC 0 for 00:03.0 (source 0x18): present, edge,
        // fixed, physical; SVT 01, SQ 00.
        let [lo, hi] = irte(0x31, 0, 0x18);
        assert_eq!(lo, 0x0031_0001);
        assert_eq!(hi, 0x18 | 1 << 18);
        assert_eq!(irte(0x31, 2, 0x18)[0] >> 40, 2, "xAPIC id in bits 47:40");
        assert_eq!(lo & (0b111 << 5 | 1 << 4 | 1 << 2 | 1 << 15), 0, "fixed, edge, physical, remapped");
        // Index 3: bits 19:5, the format bit 4, SHV (3) clear.
        assert_eq!(msi_remappable(3), (0xfee0_0070, 0));
        assert_eq!(msi_remappable(0x8001).0, 0xfee0_0000 | 1 << 5 | 1 << 4 | 1 << 2, "index bit 15 in bit 2");
        assert_eq!(msi_remappable(0).0 >> 20, 0xfee, "in the interrupt window");
    }

    #[test]
    fn the_remapping_table_register_encodes() {
        // 256 entries (2^(7+1)), xAPIC mode (EIME, bit 11, clear).
        assert_eq!(irta(0x7_6000, IRTA_SIZE), 0x7_6007);
        assert_eq!(irta(0x7_6abc, IRTA_SIZE) & (1 << 11), 0);
        assert_eq!(1usize << (IRTA_SIZE + 1), 4096 / 16, "one page of 16-byte entries");
    }
}

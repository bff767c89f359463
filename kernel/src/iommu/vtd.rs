//! One Intel VT-d remapping unit: its registers, the root and context
//! tables that lead each PCI device (by source id) to its domain's
//! second-level tables, and invalidation of the unit's caches.
//!
//! The encodings (capability fields, root and context entries) are plain
//! functions, host-tested; the register accesses are `cfg(not(test))`.
//! Invalidation is register-based (context command and IOTLB registers),
//! global, and waited for, so that when a call returns the unit no longer
//! uses what it was told to forget.

/// Register offsets (VT-d specification, chapter 11).
pub mod reg {
    pub const CAP: usize = 0x08;
    pub const ECAP: usize = 0x10;
    pub const GCMD: usize = 0x18;
    pub const GSTS: usize = 0x1c;
    pub const RTADDR: usize = 0x20;
    pub const CCMD: usize = 0x28;
    pub const FSTS: usize = 0x34;
}

/// Global command / status bits.
pub mod gcmd {
    pub const TE: u32 = 1 << 31;
    pub const SRTP: u32 = 1 << 30;
    pub const QIE: u32 = 1 << 26;
    pub const IRE: u32 = 1 << 25;
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

/// One fault-recording register's meaning (a 128-bit record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    /// The faulting request's source id (bus << 8 | devfn).
    pub source: u16,
    /// The page-aligned I/O virtual address.
    pub iova: u64,
    /// The request was a write (else a read).
    pub write: bool,
    /// The unit's fault reason code.
    pub reason: u8,
}

impl FaultRecord {
    /// Decodes a record; None when its fault bit is clear.
    pub fn decode(lo: u64, hi: u64) -> Option<FaultRecord> {
        if hi & (1 << 63) == 0 {
            return None;
        }
        Some(FaultRecord {
            source: hi as u16,
            iova: lo & !0xfff,
            // Type bit 62: 0 is a write request, 1 a read.
            write: hi & (1 << 62) == 0,
            reason: (hi >> 32) as u8,
        })
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
            if !u.invalidate() {
                return Err("its caches do not invalidate");
            }
            if !u.command(gcmd::TE, true) {
                return Err("translation does not switch on");
            }
            Ok(u)
        }

        /// Invalidates the context cache and the IOTLB (globally) and waits.
        pub fn invalidate(&self) -> bool {
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
            if self.r32(reg::FSTS) & 0b11 == 0 {
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
        assert_eq!(f, FaultRecord { source: 0x10, iova: 0xfee0_0000, write: true, reason: 6 });
        assert!(!FaultRecord::decode(0, hi | (1 << 62)).unwrap().write);
    }
}

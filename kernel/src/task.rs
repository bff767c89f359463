//! Tasks: a protection domain with an address space, a capability table, threads,
//! I/O rights and a memory quota. The creator learns of its faults.

use crate::obj::ObjId;
use crate::space::AddressSpace;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use l4_sys::event::{Event, REASON_BYTES, TaskState};
use l4_sys::{CapIdx, Rights};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    pub obj: ObjId,
    pub rights: Rights,
}

pub struct CapTable {
    slots: Vec<Option<Cap>>,
}

impl CapTable {
    pub fn new() -> CapTable {
        CapTable { slots: alloc::vec![None; l4_sys::cap::CAP_SLOTS] }
    }

    #[inline]
    pub fn get(&self, idx: CapIdx) -> Option<Cap> {
        *self.slots.get(idx.0 as usize)?
    }

    /// Puts `cap` into an empty slot.
    pub fn install(&mut self, idx: CapIdx, cap: Cap) -> Result<(), l4_sys::Error> {
        if !idx.is_valid() {
            return Err(l4_sys::Error::InvalidArgument);
        }
        let slot = &mut self.slots[idx.0 as usize];
        if slot.is_some() {
            return Err(l4_sys::Error::InUse);
        }
        *slot = Some(cap);
        Ok(())
    }

    pub fn take(&mut self, idx: CapIdx) -> Option<Cap> {
        self.slots.get_mut(idx.0 as usize)?.take()
    }

    pub fn drain(&mut self) -> impl Iterator<Item = Cap> + '_ {
        self.slots.iter_mut().filter_map(|s| s.take())
    }
}

/// The per-space I/O permission bitmap and the page-table chain that maps it.
pub struct IoBitmap {
    /// The two bitmap frames (a set bit denies the port).
    pub bitmap: [u64; 2],
    /// PDPT, PD and PT frames of the window.
    pub tables: [u64; 3],
}

/// An event with the reason text that came with it (exits carry one).
#[derive(Clone, Copy)]
pub struct Record {
    pub event: Event,
    pub reason: [u8; REASON_BYTES],
    pub reason_len: usize,
}

impl Record {
    pub fn new(event: Event, reason: &[u8]) -> Record {
        let n = reason.len().min(REASON_BYTES);
        let mut r = Record { event, reason: [0; REASON_BYTES], reason_len: n };
        r.reason[..n].copy_from_slice(&reason[..n]);
        r
    }
}

pub struct Task {
    pub name: [u8; 32],
    pub name_len: usize,
    /// The task that created it (and owns it: destroying the creator destroys it).
    pub creator: Option<ObjId>,
    /// IRQ object triggered on every event.
    pub event_irq: Option<ObjId>,
    pub caps: CapTable,
    pub space: AddressSpace,
    /// Threads by index; `None` marks a free index.
    pub threads: Vec<Option<ObjId>>,
    pub max_threads: u32,
    pub state: TaskState,
    pub last_event: Option<Record>,
    /// Events the creator has not taken yet, oldest first.
    pub events: VecDeque<Record>,
    pub events_total: u64,
    pub quota_pages: u64,
    pub used_pages: u64,
    pub max_priority: u8,
    pub iopl: bool,
    pub io_bitmap: Option<IoBitmap>,
    pub factory: Option<ObjId>,
    /// Its capabilities to the tasks it creates carry `Rights::DEBUG`.
    pub may_debug: bool,
}

impl Task {
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }

    pub fn live_threads(&self) -> impl Iterator<Item = ObjId> + '_ {
        self.threads.iter().flatten().copied()
    }
}

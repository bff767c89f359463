//! Kernel objects and the arena that holds them.
//!
//! Every object lives in one slot of the arena and is named by an [`ObjId`]: the
//! slot index and a generation. Destroying an object bumps the slot's generation,
//! so every capability that still names it fails with `DeadObject` instead of
//! reaching whatever reuses the slot. No object is ever reached through a raw
//! pointer a user could influence.

use crate::space::Dataspace;
use crate::task::Task;
use crate::thread::Thread;
use alloc::boxed::Box;
use alloc::vec::Vec;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct ObjId {
    pub index: u32,
    pub generation: u32,
}

/// An IPC gate: the capability clients hold; the kernel passes their messages to
/// the thread bound to it, tagged with the gate's label.
pub struct Gate {
    pub owner: ObjId,
    pub thread: Option<ObjId>,
    pub label: u64,
}

/// An IRQ object: a hardware line or a software notification, delivered as a
/// message to the attached thread.
pub struct Irq {
    pub owner: ObjId,
    /// Attached thread and the label it receives.
    pub target: Option<(ObjId, u64)>,
    /// Triggered while the thread was not waiting.
    pub pending: bool,
    /// Hardware line, when bound through the ICU.
    pub line: Option<u8>,
    /// MSI slot, when bound to a device's message-signalled interrupt.
    pub msi: Option<u8>,
    /// An interrupt on the line was delivered and not yet acknowledged.
    pub awaiting_ack: bool,
}

/// Creates objects charged to one task's quota.
pub struct Factory {
    pub task: ObjId,
}

/// The right to a range of I/O ports.
pub struct IoPorts {
    pub owner: Option<ObjId>,
    pub base: u16,
    pub count: u32,
}

/// The right to a range of physical addresses that are not RAM (device memory).
pub struct IoMem {
    pub owner: Option<ObjId>,
    pub base: u64,
    pub size: u64,
}

pub enum Object {
    Task(Box<Task>),
    Thread(Box<Thread>),
    Gate(Gate),
    Irq(Irq),
    Factory(Factory),
    Dataspace(Box<Dataspace>),
    IoPorts(IoPorts),
    IoMem(IoMem),
    /// The interrupt controller: binds hardware lines to IRQ objects.
    Icu,
    /// The kernel log.
    Log,
    /// Kernel statistics and power control.
    Kernel,
    /// The IOMMU: creates DMA domains (the bus owner holds it).
    Iommu,
    /// What one PCI device can reach by DMA.
    DmaDomain(Box<crate::iommu::DmaDomain>),
}

impl Object {
    /// The kind of object, which decides the protocol it speaks.
    pub fn kind(&self) -> crate::syscall::Kind {
        use crate::syscall::Kind;
        match self {
            Object::Task(_) => Kind::Task,
            Object::Thread(_) => Kind::Thread,
            Object::Gate(_) => Kind::Gate,
            Object::Irq(_) => Kind::Irq,
            Object::Factory(_) => Kind::Factory,
            Object::Dataspace(_) => Kind::Dataspace,
            Object::IoPorts(_) => Kind::IoPorts,
            Object::IoMem(_) => Kind::IoMem,
            Object::Icu => Kind::Icu,
            Object::Log => Kind::Log,
            Object::Kernel => Kind::Kernel,
            Object::Iommu => Kind::Iommu,
            Object::DmaDomain(_) => Kind::DmaDomain,
        }
    }
}

impl Object {
    /// The task whose destruction destroys this object (None: lives forever or is
    /// reference counted).
    pub fn owner(&self) -> Option<ObjId> {
        match self {
            Object::Task(t) => t.creator,
            Object::Thread(t) => Some(t.task),
            Object::Gate(g) => Some(g.owner),
            Object::Irq(i) => Some(i.owner),
            Object::Factory(f) => Some(f.task),
            Object::IoPorts(p) => p.owner,
            Object::IoMem(m) => m.owner,
            Object::DmaDomain(d) => Some(d.owner),
            Object::Dataspace(_) | Object::Icu | Object::Log | Object::Kernel | Object::Iommu => None,
        }
    }
}

struct Slot {
    generation: u32,
    object: Option<Object>,
    /// The task whose quota pays for this object, and how many pages.
    charge: Option<(ObjId, u64)>,
}

#[derive(Default)]
pub struct Arena {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Arena {
    pub const fn new() -> Arena {
        Arena { slots: Vec::new(), free: Vec::new() }
    }

    pub fn insert(&mut self, object: Object) -> ObjId {
        self.insert_charged(object, None)
    }

    /// Inserts an object whose kernel memory is charged to a task's quota; the
    /// charge comes back with [`Arena::remove`].
    pub fn insert_charged(&mut self, object: Object, charge: Option<(ObjId, u64)>) -> ObjId {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.object = Some(object);
            slot.charge = charge;
            ObjId { index, generation: slot.generation }
        } else {
            self.slots.push(Slot { generation: 0, object: Some(object), charge });
            ObjId { index: (self.slots.len() - 1) as u32, generation: 0 }
        }
    }

    /// The id the next `insert` will return (lets an object know its own id).
    pub fn next_id(&self) -> ObjId {
        match self.free.last() {
            Some(&index) => ObjId { index, generation: self.slots[index as usize].generation },
            None => ObjId { index: self.slots.len() as u32, generation: 0 },
        }
    }

    #[inline]
    pub fn get(&self, id: ObjId) -> Option<&Object> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.object.as_ref()
    }

    #[inline]
    pub fn get_mut(&mut self, id: ObjId) -> Option<&mut Object> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.object.as_mut()
    }

    /// Removes an object; returns it with the charge to refund.
    pub fn remove(&mut self, id: ObjId) -> Option<(Object, Option<(ObjId, u64)>)> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation || slot.object.is_none() {
            return None;
        }
        let obj = slot.object.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        Some((obj, slot.charge.take()))
    }

    /// Moves every charge of `from` to `to` (or drops it); returns the pages moved.
    pub fn recharge(&mut self, from: ObjId, to: Option<ObjId>) -> u64 {
        let mut moved = 0;
        for s in self.slots.iter_mut().filter(|s| s.object.is_some()) {
            if let Some((payer, pages)) = s.charge
                && payer == from
            {
                s.charge = to.map(|t| (t, pages));
                moved += pages;
            }
        }
        moved
    }

    /// Ids of all live objects matching `pred`.
    pub fn ids_where(&self, mut pred: impl FnMut(&Object) -> bool) -> Vec<ObjId> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let o = s.object.as_ref()?;
                pred(o).then_some(ObjId { index: i as u32, generation: s.generation })
            })
            .collect()
    }

    #[inline]
    pub fn thread(&self, id: ObjId) -> Option<&Thread> {
        match self.get(id)? {
            Object::Thread(t) => Some(t),
            _ => None,
        }
    }

    #[inline]
    pub fn thread_mut(&mut self, id: ObjId) -> Option<&mut Thread> {
        match self.get_mut(id)? {
            Object::Thread(t) => Some(t),
            _ => None,
        }
    }

    #[inline]
    pub fn task(&self, id: ObjId) -> Option<&Task> {
        match self.get(id)? {
            Object::Task(t) => Some(t),
            _ => None,
        }
    }

    #[inline]
    pub fn task_mut(&mut self, id: ObjId) -> Option<&mut Task> {
        match self.get_mut(id)? {
            Object::Task(t) => Some(t),
            _ => None,
        }
    }

    pub fn irq_mut(&mut self, id: ObjId) -> Option<&mut Irq> {
        match self.get_mut(id)? {
            Object::Irq(i) => Some(i),
            _ => None,
        }
    }

    pub fn dataspace_mut(&mut self, id: ObjId) -> Option<&mut Dataspace> {
        match self.get_mut(id)? {
            Object::Dataspace(d) => Some(d),
            _ => None,
        }
    }

    /// A raw pointer to a thread, for the IPC fast path. The thread lives in its
    /// own heap allocation, which does not move while the thread exists.
    #[inline]
    pub fn thread_ptr(&mut self, id: ObjId) -> Option<*mut Thread> {
        match self.get_mut(id)? {
            Object::Thread(t) => Some(&mut **t as *mut Thread),
            _ => None,
        }
    }

    /// Two different threads at once, for message transfer.
    pub fn thread_pair_mut(&mut self, a: ObjId, b: ObjId) -> Option<(&mut Thread, &mut Thread)> {
        if a.index == b.index {
            return None;
        }
        let (lo, hi, swap) = if a.index < b.index { (a, b, false) } else { (b, a, true) };
        let (left, right) = self.slots.split_at_mut(hi.index as usize);
        let l = &mut left[lo.index as usize];
        let r = &mut right[0];
        if l.generation != lo.generation || r.generation != hi.generation {
            return None;
        }
        match (l.object.as_mut()?, r.object.as_mut()?) {
            (Object::Thread(x), Object::Thread(y)) => Some(if swap { (y, x) } else { (x, y) }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_do_not_reach_reused_slots() {
        let mut a = Arena::new();
        let log = a.insert(Object::Log);
        assert!(a.get(log).is_some());
        assert!(a.remove(log).is_some());
        let icu = a.insert(Object::Icu);
        assert_eq!(icu.index, log.index);
        assert!(a.get(log).is_none(), "a stale id must not reach the new object");
        assert!(a.remove(log).is_none());
        assert!(matches!(a.get(icu), Some(Object::Icu)));
    }

    #[test]
    fn next_id_predicts_insert() {
        let mut a = Arena::new();
        let x = a.insert(Object::Log);
        a.remove(x);
        let predicted = a.next_id();
        assert_eq!(a.insert(Object::Kernel), predicted);
    }
}

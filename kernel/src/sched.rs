//! Fixed-priority round-robin ready queues (256 levels, highest first).
//!
//! The running thread is not in a queue. A bitmap of non-empty levels makes
//! finding the highest ready priority a few instructions.

use crate::obj::ObjId;
use alloc::collections::VecDeque;

/// Ticks a thread runs before others of its priority get their turn.
pub const TIME_SLICE: u32 = 10;

pub struct Scheduler {
    queues: [VecDeque<ObjId>; 256],
    bitmap: [u64; 4],
    pub current: Option<ObjId>,
}

impl Scheduler {
    pub const fn new() -> Scheduler {
        Scheduler { queues: [const { VecDeque::new() }; 256], bitmap: [0; 4], current: None }
    }

    pub fn enqueue(&mut self, id: ObjId, prio: u8) {
        self.queues[prio as usize].push_back(id);
        self.bitmap[prio as usize / 64] |= 1 << (prio % 64);
    }

    /// Puts a preempted thread back at the head of its level: it keeps its turn.
    pub fn enqueue_front(&mut self, id: ObjId, prio: u8) {
        self.queues[prio as usize].push_front(id);
        self.bitmap[prio as usize / 64] |= 1 << (prio % 64);
    }

    pub fn highest(&self) -> Option<u8> {
        for w in (0..4).rev() {
            if self.bitmap[w] != 0 {
                return Some((w * 64 + 63 - self.bitmap[w].leading_zeros() as usize) as u8);
            }
        }
        None
    }

    /// Whether a thread of a priority above `prio` is queued: the fast path's
    /// question, answered from one or two bitmap words without a scan.
    #[inline]
    pub fn has_above(&self, prio: u8) -> bool {
        let w = prio as usize / 64;
        // Bits above `prio` in its own word; `prio % 64 == 63` leaves none.
        let above = !0u64 << (prio % 64) << 1;
        self.bitmap[w] & above != 0 || self.bitmap[w + 1..].iter().any(|&b| b != 0)
    }

    pub fn pop_highest(&mut self) -> Option<ObjId> {
        let prio = self.highest()?;
        let q = &mut self.queues[prio as usize];
        let id = q.pop_front();
        if q.is_empty() {
            self.bitmap[prio as usize / 64] &= !(1 << (prio % 64));
        }
        id
    }

    pub fn remove(&mut self, id: ObjId, prio: u8) {
        let q = &mut self.queues[prio as usize];
        q.retain(|&x| x != id);
        if q.is_empty() {
            self.bitmap[prio as usize / 64] &= !(1 << (prio % 64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u32) -> ObjId {
        ObjId { index: i, generation: 0 }
    }

    #[test]
    fn highest_priority_first_then_fifo() {
        let mut s = Scheduler::new();
        s.enqueue(id(1), 10);
        s.enqueue(id(2), 200);
        s.enqueue(id(3), 10);
        s.enqueue(id(4), 0);
        s.enqueue_front(id(5), 10);
        assert_eq!(s.highest(), Some(200));
        let order: alloc::vec::Vec<_> = core::iter::from_fn(|| s.pop_highest()).map(|x| x.index).collect();
        assert_eq!(order, [2, 5, 1, 3, 4]);
        assert_eq!(s.highest(), None);
    }

    #[test]
    fn above_is_strictly_above() {
        let mut s = Scheduler::new();
        assert!(!s.has_above(0));
        s.enqueue(id(1), 200);
        assert!(s.has_above(0) && s.has_above(199) && s.has_above(63));
        assert!(!s.has_above(200) && !s.has_above(201) && !s.has_above(255));
        s.enqueue(id(2), 64);
        assert!(s.has_above(63) && s.has_above(0));
        s.remove(id(1), 200);
        assert!(!s.has_above(64) && s.has_above(63));
        s.enqueue(id(3), 255);
        assert!(s.has_above(254) && !s.has_above(255));
        for p in 0..=255u8 {
            assert_eq!(s.has_above(p), s.highest().is_some_and(|h| h > p), "priority {p}");
        }
    }

    #[test]
    fn removal_clears_empty_levels() {
        let mut s = Scheduler::new();
        s.enqueue(id(1), 255);
        s.enqueue(id(2), 64);
        s.remove(id(1), 255);
        assert_eq!(s.highest(), Some(64));
        s.remove(id(2), 64);
        assert_eq!(s.pop_highest(), None);
    }
}

//! The timer queue of `ddekit_add_timer`: pending timers sorted by expiry
//! (ties in the order they were added), in a fixed table so that adding a
//! timer never allocates (interrupt handlers add timers).
//!
//! Ids are handed out in increasing order, wrap at `i32::MAX` and skip ids
//! still pending, so an id is never reused while its timer is pending and
//! `del_timer` of an expired or deleted timer cannot hit a newer one until the
//! counter has wrapped all the way round.

/// A pending timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer<T> {
    pub expires: u64,
    pub id: i32,
    pub payload: T,
}

pub struct TimerQueue<T, const N: usize> {
    /// Sorted by `expires`, ties in insertion order; `len` used.
    items: [Option<Timer<T>>; N],
    len: usize,
    next_id: i32,
}

impl<T: Copy, const N: usize> Default for TimerQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> TimerQueue<T, N> {
    pub const fn new() -> Self {
        TimerQueue { items: [None; N], len: 0, next_id: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn position(&self, id: i32) -> Option<usize> {
        self.items[..self.len].iter().position(|t| t.is_some_and(|t| t.id == id))
    }

    pub fn pending(&self, id: i32) -> bool {
        self.position(id).is_some()
    }

    /// Queues a timer; its id, or `None` when the table is full.
    pub fn add(&mut self, expires: u64, payload: T) -> Option<i32> {
        if self.len == N {
            return None;
        }
        let id = loop {
            let id = self.next_id;
            self.next_id = if id == i32::MAX { 0 } else { id + 1 };
            if !self.pending(id) {
                break id;
            }
        };
        // After every timer that expires no later: ties keep their order.
        let at = self.items[..self.len].partition_point(|t| t.is_some_and(|t| t.expires <= expires));
        self.items.copy_within(at..self.len, at + 1);
        self.items[at] = Some(Timer { expires, id, payload });
        self.len += 1;
        Some(id)
    }

    /// Removes a pending timer.
    pub fn remove(&mut self, id: i32) -> Option<Timer<T>> {
        let at = self.position(id)?;
        let t = self.items[at];
        self.items.copy_within(at + 1..self.len, at);
        self.len -= 1;
        self.items[self.len] = None;
        t
    }

    /// The earliest expiry.
    pub fn next_expiry(&self) -> Option<u64> {
        self.items[0].filter(|_| self.len > 0).map(|t| t.expires)
    }

    /// Takes the earliest timer if it has expired at `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<Timer<T>> {
        let first = self.items[0].filter(|_| self.len > 0)?;
        if first.expires > now {
            return None;
        }
        self.remove(first.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_expiry_order_ties_in_add_order() {
        let mut q: TimerQueue<u32, 16> = TimerQueue::new();
        let a = q.add(30, 1).unwrap();
        let b = q.add(10, 2).unwrap();
        let c = q.add(20, 3).unwrap();
        let d = q.add(10, 4).unwrap();
        assert_eq!((a, b, c, d), (0, 1, 2, 3));
        assert_eq!(q.next_expiry(), Some(10));
        assert_eq!(q.pop_due(9), None);
        let fired: Vec<u32> = core::iter::from_fn(|| q.pop_due(25)).map(|t| t.payload).collect();
        assert_eq!(fired, [2, 4, 3]);
        assert!(q.pending(a));
        assert_eq!(q.pop_due(30).map(|t| t.payload), Some(1));
        assert!(q.is_empty());
        assert_eq!(q.next_expiry(), None);
    }

    #[test]
    fn removal_and_pending() {
        let mut q: TimerQueue<u32, 4> = TimerQueue::new();
        let ids: Vec<i32> = (0..4).map(|i| q.add(100 - i as u64, i).unwrap()).collect();
        assert_eq!(q.add(1, 9), None, "full");
        assert_eq!(q.remove(ids[1]).map(|t| t.payload), Some(1));
        assert_eq!(q.remove(ids[1]), None);
        assert!(!q.pending(ids[1]));
        assert!(q.pending(ids[2]));
        let order: Vec<u32> = core::iter::from_fn(|| q.pop_due(u64::MAX)).map(|t| t.payload).collect();
        assert_eq!(order, [3, 2, 0]);
    }

    #[test]
    fn ids_wrap_but_skip_pending_ones() {
        let mut q: TimerQueue<(), 8> = TimerQueue::new();
        let first = q.add(5, ()).unwrap();
        assert_eq!(first, 0);
        q.next_id = i32::MAX;
        assert_eq!(q.add(5, ()), Some(i32::MAX));
        // 0 is still pending: the counter skips it.
        assert_eq!(q.add(5, ()), Some(1));
        assert!(q.pending(0) && q.pending(i32::MAX) && q.pending(1));
        // Never a negative id.
        for _ in 0..5 {
            assert!(q.add(1, ()).unwrap() >= 0);
        }
    }
}

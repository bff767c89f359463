//! Subscriptions: a prefix, the subscriber's notification IRQ, and a bounded
//! queue of events the subscriber fetches.
//!
//! Every event is queued in order; when a queue is full, new events are
//! dropped and counted, and the subscriber learns the count with its next
//! fetch (it then re-reads what it watches).

use crate::Error;
use crate::table::try_string;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use protocols::store::{EVENT_CHANGED, EVENT_CREATED, EVENT_DELETED, event_words};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Changed,
    Deleted,
}

impl EventKind {
    /// The protocol's `EVENT_*`.
    pub fn code(self) -> u8 {
        match self {
            EventKind::Created => EVENT_CREATED,
            EventKind::Changed => EVENT_CHANGED,
            EventKind::Deleted => EVENT_DELETED,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub key: String,
    pub kind: EventKind,
    pub version: u64,
}

#[derive(Debug)]
pub struct Subscription {
    pub client: String,
    pub prefix: String,
    /// The store's slot holding the subscriber's IRQ.
    pub irq: u32,
    queue: VecDeque<Event>,
    lost: u64,
}

/// A subscription to wake: its id and the slot of its IRQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    pub id: u64,
    pub irq: u32,
}

/// Events taken from a queue.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub events: Vec<Event>,
    /// Events dropped since the last fetch.
    pub lost: u64,
    /// Events are left for the next fetch.
    pub more: bool,
}

#[derive(Debug, Default)]
pub struct Subscriptions {
    subs: BTreeMap<u64, Subscription>,
    next_id: u64,
}

impl Subscriptions {
    pub fn new() -> Subscriptions {
        Subscriptions::default()
    }

    /// Adds a subscription; the caller has checked the limits and permission.
    pub fn add(&mut self, client: &str, prefix: &str, irq: u32) -> Result<u64, Error> {
        let sub = Subscription {
            client: try_string(client)?,
            prefix: try_string(prefix)?,
            irq,
            queue: VecDeque::new(),
            lost: 0,
        };
        self.next_id += 1;
        self.subs.insert(self.next_id, sub);
        Ok(self.next_id)
    }

    /// Removes one subscription of `client`; returns its IRQ slot.
    pub fn remove(&mut self, client: &str, id: u64) -> Result<u32, Error> {
        match self.subs.get(&id) {
            Some(s) if s.client == client => Ok(self.subs.remove(&id).map(|s| s.irq).unwrap_or(0)),
            _ => Err(Error::BadId),
        }
    }

    /// Removes every subscription of `client`; returns their IRQ slots.
    pub fn remove_all(&mut self, client: &str) -> Vec<u32> {
        let ids: Vec<u64> = self.of(client).map(|(id, _)| id).collect();
        ids.into_iter().filter_map(|id| self.subs.remove(&id)).map(|s| s.irq).collect()
    }

    /// Removes a subscription whatever its client (its IRQ is dead).
    pub fn drop_id(&mut self, id: u64) -> Option<u32> {
        self.subs.remove(&id).map(|s| s.irq)
    }

    /// `(id, IRQ slot)` of `client`'s subscriptions.
    pub fn of<'a>(&'a self, client: &'a str) -> impl Iterator<Item = (u64, u32)> + 'a {
        self.subs.iter().filter(move |(_, s)| s.client == client).map(|(&id, s)| (id, s.irq))
    }

    pub fn count(&self, client: &str) -> u32 {
        self.of(client).count() as u32
    }

    /// Queues an event for every subscription whose prefix matches and whose
    /// client `may_read` the key (keeping at most `queue_len` per queue);
    /// returns the subscriptions to wake.
    pub fn post(
        &mut self,
        key: &str,
        kind: EventKind,
        version: u64,
        queue_len: usize,
        may_read: impl Fn(&str) -> bool,
    ) -> Vec<Wake> {
        let mut wake = Vec::new();
        for (&id, s) in self.subs.iter_mut() {
            if !key.starts_with(s.prefix.as_str()) || !may_read(&s.client) {
                continue;
            }
            let queued = s.queue.len() < queue_len
                && s.queue.try_reserve(1).is_ok()
                && try_string(key).map(|key| s.queue.push_back(Event { key, kind, version })).is_ok();
            if !queued {
                s.lost = s.lost.saturating_add(1);
            }
            wake.push(Wake { id, irq: s.irq });
        }
        wake
    }

    /// Takes the oldest events of `client`'s subscription `id` that fit in
    /// `room` words of a reply.
    pub fn take(&mut self, client: &str, id: u64, room: usize) -> Result<Batch, Error> {
        let s = self.subs.get_mut(&id).filter(|s| s.client == client).ok_or(Error::BadId)?;
        let mut batch = Batch { lost: core::mem::take(&mut s.lost), ..Batch::default() };
        let mut left = room;
        while let Some(e) = s.queue.front() {
            let need = event_words(e.key.len());
            if need > left {
                break;
            }
            left -= need;
            batch.events.extend(s.queue.pop_front());
        }
        batch.more = !s.queue.is_empty();
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_matching_readable_subscriptions_in_order() {
        let mut s = Subscriptions::new();
        let a = s.add("netd", "eth0/", 300).unwrap();
        let b = s.add("shell", "", 301).unwrap();
        let c = s.add("netd", "eth1/", 302).unwrap();
        let wake = s.post("eth0/link", EventKind::Created, 1, 8, |_| true);
        assert_eq!(wake, [Wake { id: a, irq: 300 }, Wake { id: b, irq: 301 }]);
        let wake = s.post("eth0/link", EventKind::Changed, 2, 8, |client| client == "shell");
        assert_eq!(wake, [Wake { id: b, irq: 301 }], "netd may not read it");
        assert!(s.post("eth2/x", EventKind::Deleted, 3, 8, |_| true).iter().all(|w| w.id == b));
        let got = s.take("netd", a, 100).unwrap();
        assert_eq!(got.events.len(), 1);
        assert_eq!((got.events[0].kind, got.events[0].version), (EventKind::Created, 1));
        let got = s.take("shell", b, 100).unwrap();
        let kinds: Vec<EventKind> = got.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Created, EventKind::Changed, EventKind::Deleted]);
        assert!(!got.more && got.lost == 0);
        assert!(s.take("netd", c, 100).unwrap().events.is_empty());
    }

    #[test]
    fn full_queues_drop_and_count_and_batches_fit_the_reply() {
        let mut s = Subscriptions::new();
        let id = s.add("netd", "k/", 300).unwrap();
        for v in 1..=10 {
            assert_eq!(s.post("k/abcdefgh", EventKind::Changed, v, 4, |_| true).len(), 1, "woken even when full");
        }
        // Each event is 3 + 2 words: room for two of the four queued.
        let got = s.take("netd", id, 11).unwrap();
        assert_eq!(got.events.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2]);
        assert_eq!((got.lost, got.more), (6, true));
        let got = s.take("netd", id, 100).unwrap();
        assert_eq!(got.events.iter().map(|e| e.version).collect::<Vec<_>>(), [3, 4]);
        assert_eq!((got.lost, got.more), (0, false), "the loss is reported once");
    }

    #[test]
    fn subscriptions_belong_to_their_client() {
        let mut s = Subscriptions::new();
        let a = s.add("netd", "", 300).unwrap();
        s.add("netd", "x", 301).unwrap();
        let other = s.add("shell", "", 302).unwrap();
        assert_eq!(s.take("shell", a, 100), Err(Error::BadId));
        assert_eq!(s.remove("shell", a), Err(Error::BadId));
        assert_eq!(s.remove("netd", 999), Err(Error::BadId));
        assert_eq!(s.count("netd"), 2);
        assert_eq!(s.remove_all("netd"), [300, 301]);
        assert_eq!(s.count("netd"), 0);
        assert_eq!(s.drop_id(other), Some(302));
        assert_eq!(s.drop_id(other), None);
    }
}

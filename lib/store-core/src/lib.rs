//! The data store's logic, free of the kernel so that it runs in host tests:
//! key syntax ([`key`]), who may read and write ([`acl`]), the versioned
//! table with per-owner quotas ([`table`]), subscriptions and their event
//! queues ([`subs`]), and values written in chunks ([`staging`]).
//!
//! [`Store`] puts them together with the rules of `protocols::store`. It
//! never touches a capability: it records the slots the server keeps them in,
//! tells the server which subscriptions to wake ([`Outcome::wake`]) and which
//! slots it no longer needs ([`Outcome::release`]).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod acl;
pub mod key;
pub mod staging;
pub mod subs;
pub mod table;

pub use acl::Acl;
pub use key::Scope;
pub use staging::Chunk;
pub use subs::{Batch, Event, EventKind, Wake};
pub use table::{CapRef, Entry, Usage, Value};

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use protocols::store as proto;

/// Why a request was refused: the protocol's own error enum.
pub use protocols::store::Error;

/// How much the store gives each task, and itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries a task holds (its namespace and the global names it claimed).
    pub entries: u32,
    /// Bytes they are charged (see [`table::cost`]).
    pub bytes: usize,
    /// Capabilities among them.
    pub caps: u32,
    /// Subscriptions a task holds.
    pub subscriptions: u32,
    /// Events queued per subscription.
    pub queue: usize,
    /// Bytes charged over all tasks: what the store's heap can take.
    pub total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { entries: 128, bytes: 64 << 10, caps: 16, subscriptions: 8, queue: 32, total_bytes: 1 << 20 }
    }
}

/// What a change did.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub version: u64,
    /// Subscriptions whose IRQ the server triggers.
    pub wake: Vec<Wake>,
    /// A capability slot no entry needs any more (a replaced or deleted one).
    pub release: Option<u32>,
}

/// The data store: entries, subscriptions, grants and unfinished values.
#[derive(Debug)]
pub struct Store {
    table: table::Table,
    subs: subs::Subscriptions,
    acl: Acl,
    staging: staging::Staging,
    limits: Limits,
}

impl Store {
    pub fn new(acl: Acl, limits: Limits) -> Store {
        Store {
            table: table::Table::new(),
            subs: subs::Subscriptions::new(),
            acl,
            staging: staging::Staging::new(),
            limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks that `client` may write `key` now.
    fn writable<'k>(&self, client: &str, key: &'k str) -> Result<Scope<'k>, Error> {
        let scope = key::parse(key)?;
        let holder = self.table.get(key).map(|e| e.holder.as_str());
        if acl::may_write(client, &scope, holder) { Ok(scope) } else { Err(Error::Denied) }
    }

    /// Queues the event for every subscriber that may read `key`.
    fn post(&mut self, key: &str, kind: EventKind, version: u64) -> Vec<Wake> {
        let Ok(scope) = key::parse(key) else { return Vec::new() };
        let acl = &self.acl;
        self.subs.post(key, kind, version, self.limits.queue, |client| acl.may_read(client, &scope))
    }

    /// Writes a whole value.
    pub fn put(&mut self, client: &str, key: &str, value: Value) -> Result<Outcome, Error> {
        self.writable(client, key)?;
        let w = self.table.put(client, key, value, &self.limits)?;
        let kind = if w.created { EventKind::Created } else { EventKind::Changed };
        let wake = self.post(key, kind, w.version);
        Ok(Outcome { version: w.version, wake, release: w.old.and_then(|v| v.cap()).map(|c| c.slot) })
    }

    /// Takes one chunk of a string or blob; the value is written with its
    /// last chunk (`Some`).
    pub fn put_chunk(
        &mut self,
        client: &str,
        key: &str,
        kind: u8,
        total: usize,
        offset: usize,
        data: &[u8],
    ) -> Result<Option<Outcome>, Error> {
        if kind != proto::KIND_STR && kind != proto::KIND_BYTES {
            return Err(Error::Invalid);
        }
        if offset == 0 {
            // Refuse before collecting anything.
            self.writable(client, key)?;
        }
        match self.staging.chunk(client, key, kind, total, offset, data)? {
            Chunk::More => Ok(None),
            Chunk::Done { key, kind, bytes } => {
                let value = if kind == proto::KIND_STR {
                    Value::Str(String::from_utf8(bytes).map_err(|_| Error::Invalid)?)
                } else {
                    Value::Bytes(bytes)
                };
                self.put(client, &key, value).map(Some)
            }
        }
    }

    /// Stores a capability (the server keeps it in `cap.slot`).
    pub fn publish(&mut self, client: &str, key: &str, cap: CapRef) -> Result<Outcome, Error> {
        self.put(client, key, Value::Cap(cap))
    }

    pub fn get(&self, client: &str, key: &str) -> Result<&Entry, Error> {
        let scope = key::parse(key)?;
        if !self.acl.may_read(client, &scope) {
            return Err(Error::Denied);
        }
        self.table.get(key).ok_or(Error::NotFound)
    }

    /// The capability published under `key`, and its version.
    pub fn lookup(&self, client: &str, key: &str) -> Result<(CapRef, u64), Error> {
        let e = self.get(client, key)?;
        e.value.cap().map(|c| (c, e.version)).ok_or(Error::WrongKind)
    }

    pub fn delete(&mut self, client: &str, key: &str) -> Result<Outcome, Error> {
        self.writable(client, key)?;
        let (version, entry) = self.table.delete(key).ok_or(Error::NotFound)?;
        let wake = self.post(key, EventKind::Deleted, version);
        Ok(Outcome { version, wake, release: entry.value.cap().map(|c| c.slot) })
    }

    /// The first key after `after` that `client` may read.
    pub fn next(&self, client: &str, after: &str) -> Result<(&str, &Entry), Error> {
        if after.len() > proto::MAX_KEY {
            return Err(Error::TooBig);
        }
        self.table
            .after(after)
            .find(|(k, _)| key::parse(k).is_ok_and(|s| self.acl.may_read(client, &s)))
            .map(|(k, e)| (k.as_str(), e))
            .ok_or(Error::NotFound)
    }

    /// Watches keys starting with `prefix`; `irq` is the slot of the
    /// subscriber's IRQ.
    pub fn subscribe(&mut self, client: &str, prefix: &str, irq: u32) -> Result<u64, Error> {
        let p = key::parse_prefix(prefix)?;
        if let Some(owner) = p.owner
            && ((p.private && owner != client) || !self.acl.may_read_namespace(client, owner))
        {
            return Err(Error::Denied);
        }
        if self.subs.count(client) >= self.limits.subscriptions {
            return Err(Error::TooMany);
        }
        self.subs.add(client, prefix, irq)
    }

    /// Drops one subscription of `client` (`id` 0: all of them); returns the
    /// IRQ slots to release.
    pub fn unsubscribe(&mut self, client: &str, id: u64) -> Result<Vec<u32>, Error> {
        if id == 0 { Ok(self.subs.remove_all(client)) } else { self.subs.remove(client, id).map(|irq| vec![irq]) }
    }

    /// Takes queued events of a subscription, as many as fit in `room` words.
    pub fn events(&mut self, client: &str, id: u64, room: usize) -> Result<Batch, Error> {
        self.subs.take(client, id, room)
    }

    /// `(id, IRQ slot)` of `client`'s subscriptions.
    pub fn subscriptions_of(&self, client: &str) -> Vec<(u64, u32)> {
        self.subs.of(client).collect()
    }

    /// Drops a subscription whose IRQ is dead; returns its slot.
    pub fn drop_subscription(&mut self, id: u64) -> Option<u32> {
        self.subs.drop_id(id)
    }

    pub fn usage(&self, client: &str) -> Usage {
        Usage { subscriptions: self.subs.count(client), ..self.table.usage(client) }
    }

    /// Entries over all tasks.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// netd reads eth0; eth0 reads nothing else; shell reads everything.
    fn store() -> Store {
        let mut acl = Acl::new();
        acl.grant("netd", ["eth0"]);
        acl.grant("shell", ["*"]);
        Store::new(acl, Limits::default())
    }

    fn kinds(b: &Batch) -> Vec<(EventKind, &str)> {
        b.events.iter().map(|e| (e.kind, e.key.as_str())).collect()
    }

    #[test]
    fn owners_write_their_namespace_and_nobody_else_does() {
        let mut s = store();
        s.put("eth0", "eth0/mtu", Value::Int(1500)).unwrap();
        assert_eq!(s.put("netd", "eth0/mtu", Value::Int(9000)), Err(Error::Denied));
        assert_eq!(s.delete("netd", "eth0/mtu"), Err(Error::Denied));
        assert_eq!(s.put("shell", "eth0/new", Value::Int(1)), Err(Error::Denied), "reading all is not writing");
        assert_eq!(s.publish("netd", "eth0/cap", CapRef { slot: 300, delegate: false }), Err(Error::Denied));
        assert_eq!(s.get("eth0", "eth0/mtu").unwrap().value, Value::Int(1500));
        assert_eq!(s.delete("eth0", "eth0/none"), Err(Error::NotFound));
    }

    #[test]
    fn readers_are_those_the_manifest_names() {
        let mut s = store();
        s.put("eth0", "eth0/mtu", Value::Int(1500)).unwrap();
        s.put("eth0", "eth0/.private/rings", Value::Bytes(vec![1, 2, 3])).unwrap();
        assert!(s.get("netd", "eth0/mtu").is_ok());
        assert!(s.get("shell", "eth0/mtu").is_ok());
        assert_eq!(s.get("stranger", "eth0/mtu"), Err(Error::Denied));
        assert_eq!(s.get("stranger", "eth0/absent"), Err(Error::Denied), "existence is not revealed");
        assert_eq!(s.get("netd", "eth0/.private/rings"), Err(Error::Denied));
        assert_eq!(s.get("shell", "eth0/.private/rings"), Err(Error::Denied));
        assert_eq!(s.get("eth0", "eth0/.private/rings").unwrap().value, Value::Bytes(vec![1, 2, 3]));
        assert_eq!(s.get("netd", "eth0/absent"), Err(Error::NotFound));
    }

    #[test]
    fn private_state_outlives_its_writer() {
        // The store knows tasks by name only: the restarted driver is `eth0`
        // again and finds what its predecessor saved.
        let mut s = store();
        s.put("eth0", "eth0/.private/state", Value::Str("rx=17".to_string())).unwrap();
        let back = s.get("eth0", "eth0/.private/state").unwrap();
        assert_eq!(back.value, Value::Str("rx=17".to_string()));
    }

    #[test]
    fn global_names_are_first_come_and_readable_by_all() {
        let mut s = store();
        let cap = CapRef { slot: 300, delegate: false };
        s.publish("eth0", "net.eth0", cap).unwrap();
        assert_eq!(s.publish("netd", "net.eth0", CapRef { slot: 301, delegate: false }), Err(Error::Denied));
        assert_eq!(s.lookup("stranger", "net.eth0").map(|(c, _)| c), Ok(cap));
        // The restarted owner publishes again; the old capability is released.
        let out = s.publish("eth0", "net.eth0", CapRef { slot: 302, delegate: true }).unwrap();
        assert_eq!(out.release, Some(300));
        assert_eq!(s.delete("netd", "net.eth0"), Err(Error::Denied));
        assert_eq!(s.delete("eth0", "net.eth0").unwrap().release, Some(302));
        s.put("netd", "net.eth0", Value::Int(0)).expect("free again once deleted");
        assert_eq!(s.lookup("eth0", "net.eth0"), Err(Error::WrongKind));
        assert_eq!(s.lookup("eth0", "net.none"), Err(Error::NotFound));
    }

    #[test]
    fn subscribers_see_create_change_delete_of_what_they_may_read() {
        let mut s = store();
        let netd = s.subscribe("netd", "eth0/", 300).unwrap();
        let shell = s.subscribe("shell", "", 301).unwrap();
        let own = s.subscribe("eth0", "eth0/", 302).unwrap();
        assert_eq!(s.subscribe("stranger", "eth0/", 303), Err(Error::Denied));
        assert_eq!(s.subscribe("netd", "eth0/.private/", 303), Err(Error::Denied));
        let stranger = s.subscribe("stranger", "", 303).expect("everything it may read");

        let out = s.put("eth0", "eth0/link", Value::Int(1)).unwrap();
        let woken: Vec<u64> = out.wake.iter().map(|w| w.id).collect();
        assert_eq!(woken, [netd, shell, own]);
        s.put("eth0", "eth0/link", Value::Int(0)).unwrap();
        s.put("eth0", "eth0/.private/x", Value::Int(0)).unwrap();
        s.delete("eth0", "eth0/link").unwrap();

        let got = s.events("netd", netd, 60).unwrap();
        let expect =
            [(EventKind::Created, "eth0/link"), (EventKind::Changed, "eth0/link"), (EventKind::Deleted, "eth0/link")];
        assert_eq!(kinds(&got), expect, "no private key");
        assert!(got.events.windows(2).all(|w| w[0].version < w[1].version));
        assert_eq!(kinds(&s.events("shell", shell, 60).unwrap()), expect, "`*` does not reach private keys");
        assert_eq!(s.events("eth0", own, 60).unwrap().events.len(), 4, "the owner sees its private keys");
        assert!(s.events("stranger", stranger, 60).unwrap().events.is_empty());
        assert_eq!(s.events("stranger", netd, 60), Err(Error::BadId));
    }

    #[test]
    fn events_overflow_into_a_count() {
        let mut s = Store::new(Acl::new(), Limits { queue: 3, ..Limits::default() });
        let id = s.subscribe("a", "a/", 300).unwrap();
        for i in 0..5 {
            assert_eq!(s.put("a", "a/k", Value::Int(i)).unwrap().wake.len(), 1);
        }
        let b = s.events("a", id, 60).unwrap();
        assert_eq!((b.events.len(), b.lost, b.more), (3, 2, false));
    }

    #[test]
    fn quotas_are_per_owner_and_freed_by_deletes() {
        let mut s = Store::new(Acl::new(), Limits { entries: 4, ..Limits::default() });
        for i in 0..4 {
            s.put("a", &std::format!("a/{i}"), Value::Int(i)).unwrap();
        }
        assert_eq!(s.put("a", "a/4", Value::Int(4)), Err(Error::Quota));
        assert_eq!(s.put("a", "global-a", Value::Int(4)), Err(Error::Quota), "global names count too");
        s.put("b", "b/0", Value::Int(0)).expect("another owner's quota");
        s.delete("a", "a/0").unwrap();
        s.put("a", "a/4", Value::Int(4)).unwrap();
        assert_eq!(s.usage("a").entries, 4);
    }

    #[test]
    fn long_values_come_in_chunks() {
        let mut s = store();
        let blob: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let mut out = None;
        for (i, chunk) in blob.chunks(456).enumerate() {
            out = s.put_chunk("eth0", "eth0/blob", proto::KIND_BYTES, blob.len(), i * 456, chunk).unwrap();
            assert_eq!(out.is_some(), (i + 1) * 456 >= blob.len());
        }
        assert!(out.unwrap().version > 0);
        assert_eq!(s.get("netd", "eth0/blob").unwrap().value, Value::Bytes(blob));
        assert_eq!(s.put_chunk("netd", "eth0/blob", proto::KIND_BYTES, 10, 0, b"xx"), Err(Error::Denied));
        assert_eq!(s.put_chunk("eth0", "eth0/s", proto::KIND_STR, 2, 0, &[0xc3, 0x28]), Err(Error::Invalid), "UTF-8");
        assert_eq!(s.put_chunk("eth0", "eth0/s", proto::KIND_INT, 2, 0, b"12"), Err(Error::Invalid));
        assert!(s.put_chunk("eth0", "eth0/s", proto::KIND_STR, 2, 0, "é".as_bytes()).unwrap().is_some());
    }

    #[test]
    fn next_lists_only_readable_keys() {
        let mut s = store();
        s.put("eth0", "eth0/a", Value::Int(0)).unwrap();
        s.put("eth0", "eth0/.private/b", Value::Int(0)).unwrap();
        s.put("eth1", "eth1/a", Value::Int(0)).unwrap();
        s.put("eth1", "net.eth1", Value::Int(0)).unwrap();
        let list = |client: &str| {
            let mut keys = Vec::new();
            let mut after = String::new();
            while let Ok((k, _)) = s.next(client, &after) {
                keys.push(k.to_string());
                after = k.to_string();
            }
            keys
        };
        assert_eq!(list("netd"), ["eth0/a", "net.eth1"]);
        assert_eq!(list("eth0"), ["eth0/.private/b", "eth0/a", "net.eth1"]);
        assert_eq!(list("shell"), ["eth0/a", "eth1/a", "net.eth1"]);
    }

    #[test]
    fn unsubscribing_returns_the_irq_slots() {
        let mut s = store();
        let a = s.subscribe("netd", "eth0/", 300).unwrap();
        s.subscribe("netd", "", 301).unwrap();
        assert_eq!(s.usage("netd").subscriptions, 2);
        assert_eq!(s.unsubscribe("shell", a), Err(Error::BadId));
        assert_eq!(s.unsubscribe("netd", a), Ok(vec![300]));
        assert_eq!(s.unsubscribe("netd", 0), Ok(vec![301]));
        for i in 0..8 {
            s.subscribe("netd", "", 310 + i).unwrap();
        }
        assert_eq!(s.subscribe("netd", "", 320), Err(Error::TooMany));
        let (id, _) = s.subscriptions_of("netd")[0];
        assert_eq!(s.drop_subscription(id), Some(310));
        s.subscribe("netd", "", 320).expect("room again");
    }

    #[test]
    fn error_codes_round_trip() {
        protocols::status::check_round_trip::<Error>();
    }
}

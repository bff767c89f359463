//! datastore, the data store task.
//!
//! It serves `protocols::store` on its `store` endpoint: key/value entries in
//! per-owner namespaces, global names for capabilities (the name service),
//! subscriptions with notification IRQs, and the private state a driver saves
//! and reads back after a restart. The rules live in `store-core`; this task
//! decodes messages, keeps the capabilities clients hand it, triggers the
//! subscribers' IRQs, and logs what it refuses.
//!
//! It knows each caller by the gate the call came through (init, or ned's
//! script on Fiasco.OC, gives every client its own gate; the environment maps
//! `store@client` to its label), and it learns the namespaces each task may
//! read (`reads`) from the manifest: on Resurgo's kernel from the boot
//! archive, which is why it needs `boot-archive = true`, on Fiasco.OC from
//! the arguments ned's script passes (see `access.rs`). It outlives the
//! drivers: what they stored stays when they die.
//!
//! It uses only `rt`'s portable interface, so it runs on both kernels:
//! capabilities checked by copying them into a scratch slot
//! (`Task::give`), notification IRQs probed and triggered without blocking
//! (`Irq::probe`, `Irq::trigger_nonblocking`), the receive slot set with
//! `ipc::set_receive_slot`.
//!
//! Nothing a client sends can stop it: every message is checked (lengths,
//! UTF-8, key syntax, reserved bits), every capability it is given is checked
//! before use and only ever invoked without blocking, and every owner has a
//! quota so that no client can use up its memory or capability slots.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use protocols::store::{self as proto, MSG_WORDS};

const _: () = assert!(MSG_WORDS <= ipc::MR_COUNT);
use rt::obj::{Irq, IrqKind, Task, delete, release};
use rt::sys::message::Message;
use rt::{CapIdx, MsgTag, Rights, Timeout, ipc};
use store_core::{CapRef, Error, Limits, Outcome, Store, Value};

mod access;

rt::entry!(main);

/// Bytes of heap a store without a `heap.size` value assumes.
const DEFAULT_HEAP: u64 = 256 << 10;

fn main() {
    let clients: BTreeMap<u64, String> =
        boot::clients_of("store").into_iter().map(|(name, label)| (label, name)).collect();
    let acl = match access::acl() {
        Ok(a) => a,
        Err(e) => {
            rt::error!("cannot read the manifest: {}", e);
            rt::exit(1, "no manifest");
        }
    };
    // Entries may use half the heap; queues, unfinished values and the map
    // nodes' slack live in the other half.
    let heap = rt::env::value("heap.size").unwrap_or(DEFAULT_HEAP);
    let limits = Limits { total_bytes: (heap / 2) as usize, ..Limits::default() };
    rt::info!(
        "{} clients; each may hold {} entries, {} KiB, {} capabilities, {} subscriptions; {} KiB in all",
        clients.len(),
        limits.entries,
        limits.bytes >> 10,
        limits.caps,
        limits.subscriptions,
        limits.total_bytes >> 10
    );
    let Some(scratch) = rt::cap::alloc() else { rt::exit(1, "no capability slot") };
    let mut server = Server { store: Store::new(acl, limits), clients, recv: CapIdx::INVALID, scratch, refusals: 0 };
    server.run()
}

struct Server {
    store: Store,
    /// Client task names by the labels of their gates.
    clients: BTreeMap<u64, String>,
    /// Where the next capability a client sends arrives.
    recv: CapIdx,
    /// A slot for checking that a capability still names a live object.
    scratch: CapIdx,
    refusals: u64,
}

/// A reply being put together: status and words, and at most one capability.
struct Reply {
    words: [u64; MSG_WORDS],
    len: usize,
    item: Option<(CapIdx, Rights)>,
}

impl Reply {
    fn status(r: Result<u64, Error>) -> Reply {
        let mut words = [0; MSG_WORDS];
        words[0] = proto::encode(r);
        Reply { words, len: 1, item: None }
    }

    fn ok(value: u64) -> Reply {
        Reply::status(Ok(value))
    }

    /// A reply laid out by a protocol type's `encode`.
    fn encoded(encode: impl FnOnce(&mut [u64]) -> Result<usize, Error>) -> Result<Reply, Error> {
        let mut words = [0; MSG_WORDS];
        let len = encode(&mut words)?;
        Ok(Reply { words, len, item: None })
    }

    /// A reply declared with `l4_sys::reply!`, after the status word 0.
    fn typed<R: Message>(reply: &R) -> Result<Reply, Error> {
        Reply::encoded(|mr| protocols::status::encode_reply(reply, mr).map_err(|_| Error::Invalid))
    }
}

/// A key of a request as text (the decoder checked that it is UTF-8).
fn text(key: &proto::Key) -> &str {
    key.as_str().unwrap_or("")
}

/// What a capability a client gave as its notification IRQ turned out to be.
enum Probe {
    /// A live software IRQ, as it must be.
    SoftwareIrq,
    /// An IRQ bound to an interrupt line (the store cannot trigger it).
    LineIrq,
    /// Something that took the probe as IPC (a gate or a thread).
    Ipc,
    /// The kernel's answer: dead, another kind of object, nobody receiving.
    Failed(rt::Error),
}

impl core::fmt::Display for Probe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Probe::SoftwareIrq => f.write_str("a software IRQ"),
            Probe::LineIrq => f.write_str("an IRQ bound to an interrupt line"),
            Probe::Ipc => f.write_str("something that took the probe as IPC"),
            Probe::Failed(e) => write!(f, "the kernel said: {e}"),
        }
    }
}

/// Never blocks: a client could pass a gate or a thread instead of an IRQ
/// (`rt::obj::Irq::probe`).
fn probe(cap: CapIdx) -> Probe {
    match Irq(cap).probe() {
        Ok(IrqKind::Software) => Probe::SoftwareIrq,
        Ok(IrqKind::Line) => Probe::LineIrq,
        Ok(IrqKind::Ipc) => Probe::Ipc,
        Err(e) => Probe::Failed(e),
    }
}

/// Log refusals sparingly: the first ones, then every hundredth.
fn worth_logging(n: u64) -> bool {
    n <= 20 || n.is_multiple_of(100)
}

impl Server {
    fn run(&mut self) -> ! {
        self.prepare_receive();
        let mut msg = ipc::wait(Timeout::Never);
        loop {
            let m = match msg {
                Ok(m) => m,
                Err(e) => {
                    rt::warn!("receive failed: {}", e);
                    self.prepare_receive();
                    msg = ipc::wait(Timeout::Never);
                    continue;
                }
            };
            // Work from a copy: every kernel call below reuses the registers.
            let request = ipc::received(m.tag.words().min(MSG_WORDS));
            let words = request.as_slice();
            let reply = self.handle(m.label, m.tag, words);
            self.prepare_receive();
            let mut words = [0; ipc::MR_COUNT];
            words[..reply.len].copy_from_slice(&reply.words[..reply.len]);
            // Only short replies carry a capability (LOOKUP's); one that would not
            // fit the registers goes without it.
            let items = match (reply.item, words.get_mut(reply.len..reply.len + 2)) {
                (Some((cap, rights)), Some(item)) => {
                    item.copy_from_slice(&ipc::cap_item(cap, rights));
                    1
                }
                _ => 0,
            };
            let _ = ipc::write_mrs(0, &words[..reply.len + 2 * items]);
            msg = ipc::reply_and_wait(MsgTag::new(0, reply.len, items), Timeout::Never);
        }
    }

    /// Empties the receive slot and names it in buffer register 0. A message
    /// whose capability was not kept leaves it there, and so can a failed send
    /// of several capabilities (the kernel does not take back the ones it
    /// already installed), which would block every later transfer.
    fn prepare_receive(&mut self) {
        if self.recv.is_valid() {
            let _ = delete(self.recv);
        } else if let Some(slot) = rt::cap::alloc() {
            self.recv = slot;
        }
        ipc::clear_receive_slots(usize::MAX);
        ipc::set_receive_slot(self.recv);
    }

    fn handle(&mut self, label: u64, tag: MsgTag, words: &[u64]) -> Reply {
        let Some(client) = self.clients.get(&label).cloned() else {
            self.refused("?", "call", &alloc::format!("through unknown gate label {label:#x}"), Error::NoClient);
            return Reply::status(Err(Error::NoClient));
        };
        // A capability sent along is in `recv` now (only buffer register 0 is
        // set, so at most one arrives).
        let cap = (tag.items() > 0).then_some(self.recv);
        let request = match proto::Request::parse(tag.label(), words) {
            // A capability too many is malformed; one too few is BADCAP below.
            Ok(r) if tag.items() > r.items() => return Reply::status(Err(Error::Invalid)),
            Ok(r) => r,
            Err(e) => return Reply::status(Err(e)),
        };
        let r = match request {
            proto::Request::Put { key, kind, total, offset, chunk } => {
                self.put(&client, text(&key), kind, total, offset, chunk.as_bytes())
            }
            proto::Request::Get { key, offset } => self.get(&client, text(&key), offset),
            proto::Request::Delete { key } => {
                let k = text(&key);
                let r = self.store.delete(&client, k);
                self.logged(&client, "delete", k, r).map(|o| Reply::ok(self.finish(o)))
            }
            proto::Request::Publish { key, delegate } => self.publish(&client, text(&key), delegate, cap),
            proto::Request::Lookup { key } => self.lookup(&client, text(&key)),
            proto::Request::Subscribe { prefix } => self.subscribe(&client, text(&prefix), cap),
            proto::Request::Unsubscribe { id } => self.unsubscribe(&client, id),
            proto::Request::Events { id } => self.events(&client, id),
            proto::Request::Next { after } => self.next(&client, text(&after)),
            proto::Request::Info {} => Ok(self.info(&client)),
        };
        r.unwrap_or_else(|e| Reply::status(Err(e)))
    }

    /// Logs a refusal.
    fn refused(&mut self, client: &str, what: &str, key: &str, e: Error) {
        self.refusals += 1;
        if worth_logging(self.refusals) {
            rt::warn!("refused: {} may not {} `{}`: {} ({} refusals)", client, what, key, e, self.refusals);
        }
    }

    /// `r`, with a denial logged.
    fn logged<T>(&mut self, client: &str, what: &str, key: &str, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e @ Error::Denied) = r {
            self.refused(client, what, key, e);
        }
        r
    }

    /// Wakes the subscribers and drops the capability a change made useless;
    /// returns the version.
    fn finish(&mut self, o: Outcome) -> u64 {
        if let Some(slot) = o.release {
            release(CapIdx(slot));
        }
        for w in o.wake {
            if let Err(e) = Irq(CapIdx(w.irq)).trigger_nonblocking() {
                // Dead (its task is gone) or unusable: the subscription ends.
                if let Some(slot) = self.store.drop_subscription(w.id) {
                    release(CapIdx(slot));
                }
                rt::info!("subscription {} dropped: its notification IRQ failed ({})", w.id, e);
            }
        }
        o.version
    }

    /// PUT, as decoded: an integer, or a chunk of a string or blob (the
    /// decoder checked the kind, the total and the offset's range).
    fn put(
        &mut self,
        client: &str,
        key: &str,
        kind: u8,
        total: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<Reply, Error> {
        let r = match kind {
            proto::KIND_INT => self.store.put(client, key, Value::Int(total as i64)).map(Some),
            _ => {
                let offset = usize::try_from(offset).map_err(|_| Error::Invalid)?;
                self.store.put_chunk(client, key, kind, total as usize, offset, chunk)
            }
        };
        Ok(match self.logged(client, "write", key, r)? {
            Some(o) => Reply::ok(self.finish(o)),
            None => Reply::ok(0),
        })
    }

    fn get(&mut self, client: &str, key: &str, offset: u64) -> Result<Reply, Error> {
        let r = self.store.get(client, key).map(|e| (e.version, e.value.clone()));
        let (version, value) = self.logged(client, "read", key, r)?;
        let kind = value.kind();
        let (total, chunk) = match value {
            Value::Int(v) => (v as u64, &[][..]),
            Value::Cap(_) => (0, &[][..]),
            Value::Str(_) | Value::Bytes(_) => {
                let bytes = value.bytes();
                let offset = usize::try_from(offset).ok().filter(|&o| o <= bytes.len()).ok_or(Error::Invalid)?;
                (bytes.len() as u64, &bytes[offset..bytes.len().min(offset + proto::GET_CHUNK)])
            }
        };
        let chunk = proto::GetChunk::new(chunk).map_err(|_| Error::Invalid)?;
        Reply::typed(&proto::GetReply { version, kind, total, chunk })
    }

    /// Whether a capability in our table names a live object we may pass on
    /// (copying it needs DELEGATE and fails for a destroyed object).
    fn delegable(&self, cap: CapIdx) -> Result<(), rt::Error> {
        Task::own().give(cap, self.scratch, Rights::READ)?;
        delete(self.scratch)
    }

    fn publish(&mut self, client: &str, key: &str, delegate: bool, cap: Option<CapIdx>) -> Result<Reply, Error> {
        let cap = cap.ok_or(Error::BadCap)?;
        if let Err(e) = self.delegable(cap) {
            rt::warn!("{} published `{}` with a capability the store cannot pass on: {}", client, key, e);
            return Err(Error::BadCap);
        }
        // The capability stays in `cap`; the next one arrives elsewhere.
        let spare = rt::cap::alloc().ok_or(Error::NoMemory)?;
        let r = self.store.publish(client, key, CapRef { slot: cap.0, delegate });
        match self.logged(client, "publish", key, r) {
            Ok(o) => {
                self.recv = spare;
                Ok(Reply::ok(self.finish(o)))
            }
            Err(e) => {
                rt::cap::free(spare);
                Err(e)
            }
        }
    }

    fn lookup(&mut self, client: &str, key: &str) -> Result<Reply, Error> {
        let r = self.store.lookup(client, key);
        let (cap, version) = self.logged(client, "look up", key, r)?;
        // The entry stays when its object died: its owner publishes again
        // after a restart, and until then lookers learn it is gone.
        self.delegable(CapIdx(cap.slot)).map_err(|_| Error::Dead)?;
        let rights = if cap.delegate { Rights::ALL } else { Rights::ALL - Rights::DELEGATE };
        let mut reply = Reply::ok(version);
        reply.item = Some((CapIdx(cap.slot), rights));
        Ok(reply)
    }

    fn subscribe(&mut self, client: &str, prefix: &str, cap: Option<CapIdx>) -> Result<Reply, Error> {
        let cap = cap.ok_or(Error::BadCap)?;
        match probe(cap) {
            Probe::SoftwareIrq => {}
            other => {
                rt::warn!(
                    "{} subscribed to `{}` with something that is not a live software IRQ: {}",
                    client,
                    prefix,
                    other
                );
                return Err(Error::BadCap);
            }
        }
        if self.store.usage(client).subscriptions >= self.store.limits().subscriptions {
            // Subscriptions of a dead predecessor may be in the way.
            for (id, slot) in self.store.subscriptions_of(client) {
                if !matches!(probe(CapIdx(slot)), Probe::SoftwareIrq) {
                    self.store.drop_subscription(id);
                    release(CapIdx(slot));
                    rt::info!("subscription {} of {} dropped: its notification IRQ is gone", id, client);
                }
            }
        }
        let spare = rt::cap::alloc().ok_or(Error::NoMemory)?;
        let r = self.store.subscribe(client, prefix, cap.0);
        match self.logged(client, "watch", prefix, r) {
            Ok(id) => {
                self.recv = spare;
                Ok(Reply::ok(id))
            }
            Err(e) => {
                rt::cap::free(spare);
                Err(e)
            }
        }
    }

    fn unsubscribe(&mut self, client: &str, id: u64) -> Result<Reply, Error> {
        let slots = self.store.unsubscribe(client, id)?;
        for &slot in &slots {
            release(CapIdx(slot));
        }
        Ok(Reply::ok(slots.len() as u64))
    }

    fn events(&mut self, client: &str, id: u64) -> Result<Reply, Error> {
        let batch = self.store.events(client, id, MSG_WORDS - proto::EVENTS_AT)?;
        let events: Vec<proto::Event> = batch
            .events
            .iter()
            .map(|e| proto::Event { kind: e.kind.code(), version: e.version, key: proto::Key::truncated(&e.key) })
            .collect();
        // The batch was taken by `proto::event_words`, so that it fits.
        Reply::encoded(|mr| proto::encode_events(mr, batch.lost, batch.more, &events).map_err(|_| Error::Invalid))
    }

    fn next(&mut self, client: &str, after: &str) -> Result<Reply, Error> {
        let (key, entry) = self.store.next(client, after)?;
        let key = proto::Key::new(key.as_bytes()).map_err(|_| Error::Invalid)?;
        Reply::typed(&proto::NextReply { version: entry.version, kind: entry.value.kind(), key })
    }

    fn info(&self, client: &str) -> Reply {
        let u = self.store.usage(client);
        let l = self.store.limits();
        let info = proto::InfoReply {
            entries: u.entries as u64,
            bytes: u.bytes as u64,
            caps: u.caps as u64,
            subscriptions: u.subscriptions as u64,
            max_entries: l.entries as u64,
            max_bytes: l.bytes as u64,
            max_caps: l.caps as u64,
            max_subscriptions: l.subscriptions as u64,
        };
        // Nine words always fit.
        Reply::typed(&info).unwrap_or_else(|e| Reply::status(Err(e)))
    }
}

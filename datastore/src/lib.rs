//! The data store's client library: typed calls for `protocols::store`.
//!
//! A task that declares `uses = ["datastore.store"]` gets a gate named
//! [`ENDPOINT`]; [`Client::from_env`] finds it. The store knows the caller by
//! that gate, so no call names its sender: a task writes `NAME/...` (its own
//! name, [`own_key`]), keeps what its next incarnation needs under
//! `NAME/.private/...` ([`private_key`]), reads the namespaces its manifest's
//! `reads` grants, and may claim global names such as `net.eth0`.
//!
//! ```ignore
//! let store = datastore::Client::from_env().expect("uses datastore.store");
//! store.put_bytes(&datastore::private_key("rings"), &state)?;
//! let (mtu, version) = store.get("eth0/mtu")?;
//! ```
//!
//! Strings and blobs longer than one message travel in chunks; [`Client::get`]
//! reads them back chunk by chunk and starts over when the value changed in
//! between. One thread of a task writes one long value at a time.
//!
//! Subscriptions notify through a software IRQ of the subscriber's: the store
//! triggers it, the subscriber fetches the queued events with
//! [`Client::events`].
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use protocols::store as proto;
use rt::obj::Irq;
use rt::sys::message::Message;
use rt::{CapIdx, MsgTag, Rights, Timeout, ipc};

pub use store_core::Error as Refusal;

/// The name of the store's gate in a client's environment (task `datastore`,
/// endpoint `store`).
pub const ENDPOINT: &str = "datastore.store";

/// How often [`Client::get`] starts over when a long value keeps changing.
const GET_RETRIES: usize = 8;

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The store refused, with its reason.
    Refused(Refusal),
    /// The call itself failed: no gate, the store died, no receive slot.
    Ipc(rt::Error),
    /// A long value kept changing while it was read.
    Busy,
    /// The reply does not follow the protocol.
    BadReply,
}

impl From<Refusal> for Error {
    fn from(e: Refusal) -> Error {
        Error::Refused(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Refused(e) => write!(f, "refused: {e}"),
            Error::Ipc(e) => write!(f, "IPC: {e}"),
            Error::Busy => f.write_str("the value kept changing"),
            Error::BadReply => f.write_str("malformed reply"),
        }
    }
}

/// A value as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    /// A published capability: fetch it with [`Client::lookup`].
    Cap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Changed,
    Deleted,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub key: String,
    pub kind: EventKind,
    pub version: u64,
}

/// What one [`Client::events`] call fetched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    pub events: Vec<Event>,
    /// Events dropped because the queue was full: re-read what you watch.
    pub lost: u64,
    /// More are queued: call again.
    pub more: bool,
}

/// The caller's usage and limits ([`Client::info`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    pub entries: u64,
    pub bytes: u64,
    pub caps: u64,
    pub subscriptions: u64,
    pub max_entries: u64,
    pub max_bytes: u64,
    pub max_caps: u64,
    pub max_subscriptions: u64,
}

/// `NAME/rest` for this task's own namespace.
pub fn own_key(rest: &str) -> String {
    format!("{}/{rest}", rt::env::name())
}

/// `NAME/.private/rest`: read by this task (and its later incarnations) alone.
pub fn private_key(rest: &str) -> String {
    format!("{}/.private/{rest}", rt::env::name())
}

/// A connection to the store: its gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    gate: CapIdx,
}

/// A key as requests carry it; longer than [`proto::MAX_KEY`] is refused here.
fn key(key: &str) -> Result<proto::Key, Error> {
    proto::Key::new(key.as_bytes()).map_err(|_| Error::Refused(Refusal::TooBig))
}

impl Client {
    pub fn new(gate: CapIdx) -> Client {
        Client { gate }
    }

    /// The gate the manifest grants as `datastore.store`.
    pub fn from_env() -> Option<Client> {
        rt::env::cap(ENDPOINT).map(Client::new)
    }

    /// Sends `request` (with a capability item, if given); returns the
    /// reply's tag, its words and its status value.
    fn call(&self, request: &proto::Request, item: Option<[u64; 2]>) -> Result<(MsgTag, ipc::Words, u64), Error> {
        let mut mr = [0; ipc::MR_COUNT];
        // Only a request too long for a message fails to encode.
        let words = request.encode(&mut mr[..proto::MSG_WORDS]).map_err(|_| Error::Refused(Refusal::TooBig))?;
        let items = match item {
            Some(it) => {
                mr.get_mut(words..words + 2).ok_or(Error::Refused(Refusal::TooBig))?.copy_from_slice(&it);
                1
            }
            None => 0,
        };
        ipc::write_mrs(0, &mr[..words + 2 * items]).map_err(Error::Ipc)?;
        let tag = MsgTag::new(request.label(), words, items);
        let r = ipc::call(self.gate, tag, Timeout::Never).map_err(Error::Ipc)?;
        let reply = ipc::received_words(r.tag);
        let Some(&first) = reply.first() else {
            return Err(Error::BadReply);
        };
        let status = proto::decode(first).map_err(Error::Refused)?;
        Ok((r.tag, reply, status))
    }

    pub fn put_int(&self, key: &str, value: i64) -> Result<u64, Error> {
        let request = proto::Request::Put {
            key: self::key(key)?,
            kind: proto::KIND_INT,
            total: value as u64,
            offset: 0,
            chunk: proto::Chunk::truncated(""),
        };
        self.call(&request, None).map(|(_, _, v)| v)
    }

    pub fn put_str(&self, key: &str, value: &str) -> Result<u64, Error> {
        self.put_chunks(key, proto::KIND_STR, value.as_bytes())
    }

    pub fn put_bytes(&self, key: &str, value: &[u8]) -> Result<u64, Error> {
        self.put_chunks(key, proto::KIND_BYTES, value)
    }

    /// Writes a string or blob in as many calls as it takes; returns the
    /// version.
    fn put_chunks(&self, key: &str, kind: u8, value: &[u8]) -> Result<u64, Error> {
        if value.len() > proto::MAX_VALUE {
            return Err(Refusal::TooBig.into());
        }
        let key_bytes = self::key(key)?;
        let room = proto::put_capacity(key.len());
        let mut offset = 0;
        loop {
            let chunk = &value[offset..(offset + room).min(value.len())];
            let request = proto::Request::Put {
                key: key_bytes,
                kind,
                total: value.len() as u64,
                offset: offset as u64,
                chunk: proto::Chunk::new(chunk).map_err(|_| Error::BadReply)?,
            };
            let (_, _, status) = self.call(&request, None)?;
            offset += chunk.len();
            if offset >= value.len() {
                // The last chunk writes the value: its version, never 0.
                return if status == 0 { Err(Error::BadReply) } else { Ok(status) };
            }
        }
    }

    /// A value and its version.
    pub fn get(&self, key: &str) -> Result<(Value, u64), Error> {
        let mut buf: Vec<u8> = Vec::new();
        let mut first_version = None;
        let mut retries = 0;
        loop {
            let request = proto::Request::Get { key: self::key(key)?, offset: buf.len() as u64 };
            let (_, mr, _) = self.call(&request, None)?;
            let reply: proto::GetReply = typed(&mr)?;
            let (version, total, kind) = (reply.version, reply.total, reply.kind);
            match kind {
                proto::KIND_INT => return Ok((Value::Int(total as i64), version)),
                proto::KIND_CAP => return Ok((Value::Cap, version)),
                proto::KIND_STR | proto::KIND_BYTES => {}
                _ => return Err(Error::BadReply),
            }
            if first_version.is_some_and(|v| v != version) {
                // Changed between chunks: start over.
                retries += 1;
                if retries > GET_RETRIES {
                    return Err(Error::Busy);
                }
                buf.clear();
                first_version = None;
                continue;
            }
            first_version = Some(version);
            let total = total as usize;
            let chunk = reply.chunk.as_bytes();
            if total > proto::MAX_VALUE || buf.len() + chunk.len() > total || (chunk.is_empty() && buf.len() < total) {
                return Err(Error::BadReply);
            }
            buf.extend_from_slice(chunk);
            if buf.len() == total {
                let value = if kind == proto::KIND_STR {
                    Value::Str(String::from_utf8(buf).map_err(|_| Error::BadReply)?)
                } else {
                    Value::Bytes(buf)
                };
                return Ok((value, version));
            }
        }
    }

    /// Deletes an entry; returns the version of the deletion.
    pub fn delete(&self, key: &str) -> Result<u64, Error> {
        self.call(&proto::Request::Delete { key: self::key(key)? }, None).map(|(_, _, v)| v)
    }

    /// Publishes a capability under `key`. Lookers get it with `rights` (and
    /// may pass it on when `delegate`); this task's capability must carry
    /// DELEGATE.
    pub fn publish(&self, key: &str, cap: CapIdx, rights: Rights, delegate: bool) -> Result<u64, Error> {
        let request = proto::Request::Publish { key: self::key(key)?, delegate };
        self.call(&request, Some(ipc::cap_item(cap, rights | Rights::DELEGATE))).map(|(_, _, v)| v)
    }

    /// The capability published under `key`, in a new slot of this task, and
    /// its version.
    pub fn lookup(&self, key: &str) -> Result<(CapIdx, u64), Error> {
        let request = proto::Request::Lookup { key: self::key(key)? };
        let slot = rt::cap::alloc().ok_or(Error::Ipc(rt::Error::QuotaExceeded))?;
        ipc::set_receive_slot(slot);
        match self.call(&request, None) {
            Ok((tag, _, version)) if tag.items() == 1 => Ok((slot, version)),
            Ok(_) => {
                rt::cap::free(slot);
                Err(Error::BadReply)
            }
            Err(e) => {
                rt::cap::free(slot);
                Err(e)
            }
        }
    }

    /// Watches keys starting with `prefix` (`""`: every key this task may
    /// read); the store triggers `irq` when events are queued. Returns the
    /// subscription's id.
    pub fn subscribe(&self, prefix: &str, irq: &Irq) -> Result<u64, Error> {
        let request = proto::Request::Subscribe { prefix: key(prefix)? };
        self.call(&request, Some(ipc::cap_item(irq.0, Rights::WRITE))).map(|(_, _, v)| v)
    }

    /// Drops a subscription; returns how many went.
    pub fn unsubscribe(&self, id: u64) -> Result<u64, Error> {
        self.call(&proto::Request::Unsubscribe { id }, None).map(|(_, _, v)| v)
    }

    /// Drops every subscription of this task (a predecessor's too).
    pub fn unsubscribe_all(&self) -> Result<u64, Error> {
        self.unsubscribe(0)
    }

    /// Fetches queued events of a subscription.
    pub fn events(&self, id: u64) -> Result<Events, Error> {
        let (_, words, _) = self.call(&proto::Request::Events { id }, None)?;
        let mut events = Vec::new();
        let head = proto::decode_events(&words, |e| {
            let kind = match e.kind {
                proto::EVENT_CREATED => EventKind::Created,
                proto::EVENT_CHANGED => EventKind::Changed,
                _ => EventKind::Deleted,
            };
            // The decoder checked that every key is UTF-8.
            events.push(Event { key: String::from(e.key.as_str().unwrap_or("")), kind, version: e.version });
        })
        .map_err(reply_error)?;
        Ok(Events { events, lost: head.lost, more: head.more })
    }

    /// The first key after `after` that this task may read: `(key, kind,
    /// version)`, `None` past the last.
    pub fn next(&self, after: &str) -> Result<Option<(String, u8, u64)>, Error> {
        let (_, mr, _) = match self.call(&proto::Request::Next { after: key(after)? }, None) {
            Err(Error::Refused(Refusal::NotFound)) => return Ok(None),
            other => other?,
        };
        let reply: proto::NextReply = typed(&mr)?;
        let key = reply.key.as_str().ok_or(Error::BadReply)?;
        Ok(Some((String::from(key), reply.kind, reply.version)))
    }

    /// The keys starting with `prefix` this task may read, in order (a key
    /// equal to `prefix` itself is not listed).
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut after = String::from(prefix);
        while let Some((key, _, _)) = self.next(&after)? {
            if !key.starts_with(prefix) {
                break;
            }
            after.clone_from(&key);
            keys.push(key);
        }
        Ok(keys)
    }

    /// This task's usage and limits.
    pub fn info(&self) -> Result<Info, Error> {
        let (_, m, _) = self.call(&proto::Request::Info {}, None)?;
        let r: proto::InfoReply = typed(&m)?;
        Ok(Info {
            entries: r.entries,
            bytes: r.bytes,
            caps: r.caps,
            subscriptions: r.subscriptions,
            max_entries: r.max_entries,
            max_bytes: r.max_bytes,
            max_caps: r.max_caps,
            max_subscriptions: r.max_subscriptions,
        })
    }
}

/// A reply declared with `l4_sys::reply!`, after the status word.
fn typed<R: Message>(words: &[u64]) -> Result<R, Error> {
    protocols::status::decode_reply::<R, Refusal>(words).map_err(reply_error)
}

fn reply_error(e: protocols::status::ReplyError<Refusal>) -> Error {
    match e {
        protocols::status::ReplyError::Refused(e) => Error::Refused(e),
        protocols::status::ReplyError::Malformed => Error::BadReply,
    }
}

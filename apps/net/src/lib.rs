//! The socket client for netd, used by the network applications.
//!
//! netd never blocks in a call (see `protocols::socket`); blocking happens here.
//! A session has a notification IRQ attached to this thread: an operation that
//! cannot go on arms a wake-up (ACCEPT's `ERR_WOULD_BLOCK`, a stream ring's
//! wake flag), checks once more, and sleeps on that IRQ. Bytes move through
//! each connection's shared stream rings without a call; this side triggers
//! netd's kick IRQ only when netd asked for it.
//!
//! [`nicconfig`] is the operator's client for netd's `config` endpoint (the
//! shell's `net` commands).
#![no_std]

extern crate alloc;

pub mod nicconfig;

pub use netring::Mac;

use core::fmt;
use protocols::socket as proto;
use protocols::socket::stream::{self, Dir, Stream};

/// A status word of netd's `socket` endpoint, typed.
fn decode(w: u64) -> core::result::Result<u64, proto::Error> {
    protocols::status::decode(w)
}
use protocols::status::{ReplyError, decode_reply};
use rt::obj::{Dataspace, Irq, Thread};
use rt::sys::message::Message;
use rt::{CapIdx, Timeout, ipc};

/// The label of the notification IRQ as this thread receives it.
const NOTIFY_LABEL: u64 = 0x4e45_5444; // "NETD"
/// A sleep never lasts longer than this: a safety net, not the mechanism.
const MAX_SLEEP: Timeout = Timeout::Millis(1000);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The manifest gives this task no `netd.sockets`.
    NoGate,
    /// The kernel refused an operation (netd gone, no free slot, ...).
    Kernel(rt::Error),
    /// netd refused, and why.
    Netd(proto::Error),
    /// The connection was reset.
    Reset,
    /// netd's reply did not make sense.
    Protocol,
    /// A connection's stream region, as mapped here, is not one: its size,
    /// as netd gave it, and what is wrong with it.
    BadStream(u64, stream::StreamError),
    /// Nothing arrived before the deadline the reader set.
    TimedOut,
}

impl From<rt::Error> for NetError {
    fn from(e: rt::Error) -> Self {
        NetError::Kernel(e)
    }
}

impl From<ReplyError<proto::Error>> for NetError {
    fn from(e: ReplyError<proto::Error>) -> Self {
        match e {
            ReplyError::Refused(e) => NetError::Netd(e),
            ReplyError::Malformed => NetError::Protocol,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::NoGate => f.write_str("no `netd.sockets` capability"),
            NetError::Kernel(e) => write!(f, "kernel: {e}"),
            NetError::Netd(e) => write!(f, "netd: {e} ({})", protocols::status::ProtocolError::code(*e)),
            NetError::Reset => f.write_str("connection reset"),
            NetError::TimedOut => f.write_str("nothing arrived in time"),
            NetError::Protocol => f.write_str("netd's answer does not make sense"),
            NetError::BadStream(size, e) => write!(f, "the stream region of {size} bytes netd sent is not one: {e:?}"),
        }
    }
}

pub type Result<T> = core::result::Result<T, NetError>;

/// A session with netd.
pub struct Net {
    gate: CapIdx,
    notify: Irq,
    kick: Irq,
}

/// Where the interface stands (`INFO`).
#[derive(Clone, Copy, Debug)]
pub struct IfInfo {
    pub addr: [u8; 4],
    pub prefix: u8,
    pub gateway: [u8; 4],
    pub link_up: bool,
}

pub struct Listener {
    handle: u64,
    pub port: u16,
}

/// One TCP connection.
pub struct Conn<'n> {
    net: &'n Net,
    handle: u64,
    stream: Stream,
    addr: u64,
    size: u64,
    ds: CapIdx,
    pub remote: ([u8; 4], u16),
    closed: bool,
}

impl Net {
    /// Opens a session through the gate the manifest names `netd.sockets`.
    /// Sockets of an earlier instance of this task are dropped by netd.
    pub fn open() -> Result<Net> {
        let gate = rt::env::cap("netd.sockets").ok_or(NetError::NoGate)?;
        let slots = [rt::cap::alloc(), rt::cap::alloc()];
        let [Some(notify), Some(kick)] = slots else {
            slots.into_iter().flatten().for_each(rt::cap::free);
            return Err(NetError::Kernel(rt::Error::QuotaExceeded));
        };
        ipc::set_receive_slots(&[notify, kick]);
        let r = ipc::encode_call(&proto::Request::Hello {}).and_then(|tag| ipc::call(gate, tag, Timeout::Never));
        let ok = matches!(r, Ok(m) if m.tag.items() == proto::HELLO_ITEMS) && decode(ipc::mr::<0>()).is_ok();
        let status = ipc::mr::<0>();
        ipc::clear_receive_slots(2);
        if !ok {
            for s in [notify, kick] {
                rt::obj::release(s);
            }
            r?;
            return Err(decode(status).err().map_or(NetError::Protocol, NetError::Netd));
        }
        let notify = Irq(notify);
        notify.attach(&Thread(rt::thread::current_cap()), NOTIFY_LABEL)?;
        Ok(Net { gate, notify, kick: Irq(kick) })
    }

    /// A call; the status word's value, or netd's error.
    fn call(&self, request: &proto::Request) -> Result<u64> {
        ipc::call(self.gate, ipc::encode_call(request)?, Timeout::Never)?;
        decode(ipc::mr::<0>()).map_err(NetError::Netd)
    }

    pub fn info(&self) -> Result<IfInfo> {
        let r = ipc::call(self.gate, ipc::encode_call(&proto::Request::Info {})?, Timeout::Never)?;
        let info = decode_reply::<proto::Info, proto::Error>(&ipc::received_words(r.tag))?;
        Ok(IfInfo {
            addr: info.ip.to_be_bytes(),
            prefix: info.prefix,
            gateway: info.gateway.to_be_bytes(),
            link_up: info.link_up,
        })
    }

    pub fn listen(&self, port: u16, backlog: u8) -> Result<Listener> {
        let handle = self.call(&proto::Request::Listen { port, backlog: backlog.into() })?;
        Ok(Listener { handle, port })
    }

    /// An established connection, if one is waiting; if not, the next
    /// [`Net::wait`] ends when one arrives.
    pub fn try_accept(&self, l: &Listener) -> Result<Option<Conn<'_>>> {
        match self.call_for_stream::<proto::Accepted>(&proto::Request::Accept { listener: l.handle }) {
            Ok((a, slot)) => self.map_stream(a.handle, slot, a.stream_bytes, (a.ip.to_be_bytes(), a.port)).map(Some),
            Err(NetError::Netd(proto::Error::WouldBlock)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Connects to `addr:port`; waits for the handshake.
    pub fn connect(&self, addr: [u8; 4], port: u16) -> Result<Conn<'_>> {
        let ip = u32::from_be_bytes(addr);
        let (c, slot) = self.call_for_stream::<proto::Connected>(&proto::Request::Connect { ip, port })?;
        let conn = self.map_stream(c.handle, slot, c.stream_bytes, (addr, port))?;
        loop {
            let state = conn.stream.state();
            if state & stream::RESET != 0 {
                let _ = conn.abort();
                return Err(NetError::Reset);
            }
            if state & stream::CONNECTED != 0 {
                return Ok(conn);
            }
            if conn.stream.arm_consumer(Dir::Rx) && conn.stream.state() & (stream::CONNECTED | stream::RESET) == 0 {
                self.wait();
            }
        }
    }

    /// A call whose answer carries a stream dataspace: the answer, typed, and
    /// the slot the dataspace arrived in.
    fn call_for_stream<R: Message>(&self, request: &proto::Request) -> Result<(R, CapIdx)> {
        let tag = ipc::encode_call(request)?;
        let Some(slot) = rt::cap::alloc() else { return Err(NetError::Kernel(rt::Error::QuotaExceeded)) };
        ipc::set_receive_slots(&[slot]);
        let r = ipc::call(self.gate, tag, Timeout::Never);
        // Copied out before anything else uses the message registers.
        let r = r.map(|m| (m.tag, ipc::received_words(m.tag)));
        ipc::clear_receive_slots(1);
        let (reply_tag, words) = match r {
            Ok(r) => r,
            Err(e) => {
                rt::cap::free(slot);
                return Err(e.into());
            }
        };
        match decode_reply::<R, proto::Error>(&words) {
            Ok(reply) if reply_tag.items() == proto::STREAM_ITEMS => Ok((reply, slot)),
            other => {
                // Deletes whatever arrived in the slot, if anything did.
                rt::obj::release(slot);
                Err(other.err().map_or(NetError::Protocol, NetError::from))
            }
        }
    }

    /// Maps the stream dataspace netd sent for connection `handle`.
    fn map_stream(&self, handle: u64, slot: CapIdx, size: u64, remote: ([u8; 4], u16)) -> Result<Conn<'_>> {
        let ds = Dataspace(slot);
        let fail = |e: NetError| {
            rt::obj::release(slot);
            let _ = self.call(&proto::Request::Abort { handle });
            Err(e)
        };
        if size == 0 || size > (stream::HEADER_BYTES + 2 * stream::MAX_RING) as u64 {
            return fail(NetError::BadStream(size, stream::StreamError::BadGeometry));
        }
        let addr = match rt::mem::attach(&ds, size, true) {
            Ok(a) => a,
            Err(e) => return fail(e.into()),
        };
        // SAFETY: `size` bytes of the dataspace are mapped writable at `addr`
        // until `Conn` drops them.
        let stream = match unsafe { Stream::attach(addr as *mut u8, size as usize) } {
            Ok(s) => s,
            Err(e) => {
                let _ = rt::mem::detach(addr, size);
                return fail(NetError::BadStream(size, e));
            }
        };
        Ok(Conn { net: self, handle, stream, addr, size, ds: slot, remote, closed: false })
    }

    /// Waits for the next connection of `l`.
    pub fn accept(&self, l: &Listener) -> Result<Conn<'_>> {
        loop {
            if let Some(c) = self.try_accept(l)? {
                return Ok(c);
            }
            self.wait();
        }
    }

    /// Sleeps until netd signals anything this session asked for.
    pub fn wait(&self) {
        let _ = self.notify.wait(MAX_SLEEP);
    }

    /// Stops listening.
    pub fn close_listener(&self, l: Listener) -> Result<()> {
        self.call(&proto::Request::Close { handle: l.handle }).map(|_| ())
    }

    fn kick(&self) {
        let _ = self.kick.trigger();
    }
}

impl Conn<'_> {
    /// Hands the readable bytes (one or two slices, in order) to `f`, which
    /// returns how many it used (the rest stays for the next call). Blocks
    /// until there is something; `Ok(0)` is the end of the stream, so `f`
    /// should use at least one byte of what it gets. Bytes that arrived before
    /// a reset are read before the reset is reported.
    pub fn read_with(&mut self, f: impl FnMut(&[u8]) -> usize) -> Result<usize> {
        self.read_with_until(None, f)
    }

    /// [`Conn::read_with`] that gives up with [`NetError::TimedOut`] once
    /// `deadline` (in [`rt::time::ticks`]) has passed with nothing to read.
    pub fn read_with_until(&mut self, deadline: Option<u64>, mut f: impl FnMut(&[u8]) -> usize) -> Result<usize> {
        loop {
            let state = self.stream.state();
            let (a, b) = self.stream.peek(Dir::Rx);
            if !a.is_empty() {
                let mut n = f(a);
                if n == a.len() && !b.is_empty() {
                    n += f(b);
                }
                let n = n.min(a.len() + b.len());
                self.stream.consume(Dir::Rx, n);
                if self.stream.take_producer_wake(Dir::Rx) {
                    self.net.kick();
                }
                return Ok(n);
            }
            if state & stream::RESET != 0 {
                return Err(NetError::Reset);
            }
            if state & stream::EOF != 0 {
                return Ok(0);
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_sub(rt::time::ticks()).filter(|&l| l > 0) {
                    Some(l) => Some(l),
                    None => return Err(NetError::TimedOut),
                },
            };
            if self.stream.arm_consumer(Dir::Rx) && self.stream.state() & (stream::EOF | stream::RESET) == 0 {
                match left {
                    None => self.net.wait(),
                    Some(l) => {
                        let _ = self.net.notify.wait(Timeout::Millis(l.min(1000) as u32));
                    }
                }
            }
        }
    }

    /// [`Conn::read`] with a deadline (see [`Conn::read_with_until`]).
    pub fn read_until(&mut self, buf: &mut [u8], deadline: u64) -> Result<usize> {
        let mut at = 0;
        self.read_with_until(Some(deadline), |s| {
            let n = s.len().min(buf.len() - at);
            buf[at..at + n].copy_from_slice(&s[..n]);
            at += n;
            n
        })
    }

    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut at = 0;
        self.read_with(|s| {
            let n = s.len().min(buf.len() - at);
            buf[at..at + n].copy_from_slice(&s[..n]);
            at += n;
            n
        })
    }

    /// Writes what fits of `data`, at least one byte; blocks while the ring is
    /// full.
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        loop {
            if self.stream.state() & stream::RESET != 0 {
                return Err(NetError::Reset);
            }
            let n = self.stream.write(Dir::Tx, data);
            if n > 0 {
                if self.stream.take_consumer_wake(Dir::Tx) {
                    self.net.kick();
                }
                return Ok(n);
            }
            if self.stream.arm_producer(Dir::Tx) && self.stream.state() & stream::RESET == 0 {
                self.net.wait();
            }
        }
    }

    pub fn write_all(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let n = self.write(data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Room in the send ring right now.
    pub fn writable(&self) -> usize {
        self.stream.writable(Dir::Tx)
    }

    /// No more bytes from this side: netd sends FIN after what was written.
    pub fn shutdown_write(&mut self) {
        self.stream.set_app_state(stream::SHUT_WR);
        self.net.kick();
    }

    /// Closes gracefully: what was written is still delivered.
    pub fn close(mut self) -> Result<()> {
        self.release()
    }

    /// Resets the connection.
    pub fn abort(mut self) -> Result<()> {
        self.closed = true;
        let r = self.net.call(&proto::Request::Abort { handle: self.handle }).map(|_| ());
        self.unmap();
        r
    }

    fn release(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let r = self.net.call(&proto::Request::Close { handle: self.handle }).map(|_| ());
        self.unmap();
        r
    }

    fn unmap(&mut self) {
        let _ = rt::mem::detach(self.addr, self.size);
        rt::obj::release(self.ds);
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Formats an IPv4 address.
pub struct Ip(pub [u8; 4]);

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Ends the task with a reason naming what failed.
pub fn fail(what: &str, e: NetError) -> ! {
    use core::fmt::Write;
    let mut b = rt::log::Buf::new();
    let _ = write!(b, "{what}: {e}");
    rt::error!("{}", b.as_str());
    rt::exit(1, b.as_str())
}

//! Sockets for applications: sessions, handles, listeners, connections, and the
//! shared stream rings between smoltcp's socket buffers and the application.
//!
//! No call blocks netd (see `protocols::socket`): an ACCEPT with nothing ready
//! answers `Error::WouldBlock` and remembers that the client waits; when a
//! connection arrives, netd triggers the client's notification IRQ. Data moves
//! through each connection's stream dataspace; [`Sockets::service`] copies
//! between it and smoltcp on every turn of the main loop and wakes whoever
//! asked to be woken.

use crate::reply::{Reply, Request};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use protocols::socket::stream::{self, Dir, Stream};
use protocols::socket::{self as proto, make_handle, split_handle};
use protocols::status::encode;
use rt::mem::Region;
use rt::obj::{Factory, Irq, Thread};
use rt::{Rights, ipc};
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Duration;
use smoltcp::wire::Ipv4Address;

/// smoltcp's buffers per connection: the receive buffer is the TCP window
/// (256 KiB, window scaling on), the send buffer what may be in flight.
pub const TCP_RX_BYTES: usize = 256 << 10;
pub const TCP_TX_BYTES: usize = 128 << 10;
/// The shared rings per connection.
pub const STREAM_RX_BYTES: usize = 128 << 10;
pub const STREAM_TX_BYTES: usize = 128 << 10;
/// Handles in the whole table, and per client.
const MAX_SLOTS: usize = 256;
const MAX_PER_CLIENT: usize = 64;
/// smoltcp sockets (listening, waiting for ACCEPT, connected) per client.
const MAX_SOCKETS_PER_CLIENT: usize = 16;
/// Heap kept free of socket buffers, for everything else netd allocates.
const HEAP_RESERVE: usize = 4 << 20;
/// How often netd looks whether its clients still run.
const LIVENESS_EVERY_MS: u64 = 1000;
/// Established connections a listener keeps for ACCEPT.
const MAX_READY: usize = 8;
/// Local ports for outgoing connections (IANA's dynamic range).
const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_PORTS: u16 = 16384;
/// A connection the application closed gets this long to deliver what is left.
const LINGER: Duration = Duration::from_secs(30);

type Result<T> = core::result::Result<T, proto::Error>;

pub struct Client {
    pub label: u64,
    pub name: String,
    /// netd → client; created on the first HELLO, kept across its restarts.
    session: Option<Session>,
}

struct Session {
    notify: Irq,
    kick: Irq,
    /// Trigger `notify` at the end of this turn.
    wake: bool,
    /// A thread of the client was seen attached to `notify`. When the client
    /// dies the kernel detaches it: its sockets are then dropped.
    attached: bool,
}

struct Listener {
    port: u16,
    backlog: usize,
    /// smoltcp sockets in Listen or SynReceived.
    listening: Vec<SocketHandle>,
    /// Established, waiting for ACCEPT.
    ready: VecDeque<SocketHandle>,
    /// The client got `Error::WouldBlock` and waits for a connection.
    waiting: bool,
}

struct Conn {
    sock: SocketHandle,
    region: Region,
    stream: Stream,
    /// We told smoltcp to close (FIN after the send buffer).
    fin_queued: bool,
    /// netd set EOF (or RESET) in the stream header.
    eof_set: bool,
    /// The handshake is done and CONNECTED is set.
    connected: bool,
}

enum Entry {
    Listener(Listener),
    Conn(Conn),
}

struct Slot {
    generation: u32,
    /// Index into `clients`, and the entry; `None` when free.
    used: Option<(usize, Entry)>,
}

/// A connection whose handle is gone: it still drains what the client wrote
/// (graceful close) or waits for its RST to leave (abort).
struct Closing {
    sock: SocketHandle,
    conn: Option<Conn>,
    since: u64,
}

pub struct Sockets {
    pub clients: Vec<Client>,
    slots: Vec<Slot>,
    closing: Vec<Closing>,
    kick_label: u64,
    /// smoltcp sockets the heap may hold (their buffers are most of it).
    max_sockets: usize,
    last_liveness: u64,
    /// Where the search for a free local port starts.
    next_port: u16,
}

/// Why a turn must come round again at once.
#[derive(Default)]
pub struct Turn {
    /// Bytes or state moved: smoltcp may have something to send.
    pub moved: bool,
    /// A ring could not be emptied or filled and nobody will wake netd for it.
    pub again: bool,
}

impl Sockets {
    pub fn new(kick_label: u64) -> Sockets {
        let clients = boot::clients_of("sockets")
            .into_iter()
            .map(|(name, label)| Client { label, name, session: None })
            .collect();
        let heap = rt::env::value("heap.size").unwrap_or(0) as usize;
        let max_sockets = heap.saturating_sub(HEAP_RESERVE) / (TCP_RX_BYTES + TCP_TX_BYTES);
        Sockets {
            clients,
            slots: Vec::new(),
            closing: Vec::new(),
            kick_label,
            max_sockets,
            last_liveness: 0,
            next_port: (rt::time::rdtsc() % EPHEMERAL_PORTS as u64) as u16,
        }
    }

    /// Whether one more smoltcp socket fits, for client `c`: the heap's
    /// budget ([`proto::Error::NoMemory`]), the client's share
    /// ([`proto::Error::TooMany`]).
    fn socket_allowed(&self, c: usize, set: &SocketSet<'static>) -> Result<()> {
        let total = set.iter().filter(|(_, s)| matches!(s, smoltcp::socket::Socket::Tcp(_))).count();
        let mine: usize = self
            .slots
            .iter()
            .map(|s| match &s.used {
                Some((o, Entry::Listener(l))) if *o == c => l.listening.len() + l.ready.len(),
                Some((o, Entry::Conn(_))) if *o == c => 1,
                _ => 0,
            })
            .sum();
        if mine >= MAX_SOCKETS_PER_CLIENT {
            Err(proto::Error::TooMany)
        } else if total >= self.max_sockets {
            Err(proto::Error::NoMemory)
        } else {
            Ok(())
        }
    }

    /// Drops the sockets of clients whose thread is gone from their
    /// notification IRQ (the kernel detaches a dead task's threads).
    fn check_liveness(&mut self, set: &mut SocketSet<'static>) {
        for c in 0..self.clients.len() {
            let Some(s) = &mut self.clients[c].session else { continue };
            let attached = irq_attached(s.notify);
            if attached || !s.attached {
                s.attached |= attached;
                continue;
            }
            s.attached = false;
            let mut dropped = 0;
            for i in 0..self.slots.len() {
                if matches!(self.slots[i].used, Some((owner, _)) if owner == c) {
                    self.free_slot(i, set, true);
                    dropped += 1;
                }
            }
            rt::info!("{} is gone: {} socket(s) dropped", self.clients[c].name, dropped);
        }
    }

    pub fn client_of(&self, label: u64) -> Option<usize> {
        self.clients.iter().position(|c| c.label == label)
    }

    /// Serves one call of client `c`.
    pub fn handle(
        &mut self,
        c: usize,
        req: &Request,
        set: &mut SocketSet<'static>,
        iface: Option<&mut Interface>,
        info: proto::Info,
    ) -> Reply {
        let request = match req.decode::<proto::Request>() {
            Ok(r) => r,
            Err(e) => return Reply::word(encode(Err(proto::Error::from(e)))),
        };
        let r = match request {
            proto::Request::Hello {} => return self.hello(c, set),
            _ if self.clients[c].session.is_none() => Err(proto::Error::NoSession),
            proto::Request::Connect { ip, port } => {
                return match self.connect(c, ip.into(), port.into(), set, iface) {
                    Ok((handle, local_port, ds, stream_bytes)) => Reply::typed(
                        &proto::Connected { handle, local_port, stream_bytes },
                        &[ipc::cap_item(ds, Rights::READ | Rights::WRITE)],
                    ),
                    Err(e) => Reply::word(encode(Err(e))),
                };
            }
            proto::Request::Listen { port, backlog } => self.listen(c, port.into(), backlog, set),
            proto::Request::Accept { listener } => return self.accept(c, listener, set),
            proto::Request::Close { handle } => self.close(c, handle, set, false),
            proto::Request::Abort { handle } => self.close(c, handle, set, true),
            proto::Request::Info {} => return Reply::typed(&info, &[]),
        };
        Reply::word(encode(r))
    }

    fn hello(&mut self, c: usize, set: &mut SocketSet<'static>) -> Reply {
        // A new instance of the client: whatever the old one had goes.
        let mut dropped = 0;
        for i in 0..self.slots.len() {
            if matches!(self.slots[i].used, Some((owner, _)) if owner == c) {
                self.free_slot(i, set, true);
                dropped += 1;
            }
        }
        let client = &mut self.clients[c];
        if client.session.is_none() {
            match new_session(self.kick_label | c as u64) {
                Ok(s) => client.session = Some(s),
                Err(e) => {
                    rt::warn!("{}: no session: {}", client.name, e);
                    return Reply::word(encode(Err(proto::Error::NoMemory)));
                }
            }
        }
        if dropped > 0 {
            rt::info!("{}: new session, {} old socket(s) dropped", client.name, dropped);
        }
        let s = client.session.as_mut().expect("created above");
        // The new instance attaches its thread after this reply.
        s.attached = false;
        let items = [
            ipc::cap_item(s.notify.0, Rights::SERVER | Rights::READ),
            ipc::cap_item(s.kick.0, Rights::WRITE | Rights::READ),
        ];
        Reply::new(&[0], &items)
    }

    fn alloc_slot(&mut self, c: usize, entry: Entry) -> Result<u64> {
        if self.slots.iter().filter(|s| matches!(s.used, Some((o, _)) if o == c)).count() >= MAX_PER_CLIENT {
            return Err(proto::Error::TooMany);
        }
        let i = match self.slots.iter().position(|s| s.used.is_none()) {
            Some(i) => i,
            None if self.slots.len() < MAX_SLOTS => {
                self.slots.push(Slot { generation: 0, used: None });
                self.slots.len() - 1
            }
            None => return Err(proto::Error::TooMany),
        };
        let s = &mut self.slots[i];
        s.generation = s.generation.wrapping_add(1);
        s.used = Some((c, entry));
        Ok(make_handle(i as u32, s.generation))
    }

    /// The slot of a handle that client `c` owns.
    fn lookup(&self, c: usize, h: u64) -> Result<usize> {
        let (i, generation) = split_handle(h).ok_or(proto::Error::BadHandle)?;
        let s = self.slots.get(i as usize).ok_or(proto::Error::BadHandle)?;
        match s.used {
            Some((owner, _)) if owner == c && s.generation == generation => Ok(i as usize),
            _ => Err(proto::Error::BadHandle),
        }
    }

    fn listen(&mut self, c: usize, port: u64, backlog: u64, set: &mut SocketSet<'static>) -> Result<u64> {
        let port = u16::try_from(port).ok().filter(|&p| p != 0).ok_or(proto::Error::Invalid)?;
        if backlog > proto::MAX_BACKLOG {
            return Err(proto::Error::Invalid);
        }
        let taken = self.slots.iter().any(|s| matches!(&s.used, Some((_, Entry::Listener(l))) if l.port == port));
        if taken {
            return Err(proto::Error::InUse);
        }
        self.socket_allowed(c, set)?;
        let mut l = Listener {
            port,
            backlog: backlog.max(1) as usize,
            listening: Vec::new(),
            ready: VecDeque::new(),
            waiting: false,
        };
        refill(&mut l, set, 1);
        if l.listening.is_empty() {
            return Err(proto::Error::NoMemory);
        }
        let socks = l.listening.clone();
        match self.alloc_slot(c, Entry::Listener(l)) {
            Ok(h) => {
                rt::info!("{}: listening on {}", self.clients[c].name, port);
                Ok(h)
            }
            Err(e) => {
                for sock in socks {
                    set.remove(sock);
                }
                Err(e)
            }
        }
    }

    /// Starts a connection; the handshake goes on after the reply.
    fn connect(
        &mut self,
        c: usize,
        ip: u64,
        port: u64,
        set: &mut SocketSet<'static>,
        iface: Option<&mut Interface>,
    ) -> Result<(u64, u16, rt::CapIdx, u64)> {
        let ip = u32::try_from(ip).ok().filter(|&a| a != 0 && a != u32::MAX).ok_or(proto::Error::Invalid)?;
        let port = u16::try_from(port).ok().filter(|&p| p != 0).ok_or(proto::Error::Invalid)?;
        let iface = iface.ok_or(proto::Error::NetworkDown)?;
        self.socket_allowed(c, set)?;
        let local = self.ephemeral_port(set).ok_or(proto::Error::TooMany)?;
        let mut s = new_tcp_socket();
        let remote = (Ipv4Address::from_bits(ip), port);
        if s.connect(iface.context(), remote, local).is_err() {
            return Err(proto::Error::Invalid);
        }
        let sock = set.add(s);
        let conn = match new_conn(sock, false) {
            Ok(conn) => conn,
            Err(e) => {
                set.remove(sock);
                return Err(e);
            }
        };
        let (ds, size) = (conn.region.ds.0, conn.region.size);
        match self.alloc_slot(c, Entry::Conn(conn)) {
            Ok(handle) => Ok((handle, local, ds, size)),
            Err(e) => {
                set.get_mut::<tcp::Socket>(sock).abort();
                self.closing.push(Closing { sock, conn: None, since: rt::time::ticks() });
                Err(e)
            }
        }
    }

    /// A local port no listener and no connection uses.
    fn ephemeral_port(&mut self, set: &SocketSet<'static>) -> Option<u16> {
        for _ in 0..EPHEMERAL_PORTS {
            let p = EPHEMERAL_FIRST + (self.next_port % EPHEMERAL_PORTS);
            self.next_port = self.next_port.wrapping_add(1);
            let listened = self.slots.iter().any(|s| matches!(&s.used, Some((_, Entry::Listener(l))) if l.port == p));
            let used = set.iter().any(|(_, s)| match s {
                smoltcp::socket::Socket::Tcp(t) => t.local_endpoint().is_some_and(|e| e.port == p),
                _ => false,
            });
            if !listened && !used {
                return Some(p);
            }
        }
        None
    }

    fn accept(&mut self, c: usize, h: u64, set: &mut SocketSet<'static>) -> Reply {
        match self.try_accept(c, h, set) {
            Ok((handle, ip, port, ds, stream_bytes)) => Reply::typed(
                &proto::Accepted { handle, ip, port, stream_bytes },
                &[ipc::cap_item(ds, Rights::READ | Rights::WRITE)],
            ),
            Err(e) => Reply::word(encode(Err(e))),
        }
    }

    fn try_accept(
        &mut self,
        c: usize,
        h: u64,
        set: &mut SocketSet<'static>,
    ) -> Result<(u64, u32, u16, rt::CapIdx, u64)> {
        let i = self.lookup(c, h)?;
        let Some((_, Entry::Listener(l))) = &mut self.slots[i].used else { return Err(proto::Error::BadHandle) };
        let Some(sock) = l.ready.pop_front() else {
            l.waiting = true;
            return Err(proto::Error::WouldBlock);
        };
        let conn = match new_conn(sock, true) {
            Ok(conn) => conn,
            Err(e) => {
                // Keep it for a later try once memory is back.
                l.ready.push_front(sock);
                return Err(e);
            }
        };
        let (ip, port) = match set.get::<tcp::Socket>(sock).remote_endpoint() {
            Some(ep) => {
                let smoltcp::wire::IpAddress::Ipv4(a) = ep.addr;
                (u32::from_be_bytes(a.octets()), ep.port)
            }
            None => (0, 0),
        };
        let (ds, size) = (conn.region.ds.0, conn.region.size);
        match self.alloc_slot(c, Entry::Conn(conn)) {
            Ok(handle) => Ok((handle, ip, port, ds, size)),
            Err(e) => {
                // No handle for it: give the connection up.
                set.get_mut::<tcp::Socket>(sock).abort();
                self.closing.push(Closing { sock, conn: None, since: rt::time::ticks() });
                Err(e)
            }
        }
    }

    fn close(&mut self, c: usize, h: u64, set: &mut SocketSet<'static>, abort: bool) -> Result<u64> {
        let i = self.lookup(c, h)?;
        self.free_slot(i, set, abort);
        Ok(0)
    }

    /// Drops a handle. Listeners go at once (their sockets are reset);
    /// connections drain gracefully unless `abort`.
    fn free_slot(&mut self, i: usize, set: &mut SocketSet<'static>, abort: bool) {
        let Some((_, entry)) = self.slots[i].used.take() else { return };
        let now = rt::time::ticks();
        match entry {
            Entry::Listener(l) => {
                for sock in l.listening.into_iter().chain(l.ready) {
                    set.get_mut::<tcp::Socket>(sock).abort();
                    self.closing.push(Closing { sock, conn: None, since: now });
                }
            }
            Entry::Conn(conn) => {
                let s = set.get_mut::<tcp::Socket>(conn.sock);
                if abort {
                    s.abort();
                } else {
                    s.set_timeout(Some(LINGER));
                    // Whatever was written goes out, then FIN.
                    conn.stream.set_app_state(stream::SHUT_WR);
                }
                self.closing.push(Closing { sock: conn.sock, conn: Some(conn), since: now });
            }
        }
    }

    /// One turn after smoltcp's poll: new connections to listeners, bytes
    /// between smoltcp and the stream rings, closes. Triggers the clients that
    /// asked for it.
    pub fn service(&mut self, set: &mut SocketSet<'static>) -> Turn {
        let mut turn = Turn::default();
        let now = rt::time::ticks();
        if now.saturating_sub(self.last_liveness) >= LIVENESS_EVERY_MS {
            self.last_liveness = now;
            self.check_liveness(set);
        }
        for i in 0..self.slots.len() {
            // Room for new listening sockets: one at a time, within the budget.
            let room = match &self.slots[i].used {
                Some((owner, Entry::Listener(l))) if l.listening.len() < l.backlog => {
                    self.socket_allowed(*owner, set).is_ok() as usize
                }
                _ => 0,
            };
            let Some((owner, entry)) = &mut self.slots[i].used else { continue };
            let wake = match entry {
                Entry::Listener(l) => service_listener(l, set, room),
                Entry::Conn(conn) => service_conn(conn, set, &mut turn),
            };
            if wake && let Some(s) = &mut self.clients[*owner].session {
                s.wake = true;
            }
        }
        self.closing.retain_mut(|cl| {
            let s = set.get_mut::<tcp::Socket>(cl.sock);
            if let Some(conn) = &mut cl.conn {
                // The client is gone from this connection: discard what
                // arrives, send what it left.
                while let Ok(n) = s.recv(|b| (b.len(), b.len())) {
                    if n == 0 {
                        break;
                    }
                }
                let mut ignored = Turn::default();
                drain_tx(conn, s, &mut ignored);
                turn.moved |= ignored.moved;
                if !conn.fin_queued && conn.stream.readable(Dir::Tx) == 0 {
                    s.close();
                    conn.fin_queued = true;
                    turn.moved = true;
                }
            }
            let finished = matches!(s.state(), State::Closed | State::TimeWait);
            let expired = now.saturating_sub(cl.since) > LINGER.total_millis() + 5000;
            if expired && !finished {
                s.abort();
            }
            if finished || expired {
                set.remove(cl.sock);
                if let Some(conn) = cl.conn.take() {
                    conn.region.free();
                }
                return false;
            }
            true
        });
        for c in self.clients.iter_mut() {
            if let Some(s) = &mut c.session
                && core::mem::take(&mut s.wake)
            {
                let _ = s.notify.trigger();
            }
        }
        turn
    }

    /// Connections (open and closing) and listeners, for the statistics line.
    pub fn counts(&self) -> (usize, usize, usize) {
        let conns = self.slots.iter().filter(|s| matches!(s.used, Some((_, Entry::Conn(_))))).count();
        let listeners = self.slots.iter().filter(|s| matches!(s.used, Some((_, Entry::Listener(_))))).count();
        (listeners, conns, self.closing.len())
    }
}

fn new_session(kick_label: u64) -> core::result::Result<Session, rt::Error> {
    let f = Factory::own();
    let notify = f.create_irq()?;
    let kick = match f.create_irq() {
        Ok(k) => k,
        Err(e) => {
            rt::obj::release(notify.0);
            return Err(e);
        }
    };
    if let Err(e) = kick.attach(&Thread::own_main(), kick_label) {
        rt::obj::release(notify.0);
        rt::obj::release(kick.0);
        return Err(e);
    }
    Ok(Session { notify, kick, wake: false, attached: false })
}

/// Whether a thread is attached to the IRQ.
fn irq_attached(irq: Irq) -> bool {
    // An error (on Resurgo's kernel it cannot be: the object is netd's; on
    // Fiasco.OC the IRQ does not tell) counts as attached.
    irq.attached().unwrap_or(true)
}

fn new_tcp_socket() -> tcp::Socket<'static> {
    let mut s =
        tcp::Socket::new(tcp::SocketBuffer::new(vec![0; TCP_RX_BYTES]), tcp::SocketBuffer::new(vec![0; TCP_TX_BYTES]));
    // Bulk transfers and request/response both: no Nagle; ACK every second
    // segment at once (smoltcp does so while an ACK is delayed).
    s.set_nagle_enabled(false);
    s
}

/// Keeps `backlog` sockets listening, adding at most `room`.
fn refill(l: &mut Listener, set: &mut SocketSet<'static>, mut room: usize) {
    while l.listening.len() < l.backlog && l.ready.len() < MAX_READY && room > 0 {
        let mut s = new_tcp_socket();
        if s.listen(l.port).is_err() {
            return;
        }
        l.listening.push(set.add(s));
        room -= 1;
    }
}

/// Moves established connections to the ready queue; says whether the client
/// waits for one.
fn service_listener(l: &mut Listener, set: &mut SocketSet<'static>, room: usize) -> bool {
    let mut arrived = false;
    let mut k = 0;
    while k < l.listening.len() {
        let h = l.listening[k];
        let s = set.get_mut::<tcp::Socket>(h);
        match s.state() {
            State::Listen | State::SynReceived => k += 1,
            State::Closed => {
                // A handshake that failed: listen again on the same socket.
                if s.listen(l.port).is_err() {
                    set.remove(h);
                    l.listening.swap_remove(k);
                } else {
                    k += 1;
                }
            }
            _ => {
                l.listening.swap_remove(k);
                l.ready.push_back(h);
                arrived = true;
            }
        }
    }
    refill(l, set, room);
    arrived && core::mem::take(&mut l.waiting)
}

/// A connection's stream region; `connected` for an accepted one.
fn new_conn(sock: SocketHandle, connected: bool) -> Result<Conn> {
    let bytes = stream::region_size(STREAM_RX_BYTES, STREAM_TX_BYTES) as u64;
    let region = rt::mem::alloc(bytes, false).map_err(|_| proto::Error::NoMemory)?;
    // SAFETY: `region` is fresh RAM mapped writable at its address for its size
    // and stays mapped until `Conn` frees it.
    match unsafe { Stream::init(region.as_mut_ptr(), region.size as usize, STREAM_RX_BYTES, STREAM_TX_BYTES) } {
        Ok(stream) => {
            if connected {
                stream.set_state(stream::CONNECTED);
            }
            Ok(Conn { sock, region, stream, fin_queued: false, eof_set: false, connected })
        }
        Err(_) => {
            region.free();
            Err(proto::Error::NoMemory)
        }
    }
}

/// Copies between smoltcp and the stream rings; returns whether the client
/// must be woken.
fn service_conn(conn: &mut Conn, set: &mut SocketSet<'static>, turn: &mut Turn) -> bool {
    let s = set.get_mut::<tcp::Socket>(conn.sock);
    let st = &conn.stream;
    let mut wake = false;

    // smoltcp → rx ring.
    let mut moved = false;
    while st.writable(Dir::Rx) > 0 {
        match s.recv(|b| {
            let n = st.write(Dir::Rx, b);
            (n, n)
        }) {
            Ok(n) if n > 0 => moved = true,
            _ => break,
        }
    }
    if moved {
        turn.moved = true;
        wake |= st.take_consumer_wake(Dir::Rx);
    }
    if s.recv_queue() > 0 && !st.arm_producer(Dir::Rx) {
        // The client made room while we armed.
        turn.again = true;
    }

    // End of the incoming stream, or of the connection.
    // An outgoing connection's handshake.
    if !conn.connected && !matches!(s.state(), State::Closed | State::SynSent | State::SynReceived | State::Listen) {
        conn.connected = true;
        st.set_state(stream::CONNECTED);
        wake |= st.take_consumer_wake(Dir::Rx) | st.take_producer_wake(Dir::Tx);
    }
    if !conn.eof_set && s.recv_queue() == 0 && !s.may_recv() && (conn.connected || s.state() == State::Closed) {
        let reset = s.state() == State::Closed && !conn.fin_queued;
        conn.eof_set = true;
        st.set_state(stream::EOF | if reset { stream::RESET } else { 0 });
        wake |= st.take_consumer_wake(Dir::Rx) | st.take_producer_wake(Dir::Tx);
    }

    // tx ring → smoltcp.
    wake |= drain_tx(conn, s, turn);
    let st = &conn.stream;
    if st.readable(Dir::Tx) == 0 {
        if !st.arm_consumer(Dir::Tx) {
            turn.again = true;
        }
        if st.app_state() & stream::SHUT_WR != 0 && !conn.fin_queued {
            s.close();
            conn.fin_queued = true;
            turn.moved = true;
        }
    }
    wake
}

/// Moves what the client wrote into smoltcp's send buffer; returns whether the
/// client waits for the room this made.
fn drain_tx(conn: &mut Conn, s: &mut tcp::Socket<'static>, turn: &mut Turn) -> bool {
    let st = &conn.stream;
    if conn.fin_queued {
        return false;
    }
    let mut freed = false;
    loop {
        let (a, _) = st.peek(Dir::Tx);
        if a.is_empty() || !s.can_send() {
            break;
        }
        match s.send_slice(a) {
            Ok(n) if n > 0 => {
                st.consume(Dir::Tx, n);
                freed = true;
            }
            _ => break,
        }
    }
    if freed {
        turn.moved = true;
        return st.take_producer_wake(Dir::Tx);
    }
    false
}

//! Message formats between Resurgo's servers and their clients.
//!
//! Each protocol is a set of message labels (the tag's label of a call) with the
//! message words in and out, and the capabilities that travel as items. Servers
//! identify a client by the label of the gate it called through: init gives
//! every client of an endpoint a gate of its own (see `lib/boot`).
#![no_std]

/// Bytes in message words: little-endian, 8 to a word, the last one
/// zero-padded (`l4_sys::message::Bytes` does the packing).
pub mod words {
    /// Words that `len` bytes take.
    pub const fn words_for(len: usize) -> usize {
        len.div_ceil(8)
    }
}

/// Task names in messages: byte strings (`l4_sys::message::Bytes`) of at
/// most [`name::MAX`] bytes.
pub mod name {
    /// The longest name, in bytes.
    pub const MAX: usize = 32;
}

pub mod pci_config;
pub mod status;

#[cfg(test)]
mod pci_tests {
    use super::pci::{self, AdminRequest, Request};
    use l4_sys::Error;
    use l4_sys::message::Bytes;

    fn round_trip(r: Request) -> Request {
        let mut mr = [0u64; 64];
        let n = r.encode(&mut mr).unwrap();
        Request::decode(r.label(), &mr[..n]).unwrap()
    }

    #[test]
    fn requests_round_trip() {
        for r in [
            Request::Open {},
            Request::ConfigRead { offset: 0x3c, len: 1 },
            Request::ConfigWrite { offset: 4, len: 2, value: 0x0407 },
            Request::EnableMsi {},
            Request::DisableMsi {},
            Request::EnableMsix { count: 3 },
            Request::DisableMsix {},
        ] {
            assert_eq!(round_trip(r), r);
        }
        let q = AdminRequest::Quiesce { name: Bytes::truncated("eth-8139cp") };
        let mut mr = [0u64; 64];
        let n = q.encode(&mut mr).unwrap();
        assert_eq!(AdminRequest::decode(pci::QUIESCE, &mr[..n]), Ok(q));
    }

    #[test]
    fn the_wire_is_the_documented_one() {
        let mut mr = [0u64; 8];
        let r = Request::ConfigWrite { offset: 0x10, len: 4, value: 0xdead_0001 };
        assert_eq!(r.label(), pci::CONFIG_WRITE);
        assert_eq!(r.encode(&mut mr), Ok(3));
        assert_eq!(mr[..3], [0x10, 4, 0xdead_0001]);
        assert_eq!(Request::Open {}.encode(&mut mr), Ok(0));
    }

    #[test]
    fn malformed_requests_are_refused_with_typed_errors() {
        // Unknown label.
        assert_eq!(Request::decode(0x5099, &[]), Err(Error::BadOpcode));
        assert_eq!(Request::decode(pci::QUIESCE, &[]), Err(Error::BadOpcode));
        // Word counts: too few, too many.
        assert_eq!(Request::decode(pci::CONFIG_READ, &[4]), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(pci::CONFIG_READ, &[4, 4, 0]), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(pci::OPEN, &[1]), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(pci::ENABLE_MSI, &[0]), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(pci::CONFIG_WRITE, &[4, 2]), Err(Error::InvalidArgument));
        // Fields out of their type's range: an offset past 255, a value past 32 bits.
        assert_eq!(Request::decode(pci::CONFIG_READ, &[0x100, 4]), Err(Error::InvalidArgument));
        assert_eq!(Request::decode(pci::CONFIG_WRITE, &[4, 4, 1 << 32]), Err(Error::InvalidArgument));
        // A name longer than its bound, or longer than the words sent.
        assert_eq!(AdminRequest::decode(pci::QUIESCE, &[33, 0, 0, 0, 0, 0]), Err(Error::InvalidArgument));
        assert_eq!(AdminRequest::decode(pci::QUIESCE, &[9, 0]), Err(Error::InvalidArgument));
        // What io answers for each of them.
        assert_eq!(pci::Error::from(Error::BadOpcode), pci::Error::Invalid);
    }

    #[test]
    fn no_words_panic_the_decoder() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let x = crate::status::xorshift(&mut x);
            let n = (x % 8) as usize;
            let words: [u64; 8] =
                core::array::from_fn(|i| if x & (1 << i) != 0 { x.rotate_left(i as u32) } else { i as u64 });
            let label = pci::OPEN + (x % 10) as i64;
            let _ = Request::decode(label, &words[..n]);
            let _ = AdminRequest::decode(label, &words[..n]);
        }
    }
}

/// The io server's `pci` endpoint: a driver task's access to its one device.
pub mod pci {
    /// Claim the device the manifest assigns to the caller.
    /// out words: [`DeviceInfo`] as [`INFO_WORDS`] words. out items: one I/O-port
    /// capability per I/O BAR, one device-memory capability per memory BAR (in
    /// BAR order), then the IRQ object of its line. The caller sets one receive
    /// slot per item in its buffer registers. Calling again (a restarted driver)
    /// returns the same objects.
    pub const OPEN: i64 = 0x5001;
    /// Read configuration space. in: `[offset, len]` (len 1, 2, 4). out: `[value]`.
    pub const CONFIG_READ: i64 = 0x5002;
    /// Write configuration space. in: `[offset, len, value]`. Refused (error reply)
    /// outside what [`crate::pci_config::filter_write`] allows: BARs and the
    /// rest of the fixed header, MSI and MSI-X, power states other than D0;
    /// command-register bits other than I/O, memory, bus master and INTx
    /// disable keep their value.
    pub const CONFIG_WRITE: i64 = 0x5003;

    /// On io's `admin` endpoint, for a driver's supervisor: stop the device of
    /// driver task NAME from mastering the bus, before the driver's memory
    /// goes back to the kernel. A device left running by a dead driver would
    /// go on writing received data into the frames of its receive buffers,
    /// whoever has them next. The next instance enables bus mastering again
    /// as its probe does. in: the name as a byte string
    /// ([`AdminRequest::Quiesce`]). out: `[0]`, or [`Error::NoDevice`] when
    /// NAME has none.
    pub const QUIESCE: i64 = 0x5004;
    /// Switch the device from its INTx line to its message-signalled
    /// interrupt (MSI, one vector). io asks the kernel for a vector bound to
    /// a new IRQ object (under the IOMMU, an interrupt-remapping entry only
    /// this device's requests may use), writes the address and data into
    /// the device's MSI capability, enables it and disables INTx. out:
    /// `[line]` (the IRQ object's line, as its INFO says) and the IRQ
    /// object as one item; [`Error::NoMsi`] when the device has no MSI
    /// capability, its manifest grants no interrupt, or the kernel has no
    /// vector for it. Calling again (a restarted driver) returns the same
    /// object, the capability programmed again.
    pub const ENABLE_MSI: i64 = 0x5005;
    /// Back to the INTx line: MSI disabled, INTx enabled. out: `[0]`, or
    /// [`Error::NoMsi`] when MSI was not on.
    pub const DISABLE_MSI: i64 = 0x5006;
    /// Switch the device to MSI-X with `count` vectors (1 to
    /// [`MAX_MSIX`], at most its table's size): as [`ENABLE_MSI`], one
    /// kernel vector and IRQ object per table entry 0..count, which io
    /// writes into the device's MSI-X table (in one of its BARs, mapped by
    /// io). in: `[count]`. out: `[count, line 0, .., line count-1]` and
    /// the IRQ objects as `count` items, in entry order; [`Error::NoMsi`]
    /// when the device has no MSI-X capability, a smaller table, no
    /// interrupt in its manifest, or the kernel too few vectors.
    pub const ENABLE_MSIX: i64 = 0x5007;
    /// Back to the INTx line from MSI-X. out: `[0]`, or [`Error::NoMsi`].
    pub const DISABLE_MSIX: i64 = 0x5008;
    /// The most MSI-X vectors one device gets (one receive slot each).
    pub const MAX_MSIX: usize = 8;

    l4_sys::calls! {
        /// A request on the `pci` endpoint (see the labels above), as io
        /// decodes it and `rt::device` sends it.
        pub enum Request {
            Open (OPEN) {},
            ConfigRead (CONFIG_READ) { offset: u8, len: u8 },
            ConfigWrite (CONFIG_WRITE) { offset: u8, len: u8, value: u32 },
            EnableMsi (ENABLE_MSI) {},
            DisableMsi (DISABLE_MSI) {},
            EnableMsix (ENABLE_MSIX) { count: u8 },
            DisableMsix (DISABLE_MSIX) {},
        }
    }

    l4_sys::calls! {
        /// A request on io's `admin` endpoint: the driver task's name.
        pub enum AdminRequest {
            Quiesce (QUIESCE) bytes name [crate::name::MAX],
        }
    }

    impl From<l4_sys::Error> for Error {
        /// A request the generated decoder refused (unknown label, wrong
        /// word count, a field out of range) is an invalid one.
        fn from(_: l4_sys::Error) -> Error {
            Error::Invalid
        }
    }

    crate::errors! {
        /// Why io refused a `pci` or `admin` call: a negative `mr[0]` in
        /// the reply ([`crate::status`]).
        pub enum Error (undefined = Invalid) {
            /// A configuration write io's filter refuses (a BAR, MSI, the
            /// fixed header, a power state other than D0).
            Denied = -1 => "refused by io's configuration-space filter",
            /// No device for this client (on `admin`: for the named driver).
            NoDevice = -19 => "no device assigned",
            /// Too few words, a bad offset or length, an unknown label.
            Invalid = -22 => "invalid request",
            /// No message-signalled interrupt: the device has no MSI
            /// capability, its manifest grants no interrupt, or the kernel
            /// has no vector left (or MSI is not on, for DISABLE_MSI).
            NoMsi = -95 => "no message-signalled interrupt for this device",
        }
    }

    pub const BARS: usize = 6;
    /// Words of OPEN's reply before its capability items: the status word
    /// and [`DeviceInfo`] (ten words and two per BAR).
    pub const INFO_WORDS: usize = 1 + 10 + 2 * BARS;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Bar {
        pub base: u64,
        pub size: u64,
        pub is_io: bool,
    }

    /// A device's BARs, as one field of [`DeviceInfo`]: two words each, the
    /// base, then the size shifted left by two with bit 0 set (present) and
    /// bit 1 for an I/O BAR; an absent BAR is two zero words.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Bars(pub [Option<Bar>; BARS]);

    impl core::ops::Deref for Bars {
        type Target = [Option<Bar>; BARS];
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl core::ops::DerefMut for Bars {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }

    impl l4_sys::message::Field for Bars {
        fn write(self, w: &mut l4_sys::message::Writer<'_>) {
            for b in self.0 {
                let (base, meta) = b.map_or((0, 0), |b| (b.base, b.size << 2 | 1 | (b.is_io as u64) << 1));
                w.word(base);
                w.word(meta);
            }
        }
        fn read(r: &mut l4_sys::message::Reader<'_>) -> Result<Self, l4_sys::Error> {
            let mut bars = [None; BARS];
            for b in &mut bars {
                let (base, meta) = (r.word()?, r.word()?);
                *b = match meta & 1 {
                    1 => Some(Bar { base, size: meta >> 2, is_io: meta & 2 != 0 }),
                    // Absent is all zero: one encoding per message.
                    _ if base == 0 && meta == 0 => None,
                    _ => return Err(l4_sys::Error::InvalidArgument),
                };
            }
            Ok(Bars(bars))
        }
    }

    l4_sys::reply! {
        /// OPEN's answer after the status word: the device's identity, its
        /// place, its interrupt line and its BARs; the capability items follow.
        #[derive(Default)]
        pub struct DeviceInfo {
            vendor: u16,
            device: u16,
            subsystem_vendor: u16,
            subsystem_device: u16,
            /// 24 bits: class, subclass, programming interface.
            class_code: u32,
            revision: u8,
            bus: u8,
            slot: u8,
            func: u8,
            irq_line: u8,
            bars: Bars,
        }
    }

    impl DeviceInfo {
        /// The identity a device's configuration header gives in its ID
        /// (0x00), class/revision (0x08) and subsystem (0x2c) registers; the
        /// place, line and BARs are the caller's to fill in.
        pub fn from_header(id: u32, class: u32, subsystem: u32) -> DeviceInfo {
            DeviceInfo {
                vendor: id as u16,
                device: (id >> 16) as u16,
                subsystem_vendor: subsystem as u16,
                subsystem_device: (subsystem >> 16) as u16,
                class_code: class >> 8,
                revision: class as u8,
                ..DeviceInfo::default()
            }
        }
    }
}

/// netd's `nic` endpoint: a NIC driver task attaches its device.
pub mod nic {
    /// Attach (or re-attach after a restart). in: `[mac as 6 bytes little-endian,
    /// mtu, link up]`. out: [`Attached`] after the status word; a refusal is
    /// its status word, and after [`Error::Kernel`] the kernel's error code
    /// ([`Refusal`]). out items ([`ATTACH_ITEMS`]):
    /// the ring dataspace (read/write), the IRQ object netd triggers for the driver
    /// (the driver attaches a thread to it), the IRQ object the driver triggers for
    /// netd. The rings are `netring` rings; they outlive the driver. With
    /// MINIX-style restarts they are the driver's own, announced first (see
    /// [`RINGS_KEY`]); an ATTACH before that is refused.
    pub const ATTACH: i64 = 0x4e01;
    /// Link state changed. in: `[link up]`.
    pub const LINK: i64 = 0x4e02;

    l4_sys::calls! {
        /// A driver's call on its `nic` gate, as the shim sends it and netd
        /// decodes it.
        pub enum Request {
            Attach (ATTACH) { mac: [u8; 6], mtu: u64, link: bool },
            Link (LINK) { up: bool },
        }
    }

    /// Capability items of the [`ATTACH`] reply.
    pub const ATTACH_ITEMS: usize = 3;

    l4_sys::reply! {
        /// [`ATTACH`]'s answer after the status word.
        pub struct Attached {
            /// Size of the ring dataspace (the first item).
            ring_bytes: u64,
            /// Frame slots per ring.
            slots: u64,
        }
    }

    /// Why netd refused an ATTACH or LINK, with the kernel's reason when one
    /// of netd's own kernel calls failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Refusal {
        Netd(Error),
        Kernel(l4_sys::Error),
    }

    impl Refusal {
        /// The refusal's words: the status word, then the kernel's code.
        pub fn encode(self, mr: &mut [u64]) -> usize {
            let (status, kernel) = match self {
                Refusal::Netd(e) => (e, None),
                Refusal::Kernel(k) => (Error::Kernel, Some(k)),
            };
            let words = [crate::status::encode(Err(status)), kernel.map_or(0, |k| k as u64)];
            let n = if kernel.is_some() { 2 } else { 1 }.min(mr.len());
            mr[..n].copy_from_slice(&words[..n]);
            n
        }

        /// The refusal `words` make (they start with a negative status word);
        /// `None` when they are none.
        pub fn decode(words: &[u64]) -> Option<Refusal> {
            match crate::status::decode::<Error>(*words.first()?) {
                Ok(_) => None,
                Err(Error::Kernel) => {
                    let code = *words.get(1)?;
                    Some(Refusal::Kernel(l4_sys::Error::from_raw(code).err()?))
                }
                Err(e) => Some(Refusal::Netd(e)),
            }
        }
    }

    impl core::fmt::Display for Refusal {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                Refusal::Netd(e) => write!(f, "{e}"),
                Refusal::Kernel(k) => write!(f, "{}: {k}", Error::Kernel),
            }
        }
    }

    /// An ATTACH reply: the rings, or why not (`Malformed` as netd's error
    /// when the reply does not follow the protocol).
    pub fn decode_attach(words: &[u64]) -> Result<Attached, Refusal> {
        if let Some(r) = Refusal::decode(words) {
            return Err(r);
        }
        crate::status::decode_reply::<Attached, Error>(words).map_err(|e| match e {
            crate::status::ReplyError::Refused(e) => Refusal::Netd(e),
            crate::status::ReplyError::Malformed => Refusal::Netd(Error::Malformed),
        })
    }

    impl From<l4_sys::Error> for Error {
        /// A call the generated decoder refused is malformed.
        fn from(_: l4_sys::Error) -> Error {
            Error::Malformed
        }
    }

    crate::errors! {
        /// Why netd refused a driver's call: the status word in `mr[0]` of
        /// the reply ([`crate::status`]); after [`Error::Kernel`] the
        /// kernel's own error code follows in `mr[1]`.
        pub enum Error (undefined = Malformed) {
            /// LINK from a driver that has not attached.
            NotAttached = -2 => "not attached",
            /// A kernel call of netd's failed (creating or mapping the rings).
            Kernel = -5 => "a kernel call failed",
            /// Too few words, or a label the endpoint does not serve.
            Malformed = -22 => "malformed request",
            /// The driver's own rings (MINIX-style) do not check.
            Rings = -71 => "the rings do not check",
            /// The data store refused what netd asked of it for this driver.
            Store = -77 => "the data store refused",
            NotUnicast = -99 => "not a unicast MAC address",
            /// MINIX-style: the driver attached before announcing its rings.
            NotAnnounced = -107 => "no rings announced in the data store (MINIX-style restarts)",
        }
    }

    /// Frame slots per ring, each way.
    pub const RING_SLOTS: u32 = 256;

    /// MINIX-style restarts (`restart = "minix"`): a driver instance owns its
    /// rings. It creates the ring dataspace (`netring::region_size(RING_SLOTS)`
    /// bytes) and the IRQ object netd triggers for it, publishes them in its
    /// data-store namespace under [`WAKE_KEY`] and then [`RINGS_KEY`], and
    /// waits for that trigger. netd, subscribed to those keys, learns of the
    /// new instance from the store, drops the previous instance's rings with
    /// whatever was in flight, formats the new ones, and triggers; the driver
    /// then ATTACHes as in transparent mode and gets its own rings back.
    pub const RINGS_KEY: &str = "net/rings";
    /// See [`RINGS_KEY`].
    pub const WAKE_KEY: &str = "net/wake";
    /// What netd subscribes to in a driver's namespace.
    pub const ANNOUNCE_PREFIX: &str = "net/";
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::pci::*;

    #[test]
    fn pci_errors_round_trip() {
        crate::status::check_round_trip::<Error>();
    }

    #[test]
    fn device_info_round_trips() {
        let mut bars = [None; BARS];
        bars[0] = Some(Bar { base: 0xc000, size: 0x100, is_io: true });
        bars[1] = Some(Bar { base: 0xfebf_1000, size: 0x100, is_io: false });
        let d = DeviceInfo {
            vendor: 0x10ec,
            device: 0x8139,
            subsystem_vendor: 0x1af4,
            subsystem_device: 0x1100,
            class_code: 0x020000,
            revision: 0x20,
            bus: 0,
            slot: 3,
            func: 0,
            irq_line: 11,
            bars: Bars(bars),
        };
        let mut mr = [0u64; 32];
        let n = crate::status::encode_reply(&d, &mut mr).unwrap();
        assert_eq!(n, INFO_WORDS);
        assert_eq!(crate::status::decode_reply::<DeviceInfo, Error>(&mr[..n]), Ok(d));
        // An absent BAR with a base is malformed.
        let mut bad = mr;
        bad[1 + 10 + 4] = 0x1000;
        assert!(crate::status::decode_reply::<DeviceInfo, Error>(&bad[..n]).is_err());
        let h = DeviceInfo::from_header(0x8139_10ec, 0x0200_0020, 0x1100_1af4);
        assert_eq!(DeviceInfo { bus: 0, slot: 3, func: 0, irq_line: 11, bars: Bars(bars), ..h }, d);
    }

    #[test]
    fn nic_errors_round_trip() {
        crate::status::check_round_trip::<super::nic::Error>();
    }

    #[test]
    fn attach_replies_round_trip_and_refusals_keep_their_reason() {
        use super::nic::{Attached, Error, Refusal, decode_attach};
        let mut mr = [0u64; 8];
        let ok = Attached { ring_bytes: 0x21_0000, slots: 256 };
        let n = crate::status::encode_reply(&ok, &mut mr).unwrap();
        assert_eq!(decode_attach(&mr[..n]), Ok(ok));
        assert_eq!(decode_attach(&mr[..n - 1]), Err(Refusal::Netd(Error::Malformed)));
        for r in [Refusal::Netd(Error::NotUnicast), Refusal::Kernel(l4_sys::Error::QuotaExceeded)] {
            let n = r.encode(&mut mr);
            assert_eq!(decode_attach(&mr[..n]), Err(r));
        }
        assert_eq!(decode_attach(&[]), Err(Refusal::Netd(Error::Malformed)));
    }

    #[test]
    fn socket_replies_round_trip() {
        use super::socket::{Accepted, Connected, Error, Info};
        use crate::status::{ReplyError, decode_reply, encode_reply};
        let mut mr = [0u64; 8];
        let a =
            Accepted { handle: super::socket::make_handle(3, 1), ip: 0x0a00_0202, port: 40000, stream_bytes: 1 << 20 };
        let n = encode_reply(&a, &mut mr).unwrap();
        assert_eq!(decode_reply::<Accepted, Error>(&mr[..n]), Ok(a));
        let c = Connected { handle: 5 | 1 << 31, local_port: 49152, stream_bytes: 8192 };
        let n = encode_reply(&c, &mut mr).unwrap();
        assert_eq!(decode_reply::<Connected, Error>(&mr[..n]), Ok(c));
        // A port past 16 bits is not a Connected.
        mr[2] = 1 << 16;
        assert_eq!(decode_reply::<Connected, Error>(&mr[..n]), Err(ReplyError::Malformed));
        let i = Info { ip: 0x0a00_020f, prefix: 24, gateway: 0x0a00_0202, link_up: true };
        let n = encode_reply(&i, &mut mr).unwrap();
        assert_eq!(decode_reply::<Info, Error>(&mr[..n]), Ok(i));
        let refused = [crate::status::encode::<Error>(Err(Error::WouldBlock))];
        assert_eq!(decode_reply::<Accepted, Error>(&refused), Err(ReplyError::Refused(Error::WouldBlock)));
    }
}

/// netd's `sockets` endpoint: TCP for applications.
///
/// **No call blocks.** netd is one thread serving every application and every
/// NIC, and the kernel lets a server reply only to the caller it received last,
/// so a call that had to wait inside netd (an `accept` with nobody connecting)
/// would stall everyone else. Instead each call answers at once, with
/// [`Error::WouldBlock`] when there is nothing yet, and netd triggers the client's
/// notification IRQ (from [`HELLO`]) when something it waits for happens. The
/// client library turns that into blocking calls: try, arm, try again, sleep
/// on the IRQ.
///
/// **Data does not travel in messages.** Each accepted connection comes with a
/// dataspace of two byte rings ([`stream`]): netd writes received bytes into
/// `rx`, the application writes what it sends into `tx`. Either side sets the
/// other's wake flag when it is about to sleep; the other triggers an IRQ (netd:
/// the client's notification IRQ, the client: its kick IRQ into netd) only when
/// it finds the flag set. A bulk transfer thus costs no system call per chunk in
/// the steady state, and the receiver reads the bytes where they lie.
///
/// Every reply carries a status in `mr[0]`: a value `>= 0` or a negative error
/// (see [`encode`], [`decode`]). Handles belong to the client that got them: a
/// handle of another client, a stale one or garbage is [`ERR_BAD_HANDLE`].
pub mod socket {
    /// Open (or reopen, after a restart of the application) a session. Every
    /// socket the client had is aborted. out: `[status]`; items: the
    /// notification IRQ (the client attaches a thread to it, right SERVER) and
    /// the kick IRQ (the client triggers it, right WRITE). The same two objects
    /// on every call. The client sets two receive slots (buffer registers 0, 1).
    pub const HELLO: i64 = 0x5301;
    /// Listen on a TCP port. in: `[port, backlog]` (backlog 1..=[`MAX_BACKLOG`],
    /// 0 means 1). out: `[handle]`.
    pub const LISTEN: i64 = 0x5302;
    /// Take an established connection of a listener. in: `[listener]`. out:
    /// [`Accepted`]; item: the stream dataspace (read/write, see [`stream`]).
    /// Nothing yet:
    /// [`Error::WouldBlock`], and the notification IRQ fires when one arrives.
    pub const ACCEPT: i64 = 0x5303;
    /// Close a handle. A listener stops listening (its connections not yet
    /// accepted are reset); a connection is closed gracefully: what the client
    /// put into `tx` is still sent, then FIN. The handle is invalid afterwards.
    pub const CLOSE: i64 = 0x5304;
    /// Reset a connection (RST) and drop the handle.
    pub const ABORT: i64 = 0x5305;
    /// The interface's address. out: [`Info`]; IPv4 0 while unconfigured.
    pub const INFO: i64 = 0x5306;
    /// Open a connection. in: `[remote IPv4 (big-endian u32), remote port]`.
    /// out: [`Connected`]; item: the stream dataspace.
    /// The handshake goes on after the reply: the stream's state gets
    /// [`stream::CONNECTED`], or [`stream::RESET`] if it fails. Bytes written
    /// before are sent once it is established.
    pub const CONNECT: i64 = 0x5307;

    pub const MAX_BACKLOG: u64 = 4;

    l4_sys::calls! {
        /// An application's call on its `sockets` gate, as `netapps` sends it
        /// and netd decodes it.
        pub enum Request {
            Hello (HELLO) {},
            Listen (LISTEN) { port: u16, backlog: u64 },
            Accept (ACCEPT) { listener: u64 },
            Close (CLOSE) { handle: u64 },
            Abort (ABORT) { handle: u64 },
            Info (INFO) {},
            Connect (CONNECT) { ip: u32, port: u16 },
        }
    }

    /// Capability items of the [`ACCEPT`] and [`CONNECT`] replies: the stream.
    pub const STREAM_ITEMS: usize = 1;
    /// Capability items of the [`HELLO`] reply: the notification and kick IRQs.
    pub const HELLO_ITEMS: usize = 2;

    l4_sys::reply! {
        /// [`ACCEPT`]'s answer after the status word ([`crate::status::encode_reply`]).
        pub struct Accepted {
            handle: u64,
            /// The peer's IPv4 address, big-endian.
            ip: u32,
            port: u16,
            /// Size of the stream dataspace (the reply's item).
            stream_bytes: u64,
        }
    }

    l4_sys::reply! {
        /// [`CONNECT`]'s answer after the status word.
        pub struct Connected {
            handle: u64,
            local_port: u16,
            /// Size of the stream dataspace (the reply's item).
            stream_bytes: u64,
        }
    }

    l4_sys::reply! {
        /// [`INFO`]'s answer after the status word.
        pub struct Info {
            /// IPv4 address (big-endian), 0 while unconfigured.
            ip: u32,
            prefix: u8,
            /// Gateway IPv4 (big-endian), 0 for none.
            gateway: u32,
            link_up: bool,
        }
    }

    impl From<l4_sys::Error> for Error {
        /// A label the endpoint does not have is not supported; known
        /// calls with the wrong words (a port past 16 bits, an address past
        /// 32) are invalid.
        fn from(e: l4_sys::Error) -> Error {
            crate::status::refusal(e, Error::NotSupported, Error::Invalid)
        }
    }

    crate::errors! {
        /// Why netd refused a `socket` call: the status word in `mr[0]` of
        /// the reply ([`crate::status`]).
        pub enum Error (undefined = Invalid) {
            /// Not a handle of this client's, or one already closed.
            BadHandle = -9 => "no such socket",
            /// ACCEPT: no connection is waiting yet (the notification IRQ
            /// fires when one arrives).
            WouldBlock = -11 => "nothing to accept yet",
            /// netd's memory for sockets and streams is used up.
            NoMemory = -12 => "netd is out of memory for sockets",
            /// Too few words, an out-of-range port or address, an operation
            /// on the wrong kind of socket.
            Invalid = -22 => "invalid request",
            /// The client's share of sockets (or of ephemeral ports) is used up.
            TooMany = -24 => "too many sockets",
            /// An unknown call.
            NotSupported = -38 => "not supported",
            /// LISTEN on a port that is taken.
            InUse = -98 => "port in use",
            /// The client has no session: call [`HELLO`] first.
            NoSession = -107 => "no session (HELLO first)",
            /// No interface with an address yet.
            NetworkDown = -100 => "no interface with an address yet",
        }
    }

    /// Handles name a slot of netd's table and its generation, so that a handle
    /// whose slot was reused is refused rather than taken for the new socket.
    pub fn make_handle(slot: u32, generation: u32) -> u64 {
        (generation as u64) << 32 | slot as u64 | 1 << 31
    }

    /// `(slot, generation)` of a handle, or `None` when it cannot be one.
    pub fn split_handle(h: u64) -> Option<(u32, u32)> {
        if h >> 63 != 0 || h & (1 << 31) == 0 {
            return None;
        }
        Some(((h as u32) & !(1 << 31), (h >> 32) as u32))
    }

    /// The shared byte rings of one connection.
    ///
    /// One dataspace: a page of header, then the `rx` ring (netd → client),
    /// then the `tx` ring (client → netd). Each ring is single-producer,
    /// single-consumer with free-running `u32` byte counters; its size is a
    /// power of two. Neither side trusts the other's counter beyond the ring's
    /// size: a client that corrupts them garbles only its own stream.
    pub mod stream {
        use core::sync::atomic::{AtomicU32, Ordering, fence};

        pub const MAGIC: u32 = 0x5354_524d; // "STRM"
        pub const VERSION: u32 = 1;
        pub const HEADER_BYTES: usize = 4096;
        /// Largest ring this protocol allows (each direction).
        pub const MAX_RING: usize = 16 << 20;

        /// `Header::state` bits, written by netd.
        /// The peer sent FIN: after what is in `rx`, there is no more.
        pub const EOF: u32 = 1;
        /// The connection was reset or failed; nothing more goes either way.
        pub const RESET: u32 = 2;
        /// The connection is established (set at once for accepted ones).
        pub const CONNECTED: u32 = 4;

        /// `Header::app_state` bits, written by the client.
        /// The client will send no more: netd sends FIN once `tx` is drained.
        pub const SHUT_WR: u32 = 1;

        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Dir {
            /// netd → client.
            Rx,
            /// client → netd.
            Tx,
        }

        #[repr(C)]
        pub struct Indices {
            /// Bytes ever produced.
            pub head: AtomicU32,
            /// Bytes ever consumed.
            pub tail: AtomicU32,
            /// The consumer sleeps until bytes arrive (or the state changes).
            pub wake_consumer: AtomicU32,
            /// The producer sleeps until space comes free.
            pub wake_producer: AtomicU32,
            _pad: [u32; 12],
        }

        #[repr(C)]
        pub struct Header {
            pub magic: u32,
            pub version: u32,
            pub rx_size: u32,
            pub tx_size: u32,
            pub state: AtomicU32,
            pub app_state: AtomicU32,
            _pad: [u32; 10],
            pub rx: Indices,
            pub tx: Indices,
        }

        const _: () = assert!(core::mem::size_of::<Header>() <= HEADER_BYTES);

        /// Bytes of a stream dataspace with rings of these sizes.
        pub const fn region_size(rx: usize, tx: usize) -> usize {
            HEADER_BYTES + rx + tx
        }

        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum StreamError {
            TooSmall,
            BadMagic,
            BadGeometry,
        }

        /// A view of a mapped stream region.
        pub struct Stream {
            base: *mut u8,
            rx_size: u32,
            tx_size: u32,
        }

        // SAFETY: the region is shared memory by design: every word both sides
        // write is atomic, and ring bytes are read only after the producer's
        // release store of `head` was seen with acquire, and written only while
        // the consumer's `tail` says they are free.
        unsafe impl Send for Stream {}

        fn ok_size(n: u32) -> bool {
            n.is_power_of_two() && n >= 64 && n as usize <= MAX_RING
        }

        impl Stream {
            /// Formats a fresh region (netd).
            ///
            /// # Safety
            /// `base` must point to `len` writable bytes, page aligned, that stay
            /// mapped while the returned value lives.
            pub unsafe fn init(base: *mut u8, len: usize, rx: usize, tx: usize) -> Result<Stream, StreamError> {
                if !ok_size(rx as u32) || !ok_size(tx as u32) || rx > MAX_RING || tx > MAX_RING {
                    return Err(StreamError::BadGeometry);
                }
                if len < region_size(rx, tx) {
                    return Err(StreamError::TooSmall);
                }
                // SAFETY: the caller guarantees `len >= HEADER_BYTES` writable bytes.
                unsafe { core::ptr::write_bytes(base, 0, HEADER_BYTES) };
                // SAFETY: as above; nobody else sees the region yet.
                let h = unsafe { &mut *(base as *mut Header) };
                h.magic = MAGIC;
                h.version = VERSION;
                h.rx_size = rx as u32;
                h.tx_size = tx as u32;
                Ok(Stream { base, rx_size: rx as u32, tx_size: tx as u32 })
            }

            /// Checks and opens a region netd formatted (client). The geometry is
            /// read once here and never again.
            ///
            /// # Safety
            /// As [`Stream::init`].
            pub unsafe fn attach(base: *mut u8, len: usize) -> Result<Stream, StreamError> {
                if len < HEADER_BYTES {
                    return Err(StreamError::TooSmall);
                }
                // SAFETY: at least a header's worth of mapped bytes.
                let h = unsafe { &*(base as *const Header) };
                if h.magic != MAGIC || h.version != VERSION {
                    return Err(StreamError::BadMagic);
                }
                let (rx, tx) = (h.rx_size, h.tx_size);
                if !ok_size(rx) || !ok_size(tx) {
                    return Err(StreamError::BadGeometry);
                }
                if len < region_size(rx as usize, tx as usize) {
                    return Err(StreamError::TooSmall);
                }
                Ok(Stream { base, rx_size: rx, tx_size: tx })
            }

            pub fn header(&self) -> &Header {
                // SAFETY: `base` holds a checked header while `self` lives.
                unsafe { &*(self.base as *const Header) }
            }

            pub fn indices(&self, dir: Dir) -> &Indices {
                match dir {
                    Dir::Rx => &self.header().rx,
                    Dir::Tx => &self.header().tx,
                }
            }

            pub fn size(&self, dir: Dir) -> u32 {
                match dir {
                    Dir::Rx => self.rx_size,
                    Dir::Tx => self.tx_size,
                }
            }

            fn data(&self, dir: Dir) -> *mut u8 {
                let off = match dir {
                    Dir::Rx => HEADER_BYTES,
                    Dir::Tx => HEADER_BYTES + self.rx_size as usize,
                };
                // SAFETY: inside the region checked at init/attach.
                unsafe { self.base.add(off) }
            }

            /// Bytes the consumer may read (clamped to the ring's size).
            pub fn readable(&self, dir: Dir) -> usize {
                let i = self.indices(dir);
                let used = i.head.load(Ordering::Acquire).wrapping_sub(i.tail.load(Ordering::Acquire));
                used.min(self.size(dir)) as usize
            }

            /// Bytes the producer may write.
            pub fn writable(&self, dir: Dir) -> usize {
                let i = self.indices(dir);
                let used = i.head.load(Ordering::Acquire).wrapping_sub(i.tail.load(Ordering::Acquire));
                self.size(dir).saturating_sub(used) as usize
            }

            /// Producer: copies as much of `data` as fits; returns the bytes taken.
            pub fn write(&self, dir: Dir, data: &[u8]) -> usize {
                let n = data.len().min(self.writable(dir));
                if n == 0 {
                    return 0;
                }
                let i = self.indices(dir);
                let head = i.head.load(Ordering::Relaxed);
                let size = self.size(dir) as usize;
                let at = head as usize & (size - 1);
                let first = n.min(size - at);
                // SAFETY: `n` bytes from `at` (wrapping) are free (writable above)
                // and inside the ring; the consumer does not read them before the
                // release store of `head` below.
                unsafe {
                    core::ptr::copy_nonoverlapping(data.as_ptr(), self.data(dir).add(at), first);
                    core::ptr::copy_nonoverlapping(data.as_ptr().add(first), self.data(dir), n - first);
                }
                i.head.store(head.wrapping_add(n as u32), Ordering::Release);
                n
            }

            /// Consumer: the readable bytes as (up to) two slices, in order.
            pub fn peek(&self, dir: Dir) -> (&[u8], &[u8]) {
                let n = self.readable(dir);
                let tail = self.indices(dir).tail.load(Ordering::Relaxed);
                let size = self.size(dir) as usize;
                let at = tail as usize & (size - 1);
                let first = n.min(size - at);
                // SAFETY: the producer published these bytes (head, acquire in
                // `readable`) and does not touch them until `tail` passes them.
                unsafe {
                    (
                        core::slice::from_raw_parts(self.data(dir).add(at), first),
                        core::slice::from_raw_parts(self.data(dir), n - first),
                    )
                }
            }

            /// Consumer: the first `n` readable bytes are used up.
            pub fn consume(&self, dir: Dir, n: usize) {
                let n = n.min(self.readable(dir));
                let i = self.indices(dir);
                let tail = i.tail.load(Ordering::Relaxed);
                i.tail.store(tail.wrapping_add(n as u32), Ordering::Release);
            }

            /// Consumer: copies into `buf`; returns the bytes read.
            pub fn read(&self, dir: Dir, buf: &mut [u8]) -> usize {
                let (a, b) = self.peek(dir);
                let n1 = a.len().min(buf.len());
                buf[..n1].copy_from_slice(&a[..n1]);
                let n2 = b.len().min(buf.len() - n1);
                buf[n1..n1 + n2].copy_from_slice(&b[..n2]);
                self.consume(dir, n1 + n2);
                n1 + n2
            }

            /// Consumer about to sleep: asks for a wake-up, then says whether the
            /// ring is still empty (sleep only then).
            pub fn arm_consumer(&self, dir: Dir) -> bool {
                self.indices(dir).wake_consumer.store(1, Ordering::SeqCst);
                // The flag must be visible before the counters are read again
                // (the producer orders its counter before reading the flag).
                fence(Ordering::SeqCst);
                self.readable(dir) == 0
            }

            /// Producer about to sleep on a full ring: asks for a wake-up, then
            /// says whether the ring is still full.
            pub fn arm_producer(&self, dir: Dir) -> bool {
                self.indices(dir).wake_producer.store(1, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                self.writable(dir) == 0
            }

            /// Producer after writing (or a state change): whether the consumer
            /// asked to be woken; the request is used up.
            pub fn take_consumer_wake(&self, dir: Dir) -> bool {
                fence(Ordering::SeqCst);
                let w = &self.indices(dir).wake_consumer;
                w.load(Ordering::SeqCst) != 0 && w.swap(0, Ordering::SeqCst) != 0
            }

            /// Consumer after reading: whether the producer asked to be woken.
            pub fn take_producer_wake(&self, dir: Dir) -> bool {
                fence(Ordering::SeqCst);
                let w = &self.indices(dir).wake_producer;
                w.load(Ordering::SeqCst) != 0 && w.swap(0, Ordering::SeqCst) != 0
            }

            /// netd's state bits ([`EOF`], [`RESET`]).
            pub fn state(&self) -> u32 {
                self.header().state.load(Ordering::Acquire)
            }

            pub fn set_state(&self, bits: u32) {
                self.header().state.fetch_or(bits, Ordering::AcqRel);
            }

            /// The client's state bits ([`SHUT_WR`]).
            pub fn app_state(&self) -> u32 {
                self.header().app_state.load(Ordering::Acquire)
            }

            pub fn set_app_state(&self, bits: u32) {
                self.header().app_state.fetch_or(bits, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod socket_tests {
    extern crate std;
    use super::socket::stream::*;
    use super::socket::*;
    use std::vec;
    use std::vec::Vec;

    fn region(rx: usize, tx: usize) -> Vec<u64> {
        vec![0u64; region_size(rx, tx) / 8]
    }

    #[test]
    fn status_words_round_trip() {
        crate::status::check_round_trip::<Error>();
    }

    #[test]
    fn handles_carry_slot_and_generation_and_garbage_is_refused() {
        let h = make_handle(7, 3);
        assert_eq!(split_handle(h), Some((7, 3)));
        assert_eq!(split_handle(0), None);
        assert_eq!(split_handle(7), None, "a bare slot number is not a handle");
        assert_eq!(split_handle(u64::MAX), None);
    }

    #[test]
    fn bytes_cross_in_order_and_wrap() {
        let mut mem = region(64, 128);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: the vector outlives both views.
        let (netd, app) = unsafe { (Stream::init(base, len, 64, 128).unwrap(), Stream::attach(base, len).unwrap()) };
        let data: Vec<u8> = (0..200u32).map(|n| (n % 251) as u8).collect();
        let mut got = Vec::new();
        let mut sent = 0;
        while got.len() < data.len() {
            sent += netd.write(Dir::Rx, &data[sent..(sent + 40).min(data.len())]);
            let mut buf = [0u8; 25];
            let n = app.read(Dir::Rx, &mut buf);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, data);
        assert_eq!(netd.write(Dir::Rx, &[0; 100]), 64, "a full ring takes no more");
        assert_eq!(netd.write(Dir::Rx, &[0; 1]), 0);
        let (a, b) = app.peek(Dir::Rx);
        assert_eq!(a.len() + b.len(), 64);
        // The other direction is independent.
        assert_eq!(app.write(Dir::Tx, &[9; 200]), 128);
        assert_eq!(netd.readable(Dir::Tx), 128);
    }

    #[test]
    fn wake_flags_are_one_shot() {
        let mut mem = region(64, 64);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: as above.
        let (netd, app) = unsafe { (Stream::init(base, len, 64, 64).unwrap(), Stream::attach(base, len).unwrap()) };
        assert!(!netd.take_consumer_wake(Dir::Rx));
        assert!(app.arm_consumer(Dir::Rx), "empty: sleep");
        netd.write(Dir::Rx, b"x");
        assert!(netd.take_consumer_wake(Dir::Rx));
        assert!(!netd.take_consumer_wake(Dir::Rx));
        assert!(!app.arm_consumer(Dir::Rx), "data: do not sleep");
        netd.write(Dir::Rx, &[0; 63]);
        assert!(netd.arm_producer(Dir::Rx), "full: sleep");
        app.consume(Dir::Rx, 10);
        assert!(app.take_producer_wake(Dir::Rx));
        assert!(!netd.arm_producer(Dir::Rx));
    }

    #[test]
    fn corrupt_regions_and_counters_stay_inside() {
        let mut mem = region(64, 64);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: as above.
        unsafe {
            assert_eq!(Stream::attach(base, len).err(), Some(StreamError::BadMagic));
            assert_eq!(Stream::init(base, len, 65, 64).err(), Some(StreamError::BadGeometry));
            assert_eq!(Stream::init(base, 100, 64, 64).err(), Some(StreamError::TooSmall));
            let s = Stream::init(base, len, 64, 64).unwrap();
            // A client that moves the consumer counter past the producer's.
            s.header().rx.tail.store(1000, core::sync::atomic::Ordering::SeqCst);
            assert_eq!(s.writable(Dir::Rx), 0);
            assert!(s.readable(Dir::Rx) <= 64);
            let (a, b) = s.peek(Dir::Rx);
            assert!(a.len() + b.len() <= 64);
            (*(base as *mut Header)).tx_size = 1 << 30;
            assert_eq!(Stream::attach(base, len).err(), Some(StreamError::BadGeometry));
        }
    }
}

/// The data store's `store` endpoint: key/value entries in per-owner
/// namespaces, a name service for capabilities, publish/subscribe, and the
/// private state a driver gets back after a restart.
///
/// **Who calls.** The store knows its caller by the gate the call came through
/// (every client has its own, see `lib/boot`), so a request never names its
/// sender. A task's namespace is its own name: it writes `NAME/...` and nothing
/// else there. It reads its own namespace and those the manifest grants it
/// (`reads = ["eth0"]`, or `"*"`). Keys under `NAME/.private/` are read by
/// `NAME` alone, whatever the manifest says: that is where a driver keeps what
/// its next incarnation needs. Entries outlive their writer.
///
/// **Global names** (no `/`, e.g. `net.eth0`) are first come, first served: the
/// first task to write one owns it while it exists (a restarted task has the
/// same name and so still owns it); everyone may read them.
///
/// **Keys** are UTF-8, 1..=[`MAX_KEY`] bytes, no control characters or
/// whitespace. Namespaced: `OWNER/SEG[/SEG...]`, OWNER a task name, no empty,
/// `.` or `..` segments. Global: letters, digits, `.`, `-`, `_`, not starting
/// or ending with `.`, no `..`.
///
/// **Values** are an `i64`, a UTF-8 string or a byte blob of up to
/// [`MAX_VALUE`] bytes, or a capability (name service, [`PUBLISH`]). A string
/// or blob longer than one message goes in several [`PUT`] calls with rising
/// offsets (chunks), and comes back in several [`GET`] calls; the client checks
/// that the version did not change between chunks.
///
/// **Encoding.** Every request and reply is declared once, below: requests
/// with `l4_sys::calls!` (the label names the operation; keys and chunks are
/// byte strings, a length word then the bytes packed little-endian), replies
/// with `l4_sys::reply!` after the status word ([`crate::status::encode_reply`]).
/// A request's label, word count, field types and capability items are
/// checked by the generated decoder; [`Request::check`] then checks what the
/// layout alone implies (UTF-8 keys, the kind's rules). Every reply carries a
/// status in `mr[0]`: a value `>= 0` or a negative error ([`encode`],
/// [`decode`]). Versions come from one counter for the whole store: every
/// change gets a larger one than any before.
pub mod store {

    /// Write a value. in: `[kind, total, offset, key, chunk]`: the kind
    /// ([`KIND_INT`], [`KIND_STR`], [`KIND_BYTES`]); `total` is the value itself
    /// for an integer, else the whole length; `offset` where this chunk goes.
    /// A value is written when its last chunk arrives; chunks must come in
    /// order, one value at a time per client (offset 0 starts over). out:
    /// `[version]` once complete, `[0]` while chunks are missing.
    pub const PUT: i64 = 0x5401;
    /// Read a value (or part of it). in: `[offset, key]`. out: [`GetReply`]
    /// (at most [`GET_CHUNK`] bytes from `offset`). For a capability only its
    /// kind and version.
    pub const GET: i64 = 0x5402;
    /// Delete an entry (a capability is dropped). in: `[key]`. out: `[version
    /// of the deletion]`.
    pub const DELETE: i64 = 0x5403;
    /// Store a capability under a name (name service). in: `[delegate, key]`,
    /// item: the capability, with DELEGATE (the store passes it on). With
    /// `delegate` lookers may pass it on too; without it they get it without
    /// DELEGATE. out: `[version]`.
    pub const PUBLISH: i64 = 0x5404;
    /// Fetch a published capability. in: `[key]`. out: `[version]`, item: the
    /// capability, into the caller's receive slot (buffer register 0).
    /// [`Error::Dead`] when the object is gone (its owner died): the entry
    /// stays until its owner publishes again.
    pub const LOOKUP: i64 = 0x5405;
    /// Watch the keys that start with a prefix. in: `[prefix]` (empty for
    /// every key), item: a software IRQ object (right WRITE is enough). On
    /// every create, change or delete of a matching key the caller may read,
    /// the store queues an event and triggers the IRQ; the caller fetches with
    /// [`EVENTS`]. out: `[subscription id]`. A prefix inside a namespace the
    /// caller may not read is refused.
    pub const SUBSCRIBE: i64 = 0x5406;
    /// Stop watching. in: `[id]`, 0 for every subscription of the caller (a
    /// restarted task drops its predecessor's). out: `[subscriptions removed]`.
    pub const UNSUBSCRIBE: i64 = 0x5407;
    /// Take queued events. in: `[id]`. out: [`EventsHead`], then its `count`
    /// [`Event`]s one after the other ([`encode_events`], [`decode_events`]):
    /// `lost` events were dropped because the queue was full since the last
    /// call (re-read what you watch), `more` is set when events are left for
    /// the next call.
    pub const EVENTS: i64 = 0x5408;
    /// The first key after a given one that the caller may read, to list keys.
    /// in: `[after]` (empty starts at the beginning). out: [`NextReply`];
    /// [`Error::NotFound`] past the last.
    pub const NEXT: i64 = 0x5409;
    /// The caller's usage and limits. in: `[]`. out: [`InfoReply`].
    pub const INFO: i64 = 0x540a;

    /// Longest key (and subscription prefix), in bytes.
    pub const MAX_KEY: usize = 128;
    /// Longest string or blob value, in bytes.
    pub const MAX_VALUE: usize = 8192;
    /// Most words a message carries (the tag's word count has six bits).
    pub const MSG_WORDS: usize = 63;
    /// Words of a [`GET`] reply besides the chunk's bytes: status, version,
    /// kind, total, the chunk's length.
    const GET_FIXED: usize = 5;
    /// Most bytes one [`GET`] reply carries.
    pub const GET_CHUNK: usize = (MSG_WORDS - GET_FIXED) * 8;
    /// Words of an [`EVENTS`] reply before the first event: the status word
    /// and [`EventsHead`].
    pub const EVENTS_AT: usize = 4;
    /// Words of the [`INFO`] reply.
    pub const INFO_WORDS: usize = 9;

    /// Value kinds.
    pub const KIND_INT: u8 = 1;
    pub const KIND_STR: u8 = 2;
    pub const KIND_BYTES: u8 = 3;
    pub const KIND_CAP: u8 = 4;

    /// Event kinds.
    pub const EVENT_CREATED: u8 = 1;
    pub const EVENT_CHANGED: u8 = 2;
    pub const EVENT_DELETED: u8 = 3;

    crate::errors! {
        /// Why the store refused a call: the status word in `mr[0]` of the
        /// reply ([`crate::status`]).
        pub enum Error (undefined = Invalid) {
            /// Not allowed: another owner's key, a namespace not granted, a
            /// private key of another task, a global name someone else owns.
            Denied = -1 => "denied",
            /// No such key (or subscription).
            NotFound = -2 => "not found",
            /// A subscription id the caller does not hold.
            BadId = -9 => "no such subscription",
            /// The store itself is out of memory or capability slots.
            NoMemory = -12 => "the store is out of memory",
            /// Malformed request: bad label, lengths that do not match the
            /// message, invalid UTF-8 or key syntax, reserved bits set.
            Invalid = -22 => "malformed request",
            /// Too many subscriptions.
            TooMany = -24 => "too many subscriptions",
            /// A value longer than allowed, or a request too long for a
            /// message (a key past [`MAX_KEY`] is malformed: the decoder
            /// refuses it; the client library refuses it as too long).
            TooBig = -27 => "too long",
            /// A chunk out of order (or of another value than the one being
            /// written).
            Sequence = -71 => "chunk out of order",
            /// The capability sent is unusable: not delegable, dead, or (for
            /// [`SUBSCRIBE`]) not a software IRQ; or no capability came with
            /// the call.
            BadCap = -77 => "unusable capability",
            /// The calling gate belongs to no client the manifest declares.
            NoClient = -107 => "not a client",
            /// The owner's quota (entries, bytes, capabilities) is used up.
            Quota = -122 => "quota exceeded",
            /// The entry holds another kind of value than the call expects (a
            /// [`LOOKUP`] of a string, say).
            WrongKind = -124 => "another kind of value",
            /// The published object is gone.
            Dead = -130 => "the object is gone",
        }
    }

    /// A status word from a result: the value, or the (negative) error.
    pub fn encode(r: Result<u64, Error>) -> u64 {
        crate::status::encode(r)
    }

    /// The result a status word stands for.
    pub fn decode(w: u64) -> Result<u64, Error> {
        crate::status::decode(w)
    }

    pub use crate::words::words_for;

    /// A key (or a subscription prefix), as requests carry it.
    pub type Key = l4_sys::message::Bytes<MAX_KEY>;
    /// Words of a [`PUT`] besides the key's and the chunk's bytes: kind,
    /// total, offset and the two lengths.
    const PUT_FIXED: usize = 5;
    /// The most value bytes one [`PUT`] carries (with an empty key).
    pub const PUT_CHUNK_MAX: usize = put_capacity(0);
    /// A chunk of a value in a [`PUT`].
    pub type Chunk = l4_sys::message::Bytes<PUT_CHUNK_MAX>;
    /// A chunk of a value in a [`GET`] reply.
    pub type GetChunk = l4_sys::message::Bytes<GET_CHUNK>;

    l4_sys::calls! {
        /// A request on the `store` endpoint, as the client library sends it
        /// and the store decodes it (the layouts in the labels' documentation
        /// above). The generated decoder refuses a wrong label, word count,
        /// field or item count; [`Request::check`] what else the layout
        /// implies. What needs the store's state (who may write which key,
        /// quotas, whether a value is that long) is the store's to check.
        // A request lives on the stack for one call; PUT's chunk makes it
        // large, and boxing it would put an allocation in every call.
        #[allow(clippy::large_enum_variant)]
        pub enum Request {
            /// An integer (`kind` [`KIND_INT`], `total` the value, no chunk)
            /// or a chunk of a string or blob of `total` bytes at `offset`.
            Put (PUT) { kind: u8, total: u64, offset: u64, key: Key, chunk: Chunk },
            Get (GET) { offset: u64, key: Key },
            Delete (DELETE) { key: Key },
            Publish (PUBLISH) items 1 { delegate: bool, key: Key },
            Lookup (LOOKUP) { key: Key },
            Subscribe (SUBSCRIBE) items 1 { prefix: Key },
            Unsubscribe (UNSUBSCRIBE) { id: u64 },
            Events (EVENTS) { id: u64 },
            Next (NEXT) { after: Key },
            Info (INFO) {},
        }
    }

    impl From<l4_sys::Error> for Error {
        /// Whatever the generated decoder refused (a label the store does not
        /// have, the wrong words or items) is a malformed request.
        fn from(_: l4_sys::Error) -> Error {
            Error::Invalid
        }
    }

    impl Request {
        /// What the layout implies beyond the fields' types: keys are UTF-8;
        /// an integer has no chunk and offset 0; a string or blob is at most
        /// [`MAX_VALUE`] bytes ([`Error::TooBig`]); no other kind is written.
        pub fn check(&self) -> Result<(), Error> {
            let key = match self {
                Request::Put { key, .. }
                | Request::Get { key, .. }
                | Request::Delete { key }
                | Request::Publish { key, .. }
                | Request::Lookup { key }
                | Request::Subscribe { prefix: key }
                | Request::Next { after: key } => Some(key),
                Request::Unsubscribe { .. } | Request::Events { .. } | Request::Info {} => None,
            };
            if key.is_some_and(|k| k.as_str().is_none()) {
                return Err(Error::Invalid);
            }
            match *self {
                Request::Put { kind: KIND_INT, offset, chunk, .. } if offset != 0 || !chunk.is_empty() => {
                    Err(Error::Invalid)
                }
                Request::Put { kind: KIND_INT, .. } => Ok(()),
                Request::Put { kind: KIND_STR | KIND_BYTES, total, offset, .. } => {
                    if total > MAX_VALUE as u64 {
                        return Err(Error::TooBig);
                    }
                    usize::try_from(offset).map(|_| ()).map_err(|_| Error::Invalid)
                }
                Request::Put { .. } => Err(Error::Invalid),
                _ => Ok(()),
            }
        }

        /// The request a message with `label` and exactly `words` makes,
        /// decoded and checked (capability items are the caller's to count
        /// against [`Request::items`]).
        pub fn parse(label: i64, words: &[u64]) -> Result<Request, Error> {
            let r = Request::decode(label, words)?;
            r.check()?;
            Ok(r)
        }

        /// Capabilities the request carries: PUBLISH's and SUBSCRIBE's one.
        pub fn items(&self) -> usize {
            self.item_count()
        }
    }

    l4_sys::reply! {
        /// The answer to [`GET`] after the status word: `total` is the
        /// integer, or the whole value's length (0 for a capability).
        pub struct GetReply {
            version: u64,
            kind: u8,
            total: u64,
            chunk: GetChunk,
        }
    }

    l4_sys::reply! {
        /// The answer to [`NEXT`] after the status word.
        pub struct NextReply {
            version: u64,
            kind: u8,
            key: Key,
        }
    }

    l4_sys::reply! {
        /// The answer to [`INFO`] after the status word: the caller's usage,
        /// then its limits.
        pub struct InfoReply {
            entries: u64,
            bytes: u64,
            caps: u64,
            subscriptions: u64,
            max_entries: u64,
            max_bytes: u64,
            max_caps: u64,
            max_subscriptions: u64,
        }
    }

    l4_sys::reply! {
        /// The start of an [`EVENTS`] answer, after the status word.
        pub struct EventsHead {
            /// Events dropped since the last call (the queue was full).
            lost: u64,
            /// Events are left for the next call.
            more: bool,
            /// Events that follow.
            count: u64,
        }
    }

    l4_sys::reply! {
        /// One event of an [`EVENTS`] answer.
        pub struct Event {
            /// [`EVENT_CREATED`], [`EVENT_CHANGED`] or [`EVENT_DELETED`].
            kind: u8,
            version: u64,
            key: Key,
        }
    }

    /// Bytes of value one [`PUT`] with a key of `key_len` bytes carries.
    pub const fn put_capacity(key_len: usize) -> usize {
        (MSG_WORDS - PUT_FIXED - words_for(key_len)) * 8
    }

    /// Words one event takes in an [`EVENTS`] reply.
    pub const fn event_words(key_len: usize) -> usize {
        3 + words_for(key_len)
    }

    /// Writes an [`EVENTS`] answer into `mr`: the status word, the head, the
    /// events. Returns the words written; `InvalidArgument` when they do not
    /// fit (the store takes events by [`event_words`] so that they do).
    pub fn encode_events(mr: &mut [u64], lost: u64, more: bool, events: &[Event]) -> Result<usize, l4_sys::Error> {
        let mut w = l4_sys::message::Writer::new(mr.get_mut(..MSG_WORDS.min(mr.len())).unwrap_or_default());
        w.word(0);
        w.field(EventsHead { lost, more, count: events.len() as u64 });
        for &e in events {
            w.field(e);
        }
        w.finish()
    }

    /// An [`EVENTS`] answer: its head, and each event handed to `each` in
    /// order. Malformed (or a refusal) before any event is handed on when
    /// the words are not exactly the head's `count` events.
    pub fn decode_events(
        words: &[u64],
        mut each: impl FnMut(Event),
    ) -> Result<EventsHead, crate::status::ReplyError<Error>> {
        use crate::status::ReplyError;
        let (&status, rest) = words.split_first().ok_or(ReplyError::Malformed)?;
        if decode(status).map_err(ReplyError::Refused)? != 0 {
            return Err(ReplyError::Malformed);
        }
        // Checked whole first, so that a malformed answer hands on nothing.
        let walk = |f: &mut dyn FnMut(Event)| -> Result<EventsHead, l4_sys::Error> {
            let mut r = l4_sys::message::Reader::new(rest);
            let head: EventsHead = r.field()?;
            for _ in 0..head.count {
                let e: Event = r.field()?;
                if !(EVENT_CREATED..=EVENT_DELETED).contains(&e.kind) || e.key.as_str().is_none() {
                    return Err(l4_sys::Error::InvalidArgument);
                }
                f(e);
            }
            r.finish()?;
            Ok(head)
        };
        walk(&mut |_| {}).map_err(|_| ReplyError::Malformed)?;
        walk(&mut each).map_err(|_| ReplyError::Malformed)
    }
}

#[cfg(test)]
mod store_tests {
    extern crate std;
    use super::status::{ReplyError, decode_reply, encode_reply};
    use super::store::*;
    use l4_sys::MsgTag;
    use l4_sys::message::Call;
    use std::vec::Vec;

    fn key(s: &str) -> Key {
        Key::new(s.as_bytes()).unwrap()
    }

    #[test]
    fn requests_round_trip() {
        let long = "k".repeat(MAX_KEY);
        let room = put_capacity(long.len());
        let fill = [0xa5u8; PUT_CHUNK_MAX];
        let all = [
            Request::Put {
                key: key("netd/mtu"),
                kind: KIND_INT,
                total: -3i64 as u64,
                offset: 0,
                chunk: Chunk::new(&[]).unwrap(),
            },
            Request::Put {
                key: key(&long),
                kind: KIND_BYTES,
                total: 8000,
                offset: 480,
                chunk: Chunk::new(&fill[..room]).unwrap(),
            },
            Request::Put { key: key(""), kind: KIND_STR, total: 480, offset: 0, chunk: Chunk::new(&fill).unwrap() },
            Request::Get { key: key("a/b"), offset: 17 },
            Request::Delete { key: key("a/b") },
            Request::Publish { key: key("a/gate"), delegate: true },
            Request::Publish { key: key("a/gate"), delegate: false },
            Request::Lookup { key: key("a/gate") },
            Request::Subscribe { prefix: key("") },
            Request::Unsubscribe { id: 0 },
            Request::Events { id: 7 },
            Request::Next { after: key("a/") },
            Request::Info {},
        ];
        for r in all {
            let mut mr = [0u64; 64];
            let n = r.encode(&mut mr).unwrap();
            assert!(n <= MSG_WORDS, "{r:?}");
            assert_eq!(Request::parse(r.label(), &mr[..n]), Ok(r));
            assert_eq!(Request::parse(r.label(), &mr[..n + 1]), Err(Error::Invalid), "{r:?} + 1 word");
            // The items the declaration gives, and no other number.
            let tag = MsgTag::new(r.label(), n, r.items());
            assert_eq!(Request::decode_message(tag, &mr[..n]), Ok(r));
            let tag = MsgTag::new(r.label(), n, r.items() + 1);
            assert_eq!(Request::decode_message(tag, &mr[..n]), Err(l4_sys::Error::InvalidArgument), "{r:?}");
        }
        // A chunk too long for its key does not fit a message.
        let r = Request::Put {
            key: key(&long),
            kind: KIND_BYTES,
            total: 8000,
            offset: 0,
            chunk: Chunk::new(&fill).unwrap(),
        };
        let mut mr = [0u64; 64];
        assert!(r.encode(&mut mr[..MSG_WORDS]).is_err());
    }

    #[test]
    fn replies_round_trip() {
        let fill = [7u8; GET_CHUNK];
        for r in [
            GetReply { version: 3, kind: KIND_INT, total: 42, chunk: GetChunk::new(&[]).unwrap() },
            GetReply { version: 9, kind: KIND_BYTES, total: 8192, chunk: GetChunk::new(&fill).unwrap() },
        ] {
            let mut mr = [0u64; 64];
            let n = encode_reply(&r, &mut mr).unwrap();
            assert!(n <= MSG_WORDS);
            assert_eq!(decode_reply::<GetReply, Error>(&mr[..n]), Ok(r));
            assert_eq!(decode_reply::<GetReply, Error>(&mr[..n + 1]), Err(ReplyError::Malformed));
        }
        let r = NextReply { version: 5, kind: KIND_STR, key: key("netd/mtu") };
        let mut mr = [0u64; 64];
        let n = encode_reply(&r, &mut mr).unwrap();
        assert_eq!(decode_reply::<NextReply, Error>(&mr[..n]), Ok(r));
        // An error status is the store's error, not a reply.
        let refused = [encode(Err(Error::NotFound))];
        assert_eq!(decode_reply::<NextReply, Error>(&refused), Err(ReplyError::Refused(Error::NotFound)));
        let i = InfoReply {
            entries: 1,
            bytes: 2,
            caps: 3,
            subscriptions: 4,
            max_entries: 5,
            max_bytes: 6,
            max_caps: 7,
            max_subscriptions: 8,
        };
        let n = encode_reply(&i, &mut mr).unwrap();
        assert_eq!((n, decode_reply::<InfoReply, Error>(&mr[..n])), (INFO_WORDS, Ok(i)));
    }

    #[test]
    fn malformed_requests_are_refused_with_the_stores_errors() {
        // Unknown label, INFO with words, EVENTS without an id.
        assert_eq!(Request::parse(0x54ff, &[]), Err(Error::Invalid));
        assert_eq!(Request::parse(INFO, &[1]), Err(Error::Invalid));
        assert_eq!(Request::parse(EVENTS, &[]), Err(Error::Invalid));
        // A key longer than MAX_KEY, one that is not UTF-8.
        let mut w = [0u64; 1 + 17];
        w[0] = 136;
        assert_eq!(Request::parse(DELETE, &w), Err(Error::Invalid));
        assert_eq!(Request::parse(DELETE, &[2, 0xffff]), Err(Error::Invalid));
        // Padding past a key's bytes, a flag other than 0 or 1.
        assert_eq!(Request::parse(LOOKUP, &[1, 0x161]), Err(Error::Invalid));
        assert_eq!(Request::parse(PUBLISH, &[2, 0]), Err(Error::Invalid));
        // PUT: an integer with a chunk or an offset, an unknown kind, a value
        // past MAX_VALUE, a kind past eight bits.
        assert_eq!(Request::parse(PUT, &[KIND_INT as u64, 5, 0, 0, 1, 0x41]), Err(Error::Invalid));
        assert_eq!(Request::parse(PUT, &[KIND_INT as u64, 5, 8, 0, 0]), Err(Error::Invalid));
        assert_eq!(Request::parse(PUT, &[9, 5, 0, 0, 0]), Err(Error::Invalid));
        assert_eq!(Request::parse(PUT, &[KIND_STR as u64, MAX_VALUE as u64 + 1, 0, 0, 0]), Err(Error::TooBig));
        assert_eq!(Request::parse(PUT, &[0x102, 5, 0, 0, 0]), Err(Error::Invalid));
        // A chunk length the words do not hold.
        assert_eq!(Request::parse(PUT, &[KIND_STR as u64, 16, 0, 0, 16, 0]), Err(Error::Invalid));
    }

    #[test]
    fn statuses_keep_values_and_errors_apart() {
        assert_eq!(decode(encode(Ok(7))), Ok(7));
        assert_eq!(decode(encode(Err(Error::Quota))), Err(Error::Quota));
        assert_eq!(decode(3u64.wrapping_neg()), Err(Error::Invalid), "an undefined code");
        assert_eq!(decode(encode(Ok(u64::MAX))), Ok(i64::MAX as u64));
        crate::status::check_round_trip::<Error>();
    }

    #[test]
    fn events_go_back_to_back_and_are_checked_whole() {
        let events = [
            Event { kind: EVENT_CREATED, version: 5, key: key("netd/link") },
            Event { kind: EVENT_DELETED, version: 9, key: key("net.eth0") },
        ];
        let mut w = [0u64; MSG_WORDS];
        let n = encode_events(&mut w, 3, true, &events).unwrap();
        assert_eq!(n, EVENTS_AT + event_words(9) + event_words(8));
        let mut got = Vec::new();
        let head = decode_events(&w[..n], |e| got.push(e)).unwrap();
        assert_eq!((head.lost, head.more, head.count), (3, true, 2));
        assert_eq!(got, events);
        // A count the words do not hold, an unknown event kind, a word too
        // many: malformed, and no event is handed on.
        for bad in [
            {
                let mut b = w;
                b[3] = 3;
                b
            },
            {
                let mut b = w;
                b[4] = 7;
                b
            },
        ] {
            let mut seen = Vec::new();
            assert_eq!(decode_events(&bad[..n], |e| seen.push(e)), Err(ReplyError::Malformed));
            assert!(seen.is_empty());
        }
        assert_eq!(decode_events(&w[..n + 1], |_| {}), Err(ReplyError::Malformed));
        let refused = [encode(Err(Error::BadId))];
        assert_eq!(decode_events(&refused, |_| {}), Err(ReplyError::Refused(Error::BadId)));
        // Events that do not fit a message are refused by the encoder.
        let many = [events[0]; 20];
        assert!(encode_events(&mut w, 0, false, &many).is_err());
    }

    #[test]
    fn a_put_with_the_longest_key_still_carries_data() {
        assert_eq!(put_capacity(MAX_KEY), (MSG_WORDS - 5 - 16) * 8);
        assert!(put_capacity(MAX_KEY) >= 256);
        assert_eq!(GET_CHUNK, 464);
    }
}

/// netd's `config` endpoint: an operator reads and changes the configuration
/// of the NIC under netd's interface (the shell's `net` commands).
///
/// netd validates every change and answers at once (no call blocks netd, see
/// [`socket`]): a refused change gets an error and changes nothing. An
/// accepted one gets a new **generation**; netd applies what it must itself
/// (smoltcp's MTU, and its hardware address once the driver has it) and hands
/// the change to the driver through the ring header. The driver applies it
/// through its own `netdev_ops`, records it in the data store (so that its next
/// incarnation replays it), reports what its device has, and echoes the
/// generation as **applied**. A client that wants to know the outcome calls
/// [`SHOW`] until `applied` reaches its generation.
///
/// The endpoint is separate from `sockets` so that the manifest can give the
/// right to reconfigure a NIC to the operator's shell and to no application.
pub mod nicconfig {
    /// What netd wants and what the driver reports. in: `[]`. out: [`Show`]
    /// after the status word, at most [`SHOW_MAX_WORDS`] words in all.
    pub const SHOW: i64 = 0x4301;
    /// Change one thing. in: `[what, value]`. out: `[generation]`, the one the
    /// change (or, when nothing changed, the current configuration) has.
    pub const SET: i64 = 0x4302;

    /// `what` of [`SET`]; the value is the MTU, or a MAC address as a word
    /// (`l4_sys::message::Word` of `[u8; 6]`), or 0/1 for a flag.
    pub const MTU: u64 = 1;
    pub const MAC: u64 = 2;
    pub const PROMISC: u64 = 3;
    pub const ALLMULTI: u64 = 4;
    pub const MC_ADD: u64 = 5;
    pub const MC_DEL: u64 = 6;

    /// Words of the longest [`SHOW`] reply: the status word, a 16-byte name
    /// (length and two words), eleven words and a full multicast list.
    pub const SHOW_MAX_WORDS: usize = 1 + 3 + 11 + 1 + MAX_MC;
    /// Most multicast addresses (as `netring::config::MAX_MC`).
    pub const MAX_MC: usize = 16;

    l4_sys::calls! {
        /// An operator's call on netd's `config` gate.
        pub enum Request {
            Show (SHOW) {},
            Set (SET) { what: u64, value: u64 },
        }
    }

    impl From<l4_sys::Error> for Error {
        fn from(e: l4_sys::Error) -> Error {
            crate::status::refusal(e, Error::NotSupported, Error::Invalid)
        }
    }

    crate::errors! {
        /// Why netd refused a `config` call: the status word in `mr[0]` of
        /// the reply ([`crate::status`]).
        pub enum Error (undefined = Invalid) {
            /// A malformed request: an unknown `what`, a flag value other
            /// than 0 or 1, a MAC word with bits past six bytes.
            Invalid = -22 => "invalid request",
            /// No NIC has attached to netd yet.
            NoDevice = -19 => "no NIC attached to netd yet",
            /// The MTU is outside 68..=1500 (a ring slot carries frames of
            /// up to 1518 bytes).
            MtuRange = -34 => "MTU out of range 68..=1500",
            /// Not an address an interface can have (multicast or all zero).
            NotUnicast = -99 => "not a unicast MAC address",
            /// Not a multicast group address (or the broadcast address).
            NotMulticast = -89 => "not a multicast MAC address",
            /// The multicast address is listed already.
            Exists = -17 => "already in the multicast list",
            /// The multicast address is not listed.
            NotListed = -2 => "not in the multicast list",
            /// The multicast list is full ([`MAX_MC`]).
            Full = -28 => "the multicast list is full (16 addresses)",
            /// An unknown call.
            NotSupported = -38 => "not supported",
        }
    }

    /// Flags in [`Show`], Linux's values.
    pub const IFF_PROMISC: u64 = 0x100;
    pub const IFF_ALLMULTI: u64 = 0x200;

    use l4_sys::message::{Bytes, List};

    l4_sys::reply! {
        /// The [`SHOW`] reply: the configuration netd wants, and what the
        /// driver reported for the generation it applied last.
        pub struct Show {
            /// The driver task's name (cut at 16 bytes).
            name: Bytes<16>,
            generation: u64,
            applied: u64,
            mtu: u64,
            /// [`IFF_PROMISC`] | [`IFF_ALLMULTI`].
            flags: u64,
            mac: [u8; 6],
            /// The multicast addresses netd wants.
            multicast: List<[u8; 6], MAX_MC>,
            driver_mtu: u64,
            driver_flags: u64,
            driver_mac: [u8; 6],
            driver_mc_count: u64,
            /// 0, or the first negative errno of the driver's last change.
            driver_error: i64,
            /// Driver instances that attached to these rings.
            incarnation: u64,
        }
    }

    impl Show {
        /// The driver task's name.
        pub fn name(&self) -> &str {
            self.name.as_str().unwrap_or("?")
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn errors_round_trip() {
            crate::status::check_round_trip::<Error>();
        }

        #[test]
        fn show_round_trips() {
            use crate::status::{ReplyError, decode_reply, encode_reply};
            let s = Show {
                name: Bytes::truncated("eth-8139cp"),
                generation: 8,
                applied: 6,
                mtu: 1400,
                flags: 0x100,
                mac: [0x52, 0x54, 0, 0xaa, 0xbb, 0xcc],
                multicast: List::new(&[[1, 0, 0x5e, 0, 0, 1]; MAX_MC]).unwrap(),
                driver_mtu: 1500,
                driver_flags: 0,
                driver_mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
                driver_mc_count: 1,
                driver_error: -16,
                incarnation: 3,
            };
            let mut mr = [0u64; 64];
            let n = encode_reply(&s, &mut mr).unwrap();
            assert_eq!(n, SHOW_MAX_WORDS, "a full SHOW is the longest");
            assert_eq!(decode_reply::<Show, Error>(&mr[..n]), Ok(s));
            assert_eq!(s.name(), "eth-8139cp");
            assert_eq!(Show { name: Bytes::truncated("a-name-longer-than-16"), ..s }.name(), "a-name-longer-th");
            // The list's length must match the words that follow it.
            mr[9] = MAX_MC as u64 + 1;
            assert_eq!(decode_reply::<Show, Error>(&mr[..n]), Err(ReplyError::Malformed));
        }

        #[test]
        fn errors_have_distinct_texts() {
            use crate::status::ProtocolError;
            for (i, a) in Error::ALL.iter().enumerate() {
                assert!(Error::ALL[i + 1..].iter().all(|b| b.as_str() != a.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod call_tests {
    //! Every protocol declared with `l4_sys::calls!`: each request encodes
    //! and decodes back to itself, and the decoder refuses with a typed
    //! error what a client could send wrong.
    use super::{nic, nicconfig, socket};
    use l4_sys::Error;
    use l4_sys::message::Call;

    fn round_trip<C: Call + PartialEq + core::fmt::Debug + Copy>(requests: &[C]) {
        for r in requests {
            let mut mr = [0u64; 64];
            let n = r.encode(&mut mr).unwrap();
            assert_eq!(C::decode(r.label(), &mr[..n]), Ok(*r));
            // One word more or one fewer is refused.
            assert_eq!(C::decode(r.label(), &mr[..n + 1]), Err(Error::InvalidArgument), "{r:?} + 1 word");
            if n > 0 {
                assert_eq!(C::decode(r.label(), &mr[..n - 1]), Err(Error::InvalidArgument), "{r:?} - 1 word");
            }
        }
    }

    #[test]
    fn nic_requests() {
        round_trip(&[
            nic::Request::Attach { mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56], mtu: 1500, link: true },
            nic::Request::Link { up: false },
        ]);
        assert_eq!(nic::Request::decode(nic::ATTACH, &[1, 1500, 2]), Err(Error::InvalidArgument));
        // A MAC word with bits past its six bytes.
        assert_eq!(nic::Request::decode(nic::ATTACH, &[1 << 48, 1500, 1]), Err(Error::InvalidArgument));
        assert_eq!(nic::Request::decode(0x4e7f, &[]), Err(Error::BadOpcode));
        assert_eq!(nic::Error::from(Error::BadOpcode), nic::Error::Malformed);
    }

    #[test]
    fn socket_requests() {
        round_trip(&[
            socket::Request::Hello {},
            socket::Request::Listen { port: 7, backlog: 1 },
            socket::Request::Accept { listener: 0x1_0000_0003 },
            socket::Request::Close { handle: 5 },
            socket::Request::Abort { handle: 5 },
            socket::Request::Info {},
            socket::Request::Connect { ip: 0x0a00_0202, port: 5555 },
        ]);
        // A port past 16 bits, an address past 32.
        assert_eq!(socket::Request::decode(socket::LISTEN, &[70000, 1]), Err(Error::InvalidArgument));
        assert_eq!(socket::Request::decode(socket::CONNECT, &[1 << 32, 80]), Err(Error::InvalidArgument));
        assert_eq!(socket::Error::from(Error::BadOpcode), socket::Error::NotSupported);
        assert_eq!(socket::Error::from(Error::InvalidArgument), socket::Error::Invalid);
        let mut labels = socket::Request::LABELS.to_vec();
        labels.dedup();
        assert_eq!(labels.len(), socket::Request::LABELS.len());
    }

    #[test]
    fn a_request_with_a_capability_is_refused() {
        // No request declared with `calls!` carries one.
        let tag = l4_sys::MsgTag::new(socket::INFO, 0, 1);
        assert_eq!(socket::Request::decode_message(tag, &[]), Err(Error::InvalidArgument));
        let tag = l4_sys::MsgTag::new(socket::INFO, 0, 0);
        assert_eq!(socket::Request::decode_message(tag, &[]), Ok(socket::Request::Info {}));
        let tag = l4_sys::MsgTag::new(nic::LINK, 1, 2);
        assert_eq!(nic::Request::decode_message(tag, &[1]), Err(Error::InvalidArgument));
        // The store's PUBLISH and SUBSCRIBE carry one; the store refuses more.
        let key = super::store::Key::truncated("a/b");
        assert_eq!(super::store::Request::Publish { key, delegate: false }.items(), 1);
        assert_eq!(super::store::Request::Lookup { key }.items(), 0);
    }

    #[test]
    fn nicconfig_requests() {
        round_trip(&[nicconfig::Request::Show {}, nicconfig::Request::Set { what: nicconfig::MTU, value: 1400 }]);
        assert_eq!(nicconfig::Request::decode(nicconfig::SET, &[1]), Err(Error::InvalidArgument));
        assert_eq!(nicconfig::Error::from(Error::BadOpcode), nicconfig::Error::NotSupported);
    }
}

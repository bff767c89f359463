//! smoltcp's `Device` over a NIC driver's `netring` rings.
//!
//! Received frames are copied out of the shared slot before smoltcp parses them:
//! the driver can write its memory at any time, and a parser that reads a
//! length twice must not see two different values. Frames to send are built in
//! a buffer on the stack and pushed into the tx ring; the driver is woken after
//! the whole batch, and only when it asked for it (the ring's wake flag), so a
//! burst costs one trigger.

use netring::{Dir, MAX_FRAME, Rings};
use rt::obj::Irq;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Counters for the statistics line.
#[derive(Default, Clone, Copy, Debug)]
pub struct Counters {
    pub rx_frames: u64,
    pub tx_frames: u64,
    /// Frames smoltcp built while the tx ring was full (TCP sends them again).
    pub tx_dropped: u64,
    pub driver_kicks: u64,
    /// The tx ring was found full since the main loop last cleared this.
    pub tx_full: bool,
    /// Turns of the main loop, and TSC ticks spent in them.
    pub turns: u64,
    pub busy_tsc: u64,
}

pub struct RingDevice<'r> {
    pub rings: &'r Rings,
    bufs: &'r mut FrameBufs,
    counters: &'r mut Counters,
    /// The interface's MTU (IP packet bytes).
    pub mtu: usize,
    /// Frames it still hands smoltcp in this poll: smoltcp polls until the
    /// device has nothing, and a driver can always have something.
    rx_budget: u32,
}

/// netd's two frame buffers, kept for its life.
pub struct FrameBufs {
    /// A received frame, copied out of the ring before smoltcp reads it (the
    /// driver could change it in the ring meanwhile).
    rx: [u8; MAX_FRAME],
    /// Where smoltcp builds each outgoing frame before it is copied into the
    /// tx ring. Only the `len` bytes a frame needs are cleared (smoltcp may
    /// leave padding unwritten, which must not carry an earlier frame's
    /// bytes onto the wire), not all of it for every ACK.
    tx: [u8; MAX_FRAME],
}

impl FrameBufs {
    pub const fn new() -> FrameBufs {
        FrameBufs { rx: [0; MAX_FRAME], tx: [0; MAX_FRAME] }
    }
}

impl<'r> RingDevice<'r> {
    /// The device for one poll of the interface on `rings`: it hands smoltcp
    /// at most one ring's worth of received frames.
    pub fn new(rings: &'r Rings, bufs: &'r mut FrameBufs, counters: &'r mut Counters, mtu: usize) -> Self {
        RingDevice { rings, bufs, counters, mtu, rx_budget: rings.slots() }
    }
}

pub struct RxToken<'a> {
    frame: &'a [u8],
}

pub struct TxToken<'a> {
    rings: &'a Rings,
    buf: &'a mut [u8; MAX_FRAME],
    counters: &'a mut Counters,
}

impl phy::Device for RingDevice<'_> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        if self.rx_budget == 0 {
            return None;
        }
        let (_, frame) = self.rings.peek(Dir::Rx)?;
        self.rx_budget -= 1;
        let n = frame.len().min(MAX_FRAME);
        self.bufs.rx[..n].copy_from_slice(&frame[..n]);
        self.rings.take(Dir::Rx);
        self.counters.rx_frames += 1;
        let tx = TxToken { rings: self.rings, buf: &mut self.bufs.tx, counters: self.counters };
        Some((RxToken { frame: &self.bufs.rx[..n] }, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if self.rings.space(Dir::Tx) == 0 {
            // Ask the driver to say when slots come free; netd also looks again
            // soon, for a driver that does not.
            self.rings.indices(Dir::Tx).wake_producer.store(1, core::sync::atomic::Ordering::SeqCst);
            self.counters.tx_full = true;
            return None;
        }
        Some(TxToken { rings: self.rings, buf: &mut self.bufs.tx, counters: self.counters })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // Ethernet header included, FCS and VLAN tag not.
        caps.max_transmission_unit = self.mtu + 14;
        caps.max_burst_size = None;
        caps
    }
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        if len > MAX_FRAME {
            // smoltcp never builds more than the MTU; should it, the frame is
            // built and dropped rather than truncated.
            let mut big = alloc::vec![0u8; len];
            self.counters.tx_dropped += 1;
            return f(&mut big);
        }
        let frame = &mut self.buf[..len];
        frame.fill(0);
        let r = f(frame);
        if self.rings.push(Dir::Tx, &self.buf[..len]) {
            self.counters.tx_frames += 1;
        } else {
            self.counters.tx_dropped += 1;
        }
        // The driver is woken once per batch, after smoltcp's poll (`kick`):
        // a trigger per frame would switch to a waiting driver for every frame.
        r
    }
}

/// Wakes the driver if it sleeps waiting for tx frames.
pub fn kick(rings: &Rings, to_driver: Irq, counters: &mut Counters) {
    if rings.should_wake(Dir::Tx) {
        counters.driver_kicks += 1;
        let _ = to_driver.trigger();
    }
}

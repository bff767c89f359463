//! Frame rings between netd and a NIC driver task, in one shared dataspace.
//!
//! netd allocates the dataspace and keeps it; a driver maps it. Because the
//! rings and all their indices live there, a driver that dies loses nothing:
//! its successor maps the same memory and carries on from the indices.
//!
//! Two rings of fixed-size slots, each single-producer, single-consumer:
//!
//! * **rx**, driver → netd: the driver copies a received frame into the slot at
//!   `head` and advances `head`; netd consumes at `tail`.
//! * **tx**, netd → driver: netd writes a frame at `head`. The driver hands the
//!   frame at `taken` to the device and advances `taken`; when the device is done
//!   with it (the skb is freed) the driver advances `done`. netd reuses slots
//!   only up to `done`. A restarted driver resets `taken` to `done` and sends
//!   again what its predecessor had taken but not finished, so a frame queued
//!   for transmit when a driver died is still sent.
//!
//! Notifications are suppressed unless needed: a consumer about to sleep sets
//! its ring's `wake` flag and checks the ring once more; a producer that finds
//! the flag set clears it and triggers the consumer's IRQ object.
//!
//! The layout is `repr(C)` with a magic number and version; both sides check
//! the header before use and never trust an index from the other side beyond
//! its ring's bounds.
//!
//! The header also carries the interface configuration (see [`config`]): netd
//! publishes what the operator asked for in [`Config`], the driver applies it
//! and reports what its device then has in the header's `driver_*` fields.
#![cfg_attr(not(test), no_std)]

pub mod config;
pub mod watch;

pub use config::{ConfigError, DriverReport, Mac, NicConfig, Record};

use core::sync::atomic::{AtomicU32, Ordering};

pub const MAGIC: u32 = 0x5247_4e52; // "RNGR"
pub const VERSION: u32 = 1;
/// Bytes of one slot: a frame of up to [`MAX_FRAME`] bytes and its header.
pub const SLOT_SIZE: usize = 2048;
/// Longest frame a slot holds (Ethernet without FCS, with a VLAN tag).
pub const MAX_FRAME: usize = 1518;

/// Indices of one ring.
#[repr(C)]
pub struct Indices {
    /// Next slot the producer fills.
    pub head: AtomicU32,
    /// Next slot the consumer takes (rx), or hands to the device (tx).
    pub taken: AtomicU32,
    /// Slots below this are free again (tx); equals `taken` for rx.
    pub done: AtomicU32,
    /// The consumer sleeps and wants an IRQ when the producer adds a slot.
    pub wake: AtomicU32,
    /// The producer sleeps and wants an IRQ when slots come free.
    pub wake_producer: AtomicU32,
    _pad: [u32; 11],
}

/// Configuration netd asks the driver to apply (and that survives restarts).
/// netd writes it with [`Config::publish`], the driver reads it with
/// [`Config::snapshot`].
#[repr(C)]
pub struct Config {
    /// Bumped by netd for every change; the driver applies and echoes it. It is
    /// a sequence lock: odd while netd writes the fields below, even when they
    /// are consistent (the first change is generation 2).
    pub generation: AtomicU32,
    pub applied: AtomicU32,
    pub mtu: AtomicU32,
    /// IFF_PROMISC (0x100) | IFF_ALLMULTI (0x200).
    pub flags: AtomicU32,
    pub mac: [AtomicU32; 2],
    pub mc_count: AtomicU32,
    _pad: u32,
    /// Up to 16 multicast addresses, 6 bytes each in 8-byte cells.
    pub mc: [[AtomicU32; 2]; 16],
}

#[repr(C)]
pub struct Header {
    /// The geometry: netd writes it when it formats the region and again
    /// before each driver instance attaches ([`Rings::restamp`]), since a
    /// driver can write the whole header.
    pub magic: AtomicU32,
    pub version: AtomicU32,
    pub slot_size: AtomicU32,
    /// Slots per ring (a power of two).
    pub slots: AtomicU32,
    /// Driver-to-netd state: link, the hardware address the driver reports.
    pub link_up: AtomicU32,
    pub driver_mac: [AtomicU32; 2],
    /// Incremented by each driver instance that attaches.
    pub incarnation: AtomicU32,
    /// What the driver's device has after its last configuration change
    /// (with `driver_mac`): dev->mtu, the IFF_PROMISC/IFF_ALLMULTI bits of
    /// dev->flags, the length of its multicast list. Written before `applied`.
    pub driver_mtu: AtomicU32,
    pub driver_flags: AtomicU32,
    pub driver_mc_count: AtomicU32,
    /// The result of the last configuration change: 0, or the first negative
    /// errno (as `i32` bits) a driver call returned.
    pub config_error: AtomicU32,
    /// netd asks the driver to end itself so that its successor initialises
    /// the device afresh (see [`watch`]) by bumping `reset_request`; each
    /// instance sets `reset_done` to it when it attaches, and ends when they
    /// differ.
    pub reset_request: AtomicU32,
    pub reset_done: AtomicU32,
    _pad: [u32; 2],
    pub rx: Indices,
    pub tx: Indices,
    pub config: Config,
}

/// Bytes the header takes (slots start at the next page).
pub const HEADER_BYTES: usize = 4096;
const _: () = assert!(core::mem::size_of::<Header>() <= HEADER_BYTES);

/// Dataspace size for rings of `slots` slots each.
pub const fn region_size(slots: u32) -> usize {
    HEADER_BYTES + 2 * slots as usize * SLOT_SIZE
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    TooSmall,
    BadMagic,
    BadVersion,
    BadGeometry,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Rx,
    Tx,
}

/// Access to the rings in a mapped region.
pub struct Rings {
    base: *mut u8,
    slots: u32,
}

// SAFETY: the rings are shared memory by design; every field both sides touch
// is atomic, slot contents are only read after the producer's release store of
// `head` has been observed with acquire.
unsafe impl Send for Rings {}
unsafe impl Sync for Rings {}

impl Rings {
    /// Formats a fresh region (netd).
    ///
    /// # Safety
    /// `base` must point to `region_size(slots)` writable bytes, page aligned, that
    /// stay mapped for the life of the returned value.
    pub unsafe fn init(base: *mut u8, len: usize, slots: u32) -> Result<Rings, RingError> {
        if !slots.is_power_of_two() || slots < 2 {
            return Err(RingError::BadGeometry);
        }
        if len < region_size(slots) {
            return Err(RingError::TooSmall);
        }
        // SAFETY: the caller guarantees `len` writable bytes at `base`.
        unsafe { core::ptr::write_bytes(base, 0, HEADER_BYTES) };
        let rings = Rings { base, slots };
        rings.restamp();
        Ok(rings)
    }

    /// netd, before a driver instance attaches: writes the geometry again
    /// and says whether it had been changed. A driver maps the header
    /// writable (it reports its link, address and configuration there), so a
    /// buggy or dying instance can scribble over fields only netd sets, and
    /// without this its successors would refuse the rings for good.
    pub fn restamp(&self) -> bool {
        let h = self.header();
        let want = [(&h.magic, MAGIC), (&h.version, VERSION), (&h.slot_size, SLOT_SIZE as u32), (&h.slots, self.slots)];
        let mut changed = false;
        for (field, value) in want {
            changed |= field.swap(value, Ordering::AcqRel) != value;
        }
        changed
    }

    /// Checks and opens a region another task formatted (driver).
    ///
    /// # Safety
    /// As [`Rings::init`], for `len` bytes.
    pub unsafe fn attach(base: *mut u8, len: usize) -> Result<Rings, RingError> {
        if len < HEADER_BYTES {
            return Err(RingError::TooSmall);
        }
        // SAFETY: at least a header's worth of mapped bytes (checked above).
        let h = unsafe { &*(base as *const Header) };
        if h.magic.load(Ordering::Acquire) != MAGIC {
            return Err(RingError::BadMagic);
        }
        if h.version.load(Ordering::Acquire) != VERSION {
            return Err(RingError::BadVersion);
        }
        let slots = h.slots.load(Ordering::Acquire);
        if h.slot_size.load(Ordering::Acquire) as usize != SLOT_SIZE
            || !slots.is_power_of_two()
            || !(2..=1 << 16).contains(&slots)
        {
            return Err(RingError::BadGeometry);
        }
        if len < region_size(slots) {
            return Err(RingError::TooSmall);
        }
        Ok(Rings { base, slots })
    }

    pub fn header(&self) -> &Header {
        // SAFETY: `base` holds a checked header for the life of `self`.
        unsafe { &*(self.base as *const Header) }
    }

    pub fn slots(&self) -> u32 {
        self.slots
    }

    pub fn indices(&self, dir: Dir) -> &Indices {
        match dir {
            Dir::Rx => &self.header().rx,
            Dir::Tx => &self.header().tx,
        }
    }

    fn slot(&self, dir: Dir, index: u32) -> *mut u8 {
        let ring = match dir {
            Dir::Rx => 0,
            Dir::Tx => 1,
        };
        let n = ring * self.slots as usize + (index & (self.slots - 1)) as usize;
        // SAFETY: n < 2 * slots, inside the region checked at attach/init.
        unsafe { self.base.add(HEADER_BYTES + n * SLOT_SIZE) }
    }

    /// Free slots for the producer.
    pub fn space(&self, dir: Dir) -> u32 {
        let i = self.indices(dir);
        let used = i.head.load(Ordering::Acquire).wrapping_sub(i.done.load(Ordering::Acquire));
        self.slots.saturating_sub(used)
    }

    /// Frames the consumer has not taken yet (clamped to the ring size, so a
    /// corrupt index cannot make the consumer read outside the ring).
    pub fn pending(&self, dir: Dir) -> u32 {
        let i = self.indices(dir);
        i.head.load(Ordering::Acquire).wrapping_sub(i.taken.load(Ordering::Acquire)).min(self.slots)
    }

    /// Consumer: if the producer's `head` claims more frames than the ring
    /// holds (it can never legitimately be more than a ring's worth ahead of
    /// `taken`), the ring is corrupt: everything up to `head` is dropped and
    /// the number of frames it claimed is returned. [`Rings::pending`] clamps
    /// such a value, but a consumer that kept taking clamped frames would take
    /// up to 2^32 of them.
    ///
    /// For rx, `done` is the consumer's too and always equals `taken`; one
    /// that does not (the driver wrote it) is set back, or the producer would
    /// see the ring full with nothing pending, and nothing would ever move.
    pub fn resync_if_overrun(&self, dir: Dir) -> Option<u32> {
        let i = self.indices(dir);
        let head = i.head.load(Ordering::Acquire);
        let taken = i.taken.load(Ordering::Acquire);
        if dir == Dir::Rx && i.done.load(Ordering::Acquire) != taken {
            i.done.store(taken, Ordering::Release);
        }
        let claimed = head.wrapping_sub(taken);
        if claimed <= self.slots {
            return None;
        }
        i.taken.store(head, Ordering::Release);
        if dir == Dir::Rx {
            i.done.store(head, Ordering::Release);
        }
        Some(claimed)
    }

    /// Producer: if the consumer's indices cannot be (`done` more than a
    /// ring's worth behind `head` or ahead of it, `taken` outside `done..=head`),
    /// the ring is corrupt and could never come free again: `taken` and `done`
    /// are set to `head`, dropping what was in flight. Returns whether it was.
    /// A driver that wrote them was killed or is buggy; its successor resumes
    /// from sane indices.
    pub fn resync_producer_if_corrupt(&self, dir: Dir) -> bool {
        let i = self.indices(dir);
        // `done` before `taken`: a working consumer moves both forward with
        // `done` never past `taken`, so this order never sees them crossed.
        let head = i.head.load(Ordering::Acquire);
        let done = i.done.load(Ordering::Acquire);
        let taken = i.taken.load(Ordering::Acquire);
        let in_flight = head.wrapping_sub(done);
        if in_flight <= self.slots && taken.wrapping_sub(done) <= in_flight {
            return false;
        }
        i.taken.store(head, Ordering::Release);
        i.done.store(head, Ordering::Release);
        true
    }

    /// Producer: copies a frame into the next slot. Returns `false` when the
    /// ring is full or the frame too long.
    pub fn push(&self, dir: Dir, frame: &[u8]) -> bool {
        if frame.len() > MAX_FRAME || self.space(dir) == 0 {
            return false;
        }
        let i = self.indices(dir);
        let head = i.head.load(Ordering::Relaxed);
        let slot = self.slot(dir, head);
        // SAFETY: the slot is free (space > 0), so the consumer does not read it;
        // SLOT_SIZE > 4 + MAX_FRAME.
        unsafe {
            (slot as *mut u32).write_volatile(frame.len() as u32);
            core::ptr::copy_nonoverlapping(frame.as_ptr(), slot.add(4), frame.len());
        }
        i.head.store(head.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer: the frame at `taken`, if any, and its index.
    pub fn peek(&self, dir: Dir) -> Option<(u32, &[u8])> {
        if self.pending(dir) == 0 {
            return None;
        }
        let taken = self.indices(dir).taken.load(Ordering::Relaxed);
        let slot = self.slot(dir, taken);
        // SAFETY: the producer published this slot (head > taken, acquire above);
        // the length is clamped so a corrupt value stays inside the slot.
        unsafe {
            let len = ((slot as *const u32).read_volatile() as usize).min(MAX_FRAME);
            Some((taken, core::slice::from_raw_parts(slot.add(4), len)))
        }
    }

    /// Consumer: advances `taken` past the frame returned by `peek`. For rx, the
    /// slot is free again at once.
    pub fn take(&self, dir: Dir) {
        let i = self.indices(dir);
        let t = i.taken.load(Ordering::Relaxed).wrapping_add(1);
        i.taken.store(t, Ordering::Release);
        if dir == Dir::Rx {
            i.done.store(t, Ordering::Release);
        }
    }

    /// tx consumer: slots up to (not including) `upto` are finished.
    pub fn complete(&self, dir: Dir, upto: u32) {
        let i = self.indices(dir);
        let taken = i.taken.load(Ordering::Acquire);
        let done = i.done.load(Ordering::Relaxed);
        // Only forward, and never past what was taken.
        if upto.wrapping_sub(done) <= taken.wrapping_sub(done) {
            i.done.store(upto, Ordering::Release);
        }
    }

    /// A new consumer instance (a restarted driver): everything taken but not
    /// finished is taken again.
    pub fn rewind(&self, dir: Dir) {
        let i = self.indices(dir);
        i.taken.store(i.done.load(Ordering::Acquire), Ordering::Release);
    }

    /// Consumer about to sleep: asks for a notification, then says whether the
    /// ring is still empty (sleep only if it is).
    pub fn arm_wake(&self, dir: Dir) -> bool {
        self.indices(dir).wake.store(1, Ordering::SeqCst);
        self.pending(dir) == 0
    }

    /// Producer after pushing: whether the consumer asked to be woken (and the
    /// request is consumed).
    pub fn should_wake(&self, dir: Dir) -> bool {
        self.indices(dir).wake.swap(0, Ordering::SeqCst) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(slots: u32) -> Vec<u64> {
        vec![0u64; region_size(slots) / 8]
    }

    #[test]
    fn frames_cross_in_order() {
        let mut mem = region(4);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: the vector outlives both views.
        let (a, b) = unsafe { (Rings::init(base, len, 4).unwrap(), Rings::attach(base, len).unwrap()) };
        for n in 0..4u8 {
            assert!(a.push(Dir::Rx, &[n; 60]));
        }
        assert!(!a.push(Dir::Rx, &[9; 60]), "a full ring refuses");
        for n in 0..4u8 {
            let (_, f) = b.peek(Dir::Rx).unwrap();
            assert_eq!(f, &[n; 60][..]);
            b.take(Dir::Rx);
        }
        assert!(b.peek(Dir::Rx).is_none());
        assert!(a.push(Dir::Rx, &[7; 1518]));
        assert!(!a.push(Dir::Rx, &[7; 1519]), "too long");
    }

    #[test]
    fn a_scribbled_geometry_is_restamped_for_the_next_driver() {
        let mut mem = region(4);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: the vector outlives the view.
        let netd = unsafe { Rings::init(base, len, 4).unwrap() };
        assert!(!netd.restamp(), "a fresh header is as netd wrote it");
        // A faulty driver wrote over the first header words (found by bench swifi).
        mem[0] = 0xdead_beef_0000_0000;
        mem[1] = 3;
        // SAFETY: as above.
        assert_eq!(unsafe { Rings::attach(base, len) }.err(), Some(RingError::BadMagic));
        assert!(netd.restamp());
        // SAFETY: as above.
        let driver = unsafe { Rings::attach(base, len) }.expect("the successor attaches");
        assert_eq!(driver.slots(), 4);
    }

    #[test]
    fn tx_slots_stay_busy_until_done_and_survive_a_rewind() {
        let mut mem = region(4);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: as above.
        let (netd, drv) = unsafe { (Rings::init(base, len, 4).unwrap(), Rings::attach(base, len).unwrap()) };
        for n in 0..4u8 {
            assert!(netd.push(Dir::Tx, &[n; 64]));
        }
        // The driver hands two frames to the device, finishes one, then dies.
        drv.take(Dir::Tx);
        drv.take(Dir::Tx);
        drv.complete(Dir::Tx, 1);
        assert_eq!(netd.space(Dir::Tx), 1);
        // Its successor resends from the first unfinished frame.
        // SAFETY: as above.
        let again = unsafe { Rings::attach(base, len).unwrap() };
        again.rewind(Dir::Tx);
        let (i, f) = again.peek(Dir::Tx).unwrap();
        assert_eq!((i, f[0]), (1, 1));
        // Completions never run past what was taken.
        again.complete(Dir::Tx, 3);
        assert_eq!(netd.space(Dir::Tx), 1);
    }

    #[test]
    fn wake_flags_avoid_lost_notifications() {
        let mut mem = region(2);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: as above.
        let (p, c) = unsafe { (Rings::init(base, len, 2).unwrap(), Rings::attach(base, len).unwrap()) };
        assert!(c.arm_wake(Dir::Rx), "empty: sleep");
        assert!(p.push(Dir::Rx, &[1; 10]));
        assert!(p.should_wake(Dir::Rx));
        assert!(!p.should_wake(Dir::Rx), "one notification per request");
        assert!(!c.arm_wake(Dir::Rx), "not empty: do not sleep");
    }

    #[test]
    fn a_head_more_than_a_ring_ahead_is_dropped_not_followed() {
        let mut mem = region(8);
        // SAFETY: `mem` is large enough and outlives `r`.
        let r = unsafe { Rings::init(mem.as_mut_ptr() as *mut u8, mem.len() * 8, 8) }.unwrap();
        assert!(r.push(Dir::Rx, b"one"));
        assert_eq!(r.resync_if_overrun(Dir::Rx), None, "a frame pending is no overrun");
        r.indices(Dir::Rx).head.store(0x8000_0000, Ordering::Release);
        assert_eq!(r.pending(Dir::Rx), 8, "pending clamps");
        assert_eq!(r.resync_if_overrun(Dir::Rx), Some(0x8000_0000));
        assert_eq!(r.pending(Dir::Rx), 0);
        assert_eq!(r.resync_if_overrun(Dir::Rx), None);
        // The producer carries on from its head.
        assert!(r.push(Dir::Rx, b"two"));
        assert_eq!(r.peek(Dir::Rx).map(|(_, f)| f.to_vec()), Some(b"two".to_vec()));
        r.take(Dir::Rx);
        // rx `done` moved by someone else: the ring looks full with nothing
        // pending until the consumer sets it back.
        let i = r.indices(Dir::Rx);
        i.done.store(i.taken.load(Ordering::Relaxed).wrapping_add(5000), Ordering::Release);
        assert_eq!(r.space(Dir::Rx), 0);
        assert_eq!(r.resync_if_overrun(Dir::Rx), None);
        assert_eq!(r.space(Dir::Rx), 8);
    }

    #[test]
    fn consumer_indices_that_cannot_be_are_reset_by_the_producer() {
        let mut mem = region(8);
        // SAFETY: `mem` is large enough and outlives `r`.
        let r = unsafe { Rings::init(mem.as_mut_ptr() as *mut u8, mem.len() * 8, 8) }.unwrap();
        for _ in 0..3 {
            assert!(r.push(Dir::Tx, b"frame"));
        }
        r.take(Dir::Tx);
        assert!(!r.resync_producer_if_corrupt(Dir::Tx), "2 in flight, 1 taken: sane");
        // `done` ahead of `head`: the ring would stay full for good.
        let i = r.indices(Dir::Tx);
        i.done.store(i.head.load(Ordering::Relaxed).wrapping_add(1000), Ordering::Release);
        assert_eq!(r.space(Dir::Tx), 0);
        assert!(r.resync_producer_if_corrupt(Dir::Tx));
        assert_eq!(r.space(Dir::Tx), 8);
        assert_eq!(r.pending(Dir::Tx), 0);
        // `taken` past `head`.
        i.taken.store(i.head.load(Ordering::Relaxed).wrapping_add(3), Ordering::Release);
        assert!(r.resync_producer_if_corrupt(Dir::Tx));
        assert!(r.push(Dir::Tx, b"again"));
        assert_eq!(r.peek(Dir::Tx).map(|(_, f)| f.to_vec()), Some(b"again".to_vec()));
    }

    #[test]
    fn corrupt_headers_are_refused() {
        let mut mem = region(2);
        let base = mem.as_mut_ptr() as *mut u8;
        let len = mem.len() * 8;
        // SAFETY: as above.
        unsafe {
            assert_eq!(Rings::attach(base, len).err(), Some(RingError::BadMagic));
            Rings::init(base, len, 2).unwrap();
            (*(base as *mut Header)).slots = AtomicU32::new(3);
            assert_eq!(Rings::attach(base, len).err(), Some(RingError::BadGeometry));
            (*(base as *mut Header)).slots = AtomicU32::new(1 << 12);
            assert_eq!(Rings::attach(base, len).err(), Some(RingError::TooSmall));
        }
    }
}

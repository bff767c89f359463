//! One Linux net_device attached to netd: the frames between the driver and the
//! shared rings, and the transmit completions that let a restarted driver resend
//! what its predecessor had taken but not finished.
//!
//! The rings belong to netd; this side maps them, pushes received frames, takes
//! frames to transmit and marks them done when the driver frees their skb. Any
//! driver thread may call in (its interrupt thread, its NAPI thread, the
//! transmit thread), so the two pieces of mutable state take a sleeping ddekit
//! lock: never a spin lock, which would livelock a high-priority interrupt thread
//! against a preempted holder on one CPU.

use super::bindings::{self, resurgo_netdev_t};
use crate::sync::Lock;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use netring::{Dir, Rings};
use rt::obj::Irq;

pub struct Nic {
    pub dev: resurgo_netdev_t,
    pub rings: Rings,
    /// Triggered to wake netd.
    pub to_netd: Irq,
    rx: Lock<()>,
    /// Which taken tx slots are finished, indexed by slot number modulo the ring.
    tx_done: Lock<Vec<bool>>,
    pub rx_dropped: AtomicU64,
    pub tx_dropped: AtomicU64,
    /// Reports, once, when this incarnation moved its first frame.
    first_frame: Once,
}

/// Logs when a restarted driver's first frame moves: the recovery time the
/// restart benchmark reads, from the failure (`fault-ticks`, set by the
/// reincarnation server) to traffic again.
struct Once(core::sync::atomic::AtomicBool);

impl Once {
    fn hit(&self, what: &str) {
        if self.0.swap(true, Ordering::AcqRel) {
            return;
        }
        let incarnation = rt::env::value("incarnation").unwrap_or(1);
        if let Some(fault) = rt::env::value("fault-ticks").filter(|&t| t > 0 && incarnation > 1) {
            rt::info!(
                "recovered: incarnation {} moved its first frame ({}) {} ms after the failure ({})",
                incarnation,
                what,
                rt::time::ticks().saturating_sub(fault),
                crate::timeline::after(fault)
            );
        }
    }
}

// SAFETY: the net_device pointer is only passed back to the shim, which does
// its own locking; everything else is atomics, shared memory or locked.
unsafe impl Send for Nic {}
unsafe impl Sync for Nic {}

impl Nic {
    pub fn new(dev: resurgo_netdev_t, rings: Rings, to_netd: Irq) -> Nic {
        let slots = rings.slots() as usize;
        Nic {
            dev,
            rings,
            to_netd,
            rx: Lock::new(()),
            tx_done: Lock::new(vec![false; slots]),
            rx_dropped: AtomicU64::new(0),
            tx_dropped: AtomicU64::new(0),
            first_frame: Once(core::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// A frame the driver received.
    pub fn receive(&self, frame: &[u8]) {
        let pushed = {
            let _g = self.rx.lock();
            self.rings.push(Dir::Rx, frame)
        };
        if pushed {
            self.first_frame.hit("received");
        } else {
            self.rx_dropped.fetch_add(1, Ordering::Relaxed);
        }
        if self.rings.should_wake(Dir::Rx) {
            let _ = self.to_netd.trigger();
        }
    }

    /// The driver freed the skb of tx slot `index`. It may do so before
    /// `dde_netdev_xmit` returns (its interrupt thread runs at a higher priority
    /// and the device may finish at once), so the slot being handed over counts
    /// too; `done` advances over every finished slot in order.
    pub fn transmitted(&self, index: u32) {
        let mut flags = self.tx_done.lock();
        let idx = self.rings.indices(Dir::Tx);
        let done = idx.done.load(Ordering::Acquire);
        let taken = idx.taken.load(Ordering::Acquire);
        // Ignore cookies outside [done, taken]: stale or bogus.
        if index.wrapping_sub(done) > taken.wrapping_sub(done) {
            return;
        }
        flags[(index & (self.rings.slots() - 1)) as usize] = true;
        self.advance(&mut flags);
    }

    /// Moves `done` over the finished slots below `taken`; wakes netd if it
    /// waits for room.
    fn advance(&self, flags: &mut [bool]) {
        let mask = self.rings.slots() - 1;
        let idx = self.rings.indices(Dir::Tx);
        let taken = idx.taken.load(Ordering::Acquire);
        let start = idx.done.load(Ordering::Acquire);
        let mut done = start;
        while done != taken && flags[(done & mask) as usize] {
            flags[(done & mask) as usize] = false;
            done = done.wrapping_add(1);
        }
        if done == start {
            return;
        }
        self.rings.complete(Dir::Tx, done);
        if idx.wake_producer.swap(0, Ordering::SeqCst) != 0 {
            let _ = self.to_netd.trigger();
        }
    }

    /// A new incarnation starts: finish nothing twice, resend what was taken
    /// but not done.
    pub fn resume(&self) {
        self.tx_done.lock().iter_mut().for_each(|f| *f = false);
        self.rings.rewind(Dir::Tx);
        self.rings.header().incarnation.fetch_add(1, Ordering::SeqCst);
    }

    /// Hands every pending tx frame to the driver. Returns `false` when the
    /// driver's queue is stopped (wait for a wake-up and call again).
    pub fn transmit_pending(&self) -> bool {
        while let Some((index, frame)) = self.rings.peek(Dir::Tx) {
            // SAFETY: `dev` is a registered net_device; the frame stays valid until
            // `take` (netd does not reuse a slot before `done` passes it).
            let r = unsafe { bindings::dde_netdev_xmit(self.dev, frame.as_ptr().cast(), frame.len(), index as u64) };
            match r {
                0 => {
                    self.rings.take(Dir::Tx);
                    self.first_frame.hit("sent");
                    // Its completion may already have come.
                    self.advance(&mut self.tx_done.lock());
                }
                1 => return false,
                _ => {
                    // Dropped by the driver (bad frame): finished as far as netd goes.
                    self.tx_dropped.fetch_add(1, Ordering::Relaxed);
                    self.rings.take(Dir::Tx);
                    self.transmitted(index);
                }
            }
        }
        true
    }

    pub fn set_link(&self, up: bool) {
        self.rings.header().link_up.store(up as u32, Ordering::Release);
        let _ = self.to_netd.trigger();
    }
}

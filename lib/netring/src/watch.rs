//! netd's watch over a driver's receive path.
//!
//! A device can stop receiving for good while its driver looks healthy: it
//! answers heartbeats and transmits, yet nothing ever comes in (QEMU's pcnet
//! model does this after a frame longer than its 4 KiB buffer, until the chip
//! is initialised again). netd notices the silence: when a link that has
//! carried frames has been quiet for [`QUIET_MS`], it sends ARP requests for
//! its gateway, which any working link answers; when [`PROBES`] of them, one
//! every [`PROBE_EVERY_MS`], bring nothing back, it asks the driver through
//! the ring header ([`crate::Header::reset_request`]) to end itself so that
//! its successor initialises the device afresh. One request per silence: a
//! link that stays dead after it is left alone until a frame comes in again.

/// Silence, after frames had come in, before the first probe.
pub const QUIET_MS: u64 = 5_000;
pub const PROBE_EVERY_MS: u64 = 1_000;
/// Unanswered probes before netd asks for a reset.
pub const PROBES: u32 = 3;

/// What netd should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Send an ARP request for the gateway.
    Probe,
    /// Ask the driver to end itself: its successor initialises the device.
    Reset,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RxWatch {
    /// Frames received so far, and when that count last moved.
    frames: u64,
    since: u64,
    probes: u32,
    next_probe: u64,
    /// Frames came in since the last reset (or ever): silence means something.
    armed: bool,
}

impl RxWatch {
    /// One look at `frames` (received so far) at `now` (ms); `ready`: the
    /// link is up and there is a gateway to probe.
    pub fn step(&mut self, now: u64, frames: u64, ready: bool) -> Action {
        if frames != self.frames {
            *self = RxWatch { frames, since: now, armed: true, ..RxWatch::default() };
            return Action::Nothing;
        }
        if !ready || !self.armed {
            self.since = now;
            self.probes = 0;
            return Action::Nothing;
        }
        if now.saturating_sub(self.since) < QUIET_MS || now < self.next_probe {
            return Action::Nothing;
        }
        if self.probes < PROBES {
            self.probes += 1;
            self.next_probe = now + PROBE_EVERY_MS;
            return Action::Probe;
        }
        *self = RxWatch { frames, since: now, ..RxWatch::default() };
        Action::Reset
    }

    /// Milliseconds the link has been quiet at `now`.
    pub fn quiet_ms(&self, now: u64) -> u64 {
        now.saturating_sub(self.since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps every 100 ms from `from` to `to` with a fixed count.
    fn run(w: &mut RxWatch, from: u64, to: u64, frames: u64, ready: bool) -> Vec<(u64, Action)> {
        (from..to).step_by(100).map(|t| (t, w.step(t, frames, ready))).filter(|(_, a)| *a != Action::Nothing).collect()
    }

    #[test]
    fn a_silent_link_is_probed_then_reset_once() {
        let mut w = RxWatch::default();
        assert_eq!(w.step(0, 10, true), Action::Nothing);
        let acts = run(&mut w, 100, 20_000, 10, true);
        let t = |a| acts.iter().filter(|(_, x)| *x == a).map(|(t, _)| *t).collect::<Vec<_>>();
        assert_eq!(t(Action::Probe), [5_000, 6_000, 7_000]);
        assert_eq!(t(Action::Reset), [8_000], "one reset, then quiet until frames come");
        // Frames again: armed again.
        assert_eq!(w.step(20_000, 11, true), Action::Nothing);
        assert_eq!(run(&mut w, 20_100, 30_000, 11, true).iter().filter(|(_, a)| *a == Action::Reset).count(), 1);
    }

    #[test]
    fn traffic_a_down_link_or_a_link_that_never_worked_is_left_alone() {
        let mut w = RxWatch::default();
        assert!(run(&mut w, 0, 60_000, 0, true).is_empty(), "nothing ever received: nothing to miss");
        let mut w = RxWatch::default();
        w.step(0, 5, true);
        assert!(run(&mut w, 100, 60_000, 5, false).is_empty(), "link down");
        let mut w = RxWatch::default();
        for t in (0..60_000).step_by(100) {
            assert_eq!(w.step(t, t / 1000, true), Action::Nothing, "a frame a second keeps it quiet");
        }
        // An answer to the first probe ends the episode.
        let mut w = RxWatch::default();
        w.step(0, 5, true);
        assert_eq!(run(&mut w, 100, 5_100, 5, true), [(5_000, Action::Probe)]);
        assert_eq!(w.step(5_200, 6, true), Action::Nothing);
        assert!(run(&mut w, 5_300, 10_000, 6, true).is_empty());
        assert_eq!(w.quiet_ms(10_000), 4_800);
    }
}

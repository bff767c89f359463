//! Restart policy and the record the server keeps per driver.

use alloc::collections::VecDeque;
use alloc::string::String;

/// How a driver's failures are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Delay after the second failure within the window; doubles after each
    /// further one.
    pub backoff_ms: u64,
    pub backoff_max_ms: u64,
    /// Failures within the window after which the driver is held down.
    pub limit: u32,
    pub window_ms: u64,
    /// An instance that ran this long counts as having worked: its failure
    /// starts a fresh history (restart at once), like MINIX's reincarnation
    /// server, which backs off only drivers that fail soon after starting.
    pub stable_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { backoff_ms: 100, backoff_max_ms: 3_200, limit: 6, window_ms: 30_000, stable_ms: 500 }
    }
}

/// What the server does next for a driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Restart at once.
    Now,
    /// Restart at this time (ms since boot).
    At(u64),
    /// Give up until an operator says `up`.
    HoldDown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Loaded, not yet known to work.
    Starting,
    Running,
    /// Waiting to be restarted at this time.
    Backoff(u64),
    /// Failed too often: stays down until an operator brings it up.
    HeldDown,
    /// Stopped by an operator.
    Down,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Running => "running",
            State::Backoff(_) => "backoff",
            State::HeldDown => "held-down",
            State::Down => "down",
        }
    }

    pub fn code(&self) -> u64 {
        match self {
            State::Starting => 0,
            State::Running => 1,
            State::Backoff(_) => 2,
            State::HeldDown => 3,
            State::Down => 4,
        }
    }

    pub fn from_code(c: u64) -> State {
        match c {
            0 => State::Starting,
            1 => State::Running,
            2 => State::Backoff(0),
            3 => State::HeldDown,
            _ => State::Down,
        }
    }
}

/// The record of one supervised driver.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub state: State,
    /// 1 for the first instance, +1 for each restart.
    pub incarnation: u64,
    pub restarts: u64,
    /// Failures inside the current window (their times).
    failures: VecDeque<u64>,
    /// Why the last instance ended, in words, with the place.
    pub last_cause: String,
}

impl Service {
    pub fn new(name: &str) -> Service {
        Service {
            name: name.into(),
            state: State::Starting,
            incarnation: 0,
            restarts: 0,
            failures: VecDeque::new(),
            last_cause: String::new(),
        }
    }

    /// A failure at `now` of an instance started at `started`: records it and
    /// decides the restart.
    pub fn failed(&mut self, now: u64, started: u64, policy: &Policy) -> Decision {
        if now.saturating_sub(started) >= policy.stable_ms {
            self.failures.clear();
        }
        while self.failures.front().is_some_and(|&t| now.saturating_sub(t) > policy.window_ms) {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        let n = self.failures.len() as u32;
        let decision = if n > policy.limit {
            Decision::HoldDown
        } else if n <= 1 {
            Decision::Now
        } else {
            let delay = policy.backoff_ms.saturating_mul(1 << (n - 2).min(20)).min(policy.backoff_max_ms);
            Decision::At(now + delay)
        };
        self.state = match decision {
            Decision::Now => State::Starting,
            Decision::At(t) => State::Backoff(t),
            Decision::HoldDown => State::HeldDown,
        };
        decision
    }

    /// An operator brings a held-down or stopped driver back: its failure
    /// history is forgotten.
    pub fn reset(&mut self) {
        self.failures.clear();
        self.state = State::Starting;
    }

    pub fn failures_in_window(&self) -> usize {
        self.failures.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_restarts_at_once_then_backs_off_then_holds_down() {
        let p = Policy { backoff_ms: 100, backoff_max_ms: 400, limit: 4, window_ms: 10_000, stable_ms: 500 };
        let mut s = Service::new("eth0");
        // Each instance dies within 50 ms of starting (a faulting probe).
        assert_eq!(s.failed(1000, 990, &p), Decision::Now);
        assert_eq!(s.failed(1010, 1000, &p), Decision::At(1110));
        assert_eq!(s.failed(1200, 1150, &p), Decision::At(1400));
        assert_eq!(s.failed(1500, 1450, &p), Decision::At(1900), "capped at 400");
        assert_eq!(s.failed(2000, 1950, &p), Decision::HoldDown);
        assert_eq!(s.state, State::HeldDown);
        s.reset();
        assert_eq!(s.failed(2100, 2090, &p), Decision::Now);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let p = Policy { backoff_ms: 100, backoff_max_ms: 1000, limit: 2, window_ms: 1000, stable_ms: 500 };
        let mut s = Service::new("eth0");
        assert_eq!(s.failed(0, 0, &p), Decision::Now);
        assert_eq!(s.failed(100, 50, &p), Decision::At(200));
        assert_eq!(s.failed(2000, 1990, &p), Decision::Now, "old failures leave the window");
        assert_eq!(s.failures_in_window(), 1);
    }

    #[test]
    fn a_driver_that_worked_for_a_while_restarts_at_once() {
        // A crash every second, as the restart benchmark injects, never piles up.
        let p = Policy::default();
        let mut s = Service::new("eth0");
        for i in 0..20 {
            assert_eq!(s.failed(1000 * (i + 1), 1000 * i + 50, &p), Decision::Now);
        }
    }
}

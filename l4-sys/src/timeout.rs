//! IPC timeouts: zero, a finite number of milliseconds, or never.

/// How long an IPC phase may wait for its partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Fail at once with [`crate::Error::Timeout`] unless the partner is ready.
    Zero,
    /// Wait at most this many milliseconds.
    Millis(u32),
    /// Wait until the partner is ready (or dies).
    Never,
}

impl Timeout {
    const NEVER_RAW: u32 = u32::MAX;

    pub const fn to_raw(self) -> u32 {
        match self {
            Timeout::Zero => 0,
            Timeout::Millis(Self::NEVER_RAW) => Self::NEVER_RAW - 1,
            Timeout::Millis(ms) => ms,
            Timeout::Never => Self::NEVER_RAW,
        }
    }

    pub const fn from_raw(raw: u32) -> Timeout {
        match raw {
            0 => Timeout::Zero,
            Self::NEVER_RAW => Timeout::Never,
            ms => Timeout::Millis(ms),
        }
    }

    /// Packs the send and receive timeouts into the syscall's timeout register.
    pub const fn pair(send: Timeout, recv: Timeout) -> u64 {
        ((send.to_raw() as u64) << 32) | recv.to_raw() as u64
    }

    pub const fn unpair(raw: u64) -> (Timeout, Timeout) {
        (Timeout::from_raw((raw >> 32) as u32), Timeout::from_raw(raw as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        for (s, r) in [
            (Timeout::Zero, Timeout::Never),
            (Timeout::Millis(5), Timeout::Zero),
            (Timeout::Never, Timeout::Millis(u32::MAX - 1)),
        ] {
            assert_eq!(Timeout::unpair(Timeout::pair(s, r)), (s, r));
        }
    }
}

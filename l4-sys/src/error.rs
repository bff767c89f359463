//! The errors `invoke` returns, as a typed code in the first result register.
//!
//! Every failure caused by a task's request is one of these, returned to that task.
//! The kernel never panics on user input.

/// Why an operation failed. `0` on the wire means success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Error {
    /// The selector names an empty slot: the task was never granted this capability.
    /// The kernel counts and logs each such attempt (IPC control).
    NoCapability = 1,
    /// The capability names an object that has been destroyed.
    DeadObject = 2,
    /// The IPC partner died or was killed while the operation was pending.
    PeerDied = 3,
    /// The timeout expired before a partner was ready.
    Timeout = 4,
    /// The object does not speak the protocol named by the tag's label.
    BadProtocol = 5,
    /// The protocol has no such operation.
    BadOpcode = 6,
    /// An argument is malformed or out of range.
    InvalidArgument = 7,
    /// Physical memory is exhausted.
    OutOfMemory = 8,
    /// The task's quota (memory pages, threads) does not allow it.
    QuotaExceeded = 9,
    /// The capability lacks the right, or the range is outside what it grants.
    Denied = 10,
    /// The gate or IRQ has no thread bound to it.
    NotBound = 11,
    /// A reply was sent but nobody waits for one.
    NoReplyPartner = 12,
    /// The destination slot or address range is already in use.
    InUse = 13,
    /// A user address is not canonical, not page aligned or not mapped.
    BadAddress = 14,
    /// The object is busy (an IRQ line already bound, a thread already started).
    Busy = 15,
    /// The receiver gave no slot for a capability sent to it.
    NoReceiveSlot = 16,
    /// A receive was cancelled because the receiving task is being stopped.
    Cancelled = 17,
}

impl Error {
    /// Decodes a result register: `Ok(())` for 0, the error otherwise. Unknown codes
    /// (from a newer kernel) map to `InvalidArgument` rather than being trusted.
    pub const fn from_raw(raw: u64) -> Result<(), Error> {
        Err(match raw {
            0 => return Ok(()),
            1 => Error::NoCapability,
            2 => Error::DeadObject,
            3 => Error::PeerDied,
            4 => Error::Timeout,
            5 => Error::BadProtocol,
            6 => Error::BadOpcode,
            8 => Error::OutOfMemory,
            9 => Error::QuotaExceeded,
            10 => Error::Denied,
            11 => Error::NotBound,
            12 => Error::NoReplyPartner,
            13 => Error::InUse,
            14 => Error::BadAddress,
            15 => Error::Busy,
            16 => Error::NoReceiveSlot,
            17 => Error::Cancelled,
            _ => Error::InvalidArgument,
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Error::NoCapability => "no capability in that slot",
            Error::DeadObject => "object destroyed",
            Error::PeerDied => "IPC partner died",
            Error::Timeout => "timeout",
            Error::BadProtocol => "wrong protocol for object",
            Error::BadOpcode => "unknown operation",
            Error::InvalidArgument => "invalid argument",
            Error::OutOfMemory => "out of memory",
            Error::QuotaExceeded => "quota exceeded",
            Error::Denied => "denied",
            Error::NotBound => "no thread bound",
            Error::NoReplyPartner => "no reply partner",
            Error::InUse => "in use",
            Error::BadAddress => "bad address",
            Error::Busy => "busy",
            Error::NoReceiveSlot => "no receive slot",
            Error::Cancelled => "cancelled",
        }
    }
}

/// Why acknowledging an interrupt and then waiting for the next message
/// (one system call where the kernel allows it) failed: the acknowledgement
/// (nothing was waited for), or the wait after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckWaitError {
    Unmask(Error),
    Wait(Error),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_codes_round_trip() {
        for code in 1..=17u64 {
            if code == 7 {
                continue;
            }
            let err = Error::from_raw(code).unwrap_err();
            assert_eq!(err as u64, code);
        }
        assert_eq!(Error::from_raw(0), Ok(()));
        assert_eq!(Error::from_raw(999), Err(Error::InvalidArgument));
    }
}

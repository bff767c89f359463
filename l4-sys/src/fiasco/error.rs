//! Fiasco's failures as Resurgo's typed [`Error`]: IPC errors (the tag's
//! error flag, the code in the UTCB's error word) and the negative labels
//! kernel objects and L4Re servers answer with (`-L4_E*`).

use crate::Error;

/// IPC error codes (`L4_IPC_*`, the low five bits of the error word).
pub mod ipc {
    pub const MASK: u64 = 0x1f;
    pub const SETIMEOUT: u64 = 0x02;
    pub const RETIMEOUT: u64 = 0x03;
    pub const ENOT_EXISTENT: u64 = 0x04;
    pub const SECANCELED: u64 = 0x06;
    pub const RECANCELED: u64 = 0x07;
    pub const SEMSGCUT: u64 = 0x08;
    pub const REMSGCUT: u64 = 0x09;
    pub const SEABORTED: u64 = 0x0e;
    pub const REABORTED: u64 = 0x0f;
    pub const SEMAPFAILED: u64 = 0x10;
    pub const REMAPFAILED: u64 = 0x11;
    pub const NO_REPLY_CAP: u64 = 0x13;
}

/// The IPC error in the UTCB's error word.
pub const fn from_ipc(word: u64) -> Error {
    match word & ipc::MASK {
        ipc::SETIMEOUT | ipc::RETIMEOUT => Error::Timeout,
        ipc::ENOT_EXISTENT => Error::NoCapability,
        ipc::SECANCELED | ipc::RECANCELED => Error::Cancelled,
        ipc::SEABORTED | ipc::REABORTED => Error::PeerDied,
        ipc::SEMAPFAILED | ipc::REMAPFAILED => Error::NoReceiveSlot,
        ipc::NO_REPLY_CAP => Error::NoReplyPartner,
        0x0a..=0x0d => Error::BadAddress,
        _ => Error::InvalidArgument,
    }
}

/// Whether the IPC error in `word` happened in the send phase (Fiasco's
/// send-phase codes are even, `L4_IPC_SND_ERR_MASK`): then nothing was
/// received or waited for.
pub const fn in_send_phase(word: u64) -> bool {
    word & 1 == 0
}

/// A negative answer label (`-L4_EPERM` ...), or `Ok` for zero and above.
pub const fn from_label(label: i64) -> Result<i64, Error> {
    if label >= 0 {
        return Ok(label);
    }
    Err(match -label {
        1 | 13 => Error::Denied,
        2 => Error::NoCapability,
        12 => Error::OutOfMemory,
        14 => Error::BadAddress,
        16 => Error::Busy,
        17 => Error::InUse,
        28 => Error::QuotaExceeded,
        38 => Error::BadOpcode,
        39 => Error::BadProtocol,
        1000 => Error::NoReplyPartner,
        _ => Error::InvalidArgument,
    })
}

/// The negative answer label a server gives for `e` (the inverse of
/// [`from_label`] where Fiasco has the code; `-L4_EINVAL` otherwise).
pub const fn to_label(e: Error) -> i64 {
    -match e {
        Error::Denied => 1,
        Error::NoCapability => 2,
        Error::OutOfMemory => 12,
        Error::BadAddress => 14,
        Error::Busy => 16,
        Error::InUse => 17,
        Error::QuotaExceeded => 28,
        Error::BadOpcode => 38,
        Error::BadProtocol => 39,
        Error::NoReplyPartner => 1000,
        _ => 22,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(from_ipc(ipc::RETIMEOUT), Error::Timeout);
        assert_eq!(from_ipc(0x100 | ipc::ENOT_EXISTENT), Error::NoCapability);
        assert_eq!(from_label(0), Ok(0));
        assert_eq!(from_label(-12), Err(Error::OutOfMemory));
        assert_eq!(from_label(-39), Err(Error::BadProtocol));
        assert_eq!(from_label(-9999), Err(Error::InvalidArgument));
        for e in [Error::Denied, Error::OutOfMemory, Error::BadOpcode, Error::InvalidArgument, Error::QuotaExceeded] {
            assert_eq!(from_label(to_label(e)), Err(e));
        }
    }

    #[test]
    fn the_phase_of_an_ipc_error() {
        for send in [ipc::SETIMEOUT, ipc::ENOT_EXISTENT, ipc::SECANCELED, ipc::SEABORTED, ipc::SEMAPFAILED] {
            assert!(in_send_phase(send), "{send:#x}");
        }
        for receive in [ipc::RETIMEOUT, ipc::RECANCELED, ipc::REABORTED, ipc::REMAPFAILED] {
            assert!(!in_send_phase(receive), "{receive:#x}");
        }
    }
}

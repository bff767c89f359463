//! Calls to the reincarnation server's `svc` endpoint, for the shell, httpd
//! and tests. (Not compiled into the host unit tests, which have no kernel.)

use crate::policy::State;
use crate::proto::{self, svc};
use alloc::string::String;
use alloc::vec::Vec;
use protocols::{status, words};
use rt::{CapIdx, MsgTag, Timeout, ipc};

/// One supervised driver, as the server reports it.
#[derive(Clone, Debug)]
pub struct Status {
    pub name: String,
    pub state: State,
    pub incarnation: u64,
    pub restarts: u64,
    pub failures_in_window: u64,
    pub last_cause: String,
}

/// Why a call to the server did not do what it asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The server answered with this error.
    Server(svc::Error),
    /// The call itself failed (no such gate, the server gone, a timeout).
    Ipc(rt::Error),
    /// The kernel refused a patch ([`poke`]).
    Kernel(rt::Error),
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallError::Server(e) => write!(f, "{e}"),
            CallError::Ipc(e) => write!(f, "the call failed: {e}"),
            CallError::Kernel(e) => write!(f, "the kernel refused: {e}"),
        }
    }
}

/// Calls the server and decodes the status word of its answer.
fn call(rs: CapIdx, tag: MsgTag, timeout: Timeout) -> Result<u64, CallError> {
    ipc::call(rs, tag, timeout).map_err(CallError::Ipc)?;
    status::decode::<svc::Error>(ipc::mr::<0>()).map_err(CallError::Server)
}

/// The status of the `n`-th service; [`svc::Error::NoService`] past the last.
pub fn status_at(rs: CapIdx, n: u64) -> Result<Status, CallError> {
    ipc::set_mr::<0>(n);
    let state = call(rs, MsgTag::new(svc::STATUS, 1, 0), Timeout::Millis(2000))?;
    let mr = ipc::received(ipc::MR_COUNT);
    let malformed = CallError::Server(svc::Error::Malformed);
    let (b, len) = proto::unpack_name(mr[4], &mr[5..9]).ok_or(malformed)?;
    let mut cause = [0u8; 320];
    let cause = words::unpack_bytes(&mr[10..], (mr[9] as usize).min(cause.len()), &mut cause).ok_or(malformed)?;
    Ok(Status {
        name: String::from(core::str::from_utf8(&b[..len]).map_err(|_| malformed)?),
        state: State::from_code(state),
        incarnation: mr[1],
        restarts: mr[2],
        failures_in_window: mr[3],
        last_cause: String::from_utf8_lossy(cause).into_owned(),
    })
}

/// Every supervised driver.
pub fn list(rs: CapIdx) -> Vec<Status> {
    (0..64).map_while(|n| status_at(rs, n).ok()).collect()
}

pub fn status(rs: CapIdx, name: &str) -> Option<Status> {
    list(rs).into_iter().find(|s| s.name == name)
}

/// Puts a service's name into `mr[0..5]`.
fn put_name(mr: &mut [u64; ipc::MR_COUNT], name: &str) {
    let mut w = [0u64; 4];
    let n = proto::pack_name(name, &mut w);
    mr[0] = n as u64;
    mr[1..5].copy_from_slice(&w);
}

/// Sends an operator request (`svc::RESTART`, `KILL`, `DOWN`, `UP`, `INJECT`
/// with the injection kind as `arg`).
pub fn command(rs: CapIdx, op: i64, name: &str, arg: u64) -> Result<(), CallError> {
    let mut mr = [0; ipc::MR_COUNT];
    put_name(&mut mr, name);
    mr[5] = arg;
    ipc::write_mrs(0, &mr[..6]).map_err(CallError::Ipc)?;
    call(rs, MsgTag::new(op, 6, 0), Timeout::Millis(5000)).map(|_| ())
}

/// Patches the text of `name`'s instance `incarnation` (0: whichever runs) at
/// `addr` (`svc::POKE`); the bytes replaced.
pub fn poke(rs: CapIdx, name: &str, incarnation: u64, addr: u64, bytes: &[u8]) -> Result<Vec<u8>, CallError> {
    if bytes.is_empty() || bytes.len() > svc::POKE_MAX {
        return Err(CallError::Server(svc::Error::Malformed));
    }
    let mut mr = [0; ipc::MR_COUNT];
    put_name(&mut mr, name);
    mr[5] = incarnation;
    mr[6] = addr;
    mr[7] = bytes.len() as u64;
    let used = words::pack_bytes(&mut mr[8..], bytes).unwrap_or(0);
    ipc::write_mrs(0, &mr[..8 + used]).map_err(CallError::Ipc)?;
    match call(rs, MsgTag::new(svc::POKE, 8 + used, 0), Timeout::Millis(5000)) {
        Ok(_) => {
            let mut old = [0u8; svc::POKE_MAX];
            let old = words::unpack_bytes(&ipc::received(ipc::MR_COUNT)[1..], bytes.len(), &mut old)
                .ok_or(CallError::Server(svc::Error::Malformed))?;
            Ok(old.to_vec())
        }
        Err(CallError::Server(svc::Error::Kernel)) => Err(rt::Error::from_raw(ipc::mr::<1>())
            .err()
            .map_or(CallError::Server(svc::Error::Malformed), CallError::Kernel)),
        Err(e) => Err(e),
    }
}

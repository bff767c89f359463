//! Calls to the reincarnation server's `svc` endpoint, for the shell, httpd
//! and tests. (Not compiled into the host unit tests, which have no kernel.)

use crate::policy::State;
use crate::proto::svc;
use alloc::string::String;
use alloc::vec::Vec;
use protocols::status;
use rt::sys::message::Bytes;
use rt::{CapIdx, Timeout, ipc};

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

/// Sends `request` and decodes the status word of the answer; the answer's
/// words come back with it.
fn call(rs: CapIdx, request: &svc::Request, timeout: Timeout) -> Result<(u64, ipc::Words), CallError> {
    let tag = ipc::encode_call(request).map_err(CallError::Ipc)?;
    let r = ipc::call(rs, tag, timeout).map_err(CallError::Ipc)?;
    let words = ipc::received_words(r.tag);
    let status = status::decode::<svc::Error>(words.word(0)).map_err(CallError::Server)?;
    Ok((status, words))
}

/// The reincarnation server's `svc` endpoint, as the manifest grants it
/// (`uses = ["reincarnation.svc"]`): under that name, or as `svc` on
/// Fiasco.OC, whose capability names are at most 16 bytes.
pub fn server() -> Option<CapIdx> {
    rt::env::cap("reincarnation.svc").or_else(|| rt::env::cap("svc"))
}

/// The status of the `n`-th service; [`svc::Error::NoService`] past the last.
pub fn status_at(rs: CapIdx, n: u64) -> Result<Status, CallError> {
    let (state, words) = call(rs, &svc::Request::Status { n }, Timeout::Millis(2000))?;
    let r = svc::StatusReply::decode(&words).map_err(|_| CallError::Server(svc::Error::Malformed))?;
    let name = r.name.as_str().ok_or(CallError::Server(svc::Error::Malformed))?;
    Ok(Status {
        name: String::from(name),
        state: State::from_code(state),
        incarnation: r.incarnation,
        restarts: r.restarts,
        failures_in_window: r.failures_in_window,
        last_cause: String::from_utf8_lossy(r.cause.as_bytes()).into_owned(),
    })
}

/// Every supervised driver.
pub fn list(rs: CapIdx) -> Vec<Status> {
    (0..64).map_while(|n| status_at(rs, n).ok()).collect()
}

pub fn status(rs: CapIdx, name: &str) -> Option<Status> {
    list(rs).into_iter().find(|s| s.name == name)
}

/// Sends an operator request (`svc::RESTART`, `KILL`, `DOWN`, `UP`, `INJECT`
/// with the injection kind as `arg`, `COMPLAIN`).
pub fn command(rs: CapIdx, op: i64, name: &str, arg: u64) -> Result<(), CallError> {
    let request = svc::Request::command(op, name, arg).ok_or(CallError::Server(svc::Error::UnknownCall))?;
    call(rs, &request, Timeout::Millis(5000)).map(|_| ())
}

/// Patches the text of `name`'s instance `incarnation` (0: whichever runs) at
/// `addr` (`svc::POKE`); the bytes replaced.
pub fn poke(rs: CapIdx, name: &str, incarnation: u64, addr: u64, bytes: &[u8]) -> Result<Vec<u8>, CallError> {
    let malformed = CallError::Server(svc::Error::Malformed);
    if bytes.is_empty() {
        return Err(malformed);
    }
    let bytes = Bytes::new(bytes).map_err(|_| malformed)?;
    let request = svc::Request::Poke { name: svc::Name::truncated(name), incarnation, addr, bytes };
    let tag = ipc::encode_call(&request).map_err(CallError::Ipc)?;
    let r = ipc::call(rs, tag, Timeout::Millis(5000)).map_err(CallError::Ipc)?;
    let words = ipc::received_words(r.tag);
    match status::decode::<svc::Error>(words.word(0)) {
        Ok(_) => {
            let reply = svc::PokeReply::decode(&words).map_err(|_| malformed)?;
            if reply.old.len() != bytes.len() {
                return Err(malformed);
            }
            Ok(reply.old.as_bytes().to_vec())
        }
        Err(svc::Error::Kernel) => Err(rt::Error::from_raw(words.word(1)).err().map_or(malformed, CallError::Kernel)),
        Err(e) => Err(CallError::Server(e)),
    }
}

//! The operator's side of netd's `config` endpoint (`protocols::nicconfig`):
//! read the configuration of the interface's NIC, change one thing, and wait
//! until the driver has applied it.
//!
//! netd answers every call at once; waiting for the driver happens here, by
//! asking again until the generation a change got is applied.

use core::fmt;
use protocols::nicconfig as proto;
pub use protocols::nicconfig::Show;
use protocols::status::{ReplyError, decode_reply};
use rt::sys::message::Word;
use rt::{CapIdx, Timeout, ipc};

/// The gate's name in the environment (task `netd`, endpoint `config`).
pub const ENDPOINT: &str = "netd.config";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The manifest gives this task no `netd.config`.
    NoGate,
    Kernel(rt::Error),
    /// netd refused, and why.
    Refused(proto::Error),
    /// netd's answer does not follow the protocol.
    Protocol,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoGate => write!(f, "no `{ENDPOINT}` capability"),
            ConfigError::Kernel(e) => write!(f, "kernel: {e}"),
            ConfigError::Refused(e) => write!(f, "refused: {e} ({})", protocols::status::ProtocolError::code(*e)),
            ConfigError::Protocol => f.write_str("netd's answer does not make sense"),
        }
    }
}

/// One change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Mtu(u32),
    Mac([u8; 6]),
    Promisc(bool),
    AllMulti(bool),
    McAdd([u8; 6]),
    McDel([u8; 6]),
}

impl Change {
    fn request(self) -> proto::Request {
        let (what, value) = match self {
            Change::Mtu(m) => (proto::MTU, m as u64),
            Change::Mac(m) => (proto::MAC, m.to_word()),
            Change::Promisc(on) => (proto::PROMISC, on as u64),
            Change::AllMulti(on) => (proto::ALLMULTI, on as u64),
            Change::McAdd(m) => (proto::MC_ADD, m.to_word()),
            Change::McDel(m) => (proto::MC_DEL, m.to_word()),
        };
        proto::Request::Set { what, value }
    }
}

/// What netd wants and what the driver reported.
#[derive(Clone, Debug)]
pub struct State {
    pub show: Show,
}

impl State {
    /// netd's multicast list.
    pub fn multicast(&self) -> &[[u8; 6]] {
        self.show.multicast.as_slice()
    }

    /// The driver has applied the configuration netd wants.
    pub fn applied(&self) -> bool {
        self.show.applied >= self.show.generation
    }
}

pub struct NicConfigClient {
    gate: CapIdx,
}

impl NicConfigClient {
    pub fn open() -> Result<NicConfigClient, ConfigError> {
        rt::env::cap(ENDPOINT).map(|gate| NicConfigClient { gate }).ok_or(ConfigError::NoGate)
    }

    /// A call; the words of netd's answer.
    fn call(&self, request: &proto::Request) -> Result<rt::ipc::Words, ConfigError> {
        let tag = ipc::encode_call(request).map_err(ConfigError::Kernel)?;
        let r = ipc::call(self.gate, tag, Timeout::Never).map_err(ConfigError::Kernel)?;
        Ok(ipc::received_words(r.tag))
    }

    pub fn show(&self) -> Result<State, ConfigError> {
        let words = self.call(&proto::Request::Show {})?;
        match decode_reply::<Show, proto::Error>(&words) {
            Ok(show) => Ok(State { show }),
            Err(ReplyError::Refused(e)) => Err(ConfigError::Refused(e)),
            Err(ReplyError::Malformed) => Err(ConfigError::Protocol),
        }
    }

    /// Asks for one change; returns the generation that carries it.
    pub fn set(&self, change: Change) -> Result<u64, ConfigError> {
        let words = self.call(&change.request())?;
        match *words {
            [status] => proto_status(status),
            _ => Err(ConfigError::Protocol),
        }
    }

    /// Asks until the driver has applied `generation` (or a later one), for
    /// at most `ms` milliseconds; the state then, applied or not.
    pub fn wait_applied(&self, generation: u64, ms: u64) -> Result<State, ConfigError> {
        let deadline = rt::time::ticks() + ms;
        loop {
            let s = self.show()?;
            if s.show.applied >= generation || rt::time::ticks() >= deadline {
                return Ok(s);
            }
            rt::time::sleep_ms(20);
        }
    }
}

fn proto_status(w: u64) -> Result<u64, ConfigError> {
    protocols::status::decode(w).map_err(ConfigError::Refused)
}

//! The `config` endpoint (`protocols::nicconfig`): an operator reads and
//! changes the configuration of the interface's NIC.
//!
//! Every call is answered at once, like every netd call. A change is validated
//! (`netring::NicConfig`) and, when it is accepted, published in the NIC's ring
//! header for its driver ([`crate::nic::Nic::change`]); smoltcp follows what
//! the driver then reports (see `stack`). A refused change gets an error word
//! and changes nothing.

use crate::nic::Nics;
use crate::reply::{Reply, Request};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use netring::Mac;
use protocols::nicconfig as proto;
use protocols::status::encode;
use rt::sys::message::Word;

pub struct Operators {
    /// `(task, gate label)` for every client of `config`.
    pub clients: Vec<(String, u64)>,
}

impl Operators {
    pub fn new() -> Operators {
        Operators { clients: boot::clients_of("config") }
    }

    pub fn client_of(&self, label: u64) -> Option<&str> {
        self.clients.iter().find(|(_, l)| *l == label).map(|(n, _)| n.as_str())
    }

    /// Serves one call of `who` for the NIC at `nic` in `nics.list`, if any.
    pub fn handle(&self, who: &str, req: &Request, nics: &mut Nics, nic: Option<usize>) -> Reply {
        let Some(n) = nic.and_then(|i| nics.list.get_mut(i)) else {
            return Reply::word(encode(Err(proto::Error::NoDevice)));
        };
        match req.decode::<proto::Request>() {
            Ok(proto::Request::Show {}) => Reply::typed(&n.show(), &[]),
            Ok(proto::Request::Set { what, value }) => {
                let r = n.change(what, value);
                let thing = Change(what, value);
                match r {
                    Ok(g) => rt::info!("{}: {} by {} (generation {})", n.name, thing, who, g),
                    Err(e) => rt::info!("{}: {} by {} refused: {}", n.name, thing, who, e),
                }
                Reply::word(encode(r.map(u64::from)))
            }
            Err(e) => Reply::word(encode(Err(proto::Error::from(e)))),
        }
    }
}

/// A requested change, for the log.
struct Change(u64, u64);

impl core::fmt::Display for Change {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (what, v) = (self.0, self.1);
        // What the request says, even a word that is no MAC (refused).
        let mac = <[u8; 6]>::from_word(v).map_or_else(|_| format!("{v:#x}"), |m| format!("{}", Mac(m)));
        let on = if v == 1 { "on" } else { "off" };
        match what {
            proto::MTU => write!(f, "mtu {v}"),
            proto::MAC => write!(f, "mac {mac}"),
            proto::PROMISC => write!(f, "promisc {on}"),
            proto::ALLMULTI => write!(f, "allmulti {on}"),
            proto::MC_ADD => write!(f, "multicast add {mac}"),
            proto::MC_DEL => write!(f, "multicast del {mac}"),
            _ => write!(f, "change {what:#x} {v:#x}"),
        }
    }
}

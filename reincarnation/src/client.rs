//! Calls to the reincarnation server's `svc` endpoint, for the shell, httpd
//! and tests. (Not compiled into the host unit tests, which have no kernel.)

use crate::policy::State;
use crate::proto::{self, svc};
use alloc::string::String;
use alloc::vec::Vec;
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

/// The status of the `n`-th service, or `None` past the last.
pub fn status_at(rs: CapIdx, n: u64) -> Option<Status> {
    ipc::mr()[0] = n;
    ipc::call(rs, MsgTag::new(svc::STATUS, 1, 0), Timeout::Millis(2000)).ok()?;
    let mr = ipc::mr();
    if mr[0] == u64::MAX {
        return None;
    }
    let (b, len) = proto::unpack_name(mr[4], &mr[5..9])?;
    let cause_len = (mr[9] as usize).min(320);
    let mut cause = Vec::with_capacity(cause_len);
    for i in 0..cause_len {
        cause.push((mr[10 + i / 8] >> ((i % 8) * 8)) as u8);
    }
    Some(Status {
        name: String::from(core::str::from_utf8(&b[..len]).ok()?),
        state: State::from_code(mr[0]),
        incarnation: mr[1],
        restarts: mr[2],
        failures_in_window: mr[3],
        last_cause: String::from_utf8_lossy(&cause).into_owned(),
    })
}

/// Every supervised driver.
pub fn list(rs: CapIdx) -> Vec<Status> {
    (0..64).map_while(|n| status_at(rs, n)).collect()
}

pub fn status(rs: CapIdx, name: &str) -> Option<Status> {
    list(rs).into_iter().find(|s| s.name == name)
}

/// Sends an operator request (`svc::RESTART`, `KILL`, `DOWN`, `UP`, `INJECT`
/// with the injection kind as `arg`). `Ok(())`, or the server's error code.
pub fn command(rs: CapIdx, op: i64, name: &str, arg: u64) -> Result<(), u64> {
    let mut w = [0u64; 4];
    let n = proto::pack_name(name, &mut w);
    let mr = ipc::mr();
    mr[0] = n as u64;
    mr[1..5].copy_from_slice(&w);
    mr[5] = arg;
    match ipc::call(rs, MsgTag::new(op, 6, 0), Timeout::Millis(5000)) {
        Ok(_) if ipc::mr()[0] == 0 => Ok(()),
        Ok(_) => Err(ipc::mr()[0]),
        Err(_) => Err(svc::ERR_STATE),
    }
}

/// Why a patch ([`poke`]) was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PokeError {
    /// The server answered with this `svc` error code.
    Server(u64),
    /// The kernel refused the patch.
    Kernel(rt::Error),
}

/// Patches the text of `name`'s instance `incarnation` (0: whichever runs) at
/// `addr` (`svc::POKE`); the bytes replaced.
pub fn poke(rs: CapIdx, name: &str, incarnation: u64, addr: u64, bytes: &[u8]) -> Result<Vec<u8>, PokeError> {
    if bytes.is_empty() || bytes.len() > svc::POKE_MAX {
        return Err(PokeError::Server(svc::ERR_UNKNOWN));
    }
    let mut w = [0u64; 4];
    let n = proto::pack_name(name, &mut w);
    let mr = ipc::mr();
    mr[0] = n as u64;
    mr[1..5].copy_from_slice(&w);
    mr[5] = incarnation;
    mr[6] = addr;
    mr[7] = bytes.len() as u64;
    mr[8..8 + svc::POKE_MAX / 8].fill(0);
    for (k, b) in bytes.iter().enumerate() {
        mr[8 + k / 8] |= (*b as u64) << ((k % 8) * 8);
    }
    let words = 8 + bytes.len().div_ceil(8);
    match ipc::call(rs, MsgTag::new(svc::POKE, words, 0), Timeout::Millis(5000)) {
        Ok(_) => {
            let mr = ipc::mr();
            match mr[0] {
                0 => Ok((0..bytes.len()).map(|k| (mr[1 + k / 8] >> ((k % 8) * 8)) as u8).collect()),
                svc::ERR_KERNEL => {
                    Err(PokeError::Kernel(rt::Error::from_raw(mr[1]).err().unwrap_or(rt::Error::InvalidArgument)))
                }
                code => Err(PokeError::Server(code)),
            }
        }
        Err(_) => Err(PokeError::Server(svc::ERR_STATE)),
    }
}

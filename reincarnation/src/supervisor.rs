//! What the reincarnation server does the same way on both kernels: the
//! services it supervises, their restarts by the policy (`reincarnation-core`:
//! at once, then with backoff, held down after too many failures in the
//! window), and the `svc` endpoint. What differs per kernel (how an
//! instance is started and ended, who may use which verb, whether a
//! driver's text can be patched) is the [`Kernel`] each server implements;
//! how it learns of a fault (kernel events on Resurgo's kernel, pager IPC on
//! Fiasco.OC) stays in the server, which reports it with
//! [`Supervisor::failed`].

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use manifest::{SvcGrants, SvcRight};
use protocols::status;
use reincarnation::policy::{Decision, Policy, Service, State};
use reincarnation::proto::{control, svc};
use rt::sys::message::Bytes;
use rt::time::ticks;
use rt::{CapIdx, MsgTag, Timeout, ipc};

/// One supervised service: its record, its running instance and the
/// kernel's own data about it.
pub struct Supervised<K: Kernel> {
    pub svc: Service,
    pub child: Option<K::Child>,
    /// When the current instance was started, and when its predecessor failed.
    pub started: u64,
    pub failed_at: u64,
    pub data: K::Data,
}

impl<K: Kernel> Supervised<K> {
    pub fn new(name: &str, data: K::Data) -> Supervised<K> {
        Supervised { svc: Service::new(name), child: None, started: 0, failed_at: 0, data }
    }
}

/// The part of supervising that each kernel does its own way.
pub trait Kernel: Sized {
    /// A running instance.
    type Child;
    /// What the server keeps per service besides the shared record.
    type Data;
    /// Starts a new instance of service `i` (its incarnation is counted).
    fn spawn(&mut self, i: usize, s: &mut Supervised<Self>) -> Result<Self::Child, String>;
    /// Ends the instance of `s`, if one runs (`s.child` is taken).
    fn end(&mut self, s: &mut Supervised<Self>);
    /// Whether the client behind gate `label` may use `right` on `target`.
    fn permitted(&mut self, label: u64, right: SvcRight, verb: i64, target: &str) -> bool;
    /// The gate to service `i`'s `control` endpoint, for fault injection.
    fn control_of(&self, i: usize, s: &Supervised<Self>) -> Option<CapIdx>;
    /// Patches the text of `child` at `addr` (`svc::POKE`): the bytes
    /// replaced, or `None` when this kernel cannot patch a task.
    fn poke(&self, child: &Self::Child, addr: u64, bytes: &[u8]) -> Option<Result<Vec<u8>, rt::Error>>;
}

/// The class of `svc` verbs a manifest grants for a call (listing needs none).
pub fn right_for(call: i64) -> Option<SvcRight> {
    Some(match call {
        svc::RESTART | svc::UP => SvcRight::Restart,
        svc::KILL | svc::DOWN => SvcRight::Kill,
        svc::INJECT | svc::POKE => SvcRight::Inject,
        svc::COMPLAIN => SvcRight::Complain,
        _ => return None,
    })
}

/// The clients of `svc`, by the labels of their gates (one gate per client,
/// made by init on Resurgo's kernel and by ned's script on Fiasco.OC), with
/// what the manifest lets each do besides listing. Both kernels'
/// [`Kernel::permitted`] ask it.
pub struct SvcClients {
    clients: Vec<(u64, String, SvcGrants)>,
    refusals: u64,
}

impl SvcClients {
    pub fn new(clients: Vec<(u64, String, SvcGrants)>) -> SvcClients {
        SvcClients { clients, refusals: 0 }
    }

    /// Whether the client behind gate `label` may use `right` on `target`;
    /// a refusal is logged (sparingly) with who asked for what.
    pub fn permitted(&mut self, label: u64, right: SvcRight, verb: i64, target: &str) -> bool {
        let client = self.clients.iter().find(|(l, _, _)| *l == label);
        if client.is_some_and(|(_, _, g)| g.allows(right, target)) {
            return true;
        }
        self.refusals += 1;
        if self.refusals <= 20 || self.refusals.is_multiple_of(100) {
            rt::warn!(
                "refused: {} may not {} {} (the manifest grants it no `svc.{}` on it; {} refusals)",
                client.map_or("?", |(_, n, _)| n.as_str()),
                svc::verb_name(verb),
                target,
                right.name(),
                self.refusals
            );
        }
        false
    }
}

pub struct Supervisor<K: Kernel> {
    pub policy: Policy,
    pub services: Vec<Supervised<K>>,
    pub kernel: K,
}

impl<K: Kernel> Supervisor<K> {
    pub fn new(services: Vec<Supervised<K>>, kernel: K) -> Supervisor<K> {
        Supervisor { policy: Policy::default(), services, kernel }
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.svc.name == name)
    }

    /// Per service: whether an instance runs, and its incarnation (for the
    /// heartbeat thread).
    pub fn running(&self) -> Vec<(bool, u64)> {
        self.services.iter().map(|s| (s.child.is_some() && s.svc.state == State::Running, s.svc.incarnation)).collect()
    }

    /// When the next restart after a backoff is due.
    pub fn next_deadline(&self) -> Option<u64> {
        self.services
            .iter()
            .filter_map(|s| match s.svc.state {
                State::Backoff(t) => Some(t),
                _ => None,
            })
            .min()
    }

    /// The receive timeout until the next restart is due.
    pub fn timeout(&self) -> Timeout {
        self.next_deadline()
            .map_or(Timeout::Never, |t| Timeout::Millis(t.saturating_sub(ticks()).clamp(1, u32::MAX as u64 - 1) as u32))
    }

    /// Starts a new instance of service `i`.
    pub fn start(&mut self, i: usize) {
        let now = ticks();
        let s = &mut self.services[i];
        s.svc.incarnation += 1;
        if s.svc.incarnation > 1 {
            s.svc.restarts += 1;
        }
        match self.kernel.spawn(i, s) {
            Ok(child) => {
                s.child = Some(child);
                s.started = now;
                s.svc.state = State::Running;
                if s.svc.incarnation > 1 {
                    rt::info!(
                        "{} incarnation {} started (restart {}, {} ms after the failure; last: {})",
                        s.svc.name,
                        s.svc.incarnation,
                        s.svc.restarts,
                        ticks().saturating_sub(s.failed_at),
                        s.svc.last_cause
                    );
                }
            }
            Err(e) => {
                let cause = format!("cannot load: {e}");
                rt::error!("{}: {}", s.svc.name, cause);
                self.failed(i, cause);
            }
        }
    }

    /// An instance ended badly: record why, and restart by the policy.
    pub fn failed(&mut self, i: usize, cause: String) {
        let now = ticks();
        let s = &mut self.services[i];
        rt::warn!("{} failed: {}", s.svc.name, cause);
        self.kernel.end(s);
        s.failed_at = now;
        s.svc.last_cause = cause;
        match s.svc.failed(now, s.started, &self.policy) {
            Decision::Now => self.start(i),
            Decision::At(t) => {
                rt::warn!("{} failed again: restart in {} ms ({})", s.svc.name, t - now, s.svc.last_cause)
            }
            Decision::HoldDown => rt::error!(
                "{} held down after {} failures: {}",
                s.svc.name,
                s.svc.failures_in_window(),
                s.svc.last_cause
            ),
        }
    }

    /// An instance ended cleanly (a driver that found no device): nothing to
    /// restart.
    pub fn exited(&mut self, i: usize, why: String) {
        let s = &mut self.services[i];
        rt::info!("{} exited: {}", s.svc.name, why);
        self.kernel.end(s);
        s.svc.state = State::Down;
        s.svc.last_cause = format!("exited: {why}");
    }

    /// Restarts the services whose backoff has passed.
    pub fn restart_due(&mut self) {
        let now = ticks();
        for i in 0..self.services.len() {
            if matches!(self.services[i].svc.state, State::Backoff(t) if t <= now) {
                self.start(i);
            }
        }
    }

    /// Takes the heartbeat thread's findings: each instance that did not
    /// answer two pings, if it still runs, has failed; `cause` describes it.
    pub fn hung(&mut self, failures: Vec<(usize, u64)>, cause: impl Fn(&Self, usize) -> String) {
        for (i, incarnation) in failures {
            if self.services.get(i).is_some_and(|s| s.svc.incarnation == incarnation && s.child.is_some()) {
                let cause = cause(self, i);
                self.failed(i, cause);
            }
        }
    }

    /// A message on the `svc` endpoint, through the gate labelled `label`.
    pub fn request(&mut self, label: u64, tag: MsgTag) -> MsgTag {
        let request = match ipc::decode_call::<svc::Request>(tag) {
            Ok(r) => r,
            Err(e) => return answer(Err(e.into())),
        };
        let name = match request {
            svc::Request::Status { n } => return self.status(n),
            _ => request.name().and_then(|n| n.as_str()).unwrap_or(""),
        };
        let Some(right) = right_for(request.label()) else { return answer(Err(svc::Error::UnknownCall)) };
        let Some(i) = self.find(name) else { return answer(Err(svc::Error::NoService)) };
        if !self.kernel.permitted(label, right, request.label(), name) {
            return answer(Err(svc::Error::Denied));
        }
        match request {
            svc::Request::Restart { .. } | svc::Request::Up { .. } => {
                let s = &mut self.services[i];
                self.kernel.end(s);
                s.svc.reset();
                s.failed_at = ticks();
                s.svc.last_cause = "restarted by operator".into();
                self.start(i);
                answer(Ok(()))
            }
            svc::Request::Kill { .. } => {
                // An operator's kill is a failure like any other: the driver comes back.
                if self.services[i].child.is_none() {
                    return answer(Err(svc::Error::State));
                }
                self.failed(i, "killed by operator".into());
                answer(Ok(()))
            }
            svc::Request::Down { .. } => {
                let s = &mut self.services[i];
                self.kernel.end(s);
                s.svc.state = State::Down;
                s.svc.last_cause = "stopped by operator".into();
                rt::info!("{} is down", s.svc.name);
                answer(Ok(()))
            }
            svc::Request::Complain { reason, .. } => {
                let reason = String::from_utf8_lossy(reason.as_bytes()).into_owned();
                if self.services[i].child.is_none() {
                    return answer(Err(svc::Error::State));
                }
                self.failed(i, format!("complaint: {reason}"));
                answer(Ok(()))
            }
            svc::Request::Inject { kind, .. } => {
                let Some(ctl) = self.kernel.control_of(i, &self.services[i]) else {
                    return answer(Err(svc::Error::State));
                };
                let Ok(tag) = ipc::encode_call(&control::Request::Inject { kind }) else {
                    return answer(Err(svc::Error::Malformed));
                };
                // A crash injected "now" kills the driver before it can
                // answer, so it is sent, not called: on Fiasco.OC this
                // server is the driver's pager and must be waiting to hear
                // of the fault, not blocked waiting for an answer.
                if kind == control::INJECT_CRASH_NOW {
                    return answer(ipc::send(ctl, tag, Timeout::Millis(1000)).map_err(|_| svc::Error::State));
                }
                answer(match ipc::call(ctl, tag, Timeout::Millis(1000)) {
                    Ok(m) if m.tag.words() >= 1 => match status::decode::<control::Error>(ipc::mr::<0>()) {
                        Ok(_) => Ok(()),
                        Err(_) => Err(svc::Error::Malformed),
                    },
                    Err(rt::Error::PeerDied) => Ok(()),
                    _ => Err(svc::Error::State),
                })
            }
            svc::Request::Poke { incarnation, addr, bytes, .. } => self.poke(i, incarnation, addr, &bytes),
            svc::Request::Status { .. } => answer(Err(svc::Error::UnknownCall)),
        }
    }

    /// `svc::STATUS` of the `n`-th service.
    fn status(&self, n: u64) -> MsgTag {
        let Some(s) = usize::try_from(n).ok().and_then(|n| self.services.get(n)) else {
            return answer(Err(svc::Error::NoService));
        };
        let reply = svc::StatusReply {
            state: s.svc.state.code(),
            incarnation: s.svc.incarnation,
            restarts: s.svc.restarts,
            failures_in_window: s.svc.failures_in_window() as u64,
            name: svc::Name::truncated(&s.svc.name),
            cause: Bytes::truncated(&s.svc.last_cause),
        };
        match ipc::encode(&reply) {
            Ok(n) => MsgTag::new(0, n, 0),
            Err(_) => answer(Err(svc::Error::Malformed)),
        }
    }

    /// `svc::POKE`: patches the running instance's text (software-implemented
    /// fault injection). The reply carries the bytes replaced.
    fn poke(&self, i: usize, incarnation: u64, addr: u64, bytes: &Bytes<{ svc::POKE_MAX }>) -> MsgTag {
        if bytes.is_empty() {
            return answer(Err(svc::Error::Malformed));
        }
        let s = &self.services[i];
        let Some(child) = s.child.as_ref().filter(|_| incarnation == 0 || incarnation == s.svc.incarnation) else {
            return answer(Err(svc::Error::State));
        };
        match self.kernel.poke(child, addr, bytes.as_bytes()) {
            None => answer(Err(svc::Error::UnknownCall)),
            Some(Ok(old)) => {
                let reply = Bytes::new(&old).map(|old| svc::PokeReply { status: 0, old });
                match reply.and_then(|r| ipc::encode(&r)) {
                    Ok(words) => MsgTag::new(0, words, 0),
                    Err(_) => answer(Err(svc::Error::Malformed)),
                }
            }
            // The kernel's own reason follows the status word.
            Some(Err(e)) => match ipc::write_mrs(0, &[status::encode(Err::<u64, _>(svc::Error::Kernel)), e as u64]) {
                Ok(()) => MsgTag::new(0, 2, 0),
                Err(_) => answer(Err(svc::Error::Kernel)),
            },
        }
    }
}

/// A one-word reply: the status word.
fn answer(r: Result<(), svc::Error>) -> MsgTag {
    ipc::set_mr::<0>(status::encode(r.map(|()| 0)));
    MsgTag::new(0, 1, 0)
}

/// A reply the server built in its message registers, copied out at once:
/// what its loop does before sending it (restarts that are due, kernel
/// chores, the heartbeat board, log lines) uses the registers too. On
/// Fiasco.OC, where the server is its children's region manager, a child
/// once got 0x318 for the address of its new stack's region (the first word
/// of something the server sent in between, most likely) and faulted there.
pub struct Reply {
    tag: MsgTag,
    words: ipc::Words,
}

impl Reply {
    pub fn kept(tag: MsgTag) -> Reply {
        Reply { tag, words: ipc::received(tag.words() + 2 * tag.items()) }
    }

    /// The words back in the registers; the tag to send them with.
    pub fn restore(self) -> MsgTag {
        ipc::compose(|m| {
            m[..self.words.len()].copy_from_slice(&self.words);
            self.tag
        })
    }
}

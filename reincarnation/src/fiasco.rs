//! The reincarnation server on Fiasco.OC: it starts its drivers itself and
//! is their pager.
//!
//! ned hands it, per child `N` (`child.N=NAME` among its arguments): the
//! image (`N.image`, from moe's `rom`), a log of the child's own (`N.log`),
//! every capability the manifest grants the child (`N:NAME`, the child's
//! `vbus`, its client gates, the gates it serves), a gate to the child's
//! `control` endpoint (`N.control`) and the child's arguments (`N/KEY=VALUE`).
//! [`rt::loader::spawn`] creates the task and maps its image, stack and
//! capabilities; the child's pager, exception handler, region manager and
//! parent is a gate of this server labelled for the child, so every fault
//! and exit of the child arrives here as IPC, with its cause and address.
//! Restarts follow the same policy as on Resurgo's kernel
//! (`reincarnation-core`): at once, then with backoff, held down after too
//! many failures in the window; a driver that does not answer two
//! heartbeats is restarted too. The capabilities a new instance gets are
//! the same objects (ned's gates, io's vbus), so its clients keep theirs.

use crate::heartbeat;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use protocols::status;
use reincarnation::policy::{Decision, Policy, Service, State};
use reincarnation::proto::{control, svc};
use reincarnation::symbols::symbolize;
use rt::loader::{Child, Event, Grant, Spawn};
use rt::obj::{Dataspace, Factory, Gate, Thread};
use rt::time::ticks;
use rt::sys::message::Bytes;
use rt::{MsgTag, Rights, Timeout, ipc};

/// Labels of what the main thread receives: a child's pager gate is
/// `PAGER_BASE + index`; heartbeat failures `HEARTBEAT`.
const PAGER_BASE: u64 = 0x1000;
const HEARTBEAT: u64 = 0x2000;
/// The stack of a child's first thread.
const STACK: u64 = 64 << 10;

struct Supervised {
    svc: Service,
    image: &'static [u8],
    log: Option<rt::CapIdx>,
    grants: Vec<(String, rt::CapIdx)>,
    values: Vec<(String, u64)>,
    priority: u8,
    pager: Gate,
    /// The label of the `control` endpoint the child serves this server,
    /// and the gate of the running instance's (see [`Server::start`]).
    control_label: Option<u64>,
    control: Option<Gate>,
    child: Option<Child>,
    started: u64,
    failed_at: u64,
}

struct Server {
    policy: Policy,
    services: Vec<Supervised>,
    pings: Option<&'static heartbeat::Pings>,
}

/// Ends service `s`'s instance, if one runs, and deletes the `control` gate
/// it served: a ping waiting in the gate for the dead instance ends, and
/// the next instance binds a gate no one waits in.
fn end_instance(s: &mut Supervised) {
    if let Some(c) = s.child.take() {
        c.destroy();
    }
    if let Some(g) = s.control.take() {
        rt::obj::release(g.0);
    }
}

/// The image dataspace `cap`, mapped read-only for good.
fn map_image(cap: rt::CapIdx) -> Result<&'static [u8], rt::Error> {
    let ds = Dataspace(cap);
    let size = ds.info()?.size;
    let addr = rt::mem::attach(&ds, size, false)?;
    // SAFETY: the dataspace is mapped read-only at `addr` for `size` bytes and
    // never unmapped; nobody writes it.
    Ok(unsafe { core::slice::from_raw_parts(addr as *const u8, size as usize) })
}

/// The children ned named, in index order, from the arguments and capabilities.
fn children() -> Vec<Supervised> {
    let mut names: Vec<(usize, String)> = rt::env::strings()
        .filter_map(|(k, v)| Some((k.strip_prefix("child.")?.parse().ok()?, v.to_string())))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for (i, name) in names {
        let image = match rt::env::cap(&format!("{i}.image")).ok_or(rt::Error::NoCapability).and_then(map_image) {
            Ok(img) => img,
            Err(e) => {
                rt::error!("{name}: no image to start it from ({e})");
                continue;
            }
        };
        let prefix = format!("{i}:");
        let grants = rt::env::named_caps()
            .filter_map(|(n, c)| Some((n.strip_prefix(prefix.as_str())?.to_string(), c)))
            .collect();
        let vprefix = format!("{i}/");
        let values: Vec<(String, u64)> = rt::env::values()
            .filter_map(|(k, v)| Some((k.strip_prefix(vprefix.as_str())?.to_string(), v)))
            .collect();
        let priority = values.iter().find(|(k, _)| k == "priority").map_or(100, |&(_, v)| v.min(255) as u8);
        let pager = match Factory::own().create_gate(Some(&Thread::own_main()), PAGER_BASE + out.len() as u64) {
            Ok(g) => g,
            Err(e) => rt::exit(1, &format!("no pager gate for {name}: {e}")),
        };
        let me = rt::env::name();
        let control_label = values.iter().find(|(k, _)| *k == format!("control@{me}")).map(|&(_, v)| v);
        out.push(Supervised {
            svc: Service::new(&name),
            control_label,
            control: None,
            image,
            log: rt::env::cap(&format!("{i}.log")),
            grants,
            values,
            priority,
            pager,
            child: None,
            started: 0,
            failed_at: 0,
        });
    }
    out
}

pub fn main() {
    let services = children();
    let targets = services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let period = s.values.iter().find(|(k, _)| k == "heartbeat-ms")?.1;
            Some((rt::env::cap(&format!("{i}.control"))?, period))
        })
        .collect();
    // io serves the drivers' vbus once it has scanned the machine; a driver
    // started before would spend its first heartbeats waiting for it.
    for s in &services {
        if let Some((_, bus)) = s.grants.iter().find(|(n, _)| n == "vbus")
            && rt::loader::wait_for_vbus(*bus, 30_000).is_err()
        {
            rt::warn!("{}: io does not serve its vbus after 30 s", s.svc.name);
        }
    }
    let mut server = Server { policy: Policy::default(), services, pings: None };
    let pings = heartbeat::start(targets, HEARTBEAT);
    server.pings = Some(pings);
    for i in 0..server.services.len() {
        server.start(i);
    }
    rt::info!("supervising {} drivers (their pager on Fiasco.OC)", server.services.len());

    let mut reply: Option<MsgTag> = None;
    loop {
        let timeout = server.next_deadline().map_or(Timeout::Never, |t| {
            Timeout::Millis(t.saturating_sub(ticks()).clamp(1, u32::MAX as u64 - 1) as u32)
        });
        rt::loader::arm();
        let msg = match reply.take() {
            Some(tag) => ipc::reply_and_wait(tag, timeout),
            None => ipc::wait(timeout),
        };
        match msg {
            Err(_) => {}
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label == HEARTBEAT => {
                for (i, incarnation) in pings.take_failures() {
                    if server.services.get(i).is_some_and(|s| s.svc.incarnation == incarnation && s.child.is_some()) {
                        let at = server.services[i].child.as_ref().and_then(Child::first_thread_at);
                        let cause = match at {
                            Some((ip, _)) => format!("no answer to two heartbeats: hung (its first thread at {})", server.place(i, ip)),
                            None => "no answer to two heartbeats: hung".into(),
                        };
                        server.failed(i, cause);
                    }
                }
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) if (PAGER_BASE..HEARTBEAT).contains(&m.label) => {
                reply = server.child_message((m.label - PAGER_BASE) as usize, m.tag);
            }
            Ok(m) => reply = Some(server.request(m.tag)),
        }
        server.restart_due();
        pings.publish(&server.running());
    }
}

impl Server {
    fn running(&self) -> Vec<(bool, u64)> {
        self.services.iter().map(|s| (s.child.is_some() && s.svc.state == State::Running, s.svc.incarnation)).collect()
    }

    fn next_deadline(&self) -> Option<u64> {
        self.services
            .iter()
            .filter_map(|s| match s.svc.state {
                State::Backoff(t) => Some(t),
                _ => None,
            })
            .min()
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.svc.name == name)
    }

    /// Loads a new instance of service `i`.
    fn start(&mut self, i: usize) {
        let now = ticks();
        let s = &mut self.services[i];
        s.svc.incarnation += 1;
        if s.svc.incarnation > 1 {
            s.svc.restarts += 1;
        }
        // The control endpoint the child serves this server is a gate of
        // this server's, new for each instance (see `end_instance`).
        let control_name = s.control_label.map(|l| format!("gate.{l:x}"));
        if control_name.is_some() && s.control.is_none() {
            match Factory::own().create_gate(None, 0) {
                Ok(g) => {
                    s.control = Some(g);
                    if let Some(p) = self.pings {
                        p.set_control(i, g.0);
                    }
                }
                Err(e) => rt::warn!("{}: no control gate of its own ({e}): ned's is used", s.svc.name),
            }
        }
        let grants: Vec<Grant> = s
            .grants
            .iter()
            .map(|(n, c)| {
                let cap = match (&control_name, s.control) {
                    (Some(name), Some(g)) if name == n => g.0,
                    _ => *c,
                };
                Grant { name: n.as_str(), cap, rights: Rights::ALL }
            })
            .collect();
        let mut values: Vec<(&str, u64)> = s.values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        values.push(("incarnation", s.svc.incarnation));
        values.push(("fault-ticks", s.failed_at));
        let spawn = Spawn {
            name: &s.svc.name,
            image: s.image,
            priority: s.priority,
            stack: STACK,
            heap: 0,
            grants: &grants,
            values: &values,
            log: s.log,
            pager: s.pager,
        };
        match rt::loader::spawn(&spawn) {
            Ok(child) => {
                s.child = Some(child);
                s.started = now;
                s.svc.state = State::Running;
                if s.svc.incarnation > 1 {
                    rt::info!(
                        "{} incarnation {} started (restart {}; last: {})",
                        s.svc.name,
                        s.svc.incarnation,
                        s.svc.restarts,
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
    fn failed(&mut self, i: usize, cause: String) {
        let now = ticks();
        let s = &mut self.services[i];
        rt::warn!("{} failed: {}", s.svc.name, cause);
        end_instance(s);
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

    fn restart_due(&mut self) {
        let now = ticks();
        for i in 0..self.services.len() {
            if matches!(self.services[i].svc.state, State::Backoff(t) if t <= now) {
                self.start(i);
            }
        }
    }

    /// `function+offset` for an address in service `i`'s image.
    fn place(&self, i: usize, ip: u64) -> String {
        match symbolize(self.services[i].image, ip) {
            Some((name, off)) => format!("{name}+{off:#x}"),
            None => format!("{ip:#x}"),
        }
    }

    /// A message through child `i`'s pager gate: served, or the end of
    /// the instance. Returns the reply, if one is due.
    fn child_message(&mut self, i: usize, tag: MsgTag) -> Option<MsgTag> {
        let s = self.services.get_mut(i)?;
        let child = s.child.as_mut()?;
        let cause = match child.serve(tag) {
            Event::Reply(t) => return Some(t),
            Event::Exit(0) => {
                rt::info!("{} exited: no device", s.svc.name);
                end_instance(s);
                s.svc.state = State::Down;
                s.svc.last_cause = "exited: 0".into();
                return None;
            }
            Event::Exit(code) => format!("exit {code}"),
            Event::PageFault(pf) => format!(
                "page-fault at {} (ip {:#x}), address {:#x} ({})",
                self.place(i, pf.ip),
                pf.ip,
                pf.addr,
                if pf.write { "write" } else { "read" }
            ),
            Event::Exception(e) => {
                format!("{} at {} (ip {:#x}), sp {:#x}", e.name(), self.place(i, e.ip), e.ip, e.sp)
            }
            Event::Unknown(label) => {
                rt::warn!("{}: a message of protocol {label} through its pager gate, ignored", self.services[i].svc.name);
                return None;
            }
        };
        self.failed(i, cause);
        None
    }

    /// A message on the `svc` endpoint: the operator's verbs (`svc kill`,
    /// `restart`, `down`, `status`, fault injection through the driver's
    /// `control`) as on Resurgo's kernel. Every client
    /// ned gives the gate may use them: the manifest's `svc` grants are not
    /// carried to Fiasco.OC yet.
    fn request(&mut self, tag: MsgTag) -> MsgTag {
        let answer = |r: Result<(), svc::Error>| {
            ipc::set_mr::<0>(status::encode(r.map(|()| 0)));
            MsgTag::new(0, 1, 0)
        };
        let request = match ipc::decode_call::<svc::Request>(tag) {
            Ok(r) => r,
            Err(e) => return answer(Err(e.into())),
        };
        if let svc::Request::Status { n } = request {
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
            return match ipc::encode(&reply) {
                Ok(n) => MsgTag::new(0, n, 0),
                Err(_) => answer(Err(svc::Error::Malformed)),
            };
        }
        let name = request.name().and_then(|n| n.as_str()).unwrap_or("");
        let Some(i) = self.find(name) else { return answer(Err(svc::Error::NoService)) };
        match request {
            svc::Request::Restart { .. } | svc::Request::Up { .. } => {
                let s = &mut self.services[i];
                end_instance(s);
                s.svc.reset();
                s.failed_at = ticks();
                s.svc.last_cause = "restarted by operator".into();
                self.start(i);
                answer(Ok(()))
            }
            svc::Request::Kill { .. } => {
                if self.services[i].child.is_none() {
                    return answer(Err(svc::Error::State));
                }
                self.failed(i, "killed by operator".into());
                answer(Ok(()))
            }
            svc::Request::Down { .. } => {
                let s = &mut self.services[i];
                end_instance(s);
                s.svc.state = State::Down;
                s.svc.last_cause = "stopped by operator".into();
                rt::info!("{} is down", s.svc.name);
                answer(Ok(()))
            }
            svc::Request::Inject { kind, .. } => {
                let ctl = match self.services[i].control {
                    Some(g) => g.0,
                    None => match rt::env::cap(&format!("{i}.control")) {
                        Some(c) => c,
                        None => return answer(Err(svc::Error::State)),
                    },
                };
                let r = ipc::encode_call(&control::Request::Inject { kind })
                    .and_then(|tag| ipc::call(ctl, tag, Timeout::Millis(1000)));
                // A crash injected "now" kills the driver before it can answer.
                answer(match r {
                    Ok(m) if m.tag.words() >= 1 => match status::decode::<control::Error>(ipc::mr::<0>()) {
                        Ok(_) => Ok(()),
                        Err(_) => Err(svc::Error::Malformed),
                    },
                    Err(rt::Error::PeerDied) => Ok(()),
                    _ => Err(svc::Error::State),
                })
            }
            // Not on Fiasco.OC yet: complaints, and patching a driver's text.
            svc::Request::Complain { .. } | svc::Request::Poke { .. } | svc::Request::Status { .. } => {
                answer(Err(svc::Error::UnknownCall))
            }
        }
    }
}

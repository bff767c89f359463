//! The reincarnation server on Resurgo's kernel: parent of every driver task.
//!
//! It starts the tasks the boot manifest declares with `parent =
//! "reincarnation"`, learns of every fault and exit from the kernel (cause,
//! instruction pointer, address, and the function from the image's symbols),
//! pings each driver's `control` endpoint as a heartbeat, takes complaints and
//! operator requests on its `svc` endpoint, and restarts by the policy in
//! `policy.rs`. A restarted driver gets the same capabilities (the gates and IRQ
//! objects belong to init and io and outlive it), so its clients keep theirs.


use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use crate::heartbeat;
use boot::Boot;
use manifest::{SvcGrants, SvcRight};
use protocols::status;
use reincarnation::policy::{Decision, Policy, Service, State};
use reincarnation::proto::{control, svc};
use reincarnation::symbols::symbolize;
use rt::loader::Child;
use rt::obj::{Factory, Irq, Thread};
use rt::sys::event::Cause;
use rt::sys::message::Bytes;
use rt::time::ticks;
use rt::{MsgTag, Timeout, ipc};

/// Labels of the notifications the main thread receives: child events are
/// `EVENT_BASE + index`; heartbeat failures `HEARTBEAT`.
const EVENT_BASE: u64 = 0x1000;
const HEARTBEAT: u64 = 0x2000;

struct Supervised {
    svc: Service,
    image: String,
    child: Option<Child>,
    events: Irq,
    /// When the current instance was started, and when its predecessor failed.
    started: u64,
    failed_at: u64,
}

struct Server {
    boot: Boot,
    policy: Policy,
    services: Vec<Supervised>,
    /// io's `admin` endpoint, to stop a dead driver's device from DMA.
    io_admin: Option<rt::CapIdx>,
    /// The clients of `svc` by the labels of their gates, with what the
    /// manifest lets each do besides listing.
    clients: Vec<(u64, String, SvcGrants)>,
    refusals: u64,
}

pub fn main() {
    let boot = match Boot::open() {
        Ok(b) => b,
        Err(e) => rt::exit(1, &format!("no boot archive: {e}")),
    };
    let me = rt::env::name();
    let names: Vec<(String, String)> = boot.children_of(Some(me)).map(|t| (t.name.clone(), t.image.clone())).collect();
    let mut services = Vec::new();
    for (i, (name, image)) in names.iter().enumerate() {
        let events = Factory::own().create_irq().expect("an event IRQ per child");
        events.attach(&Thread::own_main(), EVENT_BASE + i as u64).expect("attach");
        services.push(Supervised {
            svc: Service::new(name),
            image: image.clone(),
            child: None,
            events,
            started: 0,
            failed_at: 0,
        });
    }
    let io_admin = rt::env::cap("io.admin");
    let clients = boot::clients_of("svc")
        .into_iter()
        .map(|(name, label)| {
            let grants = boot.task(&name).map(|t| t.svc.clone()).unwrap_or_default();
            (label, name, grants)
        })
        .collect();
    let mut server = Server { boot, policy: Policy::default(), services, io_admin, clients, refusals: 0 };
    let targets = names
        .iter()
        .map(|(name, _)| {
            let period = server.boot.task(name)?.values.iter().find(|(k, _)| k == "heartbeat-ms")?.1;
            Some((rt::env::cap(&format!("{name}.control"))?, period))
        })
        .collect();
    let pings = heartbeat::start(targets, HEARTBEAT);
    for i in 0..server.services.len() {
        server.start(i);
    }
    rt::info!("supervising {} drivers", server.services.len());

    let mut reply: Option<MsgTag> = None;
    loop {
        let timeout = server.next_deadline().map_or(Timeout::Never, |t| {
            Timeout::Millis(t.saturating_sub(ticks()).clamp(1, u32::MAX as u64 - 1) as u32)
        });
        let msg = match reply.take() {
            Some(tag) => ipc::reply_and_wait(tag, timeout),
            None => ipc::wait(timeout),
        };
        match msg {
            Err(_) => {}
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label >= EVENT_BASE && m.label < HEARTBEAT => {
                server.child_events((m.label - EVENT_BASE) as usize);
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label == HEARTBEAT => {
                for (i, incarnation) in pings.take_failures() {
                    if server.services.get(i).is_some_and(|s| s.svc.incarnation == incarnation && s.child.is_some()) {
                        server.failed(i, "no answer to two heartbeats: hung".into());
                    }
                }
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) => reply = Some(server.request(m.label, m.tag)),
        }
        server.restart_due();
        pings.publish(&server.running());
    }
}

/// The class of `svc` verbs a manifest grants for a call (listing needs none).
fn right_for(call: i64) -> Option<SvcRight> {
    Some(match call {
        svc::RESTART | svc::UP => SvcRight::Restart,
        svc::KILL | svc::DOWN => SvcRight::Kill,
        svc::INJECT | svc::POKE => SvcRight::Inject,
        svc::COMPLAIN => SvcRight::Complain,
        _ => return None,
    })
}

/// Ends a driver instance, if one runs. Its device stops mastering the bus
/// first (when io is there to ask), while the instance's DMA memory is still
/// its own: a faulted task is stopped, not freed, until it is killed here.
fn end_instance(s: &mut Supervised, io_admin: Option<rt::CapIdx>) {
    let Some(child) = s.child.take() else { return };
    if let Some(io) = io_admin {
        let request = protocols::pci::AdminRequest::Quiesce { name: rt::sys::message::Bytes::truncated(&s.svc.name) };
        match ipc::encode_call(&request).and_then(|tag| ipc::call(io, tag, Timeout::Millis(1000))) {
            // 0, or no device: nothing of its can write to memory.
            Ok(_) => {}
            Err(e) => rt::warn!("{}: io did not quiesce its device: {}", s.svc.name, e),
        }
    }
    let _ = child.task.kill();
    child.destroy();
}

impl Server {
    fn find(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.svc.name == name)
    }

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

    /// Loads a new instance of service `i`.
    fn start(&mut self, i: usize) {
        let now = ticks();
        let s = &mut self.services[i];
        s.svc.incarnation += 1;
        if s.svc.incarnation > 1 {
            s.svc.restarts += 1;
        }
        let extra = [("incarnation".to_string(), s.svc.incarnation), ("fault-ticks".to_string(), s.failed_at)];
        match boot::spawn_child_with(&self.boot, &s.svc.name, Some(s.events), &extra) {
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
        end_instance(s, self.io_admin);
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

    /// The kernel reported events of a child.
    fn child_events(&mut self, i: usize) {
        let Some(s) = self.services.get(i) else { return };
        let Some(child) = s.child else { return };
        while let Ok(info) = child.task.next_event() {
            let Some(ev) = info.event else { break };
            if ev.cause == Cause::Runaway {
                // The kernel saw one of its threads compute for `code` ms above
                // the default priority without waiting: an interrupt handler
                // that spins, found before the heartbeats would be.
                let cause = format!("a thread ran {} ms at priority {} without waiting: hung", ev.code, ev.addr);
                self.failed(i, cause);
                return;
            }
            if !ev.cause.stops_task() {
                let s = &self.services[i];
                rt::warn!(
                    "{} was refused something it was not granted: {} at {:#x}",
                    s.svc.name,
                    ev.cause.name(),
                    ev.addr
                );
                continue;
            }
            let place = self.place(i, ev.ip);
            let cause = match ev.cause {
                Cause::Exit if ev.code == 0 => {
                    // A clean exit (no device): nothing to restart.
                    let s = &mut self.services[i];
                    rt::info!("{} exited: {}", s.svc.name, info.reason());
                    if let Some(child) = s.child.take() {
                        child.destroy();
                    }
                    s.svc.state = State::Down;
                    s.svc.last_cause = format!("exited: {}", info.reason());
                    return;
                }
                Cause::Exit => format!("exit {} at {}: {}", ev.code, place, info.reason()),
                Cause::Killed => "killed".into(),
                Cause::DmaFault => {
                    // Its device, not its code: the IOMMU blocked a DMA request.
                    let f = rt::sys::event::DmaFault::from_code(ev.code);
                    format!(
                        "dma-fault: device {} {} at I/O address {:#x} blocked by the IOMMU (VT-d reason {:#x})",
                        f,
                        f.access(),
                        ev.addr,
                        f.reason
                    )
                }
                c => format!("{} at {} (ip {:#x}), address {:#x}", c.name(), place, ev.ip, ev.addr),
            };
            self.failed(i, cause);
            return;
        }
    }

    /// `function+offset` for an address in service `i`'s image.
    fn place(&self, i: usize, ip: u64) -> String {
        let image = self.boot.image(&self.services[i].image).ok();
        match image.and_then(|img| symbolize(img, ip)) {
            Some((name, off)) => format!("{name}+{off:#x}"),
            None => format!("{ip:#x}"),
        }
    }

    /// Whether the client behind gate `label` may use `right` on `target`;
    /// a refusal is logged (sparingly) with who asked for what.
    fn permitted(&mut self, label: u64, right: SvcRight, verb: i64, target: &str) -> bool {
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

    /// A message on the `svc` endpoint, through the gate labelled `label`.
    fn request(&mut self, label: u64, tag: MsgTag) -> MsgTag {
        let answer = |r: Result<(), svc::Error>| {
            ipc::set_mr::<0>(status::encode(r.map(|()| 0)));
            MsgTag::new(0, 1, 0)
        };
        let request = match ipc::decode_call::<svc::Request>(tag) {
            Ok(r) => r,
            Err(e) => return answer(Err(e.into())),
        };
        let name = match request {
            svc::Request::Status { n } => {
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
            _ => request.name().and_then(|n| n.as_str()).unwrap_or(""),
        };
        let Some(right) = right_for(request.label()) else { return answer(Err(svc::Error::UnknownCall)) };
        let Some(i) = self.find(name) else { return answer(Err(svc::Error::NoService)) };
        if !self.permitted(label, right, request.label(), name) {
            return answer(Err(svc::Error::Denied));
        }
        match request {
            svc::Request::Restart { .. } | svc::Request::Up { .. } => {
                let s = &mut self.services[i];
                end_instance(s, self.io_admin);
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
                end_instance(s, self.io_admin);
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
                let Some(ctl) = rt::env::cap(&format!("{name}.control")) else { return answer(Err(svc::Error::State)) };
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
            svc::Request::Poke { incarnation, addr, bytes, .. } => self.poke(i, incarnation, addr, &bytes),
            svc::Request::Status { .. } => answer(Err(svc::Error::UnknownCall)),
        }
    }

    /// `svc::POKE`: patches the running instance's text (software-implemented
    /// fault injection), through the debugging right the kernel put on this
    /// server's capability to the task. The reply carries the bytes replaced.
    fn poke(&self, i: usize, incarnation: u64, addr: u64, bytes: &Bytes<{ svc::POKE_MAX }>) -> MsgTag {
        let refused = |words: &[u64]| match ipc::write_mrs(0, words) {
            Ok(()) => MsgTag::new(0, words.len(), 0),
            Err(_) => MsgTag::new(0, 0, 0),
        };
        let error = |e: svc::Error| status::encode(Err(e));
        if bytes.is_empty() {
            return refused(&[error(svc::Error::Malformed)]);
        }
        let s = &self.services[i];
        let Some(child) = s.child.as_ref().filter(|_| incarnation == 0 || incarnation == s.svc.incarnation) else {
            return refused(&[error(svc::Error::State)]);
        };
        match child.task.poke(addr, bytes.as_bytes()) {
            Ok((old, n)) => {
                let reply = Bytes::new(&old[..n]).map(|old| svc::PokeReply { status: 0, old });
                match reply.and_then(|r| ipc::encode(&r)) {
                    Ok(words) => MsgTag::new(0, words, 0),
                    Err(_) => refused(&[error(svc::Error::Malformed)]),
                }
            }
            Err(e) => refused(&[error(svc::Error::Kernel), e as u64]),
        }
    }
}

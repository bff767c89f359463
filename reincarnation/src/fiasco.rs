//! The reincarnation server on Fiasco.OC: it starts its drivers itself and
//! is their pager.
//!
//! ned hands it, per child `N` (`child.N=NAME` among its arguments): the
//! image (`N.image`, from moe's `rom`), a log of the child's own (`N.log`),
//! every capability the manifest grants the child (`N:NAME`, the child's
//! `vbus`, its client gates, the gates it serves; `N:~K` with the name in
//! the argument `N~K=NAME` when `N:NAME` is longer than L4Re's 16 bytes), a gate to the child's
//! `control` endpoint (`N.control`) and the child's arguments (`N/KEY=VALUE`).
//! [`rt::loader::spawn`] creates the task and maps its image, stack and
//! capabilities; the child's pager, exception handler, region manager and
//! parent is a gate of this server labelled for the child, so every fault
//! and exit of the child arrives here as IPC, with its cause and address.
//! Restarts follow the same policy as on Resurgo's kernel
//! (`reincarnation-core`, through `supervisor.rs`): at once, then with backoff, held down after too
//! many failures in the window; a driver that does not answer two
//! heartbeats is restarted too. The capabilities a new instance gets are
//! the same objects (ned's gates, io's vbus), so its clients keep theirs.

use crate::heartbeat;
use crate::supervisor::{Kernel, Reply, SvcClients, Supervised, Supervisor};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use manifest::{SvcGrants, SvcRight};
use reincarnation::policy::State;
use reincarnation::symbols::symbolize;
use rt::loader::{Child, Event, Grant, Prepared, Spawn};
use rt::obj::{Dataspace, Factory, Gate, Thread};
use rt::{MsgTag, Rights, ipc};

/// Labels of what the main thread receives: a child's pager gate is
/// `PAGER_BASE + index`; heartbeat failures `HEARTBEAT`.
const PAGER_BASE: u64 = 0x1000;
const HEARTBEAT: u64 = 0x2000;
/// The stack of a child's first thread.
const STACK: u64 = 64 << 10;
/// How long after a failure or a start the server does its chores (see
/// [`Fiasco::chores`]): late enough that the new instance has probed and
/// moved its first frame (about 150 ms), whose page faults this server
/// serves.
const CHORES_AFTER_MS: u64 = 400;
/// How often the server reads the time its drivers' threads consumed, and
/// how many periods in a row a thread of a driver above the default
/// priority may run 90 % of before it is a runaway and its driver hung:
/// what Resurgo's kernel reports of a thread that ran `HANG_TICKS` (2 s)
/// without waiting, which Fiasco.OC does not watch for.
const WATCH_MS: u64 = 200;
const RUNAWAY_PERIODS: u32 = 10;

/// What the server keeps per service on Fiasco.OC: what ned handed it to
/// start the child from.
struct Data {
    image: &'static [u8],
    log: Option<rt::CapIdx>,
    grants: Vec<(String, rt::CapIdx)>,
    values: Vec<(String, u64)>,
    priority: u8,
    /// What the child may take for itself (its manifest's `memory` and
    /// `threads`): its factory's quota, and the allocator all its
    /// instances take memory from (twice `memory`: an instance and the one
    /// before it, whose memory goes back when the chores delete it).
    memory: u64,
    threads: u32,
    mem_alloc: rt::CapIdx,
    pager: Gate,
    /// The label of the `control` endpoint the child serves this server,
    /// and the gate of the running instance's (see [`Fiasco::spawn`]).
    control_label: Option<u64>,
    control: Option<Gate>,
    /// The image's segments copied for the next instance, ahead of its start.
    next: Option<Prepared>,
    /// The running instance's threads at the last watch (see [`watch`]).
    samples: Vec<Sample>,
}

/// Supervising on Fiasco.OC: this server creates the tasks and pages them.
struct Fiasco {
    pings: Option<&'static heartbeat::Pings>,
    /// The clients of `svc`, with what the manifest lets each do.
    clients: SvcClients,
    /// The manifest's `debug = true`: it may patch its children's text.
    debug: bool,
    /// The manifest's `io.admin`: a dead driver's device stops mastering
    /// the bus (`io-admin=1`), through the vbus this server holds to hand
    /// on to the driver's next instance.
    quiesce: bool,
    /// Ended instances whose task and memory are still to go (see `end`).
    graveyard: Vec<Child>,
    /// When [`Fiasco::chores`] are due (ticks).
    chores_at: Option<u64>,
    /// When the threads were last watched, and when next (ticks).
    watched_at: u64,
    watch_at: u64,
}

type Server = Supervisor<Fiasco>;

impl Fiasco {
    /// Schedules the chores, unless they are due already.
    fn chores_soon(&mut self) {
        self.chores_at.get_or_insert(rt::time::ticks() + CHORES_AFTER_MS);
    }

    /// Milliseconds until the chores are due, if they are pending.
    fn chores_in(&self) -> Option<u64> {
        self.chores_at.map(|t| t.saturating_sub(rt::time::ticks()))
    }

    /// What a restart need not wait for, done when nothing waits for it:
    /// the ended instances are deleted with their memory, and each service
    /// that runs or waits to be restarted gets a copy of its image's
    /// segments for its next instance, if it has none (one that cannot be
    /// made is made at the restart instead; a service that is down, held
    /// down or has no device gets its copy when it is brought up).
    fn chores(&mut self, services: &mut [Supervised<Fiasco>]) {
        if self.chores_at.is_none_or(|t| t > rt::time::ticks()) {
            return;
        }
        self.chores_at = None;
        for c in self.graveyard.drain(..) {
            c.destroy();
        }
        let restartable = |s: &Supervised<Fiasco>| matches!(s.svc.state, State::Running | State::Backoff(_));
        for s in services.iter_mut().filter(|s| s.data.next.is_none() && restartable(s)) {
            match rt::loader::prepare(s.data.image) {
                Ok(p) => s.data.next = Some(p),
                Err(e) => rt::warn!("{}: its next instance's image cannot be copied ahead: {}", s.svc.name, e),
            }
        }
    }
}

impl Kernel for Fiasco {
    type Child = Child;
    type Data = Data;

    fn spawn(&mut self, i: usize, s: &mut Supervised<Fiasco>) -> Result<Child, String> {
        let d = &mut s.data;
        // The control endpoint the child serves this server is a gate of
        // this server's, new for each instance (see `end`).
        let control_name = d.control_label.map(|l| format!("gate.{l:x}"));
        if control_name.is_some() && d.control.is_none() {
            match Factory::own().create_gate(None, 0) {
                Ok(g) => {
                    d.control = Some(g);
                    if let Some(p) = self.pings {
                        p.set_control(i, g.0);
                    }
                }
                Err(e) => rt::warn!("{}: no control gate of its own ({e}): ned's is used", s.svc.name),
            }
        }
        let grants: Vec<Grant> = d
            .grants
            .iter()
            .map(|(n, c)| {
                let cap = match (&control_name, d.control) {
                    (Some(name), Some(g)) if name == n => g.0,
                    _ => *c,
                };
                Grant { name: n.as_str(), cap, rights: Rights::ALL }
            })
            .collect();
        let mut values: Vec<(&str, u64)> = d.values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        values.push(("incarnation", s.svc.incarnation));
        values.push(("fault-ticks", s.failed_at));
        // It tells this server of every thread it starts, so that `watch`
        // sees them all.
        values.push(("announce-threads", 1));
        d.samples.clear();
        let spawn = Spawn {
            name: &s.svc.name,
            image: d.image,
            priority: d.priority,
            stack: STACK,
            heap: 0,
            grants: &grants,
            values: &values,
            log: d.log,
            pager: d.pager,
            mem_alloc: d.mem_alloc,
            memory: d.memory,
            threads: d.threads,
        };
        let child = match d.next.take() {
            Some(prepared) => rt::loader::spawn_prepared(&spawn, prepared),
            None => rt::loader::spawn(&spawn),
        };
        // The copy for the instance after this one is made later.
        self.chores_soon();
        child.map_err(|e| e.to_string())
    }

    /// Ends the instance, if one runs, and deletes the `control` gate it
    /// served: a ping waiting in the gate for the dead instance ends, and the
    /// next instance binds a gate no one waits in.
    ///
    /// Its threads stop first, so that nothing of it runs on (on Resurgo's
    /// kernel a failed task no longer runs at all): a dying instance left
    /// running would hand netd's frames to a device being stopped, and they
    /// would be lost. With `io.admin` its device then stops mastering the
    /// bus, while the dead instance's DMA memory is still mapped: a stopped
    /// task's memory goes back to moe only when `destroy` deletes the task.
    /// That is left to the chores, after the next instance has started: the
    /// deletion was a quarter of what a restart took.
    fn end(&mut self, s: &mut Supervised<Fiasco>) {
        if let Some(mut c) = s.child.take() {
            c.stop();
            if self.quiesce {
                quiesce(s);
            }
            self.graveyard.push(c);
            self.chores_soon();
        }
        if let Some(g) = s.data.control.take() {
            rt::obj::release(g.0);
        }
    }

    /// As on Resurgo's kernel: each client calls through a gate of its own
    /// (ned's script makes one per client, labelled for it), and may use
    /// only the verbs its manifest entry grants.
    fn permitted(&mut self, label: u64, right: SvcRight, verb: i64, target: &str) -> bool {
        self.clients.permitted(label, right, verb, target)
    }

    fn control_of(&self, i: usize, s: &Supervised<Fiasco>) -> Option<rt::CapIdx> {
        s.data.control.map(|g| g.0).or_else(|| rt::env::cap(&format!("{i}.control")))
    }

    /// Patches the child's text through this server's own mapping of it
    /// (it loaded the image), when the manifest gives it `debug = true`
    /// (ned's `debug=1`); refused `denied` otherwise, as by Resurgo's kernel
    /// without the debugging right.
    fn poke(&self, child: &Child, addr: u64, bytes: &[u8]) -> Option<Result<Vec<u8>, rt::Error>> {
        if !self.debug {
            return Some(Err(rt::Error::Denied));
        }
        Some(child.poke(addr, bytes))
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

/// The clients of `svc`: ned's script passes each client's gate label
/// (`svc@CLIENT=LABEL`, as init does on Resurgo's kernel) and its grants,
/// one argument per class of verbs that lists targets
/// (`svc.kill@CLIENT=eth-8139cp,eth-e1000`, `*` for all).
fn svc_clients() -> Vec<(u64, String, SvcGrants)> {
    boot::clients_of("svc")
        .into_iter()
        .map(|(name, label)| {
            let mut grants = SvcGrants::default();
            for right in SvcRight::ALL {
                let key = format!("svc.{}@{name}", right.name());
                let targets: Vec<String> = rt::env::strings()
                    .filter(|(k, _)| *k == key)
                    .flat_map(|(_, v)| v.split(',').filter(|t| !t.is_empty()).map(String::from))
                    .collect();
                match right {
                    SvcRight::Restart => grants.restart = targets,
                    SvcRight::Kill => grants.kill = targets,
                    SvcRight::Inject => grants.inject = targets,
                    SvcRight::Complain => grants.complain = targets,
                }
            }
            (label, name, grants)
        })
        .collect()
}

/// The children ned named, in index order, from the arguments and capabilities.
fn children() -> Vec<Supervised<Fiasco>> {
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
        // A name too long for L4Re with its `N:` came as `N:~K`, the name
        // itself as the argument `N~K=NAME`.
        let prefix = format!("{i}:");
        let grants = rt::env::named_caps()
            .filter_map(|(n, c)| {
                let n = n.strip_prefix(prefix.as_str())?;
                let name = match n.strip_prefix('~') {
                    Some(k) => rt::env::strings().find(|(key, _)| *key == format!("{i}~{k}"))?.1,
                    None => n,
                };
                Some((name.to_string(), c))
            })
            .collect();
        let vprefix = format!("{i}/");
        let values: Vec<(String, u64)> = rt::env::values()
            .filter_map(|(k, v)| Some((k.strip_prefix(vprefix.as_str())?.to_string(), v)))
            .collect();
        let value = |key: &str| values.iter().find(|(k, _)| k == key).map(|&(_, v)| v);
        let priority = value("priority").map_or(100, |v| v.min(255) as u8);
        let (Some(memory), Some(threads)) = (value("memory"), value("threads")) else {
            rt::error!("{name}: ned gave no memory or thread quota for it: not started");
            continue;
        };
        let threads = threads.min(u64::from(u32::MAX)) as u32;
        let mem_alloc = match rt::loader::allocator(memory.saturating_mul(2)) {
            Ok(a) => a,
            Err(e) => {
                rt::error!("{name}: no memory allocator for it ({e}): not started");
                continue;
            }
        };
        let pager = match Factory::own().create_gate(Some(&Thread::own_main()), PAGER_BASE + out.len() as u64) {
            Ok(g) => g,
            Err(e) => rt::exit(1, &format!("no pager gate for {name}: {e}")),
        };
        let me = rt::env::name();
        let control_label = values.iter().find(|(k, _)| *k == format!("control@{me}")).map(|&(_, v)| v);
        let data = Data {
            control_label,
            control: None,
            next: None,
            samples: Vec::new(),
            image,
            log: rt::env::cap(&format!("{i}.log")),
            grants,
            values,
            priority,
            memory,
            threads,
            mem_alloc,
            pager,
        };
        out.push(Supervised::new(&name, data));
    }
    out
}

pub fn main() {
    let services = children();
    let targets = services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let period = s.data.values.iter().find(|(k, _)| k == "heartbeat-ms")?.1;
            Some((rt::env::cap(&format!("{i}.control"))?, period))
        })
        .collect();
    // io serves the drivers' vbus once it has scanned the machine; a driver
    // started before would spend its first heartbeats waiting for it.
    for s in &services {
        if let Some((_, bus)) = s.data.grants.iter().find(|(n, _)| n == "vbus")
            && rt::loader::wait_for_vbus(*bus, 30_000).is_err()
        {
            rt::warn!("{}: io does not serve its vbus after 30 s", s.svc.name);
        }
    }
    let clients = svc_clients();
    let svc_count = clients.len();
    let mut server = Server::new(services, Fiasco { pings: None, clients: SvcClients::new(clients), debug: rt::env::value("debug") == Some(1),
        quiesce: rt::env::value("io-admin") == Some(1),
        graveyard: Vec::new(),
        chores_at: None,
        watched_at: rt::time::ticks(),
        watch_at: rt::time::ticks() + WATCH_MS,
    });
    let pings = heartbeat::start(targets, HEARTBEAT);
    server.kernel.pings = Some(pings);
    for i in 0..server.services.len() {
        server.start(i);
    }
    rt::info!(
        "supervising {} drivers (their pager on Fiasco.OC); {} svc clients",
        server.services.len(),
        svc_count
    );

    let mut reply: Option<Reply> = None;
    loop {
        // The chores and the watch are due at the latest this many ms from now.
        let watch_in = server.kernel.watch_at.saturating_sub(rt::time::ticks());
        let due = server.kernel.chores_in().map_or(watch_in, |c| c.min(watch_in)).clamp(1, u32::MAX as u64) as u32;
        let timeout = match server.timeout() {
            rt::Timeout::Zero => rt::Timeout::Zero,
            rt::Timeout::Millis(a) => rt::Timeout::Millis(a.min(due)),
            rt::Timeout::Never => rt::Timeout::Millis(due),
        };
        rt::loader::arm();
        let msg = match reply.take() {
            Some(r) => ipc::reply_and_wait(r.restore(), timeout),
            None => ipc::wait(timeout),
        };
        match msg {
            Err(_) => {}
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label == HEARTBEAT => {
                server.hung(pings.take_failures(), |server, i| {
                    match server.services[i].child.as_ref().and_then(Child::first_thread_at) {
                        Some((ip, _)) => {
                            format!("no answer to two heartbeats: hung (its first thread at {})", place(server, i, ip))
                        }
                        None => "no answer to two heartbeats: hung".into(),
                    }
                });
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) if (PAGER_BASE..HEARTBEAT).contains(&m.label) => {
                reply = child_message(&mut server, (m.label - PAGER_BASE) as usize, m.tag).map(Reply::kept);
            }
            Ok(m) => reply = Some(Reply::kept(server.request(m.label, m.tag))),
        }
        watch(&mut server);
        server.restart_due();
        server.kernel.chores(&mut server.services);
        pings.publish(&server.running());
    }
}

/// A thread of a running instance as [`watch`] last saw it.
struct Sample {
    thread: Thread,
    /// Microseconds it had run.
    used: u64,
    /// Periods in a row it ran 90 % or more of.
    busy: u32,
}

/// Every [`WATCH_MS`]: reads the time each thread of each running driver
/// above the default priority consumed (its first thread and those it told
/// of), and fails the driver as hung when one ran 90 % or more of
/// [`RUNAWAY_PERIODS`] periods in a row. Such a thread starves whatever
/// shares or is below its level (netd, the shell) while the driver's first
/// thread may still answer the heartbeats.
fn watch(server: &mut Server) {
    let now = rt::time::ticks();
    if now < server.kernel.watch_at {
        return;
    }
    let elapsed_us = now.saturating_sub(server.kernel.watched_at).max(1) * 1000;
    server.kernel.watched_at = now;
    server.kernel.watch_at = now + WATCH_MS;
    let mut runaways = Vec::new();
    for (i, s) in server.services.iter_mut().enumerate() {
        let Some(child) = s.child.as_ref() else { continue };
        if s.data.priority <= rt::sys::proto::thread::DEFAULT_PRIORITY {
            continue;
        }
        let mut samples = Vec::new();
        let mut runaway = None;
        for thread in child.threads() {
            let Ok(used) = thread.consumed_us() else { continue };
            let last = s.data.samples.iter().find(|x| x.thread == thread);
            let (before, busy) = last.map_or((used, 0), |x| (x.used, x.busy));
            let ran = used.saturating_sub(before).saturating_mul(10);
            let busy = if ran >= elapsed_us * 9 { busy + 1 } else { 0 };
            if busy >= RUNAWAY_PERIODS && runaway.is_none() {
                runaway = Some(thread);
            }
            samples.push(Sample { thread, used, busy });
        }
        s.data.samples = samples;
        if let Some(t) = runaway {
            runaways.push((i, t));
        }
    }
    for (i, t) in runaways {
        let at = Child::thread_at(t).map_or(String::new(), |(ip, _)| format!(" (at {})", place(server, i, ip)));
        let ms = RUNAWAY_PERIODS as u64 * WATCH_MS;
        server.failed(i, format!("a thread ran 90 % or more of the last {ms} ms without waiting: hung{at}"));
    }
}

/// Switches bus mastering off for the device of `s`: the first PCI device on
/// its vbus that its `pci.N` ids match, as the driver's own `open` picks it.
/// A driver without a vbus has no device to stop.
fn quiesce(s: &Supervised<Fiasco>) {
    let Some(&(_, bus)) = s.data.grants.iter().find(|(n, _)| n == "vbus") else { return };
    let ids: Vec<u32> =
        s.data.values.iter().filter(|(k, _)| k.strip_prefix("pci.").is_some_and(|n| n.parse::<u8>().is_ok())).map(|&(_, v)| v as u32).collect();
    match rt::device::stop_bus_mastering(bus, &ids) {
        Ok(true) => rt::info!("{}: its device's bus mastering is off until a driver enables it again", s.svc.name),
        Ok(false) | Err(rt::device::DeviceError::NoDevice) => {}
        Err(e) => rt::warn!("{}: its device's bus mastering could not be switched off: {}", s.svc.name, e),
    }
}

/// `function+offset` for an address in service `i`'s image.
fn place(server: &Server, i: usize, ip: u64) -> String {
    match symbolize(server.services[i].data.image, ip) {
        Some((name, off)) => format!("{name}+{off:#x}"),
        None => format!("{ip:#x}"),
    }
}

/// A message through child `i`'s pager gate: served, or the end of the
/// instance. Returns the reply, if one is due.
fn child_message(server: &mut Server, i: usize, tag: MsgTag) -> Option<MsgTag> {
    let child = server.services.get_mut(i)?.child.as_mut()?;
    let cause = match child.serve(tag) {
        Event::Reply(t) => return Some(t),
        Event::Exit(0) => {
            server.exited(i, "no device".into());
            return None;
        }
        Event::Exit(code) => format!("exit {code}"),
        Event::PageFault(pf) => format!(
            "page-fault at {} (ip {:#x}), address {:#x} ({})",
            place(server, i, pf.ip),
            pf.ip,
            pf.addr,
            if pf.write { "write" } else { "read" }
        ),
        Event::Exception(e) => format!("{} at {} (ip {:#x}), sp {:#x}", e.name(), place(server, i, e.ip), e.ip, e.sp),
        Event::Unknown(label) => {
            rt::warn!("{}: a message of protocol {label} through its pager gate, ignored", server.services[i].svc.name);
            return None;
        }
    };
    server.failed(i, cause);
    None
}

//! The reincarnation server on Resurgo's kernel: parent of every driver task.
//!
//! It starts the tasks the boot manifest declares with `parent =
//! "reincarnation"`, learns of every fault and exit from the kernel (cause,
//! instruction pointer, address, and the function from the image's symbols),
//! pings each driver's `control` endpoint as a heartbeat, takes complaints and
//! operator requests on its `svc` endpoint, and restarts by the policy in
//! `policy.rs` (the shared part in `supervisor.rs`). A restarted driver gets the same capabilities (the gates and IRQ
//! objects belong to init and io and outlive it), so its clients keep theirs.


use crate::heartbeat;
use crate::supervisor::{Kernel, Reply, SvcClients, Supervised, Supervisor};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use boot::Boot;
use manifest::SvcRight;
use reincarnation::symbols::symbolize;
use rt::loader::Child;
use rt::obj::{Factory, Irq, Thread};
use rt::sys::event::Cause;
use rt::ipc;

/// Labels of the notifications the main thread receives: child events are
/// `EVENT_BASE + index`; heartbeat failures `HEARTBEAT`.
const EVENT_BASE: u64 = 0x1000;
const HEARTBEAT: u64 = 0x2000;

/// What the server keeps per service on Resurgo's kernel.
struct Data {
    image: String,
    /// The IRQ the kernel reports the instance's events through.
    events: Irq,
    /// The driver's firmware files (a ustar archive, granted read-only as
    /// `firmware`), copied out of the boot archive before its first start and
    /// kept for every restart; `None` for a task without any.
    firmware: Option<rt::obj::Dataspace>,
}

/// A copy of the driver's firmware archive (the boot archive's
/// `firmware/DRIVER.tar`), in a dataspace of its own.
fn firmware_of(boot: &Boot, task: &str) -> Option<rt::obj::Dataspace> {
    let driver = boot.task(task)?.driver.as_deref()?;
    let files = boot.image(&manifest::driver::firmware_member(driver)).ok()?;
    let region = match rt::mem::alloc(files.len() as u64, false) {
        Ok(r) => r,
        Err(e) => {
            rt::warn!("{}: no memory for its firmware ({} KiB): {}", task, files.len().div_ceil(1024), e);
            return None;
        }
    };
    // SAFETY: the region is fresh RAM mapped writable for its size, which is
    // at least `files.len()`.
    unsafe { core::ptr::copy_nonoverlapping(files.as_ptr(), region.as_mut_ptr(), files.len()) };
    let ds = region.ds;
    // The server keeps the dataspace, not the mapping.
    let _ = rt::mem::detach(region.addr, region.size);
    rt::info!("{}: {} bytes of firmware for {}", task, files.len(), driver);
    Some(ds)
}

/// Supervising on Resurgo's kernel: children from the boot archive, their
/// grants from the manifest.
struct Resurgo {
    boot: Boot,
    /// io's `admin` endpoint, to stop a dead driver's device from DMA.
    io_admin: Option<rt::CapIdx>,
    /// The clients of `svc`, with what the manifest lets each do.
    clients: SvcClients,
}

type Server = Supervisor<Resurgo>;

impl Kernel for Resurgo {
    type Child = Child;
    type Data = Data;

    fn spawn(&mut self, _i: usize, s: &mut Supervised<Resurgo>) -> Result<Child, String> {
        let extra = [("incarnation".to_string(), s.svc.incarnation), ("fault-ticks".to_string(), s.failed_at)];
        let caps: Vec<boot::NamedCap> = s
            .data
            .firmware
            .iter()
            .map(|ds| boot::NamedCap { name: "firmware".into(), cap: ds.0, rights: rt::Rights::READ })
            .collect();
        boot::spawn_child_granted(&self.boot, &s.svc.name, Some(s.data.events), &extra, &caps)
            .map_err(|e| e.to_string())
    }

    /// Ends a driver instance, if one runs. Its device stops mastering the bus
    /// first (when io is there to ask), while the instance's DMA memory is
    /// still its own: a faulted task is stopped, not freed, until it is killed
    /// here.
    fn end(&mut self, s: &mut Supervised<Resurgo>) {
        let Some(child) = s.child.take() else { return };
        if let Some(io) = self.io_admin {
            let request = protocols::pci::AdminRequest::Quiesce { name: rt::sys::message::Bytes::truncated(&s.svc.name) };
            match ipc::encode_call(&request).and_then(|tag| ipc::call(io, tag, rt::Timeout::Millis(1000))) {
                // 0, or no device: nothing of its can write to memory.
                Ok(_) => {}
                Err(e) => rt::warn!("{}: io did not quiesce its device: {}", s.svc.name, e),
            }
        }
        let _ = child.task.kill();
        child.destroy();
    }

    fn permitted(&mut self, label: u64, right: SvcRight, verb: i64, target: &str) -> bool {
        self.clients.permitted(label, right, verb, target)
    }

    fn control_of(&self, _i: usize, s: &Supervised<Resurgo>) -> Option<rt::CapIdx> {
        rt::env::cap(&format!("{}.control", s.svc.name))
    }

    /// Through the debugging right the kernel put on this server's capability
    /// to the task.
    fn poke(&self, child: &Child, addr: u64, bytes: &[u8]) -> Option<Result<Vec<u8>, rt::Error>> {
        Some(child.task.poke(addr, bytes).map(|(old, n)| old[..n].to_vec()))
    }
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
        let firmware = firmware_of(&boot, name);
        services.push(Supervised::new(name, Data { image: image.clone(), events, firmware }));
    }
    let io_admin = rt::env::cap("io.admin");
    let clients = boot::clients_of("svc")
        .into_iter()
        .map(|(name, label)| {
            let grants = boot.task(&name).map(|t| t.svc.clone()).unwrap_or_default();
            (label, name, grants)
        })
        .collect();
    let targets = names
        .iter()
        .map(|(name, _)| {
            let period = boot.task(name)?.values.iter().find(|(k, _)| k == "heartbeat-ms")?.1;
            Some((rt::env::cap(&format!("{name}.control"))?, period))
        })
        .collect();
    let mut server = Server::new(services, Resurgo { boot, io_admin, clients: SvcClients::new(clients) });
    let pings = heartbeat::start(targets, HEARTBEAT);
    for i in 0..server.services.len() {
        server.start(i);
    }
    rt::info!("supervising {} drivers", server.services.len());

    let mut reply: Option<Reply> = None;
    loop {
        let timeout = server.timeout();
        let msg = match reply.take() {
            Some(r) => ipc::reply_and_wait(r.restore(), timeout),
            None => ipc::wait(timeout),
        };
        match msg {
            Err(_) => {}
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label >= EVENT_BASE && m.label < HEARTBEAT => {
                child_events(&mut server, (m.label - EVENT_BASE) as usize);
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label == HEARTBEAT => {
                server.hung(pings.take_failures(), |_, _| "no answer to two heartbeats: hung".into());
            }
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) => reply = Some(Reply::kept(server.request(m.label, m.tag))),
        }
        server.restart_due();
        pings.publish(&server.running());
    }
}

/// The kernel reported events of child `i`.
fn child_events(server: &mut Server, i: usize) {
    let Some(s) = server.services.get(i) else { return };
    let Some(child) = s.child else { return };
    while let Ok(info) = child.task.next_event() {
        let Some(ev) = info.event else { break };
        if ev.cause == Cause::Runaway {
            // The kernel saw one of its threads compute for `code` ms above
            // the default priority without waiting: an interrupt handler
            // that spins, found before the heartbeats would be.
            let cause = format!("a thread ran {} ms at priority {} without waiting: hung", ev.code, ev.addr);
            server.failed(i, cause);
            return;
        }
        if !ev.cause.stops_task() {
            rt::warn!(
                "{} was refused something it was not granted: {} at {:#x}",
                server.services[i].svc.name,
                ev.cause.name(),
                ev.addr
            );
            continue;
        }
        let place = place(server, i, ev.ip);
        let cause = match ev.cause {
            // A clean exit (no device): nothing to restart.
            Cause::Exit if ev.code == 0 => return server.exited(i, info.reason().into()),
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
        server.failed(i, cause);
        return;
    }
}

/// `function+offset` for an address in service `i`'s image.
fn place(server: &Server, i: usize, ip: u64) -> String {
    let image = server.kernel.boot.image(&server.services[i].data.image).ok();
    match image.and_then(|img| symbolize(img, ip)) {
        Some((name, off)) => format!("{name}+{off:#x}"),
        None => format!("{ip:#x}"),
    }
}

//! init, the root task.
//!
//! The kernel starts init with the root capabilities: the interrupt controller,
//! all I/O ports, all device memory, the kernel-information object and the boot
//! archive. init reads `manifest.toml` from the archive, turns each task's grants
//! into capabilities (least privilege: a task gets what its declaration lists
//! and nothing else), starts the tasks whose parent it is and hands every other
//! task's grants to its parent. Then it reports what happens to its children.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use boot::{Boot, Grants, NamedCap, gate_label};
use manifest::Task;
use rt::loader::Child;
use rt::obj::{Factory, Gate, Icu, IoMem, IoPorts, Irq, KernelCap, Thread};
use rt::{Rights, Timeout};

rt::entry!(main);

struct Roots {
    icu: Icu,
    ports: IoPorts,
    mem: IoMem,
    kernel: KernelCap,
    /// The IOMMU root (DMA domains), for the task that owns the bus.
    iommu: rt::CapIdx,
}

fn main() {
    let roots = Roots {
        icu: Icu(rt::env::require_cap("icu")),
        ports: IoPorts(rt::env::require_cap("io-ports")),
        mem: IoMem(rt::env::require_cap("io-mem")),
        kernel: KernelCap(rt::env::require_cap("kernel")),
        iommu: rt::env::require_cap("iommu"),
    };
    let boot = match Boot::open() {
        Ok(b) => b,
        Err(e) => {
            rt::error!("cannot boot: {}", e);
            roots.kernel.shutdown(1);
        }
    };
    let _ = roots.kernel.set_log_level(boot.system.log_level as u64);
    rt::info!("system `{}`: {} tasks", boot.system.name, boot.system.tasks.len());

    rt::debug!("creating grants");
    let grants = match make_grants(&boot, &roots) {
        Ok(g) => g,
        Err(e) => {
            rt::error!("cannot create the grants: {}", e);
            roots.kernel.shutdown(1);
        }
    };
    let mut children: Vec<(String, Child, Irq)> = Vec::new();
    for task in boot.children_of(None).filter(|t| t.start) {
        let label = children.len() as u64 + 1;
        let irq = match Factory::own().create_irq().and_then(|irq| irq.attach(&Thread::own_main(), label).map(|_| irq))
        {
            Ok(i) => i,
            Err(e) => {
                rt::error!("no event IRQ for {}: {}", task.name, e);
                continue;
            }
        };
        rt::debug!("starting {}", task.name);
        match boot::spawn(&boot, task, &grants[&task.name], Some(irq)) {
            Ok(child) => children.push((task.name.clone(), child, irq)),
            Err(e) => rt::error!("cannot start {}: {}", task.name, e),
        }
    }
    rt::info!("started {} tasks", children.len());

    // Report what happens to the tasks init started.
    loop {
        let Ok(msg) = rt::ipc::wait(Timeout::Never) else { continue };
        let Some((name, child, _)) = children.get((msg.label as usize).wrapping_sub(1)) else { continue };
        while let Ok(info) = child.task.next_event() {
            let Some(ev) = info.event else { break };
            if ev.cause == rt::sys::event::Cause::Exit {
                rt::info!("{} exited with status {} {}", name, ev.code, info.reason());
            } else if ev.cause.stops_task() {
                rt::warn!(
                    "{} stopped: {} at ip {:#x}, address {:#x} {}",
                    name,
                    ev.cause.name(),
                    ev.ip,
                    ev.addr,
                    info.reason()
                );
            } else {
                rt::warn!("{} violated its grants: {} (address {:#x})", name, ev.cause.name(), ev.addr);
            }
        }
    }
}

fn make_grants(boot: &Boot, roots: &Roots) -> Result<BTreeMap<String, Grants>, rt::Error> {
    let factory = Factory::own();
    // One gate per client and endpoint, created up front: clients may start
    // before their servers' parents do.
    let mut gates: BTreeMap<Link, (Gate, u64)> = BTreeMap::new();
    for (ci, client) in boot.system.tasks.iter().enumerate() {
        for (server, ep) in &client.uses {
            let s = boot.task(server).expect("validated");
            let ei = s.serves.iter().position(|e| e == ep).expect("validated");
            let label = gate_label(ei, ci);
            let key = (server.clone(), ep.clone(), client.name.clone());
            gates.insert(key, (factory.create_gate(None, label)?, label));
        }
    }
    let mut all: BTreeMap<String, Grants> = BTreeMap::new();
    for t in &boot.system.tasks {
        all.insert(t.name.clone(), own_grants(t, roots, &gates, boot)?);
    }
    // Parents receive their children's grants.
    for t in &boot.system.tasks {
        let Some(parent) = &t.parent else { continue };
        let child = all[&t.name].clone();
        let p = all.get_mut(parent).expect("validated parent");
        for c in &child.caps {
            p.caps.push(NamedCap {
                name: format!("{}:{}", t.name, c.name),
                cap: c.cap,
                rights: c.rights | Rights::DELEGATE,
            });
        }
        for (i, port) in child.ports.iter().enumerate() {
            p.caps.push(NamedCap { name: format!("{}:ports.{i}", t.name), cap: port.0, rights: Rights::ALL });
        }
        if let Some(all_ports) = child.iopl {
            p.caps.push(NamedCap { name: format!("{}:iopl", t.name), cap: all_ports.0, rights: Rights::ALL });
        }
        for (name, v) in &child.values {
            p.values.push((format!("{}:{name}", t.name), *v));
        }
        if !p.caps.iter().any(|c| c.name == "boot-archive") {
            p.caps.push(NamedCap {
                name: "boot-archive".into(),
                cap: boot.archive_cap(),
                rights: Rights::READ | Rights::DELEGATE,
            });
        }
    }
    Ok(all)
}

/// A client's gate to a server's endpoint: (server, endpoint, client).
type Link = (String, String, String);

fn own_grants(t: &Task, roots: &Roots, gates: &BTreeMap<Link, (Gate, u64)>, boot: &Boot) -> Result<Grants, rt::Error> {
    let mut g = Grants::default();
    let mut cap = |name: String, cap: rt::CapIdx, rights: Rights| g.caps.push(NamedCap { name, cap, rights });
    for ((server, ep, client), (gate, _)) in gates {
        if *server == t.name {
            // The task serves it; passing it on is its parent's business.
            cap(format!("gate.{ep}@{client}"), gate.0, Rights::READ | Rights::WRITE | Rights::SERVER);
        }
        if *client == t.name {
            cap(format!("{server}.{ep}"), gate.0, Rights::READ);
        }
    }
    for &line in &t.irqs {
        let irq = Factory::own().create_irq()?;
        roots.icu.bind(line, &irq)?;
        cap(format!("irq.{line}"), irq.0, Rights::READ | Rights::SERVER);
    }
    for (i, &(base, size)) in t.mmio.iter().enumerate() {
        cap(format!("mmio.{i}"), roots.mem.restrict(base, size)?.0, Rights::READ | Rights::WRITE | Rights::SERVER);
    }
    // Statistics read-only; shutdown and the log level only for `kernel-control`.
    if t.kernel_control {
        cap("kernel".into(), roots.kernel.0, Rights::READ | Rights::WRITE);
    } else if t.kernel {
        cap("kernel".into(), roots.kernel.0, Rights::READ);
    }
    if t.devices {
        cap("icu".into(), roots.icu.0, Rights::ALL);
        cap("io-ports".into(), roots.ports.0, Rights::ALL);
        cap("io-mem".into(), roots.mem.0, Rights::ALL);
        cap("iommu".into(), roots.iommu, Rights::ALL);
    }
    if t.devices || t.boot_archive || boot.children_of(Some(&t.name)).next().is_some() {
        cap("boot-archive".into(), boot.archive_cap(), Rights::READ | Rights::DELEGATE);
    }
    for &(base, count) in &t.ports {
        g.ports.push(roots.ports.restrict(base, count)?);
    }
    if t.iopl {
        g.iopl = Some(roots.ports);
    }
    for ((server, ep, client), (gate, label)) in gates {
        if *server == t.name {
            g.serve.push((*gate, *label));
            g.values.push((format!("{ep}@{client}"), *label));
        }
    }
    // A `svc` client learns whether it may do more than list (httpd offers
    // its write verbs only then); the supervisor checks every call itself.
    if t.svc.any() {
        g.values.push(("svc-operator".into(), 1));
    }
    Ok(g)
}

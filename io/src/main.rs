//! io, the PCI bus server.
//!
//! io owns PCI configuration space (ports 0xcf8-0xcff) and holds the authority
//! to hand out device resources. At boot it scans the bus; then each driver task
//! that calls its `pci` endpoint gets exactly its device: the device the boot
//! manifest assigns to it (its `driver`'s PCI ids from `drivers/NAME.toml` in the
//! boot archive), with capabilities for that device's I/O-port ranges,
//! device-memory ranges and interrupt line, and nothing else. A driver sees only
//! its own configuration space, and writes outside the fields a driver may
//! change (`protocols::pci_config`: a BAR, MSI or MSI-X, a power state other
//! than D0, command bits past the allowed ones) are refused. The objects io creates outlive the
//! drivers: a restarted driver gets the same IRQ object back, with any interrupt
//! its predecessor never handled.
//!
//! On its `admin` endpoint the drivers' supervisor has io stop a dead driver's
//! device from mastering the bus (`QUIESCE`) before the driver's DMA memory is
//! freed: without an IOMMU, nothing else keeps the device from writing into
//! frames that belong to somebody else by then.
#![no_std]
#![no_main]

extern crate alloc;

mod pci;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use manifest::driver::DriverManifest;
use pci::Device;
use protocols::pci::{self as proto, INFO_WORDS};
use protocols::pci_config;
use rt::obj::{DmaDomain, Factory, Icu, IoMem, IoPorts, Iommu};
use rt::{CapIdx, MsgTag, Rights, Timeout, ipc};

rt::entry!(main);

/// What a client was given: its device and the capabilities for it.
struct Assignment {
    client: String,
    device: usize,
    dma: bool,
    /// Capabilities in BAR order, then the IRQ.
    caps: Vec<CapIdx>,
    /// The DMA domain of the driver instance that opened the device (with
    /// the IOMMU on): made at OPEN, destroyed at QUIESCE.
    domain: Cell<Option<DmaDomain>>,
}

fn main() {
    let icu = Icu(rt::env::require_cap("icu"));
    let ports = IoPorts(rt::env::require_cap("io-ports"));
    let mem = IoMem(rt::env::require_cap("io-mem"));
    let boot = boot::Boot::open().expect("io needs the boot archive");
    let iommu = rt::env::cap("iommu").map(Iommu).filter(Iommu::enabled);
    match iommu {
        Some(_) => rt::info!("DMA confined: each driver's device gets a DMA domain at OPEN, torn down at QUIESCE"),
        None => rt::info!("no IOMMU: devices' DMA is not confined"),
    }

    let devices = pci::scan();
    for d in &devices {
        let mut line = format!(
            "{} {:04x}:{:04x} class {:06x} irq {}",
            d.bdf, d.info.vendor, d.info.device, d.info.class_code, d.info.irq_line
        );
        for (i, b) in d.info.bars.iter().enumerate() {
            if let Some(b) = b {
                line += &format!(" bar{i} {} {:#x}+{:#x}", if b.is_io { "io" } else { "mem" }, b.base, b.size);
            }
        }
        if !d.caps.as_slice().is_empty() {
            line += " caps";
            for c in d.caps.as_slice() {
                line += &format!(" {}@{:#x}", c.kind(), c.offset);
            }
        }
        rt::info!("{}", line);
    }

    // Assign devices to the clients of `pci`, in manifest order.
    let mut assignments: BTreeMap<u64, Assignment> = BTreeMap::new();
    let mut taken = Vec::new();
    let clients = boot::clients_of("pci");
    for task in &boot.system.tasks {
        let Some(&(_, label)) = clients.iter().find(|(c, _)| *c == task.name) else { continue };
        let Some(driver) = &task.driver else {
            rt::warn!("{} uses io.pci but names no driver: it gets no device", task.name);
            continue;
        };
        let manifest =
            match boot.image(&format!("drivers/{driver}.toml")).ok().and_then(|b| core::str::from_utf8(b).ok()) {
                Some(text) => match DriverManifest::parse(text) {
                    Ok(m) => m,
                    Err(e) => {
                        rt::error!("drivers/{}.toml: {}", driver, e);
                        continue;
                    }
                },
                None => {
                    rt::error!("the boot archive has no drivers/{}.toml", driver);
                    continue;
                }
            };
        let found = devices
            .iter()
            .enumerate()
            .find(|(i, d)| !taken.contains(i) && manifest.matches(d.info.vendor, d.info.device));
        let Some((index, dev)) = found else {
            rt::info!("{}: no {} device on the bus", task.name, driver);
            continue;
        };
        match grant(dev, &manifest, &icu, &ports, &mem) {
            Ok(caps) => {
                rt::info!("{} ({}) gets {}", task.name, driver, dev.bdf);
                taken.push(index);
                assignments.insert(
                    label,
                    Assignment {
                        client: task.name.clone(),
                        device: index,
                        dma: manifest.resources.dma,
                        caps,
                        domain: Cell::new(None),
                    },
                );
            }
            Err(e) => rt::error!("cannot grant {} to {}: {}", dev.bdf, task.name, e),
        }
    }

    let admins: Vec<u64> = boot::clients_of("admin").into_iter().map(|(_, label)| label).collect();
    serve(&devices, &assignments, &admins, iommu);
}

/// Capabilities for a device's resources, as its driver manifest allows.
fn grant(dev: &Device, m: &DriverManifest, icu: &Icu, ports: &IoPorts, mem: &IoMem) -> Result<Vec<CapIdx>, rt::Error> {
    let mut caps = Vec::new();
    for bar in dev.info.bars.iter().flatten() {
        if bar.is_io && m.resources.ports {
            caps.push(ports.restrict(bar.base as u16, bar.size as u32)?.0);
        } else if !bar.is_io && m.resources.mmio {
            let base = bar.base & !0xfff;
            let size = (bar.base + bar.size).next_multiple_of(4096) - base;
            caps.push(mem.restrict(base, size)?.0);
        }
    }
    if m.resources.irq && (1..16).contains(&dev.info.irq_line) && dev.info.irq_line != 2 {
        let irq = Factory::own().create_irq()?;
        icu.bind(dev.info.irq_line, &irq)?;
        caps.push(irq.0);
    }
    Ok(caps)
}

fn error(e: proto::Error) -> MsgTag {
    ipc::set_mr::<0>(protocols::status::encode(Err(e)));
    MsgTag::new(0, 1, 0)
}

fn serve(devices: &[Device], assignments: &BTreeMap<u64, Assignment>, admins: &[u64], iommu: Option<Iommu>) -> ! {
    let mut msg = ipc::wait(Timeout::Never);
    loop {
        let reply = match msg {
            Err(e) => {
                rt::warn!("receive failed: {}", e);
                msg = ipc::wait(Timeout::Never);
                continue;
            }
            Ok(m) if admins.contains(&m.label) => admin(devices, assignments, m.tag),
            Ok(m) => match assignments.get(&m.label) {
                None => error(proto::Error::NoDevice),
                Some(a) => handle(&devices[a.device], a, m.tag, iommu),
            },
        };
        msg = ipc::reply_and_wait(reply, Timeout::Never);
    }
}

/// A call on the `admin` endpoint.
fn admin(devices: &[Device], assignments: &BTreeMap<u64, Assignment>, tag: MsgTag) -> MsgTag {
    let proto::AdminRequest::Quiesce { name } = match ipc::decode_call(tag) {
        Ok(r) => r,
        Err(e) => return error(e.into()),
    };
    let Some(name) = name.as_str() else { return error(proto::Error::Invalid) };
    let Some(a) = assignments.values().find(|a| a.client == name) else { return error(proto::Error::NoDevice) };
    let dev = &devices[a.device];
    hand_over(dev, &a.client);
    // Only now that the device cannot start a transfer: whatever it still
    // writes for the dead instance reaches nothing.
    if let Some(d) = a.domain.take() {
        let pages = d.info().map_or(0, |(_, p)| p);
        match d.destroy() {
            Ok(()) => rt::info!("{} of {}: DMA domain torn down ({} pages were mapped)", dev.bdf, a.client, pages),
            Err(e) => rt::error!("{} of {}: cannot destroy its DMA domain: {}", dev.bdf, a.client, e),
        }
    }
    ipc::set_mr::<0>(0);
    MsgTag::new(0, 1, 0)
}

/// Between two instances of a device's driver: the fields the dead one could
/// write go back to what the firmware left (`pci_config::Writable`), bus
/// mastering off and the interrupt enabled, so nothing it did outlives it.
fn hand_over(dev: &Device, client: &str) {
    let now = pci_config::Writable::read(|at| pci::read32(dev.bdf, at));
    let mut undone = Vec::new();
    for w in dev.boot.handover().restore_from(&now) {
        pci::write(dev.bdf, w.offset, w.len, w.value);
        if w.what != pci_config::BUS_MASTERING_OFF {
            undone.push(w.what);
        }
    }
    if now.command & pci::COMMAND_BUS_MASTER as u16 != 0 {
        rt::info!("{} of {}: bus mastering off until its driver enables it again", dev.bdf, client);
    }
    if !undone.is_empty() {
        rt::warn!("{} of {}: the dead driver's settings undone: {}", dev.bdf, client, undone.join(", "));
    }
}

/// The DMA domain of `a`'s device, made now if the instance has none.
fn domain_for(dev: &Device, a: &Assignment, iommu: Option<Iommu>) -> Option<DmaDomain> {
    let iommu = iommu.filter(|_| a.dma)?;
    if let Some(d) = a.domain.get() {
        return Some(d);
    }
    let source = (u16::from(dev.bdf.bus) << 8) | (u16::from(dev.bdf.slot & 0x1f) << 3) | u16::from(dev.bdf.func & 7);
    match iommu.create_domain(source) {
        Ok(d) => {
            rt::info!(
                "{} of {}: fresh DMA domain (it reaches nothing until the driver maps its memory)",
                dev.bdf,
                a.client
            );
            a.domain.set(Some(d));
            Some(d)
        }
        Err(e) => {
            rt::error!("{} of {}: no DMA domain ({}): the device's DMA will fault", dev.bdf, a.client, e);
            None
        }
    }
}

fn handle(dev: &Device, a: &Assignment, tag: MsgTag, iommu: Option<Iommu>) -> MsgTag {
    let request = match ipc::decode_call::<proto::Request>(tag) {
        Ok(r) => r,
        Err(e) => return error(e.into()),
    };
    match request {
        proto::Request::Open {} => {
            rt::debug!("{} opened {}", a.client, dev.bdf);
            let domain = domain_for(dev, a, iommu);
            let mut mr = [0; ipc::MR_COUNT];
            // The description always fits (INFO_WORDS, host-tested).
            if protocols::status::encode_reply(&dev.info, &mut mr).is_err() {
                return error(proto::Error::Invalid);
            }
            for (i, cap) in a.caps.iter().enumerate() {
                // No DELEGATE: the driver uses its device and cannot pass it on
                // (copy it, publish it in the data store, give it to a task it
                // creates), so nothing of it outlives the driver but io's own.
                let [w0, w1] = ipc::cap_item(*cap, Rights::READ | Rights::WRITE | Rights::SERVER);
                mr[INFO_WORDS + 2 * i] = w0;
                mr[INFO_WORDS + 2 * i + 1] = w1;
            }
            let mut items = a.caps.len();
            if let Some(d) = domain {
                // Map and unmap only: destroying it (SERVER) stays io's.
                let [w0, w1] = ipc::cap_item(d.0, Rights::READ | Rights::WRITE);
                mr[INFO_WORDS + 2 * items] = w0;
                mr[INFO_WORDS + 2 * items + 1] = w1;
                items += 1;
            }
            // At most a handful of capabilities follow the description.
            if ipc::write_mrs(0, &mr[..INFO_WORDS + 2 * items]).is_err() {
                return error(proto::Error::Invalid);
            }
            MsgTag::new(0, INFO_WORDS, items)
        }
        proto::Request::ConfigRead { offset, len } => {
            if !matches!(len, 1 | 2 | 4) || offset % len != 0 {
                return error(proto::Error::Invalid);
            }
            ipc::set_mr::<0>(pci::read(dev.bdf, offset, len) as u64);
            MsgTag::new(0, 1, 0)
        }
        proto::Request::ConfigWrite { offset, len, value } => {
            if !matches!(len, 1 | 2 | 4) {
                return error(proto::Error::Invalid);
            }
            let command = pci::read(dev.bdf, 0x04, 2);
            match pci_config::filter_write(command, offset, len, value, a.dma, dev.caps.as_slice()) {
                Ok(v) => {
                    pci::write(dev.bdf, offset, len, v);
                    ipc::set_mr::<0>(0);
                    MsgTag::new(0, 1, 0)
                }
                Err(why) => {
                    rt::warn!(
                        "refused: {} writing {:#x} to config offset {:#x} of {}: {}",
                        a.client,
                        value,
                        offset,
                        dev.bdf,
                        why.as_str()
                    );
                    error(proto::Error::Denied)
                }
            }
        }
    }
}

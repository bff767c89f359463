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
//! A driver may switch its device to its message-signalled interrupt
//! (`ENABLE_MSI`): io has the kernel bind a vector for the device (under the
//! IOMMU, through a remapping entry only the device's own requests may use),
//! writes what the kernel answers into the device's MSI capability, which a
//! driver may not write itself, and hands over the IRQ object. Like the
//! line's, it outlives the driver.
//!
//! On its `admin` endpoint the drivers' supervisor has io stop a dead driver's
//! device from mastering the bus (`QUIESCE`) before the driver's DMA memory is
//! freed: without an IOMMU, nothing else keeps the device from writing into
//! frames that belong to somebody else by then. MSI goes off with it.
#![no_std]
#![no_main]

extern crate alloc;

mod pci;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use manifest::driver::DriverManifest;
use pci::Device;
use protocols::pci::{self as proto, INFO_WORDS};
use protocols::pci_config;
use rt::obj::{DmaDomain, Factory, Icu, IoMem, IoPorts, Iommu, Irq};
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
    /// Whether the manifest grants the device's interrupt, and its
    /// message-signalled interrupts (the driver's manifest, or the task's).
    irq: bool,
    msi_allowed: bool,
    /// The device's MSI, once a driver asked for it: its IRQ object, line,
    /// and the address and data the kernel gave it (kept for every later
    /// instance).
    msi: Cell<Option<Msi>>,
    /// Its MSI-X vectors in table order, as many as a driver asked for so
    /// far (kept likewise), and where io mapped the table.
    msix: RefCell<Vec<Msi>>,
    msix_table: Cell<Option<u64>>,
}

#[derive(Clone, Copy)]
struct Msi {
    irq: Irq,
    line: u64,
    address: u64,
    data: u32,
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
                        irq: manifest.resources.irq,
                        msi_allowed: task.msi.unwrap_or(manifest.resources.msi),
                        msi: Cell::new(None),
                        msix: RefCell::new(Vec::new()),
                        msix_table: Cell::new(None),
                    },
                );
            }
            Err(e) => rt::error!("cannot grant {} to {}: {}", dev.bdf, task.name, e),
        }
    }

    let admins: Vec<u64> = boot::clients_of("admin").into_iter().map(|(_, label)| label).collect();
    serve(&devices, &assignments, &admins, Bus { iommu, icu, mem });
}

/// The kernel objects io serves its clients with.
#[derive(Clone, Copy)]
struct Bus {
    iommu: Option<Iommu>,
    icu: Icu,
    mem: IoMem,
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

fn serve(devices: &[Device], assignments: &BTreeMap<u64, Assignment>, admins: &[u64], bus: Bus) -> ! {
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
                Some(a) => handle(&devices[a.device], a, m.tag, bus),
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
    let mut undone = Vec::new();
    // First MSI off (before INTx comes back on below): a next instance
    // that asks for it gets it programmed again.
    if disable_msi(dev) {
        undone.push("MSI off");
    }
    if disable_msix(dev) {
        undone.push("MSI-X off");
    }
    let now = pci_config::Writable::read(|at| pci::read32(dev.bdf, at));
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
    match iommu.create_domain(source_id(dev)) {
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

fn handle(dev: &Device, a: &Assignment, tag: MsgTag, bus: Bus) -> MsgTag {
    let request = match ipc::decode_call::<proto::Request>(tag) {
        Ok(r) => r,
        Err(e) => return error(e.into()),
    };
    match request {
        proto::Request::Open {} => {
            rt::debug!("{} opened {}", a.client, dev.bdf);
            let domain = domain_for(dev, a, bus.iommu);
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
        proto::Request::EnableMsi {} => match enable_msi(dev, a, bus.icu) {
            Some(m) => {
                // As the line's IRQ at OPEN: no DELEGATE.
                let [w0, w1] = ipc::cap_item(m.irq.0, Rights::READ | Rights::WRITE | Rights::SERVER);
                let words = [protocols::status::encode::<proto::Error>(Ok(m.line)), w0, w1];
                if ipc::write_mrs(0, &words).is_err() {
                    return error(proto::Error::Invalid);
                }
                MsgTag::new(0, 1, 1)
            }
            None => error(proto::Error::NoMsi),
        },
        proto::Request::EnableMsix { count } => match enable_msix(dev, a, bus, count as usize) {
            Some(vectors) => {
                let n = vectors.len();
                let mut words = [0u64; 1 + 3 * proto::MAX_MSIX];
                words[0] = protocols::status::encode::<proto::Error>(Ok(n as u64));
                for (i, m) in vectors.iter().enumerate() {
                    words[1 + i] = m.line;
                    let [w0, w1] = ipc::cap_item(m.irq.0, Rights::READ | Rights::WRITE | Rights::SERVER);
                    words[1 + n + 2 * i] = w0;
                    words[1 + n + 2 * i + 1] = w1;
                }
                if ipc::write_mrs(0, &words[..1 + 3 * n]).is_err() {
                    return error(proto::Error::Invalid);
                }
                MsgTag::new(0, 1 + n, n)
            }
            None => error(proto::Error::NoMsi),
        },
        proto::Request::DisableMsix {} => switched_off(dev, a, "MSI-X", disable_msix(dev)),
        proto::Request::DisableMsi {} => switched_off(dev, a, "MSI", disable_msi(dev)),
    }
}

/// The answer to a DISABLE_MSI or DISABLE_MSIX that did (`off`) or did not
/// find `what` on.
fn switched_off(dev: &Device, a: &Assignment, what: &str, off: bool) -> MsgTag {
    if !off {
        return error(proto::Error::NoMsi);
    }
    rt::info!("{} of {}: {} off, its INTx line back on", dev.bdf, a.client, what);
    ipc::set_mr::<0>(0);
    MsgTag::new(0, 1, 0)
}

/// The device's capability of kind `id`, if it has one.
fn capability(dev: &Device, id: u8) -> Option<pci_config::Capability> {
    dev.caps.as_slice().iter().find(|c| c.id == id).copied()
}

fn msi_capability(dev: &Device) -> Option<pci_config::Capability> {
    capability(dev, pci_config::CAP_MSI)
}

/// A new IRQ object bound to a kernel MSI vector for `dev`.
fn bind_vector(dev: &Device, a: &Assignment, icu: Icu) -> Option<Msi> {
    let irq = Factory::own().create_irq().ok()?;
    let bound = icu.bind_msi(source_id(dev), &irq).and_then(|(address, data)| Ok((address, data, irq.info()?.line)));
    match bound {
        Ok((address, data, line)) => Some(Msi { irq, line, address, data }),
        Err(e) => {
            rt::warn!("{} of {}: no MSI vector from the kernel ({}): it keeps its INTx line", dev.bdf, a.client, e);
            rt::obj::release(irq.0);
            None
        }
    }
}

/// Switches `dev` to MSI-X with `count` vectors (bound at the kernel as
/// first needed, written into its table) and INTx off; None, and the
/// device as it was, when it cannot have them.
fn enable_msix(dev: &Device, a: &Assignment, bus: Bus, count: usize) -> Option<Vec<Msi>> {
    let cap = capability(dev, pci_config::CAP_MSIX)?;
    if !a.irq || !a.msi_allowed || count == 0 || count > proto::MAX_MSIX {
        return None;
    }
    let control = pci::read(dev.bdf, cap.offset + 2, 2) as u16;
    let table = pci_config::MsixTable::decode(control, pci::read32(dev.bdf, cap.offset + 4))?;
    if count > usize::from(table.entries) {
        return None;
    }
    let base = msix_table(dev, a, bus, table)?;
    let mut vectors = a.msix.borrow_mut();
    while vectors.len() < count {
        vectors.push(bind_vector(dev, a, bus.icu)?);
    }
    for (i, m) in vectors.iter().take(count).enumerate() {
        let entry = base + i as u64 * pci_config::MSIX_ENTRY;
        for (k, dword) in pci_config::msix_entry(m.address, m.data).iter().enumerate() {
            // SAFETY: `entry` is table entry `i` < the table's size, in
            // the device memory io mapped for the whole table.
            unsafe { ((entry + 4 * k as u64) as *mut u32).write_volatile(*dword) };
        }
    }
    pci::write(dev.bdf, cap.offset + 2, 2, u32::from(pci_config::msix_enable(control)));
    let command = pci::read(dev.bdf, 0x04, 2);
    pci::write(dev.bdf, 0x04, 2, command | u32::from(pci_config::COMMAND_INTX_DISABLE));
    let lines: Vec<String> = vectors.iter().take(count).map(|m| format!("{:#x}", m.line)).collect();
    rt::info!(
        "{} of {}: MSI-X on ({} vectors, lines {}), its INTx line off",
        dev.bdf,
        a.client,
        count,
        lines.join(" ")
    );
    Some(vectors[..count].to_vec())
}

/// Where io has the device's MSI-X table mapped (mapped now if not yet).
fn msix_table(dev: &Device, a: &Assignment, bus: Bus, table: pci_config::MsixTable) -> Option<u64> {
    if let Some(t) = a.msix_table.get() {
        return Some(t);
    }
    let bar = dev.info.bars[table.bar].filter(|b| !b.is_io)?;
    let len = u64::from(table.entries) * pci_config::MSIX_ENTRY;
    if table.offset.checked_add(len)? > bar.size {
        rt::warn!("{} of {}: its MSI-X table lies outside BAR {}", dev.bdf, a.client, table.bar);
        return None;
    }
    let start = bar.base + table.offset;
    let page = start & !0xfff;
    let size = (start + len).next_multiple_of(4096) - page;
    let ds = bus.mem.create_dataspace(page, size).ok()?;
    match rt::mem::attach(&ds, size, true) {
        Ok(virt) => {
            let t = virt + (start - page);
            a.msix_table.set(Some(t));
            Some(t)
        }
        Err(e) => {
            rt::warn!("{} of {}: cannot map its MSI-X table: {}", dev.bdf, a.client, e);
            rt::obj::release(ds.0);
            None
        }
    }
}

/// Disables `dev`'s MSI-X and enables its INTx line again; false when
/// MSI-X was not on.
///
/// The device is quiet first: bus mastering off (a card that may not
/// master the bus takes no frame in, so it has no new interrupt cause),
/// then [`MSIX_QUIET_MS`] for what it had already scheduled. QEMU 7.2's
/// e1000e aborts the whole emulator when a per-vector throttling timer,
/// armed while MSI-X was on, expires after it went off
/// (`e1000e_intrmgr_on_msix_throttling_timer: Assertion
/// msix_enabled(...)`); a dead driver's card, still receiving, had one
/// armed at nearly every hand-over. Bus mastering is restored after.
fn disable_msix(dev: &Device) -> bool {
    let Some(cap) = capability(dev, pci_config::CAP_MSIX) else { return false };
    let control = pci::read(dev.bdf, cap.offset + 2, 2) as u16;
    let Some(off) = pci_config::msix_disable(control) else { return false };
    let command = pci::read(dev.bdf, 0x04, 2);
    if command & pci::COMMAND_BUS_MASTER != 0 {
        pci::write(dev.bdf, 0x04, 2, command & !pci::COMMAND_BUS_MASTER);
    }
    ipc::sleep_ms(MSIX_QUIET_MS);
    pci::write(dev.bdf, cap.offset + 2, 2, u32::from(off));
    pci::write(dev.bdf, 0x04, 2, command & !u32::from(pci_config::COMMAND_INTX_DISABLE));
    true
}

/// How long a device that may no longer master the bus is given to fire
/// what it had scheduled before its MSI-X goes off: longer than the
/// longest interrupt throttling interval of the cards io knows (e1000e's
/// EITR, 65,535 × 256 ns, about 16.8 ms).
const MSIX_QUIET_MS: u32 = 25;

/// Switches `dev` to its MSI (bound at the kernel on first use) with INTx
/// off; None (and the device as it was) when it cannot have one.
fn enable_msi(dev: &Device, a: &Assignment, icu: Icu) -> Option<Msi> {
    let cap = msi_capability(dev)?;
    if !a.irq || !a.msi_allowed {
        return None;
    }
    let msi = match a.msi.get() {
        Some(m) => m,
        None => {
            let m = bind_vector(dev, a, icu)?;
            a.msi.set(Some(m));
            m
        }
    };
    let control = pci::read(dev.bdf, cap.offset + 2, 2) as u16;
    let writes = pci_config::msi_enable(&cap, control, msi.address, msi.data)?;
    for w in writes.iter().flatten() {
        pci::write(dev.bdf, w.offset, w.len, w.value);
    }
    let command = pci::read(dev.bdf, 0x04, 2);
    pci::write(dev.bdf, 0x04, 2, command | u32::from(pci_config::COMMAND_INTX_DISABLE));
    rt::info!(
        "{} of {}: MSI on (line {:#x}, message {:#x}/{:#x}), its INTx line off",
        dev.bdf,
        a.client,
        msi.line,
        msi.address,
        msi.data
    );
    Some(msi)
}

/// Disables `dev`'s MSI and enables its INTx line again; false when MSI
/// was not on.
fn disable_msi(dev: &Device) -> bool {
    let Some(cap) = msi_capability(dev) else { return false };
    let control = pci::read(dev.bdf, cap.offset + 2, 2) as u16;
    let Some(w) = pci_config::msi_disable(&cap, control) else { return false };
    pci::write(dev.bdf, w.offset, w.len, w.value);
    let command = pci::read(dev.bdf, 0x04, 2);
    pci::write(dev.bdf, 0x04, 2, command & !u32::from(pci_config::COMMAND_INTX_DISABLE));
    true
}

/// The device's 16-bit PCI source id (bus << 8 | devfn).
fn source_id(dev: &Device) -> u16 {
    (u16::from(dev.bdf.bus) << 8) | (u16::from(dev.bdf.slot & 0x1f) << 3) | u16::from(dev.bdf.func & 7)
}

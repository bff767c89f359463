//! The network class: the driver's network device attached to netd.
//!
//! After the probe registered a network device, it attaches the device to
//! netd's rings (or, MINIX-style, announces its own in the data store first),
//! opens it, and then moves frames: received frames go into the rx ring from
//! whichever driver thread receives them; the main thread takes frames from
//! the tx ring and hands them to the driver, and sleeps when there is nothing
//! to send or the driver's queue is stopped. The shim's network class
//! (`csrc/net`) calls back here through `include/resurgo/net.h`.

mod config;
mod nic;

/// The network class's contract with the shim's C (`include/resurgo/net.h`).
#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/net.rs"));
}

use self::bindings::resurgo_netdev_t;
use self::nic::Nic;
use crate::class::Class;
use crate::task;
use crate::timeline::{self, Step};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering};
use netring::{Dir, Rings};
use protocols::nic as proto;
use rt::obj::{Dataspace, Factory, Irq, Thread};
use rt::{MsgTag, Rights, Timeout, ipc};

/// Receive descriptors asked of a driver that can change its ring (through
/// its ethtool_ops, as `ethtool -G DEV rx 256` does on Linux).
const RX_RING: u32 = 256;

/// Labels of the two notifications the main thread waits for.
const LABEL_TX: u64 = 1;
const LABEL_KICK: u64 = 2;

/// Devices the shim registered during probe.
static REGISTERED: spin::Mutex<Vec<usize>> = spin::Mutex::new(Vec::new());
/// The attached device (one per task), for the callbacks.
static NIC: AtomicPtr<Nic> = AtomicPtr::new(core::ptr::null_mut());
/// Wakes the main thread when the driver's queue starts again.
static KICK: spin::Once<Irq> = spin::Once::new();

/// The network class (`crate::class::ALL`).
pub struct Net;

impl Class for Net {
    fn name(&self) -> &'static str {
        "network"
    }

    /// The transmit thread's kick: before the probe, so that a queue the
    /// driver wakes at any time reaches the main thread.
    fn prepare(&self) {
        let kick = Factory::own().create_irq().expect("no IRQ object for the transmit thread");
        kick.attach(&Thread::own_main(), LABEL_KICK).expect("attach");
        KICK.call_once(|| kick);
    }

    fn devices(&self) -> usize {
        REGISTERED.lock().len()
    }

    fn serve(&self) -> ! {
        let first = REGISTERED.lock()[0];
        serve(first as resurgo_netdev_t)
    }
}

/// Attaches the first registered device to netd and moves its frames.
fn serve(dev: resurgo_netdev_t) -> ! {
    let name = cstr(
        // SAFETY: `dev` was registered by the shim and stays registered.
        unsafe { bindings::dde_netdev_name(dev) },
    );
    // The recorded configuration goes into the device before anything else
    // sees it (see config.rs): the MAC and MTU read next are the replayed ones.
    let mut config = config::Recorder::new(dev, name);
    config.replay();
    // A peer's burst longer than the receive ring is lost in the device, and
    // TCP without SACK then waits a second for its retransmission timer:
    // pcnet32 sets up 32 descriptors, and 64 KiB windows come in 44 frames.
    // SAFETY: as above.
    match unsafe { bindings::dde_netdev_grow_rx_ring(dev, RX_RING) } {
        0 => {}
        n if n < 0 => rt::warn!("{}: set_ringparam failed: {}", name, n),
        n => rt::info!("{}: receive ring of {} descriptors", name, n),
    }
    let mut mac = [0u8; 6];
    // SAFETY: as above; `mac` has room for 6 bytes.
    unsafe { bindings::dde_netdev_mac(dev, mac.as_mut_ptr()) };
    // SAFETY: as above.
    let mtu = unsafe { bindings::dde_netdev_mtu(dev) };

    let Some(netd) = rt::env::cap("netd.nic") else {
        // Without netd the device is opened and its frames dropped: useful to
        // watch a driver probe on its own.
        // SAFETY: as above.
        let r = unsafe { bindings::dde_netdev_open(dev) };
        rt::info!("{} opened ({}); no netd to attach to", name, r);
        loop {
            ipc::sleep_ms(60_000);
        }
    };

    let minix = match manifest::settings::Settings::read(rt::env::value) {
        Ok(s) => s.restart == manifest::RestartMode::Minix,
        Err(e) => {
            rt::error!("{}", e);
            rt::exit(1, "bad system settings");
        }
    };
    if minix && let Err(e) = announce() {
        rt::error!("cannot announce {} in the data store: {}", name, e);
        rt::exit(1, "announce failed");
    }
    let nic = match attach(netd, dev, mac, mtu, !minix) {
        Ok(n) => n,
        Err(e) => {
            rt::error!("cannot attach {} to netd: {}", name, e);
            rt::exit(1, "netd attach failed");
        }
    };
    timeline::reached(Step::Attached);
    nic.resume();
    let nic: &'static Nic = Box::leak(Box::new(nic));
    NIC.store(nic as *const Nic as *mut Nic, Ordering::Release);

    // SAFETY: as above.
    let r = unsafe { bindings::dde_netdev_open(dev) };
    if r != 0 {
        rt::error!("{}: ndo_open failed: {}", name, r);
        rt::exit(1, "open failed");
    }
    timeline::reached(Step::Open);
    // SAFETY: as above.
    nic.set_link(unsafe { bindings::dde_netdev_carrier_ok(dev) } != 0);
    rt::info!(
        "{} attached to netd: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} mtu {}, incarnation {}",
        name,
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        mtu,
        nic.rings.header().incarnation.load(Ordering::Relaxed)
    );
    config.attached(nic);
    transmit_loop(nic, config)
}

fn cstr(p: *const core::ffi::c_char) -> &'static str {
    if p.is_null() {
        return "?";
    }
    // SAFETY: the shim returns NUL-terminated names that live as long as the device.
    unsafe { core::ffi::CStr::from_ptr(p) }.to_str().unwrap_or("?")
}

/// ATTACH to netd: the ring dataspace and the two notification IRQs. The
/// main thread attaches to the one netd triggers, unless it did already
/// (MINIX-style, the IRQ is this instance's own: see [`announce`]).
fn attach(
    netd: rt::CapIdx,
    dev: resurgo_netdev_t,
    mac: [u8; 6],
    mtu: i32,
    attach_wake: bool,
) -> Result<Nic, rt::Error> {
    let slots: Vec<rt::CapIdx> =
        (0..3).map(|_| rt::cap::alloc().ok_or(rt::Error::QuotaExceeded)).collect::<Result<_, _>>()?;
    ipc::set_receive_slots(&slots);
    // SAFETY: `dev` is registered.
    let link = unsafe { bindings::dde_netdev_carrier_ok(dev) } != 0;
    let request = proto::Request::Attach { mac, mtu: mtu as u64, link };
    let r = ipc::call(netd, ipc::encode_call(&request)?, Timeout::Never)?;
    let size = match proto::decode_attach(&ipc::received_words(r.tag)) {
        Ok(attached) => attached.ring_bytes,
        Err(refusal) => {
            rt::error!("netd refused the attach: {}", refusal);
            return Err(match refusal {
                proto::Refusal::Kernel(e) => e,
                proto::Refusal::Netd(proto::Error::Malformed) => rt::Error::InvalidArgument,
                proto::Refusal::Netd(_) => rt::Error::Denied,
            });
        }
    };
    if r.tag.items() != proto::ATTACH_ITEMS {
        return Err(rt::Error::InvalidArgument);
    }
    let ds = Dataspace(slots[0]);
    let to_driver = Irq(slots[1]);
    let to_netd = Irq(slots[2]);
    let base = rt::mem::attach(&ds, size, true)?;
    // SAFETY: `size` bytes of the ring dataspace are mapped at `base` for good.
    let rings = unsafe { Rings::attach(base as *mut u8, size as usize) }.map_err(|e| {
        rt::error!("netd's rings do not check: {:?}", e);
        rt::Error::InvalidArgument
    })?;
    if attach_wake {
        to_driver.attach(&Thread::own_main(), LABEL_TX)?;
    }
    // A reset netd asked of a predecessor is done: this instance is it.
    let h = rings.header();
    h.reset_done.store(h.reset_request.load(Ordering::Acquire), Ordering::Release);
    Ok(Nic::new(dev, rings, to_netd))
}

/// MINIX-style restarts (see `protocols::proto::RINGS_KEY`): this instance's
/// own rings and wake-up IRQ go into the data store, and it waits until netd
/// has learned of them from there and formatted the rings. Meanwhile it
/// answers the reincarnation server, so a netd that is slow to come is not
/// taken for a hung driver.
fn announce() -> Result<(), AnnounceError> {
    let store = datastore::Client::from_env().ok_or(AnnounceError::NoStore)?;
    let f = Factory::own();
    let ds = f.create_dataspace(netring::region_size(proto::RING_SLOTS) as u64, false)?;
    let wake = f.create_irq()?;
    wake.attach(&Thread::own_main(), LABEL_TX)?;
    // Delegable: netd hands both back with its ATTACH reply.
    store.publish(&datastore::own_key(proto::WAKE_KEY), wake.0, Rights::WRITE, true)?;
    store.publish(&datastore::own_key(proto::RINGS_KEY), ds.0, Rights::READ | Rights::WRITE, true)?;
    // The store and netd hold them now; ATTACH hands them back.
    rt::obj::release(ds.0);
    rt::info!("MINIX-style: own rings announced in the data store; waiting for netd");
    loop {
        match ipc::wait(Timeout::Never) {
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ && m.label == LABEL_TX => return Ok(()),
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) => {
                let _ = ipc::reply(task::control(m.tag));
            }
            Err(_) => {}
        }
    }
}

#[derive(Debug)]
enum AnnounceError {
    NoStore,
    Kernel(rt::Error),
    Store(datastore::Error),
}

impl From<rt::Error> for AnnounceError {
    fn from(e: rt::Error) -> Self {
        AnnounceError::Kernel(e)
    }
}

impl From<datastore::Error> for AnnounceError {
    fn from(e: datastore::Error) -> Self {
        AnnounceError::Store(e)
    }
}

impl core::fmt::Display for AnnounceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AnnounceError::NoStore => f.write_str("the task has no `datastore.store` gate"),
            AnnounceError::Kernel(e) => write!(f, "kernel: {e}"),
            AnnounceError::Store(e) => write!(f, "data store: {e}"),
        }
    }
}

/// The main loop: transmits, and answers the reincarnation server on the
/// `control` endpoint. Heartbeats are answered here and nowhere else, so a
/// driver stuck in its transmit path, or starved by its own spinning interrupt
/// thread, misses them.
/// Configuration changes from netd are applied here too, between batches.
fn transmit_loop(nic: &'static Nic, mut config: config::Recorder) -> ! {
    let mut reply: Option<MsgTag> = None;
    loop {
        config.poll(nic);
        let h = nic.rings.header();
        if h.reset_request.load(Ordering::Acquire) != h.reset_done.load(Ordering::Acquire) {
            // netd's receive watch found the device deaf (netring::watch):
            // the next instance's probe initialises it afresh.
            rt::exit(4, "netd received nothing and its gateway probes went unanswered: reinitialising the device");
        }
        let more = nic.transmit_pending();
        // Sleep until netd adds frames (when the ring was empty) or the driver
        // wakes its queue (when it was stopped), or a control message comes.
        let sleep = !more || nic.rings.arm_wake(Dir::Tx);
        let msg = match (reply.take(), sleep) {
            (Some(tag), true) => ipc::reply_and_wait(tag, Timeout::Never),
            (Some(tag), false) => {
                let _ = ipc::reply(tag);
                continue;
            }
            (None, true) => ipc::wait(Timeout::Never),
            (None, false) => continue,
        };
        match msg {
            Ok(m) if m.tag.label() == rt::sys::proto::PROTO_IRQ => {}
            Ok(m) => reply = Some(task::control(m.tag)),
            Err(_) => {}
        }
    }
}

fn nic_of(dev: resurgo_netdev_t) -> Option<&'static Nic> {
    // SAFETY: the pointer is either null or a leaked, never-freed Nic.
    let nic = unsafe { NIC.load(Ordering::Acquire).as_ref()? };
    (nic.dev == dev).then_some(nic)
}

// ---- callbacks from the shim (see include/resurgo/net.h) ---------------------

#[unsafe(no_mangle)]
pub extern "C" fn resurgo_netdev_registered(dev: resurgo_netdev_t) {
    REGISTERED.lock().push(dev as usize);
}

#[unsafe(no_mangle)]
pub extern "C" fn resurgo_netdev_unregistered(dev: resurgo_netdev_t) {
    REGISTERED.lock().retain(|&d| d != dev as usize);
}

/// # Safety
/// `frame` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn resurgo_netdev_rx(dev: resurgo_netdev_t, frame: *const core::ffi::c_void, len: usize) {
    if frame.is_null() {
        return;
    }
    if let Some(nic) = nic_of(dev) {
        // SAFETY: the caller guarantees `len` readable bytes.
        nic.receive(unsafe { core::slice::from_raw_parts(frame.cast::<u8>(), len) });
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn resurgo_netdev_tx_done(dev: resurgo_netdev_t, cookie: u64) {
    if let Some(nic) = nic_of(dev) {
        nic.transmitted(cookie as u32);
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn resurgo_netdev_queue_woken(_dev: resurgo_netdev_t) {
    if let Some(kick) = KICK.get() {
        let _ = kick.trigger();
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn resurgo_netdev_carrier(dev: resurgo_netdev_t, up: core::ffi::c_int) {
    if let Some(nic) = nic_of(dev) {
        nic.set_link(up != 0);
    }
}

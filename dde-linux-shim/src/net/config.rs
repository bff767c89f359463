//! Configuration that survives a driver's restart: the DDE layer's part of
//! the restart principle, *Configuration* in `doc/restart.md`.
//!
//! netd owns an interface's configuration and publishes every change an
//! operator makes (MTU, MAC address, promiscuous and all-multicast mode, the
//! multicast list) in the ring header (`netring::config`), then wakes the
//! driver task. Here, on the main thread and never inside a shim callback,
//! each new generation is:
//!
//! 1. applied through the driver's own `netdev_ops` (`dde_netdev_set_mtu`,
//!    `dde_netdev_set_mac`, `dde_netdev_set_rx_mode`), each change logged;
//! 2. reported: what the device has afterwards (dev->mtu, dev->dev_addr, the
//!    receive flags, the multicast count, the first error) goes into the
//!    header, then the generation is echoed in `applied`;
//! 3. recorded in the data store under `<task>/.private/config/<netdev>`, one
//!    line of text ([`netring::Record`]) that only this task's incarnations
//!    can read.
//!
//! A new incarnation replays the record **right after probe, before it
//! attaches to netd and opens the device**: the device is configured while it
//! is down, as `ip link set` before `up` would do it, so no frame is sent or
//! received with the probed defaults, the ATTACH already reports the replayed
//! MAC and MTU to netd, and the changes go through the same calls (changes that
//! need a running device, such as the receive mode, take effect when the
//! device opens, through ndo_set_rx_mode). After attaching, anything newer in
//! the ring header (a change the predecessor never finished) is applied on
//! top. The store, not the rings, carries the configuration across, so this
//! works in both restart modes: MINIX-style restarts format the rings afresh.
//!
//! No driver changes for any of this: a Linux driver sees the ordinary calls
//! Linux makes for `ip link set ... mtu|address|promisc|allmulticast` and
//! `ip maddr add|del`.

use super::bindings::{self, resurgo_netdev_t};
use super::nic::Nic;
use alloc::format;
use alloc::string::{String, ToString};
use core::sync::atomic::Ordering;
use datastore::{Error as StoreError, Refusal, Value};
use netring::config::{DriverReport, IFF_ALLMULTI, IFF_PROMISC};
use netring::{Mac, NicConfig, Record};

/// Keeps the device's configuration in step with netd and with the store.
pub struct Recorder {
    dev: resurgo_netdev_t,
    store: Option<datastore::Client>,
    /// `<task>/.private/config/<netdev>`.
    key: String,
    /// What the device has (read back after every change; the multicast list
    /// as last set, since the shim gives only its length).
    current: NicConfig,
    /// The generation of netd's configuration applied last.
    generation: u32,
    /// What the store holds, as far as this incarnation knows.
    recorded: Option<Record>,
    /// The last record could not be written: try again at this tick.
    retry_at: Option<u64>,
}

/// How long a failed record waits before it is tried again.
const RETRY_MS: u64 = 1000;

/// On/off for the log.
fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn addresses(n: usize) -> &'static str {
    if n == 1 { "address" } else { "addresses" }
}

impl Recorder {
    /// For the device `dev` (named `name`, e.g. `eth0`) as probe left it.
    pub fn new(dev: resurgo_netdev_t, name: &str) -> Recorder {
        let store = datastore::Client::from_env();
        if store.is_none() {
            rt::info!("config: no data store: configuration changes will not survive a restart");
        }
        let mut r = Recorder {
            dev,
            store,
            key: datastore::private_key(&format!("config/{name}")),
            current: NicConfig::new([0; 6], 0),
            generation: 0,
            recorded: None,
            retry_at: None,
        };
        r.current = r.read_device(&NicConfig::new([0; 6], 0));
        r
    }

    /// What the device has now; the multicast list is taken from `mc_from`.
    fn read_device(&self, mc_from: &NicConfig) -> NicConfig {
        let mut mac = [0u8; 6];
        // SAFETY: `dev` is registered and stays so; `mac` has room for 6 bytes.
        unsafe { bindings::dde_netdev_mac(self.dev, mac.as_mut_ptr()) };
        // SAFETY: as above.
        let (mtu, flags) = unsafe { (bindings::dde_netdev_mtu(self.dev), bindings::dde_netdev_rx_flags(self.dev)) };
        let mut c = *mc_from;
        c.mtu = mtu.max(0) as u32;
        c.mac = mac;
        c.flags = flags & (IFF_PROMISC | IFF_ALLMULTI);
        c
    }

    /// Makes the device have `want`, through the driver's own operations, and
    /// logs each change. Returns 0 or the first negative errno; `current` is
    /// what the device has afterwards.
    fn apply(&mut self, want: &NicConfig) -> i32 {
        let mut first_error = 0;
        let mut failed = |r: i32| {
            if first_error == 0 {
                first_error = r;
            }
        };
        let before = self.current;
        if want.mtu != before.mtu {
            // SAFETY: `dev` is registered; called on the main thread, outside
            // any shim callback (the shim takes the rtnl lock).
            let r = unsafe { bindings::dde_netdev_set_mtu(self.dev, want.mtu as i32) };
            // SAFETY: as above.
            let now = unsafe { bindings::dde_netdev_mtu(self.dev) };
            if r == 0 {
                rt::info!("config: mtu {} -> {} (dev->mtu now {})", before.mtu, want.mtu, now);
            } else {
                rt::warn!(
                    "config: mtu {} -> {} refused by the driver: error {} (dev->mtu {})",
                    before.mtu,
                    want.mtu,
                    r,
                    now
                );
                failed(r);
            }
        }
        if want.mac != before.mac {
            // SAFETY: as above; `want.mac` is 6 readable bytes.
            let r = unsafe { bindings::dde_netdev_set_mac(self.dev, want.mac.as_ptr()) };
            let now = self.read_device(&before).mac;
            if r == 0 {
                rt::info!("config: mac {} -> {} (dev_addr now {})", Mac(before.mac), Mac(want.mac), Mac(now));
            } else {
                rt::warn!(
                    "config: mac {} -> {} refused by the driver: error {} (dev_addr {})",
                    Mac(before.mac),
                    Mac(want.mac),
                    r,
                    Mac(now)
                );
                failed(r);
            }
        }
        let mut mc_from = before;
        if want.flags != before.flags || want.multicast() != before.multicast() {
            let mc = want.multicast();
            // SAFETY: as above; `mc` is `mc.len()` contiguous 6-byte addresses.
            let r =
                unsafe { bindings::dde_netdev_set_rx_mode(self.dev, want.flags, mc.as_ptr().cast(), mc.len() as i32) };
            // SAFETY: as above.
            let (flags, count) =
                unsafe { (bindings::dde_netdev_rx_flags(self.dev), bindings::dde_netdev_mc_count(self.dev)) };
            if r == 0 {
                mc_from = *want;
                rt::info!(
                    "config: rx mode promisc {}, allmulti {}, {} multicast {} (dev->flags promisc {}, allmulti {}; {} on its list)",
                    on(want.promisc()),
                    on(want.allmulti()),
                    mc.len(),
                    addresses(mc.len()),
                    on(flags & IFF_PROMISC != 0),
                    on(flags & IFF_ALLMULTI != 0),
                    count
                );
            } else {
                rt::warn!("config: rx mode refused by the driver: error {}", r);
                failed(r);
            }
        }
        self.current = self.read_device(&mc_from);
        first_error
    }

    /// Replays the recorded configuration into the device: right after probe,
    /// before attaching to netd and opening the device (see the module's
    /// comment for why then).
    pub fn replay(&mut self) {
        let Some(store) = self.store else { return };
        let text = match store.get(&self.key) {
            Ok((Value::Str(s), _)) => s,
            Ok(_) => {
                rt::warn!("config: {} is not a configuration record; ignored", self.key);
                return;
            }
            Err(StoreError::Refused(Refusal::NotFound)) => {
                rt::debug!("config: nothing recorded under {}", self.key);
                return;
            }
            Err(e) => {
                rt::warn!("config: cannot read {}: {}; the probed configuration stands", self.key, e);
                return;
            }
        };
        let record = match Record::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                rt::warn!("config: the record under {} is unusable ({}): {}", self.key, e, text);
                return;
            }
        };
        let error = self.apply(&record.config);
        self.recorded = Some(record);
        self.generation = record.generation;
        let c = &self.current;
        let n = c.multicast().len();
        rt::info!(
            "config: replayed mtu {}, mac {}, promisc {}, allmulti {}, {} multicast {} into incarnation {}{}",
            c.mtu,
            Mac(c.mac),
            on(c.promisc()),
            on(c.allmulti()),
            n,
            addresses(n),
            rt::env::value("incarnation").unwrap_or(1),
            if error == 0 { String::new() } else { format!(" (the driver refused part of it: error {error})") }
        );
    }

    /// After attaching to netd: reports what the device has, then applies
    /// whatever netd published that is newer.
    pub fn attached(&mut self, nic: &Nic) {
        self.report(nic, 0);
        let _ = nic.to_netd.trigger();
        self.poll(nic);
    }

    /// On every turn of the main loop: applies a new generation from netd,
    /// reports, echoes it and records the result.
    pub fn poll(&mut self, nic: &Nic) {
        if self.retry_at.is_some_and(|t| rt::time::ticks() >= t) {
            self.record();
        }
        let config = &nic.rings.header().config;
        let applied = config.applied.load(Ordering::Acquire);
        if config.generation.load(Ordering::Acquire) == applied {
            return;
        }
        // `None`: netd is writing; it wakes this thread when it is done.
        let Some((generation, want)) = config.snapshot() else { return };
        if generation == applied {
            return;
        }
        let error = match want {
            Ok(want) => {
                rt::info!("config: generation {} from netd", generation);
                self.apply(&want)
            }
            Err(e) => {
                rt::warn!("config: generation {} from netd refused: {}", generation, e);
                -22
            }
        };
        self.generation = generation;
        self.report(nic, error);
        config.applied.store(generation, Ordering::Release);
        let _ = nic.to_netd.trigger();
        self.record();
    }

    /// What the device has, into the ring header for netd.
    fn report(&self, nic: &Nic, error: i32) {
        // SAFETY: `dev` is registered.
        let mc_count = unsafe { bindings::dde_netdev_mc_count(self.dev) };
        let c = &self.current;
        nic.rings.header().report_driver(&DriverReport {
            mtu: c.mtu,
            mac: c.mac,
            flags: c.flags,
            mc_count: mc_count.max(0) as u32,
            error,
        });
    }

    /// Writes what the device has into the store, if it changed.
    fn record(&mut self) {
        let Some(store) = self.store else { return };
        let record = Record { generation: self.generation, config: self.current };
        if self.recorded.is_some_and(|r| r.config == record.config) {
            self.retry_at = None;
            return;
        }
        match store.put_str(&self.key, &record.to_string()) {
            Ok(_) => {
                rt::info!("config: recorded {}", record);
                self.recorded = Some(record);
                self.retry_at = None;
            }
            Err(e) => {
                if self.retry_at.is_none() {
                    rt::warn!("config: cannot record the configuration: {}; trying again every second", e);
                }
                self.retry_at = Some(rt::time::ticks() + RETRY_MS);
            }
        }
    }
}

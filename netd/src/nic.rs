//! NIC driver tasks attaching through netd's `nic` endpoint.
//!
//! netd owns everything a driver's data path needs: the ring dataspace and both
//! IRQ objects are created in netd's task on a client's first ATTACH and handed
//! out again, untouched, when the same client (a restarted driver, recognised by
//! its gate's label) attaches again. Rings, indices and every TCP connection on
//! top of them outlive the driver; the new instance carries on where the old one
//! stopped.
//!
//! With MINIX-style restarts a driver instance owns its rings instead: netd
//! learns of it from the data store ([`crate::announce`]), drops the previous
//! instance's rings with what was in flight, and formats the new ones
//! ([`Nics::announced`]).
//!
//! netd also owns each NIC's configuration ([`Nic::change`]): it publishes an
//! operator's change in the ring header for the driver, and follows what the
//! driver reports its device has ([`Nic::refresh_driver`]).

use crate::announce::Announcements;
use crate::reply::{Reply, Request};
use alloc::string::String;
use alloc::vec::Vec;
use netring::config::{IFF_ALLMULTI, IFF_PROMISC, MAX_MTU, MIN_MTU};
use netring::{ConfigError, Dir, Mac, NicConfig, Rings};
use protocols::nic;
use protocols::nicconfig;
use rt::mem::Region;
use rt::obj::{Dataspace, Factory, Irq, Thread};
use rt::sys::message::{Bytes, List, Word};
use rt::{Rights, ipc};

/// Slots per ring: 256 frames each way (about 1 MiB of shared memory).
pub const SLOTS: u32 = nic::RING_SLOTS;

pub struct Nic {
    /// The label of the driver's gate: who it is across restarts.
    pub label: u64,
    /// The driver task's name in the manifest (`eth0`).
    pub name: String,
    pub region: Region,
    pub rings: Rings,
    /// netd triggers it for the driver (tx frames, rx slots free).
    pub to_driver: Irq,
    /// The driver triggers it for netd (rx frames, tx slots done).
    pub to_netd: Irq,
    /// The hardware address the driver's device has (from ATTACH, then from
    /// its reports): what smoltcp must use.
    pub mac: [u8; 6],
    /// The MTU the driver's device has.
    pub driver_mtu: u32,
    pub link_up: bool,
    pub attaches: u32,
    /// The configuration netd wants (the operator's), and its generation in
    /// the ring header (even; 0 before the first change).
    pub config: NicConfig,
    pub generation: u32,
    /// MINIX-style: the data-store version of the rings in use (0: netd's own).
    pub announced: u64,
    /// Lines logged about what the driver wrote into its ring header, and
    /// corrupt rx rings dropped: a driver flipping its header must not flood
    /// the console (see [`Nic::worth_logging`]).
    pub logged: u64,
    pub overruns: u64,
}

#[derive(Debug)]
pub enum NicError {
    /// The MAC address is not a unicast address smoltcp can use.
    BadMac,
    /// MINIX-style: the driver attached before announcing its rings.
    NotAnnounced,
    Store(datastore::Error),
    Kernel(rt::Error),
    Ring(netring::RingError),
}

impl From<rt::Error> for NicError {
    fn from(e: rt::Error) -> Self {
        NicError::Kernel(e)
    }
}

impl core::fmt::Display for NicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NicError::BadMac => f.write_str("not a unicast MAC address"),
            NicError::NotAnnounced => f.write_str("no rings announced in the data store (MINIX-style restarts)"),
            NicError::Store(e) => write!(f, "data store: {e}"),
            NicError::Kernel(e) => write!(f, "kernel: {e}"),
            NicError::Ring(e) => write!(f, "rings: {e:?}"),
        }
    }
}

impl NicError {
    /// What the driver is told ([`nic::Refusal`]): netd's reason, and the
    /// kernel's after one of netd's kernel calls failed, so the driver learns
    /// which call failed and why.
    fn refusal(&self) -> nic::Refusal {
        match self {
            NicError::BadMac => nic::Refusal::Netd(nic::Error::NotUnicast),
            NicError::NotAnnounced => nic::Refusal::Netd(nic::Error::NotAnnounced),
            NicError::Store(_) => nic::Refusal::Netd(nic::Error::Store),
            NicError::Ring(_) => nic::Refusal::Netd(nic::Error::Rings),
            NicError::Kernel(e) => nic::Refusal::Kernel(*e),
        }
    }
}

impl Nic {
    /// netd's own rings and both IRQ objects (transparent restarts).
    fn create(label: u64, name: &str, index: usize, irq_label: u64) -> Result<Nic, NicError> {
        let size = netring::region_size(SLOTS) as u64;
        let region = rt::mem::alloc(size, false)?;
        let to_driver = match Factory::own().create_irq() {
            Ok(i) => i,
            Err(e) => {
                region.free();
                return Err(e.into());
            }
        };
        Nic::with_rings(label, name, index, irq_label, region, to_driver)
    }

    /// A NIC over `region`, which is formatted here; `to_driver` is kept, or
    /// released with the region if this fails.
    fn with_rings(
        label: u64,
        name: &str,
        index: usize,
        irq_label: u64,
        region: Region,
        to_driver: Irq,
    ) -> Result<Nic, NicError> {
        let fail = |region: Region, to_driver: Irq, e: NicError| {
            region.free();
            rt::obj::release(to_driver.0);
            Err(e)
        };
        // SAFETY: `region` is mapped writable here and stays mapped as long
        // as the `Nic` holds it.
        let rings = match unsafe { Rings::init(region.as_mut_ptr(), region.size as usize, SLOTS) } {
            Ok(r) => r,
            Err(e) => return fail(region, to_driver, NicError::Ring(e)),
        };
        let to_netd = match Factory::own().create_irq() {
            Ok(i) => i,
            Err(e) => return fail(region, to_driver, e.into()),
        };
        if let Err(e) = to_netd.attach(&Thread::own_main(), irq_label | index as u64) {
            rt::obj::release(to_netd.0);
            return fail(region, to_driver, e.into());
        }
        Ok(Nic {
            label,
            name: name.into(),
            region,
            rings,
            to_driver,
            to_netd,
            mac: [0; 6],
            driver_mtu: 0,
            link_up: false,
            attaches: 0,
            config: NicConfig::new([0; 6], MAX_MTU),
            generation: 0,
            announced: 0,
            logged: 0,
            overruns: 0,
        })
    }

    /// Whether one more line about this driver's reports is worth the
    /// console: the first 20, then every 100th.
    pub fn worth_logging(&mut self) -> bool {
        self.logged += 1;
        self.logged <= 20 || self.logged.is_multiple_of(100)
    }

    /// Reads the link state the driver keeps in the ring header.
    pub fn refresh_link(&mut self) -> bool {
        let up = self.rings.header().link_up.load(core::sync::atomic::Ordering::Acquire) != 0;
        let changed = up != self.link_up;
        self.link_up = up;
        changed
    }

    /// Reads what the driver reports its device has; returns whether its MAC
    /// or MTU changed. A report netd cannot use (the driver writes it) is
    /// ignored.
    pub fn refresh_driver(&mut self) -> bool {
        let r = self.rings.header().driver_report();
        if r.mac == self.mac && r.mtu == self.driver_mtu {
            return false;
        }
        if !Mac(r.mac).is_unicast() || !(MIN_MTU..=MAX_MTU).contains(&r.mtu) {
            return false;
        }
        if self.worth_logging() {
            if r.mac != self.mac {
                rt::info!("{}: the driver's device has MAC {} now", self.name, Mac(r.mac));
            }
            if r.mtu != self.driver_mtu {
                rt::info!("{}: the driver's device has MTU {} now", self.name, r.mtu);
            }
        }
        self.mac = r.mac;
        self.driver_mtu = r.mtu;
        true
    }

    /// The MTU smoltcp may use: what netd wants, as far as the device takes it.
    pub fn mtu(&self) -> u32 {
        self.config.mtu.min(self.driver_mtu)
    }

    /// An operator's change (`protocols::nicconfig::SET`): validated, then
    /// published for the driver. Returns the generation that carries it; a
    /// refused change changes nothing.
    pub fn change(&mut self, what: u64, value: u64) -> Result<u32, nicconfig::Error> {
        let mut next = self.config;
        let flag = |v: u64| match v {
            0 | 1 => Ok(v == 1),
            _ => Err(nicconfig::Error::Invalid),
        };
        let mac = |v: u64| <[u8; 6]>::from_word(v).map_err(|_| nicconfig::Error::Invalid);
        let r = match what {
            nicconfig::MTU => next.set_mtu(u32::try_from(value).unwrap_or(u32::MAX)),
            nicconfig::MAC => next.set_mac(mac(value)?),
            nicconfig::PROMISC => next.set_flag(IFF_PROMISC, flag(value)?),
            nicconfig::ALLMULTI => next.set_flag(IFF_ALLMULTI, flag(value)?),
            nicconfig::MC_ADD => next.add_multicast(mac(value)?),
            nicconfig::MC_DEL => next.remove_multicast(mac(value)?),
            _ => return Err(nicconfig::Error::Invalid),
        };
        r.map_err(config_error_code)?;
        if next != self.config {
            self.config = next;
            self.generation = self.generation.wrapping_add(2);
            self.rings.header().config.publish(self.generation, &self.config);
            let _ = self.to_driver.trigger();
        }
        Ok(self.generation)
    }

    /// The `SHOW` reply's fixed part.
    pub fn show(&self) -> nicconfig::Show {
        let h = self.rings.header();
        let r = h.driver_report();
        let c = &self.config;
        nicconfig::Show {
            name: Bytes::truncated(&self.name),
            generation: self.generation as u64,
            applied: h.config.applied.load(core::sync::atomic::Ordering::Acquire) as u64,
            mtu: c.mtu as u64,
            flags: c.flags as u64,
            mac: c.mac,
            // Never cut: netd's list is no longer than SHOW's (below).
            multicast: List::new(c.multicast()).unwrap_or_default(),
            driver_mtu: r.mtu as u64,
            driver_flags: r.flags as u64,
            driver_mac: r.mac,
            driver_mc_count: r.mc_count as u64,
            driver_error: r.error as i64,
            incarnation: h.incarnation.load(core::sync::atomic::Ordering::Acquire) as u64,
        }
    }
}

const _: () = assert!(netring::config::MAX_MC <= nicconfig::MAX_MC);

/// The `nicconfig` error for a refused change.
fn config_error_code(e: ConfigError) -> nicconfig::Error {
    match e {
        ConfigError::MtuRange => nicconfig::Error::MtuRange,
        ConfigError::NotUnicast => nicconfig::Error::NotUnicast,
        ConfigError::NotMulticast => nicconfig::Error::NotMulticast,
        ConfigError::Duplicate => nicconfig::Error::Exists,
        ConfigError::NotListed => nicconfig::Error::NotListed,
        ConfigError::ListFull => nicconfig::Error::Full,
        ConfigError::BadFlags | ConfigError::Malformed => nicconfig::Error::Invalid,
    }
}

/// A MAC smoltcp accepts for an Ethernet interface: unicast, not all zero.
pub fn usable_mac(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0 && mac != [0; 6]
}

/// What netd does when a driver attaches again, from the manifest's
/// `[system] restart`: `Transparent` (the default), the new driver gets the
/// rings as they are and carries on from their indices, nothing in flight is
/// lost; `Minix`, MINIX 3's way, for comparison: netd notices the new
/// instance, formats the rings afresh and drops the frames in flight, and TCP
/// sends them again.
pub use manifest::RestartMode;

pub struct Nics {
    pub list: Vec<Nic>,
    /// `(driver task, gate label)` for every client of `nic`.
    pub clients: Vec<(String, u64)>,
    irq_label: u64,
    pub mode: RestartMode,
    /// MINIX-style: where netd learns of driver instances.
    announcements: Option<Announcements>,
}

/// What a `nic` call changed, for the main loop.
pub enum Event {
    None,
    /// A driver attached (first time or again): index into `list`.
    Attached(usize),
    /// A driver reported its link state.
    Link,
}

impl Nics {
    /// `irq_label` (or'ed with a NIC's index) is what a driver's notification
    /// carries; `store_label` the data store's, with MINIX-style restarts.
    pub fn new(irq_label: u64, store_label: u64, mode: RestartMode) -> Nics {
        let clients = boot::clients_of("nic");
        let announcements = match mode {
            RestartMode::Transparent => None,
            RestartMode::Minix => {
                let names: Vec<&str> = clients.iter().map(|(n, _)| n.as_str()).collect();
                match Announcements::new(&names, store_label) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        rt::error!("MINIX-style restarts without the data store: {}; no driver can attach", e);
                        None
                    }
                }
            }
        };
        let mut nics = Nics { list: Vec::new(), clients, irq_label, mode, announcements };
        if let Some(a) = &nics.announcements {
            let all = a.all();
            nics.take_announcements(all);
        }
        nics
    }

    /// MINIX-style: the data store says drivers announced new instances.
    pub fn store_news(&mut self) {
        let Some(a) = &self.announcements else { return };
        let news = a.news();
        self.take_announcements(news);
    }

    fn take_announcements(&mut self, drivers: Vec<String>) {
        for name in drivers {
            match self.announced(&name) {
                Ok(()) | Err(NicError::Store(datastore::Error::Refused(datastore::Refusal::NotFound))) => {}
                Err(e) => rt::warn!("{}: announced rings refused: {}", name, e),
            }
        }
    }

    /// A new instance of driver `name` announced its rings: the previous
    /// instance's go, with what was in flight on them; the new ones are
    /// formatted and carry the configuration netd wants, and the instance is
    /// woken to ATTACH. As MINIX's network server re-initialises a restarted
    /// driver, nothing of the old data path survives but the connections.
    fn announced(&mut self, name: &str) -> Result<(), NicError> {
        let Some(label) = self.clients.iter().find(|(n, _)| n == name).map(|(_, l)| *l) else { return Ok(()) };
        let Some(a) = &self.announcements else { return Ok(()) };
        let (ds, wake, version) = a.lookup(name).map_err(NicError::Store)?;
        let to_driver = Irq(wake);
        let at = self.list.iter().position(|n| n.label == label);
        if at.is_some_and(|i| self.list[i].announced == version) {
            rt::obj::release(ds);
            rt::obj::release(wake);
            return Ok(());
        }
        let size = netring::region_size(SLOTS) as u64;
        let ds = Dataspace(ds);
        let addr = match rt::mem::attach(&ds, size, true) {
            Ok(a) => a,
            Err(e) => {
                rt::obj::release(ds.0);
                rt::obj::release(wake);
                return Err(e.into());
            }
        };
        let region = Region { addr, size, ds, phys: 0 };
        let i = match at {
            None => {
                let nic = Nic::with_rings(label, name, self.list.len(), self.irq_label, region, to_driver)?;
                self.list.push(nic);
                self.list.len() - 1
            }
            Some(i) => {
                let n = &mut self.list[i];
                let (rx, tx) = (n.rings.pending(Dir::Rx), SLOTS - n.rings.space(Dir::Tx));
                // The count of driver instances is not in-flight state: it stays.
                let incarnation = n.rings.header().incarnation.load(core::sync::atomic::Ordering::Acquire);
                // SAFETY: `region` is mapped writable here and stays mapped as
                // long as the `Nic` holds it; the new driver instance waits
                // for netd's trigger before it touches it.
                let rings = match unsafe { Rings::init(region.as_mut_ptr(), region.size as usize, SLOTS) } {
                    Ok(r) => r,
                    Err(e) => {
                        region.free();
                        rt::obj::release(wake);
                        return Err(NicError::Ring(e));
                    }
                };
                rings.header().incarnation.store(incarnation, core::sync::atomic::Ordering::Release);
                n.rings = rings;
                core::mem::replace(&mut n.region, region).free();
                rt::obj::release(core::mem::replace(&mut n.to_driver, to_driver).0);
                // As MINIX's INET re-initialises a restarted driver, netd hands
                // the new instance its configuration again (which the instance
                // has already replayed from its record in the data store).
                if n.generation > 0 {
                    n.generation = n.generation.wrapping_add(2);
                    n.rings.header().config.publish(n.generation, &n.config);
                }
                rt::info!(
                    "{}: MINIX-style restart: rings formatted afresh, {} rx and {} tx frames dropped (new instance learned from the data store)",
                    n.name,
                    rx,
                    tx
                );
                i
            }
        };
        let n = &mut self.list[i];
        n.announced = version;
        let _ = n.to_driver.trigger();
        Ok(())
    }

    pub fn is_client(&self, label: u64) -> bool {
        self.clients.iter().any(|(_, l)| *l == label)
    }

    /// Serves one call from a driver's gate.
    pub fn handle(&mut self, label: u64, req: &Request) -> (Reply, Event) {
        let error = |e: nic::Error| Reply::refusal(nic::Refusal::Netd(e));
        let request = match req.decode::<nic::Request>() {
            Ok(r) => r,
            Err(e) => return (error(e.into()), Event::None),
        };
        match request {
            nic::Request::Attach { mac, mtu, link } => match self.attach(label, mac, mtu, link) {
                Ok(i) => {
                    let n = &self.list[i];
                    let items = [
                        ipc::cap_item(n.region.ds.0, Rights::READ | Rights::WRITE),
                        ipc::cap_item(n.to_driver.0, Rights::SERVER | Rights::READ),
                        ipc::cap_item(n.to_netd.0, Rights::WRITE | Rights::READ),
                    ];
                    let attached = nic::Attached { ring_bytes: n.region.size, slots: SLOTS as u64 };
                    (Reply::typed(&attached, &items), Event::Attached(i))
                }
                Err(e) => {
                    rt::warn!("attach from {} refused: {}", self.client_name(label), e);
                    (Reply::refusal(e.refusal()), Event::None)
                }
            },
            nic::Request::Link { up } => match self.list.iter().position(|n| n.label == label) {
                Some(i) => {
                    let n = &mut self.list[i];
                    n.link_up = up;
                    rt::info!("{}: link {}", n.name, if n.link_up { "up" } else { "down" });
                    (Reply::word(0), Event::Link)
                }
                None => (error(nic::Error::NotAttached), Event::None),
            },
        }
    }

    fn client_name(&self, label: u64) -> &str {
        self.clients.iter().find(|(_, l)| *l == label).map_or("?", |(n, _)| n.as_str())
    }

    fn attach(&mut self, label: u64, mac: [u8; 6], mtu: u64, link: bool) -> Result<usize, NicError> {
        if !usable_mac(mac) {
            return Err(NicError::BadMac);
        }
        let i = match self.list.iter().position(|n| n.label == label) {
            Some(i) => i,
            // MINIX-style, a driver's rings are its own: announced first.
            None if self.mode == RestartMode::Minix => return Err(NicError::NotAnnounced),
            None => {
                let name: String = self.client_name(label).into();
                let nic = Nic::create(label, &name, self.list.len(), self.irq_label)?;
                self.list.push(nic);
                self.list.len() - 1
            }
        };
        let n = &mut self.list[i];
        n.attaches += 1;
        if n.rings.restamp() {
            rt::warn!("{}: the ring header's geometry had been overwritten (by a driver): written again", n.name);
        }
        n.link_up = link;
        // What the driver says now stands until it writes the header itself.
        n.rings.header().link_up.store(link as u32, core::sync::atomic::Ordering::Release);
        // A device that reports a usable MTU is believed; otherwise Ethernet's.
        let mtu = u32::try_from(mtu).ok().filter(|m| (MIN_MTU..=MAX_MTU).contains(m)).unwrap_or(MAX_MTU);
        if n.attaches == 1 {
            n.config = NicConfig::new(mac, mtu);
        } else if mac != n.config.mac {
            // The new instance did not replay the configured address: smoltcp
            // follows the device (the two must agree), the operator sees both.
            rt::warn!("{}: attached again with MAC {}, configured {}", n.name, Mac(mac), Mac(n.config.mac));
        }
        n.mac = mac;
        n.driver_mtu = mtu;
        netring::config::store_mac(&n.rings.header().driver_mac, mac);
        n.rings.header().driver_mtu.store(mtu, core::sync::atomic::Ordering::Release);
        let (rx, tx) = (n.rings.pending(Dir::Rx), n.rings.space(Dir::Tx));
        rt::info!(
            "{}: attached (#{}) mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link {} rx pending {} tx free {}",
            n.name,
            n.attaches,
            n.mac[0],
            n.mac[1],
            n.mac[2],
            n.mac[3],
            n.mac[4],
            n.mac[5],
            if link { "up" } else { "down" },
            rx,
            tx
        );
        Ok(i)
    }
}

//! NIC driver tasks attaching through netd's `nic` endpoint.
//!
//! netd owns everything a driver's data path needs: the ring dataspace and both
//! IRQ objects are created in netd's task on a client's first ATTACH and handed
//! out again, untouched, when the same client (a restarted driver, recognised by
//! its gate's label) attaches again. Rings, indices and every TCP connection on
//! top of them outlive the driver; the new instance carries on where the old one
//! stopped.
//!
//! netd also owns each NIC's configuration ([`Nic::change`]): it publishes an
//! operator's change in the ring header for the driver, and follows what the
//! driver reports its device has ([`Nic::refresh_driver`]).

use crate::reply::{Reply, Request};
use alloc::string::String;
use alloc::vec::Vec;
use netring::config::{IFF_ALLMULTI, IFF_PROMISC, MAX_MTU, MIN_MTU};
use netring::{ConfigError, Dir, Mac, NicConfig, Rings};
use protocols::nic;
use protocols::nicconfig;
use rt::mem::Region;
use rt::obj::{Factory, Irq, Thread};
use rt::{Rights, ipc};

/// Slots per ring: 256 frames each way (about 1 MiB of shared memory).
pub const SLOTS: u32 = 256;

/// Error words of a `nic` reply (a negative `mr[0]`, as in the `pci` protocol).
pub const ERR_INVALID: i64 = -22;
pub const ERR_NO_MEMORY: i64 = -12;

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
}

#[derive(Debug)]
pub enum NicError {
    /// The MAC address is not a unicast address smoltcp can use.
    BadMac,
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
            NicError::Kernel(e) => write!(f, "kernel: {e}"),
            NicError::Ring(e) => write!(f, "rings: {e:?}"),
        }
    }
}

impl NicError {
    fn code(&self) -> i64 {
        match self {
            NicError::BadMac | NicError::Ring(_) => ERR_INVALID,
            NicError::Kernel(_) => ERR_NO_MEMORY,
        }
    }
}

impl Nic {
    fn create(label: u64, name: &str, index: usize, irq_label: u64) -> Result<Nic, NicError> {
        let size = netring::region_size(SLOTS) as u64;
        let region = rt::mem::alloc(size, false)?;
        // SAFETY: `region` is `size` bytes of fresh RAM mapped writable here and
        // kept mapped as long as the `Nic` (it is never freed).
        let rings = match unsafe { Rings::init(region.as_mut_ptr(), region.size as usize, SLOTS) } {
            Ok(r) => r,
            Err(e) => {
                region.free();
                return Err(NicError::Ring(e));
            }
        };
        let irqs = (|| {
            let f = Factory::own();
            let to_driver = f.create_irq()?;
            let to_netd = match f.create_irq() {
                Ok(i) => i,
                Err(e) => {
                    rt::obj::release(to_driver.0);
                    return Err(e);
                }
            };
            if let Err(e) = to_netd.attach(&Thread::own_main(), irq_label | index as u64) {
                rt::obj::release(to_driver.0);
                rt::obj::release(to_netd.0);
                return Err(e);
            }
            Ok((to_driver, to_netd))
        })();
        let (to_driver, to_netd) = match irqs {
            Ok(i) => i,
            Err(e) => {
                region.free();
                return Err(NicError::Kernel(e));
            }
        };
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
        })
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
        if r.mac != self.mac {
            rt::info!("{}: the driver's device has MAC {} now", self.name, Mac(r.mac));
        }
        if r.mtu != self.driver_mtu {
            rt::info!("{}: the driver's device has MTU {} now", self.name, r.mtu);
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
    pub fn change(&mut self, what: u64, value: u64) -> Result<u32, i64> {
        let mut next = self.config;
        let flag = |v: u64| match v {
            0 | 1 => Ok(v == 1),
            _ => Err(nicconfig::ERR_INVALID),
        };
        let mac =
            |v: u64| if nicconfig::is_mac_word(v) { Ok(nic::word_to_mac(v)) } else { Err(nicconfig::ERR_INVALID) };
        let r = match what {
            nicconfig::MTU => next.set_mtu(u32::try_from(value).unwrap_or(u32::MAX)),
            nicconfig::MAC => next.set_mac(mac(value)?),
            nicconfig::PROMISC => next.set_flag(IFF_PROMISC, flag(value)?),
            nicconfig::ALLMULTI => next.set_flag(IFF_ALLMULTI, flag(value)?),
            nicconfig::MC_ADD => next.add_multicast(mac(value)?),
            nicconfig::MC_DEL => next.remove_multicast(mac(value)?),
            _ => return Err(nicconfig::ERR_INVALID),
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
            name: nicconfig::Show::name_bytes(&self.name),
            generation: self.generation as u64,
            applied: h.config.applied.load(core::sync::atomic::Ordering::Acquire) as u64,
            mtu: c.mtu as u64,
            flags: c.flags as u64,
            mac: c.mac,
            mc_count: c.multicast().len() as u64,
            driver_mtu: r.mtu as u64,
            driver_flags: r.flags as u64,
            driver_mac: r.mac,
            driver_mc_count: r.mc_count as u64,
            driver_error: r.error as i64,
            incarnation: h.incarnation.load(core::sync::atomic::Ordering::Acquire) as u64,
        }
    }
}

/// The `nicconfig` error for a refused change.
fn config_error_code(e: ConfigError) -> i64 {
    match e {
        ConfigError::MtuRange => nicconfig::ERR_MTU_RANGE,
        ConfigError::NotUnicast => nicconfig::ERR_NOT_UNICAST,
        ConfigError::NotMulticast => nicconfig::ERR_NOT_MULTICAST,
        ConfigError::Duplicate => nicconfig::ERR_EXISTS,
        ConfigError::NotListed => nicconfig::ERR_NOT_LISTED,
        ConfigError::ListFull => nicconfig::ERR_FULL,
        ConfigError::BadFlags | ConfigError::Malformed => nicconfig::ERR_INVALID,
    }
}

/// A MAC smoltcp accepts for an Ethernet interface: unicast, not all zero.
pub fn usable_mac(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0 && mac != [0; 6]
}

/// What netd does when a driver attaches again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartMode {
    /// The new driver gets the rings as they are and carries on from their
    /// indices: nothing in flight is lost (the default).
    Transparent,
    /// MINIX 3's way, for comparison: netd notices the new instance, formats
    /// the rings afresh and drops the frames in flight; TCP sends them again.
    /// Chosen with `values = { restart-mode = 1 }`.
    Minix,
}

pub struct Nics {
    pub list: Vec<Nic>,
    /// `(driver task, gate label)` for every client of `nic`.
    pub clients: Vec<(String, u64)>,
    irq_label: u64,
    pub mode: RestartMode,
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
    pub fn new(irq_label: u64) -> Nics {
        let mode = match rt::env::value("restart-mode") {
            Some(1) => RestartMode::Minix,
            _ => RestartMode::Transparent,
        };
        Nics { list: Vec::new(), clients: boot::clients_of("nic"), irq_label, mode }
    }

    pub fn is_client(&self, label: u64) -> bool {
        self.clients.iter().any(|(_, l)| *l == label)
    }

    /// Serves one call from a driver's gate.
    pub fn handle(&mut self, label: u64, req: &Request) -> (Reply, Event) {
        let error = |code: i64| Reply::word(code as u64);
        match req.op {
            nic::ATTACH if req.words >= 3 => {
                let (mac, link) = (nic::word_to_mac(req.args[0]), req.args[2] != 0);
                match self.attach(label, mac, req.args[1], link) {
                    Ok(i) => {
                        let n = &self.list[i];
                        let items = [
                            ipc::cap_item(n.region.ds.0, Rights::READ | Rights::WRITE),
                            ipc::cap_item(n.to_driver.0, Rights::SERVER | Rights::READ),
                            ipc::cap_item(n.to_netd.0, Rights::WRITE | Rights::READ),
                        ];
                        (Reply::new(&[n.region.size, SLOTS as u64], &items), Event::Attached(i))
                    }
                    Err(e) => {
                        rt::warn!("attach from {} refused: {}", self.client_name(label), e);
                        (error(e.code()), Event::None)
                    }
                }
            }
            nic::LINK if req.words >= 1 => match self.list.iter().position(|n| n.label == label) {
                Some(i) => {
                    let n = &mut self.list[i];
                    n.link_up = req.args[0] != 0;
                    rt::info!("{}: link {}", n.name, if n.link_up { "up" } else { "down" });
                    (Reply::word(0), Event::Link)
                }
                None => (error(ERR_INVALID), Event::None),
            },
            _ => (error(ERR_INVALID), Event::None),
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
            None => {
                let name: String = self.client_name(label).into();
                let nic = Nic::create(label, &name, self.list.len(), self.irq_label)?;
                self.list.push(nic);
                self.list.len() - 1
            }
        };
        let n = &mut self.list[i];
        n.attaches += 1;
        if n.attaches > 1 && self.mode == RestartMode::Minix {
            let (rx, tx) = (n.rings.pending(Dir::Rx), SLOTS - n.rings.space(Dir::Tx));
            // The count of driver instances is not in-flight state: it stays.
            let incarnation = n.rings.header().incarnation.load(core::sync::atomic::Ordering::Acquire);
            // SAFETY: the region is netd's, mapped for the life of the `Nic`;
            // the previous driver is gone and the new one maps it after this
            // reply.
            match unsafe { Rings::init(n.region.as_mut_ptr(), n.region.size as usize, SLOTS) } {
                Ok(r) => {
                    r.header().incarnation.store(incarnation, core::sync::atomic::Ordering::Release);
                    n.rings = r;
                }
                Err(e) => return Err(NicError::Ring(e)),
            }
            // As MINIX's INET re-initialises a restarted driver, netd hands the
            // new instance its configuration again (which the instance has
            // already replayed from its record in the data store).
            if n.generation > 0 {
                n.generation = n.generation.wrapping_add(2);
                n.rings.header().config.publish(n.generation, &n.config);
            }
            rt::info!(
                "{}: MINIX-style restart: rings formatted afresh, {} rx and {} tx frames dropped",
                n.name,
                rx,
                tx
            );
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

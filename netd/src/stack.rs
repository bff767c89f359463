//! The IP stack: one smoltcp interface over the first NIC that attaches, its
//! address (DHCP, or a static fallback after three seconds without a lease),
//! and the loop that feeds it frames and moves bytes to and from applications.
//!
//! The interface follows its NIC's configuration: smoltcp's MTU is what netd
//! wants as far as the device takes it, and its hardware address is the one
//! the device has (smoltcp and the driver must agree, or the device filters
//! out every frame sent to smoltcp's address). When the address changes, netd
//! announces it with a gratuitous ARP, so that the neighbours (QEMU's user
//! network among them) send to the new one.

use crate::device::{Counters, FrameBufs, RingDevice, kick};
use crate::nic::{self, Nics};
use crate::sockets::Sockets;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::sync::atomic::Ordering;
use netring::Dir;
use netring::watch::{self, Action, RxWatch};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol, HardwareAddress, IpCidr,
    Ipv4Cidr,
};

/// How long DHCP may take before the static fallback.
const DHCP_WAIT_MS: u64 = 3000;
/// QEMU's user network.
const FALLBACK: (Ipv4Addr, u8, Ipv4Addr) = (Ipv4Addr::new(10, 0, 2, 15), 24, Ipv4Addr::new(10, 0, 2, 2));
/// Rounds of poll-and-service per turn of the main loop before it looks at
/// its messages again.
const MAX_ROUNDS: usize = 8;
/// Statistics every this many milliseconds while frames flow.
const STATS_EVERY_MS: u64 = 5_000;

struct Iface {
    iface: Interface,
    /// Index of its NIC in `Nics::list`.
    nic: usize,
    dhcp: Option<SocketHandle>,
    /// Address, prefix, gateway.
    addr: Option<(Ipv4Cidr, Option<Ipv4Addr>)>,
    dhcp_deadline: u64,
    /// What smoltcp uses: the hardware address and the MTU.
    mac: [u8; 6],
    mtu: u32,
    /// The hardware address changed: send a gratuitous ARP.
    announce: bool,
}

pub struct Stack {
    pub sockets: SocketSet<'static>,
    iface: Option<Iface>,
    bufs: FrameBufs,
    counters: Counters,
    last_stats: (u64, u64),
    /// Whether the interface's NIC still receives ([`netring::watch`]).
    rx_watch: RxWatch,
}

fn now() -> Instant {
    Instant::from_millis(rt::time::ticks() as i64)
}

impl Stack {
    pub fn new() -> Stack {
        Stack {
            sockets: SocketSet::new(Vec::new()),
            iface: None,
            bufs: FrameBufs::new(),
            counters: Counters::default(),
            last_stats: (0, 0),
            rx_watch: RxWatch::default(),
        }
    }

    /// A driver attached or reported its link.
    pub fn nic_event(&mut self, nics: &mut Nics, event: nic::Event) {
        let nic::Event::Attached(i) = event else { return };
        if let Some(f) = &self.iface {
            if f.nic == i {
                let kept = match nics.mode {
                    crate::nic::RestartMode::Transparent => "rings,",
                    crate::nic::RestartMode::Minix => "rings formatted afresh;",
                };
                rt::info!("{}: driver back; {} addresses and connections kept", nics.list[i].name, kept);
            } else {
                rt::warn!("{}: only one interface is supported; its frames are ignored", nics.list[i].name);
            }
            return;
        }
        let n = &nics.list[i];
        let mtu = n.mtu();
        let mut dev = RingDevice::new(&n.rings, &mut self.bufs, &mut self.counters, mtu as usize);
        let iface = new_interface(n.mac, &mut dev);
        let dhcp = self.sockets.add(dhcpv4::Socket::new());
        self.iface = Some(Iface {
            iface,
            nic: i,
            dhcp: Some(dhcp),
            addr: None,
            dhcp_deadline: rt::time::ticks() + DHCP_WAIT_MS,
            mac: n.mac,
            mtu,
            announce: false,
        });
    }

    /// The index in `Nics::list` of the interface's NIC, once one attached.
    pub fn nic_index(&self) -> Option<usize> {
        self.iface.as_ref().map(|f| f.nic)
    }

    /// The sockets, and the interface once it has an address (for CONNECT).
    pub fn split(&mut self) -> (&mut SocketSet<'static>, Option<&mut Interface>) {
        let iface = self.iface.as_mut().filter(|f| f.addr.is_some()).map(|f| &mut f.iface);
        (&mut self.sockets, iface)
    }

    /// The socket protocol's INFO.
    pub fn info(&self, nics: &Nics) -> protocols::socket::Info {
        let none = protocols::socket::Info { ip: 0, prefix: 0, gateway: 0, link_up: false };
        let Some(f) = &self.iface else { return none };
        let link_up = nics.list.get(f.nic).is_some_and(|n| n.link_up);
        match f.addr {
            Some((cidr, gw)) => protocols::socket::Info {
                ip: u32::from_be_bytes(cidr.address().octets()),
                prefix: cidr.prefix_len(),
                gateway: gw.map_or(0, |g| u32::from_be_bytes(g.octets())),
                link_up,
            },
            None => protocols::socket::Info { link_up, ..none },
        }
    }

    /// One turn: frames in, smoltcp, bytes to and from applications, frames
    /// out. Returns how many milliseconds netd may sleep (0: look again at once).
    pub fn run(&mut self, nics: &mut Nics, socks: &mut Sockets) -> u64 {
        let Some(f) = &mut self.iface else {
            let _ = socks.service(&mut self.sockets);
            return u64::MAX;
        };
        let t0 = rt::time::rdtsc();
        let n = &mut nics.list[f.nic];
        if n.refresh_link() && n.worth_logging() {
            rt::info!("{}: link {}", n.name, if n.link_up { "up" } else { "down" });
        }
        n.refresh_driver();
        if n.rings.resync_producer_if_corrupt(Dir::Tx) {
            n.overruns += 1;
            if n.worth_logging() {
                rt::warn!(
                    "{}: the driver's tx indices cannot be: reset, frames in flight dropped ({} times)",
                    n.name,
                    n.overruns
                );
            }
        }
        if let Some(claimed) = n.rings.resync_if_overrun(Dir::Rx) {
            n.overruns += 1;
            if n.worth_logging() {
                rt::warn!(
                    "{}: the driver's rx ring claims {} frames, more than it holds: dropped ({} times)",
                    n.name,
                    claimed,
                    n.overruns
                );
            }
        }
        if (n.mac, n.mtu()) != (f.mac, f.mtu) {
            let log = n.worth_logging();
            let mut dev = RingDevice::new(&n.rings, &mut self.bufs, &mut self.counters, 0);
            f.follow(n.mac, n.mtu(), &mut dev, &n.name, log);
        }
        if f.announce && f.addr.is_some() {
            f.announce = !gratuitous_arp(&n.rings, f);
        }
        let mut again = false;
        for _ in 0..MAX_ROUNDS {
            let mut dev = RingDevice::new(&n.rings, &mut self.bufs, &mut self.counters, f.mtu as usize);
            f.iface.poll(now(), &mut dev, &mut self.sockets);
            // What smoltcp sent goes to the driver now, as one batch.
            kick(&n.rings, n.to_driver, &mut self.counters);
            configure(f, &mut self.sockets, &n.name);
            let turn = socks.service(&mut self.sockets);
            again = turn.again;
            if !turn.moved && !turn.again && n.rings.pending(Dir::Rx) == 0 {
                break;
            }
        }
        // The driver may wait for rx slots netd just freed, and for tx frames.
        if n.rings.indices(Dir::Rx).wake_producer.swap(0, Ordering::SeqCst) != 0 {
            let _ = n.to_driver.trigger();
        }
        kick(&n.rings, n.to_driver, &mut self.counters);

        let t = rt::time::ticks();
        let gateway = f.addr.and_then(|(_, gw)| gw);
        match self.rx_watch.step(t, self.counters.rx_frames, n.link_up && gateway.is_some()) {
            Action::Nothing => {}
            Action::Probe => {
                if let Some(gw) = gateway
                    && arp_request(&n.rings, f, gw)
                {
                    kick(&n.rings, n.to_driver, &mut self.counters);
                }
            }
            Action::Reset => {
                rt::warn!(
                    "{}: nothing received for {} s, and {} ARP requests for the gateway went unanswered: asking the driver to end itself so that its device is initialised afresh",
                    n.name,
                    self.rx_watch.quiet_ms(t).max(watch::QUIET_MS + watch::PROBES as u64 * watch::PROBE_EVERY_MS)
                        / 1000,
                    watch::PROBES
                );
                n.rings.header().reset_request.fetch_add(1, Ordering::AcqRel);
                let _ = n.to_driver.trigger();
            }
        }
        if self.counters.rx_frames + self.counters.tx_frames != self.last_stats.1
            && t.saturating_sub(self.last_stats.0) >= STATS_EVERY_MS
        {
            let c = &self.counters;
            let (l, o, cl) = socks.counts();
            let tx = n.rings.indices(Dir::Tx);
            rt::debug!(
                "frames rx {} tx {} tx-dropped {} driver kicks {} (tx ring: {} queued, {} with the driver); turns {} busy {} ms; listeners {} connections {} closing {}",
                c.rx_frames,
                c.tx_frames,
                c.tx_dropped,
                c.driver_kicks,
                tx.head.load(Ordering::Relaxed).wrapping_sub(tx.taken.load(Ordering::Relaxed)),
                tx.taken.load(Ordering::Relaxed).wrapping_sub(tx.done.load(Ordering::Relaxed)),
                c.turns,
                c.busy_tsc / rt::time::tsc_per_ms().max(1),
                l,
                o,
                cl
            );
            self.last_stats = (t, c.rx_frames + c.tx_frames);
        }

        let mut delay = f.iface.poll_delay(now(), &self.sockets).map_or(u64::MAX, |d| d.total_millis());
        if f.addr.is_none() {
            delay = delay.min(f.dhcp_deadline.saturating_sub(t).max(1));
        }
        if core::mem::take(&mut self.counters.tx_full) {
            delay = delay.min(1);
        }
        if again || !n.rings.arm_wake(Dir::Rx) {
            delay = 0;
        }
        self.counters.turns += 1;
        self.counters.busy_tsc += rt::time::rdtsc() - t0;
        delay
    }
}

fn new_interface(mac: [u8; 6], dev: &mut RingDevice<'_>) -> Interface {
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
    config.random_seed = rt::time::rdtsc();
    Interface::new(config, dev, now())
}

impl Iface {
    /// Makes smoltcp use `mac` and `mtu`. smoltcp takes the MTU from the device
    /// only when an interface is made, so a new MTU means a new interface with
    /// the same addresses and route; sockets, and so every connection, live
    /// in the socket set and are kept.
    /// `log`: whether to say so on the console (rate-limited per driver).
    fn follow(&mut self, mac: [u8; 6], mtu: u32, dev: &mut RingDevice<'_>, name: &str, log: bool) {
        if mtu != self.mtu {
            dev.mtu = mtu as usize;
            let addrs: Vec<IpCidr> = self.iface.ip_addrs().to_vec();
            let mut iface = new_interface(mac, dev);
            iface.update_ip_addrs(|a| {
                for cidr in addrs {
                    let _ = a.push(cidr);
                }
            });
            if let Some((_, Some(gw))) = self.addr {
                let _ = iface.routes_mut().add_default_ipv4_route(gw);
            }
            self.iface = iface;
            if log {
                rt::info!("{}: interface MTU {} -> {}", name, self.mtu, mtu);
            }
        } else {
            self.iface.set_hardware_addr(HardwareAddress::Ethernet(EthernetAddress(mac)));
        }
        if mac != self.mac {
            if log {
                rt::info!("{}: interface MAC {} -> {}", name, netring::Mac(self.mac), netring::Mac(mac));
            }
            self.announce = true;
        }
        self.mac = mac;
        self.mtu = mtu;
    }
}

/// A gratuitous ARP (a request for netd's own address, from its new hardware
/// address) into the tx ring. Returns whether it went in.
fn gratuitous_arp(rings: &netring::Rings, f: &Iface) -> bool {
    let Some((cidr, _)) = f.addr else { return true };
    arp_request(rings, f, cidr.address())
}

/// An ARP request for `target` from netd's address into the tx ring.
/// Returns whether it went in (true without an address: nothing to send).
fn arp_request(rings: &netring::Rings, f: &Iface, target: Ipv4Addr) -> bool {
    let Some((cidr, _)) = f.addr else { return true };
    let mac = EthernetAddress(f.mac);
    let mut buf = [0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    eth.set_dst_addr(EthernetAddress::BROADCAST);
    eth.set_src_addr(mac);
    eth.set_ethertype(EthernetProtocol::Arp);
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: cidr.address(),
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: target,
    };
    arp.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    rings.push(Dir::Tx, &buf)
}

/// Takes DHCP's news, or falls back to the static address when it is late.
fn configure(f: &mut Iface, sockets: &mut SocketSet<'static>, name: &str) {
    if let Some(h) = f.dhcp {
        match sockets.get_mut::<dhcpv4::Socket>(h).poll() {
            Some(dhcpv4::Event::Configured(cfg)) => {
                set_address(f, cfg.address, cfg.router);
                announce(f, name, "dhcp");
            }
            Some(dhcpv4::Event::Deconfigured) if f.addr.is_some() => {
                rt::warn!("{}: DHCP lease lost", name);
                f.iface.update_ip_addrs(|a| a.clear());
                f.iface.routes_mut().remove_default_ipv4_route();
                f.addr = None;
                f.dhcp_deadline = rt::time::ticks() + DHCP_WAIT_MS;
            }
            _ => {}
        }
    }
    if f.addr.is_none() && rt::time::ticks() >= f.dhcp_deadline {
        if let Some(h) = f.dhcp.take() {
            sockets.remove(h);
        }
        let (ip, prefix, gw) = FALLBACK;
        set_address(f, Ipv4Cidr::new(ip, prefix), Some(gw));
        announce(f, name, "static fallback (no DHCP lease in 3 s)");
    }
}

fn set_address(f: &mut Iface, cidr: Ipv4Cidr, router: Option<Ipv4Addr>) {
    f.iface.update_ip_addrs(|a| {
        a.clear();
        let _ = a.push(IpCidr::Ipv4(cidr));
    });
    match router {
        Some(gw) => {
            let _ = f.iface.routes_mut().add_default_ipv4_route(gw);
        }
        None => {
            f.iface.routes_mut().remove_default_ipv4_route();
        }
    }
    f.addr = Some((cidr, router));
}

fn announce(f: &Iface, name: &str, how: &str) {
    let Some((cidr, gw)) = f.addr else { return };
    match gw {
        Some(gw) => rt::info!("{} up {} via {} (gateway {})", name, cidr, how, gw),
        None => rt::info!("{} up {} via {} (no gateway)", name, cidr, how),
    }
}

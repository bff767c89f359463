//! The interface configuration that crosses the ring header, and the record a
//! driver keeps of it in the data store.
//!
//! netd owns the configuration of a NIC (its MTU, hardware address, the
//! promiscuous and all-multicast flags, its multicast list). It validates an
//! operator's change into a [`NicConfig`] and publishes it in the header's
//! [`Config`] area with a new generation; the driver takes a consistent
//! [`Config::snapshot`], applies it through the driver's own `netdev_ops`,
//! reports what the device then has ([`DriverReport`]) and echoes the
//! generation in `applied`. The driver also writes the result into the data
//! store as a [`Record`] (one line of text), from which its next incarnation
//! replays it: the rings may be formatted afresh (MINIX-style restarts), the
//! record is not.
//!
//! Nothing read from shared memory or the store is trusted: [`NicConfig::check`]
//! validates a whole configuration, and every setter validates its part.

use crate::{Config, Header};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering, fence};

/// Smallest MTU (IPv4's minimum datagram size).
pub const MIN_MTU: u32 = 68;
/// Largest MTU: a ring slot holds an Ethernet frame of at most
/// [`crate::MAX_FRAME`] bytes (header and VLAN tag included).
pub const MAX_MTU: u32 = (crate::MAX_FRAME - 18) as u32;
/// Multicast addresses the configuration holds.
pub const MAX_MC: usize = 16;
/// Linux's `dev->flags` bits the configuration carries.
pub const IFF_PROMISC: u32 = 0x100;
pub const IFF_ALLMULTI: u32 = 0x200;
pub const RX_FLAGS: u32 = IFF_PROMISC | IFF_ALLMULTI;

/// Why a configuration (or a change to one) is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The MTU is outside [`MIN_MTU`]..=[`MAX_MTU`].
    MtuRange,
    /// Not an address an interface can have: multicast, or all zero.
    NotUnicast,
    /// Not a multicast address (or the broadcast address, always received).
    NotMulticast,
    /// Flags other than IFF_PROMISC and IFF_ALLMULTI.
    BadFlags,
    /// The multicast address is in the list already.
    Duplicate,
    /// The multicast address is not in the list.
    NotListed,
    /// The multicast list holds [`MAX_MC`] addresses already.
    ListFull,
    /// A record or shared configuration that does not parse.
    Malformed,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MtuRange => write!(f, "MTU out of range {MIN_MTU}..={MAX_MTU}"),
            ConfigError::NotUnicast => f.write_str("not a unicast MAC address"),
            ConfigError::NotMulticast => f.write_str("not a multicast MAC address"),
            ConfigError::BadFlags => f.write_str("flags other than promisc and allmulti"),
            ConfigError::Duplicate => f.write_str("already in the multicast list"),
            ConfigError::NotListed => f.write_str("not in the multicast list"),
            ConfigError::ListFull => write!(f, "the multicast list is full ({MAX_MC} addresses)"),
            ConfigError::Malformed => f.write_str("malformed configuration"),
        }
    }
}

/// A MAC address, printed and parsed as `52:54:00:12:34:56`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl Mac {
    /// Six two-digit hexadecimal bytes separated by `:`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Mac> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next()?;
            if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        parts.next().is_none().then_some(Mac(out))
    }

    /// An address an interface can have: unicast, not all zero.
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0 && self.0 != [0; 6]
    }

    /// A multicast group address (the broadcast address is not one: it is
    /// always received).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1 && self.0 != [0xff; 6]
    }
}

/// One interface's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NicConfig {
    pub mtu: u32,
    pub mac: [u8; 6],
    /// [`IFF_PROMISC`] | [`IFF_ALLMULTI`].
    pub flags: u32,
    mc: [[u8; 6]; MAX_MC],
    mc_count: usize,
}

impl NicConfig {
    /// A device's configuration as it comes from probe: its address and MTU,
    /// no flags, no multicast addresses.
    pub fn new(mac: [u8; 6], mtu: u32) -> NicConfig {
        NicConfig { mtu, mac, flags: 0, mc: [[0; 6]; MAX_MC], mc_count: 0 }
    }

    pub fn multicast(&self) -> &[[u8; 6]] {
        &self.mc[..self.mc_count]
    }

    pub fn promisc(&self) -> bool {
        self.flags & IFF_PROMISC != 0
    }

    pub fn allmulti(&self) -> bool {
        self.flags & IFF_ALLMULTI != 0
    }

    pub fn set_mtu(&mut self, mtu: u32) -> Result<(), ConfigError> {
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(ConfigError::MtuRange);
        }
        self.mtu = mtu;
        Ok(())
    }

    pub fn set_mac(&mut self, mac: [u8; 6]) -> Result<(), ConfigError> {
        if !Mac(mac).is_unicast() {
            return Err(ConfigError::NotUnicast);
        }
        self.mac = mac;
        Ok(())
    }

    /// Sets or clears [`IFF_PROMISC`] or [`IFF_ALLMULTI`].
    pub fn set_flag(&mut self, flag: u32, on: bool) -> Result<(), ConfigError> {
        if flag == 0 || flag & !RX_FLAGS != 0 {
            return Err(ConfigError::BadFlags);
        }
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
        Ok(())
    }

    pub fn add_multicast(&mut self, mac: [u8; 6]) -> Result<(), ConfigError> {
        if !Mac(mac).is_multicast() {
            return Err(ConfigError::NotMulticast);
        }
        if self.multicast().contains(&mac) {
            return Err(ConfigError::Duplicate);
        }
        if self.mc_count == MAX_MC {
            return Err(ConfigError::ListFull);
        }
        self.mc[self.mc_count] = mac;
        self.mc_count += 1;
        Ok(())
    }

    pub fn remove_multicast(&mut self, mac: [u8; 6]) -> Result<(), ConfigError> {
        let i = self.multicast().iter().position(|m| *m == mac).ok_or(ConfigError::NotListed)?;
        self.mc.copy_within(i + 1..self.mc_count, i);
        self.mc_count -= 1;
        self.mc[self.mc_count] = [0; 6];
        Ok(())
    }

    /// Replaces the multicast list (addresses past [`MAX_MC`] are refused).
    pub fn set_multicast(&mut self, list: &[[u8; 6]]) -> Result<(), ConfigError> {
        let mut next = *self;
        next.mc = [[0; 6]; MAX_MC];
        next.mc_count = 0;
        for m in list {
            next.add_multicast(*m)?;
        }
        *self = next;
        Ok(())
    }

    /// Checks a whole configuration, as read from shared memory or a record.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut fresh = NicConfig::new(self.mac, self.mtu);
        fresh.set_mtu(self.mtu)?;
        fresh.set_mac(self.mac)?;
        if self.flags & !RX_FLAGS != 0 {
            return Err(ConfigError::BadFlags);
        }
        fresh.set_multicast(self.multicast())
    }
}

/// Stores a MAC address in two 32-bit cells (bytes 0..4, then 4..6).
pub fn store_mac(cells: &[AtomicU32; 2], mac: [u8; 6]) {
    cells[0].store(u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]), Ordering::Relaxed);
    cells[1].store(u32::from_le_bytes([mac[4], mac[5], 0, 0]), Ordering::Relaxed);
}

pub fn load_mac(cells: &[AtomicU32; 2]) -> [u8; 6] {
    let (a, b) = (cells[0].load(Ordering::Relaxed).to_le_bytes(), cells[1].load(Ordering::Relaxed).to_le_bytes());
    [a[0], a[1], a[2], a[3], b[0], b[1]]
}

impl Config {
    /// netd: publishes `cfg` as generation `generation`, which must be even and
    /// larger than the last one. Readers see the old or the new configuration,
    /// never a mix. Wake the driver afterwards.
    pub fn publish(&self, generation: u32, cfg: &NicConfig) {
        debug_assert!(generation.is_multiple_of(2));
        self.generation.store(generation.wrapping_sub(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.mtu.store(cfg.mtu, Ordering::Relaxed);
        self.flags.store(cfg.flags, Ordering::Relaxed);
        store_mac(&self.mac, cfg.mac);
        self.mc_count.store(cfg.mc_count as u32, Ordering::Relaxed);
        for (cell, m) in self.mc.iter().zip(cfg.mc.iter()) {
            store_mac(cell, *m);
        }
        self.generation.store(generation, Ordering::Release);
    }

    /// Driver: the configuration netd published last and its generation, or
    /// `None` while netd is writing it (netd wakes the driver when it is done).
    /// The configuration is checked: shared memory is not trusted.
    pub fn snapshot(&self) -> Option<(u32, Result<NicConfig, ConfigError>)> {
        let generation = self.generation.load(Ordering::Acquire);
        if !generation.is_multiple_of(2) {
            return None;
        }
        let mut cfg = NicConfig::new(load_mac(&self.mac), self.mtu.load(Ordering::Relaxed));
        cfg.flags = self.flags.load(Ordering::Relaxed);
        let count = self.mc_count.load(Ordering::Relaxed) as usize;
        cfg.mc_count = count.min(MAX_MC);
        for (m, cell) in cfg.mc.iter_mut().zip(self.mc.iter()).take(cfg.mc_count) {
            *m = load_mac(cell);
        }
        fence(Ordering::Acquire);
        if self.generation.load(Ordering::Relaxed) != generation {
            return None;
        }
        let cfg = if count > MAX_MC { Err(ConfigError::ListFull) } else { cfg.check().map(|_| cfg) };
        Some((generation, cfg))
    }
}

/// What the driver's device has after a configuration change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverReport {
    pub mtu: u32,
    pub mac: [u8; 6],
    pub flags: u32,
    pub mc_count: u32,
    /// 0, or the first negative errno of the last change.
    pub error: i32,
}

impl Header {
    /// Driver: reports what its device has now. Call before echoing `applied`.
    pub fn report_driver(&self, r: &DriverReport) {
        store_mac(&self.driver_mac, r.mac);
        self.driver_mtu.store(r.mtu, Ordering::Relaxed);
        self.driver_flags.store(r.flags, Ordering::Relaxed);
        self.driver_mc_count.store(r.mc_count, Ordering::Relaxed);
        self.config_error.store(r.error as u32, Ordering::Release);
    }

    /// netd: what the driver reported last (unchecked: the driver writes it).
    pub fn driver_report(&self) -> DriverReport {
        let error = self.config_error.load(Ordering::Acquire) as i32;
        DriverReport {
            mtu: self.driver_mtu.load(Ordering::Relaxed),
            mac: load_mac(&self.driver_mac),
            flags: self.driver_flags.load(Ordering::Relaxed),
            mc_count: self.driver_mc_count.load(Ordering::Relaxed),
            error,
        }
    }
}

/// A configuration as the driver keeps it in the data store: one line,
/// `v1 generation=4 mtu=1400 mac=52:54:00:aa:bb:cc flags=0x100 mc=01:00:5e:00:00:fb,...`
/// (readable in a dump of the store, and checked field by field when read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The generation of netd's configuration this was applied for.
    pub generation: u32,
    pub config: NicConfig,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        write!(f, "v1 generation={} mtu={} mac={} flags={:#x} mc=", self.generation, c.mtu, Mac(c.mac), c.flags)?;
        for (i, m) in c.multicast().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", Mac(*m))?;
        }
        Ok(())
    }
}

impl Record {
    /// Parses what [`Record`]'s `Display` wrote; anything else, or a
    /// configuration that does not pass [`NicConfig::check`], is refused.
    pub fn parse(s: &str) -> Result<Record, ConfigError> {
        let bad = ConfigError::Malformed;
        let mut words = s.split(' ');
        if words.next() != Some("v1") {
            return Err(bad);
        }
        let mut field = |name: &str| -> Result<&str, ConfigError> {
            let w = words.next().ok_or(bad)?;
            w.strip_prefix(name).and_then(|r| r.strip_prefix('=')).ok_or(bad)
        };
        let generation = field("generation")?.parse().map_err(|_| bad)?;
        let mtu = field("mtu")?.parse().map_err(|_| bad)?;
        let mac = Mac::parse(field("mac")?).ok_or(bad)?.0;
        let flags = u32::from_str_radix(field("flags")?.strip_prefix("0x").ok_or(bad)?, 16).map_err(|_| bad)?;
        let mc = field("mc")?;
        if words.next().is_some() {
            return Err(bad);
        }
        let mut config = NicConfig::new(mac, mtu);
        config.flags = flags;
        if !mc.is_empty() {
            for m in mc.split(',') {
                config.add_multicast(Mac::parse(m).ok_or(bad)?.0)?;
            }
        }
        config.check()?;
        Ok(Record { generation, config })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rings, region_size};

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    const MC1: [u8; 6] = [1, 0, 0x5e, 0, 0, 0xfb];
    const MC2: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

    #[test]
    fn macs_print_and_parse() {
        assert_eq!(Mac(MAC).to_string(), "52:54:00:12:34:56");
        assert_eq!(Mac::parse("52:54:00:12:34:56"), Some(Mac(MAC)));
        assert_eq!(Mac::parse("52:54:00:AA:bb:Cc"), Some(Mac([0x52, 0x54, 0, 0xaa, 0xbb, 0xcc])));
        for bad in
            ["", "52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00:12:34:5", "52-54-00-12-34-56", "+2:54:00:12:34:56"]
        {
            assert_eq!(Mac::parse(bad), None, "{bad}");
        }
        assert!(Mac(MAC).is_unicast() && !Mac(MAC).is_multicast());
        assert!(Mac(MC1).is_multicast() && !Mac(MC1).is_unicast());
        assert!(!Mac([0xff; 6]).is_multicast(), "broadcast is no group");
        assert!(!Mac([0; 6]).is_unicast());
    }

    #[test]
    fn setters_validate_and_lose_nothing_on_refusal() {
        let mut c = NicConfig::new(MAC, 1500);
        assert_eq!(c.set_mtu(67), Err(ConfigError::MtuRange));
        assert_eq!(c.set_mtu(1501), Err(ConfigError::MtuRange));
        assert_eq!(c.mtu, 1500);
        c.set_mtu(68).unwrap();
        c.set_mtu(1400).unwrap();
        assert_eq!(c.set_mac(MC1), Err(ConfigError::NotUnicast));
        assert_eq!(c.set_mac([0; 6]), Err(ConfigError::NotUnicast));
        assert_eq!(c.mac, MAC);
        assert_eq!(c.set_flag(0x1, true), Err(ConfigError::BadFlags));
        c.set_flag(IFF_PROMISC, true).unwrap();
        assert!(c.promisc() && !c.allmulti());
        assert_eq!(c.add_multicast(MAC), Err(ConfigError::NotMulticast));
        assert_eq!(c.add_multicast([0xff; 6]), Err(ConfigError::NotMulticast));
        c.add_multicast(MC1).unwrap();
        assert_eq!(c.add_multicast(MC1), Err(ConfigError::Duplicate));
        c.add_multicast(MC2).unwrap();
        assert_eq!(c.remove_multicast(MAC), Err(ConfigError::NotListed));
        c.remove_multicast(MC1).unwrap();
        assert_eq!(c.multicast(), &[MC2]);
        let before = c;
        for i in 0..MAX_MC - 1 {
            c.add_multicast([1, 0, 0x5e, 0, 1, i as u8]).unwrap();
        }
        assert_eq!(c.add_multicast([1, 0, 0x5e, 0, 2, 0]), Err(ConfigError::ListFull));
        assert_eq!(c.multicast().len(), MAX_MC);
        let mut d = before;
        assert_eq!(d.set_multicast(&[MC1, MC1]), Err(ConfigError::Duplicate));
        assert_eq!(d, before, "a refused list changes nothing");
    }

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let mut c = NicConfig::new(MAC, 1400);
        c.set_flag(IFF_PROMISC, true).unwrap();
        c.add_multicast(MC1).unwrap();
        c.add_multicast(MC2).unwrap();
        let r = Record { generation: 8, config: c };
        let text = r.to_string();
        assert_eq!(
            text,
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100 mc=01:00:5e:00:00:fb,33:33:00:00:00:01"
        );
        assert_eq!(Record::parse(&text), Ok(r));
        let plain = Record { generation: 0, config: NicConfig::new(MAC, 1500) };
        assert_eq!(Record::parse(&plain.to_string()), Ok(plain));
        for bad in [
            "",
            "v2 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100 mc=",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100 mc= extra",
            "v1 mtu=1400 generation=8 mac=52:54:00:12:34:56 flags=0x100 mc=",
            "v1 generation=8 mtu=14000 mac=52:54:00:12:34:56 flags=0x100 mc=",
            "v1 generation=8 mtu=1400 mac=01:54:00:12:34:56 flags=0x100 mc=",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x1 mc=",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=256 mc=",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100 mc=52:54:00:12:34:56",
            "v1 generation=8 mtu=1400 mac=52:54:00:12:34:56 flags=0x100 mc=01:00:5e:00:00:fb,",
        ] {
            assert!(Record::parse(bad).is_err(), "{bad}");
        }
    }

    fn header_region() -> Vec<u64> {
        vec![0u64; region_size(2) / 8]
    }

    #[test]
    fn published_configurations_are_read_whole() {
        let mut mem = header_region();
        let (base, len) = (mem.as_mut_ptr() as *mut u8, mem.len() * 8);
        // SAFETY: the vector outlives both views.
        let (netd, drv) = unsafe { (Rings::init(base, len, 2).unwrap(), Rings::attach(base, len).unwrap()) };
        let (n, d) = (&netd.header().config, &drv.header().config);
        assert_eq!(d.snapshot().map(|(g, _)| g), Some(0), "nothing published yet");
        let mut c = NicConfig::new(MAC, 1400);
        c.add_multicast(MC1).unwrap();
        n.publish(2, &c);
        assert_eq!(d.snapshot(), Some((2, Ok(c))));
        // netd in the middle of writing: the driver waits for the next wake-up.
        n.generation.store(3, Ordering::Relaxed);
        assert_eq!(d.snapshot(), None);
        n.publish(4, &c);
        // A corrupt count or address is reported, never applied.
        n.mc_count.store(99, Ordering::Relaxed);
        assert_eq!(d.snapshot(), Some((4, Err(ConfigError::ListFull))));
        n.mc_count.store(1, Ordering::Relaxed);
        n.mtu.store(9000, Ordering::Relaxed);
        assert_eq!(d.snapshot(), Some((4, Err(ConfigError::MtuRange))));
    }

    #[test]
    fn driver_reports_cross_the_header() {
        let mut mem = header_region();
        let (base, len) = (mem.as_mut_ptr() as *mut u8, mem.len() * 8);
        // SAFETY: as above.
        let (netd, drv) = unsafe { (Rings::init(base, len, 2).unwrap(), Rings::attach(base, len).unwrap()) };
        let r = DriverReport { mtu: 1400, mac: MAC, flags: IFF_PROMISC, mc_count: 2, error: -16 };
        drv.header().report_driver(&r);
        assert_eq!(netd.header().driver_report(), r);
    }
}

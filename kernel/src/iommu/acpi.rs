//! Finding the DMA remapping table: the ACPI RSDP, the RSDT or XSDT it
//! points to, and the DMAR table's remapping hardware units.
//!
//! Everything here reads physical memory through a caller's reader, so the
//! same code parses the firmware's tables at boot and made-up tables in host
//! tests. Every length and offset comes from the tables and is checked
//! against what was read before it is used: a malformed table is an error,
//! never a panic.

use alloc::vec::Vec;

/// Reads `buf.len()` bytes of physical memory at `phys`; false when that
/// memory cannot be read.
pub type PhysReader<'a> = &'a dyn Fn(u64, &mut [u8]) -> bool;

/// Why no DMAR table could be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// No RSDP at the boot loader's address, in the EBDA or the BIOS area.
    NoRsdp,
    /// A table that fails its checksum or is shorter than its header.
    BadTable([u8; 4]),
    /// The RSDT/XSDT lists no DMAR table: the machine has no IOMMU.
    NoDmar,
}

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AcpiError::NoRsdp => f.write_str("no ACPI RSDP"),
            AcpiError::BadTable(sig) => {
                write!(f, "the ACPI table {} is malformed", core::str::from_utf8(sig).unwrap_or("????"))
            }
            AcpiError::NoDmar => f.write_str("ACPI has no DMAR table"),
        }
    }
}

/// A PCI requester id: bus, device, function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bdf {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
}

/// One DMA remapping hardware unit (a DRHD structure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub segment: u16,
    /// Physical address of its register page.
    pub base: u64,
    /// It translates every PCI device of its segment that no other unit lists.
    pub include_all: bool,
    /// The PCI endpoints its device scopes name (bus and first path element).
    pub endpoints: Vec<Bdf>,
}

/// A reserved memory region (RMRR) some devices need identity-mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserved {
    pub base: u64,
    pub limit: u64,
}

/// The parts of a DMAR table Resurgo uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dmar {
    /// The width of DMA addresses the platform supports, in bits.
    pub host_address_width: u8,
    /// The platform supports interrupt remapping.
    pub interrupt_remapping: bool,
    pub units: Vec<Unit>,
    pub reserved: Vec<Reserved>,
}

const SDT_HEADER: usize = 36;
/// The largest table this parser reads (QEMU's DMAR is under 100 bytes).
const MAX_TABLE: u32 = 64 * 1024;

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)) == 0
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Whether a valid RSDP (revision 0's 20 bytes, or revision 2's 36) is at `phys`.
fn rsdp_at(read: PhysReader, phys: u64) -> Option<[u8; 36]> {
    let mut b = [0u8; 36];
    if !read(phys, &mut b[..20]) || &b[..8] != b"RSD PTR " || !checksum_ok(&b[..20]) {
        return None;
    }
    if b[15] >= 2 && !(read(phys, &mut b) && checksum_ok(&b)) {
        return None;
    }
    Some(b)
}

/// Finds the RSDP: at `hint` (the boot loader's word) when it is valid, else
/// in the first KiB of the EBDA or the BIOS area 0xe0000..0x100000.
pub fn find_rsdp(read: PhysReader, hint: Option<u64>) -> Result<u64, AcpiError> {
    if let Some(h) = hint.filter(|&h| h != 0)
        && rsdp_at(read, h).is_some()
    {
        return Ok(h);
    }
    let mut ebda = [0u8; 2];
    let ebda = if read(0x40e, &mut ebda) { (u16::from_le_bytes(ebda) as u64) << 4 } else { 0 };
    let areas = [(ebda, ebda + 1024), (0xe_0000, 0x10_0000)];
    for (start, end) in areas.into_iter().filter(|&(s, _)| s != 0) {
        if let Some(at) = (start..end).step_by(16).find(|&p| rsdp_at(read, p).is_some()) {
            return Ok(at);
        }
    }
    Err(AcpiError::NoRsdp)
}

/// Reads the whole table at `phys` and checks its length and checksum.
fn read_table(read: PhysReader, phys: u64) -> Result<Vec<u8>, AcpiError> {
    let mut head = [0u8; SDT_HEADER];
    if !read(phys, &mut head) {
        return Err(AcpiError::BadTable(*b"????"));
    }
    let sig: [u8; 4] = head[..4].try_into().unwrap_or(*b"????");
    let len = u32_at(&head, 4).unwrap_or(0);
    if (len as usize) < SDT_HEADER || len > MAX_TABLE {
        return Err(AcpiError::BadTable(sig));
    }
    let mut table = alloc::vec![0u8; len as usize];
    if !read(phys, &mut table) || !checksum_ok(&table) {
        return Err(AcpiError::BadTable(sig));
    }
    Ok(table)
}

/// The physical address of the table with `signature`, through the XSDT
/// (revision 2 RSDPs) or the RSDT.
pub fn find_table(read: PhysReader, rsdp: u64, signature: &[u8; 4]) -> Result<u64, AcpiError> {
    let r = rsdp_at(read, rsdp).ok_or(AcpiError::NoRsdp)?;
    let xsdt = u64_at(&r, 24).filter(|&x| r[15] >= 2 && x != 0);
    let (root, entry) = match xsdt {
        Some(x) => (x, 8),
        None => (u32_at(&r, 16).unwrap_or(0) as u64, 4),
    };
    let table = read_table(read, root)?;
    for at in (SDT_HEADER..table.len()).step_by(entry) {
        let phys = if entry == 8 { u64_at(&table, at) } else { u32_at(&table, at).map(u64::from) };
        let Some(phys) = phys else { break };
        let mut sig = [0u8; 4];
        if read(phys, &mut sig) && &sig == signature {
            return Ok(phys);
        }
    }
    Err(AcpiError::NoDmar)
}

/// The PCI endpoints of the device scopes in `b` (type 1 scopes; bridges,
/// I/O APICs and HPETs are not DMA sources Resurgo hands to drivers).
fn endpoints(b: &[u8]) -> Vec<Bdf> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 6 <= b.len() {
        let (kind, len) = (b[at], b[at + 1] as usize);
        if len < 6 || at + len > b.len() {
            break;
        }
        // A path of one (device, function) pair names a device on the start bus.
        if kind == 1 && len == 8 {
            out.push(Bdf { bus: b[at + 5], dev: b[at + 6], func: b[at + 7] });
        }
        at += len;
    }
    out
}

/// Parses a DMAR table (header included, checksum already checked).
pub fn parse_dmar(t: &[u8]) -> Result<Dmar, AcpiError> {
    let bad = AcpiError::BadTable(*b"DMAR");
    if t.len() < 48 || &t[..4] != b"DMAR" {
        return Err(bad);
    }
    let mut dmar = Dmar {
        host_address_width: t[36] + 1,
        interrupt_remapping: t[37] & 1 != 0,
        units: Vec::new(),
        reserved: Vec::new(),
    };
    let mut at = 48;
    while at + 4 <= t.len() {
        let kind = u16_at(t, at).ok_or(bad)?;
        let len = u16_at(t, at + 2).ok_or(bad)? as usize;
        if len < 4 || at + len > t.len() {
            return Err(bad);
        }
        let s = &t[at..at + len];
        match kind {
            0 if len >= 16 => dmar.units.push(Unit {
                segment: u16_at(s, 6).ok_or(bad)?,
                base: u64_at(s, 8).ok_or(bad)?,
                include_all: s[4] & 1 != 0,
                endpoints: endpoints(&s[16..]),
            }),
            1 if len >= 24 => {
                dmar.reserved.push(Reserved { base: u64_at(s, 8).ok_or(bad)?, limit: u64_at(s, 16).ok_or(bad)? })
            }
            0 | 1 => return Err(bad),
            _ => {}
        }
        at += len;
    }
    Ok(dmar)
}

/// Finds and parses the DMAR table.
pub fn dmar(read: PhysReader, rsdp_hint: Option<u64>) -> Result<Dmar, AcpiError> {
    let rsdp = find_rsdp(read, rsdp_hint)?;
    let at = find_table(read, rsdp, b"DMAR")?;
    parse_dmar(&read_table(read, at)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    /// Physical memory for tests: bytes at their addresses.
    struct Mem(std::collections::BTreeMap<u64, u8>);

    impl Mem {
        fn new() -> Mem {
            Mem(Default::default())
        }
        fn put(&mut self, at: u64, bytes: &[u8]) {
            for (i, &b) in bytes.iter().enumerate() {
                self.0.insert(at + i as u64, b);
            }
        }
        fn reader(&self) -> impl Fn(u64, &mut [u8]) -> bool + '_ {
            move |at, buf| {
                for (i, b) in buf.iter_mut().enumerate() {
                    match self.0.get(&(at + i as u64)) {
                        Some(&v) => *b = v,
                        None => return false,
                    }
                }
                true
            }
        }
    }

    fn fix_checksum(b: &mut [u8], at: usize) {
        b[at] = 0;
        let sum = b.iter().fold(0u8, |a, &x| a.wrapping_add(x));
        b[at] = 0u8.wrapping_sub(sum);
    }

    fn table(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; SDT_HEADER];
        t[..4].copy_from_slice(sig);
        t.extend_from_slice(body);
        let len = t.len() as u32;
        t[4..8].copy_from_slice(&len.to_le_bytes());
        fix_checksum(&mut t, 9);
        t
    }

    /// A DMAR table like QEMU's q35 with `intel-iommu,intremap=on`: one unit
    /// for every device at 0xfed90000 with an I/O APIC scope, plus an
    /// endpoint scope for 00:03.0 to check scope decoding.
    fn qemu_dmar() -> Vec<u8> {
        let mut body = vec![38, 0b11];
        body.extend_from_slice(&[0; 10]);
        let mut drhd = vec![0, 0, 0, 0, 1, 0, 0, 0];
        drhd.extend_from_slice(&0xfed9_0000u64.to_le_bytes());
        drhd.extend_from_slice(&[3, 8, 0, 0, 0, 0xff, 0, 0]); // I/O APIC 0 at ff:00.0
        drhd.extend_from_slice(&[1, 8, 0, 0, 0, 0, 3, 0]); // endpoint 00:03.0
        let len = drhd.len() as u16;
        drhd[2..4].copy_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&drhd);
        let mut rmrr = vec![1, 0, 24, 0, 0, 0, 0, 0];
        rmrr.extend_from_slice(&0x000e_0000u64.to_le_bytes());
        rmrr.extend_from_slice(&0x000e_ffffu64.to_le_bytes());
        body.extend_from_slice(&rmrr);
        table(b"DMAR", &body)
    }

    fn rsdp(rev: u8, rsdt: u32, xsdt: u64) -> Vec<u8> {
        let mut r = vec![0u8; 36];
        r[..8].copy_from_slice(b"RSD PTR ");
        r[15] = rev;
        r[16..20].copy_from_slice(&rsdt.to_le_bytes());
        r[20..24].copy_from_slice(&36u32.to_le_bytes());
        r[24..32].copy_from_slice(&xsdt.to_le_bytes());
        fix_checksum(&mut r[..20], 8);
        fix_checksum(&mut r, 32);
        if rev < 2 { r[..20].to_vec() } else { r }
    }

    fn machine(rev: u8) -> Mem {
        let mut m = Mem::new();
        m.put(0x40e, &0x9fc0u16.to_le_bytes()); // EBDA at 0x9fc00, without an RSDP
        m.put(0x9fc00, &[0; 1024]);
        m.put(0xe0000, &[0; 0x20000]);
        m.put(0x7000_1000, &table(b"APIC", &[0; 8]));
        m.put(0x7000_2000, &qemu_dmar());
        let mut entries = Vec::new();
        if rev >= 2 {
            entries.extend_from_slice(&0x7000_1000u64.to_le_bytes());
            entries.extend_from_slice(&0x7000_2000u64.to_le_bytes());
            m.put(0x7000_0000, &table(b"XSDT", &entries));
        } else {
            entries.extend_from_slice(&0x7000_1000u32.to_le_bytes());
            entries.extend_from_slice(&0x7000_2000u32.to_le_bytes());
            m.put(0x7000_0000, &table(b"RSDT", &entries));
        }
        m.put(0xf5a30, &rsdp(rev, 0x7000_0000, if rev >= 2 { 0x7000_0000 } else { 0 }));
        m
    }

    #[test]
    fn finds_qemus_dmar_through_the_rsdt_and_the_xsdt() {
        for rev in [0, 2] {
            let m = machine(rev);
            let read = m.reader();
            assert_eq!(find_rsdp(&read, None), Ok(0xf5a30), "found by scanning the BIOS area");
            assert_eq!(find_rsdp(&read, Some(0xf5a30)), Ok(0xf5a30));
            assert_eq!(find_rsdp(&read, Some(0x1234)), Ok(0xf5a30), "a bad hint falls back to the scan");
            let d = dmar(&read, None).unwrap();
            assert_eq!(d.host_address_width, 39);
            assert!(d.interrupt_remapping);
            assert_eq!(d.units.len(), 1);
            let u = &d.units[0];
            assert_eq!((u.segment, u.base, u.include_all), (0, 0xfed9_0000, true));
            assert_eq!(u.endpoints, [Bdf { bus: 0, dev: 3, func: 0 }], "the I/O APIC is no endpoint");
            assert_eq!(d.reserved, [Reserved { base: 0xe0000, limit: 0xeffff }]);
        }
    }

    #[test]
    fn a_machine_without_dmar_or_acpi_says_so() {
        let mut m = machine(2);
        m.put(0x7000_2000, b"NOPE");
        assert_eq!(dmar(&m.reader(), None), Err(AcpiError::NoDmar));
        let mut empty = Mem::new();
        empty.put(0xe0000, &[0; 0x20000]);
        assert_eq!(dmar(&empty.reader(), None), Err(AcpiError::NoRsdp));
    }

    #[test]
    fn malformed_tables_are_errors_not_panics() {
        let good = qemu_dmar();
        // A bad checksum.
        let mut m = machine(2);
        let mut bad = good.clone();
        bad[40] ^= 1;
        m.put(0x7000_2000, &bad);
        assert_eq!(dmar(&m.reader(), None), Err(AcpiError::BadTable(*b"DMAR")));
        // Structure lengths that run past the table, or are too small.
        for (at, len) in [(50usize, 0xffffu16), (50, 2), (50, 10)] {
            let mut t = good.clone();
            t[at..at + 2].copy_from_slice(&len.to_le_bytes());
            assert_eq!(parse_dmar(&t), Err(AcpiError::BadTable(*b"DMAR")), "length {len}");
        }
        // Truncated anywhere: never a panic.
        for n in 0..good.len() {
            let _ = parse_dmar(&good[..n]);
        }
        // A table length beyond what can be read.
        let mut m = machine(2);
        let mut huge = good.clone();
        huge[4..8].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        m.put(0x7000_2000, &huge);
        assert!(matches!(dmar(&m.reader(), None), Err(AcpiError::BadTable(_))));
    }
}

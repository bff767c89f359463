//! Malformed Ethernet frames for the guest, from a seed: truncated and
//! oversized frames, IPv4 headers with bad lengths, checksums, options and
//! fragments, TCP and UDP with bad offsets, lengths and flags, ARP and DHCP
//! garbage, unknown ethertypes and plain random bytes. Every frame is
//! addressed so the guest's NIC takes it in (its MAC, or broadcast) and most
//! go to the guest's IP and to the ports its services listen on, so that the
//! driver, netd's smoltcp, its DHCP client and the services all see them.
//!
//! Pure and deterministic: the same seed gives the same frames.

/// The kinds of malformation, each a share of the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A well-formed TCP/IPv4 frame cut short anywhere, down to one byte.
    Truncated,
    /// Longer than any Ethernet MTU (1515..=9018 bytes).
    Oversized,
    /// IPv4 header length or total length that lie.
    BadIpLength,
    /// IPv4, TCP or UDP checksums that are wrong.
    BadChecksum,
    /// IPv4 fragments: overlapping, tiny, beyond 64 KiB, never completed.
    Fragment,
    /// IPv4 options and TCP options of random kinds and lengths.
    Options,
    /// TCP segments with random flags, data offsets and sequence numbers to the open ports.
    TcpFlags,
    /// UDP with lying lengths, and DHCP replies full of garbage options.
    UdpDhcp,
    /// ARP with wrong sizes and opcodes, and ICMP of every type.
    ArpIcmp,
    /// Random bytes behind the guest's MAC, and random ethertypes (VLAN, IPv6...).
    Random,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Truncated,
        Kind::Oversized,
        Kind::BadIpLength,
        Kind::BadChecksum,
        Kind::Fragment,
        Kind::Options,
        Kind::TcpFlags,
        Kind::UdpDhcp,
        Kind::ArpIcmp,
        Kind::Random,
    ];

    /// The kind with this [`Kind::name`].
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Truncated => "truncated",
            Kind::Oversized => "oversized",
            Kind::BadIpLength => "bad_ip_length",
            Kind::BadChecksum => "bad_checksum",
            Kind::Fragment => "fragment",
            Kind::Options => "options",
            Kind::TcpFlags => "tcp_flags",
            Kind::UdpDhcp => "udp_dhcp",
            Kind::ArpIcmp => "arp_icmp",
            Kind::Random => "random",
        }
    }
}

/// Where the frames go: the guest's addresses and the ports it listens on.
#[derive(Debug, Clone)]
pub struct Target {
    pub guest_mac: [u8; 6],
    pub guest_ip: [u8; 4],
    /// The MAC and IP the frames claim to come from (not the gateway's, so
    /// that netd's view of its real peer stays intact).
    pub peer_mac: [u8; 6],
    pub peer_ip: [u8; 4],
    /// TCP ports the guest listens on (echo 7, sink 9, source 19, httpd 80).
    pub tcp_ports: Vec<u16>,
}

impl Default for Target {
    fn default() -> Target {
        Target {
            guest_mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            guest_ip: [10, 0, 2, 15],
            peer_mac: [0x52, 0x54, 0x00, 0xde, 0xad, 0x01],
            peer_ip: [10, 0, 2, 99],
            tcp_ports: vec![7, 9, 19, 80],
        }
    }
}

/// xorshift64*: small, fast and reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 header (with `options`) and payload, checksum right.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16, frag: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ihl = 5 + options.len().div_ceil(4);
    let mut h = vec![0u8; ihl * 4];
    h[0] = 0x40 | (ihl as u8 & 0x0f);
    let total = (h.len() + payload.len()) as u16;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    h[20..20 + options.len()].copy_from_slice(options);
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// A transport checksum over the IPv4 pseudo-header.
fn transport_checksum(src: [u8; 4], dst: [u8; 4], proto: u8, segment: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(12 + segment.len());
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.push(0);
    pseudo.push(proto);
    pseudo.extend_from_slice(&(segment.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(segment);
    checksum(&pseudo)
}

/// A TCP segment (checksum right) with `flags`, `options` and `data`.
#[allow(clippy::too_many_arguments)]
fn tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    options: &[u8],
    data: &[u8],
) -> Vec<u8> {
    let offset = 5 + options.len().div_ceil(4);
    let mut s = vec![0u8; offset * 4];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[4..8].copy_from_slice(&seq.to_be_bytes());
    s[12] = ((offset as u8) & 0x0f) << 4;
    s[13] = flags;
    s[14..16].copy_from_slice(&8192u16.to_be_bytes());
    s[20..20 + options.len()].copy_from_slice(options);
    s.extend_from_slice(data);
    let sum = transport_checksum(src, dst, PROTO_TCP, &s);
    s[16..18].copy_from_slice(&sum.to_be_bytes());
    s
}

fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut s = vec![0u8; 8];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    s.extend_from_slice(data);
    let sum = transport_checksum(src, dst, PROTO_UDP, &s);
    s[6..8].copy_from_slice(&sum.to_be_bytes());
    s
}

/// The source port of [`probe`]s, to know their answers.
pub const PROBE_PORT: u16 = 0x5247;
/// The guest port probes go to: one no service listens on.
pub const PROBE_CLOSED_PORT: u16 = 1;

/// A well-formed TCP SYN from the peer to a closed port of the guest: the
/// reset netd sends back shows that the NIC, its driver and smoltcp still
/// take frames in. `seq` tells the probes apart.
pub fn probe(target: &Target, seq: u32) -> Vec<u8> {
    let seg = tcp(target.peer_ip, target.guest_ip, PROBE_PORT, PROBE_CLOSED_PORT, seq, 0x02, &[], &[]);
    let ip = ipv4(target.peer_ip, target.guest_ip, PROTO_TCP, seq as u16, 0x4000, &[], &seg);
    ethernet(target.guest_mac, target.peer_mac, ETH_IPV4, &ip)
}

/// The acknowledgement number of a frame that is the guest's reset answering a [`probe`].
pub fn probe_answer(frame: &[u8], target: &Target) -> Option<u32> {
    let ip = frame.get(14..)?;
    if frame.get(12..14)? != ETH_IPV4.to_be_bytes() || ip.first()? >> 4 != 4 || *ip.get(9)? != PROTO_TCP {
        return None;
    }
    if ip.get(12..16)? != target.guest_ip || ip.get(16..20)? != target.peer_ip {
        return None;
    }
    let seg = ip.get(usize::from(ip[0] & 0x0f) * 4..)?;
    let ports_match = seg.get(0..2)? == PROBE_CLOSED_PORT.to_be_bytes() && seg.get(2..4)? == PROBE_PORT.to_be_bytes();
    let reset = seg.get(13)? & 0x04 != 0;
    (ports_match && reset).then(|| u32::from_be_bytes([seg[8], seg[9], seg[10], seg[11]]))
}

/// The peer's answer to the guest's ARP request for the peer's address, as a
/// real host on the wire would give it (netd may ask before it answers the peer).
pub fn arp_reply(frame: &[u8], target: &Target) -> Option<Vec<u8>> {
    let arp = frame.get(14..42)?;
    // Ethernet/IPv4, a request, for the peer's IP.
    if frame.get(12..14)? != ETH_ARP.to_be_bytes()
        || arp[..8] != [0, 1, 8, 0, 6, 4, 0, 1]
        || arp[24..28] != target.peer_ip
    {
        return None;
    }
    let mut reply = vec![0, 1, 8, 0, 6, 4, 0, 2];
    reply.extend_from_slice(&target.peer_mac);
    reply.extend_from_slice(&target.peer_ip);
    reply.extend_from_slice(&arp[8..18]);
    Some(ethernet(arp[8..14].try_into().ok()?, target.peer_mac, ETH_ARP, &reply))
}

/// Makes the frames of one run.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    target: Target,
    kinds: Vec<Kind>,
}

impl Generator {
    /// Frames of every kind.
    pub fn new(seed: u64, target: Target) -> Generator {
        Generator::of_kinds(seed, target, &Kind::ALL)
    }

    /// Frames of the given kinds only (all of them when none is given).
    pub fn of_kinds(seed: u64, target: Target, kinds: &[Kind]) -> Generator {
        let kinds = if kinds.is_empty() { Kind::ALL.to_vec() } else { kinds.to_vec() };
        Generator { rng: Rng::new(seed), target, kinds }
    }

    /// The next frame and its kind; kinds take turns so every kind gets its share.
    pub fn frame(&mut self, index: u64) -> (Kind, Vec<u8>) {
        let kind = self.kinds[(index % self.kinds.len() as u64) as usize];
        (kind, self.make(kind))
    }

    fn dst_mac(&mut self) -> [u8; 6] {
        if self.rng.chance(8) { [0xff; 6] } else { self.target.guest_mac }
    }

    fn port(&mut self) -> u16 {
        let ports = &self.target.tcp_ports;
        if ports.is_empty() || self.rng.chance(4) {
            self.rng.next_u64() as u16
        } else {
            ports[self.rng.below(ports.len() as u64) as usize]
        }
    }

    /// A plausible TCP/IPv4 frame to one of the guest's ports.
    fn tcp_frame(&mut self, flags: u8, options: &[u8], data_len: usize) -> Vec<u8> {
        let t = self.target.clone();
        let (sport, dport) = (1024 + self.rng.below(60000) as u16, self.port());
        let seq = self.rng.next_u64() as u32;
        let data = self.rng.bytes(data_len);
        let seg = tcp(t.peer_ip, t.guest_ip, sport, dport, seq, flags, options, &data);
        let id = self.rng.next_u64() as u16;
        let ip = ipv4(t.peer_ip, t.guest_ip, PROTO_TCP, id, 0x4000, &[], &seg);
        ethernet(self.dst_mac(), t.peer_mac, ETH_IPV4, &ip)
    }

    fn random_options(&mut self, max: usize) -> Vec<u8> {
        let len = self.rng.below(max as u64 + 1) as usize;
        let mut o = self.rng.bytes(len);
        // Sometimes well-formed-looking kind/length pairs with lying lengths.
        if len >= 2 && self.rng.chance(2) {
            o[0] = [0, 1, 2, 3, 4, 5, 7, 8, 0x44, 0x82, 0x94][self.rng.below(11) as usize];
            o[1] = self.rng.below(len as u64 + 8) as u8;
        }
        o
    }

    fn make(&mut self, kind: Kind) -> Vec<u8> {
        let t = self.target.clone();
        match kind {
            Kind::Truncated => {
                let len = self.rng.below(200) as usize;
                let mut f = self.tcp_frame(0x18, &[], len);
                // At least one byte: there is no empty frame on a wire, and
                // QEMU's socket backend takes an empty datagram for the end of
                // the connection and stops reading the socket for good.
                let cut = 1 + self.rng.below(f.len() as u64 - 1) as usize;
                f.truncate(cut);
                f
            }
            Kind::Oversized => {
                let len = 1515 + self.rng.below(9018 - 1515 + 1) as usize;
                let mut f = self.tcp_frame(0x18, &[], len.saturating_sub(54));
                f.resize(len, 0xa5);
                f
            }
            Kind::BadIpLength => {
                let len = self.rng.below(100) as usize;
                let mut f = self.tcp_frame(0x18, &[], len);
                match self.rng.below(4) {
                    // IHL below 5, or beyond the frame.
                    0 => f[14] = 0x40 | self.rng.below(5) as u8,
                    1 => f[14] = 0x4f,
                    // Total length beyond the frame, or shorter than the header.
                    2 => f[16..18].copy_from_slice(&(self.rng.below(65536) as u16).to_be_bytes()),
                    _ => f[16..18].copy_from_slice(&(self.rng.below(20) as u16).to_be_bytes()),
                }
                f
            }
            Kind::BadChecksum => {
                let mut f = match self.rng.below(3) {
                    0 => self.tcp_frame(0x02, &[], 0),
                    1 => {
                        let len = self.rng.below(300) as usize;
                        self.tcp_frame(0x18, &[], len)
                    }
                    _ => {
                        let len = self.rng.below(200) as usize;
                        let d = self.rng.bytes(len);
                        let seg = udp(t.peer_ip, t.guest_ip, 1234, self.port(), &d);
                        ethernet(
                            self.dst_mac(),
                            t.peer_mac,
                            ETH_IPV4,
                            &ipv4(t.peer_ip, t.guest_ip, PROTO_UDP, 7, 0, &[], &seg),
                        )
                    }
                };
                // Flip the IP or the transport checksum.
                let at = if self.rng.chance(2) { 24 } else { 14 + 20 + if f[23] == PROTO_TCP { 16 } else { 6 } };
                if at + 1 < f.len() {
                    f[at] ^= 1 + self.rng.below(255) as u8;
                }
                f
            }
            Kind::Fragment => {
                let len = self.rng.below(1400) as usize;
                let payload = self.rng.bytes(len);
                // More-fragments with random offsets (units of 8 bytes), some near 64 KiB.
                let offset =
                    if self.rng.chance(4) { 8191 - self.rng.below(8) as u16 } else { self.rng.below(200) as u16 };
                let mf = if self.rng.chance(3) { 0 } else { 0x2000 };
                // A last fragment needs an offset, or it would be a whole datagram.
                let offset = if mf == 0 { offset.max(1) } else { offset };
                let proto = [PROTO_TCP, PROTO_UDP, PROTO_ICMP][self.rng.below(3) as usize];
                let id = self.rng.below(4) as u16;
                let ip = ipv4(t.peer_ip, t.guest_ip, proto, id, mf | offset, &[], &payload);
                ethernet(self.dst_mac(), t.peer_mac, ETH_IPV4, &ip)
            }
            Kind::Options => {
                if self.rng.chance(2) {
                    let opts = self.random_options(40);
                    let seg = tcp(t.peer_ip, t.guest_ip, 4000, self.port(), 1, 0x02, &[], &[]);
                    let ip = ipv4(t.peer_ip, t.guest_ip, PROTO_TCP, 9, 0, &opts, &seg);
                    ethernet(self.dst_mac(), t.peer_mac, ETH_IPV4, &ip)
                } else {
                    let opts = self.random_options(40);
                    self.tcp_frame(0x02, &opts, 0)
                }
            }
            Kind::TcpFlags => {
                let flags = self.byte_flags();
                let len = self.rng.below(64) as usize;
                let mut f = self.tcp_frame(flags, &[], len);
                if self.rng.chance(3) {
                    // Data offset that lies (0..15 words).
                    f[14 + 20 + 12] = (self.rng.below(16) as u8) << 4;
                }
                f
            }
            Kind::UdpDhcp => {
                if self.rng.chance(2) {
                    // A DHCP reply (server 67 -> client 68) with a random body and options.
                    let mut body = vec![0u8; 236];
                    body[0] = 2;
                    body[1] = 1;
                    body[2] = 6;
                    body[4..8].copy_from_slice(&self.rng.bytes(4));
                    body[16..20].copy_from_slice(&t.guest_ip);
                    body[28..34].copy_from_slice(&t.guest_mac);
                    body.extend_from_slice(&[99, 130, 83, 99]);
                    let opts = self.random_options(300);
                    body.extend_from_slice(&opts);
                    let seg = udp([10, 0, 2, 2], [255, 255, 255, 255], 67, 68, &body);
                    let ip = ipv4([10, 0, 2, 2], [255, 255, 255, 255], PROTO_UDP, 3, 0, &[], &seg);
                    ethernet([0xff; 6], t.peer_mac, ETH_IPV4, &ip)
                } else {
                    let len = self.rng.below(100) as usize;
                    let d = self.rng.bytes(len);
                    let mut seg = udp(t.peer_ip, t.guest_ip, 5000, self.rng.next_u64() as u16, &d);
                    seg[4..6].copy_from_slice(&(self.rng.below(65536) as u16).to_be_bytes());
                    let ip = ipv4(t.peer_ip, t.guest_ip, PROTO_UDP, 4, 0, &[], &seg);
                    ethernet(self.dst_mac(), t.peer_mac, ETH_IPV4, &ip)
                }
            }
            Kind::ArpIcmp => {
                if self.rng.chance(2) {
                    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
                    arp.extend_from_slice(&t.peer_mac);
                    arp.extend_from_slice(&t.peer_ip);
                    arp.extend_from_slice(&[0; 6]);
                    arp.extend_from_slice(&t.guest_ip);
                    // Wrong sizes, opcodes, a random sender; or cut short.
                    let at = self.rng.below(arp.len() as u64) as usize;
                    arp[at] = self.rng.byte();
                    let cut = arp.len() - self.rng.below(arp.len() as u64 / 2) as usize;
                    arp.truncate(cut);
                    ethernet([0xff; 6], t.peer_mac, ETH_ARP, &arp)
                } else {
                    let mut icmp = vec![self.rng.byte(), self.rng.byte(), 0, 0];
                    let len = self.rng.below(120) as usize;
                    icmp.extend(self.rng.bytes(len));
                    let sum = checksum(&icmp);
                    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
                    let ip = ipv4(t.peer_ip, t.guest_ip, PROTO_ICMP, 5, 0, &[], &icmp);
                    ethernet(self.dst_mac(), t.peer_mac, ETH_IPV4, &ip)
                }
            }
            Kind::Random => {
                let len = self.rng.below(1515) as usize;
                let body = self.rng.bytes(len);
                let ethertype = match self.rng.below(5) {
                    0 => 0x8100,
                    1 => 0x86dd,
                    2 => ETH_IPV4,
                    3 => ETH_ARP,
                    _ => self.rng.next_u64() as u16,
                };
                ethernet(self.dst_mac(), self.rng.bytes(6).try_into().unwrap_or([0; 6]), ethertype, &body)
            }
        }
    }

    /// TCP flags, biased towards the combinations stacks find hard.
    fn byte_flags(&mut self) -> u8 {
        const HARD: [u8; 8] = [0x02, 0x12, 0x04, 0x14, 0x01, 0x3f, 0x00, 0x29];
        if self.rng.chance(2) { HARD[self.rng.below(8) as usize] } else { self.rng.byte() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_ipv4_header() {
        // The classic example header with its checksum field zeroed: 0xb861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        let ip = ipv4([192, 168, 0, 1], [192, 168, 0, 199], 17, 0, 0x4000, &[], &[0u8; 0x73 - 20]);
        assert_eq!(checksum(&ip[..20]), 0, "a header with its checksum sums to zero");
    }

    #[test]
    fn the_same_seed_gives_the_same_frames_and_every_kind_its_share() {
        let mut a = Generator::new(42, Target::default());
        let mut b = Generator::new(42, Target::default());
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..1000 {
            let (ka, fa) = a.frame(i);
            let (kb, fb) = b.frame(i);
            assert_eq!((ka, &fa), (kb, &fb));
            *counts.entry(ka).or_insert(0) += 1;
            assert!(fa.len() <= 9018, "{ka:?} {}", fa.len());
        }
        assert_eq!(counts.len(), Kind::ALL.len());
        assert!(counts.values().all(|&n| n == 100));
        let mut c = Generator::new(43, Target::default());
        assert_ne!(c.frame(0).1, Generator::new(42, Target::default()).frame(0).1);
    }

    #[test]
    fn a_probe_answer_is_told_from_the_probe() {
        let t = Target::default();
        let syn = probe(&t, 9);
        assert_eq!(checksum(&syn[14..34]), 0);
        assert_eq!(probe_answer(&syn, &t), None, "a probe is no answer");
        // The guest's reset: addresses and ports swapped, RST|ACK, ack = seq + 1.
        let mut rst = syn.clone();
        rst[26..30].copy_from_slice(&t.guest_ip);
        rst[30..34].copy_from_slice(&t.peer_ip);
        rst[34..36].copy_from_slice(&PROBE_CLOSED_PORT.to_be_bytes());
        rst[36..38].copy_from_slice(&PROBE_PORT.to_be_bytes());
        rst[42..46].copy_from_slice(&10u32.to_be_bytes());
        rst[47] = 0x14;
        assert_eq!(probe_answer(&rst, &t), Some(10));
        rst[47] = 0x12;
        assert_eq!(probe_answer(&rst, &t), None, "a SYN-ACK is no reset");
        assert_eq!(probe_answer(&rst[..40], &t), None);
        assert_eq!(probe_answer(&[], &t), None);
    }

    #[test]
    fn the_peer_answers_arp_for_its_own_address_only() {
        let t = Target::default();
        let mut request = vec![0xff; 6];
        request.extend_from_slice(&t.guest_mac);
        request.extend_from_slice(&ETH_ARP.to_be_bytes());
        request.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        request.extend_from_slice(&t.guest_mac);
        request.extend_from_slice(&t.guest_ip);
        request.extend_from_slice(&[0; 6]);
        request.extend_from_slice(&t.peer_ip);
        let reply = arp_reply(&request, &t).unwrap();
        assert_eq!(reply[..6], t.guest_mac);
        assert_eq!(reply[20..22], [0, 2]);
        assert_eq!(reply[22..28], t.peer_mac);
        assert_eq!(reply[38..42], t.guest_ip);
        let mut other = request.clone();
        other[38..42].copy_from_slice(&[10, 0, 2, 2]);
        assert!(arp_reply(&other, &t).is_none());
        assert!(arp_reply(&request[..30], &t).is_none());
    }

    #[test]
    fn frames_are_malformed_as_their_kind_says() {
        let t = Target::default();
        let mut g = Generator::new(7, t.clone());
        for i in 0..500 {
            let (kind, f) = g.frame(i);
            match kind {
                Kind::Oversized => assert!(f.len() > 1514),
                Kind::Truncated => assert!(!f.is_empty() && f.len() < 54 + 200),
                Kind::BadChecksum => {
                    let ip_ok = f.len() >= 34 && checksum(&f[14..34]) == 0;
                    let proto = f[23];
                    let seg = &f[34..];
                    let t_ok =
                        transport_checksum(f[26..30].try_into().unwrap(), f[30..34].try_into().unwrap(), proto, seg)
                            == 0;
                    assert!(!(ip_ok && t_ok), "frame {i} has both checksums right");
                }
                Kind::Fragment => {
                    let frag = u16::from_be_bytes([f[20], f[21]]);
                    assert!(frag & 0x3fff != 0, "frame {i} is no fragment: {frag:#x}");
                }
                _ => assert!(f.len() >= 14 || kind == Kind::Truncated),
            }
            if kind != Kind::Random && kind != Kind::Truncated && f.len() >= 6 {
                assert!(f[..6] == t.guest_mac || f[..6] == [0xff; 6], "{kind:?} to the guest's NIC");
            }
        }
    }
}

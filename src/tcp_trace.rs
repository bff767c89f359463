//! What the host's TCP did on the wire during a benchmark: its retransmission
//! timeouts, read from QEMU's dump of the user network.
//!
//! A driver that dies loses the frames its device had received and not yet
//! handed over, and those the device receives until its successor has it
//! running: every segment the sender had in flight. The sender learns of the
//! loss in one of two ways. Three duplicate ACKs make it resend at once (fast
//! retransmit), but only when later segments still arrive; when its whole
//! window was in flight, nothing arrives to be acknowledged twice, and it
//! waits for its retransmission timer, which on QEMU's user network (slirp, a
//! 4.4BSD TCP) is at least a second. On the wire a timeout is a segment sent
//! again after a silence. [`timeouts`] finds them, so that a benchmark can say
//! how long the sender waited on its own timer, beside how long the restart
//! took.

use crate::wire;
use anyhow::Result;
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// On QEMU's user network, a silence at least this long before a segment
/// sent again is a timeout (slirp's shortest is a second; fast retransmits
/// follow within a few milliseconds).
pub const USER_NET_SILENCE_US: u64 = 400_000;
/// With Linux as the sender (a tap peer): its shortest retransmission timer
/// is 200 ms, and its tail-loss probes, which resend after about two round
/// trips (a few milliseconds here), are not counted.
pub const LINUX_SILENCE_US: u64 = 150_000;
/// Bytes of each frame QEMU needs to dump for [`segments`]: Ethernet, IPv4
/// without options, and TCP with the most options it can carry (Linux sends
/// timestamps on every segment).
pub const CAPTURE_BYTES: usize = 14 + 20 + 60;

/// A TCP segment with data, as the dump shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub at_us: u64,
    /// The sender's port: one connection each.
    pub from_port: u16,
    pub seq: u32,
    pub len: u32,
}

/// Retransmission timeouts: how many, and the silences before them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub count: u32,
    pub waited_us: u64,
}

/// The data segments in `dump` (a pcap file) sent to TCP port `to_port`.
/// Frames that are not IPv4 TCP, or whose headers were not captured whole,
/// are skipped.
pub fn segments(dump: &[u8], to_port: u16) -> Result<Vec<Segment>> {
    let mut out = Vec::new();
    wire::records(dump, &mut None, |r| {
        let Ok(p) = LaxSlicedPacket::from_ethernet(r.captured) else { return };
        let (Some(LaxNetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) = (&p.net, &p.transport) else { return };
        let h = ip.header();
        let headers = u32::from(h.ihl()) * 4 + u32::from(tcp.data_offset()) * 4;
        let len = u32::from(h.total_len()).saturating_sub(headers);
        if tcp.destination_port() == to_port && len > 0 && !tcp.syn() {
            out.push(Segment { at_us: r.at_us, from_port: tcp.source_port(), seq: tcp.sequence_number(), len });
        }
    })?;
    Ok(out)
}

/// Whether sequence number `a` comes before `b` (modulo 2^32).
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// The timeouts among `segments` (in the order they were sent) that fall in
/// `[from_us, to_us]`: a segment that starts before the highest byte its
/// connection had sent, after at least `min_silence_us` without a segment of
/// that connection ([`USER_NET_SILENCE_US`], [`LINUX_SILENCE_US`]).
pub fn timeouts(segments: &[Segment], (from_us, to_us): (u64, u64), min_silence_us: u64) -> Timeouts {
    // Per connection: the end of the highest byte sent, and when it last sent.
    let mut conns: Vec<(u16, u32, u64)> = Vec::new();
    let mut t = Timeouts::default();
    for s in segments {
        let end = s.seq.wrapping_add(s.len);
        let Some(c) = conns.iter_mut().find(|c| c.0 == s.from_port) else {
            conns.push((s.from_port, end, s.at_us));
            continue;
        };
        let silence = s.at_us.saturating_sub(c.2);
        if before(s.seq, c.1) && silence >= min_silence_us && (from_us..=to_us).contains(&s.at_us) {
            t.count += 1;
            t.waited_us += silence;
        }
        if before(c.1, end) {
            c.1 = end;
        }
        c.2 = s.at_us;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{PacketBuilder, TcpOptionElement};

    const SINK: u16 = 9;

    fn dump(frames: &[(u64, u16, u16, u32, usize)], snap: usize) -> Vec<u8> {
        dump_with(frames, snap, &[])
    }

    /// [`dump`] with these TCP options on every segment.
    fn dump_with(frames: &[(u64, u16, u16, u32, usize)], snap: usize, options: &[TcpOptionElement]) -> Vec<u8> {
        let mut v = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        v.extend_from_slice(&[2, 0, 4, 0]);
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(&1u32.to_le_bytes());
        for &(at_us, from, to, seq, len) in frames {
            let b = PacketBuilder::ethernet2([2; 6], [4; 6])
                .ipv4([10, 0, 2, 2], [10, 0, 2, 15], 64)
                .tcp(from, to, seq, 65535)
                .options(options)
                .unwrap()
                .ack(1);
            let payload = vec![0xab; len];
            let mut frame = Vec::new();
            b.write(&mut frame, &payload).unwrap();
            let kept = frame.len().min(snap);
            v.extend_from_slice(&((at_us / 1_000_000) as u32).to_le_bytes());
            v.extend_from_slice(&((at_us % 1_000_000) as u32).to_le_bytes());
            v.extend_from_slice(&(kept as u32).to_le_bytes());
            v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            v.extend_from_slice(&frame[..kept]);
        }
        v
    }

    const MS: u64 = 1000;

    #[test]
    fn segments_are_read_from_headers_alone() {
        let d = dump(&[(5 * MS, 4000, SINK, 100, 1460), (6 * MS, SINK, 4000, 1, 0), (7 * MS, 4000, 80, 1, 10)], 60);
        let s = segments(&d, SINK).unwrap();
        assert_eq!(s, [Segment { at_us: 5 * MS, from_port: 4000, seq: 100, len: 1460 }]);
        assert!(segments(b"not a pcap file at all, long enough", SINK).is_err());
    }

    #[test]
    fn segments_with_linux_timestamps_fit_the_capture() {
        let stamps = [TcpOptionElement::Noop, TcpOptionElement::Noop, TcpOptionElement::Timestamp(7, 8)];
        let d = dump_with(&[(MS, 4000, SINK, 100, 1448)], CAPTURE_BYTES, &stamps);
        assert_eq!(segments(&d, SINK).unwrap(), [Segment { at_us: MS, from_port: 4000, seq: 100, len: 1448 }]);
    }

    #[test]
    fn a_segment_sent_again_after_a_silence_is_a_timeout() {
        let mut f: Vec<_> = (0..10).map(|i| (i * MS, 4000, SINK, i as u32 * 1000, 1000)).collect();
        // Lost in flight: 10 000.. was sent, then nothing for 1.3 s, then 5 000 again.
        f.push((1_310 * MS, 4000, SINK, 5000, 1000));
        f.push((1_311 * MS, 4000, SINK, 6000, 1000));
        let s = segments(&dump(&f, CAPTURE_BYTES), SINK).unwrap();
        assert_eq!(timeouts(&s, (0, u64::MAX), USER_NET_SILENCE_US), Timeouts { count: 1, waited_us: 1_301 * MS });
        assert_eq!(timeouts(&s, (0, 1_000 * MS), USER_NET_SILENCE_US), Timeouts::default(), "outside the window");
        assert_eq!(timeouts(&s, (0, u64::MAX), 2_000 * MS), Timeouts::default(), "a silence shorter than asked");
    }

    #[test]
    fn new_data_after_a_pause_and_quick_resends_are_not_timeouts() {
        let f = [
            (0, 4000, SINK, 0, 1000),
            (MS, 4000, SINK, 1000, 1000),
            // The receiver's window was closed: new data after a pause.
            (900 * MS, 4000, SINK, 2000, 1000),
            // A fast retransmit: sent again at once.
            (901 * MS, 4000, SINK, 1000, 1000),
            // Another connection's first segment after a long time.
            (5_000 * MS, 4001, SINK, 7, 1000),
        ];
        let s = segments(&dump(&f, CAPTURE_BYTES), SINK).unwrap();
        assert_eq!(timeouts(&s, (0, u64::MAX), USER_NET_SILENCE_US), Timeouts::default());
    }

    #[test]
    fn sequence_numbers_wrap_and_connections_are_apart() {
        let f = [
            (0, 4000, SINK, u32::MAX - 999, 1000),
            (MS, 4000, SINK, 0, 1000),
            (2 * MS, 4001, SINK, 50, 1000),
            (1_000 * MS, 4001, SINK, 1050, 1000),
            (1_500 * MS, 4000, SINK, u32::MAX - 999, 1000),
        ];
        let s = segments(&dump(&f, CAPTURE_BYTES), SINK).unwrap();
        assert_eq!(timeouts(&s, (0, u64::MAX), USER_NET_SILENCE_US), Timeouts { count: 1, waited_us: 1_499 * MS });
    }
}

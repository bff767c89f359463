//! The emulated wire's guard: keeps QEMU's user network working when a
//! faulted driver makes its NIC send an empty frame.
//!
//! QEMU's net layer reads a receiver's answer of 0 bytes as "busy": it queues
//! the frame, marks the receiver as not receiving, and queues everything
//! after it until that receiver asks for the queue to be flushed. The user
//! network backend (slirp) never asks; it answers an empty frame with 0
//! because that is the frame's length. So one empty frame from the guest
//! leaves QEMU's user network deaf to the guest for good: nothing the guest
//! does afterwards (a new driver instance, a reset device, ARP) reaches it.
//! The NIC models send what the descriptors say, so a driver whose text was
//! patched can send one (seen with e1000: a zero-length transmit descriptor).
//! No real wire carries an empty frame (a NIC pads short frames, a switch
//! drops runts), so this is a fault of the emulator, not of the system under
//! test, and the fault-injection campaign must not count it against Resurgo
//! nor hide it.
//!
//! The guard sees the wire through QEMU's `filter-dump` (one byte of each
//! frame, so only the headers' lengths matter) and, as soon as an empty frame
//! appears, clears QEMU's queue the one way QEMU offers: stopping the machine
//! flushes or purges every queue and clears the "not receiving" mark. Twice,
//! since the first flush offers the empty frame again, which marks the
//! receiver again before the purge drops it. The machine's clock stands still
//! while it is stopped. Each repair is counted and reported beside the
//! campaign's outcomes.

use crate::qmp::Qmp;
use anyhow::{Context, Result, bail};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The netdev the guard watches: the user network of [`crate::qemu::qemu_args`].
const NETDEV: &str = "net0";
/// How often the dump is read.
const POLL: Duration = Duration::from_millis(50);
/// A pcap file's global header, and each record's header.
const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;
const MAGIC_LE: u32 = 0xa1b2_c3d4;
const MAGIC_BE: u32 = 0xd4c3_b2a1;

/// QEMU's arguments for dumping the wire's frames (their first byte) to `pcap`.
pub fn qemu_args(pcap: &Path) -> Vec<String> {
    vec!["-object".into(), format!("filter-dump,id=wire-dump,netdev={NETDEV},maxlen=1,file={}", pcap.display())]
}

/// Reads a growing pcap file from where it last stopped.
pub struct DumpTail {
    file: File,
    pending: Vec<u8>,
    /// The byte order, once the file header was read.
    big_endian: Option<bool>,
}

/// What the frames read so far hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub frames: u64,
    pub empty: u64,
}

impl DumpTail {
    pub fn open(path: &Path) -> Result<DumpTail> {
        let file = File::open(path).with_context(|| format!("cannot open the wire's dump {}", path.display()))?;
        Ok(DumpTail { file, pending: Vec::new(), big_endian: None })
    }

    /// The frames written since the last call.
    pub fn poll(&mut self) -> Result<Seen> {
        let mut chunk = [0u8; 1 << 16];
        loop {
            match self.file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("reading the wire's dump"),
            }
        }
        let (seen, used) = parse(&self.pending, &mut self.big_endian)?;
        self.pending.drain(..used);
        Ok(seen)
    }
}

/// Counts the complete records in `buf` (which starts with the file header
/// while `big_endian` is unknown); returns them and the bytes used.
pub fn parse(buf: &[u8], big_endian: &mut Option<bool>) -> Result<(Seen, usize)> {
    let mut seen = Seen::default();
    let used = records(buf, big_endian, |r| {
        seen.frames += 1;
        seen.empty += u64::from(r.length == 0);
    })?;
    Ok((seen, used))
}

/// One frame of a dump: when QEMU saw it (host time, microseconds since the
/// Unix epoch), its length on the wire, and the bytes captured of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub at_us: u64,
    pub length: u32,
    pub captured: &'a [u8],
}

/// Hands `each` the complete records in `buf` (which starts with the file
/// header while `big_endian` is unknown); returns the bytes used.
pub fn records(buf: &[u8], big_endian: &mut Option<bool>, mut each: impl FnMut(Record<'_>)) -> Result<usize> {
    let mut at = 0;
    let be = match *big_endian {
        Some(be) => be,
        None => {
            let Some(head) = buf.get(..FILE_HEADER) else { return Ok(0) };
            let be = match u32::from_le_bytes([head[0], head[1], head[2], head[3]]) {
                MAGIC_LE => false,
                MAGIC_BE => true,
                other => bail!("the wire's dump is not a pcap file (magic {other:#010x})"),
            };
            *big_endian = Some(be);
            at = FILE_HEADER;
            be
        }
    };
    let word = |b: &[u8]| {
        let w = [b[0], b[1], b[2], b[3]];
        if be { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) }
    };
    while let Some(head) = buf.get(at..at + RECORD_HEADER) {
        let captured = word(&head[8..12]) as usize;
        let length = word(&head[12..16]);
        if captured > 1 << 16 {
            bail!("the wire's dump has a record of {captured} bytes: not a dump of frames");
        }
        let Some(bytes) = buf.get(at + RECORD_HEADER..at + RECORD_HEADER + captured) else { break };
        let at_us = u64::from(word(&head[0..4])) * 1_000_000 + u64::from(word(&head[4..8]));
        each(Record { at_us, length, captured: bytes });
        at += RECORD_HEADER + captured;
    }
    Ok(at)
}

/// Counters the guard keeps, readable while it runs.
#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    empty: AtomicU64,
    repairs: AtomicU64,
}

/// Watches one guest's wire and repairs QEMU's user network after each empty
/// frame (see the module's documentation). Ends with the guest.
pub struct WireGuard {
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
    pcap: PathBuf,
}

impl WireGuard {
    /// Starts watching `pcap` (QEMU's dump, see [`qemu_args`]); repairs go
    /// through the QMP socket at `qmp`.
    pub fn start(pcap: &Path, qmp: &Path) -> Result<WireGuard> {
        let mut qmp = Qmp::connect(qmp)?;
        let mut tail = DumpTail::open(pcap)?;
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counters.clone(), stop.clone());
        let thread = std::thread::spawn(move || -> Result<()> {
            while !s.load(Ordering::Relaxed) {
                let seen = tail.poll()?;
                c.frames.fetch_add(seen.frames, Ordering::Relaxed);
                if seen.empty > 0 {
                    c.empty.fetch_add(seen.empty, Ordering::Relaxed);
                    for _ in 0..2 {
                        qmp.stop()?;
                        qmp.cont()?;
                    }
                    c.repairs.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(POLL);
            }
            Ok(())
        });
        Ok(WireGuard { counters, stop, thread: Some(thread), pcap: pcap.to_path_buf() })
    }

    /// Frames seen on the wire, empty frames among them, and repairs made.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = &self.counters;
        (c.frames.load(Ordering::Relaxed), c.empty.load(Ordering::Relaxed), c.repairs.load(Ordering::Relaxed))
    }

    /// Whether the guard still runs (it ends on its own only when reading
    /// the dump or talking to QEMU failed).
    pub fn check(&mut self) -> Result<()> {
        if let Some(t) = self.thread.take_if(|t| t.is_finished()) {
            return match t.join() {
                Ok(Ok(())) => bail!("the wire's guard stopped"),
                Ok(Err(e)) => Err(e.context(format!("the wire's guard ({})", self.pcap.display()))),
                Err(_) => bail!("the wire's guard panicked"),
            };
        }
        Ok(())
    }
}

impl Drop for WireGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_header() -> Vec<u8> {
        let mut v = MAGIC_LE.to_le_bytes().to_vec();
        v.extend_from_slice(&[2, 0, 4, 0]);
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(&1u32.to_le_bytes());
        v
    }

    fn record(length: u32, captured: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 8];
        v.extend_from_slice(&(captured.len() as u32).to_le_bytes());
        v.extend_from_slice(&length.to_le_bytes());
        v.extend_from_slice(captured);
        v
    }

    #[test]
    fn counts_frames_and_empty_ones_across_partial_reads() {
        let mut all = file_header();
        all.extend(record(60, &[0x52]));
        all.extend(record(0, &[]));
        all.extend(record(1514, &[0xff]));
        let mut order = None;
        // Only part of the file header: nothing yet.
        assert_eq!(parse(&all[..10], &mut order).unwrap(), (Seen::default(), 0));
        assert_eq!(order, None);
        // The header and a record and a half.
        let cut = FILE_HEADER + RECORD_HEADER + 1 + 7;
        let (seen, used) = parse(&all[..cut], &mut order).unwrap();
        assert_eq!((seen, used), (Seen { frames: 1, empty: 0 }, FILE_HEADER + RECORD_HEADER + 1));
        assert_eq!(order, Some(false));
        let (seen, used) = parse(&all[used..], &mut order).unwrap();
        assert_eq!(seen, Seen { frames: 2, empty: 1 });
        assert_eq!(used, all.len() - (FILE_HEADER + RECORD_HEADER + 1));
    }

    #[test]
    fn rejects_what_is_not_a_dump() {
        let mut order = None;
        let err = parse(&[0u8; 40], &mut order).unwrap_err().to_string();
        assert!(err.contains("not a pcap file"), "{err}");
        let mut bad = file_header();
        bad.extend(record(0, &[]));
        bad[FILE_HEADER + 8..FILE_HEADER + 12].copy_from_slice(&(1u32 << 20).to_le_bytes());
        let err = parse(&bad, &mut None).unwrap_err().to_string();
        assert!(err.contains("not a dump of frames"), "{err}");
    }

    #[test]
    fn big_endian_dumps_are_read_too() {
        let mut v = MAGIC_LE.to_be_bytes().to_vec();
        v.extend_from_slice(&[0; 20]);
        let mut r = vec![0u8; 8];
        r.extend_from_slice(&0u32.to_be_bytes());
        r.extend_from_slice(&0u32.to_be_bytes());
        v.extend(r);
        let mut order = None;
        assert_eq!(parse(&v, &mut order).unwrap().0, Seen { frames: 1, empty: 1 });
        assert_eq!(order, Some(true));
    }

    #[test]
    fn qemu_dumps_the_user_network_one_byte_a_frame() {
        assert_eq!(
            qemu_args(Path::new("/t/w.pcap")),
            ["-object", "filter-dump,id=wire-dump,netdev=net0,maxlen=1,file=/t/w.pcap"]
        );
    }
}

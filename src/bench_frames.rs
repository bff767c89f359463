//! `resurgo bench frames`: malformed Ethernet frames ([`crate::frames`]) from
//! the host into each NIC, through a UDP socket netdev on the NIC's own wire
//! ([`crate::qemu::Injector`]), while the default system runs. Afterwards the
//! echo, sink and status-page services must still answer correctly, and no
//! task may have crashed: no kernel panic, no task stopped or exited, no
//! driver failure, no restart.

use crate::bench_net::parse_sink_report;
use crate::frames::{Generator, Kind, Target, arp_reply, probe, probe_answer};
use crate::image::{self, BuildOptions};
use crate::qemu::{Guest, Injector, NetConfig, QemuConfig};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The frames per NIC of a default run (the campaign: ≥ 100,000 over the four NICs).
pub const DEFAULT_FRAMES: u64 = 25_000;
/// Frames per second: what the slowest emulated NIC takes in under TCG
/// without QEMU holding the socket back for long.
pub const DEFAULT_RATE: u64 = 2_000;
/// The NICs of a default run and their drivers' tasks.
pub const NICS: &[(&str, &str)] =
    &[("rtl8139", "eth-8139cp"), ("ne2k_pci", "eth-ne2k-pci"), ("e1000", "eth-e1000"), ("pcnet", "eth-pcnet32")];
/// One frame in this many is a well-formed probe ([`probe`]), whose answer
/// shows the path through the driver into netd is live.
pub const PROBE_EVERY: u64 = 50;
/// How long the guest may take to come up.
const STEP: Duration = Duration::from_secs(180);
/// How long a service may take to answer afterwards, reading or writing.
const CHECK: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct FramesOptions {
    /// QEMU models, each with its driver task's name.
    pub nics: Vec<(String, String)>,
    pub frames: u64,
    /// The kinds of frame to send (empty: all).
    pub kinds: Vec<Kind>,
    pub seed: u64,
    pub rate: u64,
    /// The QEMU machine (q35 with the IOMMU, normally).
    pub machine: crate::qemu::Machine,
    pub progress: bool,
}

/// What happened on one NIC.
#[derive(Debug, Clone, Default)]
pub struct NicResult {
    pub nic: String,
    pub frames: u64,
    pub bytes: u64,
    pub by_kind: BTreeMap<&'static str, u64>,
    pub seconds: f64,
    /// Console lines that say a task crashed, stopped, exited or was restarted.
    pub crashes: Vec<String>,
    /// Times netd found the receive path deaf and had the driver restarted
    /// so that its device was initialised afresh (`netring::watch`): not a
    /// crash, but counted and shown.
    pub watchdog_resets: usize,
    /// Probes sent among the frames (one in [`PROBE_EVERY`]) and answered by netd.
    pub probes: u64,
    pub probes_answered: u64,
    pub echo_ok: bool,
    pub sink_ok: bool,
    pub status_ok: bool,
    /// Why the run on this NIC could not finish, if it could not.
    pub error: Option<String>,
}

impl NicResult {
    /// No crash, every service answered afterwards, and the frames did reach
    /// netd (some probes among them were answered).
    pub fn ok(&self) -> bool {
        self.error.is_none()
            && self.crashes.is_empty()
            && self.echo_ok
            && self.sink_ok
            && self.status_ok
            && (self.probes == 0 || self.probes_answered > 0)
    }
}

/// Whether a console line says some task crashed or ended: the kernel's
/// panic or fault report, init's word on a task it started, the reincarnation
/// server's on a driver.
pub fn crash_line(line: &str) -> bool {
    let line = line.trim();
    line.contains(crate::qemu::KERNEL_PANIC_MARK)
        || (line.starts_with("[kernel]") && line.contains("fault: ") && !line.contains(STALE_DMA))
        || (line.starts_with("[init]")
            && (line.contains(" exited with status") || line.contains(" stopped: ") || line.contains(" violated ")))
        || (line.starts_with("[reincarnation]")
            && (line.contains(" failed: ") || line.contains(" incarnation ") || line.contains("held down")))
        || line.contains("panicked at")
}

/// The kernel's words for a DMA the IOMMU blocked that only a device's
/// previous domain had mapped: the device finishing work for an instance
/// that is gone (after a restart), which hits nothing and is nobody's fault
/// now (doc/iommu.md).
const STALE_DMA: &str = "stale: the device's previous instance had it mapped";

/// netd's words when its receive watch asks a driver to end itself.
const WATCHDOG_NETD: &str = "asking the driver to end itself so that its device is initialised afresh";
/// The driver's reason for ending then, which the reincarnation server repeats.
const WATCHDOG_EXIT: &str = "its gateway probes went unanswered: reinitialising the device";

/// A line of the restart netd's receive watch asked for (the driver's exit
/// and its successor's start), which is not a crash.
pub fn watchdog_line(line: &str) -> bool {
    line.starts_with("[reincarnation]") && line.contains(WATCHDOG_EXIT)
}

/// Boots the default system on each NIC in turn and sends it the frames.
pub fn run(opts: &FramesOptions) -> Result<Vec<NicResult>> {
    let manifest = crate::workspace_root().join("system/default.toml");
    let image = image::build(&BuildOptions { manifest, progress: opts.progress })?;
    let mut results = Vec::new();
    for (model, task) in &opts.nics {
        let mut result = NicResult { nic: model.clone(), ..NicResult::default() };
        if let Err(e) = run_nic(&image, model, task, opts, &mut result) {
            result.error = Some(format!("{e:#}"));
        }
        if opts.progress {
            eprintln!("{}", summary_line(&result));
        }
        results.push(result);
    }
    Ok(results)
}

fn summary_line(r: &NicResult) -> String {
    format!(
        "{}: {} frames in {:.1} s, {} of {} probes answered, {} crash line{}, echo {}, sink {}, status page {}{}",
        r.nic,
        r.frames,
        r.seconds,
        r.probes_answered,
        r.probes,
        r.crashes.len(),
        if r.crashes.len() == 1 { "" } else { "s" },
        ok(r.echo_ok),
        ok(r.sink_ok),
        ok(r.status_ok),
        r.error.as_ref().map(|e| format!(" (error: {e})")).unwrap_or_default()
    )
}

fn ok(b: bool) -> &'static str {
    if b { "ok" } else { "FAILED" }
}

/// A guest booted for one NIC, with the wire and the ports it forwards.
struct Booted {
    guest: Guest,
    wire: Wire,
    /// Host ports forwarding to echo, sink and the status page.
    ports: (u16, u16, u16),
    /// How many console lines the boot took.
    booted: usize,
}

/// Boots the default system on `model`'s card behind an injecting wire, and
/// waits for netd, echo, sink and the status page. Picks other host ports
/// when one was taken before QEMU bound it.
fn boot_nic(image: &image::Image, model: &str, task: &str, opts: &FramesOptions, pcap: &Path) -> Result<Booted> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match boot_once(image, model, task, opts, pcap) {
            Err(e) if attempt < 3 && crate::ports::is_race(&format!("{e:#}")) => continue,
            other => return other,
        }
    }
}

fn boot_once(image: &image::Image, model: &str, task: &str, opts: &FramesOptions, pcap: &Path) -> Result<Booted> {
    let ports = crate::ports::free(3)?;
    let (echo, sink, http) = (ports[0], ports[1], ports[2]);
    let (wire, inject) = Wire::new()?;
    let _ = std::fs::remove_file(pcap);
    let cfg = QemuConfig {
        machine: opts.machine,
        netdev: Some(NetConfig { model: model.into(), hostfwd: vec![(echo, 7), (sink, 9), (http, 80)] }),
        inject: Some(inject),
        extra_args: vec!["-object".into(), format!("filter-dump,id=user-dump,netdev=net0,file={}", pcap.display())],
        ..QemuConfig::default()
    };
    let mut guest = Guest::boot(image, &cfg)?;
    let ready = [
        format!("[netd] {task} up "),
        "[echo] listening on 7".into(),
        "[sink] listening on 9".into(),
        "[httpd] status page on port 80".into(),
    ];
    let deadline = Instant::now() + STEP;
    loop {
        let lines = guest.lines();
        if ready.iter().all(|want| lines.iter().any(|l| l.starts_with(want.as_str()))) {
            return Ok(Booted { guest, wire, ports: (echo, sink, http), booted: lines.len() });
        }
        if let Some(exit) = guest.exited() {
            bail!("QEMU ended before the guest came up ({exit}); last lines:\n{}", guest.tail(30));
        }
        if Instant::now() > deadline {
            bail!("the guest did not come up within {} s; last lines:\n{}", STEP.as_secs(), guest.tail(30));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_nic(image: &image::Image, model: &str, task: &str, opts: &FramesOptions, r: &mut NicResult) -> Result<()> {
    // What the user network (QEMU's slirp, the host's side) sends and gets,
    // kept only when a service check fails.
    let pcap = user_dump_path(model);
    if let Some(dir) = pcap.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let Booted { mut guest, wire, ports: (echo, sink, http), booted } = boot_nic(image, model, task, opts, &pcap)?;

    let mut generator = Generator::of_kinds(opts.seed ^ fnv(model), Target::default(), &opts.kinds);
    let started = Instant::now();
    for i in 0..opts.frames {
        if i % PROBE_EVERY == PROBE_EVERY - 1 {
            wire.inject(&probe(&Target::default(), r.probes as u32)).context("sending a probe")?;
            r.probes += 1;
        }
        let (kind, frame) = generator.frame(i);
        wire.inject(&frame).with_context(|| format!("sending frame {i}"))?;
        r.frames += 1;
        r.bytes += frame.len() as u64;
        *r.by_kind.entry(kind.name()).or_default() += 1;
        // Hold the rate: frame i leaves no earlier than i / rate seconds in.
        let due = Duration::from_secs_f64((i + 1) as f64 / opts.rate.max(1) as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        if opts.progress && (i + 1) % 10_000 == 0 {
            eprintln!("{model}: {} frames sent", i + 1);
        }
    }
    r.seconds = started.elapsed().as_secs_f64();
    // Let the guest take in what is still queued.
    std::thread::sleep(Duration::from_secs(2));
    if let Some(exit) = guest.exited() {
        bail!("QEMU ended while the frames went in ({exit}); last lines:\n{}", guest.tail(20));
    }

    r.probes_answered = wire.answers.load(Ordering::Relaxed);
    // A failed check says what the guest said around it.
    let failed = |what: &str, e: anyhow::Error| eprintln!("{model}: {what}: {e:#}; last lines:\n{}", guest.tail(20));
    r.echo_ok = check_echo(echo).map_err(|e| failed("echo", e)).is_ok();
    r.sink_ok = check_sink(&guest, sink).map_err(|e| failed("sink", e)).is_ok();
    r.status_ok = check_status(http).map_err(|e| failed("status page", e)).is_ok();
    if r.echo_ok && r.sink_ok && r.status_ok {
        let _ = std::fs::remove_file(&pcap);
    } else {
        eprintln!("{model}: the user network's frames are kept in {}", pcap.display());
    }
    let lines = guest.lines();
    r.crashes = lines[booted..].iter().filter(|l| crash_line(l) && !watchdog_line(l)).cloned().collect();
    r.watchdog_resets = lines[booted..].iter().filter(|l| l.starts_with("[netd]") && l.contains(WATCHDOG_NETD)).count();
    Ok(())
}

/// The host's part of the NIC's wire ([`Injector`]): two threads pass frames
/// between the NIC's socket and the user network's, and [`Wire::inject`]
/// adds frames towards the NIC alone.
struct Wire {
    nic: UdpSocket,
    nic_listen: u16,
    /// The guest's answers to [`probe`]s seen leaving its NIC.
    answers: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    relays: Vec<JoinHandle<()>>,
}

impl Wire {
    fn new() -> Result<(Wire, Injector)> {
        let nic = UdpSocket::bind("127.0.0.1:0").context("cannot bind the wire's NIC end")?;
        let user = UdpSocket::bind("127.0.0.1:0").context("cannot bind the wire's user-network end")?;
        let inject = Injector {
            nic_listen: free_udp_port()?,
            nic_peer: nic.local_addr()?.port(),
            user_listen: free_udp_port()?,
            user_peer: user.local_addr()?.port(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(AtomicU64::new(0));
        // From the NIC (`count` given: answers to probes are counted, ARP for the peer
        // answered back to the NIC) or from the user network.
        let nic_listen = inject.nic_listen;
        let relay =
            |from: &UdpSocket, to: &UdpSocket, port: u16, count: Option<Arc<AtomicU64>>| -> Result<JoinHandle<()>> {
                let (from, to, stop) = (from.try_clone()?, to.try_clone()?, stop.clone());
                from.set_read_timeout(Some(Duration::from_millis(100)))?;
                let target = Target::default();
                Ok(std::thread::spawn(move || {
                    let mut buf = vec![0u8; 65536];
                    while !stop.load(Ordering::Relaxed) {
                        if let Ok(n) = from.recv(&mut buf) {
                            if let Some(count) = &count {
                                if probe_answer(&buf[..n], &target).is_some() {
                                    count.fetch_add(1, Ordering::Relaxed);
                                }
                                if let Some(answer) = arp_reply(&buf[..n], &target) {
                                    let _ = from.send_to(&answer, ("127.0.0.1", nic_listen));
                                }
                            }
                            let _ = to.send_to(&buf[..n], ("127.0.0.1", port));
                        }
                    }
                }))
            };
        let relays = vec![
            relay(&nic, &user, inject.user_listen, Some(answers.clone()))?,
            relay(&user, &nic, inject.nic_listen, None)?,
        ];
        Ok((Wire { nic, nic_listen: inject.nic_listen, answers, stop, relays }, inject))
    }

    /// One frame onto the wire, towards the NIC. Never an empty one: QEMU's
    /// socket backend would take it for the end of the connection and stop
    /// reading the wire.
    fn inject(&self, frame: &[u8]) -> std::io::Result<()> {
        if frame.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "an empty frame would end QEMU's socket",
            ));
        }
        self.nic.send_to(frame, ("127.0.0.1", self.nic_listen)).map(|_| ())
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
    }
}

/// Where a NIC's dump of the user network goes (see [`run_nic`]).
pub fn user_dump_path(model: &str) -> std::path::PathBuf {
    crate::workspace_root().join(format!("target/bench/frames-{model}.pcap"))
}

fn free_udp_port() -> Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A small stable hash, so each NIC gets its own frames from one seed.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// 256 KiB through the echo service come back byte for byte.
fn check_echo(port: u16) -> Result<()> {
    let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(CHECK))?;
    s.set_write_timeout(Some(CHECK))?;
    let mut reader = s.try_clone()?;
    let got = std::thread::spawn(move || {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).map(|_| got)
    });
    s.write_all(&data)?;
    s.shutdown(Shutdown::Write)?;
    let got = got.join().map_err(|_| anyhow!("the reader thread panicked"))??;
    if got != data {
        bail!("{} bytes came back for {} sent, or different ones", got.len(), data.len());
    }
    Ok(())
}

/// 1 MiB to the sink arrives whole: the sink's own sha256 says so.
fn check_sink(guest: &Guest, port: u16) -> Result<()> {
    let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let want: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(CHECK))?;
    s.set_write_timeout(Some(CHECK))?;
    s.write_all(&data)?;
    s.shutdown(Shutdown::Write)?;
    let _ = s.read_to_end(&mut Vec::new());
    let line = guest.wait_for(|l| parse_sink_report(l).is_some_and(|r| r.bytes == data.len() as u64), CHECK)?;
    let report = parse_sink_report(&line).ok_or_else(|| anyhow!("unreadable sink report: {line}"))?;
    if report.sha256.as_deref() != Some(want.as_str()) {
        bail!("the sink got other bytes: {line}");
    }
    Ok(())
}

/// The status page answers `GET /status.json` with 200 and JSON.
fn check_status(port: u16) -> Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(CHECK))?;
    s.set_write_timeout(Some(CHECK))?;
    s.write_all(b"GET /status.json HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow!("no HTTP response"))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        bail!("{}", head.lines().next().unwrap_or_default());
    }
    serde_json::from_str::<Value>(body).context("the status is not JSON")?;
    Ok(())
}

/// The figures as one JSON object.
pub fn json(results: &[NicResult], seed: u64) -> Value {
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for r in results {
        for (k, n) in &r.by_kind {
            *by_kind.entry(k).or_default() += n;
        }
    }
    let nics: serde_json::Map<String, Value> = results
        .iter()
        .map(|r| {
            (
                r.nic.clone(),
                json!({
                    "frames": r.frames, "bytes": r.bytes, "seconds": (r.seconds * 10.0).round() / 10.0,
                    "crashes": r.crashes.len(), "crash_lines": r.crashes, "watchdog_resets": r.watchdog_resets,
                    "probes": r.probes, "probes_answered": r.probes_answered,
                    "echo_ok": r.echo_ok, "sink_ok": r.sink_ok, "status_ok": r.status_ok, "error": r.error,
                }),
            )
        })
        .collect();
    json!({
        "seed": seed,
        "frames": results.iter().map(|r| r.frames).sum::<u64>(),
        "crashes": results.iter().map(|r| r.crashes.len()).sum::<usize>(),
        "watchdog_resets": results.iter().map(|r| r.watchdog_resets).sum::<usize>(),
        "services_ok": results.iter().all(NicResult::ok),
        "by_kind": by_kind,
        "nics": nics,
    })
}

/// The table `resurgo bench frames` prints.
pub fn table(results: &[NicResult]) -> String {
    let mut out = format!(
        "{:10} {:>8} {:>9} {:>8} {:>11} {:>7} {:>7} {:>5} {:>5} {:>7}\n",
        "NIC", "frames", "MiB", "seconds", "probes", "crashes", "resets", "echo", "sink", "status"
    );
    for r in results {
        out.push_str(&format!(
            "{:10} {:>8} {:>9.1} {:>8.1} {:>11} {:>7} {:>7} {:>5} {:>5} {:>7}\n",
            r.nic,
            r.frames,
            r.bytes as f64 / (1024.0 * 1024.0),
            r.seconds,
            format!("{}/{}", r.probes_answered, r.probes),
            r.crashes.len(),
            r.watchdog_resets,
            ok(r.echo_ok),
            ok(r.sink_ok),
            ok(r.status_ok)
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!("  error: {e}\n"));
        }
        for c in &r.crashes {
            out.push_str(&format!("  {c}\n"));
        }
    }
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k.name(),
                results.iter().map(|r| r.by_kind.get(k.name()).copied().unwrap_or(0)).sum::<u64>()
            )
        })
        .collect();
    out.push_str(&format!("kinds: {}\n", kinds.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_lines_are_recognised() {
        for line in [
            "[kernel] PANIC at kernel/src/x.rs:1",
            "[init] netd exited with status 1 panic: index out of bounds",
            "[init] WARN echo stopped: page-fault at ip 0x4000, address 0x0 ",
            "[reincarnation] WARN eth-8139cp failed: page-fault at x+0x1 (ip 0x1), address 0x2",
            "[reincarnation] eth-8139cp incarnation 2 started (restart 1; last: ...)",
            "[kernel] fault: netd thread 3 page-fault",
        ] {
            assert!(crash_line(line), "{line}");
        }
        for line in [
            "[netd] eth-8139cp up 10.0.2.15/24 via dhcp",
            "[kernel] WARN DMA fault: 00:02.0 read at I/O address 0x46b3000 blocked (VT-d reason 0x6); stale: the device's previous instance had it mapped",
            "[sink] received 1 bytes",
            "[reincarnation] supervising 4 drivers",
        ] {
            assert!(!crash_line(line), "{line}");
        }
        // The restart netd's receive watch asks for is counted apart.
        let exit = "[reincarnation] WARN eth-pcnet32 failed: exit 4 at rt::obj::Task::exit+0x4c1: netd received nothing and its gateway probes went unanswered: reinitialising the device";
        let start = "[reincarnation] eth-pcnet32 incarnation 2 started (restart 1; last: exit 4 at rt::obj::Task::exit+0x4c1: netd received nothing and its gateway probes went unanswered: reinitialising the device)";
        for line in [exit, start] {
            assert!(crash_line(line) && watchdog_line(line), "{line}");
        }
        assert!(!watchdog_line("[reincarnation] WARN eth-pcnet32 failed: page-fault at x"));
    }

    #[test]
    fn the_report_adds_up() {
        let mut a = NicResult {
            nic: "rtl8139".into(),
            frames: 10,
            echo_ok: true,
            sink_ok: true,
            status_ok: true,
            ..Default::default()
        };
        a.by_kind.insert("random", 10);
        let mut b = a.clone();
        b.nic = "e1000".into();
        b.crashes.push("[init] netd exited with status 1".into());
        let j = json(&[a.clone(), b], 7);
        assert_eq!(j["frames"], 20);
        assert_eq!(j["crashes"], 1);
        assert_eq!(j["services_ok"], false);
        assert_eq!(j["by_kind"]["random"], 20);
        assert!(a.ok());
        assert!(table(&[a]).contains("kinds: truncated 0"));
    }
}

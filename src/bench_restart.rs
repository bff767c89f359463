//! `resurgo bench restart`: what driver restarts cost a TCP stream, with
//! transparent restarts and with MINIX-style ones, side by side.
//!
//! For each mode the default system (drivers under the reincarnation server,
//! netd, the sink on port 9) boots with one NIC, built with
//! [`image::with_restart_mode`]. Four phases follow, each one TCP connection
//! from the host to the sink lasting `--seconds`:
//!
//! - clean: no faults;
//! - kill: `svc kill TASK` on the serial console every second;
//! - crash: `svc crash TASK` every second (the running driver makes a wild
//!   write and faults, whatever it was doing);
//! - crash_irq: `svc crash-irq TASK` every second (the driver's next interrupt
//!   handler gets a poisoned `dev_id` and faults).
//!
//! `throughput_ratio` is the kill and crash phases' throughput over the clean
//! one's. The interrupt-handler crash has its own ratio, `irq_crash_ratio`,
//! because it measures something else as well: it strikes just as the device
//! has received a burst, typically a whole TCP window, which dies in the
//! driver's receive buffers; QEMU's user network (a BSD-derived TCP without
//! SACK or NewReno) then resends only after its retransmission timeout, a
//! second or more. What the restart costs the driver is in the recovery times.
//!
//! `--peer` chooses whose TCP sends: QEMU's user network behind a forward
//! from a host port (`user`, the default, what `resurgo up` uses), or the
//! host's own Linux TCP through a tap device ([`crate::tap`], needs root),
//! which resends a lost window within milliseconds rather than a second.
//!
//! The host sends a pseudo-random stream as fast as it can through a small
//! send buffer (so that what it managed to write tracks what the guest took),
//! counts the bytes written in [`BIN`]-long bins (the plot), then half-closes
//! and waits for the guest to close. The sink's report (`received N bytes
//! sha256 HEX in MS ms`, measured in the guest) gives the throughput and is
//! checked against what was sent. The last fault's new driver instance has to
//! move a frame before a phase ends, so the stream goes on past `--seconds`
//! until it has (at most [`RECOVERY_GRACE`] longer).
//!
//! Recovery times come from the guest: each new driver instance logs
//! `recovered: incarnation N moved its first frame (sent|received) M ms after
//! the failure`, timed from the moment the reincarnation server learned of the
//! failure.

use crate::bench_net::{
    self, NicSpec, is_netd_up, is_sink_ready, median, parse_sink_report, pattern_block, task_ended,
};
use crate::image::{self, BuildOptions};
use crate::qemu::{Guest, Machine, NetConfig, QemuConfig};
use crate::tcp_trace::{self, Timeouts};
use crate::workspace_root;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The system measured (copied per mode with its `[system] restart` set).
pub const MANIFEST: &str = "system/default.toml";
/// Seconds per phase unless `--seconds` says otherwise.
pub const DEFAULT_SECONDS: u64 = 10;
/// The NIC measured unless `--nic` says otherwise.
pub const DEFAULT_NIC: &str = "rtl8139";
/// The width of a throughput bin in the plot.
pub const BIN: Duration = Duration::from_millis(250);
/// The host's send buffer (`SO_SNDBUF`; Linux doubles it).
pub const SNDBUF: usize = 64 << 10;
/// A fault every this long, the first at [`FAULT_OFFSET`] into the phase.
pub const FAULT_PERIOD: Duration = Duration::from_secs(1);
pub const FAULT_OFFSET: Duration = Duration::from_millis(500);
/// How long a phase's stream may go on past `--seconds` so that the last
/// fault's new driver instance can move its first frame.
pub const RECOVERY_GRACE: Duration = Duration::from_secs(20);
/// A stream that makes no progress for this long has failed.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// After the host half-closed: how long the guest may take to close and report.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(60);
/// From QEMU's start until the guest is ready to measure.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// A pause between phases.
pub const SETTLE: Duration = Duration::from_secs(1);
/// Where the plot goes, relative to the workspace.
pub const PLOT_PATH: &str = "target/bench/restart.png";
/// The guest's sink port.
const SINK_PORT: u16 = 9;
const MIB: f64 = (1u64 << 20) as f64;

/// How drivers come back: transparently (the new instance carries on from
/// the rings' indices, nothing is lost) or as MINIX 3 does (netd formats the
/// rings afresh, what was in flight is dropped). The manifest's own type.
pub use manifest::RestartMode as Mode;

/// One connection's worth of measuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No faults.
    Clean,
    /// The driver killed every second.
    Kill,
    /// A fault injected into the running driver every second: a wild write
    /// on its main thread, reported like any other page fault.
    Crash,
    /// A fault inside the driver's interrupt handler every second: armed, it
    /// happens at the next interrupt, the worst moment for a TCP stream (the
    /// device has just received a burst, which dies with the driver).
    CrashIrq,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Clean, Phase::Kill, Phase::Crash, Phase::CrashIrq];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Clean => "clean",
            Phase::Kill => "kill",
            Phase::Crash => "crash",
            Phase::CrashIrq => "crash_irq",
        }
    }

    /// The `svc` operation that injects this phase's fault.
    pub fn verb(self) -> Option<&'static str> {
        match self {
            Phase::Clean => None,
            Phase::Kill => Some("kill"),
            Phase::Crash => Some("crash"),
            Phase::CrashIrq => Some("crash-irq"),
        }
    }

    /// The console command that injects this phase's fault into `task`.
    pub fn command(self, task: &str) -> Option<String> {
        self.verb().map(|verb| format!("svc {verb} {task}"))
    }

    fn label(self) -> &'static str {
        match self {
            Phase::Clean => "no faults",
            Phase::Kill => "svc kill every 1 s",
            Phase::Crash => "svc crash every 1 s",
            Phase::CrashIrq => "svc crash-irq every 1 s",
        }
    }
}

/// The text a task logged: what follows `[TASK]` (and a `WARN`/`ERROR` level).
pub(crate) fn task_text<'a>(line: &'a str, task: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix('[')?.strip_prefix(task)?.strip_prefix(']')?.trim_start();
    Some(rest.strip_prefix("WARN ").or_else(|| rest.strip_prefix("ERROR ")).unwrap_or(rest))
}

/// A restarted driver's first frame, as it logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    pub incarnation: u64,
    /// The first frame was one it sent (else one it received).
    pub sent: bool,
    /// From the failure to that frame, in the guest's milliseconds.
    pub ms: u64,
    /// When it reached each [`Step`] before, in ms after the failure, as
    /// far as the guest said.
    pub steps: [Option<u64>; Step::ALL.len()],
}

/// A step of a driver's restart before its first frame: where a recovery
/// time goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The reincarnation server has ended the old instance and created the
    /// new one (its `started` line).
    Started,
    /// The new instance runs its first line.
    Running,
    /// The Linux driver's probe is done.
    Probed,
    /// The device is attached to netd's rings.
    Attached,
    /// The driver's `ndo_open` is done.
    Open,
}

impl Step {
    pub const ALL: [Step; 5] = [Step::Started, Step::Running, Step::Probed, Step::Attached, Step::Open];

    pub const fn name(self) -> &'static str {
        match self {
            Step::Started => "started",
            Step::Running => "running",
            Step::Probed => "probed",
            Step::Attached => "attached",
            Step::Open => "open",
        }
    }
}

/// `[TASK] recovered: incarnation N moved its first frame (sent|received) M
/// ms after the failure`, optionally followed by the instance's own steps,
/// `(running at A, probed at B, attached at C, open at D)`.
pub fn parse_recovery(line: &str, task: &str) -> Option<Recovery> {
    let text = task_text(line, task)?.strip_prefix("recovered: incarnation ")?;
    let words: Vec<&str> = text.split_whitespace().collect();
    let [incarnation, "moved", "its", "first", "frame", way, ms, "ms", "after", ..] = words[..] else { return None };
    let sent = match way {
        "(sent)" => true,
        "(received)" => false,
        _ => return None,
    };
    let mut steps = [None; Step::ALL.len()];
    if let Some(list) = text.split_once("after the failure (").and_then(|(_, l)| l.strip_suffix(')')) {
        for item in list.split(", ") {
            let Some((name, at)) = item.split_once(" at ") else { continue };
            if let (Some(i), Ok(at)) = (Step::ALL.iter().position(|s| s.name() == name), at.parse()) {
                steps[i] = Some(at);
            }
        }
    }
    Some(Recovery { incarnation: incarnation.parse().ok()?, sent, ms: ms.parse().ok()?, steps })
}

/// The reincarnation server's `[reincarnation] TASK incarnation K started ...`: K.
pub fn parse_restart(line: &str, task: &str) -> Option<u64> {
    let text = task_text(line, "reincarnation")?.strip_prefix(task)?.strip_prefix(" incarnation ")?;
    let mut words = text.split_whitespace();
    let k = words.next()?.parse().ok()?;
    (words.next()? == "started").then_some(k)
}

/// `... incarnation K started (restart R, M ms after the failure; ...)`: M.
fn parse_started_ms(line: &str, task: &str) -> Option<u64> {
    parse_restart(line, task)?;
    let (before, _) = line.split_once(" ms after the failure")?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The shell's answer to `svc VERB TASK`: `Some(true)` for `done`, `Some(false)`
/// for anything else it said about that command (refused, no such service).
pub fn parse_shell_answer(line: &str, verb: &str, task: &str) -> Option<bool> {
    let text = task_text(line, "shell")?.strip_prefix("svc ")?.strip_prefix(verb)?;
    if let Some(answer) = text.strip_prefix(' ').and_then(|t| t.strip_prefix(task)).and_then(|t| t.strip_prefix(": ")) {
        return Some(answer == "done");
    }
    // `svc VERB: no service `TASK``
    let rest = text.strip_prefix(": ")?;
    rest.contains(&format!("`{task}`")).then_some(false)
}

/// What the sink said when a connection to port 9 ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkEnd {
    pub bytes: u64,
    pub ms: u64,
    pub sha256: Option<String>,
    /// The connection failed in the guest (reset, aborted): the sink's words.
    pub error: Option<String>,
}

/// The sink's report of a connection: `[sink] received N bytes sha256 HEX in
/// MS ms`, or its warning `[sink] WARN ADDR:PORT: WHY after N bytes in MS ms`.
pub fn parse_sink_end(line: &str) -> Option<SinkEnd> {
    if let Some(r) = parse_sink_report(line) {
        return Some(SinkEnd { bytes: r.bytes, ms: r.ms?, sha256: r.sha256, error: None });
    }
    let text = line.trim().strip_prefix("[sink]")?.trim_start().strip_prefix("WARN ")?;
    let w: Vec<&str> = text.split_whitespace().collect();
    let n = w.len();
    if n < 8 || w[n - 1] != "ms" || w[n - 3] != "in" || w[n - 4] != "bytes" || w[n - 6] != "after" {
        return None;
    }
    // The first word is the peer, `10.0.2.2:40000:`.
    if !w[0].ends_with(':') || !w[0].contains('.') {
        return None;
    }
    Some(SinkEnd {
        bytes: w[n - 5].parse().ok()?,
        ms: w[n - 2].parse().ok()?,
        sha256: None,
        error: Some(w[1..n - 6].join(" ")),
    })
}

/// Bytes written per fixed-width time bin, from the phase's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    pub width: Duration,
    pub bytes: Vec<u64>,
    /// When sending ended (the last bin ends there).
    pub end: Duration,
}

impl Bins {
    pub fn new(width: Duration) -> Bins {
        Bins { width, bytes: Vec::new(), end: Duration::ZERO }
    }

    /// `n` bytes written at `at` after the start.
    pub fn add(&mut self, at: Duration, n: u64) {
        let i = (at.as_nanos() / self.width.as_nanos().max(1)) as usize;
        if self.bytes.len() <= i {
            self.bytes.resize(i + 1, 0);
        }
        self.bytes[i] += n;
        self.end = self.end.max(at);
    }

    /// Sending ended at `at`: the bins reach that far (empty ones included).
    pub fn finish(&mut self, at: Duration) {
        self.end = self.end.max(at);
        let want = (self.end.as_nanos().div_ceil(self.width.as_nanos().max(1))) as usize;
        if self.bytes.len() < want {
            self.bytes.resize(want, 0);
        }
    }

    /// `(middle of the bin in seconds, MiB/s)` per bin; the last bin counts
    /// only up to [`Bins::end`].
    pub fn mib_s(&self) -> Vec<(f64, f64)> {
        let w = self.width.as_secs_f64();
        let end = self.end.as_secs_f64();
        self.bytes
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let start = i as f64 * w;
                let stop = if i + 1 == self.bytes.len() { end.max(start) } else { start + w };
                let span = stop - start;
                let rate = if span > 1e-3 { b as f64 / MIB / span } else { 0.0 };
                ((start + stop) / 2.0, rate)
            })
            .collect()
    }
}

/// How the host's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEnd {
    /// Every byte written, the write side shut down, end of file from the guest.
    Closed,
    /// `ECONNRESET` or `EPIPE`.
    Reset(String),
    /// Any other error, or a timeout.
    Error(String),
}

/// What the host's side of a phase saw.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRun {
    pub sent: u64,
    /// Of the bytes sent.
    pub sha256: String,
    pub bins: Bins,
    pub end: ClientEnd,
}

/// A fault injected: when (after the phase's start) and whether the shell said `done`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub at: Duration,
    pub accepted: bool,
}

/// One phase measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRun {
    pub phase: Phase,
    pub stream: StreamRun,
    /// The sink's report, if it gave one.
    pub sink: Option<SinkEnd>,
    /// Console commands typed, in order.
    pub faults: Vec<Fault>,
    /// `incarnation K started` lines of the reincarnation server for the driver.
    pub restarts: usize,
    pub recoveries: Vec<Recovery>,
    /// When the phase's stream began and ended, host time in microseconds
    /// since the Unix epoch (the clock of QEMU's dump).
    pub wall_us: (u64, u64),
    /// The host's TCP's retransmission timeouts in the phase, read from the
    /// dump of the wire (`None`: the dump could not be read).
    pub host_timeouts: Option<Timeouts>,
}

/// The client's verdict on a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Reset(String),
    Error(String),
}

impl PhaseRun {
    /// Reset when the host's connection was reset; an error for any other
    /// failure it saw, and when the sink's count or hash is not that of what
    /// was sent.
    pub fn verdict(&self) -> Verdict {
        match &self.stream.end {
            ClientEnd::Reset(why) => return Verdict::Reset(why.clone()),
            ClientEnd::Error(why) => return Verdict::Error(why.clone()),
            ClientEnd::Closed => {}
        }
        let Some(sink) = &self.sink else { return Verdict::Error("the sink did not report the connection".into()) };
        if let Some(why) = &sink.error {
            return Verdict::Error(format!("the sink saw the connection fail: {why}"));
        }
        if sink.bytes != self.stream.sent {
            return Verdict::Error(format!("sent {} bytes, the sink received {}", self.stream.sent, sink.bytes));
        }
        if sink.sha256.as_deref().is_some_and(|h| h != self.stream.sha256) {
            return Verdict::Error("the sink's sha256 is not that of the bytes sent".into());
        }
        Verdict::Ok
    }

    /// The guest's throughput (the sink's count over its time).
    pub fn mib_s(&self) -> Option<f64> {
        self.sink.as_ref().filter(|s| s.ms > 0).map(|s| s.bytes as f64 / MIB / (s.ms as f64 / 1000.0))
    }

    pub fn injected(&self) -> usize {
        self.faults.iter().filter(|f| f.accepted).count()
    }
}

/// Each mode's run: its phases in order (as far as it got) and what stopped it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRun {
    pub mode: Mode,
    pub phases: Vec<PhaseRun>,
    pub error: Option<String>,
}

/// A mode's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// Throughput under kills and crashes (the two phases together) over
    /// fault-free throughput.
    pub throughput_ratio: Option<f64>,
    /// Throughput under interrupt-handler crashes over fault-free throughput.
    pub irq_crash_ratio: Option<f64>,
    /// Fault phases whose connection failed in any way the client saw (resets included).
    pub client_errors: usize,
    pub connections_reset: usize,
    pub recovery_ms_median: Option<f64>,
    pub recovery_ms_max: Option<u64>,
    /// Per [`Step`], the median of when the new instances reached it.
    pub steps_ms_median: [Option<f64>; Step::ALL.len()],
    /// Console commands typed, and those the shell said `done` to.
    pub faults: usize,
    pub injected: usize,
    pub restarts: usize,
    pub recoveries: usize,
    /// Per phase (in [`Phase::ALL`] order), MiB/s as the sink measured.
    pub mib_s: [Option<f64>; 4],
    /// Per phase, the host's TCP's retransmission timeouts.
    pub host_timeouts: [Option<Timeouts>; 4],
}

impl ModeRun {
    pub fn phase(&self, phase: Phase) -> Option<&PhaseRun> {
        self.phases.iter().find(|p| p.phase == phase)
    }

    fn fault_phases(&self) -> impl Iterator<Item = &PhaseRun> {
        self.phases.iter().filter(|p| p.phase != Phase::Clean)
    }

    pub fn figures(&self) -> Figures {
        let clean = self.phase(Phase::Clean).and_then(PhaseRun::mib_s);
        let faulty: Option<(u64, u64)> = [Phase::Kill, Phase::Crash]
            .iter()
            .map(|&p| self.phase(p).and_then(|r| r.sink.as_ref()).map(|s| (s.bytes, s.ms)))
            .try_fold((0, 0), |(b, m), x| x.map(|(xb, xm)| (b + xb, m + xm)));
        let under_faults = faulty.filter(|&(_, ms)| ms > 0).map(|(b, ms)| b as f64 / MIB / (ms as f64 / 1000.0));
        let ratio = |x: Option<f64>| match (x, clean) {
            (Some(f), Some(c)) if c > 0.0 => Some(f / c),
            _ => None,
        };
        let verdicts: Vec<Verdict> = self.fault_phases().map(PhaseRun::verdict).collect();
        let ms: Vec<u64> = self.fault_phases().flat_map(|p| p.recoveries.iter().map(|r| r.ms)).collect();
        Figures {
            throughput_ratio: ratio(under_faults),
            irq_crash_ratio: ratio(self.phase(Phase::CrashIrq).and_then(PhaseRun::mib_s)),
            client_errors: verdicts.iter().filter(|v| **v != Verdict::Ok).count(),
            connections_reset: verdicts.iter().filter(|v| matches!(v, Verdict::Reset(_))).count(),
            recovery_ms_median: median(&ms.iter().map(|&m| m as f64).collect::<Vec<_>>()),
            recovery_ms_max: ms.iter().copied().max(),
            steps_ms_median: core::array::from_fn(|i| {
                let at: Vec<f64> = self
                    .fault_phases()
                    .flat_map(|p| p.recoveries.iter().filter_map(|r| r.steps[i]))
                    .map(|m| m as f64)
                    .collect();
                median(&at)
            }),
            faults: self.fault_phases().map(|p| p.faults.len()).sum(),
            injected: self.fault_phases().map(PhaseRun::injected).sum(),
            restarts: self.fault_phases().map(|p| p.restarts).sum(),
            recoveries: ms.len(),
            mib_s: Phase::ALL.map(|p| self.phase(p).and_then(PhaseRun::mib_s)),
            host_timeouts: Phase::ALL.map(|p| self.phase(p).and_then(|r| r.host_timeouts)),
        }
    }

    /// What did not go as it should: faults without a restart, restarts
    /// without a recovery, a clean phase that failed.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let m = self.mode.name();
        if let Some(e) = &self.error {
            notes.push(format!("{m}: stopped: {e}"));
        }
        for p in &self.phases {
            let name = p.phase.name();
            if p.phase == Phase::Clean {
                if p.restarts > 0 {
                    notes.push(format!("{m} {name}: {} driver restarts without a fault injected", p.restarts));
                }
            } else {
                let (typed, injected) = (p.faults.len(), p.injected());
                if injected < typed {
                    notes.push(format!("{m} {name}: the shell refused {} of {typed} faults", typed - injected));
                }
                if p.restarts != injected {
                    notes.push(match p.phase {
                        Phase::CrashIrq => format!(
                            "{m} {name}: {injected} crashes armed, {} happened (driver restarts seen): an armed \
                             instance crashes at its next interrupt, once however often armed",
                            p.restarts
                        ),
                        _ => format!("{m} {name}: {injected} faults injected but {} driver restarts seen", p.restarts),
                    });
                }
                if p.recoveries.len() < p.restarts {
                    notes.push(format!(
                        "{m} {name}: {} of {} new driver instances never moved a frame",
                        p.restarts - p.recoveries.len(),
                        p.restarts
                    ));
                }
            }
            match p.verdict() {
                Verdict::Ok => {}
                Verdict::Reset(why) => notes.push(format!("{m} {name}: connection reset: {why}")),
                Verdict::Error(why) => notes.push(format!("{m} {name}: client error: {why}")),
            }
        }
        notes
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartReport {
    /// `resurgo` or `fiasco`: the kernel it ran on.
    pub kernel: &'static str,
    /// Whose TCP sent the stream.
    pub peer: Peer,
    pub nic: String,
    /// The driver task.
    pub task: String,
    pub seconds: u64,
    pub modes: Vec<ModeRun>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn number(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |x| json!(round3(x)))
}

impl RestartReport {
    /// Faults injected per mode (kills and crashes): the console commands typed.
    pub fn kills(&self) -> usize {
        self.modes.iter().map(|m| m.figures().faults).max().unwrap_or(0)
    }

    /// `{"nic": .., "kills": N, "modes": {"transparent": {"throughput_ratio": ..,
    /// "client_errors": .., "connections_reset": .., "recovery_ms_median": ..,
    /// "recovery_ms_max": .., ...}, "minix": {...}}}`.
    pub fn json(&self) -> Value {
        let mut modes = Map::new();
        for m in &self.modes {
            let f = m.figures();
            let (mut phases, mut timeouts, mut waited) = (Map::new(), Map::new(), Map::new());
            for ((p, v), t) in Phase::ALL.iter().zip(f.mib_s).zip(f.host_timeouts) {
                phases.insert(p.name().into(), number(v));
                timeouts.insert(p.name().into(), t.map_or(Value::Null, |t| t.count.into()));
                waited.insert(p.name().into(), number(t.map(|t| t.waited_us as f64 / 1e6)));
            }
            modes.insert(
                m.mode.name().into(),
                json!({
                    "throughput_ratio": number(f.throughput_ratio),
                    "irq_crash_ratio": number(f.irq_crash_ratio),
                    "client_errors": f.client_errors,
                    "connections_reset": f.connections_reset,
                    "recovery_ms_median": number(f.recovery_ms_median),
                    "recovery_ms_max": f.recovery_ms_max,
                    "recovery_steps_ms_median": Step::ALL
                        .iter()
                        .zip(f.steps_ms_median)
                        .map(|(s, m)| (s.name().to_string(), number(m)))
                        .collect::<Map<String, Value>>(),
                    "faults_injected": f.injected,
                    "restarts": f.restarts,
                    "recoveries": f.recoveries,
                    "mib_s": phases,
                    "host_tcp_timeouts": timeouts,
                    "host_tcp_waited_s": waited,
                }),
            );
        }
        json!({
            "kernel": self.kernel,
            "peer": self.peer.name(),
            "nic": self.nic,
            "kills": self.kills(),
            "seconds": self.seconds,
            "modes": modes
        })
    }

    /// A readable table: one line per mode and phase, then each mode's figures.
    pub fn table(&self) -> String {
        let opt = |x: Option<f64>, prec: usize| x.map_or_else(|| "-".to_string(), |x| format!("{x:.prec$}"));
        let mut rows: Vec<Vec<String>> = vec![
            [
                "mode",
                "phase",
                "MiB/s",
                "bytes",
                "ms",
                "faults",
                "restarts",
                "recovered",
                "recovery ms",
                "host timeouts",
                "client",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for m in &self.modes {
            for p in &m.phases {
                let ms: Vec<u64> = p.recoveries.iter().map(|r| r.ms).collect();
                let recovery = match (median(&ms.iter().map(|&x| x as f64).collect::<Vec<_>>()), ms.iter().max()) {
                    (Some(med), Some(max)) => format!("{med:.0} / {max}"),
                    _ => "-".into(),
                };
                let client = match p.verdict() {
                    Verdict::Ok => "ok",
                    Verdict::Reset(_) => "reset",
                    Verdict::Error(_) => "error",
                };
                rows.push(vec![
                    m.mode.name().into(),
                    p.phase.name().into(),
                    opt(p.mib_s(), 2),
                    p.sink.as_ref().map_or("-".into(), |s| s.bytes.to_string()),
                    p.sink.as_ref().map_or("-".into(), |s| s.ms.to_string()),
                    p.faults.len().to_string(),
                    p.restarts.to_string(),
                    p.recoveries.len().to_string(),
                    recovery,
                    p.host_timeouts.map_or("-".into(), |t| format!("{} ({:.1} s)", t.count, t.waited_us as f64 / 1e6)),
                    client.into(),
                ]);
            }
        }
        let cols = rows[0].len();
        let widths: Vec<usize> = (0..cols).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
        let mut out = format!(
            "{}{} ({}), {} s per phase, a fault every {} s, the host's {}; MiB/s, bytes and ms as the sink measured them\n",
            if self.kernel == "fiasco" { "Fiasco.OC: " } else { "" },
            self.nic,
            self.task,
            self.seconds,
            FAULT_PERIOD.as_secs(),
            match self.peer {
                Peer::User => "TCP through QEMU's user network (slirp)",
                Peer::Tap => "Linux TCP through a tap device",
            }
        );
        for (n, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| if i < 2 { format!("{c:<w$}", w = widths[i]) } else { format!("{c:>w$}", w = widths[i]) })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
            if n == 0 {
                out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
                out.push('\n');
            }
        }
        for m in &self.modes {
            let f = m.figures();
            out.push_str(&format!(
                "{}: throughput under kills and crashes {} of fault-free, under interrupt-handler crashes {}; {} client error{} ({} reset); recovery median {} ms, max {} ms ({} of {} restarts)\n",
                m.mode.name(),
                opt(f.throughput_ratio, 3),
                opt(f.irq_crash_ratio, 3),
                f.client_errors,
                if f.client_errors == 1 { "" } else { "s" },
                f.connections_reset,
                opt(f.recovery_ms_median, 1),
                f.recovery_ms_max.map_or("-".into(), |x| x.to_string()),
                f.recoveries,
                f.restarts,
            ));
            if f.steps_ms_median.iter().any(Option::is_some) {
                let steps: Vec<String> = Step::ALL
                    .iter()
                    .zip(f.steps_ms_median)
                    .map(|(s, m)| format!("{} {}", s.name(), opt(m, 1)))
                    .collect();
                out.push_str(&format!(
                    "{}: a restart's steps, median ms after the failure: {}, first frame {}\n",
                    m.mode.name(),
                    steps.join(", "),
                    opt(f.recovery_ms_median, 1)
                ));
            }
        }
        for m in &self.modes {
            for note in m.notes() {
                out.push_str(&format!("note: {note}\n"));
            }
        }
        out
    }
}

/// The host's end of the stream: who runs the TCP that sends to the sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Peer {
    /// QEMU's user network (slirp) terminates the guest's TCP, and a
    /// forward from a host port on 127.0.0.1 leads to it: what `resurgo up`
    /// uses. slirp is a 4.4BSD TCP: no SACK, a retransmission timer of at
    /// least a second.
    #[default]
    User,
    /// The host's own Linux TCP, through a tap device ([`crate::tap`]): SACK,
    /// tail-loss probes and a 200 ms minimum timer. Needs root.
    Tap,
}

impl Peer {
    pub const fn name(self) -> &'static str {
        match self {
            Peer::User => "user",
            Peer::Tap => "tap",
        }
    }

    /// A resend after at least this silence counts as a timeout of the
    /// sender's ([`tcp_trace::timeouts`]).
    const fn min_silence_us(self) -> u64 {
        match self {
            Peer::User => tcp_trace::USER_NET_SILENCE_US,
            Peer::Tap => tcp_trace::LINUX_SILENCE_US,
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct RestartOptions {
    /// A QEMU NIC model (see [`bench_net::NICS`]).
    pub nic: String,
    pub seconds: u64,
    /// The QEMU machine (q35 with the IOMMU, normally; Fiasco.OC boots `pc`).
    pub machine: Machine,
    /// Fiasco.OC and L4Re (from `$RESURGO_L4RE`) instead of Resurgo's kernel.
    pub fiasco: Option<crate::fiasco::L4re>,
    pub peer: Peer,
    pub progress: bool,
}

impl RestartOptions {
    /// The kernel's name in the figures and the files: `resurgo` or `fiasco`.
    pub fn kernel(&self) -> &'static str {
        if self.fiasco.is_some() { "fiasco" } else { "resurgo" }
    }
}

impl Default for RestartOptions {
    fn default() -> RestartOptions {
        RestartOptions {
            nic: DEFAULT_NIC.into(),
            seconds: DEFAULT_SECONDS,
            machine: Machine::default(),
            fiasco: None,
            peer: Peer::default(),
            progress: true,
        }
    }
}

/// Runs the benchmark: both modes, one after the other.
pub fn run(opts: &RestartOptions) -> Result<RestartReport> {
    let spec = bench_net::nic(&opts.nic).ok_or_else(|| anyhow!("unknown NIC model `{}`", opts.nic))?;
    if opts.seconds < 2 {
        bail!("--seconds must be at least 2");
    }
    let say = |s: String| {
        if opts.progress {
            eprintln!("{s}");
        }
    };
    let mut report = RestartReport {
        kernel: opts.kernel(),
        peer: opts.peer,
        nic: spec.model.into(),
        task: String::new(),
        seconds: opts.seconds,
        modes: vec![],
    };
    let block = pattern_block();
    for mode in Mode::ALL {
        let mut run = ModeRun { mode, phases: Vec::new(), error: None };
        let result = (|| -> Result<()> {
            let manifest = image::with_restart_mode(&workspace_root().join(MANIFEST), mode)?;
            let (resurgo_image, fiasco_image);
            let built = match &opts.fiasco {
                None => {
                    resurgo_image = image::build(&BuildOptions { manifest, progress: opts.progress })?;
                    Built::Resurgo(&resurgo_image)
                }
                Some(l4re) => {
                    fiasco_image = crate::fiasco::build(&manifest)?;
                    Built::Fiasco(l4re, &fiasco_image)
                }
            };
            let task = driver_task(built.system(), spec)?;
            report.task = task.clone();
            say(format!("{}: booting {} with a {} ({task})", mode.name(), built.kernel(), spec.model));
            let files = Files::new(opts.kernel(), opts.peer, mode);
            // A tap device lives as long as its guest (and is deleted after it).
            let tap = match opts.peer {
                Peer::User => None,
                Peer::Tap => Some(crate::tap::Tap::create()?),
            };
            let (mut guest, sink) = boot(built, (spec, opts.machine), &task, tap.as_ref(), &files.dump)?;
            for phase in Phase::ALL {
                std::thread::sleep(SETTLE);
                say(format!("{} {}: {} s ...", mode.name(), phase.name(), opts.seconds));
                let p = run_phase(&mut guest, sink, &task, phase, opts.seconds, &block);
                save_console(&guest, &files.console);
                let p = p?;
                say(format!(
                    "{} {}: {} MiB/s, {} faults, {} restarts, {} recovered, client {:?}",
                    mode.name(),
                    phase.name(),
                    p.mib_s().map_or("-".into(), |x| format!("{x:.2}")),
                    p.faults.len(),
                    p.restarts,
                    p.recoveries.len(),
                    p.verdict()
                ));
                run.phases.push(p);
            }
            drop(guest);
            drop(tap);
            if let Err(e) = count_timeouts(&mut run.phases, &files.dump, opts.peer) {
                say(format!("{}: the host's TCP timeouts are not known: {e:#}", mode.name()));
            }
            Ok(())
        })();
        if let Err(e) = result {
            run.error = Some(format!("{e:#}"));
        }
        report.modes.push(run);
    }
    Ok(report)
}

/// Where a mode's files go: `target/bench/restart[-KERNEL][-tap]-MODE.log`
/// for the guest's console, `.pcap` for the dump of the wire's headers
/// (`tcpdump -r` reads it).
pub struct Files {
    pub console: PathBuf,
    pub dump: PathBuf,
}

impl Files {
    pub fn new(kernel: &str, peer: Peer, mode: Mode) -> Files {
        let kernel = if kernel == "resurgo" { String::new() } else { format!("-{kernel}") };
        let peer = if peer == Peer::User { String::new() } else { format!("-{}", peer.name()) };
        let console = workspace_root().join(format!("target/bench/restart{kernel}{peer}-{}.log", mode.name()));
        Files { dump: console.with_extension("pcap"), console }
    }
}

/// Keeps the guest's console so far, for reading what happened behind a
/// figure; a failure to write it costs only the log.
fn save_console(guest: &Guest, path: &Path) {
    let mut text = guest.lines().join("\n");
    text.push('\n');
    let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(path, text));
    if let Err(e) = written {
        eprintln!("warning: cannot write {}: {e}", path.display());
    }
}

/// A system built for one of the two kernels, ready to boot.
#[derive(Clone, Copy)]
pub(crate) enum Built<'a> {
    Resurgo(&'a image::Image),
    Fiasco(&'a crate::fiasco::L4re, &'a crate::fiasco::FiascoImage),
}

impl Built<'_> {
    pub(crate) fn system(&self) -> &manifest::System {
        match self {
            Built::Resurgo(image) => &image.system,
            Built::Fiasco(_, image) => &image.system,
        }
    }

    fn kernel(&self) -> &'static str {
        match self {
            Built::Resurgo(_) => "Resurgo's kernel",
            Built::Fiasco(..) => "Fiasco.OC",
        }
    }

    /// The kernel's name in figures and file names: `resurgo` or `fiasco`.
    pub(crate) fn kernel_name(&self) -> &'static str {
        match self {
            Built::Resurgo(_) => "resurgo",
            Built::Fiasco(..) => "fiasco",
        }
    }

    /// The linked binary of the task image `name`, as it boots.
    pub(crate) fn binary(&self, name: &str) -> Option<&Path> {
        match self {
            Built::Resurgo(image) => image.binaries.get(name).map(PathBuf::as_path),
            Built::Fiasco(_, image) => image.binaries.iter().find(|(n, _)| n == name).map(|(_, p)| p.as_path()),
        }
    }

    /// The shim's library the drivers were linked against for this kernel.
    pub(crate) fn shim_lib(&self) -> PathBuf {
        let target = match self {
            Built::Resurgo(_) => image::target_dir(),
            Built::Fiasco(..) => crate::fiasco::target_dir(),
        };
        target.join(crate::driver_build::SHIM_LIB)
    }

    /// Boots it; on Fiasco.OC with the console in Resurgo's format
    /// ([`crate::fiasco::resurgo_style`]), so that one reader reads both
    /// (`task` wins when two task names cut to the same log tag).
    pub(crate) fn boot(&self, cfg: &QemuConfig, task: &str) -> Result<Guest> {
        match self {
            Built::Resurgo(image) => Guest::boot(image, cfg),
            Built::Fiasco(l4re, image) => crate::fiasco::boot_resurgo_style(l4re, image, cfg, &[task.to_string()]),
        }
    }
}

/// The name of the task in `system` that runs the NIC's driver.
pub(crate) fn driver_task(system: &manifest::System, spec: &NicSpec) -> Result<String> {
    system
        .tasks
        .iter()
        .find(|t| t.driver.as_deref() == Some(spec.resurgo_driver))
        .map(|t| t.name.clone())
        .ok_or_else(|| anyhow!("{MANIFEST} has no task with driver = \"{}\"", spec.resurgo_driver))
}

/// Boots the image with the NIC and waits for the sink, the shell and
/// netd's `TASK up ADDRESS`; returns where the host reaches the sink. On the
/// user network that is a forward from a free host port; with a tap device
/// ([`Peer::Tap`]), the guest's own address. QEMU dumps the headers of the
/// NIC's frames to `dump` ([`tcp_trace`]).
fn boot(
    built: Built,
    nic: (&NicSpec, Machine),
    task: &str,
    tap: Option<&crate::tap::Tap>,
    dump: &Path,
) -> Result<(Guest, SocketAddr)> {
    let _ = std::fs::remove_file(dump);
    // QEMU only opens the file: on a fresh checkout its directory is not there yet.
    if let Some(dir) = dump.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let extra = [
        "-object".to_string(),
        format!("filter-dump,id=restart-dump,netdev=net0,maxlen={},file={}", tcp_trace::CAPTURE_BYTES, dump.display()),
    ];
    match tap {
        None => boot_forwarding(built, nic, task, &[SINK_PORT], &extra)
            .map(|(g, ports)| (g, SocketAddr::from((Ipv4Addr::LOCALHOST, ports[0])))),
        Some(tap) => boot_once(built, nic, task, (Vec::new(), Some(tap.name())), &extra)
            .map(|g| (g, SocketAddr::from((crate::tap::GUEST, SINK_PORT)))),
    }
}

/// Boots the image with the NIC and forwards from free host ports to the
/// guest's `guest_ports` (the host ports come back in the same order), and
/// waits for the sink, the shell and netd's `TASK up ADDRESS`. Tries other
/// ports when QEMU could not bind a forward, or a port was taken meanwhile.
/// `extra` goes to QEMU as it is.
pub(crate) fn boot_forwarding(
    built: Built,
    (spec, machine): (&NicSpec, Machine),
    task: &str,
    guest_ports: &[u16],
    extra: &[String],
) -> Result<(Guest, Vec<u16>)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ports = crate::ports::free(guest_ports.len())?;
        let forwards = ports.iter().copied().zip(guest_ports.iter().copied()).collect();
        match boot_once(built, (spec, machine), task, (forwards, None), extra) {
            // A port picked free can be taken before QEMU binds it (the
            // ephemeral range is shared with every outgoing connection of
            // this host, the benchmark's own streams included): pick again.
            Err(e) if attempt < 3 && crate::ports::is_race(&format!("{e:#}")) => continue,
            other => return other.map(|g| (g, ports)),
        }
    }
}

/// Boots once, the NIC on the user network with `hostfwd` or on the tap
/// device named, and waits as [`boot_forwarding`] does.
fn boot_once(
    built: Built,
    (spec, machine): (&NicSpec, Machine),
    task: &str,
    (hostfwd, tap): (Vec<(u16, u16)>, Option<&str>),
    extra: &[String],
) -> Result<Guest> {
    let cfg = QemuConfig {
        machine,
        netdev: Some(NetConfig { model: spec.model.into(), hostfwd }),
        tap: tap.map(str::to_string),
        extra_args: extra.to_vec(),
        ..QemuConfig::default()
    };
    let guest = built.boot(&cfg, task)?;
    let up = |l: &str| is_netd_up(l) && l.contains(&format!(" {task} up "));
    let shell = |l: &str| task_text(l, "shell").is_some_and(|t| t.starts_with("type `svc list`"));
    let (mut netd, mut sink, mut console) = (false, false, false);
    let deadline = Instant::now() + BOOT_TIMEOUT;
    while !(netd && sink && console) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = guest
            .wait_for(|l| up(l) || is_sink_ready(l) || shell(l) || (!netd && task_ended(l, task)), left)
            .with_context(|| format!("the guest did not get ready (netd's `{task} up`, the sink and the shell)"))?;
        if !up(&line) && !is_sink_ready(&line) && !shell(&line) {
            bail!(
                "the driver task `{task}` ended before netd had the {} up: {line}\nlast lines of output:\n{}",
                spec.model,
                guest.tail(crate::qemu::TAIL_LINES)
            );
        }
        netd |= up(&line);
        sink |= is_sink_ready(&line);
        console |= shell(&line);
    }
    Ok(guest)
}

/// One phase: a stream to the sink for `seconds` (longer until the last
/// fault's new instance moved a frame), the faults typed on the console.
fn run_phase(
    guest: &mut Guest,
    sink: SocketAddr,
    task: &str,
    phase: Phase,
    seconds: u64,
    block: &[u8],
) -> Result<PhaseRun> {
    let first = guest.lines().len();
    let stop = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let t0 = Instant::now();
    let wall_from = wall_us();
    let mut typed: Vec<Duration> = Vec::new();
    let (stream, typing) = std::thread::scope(|s| {
        let sender = s.spawn(|| {
            let run = stream(sink, t0, &stop, block);
            finished.store(true, Ordering::Release);
            run
        });
        let typing = (|| -> Result<()> {
            if let Some(cmd) = phase.command(task) {
                for k in 0..seconds {
                    let at = FAULT_OFFSET + FAULT_PERIOD * k as u32;
                    std::thread::sleep((t0 + at).saturating_duration_since(Instant::now()));
                    guest.send_line(&cmd)?;
                    typed.push(t0.elapsed());
                }
            }
            std::thread::sleep((t0 + Duration::from_secs(seconds)).saturating_duration_since(Instant::now()));
            // Go on until every new instance moved a frame.
            let deadline = Instant::now() + RECOVERY_GRACE;
            while !typed.is_empty() && !finished.load(Ordering::Acquire) && Instant::now() < deadline {
                let lines = guest.lines();
                if PhaseLines::scan(&lines[first.min(lines.len())..], phase, task).settled(typed.len()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        })();
        stop.store(true, Ordering::Release);
        (sender.join().unwrap_or_else(|_| panic!("the sending thread panicked")), typing)
    });
    typing?;
    let wall = (wall_from, wall_us());
    let wait = if stream.end == ClientEnd::Closed { REPORT_TIMEOUT } else { Duration::from_secs(10) };
    let sink = guest.wait_for(|l| parse_sink_end(l).is_some(), wait).ok().and_then(|l| parse_sink_end(&l));
    let lines = guest.lines();
    let seen = PhaseLines::scan(&lines[first.min(lines.len())..], phase, task);
    let faults = typed
        .iter()
        .enumerate()
        .map(|(i, &at)| Fault { at, accepted: seen.answers.get(i).copied().unwrap_or(false) })
        .collect();
    Ok(PhaseRun {
        phase,
        stream,
        sink,
        faults,
        restarts: seen.restarts,
        recoveries: seen.recoveries,
        wall_us: wall,
        host_timeouts: None,
    })
}

/// Host time in microseconds since the Unix epoch.
fn wall_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Fills in each phase's host TCP timeouts from the mode's dump; a dump that
/// cannot be read leaves them unknown and says why.
fn count_timeouts(phases: &mut [PhaseRun], dump: &Path, peer: Peer) -> Result<()> {
    let bytes = std::fs::read(dump).with_context(|| format!("reading the wire's dump {}", dump.display()))?;
    let segments = tcp_trace::segments(&bytes, SINK_PORT)?;
    for p in phases {
        p.host_timeouts = Some(tcp_trace::timeouts(&segments, p.wall_us, peer.min_silence_us()));
    }
    Ok(())
}

/// What the guest said during a phase.
#[derive(Debug, Default, PartialEq)]
pub struct PhaseLines {
    /// The shell's answers to the phase's commands, in order (`true`: done).
    pub answers: Vec<bool>,
    pub restarts: usize,
    /// The incarnation the last `started` line named.
    pub last_started: Option<u64>,
    /// The newest instance has a crash armed (`fault injection armed`) that
    /// has not happened yet: it happens at its next interrupt.
    pub crash_pending: bool,
    pub recoveries: Vec<Recovery>,
}

impl PhaseLines {
    /// Whether the faults have all played out: the shell answered every one of
    /// the `typed` commands, no crash is still armed, and the newest instance
    /// moved a frame. (An instance can die before moving any: the next fault
    /// may come first. A crash armed twice in one instance happens once.)
    pub fn settled(&self, typed: usize) -> bool {
        self.answers.len() >= typed
            && !self.crash_pending
            && self.last_started.is_none_or(|k| self.recoveries.iter().any(|r| r.incarnation >= k))
    }

    pub fn scan(lines: &[String], phase: Phase, task: &str) -> PhaseLines {
        let mut seen = PhaseLines::default();
        // The last instance started, and when (its steps' first).
        let mut started: (u64, Option<u64>) = (0, None);
        for line in lines {
            if let Some(answer) = phase.verb().and_then(|verb| parse_shell_answer(line, verb, task)) {
                seen.answers.push(answer);
            } else if let Some(k) = parse_restart(line, task) {
                seen.restarts += 1;
                seen.last_started = Some(k);
                seen.crash_pending = false;
                started = (k, parse_started_ms(line, task));
            } else if let Some(mut r) = parse_recovery(line, task) {
                if started.0 == r.incarnation {
                    r.steps[Step::Started as usize] = started.1;
                }
                seen.recoveries.push(r);
            } else if task_text(line, task).is_some_and(|t| t.starts_with("fault injection armed")) {
                seen.crash_pending = true;
            }
        }
        seen
    }
}

/// Sets a socket's send buffer (`SO_SNDBUF`).
pub(crate) fn set_send_buffer(stream: &TcpStream, bytes: usize) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    const SOL_SOCKET: i32 = 1;
    const SO_SNDBUF: i32 = 7;
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const std::ffi::c_void, len: u32) -> i32;
    }
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    // SAFETY: a valid socket descriptor and a pointer to an int with its size.
    let r = unsafe {
        setsockopt(stream.as_raw_fd(), SOL_SOCKET, SO_SNDBUF, (&raw const value).cast(), size_of::<i32>() as u32)
    };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

pub(crate) fn client_end(e: &std::io::Error, what: &str) -> ClientEnd {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => ClientEnd::Reset(format!("{what}: {e}")),
        _ => ClientEnd::Error(format!("{what}: {e}")),
    }
}

/// The host's side of a phase: connects to `to`, writes the repeated
/// `block` until `stop`, half-closes and waits for end of file. Bins are
/// counted from `t0`.
pub fn stream(to: SocketAddr, t0: Instant, stop: &AtomicBool, block: &[u8]) -> StreamRun {
    let mut bins = Bins::new(BIN);
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    let mut end = (|| -> ClientEnd {
        let mut s = match TcpStream::connect(to) {
            Ok(s) => s,
            Err(e) => return client_end(&e, "connecting"),
        };
        if let Err(e) = set_send_buffer(&s, SNDBUF) {
            return ClientEnd::Error(format!("setting SO_SNDBUF: {e}"));
        }
        // Short write timeouts, so that `stop` is seen while the guest is stalled.
        if let Err(e) = s.set_write_timeout(Some(Duration::from_millis(100))) {
            return ClientEnd::Error(format!("setting a write timeout: {e}"));
        }
        let mut off = 0usize;
        let mut progress = Instant::now();
        while !stop.load(Ordering::Acquire) {
            match s.write(&block[off..]) {
                Ok(0) => return ClientEnd::Error(format!("the connection took no more bytes after {sent}")),
                Ok(n) => {
                    hasher.update(&block[off..off + n]);
                    sent += n as u64;
                    bins.add(t0.elapsed(), n as u64);
                    off = (off + n) % block.len();
                    progress = Instant::now();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if progress.elapsed() > STALL_TIMEOUT {
                        return ClientEnd::Error(format!(
                            "no progress for {} s after {sent} bytes",
                            STALL_TIMEOUT.as_secs()
                        ));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return client_end(&e, &format!("sending after {sent} bytes")),
            }
        }
        bins.finish(t0.elapsed());
        if let Err(e) = s.shutdown(Shutdown::Write) {
            return client_end(&e, "half-closing");
        }
        if let Err(e) = s.set_read_timeout(Some(REPORT_TIMEOUT)) {
            return ClientEnd::Error(format!("setting a read timeout: {e}"));
        }
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return ClientEnd::Closed,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return ClientEnd::Error(format!("no end of file within {} s", REPORT_TIMEOUT.as_secs()));
                }
                Err(e) => return client_end(&e, "waiting for the guest to close"),
            }
        }
    })();
    if bins.end.is_zero() {
        bins.finish(t0.elapsed());
    }
    if let ClientEnd::Error(why) = &mut end {
        why.push_str(&format!(" ({sent} bytes sent)"));
    }
    let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    StreamRun { sent, sha256, bins, end }
}

/// The plot's path in the workspace.
pub fn plot_path(kernel: &str, peer: Peer) -> PathBuf {
    let path = workspace_root().join(PLOT_PATH);
    let kernel = if kernel == "resurgo" { String::new() } else { format!("-{kernel}") };
    let peer = if peer == Peer::User { String::new() } else { format!("-{}", peer.name()) };
    path.with_file_name(format!("restart{kernel}{peer}.png"))
}

/// Where each phase starts on the plot's time axis (seconds), and where the
/// last ends: phases one after another, each as wide as its longest stream
/// over the modes (and at least `seconds`).
pub fn phase_layout(report: &RestartReport) -> Vec<f64> {
    let mut starts = vec![0.0];
    for phase in Phase::ALL {
        let width = report
            .modes
            .iter()
            .filter_map(|m| m.phase(phase))
            .map(|p| p.stream.bins.end.as_secs_f64())
            .fold(report.seconds as f64, f64::max);
        starts.push(starts.last().copied().unwrap_or(0.0) + width);
    }
    starts
}

const COLORS: [(u8, u8, u8); 2] = [(0xd9, 0x5f, 0x02), (0x1f, 0x78, 0xb4)];

/// Throughput over time for both modes on one figure, the phases shaded, a
/// marker at every fault typed (triangle: kill, cross: crash), into a PNG.
pub fn plot(report: &RestartReport, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    bench_net::register_font()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let starts = phase_layout(report);
    let xmax = *starts.last().unwrap_or(&1.0);
    let top = report
        .modes
        .iter()
        .flat_map(|m| m.phases.iter().flat_map(|p| p.stream.bins.mib_s().into_iter().map(|(_, v)| v)))
        .fold(0.0f64, f64::max);
    let ymax = if top > 0.0 { top * 1.6 } else { 1.0 };
    let root = BitMapBackend::new(path, (1100, 520)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Driver restarts under a TCP stream: {} ({}), QEMU TCG", report.nic, report.task),
                ("sans-serif", 20),
            )
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
        let shades = [RGBColor(0xf4, 0xf4, 0xf4), RGBColor(0xe6, 0xe6, 0xe6)];
        for (i, phase) in Phase::ALL.iter().enumerate() {
            let (x0, x1) = (starts[i], starts[i + 1]);
            chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, ymax)], shades[i % 2].filled())))?;
            let style = TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            chart.draw_series(std::iter::once(Text::new(phase.label(), ((x0 + x1) / 2.0, ymax * 0.985), style)))?;
        }
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_max_light_lines(1)
            .x_desc("seconds (phases one after another; host-side bytes per 250 ms)")
            .y_desc("MiB/s")
            .label_style(("sans-serif", 14))
            .draw()?;
        for (k, m) in report.modes.iter().enumerate() {
            let (r, g, b) = COLORS[k % COLORS.len()];
            let color = RGBColor(r, g, b);
            for (n, p) in m.phases.iter().enumerate() {
                let Some(i) = Phase::ALL.iter().position(|&x| x == p.phase) else { continue };
                let points: Vec<(f64, f64)> =
                    p.stream.bins.mib_s().into_iter().map(|(t, v)| (starts[i] + t, v)).collect();
                let series = chart.draw_series(std::iter::once(PathElement::new(points, color.stroke_width(2))))?;
                if n == 0 {
                    series
                        .label(m.mode.name())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                }
                // Faults: a short tick from the axis, topped by the fault's marker.
                let tick = ymax * 0.05;
                let base = ymax * 0.03 * k as f64;
                for f in &p.faults {
                    let x = starts[i] + f.at.as_secs_f64();
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, base), (x, base + tick)],
                        color.stroke_width(1),
                    )))?;
                    match p.phase {
                        Phase::Kill => chart.draw_series(std::iter::once(TriangleMarker::new(
                            (x, base + tick),
                            4,
                            color.filled(),
                        )))?,
                        Phase::Crash => chart.draw_series(std::iter::once(Cross::new(
                            (x, base + tick),
                            4,
                            color.stroke_width(2),
                        )))?,
                        _ => chart.draw_series(std::iter::once(Circle::new(
                            (x, base + tick),
                            4,
                            color.stroke_width(2),
                        )))?,
                    };
                }
            }
        }
        // Legend entries for the two markers.
        let gray = RGBColor(0x55, 0x55, 0x55);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("svc kill")
            .legend(move |(x, y)| TriangleMarker::new((x + 9, y), 4, gray.filled()));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("svc crash")
            .legend(move |(x, y)| Cross::new((x + 9, y), 4, gray.stroke_width(2)));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("svc crash-irq")
            .legend(move |(x, y)| Circle::new((x + 9, y), 4, gray.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .margin(32)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const TASK: &str = "eth-8139cp";

    #[test]
    fn recovery_lines_parse() {
        let line = "[eth-8139cp] recovered: incarnation 3 moved its first frame (sent) 142 ms after the failure";
        assert_eq!(
            parse_recovery(line, TASK),
            Some(Recovery { incarnation: 3, sent: true, ms: 142, steps: [None; 5] })
        );
        let line = "[eth-8139cp] recovered: incarnation 12 moved its first frame (received) 7 ms after the failure";
        assert_eq!(
            parse_recovery(line, TASK),
            Some(Recovery { incarnation: 12, sent: false, ms: 7, steps: [None; 5] })
        );
        // The instance's own steps, as far as it reached them; unknown ones and garbage are left out.
        let with = format!("{line} (running at 1, probed at 3, attached at 4, open at 6)");
        assert_eq!(parse_recovery(&with, TASK).map(|r| r.steps), Some([None, Some(1), Some(3), Some(4), Some(6)]));
        let partial = format!("{line} (running at 1, flying at 2, open at x)");
        assert_eq!(parse_recovery(&partial, TASK).map(|r| r.steps), Some([None, Some(1), None, None, None]));
        assert_eq!(parse_recovery(line, "eth-e1000"), None);
        assert_eq!(parse_recovery(&line.replace("[eth-8139cp]", "[eth-8139cp-2]"), TASK), None);
        assert_eq!(parse_recovery(&line.replace("(received)", "(lost)"), TASK), None);
        assert_eq!(parse_recovery(&line.replace("7 ms", "x ms"), TASK), None);
        assert_eq!(parse_recovery("[eth-8139cp] recovered: incarnation 2", TASK), None);
    }

    #[test]
    fn restart_lines_parse() {
        let line = "[reincarnation] eth-8139cp incarnation 4 started (restart 3; last: killed by operator)";
        assert_eq!(parse_restart(line, TASK), Some(4));
        assert_eq!(parse_started_ms(line, TASK), None, "an older server's line");
        let line = "[reincarnation] eth-8139cp incarnation 4 started (restart 3, 41 ms after the failure; last: x)";
        assert_eq!((parse_restart(line, TASK), parse_started_ms(line, TASK)), (Some(4), Some(41)));
        assert_eq!(parse_started_ms(&line.replace("started", "ended"), TASK), None);
        assert_eq!(parse_restart(line, "eth-e1000"), None);
        assert_eq!(parse_restart("[reincarnation] eth-8139cp-x incarnation 4 started", TASK), None);
        assert_eq!(parse_restart("[reincarnation] WARN eth-8139cp failed: killed by operator", TASK), None);
        assert_eq!(parse_restart("[shell] eth-8139cp incarnation 4 started", TASK), None);
        assert_eq!(parse_restart("[reincarnation] eth-8139cp incarnation 4 up", TASK), None);
    }

    #[test]
    fn shell_answers_parse() {
        assert_eq!(parse_shell_answer("[shell] svc kill eth-8139cp: done", "kill", TASK), Some(true));
        assert_eq!(
            parse_shell_answer("[shell] svc crash-irq eth-8139cp: refused in its current state", "crash-irq", TASK),
            Some(false)
        );
        assert_eq!(parse_shell_answer("[shell] svc kill: no service `eth-8139cp`", "kill", TASK), Some(false));
        assert_eq!(parse_shell_answer("[shell] svc kill eth-8139cp: done", "crash-irq", TASK), None);
        assert_eq!(parse_shell_answer("[shell] svc kill eth-e1000: done", "kill", TASK), None);
        assert_eq!(parse_shell_answer("[netd] svc kill eth-8139cp: done", "kill", TASK), None);
    }

    #[test]
    fn sink_ends_parse() {
        let hex = "cd".repeat(32);
        assert_eq!(
            parse_sink_end(&format!("[sink] received 1000 bytes sha256 {hex} in 250 ms")),
            Some(SinkEnd { bytes: 1000, ms: 250, sha256: Some(hex), error: None })
        );
        assert_eq!(
            parse_sink_end("[sink] WARN 10.0.2.2:40312: connection reset after 52000 bytes in 812 ms"),
            Some(SinkEnd { bytes: 52000, ms: 812, sha256: None, error: Some("connection reset".into()) })
        );
        assert_eq!(parse_sink_end("[sink] WARN source: reset after 10 of 20 bytes"), None);
        assert_eq!(parse_sink_end("[sink] WARN accept on 9: no memory"), None);
        assert_eq!(parse_sink_end("[sink] listening on 9 (and source on 19)"), None);
        assert_eq!(parse_sink_end("[netd] WARN 10.0.2.2:1: reset after 1 bytes in 1 ms"), None);
    }

    #[test]
    fn scanning_a_phase_counts_answers_restarts_and_recoveries() {
        let lines: Vec<String> = [
            "[shell] svc kill eth-8139cp: done",
            "[reincarnation] WARN eth-8139cp failed: killed by operator",
            "[reincarnation] eth-8139cp incarnation 2 started (restart 1, 30 ms after the failure; last: killed by operator)",
            "[eth-8139cp] recovered: incarnation 2 moved its first frame (received) 120 ms after the failure (open at 90)",
            "[shell] svc kill eth-8139cp: refused in its current state",
            "[reincarnation] eth-e1000 incarnation 2 started (restart 1; last: x)",
        ]
        .map(String::from)
        .to_vec();
        let seen = PhaseLines::scan(&lines, Phase::Kill, TASK);
        assert_eq!(seen.answers, [true, false]);
        assert_eq!(seen.restarts, 1);
        let steps = [Some(30), None, None, None, Some(90)];
        assert_eq!(seen.recoveries, [Recovery { incarnation: 2, sent: false, ms: 120, steps }]);
        assert_eq!(seen.last_started, Some(2));
        assert!(seen.settled(2));
        assert!(!seen.settled(3), "a command not answered yet");
        let clean = PhaseLines::scan(&lines, Phase::Clean, TASK);
        assert!(clean.answers.is_empty());
        assert_eq!(clean.restarts, 1);
    }

    #[test]
    fn a_phase_is_settled_once_the_newest_instance_moved_a_frame() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let started = |k| format!("[reincarnation] eth-8139cp incarnation {k} started (restart 1; last: x)");
        let moved =
            |k| format!("[eth-8139cp] recovered: incarnation {k} moved its first frame (sent) 9 ms after the failure");
        let armed = "[eth-8139cp] fault injection armed: the next interrupt crashes";
        let done = "[shell] svc crash-irq eth-8139cp: done";
        // Nothing typed, nothing to wait for.
        assert!(PhaseLines::scan(&[], Phase::CrashIrq, TASK).settled(0));
        // Armed, but the driver has not crashed yet.
        assert!(!PhaseLines::scan(&lines(&[armed, done]), Phase::CrashIrq, TASK).settled(1));
        // Incarnation 3 died before moving a frame; 4 is back but has not moved one.
        let mut v = lines(&[armed, done, &started(2), &moved(2), armed, done, &started(3), armed, done, &started(4)]);
        assert!(!PhaseLines::scan(&v, Phase::CrashIrq, TASK).settled(3));
        v.push(moved(4));
        assert!(PhaseLines::scan(&v, Phase::CrashIrq, TASK).settled(3));
        // Armed twice before the crash came: one crash, and it is still to come.
        v.extend(lines(&[armed, done, armed, done]));
        let seen = PhaseLines::scan(&v, Phase::CrashIrq, TASK);
        assert!(seen.crash_pending && !seen.settled(5));
        v.extend(lines(&[&started(5), &moved(5)]));
        assert!(PhaseLines::scan(&v, Phase::CrashIrq, TASK).settled(5));
    }

    #[test]
    fn bins_count_bytes_per_interval_and_rate_the_last_one_by_its_length() {
        let mut bins = Bins::new(Duration::from_millis(250));
        bins.add(Duration::from_millis(10), 1 << 20);
        bins.add(Duration::from_millis(240), 1 << 20);
        bins.add(Duration::from_millis(600), 1 << 19);
        bins.finish(Duration::from_millis(625));
        assert_eq!(bins.bytes, [2 << 20, 0, 1 << 19]);
        let rates = bins.mib_s();
        assert_eq!(rates.len(), 3);
        assert!((rates[0].0 - 0.125).abs() < 1e-9 && (rates[0].1 - 8.0).abs() < 1e-9);
        assert_eq!(rates[1].1, 0.0);
        // The last bin is 125 ms long: 0.5 MiB in it is 4 MiB/s.
        assert!((rates[2].0 - 0.5625).abs() < 1e-9 && (rates[2].1 - 4.0).abs() < 1e-9);
        // Empty bins up to the end.
        let mut idle = Bins::new(Duration::from_millis(250));
        idle.finish(Duration::from_millis(1000));
        assert_eq!(idle.bytes, [0, 0, 0, 0]);
    }

    fn phase_run(phase: Phase, sent: u64, sink_bytes: u64, ms: u64, faults: usize, recovery: &[u64]) -> PhaseRun {
        let stream = StreamRun {
            sent,
            sha256: "aa".into(),
            bins: Bins { width: BIN, bytes: vec![sent], end: Duration::from_millis(ms) },
            end: ClientEnd::Closed,
        };
        PhaseRun {
            phase,
            stream,
            sink: Some(SinkEnd { bytes: sink_bytes, ms, sha256: Some("aa".into()), error: None }),
            faults: (0..faults).map(|k| Fault { at: FAULT_OFFSET + FAULT_PERIOD * k as u32, accepted: true }).collect(),
            restarts: recovery.len(),
            recoveries: recovery
                .iter()
                .map(|&ms| Recovery { incarnation: 2, sent: true, ms, steps: [None; 5] })
                .collect(),
            wall_us: (0, ms * 1000),
            host_timeouts: Some(Timeouts { count: faults as u32 / 2, waited_us: 1_200_000 * (faults as u64 / 2) }),
        }
    }

    fn mode_run(mode: Mode) -> ModeRun {
        const M: u64 = 1 << 20;
        ModeRun {
            mode,
            phases: vec![
                // 4 MiB/s clean; 3 MiB/s over kills and crashes (16 MiB + 8 MiB
                // in 8 s); 1 MiB/s under interrupt-handler crashes.
                phase_run(Phase::Clean, 40 * M, 40 * M, 10_000, 0, &[]),
                phase_run(Phase::Kill, 16 * M, 16 * M, 4_000, 2, &[100, 300]),
                phase_run(Phase::Crash, 8 * M, 8 * M, 4_000, 2, &[50, 200]),
                phase_run(Phase::CrashIrq, 4 * M, 4 * M, 4_000, 2, &[20, 40]),
            ],
            error: None,
        }
    }

    #[test]
    fn figures_take_the_ratio_of_guest_throughputs_and_the_recovery_median() {
        let f = mode_run(Mode::Transparent).figures();
        assert!((f.throughput_ratio.unwrap() - 0.75).abs() < 1e-9);
        assert!((f.irq_crash_ratio.unwrap() - 0.25).abs() < 1e-9);
        assert_eq!((f.client_errors, f.connections_reset), (0, 0));
        assert_eq!(f.recovery_ms_median, Some(75.0));
        assert_eq!(f.recovery_ms_max, Some(300));
        assert_eq!((f.faults, f.injected, f.restarts, f.recoveries), (6, 6, 6, 6));
        assert_eq!(f.mib_s, [Some(4.0), Some(4.0), Some(2.0), Some(1.0)]);
    }

    #[test]
    fn resets_short_counts_and_bad_hashes_are_client_errors() {
        let mut run = mode_run(Mode::Minix);
        run.phases[1].stream.end = ClientEnd::Reset("sending after 5 bytes: Connection reset by peer".into());
        run.phases[1].sink = Some(SinkEnd { bytes: 5, ms: 100, sha256: None, error: Some("reset".into()) });
        run.phases[2].sink.as_mut().unwrap().bytes -= 1;
        let f = run.figures();
        assert_eq!((f.client_errors, f.connections_reset), (2, 1));
        assert!(matches!(run.phases[2].verdict(), Verdict::Error(e) if e.contains("the sink received")));
        let mut bad_hash = mode_run(Mode::Minix);
        bad_hash.phases[2].sink.as_mut().unwrap().sha256 = Some("bb".into());
        assert!(matches!(bad_hash.phases[2].verdict(), Verdict::Error(e) if e.contains("sha256")));
        // A clean phase's failure is not counted among the faults' errors, but noted.
        let mut clean_fails = mode_run(Mode::Transparent);
        clean_fails.phases[0].stream.end = ClientEnd::Error("timed out".into());
        assert_eq!(clean_fails.figures().client_errors, 0);
        assert!(clean_fails.notes().iter().any(|n| n.contains("clean: client error: timed out")));
        // No report from the sink: an error, and no ratio.
        let mut silent = mode_run(Mode::Transparent);
        silent.phases[1].sink = None;
        assert_eq!(silent.figures().client_errors, 1);
        assert_eq!(silent.figures().throughput_ratio, None);
    }

    #[test]
    fn notes_say_when_a_fault_did_not_restart_the_driver() {
        let mut run = mode_run(Mode::Transparent);
        assert!(run.notes().is_empty(), "{:?}", run.notes());
        run.phases[1].restarts = 1;
        run.phases[2].faults[0].accepted = false;
        run.phases[3].faults[0].accepted = false;
        let notes = run.notes();
        assert!(notes.contains(&"transparent kill: 2 faults injected but 1 driver restarts seen".to_string()));
        assert!(notes.contains(&"transparent crash: the shell refused 1 of 2 faults".to_string()));
        assert!(notes.contains(&"transparent crash: 1 faults injected but 2 driver restarts seen".to_string()));
        assert!(notes.iter().any(|n| n.starts_with("transparent crash_irq: 1 crashes armed, 2 happened")), "{notes:?}");
    }

    fn report() -> RestartReport {
        RestartReport {
            kernel: "resurgo",
            peer: Peer::User,
            nic: "rtl8139".into(),
            task: TASK.into(),
            seconds: 10,
            modes: vec![mode_run(Mode::Transparent), mode_run(Mode::Minix)],
        }
    }

    #[test]
    fn json_has_the_agreed_shape() {
        let mut r = report();
        r.modes[1].phases.truncate(1);
        r.modes[1].error = Some("QEMU exited".into());
        let text = r.json().to_string();
        assert!(!text.contains('\n'));
        assert_eq!(
            text,
            concat!(
                r#"{"kernel":"resurgo","peer":"user","nic":"rtl8139","kills":6,"seconds":10,"modes":{"#,
                r#""transparent":{"throughput_ratio":0.75,"irq_crash_ratio":0.25,"client_errors":0,"connections_reset":0,"#,
                r#""recovery_ms_median":75.0,"recovery_ms_max":300,"#,
                r#""recovery_steps_ms_median":{"started":null,"running":null,"probed":null,"attached":null,"open":null},"#,
                r#""faults_injected":6,"restarts":6,"recoveries":6,"#,
                r#""mib_s":{"clean":4.0,"kill":4.0,"crash":2.0,"crash_irq":1.0},"#,
                r#""host_tcp_timeouts":{"clean":0,"kill":1,"crash":1,"crash_irq":1},"#,
                r#""host_tcp_waited_s":{"clean":0.0,"kill":1.2,"crash":1.2,"crash_irq":1.2}},"#,
                r#""minix":{"throughput_ratio":null,"irq_crash_ratio":null,"client_errors":0,"connections_reset":0,"#,
                r#""recovery_ms_median":null,"recovery_ms_max":null,"#,
                r#""recovery_steps_ms_median":{"started":null,"running":null,"probed":null,"attached":null,"open":null},"#,
                r#""faults_injected":0,"restarts":0,"recoveries":0,"#,
                r#""mib_s":{"clean":4.0,"kill":null,"crash":null,"crash_irq":null},"#,
                r#""host_tcp_timeouts":{"clean":0,"kill":null,"crash":null,"crash_irq":null},"#,
                r#""host_tcp_waited_s":{"clean":0.0,"kill":null,"crash":null,"crash_irq":null}}}}"#
            )
        );
    }

    #[test]
    fn table_has_a_line_per_mode_and_phase_and_the_figures() {
        let table = report().table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + 2 + 8 + 2, "{table}");
        assert!(lines[0].starts_with("rtl8139 (eth-8139cp), 10 s per phase"), "{table}");
        assert!(lines[1].starts_with("mode") && lines[1].ends_with("client"), "{table}");
        assert_eq!(
            lines[4].split_whitespace().collect::<Vec<_>>(),
            [
                "transparent",
                "kill",
                "4.00",
                "16777216",
                "4000",
                "2",
                "2",
                "2",
                "200",
                "/",
                "300",
                "1",
                "(1.2",
                "s)",
                "ok"
            ]
        );
        assert!(lines[11].starts_with(
            "transparent: throughput under kills and crashes 0.750 of fault-free, under interrupt-handler crashes 0.250; 0 client errors"
        ));
        assert!(lines[11].ends_with("recovery median 75.0 ms, max 300 ms (6 of 6 restarts)"), "{table}");
    }

    #[test]
    fn phases_are_laid_out_one_after_another() {
        let mut r = report();
        r.modes[0].phases[1].stream.bins.end = Duration::from_millis(12_500);
        let starts = phase_layout(&r);
        assert_eq!(starts, [0.0, 10.0, 22.5, 32.5, 42.5]);
    }

    #[test]
    fn phase_commands_and_names() {
        assert_eq!(Phase::Clean.command(TASK), None);
        assert_eq!(Phase::Kill.command(TASK).as_deref(), Some("svc kill eth-8139cp"));
        assert_eq!(Phase::Crash.command(TASK).as_deref(), Some("svc crash eth-8139cp"));
        assert_eq!(Phase::CrashIrq.command(TASK).as_deref(), Some("svc crash-irq eth-8139cp"));
        assert_eq!(Mode::Minix.name(), "minix");
    }

    #[test]
    fn stream_sends_until_stopped_and_hashes_what_it_sent() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = listener.local_addr().unwrap();
        let sink = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let (mut hasher, mut total, mut buf) = (Sha256::new(), 0u64, [0u8; 8192]);
            loop {
                let n = conn.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                total += n as u64;
                if total > 3 << 20 {
                    // Slow down: the sender must not run away.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            (total, hasher.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>())
        });
        let stop = AtomicBool::new(false);
        let block = pattern_block();
        let run = std::thread::scope(|s| {
            let h = s.spawn(|| stream(to, Instant::now(), &stop, &block));
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, Ordering::Release);
            h.join().unwrap()
        });
        let (total, sha256) = sink.join().unwrap();
        assert_eq!(run.end, ClientEnd::Closed);
        assert_eq!(run.sent, total);
        assert_eq!(run.sha256, sha256);
        assert_eq!(run.bins.bytes.iter().sum::<u64>(), total);
        assert!(total > 0);
    }

    #[test]
    fn stream_reports_a_reset() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1000];
            let _ = (&conn).read(&mut buf);
            // Closing with unread data sends a reset.
            drop(conn);
        });
        let stop = AtomicBool::new(false);
        let run = stream(to, Instant::now(), &stop, &pattern_block());
        peer.join().unwrap();
        assert!(matches!(run.end, ClientEnd::Reset(_)), "{:?}", run.end);
    }

    #[test]
    fn plot_writes_a_png() {
        let dir = std::env::temp_dir().join(format!("resurgo-restart-plot-test-{}", std::process::id()));
        let path = dir.join("restart.png");
        plot(&report(), &path).unwrap();
        assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

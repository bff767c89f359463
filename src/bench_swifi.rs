//! `resurgo bench swifi`: software-implemented fault injection into running
//! Linux drivers, trial after trial, with a TCP stream through the driver
//! that must not notice.
//!
//! For each restart mode and NIC the default system boots with that NIC. The
//! host opens one TCP connection to the guest's echo service and keeps it
//! busy in both directions for the whole campaign: it sends a reproducible
//! pseudo-random stream and checks every byte that comes back. Then, trial
//! after trial:
//!
//! 1. wait until the current driver instance has run for [`STABLE`] and the
//!    echo stream has moved since it started;
//! 2. make a burst of faults of one type ([`swifi`]; the types take turns) and
//!    patch them into the driver's text with `svc poke` on the serial console
//!    (the reincarnation server does it with the kernel's debugging right);
//!    every answer names the bytes replaced, which must be the image's;
//! 3. watch for [`TrialOptions::limit`]: the reincarnation server reports the
//!    driver failed (a crash: the kernel stopped it at a fault; a hang: two
//!    heartbeats unanswered, a thread that never waits, or netd's complaint
//!    that it stopped sending; an exit), or nothing happens and the bench
//!    restarts it with `svc restart` so that faults never pile up;
//! 4. the new instance must move a frame (`recovered: ... M ms after the
//!    failure`, measured in the guest) before the next trial.
//!
//! Outcomes that must stay at zero: a kernel panic, a fault or exit of any
//! other task, an error the client sees (reset, error, no progress for
//! [`STALL`]) and a byte of the echo stream lost or altered. At the end the
//! stream is closed and its sha256 both ways compared, and the sink and the
//! status page must still answer.

use crate::bench_net::{self, NicSpec, median, parse_sink_report};
use crate::bench_restart::{
    Built, Mode, boot_forwarding, client_end, driver_task, parse_recovery, parse_restart, set_send_buffer, task_text,
};
use crate::frames::Rng;
use crate::image::{self, BuildOptions, Image};
use crate::qemu::{Guest, KERNEL_PANIC_MARK};
use crate::qmp::Qmp;
use crate::swifi::{self, Fault, FaultType, Region, Text};
use crate::wire::{self, WireGuard};
use crate::{driver_build, workspace_root};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The system measured, copied per mode with its restart mode set.
pub const MANIFEST: &str = "system/default.toml";
/// The NICs of a default run.
pub const NICS: [&str; 4] = ["rtl8139", "ne2k_pci", "e1000", "pcnet"];
/// Faults per NIC and mode of a default run.
pub const DEFAULT_FAULTS: u64 = 2_000;
/// Faults per trial.
pub const DEFAULT_BURST: usize = 50;
/// How long a trial watches after its burst before restarting the driver anyway.
pub const DEFAULT_LIMIT: Duration = Duration::from_millis(2_500);
/// A driver instance must have run this long before it is faulted: longer than
/// the reincarnation server's `stable_ms`, so every failure starts a fresh
/// history and is restarted at once.
pub const STABLE: Duration = Duration::from_millis(700);
/// The echo stream making no progress this long is an error the client sees.
pub const STALL: Duration = Duration::from_secs(30);
/// How long a restarted driver may take to move its first frame.
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(40);
/// The guest's services.
const ECHO_PORT: u16 = 7;
const SINK_PORT: u16 = 9;
const HTTP_PORT: u16 = 80;
/// The shell takes lines of at most 200 characters.
const LINE_MAX: usize = 190;
/// Where the plot goes, relative to the workspace.
pub const PLOT_PATH: &str = "target/bench/swifi.png";

pub struct SwifiOptions {
    pub nics: Vec<String>,
    pub modes: Vec<Mode>,
    /// Faults per NIC in transparent mode, and in MINIX-style mode.
    pub faults: u64,
    pub minix_faults: u64,
    pub trial: TrialOptions,
    pub seed: u64,
    /// The QEMU machine (q35 with the IOMMU, normally; Fiasco.OC boots `pc`).
    pub machine: crate::qemu::Machine,
    /// Fiasco.OC and L4Re (from `$RESURGO_L4RE`) instead of Resurgo's kernel.
    pub fiasco: Option<crate::fiasco::L4re>,
    pub progress: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct TrialOptions {
    pub burst: usize,
    pub limit: Duration,
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Nothing seen within the limit; the bench restarted the driver.
    NoEffect,
    /// The kernel stopped the driver at a fault (page fault, invalid opcode...).
    DriverCrash,
    /// Heartbeats unanswered, a thread that never waits, or netd's complaint
    /// that the driver stopped sending.
    DriverHang,
    /// The driver exited with an error (a Linux `BUG()`, a failed probe...).
    DriverExit,
    /// The reincarnation server gave up on it.
    HeldDown,
    /// The IOMMU blocked a DMA of the driver's device and the reincarnation
    /// server restarted the driver for it (doc/iommu.md).
    DmaBlocked,
    // The outcomes that must stay at zero.
    KernelCrash,
    OtherTaskFailed,
    ClientError,
    DataCorrupted,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::NoEffect,
        Outcome::DriverCrash,
        Outcome::DriverHang,
        Outcome::DriverExit,
        Outcome::HeldDown,
        Outcome::DmaBlocked,
        Outcome::KernelCrash,
        Outcome::OtherTaskFailed,
        Outcome::ClientError,
        Outcome::DataCorrupted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::NoEffect => "no_effect",
            Outcome::DriverCrash => "driver_crash",
            Outcome::DriverHang => "driver_hang",
            Outcome::DriverExit => "driver_exit",
            Outcome::HeldDown => "held_down",
            Outcome::DmaBlocked => "dma_blocked",
            Outcome::KernelCrash => "kernel_crash",
            Outcome::OtherTaskFailed => "other_task_failed",
            Outcome::ClientError => "client_error",
            Outcome::DataCorrupted => "data_corrupted",
        }
    }

    /// One of the outcomes the system promises never to have.
    pub fn forbidden(self) -> bool {
        self >= Outcome::KernelCrash
    }
}

/// The reincarnation server's `TASK failed: CAUSE`, as an outcome.
pub fn parse_failure(line: &str, task: &str) -> Option<(Outcome, String)> {
    let text = task_text(line, "reincarnation")?.strip_prefix(task)?;
    if let Some(rest) = text.strip_prefix(" held down after ") {
        return Some((Outcome::HeldDown, rest.to_string()));
    }
    let cause = text.strip_prefix(" failed: ")?;
    // On Fiasco.OC the server adds where the first thread was: `hung (its
    // first thread at f+0x38)`.
    let outcome = if cause.ends_with("hung") || cause.contains(": hung (") || cause.starts_with("complaint:") {
        Outcome::DriverHang
    } else if cause.starts_with("exit ") {
        Outcome::DriverExit
    } else if cause.starts_with("dma-fault:") {
        Outcome::DmaBlocked
    } else if cause.starts_with("killed") || cause.starts_with("restarted by operator") {
        return None;
    } else {
        Outcome::DriverCrash
    };
    Some((outcome, cause.to_string()))
}

/// The cause's kind for counting: `page fault at f+0x10 (...)` → `page fault`.
pub fn cause_kind(cause: &str) -> String {
    let cut = [" at ", ": ", " ("].iter().filter_map(|s| cause.find(s)).min().unwrap_or(cause.len());
    let kind = &cause[..cut];
    if kind.starts_with("no answer") || kind.starts_with("a thread ran") {
        return if kind.starts_with("no answer") { "heartbeat".into() } else { "runaway thread".into() };
    }
    if kind.starts_with("complaint") {
        return "netd: transmit stalled".into();
    }
    if kind.starts_with("exit") {
        return "exit".into();
    }
    kind.to_string()
}

/// The shell's answer to one patch of `svc poke TASK`: the address and the
/// bytes it replaced, or `None` for a refusal.
pub fn parse_poke_answer(line: &str, task: &str) -> Option<(Option<u64>, Option<Vec<u8>>)> {
    let text = task_text(line, "shell")?.strip_prefix("svc poke")?;
    let text = text.strip_prefix(' ').and_then(|t| t.strip_prefix(task)).map(str::trim_start).or_else(|| {
        // `svc poke: no service `TASK``
        text.strip_prefix(": ").filter(|t| t.contains(&format!("`{task}`")))
    })?;
    let Some((addr, rest)) = text.split_once(": ") else { return Some((None, None)) };
    let addr = u64::from_str_radix(addr.trim_start_matches("0x"), 16).ok();
    let old = rest.strip_prefix("was ").and_then(|hex| {
        (hex.len() % 2 == 0)
            .then(|| (0..hex.len() / 2).map(|k| u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()).collect())
            .flatten()
    });
    Some((addr, old))
}

/// A line saying that a task other than `task` failed: the name of that
/// task. On Resurgo's kernel the kernel says a task faulted, or init that one
/// exited; on Fiasco.OC the task's own runtime says it exits (`exit N:
/// why`), or L4Re's in-task region manager that a fault went unhandled. On
/// both, a task's runtime prints its panic (`panic: ...`) before it ends.
pub fn other_task_failure(line: &str, task: &str) -> Option<String> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("[kernel]") {
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("WARN ").unwrap_or(rest);
        let name = rest.strip_prefix("fault: ")?.split_whitespace().next()?;
        return (name != task).then(|| name.to_string());
    }
    if let Some(rest) = line.strip_prefix("[init] ") {
        let (name, what) = rest.split_once(' ')?;
        return (what.starts_with("exited") && name != task).then(|| name.to_string());
    }
    let (name, text) = line.strip_prefix('[')?.split_once("] ")?;
    let text = ["ERROR ", "WARN "].iter().find_map(|l| text.strip_prefix(l)).unwrap_or(text);
    let exit = text
        .strip_prefix("exit ")
        .and_then(|t| t.split_once(':'))
        .is_some_and(|(code, _)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()));
    let failed = exit
        || text.starts_with("panic: ")
        || text.contains("Unhandled exception")
        || (text.contains("unhandled ") && text.contains(" page fault"))
        || text.contains("mapping for page fault failed")
        || text.contains("FATAL: Fatal signal");
    (failed && name != task).then(|| name.to_string())
}

/// A line saying the kernel went down: Resurgo's panic, or Fiasco.OC's panic
/// or entry into its kernel debugger.
pub fn kernel_down(line: &str) -> bool {
    line.starts_with(KERNEL_PANIC_MARK) || crate::fiasco::kernel_down(line)
}

/// `svc poke TASK @INCARNATION` lines for a burst, each at most [`LINE_MAX`]
/// characters: patches for that instance only, so that none left over after
/// it died reaches its successor.
pub fn poke_lines(task: &str, incarnation: u64, faults: &[Fault]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for f in faults {
        let word = f.patch_word();
        if !line.is_empty() && line.len() + 1 + word.len() > LINE_MAX {
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            line = format!("svc poke {task} @{incarnation}");
        }
        line.push(' ');
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How long the shell may take over one line of patches before the next is
/// typed anyway.
const LINE_ANSWER: Duration = Duration::from_secs(3);

/// Types one `svc poke` line and waits until the shell has answered it: the
/// answer for its last patch, or a line that ends it early (a refusal, no
/// such instance). Typed ahead, a burst's lines lost keys on Fiasco.OC,
/// somewhere between the serial line and the shell (which reads through the
/// kernel's log object; where exactly was not traced), and a patch with
/// keys lost lands where no fault was chosen.
fn type_paced(guest: &mut Guest, task: &str, line: &str) -> Result<()> {
    let last = line
        .rsplit(' ')
        .next()
        .and_then(|w| w.split_once(':'))
        .and_then(|(a, _)| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
    let from = guest.line_count();
    guest.send_line(line)?;
    let deadline = Instant::now() + LINE_ANSWER;
    while Instant::now() < deadline && !guest.output_ended() {
        let answered = guest
            .lines_from(from)
            .iter()
            .filter_map(|l| parse_poke_answer(l, task))
            .any(|(a, _)| a.is_none() || a == last);
        if answered {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// The echo stream's byte at every offset: 4 KiB blocks from a seeded generator.
struct Pattern {
    seed: u64,
}

const BLOCK: u64 = 4096;

impl Pattern {
    fn block(&self, index: u64) -> Vec<u8> {
        Rng::new(self.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)).bytes(BLOCK as usize)
    }
}

/// What the host's echo client has seen so far.
#[derive(Default)]
struct EchoState {
    sent: AtomicU64,
    received: AtomicU64,
    /// First offset where the echo differed from what was sent.
    mismatch: Mutex<Option<u64>>,
    error: Mutex<Option<String>>,
    sha_sent: Mutex<Option<String>>,
    sha_received: Mutex<Option<String>>,
}

/// The host's echo client: one connection, a writer and a reader thread.
struct Echo {
    state: std::sync::Arc<EchoState>,
    stop: std::sync::Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Echo {
    fn start(port: u16, seed: u64) -> Result<Echo> {
        let s = TcpStream::connect(("127.0.0.1", port)).context("connecting to the guest's echo service")?;
        set_send_buffer(&s, 32 << 10).context("setting SO_SNDBUF")?;
        s.set_write_timeout(Some(Duration::from_millis(200)))?;
        s.set_read_timeout(Some(Duration::from_millis(200)))?;
        let state = std::sync::Arc::new(EchoState::default());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (mut w, mut r) = (s.try_clone()?, s);
        let (ws, wstop) = (state.clone(), stop.clone());
        let writer = std::thread::spawn(move || {
            let pattern = Pattern { seed };
            let mut sha = Sha256::new();
            let (mut index, mut block, mut off) = (0u64, pattern.block(0), 0usize);
            let mut progress = Instant::now();
            while !wstop.load(Ordering::Acquire) {
                // Keep at most 256 KiB unanswered: the echo is the flow control.
                if ws.sent.load(Ordering::Acquire) > ws.received.load(Ordering::Acquire) + (256 << 10) {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                match w.write(&block[off..]) {
                    Ok(0) => return set_error(&ws, "the connection took no more bytes".into()),
                    Ok(n) => {
                        sha.update(&block[off..off + n]);
                        ws.sent.fetch_add(n as u64, Ordering::AcqRel);
                        off += n;
                        progress = Instant::now();
                        if off == block.len() {
                            index += 1;
                            block = pattern.block(index);
                            off = 0;
                        }
                    }
                    Err(e)
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) =>
                    {
                        if progress.elapsed() > STALL {
                            return set_error(&ws, format!("sending: no progress for {} s", STALL.as_secs()));
                        }
                    }
                    Err(e) => return set_error(&ws, format!("{:?}", client_end(&e, "sending"))),
                }
            }
            *ws.sha_sent.lock().unwrap_or_else(|e| e.into_inner()) = Some(hex(sha.finalize()));
            if let Err(e) = w.shutdown(Shutdown::Write) {
                set_error(&ws, format!("half-closing: {e}"));
            }
        });
        let rs = state.clone();
        let reader = std::thread::spawn(move || {
            let pattern = Pattern { seed };
            let mut sha = Sha256::new();
            let mut buf = vec![0u8; 16 << 10];
            let (mut index, mut want) = (0u64, pattern.block(0));
            let mut at = 0usize;
            let mut progress = Instant::now();
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        sha.update(&buf[..n]);
                        progress = Instant::now();
                        for &b in &buf[..n] {
                            if b != want[at] {
                                let mut m = rs.mismatch.lock().unwrap_or_else(|e| e.into_inner());
                                m.get_or_insert(index * BLOCK + at as u64);
                            }
                            at += 1;
                            if at == want.len() {
                                index += 1;
                                want = pattern.block(index);
                                at = 0;
                            }
                        }
                        rs.received.fetch_add(n as u64, Ordering::AcqRel);
                    }
                    Err(e)
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) =>
                    {
                        let waiting = rs.sent.load(Ordering::Acquire) > rs.received.load(Ordering::Acquire);
                        if waiting && progress.elapsed() > STALL {
                            return set_error(&rs, format!("receiving: no progress for {} s", STALL.as_secs()));
                        }
                        if !waiting {
                            progress = Instant::now();
                        }
                    }
                    Err(e) => return set_error(&rs, format!("{:?}", client_end(&e, "receiving"))),
                }
            }
            *rs.sha_received.lock().unwrap_or_else(|e| e.into_inner()) = Some(hex(sha.finalize()));
        });
        Ok(Echo { state, stop, threads: vec![writer, reader] })
    }

    fn received(&self) -> u64 {
        self.state.received.load(Ordering::Acquire)
    }

    fn error(&self) -> Option<String> {
        self.state.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn mismatch(&self) -> Option<u64> {
        *self.state.mismatch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops sending, half-closes, waits for the guest's end of file: the
    /// bytes each way and whether their sha256 match.
    fn finish(mut self) -> (u64, u64, bool) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let s = &self.state;
        let sent = s.sent.load(Ordering::Acquire);
        let received = s.received.load(Ordering::Acquire);
        let a = s.sha_sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let b = s.sha_received.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (sent, received, a.is_some() && a == b && sent == received)
    }
}

fn set_error(s: &EchoState, why: String) {
    s.error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(why);
}

/// One trial's record.
#[derive(Debug, Clone)]
pub struct Trial {
    pub kind: FaultType,
    pub faults: usize,
    pub outcome: Outcome,
    pub cause: String,
    /// Guest milliseconds from the failure to the new instance's first frame.
    pub recovery_ms: Option<u64>,
    /// Empty frames the NIC sent during the trial, each followed by a repair
    /// of QEMU's user network ([`crate::wire`]).
    pub empty_frames: u64,
}

/// A NIC's campaign in one mode.
#[derive(Debug, Default)]
pub struct NicRun {
    pub task: String,
    pub trials: Vec<Trial>,
    pub faults_by_region: BTreeMap<Region, u64>,
    /// Patches whose replaced bytes were not the image's.
    pub patch_mismatches: u64,
    /// Patches made, and patches the kernel refused (the driver was running).
    pub patches_applied: u64,
    pub patches_refused: u64,
    pub stream_sent: u64,
    pub stream_received: u64,
    /// Echo connections that broke (MINIX-style mode only; a new one
    /// followed each).
    pub broken_streams: u64,
    pub sha256_match: bool,
    /// The sink and the status page answered at the end.
    pub services_ok: bool,
    /// Frames on the wire, and repairs of QEMU's user network after empty
    /// ones ([`crate::wire`]).
    pub wire_frames: u64,
    pub wire_repairs: u64,
    pub text: Option<TextSizes>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TextSizes {
    pub linux: u64,
    pub shim: u64,
    pub ddekit: u64,
    pub other: u64,
}

impl NicRun {
    pub fn faults(&self) -> u64 {
        self.trials.iter().map(|t| t.faults as u64).sum()
    }

    pub fn count(&self, o: Outcome) -> usize {
        self.trials.iter().filter(|t| t.outcome == o).count()
    }

    fn recoveries(&self) -> Vec<f64> {
        self.trials
            .iter()
            .filter(|t| t.outcome != Outcome::NoEffect)
            .filter_map(|t| t.recovery_ms.map(|x| x as f64))
            .collect()
    }
}

fn p99(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.to_vec();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let k = ((v.len() as f64) * 0.99).ceil() as usize;
    Some(v[k.clamp(1, v.len()) - 1])
}

/// Figures for a set of NIC runs (one NIC, or all of a mode).
fn figures(runs: &[&NicRun]) -> Value {
    let trials: Vec<&Trial> = runs.iter().flat_map(|r| r.trials.iter()).collect();
    let mut outcomes = Map::new();
    for o in Outcome::ALL {
        outcomes.insert(o.name().into(), json!(trials.iter().filter(|t| t.outcome == o).count()));
    }
    let mut causes: BTreeMap<String, u64> = BTreeMap::new();
    for t in trials.iter().filter(|t| t.outcome != Outcome::NoEffect) {
        *causes.entry(cause_kind(&t.cause)).or_default() += 1;
    }
    let mut by_type = Map::new();
    for kind in FaultType::ALL {
        let of: Vec<&&Trial> = trials.iter().filter(|t| t.kind == kind).collect();
        let mut m = Map::new();
        m.insert("trials".into(), json!(of.len()));
        m.insert("faults".into(), json!(of.iter().map(|t| t.faults).sum::<usize>()));
        for o in Outcome::ALL {
            m.insert(o.name().into(), json!(of.iter().filter(|t| t.outcome == o).count()));
        }
        by_type.insert(kind.name().into(), Value::Object(m));
    }
    let mut regions = Map::new();
    for r in Region::ALL {
        regions.insert(
            r.name().into(),
            json!(runs.iter().map(|x| x.faults_by_region.get(&r).copied().unwrap_or(0)).sum::<u64>()),
        );
    }
    let rec: Vec<f64> = runs.iter().flat_map(|r| r.recoveries()).collect();
    let forbidden: usize = trials.iter().filter(|t| t.outcome.forbidden()).count();
    json!({
        "faults": runs.iter().map(|r| r.faults()).sum::<u64>(),
        "trials": trials.len(),
        "outcomes": outcomes,
        "forbidden_outcomes": forbidden,
        "causes": causes,
        "faults_by_region": regions,
        "by_fault_type": by_type,
        "recoveries": rec.len(),
        "recovery_ms_median": median(&rec),
        "recovery_ms_p99": p99(&rec),
        "stream_bytes": runs.iter().map(|r| r.stream_received).sum::<u64>(),
        "sha256_match": runs.iter().all(|r| r.sha256_match),
        "broken_streams": runs.iter().map(|r| r.broken_streams).sum::<u64>(),
        "patches_applied": runs.iter().map(|r| r.patches_applied).sum::<u64>(),
        "patches_refused": runs.iter().map(|r| r.patches_refused).sum::<u64>(),
        "patch_mismatches": runs.iter().map(|r| r.patch_mismatches).sum::<u64>(),
        "services_ok": runs.iter().all(|r| r.services_ok),
        "wire_frames": runs.iter().map(|r| r.wire_frames).sum::<u64>(),
        "empty_frames_sent": trials.iter().map(|t| t.empty_frames).sum::<u64>(),
        "wire_repairs": runs.iter().map(|r| r.wire_repairs).sum::<u64>(),
        "errors": runs.iter().filter_map(|r| r.error.clone()).collect::<Vec<_>>(),
    })
}

pub struct SwifiReport {
    /// `resurgo` or `fiasco`: the kernel it ran on.
    pub kernel: &'static str,
    pub seed: u64,
    pub trial: TrialOptions,
    /// Per mode, per NIC model.
    pub modes: Vec<(Mode, Vec<(String, NicRun)>)>,
}

impl SwifiReport {
    pub fn json(&self) -> Value {
        let mut modes = Map::new();
        let mut text = Map::new();
        for (mode, nics) in &self.modes {
            let mut per = Map::new();
            for (nic, run) in nics {
                per.insert(nic.clone(), figures(&[run]));
                if let Some(t) = run.text {
                    text.insert(
                        run.task.clone(),
                        json!({"linux_bytes": t.linux, "shim_bytes": t.shim, "ddekit_bytes": t.ddekit, "untargeted_bytes": t.other}),
                    );
                }
            }
            let all: Vec<&NicRun> = nics.iter().map(|(_, r)| r).collect();
            modes.insert(mode.name().into(), json!({"nics": per, "total": figures(&all)}));
        }
        json!({
            "kernel": self.kernel,
            "seed": self.seed,
            "burst": self.trial.burst,
            "trial_limit_ms": self.trial.limit.as_millis() as u64,
            "text": text,
            "modes": modes,
        })
    }

    /// Whether every forbidden outcome stayed at zero and every stream and
    /// service came through.
    /// In MINIX-style mode a client may notice a restart (that mode drops
    /// what was in flight): there only the kernel and the other tasks must
    /// come through.
    pub fn clean(&self) -> bool {
        self.modes.iter().all(|(mode, nics)| {
            nics.iter().all(|(_, r)| {
                let allowed = |o: Outcome| {
                    !o.forbidden()
                        || (*mode == Mode::Minix && matches!(o, Outcome::ClientError | Outcome::DataCorrupted))
                };
                r.error.is_none()
                    && r.sha256_match
                    && r.services_ok
                    && r.patch_mismatches == 0
                    && r.patches_refused == 0
                    && r.trials.iter().all(|t| allowed(t.outcome))
            })
        })
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:<9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9} {:>9} {:>8}  stream\n",
            "mode",
            "nic",
            "faults",
            "applied",
            "trials",
            "none",
            "crash",
            "hang",
            "exit",
            "held",
            "dma",
            "forbidden",
            "rec. med",
            "rec. p99"
        );
        for (mode, nics) in &self.modes {
            for (nic, r) in nics {
                let rec = r.recoveries();
                let ms = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.0} ms"));
                out.push_str(&format!(
                    "{:<12} {:<9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9} {:>9} {:>8}  {} MiB, sha256 {}{}{}\n",
                    mode.name(),
                    nic,
                    r.faults(),
                    r.patches_applied,
                    r.trials.len(),
                    r.count(Outcome::NoEffect),
                    r.count(Outcome::DriverCrash),
                    r.count(Outcome::DriverHang),
                    r.count(Outcome::DriverExit),
                    r.count(Outcome::HeldDown),
                    r.count(Outcome::DmaBlocked),
                    r.trials.iter().filter(|t| t.outcome.forbidden()).count(),
                    ms(median(&rec)),
                    ms(p99(&rec)),
                    r.stream_received >> 20,
                    if r.sha256_match { "ok" } else { "MISMATCH" },
                    match r.wire_repairs {
                        0 => String::new(),
                        n => format!("; QEMU's user network repaired {n}x after empty frames"),
                    },
                    r.error.as_ref().map_or(String::new(), |e| format!("; error: {e}")),
                ));
            }
        }
        out
    }
}

/// The driver's code, split by origin: from the image that runs and the
/// objects it was linked from.
pub fn driver_text(image: &Image, task: &str) -> Result<Text> {
    text_of(Built::Resurgo(image), task)
}

/// [`driver_text`] for a system built for either kernel.
fn text_of(built: Built, task: &str) -> Result<Text> {
    let t = built.system().tasks.iter().find(|t| t.name == task).ok_or_else(|| anyhow!("no task `{task}`"))?;
    let driver = t.driver.as_deref().ok_or_else(|| anyhow!("task `{task}` runs no legacy driver"))?;
    let path = built.binary(&t.image).ok_or_else(|| anyhow!("the image has no binary `{}`", t.image))?;
    let elf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut linux = HashSet::new();
    let objects = driver_build::objects_dir().join(driver);
    for entry in std::fs::read_dir(&objects).with_context(|| format!("cannot list {}", objects.display()))? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "o") {
            let data = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            linux.extend(swifi::defined_functions(&data).with_context(|| format!("{}", p.display()))?);
        }
    }
    if linux.is_empty() {
        bail!("{} holds no objects of the driver `{driver}`", objects.display());
    }
    let mut shim_c = HashSet::new();
    let lib = built.shim_lib();
    let data = std::fs::read(&lib).with_context(|| format!("cannot read {}", lib.display()))?;
    let mut archive = ar::Archive::new(&data[..]);
    while let Some(entry) = archive.next_entry() {
        let mut entry = entry.with_context(|| format!("{} is not an archive", lib.display()))?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        // Rust's codegen units are `*.rcgu.o`; the rest is the shim's C.
        if name.ends_with(".o") && !name.contains(".rcgu.") {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            shim_c.extend(swifi::defined_functions(&bytes).unwrap_or_default());
        }
    }
    Text::load(&elf, &linux, &shim_c)
}

fn say(progress: bool, s: String) {
    if progress {
        eprintln!("{s}");
    }
}

/// Runs the campaign.
pub fn run(opts: &SwifiOptions) -> Result<SwifiReport> {
    if opts.trial.burst == 0 || opts.trial.burst > 1000 {
        bail!("--burst must be between 1 and 1000");
    }
    let mut specs = Vec::new();
    for nic in &opts.nics {
        specs.push(
            bench_net::nic(nic).ok_or_else(|| anyhow!("unknown NIC model `{nic}` (one of {})", NICS.join(", ")))?,
        );
    }
    // Both modes' images first (one build at a time), then the modes'
    // campaigns side by side, each with its own guest.
    let mut images = Vec::new();
    for &mode in &opts.modes {
        let manifest = image::with_restart_mode(&workspace_root().join(MANIFEST), mode)?;
        images.push(match &opts.fiasco {
            None => (mode, Owned::Resurgo(image::build(&BuildOptions { manifest, progress: opts.progress })?)),
            Some(l4re) => (mode, Owned::Fiasco(l4re, crate::fiasco::build(&manifest)?)),
        });
    }
    let modes = std::thread::scope(|s| {
        let runs: Vec<_> = images
            .iter()
            .map(|(mode, image)| {
                let image = image.built();
                let specs = &specs;
                s.spawn(move || {
                    let faults = if *mode == Mode::Minix { opts.minix_faults } else { opts.faults };
                    let mut nics = Vec::new();
                    for (k, spec) in specs.iter().enumerate() {
                        let seed = opts.seed ^ (k as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
                        let mut run = NicRun::default();
                        let plan = Plan { kernel: image.kernel_name(), mode: *mode, opts, faults, seed };
                        if let Err(e) = campaign(image, spec, &plan, &mut run) {
                            run.error = Some(format!("{e:#}"));
                        }
                        say(
                            opts.progress,
                            format!(
                                "{} {}: {} faults, {} trials{}",
                                mode.name(),
                                spec.model,
                                run.faults(),
                                run.trials.len(),
                                run.error.as_ref().map_or(String::new(), |e| format!("; error: {e}"))
                            ),
                        );
                        nics.push((spec.model.to_string(), run));
                    }
                    (*mode, nics)
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a campaign thread panicked"))).collect()
    });
    let kernel = if opts.fiasco.is_some() { "fiasco" } else { "resurgo" };
    Ok(SwifiReport { kernel, seed: opts.seed, trial: opts.trial, modes })
}

/// A mode's system, built for one of the kernels.
enum Owned<'a> {
    Resurgo(Image),
    Fiasco(&'a crate::fiasco::L4re, crate::fiasco::FiascoImage),
}

impl Owned<'_> {
    fn built(&self) -> Built<'_> {
        match self {
            Owned::Resurgo(image) => Built::Resurgo(image),
            Owned::Fiasco(l4re, image) => Built::Fiasco(l4re, image),
        }
    }
}

/// Where a campaign's dump of the wire goes (kept only if it needed repairs).
pub fn wire_dump_path(kernel: &str, mode: Mode, nic: &str) -> PathBuf {
    console_path(kernel, mode, nic).with_extension("pcap")
}

/// Where a campaign's guest console goes: `target/bench/swifi-MODE-NIC.log`
/// on Resurgo's kernel, `swifi-fiasco-MODE-NIC.log` on Fiasco.OC.
pub fn console_path(kernel: &str, mode: Mode, nic: &str) -> PathBuf {
    let kernel = if kernel == "resurgo" { String::new() } else { format!("{kernel}-") };
    workspace_root().join(format!("target/bench/swifi-{kernel}{}-{nic}.log", mode.name()))
}

/// One NIC's campaign in one mode.
struct Plan<'a> {
    /// `resurgo` or `fiasco`.
    kernel: &'static str,
    mode: Mode,
    opts: &'a SwifiOptions,
    /// Faults to inject.
    faults: u64,
    seed: u64,
}

fn campaign(built: Built, spec: &NicSpec, plan: &Plan, run: &mut NicRun) -> Result<()> {
    let (mode, opts, kernel) = (plan.mode, plan.opts, plan.kernel);
    let task = driver_task(built.system(), spec)?;
    run.task = task.clone();
    let text = text_of(built, &task)?;
    run.text = Some(TextSizes {
        linux: text.region_bytes(Region::Linux),
        shim: text.region_bytes(Region::Shim),
        ddekit: text.region_bytes(Region::Ddekit),
        other: text.other_bytes,
    });
    say(opts.progress, format!("{} {}: booting ({task})", mode.name(), spec.model));
    let pcap = wire_dump_path(kernel, mode, spec.model);
    if let Some(dir) = pcap.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let qmp = Qmp::socket_path(&format!("swifi-{kernel}-{}-{}", mode.name(), spec.model));
    let mut extra = wire::qemu_args(&pcap);
    extra.extend(Qmp::qemu_args(&qmp));
    let (mut guest, ports) =
        boot_forwarding(built, (spec, opts.machine), &task, &[ECHO_PORT, SINK_PORT, HTTP_PORT], &extra)?;
    let result = WireGuard::start(&pcap, &qmp).and_then(|mut wire| {
        let result = trials(&mut guest, &mut wire, &ports, &task, &text, plan, run);
        (run.wire_frames, _, run.wire_repairs) = wire.counts();
        result
    });
    // The dump is kept as evidence only when the wire needed repairs.
    if run.wire_repairs == 0 {
        let _ = std::fs::remove_file(&pcap);
    }
    let path = console_path(kernel, mode, spec.model);
    let saved = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, guest.lines().join("\n") + "\n"));
    if let Err(e) = saved {
        eprintln!("warning: cannot write {}: {e}", path.display());
    }
    result
}

/// What the console said since a trial began.
struct Watch {
    first: usize,
}

fn trials(
    guest: &mut Guest,
    wire: &mut WireGuard,
    ports: &[u16],
    task: &str,
    text: &Text,
    plan: &Plan,
    run: &mut NicRun,
) -> Result<()> {
    let (mode, opts, wanted, seed) = (plan.mode, plan.opts, plan.faults, plan.seed);
    let mut rng = Rng::new(seed);
    let mut echo = Echo::start(ports[0], seed)?;
    let mut connection = 0u64;
    let mut incarnation = 1u64;
    let mut started = Instant::now() - STABLE;
    let mut k = 0usize;
    let t0 = Instant::now();
    while run.faults() < wanted {
        // 1. A working instance that has run long enough.
        let before = echo.received();
        let ready_by = Instant::now() + RECOVERY_TIMEOUT;
        while echo.received() == before || started.elapsed() < STABLE {
            if Instant::now() > ready_by {
                bail!("the echo stream did not move for {} s before trial {k}", RECOVERY_TIMEOUT.as_secs());
            }
            if echo.error().is_some() || guest.exited().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let watch = Watch { first: guest.line_count() };
        let empty_before = wire.counts().1;
        // 2. The burst.
        let kind = FaultType::ALL[k % FaultType::ALL.len()];
        let faults = swifi::burst(text, opts.trial.burst, &[kind], &mut rng);
        for f in &faults {
            *run.faults_by_region.entry(f.region).or_default() += 1;
        }
        for line in poke_lines(task, incarnation, &faults) {
            type_paced(guest, task, &line)?;
        }
        // 3. Watch.
        let (outcome, cause) = watch_trial(guest, &echo, &watch, task, &faults, opts.trial.limit, run);
        wire.check()?;
        if run.patches_refused > 0 || run.patch_mismatches > 0 {
            bail!(
                "trial {k}: the kernel refused {} patches, and {} replaced other bytes than the image's; see {}",
                run.patches_refused,
                run.patch_mismatches,
                console_path(plan.kernel, mode, "*").display()
            );
        }
        if outcome == Outcome::KernelCrash || guest.exited().is_some() {
            run.trials.push(Trial {
                kind,
                faults: faults.len(),
                outcome: Outcome::KernelCrash,
                cause,
                recovery_ms: None,
                empty_frames: wire.counts().1 - empty_before,
            });
            bail!("the guest went down in trial {k}");
        }
        if outcome == Outcome::NoEffect {
            guest.send_line(&format!("svc restart {task}"))?;
        }
        if outcome == Outcome::HeldDown {
            guest.send_line(&format!("svc up {task}"))?;
        }
        // 4. The next instance's first frame.
        let quiet_from = guest.line_count();
        let recovery = wait_recovery(guest, &watch, task, incarnation);
        let (new_incarnation, ms) = match recovery {
            Ok(r) => r,
            Err(e) => {
                // Not a word from any task or the kernel since the last
                // command: the whole guest stopped (without an IOMMU, a
                // device the faulted driver programmed can write anywhere).
                let silent = guest.line_count() == quiet_from;
                let other = guest.lines_from(watch.first).iter().find_map(|l| other_task_failure(l, task));
                let (outcome, cause) = if silent {
                    (
                        Outcome::KernelCrash,
                        format!("the guest went silent: no output for {} s", RECOVERY_TIMEOUT.as_secs()),
                    )
                } else if let Some(name) = other {
                    // A task the driver's clients need failed with it.
                    (Outcome::OtherTaskFailed, format!("{name} failed"))
                } else {
                    (outcome, cause)
                };
                let empty_frames = wire.counts().1 - empty_before;
                run.trials.push(Trial { kind, faults: faults.len(), outcome, cause, recovery_ms: None, empty_frames });
                return Err(e);
            }
        };
        incarnation = new_incarnation;
        started = Instant::now();
        // What the client saw during the trial overrides the driver's outcome.
        let outcome = if echo.mismatch().is_some() {
            Outcome::DataCorrupted
        } else if echo.error().is_some() {
            Outcome::ClientError
        } else {
            let lines = guest.lines_from(watch.first);
            match lines.iter().find_map(|l| other_task_failure(l, task)) {
                Some(_) => Outcome::OtherTaskFailed,
                None => outcome,
            }
        };
        let cause = match outcome {
            Outcome::DataCorrupted => format!("echo differs at byte {}", echo.mismatch().unwrap_or(0)),
            Outcome::ClientError => echo.error().unwrap_or_default(),
            _ => cause,
        };
        let empty_frames = wire.counts().1 - empty_before;
        run.trials.push(Trial { kind, faults: faults.len(), outcome, cause, recovery_ms: ms, empty_frames });
        k += 1;
        if outcome == Outcome::DataCorrupted || outcome == Outcome::ClientError {
            let why = run.trials.last().map_or(String::new(), |t| t.cause.clone());
            // The promise of transparent restarts is broken: stop and say so.
            if mode == Mode::Transparent {
                bail!("trial {k}: {why}");
            }
            // MINIX-style restarts drop what was in flight, and clients may
            // notice: counted, and the campaign goes on with a new connection.
            let (sent, received, _) = std::mem::replace(&mut echo, {
                connection += 1;
                Echo::start(ports[0], seed ^ connection)?
            })
            .finish();
            run.stream_sent += sent;
            run.stream_received += received;
            run.broken_streams += 1;
        }
        if opts.progress && k.is_multiple_of(20) {
            let crashes =
                run.count(Outcome::DriverCrash) + run.count(Outcome::DriverHang) + run.count(Outcome::DriverExit);
            say(
                true,
                format!(
                    "{} {}: {} trials, {} faults, {} driver failures, {} MiB echoed, {:.0} s",
                    mode.name(),
                    task,
                    k,
                    run.faults(),
                    crashes,
                    echo.received() >> 20,
                    t0.elapsed().as_secs_f64()
                ),
            );
        }
    }
    let (sent, received, matched) = echo.finish();
    run.stream_sent += sent;
    run.stream_received += received;
    // The last connection's whole stream; any broken one is counted apart.
    run.sha256_match = matched;
    run.services_ok = services_answer(guest, ports[1], ports[2]);
    Ok(())
}

/// Watches the console and the client for the trial's limit after the burst
/// was typed: the first failure the reincarnation server reports, or nothing.
fn watch_trial(
    guest: &Guest,
    echo: &Echo,
    watch: &Watch,
    task: &str,
    faults: &[Fault],
    limit: Duration,
    run: &mut NicRun,
) -> (Outcome, String) {
    let mut answers = 0;
    let mut seen = watch.first;
    let mut limit_at: Option<Instant> = None;
    let typed = Instant::now();
    loop {
        let lines = guest.lines_from(seen);
        seen += lines.len();
        for l in &lines {
            if kernel_down(l) {
                return (Outcome::KernelCrash, l.clone());
            }
            // Answers are matched by address: the shell may still be
            // answering the previous burst's lines (refused, `not running`,
            // since they name the instance that died).
            if let Some((addr, old)) = parse_poke_answer(l, task) {
                let want = addr.and_then(|a| faults.iter().find(|f| f.addr == a));
                match (want, old) {
                    (Some(f), Some(old)) if old != f.old => run.patch_mismatches += 1,
                    (Some(_), Some(_)) => run.patches_applied += 1,
                    // The kernel refused a patch of a running driver's text.
                    (Some(_), None) => run.patches_refused += 1,
                    (None, _) => {}
                }
                answers += usize::from(want.is_some());
            }
            if let Some(failure) = parse_failure(l, task) {
                return failure;
            }
        }
        if echo.error().is_some() || echo.mismatch().is_some() {
            return (Outcome::ClientError, echo.error().unwrap_or_default());
        }
        if guest.output_ended() {
            return (Outcome::KernelCrash, "QEMU exited".into());
        }
        // The limit counts from the last patch (or from typing, if answers are lost).
        if limit_at.is_none() && (answers >= faults.len() || typed.elapsed() > Duration::from_secs(20)) {
            limit_at = Some(Instant::now() + limit);
        }
        if limit_at.is_some_and(|t| Instant::now() >= t) {
            return (Outcome::NoEffect, String::new());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the instance after `incarnation` to start and move a frame: its
/// number and the guest-measured recovery time.
fn wait_recovery(guest: &Guest, watch: &Watch, task: &str, incarnation: u64) -> Result<(u64, Option<u64>)> {
    let deadline = Instant::now() + RECOVERY_TIMEOUT;
    let mut newest = incarnation;
    let mut seen = watch.first;
    loop {
        let lines = guest.lines_from(seen);
        seen += lines.len();
        for l in &lines {
            if kernel_down(l) {
                bail!("kernel panic: {l}");
            }
            if let Some(k) = parse_restart(l, task) {
                newest = newest.max(k);
            }
            if let Some(r) = parse_recovery(l, task)
                && r.incarnation > incarnation
                && r.incarnation >= newest
            {
                return Ok((r.incarnation, Some(r.ms)));
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{task} did not come back within {} s (newest incarnation {newest}); last lines:\n{}",
                RECOVERY_TIMEOUT.as_secs(),
                guest.tail(crate::qemu::TAIL_LINES)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After the campaign: a 1 MiB stream to the sink arrives whole, and the
/// status page answers.
fn services_answer(guest: &Guest, sink: u16, http: u16) -> bool {
    let data = Rng::new(0x51f1).bytes(1 << 20);
    let want = hex(Sha256::digest(&data));
    let first = guest.line_count();
    let sent = (|| -> std::io::Result<()> {
        let mut s = TcpStream::connect(("127.0.0.1", sink))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        s.write_all(&data)?;
        s.shutdown(Shutdown::Write)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).map(|_| ())
    })();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sink_ok = false;
    while sent.is_ok() && !sink_ok && Instant::now() < deadline {
        sink_ok = guest
            .lines_from(first)
            .iter()
            .filter_map(|l| parse_sink_report(l))
            .any(|r| r.sha256.as_deref() == Some(want.as_str()));
        std::thread::sleep(Duration::from_millis(50));
    }
    let page = (|| -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", http))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        s.write_all(b"GET / HTTP/1.0\r\nHost: resurgo\r\n\r\n")?;
        let mut body = String::new();
        s.read_to_string(&mut body)?;
        Ok(body)
    })();
    sink_ok && page.is_ok_and(|p| p.starts_with("HTTP/1.") && p.contains(" 200 "))
}

/// Outcomes per fault type in one mode: what [`plot`] draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeCounts {
    pub mode: String,
    pub faults: usize,
    pub trials: usize,
    /// Per fault type (in [`FaultType::ALL`]'s order), trials per outcome
    /// (in [`Outcome::ALL`]'s order).
    pub by_type: [[usize; Outcome::ALL.len()]; FaultType::ALL.len()],
}

impl SwifiReport {
    /// The counts [`plot`] draws, from this run's trials.
    pub fn counts(&self) -> Vec<ModeCounts> {
        self.modes
            .iter()
            .map(|(mode, nics)| {
                let trials: Vec<&Trial> = nics.iter().flat_map(|(_, r)| r.trials.iter()).collect();
                let mut by_type = [[0; Outcome::ALL.len()]; FaultType::ALL.len()];
                for t in &trials {
                    let ti = FaultType::ALL.iter().position(|k| *k == t.kind).expect("a kind of ALL");
                    let oi = Outcome::ALL.iter().position(|o| *o == t.outcome).expect("an outcome of ALL");
                    by_type[ti][oi] += 1;
                }
                ModeCounts {
                    mode: mode.name().to_string(),
                    faults: trials.iter().map(|t| t.faults).sum(),
                    trials: trials.len(),
                    by_type,
                }
            })
            .collect()
    }
}

/// The counts [`plot`] draws, from the JSON objects earlier runs printed
/// (`--json`'s last line), with the file each came from. A later report's
/// figures for a mode and NIC replace an earlier one's, so a rerun of some
/// NICs completes a campaign. Returns the counts and, per mode, which report
/// each NIC's figures came from.
pub fn counts_from_reports(reports: &[(String, Value)]) -> Result<(Vec<ModeCounts>, Vec<String>)> {
    let mut chosen: BTreeMap<(usize, String), (String, &Value)> = BTreeMap::new();
    for (file, report) in reports {
        let modes = report["modes"].as_object().ok_or_else(|| anyhow!("{file}: no \"modes\" object"))?;
        for (mode, figures) in modes {
            let rank = Mode::ALL
                .iter()
                .position(|m| m.name() == mode)
                .ok_or_else(|| anyhow!("{file}: unknown mode {mode:?}"))?;
            let nics = figures["nics"].as_object().ok_or_else(|| anyhow!("{file}: mode {mode} has no \"nics\""))?;
            for (nic, fig) in nics {
                chosen.insert((rank, nic.clone()), (file.clone(), fig));
            }
        }
    }
    let mut out: Vec<ModeCounts> = Vec::new();
    let mut sources = Vec::new();
    for ((rank, nic), (file, fig)) in &chosen {
        let mode = Mode::ALL[*rank].name();
        if out.last().is_none_or(|m| m.mode != mode) {
            out.push(ModeCounts {
                mode: mode.to_string(),
                faults: 0,
                trials: 0,
                by_type: [[0; Outcome::ALL.len()]; FaultType::ALL.len()],
            });
        }
        let m = out.last_mut().expect("pushed above");
        let count = |v: &Value, what: &str| {
            v.as_u64().map(|n| n as usize).ok_or_else(|| anyhow!("{file}: {mode} {nic}: {what} is not a count"))
        };
        m.faults += count(&fig["faults"], "faults")?;
        m.trials += count(&fig["trials"], "trials")?;
        for (ti, kind) in FaultType::ALL.iter().enumerate() {
            let of = &fig["by_fault_type"][kind.name()];
            for (oi, o) in Outcome::ALL.iter().enumerate() {
                m.by_type[ti][oi] += count(&of[o.name()], &format!("by_fault_type.{}.{}", kind.name(), o.name()))?;
            }
        }
        sources.push(format!("{mode} {nic}: {file}"));
    }
    if out.is_empty() {
        bail!("the reports hold no mode with a NIC");
    }
    Ok((out, sources))
}

/// Outcomes per fault type for each mode, as stacked bars, into a PNG.
/// `kernel` (`resurgo` or `fiasco`) names the kernel in the captions.
pub fn plot(modes: &[ModeCounts], kernel: &str, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let on = if kernel == "fiasco" { " on Fiasco.OC" } else { "" };
    bench_net::register_font()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let colors: [RGBColor; 10] = [
        RGBColor(0xbd, 0xbd, 0xbd),
        RGBColor(0xd9, 0x5f, 0x02),
        RGBColor(0x75, 0x70, 0xb3),
        RGBColor(0x1b, 0x9e, 0x77),
        RGBColor(0xe6, 0xab, 0x02),
        RGBColor(0x1f, 0x78, 0xb4),
        RGBColor(0xe7, 0x29, 0x8a),
        RGBColor(0x66, 0x66, 0x66),
        RGBColor(0xa6, 0x76, 0x1d),
        RGBColor(0x00, 0x00, 0x00),
    ];
    let n = modes.len().max(1) as u32;
    let root = BitMapBackend::new(path, (1000, 380 * n)).into_drawing_area();
    root.fill(&WHITE)?;
    for (m, area) in modes.iter().zip(root.split_evenly((n as usize, 1))) {
        // The legend beside the chart, where it covers no bar.
        let (area, key) = area.split_horizontally(820);
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!("bench swifi{}, {} restarts: {} faults in {} trials", on, m.mode, m.faults, m.trials),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..FaultType::ALL.len() as f64, 0.0..100.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(FaultType::ALL.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = (*x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    FaultType::ALL.get(i as usize).map_or(String::new(), |k| k.name().to_string())
                } else {
                    String::new()
                }
            })
            .y_desc("% of trials")
            .draw()?;
        for (ti, counts) in m.by_type.iter().enumerate() {
            let total: usize = counts.iter().sum();
            let mut bottom = 0.0;
            for (oi, &c) in counts.iter().enumerate() {
                let share = if total == 0 { 0.0 } else { 100.0 * c as f64 / total as f64 };
                if share > 0.0 {
                    let x = ti as f64;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x + 0.15, bottom), (x + 0.85, bottom + share)],
                        colors[oi].filled(),
                    )))?;
                }
                bottom += share;
            }
        }
        for (oi, o) in Outcome::ALL.iter().enumerate() {
            let y = 50 + 20 * oi as i32;
            key.draw(&Rectangle::new([(10, y - 5), (20, y + 5)], colors[oi].filled()))?;
            key.draw(&Text::new(o.name(), (28, y - 7), ("sans-serif", 13)))?;
        }
    }
    root.present().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Where the plot of a run on `kernel` goes: [`PLOT_PATH`] for Resurgo's
/// kernel, `target/bench/swifi-fiasco.png` for Fiasco.OC.
pub fn plot_path(kernel: &str) -> PathBuf {
    match kernel {
        "resurgo" => workspace_root().join(PLOT_PATH),
        k => workspace_root().join(format!("target/bench/swifi-{k}.png")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_from_the_supervisors_words() {
        let t = "eth-8139cp";
        let f = |l: &str| parse_failure(l, t).map(|(o, _)| o);
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: page fault at cp_rx_poll+0x1c (ip 0x401c2c), address 0x0"),
            Some(Outcome::DriverCrash)
        );
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: no answer to two heartbeats: hung"),
            Some(Outcome::DriverHang)
        );
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: no answer to two heartbeats: hung (its first thread at \
               rt::platform::fiasco::obj::Irq::wait+0x38)"),
            Some(Outcome::DriverHang)
        );
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: a thread ran 2000 ms at priority 120 without waiting: hung"),
            Some(Outcome::DriverHang)
        );
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: complaint: transmit ring stalled"),
            Some(Outcome::DriverHang)
        );
        assert_eq!(
            f("[reincarnation] WARN eth-8139cp failed: exit 1 at rt::exit+0x10: BUG at skbuff.c"),
            Some(Outcome::DriverExit)
        );
        assert_eq!(
            f("[reincarnation] ERROR eth-8139cp held down after 6 failures: page fault"),
            Some(Outcome::HeldDown)
        );
        assert_eq!(
            f(
                "[reincarnation] WARN eth-8139cp failed: dma-fault: device 00:02.0 write at I/O address 0x1ed06000 blocked by the IOMMU (VT-d reason 0x5)"
            ),
            Some(Outcome::DmaBlocked)
        );
        assert_eq!(cause_kind("dma-fault: device 00:02.0 write at I/O address 0x1ed06000 blocked"), "dma-fault");
        assert!(!Outcome::DmaBlocked.forbidden());
        assert_eq!(f("[reincarnation] WARN eth-8139cp failed: restarted by operator"), None);
        assert_eq!(f("[reincarnation] WARN eth-e1000 failed: page fault at x"), None);
        assert_eq!(f("[shell] eth-8139cp failed: page fault"), None);
        assert_eq!(cause_kind("page fault at cp_rx_poll+0x1c (ip 0x401c2c), address 0x0"), "page fault");
        assert_eq!(cause_kind("invalid opcode at f+0x2 (ip 0x1), address 0x0"), "invalid opcode");
        assert_eq!(cause_kind("no answer to two heartbeats: hung"), "heartbeat");
        assert_eq!(cause_kind("complaint: transmit ring stalled"), "netd: transmit stalled");
        assert!(
            Outcome::DataCorrupted.forbidden() && Outcome::KernelCrash.forbidden() && !Outcome::HeldDown.forbidden()
        );
    }

    #[test]
    fn poke_answers_and_other_tasks_failures_are_read() {
        let t = "eth-8139cp";
        assert_eq!(
            parse_poke_answer("[shell] svc poke eth-8139cp 0x4012ab: was 4889c7", t),
            Some((Some(0x4012ab), Some(vec![0x48, 0x89, 0xc7])))
        );
        assert_eq!(parse_poke_answer("[shell] svc poke eth-8139cp: not running", t), Some((None, None)));
        assert_eq!(
            parse_poke_answer("[shell] svc poke eth-8139cp 0x10: refused by the kernel: permission denied", t),
            Some((Some(0x10), None))
        );
        assert_eq!(parse_poke_answer("[shell] svc poke: no service `eth-8139cp`", t), Some((None, None)));
        assert_eq!(parse_poke_answer("[shell] svc poke eth-e1000 0x10: was 90", t), None);
        assert_eq!(
            other_task_failure(
                "[kernel] WARN fault: netd thread 0: page fault at ip 0x1, address 0x0, error 0x4; task stopped",
                t
            ),
            Some("netd".into())
        );
        assert_eq!(other_task_failure("[kernel] WARN fault: eth-8139cp thread 2: page fault at ip 0x1", t), None);
        assert_eq!(other_task_failure("[init] echo exited with status 1", t), Some("echo".into()));
        assert_eq!(other_task_failure("[netd] eth-8139cp up 10.0.2.15", t), None);
        // Fiasco.OC: the runtime's exit and panic lines, L4Re's region manager.
        assert_eq!(other_task_failure("[netd] exit 101: panic: oom at netd/src/main.rs:3", t), Some("netd".into()));
        assert_eq!(other_task_failure("[httpd] ERROR panic: index out of bounds at x.rs:1", t), Some("httpd".into()));
        assert_eq!(
            other_task_failure("[sink] L4Re[rm]: unhandled write page fault at 0x0 pc=0x401234", t),
            Some("sink".into())
        );
        assert_eq!(
            other_task_failure("[echo] L4Re: Unhandled exception: PC=0x401000 PFA=0x0 LdrFlgs=0x0", t),
            Some("echo".into())
        );
        // The in-task region manager of this L4Re build, for a fault it
        // could not resolve (netd touching a dataspace that was deleted).
        assert_eq!(
            other_task_failure(
                "[netd] l4re_itas[rm]: mapping for page fault failed with error -2004 at 0x1010 pc=0x40a851",
                t
            ),
            Some("netd".into())
        );
        assert_eq!(
            other_task_failure("[netd] l4re_itas: FATAL: Fatal signal: Segmentation fault (si_signo=11, si_code=1)", t),
            Some("netd".into())
        );
        assert_eq!(other_task_failure("[eth-8139cp] exit 1: probe failed", t), None);
        assert_eq!(other_task_failure("[netd] exit status page answered", t), None);
        assert_eq!(other_task_failure("[reincarnation] WARN eth-8139cp failed: page-fault at f+0x1", t), None);
        assert!(kernel_down("[kernel] PANIC at kernel/src/sched.rs:1"));
        assert!(kernel_down("Panic: assertion failed"));
        assert!(!kernel_down("[reincarnation] WARN eth-8139cp failed: exception 6 (invalid opcode)"));
    }

    fn fault(addr: u64, n: usize) -> Fault {
        Fault {
            kind: FaultType::Nop,
            region: Region::Linux,
            function: "f".into(),
            addr,
            old: vec![0; n],
            new: vec![0x90; n],
            before: String::new(),
            after: String::new(),
        }
    }

    #[test]
    fn bursts_are_typed_in_lines_the_shell_takes() {
        let faults: Vec<Fault> = (0..40).map(|i| fault(0x400000 + 16 * i, 7)).collect();
        let lines = poke_lines("eth-8139cp", 12, &faults);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= LINE_MAX && l.starts_with("svc poke eth-8139cp @12 ")), "{lines:?}");
        let words: usize = lines.iter().map(|l| l.split_whitespace().count() - 4).sum();
        assert_eq!(words, 40);
        assert!(lines[0].contains(" 400000:90909090909090"), "{}", lines[0]);
        assert_eq!(p99(&[1.0, 2.0, 3.0]), Some(3.0));
        assert_eq!(p99(&(1..=200).map(f64::from).collect::<Vec<_>>()), Some(198.0));
        assert_eq!(p99(&[]), None);
    }

    #[test]
    fn the_plot_draws_every_mode_with_its_key_beside_it() {
        let trial = |kind, outcome| Trial {
            kind,
            faults: 10,
            outcome,
            cause: String::new(),
            recovery_ms: Some(70),
            empty_frames: 0,
        };
        let run = |outcomes: &[Outcome]| NicRun {
            trials: FaultType::ALL.iter().zip(outcomes.iter().cycle()).map(|(&k, &o)| trial(k, o)).collect(),
            ..NicRun::default()
        };
        let report = SwifiReport {
            kernel: "resurgo",
            seed: 1,
            trial: TrialOptions { burst: 10, limit: Duration::from_millis(100) },
            modes: vec![
                (Mode::Transparent, vec![("e1000".into(), run(&[Outcome::DriverCrash, Outcome::NoEffect]))]),
                (Mode::Minix, vec![("e1000".into(), run(&[Outcome::ClientError]))]),
            ],
        };
        let path = std::env::temp_dir().join(format!("resurgo-swifi-plot-{}.png", std::process::id()));
        plot(&report.counts(), "resurgo", &path).unwrap();
        let png = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // Two charts of 380 pixels, one above the other.
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 760);

        // The plot drawn again from the JSON is the same plot.
        let (again, sources) = counts_from_reports(&[("run.json".into(), report.json())]).unwrap();
        assert_eq!(again, report.counts());
        assert_eq!(sources, ["transparent e1000: run.json", "minix e1000: run.json"]);
    }

    #[test]
    fn a_later_report_replaces_a_mode_and_nic_of_an_earlier_one() {
        let trial = |outcome| Trial {
            kind: FaultType::BitFlip,
            faults: 100,
            outcome,
            cause: String::new(),
            recovery_ms: None,
            empty_frames: 0,
        };
        let report = |outcomes: &[Outcome], nics: &[&str]| {
            let run = || NicRun { trials: outcomes.iter().map(|&o| trial(o)).collect(), ..NicRun::default() };
            SwifiReport {
                kernel: "resurgo",
                seed: 1,
                trial: TrialOptions { burst: 100, limit: Duration::from_millis(100) },
                modes: vec![(Mode::Transparent, nics.iter().map(|n| (n.to_string(), run())).collect())],
            }
            .json()
        };
        let first = report(&[Outcome::HeldDown, Outcome::HeldDown], &["e1000", "pcnet"]);
        let rerun = report(&[Outcome::DriverCrash], &["e1000"]);
        let (counts, sources) = counts_from_reports(&[("a".into(), first), ("b".into(), rerun)]).unwrap();
        assert_eq!(sources, ["transparent e1000: b", "transparent pcnet: a"]);
        assert_eq!((counts[0].faults, counts[0].trials), (300, 3));
        let held = Outcome::ALL.iter().position(|o| *o == Outcome::HeldDown).unwrap();
        let crash = Outcome::ALL.iter().position(|o| *o == Outcome::DriverCrash).unwrap();
        assert_eq!((counts[0].by_type[0][held], counts[0].by_type[0][crash]), (2, 1));
        let err = counts_from_reports(&[("x".into(), json!({"seed": 1}))]).unwrap_err();
        assert!(format!("{err}").contains("x: no \"modes\""), "{err}");
    }
}

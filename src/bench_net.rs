//! `resurgo bench net`: TCP throughput of each NIC through Resurgo (the Linux
//! driver in its own task, netd, the sink app) side by side with native Linux
//! 6.1 running the very same driver in-kernel ([`crate::linux_baseline`]).
//!
//! Both systems boot in the same QEMU configuration (TCG, [`MEMORY_MIB`], the
//! same NIC model, user networking with forwards from free ports on 127.0.0.1
//! to the guest's ports 9 and 19), one fresh boot per system and NIC. Both
//! guests stay up while the transfers alternate between them, but only the
//! one being measured runs: the other is stopped through QEMU's QMP socket
//! (its virtual clock stands still), so neither takes CPU time from the
//! other. The host measures every transfer the same way:
//!
//! - rx (host → guest): connect to port 9 (the sink), write the bytes as fast
//!   as possible, shut down the write side, wait for the guest to close; time
//!   from connect to end of file. The guest's report of what it received is
//!   checked against what was sent.
//! - tx (guest → host): connect to port 19 (the source), write the byte count
//!   as 8 bytes little-endian, read until end of file and check the count;
//!   time from connect to end of file.
//!
//! Each transfer also counts how often QEMU's translator flushed the guest's
//! TLB while it ran (QMP `x-query-jit`), per MiB moved: a count, not a time,
//! so it compares kernels on this noisy machine where times do not. A kernel
//! that reloads CR3 at every entry and exit (Fiasco.OC built with kernel
//! isolation and without PCIDs, as `$RESURGO_L4RE`'s is) flushes it at
//! every system call and interrupt, and QEMU then walks the page tables
//! again for every page touched after each (doc/fiasco.md).
//!
//! Figures are medians; the ratio is Resurgo's over Linux's. On q35 (the
//! default machine, with the IOMMU confining every device's DMA) Resurgo
//! is also booted on `pc`, which has no IOMMU, in the same run: its
//! `iommu_ratio` is Resurgo with the IOMMU over Resurgo without
//! (doc/iommu.md).

use crate::bench_restart::Built;
use crate::image::{self, BuildOptions};
use crate::linux_baseline::{self as baseline, Baseline};
use crate::qemu::{Guest, Machine, NetConfig, QemuConfig};
use crate::qmp::Qmp;
use crate::workspace_root;
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, IsTerminal, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The Resurgo system measured: io, netd, one driver task per NIC driver, sink.
pub const MANIFEST: &str = "system/bench-net.toml";
/// Guest memory for both systems.
pub const MEMORY_MIB: u32 = 512;
/// Transfers per system, NIC and direction unless `--runs` says otherwise.
/// Five, because a transfer now and then stalls for a second in both systems:
/// pcnet32's 32 receive descriptors overflow under a burst, and QEMU's user
/// network (Reno, no SACK) waits for its retransmission timer when two frames
/// of one window are lost. The median of five is not moved by two such runs.
pub const DEFAULT_RUNS: usize = 5;
/// Where the plot goes, relative to the workspace.
pub const PLOT_PATH: &str = "target/bench/net.png";
/// Where the baseline's initramfs is written, relative to the workspace.
pub const INITRAMFS_PATH: &str = "target/bench/linux-initramfs.cpio";
/// The guest ports of the sink and the source.
pub const SINK_PORT: u16 = 9;
pub const SOURCE_PORT: u16 = 19;
/// From QEMU's start until the guest is ready to measure.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// A transfer that makes no progress for this long has failed.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// After a transfer, how long the guest may take to report it.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(60);
/// A pause between transfers, so that each starts on a quiet guest.
pub const SETTLE: Duration = Duration::from_millis(300);

const MIB: u64 = 1 << 20;

/// A NIC model and its driver in both systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NicSpec {
    /// QEMU's device model, also the key in the JSON output.
    pub model: &'static str,
    /// The Linux modules that drive it (dependencies come from modules.dep):
    /// virtio_net needs the virtio PCI transport beside it, which it does not
    /// depend on.
    pub linux_modules: &'static [&'static str],
    /// The driver's name in sysfs once it bound the device.
    pub linux_driver: &'static str,
    /// `drivers-legacy/NAME` in Resurgo.
    pub resurgo_driver: &'static str,
    /// Bytes per transfer, so that one takes a few seconds.
    pub default_size: u64,
}

/// Every NIC the benchmark knows, in the order it reports them.
pub const NICS: &[NicSpec] = &[
    NicSpec {
        model: "rtl8139",
        linux_modules: &["8139cp"],
        linux_driver: "8139cp",
        resurgo_driver: "8139cp",
        default_size: 16 * MIB,
    },
    NicSpec {
        model: "ne2k_pci",
        linux_modules: &["ne2k_pci"],
        linux_driver: "ne2k-pci",
        resurgo_driver: "ne2k-pci",
        // Programmed I/O: about 0.14 MiB/s natively under TCG.
        default_size: MIB,
    },
    NicSpec {
        model: "e1000",
        linux_modules: &["e1000"],
        linux_driver: "e1000",
        resurgo_driver: "e1000",
        default_size: 16 * MIB,
    },
    NicSpec {
        model: "pcnet",
        linux_modules: &["pcnet32"],
        linux_driver: "pcnet32",
        resurgo_driver: "pcnet32",
        default_size: 16 * MIB,
    },
    NicSpec {
        model: "e1000e",
        linux_modules: &["e1000e"],
        linux_driver: "e1000e",
        resurgo_driver: "e1000e",
        default_size: 16 * MIB,
    },
    NicSpec {
        model: "virtio-net-pci",
        linux_modules: &["virtio_pci", "virtio_net"],
        linux_driver: "virtio_net",
        resurgo_driver: "virtio-net",
        default_size: 16 * MIB,
    },
];

/// The spec of a QEMU NIC model.
pub fn nic(model: &str) -> Option<&'static NicSpec> {
    NICS.iter().find(|n| n.model == model)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum System {
    Resurgo,
    Linux,
    /// Resurgo on the `pc` machine, without an IOMMU: the other half of
    /// `iommu_ratio`.
    ResurgoPc,
    /// The same system (the same driver, netd and sink) on Fiasco.OC and
    /// L4Re, on `pc`: over `ResurgoPc`, `fiasco_ratio`.
    Fiasco,
}

impl System {
    pub const ALL: [System; 4] = [System::Resurgo, System::Linux, System::ResurgoPc, System::Fiasco];

    pub fn name(self) -> &'static str {
        match self {
            System::Resurgo => "resurgo",
            System::Linux => "linux",
            System::ResurgoPc => "resurgo-pc",
            System::Fiasco => "fiasco",
        }
    }

    /// Whether it is Resurgo's system (on either machine or kernel).
    pub fn is_resurgo(self) -> bool {
        self != System::Linux
    }

    /// The machine it boots on when the run's machine is `machine`.
    pub fn machine(self, machine: Machine) -> Machine {
        if matches!(self, System::ResurgoPc | System::Fiasco) { Machine::Pc } else { machine }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Host → guest (the guest's sink on port 9).
    Rx,
    /// Guest → host (the guest's source on port 19).
    Tx,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Rx, Direction::Tx];

    pub fn name(self) -> &'static str {
        match self {
            Direction::Rx => "rx",
            Direction::Tx => "tx",
        }
    }
}

/// One timed transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub nic: String,
    pub system: System,
    pub direction: Direction,
    pub bytes: u64,
    pub seconds: f64,
    /// QEMU's TLB flushes during the transfer, when QEMU counted them.
    pub tlb_flushes: Option<u64>,
}

impl Sample {
    pub fn mib_s(&self) -> f64 {
        mib_per_s(self.bytes, self.seconds)
    }

    /// TLB flushes per MiB moved.
    pub fn flushes_per_mib(&self) -> Option<f64> {
        let mib = self.bytes as f64 / MIB as f64;
        self.tlb_flushes.filter(|_| mib > 0.0).map(|f| f as f64 / mib)
    }
}

/// Throughput in MiB/s (2^20 bytes per second).
pub fn mib_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / MIB as f64 / seconds
}

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

/// The medians of every system for one NIC and direction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// Throughput.
    pub mib_s: PerSystem,
    /// QEMU's TLB flushes per MiB.
    pub flushes_per_mib: PerSystem,
}

/// One figure per system.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PerSystem {
    pub resurgo: Option<f64>,
    pub linux: Option<f64>,
    pub resurgo_pc: Option<f64>,
    pub fiasco: Option<f64>,
}

impl PerSystem {
    /// Each system's figure from `figure`.
    fn of(mut figure: impl FnMut(System) -> Option<f64>) -> PerSystem {
        PerSystem {
            resurgo: figure(System::Resurgo),
            linux: figure(System::Linux),
            resurgo_pc: figure(System::ResurgoPc),
            fiasco: figure(System::Fiasco),
        }
    }

    pub fn get(&self, system: System) -> Option<f64> {
        match system {
            System::Resurgo => self.resurgo,
            System::Linux => self.linux,
            System::ResurgoPc => self.resurgo_pc,
            System::Fiasco => self.fiasco,
        }
    }

    /// Whether any system has a figure.
    fn any(&self) -> bool {
        [self.resurgo, self.linux, self.resurgo_pc, self.fiasco].iter().any(Option::is_some)
    }

    fn json(&self) -> Value {
        json!({
            "resurgo": number(self.resurgo),
            "linux": number(self.linux),
            "resurgo_pc": number(self.resurgo_pc),
            "fiasco": number(self.fiasco),
        })
    }
}

impl Cell {
    /// Resurgo's throughput over Linux's.
    pub fn ratio(&self) -> Option<f64> {
        match (self.mib_s.resurgo, self.mib_s.linux) {
            (Some(r), Some(l)) if l > 0.0 => Some(r / l),
            _ => None,
        }
    }

    /// Resurgo with the IOMMU (q35) over Resurgo without (pc).
    pub fn iommu_ratio(&self) -> Option<f64> {
        match (self.mib_s.resurgo, self.mib_s.resurgo_pc) {
            (Some(on), Some(off)) if off > 0.0 => Some(on / off),
            _ => None,
        }
    }

    /// Resurgo's system on Fiasco.OC over the same on Resurgo's kernel,
    /// both on `pc`.
    /// (Resurgo on pc is `resurgo` itself when the run's machine was pc.)
    pub fn fiasco_ratio(&self) -> Option<f64> {
        match (self.mib_s.fiasco, self.mib_s.resurgo_pc.or(self.mib_s.resurgo)) {
            (Some(f), Some(r)) if r > 0.0 => Some(f / r),
            _ => None,
        }
    }
}

/// One NIC's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub nic: String,
    pub rx: Cell,
    pub tx: Cell,
    /// Transfers behind each median, at most.
    pub runs: usize,
}

impl Row {
    pub fn cell(&self, direction: Direction) -> &Cell {
        match direction {
            Direction::Rx => &self.rx,
            Direction::Tx => &self.tx,
        }
    }
}

/// Medians per NIC, in the order the NICs were measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub rows: Vec<Row>,
}

/// Aggregates samples into medians, one row per NIC of `nics` (in that order).
pub fn summarize(nics: &[&str], samples: &[Sample]) -> Summary {
    let of = |nic: &str, system, direction| -> Vec<&Sample> {
        samples.iter().filter(|s| s.nic == nic && s.system == system && s.direction == direction).collect()
    };
    let figure = |nic: &str, system, direction| {
        let v: Vec<f64> = of(nic, system, direction).into_iter().map(Sample::mib_s).collect();
        (median(&v), v.len())
    };
    let flushes = |nic: &str, system, direction| {
        let v: Vec<f64> = of(nic, system, direction).into_iter().filter_map(Sample::flushes_per_mib).collect();
        median(&v)
    };
    let rows = nics
        .iter()
        .map(|&nic| {
            let mut runs = 0;
            let mut cell = |direction| {
                let mib_s = PerSystem::of(|system| {
                    let (median, n) = figure(nic, system, direction);
                    runs = runs.max(n);
                    median
                });
                Cell { mib_s, flushes_per_mib: PerSystem::of(|system| flushes(nic, system, direction)) }
            };
            let (rx, tx) = (cell(Direction::Rx), cell(Direction::Tx));
            Row { nic: nic.to_string(), rx, tx, runs }
        })
        .collect();
    Summary { rows }
}

/// Rounded to three decimals for the JSON output.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn number(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |x| json!(round3(x)))
}

impl Summary {
    /// `{"nics": {"rtl8139": {"rx": {"resurgo_mib_s": .., "linux_mib_s": .., "ratio": ..,
    /// "resurgo_pc_mib_s": .., "iommu_ratio": ..}, "tx": {..}}, ..}}`; a figure
    /// that could not be measured (or was not: `pc` alone) is `null`.
    pub fn json(&self) -> Value {
        let mut nics = Map::new();
        for row in &self.rows {
            let mut dirs = Map::new();
            for direction in Direction::BOTH {
                let cell = row.cell(direction);
                dirs.insert(
                    direction.name().into(),
                    json!({
                        "resurgo_mib_s": number(cell.mib_s.resurgo),
                        "linux_mib_s": number(cell.mib_s.linux),
                        "ratio": number(cell.ratio()),
                        "resurgo_pc_mib_s": number(cell.mib_s.resurgo_pc),
                        "iommu_ratio": number(cell.iommu_ratio()),
                        "fiasco_mib_s": number(cell.mib_s.fiasco),
                        "fiasco_ratio": number(cell.fiasco_ratio()),
                        "tlb_flushes_per_mib": cell.flushes_per_mib.json(),
                    }),
                );
            }
            nics.insert(row.nic.clone(), Value::Object(dirs));
        }
        json!({ "nics": nics })
    }

    /// A readable table: NIC, direction, both medians and their ratio; then
    /// QEMU's TLB flushes per MiB, when it counted them.
    pub fn table(&self) -> String {
        let fmt = |x: Option<f64>, prec: usize| x.map_or_else(|| "-".to_string(), |x| format!("{x:.prec$}"));
        let mut header = vec!["NIC", "dir", "Resurgo MiB/s", "Linux MiB/s", "ratio", "Resurgo pc MiB/s", "IOMMU ratio"];
        // Fiasco.OC's columns only when it was measured.
        let with_fiasco = self.rows.iter().any(|r| r.rx.mib_s.fiasco.is_some() || r.tx.mib_s.fiasco.is_some());
        if with_fiasco {
            header.extend(["Fiasco MiB/s", "Fiasco ratio"]);
        }
        let mut lines = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        let mut flush_lines =
            vec![["NIC", "dir", "Resurgo", "Linux", "Resurgo pc", "Fiasco"].map(String::from).to_vec()];
        for row in &self.rows {
            for direction in Direction::BOTH {
                let cell = row.cell(direction);
                let mut line = vec![
                    row.nic.clone(),
                    direction.name().to_string(),
                    fmt(cell.mib_s.resurgo, 2),
                    fmt(cell.mib_s.linux, 2),
                    fmt(cell.ratio(), 2),
                    fmt(cell.mib_s.resurgo_pc, 2),
                    fmt(cell.iommu_ratio(), 2),
                ];
                if with_fiasco {
                    line.extend([fmt(cell.mib_s.fiasco, 2), fmt(cell.fiasco_ratio(), 2)]);
                }
                lines.push(line);
                let f = &cell.flushes_per_mib;
                if f.any() {
                    flush_lines.push(vec![
                        row.nic.clone(),
                        direction.name().to_string(),
                        fmt(f.resurgo, 0),
                        fmt(f.linux, 0),
                        fmt(f.resurgo_pc, 0),
                        fmt(f.fiasco, 0),
                    ]);
                }
            }
        }
        let mut out = render(&lines);
        let runs = self.rows.iter().map(|r| r.runs).max().unwrap_or(0);
        out.push_str(&format!(
            "medians of {runs} transfer{} each; ratio = Resurgo / Linux; IOMMU ratio = Resurgo on q35 with the IOMMU / on pc without{}\n",
            plural(runs),
            if with_fiasco { "; Fiasco ratio = the same system on Fiasco.OC / on Resurgo's kernel, both on pc" } else { "" }
        ));
        if flush_lines.len() > 1 {
            out.push_str("\nQEMU's TLB flushes per MiB moved (medians; a count, not a time):\n");
            out.push_str(&render(&flush_lines));
        }
        out
    }
}

/// Columns padded to their widest cell, the first two to the left, a rule
/// under the header.
fn render(lines: &[Vec<String>]) -> String {
    let columns = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|i| lines.iter().map(|l| l.get(i).map_or(0, String::len)).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| if i < 2 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What Resurgo's sink prints after each connection: `received N bytes sha256
/// HEX in MS ms`, on the console as `[sink] received ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkReport {
    pub bytes: u64,
    pub sha256: Option<String>,
    pub ms: Option<u64>,
}

/// The text of a line the sink task printed: after `[sink] ` and/or `sink: `.
/// Lines of other tasks (`[netd] sink: listening on 9`) are not the sink's.
fn sink_text(line: &str) -> Option<&str> {
    let line = line.trim();
    let (tagged, body) = match line.strip_prefix("[sink]") {
        Some(rest) => (true, rest.trim_start()),
        None if line.starts_with('[') => return None,
        None => (false, line),
    };
    match body.strip_prefix("sink: ") {
        Some(rest) => Some(rest),
        None => tagged.then_some(body),
    }
}

/// Parses the sink's report of a connection to port 9.
pub fn parse_sink_report(line: &str) -> Option<SinkReport> {
    let mut words = sink_text(line)?.strip_prefix("received ")?.split_whitespace();
    let bytes = words.next()?.parse().ok()?;
    if words.next()? != "bytes" {
        return None;
    }
    let mut report = SinkReport { bytes, sha256: None, ms: None };
    while let Some(word) = words.next() {
        match word {
            "sha256" => report.sha256 = words.next().map(str::to_ascii_lowercase),
            "in" => report.ms = words.next().and_then(|ms| ms.parse().ok()),
            _ => {}
        }
    }
    Some(report)
}

/// The byte count of the sink's report of a connection to port 19: `sent N bytes in MS ms`.
pub fn parse_source_report(line: &str) -> Option<u64> {
    let mut words = sink_text(line)?.strip_prefix("sent ")?.split_whitespace();
    let bytes = words.next()?.parse().ok()?;
    (words.next()? == "bytes").then_some(bytes)
}

/// netd's line once an interface has its address: `[netd] NIC up
/// 10.0.2.15/24 via dhcp (gateway 10.0.2.2)`, where NIC is the driver task's
/// name (also accepted: `netd: eth0 up 10.0.2.15/24 ...`).
pub fn is_netd_up(line: &str) -> bool {
    let line = line.trim();
    let body = match line.strip_prefix("[netd]") {
        Some(rest) => rest.trim_start(),
        None if line.starts_with('[') => return false,
        None => line,
    };
    let Some(body) = body.strip_prefix("netd: ").or(line.starts_with("[netd]").then_some(body)) else {
        return false;
    };
    let words: Vec<&str> = body.split_whitespace().take(3).collect();
    matches!(words[..], [_, "up", cidr] if cidr.split_once('/').is_some_and(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().is_ok()))
}

/// Whether a line says the task ended: init's `[init] TASK exited ...`, or the
/// kernel's `fault: TASK thread ...` (the task is stopped).
pub fn task_ended(line: &str, task: &str) -> bool {
    let line = line.trim();
    line.strip_prefix("[init] ").and_then(|r| r.strip_prefix(task)).is_some_and(|r| r.starts_with(" exited"))
        || (line.starts_with("[kernel]") && line.contains(&format!("fault: {task} ")))
}

/// The sink's line once it listens: `[sink] listening on 9 (and source on 19)`.
pub fn is_sink_ready(line: &str) -> bool {
    let port = sink_text(line).and_then(|t| t.strip_prefix("listening on ")?.split_whitespace().next());
    port == Some("9")
}

/// What a source sends: Linux's `head -c N /dev/zero`, Resurgo's sink the
/// byte `n % 251` at offset `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceData {
    Zeros,
    Mod251,
}

impl SourceData {
    /// The offset of the first byte of `data` (at stream offset `at`) that is wrong.
    pub fn first_wrong(self, at: u64, data: &[u8]) -> Option<u64> {
        let wrong = match self {
            SourceData::Zeros => data.iter().position(|&b| b != 0),
            SourceData::Mod251 => {
                let start = (at % 251) as u8;
                data.iter().enumerate().position(|(i, &b)| b != ((start as usize + i) % 251) as u8)
            }
        };
        wrong.map(|i| at + i as u64)
    }
}

/// The data the host sends: a 64 KiB block of pseudo-random bytes (so that a
/// lost or reordered block shows in the sink's sha256), repeated.
pub fn pattern_block() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1 << 16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Lower-case hex sha256 of the first `size` bytes of the repeated block.
pub fn pattern_sha256(block: &[u8], size: u64) -> String {
    let mut hasher = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// QEMU NIC models (see [`NICS`]); empty means all.
    pub nics: Vec<String>,
    /// Transfers per system, NIC and direction.
    pub runs: usize,
    /// Bytes per transfer for every NIC, instead of each NIC's default.
    pub size: Option<u64>,
    /// The systems to measure (all three, normally; `ResurgoPc` only makes
    /// sense when `machine` has the IOMMU).
    pub systems: Vec<System>,
    /// The QEMU machine both systems boot on (q35 with the IOMMU, normally).
    pub machine: Machine,
    /// Fiasco.OC and L4Re, for [`System::Fiasco`].
    pub l4re: Option<crate::fiasco::L4re>,
    pub progress: bool,
}

impl Default for NetOptions {
    fn default() -> NetOptions {
        NetOptions {
            nics: Vec::new(),
            runs: DEFAULT_RUNS,
            size: None,
            systems: vec![System::Resurgo, System::ResurgoPc, System::Linux],
            machine: Machine::default(),
            l4re: None,
            progress: true,
        }
    }
}

/// What a run measured, and what went wrong.
#[derive(Debug, Clone, Default)]
pub struct NetReport {
    pub summary: Summary,
    pub samples: Vec<Sample>,
    /// One line per system and NIC that could not be measured (fully).
    pub errors: Vec<String>,
}

/// A booted guest, the host ports forwarded to its sink and source, and its
/// QMP control socket.
struct Booted {
    system: System,
    guest: Guest,
    sink_port: u16,
    source_port: u16,
    qmp: Qmp,
}

fn qemu_config(machine: Machine, model: &str, sink_port: u16, source_port: u16) -> QemuConfig {
    QemuConfig {
        machine,
        memory_mib: MEMORY_MIB,
        netdev: Some(NetConfig {
            model: model.to_string(),
            hostfwd: vec![(sink_port, SINK_PORT), (source_port, SOURCE_PORT)],
        }),
        ..QemuConfig::default()
    }
}

/// What each system boots from.
enum Bootable<'a> {
    /// Resurgo's system, on either kernel.
    System(Built<'a>),
    Linux {
        baseline: &'a Baseline,
        initramfs: &'a Path,
    },
}

/// Boots one system with `nic` and waits until it is ready to measure. Tries
/// again with other ports when QEMU could not bind the forwards.
/// The guest is left stopped (see [`Qmp`]).
fn boot(what: &Bootable, system: System, nic: &NicSpec, size: u64, machine: Machine) -> Result<Booted> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ports = crate::ports::free(2)?;
        match boot_once(what, system, nic, (size, machine), ports[0], ports[1], attempt) {
            Err(e) if attempt < 3 && format!("{e:#}").contains("host forwarding") => continue,
            Ok(mut booted) => {
                booted.qmp.stop()?;
                return Ok(booted);
            }
            Err(e) => return Err(e),
        }
    }
}

fn boot_once(
    what: &Bootable,
    system: System,
    nic: &NicSpec,
    (size, machine): (u64, Machine),
    sink_port: u16,
    source_port: u16,
    attempt: u32,
) -> Result<Booted> {
    let mut cfg = qemu_config(machine, nic.model, sink_port, source_port);
    let qmp_path = Qmp::socket_path(&format!("bench-net-{}-{}-{attempt}", system.name(), nic.model));
    let _ = std::fs::remove_file(&qmp_path);
    cfg.extra_args.extend(Qmp::qemu_args(&qmp_path));
    // The task that runs this NIC's driver: if it ends before netd has the
    // NIC up, waiting longer is pointless.
    let (guest, driver_task) = match what {
        Bootable::System(built) => {
            let task = crate::bench_restart::driver_task(built.system(), nic)?;
            (built.boot(&cfg, &task)?, task)
        }
        Bootable::Linux { baseline, initramfs } => {
            let order = baseline::load_order(&baseline.index, nic.linux_modules)?;
            let append = baseline::cmdline(&order, size);
            let guest = Guest::boot_kernel("linux-baseline", &baseline.kernel, initramfs, Some(&append), &cfg)?;
            let qmp = Qmp::connect(&qmp_path)?;
            let line = guest
                .wait_for(|l| l.contains(baseline::READY_MARK) || l.contains(baseline::ERROR_MARK), BOOT_TIMEOUT)
                .context("Linux did not get ready")?;
            if line.contains(baseline::ERROR_MARK) {
                bail!("Linux: {line}");
            }
            let driver = baseline::ready_driver(&line).unwrap_or("?");
            if driver != nic.linux_driver {
                bail!("Linux bound `{driver}` to the {}, not `{}`: {line}", nic.model, nic.linux_driver);
            }
            return Ok(Booted { system: System::Linux, guest, sink_port, source_port, qmp });
        }
    };
    let qmp = Qmp::connect(&qmp_path)?;
    let (mut netd, mut sink) = (false, false);
    let deadline = Instant::now() + BOOT_TIMEOUT;
    while !(netd && sink) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = guest
            .wait_for(|l| is_netd_up(l) || is_sink_ready(l) || (!netd && task_ended(l, &driver_task)), left)
            .with_context(|| {
                format!("{} did not get ready (netd's `NIC up ADDRESS` and the sink's `listening on 9`)", system.name())
            })?;
        if !is_netd_up(&line) && !is_sink_ready(&line) {
            bail!(
                "{}: the driver task `{driver_task}` ended before netd had the {} up: {line}\n\
                 last {} lines of output:\n{}",
                system.name(),
                nic.model,
                crate::qemu::TAIL_LINES,
                guest.tail(crate::qemu::TAIL_LINES)
            );
        }
        netd |= is_netd_up(&line);
        sink |= is_sink_ready(&line);
    }
    Ok(Booted { system, guest, sink_port, source_port, qmp })
}

fn io_error(e: std::io::Error, what: &str) -> anyhow::Error {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            anyhow!("{what}: no progress for {} s", STALL_TIMEOUT.as_secs())
        }
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => anyhow!("{what}: the guest closed the connection ({e})"),
        _ => anyhow!("{what}: {e}"),
    }
}

/// Host → guest: sends `size` bytes of the pattern to `port`, half-closes and
/// waits for the guest to close. Returns the time from connect to end of file.
pub fn rx_transfer(port: u16, size: u64, block: &[u8]) -> Result<Duration> {
    let start = Instant::now();
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
    stream.set_write_timeout(Some(STALL_TIMEOUT))?;
    stream.set_read_timeout(Some(STALL_TIMEOUT))?;
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..n]).map_err(|e| io_error(e, &format!("sending after {} bytes", size - left)))?;
        left -= n as u64;
    }
    stream.shutdown(Shutdown::Write).map_err(|e| io_error(e, "half-closing"))?;
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e, "waiting for the guest to close")),
        }
    }
    Ok(start.elapsed())
}

/// Guest → host: asks `port` for `size` bytes (8 bytes, little-endian) and
/// reads until end of file. Returns the time from connect to end of file and
/// the bytes received.
pub fn tx_transfer(port: u16, size: u64, data: SourceData) -> Result<(Duration, u64)> {
    let start = Instant::now();
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
    stream.set_write_timeout(Some(STALL_TIMEOUT))?;
    stream.set_read_timeout(Some(STALL_TIMEOUT))?;
    stream.write_all(&size.to_le_bytes()).map_err(|e| io_error(e, "sending the byte count"))?;
    let mut buf = vec![0u8; 1 << 18];
    let mut got = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(at) = data.first_wrong(got, &buf[..n]) {
                    bail!("the source sent a wrong byte at offset {at} (expected {data:?})");
                }
                got += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e, &format!("receiving after {got} bytes"))),
        }
    }
    Ok((start.elapsed(), got))
}

/// One transfer in one direction, checked against what the guest reports.
fn measure(booted: &Booted, direction: Direction, size: u64, block: &[u8], sha256: &str) -> Result<f64> {
    let guest = &booted.guest;
    let elapsed = match direction {
        Direction::Rx => {
            let elapsed = rx_transfer(booted.sink_port, size, block)?;
            match booted.system {
                System::Resurgo | System::ResurgoPc | System::Fiasco => {
                    let line = guest
                        .wait_for(|l| parse_sink_report(l).is_some(), REPORT_TIMEOUT)
                        .context("the sink did not report the transfer")?;
                    let report = parse_sink_report(&line).expect("matched");
                    if report.bytes != size {
                        bail!("sent {size} bytes, the sink received {}: {line}", report.bytes);
                    }
                    if report.sha256.as_ref().is_some_and(|h| h != sha256) {
                        bail!("the sink's sha256 is not that of the data sent ({sha256}): {line}");
                    }
                }
                System::Linux => {
                    let line = guest
                        .wait_line(baseline::SINK_MARK, REPORT_TIMEOUT)
                        .context("the sink did not report the transfer")?;
                    let got = baseline::reported_bytes(&line, baseline::SINK_MARK);
                    if got != Some(size) {
                        bail!("sent {size} bytes, the guest reports: {line}");
                    }
                }
            }
            elapsed
        }
        Direction::Tx => {
            let data = if booted.system.is_resurgo() { SourceData::Mod251 } else { SourceData::Zeros };
            let (elapsed, got) = tx_transfer(booted.source_port, size, data)?;
            if got != size {
                bail!("asked the source for {size} bytes, received {got}");
            }
            let line = if booted.system.is_resurgo() {
                guest.wait_for(|l| parse_source_report(l).is_some(), REPORT_TIMEOUT)
            } else {
                guest.wait_line(baseline::SOURCE_MARK, REPORT_TIMEOUT)
            };
            line.context("the source did not report the transfer")?;
            elapsed
        }
    };
    Ok(elapsed.as_secs_f64())
}

/// Prints progress lines above the bar (or plain lines when stderr is not a terminal).
struct Reporter {
    bar: ProgressBar,
    progress: bool,
}

impl Reporter {
    fn new(progress: bool, total: u64) -> Reporter {
        let bar = if progress && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total).with_style(
                ProgressStyle::with_template("{spinner} {pos}/{len} transfers {bar:25} {msg} {elapsed}")
                    .expect("progress template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Reporter { bar, progress }
    }

    fn line(&self, text: &str) {
        if self.progress {
            if self.bar.is_hidden() { eprintln!("{text}") } else { self.bar.println(text) }
        }
    }
}

/// Runs the benchmark: builds what is needed, boots each NIC on each system and
/// alternates transfers between them.
pub fn run(opts: &NetOptions) -> Result<NetReport> {
    let specs: Vec<&NicSpec> = if opts.nics.is_empty() {
        NICS.iter().collect()
    } else {
        opts.nics.iter().map(|m| nic(m).ok_or_else(|| anyhow!("unknown NIC model `{m}`"))).collect::<Result<_>>()?
    };
    if opts.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut report = NetReport::default();
    let wants = |s| opts.systems.contains(&s);

    let image = if wants(System::Resurgo) || wants(System::ResurgoPc) {
        let manifest = workspace_root().join(MANIFEST);
        match image::build(&BuildOptions { manifest, progress: opts.progress }) {
            Ok(image) => Some(image),
            Err(e) => {
                report.errors.push(format!("resurgo: cannot build {MANIFEST}: {e:#}"));
                None
            }
        }
    } else {
        None
    };
    let fiasco = match (&opts.l4re, wants(System::Fiasco)) {
        (Some(l4re), true) => match crate::fiasco::build(&workspace_root().join(MANIFEST)) {
            Ok(image) => Some((l4re, image)),
            Err(e) => {
                report.errors.push(format!("fiasco: cannot build {MANIFEST} for Fiasco.OC: {e:#}"));
                None
            }
        },
        (None, true) => bail!("measuring Fiasco.OC needs its build (${})", crate::fiasco::L4RE_ENV),
        _ => None,
    };
    let linux = if wants(System::Linux) {
        // Every NIC's modules go into the cache at once (one download); the
        // initramfs gets those of the NICs measured.
        let all: Vec<&str> = NICS.iter().flat_map(|s| s.linux_modules.iter().copied()).collect();
        let baseline = baseline::ensure(&all, opts.progress)?;
        let roots: Vec<&str> = specs.iter().flat_map(|s| s.linux_modules.iter().copied()).collect();
        let mut modules = baseline::load_order(&baseline.index, &roots)?;
        modules.sort();
        modules.dedup();
        let initramfs = workspace_root().join(INITRAMFS_PATH);
        baseline.write_initramfs(&modules, &initramfs)?;
        Some((baseline, initramfs))
    } else {
        None
    };
    if image.is_none() && linux.is_none() && fiasco.is_none() {
        bail!("{}", report.errors.join("\n"));
    }

    let block = pattern_block();
    let resurgos = [System::Resurgo, System::ResurgoPc].into_iter().filter(|&s| wants(s)).count();
    let systems =
        if image.is_some() { resurgos } else { 0 } + usize::from(linux.is_some()) + usize::from(fiasco.is_some());
    let reporter = Reporter::new(opts.progress, (specs.len() * opts.runs * 2 * systems) as u64);
    for spec in &specs {
        let size = opts.size.unwrap_or(spec.default_size);
        let sha256 = pattern_sha256(&block, size);
        reporter.bar.set_message(format!("{}: booting", spec.model));
        let mut todo = Vec::new();
        if let Some(image) = &image {
            for system in [System::Resurgo, System::ResurgoPc].into_iter().filter(|&s| wants(s)) {
                todo.push((system, Bootable::System(Built::Resurgo(image))));
            }
        }
        if let Some((l4re, image)) = &fiasco {
            todo.push((System::Fiasco, Bootable::System(Built::Fiasco(l4re, image))));
        }
        if let Some((baseline, initramfs)) = &linux {
            todo.push((System::Linux, Bootable::Linux { baseline, initramfs }));
        }
        // Booted one after the other, from this thread: a child's
        // PR_SET_PDEATHSIG (`crate::children`) fires when the *thread* that
        // started it exits, so a QEMU started from a short-lived thread got
        // SIGTERM as soon as its boot thread ended (QMP then reported a
        // `host-signal` shutdown at the first `cont`). Transfers then
        // alternate between the guests.
        let booted: Vec<(System, Result<Booted>)> = todo
            .iter()
            .map(|(system, what)| (*system, boot(what, *system, spec, size, system.machine(opts.machine))))
            .collect();
        let mut guests: Vec<Option<Booted>> = Vec::new();
        for (system, result) in booted {
            match result {
                Ok(b) => guests.push(Some(b)),
                Err(e) => {
                    report.errors.push(format!("{} on {}: {e:#}", system.name(), spec.model));
                    reporter.inc_skipped(opts.runs * 2);
                    guests.push(None);
                }
            }
        }
        for run in 1..=opts.runs {
            for direction in Direction::BOTH {
                for slot in guests.iter_mut() {
                    let Some(booted) = slot else { continue };
                    let system = booted.system;
                    reporter.bar.set_message(format!(
                        "{} {} {} run {run}/{}",
                        spec.model,
                        direction.name(),
                        system.name(),
                        opts.runs
                    ));
                    // Only the guest measured runs; the other one is stopped.
                    let result = booted.qmp.cont().and_then(|()| {
                        std::thread::sleep(SETTLE);
                        // A QEMU that cannot count flushes leaves them out.
                        let before = booted.qmp.tlb_flushes().ok();
                        let seconds = measure(booted, direction, size, &block, &sha256)?;
                        let after = booted.qmp.tlb_flushes().ok();
                        booted.qmp.stop()?;
                        Ok((seconds, before.zip(after).map(|(b, a)| a.saturating_sub(b))))
                    });
                    match result {
                        Ok((seconds, tlb_flushes)) => {
                            let sample = Sample {
                                nic: spec.model.to_string(),
                                system,
                                direction,
                                bytes: size,
                                seconds,
                                tlb_flushes,
                            };
                            reporter.line(&format!(
                                "{:8} {} {:7} run {run}/{}: {:7.3} MiB/s ({size} bytes in {seconds:.2} s)",
                                spec.model,
                                direction.name(),
                                system.name(),
                                opts.runs,
                                sample.mib_s()
                            ));
                            report.samples.push(sample);
                            reporter.bar.inc(1);
                        }
                        Err(e) => {
                            let tail = booted.guest.tail(20);
                            report.errors.push(format!(
                                "{} on {}, {} run {run}: {e:#}\nlast lines of the guest's output:\n{tail}",
                                system.name(),
                                spec.model,
                                direction.name()
                            ));
                            // The rest of this system's transfers on this NIC are skipped.
                            let done = (run - 1) * 2 + usize::from(direction == Direction::Tx);
                            reporter.inc_skipped(opts.runs * 2 - done);
                            *slot = None;
                        }
                    }
                }
            }
        }
        // Dropping the guests ends both QEMUs before the next NIC boots.
        drop(guests);
    }
    reporter.bar.finish_and_clear();
    let models: Vec<&str> = specs.iter().map(|s| s.model).collect();
    report.summary = summarize(&models, &report.samples);
    Ok(report)
}

impl Reporter {
    fn inc_skipped(&self, n: usize) {
        self.bar.inc(n as u64);
    }
}

/// The plot's path in the workspace.
pub fn plot_path() -> PathBuf {
    workspace_root().join(PLOT_PATH)
}

/// Draws the figures as bars, two per NIC and direction (Resurgo, Linux), into a PNG.
pub fn plot(summary: &Summary, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    register_font()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let groups: Vec<(String, Cell)> = summary
        .rows
        .iter()
        .flat_map(|r| Direction::BOTH.map(|d| (format!("{} {}", r.nic, d.name()), *r.cell(d))))
        .collect();
    let n = groups.len().max(1);
    let top = groups.iter().flat_map(|(_, c)| System::ALL.map(|s| c.mib_s.get(s))).flatten().fold(0.0f64, f64::max);
    let ymax = if top > 0.0 { top * 1.2 } else { 1.0 };
    // Resurgo on pc only when it was measured: then three bars a group.
    let with_pc = groups.iter().any(|(_, c)| c.mib_s.resurgo_pc.is_some());
    let mut colors = vec![(System::Resurgo, RGBColor(0xd9, 0x5f, 0x02)), (System::Linux, RGBColor(0x1b, 0x9e, 0x77))];
    if with_pc {
        colors.push((System::ResurgoPc, RGBColor(0x75, 0x70, 0xb3)));
    }
    if groups.iter().any(|(_, c)| c.mib_s.fiasco.is_some()) {
        colors.push((System::Fiasco, RGBColor(0xe7, 0x29, 0x8a)));
    }
    let bar = 0.8 / colors.len() as f64;

    let width = (160 + 110 * n as u32).max(640);
    let root = BitMapBackend::new(path, (width, 520)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("TCP throughput in QEMU (TCG): Resurgo vs Linux 6.1, same driver", ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_max_light_lines(1)
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_desc("MiB/s (median)")
            .label_style(("sans-serif", 14))
            .draw()?;
        let value_style = TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (k, (system, color)) in colors.iter().enumerate() {
            let bars: Vec<(f64, f64, Option<f64>)> = groups
                .iter()
                .enumerate()
                .map(|(i, (_, cell))| {
                    let x0 = i as f64 + 0.1 + bar * k as f64;
                    (x0, x0 + bar * 0.95, cell.mib_s.get(*system))
                })
                .collect();
            chart
                .draw_series(
                    bars.iter()
                        .filter_map(|&(x0, x1, v)| v.map(|v| Rectangle::new([(x0, 0.0), (x1, v)], color.filled()))),
                )?
                .label(match system {
                    System::Resurgo if with_pc => "Resurgo on q35, IOMMU on (driver task + netd + sink)",
                    System::Resurgo => "Resurgo (driver task + netd + sink)",
                    System::Linux => "Linux 6.1 (in-kernel driver, nc)",
                    System::ResurgoPc => "Resurgo on pc, no IOMMU",
                    System::Fiasco => "the same tasks on Fiasco.OC + L4Re, pc",
                })
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
            chart.draw_series(bars.iter().map(|&(x0, x1, v)| {
                let text = v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.2}"));
                Text::new(text, ((x0 + x1) / 2.0, v.unwrap_or(0.0)), value_style.clone())
            }))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
        let label_style = TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, (label, _)) in groups.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(label.clone(), (x, y + 10), label_style.clone()))?;
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))
}

/// Plotters draws text with fonts registered by name: DejaVu Sans, embedded.
pub(crate) fn register_font() -> Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok { Ok(()) } else { bail!("cannot load the embedded DejaVu Sans font") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn sample(nic: &str, system: System, direction: Direction, mib_s: f64) -> Sample {
        Sample { nic: nic.into(), system, direction, bytes: 16 * MIB, seconds: 16.0 / mib_s, tlb_flushes: None }
    }

    #[test]
    fn medians_of_odd_even_and_empty_sets() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.5]), Some(7.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0, f64::INFINITY]), Some(1.0));
    }

    #[test]
    fn throughput_in_mib_per_second() {
        assert_eq!(mib_per_s(16 * MIB, 4.0), 4.0);
        assert_eq!(mib_per_s(MIB / 2, 0.5), 1.0);
    }

    #[test]
    fn summary_takes_medians_per_nic_system_and_direction() {
        use Direction::*;
        use System::*;
        let samples = vec![
            sample("e1000", Resurgo, Rx, 2.0),
            sample("e1000", Linux, Rx, 10.0),
            sample("e1000", Resurgo, Rx, 4.0),
            sample("e1000", Linux, Rx, 12.0),
            sample("e1000", Resurgo, Rx, 3.0),
            sample("e1000", Linux, Rx, 8.0),
            sample("e1000", Linux, Tx, 3.0),
            sample("rtl8139", Resurgo, Tx, 1.5),
        ];
        let s = summarize(&["rtl8139", "e1000", "pcnet"], &samples);
        assert_eq!(s.rows.iter().map(|r| r.nic.as_str()).collect::<Vec<_>>(), ["rtl8139", "e1000", "pcnet"]);
        let e1000 = &s.rows[1];
        assert_eq!(e1000.runs, 3);
        assert!((e1000.rx.mib_s.resurgo.unwrap() - 3.0).abs() < 1e-9);
        assert!((e1000.rx.mib_s.linux.unwrap() - 10.0).abs() < 1e-9);
        assert!((e1000.rx.ratio().unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(e1000.tx.mib_s.resurgo, None);
        assert_eq!(e1000.tx.ratio(), None);
        assert_eq!(s.rows[2].rx, Cell::default());
        assert_eq!(s.rows[2].runs, 0);
    }

    #[test]
    fn json_has_the_agreed_shape() {
        let s = summarize(
            &["rtl8139", "ne2k_pci"],
            &[
                sample("rtl8139", System::Resurgo, Direction::Rx, 3.0),
                sample("rtl8139", System::Linux, Direction::Rx, 6.0),
                sample("rtl8139", System::Linux, Direction::Tx, 1.0 / 3.0),
                sample("rtl8139", System::ResurgoPc, Direction::Rx, 3.2),
                Sample { tlb_flushes: Some(16 * 1600), ..sample("rtl8139", System::Fiasco, Direction::Rx, 1.6) },
            ],
        );
        let text = s.json().to_string();
        assert!(!text.contains('\n'));
        assert_eq!(
            text,
            r#"{"nics":{"rtl8139":{"rx":{"resurgo_mib_s":3.0,"linux_mib_s":6.0,"ratio":0.5,"resurgo_pc_mib_s":3.2,"iommu_ratio":0.938,"fiasco_mib_s":1.6,"fiasco_ratio":0.5,"tlb_flushes_per_mib":{"resurgo":null,"linux":null,"resurgo_pc":null,"fiasco":1600.0}},"tx":{"resurgo_mib_s":null,"linux_mib_s":0.333,"ratio":null,"resurgo_pc_mib_s":null,"iommu_ratio":null,"fiasco_mib_s":null,"fiasco_ratio":null,"tlb_flushes_per_mib":{"resurgo":null,"linux":null,"resurgo_pc":null,"fiasco":null}}},"ne2k_pci":{"rx":{"resurgo_mib_s":null,"linux_mib_s":null,"ratio":null,"resurgo_pc_mib_s":null,"iommu_ratio":null,"fiasco_mib_s":null,"fiasco_ratio":null,"tlb_flushes_per_mib":{"resurgo":null,"linux":null,"resurgo_pc":null,"fiasco":null}},"tx":{"resurgo_mib_s":null,"linux_mib_s":null,"ratio":null,"resurgo_pc_mib_s":null,"iommu_ratio":null,"fiasco_mib_s":null,"fiasco_ratio":null,"tlb_flushes_per_mib":{"resurgo":null,"linux":null,"resurgo_pc":null,"fiasco":null}}}}}"#
        );
    }

    #[test]
    fn fiasco_columns_come_with_fiasco_figures() {
        let samples = [
            sample("e1000", System::Resurgo, Direction::Rx, 1.0),
            sample("e1000", System::ResurgoPc, Direction::Rx, 2.0),
            sample("e1000", System::Fiasco, Direction::Rx, 1.5),
        ];
        let with = summarize(&["e1000"], &samples).table();
        assert!(with.lines().next().unwrap().ends_with("IOMMU ratio  Fiasco MiB/s  Fiasco ratio"), "{with}");
        assert!(with.lines().nth(2).unwrap().ends_with("0.50          1.50          0.75"), "{with}");
        let without = summarize(&["e1000"], &samples[..2]).table();
        assert!(!without.contains("Fiasco"), "{without}");
        assert!(!with.contains("TLB flushes"), "no counts, no flush table: {with}");
        let counted = [
            Sample { tlb_flushes: Some(16 * 40), ..samples[1].clone() },
            Sample { tlb_flushes: Some(16 * 650), ..samples[2].clone() },
        ];
        let flushes = summarize(&["e1000"], &counted).table();
        let tail: Vec<&str> = flushes.lines().skip_while(|l| !l.contains("TLB flushes")).collect();
        assert_eq!(tail[1], "NIC    dir  Resurgo  Linux  Resurgo pc  Fiasco", "{flushes}");
        assert_eq!(tail[3], "e1000  rx         -      -          40     650", "{flushes}");
        assert_eq!(tail.len(), 4, "no line for tx, which has no counts: {flushes}");
    }

    #[test]
    fn table_has_one_line_per_nic_and_direction() {
        let s = summarize(
            &["e1000"],
            &[
                sample("e1000", System::Resurgo, Direction::Rx, 1.0),
                sample("e1000", System::Linux, Direction::Rx, 4.0),
                sample("e1000", System::ResurgoPc, Direction::Rx, 1.25),
            ],
        );
        let table = s.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert_eq!(lines[0], "NIC    dir  Resurgo MiB/s  Linux MiB/s  ratio  Resurgo pc MiB/s  IOMMU ratio");
        assert_eq!(lines[2], "e1000  rx            1.00         4.00   0.25              1.25         0.80");
        assert_eq!(lines[3], "e1000  tx               -            -      -                 -            -");
        assert_eq!(
            lines[4],
            "medians of 1 transfer each; ratio = Resurgo / Linux; IOMMU ratio = Resurgo on q35 with the IOMMU / on pc without"
        );
    }

    #[test]
    fn sink_reports_parse() {
        let hex = "ab".repeat(32);
        let line = format!("[sink] received 16777216 bytes sha256 {hex} in 5123 ms");
        let report = SinkReport { bytes: 16777216, sha256: Some(hex.clone()), ms: Some(5123) };
        assert_eq!(parse_sink_report(&line), Some(report.clone()));
        assert_eq!(parse_sink_report(&format!("sink: received 16777216 bytes sha256 {hex} in 5123 ms")), Some(report));
        assert_eq!(
            parse_sink_report("[sink] received 12 bytes"),
            Some(SinkReport { bytes: 12, sha256: None, ms: None })
        );
        assert_eq!(parse_sink_report("[sink] received lots of bytes"), None);
        assert_eq!(parse_sink_report("[sink] received 12 packets"), None);
        assert_eq!(parse_sink_report("[netd] received 12 bytes"), None);
        assert_eq!(parse_sink_report("[sink] WARN 10.0.2.2:5000: reset after 12 bytes in 3 ms"), None);
        assert_eq!(parse_source_report("[sink] sent 1048576 bytes in 900 ms"), Some(1048576));
        assert_eq!(parse_source_report("[sink] received 1048576 bytes"), None);
        assert_eq!(parse_source_report("[echo] sent 5 bytes"), None);
    }

    #[test]
    fn readiness_lines() {
        assert!(is_netd_up("[netd] eth-e1000 up 10.0.2.15/24 via dhcp (gateway 10.0.2.2)"));
        assert!(is_netd_up(
            "[netd] eth0 up 10.0.2.15/24 via static fallback (no DHCP lease in 3 s) (gateway 10.0.2.2)"
        ));
        assert!(is_netd_up("netd: eth0 up 10.0.2.15/24"));
        assert!(!is_netd_up("[eth-e1000] eth0 up 10.0.2.15/24"));
        assert!(!is_netd_up("[netd] eth-e1000: link up"));
        assert!(!is_netd_up("[netd] eth0: link down"));
        assert!(!is_netd_up("[netd] eth0 up"));
        assert!(!is_netd_up("[netd] WARN eth0: DHCP lease lost"));
        assert!(is_sink_ready("[sink] listening on 9 (and source on 19)"));
        assert!(is_sink_ready("sink: listening on 9 (and source on 19)"));
        assert!(!is_sink_ready("[sink] listening on 7"));
        assert!(!is_sink_ready("[echo] listening on 9"));
        assert!(!is_sink_ready("[netd] sink: listening on 9"));
        assert!(!is_sink_ready("[sink] listening on 90"));
    }

    #[test]
    fn driver_task_ends_are_recognised() {
        assert!(task_ended("[init] eth-8139cp exited with status 0 no device", "eth-8139cp"));
        assert!(task_ended(
            "[kernel] WARN fault: eth-e1000 thread 3: page-fault at ip 0x400235, address 0x0, error 0x4; task stopped",
            "eth-e1000"
        ));
        assert!(!task_ended("[init] eth-e1000 exited with status 0 no device", "eth-8139cp"));
        assert!(!task_ended("[init] eth-8139cp-2 exited with status 0", "eth-8139cp"));
        assert!(!task_ended("[eth-8139cp] exited the probe", "eth-8139cp"));
        assert!(!task_ended("[sink] fault: eth-8139cp thread", "eth-8139cp"));
    }

    #[test]
    fn source_data_is_checked_at_its_stream_offset() {
        assert_eq!(SourceData::Zeros.first_wrong(10, &[0, 0, 0]), None);
        assert_eq!(SourceData::Zeros.first_wrong(10, &[0, 1, 0]), Some(11));
        let stream: Vec<u8> = (0..1000u32).map(|n| (n % 251) as u8).collect();
        assert_eq!(SourceData::Mod251.first_wrong(0, &stream), None);
        assert_eq!(SourceData::Mod251.first_wrong(300, &stream[300..700]), None);
        let mut bad = stream[500..600].to_vec();
        bad[7] ^= 1;
        assert_eq!(SourceData::Mod251.first_wrong(500, &bad), Some(507));
    }

    #[test]
    fn pattern_is_fixed_and_hashes_like_the_bytes_sent() {
        let block = pattern_block();
        assert_eq!(block.len(), 65536);
        assert_eq!(block, pattern_block());
        let distinct: std::collections::BTreeSet<u8> = block.iter().copied().collect();
        assert!(distinct.len() > 200);
        let mut sent = Vec::new();
        while sent.len() < 150_000 {
            sent.extend_from_slice(&block);
        }
        sent.truncate(150_000);
        let expected: String = Sha256::digest(&sent).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(pattern_sha256(&block, 150_000), expected);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rx_transfer_sends_the_pattern_and_waits_for_the_close() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
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
            }
            (total, hex(&hasher.finalize()))
        });
        let block = pattern_block();
        rx_transfer(port, 200_000, &block).unwrap();
        let (total, sha256) = sink.join().unwrap();
        assert_eq!(total, 200_000);
        assert_eq!(sha256, pattern_sha256(&block, 200_000));
    }

    /// A source like Resurgo's sink on port 19, optionally flipping one byte.
    fn source(flip_at: Option<usize>) -> (u16, std::thread::JoinHandle<u64>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut count = [0u8; 8];
            conn.read_exact(&mut count).unwrap();
            let want = u64::from_le_bytes(count);
            let mut data: Vec<u8> = (0..want).map(|n| (n % 251) as u8).collect();
            if let Some(at) = flip_at {
                data[at] ^= 0x40;
            }
            let _ = conn.write_all(&data);
            want
        });
        (port, handle)
    }

    #[test]
    fn tx_transfer_asks_for_the_count_and_checks_the_data() {
        let (port, server) = source(None);
        let (_, got) = tx_transfer(port, 100_000, SourceData::Mod251).unwrap();
        assert_eq!(got, 100_000);
        assert_eq!(server.join().unwrap(), 100_000);

        let (port, server) = source(Some(54_321));
        let err = tx_transfer(port, 100_000, SourceData::Mod251).unwrap_err().to_string();
        assert!(err.contains("wrong byte at offset 54321"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn nic_table_matches_qemu_models_and_drivers() {
        let models: Vec<&str> = NICS.iter().map(|n| n.model).collect();
        assert_eq!(models, crate::qemu::NIC_MODELS);
        assert_eq!(nic("ne2k_pci").unwrap().default_size, MIB);
        assert_eq!(nic("e1000").unwrap().default_size, 16 * MIB);
        assert!(nic("virtio").is_none());
        assert_eq!(nic("virtio-net-pci").unwrap().resurgo_driver, "virtio-net");
        for n in NICS {
            assert!(
                crate::workspace_root().join("drivers-legacy").join(n.resurgo_driver).join("driver.toml").is_file(),
                "{}",
                n.resurgo_driver
            );
        }
    }

    #[test]
    fn bench_manifest_runs_every_driver() {
        let (_, system) = crate::load_manifest(&crate::workspace_root().join(MANIFEST)).unwrap();
        for n in NICS {
            let task = system.tasks.iter().find(|t| t.driver.as_deref() == Some(n.resurgo_driver));
            let task = task.unwrap_or_else(|| panic!("no task runs driver {}", n.resurgo_driver));
            assert!(task.uses.contains(&("io".into(), "pci".into())));
            assert!(task.uses.contains(&("netd".into(), "nic".into())));
        }
        assert!(system.tasks.iter().any(|t| t.name == "sink"));
    }

    #[test]
    fn plot_writes_a_png() {
        let s = summarize(
            &["rtl8139", "e1000"],
            &[
                sample("rtl8139", System::Resurgo, Direction::Rx, 3.0),
                sample("rtl8139", System::Linux, Direction::Rx, 6.0),
                sample("e1000", System::Linux, Direction::Tx, 2.0),
            ],
        );
        let dir = std::env::temp_dir().join(format!("resurgo-plot-test-{}", std::process::id()));
        let path = dir.join("net.png");
        plot(&s, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The boot manifest: which tasks a system has and what each may touch.
//!
//! ```toml
//! [system]
//! name = "rtc-demo"
//! log-level = "info"
//!
//! [tasks.rtc]
//! image = "rtc-test"          # binary in the boot archive (default: the task name)
//! priority = 120              # 1..=250, default 100
//! memory = "2M"               # memory quota, default 4M
//! heap = "256K"               # default 256K
//! ports = [{ base = 0x70, count = 2 }]
//! irqs = [8]
//! serves = ["events"]         # IPC gates bound to its main thread
//! uses = ["clock.time"]       # gates of other tasks it may call
//! reads = ["eth0"]            # data store namespaces it may read ("*": all)
//!
//! [tasks.eth0]
//! driver = "8139cp"           # runs drivers-legacy/8139cp (image drv-8139cp)
//! uses = ["io.pci", "netd.nic"]
//!
//! [tasks.shell]
//! uses = ["reincarnation.svc"]
//! svc = { restart = ["*"], kill = ["eth0"] }  # svc verbs besides listing, per supervised task
//! kernel = true               # statistics, read-only; `kernel-control = true`: shutdown too
//!
//! [tasks.rs]
//! debug = true                # may patch the text of the tasks it starts (fault injection)
//! ```
//!
//! Every client of an endpoint gets a gate of its own, so the server knows who
//! calls: the server's environment maps `endpoint@client` to the gate's label.
//!
//! Everything a task may use is listed here and nothing else is given to it
//! (least privilege). The host checks a manifest when it builds the image and
//! reports each problem with its line; init parses the same file at boot with
//! the same code.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod driver;
pub mod settings;
mod sizes;
mod validate;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
pub use sizes::parse_size;
pub use toml::Spanned;
pub use validate::{Problem, validate};

/// Priorities above this are reserved for init and the kernel's own use.
pub const MAX_TASK_PRIORITY: u8 = 250;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub system: SystemDecl,
    #[serde(default)]
    pub tasks: BTreeMap<String, Spanned<TaskDecl>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SystemDecl {
    pub name: String,
    #[serde(default)]
    pub log_level: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// How drivers come back: `"transparent"` (default: rings, endpoints and
    /// configuration survive) or `"minix"` (as MINIX 3 does: clients notice and
    /// re-initialise the new instance, what was in flight is dropped).
    #[serde(default)]
    pub restart: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TaskDecl {
    /// This task runs the legacy driver `drivers-legacy/NAME`; its image is
    /// `drv-NAME` unless `image` says otherwise, and the io server gives it a
    /// device matching the driver's PCI ids.
    pub driver: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub priority: Option<Spanned<i64>>,
    pub memory: Option<Spanned<Size>>,
    pub heap: Option<Spanned<Size>>,
    pub stack: Option<Spanned<Size>>,
    pub threads: Option<Spanned<i64>>,
    #[serde(default = "yes")]
    pub start: bool,
    pub parent: Option<Spanned<String>>,
    #[serde(default)]
    pub ports: Vec<Spanned<PortRange>>,
    #[serde(default)]
    pub iopl: bool,
    #[serde(default)]
    pub irqs: Vec<Spanned<i64>>,
    #[serde(default)]
    pub mmio: Vec<Spanned<MmioRange>>,
    #[serde(default)]
    pub serves: Vec<Spanned<String>>,
    #[serde(default)]
    pub uses: Vec<Spanned<String>>,
    /// The kernel-information capability, read-only: statistics and the task
    /// list.
    #[serde(default)]
    pub kernel: bool,
    /// The kernel-information capability with its write right: shutting the
    /// system down and setting the log level (implies `kernel`). A benchmark
    /// that ends the run needs it; nothing that faces the network should.
    #[serde(default)]
    pub kernel_control: bool,
    /// The debugging right on the tasks it starts: the kernel lets it patch
    /// their text (fault injection). For a supervisor such as the
    /// reincarnation server; a task with no children may not ask for it.
    #[serde(default)]
    pub debug: bool,
    /// What this task may ask of the supervisors whose `svc` endpoint it uses,
    /// per verb class: the supervised tasks it may act on (`"*"`: every one).
    /// Without it a `svc` client may only list.
    pub svc: Option<Spanned<SvcDecl>>,
    /// Authority over devices: the interrupt controller, all I/O ports, all
    /// device memory and the boot archive, to hand out to drivers (the io
    /// server, and nobody else).
    #[serde(default)]
    pub devices: bool,
    /// Data store namespaces this task may read besides its own: task names,
    /// or `"*"` for all (private keys stay their owner's).
    #[serde(default)]
    pub reads: Vec<Spanned<String>>,
    /// The boot archive (read-only), for a task that reads the manifest or
    /// loads images itself (the data store reads everyone's `reads`).
    #[serde(default)]
    pub boot_archive: bool,
    /// For a driver task: whether io may give its device message-signalled
    /// interrupts, in place of what the driver's manifest says
    /// (`[resources] msi`).
    pub msi: Option<bool>,
    /// Plain numbers handed to the task in its environment.
    #[serde(default)]
    pub values: BTreeMap<String, Spanned<i64>>,
}

/// A task's `svc` grants as the manifest writes them:
/// `svc = { restart = ["eth0"], kill = ["*"], inject = [], complain = [] }`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct SvcDecl {
    /// `restart` and `up`: start an instance afresh.
    #[serde(default)]
    pub restart: Vec<Spanned<String>>,
    /// `kill` and `down`: end the running instance.
    #[serde(default)]
    pub kill: Vec<Spanned<String>>,
    /// `crash`, `crash-irq`, `hang-irq`: fault injection into the driver.
    #[serde(default)]
    pub inject: Vec<Spanned<String>>,
    /// Report a driver as misbehaving (it is restarted as if it had failed).
    #[serde(default)]
    pub complain: Vec<Spanned<String>>,
}

/// What a `svc` client may do besides listing: each class names the
/// supervised tasks it may act on, `"*"` standing for all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SvcGrants {
    pub restart: Vec<String>,
    pub kill: Vec<String>,
    pub inject: Vec<String>,
    pub complain: Vec<String>,
}

/// The classes of `svc` verbs a manifest grants separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvcRight {
    Restart,
    Kill,
    Inject,
    Complain,
}

impl SvcRight {
    pub const ALL: [SvcRight; 4] = [SvcRight::Restart, SvcRight::Kill, SvcRight::Inject, SvcRight::Complain];

    /// The manifest's key for this class.
    pub fn name(self) -> &'static str {
        match self {
            SvcRight::Restart => "restart",
            SvcRight::Kill => "kill",
            SvcRight::Inject => "inject",
            SvcRight::Complain => "complain",
        }
    }
}

impl SvcGrants {
    pub fn targets(&self, right: SvcRight) -> &[String] {
        match right {
            SvcRight::Restart => &self.restart,
            SvcRight::Kill => &self.kill,
            SvcRight::Inject => &self.inject,
            SvcRight::Complain => &self.complain,
        }
    }

    /// Whether `right` is granted on the supervised task `target`.
    pub fn allows(&self, right: SvcRight, target: &str) -> bool {
        self.targets(right).iter().any(|t| t == "*" || t == target)
    }

    /// Whether any verb besides listing is granted.
    pub fn any(&self) -> bool {
        SvcRight::ALL.iter().any(|&r| !self.targets(r).is_empty())
    }
}

impl SvcDecl {
    pub fn targets(&self, right: SvcRight) -> &[Spanned<String>] {
        match right {
            SvcRight::Restart => &self.restart,
            SvcRight::Kill => &self.kill,
            SvcRight::Inject => &self.inject,
            SvcRight::Complain => &self.complain,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PortRange {
    pub base: i64,
    pub count: i64,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MmioRange {
    pub base: i64,
    pub size: i64,
}

/// A byte size: an integer, or a string like `"64K"`, `"4M"`, `"1G"`.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum Size {
    Bytes(i64),
    Text(String),
}

/// The defaults a task gets for what its declaration leaves out.
pub mod defaults {
    pub const PRIORITY: u8 = 100;
    pub const MEMORY: u64 = 4 << 20;
    pub const HEAP: u64 = 256 << 10;
    pub const STACK: u64 = 64 << 10;
    pub const THREADS: u32 = 8;
}

/// A manifest that parsed and validated: every value resolved and in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub name: String,
    pub log_level: LogLevel,
    pub restart: RestartMode,
    /// In start order: parents before children, servers before their clients.
    pub tasks: Vec<Task>,
}

/// How drivers come back after a failure (the manifest's `[system] restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartMode {
    #[default]
    Transparent,
    Minix,
}

impl RestartMode {
    pub const ALL: [RestartMode; 2] = [RestartMode::Transparent, RestartMode::Minix];

    /// The name in a manifest (`[system] restart`) and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            RestartMode::Transparent => "transparent",
            RestartMode::Minix => "minix",
        }
    }

    /// The mode of a name, if it names one.
    pub fn from_name(name: &str) -> Option<RestartMode> {
        RestartMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The value in a task's environment ([`settings::RESTART_MODE`]).
    pub fn value(self) -> u64 {
        match self {
            RestartMode::Transparent => 0,
            RestartMode::Minix => 1,
        }
    }

    pub fn from_value(value: u64) -> Option<RestartMode> {
        RestartMode::ALL.into_iter().find(|m| m.value() == value)
    }
}

impl core::str::FromStr for RestartMode {
    type Err = alloc::string::String;

    fn from_str(s: &str) -> Result<RestartMode, Self::Err> {
        RestartMode::from_name(s).ok_or_else(|| alloc::format!("`{s}` is not one of transparent, minix"))
    }
}

/// A manifest's text with `[system] restart` set to `mode` and the system
/// renamed `NAME-MODE` (so both variants can be built side by side). The rest
/// of the text is kept as it is.
pub fn with_restart_mode(text: &str, mode: RestartMode) -> alloc::string::String {
    use alloc::string::String;
    let mut out = String::with_capacity(text.len() + 64);
    let mut in_system = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_system = t.starts_with("[system]");
            out.push_str(line);
            out.push('\n');
            if in_system {
                out.push_str(&alloc::format!("restart = \"{}\"\n", mode.name()));
            }
            continue;
        }
        if in_system && t.starts_with("restart") && t[7..].trim_start().starts_with('=') {
            continue;
        }
        if in_system && t.starts_with("name") && t[4..].trim_start().starts_with('=') {
            let value = t[4..].trim_start()[1..].trim();
            let name = value.trim_matches('"');
            out.push_str(&alloc::format!("name = \"{}-{}\"\n", name, mode.name()));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    /// The legacy driver it runs, if any.
    pub driver: Option<String>,
    pub image: String,
    pub priority: u8,
    pub memory: u64,
    pub heap: u64,
    pub stack: u64,
    pub threads: u32,
    pub start: bool,
    /// `None`: init.
    pub parent: Option<String>,
    pub ports: Vec<(u16, u32)>,
    pub iopl: bool,
    pub irqs: Vec<u8>,
    pub mmio: Vec<(u64, u64)>,
    pub serves: Vec<String>,
    /// `(task, endpoint)` pairs.
    pub uses: Vec<(String, String)>,
    /// The kernel-information capability: `kernel` read-only, `kernel_control`
    /// with shutdown and log level.
    pub kernel: bool,
    pub kernel_control: bool,
    /// Its capabilities to the tasks it starts carry the debugging right.
    pub debug: bool,
    /// What it may ask of the `svc` endpoints it uses besides listing.
    pub svc: SvcGrants,
    pub devices: bool,
    /// Data store namespaces it may read besides its own (`"*"`: all).
    pub reads: Vec<String>,
    pub boot_archive: bool,
    /// Overrides the driver manifest's `msi` (None: as it says).
    pub msi: Option<bool>,
    pub values: Vec<(String, u64)>,
}

/// Parses and validates a manifest. Every problem found is returned, each with
/// the byte range of the text it concerns.
pub fn load(text: &str) -> Result<System, Vec<Problem>> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| {
        alloc::vec![Problem { span: e.span(), message: alloc::string::ToString::to_string(e.message()) }]
    })?;
    validate(&manifest)
}

/// 1-based line and column of a byte offset, for reports.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

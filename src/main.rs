//! `resurgo`: builds the boot image, boots it in QEMU, runs benchmarks.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use resurgo::image::{self, BuildOptions};
use resurgo::qemu::{self, NetConfig, QemuConfig};
use resurgo::{bench, driver_build, drivers, resolve_manifest_path, workspace_root};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "resurgo", version, about = "Build, boot and measure Resurgo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum SvcAction {
    /// Every supervised driver: state, incarnation, restarts, last fault.
    List {
        /// Print the guest's whole status document (JSON) instead.
        #[arg(long)]
        json: bool,
    },
    /// Kill the driver and start it again, fresh (no failure counted).
    Restart { name: String },
    /// Kill the driver as if it had failed: it comes back by the policy.
    Kill { name: String },
    /// Stop the driver and keep it down.
    Down { name: String },
    /// Start a stopped or held-down driver again.
    Up { name: String },
    /// Make the running driver fault now (a wild write on its main thread).
    Crash { name: String },
    /// Make the driver's next interrupt handler fault.
    CrashIrq { name: String },
    /// Make the driver spin in its next interrupt (found by heartbeat).
    HangIrq { name: String },
}

#[derive(Subcommand)]
enum Command {
    /// Build the kernel, the tasks and the boot archive for a manifest.
    Build {
        /// The boot manifest (default: system/default.toml, with `--kernel
        /// fiasco` system/fiasco.toml).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The kernel to build for: Resurgo's own, or Fiasco.OC with L4Re
        /// (from the build $RESURGO_L4RE names).
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
    },
    /// Build, then boot in QEMU with the serial console on this terminal.
    Up {
        /// The boot manifest (default: system/default.toml; with `--kernel
        /// fiasco` and neither `--nic` nor `--restart`, system/fiasco.toml).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The kernel to boot: Resurgo's own, or Fiasco.OC with L4Re (from the
        /// build $RESURGO_L4RE names; see doc/fiasco.md).
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
        /// Stream the serial output and take no input (for scripts and CI).
        #[arg(long)]
        headless: bool,
        /// Add a network card on QEMU's user network, with TCP forwards
        /// 127.0.0.1:5555 → guest port 7 (echo), 127.0.0.1:5556 → guest port 9
        /// (sink) and 127.0.0.1:8080 → guest port 80 (the status page). Any
        /// PCI network card model of QEMU's (`qemu-system-x86_64 -device
        /// help`); the committed drivers drive rtl8139, ne2k_pci, e1000, pcnet, e1000e, virtio-net-pci.
        #[arg(long, value_name = "MODEL")]
        nic: Option<String>,
        /// A further QEMU device, passed as `-device SPEC` (repeat for several),
        /// for a driver you added: `--device tulip` or `--device e1000e,mac=...`.
        #[arg(long = "device", value_name = "SPEC")]
        devices: Vec<String>,
        /// How drivers come back: transparently (the default) or as MINIX 3 does
        /// (clients re-initialise the new instance, what was in flight is lost).
        /// Overrides the manifest's `[system] restart`.
        #[arg(long, value_parser = restart_parser())]
        restart: Option<Restart>,
        /// The QEMU machine: q35 with an Intel VT-d IOMMU that confines every
        /// device's DMA (the default), or pc without one (DMA not confined;
        /// the kernel says so at boot). See doc/iommu.md.
        #[arg(long, value_enum)]
        machine: Option<MachineArg>,
    },
    /// Run a benchmark in the guest and report its figures.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
    /// Work with boot manifests.
    Manifest {
        #[command(subcommand)]
        action: ManifestAction,
    },
    /// Show or change the supervised drivers of a running guest (through its
    /// status page, forwarded to 127.0.0.1:8080 by `resurgo up --nic ...`).
    Svc {
        /// The host port forwarded to the guest's port 80.
        #[arg(long, default_value_t = resurgo::svc::DEFAULT_PORT)]
        port: u16,
        /// The operator token the guest printed at boot (`[httpd] svc token
        /// ...`); default: $RESURGO_SVC_TOKEN. Only changes need it.
        #[arg(long)]
        token: Option<String>,
        /// Take the token from a saved guest console instead (`resurgo up
        /// --headless ... | tee FILE`).
        #[arg(long)]
        console: Option<PathBuf>,
        #[command(subcommand)]
        action: SvcAction,
    },
    /// List the legacy drivers in drivers-legacy/ (their PCI ids, files, whether built).
    Drivers {
        /// Also print one JSON object with every driver as the last line.
        #[arg(long)]
        json: bool,
    },
    /// Work with legacy drivers: fetch their sources, build them, add new ones.
    Driver {
        #[command(subcommand)]
        action: DriverAction,
    },
    /// What this machine has of what Resurgo needs (QEMU, libclang, a C
    /// compiler, apt and its lists, the Linux sources), and how each missing
    /// piece gets installed.
    Doctor,
}

#[derive(Subcommand)]
enum DriverAction {
    /// Fetch the drivers' Linux sources into the cache and check their sha256 sums.
    Fetch {
        /// Driver names (default: every driver in drivers-legacy/).
        names: Vec<String>,
    },
    /// Compile the drivers against Linux's headers configured for Resurgo (no
    /// linking) and report what does not compile.
    Check {
        /// Driver names (default: every driver in drivers-legacy/).
        names: Vec<String>,
    },
    /// Build the shim, then compile and link each driver into target/image/release/drv-NAME.
    /// A function nothing defines is linked as a trap: calling it ends the task
    /// with "called unimplemented `NAME`".
    Build {
        /// Driver names (default: every driver in drivers-legacy/).
        names: Vec<String>,
        /// Fail when a driver uses a function nothing defines, instead of linking a trap.
        #[arg(long)]
        strict: bool,
    },
    /// Try every PCI driver under drivers/net/ethernet that Linux's Kconfig
    /// allows on x86-64 against the current shim: compiled (or the first
    /// error), linked, traps; and the most often missing headers and symbols.
    Survey {
        /// Also print one JSON object with every driver as the last line.
        #[arg(long)]
        json: bool,
        /// How many of the most often missing headers and symbols to list.
        #[arg(long, default_value_t = 15)]
        top: usize,
    },
    /// Lines of code in each driver task: Linux's C files it compiles in
    /// (the driver's and the library files its link takes) and Resurgo's own
    /// code every driver task carries (shim, DDEKit, runtime).
    Loc {
        /// Drivers to count (all in drivers-legacy/ if none).
        names: Vec<String>,
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
    },
    /// Write drivers-legacy/NAME/driver.toml for a driver's source files: files
    /// in a Linux tree or in drivers-legacy/NAME/, or paths in the Linux tree
    /// (drivers/net/...) fetched from Debian's linux-source-6.1.
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The driver's name (default: the first file's name without `.c`).
        #[arg(long)]
        name: Option<String>,
        /// Replace an existing manifest.
        #[arg(long)]
        force: bool,
    },
    /// Move the drivers to another version of Debian's linux-source-6.1
    /// deliberately: fetch it, show each pinned file's sha256 before and
    /// after, and rewrite drivers-legacy/linux-source.toml and the manifests.
    Pin {
        /// The Debian version, like 6.1.192-3 (`apt-cache policy linux-source-6.1` lists them).
        version: String,
        /// Show the differences only; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// IPC round trips, counted in guest instructions (`-icount shift=0`).
    Ipc {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// `fiasco`: the same task pair (seam-ping, seam-pong) on Fiasco.OC
        /// and on Resurgo's kernel, side by side (needs $RESURGO_L4RE).
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
    },
    /// TCP throughput of each NIC through Resurgo (driver task, netd, sink)
    /// and through native Linux 6.1 running the same driver, side by side.
    Net {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// A NIC model to measure (repeat for several; default: all six).
        #[arg(long = "nic", value_enum)]
        nics: Vec<Nic>,
        /// Transfers per system, NIC and direction; medians are reported.
        #[arg(long, default_value_t = resurgo::bench_net::DEFAULT_RUNS as u32, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
        /// Bytes per transfer for every NIC, like 4M or 512K (default: 16M, 1M for ne2k_pci).
        #[arg(long, value_parser = parse_byte_size)]
        size: Option<u64>,
        /// Measure one system only.
        #[arg(long, value_enum)]
        only: Option<SystemArg>,
        /// The QEMU machine both systems boot on: q35 with the IOMMU (the
        /// default) or pc without one.
        #[arg(long, value_enum, default_value = "q35")]
        machine: MachineArg,
        /// `fiasco`: also measure the same system (system/bench-net.toml) on
        /// Fiasco.OC and L4Re (from the build $RESURGO_L4RE names), on pc,
        /// beside Resurgo's kernel on pc (`fiasco_ratio`) and Linux.
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
    },
    /// A TCP stream to the sink while the NIC's driver is killed, then crashed,
    /// then crashed in its interrupt handler, every second, with transparent and
    /// with MINIX-style restarts: throughput against a fault-free stream, client
    /// errors, recovery times, and a plot.
    Restart {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// The NIC model to measure.
        #[arg(long, value_enum, default_value = "rtl8139")]
        nic: Nic,
        /// Seconds per phase (no faults, kills, crashes, interrupt-handler
        /// crashes); one fault a second.
        #[arg(long, default_value_t = resurgo::bench_restart::DEFAULT_SECONDS, value_parser = clap::value_parser!(u64).range(2..))]
        seconds: u64,
        /// The QEMU machine: q35 with the IOMMU (the default) or pc without one.
        #[arg(long, value_enum, default_value = "q35")]
        machine: MachineArg,
        /// The kernel: Resurgo's own, or Fiasco.OC with L4Re (from the build
        /// $RESURGO_L4RE names), the same system/default.toml on `pc`.
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
        /// Whose TCP sends the stream: `user`, QEMU's user network (slirp,
        /// no SACK, a timer of a second or more), or `tap`, the host's Linux
        /// TCP through a tap device (needs root; the guest takes netd's
        /// fallback address 10.0.2.15, the host 10.0.2.2).
        #[arg(long, value_enum, default_value = "user")]
        peer: PeerArg,
    },
    /// Malformed Ethernet frames (truncated, oversized, bad lengths,
    /// checksums, fragments, options, TCP flags, DHCP and ARP garbage, random
    /// bytes) sent from the host into each NIC while the default system runs;
    /// then echo, sink and the status page must still answer, and no task may
    /// have crashed.
    Frames {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// A NIC model (repeat for several; default: all four).
        #[arg(long = "nic", value_enum)]
        nics: Vec<Nic>,
        /// Frames per NIC.
        #[arg(long, default_value_t = resurgo::bench_frames::DEFAULT_FRAMES)]
        frames: u64,
        /// Frames per second.
        #[arg(long, default_value_t = resurgo::bench_frames::DEFAULT_RATE, value_parser = clap::value_parser!(u64).range(1..))]
        rate: u64,
        /// The seed of the frames (printed; the same seed sends the same frames).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only these kinds of frame (repeat for several; default: all):
        /// truncated, oversized, bad_ip_length, bad_checksum, fragment,
        /// options, tcp_flags, udp_dhcp, arp_icmp, random.
        #[arg(long = "kind", value_parser = parse_kind)]
        kinds: Vec<resurgo::frames::Kind>,
        /// The QEMU machine: q35 with the IOMMU (the default) or pc without one.
        #[arg(long, value_enum, default_value = "q35")]
        machine: MachineArg,
    },
    /// Software-implemented fault injection: bursts of faults of the SWIFI
    /// literature (bit flips, source and destination registers, pointers,
    /// inverted and deleted branches, NOPs, loop bounds) patched into a
    /// running driver's text while a TCP echo stream runs through it, trial
    /// after trial, in both restart modes; every trial's outcome, and whether
    /// the kernel, the other tasks and the client noticed.
    Swifi {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// The NIC models to inject into (repeat for several; default: all four).
        #[arg(long = "nic", value_enum)]
        nics: Vec<Nic>,
        /// Faults per NIC (in transparent mode; see --minix-faults).
        #[arg(long, default_value_t = resurgo::bench_swifi::DEFAULT_FAULTS, value_parser = clap::value_parser!(u64).range(1..))]
        faults: u64,
        /// Faults per NIC in MINIX-style mode (default: as --faults).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        minix_faults: Option<u64>,
        /// Faults per trial.
        #[arg(long, default_value_t = resurgo::bench_swifi::DEFAULT_BURST)]
        burst: usize,
        /// Milliseconds a trial waits after its burst before restarting the driver anyway.
        #[arg(long, default_value_t = resurgo::bench_swifi::DEFAULT_LIMIT.as_millis() as u64, value_parser = clap::value_parser!(u64).range(100..))]
        limit_ms: u64,
        /// Only this restart mode (default: both, side by side).
        #[arg(long, value_parser = restart_parser())]
        restart: Option<Restart>,
        /// The seed of the faults (printed; the same seed makes the same faults).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The QEMU machine: q35 with the IOMMU (the default) or pc without one.
        #[arg(long, value_enum, default_value = "q35")]
        machine: MachineArg,
        /// The kernel: Resurgo's own, or Fiasco.OC with L4Re (from the build
        /// $RESURGO_L4RE names), the same system/default.toml on `pc`, its
        /// patches made by the reincarnation server through its own mapping
        /// of the driver's text.
        #[arg(long, value_enum, default_value = "resurgo")]
        kernel: Kernel,
        /// Run nothing: draw the plot from the output of earlier runs (each
        /// file's last line is the JSON object `--json` printed; repeat for
        /// several, and a later file's figures for a mode and NIC replace an
        /// earlier one's).
        #[arg(long = "plot-from", value_name = "FILE")]
        plot_from: Vec<PathBuf>,
    },
    /// The syscall fuzzer: random kernel calls from a fixed seed, with child
    /// tasks created and destroyed under it; calls, errors by kind, kernel
    /// crashes, and free frames and kernel heap before and after.
    Fuzz {
        /// Also print one JSON object with every figure as the last line.
        #[arg(long)]
        json: bool,
        /// Kernel calls to make.
        #[arg(long, default_value_t = resurgo::bench_fuzz::DEFAULT_CALLS, value_parser = clap::value_parser!(u64).range(1..=i64::MAX as u64))]
        calls: u64,
        /// The fuzzer's seed (default: the one in tests/manifests/hostile-fuzz.toml).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: Option<u64>,
    },
}

/// `resurgo bench swifi`: table, plot, and with `--json` the JSON object last.
fn bench_swifi(
    json: bool,
    nics: Vec<Nic>,
    (faults, minix_faults): (u64, u64),
    (burst, limit_ms): (usize, u64),
    restart: Option<Restart>,
    (seed, machine, kernel): (u64, MachineArg, Kernel),
) -> Result<i32> {
    use resurgo::bench_restart::Mode;
    use resurgo::bench_swifi::{self, NICS, SwifiOptions, TrialOptions};
    let nics: Vec<String> = if nics.is_empty() {
        NICS.iter().map(|s| s.to_string()).collect()
    } else {
        nics.iter().map(|n| n.model().to_string()).collect()
    };
    let modes = match restart {
        None => Mode::ALL.to_vec(),
        Some(mode) => vec![mode],
    };
    eprintln!(
        "bench swifi: seed {seed}, {faults} faults per NIC ({minix_faults} with MINIX-style restarts) in bursts of {burst}"
    );
    let trial = TrialOptions { burst, limit: std::time::Duration::from_millis(limit_ms) };
    let fiasco = match kernel {
        Kernel::Resurgo => None,
        Kernel::Fiasco => Some(resurgo::fiasco::L4re::required()?),
    };
    let report = bench_swifi::run(&SwifiOptions {
        nics,
        modes,
        faults,
        minix_faults,
        trial,
        seed,
        machine: machine.machine(),
        fiasco,
        progress: true,
    })?;
    print!("{}", report.table());
    let plot = bench_swifi::plot_path(report.kernel);
    match bench_swifi::plot(&report.counts(), report.kernel, &plot) {
        Ok(()) => println!("plot: {}", resurgo::display_path(&plot, &workspace_root())),
        Err(e) => eprintln!("warning: no plot: {e:#}"),
    }
    if json {
        println!("{}", report.json());
    }
    Ok(if report.clean() { 0 } else { 1 })
}

/// `resurgo bench swifi --plot-from FILE...`: the plot of earlier runs.
fn bench_swifi_plot(files: &[PathBuf]) -> Result<i32> {
    use resurgo::bench_swifi;
    let mut reports = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let last = text.lines().rev().find(|l| l.trim_start().starts_with('{'));
        let value = last
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| anyhow!("{}: no JSON object from `bench swifi --json` in it", f.display()))?;
        reports.push((f.display().to_string(), value));
    }
    let (counts, sources) = bench_swifi::counts_from_reports(&reports)?;
    // Runs on one kernel make one plot; the first report names it.
    let kernel = reports.first().and_then(|(_, r)| r["kernel"].as_str()).unwrap_or("resurgo").to_string();
    if let Some((f, r)) = reports.iter().find(|(_, r)| r["kernel"].as_str().unwrap_or("resurgo") != kernel) {
        bail!(
            "{f} ran on {}, the first report on {kernel}: one plot is of one kernel",
            r["kernel"].as_str().unwrap_or("resurgo")
        );
    }
    for s in &sources {
        println!("{s}");
    }
    for m in &counts {
        println!("{}: {} faults in {} trials", m.mode, m.faults, m.trials);
    }
    let plot = bench_swifi::plot_path(&kernel);
    bench_swifi::plot(&counts, &kernel, &plot)?;
    println!("plot: {}", resurgo::display_path(&plot, &workspace_root()));
    Ok(0)
}

/// `resurgo bench frames`: table, and with `--json` the JSON object last.
fn bench_frames(
    json: bool,
    nics: Vec<Nic>,
    (frames, rate, seed): (u64, u64, u64),
    kinds: Vec<resurgo::frames::Kind>,
    machine: MachineArg,
) -> Result<i32> {
    use resurgo::bench_frames::{self, FramesOptions, NICS};
    let chosen: Vec<(String, String)> = NICS
        .iter()
        .filter(|(model, _)| nics.is_empty() || nics.iter().any(|n| n.model() == *model))
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    eprintln!("seed {seed}: {frames} frames per NIC at {rate} per second");
    let opts = FramesOptions { nics: chosen, frames, kinds, seed, rate, machine: machine.machine(), progress: true };
    let results = bench_frames::run(&opts)?;
    print!("{}", bench_frames::table(&results));
    if json {
        println!("{}", bench_frames::json(&results, seed));
    }
    Ok(i32::from(!results.iter().all(bench_frames::NicResult::ok)))
}

#[derive(Clone, Copy, ValueEnum)]
enum SystemArg {
    Resurgo,
    Linux,
}

fn parse_kind(s: &str) -> std::result::Result<resurgo::frames::Kind, String> {
    resurgo::frames::Kind::from_name(s).ok_or_else(|| {
        let all: Vec<&str> = resurgo::frames::Kind::ALL.iter().map(|k| k.name()).collect();
        format!("`{s}` is not a kind of frame; the kinds: {}", all.join(", "))
    })
}

fn parse_byte_size(s: &str) -> std::result::Result<u64, String> {
    match manifest::parse_size(s) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a byte size (like 16M, 512K or 1048576)")),
    }
}

/// `resurgo bench net`: table, plot, and with `--json` the JSON object last.
fn bench_net(
    json: bool,
    nics: Vec<Nic>,
    runs: u32,
    size: Option<u64>,
    only: Option<SystemArg>,
    (machine, fiasco): (MachineArg, bool),
) -> Result<i32> {
    use resurgo::bench_net::{self, NetOptions, System};
    // On q35 Resurgo also boots on pc, without the IOMMU, for `iommu_ratio`.
    let pc = if machine == MachineArg::Q35 { System::ResurgoPc } else { System::Resurgo };
    let resurgo = if machine == MachineArg::Q35 { vec![System::Resurgo, pc] } else { vec![System::Resurgo] };
    let mut systems = match only {
        None => [resurgo, vec![System::Linux]].concat(),
        Some(SystemArg::Resurgo) => resurgo,
        Some(SystemArg::Linux) => vec![System::Linux],
    };
    // Fiasco.OC boots pc: Resurgo on pc is what it is compared with.
    let l4re = if fiasco { Some(resurgo::fiasco::L4re::required()?) } else { None };
    if fiasco {
        if !systems.contains(&pc) {
            systems.push(pc);
        }
        systems.push(System::Fiasco);
    }
    let nics = nics.iter().map(|n| n.model().to_string()).collect();
    let opts =
        NetOptions { nics, runs: runs as usize, size, systems, machine: machine.machine(), l4re, progress: true };
    let report = bench_net::run(&opts)?;
    for error in &report.errors {
        eprintln!("error: {error}");
    }
    print!("{}", report.summary.table());
    let plot = bench_net::plot_path();
    match bench_net::plot(&report.summary, &plot) {
        Ok(()) => println!("plot: {}", resurgo::display_path(&plot, &workspace_root())),
        Err(e) => eprintln!("error: {e:#}"),
    }
    if json {
        println!("{}", report.summary.json());
    }
    Ok(i32::from(!report.errors.is_empty()))
}

/// `resurgo bench restart`: table, plot, and with `--json` the JSON object last.
fn bench_restart(
    json: bool,
    nic: Nic,
    seconds: u64,
    (machine, kernel, peer): (MachineArg, Kernel, PeerArg),
) -> Result<i32> {
    use resurgo::bench_restart::{self, Peer, RestartOptions};
    let fiasco = match kernel {
        Kernel::Resurgo => None,
        Kernel::Fiasco => Some(resurgo::fiasco::L4re::required()?),
    };
    let peer = match peer {
        PeerArg::User => Peer::User,
        PeerArg::Tap => Peer::Tap,
    };
    let opts = RestartOptions {
        nic: nic.model().to_string(),
        seconds,
        machine: machine.machine(),
        fiasco,
        peer,
        progress: true,
    };
    let report = bench_restart::run(&opts)?;
    print!("{}", report.table());
    let plot = bench_restart::plot_path(opts.kernel(), opts.peer);
    match bench_restart::plot(&report, &plot) {
        Ok(()) => println!("plot: {}", resurgo::display_path(&plot, &workspace_root())),
        Err(e) => eprintln!("error: {e:#}"),
    }
    if json {
        println!("{}", report.json());
    }
    Ok(i32::from(report.modes.iter().any(|m| m.error.is_some())))
}

#[derive(Subcommand)]
enum ManifestAction {
    /// Validate manifests and print every problem with its file and line.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// How drivers come back after a failure: the manifest's own type, parsed
/// from its names (`transparent`, `minix`).
type Restart = manifest::RestartMode;

/// `--restart`: one of the modes' names (listed in `--help`).
fn restart_parser() -> impl clap::builder::TypedValueParser<Value = Restart> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Restart::ALL.map(Restart::name)).try_map(|s| s.parse::<Restart>())
}

/// The kernel a system is built for and booted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kernel {
    Resurgo,
    Fiasco,
}

impl Kernel {
    fn manifest(self, given: Option<PathBuf>) -> PathBuf {
        given.unwrap_or_else(|| {
            PathBuf::from(match self {
                Kernel::Resurgo => "system/default.toml",
                Kernel::Fiasco => resurgo::fiasco::DEFAULT_MANIFEST,
            })
        })
    }
}

/// `--peer`: whose TCP sends `bench restart`'s stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PeerArg {
    User,
    Tap,
}

/// `--machine`: the QEMU machine a guest boots on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MachineArg {
    Q35,
    Pc,
}

impl MachineArg {
    fn machine(self) -> qemu::Machine {
        match self {
            MachineArg::Q35 => qemu::Machine::Q35,
            MachineArg::Pc => qemu::Machine::Pc,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Nic {
    Rtl8139,
    #[value(name = "ne2k_pci")]
    Ne2kPci,
    E1000,
    Pcnet,
    E1000e,
    /// QEMU's virtio-net-pci (Linux's virtio_net).
    #[value(name = "virtio-net")]
    VirtioNet,
}

impl Nic {
    fn model(self) -> &'static str {
        match self {
            Nic::Rtl8139 => "rtl8139",
            Nic::Ne2kPci => "ne2k_pci",
            Nic::E1000 => "e1000",
            Nic::Pcnet => "pcnet",
            Nic::E1000e => "e1000e",
            Nic::VirtioNet => "virtio-net-pci",
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("{}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes; lines that already say `error:` stand as they are.
fn error_text(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    if text.starts_with("error:") { text } else { format!("error: {text}") }
}

fn build(manifest: &Path) -> Result<image::Image> {
    image::build(&BuildOptions { manifest: resolve_manifest_path(manifest), progress: true })
}

fn names_of(drivers: &[drivers::Driver]) -> String {
    drivers.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The named drivers, or every driver when no name is given.
fn chosen_drivers(names: &[String]) -> Result<Vec<drivers::Driver>> {
    if names.is_empty() { drivers::all() } else { names.iter().map(|n| drivers::find(n)).collect() }
}

fn run(cli: Cli) -> Result<i32> {
    let root = workspace_root();
    match cli.command {
        Command::Build { manifest, kernel: Kernel::Fiasco } => {
            let l4re = resurgo::fiasco::L4re::required()?;
            let image = resurgo::fiasco::build(&resolve_manifest_path(&Kernel::Fiasco.manifest(manifest)))?;
            println!("system   {} (Fiasco.OC)", image.system.name);
            println!("l4re     {}", l4re.root.display());
            println!("ned      {}", image.ned_script.display());
            for (name, path) in &image.binaries {
                println!("task     {name} {}", path.display());
            }
            Ok(0)
        }
        Command::Build { manifest, kernel: Kernel::Resurgo } => {
            let image = build(&Kernel::Resurgo.manifest(manifest))?;
            println!("system   {}", image.system.name);
            println!("kernel   {}", image.kernel.display());
            println!("archive  {}", image.archive.display());
            Ok(0)
        }
        Command::Up { manifest, kernel: Kernel::Fiasco, headless, nic, devices, restart, machine } => {
            let l4re = resurgo::fiasco::L4re::required()?;
            if machine == Some(MachineArg::Q35) {
                anyhow::bail!(
                    "error: Fiasco.OC boots on the pc machine only (the IOMMU is Resurgo's kernel's; doc/iommu.md)"
                );
            }
            resurgo::deps::ensure(resurgo::deps::ALL)?;
            if let Some(model) = &nic {
                resurgo::nic_models::check(model)?;
            }
            // With a NIC (or --restart) the same system as on Resurgo's kernel,
            // system/default.toml, unless told otherwise; --restart sets the
            // manifest's mode.
            let given =
                manifest.or_else(|| (nic.is_some() || restart.is_some()).then(|| Kernel::Resurgo.manifest(None)));
            let manifest = resolve_manifest_path(&Kernel::Fiasco.manifest(given));
            let manifest = match restart {
                Some(mode) => image::with_restart_mode(&manifest, mode)?,
                None => manifest,
            };
            let image = resurgo::fiasco::build(&manifest)?;
            let extra_args = devices.iter().flat_map(|d| ["-device".to_string(), d.clone()]).collect();
            let cfg = QemuConfig { netdev: nic.as_deref().map(NetConfig::new), extra_args, ..QemuConfig::default() };
            resurgo::fiasco::run(&l4re, &image, &cfg, headless)
        }
        Command::Up { manifest, kernel: Kernel::Resurgo, headless, nic, devices, restart, machine } => {
            let manifest = Kernel::Resurgo.manifest(manifest);
            let manifest = match restart {
                Some(r) => image::with_restart_mode(&resurgo::resolve_manifest_path(&manifest), r)?,
                None => manifest,
            };
            // Everything building and booting need, installed in one go.
            resurgo::deps::ensure(resurgo::deps::ALL)?;
            if let Some(model) = &nic {
                resurgo::nic_models::check(model)?;
            }
            let image = build(&manifest)?;
            let extra_args = devices.iter().flat_map(|d| ["-device".to_string(), d.clone()]).collect();
            let cfg = QemuConfig {
                machine: machine.map_or_else(qemu::Machine::default, MachineArg::machine),
                netdev: nic.as_deref().map(NetConfig::new),
                extra_args,
                ..QemuConfig::default()
            };
            if headless { qemu::run_headless(&image, &cfg) } else { qemu::run_interactive(&image, &cfg) }
        }
        Command::Bench { which: Bench::Ipc { json, kernel: Kernel::Fiasco } } => {
            let l4re = resurgo::fiasco::L4re::required()?;
            let report = resurgo::fiasco::bench_ipc(&l4re, true)?;
            print!("{}", report.table());
            if json {
                println!("{}", report.json());
            }
            Ok(0)
        }
        Command::Bench { which: Bench::Ipc { json, kernel: Kernel::Resurgo } } => {
            let report = bench::ipc(true)?;
            print!("{}", report.table());
            if json {
                println!("{}", report.json());
            }
            Ok(0)
        }
        Command::Bench { which: Bench::Net { json, nics, runs, size, only, machine, kernel } } => {
            bench_net(json, nics, runs, size, only, (machine, kernel == Kernel::Fiasco))
        }
        Command::Bench { which: Bench::Restart { json, nic, seconds, machine, kernel, peer } } => {
            bench_restart(json, nic, seconds, (machine, kernel, peer))
        }
        Command::Bench { which: Bench::Frames { json, nics, frames, rate, seed, kinds, machine } } => {
            bench_frames(json, nics, (frames, rate, seed), kinds, machine)
        }
        Command::Bench { which: Bench::Swifi { plot_from, .. } } if !plot_from.is_empty() => {
            bench_swifi_plot(&plot_from)
        }
        Command::Bench {
            which:
                Bench::Swifi { json, nics, faults, minix_faults, burst, limit_ms, restart, seed, machine, kernel, .. },
        } => bench_swifi(
            json,
            nics,
            (faults, minix_faults.unwrap_or(faults)),
            (burst, limit_ms),
            restart,
            (seed, machine, kernel),
        ),
        Command::Bench { which: Bench::Fuzz { json, calls, seed } } => {
            let opts = resurgo::bench_fuzz::FuzzOptions { calls, seed, progress: true };
            let report = resurgo::bench_fuzz::run(&opts)?;
            print!("{}", report.table());
            if json {
                println!("{}", report.json());
            }
            Ok(if resurgo::bench_fuzz::clean(&report) { 0 } else { 1 })
        }
        Command::Svc { port, token, console, action } => {
            let (op, name) = match action {
                SvcAction::List { json } => {
                    resurgo::svc::list(port, json)?;
                    return Ok(0);
                }
                SvcAction::Restart { name } => ("restart", name),
                SvcAction::Kill { name } => ("kill", name),
                SvcAction::Down { name } => ("down", name),
                SvcAction::Up { name } => ("up", name),
                SvcAction::Crash { name } => ("crash", name),
                SvcAction::CrashIrq { name } => ("crash-irq", name),
                SvcAction::HangIrq { name } => ("hang-irq", name),
            };
            resurgo::svc::command(port, &resurgo::svc::token(token, console.as_deref())?, op, &name)?;
            Ok(0)
        }
        Command::Drivers { json } => {
            let all = drivers::all()?;
            print!("{}", drivers::list_table(&all));
            if json {
                println!("{}", drivers::list_json(&all));
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Fetch { names } } => {
            let chosen = chosen_drivers(&names)?;
            let refs: Vec<&drivers::Driver> = chosen.iter().collect();
            let set = drivers::fetch_sources(&refs, true)?;
            for d in &chosen {
                for f in d.files() {
                    println!("ok  {:10} {}  {}", d.name, &f.sha256[..16], set.get(&d.name, &f.path).display());
                }
            }
            if let Some(v) = set.linux_version {
                println!("linux sources: {} {v}", resurgo::linux::PACKAGE);
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Check { names } } => {
            let chosen = chosen_drivers(&names)?;
            let refs: Vec<&drivers::Driver> = chosen.iter().collect();
            image::with_build_lock(|| driver_build::build(&refs, driver_build::Mode::Check, true))?;
            println!("ok: {} compiled against Linux's headers (Resurgo's configuration)", names_of(&chosen));
            Ok(0)
        }
        Command::Driver { action: DriverAction::Build { names, strict } } => {
            let chosen = chosen_drivers(&names)?;
            let refs: Vec<&drivers::Driver> = chosen.iter().collect();
            image::build_shim(true)?;
            let images =
                image::with_build_lock(|| driver_build::build_with(&refs, driver_build::Mode::Link, strict, true))?;
            for (name, path) in images {
                println!("{name:10} {}", resurgo::display_path(&path, &root));
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Survey { json, top } } => {
            let survey = resurgo::survey::run(true)?;
            print!("{}", survey.table(top));
            if json {
                println!("{}", survey.json(top));
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Loc { names, json } } => {
            let chosen = chosen_drivers(&names)?;
            let refs: Vec<&drivers::Driver> = chosen.iter().collect();
            let loc = resurgo::loc::run(&refs, true)?;
            print!("{}", loc.table());
            if json {
                println!("{}", loc.json());
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Add { paths, name, force } } => {
            let added = resurgo::driver_add::add(&paths, name.as_deref(), force, true)?;
            print!("{}", added.text);
            println!(
                "wrote {}: {} file{}, {} PCI id{}",
                resurgo::display_path(&added.manifest_path, &root),
                added.files,
                if added.files == 1 { "" } else { "s" },
                added.ids.len(),
                if added.ids.len() == 1 { "" } else { "s" }
            );
            for u in &added.unresolved {
                eprintln!("warning: {u}");
            }
            match resurgo::nic_models::pci_ids() {
                Ok(models) => {
                    let matching = resurgo::nic_models::matching(&models, &added.ids);
                    if matching.is_empty() {
                        println!(
                            "no QEMU network card has one of its PCI ids: it needs real hardware or another emulator"
                        );
                    }
                    for (model, ids) in matching {
                        println!(
                            "QEMU's `{model}` ({}) is a card it claims: boot with `resurgo up --nic {model}`",
                            ids.pair()
                        );
                    }
                }
                Err(e) => eprintln!("warning: cannot ask QEMU which card matches: {e:#}"),
            }
            Ok(0)
        }
        Command::Driver { action: DriverAction::Pin { version, dry_run } } => {
            let report = drivers::repin(&version, !dry_run, true)?;
            print!("{}", report.table());
            Ok(0)
        }
        Command::Doctor => {
            let checks = resurgo::deps::doctor();
            print!("{}", resurgo::deps::doctor_table(&checks));
            Ok(0)
        }
        Command::Manifest { action: ManifestAction::Check { paths } } => {
            let mut failed = false;
            for path in paths {
                let path = resolve_manifest_path(&path);
                match resurgo::load_manifest(&path) {
                    Ok((_, system)) => println!(
                        "ok: {} (system `{}`, {} task{})",
                        resurgo::display_path(&path, &root),
                        system.name,
                        system.tasks.len(),
                        if system.tasks.len() == 1 { "" } else { "s" }
                    ),
                    Err(e) => {
                        failed = true;
                        eprintln!("{}", error_text(&e));
                    }
                }
            }
            Ok(i32::from(failed))
        }
    }
}

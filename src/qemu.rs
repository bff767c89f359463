//! Booting an image in QEMU (TCG, never KVM) and talking to the guest over its
//! serial console.
//!
//! The kernel ends every run through QEMU's `isa-debug-exit` device at port
//! 0xf4, so QEMU's exit status says how the guest ended: see [`GuestExit`].

use crate::host::find_on_path;
use crate::image::Image;
use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The QEMU binary Resurgo boots with.
pub const QEMU_BIN: &str = "qemu-system-x86_64";
/// The Debian package that provides it.
pub const QEMU_PACKAGE: &str = "qemu-system-x86";
/// What to tell the user when QEMU is missing and cannot be installed here.
pub const QEMU_MISSING: &str = "QEMU is not installed: run `sudo apt-get install -y qemu-system-x86`";
/// A guest line containing this means the kernel panicked.
pub const KERNEL_PANIC_MARK: &str = "[kernel] PANIC";
/// Set to `1` to echo every guest line to stderr as `guest| ...`.
pub const ECHO_ENV: &str = "RESURGO_ECHO";
/// How many lines of output an error message shows.
pub const TAIL_LINES: usize = 60;

/// The NIC models QEMU offers that Resurgo's committed drivers drive (any
/// other PCI model of QEMU boots too: see [`crate::nic_models`]).
pub const NIC_MODELS: &[&str] = &["rtl8139", "ne2k_pci", "e1000", "pcnet", "e1000e", "virtio-net-pci"];

/// The properties Resurgo gives a NIC model of QEMU's beyond the user's:
/// a virtio network card is modern only and uses the DMA API
/// (`VIRTIO_F_ACCESS_PLATFORM`): a driver task's `virt_to_phys()` is not
/// a bus address, and only so does the card's DMA go through the IOMMU.
pub fn model_properties(model: &str) -> &'static str {
    match model.split(',').next().unwrap_or_default() {
        "virtio-net-pci" | "virtio-net" => ",disable-legacy=on,iommu_platform=on",
        _ => "",
    }
}

/// `-device` for the NIC `model` on the netdev `netdev`.
pub fn nic_device(model: &str, netdev: &str) -> String {
    format!("{model}{},netdev={netdev}", model_properties(model))
}

/// The default host→guest TCP forwards of a guest with a network card:
/// 127.0.0.1:5555 → the guest's echo port 7, 127.0.0.1:5556 → its sink (discard)
/// port 9, 127.0.0.1:8080 → the status page on port 80.
pub const DEFAULT_HOSTFWD: &[(u16, u16)] = &[(5555, 7), (5556, 9), (8080, 80)];

/// A network card on QEMU's user-mode network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// QEMU device model: a PCI network card of QEMU's, such as one of [`NIC_MODELS`].
    pub model: String,
    /// TCP forwards `(host port on 127.0.0.1, guest port)`.
    pub hostfwd: Vec<(u16, u16)>,
}

impl NetConfig {
    /// A card of `model` with the [`DEFAULT_HOSTFWD`] forwards.
    pub fn new(model: &str) -> NetConfig {
        NetConfig { model: model.to_string(), hostfwd: DEFAULT_HOSTFWD.to_vec() }
    }
}

/// The QEMU machine a guest boots on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Machine {
    /// `q35` with an emulated Intel VT-d unit (`-device
    /// intel-iommu,intremap=on`): the kernel confines every device's DMA to
    /// the memory its driver allocated (doc/iommu.md). The default.
    #[default]
    Q35,
    /// The older `pc` (i440FX) without an IOMMU: DMA is not confined, and the
    /// kernel says so at boot.
    Pc,
}

impl Machine {
    /// Every machine, in the order `--machine` lists them.
    pub const ALL: [Machine; 2] = [Machine::Q35, Machine::Pc];

    /// The name `--machine` takes and QEMU's `-machine` gets.
    pub const fn name(self) -> &'static str {
        match self {
            Machine::Q35 => "q35",
            Machine::Pc => "pc",
        }
    }

    /// Whether the machine has an IOMMU that confines DMA.
    pub const fn has_iommu(self) -> bool {
        matches!(self, Machine::Q35)
    }

    /// The machine of a `--machine` name.
    pub fn from_name(name: &str) -> Option<Machine> {
        Machine::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// QEMU's `-device` for the VT-d unit of [`Machine::Q35`]: DMA remapping and
/// interrupt remapping. It comes before every PCI device on the command line.
pub const IOMMU_DEVICE: &str = "intel-iommu,intremap=on";

/// How to run QEMU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    /// The machine: q35 with an IOMMU (the default) or pc without one.
    pub machine: Machine,
    /// Guest memory in MiB (default 512).
    pub memory_mib: u32,
    /// `-icount shift=0`: the guest TSC counts guest instructions exactly.
    pub icount: bool,
    /// A network card, or none (`-nic none`).
    pub netdev: Option<NetConfig>,
    /// With a network card: a second way onto its wire, for raw frames from
    /// the host (see [`Injector`]).
    pub inject: Option<Injector>,
    /// With a network card: its backend is this host tap device
    /// ([`crate::tap::Tap`]) instead of the user network, and the card's
    /// forwards are not used (the host reaches the guest's address itself).
    pub tap: Option<String>,
    /// Appended to QEMU's command line as given.
    pub extra_args: Vec<String>,
}

impl Default for QemuConfig {
    fn default() -> QemuConfig {
        QemuConfig {
            machine: Machine::default(),
            memory_mib: 512,
            icount: false,
            netdev: None,
            inject: None,
            tap: None,
            extra_args: Vec::new(),
        }
    }
}

/// The guest NIC's wire led through the host, for raw frames from it: the
/// NIC's backend is a UDP socket netdev (QEMU receives its frames on
/// 127.0.0.1:`nic_listen` and sends the NIC's to 127.0.0.1:`nic_peer`), and
/// the user network sits on a hub with a second socket netdev
/// (`user_listen`, `user_peer`). A host-side relay passes frames between
/// the two ends and adds its own towards the NIC only, so that QEMU's user
/// network never sees them (see `bench_frames`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injector {
    pub nic_listen: u16,
    pub nic_peer: u16,
    pub user_listen: u16,
    pub user_peer: u16,
}

/// How a guest ended, from QEMU's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestExit {
    /// QEMU exited 33: the guest asked for a successful shutdown.
    Success,
    /// QEMU exited 35: the guest asked for a failure shutdown.
    Failure,
    /// QEMU exited 37: the kernel panicked.
    KernelPanic,
    /// Anything else: QEMU's own status (0 when the guest reset or QEMU was quit
    /// from its monitor), or 128 + the signal that killed it.
    Other(i32),
}

impl GuestExit {
    /// Maps QEMU's exit code.
    pub fn from_code(code: i32) -> GuestExit {
        match code {
            33 => GuestExit::Success,
            35 => GuestExit::Failure,
            37 => GuestExit::KernelPanic,
            other => GuestExit::Other(other),
        }
    }

    pub fn from_status(status: ExitStatus) -> GuestExit {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => GuestExit::from_code(code),
            (None, Some(sig)) => GuestExit::Other(128 + sig),
            (None, None) => GuestExit::Other(-1),
        }
    }

    /// The exit code for `resurgo` itself: 0 success, 1 guest failure, 2 kernel
    /// panic, 3 when QEMU exited 0 without the guest's word (a reset), else
    /// QEMU's own code.
    pub fn exit_code(self) -> i32 {
        match self {
            GuestExit::Success => 0,
            GuestExit::Failure => 1,
            GuestExit::KernelPanic => 2,
            GuestExit::Other(0) => 3,
            GuestExit::Other(code) => code,
        }
    }
}

impl fmt::Display for GuestExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestExit::Success => f.write_str("the guest shut down successfully"),
            GuestExit::Failure => f.write_str("the guest shut down reporting failure"),
            GuestExit::KernelPanic => f.write_str("the kernel panicked"),
            GuestExit::Other(0) => f.write_str("QEMU exited without the guest's status (guest reset, or quit)"),
            GuestExit::Other(code) => write!(f, "QEMU exited with status {code}"),
        }
    }
}

/// QEMU's arguments for booting `kernel` with `archive` as its boot archive,
/// the serial port on `serial` (`stdio`, `mon:stdio`).
pub fn qemu_args(kernel: &Path, archive: &Path, cfg: &QemuConfig, serial: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |s: &str| args.push(s.into());
    push("-machine");
    push(cfg.machine.name());
    if cfg.machine.has_iommu() {
        push("-device");
        push(IOMMU_DEVICE);
    }
    push("-accel");
    push("tcg");
    push("-m");
    push(&cfg.memory_mib.to_string());
    push("-display");
    push("none");
    push("-serial");
    push(serial);
    push("-no-reboot");
    push("-device");
    push("isa-debug-exit,iobase=0xf4,iosize=0x04");
    if cfg.icount {
        push("-icount");
        push("shift=0");
    }
    match &cfg.netdev {
        None => {
            push("-nic");
            push("none");
        }
        Some(net) => {
            let netdev = match &cfg.tap {
                Some(tap) => format!("tap,id=net0,ifname={tap},script=no,downscript=no"),
                None => {
                    let mut netdev = String::from("user,id=net0");
                    for (host, guest) in &net.hostfwd {
                        netdev.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
                    }
                    netdev
                }
            };
            push("-netdev");
            push(&netdev);
            match cfg.inject {
                None => {
                    push("-device");
                    push(&nic_device(&net.model, "net0"));
                }
                Some(inj) => {
                    push("-netdev");
                    push(&format!(
                        "socket,id=nic-wire,udp=127.0.0.1:{},localaddr=127.0.0.1:{}",
                        inj.nic_peer, inj.nic_listen
                    ));
                    push("-device");
                    push(&nic_device(&net.model, "nic-wire"));
                    push("-netdev");
                    push(&format!(
                        "socket,id=user-wire,udp=127.0.0.1:{},localaddr=127.0.0.1:{}",
                        inj.user_peer, inj.user_listen
                    ));
                    push("-netdev");
                    push("hubport,id=hub-user,hubid=0,netdev=net0");
                    push("-netdev");
                    push("hubport,id=hub-wire,hubid=0,netdev=user-wire");
                }
            }
        }
    }
    args.push("-kernel".into());
    args.push(kernel.into());
    args.push("-initrd".into());
    args.push(archive.into());
    args.extend(cfg.extra_args.iter().map(OsString::from));
    args
}

/// [`qemu_args`] with the serial console on stdio and, when given, `-append`
/// with a kernel command line.
pub fn boot_args(kernel: &Path, initrd: &Path, append: Option<&str>, cfg: &QemuConfig) -> Vec<OsString> {
    let mut args = qemu_args(kernel, initrd, cfg, "stdio");
    if let Some(append) = append {
        args.push("-append".into());
        args.push(append.into());
    }
    args
}

/// `qemu-system-x86_64` on PATH, if there is one.
pub fn find_qemu() -> Option<PathBuf> {
    find_on_path(QEMU_BIN)
}

/// Returns QEMU's path, installing it first when it is missing (as root with
/// apt-get; otherwise the error names the command to run).
pub fn ensure_qemu() -> Result<PathBuf> {
    crate::deps::ensure(&[crate::deps::QEMU])?;
    find_qemu().ok_or_else(|| anyhow::anyhow!("{QEMU_MISSING}"))
}

/// Fails when a host port the configuration forwards is taken, naming the
/// process that holds it.
fn check_ports(cfg: &QemuConfig) -> Result<()> {
    let Some(net) = cfg.netdev.as_ref().filter(|_| cfg.tap.is_none()) else { return Ok(()) };
    let ports: Vec<(u16, String)> =
        net.hostfwd.iter().map(|(host, guest)| (*host, format!("forwarded to the guest's port {guest}"))).collect();
    crate::ports::check_free(&ports)
}

/// Starts QEMU so that it ends with this process ([`crate::children`]).
fn start(cmd: &mut Command, qemu: &Path) -> Result<Child> {
    crate::children::spawn(cmd).with_context(|| format!("cannot start {}", qemu.display()))
}

/// Waits for a QEMU started by [`start`].
fn wait(mut child: Child, qemu: &Path) -> Result<ExitStatus> {
    let status = child.wait().with_context(|| format!("waiting for {}", qemu.display()));
    crate::children::forget(child.id());
    status
}

/// The guest's serial output so far.
#[derive(Default)]
struct OutState {
    /// Complete lines, without '\r' or '\n'.
    lines: Vec<String>,
    /// The line being written (no newline yet).
    partial: String,
    /// QEMU's own stderr.
    stderr: Vec<String>,
    /// QEMU closed its stdout (it exited).
    eof: bool,
}

#[derive(Default)]
struct Output {
    state: Mutex<OutState>,
    changed: Condvar,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl OutState {
    fn tail(&self, n: usize) -> String {
        let start = self.lines.len().saturating_sub(n);
        let mut out = String::new();
        for line in &self.lines[start..] {
            out.push_str(line);
            out.push('\n');
        }
        if !self.partial.is_empty() {
            out.push_str(&self.partial);
            out.push_str(" (no newline yet)\n");
        }
        if !self.stderr.is_empty() {
            out.push_str("--- QEMU's stderr ---\n");
            for line in &self.stderr {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// A booted guest with its serial console on QEMU's stdio. Dropping it kills QEMU.
pub struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Output>,
    /// Index of the first line the next `wait_for` considers.
    cursor: Mutex<usize>,
    readers: Vec<JoinHandle<()>>,
    exit: Option<GuestExit>,
    system: String,
}

impl Guest {
    /// Boots the image (installing QEMU first when it is missing and that is
    /// possible here) and starts collecting the serial output.
    pub fn boot(image: &Image, cfg: &QemuConfig) -> Result<Guest> {
        Guest::boot_kernel(&image.system.name, &image.kernel, &image.archive, None, cfg)
    }

    /// Boots any kernel QEMU's `-kernel` takes (Resurgo's, or a Linux
    /// `vmlinuz`) with `initrd` and, when given, the kernel command line
    /// `append`, in the same configuration as [`Guest::boot`]. `name` stands
    /// for the system in error messages.
    pub fn boot_kernel(
        name: &str,
        kernel: &Path,
        initrd: &Path,
        append: Option<&str>,
        cfg: &QemuConfig,
    ) -> Result<Guest> {
        Guest::boot_kernel_mapped(name, kernel, initrd, append, cfg, None)
    }

    /// [`Guest::boot_kernel`], with each complete console line rewritten by
    /// `map` before it is kept (for a kernel whose console says the same
    /// things in another format: see `fiasco::resurgo_style`).
    pub fn boot_kernel_mapped(
        name: &str,
        kernel: &Path,
        initrd: &Path,
        append: Option<&str>,
        cfg: &QemuConfig,
        map: Option<LineMap>,
    ) -> Result<Guest> {
        let qemu = ensure_qemu()?;
        check_ports(cfg)?;
        let mut child = start(
            Command::new(&qemu)
                .args(boot_args(kernel, initrd, append, cfg))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            &qemu,
        )?;
        let out = Arc::new(Output::default());
        let echo = std::env::var(ECHO_ENV).is_ok_and(|v| v == "1");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let readers =
            vec![spawn_stdout_reader(stdout, out.clone(), echo, map), spawn_stderr_reader(stderr, out.clone())];
        Ok(Guest {
            stdin: child.stdin.take(),
            child,
            out,
            cursor: Mutex::new(0),
            readers,
            exit: None,
            system: name.to_string(),
        })
    }

    /// Waits for the first line, after the line the previous successful
    /// `wait_for` returned (or since boot), that satisfies `pred`, and returns it.
    ///
    /// Fails at once when the kernel panics (a `[kernel] PANIC` line comes before
    /// a match) or QEMU exits, and after `timeout`; the error shows the last
    /// [`TAIL_LINES`] lines of output.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = self.out.lock();
        let mut next = *cursor;
        loop {
            while next < state.lines.len() {
                let line = &state.lines[next];
                if line.starts_with(KERNEL_PANIC_MARK) {
                    drop(state);
                    return Err(self.panic_error(next));
                }
                if pred(line) {
                    *cursor = next + 1;
                    return Ok(line.clone());
                }
                next += 1;
            }
            if state.eof {
                bail!(
                    "QEMU exited before the line waited for appeared ({}); last {TAIL_LINES} lines of output:\n{}",
                    self.system,
                    state.tail(TAIL_LINES)
                );
            }
            let now = Instant::now();
            if now >= deadline {
                bail!(
                    "timed out after {:.1} s waiting for a guest line ({}); last {TAIL_LINES} lines of output:\n{}",
                    timeout.as_secs_f64(),
                    self.system,
                    state.tail(TAIL_LINES)
                );
            }
            state = self.out.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// The error for a kernel panic at line `at`: the panic line and what follows
    /// (the panic message spans lines), collected until QEMU exits or 2 s pass.
    fn panic_error(&self, at: usize) -> anyhow::Error {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut state = self.out.lock();
        while !state.eof && Instant::now() < deadline {
            state = self
                .out
                .changed
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let panic: Vec<&str> = state.lines[at..].iter().take(20).map(String::as_str).collect();
        anyhow::anyhow!(
            "kernel panic in the guest ({}): {}\nlast {TAIL_LINES} lines of output:\n{}",
            self.system,
            panic.join("\n"),
            state.tail(TAIL_LINES)
        )
    }

    /// [`Guest::wait_for`] a line containing `needle`.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_for(|line| line.contains(needle), timeout)
    }

    /// Every complete line of output since boot.
    pub fn lines(&self) -> Vec<String> {
        self.out.lock().lines.clone()
    }

    /// Whether QEMU's output has ended (it exited), without waiting.
    pub fn output_ended(&self) -> bool {
        self.out.lock().eof
    }

    /// How many complete lines of output there are so far.
    pub fn line_count(&self) -> usize {
        self.out.lock().lines.len()
    }

    /// The complete lines of output from line `first` on (none if there are
    /// fewer): cheaper than [`Guest::lines`] on a long run.
    pub fn lines_from(&self, first: usize) -> Vec<String> {
        let state = self.out.lock();
        state.lines.get(first..).map(<[String]>::to_vec).unwrap_or_default()
    }

    /// The last `n` lines of output (and QEMU's stderr), for messages.
    pub fn tail(&self, n: usize) -> String {
        self.out.lock().tail(n)
    }

    /// Types a line on the serial console (followed by a carriage return).
    pub fn send_line(&mut self, s: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().context("the guest's console input is closed")?;
        stdin
            .write_all(s.as_bytes())
            .and_then(|()| stdin.write_all(b"\r"))
            .and_then(|()| stdin.flush())
            .context("cannot write to the guest's console (QEMU exited?)")
    }

    /// Waits for QEMU to exit and says how the guest ended. On timeout QEMU is
    /// killed and an error with the last lines of output is returned.
    /// How QEMU ended, if it has (without waiting).
    pub fn exited(&mut self) -> Option<GuestExit> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            crate::children::forget(self.child.id());
            self.exit = Some(GuestExit::from_status(status));
        }
        self.exit
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Result<GuestExit> {
        if let Some(exit) = self.exit {
            return Ok(exit);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().context("waiting for QEMU")? {
                crate::children::forget(self.child.id());
                // QEMU is gone: the readers see end of file; let them finish.
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                let exit = GuestExit::from_status(status);
                self.exit = Some(exit);
                return Ok(exit);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                crate::children::forget(self.child.id());
                bail!(
                    "the guest ({}) did not shut down within {:.1} s; QEMU was killed. Last {TAIL_LINES} lines of output:\n{}",
                    self.system,
                    timeout.as_secs_f64(),
                    self.tail(TAIL_LINES)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            crate::children::forget(self.child.id());
        }
        self.stdin = None;
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

/// Rewrites a complete console line before the guest keeps it.
pub type LineMap = Arc<dyn Fn(String) -> String + Send + Sync>;

fn spawn_stdout_reader(
    mut stdout: impl Read + Send + 'static,
    out: Arc<Output>,
    echo: bool,
    map: Option<LineMap>,
) -> JoinHandle<()> {
    let map = move |line: String| match &map {
        Some(f) => f(line),
        None => line,
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let n = match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            let mut complete = Vec::new();
            while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = pending.drain(..=i).collect();
                complete.push(map(clean_line(&raw[..raw.len() - 1])));
            }
            if echo {
                for line in &complete {
                    eprintln!("guest| {line}");
                }
            }
            let mut state = out.lock();
            state.lines.extend(complete);
            state.partial = clean_line(&pending);
            drop(state);
            out.changed.notify_all();
        }
        let mut state = out.lock();
        if !state.partial.is_empty() {
            let last = map(std::mem::take(&mut state.partial));
            if echo {
                eprintln!("guest| {last}");
            }
            state.lines.push(last);
        }
        state.eof = true;
        drop(state);
        out.changed.notify_all();
    })
}

fn spawn_stderr_reader(stderr: impl Read + Send + 'static, out: Arc<Output>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            out.lock().stderr.push(line);
            out.changed.notify_all();
        }
    })
}

/// A line of serial output as text: lossy UTF-8, carriage returns removed.
fn clean_line(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace('\r', "")
}

/// Boots the image with the serial console on this terminal (`-serial
/// mon:stdio`: Ctrl-A X quits, Ctrl-A C is QEMU's monitor) and returns the exit
/// code for `resurgo up`: 0 when the guest shut down successfully or the user
/// quit, else [`GuestExit::exit_code`].
pub fn run_interactive(image: &Image, cfg: &QemuConfig) -> Result<i32> {
    let qemu = ensure_qemu()?;
    check_ports(cfg)?;
    println!("Booting {} in QEMU; press Ctrl-A then X to quit.", image.system.name);
    let child = start(Command::new(&qemu).args(qemu_args(&image.kernel, &image.archive, cfg, "mon:stdio")), &qemu)?;
    let status = wait(child, &qemu)?;
    let exit = GuestExit::from_status(status);
    Ok(match exit {
        GuestExit::Other(0) => 0,
        other => {
            if other != GuestExit::Success {
                eprintln!("{other}");
            }
            other.exit_code()
        }
    })
}

/// Boots the image with the serial output streamed to stdout and no input;
/// returns [`GuestExit::exit_code`].
pub fn run_headless(image: &Image, cfg: &QemuConfig) -> Result<i32> {
    let qemu = ensure_qemu()?;
    check_ports(cfg)?;
    eprintln!("Booting {} in QEMU (headless).", image.system.name);
    let child = start(
        Command::new(&qemu).args(qemu_args(&image.kernel, &image.archive, cfg, "stdio")).stdin(Stdio::null()),
        &qemu,
    )?;
    let status = wait(child, &qemu)?;
    let exit = GuestExit::from_status(status);
    if exit != GuestExit::Success {
        eprintln!("{exit}");
    }
    Ok(exit.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cfg: &QemuConfig) -> Vec<String> {
        qemu_args(Path::new("/k"), Path::new("/b.tar"), cfg, "stdio")
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    fn has_pair(args: &[String], flag: &str, value: &str) -> bool {
        args.windows(2).any(|w| w[0] == flag && w[1] == value)
    }

    #[test]
    fn exit_codes_map_to_guest_exits() {
        assert_eq!(GuestExit::from_code(33), GuestExit::Success);
        assert_eq!(GuestExit::from_code(35), GuestExit::Failure);
        assert_eq!(GuestExit::from_code(37), GuestExit::KernelPanic);
        assert_eq!(GuestExit::from_code(1), GuestExit::Other(1));
        assert_eq!(GuestExit::from_code(0), GuestExit::Other(0));
        assert_eq!(GuestExit::Success.exit_code(), 0);
        assert_eq!(GuestExit::Failure.exit_code(), 1);
        assert_eq!(GuestExit::KernelPanic.exit_code(), 2);
        assert_eq!(GuestExit::Other(0).exit_code(), 3);
        assert_eq!(GuestExit::Other(1).exit_code(), 1);
    }

    #[test]
    fn exit_status_from_a_signal_is_128_plus_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(GuestExit::from_status(ExitStatus::from_raw(9)), GuestExit::Other(137));
        assert_eq!(GuestExit::from_status(ExitStatus::from_raw(33 << 8)), GuestExit::Success);
    }

    #[test]
    fn default_args_have_no_nic_and_the_exit_device() {
        let a = args(&QemuConfig::default());
        assert!(has_pair(&a, "-machine", "q35"));
        let iommu = a.iter().position(|x| x == IOMMU_DEVICE).expect("the VT-d unit by default");
        assert_eq!(a[iommu - 1], "-device");
        assert!(iommu < a.iter().position(|x| x == "-nic").unwrap(), "the IOMMU comes before any PCI device");
        assert!(has_pair(&a, "-m", "512"));
        assert!(has_pair(&a, "-display", "none"));
        assert!(has_pair(&a, "-serial", "stdio"));
        assert!(has_pair(&a, "-nic", "none"));
        assert!(has_pair(&a, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        assert!(has_pair(&a, "-kernel", "/k"));
        assert!(has_pair(&a, "-initrd", "/b.tar"));
        assert!(a.contains(&"-no-reboot".to_string()));
        assert!(!a.iter().any(|x| x.contains("kvm")));
        assert!(!a.contains(&"-icount".to_string()));
    }

    #[test]
    fn network_icount_and_extra_args() {
        let cfg = QemuConfig {
            machine: Machine::Pc,
            memory_mib: 64,
            icount: true,
            netdev: Some(NetConfig::new("e1000")),
            inject: None,
            tap: None,
            extra_args: vec!["-d".into(), "int".into()],
        };
        let a = args(&cfg);
        assert!(has_pair(&a, "-machine", "pc"));
        assert!(!a.iter().any(|x| x.contains("intel-iommu")), "pc has no IOMMU");
        assert!(has_pair(&a, "-m", "64"));
        assert!(has_pair(&a, "-icount", "shift=0"));
        assert!(has_pair(
            &a,
            "-netdev",
            "user,id=net0,hostfwd=tcp:127.0.0.1:5555-:7,hostfwd=tcp:127.0.0.1:5556-:9,hostfwd=tcp:127.0.0.1:8080-:80"
        ));
        assert!(has_pair(&a, "-device", "e1000,netdev=net0"));
        assert!(!a.contains(&"-nic".to_string()));
        assert_eq!(&a[a.len() - 2..], ["-d", "int"]);
    }

    #[test]
    fn a_tap_device_replaces_the_user_network_and_its_forwards() {
        let cfg =
            QemuConfig { netdev: Some(NetConfig::new("rtl8139")), tap: Some("t0".into()), ..QemuConfig::default() };
        let a = args(&cfg);
        assert!(has_pair(&a, "-netdev", "tap,id=net0,ifname=t0,script=no,downscript=no"));
        assert!(has_pair(&a, "-device", "rtl8139,netdev=net0"));
        assert!(!a.iter().any(|x| x.contains("user,") || x.contains("hostfwd")));
    }

    #[test]
    fn an_injector_leads_the_nic_wire_through_the_host() {
        let inject = Injector { nic_listen: 4001, nic_peer: 4002, user_listen: 4003, user_peer: 4004 };
        let cfg = QemuConfig { netdev: Some(NetConfig::new("rtl8139")), inject: Some(inject), ..QemuConfig::default() };
        let a = args(&cfg);
        assert!(has_pair(&a, "-netdev", "socket,id=nic-wire,udp=127.0.0.1:4002,localaddr=127.0.0.1:4001"));
        assert!(has_pair(&a, "-device", "rtl8139,netdev=nic-wire"));
        assert!(has_pair(&a, "-netdev", "socket,id=user-wire,udp=127.0.0.1:4004,localaddr=127.0.0.1:4003"));
        assert!(has_pair(&a, "-netdev", "hubport,id=hub-user,hubid=0,netdev=net0"));
        assert!(has_pair(&a, "-netdev", "hubport,id=hub-wire,hubid=0,netdev=user-wire"));
        assert!(!a.iter().any(|x| x == "rtl8139,netdev=net0"), "the NIC is not on the user network directly");
    }

    #[test]
    fn boot_args_append_a_command_line_when_given() {
        let cfg = QemuConfig::default();
        let plain = boot_args(Path::new("/k"), Path::new("/b.tar"), None, &cfg);
        assert_eq!(plain, qemu_args(Path::new("/k"), Path::new("/b.tar"), &cfg, "stdio"));
        let linux: Vec<String> =
            boot_args(Path::new("/vmlinuz"), Path::new("/i.cpio"), Some("console=ttyS0 x=1"), &cfg)
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect();
        assert!(has_pair(&linux, "-kernel", "/vmlinuz"));
        assert!(has_pair(&linux, "-initrd", "/i.cpio"));
        assert!(has_pair(&linux, "-append", "console=ttyS0 x=1"));
        assert!(has_pair(&linux, "-serial", "stdio"));
    }

    #[test]
    fn machines_have_names() {
        for m in Machine::ALL {
            assert_eq!(Machine::from_name(m.name()), Some(m));
        }
        assert_eq!(Machine::from_name("isapc"), None);
        assert_eq!(Machine::default(), Machine::Q35);
        assert!(Machine::Q35.has_iommu() && !Machine::Pc.has_iommu());
    }

    #[test]
    fn lines_are_cleaned_of_carriage_returns() {
        assert_eq!(clean_line(b"hello\r"), "hello");
        assert_eq!(clean_line(b"a\rb"), "ab");
    }
}

//! Resurgo on Fiasco.OC: the tasks of a manifest built for the L4Re
//! microkernel (`rt`'s `fiasco` platform), a ned script that starts them, and
//! QEMU booting bootstrap, Fiasco, sigma0, moe, `l4re_itas`, ned and the tasks.
//!
//! L4Re itself is never part of the project: it comes from the folder
//! [`L4RE_ENV`] names (a ready build such as `../shared/fiasco`), which must
//! hold the binaries in [`L4RE_BINARIES`].

use crate::host::DirLock;
use crate::image::{cargo_command, workspace_binaries};
use crate::qemu::{Guest, Machine, QemuConfig};
use crate::{display_path, load_manifest, workspace_root};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The variable that names the L4Re build.
pub const L4RE_ENV: &str = "RESURGO_L4RE";

/// What an L4Re build must hold, in boot order (bootstrap is QEMU's kernel).
pub const L4RE_BINARIES: [&str; 6] = ["bin/bootstrap", "bin/fiasco", "bin/sigma0", "bin/moe", "bin/l4re", "bin/ned"];

/// The manifest `--kernel fiasco` boots unless told otherwise.
pub const DEFAULT_MANIFEST: &str = "system/fiasco.toml";

/// The network system with one vbus per driver and no supervisor (the
/// drivers, netd, echo and sink): what `tests/fiasco.rs` moves data through
/// on each NIC.
pub const NET_MANIFEST: &str = "system/fiasco-net.toml";

/// The rt feature that selects the Fiasco platform layer.
pub const RT_FEATURE: &str = "rt/fiasco";

/// What is expected in [`L4RE_ENV`], for error lines.
fn expected() -> String {
    format!("a Fiasco.OC + L4Re build for x86-64 QEMU with {} (like ../shared/fiasco)", L4RE_BINARIES.join(", "))
}

/// A checked L4Re build.
#[derive(Debug, Clone)]
pub struct L4re {
    pub root: PathBuf,
}

impl L4re {
    /// The build [`L4RE_ENV`] names: `Ok(None)` when the variable is unset or
    /// empty, an error of one line when it names no usable build.
    pub fn from_env() -> Result<Option<L4re>> {
        match std::env::var_os(L4RE_ENV) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => L4re::at(Path::new(&v)).map(Some),
        }
    }

    /// Like [`L4re::from_env`], but an unset variable is an error too.
    pub fn required() -> Result<L4re> {
        L4re::from_env()?.ok_or_else(|| anyhow!("error: {L4RE_ENV} is not set: point it at {}", expected()))
    }

    /// The build at `path` (relative paths from the current folder, else from
    /// the workspace root), checked: every binary there and an ELF file.
    pub fn at(path: &Path) -> Result<L4re> {
        let shown = path.display();
        let root = if path.is_absolute() || path.exists() { path.to_path_buf() } else { workspace_root().join(path) };
        if !root.is_dir() {
            bail!("error: {L4RE_ENV}={shown} is not a folder: expected {} there", expected());
        }
        let missing: Vec<&str> = L4RE_BINARIES.iter().copied().filter(|b| !root.join(b).is_file()).collect();
        if !missing.is_empty() {
            bail!("error: {L4RE_ENV}={shown} lacks {}: expected {} there", missing.join(", "), expected());
        }
        for b in L4RE_BINARIES {
            let mut magic = [0u8; 4];
            let ok =
                fs::File::open(root.join(b)).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok();
            if !ok || magic != *b"\x7fELF" {
                bail!("error: {L4RE_ENV}={shown}: {b} is not an ELF executable: expected {} there", expected());
            }
        }
        let root = root.canonicalize().with_context(|| format!("cannot resolve {}", root.display()))?;
        Ok(L4re { root })
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }
}

/// A system built for Fiasco.OC, ready to boot.
#[derive(Debug, Clone)]
pub struct FiascoImage {
    pub system: manifest::System,
    pub manifest_path: PathBuf,
    /// ned's Lua script (`target/image-fiasco/<system>/<system>.cfg`).
    pub ned_script: PathBuf,
    /// io's device configuration (`<system>.io`), when a task uses `io.pci`.
    pub io_config: Option<PathBuf>,
    /// Each task image, by name, in start order.
    pub binaries: Vec<(String, PathBuf)>,
    /// The drivers' firmware archives (`fw-DRIVER.tar`, as on Resurgo's
    /// kernel the boot archive's `firmware/DRIVER.tar`), boot modules in
    /// moe's `rom` that the ned script grants each driver task as `firmware`.
    pub firmware: Vec<PathBuf>,
}

/// The target directory of the Fiasco build: `target/image-fiasco`.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("image-fiasco")
}

static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// The task that stands for L4Re's io on Fiasco.OC: a manifest's `io` task
/// (Resurgo's io server) is not built there; io from [`L4RE_ENV`] runs in
/// its place, and each client of `io.pci` gets a vbus with its driver's
/// devices.
pub const IO_TASK: &str = "io";

/// The image of the reincarnation server, which on Fiasco.OC starts its
/// children itself (`parent = "..."` names a task running it).
pub const REINCARNATION_IMAGE: &str = "reincarnation";

/// What of a manifest does not run on Fiasco.OC, as one line, or `None`.
fn fiasco_refusal(system: &manifest::System, shown: &str) -> Option<String> {
    for task in &system.tasks {
        if let Some(parent) = &task.parent
            && !system.tasks.iter().any(|p| &p.name == parent && p.image == REINCARNATION_IMAGE)
        {
            return Some(format!(
                "error: {shown}: task `{}` has the parent `{parent}`; on Fiasco.OC only the reincarnation server starts tasks (declare it without `parent`, or with a parent running `{REINCARNATION_IMAGE}`)",
                task.name
            ));
        }
        if let Some(what) = grant_without_place(task) {
            return Some(format!(
                "error: {shown}: task `{}` is granted {what}; on Fiasco.OC a driver reaches its device's through its vbus (`io.pci`), and only COM1 (the console: the kernel's log object) is granted by itself",
                task.name
            ));
        }
        if let Some((server, ep)) = task
            .uses
            .iter()
            .find(|(s, e)| s == IO_TASK && e != "pci" && !(e == IO_ADMIN && task.image == REINCARNATION_IMAGE))
        {
            return Some(format!(
                "error: {shown}: task `{}` uses `{server}.{ep}`; on Fiasco.OC io serves drivers their vbus (`io.pci`), and `io.admin` is the reincarnation server's only",
                task.name
            ));
        }
    }
    None
}

/// COM1's first port and interrupt line: Resurgo's serial console.
const COM1_PORT: u16 = 0x3f8;
const COM1_IRQ: u8 = 4;

/// Whether the manifest grants the task the serial console (COM1's ports),
/// which on Fiasco.OC is the kernel's log object: ned hands it over as
/// `console` (`rt::console`).
fn is_console(task: &manifest::Task) -> bool {
    task.ports.iter().any(|&(base, _)| base == COM1_PORT)
}

/// A port or interrupt-line grant of `task` that Fiasco.OC has no place for:
/// a driver reaches its device's through its vbus, COM1 and its line are the
/// console, and io's are L4Re io's own.
fn grant_without_place(task: &manifest::Task) -> Option<String> {
    if task.name == IO_TASK {
        return None;
    }
    if let Some((base, _)) = task.ports.iter().find(|&&(base, _)| base != COM1_PORT) {
        return Some(format!("the ports at {base:#x}"));
    }
    let line = task.irqs.iter().find(|&&l| !(l == COM1_IRQ && is_console(task)))?;
    Some(format!("interrupt line {line}"))
}

/// Builds the manifest's task images for Fiasco.OC (legacy drivers linked
/// with the shim built for Fiasco) and writes ned's script and io's
/// configuration.
pub fn build(manifest_path: &Path) -> Result<FiascoImage> {
    let root = workspace_root();
    let target = target_dir();
    let _lock = DirLock::acquire(&BUILD_LOCK, &target, ".build-lock")?;
    let (text, system) = load_manifest(manifest_path)?;
    let shown = display_path(manifest_path, &root);
    if let Some(line) = fiasco_refusal(&system, &shown) {
        bail!("{line}");
    }
    let providers = workspace_binaries(&root)?;
    let task_drivers = crate::image::task_drivers(manifest_path, &text, &system)?;
    let mut packages = BTreeSet::new();
    let mut images: Vec<String> = Vec::new();
    let mut to_compile: Vec<&crate::drivers::Driver> = Vec::new();
    for task in system.tasks.iter().filter(|t| t.name != IO_TASK) {
        if let Some(driver) = &task.driver {
            let d = &task_drivers[driver];
            if !to_compile.iter().any(|x| x.name == d.name) {
                to_compile.push(d);
            }
            packages.insert(crate::driver_build::SHIM_PACKAGE.to_string());
        } else {
            let Some(package) = providers.get(&task.image) else {
                bail!("error: {shown}: no task binary named `{}` in the workspace (task `{}`)", task.image, task.name);
            };
            packages.insert(package.clone());
        }
        if !images.contains(&task.image) {
            images.push(task.image.clone());
        }
    }
    if images.is_empty() {
        bail!("error: {shown}: no tasks to start");
    }
    let compiled = if to_compile.is_empty() { None } else { Some(crate::driver_build::compile(&to_compile, false)?) };
    let mut cmd = cargo_command(&root);
    cmd.args(["build", "--release", "--features", RT_FEATURE]).arg("--target-dir").arg(&target);
    for p in &packages {
        cmd.args(["-p", p]);
    }
    let out = cmd.stdin(Stdio::null()).output().context("cannot run `cargo build` for Fiasco.OC")?;
    if !out.status.success() {
        let command = format!(
            "cargo build --release --features {RT_FEATURE} -p {}",
            packages.iter().cloned().collect::<Vec<_>>().join(" -p ")
        );
        bail!("{}", build_failure(&String::from_utf8_lossy(&out.stderr), &command));
    }
    let release = target.join("release");
    let driver_images = match compiled {
        Some(c) => {
            crate::driver_build::link_all_against(c, false, &target.join(crate::driver_build::SHIM_LIB), &|d| {
                release.join(crate::drivers::image_name(&d.name))
            })?
        }
        None => Default::default(),
    };
    let binaries: Vec<(String, PathBuf)> = images
        .iter()
        .map(|bin| {
            let by_task = system.tasks.iter().find(|t| &t.image == bin).and_then(|t| t.driver.clone());
            let path = by_task.and_then(|d| driver_images.get(&d).cloned()).unwrap_or_else(|| release.join(bin));
            (bin.clone(), path)
        })
        .collect();
    for (bin, path) in &binaries {
        if !path.is_file() {
            bail!("cargo built `{bin}` for Fiasco.OC but it is not at {}", path.display());
        }
    }
    let pci: BTreeMap<String, Vec<String>> = system
        .tasks
        .iter()
        .filter_map(|t| Some((t.name.clone(), task_drivers.get(t.driver.as_ref()?)?.manifest.pci_ids.clone())))
        .collect();
    let dir = target.join(&system.name);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Each driver's firmware files, one archive per driver, by task.
    let mut firmware_of: BTreeMap<String, String> = BTreeMap::new();
    let mut firmware = Vec::new();
    for task in &system.tasks {
        let Some(d) = task.driver.as_ref().and_then(|d| task_drivers.get(d)) else { continue };
        let Some(tar) = crate::drivers::firmware_archive(d)? else { continue };
        let module = firmware_module(&d.name);
        let path = dir.join(&module);
        if !firmware.contains(&path) {
            fs::write(&path, tar).with_context(|| format!("cannot write {}", path.display()))?;
            firmware.push(path);
        }
        firmware_of.insert(task.name.clone(), module);
    }
    let ned_script = dir.join(format!("{}.cfg", system.name));
    fs::write(&ned_script, ned_script_text(&system, &shown, &pci, &firmware_of)?)
        .with_context(|| format!("cannot write {}", ned_script.display()))?;
    let io_config = match io_config_text(&system, &shown, &pci)? {
        Some(text) => {
            let path = dir.join(format!("{}.io", system.name));
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    Ok(FiascoImage { system, manifest_path: manifest_path.to_path_buf(), ned_script, io_config, binaries, firmware })
}

/// The boot module (and `rom` name) of a driver's firmware archive.
pub fn firmware_module(driver: &str) -> String {
    format!("fw-{driver}.tar")
}

/// The failed Fiasco build in a few lines: the crates that did not compile
/// and the parts of `rt` they use that Fiasco.OC's platform layer lacks (the
/// usual reason), else cargo's own errors.
pub fn build_failure(stderr: &str, command: &str) -> String {
    let between = |l: &str, a: &str, b: &str| -> Option<String> {
        let rest = &l[l.find(a)? + a.len()..];
        Some(rest[..rest.find(b)?].to_string())
    };
    let mut crates = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for l in stderr.lines() {
        if let Some(c) = between(l, "could not compile `", "`") {
            crates.insert(c);
        }
        if l.starts_with("error[E0432]") || l.starts_with("error[E0433]") {
            for item in l.split('`').skip(1).step_by(2).filter(|i| i.starts_with("rt::")) {
                missing.insert(item.to_string());
            }
        }
        let not_found = ["error[E0425]", "error[E0412]", "error[E0599]"].iter().any(|c| l.starts_with(c));
        if not_found
            && let (Some(item), Some(module)) = (between(l, "`", "`"), between(l, "in module `", "`"))
            && module.starts_with("rt")
        {
            missing.insert(format!("{module}::{item}"));
        }
    }
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    if !missing.is_empty() {
        return format!(
            "error: building for Fiasco.OC failed: {} use{} parts of rt that Fiasco.OC's platform layer does not have yet: {} \
             (see doc/fiasco.md; `{command}` shows the compiler's messages)",
            join(&crates),
            if crates.len() == 1 { "s" } else { "" },
            join(&missing)
        );
    }
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    format!("{}\nerror: building for Fiasco.OC failed: `{command}` failed", errors.join("\n"))
}

/// A Lua string literal.
fn lua_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\{}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Longest capability name L4Re's environment carries (`l4re_env_cap_entry_t`).
pub const CAP_NAME_MAX: usize = 16;

/// Label of the gate through which client number `client` reaches a server's
/// `endpoint`-th endpoint: the same as Resurgo's init gives it
/// (`boot::gate_label`), so a server tells its callers apart alike.
pub fn gate_label(endpoint: usize, client: usize) -> u64 {
    ((client as u64 + 1) << 8) | (endpoint as u64 + 1)
}

/// The clients of `io.pci`, in manifest order, with their vbus's name in
/// io's configuration (a Lua identifier).
fn vbus_clients(system: &manifest::System) -> Vec<(&str, String)> {
    system
        .tasks
        .iter()
        .filter(|t| t.uses.iter().any(|(s, e)| s == IO_TASK && e == "pci"))
        .map(|t| (t.name.as_str(), t.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")))
        .collect()
}

/// A PCI id `vvvv:dddd` as io's compatible id (`PCI/VEN_VVVV&DEV_DDDD`) and
/// as the number `rt::device` matches (`0xvvvvdddd`).
fn pci_id(id: &str) -> Option<(String, u32)> {
    let (v, d) = id.split_once(':')?;
    let (v, d) = (u16::from_str_radix(v, 16).ok()?, u16::from_str_radix(d, 16).ok()?);
    Some((format!("PCI/VEN_{v:04X}&DEV_{d:04X}"), (v as u32) << 16 | d as u32))
}

/// io's configuration: one vbus per client of `io.pci`, named after it,
/// holding exactly the PCI devices its driver's ids match (least privilege:
/// a driver sees its own card and nothing else). `None` without clients.
pub fn io_config_text(
    system: &manifest::System,
    manifest_shown: &str,
    pci: &BTreeMap<String, Vec<String>>,
) -> Result<Option<String>> {
    let clients = vbus_clients(system);
    if clients.is_empty() {
        return Ok(None);
    }
    let mut s = format!(
        "-- io configuration for Resurgo's system `{}`, written by `resurgo build --kernel fiasco` from {manifest_shown}.\n\
         local hw = Io.system_bus()\n\nIo.add_vbusses\n{{\n",
        system.name
    );
    for (task, bus) in &clients {
        let ids = pci.get(*task).map(Vec::as_slice).unwrap_or_default();
        if ids.is_empty() {
            bail!("error: {manifest_shown}: task `{task}` uses `io.pci` but runs no legacy driver with PCI ids");
        }
        let mut cids = Vec::new();
        for id in ids {
            let (cid, _) = pci_id(id)
                .ok_or_else(|| anyhow!("error: task `{task}`: the PCI id `{id}` is not `vvvv:dddd` in hex"))?;
            cids.push(lua_str(&cid));
        }
        s.push_str(&format!(
            "  {bus} = Io.Vi.System_bus(function ()\n    PCI = Io.Vi.PCI_bus(function ()\n      dev = wrap(hw:match({}));\n    end)\n  end),\n",
            cids.join(", ")
        ));
    }
    s.push_str("}\n");
    Ok(Some(s))
}

/// What ned hands a task: its capabilities (name, Lua value) and arguments.
type TaskStart = (Vec<(String, String)>, Vec<String>);

/// The image of the data store.
pub const DATASTORE_IMAGE: &str = "datastore";

/// What the data store learns on Fiasco.OC from the boot archive on
/// Resurgo's kernel: each task's `reads`, one argument `reads@TASK=NS,...`
/// per task that reads another's namespace.
pub fn reads_args(system: &manifest::System) -> Vec<String> {
    system
        .tasks
        .iter()
        .filter(|t| !t.reads.is_empty())
        .map(|t| format!("reads@{}={}", t.name, t.reads.join(",")))
        .collect()
}

/// io's endpoint through which a supervisor stops a dead driver's device
/// from mastering the bus.
pub const IO_ADMIN: &str = "admin";

/// The endpoint of the reincarnation server's operator verbs.
pub const SVC_ENDPOINT: &str = "svc";

/// The rights of a client's gate to `endpoint`: `rw` for `svc`, whose
/// replies carry no capabilities (and whose server keeps a receive slot
/// armed for its children's `Rm::attach`, into which a client with S could
/// put capabilities); `rws` otherwise, as netd's, the store's and io's
/// protocols move capabilities both ways.
fn client_rights(endpoint: &str) -> &'static str {
    if endpoint == SVC_ENDPOINT { "rw" } else { "rws" }
}

/// The `svc` grants of `client` as the arguments its server reads: one
/// `svc.CLASS@CLIENT=TARGET,...` per class of verbs the manifest grants it
/// (`*` for all supervised tasks). A client without any is known by its
/// gate's label alone and may only list.
pub fn svc_grant_args(system: &manifest::System, client: &str) -> Vec<String> {
    let Some(task) = system.tasks.iter().find(|t| t.name == client) else { return Vec::new() };
    manifest::SvcRight::ALL
        .iter()
        .filter(|r| !task.svc.targets(**r).is_empty())
        .map(|r| format!("svc.{}@{client}={}", r.name(), task.svc.targets(*r).join(",")))
        .collect()
}

/// ned's script for the system: one ned channel (an IPC gate) per client and
/// endpoint, as Resurgo's init makes one gate per client and endpoint; then
/// one L4Re application per task that starts at boot, in manifest order,
/// logging under its name, with exactly the gates its manifest entry grants
/// (a client's as `SERVER.ENDPOINT`, with `rw` for `svc` and `rws` for the
/// rest: Fiasco transfers the
/// capabilities of a server's reply (netd's rings, IRQs and stream
/// dataspaces) only through a gate with the S right; no server here gives
/// its clients receive slots, so a client's own send of a capability
/// fails. A server's as `gate.LABEL`, which its
/// runtime binds), and its heap size and values as `NAME=NUMBER` arguments
/// (read by `rt::env::value`); a `svc` server also gets each client's
/// grants ([`svc_grant_args`]). With clients of `io.pci`, L4Re's io starts
/// first with one vbus channel per client, which the client gets as `vbus`,
/// and the PCI ids of its driver as `pci.N` values.
/// `firmware` maps a driver task to the `rom` module of its firmware archive.
pub fn ned_script_text(
    system: &manifest::System,
    manifest_shown: &str,
    pci: &BTreeMap<String, Vec<String>>,
    firmware: &BTreeMap<String, String>,
) -> Result<String> {
    let mut s = format!(
        "-- ned script for Resurgo's system `{}`, written by `resurgo build --kernel fiasco` from {manifest_shown}.\n\
         local L4 = require(\"L4\");\nlocal l = L4.default_loader;\n",
        system.name
    );
    let vbuses = vbus_clients(system);
    for (i, _) in vbuses.iter().enumerate() {
        s.push_str(&format!("local vbus{i} = l:new_channel();\n"));
    }
    // (channel number, server, endpoint, client, label)
    let mut links: Vec<(usize, &str, &str, &str, u64)> = Vec::new();
    for (ci, client) in system.tasks.iter().enumerate() {
        for (server, ep) in &client.uses {
            // A driver's vbus comes from io's configuration; `io.admin` is
            // the reincarnation server's `io-admin=1` (it holds each child's
            // vbus and switches a dead child's bus mastering off through it).
            if server == IO_TASK && (ep == "pci" || ep == IO_ADMIN) {
                continue;
            }
            let Some(ei) =
                system.tasks.iter().find(|t| &t.name == server).and_then(|t| t.serves.iter().position(|e| e == ep))
            else {
                bail!("error: {manifest_shown}: task `{}` uses `{server}.{ep}`, which no task serves", client.name);
            };
            let n = links.len();
            links.push((n, server, ep, &client.name, gate_label(ei, ci)));
            s.push_str(&format!("local g{n} = l:new_channel();\n"));
        }
    }
    if !vbuses.is_empty() {
        let mut caps: Vec<String> =
            vbuses.iter().enumerate().map(|(i, (_, bus))| format!("{bus} = vbus{i}:svr()")).collect();
        caps.extend(["icu = L4.Env.icu", "sigma0 = L4.Env.sigma0", "iommu = L4.Env.iommu"].map(String::from));
        s.push_str(&format!(
            "l:start({{ caps = {{ {} }}, log = {{ \"io\" }} }}, \"rom/io rom/{}.io\");\n",
            caps.join(", "),
            system.name
        ));
    }
    // Each task's capabilities (name, Lua value) and arguments.
    let mut entries: BTreeMap<&str, TaskStart> = BTreeMap::new();
    // A supervised child's index among its parent's children.
    let child_index = |name: &str| -> Option<(&str, usize)> {
        let task = system.tasks.iter().find(|t| t.name == name)?;
        let parent = task.parent.as_deref()?;
        let i = system.tasks.iter().filter(|t| t.parent.as_deref() == Some(parent)).position(|t| t.name == name)?;
        Some((parent, i))
    };
    for task in system.tasks.iter().filter(|t| t.name != IO_TASK) {
        let mut caps = Vec::new();
        let mut args = Vec::new();
        if task.heap > 0 {
            args.push(format!("heap.size={}", task.heap));
        }
        // ned starts every first thread at L4Re's default priority; rt moves
        // a task with another priority to its own (a supervised child gets
        // its priority from its parent, below). A driver ned starts stays at
        // the default: DDEKit's threads, its interrupt threads among them,
        // run at the default on Fiasco.OC, and a first thread above them
        // kept virtio-net's interrupts waiting (no DHCP lease within 3 s in
        // three boots of four).
        if task.parent.is_none() && task.driver.is_none() && task.priority != manifest::defaults::PRIORITY {
            args.push(format!("priority={}", task.priority));
        }
        for (name, value) in &task.values {
            args.push(format!("{name}={value}"));
        }
        // Every task learns the system-wide settings, as from Resurgo's
        // loader (netd and the drivers act on the restart mode).
        for (name, value) in manifest::settings::Settings::of(system).values() {
            args.push(format!("{name}={value}"));
        }
        if task.image == DATASTORE_IMAGE {
            args.extend(reads_args(system));
        }
        // `debug = true`: the reincarnation server may patch its children's
        // text (`svc poke`) through its own mapping of their images.
        if task.debug {
            args.push("debug=1".to_string());
        }
        if task.uses.iter().any(|(s, e)| s == IO_TASK && e == IO_ADMIN) {
            args.push("io-admin=1".to_string());
        }
        if is_console(task) {
            caps.push(("console".to_string(), "L4.Env.log".to_string()));
        }
        // The driver's firmware files, read-only from moe's `rom` (through
        // the reincarnation server for a supervised driver, to every instance).
        if let Some(module) = firmware.get(&task.name) {
            caps.push(("firmware".to_string(), format!("L4.Env.rom:q({})()", lua_str(module))));
        }
        // `kernel = true`: Fiasco.OC has no statistics to give; the task
        // learns of the grant and says so (httpd's status page).
        if task.kernel {
            args.push("kernel=1".to_string());
        }
        // As from Resurgo's init: a `svc` client learns whether it may do
        // more than list (httpd offers its write verbs only then).
        if task.svc.any() {
            args.push("svc-operator=1".to_string());
        }
        for (i, (client, _)) in vbuses.iter().enumerate() {
            if *client == task.name {
                // io's DMA-domain assignment takes a capability (the task's
                // Dma_space) through the vbus: `s`.
                caps.push(("vbus".to_string(), format!("vbus{i}:m(\"rws\")")));
                for (n, id) in pci.get(&task.name).into_iter().flatten().enumerate() {
                    if let Some((_, number)) = pci_id(id) {
                        args.push(format!("pci.{n}={number:#x}"));
                    }
                }
            }
        }
        for &(n, server, ep, client, label) in &links {
            if server == task.name {
                caps.push((format!("gate.{label:x}"), format!("g{n}:svr()")));
                args.push(format!("{ep}@{client}={label}"));
                if ep == SVC_ENDPOINT {
                    args.extend(svc_grant_args(system, client));
                }
            }
            if client == task.name {
                // A supervisor's gate to its child's endpoint is named by the
                // child's index (names are at most 16 bytes).
                // A name longer than L4Re's 16 bytes is the endpoint's alone
                // when the task uses no other server's endpoint of that name
                // (`reincarnation.svc` is `svc`).
                let name = match child_index(server) {
                    Some((parent, i)) if parent == task.name => format!("{i}.{ep}"),
                    _ if server.len() + 1 + ep.len() > CAP_NAME_MAX
                        && task.uses.iter().filter(|(_, e)| e == ep).count() == 1 =>
                    {
                        ep.to_string()
                    }
                    _ => format!("{server}.{ep}"),
                };
                caps.push((name, format!("g{n}:m({})", lua_str(client_rights(ep)))));
            }
        }
        entries.insert(&task.name, (caps, args));
    }
    // A supervised child's capabilities and arguments go to its parent,
    // which starts it: `N:NAME` and `N/KEY=VALUE`, with its image and a log.
    for task in system.tasks.iter().filter(|t| t.parent.is_some()) {
        let Some((parent, i)) = child_index(&task.name) else { continue };
        let (caps, args) = entries.remove(task.name.as_str()).unwrap_or_default();
        let Some((pcaps, pargs)) = entries.get_mut(parent) else { continue };
        pargs.push(format!("child.{i}={}", task.name));
        pargs.push(format!("{i}/priority={}", task.priority));
        pargs.push(format!("{i}/memory={}", task.memory));
        pargs.push(format!("{i}/threads={}", task.threads));
        pargs.extend(args.iter().map(|a| format!("{i}/{a}")));
        pcaps.push((format!("{i}.image"), format!("L4.Env.rom:q({})()", lua_str(&task.image))));
        pcaps.push((format!("{i}.log"), format!("l.log_fab:create(L4.Proto.Log, {})", lua_str(&task.name))));
        // A name that `N:` makes too long for L4Re goes as `N:~K`, with
        // the real name in the argument `N~K=NAME` (`0:datastore.store`).
        for (k, (n, v)) in caps.into_iter().enumerate() {
            let full = format!("{i}:{n}");
            if full.len() <= CAP_NAME_MAX {
                pcaps.push((full, v));
            } else {
                pcaps.push((format!("{i}:~{k}"), v));
                pargs.push(format!("{i}~{k}={n}"));
            }
        }
    }
    for task in system.tasks.iter().filter(|t| t.start && t.name != IO_TASK && t.parent.is_none()) {
        let Some((caps, args)) = entries.get(task.name.as_str()) else { continue };
        let mut cmdline = format!("rom/{}", task.image);
        for a in args {
            cmdline.push(' ');
            cmdline.push_str(a);
        }
        if let Some((name, _)) = caps.iter().find(|(name, _)| name.len() > CAP_NAME_MAX) {
            bail!(
                "error: {manifest_shown}: task `{}`: the capability name `{name}` is longer than the {CAP_NAME_MAX} bytes L4Re's environment carries",
                task.name
            );
        }
        let caps: Vec<String> = caps.iter().map(|(name, v)| format!("[{}] = {v}", lua_str(name))).collect();
        let caps = if caps.is_empty() { String::new() } else { format!("caps = {{ {} }}, ", caps.join(", ")) };
        let own = own_objects(system, task);
        s.push_str(&format!("l:start({{ {caps}{own}log = {{ {} }} }}, {});\n", lua_str(&task.name), lua_str(&cmdline)));
    }
    Ok(s)
}

/// The factory, memory allocator and scheduler ned hands `task` (Lua table
/// fields, each followed by a comma): its own, bounded by its manifest's
/// `threads`, `memory` and priority, in place of ned's, which are the
/// kernel's root factory, moe's root allocator (which makes schedulers of
/// any range) and ned's scheduler, so that no task can take the kernel's
/// memory, moe's, or the CPU at a priority above its own. A supervisor
/// keeps ned's: it makes the same three for each child it starts, and
/// only moe's root allocator makes schedulers.
fn own_objects(system: &manifest::System, task: &manifest::Task) -> String {
    if system.tasks.iter().any(|t| t.parent.as_deref() == Some(task.name.as_str())) {
        return String::new();
    }
    use l4_sys::fiasco::limits::{kernel_quota, priority_level};
    format!(
        "factory = L4.Env.factory:create(L4.Proto.Factory, {}):m(\"rws\"), \
         mem = L4.Env.user_factory:create(L4.Proto.Factory, {}):m(\"rws\"), \
         scheduler = L4.Env.user_factory:create(L4.Proto.Scheduler, {}, 0):m(\"rws\"), ",
        kernel_quota(task.threads, task.memory),
        task.memory.max(1),
        priority_level(task.priority)
    )
}

/// QEMU's multiboot module list: Fiasco (with its command line), sigma0, moe
/// (told the ned script), `l4re_itas`, ned, the script, the tasks. Each module
/// is `rom/<file name>` in moe's namespace.
pub fn modules(l4re: &L4re, image: &FiascoImage) -> Result<String> {
    let script = image.ned_script.file_name().and_then(|n| n.to_str()).unwrap_or("system.cfg").to_string();
    let mut mods = vec![
        format!("{} -serial_esc", l4re.bin("fiasco").display()),
        l4re.bin("sigma0").display().to_string(),
        format!("{} rom/{script}", l4re.bin("moe").display()),
        l4re.bin("l4re").display().to_string(),
        l4re.bin("ned").display().to_string(),
        image.ned_script.display().to_string(),
    ];
    if let Some(io) = &image.io_config {
        let bin = l4re.bin("io");
        if !bin.is_file() {
            bail!(
                "error: {L4RE_ENV}={} lacks bin/io, which a system with drivers needs (L4Re's io)",
                l4re.root.display()
            );
        }
        mods.push(bin.display().to_string());
        mods.push(io.display().to_string());
    }
    mods.extend(image.binaries.iter().map(|(_, p)| p.display().to_string()));
    mods.extend(image.firmware.iter().map(|p| p.display().to_string()));
    if let Some(m) = mods.iter().find(|m| m.contains(',')) {
        bail!("error: the boot module path `{m}` has a comma, which QEMU's module list cannot carry");
    }
    Ok(mods.join(","))
}

/// The configuration Fiasco.OC boots with: `cfg` on the `pc` machine, which
/// its L4Re io setup was written for (Resurgo's IOMMU work, doc/iommu.md, is
/// its own kernel's; Fiasco.OC here runs without one).
fn fiasco_config(cfg: &QemuConfig) -> QemuConfig {
    QemuConfig { machine: Machine::Pc, ..cfg.clone() }
}

/// QEMU's arguments for the image: Resurgo's usual machine ([`crate::qemu::qemu_args`])
/// on `pc`, with bootstrap as the multiboot kernel and the modules as its initrd.
pub fn qemu_args(l4re: &L4re, image: &FiascoImage, cfg: &QemuConfig, serial: &str) -> Result<Vec<OsString>> {
    let mods = modules(l4re, image)?;
    let mut args = crate::qemu::qemu_args(&l4re.bin("bootstrap"), Path::new(&mods), &fiasco_config(cfg), serial);
    args.push("-append".into());
    args.push("".into());
    Ok(args)
}

/// Boots the image and collects its console (as [`Guest::boot`] does for
/// Resurgo's kernel).
pub fn boot(l4re: &L4re, image: &FiascoImage, cfg: &QemuConfig) -> Result<Guest> {
    boot_mapped(l4re, image, cfg, None)
}

fn boot_mapped(l4re: &L4re, image: &FiascoImage, cfg: &QemuConfig, map: Option<crate::qemu::LineMap>) -> Result<Guest> {
    let mods = modules(l4re, image)?;
    let (bootstrap, cfg) = (l4re.bin("bootstrap"), fiasco_config(cfg));
    Guest::boot_kernel_mapped(&image.system.name, &bootstrap, Path::new(&mods), Some(""), &cfg, map)
}

/// `resurgo up --kernel fiasco`: boots with the serial console on this
/// terminal (Ctrl-A X quits), or streamed with `headless`.
pub fn run(l4re: &L4re, image: &FiascoImage, cfg: &QemuConfig, headless: bool) -> Result<i32> {
    let qemu = crate::qemu::ensure_qemu()?;
    let serial = if headless { "stdio" } else { "mon:stdio" };
    let args = qemu_args(l4re, image, cfg, serial)?;
    if headless {
        eprintln!("Booting {} on Fiasco.OC in QEMU (headless).", image.system.name);
    } else {
        println!("Booting {} on Fiasco.OC in QEMU; press Ctrl-A then X to quit.", image.system.name);
    }
    let mut cmd = Command::new(&qemu);
    cmd.args(args);
    if headless {
        cmd.stdin(Stdio::null());
    }
    let mut child = crate::children::spawn(&mut cmd).with_context(|| format!("cannot start {}", qemu.display()))?;
    let status = child.wait().with_context(|| format!("waiting for {}", qemu.display()));
    crate::children::forget(child.id());
    Ok(status?.code().unwrap_or(1))
}

/// Guest instructions per IPC round trip of seam-ping and seam-pong (one
/// word each way, across address spaces), on one kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcFigures {
    pub min: u64,
    pub mean: u64,
    pub rounds: u64,
}

/// `resurgo bench ipc --kernel fiasco`: the same task pair on both kernels.
#[derive(Debug, Clone, Copy)]
pub struct IpcBench {
    pub fiasco: IpcFigures,
    pub resurgo: IpcFigures,
}

/// The figures of a `TEST seam.xipc ok ...` line.
pub fn parse_xipc(line: &str) -> Option<IpcFigures> {
    let line = plain(line);
    let rest = &line[line.find("TEST seam.xipc ok ")? + 18..];
    let field =
        |key: &str| rest.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse::<u64>().ok());
    Some(IpcFigures { min: field("min")?, mean: field("cycles_per_round_trip")?, rounds: field("rounds")? })
}

/// How long one kernel's run of the pair may take under `-icount`.
const BENCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

fn measure(guest: &Guest) -> Result<IpcFigures> {
    let line = guest.wait_for(|l| l.contains("TEST seam.xipc") || l.contains("FATAL"), BENCH_TIMEOUT)?;
    parse_xipc(&line).ok_or_else(|| anyhow!("the IPC pair failed: {}\n{}", plain(&line), guest.tail(20)))
}

/// Boots `system/fiasco.toml` under `-icount shift=0` (the TSC counts guest
/// instructions) on Fiasco.OC and on Resurgo's kernel, both on the `pc`
/// machine, and reads seam-ping's figures from each.
pub fn bench_ipc(l4re: &L4re, progress: bool) -> Result<IpcBench> {
    let manifest = workspace_root().join(DEFAULT_MANIFEST);
    let cfg = QemuConfig { icount: true, machine: Machine::Pc, ..QemuConfig::default() };
    let image = build(&manifest)?;
    let fiasco = measure(&boot(l4re, &image, &cfg)?)?;
    let resurgo_image = crate::image::build(&crate::image::BuildOptions { manifest, progress })?;
    let resurgo = measure(&Guest::boot(&resurgo_image, &cfg)?)?;
    Ok(IpcBench { fiasco, resurgo })
}

impl IpcBench {
    pub fn table(&self) -> String {
        let mut s = String::from(
            "IPC round trip, seam-ping -> seam-pong (another address space, one word each way), guest instructions\n",
        );
        s.push_str(&format!("{:<16} {:>8} {:>8} {:>8}\n", "kernel", "min", "mean", "rounds"));
        for (name, f) in [("Fiasco.OC", self.fiasco), ("Resurgo", self.resurgo)] {
            s.push_str(&format!("{name:<16} {:>8} {:>8} {:>8}\n", f.min, f.mean, f.rounds));
        }
        s
    }

    pub fn json(&self) -> String {
        serde_json::json!({
            "fiasco_ipc_roundtrip_instructions": self.fiasco.min,
            "fiasco_ipc_roundtrip_mean": self.fiasco.mean,
            "resurgo_ipc_roundtrip_instructions": self.resurgo.min,
            "resurgo_ipc_roundtrip_mean": self.resurgo.mean,
            "ipc_roundtrips": self.fiasco.rounds,
        })
        .to_string()
    }
}

/// Whether a console line says that Fiasco.OC itself went down: its panic
/// (`Panic: ...`, then `Return reboots`) or an entry into its kernel
/// debugger, JDB (`... entered JDB`), which stops every task.
pub fn kernel_down(line: &str) -> bool {
    let line = plain(line);
    let line = line.trim_start();
    line.starts_with("Panic: ") || line.starts_with("Return reboots") || line.contains(" entered JDB")
}

/// A console line without the colour escapes ned's log server adds.
pub fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The width of the task's name ned's log server prints before each line.
const LOG_TAG: usize = 8;

/// A console line of Fiasco.OC's in the format of Resurgo's kernel: ned's
/// log server prints `TAG     | text` (`TAG     : text` for more of a line
/// written in pieces), TAG the task's name cut to [`LOG_TAG`] bytes, in
/// colour; Resurgo's kernel prints `[task] text`. A line of one of `tasks`
/// comes back as `[task] text` (when two names cut alike, the first of them
/// in `prefer`, else the tag as it stands); any other line without colour.
pub fn resurgo_style(line: &str, tasks: &[String], prefer: &[String]) -> String {
    let line = plain(line);
    let (Some(tag), Some(sep), Some(text)) =
        (line.get(..LOG_TAG), line.get(LOG_TAG..LOG_TAG + 2), line.get(LOG_TAG + 2..))
    else {
        return line;
    };
    let tag = tag.trim_end();
    if (sep != "| " && sep != ": ") || tag.is_empty() {
        return line;
    }
    let cut = |name: &String| name.get(..LOG_TAG).unwrap_or(name) == tag;
    let candidates: Vec<&String> = tasks.iter().filter(|t| cut(t)).collect();
    let task = match candidates[..] {
        [] => return line,
        [one] => one.as_str(),
        _ => prefer.iter().find(|p| candidates.contains(p)).map_or(tag, String::as_str),
    };
    format!("[{task}] {text}")
}

/// [`boot`], with the console in the format of Resurgo's kernel
/// ([`resurgo_style`]), so that what reads Resurgo's console reads this one.
pub fn boot_resurgo_style(l4re: &L4re, image: &FiascoImage, cfg: &QemuConfig, prefer: &[String]) -> Result<Guest> {
    let tasks: Vec<String> = image.system.tasks.iter().map(|t| t.name.clone()).collect();
    let prefer = prefer.to_vec();
    let map: crate::qemu::LineMap = std::sync::Arc::new(move |line: String| resurgo_style(&line, &tasks, &prefer));
    boot_mapped(l4re, image, cfg, Some(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_panic_and_debugger_entry_are_seen() {
        assert!(kernel_down("\u{1b}[1mPanic: lock held\u{1b}[m"));
        assert!(kernel_down("Return reboots, \"k\" enters L4 kernel debugger..."));
        assert!(kernel_down("CPU0 entered JDB"));
        assert!(!kernel_down("[netd] panic: out of memory"));
        assert!(!kernel_down("KERNEL: Warning: nothing mapped"));
    }

    #[test]
    fn fiasco_lines_read_like_resurgos() {
        let tasks: Vec<String> = ["netd", "reincarnation", "eth-e1000", "eth-e1000e"].map(String::from).to_vec();
        let prefer = vec!["eth-e1000e".to_string()];
        let r = |l: &str| resurgo_style(l, &tasks, &prefer);
        assert_eq!(r("\u{1b}[37mnetd    | eth0 up 10.0.2.15/24\u{1b}[0m"), "[netd] eth0 up 10.0.2.15/24");
        assert_eq!(r("reincarn| WARN eth-8139cp failed: killed"), "[reincarnation] WARN eth-8139cp failed: killed");
        assert_eq!(r("reincarn: more of it"), "[reincarnation] more of it");
        // Two names cut alike: the preferred one.
        assert_eq!(r("eth-e100| probe"), "[eth-e1000e] probe");
        assert_eq!(resurgo_style("eth-e100| probe", &tasks, &[]), "[eth-e100] probe");
        // Not a task's line: as it was, without colour.
        assert_eq!(r("\u{1b}[31mKERNEL\u{1b}[m: Warning: x"), "KERNEL: Warning: x");
        assert_eq!(r("io      | ready"), "io      | ready");
        assert_eq!(r("short"), "short");
        assert_eq!(r("ééééé| x"), "ééééé| x");
    }

    fn fake_build(dir: &Path, skip: &[&str], bad: &[&str]) {
        fs::create_dir_all(dir.join("bin")).unwrap();
        for b in L4RE_BINARIES {
            if skip.contains(&b) {
                continue;
            }
            let data: &[u8] = if bad.contains(&b) { b"#!/bin/sh\n" } else { b"\x7fELF\x02\x01\x01" };
            fs::write(dir.join(b), data).unwrap();
        }
    }

    #[test]
    fn a_broken_l4re_build_is_one_clear_line() {
        let base = std::env::temp_dir().join(format!("resurgo-l4re-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let e = L4re::at(&base.join("nowhere")).unwrap_err().to_string();
        assert!(e.contains("is not a folder: expected a Fiasco.OC + L4Re build"), "{e}");
        assert_eq!(e.lines().count(), 1);

        let partial = base.join("partial");
        fake_build(&partial, &["bin/ned", "bin/moe"], &[]);
        let e = L4re::at(&partial).unwrap_err().to_string();
        assert!(e.contains("lacks bin/moe, bin/ned: expected"), "{e}");
        assert_eq!(e.lines().count(), 1);

        let broken = base.join("broken");
        fake_build(&broken, &[], &["bin/fiasco"]);
        let e = L4re::at(&broken).unwrap_err().to_string();
        assert!(e.contains("bin/fiasco is not an ELF executable"), "{e}");

        let good = base.join("good");
        fake_build(&good, &[], &[]);
        assert!(L4re::at(&good).is_ok());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn debug_becomes_a_value_in_neds_script() {
        let text = "[system]\nname = \"s\"\n[tasks.one]\nimage = \"seam-test\"\ndebug = true\n\
                    [tasks.two]\nimage = \"seam-test\"\nparent = \"one\"\nstart = false\n";
        let system = manifest::load(text).unwrap();
        let lua = ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap();
        assert!(lua.contains("\"rom/seam-test heap.size=262144 restart-mode=0 debug=1 child.0=two "), "{lua}");
        assert_eq!(lua.matches("debug=1").count(), 1, "{lua}");
    }

    #[test]
    fn the_default_system_is_not_refused() {
        let text = fs::read_to_string(workspace_root().join("system/default.toml")).unwrap();
        let system = manifest::load(&text).unwrap();
        assert_eq!(fiasco_refusal(&system, "system/default.toml"), None);
    }

    /// The script without the factory, allocator and scheduler each task
    /// gets of its own (checked by `the_reincarnation_server_gets_its_childrens_capabilities`).
    fn without_own(lua: &str) -> String {
        let mut out = String::new();
        for line in lua.lines() {
            let mut line = line.to_string();
            if let Some(a) = line.find("factory = L4.Env.factory:create(") {
                let tail = "0):m(\"rws\"), ";
                let b = line[a..].find("scheduler = ").map(|k| a + k).unwrap();
                let end = b + line[b..].find(tail).unwrap() + tail.len();
                line.replace_range(a..end, "");
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// COM1 is the console, the kernel's log object; other ports and lines
    /// have no place on Fiasco.OC and are refused in one line.
    #[test]
    fn com1_is_the_console_and_other_ports_are_refused() {
        let shell = "[system]\nname = \"s\"\n[tasks.sh]\nimage = \"seam-test\"\n\
                     ports = [{ base = 0x3f8, count = 8 }]\nirqs = [4]\n";
        let system = manifest::load(shell).unwrap();
        assert_eq!(fiasco_refusal(&system, "s.toml"), None);
        let lua = without_own(&ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap());
        assert!(lua.contains("l:start({ caps = { [\"console\"] = L4.Env.log }, log = { \"sh\" } }"), "{lua}");
        for (grant, what) in [
            ("ports = [{ base = 0x2f8, count = 8 }]", "the ports at 0x2f8"),
            ("irqs = [3]", "interrupt line 3"),
            ("irqs = [4]", "interrupt line 4"),
        ] {
            let text = format!("[system]\nname = \"s\"\n[tasks.t]\nimage = \"seam-test\"\n{grant}\n");
            let system = manifest::load(&text).unwrap();
            let line = fiasco_refusal(&system, "s.toml").expect("refused");
            assert!(line.contains(&format!("task `t` is granted {what};")), "{line}");
        }
    }

    /// io.admin is the reincarnation server's: it becomes `io-admin=1`, no
    /// gate; any other task using it is refused in one line.
    #[test]
    fn io_admin_is_the_supervisors_argument_and_nobody_elses() {
        let base = "[system]\nname = \"s\"\n[tasks.io]\nserves = [\"pci\", \"admin\"]\n\
                    [tasks.reincarnation]\nuses = [\"io.admin\"]\n\
                    [tasks.drv]\nimage = \"seam-test\"\nparent = \"reincarnation\"\nstart = false\nuses = [\"io.pci\"]\n";
        let system = manifest::load(base).unwrap();
        assert_eq!(fiasco_refusal(&system, "s.toml"), None);
        let pci = BTreeMap::from([("drv".to_string(), vec!["10ec:8139".to_string()])]);
        let lua = ned_script_text(&system, "s.toml", &pci, &BTreeMap::new()).unwrap();
        assert!(lua.contains(" io-admin=1 "), "{lua}");
        assert!(!lua.contains("local g0"), "io.admin is no gate: {lua}");

        let other = format!("{base}[tasks.spy]\nimage = \"seam-test\"\nuses = [\"io.admin\"]\n");
        let system = manifest::load(&other).unwrap();
        let line = fiasco_refusal(&system, "s.toml").expect("refused");
        assert!(line.contains("task `spy` uses `io.admin`"), "{line}");
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn ned_script_starts_each_task_with_its_arguments() {
        let text = "[system]\nname = \"s\"\n[tasks.one]\nimage = \"seam-test\"\nheap = \"1M\"\n\
                    [tasks.two]\nimage = \"seam-test\"\nvalues = { answer = 42 }\n";
        let system = manifest::load(text).unwrap();
        let lua = without_own(&ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap());
        assert!(
            lua.contains("l:start({ log = { \"one\" } }, \"rom/seam-test heap.size=1048576 restart-mode=0\");"),
            "{lua}"
        );
        assert!(lua.contains("l:start({ log = { \"two\" } }, \"rom/seam-test"), "{lua}");
        assert!(lua.contains(" answer=42 restart-mode=0\");"), "{lua}");
        assert_eq!(lua_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn manifest_gates_become_ned_channels() {
        let text = "[system]\nname = \"s\"\n[tasks.pong]\nserves = [\"main\"]\n[tasks.ping]\nuses = [\"pong.main\"]\n\
                    [tasks.other]\n";
        let system = manifest::load(text).unwrap();
        let lua = without_own(&ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap());
        assert!(lua.contains("local g0 = l:new_channel();"), "{lua}");
        // ping is task 2 in start order (servers first), pong's `main` endpoint 0:
        // label 0x301, as Resurgo's init gives it.
        assert!(
            lua.contains("l:start({ caps = { [\"gate.301\"] = g0:svr() }, log = { \"pong\" } }, \"rom/pong"),
            "{lua}"
        );
        assert!(lua.contains("main@ping=769\");"), "{lua}");
        assert!(lua.contains("l:start({ caps = { [\"pong.main\"] = g0:m(\"rws\") }, log = { \"ping\" } }"), "{lua}");
        assert!(lua.contains("l:start({ log = { \"other\" } }"), "{lua}");
        let long = "[system]\nname = \"s\"\n[tasks.a-very-long-server]\nserves = [\"main\"]\n\
                    [tasks.c]\nuses = [\"a-very-long-server.main\"]\n";
        // A name too long for L4Re is the endpoint's alone when that is unique
        // among the client's uses ...
        let lua = without_own(
            &ned_script_text(&manifest::load(long).unwrap(), "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap(),
        );
        assert!(lua.contains("l:start({ caps = { [\"main\"] = g0:m(\"rws\") }, log = { \"c\" } }"), "{lua}");
        // ... and an error when it is not.
        let long = "[system]\nname = \"s\"\n[tasks.a-very-long-server]\nserves = [\"main\"]\n\
                    [tasks.b]\nserves = [\"main\"]\n\
                    [tasks.c]\nuses = [\"a-very-long-server.main\", \"b.main\"]\n";
        let e = ned_script_text(&manifest::load(long).unwrap(), "s.toml", &BTreeMap::new(), &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("longer than the 16 bytes"), "{e}");
    }

    #[test]
    fn a_driver_gets_its_firmware_archive_from_rom_through_its_parent() {
        let text = "[system]\nname = \"f\"\n[tasks.reincarnation]\n\
                    [tasks.eth-fw]\ndriver = \"devresdemo\"\nparent = \"reincarnation\"\nstart = false\n\
                    [tasks.eth-top]\ndriver = \"devresdemo\"\n[tasks.other]\n";
        let system = manifest::load(text).unwrap();
        let module = firmware_module("devresdemo");
        assert_eq!(module, "fw-devresdemo.tar");
        let fw = BTreeMap::from([("eth-fw".to_string(), module.clone()), ("eth-top".to_string(), module)]);
        let lua = without_own(&ned_script_text(&system, "f.toml", &BTreeMap::new(), &fw).unwrap());
        // The supervised driver's through the reincarnation server (child 0) ...
        assert!(lua.contains("[\"0:firmware\"] = L4.Env.rom:q(\"fw-devresdemo.tar\")()"), "{lua}");
        // ... a driver ned starts itself gets it directly, and no other task does.
        assert!(
            lua.contains(
                "l:start({ caps = { [\"firmware\"] = L4.Env.rom:q(\"fw-devresdemo.tar\")() }, log = { \"eth-top\" } }"
            ),
            "{lua}"
        );
        assert_eq!(lua.matches("firmware").count(), 2, "{lua}");
    }

    #[test]
    fn a_driver_gets_a_vbus_with_only_its_own_devices() {
        let text = "[system]\nname = \"n\"\n[tasks.io]\nserves = [\"pci\"]\n[tasks.netd]\nserves = [\"nic\", \"sockets\"]\n\
                    [tasks.eth-8139cp]\ndriver = \"8139cp\"\nuses = [\"io.pci\", \"netd.nic\"]\n\
                    [tasks.echo]\nuses = [\"netd.sockets\"]\n";
        let system = manifest::load(text).unwrap();
        let pci = BTreeMap::from([("eth-8139cp".to_string(), vec!["10ec:8139".to_string(), "0357:000a".to_string()])]);
        let io = io_config_text(&system, "n.toml", &pci).unwrap().unwrap();
        assert!(io.contains("eth_8139cp = Io.Vi.System_bus(function ()"), "{io}");
        assert!(io.contains("dev = wrap(hw:match(\"PCI/VEN_10EC&DEV_8139\", \"PCI/VEN_0357&DEV_000A\"));"), "{io}");
        let lua = ned_script_text(&system, "n.toml", &pci, &BTreeMap::new()).unwrap();
        assert!(lua.contains("local vbus0 = l:new_channel();"), "{lua}");
        assert!(lua.contains("l:start({ caps = { eth_8139cp = vbus0:svr(), icu = L4.Env.icu"), "{lua}");
        assert!(lua.contains("\"rom/io rom/n.io\");"), "{lua}");
        // The driver: its vbus (S: it hands io its Dma_space), netd's nic
        // gate (S: netd's reply carries the rings and IRQs), and its ids.
        assert!(lua.contains("[\"vbus\"] = vbus0:m(\"rws\")"), "{lua}");
        assert!(lua.contains("[\"netd.nic\"] = g") && !lua.contains("m(\"rw\")"), "{lua}");
        assert!(lua.contains(" pci.0=0x10ec8139 pci.1=0x357000a\");"), "{lua}");
        assert!(!lua.contains("rom/io \"") && !lua.contains("rom/io heap"), "io is L4Re's: {lua}");
        let none = manifest::load("[system]\nname = \"s\"\n[tasks.a]\n").unwrap();
        assert_eq!(io_config_text(&none, "s.toml", &BTreeMap::new()).unwrap(), None);
    }

    #[test]
    fn only_the_reincarnation_server_starts_tasks() {
        let text = "[system]\nname = \"s\"\n[tasks.reincarnation]\n[tasks.eth]\nparent = \"reincarnation\"\n";
        assert!(fiasco_refusal(&manifest::load(text).unwrap(), "s.toml").is_none());
        let text = "[system]\nname = \"s\"\n[tasks.a]\n[tasks.eth]\nparent = \"a\"\n";
        let e = fiasco_refusal(&manifest::load(text).unwrap(), "s.toml").unwrap();
        assert!(
            e.contains("task `eth` has the parent `a`; on Fiasco.OC only the reincarnation server starts tasks"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
        let text = "[system]\nname = \"s\"\n[tasks.datastore]\nserves = [\"store\"]\n";
        assert!(fiasco_refusal(&manifest::load(text).unwrap(), "s.toml").is_none(), "the data store runs");
        assert!(fiasco_refusal(&manifest::load("[system]\nname = \"s\"\n[tasks.a]\n").unwrap(), "s.toml").is_none());
    }

    #[test]
    fn the_reincarnation_server_gets_its_childrens_capabilities() {
        let text = "[system]\nname = \"s\"\n[tasks.netd]\nserves = [\"nic\"]\n\
                    [tasks.reincarnation]\nserves = [\"svc\"]\nuses = [\"eth.control\"]\npriority = 200\n\
                    [tasks.eth]\nparent = \"reincarnation\"\nstart = false\nuses = [\"netd.nic\"]\nserves = [\"control\"]\n\
                    heap = \"1M\"\npriority = 120\nvalues = { heartbeat-ms = 1000 }\n";
        let system = manifest::load(text).unwrap();
        let script = ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap();
        let rs = script.lines().find(|l| l.contains("rom/reincarnation")).unwrap();
        for want in [
            "[\"0.control\"] = g",
            "[\"0.image\"] = L4.Env.rom:q(\"eth\")()",
            "[\"0.log\"] = l.log_fab:create(L4.Proto.Log, \"eth\")",
            "[\"0:netd.nic\"] = g",
            "[\"0:gate.",
            "child.0=eth",
            "0/priority=120",
            "0/memory=4194304",
            "0/threads=",
            "0/heap.size=1048576",
            "0/heartbeat-ms=1000",
            "0/control@reincarnation=",
        ] {
            assert!(rs.contains(want), "`{want}` not in {rs}");
        }
        assert!(!script.contains("rom/eth"), "ned does not start the supervised driver:\n{script}");
        // ned starts the server at L4Re's default; it takes its own priority,
        // above its children's, and netd, at the default, gets no argument.
        assert!(rs.contains(" priority=200"), "{rs}");
        let netd = script.lines().find(|l| l.contains("rom/netd")).unwrap();
        assert!(!netd.contains("priority="), "{netd}");
        // netd gets a factory, an allocator and a scheduler of its own, from
        // its manifest (the defaults: 8 threads, 4 MiB, priority 100); the
        // server keeps ned's, from which it makes its children's.
        let kernel = l4_sys::fiasco::limits::kernel_quota(8, 4 << 20);
        for want in [
            format!("factory = L4.Env.factory:create(L4.Proto.Factory, {kernel}):m(\"rws\"), "),
            "mem = L4.Env.user_factory:create(L4.Proto.Factory, 4194304):m(\"rws\"), ".to_string(),
            "scheduler = L4.Env.user_factory:create(L4.Proto.Scheduler, 2, 0):m(\"rws\"), ".to_string(),
        ] {
            assert!(netd.contains(&want), "`{want}` not in {netd}");
        }
        assert!(!rs.contains("factory =") && !rs.contains("scheduler ="), "{rs}");
    }

    #[test]
    fn a_driver_ned_starts_stays_at_the_default_priority() {
        let text = "[system]\nname = \"p\"\n[tasks.store]\npriority = 140\n\
                    [tasks.eth-top]\ndriver = \"devresdemo\"\npriority = 120\n";
        let system = manifest::load(text).unwrap();
        let script = ned_script_text(&system, "p.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap();
        let store = script.lines().find(|l| l.contains("\"rom/store")).unwrap();
        assert!(store.contains(" priority=140"), "{store}");
        // DDEKit's threads run at the default on Fiasco.OC: its first thread
        // is not raised above them.
        let driver = script.lines().find(|l| l.contains("log = { \"eth-top\" }")).unwrap();
        assert!(!driver.contains("priority="), "{driver}");
    }

    #[test]
    fn svc_clients_get_their_grants_and_no_s_right() {
        let text = "[system]\nname = \"s\"\n[tasks.reincarnation]\nserves = [\"svc\"]\n\
                    [tasks.eth]\nparent = \"reincarnation\"\nstart = false\n\
                    [tasks.ops]\nuses = [\"reincarnation.svc\"]\nsvc = { kill = [\"eth\"], inject = [\"*\"] }\n\
                    [tasks.ro]\nuses = [\"reincarnation.svc\"]\n";
        let system = manifest::load(text).unwrap();
        let script = without_own(&ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap());
        let rs = script.lines().find(|l| l.contains("rom/reincarnation")).unwrap();
        assert!(rs.contains(" svc.kill@ops=eth svc.inject@ops=*"), "{rs}");
        assert!(!rs.contains("svc.restart@") && !rs.contains("@ro=eth"), "{rs}");
        assert!(rs.contains(" svc@ro="), "ro is known by its gate: {rs}");
        for client in ["ops", "ro"] {
            let l = script.lines().find(|l| l.contains(&format!("log = {{ \"{client}\" }}"))).unwrap();
            assert!(l.contains("[\"reincarnation.svc\"] = g") || l.contains("[\"svc\"] = g"), "{l}");
            assert!(l.contains(":m(\"rw\")") && !l.contains("rws"), "no S on a svc gate: {l}");
        }
        assert!(svc_grant_args(&system, "ro").is_empty());
    }

    #[test]
    fn the_data_store_learns_the_reads_and_every_task_the_restart_mode() {
        let text = "[system]\nname = \"s\"\nrestart = \"minix\"\n\
                    [tasks.datastore]\nserves = [\"store\"]\n\
                    [tasks.netd]\nuses = [\"datastore.store\"]\nreads = [\"eth\", \"other\"]\n\
                    [tasks.reincarnation]\n\
                    [tasks.eth]\nparent = \"reincarnation\"\nstart = false\nuses = [\"datastore.store\"]\n\
                    [tasks.other]\n";
        let system = manifest::load(text).unwrap();
        let script = ned_script_text(&system, "s.toml", &BTreeMap::new(), &BTreeMap::new()).unwrap();
        let ds = script.lines().find(|l| l.contains("rom/datastore")).unwrap();
        assert!(ds.contains(" reads@netd=eth,other"), "{ds}");
        assert!(!ds.contains("reads@eth"), "{ds}");
        for task in ["datastore", "netd", "other"] {
            let l = script.lines().find(|l| l.contains(&format!("\"rom/{task}"))).unwrap();
            assert!(l.contains(" restart-mode=1"), "{l}");
        }
        let rs = script.lines().find(|l| l.contains("rom/reincarnation")).unwrap();
        assert!(rs.contains(" 0/restart-mode=1"), "the child learns it through its parent: {rs}");
        // `0:datastore.store` is longer than L4Re's 16 bytes: an alias and
        // the real name as an argument.
        assert!(rs.contains("[\"0:~0\"] = g") && rs.contains(" 0~0=datastore.store"), "{rs}");
        assert!(rs.contains(":m(\"rws\")"), "the store's clients send capabilities: {rs}");
    }

    #[test]
    fn xipc_lines_are_read_on_both_consoles() {
        let f = IpcFigures { min: 1200, mean: 1300, rounds: 10000 };
        let fiasco = "\u{1b}[37mseam-pin| TEST seam.xipc ok rounds=10000 cycles_per_round_trip=1300 min=1200\u{1b}[0m";
        assert_eq!(parse_xipc(fiasco), Some(f));
        assert_eq!(
            parse_xipc("[seam-ping] TEST seam.xipc ok rounds=10000 cycles_per_round_trip=1300 min=1200"),
            Some(f)
        );
        assert_eq!(parse_xipc("[seam-ping] TEST seam.xipc FAIL round=3 error=\"timeout\""), None);
    }

    #[test]
    fn a_task_that_needs_resurgo_only_parts_of_rt_is_named_with_them() {
        let stderr = "   Compiling boot v0.1.0\n\
            error[E0432]: unresolved imports `rt::loader`, `rt::loader`\n\
            error[E0432]: unresolved import `rt::obj::IoPorts`\n\
            error[E0425]: cannot find function `page` in module `rt::env`\n\
            error: could not compile `boot` (lib) due to 4 previous errors\n";
        let e = build_failure(stderr, "cargo build -p selftest");
        assert_eq!(
            e,
            "error: building for Fiasco.OC failed: boot uses parts of rt that Fiasco.OC's platform layer does not have \
             yet: rt::env::page, rt::loader, rt::obj::IoPorts (see doc/fiasco.md; `cargo build -p selftest` shows the \
             compiler's messages)"
        );
        let other = build_failure("error: linker `cc` not found\n", "cargo build");
        assert!(other.starts_with("error: linker `cc` not found\n"), "{other}");
    }

    #[test]
    fn colour_escapes_are_removed() {
        assert_eq!(plain("\u{1b}[32mseam-tes| TEST seam done\u{1b}[0m"), "seam-tes| TEST seam done");
        assert_eq!(plain("plain"), "plain");
    }
}

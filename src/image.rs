//! Building a bootable image from a manifest: the kernel ELF, and a ustar boot
//! archive with the manifest and every task binary it names.
//!
//! The bare-metal crates are built by a nested `cargo build --release` with its
//! own target directory (`target/image`), so that this works from inside
//! `cargo test` and `cargo run` without waiting on the outer build's lock.

use crate::host::DirLock;
use crate::{display_path, driver_build, drivers, load_manifest, workspace_root};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The binaries every image has besides its tasks.
pub const KERNEL_BIN: &str = "kernel";
pub const INIT_BIN: &str = "init";
/// The manifest's name inside the boot archive.
pub const ARCHIVE_MANIFEST: &str = "manifest.toml";
/// The folder of the drivers' manifests inside the boot archive (`drivers/NAME.toml`).
pub const ARCHIVE_DRIVERS: &str = "drivers";

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The boot manifest (`system/*.toml`).
    pub manifest: PathBuf,
    /// Show a spinner with the crates being compiled (on stderr, when it is a terminal).
    pub progress: bool,
}

/// A copy of a manifest with `[system] restart` set to `mode` (and the system
/// renamed `NAME-MODE`), written under target/image/manifests/; build it like
/// any manifest. This is the command line's switch between transparent and
/// MINIX-style restarts.
pub fn with_restart_mode(manifest: &Path, mode: manifest::RestartMode) -> Result<PathBuf> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let dir = target_dir().join("manifests");
    std::fs::create_dir_all(&dir)?;
    let stem = manifest.file_stem().and_then(|s| s.to_str()).unwrap_or("system");
    let out = dir.join(format!("{stem}-{}.toml", mode.name()));
    std::fs::write(&out, manifest::with_restart_mode(&text, mode))?;
    Ok(out)
}

/// A built image, ready for [`crate::qemu`].
#[derive(Debug, Clone)]
pub struct Image {
    /// The kernel ELF, booted with QEMU's `-kernel` (`target/image/release/kernel`).
    pub kernel: PathBuf,
    /// The boot archive, passed as `-initrd` (`target/image/<system>/boot.tar`).
    pub archive: PathBuf,
    /// The validated manifest.
    pub system: manifest::System,
    pub manifest_path: PathBuf,
    /// Every binary built for the image by name (the kernel, init and each task
    /// image), with its path.
    pub binaries: BTreeMap<String, PathBuf>,
}

/// The target directory of the nested build: `target/image` in the workspace.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("image")
}

/// Builds the image the manifest describes. Serialized across threads and
/// processes by a lock on `target/image/.build-lock`.
pub fn build(opts: &BuildOptions) -> Result<Image> {
    let root = workspace_root();
    let target = target_dir();
    let _lock = DirLock::acquire(&BUILD_LOCK, &target, ".build-lock")?;

    let (text, system) = load_manifest(&opts.manifest)?;
    check_system_name(&opts.manifest, &system.name)?;
    crate::deps::ensure(crate::deps::BUILD)?;

    let wanted = needed_binaries(&system);
    let providers = workspace_binaries(&root)?;
    let task_drivers = task_drivers(&opts.manifest, &text, &system)?;
    let driver_images = driver_images(&system, &wanted, &providers, &task_drivers);
    let missing: Vec<String> = wanted
        .iter()
        .filter(|bin| !providers.contains_key(*bin) && !driver_images.contains_key(*bin))
        .map(|bin| missing_binary_line(&opts.manifest, &text, &system, bin))
        .collect();
    if !missing.is_empty() {
        bail!("{}", missing.join("\n"));
    }
    let mut packages: BTreeSet<&str> = wanted.iter().filter_map(|bin| providers.get(bin)).map(String::as_str).collect();
    if !driver_images.is_empty() {
        packages.insert(driver_build::SHIM_PACKAGE);
    }

    // Legacy drivers compile against Linux's configured headers alone (which
    // this configures, for the shim's build too): a compile error shows
    // before the long cargo build, and they link after it.
    let compiled = if driver_images.is_empty() {
        None
    } else {
        let mut to_build: Vec<&drivers::Driver> = Vec::new();
        for name in driver_images.values() {
            if !to_build.iter().any(|d| &d.name == name) {
                to_build.push(&task_drivers[name]);
            }
        }
        Some(driver_build::compile(&to_build, opts.progress)?)
    };
    let built = cargo_build(&root, &target, &packages, opts.progress)?;
    let mut binaries = BTreeMap::new();
    if let Some(compiled) = compiled {
        let images = driver_build::link_all(compiled)?;
        for (bin, name) in &driver_images {
            binaries.insert(bin.clone(), images[name].clone());
        }
    }
    for bin in wanted.iter().filter(|bin| !driver_images.contains_key(*bin)) {
        let path = built.get(bin).cloned().unwrap_or_else(|| target.join("release").join(bin));
        if !path.is_file() {
            bail!("cargo built package `{}` but its binary `{bin}` is not at {}", providers[bin], path.display());
        }
        binaries.insert(bin.clone(), path);
    }

    let archive = target.join(&system.name).join("boot.tar");
    let members: Vec<(&str, &Path)> = wanted
        .iter()
        .filter(|bin| bin.as_str() != KERNEL_BIN)
        .map(|bin| (bin.as_str(), binaries[bin].as_path()))
        .collect();
    // The io server matches devices to drivers with their manifests; the
    // reincarnation server hands each driver its firmware files.
    let mut files: Vec<(String, Vec<u8>)> = task_drivers
        .values()
        .map(|d| (format!("{ARCHIVE_DRIVERS}/{}.toml", d.name), d.text.clone().into_bytes()))
        .collect();
    for d in task_drivers.values() {
        if let Some(tar) = drivers::firmware_archive(d)? {
            files.push((manifest::driver::firmware_member(&d.name), tar));
        }
    }
    write_archive_with_files(&archive, &text, &members, &files)?;

    Ok(Image { kernel: binaries[KERNEL_BIN].clone(), archive, system, manifest_path: opts.manifest.clone(), binaries })
}

/// The binaries an image needs, each once, in order: the kernel, init, then each
/// task's image in start order.
pub fn needed_binaries(system: &manifest::System) -> Vec<String> {
    let mut out = vec![KERNEL_BIN.to_string(), INIT_BIN.to_string()];
    for task in &system.tasks {
        if !out.contains(&task.image) {
            out.push(task.image.clone());
        }
    }
    out
}

/// The legacy drivers the system's tasks run (`driver = "NAME"`), by name. A
/// driver without a manifest is an error pointing at the task's `driver` field.
pub fn task_drivers(path: &Path, text: &str, system: &manifest::System) -> Result<BTreeMap<String, drivers::Driver>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for task in &system.tasks {
        let Some(name) = &task.driver else { continue };
        if out.contains_key(name) {
            continue;
        }
        let dir = drivers::drivers_dir().join(name);
        if !dir.join(drivers::MANIFEST_FILE).is_file() {
            let (line, col) = manifest::line_col(text, task_driver_offset(text, &task.name));
            errors.push(format!(
                "error: {}:{line}:{col}: no legacy driver `{name}`: {}/{name}/{} does not exist (task `{}`)",
                display_path(path, &workspace_root()),
                drivers::DRIVERS_DIR,
                drivers::MANIFEST_FILE,
                task.name
            ));
            continue;
        }
        match drivers::Driver::load(&dir) {
            Ok(d) => {
                out.insert(name.clone(), d);
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(out)
}

/// The images no cargo binary provides that are legacy drivers' (`drv-NAME`,
/// or any image of a task with `driver = "NAME"`): image → driver name.
fn driver_images(
    system: &manifest::System,
    wanted: &[String],
    providers: &BTreeMap<String, String>,
    task_drivers: &BTreeMap<String, drivers::Driver>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for bin in wanted.iter().filter(|bin| !providers.contains_key(*bin)) {
        let by_task = system.tasks.iter().find(|t| &t.image == bin).and_then(|t| t.driver.clone());
        let by_name = bin.strip_prefix(drivers::IMAGE_PREFIX).map(String::from);
        if let Some(name) = by_task.or(by_name).filter(|n| task_drivers.contains_key(n)) {
            out.insert(bin.clone(), name);
        }
    }
    out
}

/// Byte offset of a task's `driver` value, else of its `[tasks.NAME]` header.
fn task_driver_offset(text: &str, task: &str) -> usize {
    let Ok(parsed) = toml::from_str::<manifest::Manifest>(text) else {
        return 0;
    };
    let Some(decl) = parsed.tasks.get(task) else {
        return 0;
    };
    if let Some(driver) = &decl.get_ref().driver {
        return driver.span().start;
    }
    text.find(&format!("[tasks.{task}]")).unwrap_or(decl.span().start)
}

/// Builds the shim library alone (for `resurgo driver build`), under the build lock.
pub fn build_shim(progress: bool) -> Result<PathBuf> {
    let root = workspace_root();
    let target = target_dir();
    let _lock = DirLock::acquire(&BUILD_LOCK, &target, ".build-lock")?;
    crate::deps::ensure(crate::deps::BUILD)?;
    driver_build::prepare_shim_headers(progress)?;
    cargo_build(&root, &target, &BTreeSet::from([driver_build::SHIM_PACKAGE]), progress)?;
    Ok(target.join(driver_build::SHIM_LIB))
}

/// Runs `f` under the image build's lock (threads and processes).
pub fn with_build_lock<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _lock = DirLock::acquire(&BUILD_LOCK, &target_dir(), ".build-lock")?;
    f()
}

/// The system name becomes a folder under `target/image`: keep it a plain name.
fn check_system_name(path: &Path, name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        bail!(
            "error: {}: the system name `{name}` must be letters, digits, `-`, `_` or `.` (it names the image's folder)",
            display_path(path, &workspace_root())
        );
    }
    Ok(())
}

/// The error line for a binary no workspace package provides, pointing at the
/// task's `image` field (or the task, when the image is its name).
fn missing_binary_line(path: &Path, text: &str, system: &manifest::System, bin: &str) -> String {
    let shown = display_path(path, &workspace_root());
    let Some(task) = system.tasks.iter().find(|t| t.image == bin) else {
        return format!("error: {shown}: no binary named `{bin}` in the workspace");
    };
    let (line, col) = manifest::line_col(text, task_image_offset(text, &task.name));
    format!("error: {shown}:{line}:{col}: no task binary named `{bin}` in the workspace (task `{}`)", task.name)
}

/// Byte offset of a task's `image` value, else of its `[tasks.NAME]` header,
/// else of its declaration.
fn task_image_offset(text: &str, task: &str) -> usize {
    let Ok(parsed) = toml::from_str::<manifest::Manifest>(text) else {
        return 0;
    };
    let Some(decl) = parsed.tasks.get(task) else {
        return 0;
    };
    if let Some(image) = &decl.get_ref().image {
        return image.span().start;
    }
    let header = format!("[tasks.{task}]");
    text.find(&header).unwrap_or(decl.span().start)
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

/// Every binary target of the workspace's members, by name, with the package
/// that provides it. The host tool's own package is left out.
pub fn workspace_binaries(root: &Path) -> Result<BTreeMap<String, String>> {
    let out = cargo_command(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::piped())
        .output()
        .context("cannot run `cargo metadata`")?;
    if !out.status.success() {
        bail!("`cargo metadata` failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout).context("cannot parse `cargo metadata` output")?;
    let host_manifest = root.join("Cargo.toml");
    let mut bins = BTreeMap::new();
    for package in meta.packages {
        if package.manifest_path == host_manifest {
            continue;
        }
        for target in package.targets {
            if target.kind.iter().any(|k| k == "bin")
                && let Some(other) = bins.insert(target.name.clone(), package.name.clone())
            {
                bail!(
                    "two workspace packages, `{other}` and `{}`, have a binary named `{}`",
                    package.name,
                    target.name
                );
            }
        }
    }
    Ok(bins)
}

/// Environment variables an outer cargo (`cargo run`, `cargo test`, a build
/// script) sets that must not reach the nested build.
const LEAKED_VARS: &[&str] = &[
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_TARGET_TMPDIR",
    "OUT_DIR",
];

/// Prefixes of variables an outer cargo sets per package or per target.
const LEAKED_PREFIXES: &[&str] =
    &["__CARGO", "CARGO_PKG_", "CARGO_CFG_", "CARGO_FEATURE_", "CARGO_BIN_EXE_", "CARGO_TARGET_", "DEP_"];

/// A `cargo` command (the `CARGO` the outer cargo names, else `cargo` on PATH)
/// run at the workspace root with the outer cargo's variables removed.
pub fn cargo_command(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if LEAKED_VARS.contains(&key) || LEAKED_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[derive(Deserialize)]
struct BuildMessage {
    reason: String,
    #[serde(default)]
    target: Option<ArtifactTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    name: String,
    kind: Vec<String>,
}

/// Builds the packages in release mode into `target`; returns each binary's path.
fn cargo_build(
    root: &Path,
    target: &Path,
    packages: &BTreeSet<&str>,
    progress: bool,
) -> Result<BTreeMap<String, PathBuf>> {
    let mut cmd = cargo_command(root);
    cmd.args(["build", "--release", "--message-format=json-render-diagnostics"]).arg("--target-dir").arg(target);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The kernel's binary exists only with this feature, so that host builds of
    // the workspace (`cargo build`, `cargo test`) never link it against std.
    if packages.contains(KERNEL_BIN) {
        cmd.args(["--features", "kernel/image"]);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());

    let names: Vec<&str> = packages.iter().copied().collect();
    let bar = if progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} building the image: {pos} crates {wide_msg}")
                .expect("progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    bar.set_message(format!("({})", names.join(", ")));

    let mut child = cmd.spawn().context("cannot run `cargo build` for the image")?;
    let stderr = child.stderr.take().expect("piped stderr");
    let stderr_bar = bar.clone();
    let stderr_thread = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("Compiling ") {
                let krate = rest.split_whitespace().next().unwrap_or(rest);
                stderr_bar.set_message(format!("compiling {krate}"));
                continue;
            }
            if ["Finished ", "Fresh ", "Blocking ", "Locking ", "Updating ", "Downloaded "]
                .iter()
                .any(|p| trimmed.starts_with(p))
            {
                continue;
            }
            kept.push(line);
        }
        kept
    });

    let mut executables = BTreeMap::new();
    let mut finished_ok = None;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading `cargo build` output")?;
        let Ok(msg) = serde_json::from_str::<BuildMessage>(&line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                bar.inc(1);
                if let (Some(t), Some(exe)) = (msg.target, msg.executable)
                    && t.kind.iter().any(|k| k == "bin")
                {
                    executables.insert(t.name, exe);
                }
            }
            "build-finished" => finished_ok = msg.success,
            _ => {}
        }
    }
    let status = child.wait().context("waiting for `cargo build`")?;
    let diagnostics = stderr_thread.join().unwrap_or_default();
    bar.finish_and_clear();

    if !status.success() || finished_ok == Some(false) {
        for line in &diagnostics {
            eprintln!("{line}");
        }
        bail!(
            "building the image failed: `cargo build --release -p {}` exited with {status} (its messages are above)",
            names.join(" -p ")
        );
    }
    let warnings = warning_count(&diagnostics);
    if warnings > 0 && progress {
        // Cargo replays cached warnings on every build: one line, not pages.
        eprintln!(
            "note: the image's crates have {warnings} compiler warning{}; `cargo build --release -p {}` shows them",
            if warnings == 1 { "" } else { "s" },
            names.join(" -p ")
        );
    }
    Ok(executables)
}

/// The warnings in cargo's summary lines (`warning: `x` (lib) generated 3 warnings`).
fn warning_count(stderr: &[String]) -> usize {
    stderr
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("warning: `")?;
            let n = rest.split(" generated ").nth(1)?;
            n.split_whitespace().next()?.parse::<usize>().ok()
        })
        .sum()
}

/// Writes a ustar archive: the manifest text as `manifest.toml`, then each
/// binary under its name. Deterministic: zero times and ids, fixed modes.
/// Written to a temporary file and renamed, so a reader never sees half of it.
pub fn write_archive(path: &Path, manifest_text: &str, binaries: &[(&str, &Path)]) -> Result<()> {
    write_archive_with_files(path, manifest_text, binaries, &[])
}

/// [`write_archive`], then `files` (name, contents) after the binaries.
pub fn write_archive_with_files(
    path: &Path,
    manifest_text: &str,
    binaries: &[(&str, &Path)],
    files: &[(String, Vec<u8>)],
) -> Result<()> {
    let dir = path.parent().ok_or_else(|| anyhow!("no folder for {}", path.display()))?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("tar.tmp");
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    builder.mode(tar::HeaderMode::Deterministic);
    append(&mut builder, ARCHIVE_MANIFEST, manifest_text.as_bytes(), 0o644)?;
    for (name, bin) in binaries {
        let data = fs::read(bin).with_context(|| format!("cannot read {}", bin.display()))?;
        append(&mut builder, name, &data, 0o755)?;
    }
    for (name, data) in files {
        append(&mut builder, name, data, 0o644)?;
    }
    let mut out = builder.into_inner().context("finishing the boot archive")?;
    out.flush()?;
    drop(out);
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn append<W: Write>(builder: &mut tar::Builder<W>, name: &str, data: &[u8], mode: u32) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    builder.append_data(&mut header, name, data).with_context(|| format!("cannot add `{name}` to the boot archive"))
}

/// Keeps the threads of this process out of the image build one at a time.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    fn system(text: &str) -> manifest::System {
        manifest::load(text).unwrap()
    }

    #[test]
    fn needed_binaries_are_kernel_init_then_each_image_once() {
        let s = system("[system]\nname = \"s\"\n[tasks.a]\nimage = \"echo\"\n[tasks.b]\nimage = \"echo\"\n[tasks.c]\n");
        let bins = needed_binaries(&s);
        assert_eq!(&bins[..2], ["kernel", "init"]);
        assert_eq!(bins.iter().filter(|b| *b == "echo").count(), 1);
        assert!(bins.contains(&"c".to_string()));
        assert_eq!(bins.len(), 4);
    }

    #[test]
    fn missing_binary_points_at_the_image_field() {
        let text = "[system]\nname = \"s\"\n\n[tasks.a]\nimage = \"nope\"\n";
        let s = system(text);
        let line = missing_binary_line(&workspace_root().join("system/s.toml"), text, &s, "nope");
        assert_eq!(line, "error: system/s.toml:5:9: no task binary named `nope` in the workspace (task `a`)");
    }

    #[test]
    fn missing_binary_without_image_field_points_at_the_task() {
        let text = "[system]\nname = \"s\"\n\n[tasks.ghost]\npriority = 10\n";
        let s = system(text);
        let line = missing_binary_line(&workspace_root().join("system/s.toml"), text, &s, "ghost");
        assert_eq!(line, "error: system/s.toml:4:1: no task binary named `ghost` in the workspace (task `ghost`)");
    }

    #[test]
    fn a_driver_task_names_an_existing_driver() {
        let text = "[system]\nname = \"s\"\n\n[tasks.eth0]\ndriver = \"nosuch\"\n\n[tasks.eth1]\ndriver = \"8139cp\"\n";
        let s = system(text);
        let e = task_drivers(&workspace_root().join("system/s.toml"), text, &s).unwrap_err().to_string();
        assert_eq!(
            e,
            "error: system/s.toml:5:10: no legacy driver `nosuch`: drivers-legacy/nosuch/driver.toml does not exist (task `eth0`)"
        );
        let text = "[system]\nname = \"s\"\n[tasks.eth0]\ndriver = \"8139cp\"\n[tasks.eth1]\ndriver = \"e1000\"\nimage = \"nic\"\n";
        let s = system(text);
        let drivers = task_drivers(Path::new("s.toml"), text, &s).unwrap();
        assert_eq!(drivers.keys().collect::<Vec<_>>(), ["8139cp", "e1000"]);
        let wanted = needed_binaries(&s);
        let images = driver_images(&s, &wanted, &BTreeMap::new(), &drivers);
        assert_eq!(images, BTreeMap::from([("drv-8139cp".into(), "8139cp".into()), ("nic".into(), "e1000".into())]));
        // A cargo binary of that name wins.
        let providers = BTreeMap::from([("nic".to_string(), "some-package".to_string())]);
        assert!(!driver_images(&s, &wanted, &providers, &drivers).contains_key("nic"));
    }

    #[test]
    fn warnings_are_counted_from_cargo_summaries() {
        let lines: Vec<String> = [
            "warning: function `f` is never used",
            "warning: `rt` (lib) generated 1 warning",
            "warning: `kernel` (bin \"kernel\") generated 12 warnings (run `cargo fix` to apply 1 suggestion)",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(warning_count(&lines), 13);
        assert_eq!(warning_count(&[]), 0);
    }

    #[test]
    fn system_names_must_be_plain() {
        let p = Path::new("system/x.toml");
        assert!(check_system_name(p, "rtc-demo_1.2").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(check_system_name(p, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn archive_is_ustar_with_manifest_first() {
        let dir = std::env::temp_dir().join(format!("resurgo-archive-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("init");
        fs::write(&bin, b"\x7fELF fake").unwrap();
        let archive = dir.join("boot.tar");
        write_archive(&archive, "[system]\nname = \"t\"\n", &[("init", bin.as_path())]).unwrap();
        let bytes = fs::read(&archive).unwrap();
        // ustar magic at offset 257 of the first header.
        assert_eq!(&bytes[257..263], b"ustar\0");
        let mut ar = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(names, ["manifest.toml", "init"]);
        // Deterministic: the same inputs give the same bytes.
        write_archive(&archive, "[system]\nname = \"t\"\n", &[("init", bin.as_path())]).unwrap();
        assert_eq!(fs::read(&archive).unwrap(), bytes);
        fs::remove_dir_all(&dir).unwrap();
    }
}

//! Debian's apt, as the host tool uses it: installing the system packages a
//! command needs, downloading pinned packages, and refreshing stale package
//! lists first. What apt printed is read by small pure functions (tested on
//! outputs recorded from real apt runs in `src/testdata/apt/`); everything
//! that runs apt holds one lock, so test threads and parallel commands never
//! meet at dpkg's lock.
//!
//! Only root installs and refreshes; anyone else gets one line naming the
//! exact command to run.

use crate::host::{DirLock, find_on_path, running_as_root};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use std::fs;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Where apt keeps its package lists.
pub const LISTS_DIR: &str = "/var/lib/apt/lists";

/// What apt said when a download or an install failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The package is known, the requested version is not.
    VersionGone,
    /// apt knows no such package: its lists are missing or stale.
    UnknownPackage,
    /// A file the lists name could not be fetched (the lists are older than
    /// the archive: 404), or the archive could not be reached.
    FetchFailed,
    /// Anything else.
    Other,
}

/// Reads the reason of a failed apt command from its stderr.
pub fn classify(stderr: &str) -> Failure {
    if stderr.contains("Version '") && stderr.contains("was not found") {
        Failure::VersionGone
    } else if stderr.contains("Unable to locate package") || stderr.contains("has no candidate") {
        Failure::UnknownPackage
    } else if stderr.contains("Failed to fetch") || stderr.contains("Unable to fetch") {
        Failure::FetchFailed
    } else {
        Failure::Other
    }
}

/// apt's `E:` lines, joined: what a message quotes of a failure.
pub fn error_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("E:")).collect();
    if lines.is_empty() { stderr.trim().to_string() } else { lines.join(" ") }
}

/// The candidate version in `apt-cache policy PACKAGE` output.
pub fn candidate(policy: &str) -> Option<String> {
    let v = policy.lines().find_map(|l| l.trim().strip_prefix("Candidate:"))?.trim();
    (!v.is_empty() && v != "(none)").then(|| v.to_string())
}

/// Every version in the version table of `apt-cache policy PACKAGE` output,
/// in apt's order (newest first).
pub fn versions(policy: &str) -> Vec<String> {
    let Some(table) = policy.split_once("Version table:") else { return Vec::new() };
    table
        .1
        .lines()
        .filter_map(|line| {
            let line = line.trim_start().trim_start_matches("***").trim();
            let mut words = line.split_whitespace();
            let (version, priority) = (words.next()?, words.next()?);
            // A version line is `VERSION PRIORITY`; a source line starts with its priority.
            (words.next().is_none() && priority.parse::<i32>().is_ok() && version.parse::<i32>().is_err())
                .then(|| version.to_string())
        })
        .collect()
}

/// The upstream part of a Debian version: `6.1.192` of `6.1.192-2`, without
/// an epoch.
pub fn upstream(version: &str) -> &str {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    v.rsplit_once('-').map_or(v, |(u, _)| u)
}

/// Whether apt has any package list at all (a machine whose lists were
/// deleted, as in a fresh container, has none).
pub fn lists_present() -> bool {
    fs::read_dir(LISTS_DIR)
        .map(|entries| entries.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().contains("_Packages")))
        .unwrap_or(false)
}

/// When the package lists were last refreshed (the newest list file).
pub fn lists_age() -> Option<Duration> {
    let newest = fs::read_dir(LISTS_DIR)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("_Packages"))
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()?;
    SystemTime::now().duration_since(newest).ok()
}

/// Output of an apt command run with the C locale (so messages are the ones
/// [`classify`] knows) and no input.
pub fn run(args: &[&str]) -> Result<Output> {
    Command::new(args[0])
        .args(&args[1..])
        .env("LC_ALL", "C")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", args.join(" ")))
}

/// `apt-cache policy PACKAGE`'s output (empty when apt has no lists).
pub fn policy(package: &str) -> Result<String> {
    Ok(String::from_utf8_lossy(&run(&["apt-cache", "policy", package])?.stdout).into_owned())
}

/// Keeps the threads of this process away from apt one at a time; the lock
/// file does the same across processes.
static APT_LOCK: Mutex<()> = Mutex::new(());

/// Holds the apt lock (a file in the cache root) while `f` runs.
pub fn locked<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _lock = DirLock::acquire(&APT_LOCK, &crate::linux::cache_root()?, ".apt.lock")?;
    f()
}

/// Writes a line to this process's stderr, past a test harness's capture:
/// someone waiting for `cargo test` sees why it takes longer the first time.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A spinner with a message on a terminal; a plain line otherwise.
fn progress_line(message: &str) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("progress template"));
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        say(message);
        ProgressBar::hidden()
    }
}

/// The command a user who is not root runs instead of us.
pub fn install_command(packages: &[&str]) -> String {
    format!("sudo apt-get install -y --no-install-recommends {}", packages.join(" "))
}

/// Refreshes apt's package lists (`apt-get update`), saying why. Only root
/// may; anyone else gets the line to run.
pub fn update(why: &str) -> Result<()> {
    if !running_as_root() {
        bail!("error: apt's package lists {why}: run `sudo apt-get update`, then the same command again");
    }
    let started = Instant::now();
    let bar = progress_line(&format!("apt's package lists {why}: running `apt-get update`"));
    let out = run(&["apt-get", "update", "-q"]);
    bar.finish_and_clear();
    let out = out?;
    if !out.status.success() {
        bail!(
            "error: `apt-get update` failed ({}): {}",
            out.status,
            error_lines(&String::from_utf8_lossy(&out.stderr))
        );
    }
    say(&format!("updated apt's package lists in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Installs `packages` with apt-get, which `why` needs: refreshes the lists
/// first when they are missing or do not offer one of them, and once more when
/// the install fails on a file the lists name but the archive no longer has.
/// Not as root: fails with the one command to run.
pub fn install(packages: &[&str], why: &str) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let list = packages.join(" ");
    if find_on_path("apt-get").is_none() {
        bail!("error: {why} needs {list}, and this host has no apt-get to install them with: install them yourself");
    }
    if !running_as_root() {
        bail!("error: {why} needs {list}: run `{}`", install_command(packages));
    }
    locked(|| {
        let mut updated = false;
        if !lists_present() {
            update("are missing")?;
            updated = true;
        } else {
            let offered = |p: &&str| policy(p).ok().as_deref().and_then(candidate).is_some();
            if !packages.iter().all(offered) {
                update(&format!("do not offer {list}"))?;
                updated = true;
            }
        }
        let started = Instant::now();
        loop {
            let bar = progress_line(&format!("installing {list} with apt-get (needed: {why})"));
            let mut args = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
            args.extend_from_slice(packages);
            let out = run(&args);
            bar.finish_and_clear();
            let out = out?;
            if out.status.success() {
                say(&format!("installed {list} in {:.1} s", started.elapsed().as_secs_f64()));
                return Ok(());
            }
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            match classify(&stderr) {
                Failure::FetchFailed | Failure::UnknownPackage | Failure::VersionGone if !updated => {
                    update("are older than Debian's archive")?;
                    updated = true;
                }
                _ => bail!("error: installing {list} failed ({}): {}", out.status, error_lines(&stderr)),
            }
        }
    })
}

/// Runs `apt-get download SPEC` in `dir`, showing the bytes received (a bar
/// when apt knows the package's size). Returns apt's output: the caller reads
/// a failure with [`classify`].
pub fn download(spec: &str, dir: &Path, progress: bool) -> Result<Output> {
    let size = run(&["apt-cache", "show", "--no-all-versions", spec]).ok().and_then(|out| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("Size:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
    });
    let bar = if progress && std::io::stderr().is_terminal() {
        let bar = match size {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{spinner} downloading {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("progress template"),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} downloading {msg} {bytes}").expect("progress template"),
            ),
        };
        bar.set_message(spec.replace('=', " "));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        if progress {
            let size = size.map(|n| format!(" ({})", HumanBytes(n))).unwrap_or_default();
            say(&format!("downloading {}{size} with apt-get", spec.replace('=', " ")));
        }
        ProgressBar::hidden()
    };
    if find_on_path("apt-get").is_none() {
        bail!("error: cannot download {spec}: this host has no `apt-get` (a Debian or Ubuntu host has it)");
    }
    let mut cmd = Command::new("apt-get");
    cmd.arg("download").arg("-q");
    if running_as_root() {
        // Root's apt drops to the `_apt` user, which cannot write here.
        cmd.args(["-o", "APT::Sandbox::User=root"]);
    }
    cmd.arg(spec).current_dir(dir).env("LC_ALL", "C").stdin(Stdio::null()).stdout(Stdio::null());
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot run `apt-get download`")?;
    let mut stderr = child.stderr.take().ok_or_else(|| anyhow!("apt-get's stderr is not piped"))?;
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for `apt-get download`")? {
            break status;
        }
        bar.set_position(folder_bytes(dir));
        std::thread::sleep(Duration::from_millis(100));
    };
    bar.finish_and_clear();
    let stderr = reader.join().unwrap_or_default();
    Ok(Output { status, stdout: Vec::new(), stderr })
}

/// The bytes of every file under `dir`.
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// The `.deb` in a folder, if there is one.
pub fn deb_in(dir: &Path) -> Option<std::path::PathBuf> {
    let entries = fs::read_dir(dir).ok()?;
    entries.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.extension().is_some_and(|e| e == "deb"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An apt output recorded on a Debian 12 machine (`src/testdata/apt/`).
    fn recorded(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testdata/apt").join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn failures_are_told_apart_on_recorded_outputs() {
        // Lists from May: they know the package, not the pinned version.
        assert_eq!(classify(&recorded("stale-download.stderr")), Failure::VersionGone);
        assert_eq!(classify(&recorded("gone.stderr")), Failure::VersionGone);
        // No lists at all.
        assert_eq!(classify(&recorded("nolists-download.stderr")), Failure::UnknownPackage);
        assert_eq!(classify(&recorded("unknown.stderr")), Failure::UnknownPackage);
        assert_eq!(
            classify("E: Failed to fetch http://deb.debian.org/debian/pool/main/q/x.deb  404  Not Found"),
            Failure::FetchFailed
        );
        assert_eq!(classify("E: Sub-process /usr/bin/dpkg returned an error code (1)"), Failure::Other);
        assert_eq!(error_lines(&recorded("unknown.stderr")).matches("E:").count(), 3);
    }

    #[test]
    fn candidate_and_version_table_from_recorded_policies() {
        let stale = recorded("stale-policy.txt");
        assert_eq!(candidate(&stale).as_deref(), Some("6.1.172-1"));
        assert_eq!(versions(&stale), ["6.1.172-1", "6.1.170-3", "6.1.170-2", "6.1.170-1", "6.1.164-1", "6.1.159-1"]);
        let fresh = recorded("fresh-policy.txt");
        assert_eq!(candidate(&fresh).as_deref(), Some("6.1.192-3"));
        assert_eq!(versions(&fresh)[..3], ["6.1.192-3", "6.1.192-2", "6.1.192-1"]);
        assert_eq!(candidate(""), None);
        assert!(versions("").is_empty());
        let installed = "x:\n  Installed: 1:2-1\n  Candidate: 1:2-1\n  Version table:\n *** 1:2-1 500\n        100 /var/lib/dpkg/status\n";
        assert_eq!(versions(installed), ["1:2-1"]);
    }

    #[test]
    fn upstream_drops_epoch_and_revision() {
        assert_eq!(upstream("6.1.192-2"), "6.1.192");
        assert_eq!(upstream("1:1.35.0-4+deb12u1+b1"), "1.35.0");
        assert_eq!(upstream("1.0"), "1.0");
    }

    #[test]
    fn the_install_line_names_every_package() {
        assert_eq!(
            install_command(&["clang", "libclang-dev"]),
            "sudo apt-get install -y --no-install-recommends clang libclang-dev"
        );
    }
}

//! The Linux sources that legacy drivers are compiled from: Debian's
//! `linux-source-6.1` package, pinned to one version, fetched with
//! `apt-get download`, cached outside git and checked file by file.
//!
//! Only the files the driver manifests list are extracted: the `.deb` is an ar
//! archive holding `data.tar.xz`, which holds `usr/src/linux-source-6.1.tar.xz`;
//! both are decompressed as a stream, once, and the wanted files written to
//! `${XDG_CACHE_HOME:-~/.cache}/resurgo/linux-source-6.1_<version>/` under their
//! paths in the Linux tree (`drivers/net/...`). The `.deb` is kept there only
//! until an extraction succeeded. Every file is checked against the sha256 its
//! driver manifest pins before anything compiles it.
//!
//! Fetching and extracting hold a lock (a mutex in the process, a file lock
//! across processes), so parallel builds and test threads share one download.

use crate::host::{DirLock, find_on_path, running_as_root};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The Debian package the sources come from.
pub const PACKAGE: &str = "linux-source-6.1";
/// The version the driver manifests' sha256 sums were taken from.
pub const PINNED_VERSION: &str = "6.1.192-2";
/// The Linux tarball inside the package's `data.tar.xz`.
const TARBALL: &str = "usr/src/linux-source-6.1.tar.xz";
/// The folder every path of the tarball starts with.
const TARBALL_TOP: &str = "linux-source-6.1";
/// A `.deb` to use instead of downloading one (offline machines, or hosts
/// without apt): `RESURGO_LINUX_DEB=/path/to/linux-source-6.1_6.1.192-2_all.deb`.
pub const DEB_ENV: &str = "RESURGO_LINUX_DEB";

/// A file of the Linux tree that a driver manifest pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedFile {
    /// Path inside the Linux tree (`drivers/net/ethernet/realtek/8139cp.c`).
    pub path: String,
    /// The lower-case hex sha256 the manifest pins.
    pub sha256: String,
    /// The manifest that pins it, as shown in messages (`drivers-legacy/8139cp/driver.toml`).
    pub pinned_by: String,
}

/// The extracted files of one version of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The cache folder: the Linux tree's paths are relative to it.
    pub dir: PathBuf,
    /// The package version they come from.
    pub version: String,
}

impl Sources {
    /// Where a file of the Linux tree is.
    pub fn path(&self, tree_path: &str) -> PathBuf {
        self.dir.join(tree_path)
    }
}

/// `${XDG_CACHE_HOME:-~/.cache}/resurgo`.
pub fn cache_root() -> Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("resurgo"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow!("neither XDG_CACHE_HOME nor HOME is set: no place to cache the Linux sources"))?;
    Ok(PathBuf::from(home).join(".cache").join("resurgo"))
}

/// The cache folder of one package version.
pub fn version_dir(version: &str) -> Result<PathBuf> {
    Ok(cache_root()?.join(format!("{PACKAGE}_{version}")))
}

/// Lower-case hex of a byte string's sha256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex of a file's sha256.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The message for a file whose contents are not what its manifest pins.
pub fn mismatch_message(file: &PinnedFile, actual: &str, origin: &str) -> String {
    format!("error: {}: sha256 mismatch: {origin} has {actual}, {} pins {}", file.path, file.pinned_by, file.sha256)
}

/// Makes sure every file is in the cache with the sha256 its manifest pins,
/// fetching and extracting the package when some are missing. With `progress`,
/// shows a spinner and a bar on a terminal and plain lines otherwise.
pub fn ensure(files: &[PinnedFile], progress: bool) -> Result<Sources> {
    let files = dedup(files)?;
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".lock")?;
    let complete = |dir: &Path| missing(dir, &files).is_empty();
    let (dir, version, deb) = package_for(&complete, progress)?;
    let Some(deb) = deb else {
        return finish(dir, version, &files);
    };
    let wanted: BTreeSet<String> = missing(&dir, &files).into_iter().map(|f| f.path.clone()).collect();
    let found = extract_from(&deb, &dir, &wanted, &BTreeSet::new(), progress)?;
    let absent: Vec<&PinnedFile> =
        files.iter().filter(|f| wanted.contains(&f.path) && !found.contains(&f.path)).collect();
    if !absent.is_empty() {
        let lines: Vec<String> = absent
            .iter()
            .map(|f| format!("error: {}: not in {PACKAGE} {version} (listed by {})", f.path, f.pinned_by))
            .collect();
        bail!("{}", lines.join("\n"));
    }
    deb.done();
    finish(dir, version, &files)
}

/// Fetches files and whole folders of the Linux tree without checking them
/// (for `resurgo driver add`, which computes the sums to pin). Files the
/// package lacks are left out: the caller sees they are not there.
pub fn fetch_unchecked(files: &[String], folders: &[String], progress: bool) -> Result<Sources> {
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".lock")?;
    let complete = |dir: &Path| {
        files.iter().all(|f| dir.join(f).is_file()) && folders.iter().all(|f| dir.join(f).join(FOLDER_MARK).is_file())
    };
    let (dir, version, deb) = package_for(&complete, progress)?;
    if let Some(deb) = deb {
        let wanted: BTreeSet<String> = files.iter().cloned().collect();
        let folders: BTreeSet<String> = folders.iter().map(|f| f.trim_end_matches('/').to_string()).collect();
        extract_from(&deb, &dir, &wanted, &folders, progress)?;
        for f in &folders {
            let _ = fs::create_dir_all(dir.join(f));
            let _ = fs::write(dir.join(f).join(FOLDER_MARK), "");
        }
        deb.done();
    }
    Ok(Sources { dir, version })
}

/// Marks a folder of the tree extracted whole.
const FOLDER_MARK: &str = ".resurgo-folder-complete";

/// A package file to extract from.
struct Deb {
    path: PathBuf,
    /// Given by the user: never deleted.
    keep: bool,
}

impl Deb {
    /// Extraction succeeded: the cache keeps the files, not the package.
    fn done(self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The version folder to use and, unless `complete` says it has everything
/// already, the package to extract from (given, left from a failed run, or
/// downloaded now).
fn package_for(complete: &dyn Fn(&Path) -> bool, progress: bool) -> Result<(PathBuf, String, Option<Deb>)> {
    let mut version = PINNED_VERSION.to_string();
    let mut dir = version_dir(&version)?;
    if complete(&dir) {
        return Ok((dir, version, None));
    }
    if let Some(given) = std::env::var_os(DEB_ENV).filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        if !given.is_file() {
            bail!("error: {DEB_ENV}={} is not a file", given.display());
        }
        if let Some(v) = deb_version(&given) {
            version = v;
            dir = version_dir(&version)?;
        }
        return Ok((dir, version, Some(Deb { path: given, keep: true })));
    }
    if let Some(left) = deb_in(&dir) {
        // A download whose extraction did not finish.
        return Ok((dir, version, Some(Deb { path: left, keep: false })));
    }
    let fetched = download(&cache_root()?, progress)?;
    if fetched.version != version {
        version = fetched.version.clone();
        dir = version_dir(&version)?;
        if complete(&dir) {
            let _ = fs::remove_dir_all(fetched.tmp_dir);
            return Ok((dir, version, None));
        }
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let into = dir.join(fetched.deb.file_name().expect("a .deb file name"));
    fs::rename(&fetched.deb, &into).with_context(|| format!("cannot move the package into {}", dir.display()))?;
    let _ = fs::remove_dir_all(fetched.tmp_dir);
    Ok((dir, version, Some(Deb { path: into, keep: false })))
}

/// [`extract`], deleting a package that cannot be read (the next run fetches it again).
fn extract_from(
    deb: &Deb,
    dir: &Path,
    wanted: &BTreeSet<String>,
    folders: &BTreeSet<String>,
    progress: bool,
) -> Result<BTreeSet<String>> {
    let started = Instant::now();
    match extract(&deb.path, dir, wanted, folders, progress) {
        Ok(found) => {
            if progress && !std::io::stderr().is_terminal() {
                eprintln!(
                    "extracted {} file{} in {:.1} s",
                    found.len(),
                    plural(found.len()),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(found)
        }
        Err(e) => {
            if !deb.keep {
                let _ = fs::remove_file(&deb.path);
            }
            Err(e.context(format!("cannot extract the Linux sources from {}", deb.path.display())))
        }
    }
}

/// Checks every file's sha256; the error names each file that differs.
fn finish(dir: PathBuf, version: String, files: &[PinnedFile]) -> Result<Sources> {
    let sources = Sources { dir, version };
    let mut lines = Vec::new();
    for f in files {
        let actual = sha256_file(&sources.path(&f.path))?;
        if actual != f.sha256 {
            lines.push(mismatch_message(f, &actual, &format!("{PACKAGE} {}", sources.version)));
        }
    }
    if !lines.is_empty() {
        bail!("{}", lines.join("\n"));
    }
    Ok(sources)
}

/// Each path once; two manifests pinning one path to different sums is an error.
fn dedup(files: &[PinnedFile]) -> Result<Vec<PinnedFile>> {
    let mut by_path: BTreeMap<&str, &PinnedFile> = BTreeMap::new();
    for f in files {
        if let Some(other) = by_path.insert(&f.path, f)
            && other.sha256 != f.sha256
        {
            bail!(
                "error: {}: {} pins sha256 {}, {} pins {}",
                f.path,
                other.pinned_by,
                other.sha256,
                f.pinned_by,
                f.sha256
            );
        }
    }
    Ok(by_path.into_values().cloned().collect())
}

/// The files not in `dir` with their pinned sha256.
fn missing<'a>(dir: &Path, files: &'a [PinnedFile]) -> Vec<&'a PinnedFile> {
    files.iter().filter(|f| sha256_file(&dir.join(&f.path)).map_or(true, |h| h != f.sha256)).collect()
}

/// A `.deb` left in a version's folder.
fn deb_in(dir: &Path) -> Option<PathBuf> {
    let entries = fs::read_dir(dir).ok()?;
    entries.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.extension().is_some_and(|e| e == "deb"))
}

/// The version in a package file name `linux-source-6.1_<version>_all.deb`.
pub fn deb_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix(PACKAGE)?.strip_prefix('_')?;
    let version = rest.split('_').next()?;
    // apt escapes the epoch's colon as %3a.
    (!version.is_empty()).then(|| version.replace("%3a", ":"))
}

struct Fetched {
    deb: PathBuf,
    version: String,
    tmp_dir: PathBuf,
}

/// What apt said when a download failed.
#[derive(Debug, PartialEq, Eq)]
enum AptFailure {
    /// The pinned version is not in the archive (any more).
    VersionGone,
    /// apt knows no such package: its lists are missing or stale.
    UnknownPackage,
    Other,
}

fn classify_apt_failure(stderr: &str) -> AptFailure {
    if stderr.contains("was not found") && stderr.contains("Version '") {
        AptFailure::VersionGone
    } else if stderr.contains("Unable to locate package") || stderr.contains("has no candidate") {
        AptFailure::UnknownPackage
    } else {
        AptFailure::Other
    }
}

/// The candidate version in `apt-cache policy` output.
fn candidate_version(policy: &str) -> Option<String> {
    let v = policy.lines().find_map(|l| l.trim().strip_prefix("Candidate:"))?.trim();
    (!v.is_empty() && v != "(none)").then(|| v.to_string())
}

/// Downloads the pinned version (else apt's candidate, saying so) into a fresh
/// folder under the cache root.
fn download(root: &Path, progress: bool) -> Result<Fetched> {
    if find_on_path("apt-get").is_none() {
        bail!(
            "error: cannot fetch the Linux sources: `apt-get` is missing (Debian's {PACKAGE} package is fetched with it; \
             on Debian or Ubuntu: `sudo apt-get install apt`), or download {PACKAGE}_{PINNED_VERSION}_all.deb and set {DEB_ENV}=its path"
        );
    }
    fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let tmp = root.join(format!("download-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;

    let mut version = PINNED_VERSION.to_string();
    let mut updated = false;
    loop {
        let out = apt_download(&tmp, &version, progress)?;
        if out.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match classify_apt_failure(&stderr) {
            AptFailure::VersionGone if version == PINNED_VERSION => {
                let policy = apt_output(&["apt-cache", "policy", PACKAGE])?;
                let Some(candidate) = candidate_version(&policy) else {
                    bail!("error: {PACKAGE} {PINNED_VERSION} is not in the archive, and apt offers no other version");
                };
                eprintln!(
                    "note: {PACKAGE} {PINNED_VERSION} is no longer in the archive: using {candidate}, \
                     checked file by file against the pinned sha256 sums"
                );
                version = candidate;
            }
            AptFailure::UnknownPackage if !updated && running_as_root() => {
                if progress {
                    eprintln!("apt does not know {PACKAGE}: running `apt-get update`");
                }
                let status = Command::new("apt-get")
                    .args(["update", "-qq"])
                    .env("LC_ALL", "C")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .status()
                    .context("cannot run `apt-get update`")?;
                if !status.success() {
                    bail!("error: `apt-get update` failed ({status}): cannot fetch {PACKAGE}");
                }
                updated = true;
            }
            AptFailure::UnknownPackage => bail!(
                "error: apt does not know the package {PACKAGE} (stale package lists?): run `sudo apt-get update` \
                 (Debian 12 has it), or set {DEB_ENV} to a downloaded {PACKAGE}_{PINNED_VERSION}_all.deb"
            ),
            _ => bail!(
                "error: `apt-get download {PACKAGE}={version}` failed ({}): {}",
                out.status,
                stderr.lines().filter(|l| l.starts_with("E:")).collect::<Vec<_>>().join(" ").trim()
            ),
        }
    }
    let deb =
        deb_in(&tmp).ok_or_else(|| anyhow!("`apt-get download` succeeded but left no .deb in {}", tmp.display()))?;
    let version = deb_version(&deb).unwrap_or(version);
    Ok(Fetched { deb, version, tmp_dir: tmp })
}

/// Runs `apt-get download PACKAGE=VERSION` in `dir`, with a spinner showing the
/// bytes received (a bar when apt says the package's size).
fn apt_download(dir: &Path, version: &str, progress: bool) -> Result<std::process::Output> {
    let spec = format!("{PACKAGE}={version}");
    let size = apt_output(&["apt-cache", "show", "--no-all-versions", &spec])
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Size:")).and_then(|n| n.trim().parse::<u64>().ok()));
    let terminal = std::io::stderr().is_terminal();
    let bar = if progress && terminal {
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
        bar.set_message(format!("{PACKAGE} {version}"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        if progress {
            let size = size.map(|n| format!(" ({})", HumanBytes(n))).unwrap_or_default();
            eprintln!("downloading {PACKAGE} {version}{size} with apt-get");
        }
        ProgressBar::hidden()
    };

    let mut cmd = Command::new("apt-get");
    cmd.arg("download").arg("-q");
    if running_as_root() {
        // Root's apt drops to the `_apt` user, which cannot write here; say so instead of warning.
        cmd.args(["-o", "APT::Sandbox::User=root"]);
    }
    cmd.arg(&spec).current_dir(dir).env("LC_ALL", "C").stdin(Stdio::null()).stdout(Stdio::null());
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot run `apt-get download`")?;
    let mut stderr = child.stderr.take().expect("piped stderr");
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
    Ok(std::process::Output { status, stdout: Vec::new(), stderr })
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

fn apt_output(args: &[&str]) -> Result<String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", args.join(" ")))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Extracts the wanted files (paths in the Linux tree) from the package into
/// `dir`, streaming through both archives once and stopping when all are out.
/// Returns the paths it found.
pub fn extract(
    deb: &Path,
    dir: &Path,
    wanted: &BTreeSet<String>,
    folders: &BTreeSet<String>,
    progress: bool,
) -> Result<BTreeSet<String>> {
    let file = File::open(deb).with_context(|| format!("cannot open {}", deb.display()))?;
    let mut deb_archive = ar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut found = BTreeSet::new();
    while let Some(entry) = deb_archive.next_entry() {
        let entry = entry.context("reading the .deb (an ar archive)")?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        if !name.starts_with("data.tar") {
            continue;
        }
        if name != "data.tar.xz" {
            bail!("the package's data is `{name}`: only data.tar.xz is supported");
        }
        let mut data = tar::Archive::new(xz2::read::XzDecoder::new(entry));
        for item in data.entries().context("reading data.tar.xz")? {
            let item = item.context("reading data.tar.xz")?;
            let path = item.path().context("a path in data.tar.xz")?.to_string_lossy().into_owned();
            if path.trim_start_matches("./") != TARBALL {
                continue;
            }
            let size = item.header().size().unwrap_or(0);
            let bar = if progress && std::io::stderr().is_terminal() {
                ProgressBar::new(size).with_style(
                    ProgressStyle::with_template("{spinner} extracting {msg} {bar:30} {percent}% {eta}")
                        .expect("progress template"),
                )
            } else {
                if progress {
                    eprintln!("extracting {} from {TARBALL}", what(wanted, folders));
                }
                ProgressBar::hidden()
            };
            bar.set_message(what(wanted, folders));
            let inner = xz2::read::XzDecoder::new(BufReader::with_capacity(1 << 20, bar.wrap_read(item)));
            let result = extract_tree(inner, dir, wanted, folders, &mut found);
            bar.finish_and_clear();
            result?;
            return Ok(found);
        }
        bail!("the package has no {TARBALL}");
    }
    bail!("the package has no data.tar.xz: is {} a Debian package?", deb.display())
}

/// Copies the wanted files of a Linux tarball (`linux-source-6.1/...`) into `dir`.
fn extract_tree<R: Read>(
    tarball: R,
    dir: &Path,
    wanted: &BTreeSet<String>,
    folders: &BTreeSet<String>,
    found: &mut BTreeSet<String>,
) -> Result<()> {
    let mut tree = tar::Archive::new(tarball);
    for item in tree.entries().context("reading the Linux tarball")? {
        let mut item = item.context("reading the Linux tarball")?;
        if !item.header().entry_type().is_file() {
            continue;
        }
        let path = item.path().context("a path in the Linux tarball")?.to_string_lossy().into_owned();
        let Some(rel) = path.trim_start_matches("./").strip_prefix(TARBALL_TOP).and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let in_folder = rel.rsplit_once('/').is_some_and(|(parent, _)| folders.contains(parent));
        if !wanted.contains(rel) && !in_folder {
            continue;
        }
        let rel = rel.to_string();
        let out = dir.join(&rel);
        let parent = out.parent().expect("a file in a folder");
        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = out.with_file_name(format!(".{}.part", out.file_name().unwrap().to_string_lossy()));
        let mut file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        std::io::copy(&mut item, &mut file).with_context(|| format!("extracting {rel}"))?;
        file.flush()?;
        drop(file);
        fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
        found.insert(rel);
        if folders.is_empty() && found.len() == wanted.len() {
            break;
        }
    }
    Ok(())
}

/// `3 files` or `3 files and 2 folders`.
fn what(wanted: &BTreeSet<String>, folders: &BTreeSet<String>) -> String {
    let files = format!("{} file{}", wanted.len(), plural(wanted.len()));
    if folders.is_empty() { files } else { format!("{files} and {} folder{}", folders.len(), plural(folders.len())) }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Keeps the threads of this process out of the source cache one at a time.
static CACHE_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn version_from_package_file_name() {
        assert_eq!(deb_version(Path::new("/x/linux-source-6.1_6.1.192-2_all.deb")).as_deref(), Some("6.1.192-2"));
        assert_eq!(deb_version(Path::new("linux-source-6.1_1%3a6.1.1-1_all.deb")).as_deref(), Some("1:6.1.1-1"));
        assert_eq!(deb_version(Path::new("other_1.0_all.deb")), None);
    }

    #[test]
    fn apt_failures_are_told_apart() {
        assert_eq!(
            classify_apt_failure("E: Version '6.1.999-1' for 'linux-source-6.1' was not found\n"),
            AptFailure::VersionGone
        );
        assert_eq!(classify_apt_failure("E: Unable to locate package linux-source-6.1\n"), AptFailure::UnknownPackage);
        assert_eq!(
            classify_apt_failure("E: Can't select candidate version from package x as it has no candidate"),
            AptFailure::UnknownPackage
        );
        assert_eq!(classify_apt_failure("E: Failed to fetch http://..."), AptFailure::Other);
    }

    #[test]
    fn candidate_from_policy() {
        let policy = "linux-source-6.1:\n  Installed: (none)\n  Candidate: 6.1.192-2\n  Version table:\n";
        assert_eq!(candidate_version(policy).as_deref(), Some("6.1.192-2"));
        assert_eq!(candidate_version("x:\n  Installed: (none)\n  Candidate: (none)\n"), None);
    }

    fn pinned(path: &str, sha: &str, by: &str) -> PinnedFile {
        PinnedFile { path: path.into(), sha256: sha.into(), pinned_by: by.into() }
    }

    #[test]
    fn one_path_pinned_twice_must_agree() {
        let a = pinned("drivers/x.c", "aa", "drivers-legacy/a/driver.toml");
        let b = pinned("drivers/x.c", "bb", "drivers-legacy/b/driver.toml");
        assert_eq!(dedup(&[a.clone(), a.clone()]).unwrap().len(), 1);
        let e = dedup(&[a, b]).unwrap_err().to_string();
        assert!(e.contains("drivers/x.c") && e.contains("aa") && e.contains("bb"), "{e}");
    }

    #[test]
    fn mismatch_names_the_file_and_both_sums() {
        let f = pinned("drivers/x.c", "1111", "drivers-legacy/x/driver.toml");
        assert_eq!(
            mismatch_message(&f, "2222", "linux-source-6.1 6.1.192-2"),
            "error: drivers/x.c: sha256 mismatch: linux-source-6.1 6.1.192-2 has 2222, \
             drivers-legacy/x/driver.toml pins 1111"
        );
    }

    /// A tiny Linux tarball, xz-compressed, with two files and a folder.
    fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&tar).unwrap();
        xz.finish().unwrap()
    }

    #[test]
    fn extracts_only_wanted_files_from_a_deb() {
        let tmp = std::env::temp_dir().join(format!("resurgo-linux-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).unwrap();
        let inner = tarball(&[
            ("linux-source-6.1/drivers/net/a.c", b"int a;\n"),
            ("linux-source-6.1/drivers/net/b.c", b"int b;\n"),
            ("linux-source-6.1/Makefile", b"all:\n"),
        ]);
        let data = tarball(&[("./usr/src/linux-source-6.1.tar.xz", &inner)]);
        let deb = tmp.join("linux-source-6.1_6.1.192-2_all.deb");
        let mut ar = ar::Builder::new(File::create(&deb).unwrap());
        ar.append(&ar::Header::new(b"debian-binary".to_vec(), 4), &b"2.0\n"[..]).unwrap();
        ar.append(&ar::Header::new(b"data.tar.xz".to_vec(), data.len() as u64), data.as_slice()).unwrap();
        drop(ar);

        let out = tmp.join("tree");
        let wanted: BTreeSet<String> = ["drivers/net/b.c".to_string(), "drivers/net/none.c".to_string()].into();
        let found = extract(&deb, &out, &wanted, &BTreeSet::new(), false).unwrap();
        assert_eq!(found, BTreeSet::from(["drivers/net/b.c".to_string()]));
        assert_eq!(fs::read(out.join("drivers/net/b.c")).unwrap(), b"int b;\n");
        assert!(!out.join("drivers/net/a.c").exists() && !out.join("Makefile").exists());
        // Whole folders, for `driver add`.
        let folders = BTreeSet::from(["drivers/net".to_string()]);
        let found = extract(&deb, &out, &BTreeSet::from(["Makefile".to_string()]), &folders, false).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(fs::read(out.join("drivers/net/a.c")).unwrap(), b"int a;\n");
        fs::remove_dir_all(&tmp).unwrap();
    }
}

//! The Linux sources that legacy drivers are compiled from: Debian's
//! `linux-source-6.1` package, pinned to one version (`drivers-legacy/linux-source.toml`),
//! fetched with `apt-get download` once per version, cached outside git and
//! checked file by file.
//!
//! The `.deb` is an ar archive holding `data.tar.xz`, which holds
//! `usr/src/linux-source-6.1.tar.xz`; both are decompressed as a stream and
//! the wanted files written to `${XDG_CACHE_HOME:-~/.cache}/resurgo/linux-source-6.1_<version>/`
//! under their paths in the Linux tree (`drivers/net/...`), beside the `.deb`
//! itself, which stays there so that later commands extract more files
//! without downloading it again. Every file is checked against the sha256 its
//! driver manifest pins before anything compiles it.
//!
//! When apt does not offer the pinned version, its package lists are
//! refreshed first (they are often just older than it); only when the version
//! is really gone is another revision considered, and used only if every
//! pinned file is identical in it ([`FetchPlan`], [`judge_revision`]);
//! `resurgo driver pin` re-pins deliberately ([`repin`]).
//!
//! Fetching and extracting hold a lock (a mutex in the process, a file lock
//! across processes), so parallel builds and test threads share one download.

use crate::apt::{self, Failure};
use crate::host::{DirLock, running_as_root};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The Debian package the sources come from.
pub const PACKAGE: &str = "linux-source-6.1";
/// The file, relative to the workspace root, that names the version the
/// driver manifests' sha256 sums were taken from.
pub const PIN_FILE: &str = "drivers-legacy/linux-source.toml";
/// The Linux tarball inside the package's `data.tar.xz`.
const TARBALL: &str = "usr/src/linux-source-6.1.tar.xz";
/// The folder every path of the tarball starts with.
const TARBALL_TOP: &str = "linux-source-6.1";
/// A `.deb` to use instead of downloading one (offline machines, or hosts
/// without apt): `RESURGO_LINUX_DEB=/path/to/linux-source-6.1_6.1.192-2_all.deb`.
pub const DEB_ENV: &str = "RESURGO_LINUX_DEB";

/// What [`PIN_FILE`] holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Pin {
    package: String,
    version: String,
}

/// The version the driver manifests pin, read from [`PIN_FILE`].
pub fn pinned_version() -> Result<String> {
    let path = crate::workspace_root().join(PIN_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("error: {PIN_FILE}: cannot read it"))?;
    parse_pin(&text).map_err(|e| anyhow!("error: {PIN_FILE}: {e}"))
}

/// The version in [`PIN_FILE`]'s text, which must name [`PACKAGE`].
fn parse_pin(text: &str) -> std::result::Result<String, String> {
    let pin: Pin = toml::from_str(text).map_err(|e| e.message().to_string())?;
    if pin.package != PACKAGE {
        return Err(format!("names the package `{}`; the drivers are built from `{PACKAGE}`", pin.package));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || ".+-~:".contains(c);
    if pin.version.is_empty() || !pin.version.chars().all(valid) {
        return Err(format!("`{}` is not a Debian version", pin.version));
    }
    Ok(pin.version)
}

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
///
/// When the pinned version is no longer in Debian's archive (after the
/// package lists were refreshed), another revision is used only if every
/// pinned file is identical in it; otherwise the error lists the files that
/// changed and how to re-pin deliberately ([`repin`]).
pub fn ensure(files: &[PinnedFile], progress: bool) -> Result<Sources> {
    let files = dedup(files)?;
    let pinned = pinned_version()?;
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".lock")?;
    let complete = |dir: &Path| missing(dir, &files).is_empty();
    let (dir, version, deb) = package_for(&pinned, &complete, true, progress)?;
    if let Some(deb) = deb {
        let wanted: BTreeSet<String> = missing(&dir, &files).into_iter().map(|f| f.path.clone()).collect();
        let found = extract_from(&deb, &dir, &wanted, &BTreeSet::new(), progress)?;
        let absent: Vec<&PinnedFile> =
            files.iter().filter(|f| wanted.contains(&f.path) && !found.contains(&f.path)).collect();
        if !absent.is_empty() && version == pinned {
            let lines: Vec<String> = absent
                .iter()
                .map(|f| format!("error: {}: not in {PACKAGE} {version} (listed by {})", f.path, f.pinned_by))
                .collect();
            bail!("{}", lines.join("\n"));
        }
    }
    if version != pinned {
        let actual = |f: &PinnedFile| sha256_file(&dir.join(&f.path)).ok();
        judge_revision(&pinned, &version, &files, actual).map_err(|e| anyhow!("{e}"))?;
        if progress {
            eprintln!(
                "note: {PACKAGE} {pinned}, which the driver manifests pin, is no longer in Debian's archive: \
                 using {version}, in which all {} pinned file{} are identical (sha256)",
                files.len(),
                plural(files.len())
            );
        }
    }
    finish(dir, version, &files)
}

/// Fetches files and whole folders of the Linux tree without checking them
/// (for `resurgo driver add`, which computes the sums to pin, and `driver
/// pin`). Files the package lacks are left out: the caller sees they are not
/// there. `version` is the one to fetch (default: the pinned one, or the
/// revision that stands in for it).
pub fn fetch_unchecked(files: &[String], folders: &[String], version: Option<&str>, progress: bool) -> Result<Sources> {
    let pinned = match version {
        Some(v) => v.to_string(),
        None => pinned_version()?,
    };
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".lock")?;
    let complete = |dir: &Path| {
        files.iter().all(|f| dir.join(f).is_file()) && folders.iter().all(|f| dir.join(f).join(FOLDER_MARK).is_file())
    };
    let (dir, version, deb) = package_for(&pinned, &complete, version.is_none(), progress)?;
    if let Some(deb) = deb {
        let wanted: BTreeSet<String> = files.iter().cloned().collect();
        let folders: BTreeSet<String> = folders.iter().map(|f| f.trim_end_matches('/').to_string()).collect();
        extract_from(&deb, &dir, &wanted, &folders, progress)?;
        for f in &folders {
            let _ = fs::create_dir_all(dir.join(f));
            let _ = fs::write(dir.join(f).join(FOLDER_MARK), "");
        }
    }
    Ok(Sources { dir, version })
}

/// Fetches every file of the pinned Linux tree that `select` picks by its
/// path in the tree, unchecked (for `resurgo driver survey`), once: the empty
/// file `mark` in the version's folder says the selection is there. `label`
/// says what is extracted (`drivers/net/ethernet and every Kconfig file`).
pub fn fetch_selected(mark: &str, label: &str, select: &dyn Fn(&str) -> bool, progress: bool) -> Result<Sources> {
    let pinned = pinned_version()?;
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".lock")?;
    let complete = |dir: &Path| dir.join(mark).is_file();
    let (dir, version, deb) = package_for(&pinned, &complete, false, progress)?;
    if let Some(deb) = deb {
        let started = Instant::now();
        let found = extract_selected(&deb.path, &dir, label, select, None, progress)
            .with_context(|| format!("cannot extract the Linux sources from {}", deb.path.display()))?;
        if progress && !std::io::stderr().is_terminal() {
            eprintln!("extracted {} files in {:.1} s", found.len(), started.elapsed().as_secs_f64());
        }
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(mark), "").with_context(|| format!("cannot write {}", dir.join(mark).display()))?;
    }
    Ok(Sources { dir, version })
}

/// Marks a folder of the tree extracted whole.
const FOLDER_MARK: &str = ".resurgo-folder-complete";

/// A package file to extract from.
struct Deb {
    path: PathBuf,
    /// Given by the user ([`DEB_ENV`]): never deleted, even when unreadable.
    given: bool,
}

/// The versions with a folder in the cache, newest first by name.
fn cached_versions() -> Vec<String> {
    let Ok(root) = cache_root() else { return Vec::new() };
    let Ok(entries) = fs::read_dir(root) else { return Vec::new() };
    let prefix = format!("{PACKAGE}_");
    let mut versions: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_string_lossy().strip_prefix(&prefix).map(str::to_string))
        .collect();
    versions.sort();
    versions.reverse();
    versions
}

/// The version folder to use and, unless `complete` says it has everything
/// already, the package to extract from: the one given in [`DEB_ENV`], the
/// one kept in the cache, or one downloaded now (fetched once per version and
/// kept). With `stand_in`, another revision already in the cache, or offered
/// by apt when `pinned` is gone, may stand in for it; the caller checks it.
fn package_for(
    pinned: &str,
    complete: &dyn Fn(&Path) -> bool,
    stand_in: bool,
    progress: bool,
) -> Result<(PathBuf, String, Option<Deb>)> {
    let dir = version_dir(pinned)?;
    if complete(&dir) {
        return Ok((dir, pinned.to_string(), None));
    }
    if let Some(given) = std::env::var_os(DEB_ENV).filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        if !given.is_file() {
            bail!("error: {DEB_ENV}={} is not a file", given.display());
        }
        let version = deb_version(&given).unwrap_or_else(|| pinned.to_string());
        return Ok((version_dir(&version)?, version, Some(Deb { path: given, given: true })));
    }
    if let Some(kept) = apt::deb_in(&dir) {
        return Ok((dir, pinned.to_string(), Some(Deb { path: kept, given: false })));
    }
    if stand_in {
        for version in cached_versions().into_iter().filter(|v| v != pinned) {
            let other = version_dir(&version)?;
            if complete(&other) {
                return Ok((other, version, None));
            }
        }
    }
    let mut plan = FetchPlan::new(pinned, running_as_root());
    let mut version = pinned.to_string();
    loop {
        let dir = version_dir(&version)?;
        if let Some(kept) = apt::deb_in(&dir) {
            return Ok((dir, version, Some(Deb { path: kept, given: false })));
        }
        let next = match download(&version, progress)? {
            Ok(deb) => {
                fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                let name = deb.file_name().ok_or_else(|| anyhow!("{}: no file name", deb.display()))?;
                let into = dir.join(name);
                fs::rename(&deb, &into).with_context(|| format!("cannot move the package into {}", dir.display()))?;
                if let Some(tmp) = deb.parent() {
                    let _ = fs::remove_dir_all(tmp);
                }
                return Ok((dir, version, Some(Deb { path: into, given: false })));
            }
            Err(stderr) => {
                let policy = apt::policy(PACKAGE).unwrap_or_default();
                plan.after_failure(&version, &stderr, &policy)
            }
        };
        match next {
            Next::Update => apt::update(&format!("do not offer {PACKAGE} {pinned} (they may be older than it)"))?,
            Next::Try(other) if stand_in => {
                if progress {
                    eprintln!(
                        "note: {PACKAGE} {pinned} is no longer in Debian's archive: trying {other}, \
                         which is used only if every pinned file is identical in it"
                    );
                }
                version = other;
            }
            Next::Try(_) => {
                bail!("error: {PACKAGE} {pinned} is not in Debian's archive (see `apt-cache policy {PACKAGE}`)")
            }
            Next::Fail(message) => bail!("{message}"),
        }
    }
}

/// [`extract`], deleting a cached package that cannot be read (the next run
/// fetches it again).
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
            if !deb.given {
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

/// The version in a package file name `linux-source-6.1_<version>_all.deb`.
pub fn deb_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix(PACKAGE)?.strip_prefix('_')?;
    let version = rest.split('_').next()?;
    // apt escapes the epoch's colon as %3a.
    (!version.is_empty()).then(|| version.replace("%3a", ":"))
}

/// What to do after `apt-get download` of a version failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Refresh apt's package lists, then try the pinned version again.
    Update,
    /// Try this other revision; it is checked file by file before it is used.
    Try(String),
    /// Give up with this message.
    Fail(String),
}

/// How the Linux source package is fetched when apt does not simply hand out
/// the pinned version: the lists are refreshed first (they may just be older
/// than the pinned version), and only then is another revision considered.
#[derive(Debug, Clone)]
pub struct FetchPlan {
    pinned: String,
    root: bool,
    refreshed: bool,
}

impl FetchPlan {
    /// A plan for `pinned`; only `root` may refresh the lists.
    pub fn new(pinned: &str, root: bool) -> FetchPlan {
        FetchPlan { pinned: pinned.to_string(), root, refreshed: false }
    }

    /// The next step once downloading `tried` failed with `stderr`; `policy`
    /// is `apt-cache policy` of the package as it is now.
    pub fn after_failure(&mut self, tried: &str, stderr: &str, policy: &str) -> Next {
        let failure = apt::classify(stderr);
        let pinned = self.pinned.clone();
        if tried != pinned {
            return Next::Fail(format!(
                "error: {PACKAGE} {pinned} is no longer in Debian's archive, and downloading {tried} instead failed: {}",
                apt::error_lines(stderr)
            ));
        }
        let listable = matches!(failure, Failure::VersionGone | Failure::UnknownPackage | Failure::FetchFailed);
        if listable && !self.refreshed {
            if !self.root {
                return Next::Fail(format!(
                    "error: apt's package lists do not offer {PACKAGE} {pinned} (they may be older than it): \
                     run `sudo apt-get update`, then the same command again"
                ));
            }
            self.refreshed = true;
            return Next::Update;
        }
        match failure {
            Failure::VersionGone => match stand_in(policy, &pinned) {
                Some(other) => Next::Try(other),
                None => Next::Fail(format!(
                    "error: {PACKAGE} {pinned} is no longer in Debian's archive, and apt offers no other version \
                     (see `apt-cache policy {PACKAGE}`)"
                )),
            },
            Failure::UnknownPackage => Next::Fail(format!(
                "error: apt does not know {PACKAGE} even with fresh package lists: the driver sources come from \
                 Debian 12 (bookworm) and its security archive, which this host's apt sources lack; \
                 or set {DEB_ENV} to a downloaded {PACKAGE}_{pinned}_all.deb"
            )),
            _ => {
                Next::Fail(format!("error: `apt-get download {PACKAGE}={pinned}` failed: {}", apt::error_lines(stderr)))
            }
        }
    }
}

/// The revision that may stand in for a `pinned` version apt no longer
/// offers: the newest with the same upstream version, else apt's candidate.
pub fn stand_in(policy: &str, pinned: &str) -> Option<String> {
    let others: Vec<String> = apt::versions(policy).into_iter().filter(|v| v != pinned).collect();
    others
        .iter()
        .find(|v| apt::upstream(v) == apt::upstream(pinned))
        .cloned()
        .or_else(|| apt::candidate(policy).filter(|c| c != pinned))
        .or_else(|| others.first().cloned())
}

/// Whether `version` may stand in for `pinned`: every file must have the
/// sha256 it is pinned to. `actual` gives a file's sha256 in `version`
/// (`None`: the file is not there). The error lists what differs and how to
/// re-pin deliberately.
pub fn judge_revision(
    pinned: &str,
    version: &str,
    files: &[PinnedFile],
    actual: impl Fn(&PinnedFile) -> Option<String>,
) -> std::result::Result<(), String> {
    let mut lines = Vec::new();
    for f in files {
        match actual(f) {
            Some(sum) if sum == f.sha256 => {}
            Some(sum) => lines.push(format!("  {}  pinned {}  now {}  ({})", f.path, &f.sha256, sum, f.pinned_by)),
            None => lines.push(format!("  {}  pinned {}  not in {version}  ({})", f.path, &f.sha256, f.pinned_by)),
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    Err(format!(
        "error: {PACKAGE} {pinned}, which the driver manifests pin, is no longer in Debian's archive; {version} is, \
         but {} of its {} pinned file{} differ{}:\n{}\n\
         Review the changes, then re-pin deliberately with `resurgo driver pin {version}` (it rewrites \
         {PIN_FILE} and these sums), or set {DEB_ENV} to a kept {PACKAGE}_{pinned}_all.deb",
        lines.len(),
        files.len(),
        plural(files.len()),
        if lines.len() == 1 { "s" } else { "" },
        lines.join("\n")
    ))
}

/// Downloads `version` into a fresh folder under the cache root: `Ok(Ok(deb))`,
/// or `Ok(Err(stderr))` when apt failed (for [`FetchPlan`] to read).
fn download(version: &str, progress: bool) -> Result<std::result::Result<PathBuf, String>> {
    let root = cache_root()?;
    fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let tmp = root.join(format!("download-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let out = apt::download(&format!("{PACKAGE}={version}"), &tmp, progress)?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&tmp);
        return Ok(Err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let deb = apt::deb_in(&tmp)
        .ok_or_else(|| anyhow!("`apt-get download` succeeded but left no .deb in {}", tmp.display()))?;
    Ok(Ok(deb))
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
    let select =
        |rel: &str| wanted.contains(rel) || rel.rsplit_once('/').is_some_and(|(parent, _)| folders.contains(parent));
    let stop_after = folders.is_empty().then_some(wanted.len());
    extract_selected(deb, dir, &what(wanted, folders), &select, stop_after, progress)
}

/// Extracts the files of the Linux tarball in a package that `select` picks
/// by their path in the tree, into `dir`; stops after `stop_after` files when given.
fn extract_selected(
    deb: &Path,
    dir: &Path,
    label: &str,
    select: &dyn Fn(&str) -> bool,
    stop_after: Option<usize>,
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
                    eprintln!("extracting {label} from {TARBALL}");
                }
                ProgressBar::hidden()
            };
            bar.set_message(label.to_string());
            let inner = xz2::read::XzDecoder::new(BufReader::with_capacity(1 << 20, bar.wrap_read(item)));
            let result = extract_tree(inner, dir, select, stop_after, &mut found);
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
    select: &dyn Fn(&str) -> bool,
    stop_after: Option<usize>,
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
        if !select(rel) {
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
        // Linux's scripts are run by its build (`make prepare`): keep them executable.
        if item.header().mode().is_ok_and(|m| m & 0o111 != 0) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make {} executable", tmp.display()))?;
        }
        fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
        found.insert(rel);
        if stop_after == Some(found.len()) {
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

    /// An apt output recorded on a Debian 12 machine (`src/testdata/apt/`).
    fn recorded(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testdata/apt").join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_committed_pin_names_the_package_and_a_version() {
        let v = pinned_version().unwrap();
        assert_eq!(apt::upstream(&v), "6.1.192", "the Linux release the drivers and the baseline share");
        assert_eq!(parse_pin("package = \"linux-source-6.1\"\nversion = \"6.1.192-2\"\n").unwrap(), "6.1.192-2");
        assert!(
            parse_pin("package = \"linux-source-6.2\"\nversion = \"1\"\n").unwrap_err().contains("linux-source-6.2")
        );
        assert!(parse_pin("package = \"linux-source-6.1\"\nversion = \"1 2\"\n").is_err());
        assert!(parse_pin("package = \"linux-source-6.1\"\n").is_err());
    }

    #[test]
    fn stale_lists_are_refreshed_before_any_fallback() {
        // The machine's lists are from May: they know 6.1.172-1 and older, not the pin.
        let mut plan = FetchPlan::new("6.1.192-2", true);
        let stale = recorded("stale-policy.txt");
        assert_eq!(plan.after_failure("6.1.192-2", &recorded("stale-download.stderr"), &stale), Next::Update);
        // After `apt-get update` the pin downloads; had it failed again, only then a stand-in.
        let fresh = recorded("fresh-policy.txt");
        assert_eq!(
            plan.after_failure("6.1.192-2", &recorded("stale-download.stderr"), &fresh),
            Next::Try("6.1.192-3".into())
        );
    }

    #[test]
    fn without_root_stale_lists_get_one_line_naming_the_command() {
        let mut plan = FetchPlan::new("6.1.192-2", false);
        let Next::Fail(msg) =
            plan.after_failure("6.1.192-2", &recorded("stale-download.stderr"), &recorded("stale-policy.txt"))
        else {
            panic!("a user who is not root cannot refresh the lists");
        };
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(msg.contains("sudo apt-get update") && !msg.contains("6.1.172"), "{msg}");
        // No lists at all: the same.
        let mut plan = FetchPlan::new("6.1.192-2", false);
        let Next::Fail(msg) = plan.after_failure("6.1.192-2", &recorded("nolists-download.stderr"), "") else {
            panic!("no lists");
        };
        assert!(msg.contains("sudo apt-get update"), "{msg}");
    }

    #[test]
    fn a_pinned_version_really_gone_takes_the_newest_same_release_revision() {
        // Pretend 6.1.192-4 were pinned and gone: the fresh lists offer -3, -2, -1.
        let fresh = recorded("fresh-policy.txt");
        assert_eq!(stand_in(&fresh, "6.1.192-4").as_deref(), Some("6.1.192-3"));
        assert_eq!(stand_in(&fresh, "6.1.192-3").as_deref(), Some("6.1.192-2"));
        // No revision of the same release: apt's candidate.
        assert_eq!(stand_in(&fresh, "6.1.200-1").as_deref(), Some("6.1.192-3"));
        assert_eq!(stand_in("", "6.1.192-2"), None);
        let mut plan = FetchPlan::new("6.1.192-4", true);
        let gone = "E: Version '6.1.192-4' for 'linux-source-6.1' was not found\n";
        assert_eq!(plan.after_failure("6.1.192-4", gone, &fresh), Next::Update);
        assert_eq!(plan.after_failure("6.1.192-4", gone, &fresh), Next::Try("6.1.192-3".into()));
        // The stand-in failing too ends it, naming both.
        let Next::Fail(msg) = plan.after_failure("6.1.192-3", "E: Failed to fetch x 404", &fresh) else { panic!() };
        assert!(msg.contains("6.1.192-4") && msg.contains("6.1.192-3"), "{msg}");
        // Gone with nothing else offered.
        let mut plan = FetchPlan::new("6.1.192-4", true);
        assert_eq!(plan.after_failure("6.1.192-4", gone, ""), Next::Update);
        assert!(matches!(plan.after_failure("6.1.192-4", gone, ""), Next::Fail(m) if m.contains("no other version")));
        // Unknown even after the update: not a Debian 12 host.
        let mut plan = FetchPlan::new("6.1.192-2", true);
        let unknown = recorded("nolists-download.stderr");
        assert_eq!(plan.after_failure("6.1.192-2", &unknown, ""), Next::Update);
        assert!(matches!(plan.after_failure("6.1.192-2", &unknown, ""), Next::Fail(m) if m.contains("bookworm")));
    }

    #[test]
    fn another_revision_is_used_only_if_every_pinned_file_is_identical() {
        let files = [
            pinned("drivers/net/a.c", "aa", "drivers-legacy/a/driver.toml"),
            pinned("drivers/net/b.c", "bb", "drivers-legacy/b/driver.toml"),
        ];
        let same = |f: &PinnedFile| Some(f.sha256.clone());
        assert_eq!(judge_revision("6.1.192-2", "6.1.192-3", &files, same), Ok(()));
        let changed = |f: &PinnedFile| (f.path != "drivers/net/b.c").then(|| f.sha256.clone()).or(Some("cc".into()));
        let msg = judge_revision("6.1.192-2", "6.1.192-3", &files, changed).unwrap_err();
        assert!(msg.contains("1 of its 2 pinned files differs"), "{msg}");
        assert!(msg.contains("drivers/net/b.c  pinned bb  now cc  (drivers-legacy/b/driver.toml)"), "{msg}");
        assert!(!msg.contains("drivers/net/a.c"), "{msg}");
        assert!(msg.contains("resurgo driver pin 6.1.192-3"), "{msg}");
        let gone = |f: &PinnedFile| (f.path == "drivers/net/a.c").then(|| f.sha256.clone());
        let msg = judge_revision("6.1.192-2", "6.1.192-3", &files, gone).unwrap_err();
        assert!(msg.contains("drivers/net/b.c  pinned bb  not in 6.1.192-3"), "{msg}");
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
            header.set_mode(if path.ends_with(".sh") { 0o755 } else { 0o644 });
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
            ("linux-source-6.1/drivers/net/run.sh", b"#!/bin/sh\n"),
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
        assert_eq!(found.len(), 4);
        assert_eq!(fs::read(out.join("drivers/net/a.c")).unwrap(), b"int a;\n");
        // Executable files stay executable (Linux's build runs its scripts).
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("drivers/net/run.sh"), 0o755);
        assert_eq!(mode("drivers/net/a.c") & 0o111, 0);
        fs::remove_dir_all(&tmp).unwrap();
    }
}

//! Compiling and linking a legacy driver into its task image `drv-NAME`.
//!
//! Each file of the manifest's `sources` is compiled with the shim's flags
//! (`dde-linux-shim/cflags`, one flag per line) plus the include folders and
//! the `KBUILD_*` names Linux's build would give it; objects go to
//! `target/image/drivers/NAME/` and are reused while the source, the flags and
//! every header the compiler read are unchanged. The objects are linked with
//! the shim (`libdde_linux_shim.a`, built by the image's cargo build) into a
//! static task image, checked for an entry point and undefined symbols.
//!
//! When a driver does not compile or link, the compiler's output goes to
//! `target/image/drivers/build.log` and the build fails with the missing-API
//! report of [`crate::diagnostics`] instead.

use crate::diagnostics::{self, Finding, Kind, Report};
use crate::drivers::{self, Driver, SourceSet};
use crate::image::target_dir;
use crate::linux;
use crate::traps;
use crate::{display_path, workspace_root};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The shim's compiler flags, one per line (`#` comments and blank lines skipped).
pub const CFLAGS_FILE: &str = "dde-linux-shim/cflags";
/// The folder of headers of our own that take the place of Linux's when
/// compiling against Linux's headers (`dde-linux-shim/linux-shadow/README.md`).
pub const SHADOW_DIR: &str = "dde-linux-shim/linux-shadow";

/// The headers C files are compiled against: Linux's own, configured for
/// Resurgo ([`crate::linux_config`]), with [`SHADOW_DIR`] first. The
/// committed drivers, Linux's library files and the shim's own C
/// (`dde-linux-shim/build.rs`) all are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Headers {
    Linux(crate::linux_config::Prepared),
}

impl Headers {
    /// The include arguments (and, for Linux's, the forced includes and `-D__KERNEL__`).
    fn args(&self, root: &Path) -> Vec<OsString> {
        let Headers::Linux(p) = self;
        p.include_args(Some(&root.join(SHADOW_DIR))).into_iter().map(OsString::from).collect()
    }

    /// The folders of our own headers, whose changes a kept failed compile must see.
    fn own_dirs(&self) -> Vec<&'static str> {
        vec![SHADOW_DIR]
    }

    /// Extra names kbuild defines for a file of the module `module` at `tree_path`.
    fn kbuild_defines(&self, module: &str, tree_path: &str) -> Vec<OsString> {
        let file = tree_path.strip_suffix(".c").unwrap_or(tree_path);
        let modfile = match file.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{module}"),
            None => module.to_string(),
        };
        vec![
            format!("-DKBUILD_MODFILE=\"{modfile}\"").into(),
            format!("-D__KBUILD_MODNAME=kmod_{}", kbuild_name(module)).into(),
        ]
    }
}
/// Where the host tool leaves the include arguments of Linux's configured
/// headers (one per line) for the shim's build script
/// (`dde-linux-shim/build.rs`), which compiles the shim's C against them.
pub const SHIM_HEADERS_FILE: &str = "target/linux-headers.args";

/// Configures Linux's headers for Resurgo (cached) and writes
/// [`SHIM_HEADERS_FILE`], before the shim's cargo build.
pub fn prepare_shim_headers(progress: bool) -> Result<crate::linux_config::Prepared> {
    let prepared = crate::linux_config::prepare(progress)?;
    write_shim_headers(&prepared, &workspace_root())?;
    Ok(prepared)
}

/// Writes [`SHIM_HEADERS_FILE`] for `prepared` (the shadow folder first), when it changed.
pub fn write_shim_headers(prepared: &crate::linux_config::Prepared, root: &Path) -> Result<()> {
    let path = root.join(SHIM_HEADERS_FILE);
    let mut text = prepared.include_args(Some(&root.join(SHADOW_DIR))).join("\n");
    text.push('\n');
    if fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The shim's static library in the image's target folder.
pub const SHIM_LIB: &str = "release/libdde_linux_shim.a";
/// The cargo package of the shim.
pub const SHIM_PACKAGE: &str = "dde-linux-shim";
/// The linker script of every task.
pub const LINKER_SCRIPT: &str = "lib/task-link/user.ld";
/// Where Resurgo's kernel keeps its millisecond tick counter in every task:
/// `ticks` of the kernel information page (`l4-sys/src/kip.rs`, the page at
/// `l4_sys::layout::KIP`, 0x110000, after its 8-byte magic).
pub const KIP_TICKS: u64 = 0x11_0008;
/// The host triple the compiler is asked for.
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// `target/image/drivers`: objects, per driver, and the build log.
pub fn objects_dir() -> PathBuf {
    target_dir().join("drivers")
}

/// The full compiler log of the last driver build.
pub fn log_path() -> PathBuf {
    objects_dir().join("build.log")
}

/// Reads `dde-linux-shim/cflags`.
pub fn read_cflags(root: &Path) -> Result<Vec<String>> {
    let path = root.join(CFLAGS_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "error: {CFLAGS_FILE} does not exist yet: legacy drivers are compiled with the shim's flags \
             (one per line), which the shim provides there"
        ),
        Err(e) => bail!("error: cannot read {CFLAGS_FILE}: {e}"),
    };
    Ok(parse_cflags(&text))
}

/// One flag per line; blank lines and lines starting with `#` are skipped.
pub fn parse_cflags(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// Linux's `name-fix`: a module or file name as KBUILD_MODNAME has it (`ne2k-pci` → `ne2k_pci`).
pub fn kbuild_name(name: &str) -> String {
    name.replace(['-', ','], "_")
}

/// The C compiler: `CC` (or cc's other variables) when set, else the system's.
fn compiler() -> Result<cc::Tool> {
    crate::deps::ensure(&[crate::deps::C_COMPILER])?;
    let out = objects_dir();
    cc::Build::new()
        .target(TRIPLE)
        .host(TRIPLE)
        .opt_level(2)
        .debug(false)
        .out_dir(&out)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_debug(false)
        .emit_rerun_if_env_changed(false)
        .no_default_flags(true)
        .try_get_compiler()
        .map_err(|e| {
            anyhow!("error: no C compiler for legacy drivers: {e} (install one: `sudo apt-get install -y gcc`)")
        })
}

/// What to do with the drivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compile only (no shim library needed): find what the shim lacks.
    Check,
    /// Compile and link with the shim library into `target/image/release/drv-NAME`.
    Link,
}

/// One file to compile.
struct Unit {
    driver: String,
    /// The path in the manifest (`drivers/net/...`).
    tree_path: String,
    source: PathBuf,
    object: PathBuf,
    args: Vec<OsString>,
    flags_hash: String,
    source_hash: String,
    /// Set for the survey: a failed compile is kept (in `*.failed`) and
    /// reused while this key, the stamp and the headers are unchanged.
    fail_key: Option<String>,
    /// The function of Linux's boot that readies this library file
    /// (`radix_tree_init`), run as an early initcall where it is linked.
    boot: Option<String>,
}

/// What compiling one file gave.
struct Compiled {
    ok: bool,
    output: String,
    /// Headers `gcc -M -MG` found missing, when a header was.
    missing_headers: Vec<String>,
    cached: bool,
}

/// Builds the drivers; returns each driver's image by name (empty in [`Mode::Check`]).
/// Fails with the missing-API report (printed to stderr) when one does not build.
/// Functions nothing defines are linked as traps ([`crate::traps`]).
pub fn build(drivers: &[&Driver], mode: Mode, progress: bool) -> Result<BTreeMap<String, PathBuf>> {
    build_with(drivers, mode, false, progress)
}

/// [`build`]; with `strict`, a driver that would need a trap fails instead.
pub fn build_with(drivers: &[&Driver], mode: Mode, strict: bool, progress: bool) -> Result<BTreeMap<String, PathBuf>> {
    let compiled = compile(drivers, progress)?;
    match mode {
        Mode::Check => Ok(BTreeMap::new()),
        Mode::Link => link_all_with(compiled, strict),
    }
}

/// The C files of Linux a driver task links: the driver's own sources and
/// the library files its link takes ([`linked_objects`]), as paths on disk
/// with their paths in the Linux tree.
#[derive(Debug, Clone, Default)]
pub struct LinkedSources {
    pub driver: Vec<(String, PathBuf)>,
    pub library: Vec<(String, PathBuf)>,
}

impl CompiledDrivers {
    /// What each driver's link takes of Linux's code, against the shim
    /// library `lib` (as [`link_all_against`] would link it).
    pub fn linked_sources(&self, lib: &Path) -> Result<BTreeMap<String, LinkedSources>> {
        let shim = provided_symbols(lib)
            .ok_or_else(|| anyhow!("cannot read the shim library {}: build it first", lib.display()))?;
        let mut out = BTreeMap::new();
        for d in &self.drivers {
            let objects = task_units(&self.units, &d.name);
            let mut linked = LinkedSources::default();
            for u in linked_objects(&d.name, &objects, &shim) {
                let entry = (u.tree_path.clone(), u.source.clone());
                if u.driver == d.name { linked.driver.push(entry) } else { linked.library.push(entry) }
            }
            out.insert(d.name.clone(), linked);
        }
        Ok(out)
    }
}

/// The units a driver's link chooses from: its own and Linux's library files.
fn task_units<'u>(units: &'u [Unit], driver: &str) -> Vec<&'u Unit> {
    units.iter().filter(|u| u.driver == driver || u.driver == drivers::LINUX_LIB).collect()
}

/// Drivers whose every source compiled: ready to link once the shim library is built.
pub struct CompiledDrivers {
    drivers: Vec<Driver>,
    units: Vec<Unit>,
    tool: cc::Tool,
    sources: SourceSet,
    log: String,
}

/// Fetches, checks and compiles the drivers' sources against Linux's headers
/// configured for Resurgo (which it configures first and hands to the shim's
/// build: [`SHIM_HEADERS_FILE`]). Fails with the missing-API report when one
/// does not compile.
pub fn compile(drivers: &[&Driver], progress: bool) -> Result<CompiledDrivers> {
    let root = workspace_root();
    let cflags = read_cflags(&root)?;
    let lib = read_linux_lib(&root)?;
    let sources = drivers::fetch_sources_with(drivers, &lib.pinned(), progress)?;
    let tool = compiler()?;
    let out_root = objects_dir();
    fs::create_dir_all(&out_root).with_context(|| format!("cannot create {}", out_root.display()))?;

    // The drivers, Linux's library files and the shim's own C (whose cargo
    // build follows, reading the include arguments from SHIM_HEADERS_FILE)
    // are all compiled against Linux's headers configured for Resurgo.
    let linux_headers = Headers::Linux(prepare_shim_headers(progress)?);
    let mut units = plan(drivers, &sources, &cflags, &linux_headers, &tool, &root)?;
    units.extend(lib.units(
        &out_root.join(drivers::LINUX_LIB),
        &|p| sources.get(drivers::LINUX_LIB, p).to_path_buf(),
        &cflags,
        &linux_headers,
        Some(&linux_headers),
        &tool,
        &root,
    )?);
    let results = compile_all(&units, &tool, &root, progress);

    let mut log = String::new();
    let mut report = Report::default();
    let show = shower(&sources);
    for (unit, res) in units.iter().zip(&results) {
        log_unit(&mut log, &tool, unit, res);
        if res.ok {
            continue;
        }
        report.failed.insert(unit.driver.clone());
        report.findings.extend(unit_findings(unit, res, &show, &root));
    }
    let compiled =
        CompiledDrivers { drivers: drivers.iter().map(|d| (*d).clone()).collect(), units, tool, sources, log };
    for d in &compiled.drivers {
        if report.failed.contains(&d.name) {
            // No stale image claims the driver built.
            let _ = fs::remove_file(d.image_path());
        }
    }
    fail(&report, &compiled.log)?;
    Ok(compiled)
}

/// A driver the survey builds: its name (the Linux module's), its sources by
/// their path in the tree and on disk, and flags its Makefile adds.
#[derive(Debug, Clone)]
pub struct SurveyItem {
    pub name: String,
    pub sources: Vec<(String, PathBuf)>,
    pub extra_flags: Vec<String>,
}

/// What building one surveyed driver gave.
#[derive(Debug, Clone, Default)]
pub struct SurveyOutcome {
    pub name: String,
    /// Every source compiled.
    pub compiled: bool,
    /// What the sources that did not compile lack, in the compiler's order.
    pub compile_findings: Vec<Finding>,
    /// Linked into an image (with traps).
    pub linked: bool,
    pub link_findings: Vec<Finding>,
    /// The symbols linked as traps, with their uses.
    pub traps: Traps,
}

/// Builds each item as a driver task image under `out` (objects in
/// `out/NAME/`, images `out/images/drv-NAME`), with traps for what nothing
/// defines, and reports every driver instead of failing. Objects and failed
/// compiles are kept and reused while their inputs and the headers are
/// unchanged; the compiler's output goes to `out/survey.log`.
pub fn survey_build(
    items: &[SurveyItem],
    out: &Path,
    lib: &Path,
    linux_version: &str,
    headers: &Headers,
    progress: bool,
) -> Result<Vec<SurveyOutcome>> {
    let root = workspace_root();
    let cflags = read_cflags(&root)?;
    let tool = compiler()?;
    let fingerprint = headers_fingerprint(&root, headers);
    let linux_lib = read_linux_lib(&root)?;
    let lib_sources = linux::ensure(&linux_lib.pinned(), progress)?;
    let linux_headers = Some(headers.clone());
    let mut units = linux_lib.units(
        &out.join(drivers::LINUX_LIB),
        &|p| lib_sources.path(p),
        &cflags,
        headers,
        linux_headers.as_ref(),
        &tool,
        &root,
    )?;
    for item in items {
        let dir = out.join(&item.name);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut stems = BTreeSet::new();
        for (tree_path, source) in &item.sources {
            let source_hash = linux::sha256_file(source)?;
            let object = object_path(&dir, tree_path, &mut stems);
            let mut unit =
                unit_for(&item.name, tree_path, source, object, &cflags, &item.extra_flags, headers, &tool, &root);
            unit.source_hash = source_hash;
            unit.fail_key = Some(fingerprint.clone());
            units.push(unit);
        }
    }
    let results = compile_all(&units, &tool, &root, progress);
    let sources = SourceSet { files: BTreeMap::new(), linux_version: Some(linux_version.to_string()) };
    let show = shower(&sources);
    let mut log = String::new();
    let mut outcomes: BTreeMap<String, SurveyOutcome> = items
        .iter()
        .map(|i| (i.name.clone(), SurveyOutcome { name: i.name.clone(), compiled: true, ..Default::default() }))
        .collect();
    for (unit, res) in units.iter().zip(&results) {
        log_unit(&mut log, &tool, unit, res);
        if !res.ok && unit.driver == drivers::LINUX_LIB {
            let _ = fs::write(out.join("survey.log"), &log);
            bail!(
                "Linux's {} does not compile with the headers it is built against (see {} and {})",
                unit.tree_path,
                LINUX_LIB_FILE,
                display_path(&out.join("survey.log"), &root)
            );
        }
        if !res.ok {
            let o = outcomes.get_mut(&unit.driver).expect("an item per unit");
            o.compiled = false;
            o.compile_findings.extend(unit_findings(unit, res, &show, &root));
        }
    }
    let provided = provided_symbols(lib);
    let how = LinkWith { strict: false, provided: provided.as_ref() };
    let to_link: Vec<&SurveyItem> = items.iter().filter(|i| outcomes[&i.name].compiled).collect();
    let bar = bar(progress, to_link.len(), "linking surveyed drivers");
    for item in to_link {
        bar.set_message(item.name.clone());
        let objects = task_units(&units, &item.name);
        let image = out.join("images").join(drivers::image_name(&item.name));
        let o = outcomes.get_mut(&item.name).expect("an item per driver");
        match link(&item.name, &objects, lib, &tool, &root, &image, &show, &mut log, &how) {
            Ok(traps) => {
                o.linked = true;
                o.traps = traps;
            }
            Err(findings) => o.link_findings = findings,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let log_file = out.join("survey.log");
    fs::write(&log_file, log).with_context(|| format!("cannot write {}", log_file.display()))?;
    Ok(items.iter().map(|i| outcomes.remove(&i.name).expect("an outcome per item")).collect())
}

/// The Linux library files every driver task gets.
pub const LINUX_LIB_FILE: &str = "dde-linux-shim/linux-lib.toml";

/// `dde-linux-shim/linux-lib.toml`: Linux's own library code, compiled
/// unmodified into every driver task in place of rewrites in the shim.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinuxLib {
    /// Names the files test that say what the task provides otherwise
    /// (`__HAVE_ARCH_MEMCMP`), defined for them alone.
    #[serde(default)]
    pub defines: Vec<String>,
    /// Compiled against the headers the drivers are compiled against (none are
    /// listed since the shim moved to Linux's headers: see `linux_headers`).
    #[serde(default)]
    pub sources: Vec<manifest::driver::SourceFile>,
    /// Compiled against Linux's own headers configured for Resurgo
    /// ([`Headers::Linux`]), with the generated `lib/` headers (`crc32table.h`).
    #[serde(default)]
    pub linux_headers: Vec<manifest::driver::SourceFile>,
    /// Headers those files include from their own folder
    /// (`drivers/base/base.h`): fetched and checked beside them, not compiled.
    #[serde(default)]
    pub local_headers: Vec<manifest::driver::SourceFile>,
    /// What Linux's boot calls to ready a file before anything uses it
    /// (`radix_tree_init` creates the cache the XArray's nodes come from):
    /// called as an early initcall in each task the file is linked into.
    #[serde(default)]
    pub boot: Vec<BootCall>,
}

/// A function of a library file that Linux's boot calls once.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootCall {
    /// The file, as in `linux_headers`.
    pub path: String,
    /// The function (`void NAME(void)`).
    pub function: String,
}

impl LinuxLib {
    /// The files as pinned files of the Linux package.
    pub fn pinned(&self) -> Vec<linux::PinnedFile> {
        self.sources
            .iter()
            .chain(&self.linux_headers)
            .chain(&self.local_headers)
            .map(|f| linux::PinnedFile {
                path: f.path.clone(),
                sha256: f.sha256.clone(),
                pinned_by: LINUX_LIB_FILE.into(),
            })
            .collect()
    }

    /// Linux's configured headers, when some files are compiled against them.
    pub fn prepare_headers(&self, progress: bool) -> Result<Option<Headers>> {
        if self.linux_headers.is_empty() {
            return Ok(None);
        }
        Ok(Some(Headers::Linux(crate::linux_config::prepare(progress)?)))
    }

    /// Their compile jobs, objects in `dir`: `sources` against `headers`,
    /// `linux_headers` against `linux` (from [`LinuxLib::prepare_headers`]).
    #[allow(clippy::too_many_arguments)]
    fn units(
        &self,
        dir: &Path,
        source: &dyn Fn(&str) -> PathBuf,
        cflags: &[String],
        headers: &Headers,
        linux: Option<&Headers>,
        tool: &cc::Tool,
        root: &Path,
    ) -> Result<Vec<Unit>> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let defines: Vec<String> = self.defines.iter().map(|d| format!("-D{d}")).collect();
        let mut stems = BTreeSet::new();
        let mut units = Vec::new();
        for f in &self.sources {
            let object = object_path(dir, &f.path, &mut stems);
            let mut unit =
                unit_for(drivers::LINUX_LIB, &f.path, &source(&f.path), object, cflags, &defines, headers, tool, root);
            unit.source_hash = f.sha256.clone();
            units.push(unit);
        }
        if self.linux_headers.is_empty() {
            return Ok(units);
        }
        let Some(linux @ Headers::Linux(p)) = linux else {
            bail!("{LINUX_LIB_FILE}: files listed under `linux_headers` need Linux's configured headers");
        };
        let mut generated = vec![format!("-I{}", p.objtree.join("lib").display())];
        generated.extend(defines.iter().cloned());
        for f in &self.linux_headers {
            let object = object_path(dir, &f.path, &mut stems);
            let mut unit =
                unit_for(drivers::LINUX_LIB, &f.path, &source(&f.path), object, cflags, &generated, linux, tool, root);
            unit.source_hash = f.sha256.clone();
            unit.boot = self.boot.iter().find(|b| b.path == f.path).map(|b| b.function.clone());
            units.push(unit);
        }
        if let Some(b) = self.boot.iter().find(|b| !self.linux_headers.iter().any(|f| f.path == b.path)) {
            bail!("{LINUX_LIB_FILE}: `boot` names {}, which `linux_headers` does not list", b.path);
        }
        Ok(units)
    }
}

/// Reads `dde-linux-shim/linux-lib.toml` (none: no Linux library code).
pub fn read_linux_lib(root: &Path) -> Result<LinuxLib> {
    let path = root.join(LINUX_LIB_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LinuxLib::default()),
        Err(e) => bail!("error: cannot read {LINUX_LIB_FILE}: {e}"),
    };
    toml::from_str(&text).map_err(|e| anyhow!("error: {LINUX_LIB_FILE}: {e}"))
}

/// A progress bar on a terminal, nothing elsewhere.
fn bar(progress: bool, len: usize, what: &str) -> ProgressBar {
    if !progress || len == 0 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!("{{spinner}} {what} {{bar:20}} {{pos}}/{{len}} {{wide_msg}}"))
            .expect("progress template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A fingerprint of the headers (Linux's configured tree by its key, the
/// shadow folder's paths, sizes, times): a failed compile is only as current
/// as the headers it failed against.
fn headers_fingerprint(root: &Path, headers: &Headers) -> String {
    let Headers::Linux(p) = headers;
    let mut entries = vec![format!("linux {}", p.key)];
    let mut stack: Vec<PathBuf> = headers.own_dirs().iter().map(|d| root.join(d)).collect();
    stack.push(root.join(CFLAGS_FILE));
    while let Some(p) = stack.pop() {
        if let Ok(rd) = fs::read_dir(&p) {
            stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
        } else if let Ok(m) = fs::metadata(&p) {
            let t = m.modified().ok().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
            entries.push(format!("{} {} {:?}", p.display(), m.len(), t));
        }
    }
    entries.sort();
    linux::sha256_hex(entries.join("\n").as_bytes())
}

/// `dir/STEM.o`, numbered when two sources share a stem.
fn object_path(dir: &Path, tree_path: &str, stems: &mut BTreeSet<String>) -> PathBuf {
    let stem = Path::new(tree_path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut obj_name = stem.clone();
    let mut n = 1;
    while !stems.insert(obj_name.clone()) {
        n += 1;
        obj_name = format!("{stem}-{n}");
    }
    dir.join(format!("{obj_name}.o"))
}

/// The compile job of one source: the shim's flags, the include folders,
/// the source's folder, extra flags and Linux's KBUILD names.
#[allow(clippy::too_many_arguments)]
fn unit_for(
    driver: &str,
    tree_path: &str,
    source: &Path,
    object: PathBuf,
    cflags: &[String],
    extra: &[String],
    headers: &Headers,
    tool: &cc::Tool,
    root: &Path,
) -> Unit {
    let stem = Path::new(tree_path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut args: Vec<OsString> = cflags.iter().map(OsString::from).collect();
    args.extend(headers.args(root));
    args.push("-I".into());
    args.push(source.parent().unwrap_or(Path::new(".")).into());
    args.extend(extra.iter().map(OsString::from));
    args.push(format!("-DKBUILD_MODNAME=\"{}\"", kbuild_name(driver)).into());
    args.push(format!("-DKBUILD_BASENAME=\"{}\"", kbuild_name(&stem)).into());
    args.extend(headers.kbuild_defines(driver, tree_path));
    let flags_hash = flags_hash(tool, &args);
    args.extend(["-MD".into(), "-MF".into(), object.with_extension("d").into_os_string()]);
    args.extend(["-c".into(), source.as_os_str().to_owned(), "-o".into(), object.clone().into_os_string()]);
    Unit {
        driver: driver.to_string(),
        tree_path: tree_path.to_string(),
        source: source.to_path_buf(),
        object,
        args,
        flags_hash,
        source_hash: String::new(),
        fail_key: None,
        boot: None,
    }
}

/// The log's lines of one compiled file.
fn log_unit(log: &mut String, tool: &cc::Tool, unit: &Unit, res: &Compiled) {
    log.push_str(&format!("== {}: {}\n", unit.driver, command_line(tool, &unit.args)));
    log.push_str(if res.cached && res.ok { "(up to date)\n" } else { &res.output });
}

/// What a file that did not compile lacks, from the compiler's output.
fn unit_findings(unit: &Unit, res: &Compiled, show: &dyn Fn(&str) -> String, root: &Path) -> Vec<Finding> {
    let mut found = diagnostics::parse_gcc(&unit.driver, &res.output, show);
    for header in &res.missing_headers {
        if !found.iter().any(|f| f.kind == Kind::Header && &f.item == header) {
            found.extend(header_sites(&unit.driver, header, unit, show));
        }
    }
    if found.is_empty() {
        found.push(other(&unit.driver, &display_path(&unit.source, root), "the compiler failed (see the log)"));
    }
    found
}

/// Links each compiled driver with the shim library into
/// `target/image/release/drv-NAME`, with a trap for each function nothing
/// defines (listed on stderr).
pub fn link_all(compiled: CompiledDrivers) -> Result<BTreeMap<String, PathBuf>> {
    link_all_with(compiled, false)
}

/// [`link_all`]; with `strict`, a driver that would need a trap fails instead.
pub fn link_all_with(compiled: CompiledDrivers, strict: bool) -> Result<BTreeMap<String, PathBuf>> {
    link_all_against(compiled, strict, &target_dir().join(SHIM_LIB), &|d| d.image_path())
}

/// [`link_all_with`] against the shim library `lib` (the one built for
/// another kernel, say), writing each driver's image where `image_of` says.
pub fn link_all_against(
    compiled: CompiledDrivers,
    strict: bool,
    lib: &Path,
    image_of: &dyn Fn(&drivers::Driver) -> PathBuf,
) -> Result<BTreeMap<String, PathBuf>> {
    let CompiledDrivers { drivers, units, tool, sources, mut log } = compiled;
    let root = workspace_root();
    let show = shower(&sources);
    let provided = provided_symbols(lib);
    let mut report = Report::default();
    let mut images = BTreeMap::new();
    for d in &drivers {
        let image = image_of(d);
        let objects = task_units(&units, &d.name);
        let how = LinkWith { strict, provided: provided.as_ref() };
        match link(&d.name, &objects, lib, &tool, &root, &image, &show, &mut log, &how) {
            Ok(traps) => {
                if !traps.is_empty() {
                    eprint!("{}", trap_note(&d.name, &traps));
                }
                images.insert(d.name.clone(), image);
            }
            Err(findings) => {
                let _ = fs::remove_file(&image);
                report.failed.insert(d.name.clone());
                report.findings.extend(findings);
            }
        }
    }
    fail(&report, &log)?;
    Ok(images)
}

/// Writes the log; with failures, prints the report and fails with its summary line.
fn fail(report: &Report, log: &str) -> Result<()> {
    let log_file = log_path();
    fs::write(&log_file, log).with_context(|| format!("cannot write {}", log_file.display()))?;
    if report.failed.is_empty() {
        return Ok(());
    }
    let shown_log = display_path(&log_file, &workspace_root());
    eprint!("{}", report.render(&shown_log));
    bail!("{}", report.summary(&shown_log))
}

/// Paths as the report shows them: Linux files by their path in the tree,
/// workspace files relative to it.
fn shower(sources: &SourceSet) -> impl Fn(&str) -> String + use<> {
    let mut prefixes: Vec<String> = Vec::new();
    if let Some(v) = &sources.linux_version
        && let Ok(dir) = linux::version_dir(v)
    {
        prefixes.push(format!("{}/", dir.display()));
    }
    prefixes.push(format!("{}/", workspace_root().display()));
    move |p: &str| {
        for prefix in &prefixes {
            if let Some(rest) = p.strip_prefix(prefix.as_str()) {
                return rest.to_string();
            }
        }
        p.to_string()
    }
}

fn other(driver: &str, file: &str, message: &str) -> Finding {
    Finding {
        kind: Kind::Other,
        item: message.to_string(),
        at: diagnostics::Use { driver: driver.into(), file: file.into(), line: None, function: None },
    }
}

/// Where a header `gcc -M -MG` found missing is included: the files the
/// compiler read (from its output's include chain) and the unit itself.
fn header_sites(driver: &str, header: &str, unit: &Unit, show: &dyn Fn(&str) -> String) -> Vec<Finding> {
    let mut candidates = vec![unit.source.clone()];
    candidates.extend(read_depfile(&unit.object.with_extension("mg.d")));
    let mut out = Vec::new();
    for file in candidates {
        let Ok(text) = fs::read_to_string(&file) else { continue };
        for line in diagnostics::include_lines(&text, header) {
            out.push(Finding {
                kind: Kind::Header,
                item: header.to_string(),
                at: diagnostics::Use {
                    driver: driver.into(),
                    file: show(&file.to_string_lossy()),
                    line: Some(line),
                    function: None,
                },
            });
        }
    }
    if out.is_empty() {
        out.push(Finding {
            kind: Kind::Header,
            item: header.to_string(),
            at: diagnostics::Use {
                driver: driver.into(),
                file: show(&unit.source.to_string_lossy()),
                line: None,
                function: None,
            },
        });
    }
    out
}

/// The compile jobs, with their arguments and cache keys.
fn plan(
    drivers: &[&Driver],
    sources: &SourceSet,
    cflags: &[String],
    headers: &Headers,
    tool: &cc::Tool,
    root: &Path,
) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    for d in drivers {
        let dir = objects_dir().join(&d.name);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut stems = BTreeSet::new();
        for f in &d.manifest.sources {
            let source = sources.get(&d.name, &f.path);
            let object = object_path(&dir, &f.path, &mut stems);
            let mut unit = unit_for(&d.name, &f.path, source, object, cflags, &[], headers, tool, root);
            unit.source_hash = f.sha256.clone();
            units.push(unit);
        }
    }
    Ok(units)
}

fn flags_hash(tool: &cc::Tool, args: &[OsString]) -> String {
    let mut text = tool.path().to_string_lossy().into_owned();
    for a in args {
        text.push('\0');
        text.push_str(&a.to_string_lossy());
    }
    linux::sha256_hex(text.as_bytes())
}

fn command_line(tool: &cc::Tool, args: &[OsString]) -> String {
    let mut parts = vec![tool.path().to_string_lossy().into_owned()];
    parts.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// The stamp of an object: the keys it was built with.
fn stamp_text(unit: &Unit) -> String {
    format!("source {}\nflags {}\n", unit.source_hash, unit.flags_hash)
}

/// Whether the object is there, built from this source with these flags, and
/// newer than every file the compiler read for it.
fn up_to_date(unit: &Unit) -> bool {
    let Ok(stamp) = fs::read_to_string(unit.object.with_extension("stamp")) else { return false };
    if stamp != stamp_text(unit) {
        return false;
    }
    let Some(built) = mtime(&unit.object) else { return false };
    let deps = read_depfile(&unit.object.with_extension("d"));
    !deps.is_empty() && deps.iter().all(|d| mtime(d).is_some_and(|t| t <= built))
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The prerequisites of a make rule file written by `-MD`/`-M`.
fn read_depfile(path: &Path) -> Vec<PathBuf> {
    let Ok(text) = fs::read_to_string(path) else { return Vec::new() };
    parse_depfile(&text)
}

/// The prerequisites of the first rule (`target: a b \` ...), with `\ ` as a space.
pub fn parse_depfile(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\n", " ");
    let first = joined.lines().next().unwrap_or("");
    let Some((_, deps)) = first.split_once(": ") else { return Vec::new() };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = deps.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                cur.push(' ');
                chars.next();
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(PathBuf::from(std::mem::take(&mut cur)));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(PathBuf::from(cur));
    }
    out
}

/// The compiler `cc` found, with its environment but none of its flags (it
/// would add warning options and the host's CFLAGS: the shim's cflags rule).
fn compiler_command(tool: &cc::Tool) -> std::process::Command {
    let mut cmd = std::process::Command::new(tool.path());
    for (key, value) in tool.get_envs() {
        cmd.env(key, value);
    }
    cmd
}

fn run_compiler(tool: &cc::Tool, args: &[OsString], root: &Path) -> std::io::Result<Output> {
    let mut cmd = compiler_command(tool);
    cmd.args(args).current_dir(root).env("LC_ALL", "C").stdin(Stdio::null());
    cmd.output()
}

/// Compiles every unit that is not up to date, on as many threads as there are CPUs.
fn compile_all(units: &[Unit], tool: &cc::Tool, root: &Path, progress: bool) -> Vec<Compiled> {
    let results: Vec<Mutex<Option<Compiled>>> = units.iter().map(|u| Mutex::new(cached_failure(u))).collect();
    let todo: Vec<usize> =
        (0..units.len()).filter(|&i| results[i].lock().unwrap().is_none() && !up_to_date(&units[i])).collect();
    let bar = if progress && !todo.is_empty() && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(todo.len() as u64).with_style(
            ProgressStyle::with_template("{spinner} compiling legacy drivers {bar:20} {pos}/{len} {wide_msg}")
                .expect("progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        if progress && !todo.is_empty() {
            eprintln!("compiling {} legacy driver file{}", todo.len(), if todo.len() == 1 { "" } else { "s" });
        }
        ProgressBar::hidden()
    };
    let queue = Mutex::new(todo.clone());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(todo.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let Some(i) = queue.lock().unwrap().pop() else { break };
                    let unit = &units[i];
                    bar.set_message(format!("{}: {}", unit.driver, unit.tree_path));
                    let res = compile_one(unit, tool, root);
                    *results[i].lock().unwrap() = Some(res);
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    results
        .into_iter()
        .map(|r| {
            r.into_inner().unwrap().unwrap_or(Compiled {
                ok: true,
                output: String::new(),
                missing_headers: Vec::new(),
                cached: true,
            })
        })
        .collect()
}

fn compile_one(unit: &Unit, tool: &cc::Tool, root: &Path) -> Compiled {
    let stamp = unit.object.with_extension("stamp");
    let _ = fs::remove_file(&stamp);
    let out = match run_compiler(tool, &unit.args, root) {
        Ok(out) => out,
        Err(e) => {
            return Compiled {
                ok: false,
                output: format!("error: cannot run the C compiler {}: {e}\n", tool.path().display()),
                missing_headers: Vec::new(),
                cached: false,
            };
        }
    };
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    let ok = out.status.success() && unit.object.is_file();
    let failed = unit.object.with_extension("failed");
    let _ = fs::remove_file(&failed);
    if ok {
        let _ = fs::write(&stamp, stamp_text(unit));
        return Compiled { ok, output, missing_headers: Vec::new(), cached: false };
    }
    let _ = fs::remove_file(&unit.object);
    // gcc stops at the first missing header: list all of them at once.
    let mut missing_headers = Vec::new();
    if output.contains(": No such file or directory") {
        let depfile = unit.object.with_extension("mg.d");
        let mut args: Vec<OsString> = unit.args.iter().take_while(|a| *a != "-MD").cloned().collect();
        args.extend(["-M".into(), "-MG".into(), "-MF".into(), depfile.clone().into_os_string()]);
        args.push(unit.source.clone().into_os_string());
        if run_compiler(tool, &args, root).is_ok_and(|o| o.status.success())
            && let Ok(rule) = fs::read_to_string(&depfile)
        {
            missing_headers = diagnostics::missing_from_depfile(&rule);
        }
    }
    if let Some(key) = &unit.fail_key {
        let text = format!("{}key {key}\nheaders {}\n--\n{output}", stamp_text(unit), missing_headers.join(" "));
        let _ = fs::write(&failed, text);
    }
    Compiled { ok, output, missing_headers, cached: false }
}

/// A failed compile kept for the survey, when its keys are unchanged.
fn cached_failure(unit: &Unit) -> Option<Compiled> {
    let key = unit.fail_key.as_ref()?;
    let text = fs::read_to_string(unit.object.with_extension("failed")).ok()?;
    let rest = text.strip_prefix(&stamp_text(unit))?.strip_prefix(&format!("key {key}\n"))?;
    let (headers, output) = rest.strip_prefix("headers ")?.split_once("\n--\n")?;
    let missing_headers = headers.split_whitespace().map(String::from).collect();
    Some(Compiled { ok: false, output: output.to_string(), missing_headers, cached: true })
}

/// Links one driver's objects with the shim into its image and checks it.
#[allow(clippy::too_many_arguments)]
fn link(
    name: &str,
    objects: &[&Unit],
    lib: &Path,
    tool: &cc::Tool,
    root: &Path,
    image: &Path,
    show: &dyn Fn(&str) -> String,
    log: &mut String,
    how: &LinkWith,
) -> std::result::Result<Traps, Vec<Finding>> {
    let shown_lib = display_path(lib, root);
    if !lib.is_file() {
        return Err(vec![other(name, &shown_lib, "the shim library was not built")]);
    }
    let tmp = image.with_extension("tmp");
    if let Some(parent) = image.parent() {
        let _ = fs::create_dir_all(parent);
    }
    let objects: Vec<&Unit> = match how.provided {
        Some(shim) => linked_objects(name, objects, shim),
        None => objects.to_vec(),
    };
    let objects = &objects[..];
    let traps = match how.provided {
        Some(shim) => unresolved_of(objects, &shim.defined),
        None => Traps::new(),
    };
    if how.strict && !traps.is_empty() {
        return Err(trap_findings(name, objects, &traps));
    }
    let boots: Vec<&str> = objects.iter().filter_map(|u| u.boot.as_deref()).collect();
    let trap_object = if traps.is_empty() && boots.is_empty() {
        None
    } else {
        match write_traps(name, objects, &traps, &boots, tool, root, log) {
            Ok(o) => Some(o),
            Err(e) => return Err(vec![other(name, "", &e)]),
        }
    };
    let mut args: Vec<OsString> = [
        "-nostdlib",
        "-nostartfiles",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
        "-Wl,--gc-sections",
        &format!("-Wl,-T,{}", root.join(LINKER_SCRIPT).display()),
        "-Wl,-u,_start",
        "-Wl,-u,__resurgo_main",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if lib.starts_with(target_dir()) {
        // Resurgo's kernel: Linux's `jiffies` is the tick counter of the
        // kernel's information page, always current, as Linux's variable is
        // (the shim's own, which a thread of its keeps, serves elsewhere).
        args.push(format!("-Wl,--defsym=jiffies={KIP_TICKS:#x}").into());
    }
    args.extend(objects.iter().map(|u| u.object.clone().into_os_string()));
    args.extend(trap_object.map(PathBuf::into_os_string));
    args.push(lib.into());
    args.extend(["-o".into(), tmp.clone().into_os_string()]);
    log.push_str(&format!("== {name}: {}\n", command_line(tool, &args)));
    let out = match run_compiler(tool, &args, root) {
        Ok(out) => out,
        Err(e) => return Err(vec![other(name, "", &format!("cannot run the linker: {e}"))]),
    };
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    log.push_str(&output);
    if !out.status.success() {
        let _ = fs::remove_file(&tmp);
        let by_object: BTreeMap<String, (String, PathBuf)> = objects
            .iter()
            .map(|u| (u.object.to_string_lossy().into_owned(), (u.tree_path.clone(), u.source.clone())))
            .collect();
        let object = |o: &str| {
            by_object
                .get(o)
                .or_else(|| by_object.iter().find(|(k, _)| k.ends_with(o)).map(|(_, v)| v))
                .map(|v| v.0.clone())
        };
        let mut findings = diagnostics::parse_ld(name, &output, show, &object);
        // Undefined references without a line: find the use in the source.
        for f in findings.iter_mut().filter(|f| f.kind == Kind::Symbol && f.at.line.is_none()) {
            if let Some((_, source)) = by_object.values().find(|(tree, _)| *tree == f.at.file)
                && let Ok(text) = fs::read_to_string(source)
            {
                f.at.line = diagnostics::find_use_line(&text, &f.item, f.at.function.as_deref());
            }
        }
        if findings.is_empty() {
            findings.push(other(name, "", &format!("the link failed ({})", out.status)));
        }
        return Err(findings);
    }
    if let Err(problem) = check_image(&tmp) {
        let _ = fs::remove_file(&tmp);
        log.push_str(&format!("{problem:?}\n"));
        return Err(problem
            .into_iter()
            .map(|(kind, item)| Finding {
                kind,
                item,
                at: diagnostics::Use {
                    driver: name.to_string(),
                    file: image_shown(image, root),
                    line: None,
                    function: None,
                },
            })
            .collect());
    }
    fs::rename(&tmp, image).map_err(|e| vec![other(name, "", &format!("cannot write {}: {e}", image.display()))])?;
    Ok(traps)
}

/// The unresolved symbols of one driver, each with its uses.
pub type Traps = BTreeMap<String, Vec<traps::Reference>>;

/// How [`link`] treats symbols nothing defines.
struct LinkWith<'a> {
    /// Fail instead of linking traps.
    strict: bool,
    /// What the shim library defines and needs; `None` when it could not be
    /// read (the linker then reports what is missing, as without traps, and
    /// every object of Linux's library code is linked).
    provided: Option<&'a ShimSymbols>,
}

/// The shim library's symbols.
struct ShimSymbols {
    /// The global symbols it defines.
    defined: BTreeSet<String>,
    /// What its members reference and none defines.
    needs: BTreeSet<String>,
}

/// The shim library's symbols, or `None` when it is missing or unreadable.
fn provided_symbols(lib: &Path) -> Option<ShimSymbols> {
    let data = fs::read(lib).ok()?;
    Some(ShimSymbols { defined: traps::archive_symbols(&data).ok()?, needs: traps::archive_needs(&data).ok()? })
}

/// The objects a driver's link takes: its own, and those of Linux's library
/// code that it or the shim needs, as from an archive ([`traps::needed`]), so
/// that what a library file references reaches only the drivers that use it.
fn linked_objects<'u>(name: &str, objects: &[&'u Unit], shim: &ShimSymbols) -> Vec<&'u Unit> {
    let read = |u: &Unit| {
        // An unreadable object is left to the linker, which says what is wrong with it.
        fs::read(&u.object).ok().and_then(|d| traps::object_symbols(&u.tree_path, &d).ok()).unwrap_or_default()
    };
    let (own, lib): (Vec<&Unit>, Vec<&Unit>) = objects.iter().copied().partition(|u| u.driver == name);
    let own_syms: Vec<_> = own.iter().map(|u| read(u)).collect();
    let lib_syms: Vec<_> = lib.iter().map(|u| read(u)).collect();
    let taken = traps::needed(&own_syms, &lib_syms, &shim.needs);
    own.into_iter().chain(taken.into_iter().map(|i| lib[i])).collect()
}

/// The symbols the driver's objects use that neither they nor `provided` define.
fn unresolved_of(objects: &[&Unit], provided: &BTreeSet<String>) -> Traps {
    let mut syms = Vec::new();
    for u in objects {
        // An unreadable object is left to the linker, which says what is wrong with it.
        if let Ok(data) = fs::read(&u.object)
            && let Ok(s) = traps::object_symbols(&u.tree_path, &data)
        {
            syms.push(s);
        }
    }
    traps::unresolved(&syms, provided)
}

/// `--strict`: each unresolved symbol as an undefined symbol of the report,
/// at the line of the source that uses it.
fn trap_findings(driver: &str, objects: &[&Unit], traps: &Traps) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, uses) in traps {
        for u in uses {
            let line = objects
                .iter()
                .find(|o| o.tree_path == u.object)
                .and_then(|o| fs::read_to_string(&o.source).ok())
                .and_then(|text| diagnostics::find_use_line(&text, name, u.function.as_deref()));
            out.push(Finding {
                kind: Kind::Symbol,
                item: name.clone(),
                at: diagnostics::Use {
                    driver: driver.into(),
                    file: u.object.clone(),
                    line,
                    function: u.function.clone(),
                },
            });
        }
    }
    out
}

/// Writes `target/image/drivers/NAME/traps.s` and `traps.txt` (what is
/// trapped, and where it is used) and assembles the traps, with the linked
/// library files' `boot` calls.
fn write_traps(
    name: &str,
    objects: &[&Unit],
    traps: &Traps,
    boots: &[&str],
    tool: &cc::Tool,
    root: &Path,
    log: &mut String,
) -> std::result::Result<PathBuf, String> {
    let dir =
        objects.first().and_then(|u| u.object.parent()).map_or_else(|| objects_dir().join(name), Path::to_path_buf);
    let names: Vec<&str> = traps.keys().map(String::as_str).collect();
    let asm = dir.join("traps.s");
    let obj = dir.join("traps.o");
    fs::write(&asm, traps::trap_assembly(name, &names, boots))
        .map_err(|e| format!("cannot write {}: {e}", asm.display()))?;
    let mut listing = traps::report_lines(traps).join("\n");
    listing.push('\n');
    let _ = fs::write(dir.join("traps.txt"), &listing);
    let args: Vec<OsString> = vec!["-c".into(), asm.clone().into(), "-o".into(), obj.clone().into()];
    log.push_str(&format!("== {name}: {}\n", command_line(tool, &args)));
    log.push_str(&format!("traps:\n{listing}"));
    let out = run_compiler(tool, &args, root).map_err(|e| format!("cannot run the assembler: {e}"))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        log.push_str(&text);
        return Err(format!("the generated traps did not assemble ({})", display_path(&asm, root)));
    }
    Ok(obj)
}

/// What the build says about a driver linked with traps.
pub fn trap_note(driver: &str, traps: &Traps) -> String {
    let n = traps.len();
    let mut s = format!(
        "note: drv-{driver}: {n} {} the shim lacks {} linked as {} (a call ends the task with \
         \"called unimplemented `NAME`\"; `--strict` fails instead):\n",
        if n == 1 { "function" } else { "functions" },
        if n == 1 { "is" } else { "are" },
        if n == 1 { "a trap" } else { "traps" },
    );
    for line in traps::report_lines(traps) {
        s.push_str(&format!("  {line}\n"));
    }
    s
}

fn image_shown(image: &Path, root: &Path) -> String {
    display_path(image, root)
}

/// An image must have an entry point and no undefined (non-weak) symbols.
fn check_image(path: &Path) -> std::result::Result<(), Vec<(Kind, String)>> {
    use object::{Object, ObjectSymbol};
    let data = fs::read(path).map_err(|e| vec![(Kind::Other, format!("cannot read the image: {e}"))])?;
    let file =
        object::File::parse(&*data).map_err(|e| vec![(Kind::Other, format!("the image is not an ELF file: {e}"))])?;
    let mut problems = Vec::new();
    if file.entry() == 0 {
        problems.push((Kind::Other, "the image has no entry point (_start)".to_string()));
    }
    for sym in file.symbols() {
        if sym.is_undefined() && !sym.is_weak() && !sym.name().unwrap_or("").is_empty() {
            problems.push((Kind::Symbol, sym.name().unwrap_or("?").to_string()));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links a tiny "driver" with a tiny "shim" through the real linker and
    /// linker script: once complete, once with an undefined function.
    #[test]
    fn link_checks_the_image_and_reports_undefined_functions() {
        let tmp = std::env::temp_dir().join(format!("resurgo-link-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).unwrap();
        let root = workspace_root();
        let tool = compiler().unwrap();
        let cc = |src: &str, name: &str| {
            let c = tmp.join(format!("{name}.c"));
            fs::write(&c, src).unwrap();
            let o = tmp.join(format!("{name}.o"));
            let args: Vec<OsString> = ["-O2", "-ffreestanding", "-fno-pie", "-ffunction-sections", "-c"]
                .iter()
                .map(OsString::from)
                .chain([c.clone().into_os_string(), "-o".into(), o.clone().into_os_string()])
                .collect();
            assert!(run_compiler(&tool, &args, &root).unwrap().status.success());
            (c, o)
        };
        let (_, shim_o) = cc(
            "int tiny_probe(void);\nvoid __resurgo_main(void) { tiny_probe(); }\nvoid _start(void) { __resurgo_main(); for (;;) {} }\n\
             void tiny_shim_handler(void) {}\n",
            "shim",
        );
        let lib = tmp.join("libshim.a");
        assert!(std::process::Command::new("ar").arg("rcs").arg(&lib).arg(&shim_o).status().unwrap().success());
        let unit = |source: PathBuf, object: PathBuf| Unit {
            driver: "tiny".into(),
            tree_path: "tiny.c".into(),
            source,
            object,
            args: Vec::new(),
            flags_hash: String::new(),
            source_hash: String::new(),
            fail_key: None,
            boot: None,
        };
        let show = |p: &str| p.to_string();
        let image = tmp.join("drv-tiny");
        // Without the library's symbols: no traps, the linker's own report.
        let plain = LinkWith { strict: false, provided: None };

        let (src, obj) = cc("int tiny_probe(void) { return 42; }\n", "good");
        let mut log = String::new();
        link("tiny", &[&unit(src, obj)], &lib, &tool, &root, &image, &show, &mut log, &plain).unwrap();
        assert!(check_image(&image).is_ok());

        let (src, obj) =
            cc("int pci_enable_device(int);\nint tiny_probe(void)\n{\n\treturn pci_enable_device(1);\n}\n", "bad");
        let _ = fs::remove_file(&image);
        let findings =
            link("tiny", &[&unit(src, obj)], &lib, &tool, &root, &image, &show, &mut log, &plain).unwrap_err();
        assert_eq!(findings.len(), 1, "{findings:?}\n{log}");
        assert_eq!((findings[0].kind, findings[0].item.as_str()), (Kind::Symbol, "pci_enable_device"));
        assert_eq!((findings[0].at.file.as_str(), findings[0].at.line), ("tiny.c", Some(4)));
        assert!(!image.exists());

        // With the library's symbols: the missing function becomes a trap that
        // calls the shim's handler, and the image links; `--strict` refuses.
        let provided = provided_symbols(&lib).unwrap();
        assert!(provided.defined.contains("tiny_shim_handler"), "{:?}", provided.defined);
        assert!(provided.needs.contains("tiny_probe"), "{:?}", provided.needs);
        let (src, obj) = cc(
            "int pci_enable_device(int);\nint tiny_probe(void)\n{\n\treturn pci_enable_device(1);\n}\n\
             void resurgo_unimplemented(const char *n, long c) { for (;;) {} }\n",
            "trapped",
        );
        let traps_with = LinkWith { strict: false, provided: Some(&provided) };
        let traps =
            link("tiny", &[&unit(src.clone(), obj.clone())], &lib, &tool, &root, &image, &show, &mut log, &traps_with)
                .unwrap_or_else(|f| panic!("{f:?}\n{log}"));
        assert_eq!(traps.keys().collect::<Vec<_>>(), ["pci_enable_device"]);
        assert_eq!(traps["pci_enable_device"][0].function.as_deref(), Some("tiny_probe"));
        assert!(check_image(&image).is_ok());
        assert!(trap_note("tiny", &traps).contains("pci_enable_device (called; in tiny.c: tiny_probe)"));
        let strict = LinkWith { strict: true, provided: Some(&provided) };
        let _ = fs::remove_file(&image);
        let findings =
            link("tiny", &[&unit(src, obj)], &lib, &tool, &root, &image, &show, &mut log, &strict).unwrap_err();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!((findings[0].kind, findings[0].item.as_str()), (Kind::Symbol, "pci_enable_device"));
        assert_eq!((findings[0].at.file.as_str(), findings[0].at.line), ("tiny.c", Some(4)));
        assert!(!image.exists());
        fs::remove_dir_all(&tmp).unwrap();
    }

    /// The class split (doc/shim.md, "Two layers"): the generic Linux layer,
    /// its contract and the generic task name no network type or header, so
    /// a block class can sit beside the network class without touching it.
    #[test]
    fn the_generic_layer_names_no_class() {
        let shim = workspace_root().join("dde-linux-shim");
        let mut files: Vec<PathBuf> =
            fs::read_dir(shim.join("csrc/core")).unwrap().map(|e| e.unwrap().path()).collect();
        files.extend(["csrc/internal.h", "include/resurgo/host.h", "src/task.rs"].map(|f| shim.join(f)));
        assert!(files.len() > 20, "{files:?}");
        for f in &files {
            let text = fs::read_to_string(f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                    continue;
                }
                for word in ["net_device", "netdev", "sk_buff", "skbuff", "napi", "netdevice.h", "resurgo/net.h"] {
                    assert!(
                        !code.contains(word),
                        "{}:{}: the generic layer names `{word}`: {line}",
                        f.display(),
                        n + 1
                    );
                }
            }
        }
    }

    #[test]
    fn the_linux_library_files_are_pinned() {
        let lib = read_linux_lib(&workspace_root()).unwrap();
        assert!(lib.sources.is_empty(), "{lib:?}");
        for path in ["lib/hexdump.c", "lib/crc32.c", "lib/string.c", "lib/kstrtox.c", "lib/iomap.c"] {
            assert!(lib.linux_headers.iter().any(|f| f.path == path), "{path}: {lib:?}");
        }
        assert!(lib.defines.iter().any(|d| d == "__HAVE_ARCH_MEMCMP"), "{lib:?}");
        for f in lib.pinned() {
            assert!(
                ["lib/", "kernel/time/", "kernel/locking/", "mm/", "drivers/base/", "net/"]
                    .iter()
                    .any(|d| f.path.starts_with(d))
                    && f.sha256.len() == 64,
                "{f:?}"
            );
            assert_eq!(f.pinned_by, LINUX_LIB_FILE);
        }
        assert!(toml::from_str::<LinuxLib>("sources = []\nfoo = 1\n").is_err(), "unknown keys are refused");
    }

    #[test]
    fn cflags_are_one_per_line() {
        let text = "# the shim's flags\n-O2\n\n  -ffreestanding  \n-DFOO=\"a b\"\n";
        assert_eq!(parse_cflags(text), ["-O2", "-ffreestanding", "-DFOO=\"a b\""]);
    }

    #[test]
    fn linux_headers_come_with_the_shadow_folder_first_and_kbuild_names() {
        let p = crate::linux_config::Prepared {
            srctree: PathBuf::from("/s"),
            objtree: PathBuf::from("/o"),
            version: "6.1.192-2".into(),
            key: "k".into(),
        };
        let root = Path::new("/w");
        let linux = Headers::Linux(p);
        let args: Vec<String> = linux.args(root).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args[..3], ["-nostdinc", "-I/w/dde-linux-shim/linux-shadow", "-I/s/arch/x86/include"]);
        let defines: Vec<String> = linux
            .kbuild_defines("ne2k-pci", "drivers/net/ethernet/8390/8390.c")
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            defines,
            ["-DKBUILD_MODFILE=\"drivers/net/ethernet/8390/ne2k-pci\"", "-D__KBUILD_MODNAME=kmod_ne2k_pci"]
        );
    }

    #[test]
    fn kbuild_names_have_no_dashes() {
        assert_eq!(kbuild_name("ne2k-pci"), "ne2k_pci");
        assert_eq!(kbuild_name("8139cp"), "8139cp");
    }

    #[test]
    fn depfiles_list_prerequisites() {
        let text = "x.o: /a/x.c /b/with\\ space.h \\\n /c/y.h\n/c/y.h:\n";
        assert_eq!(
            parse_depfile(text),
            [PathBuf::from("/a/x.c"), PathBuf::from("/b/with space.h"), PathBuf::from("/c/y.h")]
        );
    }
}

//! Linux's own headers with Resurgo's kernel configuration: the include
//! trees of the pinned `linux-source-6.1` and the headers Linux generates
//! for a configuration, which the shim and the legacy drivers are compiled
//! against (issue 11).
//!
//! 1. **The tree.** The parts of the Linux tree that kconfig and the
//!    header-generation steps read ([`in_tree`]: `include/`, `arch/x86/include/`,
//!    `scripts/`, `lib/`, every `Kconfig*` file, the top Makefiles...) are
//!    extracted once into the version's cache folder, beside the drivers'
//!    sources ([`linux::fetch_selected`]). The files are checked as a whole:
//!    the sha256 of their sorted `path sha256` lines must be the one
//!    [`TREE_PIN_FILE`] pins ([`tree_digest`]).
//! 2. **The configuration.** [`FRAGMENT_FILE`], a short fragment of our own,
//!    is expanded by Linux's kconfig (`make ARCH=x86_64 allnoconfig` with
//!    `KCONFIG_ALLCONFIG`, built from `scripts/kconfig` with flex and bison);
//!    every line of the fragment must hold in the result ([`unmet`]).
//! 3. **The generated headers.** `make prepare0`, the part of `make prepare`
//!    that writes headers (`include/generated/autoconf.h`, `bounds.h`,
//!    `timeconst.h`, `asm-offsets.h`, `uapi/linux/version.h`, and
//!    `arch/x86/include/generated/`: the asm-generic wrappers and the syscall
//!    tables) without building objtool, which this configuration does not use;
//!    and `lib/crc32table.h`, from Linux's own `lib/gen_crc32table.c`, for
//!    `lib/crc32.c`.
//!
//! Everything goes into an out-of-tree build folder,
//! `${XDG_CACHE_HOME:-~/.cache}/resurgo/linux-config/VERSION-KEY/`, keyed by
//! the Linux version, the tree's digest, the fragment and the compiler
//! ([`config_key`]); a second run finds it done. The host tools it needs
//! (make, flex, bison, bc, gcc) are installed with apt as root, or named in one
//! line otherwise. Nothing of Linux is ever written into the repository.

use crate::host::{DirLock, find_on_path};
use crate::{apt, linux, workspace_root};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Resurgo's configuration fragment, relative to the workspace root.
pub const FRAGMENT_FILE: &str = "dde-linux-shim/resurgo.config";
/// The digest of the extracted tree, relative to the workspace root.
pub const TREE_PIN_FILE: &str = "dde-linux-shim/linux-tree.toml";
/// The architecture Linux is configured for.
pub const ARCH: &str = "x86_64";
/// Marks the tree extracted in the version's cache folder; holds its digest.
const TREE_MARK: &str = ".resurgo-headers-tree";
/// Marks a configured build folder complete; holds its key.
const DONE_MARK: &str = ".resurgo-prepared";
/// Bumped when what [`prepare`] does changes, so older build folders are not reused.
const RECIPE: &str = "allnoconfig+prepare0+crc32table v2";

/// The host programs Linux's kconfig and header generation run, with the
/// Debian package of each.
pub const TOOLS: &[(&str, &str)] =
    &[("make", "make"), ("flex", "flex"), ("bison", "bison"), ("bc", "bc"), ("gcc", "gcc")];

/// Whether a file of the Linux tree (its path in the tree) is one the
/// configured headers need: what kconfig reads (every `Kconfig*` file, the
/// top Makefiles), what `make prepare0` reads (`scripts/`, the x86 Makefiles,
/// syscall tables, tools and asm-offsets, `kernel/bounds.c`,
/// `kernel/time/timeconst.bc`, the tools' own headers), the include trees, and
/// `lib/`, Linux's library code.
pub fn in_tree(path: &str) -> bool {
    const FOLDERS: &[&str] = &[
        "include/",
        "arch/x86/include/",
        "arch/x86/entry/syscalls/",
        "arch/x86/tools/",
        "scripts/",
        "lib/",
        "tools/include/",
        "tools/arch/x86/include/",
    ];
    const FILES: &[&str] = &["Makefile", "Kbuild", "kernel/bounds.c", "kernel/time/timeconst.bc", "arch/x86/Kbuild"];
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with('.') {
        return false;
    }
    name.starts_with("Kconfig")
        || FILES.contains(&path)
        || FOLDERS.iter().any(|f| path.starts_with(f))
        || path.strip_prefix("arch/x86/").is_some_and(|rest| rest.starts_with("Makefile"))
        || path.strip_prefix("arch/x86/kernel/").is_some_and(|rest| rest.starts_with("asm-offsets"))
}

/// What [`TREE_PIN_FILE`] holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreePin {
    /// How many files the tree has.
    pub files: usize,
    /// [`tree_digest`] of them.
    pub sha256: String,
}

/// Reads [`TREE_PIN_FILE`].
pub fn tree_pin() -> Result<TreePin> {
    let path = workspace_root().join(TREE_PIN_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("error: {TREE_PIN_FILE}: cannot read it"))?;
    toml::from_str(&text).map_err(|e| anyhow!("error: {TREE_PIN_FILE}: {}", e.message()))
}

/// The digest of a set of files: the sha256 of their `PATH SHA256` lines,
/// sorted by path.
pub fn digest_of(files: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for (path, sha) in files {
        text.push_str(path);
        text.push(' ');
        text.push_str(sha);
        text.push('\n');
    }
    linux::sha256_hex(text.as_bytes())
}

/// Every file under `dir` that [`in_tree`] picks, with its sha256, by its path in the tree.
pub fn tree_files(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot read {}", d.display()))?;
            let path = e.path();
            let kind = e.file_type().with_context(|| format!("cannot read {}", path.display()))?;
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(rel) = path.strip_prefix(dir) else { continue };
            let rel = rel.to_string_lossy().into_owned();
            if kind.is_file() && in_tree(&rel) {
                let sha = linux::sha256_file(&path)?;
                out.insert(rel, sha);
            }
        }
    }
    Ok(out)
}

/// [`digest_of`] the tree's files under `dir`, and how many there are.
pub fn tree_digest(dir: &Path) -> Result<(usize, String)> {
    let files = tree_files(dir)?;
    Ok((files.len(), digest_of(&files)))
}

/// The key of one configured build: the recipe, the Linux version, the
/// tree's digest, the fragment's text and the compiler's version line (Linux's
/// kconfig asks the compiler what it supports, so another compiler is another
/// configuration). 16 hex digits.
pub fn config_key(version: &str, tree_sha256: &str, fragment: &str, compiler: &str) -> String {
    let text = format!("{RECIPE}\0{version}\0{tree_sha256}\0{fragment}\0{compiler}");
    linux::sha256_hex(text.as_bytes())[..16].to_string()
}

/// What a fragment or a `.config` sets: `CONFIG_FOO=y` and `# CONFIG_FOO is
/// not set` (as `n`), by symbol name without the prefix.
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("# CONFIG_").and_then(|r| r.strip_suffix(" is not set")) {
            out.insert(rest.to_string(), "n".to_string());
        } else if let Some((sym, value)) = line.strip_prefix("CONFIG_").and_then(|r| r.split_once('=')) {
            out.insert(sym.to_string(), value.to_string());
        }
    }
    out
}

/// The lines of the fragment that the expanded `.config` does not honour,
/// as messages (`CONFIG_FOO=y: kconfig left it n (its dependencies are not met)`).
/// A symbol `.config` does not mention is off.
pub fn unmet(fragment: &str, dot_config: &str) -> Vec<String> {
    let got = parse_config(dot_config);
    let mut out = Vec::new();
    for (sym, want) in parse_config(fragment) {
        let have = got.get(&sym).map_or("n", String::as_str);
        if have != want {
            let why = if want == "n" { "something selects it" } else { "its dependencies are not met" };
            out.push(format!("CONFIG_{sym}={want}: kconfig made it {have} ({why})"));
        }
    }
    out
}

/// A configured Linux tree: the sources and the build folder with the
/// generated headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The Linux sources (`srctree`).
    pub srctree: PathBuf,
    /// The build folder (`objtree`): `.config`, `include/generated/`,
    /// `arch/x86/include/generated/`.
    pub objtree: PathBuf,
    /// The package version.
    pub version: String,
    /// [`config_key`].
    pub key: String,
}

impl Prepared {
    /// `include/generated/autoconf.h`.
    pub fn autoconf(&self) -> PathBuf {
        self.objtree.join("include/generated/autoconf.h")
    }

    /// The expanded configuration (`.config`).
    pub fn dot_config(&self) -> Result<BTreeMap<String, String>> {
        let path = self.objtree.join(".config");
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(parse_config(&text))
    }

    /// The compiler's include arguments for code built against this tree, in
    /// kbuild's order (`-nostdinc`, then the arch, generated, generic and
    /// uapi folders, then Linux's forced includes), with `shadow` first: a
    /// folder whose headers take the place of Linux's.
    pub fn include_args(&self, shadow: Option<&Path>) -> Vec<String> {
        let s = |p: &str| self.srctree.join(p).display().to_string();
        let o = |p: &str| self.objtree.join(p).display().to_string();
        let mut args = vec!["-nostdinc".to_string()];
        if let Some(shadow) = shadow {
            args.push(format!("-I{}", shadow.display()));
        }
        for dir in [
            s("arch/x86/include"),
            o("arch/x86/include/generated"),
            s("include"),
            o("include"),
            s("arch/x86/include/uapi"),
            o("arch/x86/include/generated/uapi"),
            s("include/uapi"),
            o("include/generated/uapi"),
        ] {
            args.push(format!("-I{dir}"));
        }
        for forced in ["include/linux/compiler-version.h", "include/linux/kconfig.h", "include/linux/compiler_types.h"]
        {
            args.push("-include".to_string());
            args.push(s(forced));
        }
        args.push("-D__KERNEL__".to_string());
        args
    }
}

/// `${XDG_CACHE_HOME:-~/.cache}/resurgo/linux-config`.
pub fn config_root() -> Result<PathBuf> {
    Ok(linux::cache_root()?.join("linux-config"))
}

/// Keeps the threads of this process out of the configured trees one at a time.
static CONFIG_LOCK: Mutex<()> = Mutex::new(());

/// Makes sure the pinned Linux tree is extracted and checked, configured with
/// [`FRAGMENT_FILE`] and its headers generated; returns where. Cached: a second
/// call with the same inputs only checks the marks.
pub fn prepare(progress: bool) -> Result<Prepared> {
    prepare_with(&[], progress).map(|(p, _)| p)
}

/// The fragment with `CONFIG_SYM=y` lines added for `extra` (drivers' own
/// options, whose `select`s kconfig then follows, as it would for a kernel
/// that builds them).
pub fn fragment_with(fragment: &str, extra: &[String]) -> String {
    let mut text = fragment.to_string();
    if !extra.is_empty() {
        text.push_str("\n# Added for this build: the options of the drivers it compiles.\n");
        for sym in extra {
            text.push_str(&format!("CONFIG_{sym}=y\n"));
        }
    }
    text
}

/// [`prepare`] with the options `extra` turned on as well (symbols without
/// `CONFIG_`), in a build folder of its own. Returns the lines of `extra`
/// kconfig did not honour (a driver option whose dependencies are not met);
/// only [`FRAGMENT_FILE`]'s own lines must hold.
pub fn prepare_with(extra: &[String], progress: bool) -> Result<(Prepared, Vec<String>)> {
    let root = workspace_root();
    let fragment_path = root.join(FRAGMENT_FILE);
    let base = fs::read_to_string(&fragment_path).with_context(|| format!("error: {FRAGMENT_FILE}: cannot read it"))?;
    let fragment = fragment_with(&base, extra);
    let extra_unmet = |objtree: &Path| -> Vec<String> {
        let dot = fs::read_to_string(objtree.join(".config")).unwrap_or_default();
        unmet(&fragment_with("", extra), &dot)
    };
    let pin = tree_pin()?;
    let sources = extract_tree(&pin, progress)?;
    ensure_tools()?;
    let compiler = compiler_version()?;
    let key = config_key(&sources.version, &pin.sha256, &fragment, &compiler);
    let objtree = config_root()?.join(format!("{}-{key}", sources.version));
    let prepared = Prepared { srctree: sources.dir.clone(), objtree: objtree.clone(), version: sources.version, key };
    let _lock = DirLock::acquire(&CONFIG_LOCK, &config_root()?, ".lock")?;
    if fs::read_to_string(objtree.join(DONE_MARK)).is_ok_and(|k| k.trim() == prepared.key) {
        let dropped = extra_unmet(&objtree);
        return Ok((prepared, dropped));
    }
    let started = Instant::now();
    // A half-done folder from an interrupted run is started over.
    if objtree.exists() {
        fs::remove_dir_all(&objtree).with_context(|| format!("cannot remove {}", objtree.display()))?;
    }
    fs::create_dir_all(&objtree).with_context(|| format!("cannot create {}", objtree.display()))?;
    let frag_copy = objtree.join("resurgo.config");
    fs::write(&frag_copy, &fragment).with_context(|| format!("cannot write {}", frag_copy.display()))?;
    let log_path = objtree.join("prepare.log");
    let mut log = String::new();
    let bar = spinner(progress, "configuring Linux (allnoconfig with dde-linux-shim/resurgo.config)");
    let allconfig = format!("KCONFIG_ALLCONFIG={}", frag_copy.display());
    let configured = run_make(&prepared, &[&allconfig, "allnoconfig"], &mut log);
    let result = configured.and_then(|()| {
        let dot = fs::read_to_string(objtree.join(".config")).context("kconfig wrote no .config")?;
        let unmet = unmet(&base, &dot);
        if !unmet.is_empty() {
            bail!(
                "error: {FRAGMENT_FILE}: Linux's kconfig does not honour {}:\n  {}",
                plural_lines(unmet.len()),
                unmet.join("\n  ")
            );
        }
        bar.set_message("generating Linux's headers (make prepare0)");
        run_make(&prepared, &["prepare0"], &mut log)?;
        crc32_table(&prepared, &mut log)
    });
    bar.finish_and_clear();
    let _ = fs::write(&log_path, &log);
    if let Err(e) = result {
        let tail: Vec<&str> = log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(e.context(format!(
            "configuring Linux failed (full log: {}); its last lines:\n{}",
            log_path.display(),
            tail.join("\n")
        )));
    }
    for generated in [
        "include/generated/autoconf.h",
        "include/generated/bounds.h",
        "include/generated/uapi/linux/version.h",
        "lib/crc32table.h",
    ] {
        if !objtree.join(generated).is_file() {
            bail!("configuring Linux wrote no {generated} (see {})", log_path.display());
        }
    }
    fs::write(objtree.join(DONE_MARK), &prepared.key)
        .with_context(|| format!("cannot write {}", objtree.join(DONE_MARK).display()))?;
    if progress {
        apt::say(&format!(
            "configured Linux {} for Resurgo in {:.1} s: {}",
            prepared.version,
            started.elapsed().as_secs_f64(),
            crate::display_path(&objtree, &root)
        ));
    }
    let dropped = extra_unmet(&objtree);
    Ok((prepared, dropped))
}

/// `lib/crc32table.h`, which Linux's `lib/crc32.c` includes: generated as
/// kbuild does, by Linux's own host program `lib/gen_crc32table.c` (built with
/// the build folder's `lib/` on the include path, where its
/// `../include/generated/autoconf.h` is found).
fn crc32_table(p: &Prepared, log: &mut String) -> Result<()> {
    let dir = p.objtree.join("lib");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let program = dir.join("gen_crc32table");
    let mut cc = Command::new("gcc");
    cc.arg("-O2").arg("-I").arg(&dir).arg("-o").arg(&program).arg(p.srctree.join("lib/gen_crc32table.c"));
    log.push_str("== gcc lib/gen_crc32table.c\n");
    let out = cc.env("LC_ALL", "C").stdin(Stdio::null()).output().context("cannot run gcc")?;
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("building Linux's lib/gen_crc32table failed ({})", out.status);
    }
    let out = Command::new(&program).stdin(Stdio::null()).output().context("cannot run lib/gen_crc32table")?;
    if !out.status.success() || out.stdout.is_empty() {
        bail!("Linux's lib/gen_crc32table failed ({})", out.status);
    }
    let table = dir.join("crc32table.h");
    fs::write(&table, &out.stdout).with_context(|| format!("cannot write {}", table.display()))
}

/// `2 lines` or `1 line`.
fn plural_lines(n: usize) -> String {
    if n == 1 { "1 line".into() } else { format!("{n} lines") }
}

/// Extracts the tree once (the mark holds its digest) and checks it against the pin.
fn extract_tree(pin: &TreePin, progress: bool) -> Result<linux::Sources> {
    let label = "Linux's headers, scripts, lib and Kconfig files";
    let mut sources = linux::fetch_selected(TREE_MARK, label, &in_tree, progress)?;
    let mark = sources.dir.join(TREE_MARK);
    let marked = fs::read_to_string(&mark).unwrap_or_default();
    if marked.trim() == pin.sha256 {
        return Ok(sources);
    }
    if !marked.trim().is_empty() {
        // Extracted for another selection or pin: extract again.
        fs::remove_file(&mark).with_context(|| format!("cannot remove {}", mark.display()))?;
        sources = linux::fetch_selected(TREE_MARK, label, &in_tree, progress)?;
    }
    // Just extracted: check every file.
    let (files, digest) = tree_digest(&sources.dir)?;
    if digest != pin.sha256 {
        bail!(
            "error: {TREE_PIN_FILE}: the Linux tree extracted from {} {} ({}) has {files} files with digest {digest}; \
             {TREE_PIN_FILE} pins {} files with digest {} (a new selection in src/linux_config.rs is pinned by \
             writing these figures there)",
            linux::PACKAGE,
            sources.version,
            sources.dir.display(),
            pin.files,
            pin.sha256
        );
    }
    fs::write(&mark, &digest).with_context(|| format!("cannot write {}", mark.display()))?;
    Ok(sources)
}

/// Installs the host programs [`TOOLS`] names that are not on this machine.
fn ensure_tools() -> Result<()> {
    let missing: Vec<&str> = TOOLS.iter().filter(|(bin, _)| find_on_path(bin).is_none()).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt::install(&missing, "configuring Linux's headers with Linux's own kconfig (scripts/kconfig, make prepare)")?;
    let still: Vec<&str> = TOOLS.iter().filter(|(bin, _)| find_on_path(bin).is_none()).map(|(bin, _)| *bin).collect();
    if !still.is_empty() {
        bail!("error: installed {}, but {} still cannot be found", missing.join(" "), still.join(", "));
    }
    Ok(())
}

/// The first line of `gcc --version`.
fn compiler_version() -> Result<String> {
    let out = Command::new("gcc").arg("--version").env("LC_ALL", "C").stdin(Stdio::null()).output();
    let out = out.context("cannot run `gcc --version`")?;
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string())
}

/// Runs Linux's make in the source tree with the build folder `O=` and
/// `ARCH`, appending its output to `log`.
fn run_make(p: &Prepared, args: &[&str], log: &mut String) -> Result<()> {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut cmd = Command::new("make");
    cmd.arg("-C").arg(&p.srctree).arg(format!("O={}", p.objtree.display())).arg(format!("ARCH={ARCH}"));
    cmd.arg(format!("-j{jobs}")).args(args);
    // A jobserver or flags of an outer make or cargo do not apply here.
    for var in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CARGO_MAKEFLAGS", "KBUILD_OUTPUT", "CROSS_COMPILE", "ARCH"] {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C").stdin(Stdio::null());
    log.push_str(&format!("== make {}\n", args.join(" ")));
    let out = cmd.output().with_context(|| format!("cannot run `make {}`", args.join(" ")))?;
    log.push_str(&String::from_utf8_lossy(&out.stdout));
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("`make {}` in Linux's tree failed ({})", args.join(" "), out.status);
    }
    Ok(())
}

/// A spinner with a message on a terminal, a plain line otherwise (with `progress`).
fn spinner(progress: bool, message: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !progress {
        return ProgressBar::hidden();
    }
    if !std::io::stderr().is_terminal() {
        apt::say(message);
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("progress template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_headers_scripts_lib_and_kconfig() {
        for path in [
            "include/linux/netdevice.h",
            "arch/x86/include/asm/io.h",
            "arch/x86/include/uapi/asm/types.h",
            "arch/x86/entry/syscalls/syscall_64.tbl",
            "arch/x86/tools/relocs.c",
            "arch/x86/kernel/asm-offsets.c",
            "arch/x86/kernel/asm-offsets_64.c",
            "arch/x86/Makefile",
            "arch/x86/Makefile_32.cpu",
            "arch/x86/Kconfig",
            "scripts/kconfig/conf.c",
            "lib/ctype.c",
            "drivers/net/ethernet/Kconfig",
            "Kconfig",
            "Makefile",
            "kernel/bounds.c",
            "kernel/time/timeconst.bc",
            "tools/include/tools/be_byteshift.h",
        ] {
            assert!(in_tree(path), "{path}");
        }
        for path in [
            "drivers/net/ethernet/realtek/8139cp.c",
            "drivers/net/ethernet/Makefile",
            "arch/arm/include/asm/io.h",
            "arch/x86/kernel/setup.c",
            "kernel/sched/core.c",
            "tools/objtool/check.c",
            "include/.gitignore",
            ".resurgo-survey-tree",
            "linux-source-6.1_6.1.192-2_all.deb",
        ] {
            assert!(!in_tree(path), "{path}");
        }
    }

    #[test]
    fn the_digest_is_of_sorted_path_and_sum_lines() {
        let mut files = BTreeMap::new();
        files.insert("b".to_string(), "22".to_string());
        files.insert("a".to_string(), "11".to_string());
        assert_eq!(digest_of(&files), linux::sha256_hex(b"a 11\nb 22\n"));
        assert_eq!(digest_of(&BTreeMap::new()), linux::sha256_hex(b""));
    }

    #[test]
    fn tree_files_walks_only_the_selection() {
        let tmp = std::env::temp_dir().join(format!("resurgo-linux-config-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        for (p, data) in [("include/linux/a.h", "a"), ("drivers/x.c", "x"), ("drivers/Kconfig", "k"), (".mark", "")] {
            let path = tmp.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, data).unwrap();
        }
        let files = tree_files(&tmp).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["drivers/Kconfig", "include/linux/a.h"]);
        assert_eq!(files["include/linux/a.h"], linux::sha256_hex(b"a"));
        let (n, digest) = tree_digest(&tmp).unwrap();
        assert_eq!((n, digest), (2, digest_of(&files)));
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn the_key_changes_with_every_input() {
        let base = config_key("6.1.192-2", "aa", "CONFIG_PCI=y\n", "gcc 12");
        assert_eq!(base.len(), 16);
        assert_eq!(base, config_key("6.1.192-2", "aa", "CONFIG_PCI=y\n", "gcc 12"));
        for other in [
            config_key("6.1.192-3", "aa", "CONFIG_PCI=y\n", "gcc 12"),
            config_key("6.1.192-2", "ab", "CONFIG_PCI=y\n", "gcc 12"),
            config_key("6.1.192-2", "aa", "CONFIG_NET=y\n", "gcc 12"),
            config_key("6.1.192-2", "aa", "CONFIG_PCI=y\n", "gcc 13"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn fragments_and_configs_are_read_alike() {
        let text = "# a comment\nCONFIG_PCI=y\n# CONFIG_SMP is not set\nCONFIG_NR_CPUS=1\nCONFIG_X=\"a=b\"\n\n";
        let c = parse_config(text);
        assert_eq!(c["PCI"], "y");
        assert_eq!(c["SMP"], "n");
        assert_eq!(c["NR_CPUS"], "1");
        assert_eq!(c["X"], "\"a=b\"");
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn a_fragment_line_kconfig_drops_is_named() {
        let fragment = "CONFIG_PCI=y\nCONFIG_UNWINDER_GUESS=y\n# CONFIG_OBJTOOL is not set\n# CONFIG_SMP is not set\n";
        let dot = "CONFIG_PCI=y\n# CONFIG_UNWINDER_GUESS is not set\nCONFIG_OBJTOOL=y\n";
        assert_eq!(
            unmet(fragment, dot),
            [
                "CONFIG_OBJTOOL=n: kconfig made it y (something selects it)",
                "CONFIG_UNWINDER_GUESS=y: kconfig made it n (its dependencies are not met)",
            ]
        );
        assert!(unmet("CONFIG_PCI=y\n", "CONFIG_PCI=y\n").is_empty());
    }

    #[test]
    fn drivers_options_are_added_as_lines_of_the_fragment() {
        assert_eq!(fragment_with("CONFIG_PCI=y\n", &[]), "CONFIG_PCI=y\n");
        let text = fragment_with("CONFIG_PCI=y\n", &["E1000".to_string(), "NET_VENDOR_INTEL".to_string()]);
        let c = parse_config(&text);
        assert_eq!((c["PCI"].as_str(), c["E1000"].as_str(), c["NET_VENDOR_INTEL"].as_str()), ("y", "y", "y"));
        assert_ne!(
            config_key("v", "t", &text, "gcc"),
            config_key("v", "t", "CONFIG_PCI=y\n", "gcc"),
            "another build folder"
        );
    }

    #[test]
    fn includes_follow_kbuild_with_the_shadow_first() {
        let p = Prepared {
            srctree: PathBuf::from("/s"),
            objtree: PathBuf::from("/o"),
            version: "6.1.192-2".into(),
            key: "k".into(),
        };
        let args = p.include_args(Some(Path::new("/shadow")));
        assert_eq!(args[..4], ["-nostdinc", "-I/shadow", "-I/s/arch/x86/include", "-I/o/arch/x86/include/generated"]);
        assert!(args.contains(&"-I/o/include/generated/uapi".to_string()));
        let forced: Vec<&String> = args.windows(2).filter(|w| w[0] == "-include").map(|w| &w[1]).collect();
        assert_eq!(
            forced,
            ["/s/include/linux/compiler-version.h", "/s/include/linux/kconfig.h", "/s/include/linux/compiler_types.h"]
        );
        assert_eq!(args.last().map(String::as_str), Some("-D__KERNEL__"));
        assert_eq!(p.include_args(None)[1], "-I/s/arch/x86/include");
    }

    #[test]
    fn the_fragment_is_committed_and_honoured_by_itself() {
        let text = fs::read_to_string(workspace_root().join(FRAGMENT_FILE)).unwrap();
        let c = parse_config(&text);
        for sym in ["PCI", "NET", "DEBUG_SPINLOCK"] {
            assert_eq!(c.get(sym).map(String::as_str), Some("y"), "{sym}");
        }
        assert_eq!(c.get("SMP").map(String::as_str), Some("n"));
        assert!(unmet(&text, &text).is_empty());
    }
}

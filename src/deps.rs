//! The system packages the host commands need, found on this machine or
//! installed through [`crate::apt`]: QEMU to boot, libclang for bindgen (the
//! driver shim's bindings), a C compiler for the legacy drivers, apt itself
//! for the Linux sources and the native baseline. `resurgo doctor` lists them.
//!
//! A command names what it needs ([`ensure`]); what is missing is installed in
//! one apt-get run, as root, with a progress line, or named in one line with
//! the exact command when not root.

use crate::apt;
use crate::host::{find_on_path, running_as_root};
use anyhow::Result;
use std::fs;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// One thing a command needs from the system.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// What it is, as `doctor` lists it.
    pub name: &'static str,
    /// The Debian packages that provide it.
    pub packages: &'static [&'static str],
    /// What needs it, as a message says.
    pub why: &'static str,
    /// Where it is on this machine, if it is.
    probe: fn() -> Option<PathBuf>,
}

impl Requirement {
    /// Where it is on this machine, if it is.
    pub fn found(&self) -> Option<PathBuf> {
        (self.probe)()
    }
}

/// QEMU, which boots every image.
pub const QEMU: Requirement = Requirement {
    name: "QEMU (qemu-system-x86_64)",
    packages: &["qemu-system-x86"],
    why: "booting the image in QEMU",
    probe: || find_on_path("qemu-system-x86_64"),
};

/// libclang, which bindgen loads to generate the shim's bindings.
pub const LIBCLANG: Requirement = Requirement {
    name: "libclang (for bindgen)",
    packages: &["clang", "libclang-dev"],
    why: "building the driver shim, whose Rust bindings bindgen generates with libclang",
    probe: find_libclang,
};

/// The C compiler the legacy drivers and the shim's C are compiled with.
pub const C_COMPILER: Requirement = Requirement {
    name: "C compiler (gcc)",
    packages: &["gcc"],
    why: "compiling the legacy Linux drivers and the shim's C",
    probe: || {
        let cc = std::env::var_os("CC").filter(|c| !c.is_empty()).map(PathBuf::from);
        cc.and_then(|c| if c.is_absolute() { Some(c) } else { find_on_path(&c.to_string_lossy()) })
            .or_else(|| find_on_path("gcc"))
            .or_else(|| find_on_path("cc"))
    },
};

/// apt itself, which fetches the Linux sources and the native baseline.
pub const APT: Requirement = Requirement {
    name: "apt-get",
    packages: &["apt"],
    why: "fetching Debian's linux-source-6.1 and, for `bench net`, Debian's Linux kernel and busybox-static",
    probe: || find_on_path("apt-get"),
};

/// The host programs Linux's own kconfig and header generation run
/// ([`crate::linux_config`]): the shim and the legacy drivers are compiled
/// against Linux's headers configured with them.
pub const MAKE: Requirement = Requirement {
    name: "make",
    packages: &["make"],
    why: "configuring Linux's headers with Linux's own kconfig and `make prepare0`",
    probe: || find_on_path("make"),
};

/// flex, which Linux's kconfig (`scripts/kconfig`) is built with.
pub const FLEX: Requirement = Requirement {
    name: "flex",
    packages: &["flex"],
    why: "building Linux's kconfig (scripts/kconfig/lexer.l) to configure Linux's headers",
    probe: || find_on_path("flex"),
};

/// bison, which Linux's kconfig (`scripts/kconfig`) is built with.
pub const BISON: Requirement = Requirement {
    name: "bison",
    packages: &["bison"],
    why: "building Linux's kconfig (scripts/kconfig/parser.y) to configure Linux's headers",
    probe: || find_on_path("bison"),
};

/// bc, which Linux's header generation runs (`kernel/time/timeconst.bc`).
pub const BC: Requirement = Requirement {
    name: "bc",
    packages: &["bc"],
    why: "generating Linux's include/generated/timeconst.h (kernel/time/timeconst.bc)",
    probe: || find_on_path("bc"),
};

/// Everything any command needs, in `doctor`'s order.
pub const ALL: &[Requirement] = &[QEMU, LIBCLANG, C_COMPILER, APT, MAKE, FLEX, BISON, BC];

/// What building an image needs.
pub const BUILD: &[Requirement] = &[LIBCLANG, C_COMPILER, APT, MAKE, FLEX, BISON, BC];

/// Folders where clang-sys (bindgen's loader) looks for libclang on Debian.
fn libclang_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(p) = std::env::var_os("LIBCLANG_PATH").filter(|p| !p.is_empty()) {
        dirs.push(PathBuf::from(p));
    }
    if let Ok(entries) = fs::read_dir("/usr/lib") {
        let mut llvm: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("llvm-"))
            .map(|e| e.path().join("lib"))
            .collect();
        llvm.sort();
        llvm.reverse();
        dirs.extend(llvm);
    }
    dirs.extend(["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"].map(PathBuf::from));
    dirs
}

/// Whether a file name is one clang-sys loads: `libclang.so`, `libclang-14.so`,
/// `libclang.so.1`, `libclang-14.so.1`...
fn is_libclang(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("libclang") else { return false };
    // `libclang-14...`: a version after the dash (not `libclang-cpp`, the C++ API).
    let rest = match rest.strip_prefix('-') {
        Some(v) if v.starts_with(|c: char| c.is_ascii_digit()) => v.find(".so").map(|at| &v[at..]),
        Some(_) => None,
        None => Some(rest),
    };
    rest.is_some_and(|r| r == ".so" || r.starts_with(".so."))
}

fn find_libclang() -> Option<PathBuf> {
    libclang_dirs().into_iter().find_map(|dir| {
        let entries = fs::read_dir(&dir).ok()?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| is_libclang(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        names.sort();
        names.into_iter().next()
    })
}

/// The packages to install for what is missing, each once, in order.
pub fn missing_packages<'a>(missing: &[&'a Requirement]) -> Vec<&'a str> {
    let mut packages: Vec<&str> = Vec::new();
    for r in missing {
        for p in r.packages {
            if !packages.contains(p) {
                packages.push(p);
            }
        }
    }
    packages
}

static ENSURE_LOCK: Mutex<()> = Mutex::new(());

/// Makes sure every requirement is on this machine, installing what is missing
/// in one apt-get run (as root; anyone else gets the command to run).
pub fn ensure(requirements: &[Requirement]) -> Result<()> {
    let _guard = ENSURE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let missing: Vec<&Requirement> = requirements.iter().filter(|r| r.found().is_none()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing_packages(&missing);
    let why: Vec<&str> = missing.iter().map(|r| r.why).collect();
    apt::install(&packages, &why.join("; "))?;
    let still: Vec<&str> = missing.iter().filter(|r| r.found().is_none()).map(|r| r.name).collect();
    if !still.is_empty() {
        anyhow::bail!(
            "error: installed {}, but {} still cannot be found on this machine",
            packages.join(" "),
            still.join(", ")
        );
    }
    Ok(())
}

/// One line of `resurgo doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// Where it is, or `None` when it is missing.
    pub found: Option<String>,
    /// How it gets installed (or refreshed) when missing.
    pub how: String,
}

/// What `resurgo doctor` reports: the system packages, apt's lists, the
/// cached Linux sources.
pub fn doctor() -> Vec<Check> {
    let root = running_as_root();
    let how = |packages: &[&str]| {
        if root {
            format!(
                "installed on first use by `resurgo up`, `resurgo build` or `cargo test` (apt-get install {})",
                packages.join(" ")
            )
        } else {
            format!("run `{}`", apt::install_command(packages))
        }
    };
    let mut checks: Vec<Check> = ALL
        .iter()
        .map(|r| Check {
            name: r.name.to_string(),
            found: r.found().map(|p| p.display().to_string()),
            how: how(r.packages),
        })
        .collect();
    let lists = match (apt::lists_present(), apt::lists_age()) {
        (true, Some(age)) => Some(format!("refreshed {} ago", human_age(age.as_secs()))),
        (true, None) => Some("present".to_string()),
        (false, _) => None,
    };
    let refresh = if root { "refreshed by the first command that needs them" } else { "run `sudo apt-get update`" };
    checks.push(Check { name: "apt's package lists".into(), found: lists, how: refresh.into() });
    let pinned = crate::linux::pinned_version().unwrap_or_else(|e| format!("({e})"));
    let sources = crate::linux::version_dir(&pinned).ok().filter(|d| d.is_dir());
    let deb = sources.as_deref().and_then(apt::deb_in);
    let cached = sources.map(|d| {
        let kept = if deb.is_some() { ", package kept" } else { "" };
        format!("{}{kept}", d.display())
    });
    checks.push(Check {
        name: format!("Linux sources ({} {pinned})", crate::linux::PACKAGE),
        found: cached,
        how: "fetched on first build with `apt-get download` (about 140 MB), or `resurgo driver fetch`".into(),
    });
    checks.push(l4re_check());
    checks
}

/// The L4Re build `--kernel fiasco` boots (never installed: it is named).
fn l4re_check() -> Check {
    use crate::fiasco::{L4RE_ENV, L4re};
    let name = format!("Fiasco.OC + L4Re (${L4RE_ENV})");
    match L4re::from_env() {
        Ok(Some(l)) => Check { name, found: Some(l.root.display().to_string()), how: String::new() },
        Ok(None) => Check {
            name,
            found: None,
            how: format!(
                "only for `--kernel fiasco`: set {L4RE_ENV} to a Fiasco.OC + L4Re build (like ../shared/fiasco)"
            ),
        },
        Err(e) => Check { name, found: None, how: format!("{e:#}").trim_start_matches("error: ").to_string() },
    }
}

/// `3 days`, `5 hours`, `12 minutes`.
fn human_age(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s >= 2 * 86400 => (s / 86400, "day"),
        s if s >= 2 * 3600 => (s / 3600, "hour"),
        s => (s / 60, "minute"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `doctor`'s table.
pub fn doctor_table(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        match &c.found {
            Some(at) => out.push_str(&format!("ok       {:width$}  {at}\n", c.name)),
            None => out.push_str(&format!("missing  {:width$}  {}\n", c.name, c.how)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libclang_file_names_are_the_ones_clang_sys_loads() {
        for name in ["libclang.so", "libclang-14.so", "libclang.so.1", "libclang-14.so.1", "libclang-14.0.6.so.14"] {
            assert!(is_libclang(name), "{name}");
        }
        for name in [
            "libclang-cpp.a",
            "libclangBasic.a",
            "libclang.a",
            "libclang-14.a",
            "libc.so.6",
            "libclang",
            "libclang-cpp.so.14",
        ] {
            assert!(!is_libclang(name), "{name}");
        }
    }

    #[test]
    fn packages_are_installed_once_each_in_order() {
        let pkgs = missing_packages(&[&LIBCLANG, &QEMU, &LIBCLANG]);
        assert_eq!(pkgs, ["clang", "libclang-dev", "qemu-system-x86"]);
    }

    #[test]
    fn the_doctor_says_how_to_get_what_is_missing() {
        let checks = [
            Check { name: "QEMU".into(), found: None, how: "run `sudo apt-get install -y qemu-system-x86`".into() },
            Check { name: "gcc".into(), found: Some("/usr/bin/gcc".into()), how: String::new() },
        ];
        let table = doctor_table(&checks);
        assert_eq!(
            table,
            "missing  QEMU  run `sudo apt-get install -y qemu-system-x86`\nok       gcc   /usr/bin/gcc\n"
        );
        assert_eq!(human_age(3 * 86400 + 5), "3 days");
        assert_eq!(human_age(60), "1 minute");
    }
}

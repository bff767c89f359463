//! `resurgo driver loc`: lines of code in each driver task. Linux's C files
//! a task compiles in (the driver's own and the library files its link
//! takes, as the driver build links them), and Resurgo's own code every
//! driver task carries: the shim (its C, the shadow headers, its Rust),
//! DDEKit and the task runtime. Lines are counted as `wc -l` counts them;
//! Linux's headers, which the files include, are not counted.

use crate::driver_build::{self, CompiledDrivers};
use crate::workspace_root;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One driver task's Linux code.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DriverLines {
    /// Its own files (`drivers/net/...`), in lines.
    pub driver: u64,
    /// Linux's library files linked into it (`lib/...`, `mm/dmapool.c`).
    pub library: u64,
    /// Both.
    pub linux: u64,
    /// The library files, by path in the Linux tree, with their lines.
    pub library_files: BTreeMap<String, u64>,
}

/// A part of Resurgo's own code, in lines.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OwnLines {
    pub c: u64,
    pub rust: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Loc {
    pub drivers: BTreeMap<String, DriverLines>,
    /// `dde-linux-shim`: `csrc`, `include`, `linux-shadow` (C) and `src` (Rust).
    pub shim: OwnLines,
    /// `ddekit`: `include` (C) and `src` (Rust).
    pub ddekit: OwnLines,
    /// `rt`, the task runtime (Rust).
    pub runtime: OwnLines,
}

/// Lines in `text`, as `wc -l` counts them (a last line without its newline counts).
pub fn lines_of(text: &[u8]) -> u64 {
    let n = text.iter().filter(|&&b| b == b'\n').count() as u64;
    n + u64::from(!text.is_empty() && !text.ends_with(b"\n"))
}

fn file_lines(path: &Path) -> Result<u64> {
    Ok(lines_of(&fs::read(path).with_context(|| format!("cannot read {}", path.display()))?))
}

/// Lines of the files under `dirs` (relative to `root`) whose names end in one of `exts`.
fn tree_lines(root: &Path, dirs: &[&str], exts: &[&str]) -> Result<u64> {
    fn walk(dir: &Path, exts: &[&str], total: &mut u64) -> Result<()> {
        let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, exts, total)?;
            } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e)) {
                *total += file_lines(&p)?;
            }
        }
        Ok(())
    }
    let mut total = 0;
    for d in dirs {
        walk(&root.join(d), exts, &mut total)?;
    }
    Ok(total)
}

fn own(root: &Path, c_dirs: &[&str], rust_dirs: &[&str]) -> Result<OwnLines> {
    Ok(OwnLines { c: tree_lines(root, c_dirs, &["c", "h", "S"])?, rust: tree_lines(root, rust_dirs, &["rs"])? })
}

/// Counts the lines of `compiled`'s drivers, linked against the shim library `lib`.
pub fn count(compiled: &CompiledDrivers, lib: &Path) -> Result<Loc> {
    let root = workspace_root();
    let mut drivers = BTreeMap::new();
    for (name, linked) in compiled.linked_sources(lib)? {
        let mut driver = 0;
        for (_, path) in &linked.driver {
            driver += file_lines(path)?;
        }
        let mut library_files = BTreeMap::new();
        for (tree, path) in &linked.library {
            library_files.insert(tree.clone(), file_lines(path)?);
        }
        let library = library_files.values().sum();
        drivers.insert(name, DriverLines { driver, library, linux: driver + library, library_files });
    }
    Ok(Loc {
        drivers,
        shim: own(
            &root,
            &["dde-linux-shim/csrc", "dde-linux-shim/include", "dde-linux-shim/linux-shadow"],
            &["dde-linux-shim/src"],
        )?,
        ddekit: own(&root, &["ddekit/include"], &["ddekit/src"])?,
        runtime: own(&root, &[], &["rt/src"])?,
    })
}

/// Builds the drivers (as `driver build` does) and counts.
pub fn run(drivers: &[&crate::drivers::Driver], progress: bool) -> Result<Loc> {
    let lib = crate::image::build_shim(progress)?;
    let compiled = crate::image::with_build_lock(|| driver_build::compile(drivers, progress))?;
    count(&compiled, &lib)
}

impl Loc {
    /// The table `driver loc` prints.
    pub fn table(&self) -> String {
        let mut s = format!("{:<14} {:>8} {:>8} {:>8}\n", "driver task", "driver", "library", "Linux");
        for (name, d) in &self.drivers {
            s.push_str(&format!("{name:<14} {:>8} {:>8} {:>8}\n", d.driver, d.library, d.linux));
        }
        s.push_str(&format!(
            "Resurgo's own, in every driver task: the shim {} lines of C + {} of Rust, DDEKit {} + {}, the runtime {} of Rust\n",
            self.shim.c, self.shim.rust, self.ddekit.c, self.ddekit.rust, self.runtime.rust,
        ));
        s
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_wc_does() {
        assert_eq!(lines_of(b""), 0);
        assert_eq!(lines_of(b"one\ntwo\n"), 2);
        assert_eq!(lines_of(b"one\ntwo"), 2);
        assert_eq!(lines_of(b"\n\n"), 2);
    }
}

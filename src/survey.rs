//! `resurgo driver survey`: how far the shim is from "any Linux NIC driver
//! drops in".
//!
//! From the pinned linux-source-6.1 (fetched as every other command fetches
//! it: `drivers/net/ethernet` and every Kconfig file of the tree, extracted
//! once into the cache), it finds the modules `drivers/net/ethernet`'s
//! Makefiles build, keeps the PCI drivers among them (a source defines a
//! `struct pci_driver`) that Linux's Kconfig allows on x86-64 ([`kconfig`]:
//! the maximal configuration without `COMPILE_TEST`), and builds each as a
//! Resurgo driver task against the current shim, with traps for what nothing
//! defines. Per driver it reports whether it compiled (or the first error),
//! whether it linked and how many traps it needs; across all, the headers and
//! symbols most often missing. A module is its Makefile's unconditional
//! objects (`NAME-y`, `NAME-objs`); parts behind further options
//! (`NAME-$(CONFIG_FOO)`) are left out, as a minimal configuration would.
//!
//! Objects and failed compiles are kept under `target/image/survey/`, so a
//! second run with the same shim only links.

use crate::diagnostics::Kind;
use crate::driver_build::{self, SurveyItem, SurveyOutcome};
use crate::kconfig::Kconfig;
use crate::{image, linux};
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The part of the tree the survey covers.
pub const ROOT: &str = "drivers/net/ethernet";
/// Marks the survey's files extracted in the cache's version folder.
const MARK: &str = ".resurgo-survey-tree";

/// One module `drivers/net/ethernet`'s Makefiles build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module's name (`e1000`, `8139too`).
    pub name: String,
    /// Its own option (`E1000`) and those of the folders above it.
    pub configs: Vec<String>,
    /// Its C files, by their path in the tree.
    pub sources: Vec<String>,
    /// `-I`/`-D` flags of its Makefile (`ccflags-y`, `subdir-ccflags-y` above).
    pub flags: Vec<String>,
    /// The folder of its Makefile.
    pub dir: String,
    /// The modules its Makefile builds on the same line, under the same
    /// option (`obj-$(CONFIG_NE2K_PCI) += ne2k-pci.o 8390.o`): libraries it needs.
    pub companions: Vec<String>,
}

/// What a Makefile of Linux's kbuild says, as far as the survey needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Makefile {
    /// `obj-$(CONFIG_FOO) += foo.o bar/`: (option, targets of the line); `None` for `obj-y`.
    pub obj: Vec<(Option<String>, Vec<String>)>,
    /// `foo-objs := a.o b.o`, `foo-y += c.o`: the unconditional parts of each composite.
    pub parts: BTreeMap<String, Vec<String>>,
    /// `ccflags-y` for this folder, `subdir-ccflags-y` for the ones below too.
    pub ccflags: Vec<String>,
    pub subdir_ccflags: Vec<String>,
}

/// Reads a kbuild Makefile: assignments to `obj-*`, `NAME-objs`, `NAME-y`
/// and the ccflags, with line continuations; conditionals are not evaluated
/// (every branch counts).
pub fn parse_makefile(text: &str) -> Makefile {
    let mut m = Makefile::default();
    let joined = text.replace("\\\n", " ");
    for raw in joined.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let Some((lhs, rhs)) = line.split_once("+=").or_else(|| line.split_once(":=")).or_else(|| line.split_once('='))
        else {
            continue;
        };
        let lhs = lhs.trim().trim_end_matches(':');
        let words: Vec<String> = rhs.split_whitespace().map(String::from).collect();
        if let Some(cond) = lhs.strip_prefix("obj-") {
            let cond = match cond {
                "y" | "m" => None,
                c => match c.strip_prefix("$(CONFIG_").and_then(|c| c.strip_suffix(')')) {
                    Some(c) => Some(c.to_string()),
                    None => continue,
                },
            };
            m.obj.push((cond, words));
        } else if lhs == "ccflags-y" || lhs == "EXTRA_CFLAGS" {
            m.ccflags.extend(words);
        } else if lhs == "subdir-ccflags-y" {
            m.subdir_ccflags.extend(words);
        } else if let Some(name) = lhs.strip_suffix("-objs").or_else(|| lhs.strip_suffix("-y"))
            && !name.is_empty()
            && !name.contains('$')
            && !name.contains("ccflags")
        {
            m.parts.entry(name.to_string()).or_default().extend(words);
        }
    }
    m
}

/// Kbuild's `$(srctree)`, `$(src)` and `$(obj)` in a flag; only `-I` and
/// `-D` flags are kept.
fn flag(word: &str, tree: &Path, dir: &str) -> Option<String> {
    if !(word.starts_with("-I") || word.starts_with("-D")) {
        return None;
    }
    let here = tree.join(dir).display().to_string();
    // `$(src)` is the folder's path in the tree: `$(srctree)/$(src)` is the folder.
    let w = word
        .replace("$(srctree)/$(src)", &here)
        .replace("$(srctree)/$(obj)", &here)
        .replace("$(srctree)/", &format!("{}/", tree.display()))
        .replace("$(src)", &tree.join(dir).display().to_string())
        .replace("$(obj)", &tree.join(dir).display().to_string());
    (!w.contains("$(")).then_some(w)
}

/// Flags with `-I DIR` and `-D NAME` written as one word (`-IDIR`).
fn joined(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "-I" || w == "-D" {
            out.push(format!("{w}{}", it.next().map_or("", String::as_str)));
        } else {
            out.push(w.clone());
        }
    }
    out
}

/// Every module below `drivers/net/ethernet` in the extracted tree.
pub fn modules(tree: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    walk(tree, ROOT, &[], &[], &mut out);
    out
}

fn walk(tree: &Path, dir: &str, gates: &[String], inherited: &[String], out: &mut Vec<Module>) {
    let Ok(text) = fs::read_to_string(tree.join(dir).join("Makefile")) else { return };
    let m = parse_makefile(&text);
    let mut flags: Vec<String> = inherited.to_vec();
    let below: Vec<String> = joined(&m.subdir_ccflags).iter().filter_map(|w| flag(w, tree, dir)).collect();
    flags.extend(below.iter().cloned());
    let mut sub_flags = inherited.to_vec();
    sub_flags.extend(below);
    flags.extend(joined(&m.ccflags).iter().filter_map(|w| flag(w, tree, dir)));
    for (cond, line) in &m.obj {
        for target in line {
            let mut configs = gates.to_vec();
            configs.extend(cond.clone());
            if let Some(sub) = target.strip_suffix('/') {
                walk(tree, &format!("{dir}/{sub}"), &configs, &sub_flags, out);
                continue;
            }
            let Some(stem) = target.strip_suffix(".o") else { continue };
            if stem.contains('/') || stem.contains('$') {
                continue;
            }
            let parts = m.parts.get(stem).cloned().unwrap_or_else(|| vec![target.clone()]);
            let sources: Vec<String> = parts
                .iter()
                .filter_map(|p| p.strip_suffix(".o"))
                .map(|p| format!("{dir}/{p}.c"))
                .filter(|p| tree.join(p).is_file())
                .collect();
            if sources.is_empty() || out.iter().any(|o: &Module| o.name == stem) {
                continue;
            }
            let companions = line
                .iter()
                .filter_map(|t| t.strip_suffix(".o"))
                .filter(|t| *t != stem && !t.contains('/'))
                .map(String::from)
                .collect();
            out.push(Module {
                name: stem.to_string(),
                configs,
                sources,
                flags: flags.clone(),
                dir: dir.to_string(),
                companions,
            });
        }
    }
}

/// Whether a C source registers a PCI driver.
pub fn is_pci(text: &str) -> bool {
    text.contains("struct pci_driver ")
}

/// The survey of one driver.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub config: String,
    pub files: usize,
    pub outcome: SurveyOutcome,
}

impl Row {
    /// The first thing that kept it from compiling: `header linux/foo.h`, `function foo`, ...
    pub fn first_error(&self) -> Option<String> {
        let f = self.outcome.compile_findings.first().or(self.outcome.link_findings.first())?;
        let what = match f.kind {
            Kind::Header => "header",
            Kind::Type => "type",
            Kind::IncompleteType => "incomplete type",
            Kind::Member => "member",
            Kind::Function => "function",
            Kind::Identifier => "identifier",
            Kind::Symbol => "symbol",
            Kind::Other => "error",
        };
        Some(format!("{what} {}", f.item))
    }

    fn missing_headers(&self) -> BTreeSet<&str> {
        self.outcome.compile_findings.iter().filter(|f| f.kind == Kind::Header).map(|f| f.item.as_str()).collect()
    }
}

/// The whole survey.
#[derive(Debug, Clone)]
pub struct Survey {
    pub linux_version: String,
    /// Modules the Makefiles build, PCI drivers among them, and those Kconfig allows on x86-64.
    pub modules: usize,
    pub pci: usize,
    /// PCI drivers Kconfig does not allow on x86-64, with the option that is off.
    pub excluded: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

impl Survey {
    pub fn compiled(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.compiled).count()
    }
    pub fn linked(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.linked).count()
    }
    pub fn without_traps(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.linked && r.outcome.traps.is_empty()).count()
    }

    /// Missing headers by the number of drivers that include them, most first.
    pub fn top_headers(&self) -> Vec<(String, usize)> {
        top(self.rows.iter().flat_map(|r| r.missing_headers().into_iter().map(String::from).collect::<Vec<_>>()))
    }

    /// Functions, constants and macros the headers do not declare, by
    /// the number of drivers that use them (as far as their compile got).
    pub fn top_undeclared(&self) -> Vec<(String, usize)> {
        top(self.rows.iter().flat_map(|r| {
            r.outcome
                .compile_findings
                .iter()
                .filter(|f| matches!(f.kind, Kind::Function | Kind::Identifier))
                .map(|f| f.item.clone())
                .collect::<BTreeSet<_>>()
        }))
    }

    /// Trapped symbols by the number of linked drivers that need them, most first.
    pub fn top_symbols(&self) -> Vec<(String, usize)> {
        top(self.rows.iter().flat_map(|r| r.outcome.traps.keys().cloned().collect::<Vec<_>>()))
    }

    /// The human table and totals.
    pub fn table(&self, top_n: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<18} {:<22} {:>5}  {:<8} {:<6} {:>5}  first error",
            "driver", "option", "files", "compiled", "linked", "traps"
        );
        for r in &self.rows {
            let traps = if r.outcome.linked { r.outcome.traps.len().to_string() } else { "-".into() };
            let _ = writeln!(
                s,
                "{:<18} {:<22} {:>5}  {:<8} {:<6} {:>5}  {}",
                r.name,
                r.config,
                r.files,
                yes(r.outcome.compiled),
                yes(r.outcome.linked),
                traps,
                r.first_error().unwrap_or_default()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", self.totals_line());
        if !self.excluded.is_empty() {
            let names: Vec<String> = self.excluded.iter().map(|(n, c)| format!("{n} ({c})")).collect();
            let _ = writeln!(s, "not allowed on x86-64 (the option that is off): {}", names.join(", "));
        }
        let lists = [
            ("top missing headers (drivers that include them):", self.top_headers()),
            ("top undeclared functions, constants and macros (drivers that use them):", self.top_undeclared()),
            ("top missing symbols (linked drivers that trap them):", self.top_symbols()),
        ];
        for (title, list) in lists {
            let _ = writeln!(s, "{title}");
            if list.is_empty() {
                let _ = writeln!(s, "  (none)");
            }
            for (h, n) in list.into_iter().take(top_n) {
                let _ = writeln!(s, "  {n:>3}  {h}");
            }
        }
        s
    }

    /// What the drivers were compiled against.
    pub fn headers(&self) -> &'static str {
        "linux"
    }

    pub fn totals_line(&self) -> String {
        let against =
            "against Linux's own headers (dde-linux-shim/resurgo.config with the drivers' options, the shadow folder)";
        format!(
            "linux-source-6.1 {}: {} modules under {ROOT}, {} PCI drivers, {} allowed on x86-64; \
             {} compiled, {} linked, {} without any trap ({against})",
            self.linux_version,
            self.modules,
            self.pci,
            self.rows.len(),
            self.compiled(),
            self.linked(),
            self.without_traps()
        )
    }

    /// One JSON object (the last line of `--json`).
    pub fn json(&self, top_n: usize) -> serde_json::Value {
        let drivers: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "config": r.config,
                    "files": r.files,
                    "compiled": r.outcome.compiled,
                    "first_error": r.first_error(),
                    "missing_headers": r.missing_headers(),
                    "linked": r.outcome.linked,
                    "traps": r.outcome.linked.then_some(r.outcome.traps.len()),
                    "trapped": r.outcome.traps.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        let pairs = |v: Vec<(String, usize)>| -> Vec<serde_json::Value> {
            v.into_iter().take(top_n).map(|(k, n)| json!({"name": k, "drivers": n})).collect()
        };
        json!({
            "linux": format!("linux-source-6.1 {}", self.linux_version),
            "headers": self.headers(),
            "totals": {
                "modules": self.modules,
                "pci_drivers": self.pci,
                "surveyed": self.rows.len(),
                "compiled": self.compiled(),
                "linked": self.linked(),
                "without_traps": self.without_traps(),
            },
            "not_on_x86_64": self.excluded.iter().map(|(n, c)| json!({"name": n, "off": c})).collect::<Vec<_>>(),
            "top_missing_headers": pairs(self.top_headers()),
            "top_undeclared": pairs(self.top_undeclared()),
            "top_missing_symbols": pairs(self.top_symbols()),
            "drivers": drivers,
        })
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn top(items: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The files the survey reads: everything below `drivers/net/ethernet`, and every Kconfig file.
fn wanted(rel: &str) -> bool {
    rel.starts_with("drivers/net/ethernet/") || rel.rsplit('/').next().is_some_and(|n| n.starts_with("Kconfig"))
}

/// Every Kconfig file below `dir`, read into one [`Kconfig`].
fn read_kconfig(tree: &Path) -> Result<Kconfig> {
    let mut k = Kconfig::default();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(rd) = fs::read_dir(&p) else { continue };
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with("Kconfig")
                && let Ok(text) = fs::read_to_string(&path)
            {
                let rel = path.strip_prefix(tree).unwrap_or(&path).to_string_lossy().into_owned();
                k.add_file(&rel, &text);
            }
        }
    }
    Ok(k)
}

/// Where the survey keeps its objects and images.
pub fn out_dir() -> PathBuf {
    image::target_dir().join("survey")
}

/// Runs the survey: fetches what it needs, builds the shim, builds every
/// driver against Linux's own headers configured for Resurgo
/// ([`crate::linux_config`]) and the shadow folder, with every surveyed
/// driver's options on (so that kconfig follows what they select), and links
/// it with traps against the shim library: the traps are the names the shim
/// lacks.
pub fn run(progress: bool) -> Result<Survey> {
    let sources = linux::fetch_selected(MARK, &format!("{ROOT} and every Kconfig file"), &wanted, progress)?;
    let tree = sources.dir.clone();
    let kc = read_kconfig(&tree)?;
    let all = modules(&tree);
    let pci: Vec<&Module> = all
        .iter()
        .filter(|m| m.sources.iter().any(|s| fs::read_to_string(tree.join(s)).is_ok_and(|t| is_pci(&t))))
        .collect();
    let (allowed, excluded): (Vec<&Module>, Vec<&Module>) =
        pci.iter().copied().partition(|m| m.configs.iter().all(|c| kc.enabled(c)));
    let excluded = excluded
        .iter()
        .map(|m| (m.name.clone(), m.configs.iter().find(|c| !kc.enabled(c)).cloned().unwrap_or_default()))
        .collect();
    // One configuration for all: Resurgo's, with every surveyed driver's
    // options on, so that kconfig follows what they select (I2C, PTP...).
    let options: BTreeSet<String> = allowed.iter().flat_map(|m| m.configs.iter().cloned()).collect();
    let options: Vec<String> = options.into_iter().collect();
    let (prepared, dropped) = crate::linux_config::prepare_with(&options, progress)?;
    if progress && !dropped.is_empty() {
        eprintln!("note: kconfig did not honour {} driver option(s): {}", dropped.len(), dropped.join("; "));
    }
    let headers = driver_build::Headers::Linux(prepared);
    let lib = image::build_shim(progress)?;
    let items: Vec<SurveyItem> = allowed
        .iter()
        .map(|m| SurveyItem {
            name: m.name.clone(),
            sources: with_companions(m, &all).iter().map(|s| (s.clone(), tree.join(s))).collect(),
            extra_flags: m.flags.clone(),
        })
        .collect();
    let out = out_dir();
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let outcomes = image::with_build_lock(|| {
        driver_build::survey_build(&items, &out, &lib, &sources.version, &headers, progress)
    })?;
    let rows = allowed
        .iter()
        .zip(outcomes)
        .map(|(m, outcome)| Row {
            name: m.name.clone(),
            config: m.configs.last().cloned().unwrap_or_default(),
            files: with_companions(m, &all).len(),
            outcome,
        })
        .collect();
    Ok(Survey { linux_version: sources.version, modules: all.len(), pci: pci.len(), excluded, rows })
}

/// A driver's sources and those of the library modules its Makefile builds
/// under the same option (`obj-$(CONFIG_NE2K_PCI) += 8390.o ne2k-pci.o`):
/// what Linux would load with it.
fn with_companions(m: &Module, all: &[Module]) -> Vec<String> {
    let mut sources = m.sources.clone();
    for other in all {
        if other.dir == m.dir && m.companions.contains(&other.name) {
            sources.extend(other.sources.iter().filter(|s| !sources.contains(s)).cloned().collect::<Vec<_>>());
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefiles_give_modules_their_parts() {
        let m = parse_makefile(
            "# SPDX\nobj-$(CONFIG_E1000) += e1000.o\n\ne1000-objs := e1000_main.o e1000_hw.o \\\n\te1000_param.o\n\
             e1000-$(CONFIG_E1000_DCB) += e1000_dcb.o\nobj-$(CONFIG_NET_VENDOR_X) += x/\nobj-y += lib.o\n\
             ccflags-y += -I$(srctree)/drivers/net/ethernet/common -Wno-foo\n",
        );
        assert_eq!(
            m.obj,
            [
                (Some("E1000".to_string()), vec!["e1000.o".to_string()]),
                (Some("NET_VENDOR_X".to_string()), vec!["x/".to_string()]),
                (None, vec!["lib.o".to_string()])
            ]
        );
        assert_eq!(m.parts["e1000"], ["e1000_main.o", "e1000_hw.o", "e1000_param.o"]);
        assert_eq!(m.ccflags, ["-I$(srctree)/drivers/net/ethernet/common", "-Wno-foo"]);
        assert_eq!(flag("-I$(srctree)/drivers/x", Path::new("/t"), "drivers/y").as_deref(), Some("-I/t/drivers/x"));
        assert_eq!(flag("-Wno-foo", Path::new("/t"), "d"), None);
        // atlantic's and funeth's own folders.
        assert_eq!(flag("-I$(srctree)/$(src)", Path::new("/t"), "drivers/a").as_deref(), Some("-I/t/drivers/a"));
        assert_eq!(
            flag("-I$(srctree)/$(src)/../core", Path::new("/t"), "drivers/a").as_deref(),
            Some("-I/t/drivers/a/../core")
        );
        let words: Vec<String> = ["-I", "$(src)", "-DX=1", "-D", "Y"].iter().map(|w| w.to_string()).collect();
        assert_eq!(joined(&words), ["-I$(src)", "-DX=1", "-DY"]);
    }

    #[test]
    fn modules_are_found_through_the_folders() {
        let tmp = std::env::temp_dir().join(format!("resurgo-survey-{}", std::process::id()));
        let d = tmp.join(ROOT);
        fs::create_dir_all(d.join("intel/e1000")).unwrap();
        fs::write(d.join("Makefile"), "obj-$(CONFIG_NET_VENDOR_INTEL) += intel/\n").unwrap();
        fs::write(d.join("intel/Makefile"), "obj-$(CONFIG_E1000) += e1000/\nobj-$(CONFIG_E100) += e100.o\n").unwrap();
        fs::write(d.join("intel/e100.c"), "static struct pci_driver e100_driver = {};\n").unwrap();
        fs::write(d.join("intel/e1000/Makefile"), "obj-$(CONFIG_E1000) += e1000.o\ne1000-objs := a.o b.o\n").unwrap();
        fs::write(d.join("intel/e1000/a.c"), "").unwrap();
        fs::write(d.join("intel/e1000/b.c"), "").unwrap();
        let found = modules(&tmp);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "e1000");
        assert_eq!(found[0].configs, ["NET_VENDOR_INTEL", "E1000", "E1000"]);
        assert_eq!(found[0].sources, [format!("{ROOT}/intel/e1000/a.c"), format!("{ROOT}/intel/e1000/b.c")]);
        assert_eq!(found[1].sources, [format!("{ROOT}/intel/e100.c")]);
        assert_eq!(found[1].dir, format!("{ROOT}/intel"));
        assert!(is_pci(&fs::read_to_string(d.join("intel/e100.c")).unwrap()));
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn the_survey_selects_its_files() {
        assert!(wanted("drivers/net/ethernet/intel/e1000/e1000_main.c"));
        assert!(wanted("arch/x86/Kconfig"));
        assert!(wanted("drivers/net/Kconfig"));
        assert!(!wanted("drivers/net/wireless/foo.c"));
    }
}

//! `resurgo driver add PATH...`: writes `drivers-legacy/NAME/driver.toml` for a
//! driver's source files: their sha256, the PCI ids of the driver's
//! `pci_device_id` table, the headers (and `.c` files) it includes with `"..."`
//! from its own folder, its description.
//!
//! The C reading here is pure and deliberately small: comments, `#define`s,
//! `#include "..."`, `MODULE_DESCRIPTION` and the id table's entries
//! (`PCI_DEVICE(v, d)`, `PCI_VDEVICE(VENDOR, d)`, `PCI_DEVICE_SUB`,
//! `PCI_DEVICE_DATA`, `{ v, d, ... }`, `.vendor = v, .device = d`, and macros
//! the driver defines around them, like e1000's `INTEL_E1000_ETHERNET_DEVICE`).

use crate::{drivers, linux};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A `#define` of the driver: `NAME value` or `NAME(params) body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Define {
    pub params: Option<Vec<String>>,
    pub body: String,
}

/// PCI vendor ids of common NIC vendors, as `include/linux/pci_ids.h` names
/// them (used when no Linux tree with that file is at hand).
pub const VENDORS: &[(&str, u16)] = &[
    ("PCI_VENDOR_ID_3COM", 0x10b7),
    ("PCI_VENDOR_ID_ADAPTEC", 0x9004),
    ("PCI_VENDOR_ID_AMD", 0x1022),
    ("PCI_VENDOR_ID_ATHEROS", 0x168c),
    ("PCI_VENDOR_ID_ATTANSIC", 0x1969),
    ("PCI_VENDOR_ID_BROADCOM", 0x14e4),
    ("PCI_VENDOR_ID_CHELSIO", 0x1425),
    ("PCI_VENDOR_ID_CISCO", 0x1137),
    ("PCI_VENDOR_ID_COMPEX", 0x11f6),
    ("PCI_VENDOR_ID_DEC", 0x1011),
    ("PCI_VENDOR_ID_DLINK", 0x1186),
    ("PCI_VENDOR_ID_HOLTEK", 0x12c3),
    ("PCI_VENDOR_ID_IBM", 0x1014),
    ("PCI_VENDOR_ID_INTEL", 0x8086),
    ("PCI_VENDOR_ID_MARVELL", 0x11ab),
    ("PCI_VENDOR_ID_MELLANOX", 0x15b3),
    ("PCI_VENDOR_ID_MYRICOM", 0x14c1),
    ("PCI_VENDOR_ID_NS", 0x100b),
    ("PCI_VENDOR_ID_NVIDIA", 0x10de),
    ("PCI_VENDOR_ID_QLOGIC", 0x1077),
    ("PCI_VENDOR_ID_REALTEK", 0x10ec),
    ("PCI_VENDOR_ID_REDHAT_QUMRANET", 0x1af4),
    ("PCI_VENDOR_ID_SIS", 0x1039),
    ("PCI_VENDOR_ID_SUN", 0x108e),
    ("PCI_VENDOR_ID_SUNDANCE", 0x13f0),
    ("PCI_VENDOR_ID_TTTECH", 0x0357),
    ("PCI_VENDOR_ID_TI", 0x104c),
    ("PCI_VENDOR_ID_TRIDENT", 0x1023),
    ("PCI_VENDOR_ID_VIA", 0x1106),
    ("PCI_VENDOR_ID_VMWARE", 0x15ad),
    ("PCI_VENDOR_ID_WINBOND", 0x10ad),
    ("PCI_VENDOR_ID_WINBOND2", 0x1050),
];

/// Device ids of the drivers QEMU's cards use, for the same purpose.
pub const DEVICES: &[(&str, u16)] = &[
    ("PCI_DEVICE_ID_REALTEK_8139", 0x8139),
    ("PCI_DEVICE_ID_REALTEK_8029", 0x8029),
    ("PCI_DEVICE_ID_TTTECH_MC322", 0x000a),
    ("PCI_DEVICE_ID_AMD_LANCE", 0x2000),
    ("PCI_DEVICE_ID_AMD_LANCE_HOME", 0x2001),
];

/// The text with comments replaced by spaces (newlines kept, so line numbers hold).
pub fn strip_comments(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_str: Option<char> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = in_str {
            out.push(c);
            if c == '\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == q || c == '\n' {
                in_str = None;
            }
            i += 1;
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            out.push_str("  ");
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                out.push(if b[i] == '\n' { '\n' } else { ' ' });
                i += 1;
            }
            i += 2;
            out.push_str("  ");
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            in_str = Some(c);
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Joins lines ending in `\`.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(line);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every `#define` of a (comment-free) text.
pub fn defines(text: &str) -> BTreeMap<String, Define> {
    let mut out = BTreeMap::new();
    for line in logical_lines(text) {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else { continue };
        let Some(rest) = rest.trim_start().strip_prefix("define") else { continue };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let rest = rest.trim_start();
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() {
            continue;
        }
        let after = &rest[name_len..];
        let define = if let Some(params) = after.strip_prefix('(') {
            let Some(close) = params.find(')') else { continue };
            let list = params[..close].split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
            Define { params: Some(list), body: params[close + 1..].trim().to_string() }
        } else {
            Define { params: None, body: after.trim().to_string() }
        };
        out.insert(name.to_string(), define);
    }
    out
}

/// `#include "x"` targets of a (comment-free) text, in order.
pub fn local_includes(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix('#')?.trim_start().strip_prefix("include")?.trim();
            let inner = rest.strip_prefix('"')?;
            Some(inner[..inner.find('"')?].to_string())
        })
        .collect()
}

/// The string of `MODULE_DESCRIPTION(...)`: literals joined, macros resolved.
pub fn module_description(text: &str, defs: &BTreeMap<String, Define>) -> Option<String> {
    let at = text.find("MODULE_DESCRIPTION(")?;
    let args = call_args(&text[at + "MODULE_DESCRIPTION".len()..])?.0;
    string_value(args.first()?, defs, 0)
}

fn string_value(expr: &str, defs: &BTreeMap<String, Define>, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let mut out = String::new();
    let mut rest = expr.trim();
    while !rest.is_empty() {
        if let Some(s) = rest.strip_prefix('"') {
            let end = s.find('"')?;
            out.push_str(&s[..end]);
            rest = s[end + 1..].trim_start();
        } else {
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if len == 0 {
                return None;
            }
            let d = defs.get(&rest[..len])?;
            if d.params.is_some() {
                return None;
            }
            out.push_str(&string_value(&d.body, defs, depth + 1)?);
            rest = rest[len..].trim_start();
        }
    }
    Some(out)
}

/// The arguments of a call starting at `(` (top-level commas), and the length consumed.
fn call_args(s: &str) -> Option<(Vec<String>, usize)> {
    let s_trim = s.trim_start();
    let skipped = s.len() - s_trim.len();
    if !s_trim.starts_with('(') {
        return None;
    }
    let mut depth = 0;
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    for (i, c) in s_trim.char_indices() {
        if in_str {
            cur.push(c);
            if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                cur.push(c);
            }
            '(' | '{' | '[' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' | '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    args.push(cur.trim().to_string());
                    return Some((args, skipped + i + 1));
                }
                cur.push(c);
            }
            ',' if depth == 1 => args.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    None
}

/// The entries of every `struct pci_device_id NAME[] = { ... };` in a
/// (comment-free) text, each as its text.
pub fn id_table_entries(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("pci_device_id") {
        let start = from + at + "pci_device_id".len();
        from = start;
        let rest = &text[start..];
        // An array definition: `NAME[] = {` (or `NAME[N] = {`) before any `;`.
        let Some(eq) = rest.find('=') else { break };
        let head = &rest[..eq];
        if head.contains(';') || head.contains('(') || !head.contains('[') {
            continue;
        }
        let body = &rest[eq + 1..];
        let Some((items, used)) = call_args(&body.replacen('{', "(", 1)) else { continue };
        from = start + eq + 1 + used;
        out.extend(items.into_iter().filter(|i| !i.is_empty()));
    }
    out
}

/// Expands the driver's own function-like macros at the start of an entry
/// (`INTEL_E1000_ETHERNET_DEVICE(0x100E)` → `{ PCI_DEVICE(PCI_VENDOR_ID_INTEL, 0x100E) }`).
fn expand_entry(entry: &str, defs: &BTreeMap<String, Define>) -> String {
    let mut e = entry.trim().to_string();
    for _ in 0..8 {
        let len = e.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(e.len());
        let name = &e[..len];
        let Some(Define { params: Some(params), body }) = defs.get(name) else { break };
        let Some((args, used)) = call_args(&e[len..]) else { break };
        let mut expanded = substitute(body, params, &args);
        expanded.push_str(&e[len + used..]);
        e = expanded.trim().to_string();
    }
    e
}

fn substitute(body: &str, params: &[String], args: &[String]) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if let Some(i) = params.iter().position(|p| p == word) {
            out.push_str(args.get(i).map_or("", String::as_str));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in body.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out.replace("##", "")
}

/// One entry's (vendor, device) expressions; `None` for the terminator.
/// `Err` says why an entry names no single vendor and device.
pub fn entry_ids(entry: &str, defs: &BTreeMap<String, Define>) -> Option<Result<(String, String), String>> {
    let e = expand_entry(entry, defs);
    let inner = e.trim().strip_prefix('{').and_then(|r| r.trim_end().strip_suffix('}')).unwrap_or(&e).trim();
    let inner = inner.trim_end_matches(',').trim();
    if inner.is_empty() || inner == "0" {
        return None;
    }
    let find_call = |name: &str| -> Option<Vec<String>> {
        let mut from = 0;
        while let Some(at) = inner[from..].find(name) {
            let pos = from + at;
            let before_ok = inner[..pos].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            let after = &inner[pos + name.len()..];
            if before_ok && after.trim_start().starts_with('(') {
                return call_args(after).map(|a| a.0);
            }
            from = pos + name.len();
        }
        None
    };
    if let Some(a) = find_call("PCI_VDEVICE").or_else(|| find_call("PCI_VDEVICE_SUB")) {
        return Some(Ok((format!("PCI_VENDOR_ID_{}", a[0].trim()), a.get(1)?.clone())));
    }
    if let Some(a) = find_call("PCI_DEVICE_DATA") {
        let (v, d) = (a[0].trim(), a.get(1)?.trim());
        return Some(Ok((format!("PCI_VENDOR_ID_{v}"), format!("PCI_DEVICE_ID_{v}_{d}"))));
    }
    for name in ["PCI_DEVICE_SUB", "PCI_DEVICE"] {
        if let Some(a) = find_call(name) {
            return Some(Ok((a[0].clone(), a.get(1)?.clone())));
        }
    }
    if find_call("PCI_DEVICE_CLASS").is_some() {
        return Some(Err(format!("`{}` matches a device class, not a vendor and device", one_line(entry))));
    }
    let fields: Vec<String> = call_args(&format!("({inner})")).map(|a| a.0).unwrap_or_default();
    // Linux's matcher stops at an entry whose vendor, subvendor and class
    // mask are all zero: `{ 0, 0, 0, 0, 0, 0, 0 }` (e1000e) or `{ .vendor = 0 }`.
    let zero = |f: &String| f.split_once('=').map_or(f.as_str(), |(_, v)| v).trim() == "0";
    if !fields.is_empty() && fields.iter().all(zero) {
        return None;
    }
    let designated = |key: &str| {
        fields.iter().find_map(|f| {
            let (k, v) = f.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    if let (Some(v), Some(d)) = (designated(".vendor"), designated(".device")) {
        return Some(Ok((v, d)));
    }
    if fields.len() >= 2 && !fields[0].starts_with('.') {
        return Some(Ok((fields[0].clone(), fields[1].clone())));
    }
    Some(Err(format!("cannot read an id from `{}`", one_line(entry))))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value of an id expression: a number, or a name from the driver's
/// defines, the tree's `pci_ids.h` (in `defs` too) or the built-in tables.
pub fn resolve(expr: &str, defs: &BTreeMap<String, Define>) -> Option<u16> {
    resolve_depth(expr, defs, 0)
}

fn resolve_depth(expr: &str, defs: &BTreeMap<String, Define>, depth: usize) -> Option<u16> {
    if depth > 8 {
        return None;
    }
    let mut e = expr.trim();
    while let Some(inner) = e.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        e = inner.trim();
    }
    if e.starts_with(|c: char| c.is_ascii_digit()) {
        // A number, with its suffixes (`0x8139u`) off.
        let n = e.trim_end_matches(['u', 'U', 'l', 'L']);
        let value = match n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => n.parse::<u32>().ok(),
        };
        return value.and_then(|v| u16::try_from(v).ok());
    }
    if let Some(d) = defs.get(e)
        && d.params.is_none()
    {
        return resolve_depth(&d.body, defs, depth + 1);
    }
    VENDORS.iter().chain(DEVICES).find(|(n, _)| *n == e).map(|(_, v)| *v)
}

/// The text with preprocessor directive lines (and their continuations) blanked.
fn without_directives(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut continued = false;
    for line in text.lines() {
        let directive = continued || line.trim_start().starts_with('#');
        continued = directive && line.ends_with('\\');
        if !directive {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// What the id table of some files says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ids {
    /// `vvvv:dddd`, in table order, each once.
    pub ids: Vec<String>,
    /// Entries that could not be read or resolved, in words.
    pub unresolved: Vec<String>,
}

/// The PCI ids of the tables in `texts` (the driver's files, comment-free),
/// with `defs` (everything they and `pci_ids.h` define).
pub fn pci_ids(texts: &[&str], defs: &BTreeMap<String, Define>) -> Ids {
    let mut out = Ids::default();
    for text in texts {
        // Entries under `#ifdef CONFIG_...` count: the directives go.
        for entry in id_table_entries(&without_directives(text)) {
            match entry_ids(&entry, defs) {
                None => {}
                Some(Err(why)) => out.unresolved.push(why),
                Some(Ok((v, d))) => match (resolve(&v, defs), resolve(&d, defs)) {
                    (Some(v), Some(d)) => {
                        let id = format!("{v:04x}:{d:04x}");
                        if !out.ids.contains(&id) {
                            out.ids.push(id);
                        }
                    }
                    (rv, rd) => {
                        let names: Vec<&str> = [(rv, v.trim()), (rd, d.trim())]
                            .into_iter()
                            .filter(|(r, _)| r.is_none())
                            .map(|(_, n)| n)
                            .collect();
                        out.unresolved.push(format!(
                            "cannot resolve {} in `{}`",
                            names.join(" and "),
                            one_line(&entry)
                        ));
                    }
                },
            }
        }
    }
    out
}

/// One file of a new manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub path: String,
    pub sha256: String,
}

/// The text of a new `driver.toml`.
pub fn manifest_text(
    name: &str,
    description: &str,
    ids: &[String],
    sources: &[NewFile],
    includes: &[NewFile],
    origin: &str,
) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!("# Written by `resurgo driver add` from {origin}.\n");
    out.push_str(&format!("name = {}\n", quote(name)));
    out.push_str(&format!("description = {}\n", quote(description)));
    let ids: Vec<String> = ids.iter().map(|i| quote(i)).collect();
    out.push_str(&format!("pci-ids = [{}]\n", ids.join(", ")));
    let list = |files: &[NewFile]| -> String {
        if files.is_empty() {
            return "[]\n".to_string();
        }
        let mut s = "[\n".to_string();
        for f in files {
            s.push_str(&format!("  {{ path = {}, sha256 = {} }},\n", quote(&f.path), quote(&f.sha256)));
        }
        s.push_str("]\n");
        s
    };
    out.push_str(&format!("sources = {}", list(sources)));
    out.push_str(&format!("includes = {}", list(includes)));
    out.push_str("\n[resources]\nports = true\nmmio = true\nirq = true\ndma = true\n");
    out
}

/// Where a given file is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// In a Linux tree: (the tree's root, the path in the tree).
    Tree(PathBuf, String),
    /// In `drivers-legacy/NAME/`: (NAME, the path in that folder).
    Local(String, String),
}

/// The root of the Linux tree a file is in: the package cache, a folder with
/// `MAINTAINERS` or `include/linux` beside `drivers`, else (a partial
/// extraction) the folder above the path's last `drivers` component.
pub fn linux_root(file: &Path) -> Option<PathBuf> {
    if let Ok(cache) = linux::cache_root() {
        for anc in file.ancestors() {
            if anc.parent() == Some(cache.as_path())
                && anc.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{}_", linux::PACKAGE)))
            {
                return Some(anc.to_path_buf());
            }
        }
    }
    for anc in file.ancestors().skip(1) {
        if anc.join("drivers").is_dir() && (anc.join("MAINTAINERS").is_file() || anc.join("include/linux").is_dir()) {
            return Some(anc.to_path_buf());
        }
    }
    let comps: Vec<_> = file.components().collect();
    let last = comps.iter().rposition(|c| c.as_os_str() == "drivers")?;
    Some(comps[..last].iter().collect())
}

fn place_of(file: &Path) -> Option<Place> {
    let legacy = drivers::drivers_dir();
    if let Ok(rel) = file.strip_prefix(&legacy) {
        let mut comps = rel.components();
        let name = comps.next()?.as_os_str().to_string_lossy().into_owned();
        let inner = comps.as_path().to_string_lossy().into_owned();
        return (!inner.is_empty()).then_some(Place::Local(name, inner));
    }
    let root = linux_root(file)?;
    let rel = file.strip_prefix(&root).ok()?.to_string_lossy().into_owned();
    Some(Place::Tree(root, rel))
}

/// What `driver add` wrote.
#[derive(Debug, Clone)]
pub struct Added {
    pub name: String,
    pub manifest_path: PathBuf,
    pub text: String,
    pub ids: Vec<String>,
    pub unresolved: Vec<String>,
    pub files: usize,
}

/// Writes `drivers-legacy/NAME/driver.toml` for the given source files: paths
/// on disk (in a Linux tree, or in `drivers-legacy/NAME/`), or paths in the
/// Linux tree that are fetched from Debian's package (`drivers/net/...`).
pub fn add(paths: &[PathBuf], name: Option<&str>, force: bool, progress: bool) -> Result<Added> {
    add_into(&drivers::drivers_dir(), paths, name, force, progress)
}

/// [`add`], writing `NAME/driver.toml` under `out` instead of `drivers-legacy`.
pub fn add_into(out: &Path, paths: &[PathBuf], name: Option<&str>, force: bool, progress: bool) -> Result<Added> {
    if paths.is_empty() {
        bail!("error: name at least one source file");
    }
    // Paths that are not on disk are fetched from the package, with their folders.
    let absent: Vec<String> = paths
        .iter()
        .filter(|p| !p.exists())
        .map(|p| {
            let s = p.to_string_lossy().into_owned();
            if p.is_absolute() || !s.contains('/') {
                bail!(
                    "error: {s}: no such file (a path in the Linux tree, like drivers/net/..., is fetched from {})",
                    linux::PACKAGE
                );
            }
            Ok(s.trim_start_matches("./").to_string())
        })
        .collect::<Result<_>>()?;
    let package = if absent.is_empty() {
        None
    } else {
        let folders: Vec<String> =
            absent.iter().filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string())).collect();
        let mut files = absent.clone();
        files.push(PCI_IDS_H.to_string());
        Some(linux::fetch_unchecked(&files, &folders, None, progress)?)
    };

    let mut sources: Vec<(PathBuf, Place)> = Vec::new();
    for p in paths {
        let file = if p.exists() {
            p.canonicalize().with_context(|| format!("cannot read {}", p.display()))?
        } else {
            let rel = p.to_string_lossy().trim_start_matches("./").to_string();
            let pkg = package.as_ref().expect("fetched");
            let f = pkg.path(&rel);
            if !f.is_file() {
                bail!("error: {rel}: not in {} {}", linux::PACKAGE, pkg.version);
            }
            f
        };
        let Some(place) = place_of(&file) else {
            bail!(
                "error: {}: neither in a Linux tree nor in {}/NAME/ (copy it into {}/NAME/ and give that path)",
                p.display(),
                drivers::DRIVERS_DIR,
                drivers::DRIVERS_DIR
            );
        };
        sources.push((file, place));
    }
    let name = match name {
        Some(n) => n.to_string(),
        None => match &sources[0].1 {
            Place::Local(folder, _) => folder.clone(),
            Place::Tree(..) => sources[0].0.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        },
    };
    for (file, place) in &sources {
        if let Place::Local(folder, _) = place
            && *folder != name
        {
            bail!(
                "error: {}: is in {}/{folder}/, not in the folder of driver `{name}`",
                file.display(),
                drivers::DRIVERS_DIR
            );
        }
    }

    // Headers and .c files included with "..." from the files' folders, transitively.
    let mut includes: Vec<(PathBuf, Place)> = Vec::new();
    let mut queue: Vec<PathBuf> = sources.iter().map(|(f, _)| f.clone()).collect();
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    while let Some(file) = queue.pop() {
        if texts.contains_key(&file) {
            continue;
        }
        let raw = fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let text = strip_comments(&String::from_utf8_lossy(&raw));
        for inc in local_includes(&text) {
            let Some(dir) = file.parent() else { continue };
            let candidate = dir.join(&inc);
            let Ok(candidate) = candidate.canonicalize() else { continue };
            if sources.iter().chain(&includes).any(|(f, _)| *f == candidate) {
                continue;
            }
            if let Some(place) = place_of(&candidate) {
                includes.push((candidate.clone(), place));
                queue.push(candidate);
            }
        }
        texts.insert(file, text);
    }

    // Defines of the driver's files and of the tree's pci_ids.h.
    let mut defs = BTreeMap::new();
    let roots: Vec<PathBuf> = sources
        .iter()
        .filter_map(|(_, p)| match p {
            Place::Tree(root, _) => Some(root.clone()),
            Place::Local(..) => None,
        })
        .chain(package.iter().map(|p| p.dir.clone()))
        .collect();
    if let Some(h) = roots.iter().map(|r| r.join(PCI_IDS_H)).find(|h| h.is_file()) {
        defs.extend(defines(&strip_comments(&fs::read_to_string(h).unwrap_or_default())));
    }
    for text in texts.values() {
        defs.extend(defines(text));
    }
    let all_texts: Vec<&str> = sources.iter().chain(&includes).map(|(f, _)| texts[f].as_str()).collect();
    let found = pci_ids(&all_texts, &defs);
    if found.ids.is_empty() {
        let why = if found.unresolved.is_empty() {
            "no `struct pci_device_id` table found".to_string()
        } else {
            found.unresolved.join("; ")
        };
        bail!("error: no PCI id for driver `{name}`: {why}");
    }
    let description = sources.iter().find_map(|(f, _)| module_description(&texts[f], &defs)).unwrap_or_default();

    let entry = |(file, place): &(PathBuf, Place)| -> Result<NewFile> {
        let path = match place {
            Place::Tree(_, rel) | Place::Local(_, rel) => rel.clone(),
        };
        Ok(NewFile { path, sha256: linux::sha256_file(file)? })
    };
    let new_sources = sources.iter().map(entry).collect::<Result<Vec<_>>>()?;
    let new_includes = includes.iter().map(entry).collect::<Result<Vec<_>>>()?;
    let origin =
        match (&package, sources.iter().find_map(|(_, p)| if let Place::Tree(r, _) = p { Some(r) } else { None })) {
            (Some(pkg), _) => format!("{} {}", linux::PACKAGE, pkg.version),
            (None, Some(root)) if root.starts_with(linux::cache_root().unwrap_or_default()) => {
                format!("{} ({})", linux::PACKAGE, root.file_name().unwrap_or_default().to_string_lossy())
            }
            (None, Some(root)) => format!("the Linux tree {}", root.display()),
            (None, None) => format!("files in {}/{name}/", drivers::DRIVERS_DIR),
        };
    let text = manifest_text(&name, &description, &found.ids, &new_sources, &new_includes, &origin);
    manifest::driver::DriverManifest::parse(&text)
        .map_err(|e| anyhow!("error: the manifest for `{name}` would be wrong: {e}"))?;

    let dir = out.join(&name);
    let manifest_path = dir.join(drivers::MANIFEST_FILE);
    if manifest_path.exists() && !force {
        bail!(
            "error: {} exists already (--force replaces it)",
            crate::display_path(&manifest_path, &crate::workspace_root())
        );
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    fs::write(&manifest_path, &text).with_context(|| format!("cannot write {}", manifest_path.display()))?;
    Ok(Added {
        name,
        manifest_path,
        text,
        ids: found.ids,
        unresolved: found.unresolved,
        files: new_sources.len() + new_includes.len(),
    })
}

/// Where the tree names PCI vendors and devices.
const PCI_IDS_H: &str = "include/linux/pci_ids.h";

#[cfg(test)]
mod tests {
    use super::*;

    fn defs_of(texts: &[&str]) -> BTreeMap<String, Define> {
        let mut d = BTreeMap::new();
        for t in texts {
            d.extend(defines(&strip_comments(t)));
        }
        d
    }

    fn ids_of(src: &str, extra: &[&str]) -> Ids {
        let clean = strip_comments(src);
        let mut all = vec![src];
        all.extend(extra);
        pci_ids(&[&clean], &defs_of(&all))
    }

    #[test]
    fn comments_go_and_lines_stay() {
        let s = "a /* x\ny */ b // c\n\"/* s */\" d";
        let t = strip_comments(s);
        assert_eq!(t.lines().count(), 3);
        assert!(!t.contains('x') && !t.contains('c') && t.contains("\"/* s */\""), "{t}");
        assert_eq!(t.len(), s.len());
    }

    #[test]
    fn table_of_8139cp_with_symbolic_ids() {
        let src = "static const struct pci_device_id cp_pci_tbl[] = {\n\
            \t{ PCI_DEVICE(PCI_VENDOR_ID_REALTEK,     PCI_DEVICE_ID_REALTEK_8139), },\n\
            \t{ PCI_DEVICE(PCI_VENDOR_ID_TTTECH,      PCI_DEVICE_ID_TTTECH_MC322), },\n\
            \t{ },\n};\nMODULE_DEVICE_TABLE(pci, cp_pci_tbl);\n";
        assert_eq!(ids_of(src, &[]), Ids { ids: vec!["10ec:8139".into(), "0357:000a".into()], unresolved: vec![] });
    }

    #[test]
    fn entries_under_ifdef_like_tulips() {
        let src = "static const struct pci_device_id tulip_pci_tbl[] = {\n\
            \t{ 0x1011, 0x0009, PCI_ANY_ID, PCI_ANY_ID, 0, 0, DC21140 },\n\
            #ifdef CONFIG_TULIP_DM910X\n\
            \t{ 0x1282, 0x9100, PCI_ANY_ID, PCI_ANY_ID, 0, 0, DM910X },\n\
            #endif\n\
            \t{ 0x1113, 0x1216, PCI_ANY_ID, PCI_ANY_ID, 0, 0, COMET },\n\
            \t{ } /* terminate list */\n};\n";
        assert_eq!(
            ids_of(src, &[]),
            Ids { ids: vec!["1011:0009".into(), "1282:9100".into(), "1113:1216".into()], unresolved: vec![] }
        );
    }

    #[test]
    fn positional_entries_of_ne2k_pci() {
        let src = "static const struct pci_device_id ne2k_pci_tbl[] = {\n\
            { 0x10ec, 0x8029, PCI_ANY_ID, PCI_ANY_ID, 0, 0, CH_RealTek_RTL_8029 },\n\
            { 0x1050, 0x0940, PCI_ANY_ID, PCI_ANY_ID, 0, 0, CH_Winbond_89C940 }, /* a comment, { 1, 2 } */\n\
            { 0, }\n};\n";
        assert_eq!(ids_of(src, &[]).ids, ["10ec:8029", "1050:0940"]);
    }

    #[test]
    fn every_form_of_the_terminator_ends_the_table() {
        let ids = ids_of(
            "static const struct pci_device_id t[] = {\n\
             { PCI_VDEVICE(INTEL, 0x10d3), 1 },\n\
             { 0, 0, 0, 0, 0, 0, 0 }\n};\n\
             static const struct pci_device_id u[] = { { 0x10ec, 0x8139 }, { .vendor = 0, }, {0,}, { } };",
            &[],
        );
        assert_eq!(ids.ids, ["8086:10d3", "10ec:8139"]);
        assert!(ids.unresolved.is_empty(), "{:?}", ids.unresolved);
    }

    #[test]
    fn numbers_and_names_resolve() {
        let defs = defs_of(&["#define MINE (0x10ecU)\n"]);
        assert_eq!(resolve("0x8139", &defs), Some(0x8139));
        assert_eq!(resolve("(4660)", &defs), Some(4660));
        assert_eq!(resolve("MINE", &defs), Some(0x10ec));
        assert_eq!(resolve("PCI_VENDOR_ID_INTEL", &defs), Some(0x8086));
        assert_eq!(resolve("0x12345", &defs), None);
        assert_eq!(resolve("PCI_ANY_ID", &defs), None);
    }

    #[test]
    fn a_macro_from_a_local_header_like_e1000s() {
        let header =
            "#define INTEL_E1000_ETHERNET_DEVICE(device_id) {\\\n\tPCI_DEVICE(PCI_VENDOR_ID_INTEL, device_id)}\n";
        let src = "static const struct pci_device_id e1000_pci_tbl[] = {\n\
            \tINTEL_E1000_ETHERNET_DEVICE(0x1000),\n\tINTEL_E1000_ETHERNET_DEVICE(0x100E),\n\
            \t/* required last entry */\n\t{0,}\n};\n";
        assert_eq!(ids_of(src, &[header]).ids, ["8086:1000", "8086:100e"]);
    }

    #[test]
    fn designated_vdevice_data_and_pcnet32s_class_entry() {
        let src = "#define MY_DEV 0x2000\n\
            static const struct pci_device_id t[] = {\n\
            { PCI_VDEVICE(INTEL, 0x1234), 7 },\n\
            { .vendor = 0x1af4, .device = 0x1000, .subvendor = PCI_ANY_ID },\n\
            { PCI_DEVICE_DATA(REALTEK, 8139, 0) },\n\
            { PCI_DEVICE(PCI_VENDOR_ID_TRIDENT, MY_DEV),\n  .class = (PCI_CLASS_NETWORK_ETHERNET << 8), .class_mask = 0xffff00, },\n\
            { PCI_DEVICE_CLASS(0x020000, ~0) },\n\
            { PCI_DEVICE(PCI_VENDOR_ID_UNKNOWNCO, 0x0001) },\n\
            { }\n};\n";
        let ids = ids_of(src, &[]);
        assert_eq!(ids.ids, ["8086:1234", "1af4:1000", "10ec:8139", "1023:2000"]);
        assert_eq!(ids.unresolved.len(), 2, "{:?}", ids.unresolved);
        assert!(ids.unresolved[0].contains("device class"), "{:?}", ids.unresolved);
        assert!(ids.unresolved[1].contains("PCI_VENDOR_ID_UNKNOWNCO"), "{:?}", ids.unresolved);
    }

    #[test]
    fn pci_ids_h_resolves_names_the_built_in_table_lacks() {
        let pci_ids_h = "#define PCI_VENDOR_ID_DLINK\t\t0x1186\n#define PCI_DEVICE_ID_DLINK_X\t0x4000\n";
        let src =
            "static struct pci_device_id ids[] = { { PCI_DEVICE(PCI_VENDOR_ID_DLINK, PCI_DEVICE_ID_DLINK_X) }, { } };";
        assert_eq!(ids_of(src, &[pci_ids_h]).ids, ["1186:4000"]);
        // A declaration, not a table, is not read.
        assert!(id_table_entries("static int probe(struct pci_dev *p, const struct pci_device_id *ent);").is_empty());
    }

    #[test]
    fn includes_and_description() {
        let src = "#include <linux/module.h>\n#include \"8390.h\"\n# include \"lib8390.c\"\n\
            #define DRV_DESCRIPTION \"PCI NE2000\" \" clone driver\"\nMODULE_DESCRIPTION(DRV_DESCRIPTION);\n";
        assert_eq!(local_includes(src), ["8390.h", "lib8390.c"]);
        assert_eq!(module_description(src, &defines(src)).as_deref(), Some("PCI NE2000 clone driver"));
        let src = "MODULE_DESCRIPTION(\"RealTek RTL-8139C+ series 10/100 PCI Ethernet driver\");";
        assert_eq!(
            module_description(src, &BTreeMap::new()).as_deref(),
            Some("RealTek RTL-8139C+ series 10/100 PCI Ethernet driver")
        );
    }

    #[test]
    fn manifest_text_parses_back() {
        let sha = "ab".repeat(32);
        let text = manifest_text(
            "ne2k-pci",
            "PCI \"NE2000\"",
            &["10ec:8029".into()],
            &[NewFile { path: "drivers/net/ethernet/8390/ne2k-pci.c".into(), sha256: sha.clone() }],
            &[NewFile { path: "drivers/net/ethernet/8390/8390.h".into(), sha256: sha }],
            "a test",
        );
        let m = manifest::driver::DriverManifest::parse(&text).unwrap();
        assert_eq!(m.name, "ne2k-pci");
        assert_eq!(m.description, "PCI \"NE2000\"");
        assert_eq!(m.includes.len(), 1);
    }
}

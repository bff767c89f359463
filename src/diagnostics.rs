//! The missing-API report: what a legacy driver needs from the Linux shim that
//! the shim does not have yet, read from gcc's diagnostics and the linker's
//! undefined references instead of pages of compiler errors.
//!
//! Pure: text in, findings and a report out. The build (`driver_build`) runs
//! the compiler, keeps its full output in a log file and hands the text here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// What is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `fatal error: linux/foo.h: No such file or directory`.
    Header,
    /// `unknown type name 'foo_t'`.
    Type,
    /// `invalid use of undefined type 'struct foo'` and the like: declared, never defined.
    IncompleteType,
    /// `'struct net_device' has no member named 'foo'`.
    Member,
    /// `implicit declaration of function 'foo'`.
    Function,
    /// `'FOO' undeclared`: a constant, macro or variable.
    Identifier,
    /// `undefined reference to 'foo'` at link time.
    Symbol,
    /// Any other error: listed as it is.
    Other,
}

impl Kind {
    /// The section title in the report.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Header => "missing headers",
            Kind::Type => "unknown types",
            Kind::IncompleteType => "incomplete types (declared, never defined)",
            Kind::Member => "missing struct members",
            Kind::Function => "undeclared functions",
            Kind::Identifier => "undeclared identifiers (constants, macros, variables)",
            Kind::Symbol => "undefined symbols at link",
            Kind::Other => "other errors",
        }
    }

    const ALL: [Kind; 8] = [
        Kind::Header,
        Kind::Type,
        Kind::IncompleteType,
        Kind::Member,
        Kind::Function,
        Kind::Identifier,
        Kind::Symbol,
        Kind::Other,
    ];
}

/// One place that needs a missing item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Use {
    /// The driver being built.
    pub driver: String,
    /// The file the message is about, as shown (`drivers/net/.../8139cp.c`).
    pub file: String,
    pub line: Option<u32>,
    /// The function the linker says the reference is in, when it says so.
    pub function: Option<String>,
}

/// A missing item and where it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// `linux/mii.h`, `pci_enable_device`, `struct net_device.features`; for
    /// [`Kind::Other`] the message.
    pub item: String,
    pub at: Use,
}

/// gcc's typographic quotes become ASCII ones.
fn ascii_quotes(s: &str) -> String {
    s.replace(['\u{2018}', '\u{2019}'], "'")
}

/// The text between the first pair of single quotes.
fn quoted(s: &str) -> Option<&str> {
    let start = s.find('\'')? + 1;
    let len = s[start..].find('\'')?;
    Some(&s[start..start + len])
}

/// A diagnostic line: `FILE:LINE[:COL]: SEVERITY: MESSAGE`.
#[derive(Debug, PartialEq, Eq)]
struct Diag<'a> {
    file: &'a str,
    line: Option<u32>,
    severity: &'a str,
    message: &'a str,
}

fn parse_diag(line: &str) -> Option<Diag<'_>> {
    for severity in ["fatal error", "error", "warning"] {
        let marker = format!(": {severity}: ");
        let Some(at) = line.find(&marker) else { continue };
        let place = &line[..at];
        let message = &line[at + marker.len()..];
        let number = |s: &str| s.parse::<u32>().ok();
        let parts: Vec<&str> = place.rsplitn(3, ':').collect();
        let (file, line_no) = match parts.as_slice() {
            [col, line, file] if number(col).is_some() && number(line).is_some() => (*file, number(line)),
            [line, ..] if number(line).is_some() => (&place[..place.len() - line.len() - 1], number(line)),
            _ => (place, None),
        };
        let severity = if severity == "fatal error" { "error" } else { severity };
        return Some(Diag { file, line: line_no, severity, message });
    }
    None
}

/// Classifies one gcc message; `None` for messages that are not about
/// something missing (the caller keeps errors among them as [`Kind::Other`]).
fn classify(message: &str) -> Option<(Kind, String)> {
    let m = message;
    if let Some(header) = m.strip_suffix(": No such file or directory") {
        return Some((Kind::Header, header.trim().to_string()));
    }
    if let Some(rest) = m.strip_prefix("implicit declaration of function ") {
        return Some((Kind::Function, quoted(rest)?.to_string()));
    }
    if let Some(rest) = m.strip_prefix("unknown type name ") {
        return Some((Kind::Type, quoted(rest)?.to_string()));
    }
    if let Some(at) = m.find(" has no member named ") {
        let ty = &m[..at];
        // `'nd_t' {aka 'struct net_device'}`: the real type is the aka.
        let ty = match ty.find("{aka ") {
            Some(aka) => quoted(&ty[aka..])?,
            None => quoted(ty)?,
        };
        let member = quoted(&m[at + " has no member named ".len()..])?;
        return Some((Kind::Member, format!("{ty}.{member}")));
    }
    if m.starts_with('\'') && (m.contains("' undeclared (first use") || m.contains("' undeclared here")) {
        return Some((Kind::Identifier, quoted(m)?.to_string()));
    }
    for prefix in [
        "invalid use of undefined type ",
        "dereferencing pointer to incomplete type ",
        "invalid application of 'sizeof' to incomplete type ",
        "invalid application of '__alignof__' to incomplete type ",
    ] {
        if let Some(rest) = m.strip_prefix(prefix) {
            return Some((Kind::IncompleteType, quoted(rest)?.to_string()));
        }
    }
    None
}

/// Reads gcc's output for one compiled file of `driver`. `show` turns the
/// paths gcc prints into the ones the report shows. Implicit declarations
/// count even as warnings; other warnings do not.
pub fn parse_gcc(driver: &str, output: &str, show: &dyn Fn(&str) -> String) -> Vec<Finding> {
    let mut out = Vec::new();
    // `#if IS_ENABLED(X)` without the macro: gcc warns that it is not
    // defined, then fails on the parenthesis. The macro is what is missing.
    let mut undefined_macro: Option<(String, Option<u32>, String)> = None;
    for raw in output.lines() {
        let text = ascii_quotes(raw);
        let Some(d) = parse_diag(&text) else { continue };
        let at = Use { driver: driver.to_string(), file: show(d.file), line: d.line, function: None };
        if d.severity == "warning"
            && let Some(name) = d.message.strip_prefix('"').and_then(|m| m.split_once("\" is not defined")).map(|p| p.0)
        {
            undefined_macro = Some((d.file.to_string(), d.line, name.to_string()));
            continue;
        }
        if d.message.starts_with("missing binary operator before token \"(\"")
            && let Some((file, line, name)) = undefined_macro.take()
            && file == d.file
            && line == d.line
        {
            out.push(Finding { kind: Kind::Identifier, item: name, at });
            continue;
        }
        match classify(d.message) {
            Some((kind, item)) => out.push(Finding { kind, item, at }),
            None if d.severity == "error" => {
                let message = d.message.split(" [-W").next().unwrap_or(d.message).to_string();
                out.push(Finding { kind: Kind::Other, item: message, at })
            }
            None => {}
        }
    }
    out
}

/// Reads the linker's output for `driver`. `object` maps an object file the
/// linker names to the source it was compiled from (shown); objects it does
/// not know (the shim's archive) are shown as the linker names them.
pub fn parse_ld(
    driver: &str,
    output: &str,
    show: &dyn Fn(&str) -> String,
    object: &dyn Fn(&str) -> Option<String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut object_file: Option<String> = None;
    let mut function: Option<String> = None;
    for raw in output.lines() {
        let text = ascii_quotes(raw).replace('`', "'");
        let line = strip_linker_prefix(&text);
        if let Some(rest) = line.strip_suffix("':").and_then(|l| l.split_once(": in function '")) {
            object_file = Some(rest.0.to_string());
            function = Some(rest.1.to_string());
            continue;
        }
        if let Some(at) = line.find(": undefined reference to '") {
            let symbol = line[at..].split('\'').nth(1).unwrap_or("").to_string();
            let place = &line[..at];
            // `/abs/file.c:123` (objects with debug information) or `file.c:(.text+0x1c)`.
            let (file, line_no) = match place.rsplit_once(':') {
                Some((f, n)) if n.parse::<u32>().is_ok() => (show(f), n.parse().ok()),
                _ => {
                    let shown = object_file.as_deref().and_then(object).unwrap_or_else(|| {
                        object_file.clone().unwrap_or_else(|| place.split(':').next().unwrap_or(place).to_string())
                    });
                    (shown, None)
                }
            };
            let at = Use { driver: driver.to_string(), file, line: line_no, function: function.clone() };
            out.push(Finding { kind: Kind::Symbol, item: symbol, at });
            continue;
        }
        let is_error = line.contains("multiple definition of")
            || line.contains("cannot find")
            || line.contains("error:") && !line.contains("ld returned")
            || line.contains("relocation truncated");
        if is_error {
            let at = Use { driver: driver.to_string(), file: String::new(), line: None, function: None };
            out.push(Finding { kind: Kind::Other, item: line.trim().to_string(), at });
        }
    }
    out
}

/// `/usr/bin/ld: ` and `ld.lld: ` prefixes off.
fn strip_linker_prefix(line: &str) -> &str {
    let mut l = line;
    loop {
        let before = l;
        for p in ["/usr/bin/ld: ", "ld: ", "ld.lld: ", "ld.bfd: ", "ld.gold: "] {
            if let Some(rest) = l.strip_prefix(p) {
                l = rest;
            }
        }
        if let Some(idx) = l.find("/ld: ")
            && !l[..idx].contains(' ')
        {
            l = &l[idx + 5..];
        }
        if l == before {
            return l;
        }
    }
}

/// The line that uses `symbol`: inside the definition of `function` when the
/// linker named one (none when the function does not spell it out: the use
/// comes from a macro or an inlined helper), else its first use in the file.
pub fn find_use_line(text: &str, symbol: &str, function: Option<&str>) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    // gcc's clones: `cp_init_one.cold`, `pcnet32_suspend.constprop.0`.
    let function = function.map(|f| f.split('.').next().unwrap_or(f));
    let start = function.and_then(|f| {
        lines.iter().position(|l| {
            let t = l.trim_end();
            has_word(l, f) && l.contains(&format!("{f}(")) && !t.ends_with(';') && !l.starts_with([' ', '\t'])
        })
    });
    let hit = |range: std::ops::Range<usize>| range.into_iter().find(|&i| has_word(lines[i], symbol));
    let found = match start {
        Some(start) => {
            // The body ends at the first `}` in column 0.
            let end = (start + 1..lines.len()).find(|&i| lines[i].starts_with('}')).map_or(lines.len(), |i| i + 1);
            hit(start..end)
        }
        None => hit(0..lines.len()),
    };
    found.map(|i| i as u32 + 1)
}

fn has_word(line: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The lines of `#include <name>` or `#include "name"` in a file.
pub fn include_lines(text: &str, name: &str) -> Vec<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            let Some(rest) = t.strip_prefix('#') else { return false };
            let Some(rest) = rest.trim_start().strip_prefix("include") else { return false };
            let rest = rest.trim();
            rest == format!("<{name}>") || rest == format!("\"{name}\"")
        })
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// The headers `gcc -M -MG` lists that do not exist: the dependencies not
/// given as absolute paths (found headers are, with absolute `-I` folders).
pub fn missing_from_depfile(make_rule: &str) -> Vec<String> {
    let joined = make_rule.replace("\\\n", " ");
    let deps = joined.split_once(": ").map_or("", |(_, d)| d);
    let mut out = Vec::new();
    for dep in deps.split_whitespace() {
        if !dep.starts_with('/') && !out.iter().any(|d| d == dep) {
            out.push(dep.to_string());
        }
    }
    out
}

/// Everything found while building some drivers.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The drivers that failed to build.
    pub failed: BTreeSet<String>,
}

/// How many uses of one item the report shows per driver.
const SHOWN_PER_ITEM: usize = 6;
/// How many items a section shows before saying how many more there are.
const SHOWN_PER_SECTION: usize = 60;

impl Report {
    /// The items, each once, by kind: `(kind, item) → uses`.
    fn grouped(&self) -> BTreeMap<(Kind, String), BTreeSet<Use>> {
        let mut groups: BTreeMap<(Kind, String), BTreeSet<Use>> = BTreeMap::new();
        // A function gcc already called undeclared is not listed again as a symbol.
        let functions: BTreeSet<(&str, &str)> = self
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Function)
            .map(|f| (f.at.driver.as_str(), f.item.as_str()))
            .collect();
        for f in &self.findings {
            if f.kind == Kind::Symbol && functions.contains(&(f.at.driver.as_str(), f.item.as_str())) {
                continue;
            }
            groups.entry((f.kind, f.item.clone())).or_default().insert(f.at.clone());
        }
        groups
    }

    /// The number of distinct missing items (other errors not counted).
    pub fn missing_items(&self) -> usize {
        self.grouped().keys().filter(|(k, _)| *k != Kind::Other).count()
    }

    /// The readable report: a section per kind, each item with the number of
    /// drivers that need it, sorted by that number, and the first uses.
    pub fn render(&self, log: &str) -> String {
        let groups = self.grouped();
        let failed: Vec<&str> = self.failed.iter().map(String::as_str).collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "missing Linux API: {} driver{} failed to build ({}): {} missing item{}",
            failed.len(),
            plural(failed.len()),
            failed.join(", "),
            self.missing_items(),
            plural(self.missing_items())
        );
        let driver_width = self.failed.iter().map(String::len).max().unwrap_or(0);
        for kind in Kind::ALL {
            let mut items: Vec<(&String, &BTreeSet<Use>, usize)> = groups
                .iter()
                .filter(|((k, _), _)| *k == kind)
                .map(|((_, item), uses)| {
                    let drivers = uses.iter().map(|u| &u.driver).collect::<BTreeSet<_>>().len();
                    (item, uses, drivers)
                })
                .collect();
            if items.is_empty() {
                continue;
            }
            items.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.len().cmp(&a.1.len())).then(a.0.cmp(b.0)));
            let _ = writeln!(out, "\n{} ({})", kind.title(), items.len());
            for (item, uses, drivers) in items.iter().take(SHOWN_PER_SECTION) {
                if kind == Kind::Other {
                    for u in uses.iter().take(SHOWN_PER_ITEM) {
                        let _ = writeln!(out, "  {:driver_width$}  {}{item}", u.driver, place_prefix(u));
                    }
                    if uses.len() > SHOWN_PER_ITEM {
                        let _ = writeln!(out, "  {:driver_width$}  (+{} more)", "", uses.len() - SHOWN_PER_ITEM);
                    }
                    continue;
                }
                let shown = match kind {
                    Kind::Function | Kind::Symbol => format!("{item}()"),
                    _ => item.to_string(),
                };
                let _ = writeln!(out, "  {shown}  [{drivers} driver{}]", plural(*drivers));
                let mut by_driver: BTreeMap<&str, Vec<&Use>> = BTreeMap::new();
                for u in uses.iter() {
                    by_driver.entry(&u.driver).or_default().push(u);
                }
                for (driver, list) in by_driver {
                    let _ = writeln!(out, "      {driver:driver_width$}  {}", places(&list));
                }
            }
            if items.len() > SHOWN_PER_SECTION {
                let _ = writeln!(out, "  ... and {} more (see the log)", items.len() - SHOWN_PER_SECTION);
            }
        }
        let _ = writeln!(out, "\nfull compiler log: {log}");
        out
    }

    /// The one summary line the build fails with.
    pub fn summary(&self, log: &str) -> String {
        let failed: Vec<&str> = self.failed.iter().map(String::as_str).collect();
        let others = self.grouped().keys().filter(|(k, _)| *k == Kind::Other).count();
        let others = if others > 0 { format!(" and {others} other error{}", plural(others)) } else { String::new() };
        format!(
            "error: {} legacy driver{} failed to build ({}): {} missing Linux API item{}{others} (report above, full log in {log})",
            failed.len(),
            plural(failed.len()),
            failed.join(", "),
            self.missing_items(),
            plural(self.missing_items()),
        )
    }
}

/// One driver's uses of an item, by file: `path:12,40 (in f, g)`, files joined by `; `.
fn places(uses: &[&Use]) -> String {
    let mut by_file: BTreeMap<&str, (Vec<u32>, Vec<&str>)> = BTreeMap::new();
    for u in uses {
        let entry = by_file.entry(u.file.as_str()).or_default();
        match (u.line, &u.function) {
            (Some(l), _) if !entry.0.contains(&l) => entry.0.push(l),
            (None, Some(f)) => {
                let f = f.split('.').next().unwrap_or(f);
                if !entry.1.contains(&f) {
                    entry.1.push(f);
                }
            }
            _ => {}
        }
    }
    let limited = |items: Vec<String>, sep: &str| {
        let more = items.len().saturating_sub(SHOWN_PER_ITEM);
        let mut text = items.into_iter().take(SHOWN_PER_ITEM).collect::<Vec<_>>().join(sep);
        if more > 0 {
            text.push_str(&format!(" +{more} more"));
        }
        text
    };
    by_file
        .into_iter()
        .map(|(file, (mut lines, functions))| {
            lines.sort_unstable();
            let mut text = file.to_string();
            if !lines.is_empty() {
                text.push(':');
                text.push_str(&limited(lines.iter().map(u32::to_string).collect(), ","));
            }
            if !functions.is_empty() {
                text.push_str(&format!(" (in {})", limited(functions.iter().map(|f| f.to_string()).collect(), ", ")));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `file:line`, or the file with the function the linker named.
fn place(u: &Use) -> String {
    match (u.line, &u.function) {
        (Some(l), _) => format!("{}:{l}", u.file),
        (None, Some(f)) => format!("{} (in {})", u.file, f.split('.').next().unwrap_or(f)),
        (None, None) => u.file.clone(),
    }
}

fn place_prefix(u: &Use) -> String {
    if u.file.is_empty() { String::new() } else { format!("{}: ", place(u)) }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(p: &str) -> String {
        p.strip_prefix("/root/.cache/resurgo/linux-source-6.1_6.1.192-2/")
            .or_else(|| p.strip_prefix("/work/main/"))
            .unwrap_or(p)
            .to_string()
    }

    /// gcc 12's output for two files (real messages, shortened file names).
    const GCC_8139CP: &str = "\
/root/.cache/resurgo/linux-source-6.1_6.1.192-2/drivers/net/ethernet/realtek/8139cp.c:56:10: fatal error: linux/module.h: No such file or directory
   56 | #include <linux/module.h>
      |          ^~~~~~~~~~~~~~~~
compilation terminated.
";

    const GCC_MIXED: &str = "\
t.c: In function 'f':
t.c:5:11: warning: implicit declaration of function 'pci_enable_device' [-Wimplicit-function-declaration]
    5 |   int x = pci_enable_device(d);
      |           ^~~~~~~~~~~~~~~~~
t.c:6:3: error: unknown type name 'foo_t'
    6 |   foo_t y;
      |   ^~~~~
t.c:7:9: error: 'struct net_device' has no member named 'flags'
    7 |   x += d->flags;
      |         ^~
t.c:8:22: error: 'nd_t' {aka 'struct net_device'} has no member named 'features'
t.c:9:8: error: 'IFF_UP' undeclared (first use in this function)
t.c:9:8: note: each undeclared identifier is reported only once for each function it appears in
t.c:10:36: error: invalid use of undefined type 'struct sk_buff'
t.c:11:14: warning: unused variable 'z' [-Wunused-variable]
t.c: At top level:
t.c:13:9: error: 'NETDEV_TX_OK' undeclared here (not in a function); did you mean 'NETDEV_TX_BUSY'?
In file included from t.c:2:
/work/main/dde-linux-shim/include/linux/skbuff.h:40:5: error: too few arguments to function 'skb_put'
t.c:15:42: error: implicit declaration of function \u{2018}other_undefined\u{2019} [-Werror=implicit-function-declaration]
";

    #[test]
    fn a_missing_header_names_header_file_and_line() {
        let f = parse_gcc("8139cp", GCC_8139CP, &show);
        assert_eq!(
            f,
            [Finding {
                kind: Kind::Header,
                item: "linux/module.h".into(),
                at: Use {
                    driver: "8139cp".into(),
                    file: "drivers/net/ethernet/realtek/8139cp.c".into(),
                    line: Some(56),
                    function: None
                },
            }]
        );
    }

    #[test]
    fn each_kind_of_gcc_message_is_recognised() {
        let f = parse_gcc("x", GCC_MIXED, &show);
        let got: Vec<(Kind, &str, Option<u32>)> = f.iter().map(|f| (f.kind, f.item.as_str(), f.at.line)).collect();
        assert_eq!(
            got,
            [
                (Kind::Function, "pci_enable_device", Some(5)),
                (Kind::Type, "foo_t", Some(6)),
                (Kind::Member, "struct net_device.flags", Some(7)),
                (Kind::Member, "struct net_device.features", Some(8)),
                (Kind::Identifier, "IFF_UP", Some(9)),
                (Kind::IncompleteType, "struct sk_buff", Some(10)),
                (Kind::Identifier, "NETDEV_TX_OK", Some(13)),
                (Kind::Other, "too few arguments to function 'skb_put'", Some(40)),
                (Kind::Function, "other_undefined", Some(15)),
            ]
        );
        assert_eq!(f[7].at.file, "dde-linux-shim/include/linux/skbuff.h");
    }

    #[test]
    fn diagnostic_lines_without_column() {
        let d = parse_diag("a/b.c:12: error: something").unwrap();
        assert_eq!((d.file, d.line, d.message), ("a/b.c", Some(12), "something"));
        let d = parse_diag("cc1: error: bad flag").unwrap();
        assert_eq!((d.file, d.line), ("cc1", None));
        assert!(parse_diag("compilation terminated.").is_none());
    }

    /// GNU ld 2.40's output, without and with debug information.
    const LD_PLAIN: &str = "\
/usr/bin/ld: target/image/drivers/8139cp/8139cp.o: in function `cp_init_one':
8139cp.c:(.text+0xa): undefined reference to `pci_enable_device'
/usr/bin/ld: 8139cp.c:(.text+0x14): undefined reference to `netdev_priv'
/usr/bin/ld: target/image/release/libdde_linux_shim.a(skbuff.o): in function `dev_kfree_skb_any':
skbuff.c:(.text+0x2): undefined reference to `ddekit_slab_free'
collect2: error: ld returned 1 exit status
";

    const LD_DEBUG: &str = "\
/usr/bin/ld: ug.o: in function `probe':
/tmp/samp/u.c:3: undefined reference to `pci_enable_device'
/usr/bin/ld: /tmp/samp/u.c:3: undefined reference to `netdev_priv'
/usr/bin/ld: b.o:(.data+0x0): multiple definition of `jiffies'; a.o:(.bss+0x0): first defined here
collect2: error: ld returned 1 exit status
";

    #[test]
    fn undefined_references_name_symbol_source_and_function() {
        let object = |o: &str| o.ends_with("8139cp.o").then(|| "drivers/net/ethernet/realtek/8139cp.c".to_string());
        let f = parse_ld("8139cp", LD_PLAIN, &show, &object);
        let got: Vec<(&str, &str, Option<&str>)> =
            f.iter().map(|f| (f.item.as_str(), f.at.file.as_str(), f.at.function.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("pci_enable_device", "drivers/net/ethernet/realtek/8139cp.c", Some("cp_init_one")),
                ("netdev_priv", "drivers/net/ethernet/realtek/8139cp.c", Some("cp_init_one")),
                ("ddekit_slab_free", "target/image/release/libdde_linux_shim.a(skbuff.o)", Some("dev_kfree_skb_any")),
            ]
        );
        assert!(f.iter().all(|f| f.kind == Kind::Symbol));

        let f = parse_ld("x", LD_DEBUG, &show, &|_| None);
        assert_eq!(
            (f[0].item.as_str(), f[0].at.file.as_str(), f[0].at.line),
            ("pci_enable_device", "/tmp/samp/u.c", Some(3))
        );
        assert_eq!(f[2].kind, Kind::Other);
        assert!(f[2].item.starts_with("b.o:(.data+0x0): multiple definition of 'jiffies'"), "{}", f[2].item);
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn use_lines_are_found_in_the_named_function() {
        let src = "int a(void)\n{\n\treturn pci_x();\n}\nstatic int cp_init_one(struct pci_dev *p)\n{\n\tint pci_x_y = 0;\n\treturn pci_x(p);\n}\n";
        assert_eq!(find_use_line(src, "pci_x", Some("cp_init_one")), Some(8));
        assert_eq!(find_use_line(src, "pci_x", Some("cp_init_one.cold")), Some(8));
        assert_eq!(find_use_line(src, "pci_x", None), Some(3));
        assert_eq!(find_use_line(src, "pci_x", Some("nowhere")), Some(3));
        assert_eq!(find_use_line(src, "absent", None), None);
        // Used through a macro: the function does not spell it, so no line.
        assert_eq!(find_use_line(src, "pci_x_y", Some("a")), None);
    }

    #[test]
    fn include_sites_and_missing_headers_from_gcc_m_mg() {
        let src = "#include <linux/module.h>\n# include \"8390.h\"\n#include <linux/modulex.h>\n";
        assert_eq!(include_lines(src, "linux/module.h"), [1]);
        assert_eq!(include_lines(src, "8390.h"), [2]);
        let rule = "8139cp.o: /c/drivers/8139cp.c linux/module.h \\\n /w/shim/include/linux/types.h linux/mii.h \\\n linux/module.h\n";
        assert_eq!(missing_from_depfile(rule), ["linux/module.h", "linux/mii.h"]);
    }

    #[test]
    fn report_groups_by_item_sorted_by_drivers() {
        let mut report = Report::default();
        let mut add = |driver: &str, kind: Kind, item: &str, file: &str, line: u32| {
            report.failed.insert(driver.to_string());
            report.findings.push(Finding {
                kind,
                item: item.into(),
                at: Use { driver: driver.into(), file: file.into(), line: Some(line), function: None },
            });
        };
        add("8139cp", Kind::Header, "linux/mii.h", "drivers/net/ethernet/realtek/8139cp.c", 60);
        add("pcnet32", Kind::Header, "linux/mii.h", "drivers/net/ethernet/amd/pcnet32.c", 40);
        add("pcnet32", Kind::Header, "linux/crc32.h", "drivers/net/ethernet/amd/pcnet32.c", 41);
        add("e1000", Kind::Function, "pci_enable_device", "e1000_main.c", 900);
        add("e1000", Kind::Symbol, "pci_enable_device", "e1000_main.c", 900);
        add("e1000", Kind::Symbol, "netdev_priv", "e1000_main.c", 100);
        add("e1000", Kind::Symbol, "netdev_priv", "e1000_main.c", 40);
        add("e1000", Kind::Symbol, "netdev_priv", "e1000_hw.c", 7);
        add("e1000", Kind::Other, "too few arguments to function 'skb_put'", "e1000_main.c", 7);
        let text = report.render("target/image/drivers/build.log");
        let expected = "\
missing Linux API: 3 drivers failed to build (8139cp, e1000, pcnet32): 4 missing items

missing headers (2)
  linux/mii.h  [2 drivers]
      8139cp   drivers/net/ethernet/realtek/8139cp.c:60
      pcnet32  drivers/net/ethernet/amd/pcnet32.c:40
  linux/crc32.h  [1 driver]
      pcnet32  drivers/net/ethernet/amd/pcnet32.c:41

undeclared functions (1)
  pci_enable_device()  [1 driver]
      e1000    e1000_main.c:900

undefined symbols at link (1)
  netdev_priv()  [1 driver]
      e1000    e1000_hw.c:7; e1000_main.c:40,100

other errors (1)
  e1000    e1000_main.c:7: too few arguments to function 'skb_put'

full compiler log: target/image/drivers/build.log
";
        assert_eq!(text, expected);
        assert_eq!(
            report.summary("target/image/drivers/build.log"),
            "error: 3 legacy drivers failed to build (8139cp, e1000, pcnet32): 4 missing Linux API items \
             and 1 other error (report above, full log in target/image/drivers/build.log)"
        );
    }

    #[test]
    fn a_function_like_macro_missing_in_if_is_an_identifier() {
        let out = "/l/amd8111e.c:79:5: warning: \"IS_ENABLED\" is not defined, evaluates to 0 [-Wundef]\n\
                   /l/amd8111e.c:79:15: error: missing binary operator before token \"(\"\n";
        let f = parse_gcc("amd8111e", out, &|p: &str| p.to_string());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].kind, f[0].item.as_str(), f[0].at.line), (Kind::Identifier, "IS_ENABLED", Some(79)));
    }
}

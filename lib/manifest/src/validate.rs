//! Checks a parsed manifest and resolves it: every reference must name something
//! that exists, no two tasks may be granted the same ports or device memory, and
//! every number must be in range. All problems are collected, not just the first.

use crate::{LogLevel, MAX_TASK_PRIORITY, Manifest, Size, Spanned, System, Task, defaults, parse_size};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;
use l4_sys::env::NAME_LEN;

/// One thing wrong with a manifest, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Option<Range<usize>>,
    pub message: String,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn err<T>(&mut self, at: &Spanned<T>, message: String) {
        self.problems.push(Problem { span: Some(at.span()), message });
    }

    fn int_in<T: TryFrom<i64> + Copy>(&mut self, v: &Spanned<i64>, lo: i64, hi: i64, what: &str) -> Option<T> {
        let x = *v.get_ref();
        if x < lo || x > hi {
            self.err(v, format!("{what} {x} is out of range ({lo}..={hi})"));
            return None;
        }
        T::try_from(x).ok()
    }

    fn size(&mut self, v: &Option<Spanned<Size>>, default: u64, what: &str) -> u64 {
        let Some(s) = v else { return default };
        let bytes = match s.get_ref() {
            Size::Bytes(n) if *n > 0 => Some(*n as u64),
            Size::Bytes(_) => None,
            Size::Text(t) => parse_size(t),
        };
        match bytes {
            Some(b) if b > 0 && b <= (1 << 32) => b.next_multiple_of(4096),
            _ => {
                self.err(s, format!("{what} is not a size like \"64K\", \"4M\" or a byte count up to 4G"));
                default
            }
        }
    }
}

pub fn validate(m: &Manifest) -> Result<System, Vec<Problem>> {
    let mut c = Checker { problems: Vec::new() };
    let log_level = match m.system.log_level.as_ref().map(|l| (l, l.get_ref().as_str())) {
        None | Some((_, "info")) => LogLevel::Info,
        Some((_, "error")) => LogLevel::Error,
        Some((_, "warn")) => LogLevel::Warn,
        Some((_, "debug")) => LogLevel::Debug,
        Some((l, other)) => {
            c.err(l, format!("log-level `{other}` is not one of error, warn, info, debug"));
            LogLevel::Info
        }
    };

    let restart = match m.system.restart.as_ref().map(|r| (r, r.get_ref().parse::<crate::RestartMode>())) {
        None => crate::RestartMode::default(),
        Some((_, Ok(mode))) => mode,
        Some((r, Err(why))) => {
            c.err(r, format!("restart {why}"));
            crate::RestartMode::default()
        }
    };
    let names: BTreeSet<&str> = m.tasks.keys().map(|s| s.as_str()).collect();
    let mut tasks = Vec::new();
    for (name, decl) in &m.tasks {
        let d = decl.get_ref();
        if name.is_empty()
            || name.len() > 24
            || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            c.err(decl, format!("task name `{name}` must be 1..=24 letters, digits, `-` or `_`"));
        }
        if name == "init" {
            c.err(decl, "`init` is the root task and cannot be declared".to_string());
        }
        let priority = d
            .priority
            .as_ref()
            .and_then(|p| c.int_in::<u8>(p, 1, MAX_TASK_PRIORITY as i64, "priority"))
            .unwrap_or(defaults::PRIORITY);
        let threads =
            d.threads.as_ref().and_then(|t| c.int_in::<u32>(t, 1, 256, "threads")).unwrap_or(defaults::THREADS);
        let memory = c.size(&d.memory, defaults::MEMORY, "memory");
        let heap = c.size(&d.heap, defaults::HEAP, "heap");
        let stack = c.size(&d.stack, defaults::STACK, "stack");
        if heap + stack > memory {
            let at = d.memory.as_ref().map(|m| m.span()).unwrap_or(decl.span());
            c.problems.push(Problem {
                span: Some(at),
                message: format!(
                    "task `{name}`: heap and stack ({} KiB) do not fit its memory quota ({} KiB)",
                    (heap + stack) >> 10,
                    memory >> 10
                ),
            });
        }
        let parent = match &d.parent {
            None => None,
            Some(p) if p.get_ref() == "init" => None,
            Some(p) if !names.contains(p.get_ref().as_str()) => {
                c.err(p, format!("parent `{}` is not a task of this manifest", p.get_ref()));
                None
            }
            Some(p) if p.get_ref() == name => {
                c.err(p, format!("task `{name}` cannot be its own parent"));
                None
            }
            Some(p) => Some(p.get_ref().clone()),
        };
        if !d.start && parent.is_none() {
            c.err(decl, format!("task `{name}` has `start = false` but no parent to start it"));
        }
        let mut ports = Vec::new();
        for p in &d.ports {
            let r = p.get_ref();
            if r.base < 0 || r.count <= 0 || r.base + r.count > 0x10000 {
                c.err(p, format!("ports {:#x}+{} do not exist (ports are 0..=0xffff)", r.base, r.count));
            } else {
                ports.push((r.base as u16, r.count as u32));
            }
        }
        let mut irqs = Vec::new();
        for i in &d.irqs {
            let line = *i.get_ref();
            if !(1..16).contains(&line) || line == 2 {
                c.err(
                    i,
                    format!("IRQ line {line} does not exist or is the kernel's (lines 1 and 3..=15 can be granted)"),
                );
            } else {
                irqs.push(line as u8);
            }
        }
        let mut mmio = Vec::new();
        for r in &d.mmio {
            let v = r.get_ref();
            if v.base < 0
                || v.size <= 0
                || v.base % 4096 != 0
                || v.size % 4096 != 0
                || v.base.checked_add(v.size).is_none_or(|e| e > 1 << 46)
            {
                c.err(
                    r,
                    format!("device memory {:#x}+{:#x} must be page aligned, non-empty and below 2^46", v.base, v.size),
                );
            } else {
                mmio.push((v.base as u64, v.size as u64));
            }
        }
        let mut serves = Vec::new();
        for s in &d.serves {
            if s.get_ref().is_empty() || s.get_ref().contains('.') {
                c.err(s, format!("endpoint name `{}` must be non-empty and without `.`", s.get_ref()));
            } else if serves.contains(s.get_ref()) {
                c.err(s, format!("endpoint `{}` is declared twice", s.get_ref()));
            } else {
                serves.push(s.get_ref().clone());
            }
        }
        let mut values = Vec::new();
        for (k, v) in &d.values {
            if *v.get_ref() < 0 {
                c.err(v, format!("value `{k}` must not be negative"));
            } else {
                values.push((k.clone(), *v.get_ref() as u64));
            }
        }
        let mut reads = Vec::new();
        for r in &d.reads {
            let ns = r.get_ref();
            if ns != "*" && !names.contains(ns.as_str()) {
                c.err(r, format!("`reads` names `{ns}`, which is not a task of this manifest (or `*` for all)"));
            } else if !reads.contains(ns) {
                reads.push(ns.clone());
            }
        }
        let driver = d.driver.as_ref().map(|x| x.get_ref().clone());
        if let Some(dr) = &d.driver {
            let n = dr.get_ref();
            if n.is_empty() || !n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
                c.err(dr, format!("driver name `{n}` must be letters, digits, `-` or `_`"));
            }
        }
        let image = match (&d.image, &driver) {
            (Some(i), _) => i.get_ref().clone(),
            (None, Some(dr)) => format!("drv-{dr}"),
            (None, None) => name.clone(),
        };
        tasks.push(Task {
            name: name.clone(),
            driver,
            image,
            priority,
            memory,
            heap,
            stack,
            threads,
            start: d.start,
            parent,
            ports,
            iopl: d.iopl,
            irqs,
            mmio,
            serves,
            uses: Vec::new(),
            kernel: d.kernel || d.kernel_control,
            kernel_control: d.kernel_control,
            debug: d.debug,
            svc: crate::SvcGrants::default(),
            devices: d.devices,
            reads,
            boot_archive: d.boot_archive,
            msi: d.msi,
            values,
        });
    }

    // References to other tasks' endpoints.
    let served: BTreeMap<&str, &Vec<String>> = tasks.iter().map(|t| (t.name.as_str(), &t.serves)).collect();
    let mut uses_all = Vec::new();
    for (name, decl) in &m.tasks {
        let mut uses = Vec::new();
        for u in &decl.get_ref().uses {
            let Some((task, endpoint)) = u.get_ref().split_once('.') else {
                c.err(u, format!("`{}` must name an endpoint as `task.endpoint`", u.get_ref()));
                continue;
            };
            match served.get(task) {
                None => c.err(u, format!("task `{task}` (in `{}`) is not declared", u.get_ref())),
                Some(eps) if !eps.iter().any(|e| e == endpoint) => {
                    c.err(u, format!("task `{task}` serves no endpoint `{endpoint}`"))
                }
                Some(_) => uses.push((task.to_string(), endpoint.to_string())),
            }
        }
        uses_all.push((name.clone(), uses));
    }
    for (t, (_, uses)) in tasks.iter_mut().zip(uses_all) {
        t.uses = uses;
    }

    // `svc` grants: each names a task supervised by a `svc` server the
    // grantee uses.
    let grants: Vec<crate::SvcGrants> = m
        .tasks
        .iter()
        .zip(&tasks)
        .map(|((name, decl), t)| svc_grants(&mut c, name, decl.get_ref(), t, &tasks))
        .collect();
    for (t, g) in tasks.iter_mut().zip(grants) {
        t.svc = g;
    }

    // Exclusive resources: no two tasks share ports or device memory.
    let decls: Vec<&Spanned<crate::TaskDecl>> = m.tasks.values().collect();
    for (i, a) in tasks.iter().enumerate() {
        for b in tasks.iter().skip(i + 1) {
            for (pi, &(pa, na)) in a.ports.iter().enumerate() {
                for &(pb, nb) in &b.ports {
                    if (pa as u32) < pb as u32 + nb && (pb as u32) < pa as u32 + na {
                        let at = &decls[i].get_ref().ports[pi];
                        c.err(
                            at,
                            format!(
                                "ports {:#x}+{} of `{}` overlap ports {:#x}+{} of `{}`",
                                pa, na, a.name, pb, nb, b.name
                            ),
                        );
                    }
                }
            }
            for (mi, &(ma, sa)) in a.mmio.iter().enumerate() {
                for &(mb, sb) in &b.mmio {
                    if ma < mb + sb && mb < ma + sa {
                        let at = &decls[i].get_ref().mmio[mi];
                        c.err(at, format!("device memory of `{}` overlaps that of `{}`", a.name, b.name));
                    }
                }
            }
        }
    }

    // The debugging right is over one's children: a task without any has no use for it.
    for (i, t) in tasks.iter().enumerate() {
        if t.debug && !tasks.iter().any(|x| x.parent.as_deref() == Some(t.name.as_str())) {
            c.err(decls[i], format!("task `{}` has `debug = true` but starts no tasks to debug", t.name));
        }
    }

    // MINIX-style restarts go through the data store: a new driver instance
    // announces its rings there and netd learns of it there, so both ends of
    // every NIC attachment must reach a task serving `store`.
    if restart == crate::RestartMode::Minix
        && let Some(at) = m.system.restart.as_ref()
    {
        let stores: Vec<&str> =
            tasks.iter().filter(|t| t.serves.iter().any(|e| e == "store")).map(|t| t.name.as_str()).collect();
        let reaches_store = |t: &Task| t.uses.iter().any(|(s, e)| e == "store" && stores.contains(&s.as_str()));
        let nic_ends = tasks
            .iter()
            .filter(|t| t.serves.iter().any(|e| e == "nic") || t.uses.iter().any(|(s, e)| e == "nic" && s != &t.name));
        let missing: Vec<&str> = nic_ends.filter(|t| !reaches_store(t)).map(|t| t.name.as_str()).collect();
        if stores.is_empty() && !missing.is_empty() {
            c.err(at, "restart = \"minix\" needs the data store: no task serves `store`".to_string());
        } else if !missing.is_empty() {
            c.err(
                at,
                format!(
                    "restart = \"minix\" needs the data store at both ends of a NIC: `{}` do not use `{}.store`",
                    missing.join("`, `"),
                    stores[0]
                ),
            );
        }
    }

    // Parent chains must end at init.
    for (i, t) in tasks.iter().enumerate() {
        let mut seen = BTreeSet::new();
        let mut cur = t.parent.clone();
        while let Some(p) = cur {
            if !seen.insert(p.clone()) {
                c.err(decls[i], format!("the parent chain of `{}` loops through `{p}`", t.name));
                break;
            }
            cur = tasks.iter().find(|x| x.name == p).and_then(|x| x.parent.clone());
        }
    }

    // Every name a task's start-up page holds must fit an entry of it, and so
    // must the parent's copy of it (`TASK:NAME`, for the tasks it starts):
    // otherwise the parent cannot be loaded at boot.
    for (i, t) in tasks.iter().enumerate() {
        for name in env_names(t, &tasks) {
            let held = [Some(name.clone()), t.parent.as_ref().map(|_| format!("{}:{name}", t.name))];
            if let Some(long) = held.into_iter().flatten().find(|n| n.len() > NAME_LEN) {
                c.err(
                    decls[i],
                    format!(
                        "task `{}`: the start-up page entry `{long}` would be {} bytes, more than the {NAME_LEN} an entry holds (a shorter task or endpoint name fits)",
                        t.name,
                        long.len()
                    ),
                );
                break;
            }
        }
    }

    if !c.problems.is_empty() {
        c.problems.sort_by_key(|p| p.span.as_ref().map_or(0, |s| s.start));
        return Err(c.problems);
    }
    let tasks = start_order(tasks);
    Ok(System { name: m.system.name.clone(), log_level, restart, tasks })
}

/// The names of the entries init writes into task `t`'s start-up page for
/// what the manifest says (init's `own_grants`, the loader's sizes), and the
/// names of its I/O port grants, which only its parent's page holds.
fn env_names(t: &Task, tasks: &[Task]) -> Vec<String> {
    let mut names = Vec::new();
    for client in tasks {
        for (server, ep) in &client.uses {
            if server == &t.name {
                names.push(format!("gate.{ep}@{}", client.name));
                names.push(format!("{ep}@{}", client.name));
            }
        }
    }
    names.extend(t.uses.iter().map(|(server, ep)| format!("{server}.{ep}")));
    names.extend(t.irqs.iter().map(|line| format!("irq.{line}")));
    names.extend((0..t.mmio.len()).map(|i| format!("mmio.{i}")));
    names.extend((0..t.ports.len()).map(|i| format!("ports.{i}")));
    names.extend(t.values.iter().map(|(k, _)| k.clone()));
    names
}

/// Resolves the `svc` table of task `name`: every target is `*` or a task whose
/// parent serves `svc` to this task.
fn svc_grants(c: &mut Checker, name: &str, decl: &crate::TaskDecl, t: &Task, tasks: &[Task]) -> crate::SvcGrants {
    let mut out = crate::SvcGrants::default();
    let Some(svc) = &decl.svc else { return out };
    // The supervisors this task reaches through a `svc` endpoint.
    let servers: Vec<&str> = t.uses.iter().filter(|(_, ep)| ep == "svc").map(|(s, _)| s.as_str()).collect();
    if servers.is_empty() {
        c.err(
            svc,
            format!(
                "task `{name}` is granted `svc` verbs but uses no `svc` endpoint (add `\"SERVER.svc\"` to its `uses`)"
            ),
        );
        return out;
    }
    for right in crate::SvcRight::ALL {
        let mut list = Vec::new();
        for target in svc.get_ref().targets(right) {
            let n = target.get_ref();
            if n == "*" {
                list.push(n.clone());
                continue;
            }
            match tasks.iter().find(|x| &x.name == n) {
                None => c.err(
                    target,
                    format!("`svc.{}` of `{name}` names `{n}`, which is not a task of this manifest (or `*` for all)", right.name()),
                ),
                Some(x) if !x.parent.as_deref().is_some_and(|p| servers.contains(&p)) => c.err(
                    target,
                    format!(
                        "`svc.{}` of `{name}` names `{n}`, whose parent (`{}`) is not a `svc` server `{name}` uses ({})",
                        right.name(),
                        x.parent.as_deref().unwrap_or("init"),
                        servers.join(", ")
                    ),
                ),
                Some(_) if list.contains(n) => {}
                Some(_) => list.push(n.clone()),
            }
        }
        match right {
            crate::SvcRight::Restart => out.restart = list,
            crate::SvcRight::Kill => out.kill = list,
            crate::SvcRight::Inject => out.inject = list,
            crate::SvcRight::Complain => out.complain = list,
        }
    }
    out
}

/// Parents before children, servers before their clients, otherwise by name.
fn start_order(mut pending: Vec<Task>) -> Vec<Task> {
    let mut out: Vec<Task> = Vec::new();
    while !pending.is_empty() {
        let ready = |t: &Task, out: &Vec<Task>| {
            let placed = |n: &str| out.iter().any(|o| o.name == n);
            t.parent.as_deref().is_none_or(placed) && t.uses.iter().all(|(s, _)| s == &t.name || placed(s))
        };
        let i = pending.iter().position(|t| ready(t, &out)).unwrap_or(0);
        out.push(pending.remove(i));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{line_col, load};

    const GOOD: &str = r#"
[system]
name = "demo"

[tasks.server]
serves = ["main"]
ports = [{ base = 0x70, count = 2 }]

[tasks.client]
uses = ["server.main"]
memory = "1M"
values = { rounds = 10 }
reads = ["server", "*"]
boot-archive = true

[tasks.child]
parent = "client"
start = false
"#;

    #[test]
    fn restart_mode_is_set_by_rewriting_the_text() {
        let text = crate::with_restart_mode(GOOD, crate::RestartMode::Minix);
        let s = load(&text).unwrap();
        assert_eq!(s.restart, crate::RestartMode::Minix);
        assert_eq!(s.name, "demo-minix");
        assert_eq!(s.tasks.len(), 3);
        let again = crate::with_restart_mode(&text, crate::RestartMode::Transparent);
        assert_eq!(load(&again).unwrap().restart, crate::RestartMode::Transparent);
        assert_eq!(load(GOOD).unwrap().restart, crate::RestartMode::Transparent);
        assert!(load("[system]\nname = \"x\"\nrestart = \"maybe\"\n").is_err());
    }

    #[test]
    fn minix_restarts_need_the_data_store_at_both_ends_of_a_nic() {
        let base = "[system]\nname = \"x\"\nrestart = \"minix\"\n[tasks.netd]\nserves = [\"nic\"]\nUSES\n[tasks.drv]\nuses = [\"netd.nic\"DRV]\n";
        let p = problems(&base.replace("USES", "").replace("DRV", ""));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, 3);
        assert!(p[0].1.contains("no task serves `store`"), "{}", p[0].1);
        let with_store = format!("{base}[tasks.ds]\nserves = [\"store\"]\n");
        let p = problems(&with_store.replace("USES", "uses = [\"ds.store\"]").replace("DRV", ""));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("`drv` do not use `ds.store`"), "{}", p[0].1);
        assert!(load(&with_store.replace("USES", "uses = [\"ds.store\"]").replace("DRV", ", \"ds.store\"")).is_ok());
        // Transparent restarts need no store.
        assert!(load(&base.replace("minix", "transparent").replace("USES", "").replace("DRV", "")).is_ok());
    }

    #[test]
    fn a_good_manifest_resolves_in_start_order() {
        let s = load(GOOD).unwrap();
        let names: Vec<_> = s.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["server", "client", "child"]);
        let client = &s.tasks[1];
        assert_eq!(client.uses, [("server".to_string(), "main".to_string())]);
        assert_eq!(client.memory, 1 << 20);
        assert_eq!(client.values, [("rounds".to_string(), 10)]);
        assert_eq!(s.tasks[2].parent.as_deref(), Some("client"));
        assert_eq!(client.reads, ["server", "*"]);
        assert!(client.boot_archive && !s.tasks[0].boot_archive);
        assert!(s.tasks[0].reads.is_empty());
    }

    #[test]
    fn reads_must_name_tasks() {
        let text = "[system]\nname = \"x\"\n[tasks.a]\nreads = [\"b\", \"ghost\", \"*\"]\n[tasks.b]\n";
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, 4);
        assert!(p[0].1.contains("`ghost`"), "{}", p[0].1);
    }

    fn problems(text: &str) -> Vec<(usize, String)> {
        load(text).unwrap_err().into_iter().map(|p| (line_col(text, p.span.unwrap().start).0, p.message)).collect()
    }

    #[test]
    fn overlapping_ports_are_reported_at_their_line() {
        let text = "[system]\nname = \"x\"\n[tasks.a]\nports = [{ base = 0x60, count = 8 }]\n[tasks.b]\nports = [{ base = 0x64, count = 1 }]\n";
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, 4);
        assert!(p[0].1.contains("overlap"), "{}", p[0].1);
    }

    #[test]
    fn unknown_tasks_endpoints_and_keys_are_reported() {
        let text = "[system]\nname = \"x\"\n[tasks.a]\nuses = [\"nobody.main\"]\nparent = \"ghost\"\n";
        let p = problems(text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|(l, m)| *l == 4 && m.contains("`nobody`")));
        assert!(p.iter().any(|(l, m)| *l == 5 && m.contains("ghost")));

        let text = "[system]\nname = \"x\"\n[tasks.a]\nportz = []\n";
        let p = problems(text);
        assert_eq!(p[0].0, 4);
        assert!(p[0].1.contains("portz"), "{}", p[0].1);
    }

    #[test]
    fn grants_that_do_not_exist_are_reported() {
        let text = "[system]\nname = \"x\"\n[tasks.a]\nirqs = [0, 16, 8]\nports = [{ base = 0xffff, count = 2 }]\nmmio = [{ base = 0x1001, size = 4096 }]\npriority = 300\n";
        let p = problems(text);
        let lines: Vec<usize> = p.iter().map(|x| x.0).collect();
        assert_eq!(lines, [4, 4, 5, 6, 7], "{p:?}");
    }

    const SVC: &str = r#"
[system]
name = "x"
[tasks.rs]
serves = ["svc"]
[tasks.drv]
parent = "rs"
start = false
[tasks.other]
[tasks.op]
uses = ["rs.svc"]
svc = { kill = ["drv"], inject = ["*"] }
[tasks.viewer]
uses = ["rs.svc"]
"#;

    #[test]
    fn svc_grants_resolve_per_verb_class() {
        use crate::SvcRight;
        let s = load(SVC).unwrap();
        let op = s.tasks.iter().find(|t| t.name == "op").unwrap();
        assert!(op.svc.allows(SvcRight::Kill, "drv"));
        assert!(!op.svc.allows(SvcRight::Kill, "other"));
        assert!(op.svc.allows(SvcRight::Inject, "anything"), "`*` stands for every supervised task");
        assert!(!op.svc.allows(SvcRight::Restart, "drv") && !op.svc.allows(SvcRight::Complain, "drv"));
        let viewer = s.tasks.iter().find(|t| t.name == "viewer").unwrap();
        assert!(!viewer.svc.any(), "a client without `svc` grants may only list");
    }

    #[test]
    fn svc_grants_must_name_supervised_tasks_of_a_server_used() {
        let text = SVC.replace(r#"kill = ["drv"]"#, r#"kill = ["ghost", "other"]"#);
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().all(|(l, _)| *l == 12), "{p:?}");
        assert!(p[0].1.contains("`ghost`") && p[0].1.contains("not a task"), "{}", p[0].1);
        assert!(p[1].1.contains("`other`") && p[1].1.contains("parent (`init`)"), "{}", p[1].1);

        let text = SVC.replace("[tasks.viewer]\nuses = [\"rs.svc\"]", "[tasks.viewer]\nsvc = { restart = [\"drv\"] }");
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, 14);
        assert!(p[0].1.contains("uses no `svc` endpoint"), "{}", p[0].1);

        let p = problems(&SVC.replace("inject = [", "injekt = ["));
        assert!(p[0].1.contains("injekt"), "{p:?}");
    }

    #[test]
    fn start_up_page_names_must_fit_their_entries_and_the_parents_copies() {
        // `eth-devresdemo:gate.control@reincarnation` is 41 bytes.
        let text = "[system]\nname = \"x\"\n[tasks.reincarnation]\nuses = [\"NAME.control\"]\n\
                    [tasks.NAME]\nparent = \"reincarnation\"\nserves = [\"control\"]\n";
        let p = problems(&text.replace("NAME", "eth-devresdemo"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("`eth-devresdemo:gate.control@reincarnation` would be 41 bytes"), "{}", p[0].1);
        assert!(load(&text.replace("NAME", "eth-devres")).is_ok());
        // A task's own entries too, without a parent.
        let own = format!("[system]\nname = \"x\"\n[tasks.a]\nvalues = {{ {} = 1 }}\n", "v".repeat(41));
        assert_eq!(problems(&own).len(), 1);
    }

    #[test]
    fn the_debugging_right_needs_children() {
        let s = load("[system]\nname = \"x\"\n[tasks.rs]\ndebug = true\n[tasks.d]\nparent = \"rs\"\n").unwrap();
        assert!(s.tasks.iter().find(|t| t.name == "rs").unwrap().debug);
        assert!(!s.tasks.iter().find(|t| t.name == "d").unwrap().debug);
        let p = problems("[system]\nname = \"x\"\n[tasks.lonely]\ndebug = true\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("starts no tasks"), "{}", p[0].1);
    }

    #[test]
    fn kernel_control_implies_the_kernel_capability() {
        let s = load("[system]\nname = \"x\"\n[tasks.a]\nkernel-control = true\n[tasks.b]\nkernel = true\n").unwrap();
        assert!(s.tasks[0].kernel && s.tasks[0].kernel_control);
        assert!(s.tasks[1].kernel && !s.tasks[1].kernel_control);
    }

    #[test]
    fn parent_loops_and_unstartable_tasks_are_reported() {
        let text =
            "[system]\nname = \"x\"\n[tasks.a]\nparent = \"b\"\n[tasks.b]\nparent = \"a\"\n[tasks.c]\nstart = false\n";
        let p = problems(text);
        assert!(p.iter().any(|(_, m)| m.contains("loops")), "{p:?}");
        assert!(p.iter().any(|(l, m)| *l == 7 && m.contains("start = false")), "{p:?}");
    }
}

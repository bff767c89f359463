//! Starting the tasks of a boot manifest on Resurgo's kernel (its ELF
//! loader and task objects): the boot archive and its manifest, a task's
//! grants, and [`spawn`] / [`spawn_child`]. Not part of a build for Fiasco.OC.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use manifest::{System, Task};
use rt::loader::{self, Child, Grant, LoadError, Spawn};
use rt::obj::{Dataspace, Gate, IoPorts, Irq};
use rt::{CapIdx, Rights};

/// Pages of quota a task gets beyond its declared memory, for page tables and
/// the loader's own bookkeeping.
pub const QUOTA_SLACK_PAGES: u64 = 64;

/// How far above its declared priority a task may raise its own threads (a
/// driver's interrupt threads run above its other threads).
pub const PRIORITY_HEADROOM: u8 = 10;

#[derive(Debug)]
pub enum BootError {
    NoArchive,
    NotTar,
    NoManifest,
    /// The manifest does not parse or validate: the formatted problems.
    BadManifest(Vec<String>),
    NoImage(String),
    Load(String, LoadError),
    Kernel(rt::Error),
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootError::NoArchive => f.write_str("no `boot-archive` capability"),
            BootError::NotTar => f.write_str("the boot archive is not a tar file"),
            BootError::NoManifest => f.write_str("the boot archive has no manifest.toml"),
            BootError::BadManifest(p) => write!(f, "manifest.toml: {}", p.join("; ")),
            BootError::NoImage(n) => write!(f, "the boot archive has no image `{n}`"),
            BootError::Load(n, e) => write!(f, "cannot load `{n}`: {e}"),
            BootError::Kernel(e) => write!(f, "kernel: {e}"),
        }
    }
}

impl From<rt::Error> for BootError {
    fn from(e: rt::Error) -> Self {
        BootError::Kernel(e)
    }
}

/// The boot archive, mapped, and the manifest it carries.
pub struct Boot {
    pub system: System,
    archive: &'static [u8],
    archive_cap: CapIdx,
}

impl Boot {
    /// Maps the archive named `boot-archive` in this task's environment.
    pub fn open() -> Result<Boot, BootError> {
        let cap = rt::env::cap("boot-archive").ok_or(BootError::NoArchive)?;
        let size = Dataspace(cap).info()?.size;
        let addr = rt::mem::attach(&Dataspace(cap), size, false)?;
        // SAFETY: the dataspace is mapped read-only at `addr` for `size` bytes and
        // never unmapped; nobody writes it.
        let archive = unsafe { core::slice::from_raw_parts(addr as *const u8, size as usize) };
        let text = find(archive, "manifest.toml")?.ok_or(BootError::NoManifest)?;
        let text = core::str::from_utf8(text).map_err(|_| BootError::NoManifest)?;
        let system = manifest::load(text).map_err(|problems| {
            BootError::BadManifest(
                problems
                    .iter()
                    .map(|p| match &p.span {
                        Some(s) => format!("line {}: {}", manifest::line_col(text, s.start).0, p.message),
                        None => p.message.clone(),
                    })
                    .collect(),
            )
        })?;
        Ok(Boot { system, archive, archive_cap: cap })
    }

    pub fn image(&self, name: &str) -> Result<&'static [u8], BootError> {
        find(self.archive, name)?.ok_or_else(|| BootError::NoImage(name.to_string()))
    }

    pub fn task(&self, name: &str) -> Option<&Task> {
        self.system.tasks.iter().find(|t| t.name == name)
    }

    /// Tasks whose parent is `parent` (`None`: init), in start order.
    pub fn children_of<'a>(&'a self, parent: Option<&'a str>) -> impl Iterator<Item = &'a Task> + 'a {
        self.system.tasks.iter().filter(move |t| t.parent.as_deref() == parent)
    }

    pub fn archive_cap(&self) -> CapIdx {
        self.archive_cap
    }
}

fn find(archive: &'static [u8], name: &str) -> Result<Option<&'static [u8]>, BootError> {
    let tar = tar_no_std::TarArchiveRef::new(archive).map_err(|_| BootError::NotTar)?;
    Ok(tar.entries().find(|e| e.filename().as_str() == Ok(name)).map(|e| e.data()))
}

/// A capability a task is granted, under the name it will see.
#[derive(Clone, Debug)]
pub struct NamedCap {
    pub name: String,
    pub cap: CapIdx,
    pub rights: Rights,
}

/// Everything one task is given besides its memory.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    pub caps: Vec<NamedCap>,
    /// Port ranges put into its I/O bitmap.
    pub ports: Vec<IoPorts>,
    /// The all-ports capability, for `iopl = true`.
    pub iopl: Option<IoPorts>,
    /// Gates to bind to its first thread before it runs, with their labels.
    pub serve: Vec<(Gate, u64)>,
    /// Plain values for its environment besides the manifest's own (for a
    /// server: which gate label belongs to which client, as `endpoint@client`).
    pub values: Vec<(String, u64)>,
}

impl Grants {
    /// What this task's environment names `child:...`: the grants of a child it
    /// is the parent of.
    pub fn for_child(child: &str) -> Grants {
        let prefix = format!("{child}:");
        let mut g = Grants::default();
        for (name, kind, value) in rt::env::page().entries() {
            let Some(rest) = name.strip_prefix(prefix.as_str()) else { continue };
            if kind == rt::sys::env::Kind::Value {
                g.values.push((rest.to_string(), value));
                continue;
            }
            let cap = CapIdx(value as u32);
            if rest.starts_with("ports.") {
                g.ports.push(IoPorts(cap));
            } else if rest == "iopl" {
                g.iopl = Some(IoPorts(cap));
            } else {
                if let Some(gate) = rest.strip_prefix("gate.") {
                    let label = rt::env::value(&format!("{child}:{gate}")).unwrap_or(0);
                    g.serve.push((Gate(cap), label));
                }
                g.caps.push(NamedCap { name: rest.to_string(), cap, rights: child_rights(rest) });
            }
        }
        g
    }
}

/// The rights a child gets on a capability its parent holds for it as
/// `child:NAME`. init added DELEGATE to the parent's copy so that the parent
/// can pass it on; the child itself may not (a driver that could give away
/// its `io.pci` gate would make the taker that driver to io), except what it
/// needs to pass on to children of its own (`grandchild:...`, the boot
/// archive).
fn child_rights(name: &str) -> Rights {
    if name.contains(':') || name == "boot-archive" { Rights::ALL } else { Rights::ALL - Rights::DELEGATE }
}

/// Loads and starts one task of the manifest with its grants.
pub fn spawn(boot: &Boot, task: &Task, grants: &Grants, event_irq: Option<Irq>) -> Result<Child, BootError> {
    let image = boot.image(&task.image)?;
    let caps: Vec<Grant> = grants.caps.iter().map(|c| Grant { name: &c.name, cap: c.cap, rights: c.rights }).collect();
    let mut values: Vec<(String, u64)> = task.values.clone();
    values.extend(grants.values.iter().cloned());
    // Every task learns the system-wide settings (netd and the drivers act
    // on the restart mode).
    let settings = manifest::settings::Settings::of(&boot.system);
    values.extend(settings.values().iter().map(|&(k, v)| (k.into(), v)));
    let value_refs: Vec<(&str, u64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let spec = Spawn {
        name: &task.name,
        image,
        priority: task.priority,
        max_priority: task.priority.saturating_add(PRIORITY_HEADROOM),
        quota_pages: quota_pages(boot, task),
        max_threads: task.threads,
        may_debug: task.debug,
        heap: task.heap,
        stack: task.stack,
        event_irq,
        grants: &caps,
        values: &value_refs,
        ports: &grants.ports,
        iopl: grants.iopl,
        bind: &grants.serve,
    };
    loader::spawn(&spec).map_err(|e| BootError::Load(task.name.clone(), e))
}

/// A task's memory quota in pages: its declared memory and the slack, plus the
/// quotas of the children the manifest gives it, which the kernel reserves from
/// the parent's quota when each child is created (one instance of each at a
/// time: a restart destroys the old instance first).
pub fn quota_pages(boot: &Boot, task: &Task) -> u64 {
    let children: u64 =
        boot.children_of(Some(&task.name)).map(|c| quota_pages(boot, c) + rt::sys::proto::factory::TASK_PAGES).sum();
    task.memory / 4096 + QUOTA_SLACK_PAGES + children
}

/// Starts (or restarts) a child declared with this task as its parent, with the
/// grants init handed over for it.
pub fn spawn_child(boot: &Boot, name: &str, event_irq: Option<Irq>) -> Result<Child, BootError> {
    spawn_child_with(boot, name, event_irq, &[])
}

/// [`spawn_child`], with more values for the child's environment (an
/// incarnation number, say).
pub fn spawn_child_with(
    boot: &Boot,
    name: &str,
    event_irq: Option<Irq>,
    extra: &[(String, u64)],
) -> Result<Child, BootError> {
    spawn_child_granted(boot, name, event_irq, extra, &[])
}

/// [`spawn_child_with`], with capabilities of the parent's own besides the
/// manifest's grants (the reincarnation server's firmware archive).
pub fn spawn_child_granted(
    boot: &Boot,
    name: &str,
    event_irq: Option<Irq>,
    extra: &[(String, u64)],
    caps: &[NamedCap],
) -> Result<Child, BootError> {
    let task = boot.task(name).ok_or_else(|| BootError::NoImage(name.to_string()))?;
    let mut grants = Grants::for_child(name);
    grants.values.extend(extra.iter().cloned());
    grants.caps.extend(caps.iter().cloned());
    spawn(boot, task, &grants, event_irq)
}

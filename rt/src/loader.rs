//! Creating a task from an ELF image: the loader shared by init, the
//! reincarnation server and anyone else who starts children.
//!
//! The child's memory is allocated through the child's own factory, so it counts
//! against the child's quota and goes when the child is destroyed.

use crate::mem;
use crate::obj::{Factory, Gate, IoPorts, Irq, MapAccess, Task, TaskSpec, Thread, release};
use l4_sys::cap::slot;
use l4_sys::env::{EnvPage, Kind};
use l4_sys::layout::{ENV_PAGE, HEAP_BASE, PAGE_SIZE, STACK_TOP};
use l4_sys::{CapIdx, Rights};

pub struct Spawn<'a> {
    pub name: &'a str,
    pub image: &'a [u8],
    /// Priority of the first thread.
    pub priority: u8,
    /// Highest priority any thread of the task may have (at least `priority`).
    pub max_priority: u8,
    pub quota_pages: u64,
    pub max_threads: u32,
    /// Whether the child may debug the tasks it starts (see `TaskSpec`).
    pub may_debug: bool,
    pub heap: u64,
    pub stack: u64,
    /// Triggered when the child faults, exits or violates its grants.
    pub event_irq: Option<Irq>,
    pub grants: &'a [Grant<'a>],
    pub values: &'a [(&'a str, u64)],
    pub ports: &'a [IoPorts],
    pub iopl: Option<IoPorts>,
    /// Gates to bind to the child's first thread (with their labels) before it
    /// runs, so that no call through them can find them unbound.
    pub bind: &'a [(Gate, u64)],
}

/// A started child.
#[derive(Clone, Copy, Debug)]
pub struct Child {
    pub task: Task,
    pub thread: Thread,
}

pub use crate::load::{Grant, LoadError};

/// Creates, loads and starts a task. On failure nothing is left behind.
pub fn spawn(s: &Spawn) -> Result<Child, LoadError> {
    let spec = TaskSpec {
        name: s.name,
        event_irq: s.event_irq,
        quota_pages: s.quota_pages,
        max_priority: s.max_priority.max(s.priority),
        max_threads: s.max_threads,
        may_debug: s.may_debug,
    };
    let task = Factory::own().create_task(&spec)?;
    match populate(&task, s) {
        Ok(thread) => Ok(Child { task, thread }),
        Err(e) => {
            let _ = task.destroy();
            release(task.0);
            Err(e)
        }
    }
}

fn populate(task: &Task, s: &Spawn) -> Result<Thread, LoadError> {
    let factory = task.factory()?;
    let result = populate_with(task, &factory, s);
    release(factory.0);
    result
}

/// Allocates `size` bytes through the child's factory, fills them through a
/// temporary mapping here, then maps them into the child.
fn place(
    task: &Task,
    factory: &Factory,
    addr: u64,
    size: u64,
    rights: MapAccess,
    fill: impl FnOnce(&mut [u8]),
) -> Result<(), LoadError> {
    let ds = factory.create_dataspace(size, false)?;
    let result = (|| {
        let tmp = mem::attach(&ds, size, true)?;
        // SAFETY: `tmp` is a fresh mapping of `size` bytes of this dataspace, used
        // only here.
        fill(unsafe { core::slice::from_raw_parts_mut(tmp as *mut u8, size as usize) });
        mem::detach(tmp, size)?;
        task.map(&ds, 0, addr, size, rights)
    })();
    release(ds.0);
    result.map_err(LoadError::Kernel)
}

fn populate_with(task: &Task, factory: &Factory, s: &Spawn) -> Result<Thread, LoadError> {
    use elf::endian::LittleEndian;
    let file = elf::ElfBytes::<LittleEndian>::minimal_parse(s.image).map_err(|_| LoadError::NotElf)?;
    let segments = file.segments().ok_or(LoadError::NotElf)?;
    for ph in segments.iter().filter(|p| p.p_type == elf::abi::PT_LOAD && p.p_memsz > 0) {
        let start = ph.p_vaddr & !(PAGE_SIZE - 1);
        let end = ph.p_vaddr.checked_add(ph.p_memsz).ok_or(LoadError::BadSegment)?.next_multiple_of(PAGE_SIZE);
        let file_end = ph.p_offset.checked_add(ph.p_filesz).ok_or(LoadError::BadSegment)?;
        let data = s.image.get(ph.p_offset as usize..file_end as usize).ok_or(LoadError::BadSegment)?;
        let mut rights = MapAccess::READ;
        if ph.p_flags & elf::abi::PF_W != 0 {
            rights |= MapAccess::WRITE;
        }
        if ph.p_flags & elf::abi::PF_X != 0 {
            rights |= MapAccess::EXECUTE;
        }
        let at = (ph.p_vaddr - start) as usize;
        place(task, factory, start, end - start, rights, |m| m[at..at + data.len()].copy_from_slice(data))?;
    }
    place(task, factory, STACK_TOP - s.stack, s.stack, MapAccess::READ | MapAccess::WRITE, |_| {})?;
    if s.heap > 0 {
        place(task, factory, HEAP_BASE, s.heap, MapAccess::READ | MapAccess::WRITE, |_| {})?;
    }

    let mut env_fill = Ok(());
    for (slot, g) in (slot::FIRST_GRANT.0..).zip(s.grants) {
        task.give(g.cap, CapIdx(slot), g.rights)?;
    }
    place(task, factory, ENV_PAGE, PAGE_SIZE, MapAccess::READ, |m| {
        // SAFETY: the page is 4 KiB, page aligned and zeroed; EnvPage is plain data.
        let env = unsafe { &mut *(m.as_mut_ptr() as *mut EnvPage) };
        env.init(s.name);
        let caps =
            s.grants.iter().enumerate().map(|(i, g)| (g.name, Kind::Cap, (slot::FIRST_GRANT.0 + i as u32) as u64));
        let values = s.values.iter().map(|&(n, v)| (n, Kind::Value, v));
        let sizes = [("heap.size", Kind::Value, s.heap), ("stack.size", Kind::Value, s.stack)];
        for (name, kind, value) in caps.chain(values).chain(sizes) {
            match env.push(name, kind, value) {
                Ok(()) => {}
                Err(l4_sys::env::EnvError::NameTooLong) => {
                    crate::warn!("{}: the name `{}` does not fit an entry of its start-up page", s.name, name);
                    env_fill = Err(LoadError::NameTooLong);
                }
                Err(l4_sys::env::EnvError::Full) => env_fill = Err(LoadError::TooManyGrants),
            }
        }
    })?;
    env_fill?;
    for p in s.ports {
        task.grant_io(p, false)?;
    }
    if let Some(all) = &s.iopl {
        task.grant_io(all, true)?;
    }
    let (thread, _) = Factory::own().create_thread(task)?;
    task.give(thread.0, slot::THREAD, Rights::ALL)?;
    for (gate, label) in s.bind {
        gate.bind(&thread, *label)?;
    }
    thread.start(file.ehdr.e_entry, STACK_TOP, s.priority, 0)?;
    Ok(thread)
}

impl Child {
    /// Destroys the child and drops this task's capabilities to it: its memory,
    /// threads and the objects it created go back to the kernel.
    pub fn destroy(self) {
        let _ = self.task.destroy();
        release(self.task.0);
        release(self.thread.0);
    }
}

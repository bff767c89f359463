//! The task's environment page: its name and what its creator granted, by name.
use l4_sys::CapIdx;
use l4_sys::env::{EnvPage, Kind};

pub fn page() -> &'static EnvPage {
    // SAFETY: the creator maps the environment page read-only at ENV_PAGE before
    // the task starts, and it never changes afterwards.
    unsafe { &*(l4_sys::layout::ENV_PAGE as *const EnvPage) }
}

pub fn name() -> &'static str {
    page().task_name()
}

/// A capability the creator granted under `name`.
pub fn cap(name: &str) -> Option<CapIdx> {
    page().find(name, Kind::Cap).map(|v| CapIdx(v as u32))
}

/// A capability that must be there: a task started without it cannot work, and
/// says so in its exit reason.
pub fn require_cap(name: &str) -> CapIdx {
    match cap(name) {
        Some(c) => c,
        None => panic!("the manifest grants this task no capability named `{name}`"),
    }
}

/// A value the creator passed under `name`.
pub fn value(name: &str) -> Option<u64> {
    page().find(name, Kind::Value)
}

/// Every value the creator passed, by name.
pub fn values() -> impl Iterator<Item = (&'static str, u64)> {
    page().entries().filter(|(_, kind, _)| *kind == Kind::Value).map(|(name, _, v)| (name, v))
}

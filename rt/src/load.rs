//! What both kernels' loaders (`rt::loader`) share: the capabilities handed
//! to a child, and why loading one failed.

use l4_sys::{CapIdx, Error, Rights};

/// One capability to hand to the child, under a name in its environment.
pub struct Grant<'a> {
    pub name: &'a str,
    pub cap: CapIdx,
    pub rights: Rights,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    NotElf,
    BadSegment,
    TooManyGrants,
    /// A grant's or value's name is longer than an entry of the start-up
    /// page holds ([`l4_sys::env::NAME_LEN`]).
    NameTooLong,
    /// One of the objects a child gets of its own in place of its parent's
    /// (on Fiasco.OC: its factory, memory allocator or scheduler) could
    /// not be made.
    OwnObject(&'static str, Error),
    Kernel(Error),
}

impl From<Error> for LoadError {
    fn from(e: Error) -> Self {
        LoadError::Kernel(e)
    }
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NotElf => f.write_str("not an ELF executable"),
            LoadError::BadSegment => f.write_str("a segment lies outside the file or the user half"),
            LoadError::TooManyGrants => f.write_str("too many grants or arguments for the child's start-up page"),
            LoadError::NameTooLong => write!(
                f,
                "a grant's or value's name is longer than the child's start-up page holds ({} bytes)",
                l4_sys::env::NAME_LEN
            ),
            LoadError::OwnObject(what, e) => write!(f, "the child's own {what} could not be made: {e}"),
            LoadError::Kernel(e) => write!(f, "kernel: {e}"),
        }
    }
}

//! Why loading a child task failed: the same on both kernels' loaders
//! (`rt::loader`).

use l4_sys::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    NotElf,
    BadSegment,
    TooManyGrants,
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
            LoadError::Kernel(e) => write!(f, "kernel: {e}"),
        }
    }
}

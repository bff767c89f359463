//! What the host commands share about the machine they run on: finding a
//! program, whether they may install packages, and a lock that keeps two
//! builds (threads of one test run, or two processes) out of one folder.

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// `name` in a folder of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Whether the effective uid is 0 (the second field of `Uid:` in
/// /proc/self/status): apt-get may then install what is missing.
pub fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A folder held by this thread: `process` (one mutex per kind of lock) keeps
/// the other threads out, the lock file `dir/name` the other processes.
pub struct DirLock {
    _file: File,
    _guard: MutexGuard<'static, ()>,
}

impl DirLock {
    pub fn acquire(process: &'static Mutex<()>, dir: &Path, name: &str) -> Result<DirLock> {
        let guard = process.lock().unwrap_or_else(PoisonError::into_inner);
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.lock().with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(DirLock { _file: file, _guard: guard })
    }
}

//! The QEMUs the host tool starts end when it does. On SIGTERM, SIGINT and
//! SIGHUP a handler thread kills every child still registered here and exits
//! with 128 + the signal; if the tool dies any other way (SIGKILL, a crash),
//! the kernel sends each child SIGTERM itself (`PR_SET_PDEATHSIG`, set
//! between fork and exec). A child that exits normally is waited for by its
//! owner, which [`forget`]s it.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

/// The pids of the children that must end with us.
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();
/// A signal came: the handler is ending the children and then the process.
static TERMINATING: AtomicBool = AtomicBool::new(false);

/// Starts `cmd` as a child that ends with this process (see the module
/// header) and registers it until [`forget`].
pub fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    HANDLER.call_once(install_handler);
    // SAFETY: getpid is async-signal-safe and has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (prctl, getppid, _exit) on values it owns.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died between fork and prctl: nobody would signal us.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let mut registry = CHILDREN.lock().unwrap_or_else(PoisonError::into_inner);
    let child = cmd.spawn()?;
    registry.push(child.id());
    Ok(child)
}

/// The child `pid` has been waited for: a signal no longer concerns it.
/// When it ended because a signal is ending this process, the calling thread
/// stays here until the handler exits, so that nothing reports the child's
/// end as the guest's.
pub fn forget(pid: u32) {
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner).retain(|&p| p != pid);
    while TERMINATING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

fn install_handler() {
    let mut signals = match Signals::new([SIGTERM, SIGINT, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            let _ =
                writeln!(std::io::stderr(), "warning: cannot catch SIGTERM/SIGINT/SIGHUP ({e}): QEMU may outlive us");
            return;
        }
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            TERMINATING.store(true, Ordering::SeqCst);
            let pids = end_all();
            if !pids.is_empty() {
                let _ = writeln!(std::io::stderr(), "\nsignal {signal}: stopped QEMU (pid {})", join(&pids));
            }
            std::process::exit(128 + signal);
        }
    });
}

fn join(pids: &[u32]) -> String {
    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// Sends SIGTERM to every registered child, gives them a second to go (QEMU
/// restores the terminal on SIGTERM), then SIGKILL to any left. Returns the pids.
fn end_all() -> Vec<u32> {
    let pids: Vec<u32> = CHILDREN.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let alive = |pid: u32| {
        // SAFETY: signal 0 only checks that the process exists.
        libc::pid_t::try_from(pid).is_ok_and(|p| unsafe { libc::kill(p, 0) } == 0)
    };
    let signal = |pid: u32, sig: libc::c_int| {
        if let Ok(p) = libc::pid_t::try_from(pid) {
            // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
            unsafe { libc::kill(p, sig) };
        }
    };
    for &pid in &pids {
        signal(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline && pids.iter().any(|&p| alive(p) && !reaped(p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &pid in &pids {
        if alive(pid) && !reaped(pid) {
            signal(pid, libc::SIGKILL);
        }
    }
    pids
}

/// Whether `pid` has exited (reaping it if it is our zombie child).
fn reaped(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else { return true };
    let mut status = 0;
    // SAFETY: WNOHANG waitpid on our own child writes only `status`.
    let r = unsafe { libc::waitpid(p, &mut status, libc::WNOHANG) };
    r == p || r < 0
}

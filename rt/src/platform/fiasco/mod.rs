//! The runtime on Fiasco.OC, as an L4Re application started by ned.
//!
//! At start the L4Re environment (`l4re_env_t`) comes from the aux vector;
//! the runtime keeps its address here and everything else asks it for the
//! capabilities it names: the log (a vcon), `mem_alloc` (moe) for memory, the
//! region manager (the task's `l4re_itas`) to map it, the factory and
//! scheduler for threads and gates, the parent for the exit.

pub mod cap;
pub mod console;
pub mod device;
pub mod env;
pub mod ipc;
pub mod loader;
pub mod log;
pub mod mem;
pub mod obj;
pub mod start;
pub mod thread;
pub mod time;

use core::sync::atomic::{AtomicU64, Ordering};
use l4_sys::fiasco::Cap;
use l4_sys::fiasco::env::Env;

/// Address of the `l4re_env_t`, set once at start.
static ENV: AtomicU64 = AtomicU64::new(0);
/// Address of the kernel information page.
static KIP: AtomicU64 = AtomicU64::new(0);
/// Address of `argv[0]`'s pointer on the entry stack, and `argc`.
static ARGV: AtomicU64 = AtomicU64::new(0);
static ARGC: AtomicU64 = AtomicU64::new(0);

/// The environment. Before start-up has found one (never, in a task ned
/// started) every capability in it is invalid.
pub fn l4re_env() -> Env {
    let p = ENV.load(Ordering::Acquire);
    if p == 0 {
        let none = Cap::INVALID.0;
        return Env {
            parent: none,
            rm: none,
            mem_alloc: none,
            log: none,
            main_thread: none,
            factory: none,
            scheduler: none,
            itas: none,
            dbg_events: none,
            first_free_cap: 0,
            first_free_reply_cap: 0,
            utcb_area: 0,
            first_free_utcb: 0,
            caps: core::ptr::null(),
        };
    }
    // SAFETY: `p` is the l4re_env_t the loader put on the entry stack, which
    // stays mapped and unchanged for the task's life.
    unsafe { *(p as *const Env) }
}

pub(crate) fn kip() -> u64 {
    KIP.load(Ordering::Relaxed)
}

/// The task capability (`L4_BASE_TASK_CAP`).
pub const TASK: Cap = Cap::from_index(1);

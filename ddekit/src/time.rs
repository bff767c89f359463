//! Time: `ddekit_jiffies` (the kernel's 1000 Hz tick count, read from the
//! kernel information page without a system call), `ddekit_clock_ns` (the
//! time-stamp counter scaled by the kernel's calibration), busy-wait delays,
//! and the sleeps behind `ddekit_thread_{m,u,n}sleep`.
//!
//! Sleeps: a wait shorter than [`BUSY_WAIT_LIMIT_NS`] busy-waits on the TSC
//! (the kernel's timeouts have 1 ms granularity, and drivers poll hardware
//! with short usleeps); a longer one blocks in an IPC timeout, rounded up to
//! whole milliseconds, until the tick count has advanced by one more than the
//! milliseconds asked for, so that at least that much real time has passed
//! whatever fraction of a tick had gone when the sleep began (Linux's msleep
//! does the same).

use core::ffi::c_ulong;
use ddekit_core::time::{NS_PER_MS, cycles_to_ns, ns_to_cycles, ns_to_ms_ceil};

/// Waits up to this long busy-wait instead of sleeping.
pub const BUSY_WAIT_LIMIT_NS: u64 = 500_000;

/// Busy-waits `ns` nanoseconds.
pub fn busy_wait_ns(ns: u64) {
    let tpm = rt::time::tsc_per_ms();
    if tpm == 0 {
        // No calibration: fall back to the tick (coarse, but not too short).
        let end = rt::time::ticks() + ns_to_ms_ceil(ns);
        while rt::time::ticks() < end {
            core::hint::spin_loop();
        }
        return;
    }
    let end = rt::time::rdtsc().saturating_add(ns_to_cycles(ns, tpm));
    while rt::time::rdtsc() < end {
        core::hint::spin_loop();
    }
}

/// Blocks the calling thread until the tick count has advanced by more than
/// `ms` (so at least `ms` milliseconds pass).
pub fn sleep_ms_at_least(ms: u64) {
    let end = rt::time::ticks().saturating_add(ms).saturating_add(1);
    loop {
        let now = rt::time::ticks();
        if now >= end {
            return;
        }
        rt::ipc::sleep_ms((end - now).min(u32::MAX as u64 - 1) as u32);
    }
}

/// Waits at least `ns` nanoseconds: busy for short waits, blocked otherwise.
pub fn sleep_ns(ns: u64) {
    if ns == 0 {
        crate::thread::ddekit_yield();
    } else if ns < BUSY_WAIT_LIMIT_NS {
        busy_wait_ns(ns);
    } else {
        sleep_ms_at_least(ns_to_ms_ceil(ns));
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_jiffies() -> c_ulong {
    rt::time::ticks()
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_clock_ns() -> u64 {
    match rt::time::tsc_per_ms() {
        0 => rt::time::ticks().saturating_mul(NS_PER_MS),
        tpm => cycles_to_ns(rt::time::rdtsc(), tpm),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_udelay(usecs: c_ulong) {
    busy_wait_ns(usecs.saturating_mul(1_000));
}

#[unsafe(no_mangle)]
pub extern "C" fn ddekit_ndelay(nsecs: c_ulong) {
    busy_wait_ns(nsecs);
}

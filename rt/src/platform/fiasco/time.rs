//! Time on Fiasco.OC: the TSC, sleeping through IPC timeouts, and the
//! kernel's microsecond clock (code the kernel provides in its KIP).
pub use super::ipc::sleep_ms;

#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc is allowed at user level and has no side effects.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, nomem, preserves_flags)) };
    (hi as u64) << 32 | lo as u64
}

/// Offset of the kernel's `read_us` function in the KIP (`L4_KIP_OFFS_READ_US`).
const KIP_READ_US: u64 = 0x900;

/// Microseconds since boot, from the kernel's clock.
pub fn micros() -> u64 {
    let kip = super::kip();
    if kip == 0 {
        return 0;
    }
    // SAFETY: the KIP is mapped read-execute in every task, and at this offset
    // Fiasco provides a function without arguments that returns its clock
    // (`l4_kip_clock`).
    let read_us: extern "C" fn() -> u64 = unsafe { core::mem::transmute((kip + KIP_READ_US) as *const ()) };
    read_us()
}

/// Milliseconds since boot.
pub fn ticks() -> u64 {
    micros() / 1000
}

/// TSC increments per millisecond, measured once against the kernel's
/// microsecond clock (Fiasco's KIP does not carry the TSC frequency in a
/// form the runtime reads).
pub fn tsc_per_ms() -> u64 {
    use core::sync::atomic::{AtomicU64, Ordering};
    static TSC_PER_MS: AtomicU64 = AtomicU64::new(0);
    let known = TSC_PER_MS.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let (t0, u0) = (rdtsc(), micros());
    // Two milliseconds of the kernel clock (which may advance in steps).
    let mut u1 = u0;
    while u1.saturating_sub(u0) < 2000 {
        core::hint::spin_loop();
        u1 = micros();
        if u0 == 0 && u1 == 0 {
            return 1_000_000;
        }
    }
    let per_ms = ((rdtsc() - t0) as u128 * 1000 / (u1 - u0) as u128).max(1) as u64;
    TSC_PER_MS.store(per_ms, Ordering::Relaxed);
    per_ms
}

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

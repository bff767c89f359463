//! Time: the TSC for fine measurements, sleeping through IPC timeouts.
pub use crate::ipc::sleep_ms;

#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc is allowed at user level (CR4.TSD is clear) and has no side effects.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, nomem, preserves_flags)) };
    (hi as u64) << 32 | lo as u64
}

/// Milliseconds (timer ticks) since boot, from the kernel information page.
pub fn ticks() -> u64 {
    // SAFETY: the kernel maps the KIP in every task before it starts.
    unsafe { l4_sys::kip::Kip::get() }.ticks()
}

/// TSC increments per millisecond.
pub fn tsc_per_ms() -> u64 {
    // SAFETY: as in `ticks`.
    unsafe { l4_sys::kip::Kip::get() }.tsc_per_ms
}

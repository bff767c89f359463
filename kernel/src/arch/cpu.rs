//! Control registers, MSRs and the time-stamp counter.
use core::arch::asm;

pub const MSR_STAR: u32 = 0xc000_0081;
pub const MSR_LSTAR: u32 = 0xc000_0082;
pub const MSR_FMASK: u32 = 0xc000_0084;
pub const MSR_FS_BASE: u32 = 0xc000_0100;
pub const MSR_GS_BASE: u32 = 0xc000_0101;
pub const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// # Safety
/// Writing an MSR changes processor behaviour; the caller must know the MSR.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: see the function contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack, preserves_flags));
    }
}

/// # Safety
/// The MSR must exist on this CPU (reading one that does not faults).
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: see the function contract.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nostack, nomem, preserves_flags)) };
    (hi as u64) << 32 | lo as u64
}

pub fn read_cr2() -> u64 {
    let v;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nostack, nomem, preserves_flags)) };
    v
}

/// # Safety
/// `pml4` must be the physical address of a valid top-level page table that maps
/// the kernel exactly as the current one does.
pub unsafe fn write_cr3(pml4: u64) {
    // SAFETY: see the function contract.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

pub fn invlpg(addr: u64) {
    // SAFETY: dropping a TLB entry is always safe.
    unsafe { asm!("invlpg [{}]", in(reg) addr, options(nostack, preserves_flags)) };
}

#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc has no side effects.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, nomem, preserves_flags)) };
    (hi as u64) << 32 | lo as u64
}

/// Halts until the next interrupt, with interrupts enabled only while halted.
pub fn idle_wait() {
    // SAFETY: `sti; hlt` is atomic with respect to interrupts (the sti shadow), so no
    // wake-up is lost; the interrupt path returns here with interrupts off again
    // or switches to a user thread.
    unsafe { asm!("sti", "hlt", "cli", options(nostack, preserves_flags)) };
}

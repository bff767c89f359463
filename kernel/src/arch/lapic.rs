//! The boot CPU's local APIC (xAPIC, memory-mapped): only as the target of
//! message-signalled interrupts. Legacy lines still come from the 8259 PIC
//! through LINT0 (virtual-wire mode, as the firmware left it); the APIC's
//! own timer, error and performance-counter entries stay masked.
//!
//! An MSI is edge-triggered and goes to the APIC, never to the PIC, so its
//! handler ends with [`eoi`] here; a PIC line's interrupt arrives as ExtINT,
//! which the APIC does not track in service, and needs only the PIC's EOI.

use super::cpu;
use crate::mem::frames::FrameAllocator;
use crate::mem::paging;

/// Kernel-virtual address of the APIC's register page (below the IOMMU's).
pub const VIRT: u64 = crate::iommu::REGS_VIRT - 4096;
/// The vector of the APIC's spurious interrupt: the stray vector, whose
/// handler sends an EOI that, with nothing in service, changes nothing.
pub const SPURIOUS_VECTOR: u8 = super::lines::STRAY_VECTOR as u8;
/// Task priority 0x20: the APIC holds back every message-signalled vector
/// below 48 (priority classes 0 to 2), so a message a device sends without
/// interrupt remapping cannot enter as an exception (an error code the CPU
/// did not push) or as a PIC line. The PIC's own interrupts come as ExtINT,
/// which the task priority does not hold back.
const TASK_PRIORITY: u32 = 0x20;

const MSR_APIC_BASE: u32 = 0x1b;
const BASE_ENABLE: u64 = 1 << 11;

mod reg {
    pub const ID: usize = 0x20;
    pub const TPR: usize = 0x80;
    pub const EOI: usize = 0xb0;
    pub const SVR: usize = 0xf0;
    pub const LVT_TIMER: usize = 0x320;
    pub const LVT_PERF: usize = 0x340;
    pub const LVT_LINT0: usize = 0x350;
    pub const LVT_LINT1: usize = 0x360;
    pub const LVT_ERROR: usize = 0x370;
}

const SVR_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const DELIVERY_EXTINT: u32 = 0b111 << 8;
const DELIVERY_NMI: u32 = 0b100 << 8;

/// The APIC, once [`init`] found and enabled it.
static mut STARTED: Option<Apic> = None;

#[derive(Clone, Copy, Debug)]
pub struct Apic {
    /// Physical address of its register page (never granted as device memory).
    pub phys: u64,
    /// Its APIC id: where message-signalled interrupts are sent.
    pub id: u8,
}

fn read(off: usize) -> u32 {
    // SAFETY: called only after `init` mapped the register page uncached at
    // VIRT; `off` is one of the register offsets above, within the page.
    unsafe { ((VIRT + off as u64) as *const u32).read_volatile() }
}

fn write(off: usize, v: u32) {
    // SAFETY: as in `read`.
    unsafe { ((VIRT + off as u64) as *mut u32).write_volatile(v) }
}

/// Finds the APIC (CPUID), maps its registers and software-enables it with
/// every local source masked but LINT0 (the PIC, ExtINT) and LINT1 (NMI).
/// None when the CPU has none or the firmware left it disabled.
///
/// # Safety
/// Call once at boot, with interrupts off and the kernel's tables (`master`)
/// loaded.
pub unsafe fn init(master: paging::Table, frames: &mut FrameAllocator) -> Option<Apic> {
    let edx = core::arch::x86_64::__cpuid(1).edx;
    if edx & (1 << 9) == 0 {
        return None;
    }
    // SAFETY: IA32_APIC_BASE exists when CPUID says there is an APIC.
    let base = unsafe { cpu::rdmsr(MSR_APIC_BASE) };
    if base & BASE_ENABLE == 0 {
        return None;
    }
    let phys = base & 0x000f_ffff_ffff_f000;
    let flags = paging::WRITABLE | paging::NO_CACHE | paging::WRITE_THROUGH | paging::GLOBAL | paging::NO_EXECUTE;
    paging::map_kernel_page(master, VIRT, phys, flags, frames);
    cpu::invlpg(VIRT);
    write(reg::TPR, TASK_PRIORITY);
    for lvt in [reg::LVT_TIMER, reg::LVT_PERF, reg::LVT_ERROR] {
        write(lvt, LVT_MASKED);
    }
    write(reg::LVT_LINT0, DELIVERY_EXTINT);
    write(reg::LVT_LINT1, DELIVERY_NMI);
    write(reg::SVR, SVR_ENABLE | SPURIOUS_VECTOR as u32);
    let apic = Apic { phys, id: (read(reg::ID) >> 24) as u8 };
    // SAFETY: boot, single CPU: nothing reads STARTED yet.
    unsafe { STARTED = Some(apic) };
    Some(apic)
}

/// Ends the message-signalled interrupt in service.
pub fn eoi() {
    // SAFETY: STARTED is written once at boot, before interrupts are on.
    if unsafe { STARTED }.is_some() {
        write(reg::EOI, 0);
    }
}

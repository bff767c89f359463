//! The interrupt descriptor table: exceptions 0..32, PIC lines at 32..48,
//! message-signalled interrupts at 48..64, and one shared stub for every
//! vector above (the local APIC's spurious vector 255, or a stray message a
//! device sent without interrupt remapping): all 256 are present, so no
//! interrupt a device can name faults the CPU.
use super::entry::isr_addresses;
use super::gdt::KERNEL_CS;

#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_lo: u16,
    selector: u16,
    ist: u8,
    attr: u8,
    offset_mid: u16,
    offset_hi: u32,
    _zero: u32,
}

static mut IDT: [Gate; 256] =
    [Gate { offset_lo: 0, selector: 0, ist: 0, attr: 0, offset_mid: 0, offset_hi: 0, _zero: 0 }; 256];

/// Vectors with a stub of their own; the rest share the stray stub.
pub const VECTORS: usize = 64;

pub const DOUBLE_FAULT: usize = 8;
/// First vector of the remapped PIC lines.
pub const IRQ_BASE: u64 = 32;

/// # Safety
/// Call once at boot, after the GDT is loaded.
pub unsafe fn init() {
    // SAFETY: single-threaded boot; the IDT is written before it is loaded.
    unsafe {
        let idt = &raw mut IDT;
        let stray = super::entry::isr_stray as *const () as u64;
        let stubs = isr_addresses().iter().copied().chain(core::iter::repeat(stray));
        for (vec, addr) in stubs.take(256).enumerate() {
            (*idt)[vec] = Gate {
                offset_lo: addr as u16,
                selector: KERNEL_CS,
                ist: if vec == DOUBLE_FAULT { 1 } else { 0 },
                // Present, DPL 0 interrupt gate: user code cannot `int` into any of them.
                attr: 0x8e,
                offset_mid: (addr >> 16) as u16,
                offset_hi: (addr >> 32) as u32,
                _zero: 0,
            };
        }
        #[repr(C, packed(2))]
        struct Pointer {
            limit: u16,
            base: u64,
        }
        let ptr = Pointer { limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16, base: idt as u64 };
        core::arch::asm!("lidt [{}]", in(reg) &ptr, options(nostack));
    }
}

//! Segments, the task-state segment and the per-CPU block.
//!
//! The TSS sits in the last bytes of the kernel's shared window right below
//! [`IO_BITMAP_BASE`], where every address space maps its own I/O permission bitmap.
//! Switching address spaces thus switches the port grants without copying 8 KiB.

use super::cpu::{self, wrmsr};
use core::mem::size_of;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
/// Base for `sysret`: user SS = base + 8, user CS = base + 16.
const USER_BASE: u16 = 0x18;
pub use super::frame::{USER_CS, USER_DS};
const TSS_SEL: u16 = 0x30;

/// Start of the per-address-space window holding the I/O bitmap (PML4 slot 510).
pub const IO_BITMAP_BASE: u64 = 0xffff_ff00_0000_0000;
/// The TSS ends exactly where the bitmap starts.
pub const TSS_ADDR: u64 = IO_BITMAP_BASE - size_of::<Tss>() as u64;
/// Page holding the TSS (the top page of PML4 slot 509).
pub const TSS_PAGE: u64 = IO_BITMAP_BASE - 4096;

#[repr(C, packed(4))]
pub struct Tss {
    _r0: u32,
    pub rsp0: u64,
    _rsp1: u64,
    _rsp2: u64,
    _r1: u64,
    pub ist: [u64; 7],
    _r2: u64,
    _r3: u16,
    pub iomap_base: u16,
}

const _: () = assert!(size_of::<Tss>() == 104);

/// Per-CPU data, reached through `%gs` in the entry code. The offsets are part of
/// the contract with `entry.rs`.
#[repr(C)]
pub struct PerCpu {
    pub self_ptr: u64,
    /// Scratch for the user stack pointer during `syscall` entry.
    pub user_rsp: u64,
    /// End of the current thread's register frame: where entries save registers.
    pub frame_top: u64,
    /// Top of this CPU's kernel stack.
    pub kstack_top: u64,
    /// The current thread's FPU/SSE save area.
    pub fpu_area: u64,
}

pub const PERCPU_USER_RSP: usize = 8;
pub const PERCPU_FRAME_TOP: usize = 16;
pub const PERCPU_KSTACK_TOP: usize = 24;
pub const PERCPU_FPU_AREA: usize = 32;

static mut GDT: [u64; 8] = [0; 8];
static mut PERCPU: PerCpu = PerCpu { self_ptr: 0, user_rsp: 0, frame_top: 0, kstack_top: 0, fpu_area: 0 };
#[repr(C, align(16))]
struct IstStack([u8; 16384]);
static mut DOUBLE_FAULT_STACK: IstStack = IstStack([0; 16384]);

#[repr(C, packed(2))]
struct Pointer {
    limit: u16,
    base: u64,
}

fn tss() -> *mut Tss {
    TSS_ADDR as *mut Tss
}

/// Loads the GDT and TSS, and programs `%gs` and the `syscall` MSRs.
///
/// # Safety
/// Call once on the boot CPU, after the TSS page is mapped at [`TSS_PAGE`].
pub unsafe fn init(kstack_top: u64, syscall_entry: u64, fpu_area: u64) {
    // SAFETY: single-threaded boot; the TSS page is mapped (contract) and these
    // statics are only touched here and through the entry code afterwards.
    unsafe {
        let t = tss();
        t.write_bytes(0, 1);
        (*t).rsp0 = kstack_top;
        (*t).ist[0] = (&raw mut DOUBLE_FAULT_STACK) as u64 + size_of::<IstStack>() as u64;
        (*t).iomap_base = size_of::<Tss>() as u16;

        let gdt = &raw mut GDT;
        (*gdt)[1] = 0x00209a0000000000; // kernel code
        (*gdt)[2] = 0x0000920000000000; // kernel data
        (*gdt)[3] = 0x0000fa0000000000; // user code 32 (unused, sysret layout)
        (*gdt)[4] = 0x0000f20000000000; // user data
        (*gdt)[5] = 0x0020fa0000000000; // user code 64
        // The limit covers the bitmap plus the terminating all-ones byte.
        let limit = size_of::<Tss>() as u64 + 8192;
        let base = TSS_ADDR;
        (*gdt)[6] = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        (*gdt)[7] = base >> 32;

        let ptr = Pointer { limit: (size_of::<[u64; 8]>() - 1) as u16, base: gdt as u64 };
        core::arch::asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) KERNEL_CS as u64,
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) TSS_SEL as u64,
            tmp = out(reg) _,
        );

        let pc = &raw mut PERCPU;
        (*pc).self_ptr = pc as u64;
        (*pc).kstack_top = kstack_top;
        (*pc).fpu_area = fpu_area;
        wrmsr(cpu::MSR_GS_BASE, pc as u64);
        wrmsr(cpu::MSR_KERNEL_GS_BASE, 0);
        wrmsr(cpu::MSR_STAR, ((USER_BASE as u64) << 48) | ((KERNEL_CS as u64) << 32));
        wrmsr(cpu::MSR_LSTAR, syscall_entry);
        wrmsr(cpu::MSR_FMASK, super::frame::SYSCALL_FLAGS_MASK);
    }
}

/// Points the entry code at a thread's register frame and FPU area.
pub fn set_current(frame_top: u64, fpu_area: u64) {
    // SAFETY: interrupts are off in the kernel and only this CPU uses its block and
    // its TSS; the values point into a live thread control block.
    unsafe {
        let pc = &raw mut PERCPU;
        (*pc).frame_top = frame_top;
        (*pc).fpu_area = fpu_area;
        (*tss()).rsp0 = frame_top;
    }
}

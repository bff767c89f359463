//! Kernel entry and exit: `syscall`, exceptions and interrupts.
//!
//! Every entry from user mode saves the thread's registers straight into its
//! thread control block: the `TrapFrame` whose end `%gs:frame_top` (and the TSS's
//! RSP0) point at. The kernel then runs on the CPU's own stack, decides which thread
//! runs next and returns that thread's frame; `resume_user` restores it. No kernel
//! state lives on the stack between entries, so a thread blocks simply by not being
//! chosen (the seL4 model), and the kernel needs one stack per CPU.
//!
//! The user FPU/SSE state is saved on every entry, because the precompiled `core`
//! the kernel links uses SSE registers.

use super::frame::{SYSCALL_VECTOR, TrapFrame};
use super::gdt::{PERCPU_FPU_AREA, PERCPU_FRAME_TOP, PERCPU_KSTACK_TOP, PERCPU_USER_RSP, USER_CS, USER_DS};
use core::arch::global_asm;

unsafe extern "C" {
    pub fn syscall_entry();
    /// The stub of every vector from [`super::idt::VECTORS`] up.
    pub fn isr_stray();
    /// Restores the frame in `rax`... exposed for the first switch to user mode.
    pub fn resume_user_from(frame: *const TrapFrame) -> !;
    static isr_table: [u64; super::idt::VECTORS];
}

/// Addresses of the interrupt stubs for vectors 0..64.
pub fn isr_addresses() -> &'static [u64; super::idt::VECTORS] {
    // SAFETY: `isr_table` is an immutable table emitted by the assembly below.
    unsafe { &isr_table }
}

macro_rules! save_gprs {
    () => {
        "push rax; push rbx; push rcx; push rdx; push rsi; push rdi; push rbp; push r8; push r9; push r10; push r11; push r12; push r13; push r14; push r15"
    };
}
macro_rules! restore_gprs {
    () => {
        "pop r15; pop r14; pop r13; pop r12; pop r11; pop r10; pop r9; pop r8; pop rbp; pop rdi; pop rsi; pop rdx; pop rcx; pop rbx; pop rax"
    };
}

global_asm!(
    ".text",
    ".global syscall_entry",
    "syscall_entry:",
    "swapgs",
    "mov gs:[{user_rsp}], rsp",
    "mov rsp, gs:[{frame_top}]",
    "push {user_ds}",
    "push qword ptr gs:[{user_rsp}]",
    "push r11",
    "push {user_cs}",
    "push rcx",
    "push 0",
    "push {sys_vec}",
    save_gprs!(),
    "mov rax, gs:[{fpu}]",
    "fxsave64 [rax]",
    "mov rdi, rsp",
    "mov rsp, gs:[{kstack}]",
    "call {syscall_handler}",
    "jmp resume_user",

    // Common path of the interrupt and exception stubs. On the stack: the vector,
    // the error code (real or 0), then the CPU's interrupt frame.
    "isr_common:",
    // An interrupt gate clears IF, TF, NT and RF but not DF: user mode may have
    // set it, and the kernel's Rust code (its `rep movs` memcpy above all)
    // assumes it clear.
    "cld",
    "test byte ptr [rsp + 24], 3",
    "jz 2f",
    "swapgs",
    save_gprs!(),
    "mov rax, gs:[{fpu}]",
    "fxsave64 [rax]",
    "mov rdi, rsp",
    "mov rsp, gs:[{kstack}]",
    "call {trap_user}",
    "jmp resume_user",
    // From kernel mode: only the idle loop takes interrupts; anything else is a
    // kernel bug, which `trap_kernel` reports and ends in a panic.
    "2:",
    save_gprs!(),
    "mov rdi, rsp",
    "call {trap_kernel}",
    "test rax, rax",
    "jnz resume_user",
    restore_gprs!(),
    "add rsp, 16",
    "iretq",

    ".global resume_user_from",
    "resume_user_from:",
    "mov rax, rdi",
    "resume_user:",
    "mov rsp, rax",
    "mov rax, gs:[{fpu}]",
    "fxrstor64 [rax]",
    restore_gprs!(),
    "add rsp, 16",
    "swapgs",
    "iretq",

    user_rsp = const PERCPU_USER_RSP,
    frame_top = const PERCPU_FRAME_TOP,
    kstack = const PERCPU_KSTACK_TOP,
    fpu = const PERCPU_FPU_AREA,
    user_ds = const USER_DS as u64,
    user_cs = const USER_CS as u64,
    sys_vec = const SYSCALL_VECTOR,
    syscall_handler = sym crate::trap::syscall_from_user,
    trap_user = sym crate::trap::trap_from_user,
    trap_kernel = sym crate::trap::trap_from_kernel,
);

// Every vector past the last stub: no error code, and the one stray vector.
global_asm!(
    ".global isr_stray",
    "isr_stray:",
    "push 0",
    "push {stray}",
    "jmp isr_common",
    stray = const super::lines::STRAY_VECTOR,
);

// One stub per vector: push a zero error code where the CPU pushes none, then the
// vector number.
macro_rules! isr_stubs {
    ($($vec:literal $has_err:literal),* $(,)?) => {
        global_asm!(
            $(
                concat!("isr_", stringify!($vec), ":"),
                concat!(".if ", stringify!($has_err), " == 0"),
                "push 0",
                ".endif",
                concat!("push ", stringify!($vec)),
                "jmp isr_common",
            )*
            ".section .rodata",
            ".p2align 3",
            ".global isr_table",
            "isr_table:",
            $(concat!(".quad isr_", stringify!($vec)),)*
            ".text",
        );
    };
}

isr_stubs!(
    0 0, 1 0, 2 0, 3 0, 4 0, 5 0, 6 0, 7 0, 8 1, 9 0, 10 1, 11 1, 12 1, 13 1, 14 1, 15 0,
    16 0, 17 1, 18 0, 19 0, 20 0, 21 1, 22 0, 23 0, 24 0, 25 0, 26 0, 27 0, 28 0, 29 1, 30 1, 31 0,
    32 0, 33 0, 34 0, 35 0, 36 0, 37 0, 38 0, 39 0, 40 0, 41 0, 42 0, 43 0, 44 0, 45 0, 46 0, 47 0,
    48 0, 49 0, 50 0, 51 0, 52 0, 53 0, 54 0, 55 0, 56 0, 57 0, 58 0, 59 0, 60 0, 61 0, 62 0, 63 0,
);

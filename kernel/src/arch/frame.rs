//! What the kernel saves of a user thread: its registers and its FPU/SSE state.

/// User data and code selectors (RPL 3), as the GDT lays them out for `sysret`.
pub const USER_DS: u16 = 0x20 | 3;
pub const USER_CS: u16 = 0x28 | 3;

/// A user thread's registers as the entry code saves them.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception vector, or [`SYSCALL_VECTOR`].
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>().is_multiple_of(16));

/// RFLAGS bits `syscall` clears on entry (MSR_FMASK): interrupts (the kernel
/// runs with them off), TF (no single-stepping the kernel), DF (the ABI wants it
/// clear), IOPL, AC, and NT: with NT set, the kernel's own `iretq` back to user
/// mode would raise #GP in kernel mode. User mode sets all of these at will
/// (POPF); the user's own value is in r11 and restored on return.
pub const SYSCALL_FLAGS_MASK: u64 = (1 << 8) | (1 << 9) | (1 << 10) | (3 << 12) | (1 << 14) | (1 << 18);

/// `vector` of a frame saved by the `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

impl TrapFrame {
    /// A frame that starts user code at `ip` with stack `sp` and `rdi = arg`.
    pub fn new_user(ip: u64, sp: u64, arg: u64, iopl: bool) -> TrapFrame {
        TrapFrame {
            rip: ip,
            rsp: sp,
            rdi: arg,
            cs: USER_CS as u64,
            ss: USER_DS as u64,
            rflags: user_rflags(0, iopl),
            ..Default::default()
        }
    }
}

/// The flags a user thread may run with: interrupts on, IOPL only if granted, the
/// rest (arithmetic flags, direction, alignment check) as the thread left them.
pub fn user_rflags(current: u64, iopl: bool) -> u64 {
    const KEEP: u64 = 0xcd5 | (1 << 10) | (1 << 18); // CF PF AF ZF SF OF, DF, AC
    (current & KEEP) | (1 << 9) | (1 << 1) | if iopl { 3 << 12 } else { 0 }
}

/// The FXSAVE area of a thread.
#[repr(C, align(16))]
pub struct FpuArea(pub [u8; 512]);

impl FpuArea {
    /// The power-on state: all exceptions masked (FCW 0x37f, MXCSR 0x1f80).
    pub fn new() -> FpuArea {
        let mut a = [0u8; 512];
        a[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        a[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        FpuArea(a)
    }
}

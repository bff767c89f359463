//! The symbols a freestanding Rust binary on the host target must provide itself.
//!
//! The precompiled `core` for `x86_64-unknown-linux-gnu` calls `memcpy`, `memmove`,
//! `memset`, `memcmp` and `bcmp` from the C library, and names
//! `rust_eh_personality` even under `panic = "abort"`. The kernel and every task link
//! this crate instead of a C library. Copies use `rep movs`, which keeps them out of
//! reach of the compiler's loop idiom recognition (which would turn a plain loop
//! back into a call to `memcpy`).
#![no_std]

use core::arch::asm;

/// # Safety
/// `dst` and `src` must be valid for `n` bytes and must not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid; rep movs copies forward.
    unsafe {
        asm!(
            "mov rdx, rcx",
            "shr rcx, 3",
            "rep movsq",
            "mov rcx, rdx",
            "and rcx, 7",
            "rep movsb",
            inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _, out("rdx") _,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// `dst` and `src` must be valid for `n` bytes; they may overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: dst does not start inside [src, src+n): a forward copy is safe.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: dst lies above src and the ranges overlap: copy backwards, byte by byte,
    // with the direction flag cleared again before returning as the ABI requires.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n).wrapping_sub(1) => _,
            inout("rsi") src.add(n).wrapping_sub(1) => _,
            options(nostack)
        );
    }
    dst
}

/// # Safety
/// `dst` must be valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range is valid.
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") n => _, inout("rdi") dst => _, in("al") c as u8,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// `a` and `b` must be valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and both ranges are valid for n bytes.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// `a` and `b` must be valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// Named by the precompiled `core`; never called under `panic = "abort"`.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Named by the precompiled `alloc` (built with unwinding); with `panic = "abort"`
/// nothing ever unwinds, so reaching it is a bug: stop hard.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: ud2 raises an invalid-opcode exception; it has no other effect.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

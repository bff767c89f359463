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
    // Eight bytes at a time, then the rest, as memcpy does: QEMU's TCG runs a
    // `rep stos` one element per iteration, so `rep stosb` alone made a
    // frame-sized memset eight times as slow as it need be.
    let pattern = (c as u8 as u64) * 0x0101_0101_0101_0101;
    // SAFETY: the caller guarantees the range is valid; rep stos fills forward.
    unsafe {
        asm!(
            "mov rdx, rcx",
            "shr rcx, 3",
            "rep stosq",
            "mov rcx, rdx",
            "and rcx, 7",
            "rep stosb",
            inout("rcx") n => _, inout("rdi") dst => _, in("rax") pattern, out("rdx") _,
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
/// (Host tests link `std`, which has its own.)
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Named by the precompiled `alloc` (built with unwinding); with `panic = "abort"`
/// nothing ever unwinds, so reaching it is a bug: stop hard.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: ud2 raises an invalid-opcode exception; it has no other effect.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

#[cfg(test)]
mod tests {
    //! Run on the host, where these functions replace the C library's in the
    //! whole test binary (the test harness copies with them too).
    use super::{memcmp, memcpy, memmove, memset};

    #[test]
    fn memset_fills_exactly_the_range_at_every_length_and_alignment() {
        for start in 0..8 {
            for n in 0..40 {
                let mut buf = [0x55u8; 64];
                // SAFETY: start + n <= 47 < 64.
                unsafe { memset(buf.as_mut_ptr().add(start), 0x1a3, n) };
                for (i, &b) in buf.iter().enumerate() {
                    let inside = i >= start && i < start + n;
                    assert_eq!(b, if inside { 0xa3 } else { 0x55 }, "start {start} n {n} byte {i}");
                }
            }
        }
    }

    #[test]
    fn memcpy_and_memmove_copy_exactly_the_range_in_either_direction() {
        let src: [u8; 64] = core::array::from_fn(|i| i as u8 + 1);
        for start in 0..8 {
            for n in 0..40 {
                let mut buf = [0u8; 64];
                // SAFETY: both ranges lie within their 64-byte arrays.
                unsafe { memcpy(buf.as_mut_ptr().add(start), src.as_ptr().add(3), n) };
                for (i, &b) in buf.iter().enumerate() {
                    let want = if i >= start && i < start + n { src[i - start + 3] } else { 0 };
                    assert_eq!(b, want, "memcpy start {start} n {n} byte {i}");
                }
                for shift in [1usize, 7, 9] {
                    let (mut up, mut down) = (src, src);
                    // SAFETY: the overlapping ranges lie within the arrays (start + shift + n < 64).
                    unsafe {
                        memmove(up.as_mut_ptr().add(start + shift), up.as_ptr().add(start), n);
                        memmove(down.as_mut_ptr().add(start), down.as_ptr().add(start + shift), n);
                    }
                    for i in 0..64 {
                        let up_want = if i >= start + shift && i < start + shift + n { src[i - shift] } else { src[i] };
                        let down_want = if i >= start && i < start + n { src[i + shift] } else { src[i] };
                        assert_eq!(up[i], up_want, "memmove up start {start} n {n} shift {shift} byte {i}");
                        assert_eq!(down[i], down_want, "memmove down start {start} n {n} shift {shift} byte {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn memcmp_orders_by_the_first_differing_byte() {
        let a = *b"abcdef";
        let b = *b"abcxef";
        // SAFETY: all ranges lie within the 6-byte arrays.
        unsafe {
            assert_eq!(memcmp(a.as_ptr(), b.as_ptr(), 3), 0);
            assert!(memcmp(a.as_ptr(), b.as_ptr(), 6) < 0);
            assert!(memcmp(b.as_ptr(), a.as_ptr(), 6) > 0);
            assert_eq!(memcmp(a.as_ptr(), b.as_ptr(), 0), 0);
        }
    }
}

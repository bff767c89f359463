//! The operator token: 128 bits drawn at boot, as 32 hex digits.
//!
//! The entropy is RDRAND's when the CPU has it, mixed with the time-stamp
//! counter read at 64 wake-ups a millisecond apart: under QEMU's TCG the
//! counter follows the host's clock, so its low bits at each wake-up carry the
//! host's scheduling jitter. Someone who can only reach the status page over
//! the network cannot read the console and has no way to predict them.

/// splitmix64's finaliser: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rdtsc() -> u64 {
    // SAFETY: RDTSC reads a counter; it has no side effects and is allowed at
    // user level (the kernel does not set CR4.TSD).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// RDRAND's value, when the CPU has the instruction and it delivered.
fn rdrand() -> Option<u64> {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    if leaf1.ecx & (1 << 30) == 0 {
        return None;
    }
    let mut v = 0u64;
    // SAFETY: CPUID said the CPU implements RDRAND; it only writes `v`.
    let ok = unsafe { core::arch::x86_64::_rdrand64_step(&mut v) };
    (ok == 1).then_some(v)
}

/// Draws a token: 32 lower-case hex digits.
pub fn draw() -> [u8; 32] {
    let mut lanes = [0x6a09_e667_f3bc_c908u64, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1];
    for i in 0..64u64 {
        let sample = rdtsc() ^ rdrand().unwrap_or(0).rotate_left(i as u32) ^ rt::time::ticks() << 40;
        let l = (i % 4) as usize;
        lanes[l] = mix(lanes[l] ^ sample ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        lanes[(l + 1) % 4] ^= lanes[l].rotate_left(23);
        rt::time::sleep_ms(1);
    }
    let hi = mix(lanes[0] ^ lanes[2].rotate_left(17));
    let lo = mix(lanes[1] ^ lanes[3].rotate_left(31) ^ hi);
    let mut out = [0u8; 32];
    for (i, nibble) in (0..32).map(|i| {
        let w = if i < 16 { hi } else { lo };
        (i, (w >> (60 - 4 * (i % 16))) & 0xf)
    }) {
        out[i] = b"0123456789abcdef"[nibble as usize];
    }
    out
}

/// Compares without stopping at the first difference.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

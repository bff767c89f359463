//! Fiasco's IPC timeouts: two 16-bit halves in `r8`, send in the high half,
//! receive in the low. A relative timeout is `mantissa << exponent`
//! microseconds (10-bit mantissa, 5-bit exponent); 0 means never and `0x0400`
//! (mantissa 0, exponent 1) means zero.

use crate::Timeout;

pub const NEVER: u16 = 0;
pub const ZERO: u16 = 0x0400;

/// One half: the shortest representable wait not shorter than the timeout.
pub const fn encode(t: Timeout) -> u16 {
    match t {
        Timeout::Never => NEVER,
        Timeout::Zero => ZERO,
        Timeout::Millis(ms) => {
            let mut us = ms as u64 * 1000;
            if us == 0 {
                return ZERO;
            }
            let mut exp = 0u64;
            while us > 0x3ff {
                // Round up so that a wait is never shorter than asked.
                us = us.div_ceil(2);
                exp += 1;
            }
            if exp > 31 {
                return NEVER;
            }
            (us as u16) | ((exp as u16) << 10)
        }
    }
}

/// Microseconds a relative half waits (`None` for never).
pub const fn micros(half: u16) -> Option<u64> {
    if half == NEVER {
        return None;
    }
    Some(((half & 0x3ff) as u64) << ((half >> 10) & 0x1f))
}

/// The `r8` word for a send and a receive timeout.
pub const fn pair(send: Timeout, recv: Timeout) -> u64 {
    ((encode(send) as u64) << 16) | encode(recv) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves() {
        assert_eq!(encode(Timeout::Never), 0);
        assert_eq!(encode(Timeout::Zero), 0x400);
        assert_eq!(micros(ZERO), Some(0));
        assert_eq!(pair(Timeout::Never, Timeout::Never), 0);
        assert_eq!(pair(Timeout::Zero, Timeout::Never), 0x0400_0000);
        for ms in [1u32, 2, 7, 10, 100, 999, 1000, 65_000, 3_600_000] {
            let us = micros(encode(Timeout::Millis(ms))).unwrap();
            let want = ms as u64 * 1000;
            assert!(us >= want && us <= want + want / 256 + 1, "{ms} ms -> {us} us");
        }
    }
}

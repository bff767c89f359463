//! Conversions between time-stamp-counter cycles and time, free of overflow.

pub const NS_PER_MS: u64 = 1_000_000;

/// Cycles in `ns` nanoseconds at `tsc_per_ms` cycles per millisecond.
pub fn ns_to_cycles(ns: u64, tsc_per_ms: u64) -> u64 {
    (ns as u128 * tsc_per_ms as u128 / NS_PER_MS as u128).min(u64::MAX as u128) as u64
}

/// Nanoseconds in `cycles` (0 if the rate is unknown).
pub fn cycles_to_ns(cycles: u64, tsc_per_ms: u64) -> u64 {
    if tsc_per_ms == 0 {
        return 0;
    }
    (cycles as u128 * NS_PER_MS as u128 / tsc_per_ms as u128).min(u64::MAX as u128) as u64
}

/// Whole milliseconds covering `ns` (rounded up).
pub fn ns_to_ms_ceil(ns: u64) -> u64 {
    ns.div_ceil(NS_PER_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(ns_to_cycles(1_000, 2_000_000), 2_000);
        assert_eq!(cycles_to_ns(2_000, 2_000_000), 1_000);
        assert_eq!(cycles_to_ns(u64::MAX, 1), u64::MAX);
        assert_eq!(cycles_to_ns(5, 0), 0);
        assert_eq!(ns_to_cycles(u64::MAX, u64::MAX), u64::MAX);
        // 10 years of a 3 GHz TSC still converts exactly.
        let c = 3_000_000u64 * 1000 * 3600 * 24 * 3650;
        assert_eq!(cycles_to_ns(c, 3_000_000), 1000 * NS_PER_MS * 3600 * 24 * 3650);
        assert_eq!(ns_to_ms_ceil(1), 1);
        assert_eq!(ns_to_ms_ceil(2 * NS_PER_MS), 2);
        assert_eq!(ns_to_ms_ceil(0), 0);
    }
}

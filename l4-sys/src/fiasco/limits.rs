//! What a task may take on Fiasco.OC, from its manifest: the priority level
//! that Resurgo's priority becomes, and the quotas of the factory and the
//! memory allocator a task gets of its own (ned's script for the tasks ned
//! starts, the reincarnation server for its drivers). Plain arithmetic, so
//! that the host (which writes ned's script) and the tasks agree on it.

use crate::proto::thread::DEFAULT_PRIORITY;

/// L4Re's default priority for application threads.
pub const L4RE_DEFAULT_PRIO: u64 = 2;

/// Fiasco.OC's priority level for Resurgo's `priority`: the default (100)
/// is L4Re's default (2); above it, one level per ten; below it, the one
/// level under L4Re's default.
pub fn priority_level(priority: u8) -> u64 {
    if priority < DEFAULT_PRIORITY {
        return L4RE_DEFAULT_PRIO - 1;
    }
    L4RE_DEFAULT_PRIO + u64::from((priority - DEFAULT_PRIORITY) / 10)
}

/// Kernel memory a task's own factory may spend: a base (its task object
/// when the factory's owner creates it, kernel-user memory), per thread it
/// may have (a thread object, its FPU state, the gates and IRQs that go
/// with it), and per byte of memory it may have mapped (page tables and
/// mapping-database entries, about 1/128 at 4 KiB pages; 1/64 allowed).
pub fn kernel_quota(threads: u32, memory: u64) -> u64 {
    const BASE: u64 = 1 << 20;
    const PER_THREAD: u64 = 32 << 10;
    BASE.saturating_add(PER_THREAD.saturating_mul(u64::from(threads.max(1)))).saturating_add(memory / 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_keep_the_manifest_order() {
        assert_eq!(priority_level(100), 2);
        assert_eq!(priority_level(90), 1);
        assert_eq!(priority_level(1), 1);
        assert_eq!(priority_level(120), 4);
        assert_eq!(priority_level(200), 12);
        assert_eq!(priority_level(250), 17);
        let levels: Vec<u64> = [1u8, 99, 100, 110, 140, 200, 250].iter().map(|&p| priority_level(p)).collect();
        assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
    }

    #[test]
    fn quotas_grow_with_the_manifest() {
        assert_eq!(kernel_quota(4, 8 << 20), (1 << 20) + (128 << 10) + (128 << 10));
        assert!(kernel_quota(16, 32 << 20) > kernel_quota(4, 32 << 20));
        assert_eq!(kernel_quota(0, 0), kernel_quota(1, 0));
        assert_eq!(kernel_quota(u32::MAX, u64::MAX), (1 << 20) + (32 << 10) * u64::from(u32::MAX) + u64::MAX / 64);
    }
}

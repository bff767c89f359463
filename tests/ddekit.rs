//! DDEKit in a guest task (`apps/ddekit-test`, manifest `tests/manifests/ddekit.toml`):
//! threads, sleeping locks under contention and their FIFO hand-off,
//! semaphores, condition variables, timers, sleep accuracy against the tick
//! count, DMA memory whose physical addresses the kernel confirms page by
//! page, slabs, initcall order, joined print fragments, interrupt threads
//! driven by the RTC, and calls with bad arguments that are refused while the
//! task lives on.

mod common;

use common::*;

#[test]
fn ddekit_in_a_task() {
    let guest = boot("ddekit");
    let r = run_until(&guest, "TEST ddekit done");
    for name in [
        "ddekit.threads",
        "ddekit.lock",
        "ddekit.lock_fifo",
        "ddekit.lock_static",
        "ddekit.sem",
        "ddekit.condvar",
        "ddekit.timer",
        "ddekit.timer_wakeup",
        "ddekit.sleep",
        "ddekit.memory",
        "ddekit.contig",
        "ddekit.slab",
        "ddekit.misuse",
        "ddekit.initcall",
        "ddekit.print",
        "ddekit.irq",
        "ddekit.nodevice",
    ] {
        passed(&r, name);
    }

    // C code on DDEKit threads gets the stack alignment the ABI promises.
    assert_eq!(passed(&r, "ddekit.threads").field("stack_aligned"), "true");

    // Two threads really contended for the lock, and nothing was lost.
    let lock = passed(&r, "ddekit.lock");
    assert_eq!(lock.num("count"), 6000);
    assert_eq!(lock.num("overlaps"), 0);
    assert!(lock.num("contended") > 0, "{}", lock.raw);
    // Waiters got the lock in the order they queued.
    assert_eq!(passed(&r, "ddekit.lock_fifo").field("order"), "0,1,2,3");

    // Timers fire in expiry order, on time, and a deleted one never.
    let timer = passed(&r, "ddekit.timer");
    assert_eq!(timer.field("order"), "1,2,0");
    assert_eq!(timer.field("deleted_fired"), "false");
    let wakeup = passed(&r, "ddekit.timer_wakeup").num("fired_after_ms");
    assert!((10..=13).contains(&wakeup), "a 10 ms timer added behind a 500 ms one fired after {wakeup} ms");

    // A timed-out semaphore down waited its 50 ms.
    let sem = passed(&r, "ddekit.sem");
    assert!((50..=60).contains(&sem.num("timeout_ms")), "{}", sem.raw);

    // Print fragments became one line.
    assert_eq!(passed(&r, "ddekit.print").field("joined"), "yes");

    // Initcalls ran by level; the failing one was counted.
    let init = passed(&r, "ddekit.initcall");
    assert_eq!(init.field("levels"), "1,2,4,6");
    assert_eq!(init.num("failed"), 1);

    // msleep(n) blocks at least n ms: n + 1 ticks (a started tick does not count).
    let sleep = passed(&r, "ddekit.sleep");
    let asked: Vec<u64> = sleep.field("msleep_ms").split(',').map(|v| v.parse().unwrap()).collect();
    let took: Vec<u64> = sleep.field("ticks").split(',').map(|v| v.parse().unwrap()).collect();
    for (a, t) in asked.iter().zip(&took) {
        assert!((a + 1..=a + 2).contains(t), "msleep({a}) took {t} ticks");
    }

    // Interrupts run on a thread above the driver's others; a disabled line
    // holds them; a disable waits for the handler that runs.
    let irq = passed(&r, "ddekit.irq");
    assert!(irq.num("irq_priority") > irq.num("main_priority"), "{}", irq.raw);
    assert_eq!(irq.field("held_while_disabled"), "true");
    assert!(irq.num("disable_waited_ms") >= 5, "{}", irq.raw);

    // Misuse was reported, not fatal: the task went on to the end.
    assert!(guest.lines().iter().any(|l| l.contains("not allocated (double free?); ignored")));
}

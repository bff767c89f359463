//! Runs the syscall fuzzer and measures the kernel around it: a warm-up
//! incarnation that replays the run first (so that kernel tables that only
//! grow, like the object arena and the ready queues, reach their size), then
//! free frames, kernel heap and task count before the measured run and after
//! its task is destroyed, and whether the bystander still answers. Figures are
//! `BENCH` lines.
#![no_std]
#![no_main]

extern crate alloc;

use rt::obj::{Factory, KernelCap, Thread};
use rt::sys::event::Cause;
use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

/// A value the manifest gives the fuzzer.
fn fuzz_value(boot: &boot::Boot, key: &str) -> Option<u64> {
    boot.task("fuzz").and_then(|t| t.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v))
}

/// Runs one fuzzer incarnation to its end; returns how it stopped.
fn run(boot: &boot::Boot, events: rt::obj::Irq, extra: &[(alloc::string::String, u64)]) -> (Cause, u64) {
    let child = boot::spawn_child_with(boot, "fuzz", Some(events), extra).expect("spawn fuzz");
    let stopped = loop {
        if ipc::receive(events.0, Timeout::Millis(600_000)).is_err() {
            break (Cause::Killed, u64::MAX);
        }
        let mut stop = None;
        while let Ok(info) = child.task.next_event() {
            match info.event {
                Some(ev) if ev.cause.stops_task() => stop = Some((ev.cause, ev.code)),
                Some(_) => {}
                None => break,
            }
        }
        if let Some(s) = stop {
            break s;
        }
    };
    child.destroy();
    stopped
}

fn main() {
    let boot = boot::Boot::open().expect("boot archive");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let bystander = rt::env::require_cap("heartbeat.main");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 1).expect("attach");
    let seed = fuzz_value(&boot, "seed").unwrap_or(1);
    rt::info!("BENCH seed={}", seed);
    // The warm-up replays the measured run (same seed, same calls): kernel
    // tables that only grow reach the size the run needs, so whatever the
    // heap keeps after the measured run is a leak, not a high-water mark.
    let start = kernel.stats().expect("stats");
    let calls = fuzz_value(&boot, "calls").unwrap_or(0);
    let warm = [("warm-up-calls".into(), calls)];
    let _ = run(&boot, events, &warm);
    let before = kernel.stats().expect("stats");
    rt::info!(
        "BENCH frames_at_boot={} heap_at_boot={} heap_after_warm_up={}",
        start.free_frames,
        start.heap_bytes,
        before.heap_bytes
    );
    let t0 = rt::time::ticks();
    let (cause, code) = run(&boot, events, &[]);
    let ms = rt::time::ticks() - t0;
    let after = kernel.stats().expect("stats");
    ipc::set_mr::<0>(0);
    let answered = ipc::call(bystander, MsgTag::new(1, 1, 0), Timeout::Millis(2000)).is_ok();
    rt::info!(
        "BENCH fuzzer_exited={} fuzzer_exit_code={} fuzzer_cause={} run_ms={} bystander_answered={}",
        (cause == Cause::Exit) as u8,
        if cause == Cause::Exit { code } else { u64::MAX },
        cause as u64,
        ms,
        answered as u8
    );
    rt::info!(
        "BENCH frames_before={} frames_after={} heap_before={} heap_after={} tasks_before={} tasks_after={}",
        before.free_frames,
        after.free_frames,
        before.heap_bytes,
        after.heap_bytes,
        before.tasks,
        after.tasks
    );
    rt::info!("BENCH done");
}

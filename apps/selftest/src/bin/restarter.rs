//! Kills and restarts its child a hundred times, checking each incarnation runs
//! and that the kernel's free-frame count afterwards equals the count before.
#![no_std]
#![no_main]

use rt::obj::{Factory, KernelCap, Thread};
use rt::{MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

const CYCLES: u64 = 100;

fn main() {
    let boot = boot::Boot::open().expect("boot archive");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 0xe).expect("attach");
    // One incarnation before measuring: the loader's first temporary mappings
    // give this task its own page tables, which stay (they are not a leak).
    let mut before = None;
    let mut alive = 0;
    for i in 0..=CYCLES {
        if i == 1 {
            before = Some(kernel.stats().expect("stats"));
        }
        let child = boot::spawn_child(&boot, "victim", Some(events)).expect("spawn victim");
        // The victim calls our gate once it runs; answer with its incarnation.
        match ipc::wait(Timeout::Millis(5000)) {
            Ok(m) if m.label != 0xe => {
                alive += (i > 0) as u64;
                ipc::set_mr::<0>(i);
                let _ = ipc::reply(MsgTag::new(0, 1, 0));
            }
            other => rt::error!("incarnation {} did not report: {:?}", i, other.map(|m| m.label)),
        }
        child.task.kill().expect("kill");
        // The kill notification.
        let _ = ipc::receive(events.0, Timeout::Millis(1000));
        child.destroy();
        if i % 25 == 0 && i > 0 {
            rt::info!("{} restarts done", i);
        }
    }
    let before = before.expect("measured");
    let after = kernel.stats().expect("stats");
    check!(
        "restart.hundred",
        alive == CYCLES && after.free_frames == before.free_frames && after.tasks == before.tasks,
        "cycles={} alive={} frames_before={} frames_after={} tasks_before={} tasks_after={}",
        CYCLES,
        alive,
        before.free_frames,
        after.free_frames,
        before.tasks,
        after.tasks
    );
}

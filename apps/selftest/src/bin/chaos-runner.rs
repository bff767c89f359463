//! Runs the garbage-throwing task again and again, then checks that the kernel
//! is still up, that a bystander still answers, and that every frame the chaos
//! tasks used came back.
#![no_std]
#![no_main]

use rt::obj::{Factory, KernelCap, Thread};
use rt::sys::event::Cause;
use rt::{MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

const INCARNATIONS: u32 = 12;

fn main() {
    let boot = boot::Boot::open().expect("boot archive");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let heartbeat = rt::env::require_cap("heartbeat.main");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 1).expect("attach");
    rt::mem::alloc(4096, false).expect("memory").free();
    let mut before = None;
    let (mut survived, mut faulted, mut killed_itself) = (0, 0, 0);
    for i in 0..=INCARNATIONS {
        if i == 1 {
            before = Some(kernel.stats().expect("stats"));
        }
        let child = boot::spawn_child(&boot, "chaos", Some(events)).expect("spawn chaos");
        let mut stopped = None;
        while stopped.is_none() {
            if ipc::receive(events.0, Timeout::Millis(10_000)).is_err() {
                break;
            }
            while let Ok(info) = child.task.next_event() {
                match info.event {
                    Some(ev) if ev.cause.stops_task() => stopped = Some(ev),
                    Some(_) => {}
                    None => break,
                }
            }
        }
        match stopped {
            Some(ev) if ev.cause == Cause::Exit && ev.code == 0 => survived += 1,
            Some(ev) if ev.cause == Cause::Exit || ev.cause == Cause::Killed => killed_itself += 1,
            Some(_) => faulted += 1,
            None => {
                // Still running after ten seconds: it stopped its own main
                // thread, or blocked it, while another thread lives on.
                let _ = child.task.kill();
                let _ = ipc::receive(events.0, Timeout::Millis(1000));
                killed_itself += 1;
            }
        }
        child.destroy();
    }
    let after = kernel.stats().expect("stats");
    let before = before.expect("measured");
    let alive = ipc::call(heartbeat, MsgTag::new(1, 0, 0), Timeout::Millis(2000)).is_ok();
    check!(
        "chaos.kernel_survives",
        alive && after.free_frames == before.free_frames && after.tasks == before.tasks,
        "incarnations={} survived={} faulted={} ended_themselves={} heartbeat={} frames_before={} frames_after={} ipc_denied={}",
        INCARNATIONS + 1,
        survived,
        faulted,
        killed_itself,
        alive,
        before.free_frames,
        after.free_frames,
        after.ipc_denied
    );
}

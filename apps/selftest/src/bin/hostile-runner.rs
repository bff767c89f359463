//! Parent of the hostile tasks: starts each attacker in turn, lets it attack for
//! at most its `run-ms`, and meanwhile calls the bystander (a default-priority
//! task that must answer within 2 s) and samples the kernel's free frames and
//! heap. Prints one `TEST hostile.<task>` line per attacker with what stopped
//! it and what the kernel looked like before, during and after.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use rt::obj::{Factory, KernelCap, Thread};
use rt::{MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

/// How long the bystander may take to answer.
const BYSTANDER_MS: u32 = 2000;
/// Default attack time before the runner kills the attacker.
const RUN_MS: u64 = 3000;

fn main() {
    let boot = boot::Boot::open().expect("boot archive");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let bystander = rt::env::require_cap("heartbeat.main");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 1).expect("attach");
    let children: Vec<String> = boot.children_of(Some(rt::env::name())).map(|t| t.name.clone()).collect();
    // The first spawn grows the runner's own structures (a page table for
    // the child's image, bookkeeping that stays), which would count against
    // the first attacker: start it once and destroy it before it runs (the
    // runner's priority is above every attacker's), then measure.
    if let Some(first) = children.first()
        && let Ok(child) = boot::spawn_child(&boot, first, Some(events))
    {
        let _ = child.task.kill();
        child.destroy();
        while child_events_pending(&events) {}
    }
    for name in children.iter().map(|n| n.as_str()) {
        let run_ms = boot
            .task(name)
            .and_then(|t| t.values.iter().find(|(k, _)| k == "run-ms").map(|(_, v)| *v))
            .unwrap_or(RUN_MS);
        let before = kernel.stats().expect("stats");
        let child = match boot::spawn_child(&boot, name, Some(events)) {
            Ok(c) => c,
            Err(e) => {
                rt::error!("TEST hostile.{} FAIL cannot start: {}", name, e);
                continue;
            }
        };
        let start = rt::time::ticks();
        let (mut max_ms, mut misses, mut calls) = (0u64, 0u64, 0u64);
        let mut heap_peak = before.heap_bytes;
        let mut outcome: Option<(rt::sys::event::Event, String)> = None;
        let mut killed = false;
        loop {
            let _ = ipc::receive(events.0, Timeout::Millis(100));
            while let Ok(info) = child.task.next_event() {
                let Some(ev) = info.event else { break };
                if ev.cause.stops_task() && outcome.is_none() {
                    outcome = Some((ev, info.reason().replace(' ', "_")));
                }
            }
            let t0 = rt::time::ticks();
            ipc::set_mr::<0>(0);
            let answered = ipc::call(bystander, MsgTag::new(1, 1, 0), Timeout::Millis(BYSTANDER_MS)).is_ok();
            max_ms = max_ms.max(rt::time::ticks() - t0);
            calls += 1;
            misses += !answered as u64;
            if let Ok(s) = kernel.stats() {
                heap_peak = heap_peak.max(s.heap_bytes);
            }
            if outcome.is_some() {
                break;
            }
            if rt::time::ticks() - start > run_ms {
                if killed {
                    break;
                }
                let _ = child.task.kill();
                killed = true;
            }
        }
        child.destroy();
        let after = kernel.stats().expect("stats");
        let (cause, code, ip, addr, reason) = match &outcome {
            Some((ev, r)) => (ev.cause.name(), ev.code, ev.ip, ev.addr, r.as_str()),
            None => ("none", 0, 0, 0, "-"),
        };
        check!(
            alloc::format!("hostile.{name}").as_str(),
            misses == 0 && after.free_frames == before.free_frames && after.tasks == before.tasks,
            "outcome={} code={} ip={:#x} addr={:#x} reason={} killed={} bystander_calls={} bystander_misses={} \
             bystander_max_ms={} frames_before={} frames_after={} heap_before={} heap_peak={} heap_after={} \
             tasks_before={} tasks_after={}",
            cause,
            code,
            ip,
            addr,
            if reason.is_empty() { "-" } else { reason },
            killed as u8,
            calls,
            misses,
            max_ms,
            before.free_frames,
            after.free_frames,
            before.heap_bytes,
            heap_peak,
            after.heap_bytes,
            before.tasks,
            after.tasks
        );
    }
    rt::info!("TEST hostile done");
}

/// Drains one pending event notification of the warm-up child, if any.
fn child_events_pending(events: &rt::obj::Irq) -> bool {
    ipc::receive(events.0, Timeout::Millis(0)).is_ok()
}

//! Parent of the faulting tasks: starts each, waits for what the kernel reports,
//! prints the cause and address, and checks that everyone else is still running.
#![no_std]
#![no_main]

extern crate alloc;

use rt::obj::{Factory, KernelCap, Thread};
use rt::{Timeout, ipc};
use selftest::check;

rt::entry!(main);

fn main() {
    let boot = boot::Boot::open().expect("boot archive");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let heartbeat = rt::env::require_cap("heartbeat.main");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 1).expect("attach");
    let denied_before = kernel.stats().map(|s| s.ipc_denied).unwrap_or(0);
    // Every task the manifest declares with this one as its parent, in turn.
    let children: alloc::vec::Vec<alloc::string::String> =
        boot.children_of(Some(rt::env::name())).map(|t| t.name.clone()).collect();
    for name in children.iter().map(|n| n.as_str()) {
        let child = match boot::spawn_child(&boot, name, Some(events)) {
            Ok(c) => c,
            Err(e) => {
                rt::error!("TEST fault.{} FAIL cannot start: {}", name, e);
                continue;
            }
        };
        // Collect events until the child has stopped.
        let mut stopped = false;
        while !stopped {
            if ipc::receive(events.0, Timeout::Millis(5000)).is_err() {
                rt::error!("TEST fault.{} FAIL no event within 5 s", name);
                break;
            }
            while let Ok(info) = child.task.next_event() {
                let Some(ev) = info.event else { break };
                rt::info!(
                    "TEST fault.{} event cause={} ip={:#x} addr={:#x} code={} reason={}",
                    name,
                    ev.cause.name(),
                    ev.ip,
                    ev.addr,
                    ev.code,
                    info.reason()
                );
                stopped |= ev.cause.stops_task();
            }
        }
        child.destroy();
        // The rest of the system keeps running: the heartbeat task answers.
        ipc::set_mr::<0>(0);
        let alive = ipc::call(heartbeat, rt::MsgTag::new(1, 1, 0), Timeout::Millis(2000)).is_ok();
        check!("fault.others_alive", alive, "after={}", name);
    }
    let denied = kernel.stats().map(|s| s.ipc_denied).unwrap_or(0) - denied_before;
    let expect_denials = children.iter().any(|c| c == "gate-caller");
    check!("fault.kernel_counted_denials", denied >= expect_denials as u64, "ipc_denied={denied}");
    rt::info!("TEST fault done");
}

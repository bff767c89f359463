//! A client of a driver whose probe always faults: waits until the
//! reincarnation server holds the driver down, then checks that calling the
//! driver fails at once (an error, not a hang) and that every other task is
//! still running.
#![no_std]
#![no_main]

use reincarnation::client;
use reincarnation::policy::State;
use reincarnation::proto::control;
use rt::obj::KernelCap;
use rt::{MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

const DRIVER: &str = "eth-8139cp";

fn main() {
    let rs = rt::env::require_cap("reincarnation.svc");
    let driver = rt::env::require_cap("eth-8139cp.control");
    let kernel = KernelCap(rt::env::require_cap("kernel"));
    let t0 = rt::time::ticks();
    let mut status = None;
    while rt::time::ticks() - t0 < 60_000 {
        status = client::status(rs, DRIVER);
        if status.as_ref().is_some_and(|s| s.state == State::HeldDown) {
            break;
        }
        ipc::sleep_ms(200);
    }
    let Some(s) = status.filter(|s| s.state == State::HeldDown) else {
        rt::error!("TEST restart.held_down FAIL the driver was never held down");
        return;
    };
    check!(
        "restart.held_down",
        s.incarnation >= 6 && s.last_cause.contains("page-fault"),
        "incarnations={} after_ms={} cause=\"{}\"",
        s.incarnation,
        rt::time::ticks() - t0,
        s.last_cause
    );
    let t1 = rt::time::ticks();
    let r = ipc::call(driver, MsgTag::new(control::PING, 0, 0), Timeout::Millis(10_000));
    check!("restart.client_gets_error", r.is_err() && rt::time::ticks() - t1 < 1000, "call={:?}", r.err());
    // Every task but the held-down driver is running.
    let mut stopped = 0;
    let mut total = 0;
    while let Ok(Some(t)) = kernel.task_info(total) {
        if !t.running {
            stopped += 1;
        }
        total += 1;
    }
    check!("restart.others_running", stopped == 0 && total >= 5, "tasks={} stopped={}", total, stopped);
}

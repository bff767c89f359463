//! Drives the reincarnation server through its `svc` endpoint and checks what
//! it does with a crash-looping driver, a hung one, and operator requests.
#![no_std]
#![no_main]

use reincarnation::client::{self, CallError, Status};
use reincarnation::policy::State;
use reincarnation::proto::svc;
use rt::obj::KernelCap;
use rt::{Error, MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

fn status(rs: rt::CapIdx, name: &str) -> Option<Status> {
    client::status(rs, name)
}

fn command(rs: rt::CapIdx, op: i64, name: &str, arg: u64) -> Result<(), CallError> {
    client::command(rs, op, name, arg)
}

fn wait_until(rs: rt::CapIdx, name: &str, ms: u64, pred: impl Fn(&Status) -> bool) -> Option<Status> {
    let t0 = rt::time::ticks();
    while rt::time::ticks() - t0 < ms {
        if let Some(s) = status(rs, name).filter(|s| pred(s)) {
            return Some(s);
        }
        ipc::sleep_ms(50);
    }
    status(rs, name)
}

fn main() {
    let rs = rt::env::require_cap("reincarnation.svc");
    let heartbeat = rt::env::require_cap("heartbeat.main");
    let crash_loop_ctl = rt::env::require_cap("crash-loop.control");
    let kernel = KernelCap(rt::env::require_cap("kernel"));

    // A driver whose probe always faults: restarted with growing delays, then
    // held down; its clients get an error, not a hang.
    let t0 = rt::time::ticks();
    let s = wait_until(rs, "crash-loop", 20_000, |s| s.state == State::HeldDown).expect("status");
    let took = rt::time::ticks() - t0;
    let t1 = rt::time::ticks();
    let r = ipc::call(crash_loop_ctl, MsgTag::new(reincarnation::proto::control::PING, 0, 0), Timeout::Millis(5000));
    let call_ms = rt::time::ticks() - t1;
    check!(
        "rs.crash_loop_held_down",
        s.state == State::HeldDown && s.incarnation >= 6 && took > 1000 && s.last_cause.contains("fake_probe"),
        "incarnations={} restarts={} after_ms={} cause=\"{}\"",
        s.incarnation,
        s.restarts,
        took,
        s.last_cause
    );
    check!(
        "rs.held_down_clients_get_errors",
        matches!(r, Err(Error::NotBound) | Err(Error::PeerDied)) && call_ms < 1000,
        "call={:?} ms={}",
        r.err(),
        call_ms
    );

    // A driver stuck in an endless loop is found by heartbeat and restarted.
    let s = wait_until(rs, "hang", 20_000, |s| s.restarts >= 1).expect("status");
    check!(
        "rs.hang_found_by_heartbeat",
        s.restarts >= 1 && s.last_cause.contains("heartbeat"),
        "restarts={} cause=\"{}\"",
        s.restarts,
        s.last_cause
    );

    // Operator requests: kill brings it back; down keeps it down; up restarts it.
    let before = status(rs, "steady").expect("status");
    let killed = command(rs, svc::KILL, "steady", 0);
    let after = wait_until(rs, "steady", 5000, |s| s.incarnation > before.incarnation && s.state == State::Running)
        .expect("status");
    let down = command(rs, svc::DOWN, "steady", 0);
    let downed = status(rs, "steady").expect("status");
    let up = command(rs, svc::UP, "steady", 0);
    let upped = wait_until(rs, "steady", 5000, |s| s.state == State::Running).expect("status");
    check!(
        "rs.operator_requests",
        killed.is_ok()
            && down.is_ok()
            && up.is_ok()
            && downed.state == State::Down
            && upped.incarnation == after.incarnation + 1,
        "incarnations={}->{}->{} cause=\"{}\"",
        before.incarnation,
        after.incarnation,
        upped.incarnation,
        after.last_cause
    );
    check!(
        "rs.unknown_service_refused",
        command(rs, svc::KILL, "nobody", 0) == Err(CallError::Server(svc::Error::NoService)),
        ""
    );

    // Fault injection through the server.
    let inj = command(rs, svc::INJECT, "steady", reincarnation::proto::control::INJECT_CRASH_NOW);
    let crashed = wait_until(rs, "steady", 5000, |s| s.incarnation > upped.incarnation).expect("status");
    check!(
        "rs.injected_crash_restarts",
        inj.is_ok() && crashed.last_cause.contains("page-fault"),
        "cause=\"{}\"",
        crashed.last_cause
    );

    // All the while, the rest of the system kept running.
    let alive = ipc::call(heartbeat, MsgTag::new(1, 0, 0), Timeout::Millis(2000)).is_ok();
    let stats = kernel.stats().expect("stats");
    check!("rs.others_alive", alive, "ticks={}", stats.ticks);
    rt::info!("TEST rs done");
}

//! A `svc` client that tries every verb it was not granted, to show the
//! reincarnation server checks each call against the caller's manifest grants.
//!
//! `target` (a value naming nothing: the task is `other`, see the manifest) is
//! attacked with every verb; each must be refused with `ERR_DENIED` and leave
//! the service as it was (state, incarnation, restarts). With `mode = 1` the
//! task is an operator granted `kill` on `steady` alone: its kill of `steady`
//! works (the positive control) and everything else is still refused.
//!
//! The intruder also holds the kernel capability read-only (`kernel = true`,
//! as httpd does): it may read statistics, and its log-level change and, last,
//! its shutdown are refused; the operator checks two seconds later that the
//! system still runs.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use reincarnation::client::{self, CallError, Status};
use reincarnation::policy::State;
use reincarnation::proto::{control, svc};
use rt::{MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

/// Every verb a `svc` client can send, by name, with its call and argument.
const VERBS: [(&str, i64, u64); 8] = [
    ("restart", svc::RESTART, 0),
    ("kill", svc::KILL, 0),
    ("down", svc::DOWN, 0),
    ("up", svc::UP, 0),
    ("crash", svc::INJECT, control::INJECT_CRASH_NOW),
    ("crash-irq", svc::INJECT, control::INJECT_CRASH_IRQ),
    ("hang-irq", svc::INJECT, control::INJECT_HANG_IRQ),
    ("complain", svc::COMPLAIN, 0),
];

fn same(a: &Status, b: &Status) -> bool {
    a.state == b.state && a.incarnation == b.incarnation && a.restarts == b.restarts
}

fn wait_running(rs: rt::CapIdx, name: &str, incarnation: u64) -> Option<Status> {
    let t0 = rt::time::ticks();
    while rt::time::ticks() - t0 < 5000 {
        if let Some(s) = client::status(rs, name).filter(|s| s.state == State::Running && s.incarnation >= incarnation)
        {
            return Some(s);
        }
        ipc::sleep_ms(20);
    }
    None
}

fn main() {
    let rs = rt::env::require_cap("reincarnation.svc");
    let heartbeat = rt::env::require_cap("heartbeat.main");
    let me = rt::env::name();
    let operator = rt::env::value("mode") == Some(1);
    let Some(before) = wait_running(rs, "other", 1) else {
        rt::error!("TEST authority.{} FAIL `other` never ran", me);
        return;
    };

    // Every verb on a service this task has no grant for.
    let mut answers = Vec::new();
    for (verb, call, arg) in VERBS {
        let r = client::command(rs, call, "other", arg);
        check!(
            alloc::format!("authority.{me}.{verb}_refused"),
            r == Err(CallError::Server(svc::Error::Denied)),
            "verb={verb} answer={:?}",
            r
        );
        answers.push(r);
    }
    // Patching the text (software fault injection) is the `inject` verb too.
    let poke = client::poke(rs, "other", 0, 0x40_1000, &[0x90]);
    check!(
        alloc::format!("authority.{me}.poke_refused"),
        poke == Err(CallError::Server(svc::Error::Denied)),
        "answer={:?}",
        poke
    );
    // Listing stays open to every client, and nothing changed.
    let after = client::status(rs, "other");
    check!(
        alloc::format!("authority.{me}.target_unchanged"),
        after.as_ref().is_some_and(|a| same(&before, a)),
        "before={}/{}/{} after={:?}",
        before.state.name(),
        before.incarnation,
        before.restarts,
        after.as_ref().map(|a| (a.state.name(), a.incarnation, a.restarts))
    );

    if operator {
        // Granted `kill` on `steady`, and nothing else on it.
        let s0 = wait_running(rs, "steady", 1);
        let restart = client::command(rs, svc::RESTART, "steady", 0);
        let inject = client::command(rs, svc::INJECT, "steady", control::INJECT_CRASH_NOW);
        let kill = client::command(rs, svc::KILL, "steady", 0);
        let s1 = s0.as_ref().and_then(|s| wait_running(rs, "steady", s.incarnation + 1));
        check!(
            "authority.operator_scoped",
            restart == Err(CallError::Server(svc::Error::Denied))
                && inject == Err(CallError::Server(svc::Error::Denied))
                && kill.is_ok()
                && s1.is_some(),
            "restart={:?} inject={:?} kill={:?} incarnation={:?}->{:?}",
            restart,
            inject,
            kill,
            s0.map(|s| s.incarnation),
            s1.map(|s| s.incarnation)
        );
    }

    // Bystanders: the heartbeat task answers within 2 s, `other` still runs.
    ipc::set_mr::<0>(0);
    let alive = ipc::call(heartbeat, MsgTag::new(1, 1, 0), Timeout::Millis(2000)).is_ok();
    let other = client::status(rs, "other").is_some_and(|s| s.state == State::Running);
    check!(
        alloc::format!("authority.{me}.bystanders_alive"),
        alive && other,
        "heartbeat={alive} other_running={other}"
    );
    rt::info!("TEST authority.{} done", me);

    if let Some(kernel) = rt::env::cap("kernel").map(rt::obj::KernelCap) {
        let stats = kernel.stats();
        let level = kernel.set_log_level(4);
        check!(
            "authority.kernel_read_only",
            stats.is_ok() && level == Err(rt::Error::Denied),
            "stats={:?} set_log_level={:?}",
            stats.as_ref().map(|s| s.tasks),
            level
        );
        // Exits with "shutdown refused" when the kernel says no.
        kernel.shutdown(0);
    }
    if operator {
        ipc::sleep_ms(2000);
        ipc::set_mr::<0>(0);
        let alive = ipc::call(heartbeat, MsgTag::new(1, 1, 0), Timeout::Millis(2000)).is_ok();
        check!("authority.alive_after_shutdown_attempt", alive, "heartbeat={alive}");
    }
}

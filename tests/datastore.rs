//! The data store, booted in QEMU with the tasks of
//! `tests/manifests/datastore.toml`: namespaces only their owner writes,
//! reads granted by the manifest, private keys, notifications of create,
//! change and delete with a bounded queue, private state read back by a
//! restarted task, the name service, garbage requests and quotas.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// The test tasks, each of which says when it is finished.
const TASKS: [&str; 4] = ["st-owner", "st-reader", "st-stranger", "st-parent"];

#[test]
fn the_data_store_keeps_owners_apart_and_state_across_restarts() {
    let guest = boot("datastore");
    for _ in TASKS {
        guest.wait_line("store-test: ", STEP).unwrap_or_else(|e| panic!("{e:#}"));
    }
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    for name in [
        "put_get",
        "foreign_write_refused",
        "notify",
        "granted_read",
        "private_refused",
        "ungranted_refused",
        "global_first_come",
        "garbage",
        "quota",
        "private_hidden_from_parent",
        "private_restart",
        "dead_subscriber_dropped",
        "queue_bounded",
        "lookup",
        "name_service",
    ] {
        passed(&r, &format!("store.{name}"));
    }
    let lines = guest.lines();

    // Every refused write is logged by the store, with who and what.
    for key in ["st-reader/hijack", "st-reader/ready", "st-reader/cap", "st-stranger/x"] {
        assert!(
            lines.iter().any(|l| l.starts_with("[datastore] WARN refused: st-owner may not") && l.contains(key)),
            "no refusal logged for {key}"
        );
    }
    let notify = passed(&r, "store.notify");
    assert!(notify.raw.contains("events=[Created, Changed, Deleted]"), "{}", notify.raw);

    let queue = passed(&r, "store.queue_bounded");
    assert_eq!(queue.num("queued"), 32, "{}", queue.raw);
    assert!(queue.num("lost") > 0, "{}", queue.raw);
    assert_eq!(queue.num("private"), 0, "{}", queue.raw);

    let quota = passed(&r, "store.quota");
    assert_eq!(quota.num("max_entries"), 128);
    assert_eq!(quota.field("entries_refused_at"), format!("Some({})", 128 - quota.num("entries_before")));
    assert_eq!(quota.num("entries_before"), quota.num("after"), "deletes give the quota back");

    let garbage = passed(&r, "store.garbage");
    assert_eq!(garbage.num("wrong"), 0, "{}", garbage.raw);
    assert_eq!(garbage.num("ipc_errors"), 0, "{}", garbage.raw);
    // Objects posing as notification IRQs: the store's probe never blocks on
    // them (a gate nobody receives on times out at once, a served gate takes
    // the probe as a message).
    for found in [
        "the kernel said: wrong protocol for object",
        "the kernel said: timeout",
        "something that took the probe as IPC",
    ] {
        let line = format!("with something that is not a live software IRQ: {found}");
        assert!(lines.iter().any(|l| l.starts_with("[datastore] WARN") && l.contains(&line)), "no `{line}`");
    }

    let restart = passed(&r, "store.private_restart");
    assert_eq!(restart.num("incarnation"), 2);
    assert!(lines.iter().any(|l| l.contains("[datastore] subscription") && l.contains("dropped")));

    // Nothing crashed: every test task ends by itself with status 0 (init
    // says so just after its last line), and the store never stopped.
    let exited = |task: &str| format!("[init] {task} exited with status 0");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !TASKS.iter().all(|t| guest.lines().iter().any(|l| l.contains(&exited(t)))) {
        assert!(Instant::now() < deadline, "not every test task ended cleanly:\n{}", guest.tail(40));
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines = guest.lines();
    assert!(!lines.iter().any(|l| l.contains("[init] datastore") || l.contains("panic")), "the store stopped");
}

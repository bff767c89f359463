//! The reincarnation server in QEMU, with stand-in drivers: a crash-looping
//! driver backs off and is held down while its clients get errors, a hung one
//! is found by heartbeat, operator requests and injected faults restart.

mod common;

use common::*;

#[test]
fn reincarnation_server_policy_heartbeat_and_operator_requests() {
    let guest = boot("reincarnation");
    let r = run_until(&guest, "TEST rs done");
    let held = passed(&r, "rs.crash_loop_held_down");
    assert!(held.num("incarnations") >= 6, "{}", held.raw);
    assert!(held.num("after_ms") >= 1000, "growing delays take time: {}", held.raw);
    assert!(held.raw.contains("fake_probe"), "the cause names the faulting function: {}", held.raw);
    passed(&r, "rs.held_down_clients_get_errors");
    passed(&r, "rs.hang_found_by_heartbeat");
    passed(&r, "rs.operator_requests");
    passed(&r, "rs.unknown_service_refused");
    passed(&r, "rs.injected_crash_restarts");
    passed(&r, "rs.others_alive");
    // The backoff grows: each delay the server announced is twice the one before.
    let delays: Vec<u64> = guest
        .lines()
        .iter()
        .filter(|l| l.starts_with("[reincarnation] WARN crash-loop failed again: restart in "))
        .filter_map(|l| l.split("restart in ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert!(delays.len() >= 4, "{delays:?}");
    assert!(delays.windows(2).all(|w| w[1] == 2 * w[0] || w[1] == w[0]), "{delays:?}");
}

#[test]
fn the_shell_lists_and_controls_services() {
    let mut guest = boot("shell");
    guest.wait_line("[shell] type `svc list`", STEP).unwrap();
    guest.send_line("svc list").unwrap();
    let row = guest.wait_for(|l| l.starts_with("[shell] steady "), STEP).unwrap();
    assert!(row.contains("running"), "{row}");
    guest.send_line("svc kill steady").unwrap();
    guest.wait_line("[shell] svc kill steady: done", STEP).unwrap();
    seen(&guest, "[reincarnation] steady incarnation 2 started", STEP);
    guest.send_line("svc down nosuch").unwrap();
    guest.wait_line("[shell] svc down: no service `nosuch`", STEP).unwrap();
    // A line longer than the shell takes is refused whole, not run cut short.
    let long = format!("svc kill steady {}", "x".repeat(200));
    guest.send_line(&long).unwrap();
    guest.wait_line(&format!("[shell] line too long ({} characters, at most 200): not run", long.len()), STEP).unwrap();
    // Thirty lines typed at once, far ahead of the shell: every one is answered.
    let table = |l: &str| l.starts_with("[shell] driver ");
    let before = count_within(&guest, table, 0, STEP);
    guest.send_line(&["svc list"; 30].join("\r")).unwrap();
    assert_eq!(count_within(&guest, table, before + 30, STEP), before + 30, "{}", guest.tail(40));
    assert!(!guest.lines().iter().any(|l| l.contains("steady incarnation 3")), "{}", guest.tail(40));
}

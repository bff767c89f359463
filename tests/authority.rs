//! Authority, attacked on purpose: tasks and HTTP clients ask the servers for
//! what the manifest does not grant them. Each test asserts that the attacker
//! is refused (or stops), that nothing changed, and that bystanders keep
//! working.

mod common;

use common::*;

#[test]
fn a_svc_grant_on_an_unsupervised_task_is_reported_with_its_place() {
    let err = resurgo::image::build(&resurgo::image::BuildOptions {
        manifest: manifest_path("bad-authority"),
        progress: false,
    })
    .expect_err("a grant on a task no svc server supervises")
    .to_string();
    let expected = "tests/manifests/bad-authority.toml:12:17: `svc.kill` of `shell` names `echo`, whose parent (`init`) is not a `svc` server `shell` uses (rs)";
    assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn every_svc_verb_without_a_grant_is_refused_and_changes_nothing() {
    let guest = boot("authority-svc");
    // The two attackers run side by side: wait for both, in either order.
    seen(&guest, "TEST authority.intruder done", STEP);
    seen(&guest, "TEST authority.operator done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    let verbs = ["restart", "kill", "down", "up", "crash", "crash-irq", "hang-irq", "complain"];
    for who in ["intruder", "operator"] {
        for verb in verbs {
            passed(&r, &format!("authority.{who}.{verb}_refused"));
        }
        passed(&r, &format!("authority.{who}.target_unchanged"));
        passed(&r, &format!("authority.{who}.bystanders_alive"));
    }
    passed(&r, "authority.operator_scoped");
    // The server says who was refused what, and never restarted `other`.
    seen(&guest, "[reincarnation] WARN refused: intruder may not kill other", STEP);
    assert!(
        !guest.lines().iter().any(|l| l.contains("other incarnation 2") || l.contains("WARN other failed")),
        "`other` was touched:\n{}",
        guest.tail(60)
    );
    seen(&guest, "[reincarnation] steady incarnation 2 started", STEP);
}

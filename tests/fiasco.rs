//! Resurgo on Fiasco.OC, booted in QEMU: a Resurgo task built with
//! `--kernel fiasco` runs as an L4Re application under ned (log, heap, a
//! dataspace from moe, an IPC timeout, a software IRQ, IPC between two of its
//! threads through a gate), and the same task source runs on Resurgo's kernel.
//!
//! The Fiasco tests need an L4Re build in `RESURGO_L4RE` (`.ci/run` sets
//! `../shared/fiasco`); without it they say so in one line and pass.

mod common;

use common::*;
use resurgo::fiasco::{self, L4re};
use resurgo::qemu::QemuConfig;

/// The L4Re build, or `None` (and one line saying why) when there is none.
fn l4re() -> Option<L4re> {
    match L4re::from_env() {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            println!(
                "the Fiasco.OC tests did not run: {} is not set (point it at a Fiasco.OC + L4Re build such as ../shared/fiasco; .ci/run does)",
                fiasco::L4RE_ENV
            );
            None
        }
        Err(e) => panic!("{e:#}"),
    }
}

/// The `TEST` lines of a Fiasco console (without ned's colour escapes).
fn results(lines: &[String]) -> Vec<TestLine> {
    lines.iter().filter_map(|l| parse_test_line(&fiasco::plain(l))).collect()
}

#[test]
fn seam_task_runs_under_ned_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let manifest = resurgo::workspace_root().join(fiasco::DEFAULT_MANIFEST);
    let image = fiasco::build(&manifest).unwrap_or_else(|e| panic!("{e:#}"));
    let guest = fiasco::boot(&l4re, &image, &QemuConfig::default()).unwrap_or_else(|e| panic!("{e:#}"));
    let end = guest
        .wait_for(|l| l.contains("TEST seam done") || l.contains("FATAL") || l.contains(" FAIL "), STEP)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let lines = guest.lines();
    assert!(end.contains("TEST seam done"), "the task failed on Fiasco.OC: {end}\n{}", guest.tail(40));
    assert!(lines.iter().any(|l| l.contains("Welcome to the L4Re Microkernel")), "not Fiasco's console");
    assert!(lines.iter().any(|l| l.contains("Ned: loading file: 'rom/fiasco.cfg'")), "ned did not load the script");
    let r = results(&lines);
    let log = passed(&r, "seam.log");
    assert_eq!(log.field("kernel"), "fiasco");
    assert_eq!(log.field("task"), "seam-test");
    assert!(log.raw.starts_with("seam-tes| "), "ned's log server prefixes the task: {}", log.raw);
    portable_steps(&r);
}

/// What the seam task checks on either kernel.
fn portable_steps(r: &[TestLine]) {
    assert_eq!(passed(r, "seam.heap").num("sum"), 4_999_950_000);
    let ds = passed(r, "seam.dataspace");
    assert_eq!((ds.field("zeroed"), ds.field("pattern")), ("true", "true"));
    let t = passed(r, "seam.timeout");
    assert_eq!(t.field("result"), "Err(Timeout)");
    assert!((50..1000).contains(&t.num("waited_ms")), "{}", t.raw);
    assert_eq!(passed(r, "seam.irq").field("label"), "0x1a0");
    assert_eq!(passed(r, "seam.ipc").num("rounds"), 1000);
}

#[test]
fn seam_task_runs_on_resurgo_too() {
    let guest = boot("seam");
    let r = run_until(&guest, "TEST seam done");
    let log = passed(&r, "seam.log");
    assert_eq!(log.field("kernel"), "resurgo");
    portable_steps(&r);
}

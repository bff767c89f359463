//! The hostile-task suite: tasks that attack the kernel on purpose, one attack
//! per task. Each must stop only the attacker (or be refused), the kernel must
//! survive with every frame back, and the bystander (a default-priority task)
//! must answer within 2 s throughout.

mod common;

use common::*;

/// Every attacker of a manifest with its result, all checked for the common
/// guarantees: bystander answered, frames and tasks back, no kernel panic.
fn run_suite(manifest: &str) -> (resurgo::qemu::Guest, Vec<TestLine>) {
    let guest = boot(manifest);
    let r = run_until(&guest, "TEST hostile done");
    let img = image(manifest);
    let attackers: Vec<&str> = img
        .system
        .tasks
        .iter()
        .filter(|t| t.parent.as_deref() == Some("hostile-runner"))
        .map(|t| t.name.as_str())
        .collect();
    assert!(!attackers.is_empty());
    for a in &attackers {
        let t = passed(&r, &format!("hostile.{a}"));
        assert_eq!(t.num("bystander_misses"), 0, "{}", t.raw);
        assert!(t.num("bystander_max_ms") < 2000, "{}", t.raw);
        assert_eq!(t.num("frames_before"), t.num("frames_after"), "{}", t.raw);
        assert_eq!(t.num("tasks_before"), t.num("tasks_after"), "{}", t.raw);
    }
    assert!(!guest.lines().iter().any(|l| l.contains("[kernel] PANIC")), "{}", guest.tail(40));
    (guest, r)
}

fn result<'a>(r: &'a [TestLine], attacker: &str) -> &'a TestLine {
    passed(r, &format!("hostile.{attacker}"))
}

/// The attacker ended itself with status 0: it attacked, the kernel answered
/// correctly, and it could still tell.
fn survived(r: &[TestLine], attacker: &str) -> String {
    let t = result(r, attacker);
    assert_eq!(t.field("outcome"), "exit", "{}", t.raw);
    assert_eq!(t.num("code"), 0, "{}", t.raw);
    t.field("reason").to_string()
}

fn stopped_by(r: &[TestLine], attacker: &str, cause: &str) {
    let t = result(r, attacker);
    assert_eq!(t.field("outcome"), cause, "{}", t.raw);
    assert_eq!(t.num("killed"), 0, "{}", t.raw);
}

#[test]
fn kernel_entry_survives_hostile_cpu_state() {
    let (_guest, r) = run_suite("hostile-entry");
    // NT (and every other user-settable flag) at `syscall`: the kernel's own
    // `iretq` must not see NT, and the task gets its flags back, IOPL not raised.
    survived(&r, "nt-flag");
    survived(&r, "all-flags");
    // DF set while timer interrupts and a fault enter the kernel.
    stopped_by(&r, "direction-flag", "invalid-opcode");
    // TF at `syscall`: the trap is the task's, after the kernel returned.
    stopped_by(&r, "trap-flag", "debug");
    // The last user page cannot be mapped, so no `syscall` can return to the
    // first non-canonical address.
    assert!(survived(&r, "top-page").starts_with("top_page_refused"), "{r:#?}");
    // Stack pointers at kernel, non-canonical and null addresses.
    survived(&r, "bad-rsp");
    stopped_by(&r, "bad-rsp-fault", "invalid-opcode");
    // %gs from user mode, then `swapgs`; `int 32` into the timer's gate.
    stopped_by(&r, "gs-swapgs", "general-protection");
    stopped_by(&r, "int-vector", "general-protection");
    // ICEBP delivers #DB without the DPL check on hardware (QEMU 7.2's TCG
    // raises #UD for it); either way it is the task's own fault.
    let t = result(&r, "icebp");
    assert!(matches!(t.field("outcome"), "debug" | "invalid-opcode"), "{}", t.raw);
    assert_eq!(t.num("killed"), 0, "{}", t.raw);
    stopped_by(&r, "int3", "general-protection");
    // The same into an MSI vector and into one that shares the stray stub.
    for attacker in ["int-vector", "int-msi-vector", "int-stray-vector"] {
        stopped_by(&r, attacker, "general-protection");
        let t = result(&r, attacker);
        assert_ne!(t.num("code") & 2, 0, "the #GP error code names an IDT entry: {}", t.raw);
    }
    // The entry it names: vector * 8 + 2 on hardware, * 16 + 2 under QEMU's
    // TCG (which counts long-mode gates in bytes).
    for (attacker, vector) in [("int-msi-vector", 48), ("int-stray-vector", 200)] {
        let code = result(&r, attacker).num("code");
        assert!(code == vector * 8 + 2 || code == vector * 16 + 2, "{attacker}: #GP code {code}");
    }
    survived(&r, "fpu-unmasked");
    assert_eq!(survived(&r, "thread-edges"), "refused_7_of_7");
}

#[test]
fn kernel_objects_are_bounded_by_quota() {
    let (guest, r) = run_suite("hostile-exhaust");
    let img = image("hostile-exhaust");
    // A task's quota: its `memory` plus the slack init adds (lib/boot's
    // QUOTA_SLACK_PAGES, 64 pages).
    let quota_bytes = |name: &str| img.system.tasks.iter().find(|t| t.name == name).unwrap().memory + 64 * 4096;
    for (attacker, what) in [("irq-objects", "irq_objects"), ("threads", "threads"), ("dataspaces", "dataspaces")] {
        survived(&r, attacker);
        let t = r.iter().find(|t| t.name == format!("hostile.exhaust.{what}")).unwrap();
        assert_eq!(t.field("error"), "quota_exceeded", "{}", t.raw);
        assert!(t.num("count") > 0, "{}", t.raw);
    }
    survived(&r, "cap-slots");
    let why = survived(&r, "debug-right");
    assert!(why.contains("poke_own_text:_Err(Denied),_poke_child:_Err(Denied)"), "{why}");
    // Timeouts armed and cancelled a million times: the kernel's sleeper list
    // must not grow with them (the attacker runs until the runner kills it).
    let t = result(&r, "sleepers");
    assert_eq!(t.num("killed"), 1, "{}", t.raw);
    let peak = t.num("heap_peak") - t.num("heap_before");
    assert!(peak < 64 << 10, "sleepers: kernel heap grew by {peak} bytes during the attack: {}", t.raw);
    let kept = t.num("heap_after").saturating_sub(t.num("heap_before"));
    assert!(kept < 4096, "sleepers: the kernel kept {kept} heap bytes after the attacker was gone: {}", t.raw);
    // Mappings: the kernel memory behind them is charged to the task.
    let reason = survived(&r, "mappings");
    assert!(reason.ends_with("quota_exceeded"), "{reason}");
    let t = result(&r, "mappings");
    let growth = t.num("heap_peak") - t.num("heap_before");
    assert!(growth < quota_bytes("mappings"), "mappings: kernel heap grew by {growth} bytes: {}", t.raw);
    // A thread spinning at a driver's maximum priority: the bystander (checked
    // for every attacker above) still answers within 2 s, because the kernel
    // demotes the runaway to the default priority.
    let t = result(&r, "starver");
    assert_eq!(t.num("killed"), 1, "{}", t.raw);
    assert!(guest.lines().iter().any(|l| l.contains("[kernel] WARN runaway: starver")), "{}", guest.tail(40));
    // Child tasks cannot get more memory than their parent's quota.
    survived(&r, "child-quota");
    let t = r.iter().find(|t| t.name == "hostile.children.count").unwrap();
    let pages = t.num("pages");
    assert!(pages > 0 && pages * 4096 <= quota_bytes("child-quota"), "{}", t.raw);
}

/// The syscall fuzzer's short run: at least 50,000 random calls from the
/// manifest's fixed seed; the kernel survives, preserves the fuzzer's
/// registers, and has every frame, heap byte and task back once the fuzzer's
/// tasks are gone.
#[test]
fn syscall_fuzzer_leaves_the_kernel_as_it_found_it() {
    let guest = boot("hostile-fuzz");
    guest.wait_line("BENCH done", STEP).unwrap_or_else(|e| panic!("{e:#}"));
    let lines = guest.lines();
    let report = resurgo::bench::collect(lines.iter().map(String::as_str)).unwrap().expect("BENCH done");
    let n = |k: &str| report.get(k).and_then(|v| v.as_u64()).unwrap_or_else(|| panic!("no {k} in {}", report.json()));
    let seed = image("hostile-fuzz").system.tasks.iter().find(|t| t.name == "fuzz").unwrap().values.clone();
    assert_eq!(Some(n("seed")), seed.iter().find(|(k, _)| k == "seed").map(|(_, v)| *v), "the seed is printed");
    assert!(n("calls") >= 50_000, "{}", report.json());
    assert_eq!(n("fuzzer_exited"), 1, "the fuzzer must end by itself: {}", report.json());
    assert_eq!(n("registers_corrupted"), 0, "{}", report.json());
    assert_eq!(n("fuzzer_exit_code"), 0, "{}", report.json());
    assert_eq!(n("bystander_answered"), 1, "{}", report.json());
    assert_eq!(n("frames_before"), n("frames_after"), "{}", report.json());
    assert_eq!(n("tasks_before"), n("tasks_after"), "{}", report.json());
    assert_eq!(n("heap_before"), n("heap_after"), "{}", report.json());
    let errors: u64 =
        report.values.iter().filter(|(k, _)| k.starts_with("err_")).map(|(_, v)| v.as_u64().unwrap()).sum();
    assert_eq!(errors, n("errors"), "{}", report.json());
    assert_eq!(n("ok") + n("errors"), n("calls"), "{}", report.json());
    assert!(!lines.iter().any(|l| l.contains("[kernel] PANIC")), "{}", guest.tail(40));
}

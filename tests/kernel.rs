//! The microkernel, booted in QEMU: IPC between address spaces, interrupts as
//! IPC, isolation of faulting tasks, restarts without leaks, garbage system
//! calls, kernel panics, and manifest checking.

mod common;

use common::*;
use resurgo::qemu::{Guest, GuestExit, QemuConfig};
use std::time::Duration;

#[test]
fn ipc_between_address_spaces() {
    let guest = boot("ipc");
    let r = run_until(&guest, "TEST ipc done");
    for name in [
        "ipc.call_reply",
        "ipc.reply_and_wait",
        "ipc.cap_transfer",
        "ipc.timeout_zero",
        "ipc.timeout_finite",
        "ipc.timeout_never",
        "ipc.dead_partner",
    ] {
        passed(&r, name);
    }
    assert_eq!(passed(&r, "ipc.reply_and_wait").num("calls"), 1000);
    let finite = passed(&r, "ipc.timeout_finite").num("waited_ms");
    assert!((50..300).contains(&finite), "finite timeout took {finite} ms");
    assert!(passed(&r, "ipc.timeout_never").num("waited_ms") >= 100);
    let dead = passed(&r, "ipc.dead_partner");
    assert_eq!(dead.field("in_flight"), "Some(PeerDied)", "{}", dead.raw);
}

#[test]
fn rtc_interrupts_arrive_as_ipc() {
    let guest = boot("irq");
    let r = run_until(&guest, "TEST irq.rtc");
    let t = passed(&r, "irq.rtc");
    assert_eq!(t.num("count"), 20);
    assert_eq!(t.num("periodic"), 20, "every message must be a real periodic RTC interrupt");
}

/// Address of a function symbol and its size in an ELF file.
fn symbol(path: &std::path::Path, name: &str) -> (u64, u64) {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let sym = file.symbols().find(|s| s.name() == Ok(name)).unwrap_or_else(|| panic!("no symbol {name}"));
    (sym.address(), sym.size())
}

#[test]
fn faults_stop_only_the_faulting_task() {
    let image = image("isolation");
    let guest = Guest::boot(&image, &QemuConfig::default()).unwrap();
    let r = run_until(&guest, "TEST fault done");
    let faulter = &image.binaries["faulter"];
    let events = |task: &str| -> Vec<&TestLine> { r.iter().filter(|t| t.name == format!("fault.{task}")).collect() };
    let within = |ip: u64, func: &str| {
        let (start, size) = symbol(faulter, func);
        assert!(ip >= start && ip < start + size, "ip {ip:#x} is not in {func} ({start:#x}+{size:#x})");
    };

    // Hardware faults: the cause, the address, and an instruction pointer inside
    // the function that misbehaved.
    for (task, cause, addr, func) in [
        ("wild-writer", "page-fault", 0xdead_b000u64, "fault_wild_write"),
        ("ud2", "invalid-opcode", 0, "fault_ud2"),
        ("port-poke", "io-port", 0x64, "fault_port"),
    ] {
        let ev = events(task);
        assert_eq!(ev.len(), 1, "{task}: {ev:#?}");
        assert_eq!(ev[0].field("cause"), cause, "{}", ev[0].raw);
        assert_eq!(ev[0].num("addr"), addr, "{}", ev[0].raw);
        within(ev[0].num("ip"), func);
    }
    // Grants the kernel refuses: reported as a violation with the address asked
    // for, then the task ends itself with the error it got.
    for (task, cause, addr, reason) in
        [("mmio-grab", "mmio-denied", 0xfee0_0000u64, "denied"), ("gate-caller", "ipc-denied", 200, "no")]
    {
        let ev = events(task);
        assert_eq!(ev.len(), 2, "{task}: {ev:#?}");
        assert_eq!(ev[0].field("cause"), cause, "{}", ev[0].raw);
        assert_eq!(ev[0].num("addr"), addr, "{}", ev[0].raw);
        assert_eq!(ev[1].field("cause"), "exit", "{}", ev[1].raw);
        assert!(ev[1].raw.contains(reason), "{}", ev[1].raw);
    }
    // After each one the bystander still answered, and the kernel counted the
    // denied IPC.
    assert_eq!(r.iter().filter(|t| t.name == "fault.others_alive" && t.ok).count(), 5, "{r:#?}");
    assert!(passed(&r, "fault.kernel_counted_denials").num("ipc_denied") >= 1);
    assert!(guest.lines().iter().any(|l| l.starts_with("[kernel] WARN denied: gate-caller invoked slot 200")));
}

#[test]
fn hundred_restarts_leak_no_frames() {
    let guest = boot("restart");
    let r = run_until(&guest, "TEST restart.hundred");
    let t = passed(&r, "restart.hundred");
    assert_eq!(t.num("cycles"), 100);
    assert_eq!(t.num("alive"), 100, "every incarnation must run");
    assert_eq!(t.num("frames_before"), t.num("frames_after"), "{}", t.raw);
    assert_eq!(t.num("tasks_before"), t.num("tasks_after"), "{}", t.raw);
}

#[test]
fn garbage_system_calls_never_bring_the_kernel_down() {
    let guest = boot("chaos");
    let r = run_until(&guest, "TEST chaos.kernel_survives");
    let t = passed(&r, "chaos.kernel_survives");
    assert_eq!(t.num("frames_before"), t.num("frames_after"), "{}", t.raw);
    assert!(t.num("ipc_denied") > 1000, "{}", t.raw);
    assert!(!guest.lines().iter().any(|l| l.starts_with("[kernel] PANIC")));
}

#[test]
fn a_kernel_panic_ends_qemu_with_a_failure_status() {
    // Boot a real kernel with a boot archive that is not a tar file.
    let mut image = image("irq");
    let bogus = resurgo::image::target_dir().join("not-a-tar.bin");
    std::fs::write(&bogus, vec![0x5a; 4096]).unwrap();
    image.archive = bogus;
    let mut guest = Guest::boot(&image, &QemuConfig::default()).unwrap();
    let err = guest.wait_line("system", Duration::from_secs(60)).unwrap_err();
    assert!(format!("{err:#}").contains("the boot archive is not a tar file"), "{err:#}");
    assert_eq!(guest.wait_exit(Duration::from_secs(30)).unwrap(), GuestExit::KernelPanic);
}

#[test]
fn wrong_manifests_are_reported_with_file_and_line() {
    for (file, expected) in [
        (
            "bad-overlap",
            "tests/manifests/bad-overlap.toml:8:5: ports 0x60+5 of `keyboard` overlap ports 0x64+1 of `mouse`",
        ),
        (
            "bad-unknown-task",
            "tests/manifests/bad-unknown-task.toml:6:9: task `nobody` (in `nobody.main`) is not declared",
        ),
        ("bad-grant", "tests/manifests/bad-grant.toml:6:12: IRQ line 16 does not exist"),
    ] {
        let err =
            resurgo::image::build(&resurgo::image::BuildOptions { manifest: manifest_path(file), progress: false })
                .expect_err(file)
                .to_string();
        assert!(err.contains(expected), "{file}: expected `{expected}` in:\n{err}");
    }
}
